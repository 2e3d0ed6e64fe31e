/*
 * billing.c: what a contract owes for a period (DESIGN.md sections 6 and 8).
 *
 *   deg.telemetry        a bundle of observation series (src/core/telemetry.h)
 *   deg.telemetry_agg    the aggregate that gathers a contract's rows into one,
 *                        on parallel workers (combine, serialize, deserialize)
 *   deg.contract_lines   bins a contract's telemetry into its settlement
 *                        intervals and evaluates every flow, metric and
 *                        penalty per interval: flows and penalties are summed,
 *                        metrics averaged
 *
 * Rounding, the direction of negative amounts and the ledger are SQL's
 * (sql/deg/060_billing.sql); amounts here are exact.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "access/parallel.h"
#include "access/subtrans.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/detoast.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/cost.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shm_mq.h"
#include "storage/shm_toc.h"
#include "utils/regproc.h"
#include "utils/wait_event.h"
#include "libpq/pqformat.h"
#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/expandeddatum.h"
#include "utils/json.h"
#include "utils/rangetypes.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"

#include <sodium.h>

#include "core/json.h"
#include "core/offer.h"
#include "core/telemetry.h"
#include "contract.h"
#include "decimal_glue.h"
#include "era.h"

#define MAX_BINS 1000000		/* settlement intervals in one period */

/* ---------- the deg.telemetry type ---------- */

static void
telemetry_error(const TelemetryError *err)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid telemetry: %s", err->message)));
}

static struct varlena *
telemetry_datum(const TelemetrySet *set)
{
	DegBuf		buf;
	struct varlena *result;

	degbuf_init(&buf);
	if (!telemetry_serialize(set, &buf))
	{
		if (buf.oom)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		/* compact series are built here, never read from outside: a broken one is a bug */
		elog(ERROR, "compact telemetry series does not hold the records it counts");
	}
	result = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(result, VARHDRSZ + buf.len);
	memcpy(VARDATA(result), buf.data, buf.len);
	degbuf_free(&buf);
	return result;
}

/* the set of a (detoasted) datum; every byte is checked */
static void
telemetry_from_bytes(const char *data, size_t len, TelemetrySet *set, int errcode_on_failure)
{
	TelemetryError err;

	if (!telemetry_deserialize((const uint8_t *) data, len, set, &err))
		ereport(ERROR,
				(errcode(errcode_on_failure),
				 errmsg("invalid telemetry value: %s", err.message)));
}

static int64
parse_time(const JsonNode *v, const char *ref, const char *what)
{
	if (v == NULL || v->kind != JSON_STRING)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid telemetry: an observation of \"%s\" needs \"%s\" as a date-time string", ref, what)));
	return DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(v->text),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
}

/*
 * Text form: {"telemetrySources.meter-1": [{"from": ISO, "to": ISO,
 * "importedKWh": 1.5, ...}, ...], ...}.  A series' fields are the members
 * its observations name besides from and to; null or a missing member is
 * an absent value.
 */
PG_FUNCTION_INFO_V1(telemetry_in);
Datum
telemetry_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	JsonError	jerr;
	JsonNode   *doc = json_parse(text, strlen(text), &jerr);
	TelemetrySet set;
	size_t		i,
				j,
				k;

	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid telemetry: %s", jerr.message)));
	if (doc->kind != JSON_OBJECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid telemetry: expected an object of series, not %s", json_kind_name(doc->kind))));
	telemetry_init(&set);
	for (i = 0; i < doc->count; i++)
	{
		const JsonMember *m = &doc->members[i];
		const char *fields[TELEMETRY_MAX_FIELDS];
		size_t		lens[TELEMETRY_MAX_FIELDS];
		int			nfields = 0;
		TelemetrySeries *s;
		TelemetryError err;

		if (m->value->kind != JSON_ARRAY || m->value->count == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid telemetry: series \"%s\" must be a non-empty array of observations", m->key)));
		/* the fields: every member named by any observation, in order of appearance */
		for (j = 0; j < m->value->count; j++)
		{
			const JsonNode *o = m->value->items[j];

			if (o->kind != JSON_OBJECT)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
						 errmsg("invalid telemetry: observation %zu of \"%s\" is not an object", j + 1, m->key)));
			for (k = 0; k < o->count; k++)
			{
				const char *key = o->members[k].key;
				int			f;
				bool		seen = strcmp(key, "from") == 0 || strcmp(key, "to") == 0;

				for (f = 0; f < nfields && !seen; f++)
					seen = strcmp(fields[f], key) == 0;
				if (seen)
					continue;
				if (nfields == TELEMETRY_MAX_FIELDS)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("invalid telemetry: series \"%s\" has more than %d fields", m->key,
									TELEMETRY_MAX_FIELDS)));
				fields[nfields] = key;
				lens[nfields++] = o->members[k].keylen;	/* a \u0000 inside is refused by name */
			}
		}
		if (nfields == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid telemetry: series \"%s\" has no value fields", m->key)));
		s = telemetry_series(&set, m->key, m->keylen, fields, lens, nfields, &err);
		if (s == NULL)
			telemetry_error(&err);
		for (j = 0; j < m->value->count; j++)
		{
			const JsonNode *o = m->value->items[j];
			Decimal		values[TELEMETRY_MAX_FIELDS];
			bool		present[TELEMETRY_MAX_FIELDS];
			int			f;

			for (f = 0; f < nfields; f++)
			{
				const JsonNode *v = json_get(o, fields[f]);

				dec_init(&values[f]);
				present[f] = v != NULL && v->kind != JSON_NULL;
				if (present[f] && v->kind != JSON_NUMBER)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
							 errmsg("invalid telemetry: \"%s\" of observation %zu of \"%s\" is not a number",
									fields[f], j + 1, m->key)));
				if (present[f])
				{
					DecError	derr;
					DecStatus	st = dec_from_text(&values[f], v->text, v->len, &derr);

					if (st != DEC_OK)
						decimal_report(st, &derr, fields[f]);
				}
			}
			if (!telemetry_add_decimals(s, parse_time(json_get(o, "from"), m->key, "from"),
										parse_time(json_get(o, "to"), m->key, "to"), values, present, &err))
				telemetry_error(&err);
		}
	}
	PG_RETURN_POINTER(telemetry_datum(&set));
}

static void
append_decimal(StringInfo out, const Decimal *d)
{
	char	   *text = palloc(dec_text_size(d));

	dec_format(d, text);
	appendStringInfoString(out, text);
	pfree(text);
}

PG_FUNCTION_INFO_V1(telemetry_out);
Datum
telemetry_out(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	TelemetrySet set;
	StringInfoData out;
	int			i,
				f;

	telemetry_from_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &set, ERRCODE_DATA_CORRUPTED);
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	for (i = 0; i < set.nseries; i++)
	{
		const TelemetrySeries *s = &set.series[i];
		TelemetryCursor c;
		Decimal		values[TELEMETRY_MAX_FIELDS];
		bool		present[TELEMETRY_MAX_FIELDS];
		int64_t		from,
					to;
		bool		first = true;

		if (i > 0)
			appendStringInfoString(&out, ", ");
		escape_json(&out, s->ref);
		appendStringInfoString(&out, ": [");
		for (f = 0; f < s->nfields; f++)
			dec_init(&values[f]);
		telemetry_cursor_init(&c, s);
		while (telemetry_next(&c, &from, &to, values, present, NULL))
		{
			char		a[40],
						b[40];

			deg_format_timestamp(from, a);
			deg_format_timestamp(to, b);
			appendStringInfo(&out, "%s{\"from\": \"%s\", \"to\": \"%s\"", first ? "" : ", ", a, b);
			for (f = 0; f < s->nfields; f++)
			{
				if (!present[f])
					continue;
				appendStringInfoString(&out, ", ");
				escape_json(&out, s->fields[f]);
				appendStringInfoString(&out, ": ");
				append_decimal(&out, &values[f]);
			}
			appendStringInfoChar(&out, '}');
			first = false;
		}
		appendStringInfoChar(&out, ']');
	}
	appendStringInfoChar(&out, '}');
	PG_RETURN_CSTRING(out.data);
}

PG_FUNCTION_INFO_V1(telemetry_recv);
Datum
telemetry_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	TelemetrySet set;
	const char *bytes = pq_getmsgbytes(buf, buf->len - buf->cursor);

	Datum		value;

	telemetry_from_bytes(bytes, buf->len - (bytes - buf->data), &set, ERRCODE_INVALID_BINARY_REPRESENTATION);
	value = PointerGetDatum(telemetry_datum(&set));

	/*
	 * A value received must be one the text input accepts (timestamps in
	 * PostgreSQL's range, numbers the text form reads back): read it back
	 * through its text form, which makes every check telemetry_in makes.
	 */
	return DirectFunctionCall1(telemetry_in, DirectFunctionCall1(telemetry_out, value));
}

PG_FUNCTION_INFO_V1(telemetry_send);
Datum
telemetry_send(PG_FUNCTION_ARGS)
{
	struct varlena *v = PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* deg.telemetry_merge(a, b): the observations of both */
PG_FUNCTION_INFO_V1(telemetry_merge_sql);
Datum
telemetry_merge_sql(PG_FUNCTION_ARGS)
{
	struct varlena *a = PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	struct varlena *b = PG_DETOAST_DATUM(PG_GETARG_DATUM(1));
	TelemetrySet sa,
				sb;
	TelemetryError err;

	telemetry_from_bytes(VARDATA_ANY(a), VARSIZE_ANY_EXHDR(a), &sa, ERRCODE_DATA_CORRUPTED);
	telemetry_from_bytes(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b), &sb, ERRCODE_DATA_CORRUPTED);
	if (!telemetry_merge(&sa, &sb, &err))
		telemetry_error(&err);
	PG_RETURN_POINTER(telemetry_datum(&sa));
}

/* ---------- the aggregate ---------- */

/*
 * A series' names, its ref and its fields text as given: kept once per call
 * site (step or deserialize) in a small hash table, so that a state points
 * at them and rows are matched by pointer.
 */
typedef struct AggSchema
{
	char	   *ref;			/* reflen bytes and a NUL */
	char	   *fields;			/* fieldslen bytes and a NUL */
	int			reflen;
	int			fieldslen;
	int			nfields;
	char	  **names;			/* the fields, each NUL-terminated: made when a result needs them */
	bool		checked;		/* its names are a series' (telemetry_check_names) */
	uint32		hash;
	struct AggSchema *next;		/* in its bucket */
} AggSchema;

typedef struct AggSchemas
{
	MemoryContext cxt;
	AggSchema **buckets;
	int			nbuckets;
	int			count;
	AggSchema  *last;			/* the one last asked for */
} AggSchemas;

static uint32
schema_hash(const char *ref, int reflen, const char *fields, int fieldslen)
{
	return hash_bytes((const unsigned char *) ref, reflen) ^ (hash_bytes((const unsigned char *) fields, fieldslen) * 31);
}

/* the fields of a fields text: how many (commas + 1) */
static int
fields_count(const char *text, int len)
{
	int			n = 1;
	int			i;

	for (i = 0; i < len; i++)
		n += text[i] == ',';
	return n;
}

static AggSchema *
schema_get(AggSchemas *t, const char *ref, int reflen, const char *fields, int fieldslen)
{
	AggSchema  *sc = t->last;
	uint32		h;
	int			i;

	if (sc && sc->reflen == reflen && sc->fieldslen == fieldslen && memcmp(sc->ref, ref, reflen) == 0 &&
		memcmp(sc->fields, fields, fieldslen) == 0)
		return sc;
	h = schema_hash(ref, reflen, fields, fieldslen);
	if (t->nbuckets > 0)
		for (sc = t->buckets[h & (t->nbuckets - 1)]; sc; sc = sc->next)
			if (sc->hash == h && sc->reflen == reflen && sc->fieldslen == fieldslen &&
				memcmp(sc->ref, ref, reflen) == 0 && memcmp(sc->fields, fields, fieldslen) == 0)
				return t->last = sc;
	if (t->count >= t->nbuckets)
	{
		/* grow (or make) the table: twice as many buckets as entries */
		int			n = t->nbuckets ? t->nbuckets * 4 : 16;
		AggSchema **buckets = MemoryContextAllocZero(t->cxt, sizeof(AggSchema *) * n);

		for (i = 0; i < t->nbuckets; i++)
			while (t->buckets[i])
			{
				AggSchema  *e = t->buckets[i];

				t->buckets[i] = e->next;
				e->next = buckets[e->hash & (n - 1)];
				buckets[e->hash & (n - 1)] = e;
			}
		if (t->buckets)
			pfree(t->buckets);
		t->buckets = buckets;
		t->nbuckets = n;
	}
	sc = MemoryContextAlloc(t->cxt, sizeof(AggSchema) + reflen + fieldslen + 2);
	sc->ref = (char *) (sc + 1);
	memcpy(sc->ref, ref, reflen);
	sc->ref[reflen] = '\0';
	sc->fields = sc->ref + reflen + 1;
	memcpy(sc->fields, fields, fieldslen);
	sc->fields[fieldslen] = '\0';
	sc->reflen = reflen;
	sc->fieldslen = fieldslen;
	sc->nfields = fields_count(fields, fieldslen);
	sc->names = NULL;
	sc->checked = false;
	sc->hash = h;
	sc->next = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = sc;
	t->count++;
	return t->last = sc;
}

