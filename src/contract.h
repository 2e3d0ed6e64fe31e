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
} EvalLineInfo;

/* the evaluator of contract (reusing old when it is the same contract), built in cxt */
extern ContractEvaluator *contract_evaluator_get(MemoryContext cxt, ContractEvaluator *old, Datum contract);
extern const char *contract_evaluator_id(const ContractEvaluator *ev);
/* the contract's currency: inputParameters.currency, a role's currency, offer curve or tariff currency */
extern const char *contract_evaluator_currency(const ContractEvaluator *ev);
extern int	contract_evaluator_count(const ContractEvaluator *ev);
extern void contract_evaluator_info(const ContractEvaluator *ev, int i, EvalLineInfo *info);

/*
 * Evaluate instance i with bindings; false when the result is missing.  The
 * quantity is the value of the energy the formula reads (a telemetry field
 * ending in KWh, deliveredQuantity or contractedQuantity), when it reads one.
 */
extern bool contract_evaluator_eval(ContractEvaluator *ev, int i, Jsonb *bindings,
									const EvalInterval *interval, Decimal *result,
									Decimal *quantity, bool *has_quantity);

#endif							/* DEG_CONTRACT_H */
