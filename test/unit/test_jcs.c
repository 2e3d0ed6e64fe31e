/*
 * test_jcs.c: RFC 8785 canonicalization in src/core/jcs.c against the real
 * vectors (RFC 8785's six documents, the 10,000-number ES6 file, the W3C
 * eddsa-jcs-2022 canonical forms), the number and string rules one by one,
 * and properties of random documents.  Run from the repository root.
 */
#include "core/jcs.h"
#include "core/json.h"
#include "unit.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define VECTORS "test/vectors/"

/* the whole file, NUL-terminated; NULL (and a failed check) when unreadable */
static char *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	char	   *data;
	long		size;

	CHECK(f != NULL, "open %s (run from the repository root)", path);
	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t) size + 1);
	*len = fread(data, 1, (size_t) size, f);
	data[*len] = '\0';
	fclose(f);
	return data;
}

/* canonical form of text, or "ERROR: message" */
static char *
canon_len(const char *text, size_t len)
{
	static char *result;
	DegBuf		out;
	JsonError	err;

	free(result);
	degbuf_init(&out);
	if (!jcs_canonicalize(text, len, &out, &err))
	{
		result = malloc(strlen(err.message) + 8);
		sprintf(result, "ERROR: %s", err.message);
	}
	else
	{
		result = malloc(out.len + 1);
		memcpy(result, out.data, out.len + 1);
	}
	degbuf_free(&out);
	return result;
}

static char *
canon(const char *text)
{
	return canon_len(text, strlen(text));
}

static const char *
fmt(double value)
{
	static char out[JCS_DOUBLE_BUFSIZE];

	jcs_format_double(value, out);
	return out;
}

static void
test_rfc8785_files(void)
{
	static const char *const names[] = {"arrays", "french", "structures", "unicode", "values", "weird"};
	size_t		i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		char		path[256];
		char	   *input;
		char	   *expected;
		size_t		inlen;
		size_t		outlen;
		DegBuf		out;
		JsonError	err;

		snprintf(path, sizeof(path), VECTORS "jcs/input/%s.json", names[i]);
		input = read_file(path, &inlen);
		snprintf(path, sizeof(path), VECTORS "jcs/output/%s.json", names[i]);
		expected = read_file(path, &outlen);
		if (input == NULL || expected == NULL)
		{
			free(input);
			free(expected);
			continue;
		}
		degbuf_init(&out);
		CHECK(jcs_canonicalize(input, inlen, &out, &err), "%s.json canonicalizes", names[i]);
		CHECK(out.len == outlen && memcmp(out.data, expected, outlen) == 0,
			  "%s.json matches the RFC 8785 output byte for byte", names[i]);
		/* canonical output is a fixed point */
		CHECK_STR(canon_len(out.data, out.len), expected, "%s.json output is its own canonical form", names[i]);
		degbuf_free(&out);
		free(input);
		free(expected);
	}
}

/* all 10,000 lines: hex IEEE bits -> ES6 string; and the string reads back to the same canonical text */
static void
test_es6_numbers(void)
{
	size_t		len;
	char	   *data = read_file(VECTORS "jcs/es6numbers/es6testfile-10k.txt", &len);
	char	   *line;
	int			lines = 0;
	int			wrong = 0;
	int			wrong_reparse = 0;

	if (data == NULL)
		return;
	line = data;
	while (line < data + len)
	{
		char	   *nl = strchr(line, '\n');
		char	   *comma = strchr(line, ',');
		char		bracketed[64];
		uint64_t	bits;
		double		value;

		if (nl == NULL)
			nl = data + len;
		*nl = '\0';
		if (comma == NULL || comma > nl)
			break;
		*comma = '\0';
		bits = strtoull(line, NULL, 16);
		memcpy(&value, &bits, sizeof(value));
		if (strcmp(fmt(value), comma + 1) != 0 && wrong++ < 5)
			printf("# %s: got %s, want %s\n", line, fmt(value), comma + 1);
		snprintf(bracketed, sizeof(bracketed), "[%s]", comma + 1);
		if (strcmp(canon(bracketed), bracketed) != 0 && wrong_reparse++ < 5)
			printf("# %s: reparse gives %s\n", bracketed, canon(bracketed));
		lines++;
		line = nl + 1;
	}
	CHECK(lines == 10000, "the ES6 file has 10,000 lines (read %d)", lines);
	CHECK(wrong == 0, "ES6 number formatting: %d of %d lines differ", wrong, lines);
	CHECK(wrong_reparse == 0, "ES6 strings canonicalize to themselves: %d of %d differ", wrong_reparse, lines);
	free(data);
}

