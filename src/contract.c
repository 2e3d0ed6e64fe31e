/*
 * contract.c: the deg.contract type — a DEG EnergyContract — with its
 * formulas compiled once, on input, and kept in the datum.
 *
 * A contract is validated when it is written: enums, required fields, unique
 * ids, role input types against their values, the roles every flow names,
 * the P2P mode rules, and every formula (src/core/formula.c) against the
 * names the contract declares.  The datum keeps the canonical JSON text and
 * the compiled bytecode; evaluation rebuilds an in-memory model once per
 * call site (fn_extra) and then only fills slots and runs bytecode.
 */
#include "postgres.h"

#include <math.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/array.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include <sodium.h>

#include "core/codec.h"
#include "core/ed25519.h"
#include "core/formula.h"
#include "core/jcs.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/offer.h"
#include "contract.h"
#include "decimal_glue.h"
#include "era.h"
#include "tariff.h"

#define CONTRACT_FORMAT_VERSION 1

typedef enum ContractStatus
{
	CONTRACT_PENDING,
	CONTRACT_ACTIVE,
	CONTRACT_COMPLETED,
	CONTRACT_TERMINATED
} ContractStatus;

static const char *const status_names[] = {"PENDING", "ACTIVE", "COMPLETED", "TERMINATED"};

typedef enum ContractKind
{
	CONTRACT_GENERIC,
	CONTRACT_EV_CHARGING,
	CONTRACT_P2P_FIXED,
	CONTRACT_P2P_MARKET
} ContractKind;

typedef enum ProgramKind
{
	PROGRAM_FLOW,
	PROGRAM_METRIC,
	PROGRAM_PENALTY
} ProgramKind;

static const char *const program_kind_names[] = {"flow", "metric", "penalty"};

/*
 * On disk: the canonical JSON text, the contract id, and the compiled
 * programs: for each, kind, number, from/to roles, and bytecode.
 */
typedef struct ContractDatum
{
	int32		vl_len_;
	uint8		version;
	uint8		status;
	uint8		kind;
	uint8		reserved;
	int64		created_at;
	uint32		json_off,
				json_len;
	uint32		id_off,
				id_len;
	uint32		programs_off,
				programs_len;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} ContractDatum;

#define DatumGetContractP(X) ((ContractDatum *) PG_DETOAST_DATUM(X))

/* one participant's seat in a role */
typedef struct RoleEntry
{
	int			role;
	bool		filled;
	const char *filled_by;		/* NULL while open */
	JsonNode   *node;			/* the role object in the document */
	JsonNode   *inputs;			/* its roleInputs object, or NULL */
} RoleEntry;

typedef struct ContractProgram
{
	ProgramKind kind;
	int			number;			/* flows 1..n; metrics 1..n */
	char	   *id;				/* "1", or the metricId */
	int			from_role;		/* flows: from; penalties: appliedTo */
	int			to_role;		/* flows: to; penalties: the counterparty, or -1 */
	char	   *formula;
	char	   *description;
	FormulaProgram *program;
} ContractProgram;

typedef struct ContractModel
{
	JsonNode   *doc;
	const char *id;
	ContractStatus status;
	ContractKind kind;
	int64		created_at;
	int			nentries;
	RoleEntry  *entries;
	bool		has_role[DEG_ROLE_COUNT];
	bool		optional_role[DEG_ROLE_COUNT];	/* may join later: GRID_OPERATOR in P2P */
	int			nprograms;
	ContractProgram *programs;
	/* the scope formulas were compiled against */
	FormulaScope scope;
} ContractModel;

static bool looks_like_datetime(const char *s);

/* ---------- errors ---------- */

static void
contract_error(const char *fmt,...) pg_attribute_printf(1, 2) pg_attribute_noreturn();

static void
contract_error(const char *fmt,...)
{
	char		buf[1024];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid energy contract: %s", buf)));
	pg_unreachable();
}

static const char *
json_string_of(const JsonNode *obj, const char *key, const char *where, bool required)
{
	const JsonNode *v = json_get(obj, key);

	if (v == NULL || v->kind == JSON_NULL)
	{
		if (required)
			contract_error("%s\"%s\" is required", where, key);
		return NULL;
	}
	if (v->kind != JSON_STRING)
		contract_error("%s\"%s\" must be a string, not %s", where, key, json_kind_name(v->kind));
	return v->text;
}

/* an enum value, case-sensitive as the schema writes it */
static int
json_enum_of(const JsonNode *obj, const char *key, const char *where, const char *const *names,
			 int n, bool required)
{
	const char *s = json_string_of(obj, key, where, required);
	StringInfoData allowed;
	int			i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	initStringInfo(&allowed);
	for (i = 0; i < n; i++)
		appendStringInfo(&allowed, "%s%s", i ? ", " : "", names[i]);
	contract_error("%s\"%s\" is \"%s\", not one of %s", where, key, s, allowed.data);
}

static int
role_of(const char *name, const char *where)
{
	int			r = deg_role_from_name(name, strlen(name));

	if (r < 0 || strcmp(name, deg_role_name(r)) != 0)
		contract_error("%sunknown role \"%s\" (roles are BUYER, SELLER, PROSUMER, MARKET_CLEARING_AGENT, AGGREGATOR, GRID_OPERATOR)",
					   where, name);
	return r;
}

static void
where_context(void *arg)
{
	errcontext("%s of an energy contract", (const char *) arg);
}

/* PostgreSQL timestamp of an ISO 8601 string; an error names the field */
static int64
parse_timestamp(const char *s, const char *where)
{
	ErrorContextCallback errcb;
	int64		ts;

	/* ISO 8601 only: PostgreSQL would also take words like "yesterday" */
	if (!looks_like_datetime(s))
		contract_error("%s is \"%s\", not an ISO 8601 date-time", where, s);
	errcb.callback = where_context;
	errcb.arg = (void *) where;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	ts = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in, CStringGetDatum(s),
												 ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	error_context_stack = errcb.previous;
	return ts;
}

/* ---------- role inputs ---------- */

static int
input_type_from_name(const char *name)
{
	int			t = formula_type_from_name(name, strlen(name));

	/* the P2P schema writes DATETIME */
	if (t < 0 && strcmp(name, "DATETIME") == 0)
		t = FORMULA_TYPE_DATE_TIME;
	return t;
}

/* {type, required, description, value}: a verbose role input */
static bool
is_verbose_input(const JsonNode *v)
{
	const JsonNode *t;
	size_t		i;

	if (v == NULL || v->kind != JSON_OBJECT)
		return false;
	t = json_get(v, "type");
	if (t == NULL || t->kind != JSON_STRING || input_type_from_name(t->text) < 0)
		return false;
	for (i = 0; i < v->count; i++)
	{
		const char *k = v->members[i].key;

		if (strcmp(k, "type") != 0 && strcmp(k, "required") != 0 &&
			strcmp(k, "description") != 0 && strcmp(k, "value") != 0 && strcmp(k, "unit") != 0)
			return false;
	}
	return true;
}

/* the value of a role input (NULL when not yet given) */
static const JsonNode *
input_value(const JsonNode *v)
{
	const JsonNode *value = is_verbose_input(v) ? json_get(v, "value") : v;

	return (value == NULL || value->kind == JSON_NULL) ? NULL : value;
}

static bool
looks_like_datetime(const char *s)
{
	return strlen(s) >= 16 && isdigit((unsigned char) s[0]) && isdigit((unsigned char) s[3]) &&
		s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') && s[13] == ':';
}

static FormulaType
inferred_type(const JsonNode *v)
{
	if (v == NULL)
		return FORMULA_TYPE_UNKNOWN;
	switch (v->kind)
	{
		case JSON_NUMBER:
			return FORMULA_TYPE_NUMBER;
		case JSON_TRUE:
		case JSON_FALSE:
			return FORMULA_TYPE_BOOLEAN;
		case JSON_STRING:
			if (looks_like_datetime(v->text))
				return FORMULA_TYPE_DATE_TIME;
			if (v->text[0] == 'P' && v->len > 1 && strchr("TYMWD0123456789", v->text[1]))
				return FORMULA_TYPE_DURATION;
			return FORMULA_TYPE_STRING;
		case JSON_OBJECT:
			return (json_get(v, "curve") && json_get(v, "curve")->kind == JSON_ARRAY)
				? FORMULA_TYPE_OFFER_CURVE : FORMULA_TYPE_OBJECT;
		case JSON_ARRAY:
			return FORMULA_TYPE_OBJECT;
		default:
			return FORMULA_TYPE_UNKNOWN;
	}
}

static FormulaType
input_type(const JsonNode *v)
{
	if (is_verbose_input(v))
		return (FormulaType) input_type_from_name(json_get(v, "type")->text);
	return inferred_type(v);
}

static bool
value_has_type(const JsonNode *value, FormulaType type)
{
	switch (type)
	{
		case FORMULA_TYPE_NUMBER:
			return value->kind == JSON_NUMBER;
		case FORMULA_TYPE_DATE_TIME:
			return value->kind == JSON_STRING && looks_like_datetime(value->text);
		case FORMULA_TYPE_DURATION:
			return value->kind == JSON_STRING && value->text[0] == 'P';
		case FORMULA_TYPE_BOOLEAN:
			return value->kind == JSON_TRUE || value->kind == JSON_FALSE;
		case FORMULA_TYPE_STRING:
			return value->kind == JSON_STRING;
		case FORMULA_TYPE_OFFER_CURVE:
			return value->kind == JSON_OBJECT && json_get(value, "curve") != NULL &&
				json_get(value, "curve")->kind == JSON_ARRAY;
		case FORMULA_TYPE_OBJECT:
		case FORMULA_TYPE_ROUTE:
			return value->kind == JSON_OBJECT || value->kind == JSON_ARRAY;
		default:
			return true;
	}
}

static void
check_input(const char *role, const char *name, const JsonNode *v)
{
	const JsonNode *value = input_value(v);
	FormulaType type = input_type(v);

	if (is_verbose_input(v))
	{
		const JsonNode *req = json_get(v, "required");

		if (req != NULL && req->kind != JSON_TRUE && req->kind != JSON_FALSE)
			contract_error("role %s input \"%s\": \"required\" must be true or false", role, name);
	}
	if (value != NULL && !value_has_type(value, type))
		contract_error("role %s input \"%s\" is declared %s but its value is %s",
					   role, name, formula_type_name(type),
					   value->kind == JSON_STRING ? psprintf("the string \"%.60s\"", value->text)
					   : json_kind_name(value->kind));
}

static bool
input_required(const JsonNode *v)
{
	const JsonNode *req = is_verbose_input(v) ? json_get(v, "required") : NULL;

	return req != NULL && req->kind == JSON_TRUE;
}

/* a role that several participants may take: PROSUMER (one seat each) */
static bool
multi_participant_role(int role)
{
	return role == DEG_ROLE_PROSUMER;
}

/* ---------- the model ---------- */

/*
 * Variables the billing engine supplies to every formula, unless the
 * contract defines the name itself: the metered energy delivered under the
 * contract in the interval (DEG settles P2P trades on actuals), and the
 * settlement interval.
 */
static const char *const builtin_variables[] = {"deliveredQuantity", "intervalHours", "intervalStart", "intervalEnd"};
static const FormulaType builtin_types[] = {FORMULA_TYPE_NUMBER, FORMULA_TYPE_NUMBER, FORMULA_TYPE_DATE_TIME, FORMULA_TYPE_DATE_TIME};
#define N_BUILTIN_VARIABLES 4

static bool
is_builtin_variable(const char *name)
{
	int			i;

	for (i = 0; i < N_BUILTIN_VARIABLES; i++)
		if (strcmp(name, builtin_variables[i]) == 0)
			return true;
	return false;
}