static bool
schema_equal(const AggSchema *a, const AggSchema *b)
{
	return a == b || (a->reflen == b->reflen && a->fieldslen == b->fieldslen && memcmp(a->ref, b->ref, a->reflen) == 0 &&
					  memcmp(a->fields, b->fields, a->fieldslen) == 0);
}

/*
 * A group's state: its series, each its names and its observations as
 * compact records (src/core/telemetry.h), about six bytes a reading.  A
 * settlement keeps one per contract in every worker, and reaches it once
 * per row: the state is one chunk of 512 bytes, its first series and that
 * series' first records inside it.
 */
typedef struct AggSeries
{
	const AggSchema *schema;
	uint8	   *data;			/* compact records */
	uint32		len;
	uint32		cap;
	uint32		nobs;
	TelemetryCompactTail tail;	/* the last record: the next one is counted from it */
} AggSeries;

#define AGG_STATE_SIZE 512

typedef struct TelemetryAggStateHead
{
	int			nseries;
	int			more_capacity;
	int			last;			/* the series of the last row (rows come in runs) */
	bool		deserialized;	/* made by the deserialize function: combine may adopt it */
	AggSeries  *more;			/* series 1 .. nseries - 1 */
	AggSeries	first;
} TelemetryAggStateHead;

typedef struct TelemetryAggState
{
	TelemetryAggStateHead h;
	uint8		inline_data[AGG_STATE_SIZE - sizeof(TelemetryAggStateHead)];	/* the first series' records */
} TelemetryAggState;

/* per call site: the last fields text seen, split at commas, and the schemas of the rows */
typedef struct TelemetryAggCall
{
	TypeCacheEntry *range_type;
	Oid			value_types[TELEMETRY_MAX_FIELDS];
	bool		types_checked;
	char	   *fields_text;
	size_t		fields_len;
	int			nfields;
	const char *names[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
	AggSchemas	schemas;
} TelemetryAggCall;

static void
split_fields(TelemetryAggCall *state, MemoryContext cxt, const char *text, size_t len)
{
	char	   *copy = MemoryContextAlloc(cxt, len + 1);
	size_t		start = 0,
				i;

	memcpy(copy, text, len);
	copy[len] = '\0';
	if (state->fields_text)
		pfree(state->fields_text);
	state->fields_text = copy;
	state->fields_len = len;
	state->nfields = 0;
	for (i = 0; i <= len; i++)
		if (i == len || copy[i] == ',')
		{
			if (state->nfields == TELEMETRY_MAX_FIELDS)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("telemetry_agg: more than %d fields in \"%s\"", TELEMETRY_MAX_FIELDS, copy)));
			state->names[state->nfields] = copy + start;
			state->lens[state->nfields++] = i - start;
			start = i + 1;
		}
}

static TelemetryAggState *
agg_state_new(MemoryContext cxt)
{
	TelemetryAggState *state = MemoryContextAlloc(cxt, sizeof(TelemetryAggState));

	memset(&state->h, 0, sizeof(state->h));
	return state;
}

static AggSeries *
agg_series_at(TelemetryAggState *state, int i)
{
	return i == 0 ? &state->h.first : &state->h.more[i - 1];
}

/* the series of schema in state, added if new; in cxt */
static AggSeries *
agg_series(TelemetryAggState *state, MemoryContext cxt, const AggSchema *schema)
{
	AggSeries  *s;
	int			i;

	if (state->h.nseries > 0)
	{
		s = agg_series_at(state, state->h.last);
		if (s->schema == schema)
			return s;
		for (i = 0; i < state->h.nseries; i++)
		{
			s = agg_series_at(state, i);
			if (s->schema->reflen == schema->reflen && memcmp(s->schema->ref, schema->ref, schema->reflen) == 0)
			{
				if (!schema_equal(s->schema, schema))
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("invalid telemetry: series \"%s\" is given with different fields", schema->ref)));
				state->h.last = i;
				return s;
			}
		}
	}
	if (state->h.nseries >= TELEMETRY_MAX_SERIES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid telemetry: more than %d series", TELEMETRY_MAX_SERIES)));
	if (state->h.nseries == 0)
	{
		s = &state->h.first;
		memset(s, 0, sizeof(AggSeries));
		s->data = state->inline_data;
		s->cap = sizeof(state->inline_data);
	}
	else
	{
		if (state->h.nseries - 1 == state->h.more_capacity)
		{
			int			cap = state->h.more_capacity ? state->h.more_capacity * 2 : 1;

			state->h.more = state->h.more ? repalloc(state->h.more, sizeof(AggSeries) * cap)
				: MemoryContextAlloc(cxt, sizeof(AggSeries) * cap);
			state->h.more_capacity = cap;
		}
		s = &state->h.more[state->h.nseries - 1];
		memset(s, 0, sizeof(AggSeries));
	}
	s->schema = schema;
	state->h.last = state->h.nseries++;
	return s;
}

/* room for extra more bytes of records */
static void
agg_reserve(TelemetryAggState *state, AggSeries *s, MemoryContext cxt, size_t extra)
{
	size_t		cap;
	uint8	   *data;

	if (s->len + extra <= s->cap)
		return;
	if ((size_t) s->len + extra > MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("telemetry of \"%s\" is too large for one group", s->schema->ref)));
	cap = Max(s->cap * 2, 256);
	while (cap < s->len + extra)
		cap *= 2;
	cap = Min(cap, MaxAllocSize);
	data = MemoryContextAlloc(cxt, cap);
	if (s->len > 0)
		memcpy(data, s->data, s->len);
	if (s->data && s->data != state->inline_data)
		pfree(s->data);
	s->data = data;
	s->cap = (uint32) cap;
}

/* the records of b's series added to a's (b is left as it was) */
static void
agg_merge(TelemetryAggState *a, TelemetryAggState *b, MemoryContext cxt)
{
	int			i;

	for (i = 0; i < b->h.nseries; i++)
	{
		const AggSeries *bs = agg_series_at(b, i);
		AggSeries  *as;
		uint8		head[TELEMETRY_COMPACT_TIMES_MAX];
		size_t		headlen,
					skip;
		TelemetryCompactTail tail;
		TelemetryError err;

		if (bs->len == 0)
			continue;
		as = agg_series(a, cxt, bs->schema);
		tail = as->tail;
		if (!telemetry_compact_rebase(bs->data, bs->len, &tail, head, &headlen, &skip, &err))
			telemetry_error(&err);
		agg_reserve(a, as, cxt, headlen + bs->len - skip);
		memcpy(as->data + as->len, head, headlen);
		memcpy(as->data + as->len + headlen, bs->data + skip, bs->len - skip);
		as->len += headlen + bs->len - skip;
		as->tail = bs->tail;
		as->nobs += bs->nobs;
	}
}

/* a schema's fields, split (once, in the schemas' context) */
static char **
schema_names(AggSchema *sc, MemoryContext cxt)
{
	if (sc->names == NULL)
	{
		char	  **names = MemoryContextAlloc(cxt, sizeof(char *) * sc->nfields + sc->fieldslen + 1);
		char	   *copy = (char *) (names + sc->nfields);
		int			n = 0,
					k;

		memcpy(copy, sc->fields, sc->fieldslen + 1);
		names[n++] = copy;
		for (k = 0; k < sc->fieldslen; k++)
			if (copy[k] == ',')
			{
				copy[k] = '\0';
				names[n++] = copy + k + 1;
			}
		sc->names = names;
	}
	return sc->names;
}

/*
 * A state's series as a set of compact series that reads the state's own
 * memory (names and records are not copied): the set is good for as long
 * as the state is, until the group's result has been used.
 */
static void
agg_to_set(TelemetryAggState *state, TelemetrySet *set)
{
	int			i,
				f;

	telemetry_init(set);
	set->compact = true;
	set->series = palloc0(sizeof(TelemetrySeries) * state->h.nseries);
	set->capacity = set->nseries = state->h.nseries;
	for (i = 0; i < state->h.nseries; i++)
	{
		const AggSeries *as = agg_series_at(state, i);
		AggSchema  *sc = (AggSchema *) as->schema;
		TelemetrySeries *s = &set->series[i];
		char	  **names = schema_names(sc, GetMemoryChunkContext(sc));

		s->ref = sc->ref;
		s->nfields = sc->nfields;
		for (f = 0; f < sc->nfields; f++)
			s->fields[f] = names[f];
		s->nobs = as->nobs;
		s->obs.data = (char *) as->data;
		s->obs.len = as->len;
		s->obs.cap = as->cap;
		s->compact = true;
		s->compact_tail = as->tail;
	}
}

/*
 * The aggregate's result is an expanded deg.telemetry: the set as the
 * aggregate built it, which deg.contract_lines reads without a copy in the
 * version 1 form.  Stored, sent or handed to anything else, it becomes
 * that form (flattened) as any expanded value does.
 */
typedef struct ExpandedTelemetry
{
	ExpandedObjectHeader hdr;
	TelemetrySet set;			/* compact series over the state's memory */
	TelemetryAggState *state;	/* that state (sent to evaluation workers as it is) */
	struct varlena *flat;		/* the version 1 form, once asked for */
} ExpandedTelemetry;

static Size
expanded_telemetry_size(ExpandedObjectHeader *eohptr)
{
	ExpandedTelemetry *et = (ExpandedTelemetry *) eohptr;

	if (et->flat == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(et->hdr.eoh_context);

		et->flat = telemetry_datum(&et->set);
		MemoryContextSwitchTo(old);
	}
	return VARSIZE(et->flat);
}

static void
expanded_telemetry_flatten(ExpandedObjectHeader *eohptr, void *result, Size allocated_size)
{
	ExpandedTelemetry *et = (ExpandedTelemetry *) eohptr;

	Assert(et->flat != NULL && allocated_size == VARSIZE(et->flat));
	memcpy(result, et->flat, allocated_size);
}

static const ExpandedObjectMethods expanded_telemetry_methods = {
	expanded_telemetry_size,
	expanded_telemetry_flatten
};

/* the set of an expanded deg.telemetry datum, or NULL for any other datum */
static const TelemetrySet *
expanded_telemetry_set(Datum d)
{
	ExpandedObjectHeader *eoh;

	if (!VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)))
		return NULL;
	eoh = DatumGetEOHP(d);
	if (eoh->eoh_methods != &expanded_telemetry_methods)
		return NULL;
	return &((ExpandedTelemetry *) eoh)->set;
}

/*
 * deg.telemetry_agg(ref text, at tstzrange, fields text, VARIADIC values "any"):
 * fields names the values, comma-separated ('importedKWh,exportedKWh'); values
 * beyond them are ignored, so that rows of different sources can share one
 * UNION ALL.  Values are numbers (numeric, integers, floats) or timestamptz
 * (seconds since 1970); NULL is an absent value.
 */
#define WIRE_LOCAL 136			/* dec_send bytes of a value of up to 64 digits */

