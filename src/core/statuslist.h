/*
 * statuslist.h: W3C Bitstring Status List (and its predecessor
 * StatusList2021), without PostgreSQL.
 *
 * A list is a plain byte array; entry i is bit (7 - i % 8) of byte i / 8, so
 * index 0 is the most significant bit of byte 0 (the W3C order; the legacy
 * least-significant-first order reads index 50000 as 50007).
 *
 * encodedList is GZIP (RFC 1952) then base64url without padding; a
 * BitstringStatusList adds the multibase prefix "u", a StatusList2021 has no
 * prefix.  The encoder pins zlib's settings (level 6, windowBits 31,
 * memLevel 8, default strategy), which reproduce the strings of the W3C
 * specification and the Digital Bazaar libraries byte for byte.
 */
#ifndef DEG_CORE_STATUSLIST_H
#define DEG_CORE_STATUSLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "mem.h"

/* the specification's minimum: 16 KiB of entries */
#define STATUSLIST_MIN_ENTRIES 131072
/* decompression bomb guard: 16 MiB, 134,217,728 one-bit entries */
#define STATUSLIST_MAX_BYTES (16 * 1024 * 1024)

typedef enum StatusListFormat
{
	STATUSLIST_BITSTRING,		/* BitstringStatusList: "u" + base64url(GZIP) */
	STATUSLIST_2021				/* StatusList2021: base64url(GZIP) */
} StatusListFormat;

/* a list of nbytes bytes holds 8 * nbytes entries */
static inline uint64_t
statuslist_length_bits(size_t nbytes)
{
	return (uint64_t) nbytes * 8;
}

/*
 * A new all-zero list of length_bits entries, allocated with deg_alloc
 * (release with deg_free).  length_bits must be a multiple of 8, at least
 * STATUSLIST_MIN_ENTRIES and at most 8 * STATUSLIST_MAX_BYTES.
 */
extern bool statuslist_create(uint64_t length_bits, uint8_t **list, size_t *nbytes,
							  CodecError *err);

/* entry index; an index at or past 8 * nbytes is an error */
extern bool statuslist_get(const uint8_t *list, size_t nbytes, uint64_t index,
						   bool *value, CodecError *err);
extern bool statuslist_set(uint8_t *list, size_t nbytes, uint64_t index,
						   CodecError *err);
extern bool statuslist_clear(uint8_t *list, size_t nbytes, uint64_t index,
							 CodecError *err);

/*
 * The encodedList text of a list of any non-zero length up to
 * STATUSLIST_MAX_BYTES, appended to out (NUL-terminated).
 */
extern bool statuslist_encode(const uint8_t *list, size_t nbytes,
							  StatusListFormat format, DegBuf *out,
							  CodecError *err);

/*
 * Decode an encodedList: with a leading "u" as a BitstringStatusList,
 * without as a StatusList2021 (reported in *format when not NULL).  The list
 * is allocated with deg_alloc.  Refused: malformed base64url, anything but a
 * single complete GZIP member, an empty list, and a list that inflates past
 * STATUSLIST_MAX_BYTES (inflation stops there).  The minimum length is not
 * checked here: see statuslist_validate.
 */
extern bool statuslist_decode(const char *text, size_t len,
							  uint8_t **list, size_t *nbytes,
							  StatusListFormat *format, CodecError *err);

/*
 * The specification's STATUS_LIST_LENGTH_ERROR: a list of length_bits bits
 * with entries of status_size bits (1 for revocation and suspension) must
 * have at least STATUSLIST_MIN_ENTRIES entries.
 */
extern bool statuslist_validate(uint64_t length_bits, unsigned int status_size,
								CodecError *err);

#endif							/* DEG_CORE_STATUSLIST_H */