static double
from_bits(uint64_t bits)
{
	double		value;

	memcpy(&value, &bits, sizeof(value));
	return value;
}

static void
test_number_rules(void)
{
	char		buf[JCS_DOUBLE_BUFSIZE];

	CHECK_STR(fmt(0.0), "0", "zero");
	CHECK_STR(fmt(-0.0), "0", "negative zero prints as 0");
	CHECK_STR(fmt(1), "1", "one");
	CHECK_STR(fmt(-1), "-1", "minus one");
	CHECK_STR(fmt(56.0), "56", "56.0");
	CHECK_STR(fmt(4.50), "4.5", "4.50");
	CHECK_STR(fmt(0.002), "0.002", "2e-3");
	CHECK_STR(fmt(0.1), "0.1", "0.1, not 0.10000000000000001");
	CHECK_STR(fmt(0.1 + 0.2), "0.30000000000000004", "0.1 + 0.2");
	CHECK_STR(fmt(333333333.33333329), "333333333.3333333", "RFC 8785 example");
	CHECK_STR(fmt(1e30), "1e+30", "1E30");
	CHECK_STR(fmt(1e-27), "1e-27", "1e-27");
	CHECK_STR(fmt(1e21), "1e+21", "1e21 switches to exponent form");
	CHECK_STR(fmt(1e20), "100000000000000000000", "1e20 is written out");
	CHECK_STR(fmt(123456789012345680000.0), "123456789012345680000", "21 digits written out");
	CHECK_STR(fmt(1.5e21), "1.5e+21", "1.5e21");
	CHECK_STR(fmt(1e-6), "0.000001", "1e-6 is written out");
	CHECK_STR(fmt(1e-7), "1e-7", "1e-7 switches to exponent form");
	CHECK_STR(fmt(1.2345e-7), "1.2345e-7", "1.2345e-7");
	CHECK_STR(fmt(0.0000012345), "0.0000012345", "0.0000012345");
	CHECK_STR(fmt(123.456), "123.456", "a fraction");
	CHECK_STR(fmt(9007199254740992.0), "9007199254740992", "2^53");
	CHECK_STR(fmt(9007199254740994.0), "9007199254740994", "2^53 + 2");
	CHECK_STR(fmt(18014398509481984.0), "18014398509481984", "2^54");
	CHECK_STR(fmt(295147905179352830000.0), "295147905179352830000", "2^68");
	CHECK_STR(fmt(5e-324), "5e-324", "smallest subnormal");
	CHECK_STR(fmt(-5e-324), "-5e-324", "negative smallest subnormal");
	CHECK_STR(fmt(2.2250738585072014e-308), "2.2250738585072014e-308", "smallest normal");
	CHECK_STR(fmt(2.225073858507201e-308), "2.225073858507201e-308", "largest subnormal");
	CHECK_STR(fmt(1.7976931348623157e308), "1.7976931348623157e+308", "largest double");
	CHECK_STR(fmt(-1.7976931348623157e308), "-1.7976931348623157e+308", "most negative double");
	CHECK_STR(fmt(from_bits(0x3eb0c6f7a0b5ed8dULL)), "0.000001", "1e-6 as bits");
	CHECK_STR(fmt(from_bits(0x444b1ae4d6e2ef50ULL)), "1e+21", "1e21 as bits");
	CHECK_STR(fmt(from_bits(0x4340000000000001ULL)), "9007199254740994", "2^53 + 2 as bits");
	/* powers of two, where the gap below is half the gap above */
	CHECK_STR(fmt(from_bits(0x0010000000000000ULL)), "2.2250738585072014e-308", "2^-1022");
	CHECK_STR(fmt(ldexp(1, -1074)), "5e-324", "2^-1074");
	CHECK_STR(fmt(ldexp(1, 1023)), "8.98846567431158e+307", "2^1023");
	CHECK_STR(fmt(ldexp(1, -1000)), "9.332636185032189e-302", "2^-1000");
	CHECK_STR(fmt(ldexp(1, 100)), "1.2676506002282294e+30", "2^100");
	CHECK_STR(fmt(9.5e-5), "0.000095", "0.000095");
	CHECK(jcs_format_double(NAN, buf) == 0 && buf[0] == '\0', "NaN is refused");
	CHECK(jcs_format_double(INFINITY, buf) == 0 && buf[0] == '\0', "Infinity is refused");
	CHECK(jcs_format_double(-INFINITY, buf) == 0, "-Infinity is refused");
	CHECK(jcs_format_double(-1.5, buf) == 4 && strcmp(buf, "-1.5") == 0, "returns the length");

	/* through the parser: the spelling does not matter, the double does */
	CHECK_STR(canon("[56.0, 1E30, 4.50, 2e-3, 0.000000000000000000000000001, -0, -0.0, 0e10, 1e+2, 100e-2]"),
			  "[56,1e+30,4.5,0.002,1e-27,0,0,0,100,1]", "number spellings");
	CHECK_STR(canon("[1e400]"), "ERROR: number 1e400 is out of the range of a double at position 2", "1e400");
	CHECK_STR(canon("-1e400"), "ERROR: number -1e400 is out of the range of a double at position 1", "-1e400");
	CHECK_STR(canon("[NaN]"), "ERROR: expected a value, found \"N\" at position 2", "NaN");
	CHECK_STR(canon("[Infinity]"), "ERROR: expected a value, found \"I\" at position 2", "Infinity");
}

