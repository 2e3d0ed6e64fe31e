/*
 * test_curve.c: unit and property tests of DEG offer curves
 * (src/core/curve.c) and the 128-bit helpers they rest on (wide.h).
 */
#include "core/curve.h"
#include "core/wide.h"
#include "unit.h"

#include <stdlib.h>

/* SPEC.md section 8 */
static const char BUYER[] =
"{\"currency\": \"INR\", \"minExport\": -50, \"maxExport\": 5, \"curve\": "
"[{\"price\": 0.06, \"powerKW\": -50}, {\"price\": 0.07, \"powerKW\": 0}]}";
static const char SELLER[] =
"{\"currency\": \"INR\", \"minExport\": 0, \"maxExport\": 5, \"curve\": "
"[{\"price\": 0.05, \"powerKW\": 0}, {\"price\": 0.06, \"powerKW\": 2}, "
"{\"price\": 0.07, \"powerKW\": 5}]}";

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t
rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Du;
}

static int64_t
rng_range(int64_t lo, int64_t hi)
{
	return lo + (int64_t) (rng() % (uint64_t) (hi - lo + 1));
}

static Curve *
parse(const char *text)
{
	return curve_parse(text, strlen(text), NULL);
}

/* the error message of parsing text, or "OK" */
static const char *
parse_error(const char *text)
{
	static char out[300];
	CurveError	err;
	Curve	   *c = curve_parse(text, strlen(text), &err);

	if (c != NULL)
	{
		curve_free(c);
		return "OK";
	}
	snprintf(out, sizeof(out), "%s", err.message);
	return out;
}

/* a curve text with the given members replacing the defaults */
static const char *
curve_text(const char *min, const char *max, const char *points)
{
	static char out[4096];

	snprintf(out, sizeof(out),
			 "{\"currency\":\"INR\",\"minExport\":%s,\"maxExport\":%s,\"curve\":[%s]}",
			 min, max, points);
	return out;
}

static const char *
dec_text(const Decimal *d)
{
	static char out[8][256];
	static int	next;
	char	   *o = out[next++ % 8];

	if (dec_text_size(d) > 256)
		return "(too long)";
	dec_format(d, o);
	return o;
}

/* curve_power at a decimal price given as text */
static const char *
power_at(const Curve *c, const char *price)
{
	Decimal		x = DEC_INIT;
	Decimal		v = DEC_INIT;
	const char *out;

	if (dec_from_text(&x, price, strlen(price), NULL) != DEC_OK ||
		!curve_power(c, &x, &v, NULL))
		out = "ERROR";
	else
		out = dec_text(&v);
	dec_free(&x);
	dec_free(&v);
	return out;
}

static void
test_parse_and_print(void)
{
	Curve	   *b = parse(BUYER);
	Curve	   *s = parse(SELLER);
	DegBuf		buf;
	Curve	   *c;

	CHECK(b != NULL && s != NULL, "SPEC examples parse");
	if (b == NULL || s == NULL)
		return;
	CHECK_STR(b->currency, "INR", "currency");
	CHECK(b->min_export == -50 * CURVE_NANO && b->max_export == 5 * CURVE_NANO, "bounds in nano-kW");
	CHECK(b->npoints == 2 && b->points[0].price == 60000000 && b->points[1].power == 0,
		  "points in nano-units");
	degbuf_init(&buf);
	CHECK(curve_to_json(s, &buf), "to_json");
	CHECK_STR(buf.data,
			  "{\"currency\":\"INR\",\"minExport\":0,\"maxExport\":5,\"curve\":["
			  "{\"price\":0.05,\"powerKW\":0},{\"price\":0.06,\"powerKW\":2},"
			  "{\"price\":0.07,\"powerKW\":5}]}", "canonical text");
	c = curve_parse(buf.data, buf.len, NULL);
	CHECK(c != NULL && curve_cmp(c, s) == 0, "canonical text reads back to the same curve");
	curve_free(c);
	degbuf_free(&buf);

	/* exponents, trailing zeros, negative zero, lower-case currency */
	c = parse("{\"curve\":[{\"powerKW\":-0,\"price\":6.5E-2},{\"price\":0.0700000000000,\"powerKW\":1.50}],"
			  "\"maxExport\":1e1,\"minExport\":-2.5,\"currency\":\"inr\"}");
	CHECK(c != NULL, "number forms and member order");
	if (c != NULL)
	{
		degbuf_init(&buf);
		curve_to_json(c, &buf);
		CHECK_STR(buf.data,
				  "{\"currency\":\"INR\",\"minExport\":-2.5,\"maxExport\":10,\"curve\":["
				  "{\"price\":0.065,\"powerKW\":0},{\"price\":0.07,\"powerKW\":1.5}]}",
				  "normalized");
		degbuf_free(&buf);
		curve_free(c);
	}
	/* one point, nine decimals, extreme in-range values */
	c = parse(curve_text("-999999999.999999999", "999999999.999999999",
						 "{\"price\":999999.999999999,\"powerKW\":0.000000001}"));
	CHECK(c != NULL && c->points[0].price == CURVE_PRICE_LIMIT - 1 &&
		  c->min_export == -CURVE_POWER_LIMIT + 1, "limits are inclusive of the largest values");
	curve_free(c);
	curve_free(b);
	curve_free(s);
}

