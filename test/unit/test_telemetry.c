/*
 * test_telemetry.c: src/core/telemetry.c.
 *
 *  - series and observations: names, fields, every error with its text;
 *  - binning and signal values against hand-computed answers (a day of
 *    quarter-hour readings into hours and into one bin, boundaries, exact
 *    decimal sums, startTime/endTime, overlaps, gaps, ties);
 *  - the serialized form: pinned bytes, round trips, hand-made hostile
 *    values with their messages, every truncation, byte flips, random
 *    buffers;
 *  - properties over random sets against brute-force references: any split
 *    merged in any order bins as one set, bins sum to the in-period total,
 *    telemetry_at;
 *  - allocation failure at every allocation of a whole workflow.
 */
#include "core/telemetry.h"
#include "unit.h"

#include <stdarg.h>
#include <stdlib.h>

#define T0 INT64_C(757382400000000)	/* 2024-01-01 00:00 UTC, PostgreSQL microseconds */
#define SECOND INT64_C(1000000)
#define MINUTE (60 * SECOND)
#define QUARTER (15 * MINUTE)
#define HOUR (60 * MINUTE)
#define DAY (24 * HOUR)

#define METER "telemetrySources.meter-1"
#define METER_FIELDS "startTime,endTime,importedKWh,exportedKWh"

/* values of one observation, field by field: text, or NULL when absent */
#define V(...) ((const char *const []) {__VA_ARGS__})

/* ---------- helpers ---------- */

static uint64_t rng_state = UINT64_C(0x2545F4914F6CDD1D);

static int
rnd(int n)
{
	return (int) (unit_rng(&rng_state) % (uint64_t) n);
}

/* a ring of buffers, so a few results can be used in one CHECK */
static char *ring[16];
static int	ring_next;

static const char *
keep(const char *s)
{
	int			i = ring_next++ % 16;

	free(ring[i]);
	ring[i] = malloc(strlen(s) + 1);
	strcpy(ring[i], s);
	return ring[i];
}

static const char *
txt(const Decimal *d)
{
	int			i = ring_next++ % 16;

	free(ring[i]);
	ring[i] = malloc(dec_text_size(d));
	dec_format(d, ring[i]);
	return ring[i];
}

static void
parse(Decimal *d, const char *text)
{
	DecError	e;

	if (dec_from_text(d, text, strlen(text), &e) != DEC_OK)
		CHECK(false, "test value \"%.40s\" parses (%s)", text, e.message);
}

/* same value and same scale: the same text */
static bool
dec_same(const Decimal *a, const Decimal *b)
{
	return dec_cmp(a, b) == 0 && a->dscale == b->dscale;
}

/* the series ref with comma-separated fields ("" is no field) */
static TelemetrySeries *
series(TelemetrySet *set, const char *ref, const char *fieldlist, TelemetryError *err)
{
	const char *fields[TELEMETRY_MAX_FIELDS + 8];
	size_t		lens[TELEMETRY_MAX_FIELDS + 8];
	const char *p = fieldlist;
	int			n = 0;

	while (*p != '\0' && n < TELEMETRY_MAX_FIELDS + 8)
	{
		const char *comma = strchr(p, ',');

		fields[n] = p;
		lens[n] = comma ? (size_t) (comma - p) : strlen(p);
		n++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	err->message[0] = '\0';
	return telemetry_series(set, ref, strlen(ref), fields, lens, n, err);
}

static bool
add(TelemetrySeries *s, int64_t from, int64_t to, const char *const *vals, TelemetryError *err)
{
	Decimal		values[TELEMETRY_MAX_FIELDS];
	bool		present[TELEMETRY_MAX_FIELDS];
	bool		ok;
	int			f;

	for (f = 0; f < s->nfields; f++)
	{
		dec_init(&values[f]);
		present[f] = vals[f] != NULL;
		if (present[f])
			parse(&values[f], vals[f]);
	}
	err->message[0] = '\0';
	ok = telemetry_add_decimals(s, from, to, values, present, err);
	for (f = 0; f < s->nfields; f++)
		dec_free(&values[f]);
	return ok;
}

/* the results of telemetry_bin */
typedef struct Binned
{
	int			nbins;
	int			nfields;
	Decimal    *out;
	bool	   *present;
	int64_t    *counts;
	bool		ok;
	TelemetryError err;
} Binned;

static void
binned_alloc(Binned *b, int nbins, int nfields)
{
	int			i;

	b->nbins = nbins;
	b->nfields = nfields;
	b->out = malloc(sizeof(Decimal) * (size_t) (nbins * nfields + 1));
	b->present = malloc(sizeof(bool) * (size_t) (nbins * nfields + 1));
	b->counts = malloc(sizeof(int64_t) * (size_t) (nbins + 1));
	for (i = 0; i < nbins * nfields; i++)
	{
		dec_init(&b->out[i]);
		b->present[i] = false;
	}
	for (i = 0; i < nbins; i++)
		b->counts[i] = 0;
	b->ok = true;
	b->err.message[0] = '\0';
}

static void
binned_free(Binned *b)
{
	int			i;

	for (i = 0; i < b->nbins * b->nfields; i++)
		dec_free(&b->out[i]);
	free(b->out);
	free(b->present);
	free(b->counts);
}

static void
bin(Binned *b, const TelemetrySeries *s, const int64_t *starts, int nbins, int64_t end)
{
	int			i;

	binned_alloc(b, nbins, s->nfields);
	for (i = 0; i < nbins * s->nfields; i++)
		b->present[i] = true;	/* telemetry_bin must reset them */
	for (i = 0; i < nbins; i++)
		b->counts[i] = -1;
	b->ok = telemetry_bin(s, starts, nbins, end, b->out, b->present, b->counts, &b->err);
}

static const char *
cell(const Binned *b, int i, int f)
{
	return b->present[i * b->nfields + f] ? txt(&b->out[i * b->nfields + f]) : "-";
}

/* "count: field field ...", absent fields as "-" */
static const char *
row(const Binned *b, int i)
{
	char		buf[1024];
	size_t		n;
	int			f;

	n = (size_t) snprintf(buf, sizeof(buf), "%lld:", (long long) b->counts[i]);
	for (f = 0; f < b->nfields && n < sizeof(buf); f++)
		n += (size_t) snprintf(buf + n, sizeof(buf) - n, " %s", cell(b, i, f));
	return keep(buf);
}

/* the same counts, presence, values and scales */
static bool
binned_equal(const Binned *a, const Binned *b)
{
	int			i;

	if (a->nbins != b->nbins || a->nfields != b->nfields || a->ok != b->ok)
		return false;
	for (i = 0; i < a->nbins; i++)
		if (a->counts[i] != b->counts[i])
			return false;
	for (i = 0; i < a->nbins * a->nfields; i++)
		if (a->present[i] != b->present[i] ||
			(a->present[i] && !dec_same(&a->out[i], &b->out[i])))
			return false;
	return true;
}

/* telemetry_at for one field of a series: "value value - value", "-" when none */
static const char *
at(const TelemetrySeries *s, int field, const int64_t *instants, int n)
{
	Decimal		out[64];
	bool		present[64];
	TelemetryError err;
	char		buf[1024];
	size_t		len = 0;
	int			i;

	for (i = 0; i < n; i++)
		dec_init(&out[i]);
	err.message[0] = '\0';
	buf[0] = '\0';
	if (!telemetry_at(s, field, instants, n, out, present, &err))
		snprintf(buf, sizeof(buf), "ERROR: %s", err.message);
	else
		for (i = 0; i < n && len < sizeof(buf); i++)
			len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
									 present[i] ? txt(&out[i]) : "-");
	for (i = 0; i < n; i++)
		dec_free(&out[i]);
	return keep(buf);
}

/* a failed call: false, the message, and (for deserialize) an empty set */
static bool
is_empty(const TelemetrySet *set)
{
	return set->nseries == 0 && set->series == NULL;
}

/* ---------- series, observations and their errors ---------- */