/* the digit count of an ES string (significant digits of its mantissa) */
static int
significant_digits(const char *s)
{
	int			n = 0;
	int			trailing_zeros = 0;
	bool		started = false;

	for (; *s && *s != 'e'; s++)
	{
		if (*s < '0' || *s > '9')
			continue;
		if (!started && *s == '0')
			continue;
		started = true;
		n++;
		trailing_zeros = (*s == '0') ? trailing_zeros + 1 : 0;
	}
	return n - trailing_zeros;
}

/*
 * Whether some decimal of `digits` significant digits reads back as value.
 * The candidates worth trying are the correctly rounded one and its two
 * neighbours at that precision: any decimal of that length inside the
 * rounding interval is one of them.
 */
static bool
some_decimal_round_trips(double value, int digits)
{
	char		text[64];
	char		mantissa[32];
	int			exponent;
	int			m = 0;
	char	   *p;
	uint64_t	base;
	int			delta;

	snprintf(text, sizeof(text), "%.*e", digits - 1, value);
	for (p = text; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			mantissa[m++] = *p;
	mantissa[m] = '\0';
	exponent = atoi(p + 1) - (digits - 1);
	base = strtoull(mantissa, NULL, 10);
	for (delta = -1; delta <= 1; delta++)
	{
		snprintf(text, sizeof(text), "%" PRIu64 "e%d", base + (uint64_t) (int64_t) delta, exponent);
		if (strtod(text, NULL) == value)
			return true;
	}
	return false;
}

/* random doubles: the output reads back exactly and no shorter decimal would */
static void
test_shortest_property(void)
{
	uint64_t	state = 7;
	int			i;
	int			not_round_trip = 0;
	int			not_shortest = 0;

	for (i = 0; i < 200000; i++)
	{
		double		value;
		const char *text;
		int			digits;

		state = state * 6364136223846793005ULL + 1442695040888963407ULL;
		value = from_bits(state ^ (state >> 29));
		if (i % 4 == 1)
			value = ldexp(1, (int) (state >> 40) % 2098 - 1074); /* powers of two */
		if (!isfinite(value))
			continue;
		text = fmt(value);
		if (strtod(text, NULL) != value && not_round_trip++ < 3)
			printf("# %a printed as %s does not read back\n", value, text);
		digits = significant_digits(text);
		if (digits > 1 && some_decimal_round_trips(value, digits - 1) && not_shortest++ < 3)
			printf("# %a printed as %s is not the shortest\n", value, text);
	}
	CHECK(not_round_trip == 0, "200,000 random doubles read back exactly (%d do not)", not_round_trip);
	CHECK(not_shortest == 0, "200,000 random doubles print with the fewest digits (%d do not)", not_shortest);
}

static void
test_strings(void)
{
	DegBuf		out;

	CHECK_STR(canon("\"\\u0000\\u0001\\u001f\\u0020\\u007f\\u0080\""),
			  "\"\\u0000\\u0001\\u001f \x7F\xC2\x80\"", "control characters escaped lowercase, DEL raw");
	CHECK_STR(canon("\"\\b\\t\\n\\f\\r\\u000b\\u000B\""), "\"\\b\\t\\n\\f\\r\\u000b\\u000b\"",
			  "short escapes and \\u000b");
	CHECK_STR(canon("\"\\/ / \\\" \\\\\""), "\"/ / \\\" \\\\\"", "solidus unescaped; quote and backslash escaped");
	CHECK_STR(canon("\"\\u00e9\\u20AC\\uD83D\\uDE02\""), "\"\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x82\"",
			  "non-ASCII written raw");
	CHECK_STR(canon("\"A\\u030a\""), "\"A\xCC\x8A\"", "no Unicode normalization");
	CHECK_STR(canon("\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\""), "\"\xEF\xBF\xBF\xF4\x8F\xBF\xBF\"",
			  "U+FFFF and U+10FFFF raw");
	degbuf_init(&out);
	CHECK(jcs_append_string(&out, "a\0\x1f\"", 4) && strcmp(out.data, "\"a\\u0000\\u001f\\\"\"") == 0,
		  "jcs_append_string escapes NUL");
	degbuf_free(&out);
	CHECK_STR(canon(" [ true , false , null , { } , [ ] , \"\" ] "), "[true,false,null,{},[],\"\"]",
			  "literals, empty containers, no whitespace");
}

static int
sign(int c)
{
	return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

static int
keycmp(const char *a, const char *b)
{
	return sign(jcs_compare_keys(a, strlen(a), b, strlen(b)));
}

static void
test_key_order(void)
{
	/* U+1F602 is D83D DE02 in UTF-16, below U+FB33 though its code point is higher */
	CHECK(keycmp("\xF0\x9F\x98\x82", "\xEF\xAC\xB3") < 0, "astral sorts before U+FB33");
	CHECK(keycmp("\xEE\x80\x80", "\xF0\x90\x80\x80") > 0, "U+E000 sorts after U+10000");
	CHECK(keycmp("\xED\x9F\xBF", "\xF0\x90\x80\x80") < 0, "U+D7FF sorts before U+10000");
	CHECK(keycmp("\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF") < 0, "astral characters by code point");
	CHECK(keycmp("\xC3\xA9", "\xE2\x82\xAC") < 0, "U+00E9 before U+20AC");
	CHECK(keycmp("a", "b") < 0 && keycmp("b", "a") > 0 && keycmp("a", "a") == 0, "ASCII");
	CHECK(keycmp("", "a") < 0, "empty key first");
	CHECK(keycmp("a", "aa") < 0, "prefix first");
	CHECK(keycmp("Z", "a") < 0, "upper case before lower case");
	CHECK(keycmp("10", "9") < 0, "digits are text, not numbers");
	CHECK(jcs_compare_keys("a\0b", 3, "a\0c", 3) < 0 && jcs_compare_keys("a\0", 2, "a", 1) > 0,
		  "keys with NUL compare by length too");
	CHECK_STR(canon("{\"\\ufb33\":2,\"\\ud83d\\ude02\":1}"),
			  "{\"\xF0\x9F\x98\x82\":1,\"\xEF\xAC\xB3\":2}", "UTF-16 order in an object");
	CHECK_STR(canon("{\"b\":1,\"aa\":2,\"\":3,\"a\":4}"), "{\"\":3,\"a\":4,\"aa\":2,\"b\":1}",
			  "not jsonb's shorter-first order");
}

static void
test_credential_vectors(void)
{
	size_t		doclen;
	size_t		wantdoclen;
	size_t		prooflen;
	size_t		wantprooflen;
	char	   *doc = read_file(VECTORS "vc-di-eddsa/unsigned.json", &doclen);
	char	   *wantdoc = read_file(VECTORS "vc-di-eddsa/canonDocJCS.txt", &wantdoclen);
	char	   *proof = read_file(VECTORS "vc-di-eddsa/proofConfigJCS.json", &prooflen);
	char	   *wantproof = read_file(VECTORS "vc-di-eddsa/proofCanonJCS.txt", &wantprooflen);
	JsonNode   *docnode;
	JsonNode   *proofnode;
	DegBuf		out;

	if (doc == NULL || wantdoc == NULL || proof == NULL || wantproof == NULL)
		goto done;
	CHECK(strcmp(canon_len(doc, doclen), wantdoc) == 0 && strlen(wantdoc) == wantdoclen,
		  "jcs(unsigned.json) == canonDocJCS.txt");
	CHECK(strcmp(canon_len(proof, prooflen), wantproof) == 0 && strlen(wantproof) == wantprooflen,
		  "jcs(proofConfigJCS.json) == proofCanonJCS.txt");

	/* as the issuer builds it: proof options without @context, then the document's copied in */
	docnode = json_parse(doc, doclen, NULL);
	proofnode = json_parse(proof, prooflen, NULL);
	CHECK(docnode != NULL && proofnode != NULL, "vectors parse");
	if (docnode != NULL && proofnode != NULL)
	{
		json_free(json_object_remove(proofnode, "@context", 8));
		CHECK(json_get(proofnode, "@context") == NULL, "proof options without @context");
		CHECK(json_object_set(proofnode, "@context", 8, json_copy(json_get(docnode, "@context"))),
			  "copy the document @context into the proof options");
		degbuf_init(&out);
		CHECK(jcs_serialize(proofnode, &out, NULL) && out.len == wantprooflen &&
			  memcmp(out.data, wantproof, out.len) == 0,
			  "rebuilt proof options canonicalize to proofCanonJCS.txt");
		degbuf_free(&out);

		/* a signed document minus its proof is the unsigned document's canonical form */
		CHECK(json_object_set(docnode, "proof", 5, json_copy(proofnode)), "attach a proof");
		json_free(json_object_remove(docnode, "proof", 5));
		degbuf_init(&out);
		CHECK(jcs_serialize(docnode, &out, NULL) && out.len == wantdoclen &&
			  memcmp(out.data, wantdoc, out.len) == 0,
			  "document without its proof canonicalizes to canonDocJCS.txt");
		degbuf_free(&out);
	}
	json_free(docnode);
	json_free(proofnode);
done:
	free(doc);
	free(wantdoc);
	free(proof);
	free(wantproof);
}

/* trees the parser cannot produce are refused, not serialized */
static void
test_serialize_errors(void)
{
	JsonNode   *obj = json_new_object();
	JsonNode   *deep = json_new_array();
	JsonNode   *cur = deep;
	DegBuf		out;
	JsonError	err;
	int			i;

	json_object_set(obj, "a", 1, json_new_number(1));
	json_object_set(obj, "b", 1, json_new_number(2));
	/* force a duplicate behind the API's back */
	obj->members[1].key[0] = 'a';
	degbuf_init(&out);
	CHECK(!jcs_serialize(obj, &out, &err) && strcmp(err.message, "duplicate key in an object") == 0,
		  "duplicate keys in a tree are refused");
	degbuf_free(&out);
	obj->members[1].key[0] = 'b';
	obj->members[1].value->number = INFINITY;
	degbuf_init(&out);
	CHECK(!jcs_serialize(obj, &out, &err) && strcmp(err.message, "a number is not finite") == 0,
		  "a non-finite number in a tree is refused");
	degbuf_free(&out);
	json_free(obj);

	for (i = 1; i < JSON_MAX_DEPTH; i++)
	{
		JsonNode   *next = json_new_array();

		json_array_append(cur, next);
		cur = next;
	}
	degbuf_init(&out);
	CHECK(jcs_serialize(deep, &out, &err), "%d nested arrays serialize", JSON_MAX_DEPTH);
	degbuf_free(&out);
	json_array_append(cur, json_new_array());
	degbuf_init(&out);
	CHECK(!jcs_serialize(deep, &out, &err) &&
		  strcmp(err.message, "nesting deeper than the JSON limit") == 0,
		  "%d nested arrays are refused", JSON_MAX_DEPTH + 1);
	degbuf_free(&out);
	json_free(deep);
}

/* ---------- random documents ---------- */

static uint64_t rng_state = 20240611;

static uint32_t
rng(uint32_t bound)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t) ((rng_state >> 33) % bound);
}

