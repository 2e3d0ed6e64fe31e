/*
 * test_formula.c: unit, robustness and property tests of the formula
 * compiler and evaluator in src/core/formula.c.
 *
 * Scopes are built like the DEG examples (EV charging, P2P fixed price with
 * a grid operator, P2P market with PROSUMER indexing, a tariff-priced
 * trade); every formula of SPEC.md section 11 must compile against one.
 */
#include "core/formula.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

/* ---------- scopes ---------- */

static const FormulaField ev_seller[] = {
	{"pricePerKWh", FORMULA_TYPE_NUMBER}, {"currency", FORMULA_TYPE_STRING},
	{"connectorType", FORMULA_TYPE_STRING}, {"maxPowerKW", FORMULA_TYPE_NUMBER},
	{"minPowerKW", FORMULA_TYPE_NUMBER}, {"location", FORMULA_TYPE_OBJECT},
	{"buyerFinderFee", FORMULA_TYPE_OBJECT}, {"idleFeePolicy", FORMULA_TYPE_OBJECT}
};
static const FormulaScopeRole ev_roles[] = {
	{DEG_ROLE_SELLER, ev_seller, 8}, {DEG_ROLE_BUYER, NULL, 0}
};
static const FormulaField ev_params[] = {
	{"validityWindow.startTime", FORMULA_TYPE_DATE_TIME},
	{"validityWindow.endTime", FORMULA_TYPE_DATE_TIME},
	{"gracePeriodMinutes", FORMULA_TYPE_NUMBER}
};
static const char *const ev_fields[] = {
	"arrivalTime", "chargeStartTime", "chargeEndTime", "energyDelivered", "power"
};
static const FormulaScopeSource ev_sources[] = {
	{"cdr-ev-charger-ccs2-001", ev_fields, 5}
};
static const char *const ev_signals[] = {"price-signal", "gridLoad"};
static const FormulaScope ev_scope = {
	ev_roles, 2, ev_params, 3, ev_signals, 2, ev_sources, 1, false
};

static const FormulaField p2p_seller[] = {
	{"sourceMeterId", FORMULA_TYPE_STRING}, {"sourceType", FORMULA_TYPE_STRING},
	{"pricePerKWh", FORMULA_TYPE_NUMBER}, {"currency", FORMULA_TYPE_STRING}
};
static const FormulaField p2p_buyer[] = {
	{"targetMeterId", FORMULA_TYPE_STRING}, {"contractedQuantity", FORMULA_TYPE_NUMBER},
	{"tradeStartTime", FORMULA_TYPE_DATE_TIME}, {"tradeEndTime", FORMULA_TYPE_DATE_TIME}
};
static const FormulaField p2p_grid[] = {
	{"wheelingCharges", FORMULA_TYPE_NUMBER},
	{"current_buyer_trades_total", FORMULA_TYPE_NUMBER},
	{"current_seller_trade_total", FORMULA_TYPE_NUMBER},
	{"buyer_trade_cap", FORMULA_TYPE_NUMBER}, {"seller_trade_cap", FORMULA_TYPE_NUMBER}
};
static const FormulaScopeRole p2p_roles[] = {
	{DEG_ROLE_SELLER, p2p_seller, 4}, {DEG_ROLE_BUYER, p2p_buyer, 4},
	{DEG_ROLE_GRID_OPERATOR, p2p_grid, 5}
};
static const FormulaScope p2p_scope = {p2p_roles, 3, NULL, 0, NULL, 0, NULL, 0, false};

static const FormulaField mkt_mca[] = {
	{"marketMakingFee", FORMULA_TYPE_NUMBER}, {"clearingPrice", FORMULA_TYPE_NUMBER},
	{"clearedPower", FORMULA_TYPE_NUMBER}
};
static const FormulaField mkt_prosumer[] = {
	{"sourceMeterId", FORMULA_TYPE_STRING}, {"sourceType", FORMULA_TYPE_STRING},
	{"offerCurve", FORMULA_TYPE_OFFER_CURVE}, {"inverterId", FORMULA_TYPE_STRING}
};
static const FormulaField mkt_grid[] = {{"wheelingCharges", FORMULA_TYPE_NUMBER}};
static const FormulaScopeRole mkt_roles[] = {
	{DEG_ROLE_MARKET_CLEARING_AGENT, mkt_mca, 3}, {DEG_ROLE_PROSUMER, mkt_prosumer, 4},
	{DEG_ROLE_GRID_OPERATOR, mkt_grid, 1}
};
static const FormulaScope mkt_scope = {mkt_roles, 3, NULL, 0, NULL, 0, NULL, 0, false};

static const FormulaField tar_seller[] = {
	{"sourceMeterId", FORMULA_TYPE_STRING}, {"sourceType", FORMULA_TYPE_STRING},
	{"tariff", FORMULA_TYPE_OBJECT}
};
static const FormulaScopeRole tar_roles[] = {
	{DEG_ROLE_SELLER, tar_seller, 3}, {DEG_ROLE_BUYER, p2p_buyer, 4}
};
static const FormulaField tar_params[] = {
	{"validityWindow.startTime", FORMULA_TYPE_DATE_TIME},
	{"validityWindow.endTime", FORMULA_TYPE_DATE_TIME},
	{"pricingModel", FORMULA_TYPE_STRING}, {"deliveredQuantity", FORMULA_TYPE_NUMBER}
};
static const FormulaScope tar_scope = {tar_roles, 2, tar_params, 4, NULL, 0, NULL, 0, false};

/* the aggregation example and the schema snippets: bare names as parameters */
static const FormulaField misc_params[] = {
	{"marketClearingPrice", FORMULA_TYPE_NUMBER}, {"marketMakingFee", FORMULA_TYPE_NUMBER},
	{"clearedPower", FORMULA_TYPE_NUMBER}, {"basePrice", FORMULA_TYPE_NUMBER},
	{"currentLoadPercent", FORMULA_TYPE_NUMBER}, {"priceAdderPerPercent", FORMULA_TYPE_NUMBER},
	{"waitTime", FORMULA_TYPE_NUMBER}, {"target", FORMULA_TYPE_NUMBER},
	{"penaltyRate", FORMULA_TYPE_NUMBER}, {"a", FORMULA_TYPE_NUMBER},
	{"b", FORMULA_TYPE_NUMBER}, {"x", FORMULA_TYPE_UNKNOWN}, {"y", FORMULA_TYPE_UNKNOWN},
	{"fee", FORMULA_TYPE_NUMBER}, {"flag", FORMULA_TYPE_BOOLEAN},
	{"label", FORMULA_TYPE_STRING}
};
static const FormulaField misc_seller[] = {{"fee", FORMULA_TYPE_NUMBER}};
static const FormulaScopeRole misc_roles[] = {{DEG_ROLE_SELLER, misc_seller, 1}};
static const FormulaScope misc_scope = {misc_roles, 1, misc_params, 16, NULL, 0, NULL, 0, false};

/* the same without the SELLER, so that "fee" is not ambiguous */
static const FormulaScope calc_scope = {NULL, 0, misc_params, 16, NULL, 0, NULL, 0, false};

/* ---------- helpers ---------- */

static char out_buf[8][2048];
static int	out_next;

static char *
out(void)
{
	return out_buf[out_next++ % 8];
}

/* "OK" or the error message */
static const char *
cerr(const FormulaScope *scope, const char *text)
{
	FormulaError err;
	FormulaProgram *p = formula_compile(text, strlen(text), scope, NULL, &err);
	char	   *o = out();

	if (p == NULL)
	{
		snprintf(o, 2048, "%s", err.message);
		return o;
	}
	formula_program_free(p);
	return "OK";
}

static size_t
cerr_column(const FormulaScope *scope, const char *text)
{
	FormulaError err;
	FormulaProgram *p = formula_compile(text, strlen(text), scope, NULL, &err);

	formula_program_free(p);
	return p == NULL ? err.column : 0;
}

/* bindings: reference text (as formula_slot_text writes it) = value text, "MISSING" or "OBJECT" */
typedef struct Binding
{
	const char *ref;
	const char *value;
} Binding;

typedef struct FakeTariff
{
	const char *price;			/* per kWh */
} FakeTariff;

static FakeTariff the_tariff = {"0.15"};

/* a stand-in engine: price per kWh when end > start, an error for a negative quantity */
static FormulaResult
fake_tariff(void *context, const FormulaValue *args, int nargs, Decimal *result,
			FormulaError *err)
{
	const FakeTariff *t = args[0].object;
	int		   *calls = context;

	(*calls)++;
	if (args[0].kind != FORMULA_VALUE_OBJECT || t == NULL)
	{
		snprintf(err->message, sizeof(err->message), "no tariff");
		return FORMULA_RESULT_ERROR;
	}
	if (nargs >= 4 && dec_sign(&args[3].number) < 0)
	{
		snprintf(err->message, sizeof(err->message), "negative quantity");
		return FORMULA_RESULT_ERROR;
	}
	if (nargs >= 3 && dec_cmp(&args[2].number, &args[1].number) <= 0)
		return FORMULA_RESULT_MISSING;
	return dec_from_text(result, t->price, strlen(t->price), NULL) == DEC_OK
		? FORMULA_RESULT_VALUE : FORMULA_RESULT_ERROR;
}

static int	tariff_calls;

/* fill values for p's slots from bindings; unbound slots are missing */
static FormulaValue *
bind(const FormulaProgram *p, const Binding *b, int nb)
{
	int			n = formula_program_nslots(p);
	FormulaValue *v = calloc((size_t) (n > 0 ? n : 1), sizeof(FormulaValue));
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		DegBuf		t;

		degbuf_init(&t);
		formula_slot_text(formula_program_slot(p, i), &t);
		dec_init(&v[i].number);
		v[i].kind = FORMULA_VALUE_MISSING;
		for (j = 0; j < nb; j++)
			if (strcmp(b[j].ref, t.data) == 0)
			{
				if (strcmp(b[j].value, "MISSING") == 0)
					v[i].kind = FORMULA_VALUE_MISSING;
				else if (strcmp(b[j].value, "OBJECT") == 0)
				{
					v[i].kind = FORMULA_VALUE_OBJECT;
					v[i].object = &the_tariff;
				}
				else
				{
					v[i].kind = FORMULA_VALUE_NUMBER;
					if (dec_from_text(&v[i].number, b[j].value, strlen(b[j].value), NULL) != DEC_OK)
						printf("# bad test value %s\n", b[j].value);
				}
			}
		degbuf_free(&t);
	}
	return v;
}

static void
unbind(const FormulaProgram *p, FormulaValue *v)
{
	int			i;

	for (i = 0; i < formula_program_nslots(p); i++)
		dec_free(&v[i].number);
	free(v);
}

