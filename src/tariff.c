/*
 * tariff.c: the deg.tariff type (an OCPI 2.2.1 tariff, DEG's camelCase
 * Tariff accepted on input), deg.tariff_cost (the OCPI CDR totals of a
 * charge data record), deg.tariff_price_per_kwh, and the tariff engine of
 * the formula language (tariff.h).  Parsing and pricing are
 * src/core/tariff.c; here are Datums, errors, time zones and caching.
 *
 * On disk a tariff is a varlena holding the core's binary form (which
 * starts with its own magic byte and format version).  Every read goes
 * through tariff_deserialize, which checks the bytes as thoroughly as the
 * JSON parser checks text, so a corrupted value is an error, never a crash.
 * The text form is the OCPI 2.2.1 JSON (snake_case), whatever the input
 * dialect; the binary wire form is a version byte and that text.
 *
 * Local time: the site's time zone is an IANA name looked up in
 * PostgreSQL's own tz database (pg_tzset), and the core asks for the UTC
 * offset at the instants it needs (pg_localtime), so DST changes inside a
 * session are priced in the right local hours.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"

#include "core/decimal.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/tariff.h"
#include "decimal_glue.h"
#include "tariff.h"

#define TARIFF_WIRE_VERSION 1

/* money decimals of deg.tariff_cost by default: OCPI's number format has 4 */
#define TARIFF_COST_DEFAULT_SCALE 4

/* seconds from 1970-01-01 to 2000-01-01, PostgreSQL's timestamp epoch */
#define UNIX_TO_PG_EPOCH_SECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* the session bounds the formula engine accepts: years 0001 .. 9999, in Unix seconds */
#define MIN_UNIX_SECONDS INT64CONST(-62135596800)
#define MAX_UNIX_SECONDS INT64CONST(253402300799)

/* ---------- errors ---------- */

static void
report_corrupted(const TariffError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted deg.tariff value: %s", err->message)));
}

static void
report_nomem(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory")));
}

/* ---------- text and datums ---------- */

/* the stored form of a valid tariff, palloc'd */
static struct varlena *
tariff_to_datum(const Tariff *t)
{
	DegBuf		buf;
	struct varlena *result;

	degbuf_init(&buf);
	if (!tariff_serialize(t, &buf))
		report_nomem();
	result = (struct varlena *) palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	degbuf_free(&buf);
	return result;
}

/* also the text input's parser, with what NULL: "invalid tariff: <field>: <problem>" */
Tariff *
deg_tariff_from_node(const JsonNode *node, const char *what)
{
	Tariff	   *t = palloc(sizeof(Tariff));
	TariffError err;

	if (!tariff_from_json(node, t, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 what ? errmsg("invalid tariff in %s: %s", what, err.message)
				 : errmsg("invalid tariff: %s", err.message)));
	return t;
}

/* a tariff datum from JSON text: 22P02 when it is not JSON, 22023 when not a valid tariff */
static struct varlena *
tariff_datum_from_text(const char *text, size_t len)
{
	JsonError	jerr;
	JsonNode   *doc = json_parse(text, len, &jerr);
	Tariff	   *t;
	struct varlena *result;

	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type deg.tariff: %s", jerr.message)));
	t = deg_tariff_from_node(doc, NULL);
	json_free(doc);
	result = tariff_to_datum(t);
	tariff_free(t);
	pfree(t);
	return result;
}

/* read a stored tariff into *t (allocated in CurrentMemoryContext) */
static void
tariff_from_datum(const struct varlena *v, Tariff *t)
{
	TariffError err;

	if (!tariff_deserialize((const uint8_t *) VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), t, &err))
		report_corrupted(&err);
}

/* the OCPI JSON text of a stored tariff, palloc'd */
static char *
tariff_datum_json(const struct varlena *v, size_t *len)
{
	Tariff		t;
	DegBuf		buf;
	TariffError err;

	tariff_from_datum(v, &t);
	degbuf_init(&buf);
	if (!tariff_to_json(&t, &buf, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("cannot write the tariff as JSON: %s", err.message)));
	tariff_free(&t);
	*len = buf.len;
	return buf.data;
}

#define PG_GETARG_TARIFF_PP(n) ((struct varlena *) PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(n)))


/* ---------- SQL: I/O ---------- */

