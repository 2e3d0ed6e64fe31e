/*
 * offer.c: enums, the match rule, the ordering value and the GiST key.
 */
#include "offer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

static const char *const role_names[DEG_ROLE_COUNT] = {
	"BUYER", "SELLER", "PROSUMER", "MARKET_CLEARING_AGENT", "AGGREGATOR", "GRID_OPERATOR"
};

static const char *const source_names[DEG_SOURCE_COUNT] = {
	"SOLAR", "WIND", "HYDRO", "BIOMASS", "GEOTHERMAL", "BATTERY", "GRID",
	"NUCLEAR", "COAL", "GAS", "HYBRID", "OTHER"
};

static const char *const field_names[DEG_MATCH_FIELDS] = {
	"role", "quantity", "window", "currency", "price", "source", "distance",
	"power", "credentials", "attributes"
};

/* case-insensitive equality of a counted string with a NUL-terminated name */
static bool
name_eq(const char *s, size_t len, const char *name)
{
	size_t		i;

	if (strlen(name) != len)
		return false;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		if (c >= 'a' && c <= 'z')
			c = (char) (c - 'a' + 'A');
		if (c != name[i])
			return false;
	}
	return true;
}

int
deg_role_from_name(const char *name, size_t len)
{
	int			i;

	for (i = 0; i < DEG_ROLE_COUNT; i++)
		if (name_eq(name, len, role_names[i]))
			return i;
	return -1;
}

const char *
deg_role_name(int role)
{
	return (role >= 0 && role < DEG_ROLE_COUNT) ? role_names[role] : "?";
}

int
deg_source_from_name(const char *name, size_t len)
{
	int			i;

	for (i = 0; i < DEG_SOURCE_COUNT; i++)
		if (name_eq(name, len, source_names[i]))
			return i;
	return -1;
}

const char *
deg_source_name(int source)
{
	return (source >= 0 && source < DEG_SOURCE_COUNT) ? source_names[source] : "none";
}

uint32_t
deg_source_mask_from_name(const char *name, size_t len)
{
	int			s;

	if (name_eq(name, len, "RENEWABLE"))
		return DEG_SOURCES_RENEWABLE;
	s = deg_source_from_name(name, len);
	return s < 0 ? 0 : (1u << s);
}

uint32_t
deg_currency_pack(const char *code, size_t len)
{
	uint32_t	packed = 0;
	size_t		i;

	if (len != 3)
		return 0;
	for (i = 0; i < 3; i++)
	{
		char		c = code[i];

		if (c >= 'a' && c <= 'z')
			c = (char) (c - 'a' + 'A');
		if (c < 'A' || c > 'Z')
			return 0;
		packed = (packed << 8) | (uint32_t) (unsigned char) c;
	}
	return packed;
}

void
deg_currency_unpack(uint32_t packed, char out[4])
{
	if (packed == 0 || packed == OFFERKEY_MIXED_CURRENCY)
	{
		out[0] = '\0';
		return;
	}
	out[0] = (char) ((packed >> 16) & 0xFF);
	out[1] = (char) ((packed >> 8) & 0xFF);
	out[2] = (char) (packed & 0xFF);
	out[3] = '\0';
}

uint64_t
deg_signature(const char *s, size_t len)
{
	uint64_t	h = 0xcbf29ce484222325ULL;	/* FNV-1a */
	size_t		i;

	for (i = 0; i < len; i++)
	{
		h ^= (unsigned char) s[i];
		h *= 0x100000001b3ULL;
	}
	return (1ULL << (h & 63)) | (1ULL << ((h >> 6) & 63));
}