PG_FUNCTION_INFO_V1(telemetry_agg_step);
Datum
telemetry_agg_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	TelemetryAggState *state;
	TelemetryAggCall *call = (TelemetryAggCall *) fcinfo->flinfo->fn_extra;
	text	   *ref;
	text	   *fields;
	RangeType  *range;
	Pointer		range_arg;
	union
	{
		RangeType	range;
		char		bytes[64];
		int64		align;
	}			range_copy;
	RangeBound	lower,
				upper;
	bool		empty;
	const uint8_t *wire[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
	uint8		local[TELEMETRY_MAX_FIELDS][WIRE_LOCAL];
	bool		allocated[TELEMETRY_MAX_FIELDS];
	AggSchema  *schema;
	AggSeries  *series;
	TelemetryError err;
	int			nvalues = PG_NARGS() - 4;
	int			f;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("telemetry_agg_step called in a non-aggregate context")));
	state = PG_ARGISNULL(0) ? agg_state_new(aggcxt) : (TelemetryAggState *) PG_GETARG_POINTER(0);
	/* rows without a series or a time (an outer join's empty side) add nothing */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_POINTER(state);

	if (call == NULL)
	{
		call = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TelemetryAggCall));
		fcinfo->flinfo->fn_extra = call;
	}
	ref = PG_GETARG_TEXT_PP(1);
	fields = PG_GETARG_TEXT_PP(3);
	range_arg = DatumGetPointer(PG_GETARG_DATUM(2));
	if (VARATT_IS_SHORT(range_arg) && VARSIZE_SHORT(range_arg) - VARHDRSZ_SHORT + VARHDRSZ <= sizeof(range_copy))
	{
		/* a range stored with a short header, given a long one here rather than in a palloc'd copy */
		size_t		n = VARSIZE_SHORT(range_arg) - VARHDRSZ_SHORT;

		SET_VARSIZE(&range_copy, n + VARHDRSZ);
		memcpy(VARDATA(&range_copy), VARDATA_SHORT(range_arg), n);
		range = &range_copy.range;
	}
	else
		range = PG_GETARG_RANGE_P(2);
	if (call->range_type == NULL || call->range_type->type_id != RangeTypeGetOid(range))
		call->range_type = lookup_type_cache(RangeTypeGetOid(range), TYPECACHE_RANGE_INFO);
	range_deserialize(call->range_type, range, &lower, &upper, &empty);
	if (empty || lower.infinite || upper.infinite)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("telemetry of \"%s\" has an empty or unbounded time range", text_to_cstring(ref))));

	if (call->fields_text == NULL || call->fields_len != VARSIZE_ANY_EXHDR(fields) ||
		memcmp(call->fields_text, VARDATA_ANY(fields), call->fields_len) != 0)
		split_fields(call, fcinfo->flinfo->fn_mcxt, VARDATA_ANY(fields), VARSIZE_ANY_EXHDR(fields));
	if (call->nfields > nvalues)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("telemetry_agg: \"%s\" names %d fields but %d values are given",
						call->fields_text, call->nfields, nvalues)));
	if (!call->types_checked)
	{
		for (f = 0; f < nvalues && f < TELEMETRY_MAX_FIELDS; f++)
		{
			Oid			t = get_fn_expr_argtype(fcinfo->flinfo, 4 + f);

			if (t != NUMERICOID && t != INT2OID && t != INT4OID && t != INT8OID && t != FLOAT4OID &&
				t != FLOAT8OID && t != TIMESTAMPTZOID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("telemetry_agg: value %d has type %s", f + 1, format_type_be(t)),
						 errdetail("Telemetry values are numbers or timestamptz.")));
			call->value_types[f] = t;
		}
		call->types_checked = true;
	}

	if (VARSIZE_ANY_EXHDR(ref) > TELEMETRY_MAX_NAME || call->fields_len > PG_UINT16_MAX)
	{
		/* too long to be a series: the message telemetry_series gives */
		if (!telemetry_check_names(VARDATA_ANY(ref), VARSIZE_ANY_EXHDR(ref), call->names, call->lens,
								   call->nfields, &err))
			telemetry_error(&err);
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("telemetry_agg: the fields text \"%.64s...\" is too long", call->fields_text)));
	}
	if (call->schemas.cxt == NULL)
		call->schemas.cxt = fcinfo->flinfo->fn_mcxt;
	schema = schema_get(&call->schemas, VARDATA_ANY(ref), VARSIZE_ANY_EXHDR(ref), call->fields_text, call->fields_len);
	/* a series' names are checked once, as telemetry_series checks them */
	if (!schema->checked)
	{
		if (!telemetry_check_names(schema->ref, schema->reflen, call->names, call->lens, call->nfields, &err))
			telemetry_error(&err);
		schema->checked = true;
	}
	series = agg_series(state, aggcxt, schema);
	if (DatumGetTimestampTz(lower.val) >= DatumGetTimestampTz(upper.val))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid telemetry: an observation of \"%s\" ends before it starts", schema->ref)));

	for (f = 0; f < call->nfields; f++)
	{
		Datum		d;

		wire[f] = NULL;
		lens[f] = 0;
		allocated[f] = false;
		if (PG_ARGISNULL(4 + f))
			continue;
		d = PG_GETARG_DATUM(4 + f);
		if (call->value_types[f] == NUMERICOID)
		{
			/* read where it is, short header and all (numeric_to_wire reads either) */
			Numeric		n = (Numeric) PG_DETOAST_DATUM_PACKED(d);
			uint8	   *bytes;

			lens[f] = numeric_wire_size(n);
			allocated[f] = lens[f] > WIRE_LOCAL;
			bytes = allocated[f] ? palloc(lens[f]) : local[f];
			numeric_to_wire(n, bytes);
			wire[f] = bytes;
		}
		else
		{
			Decimal		dec = DEC_INIT;
			uint8	   *bytes;
			DecError	derr;
			DecStatus	st = DEC_OK;

			switch (call->value_types[f])
			{
				case INT2OID:
					st = dec_from_int64(&dec, DatumGetInt16(d), &derr);
					break;
				case INT4OID:
					st = dec_from_int64(&dec, DatumGetInt32(d), &derr);
					break;
				case INT8OID:
					st = dec_from_int64(&dec, DatumGetInt64(d), &derr);
					break;
				case FLOAT4OID:
					st = dec_from_double(&dec, (double) DatumGetFloat4(d), &derr);
					break;
				case FLOAT8OID:
					st = dec_from_double(&dec, DatumGetFloat8(d), &derr);
					break;
				default:
					{
						/* seconds since 1970, exactly */
						Decimal		us = DEC_INIT;
						Decimal		million = DEC_INIT;

						dec_from_int64(&us, DatumGetTimestampTz(d) +
									   (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY, NULL);
						dec_from_int64(&million, 1000000, NULL);
						st = dec_div_round(&dec, &us, &million, 6, DEC_ROUND_HALF_EVEN, &derr);
						break;
					}
			}
			if (st != DEC_OK)
				decimal_report(st, &derr, call->names[f]);
			lens[f] = dec_send_size(&dec);
			allocated[f] = lens[f] > WIRE_LOCAL;
			bytes = allocated[f] ? palloc(lens[f]) : local[f];
			dec_send(&dec, bytes);
			dec_free(&dec);
			wire[f] = bytes;
		}
	}

	for (f = 0; f < call->nfields; f++)
		if (wire[f] != NULL && lens[f] > PG_UINT16_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("invalid telemetry: a value of \"%s\" is too long", schema->ref)));
	agg_reserve(state, series, aggcxt, telemetry_compact_bound(call->nfields, wire, lens));
	series->len += telemetry_compact_encode(series->data + series->len, &series->tail, call->nfields,
											DatumGetTimestampTz(lower.val), DatumGetTimestampTz(upper.val),
											wire, lens);
	series->nobs++;
	for (f = 0; f < call->nfields; f++)
		if (allocated[f])
			pfree((void *) wire[f]);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(telemetry_agg_combine);
Datum
telemetry_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	TelemetryAggState *a;
	TelemetryAggState *b;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("telemetry_agg_combine called in a non-aggregate context")));
	a = PG_ARGISNULL(0) ? NULL : (TelemetryAggState *) PG_GETARG_POINTER(0);
	b = PG_ARGISNULL(1) ? NULL : (TelemetryAggState *) PG_GETARG_POINTER(1);
	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	/* a worker's state, deserialized into the aggregate's context: take it as it is */
	if (a == NULL && b->h.deserialized)
		PG_RETURN_POINTER(b);
	if (a == NULL)
		a = agg_state_new(aggcxt);
	agg_merge(a, b, aggcxt);
	PG_RETURN_POINTER(a);
}

/*
 * Between workers a state travels as: its series count (uint32), then per
 * series the lengths of its ref and fields text (uint16 each), both (with
 * the NUL between them), its record count and byte count (uint32 each),
 * its last record's end and length, and its compact records; integers in
 * the server's byte order.  The bytes come from this server's workers
 * (the functions take internal, which SQL cannot give them): their lengths
 * are checked, the records are read later by code that checks every
 * bound.
 */
typedef struct AggSeriesHead
{
	uint16		reflen;
	uint16		fieldslen;
} AggSeriesHead;

typedef struct AggSeriesCounts
{
	uint32		nobs;
	uint32		bytes;
	TelemetryCompactTail tail;
} AggSeriesCounts;

static bytea *
agg_state_bytes(TelemetryAggState *state)
{
	bytea	   *result;
	size_t		size = VARHDRSZ + sizeof(uint32);
	char	   *p;
	uint32		n = state->h.nseries;
	int			i;

	for (i = 0; i < state->h.nseries; i++)
	{
		const AggSeries *s = agg_series_at(state, i);

		size += sizeof(AggSeriesHead) + s->schema->reflen + 1 + s->schema->fieldslen + sizeof(AggSeriesCounts) + s->len;
	}
	result = palloc(size);
	SET_VARSIZE(result, size);
	p = VARDATA(result);
	memcpy(p, &n, sizeof(n));
	p += sizeof(n);
	for (i = 0; i < state->h.nseries; i++)
	{
		const AggSeries *s = agg_series_at(state, i);
		AggSeriesHead head;
		AggSeriesCounts counts;

		head.reflen = s->schema->reflen;
		head.fieldslen = s->schema->fieldslen;
		counts.nobs = s->nobs;
		counts.bytes = s->len;
		counts.tail = s->tail;
		memcpy(p, &head, sizeof(head));
		p += sizeof(head);
		memcpy(p, s->schema->ref, s->schema->reflen + 1 + s->schema->fieldslen);	/* the ref, its NUL, the fields */
		p += s->schema->reflen + 1 + s->schema->fieldslen;
		memcpy(p, &counts, sizeof(counts));
		p += sizeof(counts);
		if (s->len > 0)
			memcpy(p, s->data, s->len);
		p += s->len;
	}
	return result;
}

PG_FUNCTION_INFO_V1(telemetry_agg_serialize);
Datum
telemetry_agg_serialize(PG_FUNCTION_ARGS)
{
	PG_RETURN_BYTEA_P(agg_state_bytes((TelemetryAggState *) PG_GETARG_POINTER(0)));
}

static void
corrupted_state(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("invalid telemetry_agg state: %s", what)));
}

/* a state from agg_state_bytes's bytes (p, len), in aggcxt; schemas are shared through schemas */
static TelemetryAggState *
agg_state_from_bytes(const char *p, size_t len, AggSchemas *schemas, MemoryContext aggcxt)
{
	size_t		pos = sizeof(uint32);
	TelemetryAggState *state;
	uint32		n;
	uint32		i;

	state = agg_state_new(aggcxt);
	if (len < sizeof(uint32))
		corrupted_state("truncated");
	memcpy(&n, p, sizeof(n));
	if (n > TELEMETRY_MAX_SERIES)
		corrupted_state("series count out of range");
	for (i = 0; i < n; i++)
	{
		AggSeriesHead head;
		AggSeriesCounts counts;
		AggSeries  *s;

		if (len - pos < sizeof(head))
			corrupted_state("truncated");
		memcpy(&head, p + pos, sizeof(head));
		pos += sizeof(head);
		if (head.reflen < 1 || head.fieldslen < 1 ||
			len - pos < (size_t) head.reflen + 1 + head.fieldslen + sizeof(counts))
			corrupted_state("truncated or invalid names");
		s = agg_series(state, aggcxt, schema_get(schemas, p + pos, head.reflen, p + pos + head.reflen + 1, head.fieldslen));
		pos += head.reflen + 1 + head.fieldslen;
		memcpy(&counts, p + pos, sizeof(counts));
		pos += sizeof(counts);
		if (counts.bytes > len - pos || s->nobs > 0 || (counts.nobs == 0) != (counts.bytes == 0))
			corrupted_state("truncated records, or a series twice");
		agg_reserve(state, s, aggcxt, counts.bytes);
		if (counts.bytes > 0)
			memcpy(s->data, p + pos, counts.bytes);
		s->len = counts.bytes;
		s->nobs = counts.nobs;
		s->tail = counts.tail;
		pos += counts.bytes;
	}
	if (pos != len)
		corrupted_state("bytes after the last series");
	state->h.deserialized = true;
	return state;
}

/* the schemas cache of a function (fn_extra), made on the first call */
static AggSchemas *
fn_schemas(FmgrInfo *flinfo)
{
	AggSchemas *schemas = (AggSchemas *) flinfo->fn_extra;

	if (schemas == NULL)
	{
		schemas = MemoryContextAllocZero(flinfo->fn_mcxt, sizeof(AggSchemas));
		schemas->cxt = flinfo->fn_mcxt;
		flinfo->fn_extra = schemas;
	}
	return schemas;
}

PG_FUNCTION_INFO_V1(telemetry_agg_deserialize);
Datum
telemetry_agg_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("telemetry_agg_deserialize called in a non-aggregate context")));
	PG_RETURN_POINTER(agg_state_from_bytes(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), fn_schemas(fcinfo->flinfo),
										   aggcxt));
}

/* an expanded deg.telemetry over state's memory, in the current context */
static ExpandedTelemetry *
expanded_of_state(TelemetryAggState *state)
{
	ExpandedTelemetry *et = palloc0(sizeof(ExpandedTelemetry));

	EOH_init_header(&et->hdr, &expanded_telemetry_methods, CurrentMemoryContext);
	agg_to_set(state, &et->set);
	et->state = state;
	return et;
}

PG_FUNCTION_INFO_V1(telemetry_agg_final);
Datum
telemetry_agg_final(PG_FUNCTION_ARGS)
{
	TelemetryAggState *state = PG_ARGISNULL(0) ? NULL : (TelemetryAggState *) PG_GETARG_POINTER(0);
	ExpandedTelemetry *et;
	char	   *pointer;

	if (state == NULL || state->h.nseries == 0)
		PG_RETURN_NULL();

	/*
	 * The result reads the state (agg_to_set), which lives until the
	 * aggregate moves to its next group: by then whoever keeps a result has
	 * copied it, and so flattened it, as the executor copies any value it
	 * keeps past the row.  The object is in the current context, which it
	 * does not own: it is handed out read-only, and nothing takes over or
	 * frees a read-only object.
	 */
	et = expanded_of_state(state);

	/*
	 * The pointer to it in a chunk of the current context: the aggregate
	 * keeps a result that is in its context as it is (a pointer inside the
	 * object would be copied, and so flattened).
	 */
	pointer = palloc(EXPANDED_POINTER_SIZE);
	memcpy(pointer, et->hdr.eoh_ro_ptr, EXPANDED_POINTER_SIZE);
	PG_RETURN_POINTER(pointer);
}