static const char *const signal_types[] = {"PRICE", "STATE", "COMMAND", "FREQUENCY", "AGC_SETPOINT"};
static const char *const source_types[] = {"METER_READING", "CHARGE_DATA_RECORD", "INVERTER_DATA", "BATTERY_STATE"};
static const char *const data_formats[] = {"JSON", "IEEE_2030_5", "XML"};
static const char *const hash_algorithms[] = {"SHA256", "SHA512", "BLAKE2B"};

static const JsonNode *
array_of(const JsonNode *obj, const char *key, const char *where)
{
	const JsonNode *v = json_get(obj, key);

	if (v == NULL || v->kind == JSON_NULL)
		return NULL;
	if (v->kind != JSON_ARRAY)
		contract_error("%s\"%s\" must be an array, not %s", where, key, json_kind_name(v->kind));
	return v;
}

static void
flatten_parameters(const JsonNode *obj, const char *prefix, List **fields)
{
	size_t		i;

	for (i = 0; i < obj->count; i++)
	{
		const JsonMember *m = &obj->members[i];
		char	   *path = prefix ? psprintf("%s.%s", prefix, m->key) : pstrdup(m->key);
		FormulaField *f = palloc(sizeof(FormulaField));

		f->name = path;
		f->type = inferred_type(m->value);
		*fields = lappend(*fields, f);
		if (m->value->kind == JSON_OBJECT)
			flatten_parameters(m->value, path, fields);
	}
}

static void
build_scope(ContractModel *m)
{
	FormulaScopeRole *roles = palloc0(sizeof(FormulaScopeRole) * DEG_ROLE_COUNT);
	int			nroles = 0;
	int			r,
				e;
	const JsonNode *params = json_get(m->doc, "inputParameters");
	const JsonNode *signals = json_get(m->doc, "inputSignals");
	const JsonNode *sources = json_get(m->doc, "telemetrySources");
	List	   *pfields = NIL;
	ListCell   *lc;
	int			i;

	for (r = 0; r < DEG_ROLE_COUNT; r++)
	{
		List	   *fields = NIL;
		FormulaField *arr;

		if (!m->has_role[r] && !m->optional_role[r])
			continue;
		for (e = 0; e < m->nentries; e++)
		{
			const JsonNode *in = m->entries[e].inputs;
			size_t		k;

			if (m->entries[e].role != r || in == NULL)
				continue;
			for (k = 0; k < in->count; k++)
			{
				bool		seen = false;

				foreach(lc, fields)
					if (strcmp(((FormulaField *) lfirst(lc))->name, in->members[k].key) == 0)
						seen = true;
				if (!seen)
				{
					FormulaField *f = palloc(sizeof(FormulaField));

					f->name = in->members[k].key;
					f->type = input_type(in->members[k].value);
					fields = lappend(fields, f);
				}
			}
		}
		arr = palloc(sizeof(FormulaField) * (list_length(fields) + 1));
		i = 0;
		foreach(lc, fields)
			arr[i++] = *(FormulaField *) lfirst(lc);
		roles[nroles].role = (DegRole) r;
		roles[nroles].inputs = arr;
		roles[nroles].ninputs = i;
		nroles++;
	}
	m->scope.roles = roles;
	m->scope.nroles = nroles;
	m->scope.open_role_inputs = true;

	if (params != NULL && params->kind == JSON_OBJECT)
		flatten_parameters(params, NULL, &pfields);
	/* the built-in variables, under the names the contract leaves free */
	for (i = 0; i < N_BUILTIN_VARIABLES; i++)
	{
		bool		taken = false;
		int			k;

		foreach(lc, pfields)
			if (strcmp(((FormulaField *) lfirst(lc))->name, builtin_variables[i]) == 0)
				taken = true;
		for (r = 0; r < nroles && !taken; r++)
			for (k = 0; k < roles[r].ninputs; k++)
				if (strcmp(roles[r].inputs[k].name, builtin_variables[i]) == 0)
					taken = true;
		if (!taken)
		{
			FormulaField *f = palloc(sizeof(FormulaField));

			f->name = builtin_variables[i];
			f->type = builtin_types[i];
			pfields = lappend(pfields, f);
		}
	}
	m->scope.parameters = palloc(sizeof(FormulaField) * (list_length(pfields) + 1));
	i = 0;
	foreach(lc, pfields)
		((FormulaField *) m->scope.parameters)[i++] = *(FormulaField *) lfirst(lc);
	m->scope.nparameters = i;

	m->scope.nsignals = signals ? (int) signals->count : 0;
	m->scope.signals = palloc(sizeof(char *) * (m->scope.nsignals + 1));
	for (i = 0; i < m->scope.nsignals; i++)
		((const char **) m->scope.signals)[i] = json_get(signals->items[i], "signalId")->text;

	m->scope.nsources = sources ? (int) sources->count : 0;
	m->scope.sources = palloc0(sizeof(FormulaScopeSource) * (m->scope.nsources + 1));
	for (i = 0; i < m->scope.nsources; i++)
	{
		FormulaScopeSource *s = (FormulaScopeSource *) &m->scope.sources[i];
		const JsonNode *fields = json_get(sources->items[i], "fields");
		size_t		k;

		s->id = json_get(sources->items[i], "sourceId")->text;
		if (fields != NULL && fields->kind == JSON_ARRAY)
		{
			const char **names = palloc(sizeof(char *) * (fields->count + 1));
			int			n = 0;

			for (k = 0; k < fields->count; k++)
				if (fields->items[k]->kind == JSON_STRING)
					names[n++] = fields->items[k]->text;
			s->fields = names;
			s->nfields = n;
		}
	}
}

/* the role a penalty is paid to: payTo, or the other party of a two-party contract */
static int
penalty_counterparty(ContractModel *m, const JsonNode *penalty, int applied_to, const char *where)
{
	const char *pay_to = json_string_of(penalty, "payTo", where, false);
	int			other = -1;
	int			nparties = 0;
	int			r;

	if (pay_to != NULL)
	{
		int			p = role_of(pay_to, where);

		if (!m->has_role[p])
			contract_error("%spayTo names role %s, which the contract does not have", where, pay_to);
		return p;
	}
	for (r = 0; r < DEG_ROLE_COUNT; r++)
		if (m->has_role[r])
		{
			nparties++;
			if (r != applied_to)
				other = r;
		}
	if (nparties != 2)
		contract_error("%sthe penalty names no counterparty (\"payTo\") and the contract has %d roles, not 2",
					   where, nparties);
	return other;
}

static void
compile_program(ContractModel *m, ContractProgram *p, const char *context, bool warn)
{
	FormulaWarnings warnings = {NULL, 0};
	FormulaError err;
	int			i;

	p->program = formula_compile(p->formula, strlen(p->formula), &m->scope, &warnings, &err);
	for (i = 0; warn && i < warnings.count; i++)
		ereport(NOTICE,
				(errmsg("%s: %s", context, warnings.items[i].message)));
	formula_warnings_free(&warnings);
	if (p->program == NULL)
		contract_error("%s: %s", context, err.message);
}

static char *
program_context(const ContractProgram *p)
{
	if (p->kind == PROGRAM_FLOW)
		return psprintf("formula of flow %d (%s -> %s)", p->number,
						deg_role_name(p->from_role), deg_role_name(p->to_role));
	if (p->kind == PROGRAM_METRIC)
		return psprintf("formula of metric \"%s\"", p->id);
	return psprintf("penalty formula of metric \"%s\"", p->id);
}

/*
 * Build (and validate) the model of a contract document.  With bytecode
 * (from a stored datum) the programs are loaded from it; otherwise every
 * formula is compiled.
 */
