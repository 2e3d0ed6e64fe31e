/*
 * clearing.c: pay-as-clear clearing of offer curves (clearing.h).
 *
 * The steps:
 *
 *  1. The totals at the lowest and highest prices L and H are exact sums of
 *     end values; a surplus at L or a shortage at H decides a bound.
 *  2. Otherwise every curve is cut into pieces (flat, or rising along one
 *     segment), clipped to its bounds; the pieces' start prices are radix
 *     sorted and swept once in price order.  The sweep keeps, exactly, the
 *     number of rising pieces and the sum of the flat ones, which finds a
 *     range where the total is zero; and, in floating point, the total and
 *     its slope, which only guesses where it crosses zero.
 *  3. Without a zero range, the crossing is pinned down from the guess by
 *     galloping and bisection on the exact sign of the total at pico
 *     prices, then rounded half to even by its sign at the half-way point.
 *  4. One pass evaluates every participant at the price; the long side is
 *     rationed by the largest remainder method.
 */
#include "clearing.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "wide.h"

/* a piece of a clipped curve, starting at price */
typedef struct Event
{
	int64_t		price;			/* pico, >= 0 */
	union
	{
		int64_t		value;		/* flat: its value */
		double		slope;		/* rising: nano-kW per pico, for the guess only */
	}			u;
	uint32_t	who;			/* participant */
	int32_t		seg;			/* rising: curve segment index; -1: flat */
} Event;

typedef struct Events
{
	Event	   *items;
	size_t		count;
} Events;

#define RADIX_BITS 13
#define RADIX_SIZE (1 << RADIX_BITS)
#define RADIX_PASSES 5			/* 65 bits cover every pico price (< 2^60) */

/* slopes for the aggregate curves: decimal places of nano-kW per pico-unit */
#define SLOPE_SCALE 24

/* ---------- errors ---------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
fail(ClearingError *err, size_t participant, const char *fmt,...)
{
	va_list		args;

	if (err != NULL)
	{
		err->participant = participant;
		va_start(args, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, args);
		va_end(args);
	}
	return false;
}

static bool
fail_nomem(ClearingError *err)
{
	return fail(err, 0, "out of memory");
}

const char *
clearing_rule_name(ClearingRule rule)
{
	switch (rule)
	{
		case CLEARING_RULE_CROSSING:
			return "crossing";
		case CLEARING_RULE_MIDPOINT:
			return "midpoint";
		case CLEARING_RULE_LOWER_BOUND:
			return "lower_bound";
		case CLEARING_RULE_UPPER_BOUND:
			return "upper_bound";
	}
	return "?";
}

const char *
clearing_side_name(ClearingSide side)
{
	switch (side)
	{
		case CLEARING_SIDE_NONE:
			return "none";
		case CLEARING_SIDE_SELLERS:
			return "sellers";
		case CLEARING_SIDE_BUYERS:
			return "buyers";
	}
	return "?";
}

/* ---------- small helpers ---------- */

static void *
alloc_array(size_t count, size_t size)
{
	if (count == 0)
		count = 1;
	if (count > SIZE_MAX / size)
		return NULL;
	return deg_alloc(count * size);
}

static int64_t
clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int64_t
first_price(const Curve *c)
{
	return c->points[0].price * CURVE_PICO_PER_NANO;
}

static int64_t
last_price(const Curve *c)
{
	return c->points[c->npoints - 1].price * CURVE_PICO_PER_NANO;
}

static double
i128_to_double(DegI128 v)
{
	bool		negative = i128_is_negative(v);
	DegU128		m = i128_abs(v);
	double		d = (double) m.hi * 18446744073709551616.0 + (double) m.lo;

	return negative ? -d : d;
}

/* round_half_even((a + b) / 2) for a <= b, both >= 0 */
static int64_t
midpoint(int64_t a, int64_t b)
{
	int64_t		m = a + (b - a) / 2;

	if ((b - a) % 2 != 0 && m % 2 != 0)
		m++;
	return m;
}

/* the order of participants where their remainders tie: key, curve, position */
static int
participant_cmp(const ClearingParticipant *p, uint32_t a, uint32_t b)
{
	size_t		la = p[a].keylen;
	size_t		lb = p[b].keylen;
	int			c;

	if (la > 0 && lb > 0)
	{
		c = memcmp(p[a].key, p[b].key, la < lb ? la : lb);
		if (c != 0)
			return c < 0 ? -1 : 1;
	}
	if (la != lb)
		return la < lb ? -1 : 1;
	c = curve_cmp(p[a].curve, p[b].curve);
	if (c != 0)
		return c;
	/* identical participants are interchangeable: any order gives the same set */
	return a < b ? -1 : a > b ? 1 : 0;
}

/* ---------- pieces ---------- */

