/*
 * test_json.c: unit tests of the strict JSON parser and tree in
 * src/core/json.c: the grammar, the I-JSON rules, error positions, the
 * building helpers, and robustness on truncated and mangled input.
 */
#include "core/json.h"
#include "core/jcs.h"
#include "unit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static JsonNode *
parse(const char *text)
{
	JsonError	err;

	return json_parse(text, strlen(text), &err);
}

/* the error message for text, or "OK" when it parses */
static const char *
error_of_len(const char *text, size_t len)
{
	static JsonError err;
	JsonNode   *node = json_parse(text, len, &err);

	if (node != NULL)
	{
		json_free(node);
		return "OK";
	}
	return err.message;
}

static const char *
error_of(const char *text)
{
	return error_of_len(text, strlen(text));
}

static bool
rejects(const char *text)
{
	return strcmp(error_of(text), "OK") != 0;
}

static void
test_values(void)
{
	JsonNode   *n;
	JsonNode   *item;

	n = parse("  {\"b\": [1, -2.5e3, true, false, null], \"a\": \"x\", \"\": {}}\r\n\t");
	CHECK(n != NULL && n->kind == JSON_OBJECT && n->count == 3, "object with three members");
	if (n != NULL && n->count == 3)
	{
		CHECK_STR(n->members[0].key, "b", "members keep input order (first)");
		CHECK_STR(n->members[1].key, "a", "members keep input order (second)");
		CHECK(n->members[2].keylen == 0, "empty key");
		item = json_get(n, "b");
		CHECK(item != NULL && item->kind == JSON_ARRAY && item->count == 5, "array of five");
		if (item != NULL && item->count == 5)
		{
			CHECK(item->items[0]->kind == JSON_NUMBER && item->items[0]->number == 1, "number 1");
			CHECK(item->items[1]->number == -2500, "number -2.5e3 is -2500");
			CHECK_STR(item->items[1]->text, "-2.5e3", "number keeps its source text");
			CHECK(item->items[2]->kind == JSON_TRUE, "true");
			CHECK(item->items[3]->kind == JSON_FALSE, "false");
			CHECK(item->items[4]->kind == JSON_NULL, "null");
		}
		item = json_get(n, "a");
		CHECK(item != NULL && item->kind == JSON_STRING && item->len == 1 &&
			  strcmp(item->text, "x") == 0, "string member");
		CHECK(json_object_get(n, "", 0) != NULL &&
			  json_object_get(n, "", 0)->kind == JSON_OBJECT, "lookup of the empty key");
		CHECK(json_get(n, "c") == NULL, "absent key");
		CHECK(json_get(json_get(n, "a"), "a") == NULL, "lookup in a non-object");
	}
	json_free(n);

	n = parse("\"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\\u20AC\\uD83D\\uDE02\\u0000z\"");
	CHECK(n != NULL && n->kind == JSON_STRING, "escapes parse");
	if (n != NULL)
	{
		static const char want[] = "a\"\\/\b\f\n\r\tA\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x82\0z";

		CHECK(n->len == sizeof(want) - 1 && memcmp(n->text, want, n->len) == 0,
			  "escapes decode to UTF-8, surrogate pair combines, \\u0000 kept (len %zu)", n->len);
	}
	json_free(n);

	n = parse("\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x82\xF4\x8F\xBF\xBF\x7F\"");
	CHECK(n != NULL && n->len == 14, "raw UTF-8 up to U+10FFFF and U+007F are accepted");
	json_free(n);

	n = parse("-0");
	CHECK(n != NULL && n->number == 0 && signbit(n->number), "-0 is negative zero");
	json_free(n);

	n = parse("1E2");
	CHECK(n != NULL && n->number == 100, "capital E exponent");
	json_free(n);
	n = parse("1e-400");
	CHECK(n != NULL && n->number == 0, "underflow reads as 0 (finite, JCS can print it)");
	json_free(n);
	n = parse("4.9e-324");
	CHECK(n != NULL && n->number == 4.9406564584124654e-324, "smallest subnormal");
	json_free(n);
	n = parse("1.7976931348623157e308");
	CHECK(n != NULL && n->number == 1.7976931348623157e308, "largest double");
	json_free(n);
	CHECK(rejects("1.7976931348623159e308"), "just above the largest double rounds to infinity");
	n = parse("0.000000000000000000000000000000000000000000000000000000000001e60");
	CHECK(n != NULL && n->number == 1, "leading fraction zeros carry scale");
	json_free(n);
}

