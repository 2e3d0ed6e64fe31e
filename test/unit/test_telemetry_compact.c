/*
 * test_telemetry_compact.c: compact records (src/core/telemetry.h), which
 * the billing aggregate keeps, against version 1 records as the reference.
 *
 *  - the encoding: sizes of typical readings, pinned bytes of one record;
 *  - round trips over random series (times at the extremes of int64, in
 *    seconds and microseconds, repeating lengths; values with trailing
 *    zeros, large scales, more than 16 digits, negative, zero): read back,
 *    serialized (byte for byte the version 1 bytes of the same
 *    observations), merged by appending (also into itself, and across the
 *    two encodings), binned field by field as telemetry_bin bins them;
 *  - values decoded by the short cut for normalized numerics and by
 *    dec_recv alike, normalized or not;
 *  - every truncation of a compact buffer is refused, never read past;
 *    telemetry_at refuses more observations than a series counts.
 */
#include "core/telemetry.h"
#include "unit.h"

#include <stdlib.h>

#define SECOND INT64_C(1000000)
#define QUARTER (15 * 60 * SECOND)
#define T0 INT64_C(793929600000000)	/* 2025-03-01 00:00 UTC, PostgreSQL microseconds */

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static int
rnd(int n)
{
	return (int) (unit_rng(&rng_state) % (uint64_t) n);
}

static void
parse(Decimal *d, const char *text)
{
	DecError	e;

	if (dec_from_text(d, text, strlen(text), &e) != DEC_OK)
		CHECK(false, "test value \"%.40s\" parses (%s)", text, e.message);
}

static bool
dec_same(const Decimal *a, const Decimal *b)
{
	return dec_cmp(a, b) == 0 && a->dscale == b->dscale && a->ndigits == b->ndigits && a->weight == b->weight &&
		a->sign == b->sign;
}

/* a random numeric's text: often short, sometimes with trailing zeros, long, large or tiny */
static void
random_text(char *out)
{
	int			kind = rnd(10);
	int			n = 0,
				i;

	if (rnd(4) == 0)
		out[n++] = '-';
	if (kind == 0)
	{
		strcpy(out + n, rnd(2) ? "0" : "0.0000");
		return;
	}
	/* integer part: 0 to 30 digits */
	{
		int			digits = kind == 1 ? 18 + rnd(12) : rnd(6);

		out[n++] = (char) ('1' + rnd(9));
		for (i = 0; i < digits; i++)
			out[n++] = (char) ('0' + rnd(10));
	}
	if (rnd(3) > 0)
	{
		int			places = kind == 2 ? 100 + rnd(60) : rnd(8);
		int			zeros = kind == 3 ? 10 + rnd(20) : rnd(2) ? rnd(4) : 0;

		out[n++] = '.';
		for (i = 0; i < places; i++)
			out[n++] = (char) ('0' + rnd(10));
		for (i = 0; i < zeros; i++)
			out[n++] = '0';
	}
	out[n] = '\0';
}

/* an observation's times: mostly quarter hours after the last, sometimes anywhere */
static void
random_times(int64_t *from, int64_t *to, int64_t *last_end)
{
	if (*last_end > INT64_MAX / 2 || *last_end < INT64_MIN / 2)
		*last_end = T0;			/* after an extreme one, back to ordinary times */
	switch (rnd(8))
	{
		case 0:
			*from = INT64_MIN + rnd(3);
			*to = rnd(2) ? INT64_MAX : *from + 1 + rnd(5);
			break;
		case 1:
			*from = (int64_t) unit_rng(&rng_state) / 2;
			*to = *from + 1 + rnd(1000000);
			break;
		case 2:
			*from = *last_end - 7 * QUARTER + rnd(3);
			*to = *from + QUARTER;
			break;
		default:
			*from = *last_end + (rnd(3) == 0 ? rnd(4) * QUARTER : 0);
			*to = *from + (rnd(6) == 0 ? 2 * QUARTER : QUARTER);
			break;
	}
	*last_end = *to;
}

