/*
 * test_clearing.c: pay-as-clear clearing (src/core/clearing.c): markets
 * computed by hand, and a property test over thousands of random markets
 * checked against an independent decimal evaluation of the aggregate.
 */
#include "core/clearing.h"
#include "clearing_ref.h"
#include "unit.h"

#include <stdlib.h>

#define MAX_PARTICIPANTS 64

typedef struct Market
{
	size_t		n;
	Curve	   *curves[MAX_PARTICIPANTS];
	char		keys[MAX_PARTICIPANTS][16];
	ClearingParticipant p[MAX_PARTICIPANTS];
} Market;

static uint64_t rng_state = 0x2545F4914F6CDD1Du;

static uint64_t
rng(void)
{
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

static void
market_init(Market *m)
{
	m->n = 0;
}

static void
market_free(Market *m)
{
	size_t		i;

	for (i = 0; i < m->n; i++)
		curve_free(m->curves[i]);
	m->n = 0;
}

static void
market_put(Market *m, const char *key, Curve *c)
{
	size_t		i = m->n++;

	m->curves[i] = c;
	snprintf(m->keys[i], sizeof(m->keys[i]), "%s", key);
	m->p[i].curve = c;
	m->p[i].key = (const uint8_t *) m->keys[i];
	m->p[i].keylen = strlen(m->keys[i]);
}

/* add a participant from OfferCurve JSON: bounds, then "price:power" pairs */
static void
market_add(Market *m, const char *key, const char *min, const char *max, const char *points)
{
	char		text[2048];
	char		pts[1800];
	size_t		len = 0;
	const char *s = points;
	CurveError	err;
	Curve	   *c;

	while (*s)
	{
		const char *colon = strchr(s, ':');
		const char *end = strchr(s, ' ');

		if (end == NULL)
			end = s + strlen(s);
		len += snprintf(pts + len, sizeof(pts) - len, "%s{\"price\":%.*s,\"powerKW\":%.*s}",
						len ? "," : "", (int) (colon - s), s, (int) (end - colon - 1), colon + 1);
		s = *end ? end + 1 : end;
	}
	snprintf(text, sizeof(text),
			 "{\"currency\":\"INR\",\"minExport\":%s,\"maxExport\":%s,\"curve\":[%s]}",
			 min, max, pts);
	c = curve_parse(text, strlen(text), &err);
	CHECK(c != NULL, "curve %s: %s", key, c ? "" : err.message);
	if (c != NULL)
		market_put(m, key, c);
}

static const char *
fixed(int64_t v, int scale)
{
	static char out[16][32];
	static int	next;
	char	   *o = out[next++ % 16];

	curve_fixed_format(v, scale, o);
	return o;
}

static const char *
dec_text(const Decimal *d)
{
	static char out[8][128];
	static int	next;
	char	   *o = out[next++ % 8];

	if (dec_text_size(d) > 128)
		return "(too long)";
	dec_format(d, o);
	return o;
}

/* "value>cleared" for each participant, separated by spaces */
static const char *
setpoints(const ClearingResult *r)
{
	static char out[4096];
	size_t		len = 0;
	size_t		i;

	out[0] = '\0';
	for (i = 0; i < r->nparticipants; i++)
	{
		const ClearingSetpoint *s = &r->setpoints[i];

		if (s->cleared == s->value)
			len += snprintf(out + len, sizeof(out) - len, "%s%s", i ? " " : "",
							fixed(s->value, 9));
		else
			len += snprintf(out + len, sizeof(out) - len, "%s%s>%s", i ? " " : "",
							fixed(s->value, 9), fixed(s->cleared, 9));
	}
	return out;
}

static bool
run(Market *m, int flags, ClearingResult *r)
{
	ClearingError err;

	clearing_result_init(r);
	if (!clearing_run(m->p, m->n, flags, r, &err))
	{
		CHECK(false, "clearing failed: %s", err.message);
		return false;
	}
	return true;
}

static int64_t
sum_cleared(const ClearingResult *r)
{
	int64_t		sum = 0;
	size_t		i;

	for (i = 0; i < r->nparticipants; i++)
		sum += r->setpoints[i].cleared;
	return sum;
}

/* ---------- markets computed by hand ---------- */

/*
 * SPEC.md section 8's market.  Between 0.06 and 0.07 the buyer is
 * -50 + 5000 (p - 0.06) and the seller 2 + 300 (p - 0.06), so the total
 * -48 + 5300 (p - 0.06) is zero at p = 0.06 + 48/5300 = 0.0690566037735849...,
 * 0.069056603774 to 12 places.  There the buyer is -50 + 5000 * 0.009056603774
 * = -4.71698113 exactly and the seller 2 + 300 * 0.009056603774 =
 * 4.7169811322, 4.716981132 to 9 places: sellers are long by 2 nano-kW and
 * the seller is rationed to 4.71698113.  (The public example's 0.0625, and
 * its -50 and +5 that do not sum to zero, do not follow from these curves:
 * at 0.0625 the buyer wants 37.5 kW and the seller offers 2.75.)
 */
static void
test_spec_market(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "consumer", "-50", "5", "0.06:-50 0.07:0");
	market_add(&m, "solar", "0", "5", "0.05:0 0.06:2 0.07:5");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_CROSSING, "crossing");
		CHECK_STR(fixed(r.price, 12), "0.069056603774", "price");
		CHECK_STR(setpoints(&r), "-4.71698113 4.716981132>4.71698113", "cleared powers");
		CHECK(r.rationed == CLEARING_SIDE_SELLERS, "the 2 nano-kW of rounding are rationed on the sellers");
		CHECK_STR(dec_text(&r.quantity), "4.71698113", "quantity");
		CHECK(sum_cleared(&r) == 0, "balanced");
		CHECK(r.setpoints[0].sloped && r.setpoints[1].sloped, "both on a slope: marginal");
		CHECK(!r.has_zero_range, "no zero range");
		CHECK_STR(fixed(r.price_low, 12), "0.05", "L");
		CHECK_STR(fixed(r.price_high, 12), "0.07", "H");
	}
	clearing_result_free(&r);
	market_free(&m);
}

