/*
 * fuzz_offer.c: the match rule and the GiST key of offers
 * (src/core/offer.c, src/core/geo.c).
 *
 * The input describes up to 12 offers and one intent with the values the
 * glue lets through (finite non-negative numbers, latitudes in [-90, 90],
 * longitudes in [-180, 180], any timestamps), drawn often from the edges:
 * equal bounds, the poles and the antimeridian, 1e308, a radius that is
 * exactly an offer's distance.  What the index relies on is checked:
 *
 *  - deg_match gives the same answer with and without explanations, and
 *    explains every field;
 *  - a leaf key is exact: consistent iff the offer matches, unless it asks
 *    for a recheck, and then only credentials or attributes can fail;
 *  - no key above offers (a union, the halves of a picksplit) rejects an
 *    intent one of them matches, and its order lower bound is at most the
 *    offer's order value (a leaf's is exactly that);
 *  - a penalty is never negative or NaN, and 0 for a key already covered;
 *  - picksplit puts every key on side 0 or 1, both sides non-empty.
 */
#include "core/offer.h"
#include "fuzz.h"

#include <float.h>
#include <math.h>

#define MAXOFFERS 12
#define NVOCAB 6

/* credential types and attribute pairs come from small vocabularies, so they overlap */
static const char *const cred_vocab[NVOCAB] = {
	"GridConnectionCredential", "MeterCredential", "ProsumerCredential",
	"EVChargerCredential", "x", ""
};
static const char *const attr_vocab[NVOCAB] = {
	"carbon=low", "carbon", "tier=1", "tier=2", "region=south", "region"
};
static const char *const currencies[4] = {"EUR", "usd", "GBP", "INR"};

typedef struct Strings
{
	const char *items[NVOCAB];
	size_t		lens[NVOCAB];
	uint64_t	sig;
	unsigned	mask;
} Strings;

static void
strings_from(Strings *s, const char *const *vocab, unsigned mask, DegStrings *out)
{
	int			i;

	s->sig = 0;
	s->mask = mask;
	out->count = 0;
	for (i = 0; i < NVOCAB; i++)
		if (mask & (1u << i))
		{
			s->items[out->count] = vocab[i];
			s->lens[out->count] = strlen(vocab[i]);
			s->sig |= deg_signature(vocab[i], strlen(vocab[i]));
			out->count++;
		}
	out->items = s->items;
	out->lens = s->lens;
}

/* a finite, non-negative number, often an edge or one of the earlier ones */
static double pool[16];
static int	npool;

static double
number(FuzzReader *r)
{
	uint8_t		mode = fuzz_u8(r);
	double		v;

	switch (mode % 8)
	{
		case 0:
			v = (double) fuzz_u64(r, 2) / 100.0;
			break;
		case 1:
			v = (double) fuzz_u64(r, 1);
			break;
		case 2:
			{
				uint64_t	bits = fuzz_u64(r, 8);

				memcpy(&v, &bits, sizeof(v));
				v = fabs(v);
				if (!isfinite(v))
					v = DBL_MAX;
				break;
			}
		case 3:
			{
				static const double edges[] = {0.0, 1.0, 1e308, DBL_MAX, DBL_MIN, 4294.967295,
				4294.9672955, 0.1, 0.3, 1e-7, 5e-324, 1e15};

				v = edges[(mode >> 3) % (sizeof(edges) / sizeof(edges[0]))];
				break;
			}
		case 4:
		case 5:
			if (npool > 0)
			{
				v = pool[(mode >> 3) % npool];
				if (mode & 0x80)
					v = nextafter(v, (mode & 0x40) ? DBL_MAX : 0.0);
				break;
			}
			/* FALLTHROUGH */
		default:
			v = (double) fuzz_u64(r, 3) / 1000.0;
			break;
	}
	if (npool < 16)
		pool[npool++] = v;
	return v;
}

static double
coordinate(FuzzReader *r, double limit)
{
	uint8_t		mode = fuzz_u8(r);

	switch (mode % 6)
	{
		case 0:
			return limit;
		case 1:
			return -limit;
		case 2:
			return 0.0;
		case 3:
			/* near the edge, to the last bits */
			return (mode & 0x80 ? -1 : 1) * nextafter(limit, 0.0) * (1.0 - (double) fuzz_u8(r) * 1e-12);
		default:
			return ((double) fuzz_u64(r, 4) / 4294967295.0 * 2.0 - 1.0) * limit;
	}
}

