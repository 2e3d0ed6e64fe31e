/*
 * test_offer.c: the geo functions, the match rule and the GiST key algebra
 * of src/core/offer.c, including the properties the index depends on.
 */
#include "core/offer.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double
urand(double lo, double hi)
{
	return lo + (hi - lo) * ((double) (rng() >> 11) / 9007199254740992.0);
}

static void
test_geo(void)
{
	double		one_degree = 3.14159265358979323846 / 180.0 * GEO_EARTH_RADIUS_M;
	int			i;
	int			bad = 0;

	CHECK(fabs(geo_distance_m(0, 0, 1, 0) - one_degree) < 1e-6, "one degree of latitude");
	CHECK(fabs(geo_distance_m(0, 0, 0, 1) - one_degree) < 1e-6, "one degree of longitude at the equator");
	CHECK(fabs(geo_distance_m(60, 10, 60, 11) - 55597.5) < 50, "a degree of longitude at 60N is about half: %f",
		  geo_distance_m(60, 10, 60, 11));
	CHECK(fabs(geo_distance_m(0, 179.5, 0, -179.5) - one_degree) < 1e-6, "across the antimeridian");
	CHECK(geo_distance_m(12.9716, 77.5946, 12.9716, 77.5946) == 0.0, "zero distance");
	/* Bengaluru MG Road to the airport: about 29.8 km as the crow flies */
	CHECK(fabs(geo_distance_m(12.9756, 77.6066, 13.1986, 77.7066) - 27145) < 500, "a known city distance: %f",
		  geo_distance_m(12.9756, 77.6066, 13.1986, 77.7066));
	CHECK(fabs(geo_distance_m(90, 0, -90, 0) - 3.14159265358979323846 * GEO_EARTH_RADIUS_M) < 1e-3, "pole to pole");
	CHECK(!geo_valid(91, 0) && !geo_valid(0, 181) && !geo_valid(NAN, 0) && geo_valid(-90, -180), "ranges");

	/* the box bound never exceeds the distance to any point inside the box */
	for (i = 0; i < 200000; i++)
	{
		GeoBox		b;
		double		lat = urand(-89, 89),
					lon = urand(-180, 180);
		double		plat,
					plon,
					bound;

		b.lat_lo = urand(-89, 89);
		b.lat_hi = b.lat_lo + urand(0, i % 2 ? 0.5 : 20);
		if (b.lat_hi > 90)
			b.lat_hi = 90;
		b.lon_lo = urand(-180, 179);
		b.lon_hi = b.lon_lo + urand(0, i % 3 ? 0.5 : 40);
		if (b.lon_hi > 180)
			b.lon_hi = 180;
		if (i % 5 == 0)
		{
			/* a nearby query point, the case that matters for radius searches */
			lat = b.lat_lo + urand(-1, 1);
			lon = b.lon_lo + urand(-1, 1);
			if (lat > 90 || lat < -90 || lon < -180 || lon > 180)
				continue;
		}
		plat = urand(b.lat_lo, b.lat_hi);
		plon = urand(b.lon_lo, b.lon_hi);
		bound = geo_box_min_distance_m(lat, lon, &b);
		if (bound > geo_distance_m(lat, lon, plat, plon) + 1e-6)
			bad++;
	}
	CHECK(bad == 0, "box distance is a lower bound (%d violations)", bad);
}

static DegOffer
base_offer(void)
{
	DegOffer	o;

	memset(&o, 0, sizeof(o));
	o.role = DEG_ROLE_BUYER;
	o.source = DEG_SOURCE_SOLAR;
	o.currency = deg_currency_pack("INR", 3);
	o.has_price = true;
	o.price = 18.0;
	o.has_min_kwh = true;
	o.min_kwh = 1;
	o.has_max_kwh = true;
	o.max_kwh = 60;
	o.has_max_kw = true;
	o.max_kw = 60;
	o.has_location = true;
	o.lat = 12.9716;
	o.lon = 77.5946;
	o.window_start = 0;
	o.window_end = 86400000000LL;
	return o;
}