static void
put_whitespace(DegBuf *b)
{
	static const char *const ws[] = {"", "", "", " ", "\n", "\t", "\r\n  "};

	degbuf_puts(b, ws[rng(7)]);
}

/* a string body: ASCII, escapes, and raw or escaped non-ASCII and astral characters */
static void
put_string_body(DegBuf *b, int maxlen)
{
	static const char *const pieces[] = {
		"a", "b", "Z", "0", " ", "/", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u0000", "\\u001F",
		"\x7F", "\\u007f", "\xC3\xA9", "\\u00e9", "\xE2\x82\xAC", "\\u20AC", "\xEF\xAC\xB3",
		"\\ufb33", "\xEE\x80\x80", "\xEF\xBF\xBF", "\xF0\x9F\x98\x82", "\\ud83d\\ude02",
		"\\uD83D\\uDE00", "\xF4\x8F\xBF\xBF", "\\uDBFF\\uDFFF", "\xF0\x90\x80\x80", "\xED\x9F\xBF",
		"A\xCC\x8A", "\xD7\x90"
	};
	int			n = (int) rng((uint32_t) maxlen + 1);
	int			i;

	for (i = 0; i < n; i++)
		degbuf_puts(b, pieces[rng(sizeof(pieces) / sizeof(pieces[0]))]);
}