static void
test_validation(void)
{
	char		big[CURVE_MAX_POINTS * 40 + 200];
	size_t		len = 0;
	int			i;

	CHECK_STR(parse_error(BUYER), "OK", "buyer");
	CHECK_STR(parse_error("[1]"), "an offer curve must be a JSON object, not array", "not an object");
	CHECK(strstr(parse_error("{\"currency\":"), "position") != NULL, "JSON syntax error has a position: %s",
		  parse_error("{\"currency\":"));
	CHECK_STR(parse_error("{\"currency\":\"INR\",\"minExport\":0,\"maxExport\":0,\"curve\":[],\"x\":1}"),
			  "unknown field \"x\" (an offer curve has currency, minExport, maxExport and curve)",
			  "unknown member");
	CHECK_STR(parse_error("{\"minExport\":0,\"maxExport\":0,\"curve\":[]}"),
			  "missing field \"currency\"", "missing currency");
	CHECK_STR(parse_error("{\"currency\":\"INR\",\"maxExport\":0,\"curve\":[]}"),
			  "missing field \"minExport\"", "missing minExport");
	CHECK_STR(parse_error("{\"currency\":\"INR\",\"minExport\":0,\"curve\":[]}"),
			  "missing field \"maxExport\"", "missing maxExport");
	CHECK_STR(parse_error("{\"currency\":\"INR\",\"minExport\":0,\"maxExport\":0}"),
			  "missing field \"curve\"", "missing curve");
	CHECK_STR(parse_error("{\"currency\":1,\"minExport\":0,\"maxExport\":0,\"curve\":[]}"),
			  "currency must be a string, not number", "currency type");
	CHECK_STR(parse_error("{\"currency\":\"IN\",\"minExport\":0,\"maxExport\":0,\"curve\":[]}"),
			  "currency \"IN\" is not a three-letter code", "currency length");
	CHECK_STR(parse_error("{\"currency\":\"I1R\",\"minExport\":0,\"maxExport\":0,\"curve\":[]}"),
			  "currency \"I1R\" is not a three-letter code", "currency letters");
	CHECK_STR(parse_error(curve_text("\"0\"", "0", "")), "minExport must be a number, not string",
			  "minExport type");
	CHECK_STR(parse_error(curve_text("0.0000000001", "0", "")),
			  "minExport 0.0000000001 has more than 9 digits after the point", "minExport scale");
	CHECK_STR(parse_error(curve_text("0", "1e9", "")),
			  "maxExport 1e9 is out of range (it must be above -1000000000 and below 1000000000)",
			  "maxExport range");
	CHECK_STR(parse_error(curve_text("0", "0", "")), "curve has no points (at least one is needed)",
			  "no points");
	CHECK_STR(parse_error("{\"currency\":\"INR\",\"minExport\":0,\"maxExport\":0,\"curve\":{}}"),
			  "curve must be an array of points, not object", "curve type");
	CHECK_STR(parse_error(curve_text("0", "0", "1")),
			  "curve point 1: a point must be an object with price and powerKW, not number",
			  "point type");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":1,\"powerKW\":1,\"kW\":2}")),
			  "curve point 1: unknown field \"kW\" (a point has price and powerKW)", "point member");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":1,\"powerKW\":1},{\"powerKW\":1}")),
			  "curve point 2: missing field \"price\"", "missing price");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":1}")),
			  "curve point 1: missing field \"powerKW\"", "missing powerKW");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":null,\"powerKW\":1}")),
			  "curve point 1: price must be a number, not null", "price type");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":-0.01,\"powerKW\":1}")),
			  "curve point 1: price -0.01 is negative", "negative price");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":1000000,\"powerKW\":1}")),
			  "curve point 1: price 1000000 is out of range (it must be at least 0 and below 1000000)",
			  "price range");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":0.1234567891,\"powerKW\":1}")),
			  "curve point 1: price 0.1234567891 has more than 9 digits after the point", "price scale");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":1,\"powerKW\":-1e300}")),
			  "curve point 1: powerKW -1e300 is out of range (it must be above -1000000000 and below 1000000000)",
			  "power range");
	CHECK_STR(parse_error(curve_text("-50", "5",
									 "{\"price\":0.05,\"powerKW\":-50},{\"price\":0.06,\"powerKW\":-40},"
									 "{\"price\":0.05,\"powerKW\":0}")),
			  "curve point 3: price 0.05 is not above the previous 0.06 (prices must strictly increase)",
			  "price decreasing");
	CHECK_STR(parse_error(curve_text("-50", "5",
									 "{\"price\":0.06,\"powerKW\":-50},{\"price\":0.06,\"powerKW\":0}")),
			  "curve point 2: price 0.06 is not above the previous 0.06 (prices must strictly increase)",
			  "equal prices (no vertical steps)");
	CHECK_STR(parse_error(curve_text("-50", "5",
									 "{\"price\":0.05,\"powerKW\":2},{\"price\":0.06,\"powerKW\":1}")),
			  "curve point 2: powerKW 1 is below the previous 2 (power must not decrease as price rises)",
			  "power decreasing");
	CHECK_STR(parse_error(curve_text("5", "-5", "{\"price\":0.05,\"powerKW\":2}")),
			  "minExport 5 is above maxExport -5", "minExport above maxExport");
	CHECK_STR(parse_error(curve_text("0", "0", "{\"price\":1,\"powerKW\":1},{\"price\":2,\"powerKW\":1}")),
			  "OK", "flat segments and values outside the bounds are allowed");

	/* one point too many */
	len += snprintf(big + len, sizeof(big) - len,
					"{\"currency\":\"INR\",\"minExport\":0,\"maxExport\":0,\"curve\":[");
	for (i = 0; i <= CURVE_MAX_POINTS; i++)
		len += snprintf(big + len, sizeof(big) - len, "%s{\"price\":%d,\"powerKW\":0}",
						i ? "," : "", i);
	snprintf(big + len, sizeof(big) - len, "]}");
	CHECK_STR(parse_error(big), "curve has 10001 points (at most 10000)", "too many points");
}

