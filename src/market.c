/*
 * market.c: offer curves and pay-as-clear market clearing in SQL: the
 * deg.offer_curve type, deg.curve_power, deg.clear_market,
 * deg.clear_market_result and the deg.clear_market_agg aggregate.
 *
 * Curves (exact fixed point, validation, the power at a price) are
 * src/core/curve.c and clearing is src/core/clearing.c; here are Datums,
 * arrays, errors, JSON and the aggregate's state.
 *
 * A stored curve is a varlena holding the core's binary form, which is also
 * the binary wire form: one byte string per curve (so equality and hashing
 * may read bytes), read back through curve_deserialize, which checks every
 * rule.  Clearing deconstructs its two arrays once, deserializes each curve
 * straight from the array's bytes into one memory context, points the
 * core's participants at those curves and at the ERAs' sort keys inside
 * the array, and frees the context at the end.  The aggregated supply and
 * demand curves are computed only for deg.clear_market_result.
 */
#include "postgres.h"

#include "access/hash.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "core/clearing.h"
#include "core/curve.h"
#include "core/decimal.h"
#include "core/json.h"
#include "decimal_glue.h"
#include "era.h"
#include "market.h"

/* currencies named in the error for a market in several */
#define MAX_CURRENCIES_SHOWN 5

#define PG_GETARG_CURVE_PP(n) ((struct varlena *) PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(n)))

/* ---------- errors ---------- */

static void
report_nomem(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory")));
}

/* what is wrong with stored or received bytes, without the core's "invalid offer curve data: " */
static const char *
data_problem(const CurveError *err)
{
	static const char prefix[] = "invalid offer curve data: ";

	if (strncmp(err->message, prefix, sizeof(prefix) - 1) == 0)
		return err->message + sizeof(prefix) - 1;
	return err->message;
}

/* ---------- datums ---------- */

struct varlena *
deg_curve_to_datum(const Curve *curve)
{
	size_t		size = curve_serialized_size(curve);
	struct varlena *v = (struct varlena *) palloc(VARHDRSZ + size);

	SET_VARSIZE(v, VARHDRSZ + size);
	curve_serialize(curve, (uint8_t *) VARDATA(v));
	return v;
}

Curve *
deg_curve_from_datum(const struct varlena *v, const char *what)
{
	CurveError	err;
	Curve	   *curve = curve_deserialize((const uint8_t *) VARDATA_ANY(v),
										  VARSIZE_ANY_EXHDR(v), &err);

	if (curve == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 what ? errmsg("corrupted deg.offer_curve value in %s: %s", what, data_problem(&err))
				 : errmsg("corrupted deg.offer_curve value: %s", data_problem(&err))));
	return curve;
}

Curve *
deg_curve_from_node(const JsonNode *node, const char *what)
{
	CurveError	err;
	Curve	   *curve = curve_from_json(node, &err);

	if (curve == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 what ? errmsg("invalid offer curve in %s: %s", what, err.message)
				 : errmsg("invalid offer curve: %s", err.message)));
	return curve;
}

/* a curve datum from OfferCurve JSON text: 22P02 when not JSON, 22023 when not a valid curve */
static struct varlena *
curve_datum_from_text(const char *text, size_t len)
{
	JsonError	jerr;
	JsonNode   *doc = json_parse(text, len, &jerr);
	Curve	   *curve;
	struct varlena *result;

	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type deg.offer_curve: %s", jerr.message)));
	curve = deg_curve_from_node(doc, NULL);
	json_free(doc);
	result = deg_curve_to_datum(curve);
	curve_free(curve);
	return result;
}

/* the canonical OfferCurve JSON of a stored curve, palloc'd */
static char *
curve_datum_json(const struct varlena *v)
{
	Curve	   *curve = deg_curve_from_datum(v, NULL);
	DegBuf		buf;

	degbuf_init(&buf);
	if (!curve_to_json(curve, &buf))
		report_nomem();
	curve_free(curve);
	return buf.data;
}

/* ---------- SQL: I/O ---------- */