/* days since 1970-01-01 to a civil date (Howard Hinnant's algorithm) */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void
deg_format_timestamp(int64_t ts, char out[40])
{
	/* PostgreSQL epoch 2000-01-01 is 10957 days after the Unix epoch */
	const int64_t usec_per_day = 86400000000LL;
	int64_t		days;
	int64_t		rem;
	int64_t		y;
	int			m,
				d;

	if (ts == DEG_TS_NOBEGIN)
	{
		snprintf(out, 40, "-infinity");
		return;
	}
	if (ts == DEG_TS_NOEND)
	{
		snprintf(out, 40, "infinity");
		return;
	}
	days = ts / usec_per_day;
	rem = ts % usec_per_day;
	if (rem < 0)
	{
		rem += usec_per_day;
		days--;
	}
	civil_from_days(days + 10957, &y, &m, &d);
	snprintf(out, 40, "%04lld-%02d-%02d %02d:%02d:%02dZ", (long long) y, m, d,
			 (int) (rem / 3600000000LL), (int) (rem / 60000000LL % 60),
			 (int) (rem / 1000000LL % 60));
}

const char *
deg_match_field_name(int field)
{
	return (field >= 0 && field < DEG_MATCH_FIELDS) ? field_names[field] : "?";
}

double
deg_match_distance_m(const DegIntent *intent, const DegOffer *offer)
{
	if (!intent->has_point || !offer->has_location)
		return 0.0;
	return geo_distance_m(intent->lat, intent->lon, offer->lat, offer->lon);
}

static bool
strings_contain(const DegStrings *set, const char *s, size_t len)
{
	int			i;

	for (i = 0; i < set->count; i++)
		if (set->lens[i] == len && memcmp(set->items[i], s, len) == 0)
			return true;
	return false;
}

/* record one field's outcome; returns ok so that callers can stop early */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static bool
note(DegMatchResult *results, int field, bool ok, const char *fmt,...)
{
	if (results)
	{
		va_list		ap;

		results[field].ok = ok;
		va_start(ap, fmt);
		vsnprintf(results[field].detail, sizeof(results[field].detail), fmt, ap);
		va_end(ap);
	}
	return ok;
}

#define UNCONSTRAINED "not constrained by the intent"