/* numbers of any length read exactly as strtod reads them (the test runs in the C locale) */
static void
test_number_precision(void)
{
	char		text[3000];
	uint64_t	state = 42;
	int			i;
	int			mismatches = 0;
	JsonNode   *n;

	/* 2^53 + 1 is halfway between two doubles: ties to even, a tail beyond 800 digits breaks the tie */
	n = parse("9007199254740993");
	CHECK(n != NULL && n->number == 9007199254740992.0, "halfway rounds to even");
	json_free(n);
	memset(text, 0, sizeof(text));
	strcpy(text, "9007199254740993.");
	memset(text + strlen(text), '0', 1200);
	strcat(text, "1");
	n = parse(text);
	CHECK(n != NULL && n->number == 9007199254740994.0,
		  "a nonzero digit 1200 places after the halfway point rounds up");
	json_free(n);
	text[strlen(text) - 1] = '0';
	n = parse(text);
	CHECK(n != NULL && n->number == 9007199254740992.0, "trailing zeros keep the tie");
	json_free(n);

	for (i = 0; i < 20000; i++)
	{
		size_t		o = 0;
		int			intdigits;
		int			fracdigits;
		int			j;
		char	   *end;
		double		want;

		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		intdigits = (int) (state >> 33) % 30;
		fracdigits = (int) ((state >> 45) % 4 == 0 ? (state >> 20) % 900 : (state >> 20) % 25);
		if ((state >> 60) & 1)
			text[o++] = '-';
		if (intdigits == 0)
			text[o++] = '0';
		for (j = 0; j < intdigits; j++)
		{
			state = state * 6364136223846793005ULL + 1442695040888963407ULL;
			text[o++] = (char) ('0' + (j == 0 ? 1 + (state >> 33) % 9 : (state >> 33) % 10));
		}
		if (fracdigits > 0)
		{
			text[o++] = '.';
			for (j = 0; j < fracdigits; j++)
			{
				state = state * 6364136223846793005ULL + 1442695040888963407ULL;
				text[o++] = (char) ('0' + (state >> 33) % 10);
			}
		}
		if ((state >> 50) & 1)
			o += (size_t) snprintf(text + o, 20, "e%d", (int) ((state >> 7) % 600) - 300);
		text[o] = '\0';
		want = strtod(text, &end);
		n = json_parse(text, o, NULL);
		if (isinf(want))
		{
			if (n != NULL)
				mismatches++;
		}
		else if (n == NULL || n->number != want)
		{
			if (mismatches++ < 3)
				printf("# number mismatch: %s\n", text);
		}
		json_free(n);
	}
	CHECK(mismatches == 0, "20000 random numbers read exactly as strtod reads them (%d differ)", mismatches);
}