static DegIntent
open_intent(void)
{
	DegIntent	in;

	memset(&in, 0, sizeof(in));
	in.role = DEG_ROLE_BUYER;
	in.window_start = DEG_TS_NOBEGIN;
	in.window_end = DEG_TS_NOEND;
	return in;
}

static void
test_names(void)
{
	char		cur[4];

	CHECK(deg_role_from_name("SELLER", 6) == DEG_ROLE_SELLER, "role by name");
	CHECK(deg_role_from_name("seller", 6) == DEG_ROLE_SELLER, "role names are case-insensitive");
	CHECK(deg_role_from_name("SELLR", 5) == -1, "unknown role");
	CHECK(strcmp(deg_role_name(DEG_ROLE_GRID_OPERATOR), "GRID_OPERATOR") == 0, "role name");
	CHECK(deg_source_from_name("wind", 4) == DEG_SOURCE_WIND, "source by name");
	CHECK(deg_source_mask_from_name("RENEWABLE", 9) == DEG_SOURCES_RENEWABLE, "RENEWABLE expands");
	CHECK(deg_source_mask_from_name("COALX", 5) == 0, "unknown source");
	CHECK(deg_currency_pack("inr", 3) == deg_currency_pack("INR", 3) && deg_currency_pack("INR", 3) != 0, "currency");
	CHECK(deg_currency_pack("IN", 2) == 0 && deg_currency_pack("IN1", 3) == 0 && deg_currency_pack("INRR", 4) == 0,
		  "bad currency codes");
	deg_currency_unpack(deg_currency_pack("usd", 3), cur);
	CHECK_STR(cur, "USD", "currency unpack");
}

static void
test_timestamps(void)
{
	char		buf[40];

	deg_format_timestamp(0, buf);
	CHECK_STR(buf, "2000-01-01 00:00:00Z", "PostgreSQL epoch");
	deg_format_timestamp(-1, buf);
	CHECK_STR(buf, "1999-12-31 23:59:59Z", "just before the epoch");
	/* 2024-10-04 10:00:00Z = 9043 days + 10 h = 781351200 s after 2000-01-01 */
	deg_format_timestamp(781351200LL * 1000000, buf);
	CHECK_STR(buf, "2024-10-04 10:00:00Z", "a DEG example time");
	deg_format_timestamp(DEG_TS_NOEND, buf);
	CHECK_STR(buf, "infinity", "open end");
}