/*
 * The first pico price where the segment (x0, q0) - (x1, q1) reaches
 * bound, q0 < bound < q1: ceil(x0 + (bound - q0) * (x1 - x0) / (q1 - q0)).
 * From there on the segment is at or past the bound; before, short of it.
 */
static int64_t
kink_price(int64_t x0, int64_t x1, int64_t q0, int64_t q1, int64_t bound)
{
	uint64_t	rem;
	uint64_t	quo = u128_div64(u128_mul64((uint64_t) (bound - q0), (uint64_t) (x1 - x0)),
								 (uint64_t) (q1 - q0), &rem);

	return x0 + (int64_t) quo + (rem != 0);
}

/*
 * Append the pieces of curve c clipped to [lo, hi] (lo <= hi) to ev: each
 * event starts a piece at its price; before the first, the curve is flat at
 * clamp(q0).  A rising piece follows its segment's line (segment index
 * seg), which its start point anchors.  Clip points fall between pico prices in general; a piece starts at the
 * first pico price where the curve is on it, so at every pico price the
 * pieces give exactly the curve.  At most 2 * npoints - 1 events, in price
 * order.
 */
static size_t
curve_pieces(const Curve *c, uint32_t who, int64_t lo, int64_t hi, Event *ev)
{
	const CurvePoint *p = c->points;
	size_t		n = 0;
	bool		rising = false;
	int			j;

	for (j = 0; j + 1 < c->npoints; j++)
	{
		int64_t		q0 = p[j].power;
		int64_t		q1 = p[j + 1].power;
		int64_t		x0 = p[j].price * CURVE_PICO_PER_NANO;
		int64_t		x1 = p[j + 1].price * CURVE_PICO_PER_NANO;

		if (q0 == q1 || q1 <= lo || q0 >= hi)
		{
			/* flat over the segment, at the value the previous piece ended on */
			if (rising)
			{
				ev[n].price = x0;
				ev[n].u.value = clamp64(q0, lo, hi);
				ev[n].who = who;
				ev[n].seg = -1;
				n++;
				rising = false;
			}
			continue;
		}
		ev[n].price = q0 >= lo ? x0 : kink_price(x0, x1, q0, q1, lo);
		ev[n].u.slope = (double) (q1 - q0) / (double) (x1 - x0);
		ev[n].who = who;
		ev[n].seg = j;
		n++;
		rising = true;
		if (q1 > hi)
		{
			ev[n].price = kink_price(x0, x1, q0, q1, hi);
			ev[n].u.value = hi;
			ev[n].who = who;
			ev[n].seg = -1;
			n++;
			rising = false;
		}
	}
	if (rising)
	{
		ev[n].price = p[c->npoints - 1].price * CURVE_PICO_PER_NANO;
		ev[n].u.value = clamp64(p[c->npoints - 1].power, lo, hi);
		ev[n].who = who;
		ev[n].seg = -1;
		n++;
	}
	return n;
}