static void
test_errors(void)
{
	/* the message names what was expected and where, 1-based in characters */
	CHECK_STR(error_of("{\"a\":1,\"a\":2}"), "duplicate key \"a\" at position 8", "duplicate key");
	CHECK_STR(error_of("{\"a\":1,\"\\u0061\":2}"), "duplicate key \"a\" at position 8",
			  "duplicate key after escape decoding");
	CHECK_STR(error_of("{\"\xC3\xA9\":1, \"\xC3\xA9\":2}"), "duplicate key \"\xC3\xA9\" at position 9",
			  "duplicate non-ASCII key, position in characters");
	CHECK_STR(error_of("[1, \"\xFF\"]"), "invalid UTF-8 byte 0xFF at position 6", "invalid byte in a string");
	CHECK_STR(error_of("\xFF"), "invalid UTF-8 byte 0xFF at position 1", "invalid byte outside a string");
	CHECK_STR(error_of("{\"a\" 1}"), "expected ':' after object key, found \"1\" at position 6", "missing colon");
	CHECK_STR(error_of("[1 2]"), "expected ',' or ']' after an array element, found \"2\" at position 4",
			  "missing comma");
	CHECK_STR(error_of("[1,]"), "trailing comma in an array at position 4", "trailing comma in an array");
	CHECK_STR(error_of("{\"a\":1,}"), "trailing comma in an object at position 8", "trailing comma in an object");
	CHECK_STR(error_of("01"), "leading zero in a number at position 1", "leading zero");
	CHECK_STR(error_of("-01"), "leading zero in a number at position 2", "negative leading zero");
	CHECK_STR(error_of("1."), "expected a digit after the decimal point, found end of input at position 3",
			  "1.");
	CHECK_STR(error_of(".5"), "expected a value, found \".\" at position 1", ".5");
	CHECK_STR(error_of("+1"), "expected a value, found \"+\" at position 1", "+1");
	CHECK_STR(error_of("1e"), "expected a digit in the exponent, found end of input at position 3", "1e");
	CHECK_STR(error_of("1e+"), "expected a digit in the exponent, found end of input at position 4", "1e+");
	CHECK_STR(error_of("-"), "expected a digit after '-', found end of input at position 2", "-");
	CHECK_STR(error_of("1e400"), "number 1e400 is out of the range of a double at position 1", "1e400");
	CHECK_STR(error_of("[-1e400]"), "number -1e400 is out of the range of a double at position 2", "-1e400");
	CHECK_STR(error_of("NaN"), "expected a value, found \"N\" at position 1", "NaN");
	CHECK_STR(error_of("Infinity"), "expected a value, found \"I\" at position 1", "Infinity");
	CHECK_STR(error_of("-Infinity"), "expected a digit after '-', found \"I\" at position 2", "-Infinity");
	CHECK_STR(error_of("tru"), "invalid literal (expected true) at position 1", "truncated literal");
	CHECK_STR(error_of("nul"), "invalid literal (expected null) at position 1", "nul");
	CHECK_STR(error_of("True"), "expected a value, found \"T\" at position 1", "literals are lower case");
	CHECK_STR(error_of("\"abc"), "unterminated string at position 1", "unterminated string");
	CHECK_STR(error_of("[\"abc\\"), "unterminated string at position 2", "string ending in a backslash");
	CHECK_STR(error_of("\"a\nb\""), "control character U+000A in a string must be escaped at position 3",
			  "raw newline in a string");
	CHECK_STR(error_of("\"\t\""), "control character U+0009 in a string must be escaped at position 2",
			  "raw tab in a string");
	CHECK(strcmp(error_of_len("\"a\0b\"", 5), "control character U+0000 in a string must be escaped at position 3") == 0,
		  "raw NUL in a string: %s", error_of_len("\"a\0b\"", 5));
	CHECK_STR(error_of("\"\\x\""), "invalid escape: backslash followed by \"x\" at position 2", "unknown escape");
	CHECK_STR(error_of("\"\\u12G4\""), "invalid \\u escape (expected four hex digits) at position 2",
			  "bad hex digit");
	CHECK_STR(error_of("\"\\u12\""), "invalid \\u escape (expected four hex digits) at position 2",
			  "short \\u escape");
	CHECK_STR(error_of("\"\\uD83D\""),
			  "lone surrogate \\uD83D (a high surrogate must be followed by a low one) at position 2",
			  "lone high surrogate");
	CHECK_STR(error_of("\"\\uD83Dx\\uDE02\""),
			  "lone surrogate \\uD83D (a high surrogate must be followed by a low one) at position 2",
			  "high surrogate followed by something else");
	CHECK_STR(error_of("\"\\uD83D\\u0041\""),
			  "lone surrogate \\uD83D (a high surrogate must be followed by a low one) at position 2",
			  "high surrogate followed by a non-surrogate escape");
	CHECK_STR(error_of("\"\\uDE02\""),
			  "lone surrogate \\uDE02 (a low surrogate must follow a high one) at position 2",
			  "lone low surrogate");
	CHECK_STR(error_of("\"\\uD83D\\uD83D\""),
			  "lone surrogate \\uD83D (a high surrogate must be followed by a low one) at position 2",
			  "two high surrogates");
	CHECK_STR(error_of("[1] x"), "expected end of input after the value, found \"x\" at position 5",
			  "trailing garbage");
	CHECK_STR(error_of("{} {}"), "expected end of input after the value, found \"{\" at position 4",
			  "two documents");
	CHECK_STR(error_of(""), "expected a value, found end of input at position 1", "empty input");
	CHECK_STR(error_of("   "), "expected a value, found end of input at position 4", "only whitespace");
	CHECK_STR(error_of("{1:2}"), "expected a string key or '}', found \"1\" at position 2", "non-string key");
	CHECK_STR(error_of("{'a':1}"), "expected a string key or '}', found \"'\" at position 2", "single quotes");
	CHECK_STR(error_of("[\xC3\xA9]"), "expected a value, found \"\xC3\xA9\" (U+00E9) at position 2",
			  "non-ASCII outside a string");
	CHECK_STR(error_of("\xEF\xBB\xBF{}"), "expected a value, found \"\xEF\xBB\xBF\" (U+FEFF) at position 1",
			  "a byte order mark is not JSON");
	CHECK_STR(error_of("[1,\v2]"), "expected a value, found U+000B at position 4",
			  "vertical tab is not JSON whitespace");
	CHECK(rejects("[1,\f2]"), "form feed is not JSON whitespace");
	CHECK(rejects("/* c */ 1"), "comments are not JSON");
	CHECK(rejects("0x10"), "hex numbers are not JSON");
	CHECK(rejects("1.5.2"), "two decimal points");
	CHECK(rejects("[,1]"), "leading comma");
	CHECK(rejects("{\"a\"::1}"), "double colon");
	CHECK(rejects("{\"a\":1 \"b\":2}"), "missing comma between members");
}