/* seller 500 (p - 0.05), buyer -10 + 500 (p - 0.05): total zero at 0.06 */
static void
test_segment_crossing(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "s", "0", "10", "0.05:0 0.07:10");
	market_add(&m, "b", "-10", "0", "0.05:-10 0.07:0");
	if (run(&m, CLEARING_EXPLAIN, &r))
	{
		CHECK(r.rule == CLEARING_RULE_CROSSING, "crossing");
		CHECK_STR(fixed(r.price, 12), "0.06", "price");
		CHECK_STR(setpoints(&r), "5 -5", "cleared at the curves' values");
		CHECK(r.rationed == CLEARING_SIDE_NONE, "no rationing");
		CHECK_STR(dec_text(&r.supply), "5", "supply");
		CHECK_STR(dec_text(&r.demand), "5", "demand");
		CHECK(r.nbreakpoints == 2, "breakpoints: L and H (%d)", r.nbreakpoints);
		CHECK(r.nbreakpoints == 2 && r.breakpoints[0].price == 50000000000 &&
			  r.breakpoints[1].price == 70000000000, "at 0.05 and 0.07");
		if (r.nbreakpoints == 2)
		{
			CHECK_STR(dec_text(&r.breakpoints[0].total), "-10", "total at L");
			CHECK_STR(dec_text(&r.breakpoints[1].total), "10", "total at H");
		}
	}
	clearing_result_free(&r);
	market_free(&m);
}

/*
 * The seller reaches its 10 kW cap at 0.05 and the buyer wants 10 kW up to
 * 0.07: the total is zero on [0.05, 0.07] and the price is its midpoint.
 */
static void
test_flat_zero(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "s", "0", "10", "0.04:0 0.05:10");
	market_add(&m, "b", "-10", "0", "0.07:-10 0.09:0");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_MIDPOINT, "midpoint (rule %s)", clearing_rule_name(r.rule));
		CHECK(r.has_zero_range && r.zero_low == 50000000000 && r.zero_high == 70000000000,
			  "zero range [0.05, 0.07]");
		CHECK_STR(fixed(r.price, 12), "0.06", "price");
		CHECK_STR(setpoints(&r), "10 -10", "cleared");
		CHECK(!r.setpoints[0].marginal && !r.setpoints[1].marginal, "nobody marginal on a flat");
	}
	clearing_result_free(&r);
	market_free(&m);

	/* the range starts at a clip point: the seller's 0..3 over [1, 2] capped at 2 from 5/3 */
	market_init(&m);
	market_add(&m, "s", "0", "2", "1:0 2:3");
	market_add(&m, "b", "-2", "0", "3:-2 4:0");
	if (run(&m, 0, &r))
	{
		/*
		 * the seller is at its cap from 1.666666666667, the first pico price
		 * past 5/3; the midpoint with 3, 2.3333333333335, rounds to even
		 */
		CHECK(r.rule == CLEARING_RULE_MIDPOINT, "midpoint after a clip");
		CHECK_STR(fixed(r.zero_low, 12), "1.666666666667", "zero range from the first pico price at the cap");
		CHECK_STR(fixed(r.price, 12), "2.333333333334", "half-even midpoint");
		CHECK_STR(setpoints(&r), "2 -2", "cleared");
	}
	clearing_result_free(&r);
	market_free(&m);

	/* every curve is zero everywhere: the midpoint of [L, H] */
	market_init(&m);
	market_add(&m, "a", "-1", "1", "0.02:0");
	market_add(&m, "b", "-1", "1", "0.08:0 0.09:0");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_MIDPOINT && r.price == 55000000000, "zero everywhere: 0.055");
		CHECK_STR(dec_text(&r.quantity), "0", "nothing traded");
	}
	clearing_result_free(&r);
	market_free(&m);
}