/* result text, "MISSING", or "ERROR: message" */
static const char *
run_program(const FormulaProgram *p, const Binding *b, int nb, FormulaStack *stack)
{
	FormulaValue *v = bind(p, b, nb);
	FormulaEnv	env;
	FormulaError err;
	Decimal		r = DEC_INIT;
	char	   *o = out();

	env.slots = v;
	env.nslots = formula_program_nslots(p);
	env.tariff = fake_tariff;
	env.tariff_context = &tariff_calls;
	switch (formula_eval(p, &env, stack, &r, &err))
	{
		case FORMULA_RESULT_VALUE:
			if (dec_text_size(&r) < 2048)
				dec_format(&r, o);
			else
				snprintf(o, 2048, "(%zu characters)", dec_text_size(&r) - 1);
			break;
		case FORMULA_RESULT_MISSING:
			snprintf(o, 2048, "MISSING");
			break;
		default:
			snprintf(o, 2048, "ERROR: %s", err.message);
			break;
	}
	dec_free(&r);
	unbind(p, v);
	return o;
}

static const char *
ev(const FormulaScope *scope, const char *text, const Binding *b, int nb)
{
	FormulaError err;
	FormulaProgram *p = formula_compile(text, strlen(text), scope, NULL, &err);
	const char *r;
	char	   *o;

	if (p == NULL)
	{
		o = out();
		snprintf(o, 2048, "COMPILE: %s", err.message);
		return o;
	}
	r = run_program(p, b, nb, NULL);
	formula_program_free(p);
	return r;
}

/* a formula of numbers only */
static const char *
calc(const char *text)
{
	return ev(&calc_scope, text, NULL, 0);
}

static FormulaProgram *
compile_ok(const FormulaScope *scope, const char *text)
{
	FormulaError err;
	FormulaProgram *p = formula_compile(text, strlen(text), scope, NULL, &err);

	if (p == NULL)
		printf("# compile failed: %s: %s\n", text, err.message);
	return p;
}

static char *
repeat_str(const char *s, int n)
{
	size_t		len = strlen(s);
	char	   *r = malloc(len * (size_t) n + 1);
	int			i;

	for (i = 0; i < n; i++)
		memcpy(r + len * (size_t) i, s, len);
	r[len * (size_t) n] = '\0';
	return r;
}

/* ---------- the formulas of SPEC.md section 11 ---------- */

#define EV_FLOW "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr-ev-charger-ccs2-001.energyKWh"
#define EV_FLOW_VALUE "roles.SELLER.roleInputs.pricePerKWh.value × telemetrySources.cdr-ev-charger-ccs2-001.energyKWh"
#define EV_METRIC "telemetrySources.cdr-ev-charger-ccs2-001.energyKWh / ((telemetrySources.cdr-ev-charger-ccs2-001.endTime - telemetrySources.cdr-ev-charger-ccs2-001.startTime) / 3600)"
#define P2P_ENERGY "roles.BUYER.roleInputs.contractedQuantity × roles.SELLER.roleInputs.pricePerKWh"
#define P2P_WHEEL "roles.BUYER.roleInputs.contractedQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges"
#define MKT_FLOW "(roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice + roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee) × roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]"
#define MKT_WHEEL "abs(roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]) × roles.GRID_OPERATOR.roleInputs.wheelingCharges"
#define TARIFF_FLOW "computeTariffPrice(roles.SELLER.roleInputs.tariff, roles.BUYER.roleInputs.tradeStartTime, roles.BUYER.roleInputs.tradeEndTime, deliveredQuantity) × deliveredQuantity"
#define SCHEMA_MKT "(marketClearingPrice + marketMakingFee) × clearedPower"
#define AGG "basePrice + (currentLoadPercent * priceAdderPerPercent)"
#define PENALTY "max(0, (waitTime - target) * penaltyRate)"

static const char *const TELEMETRY_WARNING_TAIL =
	" (it declares arrivalTime, chargeStartTime, chargeEndTime, energyDelivered, power)";

static void
test_spec_formulas(void)
{
	static const struct
	{
		const FormulaScope *scope;
		const char *text;
		int			nslots;
		int			iteration_role;
		int			nwarnings;
	}			cases[] = {
		{&ev_scope, EV_FLOW_VALUE, 2, -1, 1},
		{&ev_scope, EV_FLOW, 2, -1, 1},
		{&ev_scope, EV_METRIC, 3, -1, 3},
		{&p2p_scope, P2P_ENERGY, 2, -1, 0},
		{&p2p_scope, P2P_WHEEL, 2, -1, 0},
		{&mkt_scope, MKT_FLOW, 3, DEG_ROLE_PROSUMER, 0},
		{&mkt_scope, MKT_WHEEL, 2, DEG_ROLE_PROSUMER, 0},
		{&tar_scope, TARIFF_FLOW, 4, -1, 0},
		{&misc_scope, SCHEMA_MKT, 3, -1, 0},
		{&misc_scope, AGG, 3, -1, 0},
		{&misc_scope, PENALTY, 3, -1, 0},
	};
	int			i;

	for (i = 0; i < (int) (sizeof(cases) / sizeof(cases[0])); i++)
	{
		FormulaError err;
		FormulaWarnings w;
		FormulaProgram *p = formula_compile(cases[i].text, strlen(cases[i].text),
											cases[i].scope, &w, &err);

		CHECK(p != NULL, "spec formula %d compiles: %s", i, p ? "" : err.message);
		if (p == NULL)
			continue;
		CHECK(formula_program_nslots(p) == cases[i].nslots, "spec formula %d: %d slots, want %d",
			  i, formula_program_nslots(p), cases[i].nslots);
		CHECK(formula_program_iteration_role(p) == cases[i].iteration_role,
			  "spec formula %d: iteration role %d", i, formula_program_iteration_role(p));
		CHECK(w.count == cases[i].nwarnings, "spec formula %d: %d warnings, want %d",
			  i, w.count, cases[i].nwarnings);
		formula_warnings_free(&w);
		formula_program_free(p);

		/* and as a syntax check without a scope */
		CHECK_STR(cerr(NULL, cases[i].text), "OK", "spec formula %d without a scope", i);
	}
}

static void
test_slots_and_warnings(void)
{
	FormulaError err;
	FormulaWarnings w;
	FormulaProgram *p;
	DegBuf		t;
	char		want[512];

	p = formula_compile(EV_FLOW, strlen(EV_FLOW), &ev_scope, &w, &err);
	CHECK(p != NULL && w.count == 1, "EV flow: one warning");
	if (p != NULL && w.count == 1)
	{
		snprintf(want, sizeof(want), "telemetry source \"cdr-ev-charger-ccs2-001\" does not declare field \"energyKWh\" at column 39%s",
				 TELEMETRY_WARNING_TAIL);
		CHECK_STR(w.items[0].message, want, "EV flow warning text");
		CHECK(w.items[0].column == 39, "EV flow warning column %zu", w.items[0].column);
		CHECK(formula_program_slot(p, 0)->kind == FORMULA_REF_ROLE_INPUT &&
			  formula_program_slot(p, 0)->role == DEG_ROLE_SELLER &&
			  strcmp(formula_program_slot(p, 0)->name, "pricePerKWh") == 0 &&
			  formula_program_slot(p, 0)->type == FORMULA_TYPE_NUMBER &&
			  formula_program_slot(p, 0)->index_role == -1, "EV flow slot 0");
		CHECK(formula_program_slot(p, 1)->kind == FORMULA_REF_TELEMETRY &&
			  strcmp(formula_program_slot(p, 1)->name, "cdr-ev-charger-ccs2-001") == 0 &&
			  strcmp(formula_program_slot(p, 1)->field, "energyKWh") == 0, "EV flow slot 1");
		CHECK(formula_program_slot(p, 2) == NULL, "no slot 2");
		CHECK(!formula_program_uses_tariff(p), "EV flow uses no tariff");
	}
	formula_warnings_free(&w);
	formula_program_free(p);

	/* with and without .value, and a bare name: one slot */
	p = compile_ok(&p2p_scope, "roles.BUYER.roleInputs.contractedQuantity + roles.BUYER.roleInputs.contractedQuantity.value + contractedQuantity");
	CHECK(p != NULL && formula_program_nslots(p) == 1, "one slot for three spellings");
	formula_program_free(p);

	/* slot text, including an index */
	p = compile_ok(&mkt_scope, MKT_FLOW);
	degbuf_init(&t);
	if (p != NULL)
		formula_slot_text(formula_program_slot(p, 2), &t);
	CHECK_STR(t.data ? t.data : "", "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]",
			  "slot text with index");
	degbuf_free(&t);
	formula_program_free(p);

	/* a declared field gives no warning; a repeated undeclared one warns once */
	p = formula_compile("telemetrySources.cdr-ev-charger-ccs2-001.power * 2 + telemetrySources.cdr-ev-charger-ccs2-001.foo - telemetrySources.cdr-ev-charger-ccs2-001.foo",
						strlen("telemetrySources.cdr-ev-charger-ccs2-001.power * 2 + telemetrySources.cdr-ev-charger-ccs2-001.foo - telemetrySources.cdr-ev-charger-ccs2-001.foo"),
						&ev_scope, &w, &err);
	CHECK(p != NULL && w.count == 1 && w.items[0].column == 54, "one warning for foo at 54");
	formula_warnings_free(&w);
	formula_program_free(p);

	/* parameters and signals */
	p = compile_ok(&ev_scope, "(inputParameters.validityWindow.endTime - inputParameters.validityWindow.startTime) / 60 - inputParameters.gracePeriodMinutes + inputSignals.price-signal.value * inputSignals.gridLoad");
	CHECK(p != NULL && formula_program_nslots(p) == 5, "parameters and signals");
	if (p != NULL)
	{
		CHECK(formula_program_slot(p, 0)->kind == FORMULA_REF_PARAMETER &&
			  strcmp(formula_program_slot(p, 0)->name, "validityWindow.endTime") == 0 &&
			  formula_program_slot(p, 0)->type == FORMULA_TYPE_DATE_TIME, "parameter slot");
		CHECK(formula_program_slot(p, 3)->kind == FORMULA_REF_SIGNAL &&
			  strcmp(formula_program_slot(p, 3)->name, "price-signal") == 0, "signal slot");
	}
	formula_program_free(p);

	/* without a scope, bare names are FORMULA_REF_NAME */
	p = compile_ok(NULL, "anything * roles.AGGREGATOR.roleInputs.whatever[BUYER.era]");
	CHECK(p != NULL && formula_program_slot(p, 0)->kind == FORMULA_REF_NAME &&
		  formula_program_iteration_role(p) == DEG_ROLE_BUYER, "no scope: bare name slot");
	formula_program_free(p);

	p = compile_ok(&tar_scope, TARIFF_FLOW);
	CHECK(p != NULL && formula_program_uses_tariff(p), "tariff flow uses the tariff");
	formula_program_free(p);
}

/* ---------- errors ---------- */

