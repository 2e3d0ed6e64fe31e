/*
 * clearing_core.c: deg's exact clearing (src/core/clearing.c) on the
 * markets clearing_baseline reads, for comparison with the baseline and,
 * later, with the SQL path.
 *
 *   clearing_core market.txt ...
 *
 * Curves are read and built before timing.  For each file this prints the
 * best of five timings of
 *
 *   clear     clearing_run on curves in memory
 *   +decode   curve_deserialize of every curve's binary form (what the
 *             SQL function does with its array of datums), then clear
 *   aggregate clearing_aggregate (AggregationResult's supply and demand
 *             curves)
 *
 * and the price, quantity and rule, which should agree with the
 * baseline's to its floating-point precision.
 */
#define _POSIX_C_SOURCE 199309L	/* clock_gettime */

#include "core/clearing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct Market
{
	size_t		n;
	size_t		cap;
	size_t		npoints;
	Curve	  **curves;
	char	  **keys;
	uint8_t   **blobs;
	size_t	   *bloblens;
	ClearingParticipant *p;
} Market;

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* a decimal token at *s as fixed point with 9 places */
static int
read_number(char **s, int64_t *v)
{
	Decimal		d = DEC_INIT;
	char	   *p = *s;
	char	   *start;
	int			ok;

	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n')
		p++;
	if (p == start)
		return 0;
	ok = dec_from_text(&d, start, (size_t) (p - start), NULL) == DEC_OK &&
		curve_fixed_from_decimal(&d, CURVE_SCALE, CURVE_POWER_LIMIT, v) == 0;
	dec_free(&d);
	*s = p;
	return ok;
}

static int
read_market(const char *path, Market *m)
{
	FILE	   *f = fopen(path, "r");
	char		line[4096];
	size_t		i;

	memset(m, 0, sizeof(*m));
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *s = line;
		char	   *name;
		int64_t		lo,
					hi;
		CurvePoint	pts[64];
		int			k = 0;
		CurveError	err;
		Curve	   *c;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		name = s;
		while (*s && *s != ' ')
			s++;
		if (*s)
			*s++ = '\0';
		if (!read_number(&s, &lo) || !read_number(&s, &hi))
			return 0;
		while (k < 64 && read_number(&s, &pts[k].price) && read_number(&s, &pts[k].power))
			k++;
		c = curve_make("INR", lo, hi, pts, k, &err);
		if (c == NULL)
		{
			fprintf(stderr, "%s: %s: %s\n", path, name, err.message);
			return 0;
		}
		if (m->n == m->cap)
		{
			m->cap = m->cap ? 2 * m->cap : 1024;
			m->curves = realloc(m->curves, m->cap * sizeof(Curve *));
			m->keys = realloc(m->keys, m->cap * sizeof(char *));
		}
		m->curves[m->n] = c;
		m->keys[m->n] = malloc(strlen(name) + 1);
		strcpy(m->keys[m->n], name);
		m->n++;
		m->npoints += (size_t) k;
	}
	fclose(f);
	m->p = malloc(m->n * sizeof(ClearingParticipant));
	m->blobs = malloc(m->n * sizeof(uint8_t *));
	m->bloblens = malloc(m->n * sizeof(size_t));
	for (i = 0; i < m->n; i++)
	{
		m->p[i].curve = m->curves[i];
		m->p[i].key = (const uint8_t *) m->keys[i];
		m->p[i].keylen = strlen(m->keys[i]);
		m->bloblens[i] = curve_serialized_size(m->curves[i]);
		m->blobs[i] = malloc(m->bloblens[i]);
		curve_serialize(m->curves[i], m->blobs[i]);
	}
	return 1;
}

static void
free_market(Market *m)
{
	size_t		i;

	for (i = 0; i < m->n; i++)
	{
		curve_free(m->curves[i]);
		free(m->keys[i]);
		free(m->blobs[i]);
	}
	free(m->curves);
	free(m->keys);
	free(m->blobs);
	free(m->bloblens);
	free(m->p);
}

int
main(int argc, char **argv)
{
	int			a;

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s FILE...\n", argv[0]);
		return 2;
	}
	for (a = 1; a < argc; a++)
	{
		Market		m;
		ClearingResult r;
		ClearingError err;
		ClearingAggregate agg;
		double		best_clear = INFINITY;
		double		best_decode = INFINITY;
		double		best_agg = INFINITY;
		char		price[32];
		char		quantity[64];
		int			rep;
		size_t		i;

		if (!read_market(argv[a], &m))
		{
			fprintf(stderr, "cannot read %s\n", argv[a]);
			return 1;
		}
		clearing_result_init(&r);
		for (rep = 0; rep < 5; rep++)
		{
			double		t0 = now_ms();
			double		t;
			ClearingParticipant *dp = malloc(m.n * sizeof(ClearingParticipant));
			Curve	  **dc = malloc(m.n * sizeof(Curve *));

			clearing_result_free(&r);
			if (!clearing_run(m.p, m.n, 0, &r, &err))
			{
				fprintf(stderr, "%s: %s\n", argv[a], err.message);
				return 1;
			}
			t = now_ms() - t0;
			if (t < best_clear)
				best_clear = t;

			t0 = now_ms();
			for (i = 0; i < m.n; i++)
			{
				dc[i] = curve_deserialize(m.blobs[i], m.bloblens[i], NULL);
				dp[i] = m.p[i];
				dp[i].curve = dc[i];
			}
			clearing_result_free(&r);
			if (!clearing_run(dp, m.n, 0, &r, &err))
				return 1;
			t = now_ms() - t0;
			if (t < best_decode)
				best_decode = t;
			for (i = 0; i < m.n; i++)
				curve_free(dc[i]);
			free(dc);
			free(dp);

			t0 = now_ms();
			if (!clearing_aggregate(m.p, m.n, &agg, &err))
				return 1;
			t = now_ms() - t0;
			if (t < best_agg)
				best_agg = t;
			clearing_aggregate_free(&agg);
		}
		curve_fixed_format(r.price, CURVE_PRICE_SCALE, price);
		dec_format(&r.quantity, quantity);
		printf("core %s: %zu curves, %zu points, price %s (%s), quantity %s kW, "
			   "clear %.2f ms, +decode %.2f ms, aggregate %.2f ms\n",
			   argv[a], m.n, m.npoints, price, clearing_rule_name(r.rule), quantity,
			   best_clear, best_decode, best_agg);
		clearing_result_free(&r);
		free_market(&m);
	}
	return 0;
}