static void
put_number(DegBuf *b)
{
	char		text[64];
	double		value;
	uint64_t	bits;

	switch (rng(5))
	{
		case 0:
			snprintf(text, sizeof(text), "%d", (int) rng(2000000) - 1000000);
			break;
		case 1:
			do
			{
				bits = ((uint64_t) rng(1u << 31) << 33) ^ ((uint64_t) rng(1u << 31) << 2) ^ rng(4);
				memcpy(&value, &bits, sizeof(value));
			} while (!isfinite(value));
			snprintf(text, sizeof(text), "%.17g", value);
			break;
		case 2:
			snprintf(text, sizeof(text), "%.*e", (int) rng(20), ldexp((double) rng(1000000), (int) rng(200) - 100));
			break;
		case 3:
			/* exponent spellings, down into the subnormals and past them to zero */
			if (rng(2))
				snprintf(text, sizeof(text), "%sE+%d", rng(2) ? "-7.25" : "0.5", (int) rng(308));
			else
				snprintf(text, sizeof(text), "%se-%d", rng(2) ? "-7.25" : "0.5", (int) rng(340));
			break;
		default:
			jcs_format_double(ldexp((double) rng(1u << 30), (int) rng(1900) - 1100), text);
			break;
	}
	degbuf_puts(b, text);
}