PG_FUNCTION_INFO_V1(offer_curve_in);
Datum
offer_curve_in(PG_FUNCTION_ARGS)
{
	const char *s = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(curve_datum_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(offer_curve_out);
Datum
offer_curve_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(curve_datum_json(PG_GETARG_CURVE_PP(0)));
}

/* binary: the stored form itself (little-endian, fixed width, versioned), checked on receipt */
PG_FUNCTION_INFO_V1(offer_curve_recv);
Datum
offer_curve_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			len = buf->len - buf->cursor;
	const char *bytes = pq_getmsgbytes(buf, len);
	CurveError	err;
	Curve	   *curve = curve_deserialize((const uint8_t *) bytes, (size_t) len, &err);
	struct varlena *result;

	if (curve == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary deg.offer_curve: %s", data_problem(&err))));
	result = deg_curve_to_datum(curve);
	curve_free(curve);
	PG_RETURN_POINTER(result);
}

PG_FUNCTION_INFO_V1(offer_curve_send);
Datum
offer_curve_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_GETARG_CURVE_PP(0);
	StringInfoData buf;

	/* what goes out must read back */
	curve_free(deg_curve_from_datum(v, NULL));
	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(v), (int) VARSIZE_ANY_EXHDR(v));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* jsonb -> deg.offer_curve (jsonb has already dropped duplicate keys) */
PG_FUNCTION_INFO_V1(offer_curve_from_jsonb);
Datum
offer_curve_from_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(0);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	PG_RETURN_POINTER(curve_datum_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(offer_curve_to_jsonb);
Datum
offer_curve_to_jsonb(PG_FUNCTION_ARGS)
{
	char	   *s = curve_datum_json(PG_GETARG_CURVE_PP(0));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(s)));
}

/* ---------- SQL: comparison and hashing ---------- */

/* curve_cmp of two argument datums, freeing detoasted copies as btree expects */
static int
curve_cmp_args(FunctionCallInfo fcinfo)
{
	struct varlena *a = PG_GETARG_CURVE_PP(0);
	struct varlena *b = PG_GETARG_CURVE_PP(1);
	Curve	   *ca = deg_curve_from_datum(a, NULL);
	Curve	   *cb = deg_curve_from_datum(b, NULL);
	int			c = curve_cmp(ca, cb);

	curve_free(ca);
	curve_free(cb);
	PG_FREE_IF_COPY(a, 0);
	PG_FREE_IF_COPY(b, 1);
	return c;
}

PG_FUNCTION_INFO_V1(offer_curve_cmp);
Datum
offer_curve_cmp(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(curve_cmp_args(fcinfo));
}

#define CURVE_CMP_FUNCTION(name, test) \
PG_FUNCTION_INFO_V1(name); \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	int			c = curve_cmp_args(fcinfo); \
\
	PG_RETURN_BOOL(test); \
}

CURVE_CMP_FUNCTION(offer_curve_eq, c == 0)
CURVE_CMP_FUNCTION(offer_curve_ne, c != 0)
CURVE_CMP_FUNCTION(offer_curve_lt, c < 0)
CURVE_CMP_FUNCTION(offer_curve_le, c <= 0)
CURVE_CMP_FUNCTION(offer_curve_gt, c > 0)
CURVE_CMP_FUNCTION(offer_curve_ge, c >= 0)

/*
 * Equal curves have equal binary forms (fixed-point numbers, reserved bytes
 * zero, curve_deserialize refuses anything else), so the hash is of the
 * bytes, once they have been checked; seeded (hash_extended) or not.
 */
static Datum
curve_hash_args(FunctionCallInfo fcinfo, bool seeded)
{
	struct varlena *v = PG_GETARG_CURVE_PP(0);
	const unsigned char *bytes = (const unsigned char *) VARDATA_ANY(v);
	int			len = (int) VARSIZE_ANY_EXHDR(v);
	Datum		h;

	curve_free(deg_curve_from_datum(v, NULL));
	h = seeded ? hash_any_extended(bytes, len, PG_GETARG_INT64(1)) : hash_any(bytes, len);
	PG_FREE_IF_COPY(v, 0);
	return h;
}

PG_FUNCTION_INFO_V1(offer_curve_hash);
Datum
offer_curve_hash(PG_FUNCTION_ARGS)
{
	return curve_hash_args(fcinfo, false);
}

PG_FUNCTION_INFO_V1(offer_curve_hash_extended);
Datum
offer_curve_hash_extended(PG_FUNCTION_ARGS)
{
	return curve_hash_args(fcinfo, true);
}

/* ---------- SQL: accessors ---------- */

/* the curve of argument 0, deserialized once per distinct value at this call site */
typedef struct CurveCallCache
{
	MemoryContext cxt;			/* holds bytes and curve; reset on a new curve */
	char	   *bytes;
	size_t		len;
	Curve	   *curve;
} CurveCallCache;

