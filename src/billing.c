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
#include "fmgr.h"
#include "funcapi.h"
#include "access/parallel.h"
#include "libpq/pqformat.h"
#include "pgstat.h"
#include "utils/backend_status.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/rangetypes.h"
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
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
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
				lens[nfields++] = strlen(key);
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

	telemetry_from_bytes(bytes, buf->len - (bytes - buf->data), &set, ERRCODE_INVALID_BINARY_REPRESENTATION);
	PG_RETURN_POINTER(telemetry_datum(&set));
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

typedef struct TelemetryAggState
{
	TelemetrySet set;
	/* the last fields text seen, split at commas */
	char	   *fields_text;
	size_t		fields_len;
	int			nfields;
	const char *names[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
} TelemetryAggState;

typedef struct TelemetryAggCall
{
	TypeCacheEntry *range_type;
	Oid			value_types[TELEMETRY_MAX_FIELDS];
	bool		types_checked;
} TelemetryAggCall;

static TelemetryAggState *
agg_state_new(MemoryContext cxt)
{
	TelemetryAggState *state = MemoryContextAllocZero(cxt, sizeof(TelemetryAggState));

	telemetry_init(&state->set);
	return state;
}

static void
split_fields(TelemetryAggState *state, MemoryContext cxt, const char *text, size_t len)
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

/*
 * deg.telemetry_agg(ref text, at tstzrange, fields text, VARIADIC values "any"):
 * fields names the values, comma-separated ('importedKWh,exportedKWh'); values
 * beyond them are ignored, so that rows of different sources can share one
 * UNION ALL.  Values are numbers (numeric, integers, floats) or timestamptz
 * (seconds since 1970); NULL is an absent value.
 */
PG_FUNCTION_INFO_V1(telemetry_agg_step);
Datum
telemetry_agg_step(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	TelemetryAggState *state;
	TelemetryAggCall *call = (TelemetryAggCall *) fcinfo->flinfo->fn_extra;
	text	   *ref;
	text	   *fields;
	RangeType  *range;
	RangeBound	lower,
				upper;
	bool		empty;
	const uint8_t *wire[TELEMETRY_MAX_FIELDS];
	size_t		lens[TELEMETRY_MAX_FIELDS];
	TelemetrySeries *series;
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
	range = PG_GETARG_RANGE_P(2);
	fields = PG_GETARG_TEXT_PP(3);
	if (call->range_type == NULL || call->range_type->type_id != RangeTypeGetOid(range))
		call->range_type = lookup_type_cache(RangeTypeGetOid(range), TYPECACHE_RANGE_INFO);
	range_deserialize(call->range_type, range, &lower, &upper, &empty);
	if (empty || lower.infinite || upper.infinite)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("telemetry of \"%s\" has an empty or unbounded time range", text_to_cstring(ref))));

	if (state->fields_text == NULL || state->fields_len != VARSIZE_ANY_EXHDR(fields) ||
		memcmp(state->fields_text, VARDATA_ANY(fields), state->fields_len) != 0)
		split_fields(state, aggcxt, VARDATA_ANY(fields), VARSIZE_ANY_EXHDR(fields));
	if (state->nfields > nvalues)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("telemetry_agg: \"%s\" names %d fields but %d values are given",
						state->fields_text, state->nfields, nvalues)));
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

	for (f = 0; f < state->nfields; f++)
	{
		Datum		d;

		wire[f] = NULL;
		lens[f] = 0;
		if (PG_ARGISNULL(4 + f))
			continue;
		d = PG_GETARG_DATUM(4 + f);
		if (call->value_types[f] == NUMERICOID)
		{
			Numeric		n = DatumGetNumeric(d);
			uint8	   *bytes;

			lens[f] = numeric_wire_size(n);
			bytes = palloc(lens[f]);
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
				decimal_report(st, &derr, state->names[f]);
			lens[f] = dec_send_size(&dec);
			bytes = palloc(lens[f]);
			dec_send(&dec, bytes);
			dec_free(&dec);
			wire[f] = bytes;
		}
	}

	old = MemoryContextSwitchTo(aggcxt);
	series = telemetry_series(&state->set, VARDATA_ANY(ref), VARSIZE_ANY_EXHDR(ref),
							  state->names, state->lens, state->nfields, &err);
	if (series == NULL || !telemetry_add(series, DatumGetTimestampTz(lower.val),
										 DatumGetTimestampTz(upper.val), wire, lens, &err))
	{
		MemoryContextSwitchTo(old);
		telemetry_error(&err);
	}
	MemoryContextSwitchTo(old);
	for (f = 0; f < state->nfields; f++)
		if (wire[f])
			pfree((void *) wire[f]);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(telemetry_agg_combine);