/* ---------- progress of a settlement run ---------- */

/*
 * A run reports its progress where another session can see it at once,
 * inside the run's transaction: this backend's application_name in
 * pg_stat_activity (deg.settlement_progress reads it).  contract_lines
 * ticks once per contract while a run is in progress.
 */
static struct
{
	bool		active;
	int64		done;
	int64		total;
	int64		next_report;
	char		phase[32];
} progress;

static void
progress_report(void)
{
	char		buf[NAMEDATALEN];

	snprintf(buf, sizeof(buf), "deg settle: %s " INT64_FORMAT "/" INT64_FORMAT,
			 progress.phase, progress.done, progress.total);
	pgstat_report_appname(buf);
}

static void
progress_tick(void)
{
	if (!progress.active || IsParallelWorker())
		return;
	progress.done++;
	if (progress.done >= progress.next_report)
	{
		progress_report();
		progress.next_report = progress.done + Max(progress.total / 100, 100);
	}
}

/* deg.settle_progress(phase, done, total); phase NULL ends the report */
PG_FUNCTION_INFO_V1(settle_progress);
Datum
settle_progress(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
	{
		progress.active = false;
		pgstat_report_appname(application_name ? application_name : "");
		PG_RETURN_VOID();
	}
	progress.active = true;
	strlcpy(progress.phase, text_to_cstring(PG_GETARG_TEXT_PP(0)), sizeof(progress.phase));
	progress.done = PG_ARGISNULL(1) ? 0 : PG_GETARG_INT64(1);
	progress.total = PG_ARGISNULL(2) ? 0 : PG_GETARG_INT64(2);
	progress.next_report = progress.done + Max(progress.total / 100, 100);
	progress_report();
	PG_RETURN_VOID();
}

/* ---------- deg.contract_lines ---------- */

/*
 * A series binned into the settlement intervals, field by field as formulas
 * read them, with its derived fields.
 */
typedef struct BinnedSeries
{
	const TelemetrySeries *series;
	int			nfields;		/* the series' fields, then netKWh and sessions */
	int			net_field;		/* index of netKWh, or -1 */
	int			sessions_field; /* index of sessions, or -1 */
	Decimal   **values;			/* per field: its value in each interval, NULL until read */
	bool	  **present;
} BinnedSeries;

/* a signal's values at the interval starts, kept across calls */
typedef struct SignalValues
{
	char	   *ref;
	Decimal    *values;
	bool	   *present;
} SignalValues;

typedef struct LinesCall
{
	ContractEvaluator *ev;
	/* the signal bundle last given, and its values at the last intervals */
	struct varlena *signals_raw;
	TelemetrySet signals;
	MemoryContext signals_cxt;
	int64	   *signal_bins;	/* the interval starts the cached values are for */
	int			signal_nbins;
	List	   *signal_values;	/* SignalValues */
	/* intervals of the last period and settlement interval */
	int64		period_start;
	int64		period_end;
	char	   *step_text;
	int			nbins;
	int64	   *bins;			/* nbins starts, then the period's end */
} LinesCall;

/* where a dynamic slot's value comes from, per interval */
typedef struct SlotFeed
{
	const Decimal *values;		/* value of interval b: values[b] */
	const bool *present;
} SlotFeed;

typedef struct LinesBinding
{
	SlotFeed   *feeds;
	int			bin;
} LinesBinding;

static void
lines_bind(void *context, const ContractEvaluator *ev pg_attribute_unused(), int instance pg_attribute_unused(),
		   int slot, const FormulaSlot *s pg_attribute_unused(), FormulaValue *value)
{
	LinesBinding *b = (LinesBinding *) context;
	const SlotFeed *feed = &b->feeds[slot];

	if (feed->values == NULL || !feed->present[b->bin])
		return;
	value->kind = FORMULA_VALUE_NUMBER;
	/* a shallow copy: the evaluator only reads slots */
	value->number = feed->values[b->bin];
}

static void
settlement_interval_context(void *arg)
{
	errcontext("inputParameters.settlementInterval of contract %s", (const char *) arg);
}

/* the settlement interval starts of a period, from inputParameters.settlementInterval */
static void
period_bins(LinesCall *call, const char *step, int64 start, int64 end)
{
	MemoryContext old;
	List	   *starts = NIL;
	int64		t = start;
	Interval   *iv = NULL;
	int			i;

	if (call->bins && call->period_start == start && call->period_end == end &&
		((step == NULL && call->step_text == NULL) ||
		 (step && call->step_text && strcmp(step, call->step_text) == 0)))
		return;
	if (step != NULL)
	{
		ErrorContextCallback errcb;

		errcb.callback = settlement_interval_context;
		errcb.arg = (void *) contract_evaluator_id(call->ev);
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(step),
												   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		error_context_stack = errcb.previous;
		if (iv->month < 0 || iv->day < 0 || iv->time < 0 || (iv->month == 0 && iv->day == 0 && iv->time == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("inputParameters.settlementInterval \"%s\" is not a positive duration", step)));
	}
	while (t < end)
	{
		if (list_length(starts) >= MAX_BINS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("a period of more than %d settlement intervals of %s", MAX_BINS, step)));
		starts = lappend(starts, palloc(sizeof(int64)));
		*(int64 *) llast(starts) = t;
		if (iv == NULL)
			break;
		/* calendar steps in UTC: the same intervals whatever the session's TimeZone */
		t = DatumGetTimestamp(DirectFunctionCall2(timestamp_pl_interval, TimestampGetDatum(t),
												  IntervalPGetDatum(iv)));
	}
	old = MemoryContextSwitchTo(GetMemoryChunkContext(call));
	if (call->bins)
		pfree(call->bins);
	if (call->step_text)
		pfree(call->step_text);
	call->step_text = step ? pstrdup(step) : NULL;
	call->nbins = list_length(starts);
	call->bins = palloc(sizeof(int64) * (call->nbins + 1));
	for (i = 0; i < call->nbins; i++)
		call->bins[i] = *(int64 *) list_nth(starts, i);
	call->bins[call->nbins] = end;
	call->period_start = start;
	call->period_end = end;
	MemoryContextSwitchTo(old);
	list_free_deep(starts);
}

static BinnedSeries *
binned_series(List **binned, const TelemetrySeries *s)
{
	ListCell   *lc;
	BinnedSeries *b;
	int			imported = telemetry_field_index(s, "importedKWh");
	int			exported = telemetry_field_index(s, "exportedKWh");

	foreach(lc, *binned)
		if (((BinnedSeries *) lfirst(lc))->series == s)
			return lfirst(lc);
	b = palloc0(sizeof(BinnedSeries));
	b->series = s;
	b->nfields = s->nfields;
	b->net_field = (imported >= 0 && exported >= 0 && telemetry_field_index(s, "netKWh") < 0) ? b->nfields++ : -1;
	b->sessions_field = telemetry_field_index(s, "sessions") < 0 ? b->nfields++ : -1;
	b->values = palloc0(sizeof(Decimal *) * b->nfields);
	b->present = palloc0(sizeof(bool *) * b->nfields);
	*binned = lappend(*binned, b);
	return b;
}

/* field f of a binned series, binned the first time it is asked for */
static void
binned_field(BinnedSeries *b, int f, const LinesCall *call)
{
	const TelemetrySeries *s = b->series;
	int			nb = call->nbins;
	Decimal    *values;
	bool	   *present;
	TelemetryError err;
	int			i;

	if (b->values[f] != NULL)
		return;
	values = palloc(sizeof(Decimal) * nb);
	present = palloc0(sizeof(bool) * nb);
	for (i = 0; i < nb; i++)
		dec_init(&values[i]);
	if (f < s->nfields)
	{
		if (!telemetry_bin_field(s, f, call->bins, nb, call->bins[nb], values, present, NULL, &err))
			telemetry_error(&err);
	}
	else if (f == b->net_field)
	{
		/* netKWh = importedKWh - exportedKWh where both are given */
		int			imported = telemetry_field_index(s, "importedKWh");
		int			exported = telemetry_field_index(s, "exportedKWh");

		binned_field(b, imported, call);
		binned_field(b, exported, call);
		for (i = 0; i < nb; i++)
			if (b->present[imported][i] && b->present[exported][i])
			{
				DecError	derr;
				DecStatus	st = dec_sub(&values[i], &b->values[imported][i], &b->values[exported][i], &derr);

				if (st != DEC_OK)
					decimal_report(st, &derr, "netKWh");
				present[i] = true;
			}
	}
	else
	{
		/* sessions: how many observations start in the interval */
		int64	   *counts = palloc(sizeof(int64) * nb);
		Decimal    *scratch = palloc(sizeof(Decimal) * nb);
		bool	   *scratch_present = palloc(sizeof(bool) * nb);

		for (i = 0; i < nb; i++)
			dec_init(&scratch[i]);
		if (!telemetry_bin_field(s, 0, call->bins, nb, call->bins[nb], scratch, scratch_present, counts, &err))
			telemetry_error(&err);
		for (i = 0; i < nb; i++)
		{
			dec_free(&scratch[i]);
			if (counts[i] > 0)
			{
				dec_from_int64(&values[i], counts[i], NULL);
				present[i] = true;
			}
		}
	}
	b->values[f] = values;
	b->present[f] = present;
}

static const SignalValues *
signal_values(LinesCall *call, const TelemetrySeries *s, bool cached)
{
	SignalValues *sv;
	ListCell   *lc;
	TelemetryError err;
	int			field = telemetry_field_index(s, "value");
	MemoryContext old;
	int			i;

	if (cached)
		foreach(lc, call->signal_values)
			if (strcmp(((SignalValues *) lfirst(lc))->ref, s->ref) == 0)
				return lfirst(lc);
	old = MemoryContextSwitchTo(cached ? call->signals_cxt : CurrentMemoryContext);
	sv = palloc(sizeof(SignalValues));
	sv->ref = pstrdup(s->ref);
	sv->values = palloc(sizeof(Decimal) * call->nbins);
	sv->present = palloc(sizeof(bool) * call->nbins);
	for (i = 0; i < call->nbins; i++)
		dec_init(&sv->values[i]);
	if (!telemetry_at(s, field >= 0 ? field : 0, call->bins, call->nbins, sv->values, sv->present, &err))
	{
		MemoryContextSwitchTo(old);
		telemetry_error(&err);
	}
	if (cached)
		call->signal_values = lappend(call->signal_values, sv);
	MemoryContextSwitchTo(old);
	return sv;
}

/* the signal bundle, deserialized once while callers pass the same one */
static void
load_signals(LinesCall *call, struct varlena *raw, MemoryContext fn_mcxt)
{
	size_t		size = raw ? VARSIZE_ANY(raw) : 0;
	MemoryContext old;

	if (call->signals_cxt != NULL && call->signal_nbins == call->nbins &&
		memcmp(call->signal_bins, call->bins, sizeof(int64) * (call->nbins + 1)) == 0 &&
		((raw == NULL && call->signals_raw == NULL) ||
		 (raw && call->signals_raw && VARSIZE_ANY(call->signals_raw) == size &&
		  memcmp(call->signals_raw, raw, size) == 0)))
		return;
	if (call->signals_cxt)
		MemoryContextDelete(call->signals_cxt);
	call->signals_cxt = AllocSetContextCreate(fn_mcxt, "deg signals", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(call->signals_cxt);
	call->signal_values = NIL;
	call->signal_nbins = call->nbins;
	call->signal_bins = palloc(sizeof(int64) * (call->nbins + 1));
	memcpy(call->signal_bins, call->bins, sizeof(int64) * (call->nbins + 1));
	call->signals_raw = NULL;
	telemetry_init(&call->signals);
	if (raw)
	{
		struct varlena *v = PG_DETOAST_DATUM(PointerGetDatum(raw));

		telemetry_from_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &call->signals, ERRCODE_DATA_CORRUPTED);
		call->signals_raw = palloc(size);
		memcpy(call->signals_raw, raw, size);
	}
	MemoryContextSwitchTo(old);
}

/* the series of set named prefix || name (without building the name) */
static const TelemetrySeries *
find_series(const TelemetrySet *set, const char *prefix, const char *name)
{
	size_t		plen = strlen(prefix);
	int			i;

	if (set == NULL)
		return NULL;
	for (i = 0; i < set->nseries; i++)
	{
		const char *ref = set->series[i].ref;

		if (strncmp(ref, prefix, plen) == 0 && strcmp(ref + plen, name) == 0)
			return &set->series[i];
	}
	return NULL;
}