static const Curve *
cached_curve(FunctionCallInfo fcinfo)
{
	CurveCallCache *c = (CurveCallCache *) fcinfo->flinfo->fn_extra;
	struct varlena *v = PG_GETARG_CURVE_PP(0);
	const char *data = VARDATA_ANY(v);
	size_t		len = VARSIZE_ANY_EXHDR(v);
	MemoryContext old;

	if (c == NULL)
	{
		c = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CurveCallCache));
		c->cxt = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "deg offer curve cache",
									   ALLOCSET_SMALL_SIZES);
		fcinfo->flinfo->fn_extra = c;
	}
	if (c->curve != NULL && len == c->len && memcmp(data, c->bytes, len) == 0)
		return c->curve;
	c->curve = NULL;
	MemoryContextReset(c->cxt);
	old = MemoryContextSwitchTo(c->cxt);
	c->bytes = palloc(len);
	memcpy(c->bytes, data, len);
	c->len = len;
	c->curve = deg_curve_from_datum(v, NULL);
	MemoryContextSwitchTo(old);
	return c->curve;
}

PG_FUNCTION_INFO_V1(offer_curve_currency);
Datum
offer_curve_currency(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(cached_curve(fcinfo)->currency));
}

/* deg.curve_power(curve, price): the power at any decimal price, 9 places at most */
PG_FUNCTION_INFO_V1(offer_curve_power);
Datum
offer_curve_power(PG_FUNCTION_ARGS)
{
	const Curve *curve = cached_curve(fcinfo);
	Decimal		price = DEC_INIT;
	Decimal		power = DEC_INIT;
	CurveError	err;
	Numeric		result;

	numeric_to_decimal(PG_GETARG_NUMERIC(1), &price);
	if (!curve_power(curve, &price, &power, &err))
		report_nomem();
	result = decimal_to_numeric(&power);
	dec_free(&price);
	dec_free(&power);
	PG_RETURN_NUMERIC(result);
}

/* ---------- numbers and JSON ---------- */

/* a numeric of value * 10^-scale, without trailing zeros */
static Numeric
fixed_to_numeric(int64 value, int scale)
{
	Decimal		d = DEC_INIT;
	Numeric		n;

	if (!curve_fixed_to_decimal(value, scale, &d))
		report_nomem();
	n = decimal_to_numeric(&d);
	dec_free(&d);
	return n;
}

/*
 * The same for a power in nano-kW (|value| < 10^18), without 128-bit
 * arithmetic: the hot path of clear_market's rows.  The base-10000 digits
 * are those of the integer part (below 10^9: three) and of the nine
 * decimals padded to twelve (three more).
 */
static Numeric
nano_to_numeric(int64 value)
{
	Decimal		d = DEC_INIT;
	uint64		mag = value < 0 ? (uint64) 0 - (uint64) value : (uint64) value;
	uint64		whole = mag / CURVE_NANO;
	uint64		frac = mag % CURVE_NANO;
	uint64		frac12 = frac * 1000;
	int16		g[6];
	int			first = 0;
	int			last = 5;

	Assert(whole < CURVE_NANO);
	if (mag == 0)
		return decimal_to_numeric(&d);
	g[0] = (int16) (whole / 100000000);
	g[1] = (int16) (whole / 10000 % 10000);
	g[2] = (int16) (whole % 10000);
	g[3] = (int16) (frac12 / 100000000);
	g[4] = (int16) (frac12 / 10000 % 10000);
	g[5] = (int16) (frac12 % 10000);
	while (g[first] == 0)
		first++;
	while (g[last] == 0)
		last--;
	if (frac != 0)
	{
		d.dscale = CURVE_SCALE;
		while (frac % 10 == 0)
		{
			frac /= 10;
			d.dscale--;
		}
	}
	d.ndigits = last - first + 1;
	d.weight = 2 - first;
	d.sign = value < 0 ? DEC_NEG : DEC_POS;
	memcpy(d.inline_digits, g + first, sizeof(int16) * d.ndigits);
	return decimal_to_numeric(&d);
}

static void
append_fixed(StringInfo s, int64 value, int scale)
{
	char		buf[32];

	curve_fixed_format(value, scale, buf);
	appendStringInfoString(s, buf);
}

/* a decimal as a JSON number, trailing zeros dropped */
static void
append_decimal(StringInfo s, Decimal *d)
{
	char		local[64];
	char	   *buf;
	size_t		size;

	curve_decimal_trim(d);
	size = dec_text_size(d);
	buf = size <= sizeof(local) ? local : palloc(size);
	dec_format(d, buf);
	appendStringInfoString(s, buf);
	if (buf != local)
		pfree(buf);
}

static void
append_era(StringInfo s, const ClearingParticipant *p)
{
	char		buf[ERA_MAX_FORMAT];

	era_format(p->key, p->keylen, buf);
	escape_json(s, buf);
}

/* ---------- markets ---------- */

/*
 * A market to clear: the participants (curves deserialized into cxt, keys
 * pointing at ERA sort keys held by the caller's datums).
 */
typedef struct Market
{
	MemoryContext cxt;
	size_t		n;
	ClearingParticipant *p;
} Market;

