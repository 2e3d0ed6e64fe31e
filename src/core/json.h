/*
 * json.h: a strict JSON parser into a tree, without PostgreSQL.
 *
 * The grammar is RFC 8259 with the I-JSON (RFC 7493) restrictions that RFC
 * 8785 canonicalization needs: the text is valid UTF-8, escapes decode to
 * Unicode scalar values (surrogate escapes only as pairs), object keys are
 * unique after decoding, and every number fits a double.  A document that
 * breaks any of these is an error with a position, never a guess, because a
 * canonical form built from a guess would sign different bytes than the
 * author meant.
 *
 * Nodes own their children: json_free releases a whole tree.  Allocation
 * goes through mem.h, so inside the server a tree lives in the current
 * memory context.
 */
#ifndef DEG_CORE_JSON_H
#define DEG_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>

/* deeper nesting is an input error, so recursion over a parsed tree is bounded */
#define JSON_MAX_DEPTH 512

typedef enum JsonKind
{
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
} JsonKind;

typedef struct JsonNode JsonNode;

typedef struct JsonMember
{
	char	   *key;			/* decoded UTF-8, NUL-terminated, may contain NUL */
	size_t		keylen;
	JsonNode   *value;
} JsonMember;

struct JsonNode
{
	JsonKind	kind;
	double		number;			/* JSON_NUMBER: the value, always finite */
	char	   *text;			/* JSON_STRING: decoded UTF-8; JSON_NUMBER: its
								 * source text; NUL-terminated, else NULL */
	size_t		len;			/* bytes in text */
	size_t		count;			/* JSON_ARRAY: items; JSON_OBJECT: members */
	size_t		capacity;		/* allocated slots in items or members */
	JsonNode  **items;			/* JSON_ARRAY, in order */
	JsonMember *members;		/* JSON_OBJECT, in input order, keys unique */
};

typedef struct JsonError
{
	size_t		offset;			/* byte offset of the problem */
	size_t		line;			/* 1-based line of the problem */
	size_t		column;			/* 1-based character in that line */
	size_t		position;		/* 1-based character in the whole text */
	char		message[192];	/* e.g. "duplicate key \"a\" at position 12" */
} JsonError;

/*
 * Parse len bytes (not NUL-terminated).  Returns the tree, or NULL with *err
 * filled (err may be NULL).  Whitespace around the value is allowed,
 * anything else after it is an error.
 */
extern JsonNode *json_parse(const char *text, size_t len, JsonError *err);

extern void json_free(JsonNode *node);	/* node may be NULL */

/* the member of an object with this key, NULL when absent or not an object */
extern JsonNode *json_object_get(const JsonNode *object,
								 const char *key, size_t keylen);
/* the same for a NUL-terminated key */
extern JsonNode *json_get(const JsonNode *object, const char *key);

/*
 * Building trees.  Constructors return NULL when out of memory;
 * json_new_string and json_new_number also for input JSON cannot hold
 * (invalid UTF-8, a non-finite double).
 */
extern JsonNode *json_new_null(void);
extern JsonNode *json_new_bool(bool value);
extern JsonNode *json_new_number(double value);
extern JsonNode *json_new_string(const char *utf8, size_t len);
extern JsonNode *json_new_array(void);
extern JsonNode *json_new_object(void);

/*
 * Add value at the end of an array, or set the member key of an object (in
 * place when the key exists, which frees the old value; appended
 * otherwise).  Both always take ownership of value: on failure (value NULL,
 * out of memory, not an array/object, key not valid UTF-8) value is freed
 * and false returned, so a constructor can be passed directly.
 */
extern bool json_array_append(JsonNode *array, JsonNode *value);
extern bool json_object_set(JsonNode *object, const char *key, size_t keylen,
							JsonNode *value);

/*
 * Detach the member key from an object, keeping the order of the others.
 * Returns its value, now owned by the caller, or NULL when absent.
 */
extern JsonNode *json_object_remove(JsonNode *object,
									const char *key, size_t keylen);

/*
 * A deep copy, NULL when out of memory.  (There is no shallow copy: a
 * container sharing children with another would make json_free and
 * json_object_set ambiguous about who frees what.  Removing and setting
 * members of a parsed tree, which the caller owns, needs no copy.)
 */
extern JsonNode *json_copy(const JsonNode *node);

/*
 * The same JSON data: numbers by value (so 1.0 equals 1, -0 equals 0),
 * strings by bytes, arrays in order, objects as sets of members.
 */
extern bool json_equal(const JsonNode *a, const JsonNode *b);

extern const char *json_kind_name(JsonKind kind);

/* true when bytes[0..len) is valid UTF-8 (no surrogates, nothing above U+10FFFF) */
extern bool json_utf8_valid(const char *bytes, size_t len);

#endif							/* DEG_CORE_JSON_H */