static void
test_match_rules(void)
{
	DegOffer	o = base_offer();
	DegIntent	in = open_intent();
	DegMatchResult r[DEG_MATCH_FIELDS];
	const char *creds_o[] = {"EVSESafetyCertification", "GreenEnergyCertificate"};
	size_t		lens_o[] = {23, 22};
	const char *creds_i[] = {"GreenEnergyCertificate"};
	size_t		lens_i[] = {22};
	const char *creds_x[] = {"SafetyCertificate"};
	size_t		lens_x[] = {17};

	CHECK(deg_match(&in, &o, true, NULL), "an empty intent matches any offer of its role");
	CHECK(deg_match(&in, &o, true, r) && strcmp(r[DEG_MATCH_PRICE].detail, "not constrained by the intent") == 0,
		  "explained: unconstrained");

	in.role = DEG_ROLE_SELLER;
	CHECK(!deg_match(&in, &o, true, NULL), "role differs");
	deg_match(&in, &o, true, r);
	CHECK(!r[DEG_MATCH_ROLE].ok && strstr(r[DEG_MATCH_ROLE].detail, "open for BUYER") != NULL, "role explained: %s",
		  r[DEG_MATCH_ROLE].detail);
	in.role = DEG_ROLE_BUYER;

	in.has_quantity = true;
	in.quantity_kwh = 60;
	CHECK(deg_match(&in, &o, true, NULL), "quantity at the maximum");
	in.quantity_kwh = 60.5;
	CHECK(!deg_match(&in, &o, true, NULL), "quantity above the maximum");
	in.quantity_kwh = 0.5;
	CHECK(!deg_match(&in, &o, true, NULL), "quantity below the minimum");
	in.has_quantity = false;

	in.window_start = 3600000000LL;
	in.window_end = 7200000000LL;
	CHECK(deg_match(&in, &o, true, NULL), "window inside");
	in.window_end = 86400000000LL + 1;
	CHECK(!deg_match(&in, &o, true, NULL), "window ends after the offer's");
	in.window_start = -1;
	in.window_end = DEG_TS_NOEND;
	CHECK(!deg_match(&in, &o, true, NULL), "window starts before the offer's");
	in.window_start = DEG_TS_NOBEGIN;
	in.window_end = 86400000000LL;
	CHECK(deg_match(&in, &o, true, NULL), "a deadline alone constrains only the end");
	in.window_end = DEG_TS_NOEND;

	in.currency = deg_currency_pack("INR", 3);
	in.has_max_price = true;
	in.max_price = 18.0;
	CHECK(deg_match(&in, &o, true, NULL), "price equal to the maximum");
	in.max_price = 17.99;
	CHECK(!deg_match(&in, &o, true, NULL), "price above the maximum");
	in.max_price = 20;
	in.currency = deg_currency_pack("USD", 3);
	CHECK(!deg_match(&in, &o, true, NULL), "currency differs");
	in.currency = deg_currency_pack("INR", 3);
	o.has_price = false;
	CHECK(!deg_match(&in, &o, true, NULL), "an offer without a price fails a price limit");
	o.has_price = true;
	in.has_max_price = false;
	in.currency = 0;

	in.source_mask = DEG_SOURCES_RENEWABLE;
	CHECK(deg_match(&in, &o, true, NULL), "solar is renewable");
	o.source = DEG_SOURCE_COAL;
	CHECK(!deg_match(&in, &o, true, NULL), "coal is not");
	o.source = DEG_SOURCE_NONE;
	CHECK(!deg_match(&in, &o, true, NULL), "an unstated source fails a source constraint");
	o.source = DEG_SOURCE_SOLAR;
	in.source_mask = 0;

	in.has_point = true;
	in.lat = 12.94;
	in.lon = 77.59;
	in.radius_m = 10000;
	CHECK(deg_match(&in, &o, true, NULL), "within 10 km");
	in.radius_m = 3000;
	CHECK(!deg_match(&in, &o, true, NULL), "not within 3 km (%.0f m)", deg_match_distance_m(&in, &o));
	o.has_location = false;
	in.radius_m = 1e7;
	CHECK(!deg_match(&in, &o, true, NULL), "an offer without a location fails a radius");
	o.has_location = true;
	in.has_point = false;

	in.has_min_kw = true;
	in.min_kw = 50;
	CHECK(deg_match(&in, &o, true, NULL), "power enough");
	in.min_kw = 61;
	CHECK(!deg_match(&in, &o, true, NULL), "power not enough");
	in.has_min_kw = false;

	o.credential_types.items = creds_o;
	o.credential_types.lens = lens_o;
	o.credential_types.count = 2;
	in.credential_types.items = creds_i;
	in.credential_types.lens = lens_i;
	in.credential_types.count = 1;
	CHECK(deg_match(&in, &o, true, NULL), "credential types are a superset");
	in.credential_types.items = creds_x;
	in.credential_types.lens = lens_x;
	CHECK(!deg_match(&in, &o, true, r) && strstr(r[DEG_MATCH_CREDENTIALS].detail, "SafetyCertificate") != NULL,
		  "a missing credential type is named");
	in.credential_types.count = 0;

	in.has_attributes = true;
	CHECK(deg_match(&in, &o, true, NULL) && !deg_match(&in, &o, false, NULL), "attributes as decided by the caller");

	/* explanation evaluates every field even after a failure */
	in.role = DEG_ROLE_SELLER;
	in.has_min_kw = true;
	in.min_kw = 100;
	CHECK(!deg_match(&in, &o, true, r) && !r[DEG_MATCH_ROLE].ok && !r[DEG_MATCH_POWER].ok && r[DEG_MATCH_QUANTITY].ok,
		  "all fields explained");
}