/* point the feeds of instance i's dynamic slots at the binned data */
static void
instance_feeds(LinesCall *call, int i, const TelemetrySet *tel, List **binned, SlotFeed *feeds)
{
	ContractEvaluator *ev = call->ev;
	int			n = contract_evaluator_nslots(ev, i);
	int			k;

	for (k = 0; k < n; k++)
	{
		const FormulaSlot *s = contract_evaluator_dynamic_slot(ev, i, k);
		const TelemetrySeries *series = NULL;

		feeds[k].values = NULL;
		if (s == NULL)
		{
			/*
			 * A role input given per interval, e.g. a market's clearingPrice
			 * and clearedPower[PROSUMER.era] (deg.market_clearings): a
			 * series named as the reference, the participant's ERA in the
			 * brackets; its value in force at each interval's start.
			 */
			s = contract_evaluator_slot(ev, i, k);
			if (s->kind == FORMULA_REF_ROLE_INPUT && tel != NULL)
			{
				char	   *ref = psprintf("roles.%s.roleInputs.%s", deg_role_name(s->role), s->name);

				if (s->index_role >= 0)
				{
					EvalLineInfo info;

					contract_evaluator_info(ev, i, &info);
					ref = psprintf("%s[%s]", ref, info.participant ? info.participant : "");
				}
				series = telemetry_find(tel, ref);
				if (series)
				{
					const SignalValues *sv = signal_values(call, series, false);

					feeds[k].values = sv->values;
					feeds[k].present = sv->present;
				}
			}
			continue;
		}
		if (s->kind == FORMULA_REF_TELEMETRY)
		{
			series = find_series(tel, "telemetrySources.", s->name);
			if (series)
			{
				BinnedSeries *b = binned_series(binned, series);
				int			f = telemetry_field_index(series, s->field);

				if (f < 0 && strcmp(s->field, "netKWh") == 0)
					f = b->net_field;
				if (f < 0 && strcmp(s->field, "sessions") == 0)
					f = b->sessions_field;
				if (f >= 0)
				{
					binned_field(b, f, call);
					feeds[k].values = b->values[f];
					feeds[k].present = b->present[f];
				}
			}
		}
		else if (s->kind == FORMULA_REF_SIGNAL)
		{
			const SignalValues *sv = NULL;

			/* a contract's own rows first, then the bundle shared by the run */
			series = find_series(tel, "inputSignals.", s->name);
			if (series)
				sv = signal_values(call, series, false);
			else if ((series = find_series(&call->signals, "inputSignals.", s->name)) != NULL)
				sv = signal_values(call, series, true);
			if (sv)
			{
				feeds[k].values = sv->values;
				feeds[k].present = sv->present;
			}
		}
		else if (s->kind == FORMULA_REF_PARAMETER)
		{
			/* a built-in variable fed by rows: deliveredQuantity */
			series = find_series(tel, "", s->name);
			if (series)
			{
				BinnedSeries *b = binned_series(binned, series);

				binned_field(b, 0, call);
				feeds[k].values = b->values[0];
				feeds[k].present = b->present[0];
			}
		}
	}
}

/*
 * An exact sum of a line's values over its intervals.  While the terms are
 * short it is an integer at the largest scale seen (as numeric's sum keeps
 * one), else a decimal; either way the result is what adding the decimals
 * one by one gives, scale included.
 */
typedef struct LineSum
{
#ifdef HAVE_INT128
	int128		digits;			/* the sum * 10^dscale, below 10^34 in magnitude */
#endif
	int			dscale;
	bool		as_decimal;		/* the sum is in total */
	Decimal		total;
} LineSum;

#ifdef HAVE_INT128
#define SUM_LIMIT_EXP 34
static int128 pow10_128[SUM_LIMIT_EXP + 4];
static const uint32 pow10_u32[] = {1, 10, 100, 1000, 10000};
#endif

static void
linesum_init(LineSum *sum)
{
#ifdef HAVE_INT128
	if (pow10_128[0] == 0)
	{
		int			i;

		pow10_128[0] = 1;
		for (i = 1; i < SUM_LIMIT_EXP + 4; i++)
			pow10_128[i] = pow10_128[i - 1] * 10;
	}
	sum->digits = 0;
	sum->as_decimal = false;
#else
	sum->as_decimal = true;
#endif
	sum->dscale = 0;
	dec_init(&sum->total);
}

#ifdef HAVE_INT128
/* v * 10^v->dscale as an integer below 10^34 in magnitude, if it is one */
static bool
decimal_as_int128(const Decimal *v, int128 *out)
{
	const int16_t *d = dec_digits(v);
	int			groups = (v->dscale + 3) / 4;	/* base-10000 digits after the point */
	int			pad = 4 * groups - v->dscale;	/* decimal places of the last of them beyond dscale */
	int			missing = groups - (v->ndigits - 1 - v->weight);	/* zero digits after the last one */
	int128		m = 0;
	int			i;

	if (v->ndigits == 0)
	{
		*out = 0;
		return true;
	}
	/* at most 32 decimal digits (8 base-10000 ones) */
	if (v->weight + groups >= 8 || missing < 0)
		return false;
	/*
	 * The digits, then the zero digits after them, the last digit (given or
	 * zero) without its places beyond dscale (zeros in a normalized value):
	 * multiplications only.
	 */
	for (i = 0; i < v->ndigits - 1; i++)
		m = m * 10000 + d[i];
	if (missing == 0)
		m = m * (int128) pow10_u32[4 - pad] + d[v->ndigits - 1] / (int) pow10_u32[pad];
	else
	{
		m = m * 10000 + d[v->ndigits - 1];
		for (i = 1; i < missing; i++)
			m *= 10000;
		m *= pow10_u32[4 - pad];
	}
	*out = v->sign == DEC_NEG ? -m : m;
	return true;
}

/* the integer sum as a decimal */
static void
linesum_to_decimal(const LineSum *sum, Decimal *out)
{
	int			groups = (sum->dscale + 3) / 4;
	int128		a = sum->digits < 0 ? -sum->digits : sum->digits;
	int16		rev[12];
	int16		digits[12];
	int			n = 0,
				i;
	DecError	derr;
	DecStatus	st;

	a *= pow10_128[4 * groups - sum->dscale];
	while (a > 0)
	{
		rev[n++] = (int16) (a % 10000);
		a /= 10000;
	}
	for (i = 0; i < n; i++)
		digits[i] = rev[n - 1 - i];
	st = dec_from_wire(out, n, n - 1 - groups, sum->digits < 0 ? DEC_NEG : DEC_POS, sum->dscale, digits, &derr);
	if (st != DEC_OK)
		decimal_report(st, &derr, NULL);
}
#endif

static void
linesum_add(LineSum *sum, const Decimal *v, const char *what)
{
	DecError	derr;
	DecStatus	st;

#ifdef HAVE_INT128
	if (!sum->as_decimal)
	{
		int128		m;
		int			scale = Max(sum->dscale, v->dscale);

		/* the usual case: a term of the sum's scale */
		if (v->dscale == sum->dscale && decimal_as_int128(v, &m))
		{
			int128		r = sum->digits + m;

			if (r < pow10_128[SUM_LIMIT_EXP] && r > -pow10_128[SUM_LIMIT_EXP])
			{
				sum->digits = r;
				return;
			}
		}
		else if (scale <= SUM_LIMIT_EXP && decimal_as_int128(v, &m))
		{
			int			up_sum = scale - sum->dscale;
			int			up_term = scale - v->dscale;
			int128		limit_sum = pow10_128[SUM_LIMIT_EXP - up_sum];
			int128		limit_term = pow10_128[SUM_LIMIT_EXP - up_term];

			if (sum->digits < limit_sum && sum->digits > -limit_sum && m < limit_term && m > -limit_term)
			{
				int128		r = sum->digits * pow10_128[up_sum] + m * pow10_128[up_term];

				if (r < pow10_128[SUM_LIMIT_EXP] && r > -pow10_128[SUM_LIMIT_EXP])
				{
					sum->digits = r;
					sum->dscale = scale;
					return;
				}
			}
		}
		/* too long for the integer: on as a decimal */
		linesum_to_decimal(sum, &sum->total);
		sum->as_decimal = true;
	}
#endif
	st = dec_add(&sum->total, &sum->total, v, &derr);
	if (st != DEC_OK)
		decimal_report(st, &derr, what);
}

/* the sum, into an initialized decimal */
static void
linesum_result(LineSum *sum, Decimal *out)
{
#ifdef HAVE_INT128
	if (!sum->as_decimal)
	{
		linesum_to_decimal(sum, out);
		return;
	}
#endif
	dec_copy(out, &sum->total, NULL);
}

#define LINE_COLUMNS 18

PG_FUNCTION_INFO_V1(contract_lines);
Datum
contract_lines(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LinesCall  *call = (LinesCall *) fcinfo->flinfo->fn_extra;
	RangeType  *period;
	TypeCacheEntry *rtype;
	RangeBound	lower,
				upper;
	bool		empty;
	TelemetrySet own;
	const TelemetrySet *tel = NULL;
	bool		has_tel = !PG_ARGISNULL(2);
	List	   *binned = NIL;
	const char *currency;
	int			n,
				i,
				b;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("deg.contract_lines needs a contract and a period")));
	InitMaterializedSRF(fcinfo, rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	if (call == NULL)
	{
		call = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(LinesCall));
		fcinfo->flinfo->fn_extra = call;
	}
	call->ev = contract_evaluator_get(fcinfo->flinfo->fn_mcxt, call->ev, PG_GETARG_DATUM(0));

	period = PG_GETARG_RANGE_P(1);
	rtype = lookup_type_cache(RangeTypeGetOid(period), TYPECACHE_RANGE_INFO);
	range_deserialize(rtype, period, &lower, &upper, &empty);
	if (empty || lower.infinite || upper.infinite)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a billing period must be a non-empty bounded range")));
	period_bins(call, contract_evaluator_parameter(call->ev, "settlementInterval"),
				DatumGetTimestampTz(lower.val), DatumGetTimestampTz(upper.val));
	load_signals(call, PG_ARGISNULL(3) ? NULL : (struct varlena *) PG_GETARG_POINTER(3), fcinfo->flinfo->fn_mcxt);

	telemetry_init(&own);
	if (has_tel)
	{
		/* telemetry_agg's result as it is; any other value deserialized */
		tel = expanded_telemetry_set(PG_GETARG_DATUM(2));
		if (tel == NULL)
		{
			struct varlena *v = PG_DETOAST_DATUM(PG_GETARG_DATUM(2));

			telemetry_from_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &own, ERRCODE_DATA_CORRUPTED);
			tel = &own;
		}
	}

	currency = contract_evaluator_currency(call->ev);
	n = contract_evaluator_count(call->ev);
	for (i = 0; i < n; i++)
	{
		EvalLineInfo info;
		Datum		values[LINE_COLUMNS];
		bool		nulls[LINE_COLUMNS];
		Decimal		total = DEC_INIT;
		Decimal		quantity = DEC_INIT;
		Decimal		value = DEC_INIT;
		Decimal		q = DEC_INIT;
		bool		has_q;
		bool		any_quantity = false;
		int			valued = 0;
		int			intervals;
		bool		is_metric;

		contract_evaluator_info(call->ev, i, &info);
		is_metric = strcmp(info.kind, "metric") == 0;
		if (info.one_off)
		{
			/* no telemetry, signal or interval variable: due once, in the period the contract was made */
			int64		made = contract_evaluator_created_at(call->ev);

			if (!is_metric && (made < call->period_start || made >= call->period_end))
				continue;
			intervals = 1;
			if (contract_evaluator_eval(call->ev, i, NULL, NULL, NULL, &value, &q, &has_q))
			{
				dec_copy(&total, &value, NULL);
				valued = 1;
				if (has_q)
				{
					dec_copy(&quantity, &q, NULL);
					any_quantity = true;
				}
			}
		}
		else
		{
			SlotFeed   *feeds = palloc(sizeof(SlotFeed) * (contract_evaluator_nslots(call->ev, i) + 1));
			LinesBinding binding;
			LineSum		total_sum;
			LineSum		quantity_sum;

			linesum_init(&total_sum);
			linesum_init(&quantity_sum);

			instance_feeds(call, i, tel, &binned, feeds);
			binding.feeds = feeds;
			intervals = call->nbins;
			for (b = 0; b < call->nbins; b++)
			{
				EvalInterval iv;

				iv.given = true;
				iv.start = call->bins[b];
				iv.end = call->bins[b + 1];
				binding.bin = b;
				if (!contract_evaluator_eval(call->ev, i, lines_bind, &binding, &iv, &value, &q, &has_q))
					continue;
				valued++;
				linesum_add(&total_sum, &value, info.id);
				if (has_q)
				{
					linesum_add(&quantity_sum, &q, info.id);
					any_quantity = true;
				}
			}
			pfree(feeds);
			linesum_result(&total_sum, &total);
			linesum_result(&quantity_sum, &quantity);
			dec_free(&total_sum.total);
			dec_free(&quantity_sum.total);
		}

		memset(nulls, false, sizeof(nulls));
		values[0] = CStringGetTextDatum(info.kind);
		values[1] = CStringGetTextDatum(info.id);
		values[2] = Int32GetDatum(info.number);
		nulls[3] = info.from_role < 0;
		if (!nulls[3])
			values[3] = CStringGetTextDatum(deg_role_name(info.from_role));
		nulls[4] = info.from_era == NULL;
		if (!nulls[4])
			values[4] = era_datum_from_text(info.from_era, strlen(info.from_era));
		nulls[5] = info.to_role < 0;
		if (!nulls[5])
			values[5] = CStringGetTextDatum(deg_role_name(info.to_role));
		nulls[6] = info.to_era == NULL;
		if (!nulls[6])
			values[6] = era_datum_from_text(info.to_era, strlen(info.to_era));
		nulls[7] = info.participant == NULL;
		if (!nulls[7])
			values[7] = era_datum_from_text(info.participant, strlen(info.participant));
		if (is_metric)
		{
			/* a metric is the average of its interval values */
			nulls[8] = valued == 0;
			if (valued > 0)
			{
				Decimal		count = DEC_INIT;
				Decimal		avg = DEC_INIT;
				DecError	derr;
				DecStatus	st;

				dec_from_int64(&count, valued, NULL);
				st = dec_div(&avg, &total, &count, &derr);
				if (st != DEC_OK)
					decimal_report(st, &derr, info.id);
				values[8] = NumericGetDatum(decimal_to_numeric(&avg));
			}
			nulls[9] = true;
		}
		else
		{
			values[8] = NumericGetDatum(decimal_to_numeric(&total));
			nulls[9] = !any_quantity;
			if (any_quantity)
				values[9] = NumericGetDatum(decimal_to_numeric(&quantity));
		}
		values[10] = Int32GetDatum(intervals);
		values[11] = Int32GetDatum(valued);
		nulls[12] = currency == NULL;
		if (currency)
			values[12] = CStringGetTextDatum(currency);
		nulls[13] = nulls[14] = nulls[15] = true;
		if (is_metric)
		{
			Decimal		min = DEC_INIT;
			Decimal		max = DEC_INIT;
			bool		has_min,
						has_max;

			if (contract_evaluator_metric_target(call->ev, i, &min, &has_min, &max, &has_max))
			{
				if (has_min)
				{
					values[13] = NumericGetDatum(decimal_to_numeric(&min));
					nulls[13] = false;
				}
				if (has_max)
				{
					values[14] = NumericGetDatum(decimal_to_numeric(&max));
					nulls[14] = false;
				}
				if (valued > 0)
				{
					Numeric		avg = DatumGetNumeric(values[8]);
					Decimal		a = DEC_INIT;

					numeric_to_decimal(avg, &a);
					values[15] = BoolGetDatum((!has_min || dec_cmp(&a, &min) >= 0) &&
											  (!has_max || dec_cmp(&a, &max) <= 0));
					nulls[15] = false;
				}
			}
		}
		values[16] = CStringGetTextDatum(info.formula);
		nulls[17] = info.description == NULL;
		if (info.description)
			values[17] = CStringGetTextDatum(info.description);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		dec_free(&total);
		dec_free(&quantity);
		dec_free(&value);
		dec_free(&q);
	}
	telemetry_free(&own);
	progress_tick();
	return (Datum) 0;
}