/*
 * A vertical step, as steep as a curve can state one: the seller goes from
 * 0 to 90 kW over one nano-unit of price, from 0.05 to 0.050000001.  The
 * buyers want 20 and 10 kW at any price.  The exact crossing, 30 kW, is at
 * 0.05 + 10^-9 / 3 = 0.050000000333..., 0.050000000333 to 12 places, where
 * the seller offers 90 * 0.333 = 29.97 kW: the buyers are long by 0.03 kW
 * and rationed pro rata to 29.97 * 20/30 = 19.98 and 29.97 * 10/30 = 9.99.
 */
static void
test_step_pro_rata(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "seller", "0", "90", "0.05:0 0.050000001:90");
	market_add(&m, "buyer-a", "-20", "0", "0.01:-20");
	market_add(&m, "buyer-b", "-10", "0", "0.02:-10");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_CROSSING, "crossing on the step");
		CHECK_STR(fixed(r.price, 12), "0.050000000333", "price");
		CHECK(r.rationed == CLEARING_SIDE_BUYERS, "buyers rationed");
		CHECK_STR(setpoints(&r), "29.97 -20>-19.98 -10>-9.99", "pro rata");
		CHECK(r.setpoints[1].marginal && r.setpoints[2].marginal && r.setpoints[0].marginal,
			  "all three marginal (the seller on its slope, the buyers long)");
		CHECK(!r.setpoints[1].sloped, "a buyer is marginal by rationing, not by slope");
	}
	clearing_result_free(&r);
	market_free(&m);
}

/*
 * Surplus at every price: at L = 0.04 the sellers offer 5 + 1 and the buyer
 * takes 4, so the sellers keep 4/6 each: 3.333333333(33) and 0.666666666(67);
 * the one nano-kW left goes to the larger remainder, the second seller.
 */
static void
test_lower_bound(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "s1", "0", "10", "0.05:5 0.06:10");
	market_add(&m, "s2", "0", "3", "0.04:1 0.06:3");
	market_add(&m, "b", "-4", "0", "0.08:-4");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_LOWER_BOUND, "lower bound");
		CHECK_STR(fixed(r.price, 12), "0.04", "the lowest price of any point");
		CHECK(r.rationed == CLEARING_SIDE_SELLERS, "sellers rationed");
		CHECK_STR(setpoints(&r), "5>3.333333333 1>0.666666667 -4", "largest remainder");
		CHECK(sum_cleared(&r) == 0, "balanced");
		CHECK_STR(dec_text(&r.quantity), "4", "quantity");
	}
	clearing_result_free(&r);
	market_free(&m);
}

/* shortage at every price: at H = 0.08 the buyer wants 5 and gets the seller's 2 */
static void
test_upper_bound(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "s", "0", "2", "0.05:0 0.06:2");
	market_add(&m, "b", "-10", "0", "0.05:-10 0.08:-5");
	if (run(&m, CLEARING_EXPLAIN, &r))
	{
		CHECK(r.rule == CLEARING_RULE_UPPER_BOUND, "upper bound");
		CHECK_STR(fixed(r.price, 12), "0.08", "the highest price of any point");
		CHECK_STR(setpoints(&r), "2 -5>-2", "buyer rationed");
		CHECK(r.nbreakpoints == 2 && r.breakpoints[0].price == 60000000000 &&
			  r.breakpoints[1].price == 80000000000,
			  "explained by the two breakpoints up to H (%d)", r.nbreakpoints);
		if (r.nbreakpoints == 2)
		{
			/* the buyer at 0.06: -10 + 5/3 */
			CHECK_STR(dec_text(&r.breakpoints[0].total), "-6.333333333", "total at 0.06");
			CHECK_STR(dec_text(&r.breakpoints[1].total), "-3", "total at H");
		}
	}
	clearing_result_free(&r);
	market_free(&m);
}

