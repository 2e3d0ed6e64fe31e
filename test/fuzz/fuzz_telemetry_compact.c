/*
 * fuzz_telemetry_compact.c: compact telemetry records (src/core/
 * telemetry.c), which the billing aggregate keeps and which travel between
 * parallel workers unchecked, to be read by code that checks every bound.
 *
 * First byte, bit 0 set: the rest is a compact series as a worker's state
 * brings it (a record count, the last record's end and length, records
 * of any bytes).  Every reader (cursor, binning, one field's binning, the
 * value in force, serializing, merging) must refuse or read it without
 * touching a byte outside; when it serializes, the version 1 form must
 * read back to the same observations, and everything read from the
 * compact series must agree with the same read from that form and with
 * a direct evaluation (telemetry_checks.h).
 *
 * Bit 0 clear: observations built from the bytes (starts after, on or
 * before the previous end, lengths in seconds or microseconds, repeated or
 * not, values with trailing zeros, more than 16 digits or a scale above
 * 126) are added to a compact and to a plain series: both must serialize
 * to the same bytes, and the compact one built in two halves and merged
 * (telemetry_compact_append) to the same bytes again.
 */
#include "core/telemetry.h"
#include "fuzz.h"
#include "telemetry_checks.h"

static const char *const field_pool[] = {
	"importedKWh", "startTime", "exportedKWh", "endTime", "price", "maxKW"
};

#define NPOOL ((int) (sizeof(field_pool) / sizeof(field_pool[0])))

