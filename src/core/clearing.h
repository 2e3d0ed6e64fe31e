/*
 * clearing.h: pay-as-clear market clearing of offer curves, without
 * PostgreSQL (DESIGN.md section 7).
 *
 * The aggregate S(p) of the participants' curves (curve.h) is continuous,
 * piecewise linear and non-decreasing in price.  The market clears at:
 *
 *   lower bound  S > 0 at every price (surplus everywhere): the lowest
 *                price of any point, L; sellers are rationed
 *   upper bound  S < 0 at every price: the highest price of any point, H;
 *                buyers are rationed
 *   midpoint     S = 0 over a range [a, b] of prices (a < b): its midpoint
 *   crossing     S crosses zero at one price x: x
 *
 * and the price is rounded half to even to 12 places (pico-units).  A clip
 * point (where a curve reaches minExport or maxExport) lies between pico
 * prices in general; a zero range that starts or ends at one starts or ends
 * at the first pico price where the curve is at its bound.  Curves
 * have strictly increasing prices, so no curve and no aggregate has a
 * vertical step: a bound is the only place where the total can stay away
 * from zero.  The steepest step a curve can state is a rise over one
 * nano-unit of price, which the pico price grid resolves.
 *
 * Each participant clears at its own curve's value at the price, exactly
 * as curve_power_pico gives it (9 places, half to even).  Those values sum
 * to zero up to rounding (or not at all at a bound); the side that is then
 * long (sellers if the sum is positive, buyers if negative) is rationed pro
 * rata to the other side's total: participant i keeps floor(v_i * D / T)
 * nano-kW, and the nano-kW left over go one each to the largest remainders,
 * ties to the smaller key.  So cleared powers sum to exactly zero, each lies
 * between 0 and the participant's curve value with the same sign, and only
 * the long side moves.
 *
 * Deterministic: the result depends on the set of (key, curve) pairs, not
 * on their order, and on no floating point.  (A floating-point sweep only
 * guesses where the crossing is; every decision is taken on exact
 * integers, so a bad guess costs time, never a different answer.)  The
 * sign of S at a price is computed exactly except that a total within
 * m * 2^-64 nano-kW of zero (m: participants on a slope there) counts as
 * zero.
 *
 * Cost: O(N) to cut the curves into pieces, a radix sort of their N
 * breakpoints, one sweep over them, and a handful of O(n) passes over the
 * participants near the crossing; no allocation per point.
 */
#ifndef DEG_CORE_CLEARING_H
#define DEG_CORE_CLEARING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curve.h"
#include "decimal.h"

typedef struct ClearingParticipant
{
	const Curve *curve;
	const uint8_t *key;			/* stable identity (e.g. an ERA sort key) */
	size_t		keylen;
} ClearingParticipant;

typedef enum ClearingRule
{
	CLEARING_RULE_CROSSING,
	CLEARING_RULE_MIDPOINT,
	CLEARING_RULE_LOWER_BOUND,
	CLEARING_RULE_UPPER_BOUND
} ClearingRule;

typedef enum ClearingSide
{
	CLEARING_SIDE_NONE,
	CLEARING_SIDE_SELLERS,
	CLEARING_SIDE_BUYERS
} ClearingSide;

typedef struct ClearingSetpoint
{
	int64_t		value;			/* the curve's power at the price, nano-kW */
	int64_t		cleared;		/* after rationing, nano-kW */
	bool		rationed;		/* cleared != value */
	bool		sloped;			/* the curve rises just left or right of the price */
	bool		marginal;		/* sloped, or on the rationed side */
} ClearingSetpoint;

/* an aggregate breakpoint: the total of the participants' values at a price */
typedef struct ClearingBreakpoint
{
	int64_t		price;			/* pico */
	Decimal		total;			/* kW */
} ClearingBreakpoint;

#define CLEARING_EXPLAIN 0x1	/* fill breakpoints (costs up to 4 passes) */
#define CLEARING_MAX_BREAKPOINTS 4

typedef struct ClearingResult
{
	ClearingRule rule;
	ClearingSide rationed;		/* the long side, NONE when the values sum to 0 */
	char		currency[4];
	int64_t		price;			/* pico-units of currency per kWh */
	int64_t		price_low;		/* L: the lowest price of any point, pico */
	int64_t		price_high;		/* H: the highest, pico */
	bool		has_zero_range; /* midpoint: the range [zero_low, zero_high] */
	int64_t		zero_low;
	int64_t		zero_high;
	Decimal		quantity;		/* kW exported = kW imported, after rationing */
	Decimal		supply;			/* kW offered for export at the price */
	Decimal		demand;			/* kW asked for import at the price (>= 0) */
	size_t		nparticipants;
	ClearingSetpoint *setpoints;	/* one per participant, in input order */
	int			nbreakpoints;	/* with CLEARING_EXPLAIN: distinct breakpoint */
	ClearingBreakpoint breakpoints[CLEARING_MAX_BREAKPOINTS];	/* prices around
																 * the price,
																 * ascending */
} ClearingResult;

typedef struct ClearingError
{
	size_t		participant;	/* 1-based participant concerned, 0 if none */
	char		message[192];
} ClearingError;

extern void clearing_result_init(ClearingResult *result);
extern void clearing_result_free(ClearingResult *result);

/*
 * Clear n >= 1 participants whose curves share one currency.  result must
 * have been initialized; on failure (no participants, mixed currencies,
 * out of memory) it is left empty and err filled.
 */
extern bool clearing_run(const ClearingParticipant *participants, size_t n,
						 int flags, ClearingResult *result, ClearingError *err);

extern const char *clearing_rule_name(ClearingRule rule);	/* "crossing", ... */
extern const char *clearing_side_name(ClearingSide side);	/* "none", "sellers", "buyers" */

/* ---------- aggregated supply and demand curves ---------- */

typedef struct ClearingCurvePoint
{
	int64_t		price;			/* pico */
	Decimal		power;			/* kW, 9 places at most */
} ClearingCurvePoint;

/*
 * AggregationResult's aggregatedSupplyCurve and aggregatedDemandCurve: the
 * sum of the positive parts of the curves (supply, >= 0) and of the
 * negative parts (demand, <= 0), at L, at every price where one of them
 * bends, and at H.  A bend inside a segment (where a curve is clipped or
 * crosses zero) lies between pico prices in general and is placed at the
 * next one.  A value is the exact sum of the curves there, each rising one
 * taken along its segment's line with the slope rounded to 24 places of
 * nano-kW per pico-unit, rounded once to 9 places: within 10^-6 nano-kW
 * per rising participant of the exact sum.
 */
typedef struct ClearingAggregate
{
	size_t		nsupply;
	ClearingCurvePoint *supply;
	size_t		ndemand;
	ClearingCurvePoint *demand;
} ClearingAggregate;

extern void clearing_aggregate_init(ClearingAggregate *agg);
extern bool clearing_aggregate(const ClearingParticipant *participants, size_t n,
							   ClearingAggregate *agg, ClearingError *err);
extern void clearing_aggregate_free(ClearingAggregate *agg);

#endif							/* DEG_CORE_CLEARING_H */