static void
market_init(Market *m, size_t n)
{
	m->cxt = AllocSetContextCreate(CurrentMemoryContext, "deg market", ALLOCSET_DEFAULT_SIZES);
	m->n = n;
	m->p = MemoryContextAllocHuge(m->cxt, Max(n, 1) * sizeof(ClearingParticipant));
}

static void
market_free(Market *m)
{
	MemoryContextDelete(m->cxt);
	m->cxt = NULL;
	m->p = NULL;
}

/*
 * Participant i: its curve read from stored bytes (into the market's
 * context), its key from an era's sort key; false with err filled when the
 * bytes are not a valid curve.
 */
static bool
market_set(Market *m, size_t i, const char *curve, size_t len,
		   const uint8 *key, size_t keylen, CurveError *err)
{
	MemoryContext old = MemoryContextSwitchTo(m->cxt);

	m->p[i].curve = curve_deserialize((const uint8_t *) curve, len, err);
	MemoryContextSwitchTo(old);
	m->p[i].key = key;
	m->p[i].keylen = keylen;
	return m->p[i].curve != NULL;
}

static void
report_corrupted_participant(const char *what, const CurveError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("corrupted deg.offer_curve value %s: %s", what, data_problem(err))));
}

/* the first participant whose currency differs from the first one's, or n */
static size_t
market_currency_mismatch(const Market *m)
{
	size_t		i;

	for (i = 1; i < m->n; i++)
		if (memcmp(m->p[i].curve->currency, m->p[0].curve->currency, 4) != 0)
			return i;
	return m->n;
}

/* clear (in the market's context, so that its results go with it) */
static void
market_clear(Market *m, int flags, ClearingResult *r, ClearingAggregate *agg)
{
	MemoryContext old = MemoryContextSwitchTo(m->cxt);
	ClearingError err;

	clearing_result_init(r);
	if (!clearing_run(m->p, m->n, flags, r, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot clear the market: %s", err.message)));
	if (agg != NULL)
	{
		clearing_aggregate_init(agg);
		if (!clearing_aggregate(m->p, m->n, agg, &err))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot aggregate the offer curves: %s", err.message)));
	}
	MemoryContextSwitchTo(old);
}

/* ---------- markets from two arrays ---------- */

typedef struct MarketArrays
{
	Datum	   *curves;
	Datum	   *eras;
	int			curve_lbound;
	int			era_lbound;
} MarketArrays;

/* the elements of a one-dimensional array argument, none of them NULL */
static int
array_elements(ArrayType *a, const char *name, Datum **elems, int *lbound)
{
	int16		typlen;
	bool		typbyval;
	char		typalign;
	bool	   *nulls;
	int			n;
	int			i;

	if (ARR_NDIM(a) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array, not %d-dimensional", name, ARR_NDIM(a))));
	*lbound = ARR_NDIM(a) == 1 ? ARR_LBOUND(a)[0] : 1;
	get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &typbyval, &typalign);
	deconstruct_array(a, ARR_ELEMTYPE(a), typlen, typbyval, typalign, elems, &nulls, &n);
	if (ARR_HASNULL(a))
		for (i = 0; i < n; i++)
			if (nulls[i])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("%s[%d] is null", name, *lbound + i),
						 errdetail("Every participant of a market needs an offer curve and an energy resource address.")));
	pfree(nulls);
	return n;
}

/* the market of clear_market(curves, participants) and clear_market_result */
static void
market_from_arrays(FunctionCallInfo fcinfo, Market *m, MarketArrays *arrays)
{
	ArrayType  *curves = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *eras = PG_GETARG_ARRAYTYPE_P(1);
	int			ncurves = array_elements(curves, "curves", &arrays->curves, &arrays->curve_lbound);
	int			neras = array_elements(eras, "participants", &arrays->eras, &arrays->era_lbound);
	size_t		bad;
	int			i;

	if (ncurves != neras)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("curves has %d elements and participants %d", ncurves, neras),
				 errdetail("Give one offer curve per participant, in the same order.")));
	if (ncurves == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("no participants to clear"),
				 errdetail("Both arrays are empty; a market needs at least one participant.")));
	market_init(m, (size_t) ncurves);
	for (i = 0; i < ncurves; i++)
	{
		/* array elements are never compressed or external */
		const struct varlena *curve = (const struct varlena *) DatumGetPointer(arrays->curves[i]);
		const struct varlena *era = (const struct varlena *) DatumGetPointer(arrays->eras[i]);
		CurveError	err;

		if (!market_set(m, (size_t) i, VARDATA_ANY(curve), VARSIZE_ANY_EXHDR(curve),
						era_datum_key(era), era_datum_keylen(era), &err))
			report_corrupted_participant(psprintf("in curves[%d]", arrays->curve_lbound + i), &err);
	}
	bad = market_currency_mismatch(m);
	if (bad < m->n)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("curves[%d] is in %s and curves[%d] in %s",
						arrays->curve_lbound + (int) bad, m->p[bad].curve->currency,
						arrays->curve_lbound, m->p[0].curve->currency),
				 errdetail("A market clears in one currency.")));
}

