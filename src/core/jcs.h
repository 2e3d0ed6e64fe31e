/*
 * jcs.h: the JSON Canonicalization Scheme (RFC 8785), without PostgreSQL.
 *
 * The canonical form is what eddsa-jcs-2022 hashes and signs, so it must be
 * byte for byte what every other implementation produces: object members
 * sorted by the UTF-16 code units of their keys, strings with only the
 * mandatory escapes, numbers as ECMAScript's Number.prototype.toString
 * writes the double, no whitespace.
 */
#ifndef DEG_CORE_JCS_H
#define DEG_CORE_JCS_H

#include "json.h"
#include "mem.h"

#include <stdbool.h>
#include <stddef.h>

/* room for any jcs_format_double output, "-1.2345678901234567e-308" and the like, plus NUL */
#define JCS_DOUBLE_BUFSIZE 32

/*
 * Append the canonical form of a tree to out.  Fails (with *err filled, err
 * may be NULL) only for a tree the parser could not have produced (a
 * non-finite number, duplicate keys, nesting deeper than JSON_MAX_DEPTH) or
 * when out of memory; out may then hold a partial result.  Such an error
 * has only a message: offset, line, column and position are 0.
 */
extern bool jcs_serialize(const JsonNode *node, DegBuf *out, JsonError *err);

/* parse len bytes of JSON and append their canonical form to out */
extern bool jcs_canonicalize(const char *text, size_t len, DegBuf *out,
							 JsonError *err);

/*
 * Write value as ECMAScript Number::toString does (shortest digits that read
 * back as the same double; "1e+21", "1e-7", "0.000001"; -0 as "0") into out
 * (capacity JCS_DOUBLE_BUFSIZE), NUL-terminated.  Returns the length, or 0
 * with out set to "" for NaN and infinities, which JSON cannot hold.
 */
extern size_t jcs_format_double(double value, char *out);

/* append a JSON string literal of utf8[0..len) with the RFC 8785 escapes */
extern bool jcs_append_string(DegBuf *out, const char *utf8, size_t len);

/*
 * Order of two UTF-8 keys by their UTF-16 code units, as RFC 8785 sorts
 * members: negative, zero or positive.
 */
extern int	jcs_compare_keys(const char *a, size_t alen,
							 const char *b, size_t blen);

#endif							/* DEG_CORE_JCS_H */