bool
deg_match(const DegIntent *in, const DegOffer *of, bool attributes_ok, DegMatchResult *results)
{
	bool		all = true;
	bool		ok;
	char		a[40] = "",
				b[40] = "",
				c[40] = "",
				d[40] = "";
	char		cur_in[4] = "",
				cur_of[4] = "";

#define FIELD(expr) do { ok = (expr); all = all && ok; if (!all && results == NULL) return false; } while (0)

	/* role */
	FIELD(note(results, DEG_MATCH_ROLE, in->role == of->role,
			   in->role == of->role ? "the offer's open role is %s" : "the offer is open for %s, the intent seeks %s",
			   deg_role_name(of->role), deg_role_name(in->role)));

	/* quantity */
	if (!in->has_quantity)
		FIELD(note(results, DEG_MATCH_QUANTITY, true, UNCONSTRAINED));
	else if (of->has_min_kwh && in->quantity_kwh < of->min_kwh)
		FIELD(note(results, DEG_MATCH_QUANTITY, false, "%.15g kWh is below the offer's minimum of %.15g kWh",
				   in->quantity_kwh, of->min_kwh));
	else if (of->has_max_kwh && in->quantity_kwh > of->max_kwh)
		FIELD(note(results, DEG_MATCH_QUANTITY, false, "%.15g kWh is above the offer's maximum of %.15g kWh",
				   in->quantity_kwh, of->max_kwh));
	else
		FIELD(note(results, DEG_MATCH_QUANTITY, true, "%.15g kWh is within the offer's bounds",
				   in->quantity_kwh));

	/* window: the offer's must contain the intent's, bound by bound */
	if (results)
	{
		deg_format_timestamp(of->window_start, a);
		deg_format_timestamp(of->window_end, b);
		deg_format_timestamp(in->window_start, c);
		deg_format_timestamp(in->window_end, d);
	}
	if (in->window_start == DEG_TS_NOBEGIN && in->window_end == DEG_TS_NOEND)
		FIELD(note(results, DEG_MATCH_WINDOW, true, UNCONSTRAINED));
	else if (in->window_start != DEG_TS_NOBEGIN && of->window_start > in->window_start)
		FIELD(note(results, DEG_MATCH_WINDOW, false, "the offer starts at %s, after the intent's start %s", a, c));
	else if (in->window_end != DEG_TS_NOEND && of->window_end < in->window_end)
		FIELD(note(results, DEG_MATCH_WINDOW, false, "the offer ends at %s, before the intent's end %s", b, d));
	else
		FIELD(note(results, DEG_MATCH_WINDOW, true, "the offer's window [%s, %s) contains [%s, %s)", a, b, c, d));

	/* currency and price */
	if (results)
	{
		deg_currency_unpack(in->currency, cur_in);
		deg_currency_unpack(of->currency, cur_of);
	}
	if (in->currency == 0)
		FIELD(note(results, DEG_MATCH_CURRENCY, true, UNCONSTRAINED));
	else if (of->currency != in->currency)
		FIELD(note(results, DEG_MATCH_CURRENCY, false, of->currency ? "the offer is priced in %s, the intent in %s" : "the offer states no currency%.0s, the intent pays in %s",
				   cur_of, cur_in));
	else
		FIELD(note(results, DEG_MATCH_CURRENCY, true, "both in %s", cur_in));

	if (!in->has_max_price)
		FIELD(note(results, DEG_MATCH_PRICE, true, UNCONSTRAINED));
	else if (!of->has_price)
		FIELD(note(results, DEG_MATCH_PRICE, false, "the offer states no price"));
	else if (of->price > in->max_price)
		FIELD(note(results, DEG_MATCH_PRICE, false, "%.15g per kWh is above the maximum of %.15g",
				   of->price, in->max_price));
	else
		FIELD(note(results, DEG_MATCH_PRICE, true, "%.15g per kWh is at most %.15g", of->price, in->max_price));

	/* source */
	if (in->source_mask == 0)
		FIELD(note(results, DEG_MATCH_SOURCE, true, UNCONSTRAINED));
	else if (of->source == DEG_SOURCE_NONE)
		FIELD(note(results, DEG_MATCH_SOURCE, false, "the offer states no energy source"));
	else
		FIELD(note(results, DEG_MATCH_SOURCE, (in->source_mask >> of->source) & 1,
				   ((in->source_mask >> of->source) & 1) ? "%s is accepted" : "%s is not among the accepted sources",
				   deg_source_name(of->source)));

	/* distance */
	if (!in->has_point)
		FIELD(note(results, DEG_MATCH_DISTANCE, true, UNCONSTRAINED));
	else if (!of->has_location)
		FIELD(note(results, DEG_MATCH_DISTANCE, false, "the offer has no location"));
	else
	{
		double		dist = deg_match_distance_m(in, of);

		FIELD(note(results, DEG_MATCH_DISTANCE, dist <= in->radius_m,
				   dist <= in->radius_m ? "%.0f m from the intent's point, within %.15g m" : "%.0f m from the intent's point, beyond %.15g m",
				   dist, in->radius_m));
	}

	/* power */
	if (!in->has_min_kw)
		FIELD(note(results, DEG_MATCH_POWER, true, UNCONSTRAINED));
	else if (!of->has_max_kw)
		FIELD(note(results, DEG_MATCH_POWER, false, "the offer states no maximum power"));
	else
		FIELD(note(results, DEG_MATCH_POWER, of->max_kw >= in->min_kw,
				   of->max_kw >= in->min_kw ? "up to %.15g kW, at least %.15g kW needed" : "only up to %.15g kW, %.15g kW needed",
				   of->max_kw, in->min_kw));

	/* credentials: the offer's types are a superset of the required ones */
	if (in->credential_types.count == 0)
		FIELD(note(results, DEG_MATCH_CREDENTIALS, true, UNCONSTRAINED));
	else
	{
		int			i;
		int			missing = -1;

		for (i = 0; i < in->credential_types.count && missing < 0; i++)
			if (!strings_contain(&of->credential_types, in->credential_types.items[i],
								 in->credential_types.lens[i]))
				missing = i;
		if (missing >= 0)
			FIELD(note(results, DEG_MATCH_CREDENTIALS, false, "the offer does not carry %.*s",
					   (int) in->credential_types.lens[missing], in->credential_types.items[missing]));
		else
			FIELD(note(results, DEG_MATCH_CREDENTIALS, true, "the offer carries all %d required types",
					   in->credential_types.count));
	}

	/* attributes: decided by the caller on JSON */
	if (!in->has_attributes)
		FIELD(note(results, DEG_MATCH_ATTRIBUTES, true, UNCONSTRAINED));
	else
		FIELD(note(results, DEG_MATCH_ATTRIBUTES, attributes_ok,
				   attributes_ok ? "the offer's attributes contain the required ones" : "the offer's attributes do not contain the required ones"));
#undef FIELD
	return all;
}