/*
 * deg.clear_market(curves, participants): one row per participant, in
 * input order: the participant, its cleared power and the clearing price.
 */
PG_FUNCTION_INFO_V1(deg_clear_market);
Datum
deg_clear_market(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Market		m;
	MarketArrays arrays;
	ClearingResult r;
	MemoryContext row_cxt;
	MemoryContext old;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Datum		price;
	size_t		i;

	/* not get_call_result_type: its catalog copies stay in per-query memory, per call */
	InitMaterializedSRF(fcinfo, rsinfo && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	market_from_arrays(fcinfo, &m, &arrays);
	market_clear(&m, 0, &r, NULL);

	price = NumericGetDatum(fixed_to_numeric(r.price, CURVE_PRICE_SCALE));
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "deg clear_market row",
									ALLOCSET_SMALL_SIZES);
	for (i = 0; i < m.n; i++)
	{
		old = MemoryContextSwitchTo(row_cxt);
		values[0] = arrays.eras[i];
		values[1] = NumericGetDatum(nano_to_numeric(r.setpoints[i].cleared));
		values[2] = price;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		MemoryContextSwitchTo(old);
		MemoryContextReset(row_cxt);
	}
	MemoryContextDelete(row_cxt);
	market_free(&m);
	return (Datum) 0;
}

/* ---------- AggregationResult ---------- */

typedef struct OrderArg
{
	const ClearingParticipant *p;
	const ClearingSetpoint *sp;
} OrderArg;

/* participants by ERA, then curve, then cleared power: a total order on what is shown */
static int
participant_order_cmp(const void *a, const void *b, void *arg)
{
	const OrderArg *o = (const OrderArg *) arg;
	uint32		i = *(const uint32 *) a;
	uint32		j = *(const uint32 *) b;
	const ClearingParticipant *pi = &o->p[i];
	const ClearingParticipant *pj = &o->p[j];
	int			c = era_compare(pi->key, pi->keylen, pj->key, pj->keylen);

	if (c != 0)
		return c;
	c = curve_cmp(pi->curve, pj->curve);
	if (c != 0)
		return c;
	if (o->sp[i].cleared != o->sp[j].cleared)
		return o->sp[i].cleared < o->sp[j].cleared ? -1 : 1;
	return 0;
}

static void
append_curve_points(StringInfo s, const char *name, const ClearingCurvePoint *points, size_t n)
{
	size_t		i;

	appendStringInfo(s, ", \"%s\": [", name);
	for (i = 0; i < n; i++)
	{
		appendStringInfoString(s, i ? ", {\"price\": " : "{\"price\": ");
		append_fixed(s, points[i].price, CURVE_PRICE_SCALE);
		appendStringInfoString(s, ", \"powerKW\": ");
		append_decimal(s, (Decimal *) &points[i].power);
		appendStringInfoChar(s, '}');
	}
	appendStringInfoChar(s, ']');
}

/* why the price is what it is, in one sentence */
static void
append_reason(StringInfo s, ClearingResult *r)
{
	char		a[32];
	char		b[32];
	char		p[32];
	int			below = -1;
	int			above = -1;
	int			k;

	curve_fixed_format(r->price, CURVE_PRICE_SCALE, p);
	switch (r->rule)
	{
		case CLEARING_RULE_CROSSING:
			/* the breakpoints on either side of the price */
			for (k = 0; k < r->nbreakpoints; k++)
			{
				if (r->breakpoints[k].price <= r->price)
					below = k;
				else if (above < 0)
					above = k;
			}
			if (below >= 0 && above >= 0 && r->breakpoints[below].price < r->price)
			{
				curve_fixed_format(r->breakpoints[below].price, CURVE_PRICE_SCALE, a);
				curve_fixed_format(r->breakpoints[above].price, CURVE_PRICE_SCALE, b);
				appendStringInfo(s, "the total of the offer curves rises from ");
				append_decimal(s, &r->breakpoints[below].total);
				appendStringInfo(s, " kW at %s to ", a);
				append_decimal(s, &r->breakpoints[above].total);
				appendStringInfo(s, " kW at %s and crosses zero at %s (rounded half to even to 12 decimal places)", b, p);
			}
			else
				appendStringInfo(s, "the total of the offer curves is zero at %s and at no other price", p);
			break;
		case CLEARING_RULE_MIDPOINT:
			curve_fixed_format(r->zero_low, CURVE_PRICE_SCALE, a);
			curve_fixed_format(r->zero_high, CURVE_PRICE_SCALE, b);
			appendStringInfo(s, "the total of the offer curves is zero at every price from %s to %s; the clearing price is the midpoint of that range (rounded half to even to 12 decimal places)", a, b);
			break;
		case CLEARING_RULE_LOWER_BOUND:
			appendStringInfo(s, "the total of the offer curves is above zero at every price: even at %s, the lowest price of any curve point, sellers offer more than buyers take, so the market clears there and the sellers are rationed pro rata", p);
			break;
		case CLEARING_RULE_UPPER_BOUND:
			appendStringInfo(s, "the total of the offer curves is below zero at every price: even at %s, the highest price of any curve point, buyers ask for more than sellers offer, so the market clears there and the buyers are rationed pro rata", p);
			break;
	}
}