static void
test_series(void)
{
	TelemetrySet set;
	TelemetrySeries *s,
			   *again;
	TelemetryError err;
	const char *fields[2];
	size_t		lens[2];
	char		longname[TELEMETRY_MAX_NAME + 2];
	char		fieldlist[TELEMETRY_MAX_FIELDS * 4 + 8];
	int			i;

	telemetry_init(&set);
	s = series(&set, METER, METER_FIELDS, &err);
	CHECK(s != NULL && set.nseries == 1 && s->nfields == 4 && s->nobs == 0,
		  "a new series with four fields (%s)", err.message);
	CHECK(telemetry_find(&set, METER) == s, "telemetry_find finds it");
	CHECK(telemetry_find(&set, "telemetrySources.meter-2") == NULL &&
		  telemetry_find(&set, "telemetrySources.meter-") == NULL,
		  "telemetry_find: other and prefix names are not found");
	CHECK(telemetry_field_index(s, "startTime") == 0 && telemetry_field_index(s, "exportedKWh") == 3,
		  "field indexes in the given order");
	CHECK(telemetry_field_index(s, "exported") == -1 && telemetry_field_index(s, "") == -1,
		  "an unknown field is -1");
	again = series(&set, METER, METER_FIELDS, &err);
	CHECK(again == s && set.nseries == 1, "the same name and fields give the same series");

	/* a name given with a length: the bytes after it do not count */
	fields[0] = "importedKWh,";
	lens[0] = 11;
	s = telemetry_series(&set, "deliveredQuantityXYZ", 17, fields, lens, 1, &err);
	CHECK(s != NULL && strcmp(s->ref, "deliveredQuantity") == 0 && strcmp(s->fields[0], "importedKWh") == 0,
		  "names are the given lengths, NUL-terminated copies");
	CHECK(telemetry_find(&set, "deliveredQuantity") == s && set.nseries == 2, "and found by them");

	/* an existing series must come with the same fields, in the same order */
	CHECK(series(&set, METER, "endTime,startTime,importedKWh,exportedKWh", &err) == NULL,
		  "fields in another order are refused");
	CHECK_STR(err.message, "series \"telemetrySources.meter-1\" is given with different fields",
			  "the mismatch message");
	CHECK(series(&set, METER, "startTime,endTime,importedKWh", &err) == NULL &&
		  strstr(err.message, "different fields") != NULL, "fewer fields are refused");
	CHECK(series(&set, METER, METER_FIELDS ",x", &err) == NULL &&
		  strstr(err.message, "different fields") != NULL, "more fields are refused");
	CHECK(series(&set, METER, "startTime,endTime,importedKWh,exportedKW", &err) == NULL &&
		  strstr(err.message, "different fields") != NULL, "a field that is a prefix is refused");
	CHECK(series(&set, METER, "startTime,endTime,importedKWh,exportedKWhx", &err) == NULL &&
		  strstr(err.message, "different fields") != NULL, "a field that extends one is refused");
	CHECK(series(&set, METER, "", &err) == NULL && strstr(err.message, "different fields") != NULL,
		  "no fields for an existing series is refused");
	CHECK(set.nseries == 2 && set.series[0].nfields == 4, "refusals change nothing");

	/* new series: names and fields are checked */
	CHECK(series(&set, "", "x", &err) == NULL, "an empty series name is refused");
	CHECK_STR(err.message, "a series name is empty", "its message");
	memset(longname, 'n', sizeof(longname));
	longname[TELEMETRY_MAX_NAME + 1] = '\0';
	CHECK(series(&set, longname, "x", &err) == NULL, "a 257-byte series name is refused");
	CHECK_STR(err.message, "a series name is longer than 256 bytes", "its message");
	longname[TELEMETRY_MAX_NAME] = '\0';
	CHECK(series(&set, longname, "x", &err) != NULL, "a 256-byte series name is accepted (%s)", err.message);
	CHECK(series(&set, "a", "x,,y", &err) == NULL, "an empty field name is refused");
	CHECK_STR(err.message, "a field name is empty", "its message");
	longname[TELEMETRY_MAX_NAME] = 'n';
	fields[0] = longname;
	lens[0] = TELEMETRY_MAX_NAME + 1;
	CHECK(telemetry_series(&set, "a", 1, fields, lens, 1, &err) == NULL, "a 257-byte field name is refused");
	CHECK_STR(err.message, "a field name is longer than 256 bytes", "its message");
	CHECK(telemetry_series(&set, "a\0b", 3, fields, lens, 1, &err) == NULL, "a series name with NUL is refused");
	CHECK_STR(err.message, "a series name contains a NUL byte", "its message");
	fields[0] = "x\0y";
	lens[0] = 3;
	CHECK(telemetry_series(&set, "a", 1, fields, lens, 1, &err) == NULL, "a field name with NUL is refused");
	CHECK_STR(err.message, "a field name contains a NUL byte", "its message");
	/* names are printed as JSON: invalid UTF-8 would not read back (found by test/garbage) */
	CHECK(telemetry_series(&set, "a\xff", 2, fields, lens, 1, &err) == NULL, "a series name that is not UTF-8 is refused");
	CHECK_STR(err.message, "a series name is not valid UTF-8", "its message");
	fields[0] = "\xe1x";
	lens[0] = 2;
	CHECK(telemetry_series(&set, "a", 1, fields, lens, 1, &err) == NULL, "a field name with a cut sequence is refused");
	CHECK_STR(err.message, "a field name is not valid UTF-8", "its message");

	/* a name with a NUL after an existing name is not that name (nor read past it) */
	CHECK(telemetry_series(&set, "deliveredQuantity\0x", 19, fields, lens, 1, &err) == NULL,
		  "an existing name followed by NUL and more is refused");
	CHECK_STR(err.message, "a series name contains a NUL byte", "as a name with NUL, not as that series");
	fields[0] = "importedKWh\0x";
	lens[0] = 13;
	CHECK(telemetry_series(&set, "deliveredQuantity", 17, fields, lens, 1, &err) == NULL &&
		  strstr(err.message, "different fields") != NULL,
		  "an existing field followed by NUL and more is a different field");

	CHECK(series(&set, "a", "x,y,x", &err) == NULL, "a field given twice is refused");
	CHECK_STR(err.message, "field \"x\" is given twice", "its message");
	CHECK(series(&set, "a", "x,xy,xyz", &err) != NULL, "fields that are prefixes of each other are distinct");
	CHECK(series(&set, "b", "", &err) == NULL, "a series without fields is refused");
	CHECK_STR(err.message, "series \"b\" has 0 fields; 1 to 32 are allowed", "its message");
	fieldlist[0] = '\0';
	for (i = 0; i < TELEMETRY_MAX_FIELDS; i++)
		snprintf(fieldlist + strlen(fieldlist), 8, "%sf%d", i ? "," : "", i);
	CHECK(series(&set, "c", fieldlist, &err) != NULL && set.series[set.nseries - 1].nfields == 32,
		  "32 fields are allowed (%s)", err.message);
	strcat(fieldlist, ",f32");
	CHECK(series(&set, "d", fieldlist, &err) == NULL, "33 fields are refused");
	CHECK_STR(err.message, "series \"d\" has 33 fields; 1 to 32 are allowed", "its message");
	memset(longname, 'r', 200);
	longname[200] = '\0';
	CHECK(series(&set, longname, "", &err) == NULL && strlen(err.message) == strlen("series \"\" has 0 fields; 1 to 32 are allowed") + 64,
		  "a long name is quoted with its first 64 bytes (%s)", err.message);
	CHECK(telemetry_find(&set, "b") == NULL && telemetry_find(&set, "d") == NULL,
		  "refused series are not added");

	CHECK(telemetry_field_rule("startTime") == TELEMETRY_MIN && telemetry_field_rule("endTime") == TELEMETRY_MAX,
		  "startTime is the earliest, endTime the latest");
	CHECK(telemetry_field_rule("importedKWh") == TELEMETRY_SUM && telemetry_field_rule("starttime") == TELEMETRY_SUM &&
		  telemetry_field_rule("startTime ") == TELEMETRY_SUM && telemetry_field_rule("") == TELEMETRY_SUM,
		  "every other field is summed (exact names only)");
	telemetry_free(&set);
	CHECK(is_empty(&set) && set.capacity == 0, "telemetry_free leaves an empty set");
	CHECK(series(&set, METER, "v", &err) != NULL && set.nseries == 1, "a freed set can be used again");
	telemetry_free(&set);
}

/*
 * A full set is built directly (the struct is public): through
 * telemetry_series it would take 65536 linear look-ups, minutes under ASan.
 */
static void
test_series_limit(void)
{
	TelemetrySet set;
	TelemetryError err;
	DegBuf		buf;
	char		name[16];
	int			i;

	telemetry_init(&set);
	set.series = deg_alloc(sizeof(TelemetrySeries) * TELEMETRY_MAX_SERIES);
	set.capacity = TELEMETRY_MAX_SERIES;
	for (i = 0; i < TELEMETRY_MAX_SERIES; i++)
	{
		TelemetrySeries *s = &set.series[i];

		memset(s, 0, sizeof(*s));
		degbuf_init(&s->obs);
		snprintf(name, sizeof(name), "s%d", i);
		s->ref = deg_alloc(strlen(name) + 1);
		strcpy(s->ref, name);
		s->fields[0] = deg_alloc(2);
		strcpy(s->fields[0], "v");
		s->nfields = 1;
		set.nseries++;
	}
	CHECK(series(&set, "one-more", "v", &err) == NULL, "the 65537th series is refused");
	CHECK_STR(err.message, "more than 65536 series", "its message");
	CHECK(series(&set, "s65535", "v", &err) == &set.series[65535] && set.last == 65535,
		  "existing series are still found");
	degbuf_init(&buf);
	CHECK(telemetry_serialize(&set, &buf) && buf.len == 9 + 65536 * 22 + 10 * 2 + 90 * 3 + 900 * 4 + 9000 * 5 + 55536 * 6,
		  "65536 series serialize (%zu bytes)", buf.len);
	degbuf_free(&buf);
	telemetry_free(&set);
}

static void
test_observations(void)
{
	TelemetrySet set;
	TelemetrySeries *s;
	TelemetryError err;
	TelemetryCursor c;
	Decimal		values[4];
	bool		present[4];
	int64_t		from,
				to;
	const uint8_t *wire[2];
	size_t		lens[2];
	uint8_t    *big;
	size_t		len_before;
	int			f;
	Decimal		huge = DEC_INIT;
	bool		okv = true;
	char	   *ones;
	Binned		b;
	int64_t		starts[1] = {0};

	telemetry_init(&set);
	s = series(&set, METER, METER_FIELDS, &err);
	CHECK(add(s, 10, 20, V("1", "2", "0.25", NULL), &err) && s->nobs == 1, "an observation is added");
	CHECK(add(s, -5, -4, V(NULL, NULL, NULL, NULL), &err) && s->nobs == 2,
		  "negative times and all values absent are fine");
	CHECK(add(s, INT64_MIN, INT64_MAX, V("-1.50", NULL, "0", "123456789012345678901234567890123456789.123"), &err),
		  "the widest range and a long value");
	len_before = s->obs.len;
	CHECK(!add(s, 20, 20, V("1", "2", "3", "4"), &err), "from = to is refused");
	CHECK_STR(err.message, "an observation of \"telemetrySources.meter-1\" ends before it starts", "its message");
	CHECK(!add(s, 21, 20, V("1", "2", "3", "4"), &err) && strstr(err.message, "ends before it starts") != NULL,
		  "from > to is refused");
	CHECK(s->nobs == 3 && s->obs.len == len_before, "refused observations leave no trace");

	/* the cursor gives them back in order, with values and scales */
	for (f = 0; f < 4; f++)
		dec_init(&values[f]);
	telemetry_cursor_init(&c, s);
	CHECK(telemetry_next(&c, &from, &to, values, present, &err) && from == 10 && to == 20 &&
		  present[0] && present[1] && present[2] && !present[3] &&
		  strcmp(txt(&values[2]), "0.25") == 0 && strcmp(txt(&values[1]), "2") == 0,
		  "the first observation reads back");
	CHECK(telemetry_next(&c, &from, &to, values, present, &err) && from == -5 && to == -4 &&
		  !present[0] && !present[1] && !present[2] && !present[3], "the second, all absent");
	CHECK(telemetry_next(&c, &from, &to, values, present, &err) && from == INT64_MIN && to == INT64_MAX &&
		  strcmp(txt(&values[0]), "-1.50") == 0 && strcmp(txt(&values[2]), "0") == 0 &&
		  strcmp(txt(&values[3]), "123456789012345678901234567890123456789.123") == 0 && !present[1],
		  "the third, with its scales and a long value");
	CHECK(!telemetry_next(&c, &from, &to, values, present, &err) && err.message[0] == '\0',
		  "then the end, without error");
	for (f = 0; f < 4; f++)
		dec_free(&values[f]);

	/* a value longer than the 16-bit length is refused, and leaves no half record */
	s = series(&set, "deliveredQuantity", "a,b", &err);
	CHECK(add(s, 0, 1, V("1", "2"), &err), "an observation before");
	len_before = s->obs.len;
	big = calloc(1, 65536);
	wire[0] = (const uint8_t *) "\0\0\0\0\0\0\0\0";
	lens[0] = 8;
	wire[1] = big;
	lens[1] = 65536;
	CHECK(!telemetry_add(s, 1, 2, wire, lens, &err), "a 65536-byte value is refused");
	CHECK_STR(err.message, "a value of \"deliveredQuantity\" is too long", "its message");
	CHECK(s->nobs == 1 && s->obs.len == len_before, "and leaves no trace (%zu bytes, %zu before)",
		  s->obs.len, len_before);
	free(big);
	/* a numeric with 131072 digits (65544 wire bytes) cannot be kept */
	ones = malloc(131073);
	memset(ones, '1', 131072);
	ones[131072] = '\0';
	parse(&huge, ones);
	CHECK(dec_send_size(&huge) == 65544, "131072 ones are 65544 wire bytes");
	CHECK(!telemetry_add_decimals(s, 2, 3, (Decimal[]) {DEC_INIT, huge}, (bool[]) {false, true}, &err) &&
		  strstr(err.message, "is too long") != NULL, "so adding it is refused (%s)", err.message);
	CHECK(s->nobs == 1 && s->obs.len == len_before, "and leaves no trace");
	free(ones);
	dec_free(&huge);
	CHECK(add(s, 3, 4, V("3", "4"), &err), "an observation after");
	binned_alloc(&b, 1, 2);
	b.ok = telemetry_bin(s, starts, 1, 100, b.out, b.present, b.counts, &b.err);
	CHECK(b.ok && strcmp(row(&b, 0), "2: 4 6") == 0, "the series still bins: %s (%s)", row(&b, 0), b.err.message);
	binned_free(&b);

	/* telemetry_add trusts its bytes: bad ones are reported when read, not stored further */
	s = series(&set, "inputSignals.raw", "v", &err);
	wire[0] = (const uint8_t *) "\0\1\0\0";
	lens[0] = 4;
	CHECK(telemetry_add(s, 0, 1, wire, lens, &err), "unchecked bytes are added");
	for (f = 0; f < 1; f++)
		dec_init(&values[f]);
	telemetry_cursor_init(&c, s);
	okv = telemetry_next(&c, &from, &to, values, present, &err);
	CHECK(!okv && strcmp(err.message, "invalid value: insufficient data in external \"numeric\" value") == 0,
		  "and refused when read (%s)", err.message);
	dec_free(&values[0]);
	binned_alloc(&b, 1, 1);
	b.ok = telemetry_bin(s, starts, 1, 100, b.out, b.present, b.counts, &b.err);
	CHECK(!b.ok && strstr(b.err.message, "invalid value") != NULL, "binning reports them (%s)", b.err.message);
	binned_free(&b);
	CHECK(strncmp(at(s, 0, starts, 1), "ERROR: invalid value", 20) == 0, "so does telemetry_at");
	telemetry_free(&set);
}