static void
test_error_location(void)
{
	JsonError	err;
	const char *text = "{\n  \"\xC3\xA9t\xC3\xA9\": [1,\n   2,,]\n}";
	JsonNode   *n = json_parse(text, strlen(text), &err);

	CHECK(n == NULL, "double comma rejected");
	CHECK(err.line == 3 && err.column == 6, "line 3 column 6 (got %zu:%zu)", err.line, err.column);
	CHECK(err.offset == 22, "byte offset 22 (got %zu)", err.offset);
	CHECK(err.position == 21, "character position 21 counts é as one (got %zu)", err.position);
	CHECK_STR(err.message, "expected a value, found \",\" at position 21", "message with position");
	json_free(n);
}

/* the invalid UTF-8 kinds: stray continuation, overlong, surrogate, too large, cut short */
static void
test_invalid_utf8(void)
{
	CHECK_STR(error_of("\"\x80\""), "invalid UTF-8 byte 0x80 at position 2", "stray continuation byte");
	CHECK_STR(error_of("\"\xC0\xAF\""), "invalid UTF-8 byte 0xC0 at position 2", "overlong 2-byte (C0)");
	CHECK_STR(error_of("\"\xC1\xBF\""), "invalid UTF-8 byte 0xC1 at position 2", "overlong 2-byte (C1)");
	CHECK_STR(error_of("\"\xE0\x80\xAF\""), "invalid UTF-8 byte 0x80 at position 3", "overlong 3-byte");
	CHECK_STR(error_of("\"\xF0\x80\x80\xAF\""), "invalid UTF-8 byte 0x80 at position 3", "overlong 4-byte");
	CHECK_STR(error_of("\"\xED\xA0\x80\""), "invalid UTF-8 byte 0xA0 at position 3",
			  "UTF-8 encoded high surrogate U+D800");
	CHECK_STR(error_of("\"\xED\xBF\xBF\""), "invalid UTF-8 byte 0xBF at position 3",
			  "UTF-8 encoded low surrogate U+DFFF");
	CHECK_STR(error_of("\"\xF4\x90\x80\x80\""), "invalid UTF-8 byte 0x90 at position 3", "U+110000");
	CHECK_STR(error_of("\"\xF5\x80\x80\x80\""), "invalid UTF-8 byte 0xF5 at position 2", "lead byte F5");
	CHECK_STR(error_of("\"\xFE\""), "invalid UTF-8 byte 0xFE at position 2", "byte FE");
	CHECK_STR(error_of("\"\xC3\""), "invalid UTF-8 byte 0x22 at position 3",
			  "sequence cut short by the closing quote");
	CHECK_STR(error_of("\"\xE2\x82\""), "invalid UTF-8 byte 0x22 at position 3", "3-byte sequence cut short");
	CHECK_STR(error_of("\"\xE2\x82"), "unterminated string at position 1", "sequence cut by end of input");
	CHECK_STR(error_of("\xE2\x82"), "incomplete UTF-8 sequence at end of input at position 1",
			  "incomplete sequence outside a string");
	CHECK_STR(error_of("{\"k\xFF\":1}"), "invalid UTF-8 byte 0xFF at position 4", "invalid byte in a key");
	CHECK(!json_utf8_valid("\xED\xA0\x80", 3), "json_utf8_valid rejects a surrogate");
	CHECK(json_utf8_valid("\xF0\x9F\x98\x82", 4), "json_utf8_valid accepts an astral character");
	CHECK(json_utf8_valid("a\0b", 3), "json_utf8_valid accepts NUL");
}