static void
test_errors(void)
{
	char	   *s;
	char		want[256];
	size_t		col;

	/* the examples of the brief */
	CHECK_STR(cerr(&ev_scope, "roles.SELLR.roleInputs.pricePerKWh"), "unknown role \"SELLR\" at column 7", "unknown role");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.price"),
			  "\"roles.SELLER.roleInputs.price\" names no role input of SELLER at column 1 (SELLER has pricePerKWh, currency, connectorType, maxPowerKW, minPowerKW, location, buyerFinderFee, idleFeePolicy)",
			  "unknown role input");
	CHECK_STR(cerr(&ev_scope, "roles.BUYER.roleInputs.x"),
			  "\"roles.BUYER.roleInputs.x\" names no role input of BUYER at column 1 (BUYER has no role inputs)",
			  "role without inputs");
	CHECK_STR(cerr(&ev_scope, "sqrt(4)"),
			  "unknown function \"sqrt\" at column 1 (functions: min, max, abs, round, floor, ceil, coalesce, if, tariff, computeTariffPrice)",
			  "unknown function");
	CHECK_STR(cerr(&ev_scope, "min(1)"), "min expects at least 2 arguments at column 1 (found 1)", "min arity");
	CHECK_STR(cerr(&misc_scope, "1 + fee"),
			  "ambiguous name \"fee\" at column 5: both roles.SELLER.roleInputs.fee and inputParameters.fee",
			  "ambiguous name");
	CHECK_STR(cerr(&ev_scope, "(1 + 2"), "expected \")\" at column 7 (found the end of the formula)", "unbalanced (");
	CHECK_STR(cerr(&ev_scope, "(1 + 2))"), "expected an operator at column 8 (found \")\")", "unbalanced )");
	CHECK_STR(cerr(&ev_scope, ")"), "expected an expression at column 1 (found \")\")", "lone )");
	CHECK_STR(cerr(&ev_scope, "1 +"), "expected an expression at column 4 (found the end of the formula)", "trailing operator");
	CHECK_STR(cerr(&ev_scope, "1 * "), "expected an expression at column 5 (found the end of the formula)", "trailing *");
	CHECK_STR(cerr(&ev_scope, "* 2"), "expected an expression at column 1 (found \"*\")", "leading *");
	CHECK_STR(cerr(&ev_scope, "+ 2"), "expected an expression at column 1 (found \"+\")", "no unary plus");
	CHECK_STR(cerr(&ev_scope, "1 +* 2"), "expected an expression at column 4 (found \"*\")", "two operators");
	CHECK_STR(cerr(&ev_scope, "-"), "expected an expression at column 2 (found the end of the formula)", "lone minus");
	CHECK_STR(cerr(&calc_scope, "a b"), "expected an operator at column 3 (found \"b\")", "juxtaposition");
	CHECK_STR(cerr(&calc_scope, "1 2"), "expected an operator at column 3 (found \"2\")", "two numbers");
	CHECK_STR(cerr(&calc_scope, "2x"), "expected an operator at column 2 (found \"x\")", "number then name");
	CHECK_STR(cerr(&ev_scope, ""), "empty formula at column 1", "empty");
	CHECK_STR(cerr(&ev_scope, "   "), "empty formula at column 4", "blank");
	CHECK_STR(cerr(&ev_scope, "()"), "expected an expression at column 2 (found \")\")", "empty parens");
	CHECK_STR(cerr(&ev_scope, "min(1,)"), "expected an expression at column 7 (found \")\")", "empty last argument");
	CHECK_STR(cerr(&ev_scope, "min(,1)"), "expected an expression at column 5 (found \",\")", "empty first argument");
	CHECK_STR(cerr(&ev_scope, "min(1 2)"), "expected \",\" or \")\" at column 7 (found \"2\")", "missing comma");
	CHECK_STR(cerr(&ev_scope, "max(1, 2"), "expected \",\" or \")\" at column 9 (found the end of the formula)", "unterminated call");
	CHECK_STR(cerr(&ev_scope, "min()"), "min expects at least 2 arguments at column 1 (found 0)", "min()");
	CHECK_STR(cerr(&ev_scope, "abs(1, 2)"), "abs expects 1 argument at column 1 (found 2)", "abs arity");
	CHECK_STR(cerr(&ev_scope, "floor()"), "floor expects 1 argument at column 1 (found 0)", "floor arity");
	CHECK_STR(cerr(&ev_scope, "round(1, 2, 3)"), "round expects 1 or 2 arguments at column 1 (found 3)", "round arity");
	CHECK_STR(cerr(&ev_scope, "2 * if(1, 2)"), "if expects 3 arguments at column 5 (found 2)", "if arity");
	CHECK_STR(cerr(&ev_scope, "if(1, 2, 3, 4)"), "if expects 3 arguments at column 1 (found 4)", "if arity 4");
	CHECK_STR(cerr(&ev_scope, "coalesce(1)"), "coalesce expects at least 2 arguments at column 1 (found 1)", "coalesce arity");
	CHECK_STR(cerr(&ev_scope, "MAX(1, 2)"),
			  "unknown function \"MAX\" at column 1 (functions: min, max, abs, round, floor, ceil, coalesce, if, tariff, computeTariffPrice)",
			  "function names are case-sensitive");

	/* references */
	CHECK_STR(cerr(&ev_scope, "roles.GRID_OPERATOR.roleInputs.wheelingCharges"),
			  "role GRID_OPERATOR is not in this contract at column 7 (roles: SELLER, BUYER)", "role not in contract");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.inputs.x"), "expected \"roleInputs\" at column 14 (found \"inputs\")", "not roleInputs");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER"),
			  "incomplete reference \"roles.SELLER\" at column 1 (expected roles.ROLE.roleInputs.NAME)", "incomplete role ref");
	CHECK_STR(cerr(&ev_scope, "2 * roles"),
			  "incomplete reference \"roles\" at column 5 (expected roles.ROLE.roleInputs.NAME)", "bare roles");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.pricePerKWh.value.value"),
			  "unexpected \".value\" at column 42 (only \".value\" may follow a role input)", "two .value");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.pricePerKWh.amount"),
			  "unexpected \".amount\" at column 36 (only \".value\" may follow a role input)", "not .value");
	CHECK_STR(cerr(&ev_scope, "inputParameters.nope"),
			  "\"inputParameters.nope\" names no input parameter at column 1 (parameters: validityWindow.startTime, validityWindow.endTime, gracePeriodMinutes)",
			  "unknown parameter");
	CHECK_STR(cerr(&p2p_scope, "inputParameters.nope"),
			  "\"inputParameters.nope\" names no input parameter at column 1 (the contract has no input parameters)",
			  "no parameters");
	CHECK_STR(cerr(&ev_scope, "inputParameters.validityWindow"),
			  "\"inputParameters.validityWindow\" names no input parameter at column 1 (parameters: validityWindow.startTime, validityWindow.endTime, gracePeriodMinutes)",
			  "an object parameter is not a leaf");
	CHECK_STR(cerr(&ev_scope, "inputSignals.nope"),
			  "unknown input signal \"nope\" at column 14 (signals: price-signal, gridLoad)", "unknown signal");
	CHECK_STR(cerr(&ev_scope, "inputSignals.gridLoad.level"),
			  "unexpected \".level\" at column 22 (only \".value\" may follow an input signal)", "signal suffix");
	CHECK_STR(cerr(&ev_scope, "telemetrySources.cdr-ev-charger-ccs2-002.energyKWh"),
			  "unknown telemetry source \"cdr-ev-charger-ccs2-002\" at column 18 (sources: cdr-ev-charger-ccs2-001)",
			  "unknown source");
	CHECK_STR(cerr(&p2p_scope, "telemetrySources.m.energy"),
			  "unknown telemetry source \"m\" at column 18 (the contract has no telemetry sources)", "no sources");
	CHECK_STR(cerr(&ev_scope, "telemetrySources.cdr-ev-charger-ccs2-001"),
			  "incomplete reference \"telemetrySources.cdr-ev-charger-ccs2-001\" at column 1 (expected telemetrySources.ID.FIELD)",
			  "telemetry without field");
	CHECK_STR(cerr(&ev_scope, "telemetrySources.cdr-ev-charger-ccs2-001.power.x"),
			  "unexpected \".x\" at column 47 (expected telemetrySources.ID.FIELD)", "telemetry too long");
	CHECK_STR(cerr(&ev_scope, "unknownName * 2"),
			  "unknown name \"unknownName\" at column 1 (not a role input or input parameter of this contract)", "unknown bare name");
	CHECK_STR(cerr(&ev_scope, "gracePeriodMinutes * 60"), "OK", "bare parameter");
	CHECK_STR(cerr(&ev_scope, "validityWindow.startTime + 1"),
			  "unknown reference \"validityWindow.startTime\" at column 1 (did you mean inputParameters.validityWindow.startTime?)",
			  "dotted bare name");
	CHECK_STR(cerr(&ev_scope, "foo.bar"),
			  "unknown reference \"foo.bar\" at column 1 (a reference starts with roles., inputParameters., inputSignals. or telemetrySources.)",
			  "unknown dotted");
	CHECK_STR(cerr(&ev_scope, "roles."), "expected a name after \".\" at column 7 (found the end of the formula)", "trailing dot");
	CHECK_STR(cerr(&ev_scope, "roles..SELLER"), "expected a name after \".\" at column 7 (found \".\")", "double dot");
	CHECK_STR(cerr(&ev_scope, "if + 1"),
			  "unknown name \"if\" at column 1 (not a role input or input parameter of this contract)", "if is not a name");

	/* hyphens */
	CHECK_STR(cerr(&calc_scope, "a-b"), "OK", "a-b is a minus b");
	CHECK_STR(calc("a-b"), "MISSING", "a-b evaluates");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.maxPowerKW-roles.SELLER.roleInputs.minPowerKW"),
			  "unexpected \".SELLER\" at column 41 (only \".value\" may follow a role input); to subtract, put spaces around \"-\"",
			  "hyphen joins inside a path");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.maxPowerKW - roles.SELLER.roleInputs.minPowerKW"), "OK", "spaced minus");
	CHECK_STR(cerr(&ev_scope, "telemetrySources.cdr-ev-charger-ccs2-001.endTime-telemetrySources.cdr-ev-charger-ccs2-001.startTime"),
			  "unexpected \".cdr-ev-charger-ccs2-001\" at column 66 (expected telemetrySources.ID.FIELD); to subtract, put spaces around \"-\"",
			  "unspaced minus between telemetry fields");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.maxPowerKW -roles.SELLER.roleInputs.minPowerKW"), "OK", "minus before a path");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.maxPowerKW-2"),
			  "\"roles.SELLER.roleInputs.maxPowerKW-2\" names no role input of SELLER at column 1 (SELLER has pricePerKWh, currency, connectorType, maxPowerKW, minPowerKW, location, buyerFinderFee, idleFeePolicy); to subtract, put spaces around \"-\"",
			  "hyphen hint");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.maxPowerKW- 2"), "OK", "hyphen before a space is a minus");
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.maxPowerKW--2"), "OK", "double hyphen is minus minus");

	/* [ROLE.era] */
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era"),
			  "expected \"]\" at column 65 (found the end of the formula)", "unterminated [");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower["),
			  "expected ROLE.era after \"[\" at column 53 (found the end of the formula)", "lone [");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER]"),
			  "expected \".era\" after \"PROSUMER\" at column 61", "no .era");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.id]"),
			  "unexpected \".id\" at column 61 (expected [ROLE.era])", "not .era");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMR.era]"),
			  "unknown role \"PROSUMR\" at column 53", "unknown index role");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[BUYER.era]"),
			  "role BUYER is not in this contract at column 53 (roles: MARKET_CLEARING_AGENT, PROSUMER, GRID_OPERATOR)",
			  "index role not in contract");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] + roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice[GRID_OPERATOR.era]"),
			  "formula indexes by both PROSUMER and GRID_OPERATOR at column 122 (every [ROLE.era] of one formula must name the same role)",
			  "two index roles");
	CHECK_STR(cerr(&mkt_scope, "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower [ PROSUMER.era ] * 2"), "OK", "spaces in brackets");
	CHECK_STR(cerr(&mkt_scope, "clearedPower[PROSUMER.era][PROSUMER.era]"),
			  "expected an operator at column 27 (found \"[\")", "two indexes");
	CHECK_STR(cerr(&mkt_scope, "(1)[PROSUMER.era]"), "expected an operator at column 4 (found \"[\")", "index after parens");

	/* characters */
	CHECK_STR(cerr(&ev_scope, "1 € 2"), "unexpected character \"€\" (U+20AC) at column 3", "euro sign");
	CHECK_STR(cerr(&ev_scope, "1 \xff 2"), "invalid UTF-8 byte 0xFF at column 3", "invalid UTF-8");
	CHECK_STR(cerr(&ev_scope, "1 \xc3"), "invalid UTF-8 byte 0xC3 at column 3", "truncated UTF-8");
	CHECK_STR(cerr(&ev_scope, "1 \xc2\xa0+ 2"), "unexpected character \"\xc2\xa0\" (U+00A0) at column 3", "no-break space");
	CHECK_STR(cerr(&ev_scope, "1 \x01"), "unexpected character U+0001 at column 3", "control character");
	CHECK_STR(cerr(&ev_scope, "1 # 2"), "unexpected character \"#\" at column 3", "hash");
	CHECK_STR(cerr(&ev_scope, "\"a\""), "unexpected character '\"' at column 1", "quote");
	CHECK_STR(cerr(&ev_scope, "1 × 2 × 3 × foo"),
			  "unknown name \"foo\" at column 13 (not a role input or input parameter of this contract)", "columns count characters");
	CHECK_STR(cerr(&ev_scope, "1 ÷ 2 ÷ 3"), "OK", "÷");
	CHECK_STR(cerr(&ev_scope, "ééé"), "unexpected character \"é\" (U+00E9) at column 1", "non-ASCII name");
	CHECK_STR(cerr(&ev_scope, "gracePeriodMinutes€"), "unexpected character \"€\" (U+20AC) at column 19", "non-ASCII after a name");
	{
		FormulaError err;
		FormulaProgram *p = formula_compile("1\0" "2", 3, &ev_scope, NULL, &err);

		CHECK(p == NULL && strcmp(err.message, "unexpected character U+0000 at column 2") == 0,
			  "NUL byte: %s", err.message);
	}

	/* numbers */
	CHECK_STR(cerr(&ev_scope, ".5"), "malformed number \".5\" at column 1 (write 0.5: a number starts with a digit)", ".5");
	CHECK_STR(cerr(&ev_scope, "5."), "malformed number \"5.\" at column 1 (expected a digit after \".\")", "5.");
	CHECK_STR(cerr(&ev_scope, "1e99999999999"), "number out of range \"1e99999999999\" at column 1", "huge exponent");
	CHECK_STR(calc("1.5e3"), "1500", "exponent");
	CHECK_STR(calc("25E-3"), "0.025", "negative exponent");
	CHECK_STR(calc("2e+2"), "200", "explicit plus exponent");

	/* comparisons */
	CHECK_STR(cerr(&ev_scope, "1 < 2 < 3"), "comparisons do not chain at column 7 (use parentheses or if())", "chain");
	CHECK_STR(cerr(&ev_scope, "(1 < 2) < 3"), "OK", "parenthesized chain");
	CHECK_STR(cerr(&ev_scope, "1 = 2"), "unexpected character \"=\" at column 3 (comparisons are <, <=, >, >=, == and !=)", "single =");
	CHECK_STR(cerr(&ev_scope, "1 ! 2"), "unexpected character \"!\" at column 3 (comparisons are <, <=, >, >=, == and !=)", "single !");
	CHECK_STR(cerr(&ev_scope, "=="), "expected an expression at column 1 (found \"==\")", "lone ==");

	/* types */
	CHECK_STR(cerr(&ev_scope, "roles.SELLER.roleInputs.currency * 2"),
			  "cannot compute with roles.SELLER.roleInputs.currency at column 1 (a STRING role input, not a number)", "string");
	CHECK_STR(cerr(&ev_scope, "2 × roles.SELLER.roleInputs.location"),
			  "cannot compute with roles.SELLER.roleInputs.location at column 5 (an OBJECT role input, not a number)", "object");
	CHECK_STR(cerr(&mkt_scope, "-roles.PROSUMER.roleInputs.offerCurve"),
			  "cannot compute with roles.PROSUMER.roleInputs.offerCurve at column 2 (an OFFER_CURVE role input, not a number)", "offer curve");
	CHECK_STR(cerr(&calc_scope, "flag + 1"),
			  "cannot compute with inputParameters.flag at column 1 (a BOOLEAN input parameter, not a number)", "boolean");
	CHECK_STR(cerr(&calc_scope, "if(flag, 1, 2)"), "OK", "boolean condition");
	CHECK_STR(cerr(&calc_scope, "if(1, flag, 2)"),
			  "cannot compute with inputParameters.flag at column 7 (a BOOLEAN input parameter, not a number)", "boolean branch");
	CHECK_STR(cerr(&calc_scope, "label"),
			  "cannot compute with inputParameters.label at column 1 (a STRING input parameter, not a number)", "string result");
	CHECK_STR(cerr(&calc_scope, "(label)"),
			  "cannot compute with inputParameters.label at column 2 (a STRING input parameter, not a number)", "parenthesized string");
	CHECK_STR(cerr(&calc_scope, "coalesce(label, 1)"),
			  "cannot compute with inputParameters.label at column 10 (a STRING input parameter, not a number)", "coalesce of string");
	CHECK_STR(cerr(&calc_scope, "label < 1"),
			  "cannot compute with inputParameters.label at column 1 (a STRING input parameter, not a number)", "compare string");
	CHECK_STR(cerr(&tar_scope, "tariff(roles.BUYER.roleInputs.contractedQuantity, 1)"),
			  "tariff expects a tariff object as its first argument at column 8 (roles.BUYER.roleInputs.contractedQuantity is a NUMBER role input)",
			  "tariff of a number");
	CHECK_STR(cerr(&tar_scope, "tariff(2, 1)"),
			  "tariff expects a reference to a tariff object as its first argument at column 8", "tariff of a constant");
	CHECK_STR(cerr(&tar_scope, "computeTariffPrice(roles.SELLER.roleInputs.tariff)"),
			  "computeTariffPrice expects at least 2 arguments (a tariff and a quantity) at column 1 (found 1)", "tariff arity");
	CHECK_STR(cerr(&tar_scope, "tariff(roles.SELLER.roleInputs.tariff, roles.SELLER.roleInputs.tariff)"),
			  "cannot compute with roles.SELLER.roleInputs.tariff at column 40 (an OBJECT role input, not a number)", "tariff second argument");
	CHECK_STR(cerr(&tar_scope, "roles.SELLER.roleInputs.tariff"),
			  "cannot compute with roles.SELLER.roleInputs.tariff at column 1 (an OBJECT role input, not a number)", "object result");
	CHECK_STR(cerr(&tar_scope, "tariff(roles.SELLER.roleInputs.tariff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)"),
			  "tariff expects at most 16 arguments at column 1 (found 17)", "tariff too many");

	/* nesting: an error, not a stack overflow */
	s = repeat_str("(", 100000);
	snprintf(want, sizeof(want), "formula nests too deeply at column %d (at most %d levels)",
			 FORMULA_MAX_DEPTH + 1, FORMULA_MAX_DEPTH);
	CHECK_STR(cerr(&ev_scope, s), want, "100,000 parentheses");
	free(s);
	s = repeat_str("-", 100000);
	col = cerr_column(&ev_scope, s);
	CHECK(col > 0 && col <= FORMULA_MAX_DEPTH + 1, "100,000 minus signs: column %zu", col);
	free(s);
	s = repeat_str("abs(", 100000);
	CHECK(strncmp(cerr(&ev_scope, s), "formula nests too deeply", 24) == 0, "100,000 calls");
	free(s);
	s = repeat_str("(", FORMULA_MAX_DEPTH - 1);
	{
		char	   *t = repeat_str(")", FORMULA_MAX_DEPTH - 1);
		char	   *u = malloc(2 * FORMULA_MAX_DEPTH + 2);

		snprintf(u, 2 * FORMULA_MAX_DEPTH + 2, "%s1%s", s, t);
		CHECK_STR(calc(u), "1", "the deepest nesting allowed");
		free(t);
		free(u);
	}
	free(s);

	/* too long */
	s = malloc(FORMULA_MAX_TEXT + 2);
	memset(s, ' ', FORMULA_MAX_TEXT + 1);
	s[0] = '1';
	s[FORMULA_MAX_TEXT + 1] = '\0';
	CHECK_STR(cerr(&ev_scope, s), "formula is too long at column 1 (1048577 bytes, at most 1048576)", "too long");
	free(s);
}

