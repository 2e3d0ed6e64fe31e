/*
 * offer.c: the deg.energy_offer and deg.energy_intent types: JSON I/O,
 * accessors, the @@ match operator, the <-> ordering operator and
 * match_explain.  The rule itself is src/core/offer.c.
 *
 * JSON is parsed with jsonb's parser; each known field is checked and
 * converted, and an error names the field through an error context line.
 * Fields deg does not interpret are kept ("extra") and printed back.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/rangetypes.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/array.h"

#include "era.h"
#include "offer.h"

/* ---------- parsing context: which field an error is about ---------- */

typedef struct ParseContext
{
	const char *what;			/* "energy offer" */
	const char *field;			/* the field being read, or NULL */
} ParseContext;

static void
parse_error_context(void *arg)
{
	ParseContext *pc = (ParseContext *) arg;

	if (pc->field)
		errcontext("field \"%s\" of an %s", pc->field, pc->what);
}

#define FIELD_ERROR(pc, ...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE), \
			 errmsg("invalid %s: %s", (pc)->what, psprintf(__VA_ARGS__))))

static const char *
jbv_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			return "null";
		case jbvString:
			return "a string";
		case jbvNumeric:
			return "a number";
		case jbvBool:
			return "a boolean";
		case jbvBinary:
			return JsonContainerIsArray(v->val.binary.data) ? "an array" : "an object";
		default:
			return "a JSON value";
	}
}

static char *
json_string(ParseContext *pc, const JsonbValue *v)
{
	if (v->type != jbvString)
		FIELD_ERROR(pc, "\"%s\" must be a string, not %s", pc->field, jbv_type_name(v));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static double
json_number(ParseContext *pc, const JsonbValue *v, bool nonnegative)
{
	double		d;

	if (v->type != jbvNumeric)
		FIELD_ERROR(pc, "\"%s\" must be a number, not %s", pc->field, jbv_type_name(v));
	/* through text: a value beyond double's range becomes infinity, not an error about digits */
	d = strtod(numeric_normalize(v->val.numeric), NULL);
	if (!isfinite(d))
		FIELD_ERROR(pc, "\"%s\" must be a finite number of at most about 1e308", pc->field);
	if (nonnegative && d < 0)
		FIELD_ERROR(pc, "\"%s\" must not be negative, got %g", pc->field, d);
	/* a tiny negative number underflows to -0, which would print as "-0" and read back as 0 */
	if (d == 0)
		d = 0;
	return d;
}

static bool
is_object(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

static bool
is_array(const JsonbValue *v)
{
	return v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data);
}

static JsonbValue *
object_member(const JsonbValue *obj, const char *key)
{
	return getKeyJsonValueFromContainer(obj->val.binary.data, key, (int) strlen(key), NULL);
}

/* the first of several accepted spellings of a member */
static JsonbValue *
object_member_any(const JsonbValue *obj, const char *k1, const char *k2)
{
	JsonbValue *v = object_member(obj, k1);

	return (v == NULL && k2 != NULL) ? object_member(obj, k2) : v;
}

static bool
key_is(const JsonbValue *key, const char *name)
{
	return key->val.string.len == (int) strlen(name) &&
		memcmp(key->val.string.val, name, key->val.string.len) == 0;
}

/* a timestamp from a JSON string; NULL JSON means an open bound */
static int64
json_timestamp(ParseContext *pc, const JsonbValue *v, int64 open)
{
	char	   *s;

	if (v == NULL || v->type == jbvNull)
		return open;
	s = json_string(pc, v);
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
												   ObjectIdGetDatum(InvalidOid),
												   Int32GetDatum(-1)));
}

/* {"start": ts, "end": ts} (or startTime/endTime); an open bound may be null or absent */
static void
json_window(ParseContext *pc, const JsonbValue *v, int64 *start, int64 *end)
{
	const char *field = pc->field;

	if (!is_object(v))
		FIELD_ERROR(pc, "\"%s\" must be an object with \"start\" and \"end\", not %s", field, jbv_type_name(v));
	pc->field = psprintf("%s.start", field);
	*start = json_timestamp(pc, object_member_any(v, "start", "startTime"), DEG_TS_NOBEGIN);
	pc->field = psprintf("%s.end", field);
	*end = json_timestamp(pc, object_member_any(v, "end", "endTime"), DEG_TS_NOEND);
	pc->field = field;
	if (*start != DEG_TS_NOBEGIN && *end != DEG_TS_NOEND && *end <= *start)
		FIELD_ERROR(pc, "\"%s\" ends before it starts", field);
}

/* {"lat": .., "lon": ..} or a GeoJSON Point {"type": "Point", "coordinates": [lon, lat]} */
static void
json_location(ParseContext *pc, const JsonbValue *v, double *lat, double *lon)
{
	JsonbValue *coords;

	if (!is_object(v))
		FIELD_ERROR(pc, "\"%s\" must be an object, not %s", pc->field, jbv_type_name(v));
	coords = object_member(v, "coordinates");
	if (coords != NULL)
	{
		JsonbValue *x,
				   *y;

		if (!is_array(coords) || JsonContainerSize(coords->val.binary.data) != 2)
			FIELD_ERROR(pc, "\"%s.coordinates\" must be [longitude, latitude]", pc->field);
		x = getIthJsonbValueFromContainer(coords->val.binary.data, 0);
		y = getIthJsonbValueFromContainer(coords->val.binary.data, 1);
		*lon = json_number(pc, x, false);
		*lat = json_number(pc, y, false);
	}
	else
	{
		JsonbValue *la = object_member_any(v, "lat", "latitude");
		JsonbValue *lo = object_member_any(v, "lon", "longitude");

		if (la == NULL || lo == NULL)
			FIELD_ERROR(pc, "\"%s\" needs \"lat\" and \"lon\" (or GeoJSON \"coordinates\")", pc->field);
		*lat = json_number(pc, la, false);
		*lon = json_number(pc, lo, false);
	}
	if (*lat < -90 || *lat > 90)
		FIELD_ERROR(pc, "latitude %g of \"%s\" is outside [-90, 90]", *lat, pc->field);
	if (*lon < -180 || *lon > 180)
		FIELD_ERROR(pc, "longitude %g of \"%s\" is outside [-180, 180]", *lon, pc->field);
}

static uint32
json_currency(ParseContext *pc, const JsonbValue *v)
{
	char	   *s = json_string(pc, v);
	uint32		c = deg_currency_pack(s, strlen(s));

	if (c == 0)
		FIELD_ERROR(pc, "currency \"%s\" is not a three-letter ISO 4217 code", s);
	return c;
}