static void
put_value(DegBuf *b, int depth)
{
	uint32_t	kind = rng(depth > 6 ? 6 : 9);
	uint32_t	n;
	uint32_t	i;

	put_whitespace(b);
	switch (kind)
	{
		case 0:
			degbuf_puts(b, "null");
			break;
		case 1:
			degbuf_puts(b, rng(2) ? "true" : "false");
			break;
		case 2:
		case 3:
			put_number(b);
			break;
		case 4:
		case 5:
			degbuf_putc(b, '"');
			put_string_body(b, 6);
			degbuf_putc(b, '"');
			break;
		case 6:
			degbuf_putc(b, '[');
			n = rng(5);
			for (i = 0; i < n; i++)
			{
				if (i > 0)
					degbuf_putc(b, ',');
				put_value(b, depth + 1);
			}
			put_whitespace(b);
			degbuf_putc(b, ']');
			break;
		default:
			degbuf_putc(b, '{');
			n = rng(7);
			for (i = 0; i < n; i++)
			{
				char		unique[24];

				if (i > 0)
					degbuf_putc(b, ',');
				put_whitespace(b);
				/* a random key made unique by a separator that the random part never holds */
				degbuf_putc(b, '"');
				put_string_body(b, 3);
				snprintf(unique, sizeof(unique), "\\u0001%u", i);
				if (i > 0 || rng(2))
					degbuf_puts(b, unique);
				degbuf_putc(b, '"');
				put_whitespace(b);
				degbuf_putc(b, ':');
				put_value(b, depth + 1);
			}
			put_whitespace(b);
			degbuf_putc(b, '}');
			break;
	}
}