/* the AggregationResult JSON (with an explanation) of a cleared market */
static Datum
market_result_jsonb(const Market *m, ClearingResult *r, ClearingAggregate *agg)
{
	StringInfoData s;
	OrderArg	arg;
	uint32	   *order = palloc(Max(m->n, 1) * sizeof(uint32));
	Decimal		excess = DEC_INIT;
	int			first;
	size_t		i;
	int			k;
	Datum		result;

	for (i = 0; i < m->n; i++)
		order[i] = (uint32) i;
	arg.p = m->p;
	arg.sp = r->setpoints;
	qsort_arg(order, m->n, sizeof(uint32), participant_order_cmp, &arg);

	initStringInfo(&s);
	appendStringInfoString(&s, "{\"currency\": ");
	escape_json(&s, r->currency);
	appendStringInfoString(&s, ", \"clearingPrice\": ");
	append_fixed(&s, r->price, CURVE_PRICE_SCALE);
	appendStringInfoString(&s, ", \"clearingQuantityKW\": ");
	append_decimal(&s, &r->quantity);
	appendStringInfoString(&s, ", \"setpoints\": [");
	for (i = 0; i < m->n; i++)
	{
		appendStringInfoString(&s, i ? ", {\"era\": " : "{\"era\": ");
		append_era(&s, &m->p[order[i]]);
		appendStringInfoString(&s, ", \"setpointKW\": ");
		append_fixed(&s, r->setpoints[order[i]].cleared, CURVE_SCALE);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoChar(&s, ']');
	append_curve_points(&s, "aggregatedSupplyCurve", agg->supply, agg->nsupply);
	append_curve_points(&s, "aggregatedDemandCurve", agg->demand, agg->ndemand);

	appendStringInfoString(&s, ", \"explanation\": {\"rule\": ");
	escape_json(&s, clearing_rule_name(r->rule));
	appendStringInfoString(&s, ", \"reason\": \"");
	append_reason(&s, r);
	appendStringInfoString(&s, "\", \"priceRange\": {\"low\": ");
	append_fixed(&s, r->price_low, CURVE_PRICE_SCALE);
	appendStringInfoString(&s, ", \"high\": ");
	append_fixed(&s, r->price_high, CURVE_PRICE_SCALE);
	appendStringInfoString(&s, "}, \"zeroRange\": ");
	if (r->has_zero_range)
	{
		appendStringInfoString(&s, "{\"low\": ");
		append_fixed(&s, r->zero_low, CURVE_PRICE_SCALE);
		appendStringInfoString(&s, ", \"high\": ");
		append_fixed(&s, r->zero_high, CURVE_PRICE_SCALE);
		appendStringInfoChar(&s, '}');
	}
	else
		appendStringInfoString(&s, "null");
	appendStringInfoString(&s, ", \"breakpoints\": [");
	for (k = 0; k < r->nbreakpoints; k++)
	{
		appendStringInfoString(&s, k ? ", {\"price\": " : "{\"price\": ");
		append_fixed(&s, r->breakpoints[k].price, CURVE_PRICE_SCALE);
		appendStringInfoString(&s, ", \"totalKW\": ");
		append_decimal(&s, &r->breakpoints[k].total);
		appendStringInfoChar(&s, '}');
	}
	appendStringInfoString(&s, "], \"supplyKW\": ");
	append_decimal(&s, &r->supply);
	appendStringInfoString(&s, ", \"demandKW\": ");
	append_decimal(&s, &r->demand);
	appendStringInfoString(&s, ", \"rationedSide\": ");
	escape_json(&s, clearing_side_name(r->rationed));
	appendStringInfoString(&s, ", \"excessKW\": ");
	if (dec_sub(&excess, &r->supply, &r->demand, NULL) != DEC_OK ||
		dec_abs(&excess, &excess, NULL) != DEC_OK)
		report_nomem();
	append_decimal(&s, &excess);
	dec_free(&excess);
	appendStringInfoString(&s, ", \"marginal\": [");
	first = 1;
	for (i = 0; i < m->n; i++)
	{
		const ClearingSetpoint *sp = &r->setpoints[order[i]];

		if (!sp->marginal)
			continue;
		appendStringInfoString(&s, first ? "{\"era\": " : ", {\"era\": ");
		first = 0;
		append_era(&s, &m->p[order[i]]);
		appendStringInfoString(&s, ", \"curveKW\": ");
		append_fixed(&s, sp->value, CURVE_SCALE);
		appendStringInfoString(&s, ", \"setpointKW\": ");
		append_fixed(&s, sp->cleared, CURVE_SCALE);
		appendStringInfo(&s, ", \"onSlope\": %s, \"rationed\": %s}",
						 sp->sloped ? "true" : "false", sp->rationed ? "true" : "false");
	}
	appendStringInfoString(&s, "]}}");

	result = DirectFunctionCall1(jsonb_in, CStringGetDatum(s.data));
	pfree(s.data);
	pfree(order);
	return result;
}

/* clear a loaded market with the explanation and the aggregate curves, as jsonb */
static Datum
market_result(Market *m)
{
	ClearingResult r;
	ClearingAggregate agg;
	Datum		result;

	market_clear(m, CLEARING_EXPLAIN, &r, &agg);
	result = market_result_jsonb(m, &r, &agg);
	market_free(m);
	return result;
}

PG_FUNCTION_INFO_V1(deg_clear_market_result);
Datum
deg_clear_market_result(PG_FUNCTION_ARGS)
{
	Market		m;
	MarketArrays arrays;

	market_from_arrays(fcinfo, &m, &arrays);
	PG_RETURN_DATUM(market_result(&m));
}

/* ---------- the aggregate deg.clear_market_agg(curve, participant) ---------- */

/*
 * The state: every (participant, curve) pair seen, as bytes: uint32 length
 * and the era datum's data (version byte and sort key), uint32 length and
 * the curve's binary form.  Curves are checked once, by the final function;
 * states combine by concatenation, and the result does not depend on the
 * order of the pairs (it is sorted by participant), so any parallel plan
 * gives the same answer.
 */
typedef struct MarketAggState
{
	StringInfoData buf;
	int64		count;
} MarketAggState;

static MarketAggState *
agg_state_new(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	MarketAggState *st = palloc(sizeof(MarketAggState));

	initStringInfo(&st->buf);
	st->count = 0;
	MemoryContextSwitchTo(old);
	return st;
}

static void
agg_append_bytes(StringInfo buf, const char *data, size_t len)
{
	uint32		n = (uint32) len;

	appendBinaryStringInfo(buf, (const char *) &n, sizeof(n));
	appendBinaryStringInfo(buf, data, (int) len);
}

static MemoryContext
agg_context(FunctionCallInfo fcinfo, const char *fn)
{
	MemoryContext cxt;

	if (!AggCheckCallContext(fcinfo, &cxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s called in non-aggregate context", fn)));
	return cxt;
}

PG_FUNCTION_INFO_V1(clear_market_agg_transfn);
Datum
clear_market_agg_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "clear_market_agg_transfn");
	MarketAggState *st = PG_ARGISNULL(0) ? NULL : (MarketAggState *) PG_GETARG_POINTER(0);
	struct varlena *curve;
	struct varlena *era;
	MemoryContext old;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("participant of deg.clear_market_agg is null"),
				 errdetail("Every participant of a market needs an energy resource address.")));
	era = PG_GETARG_ERA_PP(2);
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("offer curve of participant %s is null", era_datum_to_cstring(era)),
				 errdetail("Every participant of a market needs an offer curve.")));
	curve = PG_GETARG_CURVE_PP(1);
	if (st == NULL)
		st = agg_state_new(cxt);
	old = MemoryContextSwitchTo(cxt);
	agg_append_bytes(&st->buf, VARDATA_ANY(era), VARSIZE_ANY_EXHDR(era));
	agg_append_bytes(&st->buf, VARDATA_ANY(curve), VARSIZE_ANY_EXHDR(curve));
	st->count++;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(st);
}