static TelemetrySeries *
make_series(TelemetrySet *set, const char *ref, int nfields)
{
	static const char *const names[] = {"importedKWh", "exportedKWh", "startTime", "endTime"};
	size_t		lens[4];
	TelemetryError err;
	int			f;

	for (f = 0; f < nfields; f++)
		lens[f] = strlen(names[f]);
	return telemetry_series(set, ref, strlen(ref), names, lens, nfields, &err);
}

/* the same random observations added to a compact and a version 1 series */
static void
fill(TelemetrySeries *compact, TelemetrySeries *plain, int n, int64_t *last_end)
{
	int			i,
				f;

	for (i = 0; i < n; i++)
	{
		Decimal		values[4];
		bool		present[4];
		int64_t		from,
					to;
		TelemetryError e1,
					e2;
		char		text[256];
		bool		ok1,
					ok2;

		random_times(&from, &to, last_end);
		for (f = 0; f < plain->nfields; f++)
		{
			dec_init(&values[f]);
			present[f] = rnd(8) > 0;
			if (present[f])
			{
				random_text(text);
				parse(&values[f], text);
			}
		}
		ok1 = telemetry_add_decimals(compact, from, to, values, present, &e1);
		ok2 = telemetry_add_decimals(plain, from, to, values, present, &e2);
		if (!ok1 || !ok2)
			CHECK(false, "an observation is added to both (%s / %s)", e1.message, e2.message);
		for (f = 0; f < plain->nfields; f++)
			dec_free(&values[f]);
	}
}

/* the two series read back the same observations */
static bool
same_observations(const TelemetrySeries *a, const TelemetrySeries *b)
{
	TelemetryCursor ca,
				cb;
	Decimal		va[4],
				vb[4];
	bool		pa[4],
				pb[4];
	int64_t		fa,
				ta,
				fb,
				tb;
	TelemetryError ea,
				eb;
	bool		same = a->nobs == b->nobs && a->nfields == b->nfields;
	bool		more_a,
				more_b;
	int			f;

	for (f = 0; f < 4; f++)
	{
		dec_init(&va[f]);
		dec_init(&vb[f]);
	}
	telemetry_cursor_init(&ca, a);
	telemetry_cursor_init(&cb, b);
	while (same)
	{
		more_a = telemetry_next(&ca, &fa, &ta, va, pa, &ea);
		more_b = telemetry_next(&cb, &fb, &tb, vb, pb, &eb);
		if (!more_a || !more_b)
		{
			same = !more_a && !more_b && ea.message[0] == '\0' && eb.message[0] == '\0';
			break;
		}
		same = fa == fb && ta == tb;
		for (f = 0; same && f < a->nfields; f++)
			same = pa[f] == pb[f] && (!pa[f] || dec_same(&va[f], &vb[f]));
	}
	for (f = 0; f < 4; f++)
	{
		dec_free(&va[f]);
		dec_free(&vb[f]);
	}
	return same;
}

static bool
same_bytes(const TelemetrySet *a, const TelemetrySet *b)
{
	DegBuf		x,
				y;
	bool		same;

	degbuf_init(&x);
	degbuf_init(&y);
	same = telemetry_serialize(a, &x) && telemetry_serialize(b, &y) && x.len == y.len &&
		memcmp(x.data, y.data, x.len) == 0;
	degbuf_free(&x);
	degbuf_free(&y);
	return same;
}

/* ---------- the encoding ---------- */

