/*
 * clearing_baseline.c: the limit baseline for market clearing: a plain C
 * sort-and-sweep over the same curves, in doubles, with nothing of deg.
 *
 *   clearing_baseline --generate N SEED > market.txt
 *   clearing_baseline market.txt ...
 *
 * The text format (shared with clearing_core.c), one curve per line:
 *
 *   participant minExport maxExport price1 power1 price2 power2 ...
 *
 * numbers as decimals, prices strictly increasing, power non-decreasing;
 * lines starting with # are comments.  For each file this prints the
 * curves, the points, the clearing price, the quantity and the best of
 * five timings of the clearing itself (the file is read before timing):
 * cutting the curves into pieces at their points and clip points, a qsort
 * of the pieces by price, one sweep keeping the total and its slope, then
 * every participant's power at the price and pro-rata rationing of the
 * long side.  It does what deg's clearing does, without exactness.
 */
#define _POSIX_C_SOURCE 199309L	/* clock_gettime */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct BPoint
{
	double		price;
	double		power;
} BPoint;

typedef struct BCurve
{
	double		lo;
	double		hi;
	int			npoints;
	BPoint	   *points;
} BCurve;

typedef struct BEvent
{
	double		price;
	double		value;			/* the value where the piece starts */
	double		slope;			/* 0 when flat */
	int			who;
	int			rising;
} BEvent;

/* a participant's current piece: value + slope * (x - start) */
typedef struct BPiece
{
	double		start;
	double		value;
	double		slope;
} BPiece;

typedef struct Market
{
	int			n;
	int			cap;
	BCurve	   *curves;
	size_t		npoints;
} Market;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---------- generator ---------- */

static unsigned long long gen_state;

static unsigned long long
gen_next(void)
{
	gen_state ^= gen_state >> 12;
	gen_state ^= gen_state << 25;
	gen_state ^= gen_state >> 27;
	return gen_state * 0x2545F4914F6CDD1DULL;
}

static long
gen_range(long lo, long hi)
{
	return lo + (long) (gen_next() % (unsigned long long) (hi - lo + 1));
}

/* v / 10^places as a decimal */
static void
print_fixed(long v, int places)
{
	long		unit = places == 2 ? 100 : 10000;

	printf(" %s%ld.%0*ld", v < 0 ? "-" : "", labs(v) / unit, places, labs(v) % unit);
}

/*
 * N curves of 3 to 5 points: about half sellers (0 up to 1-50 kW), half
 * buyers (down to -1..-50 kW up to 0), a few prosumers crossing zero;
 * prices 0.0300 to 0.1500 in steps of 0.0001, powers to 0.01 kW; a
 * quarter of the curves clipped inside their range.
 */
static void
generate(long n, unsigned long long seed)
{
	long		i;

	gen_state = seed * 0x9E3779B97F4A7C15ULL + 1;
	printf("# %ld curves, seed %llu: participant minExport maxExport (price power)...\n", n, seed);
	for (i = 0; i < n; i++)
	{
		int			k = (int) gen_range(3, 5);
		int			kind = (int) gen_range(0, 19);	/* 0-8 seller, 9-17 buyer, 18-19 prosumer */
		long		price = gen_range(300, 1200);	/* 10^-4 */
		long		power;
		long		lo,
					hi;
		long		pts[5][2];
		int			j;

		power = kind < 9 ? 0 : kind < 18 ? -gen_range(100, 5000) : -gen_range(100, 2000);
		for (j = 0; j < k; j++)
		{
			pts[j][0] = price;
			pts[j][1] = power;
			price += gen_range(10, 150);
			if (gen_range(0, 4) != 0)
				power += gen_range(0, 2000);
			if (kind >= 9 && kind < 18 && power > 0)
				power = 0;
		}
		lo = pts[0][1];
		hi = pts[k - 1][1];
		if (gen_range(0, 3) == 0)
		{
			if (gen_range(0, 1))
				hi = (pts[0][1] + pts[k - 1][1]) / 2;
			else
				lo = (pts[0][1] + pts[k - 1][1]) / 2;
		}
		printf("p%07ld", i);
		print_fixed(lo, 2);
		print_fixed(hi, 2);
		for (j = 0; j < k; j++)
		{
			print_fixed(pts[j][0], 4);
			print_fixed(pts[j][1], 2);
		}
		printf("\n");
	}
}

