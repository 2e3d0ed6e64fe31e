/*
 * telemetry.c: series of observations, merged, serialized and binned into
 * settlement intervals (see telemetry.h).
 */
#include "telemetry.h"
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHOWN(len) ((int) ((len) < 64 ? (len) : 64))	/* bytes of a name quoted in errors */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool
fail(TelemetryError *err, const char *fmt,...)
{
	va_list		ap;

	if (err != NULL)
	{
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return false;
}

/* ---------- little-endian fixed-width integers ---------- */

static void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

static uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static void
put_u16_be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) (v >> 8);
	p[1] = (uint8_t) v;
}

static void
put_u64(uint8_t *p, uint64_t v)
{
	int			i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t
get_u64(const uint8_t *p)
{
	uint64_t	v = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---------- sets and series ---------- */

void
telemetry_init(TelemetrySet *set)
{
	memset(set, 0, sizeof(*set));
}

static void
series_free(TelemetrySeries *s)
{
	int			i;

	deg_free(s->ref);
	for (i = 0; i < s->nfields; i++)
		deg_free(s->fields[i]);
	degbuf_free(&s->obs);
}

void
telemetry_free(TelemetrySet *set)
{
	int			i;

	for (i = 0; i < set->nseries; i++)
		series_free(&set->series[i]);
	deg_free(set->series);
	telemetry_init(set);
}

static char *
copy_name(const char *name, size_t len)
{
	char	   *c = deg_alloc(len + 1);

	if (c != NULL)
	{
		memcpy(c, name, len);
		c[len] = '\0';
	}
	return c;
}

static bool
check_name(const char *name, size_t len, const char *what, TelemetryError *err)
{
	if (len == 0)
		return fail(err, "%s is empty", what);
	if (len > TELEMETRY_MAX_NAME)
		return fail(err, "%s is longer than %d bytes", what, TELEMETRY_MAX_NAME);
	if (memchr(name, '\0', len) != NULL)
		return fail(err, "%s contains a NUL byte", what);
	/* names are printed as JSON text, which must read back */
	if (!json_utf8_valid(name, len))
		return fail(err, "%s is not valid UTF-8", what);
	return true;
}

/* a (NUL-terminated) is the blen bytes of b; never reads past a's NUL */
static bool
same_name(const char *a, const char *b, size_t blen)
{
	size_t		i;

	for (i = 0; i < blen; i++)
		if (a[i] != b[i] || a[i] == '\0')
			return false;
	return a[blen] == '\0';
}

bool
telemetry_check_names(const char *ref, size_t reflen, const char *const *fields,
					  const size_t *fieldlens, int nfields, TelemetryError *err)
{
	int			i,
				j;

	if (!check_name(ref, reflen, "a series name", err))
		return false;
	if (nfields < 1 || nfields > TELEMETRY_MAX_FIELDS)
		return fail(err, "series \"%.*s\" has %d fields; 1 to %d are allowed", SHOWN(reflen), ref,
					nfields, TELEMETRY_MAX_FIELDS);
	for (i = 0; i < nfields; i++)
	{
		if (!check_name(fields[i], fieldlens[i], "a field name", err))
			return false;
		for (j = 0; j < i; j++)
			if (fieldlens[j] == fieldlens[i] && memcmp(fields[j], fields[i], fieldlens[i]) == 0)
				return fail(err, "field \"%.*s\" is given twice", (int) fieldlens[i], fields[i]);
	}
	return true;
}

TelemetrySeries *
telemetry_series(TelemetrySet *set, const char *ref, size_t reflen,
				 const char *const *fields, const size_t *fieldlens, int nfields,
				 TelemetryError *err)
{
	TelemetrySeries *s = NULL;
	int			i;

	/* rows of one series come together: try the last one first */
	if (set->last < set->nseries && same_name(set->series[set->last].ref, ref, reflen))
		s = &set->series[set->last];
	for (i = 0; s == NULL && i < set->nseries; i++)
		if (same_name(set->series[i].ref, ref, reflen))
		{
			s = &set->series[i];
			set->last = i;
		}
	if (s != NULL)
	{
		bool		same = s->nfields == nfields;

		for (i = 0; same && i < nfields; i++)
			same = same_name(s->fields[i], fields[i], fieldlens[i]);
		if (!same)
		{
			fail(err, "series \"%s\" is given with different fields", s->ref);
			return NULL;
		}
		return s;
	}

	if (!telemetry_check_names(ref, reflen, fields, fieldlens, nfields, err))
		return NULL;
	if (set->nseries >= TELEMETRY_MAX_SERIES)
	{
		fail(err, "more than %d series", TELEMETRY_MAX_SERIES);
		return NULL;
	}
	if (set->nseries == set->capacity)
	{
		int			cap = set->capacity ? set->capacity * 2 : 1;	/* most sets have one or two series */
		TelemetrySeries *grown = deg_realloc(set->series, sizeof(TelemetrySeries) * (size_t) cap);

		if (grown == NULL)
		{
			fail(err, "out of memory");
			return NULL;
		}
		set->series = grown;
		set->capacity = cap;
	}
	s = &set->series[set->nseries];
	memset(s, 0, sizeof(*s));
	degbuf_init(&s->obs);
	s->compact = set->compact;
	s->ref = copy_name(ref, reflen);
	for (i = 0; i < nfields && s->ref != NULL; i++)
	{
		s->fields[i] = copy_name(fields[i], fieldlens[i]);
		if (s->fields[i] == NULL)
			break;
		s->nfields = i + 1;
	}
	if (s->ref == NULL || s->nfields != nfields)
	{
		series_free(s);
		fail(err, "out of memory");
		return NULL;
	}
	set->last = set->nseries++;
	return s;
}

const TelemetrySeries *
telemetry_find(const TelemetrySet *set, const char *ref)
{
	int			i;

	for (i = 0; i < set->nseries; i++)
		if (strcmp(set->series[i].ref, ref) == 0)
			return &set->series[i];
	return NULL;
}

int
telemetry_field_index(const TelemetrySeries *s, const char *field)
{
	int			i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i], field) == 0)
			return i;
	return -1;
}