/* stable LSD radix sort by price */
static bool
sort_events(Events *events)
{
	size_t		n = events->count;
	size_t	   *counts;
	Event	   *tmp;
	Event	   *src = events->items;
	Event	   *dst;
	int			pass;
	size_t		i;

	if (n < 2)
		return true;
	counts = alloc_array((size_t) RADIX_PASSES * RADIX_SIZE, sizeof(size_t));
	tmp = alloc_array(n, sizeof(Event));
	if (counts == NULL || tmp == NULL)
	{
		deg_free(counts);
		deg_free(tmp);
		return false;
	}
	memset(counts, 0, (size_t) RADIX_PASSES * RADIX_SIZE * sizeof(size_t));
	for (i = 0; i < n; i++)
	{
		uint64_t	key = (uint64_t) src[i].price;

		for (pass = 0; pass < RADIX_PASSES; pass++)
			counts[pass * RADIX_SIZE + ((key >> (pass * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
	}
	dst = tmp;
	for (pass = 0; pass < RADIX_PASSES; pass++)
	{
		size_t	   *count = counts + pass * RADIX_SIZE;
		size_t		sum = 0;
		int			b;
		Event	   *swap;

		/* a digit that every key shares leaves the order as it is */
		if (count[(((uint64_t) src[0].price) >> (pass * RADIX_BITS)) & (RADIX_SIZE - 1)] == n)
			continue;
		for (b = 0; b < RADIX_SIZE; b++)
		{
			size_t		c = count[b];

			count[b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
		{
			uint64_t	key = (uint64_t) src[i].price;

			dst[count[(key >> (pass * RADIX_BITS)) & (RADIX_SIZE - 1)]++] = src[i];
		}
		swap = src;
		src = dst;
		dst = swap;
	}
	if (src != events->items)
		memcpy(events->items, src, n * sizeof(Event));
	deg_free(tmp);
	deg_free(counts);
	return true;
}

/*
 * The pieces of every participant, clipped to its bounds (or, with part
 * 1 / -1, to the positive / negative part of them), sorted by price.
 */
static bool
build_events(const ClearingParticipant *p, size_t n, int part, Events *events)
{
	size_t		total = 0;
	size_t		i;

	events->items = NULL;
	events->count = 0;
	for (i = 0; i < n; i++)
	{
		size_t		k = 2 * (size_t) p[i].curve->npoints - 1;

		if (total > SIZE_MAX / sizeof(Event) - k)
			return false;
		total += k;
	}
	events->items = alloc_array(total, sizeof(Event));
	if (events->items == NULL)
		return false;
	for (i = 0; i < n; i++)
	{
		const Curve *c = p[i].curve;
		int64_t		lo = c->min_export;
		int64_t		hi = c->max_export;

		/* max(clamp(g, lo, hi), 0) = clamp(g, max(lo, 0), max(hi, 0)), and so for min */
		if (part > 0)
		{
			lo = lo > 0 ? lo : 0;
			hi = hi > 0 ? hi : 0;
		}
		else if (part < 0)
		{
			lo = lo < 0 ? lo : 0;
			hi = hi < 0 ? hi : 0;
		}
		events->count += curve_pieces(c, (uint32_t) i, lo, hi, events->items + events->count);
	}
	return sort_events(events);
}

/* ---------- exact values of the total ---------- */

/* the total of the participants' published values at pico price x */
static DegI128
published_total(const ClearingParticipant *p, size_t n, int64_t x)
{
	DegI128		sum = i128_from_i64(0);
	size_t		i;

	for (i = 0; i < n; i++)
		sum = i128_add_i64(sum, curve_power_pico(p[i].curve, x));
	return sum;
}

/*
 * The sign of the exact total S at price y / 2 pico.  Each participant's
 * value is its integer part plus a fraction kept to 2^-64 nano-kW; a total
 * within (participants with an inexact fraction) * 2^-64 of zero is zero.
 */
static int
exact_sign(const ClearingParticipant *p, size_t n, int64_t y)
{
	DegI128		whole = i128_from_i64(0);
	DegU128		frac = u128_from_u64(0);
	uint64_t	inexact = 0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		const Curve *c = p[i].curve;
		const CurvePoint *pt = c->points;
		int			last = c->npoints - 1;
		int64_t		lo = c->min_export;
		int64_t		hi = c->max_export;
		int64_t		v;
		int			a,
					b;

		if (y <= pt[0].price * 2 * CURVE_PICO_PER_NANO)
			v = clamp64(pt[0].power, lo, hi);
		else if (y >= pt[last].price * 2 * CURVE_PICO_PER_NANO)
			v = clamp64(pt[last].power, lo, hi);
		else
		{
			a = 0;
			b = last;
			while (b - a > 1)
			{
				int			mid = a + (b - a) / 2;

				if (pt[mid].price * 2 * CURVE_PICO_PER_NANO <= y)
					a = mid;
				else
					b = mid;
			}
			if (pt[a + 1].power == pt[a].power)
				v = clamp64(pt[a].power, lo, hi);
			else
			{
				int64_t		q0 = pt[a].power;
				uint64_t	dq = (uint64_t) (pt[a + 1].power - q0);
				uint64_t	dp = (uint64_t) (pt[a + 1].price - pt[a].price) * 2 * CURVE_PICO_PER_NANO;
				uint64_t	dx = (uint64_t) (y - pt[a].price * 2 * CURVE_PICO_PER_NANO);
				DegU128		num = u128_mul64(dq, dx);
				uint64_t	rem;
				uint64_t	quo;

				if (hi <= q0 || u128_cmp(num, u128_mul64((uint64_t) (hi - q0), dp)) >= 0)
					v = hi;
				else if (lo > q0 && u128_cmp(num, u128_mul64((uint64_t) (lo - q0), dp)) <= 0)
					v = lo;
				else
				{
					quo = u128_div64(num, dp, &rem);
					v = q0 + (int64_t) quo;
					if (rem != 0)
					{
						uint64_t	r2;

						frac = u128_add_u64(frac, u128_div64(u128_make(rem, 0), dp, &r2));
						if (r2 != 0)
							inexact++;
					}
				}
			}
		}
		whole = i128_add_i64(whole, v);
	}
	/* whole + frac / 2^64 <= S < whole + (frac + inexact) / 2^64 */
	whole = u128_add(whole, u128_from_u64(frac.hi));
	if (!i128_is_negative(whole))
		return (u128_is_zero(whole) && frac.lo == 0) ? 0 : 1;
	if (i128_cmp(whole, i128_from_i64(-1)) < 0)
		return -1;
	/* whole == -1: S < -1 + (frac + inexact) / 2^64, zero if that reaches 0 */
	if (frac.lo == 0)
		return -1;
	return inexact >= (UINT64_MAX - frac.lo) + 1 ? 0 : -1;
}

/* ---------- the sweep ---------- */

typedef struct SweepResult
{
	bool		has_zero;
	int64_t		zero_low;
	int64_t		zero_high;
	bool		has_hint;
	int64_t		hint;
} SweepResult;

/*
 * One pass over the sorted pieces.  Exact: the number of rising pieces and
 * the sum of the flat ones, so a gap where no piece rises and the flat ones
 * sum to zero is certainly a zero of the total.  Floating point: the total
 * and its slope, for a guess at the crossing.
 */
static bool
sweep(const ClearingParticipant *p, size_t n, const Events *events,
	  int64_t low, int64_t high, DegI128 total_low, SweepResult *out)
{
	double	   *rate = alloc_array(n, sizeof(double));	/* 0: flat */
	int64_t    *value = alloc_array(n, sizeof(int64_t));
	DegI128		flat = total_low;
	size_t		rising = 0;
	double		val = i128_to_double(total_low);
	double		slope = 0;
	int64_t		prev = low;
	size_t		k = 0;
	bool		in_zero = false;
	bool		zero_done = false;
	size_t		i;

	memset(out, 0, sizeof(*out));
	if (rate == NULL || value == NULL)
	{
		deg_free(rate);
		deg_free(value);
		return false;
	}
	for (i = 0; i < n; i++)
	{
		const Curve *c = p[i].curve;

		rate[i] = 0;
		value[i] = clamp64(c->points[0].power, c->min_export, c->max_export);
	}
	for (;;)
	{
		int64_t		x = k < events->count ? events->items[k].price : high;

		if (x > prev)
		{
			double		end = val + slope * (double) (x - prev);

			if (!zero_done)
			{
				if (rising == 0 && u128_is_zero(flat))
				{
					if (!in_zero)
						out->zero_low = prev;
					in_zero = true;
					out->zero_high = x;
				}
				else if (in_zero)
					zero_done = true;
			}
			if (!out->has_hint && val < 0 && end >= 0 && slope > 0)
			{
				double		step = -val / slope;
				int64_t		gap = x - prev;

				out->has_hint = true;
				out->hint = step >= (double) gap ? x : step <= 0 ? prev :
					prev + (int64_t) (step + 0.5);
			}
			val = end;
		}
		if (k >= events->count || x >= high)
			break;
		while (k < events->count && events->items[k].price == x)
		{
			const Event *e = &events->items[k++];

			/* the participant's old piece out, the new one in */
			if (rate[e->who] == 0)
				flat = i128_add_i64(flat, -value[e->who]);
			else
			{
				rising--;
				slope -= rate[e->who];
			}
			if (e->seg < 0)
			{
				rate[e->who] = 0;
				value[e->who] = e->u.value;
				flat = i128_add_i64(flat, e->u.value);
			}
			else
			{
				rising++;
				rate[e->who] = e->u.slope;
				slope += e->u.slope;
			}
		}
		if (rising == 0)
		{
			/* all flat: the exact total, and no drift in the guess */
			slope = 0;
			val = i128_to_double(flat);
		}
		prev = x;
	}
	out->has_zero = in_zero && out->zero_high > out->zero_low;
	deg_free(rate);
	deg_free(value);
	return true;
}

/*
 * The crossing, rounded half to even to a pico price, for S(low) < 0 <=
 * S(high) and no zero range.  Gallops from the guess to a bracket
 * lo < hi = lo + 1 with S(lo) < 0 <= S(hi), then rounds by the sign at
 * lo + 1/2.
 */
static int64_t
find_crossing(const ClearingParticipant *p, size_t n, int64_t low, int64_t high,
			  int64_t guess)
{
	int64_t		lo = low;		/* S(lo) < 0 */
	int64_t		hi = high;		/* S(hi) >= 0 */
	int			s_hi;
	int			s_half;
	int64_t		step;

	if (guess <= low)
		guess = low + 1;
	if (guess >= high)
		guess = high - 1;
	if (guess > low && guess < high)
	{
		if (exact_sign(p, n, 2 * guess) < 0)
		{
			lo = guess;
			for (step = 1; lo + step < high; step *= 2)
			{
				if (exact_sign(p, n, 2 * (lo + step)) >= 0)
				{
					hi = lo + step;
					break;
				}
				lo += step;
			}
		}
		else
		{
			hi = guess;
			for (step = 1; hi - step > low; step *= 2)
			{
				if (exact_sign(p, n, 2 * (hi - step)) < 0)
				{
					lo = hi - step;
					break;
				}
				hi -= step;
			}
		}
	}
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (exact_sign(p, n, 2 * mid) < 0)
			lo = mid;
		else
			hi = mid;
	}
	s_hi = exact_sign(p, n, 2 * hi);
	if (s_hi == 0)
		return hi;
	s_half = exact_sign(p, n, 2 * lo + 1);
	if (s_half > 0)
		return lo;
	if (s_half < 0)
		return hi;
	return (lo % 2 == 0) ? lo : hi;
}

/* ---------- rationing ---------- */

typedef struct Share
{
	uint32_t	who;
	DegU128		rem;
} Share;

/* larger remainder first, then the participant order */
static int
share_cmp(const ClearingParticipant *p, const Share *a, const Share *b)
{
	int			c = u128_cmp(a->rem, b->rem);

	if (c != 0)
		return -c;
	return participant_cmp(p, a->who, b->who);
}

/* restore the heap below i: heap[0] is the worst of the best units */
static void
sift_down(const ClearingParticipant *p, Share *heap, size_t size, size_t i)
{
	for (;;)
	{
		size_t		worst = i;
		size_t		l = 2 * i + 1;
		size_t		r = l + 1;
		Share		t;

		if (l < size && share_cmp(p, &heap[l], &heap[worst]) > 0)
			worst = l;
		if (r < size && share_cmp(p, &heap[r], &heap[worst]) > 0)
			worst = r;
		if (worst == i)
			return;
		t = heap[i];
		heap[i] = heap[worst];
		heap[worst] = t;
		i = worst;
	}
}

/*
 * Move the best `units` shares (share_cmp order) to the front of a: a
 * bounded heap, O(count log units), and usually units is a few nano-kW of
 * rounding.
 */
static void
select_best(const ClearingParticipant *p, Share *a, size_t count, size_t units)
{
	size_t		i;

	for (i = units / 2; i-- > 0;)
		sift_down(p, a, units, i);
	for (i = units; i < count; i++)
	{
		if (share_cmp(p, &a[i], &a[0]) < 0)
		{
			Share		t = a[0];

			a[0] = a[i];
			a[i] = t;
			sift_down(p, a, units, 0);
		}
	}
}

/*
 * Ration the side with sign `side` (1 sellers, -1 buyers), whose values
 * total `total`, down to `target` (< total): each keeps floor(|v| * target
 * / total), and the units left go to the largest remainders.
 */
static bool
ration(const ClearingParticipant *p, size_t n, ClearingSetpoint *sp, int side,
	   DegU128 total, DegU128 target)
{
	Share	   *shares;
	size_t		count = 0;
	DegU128		kept = u128_from_u64(0);
	uint64_t	units;
	size_t		i;

	for (i = 0; i < n; i++)
		if ((side > 0 && sp[i].value > 0) || (side < 0 && sp[i].value < 0))
			count++;
	shares = alloc_array(count, sizeof(Share));
	if (shares == NULL)
		return false;
	count = 0;
	for (i = 0; i < n; i++)
	{
		uint64_t	mag;
		uint64_t	q;
		DegU128		rem;

		if (!((side > 0 && sp[i].value > 0) || (side < 0 && sp[i].value < 0)))
			continue;
		mag = side > 0 ? (uint64_t) sp[i].value : (uint64_t) -sp[i].value;
		q = u128_muldiv(mag, target, total, &rem);
		kept = u128_add_u64(kept, q);
		sp[i].cleared = side > 0 ? (int64_t) q : -(int64_t) q;
		sp[i].marginal = true;
		if (!u128_is_zero(rem))
		{
			shares[count].who = (uint32_t) i;
			shares[count].rem = rem;
			count++;
		}
	}
	/* the fractions sum to target - kept, a whole number below count */
	units = u128_sub(target, kept).lo;
	if (units > count)
		units = count;			/* cannot happen: each fraction is below 1 */
	if (units > 0)
	{
		select_best(p, shares, count, (size_t) units);
		for (i = 0; i < units; i++)
			sp[shares[i].who].cleared += side;
	}
	for (i = 0; i < n; i++)
		sp[i].rationed = sp[i].cleared != sp[i].value;
	deg_free(shares);
	return true;
}

/* ---------- clearing ---------- */

void
clearing_result_init(ClearingResult *result)
{
	int			i;

	memset(result, 0, sizeof(*result));
	dec_init(&result->quantity);
	dec_init(&result->supply);
	dec_init(&result->demand);
	for (i = 0; i < CLEARING_MAX_BREAKPOINTS; i++)
		dec_init(&result->breakpoints[i].total);
}

void
clearing_result_free(ClearingResult *result)
{
	int			i;

	dec_free(&result->quantity);
	dec_free(&result->supply);
	dec_free(&result->demand);
	for (i = 0; i < CLEARING_MAX_BREAKPOINTS; i++)
		dec_free(&result->breakpoints[i].total);
	deg_free(result->setpoints);
	clearing_result_init(result);
}

static bool
check_participants(const ClearingParticipant *p, size_t n, ClearingError *err)
{
	size_t		i;

	if (n == 0)
		return fail(err, 0, "no participants to clear");
	if (n > INT32_MAX)
		return fail(err, 0, "too many participants (%zu)", n);
	for (i = 0; i < n; i++)
	{
		if (p[i].curve == NULL)
			return fail(err, i + 1, "participant %zu has no offer curve", i + 1);
		if (p[i].key == NULL && p[i].keylen > 0)
			return fail(err, i + 1, "participant %zu has no key", i + 1);
		if (memcmp(p[i].curve->currency, p[0].curve->currency, 4) != 0)
			return fail(err, i + 1, "participant %zu offers in %s, participant 1 in %s: a market clears in one currency",
						i + 1, p[i].curve->currency, p[0].curve->currency);
	}
	return true;
}

/* the breakpoints nearest the price: up to two at or below it and two above */
static bool
explain(const ClearingParticipant *p, size_t n, const Events *events,
		ClearingResult *r)
{
	int64_t		below[2];
	int64_t		above[2];
	int			nb = 0;
	int			na = 0;
	int64_t		prices[CLEARING_MAX_BREAKPOINTS];
	int			count = 0;
	size_t		lo = 0;
	size_t		hi = events->count;
	size_t		k;
	int			i;

	/* distinct prices: L, the event prices, H; events are sorted */
	while (lo < hi)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (events->items[mid].price <= r->price)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (k = lo; k > 0 && nb < 2; k--)
	{
		int64_t		x = events->items[k - 1].price;

		if (nb == 0 || below[nb - 1] != x)
			below[nb++] = x;
	}
	if (nb < 2 && (nb == 0 || below[nb - 1] != r->price_low))
		below[nb++] = r->price_low;
	for (k = lo; k < events->count && na < 2; k++)
	{
		int64_t		x = events->items[k].price;

		if (na == 0 || above[na - 1] != x)
			above[na++] = x;
	}
	if (na < 2 && r->price_high > r->price && (na == 0 || above[na - 1] != r->price_high))
		above[na++] = r->price_high;
	for (i = nb - 1; i >= 0; i--)
		prices[count++] = below[i];
	for (i = 0; i < na; i++)
		prices[count++] = above[i];
	for (i = 0; i < count; i++)
	{
		r->breakpoints[i].price = prices[i];
		if (!curve_wide_to_decimal(published_total(p, n, prices[i]), CURVE_SCALE,
								   &r->breakpoints[i].total))
			return false;
	}
	r->nbreakpoints = count;
	return true;
}

bool
clearing_run(const ClearingParticipant *p, size_t n, int flags,
			 ClearingResult *r, ClearingError *err)
{
	DegI128		total_low = i128_from_i64(0);
	DegI128		total_high = i128_from_i64(0);
	DegU128		supply = u128_from_u64(0);
	DegU128		demand = u128_from_u64(0);
	Events		events = {NULL, 0};
	bool		have_events = false;
	size_t		i;
	int			c;

	if (!check_participants(p, n, err))
		return false;
	r->nparticipants = n;
	memcpy(r->currency, p[0].curve->currency, 4);
	r->price_low = first_price(p[0].curve);
	r->price_high = last_price(p[0].curve);
	for (i = 0; i < n; i++)
	{
		const Curve *cv = p[i].curve;

		if (first_price(cv) < r->price_low)
			r->price_low = first_price(cv);
		if (last_price(cv) > r->price_high)
			r->price_high = last_price(cv);
		total_low = i128_add_i64(total_low,
								 clamp64(cv->points[0].power, cv->min_export, cv->max_export));
		total_high = i128_add_i64(total_high,
								  clamp64(cv->points[cv->npoints - 1].power,
										  cv->min_export, cv->max_export));
	}

	if (i128_sign(total_low) > 0)
	{
		r->rule = CLEARING_RULE_LOWER_BOUND;
		r->price = r->price_low;
	}
	else if (i128_sign(total_high) < 0)
	{
		r->rule = CLEARING_RULE_UPPER_BOUND;
		r->price = r->price_high;
	}
	else
	{
		SweepResult sw;

		if (!build_events(p, n, 0, &events))
			goto nomem;
		have_events = true;
		if (!sweep(p, n, &events, r->price_low, r->price_high, total_low, &sw))
			goto nomem;
		if (sw.has_zero)
		{
			r->rule = CLEARING_RULE_MIDPOINT;
			r->has_zero_range = true;
			r->zero_low = sw.zero_low;
			r->zero_high = sw.zero_high;
			r->price = midpoint(sw.zero_low, sw.zero_high);
		}
		else
		{
			r->rule = CLEARING_RULE_CROSSING;
			if (i128_sign(total_low) == 0)
				r->price = r->price_low;
			else
				r->price = find_crossing(p, n, r->price_low, r->price_high,
										 sw.has_hint ? sw.hint :
										 midpoint(r->price_low, r->price_high));
		}
	}

	/* every participant at the price */
	r->setpoints = alloc_array(n, sizeof(ClearingSetpoint));
	if (r->setpoints == NULL)
		goto nomem;
	for (i = 0; i < n; i++)
	{
		ClearingSetpoint *sp = &r->setpoints[i];
		bool		left,
					right;
		int64_t		v = curve_power_pico(p[i].curve, r->price);

		curve_slopes_at(p[i].curve, r->price, &left, &right);
		sp->value = v;
		sp->cleared = v;
		sp->rationed = false;
		sp->sloped = left || right;
		sp->marginal = sp->sloped;
		if (v > 0)
			supply = u128_add_u64(supply, (uint64_t) v);
		else if (v < 0)
			demand = u128_add_u64(demand, (uint64_t) 0 - (uint64_t) v);
	}
	c = u128_cmp(supply, demand);
	r->rationed = c > 0 ? CLEARING_SIDE_SELLERS : c < 0 ? CLEARING_SIDE_BUYERS : CLEARING_SIDE_NONE;
	if (c != 0 && !ration(p, n, r->setpoints, c, c > 0 ? supply : demand,
						  c > 0 ? demand : supply))
		goto nomem;
	if (!curve_wide_to_decimal(c > 0 ? demand : supply, CURVE_SCALE, &r->quantity) ||
		!curve_wide_to_decimal(supply, CURVE_SCALE, &r->supply) ||
		!curve_wide_to_decimal(demand, CURVE_SCALE, &r->demand))
		goto nomem;

	if (flags & CLEARING_EXPLAIN)
	{
		if (!have_events)
		{
			if (!build_events(p, n, 0, &events))
				goto nomem;
			have_events = true;
		}
		if (!explain(p, n, &events, r))
			goto nomem;
	}
	deg_free(events.items);
	return true;

nomem:
	deg_free(events.items);
	clearing_result_free(r);
	return fail_nomem(err);
}

/* ---------- aggregated supply and demand curves ---------- */

void
clearing_aggregate_init(ClearingAggregate *agg)
{
	memset(agg, 0, sizeof(*agg));
}

static void
free_points(ClearingCurvePoint *points, size_t count)
{
	size_t		i;

	if (points == NULL)
		return;
	for (i = 0; i < count; i++)
		dec_free(&points[i].power);
	deg_free(points);
}

void
clearing_aggregate_free(ClearingAggregate *agg)
{
	free_points(agg->supply, agg->nsupply);
	free_points(agg->demand, agg->ndemand);
	clearing_aggregate_init(agg);
}

typedef struct AggState
{
	Decimal		acc;			/* sum of slope * (x - anchor) over rising pieces */
	Decimal		slope;			/* sum of their slopes */
	Decimal		tmp;
	Decimal		tmp2;
	Decimal		nano;			/* 10^9 */
} AggState;

/* append (x, base + round(acc)) in kW */
static bool
agg_point(AggState *st, int64_t x, DegI128 base, ClearingCurvePoint *out)
{
	out->price = x;
	if (dec_round(&st->tmp, &st->acc, 0, DEC_ROUND_HALF_EVEN, NULL) != DEC_OK ||
		!curve_wide_to_decimal(base, 0, &st->tmp2) ||
		dec_add(&st->tmp, &st->tmp, &st->tmp2, NULL) != DEC_OK ||
		dec_div_round(&out->power, &st->tmp, &st->nano, CURVE_SCALE,
					  DEC_ROUND_HALF_EVEN, NULL) != DEC_OK)
		return false;
	curve_decimal_trim(&out->power);
	return true;
}

/* one aggregated curve (part 1: supply, -1: demand) */
static bool
aggregate_part(const ClearingParticipant *p, size_t n, int part, int64_t low,
			   int64_t high, ClearingCurvePoint **points, size_t *npoints)
{
	Events		events = {NULL, 0};
	int32_t    *seg = alloc_array(n, sizeof(int32_t));
	int64_t    *value = alloc_array(n, sizeof(int64_t));
	int64_t    *start = alloc_array(n, sizeof(int64_t));
	Decimal    *slopes = alloc_array(n, sizeof(Decimal));
	ClearingCurvePoint *out = NULL;
	size_t		nout = 0;
	AggState	st;
	DegI128		base = i128_from_i64(0);
	int64_t		prev = low;
	size_t		k = 0;
	size_t		i;
	bool		ok = false;

	dec_init(&st.acc);
	dec_init(&st.slope);
	dec_init(&st.tmp);
	dec_init(&st.tmp2);
	dec_init(&st.nano);
	if (slopes != NULL)
		for (i = 0; i < n; i++)
			dec_init(&slopes[i]);
	if (seg == NULL || value == NULL || start == NULL || slopes == NULL ||
		dec_from_int64(&st.nano, CURVE_NANO, NULL) != DEC_OK ||
		!build_events(p, n, part, &events))
		goto done;
	/* at most one point per event, plus L and H */
	out = alloc_array(events.count + 2, sizeof(ClearingCurvePoint));
	if (out == NULL)
		goto done;
	for (i = 0; i < events.count + 2; i++)
		dec_init(&out[i].power);
	for (i = 0; i < n; i++)
	{
		const Curve *c = p[i].curve;
		int64_t		v = clamp64(c->points[0].power, c->min_export, c->max_export);

		seg[i] = -1;
		value[i] = part > 0 ? (v > 0 ? v : 0) : (v < 0 ? v : 0);
		base = i128_add_i64(base, value[i]);
	}
	if (events.count == 0 || events.items[0].price > low)
	{
		if (!agg_point(&st, low, base, &out[nout]))
			goto done;
		nout++;
	}
	while (k < events.count)
	{
		int64_t		x = events.items[k].price;

		/* acc += slope * (x - prev) */
		if (dec_from_int64(&st.tmp, x - prev, NULL) != DEC_OK ||
			dec_mul(&st.tmp, &st.tmp, &st.slope, NULL) != DEC_OK ||
			dec_add(&st.acc, &st.acc, &st.tmp, NULL) != DEC_OK)
			goto done;
		while (k < events.count && events.items[k].price == x)
		{
			const Event *e = &events.items[k++];
			const Curve *c = p[e->who].curve;
			uint32_t	w = e->who;

			base = i128_add_i64(base, -value[w]);
			if (seg[w] >= 0)
			{
				/* drop the piece's share: slope * (x - start) */
				if (dec_from_int64(&st.tmp, x - start[w], NULL) != DEC_OK ||
					dec_mul(&st.tmp, &st.tmp, &slopes[w], NULL) != DEC_OK ||
					dec_sub(&st.acc, &st.acc, &st.tmp, NULL) != DEC_OK ||
					dec_sub(&st.slope, &st.slope, &slopes[w], NULL) != DEC_OK)
					goto done;
			}
			seg[w] = e->seg;
			/* a rising piece counts its anchor, the segment's start */
			value[w] = e->seg < 0 ? e->u.value : c->points[e->seg].power;
			base = i128_add_i64(base, value[w]);
			if (e->seg >= 0)
			{
				const CurvePoint *pt = c->points;

				/* the line through the segment's start, from its anchor to x */
				start[w] = pt[e->seg].price * CURVE_PICO_PER_NANO;
				if (dec_from_int64(&st.tmp, pt[e->seg + 1].power - pt[e->seg].power, NULL) != DEC_OK ||
					dec_from_int64(&st.tmp2, (pt[e->seg + 1].price - pt[e->seg].price) *
								   CURVE_PICO_PER_NANO, NULL) != DEC_OK ||
					dec_div_round(&slopes[w], &st.tmp, &st.tmp2, SLOPE_SCALE,
								  DEC_ROUND_HALF_EVEN, NULL) != DEC_OK ||
					dec_add(&st.slope, &st.slope, &slopes[w], NULL) != DEC_OK ||
					dec_from_int64(&st.tmp, x - start[w], NULL) != DEC_OK ||
					dec_mul(&st.tmp, &st.tmp, &slopes[w], NULL) != DEC_OK ||
					dec_add(&st.acc, &st.acc, &st.tmp, NULL) != DEC_OK)
					goto done;
			}
		}
		if (!agg_point(&st, x, base, &out[nout]))
			goto done;
		nout++;
		prev = x;
	}
	if (out[nout - 1].price < high)
	{
		/* every piece is flat after the last event: acc is exactly zero */
		if (!agg_point(&st, high, base, &out[nout]))
			goto done;
		nout++;
	}
	ok = true;
done:
	if (!ok && out != NULL)
	{
		free_points(out, events.count + 2);
		out = NULL;
		nout = 0;
	}
	*points = out;
	*npoints = nout;
	if (slopes != NULL)
		for (i = 0; i < n; i++)
			dec_free(&slopes[i]);
	dec_free(&st.acc);
	dec_free(&st.slope);
	dec_free(&st.tmp);
	dec_free(&st.tmp2);
	dec_free(&st.nano);
	deg_free(events.items);
	deg_free(seg);
	deg_free(value);
	deg_free(start);
	deg_free(slopes);
	return ok;
}

bool
clearing_aggregate(const ClearingParticipant *p, size_t n, ClearingAggregate *agg,
				   ClearingError *err)
{
	int64_t		low;
	int64_t		high;
	size_t		i;

	clearing_aggregate_init(agg);
	if (!check_participants(p, n, err))
		return false;
	low = first_price(p[0].curve);
	high = last_price(p[0].curve);
	for (i = 1; i < n; i++)
	{
		if (first_price(p[i].curve) < low)
			low = first_price(p[i].curve);
		if (last_price(p[i].curve) > high)
			high = last_price(p[i].curve);
	}
	if (!aggregate_part(p, n, 1, low, high, &agg->supply, &agg->nsupply) ||
		!aggregate_part(p, n, -1, low, high, &agg->demand, &agg->ndemand))
	{
		clearing_aggregate_free(agg);
		return fail_nomem(err);
	}
	return true;
}