static void
test_encoding(void)
{
	TelemetrySet set;
	TelemetrySeries *s;
	Decimal		values[2];
	bool		present[2] = {true, true};
	TelemetryError err;
	int			i;
	static const uint8_t want[] = {
		/* head: zigzag(start in seconds) << 3 | 2 (seconds), then the length in seconds (900) */
		0x82, 0xF0, 0x99, 0xA9, 0x2F, 0x84, 0x07,
		/* importedKWh 1.234: dscale 3 (tag 4), digits zigzag(1234) = 2468 */
		0x04, 0xA4, 0x13,
		/* exportedKWh 0.2500000: dscale 7 with 5 zeros (tag 128 + 7, 5), digits zigzag(25) = 50 */
		0x87, 0x05, 0x32
	};

	telemetry_init(&set);
	set.compact = true;
	s = make_series(&set, "telemetrySources.meter", 2);
	dec_init(&values[0]);
	dec_init(&values[1]);
	parse(&values[0], "1.234");
	parse(&values[1], "0.2500000");
	CHECK(telemetry_add_decimals(s, T0, T0 + QUARTER, values, present, &err) && s->obs.len == sizeof(want) &&
		  memcmp(s->obs.data, want, sizeof(want)) == 0,
		  "a reading's pinned compact bytes (%zu)", s->obs.len);
	/* the next quarter hours: the same length, no gap: a one-byte head (3: seconds, same length) */
	for (i = 1; i <= 95; i++)
		CHECK(telemetry_add_decimals(s, T0 + i * QUARTER, T0 + (i + 1) * QUARTER, values, present, &err),
			  "reading %d is added", i);
	CHECK(s->obs.len == sizeof(want) + 95 * 7 && s->obs.data[sizeof(want)] == 3,
		  "a day of quarter-hour readings takes %zu bytes", s->obs.len);
	dec_free(&values[0]);
	dec_free(&values[1]);
	telemetry_free(&set);
}

/* ---------- round trips, serialization, merging, binning ---------- */

static void
test_round_trips(void)
{
	int			round;

	for (round = 0; round < 200; round++)
	{
		TelemetrySet cset,
					pset,
					cmerged,
					pmerged,
					mixed;
		TelemetrySeries *c,
				   *p;
		TelemetryError err;
		int64_t		last = T0;
		int			nfields = 1 + rnd(4);

		telemetry_init(&cset);
		telemetry_init(&pset);
		cset.compact = true;
		c = make_series(&cset, "telemetrySources.m", nfields);
		p = make_series(&pset, "telemetrySources.m", nfields);
		fill(c, p, rnd(40), &last);
		CHECK(c->compact && !p->compact && same_observations(c, p), "round %d: the compact series reads back as added", round);
		CHECK(same_bytes(&cset, &pset), "round %d: and serializes to the same version 1 bytes", round);

		/* appended: another part whose records were counted from nothing */
		telemetry_init(&cmerged);
		telemetry_init(&pmerged);
		cmerged.compact = true;
		{
			TelemetrySet c2,
						p2;

			telemetry_init(&c2);
			telemetry_init(&p2);
			c2.compact = true;
			fill(make_series(&c2, "telemetrySources.m", nfields), make_series(&p2, "telemetrySources.m", nfields),
				 rnd(40), &last);
			CHECK(telemetry_merge(&cmerged, &cset, &err) && telemetry_merge(&cmerged, &c2, &err) &&
				  telemetry_merge(&pmerged, &pset, &err) && telemetry_merge(&pmerged, &p2, &err) &&
				  same_bytes(&cmerged, &pmerged) && same_observations(&cmerged.series[0], &pmerged.series[0]),
				  "round %d: compact parts appended are the parts one after the other", round);
			/* into itself, and across the encodings */
			CHECK(telemetry_merge(&cmerged, &cmerged, &err) && telemetry_merge(&pmerged, &pmerged, &err) &&
				  same_bytes(&cmerged, &pmerged), "round %d: merged into itself, doubled", round);
			telemetry_init(&mixed);
			mixed.compact = true;
			CHECK(telemetry_merge(&mixed, &p2, &err) && telemetry_merge(&mixed, &cset, &err) &&
				  telemetry_merge(&p2, &cset, &err) && same_bytes(&mixed, &p2),
				  "round %d: version 1 into compact and compact into version 1", round);
			telemetry_free(&mixed);
			telemetry_free(&c2);
			telemetry_free(&p2);
		}

		/* binned field by field, on a uniform grid and an uneven one, as telemetry_bin bins the whole */
		{
			int64_t		starts[12];
			int			nbins = 1 + rnd(10);
			int64_t		end;
			int			b,
						f;
			Decimal    *whole = malloc(sizeof(Decimal) * (size_t) nbins * nfields);
			bool	   *whole_has = malloc((size_t) nbins * nfields);
			int64_t    *counts = malloc(sizeof(int64_t) * (size_t) nbins);
			Decimal    *one = malloc(sizeof(Decimal) * (size_t) nbins);
			bool	   *one_has = malloc((size_t) nbins);
			int64_t    *one_counts = malloc(sizeof(int64_t) * (size_t) nbins);
			bool		same = true;

			for (b = 0; b < nbins; b++)
				starts[b] = T0 + b * (rnd(4) == 0 && round % 2 ? 3 : 4) * QUARTER;
			end = starts[nbins - 1] + 4 * QUARTER;
			for (b = 0; b < nbins * nfields; b++)
				dec_init(&whole[b]);
			same = telemetry_bin(&pmerged.series[0], starts, nbins, end, whole, whole_has, counts, &err);
			for (f = 0; same && f < nfields; f++)
			{
				for (b = 0; b < nbins; b++)
					dec_init(&one[b]);
				same = telemetry_bin_field(&cmerged.series[0], f, starts, nbins, end, one, one_has, one_counts, &err);
				for (b = 0; same && b < nbins; b++)
					same = one_has[b] == whole_has[b * nfields + f] && one_counts[b] == counts[b] &&
						(!one_has[b] || dec_same(&one[b], &whole[b * nfields + f]));
				for (b = 0; b < nbins; b++)
					dec_free(&one[b]);
			}
			CHECK(same, "round %d: each field binned alone is its column of telemetry_bin (%s)", round, err.message);
			for (b = 0; b < nbins * nfields; b++)
				dec_free(&whole[b]);
			free(whole);
			free(whole_has);
			free(counts);
			free(one);
			free(one_has);
			free(one_counts);
		}
		telemetry_free(&cset);
		telemetry_free(&pset);
		telemetry_free(&cmerged);
		telemetry_free(&pmerged);
	}
}

