/*
 * fuzz_era.c: the ERA grammar (src/core/era.c).
 *
 * The input is an address text.  Whatever era_parse accepts must give a
 * valid key whose canonical text parses back to the same key, and whose
 * ancestors are valid keys that contain it.  The input is also tried as a
 * key: a key era_key_valid accepts must format to a text that parses back
 * to it (the planner and binary I/O trust valid keys).
 */
#include "core/era.h"
#include "fuzz.h"

static void
check_key(const uint8_t *key, size_t keylen, const char *what)
{
	char		text[ERA_MAX_FORMAT];
	uint8_t		again[ERA_MAX_KEY];
	size_t		againlen;
	size_t		n;
	size_t		plen;
	EraError	err;
	int			depth;

	FUZZ_ASSERT(keylen > 0 && keylen <= ERA_MAX_KEY, "%s: key length %zu", what, keylen);
	FUZZ_ASSERT(era_key_valid(key, keylen), "%s: key not valid", what);
	n = era_format(key, keylen, text);
	FUZZ_ASSERT(n == strlen(text) && n < ERA_MAX_FORMAT, "%s: format length %zu", what, n);
	FUZZ_ASSERT(era_parse(text, n, again, &againlen, &err),
				"%s: canonical text \"%s\" does not parse: %s", what, text, err.detail);
	FUZZ_ASSERT(againlen == keylen && memcmp(again, key, keylen) == 0,
				"%s: canonical text \"%s\" parses to another key", what, text);
	FUZZ_ASSERT(era_compare(key, keylen, again, againlen) == 0, "%s: compare", what);
	FUZZ_ASSERT(era_contains(key, keylen, key, keylen), "%s: contains itself", what);
	(void) era_kind_name(era_kind(key, keylen));
	(void) era_is_local(key, keylen);

	depth = era_depth(key, keylen);
	FUZZ_ASSERT(depth >= 1, "%s: depth %d of \"%s\"", what, depth, text);
	plen = era_parent_len(key, keylen);
	if (plen == 0)
		FUZZ_ASSERT(depth == 1, "%s: \"%s\" has no parent and depth %d", what, text, depth);
	else
	{
		FUZZ_ASSERT(plen < keylen, "%s: parent length", what);
		FUZZ_ASSERT(era_key_valid(key, plen), "%s: parent of \"%s\" not valid", what, text);
		FUZZ_ASSERT(era_contains(key, plen, key, keylen), "%s: parent of \"%s\" does not contain it", what, text);
		FUZZ_ASSERT(!era_contains(key, keylen, key, plen), "%s: \"%s\" contains its parent", what, text);
		FUZZ_ASSERT(era_compare(key, plen, key, keylen) < 0, "%s: parent of \"%s\" sorts after it", what, text);
		FUZZ_ASSERT(era_depth(key, plen) + 1 == depth, "%s: parent depth of \"%s\"", what, text);
	}
	n = era_root_len(key, keylen);
	if (n > 0)
	{
		FUZZ_ASSERT(n <= keylen && era_key_valid(key, n), "%s: root of \"%s\"", what, text);
		FUZZ_ASSERT(era_contains(key, n, key, keylen), "%s: root of \"%s\" does not contain it", what, text);
	}
	n = era_global_len(key, keylen);
	if (n > 0)
	{
		FUZZ_ASSERT(n <= keylen && era_key_valid(key, n), "%s: global part of \"%s\"", what, text);
		FUZZ_ASSERT(era_contains(key, n, key, keylen), "%s: global part of \"%s\" does not contain it", what, text);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t		key[ERA_MAX_KEY];
	size_t		keylen = 0;
	EraError	err;

	memset(&err, 0, sizeof(err));
	if (era_parse((const char *) data, size, key, &keylen, &err))
		check_key(key, keylen, "parsed");
	else
		FUZZ_ASSERT(strlen(err.detail) < sizeof(err.detail) && err.form != NULL,
					"error without a message");

	/* the same bytes as a stored key */
	if (size > 0 && size <= ERA_MAX_KEY && era_key_valid(data, size))
	{
		char		text[ERA_MAX_FORMAT];

		check_key(data, size, "stored key");
		/* comparison with the parsed key is antisymmetric */
		if (keylen > 0)
			FUZZ_ASSERT(era_compare(data, size, key, keylen) == -era_compare(key, keylen, data, size),
						"compare is not antisymmetric");
		/* a namespace end sentinel formats without overflowing */
		if (size < ERA_MAX_KEY)
		{
			uint8_t		bound[ERA_MAX_KEY + 1];

			memcpy(bound, data, size);
			bound[size] = ERA_NAMESPACE_END;
			era_format(bound, size + 1, text);
		}
	}
	return 0;
}