/* ---------- reading ---------- */

static int
read_market(const char *path, Market *m)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];

	memset(m, 0, sizeof(*m));
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s = line;
		char	   *end;
		BCurve		c;
		BPoint		pts[64];
		int			k = 0;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		while (*s && *s != ' ')
			s++;
		c.lo = strtod(s, &end);
		s = end;
		c.hi = strtod(s, &end);
		s = end;
		for (;;)
		{
			double		p = strtod(s, &end);

			if (end == s || k == 64)
				break;
			s = end;
			pts[k].price = p;
			pts[k].power = strtod(s, &end);
			s = end;
			k++;
		}
		if (k == 0)
			continue;
		c.npoints = k;
		c.points = malloc(k * sizeof(BPoint));
		memcpy(c.points, pts, k * sizeof(BPoint));
		if (m->n == m->cap)
		{
			m->cap = m->cap ? 2 * m->cap : 1024;
			m->curves = realloc(m->curves, m->cap * sizeof(BCurve));
		}
		m->curves[m->n++] = c;
		m->npoints += k;
	}
	fclose(f);
	return 1;
}

/* ---------- clearing ---------- */

static double
clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double
power_at(const BCurve *c, double x)
{
	const BPoint *p = c->points;
	int			lo = 0;
	int			hi = c->npoints - 1;

	if (x <= p[0].price)
		return clampd(p[0].power, c->lo, c->hi);
	if (x >= p[hi].price)
		return clampd(p[hi].power, c->lo, c->hi);
	while (hi - lo > 1)
	{
		int			mid = (lo + hi) / 2;

		if (p[mid].price <= x)
			lo = mid;
		else
			hi = mid;
	}
	return clampd(p[lo].power + (p[lo + 1].power - p[lo].power) * (x - p[lo].price) /
				  (p[lo + 1].price - p[lo].price), c->lo, c->hi);
}

static int
event_cmp(const void *a, const void *b)
{
	double		x = ((const BEvent *) a)->price;
	double		y = ((const BEvent *) b)->price;

	return x < y ? -1 : x > y;
}

static size_t
pieces(const BCurve *c, int who, BEvent *ev)
{
	size_t		n = 0;
	int			rising = 0;
	int			j;

	for (j = 0; j + 1 < c->npoints; j++)
	{
		double		x0 = c->points[j].price,
					x1 = c->points[j + 1].price;
		double		q0 = c->points[j].power,
					q1 = c->points[j + 1].power;
		double		slope = (q1 - q0) / (x1 - x0);

		if (q0 == q1 || q1 <= c->lo || q0 >= c->hi)
		{
			if (rising)
			{
				ev[n++] = (BEvent) {x0, clampd(q0, c->lo, c->hi), 0, who, 0};
				rising = 0;
			}
			continue;
		}
		ev[n++] = (BEvent) {q0 >= c->lo ? x0 : x0 + (c->lo - q0) / slope,
			q0 >= c->lo ? q0 : c->lo, slope, who, 1};
		rising = 1;
		if (q1 > c->hi)
		{
			ev[n++] = (BEvent) {x0 + (c->hi - q0) / slope, c->hi, 0, who, 0};
			rising = 0;
		}
	}
	if (rising)
		ev[n++] = (BEvent) {c->points[c->npoints - 1].price,
			clampd(c->points[c->npoints - 1].power, c->lo, c->hi), 0, who, 0};
	return n;
}

typedef struct Outcome
{
	double		price;
	double		quantity;
	double		imbalance;		/* sum of cleared powers: should be 0 */
} Outcome;

