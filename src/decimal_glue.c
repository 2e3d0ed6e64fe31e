/*
 * decimal_glue.c: PostgreSQL numeric <-> src/core decimals.  Both hold the
 * same base-10000 digits, so a conversion copies them and translates the
 * header.
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "decimal_glue.h"

/*
 * numeric's stored layout (src/backend/utils/adt/numeric.c).  It is the
 * on-disk format, which pg_upgrade keeps across major versions, so reading
 * it directly is safe; it saves a round trip through numeric_send and
 * numeric_recv for every value billing touches.
 *
 *   long form:  varlena header, uint16 sign | dscale, int16 weight, digits
 *   short form: varlena header, uint16 0x8000 | sign | dscale << 7 | weight, digits
 *   special (NaN, +-Infinity): first uint16 has both top bits set
 */
#define NUM_FLAG_MASK		0xC000
#define NUM_SHORT			0x8000
#define NUM_SPECIAL			0xC000
#define NUM_DSCALE_MASK		0x3FFF
#define NUM_SHORT_SIGN		0x2000
#define NUM_SHORT_DSCALE_MASK 0x1F80
#define NUM_SHORT_DSCALE_SHIFT 7
#define NUM_SHORT_WEIGHT_SIGN 0x0040
#define NUM_SHORT_WEIGHT_MASK 0x003F
#define NUM_SHORT_DSCALE_MAX 63
#define NUM_SHORT_WEIGHT_MAX 63
#define NUM_SHORT_WEIGHT_MIN (-64)

/* a numeric's header fields and digits (which may be unaligned in a short varlena) */
typedef struct NumericParts
{
	int			ndigits;
	int			weight;
	int			sign;
	int			dscale;
	const char *digits;
} NumericParts;

static void
numeric_parts(Numeric n, NumericParts *parts)
{
	const char *p = VARDATA_ANY(n);
	size_t		len = VARSIZE_ANY_EXHDR(n);
	uint16		header;
	size_t		header_size;

	if (len < sizeof(uint16))
		ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid numeric value")));
	memcpy(&header, p, sizeof(uint16));
	if ((header & NUM_FLAG_MASK) == NUM_SPECIAL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("NaN and infinity are not amounts or quantities")));
	if ((header & NUM_FLAG_MASK) == NUM_SHORT)
	{
		parts->sign = (header & NUM_SHORT_SIGN) ? DEC_NEG : DEC_POS;
		parts->dscale = (header & NUM_SHORT_DSCALE_MASK) >> NUM_SHORT_DSCALE_SHIFT;
		/* a 7-bit two's complement weight */
		parts->weight = (header & NUM_SHORT_WEIGHT_SIGN) ? (int) (int16) (header | ~NUM_SHORT_WEIGHT_MASK)
			: (int) (header & NUM_SHORT_WEIGHT_MASK);
		header_size = sizeof(uint16);
	}
	else
	{
		int16		w;

		if (len < 2 * sizeof(uint16))
			ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("invalid numeric value")));
		parts->sign = header & NUM_FLAG_MASK;
		parts->dscale = header & NUM_DSCALE_MASK;
		memcpy(&w, p + sizeof(uint16), sizeof(int16));
		parts->weight = w;
		header_size = 2 * sizeof(uint16);
	}
	parts->digits = p + header_size;
	parts->ndigits = (int) ((len - header_size) / sizeof(int16));
}

void
numeric_to_decimal(Numeric n, Decimal *out)
{
	NumericParts parts;
	int16		local[DEC_INLINE_DIGITS];
	int16	   *digits;
	DecError	err;
	DecStatus	status;

	numeric_parts(n, &parts);
	digits = parts.ndigits <= DEC_INLINE_DIGITS ? local : palloc(sizeof(int16) * parts.ndigits);
	if (parts.ndigits > 0)
		memcpy(digits, parts.digits, sizeof(int16) * parts.ndigits);
	status = dec_from_wire(out, parts.ndigits, parts.weight, parts.sign, parts.dscale, digits, &err);
	if (digits != local)
		pfree(digits);
	if (status != DEC_OK)
		decimal_report(status, &err, NULL);
}