#define ORDER_DISTANCE_BUCKETS 2097152.0	/* 2^21 tens of metres > half the Earth */

double
deg_order_value(bool has_price, double price, double distance_m)
{
	double		p;
	double		d;

	if (!has_price)
		return HUGE_VAL;
	p = floor(price * 1e6 + 0.5);
	d = floor(distance_m / 10.0);
	if (!(d >= 0.0))
		d = 0.0;
	if (d > ORDER_DISTANCE_BUCKETS - 1)
		d = ORDER_DISTANCE_BUCKETS - 1;
	return p * ORDER_DISTANCE_BUCKETS + d;
}

/* ---------- GiST key ---------- */

void
offerkey_from_offer(OfferKey *key, const DegOffer *of)
{
	memset(key, 0, sizeof(*key));
	key->roles = 1u << of->role;
	key->sources = of->source == DEG_SOURCE_NONE ? OFFERKEY_NO_SOURCE_BIT : (1u << of->source);
	key->currency = of->currency;
	key->currency_sig = of->currency ? (1ULL << (of->currency % 64)) : 0;
	key->credential_sig = of->credential_sig;
	key->attribute_sig = of->attribute_sig;
	key->price_lo = of->has_price ? of->price : HUGE_VAL;
	key->price_hi = of->has_price ? of->price : -HUGE_VAL;
	key->min_kwh_lo = of->has_min_kwh ? of->min_kwh : 0.0;
	key->max_kwh_hi = of->has_max_kwh ? of->max_kwh : HUGE_VAL;
	key->max_kw_hi = of->has_max_kw ? of->max_kw : -HUGE_VAL;
	key->start_lo = of->window_start;
	key->end_hi = of->window_end;
	key->flags = OFFERKEY_LEAF;
	if (of->has_location)
	{
		key->flags |= OFFERKEY_ANY_LOCATION;
		key->box.lat_lo = key->box.lat_hi = of->lat;
		key->box.lon_lo = key->box.lon_hi = of->lon;
	}
	else
		key->flags |= OFFERKEY_ANY_UNLOCATED;
}

static double
dmin(double a, double b)
{
	return a < b ? a : b;
}

static double
dmax(double a, double b)
{
	return a > b ? a : b;
}

void
offerkey_union(OfferKey *into, const OfferKey *o)
{
	into->roles |= o->roles;
	into->sources |= o->sources;
	if (into->currency != o->currency)
		into->currency = OFFERKEY_MIXED_CURRENCY;
	into->currency_sig |= o->currency_sig;
	into->credential_sig |= o->credential_sig;
	into->attribute_sig |= o->attribute_sig;
	into->price_lo = dmin(into->price_lo, o->price_lo);
	into->price_hi = dmax(into->price_hi, o->price_hi);
	into->min_kwh_lo = dmin(into->min_kwh_lo, o->min_kwh_lo);
	into->max_kwh_hi = dmax(into->max_kwh_hi, o->max_kwh_hi);
	into->max_kw_hi = dmax(into->max_kw_hi, o->max_kw_hi);
	if (o->start_lo < into->start_lo)
		into->start_lo = o->start_lo;
	if (o->end_hi > into->end_hi)
		into->end_hi = o->end_hi;
	if (o->flags & OFFERKEY_ANY_LOCATION)
	{
		if (into->flags & OFFERKEY_ANY_LOCATION)
		{
			into->box.lat_lo = dmin(into->box.lat_lo, o->box.lat_lo);
			into->box.lat_hi = dmax(into->box.lat_hi, o->box.lat_hi);
			into->box.lon_lo = dmin(into->box.lon_lo, o->box.lon_lo);
			into->box.lon_hi = dmax(into->box.lon_hi, o->box.lon_hi);
		}
		else
			into->box = o->box;
	}
	into->flags = (into->flags | o->flags) & ~OFFERKEY_LEAF;
}