static int64_t
timestamp(FuzzReader *r, bool start)
{
	uint8_t		mode = fuzz_u8(r);

	switch (mode % 5)
	{
		case 0:
			return start ? DEG_TS_NOBEGIN : DEG_TS_NOEND;
		case 1:
			return (int64_t) fuzz_u64(r, 8);
		case 2:
			return (int64_t) (mode >> 3) * 900000000;	/* a few quarter hours */
		default:
			return (int64_t) fuzz_u64(r, 4) * 1000000 - INT64_C(2000000000000000);
	}
}

typedef struct Offer
{
	DegOffer	of;
	Strings		creds;
	Strings		attrs;
} Offer;

static void
gen_offer(FuzzReader *r, Offer *o)
{
	uint16_t	flags = (uint16_t) fuzz_u64(r, 2);
	uint8_t		cur = fuzz_u8(r);

	memset(&o->of, 0, sizeof(o->of));
	o->of.role = fuzz_u8(r) % DEG_ROLE_COUNT;
	o->of.source = (int) (fuzz_u8(r) % (DEG_SOURCE_COUNT + 1)) - 1;
	o->of.currency = cur % 5 == 4 ? 0 : deg_currency_pack(currencies[cur % 5], 3);
	if ((o->of.has_price = flags & 1))
		o->of.price = number(r);
	if ((o->of.has_min_kwh = flags & 2))
		o->of.min_kwh = number(r);
	if ((o->of.has_max_kwh = flags & 4))
		o->of.max_kwh = number(r);
	if ((o->of.has_min_kw = flags & 8))
		o->of.min_kw = number(r);
	if ((o->of.has_max_kw = flags & 16))
		o->of.max_kw = number(r);
	if ((o->of.has_location = flags & 32))
	{
		o->of.lat = coordinate(r, 90.0);
		o->of.lon = coordinate(r, 180.0);
	}
	o->of.window_start = flags & 64 ? timestamp(r, true) : DEG_TS_NOBEGIN;
	o->of.window_end = flags & 128 ? timestamp(r, false) : DEG_TS_NOEND;
	strings_from(&o->creds, cred_vocab, (flags >> 8) & 0x3F, &o->of.credential_types);
	o->of.credential_sig = o->creds.sig;
	{
		DegStrings	unused;

		strings_from(&o->attrs, attr_vocab, fuzz_u8(r) & 0x3F, &unused);
	}
	o->of.attribute_sig = o->attrs.sig;
}

typedef struct Intent
{
	DegIntent	in;
	Strings		creds;
	Strings		attrs;
} Intent;

static void
gen_intent(FuzzReader *r, Intent *t, const Offer *offers, int n)
{
	uint16_t	flags = (uint16_t) fuzz_u64(r, 2);
	uint8_t		cur = fuzz_u8(r);

	memset(t, 0, sizeof(*t));
	t->in.role = fuzz_u8(r) % DEG_ROLE_COUNT;
	if ((t->in.has_quantity = flags & 1))
		t->in.quantity_kwh = number(r);
	t->in.window_start = flags & 2 ? timestamp(r, true) : DEG_TS_NOBEGIN;
	t->in.window_end = flags & 4 ? timestamp(r, false) : DEG_TS_NOEND;
	t->in.currency = cur % 5 == 4 ? 0 : deg_currency_pack(currencies[cur % 5], 3);
	if ((t->in.has_max_price = flags & 8))
		t->in.max_price = number(r);
	if (flags & 16)
	{
		static const char *const accepted[] = {"SOLAR", "wind", "RENEWABLE", "Battery", "GRID", "other"};
		uint8_t		m = fuzz_u8(r);
		int			i;

		for (i = 0; i < 6; i++)
			if (m & (1u << i))
				t->in.source_mask |= deg_source_mask_from_name(accepted[i], strlen(accepted[i]));
	}
	if ((t->in.has_point = flags & 32))
	{
		uint8_t		how = fuzz_u8(r);

		t->in.lat = coordinate(r, 90.0);
		t->in.lon = coordinate(r, 180.0);
		if (how % 3 != 0 && n > 0 && offers[how % n].of.has_location)
		{
			/* exactly the distance to an offer, or the next double below or above it */
			t->in.radius_m = deg_match_distance_m(&t->in, &offers[how % n].of);
			if (how & 0x40)
				t->in.radius_m = nextafter(t->in.radius_m, (how & 0x80) ? DBL_MAX : 0.0);
		}
		else
			t->in.radius_m = number(r);
	}
	if ((t->in.has_min_kw = flags & 64))
		t->in.min_kw = number(r);
	strings_from(&t->creds, cred_vocab, (flags >> 8) & 0x3F, &t->in.credential_types);
	t->in.credential_sig = t->creds.sig;
	if ((t->in.has_attributes = flags & 128))
	{
		DegStrings	unused;

		strings_from(&t->attrs, attr_vocab, fuzz_u8(r) & 0x3F, &unused);
		t->in.attribute_sig = t->attrs.sig;
	}
}