/* ---------- evaluation ---------- */

static void
test_eval(void)
{
	static const Binding ev_values[] = {
		{"roles.SELLER.roleInputs.pricePerKWh", "7.35"},
		{"telemetrySources.cdr-ev-charger-ccs2-001.energyKWh", "18"},
		{"telemetrySources.cdr-ev-charger-ccs2-001.startTime", "1728036000"},
		{"telemetrySources.cdr-ev-charger-ccs2-001.endTime", "1728041400"},
	};
	static const Binding p2p_values[] = {
		{"roles.BUYER.roleInputs.contractedQuantity", "10"},
		{"roles.SELLER.roleInputs.pricePerKWh", "0.15"},
		{"roles.GRID_OPERATOR.roleInputs.wheelingCharges", "0.025"},
	};
	static const Binding mkt_values[] = {
		{"roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice", "0.0625"},
		{"roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee", "0.01"},
		{"roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]", "-5"},
		{"roles.GRID_OPERATOR.roleInputs.wheelingCharges", "0.025"},
	};
	static const Binding tar_values[] = {
		{"roles.SELLER.roleInputs.tariff", "OBJECT"},
		{"roles.BUYER.roleInputs.tradeStartTime", "1728064800"},
		{"roles.BUYER.roleInputs.tradeEndTime", "1728108000"},
		{"inputParameters.deliveredQuantity", "100"},
	};
	Binding		b[4];

	/* the examples */
	CHECK_STR(ev(&ev_scope, EV_FLOW, ev_values, 4), "132.30", "18 × 7.35");
	CHECK_STR(ev(&ev_scope, EV_FLOW_VALUE, ev_values, 4), "132.30", "18 × 7.35 with .value");
	CHECK_STR(ev(&ev_scope, EV_METRIC, ev_values, 4), "12.0000000000000000", "average charging power over 90 minutes");
	CHECK_STR(ev(&p2p_scope, P2P_ENERGY, p2p_values, 3), "1.50", "10 × 0.15");
	CHECK_STR(ev(&p2p_scope, P2P_WHEEL, p2p_values, 3), "0.250", "10 × 0.025");
	CHECK_STR(ev(&p2p_scope, P2P_ENERGY " + " P2P_WHEEL, p2p_values, 3), "1.750", "settlement cycle amount");
	CHECK_STR(ev(&mkt_scope, MKT_FLOW, mkt_values, 4), "-0.3625", "(0.0625 + 0.01) × -5");
	CHECK_STR(ev(&mkt_scope, MKT_WHEEL, mkt_values, 4), "0.125", "abs(-5) × 0.025");
	tariff_calls = 0;
	CHECK_STR(ev(&tar_scope, TARIFF_FLOW, tar_values, 4), "15.00", "tariff 0.15 × 100");
	CHECK(tariff_calls == 1, "the tariff engine was called once");
	memcpy(b, tar_values, sizeof(b));
	b[3].value = "-1";
	CHECK_STR(ev(&tar_scope, TARIFF_FLOW, b, 4), "ERROR: negative quantity at column 1", "tariff engine error");
	b[3].value = "MISSING";
	tariff_calls = 0;
	CHECK_STR(ev(&tar_scope, TARIFF_FLOW, b, 4), "MISSING", "tariff with a missing quantity");
	CHECK(tariff_calls == 0, "a missing argument does not call the engine");
	memcpy(b, tar_values, sizeof(b));
	b[2].value = "1728064800";
	CHECK_STR(ev(&tar_scope, TARIFF_FLOW, b, 4), "MISSING", "the engine may answer missing");
	b[0].value = "5";
	CHECK_STR(ev(&tar_scope, TARIFF_FLOW, b, 4),
			  "ERROR: computeTariffPrice expects a tariff object as its first argument at column 1 (found a number)",
			  "a number where the tariff is");
	{
		/* no engine */
		FormulaProgram *p = compile_ok(&tar_scope, "2 * tariff(roles.SELLER.roleInputs.tariff, 1)");
		FormulaValue v[1];
		FormulaEnv	env = {v, 1, NULL, NULL};
		FormulaError err;
		Decimal		r = DEC_INIT;

		v[0].kind = FORMULA_VALUE_OBJECT;
		v[0].object = &the_tariff;
		dec_init(&v[0].number);
		CHECK(p != NULL && formula_eval(p, &env, NULL, &r, &err) == FORMULA_RESULT_ERROR &&
			  strcmp(err.message, "tariff cannot be evaluated here at column 5 (no tariff engine)") == 0,
			  "tariff without an engine: %s", err.message);
		CHECK(err.column == 5, "its column");
		formula_program_free(p);
	}

	/* exact decimals */
	CHECK_STR(calc("18 × 7.35"), "132.30", "18 × 7.35");
	CHECK_STR(calc("10 * 0.15"), "1.50", "scale of a product");
	CHECK_STR(calc("(0.0625 + 0.01) × -5"), "-0.3625", "sum times negative");
	CHECK_STR(calc("1 / 3"), "0.33333333333333333333", "1/3");
	CHECK_STR(calc("2 ÷ 3"), "0.66666666666666666667", "2/3 rounds half away");
	CHECK_STR(calc("10 / 4"), "2.5000000000000000", "10/4");
	CHECK_STR(calc("1.00 / 3"), "0.33333333333333333333", "1.00/3");
	CHECK_STR(calc("0.1 + 0.2"), "0.3", "no binary floating point");
	CHECK_STR(calc("1 - 0.10"), "0.90", "scale of a difference");
	CHECK_STR(calc("-2 * 3"), "-6", "unary minus binds tighter");
	CHECK_STR(calc("2 - -3"), "5", "minus minus");
	CHECK_STR(calc("- - 3"), "3", "double negation");
	CHECK_STR(calc("-(2 + 3)"), "-5", "negated sum");
	CHECK_STR(calc("2 + 3 * 4"), "14", "precedence");
	CHECK_STR(calc("(2 + 3) * 4"), "20", "parentheses");
	CHECK_STR(calc("10 - 4 - 3"), "3", "left associative minus");
	CHECK_STR(calc("64 / 4 / 2"), "8.0000000000000000", "left associative division");
	CHECK_STR(calc("abs(-2.50)"), "2.50", "abs keeps scale");
	CHECK_STR(calc("round(2.5)"), "3", "round half away up");
	CHECK_STR(calc("round(-2.5)"), "-3", "round half away down");
	CHECK_STR(calc("round(2.345, 2)"), "2.35", "round to cents");
	CHECK_STR(calc("round(-2.345, 2)"), "-2.35", "round negative to cents");
	CHECK_STR(calc("round(1234.5, -2)"), "1200", "round to hundreds");
	CHECK_STR(calc("round(2, 3)"), "2.000", "round adds scale");
	CHECK_STR(calc("round(1.5, 2.5)"), "ERROR: the scale of round must be a whole number at column 1", "round scale");
	CHECK_STR(calc("round(1.5, 1e30)"), "ERROR: the scale of round is out of range at column 1", "huge round scale");
	CHECK_STR(calc("round(1.5, -100000)"), "0", "large negative round scale");
	CHECK_STR(calc("round(-1.5, 1)"), "-1.5", "round to the same scale");
	CHECK_STR(calc("floor(-1.5)"), "-2", "floor");
	CHECK_STR(calc("ceil(-1.5)"), "-1", "ceil");
	CHECK_STR(calc("ceil(1.2)"), "2", "ceil up");
	CHECK_STR(calc("min(3, 1, 2)"), "1", "min of three");
	CHECK_STR(calc("max(3, 1, 2)"), "3", "max of three");
	CHECK_STR(calc("max(1.0, 1)"), "1.0", "max tie keeps the first");
	CHECK_STR(calc("max(0, (10 - 12) * 5)"), "0", "penalty floor");
	CHECK_STR(calc("max(0, (15 - 10) * 2.5)"), "12.5", "penalty");

	/* comparisons */
	CHECK_STR(calc("1 < 2"), "1", "<");
	CHECK_STR(calc("2 <= 2"), "1", "<=");
	CHECK_STR(calc("3 > 4"), "0", ">");
	CHECK_STR(calc("3 >= 4"), "0", ">=");
	CHECK_STR(calc("1.0 == 1"), "1", "== ignores scale");
	CHECK_STR(calc("1 != 1"), "0", "!=");
	CHECK_STR(calc("1 + 1 == 2"), "1", "comparison binds loosest");
	CHECK_STR(calc("(1 < 2) + (2 < 3)"), "2", "comparisons as numbers");

	/* missing values */
	b[0].ref = "inputParameters.x";
	b[0].value = "0";
	b[1].ref = "inputParameters.y";
	b[1].value = "10";
	CHECK_STR(ev(&calc_scope, "if(x == 0, 0, y / x)", b, 2), "0", "lazy if avoids division by zero");
	b[0].value = "4";
	CHECK_STR(ev(&calc_scope, "if(x == 0, 0, y / x)", b, 2), "2.5000000000000000", "lazy if, other branch");
	b[0].value = "MISSING";
	CHECK_STR(ev(&calc_scope, "if(x == 0, 0, y / x)", b, 2), "MISSING", "missing condition");
	CHECK_STR(ev(&calc_scope, "x + 1", b, 2), "MISSING", "missing + 1");
	CHECK_STR(ev(&calc_scope, "x * 0", b, 2), "MISSING", "missing * 0");
	CHECK_STR(ev(&calc_scope, "-x", b, 2), "MISSING", "-missing");
	CHECK_STR(ev(&calc_scope, "abs(x)", b, 2), "MISSING", "abs(missing)");
	CHECK_STR(ev(&calc_scope, "round(x, 2)", b, 2), "MISSING", "round(missing)");
	CHECK_STR(ev(&calc_scope, "round(2, x)", b, 2), "MISSING", "round(x, missing)");
	CHECK_STR(ev(&calc_scope, "min(1, x)", b, 2), "MISSING", "min with missing");
	CHECK_STR(ev(&calc_scope, "x < 1", b, 2), "MISSING", "missing compared");
	CHECK_STR(ev(&calc_scope, "coalesce(x, 5)", b, 2), "5", "coalesce skips missing");
	CHECK_STR(ev(&calc_scope, "coalesce(x, x)", b, 2), "MISSING", "coalesce of missings");
	CHECK_STR(ev(&calc_scope, "coalesce(x, y, 1 / 0)", b, 2), "10", "coalesce is lazy");
	CHECK_STR(ev(&calc_scope, "coalesce(x * 2, y * 3, 7) + 1", b, 2), "31", "coalesce of expressions");
	CHECK_STR(ev(&calc_scope, "coalesce(x, x, x, 4)", b, 2), "4", "coalesce of four");
	CHECK_STR(ev(&calc_scope, "x + 1 / 0", b, 2), "ERROR: division by zero at column 7",
			  "an error is not hidden by a missing operand");
	CHECK_STR(ev(&calc_scope, "if(1, 5, 1 / 0)", b, 2), "5", "if then");
	CHECK_STR(ev(&calc_scope, "if(0, 1 / 0, 5)", b, 2), "5", "if else");
	CHECK_STR(ev(&calc_scope, "if(0.001, 1, 2)", b, 2), "1", "non-zero is true");
	CHECK_STR(ev(&calc_scope, "if(-0.0, 1, 2)", b, 2), "2", "negative zero is false");
	CHECK_STR(ev(&calc_scope, "if(1, if(0, 1, 2), 3) * 10", b, 2), "20", "nested if");
	CHECK_STR(ev(&calc_scope, "if(y > 5, coalesce(x, 1), 2)", b, 2), "1", "if of coalesce");

	/* errors with columns */
	CHECK_STR(calc("1 / 0"), "ERROR: division by zero at column 3", "division by zero");
	CHECK_STR(calc("1 + 2 ÷ (3 - 3)"), "ERROR: division by zero at column 7", "÷ by zero, column in characters");
	CHECK_STR(calc("1e100000 * 1e100000"), "ERROR: value overflows numeric format at column 10", "overflow");
	b[0].value = "OBJECT";
	CHECK_STR(ev(&calc_scope, "2 * x", b, 2), "ERROR: expected a number, found an object at column 3", "object at runtime");
	CHECK_STR(ev(&calc_scope, "x", b, 2), "ERROR: the formula gives an object, not a number at column 1", "object result");
	CHECK_STR(ev(&calc_scope, "if(x, 1, 2)", b, 2), "ERROR: expected a number, found an object at column 1", "object condition");
	CHECK_STR(ev(&calc_scope, "-x", b, 2), "ERROR: expected a number, found an object at column 1", "negated object");
	CHECK_STR(ev(&calc_scope, "coalesce(y, x)", b, 2), "10", "coalesce does not look past a value");

	/* the glue must pass enough values */
	{
		FormulaProgram *p = compile_ok(&calc_scope, "x + y");
		FormulaEnv	env = {NULL, 0, NULL, NULL};
		FormulaError err;
		Decimal		r = DEC_INIT;

		CHECK(p != NULL && formula_eval(p, &env, NULL, &r, &err) == FORMULA_RESULT_ERROR,
			  "no slot values: %s", err.message);
		formula_program_free(p);
	}

	/* a long formula: 200,000 terms, iteratively parsed and evaluated */
	{
		char	   *s = repeat_str("1+", 200000);

		s[strlen(s) - 1] = '\0';
		CHECK_STR(calc(s), "200000", "200,000 terms");
		free(s);
		s = repeat_str("x*", 100000);
		s[strlen(s) - 1] = '\0';
		b[0].value = "1.0001";
		CHECK_STR(ev(&calc_scope, s, b, 1), "(16389 characters)", "a product of 100,000 slots: scale capped at 16383");
		free(s);
	}
}