static void
test_evaluation(void)
{
	Curve	   *b = parse(BUYER);
	Curve	   *s = parse(SELLER);
	Curve	   *c;

	if (b == NULL || s == NULL)
		return;
	/* buyer: -50 up to 0.06, linear to 0 at 0.07, 0 beyond */
	CHECK_STR(power_at(b, "0"), "-50", "buyer below its points: first value");
	CHECK_STR(power_at(b, "0.06"), "-50", "buyer at a point");
	CHECK_STR(power_at(b, "0.0625"), "-37.5", "buyer at 0.0625");
	CHECK_STR(power_at(b, "0.065"), "-25", "buyer half way");
	CHECK_STR(power_at(b, "0.07"), "0", "buyer at its last point");
	CHECK_STR(power_at(b, "100"), "0", "buyer above its points: last value");
	/* seller: 0 at 0.05, 2 at 0.06, 5 at 0.07 */
	CHECK_STR(power_at(s, "0.04"), "0", "seller below");
	CHECK_STR(power_at(s, "0.055"), "1", "seller on the first segment");
	CHECK_STR(power_at(s, "0.0625"), "2.75", "seller at 0.0625");
	CHECK_STR(power_at(s, "0.069056603774"), "4.716981132", "seller at the SPEC market's price");
	CHECK_STR(power_at(b, "0.069056603774"), "-4.71698113", "buyer at the SPEC market's price");
	CHECK_STR(power_at(s, "0.07"), "5", "seller at the last point");
	CHECK_STR(power_at(s, "1e5"), "5", "seller far above");
	CHECK_STR(power_at(s, "-3"), "0", "negative prices are below every point");
	CHECK(curve_power_pico(s, 62500000000) == 2750000000, "pico evaluation");

	/* clipping: maxExport 3 cuts the seller at 0.0633..., minExport -20 the buyer */
	c = parse(curve_text("0", "3", "{\"price\":0.05,\"powerKW\":0},{\"price\":0.06,\"powerKW\":2},"
						 "{\"price\":0.07,\"powerKW\":5}"));
	CHECK_STR(power_at(c, "0.063"), "2.9", "below the cap");
	CHECK_STR(power_at(c, "0.064"), "3", "at the cap");
	CHECK_STR(power_at(c, "0.07"), "3", "capped end");
	curve_free(c);
	c = parse(curve_text("-20", "5", "{\"price\":0.06,\"powerKW\":-50},{\"price\":0.07,\"powerKW\":0}"));
	CHECK_STR(power_at(c, "0.05"), "-20", "flat start clipped to minExport");
	CHECK_STR(power_at(c, "0.065"), "-20", "clipped inside the segment");
	CHECK_STR(power_at(c, "0.067"), "-15", "unclipped part");
	curve_free(c);
	c = parse(curve_text("1", "2", "{\"price\":1,\"powerKW\":-5},{\"price\":2,\"powerKW\":5}"));
	CHECK_STR(power_at(c, "0"), "1", "minExport above zero lifts the whole curve");
	CHECK_STR(power_at(c, "9"), "2", "and maxExport caps it");
	curve_free(c);
	/* a single point is a constant */
	c = parse(curve_text("-10", "10", "{\"price\":0.05,\"powerKW\":-4}"));
	CHECK_STR(power_at(c, "0"), "-4", "constant below");
	CHECK_STR(power_at(c, "7"), "-4", "constant above");
	curve_free(c);

	/* rounding: once, half to even, to 9 places */
	c = parse(curve_text("-10", "10", "{\"price\":0,\"powerKW\":0},{\"price\":3,\"powerKW\":1}"));
	CHECK_STR(power_at(c, "1"), "0.333333333", "a third rounds down");
	CHECK_STR(power_at(c, "2"), "0.666666667", "two thirds round up");
	CHECK_STR(power_at(c, "1.0000000000001"), "0.333333333", "finer than pico: the decimal path");
	curve_free(c);
	c = parse(curve_text("-10", "10", "{\"price\":0,\"powerKW\":0},{\"price\":2,\"powerKW\":0.000000001}"));
	CHECK_STR(power_at(c, "1"), "0", "half a nano-kW rounds to even (0)");
	CHECK_STR(power_at(c, "1.00000000000000000001"), "0.000000001", "just above half rounds up");
	curve_free(c);
	c = parse(curve_text("-10", "10", "{\"price\":0,\"powerKW\":0},{\"price\":2,\"powerKW\":0.000000003}"));
	CHECK_STR(power_at(c, "1"), "0.000000002", "1.5 nano-kW rounds to even (2)");
	curve_free(c);
	curve_free(b);
	curve_free(s);
}