PG_FUNCTION_INFO_V1(tariff_in);
Datum
tariff_in(PG_FUNCTION_ARGS)
{
	const char *s = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(tariff_datum_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(tariff_out);
Datum
tariff_out(PG_FUNCTION_ARGS)
{
	size_t		len;

	PG_RETURN_CSTRING(tariff_datum_json(PG_GETARG_TARIFF_PP(0), &len));
}

/* binary: a version byte, then the OCPI JSON text (read back through the text parser) */
PG_FUNCTION_INFO_V1(tariff_recv);
Datum
tariff_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			nbytes;
	char	   *text;

	if (version != TARIFF_WIRE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d of deg.tariff", version),
				 errdetail("This version of deg reads version %d.", TARIFF_WIRE_VERSION)));
	text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	PG_RETURN_POINTER(tariff_datum_from_text(text, (size_t) nbytes));
}

PG_FUNCTION_INFO_V1(tariff_send);
Datum
tariff_send(PG_FUNCTION_ARGS)
{
	size_t		len;
	char	   *s = tariff_datum_json(PG_GETARG_TARIFF_PP(0), &len);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, TARIFF_WIRE_VERSION);
	pq_sendtext(&buf, s, (int) len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* jsonb -> deg.tariff (jsonb has already dropped duplicate keys) */
PG_FUNCTION_INFO_V1(tariff_from_jsonb);
Datum
tariff_from_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(0);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	PG_RETURN_POINTER(tariff_datum_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(tariff_to_jsonb);
Datum
tariff_to_jsonb(PG_FUNCTION_ARGS)
{
	Datum		s = DirectFunctionCall1(tariff_out, PG_GETARG_DATUM(0));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, s));
}

/* ---------- SQL: accessors ---------- */

PG_FUNCTION_INFO_V1(tariff_currency);
Datum
tariff_currency(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_TARIFF_PP(0);
	Tariff		t;
	text	   *result;

	tariff_from_datum(v, &t);
	result = cstring_to_text(t.currency);
	tariff_free(&t);
	PG_RETURN_TEXT_P(result);
}

PG_FUNCTION_INFO_V1(tariff_type);
Datum
tariff_type(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_TARIFF_PP(0);
	Tariff		t;
	int			type;

	tariff_from_datum(v, &t);
	type = t.type;
	tariff_free(&t);
	if (type == TARIFF_TYPE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(tariff_type_name(type)));
}

/* ---------- time zones ---------- */

pg_tz *
deg_tariff_zone(const char *zone)
{
	pg_tz	   *tz = strlen(zone) <= TZ_STRLEN_MAX ? pg_tzset(zone) : NULL;

	/* as SET TIME ZONE does: leap-second zones are refused */
	if (tz == NULL || !pg_tz_acceptable(tz))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("time zone \"%s\" not recognized", zone),
				 errhint("Use an IANA time zone name such as Europe/Amsterdam or Asia/Kolkata (see pg_timezone_names).")));
	return tz;
}

bool
deg_tariff_utc_offset(void *ctx, int64_t utc_seconds, int32_t *offset_seconds)
{
	pg_time_t	t = (pg_time_t) utc_seconds;
	struct pg_tm *tm = pg_localtime(&t, (const pg_tz *) ctx);

	if (tm == NULL)
		return false;
	*offset_seconds = (int32_t) tm->tm_gmtoff;
	return true;
}

/* ---------- the per-call-site cache: the last tariff and zone ---------- */

typedef struct TariffCallCache
{
	MemoryContext cxt;			/* holds key and tariff; reset on a new tariff */
	bool		has_tariff;
	char	   *key;			/* the stored bytes of the cached tariff */
	size_t		keylen;
	Tariff		tariff;
	bool		has_zone;
	char		zone[TZ_STRLEN_MAX + 1];
	pg_tz	   *tz;
	TypeCacheEntry *range_typcache;	/* deg.tariff_price_per_kwh's tstzrange */
} TariffCallCache;

static TariffCallCache *
call_cache(FunctionCallInfo fcinfo)
{
	TariffCallCache *c = (TariffCallCache *) fcinfo->flinfo->fn_extra;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TariffCallCache));
		c->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "deg tariff cache",
									   ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = c;
	}
	return c;
}

/* the tariff of argument argno, deserialized once per distinct value */
static const Tariff *
cached_tariff(FunctionCallInfo fcinfo, TariffCallCache *c, int argno)
{
	struct varlena *v = PG_GETARG_TARIFF_PP(argno);
	const char *data = VARDATA_ANY(v);
	size_t		len = VARSIZE_ANY_EXHDR(v);
	MemoryContext old;

	if (c->has_tariff && len == c->keylen && memcmp(data, c->key, len) == 0)
		return &c->tariff;
	c->has_tariff = false;
	MemoryContextReset(c->cxt);
	old = MemoryContextSwitchTo(c->cxt);
	c->key = palloc(len > 0 ? len : 1);
	memcpy(c->key, data, len);
	c->keylen = len;
	tariff_from_datum(v, &c->tariff);
	MemoryContextSwitchTo(old);
	c->has_tariff = true;
	return &c->tariff;
}