PG_FUNCTION_INFO_V1(clear_market_agg_combine);
Datum
clear_market_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext cxt = agg_context(fcinfo, "clear_market_agg_combine");
	MarketAggState *a = PG_ARGISNULL(0) ? NULL : (MarketAggState *) PG_GETARG_POINTER(0);
	MarketAggState *b = PG_ARGISNULL(1) ? NULL : (MarketAggState *) PG_GETARG_POINTER(1);
	MemoryContext old;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = agg_state_new(cxt);
	old = MemoryContextSwitchTo(cxt);
	appendBinaryStringInfo(&a->buf, b->buf.data, b->buf.len);
	a->count += b->count;
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(clear_market_agg_serialize);
Datum
clear_market_agg_serialize(PG_FUNCTION_ARGS)
{
	MarketAggState *st = (MarketAggState *) PG_GETARG_POINTER(0);
	bytea	   *out;

	agg_context(fcinfo, "clear_market_agg_serialize");
	out = (bytea *) palloc(VARHDRSZ + sizeof(int64) + st->buf.len);
	SET_VARSIZE(out, VARHDRSZ + sizeof(int64) + st->buf.len);
	memcpy(VARDATA(out), &st->count, sizeof(int64));
	memcpy(VARDATA(out) + sizeof(int64), st->buf.data, st->buf.len);
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(clear_market_agg_deserialize);
Datum
clear_market_agg_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *in = PG_GETARG_BYTEA_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(in);
	MarketAggState *st;

	agg_context(fcinfo, "clear_market_agg_deserialize");
	if (len < sizeof(int64))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid deg.clear_market_agg state: %zu bytes", len)));
	st = agg_state_new(CurrentMemoryContext);
	memcpy(&st->count, VARDATA_ANY(in), sizeof(int64));
	appendBinaryStringInfo(&st->buf, VARDATA_ANY(in) + sizeof(int64), (int) (len - sizeof(int64)));
	PG_RETURN_POINTER(st);
}