/* ---------- values: numeric's wire format, digits and a scale, decimals ---------- */

#define WIRE_POS 0x0000
#define WIRE_NEG 0x4000
#define COMPACT_MAX_GROUPS 4	/* base-10000 digits of compact digits: below 10^16 */
#define COMPACT_LIMIT 10000000000000000ULL	/* 10^16 */
#define COMPACT_MAX_DSCALE 126	/* the largest dscale a tag gives */
#define COMPACT_ZEROS 128		/* tags from here: a count of trailing zeros follows */
#define COMPACT_RAW 255			/* tag of a value kept in dec_send format */

static const uint64_t pow10_u64[] = {
	1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	10000000000ULL, 100000000000ULL, 1000000000000ULL, 10000000000000ULL,
	100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL
};

static int
wire_int16(const uint8_t *p)
{
	int			v = (p[0] << 8) | p[1];

	return v >= 0x8000 ? v - 0x10000 : v;
}

/*
 * A value as digits, the scale they are at, and its dscale: value = m /
 * 10^scale, shown with dscale >= scale places (the trailing zeros of
 * 1.2340000 are not in m = 1234, scale 3, dscale 7).
 */
typedef struct Digits
{
	int64_t		m;				/* below 10^16 in magnitude */
	int			scale;
	int			dscale;
} Digits;

/*
 * A dec_send value as digits: true for a normalized value (no leading or
 * trailing zero digit, none beyond dscale) of at most 16 significant
 * decimal digits and a dscale a tag can give; false otherwise (the value
 * is then kept as it is).
 */
static bool
wire_to_digits(const uint8_t *w, size_t len, Digits *out)
{
	int			n,
				weight,
				sign,
				dscale,
				fraction,
				i;
	uint64_t	a = 0;
	int			scale;

	if (len < 8)
		return false;
	n = wire_int16(w);
	weight = wire_int16(w + 2);
	sign = (w[4] << 8) | w[5];
	dscale = (w[6] << 8) | w[7];
	if (n < 0 || len != 8 + 2 * (size_t) n || (sign != WIRE_POS && sign != WIRE_NEG) ||
		dscale > COMPACT_MAX_DSCALE)
		return false;
	out->dscale = dscale;
	if (n == 0)
	{
		out->m = 0;
		out->scale = 0;
		return sign == WIRE_POS;
	}
	fraction = n - 1 - weight;	/* base-10000 digits after the point */
	/* the digits, and the zero groups an integer ends with: at most 16 decimal digits */
	if (n + (fraction < 0 ? -fraction : 0) > COMPACT_MAX_GROUPS)
		return false;
	for (i = 0; i < n; i++)
	{
		int			d = wire_int16(w + 8 + 2 * i);

		if (d < 0 || d >= 10000 || ((i == 0 || i == n - 1) && d == 0))
			return false;
		a = a * 10000 + (uint64_t) d;
	}
	for (i = fraction; i < 0; i++)
		a *= 10000;
	scale = fraction > 0 ? 4 * fraction : 0;
	while (scale > 0 && a % 10 == 0)
	{
		a /= 10;
		scale--;
	}
	if (scale > dscale)
		return false;			/* a nonzero digit beyond dscale */
	out->m = sign == WIRE_NEG ? -(int64_t) a : (int64_t) a;
	out->scale = scale;
	return true;
}

/*
 * The base-10000 digits of a / 10^scale (a below 10^16), most significant
 * first, normalized as numeric stores them: returns ndigits and sets
 * *weight.
 */
static int
digits_of(uint64_t a, int scale, int16_t *digits, int *weight)
{
	int16_t		groups[8];
	int			fraction = (scale + 3) / 4;
	int			ng = 0,
				n,
				i;

	a *= pow10_u64[4 * fraction - scale];
	while (a > 0)
	{
		groups[ng++] = (int16_t) (a % 10000);
		a /= 10000;
	}
	if (ng == 0)
	{
		*weight = 0;
		return 0;
	}
	*weight = ng - 1 - fraction;
	/* trailing zero digits go; the leading one is not zero */
	i = 0;
	while (groups[i] == 0)
		i++;
	n = ng - i;
	for (i = 0; i < n; i++)
		digits[i] = groups[ng - 1 - i];
	return n;
}

static uint64_t
magnitude(int64_t m)
{
	return m < 0 ? (uint64_t) 0 - (uint64_t) m : (uint64_t) m;
}

/* a decimal of digits, without the general path's work buffers */
static void
decimal_of_digits(Decimal *d, const Digits *v)
{
	int16_t		digits[8];
	int			weight;
	int			n = digits_of(magnitude(v->m), v->scale, digits, &weight);

	dec_free(d);
	d->ndigits = n;
	d->weight = weight;
	d->dscale = v->dscale;
	d->sign = (v->m < 0 && n > 0) ? DEC_NEG : DEC_POS;
	memcpy(d->inline_digits, digits, sizeof(int16_t) * (size_t) n);
}

/* dec_send's bytes of digits: at most 18 (8 and five base-10000 digits) */
static size_t
wire_of_digits(const Digits *v, uint8_t *out)
{
	int16_t		digits[8];
	int			weight;
	int			n = digits_of(magnitude(v->m), v->scale, digits, &weight);
	int			i;

	put_u16_be(out, (uint16_t) n);
	put_u16_be(out + 2, (uint16_t) (int16_t) weight);
	put_u16_be(out + 4, (uint16_t) ((v->m < 0 && n > 0) ? WIRE_NEG : WIRE_POS));
	put_u16_be(out + 6, (uint16_t) v->dscale);
	for (i = 0; i < n; i++)
		put_u16_be(out + 8 + 2 * i, (uint16_t) digits[i]);
	return 8 + 2 * (size_t) n;
}

/*
 * dec_recv, with a short cut for values already normalized (what numeric
 * sends): the digits are taken as they are.
 */