/* a JSON array of distinct, non-empty strings */
static List *
json_string_list(ParseContext *pc, const JsonbValue *v)
{
	List	   *out = NIL;
	JsonbIterator *it;
	JsonbValue	elem;
	JsonbIteratorToken tok;

	if (!is_array(v))
		FIELD_ERROR(pc, "\"%s\" must be an array of strings, not %s", pc->field, jbv_type_name(v));
	it = JsonbIteratorInit(v->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &elem, true)) != WJB_DONE)
	{
		char	   *s;
		ListCell   *lc;
		bool		dup = false;

		if (tok != WJB_ELEM)
			continue;
		s = json_string(pc, &elem);
		if (s[0] == '\0')
			FIELD_ERROR(pc, "\"%s\" contains an empty string", pc->field);
		foreach(lc, out)
			if (strcmp((char *) lfirst(lc), s) == 0)
				dup = true;
		if (!dup)
			out = lappend(out, s);
	}
	if (list_length(out) > DEG_MAX_CREDENTIAL_TYPES)
		FIELD_ERROR(pc, "\"%s\" has %d entries (at most %d)", pc->field, list_length(out),
					DEG_MAX_CREDENTIAL_TYPES);
	return out;
}

/* "key=value" of a scalar, in the text a Bloom signature hashes */
static void
signature_add_pair(uint64 *sig, const char *key, const JsonbValue *v)
{
	StringInfoData kv;

	initStringInfo(&kv);
	appendStringInfo(&kv, "%s=", key);
	switch (v->type)
	{
		case jbvString:
			appendBinaryStringInfo(&kv, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			/* normalized, so that 60 and 60.0 agree as jsonb containment says */
			appendStringInfoString(&kv, numeric_normalize(v->val.numeric));
			break;
		case jbvBool:
			appendStringInfoString(&kv, v->val.boolean ? "true" : "false");
			break;
		default:
			appendStringInfoString(&kv, "null");
			break;
	}
	*sig |= deg_signature(kv.data, kv.len);
	pfree(kv.data);
}

/*
 * Signature bits of an attribute object: each top-level key, key=value for
 * scalar values, and key=element for the scalar elements of array values.
 * If an offer's attributes contain an intent's, the intent's bits are a
 * subset of the offer's, so the index may prune on them.
 */
static uint64
attribute_signature(JsonbContainer *obj)
{
	uint64		sig = 0;
	JsonbIterator *it = JsonbIteratorInit(obj);
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			sig |= deg_signature(key, strlen(key));
		}
		else if (tok == WJB_VALUE && v.type != jbvBinary)
			signature_add_pair(&sig, key, &v);
		else if (tok == WJB_VALUE && JsonContainerIsArray(v.val.binary.data))
		{
			JsonbIterator *ait = JsonbIteratorInit(v.val.binary.data);
			JsonbValue	e;
			JsonbIteratorToken atok;

			while ((atok = JsonbIteratorNext(&ait, &e, true)) != WJB_DONE)
				if (atok == WJB_ELEM && e.type != jbvBinary)
					signature_add_pair(&sig, key, &e);
		}
	}
	return sig;
}

/* ---------- building datums ---------- */

/* bytes appended after the fixed part, with offsets from the datum start */
typedef struct VarPart
{
	StringInfoData buf;
	size_t		fixed;			/* size of the fixed part */
} VarPart;

static void
varpart_init(VarPart *vp, size_t fixed)
{
	initStringInfo(&vp->buf);
	vp->fixed = fixed;
}

static uint32
varpart_add(VarPart *vp, const void *bytes, size_t len, bool maxalign)
{
	uint32		off;

	if (maxalign)
		while ((vp->fixed + vp->buf.len) % MAXIMUM_ALIGNOF != 0)
			appendStringInfoChar(&vp->buf, '\0');
	off = (uint32) (vp->fixed + vp->buf.len);
	appendBinaryStringInfo(&vp->buf, bytes, (int) len);
	return off;
}

static uint32
varpart_add_strings(VarPart *vp, List *strings)
{
	uint32		off = (uint32) (vp->fixed + vp->buf.len);
	ListCell   *lc;

	foreach(lc, strings)
		appendBinaryStringInfo(&vp->buf, lfirst(lc), (int) strlen(lfirst(lc)) + 1);
	return off;
}

static uint64
strings_signature(List *strings)
{
	uint64		sig = 0;
	ListCell   *lc;

	foreach(lc, strings)
		sig |= deg_signature(lfirst(lc), strlen(lfirst(lc)));
	return sig;
}

/* collects the fields deg keeps but does not interpret */
typedef struct ExtraBuilder
{
	JsonbParseState *state;
	int			count;
} ExtraBuilder;

static void
extra_add(ExtraBuilder *eb, JsonbValue *key, JsonbValue *val)
{
	if (eb->count++ == 0)
		pushJsonbValue(&eb->state, WJB_BEGIN_OBJECT, NULL);
	pushJsonbValue(&eb->state, WJB_KEY, key);
	pushJsonbValue(&eb->state, WJB_VALUE, val);
}

static Jsonb *
extra_finish(ExtraBuilder *eb)
{
	if (eb->count == 0)
		return NULL;
	return JsonbValueToJsonb(pushJsonbValue(&eb->state, WJB_END_OBJECT, NULL));
}

static Jsonb *
parse_json_object(ParseContext *pc, const char *text)
{
	Jsonb	   *jb = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));

	if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid %s: expected a JSON object", pc->what)));
	return jb;
}

/* the lowest ENERGY price of an OCPI (price_components) or DEG (priceComponents) tariff */
static bool
tariff_indicative_price(const JsonbValue *tariff, double *price, uint32 *currency)
{
	JsonbValue *elements = object_member(tariff, "elements");
	JsonbValue *cur = object_member(tariff, "currency");
	bool		found = false;
	JsonbIterator *it;
	JsonbValue	el;
	JsonbIteratorToken tok;

	if (cur && cur->type == jbvString)
		*currency = deg_currency_pack(cur->val.string.val, cur->val.string.len);
	if (elements == NULL || !is_array(elements))
		return false;
	it = JsonbIteratorInit(elements->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &el, true)) != WJB_DONE)
	{
		JsonbValue *pcs;
		JsonbIterator *pit;
		JsonbValue	pcv;
		JsonbIteratorToken ptok;

		if (tok != WJB_ELEM || !is_object(&el))
			continue;
		pcs = object_member_any(&el, "price_components", "priceComponents");
		if (pcs == NULL || !is_array(pcs))
			continue;
		pit = JsonbIteratorInit(pcs->val.binary.data);
		while ((ptok = JsonbIteratorNext(&pit, &pcv, true)) != WJB_DONE)
		{
			JsonbValue *type;
			JsonbValue *p;
			double		d;

			if (ptok != WJB_ELEM || !is_object(&pcv))
				continue;
			type = object_member(&pcv, "type");
			p = object_member(&pcv, "price");
			if (type == NULL || type->type != jbvString || p == NULL || p->type != jbvNumeric ||
				type->val.string.len != 6 || memcmp(type->val.string.val, "ENERGY", 6) != 0)
				continue;
			d = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(p->val.numeric)));
			if (isfinite(d) && d >= 0 && (!found || d < *price))
			{
				*price = d;
				found = true;
			}
		}
	}
	return found;
}