/* the decimal and the pico paths agree, and values are monotone and in bounds */
static void
test_evaluation_property(void)
{
	int			t;
	int			bad_agree = 0;
	int			bad_monotone = 0;
	int			bad_bounds = 0;
	int			ties = 0;

	for (t = 0; t < 2000; t++)
	{
		CurvePoint	pts[6];
		int			n = (int) rng_range(1, 6);
		int64_t		price = rng_range(0, 1000) * 100000;
		int64_t		power = rng_range(-100, 100) * 100000000;
		int64_t		lo = rng_range(-120, 20) * 1000000000;
		int64_t		hi = lo + rng_range(0, 150) * 1000000000;
		Curve	   *c;
		int			i;
		int64_t		prev = INT64_MIN;

		for (i = 0; i < n; i++)
		{
			pts[i].price = price;
			pts[i].power = power;
			price += rng_range(1, 5000000) * (rng() % 3 == 0 ? 1 : 1000);
			power += rng() % 4 == 0 ? 0 : rng_range(0, 30000000000);
		}
		c = curve_make("EUR", lo, hi, pts, n, NULL);
		if (c == NULL)
		{
			CHECK(false, "random curve is valid");
			continue;
		}
		for (i = 0; i < 40; i++)
		{
			int64_t		x = pts[0].price * 1000 - 1000000 +
				(int64_t) (rng() % (uint64_t) ((pts[n - 1].price - pts[0].price) * 1000 + 2000001));
			int64_t		v;
			Decimal		dx = DEC_INIT;
			Decimal		dv = DEC_INIT;
			Decimal		expect = DEC_INIT;
			int64_t		v2;

			char		text[64];

			/*
			 * x + 10^-30 takes the decimal path; 10^-30 further moves the
			 * value by less than 0.01 nano-kW, which only breaks a tie
			 */
			if (x < 0)
				x = 0;
			v = curve_power_pico(c, x);
			snprintf(text, sizeof(text), "%lld.%012lld000000000000000001",
					 (long long) (x / 1000000000000), (long long) (x % 1000000000000));
			if (dec_from_text(&dx, text, strlen(text), NULL) != DEC_OK ||
				!curve_power(c, &dx, &dv, NULL) ||
				curve_fixed_from_decimal(&dv, CURVE_SCALE, CURVE_POWER_LIMIT, &v2) != 0)
				bad_agree++;
			else if (v2 != v && !(v2 == v + 1 && v < hi))
				bad_agree++;
			else if (v2 == v + 1)
				ties++;
			dec_free(&dx);
			if (!curve_fixed_to_decimal(x, CURVE_PRICE_SCALE, &dx) ||
				!curve_power(c, &dx, &expect, NULL) ||
				curve_fixed_from_decimal(&expect, CURVE_SCALE, CURVE_POWER_LIMIT, &v2) != 0 ||
				v2 != v)
				bad_agree++;
			if (v < lo || v > hi)
				bad_bounds++;
			dec_free(&dx);
			dec_free(&dv);
			dec_free(&expect);
		}
		for (i = -5; i < 200; i++)
		{
			int64_t		x = pts[0].price * 1000 +
				(pts[n - 1].price - pts[0].price) * 1000 / 190 * i;
			int64_t		v = curve_power_pico(c, x);

			if (v < prev)
				bad_monotone++;
			prev = v;
		}
		curve_free(c);
	}
	CHECK(bad_agree == 0, "decimal and pico evaluation agree (%d differences, %d ties)",
		  bad_agree, ties);
	CHECK(bad_monotone == 0, "evaluation is non-decreasing (%d violations)", bad_monotone);
	CHECK(bad_bounds == 0, "evaluation stays in [minExport, maxExport] (%d violations)", bad_bounds);
}