static ContractModel *
model_build(JsonNode *doc, const uint8 *bytecode, size_t bytecode_len, bool warn)
{
	ContractModel *m = palloc0(sizeof(ContractModel));
	const JsonNode *roles;
	const JsonNode *type = json_get(doc, "@type");
	const JsonNode *signals;
	const JsonNode *sources;
	const JsonNode *flows_obj;
	const JsonNode *flows;
	const JsonNode *metrics_obj;
	const JsonNode *metrics;
	const JsonNode *verification;
	int			counts[DEG_ROLE_COUNT] = {0};
	List	   *programs = NIL;
	size_t		i,
				j;
	int			r;

	if (doc->kind != JSON_OBJECT)
		contract_error("a contract is a JSON object");
	m->doc = doc;
	m->id = json_string_of(doc, "contractId", "", true);
	if (m->id[0] == '\0')
		contract_error("\"contractId\" is empty");
	m->status = (ContractStatus) json_enum_of(doc, "status", "", status_names, 4, true);
	m->created_at = parse_timestamp(json_string_of(doc, "createdAt", "", true), "field \"createdAt\"");

	/* roles: one entry per seat */
	roles = array_of(doc, "roles", "");
	if (roles == NULL || roles->count == 0)
		contract_error("\"roles\" must list at least one role");
	m->nentries = (int) roles->count;
	m->entries = palloc0(sizeof(RoleEntry) * roles->count);
	for (i = 0; i < roles->count; i++)
	{
		RoleEntry  *e = &m->entries[i];
		JsonNode   *node = roles->items[i];
		char	   *where = psprintf("roles[%zu]: ", i);
		const JsonNode *filled;
		const JsonNode *by;

		if (node->kind != JSON_OBJECT)
			contract_error("%sa role is an object", where);
		e->node = node;
		e->role = role_of(json_string_of(node, "role", where, true), where);
		filled = json_get(node, "filled");
		if (filled == NULL || (filled->kind != JSON_TRUE && filled->kind != JSON_FALSE))
			contract_error("%s\"filled\" is required and must be true or false", where);
		e->filled = filled->kind == JSON_TRUE;
		by = json_get(node, "filledBy");
		if (by != NULL && by->kind != JSON_NULL)
		{
			if (by->kind != JSON_STRING)
				contract_error("%s\"filledBy\" must be an ERA string or null", where);
			(void) era_datum_from_text(by->text, by->len);
			e->filled_by = by->text;
		}
		if (e->filled != (e->filled_by != NULL))
			contract_error("%srole %s has \"filled\": %s but %s", where, deg_role_name(e->role),
						   e->filled ? "true" : "false", e->filled_by ? "a filledBy" : "no filledBy");
		e->inputs = json_get(node, "roleInputs");
		if (e->inputs != NULL && e->inputs->kind == JSON_NULL)
			e->inputs = NULL;
		if (e->inputs != NULL && e->inputs->kind != JSON_OBJECT)
			contract_error("%s\"roleInputs\" must be an object", where);
		if (e->inputs != NULL)
			for (j = 0; j < e->inputs->count; j++)
				check_input(deg_role_name(e->role), e->inputs->members[j].key, e->inputs->members[j].value);
		m->has_role[e->role] = true;
		counts[e->role]++;
		if (e->filled_by != NULL)
			for (j = 0; j < i; j++)
				if (m->entries[j].role == e->role && m->entries[j].filled_by != NULL &&
					strcmp(m->entries[j].filled_by, e->filled_by) == 0)
					contract_error("%s%s fills role %s twice", where, e->filled_by, deg_role_name(e->role));
	}
	for (r = 0; r < DEG_ROLE_COUNT; r++)
		if (counts[r] > 1 && !multi_participant_role(r))
			contract_error("role %s appears %d times; only PROSUMER takes several participants",
						   deg_role_name(r), counts[r]);

	/* the kind of contract, and the P2P mode rules */
	m->kind = CONTRACT_GENERIC;
	if (type != NULL && type->kind == JSON_STRING && strcmp(type->text, "EnergyContractEVCharging") == 0)
		m->kind = CONTRACT_EV_CHARGING;
	else if (type != NULL && type->kind == JSON_STRING && strcmp(type->text, "EnergyContractP2PTrade") == 0)
	{
		bool		fixed = counts[DEG_ROLE_SELLER] > 0 || counts[DEG_ROLE_BUYER] > 0;
		bool		market = counts[DEG_ROLE_MARKET_CLEARING_AGENT] > 0 || counts[DEG_ROLE_PROSUMER] > 0;

		if (fixed && market)
			contract_error("a P2P contract is either fixed price (SELLER and BUYER) or market based (MARKET_CLEARING_AGENT and PROSUMER), never both");
		if (counts[DEG_ROLE_AGGREGATOR] > 0)
			contract_error("a P2P contract has no AGGREGATOR role");
		if (fixed && (counts[DEG_ROLE_SELLER] != 1 || counts[DEG_ROLE_BUYER] != 1))
			contract_error("a fixed-price P2P contract has exactly one SELLER and one BUYER (it has %d and %d)",
						   counts[DEG_ROLE_SELLER], counts[DEG_ROLE_BUYER]);
		if (market && (counts[DEG_ROLE_MARKET_CLEARING_AGENT] != 1 || counts[DEG_ROLE_PROSUMER] < 1))
			contract_error("a market-based P2P contract has one MARKET_CLEARING_AGENT and one or more PROSUMER (it has %d and %d)",
						   counts[DEG_ROLE_MARKET_CLEARING_AGENT], counts[DEG_ROLE_PROSUMER]);
		if (!fixed && !market)
			contract_error("a P2P contract needs SELLER and BUYER, or MARKET_CLEARING_AGENT and PROSUMER");
		m->kind = market ? CONTRACT_P2P_MARKET : CONTRACT_P2P_FIXED;
		/* the grid operator joins later, in a cascaded init */
		m->optional_role[DEG_ROLE_GRID_OPERATOR] = !m->has_role[DEG_ROLE_GRID_OPERATOR];
	}

	/* parameters, signals, telemetry */
	if (json_get(doc, "inputParameters") != NULL && json_get(doc, "inputParameters")->kind != JSON_OBJECT &&
		json_get(doc, "inputParameters")->kind != JSON_NULL)
		contract_error("\"inputParameters\" must be an object");
	signals = array_of(doc, "inputSignals", "");
	for (i = 0; signals && i < signals->count; i++)
	{
		const JsonNode *s = signals->items[i];
		char	   *where = psprintf("inputSignals[%zu]: ", i);
		const char *id;
		const JsonNode *src;

		if (s->kind != JSON_OBJECT)
			contract_error("%sa signal is an object", where);
		id = json_string_of(s, "signalId", where, true);
		json_enum_of(s, "signalType", where, signal_types, 5, true);
		json_enum_of(s, "format", where, data_formats, 3, false);
		src = json_get(s, "source");
		if (src == NULL || src->kind != JSON_OBJECT)
			contract_error("%s\"source\" is required and is an object", where);
		if (json_string_of(src, "era", where, false))
			(void) era_datum_from_text(json_get(src, "era")->text, json_get(src, "era")->len);
		for (j = 0; j < i; j++)
			if (strcmp(json_get(signals->items[j], "signalId")->text, id) == 0)
				contract_error("%ssignalId \"%s\" is used twice", where, id);
	}
	sources = array_of(doc, "telemetrySources", "");
	for (i = 0; sources && i < sources->count; i++)
	{
		const JsonNode *s = sources->items[i];
		char	   *where = psprintf("telemetrySources[%zu]: ", i);
		const char *id;
		const JsonNode *src;
		const JsonNode *fields;

		if (s->kind != JSON_OBJECT)
			contract_error("%sa telemetry source is an object", where);
		id = json_string_of(s, "sourceId", where, true);
		json_enum_of(s, "sourceType", where, source_types, 4, true);
		json_enum_of(s, "format", where, data_formats, 3, false);
		src = json_get(s, "source");
		if (src != NULL && src->kind == JSON_OBJECT && json_string_of(src, "era", where, false))
			(void) era_datum_from_text(json_get(src, "era")->text, json_get(src, "era")->len);
		fields = array_of(s, "fields", where);
		for (j = 0; fields && j < fields->count; j++)
			if (fields->items[j]->kind != JSON_STRING)
				contract_error("%s\"fields\" must be an array of strings", where);
		for (j = 0; j < i; j++)
			if (strcmp(json_get(sources->items[j], "sourceId")->text, id) == 0)
				contract_error("%ssourceId \"%s\" is used twice", where, id);
	}
	verification = json_get(doc, "verification");
	if (verification != NULL && verification->kind == JSON_OBJECT &&
		json_get(verification, "integrity") != NULL && json_get(verification, "integrity")->kind == JSON_OBJECT)
		json_enum_of(json_get(verification, "integrity"), "algorithm", "verification.integrity: ",
					 hash_algorithms, 3, false);

	build_scope(m);

	/* revenue flows, quality metrics and penalties */
	flows_obj = json_get(doc, "revenueFlows");
	flows = flows_obj && flows_obj->kind == JSON_OBJECT ? array_of(flows_obj, "flows", "revenueFlows: ") : NULL;
	for (i = 0; flows && i < flows->count; i++)
	{
		const JsonNode *f = flows->items[i];
		char	   *where = psprintf("revenueFlows.flows[%zu]: ", i);
		ContractProgram *p = palloc0(sizeof(ContractProgram));

		if (f->kind != JSON_OBJECT)
			contract_error("%sa flow is an object", where);
		p->kind = PROGRAM_FLOW;
		p->number = (int) i + 1;
		p->id = psprintf("%d", p->number);
		p->from_role = role_of(json_string_of(f, "from", where, true), where);
		p->to_role = role_of(json_string_of(f, "to", where, true), where);
		if (!(m->has_role[p->from_role] || m->optional_role[p->from_role]) ||
			!(m->has_role[p->to_role] || m->optional_role[p->to_role]))
			contract_error("flow %d (%s -> %s) names role %s, which the contract does not have", p->number,
						   deg_role_name(p->from_role), deg_role_name(p->to_role),
						   deg_role_name((m->has_role[p->from_role] || m->optional_role[p->from_role]) ? p->to_role : p->from_role));
		if (p->from_role == p->to_role)
			contract_error("flow %d goes from %s to itself", p->number, deg_role_name(p->from_role));
		p->formula = pstrdup(json_string_of(f, "formula", where, true));
		p->description = (char *) json_string_of(f, "description", where, false);
		programs = lappend(programs, p);
	}
	metrics_obj = json_get(doc, "qualityMetrics");
	metrics = metrics_obj && metrics_obj->kind == JSON_OBJECT ? array_of(metrics_obj, "metrics", "qualityMetrics: ") : NULL;
	for (i = 0; metrics && i < metrics->count; i++)
	{
		const JsonNode *q = metrics->items[i];
		char	   *where = psprintf("qualityMetrics.metrics[%zu]: ", i);
		ContractProgram *p = palloc0(sizeof(ContractProgram));
		const JsonNode *penalty;

		if (q->kind != JSON_OBJECT)
			contract_error("%sa metric is an object", where);
		p->kind = PROGRAM_METRIC;
		p->number = (int) i + 1;
		p->id = pstrdup(json_string_of(q, "metricId", where, true));
		for (j = 0; j < i; j++)
			if (strcmp(json_get(metrics->items[j], "metricId")->text, p->id) == 0)
				contract_error("%smetricId \"%s\" is used twice", where, p->id);
		p->from_role = p->to_role = -1;
		p->formula = pstrdup(json_string_of(q, "formula", where, true));
		p->description = (char *) json_string_of(q, "description", where, false);
		programs = lappend(programs, p);
		penalty = json_get(q, "penalty");
		if (penalty != NULL && penalty->kind == JSON_OBJECT)
		{
			ContractProgram *pp = palloc0(sizeof(ContractProgram));
			char	   *pwhere = psprintf("%spenalty: ", where);

			pp->kind = PROGRAM_PENALTY;
			pp->number = p->number;
			pp->id = p->id;
			pp->from_role = role_of(json_string_of(penalty, "appliedTo", pwhere, true), pwhere);
			if (!m->has_role[pp->from_role])
				contract_error("%sappliedTo names role %s, which the contract does not have", pwhere,
							   deg_role_name(pp->from_role));
			pp->to_role = penalty_counterparty(m, penalty, pp->from_role, pwhere);
			pp->formula = pstrdup(json_string_of(penalty, "formula", pwhere, true));
			programs = lappend(programs, pp);
		}
	}

	m->nprograms = list_length(programs);
	m->programs = palloc0(sizeof(ContractProgram) * (m->nprograms + 1));
	for (i = 0; i < (size_t) m->nprograms; i++)
		m->programs[i] = *(ContractProgram *) list_nth(programs, (int) i);

	if (bytecode == NULL)
	{
		for (i = 0; i < (size_t) m->nprograms; i++)
			compile_program(m, &m->programs[i], program_context(&m->programs[i]), warn);
	}
	else
	{
		/* stored programs: a count, then per program a length and the bytecode */
		const uint8 *p = bytecode;
		const uint8 *end = bytecode + bytecode_len;
		uint32		n;

		if (bytecode_len < 4)
			elog(ERROR, "corrupt deg.contract datum: no program table");
		memcpy(&n, p, 4);
		p += 4;
		if (n != (uint32) m->nprograms)
			elog(ERROR, "corrupt deg.contract datum: %u programs for %d formulas", n, m->nprograms);
		for (i = 0; i < n; i++)
		{
			uint32		len;
			FormulaError err;

			if (end - p < 4)
				elog(ERROR, "corrupt deg.contract datum: program table truncated");
			memcpy(&len, p, 4);
			p += 4;
			if ((size_t) (end - p) < len)
				elog(ERROR, "corrupt deg.contract datum: program table truncated");
			m->programs[i].program = formula_deserialize(p, len, &err);
			if (m->programs[i].program == NULL)
				elog(ERROR, "corrupt deg.contract datum: %s", err.message);
			p += len;
		}
	}
	return m;
}