/*
 * An offer curve's indicative price: the lowest price at which it exports
 * (sells), or, for a curve that only imports, the highest price at which it
 * still buys.
 */
static bool
curve_indicative_price(const JsonbValue *curve_obj, double *price, uint32 *currency)
{
	JsonbValue *curve = object_member(curve_obj, "curve");
	JsonbValue *cur = object_member(curve_obj, "currency");
	JsonbIterator *it;
	JsonbValue	pt;
	JsonbIteratorToken tok;
	bool		sells = false,
				buys = false;
	double		sell_price = 0,
				buy_price = 0;

	if (cur && cur->type == jbvString)
		*currency = deg_currency_pack(cur->val.string.val, cur->val.string.len);
	if (curve == NULL || !is_array(curve))
		return false;
	it = JsonbIteratorInit(curve->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &pt, true)) != WJB_DONE)
	{
		JsonbValue *p;
		JsonbValue *kw;
		double		pd,
					kd;

		if (tok != WJB_ELEM || !is_object(&pt))
			continue;
		p = object_member(&pt, "price");
		kw = object_member(&pt, "powerKW");
		if (p == NULL || kw == NULL || p->type != jbvNumeric || kw->type != jbvNumeric)
			continue;
		pd = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(p->val.numeric)));
		kd = DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(kw->val.numeric)));
		if (kd > 0 && (!sells || pd < sell_price))
			sells = true, sell_price = pd;
		if (kd < 0 && (!buys || pd > buy_price))
			buys = true, buy_price = pd;
	}
	if (sells)
		*price = sell_price;
	else if (buys)
		*price = buy_price;
	return sells || buys;
}

static OfferDatum *
offer_from_json(const char *text)
{
	ParseContext pc = {"energy offer", NULL};
	ErrorContextCallback errcb;
	Jsonb	   *jb;
	JsonbIterator *it;
	JsonbValue	key,
				val;
	JsonbIteratorToken tok;
	ExtraBuilder eb = {NULL, 0};
	char	   *offer_id = NULL,
			   *contract_id = NULL;
	Datum		provider = (Datum) 0;
	int			role = -1;
	int			source = DEG_SOURCE_NONE;
	uint32		flags = 0,
				currency = 0;
	double		price = 0,
				min_kwh = 0,
				max_kwh = 0,
				min_kw = 0,
				max_kw = 0,
				lat = 0,
				lon = 0;
	int64		wstart = DEG_TS_NOBEGIN,
				wend = DEG_TS_NOEND;
	List	   *creds = NIL;
	Jsonb	   *attrs = NULL,
			   *extra;
	JsonbValue	tariff = {0},
				curve = {0};
	bool		has_tariff = false,
				has_curve = false;
	uint8		price_source = PRICE_SOURCE_GIVEN,
				stated_source = PRICE_SOURCE_GIVEN;
	VarPart		vp;
	OfferDatum *d;
	struct varlena *pv;

	errcb.callback = parse_error_context;
	errcb.arg = &pc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	jb = parse_json_object(&pc, text);
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		pc.field = pnstrdup(key.val.string.val, key.val.string.len);
		if (key_is(&key, "offerId"))
			offer_id = json_string(&pc, &val);
		else if (key_is(&key, "contractId"))
		{
			if (val.type != jbvNull)
				contract_id = json_string(&pc, &val);
		}
		else if (key_is(&key, "providerId"))
		{
			char	   *s = json_string(&pc, &val);

			provider = era_datum_from_text(s, strlen(s));
		}
		else if (key_is(&key, "openRole"))
		{
			char	   *s = json_string(&pc, &val);

			role = deg_role_from_name(s, strlen(s));
			if (role < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid energy offer: unknown role \"%s\"", s),
						 errhint("Roles are BUYER, SELLER, PROSUMER, MARKET_CLEARING_AGENT, AGGREGATOR and GRID_OPERATOR.")));
		}
		else if (key_is(&key, "pricePerKWh"))
		{
			/* checked below: one derived from an offer curve may be negative */
			price = json_number(&pc, &val, false);
			flags |= OD_HAS_PRICE;
		}
		else if (key_is(&key, "currency"))
			currency = json_currency(&pc, &val);
		else if (key_is(&key, "minQuantityKWh"))
		{
			min_kwh = json_number(&pc, &val, true);
			flags |= OD_HAS_MIN_KWH;
		}
		else if (key_is(&key, "maxQuantityKWh"))
		{
			max_kwh = json_number(&pc, &val, true);
			flags |= OD_HAS_MAX_KWH;
		}
		else if (key_is(&key, "minPowerKW"))
		{
			min_kw = json_number(&pc, &val, true);
			flags |= OD_HAS_MIN_KW;
		}
		else if (key_is(&key, "maxPowerKW"))
		{
			max_kw = json_number(&pc, &val, true);
			flags |= OD_HAS_MAX_KW;
		}
		else if (key_is(&key, "availabilityWindow"))
			json_window(&pc, &val, &wstart, &wend);
		else if (key_is(&key, "location"))
		{
			json_location(&pc, &val, &lat, &lon);
			flags |= OD_HAS_LOCATION;
		}
		else if (key_is(&key, "energySource"))
		{
			char	   *s = json_string(&pc, &val);

			source = deg_source_from_name(s, strlen(s));
			if (source < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid energy offer: unknown energy source \"%s\"", s),
						 errhint("Sources are SOLAR, WIND, HYDRO, BIOMASS, GEOTHERMAL, BATTERY, GRID, NUCLEAR, COAL, GAS, HYBRID and OTHER.")));
		}
		else if (key_is(&key, "credentialTypes"))
			creds = json_string_list(&pc, &val);
		else if (key_is(&key, "attributes"))
		{
			if (!is_object(&val))
				FIELD_ERROR(&pc, "\"attributes\" must be an object, not %s", jbv_type_name(&val));
			attrs = JsonbValueToJsonb(&val);
			flags |= OD_HAS_ATTRIBUTES;
		}
		else if (key_is(&key, "priceSource"))
		{
			/*
			 * Written on output when the price was derived; reading it back
			 * derives the price again from the same source, so that an
			 * offer's text form reads back to the same offer.
			 */
			char	   *s = json_string(&pc, &val);

			if (strcmp(s, "tariff") == 0)
				stated_source = PRICE_SOURCE_TARIFF;
			else if (strcmp(s, "offerCurve") == 0)
				stated_source = PRICE_SOURCE_OFFER_CURVE;
			else
				FIELD_ERROR(&pc, "\"priceSource\" must be \"tariff\" or \"offerCurve\", not \"%s\"", s);
		}
		else
		{
			if (key_is(&key, "tariff") && is_object(&val))
				tariff = val, has_tariff = true;
			else if (key_is(&key, "offerCurve") && is_object(&val))
				curve = val, has_curve = true;
			extra_add(&eb, &key, &val);
		}
	}
	pc.field = NULL;

	if (offer_id == NULL || offer_id[0] == '\0')
		FIELD_ERROR(&pc, "\"offerId\" is required");
	if (provider == (Datum) 0)
		FIELD_ERROR(&pc, "\"providerId\" is required");
	if (role < 0)
		FIELD_ERROR(&pc, "\"openRole\" is required");
	if ((flags & OD_HAS_MIN_KWH) && (flags & OD_HAS_MAX_KWH) && min_kwh > max_kwh)
		FIELD_ERROR(&pc, "\"minQuantityKWh\" %g exceeds \"maxQuantityKWh\" %g", min_kwh, max_kwh);
	if ((flags & OD_HAS_MIN_KW) && (flags & OD_HAS_MAX_KW) && min_kw > max_kw)
		FIELD_ERROR(&pc, "\"minPowerKW\" %g exceeds \"maxPowerKW\" %g", min_kw, max_kw);
	if (stated_source != PRICE_SOURCE_GIVEN)
		flags &= ~OD_HAS_PRICE;
	if (!(flags & OD_HAS_PRICE))
	{
		uint32		derived_currency = 0;

		if (has_tariff && stated_source != PRICE_SOURCE_OFFER_CURVE &&
			tariff_indicative_price(&tariff, &price, &derived_currency))
			price_source = PRICE_SOURCE_TARIFF, flags |= OD_HAS_PRICE;
		else if (has_curve && stated_source != PRICE_SOURCE_TARIFF &&
				 curve_indicative_price(&curve, &price, &derived_currency))
			price_source = PRICE_SOURCE_OFFER_CURVE, flags |= OD_HAS_PRICE;
		if (currency == 0)
			currency = derived_currency;
	}
	if (stated_source != PRICE_SOURCE_GIVEN && price_source != stated_source)
		FIELD_ERROR(&pc, "\"priceSource\" is \"%s\" but no price can be derived from %s",
					stated_source == PRICE_SOURCE_TARIFF ? "tariff" : "offerCurve",
					stated_source == PRICE_SOURCE_TARIFF ? "a \"tariff\"" : "an \"offerCurve\"");
	if (price_source == PRICE_SOURCE_GIVEN && (flags & OD_HAS_PRICE) && price < 0)
	{
		pc.field = "pricePerKWh";
		FIELD_ERROR(&pc, "\"%s\" must not be negative, got %g", pc.field, price);
	}
	if ((flags & OD_HAS_PRICE) && currency == 0)
		FIELD_ERROR(&pc, "a price needs a \"currency\"");
	extra = extra_finish(&eb);
	error_context_stack = errcb.previous;

	/* assemble the datum */
	varpart_init(&vp, offsetof(OfferDatum, data));
	pv = DatumGetEraPP(provider);
	{
		uint32		offer_id_off = varpart_add(&vp, offer_id, strlen(offer_id), false);
		uint32		contract_id_off = contract_id ? varpart_add(&vp, contract_id, strlen(contract_id), false) : 0;
		uint32		provider_off = varpart_add(&vp, era_datum_key(pv), era_datum_keylen(pv), false);
		uint32		credentials_off = varpart_add_strings(&vp, creds);
		uint32		attributes_off = attrs ? varpart_add(&vp, attrs, VARSIZE(attrs), true) : 0;
		uint32		extra_off = extra ? varpart_add(&vp, extra, VARSIZE(extra), true) : 0;
		size_t		total = vp.fixed + vp.buf.len;

		d = palloc0(total);
		SET_VARSIZE(d, total);
		memcpy((char *) d + vp.fixed, vp.buf.data, vp.buf.len);
		d->version = OFFER_FORMAT_VERSION;
		d->role = (uint8) role;
		d->source = (int8) source;
		d->price_source = price_source;
		d->flags = flags | (contract_id ? OD_HAS_CONTRACT_ID : 0) | (extra ? OD_HAS_EXTRA : 0);
		d->currency = currency;
		d->n_credentials = (uint32) list_length(creds);
		d->price = price;
		d->min_kwh = min_kwh;
		d->max_kwh = max_kwh;
		d->min_kw = min_kw;
		d->max_kw = max_kw;
		d->lat = lat;
		d->lon = lon;
		d->window_start = wstart;
		d->window_end = wend;
		d->credential_sig = strings_signature(creds);
		d->attribute_sig = attrs ? attribute_signature(&attrs->root) : 0;
		d->offer_id_off = offer_id_off;
		d->offer_id_len = (uint32) strlen(offer_id);
		d->contract_id_off = contract_id_off;
		d->contract_id_len = contract_id ? (uint32) strlen(contract_id) : 0;
		d->provider_off = provider_off;
		d->provider_len = (uint32) era_datum_keylen(pv);
		d->credentials_off = credentials_off;
		d->attributes_off = attributes_off;
		d->extra_off = extra_off;
	}
	return d;
}