static void
test_slopes(void)
{
	Curve	   *c = parse(curve_text("-1", "3", "{\"price\":1,\"powerKW\":-5},{\"price\":2,\"powerKW\":0},"
									 "{\"price\":3,\"powerKW\":0},{\"price\":4,\"powerKW\":5}"));
	bool		l,
				r;

	if (c == NULL)
		return;
	/* -5..0 over [1,2] clipped at -1 from 1.8; flat [2,3]; 0..5 over [3,4] clipped at 3 from 3.6 */
	curve_slopes_at(c, 1500000000000, &l, &r);
	CHECK(!l && !r, "clipped at minExport: flat");
	curve_slopes_at(c, 1800000000000, &l, &r);
	CHECK(!l && r, "at the clip point: rising to the right only");
	curve_slopes_at(c, 1900000000000, &l, &r);
	CHECK(l && r, "inside the rising part");
	curve_slopes_at(c, 2000000000000, &l, &r);
	CHECK(l && !r, "at a point where the curve flattens");
	curve_slopes_at(c, 2500000000000, &l, &r);
	CHECK(!l && !r, "flat segment");
	curve_slopes_at(c, 3000000000000, &l, &r);
	CHECK(!l && r, "at a point where it rises again");
	curve_slopes_at(c, 3600000000000, &l, &r);
	CHECK(l && !r, "at the cap");
	curve_slopes_at(c, 500000000000, &l, &r);
	CHECK(!l && !r, "before the first point");
	curve_free(c);
}