static JsonNode *
parse_contract_text(const char *text, size_t len)
{
	JsonError	err;
	JsonNode   *doc = json_parse(text, len, &err);

	if (doc == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid energy contract: %s", err.message)));
	return doc;
}

static ContractDatum *
datum_from_model(ContractModel *m)
{
	DegBuf		json;
	DegBuf		code;
	JsonError	jerr;
	StringInfoData buf;
	uint32		n = (uint32) m->nprograms;
	uint32		json_off,
				id_off,
				programs_off;
	ContractDatum *d;
	int			i;

	degbuf_init(&json);
	if (!jcs_serialize(m->doc, &json, &jerr))
		contract_error("cannot canonicalize: %s", jerr.message);
	initStringInfo(&buf);
	json_off = offsetof(ContractDatum, data) + buf.len;
	appendBinaryStringInfo(&buf, json.data, (int) json.len);
	id_off = offsetof(ContractDatum, data) + buf.len;
	appendBinaryStringInfo(&buf, m->id, (int) strlen(m->id));
	programs_off = offsetof(ContractDatum, data) + buf.len;
	appendBinaryStringInfo(&buf, (char *) &n, 4);
	for (i = 0; i < m->nprograms; i++)
	{
		uint32		len;

		degbuf_init(&code);
		if (!formula_serialize(m->programs[i].program, &code))
			elog(ERROR, "out of memory");
		len = (uint32) code.len;
		appendBinaryStringInfo(&buf, (char *) &len, 4);
		appendBinaryStringInfo(&buf, code.data, (int) code.len);
		degbuf_free(&code);
	}
	d = palloc0(offsetof(ContractDatum, data) + buf.len);
	SET_VARSIZE(d, offsetof(ContractDatum, data) + buf.len);
	memcpy(d->data, buf.data, buf.len);
	d->version = CONTRACT_FORMAT_VERSION;
	d->status = (uint8) m->status;
	d->kind = (uint8) m->kind;
	d->created_at = m->created_at;
	d->json_off = json_off;
	d->json_len = (uint32) json.len;
	d->id_off = id_off;
	d->id_len = (uint32) strlen(m->id);
	d->programs_off = programs_off;
	d->programs_len = (uint32) (buf.len - (programs_off - offsetof(ContractDatum, data)));
	degbuf_free(&json);
	return d;
}

/* warn: report formula warnings (when a contract is written, not when it is changed) */
static ContractDatum *
contract_from_document(JsonNode *doc, bool warn)
{
	return datum_from_model(model_build(doc, NULL, 0, warn));
}

/* the model of a stored contract (its formulas already compiled) */
static ContractModel *
model_from_datum(const ContractDatum *d)
{
	JsonNode   *doc = parse_contract_text((const char *) d + d->json_off, d->json_len);

	return model_build(doc, (const uint8 *) d + d->programs_off, d->programs_len, false);
}

/* ---------- SQL: I/O ---------- */

static ContractDatum *
contract_from_text(const char *text, size_t len)
{
	return contract_from_document(parse_contract_text(text, len), true);
}


PG_FUNCTION_INFO_V1(contract_in);
Datum
contract_in(PG_FUNCTION_ARGS)
{
	char	   *s = PG_GETARG_CSTRING(0);

	PG_RETURN_POINTER(contract_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(contract_out);
Datum
contract_out(PG_FUNCTION_ARGS)
{
	ContractDatum *d = DatumGetContractP(PG_GETARG_DATUM(0));

	PG_RETURN_CSTRING(pnstrdup((const char *) d + d->json_off, d->json_len));
}

PG_FUNCTION_INFO_V1(contract_recv);
Datum
contract_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			version = pq_getmsgbyte(buf);
	int			nbytes;
	char	   *text;

	if (version != CONTRACT_FORMAT_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("unsupported binary format version %d of deg.contract", version)));
	text = pq_getmsgtext(buf, buf->len - buf->cursor, &nbytes);
	PG_RETURN_POINTER(contract_from_text(text, (size_t) nbytes));
}

PG_FUNCTION_INFO_V1(contract_send);
Datum
contract_send(PG_FUNCTION_ARGS)
{
	ContractDatum *d = DatumGetContractP(PG_GETARG_DATUM(0));
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbyte(&buf, CONTRACT_FORMAT_VERSION);
	pq_sendtext(&buf, (const char *) d + d->json_off, (int) d->json_len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

PG_FUNCTION_INFO_V1(contract_from_jsonb);
Datum
contract_from_jsonb(PG_FUNCTION_ARGS)
{
	Jsonb	   *j = PG_GETARG_JSONB_P(0);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	PG_RETURN_POINTER(contract_from_text(s, strlen(s)));
}

PG_FUNCTION_INFO_V1(contract_to_jsonb);
Datum
contract_to_jsonb(PG_FUNCTION_ARGS)
{
	ContractDatum *d = DatumGetContractP(PG_GETARG_DATUM(0));

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in,
										CStringGetDatum(pnstrdup((const char *) d + d->json_off, d->json_len))));
}

PG_FUNCTION_INFO_V1(contract_id_fn);
Datum
contract_id_fn(PG_FUNCTION_ARGS)
{
	ContractDatum *d = DatumGetContractP(PG_GETARG_DATUM(0));

	PG_RETURN_TEXT_P(cstring_to_text_with_len((const char *) d + d->id_off, (int) d->id_len));
}

PG_FUNCTION_INFO_V1(contract_status_fn);
Datum
contract_status_fn(PG_FUNCTION_ARGS)
{
	ContractDatum *d = DatumGetContractP(PG_GETARG_DATUM(0));

	PG_RETURN_TEXT_P(cstring_to_text(status_names[d->status]));
}

PG_FUNCTION_INFO_V1(contract_created_at);
Datum
contract_created_at(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(DatumGetContractP(PG_GETARG_DATUM(0))->created_at);
}

PG_FUNCTION_INFO_V1(contract_kind_fn);
Datum
contract_kind_fn(PG_FUNCTION_ARGS)
{
	static const char *const kinds[] = {"generic", "ev_charging", "p2p_fixed_price", "p2p_market"};

	PG_RETURN_TEXT_P(cstring_to_text(kinds[DatumGetContractP(PG_GETARG_DATUM(0))->kind]));
}

/* ---------- SQL: the lifecycle ---------- */

/* is seat e still blocking, or is it the open template of a role others already joined? */
static bool
seat_counts(const ContractModel *m, const RoleEntry *e)
{
	int			i;

	if (e->filled || !multi_participant_role(e->role))
		return true;
	for (i = 0; i < m->nentries; i++)
		if (m->entries[i].role == e->role && m->entries[i].filled)
			return false;
	return true;
}

static bool
source_connected(const JsonNode *s)
{
	const JsonNode *src = json_get(s, "source");

	return src != NULL && src->kind == JSON_OBJECT &&
		((json_get(src, "era") && json_get(src, "era")->kind == JSON_STRING) ||
		 (json_get(src, "meterId") && json_get(src, "meterId")->kind == JSON_STRING));
}

typedef struct MissingItem
{
	const char *role;			/* NULL for signals and telemetry */
	const char *what;			/* input name, "inputSignals.ID", ... NULL: the role is open */
} MissingItem;

/* what still blocks confirmation, in document order */
static List *
model_missing(const ContractModel *m)
{
	List	   *out = NIL;
	const JsonNode *signals = json_get(m->doc, "inputSignals");
	const JsonNode *sources = json_get(m->doc, "telemetrySources");
	size_t		k;
	int			i;

	for (i = 0; i < m->nentries; i++)
	{
		const RoleEntry *e = &m->entries[i];
		MissingItem *item;

		if (!seat_counts(m, e))
			continue;
		if (!e->filled)
		{
			item = palloc(sizeof(MissingItem));
			item->role = deg_role_name(e->role);
			item->what = NULL;
			out = lappend(out, item);
			continue;
		}
		for (k = 0; e->inputs && k < e->inputs->count; k++)
			if (input_required(e->inputs->members[k].value) && input_value(e->inputs->members[k].value) == NULL)
			{
				item = palloc(sizeof(MissingItem));
				item->role = deg_role_name(e->role);
				item->what = e->inputs->members[k].key;
				out = lappend(out, item);
			}
	}
	for (k = 0; signals && signals->kind == JSON_ARRAY && k < signals->count; k++)
	{
		const JsonNode *s = signals->items[k];

		if (json_get(s, "value") == NULL && !source_connected(s))
		{
			MissingItem *item = palloc(sizeof(MissingItem));

			item->role = NULL;
			item->what = psprintf("inputSignals.%s", json_get(s, "signalId")->text);
			out = lappend(out, item);
		}
	}
	for (k = 0; sources && sources->kind == JSON_ARRAY && k < sources->count; k++)
		if (!source_connected(sources->items[k]))
		{
			MissingItem *item = palloc(sizeof(MissingItem));

			item->role = NULL;
			item->what = psprintf("telemetrySources.%s", json_get(sources->items[k], "sourceId")->text);
			out = lappend(out, item);
		}
	return out;
}

PG_FUNCTION_INFO_V1(contract_missing);
Datum
contract_missing(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	ListCell   *lc;

	/* not get_call_result_type: its catalog copies stay in per-query memory, per call */
	InitMaterializedSRF(fcinfo, rsinfo && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	foreach(lc, model_missing(m))
	{
		MissingItem *item = lfirst(lc);
		Datum		values[2];
		bool		nulls[2] = {item->role == NULL, item->what == NULL};

		values[0] = item->role ? CStringGetTextDatum(item->role) : (Datum) 0;
		values[1] = item->what ? CStringGetTextDatum(item->what) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(contract_ready);
Datum
contract_ready(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));

	PG_RETURN_BOOL(model_missing(m) == NIL);
}

PG_FUNCTION_INFO_V1(contract_open_roles);
Datum
contract_open_roles(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	Datum		elems[DEG_ROLE_COUNT];
	bool		open[DEG_ROLE_COUNT] = {false};
	int			n = 0;
	int			i;

	for (i = 0; i < m->nentries; i++)
		if (!m->entries[i].filled)
			open[m->entries[i].role] = true;
	for (i = 0; i < DEG_ROLE_COUNT; i++)
		if (open[i])
			elems[n++] = CStringGetTextDatum(deg_role_name(i));
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* the filled seats: (role, participant) */
PG_FUNCTION_INFO_V1(contract_participants);
Datum
contract_participants(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	int			i;

	/* not get_call_result_type: its catalog copies stay in per-query memory, per call */
	InitMaterializedSRF(fcinfo, rsinfo && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	for (i = 0; i < m->nentries; i++)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (!m->entries[i].filled)
			continue;
		values[0] = CStringGetTextDatum(deg_role_name(m->entries[i].role));
		values[1] = era_datum_from_text(m->entries[i].filled_by, strlen(m->entries[i].filled_by));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

static JsonNode *
jsonb_to_node(Jsonb *j, const char *what)
{
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));
	JsonError	err;
	JsonNode   *n = json_parse(s, strlen(s), &err);

	if (n == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid %s: %s", what, err.message)));
	return n;
}

/* merge inputs into a seat's roleInputs: a verbose input gets its value set */
static void
merge_inputs(RoleEntry *e, const JsonNode *inputs, const char *contract_id)
{
	size_t		k;

	if (inputs->count == 0)
		return;
	if (e->inputs == NULL)
	{
		e->inputs = json_new_object();
		json_object_set(e->node, "roleInputs", 10, e->inputs);
	}
	for (k = 0; k < inputs->count; k++)
	{
		const JsonMember *in = &inputs->members[k];
		JsonNode   *declared = json_object_get(e->inputs, in->key, in->keylen);

		if (declared != NULL && is_verbose_input(declared))
		{
			FormulaType type = input_type(declared);

			if (in->value->kind != JSON_NULL && !value_has_type(in->value, type))
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("input \"%s\" of role %s of contract %s must be %s",
								in->key, deg_role_name(e->role), contract_id, formula_type_name(type)),
						 errdetail("The value given is %s.", json_kind_name(in->value->kind))));
			json_object_set(declared, "value", 5, json_copy(in->value));
		}
		else if (declared != NULL && input_value(declared) != NULL &&
				 in->value->kind != JSON_NULL && !value_has_type(in->value, inferred_type(declared)))
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("input \"%s\" of role %s of contract %s must be %s",
							in->key, deg_role_name(e->role), contract_id,
							formula_type_name(inferred_type(declared)))));
		else
			json_object_set(e->inputs, in->key, in->keylen, json_copy(in->value));
	}
}