static DecStatus
wire_to_decimal(Decimal *d, const uint8_t *w, size_t len, DecError *err)
{
	int			n,
				weight,
				sign,
				scale,
				i;

	if (len >= 8)
	{
		n = wire_int16(w);
		weight = wire_int16(w + 2);
		sign = (w[4] << 8) | w[5];
		scale = (w[6] << 8) | w[7];
		if (n >= 0 && n <= DEC_INLINE_DIGITS && len == 8 + 2 * (size_t) n &&
			(sign == WIRE_POS || (sign == WIRE_NEG && n > 0)) && scale <= DEC_MAX_DSCALE &&
			(n == 0 || (wire_int16(w + 8) > 0 && wire_int16(w + 8 + 2 * (n - 1)) > 0)))
		{
			int			fraction = n - 1 - weight;	/* digits after the point */
			bool		normal = n == 0 || fraction <= 0 ||
				4 * fraction <= scale ||
				(fraction <= (scale + 3) / 4 &&
				 wire_int16(w + 8 + 2 * (n - 1)) % (int) pow10_u64[4 * fraction - scale] == 0);

			for (i = 0; normal && i < n; i++)
				normal = wire_int16(w + 8 + 2 * i) >= 0 && wire_int16(w + 8 + 2 * i) < 10000;
			if (normal)
			{
				dec_free(d);
				d->ndigits = n;
				d->weight = n == 0 ? 0 : weight;
				d->dscale = scale;
				d->sign = (uint16_t) sign;
				for (i = 0; i < n; i++)
					d->inline_digits[i] = (int16_t) wire_int16(w + 8 + 2 * i);
				return DEC_OK;
			}
		}
	}
	return dec_recv(d, w, len, err);
}

/* ---------- compact records (telemetry.h) ---------- */

static size_t
put_varint(uint8_t *p, uint64_t v)
{
	size_t		n = 0;

	while (v >= 0x80)
	{
		p[n++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t) v;
	return n;
}

static bool
get_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
	uint64_t	r = 0;
	int			shift = 0;
	size_t		p = *pos;

	for (;;)
	{
		uint8_t		b;

		if (p >= len || shift > 63)
			return false;
		b = buf[p++];
		if (shift == 63 && b > 1)
			return false;
		r |= (uint64_t) (b & 0x7F) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
	}
	*v = r;
	*pos = p;
	return true;
}