/* ---------- printing ---------- */

static void
append_key(StringInfo out, bool *first, const char *key)
{
	if (!*first)
		appendStringInfoString(out, ", ");
	*first = false;
	escape_json(out, key);
	appendStringInfoString(out, ": ");
}

static void
append_number(StringInfo out, double v)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (v == 0)
		v = 0;					/* no "-0": JSON read through numeric has no negative zero */
	double_to_shortest_decimal_buf(v, buf);
	appendStringInfoString(out, buf);
}

/* ISO 8601 in UTC, so that the text form does not depend on the session's TimeZone */
static void
append_timestamp(StringInfo out, int64 ts)
{
	char		buf[40];
	int			usec;

	if (ts == DEG_TS_NOBEGIN || ts == DEG_TS_NOEND)
	{
		appendStringInfoString(out, "null");
		return;
	}
	deg_format_timestamp(ts, buf);
	buf[10] = 'T';
	buf[19] = '\0';				/* drop the Z, fractional seconds go before it */
	appendStringInfo(out, "\"%s", buf);
	usec = (int) (((ts % 1000000) + 1000000) % 1000000);
	if (usec != 0)
		appendStringInfo(out, ".%06d", usec);
	appendStringInfoString(out, "Z\"");
}

static void
append_window(StringInfo out, int64 start, int64 end)
{
	appendStringInfoString(out, "{\"start\": ");
	append_timestamp(out, start);
	appendStringInfoString(out, ", \"end\": ");
	append_timestamp(out, end);
	appendStringInfoChar(out, '}');
}

static void
append_strings(StringInfo out, const char *p, uint32 n)
{
	uint32		i;

	appendStringInfoChar(out, '[');
	for (i = 0; i < n; i++)
	{
		if (i > 0)
			appendStringInfoString(out, ", ");
		escape_json(out, p);
		p += strlen(p) + 1;
	}
	appendStringInfoChar(out, ']');
}