PG_FUNCTION_INFO_V1(contract_fill);
Datum
contract_fill(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	char	   *role_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *participant = era_datum_to_cstring(PG_GETARG_ERA_PP(2));
	JsonNode   *inputs = jsonb_to_node(PG_GETARG_JSONB_P(3), "role inputs");
	int			role = deg_role_from_name(role_name, strlen(role_name));
	RoleEntry  *seat = NULL;
	int			i;

	if (role < 0 || !(m->has_role[role] || m->optional_role[role]))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("contract %s has no role %s", m->id, role_name)));
	if (!m->has_role[role])
	{
		/* an optional role joins: it gets its seat now */
		JsonNode   *node = json_new_object();

		json_object_set(node, "role", 4, json_new_string(deg_role_name(role), strlen(deg_role_name(role))));
		json_object_set(node, "filled", 6, json_new_bool(false));
		json_object_set(node, "filledBy", 8, json_new_null());
		json_object_set(node, "roleInputs", 10, json_new_object());
		json_array_append(json_get(m->doc, "roles"), node);
		m->entries = repalloc(m->entries, sizeof(RoleEntry) * (m->nentries + 1));
		memset(&m->entries[m->nentries], 0, sizeof(RoleEntry));
		m->entries[m->nentries].role = role;
		m->entries[m->nentries].node = node;
		m->entries[m->nentries].inputs = json_get(node, "roleInputs");
		m->nentries++;
	}
	if (inputs->kind != JSON_OBJECT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("role inputs must be a JSON object")));
	for (i = 0; i < m->nentries; i++)
	{
		RoleEntry  *e = &m->entries[i];

		if (e->role != role)
			continue;
		if (e->filled && multi_participant_role(role) && strcmp(e->filled_by, participant) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("%s has already joined role %s of contract %s", participant, role_name, m->id)));
		if (!e->filled && seat == NULL)
			seat = e;
	}
	if (seat == NULL)
	{
		for (i = 0; i < m->nentries; i++)
			if (m->entries[i].role == role)
				break;
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("role %s of contract %s is already filled", role_name, m->id),
				 errdetail("It is filled by %s.", m->entries[i].filled_by)));
	}
	if (multi_participant_role(role))
	{
		/* the open seat stays as a template; the participant takes a copy of it */
		JsonNode   *copy = json_copy(seat->node);
		JsonNode   *roles = json_get(m->doc, "roles");

		json_array_append(roles, copy);
		seat = palloc0(sizeof(RoleEntry));
		seat->role = role;
		seat->node = copy;
		seat->inputs = json_get(copy, "roleInputs");
		if (seat->inputs != NULL && seat->inputs->kind != JSON_OBJECT)
			seat->inputs = NULL;
	}
	json_object_set(seat->node, "filled", 6, json_new_bool(true));
	json_object_set(seat->node, "filledBy", 8, json_new_string(participant, strlen(participant)));
	merge_inputs(seat, inputs, m->id);
	PG_RETURN_POINTER(contract_from_document(m->doc, false));
}

/* status moves: PENDING -> ACTIVE -> COMPLETED, PENDING|ACTIVE -> TERMINATED */
static bool
status_move_allowed(ContractStatus from, ContractStatus to)
{
	return from == to ||
		(from == CONTRACT_PENDING && (to == CONTRACT_ACTIVE || to == CONTRACT_TERMINATED)) ||
		(from == CONTRACT_ACTIVE && (to == CONTRACT_COMPLETED || to == CONTRACT_TERMINATED));
}

PG_FUNCTION_INFO_V1(contract_set_status);
Datum
contract_set_status(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	char	   *to_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	int			to = -1;
	int			i;

	for (i = 0; i < 4; i++)
		if (strcmp(to_name, status_names[i]) == 0)
			to = i;
	if (to < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown contract status \"%s\"", to_name),
				 errhint("Statuses are PENDING, ACTIVE, COMPLETED and TERMINATED.")));
	if (!status_move_allowed(m->status, (ContractStatus) to))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("contract %s cannot go from %s to %s", m->id, status_names[m->status], to_name),
				 errdetail("A contract moves PENDING -> ACTIVE -> COMPLETED, or to TERMINATED from PENDING or ACTIVE.")));
	if (to == CONTRACT_ACTIVE && m->status != CONTRACT_ACTIVE && model_missing(m) != NIL)
	{
		MissingItem *first = linitial(model_missing(m));

		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("contract %s is not ready to become ACTIVE", m->id),
				 errdetail("%s", first->role == NULL ? psprintf("%s is not connected to data.", first->what)
						   : first->what == NULL ? psprintf("Role %s is open.", first->role)
						   : psprintf("Role %s has no value for required input %s.", first->role, first->what))));
	}
	json_object_set(m->doc, "status", 6, json_new_string(to_name, strlen(to_name)));
	PG_RETURN_POINTER(contract_from_document(m->doc, false));
}

/* ---------- SQL: evaluation ---------- */

static void
decimal_from_text_or_error(Decimal *d, const char *text, size_t len, const char *what)
{
	DecError	err;
	DecStatus	status = dec_from_text(d, text, len, &err);

	if (status != DEC_OK)
		decimal_report(status, &err, what);
}

/* seconds since the Unix epoch (microsecond precision) of a PostgreSQL timestamp */
static void
timestamp_seconds(int64 ts, Decimal *out)
{
	int64		us = ts + (int64) 946684800 * 1000000;	/* 2000-01-01 in Unix time */
	char		buf[48];
	uint64		mag = us < 0 ? (uint64) (-(us + 1)) + 1 : (uint64) us;

	snprintf(buf, sizeof(buf), "%s%llu.%06llu", us < 0 ? "-" : "",
			 (unsigned long long) (mag / 1000000), (unsigned long long) (mag % 1000000));
	decimal_from_text_or_error(out, buf, strlen(buf), "timestamp");
}

static void
string_value(const char *s, FormulaType type, FormulaValue *out, const char *what)
{
	if (type == FORMULA_TYPE_DURATION || (type == FORMULA_TYPE_UNKNOWN && s[0] == 'P'))
	{
		Interval   *iv = DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(s),
															   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
		int64		us = iv->time + ((int64) iv->day + (int64) iv->month * DAYS_PER_MONTH) * USECS_PER_DAY;

		out->kind = FORMULA_VALUE_NUMBER;
		timestamp_seconds(us - (int64) 946684800 * 1000000, &out->number);
		return;
	}
	if (looks_like_datetime(s))
	{
		out->kind = FORMULA_VALUE_NUMBER;
		timestamp_seconds(parse_timestamp(s, what), &out->number);
		return;
	}
	out->kind = FORMULA_VALUE_MISSING;
}

/* a JSON value as a formula value: numbers exact, date-times as epoch seconds */
static void
node_value(const JsonNode *v, FormulaType type, FormulaValue *out, const char *what)
{
	memset(out, 0, sizeof(*out));
	dec_init(&out->number);
	if (v == NULL)
	{
		out->kind = FORMULA_VALUE_MISSING;
		return;
	}
	switch (v->kind)
	{
		case JSON_NUMBER:
			out->kind = FORMULA_VALUE_NUMBER;
			decimal_from_text_or_error(&out->number, v->text, v->len, what);
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			out->kind = FORMULA_VALUE_NUMBER;
			dec_from_int64(&out->number, v->kind == JSON_TRUE ? 1 : 0, NULL);
			break;
		case JSON_STRING:
			string_value(v->text, type, out, what);
			break;
		case JSON_OBJECT:
		case JSON_ARRAY:
			out->kind = FORMULA_VALUE_OBJECT;
			out->object = v;
			break;
		default:
			out->kind = FORMULA_VALUE_MISSING;
	}
}

static void
jsonb_scalar_value(const JsonbValue *v, FormulaValue *out, const ContractProgram *program)
{
	memset(out, 0, sizeof(*out));
	dec_init(&out->number);
	switch (v->type)
	{
		case jbvNumeric:
			out->kind = FORMULA_VALUE_NUMBER;
			numeric_to_decimal(v->val.numeric, &out->number);
			break;
		case jbvBool:
			out->kind = FORMULA_VALUE_NUMBER;
			dec_from_int64(&out->number, v->val.boolean ? 1 : 0, NULL);
			break;
		case jbvString:
			/* the error context is built only here: numbers are the common case */
			string_value(pnstrdup(v->val.string.val, v->val.string.len), FORMULA_TYPE_UNKNOWN, out,
						 program_context(program));
			break;
		default:
			out->kind = FORMULA_VALUE_MISSING;
	}
}

static const JsonNode *
parameter_node(const ContractModel *m, const char *path)
{
	const JsonNode *n = json_get(m->doc, "inputParameters");
	char	   *copy = pstrdup(path);
	char	   *part;
	char	   *save = NULL;

	for (part = strtok_r(copy, ".", &save); part && n; part = strtok_r(NULL, ".", &save))
		n = (n->kind == JSON_OBJECT) ? json_get(n, part) : NULL;
	return n;
}

static const JsonNode *
signal_node(const ContractModel *m, const char *id)
{
	const JsonNode *signals = json_get(m->doc, "inputSignals");
	size_t		i;

	for (i = 0; signals && signals->kind == JSON_ARRAY && i < signals->count; i++)
		if (strcmp(json_get(signals->items[i], "signalId")->text, id) == 0)
			return json_get(signals->items[i], "value");
	return NULL;
}

/* one evaluation of one program: for one participant of its iteration role, or once */
typedef struct EvalInstance
{
	ContractProgram *program;
	const RoleEntry *participant;	/* NULL unless the formula iterates */
	FormulaValue *slots;		/* static slots filled, dynamic ones marked */
	int			nslots;
	bool	   *dynamic;		/* telemetry and signal slots, filled per call */
	int			quantity_slot;	/* the energy the formula reads, or -1 */
} EvalInstance;

typedef struct EvalCache
{
	MemoryContext cxt;			/* holds the cache */
	MemoryContext eval_cxt;		/* holds the formula stack: evaluations run in it */
	bool		evaluating;		/* in formula_eval, or an error left it */
	uint64		generation;		/* tells rebuilt evaluators apart (addresses are reused) */
	struct varlena *raw;		/* the argument as passed (maybe compressed) */
	ContractDatum *datum;		/* the contract this cache is for */
	ContractModel *model;
	int			ninstances;
	EvalInstance *instances;
	FormulaStack *stack;
	const char *currency;		/* NULL when the contract states none */
	FormulaValue *scratch;		/* room for the largest instance's slots */
	DegTariffFormulaContext tariff; /* the site's time zone for tariff() */
} EvalCache;

static const RoleEntry *
the_seat(const ContractModel *m, int role, const ContractProgram *p)
{
	const RoleEntry *found = NULL;
	int			i;

	for (i = 0; i < m->nentries; i++)
		if (m->entries[i].role == role && (m->entries[i].filled || found == NULL))
		{
			if (found != NULL && found->filled && m->entries[i].filled)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s: role %s has several participants; index the reference with [%s.era]",
								program_context(p), deg_role_name(role), deg_role_name(role))));
			found = &m->entries[i];
		}
	return found;
}

static void
fill_static_slot(const ContractModel *m, EvalInstance *inst, int i)
{
	const FormulaSlot *s = formula_program_slot(inst->program->program, i);
	const char *ctx = program_context(inst->program);
	const JsonNode *node = NULL;

	inst->dynamic[i] = false;
	switch (s->kind)
	{
		case FORMULA_REF_ROLE_INPUT:
			{
				const RoleEntry *seat = (inst->participant && s->role == inst->participant->role)
					? inst->participant : the_seat(m, s->role, inst->program);

				node = (seat && seat->inputs) ? input_value(json_get(seat->inputs, s->name)) : NULL;
				if (node != NULL && s->index_role >= 0)
				{
					/* a value per participant: an object keyed by the participant's ERA */
					const char *key = inst->participant ? inst->participant->filled_by : NULL;

					node = (node->kind == JSON_OBJECT && key) ? json_get(node, key) : NULL;
				}
				break;
			}
		case FORMULA_REF_PARAMETER:
			node = parameter_node(m, s->name);
			/* a built-in variable the contract does not define: the caller supplies it */
			if (node == NULL && is_builtin_variable(s->name))
				inst->dynamic[i] = true;
			break;
		case FORMULA_REF_SIGNAL:
			inst->dynamic[i] = true;
			node = signal_node(m, s->name);
			break;
		case FORMULA_REF_TELEMETRY:
			inst->dynamic[i] = true;
			break;
		default:
			break;
	}
	node_value(node, s->type, &inst->slots[i], ctx);

	/*
	 * An object can only be tariff()'s first argument: read it as a tariff
	 * once, here, so that evaluating prices with the parsed tariff.
	 */
	if (inst->slots[i].kind == FORMULA_VALUE_OBJECT && formula_program_uses_tariff(inst->program->program))
	{
		DegBuf		ref;
		char	   *what;

		degbuf_init(&ref);
		formula_slot_text(s, &ref);
		what = pstrdup(ref.data ? ref.data : "a role input");
		degbuf_free(&ref);
		inst->slots[i].object = deg_tariff_from_node((const JsonNode *) inst->slots[i].object, what);
	}
}

