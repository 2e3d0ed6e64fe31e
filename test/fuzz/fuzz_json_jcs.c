/*
 * fuzz_json_jcs.c: the JSON parser (src/core/json.c) and RFC 8785
 * canonicalization (src/core/jcs.c).
 *
 * The input is a JSON text.  What json_parse accepts must canonicalize,
 * and the canonical form must parse to an equal tree and canonicalize to
 * itself (a signature over it must not depend on who canonicalized).  A
 * deep copy is equal, and rebuilding the tree member by member through the
 * constructors gives the same canonical form.
 */
#include "core/jcs.h"
#include "core/json.h"
#include "fuzz.h"

#include <math.h>

/* the tree rebuilt through the public constructors */
static JsonNode *
rebuild(const JsonNode *n)
{
	JsonNode   *r = NULL;
	size_t		i;

	switch (n->kind)
	{
		case JSON_NULL:
			return json_new_null();
		case JSON_FALSE:
			return json_new_bool(false);
		case JSON_TRUE:
			return json_new_bool(true);
		case JSON_NUMBER:
			return json_new_number(n->number);
		case JSON_STRING:
			return json_new_string(n->text, n->len);
		case JSON_ARRAY:
			r = json_new_array();
			for (i = 0; r && i < n->count; i++)
				FUZZ_ASSERT(json_array_append(r, rebuild(n->items[i])), "append");
			return r;
		case JSON_OBJECT:
			r = json_new_object();
			for (i = 0; r && i < n->count; i++)
				FUZZ_ASSERT(json_object_set(r, n->members[i].key, n->members[i].keylen,
											rebuild(n->members[i].value)), "set");
			return r;
	}
	return NULL;
}

/* every node as the parser promises */
static void
check_tree(const JsonNode *n, int depth)
{
	size_t		i,
				j;

	FUZZ_ASSERT(depth <= JSON_MAX_DEPTH + 1, "depth %d", depth);
	switch (n->kind)
	{
		case JSON_NUMBER:
			FUZZ_ASSERT(isfinite(n->number), "non-finite number");
			FUZZ_ASSERT(n->text != NULL && strlen(n->text) == n->len, "number text");
			break;
		case JSON_STRING:
			FUZZ_ASSERT(n->text != NULL && n->text[n->len] == '\0', "string text");
			FUZZ_ASSERT(json_utf8_valid(n->text, n->len), "string is not UTF-8");
			break;
		case JSON_ARRAY:
			for (i = 0; i < n->count; i++)
				check_tree(n->items[i], depth + 1);
			break;
		case JSON_OBJECT:
			for (i = 0; i < n->count; i++)
			{
				FUZZ_ASSERT(json_utf8_valid(n->members[i].key, n->members[i].keylen), "key is not UTF-8");
				FUZZ_ASSERT(json_object_get(n, n->members[i].key, n->members[i].keylen) == n->members[i].value,
							"json_object_get finds another member");
				for (j = 0; j < i && n->count < 64; j++)
					FUZZ_ASSERT(n->members[j].keylen != n->members[i].keylen ||
								memcmp(n->members[j].key, n->members[i].key, n->members[i].keylen) != 0,
								"duplicate key");
				check_tree(n->members[i].value, depth + 1);
			}
			break;
		default:
			break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	JsonError	err;
	JsonNode   *tree;
	JsonNode   *again;
	JsonNode   *copy;
	JsonNode   *built;
	DegBuf		c1,
				c2,
				c3,
				c4;

	memset(&err, 0, sizeof(err));
	tree = json_parse((const char *) data, size, &err);
	degbuf_init(&c1);
	if (tree == NULL)
	{
		FUZZ_ASSERT(err.offset <= size && err.message[0] != '\0' && err.line >= 1 && err.column >= 1,
					"error without a place: offset %zu line %zu column %zu \"%s\"",
					err.offset, err.line, err.column, err.message);
		FUZZ_ASSERT(!jcs_canonicalize((const char *) data, size, &c1, NULL),
					"jcs_canonicalize accepts what json_parse refuses");
		degbuf_free(&c1);
		return 0;
	}
	check_tree(tree, 0);

	FUZZ_ASSERT(jcs_serialize(tree, &c1, &err), "parsed tree does not serialize: %s", err.message);
	FUZZ_ASSERT(json_utf8_valid(c1.data, c1.len), "canonical form is not UTF-8");

	/* the canonical form parses to the same data and is a fixed point */
	again = json_parse(c1.data, c1.len, &err);
	FUZZ_ASSERT(again != NULL, "canonical form does not parse: %s\n%s", err.message, c1.data);
	FUZZ_ASSERT(json_equal(tree, again) && json_equal(again, tree),
				"canonical form parses to other data:\n%s", c1.data);
	degbuf_init(&c2);
	FUZZ_ASSERT(jcs_serialize(again, &c2, &err), "reparsed tree does not serialize");
	FUZZ_ASSERT(c1.len == c2.len && memcmp(c1.data, c2.data, c1.len) == 0,
				"canonicalization is not idempotent:\n%s\n%s", c1.data, c2.data);

	/* jcs_canonicalize is parse + serialize */
	degbuf_init(&c3);
	FUZZ_ASSERT(jcs_canonicalize((const char *) data, size, &c3, &err), "jcs_canonicalize fails");
	FUZZ_ASSERT(c1.len == c3.len && memcmp(c1.data, c3.data, c1.len) == 0, "jcs_canonicalize differs");

	/* a deep copy, and the tree rebuilt by the constructors, are the same data */
	copy = json_copy(tree);
	FUZZ_ASSERT(copy != NULL && json_equal(tree, copy), "copy differs");
	built = rebuild(tree);
	FUZZ_ASSERT(built != NULL && json_equal(tree, built), "rebuilt tree differs");
	degbuf_init(&c4);
	FUZZ_ASSERT(jcs_serialize(built, &c4, &err), "rebuilt tree does not serialize");
	FUZZ_ASSERT(c1.len == c4.len && memcmp(c1.data, c4.data, c1.len) == 0, "rebuilt tree canonicalizes differently");

	/* removing a member and setting it back changes nothing but the order */
	if (copy->kind == JSON_OBJECT && copy->count > 0)
	{
		char	   *key = fuzz_strndup(copy->members[0].key, copy->members[0].keylen);
		size_t		keylen = copy->members[0].keylen;
		JsonNode   *v = json_object_remove(copy, key, keylen);

		FUZZ_ASSERT(v != NULL && json_object_get(copy, key, keylen) == NULL, "remove");
		FUZZ_ASSERT(json_object_set(copy, key, keylen, v), "set back");
		FUZZ_ASSERT(json_equal(tree, copy), "remove and set back differs");
		free(key);
	}

	degbuf_free(&c1);
	degbuf_free(&c2);
	degbuf_free(&c3);
	degbuf_free(&c4);
	json_free(tree);
	json_free(again);
	json_free(copy);
	json_free(built);
	return 0;
}