/* results do not depend on a reused stack, and a reused stack allocates nothing */
static int	allocs;

static void *
count_alloc(size_t n)
{
	allocs++;
	return malloc(n);
}

static void *
count_realloc(void *p, size_t n)
{
	allocs++;
	return realloc(p, n);
}

static void
test_reuse(void)
{
	static const Binding v1[] = {
		{"roles.SELLER.roleInputs.pricePerKWh", "7.35"},
		{"telemetrySources.cdr-ev-charger-ccs2-001.energyKWh", "18"},
	};
	DegAllocator counting = {count_alloc, count_realloc, free};
	FormulaProgram *p = compile_ok(&ev_scope, EV_FLOW);
	FormulaProgram *q = compile_ok(&calc_scope, "if(x == 0, 0, round(y / x, 2)) + coalesce(x, 1) * max(x, y, 3)");
	FormulaStack *stack = formula_stack_create();
	FormulaValue *v = bind(p, v1, 2);
	FormulaEnv	env = {v, 2, NULL, NULL};
	Decimal		r = DEC_INIT;
	FormulaError err;
	int			i;
	bool		same = true;

	if (p == NULL || q == NULL)
		return;
	CHECK_STR(run_program(q, (const Binding[]) {{"inputParameters.x", "3"}, {"inputParameters.y", "10"}}, 2, stack),
			  "33.33", "a reused stack (1)");
	CHECK_STR(run_program(p, v1, 2, stack), "132.30", "a reused stack (2)");
	CHECK_STR(run_program(q, (const Binding[]) {{"inputParameters.x", "0"}, {"inputParameters.y", "10"}}, 2, stack),
			  "0", "a reused stack (3)");

	formula_eval(p, &env, stack, &r, &err);
	deg_set_allocator(&counting);
	allocs = 0;
	for (i = 0; i < 1000; i++)
	{
		if (formula_eval(p, &env, stack, &r, &err) != FORMULA_RESULT_VALUE)
			same = false;
	}
	deg_set_allocator(NULL);
	CHECK(allocs == 0, "1000 evaluations allocated %d times", allocs);
	CHECK(same, "1000 evaluations gave values");
	dec_free(&r);
	unbind(p, v);
	formula_stack_free(stack);
	formula_program_free(p);
	formula_program_free(q);
}

