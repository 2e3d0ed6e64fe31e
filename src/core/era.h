/*
 * era.h: the Energy Resource Address grammar, without PostgreSQL.
 *
 * An ERA is parsed into a sort key: a byte string whose memcmp order is the
 * ERA order, in which the members of a namespace form one contiguous range,
 * and from which the canonical text is rebuilt exactly.  The key is what the
 * extension stores, so comparison, hashing and containment are byte
 * operations.
 *
 * Key layout: one family byte, then the components of the address from the
 * most general to the most specific, separated by bytes below every byte a
 * component may contain:
 *
 *   domain   a.b.example.com        10 "com" 03 "example" 03 "b" 03 "a"
 *   handle   user@example.com       10 "com" 03 "example" 02 "user"
 *   DID      did:web:example.com:u  20 "web" 03 "example.com" 03 "u"
 *   EVSE id  IN*ECO*BTM*01          30 "IN" 03 "ECO" 03 "BTM" 03 "01"
 *   local    <global>/x/y           key(<global>) 01 "x" 01 "y"
 *   bare     x/y                    40 "x" 01 "y"
 *
 * Component bytes are all >= 0x25, so a key sorts right after the key of its
 * parent and before anything that is not inside it: the namespace of K is
 * exactly the keys in [K, K || 04).
 */
#ifndef DEG_CORE_ERA_H
#define DEG_CORE_ERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* limits of the text form */
#define ERA_MAX_TEXT 1024		/* bytes in all */
#define ERA_MAX_DOMAIN 253		/* characters of a domain name */
#define ERA_MAX_LABEL 63		/* characters of a DNS label */
#define ERA_MAX_NAME 63			/* characters of a local name or EVSE part */
#define ERA_MAX_HANDLE_LOCAL 64 /* characters before the @ of a handle */

/* a key is never longer than its text plus the family byte and a sentinel */
#define ERA_MAX_KEY (ERA_MAX_TEXT + 2)
/* room for era_format's output, including the "/" "*" after a sentinel and a NUL */
#define ERA_MAX_FORMAT (ERA_MAX_TEXT + 8)

#define ERA_SEP_LOCAL 0x01
#define ERA_SEP_HANDLE 0x02
#define ERA_SEP_LABEL 0x03
/* appended to a key, sorts after every member of its namespace */
#define ERA_NAMESPACE_END 0x04

#define ERA_FAMILY_DOMAIN 0x10 /* domains, handles, and locals under them */
#define ERA_FAMILY_DID 0x20
#define ERA_FAMILY_EVSE 0x30
#define ERA_FAMILY_LOCAL 0x40 /* local names whose global parent is unknown */

typedef enum EraKind
{
	ERA_KIND_DOMAIN,
	ERA_KIND_HANDLE,
	ERA_KIND_DID,
	ERA_KIND_EVSE,
	ERA_KIND_LOCAL
} EraKind;

typedef struct EraError
{
	const char *form;	 /* the form that was expected, e.g. "a domain name" */
	size_t		position; /* 1-based character position, 0 when not about one */
	char		detail[192];
} EraError;

/*
 * Parse len bytes of text.  On success, writes the key (at most
 * ERA_MAX_KEY bytes) and returns true.  On failure fills *err and returns
 * false.  Any bytes are safe: the text need not be NUL-terminated, valid
 * UTF-8 or short.
 */
extern bool era_parse(const char *text, size_t len,
					  uint8_t *key, size_t *keylen, EraError *err);

/*
 * Write the canonical text of a key into out (capacity ERA_MAX_FORMAT),
 * NUL-terminated; returns its length.  A key that ends in ERA_NAMESPACE_END
 * (made only by the planner as a range bound) prints its namespace followed by "/" "*".
 */
extern size_t era_format(const uint8_t *key, size_t keylen, char *out);

/* structural checks of a stored key: true when it could have come from era_parse */
extern bool era_key_valid(const uint8_t *key, size_t keylen);

extern int	era_compare(const uint8_t *a, size_t alen,
						const uint8_t *b, size_t blen);

extern EraKind era_kind(const uint8_t *key, size_t keylen);
extern const char *era_kind_name(EraKind kind);
extern bool era_is_local(const uint8_t *key, size_t keylen);

/*
 * The hierarchy.  Every ancestor's key is a prefix of the key, so these
 * return a prefix length, 0 when there is none.
 */
extern size_t era_parent_len(const uint8_t *key, size_t keylen);
extern size_t era_root_len(const uint8_t *key, size_t keylen);
extern size_t era_global_len(const uint8_t *key, size_t keylen);
extern int	era_depth(const uint8_t *key, size_t keylen);

/* inner lies inside outer (or is outer) */
extern bool era_contains(const uint8_t *outer, size_t outerlen,
						 const uint8_t *inner, size_t innerlen);

#endif							/* DEG_CORE_ERA_H */