static char *
nested(int depth, const char *open, const char *inner, const char *close)
{
	size_t		olen = strlen(open);
	size_t		clen = strlen(close);
	size_t		ilen = strlen(inner);
	char	   *s = malloc((size_t) depth * (olen + clen) + ilen + 1);
	size_t		o = 0;
	int			i;

	for (i = 0; i < depth; i++, o += olen)
		memcpy(s + o, open, olen);
	memcpy(s + o, inner, ilen);
	o += ilen;
	for (i = 0; i < depth; i++, o += clen)
		memcpy(s + o, close, clen);
	s[o] = '\0';
	return s;
}

static void
test_depth(void)
{
	char	   *s;
	DegBuf		out;
	JsonError	err;

	s = nested(JSON_MAX_DEPTH, "[", "1", "]");
	CHECK_STR(error_of(s), "OK", "%d nested arrays parse", JSON_MAX_DEPTH);
	degbuf_init(&out);
	CHECK(jcs_canonicalize(s, strlen(s), &out, &err) && strcmp(out.data, s) == 0,
		  "%d nested arrays canonicalize", JSON_MAX_DEPTH);
	degbuf_free(&out);
	free(s);

	s = nested(JSON_MAX_DEPTH + 1, "[", "1", "]");
	CHECK_STR(error_of(s), "nesting deeper than 512 levels at position 513", "one level too deep");
	free(s);

	s = nested(10000, "[", "", "]");
	CHECK_STR(error_of(s), "nesting deeper than 512 levels at position 513", "10,000 nested arrays");
	free(s);

	s = nested(10000, "{\"a\":", "0", "}");
	CHECK(strstr(error_of(s), "nesting deeper than 512 levels") != NULL, "10,000 nested objects");
	free(s);

	s = nested(100000, "[", "", "");
	CHECK(strstr(error_of(s), "nesting deeper than 512 levels") != NULL, "100,000 unclosed brackets");
	free(s);
}

/* an object larger than the pairwise limit: duplicates found by sorting, earliest reported */
static void
test_large_objects(void)
{
	char	   *text = malloc(200000);
	size_t		o = 0;
	int			i;
	JsonNode   *n;

	text[o++] = '{';
	for (i = 0; i < 10000; i++)
		o += (size_t) sprintf(text + o, "%s\"k%d\":%d", i ? "," : "", (i * 7919) % 10000, i);
	text[o++] = '}';
	n = json_parse(text, o, NULL);
	CHECK(n != NULL && n->count == 10000, "10,000 distinct keys parse");
	CHECK(n != NULL && json_get(n, "k7919") != NULL && json_get(n, "k7919")->number == 1,
		  "lookup in a large object");
	json_free(n);

	/* repeat two keys late in the object; the earlier repetition is reported */
	o--;
	o += (size_t) sprintf(text + o, ",\"k5\":1,\"k3\":2}");
	CHECK(strncmp(error_of_len(text, o), "duplicate key \"k5\" at position ", 31) == 0,
		  "earliest duplicate in a large object: %s", error_of_len(text, o));
	free(text);
}