/* UTF-8 to UTF-16 code units, written independently of jcs.c's byte trick */
static size_t
to_utf16(const char *s, size_t len, uint16_t *out)
{
	const unsigned char *u = (const unsigned char *) s;
	size_t		i = 0;
	size_t		n = 0;

	while (i < len)
	{
		uint32_t	cp;

		if (u[i] < 0x80)
			cp = u[i++];
		else if (u[i] < 0xE0)
		{
			cp = ((uint32_t) (u[i] & 0x1F) << 6) | (u[i + 1] & 0x3F);
			i += 2;
		}
		else if (u[i] < 0xF0)
		{
			cp = ((uint32_t) (u[i] & 0x0F) << 12) | ((uint32_t) (u[i + 1] & 0x3F) << 6) | (u[i + 2] & 0x3F);
			i += 3;
		}
		else
		{
			cp = ((uint32_t) (u[i] & 0x07) << 18) | ((uint32_t) (u[i + 1] & 0x3F) << 12) |
				((uint32_t) (u[i + 2] & 0x3F) << 6) | (u[i + 3] & 0x3F);
			i += 4;
		}
		if (cp >= 0x10000)
		{
			out[n++] = (uint16_t) (0xD800 + ((cp - 0x10000) >> 10));
			out[n++] = (uint16_t) (0xDC00 + ((cp - 0x10000) & 0x3FF));
		}
		else
			out[n++] = (uint16_t) cp;
	}
	return n;
}