static TelemetrySeries *
new_series(TelemetrySet *set, bool compact, int nfields, int first)
{
	const char *names[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
	TelemetryError err;
	TelemetrySeries *s;
	int			i;

	telemetry_init(set);
	set->compact = compact;
	for (i = 0; i < nfields; i++)
	{
		names[i] = field_pool[(first + i) % NPOOL];
		lens[i] = strlen(names[i]);
	}
	s = telemetry_series(set, "telemetrySources.meter-1", 24, names, lens, nfields, &err);
	FUZZ_ASSERT(s != NULL && s->compact == compact, "series: %s", err.message);
	return s;
}

/* read the series to its end or an error; the count, or -1 on an error */
static long
read_all(const TelemetrySeries *s)
{
	TelemetryCursor c;
	TelemetryError err;
	Decimal		values[TELEMETRY_MAX_FIELDS];
	bool		present[TELEMETRY_MAX_FIELDS];
	int64_t		from,
				to;
	long		n = 0;
	int			f;

	for (f = 0; f < s->nfields; f++)
		dec_init(&values[f]);
	telemetry_cursor_init(&c, s);
	memset(&err, 0, sizeof(err));
	while (telemetry_next(&c, &from, &to, values, present, &err))
	{
		FUZZ_ASSERT(from < to, "a record read with from >= to");
		if (++n > (long) s->nobs + 1)
			break;
	}
	for (f = 0; f < s->nfields; f++)
		dec_free(&values[f]);
	return err.message[0] != '\0' ? -1 : n;
}

/* the same observations, one by one */
static void
same_observations(const TelemetrySeries *a, const TelemetrySeries *b)
{
	TelemetryCursor ca,
				cb;
	TelemetryError err;
	Decimal		va[TELEMETRY_MAX_FIELDS],
				vb[TELEMETRY_MAX_FIELDS];
	bool		pa[TELEMETRY_MAX_FIELDS],
				pb[TELEMETRY_MAX_FIELDS];
	int64_t		fa,
				ta,
				fb,
				tb;
	int			f;
	size_t		n = 0;

	FUZZ_ASSERT(a->nfields == b->nfields && a->nobs == b->nobs, "shapes differ");
	for (f = 0; f < a->nfields; f++)
	{
		dec_init(&va[f]);
		dec_init(&vb[f]);
	}
	telemetry_cursor_init(&ca, a);
	telemetry_cursor_init(&cb, b);
	for (;;)
	{
		bool		ga = telemetry_next(&ca, &fa, &ta, va, pa, &err);
		bool		gb = telemetry_next(&cb, &fb, &tb, vb, pb, &err);

		FUZZ_ASSERT(ga == gb, "observation %zu: one series ends before the other", n);
		if (!ga)
			break;
		FUZZ_ASSERT(fa == fb && ta == tb, "observation %zu: [%lld, %lld) read as [%lld, %lld)", n,
					(long long) fa, (long long) ta, (long long) fb, (long long) tb);
		for (f = 0; f < a->nfields; f++)
			FUZZ_ASSERT(pa[f] == pb[f] && (!pa[f] || (dec_cmp(&va[f], &vb[f]) == 0 && va[f].dscale == vb[f].dscale)),
						"observation %zu field %d differs", n, f);
		n++;
	}
	for (f = 0; f < a->nfields; f++)
	{
		dec_free(&va[f]);
		dec_free(&vb[f]);
	}
}

/* every reader on a compact series of unknown bytes */
static void
check_compact(const TelemetrySet *set)
{
	const TelemetrySeries *s = &set->series[0];
	TelemetryError err;
	DegBuf		b1,
				b2;
	long		n = read_all(s);
	bool		serializes,
				serialized;
	TelemetrySet copy,
				plain;

	degbuf_init(&b1);
	serializes = serialized = telemetry_serialize(set, &b1);
	if (serialized && n != (long) s->nobs)
	{
		/*
		 * telemetry_serialize counts the records: it refuses a series that
		 * does not hold as many as it says.  Records it writes that a
		 * cursor cannot read make a version 1 form that
		 * telemetry_deserialize must refuse.
		 */
		FUZZ_ASSERT(n < 0, "%ld records where the series says %zu, and it serializes", n, s->nobs);
		memset(&err, 0, sizeof(err));
		FUZZ_ASSERT(!telemetry_deserialize((const uint8_t *) b1.data, b1.len, &plain, &err),
					"%ld records where the series says %zu, and the version 1 form is accepted", n, s->nobs);
		serialized = false;
	}
	if (serialized)
	{
		memset(&err, 0, sizeof(err));
		FUZZ_ASSERT(telemetry_deserialize((const uint8_t *) b1.data, b1.len, &plain, &err),
					"the version 1 form of a compact set is refused: %s", err.message);
		same_observations(s, &plain.series[0]);
		check_series(s);
		check_series(&plain.series[0]);
		telemetry_free(&plain);
	}
	else
	{
		/* malformed: binning and the value in force refuse it, or read what is there */
		int64_t		starts[2] = {INT64_MIN / 2, 0};
		Decimal		out[2 * TELEMETRY_MAX_FIELDS];
		bool		present[2 * TELEMETRY_MAX_FIELDS];
		int64_t		counts[2];
		int			k;

		for (k = 0; k < 2 * s->nfields; k++)
			dec_init(&out[k]);
		memset(&err, 0, sizeof(err));
		if (!telemetry_bin(s, starts, 2, INT64_MAX / 2, out, present, counts, &err))
			FUZZ_ASSERT(err.message[0] != '\0', "bin error without a message");
		memset(&err, 0, sizeof(err));
		if (!telemetry_bin_field(s, 0, starts, 2, INT64_MAX / 2, out, present, counts, &err))
			FUZZ_ASSERT(err.message[0] != '\0', "bin_field error without a message");
		memset(&err, 0, sizeof(err));
		if (!telemetry_at(s, s->nfields - 1, starts, 2, out, present, &err))
			FUZZ_ASSERT(err.message[0] != '\0', "at error without a message");
		for (k = 0; k < 2 * s->nfields; k++)
			dec_free(&out[k]);
	}

	/* merged into an empty compact set, and into itself */
	telemetry_init(&copy);
	copy.compact = true;
	memset(&err, 0, sizeof(err));
	if (telemetry_merge(&copy, set, &err))
	{
		degbuf_init(&b2);
		/* (a merge counts the records it copies: a miscounted series' copy may serialize) */
		FUZZ_ASSERT(telemetry_serialize(&copy, &b2) || !serializes, "a set that serializes merges into one that does not");
		if (serialized)
			FUZZ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "merge into an empty set changes it");
		degbuf_free(&b2);
		memset(&err, 0, sizeof(err));
		if (telemetry_merge(&copy, set, &err) && serialized)
		{
			FUZZ_ASSERT(copy.series[0].nobs == 2 * s->nobs, "merged twice: %zu records", copy.series[0].nobs);
			FUZZ_ASSERT(read_all(&copy.series[0]) == (long) copy.series[0].nobs, "merged twice: unreadable");
		}
	}
	else
		FUZZ_ASSERT(!serializes && err.message[0] != '\0', "merge of a set that serializes fails: %s", err.message);
	telemetry_free(&copy);
	degbuf_free(&b1);
}

/* a decimal with up to 40 digits, trailing zeros, sometimes a scale above 126 */
static void
gen_value(FuzzReader *r, Decimal *d)
{
	char		text[200];
	uint8_t		shape = fuzz_u8(r);
	int			ndig = 1 + fuzz_u8(r) % (shape & 0x80 ? 40 : 17);
	int			point = fuzz_u8(r) % (ndig + 1);
	int			zeros = shape & 0x40 ? fuzz_u8(r) % 8 : 0;
	int			pos = 0,
				i;
	DecError	err;

	if (shape & 1)
		text[pos++] = '-';
	for (i = 0; i < ndig; i++)
	{
		if (i == point && i > 0)
			text[pos++] = '.';
		text[pos++] = (char) ('0' + (i < ndig - zeros ? fuzz_u8(r) % 10 : 0));
	}
	if (point == 0 || point >= ndig)
	{
		if (shape & 0x20)
		{
			/* a scale above 126 */
			text[pos++] = '.';
			for (i = 0; i < 130; i++)
				text[pos++] = (char) (i == 129 ? '0' + 1 + fuzz_u8(r) % 9 : '0');
		}
	}
	text[pos] = '\0';
	FUZZ_ASSERT(dec_from_text(d, text, strlen(text), &err) == DEC_OK, "value %s", text);
}

#define MAXGEN 64