/* ---------- values, normalized or not ---------- */

static void
put16(uint8_t *p, int v)
{
	p[0] = (uint8_t) ((v >> 8) & 0xFF);
	p[1] = (uint8_t) (v & 0xFF);
}

static void
test_values(void)
{
	int			round;

	for (round = 0; round < 3000; round++)
	{
		/* numeric_send bytes, now and then with a leading or trailing zero digit or a digit beyond dscale */
		uint8_t		wire[8 + 2 * 8];
		int			n = rnd(6),
					i;
		int			weight = rnd(8) - 4;
		int			sign = rnd(3) == 0 ? 0x4000 : 0;
		int			dscale = rnd(12);
		TelemetrySet set;
		TelemetrySeries *s;
		const uint8_t *w[1];
		size_t		lens[1];
		Decimal		want = DEC_INIT,
					got = DEC_INIT;
		DecError	derr;
		TelemetryError err;
		TelemetryCursor c;
		int64_t		from,
					to;
		bool		present;
		DecStatus	st;

		put16(wire, n);
		put16(wire + 2, weight);
		put16(wire + 4, sign);
		put16(wire + 6, dscale);
		for (i = 0; i < n; i++)
			put16(wire + 8 + 2 * i, rnd(5) == 0 ? 0 : rnd(10000));
		st = dec_recv(&want, wire, 8 + 2 * (size_t) n, &derr);
		if (st != DEC_OK)
		{
			dec_free(&want);
			continue;			/* not a value (e.g. too many places for dscale is still one; a bad sign is not) */
		}
		w[0] = wire;
		lens[0] = 8 + 2 * (size_t) n;
		for (i = 0; i < 2; i++)
		{
			telemetry_init(&set);
			set.compact = i == 1;
			s = make_series(&set, "v", 1);
			CHECK(telemetry_add(s, 0, 1, w, lens, &err), "round %d: a value is added", round);
			telemetry_cursor_init(&c, s);
			CHECK(telemetry_next(&c, &from, &to, &got, &present, &err) && present && dec_same(&got, &want),
				  "round %d (%s): the value reads back as dec_recv reads it", round, i ? "compact" : "version 1");
			telemetry_free(&set);
		}
		dec_free(&want);
		dec_free(&got);
	}
}