/* the members of a jsonb object, spliced into an object being printed */
static void
append_members(StringInfo out, bool *first, Jsonb *obj)
{
	char	   *text = JsonbToCString(NULL, &obj->root, VARSIZE(obj));
	size_t		len = strlen(text);

	if (len > 2)
	{
		if (!*first)
			appendStringInfoString(out, ", ");
		appendBinaryStringInfo(out, text + 1, (int) len - 2);
		*first = false;
	}
}

static char *
offer_to_json(const OfferDatum *d)
{
	StringInfoData out;
	bool		first = true;
	char		cur[4];
	char	   *provider = palloc(ERA_MAX_FORMAT);

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	append_key(&out, &first, "offerId");
	escape_json(&out, pnstrdup((const char *) d + d->offer_id_off, d->offer_id_len));
	if (d->flags & OD_HAS_CONTRACT_ID)
	{
		append_key(&out, &first, "contractId");
		escape_json(&out, pnstrdup((const char *) d + d->contract_id_off, d->contract_id_len));
	}
	era_format((const uint8 *) d + d->provider_off, d->provider_len, provider);
	append_key(&out, &first, "providerId");
	escape_json(&out, provider);
	append_key(&out, &first, "openRole");
	escape_json(&out, deg_role_name(d->role));
	if (d->flags & OD_HAS_PRICE)
	{
		append_key(&out, &first, "pricePerKWh");
		append_number(&out, d->price);
		if (d->price_source != PRICE_SOURCE_GIVEN)
		{
			append_key(&out, &first, "priceSource");
			escape_json(&out, d->price_source == PRICE_SOURCE_TARIFF ? "tariff" : "offerCurve");
		}
	}
	if (d->currency)
	{
		deg_currency_unpack(d->currency, cur);
		append_key(&out, &first, "currency");
		escape_json(&out, cur);
	}
	if (d->flags & OD_HAS_MIN_KWH)
	{
		append_key(&out, &first, "minQuantityKWh");
		append_number(&out, d->min_kwh);
	}
	if (d->flags & OD_HAS_MAX_KWH)
	{
		append_key(&out, &first, "maxQuantityKWh");
		append_number(&out, d->max_kwh);
	}
	if (d->window_start != DEG_TS_NOBEGIN || d->window_end != DEG_TS_NOEND)
	{
		append_key(&out, &first, "availabilityWindow");
		append_window(&out, d->window_start, d->window_end);
	}
	if (d->flags & OD_HAS_LOCATION)
	{
		append_key(&out, &first, "location");
		appendStringInfoString(&out, "{\"lat\": ");
		append_number(&out, d->lat);
		appendStringInfoString(&out, ", \"lon\": ");
		append_number(&out, d->lon);
		appendStringInfoChar(&out, '}');
	}
	if (d->source != DEG_SOURCE_NONE)
	{
		append_key(&out, &first, "energySource");
		escape_json(&out, deg_source_name(d->source));
	}
	if (d->flags & OD_HAS_MIN_KW)
	{
		append_key(&out, &first, "minPowerKW");
		append_number(&out, d->min_kw);
	}
	if (d->flags & OD_HAS_MAX_KW)
	{
		append_key(&out, &first, "maxPowerKW");
		append_number(&out, d->max_kw);
	}
	if (d->n_credentials > 0)
	{
		append_key(&out, &first, "credentialTypes");
		append_strings(&out, (const char *) d + d->credentials_off, d->n_credentials);
	}
	if (d->flags & OD_HAS_ATTRIBUTES)
	{
		Jsonb	   *a = (Jsonb *) ((const char *) d + d->attributes_off);

		append_key(&out, &first, "attributes");
		appendStringInfoString(&out, JsonbToCString(NULL, &a->root, VARSIZE(a)));
	}
	if (d->flags & OD_HAS_EXTRA)
		append_members(&out, &first, (Jsonb *) ((const char *) d + d->extra_off));
	appendStringInfoChar(&out, '}');
	return out.data;
}

/* ---------- intents ---------- */

static IntentDatum *
intent_from_json(const char *text)
{
	ParseContext pc = {"energy intent", NULL};
	ErrorContextCallback errcb;
	Jsonb	   *jb;
	JsonbIterator *it;
	JsonbValue	key,
				val;
	JsonbIteratorToken tok;
	ExtraBuilder eb = {NULL, 0};
	int			role = DEG_ROLE_BUYER;
	uint32		flags = 0,
				currency = 0,
				source_mask = 0;
	double		quantity = 0,
				max_price = 0,
				lat = 0,
				lon = 0,
				radius = 0,
				min_kw = 0;
	bool		has_location = false,
				has_radius = false;
	int64		wstart = DEG_TS_NOBEGIN,
				wend = DEG_TS_NOEND;
	List	   *creds = NIL;
	Jsonb	   *attrs = NULL,
			   *extra;
	VarPart		vp;
	IntentDatum *d;

	errcb.callback = parse_error_context;
	errcb.arg = &pc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	jb = parse_json_object(&pc, text);
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &key, true)) != WJB_DONE)
	{
		if (tok != WJB_KEY)
			continue;
		JsonbIteratorNext(&it, &val, true);
		pc.field = pnstrdup(key.val.string.val, key.val.string.len);
		if (key_is(&key, "role"))
		{
			char	   *s = json_string(&pc, &val);

			role = deg_role_from_name(s, strlen(s));
			if (role < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid energy intent: unknown role \"%s\"", s),
						 errhint("Roles are BUYER, SELLER, PROSUMER, MARKET_CLEARING_AGENT, AGGREGATOR and GRID_OPERATOR.")));
		}
		else if (key_is(&key, "quantityKWh"))
		{
			quantity = json_number(&pc, &val, true);
			flags |= ID_HAS_QUANTITY;
		}
		else if (key_is(&key, "window"))
			json_window(&pc, &val, &wstart, &wend);
		else if (key_is(&key, "deadline"))
			wend = json_timestamp(&pc, &val, DEG_TS_NOEND);
		else if (key_is(&key, "maxPricePerKWh"))
		{
			max_price = json_number(&pc, &val, true);
			flags |= ID_HAS_MAX_PRICE;
		}
		else if (key_is(&key, "currency"))
			currency = json_currency(&pc, &val);
		else if (key_is(&key, "acceptedSources") || key_is(&key, "preferredSource"))
		{
			List	   *names = val.type == jbvString ? list_make1(json_string(&pc, &val))
				: json_string_list(&pc, &val);
			ListCell   *lc;

			foreach(lc, names)
			{
				uint32		m = deg_source_mask_from_name(lfirst(lc), strlen(lfirst(lc)));

				if (m == 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid energy intent: unknown energy source \"%s\"", (char *) lfirst(lc)),
							 errhint("Sources are SOLAR, WIND, HYDRO, BIOMASS, GEOTHERMAL, BATTERY, GRID, NUCLEAR, COAL, GAS, HYBRID, OTHER, and RENEWABLE for the first five.")));
				source_mask |= m;
			}
		}
		else if (key_is(&key, "location"))
		{
			json_location(&pc, &val, &lat, &lon);
			has_location = true;
		}
		else if (key_is(&key, "radiusMeters"))
		{
			radius = json_number(&pc, &val, true);
			has_radius = true;
		}
		else if (key_is(&key, "minPowerKW"))
		{
			min_kw = json_number(&pc, &val, true);
			flags |= ID_HAS_MIN_KW;
		}
		else if (key_is(&key, "requiredCredentials"))
			creds = json_string_list(&pc, &val);
		else if (key_is(&key, "requiredAttributes"))
		{
			if (!is_object(&val))
				FIELD_ERROR(&pc, "\"requiredAttributes\" must be an object, not %s", jbv_type_name(&val));
			attrs = JsonbValueToJsonb(&val);
			flags |= ID_HAS_ATTRIBUTES;
		}
		else
			extra_add(&eb, &key, &val);
	}
	pc.field = NULL;
	if (has_location != has_radius)
		FIELD_ERROR(&pc, "\"location\" and \"radiusMeters\" go together");
	if (has_location)
		flags |= ID_HAS_POINT;
	extra = extra_finish(&eb);
	error_context_stack = errcb.previous;

	varpart_init(&vp, offsetof(IntentDatum, data));
	{
		uint32		credentials_off = varpart_add_strings(&vp, creds);
		uint32		attributes_off = attrs ? varpart_add(&vp, attrs, VARSIZE(attrs), true) : 0;
		uint32		extra_off = extra ? varpart_add(&vp, extra, VARSIZE(extra), true) : 0;
		size_t		total = vp.fixed + vp.buf.len;

		d = palloc0(total);
		SET_VARSIZE(d, total);
		memcpy((char *) d + vp.fixed, vp.buf.data, vp.buf.len);
		d->version = INTENT_FORMAT_VERSION;
		d->role = (uint8) role;
		d->flags = flags | (extra ? ID_HAS_EXTRA : 0);
		d->currency = currency;
		d->source_mask = source_mask;
		d->n_credentials = (uint32) list_length(creds);
		d->quantity_kwh = quantity;
		d->max_price = max_price;
		d->lat = lat;
		d->lon = lon;
		d->radius_m = radius;
		d->min_kw = min_kw;
		d->window_start = wstart;
		d->window_end = wend;
		d->credential_sig = strings_signature(creds);
		d->attribute_sig = attrs ? attribute_signature(&attrs->root) : 0;
		d->credentials_off = credentials_off;
		d->attributes_off = attributes_off;
		d->extra_off = extra_off;
	}
	return d;
}

