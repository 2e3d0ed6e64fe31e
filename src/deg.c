/*
 * deg.c: the module's one-time declarations.
 *
 * Each concern has its own file (era.c, ...); this one only marks the shared
 * library as a PostgreSQL module.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;