/* ---------- hostile bytes ---------- */

static void
test_truncations(void)
{
	TelemetrySet set;
	TelemetrySeries *s;
	int64_t		last = T0;
	size_t		full,
				cut;
	TelemetryError err;

	telemetry_init(&set);
	set.compact = true;
	s = make_series(&set, "m", 2);
	{
		TelemetrySet plain;

		telemetry_init(&plain);
		fill(s, make_series(&plain, "m", 2), 30, &last);
		telemetry_free(&plain);
	}
	full = s->obs.len;
	for (cut = 0; cut < full; cut++)
	{
		/* the records cut short, in a buffer of exactly that size */
		char	   *copy = malloc(cut + 1);
		char	   *kept = s->obs.data;
		TelemetryCursor c;
		Decimal		v[2];
		bool		p[2];
		int64_t		from,
					to;
		size_t		n = 0;
		bool		more;

		memcpy(copy, kept, cut);
		s->obs.data = copy;
		s->obs.len = cut;
		dec_init(&v[0]);
		dec_init(&v[1]);
		telemetry_cursor_init(&c, s);
		while ((more = telemetry_next(&c, &from, &to, v, p, &err)))
			n++;
		CHECK(n < s->nobs && (err.message[0] != '\0' || c.pos == cut),
			  "records cut at %zu of %zu: read up to the cut, and no further", cut, full);
		dec_free(&v[0]);
		dec_free(&v[1]);
		s->obs.data = kept;
		s->obs.len = full;
		free(copy);
	}
	/* a series that counts fewer observations than it holds */
	{
		Decimal		out[4];
		bool		has[4];
		int64_t		at[4] = {T0, T0 + QUARTER, T0 + 2 * QUARTER, T0 + 3 * QUARTER};
		size_t		nobs = s->nobs;
		int			i;

		for (i = 0; i < 4; i++)
			dec_init(&out[i]);
		s->nobs = 1;
		CHECK(!telemetry_at(s, 0, at, 4, out, has, &err) && strstr(err.message, "more observations than it counts") != NULL,
			  "telemetry_at refuses a series with more observations than it counts: %s", err.message);
		s->nobs = nobs;
		for (i = 0; i < 4; i++)
			dec_free(&out[i]);
	}
	/* serialized, a series' count must be its records' (version 1 readers trust the count) */
	{
		size_t		nobs = s->nobs;
		DegBuf		out;
		bool		ok;

		degbuf_init(&out);
		ok = telemetry_serialize(&set, &out);
		CHECK(ok, "the series as built serializes");
		degbuf_free(&out);
		s->nobs = nobs - 1;
		degbuf_init(&out);
		ok = telemetry_serialize(&set, &out);
		CHECK(!ok && !out.oom, "a series counting one record fewer than it holds is refused, and not as out of memory");
		degbuf_free(&out);
		s->nobs = nobs + 1;
		degbuf_init(&out);
		ok = telemetry_serialize(&set, &out);
		CHECK(!ok && !out.oom, "a series counting one record more than it holds is refused");
		degbuf_free(&out);
		s->nobs = nobs;
	}
	telemetry_free(&set);
}

int
main(void)
{
	test_encoding();
	test_round_trips();
	test_values();
	test_truncations();
	return unit_done("telemetry compact");
}