static uint64_t
zigzag(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

static int64_t
unzigzag(uint64_t v)
{
	return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

#define USECS 1000000
#define TIMES_SAME_LENGTH 1		/* the record is as long as the one before */
#define TIMES_SECONDS 2			/* start (and length) in whole seconds */
#define TIMES_WIDE 4			/* the start follows the head in a varint of its own */

/* a record's times after tail; moves tail */
static size_t
put_times(uint8_t *p, TelemetryCompactTail *tail, int64_t from, int64_t to)
{
	uint64_t	length = (uint64_t) to - (uint64_t) from;
	bool		same = length == (uint64_t) tail->length;
	bool		seconds = tail->end % USECS == 0 && from % USECS == 0 && (same || length % USECS == 0);
	uint64_t	start = seconds ? zigzag(from / USECS - tail->end / USECS)
		: zigzag((int64_t) ((uint64_t) from - (uint64_t) tail->end));
	unsigned	flags = (same ? TIMES_SAME_LENGTH : 0) | (seconds ? TIMES_SECONDS : 0);
	size_t		n;

	if (start < ((uint64_t) 1 << 61))
		n = put_varint(p, start << 3 | flags);
	else
	{
		n = put_varint(p, flags | TIMES_WIDE);
		n += put_varint(p + n, start);
	}
	if (!same)
		n += put_varint(p + n, seconds ? length / USECS : length);
	tail->end = to;
	tail->length = (int64_t) length;
	return n;
}

static bool
get_times(const uint8_t *buf, size_t len, size_t *pos, TelemetryCompactTail *tail, int64_t *from, int64_t *to)
{
	uint64_t	head,
				start,
				length;
	uint64_t	unit;

	if (!get_varint(buf, len, pos, &head))
		return false;
	unit = (head & TIMES_SECONDS) ? USECS : 1;
	if (head & TIMES_WIDE)
	{
		if (head >> 3 != 0 || !get_varint(buf, len, pos, &start))
			return false;
	}
	else
		start = head >> 3;
	if (head & TIMES_SAME_LENGTH)
		length = (uint64_t) tail->length;
	else
	{
		if (!get_varint(buf, len, pos, &length))
			return false;
		length *= unit;
	}
	/* wrapping arithmetic: a hostile value cannot overflow, and from < to is checked */
	*from = (int64_t) ((uint64_t) tail->end + (uint64_t) unzigzag(start) * unit);
	*to = (int64_t) ((uint64_t) *from + length);
	if (length == 0 || *from >= *to)
		return false;
	tail->end = *to;
	tail->length = (int64_t) length;
	return true;
}

/* the most bytes a record's times take, and a value */
#define COMPACT_TIMES_MAX TELEMETRY_COMPACT_TIMES_MAX
#define COMPACT_VALUE_MAX(wirelen) ((wirelen) + 3 > 12 ? (wirelen) + 3 : 12)

static size_t
put_value(uint8_t *p, const uint8_t *wire, size_t len)
{
	Digits		v;
	size_t		n = 0;

	if (wire == NULL)
		p[n++] = 0;
	else if (wire_to_digits(wire, len, &v))
	{
		if (v.scale == v.dscale || v.m == 0)
			p[n++] = (uint8_t) (v.dscale + 1);
		else
		{
			p[n++] = (uint8_t) (COMPACT_ZEROS + v.dscale);
			p[n++] = (uint8_t) (v.dscale - v.scale);
		}
		n += put_varint(p + n, zigzag(v.m));
	}
	else
	{
		p[n++] = COMPACT_RAW;
		put_u16(p + n, (uint16_t) len);
		memcpy(p + n + 2, wire, len);
		n += 2 + len;
	}
	return n;
}

/* the value at *pos: *kind 0 absent, 1 digits (in *v), 2 dec_send bytes (*wire, *wirelen) */
static bool
get_value(const uint8_t *buf, size_t len, size_t *pos, int *kind, Digits *v,
		  const uint8_t **wire, size_t *wirelen, TelemetryError *err)
{
	uint8_t		tag;
	uint64_t	z;

	if (*pos >= len)
		return fail(err, "truncated observation");
	tag = buf[(*pos)++];
	if (tag == 0)
	{
		*kind = 0;
		return true;
	}
	if (tag == COMPACT_RAW)
	{
		if (len - *pos < 2)
			return fail(err, "truncated observation");
		*wirelen = get_u16(buf + *pos);
		*pos += 2;
		if (len - *pos < *wirelen)
			return fail(err, "truncated observation");
		*wire = buf + *pos;
		*pos += *wirelen;
		*kind = 2;
		return true;
	}
	if (tag < COMPACT_ZEROS)
		v->dscale = v->scale = tag - 1;
	else
	{
		v->dscale = tag - COMPACT_ZEROS;
		if (*pos >= len || buf[*pos] > v->dscale)
			return fail(err, "invalid compact value");
		v->scale = v->dscale - buf[(*pos)++];
	}
	if (v->dscale > COMPACT_MAX_DSCALE || !get_varint(buf, len, pos, &z))
		return fail(err, "truncated or invalid compact value");
	v->m = unzigzag(z);
	if (magnitude(v->m) >= COMPACT_LIMIT)
		return fail(err, "invalid value: more than 16 digits in a compact value");
	*kind = 1;
	return true;
}

size_t
telemetry_compact_bound(int nfields, const uint8_t *const *wire, const size_t *lens)
{
	size_t		bound = COMPACT_TIMES_MAX;
	int			i;

	for (i = 0; i < nfields; i++)
		bound += wire[i] ? COMPACT_VALUE_MAX(lens[i]) : 1;
	return bound;
}

size_t
telemetry_compact_encode(uint8_t *out, TelemetryCompactTail *tail, int nfields, int64_t from, int64_t to,
						 const uint8_t *const *wire, const size_t *lens)
{
	size_t		n = put_times(out, tail, from, to);
	int			i;

	for (i = 0; i < nfields; i++)
		n += put_value(out + n, wire[i], lens[i]);
	return n;
}

bool
telemetry_compact_add(DegBuf *buf, TelemetryCompactTail *tail, int nfields, int64_t from, int64_t to,
					  const uint8_t *const *wire, const size_t *lens, TelemetryError *err)
{
	int			i;

	if (from >= to)
		return fail(err, "an observation ends before it starts");
	for (i = 0; i < nfields; i++)
		if (wire[i] != NULL && lens[i] > UINT16_MAX)
			return fail(err, "a value is too long");
	if (!degbuf_reserve(buf, telemetry_compact_bound(nfields, wire, lens)))
		return fail(err, "out of memory");
	buf->len += telemetry_compact_encode((uint8_t *) buf->data + buf->len, tail, nfields, from, to, wire, lens);
	buf->data[buf->len] = '\0';
	return true;
}

/*
 * One compact record's values at *pos: every one decoded into values (if
 * not NULL), or only field only's into *one (only >= 0); the rest stepped
 * over (their structure checked).
 */
static bool
read_compact_values(const uint8_t *buf, size_t len, size_t *pos, int nfields,
					Decimal *values, bool *present, int only, Decimal *one, TelemetryError *err)
{
	int			i;

	for (i = 0; i < nfields; i++)
	{
		int			kind;
		Digits		v;
		const uint8_t *wire;
		size_t		wirelen;

		if (!get_value(buf, len, pos, &kind, &v, &wire, &wirelen, err))
			return false;
		if (present)
			present[i] = kind != 0;
		if (kind == 0 || (values == NULL && i != only))
			continue;
		if (kind == 1)
			decimal_of_digits(values ? &values[i] : one, &v);
		else
		{
			DecError	derr;

			if (wire_to_decimal(values ? &values[i] : one, wire, wirelen, &derr) != DEC_OK)
				return fail(err, "invalid value: %s", derr.message);
		}
	}
	return true;
}

/* the record at *pos after *tail; moves *pos and *tail */
static bool
read_compact_record(const uint8_t *buf, size_t len, size_t *pos, TelemetryCompactTail *tail, int nfields,
					int64_t *from, int64_t *to, Decimal *values, bool *present, TelemetryError *err)
{
	size_t		p = *pos;
	TelemetryCompactTail t = *tail;

	if (!get_times(buf, len, &p, &t, from, to))
		return fail(err, "truncated or invalid observation times");
	if (!read_compact_values(buf, len, &p, nfields, values, present, -1, NULL, err))
		return false;
	*pos = p;
	*tail = t;
	return true;
}

bool
telemetry_compact_rebase(const uint8_t *src, size_t len, TelemetryCompactTail *tail,
						 uint8_t *head, size_t *headlen, size_t *skip, TelemetryError *err)
{
	TelemetryCompactTail first = {0, 0};
	int64_t		from,
				to;

	*headlen = *skip = 0;
	if (len == 0)
		return true;
	if (!get_times(src, len, skip, &first, &from, &to))
		return fail(err, "truncated or invalid observation times");
	*headlen = put_times(head, tail, from, to);
	return true;
}

bool
telemetry_compact_append(DegBuf *buf, TelemetryCompactTail *tail, const uint8_t *src, size_t len,
						 const TelemetryCompactTail *src_tail, TelemetryError *err)
{
	bool		own = (const char *) src == buf->data;
	TelemetryCompactTail after = *tail;
	TelemetryCompactTail end = *src_tail;
	uint8_t		head[TELEMETRY_COMPACT_TIMES_MAX];
	size_t		headlen,
				skip;

	if (len == 0)
		return true;

	/*
	 * The first record's times were counted from nothing: count them from
	 * *tail.  The records after it count from it, and come as they are.
	 */
	if (!telemetry_compact_rebase(src, len, &after, head, &headlen, &skip, err))
		return false;
	/* reserve first: src may be buf's own bytes, which move when it grows */
	if (!degbuf_reserve(buf, headlen + len - skip))
		return fail(err, "out of memory");
	if (own)
		src = (const uint8_t *) buf->data;
	memcpy(buf->data + buf->len, head, headlen);
	memcpy(buf->data + buf->len + headlen, src + skip, len - skip);
	buf->len += headlen + len - skip;
	buf->data[buf->len] = '\0';
	*tail = end;
	return true;
}

/* ---------- observations ---------- */

bool
telemetry_add(TelemetrySeries *s, int64_t from, int64_t to,
			  const uint8_t *const *wire, const size_t *lens, TelemetryError *err)
{
	uint8_t		head[16];
	size_t		start = s->obs.len;
	int			i;

	if (from >= to)
		return fail(err, "an observation of \"%s\" ends before it starts", s->ref);
	for (i = 0; i < s->nfields; i++)
		if (wire[i] != NULL && lens[i] > UINT16_MAX)
			return fail(err, "a value of \"%s\" is too long", s->ref);
	if (s->compact)
	{
		if (!telemetry_compact_add(&s->obs, &s->compact_tail, s->nfields, from, to, wire, lens, err))
			return false;
		s->nobs++;
		return true;
	}
	put_u64(head, (uint64_t) from);
	put_u64(head + 8, (uint64_t) to);
	degbuf_append(&s->obs, head, sizeof(head));
	for (i = 0; i < s->nfields; i++)
	{
		uint8_t		flag = wire[i] != NULL;

		degbuf_append(&s->obs, &flag, 1);
		if (flag)
		{
			uint8_t		len[2];

			put_u16(len, (uint16_t) lens[i]);
			degbuf_append(&s->obs, len, 2);
			degbuf_append(&s->obs, wire[i], lens[i]);
		}
	}
	if (s->obs.oom)
	{
		/* drop the part of the record that was appended: the series stays whole */
		s->obs.len = start;
		if (s->obs.data != NULL)
			s->obs.data[start] = '\0';
		s->obs.oom = false;
		return fail(err, "out of memory");
	}
	s->nobs++;
	return true;
}

bool
telemetry_add_decimals(TelemetrySeries *s, int64_t from, int64_t to,
					   const Decimal *values, const bool *present, TelemetryError *err)
{
	const uint8_t *wire[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
	uint8_t    *bytes[TELEMETRY_MAX_FIELDS];
	bool		ok = true;
	int			i;

	for (i = 0; i < s->nfields; i++)
		bytes[i] = NULL;		/* all of them: a failure stops the loop below */
	for (i = 0; i < s->nfields; i++)
	{
		wire[i] = NULL;
		lens[i] = 0;
		if (!present[i])
			continue;
		lens[i] = dec_send_size(&values[i]);
		bytes[i] = deg_alloc(lens[i]);
		if (bytes[i] == NULL)
		{
			ok = fail(err, "out of memory");
			break;
		}
		dec_send(&values[i], bytes[i]);
		wire[i] = bytes[i];
	}
	if (ok)
		ok = telemetry_add(s, from, to, wire, lens, err);
	for (i = 0; i < s->nfields; i++)
		deg_free(bytes[i]);
	return ok;
}

/*
 * Read one record at *pos of a series' buffer.  values may be NULL (skip
 * decoding); a decoded value is checked by dec_recv.
 */
/*
 * A version 1 record's values at *pos: every one decoded into values (if
 * not NULL), or only field only's into *one (only >= 0); the rest stepped
 * over.
 */
static bool
read_values(const uint8_t *buf, size_t len, size_t *pos, int nfields, Decimal *values, bool *present,
			int only, Decimal *one, TelemetryError *err)
{
	size_t		p = *pos;
	int			i;

	for (i = 0; i < nfields; i++)
	{
		uint8_t		flag;

		if (len - p < 1)
			return fail(err, "truncated observation");
		flag = buf[p++];
		if (flag > 1)
			return fail(err, "invalid presence flag");
		if (present)
			present[i] = flag;
		if (flag)
		{
			size_t		n;

			if (len - p < 2)
				return fail(err, "truncated observation");
			n = get_u16(buf + p);
			p += 2;
			if (len - p < n)
				return fail(err, "truncated observation");
			if (values || i == only)
			{
				DecError	derr;

				if (wire_to_decimal(values ? &values[i] : one, buf + p, n, &derr) != DEC_OK)
					return fail(err, "invalid value: %s", derr.message);
			}
			p += n;
		}
	}
	*pos = p;
	return true;
}

static bool
read_times(const uint8_t *buf, size_t len, size_t *pos, int64_t *from, int64_t *to, TelemetryError *err)
{
	if (len - *pos < 16)
		return fail(err, "truncated observation");
	*from = (int64_t) get_u64(buf + *pos);
	*to = (int64_t) get_u64(buf + *pos + 8);
	*pos += 16;
	if (*from >= *to)
		return fail(err, "an observation ends before it starts");
	return true;
}

static bool
read_record(const uint8_t *buf, size_t len, size_t *pos, int nfields,
			int64_t *from, int64_t *to, Decimal *values, bool *present, TelemetryError *err)
{
	size_t		p = *pos;

	if (!read_times(buf, len, &p, from, to, err) ||
		!read_values(buf, len, &p, nfields, values, present, -1, NULL, err))
		return false;
	*pos = p;
	return true;
}

void
telemetry_cursor_init(TelemetryCursor *c, const TelemetrySeries *s)
{
	c->series = s;
	c->pos = 0;
	c->tail.end = 0;
	c->tail.length = 0;
}

bool
telemetry_next(TelemetryCursor *c, int64_t *from, int64_t *to,
			   Decimal *values, bool *present, TelemetryError *err)
{
	const TelemetrySeries *s = c->series;

	if (err)
		err->message[0] = '\0';
	if (c->pos >= s->obs.len)
		return false;
	if (s->compact)
		return read_compact_record((const uint8_t *) s->obs.data, s->obs.len, &c->pos, &c->tail,
								   s->nfields, from, to, values, present, err);
	return read_record((const uint8_t *) s->obs.data, s->obs.len, &c->pos, s->nfields,
					   from, to, values, present, err);
}

bool
telemetry_merge(TelemetrySet *dst, const TelemetrySet *src, TelemetryError *err)
{
	int			i,
				f;

	for (i = 0; i < src->nseries; i++)
	{
		const TelemetrySeries *s = &src->series[i];
		size_t		lens[TELEMETRY_MAX_FIELDS];
		TelemetrySeries *d;

		for (f = 0; f < s->nfields; f++)
			lens[f] = strlen(s->fields[f]);
		d = telemetry_series(dst, s->ref, strlen(s->ref), (const char *const *) s->fields, lens,
							 s->nfields, err);
		if (d == NULL)
			return false;
		if (s->obs.len == 0)
			continue;
		if (d->compact != s->compact)
		{
			/* different encodings: observation by observation */
			TelemetryCursor c;
			TelemetryError local;	/* a read error is told from the end by the message */
			TelemetryError *e = err ? err : &local;
			Decimal		values[TELEMETRY_MAX_FIELDS];
			bool		present[TELEMETRY_MAX_FIELDS];
			int64_t		from,
						to;
			bool		ok = true;

			for (f = 0; f < s->nfields; f++)
				dec_init(&values[f]);
			telemetry_cursor_init(&c, s);
			while (ok && telemetry_next(&c, &from, &to, values, present, e))
				ok = telemetry_add_decimals(d, from, to, values, present, e);
			for (f = 0; f < s->nfields; f++)
				dec_free(&values[f]);
			if (!ok || e->message[0] != '\0')
				return false;
			continue;
		}
		if (s->compact)
		{
			TelemetryCompactTail src_tail = s->compact_tail;	/* s may be d */

			if (!telemetry_compact_append(&d->obs, &d->compact_tail, (const uint8_t *) s->obs.data,
										  s->obs.len, &src_tail, err))
				return false;
		}
		/* reserve first: when src is dst, the bytes to copy move with the buffer */
		else if (!degbuf_reserve(&d->obs, s->obs.len) ||
				 !degbuf_append(&d->obs, s->obs.data, s->obs.len))
			return fail(err, "out of memory");
		d->nobs += s->nobs;
	}
	return true;
}

/* ---------- serialized form ---------- */

/* a compact series' records in version 1's encoding, appended to out; false if they are malformed */
static bool
compact_to_records(const TelemetrySeries *s, DegBuf *out)
{
	const uint8_t *buf = (const uint8_t *) s->obs.data;
	size_t		len = s->obs.len;
	size_t		pos = 0;
	TelemetryCompactTail tail = {0, 0};
	int64_t		from,
				to;
	int			f;
	uint64_t	nrecords = 0;

	while (pos < len)
	{
		uint8_t		head[16];

		/* the count written before the records must be theirs */
		if (nrecords++ == (uint64_t) s->nobs)
			return false;
		if (!get_times(buf, len, &pos, &tail, &from, &to))
			return false;
		put_u64(head, (uint64_t) from);
		put_u64(head + 8, (uint64_t) to);
		degbuf_append(out, head, sizeof(head));
		for (f = 0; f < s->nfields; f++)
		{
			uint8_t		value[3 + 18];
			int			kind;
			Digits		v;
			const uint8_t *wire;
			size_t		wirelen;

			if (!get_value(buf, len, &pos, &kind, &v, &wire, &wirelen, NULL))
				return false;
			value[0] = kind != 0;
			if (kind == 0)
				degbuf_append(out, value, 1);
			else if (kind == 1)
			{
				size_t		n = wire_of_digits(&v, value + 3);

				put_u16(value + 1, (uint16_t) n);
				degbuf_append(out, value, 3 + n);
			}
			else
			{
				put_u16(value + 1, (uint16_t) wirelen);
				degbuf_append(out, value, 3);
				degbuf_append(out, wire, wirelen);
			}
		}
	}
	return nrecords == (uint64_t) s->nobs;
}

bool
telemetry_serialize(const TelemetrySet *set, DegBuf *out)
{
	uint8_t		b[8];
	int			i,
				f;

	b[0] = TELEMETRY_FORMAT_VERSION;
	degbuf_append(out, b, 1);
	put_u64(b, (uint64_t) set->nseries);
	degbuf_append(out, b, 8);
	for (i = 0; i < set->nseries; i++)
	{
		const TelemetrySeries *s = &set->series[i];

		put_u16(b, (uint16_t) strlen(s->ref));
		degbuf_append(out, b, 2);
		degbuf_puts(out, s->ref);
		b[0] = (uint8_t) s->nfields;
		degbuf_append(out, b, 1);
		for (f = 0; f < s->nfields; f++)
		{
			put_u16(b, (uint16_t) strlen(s->fields[f]));
			degbuf_append(out, b, 2);
			degbuf_puts(out, s->fields[f]);
		}
		put_u64(b, (uint64_t) s->nobs);
		degbuf_append(out, b, 8);
		if (s->compact)
		{
			/* written as version 1 records, their length filled in after */
			size_t		at = out->len;

			put_u64(b, 0);
			degbuf_append(out, b, 8);
			if (!compact_to_records(s, out))
				return false;
			if (!out->oom)
				put_u64((uint8_t *) out->data + at, (uint64_t) (out->len - at - 8));
			continue;
		}
		put_u64(b, (uint64_t) s->obs.len);
		degbuf_append(out, b, 8);
		if (s->obs.len > 0)
			degbuf_append(out, s->obs.data, s->obs.len);
	}
	return !out->oom;
}

static bool
read_name(const uint8_t *data, size_t len, size_t *pos, const char **name, size_t *namelen,
		  TelemetryError *err)
{
	if (len - *pos < 2)
		return fail(err, "truncated telemetry");
	*namelen = get_u16(data + *pos);
	*pos += 2;
	if (len - *pos < *namelen)
		return fail(err, "truncated telemetry");
	*name = (const char *) data + *pos;
	*pos += *namelen;
	return true;
}

bool
telemetry_deserialize(const uint8_t *data, size_t len, TelemetrySet *set, TelemetryError *err)
{
	size_t		pos = 9;
	uint64_t	nseries;
	uint64_t	i;

	telemetry_init(set);
	if (len < 9 || data[0] != TELEMETRY_FORMAT_VERSION)
		return fail(err, "not a telemetry value of format version %d", TELEMETRY_FORMAT_VERSION);
	nseries = get_u64(data + 1);
	if (nseries > TELEMETRY_MAX_SERIES)
		return fail(err, "more than %d series", TELEMETRY_MAX_SERIES);
	for (i = 0; i < nseries; i++)
	{
		const char *ref;
		const char *fields[TELEMETRY_MAX_FIELDS];
		size_t		reflen,
					lens[TELEMETRY_MAX_FIELDS];
		int			nfields,
					f;
		uint64_t	nobs,
					bytes,
					k;
		size_t		rec;
		TelemetrySeries *s;

		if (!read_name(data, len, &pos, &ref, &reflen, err))
			goto bad;
		if (len - pos < 1)
		{
			fail(err, "truncated telemetry");
			goto bad;
		}
		nfields = data[pos++];
		if (nfields < 1 || nfields > TELEMETRY_MAX_FIELDS)
		{
			fail(err, "a series has %d fields", nfields);
			goto bad;
		}
		for (f = 0; f < nfields; f++)
			if (!read_name(data, len, &pos, &fields[f], &lens[f], err))
				goto bad;
		for (k = 0; k < (uint64_t) set->nseries; k++)
			if (same_name(set->series[k].ref, ref, reflen))
			{
				fail(err, "series \"%.*s\" appears twice", SHOWN(reflen), ref);
				goto bad;
			}
		s = telemetry_series(set, ref, reflen, fields, lens, nfields, err);
		if (s == NULL)
			goto bad;
		if (len - pos < 16)
		{
			fail(err, "truncated telemetry");
			goto bad;
		}
		nobs = get_u64(data + pos);
		bytes = get_u64(data + pos + 8);
		pos += 16;
		if (bytes > len - pos)
		{
			fail(err, "truncated telemetry");
			goto bad;
		}
		/* every record must decode, and there must be exactly nobs of them */
		rec = 0;
		for (k = 0; rec < bytes; k++)
		{
			int64_t		from,
						to;
			Decimal		values[TELEMETRY_MAX_FIELDS];
			bool		ok;

			for (f = 0; f < nfields; f++)
				dec_init(&values[f]);
			ok = read_record(data + pos, (size_t) bytes, &rec, nfields, &from, &to, values, NULL, err);
			for (f = 0; f < nfields; f++)
				dec_free(&values[f]);
			if (!ok)
				goto bad;
		}
		if (k != nobs)
		{
			fail(err, "series \"%s\" says %llu observations and holds %llu", s->ref,
				 (unsigned long long) nobs, (unsigned long long) k);
			goto bad;
		}
		if (bytes > 0 && !degbuf_append(&s->obs, data + pos, (size_t) bytes))
		{
			fail(err, "out of memory");
			goto bad;
		}
		s->nobs = (size_t) nobs;
		pos += (size_t) bytes;
	}
	if (pos != len)
	{
		fail(err, "%zu bytes after the last series", len - pos);
		goto bad;
	}
	return true;

bad:
	telemetry_free(set);
	return false;
}

/* ---------- binning ---------- */

TelemetryRule
telemetry_field_rule(const char *field)
{
	if (strcmp(field, "startTime") == 0)
		return TELEMETRY_MIN;
	if (strcmp(field, "endTime") == 0)
		return TELEMETRY_MAX;
	return TELEMETRY_SUM;
}

/* the bin holding t: the last start <= t, or -1 */
static int
bin_of(const int64_t *starts, int nbins, int64_t end, int64_t t)
{
	int			lo = 0,
				hi = nbins - 1;

	if (nbins == 0 || t < starts[0] || t >= end)
		return -1;
	if (nbins > 1)
	{
		/* intervals of one length (most settlements): where t would be, if that is where it is */
		uint64_t	g = ((uint64_t) t - (uint64_t) starts[0]) / ((uint64_t) starts[1] - (uint64_t) starts[0]);

		if (g < (uint64_t) nbins && starts[g] <= t && (g + 1 == (uint64_t) nbins || t < starts[g + 1]))
			return (int) g;
	}
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2;

		if (starts[mid] <= t)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

bool
telemetry_bin(const TelemetrySeries *s, const int64_t *starts, int nbins, int64_t end,
			  Decimal *out, bool *present, int64_t *counts, TelemetryError *err)
{
	TelemetryError local;		/* a read error is told from the end by the message */
	TelemetryCursor c;
	Decimal		values[TELEMETRY_MAX_FIELDS];
	bool		has[TELEMETRY_MAX_FIELDS];
	TelemetryRule rules[TELEMETRY_MAX_FIELDS];
	int64_t		from,
				to;
	bool		ok = true;
	int			f,
				b;

	if (err == NULL)
		err = &local;
	for (f = 0; f < s->nfields; f++)
	{
		dec_init(&values[f]);
		rules[f] = telemetry_field_rule(s->fields[f]);
	}
	for (b = 0; b < nbins * s->nfields; b++)
		present[b] = false;
	for (b = 0; b < nbins; b++)
		counts[b] = 0;
	telemetry_cursor_init(&c, s);
	while (ok && telemetry_next(&c, &from, &to, values, has, err))
	{
		int			bin = bin_of(starts, nbins, end, from);

		if (bin < 0)
			continue;
		counts[bin]++;
		for (f = 0; f < s->nfields && ok; f++)
		{
			Decimal    *acc = &out[bin * s->nfields + f];
			bool	   *acc_has = &present[bin * s->nfields + f];
			DecError	derr;
			DecStatus	st = DEC_OK;

			if (!has[f])
				continue;
			if (!*acc_has)
				st = dec_copy(acc, &values[f], &derr);
			else if (rules[f] == TELEMETRY_SUM)
				st = dec_add(acc, acc, &values[f], &derr);
			else if ((rules[f] == TELEMETRY_MIN) == (dec_cmp(&values[f], acc) < 0))
				st = dec_copy(acc, &values[f], &derr);
			if (st != DEC_OK)
				ok = fail(err, "%s.%s: %s", s->ref, s->fields[f], derr.message);
			*acc_has = true;
		}
	}
	if (ok && err && err->message[0] != '\0')
		ok = false;
	for (f = 0; f < s->nfields; f++)
		dec_free(&values[f]);
	return ok;
}

bool
telemetry_bin_field(const TelemetrySeries *s, int field, const int64_t *starts, int nbins, int64_t end,
					Decimal *out, bool *present, int64_t *counts, TelemetryError *err)
{
	const uint8_t *buf = (const uint8_t *) s->obs.data;
	size_t		len = s->obs.len;
	size_t		pos = 0;
	TelemetryCompactTail tail = {0, 0};
	int64_t		from,
				to;
	TelemetryRule rule = telemetry_field_rule(s->fields[field]);
	Decimal		value = DEC_INIT;
	bool		ok = true;
	int			b;

	for (b = 0; b < nbins; b++)
		present[b] = false;
	if (counts)
		for (b = 0; b < nbins; b++)
			counts[b] = 0;
	while (ok && pos < len)
	{
		int			bin;
		bool		has[TELEMETRY_MAX_FIELDS];
		Decimal    *dest;

		if (s->compact)
		{
			if (!get_times(buf, len, &pos, &tail, &from, &to))
			{
				ok = fail(err, "%s: truncated or invalid observation times", s->ref);
				break;
			}
		}
		else if (!read_times(buf, len, &pos, &from, &to, err))
		{
			ok = false;
			break;
		}
		bin = bin_of(starts, nbins, end, from);
		/* the first value of a bin is decoded where it stays; the others beside it */
		dest = (bin >= 0 && !present[bin]) ? &out[bin] : &value;
		ok = s->compact ? read_compact_values(buf, len, &pos, s->nfields, NULL, has, bin >= 0 ? field : -1, dest, err)
			: read_values(buf, len, &pos, s->nfields, NULL, has, bin >= 0 ? field : -1, dest, err);
		if (!ok || bin < 0)
			continue;
		if (counts)
			counts[bin]++;
		if (!has[field])
			continue;
		if (!present[bin])
			present[bin] = true;
		else
		{
			DecError	derr;
			DecStatus	st = DEC_OK;

			if (rule == TELEMETRY_SUM)
				st = dec_add(&out[bin], &out[bin], &value, &derr);
			else if ((rule == TELEMETRY_MIN) == (dec_cmp(&value, &out[bin]) < 0))
				st = dec_copy(&out[bin], &value, &derr);
			if (st != DEC_OK)
				ok = fail(err, "%s.%s: %s", s->ref, s->fields[field], derr.message);
		}
	}
	dec_free(&value);
	return ok;
}

typedef struct AtObservation
{
	int64_t		from;
	int64_t		to;
	size_t		seq;
	Decimal		value;
} AtObservation;

static int
at_cmp(const void *a, const void *b)
{
	const AtObservation *x = a;
	const AtObservation *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

bool
telemetry_at(const TelemetrySeries *s, int field, const int64_t *instants, int n,
			 Decimal *out, bool *present, TelemetryError *err)
{
	TelemetryError local;		/* a read error is told from the end by the message */
	AtObservation *obs = NULL;
	size_t		nobs = 0;
	TelemetryCursor c;
	Decimal		values[TELEMETRY_MAX_FIELDS];
	bool		has[TELEMETRY_MAX_FIELDS];
	int64_t		from,
				to;
	bool		ok = true;
	int			f,
				i;

	if (err == NULL)
		err = &local;
	for (i = 0; i < n; i++)
		present[i] = false;
	if (s->nobs > 0)
	{
		obs = deg_alloc(sizeof(AtObservation) * s->nobs);
		if (obs == NULL)
			return fail(err, "out of memory");
	}
	for (f = 0; f < s->nfields; f++)
		dec_init(&values[f]);
	telemetry_cursor_init(&c, s);
	while (ok && telemetry_next(&c, &from, &to, values, has, err))
	{
		if (!has[field])
			continue;
		if (nobs == s->nobs)
		{
			ok = fail(err, "series \"%s\" holds more observations than it counts", s->ref);
			break;
		}
		obs[nobs].from = from;
		obs[nobs].to = to;
		obs[nobs].seq = nobs;
		obs[nobs].value = values[field];
		dec_init(&values[field]);	/* moved: the observation owns its digits */
		nobs++;
	}
	if (err && err->message[0] != '\0')
		ok = false;
	for (f = 0; f < s->nfields; f++)
		dec_free(&values[f]);
	if (ok && nobs > 0)
		qsort(obs, nobs, sizeof(AtObservation), at_cmp);

	/* for each instant, walk back from the last start <= t to one that covers t */
	for (i = 0; ok && i < n; i++)
	{
		size_t		lo = 0,
					hi = nobs;
		int64_t		t = instants[i];

		while (lo < hi)
		{
			size_t		mid = lo + (hi - lo) / 2;

			if (obs[mid].from <= t)
				lo = mid + 1;
			else
				hi = mid;
		}
		while (lo > 0)
		{
			const AtObservation *o = &obs[--lo];

			if (o->to > t)
			{
				DecError	derr;

				if (dec_copy(&out[i], &o->value, &derr) != DEC_OK)
					ok = fail(err, "%s: %s", s->ref, derr.message);
				present[i] = true;
				break;
			}
		}
	}
	for (i = 0; i < (int) nobs; i++)
		dec_free(&obs[i].value);
	deg_free(obs);
	return ok;
}
