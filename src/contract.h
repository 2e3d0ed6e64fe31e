/*
 * contract.h: evaluating a contract's formulas, for the glue that bills.
 *
 * An evaluator is built once per contract (its model, compiled programs and
 * static slot values) and reused for every interval; only telemetry, signals
 * and the built-in interval variables change between evaluations.
 */
#ifndef DEG_CONTRACT_H
#define DEG_CONTRACT_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "core/decimal.h"
#include "core/formula.h"

typedef struct EvalCache ContractEvaluator;

/* the built-in interval variables: intervalStart, intervalEnd, intervalHours */
typedef struct EvalInterval
{
	bool		given;
	int64		start;			/* PostgreSQL timestamps */
	int64		end;
} EvalInterval;

typedef struct EvalLineInfo
{
	const char *kind;			/* flow, metric, penalty */
	const char *id;				/* flow number, metricId */
	int			number;
	int			from_role;		/* -1 when none */
	int			to_role;
	const char *participant;	/* the [ROLE.era] participant, or NULL */
	const char *from_era;		/* who fills from_role for this line, NULL if open or several */
	const char *to_era;
	const char *formula;
	const char *description;	/* NULL when none */
	bool		one_off;		/* reads no telemetry, signal or interval variable */
	const void *metric;			/* internal */
} EvalLineInfo;

/* the evaluator of contract (reusing old when it is the same contract), built in cxt */
extern ContractEvaluator *contract_evaluator_get(MemoryContext cxt, ContractEvaluator *old, Datum contract);
/* changes whenever an evaluator is rebuilt: state derived from one can tell it is stale */
extern uint64 contract_evaluator_generation(const ContractEvaluator *ev);
extern const char *contract_evaluator_id(const ContractEvaluator *ev);
/* the contract's currency: inputParameters.currency, a role's currency, offer curve or tariff currency */
extern const char *contract_evaluator_currency(const ContractEvaluator *ev);
extern int	contract_evaluator_count(const ContractEvaluator *ev);
extern void contract_evaluator_info(const ContractEvaluator *ev, int i, EvalLineInfo *info);
extern int64 contract_evaluator_created_at(const ContractEvaluator *ev);
/* an inputParameters value (a string or number) as text, or NULL */
extern const char *contract_evaluator_parameter(const ContractEvaluator *ev, const char *path);
/* a metric's target: a number (at least) or {min, max}; false when it has none */
extern bool contract_evaluator_metric_target(const ContractEvaluator *ev, int i, Decimal *min, bool *has_min,
											 Decimal *max, bool *has_max);

/*
 * The dynamic slots of instance i: telemetry fields, input signals and the
 * built-in variables the contract does not define.  contract_evaluator_
 * dynamic_slot returns NULL for a slot whose value the contract fixes.
 */
extern int	contract_evaluator_nslots(const ContractEvaluator *ev, int i);
extern const FormulaSlot *contract_evaluator_dynamic_slot(const ContractEvaluator *ev, int i, int slot);
extern const FormulaSlot *contract_evaluator_slot(const ContractEvaluator *ev, int i, int slot);

/*
 * A binder is called for every slot but the interval variables: it sets
 * *value, or leaves it as it is (the contract's value; missing for
 * telemetry).  Values it makes must live until the evaluation returns.
 */
typedef void (*EvalBindFn) (void *context, const ContractEvaluator *ev, int instance, int slot,
							const FormulaSlot *s, FormulaValue *value);

/*
 * Evaluate instance i; false when the result is missing.  The interval
 * variables come from interval (when given), the other dynamic slots from
 * bind (may be NULL).  The quantity is the value of the energy the formula
 * reads (a telemetry field ending in KWh, deliveredQuantity or
 * contractedQuantity), when it reads one.
 */
extern bool contract_evaluator_eval(ContractEvaluator *ev, int i, EvalBindFn bind, void *context,
									const EvalInterval *interval, Decimal *result,
									Decimal *quantity, bool *has_quantity);

#endif							/* DEG_CONTRACT_H */