/* ---------- binning: known answers ---------- */

/* a day of quarter-hour readings: reading k is [T0 + kQ, T0 + (k+1)Q) */
static void
add_day(TelemetrySeries *s, TelemetryError *err)
{
	int			order[96];
	int			i,
				added = 0;

	for (i = 0; i < 96; i++)
		order[i] = i;
	for (i = 95; i > 0; i--)	/* added shuffled: min and max must not rely on order */
	{
		int			j = rnd(i + 1),
					t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 96; i++)
	{
		int			k = order[i];
		char		start[16],
					end[16],
					imported[16];
		bool		exported = k % 2 == 0 && k / 4 != 5;	/* every other, none in hour 5 */

		snprintf(start, sizeof(start), "%d", k * 900);
		snprintf(end, sizeof(end), "%d", (k + 1) * 900);
		snprintf(imported, sizeof(imported), "%d.%02d", (k + 1) * 25 / 100, (k + 1) * 25 % 100);
		added += add(s, T0 + k * QUARTER, T0 + (k + 1) * QUARTER,
					 V(start, end, imported, exported ? "0.1" : NULL), err);
	}
	CHECK(added == 96, "96 readings added (%s)", err->message);
}

static void
test_bin_day(void)
{
	TelemetrySet set;
	TelemetrySeries *s;
	TelemetryError err;
	int64_t		hours[24];
	int64_t		day[1] = {T0};
	int64_t		irregular[3] = {T0, T0 + 30 * MINUTE, T0 + 12 * HOUR};
	Binned		b;
	char		want[128];
	int			h,
				right = 0;
	int64_t		total = 0;

	telemetry_init(&set);
	s = series(&set, METER, METER_FIELDS, &err);
	add_day(s, &err);
	/* outside the period: before it, at its end, and overlapping its start */
	CHECK(add(s, T0 - QUARTER, T0, V("-900", "0", "1000", "1000"), &err), "a reading before the day");
	CHECK(add(s, T0 + DAY, T0 + DAY + QUARTER, V("86400", "87300", "1000", "1000"), &err),
		  "a reading starting at the end");
	CHECK(add(s, T0 - 1, T0 + QUARTER, V("-1", "900", "1000", "1000"), &err),
		  "a reading starting a microsecond before the day");
	CHECK(s->nobs == 99, "99 observations");

	for (h = 0; h < 24; h++)
		hours[h] = T0 + h * HOUR;
	bin(&b, s, hours, 24, T0 + DAY);
	CHECK(b.ok, "24 hourly bins (%s)", b.err.message);
	for (h = 0; h < 24; h++)
	{
		/* imported: 0.25 * (4h+1 + 4h+2 + 4h+3 + 4h+4) = 4h + 2.50; exported: two 0.1 */
		snprintf(want, sizeof(want), "4: %d %d %d.50 %s", h * 3600, (h + 1) * 3600, 4 * h + 2,
				 h == 5 ? "-" : "0.2");
		if (strcmp(row(&b, h), want) == 0)
			right++;
		else
			CHECK_STR(row(&b, h), want, "hour %d", h);
		total += b.counts[h];
	}
	CHECK(right == 24, "every hour is the hand-computed row (%d)", right);
	CHECK(total == 96, "the 96 readings of the day are counted, the 3 outside are not");
	CHECK(!b.present[5 * 4 + 3] && b.present[5 * 4 + 2], "hour 5 has no exportedKWh, but importedKWh");
	binned_free(&b);

	bin(&b, s, day, 1, T0 + DAY);
	CHECK(b.ok, "one bin for the day");
	/* imported: 0.25 * (1 + ... + 96) = 1164.00; exported: 46 readings of 0.1 */
	CHECK_STR(row(&b, 0), "96: 0 86400 1164.00 4.6", "the day in one bin");
	binned_free(&b);

	/* bins of any widths; a reading belongs to the bin holding its start */
	bin(&b, s, irregular, 3, T0 + 12 * HOUR + 15 * MINUTE);
	CHECK(b.ok, "three irregular bins");
	CHECK_STR(row(&b, 0), "2: 0 1800 0.75 0.1", "[00:00, 00:30)");
	CHECK_STR(row(&b, 1), "46: 1800 43200 293.25 2.1", "[00:30, 12:00)");
	CHECK_STR(row(&b, 2), "1: 43200 44100 12.25 0.1", "[12:00, 12:15)");
	binned_free(&b);

	bin(&b, s, day, 1, T0 + DAY + 1);
	CHECK(b.ok && b.counts[0] == 97 && strcmp(cell(&b, 0, 1), "87300") == 0,
		  "a period one microsecond longer takes the reading at the old end: %s", row(&b, 0));
	binned_free(&b);
	day[0] = T0 - 1;
	bin(&b, s, day, 1, T0 + DAY);
	CHECK(b.ok && strcmp(row(&b, 0), "97: -1 86400 2164.00 1004.6") == 0,
		  "one microsecond earlier takes the reading starting then: %s", row(&b, 0));
	binned_free(&b);
	bin(&b, s, day, 0, T0 + DAY);
	CHECK(b.ok, "no bins at all is fine");
	binned_free(&b);
	telemetry_free(&set);
}

static void
test_bin_rules(void)
{
	TelemetrySet set;
	TelemetrySeries *s;
	TelemetryError err;
	int64_t		one[1] = {0};
	int64_t		hours[2] = {0, HOUR};
	Binned		b;
	int			i;

	telemetry_init(&set);

	/* startTime is the earliest, endTime the latest, whatever the order; absent values skipped */
	s = series(&set, METER, METER_FIELDS, &err);
	add(s, 0, 1, V("30", "5", "1", NULL), &err);
	add(s, 1, 2, V("10", "50", "2", NULL), &err);
	add(s, 2, 3, V(NULL, NULL, NULL, NULL), &err);
	add(s, 3, 4, V("20", "40", "-0.5", NULL), &err);
	add(s, 4, 5, V("-7.5", "49.99", NULL, NULL), &err);
	bin(&b, s, one, 1, 10);
	CHECK(b.ok, "binned");
	CHECK_STR(row(&b, 0), "5: -7.5 50 2.5 -", "min startTime, max endTime, a sum, an absent field");
	binned_free(&b);

	/* an observation straddling a bin boundary counts wholly in the bin of its start */
	s = series(&set, "telemetrySources.meter-2", "importedKWh", &err);
	add(s, 59 * MINUTE, 61 * MINUTE, V("2"), &err);
	add(s, HOUR, HOUR + 1, V("3"), &err);
	add(s, HOUR - 1, 2 * HOUR + 5, V("5"), &err);
	bin(&b, s, hours, 2, 2 * HOUR);
	CHECK(b.ok && strcmp(row(&b, 0), "2: 7") == 0 && strcmp(row(&b, 1), "1: 3") == 0,
		  "straddling observations go to the bin of their start: %s | %s", row(&b, 0), row(&b, 1));
	binned_free(&b);

	/* exact decimal sums with the scale of the finest value */
	s = series(&set, "deliveredQuantity", "quantity", &err);
	for (i = 0; i < 10; i++)
		add(s, i, i + 1, V("0.1"), &err);
	bin(&b, s, one, 1, 100);
	CHECK_STR(cell(&b, 0, 0), "1.0", "0.1 ten times is exactly 1.0");
	binned_free(&b);
	add(s, 10, 11, V("0.125"), &err);
	add(s, 11, 12, V("-1.12500"), &err);
	bin(&b, s, one, 1, 100);
	CHECK_STR(cell(&b, 0, 0), "0.00000", "and -1.12500 + 0.125 makes it 0.00000");
	binned_free(&b);
	add(s, 12, 13, V("99999999999999999999999999999999999999.99999"), &err);
	add(s, 13, 14, V("0.00001"), &err);
	bin(&b, s, one, 1, 100);
	CHECK_STR(cell(&b, 0, 0), "100000000000000000000000000000000000000.00000", "long values carry exactly");
	binned_free(&b);

	/* a sum beyond numeric is an error naming the field */
	s = series(&set, "inputSignals.huge", "quantity", &err);
	add(s, 0, 1, V("9e131071"), &err);
	bin(&b, s, one, 1, 100);
	CHECK(b.ok && b.counts[0] == 1, "one value at numeric's limit bins");
	binned_free(&b);
	add(s, 1, 2, V("9e131071"), &err);
	bin(&b, s, one, 1, 100);
	CHECK(!b.ok, "two of them overflow");
	CHECK_STR(b.err.message, "inputSignals.huge.quantity: value overflows numeric format", "its message");
	binned_free(&b);
	telemetry_free(&set);
}