static void
test_one_participant(void)
{
	Market		m;
	ClearingResult r;

	/* a seller alone: its curve is zero at its first price, the crossing */
	market_init(&m);
	market_add(&m, "solar", "0", "5", "0.05:0 0.06:2 0.07:5");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_CROSSING && r.price == 50000000000, "seller alone: 0.05");
		CHECK_STR(setpoints(&r), "0", "nothing sold");
	}
	clearing_result_free(&r);
	market_free(&m);

	/* a seller that offers 3 kW at any price: surplus everywhere */
	market_init(&m);
	market_add(&m, "solar", "0", "5", "0.05:3 0.06:4");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_LOWER_BOUND && r.price == 50000000000, "surplus: lower bound");
		CHECK_STR(setpoints(&r), "3>0", "rationed to nothing");
		CHECK_STR(dec_text(&r.quantity), "0", "quantity 0");
	}
	clearing_result_free(&r);
	market_free(&m);

	/* a buyer alone */
	market_init(&m);
	market_add(&m, "consumer", "-50", "5", "0.06:-50 0.07:-1");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_UPPER_BOUND && r.price == 70000000000, "buyer alone: upper bound");
		CHECK_STR(setpoints(&r), "-1>0", "rationed to nothing");
	}
	clearing_result_free(&r);
	market_free(&m);
}

static void
test_one_sided(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "b1", "-50", "0", "0.06:-50 0.07:-10");
	market_add(&m, "b2", "-5", "0", "0.02:-5");
	market_add(&m, "b3", "-8", "0", "0.03:-8 0.09:-2");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_UPPER_BOUND, "all buyers: upper bound");
		CHECK_STR(fixed(r.price, 12), "0.09", "H");
		CHECK_STR(setpoints(&r), "-10>0 -5>0 -2>0", "nobody buys");
		CHECK(r.rationed == CLEARING_SIDE_BUYERS, "buyers long");
	}
	clearing_result_free(&r);
	market_free(&m);

	market_init(&m);
	market_add(&m, "s1", "0", "9", "0.03:1 0.07:9");
	market_add(&m, "s2", "0", "2", "0.05:2");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_LOWER_BOUND && r.price == 30000000000, "all sellers: lower bound");
		CHECK_STR(setpoints(&r), "1>0 2>0", "nobody sells");
	}
	clearing_result_free(&r);
	market_free(&m);
}

/*
 * 1/3 + 2/3 - 1 = 0 exactly at one nano-unit of price: the fractions are
 * not decimals, yet the crossing is found exactly at 0.000000001.
 */
static void
test_exact_thirds(void)
{
	Market		m;
	ClearingResult r;

	market_init(&m);
	market_add(&m, "a", "-1", "1", "0:0 0.000000003:0.000000001");
	market_add(&m, "b", "-1", "1", "0:0 0.000000003:0.000000002");
	market_add(&m, "c", "-1", "1", "0:-0.000000001");
	if (run(&m, 0, &r))
	{
		CHECK(r.rule == CLEARING_RULE_CROSSING, "crossing");
		CHECK_STR(fixed(r.price, 12), "0.000000001", "exactly at the crossing");
		CHECK_STR(setpoints(&r), "0 0.000000001 -0.000000001", "a third rounds to 0, two thirds to 1 nano");
	}
	clearing_result_free(&r);
	market_free(&m);
}

/* the crossing exactly half way between two pico prices rounds to the even one */
static void
test_half_even(void)
{
	Market		m;
	ClearingResult r;

	/* seller 2000 (p - 0.05) kW; a buyer of 1 nano-kW: crossing at 0.05 + 0.5 pico */
	market_init(&m);
	market_add(&m, "s", "0", "5", "0.05:0 0.051:2");
	market_add(&m, "b", "-1", "0", "0:-0.000000001");
	if (run(&m, 0, &r))
	{
		CHECK_STR(fixed(r.price, 12), "0.05", "0.0500000000005 rounds to even 0.05");
		CHECK_STR(setpoints(&r), "0 -0.000000001>0", "buyer rationed");
	}
	clearing_result_free(&r);
	market_free(&m);

	/* a buyer of 3 nano-kW: crossing at 0.05 + 1.5 pico */
	market_init(&m);
	market_add(&m, "s", "0", "5", "0.05:0 0.051:2");
	market_add(&m, "b", "-1", "0", "0:-0.000000003");
	if (run(&m, 0, &r))
	{
		CHECK_STR(fixed(r.price, 12), "0.050000000002", "0.0500000000015 rounds to even ...002");
		CHECK_STR(setpoints(&r), "0.000000004>0.000000003 -0.000000003", "seller rationed");
	}
	clearing_result_free(&r);
	market_free(&m);
}