/*
 * The slot holding the energy a formula is about, if it reads one: a
 * metered field in kWh first, then deliveredQuantity, contractedQuantity,
 * and any other kWh input.  Rates per kWh (pricePerKWh) are not energy.
 */
static int
quantity_slot(const FormulaProgram *p)
{
	int			n = formula_program_nslots(p);
	int			best = -1;
	int			best_rank = 5;
	int			i;

	for (i = 0; i < n; i++)
	{
		const FormulaSlot *s = formula_program_slot(p, i);
		const char *name = s->kind == FORMULA_REF_TELEMETRY ? s->field : s->name;
		size_t		len = name ? strlen(name) : 0;
		bool		kwh = len >= 3 && pg_strcasecmp(name + len - 3, "KWh") == 0 && strstr(name, "Per") == NULL &&
			strstr(name, "per") == NULL;
		int			rank;

		if (name == NULL)
			continue;
		if (kwh && s->kind == FORMULA_REF_TELEMETRY)
			rank = 0;
		else if (strcmp(name, "deliveredQuantity") == 0)
			rank = 1;
		else if (strcmp(name, "contractedQuantity") == 0)
			rank = 2;
		else if (kwh)
			rank = 3;
		else
			continue;
		if (rank < best_rank)
		{
			best = i;
			best_rank = rank;
		}
	}
	return best;
}

static const char *
string_at(const JsonNode *obj, const char *key)
{
	const JsonNode *v = (obj && obj->kind == JSON_OBJECT) ? json_get(obj, key) : NULL;

	return (v && v->kind == JSON_STRING) ? v->text : NULL;
}

static const char *
model_currency(const ContractModel *m)
{
	const char *c = string_at(json_get(m->doc, "inputParameters"), "currency");
	int			i;

	for (i = 0; c == NULL && i < m->nentries; i++)
	{
		const JsonNode *in = m->entries[i].inputs;

		c = input_value(json_get(in, "currency")) && input_value(json_get(in, "currency"))->kind == JSON_STRING
			? input_value(json_get(in, "currency"))->text : NULL;
		if (c == NULL)
			c = string_at(input_value(json_get(in, "offerCurve")), "currency");
		if (c == NULL)
			c = string_at(input_value(json_get(in, "tariff")), "currency");
	}
	return c;
}

static uint64 evaluator_generation = 0;

/* a formula stack whose values are allocated in cxt */
static FormulaStack *
formula_stack_in(MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FormulaStack *stack = formula_stack_create();

	MemoryContextSwitchTo(old);
	return stack;
}

uint64
contract_evaluator_generation(const ContractEvaluator *ev)
{
	return ev->generation;
}

ContractEvaluator *
contract_evaluator_get(MemoryContext cxt, ContractEvaluator *cache, Datum contract)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(contract);
	ContractDatum *d;
	MemoryContext old;
	List	   *instances = NIL;
	int			maxslots = 1;
	int			i,
				k;

	/* the same argument as last time, compared as passed: no decompression per call */
	if (cache != NULL && VARSIZE_ANY(cache->raw) == VARSIZE_ANY(raw) &&
		memcmp(cache->raw, raw, VARSIZE_ANY(raw)) == 0)
		return cache;
	d = DatumGetContractP(contract);

	/*
	 * A new contract: build its model in a context of its own under the
	 * long-lived one, and drop the previous contract's, so that a caller
	 * going through many contracts keeps one model at a time.
	 */
	if (cache != NULL)
		MemoryContextDelete(cache->cxt);
	{
		MemoryContext own = AllocSetContextCreate(cxt, "deg contract evaluator", ALLOCSET_SMALL_SIZES);

		old = MemoryContextSwitchTo(own);
		cache = palloc0(sizeof(EvalCache));
		cache->cxt = own;
	}
	cache->generation = ++evaluator_generation;
	cache->raw = palloc(VARSIZE_ANY(raw));
	memcpy(cache->raw, raw, VARSIZE_ANY(raw));
	cache->datum = palloc(VARSIZE(d));
	memcpy(cache->datum, d, VARSIZE(d));
	cache->model = model_from_datum(cache->datum);
	cache->eval_cxt = AllocSetContextCreate(cache->cxt, "deg formula stack", ALLOCSET_SMALL_SIZES);
	cache->stack = formula_stack_in(cache->eval_cxt);
	cache->currency = model_currency(cache->model);
	for (i = 0; i < cache->model->nprograms; i++)
	{
		ContractProgram *p = &cache->model->programs[i];
		int			iter = formula_program_iteration_role(p->program);

		for (k = iter >= 0 ? 0 : -1; k < cache->model->nentries; k++)
		{
			EvalInstance *inst;
			int			s;

			if (k >= 0 && (cache->model->entries[k].role != iter || !cache->model->entries[k].filled))
				continue;
			inst = palloc0(sizeof(EvalInstance));
			inst->program = p;
			inst->participant = k >= 0 ? &cache->model->entries[k] : NULL;
			inst->nslots = formula_program_nslots(p->program);
			inst->slots = palloc0(sizeof(FormulaValue) * (inst->nslots + 1));
			inst->dynamic = palloc0(sizeof(bool) * (inst->nslots + 1));
			inst->quantity_slot = quantity_slot(p->program);
			for (s = 0; s < inst->nslots; s++)
				fill_static_slot(cache->model, inst, s);
			maxslots = Max(maxslots, inst->nslots);
			instances = lappend(instances, inst);
			if (k < 0)
				break;
		}
	}
	cache->ninstances = list_length(instances);
	cache->instances = palloc(sizeof(EvalInstance) * (cache->ninstances + 1));
	for (i = 0; i < cache->ninstances; i++)
		cache->instances[i] = *(EvalInstance *) list_nth(instances, i);
	cache->scratch = palloc(sizeof(FormulaValue) * maxslots);
	/* tariffs are read in the site's time zone: inputParameters.timeZone, else UTC */
	deg_tariff_formula_init(&cache->tariff, string_at(json_get(cache->model->doc, "inputParameters"), "timeZone"));
	MemoryContextSwitchTo(old);
	return cache;
}

const char *
contract_evaluator_id(const ContractEvaluator *ev)
{
	return ev->model->id;
}

const char *
contract_evaluator_currency(const ContractEvaluator *ev)
{
	return ev->currency;
}

int
contract_evaluator_count(const ContractEvaluator *ev)
{
	return ev->ninstances;
}

/* the participant of a role for one instance: its own participant, or the role's one filled seat */
static const char *
role_era(const ContractModel *m, const EvalInstance *inst, int role)
{
	const char *found = NULL;
	int			i;

	if (role < 0)
		return NULL;
	if (inst->participant && inst->participant->role == role)
		return inst->participant->filled_by;
	for (i = 0; i < m->nentries; i++)
		if (m->entries[i].role == role && m->entries[i].filled)
		{
			if (found != NULL)
				return NULL;	/* several: the flow must iterate over them */
			found = m->entries[i].filled_by;
		}
	return found;
}

/* the metric object of a metric program */
static const JsonNode *
metric_node(const ContractModel *m, const ContractProgram *p)
{
	const JsonNode *q = json_get(m->doc, "qualityMetrics");
	const JsonNode *metrics = q ? json_get(q, "metrics") : NULL;

	if (metrics == NULL || metrics->kind != JSON_ARRAY || p->number < 1 || (size_t) p->number > metrics->count)
		return NULL;
	return metrics->items[p->number - 1];
}

void
contract_evaluator_info(const ContractEvaluator *ev, int i, EvalLineInfo *info)
{
	const EvalInstance *inst = &ev->instances[i];
	const ContractProgram *p = inst->program;
	int			k;

	info->kind = program_kind_names[p->kind];
	info->id = p->id;
	info->number = p->number;
	info->from_role = p->from_role;
	info->to_role = p->to_role;
	info->participant = inst->participant ? inst->participant->filled_by : NULL;
	info->from_era = role_era(ev->model, inst, p->from_role);
	info->to_era = role_era(ev->model, inst, p->to_role);
	info->description = p->description;
	info->formula = p->formula;
	info->one_off = true;
	for (k = 0; k < inst->nslots; k++)
		if (inst->dynamic[k])
			info->one_off = false;
	info->metric = p->kind == PROGRAM_METRIC ? metric_node(ev->model, p) : NULL;
}

int64
contract_evaluator_created_at(const ContractEvaluator *ev)
{
	return ev->model->created_at;
}

/* an inputParameters value as text (a string, or a number's text), or NULL */
const char *
contract_evaluator_parameter(const ContractEvaluator *ev, const char *path)
{
	const JsonNode *n = parameter_node(ev->model, path);

	return (n && (n->kind == JSON_STRING || n->kind == JSON_NUMBER)) ? n->text : NULL;
}

/*
 * A metric's target: a number (met when the value is at least it) or
 * {"min": a, "max": b} (met when a <= value <= b; either bound may be
 * absent).  false when the metric has none.
 */
bool
contract_evaluator_metric_target(const ContractEvaluator *ev, int i, Decimal *min, bool *has_min,
								 Decimal *max, bool *has_max)
{
	const ContractProgram *p = ev->instances[i].program;
	const JsonNode *q = p->kind == PROGRAM_METRIC ? metric_node(ev->model, p) : NULL;
	const JsonNode *t = q ? json_get(q, "target") : NULL;
	const JsonNode *lo = NULL,
			   *hi = NULL;
	char	   *what;

	*has_min = *has_max = false;
	if (t == NULL || t->kind == JSON_NULL)
		return false;
	what = psprintf("target of metric \"%s\"", p->id);
	if (t->kind == JSON_NUMBER)
		lo = t;
	else if (t->kind == JSON_OBJECT)
	{
		lo = json_get(t, "min");
		hi = json_get(t, "max");
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("contract %s: the %s is a number or {\"min\", \"max\"}, not %s",
						ev->model->id, what, json_kind_name(t->kind))));
	if (lo && lo->kind == JSON_NUMBER)
	{
		decimal_from_text_or_error(min, lo->text, lo->len, what);
		*has_min = true;
	}
	if (hi && hi->kind == JSON_NUMBER)
	{
		decimal_from_text_or_error(max, hi->text, hi->len, what);
		*has_max = true;
	}
	return *has_min || *has_max;
}

static JsonbValue *
bindings_member(JsonbContainer *c, const char *key)
{
	if (c == NULL || !JsonContainerIsObject(c))
		return NULL;
	return getKeyJsonValueFromContainer(c, key, (int) strlen(key), NULL);
}

/* the built-in interval variables, when the caller gives the interval */
static bool
interval_value(const FormulaSlot *s, const EvalInterval *interval, FormulaValue *out)
{
	if (s->kind != FORMULA_REF_PARAMETER || interval == NULL || !interval->given)
		return false;
	if (strcmp(s->name, "intervalStart") == 0 || strcmp(s->name, "intervalEnd") == 0)
	{
		out->kind = FORMULA_VALUE_NUMBER;
		dec_init(&out->number);
		timestamp_seconds(s->name[8] == 'S' ? interval->start : interval->end, &out->number);
		return true;
	}
	if (strcmp(s->name, "intervalHours") == 0)
	{
		/* hours, exactly: microseconds / 3,600,000,000 */
		Decimal		us = DEC_INIT;
		Decimal		per_hour = DEC_INIT;
		DecError	derr;

		out->kind = FORMULA_VALUE_NUMBER;
		dec_init(&out->number);
		dec_from_int64(&us, interval->end - interval->start, NULL);
		dec_from_int64(&per_hour, (int64) 3600000000, NULL);
		if (dec_div(&out->number, &us, &per_hour, &derr) != DEC_OK)
			decimal_report(derr.status, &derr, "intervalHours");
		return true;
	}
	return false;
}