static char *
intent_to_json(const IntentDatum *d)
{
	StringInfoData out;
	bool		first = true;
	char		cur[4];

	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	append_key(&out, &first, "role");
	escape_json(&out, deg_role_name(d->role));
	if (d->flags & ID_HAS_QUANTITY)
	{
		append_key(&out, &first, "quantityKWh");
		append_number(&out, d->quantity_kwh);
	}
	if (d->window_start != DEG_TS_NOBEGIN || d->window_end != DEG_TS_NOEND)
	{
		append_key(&out, &first, "window");
		append_window(&out, d->window_start, d->window_end);
	}
	if (d->flags & ID_HAS_MAX_PRICE)
	{
		append_key(&out, &first, "maxPricePerKWh");
		append_number(&out, d->max_price);
	}
	if (d->currency)
	{
		deg_currency_unpack(d->currency, cur);
		append_key(&out, &first, "currency");
		escape_json(&out, cur);
	}
	if (d->source_mask)
	{
		int			s;
		bool		f = true;

		append_key(&out, &first, "acceptedSources");
		appendStringInfoChar(&out, '[');
		for (s = 0; s < DEG_SOURCE_COUNT; s++)
			if (d->source_mask & (1u << s))
			{
				if (!f)
					appendStringInfoString(&out, ", ");
				f = false;
				escape_json(&out, deg_source_name(s));
			}
		appendStringInfoChar(&out, ']');
	}
	if (d->flags & ID_HAS_POINT)
	{
		append_key(&out, &first, "location");
		appendStringInfoString(&out, "{\"lat\": ");
		append_number(&out, d->lat);
		appendStringInfoString(&out, ", \"lon\": ");
		append_number(&out, d->lon);
		appendStringInfoChar(&out, '}');
		append_key(&out, &first, "radiusMeters");
		append_number(&out, d->radius_m);
	}
	if (d->flags & ID_HAS_MIN_KW)
	{
		append_key(&out, &first, "minPowerKW");
		append_number(&out, d->min_kw);
	}
	if (d->n_credentials > 0)
	{
		append_key(&out, &first, "requiredCredentials");
		append_strings(&out, (const char *) d + d->credentials_off, d->n_credentials);
	}
	if (d->flags & ID_HAS_ATTRIBUTES)
	{
		Jsonb	   *a = (Jsonb *) ((const char *) d + d->attributes_off);

		append_key(&out, &first, "requiredAttributes");
		appendStringInfoString(&out, JsonbToCString(NULL, &a->root, VARSIZE(a)));
	}
	if (d->flags & ID_HAS_EXTRA)
		append_members(&out, &first, (Jsonb *) ((const char *) d + d->extra_off));
	appendStringInfoChar(&out, '}');
	return out.data;
}

/* ---------- core views ---------- */

static void
credential_refs(const char *p, uint32 n, CredentialRefs *refs, DegStrings *out)
{
	uint32		i;

	for (i = 0; i < n && i < DEG_MAX_CREDENTIAL_TYPES; i++)
	{
		refs->items[i] = p;
		refs->lens[i] = strlen(p);
		p += refs->lens[i] + 1;
	}
	out->items = refs->items;
	out->lens = refs->lens;
	out->count = (int) i;
}

void
offer_to_core(const OfferDatum *d, DegOffer *o, CredentialRefs *refs)
{
	o->role = d->role;
	o->source = d->source;
	o->currency = d->currency;
	o->has_price = (d->flags & OD_HAS_PRICE) != 0;
	o->price = d->price;
	o->has_min_kwh = (d->flags & OD_HAS_MIN_KWH) != 0;
	o->has_max_kwh = (d->flags & OD_HAS_MAX_KWH) != 0;
	o->min_kwh = d->min_kwh;
	o->max_kwh = d->max_kwh;
	o->has_min_kw = (d->flags & OD_HAS_MIN_KW) != 0;
	o->has_max_kw = (d->flags & OD_HAS_MAX_KW) != 0;
	o->min_kw = d->min_kw;
	o->max_kw = d->max_kw;
	o->has_location = (d->flags & OD_HAS_LOCATION) != 0;
	o->lat = d->lat;
	o->lon = d->lon;
	o->window_start = d->window_start;
	o->window_end = d->window_end;
	o->credential_sig = d->credential_sig;
	o->attribute_sig = d->attribute_sig;
	credential_refs((const char *) d + d->credentials_off, d->n_credentials, refs, &o->credential_types);
}