/* ---------- many contracts, evaluated on parallel workers ---------- */

/*
 * deg.contract_lines_of(query, period, signals, ids, changed): the lines of
 * every contract query returns (contract_id text, body deg.contract,
 * telemetry deg.telemetry; $1 is the period, $2 ids, $3 changed), as
 * deg.contract_lines gives them, each with its contract's id first.
 *
 * Why: the query's telemetry aggregate runs on parallel workers, but
 * PostgreSQL finishes its groups in the leader, one contract after another;
 * evaluating each contract there kept one core busy and the others idle for
 * a third of a run.  So once more than deg.parallel_evaluation_threshold
 * contracts have come out, the leader starts workers of its own (a
 * ParallelContext running deg_lines_worker_main, at most
 * max_parallel_workers_per_gather of them), sends each further contract to
 * one of them as its group comes out (its body, and its telemetry as the
 * aggregate's compact state), and collects their lines.  Without workers,
 * and below the threshold, it evaluates contracts itself.  Either way each
 * contract is evaluated by deg.contract_lines, so the lines are the same.
 */
int			deg_parallel_evaluation_threshold = 1000;

#define POOL_KEY_SHARED		UINT64CONST(0xDE60000000000001)
#define POOL_KEY_QUEUES		UINT64CONST(0xDE60000000000002)
#define POOL_QUEUE_SIZE		((Size) 256 * 1024)	/* per worker and direction */

/* what every worker reads: the function, then the period and the signals (flat varlenas) */
typedef struct PoolShared
{
	Oid			lines_fn;		/* deg.contract_lines */
	uint32		period_len;
	uint32		signals_len;	/* 0: no signals */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} PoolShared;

/* a contract, leader to worker: this, the body, the telemetry, the id */
typedef struct PoolItemHead
{
	uint32		idlen;
	uint32		bodylen;
	uint32		tellen;
	uint32		telkind;		/* POOL_TEL_* */
} PoolItemHead;

#define POOL_TEL_NONE	0
#define POOL_TEL_STATE	1		/* agg_state_bytes of telemetry_agg's state */
#define POOL_TEL_FLAT	2		/* a deg.telemetry varlena */

/* worker to leader: this, then (a line) the line's minimal tuple and the contract's id */
typedef struct PoolMsgHead
{
	uint32		kind;			/* POOL_MSG_* */
	uint32		idlen;
} PoolMsgHead;

#define POOL_MSG_LINE	1
#define POOL_MSG_DONE	2		/* a contract's lines are all sent */

/* one call of deg.contract_lines, materialized: its tuplestore, in the econtext's per-query memory */
static Tuplestorestate *
lines_call(FmgrInfo *flinfo, ExprContext *econtext, TupleDesc desc, Datum body, Datum period,
		   Datum telemetry, bool telemetry_null, Datum signals, bool signals_null)
{
	LOCAL_FCINFO(fcinfo, 4);
	ReturnSetInfo rsinfo;

	memset(&rsinfo, 0, sizeof(rsinfo));
	rsinfo.type = T_ReturnSetInfo;
	rsinfo.econtext = econtext;
	rsinfo.expectedDesc = desc;
	rsinfo.allowedModes = SFRM_Materialize;
	InitFunctionCallInfoData(*fcinfo, flinfo, 4, InvalidOid, NULL, (fmNodePtr) &rsinfo);
	fcinfo->args[0].value = body;
	fcinfo->args[0].isnull = false;
	fcinfo->args[1].value = period;
	fcinfo->args[1].isnull = false;
	fcinfo->args[2].value = telemetry;
	fcinfo->args[2].isnull = telemetry_null;
	fcinfo->args[3].value = signals;
	fcinfo->args[3].isnull = signals_null;
	(void) FunctionCallInvoke(fcinfo);
	if (rsinfo.returnMode != SFRM_Materialize || rsinfo.setResult == NULL)
		elog(ERROR, "deg.contract_lines did not materialize its result");
	return rsinfo.setResult;
}

/* deg.contract_lines' result columns */
static TupleDesc
lines_desc(Oid lines_fn)
{
	TupleDesc	desc;

	if (get_func_result_type(lines_fn, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "deg.contract_lines does not return a row type");
	return desc;
}

typedef struct LinesPool
{
	DestReceiver pub;			/* the query's rows come here */
	ReturnSetInfo *rsinfo;		/* the lines go to its tuplestore, id first */
	MemoryContext cxt;			/* the pool's, for the call */
	MemoryContext item_cxt;		/* reset after each contract */
	ExprContext *econtext;		/* per-query memory: item_cxt */
	FmgrInfo	lines_flinfo;
	Oid			lines_fn;
	TupleDesc	desc;			/* deg.contract_lines' columns */
	TupleTableSlot *slot;
	Datum		period;			/* flat */
	Datum		signals;		/* flat */
	bool		signals_null;
	int64		seen;
	int64		sent;			/* contracts evaluated by workers */
	bool		tried;			/* workers were asked for */
	ParallelContext *pcxt;
	int			nworkers;		/* launched */
	shm_mq_handle **in;			/* to worker i; NULL once it is gone */
	shm_mq_handle **out;		/* from worker i; NULL once it has finished */
	int			live;			/* workers whose output is still open */
	int			next;			/* the worker the next contract goes to */
	ErrorContextCallback *error_context;	/* the call's, for the workers' errors */
	char	   *tuple_buf;		/* an aligned copy of a received line */
	Size		tuple_cap;
} LinesPool;

/* one line of contract id, to the result */
static void
pool_emit(LinesPool *pool, const char *id, size_t idlen, TupleTableSlot *slot)
{
	Datum		values[LINE_COLUMNS + 1];
	bool		nulls[LINE_COLUMNS + 1];
	int			natts = pool->desc->natts;
	int			i;

	Assert(natts == LINE_COLUMNS);
	slot_getallattrs(slot);
	values[0] = PointerGetDatum(cstring_to_text_with_len(id, (int) idlen));
	nulls[0] = false;
	for (i = 0; i < natts; i++)
	{
		values[i + 1] = slot->tts_values[i];
		nulls[i + 1] = slot->tts_isnull[i];
	}
	tuplestore_putvalues(pool->rsinfo->setResult, pool->rsinfo->setDesc, values, nulls);
	pfree(DatumGetPointer(values[0]));
}

/* a worker's message: a line of a contract, or the end of one */
static void
pool_take(LinesPool *pool, const char *data, Size len)
{
	PoolMsgHead head;
	uint32		tlen;

	if (len < sizeof(head))
		elog(ERROR, "deg evaluation worker sent a truncated message");
	memcpy(&head, data, sizeof(head));
	if (head.kind == POOL_MSG_DONE)
	{
		progress_tick();
		return;
	}
	if (head.kind != POOL_MSG_LINE || len - sizeof(head) < sizeof(uint32))
		elog(ERROR, "deg evaluation worker sent an invalid message");
	memcpy(&tlen, data + sizeof(head), sizeof(tlen));
	if (tlen < SizeofMinimalTupleHeader || tlen > len - sizeof(head) || head.idlen != len - sizeof(head) - tlen)
		elog(ERROR, "deg evaluation worker sent an invalid line");
	if (pool->tuple_cap < tlen)
	{
		pool->tuple_buf = pool->tuple_buf ? repalloc(pool->tuple_buf, tlen) : MemoryContextAlloc(pool->cxt, tlen);
		pool->tuple_cap = tlen;
	}
	memcpy(pool->tuple_buf, data + sizeof(head), tlen);
	ExecStoreMinimalTuple((MinimalTuple) pool->tuple_buf, pool->slot, false);
	pool_emit(pool, data + sizeof(head) + tlen, head.idlen, pool->slot);
	ExecClearTuple(pool->slot);
}

/*
 * What the workers have sent so far; whether anything happened (a message,
 * or a worker finished: the caller must not wait for what has come already).
 */
static bool
pool_drain(LinesPool *pool)
{
	bool		any = false;
	int			i;

	for (i = 0; i < pool->nworkers; i++)
	{
		while (pool->out[i] != NULL)
		{
			Size		len;
			void	   *data;
			shm_mq_result r = shm_mq_receive(pool->out[i], &len, &data, true);

			if (r == SHM_MQ_WOULD_BLOCK)
				break;
			if (r == SHM_MQ_DETACHED)
			{
				/* finished, or failed: WaitForParallelWorkersToFinish reports a failure */
				pool->out[i] = NULL;
				pool->live--;
				any = true;
				break;
			}
			pool_take(pool, data, len);
			any = true;
		}
	}
	return any;
}

static void
pool_wait(void)
{
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L, WAIT_EVENT_MQ_SEND);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
}

/* the workers, if any can be had */
static void
pool_start(LinesPool *pool)
{
	int			want = max_parallel_workers_per_gather;
	PoolShared *shared;
	char	   *queues;
	Size		period_len = VARSIZE(DatumGetPointer(pool->period));
	Size		signals_len = pool->signals_null ? 0 : VARSIZE(DatumGetPointer(pool->signals));
	Size		shared_len = offsetof(PoolShared, data) + period_len + signals_len;
	int			i;

	pool->tried = true;
	if (want <= 0 || IsParallelWorker() || !IsUnderPostmaster)
		return;
	EnterParallelMode();
	pool->pcxt = CreateParallelContext("deg", "deg_lines_worker_main", want);

	/*
	 * A worker's error is raised with the error context of the context's
	 * creation: here, inside the query, whose context is gone by the time
	 * the last lines are collected.  The call's outlives the workers.
	 */
	pool->pcxt->error_context_stack = pool->error_context;
	shm_toc_estimate_chunk(&pool->pcxt->estimator, shared_len);
	shm_toc_estimate_chunk(&pool->pcxt->estimator, mul_size(POOL_QUEUE_SIZE, 2 * want));
	shm_toc_estimate_keys(&pool->pcxt->estimator, 2);
	InitializeParallelDSM(pool->pcxt);
	if (pool->pcxt->seg == NULL || pool->pcxt->nworkers == 0)
		goto none;				/* no shared memory to be had */

	shared = shm_toc_allocate(pool->pcxt->toc, shared_len);
	shared->lines_fn = pool->lines_fn;
	shared->period_len = (uint32) period_len;
	shared->signals_len = (uint32) signals_len;
	memcpy(shared->data, DatumGetPointer(pool->period), period_len);
	if (signals_len > 0)
		memcpy(shared->data + period_len, DatumGetPointer(pool->signals), signals_len);
	shm_toc_insert(pool->pcxt->toc, POOL_KEY_SHARED, shared);
	queues = shm_toc_allocate(pool->pcxt->toc, mul_size(POOL_QUEUE_SIZE, 2 * want));
	for (i = 0; i < want; i++)
	{
		shm_mq_set_sender(shm_mq_create(queues + POOL_QUEUE_SIZE * (2 * i), POOL_QUEUE_SIZE), MyProc);
		shm_mq_set_receiver(shm_mq_create(queues + POOL_QUEUE_SIZE * (2 * i + 1), POOL_QUEUE_SIZE), MyProc);
	}
	shm_toc_insert(pool->pcxt->toc, POOL_KEY_QUEUES, queues);

	LaunchParallelWorkers(pool->pcxt);
	if (pool->pcxt->nworkers_launched == 0)
		goto none;
	/* the workers launched are the first ones */
	pool->nworkers = pool->pcxt->nworkers_launched;
	pool->in = MemoryContextAllocZero(pool->cxt, sizeof(shm_mq_handle *) * pool->nworkers);
	pool->out = MemoryContextAllocZero(pool->cxt, sizeof(shm_mq_handle *) * pool->nworkers);
	{
		MemoryContext old = MemoryContextSwitchTo(pool->cxt);

		for (i = 0; i < pool->nworkers; i++)
		{
			BackgroundWorkerHandle *h = pool->pcxt->worker[i].bgwhandle;

			pool->in[i] = shm_mq_attach((shm_mq *) (queues + POOL_QUEUE_SIZE * (2 * i)), pool->pcxt->seg, h);
			pool->out[i] = shm_mq_attach((shm_mq *) (queues + POOL_QUEUE_SIZE * (2 * i + 1)), pool->pcxt->seg, h);
		}
		MemoryContextSwitchTo(old);
	}
	pool->live = pool->nworkers;
	return;

none:
	DestroyParallelContext(pool->pcxt);
	pool->pcxt = NULL;
	ExitParallelMode();
}