Datum
telemetry_agg_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcxt;
	MemoryContext old;
	TelemetryAggState *a;
	TelemetryAggState *b;
	TelemetryError err;
	bool		ok;

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
	if (a == NULL)
		a = agg_state_new(aggcxt);
	old = MemoryContextSwitchTo(aggcxt);
	ok = telemetry_merge(&a->set, &b->set, &err);
	MemoryContextSwitchTo(old);
	if (!ok)
		telemetry_error(&err);
	PG_RETURN_POINTER(a);
}

PG_FUNCTION_INFO_V1(telemetry_agg_serialize);
Datum
telemetry_agg_serialize(PG_FUNCTION_ARGS)
{
	TelemetryAggState *state = (TelemetryAggState *) PG_GETARG_POINTER(0);

	PG_RETURN_BYTEA_P(telemetry_datum(&state->set));
}

PG_FUNCTION_INFO_V1(telemetry_agg_deserialize);
Datum
telemetry_agg_deserialize(PG_FUNCTION_ARGS)
{
	bytea	   *bytes = PG_GETARG_BYTEA_PP(0);
	MemoryContext aggcxt;
	MemoryContext old;
	TelemetryAggState *state;

	if (!AggCheckCallContext(fcinfo, &aggcxt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("telemetry_agg_deserialize called in a non-aggregate context")));
	state = agg_state_new(aggcxt);
	old = MemoryContextSwitchTo(aggcxt);
	telemetry_from_bytes(VARDATA_ANY(bytes), VARSIZE_ANY_EXHDR(bytes), &state->set, ERRCODE_DATA_CORRUPTED);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(telemetry_agg_final);
Datum
telemetry_agg_final(PG_FUNCTION_ARGS)
{
	TelemetryAggState *state = PG_ARGISNULL(0) ? NULL : (TelemetryAggState *) PG_GETARG_POINTER(0);

	if (state == NULL || state->set.nseries == 0)
		PG_RETURN_NULL();
	PG_RETURN_POINTER(telemetry_datum(&state->set));
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

/* a series binned into the settlement intervals, with its derived fields */
typedef struct BinnedSeries
{
	const TelemetrySeries *series;
	int			nfields;		/* the series' fields, then netKWh and sessions */
	int			net_field;		/* index of netKWh, or -1 */
	int			sessions_field; /* index of sessions, or -1 */
	Decimal    *values;			/* nbins x nfields */
	bool	   *present;
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
	const Decimal *values;		/* value of interval b: values[b * stride] */
	const bool *present;
	int			stride;
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
	int			at = b->bin * feed->stride;

	if (feed->values == NULL || !feed->present[at])
		return;
	value->kind = FORMULA_VALUE_NUMBER;
	/* a shallow copy: the evaluator only reads slots */
	value->number = feed->values[at];
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
bin_series(List **binned, const TelemetrySeries *s, const LinesCall *call)
{
	ListCell   *lc;
	BinnedSeries *b;
	int64	   *counts;
	TelemetryError err;
	int			imported = telemetry_field_index(s, "importedKWh");
	int			exported = telemetry_field_index(s, "exportedKWh");
	int			nb = call->nbins;
	int			i,
				f;

	foreach(lc, *binned)
		if (((BinnedSeries *) lfirst(lc))->series == s)
			return lfirst(lc);
	b = palloc0(sizeof(BinnedSeries));
	b->series = s;
	b->nfields = s->nfields;
	b->net_field = (imported >= 0 && exported >= 0 && telemetry_field_index(s, "netKWh") < 0) ? b->nfields++ : -1;
	b->sessions_field = telemetry_field_index(s, "sessions") < 0 ? b->nfields++ : -1;
	b->values = palloc(sizeof(Decimal) * nb * b->nfields);
	b->present = palloc0(sizeof(bool) * nb * b->nfields);
	for (i = 0; i < nb * b->nfields; i++)
		dec_init(&b->values[i]);

	/* telemetry_bin writes rows of the series' own width: bin into a scratch array, then spread */
	{
		Decimal    *own = palloc(sizeof(Decimal) * nb * s->nfields);
		bool	   *own_present = palloc(sizeof(bool) * nb * s->nfields);

		for (i = 0; i < nb * s->nfields; i++)
			dec_init(&own[i]);
		counts = palloc(sizeof(int64) * nb);
		if (!telemetry_bin(s, call->bins, nb, call->bins[nb], own, own_present, counts, &err))
			telemetry_error(&err);
		for (i = 0; i < nb; i++)
			for (f = 0; f < s->nfields; f++)
			{
				b->values[i * b->nfields + f] = own[i * s->nfields + f];
				b->present[i * b->nfields + f] = own_present[i * s->nfields + f];
			}
	}
	for (i = 0; i < nb; i++)
	{
		Decimal    *row = &b->values[i * b->nfields];
		bool	   *has = &b->present[i * b->nfields];

		if (b->net_field >= 0 && has[imported] && has[exported])
		{
			DecError	derr;
			DecStatus	st = dec_sub(&row[b->net_field], &row[imported], &row[exported], &derr);

			if (st != DEC_OK)
				decimal_report(st, &derr, "netKWh");
			has[b->net_field] = true;
		}
		if (b->sessions_field >= 0 && counts[i] > 0)
		{
			dec_from_int64(&row[b->sessions_field], counts[i], NULL);
			has[b->sessions_field] = true;
		}
	}
	*binned = lappend(*binned, b);
	return b;
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

static const TelemetrySeries *
find_series(const TelemetrySet *set, const char *prefix, const char *name)
{
	char	   *ref = psprintf("%s%s", prefix, name);
	const TelemetrySeries *s = set ? telemetry_find(set, ref) : NULL;

	pfree(ref);
	return s;
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
					feeds[k].stride = 1;
				}
			}
			continue;
		}
		if (s->kind == FORMULA_REF_TELEMETRY)
		{
			series = find_series(tel, "telemetrySources.", s->name);
			if (series)
			{
				BinnedSeries *b = bin_series(binned, series, call);
				int			f = telemetry_field_index(series, s->field);

				if (f < 0 && strcmp(s->field, "netKWh") == 0)
					f = b->net_field;
				if (f < 0 && strcmp(s->field, "sessions") == 0)
					f = b->sessions_field;
				if (f >= 0)
				{
					feeds[k].values = &b->values[f];
					feeds[k].present = &b->present[f];
					feeds[k].stride = b->nfields;
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
				feeds[k].stride = 1;
			}
		}
		else if (s->kind == FORMULA_REF_PARAMETER)
		{
			/* a built-in variable fed by rows: deliveredQuantity */
			series = find_series(tel, "", s->name);
			if (series)
			{
				BinnedSeries *b = bin_series(binned, series, call);

				feeds[k].values = &b->values[0];
				feeds[k].present = &b->present[0];
				feeds[k].stride = b->nfields;
			}
		}
	}
}

static void
add_or_fail(Decimal *acc, const Decimal *v, const char *what)
{
	DecError	derr;
	DecStatus	st = dec_add(acc, acc, v, &derr);

	if (st != DEC_OK)
		decimal_report(st, &derr, what);
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
	TelemetrySet tel;
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

	telemetry_init(&tel);
	if (has_tel)
	{
		struct varlena *v = PG_DETOAST_DATUM(PG_GETARG_DATUM(2));

		telemetry_from_bytes(VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v), &tel, ERRCODE_DATA_CORRUPTED);
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

			instance_feeds(call, i, has_tel ? &tel : NULL, &binned, feeds);
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
				add_or_fail(&total, &value, info.id);
				if (has_q)
				{
					add_or_fail(&quantity, &q, info.id);
					any_quantity = true;
				}
			}
			pfree(feeds);
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
	telemetry_free(&tel);
	progress_tick();
	return (Datum) 0;
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
PG_FUNCTION_INFO_V1(ledger_digest_step);
Datum
ledger_digest_step(PG_FUNCTION_ARGS)
{
	crypto_hash_sha256_state st;
	bytea	   *chain = NULL;
	text	   *entry;
	bytea	   *result;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a ledger entry's text is NULL")));
	if (!PG_ARGISNULL(0))
		chain = PG_GETARG_BYTEA_PP(0);
	else if (!PG_ARGISNULL(1))
		chain = PG_GETARG_BYTEA_PP(1);
	entry = PG_GETARG_TEXT_PP(2);
	crypto_hash_sha256_init(&st);
	if (chain != NULL)
		crypto_hash_sha256_update(&st, (const unsigned char *) VARDATA_ANY(chain), VARSIZE_ANY_EXHDR(chain));
	crypto_hash_sha256_update(&st, (const unsigned char *) VARDATA_ANY(entry), VARSIZE_ANY_EXHDR(entry));
	result = palloc(VARHDRSZ + crypto_hash_sha256_BYTES);
	SET_VARSIZE(result, VARHDRSZ + crypto_hash_sha256_BYTES);
	crypto_hash_sha256_final(&st, (unsigned char *) VARDATA(result));
	PG_RETURN_BYTEA_P(result);
}