/* ---------- signal values at instants: known answers ---------- */

static void
test_at(void)
{
	TelemetrySet set;
	TelemetrySeries *s;
	TelemetryError err;
	int64_t		t[] = {-1, 0, 49, 50, 60, 79, 80, 99, 100, 149, 150, 160, 199, 200, 299, 300, 999, 1000};
	int64_t		u[] = {340, 350, 399, 400, 420, 449, 450, 499, 500};

	telemetry_init(&set);
	s = series(&set, "inputSignals.tou-price", "price,other", &err);
	add(s, 0, 100, V("1.0", "11"), &err);	/* A */
	add(s, 50, 150, V("2.0", NULL), &err);	/* B overlaps A and starts later */
	add(s, 200, 300, V("3.0", NULL), &err);	/* C after a gap [150, 200) */
	CHECK_STR(at(s, 0, t, 16), "- 1.0 1.0 2.0 2.0 2.0 2.0 2.0 2.0 2.0 - - - 3.0 3.0 -",
			  "gaps have no value, overlaps take the latest start, `to` is excluded");
	add(s, 50, 80, V("4.00", "44"), &err);	/* D: the same start as B, added later */
	CHECK_STR(at(s, 0, t, 16), "- 1.0 1.0 4.00 4.00 4.00 2.0 2.0 2.0 2.0 - - - 3.0 3.0 -",
			  "equal starts take the one added last, while it covers");
	add(s, 0, 1000, V("9", NULL), &err);	/* E: long, starts first */
	CHECK_STR(at(s, 0, t, 18), "- 9 9 4.00 4.00 4.00 2.0 2.0 2.0 2.0 9 9 9 3.0 3.0 9 9 -",
			  "an early long observation shows through gaps; it takes over A at their equal start");
	CHECK_STR(at(s, 1, t, 18), "- 11 11 44 44 44 11 11 - - - - - - - - - -",
			  "another field: observations without its value do not count");

	/* an observation without the field's value leaves the one below in force */
	s = series(&set, "inputSignals.tariff", "price", &err);
	add(s, 350, 450, V("7"), &err);
	add(s, 400, 500, V(NULL), &err);
	CHECK_STR(at(s, 0, u, 9), "- 7 7 7 7 7 - - -", "an absent value does not hide an earlier one");
	CHECK_STR(at(s, 0, u, 0), "", "no instants");
	s = series(&set, "inputSignals.empty", "price", &err);
	CHECK_STR(at(s, 0, u, 3), "- - -", "an empty series has no value anywhere");
	telemetry_free(&set);
}

/* ---------- merge ---------- */

static void
test_merge(void)
{
	TelemetrySet a,
				b;
	TelemetrySeries *s;
	TelemetryError err;
	int64_t		one[1] = {0};
	Binned		r;
	int			i;

	telemetry_init(&a);
	telemetry_init(&b);
	s = series(&a, METER, "importedKWh", &err);
	add(s, 0, 1, V("1.5"), &err);
	s = series(&b, "inputSignals.x", "price", &err);
	add(s, 0, 1, V("7"), &err);
	s = series(&b, METER, "importedKWh", &err);
	add(s, 1, 2, V("2.25"), &err);
	add(s, 2, 3, V("-1"), &err);
	CHECK(telemetry_merge(&a, &b, &err) && a.nseries == 2, "merged (%s)", err.message);
	s = (TelemetrySeries *) telemetry_find(&a, METER);
	CHECK(s != NULL && s->nobs == 3 && telemetry_find(&a, "inputSignals.x")->nobs == 1,
		  "series are matched by name, new ones added");
	bin(&r, s, one, 1, 10);
	CHECK_STR(row(&r, 0), "3: 2.75", "and bin together");
	binned_free(&r);
	CHECK(b.nseries == 2 && telemetry_find(&b, METER)->nobs == 2, "the source is unchanged");
	telemetry_free(&b);
	CHECK(telemetry_merge(&a, &b, &err) && a.nseries == 2 && s->nobs == 3, "merging an empty set changes nothing");
	CHECK(telemetry_merge(&b, &a, &err) && b.nseries == 2, "merging into an empty set copies");
	telemetry_free(&b);

	/* a set merged into itself holds everything twice */
	for (i = 0; i < 40; i++)	/* enough bytes that the buffer must grow */
		add(s, 10 + i, 11 + i, V("0.5"), &err);
	CHECK(telemetry_merge(&a, &a, &err) && a.nseries == 2 && s->nobs == 86 &&
		  telemetry_find(&a, "inputSignals.x")->nobs == 2, "a set merged into itself doubles (%s)", err.message);
	bin(&r, s, one, 1, 100);
	CHECK_STR(row(&r, 0), "86: 45.50", "and bins twice over");
	binned_free(&r);

	s = series(&b, METER, "exportedKWh", &err);
	add(s, 0, 1, V("1"), &err);
	CHECK(!telemetry_merge(&a, &b, &err), "a series with other fields is refused");
	CHECK_STR(err.message, "series \"telemetrySources.meter-1\" is given with different fields", "its message");
	telemetry_free(&a);
	telemetry_free(&b);
}

/* ---------- serialized form ---------- */

static void
w8(DegBuf *b, unsigned v)
{
	uint8_t		c = (uint8_t) v;

	degbuf_append(b, &c, 1);
}

static void
w16(DegBuf *b, unsigned v)
{
	w8(b, v & 0xff);
	w8(b, (v >> 8) & 0xff);
}

static void
w64(DegBuf *b, uint64_t v)
{
	int			i;

	for (i = 0; i < 8; i++)
		w8(b, (unsigned) (v >> (8 * i)) & 0xff);
}

static void
wname(DegBuf *b, const char *name, size_t len)
{
	w16(b, (unsigned) len);
	degbuf_append(b, name, len);
}

/* a value: numeric's wire format behind a length (big-endian int16s) */
static void
wvalue(DegBuf *b, int ndigits, int weight, unsigned sign, int dscale, const int *digits)
{
	int			i;

	w8(b, 1);
	w16(b, (unsigned) (8 + 2 * ndigits));
	w8(b, (unsigned) ndigits >> 8);
	w8(b, (unsigned) ndigits & 0xff);
	w8(b, ((unsigned) weight >> 8) & 0xff);
	w8(b, (unsigned) weight & 0xff);
	w8(b, sign >> 8);
	w8(b, sign & 0xff);
	w8(b, (unsigned) dscale >> 8);
	w8(b, (unsigned) dscale & 0xff);
	for (i = 0; i < ndigits; i++)
	{
		w8(b, (unsigned) digits[i] >> 8);
		w8(b, (unsigned) digits[i] & 0xff);
	}
}

/* the header of a value with nseries series, and a series' head with its fields */
static void
whead(DegBuf *b, uint64_t nseries)
{
	degbuf_init(b);
	w8(b, 1);
	w64(b, nseries);
}

static void
wseries(DegBuf *b, const char *ref, size_t reflen, int nfields, const char *const *fields,
		uint64_t nobs, uint64_t bytes)
{
	int			f;

	wname(b, ref, reflen);
	w8(b, (unsigned) nfields);
	for (f = 0; f < nfields; f++)
		wname(b, fields[f], strlen(fields[f]));
	w64(b, nobs);
	w64(b, bytes);
}

/* one series "ab" with a field "v", said to hold nobs records in bytes, and a record's [from, to) */
static void
wrecord(DegBuf *b, uint64_t nobs, uint64_t bytes, int64_t from, int64_t to)
{
	static const char *const v[] = {"v"};

	whead(b, 1);
	wseries(b, "ab", 2, 1, v, nobs, bytes);
	w64(b, (uint64_t) from);
	w64(b, (uint64_t) to);
}

/* a value that deserialize must refuse with this message (a prefix of it when prefix) */
static void
refused(DegBuf *b, const char *want, bool prefix, const char *what)
{
	TelemetrySet set;
	TelemetryError err;
	bool		ok;

	err.message[0] = '\0';
	ok = telemetry_deserialize((const uint8_t *) b->data, b->len, &set, &err);
	CHECK(!ok && is_empty(&set), "%s is refused", what);
	if (prefix)
		CHECK(strncmp(err.message, want, strlen(want)) == 0, "%s: message (%s)", what, err.message);
	else
		CHECK_STR(err.message, want, "%s: message", what);
	if (ok)
		telemetry_free(&set);
	degbuf_free(b);
}

static void
test_format(void)
{
	static const uint8_t want[] = {
		1, 1, 0, 0, 0, 0, 0, 0, 0,	/* version, one series */
		2, 0, 'a', 'b', 1, 1, 0, 'v',	/* "ab" with one field "v" */
		1, 0, 0, 0, 0, 0, 0, 0, 31, 0, 0, 0, 0, 0, 0, 0,	/* one observation in 31 bytes */
		1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0,	/* [1, 2) */
		1, 12, 0, 0, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88	/* 1.5: 2 digits, scale 1, 1 5000 */
	};
	static const uint8_t empty[] = {1, 0, 0, 0, 0, 0, 0, 0, 0};
	TelemetrySet set,
				back;
	TelemetrySeries *s;
	TelemetryError err;
	DegBuf		buf,
				again;

	telemetry_init(&set);
	degbuf_init(&buf);
	CHECK(telemetry_serialize(&set, &buf) && buf.len == 9 && memcmp(buf.data, empty, 9) == 0,
		  "an empty set is 9 bytes: version and a zero count");
	CHECK(telemetry_deserialize((const uint8_t *) buf.data, buf.len, &back, &err) && is_empty(&back),
		  "and reads back empty");
	degbuf_free(&buf);
	s = series(&set, "ab", "v", &err);
	add(s, 1, 2, V("1.5"), &err);
	CHECK(telemetry_serialize(&set, &buf) && buf.len == sizeof(want) && memcmp(buf.data, want, sizeof(want)) == 0,
		  "the documented layout, byte for byte (%zu bytes)", buf.len);
	CHECK(telemetry_deserialize(want, sizeof(want), &back, &err) && back.nseries == 1 &&
		  back.series[0].nobs == 1 && strcmp(back.series[0].fields[0], "v") == 0, "which reads back");
	degbuf_init(&again);
	CHECK(telemetry_serialize(&back, &again) && again.len == buf.len && memcmp(again.data, buf.data, buf.len) == 0,
		  "and writes the same bytes");
	degbuf_free(&again);
	degbuf_free(&buf);
	telemetry_free(&back);
	telemetry_free(&set);
}

