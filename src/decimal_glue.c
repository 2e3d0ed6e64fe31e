/*
 * decimal_glue.c: PostgreSQL numeric <-> src/core decimals, through numeric's
 * binary wire format (numeric_send / numeric_recv).
 */
#include "postgres.h"

#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "decimal_glue.h"

void
numeric_to_decimal(Numeric n, Decimal *out)
{
	bytea	   *wire = DatumGetByteaPP(DirectFunctionCall1(numeric_send, NumericGetDatum(n)));
	DecError	err;
	DecStatus	status;

	status = dec_recv(out, (const uint8_t *) VARDATA_ANY(wire), VARSIZE_ANY_EXHDR(wire), &err);
	if (status != DEC_OK)
		decimal_report(status, &err, NULL);
	pfree(wire);
}

Numeric
decimal_to_numeric(const Decimal *d)
{
	StringInfoData buf;
	size_t		n = dec_send_size(d);
	Datum		result;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) n);
	dec_send(d, (uint8_t *) buf.data);
	buf.len = (int) n;
	result = DirectFunctionCall3(numeric_recv, PointerGetDatum(&buf),
								 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	pfree(buf.data);
	return DatumGetNumeric(result);
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