static void
test_binary(void)
{
	Curve	   *s = parse(SELLER);
	uint8_t		bytes[CURVE_HEADER_SIZE + 3 * CURVE_POINT_SIZE + 1];
	uint8_t		copy[sizeof(bytes)];
	size_t		size;
	Curve	   *c;
	CurveError	err;
	int			i;
	int			refused = 0;
	int			accepted_changed = 0;

	if (s == NULL)
		return;
	size = curve_serialized_size(s);
	CHECK(size == CURVE_HEADER_SIZE + 3 * CURVE_POINT_SIZE, "serialized size");
	curve_serialize(s, bytes);
	CHECK(bytes[0] == CURVE_FORMAT_VERSION && memcmp(bytes + 2, "INR", 3) == 0, "header");
	c = curve_deserialize(bytes, size, &err);
	CHECK(c != NULL && curve_cmp(c, s) == 0, "round trip");
	curve_free(c);

	CHECK(curve_deserialize(bytes, 0, &err) == NULL &&
		  strcmp(err.message, "invalid offer curve data: 0 bytes, fewer than the 32-byte header") == 0,
		  "empty: %s", err.message);
	CHECK(curve_deserialize(bytes, size - 1, &err) == NULL &&
		  strcmp(err.message, "invalid offer curve data: 79 bytes for 3 points (expected 80)") == 0,
		  "truncated: %s", err.message);
	memcpy(copy, bytes, size);
	copy[size] = 0;
	CHECK(curve_deserialize(copy, size + 1, &err) == NULL, "trailing byte");
	memcpy(copy, bytes, size);
	copy[0] = 2;
	CHECK(curve_deserialize(copy, size, &err) == NULL &&
		  strcmp(err.message, "invalid offer curve data: unknown format version 2") == 0, "version");
	memcpy(copy, bytes, size);
	copy[6] = 1;
	CHECK(curve_deserialize(copy, size, &err) == NULL, "reserved bytes");
	memcpy(copy, bytes, size);
	copy[3] = 'n';
	CHECK(curve_deserialize(copy, size, &err) == NULL &&
		  strcmp(err.message, "invalid offer curve data: currency is not three upper-case letters") == 0,
		  "currency: %s", err.message);
	memcpy(copy, bytes, size);
	copy[8] = 0;
	CHECK(curve_deserialize(copy, CURVE_HEADER_SIZE, &err) == NULL, "zero points");
	memcpy(copy, bytes, size);
	copy[11] = 0x80;
	CHECK(curve_deserialize(copy, size, &err) == NULL, "a huge point count");
	/* swap the last two prices: no longer increasing */
	memcpy(copy, bytes, size);
	memcpy(copy + 32 + 16, bytes + 32 + 32, 8);
	memcpy(copy + 32 + 32, bytes + 32 + 16, 8);
	CHECK(curve_deserialize(copy, size, &err) == NULL &&
		  strcmp(err.message, "invalid offer curve data: curve point 3: price 0.06 is not above the previous 0.07 (prices must strictly increase)") == 0,
		  "order: %s", err.message);
	/* a power beyond the limit */
	memcpy(copy, bytes, size);
	memset(copy + 32 + 8, 0x7F, 8);
	CHECK(curve_deserialize(copy, size, &err) == NULL, "power out of range");
	/* min above max */
	memcpy(copy, bytes, size);
	memcpy(copy + 16, bytes + 24, 8);
	memset(copy + 24, 0, 8);
	CHECK(curve_deserialize(copy, size, &err) == NULL &&
		  strcmp(err.message, "invalid offer curve data: minExport 5 is above maxExport 0") == 0,
		  "bounds: %s", err.message);

	/* every single-bit flip is refused or gives a valid curve that round-trips */
	for (i = 0; i < (int) size * 8; i++)
	{
		memcpy(copy, bytes, size);
		copy[i / 8] ^= (uint8_t) (1 << (i % 8));
		c = curve_deserialize(copy, size, NULL);
		if (c == NULL)
			refused++;
		else
		{
			uint8_t		again[sizeof(bytes)];

			curve_serialize(c, again);
			if (curve_check(c, NULL) && memcmp(again, copy, size) == 0)
				accepted_changed++;
			else
				CHECK(false, "flip %d accepted but not canonical", i);
			curve_free(c);
		}
	}
	CHECK(refused > 0 && accepted_changed > 0 && refused + accepted_changed == (int) size * 8,
		  "bit flips: %d refused, %d valid", refused, accepted_changed);
	/* random bytes and lengths never crash */
	for (i = 0; i < 20000; i++)
	{
		uint8_t		junk[CURVE_HEADER_SIZE + 4 * CURVE_POINT_SIZE];
		size_t		n = (size_t) (rng() % (sizeof(junk) + 1));
		size_t		j;

		for (j = 0; j < n; j++)
			junk[j] = (uint8_t) rng();
		if (n >= 16 && rng() % 2)
		{
			memcpy(junk, bytes, 16);
			junk[8] = (uint8_t) ((n - CURVE_HEADER_SIZE) / CURVE_POINT_SIZE);
		}
		c = curve_deserialize(junk, n, NULL);
		if (c != NULL)
		{
			CHECK(curve_check(c, NULL), "accepted junk is valid");
			curve_free(c);
		}
	}
	curve_free(s);
}