/* a contract to some worker; false when none is left to take it */
static bool
pool_send(LinesPool *pool, shm_mq_iovec *iov, int iovcnt)
{
	int			w = -1;			/* the worker the message has started going to */

	for (;;)
	{
		int			k;

		for (k = 0; k < pool->nworkers; k++)
		{
			int			i = w >= 0 ? w : (pool->next + k) % pool->nworkers;
			shm_mq_result r;

			if (pool->in[i] == NULL)
				continue;
			r = shm_mq_sendv(pool->in[i], iov, iovcnt, true, true);
			if (r == SHM_MQ_SUCCESS)
			{
				pool->next = (i + 1) % pool->nworkers;
				return true;
			}
			if (r == SHM_MQ_DETACHED)
			{
				/* it failed (its error comes at the end), or never started */
				pool->in[i] = NULL;
				w = -1;
				continue;
			}
			/* full: part of the message may be in; the rest must follow it there */
			w = i;
			break;
		}
		if (w < 0)
		{
			for (k = 0; k < pool->nworkers && pool->in[k] == NULL; k++)
				;
			if (k == pool->nworkers)
				return false;
			continue;
		}
		if (!pool_drain(pool))
			pool_wait();
	}
}

/* the lines of one contract, evaluated here */
static void
pool_evaluate_here(LinesPool *pool, const char *id, size_t idlen, Datum body, Datum telemetry, bool telemetry_null)
{
	Tuplestorestate *ts = lines_call(&pool->lines_flinfo, pool->econtext, pool->desc, body, pool->period,
									 telemetry, telemetry_null, pool->signals, pool->signals_null);

	while (tuplestore_gettupleslot(ts, true, false, pool->slot))
		pool_emit(pool, id, idlen, pool->slot);
	ExecClearTuple(pool->slot);
	tuplestore_end(ts);
}

static bool
pool_receive(TupleTableSlot *row, DestReceiver *self)
{
	LinesPool  *pool = (LinesPool *) self;
	MemoryContext old = MemoryContextSwitchTo(pool->item_cxt);
	text	   *id;
	Datum		body;
	Datum		telemetry;
	bool		telemetry_null;

	slot_getallattrs(row);
	if (row->tts_isnull[0] || row->tts_isnull[1])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("deg.contract_lines_of: the query gave a contract without an id or a body")));
	id = DatumGetTextPP(row->tts_values[0]);
	body = row->tts_values[1];
	telemetry = row->tts_values[2];
	telemetry_null = row->tts_isnull[2];

	pool->seen++;
	if (!pool->tried && pool->seen > deg_parallel_evaluation_threshold)
		pool_start(pool);
	if (pool->pcxt != NULL)
	{
		PoolItemHead head;
		shm_mq_iovec iov[4];
		struct varlena *b = (struct varlena *) DatumGetPointer(body);
		const void *tel = NULL;

		/* a body stored out of line is fetched here; a compressed one goes as it is */
		if (VARATT_IS_EXTERNAL(b))
			b = detoast_attr(b);
		head.idlen = VARSIZE_ANY_EXHDR(id);
		head.bodylen = VARSIZE_ANY(b);
		head.telkind = POOL_TEL_NONE;
		head.tellen = 0;
		if (!telemetry_null)
		{
			if (expanded_telemetry_set(telemetry) != NULL)
			{
				bytea	   *bytes = agg_state_bytes(((ExpandedTelemetry *) DatumGetEOHP(telemetry))->state);

				head.telkind = POOL_TEL_STATE;
				tel = VARDATA(bytes);
				head.tellen = VARSIZE(bytes) - VARHDRSZ;
			}
			else
			{
				struct varlena *flat = PG_DETOAST_DATUM(telemetry);

				head.telkind = POOL_TEL_FLAT;
				tel = flat;
				head.tellen = VARSIZE(flat);
			}
		}
		iov[0].data = (const char *) &head;
		iov[0].len = sizeof(head);
		iov[1].data = (const char *) b;
		iov[1].len = head.bodylen;
		iov[2].data = tel;
		iov[2].len = head.tellen;
		iov[3].data = VARDATA_ANY(id);
		iov[3].len = head.idlen;
		if (pool_send(pool, iov, 4))
		{
			pool->sent++;
			(void) pool_drain(pool);
			MemoryContextSwitchTo(old);
			MemoryContextReset(pool->item_cxt);
			return true;
		}
		/* every worker is gone: on here (their errors are raised at the end) */
	}
	pool_evaluate_here(pool, VARDATA_ANY(id), VARSIZE_ANY_EXHDR(id), body, telemetry, telemetry_null);
	MemoryContextSwitchTo(old);
	MemoryContextReset(pool->item_cxt);
	return true;
}

static void
pool_startup(DestReceiver *self pg_attribute_unused(), int operation pg_attribute_unused(),
			 TupleDesc typeinfo)
{
	if (typeinfo->natts != 3)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("deg.contract_lines_of: the query must return contract_id, body and telemetry")));
}

static void
pool_noop(DestReceiver *self pg_attribute_unused())
{
}

/* the rest of the workers' lines, and the workers gone */
static void
pool_finish(LinesPool *pool)
{
	int			i;

	if (pool->pcxt == NULL)
		return;
	for (i = 0; i < pool->nworkers; i++)
		if (pool->in[i] != NULL)
		{
			shm_mq_detach(pool->in[i]);	/* no more contracts */
			pool->in[i] = NULL;
		}
	while (pool->live > 0)
		if (!pool_drain(pool))
			pool_wait();
	WaitForParallelWorkersToFinish(pool->pcxt);
	DestroyParallelContext(pool->pcxt);
	pool->pcxt = NULL;
	ExitParallelMode();
}

/* what this session's last deg.contract_lines_of did (deg.last_contract_evaluation) */
static struct
{
	int64		contracts;
	int64		on_workers;
	int			workers;
}			last_evaluation;

PG_FUNCTION_INFO_V1(last_contract_evaluation);
Datum
last_contract_evaluation(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "deg.last_contract_evaluation must return a row");
	values[0] = Int64GetDatum(last_evaluation.contracts);
	values[1] = Int64GetDatum(last_evaluation.on_workers);
	values[2] = Int32GetDatum(last_evaluation.workers);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

