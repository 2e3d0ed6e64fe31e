/*
 * telemetry_checks.h: what the telemetry fuzz targets check on a series
 * that reads without error (see fuzz_telemetry.c): the cursor reads as
 * many observations as the series says, and binning and the value in
 * force agree with a direct evaluation over them.
 */
#ifndef DEG_TEST_TELEMETRY_CHECKS_H
#define DEG_TEST_TELEMETRY_CHECKS_H

#include "core/telemetry.h"
#include "fuzz.h"

#define MAXOBS 512
#define MAXBINS 8

typedef struct Obs
{
	int64_t		from;
	int64_t		to;
	bool		present[TELEMETRY_MAX_FIELDS];
	Decimal		values[TELEMETRY_MAX_FIELDS];
} Obs;

static Obs	obs[MAXOBS];

/* sorted distinct starts, picked from the observations' start times */
static int
pick_starts(size_t n, int64_t *starts, int64_t *end)
{
	int			k = 0;
	size_t		i;
	int			a,
				b;

	*end = INT64_MIN;
	for (i = 0; i < n; i++)
		if (obs[i].to > *end)
			*end = obs[i].to;
	for (i = 0; i < n && k < MAXBINS; i += 1 + n / MAXBINS)
	{
		for (a = 0; a < k; a++)
			if (starts[a] == obs[i].from)
				break;
		if (a == k && obs[i].from < *end)
			starts[k++] = obs[i].from;
	}
	for (a = 1; a < k; a++)
		for (b = a; b > 0 && starts[b - 1] > starts[b]; b--)
		{
			int64_t		t = starts[b];

			starts[b] = starts[b - 1];
			starts[b - 1] = t;
		}
	/* sometimes leave observations out at the end */
	if (k > 1 && (n & 1))
		*end = starts[k - 1] + (int64_t) (((uint64_t) *end - (uint64_t) starts[k - 1]) / 2) + 1;
	return k;
}