/* ---------- storage ---------- */

/* opcode numbers are part of the stored format (formula.c) */
enum
{
	OP_CONST = 0, OP_SLOT = 1, OP_ADD = 3, OP_JUMP = 21
};

static const char *const store_cases[] = {
	EV_FLOW, EV_FLOW_VALUE, EV_METRIC, P2P_ENERGY, P2P_WHEEL, MKT_FLOW, MKT_WHEEL,
	TARIFF_FLOW, SCHEMA_MKT, AGG, PENALTY,
	"if(x == 0, 0, y / x)", "coalesce(x, y, 1 / 0, 4)", "round(x * 1.005, 2) - -0.5",
	"min(x, y, 3) + max(1, 2) + abs(-x) + floor(y) + ceil(x) + (x < y) + (x >= y) + (x != y)",
};

static const FormulaScope *
store_scope(int i)
{
	switch (i)
	{
		case 0:
		case 1:
		case 2:
			return &ev_scope;
		case 3:
		case 4:
			return &p2p_scope;
		case 5:
		case 6:
			return &mkt_scope;
		case 7:
			return &tar_scope;
		case 8:
		case 9:
		case 10:
			return &misc_scope;
		default:
			return &calc_scope;
	}
}

static const Binding store_values[] = {
	{"roles.SELLER.roleInputs.pricePerKWh", "7.35"},
	{"telemetrySources.cdr-ev-charger-ccs2-001.energyKWh", "18"},
	{"telemetrySources.cdr-ev-charger-ccs2-001.startTime", "1728036000"},
	{"telemetrySources.cdr-ev-charger-ccs2-001.endTime", "1728041400"},
	{"roles.BUYER.roleInputs.contractedQuantity", "10"},
	{"roles.GRID_OPERATOR.roleInputs.wheelingCharges", "0.025"},
	{"roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice", "0.0625"},
	{"roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee", "0.01"},
	{"roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]", "-5"},
	{"roles.SELLER.roleInputs.tariff", "OBJECT"},
	{"roles.BUYER.roleInputs.tradeStartTime", "1728064800"},
	{"roles.BUYER.roleInputs.tradeEndTime", "1728108000"},
	{"inputParameters.deliveredQuantity", "100"},
	{"inputParameters.marketClearingPrice", "0.07"},
	{"inputParameters.marketMakingFee", "0.01"},
	{"inputParameters.clearedPower", "3"},
	{"inputParameters.basePrice", "0.1"},
	{"inputParameters.currentLoadPercent", "80"},
	{"inputParameters.priceAdderPerPercent", "0.001"},
	{"inputParameters.waitTime", "15"},
	{"inputParameters.target", "10"},
	{"inputParameters.penaltyRate", "2.5"},
	{"inputParameters.x", "3"},
	{"inputParameters.y", "10"},
};

static uint64_t rng_state = 88172645463325252ull;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static int
rnd_int(int n)
{
	return (int) (rnd() % (uint64_t) n);
}

/* evaluate a program of unknown provenance with values of every kind */
static void
run_untrusted(const FormulaProgram *p)
{
	int			n = formula_program_nslots(p);
	FormulaValue *v = calloc((size_t) (n > 0 ? n : 1), sizeof(FormulaValue));
	FormulaEnv	env;
	FormulaError err;
	Decimal		r = DEC_INIT;
	int			i;

	for (i = 0; i < n; i++)
	{
		dec_init(&v[i].number);
		v[i].kind = (FormulaValueKind) rnd_int(3);
		if (v[i].kind == FORMULA_VALUE_NUMBER)
			dec_from_int64(&v[i].number, rnd_int(7) - 3, NULL);
		else if (v[i].kind == FORMULA_VALUE_OBJECT)
			v[i].object = &the_tariff;
	}
	env.slots = v;
	env.nslots = n;
	env.tariff = fake_tariff;
	env.tariff_context = &tariff_calls;
	formula_eval(p, &env, NULL, &r, &err);
	dec_free(&r);
	for (i = 0; i < n; i++)
		dec_free(&v[i].number);
	free(v);
}

static void
test_storage(void)
{
	int			i;
	int			refused_truncations = 0,
				truncations = 0,
				flips = 0,
				flips_refused = 0;

	for (i = 0; i < (int) (sizeof(store_cases) / sizeof(store_cases[0])); i++)
	{
		FormulaProgram *p = compile_ok(store_scope(i), store_cases[i]);
		FormulaProgram *q;
		DegBuf		b1,
					b2;
		FormulaError err;
		const char *r1,
				   *r2;
		size_t		cut;
		int			k;

		if (p == NULL)
		{
			CHECK(false, "store case %d compiles", i);
			continue;
		}
		degbuf_init(&b1);
		degbuf_init(&b2);
		CHECK(formula_serialize(p, &b1), "serialize %d", i);
		q = formula_deserialize((const uint8_t *) b1.data, b1.len, &err);
		CHECK(q != NULL, "deserialize %d: %s", i, q ? "" : err.message);
		if (q == NULL)
		{
			formula_program_free(p);
			degbuf_free(&b1);
			continue;
		}
		formula_serialize(q, &b2);
		CHECK(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "serialization %d is stable", i);
		CHECK(formula_program_nslots(p) == formula_program_nslots(q) &&
			  formula_program_iteration_role(p) == formula_program_iteration_role(q) &&
			  formula_program_uses_tariff(p) == formula_program_uses_tariff(q), "same program %d", i);
		r1 = run_program(p, store_values, (int) (sizeof(store_values) / sizeof(store_values[0])), NULL);
		r2 = run_program(q, store_values, (int) (sizeof(store_values) / sizeof(store_values[0])), NULL);
		CHECK(strncmp(r1, "ERROR", 5) != 0 && strncmp(r1, "MISSING", 7) != 0,
			  "store case %d evaluates: %s", i, r1);
		CHECK_STR(r2, r1, "stored case %d evaluates the same", i);

		/* every truncation is refused */
		for (cut = 0; cut < b1.len; cut++)
		{
			FormulaProgram *t = formula_deserialize((const uint8_t *) b1.data, cut, &err);

			truncations++;
			if (t == NULL)
				refused_truncations++;
			else
			{
				run_untrusted(t);
				formula_program_free(t);
			}
		}
		/* with trailing garbage too */
		{
			DegBuf		b3;
			FormulaProgram *t;

			degbuf_init(&b3);
			degbuf_append(&b3, b1.data, b1.len);
			degbuf_putc(&b3, 0);
			t = formula_deserialize((const uint8_t *) b3.data, b3.len, &err);
			CHECK(t == NULL && strstr(err.message, "after the code") != NULL, "trailing byte refused %d", i);
			formula_program_free(t);
			degbuf_free(&b3);
		}

		/* random corruption: refused, or at worst evaluated safely (ASan watches) */
		for (k = 0; k < 3000; k++)
		{
			uint8_t    *c = malloc(b1.len);
			FormulaProgram *t;
			int			nflips = 1 + rnd_int(3);
			int			f;

			memcpy(c, b1.data, b1.len);
			for (f = 0; f < nflips; f++)
			{
				size_t		at = (size_t) rnd_int((int) b1.len);

				if (rnd_int(2))
					c[at] ^= (uint8_t) (1u << rnd_int(8));
				else
					c[at] = (uint8_t) rnd();
			}
			t = formula_deserialize(c, b1.len, &err);
			flips++;
			if (t == NULL)
				flips_refused++;
			else
			{
				run_untrusted(t);
				formula_program_free(t);
			}
			free(c);
		}
		formula_program_free(p);
		formula_program_free(q);
		degbuf_free(&b1);
		degbuf_free(&b2);
	}
	CHECK(refused_truncations == truncations, "all %d truncations refused (%d)", truncations, refused_truncations);
	CHECK(flips_refused > flips / 2, "most corruptions refused: %d of %d", flips_refused, flips);
	printf("# corrupted programs: %d of %d refused, the rest evaluated safely\n", flips_refused, flips);

	/* hand-made bad programs */
	{
		static const struct
		{
			const char *what;
			uint8_t		bytes[32];
			size_t		len;
			const char *msg;
		}			bad[] = {
			{"empty", {0}, 0, "invalid formula bytecode: bad header"},
			{"bad magic", {'D', 'G', 'X', 1, 0, 0, 0, 1, 0, 0}, 10, "invalid formula bytecode: bad header"},
			{"no code", {'D', 'G', 'F', 1, 0, 0, 0, 0}, 8, "invalid formula bytecode: the program does not leave exactly one value"},
			{"slot out of range", {'D', 'G', 'F', 1, 0, 0, 0, 1, OP_SLOT, 0}, 10, "invalid formula bytecode: operand out of range at 0"},
			{"underflow", {'D', 'G', 'F', 1, 0, 0, 0, 1, OP_ADD, 1}, 10, "invalid formula bytecode: stack underflow at 0"},
			{"backward jump", {'D', 'G', 'F', 1, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 2, OP_CONST, 0, OP_JUMP, 0}, 21, "invalid formula bytecode: jump out of range at 1"},
			{"unknown opcode", {'D', 'G', 'F', 1, 0, 0, 0, 1, 99}, 9, "invalid formula bytecode: unknown opcode 99 at 0"},
			{"overlong varint", {'D', 'G', 'F', 1, 0x80, 0x00, 0, 0, 0}, 9, "invalid formula bytecode: truncated or malformed at byte 6"},
			{"two values", {'D', 'G', 'F', 1, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 2, OP_CONST, 0, OP_CONST, 0}, 21, "invalid formula bytecode: the program does not leave exactly one value"},
			{"bad slot kind", {'D', 'G', 'F', 1, 0, 1, 9, 0, 0, 0, 1, 'x', 0, 1, OP_SLOT, 0}, 16, "invalid formula bytecode: bad slot 0"},
			{"bad name", {'D', 'G', 'F', 1, 0, 1, 1, 0, 0, 0, 1, '.', 0, 1, OP_SLOT, 0}, 16, "invalid formula bytecode: bad name in slot 0"},
			{"index without iteration role", {'D', 'G', 'F', 1, 0, 1, 1, 0, 3, 0, 1, 'x', 0, 1, OP_SLOT, 0}, 16, "invalid formula bytecode: slot 0 is indexed by another role"},
			{"NaN constant", {'D', 'G', 'F', 1, 0, 0, 1, 8, 0, 0, 0, 0, 0xC0, 0, 0, 0, 1, OP_CONST, 0}, 19, "invalid formula bytecode: constant 0: "},
		};

		for (i = 0; i < (int) (sizeof(bad) / sizeof(bad[0])); i++)
		{
			FormulaError err;
			FormulaProgram *t = formula_deserialize(bad[i].bytes, bad[i].len, &err);

			CHECK(t == NULL && strncmp(err.message, bad[i].msg, strlen(bad[i].msg)) == 0,
				  "bad program %s: %s", bad[i].what, t ? "accepted" : err.message);
			formula_program_free(t);
		}
		/* the smallest valid program: the constant 0 */
		{
			static const uint8_t zero[] = {'D', 'G', 'F', 1, 0, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 1, OP_CONST, 0};
			FormulaError err;
			FormulaProgram *t = formula_deserialize(zero, sizeof(zero), &err);

			CHECK(t != NULL, "a hand-made program: %s", t ? "" : err.message);
			if (t != NULL)
				CHECK_STR(run_program(t, NULL, 0, NULL), "0", "it evaluates");
			formula_program_free(t);
		}
	}
}