static Outcome
clear(const Market *m)
{
	BEvent	   *ev = malloc((2 * m->npoints + 1) * sizeof(BEvent));
	BPiece	   *cur = malloc(m->n * sizeof(BPiece));
	int			rising = 0;
	double	   *cleared = malloc(m->n * sizeof(double));
	size_t		nev = 0;
	double		low = INFINITY,
				high = -INFINITY;
	double		total_low = 0,
				total_high = 0;
	double		val,
				slope = 0,
				prev;
	double		supply = 0,
				demand = 0;
	double		zero_low = NAN,
				zero_high = NAN;
	double		price = NAN;
	Outcome		out;
	size_t		k = 0;
	int			i;

	for (i = 0; i < m->n; i++)
	{
		const BCurve *c = &m->curves[i];

		if (c->points[0].price < low)
			low = c->points[0].price;
		if (c->points[c->npoints - 1].price > high)
			high = c->points[c->npoints - 1].price;
		total_low += clampd(c->points[0].power, c->lo, c->hi);
		total_high += clampd(c->points[c->npoints - 1].power, c->lo, c->hi);
		cur[i].start = low;
		cur[i].value = clampd(c->points[0].power, c->lo, c->hi);
		cur[i].slope = 0;
		nev += pieces(c, i, ev + nev);
	}
	if (total_low > 0)
		price = low;
	else if (total_high < 0)
		price = high;
	else
	{
		qsort(ev, nev, sizeof(BEvent), event_cmp);
		val = total_low;
		prev = low;
		for (;;)
		{
			double		x = k < nev ? ev[k].price : high;

			if (x > prev)
			{
				double		end = val + slope * (x - prev);

				if (rising == 0 && fabs(val) < 1e-9)
				{
					if (isnan(zero_low))
						zero_low = prev;
					zero_high = x;
				}
				else if (isnan(price) && val < 0 && end >= 0)
					price = prev - val / slope;
				val = end;
			}
			if (k >= nev || !isnan(price))
				break;
			while (k < nev && ev[k].price == x)
			{
				const BEvent *e = &ev[k++];
				BPiece	   *c = &cur[e->who];

				/* swap the participant's piece: its value at x out, the new one in */
				val -= c->value + c->slope * (x - c->start);
				slope -= c->slope;
				rising -= c->slope != 0;
				c->start = x;
				c->value = e->value;
				c->slope = e->rising ? e->slope : 0;
				val += c->value;
				slope += c->slope;
				rising += c->slope != 0;
			}
			prev = x;
		}
		if (!isnan(zero_low))
			price = (zero_low + zero_high) / 2;
		else if (isnan(price))
			price = low;
	}
	for (i = 0; i < m->n; i++)
	{
		cleared[i] = power_at(&m->curves[i], price);
		if (cleared[i] > 0)
			supply += cleared[i];
		else
			demand -= cleared[i];
	}
	out.price = price;
	out.quantity = supply < demand ? supply : demand;
	out.imbalance = 0;
	for (i = 0; i < m->n; i++)
	{
		if (supply > demand && cleared[i] > 0)
			cleared[i] *= demand / supply;
		else if (demand > supply && cleared[i] < 0)
			cleared[i] *= supply / demand;
		out.imbalance += cleared[i];
	}
	free(ev);
	free(cur);
	free(cleared);
	return out;
}

int
main(int argc, char **argv)
{
	int			a;

	if (argc == 4 && strcmp(argv[1], "--generate") == 0)
	{
		generate(atol(argv[2]), strtoull(argv[3], NULL, 10));
		return 0;
	}
	if (argc < 2)
	{
		fprintf(stderr, "usage: %s --generate N SEED | %s FILE...\n", argv[0], argv[0]);
		return 2;
	}
	for (a = 1; a < argc; a++)
	{
		Market		m;
		Outcome		o = {0, 0, 0};
		double		best = INFINITY;
		int			rep;
		int			i;

		if (!read_market(argv[a], &m))
		{
			fprintf(stderr, "cannot read %s\n", argv[a]);
			return 1;
		}
		for (rep = 0; rep < 5; rep++)
		{
			double		t0 = now_ms();

			o = clear(&m);
			if (now_ms() - t0 < best)
				best = now_ms() - t0;
		}
		printf("baseline %s: %d curves, %zu points, price %.12f, quantity %.6f kW, imbalance %.3g kW, %.2f ms\n",
			   argv[a], m.n, m.npoints, o.price, o.quantity, o.imbalance, best);
		for (i = 0; i < m.n; i++)
			free(m.curves[i].points);
		free(m.curves);
	}
	return 0;
}