void
intent_to_core(const IntentDatum *d, DegIntent *in, CredentialRefs *refs)
{
	in->role = d->role;
	in->has_quantity = (d->flags & ID_HAS_QUANTITY) != 0;
	in->quantity_kwh = d->quantity_kwh;
	in->window_start = d->window_start;
	in->window_end = d->window_end;
	in->currency = d->currency;
	in->has_max_price = (d->flags & ID_HAS_MAX_PRICE) != 0;
	in->max_price = d->max_price;
	in->source_mask = d->source_mask;
	in->has_point = (d->flags & ID_HAS_POINT) != 0;
	in->lat = d->lat;
	in->lon = d->lon;
	in->radius_m = d->radius_m;
	in->has_min_kw = (d->flags & ID_HAS_MIN_KW) != 0;
	in->min_kw = d->min_kw;
	in->credential_sig = d->credential_sig;
	in->has_attributes = (d->flags & ID_HAS_ATTRIBUTES) != 0;
	in->attribute_sig = d->attribute_sig;
	credential_refs((const char *) d + d->credentials_off, d->n_credentials, refs, &in->credential_types);
}

bool
offer_attributes_contain(const OfferDatum *offer, const IntentDatum *intent)
{
	Jsonb	   *want;
	Jsonb	   *have;
	JsonbIterator *it1,
			   *it2;

	if (!(intent->flags & ID_HAS_ATTRIBUTES))
		return true;
	if (!(offer->flags & OD_HAS_ATTRIBUTES))
		return false;
	want = (Jsonb *) ((const char *) intent + intent->attributes_off);
	have = (Jsonb *) ((const char *) offer + offer->attributes_off);
	it1 = JsonbIteratorInit(&have->root);
	it2 = JsonbIteratorInit(&want->root);
	return JsonbDeepContains(&it1, &it2);
}

IntentCache *
intent_cache_get(FunctionCallInfo fcinfo, Datum intent)
{
	IntentCache *cache = (IntentCache *) fcinfo->flinfo->fn_extra;
	struct varlena *raw = (struct varlena *) DatumGetPointer(intent);
	IntentDatum *d;

	/* the same intent as last call? compare the bytes (cheap next to a decode) */
	if (cache != NULL && VARATT_IS_4B_U(raw) && VARSIZE(raw) == VARSIZE(cache->datum) &&
		memcmp(raw, cache->datum, VARSIZE(raw)) == 0)
		return cache;
	d = DatumGetIntentP(intent);
	if (cache == NULL)
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(IntentCache));
	else if (cache->datum)
		pfree(cache->datum);
	cache->datum = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, VARSIZE(d));
	memcpy(cache->datum, d, VARSIZE(d));
	intent_to_core(cache->datum, &cache->core, &cache->refs);
	fcinfo->flinfo->fn_extra = cache;
	return cache;
}

/* ---------- SQL: I/O ---------- */

#define OFFER_WIRE_VERSION 1

PG_FUNCTION_INFO_V1(energy_offer_in);
Datum
energy_offer_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(offer_from_json(PG_GETARG_CSTRING(0)));
}

PG_FUNCTION_INFO_V1(energy_offer_out);
Datum
energy_offer_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(offer_to_json(DatumGetOfferP(PG_GETARG_DATUM(0))));
}

/* binary: a version byte and the JSON text, as jsonb does */
static Datum
recv_json_text(FunctionCallInfo fcinfo, const char *type, Datum (*make) (const char *))
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			nbytes;
	char	   *text;

	if (version != OFFER_WIRE_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d of %s", version, type)));
	text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	return make(text);
}

static Datum
send_json_text(const char *text)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, OFFER_WIRE_VERSION);
	pq_sendtext(&buf, text, (int) strlen(text));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

static Datum
make_offer(const char *text)
{
	return PointerGetDatum(offer_from_json(text));
}

static Datum
make_intent(const char *text)
{
	return PointerGetDatum(intent_from_json(text));
}

PG_FUNCTION_INFO_V1(energy_offer_recv);
Datum
energy_offer_recv(PG_FUNCTION_ARGS)
{
	return recv_json_text(fcinfo, "deg.energy_offer", make_offer);
}

PG_FUNCTION_INFO_V1(energy_offer_send);
Datum
energy_offer_send(PG_FUNCTION_ARGS)
{
	return send_json_text(offer_to_json(DatumGetOfferP(PG_GETARG_DATUM(0))));
}

PG_FUNCTION_INFO_V1(energy_intent_in);
Datum
energy_intent_in(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(intent_from_json(PG_GETARG_CSTRING(0)));
}

PG_FUNCTION_INFO_V1(energy_intent_out);
Datum
energy_intent_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_CSTRING(intent_to_json(DatumGetIntentP(PG_GETARG_DATUM(0))));
}

PG_FUNCTION_INFO_V1(energy_intent_recv);
Datum
energy_intent_recv(PG_FUNCTION_ARGS)
{
	return recv_json_text(fcinfo, "deg.energy_intent", make_intent);
}

PG_FUNCTION_INFO_V1(energy_intent_send);
Datum
energy_intent_send(PG_FUNCTION_ARGS)
{
	return send_json_text(intent_to_json(DatumGetIntentP(PG_GETARG_DATUM(0))));
}

static Datum
jsonb_to_cstring_datum(Jsonb *jb)
{
	return CStringGetDatum(JsonbToCString(NULL, &jb->root, VARSIZE(jb)));
}

PG_FUNCTION_INFO_V1(energy_offer_from_jsonb);
Datum
energy_offer_from_jsonb(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(offer_from_json(DatumGetCString(jsonb_to_cstring_datum(PG_GETARG_JSONB_P(0)))));
}

PG_FUNCTION_INFO_V1(energy_offer_to_jsonb);
Datum
energy_offer_to_jsonb(PG_FUNCTION_ARGS)
{
	char	   *text = offer_to_json(DatumGetOfferP(PG_GETARG_DATUM(0)));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

PG_FUNCTION_INFO_V1(energy_intent_from_jsonb);
Datum
energy_intent_from_jsonb(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(intent_from_json(DatumGetCString(jsonb_to_cstring_datum(PG_GETARG_JSONB_P(0)))));
}

PG_FUNCTION_INFO_V1(energy_intent_to_jsonb);
Datum
energy_intent_to_jsonb(PG_FUNCTION_ARGS)
{
	char	   *text = intent_to_json(DatumGetIntentP(PG_GETARG_DATUM(0)));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(text)));
}

/* ---------- SQL: matching ---------- */