/* mutated curve texts never crash; what is accepted is valid and prints back to itself */
static void
test_json_fuzz(void)
{
	static const char alphabet[] = "{}[],:\"0123456789.-+eE pricepowerKWcurrencyminExportmaxExport";
	int			i;
	int			accepted = 0;
	int			bad = 0;

	for (i = 0; i < 20000; i++)
	{
		char		text[sizeof(SELLER) + 8];
		size_t		len = strlen(SELLER);
		int			edits = (int) rng_range(1, 4);
		int			e;
		Curve	   *c;

		memcpy(text, SELLER, len);
		for (e = 0; e < edits; e++)
		{
			size_t		at = (size_t) (rng() % len);

			switch (rng() % 3)
			{
				case 0:
					text[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
					break;
				case 1:
					len = at;	/* truncate */
					break;
				default:
					text[at] = (char) (rng() & 0xFF);
					break;
			}
			if (len == 0)
				break;
		}
		c = curve_parse(text, len, NULL);
		if (c != NULL)
		{
			DegBuf		buf;
			Curve	   *again;

			accepted++;
			degbuf_init(&buf);
			curve_to_json(c, &buf);
			again = curve_parse(buf.data, buf.len, NULL);
			if (!curve_check(c, NULL) || again == NULL || curve_cmp(again, c) != 0)
				bad++;
			curve_free(again);
			degbuf_free(&buf);
			curve_free(c);
		}
	}
	CHECK(bad == 0 && accepted > 0, "mutated texts: %d accepted, %d not canonical", accepted, bad);
}

static void
test_fixed(void)
{
	Decimal		d = DEC_INIT;
	int64_t		v = 0;
	char		buf[32];
	const char *in[] = {"0", "1", "-1", "0.000000001", "123.45", "-0.5", "999999999.999999999",
	"1e3", "1.5e-9", "0.0000000001", "1e9", "-1e9", "12345678901234567890"};
	const int	want[] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2};
	size_t		i;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
	{
		dec_from_text(&d, in[i], strlen(in[i]), NULL);
		CHECK(curve_fixed_from_decimal(&d, CURVE_SCALE, CURVE_POWER_LIMIT, &v) == want[i],
			  "fixed_from_decimal(%s) status %d", in[i], want[i]);
	}
	dec_from_text(&d, "-123.45", 7, NULL);
	CHECK(curve_fixed_from_decimal(&d, 9, CURVE_POWER_LIMIT, &v) == 0 && v == -123450000000,
		  "-123.45 is -123450000000 nano");
	CHECK(curve_fixed_to_decimal(-123450000000, 9, &d), "to decimal");
	CHECK_STR(dec_text(&d), "-123.45", "no trailing zeros");
	CHECK(curve_fixed_to_decimal(5, 12, &d), "to decimal");
	CHECK_STR(dec_text(&d), "0.000000000005", "pico");
	CHECK(curve_fixed_to_decimal(INT64_MIN, 0, &d), "to decimal");
	CHECK_STR(dec_text(&d), "-9223372036854775808", "INT64_MIN");
	CHECK(curve_wide_to_decimal(u128_make(0x5, 0x6BC75E2D63100000u), 9, &d), "wide");
	CHECK_STR(dec_text(&d), "100000000000", "10^20 nano is 10^11");
	CHECK(curve_wide_to_decimal(i128_neg(u128_make(0x0FFFFFFFFFFFFFFFu, UINT64_MAX)), 3, &d), "very wide");
	CHECK_STR(dec_text(&d), "-21267647932558653966460912964485513.215", "2^124 - 1 at scale 3");
	curve_fixed_format(-1, 9, buf);
	CHECK_STR(buf, "-0.000000001", "format");
	curve_fixed_format(70000000, 9, buf);
	CHECK_STR(buf, "0.07", "format");
	curve_fixed_format(0, 12, buf);
	CHECK_STR(buf, "0", "format zero");
	dec_from_text(&d, "2.500", 5, NULL);
	curve_decimal_trim(&d);
	CHECK_STR(dec_text(&d), "2.5", "trim");
	dec_from_text(&d, "100.000", 7, NULL);
	curve_decimal_trim(&d);
	CHECK_STR(dec_text(&d), "100", "trim to integer");
	dec_free(&d);
}