static void
test_truncations(void)
{
	const char *doc = "{\"@context\":[\"https://www.w3.org/ns/credentials/v2\"],"
		"\"n\":[0,-1.5e-3,12345678901234567890,true,false,null],"
		"\"s\":\"\\u00e9\\uD83D\\uDE02\xE2\x82\xAC\\n\","
		"\"o\":{\"\":{}, \"x\" : [ ] }}";
	size_t		len = strlen(doc);
	size_t		cut;
	int			wrong = 0;

	CHECK_STR(error_of(doc), "OK", "the full document parses");
	for (cut = 0; cut < len; cut++)
	{
		char	   *copy = malloc(cut ? cut : 1);
		JsonError	err;
		JsonNode   *n;

		/* an exact-size heap copy, so ASan sees any read past len */
		memcpy(copy, doc, cut);
		n = json_parse(copy, cut, &err);
		if (n != NULL || err.offset > cut || err.message[0] == '\0')
			wrong++;
		json_free(n);
		free(copy);
	}
	CHECK(wrong == 0, "each of %zu truncations is an error inside the input (%d not)", len, wrong);
}

/* every byte replaced by a few troublesome values: never a crash, errors stay inside the input */
static void
test_mangling(void)
{
	static const unsigned char replacements[] = {0x00, '"', '\\', '{', ']', ',', '0', 'e', 0x80, 0xC3, 0xED, 0xF4, 0xFF};
	const char *doc = "{\"a\":[1,2.5e-3,\"x\\u00e9\\uD83D\\uDE02\xC3\xA9\"],\"b\":{\"c\":null,\"d\":true}}";
	size_t		len = strlen(doc);
	size_t		i;
	size_t		r;
	int			parsed = 0;
	int			bad = 0;

	for (i = 0; i < len; i++)
		for (r = 0; r < sizeof(replacements); r++)
		{
			char	   *copy = malloc(len);
			JsonError	err;
			JsonNode   *n;
			DegBuf		out;

			memcpy(copy, doc, len);
			copy[i] = (char) replacements[r];
			n = json_parse(copy, len, &err);
			if (n != NULL)
			{
				parsed++;
				degbuf_init(&out);
				if (!jcs_serialize(n, &out, NULL))
					bad++;
				degbuf_free(&out);
			}
			else if (err.offset > len || err.message[0] == '\0')
				bad++;
			json_free(n);
			free(copy);
		}
	CHECK(bad == 0, "mangled documents: %d bad results", bad);
	CHECK(parsed > 0, "some mangled documents are still valid JSON (%d)", parsed);
}