static void
test_order(void)
{
	CHECK(deg_order_value(true, 0.15, 5000) < deg_order_value(true, 0.150001, 0), "price first");
	CHECK(deg_order_value(true, 0.15, 10) < deg_order_value(true, 0.15, 20), "then distance");
	CHECK(deg_order_value(true, 4000, 20000000) < deg_order_value(true, 4000.000001, 0), "exact up to large prices");
	CHECK(deg_order_value(true, 1e9, 0) < deg_order_value(false, 0, 0), "no price sorts last");
	CHECK(deg_order_value(true, 0.0625, 0) == 62500.0 * 2097152.0, "packing");
}

static DegOffer
random_offer(void)
{
	DegOffer	o;

	memset(&o, 0, sizeof(o));
	o.role = (int) (rng() % 3);
	o.source = (rng() % 5 == 0) ? DEG_SOURCE_NONE : (int) (rng() % 4);
	o.currency = deg_currency_pack(rng() % 4 ? "INR" : "USD", 3);
	if (rng() % 10 == 0)
		o.currency = 0;
	o.has_price = rng() % 8 != 0;
	o.price = floor(urand(0, 30) * 100) / 100;
	o.has_min_kwh = rng() % 2;
	o.min_kwh = floor(urand(0, 10));
	o.has_max_kwh = rng() % 2;
	o.max_kwh = o.min_kwh + floor(urand(0, 100));
	o.has_max_kw = rng() % 4 != 0;
	o.max_kw = floor(urand(3, 150));
	o.has_location = rng() % 6 != 0;
	o.lat = urand(11.5, 18.5);
	o.lon = urand(74, 78.5);
	o.window_start = rng() % 5 == 0 ? DEG_TS_NOBEGIN : (int64_t) (rng() % 48) * 3600000000LL;
	o.window_end = rng() % 5 == 0 ? DEG_TS_NOEND : o.window_start + (int64_t) (1 + rng() % 48) * 3600000000LL;
	if (o.window_start == DEG_TS_NOBEGIN && o.window_end != DEG_TS_NOEND)
		o.window_end = (int64_t) (1 + rng() % 48) * 3600000000LL;
	return o;
}

static DegIntent
random_intent(void)
{
	DegIntent	in = open_intent();

	in.role = (int) (rng() % 3);
	if (rng() % 2)
	{
		in.has_quantity = true;
		in.quantity_kwh = floor(urand(0, 80));
	}
	if (rng() % 2)
		in.window_start = (int64_t) (rng() % 48) * 3600000000LL;
	if (rng() % 2)
		in.window_end = (int64_t) (24 + rng() % 48) * 3600000000LL;
	if (rng() % 2)
	{
		in.currency = deg_currency_pack(rng() % 3 ? "INR" : "USD", 3);
		in.has_max_price = rng() % 3 != 0;
		in.max_price = floor(urand(0, 30) * 100) / 100;
	}
	if (rng() % 3 == 0)
		in.source_mask = (uint32_t) (rng() % 15) + 1;
	if (rng() % 2)
	{
		in.has_point = true;
		in.lat = urand(11.5, 18.5);
		in.lon = urand(74, 78.5);
		in.radius_m = urand(1000, 200000);
	}
	if (rng() % 3 == 0)
	{
		in.has_min_kw = true;
		in.min_kw = floor(urand(0, 100));
	}
	return in;
}