/* the offer's attributes contain the intent's (the containment the glue tests on JSON) */
static bool
attributes_ok(const Intent *t, const Offer *o)
{
	return (t->attrs.mask & ~o->attrs.mask) == 0;
}

static void
check_leaf(const Intent *t, const Offer *o, int i, bool matches, const DegMatchResult *res)
{
	OfferKey	key;
	bool		recheck = true;
	bool		consistent;
	int			f;
	double		value = deg_order_value(o->of.has_price, o->of.price, deg_match_distance_m(&t->in, &o->of));
	double		lb;

	offerkey_from_offer(&key, &o->of);
	consistent = offerkey_consistent(&key, &t->in, &recheck);
	if (matches)
		FUZZ_ASSERT(consistent, "offer %d matches but its leaf key is not consistent", i);
	else if (consistent && !recheck)
		FUZZ_ASSERT(false, "offer %d does not match but its leaf key is consistent without a recheck", i);
	else if (consistent)
		for (f = 0; f < DEG_MATCH_CREDENTIALS; f++)
			FUZZ_ASSERT(res[f].ok, "offer %d: leaf key consistent (recheck) but %s fails: %s",
						i, deg_match_field_name(f), res[f].detail);
	lb = offerkey_order_lower_bound(&key, &t->in);
	FUZZ_ASSERT(!isnan(lb) && !isnan(value), "offer %d: NaN order value", i);
	if (!t->in.has_point || o->of.has_location)
		FUZZ_ASSERT(lb == value, "offer %d: a leaf's order bound %.17g is not its order value %.17g", i, lb, value);
	else
		FUZZ_ASSERT(lb <= value, "offer %d: order bound %.17g above the order value %.17g", i, lb, value);
}

/* a key above offers[members]: consistent with every match below it, bounds below the values */
static void
check_inner(const Intent *t, const Offer *offers, const bool *match, const int *members, int m,
			const char *what)
{
	OfferKey	key,
				leaf;
	bool		recheck;
	int			j;
	double		lb;

	if (m == 0)
		return;
	offerkey_from_offer(&key, &offers[members[0]].of);
	for (j = 1; j < m; j++)
	{
		offerkey_from_offer(&leaf, &offers[members[j]].of);
		offerkey_union(&key, &leaf);
	}
	lb = offerkey_order_lower_bound(&key, &t->in);
	FUZZ_ASSERT(!isnan(lb), "%s: NaN order bound", what);
	for (j = 0; j < m; j++)
	{
		const Offer *o = &offers[members[j]];
		double		value = deg_order_value(o->of.has_price, o->of.price, deg_match_distance_m(&t->in, &o->of));
		double		penalty;

		if (match[members[j]])
			FUZZ_ASSERT(offerkey_consistent(&key, &t->in, &recheck),
						"%s: offer %d matches but the key above %d offers is not consistent", what, members[j], m);
		FUZZ_ASSERT(lb <= value, "%s: order bound %.17g above offer %d's value %.17g", what, lb, members[j], value);
		offerkey_from_offer(&leaf, &o->of);
		penalty = offerkey_penalty(&key, &leaf);
		FUZZ_ASSERT(penalty == 0.0, "%s: penalty %.17g of offer %d under a key that covers it", what, penalty,
					members[j]);
		penalty = offerkey_penalty(&leaf, &key);
		FUZZ_ASSERT(penalty >= 0.0, "%s: penalty %.17g (NaN or negative)", what, penalty);
	}
}