/*
 * The jsonb binder:
 * {"telemetrySources": {id: {field: v}}, "inputSignals": {id: v}, "deliveredQuantity": v, ...}
 */
typedef struct JsonbBinding
{
	Jsonb	   *bindings;
	JsonbValue *telemetry;
	JsonbValue *signals;
} JsonbBinding;

static void
jsonb_bind(void *context, const ContractEvaluator *ev, int instance, int slot,
		   const FormulaSlot *s, FormulaValue *value)
{
	JsonbBinding *b = (JsonbBinding *) context;
	JsonbValue *v = NULL;

	if (contract_evaluator_dynamic_slot(ev, instance, slot) == NULL)
		return;					/* bindings give telemetry, signals and built-ins only */
	if (s->kind == FORMULA_REF_TELEMETRY && b->telemetry && b->telemetry->type == jbvBinary)
	{
		JsonbValue *src = bindings_member(b->telemetry->val.binary.data, s->name);

		if (src && src->type == jbvBinary)
			v = bindings_member(src->val.binary.data, s->field);
	}
	else if (s->kind == FORMULA_REF_PARAMETER)
		v = bindings_member(&b->bindings->root, s->name);
	else if (s->kind == FORMULA_REF_SIGNAL && b->signals && b->signals->type == jbvBinary)
	{
		v = bindings_member(b->signals->val.binary.data, s->name);
		if (v && v->type == jbvBinary)
			v = bindings_member(v->val.binary.data, "value");
	}
	if (v != NULL)
		jsonb_scalar_value(v, value, ev->instances[instance].program);
}

static int
formula_error_code(const FormulaError *err)
{
	if (strstr(err->message, "division by zero") != NULL)
		return ERRCODE_DIVISION_BY_ZERO;
	/* not from the server's interrupt hook, which raises its own error */
	if (strncmp(err->message, "interrupted", 11) == 0)
		return ERRCODE_QUERY_CANCELED;
	if (strstr(err->message, "overflow") != NULL || strstr(err->message, "out of range") != NULL)
		return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
	return ERRCODE_INVALID_PARAMETER_VALUE;
}

int
contract_evaluator_nslots(const ContractEvaluator *ev, int i)
{
	return ev->instances[i].nslots;
}

const FormulaSlot *
contract_evaluator_slot(const ContractEvaluator *ev, int i, int slot)
{
	return formula_program_slot(ev->instances[i].program->program, slot);
}

const FormulaSlot *
contract_evaluator_dynamic_slot(const ContractEvaluator *ev, int i, int slot)
{
	const EvalInstance *inst = &ev->instances[i];

	return inst->dynamic[slot] ? formula_program_slot(inst->program->program, slot) : NULL;
}

bool
contract_evaluator_eval(ContractEvaluator *cache, int i, EvalBindFn bind, void *context,
						const EvalInterval *interval, Decimal *result,
						Decimal *quantity, bool *has_quantity)
{
	EvalInstance *inst = &cache->instances[i];
	FormulaValue *scratch = cache->scratch;
	FormulaEnv	env;
	FormulaError err;
	FormulaResult r;
	Decimal		value = DEC_INIT;
	MemoryContext old;
	int			k;

	/* static slots share the cache's digits: the evaluator only reads slots */
	memcpy(scratch, inst->slots, sizeof(FormulaValue) * inst->nslots);
	for (k = 0; k < inst->nslots; k++)
	{
		const FormulaSlot *s = formula_program_slot(inst->program->program, k);

		/* the binder sees every slot: it may also give a role input per interval */
		if (!(inst->dynamic[k] && interval_value(s, interval, &scratch[k])) && bind != NULL)
			bind(context, cache, i, k, s, &scratch[k]);
	}
	env.slots = scratch;
	env.nslots = inst->nslots;
	env.tariff = deg_tariff_formula;
	env.tariff_context = &cache->tariff;

	/*
	 * An error raised inside the last evaluation (a cancel or a statement
	 * timeout through the interrupt hook, out of memory) left the scratch
	 * digits of the operation it stopped in eval_cxt: start it afresh (the
	 * stack's values are valid, but go with it).  Today such an error ends
	 * the query and this cache with it (even a PL/pgSQL handler that
	 * catches it runs the expression again with a new FmgrInfo); this is
	 * for a caller that keeps an evaluator across a caught error.
	 */
	if (cache->evaluating)
	{
		MemoryContextReset(cache->eval_cxt);
		cache->stack = formula_stack_in(cache->eval_cxt);
	}

	/*
	 * The stack's values grow in place and are kept for the next call, so
	 * they must be allocated where the stack lives, not in the caller's
	 * per-row context.
	 */
	old = MemoryContextSwitchTo(cache->eval_cxt);
	cache->evaluating = true;
	r = formula_eval(inst->program->program, &env, cache->stack, &value, &err);
	cache->evaluating = false;
	MemoryContextSwitchTo(old);
	if (r == FORMULA_RESULT_VALUE)
		dec_copy(result, &value, NULL);
	dec_free(&value);
	if (r == FORMULA_RESULT_ERROR)
		ereport(ERROR,
				(errcode(formula_error_code(&err)),
				 errmsg("contract %s, %s: %s", cache->model->id, program_context(inst->program), err.message)));
	if (has_quantity)
	{
		*has_quantity = inst->quantity_slot >= 0 && scratch[inst->quantity_slot].kind == FORMULA_VALUE_NUMBER;
		if (*has_quantity)
			dec_copy(quantity, &scratch[inst->quantity_slot].number, NULL);
	}
	return r == FORMULA_RESULT_VALUE;
}

PG_FUNCTION_INFO_V1(contract_eval);
Datum
contract_eval(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ContractEvaluator *ev;
	Jsonb	   *bindings = PG_ARGISNULL(1) ? NULL : PG_GETARG_JSONB_P(1);
	int			i;

	JsonbBinding binding;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	binding.bindings = bindings;
	binding.telemetry = bindings ? bindings_member(&bindings->root, "telemetrySources") : NULL;
	binding.signals = bindings ? bindings_member(&bindings->root, "inputSignals") : NULL;
	ev = contract_evaluator_get(fcinfo->flinfo->fn_mcxt, (ContractEvaluator *) fcinfo->flinfo->fn_extra,
								PG_GETARG_DATUM(0));
	fcinfo->flinfo->fn_extra = ev;
	/* the declared OUT columns: no catalog lookup per call */
	InitMaterializedSRF(fcinfo, rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	for (i = 0; i < ev->ninstances; i++)
	{
		EvalLineInfo info;
		Decimal		result = DEC_INIT;
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		contract_evaluator_info(ev, i, &info);
		values[0] = CStringGetTextDatum(info.kind);
		values[1] = CStringGetTextDatum(info.id);
		if (info.from_role >= 0)
			values[2] = CStringGetTextDatum(deg_role_name(info.from_role));
		else
			nulls[2] = true;
		if (info.to_role >= 0)
			values[3] = CStringGetTextDatum(deg_role_name(info.to_role));
		else
			nulls[3] = true;
		if (info.participant)
			values[4] = era_datum_from_text(info.participant, strlen(info.participant));
		else
			nulls[4] = true;
		if (contract_evaluator_eval(ev, i, jsonb_bind, &binding, NULL, &result, NULL, NULL))
			values[5] = NumericGetDatum(decimal_to_numeric(&result));
		else
			nulls[5] = true;
		dec_free(&result);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * deg.contract_eval(c, line, VARIADIC name, value, ...): the value of one
 * line with its inputs given as arguments, for evaluating a formula per row
 * without building jsonb: the mapping from arguments to slots is worked out
 * once per call site (when the names are constants) and kept in fn_extra.
 */
typedef struct ScalarEval
{
	ContractEvaluator *ev;
	uint64		generation;		/* of the evaluator the mapping is for */
	char	   *line;			/* the line asked for */
	int			instance;
	int		   *slot_arg;		/* per slot: the argument with its value, or -1 */
	bool		names_stable;	/* the names are constants: map once */
	FunctionCallInfo fcinfo;	/* the current call, for the binder */
} ScalarEval;

static bool
line_matches(const EvalLineInfo *info, const char *line)
{
	size_t		klen = strlen(info->kind);

	if (strcmp(info->id, line) == 0)
		return true;
	/* "flow 1", "metric averageChargingPower", "penalty waitTime" */
	return strncmp(line, info->kind, klen) == 0 && line[klen] == ' ' && strcmp(line + klen + 1, info->id) == 0;
}

static bool
slot_named(const FormulaSlot *s, const char *name)
{
	size_t		n;

	switch (s->kind)
	{
		case FORMULA_REF_TELEMETRY:
			if (strncmp(name, "telemetrySources.", 17) != 0)
				return false;
			name += 17;
			n = strlen(s->name);
			return strncmp(name, s->name, n) == 0 && name[n] == '.' && strcmp(name + n + 1, s->field) == 0;
		case FORMULA_REF_SIGNAL:
			if (strncmp(name, "inputSignals.", 13) != 0)
				return false;
			name += 13;
			n = strlen(s->name);
			return strncmp(name, s->name, n) == 0 && (name[n] == '\0' || strcmp(name + n, ".value") == 0);
		case FORMULA_REF_PARAMETER:
			if (strncmp(name, "inputParameters.", 16) == 0)
				name += 16;
			return strcmp(name, s->name) == 0;
		default:
			return false;
	}
}

/* the name argument a as a C string: text, or an untyped literal */
static char *
input_name(FunctionCallInfo fcinfo, int a)
{
	Oid			type = get_fn_expr_argtype(fcinfo->flinfo, a);

	if (PG_ARGISNULL(a) || (type != TEXTOID && type != UNKNOWNOID))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("argument %d of deg.contract_eval must be the text name of an input", a + 1),
				 errdetail("Inputs follow the line as pairs: name, value.")));
	return type == TEXTOID ? text_to_cstring(PG_GETARG_TEXT_PP(a)) : pstrdup(PG_GETARG_CSTRING(a));
}

static void
scalar_map(ScalarEval *se, FunctionCallInfo fcinfo, const char *line)
{
	ContractEvaluator *ev = se->ev;
	int			nargs = PG_NARGS();
	int			i,
				a;

	se->instance = -1;
	for (i = 0; i < ev->ninstances; i++)
	{
		EvalLineInfo info;

		contract_evaluator_info(ev, i, &info);
		if (!line_matches(&info, line))
			continue;
		if (se->instance >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("line \"%s\" of contract %s has one value per participant", line, ev->model->id),
					 errhint("Use deg.contract_eval(c, bindings jsonb) for the per-participant rows.")));
		se->instance = i;
	}
	if (se->instance < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("contract %s has no line \"%s\"", ev->model->id, line),
				 errdetail("A line is a flow number (\"1\" or \"flow 1\"), a metricId, or \"penalty\" and a metricId.")));
	if (se->slot_arg)
		pfree(se->slot_arg);
	se->slot_arg = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, sizeof(int) * (ev->instances[se->instance].nslots + 1));
	for (i = 0; i < ev->instances[se->instance].nslots; i++)
		se->slot_arg[i] = -1;
	se->names_stable = true;
	for (a = 2; a + 1 < nargs; a += 2)
	{
		Oid			type = get_fn_expr_argtype(fcinfo->flinfo, a + 1);
		char	   *name = input_name(fcinfo, a);
		bool		found = false;

		if (type != NUMERICOID && type != INT2OID && type != INT4OID && type != INT8OID &&
			type != FLOAT4OID && type != FLOAT8OID && type != TIMESTAMPTZOID)
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("input %s of deg.contract_eval has type %s", name, format_type_be(type)),
					 errdetail("An input value is a number or a timestamptz.")));
		if (!get_fn_expr_arg_stable(fcinfo->flinfo, a))
			se->names_stable = false;
		for (i = 0; i < ev->instances[se->instance].nslots; i++)
		{
			const FormulaSlot *s = contract_evaluator_dynamic_slot(ev, se->instance, i);

			if (s != NULL && slot_named(s, name))
			{
				se->slot_arg[i] = a + 1;
				found = true;
			}
		}
		if (!found)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("line \"%s\" of contract %s does not read input \"%s\"", line, ev->model->id, name),
					 errdetail("Inputs are named as formulas write them: telemetrySources.ID.FIELD, inputSignals.ID, or a built-in variable such as deliveredQuantity.")));
		pfree(name);
	}
	if (nargs % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("input \"%s\" of deg.contract_eval has no value", input_name(fcinfo, nargs - 1))));
}