/* the pg_tz of text argument argno, looked up once per distinct name */
static pg_tz *
cached_zone(FunctionCallInfo fcinfo, TariffCallCache *c, int argno)
{
	text	   *name = PG_GETARG_TEXT_PP(argno);
	size_t		len = VARSIZE_ANY_EXHDR(name);
	char	   *zone;

	if (c->has_zone && len == strlen(c->zone) && memcmp(VARDATA_ANY(name), c->zone, len) == 0)
		return c->tz;
	zone = text_to_cstring(name);
	c->has_zone = false;
	c->tz = deg_tariff_zone(zone);
	/* deg_tariff_zone refuses names longer than TZ_STRLEN_MAX */
	strlcpy(c->zone, zone, sizeof(c->zone));
	c->has_zone = true;
	pfree(zone);
	return c->tz;
}

/* ---------- SQL: pricing a charge data record ---------- */

static JsonNode *
jsonb_to_node(Jsonb *j, const char *what)
{
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));
	JsonError	jerr;
	JsonNode   *node = json_parse(s, strlen(s), &jerr);

	if (node == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s: %s", what, jerr.message)));
	pfree(s);
	return node;
}

/*
 * deg.tariff_cost(t, cdr, time_zone [, scale]): the OCPI CDR totals.  Money
 * is rounded half to even to scale places (default 4, OCPI's number
 * format); a negative scale writes every digit computed.
 */