/* FUZZ_DUMP=1 fuzz_offer <input>: show the offers and the intent */
static void
dump(const Intent *t, const Offer *offers, int n)
{
	int			i;

	fprintf(stderr, "intent: role %d qty %d %.17g window %lld %lld cur %u maxprice %d %.17g sources %x "
			"point %d %.17g %.17g radius %.17g minkw %d %.17g creds %x attrs %d %x\n",
			t->in.role, t->in.has_quantity, t->in.quantity_kwh, (long long) t->in.window_start,
			(long long) t->in.window_end, t->in.currency, t->in.has_max_price, t->in.max_price,
			t->in.source_mask, t->in.has_point, t->in.lat, t->in.lon, t->in.radius_m, t->in.has_min_kw,
			t->in.min_kw, t->creds.mask, t->in.has_attributes, t->attrs.mask);
	for (i = 0; i < n; i++)
	{
		const DegOffer *o = &offers[i].of;

		fprintf(stderr, "offer %d: role %d source %d cur %u price %d %.17g kwh %d %.17g %d %.17g "
				"kw %d %.17g %d %.17g loc %d %.17g %.17g window %lld %lld creds %x attrs %x\n",
				i, o->role, o->source, o->currency, o->has_price, o->price, o->has_min_kwh, o->min_kwh,
				o->has_max_kwh, o->max_kwh, o->has_min_kw, o->min_kw, o->has_max_kw, o->max_kw,
				o->has_location, o->lat, o->lon, (long long) o->window_start, (long long) o->window_end,
				offers[i].creds.mask, offers[i].attrs.mask);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzReader	r;
	Offer		offers[MAXOFFERS];
	Intent		t;
	bool		match[MAXOFFERS];
	int			members[MAXOFFERS];
	OfferKey	keys[MAXOFFERS];
	unsigned char side[MAXOFFERS];
	int			n,
				i,
				s,
				m;

	fuzz_reader_init(&r, data, size);
	npool = 0;
	n = 1 + fuzz_u8(&r) % MAXOFFERS;
	for (i = 0; i < n; i++)
		gen_offer(&r, &offers[i]);
	gen_intent(&r, &t, offers, n);
	if (getenv("FUZZ_DUMP") != NULL)
		dump(&t, offers, n);

	for (i = 0; i < n; i++)
	{
		DegMatchResult res[DEG_MATCH_FIELDS];
		bool		ok = attributes_ok(&t, &offers[i]);
		bool		all = true;
		int			f;

		memset(res, 0, sizeof(res));
		match[i] = deg_match(&t.in, &offers[i].of, ok, NULL);
		FUZZ_ASSERT(deg_match(&t.in, &offers[i].of, ok, res) == match[i],
					"offer %d: deg_match differs with explanations", i);
		for (f = 0; f < DEG_MATCH_FIELDS; f++)
		{
			FUZZ_ASSERT(res[f].detail[0] != '\0', "offer %d: %s not explained", i, deg_match_field_name(f));
			all = all && res[f].ok;
		}
		FUZZ_ASSERT(all == match[i], "offer %d: the fields' verdicts disagree with deg_match", i);
		check_leaf(&t, &offers[i], i, match[i], res);
		members[i] = i;
	}
	check_inner(&t, offers, match, members, n, "union of all");

	/* the halves of a page split */
	for (i = 0; i < n; i++)
		offerkey_from_offer(&keys[i], &offers[i].of);
	memset(side, 0xAA, sizeof(side));
	offerkey_picksplit(keys, n, side);
	for (s = 0; s < 2; s++)
	{
		m = 0;
		for (i = 0; i < n; i++)
		{
			FUZZ_ASSERT(side[i] <= 1, "picksplit side %d of key %d", side[i], i);
			if (side[i] == s)
				members[m++] = i;
		}
		FUZZ_ASSERT(n < 2 || m > 0, "picksplit leaves side %d empty", s);
		check_inner(&t, offers, match, members, m, s ? "right half" : "left half");
	}
	return 0;
}