static double
box_area(const GeoBox *b)
{
	return (b->lat_hi - b->lat_lo + 1e-6) * (b->lon_hi - b->lon_lo + 1e-6);
}

static int
popcount64(uint64_t x)
{
	int			n = 0;

	while (x)
	{
		x &= x - 1;
		n++;
	}
	return n;
}

/*
 * The cost of adding `add` under `orig`: chiefly the growth of the
 * geographic box (radius searches prune on it), then of the price range
 * (ordering by price), then of the signatures.
 */
double
offerkey_penalty(const OfferKey *orig, const OfferKey *add)
{
	double		penalty = 0.0;

	if (add->flags & OFFERKEY_ANY_LOCATION)
	{
		if (orig->flags & OFFERKEY_ANY_LOCATION)
		{
			GeoBox		u = orig->box;

			u.lat_lo = dmin(u.lat_lo, add->box.lat_lo);
			u.lat_hi = dmax(u.lat_hi, add->box.lat_hi);
			u.lon_lo = dmin(u.lon_lo, add->box.lon_lo);
			u.lon_hi = dmax(u.lon_hi, add->box.lon_hi);
			penalty += (box_area(&u) - box_area(&orig->box)) * 1e4;
		}
		else
			penalty += 1e6;
	}
	else if (!(orig->flags & OFFERKEY_ANY_UNLOCATED))
		penalty += 1e6;
	if (isfinite(add->price_lo) && isfinite(orig->price_lo))
	{
		double		grow = dmax(0.0, orig->price_lo - add->price_lo) +
			dmax(0.0, add->price_hi - orig->price_hi);

		penalty += grow / (1.0 + fabs(orig->price_hi));
	}
	penalty += 1e-3 * popcount64((add->credential_sig | add->attribute_sig) &
								 ~(orig->credential_sig | orig->attribute_sig));
	return penalty;
}

bool
offerkey_consistent(const OfferKey *key, const DegIntent *in, bool *recheck)
{
	bool		leaf = (key->flags & OFFERKEY_LEAF) != 0;

	*recheck = false;
	if (!(key->roles & (1u << in->role)))
		return false;
	if (in->has_quantity && (key->min_kwh_lo > in->quantity_kwh || key->max_kwh_hi < in->quantity_kwh))
		return false;
	if (in->window_start != DEG_TS_NOBEGIN && key->start_lo > in->window_start)
		return false;
	if (in->window_end != DEG_TS_NOEND && key->end_hi < in->window_end)
		return false;
	if (in->currency != 0)
	{
		if (key->currency == 0)
			return false;
		if (key->currency != OFFERKEY_MIXED_CURRENCY && key->currency != in->currency)
			return false;
		if (key->currency == OFFERKEY_MIXED_CURRENCY && !(key->currency_sig & (1ULL << (in->currency % 64))))
			return false;
	}
	if (in->has_max_price && !(key->price_lo <= in->max_price))
		return false;
	if (in->source_mask != 0 && !(key->sources & in->source_mask))
		return false;
	if (in->has_min_kw && !(key->max_kw_hi >= in->min_kw))
		return false;
	if (in->has_point)
	{
		double		dist;

		if (!(key->flags & OFFERKEY_ANY_LOCATION))
			return false;
		/* at a leaf, the very function the operator uses, so both agree to the bit */
		dist = leaf ? geo_distance_m(in->lat, in->lon, key->box.lat_lo, key->box.lon_lo)
			: geo_box_min_distance_m(in->lat, in->lon, &key->box);
		if (dist > in->radius_m)
			return false;
	}
	if ((in->credential_sig & ~key->credential_sig) != 0)
		return false;
	if (in->has_attributes && (in->attribute_sig & ~key->attribute_sig) != 0)
		return false;
	/* signatures are Bloom filters: a leaf that passes them still needs the exact test */
	if (in->credential_types.count > 0 || in->has_attributes)
		*recheck = true;
	return true;
}