static void
scalar_bind(void *context, const ContractEvaluator *ev pg_attribute_unused(), int instance pg_attribute_unused(),
			int slot, const FormulaSlot *s pg_attribute_unused(), FormulaValue *value)
{
	ScalarEval *se = (ScalarEval *) context;
	FunctionCallInfo fcinfo = se->fcinfo;
	int			a = se->slot_arg[slot];
	Datum		d;

	if (a < 0 || PG_ARGISNULL(a))
		return;
	d = PG_GETARG_DATUM(a);
	memset(value, 0, sizeof(*value));
	dec_init(&value->number);
	value->kind = FORMULA_VALUE_NUMBER;
	switch (get_fn_expr_argtype(fcinfo->flinfo, a))
	{
		case NUMERICOID:
			numeric_to_decimal(DatumGetNumeric(d), &value->number);
			break;
		case INT2OID:
			dec_from_int64(&value->number, DatumGetInt16(d), NULL);
			break;
		case INT4OID:
			dec_from_int64(&value->number, DatumGetInt32(d), NULL);
			break;
		case INT8OID:
			dec_from_int64(&value->number, DatumGetInt64(d), NULL);
			break;
		case FLOAT4OID:
		case FLOAT8OID:
			{
				DecError	err;
				double		f = get_fn_expr_argtype(fcinfo->flinfo, a) == FLOAT4OID
					? (double) DatumGetFloat4(d) : DatumGetFloat8(d);
				DecStatus	st = dec_from_double(&value->number, f, &err);

				if (st != DEC_OK)
					decimal_report(st, &err, input_name(fcinfo, a - 1));
				break;
			}
		default:				/* timestamptz, checked when mapped */
			timestamp_seconds(DatumGetTimestampTz(d), &value->number);
			break;
	}
}

PG_FUNCTION_INFO_V1(contract_eval_line);
Datum
contract_eval_line(PG_FUNCTION_ARGS)
{
	ScalarEval *se = (ScalarEval *) fcinfo->flinfo->fn_extra;
	ContractEvaluator *ev;
	text	   *line;
	Decimal		result = DEC_INIT;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	if (se == NULL)
	{
		se = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(ScalarEval));
		fcinfo->flinfo->fn_extra = se;
	}
	ev = contract_evaluator_get(fcinfo->flinfo->fn_mcxt, se->ev, PG_GETARG_DATUM(0));
	line = PG_GETARG_TEXT_PP(1);
	se->ev = ev;
	if (contract_evaluator_generation(ev) != se->generation || se->line == NULL ||
		strlen(se->line) != VARSIZE_ANY_EXHDR(line) ||
		memcmp(se->line, VARDATA_ANY(line), VARSIZE_ANY_EXHDR(line)) != 0 || !se->names_stable)
	{
		se->generation = contract_evaluator_generation(ev);
		if (se->line)
			pfree(se->line);
		se->line = MemoryContextStrdup(fcinfo->flinfo->fn_mcxt, text_to_cstring(line));
		scalar_map(se, fcinfo, se->line);
	}
	se->fcinfo = fcinfo;
	if (!contract_evaluator_eval(ev, se->instance, scalar_bind, se, NULL, &result, NULL, NULL))
		PG_RETURN_NULL();
	PG_RETURN_NUMERIC(decimal_to_numeric(&result));
}

/* ---------- SQL: integrity ---------- */

/* SHA-256 of the canonical contract without its integrity block (which holds the signature) */
static void
contract_digest(const ContractModel *m, uint8 out[DEG_SHA256_BYTES])
{
	JsonNode   *copy = json_copy(m->doc);
	JsonNode   *verification = json_get(copy, "verification");
	DegBuf		buf;
	JsonError	err;

	if (verification != NULL && verification->kind == JSON_OBJECT)
	{
		json_free(json_object_remove(verification, "integrity", 9));
		if (verification->count == 0)
			json_free(json_object_remove(copy, "verification", 12));
	}
	degbuf_init(&buf);
	if (!jcs_serialize(copy, &buf, &err))
		contract_error("cannot canonicalize: %s", err.message);
	deg_sha256((const uint8 *) buf.data, buf.len, out);
	degbuf_free(&buf);
	json_free(copy);
}

PG_FUNCTION_INFO_V1(contract_hash);
Datum
contract_hash(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	bytea	   *out = palloc(VARHDRSZ + DEG_SHA256_BYTES);

	SET_VARSIZE(out, VARHDRSZ + DEG_SHA256_BYTES);
	contract_digest(m, (uint8 *) VARDATA(out));
	PG_RETURN_BYTEA_P(out);
}

PG_FUNCTION_INFO_V1(contract_sign);
Datum
contract_sign(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	char	   *signer = era_datum_to_cstring(PG_GETARG_ERA_PP(1));
	bytea	   *key = PG_GETARG_BYTEA_PP(2);
	size_t		keylen = VARSIZE_ANY_EXHDR(key);
	uint8		secret[ED25519_SECRET_KEY_BYTES];
	uint8		digest[DEG_SHA256_BYTES];
	uint8		sig[ED25519_SIGNATURE_BYTES];
	uint8		pk[ED25519_PUBLIC_KEY_BYTES];
	char		hex[CODEC_HEX_SIZE(DEG_SHA256_BYTES)];
	char		sigtext[2 + CODEC_BASE58_SIZE(ED25519_SIGNATURE_BYTES)];
	char		did[CODEC_DIDKEY_SIZE];
	size_t		siglen;
	Ed25519Error eerr;
	CodecError	cerr;
	JsonNode   *verification;
	JsonNode   *integrity;
	bool		ok;

	if (keylen != ED25519_SEED_BYTES && keylen != ED25519_SECRET_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Ed25519 secret key"),
				 errdetail("A secret key is 32 or 64 bytes; the argument has %zu.", keylen)));
	if (!deg_sodium_init())
		elog(ERROR, "libsodium could not be initialized");
	memcpy(secret, VARDATA_ANY(key), keylen);
	contract_digest(m, digest);
	ok = ed25519_sign(secret, keylen, digest, sizeof(digest), sig, &eerr) &&
		ed25519_public_key(secret, keylen, pk, &eerr);
	sodium_memzero(secret, sizeof(secret));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Ed25519 secret key: %s", eerr.detail)));
	codec_hex_encode(digest, sizeof(digest), hex, sizeof(hex));
	sigtext[0] = 'z';
	codec_base58_encode(sig, sizeof(sig), sigtext + 1, sizeof(sigtext) - 2, &siglen, &cerr);
	sigtext[1 + siglen] = '\0';
	codec_didkey_encode(pk, sizeof(pk), did, &cerr);

	verification = json_get(m->doc, "verification");
	if (verification == NULL || verification->kind != JSON_OBJECT)
	{
		verification = json_new_object();
		json_object_set(m->doc, "verification", 12, verification);
	}
	integrity = json_new_object();
	json_object_set(integrity, "hash", 4, json_new_string(hex, strlen(hex)));
	json_object_set(integrity, "algorithm", 9, json_new_string("SHA256", 6));
	json_object_set(integrity, "signedBy", 8, json_new_string(signer, strlen(signer)));
	json_object_set(integrity, "signature", 9, json_new_string(sigtext, strlen(sigtext)));
	json_object_set(integrity, "publicKeyEndpoint", 17, json_new_string(did, strlen(did)));
	json_object_set(verification, "integrity", 9, integrity);
	PG_RETURN_POINTER(contract_from_document(m->doc, false));
}

PG_FUNCTION_INFO_V1(contract_verify);
Datum
contract_verify(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(0)));
	bytea	   *pk = PG_GETARG_BYTEA_PP(1);
	const JsonNode *verification = json_get(m->doc, "verification");
	const JsonNode *integrity = verification ? json_get(verification, "integrity") : NULL;
	const JsonNode *hash = integrity ? json_get(integrity, "hash") : NULL;
	const JsonNode *signature = integrity ? json_get(integrity, "signature") : NULL;
	uint8		digest[DEG_SHA256_BYTES];
	uint8		sig[ED25519_SIGNATURE_BYTES];
	char		hex[CODEC_HEX_SIZE(DEG_SHA256_BYTES)];
	size_t		siglen = 0;
	CodecError	cerr;
	Ed25519Error eerr;

	if (VARSIZE_ANY_EXHDR(pk) != ED25519_PUBLIC_KEY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Ed25519 public key"),
				 errdetail("A public key is 32 bytes; the argument has %zu.", (size_t) VARSIZE_ANY_EXHDR(pk))));
	if (hash == NULL || hash->kind != JSON_STRING || signature == NULL || signature->kind != JSON_STRING ||
		signature->len < 2 || signature->text[0] != 'z')
		PG_RETURN_BOOL(false);
	contract_digest(m, digest);
	codec_hex_encode(digest, sizeof(digest), hex, sizeof(hex));
	if (strcmp(hex, hash->text) != 0)
		PG_RETURN_BOOL(false);	/* the contract changed after signing */
	if (!codec_base58_decode(signature->text + 1, signature->len - 1, sig, sizeof(sig), &siglen, &cerr) ||
		siglen != sizeof(sig))
		PG_RETURN_BOOL(false);
	if (!deg_sodium_init())
		elog(ERROR, "libsodium could not be initialized");
	PG_RETURN_BOOL(ed25519_verify((const uint8 *) VARDATA_ANY(pk), ED25519_PUBLIC_KEY_BYTES,
								  digest, sizeof(digest), sig, sizeof(sig), &eerr) == ED25519_VALID);
}

/* ---------- SQL: formula_check ---------- */

static void
formula_check_rows(FunctionCallInfo fcinfo, text *formula, const FormulaScope *scope)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FormulaWarnings warnings = {NULL, 0};
	FormulaError err;
	FormulaProgram *p;
	int			i;

	/* not get_call_result_type: its catalog copies stay in per-query memory, per call */
	InitMaterializedSRF(fcinfo, rsinfo && rsinfo->expectedDesc ? MAT_SRF_USE_EXPECTED_DESC : 0);
	p = formula_compile(VARDATA_ANY(formula), VARSIZE_ANY_EXHDR(formula), scope, &warnings, &err);
	if (p == NULL)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int32GetDatum((int32) err.column);
		values[1] = CStringGetTextDatum("error");
		values[2] = CStringGetTextDatum(err.message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (i = 0; i < warnings.count; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = Int32GetDatum((int32) warnings.items[i].column);
		values[1] = CStringGetTextDatum("warning");
		values[2] = CStringGetTextDatum(warnings.items[i].message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	formula_warnings_free(&warnings);
	if (p != NULL)
		formula_program_free(p);
}

PG_FUNCTION_INFO_V1(formula_check_syntax);
Datum
formula_check_syntax(PG_FUNCTION_ARGS)
{
	formula_check_rows(fcinfo, PG_GETARG_TEXT_PP(0), NULL);
	return (Datum) 0;
}

PG_FUNCTION_INFO_V1(formula_check_contract);
Datum
formula_check_contract(PG_FUNCTION_ARGS)
{
	ContractModel *m = model_from_datum(DatumGetContractP(PG_GETARG_DATUM(1)));

	formula_check_rows(fcinfo, PG_GETARG_TEXT_PP(0), &m->scope);
	return (Datum) 0;
}