static int
utf16_compare(const JsonMember *a, const JsonMember *b)
{
	uint16_t   *ua = malloc((a->keylen + 1) * sizeof(uint16_t));
	uint16_t   *ub = malloc((b->keylen + 1) * sizeof(uint16_t));
	size_t		na = to_utf16(a->key, a->keylen, ua);
	size_t		nb = to_utf16(b->key, b->keylen, ub);
	size_t		i;
	int			c = 0;

	for (i = 0; i < na && i < nb && c == 0; i++)
		if (ua[i] != ub[i])
			c = ua[i] < ub[i] ? -1 : 1;
	if (c == 0 && na != nb)
		c = na < nb ? -1 : 1;
	free(ua);
	free(ub);
	return c;
}

/* every object's members in strictly increasing UTF-16 order */
static bool
sorted_by_utf16(const JsonNode *n)
{
	size_t		i;

	if (n->kind == JSON_ARRAY)
	{
		for (i = 0; i < n->count; i++)
			if (!sorted_by_utf16(n->items[i]))
				return false;
	}
	else if (n->kind == JSON_OBJECT)
	{
		for (i = 0; i < n->count; i++)
		{
			if (i > 0 && utf16_compare(&n->members[i - 1], &n->members[i]) >= 0)
				return false;
			if (!sorted_by_utf16(n->members[i].value))
				return false;
		}
	}
	return true;
}

static void
test_random_documents(void)
{
	int			i;
	int			failed_parse = 0;
	int			not_idempotent = 0;
	int			not_equal = 0;
	int			not_sorted = 0;
	int			has_whitespace = 0;
	size_t		total = 0;

	for (i = 0; i < 5000; i++)
	{
		DegBuf		doc;
		DegBuf		once;
		DegBuf		twice;
		JsonNode   *original;
		JsonNode   *reparsed;
		JsonError	err;

		degbuf_init(&doc);
		degbuf_init(&once);
		degbuf_init(&twice);
		put_value(&doc, 0);
		put_whitespace(&doc);
		total += doc.len;
		original = json_parse(doc.data, doc.len, &err);
		if (original == NULL || !jcs_serialize(original, &once, &err))
		{
			if (failed_parse++ < 3)
				printf("# random document refused (%s): %s\n", err.message, doc.data);
		}
		else
		{
			reparsed = json_parse(once.data, once.len, &err);
			if (reparsed == NULL || !jcs_serialize(reparsed, &twice, &err) ||
				once.len != twice.len || memcmp(once.data, twice.data, once.len) != 0)
			{
				if (not_idempotent++ < 3)
					printf("# jcs(jcs(x)) != jcs(x) for %s\n", doc.data);
			}
			else if (!json_equal(original, reparsed))
			{
				if (not_equal++ < 3)
					printf("# parse(jcs(x)) != parse(x) for %s\n", doc.data);
			}
			if (reparsed != NULL && !sorted_by_utf16(reparsed))
				not_sorted++;
			if (memchr(once.data, '\n', once.len) || memchr(once.data, '\r', once.len) ||
				memchr(once.data, '\t', once.len))
				has_whitespace++;
			json_free(reparsed);
		}
		json_free(original);
		degbuf_free(&doc);
		degbuf_free(&once);
		degbuf_free(&twice);
	}
	CHECK(failed_parse == 0, "5000 random documents (%zu bytes) parse and canonicalize (%d fail)", total, failed_parse);
	CHECK(not_idempotent == 0, "jcs(jcs(x)) == jcs(x) (%d differ)", not_idempotent);
	CHECK(not_equal == 0, "parse(jcs(x)) equals parse(x) (%d differ)", not_equal);
	CHECK(not_sorted == 0, "members sorted by UTF-16 code units (%d not)", not_sorted);
	CHECK(has_whitespace == 0, "no raw whitespace control characters in output (%d have)", has_whitespace);
}

int
main(void)
{
	test_rfc8785_files();
	test_es6_numbers();
	test_number_rules();
	test_shortest_property();
	test_strings();
	test_key_order();
	test_credential_vectors();
	test_serialize_errors();
	test_random_documents();
	return unit_done("jcs");
}