size_t
numeric_wire_size(Numeric n)
{
	NumericParts parts;

	numeric_parts(n, &parts);
	return 8 + 2 * (size_t) parts.ndigits;
}

/* numeric_send's bytes: big-endian ndigits, weight, sign, dscale, digits */
void
numeric_to_wire(Numeric n, uint8 *out)
{
	NumericParts parts;
	int			i;

	numeric_parts(n, &parts);
	out[0] = (uint8) (parts.ndigits >> 8);
	out[1] = (uint8) parts.ndigits;
	out[2] = (uint8) ((uint16) parts.weight >> 8);
	out[3] = (uint8) parts.weight;
	out[4] = (uint8) (parts.sign >> 8);
	out[5] = (uint8) parts.sign;
	out[6] = (uint8) (parts.dscale >> 8);
	out[7] = (uint8) parts.dscale;
	for (i = 0; i < parts.ndigits; i++)
	{
		int16		d;

		memcpy(&d, parts.digits + i * sizeof(int16), sizeof(int16));
		out[8 + 2 * i] = (uint8) ((uint16) d >> 8);
		out[9 + 2 * i] = (uint8) d;
	}
}

/* the datum numeric_recv would make (make_result's choice of form) */
Numeric
decimal_to_numeric(const Decimal *d)
{
	const int16_t *digits = d->heap ? d->heap : d->inline_digits;
	bool		is_short = d->dscale <= NUM_SHORT_DSCALE_MAX &&
		d->weight <= NUM_SHORT_WEIGHT_MAX && d->weight >= NUM_SHORT_WEIGHT_MIN;
	size_t		header = is_short ? sizeof(uint16) : 2 * sizeof(uint16);
	size_t		size = VARHDRSZ + header + sizeof(int16) * (size_t) d->ndigits;
	Numeric		result = (Numeric) palloc(size);
	char	   *p = VARDATA(result);

	SET_VARSIZE(result, size);
	if (is_short)
	{
		uint16		h = NUM_SHORT | (d->sign == DEC_NEG ? NUM_SHORT_SIGN : 0) |
			(uint16) (d->dscale << NUM_SHORT_DSCALE_SHIFT) |
			(d->weight < 0 ? NUM_SHORT_WEIGHT_SIGN : 0) |
			(uint16) (d->weight & NUM_SHORT_WEIGHT_MASK);

		memcpy(p, &h, sizeof(uint16));
	}
	else
	{
		uint16		h = (uint16) (d->sign | (d->dscale & NUM_DSCALE_MASK));
		int16		w = (int16) d->weight;

		memcpy(p, &h, sizeof(uint16));
		memcpy(p + sizeof(uint16), &w, sizeof(int16));
	}
	if (d->ndigits > 0)
		memcpy(p + header, digits, sizeof(int16) * (size_t) d->ndigits);
	return result;
}

void
decimal_report(DecStatus status, const DecError *err, const char *context)
{
	int			code;

	switch (status)
	{
		case DEC_ERR_DIVISION_BY_ZERO:
			code = ERRCODE_DIVISION_BY_ZERO;
			break;
		case DEC_ERR_OVERFLOW:
			code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			break;
		case DEC_ERR_SYNTAX:
			code = ERRCODE_INVALID_TEXT_REPRESENTATION;
			break;
		case DEC_ERR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case DEC_ERR_INTERRUPTED:
			/* not from the server's hook, which raises its own error */
			code = ERRCODE_QUERY_CANCELED;
			break;
		default:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
	}
	ereport(ERROR,
			(errcode(code),
			 context ? errmsg("%s: %s", context, err ? err->message : "invalid number")
			 : errmsg("%s", err ? err->message : "invalid number")));
	pg_unreachable();
}