static void
test_hostile_values(void)
{
	static const char *const v[] = {"v"};
	static const char *const vv[] = {"v", "v"};
	static const char *const vw[] = {"v", "w"};
	static const char *const noname[] = {""};
	static const int d15[] = {1, 5000};
	static const int d0015[] = {0, 1, 5000};
	static const int dbad[] = {10000};
	char		longname[TELEMETRY_MAX_NAME + 1];
	TelemetrySet set;
	TelemetryError err;
	DegBuf		b,
				again;

	degbuf_init(&b);
	refused(&b, "not a telemetry value of format version 1", false, "no bytes");
	whead(&b, 0);
	b.data[0] = 2;
	refused(&b, "not a telemetry value of format version 1", false, "version 2");
	whead(&b, 0);
	b.len = 8;
	refused(&b, "not a telemetry value of format version 1", false, "8 bytes");
	whead(&b, 65537);
	refused(&b, "more than 65536 series", false, "65537 series");
	whead(&b, UINT64_MAX);
	refused(&b, "more than 65536 series", false, "2^64-1 series");
	whead(&b, 1);
	refused(&b, "truncated telemetry", false, "a series that is not there");
	whead(&b, 0);
	w8(&b, 0);
	refused(&b, "1 bytes after the last series", false, "a byte after the end");

	whead(&b, 1);
	wseries(&b, "ab", 2, 0, v, 0, 0);
	refused(&b, "a series has 0 fields", false, "0 fields");
	whead(&b, 1);
	wname(&b, "ab", 2);
	w8(&b, 33);
	refused(&b, "a series has 33 fields", false, "33 fields");
	whead(&b, 1);
	wseries(&b, "", 0, 1, v, 0, 0);
	refused(&b, "a series name is empty", false, "an empty series name");
	memset(longname, 'n', sizeof(longname));
	whead(&b, 1);
	wseries(&b, longname, sizeof(longname), 1, v, 0, 0);
	refused(&b, "a series name is longer than 256 bytes", false, "a 257-byte series name");
	whead(&b, 1);
	wseries(&b, "a\0b", 3, 1, v, 0, 0);
	refused(&b, "a series name contains a NUL byte", false, "a series name with NUL");
	whead(&b, 1);
	wseries(&b, "ab", 2, 1, noname, 0, 0);
	refused(&b, "a field name is empty", false, "an empty field name");
	whead(&b, 1);
	wseries(&b, "ab", 2, 2, vv, 0, 0);
	refused(&b, "field \"v\" is given twice", false, "a field twice");
	whead(&b, 2);
	wseries(&b, "ab", 2, 1, v, 0, 0);
	wseries(&b, "ab", 2, 1, vw, 0, 0);
	refused(&b, "series \"ab\" appears twice", false, "a series twice");
	whead(&b, 2);
	wseries(&b, "ab", 2, 1, v, 0, 0);
	wseries(&b, "ab\0x", 4, 1, v, 0, 0);
	refused(&b, "a series name contains a NUL byte", false, "a series name extending another after NUL");

	whead(&b, 1);
	wseries(&b, "ab", 2, 1, v, 1, 100);
	refused(&b, "truncated telemetry", false, "more record bytes than there are");
	wrecord(&b, 2, 31, 1, 2);
	wvalue(&b, 2, 0, 0, 1, d15);
	refused(&b, "series \"ab\" says 2 observations and holds 1", false, "a count too high");
	wrecord(&b, 0, 31, 1, 2);
	wvalue(&b, 2, 0, 0, 1, d15);
	refused(&b, "series \"ab\" says 0 observations and holds 1", false, "a count too low");
	wrecord(&b, 1, 30, 1, 2);
	wvalue(&b, 2, 0, 0, 1, d15);
	b.len--;
	refused(&b, "truncated observation", false, "a record cut inside its value");
	wrecord(&b, 1, 17, 2, 2);
	w8(&b, 0);
	refused(&b, "an observation ends before it starts", false, "from = to");
	wrecord(&b, 1, 17, 0, INT64_MIN);
	w8(&b, 0);
	refused(&b, "an observation ends before it starts", false, "to below from");
	wrecord(&b, 1, 17, 1, 2);
	w8(&b, 2);
	refused(&b, "invalid presence flag", false, "a presence flag of 2");
	wrecord(&b, 1, 17, 1, 2);
	w8(&b, 1);
	refused(&b, "truncated observation", false, "a value without its length");
	wrecord(&b, 1, 26, 1, 2);
	w8(&b, 1);
	w16(&b, 7);
	degbuf_append(&b, "\0\0\0\0\0\0\0", 7);
	refused(&b, "invalid value: insufficient data in external \"numeric\" value", false, "a 7-byte numeric");
	wrecord(&b, 1, 29, 1, 2);
	wvalue(&b, 1, 0, 0xC000, 0, dbad);
	refused(&b, "invalid value: ", true, "a NaN");
	wrecord(&b, 1, 29, 1, 2);
	wvalue(&b, 1, 0, 0, 0, dbad);
	refused(&b, "invalid value: ", true, "a digit of 10000");
	wrecord(&b, 1, 31, 1, 2);
	wvalue(&b, 2, 0, 0x1234, 1, d15);
	refused(&b, "invalid value: ", true, "a bad sign word");

	/* accepted: what numeric_recv accepts, kept byte for byte */
	wrecord(&b, 2, 33 + 17, INT64_MIN, 2);
	wvalue(&b, 3, 1, 0, 1, d0015);	/* a leading zero digit: not normalized */
	w64(&b, 5);
	w64(&b, 6);
	w8(&b, 0);
	CHECK(telemetry_deserialize((const uint8_t *) b.data, b.len, &set, &err) && set.series[0].nobs == 2,
		  "an unnormalized numeric and an absent value are accepted (%s)", err.message);
	degbuf_init(&again);
	CHECK(telemetry_serialize(&set, &again) && again.len == b.len && memcmp(again.data, b.data, b.len) == 0,
		  "and written back byte for byte");
	{
		int64_t		t[2] = {0, 5};

		CHECK_STR(at(&set.series[0], 0, t, 2), "1.5 -", "the value is read normalized");
	}
	degbuf_free(&again);
	telemetry_free(&set);
	degbuf_free(&b);
}

/* a set with several series, absent values, long values and negative times */
static void
rich_set(TelemetrySet *set)
{
	TelemetrySeries *s;
	TelemetryError err;

	telemetry_init(set);
	s = series(set, METER, METER_FIELDS, &err);
	add(s, T0, T0 + QUARTER, V("0", "900", "1.25", NULL), &err);
	add(s, T0 + QUARTER, T0 + 2 * QUARTER, V("900", "1800", "12345678901234567890123456789012345.678", "0.5"), &err);
	add(s, -HOUR, -1, V(NULL, NULL, "-3", "-0.000001"), &err);
	s = series(set, "inputSignals.tou-price", "price", &err);
	add(s, T0, T0 + HOUR, V("0.2175"), &err);
	add(s, T0 + 30 * MINUTE, T0 + 2 * HOUR, V("0.31"), &err);
	series(set, "deliveredQuantity", "quantity,unit", &err);
}

/* accepted bytes must behave: re-serialize to the same bytes, bin and read without harm */
static bool
accepted_behaves(const uint8_t *data, size_t len, const TelemetrySet *set)
{
	DegBuf		again;
	bool		same;
	int64_t		starts[3] = {INT64_MIN, 0, T0 + 30 * MINUTE};
	int64_t		t[4] = {INT64_MIN, 0, T0 + 45 * MINUTE, INT64_MAX - 1};
	int			i;

	degbuf_init(&again);
	same = telemetry_serialize(set, &again) && again.len == len && memcmp(again.data, data, len) == 0;
	degbuf_free(&again);
	for (i = 0; i < set->nseries; i++)
	{
		const TelemetrySeries *s = &set->series[i];
		Binned		b;
		size_t		n = 0;
		TelemetryCursor c;
		Decimal		values[TELEMETRY_MAX_FIELDS];
		bool		present[TELEMETRY_MAX_FIELDS];
		int64_t		from,
					to;
		TelemetryError err;
		int			f;

		bin(&b, s, starts, 3, INT64_MAX);
		same = same && (b.ok || strstr(b.err.message, "overflows") != NULL);
		binned_free(&b);
		same = same && strncmp(at(s, s->nfields - 1, t, 4), "ERROR", 5) != 0;
		for (f = 0; f < s->nfields; f++)
			dec_init(&values[f]);
		telemetry_cursor_init(&c, s);
		while (telemetry_next(&c, &from, &to, values, present, &err))
		{
			n++;
			same = same && from < to;
		}
		same = same && err.message[0] == '\0' && n == s->nobs;
		for (f = 0; f < s->nfields; f++)
			dec_free(&values[f]);
	}
	return same;
}

/* a name of up to 3 bytes from a tiny alphabet (so duplicates and NULs occur), rarely empty */
static void
random_name(DegBuf *b, const char *alphabet)
{
	char		name[4];
	int			n = rnd(8) == 0 ? 0 : 1 + rnd(3),
				i;

	for (i = 0; i < n; i++)
		name[i] = alphabet[rnd((int) strlen(alphabet) + (rnd(16) == 0))];	/* the NUL, rarely */
	wname(b, name, (size_t) n);
}

/* a random numeric: digits, weight, sign and scale mostly valid */
static void
random_wire(DegBuf *b)
{
	static const unsigned signs[] = {0, 0, 0x4000, 0xC000, 0xD000, 0xF000, 0x1234};
	int			digits[4],
				n = rnd(4),
				i;

	for (i = 0; i < n; i++)
		digits[i] = rnd(16) == 0 ? 10000 + rnd(3) : rnd(10000);
	wvalue(b, n, rnd(8) == 0 ? 32767 - rnd(2) : rnd(5) - 2, signs[rnd(16) < 14 ? rnd(3) : 3 + rnd(4)],
		   rnd(16) == 0 ? 16383 + rnd(2) : rnd(6), digits);
	if (rnd(32) == 0)
		b->len -= 1 + (size_t) rnd(2);	/* a length that does not match */
}

