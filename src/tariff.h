/*
 * tariff.h: OCPI tariffs for the other glue files (the contract evaluator).
 *
 * The deg.tariff type and deg.tariff_cost live in tariff.c; the pricing
 * itself is src/core/tariff.c.  What other files need is here: reading a
 * tariff given as a parsed JSON object (a role input), and the tariff
 * engine of the formula language's tariff() / computeTariffPrice().
 *
 * How the contract evaluator uses it:
 *
 *   1. When the contract is loaded, for a role input that holds a tariff
 *      (an object, e.g. roles.SELLER.roleInputs.tariff):
 *
 *          Tariff *t = deg_tariff_from_node(value, "roles.SELLER.roleInputs.tariff");
 *
 *      t is palloc'd in CurrentMemoryContext (switch to the evaluator's
 *      long-lived context first); an invalid tariff is an ERROR 22023 that
 *      names `what` and the field path.  Put it in the slot as
 *      {FORMULA_VALUE_OBJECT, .object = t}.
 *
 *   2. Once per evaluator (or per call; it is cheap: the zone is looked up
 *      in PostgreSQL's tz cache):
 *
 *          DegTariffFormulaContext tctx;
 *          deg_tariff_formula_init(&tctx, zone_name_or_NULL);
 *          env.tariff = deg_tariff_formula;
 *          env.tariff_context = &tctx;
 *
 *      An unknown zone is an ERROR 22023 naming it; NULL means UTC.  The
 *      context holds no memory of its own.
 *
 *   3. formula_eval then calls deg_tariff_formula for
 *
 *          computeTariffPrice(roles.SELLER.roleInputs.tariff,
 *                             tradeStartTime, tradeEndTime, deliveredQuantity)
 *
 *      (or tariff(...)): args[0] the Tariff, args[1] and args[2] the start
 *      and end in seconds since 1970-01-01 UTC (fractions allowed, kept to
 *      the microsecond), args[3] the energy in kWh.  The result is the
 *      average price per kWh excl. VAT of a session with one charging period
 *      from start to end delivering that energy (its TIME is the whole
 *      period): total_cost.excl_vat / kWh, rounded half to even to 20
 *      decimal places (trailing zeros dropped), so that "× deliveredQuantity"
 *      gives the session's cost excl. VAT, FLAT fees, step sizes and
 *      min/max price included.  kWh = 0 gives MISSING.  Any other number of
 *      arguments, end before start, a negative quantity, a currency or
 *      local-time failure: FORMULA_RESULT_ERROR with err->message set.
 *      Decimals throughout; all memory of a call is freed before it returns,
 *      except *result's digits (deg_alloc in CurrentMemoryContext).
 *
 * deg.tariff_price_per_kwh(t, session, energy_kwh, time_zone) in SQL runs
 * the same code path.
 */
#ifndef DEG_TARIFF_H
#define DEG_TARIFF_H

#include "postgres.h"

#include "pgtime.h"

#include "core/decimal.h"
#include "core/formula.h"
#include "core/json.h"
#include "core/tariff.h"

/*
 * A tariff from a parsed JSON object (OCPI 2.2.1 snake_case or DEG
 * camelCase), palloc'd in CurrentMemoryContext; ERROR 22023 naming `what`
 * (e.g. "roles.SELLER.roleInputs.tariff") and the field when invalid:
 * "invalid tariff in <what>: <field>: <problem>" (what NULL: "invalid tariff:
 * ...", as deg.tariff's input says it).  Release with tariff_free + pfree, or
 * with its memory context.
 */
extern Tariff *deg_tariff_from_node(const JsonNode *node, const char *what);

/* the site's time zone for the tariff engine: tz NULL is UTC */
typedef struct DegTariffFormulaContext
{
	pg_tz	   *tz;				/* PostgreSQL's tz cache entry; not owned */
	char		zone[TZ_STRLEN_MAX + 1];	/* the name, for messages */
} DegTariffFormulaContext;

/* look zone up (NULL or "UTC": UTC); ERROR 22023 when PostgreSQL does not know it */
extern void deg_tariff_formula_init(DegTariffFormulaContext *ctx, const char *zone);

/* the FormulaTariffFn of tariff() / computeTariffPrice(); context is a DegTariffFormulaContext * */
extern FormulaResult deg_tariff_formula(void *context, const FormulaValue *args, int nargs,
										Decimal *result, FormulaError *err);

/* pg_tz lookup with deg's errors: ERROR 22023 naming an unknown zone */
extern pg_tz *deg_tariff_zone(const char *zone);

/* the TariffUtcOffsetFn for a pg_tz (ctx is the pg_tz *) */
extern bool deg_tariff_utc_offset(void *ctx, int64_t utc_seconds, int32_t *offset_seconds);

#endif							/* DEG_TARIFF_H */