static void
test_key_properties(void)
{
	enum
	{
	N = 400};
	DegOffer	offers[N];
	OfferKey	leaves[N];
	unsigned char side[N];
	int			false_negative = 0,
				leaf_disagree = 0,
				bound_violation = 0,
				matches = 0;
	int			t,
				i;

	for (i = 0; i < N; i++)
	{
		offers[i] = random_offer();
		offerkey_from_offer(&leaves[i], &offers[i]);
	}
	for (t = 0; t < 3000; t++)
	{
		DegIntent	in = random_intent();
		int			lo = (int) (rng() % N);
		int			hi = lo + (int) (rng() % (N - lo));
		OfferKey	u = leaves[lo];
		bool		recheck;
		bool		any = false;
		double		bound;

		for (i = lo + 1; i <= hi; i++)
			offerkey_union(&u, &leaves[i]);
		bound = offerkey_order_lower_bound(&u, &in);
		for (i = lo; i <= hi; i++)
		{
			bool		m = deg_match(&in, &offers[i], true, NULL);
			bool		leaf = offerkey_consistent(&leaves[i], &in, &recheck);

			if (m != leaf)
				leaf_disagree++;
			if (m)
			{
				any = true;
				matches++;
				if (deg_order_value(offers[i].has_price, offers[i].price,
									deg_match_distance_m(&in, &offers[i])) < bound)
					bound_violation++;
			}
		}
		if (any && !offerkey_consistent(&u, &in, &recheck))
			false_negative++;
	}
	CHECK(matches > 1000, "the random workload has matches (%d)", matches);
	CHECK(leaf_disagree == 0, "a leaf key decides exactly as the match rule (%d disagree)", leaf_disagree);
	CHECK(false_negative == 0, "a union never rejects a subtree holding a match (%d)", false_negative);
	CHECK(bound_violation == 0, "the order lower bound holds for every match (%d)", bound_violation);

	offerkey_picksplit(leaves, N, side);
	{
		int			left = 0;

		for (i = 0; i < N; i++)
			left += side[i] == 0;
		CHECK(left == N / 2, "picksplit halves the entries (%d left)", left);
	}
	CHECK(offerkey_penalty(&leaves[0], &leaves[0]) < 1e-2, "no penalty to add an identical entry");
}

/*
 * Found by fuzz_offer: the box bound could exceed geo_distance_m of a point
 * in the box by rounding (one ulp here, up to 0.27 m near the antipode), so
 * an inner index key rejected an intent whose radius is exactly an offer's
 * distance although the offer matches.  No tolerance: the match rule and
 * the index must agree to the bit.
 */
static void
test_box_bound_rounding(void)
{
	DegOffer	a = base_offer(),
				b = base_offer();
	DegIntent	in = open_intent();
	OfferKey	u,
				leaf;
	bool		recheck;
	int			i,
				bad = 0;

	a.lat = b.lat = 89.999999997029988;
	a.lon = b.lon = 179.99999999405998;
	b.price = 33;
	in.has_point = true;
	in.lat = -57.529411764705877;
	in.lon = -115.05882352941175;
	in.radius_m = deg_match_distance_m(&in, &b);
	CHECK(in.radius_m == 16404544.777842503, "the distance: %.17g", in.radius_m);
	CHECK(deg_match(&in, &b, true, NULL), "the offer at exactly the radius matches");
	offerkey_from_offer(&u, &a);
	offerkey_from_offer(&leaf, &b);
	offerkey_union(&u, &leaf);
	CHECK(offerkey_consistent(&u, &in, &recheck), "the key above it is consistent");

	/* points near the antipode of the query, each a box of its own */
	for (i = 0; i < 200000; i++)
	{
		GeoBox		box;
		double		lat = urand(-90, 90),
					lon = urand(-180, 180);

		box.lat_lo = box.lat_hi = fmax(-90, fmin(90, -lat + urand(-1e-6, 1e-6)));
		box.lon_lo = lon + 180 + urand(-1e-6, 1e-6);
		if (box.lon_lo > 180)
			box.lon_lo -= 360;
		box.lon_hi = box.lon_lo;
		if (geo_box_min_distance_m(lat, lon, &box) > geo_distance_m(lat, lon, box.lat_lo, box.lon_lo))
			bad++;
	}
	CHECK(bad == 0, "near the antipode the box bound stays below the distance (%d violations)", bad);
}

int
main(void)
{
	test_geo();
	test_names();
	test_timestamps();
	test_match_rules();
	test_order();
	test_key_properties();
	test_box_bound_rounding();
	return unit_done("offer");
}
