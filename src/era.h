/*
 * era.h: the deg.era datum, for the glue files that store or read ERAs.
 *
 * On disk an era is a varlena holding a format version byte and the sort key
 * of src/core/era.h.  Values are short, so they are read with
 * PG_DETOAST_DATUM_PACKED and never copied just to look at them.
 */
#ifndef DEG_ERA_H
#define DEG_ERA_H

#include "postgres.h"

#include "fmgr.h"

#include "core/era.h"

#define ERA_FORMAT_VERSION 1

#define DatumGetEraPP(X) ((struct varlena *) PG_DETOAST_DATUM_PACKED(X))
#define PG_GETARG_ERA_PP(n) DatumGetEraPP(PG_GETARG_DATUM(n))

static inline const uint8 *
era_datum_key(const struct varlena *v)
{
	return (const uint8 *) VARDATA_ANY(v) + 1;
}

static inline size_t
era_datum_keylen(const struct varlena *v)
{
	return VARSIZE_ANY_EXHDR(v) - 1;
}

/* a new era datum (palloc'd in the current context) holding key[0..keylen) */
extern Datum era_datum_from_key(const uint8 *key, size_t keylen);

/* parse text into an era datum, or raise 22P02 naming the expected form */
extern Datum era_datum_from_text(const char *text, size_t len);

/* the canonical text of an era datum, palloc'd */
extern char *era_datum_to_cstring(const struct varlena *v);

#endif							/* DEG_ERA_H */