/* a random value shaped like telemetry_serialize's output, often subtly wrong */
static void
random_value(DegBuf *b)
{
	int			nseries = rnd(4),
				i,
				f,
				k;

	whead(b, (uint64_t) (rnd(16) == 0 ? nseries + 1 - rnd(3) : nseries));
	for (i = 0; i < nseries; i++)
	{
		int			nfields = rnd(16) == 0 ? rnd(40) : 1 + rnd(3),
					nobs = rnd(5);
		DegBuf		rec;

		random_name(b, "ab");
		w8(b, (unsigned) nfields);
		for (f = 0; f < nfields; f++)
			random_name(b, "vwx");
		degbuf_init(&rec);
		for (k = 0; k < nobs; k++)
		{
			int64_t		from = rnd(200) - 100;

			w64(&rec, (uint64_t) from);
			w64(&rec, (uint64_t) (from + rnd(50) - (rnd(8) == 0 ? 50 : 0)));
			for (f = 0; f < nfields; f++)
			{
				int			flag = rnd(24) == 0 ? 2 + rnd(254) : rnd(2);

				if (flag == 1)
					random_wire(&rec);
				else
					w8(&rec, (unsigned) flag);
			}
		}
		w64(b, (uint64_t) (rnd(16) == 0 ? nobs + rnd(3) - 1 : nobs));
		w64(b, (uint64_t) (rnd(16) == 0 ? (int) rec.len + rnd(3) - 1 : (int) rec.len));
		if (rec.len > 0)
			degbuf_append(b, rec.data, rec.len);
		degbuf_free(&rec);
	}
	if (rnd(32) == 0)
		w8(b, 0);
}

static void
test_hostile_bytes(void)
{
	TelemetrySet set,
				back;
	TelemetryError err;
	DegBuf		buf;
	uint8_t    *m;
	size_t		len,
				i;
	int			iter,
				bad_cut = 0,
				bad_flip = 0,
				bad_random = 0,
				accepted = 0,
				refused_n = 0,
				accepted_random = 0;

	rich_set(&set);
	degbuf_init(&buf);
	CHECK(telemetry_serialize(&set, &buf), "the rich set serializes (%zu bytes)", buf.len);
	len = buf.len;
	CHECK(telemetry_deserialize((const uint8_t *) buf.data, len, &back, &err) && back.nseries == 3 &&
		  accepted_behaves((const uint8_t *) buf.data, len, &back), "and round-trips (%s)", err.message);
	telemetry_free(&back);
	telemetry_free(&set);
	m = malloc(len + 16);

	/* every truncation fails cleanly, the bytes copied so nothing past them is readable */
	for (i = 0; i < len; i++)
	{
		uint8_t    *cut = malloc(i ? i : 1);
		bool		ok;

		memcpy(cut, buf.data, i);
		err.message[0] = '\0';
		ok = telemetry_deserialize(cut, i, &back, &err);
		if (ok || err.message[0] == '\0' || !is_empty(&back))
		{
			if (bad_cut++ < 3)
				printf("# cut at %zu: %s (%s)\n", i, ok ? "accepted" : "refused", err.message);
			if (ok)
				telemetry_free(&back);
		}
		free(cut);
	}
	CHECK(bad_cut == 0, "all %zu truncations are refused with a message (%d bad)", len, bad_cut);
	memcpy(m, buf.data, len);
	m[len] = 0;
	CHECK(!telemetry_deserialize(m, len + 1, &back, &err) && strcmp(err.message, "1 bytes after the last series") == 0,
		  "a byte more is refused (%s)", err.message);

	/* byte flips, overwrites, insertions and deletions */
	for (iter = 0; iter < 20000; iter++)
	{
		size_t		mlen = len;
		int			k,
					edits = 1 + rnd(3);
		bool		ok;

		memcpy(m, buf.data, len);
		for (k = 0; k < edits; k++)
		{
			size_t		at_ = (size_t) rnd((int) mlen);

			switch (rnd(6))
			{
				case 0:
					m[at_] ^= (uint8_t) (1 << rnd(8));
					break;
				case 1:
					m[at_] = (uint8_t) rnd(256);
					break;
				case 2:
					m[at_] = rnd(2) ? 0 : 0xff;
					break;
				case 3:
					m[at_] += rnd(2) ? 1 : 0xff;
					break;
				case 4:
					if (mlen < len + 8)
					{
						memmove(m + at_ + 1, m + at_, mlen - at_);
						m[at_] = (uint8_t) rnd(256);
						mlen++;
					}
					break;
				default:
					if (mlen > 1)
					{
						memmove(m + at_, m + at_ + 1, mlen - at_ - 1);
						mlen--;
					}
			}
		}
		err.message[0] = '\0';
		ok = telemetry_deserialize(m, mlen, &back, &err);
		if (ok)
		{
			accepted++;
			if (!accepted_behaves(m, mlen, &back) && bad_flip++ < 3)
				printf("# mutation %d accepted but misbehaves\n", iter);
			telemetry_free(&back);
		}
		else
		{
			refused_n++;
			if ((err.message[0] == '\0' || !is_empty(&back)) && bad_flip++ < 3)
				printf("# mutation %d refused without a message or with a set\n", iter);
		}
	}
	CHECK(bad_flip == 0, "20000 mutated values: %d accepted and behave, %d refused cleanly (%d bad)",
		  accepted, refused_n, bad_flip);
	CHECK(accepted > 100 && refused_n > 10000, "mutations reach both outcomes");
	printf("# hostile bytes: %zu truncations refused; 20000 mutations: %d accepted, %d refused\n",
		   len, accepted, refused_n);
	free(m);

	/* random values: shaped like the format, with lengths, counts and contents often wrong */
	for (iter = 0; iter < 20000; iter++)
	{
		DegBuf		r;
		bool		ok;

		if (rnd(5) == 0)
		{
			size_t		rlen = (size_t) rnd(64);

			degbuf_init(&r);
			for (i = 0; i < rlen; i++)
				w8(&r, (unsigned) (i == 0 && rnd(2) ? 1 : rnd(256)));
		}
		else
			random_value(&r);
		err.message[0] = '\0';
		ok = telemetry_deserialize((const uint8_t *) r.data, r.len, &back, &err);
		if (ok)
		{
			accepted_random++;
			if (!accepted_behaves((const uint8_t *) r.data, r.len, &back) && bad_random++ < 3)
				printf("# random value %d accepted but misbehaves\n", iter);
			telemetry_free(&back);
		}
		else if ((err.message[0] == '\0' || !is_empty(&back)) && bad_random++ < 3)
			printf("# random value %d refused without a message\n", iter);
		degbuf_free(&r);
	}
	CHECK(bad_random == 0, "20000 random values: %d accepted and behave, the rest refused cleanly (%d bad)",
		  accepted_random, bad_random);
	CHECK(accepted_random > 1000 && accepted_random < 19000, "random values reach both outcomes");
	printf("# random bytes: 20000 values, %d accepted\n", accepted_random);
	degbuf_free(&buf);
}

/* ---------- properties against brute force ---------- */

#define PF 4					/* startTime, endTime, kWh, kvarh */
#define PFIELDS "startTime,endTime,kWh,kvarh"
#define MAIN "telemetrySources.meter-7"
#define DECOY "inputSignals.decoy"
#define MAXOBS 64
#define MAXBINS 32
#define MAXPARTS 5

typedef struct ModelObs
{
	int64_t		from;
	int64_t		to;
	Decimal		v[PF];
	bool		has[PF];
} ModelObs;

static void
random_decimal(Decimal *d)
{
	char		buf[96];
	int			n = 0,
				i,
				intdigits = rnd(10) == 0 ? 20 + rnd(25) : 1 + rnd(6),
				scale = rnd(5);

	if (rnd(4) == 0)
		buf[n++] = '-';
	for (i = 0; i < intdigits; i++)
		buf[n++] = (char) ('0' + rnd(10));
	if (scale > 0)
	{
		buf[n++] = '.';
		for (i = 0; i < scale; i++)
			buf[n++] = (char) ('0' + rnd(10));
	}
	buf[n] = '\0';
	parse(d, buf);
}

static int
random_observations(ModelObs *obs)
{
	int			n = rnd(MAXOBS + 1),
				i,
				f;

	for (i = 0; i < n; i++)
	{
		ModelObs   *o = &obs[i];

		o->from = T0 - 2 * HOUR + rnd(30 * 60) * MINUTE;
		if (i > 0 && rnd(8) == 0)
			o->from = obs[rnd(i)].from;	/* equal starts */
		else if (rnd(8) == 0)
			o->from += rnd(60) * SECOND + rnd(1000000);
		o->to = o->from + (1 + rnd(120)) * MINUTE;
		if (rnd(16) == 0)
			o->to = o->from + 1;
		for (f = 0; f < PF; f++)
		{
			dec_init(&o->v[f]);
			o->has[f] = rnd(6) != 0;
		}
		dec_from_int64(&o->v[0], o->from / SECOND, NULL);
		dec_from_int64(&o->v[1], o->to / SECOND, NULL);
		random_decimal(&o->v[2]);
		random_decimal(&o->v[3]);
	}
	return n;
}

static void
model_free(ModelObs *obs, int n)
{
	int			i,
				f;

	for (i = 0; i < n; i++)
		for (f = 0; f < PF; f++)
			dec_free(&obs[i].v[f]);
}

static bool
add_model(TelemetrySet *set, const ModelObs *o)
{
	TelemetryError err;
	TelemetrySeries *s = series(set, MAIN, PFIELDS, &err);

	return s != NULL && telemetry_add_decimals(s, o->from, o->to, o->v, o->has, &err);
}

static int
random_bins(int64_t *starts, int64_t *end)
{
	int			n = 1 + rnd(MAXBINS),
				i;
	bool		grid = rnd(4) == 0;

	starts[0] = T0 + (rnd(121) - 60) * MINUTE;
	for (i = 1; i <= n; i++)
	{
		int64_t		next = starts[i - 1] + (grid ? QUARTER : (1 + rnd(180)) * MINUTE + (rnd(4) == 0 ? rnd(1000) : 0));

		if (i < n)
			starts[i] = next;
		else
			*end = next;
	}
	return n;
}

/* binning by brute force: a linear search of the bins, min/max by field position */
static void
ref_bin(const ModelObs *obs, int n, const int64_t *starts, int nbins, int64_t end, Binned *want)
{
	int			i,
				f;

	binned_alloc(want, nbins, PF);
	for (i = 0; i < n; i++)
	{
		int			b = -1,
					j;

		for (j = 0; j < nbins; j++)
			if (obs[i].from >= starts[j] && obs[i].from < (j + 1 < nbins ? starts[j + 1] : end))
				b = j;
		if (b < 0)
			continue;
		want->counts[b]++;
		for (f = 0; f < PF; f++)
		{
			Decimal    *acc = &want->out[b * PF + f];

			if (!obs[i].has[f])
				continue;
			if (!want->present[b * PF + f] ||
				(f == 0 && dec_cmp(&obs[i].v[f], acc) < 0) ||
				(f == 1 && dec_cmp(&obs[i].v[f], acc) > 0))
				dec_copy(acc, &obs[i].v[f], NULL);
			else if (f >= 2)
				dec_add(acc, acc, &obs[i].v[f], NULL);
			want->present[b * PF + f] = true;
		}
	}
}

