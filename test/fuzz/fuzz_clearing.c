/*
 * fuzz_clearing.c: pay-as-clear market clearing (src/core/clearing.c).
 *
 * The input describes a market: participants with curves built from the
 * bytes (prices and powers at scales from nano-units to the limits, flat
 * and steep segments, clipping, copies of the previous curve, which make
 * ties).  Checked, as clearing.h promises:
 *
 *  - cleared powers sum to exactly zero;
 *  - each value is the curve's power at the price; only the long side is
 *    rationed, toward zero and never past it;
 *  - quantity, supply and demand are the totals of the setpoints;
 *  - the price follows the rule, against an independent evaluation of the
 *    aggregate on decimals (within the documented m * 2^-64 nano-kW);
 *  - the result does not depend on the order of the participants;
 *  - the aggregated supply and demand curves are monotone, within n nano-kW
 *    of the sum of the published values, and span [L, H];
 *  - a market of mixed currencies is refused.
 */
#include "clearing_ref.h"
#include "core/clearing.h"
#include "fuzz.h"

#define MAXP 24

typedef struct Market
{
	size_t		n;
	Curve	   *curves[MAXP];
	char		keys[MAXP][8];
	ClearingParticipant p[MAXP];
} Market;

static int64_t
pow10i(int e)
{
	int64_t		v = 1;

	while (e-- > 0)
		v *= 10;
	return v;
}

static int64_t
clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* v * unit, saturating at +-limit */
static int64_t
scaled(int64_t v, int64_t unit, int64_t limit)
{
	if (v != 0 && (v > limit / unit || v < -(limit / unit)))
		return v > 0 ? limit : -limit;
	return v * unit;
}

static Curve *
make_curve(FuzzReader *r, const Curve *prev)
{
	CurvePoint	pts[8];
	uint8_t		shape = fuzz_u8(r);
	int			n = 1 + shape % 6;
	int64_t		punit = pow10i(fuzz_u8(r) % 10);
	int64_t		qunit = pow10i(fuzz_u8(r) % 13);
	int64_t		price;
	int64_t		power;
	int64_t		lo,
				hi;
	int			i;
	uint8_t		clip;

	if ((shape & 0xC0) == 0xC0 && prev != NULL)
		return curve_make(prev->currency, prev->min_export, prev->max_export,
						  prev->points, prev->npoints, NULL);
	price = clamp(scaled((int64_t) fuzz_u64(r, 2), punit, CURVE_PRICE_LIMIT - 1), 0, CURVE_PRICE_LIMIT - 1);
	power = clamp(scaled((int64_t) (int16_t) fuzz_u64(r, 2), qunit, CURVE_POWER_LIMIT - 1),
				  -CURVE_POWER_LIMIT + 1, CURVE_POWER_LIMIT - 1);
	for (i = 0; i < n; i++)
	{
		pts[i].price = price;
		pts[i].power = power;
		price = clamp(price + 1 + scaled((int64_t) fuzz_u64(r, 1), punit, CURVE_PRICE_LIMIT),
					  0, CURVE_PRICE_LIMIT - 1);
		power = clamp(power + scaled((int64_t) fuzz_u64(r, 1), qunit, CURVE_POWER_LIMIT),
					  -CURVE_POWER_LIMIT + 1, CURVE_POWER_LIMIT - 1);
	}
	lo = pts[0].power;
	hi = pts[n - 1].power;
	clip = fuzz_u8(r);
	if (clip & 1)
		lo = clamp(lo - scaled((int64_t) fuzz_u64(r, 1), qunit, CURVE_POWER_LIMIT),
				   -CURVE_POWER_LIMIT + 1, lo);
	if (clip & 2)
		hi = clamp(hi + scaled((int64_t) fuzz_u64(r, 1), qunit, CURVE_POWER_LIMIT),
				   hi, CURVE_POWER_LIMIT - 1);
	if (clip & 4)
		lo = hi = pts[0].power + (pts[n - 1].power - pts[0].power) / 2;
	else if (clip & 8)
		hi = pts[0].power + (pts[n - 1].power - pts[0].power) / 2;
	else if (clip & 16)
		lo = pts[0].power + (pts[n - 1].power - pts[0].power) / 2;
	/* invalid curves (prices out of order after clamping) are simply refused */
	return curve_make("EUR", lo, hi, pts, n, NULL);
}