static void
test_errors(void)
{
	Market		m;
	ClearingResult r;
	ClearingError err;
	Curve	   *usd;
	CurvePoint	pt = {50000000, 1000000000};

	clearing_result_init(&r);
	CHECK(!clearing_run(NULL, 0, 0, &r, &err) && strcmp(err.message, "no participants to clear") == 0,
		  "empty market");
	market_init(&m);
	market_add(&m, "a", "-1", "1", "0.05:1");
	usd = curve_make("USD", -CURVE_NANO, CURVE_NANO, &pt, 1, NULL);
	market_put(&m, "b", usd);
	CHECK(!clearing_run(m.p, m.n, 0, &r, &err) && err.participant == 2 &&
		  strcmp(err.message, "participant 2 offers in USD, participant 1 in INR: a market clears in one currency") == 0,
		  "mixed currencies: %s", err.message);
	CHECK(r.setpoints == NULL, "result left empty");
	market_free(&m);
}

/* totals beyond 2^64 nano-kW take the long rationing path; it agrees with the short one */
static void
test_large_totals(void)
{
	Market		m;
	ClearingResult r;
	int			i;
	char		key[16];

	market_init(&m);
	for (i = 0; i < 30; i++)
	{
		CurvePoint	pt = {10000000, (int64_t) (900000000 + i * 1000) * CURVE_NANO + i};

		snprintf(key, sizeof(key), "s%02d", i);
		market_put(&m, key, curve_make("INR", 0, CURVE_POWER_LIMIT - 1, &pt, 1, NULL));
	}
	market_add(&m, "b", "-100000000", "0", "0.02:-100000000");
	if (run(&m, 0, &r))
	{
		int64_t		total = 0;
		bool		ordered = true;

		CHECK(r.rule == CLEARING_RULE_LOWER_BOUND, "surplus of 2.7e10 kW");
		CHECK(sum_cleared(&r) == 0, "balanced");
		for (i = 0; i < 30; i++)
		{
			total += r.setpoints[i].cleared;
			/* each keeps about 1/270 of its offer: 3333333.3 kW and a little more */
			if (i > 0 && r.setpoints[i].cleared < r.setpoints[i - 1].cleared)
				ordered = false;
		}
		CHECK(total == 100000000 * CURVE_NANO, "sellers deliver exactly the 10^8 kW bought");
		CHECK(ordered, "larger offers keep more");
		CHECK_STR(dec_text(&r.supply), "27000435000.000000435", "supply beyond 2^64 nano-kW");
	}
	clearing_result_free(&r);
	market_free(&m);
}

static void
test_aggregate(void)
{
	Market		m;
	ClearingAggregate agg;
	ClearingError err;

	market_init(&m);
	market_add(&m, "consumer", "-50", "5", "0.06:-50 0.07:0");
	market_add(&m, "solar", "0", "5", "0.05:0 0.06:2 0.07:5");
	CHECK(clearing_aggregate(m.p, m.n, &agg, &err), "aggregate");
	CHECK(agg.nsupply == 3 && agg.ndemand == 3, "three points each (%zu, %zu)", agg.nsupply, agg.ndemand);
	if (agg.nsupply == 3 && agg.ndemand == 3)
	{
		CHECK(agg.supply[0].price == 50000000000 && agg.supply[1].price == 60000000000 &&
			  agg.supply[2].price == 70000000000, "supply prices");
		CHECK_STR(dec_text(&agg.supply[1].power), "2", "supply at 0.06");
		CHECK_STR(dec_text(&agg.supply[2].power), "5", "supply at 0.07");
		CHECK_STR(dec_text(&agg.demand[0].power), "-50", "demand at L");
		CHECK_STR(dec_text(&agg.demand[1].power), "-50", "demand at 0.06");
		CHECK_STR(dec_text(&agg.demand[2].power), "0", "demand at 0.07");
	}
	clearing_aggregate_free(&agg);
	market_free(&m);

	/* a prosumer crossing zero, clipped; slopes of thirds */
	market_init(&m);
	market_add(&m, "p", "-2", "1", "0:-3 3:3");
	market_add(&m, "q", "0", "10", "1:0 4:1");
	CHECK(clearing_aggregate(m.p, m.n, &agg, &err), "aggregate");
	/* p: -2 until 0.5, 0 at 1.5, 1 from 2; q: 0 until 1, 1/3 per unit to 4 */
	CHECK(agg.nsupply == 5, "supply: L, the zero crossing, q's start, the cap, H (%zu)", agg.nsupply);
	if (agg.nsupply == 5)
	{
		CHECK(agg.supply[1].price == 1000000000000 && agg.supply[2].price == 1500000000000 &&
			  agg.supply[3].price == 2000000000000 && agg.supply[4].price == 4000000000000,
			  "supply bends");
		CHECK_STR(dec_text(&agg.supply[2].power), "0.166666667", "q at 1.5 is 1/6");
		CHECK_STR(dec_text(&agg.supply[3].power), "1.333333333", "p capped at 1, q 1/3");
		CHECK_STR(dec_text(&agg.supply[4].power), "2", "both at H");
	}
	CHECK(agg.ndemand == 4, "demand: L, p leaves -2, p reaches 0, H (%zu)", agg.ndemand);
	if (agg.ndemand == 4)
	{
		CHECK(agg.demand[1].price == 500000000000 && agg.demand[2].price == 1500000000000,
			  "demand bends");
		CHECK_STR(dec_text(&agg.demand[0].power), "-2", "demand at L");
		CHECK_STR(dec_text(&agg.demand[2].power), "0", "demand ends at the zero crossing");
	}
	clearing_aggregate_free(&agg);
	market_free(&m);
}