/*
 * telemetry_at by brute force: the covering observation with the field's
 * value and the latest start, the last added among equal starts; *tie when
 * another covering one has that start too (then the merge order decides).
 */
static int
ref_at(const ModelObs *obs, int n, int f, int64_t t, bool *tie)
{
	int			best = -1,
				i;

	*tie = false;
	for (i = 0; i < n; i++)
		if (obs[i].has[f] && obs[i].from <= t && t < obs[i].to)
		{
			if (best >= 0 && obs[i].from == obs[best].from)
				*tie = true;
			else if (best >= 0 && obs[i].from > obs[best].from)
				*tie = false;
			if (best < 0 || obs[i].from >= obs[best].from)
				best = i;
		}
	return best;
}

static int
random_instants(const ModelObs *obs, int n, int64_t *t)
{
	int			k = 1 + rnd(40),
				i,
				j;

	for (i = 0; i < k; i++)
	{
		if (n > 0 && rnd(2))
		{
			const ModelObs *o = &obs[rnd(n)];

			t[i] = (rnd(2) ? o->from : o->to) + rnd(3) - 1;
		}
		else
			t[i] = T0 - 3 * HOUR + (int64_t) (unit_rng(&rng_state) % (uint64_t) (34 * HOUR));
	}
	for (i = 1; i < k; i++)		/* ascending */
		for (j = i; j > 0 && t[j - 1] > t[j]; j--)
		{
			int64_t		x = t[j];

			t[j] = t[j - 1];
			t[j - 1] = x;
		}
	return k;
}