static int
reference_sign(const Market *m, int64_t y)
{
	return clearing_reference_sign(m->curves, m->n, y);
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
put(Market *m, Curve *c, const char *key)
{
	size_t		k = m->n++;

	m->curves[k] = c;
	snprintf(m->keys[k], sizeof(m->keys[k]), "%s", key);
	m->p[k].curve = c;
	m->p[k].key = (const uint8_t *) m->keys[k];
	m->p[k].keylen = strlen(m->keys[k]);
}

static void
check_aggregate(const Market *m, const ClearingResult *r)
{
	ClearingAggregate agg;
	ClearingError err;
	size_t		i;

	clearing_aggregate_init(&agg);
	FUZZ_ASSERT(clearing_aggregate(m->p, m->n, &agg, &err), "aggregate: %s", err.message);
	FUZZ_ASSERT(agg.nsupply >= 1 && agg.ndemand >= 1, "aggregate has no points");
	for (i = 0; i < agg.nsupply + agg.ndemand; i++)
	{
		bool		sup = i < agg.nsupply;
		const ClearingCurvePoint *pt = sup ? &agg.supply[i] : &agg.demand[i - agg.nsupply];
		int64_t		expect = 0;
		int64_t		got;
		size_t		j;

		for (j = 0; j < m->n; j++)
		{
			int64_t		v = curve_power_pico(m->curves[j], pt->price);

			if ((sup && v > 0) || (!sup && v < 0))
				expect += v;
		}
		FUZZ_ASSERT(curve_fixed_from_decimal(&pt->power, 9, INT64_MAX, &got) == 0,
					"aggregate power is not a whole nano-kW");
		FUZZ_ASSERT(got - expect <= (int64_t) m->n && expect - got <= (int64_t) m->n && (sup ? got >= 0 : got <= 0),
					"aggregate %s point %zu at %lld: %lld, the curves give %lld", sup ? "supply" : "demand",
					i, (long long) pt->price, (long long) got, (long long) expect);
		if (i > 0 && i != agg.nsupply)
		{
			const ClearingCurvePoint *prev = pt - 1;

			FUZZ_ASSERT(prev->price < pt->price, "aggregate prices not increasing at %zu", i);
			FUZZ_ASSERT(dec_cmp(&prev->power, &pt->power) <= 0, "aggregate decreases at %zu", i);
		}
	}
	FUZZ_ASSERT(agg.supply[0].price == r->price_low && agg.demand[0].price == r->price_low &&
				agg.supply[agg.nsupply - 1].price == r->price_high &&
				agg.demand[agg.ndemand - 1].price == r->price_high, "aggregate does not span [L, H]");
	clearing_aggregate_free(&agg);
}

static void
check_market(Market *m, bool aggregate)
{
	ClearingResult r,
				r2;
	ClearingError err;
	Market		rev;
	size_t		i;
	int64_t		sum = 0;
	uint64_t	exported = 0,
				supply = 0,
				demand = 0;
	int			side;
	Decimal		d = DEC_INIT;

	clearing_result_init(&r);
	FUZZ_ASSERT(clearing_run(m->p, m->n, CLEARING_EXPLAIN, &r, &err), "clearing fails: %s", err.message);
	FUZZ_ASSERT(r.nparticipants == m->n && strcmp(r.currency, "EUR") == 0, "result header");
	FUZZ_ASSERT(r.price_low <= r.price && r.price <= r.price_high, "price %lld outside [%lld, %lld]",
				(long long) r.price, (long long) r.price_low, (long long) r.price_high);
	side = r.rationed == CLEARING_SIDE_SELLERS ? 1 : r.rationed == CLEARING_SIDE_BUYERS ? -1 : 0;
	for (i = 0; i < m->n; i++)
	{
		const ClearingSetpoint *s = &r.setpoints[i];

		FUZZ_ASSERT(s->value == curve_power_pico(m->curves[i], r.price),
					"participant %zu: value %lld is not the curve's %lld", i, (long long) s->value,
					(long long) curve_power_pico(m->curves[i], r.price));
		sum += s->cleared;
		if (s->cleared > 0)
			exported += (uint64_t) s->cleared;
		if (s->value > 0)
			supply += (uint64_t) s->value;
		else
			demand += (uint64_t) -s->value;
		if (s->cleared != s->value)
		{
			FUZZ_ASSERT(side != 0, "participant %zu rationed with no long side", i);
			FUZZ_ASSERT(side < 0 || (s->value > 0 && s->cleared >= 0 && s->cleared < s->value),
						"seller %zu rationed wrongly: %lld of %lld", i, (long long) s->cleared, (long long) s->value);
			FUZZ_ASSERT(side > 0 || (s->value < 0 && s->cleared <= 0 && s->cleared > s->value),
						"buyer %zu rationed wrongly: %lld of %lld", i, (long long) s->cleared, (long long) s->value);
			FUZZ_ASSERT(s->rationed && s->marginal, "participant %zu: flags", i);
		}
		else
			FUZZ_ASSERT(!s->rationed, "participant %zu marked rationed", i);
	}
	FUZZ_ASSERT(sum == 0, "cleared powers sum to %lld nano-kW", (long long) sum);
	FUZZ_ASSERT(side == 0 ? supply == demand : side > 0 ? supply > demand : supply < demand,
				"long side %d with supply %llu and demand %llu", side,
				(unsigned long long) supply, (unsigned long long) demand);
	FUZZ_ASSERT(curve_wide_to_decimal(u128_from_u64(exported), 9, &d) && dec_cmp(&d, &r.quantity) == 0,
				"quantity is not the cleared export");
	FUZZ_ASSERT(curve_wide_to_decimal(u128_from_u64(supply), 9, &d) && dec_cmp(&d, &r.supply) == 0, "supply");
	FUZZ_ASSERT(curve_wide_to_decimal(u128_from_u64(demand), 9, &d) && dec_cmp(&d, &r.demand) == 0, "demand");
	dec_free(&d);
	FUZZ_ASSERT(r.nbreakpoints >= 0 && r.nbreakpoints <= CLEARING_MAX_BREAKPOINTS, "breakpoints");
	for (i = 1; i < (size_t) r.nbreakpoints; i++)
		FUZZ_ASSERT(r.breakpoints[i - 1].price < r.breakpoints[i].price, "breakpoints not ascending");

	switch (r.rule)
	{
		case CLEARING_RULE_LOWER_BOUND:
			FUZZ_ASSERT(r.price == r.price_low && reference_sign(m, 2 * r.price_low) > 0,
						"lower bound at %lld, but the total there is not positive", (long long) r.price);
			break;
		case CLEARING_RULE_UPPER_BOUND:
			FUZZ_ASSERT(r.price == r.price_high && reference_sign(m, 2 * r.price_high) < 0,
						"upper bound at %lld, but the total there is not negative", (long long) r.price);
			break;
		case CLEARING_RULE_MIDPOINT:
			FUZZ_ASSERT(r.has_zero_range && r.zero_low < r.zero_high, "midpoint without a range");
			FUZZ_ASSERT(reference_sign(m, 2 * r.price) == 0, "midpoint %lld: total not zero", (long long) r.price);
			FUZZ_ASSERT(reference_sign(m, 2 * r.zero_low - 2) <= 0 && reference_sign(m, 2 * r.zero_high + 2) >= 0,
						"zero range [%lld, %lld] wrong", (long long) r.zero_low, (long long) r.zero_high);
			FUZZ_ASSERT((r.zero_low + r.zero_high) / 2 - r.price <= 1 && r.price - (r.zero_low + r.zero_high) / 2 <= 1,
						"midpoint %lld of [%lld, %lld]", (long long) r.price, (long long) r.zero_low, (long long) r.zero_high);
			break;
		case CLEARING_RULE_CROSSING:
			FUZZ_ASSERT(reference_sign(m, 2 * r.price - 1) <= 0 && reference_sign(m, 2 * r.price + 1) >= 0,
						"crossing at %lld: the total does not change sign there", (long long) r.price);
			FUZZ_ASSERT(reference_sign(m, 2 * r.price_low) <= 0 && reference_sign(m, 2 * r.price_high) >= 0,
						"crossing, but a bound rule applies");
			break;
	}

	/* the same market backwards, and rotated */
	memset(&rev, 0, sizeof(rev));
	for (i = 0; i < m->n; i++)
		put(&rev, m->curves[(m->n - 1 - i + m->n / 3) % m->n], m->keys[(m->n - 1 - i + m->n / 3) % m->n]);
	clearing_result_init(&r2);
	FUZZ_ASSERT(clearing_run(rev.p, rev.n, CLEARING_EXPLAIN, &r2, &err), "reordered market fails");
	FUZZ_ASSERT(r2.rule == r.rule && r2.price == r.price && r2.rationed == r.rationed &&
				r2.nbreakpoints == r.nbreakpoints && dec_cmp(&r2.quantity, &r.quantity) == 0,
				"the order of participants changes the result: price %lld vs %lld",
				(long long) r.price, (long long) r2.price);
	for (i = 0; i < rev.n; i++)
	{
		size_t		k = (m->n - 1 - i + m->n / 3) % m->n;

		FUZZ_ASSERT(r2.setpoints[i].cleared == r.setpoints[k].cleared &&
					r2.setpoints[i].value == r.setpoints[k].value &&
					r2.setpoints[i].marginal == r.setpoints[k].marginal,
					"the order of participants changes %s's setpoint", m->keys[k]);
	}
	clearing_result_free(&r2);

	if (aggregate)
		check_aggregate(m, &r);
	clearing_result_free(&r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzReader	r;
	Market		m;
	uint8_t		head;
	size_t		want,
				i;

	fuzz_reader_init(&r, data, size);
	head = fuzz_u8(&r);
	want = 1 + head % MAXP;
	memset(&m, 0, sizeof(m));
	for (i = 0; i < want && fuzz_more(&r); i++)
	{
		Curve	   *c = make_curve(&r, m.n ? m.curves[m.n - 1] : NULL);
		char		key[8];

		if (c == NULL)
			continue;
		snprintf(key, sizeof(key), "p%02d", (int) i);
		put(&m, c, key);
	}
	if (m.n == 0)
		return 0;
	check_market(&m, (head & 0x80) != 0);

	/* one more participant in another currency: refused */
	if (head & 0x40 && m.n < MAXP)
	{
		ClearingResult res;
		ClearingError err;
		const Curve *c = m.curves[0];

		put(&m, curve_make("USD", c->min_export, c->max_export, c->points, c->npoints, NULL), "usd");
		FUZZ_ASSERT(m.curves[m.n - 1] != NULL, "USD curve");
		clearing_result_init(&res);
		FUZZ_ASSERT(!clearing_run(m.p, m.n, 0, &res, &err), "mixed currencies accepted");
		clearing_result_free(&res);
	}
	market_free(&m);
	return 0;
}