/* random formula texts never crash the compiler */
static void
test_garbage(void)
{
	static const char *const pieces[] = {
		"(", ")", "+", "-", "*", "/", "×", "÷", ",", "[", "]", "<", "<=", "==", "!=", " ",
		"1", "0", "2.5", "1e3", "x", "y", "fee", "min", "max(", "if(", "coalesce(", "tariff(",
		"roles.", "SELLER", ".roleInputs.", "pricePerKWh", "[PROSUMER.era]", "inputParameters.",
		"telemetrySources.cdr-ev-charger-ccs2-001.energyKWh", "-", "\xff", "é", ".", "value",
		"round(", "abs(", "inputSignals.gridLoad", "roles.SELLER.roleInputs.pricePerKWh",
	};
	int			i,
				k;
	int			compiled = 0;

	for (i = 0; i < 20000; i++)
	{
		char		text[512];
		size_t		len = 0;
		int			n = 1 + rnd_int(14);
		FormulaError err;
		FormulaWarnings w;
		FormulaProgram *p;
		const FormulaScope *scope = (i % 3 == 0) ? NULL : (i % 3 == 1) ? &ev_scope : &misc_scope;

		for (k = 0; k < n; k++)
		{
			const char *piece = pieces[rnd_int((int) (sizeof(pieces) / sizeof(pieces[0])))];
			size_t		pl = strlen(piece);

			if (len + pl >= sizeof(text))
				break;
			memcpy(text + len, piece, pl);
			len += pl;
		}
		/* a copy of exactly len bytes, so ASan sees any read past the end */
		{
			char	   *exact = malloc(len > 0 ? len : 1);

			memcpy(exact, text, len);
			p = formula_compile(exact, len, scope, &w, &err);
			if (p != NULL)
			{
				DegBuf		b;
				FormulaProgram *q;

				compiled++;
				degbuf_init(&b);
				formula_serialize(p, &b);
				q = formula_deserialize((const uint8_t *) b.data, b.len, &err);
				if (q == NULL)
				{
					CHECK(false, "a compiled program reloads: %.*s: %s", (int) len, text, err.message);
				}
				else
				{
					run_untrusted(q);
					formula_program_free(q);
				}
				degbuf_free(&b);
				formula_warnings_free(&w);
				formula_program_free(p);
			}
			else if (err.column == 0 || err.column > len + 1 || strstr(err.message, " at column ") == NULL)
				CHECK(false, "an error has a column: %.*s: %s", (int) len, text, err.message);
			free(exact);
		}
	}
	CHECK(compiled > 100, "some random texts compiled (%d)", compiled);
	printf("# random texts: %d of 20000 compiled\n", compiled);
}

/* ---------- property test: random expression trees ---------- */

enum
{
	N_CONST, N_SLOT, N_NEG, N_ADD, N_SUB, N_MUL, N_DIV, N_MIN, N_MAX, N_ABS, N_FLOOR,
	N_CEIL, N_ROUND, N_ROUND2, N_CMP, N_IF, N_COALESCE, N_KINDS
};

typedef struct Node
{
	int			kind;
	char		text[40];		/* N_CONST: its literal; N_CMP: the operator */
	int			slot;
	int			nkids;
	struct Node *kids[4];
} Node;

#define NSLOTS 4
static const char *const slot_names[NSLOTS] = {"a", "b", "x", "y"};
static FormulaValue slot_values[NSLOTS];

static Node *
gen(int depth)
{
	Node	   *n = calloc(1, sizeof(Node));
	int			i;

	n->kind = depth <= 0 ? rnd_int(2) : rnd_int(N_KINDS);
	switch (n->kind)
	{
		case N_CONST:
			{
				int			ilen = 1 + rnd_int(3);
				int			flen = rnd_int(4);
				char	   *t = n->text;

				if (rnd_int(4) == 0)
					*t++ = '-';
				for (i = 0; i < ilen; i++)
					*t++ = (char) ('0' + ((i == 0 && ilen > 1) ? 1 + rnd_int(9) : rnd_int(10)));
				if (flen > 0)
				{
					*t++ = '.';
					for (i = 0; i < flen; i++)
						*t++ = (char) ('0' + (rnd_int(2) ? 0 : rnd_int(10)));
				}
				*t = '\0';
			}
			break;
		case N_SLOT:
			n->slot = rnd_int(NSLOTS);
			break;
		case N_NEG:
		case N_ABS:
		case N_FLOOR:
		case N_CEIL:
		case N_ROUND:
			n->nkids = 1;
			break;
		case N_ROUND2:
			n->nkids = 1;
			snprintf(n->text, sizeof(n->text), "%d", rnd_int(7) - 2);
			break;
		case N_MIN:
		case N_MAX:
		case N_COALESCE:
			n->nkids = 2 + rnd_int(3);
			break;
		case N_IF:
			n->nkids = 3;
			break;
		case N_CMP:
			{
				static const char *const ops[] = {"<", "<=", ">", ">=", "==", "!="};

				snprintf(n->text, sizeof(n->text), "%s", ops[rnd_int(6)]);
				n->nkids = 2;
			}
			break;
		default:
			n->nkids = 2;
			break;
	}
	for (i = 0; i < n->nkids; i++)
		n->kids[i] = gen(depth - 1 - rnd_int(2));
	return n;
}

static void
free_tree(Node *n)
{
	int			i;

	for (i = 0; i < n->nkids; i++)
		free_tree(n->kids[i]);
	free(n);
}

/* precedence levels: 0 comparison, 1 sum, 2 term, 3 unary, 4 primary */
static int
level(const Node *n)
{
	switch (n->kind)
	{
		case N_CONST:
			return n->text[0] == '-' ? 3 : 4;
		case N_NEG:
			return 3;
		case N_ADD:
		case N_SUB:
			return 1;
		case N_MUL:
		case N_DIV:
			return 2;
		case N_CMP:
			return 0;
		default:
			return 4;
	}
}

static void print_node(const Node *n, int need, DegBuf *b);

static void
print_args(const Node *n, const char *name, DegBuf *b)
{
	int			i;

	degbuf_puts(b, name);
	degbuf_puts(b, rnd_int(4) == 0 ? " (" : "(");
	for (i = 0; i < n->nkids; i++)
	{
		if (i > 0)
			degbuf_puts(b, rnd_int(2) ? ", " : ",");
		print_node(n->kids[i], 0, b);
	}
	if (n->kind == N_ROUND2)
	{
		degbuf_puts(b, ", ");
		degbuf_puts(b, n->text);
	}
	degbuf_puts(b, ")");
}

static void
print_node(const Node *n, int need, DegBuf *b)
{
	bool		paren = level(n) < need || rnd_int(10) == 0;
	static const char *const mul[] = {" * ", "*", " × ", "×"};
	static const char *const dvd[] = {" / ", "/", " ÷ ", "÷"};

	if (paren)
		degbuf_puts(b, "(");
	switch (n->kind)
	{
		case N_CONST:
			degbuf_puts(b, n->text);
			break;
		case N_SLOT:
			if (rnd_int(2))
				degbuf_puts(b, "inputParameters.");
			degbuf_puts(b, slot_names[n->slot]);
			break;
		case N_NEG:
			degbuf_puts(b, "-");
			/* "--5" would read as a negative literal negated: the same value */
			print_node(n->kids[0], 3, b);
			break;
		case N_ADD:
		case N_SUB:
			print_node(n->kids[0], 1, b);
			/* a space before "-": after a dotted reference a hyphen would join */
			degbuf_puts(b, n->kind == N_ADD ? (rnd_int(2) ? " + " : "+") : " - ");
			print_node(n->kids[1], 2, b);
			break;
		case N_MUL:
		case N_DIV:
			print_node(n->kids[0], 2, b);
			degbuf_puts(b, n->kind == N_MUL ? mul[rnd_int(4)] : dvd[rnd_int(4)]);
			print_node(n->kids[1], 3, b);
			break;
		case N_CMP:
			print_node(n->kids[0], 1, b);
			degbuf_puts(b, " ");
			degbuf_puts(b, n->text);
			degbuf_puts(b, " ");
			print_node(n->kids[1], 1, b);
			break;
		case N_MIN:
			print_args(n, "min", b);
			break;
		case N_MAX:
			print_args(n, "max", b);
			break;
		case N_ABS:
			print_args(n, "abs", b);
			break;
		case N_FLOOR:
			print_args(n, "floor", b);
			break;
		case N_CEIL:
			print_args(n, "ceil", b);
			break;
		case N_ROUND:
		case N_ROUND2:
			print_args(n, "round", b);
			break;
		case N_IF:
			print_args(n, "if", b);
			break;
		case N_COALESCE:
			print_args(n, "coalesce", b);
			break;
	}
	if (paren)
		degbuf_puts(b, ")");
}