static void
check_series(const TelemetrySeries *s)
{
	TelemetryCursor c;
	TelemetryError err;
	size_t		n = 0,
				i;
	int			f,
				nf = s->nfields;
	int64_t		from,
				to;

	FUZZ_ASSERT(nf >= 1 && nf <= TELEMETRY_MAX_FIELDS, "fields");
	for (f = 0; f < nf; f++)
		FUZZ_ASSERT(telemetry_field_index(s, s->fields[f]) <= f, "field index");

	telemetry_cursor_init(&c, s);
	for (;;)
	{
		static Obs	scratch;
		Obs		   *o = n < MAXOBS ? &obs[n] : &scratch;
		bool		got;

		for (f = 0; f < nf; f++)
			dec_init(&o->values[f]);
		memset(&err, 0, sizeof(err));
		got = telemetry_next(&c, &from, &to, o->values, o->present, &err);
		if (!got)
		{
			FUZZ_ASSERT(err.message[0] == '\0', "a checked series fails to read: %s", err.message);
			for (f = 0; f < nf; f++)
				dec_free(&o->values[f]);
			break;
		}
		FUZZ_ASSERT(from < to, "observation ends before it starts");
		o->from = from;
		o->to = to;
		if (o == &scratch)
			for (f = 0; f < nf; f++)
				dec_free(&o->values[f]);
		n++;
	}
	FUZZ_ASSERT(n == s->nobs, "series says %zu observations, the cursor reads %zu", s->nobs, n);
	if (n > MAXOBS)
	{
		for (i = 0; i < MAXOBS; i++)
			for (f = 0; f < nf; f++)
				dec_free(&obs[i].values[f]);
		return;
	}

	/* binning, against a direct evaluation */
	{
		int64_t		starts[MAXBINS],
					end;
		int			nb = pick_starts(n, starts, &end);

		if (nb > 0)
		{
			Decimal    *out = calloc((size_t) (nb * nf), sizeof(Decimal));
			bool	   *present = calloc((size_t) (nb * nf), sizeof(bool));
			int64_t    *counts = calloc((size_t) nb, sizeof(int64_t));
			int			b;

			FUZZ_ASSERT(out && present && counts, "calloc");
			for (b = 0; b < nb * nf; b++)
				dec_init(&out[b]);
			memset(&err, 0, sizeof(err));
			if (telemetry_bin(s, starts, nb, end, out, present, counts, &err))
			{
				for (b = 0; b < nb; b++)
				{
					int64_t		lo = starts[b],
								hi = b + 1 < nb ? starts[b + 1] : end;
					int64_t		count = 0;

					for (f = 0; f < nf; f++)
					{
						Decimal		acc = DEC_INIT;
						bool		has = false;
						TelemetryRule rule = telemetry_field_rule(s->fields[f]);

						for (i = 0; i < n; i++)
						{
							if (obs[i].from < lo || obs[i].from >= hi)
								continue;
							if (f == 0)
								count++;
							if (!obs[i].present[f])
								continue;
							if (!has)
								dec_copy(&acc, &obs[i].values[f], NULL);
							else if (rule == TELEMETRY_SUM)
								dec_add(&acc, &acc, &obs[i].values[f], NULL);
							else if ((rule == TELEMETRY_MIN) == (dec_cmp(&obs[i].values[f], &acc) < 0))
								dec_copy(&acc, &obs[i].values[f], NULL);
							has = true;
						}
						FUZZ_ASSERT(present[b * nf + f] == has, "bin %d field %d presence", b, f);
						if (has)
							FUZZ_ASSERT(dec_cmp(&acc, &out[b * nf + f]) == 0, "bin %d field %s value", b, s->fields[f]);
						dec_free(&acc);
					}
					FUZZ_ASSERT(counts[b] == count, "bin %d count %lld, expected %lld", b,
								(long long) counts[b], (long long) count);
				}
				/* one field at a time: the same column and counts */
				for (f = 0; f < nf; f++)
				{
					Decimal		col[MAXBINS];
					bool		colp[MAXBINS];
					int64_t		colc[MAXBINS];

					for (b = 0; b < nb; b++)
						dec_init(&col[b]);
					FUZZ_ASSERT(telemetry_bin_field(s, f, starts, nb, end, col, colp, f % 2 ? NULL : colc, &err),
								"telemetry_bin_field fails where telemetry_bin does not: %s", err.message);
					for (b = 0; b < nb; b++)
					{
						FUZZ_ASSERT(colp[b] == present[b * nf + f] &&
									(!colp[b] || dec_cmp(&col[b], &out[b * nf + f]) == 0),
									"bin %d field %s: telemetry_bin_field differs from telemetry_bin", b, s->fields[f]);
						FUZZ_ASSERT(f % 2 || colc[b] == counts[b], "bin %d: telemetry_bin_field counts differently", b);
						dec_free(&col[b]);
					}
				}
			}
			else
				FUZZ_ASSERT(err.message[0] != '\0', "bin error without a message");
			for (b = 0; b < nb * nf; b++)
				dec_free(&out[b]);
			free(out);
			free(present);
			free(counts);

			/* the value in force at each start and just before the end */
			{
				int64_t		inst[MAXBINS + 1];
				Decimal		at[MAXBINS + 1];
				bool		atp[MAXBINS + 1];
				int			ni = nb + 1;
				int			field = (int) (n % (size_t) nf);

				memcpy(inst, starts, sizeof(int64_t) * (size_t) nb);
				inst[nb] = end - 1 > inst[nb - 1] ? end - 1 : inst[nb - 1];
				for (b = 0; b < ni; b++)
					dec_init(&at[b]);
				if (telemetry_at(s, field, inst, ni, at, atp, &err))
				{
					for (b = 0; b < ni; b++)
					{
						const Obs  *best = NULL;

						for (i = 0; i < n; i++)
							if (obs[i].present[field] && obs[i].from <= inst[b] && inst[b] < obs[i].to &&
								(best == NULL || obs[i].from >= best->from))
								best = &obs[i];
						FUZZ_ASSERT(atp[b] == (best != NULL), "value in force at %lld: presence", (long long) inst[b]);
						if (best)
							FUZZ_ASSERT(dec_cmp(&at[b], &best->values[field]) == 0,
										"value in force at %lld", (long long) inst[b]);
					}
				}
				for (b = 0; b < ni; b++)
					dec_free(&at[b]);
			}
		}
	}
	for (i = 0; i < n; i++)
		for (f = 0; f < nf; f++)
			dec_free(&obs[i].values[f]);
}

#endif							/* DEG_TEST_TELEMETRY_CHECKS_H */