PG_FUNCTION_INFO_V1(deg_tariff_cost);
Datum
deg_tariff_cost(PG_FUNCTION_ARGS)
{
	TariffCallCache *c = call_cache(fcinfo);
	const Tariff *t = cached_tariff(fcinfo, c, 0);
	Jsonb	   *cdrj = PG_GETARG_JSONB_P(1);
	pg_tz	   *tz = cached_zone(fcinfo, c, 2);
	int32		scale = PG_NARGS() > 3 ? PG_GETARG_INT32(3) : TARIFF_COST_DEFAULT_SCALE;
	JsonNode   *node;
	TariffCdr	cdr;
	TariffTotals totals;
	TariffError err;
	DegBuf		out;
	Datum		result;

	if (scale > DEC_MAX_DISPLAY_SCALE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("scale %d is out of range", scale),
				 errdetail("The scale is the number of decimal places of the amounts, at most %d; a negative scale keeps every digit.",
						   DEC_MAX_DISPLAY_SCALE)));
	node = jsonb_to_node(cdrj, "charge data record");
	tariff_cdr_init(&cdr);
	if (!tariff_cdr_from_json(node, &cdr, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid charge data record: %s", err.message)));
	json_free(node);
	tariff_totals_init(&totals);
	if (!tariff_cost(t, &cdr, deg_tariff_utc_offset, tz, &totals, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot price the charge data record: %s", err.message)));
	tariff_cdr_free(&cdr);
	degbuf_init(&out);
	if (!tariff_totals_to_json(&totals, scale < 0 ? -1 : scale, &out))
		report_nomem();
	tariff_totals_free(&totals);
	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data));
	degbuf_free(&out);
	PG_RETURN_DATUM(result);
}

/* ---------- the formula engine: computeTariffPrice ---------- */

void
deg_tariff_formula_init(DegTariffFormulaContext *ctx, const char *zone)
{
	ctx->tz = NULL;
	ctx->zone[0] = '\0';
	if (zone == NULL)
		return;
	ctx->tz = deg_tariff_zone(zone);
	strlcpy(ctx->zone, zone, sizeof(ctx->zone));
}

static FormulaResult
formula_fail(FormulaError *err, const char *fmt,...) pg_attribute_printf(2, 3);

static FormulaResult
formula_fail(FormulaError *err, const char *fmt,...)
{
	va_list		ap;

	err->column = 0;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return FORMULA_RESULT_ERROR;
}

/* seconds since the Unix epoch (a decimal) to microseconds, within years 1..9999 */
static bool
seconds_to_usec(const Decimal *secs, int64_t *usec)
{
	Decimal		million = DEC_INIT;
	Decimal		us = DEC_INIT;
	bool		ok;
	int64_t		v = 0;

	ok = dec_from_int64(&million, USECS_PER_SEC, NULL) == DEC_OK &&
		dec_mul(&us, secs, &million, NULL) == DEC_OK &&
		dec_round(&us, &us, 0, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK &&
		dec_to_int64(&us, &v, NULL) == DEC_OK;
	dec_free(&million);
	dec_free(&us);
	if (!ok || v < MIN_UNIX_SECONDS * USECS_PER_SEC || v > MAX_UNIX_SECONDS * USECS_PER_SEC)
		return false;
	*usec = v;
	return true;
}

/*
 * Drop trailing zeros after the point.  Values are normalized (no nonzero
 * digit beyond dscale), so only the display scale changes: read it off the
 * text.
 */
static void
trim_zeros(Decimal *d)
{
	char	   *s = palloc(dec_text_size(d));
	char	   *dot;
	char	   *end;

	dec_format(d, s);
	dot = strchr(s, '.');
	if (dot != NULL)
	{
		for (end = dot + strlen(dot) - 1; end > dot && *end == '0'; end--)
			;
		d->dscale = (int32_t) (end - dot);
	}
	pfree(s);
}

#define FORMULA_USAGE "computeTariffPrice(tariff, startTime, endTime, energyKWh)"

FormulaResult
deg_tariff_formula(void *context, const FormulaValue *args, int nargs,
				   Decimal *result, FormulaError *err)
{
	DegTariffFormulaContext *ctx = (DegTariffFormulaContext *) context;
	const Tariff *t;
	const Decimal *kwh;
	int64_t		start,
				end;
	TariffCdr	cdr;
	TariffPeriod *p;
	TariffTotals totals;
	TariffError terr;
	Decimal		hours = DEC_INIT;
	Decimal		divisor = DEC_INIT;
	FormulaResult r = FORMULA_RESULT_VALUE;
	int			i;
	bool		ok;

	if (nargs != 4)
		return formula_fail(err, "the tariff function takes 4 arguments, " FORMULA_USAGE
							", not %d", nargs);
	if (args[0].kind != FORMULA_VALUE_OBJECT || args[0].object == NULL)
		return formula_fail(err, "the first argument of " FORMULA_USAGE " must be a tariff object");
	for (i = 1; i < 4; i++)
		if (args[i].kind != FORMULA_VALUE_NUMBER)
			return formula_fail(err, "argument %d of " FORMULA_USAGE " must be a number", i + 1);
	t = (const Tariff *) args[0].object;
	kwh = &args[3].number;
	if (dec_is_zero(kwh))
		return FORMULA_RESULT_MISSING;
	if (dec_sign(kwh) < 0)
		return formula_fail(err, FORMULA_USAGE ": the energy must not be negative");
	if (!seconds_to_usec(&args[1].number, &start))
		return formula_fail(err, FORMULA_USAGE ": the start time is out of range (seconds since 1970-01-01 UTC, years 1 to 9999)");
	if (!seconds_to_usec(&args[2].number, &end))
		return formula_fail(err, FORMULA_USAGE ": the end time is out of range (seconds since 1970-01-01 UTC, years 1 to 9999)");
	if (end <= start)
		return formula_fail(err, FORMULA_USAGE ": the end time must be after the start time");

	/*
	 * One charging period: the energy, and the whole session as charging
	 * TIME in hours, rounded to the 16 decimals a CDR volume may have (a
	 * TIME step_size, at least a second, then bills the exact seconds).
	 */
	tariff_cdr_init(&cdr);
	tariff_totals_init(&totals);
	cdr.start = start;
	cdr.end = end;
	p = tariff_cdr_add_period(&cdr, start);
	ok = p != NULL &&
		dec_from_int64(&divisor, end - start, NULL) == DEC_OK &&
		dec_from_int64(&hours, USECS_PER_HOUR, NULL) == DEC_OK &&
		dec_div_round(&hours, &divisor, &hours, TARIFF_MAX_FRAC_DIGITS, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK;
	if (!ok)
		r = formula_fail(err, FORMULA_USAGE ": out of memory");
	else if (!tariff_period_set(p, TARIFF_CDR_ENERGY, kwh, &terr))
		r = formula_fail(err, FORMULA_USAGE ": the energy: %s", terr.message);
	else if (!tariff_period_set(p, TARIFF_CDR_TIME, &hours, &terr) ||
			 !tariff_cdr_check(&cdr, &terr) ||
			 !tariff_cost(t, &cdr, ctx != NULL && ctx->tz != NULL ? deg_tariff_utc_offset : NULL,
						  ctx != NULL ? ctx->tz : NULL, &totals, &terr))
		r = formula_fail(err, FORMULA_USAGE ": %s", terr.message);
	else
	{
		/*
		 * The average price per kWh, rounded half to even to 20 places: the
		 * precision of the core's proportional split (TARIFF_SPLIT_SCALE), so
		 * that its last-digit residues do not show as noise.
		 */
		if (dec_div_round(result, &totals.total_cost.excl_vat, kwh, TARIFF_SPLIT_SCALE,
						  DEC_ROUND_HALF_EVEN, NULL) != DEC_OK)
			r = formula_fail(err, FORMULA_USAGE ": the price per kWh is out of range");
		else
			trim_zeros(result);
	}
	dec_free(&hours);
	dec_free(&divisor);
	tariff_totals_free(&totals);
	tariff_cdr_free(&cdr);
	return r;
}

/* a PostgreSQL timestamp as a decimal number of Unix seconds */
static void
timestamp_to_unix_decimal(TimestampTz ts, Decimal *out)
{
	char		buf[64];
	int64		us = ts + UNIX_TO_PG_EPOCH_SECS * USECS_PER_SEC;
	DecStatus	st;
	DecError	derr;

	snprintf(buf, sizeof(buf), "%s%lld.%06lld", us < 0 ? "-" : "",
			 (long long) (us < 0 ? -(us / USECS_PER_SEC) : us / USECS_PER_SEC),
			 (long long) (us < 0 ? -(us % USECS_PER_SEC) : us % USECS_PER_SEC));
	st = dec_from_text(out, buf, strlen(buf), &derr);
	if (st != DEC_OK)
		decimal_report(st, &derr, "session bound");
}

/*
 * deg.tariff_price_per_kwh(t, session, energy_kwh, time_zone): the formula
 * engine's computeTariffPrice through SQL.  NULL when energy_kwh is 0.
 */
PG_FUNCTION_INFO_V1(deg_tariff_price_per_kwh);
Datum
deg_tariff_price_per_kwh(PG_FUNCTION_ARGS)
{
	TariffCallCache *c = call_cache(fcinfo);
	const Tariff *t = cached_tariff(fcinfo, c, 0);
	RangeType  *session = PG_GETARG_RANGE_P(1);
	Numeric		energy = PG_GETARG_NUMERIC(2);
	pg_tz	   *tz = cached_zone(fcinfo, c, 3);
	TypeCacheEntry *typcache;
	RangeBound	lower,
				upper;
	bool		empty;
	DegTariffFormulaContext ctx;
	FormulaValue args[4];
	FormulaError ferr;
	FormulaResult r;
	Decimal		result = DEC_INIT;
	Numeric		n;
	int			i;

	/* not range_get_typcache: it would take fn_extra, which holds the tariff cache */
	if (c->range_typcache == NULL || c->range_typcache->type_id != RangeTypeGetOid(session))
		c->range_typcache = lookup_type_cache(RangeTypeGetOid(session), TYPECACHE_RANGE_INFO);
	typcache = c->range_typcache;
	range_deserialize(typcache, session, &lower, &upper, &empty);
	if (empty || lower.infinite || upper.infinite ||
		TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(lower.val)) ||
		TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(upper.val)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the session must be a finite, non-empty time range")));
	if (numeric_is_nan(energy) || numeric_is_inf(energy))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the energy must be a finite number of kWh")));
	ctx.tz = tz;
	strlcpy(ctx.zone, c->zone, sizeof(ctx.zone));
	memset(args, 0, sizeof(args));
	for (i = 0; i < 4; i++)
		dec_init(&args[i].number);
	args[0].kind = FORMULA_VALUE_OBJECT;
	args[0].object = t;
	args[1].kind = args[2].kind = args[3].kind = FORMULA_VALUE_NUMBER;
	timestamp_to_unix_decimal(DatumGetTimestampTz(lower.val), &args[1].number);
	timestamp_to_unix_decimal(DatumGetTimestampTz(upper.val), &args[2].number);
	numeric_to_decimal(energy, &args[3].number);
	r = deg_tariff_formula(&ctx, args, 4, &result, &ferr);
	if (r == FORMULA_RESULT_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", ferr.message)));
	for (i = 1; i < 4; i++)
		dec_free(&args[i].number);
	if (r == FORMULA_RESULT_MISSING)
		PG_RETURN_NULL();
	n = decimal_to_numeric(&result);
	dec_free(&result);
	PG_RETURN_NUMERIC(n);
}