/* the reference semantics, directly on decimal.h; 0 value, 1 missing, 2 error */
static int
direct(const Node *n, Decimal *res)
{
	Decimal		k[4];
	int			st[4];
	int			i,
				r = 0;
	DecStatus	s = DEC_OK;

	switch (n->kind)
	{
		case N_CONST:
			return dec_from_text(res, n->text, strlen(n->text), NULL) == DEC_OK ? 0 : 2;
		case N_SLOT:
			if (slot_values[n->slot].kind != FORMULA_VALUE_NUMBER)
				return 1;
			return dec_copy(res, &slot_values[n->slot].number, NULL) == DEC_OK ? 0 : 2;
		case N_IF:
			r = direct(n->kids[0], res);
			if (r != 0)
				return r;
			return direct(n->kids[dec_is_zero(res) ? 2 : 1], res);
		case N_COALESCE:
			for (i = 0; i < n->nkids; i++)
			{
				r = direct(n->kids[i], res);
				if (r != 1)
					return r;
			}
			return 1;
		default:
			break;
	}
	/* strict operations: every argument, in order, then missing propagates */
	for (i = 0; i < n->nkids; i++)
		dec_init(&k[i]);
	for (i = 0; i < n->nkids; i++)
	{
		st[i] = direct(n->kids[i], &k[i]);
		if (st[i] == 2)
		{
			r = 2;
			goto out;
		}
		if (st[i] == 1)
			r = 1;
	}
	if (r == 1)
		goto out;
	switch (n->kind)
	{
		case N_NEG:
			s = dec_negate(res, &k[0], NULL);
			break;
		case N_ABS:
			s = dec_abs(res, &k[0], NULL);
			break;
		case N_FLOOR:
			s = dec_floor(res, &k[0], NULL);
			break;
		case N_CEIL:
			s = dec_ceil(res, &k[0], NULL);
			break;
		case N_ROUND:
			s = dec_round(res, &k[0], 0, DEC_ROUND_HALF_AWAY, NULL);
			break;
		case N_ROUND2:
			s = dec_round(res, &k[0], atoi(n->text), DEC_ROUND_HALF_AWAY, NULL);
			break;
		case N_ADD:
			s = dec_add(res, &k[0], &k[1], NULL);
			break;
		case N_SUB:
			s = dec_sub(res, &k[0], &k[1], NULL);
			break;
		case N_MUL:
			s = dec_mul(res, &k[0], &k[1], NULL);
			break;
		case N_DIV:
			s = dec_div(res, &k[0], &k[1], NULL);
			break;
		case N_MIN:
		case N_MAX:
			s = dec_copy(res, &k[0], NULL);
			for (i = 1; i < n->nkids && s == DEC_OK; i++)
				s = n->kind == N_MIN ? dec_min(res, res, &k[i], NULL) : dec_max(res, res, &k[i], NULL);
			break;
		case N_CMP:
			{
				int			c = dec_cmp(&k[0], &k[1]);
				bool		t = strcmp(n->text, "<") == 0 ? c < 0 : strcmp(n->text, "<=") == 0 ? c <= 0 :
					strcmp(n->text, ">") == 0 ? c > 0 : strcmp(n->text, ">=") == 0 ? c >= 0 :
					strcmp(n->text, "==") == 0 ? c == 0 : c != 0;

				s = dec_from_int64(res, t ? 1 : 0, NULL);
			}
			break;
	}
	r = s == DEC_OK ? 0 : 2;
out:
	for (i = 0; i < n->nkids; i++)
		dec_free(&k[i]);
	return r;
}

static void
test_property(void)
{
	static const FormulaField params[NSLOTS] = {
		{"a", FORMULA_TYPE_NUMBER}, {"b", FORMULA_TYPE_NUMBER},
		{"x", FORMULA_TYPE_UNKNOWN}, {"y", FORMULA_TYPE_DURATION}
	};
	FormulaScope scope = {NULL, 0, params, NSLOTS, NULL, 0, NULL, 0, false};
	FormulaStack *stack = formula_stack_create();
	int			i,
				j;
	int			agree = 0,
				values = 0,
				missings = 0,
				errors = 0;
	int			trials = 3000;

	for (i = 0; i < NSLOTS; i++)
		dec_init(&slot_values[i].number);
	for (i = 0; i < trials; i++)
	{
		Node	   *tree = gen(1 + rnd_int(6));
		DegBuf		text;
		FormulaError err;
		FormulaProgram *p;
		FormulaValue env_values[NSLOTS];
		FormulaEnv	env;
		Decimal		want = DEC_INIT,
					got = DEC_INIT;
		int			w;
		FormulaResult g;
		bool		ok;

		for (j = 0; j < NSLOTS; j++)
		{
			slot_values[j].kind = rnd_int(5) == 0 ? FORMULA_VALUE_MISSING : FORMULA_VALUE_NUMBER;
			dec_from_int64(&slot_values[j].number, rnd_int(21) - 10, NULL);
			if (rnd_int(2))
			{
				Decimal		hundred = DEC_INIT;

				dec_from_int64(&hundred, 100, NULL);
				dec_div_round(&slot_values[j].number, &slot_values[j].number, &hundred, 2, DEC_ROUND_HALF_EVEN, NULL);
				dec_free(&hundred);
			}
		}
		degbuf_init(&text);
		print_node(tree, 0, &text);
		p = formula_compile(text.data, text.len, &scope, NULL, &err);
		if (p == NULL)
		{
			CHECK(false, "random formula compiles: %s: %s", text.data, err.message);
			degbuf_free(&text);
			free_tree(tree);
			continue;
		}
		/* slots by name, in the program's order */
		for (j = 0; j < formula_program_nslots(p); j++)
		{
			const FormulaSlot *s = formula_program_slot(p, j);
			int			m;

			for (m = 0; m < NSLOTS; m++)
				if (strcmp(s->name, slot_names[m]) == 0)
					memcpy(&env_values[j], &slot_values[m], sizeof(FormulaValue));
		}
		env.slots = env_values;
		env.nslots = formula_program_nslots(p);
		env.tariff = NULL;
		env.tariff_context = NULL;
		w = direct(tree, &want);
		g = formula_eval(p, &env, stack, &got, &err);
		if (w == 0)
		{
			char	   *ws = malloc(dec_text_size(&want));
			char	   *gs = malloc(dec_text_size(&got));

			dec_format(&want, ws);
			dec_format(&got, gs);
			ok = g == FORMULA_RESULT_VALUE && strcmp(ws, gs) == 0;
			if (!ok)
				printf("# %s\n#   want %s, got %s (%d)\n", text.data, ws, gs, (int) g);
			free(ws);
			free(gs);
			values++;
		}
		else if (w == 1)
		{
			ok = g == FORMULA_RESULT_MISSING;
			missings++;
		}
		else
		{
			ok = g == FORMULA_RESULT_ERROR;
			errors++;
		}
		if (!ok)
			printf("# disagreement on %s: want %d, got %d\n", text.data, w, (int) g);
		else
			agree++;
		dec_free(&want);
		dec_free(&got);
		formula_program_free(p);
		degbuf_free(&text);
		free_tree(tree);
	}
	CHECK(agree == trials, "random trees: %d of %d agree (%d values, %d missing, %d errors)",
		  agree, trials, values, missings, errors);
	CHECK(values > trials / 3 && missings > 0 && errors > 0, "the random trees cover values, missings and errors");
	printf("# random trees: %d values, %d missing, %d errors\n", values, missings, errors);
	for (i = 0; i < NSLOTS; i++)
		dec_free(&slot_values[i].number);
	formula_stack_free(stack);
}

static void
test_types(void)
{
	CHECK(formula_type_from_name("DATE_TIME", 9) == FORMULA_TYPE_DATE_TIME, "type name");
	CHECK(formula_type_from_name("OFFER_CURVE", 11) == FORMULA_TYPE_OFFER_CURVE, "type name 2");
	CHECK(formula_type_from_name("UNKNOWN", 7) == -1, "UNKNOWN is not declarable");
	CHECK(formula_type_from_name("NUMBERS", 7) == -1, "not a type");
	CHECK_STR(formula_type_name(FORMULA_TYPE_BOOLEAN), "BOOLEAN", "type name back");
}

/* inputs given later compile with a warning; indexed elements have no declared type */
static void
test_open_inputs_and_index_types(void)
{
	static const FormulaField mca_inputs[] = {
		{"marketMakingFee", FORMULA_TYPE_NUMBER}, {"clearedPower", FORMULA_TYPE_OBJECT}
	};
	static const FormulaScopeRole roles[] = {
		{DEG_ROLE_MARKET_CLEARING_AGENT, mca_inputs, 2}, {DEG_ROLE_PROSUMER, NULL, 0}
	};
	FormulaScope closed = {roles, 2, NULL, 0, NULL, 0, NULL, 0, false};
	FormulaScope open = {roles, 2, NULL, 0, NULL, 0, NULL, 0, true};
	const char *later = "roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice + 1";
	const char *indexed = "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] * 2";
	const char *unindexed = "roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower * 2";
	FormulaWarnings w = {NULL, 0};
	FormulaError err;
	FormulaProgram *p;

	p = formula_compile(later, strlen(later), &closed, &w, &err);
	CHECK(p == NULL && strstr(err.message, "names no role input of MARKET_CLEARING_AGENT") != NULL,
		  "closed scope: an undeclared input is an error: %s", err.message);
	formula_program_free(p);
	formula_warnings_free(&w);

	p = formula_compile(later, strlen(later), &open, &w, &err);
	CHECK(p != NULL && w.count == 1 &&
		  strstr(w.items[0].message, "role MARKET_CLEARING_AGENT does not declare input \"clearingPrice\" yet") != NULL,
		  "open scope: an undeclared input compiles with one warning (%d)", w.count);
	CHECK(p != NULL && formula_program_slot(p, 0)->type == FORMULA_TYPE_UNKNOWN, "its type is unknown");
	formula_program_free(p);
	formula_warnings_free(&w);

	p = formula_compile(indexed, strlen(indexed), &closed, &w, &err);
	CHECK(p != NULL && formula_program_iteration_role(p) == DEG_ROLE_PROSUMER,
		  "an OBJECT input indexed by [PROSUMER.era] is a number per participant: %s", p ? "" : err.message);
	formula_program_free(p);
	formula_warnings_free(&w);

	p = formula_compile(unindexed, strlen(unindexed), &closed, &w, &err);
	CHECK(p == NULL && strstr(err.message, "cannot compute with") != NULL,
		  "the same OBJECT input without an index is refused: %s", err.message);
	formula_program_free(p);
	formula_warnings_free(&w);
}

int
main(void)
{
	test_types();
	test_spec_formulas();
	test_slots_and_warnings();
	test_errors();
	test_eval();
	test_reuse();
	test_storage();
	test_garbage();
	test_property();
	test_open_inputs_and_index_types();
	return unit_done("formula");
}