/* ---------- property test ---------- */

/* the sign of the exact aggregate at y / 2 pico (clearing_ref.h) */
static int
reference_sign(const Market *m, int64_t y)
{
	return clearing_reference_sign(m->curves, m->n, y);
}

/* a decimal with up to `scale` places in [lo, hi] nano */
static int64_t
random_value(int64_t lo, int64_t hi, int scale)
{
	int64_t		unit = 1;
	int			i;

	for (i = scale; i < 9; i++)
		unit *= 10;
	return (lo / unit + (int64_t) (rng() % (uint64_t) ((hi - lo) / unit + 1))) * unit;
}

static Curve *
random_curve(int kind)
{
	CurvePoint	pts[5];
	int			n = (int) rng_range(1, 5);
	int			pscale = (int) rng_range(2, 9);
	int			qscale = (int) rng_range(0, 3);
	int64_t		price = random_value(10000000, 150000000, pscale);	/* 0.01 .. 0.15 */
	int64_t		power;
	int64_t		lo,
				hi;
	int			i;

	/* kind 0: seller, 1: buyer, 2: prosumer */
	power = kind == 0 ? random_value(0, 5 * CURVE_NANO, qscale) :
		kind == 1 ? random_value(-60 * CURVE_NANO, -1 * CURVE_NANO, qscale) :
		random_value(-20 * CURVE_NANO, 0, qscale);
	for (i = 0; i < n; i++)
	{
		pts[i].price = price;
		pts[i].power = power;
		price += rng() % 8 == 0 ? random_value(1, 2000, 9) :
			random_value(1000000, 40000000, pscale) + 1;
		if (rng() % 5 != 0)
			power += random_value(0, (kind == 1 ? 30 : 15) * CURVE_NANO, qscale);
		if (kind == 1 && power > 0)
			power = 0;
	}
	lo = pts[0].power - (rng() % 3 == 0 ? 0 : random_value(0, 10 * CURVE_NANO, 1));
	hi = pts[n - 1].power + (rng() % 3 == 0 ? 0 : random_value(0, 10 * CURVE_NANO, 1));
	if (rng() % 4 == 0)
	{
		/* clip inside the curve */
		int64_t		mid = pts[0].power + (pts[n - 1].power - pts[0].power) / 2;

		if (rng() % 2)
			hi = mid;
		else
			lo = mid;
	}
	return curve_make("EUR", lo, hi, pts, n, NULL);
}

static void
shuffle(Market *src, Market *dst)
{
	size_t		order[MAX_PARTICIPANTS];
	size_t		i;

	for (i = 0; i < src->n; i++)
		order[i] = i;
	for (i = src->n; i > 1; i--)
	{
		size_t		j = (size_t) (rng() % i);
		size_t		t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	dst->n = 0;
	for (i = 0; i < src->n; i++)
	{
		size_t		k = dst->n++;

		dst->curves[k] = src->curves[order[i]];
		memcpy(dst->keys[k], src->keys[order[i]], sizeof(dst->keys[k]));
		dst->p[k].curve = dst->curves[k];
		dst->p[k].key = (const uint8_t *) dst->keys[k];
		dst->p[k].keylen = strlen(dst->keys[k]);
	}
}

static int
find_key(const Market *m, const char *key)
{
	size_t		i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0)
			return (int) i;
	return -1;
}