/* the portable 128-bit helpers against the compiler's, where there is one */
static void
test_wide(void)
{
	int			i;
	int			bad = 0;

	for (i = 0; i < 200000; i++)
	{
		uint64_t	a = rng() >> (rng() % 64);
		uint64_t	b = rng() >> (rng() % 64);
		uint64_t	d = (rng() >> (rng() % 64)) | 1;
		DegU128		p = u128_mul64(a, b);
		uint64_t	r;
		uint64_t	q;

#ifdef __SIZEOF_INT128__
		unsigned __int128 pp = (unsigned __int128) a * b;

		if ((uint64_t) (pp >> 64) != p.hi || (uint64_t) pp != p.lo)
			bad++;
		if (p.hi < d)
		{
			q = u128_div64(p, d, &r);
			if (q != (uint64_t) (pp / d) || r != (uint64_t) (pp % d))
				bad++;
		}
		{
			/* muldiv with a divisor wider than 64 bits */
			DegU128		c = u128_make(rng() >> (rng() % 61 + 3), rng());
			DegU128		bb = u128_make(c.hi ? rng() % c.hi : 0, rng());
			unsigned __int128 cc = ((unsigned __int128) c.hi << 64) | c.lo;
			unsigned __int128 bw = ((unsigned __int128) bb.hi << 64) | bb.lo;
			DegU128		rem;

			if (cc > bw && cc >> 126 == 0)
			{
				q = u128_muldiv(a, bb, c, &rem);
				/* a * bw may exceed 128 bits: check q * c + rem == a * bw via a / c split */
				if (rem.hi > c.hi || (rem.hi == c.hi && rem.lo >= c.lo))
					bad++;
				else
				{
					unsigned __int128 rr = ((unsigned __int128) rem.hi << 64) | rem.lo;
					unsigned __int128 lhs_hi,
								lhs_lo,
								rhs_hi,
								rhs_lo;

					/* compare q*cc + rr with a*bw as 192-bit numbers, 64 bits at a time */
					lhs_lo = (unsigned __int128) q * (uint64_t) cc;
					lhs_hi = (unsigned __int128) q * (uint64_t) (cc >> 64) + (lhs_lo >> 64);
					lhs_lo = (uint64_t) lhs_lo + (unsigned __int128) (uint64_t) rr;
					lhs_hi += (lhs_lo >> 64) + (uint64_t) (rr >> 64);
					rhs_lo = (unsigned __int128) a * (uint64_t) bw;
					rhs_hi = (unsigned __int128) a * (uint64_t) (bw >> 64) + (rhs_lo >> 64);
					if ((uint64_t) lhs_lo != (uint64_t) rhs_lo || lhs_hi != rhs_hi)
						bad++;
				}
			}
		}
#else
		if (p.hi < d)
		{
			/* without __int128: q * d + r == p */
			q = u128_div64(p, d, &r);
			if (u128_cmp(u128_add_u64(u128_mul64(q, d), r), p) != 0 || r >= d)
				bad++;
		}
#endif
	}
	CHECK(bad == 0, "128-bit multiply and divide (%d wrong)", bad);
	CHECK(u128_div64(u128_make(0, 10), 3, NULL) == 3, "small division");
	CHECK(u128_div64(u128_make(UINT64_MAX - 1, UINT64_MAX), UINT64_MAX, NULL) == UINT64_MAX,
		  "largest quotient");
	CHECK(i128_sign(i128_from_i64(-5)) < 0 && i128_sign(i128_from_i64(0)) == 0 &&
		  i128_cmp(i128_from_i64(-5), i128_from_i64(3)) < 0, "signed helpers");
	CHECK(u128_cmp(i128_abs(i128_from_i64(INT64_MIN)), u128_make(0, (uint64_t) 1 << 63)) == 0,
		  "abs of INT64_MIN");
}

int
main(void)
{
	test_parse_and_print();
	test_validation();
	test_evaluation();
	test_evaluation_property();
	test_slopes();
	test_binary();
	test_json_fuzz();
	test_fixed();
	test_wide();
	return unit_done("curve");
}