/* a + b, held at the int64 bounds */
static int64_t
sat_add(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

static void
generated(FuzzReader *r, int nfields, int first)
{
	TelemetrySet compact,
				plain,
				half1,
				half2;
	TelemetrySeries *sc = new_series(&compact, true, nfields, first);
	TelemetrySeries *sp = new_series(&plain, false, nfields, first);
	TelemetrySeries *h1 = new_series(&half1, true, nfields, first);
	TelemetrySeries *h2 = new_series(&half2, true, nfields, first);
	int			n = fuzz_u8(r) % (MAXGEN + 1);
	int			cut = n ? fuzz_u8(r) % (n + 1) : 0;
	int64_t		end = 0,
				length = 0;
	TelemetryError err;
	DegBuf		bc,
				bp,
				bh;
	int			i,
				f;

	for (i = 0; i < n; i++)
	{
		uint8_t		how = fuzz_u8(r);
		int64_t		unit = how & 1 ? 1000000 : 1;
		int64_t		from,
					to;
		Decimal		values[TELEMETRY_MAX_FIELDS];
		bool		present[TELEMETRY_MAX_FIELDS];
		bool		ac,
					ap;

		switch ((how >> 1) % 6)
		{
			case 0:
				from = end;
				break;
			case 1:
				from = sat_add(end, (int64_t) fuzz_u8(r) * unit);
				break;
			case 2:
				from = sat_add(end, -(int64_t) fuzz_u64(r, 2) * unit);
				break;
			case 3:
				from = (int64_t) fuzz_u64(r, 8);
				break;
			default:
				from = (int64_t) fuzz_u64(r, 4) * 900 * unit;
				break;
		}
		if (how & 0x10 && length > 0)
			to = sat_add(from, length);
		else if (how & 0x20)
			to = sat_add(from, (int64_t) (1 + fuzz_u64(r, 2)) * unit);
		else
			to = sat_add(sat_add(from, 1), (int64_t) (fuzz_u64(r, 8) >> (1 + fuzz_u8(r) % 63)));
		if (to <= from)
		{
			if (from == INT64_MAX)
				from--;
			to = from + 1;
		}
		for (f = 0; f < nfields; f++)
		{
			dec_init(&values[f]);
			present[f] = (fuzz_u8(r) & 3) != 0;
			if (present[f])
				gen_value(r, &values[f]);
		}
		ac = telemetry_add_decimals(sc, from, to, values, present, &err);
		ap = telemetry_add_decimals(sp, from, to, values, present, &err);
		FUZZ_ASSERT(ac == ap, "an observation added to one series only: %s", err.message);
		if (ac)
			FUZZ_ASSERT(telemetry_add_decimals(i < cut ? h1 : h2, from, to, values, present, &err), "half");
		for (f = 0; f < nfields; f++)
			dec_free(&values[f]);
		if (ac)
		{
			end = to;
			length = (int64_t) ((uint64_t) to - (uint64_t) from);	/* as the core keeps it */
		}
	}
	degbuf_init(&bc);
	degbuf_init(&bp);
	FUZZ_ASSERT(telemetry_serialize(&compact, &bc) && telemetry_serialize(&plain, &bp), "serialize");
	FUZZ_ASSERT(bc.len == bp.len && memcmp(bc.data, bp.data, bc.len) == 0,
				"a compact series serializes differently from the same observations added plainly");
	FUZZ_ASSERT(telemetry_merge(&half1, &half2, &err), "merge halves: %s", err.message);
	degbuf_init(&bh);
	FUZZ_ASSERT(telemetry_serialize(&half1, &bh), "serialize halves");
	FUZZ_ASSERT(bh.len == bc.len && memcmp(bh.data, bc.data, bc.len) == 0,
				"two compact halves merged differ from the whole");
	check_compact(&compact);
	degbuf_free(&bc);
	degbuf_free(&bp);
	degbuf_free(&bh);
	telemetry_free(&compact);
	telemetry_free(&plain);
	telemetry_free(&half1);
	telemetry_free(&half2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzReader	r;
	uint8_t		head;
	int			nfields,
				first;

	fuzz_reader_init(&r, data, size);
	head = fuzz_u8(&r);
	nfields = 1 + (head >> 1) % 3;
	first = (head >> 3) % NPOOL;
	if (head & 1)
	{
		TelemetrySet set;
		TelemetrySeries *s = new_series(&set, true, nfields, first);
		uint8_t		tail = fuzz_u8(&r);

		/* the count comes from this server's workers: up to 65535 here (readers size arrays by it) */
		s->nobs = (size_t) fuzz_u64(&r, tail & 0x80 ? 2 : 1);
		s->compact_tail.end = tail & 1 ? (int64_t) fuzz_u64(&r, 8) : (int64_t) fuzz_u64(&r, 2) * 1000000;
		s->compact_tail.length = tail & 2 ? (int64_t) fuzz_u64(&r, 8) : (int64_t) fuzz_u64(&r, 2) * 1000000;
		if (r.pos < r.len)
			FUZZ_ASSERT(degbuf_append(&s->obs, r.data + r.pos, r.len - r.pos), "append");
		check_compact(&set);
		telemetry_free(&set);
	}
	else
		generated(&r, nfields, first);
	return 0;
}