/* the next length-prefixed field of a state at *pos */
static const char *
agg_next(const MarketAggState *st, size_t *pos, size_t *len)
{
	uint32		n;
	const char *p;

	if (*pos + sizeof(n) > (size_t) st->buf.len)
		goto bad;
	memcpy(&n, st->buf.data + *pos, sizeof(n));
	*pos += sizeof(n);
	if (n > (size_t) st->buf.len - *pos)
		goto bad;
	p = st->buf.data + *pos;
	*pos += n;
	*len = n;
	return p;

bad:
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid deg.clear_market_agg state")));
	return NULL;
}

/* the error for a market in several currencies: the rows come in any order, so name them sorted */
static void
report_currencies(const Market *m)
{
	const char *seen[MAX_CURRENCIES_SHOWN];
	int			nseen = 0;
	bool		more = false;
	StringInfoData list;
	size_t		i;
	int			k;

	for (i = 0; i < m->n; i++)
	{
		const char *c = m->p[i].curve->currency;
		int			pos = 0;

		while (pos < nseen && strcmp(seen[pos], c) < 0)
			pos++;
		if (pos < nseen && strcmp(seen[pos], c) == 0)
			continue;
		if (nseen == MAX_CURRENCIES_SHOWN)
		{
			more = true;
			if (pos == nseen)
				continue;
			nseen--;
		}
		memmove(&seen[pos + 1], &seen[pos], (nseen - pos) * sizeof(seen[0]));
		seen[pos] = c;
		nseen++;
	}
	initStringInfo(&list);
	for (k = 0; k < nseen; k++)
		appendStringInfo(&list, "%s%s", k == 0 ? "" : (k == nseen - 1 && !more) ? " and " : ", ", seen[k]);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("offer curves in %s%s cannot clear in one market", list.data, more ? " and others" : ""),
			 errdetail("A market clears in one currency.")));
}

PG_FUNCTION_INFO_V1(clear_market_agg_final);
Datum
clear_market_agg_final(PG_FUNCTION_ARGS)
{
	MarketAggState *st;
	Market		m;
	size_t		pos = 0;
	size_t		i;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (MarketAggState *) PG_GETARG_POINTER(0);
	market_init(&m, (size_t) st->count);
	for (i = 0; i < m.n; i++)
	{
		size_t		elen;
		size_t		clen;
		const char *e = agg_next(st, &pos, &elen);
		const char *c = agg_next(st, &pos, &clen);
		CurveError	err;

		if (elen < 2)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("invalid deg.clear_market_agg state")));
		if (!market_set(&m, i, c, clen, (const uint8 *) e + 1, elen - 1, &err))
		{
			char		era[ERA_MAX_FORMAT];

			era_format((const uint8 *) e + 1, elen - 1, era);
			report_corrupted_participant(psprintf("of participant %s", era), &err);
		}
	}
	if (market_currency_mismatch(&m) < m.n)
		report_currencies(&m);
	PG_RETURN_DATUM(market_result(&m));
}