static void
test_building(void)
{
	JsonNode   *doc = parse("{\"@context\":[\"a\",\"b\"],\"id\":\"x\",\"proof\":{\"type\":\"T\",\"proofValue\":\"z\"}}");
	JsonNode   *proof;
	JsonNode   *copy;
	JsonNode   *obj;
	JsonNode   *n;
	DegBuf		out;

	CHECK(doc != NULL, "document parses");
	if (doc == NULL)
		return;

	copy = json_copy(doc);
	CHECK(copy != NULL && copy != doc && json_equal(copy, doc), "deep copy is equal");

	proof = json_object_remove(doc, "proof", 5);
	CHECK(proof != NULL && proof->kind == JSON_OBJECT, "remove returns the detached value");
	CHECK(doc->count == 2 && json_get(doc, "proof") == NULL, "the member is gone");
	CHECK(json_object_remove(doc, "proof", 5) == NULL, "removing an absent key returns NULL");
	CHECK(!json_equal(copy, doc), "the copy is independent of the original");
	CHECK(json_get(copy, "proof") != NULL, "the copy still has its proof");

	json_free(json_object_remove(proof, "proofValue", 10));
	CHECK(json_object_set(proof, "@context", 8, json_copy(json_get(doc, "@context"))),
		  "set a copied member");
	degbuf_init(&out);
	CHECK(jcs_serialize(proof, &out, NULL) &&
		  strcmp(out.data, "{\"@context\":[\"a\",\"b\"],\"type\":\"T\"}") == 0,
		  "proof options with @context canonicalize: %s", out.data ? out.data : "");
	degbuf_free(&out);

	/* setting an existing key replaces its value in place */
	CHECK(json_object_set(doc, "id", 2, json_new_string("y", 1)), "replace a member");
	CHECK(doc->count == 2 && strcmp(doc->members[1].key, "id") == 0 &&
		  strcmp(json_get(doc, "id")->text, "y") == 0, "replaced in place, order kept");

	obj = json_new_object();
	CHECK(obj != NULL && obj->kind == JSON_OBJECT && obj->count == 0, "new object");
	CHECK(json_object_set(obj, "n", 1, json_new_number(0.1)), "add a number");
	CHECK(json_object_set(obj, "s", 1, json_new_string("a\0b", 3)), "add a string with NUL");
	CHECK(json_object_set(obj, "t", 1, json_new_bool(true)), "add true");
	CHECK(json_object_set(obj, "f", 1, json_new_bool(false)), "add false");
	CHECK(json_object_set(obj, "z", 1, json_new_null()), "add null");
	CHECK(json_object_set(obj, "a", 1, json_new_array()), "add an array");
	CHECK(json_array_append(json_get(obj, "a"), json_new_number(-0.0)), "append to the array");
	CHECK(json_array_append(json_get(obj, "a"), json_new_number(1e21)), "append again");
	CHECK(!json_object_set(obj, "\xFF", 1, json_new_null()), "a key that is not UTF-8 is refused");
	CHECK(!json_object_set(obj, "x", 1, NULL), "a NULL value is refused");
	CHECK(!json_array_append(obj, json_new_null()), "append to a non-array is refused");
	CHECK(json_new_string("\xC0\x80", 2) == NULL, "a string that is not UTF-8 is refused");
	CHECK(json_new_number(NAN) == NULL && json_new_number(INFINITY) == NULL,
		  "non-finite numbers are refused");
	n = json_new_number(0.1);
	CHECK(n != NULL && strcmp(n->text, "0.1") == 0 && n->number == 0.1, "number text is canonical");
	json_free(n);
	degbuf_init(&out);
	CHECK(jcs_serialize(obj, &out, NULL) &&
		  strcmp(out.data, "{\"a\":[0,1e+21],\"f\":false,\"n\":0.1,\"s\":\"a\\u0000b\",\"t\":true,\"z\":null}") == 0,
		  "built object canonicalizes: %s", out.data ? out.data : "");
	degbuf_free(&out);

	n = parse("{\"z\":null,\"t\":true,\"s\":\"a\\u0000b\",\"n\":1e-1,\"f\":false,\"a\":[-0,1E21]}");
	CHECK(json_equal(n, obj), "objects are equal regardless of member order and number spelling");
	json_object_set(n, "n", 1, json_new_number(0.2));
	CHECK(!json_equal(n, obj), "a different number is not equal");
	json_free(n);
	n = parse("{\"z\":null,\"t\":true,\"s\":\"a\\u0000c\",\"n\":0.1,\"f\":false,\"a\":[0,1e21]}");
	CHECK(!json_equal(n, obj), "a string differing after NUL is not equal");
	json_free(n);
	n = parse("[1,2]");
	CHECK(!json_equal(n, obj) && json_equal(n, n), "kinds differ");
	json_free(n);

	CHECK(strcmp(json_kind_name(JSON_OBJECT), "object") == 0 &&
		  strcmp(json_kind_name(JSON_TRUE), "boolean") == 0, "kind names");

	json_free(obj);
	json_free(proof);
	json_free(copy);
	json_free(doc);
}

/* equality of large objects goes through sorting; check it against member order */
static void
test_equal_large(void)
{
	JsonNode   *a = json_new_object();
	JsonNode   *b = json_new_object();
	char		key[16];
	int			i;

	for (i = 0; i < 100; i++)
	{
		snprintf(key, sizeof(key), "k%d", i);
		json_object_set(a, key, strlen(key), json_new_number(i));
		snprintf(key, sizeof(key), "k%d", 99 - i);
		json_object_set(b, key, strlen(key), json_new_number(99 - i));
	}
	CHECK(json_equal(a, b), "large objects with the same members in reverse order are equal");
	json_object_set(b, "k50", 3, json_new_number(-1));
	CHECK(!json_equal(a, b), "one different value makes them differ");
	json_free(json_object_remove(b, "k50", 3));
	json_object_set(b, "k100", 4, json_new_number(50));
	CHECK(!json_equal(a, b), "one different key makes them differ");
	json_free(a);
	json_free(b);
}

int
main(void)
{
	test_values();
	test_number_precision();
	test_errors();
	test_error_location();
	test_invalid_utf8();
	test_depth();
	test_large_objects();
	test_truncations();
	test_mangling();
	test_building();
	test_equal_large();
	return unit_done("json");
}