PG_FUNCTION_INFO_V1(contract_lines_of);
Datum
contract_lines_of(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	LinesPool  *pool;
	MemoryContext cxt;
	MemoryContext old;
	ParamListInfo params;
	SPIExecuteOptions options;
	char	   *query;
	Oid			types[3] = {TSTZRANGEOID, TEXTARRAYOID, TEXTARRAYOID};
	int			args[3] = {1, 3, 4};	/* the arguments that are $1, $2 and $3 */
	int			rc;
	int			i;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("deg.contract_lines_of needs a query and a period")));
	InitMaterializedSRF(fcinfo, 0);
	cxt = AllocSetContextCreate(rsinfo->econtext->ecxt_per_query_memory, "deg contract evaluation",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);
	pool = palloc0(sizeof(LinesPool));
	pool->pub.receiveSlot = pool_receive;
	pool->pub.rStartup = pool_startup;
	pool->pub.rShutdown = pool_noop;
	pool->pub.rDestroy = pool_noop;
	pool->pub.mydest = DestNone;
	pool->rsinfo = rsinfo;
	pool->error_context = error_context_stack;
	pool->cxt = cxt;
	pool->item_cxt = AllocSetContextCreate(cxt, "deg contract", ALLOCSET_DEFAULT_SIZES);
	pool->econtext = CreateStandaloneExprContext();
	pool->econtext->ecxt_per_query_memory = pool->item_cxt;
	pool->lines_fn = DatumGetObjectId(DirectFunctionCall1(to_regprocedure,
														  CStringGetTextDatum("deg.contract_lines(deg.contract, pg_catalog.tstzrange, deg.telemetry, deg.telemetry)")));
	if (!OidIsValid(pool->lines_fn))
		elog(ERROR, "deg.contract_lines is missing");
	fmgr_info_cxt(pool->lines_fn, &pool->lines_flinfo, cxt);
	pool->desc = lines_desc(pool->lines_fn);
	if (pool->desc->natts != LINE_COLUMNS || rsinfo->setDesc->natts != LINE_COLUMNS + 1)
		elog(ERROR, "deg.contract_lines_of and deg.contract_lines disagree on their columns");
	pool->slot = MakeSingleTupleTableSlot(pool->desc, &TTSOpsMinimalTuple);
	pool->period = PointerGetDatum(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(1)));
	pool->signals_null = PG_ARGISNULL(2);
	if (!pool->signals_null)
		pool->signals = PointerGetDatum(PG_DETOAST_DATUM_COPY(PG_GETARG_DATUM(2)));
	query = text_to_cstring(PG_GETARG_TEXT_PP(0));

	params = makeParamList(3);
	params->numParams = 3;
	for (i = 0; i < 3; i++)
	{
		params->params[i].ptype = types[i];
		params->params[i].pflags = PARAM_FLAG_CONST;
		params->params[i].isnull = PG_ARGISNULL(args[i]);
		params->params[i].value = params->params[i].isnull ? (Datum) 0 : PG_GETARG_DATUM(args[i]);
	}
	MemoryContextSwitchTo(old);

	if ((rc = SPI_connect()) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed: %s", SPI_result_code_string(rc));
	memset(&options, 0, sizeof(options));
	options.params = params;
	options.read_only = true;
	options.dest = &pool->pub;
	rc = SPI_execute_extended(query, &options);
	if (rc < 0)
		elog(ERROR, "deg.contract_lines_of: query failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	pool_finish(pool);
	last_evaluation.contracts = pool->seen;
	last_evaluation.on_workers = pool->sent;
	last_evaluation.workers = pool->nworkers;
	ereport(DEBUG1,
			(errmsg_internal("deg.contract_lines_of: %lld contracts, %lld of them evaluated by %d workers",
							 (long long) pool->seen, (long long) pool->sent, pool->nworkers)));

	ExecDropSingleTupleTableSlot(pool->slot);
	FreeExprContext(pool->econtext, true);
	MemoryContextDelete(cxt);
	return (Datum) 0;
}

/* a worker: contracts from its queue, their lines back */
PGDLLEXPORT void deg_lines_worker_main(dsm_segment *seg, shm_toc *toc);

void
deg_lines_worker_main(dsm_segment *seg, shm_toc *toc)
{
	PoolShared *shared = shm_toc_lookup(toc, POOL_KEY_SHARED, false);
	char	   *queues = shm_toc_lookup(toc, POOL_KEY_QUEUES, false);
	shm_mq	   *mq_in = (shm_mq *) (queues + POOL_QUEUE_SIZE * (2 * ParallelWorkerNumber));
	shm_mq	   *mq_out = (shm_mq *) (queues + POOL_QUEUE_SIZE * (2 * ParallelWorkerNumber + 1));
	shm_mq_handle *in;
	shm_mq_handle *out;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "deg evaluation worker", ALLOCSET_DEFAULT_SIZES);
	MemoryContext item_cxt = AllocSetContextCreate(cxt, "deg contract", ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FmgrInfo	flinfo;
	FmgrInfo	schemas_owner;	/* a cache of series names, as telemetry_agg_deserialize keeps */
	ExprContext *econtext;
	TupleDesc	desc;
	TupleTableSlot *slot;
	Datum		period;
	Datum		signals = (Datum) 0;

	shm_mq_set_receiver(mq_in, MyProc);
	shm_mq_set_sender(mq_out, MyProc);
	in = shm_mq_attach(mq_in, seg, NULL);
	out = shm_mq_attach(mq_out, seg, NULL);
	fmgr_info_cxt(shared->lines_fn, &flinfo, cxt);
	memset(&schemas_owner, 0, sizeof(schemas_owner));
	schemas_owner.fn_mcxt = cxt;
	desc = lines_desc(shared->lines_fn);
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	econtext = CreateStandaloneExprContext();
	econtext->ecxt_per_query_memory = item_cxt;
	period = PointerGetDatum(palloc(shared->period_len));
	memcpy(DatumGetPointer(period), shared->data, shared->period_len);
	if (shared->signals_len > 0)
	{
		signals = PointerGetDatum(palloc(shared->signals_len));
		memcpy(DatumGetPointer(signals), shared->data + shared->period_len, shared->signals_len);
	}

	for (;;)
	{
		Size		len;
		void	   *data;
		PoolItemHead head;
		const char *p;
		Datum		body;
		Datum		telemetry = (Datum) 0;
		Tuplestorestate *ts;
		PoolMsgHead msg;
		shm_mq_iovec iov[3];

		if (shm_mq_receive(in, &len, &data, false) != SHM_MQ_SUCCESS)
			break;				/* the leader has sent every contract */
		MemoryContextReset(item_cxt);
		MemoryContextSwitchTo(item_cxt);
		p = data;
		if (len < sizeof(head))
			elog(ERROR, "deg evaluation worker received a truncated contract");
		memcpy(&head, p, sizeof(head));
		if ((Size) head.bodylen + head.tellen + head.idlen != len - sizeof(head) || head.bodylen < VARHDRSZ_SHORT)
			elog(ERROR, "deg evaluation worker received an invalid contract");
		p += sizeof(head);
		body = PointerGetDatum(palloc(head.bodylen));
		memcpy(DatumGetPointer(body), p, head.bodylen);
		p += head.bodylen;
		if (head.telkind == POOL_TEL_STATE)
			telemetry = EOHPGetRODatum(&expanded_of_state(agg_state_from_bytes(p, head.tellen,
																			   fn_schemas(&schemas_owner),
																			   item_cxt))->hdr);
		else if (head.telkind == POOL_TEL_FLAT)
		{
			telemetry = PointerGetDatum(palloc(head.tellen));
			memcpy(DatumGetPointer(telemetry), p, head.tellen);
		}
		p += head.tellen;

		ts = lines_call(&flinfo, econtext, desc, body, period, telemetry, head.telkind == POOL_TEL_NONE,
						signals, shared->signals_len == 0);
		msg.kind = POOL_MSG_LINE;
		msg.idlen = head.idlen;
		while (tuplestore_gettupleslot(ts, true, false, slot))
		{
			bool		should_free;
			MinimalTuple mt = ExecFetchSlotMinimalTuple(slot, &should_free);

			iov[0].data = (const char *) &msg;
			iov[0].len = sizeof(msg);
			iov[1].data = (const char *) mt;
			iov[1].len = mt->t_len;
			iov[2].data = p;
			iov[2].len = head.idlen;
			if (shm_mq_sendv(out, iov, 3, false, false) != SHM_MQ_SUCCESS)
				ereport(ERROR,
						(errcode(ERRCODE_ADMIN_SHUTDOWN),
						 errmsg("the leader of a deg evaluation has gone")));
			if (should_free)
				pfree(mt);
		}
		tuplestore_end(ts);
		msg.kind = POOL_MSG_DONE;
		iov[0].data = (const char *) &msg;
		iov[0].len = sizeof(msg);
		if (shm_mq_sendv(out, iov, 1, false, false) != SHM_MQ_SUCCESS)
			ereport(ERROR,
					(errcode(ERRCODE_ADMIN_SHUTDOWN),
					 errmsg("the leader of a deg evaluation has gone")));
		MemoryContextSwitchTo(cxt);
	}
	MemoryContextSwitchTo(old);
	shm_mq_detach(out);
}

/* deg.round_half_even(x, scale): money rounding (numeric's round() rounds half away from zero) */
PG_FUNCTION_INFO_V1(round_half_even);
Datum
round_half_even(PG_FUNCTION_ARGS)
{
	Decimal		x = DEC_INIT;
	Decimal		r = DEC_INIT;
	DecError	err;
	DecStatus	st;

	numeric_to_decimal(PG_GETARG_NUMERIC(0), &x);
	st = dec_round(&r, &x, PG_GETARG_INT32(1), DEC_ROUND_HALF_EVEN, &err);
	if (st != DEC_OK)
		decimal_report(st, &err, "round_half_even");
	PG_RETURN_NUMERIC(decimal_to_numeric(&r));
}

/*
 * deg.ledger_digest(prev, entry): the running digest of a contract's ledger,
 * as a window aggregate: SHA-256 of the previous digest (or prev, for the
 * first entry of a window) followed by the entry's canonical text.
 */
/*
 * SHA-256 of before (the digest an entry follows, if any) and the entry's
 * text (argument 2, never NULL), into a bytea with room for extra bytes
 * after the digest.
 */
static bytea *
ledger_hash(FunctionCallInfo fcinfo, const unsigned char *before, size_t before_len, size_t extra)
{
	crypto_hash_sha256_state st;
	text	   *entry;
	bytea	   *result;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a ledger entry's text is NULL")));
	entry = PG_GETARG_TEXT_PP(2);
	crypto_hash_sha256_init(&st);
	if (before != NULL)
		crypto_hash_sha256_update(&st, before, before_len);
	crypto_hash_sha256_update(&st, (const unsigned char *) VARDATA_ANY(entry), VARSIZE_ANY_EXHDR(entry));
	result = palloc(VARHDRSZ + crypto_hash_sha256_BYTES + extra);
	SET_VARSIZE(result, VARHDRSZ + crypto_hash_sha256_BYTES + extra);
	crypto_hash_sha256_final(&st, (unsigned char *) VARDATA(result));
	return result;
}

PG_FUNCTION_INFO_V1(ledger_digest_step);
Datum
ledger_digest_step(PG_FUNCTION_ARGS)
{
	bytea	   *chain = NULL;

	if (!PG_ARGISNULL(0))
		chain = PG_GETARG_BYTEA_PP(0);
	else if (!PG_ARGISNULL(1))
		chain = PG_GETARG_BYTEA_PP(1);
	PG_RETURN_BYTEA_P(ledger_hash(fcinfo,
								  chain ? (const unsigned char *) VARDATA_ANY(chain) : NULL,
								  chain ? VARSIZE_ANY_EXHDR(chain) : 0, 0));
}

/*
 * deg.ledger_chain(prev, entry): ledger_digest and the digest each entry
 * follows in one window pass: the entry's digest (32 bytes), then the one
 * before it in the window (or prev for the first), when there is one.
 */
PG_FUNCTION_INFO_V1(ledger_chain_step);
Datum
ledger_chain_step(PG_FUNCTION_ARGS)
{
	const unsigned char *before = NULL;
	size_t		before_len = 0;
	bytea	   *result;

	if (!PG_ARGISNULL(0))
	{
		/* the previous entry's digest is the first half of the state */
		bytea	   *state = PG_GETARG_BYTEA_PP(0);

		before = (const unsigned char *) VARDATA_ANY(state);
		before_len = crypto_hash_sha256_BYTES;
	}
	else if (!PG_ARGISNULL(1))
	{
		bytea	   *prev = PG_GETARG_BYTEA_PP(1);

		before = (const unsigned char *) VARDATA_ANY(prev);
		before_len = VARSIZE_ANY_EXHDR(prev);
	}
	result = ledger_hash(fcinfo, before, before_len, before_len);
	if (before != NULL)
		memcpy(VARDATA(result) + crypto_hash_sha256_BYTES, before, before_len);
	PG_RETURN_BYTEA_P(result);
}

/* ---------- what changed since a run ---------- */

/*
 * deg.changed_since(row_xmin xid, since pg_snapshot): whether a row version
 * (by its xmin) may have been written after the snapshot was taken, that
 * is, its writer had not committed when the snapshot was taken.  settle uses
 * it to find the telemetry that changed since the last run of a period.
 *
 * A row's xmin may be a subtransaction's xid (a plpgsql block with an
 * EXCEPTION clause writes in one), and a snapshot lists only top-level
 * transactions as in progress: an xid between the snapshot's xmin and xmax
 * that it does not list is resolved to its top-level transaction through
 * pg_subtrans, as the server's own visibility check does.  pg_subtrans keeps
 * only xids from this transaction's xmin (TransactionXmin) on; an older xid
 * whose top-level transaction cannot be found any more counts as changed: a
 * needless recomputation, never a missed one.  Rows of the current
 * transaction count as changed too, whatever their xid.
 *
 * The row's 32-bit xid is widened against the next one, which is right for
 * any xid a row can have that is not frozen (a frozen row of an xid more
 * than 2^31 old may be called changed, also needlessly).
 */
typedef struct ChangedSince
{
	struct varlena *snapshot;	/* the snapshot this was read from */
	uint64		xmin;
	uint64		xmax;
	int			nxip;
	uint64	   *xip;			/* ascending */
	FullTransactionId next;
} ChangedSince;

static int
uint64_cmp(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/* pg_snapshot's layout is private to the server: read its text form, xmin:xmax:xip,... */
static void
changed_since_read(ChangedSince *cs, Datum snapshot, MemoryContext cxt)
{
	char	   *text = DatumGetCString(DirectFunctionCall1(pg_snapshot_out, snapshot));
	char	   *p = text;
	char	   *end;
	int			cap = 0;

	cs->xmin = strtou64(p, &end, 10);
	if (*end != ':')
		goto bad;
	cs->xmax = strtou64(end + 1, &end, 10);
	if (*end != ':')
		goto bad;
	p = end + 1;
	cs->nxip = 0;
	cs->xip = NULL;
	while (*p != '\0')
	{
		if (cs->nxip == cap)
		{
			cap = cap ? cap * 2 : 8;
			cs->xip = cs->xip ? repalloc(cs->xip, sizeof(uint64) * cap) : MemoryContextAlloc(cxt, sizeof(uint64) * cap);
		}
		cs->xip[cs->nxip++] = strtou64(p, &end, 10);
		if (*end != ',' && *end != '\0')
			goto bad;
		p = *end == ',' ? end + 1 : end;
	}
	if (cs->nxip > 1)
		qsort(cs->xip, cs->nxip, sizeof(uint64), uint64_cmp);
	cs->next = ReadNextFullTransactionId();
	pfree(text);
	return;
bad:
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unexpected snapshot \"%s\"", text)));
}

/* an xid as a full one: it is at most 2^31 older than the next one */
static uint64
changed_since_widen(const ChangedSince *cs, TransactionId xid)
{
	uint32		epoch = EpochFromFullTransactionId(cs->next);

	if (xid > XidFromFullTransactionId(cs->next) && epoch > 0)
		epoch--;
	return U64FromFullTransactionId(FullTransactionIdFromEpochAndXid(epoch, xid));
}

static bool
changed_since_in_progress(const ChangedSince *cs, uint64 fxid)
{
	int			lo = 0,
				hi = cs->nxip;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cs->xip[mid] < fxid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < cs->nxip && cs->xip[lo] == fxid;
}

PG_FUNCTION_INFO_V1(changed_since);
Datum
changed_since(PG_FUNCTION_ARGS)
{
	TransactionId xid = DatumGetTransactionId(PG_GETARG_DATUM(0));
	struct varlena *snapshot = PG_GETARG_VARLENA_PP(1);
	ChangedSince *cs = (ChangedSince *) fcinfo->flinfo->fn_extra;
	uint64		fxid;
	TransactionId top;
	uint64		ftop;

	if (cs == NULL || VARSIZE_ANY(cs->snapshot) != VARSIZE_ANY(snapshot) ||
		memcmp(cs->snapshot, snapshot, VARSIZE_ANY(snapshot)) != 0)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		if (cs == NULL)
			cs = palloc0(sizeof(ChangedSince));
		else
		{
			pfree(cs->snapshot);
			if (cs->xip)
				pfree(cs->xip);
		}
		cs->snapshot = palloc(VARSIZE_ANY(snapshot));
		memcpy(cs->snapshot, snapshot, VARSIZE_ANY(snapshot));
		changed_since_read(cs, PointerGetDatum(snapshot), fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = cs;
		MemoryContextSwitchTo(old);
	}
	if (!TransactionIdIsNormal(xid))
		PG_RETURN_BOOL(false);	/* bootstrap or frozen: older than any snapshot */
	/* this transaction's own rows: written before or after the snapshot, it cannot tell */
	if (TransactionIdIsCurrentTransactionId(xid))
		PG_RETURN_BOOL(true);
	fxid = changed_since_widen(cs, xid);
	if (fxid < cs->xmin)
		PG_RETURN_BOOL(false);
	if (fxid >= cs->xmax || changed_since_in_progress(cs, fxid))
		PG_RETURN_BOOL(true);
	/* assigned before the snapshot and not a top-level xid then running: whose is it? */
	if (TransactionIdPrecedes(xid, TransactionXmin))
		PG_RETURN_BOOL(true);	/* its parents may be gone from pg_subtrans */
	top = SubTransGetTopmostTransaction(xid);
	if (top == xid)
		PG_RETURN_BOOL(false);	/* a top-level transaction finished before the snapshot */
	ftop = changed_since_widen(cs, top);
	if (ftop < cs->xmin)
		PG_RETURN_BOOL(false);	/* its transaction finished before the snapshot */
	if (changed_since_in_progress(cs, ftop))
		PG_RETURN_BOOL(true);
	/* the lookup stops at parents older than TransactionXmin: one may not be the top */
	PG_RETURN_BOOL(TransactionIdPrecedes(top, TransactionXmin));
}