/* failures of one property: counted, the first few shown */
static void
note(int *bad, bool cond, int iter, const char *fmt,...)
{
	va_list		ap;

	if (cond)
		return;
	if ((*bad)++ < 3)
	{
		printf("# case %d: ", iter);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
}

/* telemetry_at of series s against the reference; ties skipped unless exact_ties */
static bool
at_agrees(const TelemetrySeries *s, const ModelObs *obs, int n, int f, const int64_t *t, int k,
		  bool exact_ties)
{
	Decimal		out[64];
	bool		present[64];
	TelemetryError err;
	bool		ok,
				same = true;
	int			i;

	for (i = 0; i < k; i++)
		dec_init(&out[i]);
	ok = telemetry_at(s, f, t, k, out, present, &err);
	for (i = 0; ok && same && i < k; i++)
	{
		bool		tie;
		int			want = ref_at(obs, n, f, t[i], &tie);

		if (tie && !exact_ties)
			same = present[i];
		else
			same = present[i] == (want >= 0) && (want < 0 || dec_same(&out[i], &obs[want].v[f]));
	}
	for (i = 0; i < k; i++)
		dec_free(&out[i]);
	return ok && same;
}

static void
test_properties(void)
{
	static ModelObs obs[MAXOBS];
	TelemetrySet single,
				parts[MAXPARTS],
				fresh;
	TelemetryError err;
	int64_t		starts[MAXBINS],
				instants[64],
				end;
	int			iter,
				bad_ref = 0,
				bad_merge = 0,
				bad_total = 0,
				bad_at = 0,
				bad_order = 0,
				bad_decoy = 0,
				ties = 0;

	for (iter = 0; iter < 3000; iter++)
	{
		int			n = random_observations(obs),
					nbins = random_bins(starts, &end),
					k = 1 + rnd(MAXPARTS),
					part[MAXOBS],
					perm[MAXPARTS],
					decoys = 0,
					p,
					i,
					j,
					f,
					nt;
		bool		contiguous = rnd(3) == 0;
		bool		in_order = contiguous && rnd(2);
		bool		into_part = !in_order && rnd(2);
		TelemetrySet *dst;
		const TelemetrySeries *single_main,
				   *merged_main,
				   *decoy;
		Binned		want,
					got,
					merged;
		Decimal		total = DEC_INIT,
					binsum = DEC_INIT;
		bool		any = false,
					anybin = false;
		int64_t		count = 0,
					bincount = 0;

		/* one set, with a decoy series sometimes first */
		telemetry_init(&single);
		if (rnd(2))
			series(&single, DECOY, "price", &err);
		series(&single, MAIN, PFIELDS, &err);
		for (i = 0; i < n; i++)
			add_model(&single, &obs[i]);
		single_main = telemetry_find(&single, MAIN);

		/* the same observations split into k sets, each maybe with a decoy */
		for (p = 0; p < k; p++)
		{
			telemetry_init(&parts[p]);
			perm[p] = p;
		}
		for (i = 0; i < n; i++)
			part[i] = contiguous ? (i == 0 ? 0 : part[i - 1] + (part[i - 1] < k - 1 && rnd(3) == 0)) : rnd(k);
		for (p = 0; p < k; p++)
		{
			bool		decoy_first = rnd(2),
						has_decoy = rnd(2);

			if (has_decoy && decoy_first)
				add(series(&parts[p], DECOY, "price", &err), 0, 1, V("1"), &err);
			for (i = 0; i < n; i++)
				if (part[i] == p)
					add_model(&parts[p], &obs[i]);
			if (has_decoy && !decoy_first)
				add(series(&parts[p], DECOY, "price", &err), 0, 1, V("1"), &err);
			decoys += has_decoy;
		}
		for (p = k - 1; p > 0 && !in_order; p--)
		{
			int			q = rnd(p + 1),
						x = perm[p];

			perm[p] = perm[q];
			perm[q] = x;
		}

		/* merged in that order, into a fresh set or into the first, some through bytes */
		telemetry_init(&fresh);
		dst = into_part ? &parts[perm[0]] : &fresh;
		for (j = into_part ? 1 : 0; j < k; j++)
		{
			TelemetrySet *src = &parts[perm[j]],
						through;
			DegBuf		bytes;

			if (rnd(3) == 0)
			{
				degbuf_init(&bytes);
				if (!telemetry_serialize(src, &bytes) ||
					!telemetry_deserialize((const uint8_t *) bytes.data, bytes.len, &through, &err))
					note(&bad_merge, false, iter, "a part does not round-trip (%s)", err.message);
				else
				{
					note(&bad_merge, telemetry_merge(dst, &through, &err), iter, "merge: %s", err.message);
					telemetry_free(&through);
				}
				degbuf_free(&bytes);
			}
			else
				note(&bad_merge, telemetry_merge(dst, src, &err), iter, "merge: %s", err.message);
		}
		merged_main = telemetry_find(dst, MAIN);
		decoy = telemetry_find(dst, DECOY);
		note(&bad_decoy, decoys == 0 ? decoy == NULL : (decoy != NULL && decoy->nobs == (size_t) decoys),
			 iter, "the decoy series has %d observations", decoys);

		/* binning: the reference, one set, and the merged set */
		ref_bin(obs, n, starts, nbins, end, &want);
		bin(&got, single_main, starts, nbins, end);
		note(&bad_ref, binned_equal(&got, &want), iter, "one set bins as the reference (%s)", got.err.message);
		if (merged_main != NULL)
			bin(&merged, merged_main, starts, nbins, end);
		else
			binned_alloc(&merged, nbins, PF);
		note(&bad_merge, merged_main != NULL ? merged_main->nobs == (size_t) n : n == 0, iter,
			 "merged count");
		note(&bad_merge, binned_equal(&merged, &want), iter,
			 "%d parts merged (%s%s) bin as the reference", k,
			 contiguous ? "contiguous" : "scattered", into_part ? ", into a part" : "");

		/* the bins add up to the whole period */
		for (i = 0; i < n; i++)
			if (obs[i].from >= starts[0] && obs[i].from < end)
			{
				count++;
				if (obs[i].has[2])
				{
					dec_add(&total, &total, &obs[i].v[2], NULL);
					any = true;
				}
			}
		for (i = 0; i < nbins; i++)
		{
			bincount += got.counts[i];
			if (got.present[i * PF + 2])
			{
				dec_add(&binsum, &binsum, &got.out[i * PF + 2], NULL);
				anybin = true;
			}
		}
		note(&bad_total, bincount == count && any == anybin && dec_same(&total, &binsum), iter,
			 "bins hold %lld observations summing to %s, the period %lld summing to %s",
			 (long long) bincount, txt(&binsum), (long long) count, txt(&total));

		/* telemetry_at: one set exactly; merged exactly in order, else up to ties */
		for (f = 0; f < PF; f++)
		{
			nt = random_instants(obs, n, instants);
			for (i = 0; i < nt; i++)
			{
				bool		tie;

				ref_at(obs, n, f, instants[i], &tie);
				ties += tie;
			}
			note(&bad_at, at_agrees(single_main, obs, n, f, instants, nt, true), iter,
				 "telemetry_at on field %d", f);
			if (merged_main != NULL)
				note(&bad_order, at_agrees(merged_main, obs, n, f, instants, nt, in_order), iter,
					 "telemetry_at on field %d after merge%s", f, in_order ? " in order" : "");
		}
		if (in_order)
			note(&bad_order, merged_main != NULL ? merged_main->obs.len == single_main->obs.len &&
				 memcmp(merged_main->obs.data, single_main->obs.data, single_main->obs.len) == 0 : n == 0,
				 iter, "contiguous parts merged in order hold the same bytes");

		binned_free(&want);
		binned_free(&got);
		binned_free(&merged);
		dec_free(&total);
		dec_free(&binsum);
		telemetry_free(&single);
		telemetry_free(&fresh);
		for (p = 0; p < k; p++)
			telemetry_free(&parts[p]);
		model_free(obs, n);
	}
	CHECK(bad_ref == 0, "3000 random sets bin as the brute-force reference (%d bad)", bad_ref);
	CHECK(bad_merge == 0, "split into 1-5 parts, merged in any order, some through bytes: the same bins (%d bad)",
		  bad_merge);
	CHECK(bad_decoy == 0, "other series merge by name alongside (%d bad)", bad_decoy);
	CHECK(bad_total == 0, "the bins sum to the in-period total, with its scale (%d bad)", bad_total);
	CHECK(bad_at == 0, "telemetry_at agrees with the brute-force reference (%d bad)", bad_at);
	CHECK(bad_order == 0, "and after merging: exactly in order, up to equal starts otherwise (%d bad)", bad_order);
	CHECK(ties > 100, "instants with equal covering starts were tried (%d)", ties);
	printf("# properties: 3000 random sets, %d instants with equal covering starts\n", ties);
}

/* ---------- allocation failure ---------- */

static long alloc_calls;
static long alloc_failed;
static long fail_at = -1;
static bool fail_once;

static bool
should_fail(void)
{
	if (fail_at >= 0 && (fail_once ? alloc_calls == fail_at : alloc_calls >= fail_at))
	{
		alloc_calls++;
		alloc_failed++;
		return true;
	}
	alloc_calls++;
	return false;
}

static void *
failing_alloc(size_t n)
{
	return should_fail() ? NULL : malloc(n ? n : 1);
}

static void *
failing_realloc(void *p, size_t n)
{
	return should_fail() ? NULL : realloc(p, n ? n : 1);
}

static const DegAllocator failing = {failing_alloc, failing_realloc, free};

/* a failed call must say why */
static void
oom_note(int *bad, bool ok, const TelemetryError *err, const char *what, long n)
{
	if (!ok && strstr(err->message, "out of memory") == NULL && (*bad)++ < 3)
		printf("# allocation %ld: %s failed with \"%s\"\n", n, what, err->message);
}

/*
 * A workflow of three series with long values, a merge, bytes and back,
 * binning and signal values, with allocations failing from (or only at)
 * fail_at.  Then, with memory back, each series must hold exactly the
 * observations whose add succeeded, and still serialize and bin.
 */
static void
oom_run(long n, bool once, const Decimal *vals, int *bad, bool *any_failed)
{
	static const char *const refs[3] = {"telemetrySources.meter-1", "inputSignals.tou-price", "deliveredQuantity"};
	TelemetrySet a,
				b,
				c;
	TelemetryError err;
	DegBuf		bytes;
	size_t		added[3] = {0, 0, 0};
	int64_t		starts[3] = {T0, T0 + HOUR, T0 + 2 * HOUR};
	int64_t		t[4] = {T0, T0 + 10 * MINUTE, T0 + HOUR, T0 + 3 * HOUR};
	int			i,
				r;
	bool		ok;

	telemetry_init(&a);
	telemetry_init(&b);
	telemetry_init(&c);
	degbuf_init(&bytes);
	alloc_calls = 0;
	alloc_failed = 0;
	fail_at = n;
	fail_once = once;
	deg_set_allocator(&failing);

	for (i = 0; i < 12; i++)
	{
		TelemetrySeries *s = series(&a, refs[i % 3], "startTime,kWh,kvarh", &err);
		bool		present[3] = {true, i % 2 == 0, i % 3 != 1};

		oom_note(bad, s != NULL, &err, "telemetry_series", n);
		if (s == NULL)
			continue;
		err.message[0] = '\0';
		ok = telemetry_add_decimals(s, T0 + i * QUARTER, T0 + (i + 2) * QUARTER, vals + (i % 2), present, &err);
		oom_note(bad, ok, &err, "telemetry_add_decimals", n);
		added[i % 3] += ok;
	}
	oom_note(bad, series(&b, "inputSignals.other", "x", &err) != NULL, &err, "telemetry_series", n);
	ok = telemetry_merge(&b, &a, &err);
	oom_note(bad, ok, &err, "telemetry_merge", n);
	if (telemetry_serialize(&b, &bytes))
	{
		ok = telemetry_deserialize((const uint8_t *) bytes.data, bytes.len, &c, &err);
		oom_note(bad, ok, &err, "telemetry_deserialize", n);
		if (!ok && !is_empty(&c) && (*bad)++ < 3)
			printf("# allocation %ld: a refused value left a set\n", n);
	}
	else if (!bytes.oom && (*bad)++ < 3)
		printf("# allocation %ld: telemetry_serialize failed without running out\n", n);
	for (i = 0; i < a.nseries; i++)
	{
		Binned		bins;
		const char *v;
		long		failed_before = alloc_failed;

		bin(&bins, &a.series[i], starts, 3, T0 + 3 * HOUR);
		oom_note(bad, bins.ok, &bins.err, "telemetry_bin", n);
		binned_free(&bins);
		v = at(&a.series[i], 1, t, 4);
		if (strncmp(v, "ERROR", 5) == 0 && strstr(v, "out of memory") == NULL && (*bad)++ < 3)
			printf("# allocation %ld: telemetry_at: %s\n", n, v);
		/* without err, a failure must still be a failure */
		failed_before = alloc_failed;
		binned_alloc(&bins, 3, a.series[i].nfields);
		ok = telemetry_bin(&a.series[i], starts, 3, T0 + 3 * HOUR, bins.out, bins.present, bins.counts, NULL);
		if (ok && alloc_failed > failed_before && (*bad)++ < 3)
			printf("# allocation %ld: telemetry_bin without err succeeded though memory ran out\n", n);
		failed_before = alloc_failed;
		ok = telemetry_at(&a.series[i], 1, t, 3, bins.out, bins.present, NULL);
		if (ok && alloc_failed > failed_before && (*bad)++ < 3)
			printf("# allocation %ld: telemetry_at without err succeeded though memory ran out\n", n);
		binned_free(&bins);
	}
	*any_failed = alloc_failed > 0;
	deg_set_allocator(NULL);
	fail_at = -1;

	/* memory is back: what was added is there, whole */
	for (r = 0; r < 3; r++)
	{
		const TelemetrySeries *s = telemetry_find(&a, refs[r]);
		Binned		bins;
		int64_t		day[1] = {T0};

		if (s == NULL)
		{
			if (added[r] != 0 && (*bad)++ < 3)
				printf("# allocation %ld: series %s lost\n", n, refs[r]);
			continue;
		}
		bin(&bins, s, day, 1, T0 + DAY);
		if ((s->nobs != added[r] || !bins.ok || bins.counts[0] != (int64_t) added[r]) && (*bad)++ < 3)
			printf("# allocation %ld: %s holds %zu, bins %lld (%s), %zu were added\n", n, refs[r], s->nobs,
				   (long long) bins.counts[0], bins.err.message, added[r]);
		binned_free(&bins);
	}
	degbuf_free(&bytes);
	if (telemetry_serialize(&a, &bytes))
	{
		telemetry_free(&c);
		ok = telemetry_deserialize((const uint8_t *) bytes.data, bytes.len, &c, &err);
		if (!ok && (*bad)++ < 3)
			printf("# allocation %ld: the set no longer round-trips: %s\n", n, err.message);
	}
	degbuf_free(&bytes);
	telemetry_free(&a);
	telemetry_free(&b);
	telemetry_free(&c);
}

static void
test_allocation_failure(void)
{
	Decimal		vals[4];
	int			bad = 0,
				mode;
	long		n,
				runs[2] = {0, 0};
	bool		any_failed = true;

	for (n = 0; n < 4; n++)
		dec_init(&vals[n]);
	parse(&vals[0], "1704067200");
	parse(&vals[1], "12345678901234567890123456789012345678901234567890.123456789");	/* on the heap */
	parse(&vals[2], "-98765432109876543210987654321098765432109876543210.5");
	parse(&vals[3], "0.25");
	for (mode = 0; mode < 2; mode++)
	{
		any_failed = true;
		for (n = 0; n < 5000 && any_failed; n++)
		{
			oom_run(n, mode == 1, vals, &bad, &any_failed);
			runs[mode]++;
		}
		CHECK(!any_failed, "%s: the workflow completes once allocation %ld no longer fails",
			  mode ? "one failing allocation" : "all allocations failing from one on", n - 1);
	}
	CHECK(runs[0] > 50 && runs[1] > 50, "failures injected at %ld and %ld points", runs[0], runs[1]);
	printf("# allocation failure: the workflow run %ld times failing from allocation n on, %ld times failing only at n\n",
		   runs[0], runs[1]);
	CHECK(bad == 0, "every allocation failure is reported as out of memory, and leaves the sets whole (%d bad)",
		  bad);
	for (n = 0; n < 4; n++)
		dec_free(&vals[n]);
}

/*
 * Found by fuzz_telemetry_compact: a compact value of 16 digits at a
 * scale that is not a multiple of 4 spans five base-10000 digits, 18
 * bytes in dec_send form, which telemetry_serialize wrote into a 16-byte
 * buffer (a stack overflow).  The format allows it (digits below 10^16,
 * any scale up to 126), though telemetry_compact_add writes such a value
 * in dec_send form.
 */
static void
test_compact_five_digit_groups(void)
{
	/* from 0 s, 1 s long; importedKWh: tag 2 (scale 1), zigzag(1234567890123456) */
	static const uint8_t record[] = {0x02, 0x01, 0x02, 0x80, 0xeb, 0xd5, 0xc8, 0xa7, 0xb5, 0xb1, 0x04};
	const char *name = "importedKWh";
	size_t		namelen = strlen(name);
	TelemetrySet set,
				back;
	TelemetrySeries *s;
	TelemetryError err;
	TelemetryCursor c;
	DegBuf		b;
	Decimal		v = DEC_INIT;
	bool		present = false;
	int64_t		from = -1,
				to = -1;
	char		text[64] = "";

	telemetry_init(&set);
	set.compact = true;
	s = telemetry_series(&set, METER, strlen(METER), &name, &namelen, 1, &err);
	CHECK(s != NULL && degbuf_append(&s->obs, record, sizeof(record)), "five digit groups: series");
	s->nobs = 1;
	s->compact_tail.end = SECOND;
	s->compact_tail.length = SECOND;
	degbuf_init(&b);
	CHECK(telemetry_serialize(&set, &b), "five digit groups: serialized");
	CHECK(telemetry_deserialize((const uint8_t *) b.data, b.len, &back, &err), "five digit groups: read back: %s",
		  err.message);
	telemetry_cursor_init(&c, &back.series[0]);
	CHECK(telemetry_next(&c, &from, &to, &v, &present, &err) && present, "five digit groups: one value");
	if (present && dec_text_size(&v) < sizeof(text))
		dec_format(&v, text);
	CHECK_STR(text, "123456789012345.6", "five digit groups: the value");
	CHECK(from == 0 && to == SECOND, "five digit groups: [%lld, %lld)", (long long) from, (long long) to);
	dec_free(&v);
	degbuf_free(&b);
	telemetry_free(&back);
	telemetry_free(&set);
}

int
main(void)
{
	int			i;

	test_series();
	test_series_limit();
	test_observations();
	test_bin_day();
	test_bin_rules();
	test_at();
	test_merge();
	test_format();
	test_hostile_values();
	test_hostile_bytes();
	test_properties();
	test_allocation_failure();
	test_compact_five_digit_groups();
	for (i = 0; i < 16; i++)
		free(ring[i]);
	return unit_done("telemetry");
}