static bool
match_datums(IntentCache *ic, OfferDatum *od, DegMatchResult *results)
{
	DegOffer	offer;
	CredentialRefs refs;
	bool		attrs_ok;

	offer_to_core(od, &offer, &refs);
	/* containment on JSON only when the cheaper fields did not already fail */
	if (results == NULL && !deg_match(&ic->core, &offer, true, NULL))
		return false;
	attrs_ok = offer_attributes_contain(od, ic->datum);
	return deg_match(&ic->core, &offer, attrs_ok, results);
}

PG_FUNCTION_INFO_V1(energy_intent_matches);
Datum
energy_intent_matches(PG_FUNCTION_ARGS)
{
	IntentCache *ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(0));

	PG_RETURN_BOOL(match_datums(ic, DatumGetOfferP(PG_GETARG_DATUM(1)), NULL));
}

PG_FUNCTION_INFO_V1(energy_offer_matches);
Datum
energy_offer_matches(PG_FUNCTION_ARGS)
{
	IntentCache *ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(1));

	PG_RETURN_BOOL(match_datums(ic, DatumGetOfferP(PG_GETARG_DATUM(0)), NULL));
}

static double
order_value(IntentCache *ic, OfferDatum *od)
{
	DegOffer	offer;
	CredentialRefs refs;

	offer_to_core(od, &offer, &refs);
	return deg_order_value(offer.has_price, offer.price, deg_match_distance_m(&ic->core, &offer));
}

PG_FUNCTION_INFO_V1(energy_intent_order);
Datum
energy_intent_order(PG_FUNCTION_ARGS)
{
	IntentCache *ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(0));

	PG_RETURN_FLOAT8(order_value(ic, DatumGetOfferP(PG_GETARG_DATUM(1))));
}

PG_FUNCTION_INFO_V1(energy_offer_order);
Datum
energy_offer_order(PG_FUNCTION_ARGS)
{
	IntentCache *ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(1));

	PG_RETURN_FLOAT8(order_value(ic, DatumGetOfferP(PG_GETARG_DATUM(0))));
}

PG_FUNCTION_INFO_V1(energy_match_distance);
Datum
energy_match_distance(PG_FUNCTION_ARGS)
{
	IntentCache *ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(0));
	OfferDatum *od = DatumGetOfferP(PG_GETARG_DATUM(1));
	DegOffer	offer;
	CredentialRefs refs;

	offer_to_core(od, &offer, &refs);
	if (!ic->core.has_point || !offer.has_location)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(deg_match_distance_m(&ic->core, &offer));
}

/* match_explain(intent, offer): one row per field of the rule */
PG_FUNCTION_INFO_V1(energy_match_explain);
Datum
energy_match_explain(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	IntentCache *ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(0));
	OfferDatum *od = DatumGetOfferP(PG_GETARG_DATUM(1));
	DegMatchResult results[DEG_MATCH_FIELDS];
	int			i;

	/* not get_call_result_type: its catalog copies stay in per-query memory, per call */
	InitMaterializedSRF(fcinfo, rsinfo && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	match_datums(ic, od, results);
	for (i = 0; i < DEG_MATCH_FIELDS; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(deg_match_field_name(i));
		values[1] = BoolGetDatum(results[i].ok);
		values[2] = CStringGetTextDatum(results[i].detail);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- SQL: accessors ---------- */

PG_FUNCTION_INFO_V1(energy_offer_id);
Datum
energy_offer_id(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));

	PG_RETURN_TEXT_P(cstring_to_text_with_len((const char *) d + d->offer_id_off, d->offer_id_len));
}

PG_FUNCTION_INFO_V1(energy_offer_contract_id);
Datum
energy_offer_contract_id(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));

	if (!(d->flags & OD_HAS_CONTRACT_ID))
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text_with_len((const char *) d + d->contract_id_off, d->contract_id_len));
}

PG_FUNCTION_INFO_V1(energy_offer_provider);
Datum
energy_offer_provider(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));

	PG_RETURN_DATUM(era_datum_from_key((const uint8 *) d + d->provider_off, d->provider_len));
}

PG_FUNCTION_INFO_V1(energy_offer_role);
Datum
energy_offer_role(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(deg_role_name(DatumGetOfferP(PG_GETARG_DATUM(0))->role)));
}

PG_FUNCTION_INFO_V1(energy_offer_price);
Datum
energy_offer_price(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];

	if (!(d->flags & OD_HAS_PRICE))
		PG_RETURN_NULL();
	/* through the shortest decimal text, so 0.15 is 0.15 and not 0.1499999... */
	double_to_shortest_decimal_buf(d->price, buf);
	PG_RETURN_DATUM(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
										ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

PG_FUNCTION_INFO_V1(energy_offer_currency);
Datum
energy_offer_currency(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));
	char		cur[4];

	if (d->currency == 0)
		PG_RETURN_NULL();
	deg_currency_unpack(d->currency, cur);
	PG_RETURN_TEXT_P(cstring_to_text(cur));
}

PG_FUNCTION_INFO_V1(energy_offer_source);
Datum
energy_offer_source(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));

	if (d->source == DEG_SOURCE_NONE)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(deg_source_name(d->source)));
}

PG_FUNCTION_INFO_V1(energy_offer_window);
Datum
energy_offer_window(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));
	TypeCacheEntry *typcache = lookup_type_cache(TSTZRANGEOID, TYPECACHE_RANGE_INFO);
	RangeBound	lower,
				upper;

	lower.val = TimestampTzGetDatum(d->window_start);
	lower.infinite = d->window_start == DEG_TS_NOBEGIN;
	lower.inclusive = !lower.infinite;
	lower.lower = true;
	upper.val = TimestampTzGetDatum(d->window_end);
	upper.infinite = d->window_end == DEG_TS_NOEND;
	upper.inclusive = false;
	upper.lower = false;
	PG_RETURN_RANGE_P(make_range(typcache, &lower, &upper, false));
}

PG_FUNCTION_INFO_V1(energy_offer_credential_types);
Datum
energy_offer_credential_types(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));
	Datum	   *elems = palloc(sizeof(Datum) * (d->n_credentials + 1));
	const char *p = (const char *) d + d->credentials_off;
	uint32		i;

	for (i = 0; i < d->n_credentials; i++)
	{
		elems[i] = CStringGetTextDatum(p);
		p += strlen(p) + 1;
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, (int) d->n_credentials, TEXTOID, -1, false, TYPALIGN_INT));
}

PG_FUNCTION_INFO_V1(energy_offer_attributes);
Datum
energy_offer_attributes(PG_FUNCTION_ARGS)
{
	OfferDatum *d = DatumGetOfferP(PG_GETARG_DATUM(0));
	Jsonb	   *a;
	Jsonb	   *copy;

	if (!(d->flags & OD_HAS_ATTRIBUTES))
		PG_RETURN_NULL();
	a = (Jsonb *) ((const char *) d + d->attributes_off);
	copy = palloc(VARSIZE(a));
	memcpy(copy, a, VARSIZE(a));
	PG_RETURN_JSONB_P(copy);
}