double
offerkey_order_lower_bound(const OfferKey *key, const DegIntent *in)
{
	double		dist = 0.0;

	if (!isfinite(key->price_lo))
		return HUGE_VAL;
	if (in->has_point && (key->flags & OFFERKEY_ANY_LOCATION))
	{
		if (key->flags & OFFERKEY_LEAF)
			dist = geo_distance_m(in->lat, in->lon, key->box.lat_lo, key->box.lon_lo);
		else if (!(key->flags & OFFERKEY_ANY_UNLOCATED))
			dist = geo_box_min_distance_m(in->lat, in->lon, &key->box);
	}
	return deg_order_value(true, key->price_lo, dist);
}

typedef struct SplitItem
{
	double		primary;
	double		secondary;
	int			index;
} SplitItem;

static int
split_item_cmp(const void *a, const void *b)
{
	const SplitItem *x = a;
	const SplitItem *y = b;

	if (x->primary != y->primary)
		return x->primary < y->primary ? -1 : 1;
	if (x->secondary != y->secondary)
		return x->secondary < y->secondary ? -1 : 1;
	return x->index - y->index;
}

void
offerkey_picksplit(const OfferKey *keys, int n, unsigned char *side)
{
	SplitItem  *items = deg_alloc(sizeof(SplitItem) * (size_t) (n > 0 ? n : 1));
	double		lat_lo = HUGE_VAL,
				lat_hi = -HUGE_VAL,
				lon_lo = HUGE_VAL,
				lon_hi = -HUGE_VAL;
	double		lat_mid;
	int			i;
	int			axis;			/* 0 latitude, 1 longitude, 2 price */

	if (items == NULL)
	{
		/* no memory for a sort (only outside the server): alternate */
		for (i = 0; i < n; i++)
			side[i] = (unsigned char) (i & 1);
		return;
	}
	for (i = 0; i < n; i++)
		if (keys[i].flags & OFFERKEY_ANY_LOCATION)
		{
			lat_lo = dmin(lat_lo, (keys[i].box.lat_lo + keys[i].box.lat_hi) / 2);
			lat_hi = dmax(lat_hi, (keys[i].box.lat_lo + keys[i].box.lat_hi) / 2);
			lon_lo = dmin(lon_lo, (keys[i].box.lon_lo + keys[i].box.lon_hi) / 2);
			lon_hi = dmax(lon_hi, (keys[i].box.lon_lo + keys[i].box.lon_hi) / 2);
		}
	lat_mid = isfinite(lat_lo) ? (lat_lo + lat_hi) / 2 : 0.0;
	/* compare extents in kilometres: a degree of longitude shrinks with cos(lat) */
	if (!isfinite(lat_lo) || (lat_hi - lat_lo < 1e-7 && lon_hi - lon_lo < 1e-7))
		axis = 2;
	else if (lat_hi - lat_lo >= (lon_hi - lon_lo) * cos(lat_mid * 3.14159265358979323846 / 180.0))
		axis = 0;
	else
		axis = 1;

	for (i = 0; i < n; i++)
	{
		const OfferKey *k = &keys[i];
		double		price = isfinite(k->price_lo) ? k->price_lo : HUGE_VAL;

		items[i].index = i;
		if (axis == 2 || !(k->flags & OFFERKEY_ANY_LOCATION))
		{
			/* unlocated offers go last on a geographic axis */
			items[i].primary = (axis == 2) ? price : HUGE_VAL;
			items[i].secondary = price;
		}
		else
		{
			items[i].primary = axis == 0 ? (k->box.lat_lo + k->box.lat_hi) / 2
				: (k->box.lon_lo + k->box.lon_hi) / 2;
			items[i].secondary = price;
		}
	}
	qsort(items, (size_t) n, sizeof(SplitItem), split_item_cmp);
	for (i = 0; i < n; i++)
		side[items[i].index] = (unsigned char) (i < n / 2 ? 0 : 1);
	deg_free(items);
}