static void
test_property(void)
{
	int			t;
	int			rules[4] = {0, 0, 0, 0};
	int			rationed = 0;
	int			bad_sum = 0,
				bad_value = 0,
				bad_ration = 0,
				bad_rule = 0,
				bad_perm = 0,
				bad_quantity = 0,
				bad_agg = 0;

	for (t = 0; t < 3000; t++)
	{
		Market		m;
		Market		sh;
		ClearingResult r;
		ClearingResult r2;
		size_t		n = (size_t) rng_range(1, 50);
		int			style = (int) (rng() % 6);
		size_t		i;
		int64_t		sum = 0;
		int64_t		exported = 0;
		Decimal		qd = DEC_INIT;

		market_init(&m);
		for (i = 0; i < n; i++)
		{
			char		key[16];
			int			kind = style == 0 ? 0 : style == 1 ? 1 : (int) (rng() % 3);
			Curve	   *c = random_curve(kind);

			if (c == NULL)
			{
				CHECK(false, "random curve");
				continue;
			}
			snprintf(key, sizeof(key), "p%02d", (int) i);
			market_put(&m, key, c);
		}
		if (style == 2)
		{
			/*
			 * pairs of a seller that reaches X kW by 0.05 and a buyer of X
			 * kW up to 0.06 or later: the total is zero in between
			 */
			market_free(&m);
			for (i = 0; i < n / 2 + 1; i++)
			{
				char		key[16];
				int64_t		x = random_value(CURVE_NANO / 10, 20 * CURVE_NANO, 2);
				CurvePoint	sp[2];
				CurvePoint	bp[2];

				sp[0].price = random_value(10000000, 30000000, 4);
				sp[0].power = 0;
				sp[1].price = random_value(31000000, 50000000, 4);
				sp[1].power = x + (rng() % 2 ? 0 : random_value(0, 5 * CURVE_NANO, 1));
				bp[0].price = random_value(60000000, 80000000, 4);
				bp[0].power = -x - (rng() % 2 ? 0 : random_value(0, 5 * CURVE_NANO, 1));
				bp[1].price = random_value(81000000, 99000000, 4);
				bp[1].power = 0;
				snprintf(key, sizeof(key), "s%02d", (int) i);
				market_put(&m, key, curve_make("EUR", 0, x, sp, 2, NULL));
				snprintf(key, sizeof(key), "b%02d", (int) i);
				market_put(&m, key, curve_make("EUR", -x, 0, bp, 2, NULL));
			}
		}
		clearing_result_init(&r);
		if (!clearing_run(m.p, m.n, CLEARING_EXPLAIN, &r, NULL))
		{
			CHECK(false, "market %d clears", t);
			market_free(&m);
			continue;
		}
		rules[r.rule]++;
		if (r.rationed != CLEARING_SIDE_NONE)
			rationed++;
		for (i = 0; i < m.n; i++)
		{
			const ClearingSetpoint *s = &r.setpoints[i];
			int			side = r.rationed == CLEARING_SIDE_SELLERS ? 1 :
				r.rationed == CLEARING_SIDE_BUYERS ? -1 : 0;

			sum += s->cleared;
			if (s->cleared > 0)
				exported += s->cleared;
			if (s->value != curve_power_pico(m.curves[i], r.price))
				bad_value++;
			if (s->cleared != s->value)
			{
				/* only the long side moves, toward zero, never past it */
				if (side == 0 || (side > 0 && (s->value <= 0 || s->cleared < 0 || s->cleared > s->value)) ||
					(side < 0 && (s->value >= 0 || s->cleared > 0 || s->cleared < s->value)) ||
					!s->rationed || !s->marginal)
					bad_ration++;
			}
			else if (s->rationed)
				bad_ration++;
		}
		if (sum != 0)
			bad_sum++;
		if (!curve_fixed_to_decimal(exported, 9, &qd) || dec_cmp(&qd, &r.quantity) != 0)
			bad_quantity++;
		dec_free(&qd);

		/* the rule, against the independent evaluation */
		switch (r.rule)
		{
			case CLEARING_RULE_LOWER_BOUND:
				if (r.price != r.price_low || reference_sign(&m, 2 * r.price_low) <= 0)
					bad_rule++;
				break;
			case CLEARING_RULE_UPPER_BOUND:
				if (r.price != r.price_high || reference_sign(&m, 2 * r.price_high) >= 0)
					bad_rule++;
				break;
			case CLEARING_RULE_MIDPOINT:
				if (!r.has_zero_range || r.zero_low >= r.zero_high ||
					reference_sign(&m, 2 * r.price) != 0 ||
					reference_sign(&m, 2 * r.zero_low - 2) > 0 ||
					reference_sign(&m, 2 * r.zero_high + 2) < 0 ||
					(r.zero_low + r.zero_high) / 2 - r.price > 1 ||
					r.price - (r.zero_low + r.zero_high) / 2 > 1)
					bad_rule++;
				break;
			case CLEARING_RULE_CROSSING:
				/* the exact crossing lies within half a pico-unit of the price */
				if (r.price < r.price_low || r.price > r.price_high ||
					reference_sign(&m, 2 * r.price - 1) > 0 ||
					reference_sign(&m, 2 * r.price + 1) < 0 ||
					reference_sign(&m, 2 * r.price_low) > 0 ||
					reference_sign(&m, 2 * r.price_high) < 0)
					bad_rule++;
				break;
		}

		/* the same market in another order */
		shuffle(&m, &sh);
		clearing_result_init(&r2);
		if (!clearing_run(sh.p, sh.n, CLEARING_EXPLAIN, &r2, NULL) ||
			r2.rule != r.rule || r2.price != r.price || r2.rationed != r.rationed ||
			r2.nbreakpoints != r.nbreakpoints || dec_cmp(&r2.quantity, &r.quantity) != 0)
			bad_perm++;
		else
		{
			for (i = 0; i < sh.n; i++)
			{
				int			k = find_key(&m, sh.keys[i]);

				if (k < 0 || r2.setpoints[i].cleared != r.setpoints[k].cleared ||
					r2.setpoints[i].value != r.setpoints[k].value ||
					r2.setpoints[i].marginal != r.setpoints[k].marginal)
					bad_perm++;
			}
		}
		clearing_result_free(&r2);

		/* aggregated curves: monotone, and close to the sum of published values */
		if (t % 10 == 0)
		{
			ClearingAggregate agg;

			if (!clearing_aggregate(m.p, m.n, &agg, NULL))
				bad_agg++;
			else
			{
				for (i = 0; i < agg.nsupply + agg.ndemand; i++)
				{
					bool		sup = i < agg.nsupply;
					const ClearingCurvePoint *pt = sup ? &agg.supply[i] : &agg.demand[i - agg.nsupply];
					int64_t		expect = 0;
					int64_t		got;
					size_t		j;

					for (j = 0; j < m.n; j++)
					{
						int64_t		v = curve_power_pico(m.curves[j], pt->price);

						if ((sup && v > 0) || (!sup && v < 0))
							expect += v;
					}
					if (curve_fixed_from_decimal(&pt->power, 9, INT64_MAX, &got) != 0 ||
						got - expect > (int64_t) m.n || expect - got > (int64_t) m.n ||
						(sup ? got < 0 : got > 0))
					{
						if (bad_agg < 5)
							printf("# agg %s point %zu price %s got %s expect %s n %zu\n", sup ? "supply" : "demand",
								   i, fixed(pt->price, 12), dec_text(&pt->power), fixed(expect, 9), m.n);
						bad_agg++;
					}
					if (i > 0 && i != agg.nsupply)
					{
						const ClearingCurvePoint *prev = pt - 1;

						if (prev->price >= pt->price || dec_cmp(&prev->power, &pt->power) > 0)
						{
							if (bad_agg < 5)
								printf("# agg order %zu %s %s / %s %s\n", i, fixed(prev->price, 12), dec_text(&prev->power), fixed(pt->price, 12), dec_text(&pt->power));
							bad_agg++;
						}
					}
				}
				if (agg.supply[0].price != r.price_low || agg.demand[0].price != r.price_low ||
					agg.supply[agg.nsupply - 1].price != r.price_high ||
					agg.demand[agg.ndemand - 1].price != r.price_high)
					bad_agg++;
			}
			clearing_aggregate_free(&agg);
		}
		clearing_result_free(&r);
		market_free(&m);
	}
	CHECK(bad_sum == 0, "cleared powers sum to zero (%d markets wrong)", bad_sum);
	CHECK(bad_value == 0, "values are the curves' at the price (%d wrong)", bad_value);
	CHECK(bad_ration == 0, "only the long side is rationed, toward zero (%d wrong)", bad_ration);
	CHECK(bad_quantity == 0, "quantity is the total exported (%d wrong)", bad_quantity);
	CHECK(bad_rule == 0, "the price follows the rule (%d wrong)", bad_rule);
	CHECK(bad_perm == 0, "permuting the participants changes nothing (%d differences)", bad_perm);
	CHECK(bad_agg == 0, "aggregated curves (%d wrong)", bad_agg);
	CHECK(rules[0] > 100 && rules[1] > 100 && rules[2] > 100 && rules[3] > 100 && rationed > 100,
		  "every rule is exercised: crossing %d, midpoint %d, lower %d, upper %d; rationed %d",
		  rules[0], rules[1], rules[2], rules[3], rationed);
	printf("# property: crossing %d, midpoint %d, lower %d, upper %d; rationed %d\n",
		   rules[0], rules[1], rules[2], rules[3], rationed);
}

int
main(void)
{
	test_spec_market();
	test_segment_crossing();
	test_flat_zero();
	test_step_pro_rata();
	test_lower_bound();
	test_upper_bound();
	test_one_participant();
	test_one_sided();
	test_exact_thirds();
	test_half_even();
	test_errors();
	test_large_totals();
	test_aggregate();
	test_property();
	return unit_done("clearing");
}
