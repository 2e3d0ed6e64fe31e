/*
 * deg.c: module initialisation.
 *
 * Each concern has its own file (era.c, ...).  Here the shared library is
 * marked as a PostgreSQL module, and src/core is pointed at palloc so that
 * its allocations belong to the current memory context.
 */
#include "postgres.h"

#include "fmgr.h"

#include "core/mem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

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

void
_PG_init(void)
{
	deg_set_allocator(&palloc_allocator);
}
