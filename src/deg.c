/*
 * deg.c: module initialisation.
 *
 * Each concern has its own file (era.c, ...).  Here the shared library is
 * marked as a PostgreSQL module, src/core is pointed at palloc so that its
 * allocations belong to the current memory context and at
 * CHECK_FOR_INTERRUPTS so that its long computations can be canceled, and
 * the settings are defined.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "core/mem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

extern int	deg_parallel_evaluation_threshold;	/* billing.c */

static void *
core_palloc(size_t size)
{
	return palloc(size);
}

static void *
core_repalloc(void *ptr, size_t size)
{
	return repalloc(ptr, size);
}

static void
core_pfree(void *ptr)
{
	pfree(ptr);
}

static const DegAllocator palloc_allocator = {core_palloc, core_repalloc, core_pfree};

/*
 * src/core's interrupt hook (core/mem.h): a pending cancel, statement
 * timeout or termination raises its error from inside a formula or a long
 * division, and does not return; other interrupts are processed and the
 * work goes on.
 */
static bool
core_check_for_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
	return false;
}

/* settlement's late-data policy (read by deg.settle and deg.settle_due) */
static int	collection_delay_seconds = 3600;
static int	lookback_periods = 2;

void
_PG_init(void)
{
	deg_set_allocator(&palloc_allocator);
	deg_set_interrupt_check(core_check_for_interrupts);

	DefineCustomIntVariable("deg.collection_delay",
							"How old an interval must be before it is settled.",
							"Telemetry arriving later than this is settled as an adjustment by a later run.",
							&collection_delay_seconds,
							3600, 0, PG_INT32_MAX,
							PGC_USERSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	DefineCustomIntVariable("deg.lookback",
							"How many settled periods before the due ones a scheduled run re-checks for late telemetry.",
							NULL,
							&lookback_periods,
							2, 0, 10000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("deg.parallel_evaluation_threshold",
							"How many contracts a settlement run evaluates itself before it starts workers to evaluate the rest.",
							"The workers are at most max_parallel_workers_per_gather; 0 starts them for any number of contracts.",
							&deg_parallel_evaluation_threshold,
							1000, 0, PG_INT32_MAX,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("deg");
}
