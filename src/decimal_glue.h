/*
 * decimal_glue.h: PostgreSQL numeric <-> src/core decimals.
 *
 * The core Decimal has numeric's own digits (base 10000, weight, sign,
 * dscale), so conversion goes through numeric's binary wire format rather
 * than through text.
 */
#ifndef DEG_DECIMAL_GLUE_H
#define DEG_DECIMAL_GLUE_H

#include "postgres.h"

#include "utils/numeric.h"

#include "core/decimal.h"

extern void numeric_to_decimal(Numeric n, Decimal *out);
extern Numeric decimal_to_numeric(const Decimal *d);
/* a numeric in numeric_send's format (dec_recv reads it) without converting it */
extern size_t numeric_wire_size(Numeric n);
extern void numeric_to_wire(Numeric n, uint8 *out);

/* raise the PostgreSQL error for a failed decimal operation; context prefixes the message */
extern void decimal_report(DecStatus status, const DecError *err, const char *context) pg_attribute_noreturn();

#endif							/* DEG_DECIMAL_GLUE_H */
