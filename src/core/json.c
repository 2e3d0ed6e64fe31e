/*
 * json.c: the strict JSON parser and tree of json.h.
 *
 * A recursive descent parser whose depth is capped (JSON_MAX_DEPTH), so
 * hostile nesting is an error rather than a stack overflow.  It reads at most
 * len bytes, validates UTF-8 as it goes, decodes strings once into a reused
 * scratch buffer, and converts numbers with strtod on a rewritten copy that
 * has no decimal point, so the C library's locale cannot change a value.
 * Duplicate keys are found when an object closes: pairwise for small
 * objects, by sorting for large ones, so a huge object is not quadratic.
 */
#include "json.h"
#include "jcs.h"
#include "mem.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Significant digits handed to strtod.  Deciding the correctly rounded
 * double never needs more than 768 of them; the rest are folded into one
 * sticky digit, so a number of any length converts in bounded space.
 */
#define NUMBER_DIGITS 800
/* decimal exponents beyond this over- or underflow whatever the digits */
#define NUMBER_EXPONENT_LIMIT 100000
/* objects with more members than this are checked for duplicates by sorting */
#define PAIRWISE_MEMBERS 8
/* bytes of a key or number quoted in an error message */
#define QUOTE_LIMIT 48

typedef struct Parser
{
	const char *text;
	size_t		len;
	size_t		pos;
	int			depth;
	JsonError  *err;
	DegBuf		scratch;		/* decoded string being built */
	size_t	   *keyoffs;		/* byte offset of every key of the open objects */
	size_t		nkeyoffs;
	size_t		keyoffs_cap;
} Parser;

static JsonNode *parse_value(Parser *p);

/* ---------- UTF-8 ---------- */

/*
 * Length of the UTF-8 sequence at s[0..avail), with its code point in *cp;
 * 0 when invalid, with the index of the first offending byte in *bad (which
 * is avail when the sequence is cut short).  Follows Table 3-7 of the Unicode
 * standard: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t
utf8_sequence(const unsigned char *s, size_t avail, uint32_t *cp, size_t *bad)
{
	unsigned char lead = s[0];
	unsigned char lo = 0x80;
	unsigned char hi = 0xBF;
	size_t		n;
	size_t		i;
	uint32_t	c;

	if (lead < 0x80)
	{
		*cp = lead;
		return 1;
	}
	if (lead >= 0xC2 && lead <= 0xDF)
		n = 2, c = lead & 0x1F;
	else if (lead >= 0xE0 && lead <= 0xEF)
	{
		n = 3, c = lead & 0x0F;
		if (lead == 0xE0)
			lo = 0xA0;
		else if (lead == 0xED)
			hi = 0x9F;
	}
	else if (lead >= 0xF0 && lead <= 0xF4)
	{
		n = 4, c = lead & 0x07;
		if (lead == 0xF0)
			lo = 0x90;
		else if (lead == 0xF4)
			hi = 0x8F;
	}
	else
	{
		*bad = 0;
		return 0;
	}
	for (i = 1; i < n; i++)
	{
		if (i >= avail)
		{
			*bad = avail;
			return 0;
		}
		if (s[i] < lo || s[i] > hi)
		{
			*bad = i;
			return 0;
		}
		c = (c << 6) | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*cp = c;
	return n;
}

bool
json_utf8_valid(const char *bytes, size_t len)
{
	const unsigned char *s = (const unsigned char *) bytes;
	size_t		i = 0;

	while (i < len)
	{
		uint32_t	cp;
		size_t		bad;
		size_t		n;

		if (s[i] < 0x80)
		{
			i++;
			continue;
		}
		n = utf8_sequence(s + i, len - i, &cp, &bad);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

static void
utf8_encode(uint32_t cp, char *out, size_t *n)
{
	if (cp < 0x80)
	{
		out[0] = (char) cp;
		*n = 1;
	}
	else if (cp < 0x800)
	{
		out[0] = (char) (0xC0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3F));
		*n = 2;
	}
	else if (cp < 0x10000)
	{
		out[0] = (char) (0xE0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char) (0x80 | (cp & 0x3F));
		*n = 3;
	}
	else
	{
		out[0] = (char) (0xF0 | (cp >> 18));
		out[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		out[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		out[3] = (char) (0x80 | (cp & 0x3F));
		*n = 4;
	}
}

/* ---------- errors ---------- */

/* fill in where off is: line, column and position, counting characters */
static void
locate(const char *text, size_t off, JsonError *err)
{
	size_t		line = 1;
	size_t		column = 1;
	size_t		position = 1;
	size_t		i;

	for (i = 0; i < off; i++)
	{
		unsigned char c = (unsigned char) text[i];

		if ((c & 0xC0) == 0x80)
			continue;			/* a continuation byte is not a new character */
		position++;
		if (c == '\n')
		{
			line++;
			column = 1;
		}
		else
			column++;
	}
	err->offset = off;
	err->line = line;
	err->column = column;
	err->position = position;
}

/* the message, then " at position N"; always returns NULL for the caller */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static JsonNode *
fail(Parser *p, size_t off, const char *fmt,...)
{
	va_list		ap;
	size_t		used;
	JsonError  *err = p->err;

	if (off > p->len)
		off = p->len;
	locate(p->text, off, err);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	used = strlen(err->message);
	if (used < sizeof(err->message))
		snprintf(err->message + used, sizeof(err->message) - used,
				 " at position %zu", err->position);
	return NULL;
}

/*
 * Quote bytes for a message: printable ASCII and valid UTF-8 as is, other
 * characters as \u escapes (\u000A), at most QUOTE_LIMIT bytes then "...".
 */
static void
quote_bytes(const char *bytes, size_t len, char *out, size_t cap)
{
	const unsigned char *s = (const unsigned char *) bytes;
	size_t		o = 0;
	size_t		i = 0;

	while (i < len && o + 12 < cap)
	{
		uint32_t	cp;
		size_t		bad;
		size_t		n = utf8_sequence(s + i, len - i, &cp, &bad);

		if (i >= QUOTE_LIMIT)
		{
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0)
		{
			o += (size_t) snprintf(out + o, cap - o, "\\x%02X", s[i]);
			i++;
		}
		else if (cp < 0x20 || cp == 0x7F || cp == '"' || cp == '\\')
		{
			o += (size_t) snprintf(out + o, cap - o, "\\u%04X", (unsigned) cp);
			i++;
		}
		else
		{
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
}

/* the character at off for "found ...": a quoted character, a code point (U+000A), or end of input */
static void
describe(const Parser *p, size_t off, char *buf, size_t cap)
{
	const unsigned char *s = (const unsigned char *) p->text + off;
	uint32_t	cp = 0;
	size_t		bad;
	size_t		n;

	if (off >= p->len)
		snprintf(buf, cap, "end of input");
	else if (s[0] == '"')
		snprintf(buf, cap, "'\"'");
	else if (s[0] >= 0x20 && s[0] < 0x7F)
		snprintf(buf, cap, "\"%c\"", s[0]);
	else if ((n = utf8_sequence(s, p->len - off, &cp, &bad)) == 0)
		snprintf(buf, cap, "byte 0x%02X", s[0]);
	else if (cp < 0xA0)
		snprintf(buf, cap, "U+%04X", (unsigned) cp);
	else
		snprintf(buf, cap, "\"%.*s\" (U+%04X)", (int) n, (const char *) s,
				 (unsigned) cp);
}

/* what was expected and what was found instead; invalid UTF-8 is named as such */
static JsonNode *
unexpected(Parser *p, size_t off, const char *expected)
{
	char		what[48];

	if (off < p->len && (unsigned char) p->text[off] >= 0x80)
	{
		uint32_t	cp;
		size_t		bad;

		if (utf8_sequence((const unsigned char *) p->text + off,
						  p->len - off, &cp, &bad) == 0)
		{
			if (off + bad >= p->len)
				return fail(p, off, "incomplete UTF-8 sequence at end of input");
			return fail(p, off + bad, "invalid UTF-8 byte 0x%02X",
						(unsigned char) p->text[off + bad]);
		}
	}
	describe(p, off, what, sizeof(what));
	return fail(p, off, "expected %s, found %s", expected, what);
}

static JsonNode *
out_of_memory(Parser *p)
{
	return fail(p, p->pos, "out of memory");
}

/* for the functions that return bool: the error is already in p->err */
static bool
reject(JsonNode *failed)
{
	(void) failed;
	return false;
}

/* ---------- nodes ---------- */

/* a node with inline text of len bytes (copied from bytes when not NULL) */
static JsonNode *
node_alloc(JsonKind kind, const char *bytes, size_t len)
{
	JsonNode   *node;

	if (len > ((size_t) -1) - sizeof(JsonNode) - 1)
		return NULL;
	node = deg_alloc(sizeof(JsonNode) + len + 1);
	if (node == NULL)
		return NULL;
	memset(node, 0, sizeof(JsonNode));
	node->kind = kind;
	if (kind == JSON_STRING || kind == JSON_NUMBER)
	{
		node->text = (char *) (node + 1);
		if (len > 0 && bytes != NULL)
			memcpy(node->text, bytes, len);
		node->text[len] = '\0';
		node->len = len;
	}
	return node;
}

static char *
copy_key(const char *key, size_t keylen)
{
	char	   *copy;

	if (keylen == (size_t) -1)
		return NULL;
	copy = deg_alloc(keylen + 1);
	if (copy == NULL)
		return NULL;
	if (keylen > 0)
		memcpy(copy, key, keylen);
	copy[keylen] = '\0';
	return copy;
}

/* room for one more item or member; false when out of memory */
static bool
grow(JsonNode *node)
{
	size_t		size = node->kind == JSON_ARRAY ? sizeof(JsonNode *) : sizeof(JsonMember);
	size_t		cap;
	void	   *slots;

	if (node->count < node->capacity)
		return true;
	cap = node->capacity ? node->capacity * 2 : 4;
	if (cap > ((size_t) -1) / 2 / size)
		return false;
	slots = deg_realloc(node->kind == JSON_ARRAY ? (void *) node->items : (void *) node->members,
						cap * size);
	if (slots == NULL)
		return false;
	if (node->kind == JSON_ARRAY)
		node->items = slots;
	else
		node->members = slots;
	node->capacity = cap;
	return true;
}

void
json_free(JsonNode *node)
{
	size_t		i;

	if (node == NULL)
		return;
	if (node->kind == JSON_ARRAY)
	{
		for (i = 0; i < node->count; i++)
			json_free(node->items[i]);
		deg_free(node->items);
	}
	else if (node->kind == JSON_OBJECT)
	{
		for (i = 0; i < node->count; i++)
		{
			deg_free(node->members[i].key);
			json_free(node->members[i].value);
		}
		deg_free(node->members);
	}
	deg_free(node);
}

const char *
json_kind_name(JsonKind kind)
{
	switch (kind)
	{
		case JSON_NULL:
			return "null";
		case JSON_FALSE:
		case JSON_TRUE:
			return "boolean";
		case JSON_NUMBER:
			return "number";
		case JSON_STRING:
			return "string";
		case JSON_ARRAY:
			return "array";
		case JSON_OBJECT:
			return "object";
	}
	return "unknown";
}

/* ---------- the parser ---------- */

static void
skip_whitespace(Parser *p)
{
	while (p->pos < p->len)
	{
		char		c = p->text[p->pos];

		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* the four hex digits after "\u" at off, or -1 */
static long
read_hex4(const Parser *p, size_t off)
{
	long		value = 0;
	size_t		i;

	if (off > p->len || p->len - off < 4)
		return -1;
	for (i = 0; i < 4; i++)
	{
		int			h = hex_value(p->text[off + i]);

		if (h < 0)
			return -1;
		value = value * 16 + h;
	}
	return value;
}

/*
 * The string whose opening quote is at p->pos, decoded.  Sets *bytes and
 * *len to the decoded text: a slice of the input when it has no escapes,
 * else p->scratch.  Leaves p->pos after the closing quote.
 */
static bool
decode_string(Parser *p, const char **bytes, size_t *len)
{
	const unsigned char *s = (const unsigned char *) p->text;
	size_t		start = p->pos;
	size_t		run = start + 1;	/* first byte not yet copied to scratch */
	size_t		i = start + 1;
	bool		escaped = false;

	p->scratch.len = 0;
	while (i < p->len)
	{
		unsigned char c = s[i];

		if (c == '"')
		{
			if (!escaped)
			{
				*bytes = p->text + start + 1;
				*len = i - start - 1;
			}
			else
			{
				if (!degbuf_append(&p->scratch, p->text + run, i - run))
					return reject(out_of_memory(p));
				*bytes = p->scratch.data;
				*len = p->scratch.len;
			}
			p->pos = i + 1;
			return true;
		}
		if (c < 0x20)
			return reject(fail(p, i, "control character U+%04X in a string must be escaped",
						(unsigned) c));
		if (c >= 0x80)
		{
			uint32_t	cp;
			size_t		bad;
			size_t		n = utf8_sequence(s + i, p->len - i, &cp, &bad);

			if (n == 0)
			{
				if (i + bad >= p->len)
					return reject(fail(p, start, "unterminated string"));
				return reject(fail(p, i + bad, "invalid UTF-8 byte 0x%02X", s[i + bad]));
			}
			i += n;
			continue;
		}
		if (c != '\\')
		{
			i++;
			continue;
		}

		/* an escape: flush the run before it, then decode it */
		if (!degbuf_append(&p->scratch, p->text + run, i - run))
			return reject(out_of_memory(p));
		escaped = true;
		if (i + 1 >= p->len)
			return reject(fail(p, start, "unterminated string"));
		switch (s[i + 1])
		{
			case '"':
			case '\\':
			case '/':
				degbuf_putc(&p->scratch, (char) s[i + 1]);
				i += 2;
				break;
			case 'b':
				degbuf_putc(&p->scratch, '\b');
				i += 2;
				break;
			case 'f':
				degbuf_putc(&p->scratch, '\f');
				i += 2;
				break;
			case 'n':
				degbuf_putc(&p->scratch, '\n');
				i += 2;
				break;
			case 'r':
				degbuf_putc(&p->scratch, '\r');
				i += 2;
				break;
			case 't':
				degbuf_putc(&p->scratch, '\t');
				i += 2;
				break;
			case 'u':
				{
					long		unit = read_hex4(p, i + 2);
					uint32_t	cp;
					char		utf8[4];
					size_t		n;

					if (unit < 0)
						return reject(fail(p, i, "invalid \\u escape (expected four hex digits)"));
					if (unit >= 0xDC00 && unit <= 0xDFFF)
						return reject(fail(p, i, "lone surrogate \\u%04lX (a low surrogate must follow a high one)",
									unit));
					if (unit >= 0xD800 && unit <= 0xDBFF)
					{
						long		low = -1;

						if (i + 7 < p->len && s[i + 6] == '\\' && s[i + 7] == 'u')
							low = read_hex4(p, i + 8);
						if (low < 0xDC00 || low > 0xDFFF)
							return reject(fail(p, i, "lone surrogate \\u%04lX (a high surrogate must be followed by a low one)",
										unit));
						cp = 0x10000 + (((uint32_t) unit - 0xD800) << 10) + ((uint32_t) low - 0xDC00);
						i += 12;
					}
					else
					{
						cp = (uint32_t) unit;
						i += 6;
					}
					utf8_encode(cp, utf8, &n);
					degbuf_append(&p->scratch, utf8, n);
					break;
				}
			default:
				{
					char		what[48];

					if (s[i + 1] >= 0x80)
						return reject(unexpected(p, i + 1, "an escape character"));
					describe(p, i + 1, what, sizeof(what));
					return reject(fail(p, i, "invalid escape: backslash followed by %s", what));
				}
		}
		if (p->scratch.oom)
			return reject(out_of_memory(p));
		run = i;
	}
	return reject(fail(p, start, "unterminated string"));
}

static JsonNode *
parse_string(Parser *p)
{
	const char *bytes;
	size_t		len;
	JsonNode   *node;

	if (!decode_string(p, &bytes, &len))
		return NULL;
	node = node_alloc(JSON_STRING, bytes, len);
	if (node == NULL)
		return out_of_memory(p);
	return node;
}

/*
 * Counts of digits and the exponent as written saturate here.  No input
 * shorter than this many bytes can make a saturated count differ from the
 * true one in a way that matters, and three of them add up without overflow.
 */
#define COUNT_LIMIT ((int64_t) 1000000000000000000)

static int64_t
saturating_step(int64_t value, int digit)
{
	if (value >= COUNT_LIMIT / 10)
		return COUNT_LIMIT;
	return value * 10 + digit;
}

/*
 * The double of the number text[b, e), which the grammar has checked.  It is
 * rewritten as "[-]DIGITSeEXP" with no decimal point (so strtod reads it the
 * same in every locale) and at most NUMBER_DIGITS + 1 significant digits.
 */
static bool
number_value(const char *text, size_t b, size_t e, double *value)
{
	char		buf[NUMBER_DIGITS + 32];
	size_t		o = 0;
	size_t		ndigits = 0;	/* significant digits kept in buf */
	int64_t		dropped = 0;	/* integer digits beyond NUMBER_DIGITS */
	int64_t		fraction = 0;	/* fraction digits kept or leading zeros */
	int64_t		written = 0;	/* the exponent after 'e' */
	int64_t		exponent;
	bool		sticky = false;
	bool		negative_exponent = false;
	bool		in_fraction = false;
	size_t		i = b;
	char	   *end;

	if (text[i] == '-')
		buf[o++] = text[i++];
	for (; i < e; i++)
	{
		char		c = text[i];

		if (c == '.')
		{
			in_fraction = true;
			continue;
		}
		if (c == 'e' || c == 'E')
			break;
		if (ndigits == 0 && c == '0')
		{
			/* leading zeros carry no digits, but in a fraction they carry scale */
			if (in_fraction && fraction < COUNT_LIMIT)
				fraction++;
			continue;
		}
		if (ndigits < NUMBER_DIGITS)
		{
			buf[o++] = c;
			ndigits++;
			if (in_fraction)
				fraction++;
		}
		else
		{
			if (c != '0')
				sticky = true;
			if (!in_fraction && dropped < COUNT_LIMIT)
				dropped++;
		}
	}
	if (i < e)
	{
		i++;					/* the 'e' */
		if (text[i] == '+' || text[i] == '-')
			negative_exponent = text[i++] == '-';
		for (; i < e; i++)
			written = saturating_step(written, text[i] - '0');
		if (negative_exponent)
			written = -written;
	}
	if (ndigits == 0)
	{
		buf[o++] = '0';
		exponent = 0;
	}
	else
	{
		exponent = written - fraction + dropped;
		if (sticky)
		{
			/* a nonzero digit below all kept ones rounds as the real tail does */
			buf[o++] = '1';
			exponent--;
		}
		/* beyond this the value over- or underflows whatever the digits */
		if (exponent > NUMBER_EXPONENT_LIMIT)
			exponent = NUMBER_EXPONENT_LIMIT;
		if (exponent < -NUMBER_EXPONENT_LIMIT)
			exponent = -NUMBER_EXPONENT_LIMIT;
	}
	snprintf(buf + o, sizeof(buf) - o, "e%d", (int) exponent);
	*value = strtod(buf, &end);
	return *end == '\0' && isfinite(*value);
}

static JsonNode *
parse_number(Parser *p)
{
	const char *t = p->text;
	size_t		start = p->pos;
	size_t		i = start;
	double		value;
	JsonNode   *node;

	if (t[i] == '-')
		i++;
	if (i >= p->len || !is_digit(t[i]))
		return unexpected(p, i, "a digit after '-'");
	if (t[i] == '0')
	{
		i++;
		if (i < p->len && is_digit(t[i]))
			return fail(p, i - 1, "leading zero in a number");
	}
	else
		while (i < p->len && is_digit(t[i]))
			i++;
	if (i < p->len && t[i] == '.')
	{
		i++;
		if (i >= p->len || !is_digit(t[i]))
			return unexpected(p, i, "a digit after the decimal point");
		while (i < p->len && is_digit(t[i]))
			i++;
	}
	if (i < p->len && (t[i] == 'e' || t[i] == 'E'))
	{
		i++;
		if (i < p->len && (t[i] == '+' || t[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(t[i]))
			return unexpected(p, i, "a digit in the exponent");
		while (i < p->len && is_digit(t[i]))
			i++;
	}
	if (!number_value(t, start, i, &value))
	{
		char		quoted[QUOTE_LIMIT + 16];

		quote_bytes(t + start, i - start, quoted, sizeof(quoted));
		return fail(p, start, "number %s is out of the range of a double", quoted);
	}
	node = node_alloc(JSON_NUMBER, t + start, i - start);
	if (node == NULL)
		return out_of_memory(p);
	node->number = value;
	p->pos = i;
	return node;
}

static JsonNode *
parse_literal(Parser *p, const char *word, JsonKind kind)
{
	size_t		n = strlen(word);
	JsonNode   *node;

	if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
		return fail(p, p->pos, "invalid literal (expected %s)", word);
	node = node_alloc(kind, NULL, 0);
	if (node == NULL)
		return out_of_memory(p);
	p->pos += n;
	return node;
}

static JsonNode *
parse_array(Parser *p)
{
	JsonNode   *array = node_alloc(JSON_ARRAY, NULL, 0);

	if (array == NULL)
		return out_of_memory(p);
	p->pos++;					/* '[' */
	skip_whitespace(p);
	if (p->pos < p->len && p->text[p->pos] == ']')
	{
		p->pos++;
		return array;
	}
	for (;;)
	{
		JsonNode   *item;

		skip_whitespace(p);
		if (array->count > 0 && p->pos < p->len && p->text[p->pos] == ']')
		{
			json_free(array);
			return fail(p, p->pos, "trailing comma in an array");
		}
		item = parse_value(p);
		if (item == NULL)
		{
			json_free(array);
			return NULL;
		}
		if (!grow(array))
		{
			json_free(item);
			json_free(array);
			return out_of_memory(p);
		}
		array->items[array->count++] = item;
		skip_whitespace(p);
		if (p->pos < p->len && p->text[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == ']')
		{
			p->pos++;
			return array;
		}
		json_free(array);
		return unexpected(p, p->pos, "',' or ']' after an array element");
	}
}

static bool
push_key_offset(Parser *p, size_t off)
{
	if (p->nkeyoffs == p->keyoffs_cap)
	{
		size_t		cap = p->keyoffs_cap ? p->keyoffs_cap * 2 : 64;
		size_t	   *grown;

		if (cap > ((size_t) -1) / 2 / sizeof(size_t))
			return false;
		grown = deg_realloc(p->keyoffs, cap * sizeof(size_t));
		if (grown == NULL)
			return false;
		p->keyoffs = grown;
		p->keyoffs_cap = cap;
	}
	p->keyoffs[p->nkeyoffs++] = off;
	return true;
}

static bool
same_key(const JsonMember *a, const JsonMember *b)
{
	return a->keylen == b->keylen && memcmp(a->key, b->key, a->keylen) == 0;
}

/* byte order of keys, then position, so equal keys sort in input order */
static int
compare_member_ptrs(const void *x, const void *y)
{
	const JsonMember *a = *(const JsonMember *const *) x;
	const JsonMember *b = *(const JsonMember *const *) y;
	size_t		n = a->keylen < b->keylen ? a->keylen : b->keylen;
	int			c = n ? memcmp(a->key, b->key, n) : 0;

	if (c != 0)
		return c;
	if (a->keylen != b->keylen)
		return a->keylen < b->keylen ? -1 : 1;
	return a < b ? -1 : (a > b ? 1 : 0);
}

/*
 * The index of the first member whose key repeats an earlier one, or
 * object->count when all differ; (size_t) -1 when out of memory.
 */
static size_t
first_duplicate(const JsonNode *object)
{
	size_t		n = object->count;
	size_t		first = n;
	size_t		i,
				j;
	const JsonMember **sorted;

	if (n <= PAIRWISE_MEMBERS)
	{
		for (j = 1; j < n; j++)
			for (i = 0; i < j; i++)
				if (same_key(&object->members[i], &object->members[j]))
					return j;
		return n;
	}
	sorted = deg_alloc(n * sizeof(JsonMember *));
	if (sorted == NULL)
		return (size_t) -1;
	for (i = 0; i < n; i++)
		sorted[i] = &object->members[i];
	qsort(sorted, n, sizeof(JsonMember *), compare_member_ptrs);
	for (i = 1; i < n; i++)
	{
		/* the first of a run of equal keys comes first in the input, too */
		if (same_key(sorted[i - 1], sorted[i]) && !(i >= 2 && same_key(sorted[i - 2], sorted[i])))
		{
			size_t		index = (size_t) (sorted[i] - object->members);

			if (index < first)
				first = index;
		}
	}
	deg_free(sorted);
	return first;
}

static JsonNode *
parse_object(Parser *p)
{
	JsonNode   *object = node_alloc(JSON_OBJECT, NULL, 0);
	size_t		base = p->nkeyoffs;

	if (object == NULL)
		return out_of_memory(p);
	p->pos++;					/* '{' */
	skip_whitespace(p);
	if (p->pos < p->len && p->text[p->pos] == '}')
	{
		p->pos++;
		return object;
	}
	for (;;)
	{
		size_t		keyoff;
		const char *keybytes;
		size_t		keylen;
		char	   *key;
		JsonNode   *value;

		skip_whitespace(p);
		keyoff = p->pos;
		if (p->pos >= p->len || p->text[p->pos] != '"')
		{
			bool		after_comma = object->count > 0;

			json_free(object);
			p->nkeyoffs = base;
			if (after_comma && p->pos < p->len && p->text[p->pos] == '}')
				return fail(p, p->pos, "trailing comma in an object");
			return unexpected(p, p->pos, after_comma ? "a string key" : "a string key or '}'");
		}
		if (!decode_string(p, &keybytes, &keylen))
		{
			json_free(object);
			p->nkeyoffs = base;
			return NULL;
		}
		key = copy_key(keybytes, keylen);
		if (key == NULL || !grow(object) || !push_key_offset(p, keyoff))
		{
			deg_free(key);
			json_free(object);
			p->nkeyoffs = base;
			return out_of_memory(p);
		}
		object->members[object->count].key = key;
		object->members[object->count].keylen = keylen;
		object->members[object->count].value = NULL;
		object->count++;

		skip_whitespace(p);
		if (p->pos >= p->len || p->text[p->pos] != ':')
		{
			json_free(object);
			p->nkeyoffs = base;
			return unexpected(p, p->pos, "':' after object key");
		}
		p->pos++;
		skip_whitespace(p);
		value = parse_value(p);
		if (value == NULL)
		{
			json_free(object);
			p->nkeyoffs = base;
			return NULL;
		}
		object->members[object->count - 1].value = value;

		skip_whitespace(p);
		if (p->pos < p->len && p->text[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->text[p->pos] == '}')
		{
			size_t		dup = first_duplicate(object);

			p->pos++;
			if (dup == (size_t) -1)
			{
				json_free(object);
				p->nkeyoffs = base;
				return out_of_memory(p);
			}
			if (dup < object->count)
			{
				char		quoted[QUOTE_LIMIT + 16];
				size_t		off = p->keyoffs[base + dup];

				quote_bytes(object->members[dup].key, object->members[dup].keylen,
							quoted, sizeof(quoted));
				json_free(object);
				p->nkeyoffs = base;
				return fail(p, off, "duplicate key \"%s\"", quoted);
			}
			p->nkeyoffs = base;
			return object;
		}
		json_free(object);
		p->nkeyoffs = base;
		return unexpected(p, p->pos, "',' or '}' after an object member");
	}
}

static JsonNode *
parse_value(Parser *p)
{
	JsonNode   *node;

	skip_whitespace(p);
	if (p->pos >= p->len)
		return unexpected(p, p->pos, "a value");
	switch (p->text[p->pos])
	{
		case '{':
		case '[':
			if (p->depth >= JSON_MAX_DEPTH)
				return fail(p, p->pos, "nesting deeper than %d levels", JSON_MAX_DEPTH);
			p->depth++;
			node = p->text[p->pos] == '{' ? parse_object(p) : parse_array(p);
			p->depth--;
			return node;
		case '"':
			return parse_string(p);
		case 't':
			return parse_literal(p, "true", JSON_TRUE);
		case 'f':
			return parse_literal(p, "false", JSON_FALSE);
		case 'n':
			return parse_literal(p, "null", JSON_NULL);
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			return parse_number(p);
		default:
			return unexpected(p, p->pos, "a value");
	}
}

JsonNode *
json_parse(const char *text, size_t len, JsonError *err)
{
	Parser		p;
	JsonError	ignored;
	JsonNode   *root;

	memset(&p, 0, sizeof(p));
	p.text = text ? text : "";
	p.len = text ? len : 0;
	p.err = err ? err : &ignored;
	degbuf_init(&p.scratch);
	root = parse_value(&p);
	if (root != NULL)
	{
		skip_whitespace(&p);
		if (p.pos < p.len)
		{
			json_free(root);
			root = unexpected(&p, p.pos, "end of input after the value");
		}
	}
	degbuf_free(&p.scratch);
	deg_free(p.keyoffs);
	return root;
}

/* ---------- lookup and building ---------- */

static size_t
member_index(const JsonNode *object, const char *key, size_t keylen)
{
	size_t		i;

	for (i = 0; i < object->count; i++)
	{
		const JsonMember *m = &object->members[i];

		if (m->keylen == keylen && (keylen == 0 || memcmp(m->key, key, keylen) == 0))
			return i;
	}
	return object->count;
}

JsonNode *
json_object_get(const JsonNode *object, const char *key, size_t keylen)
{
	size_t		i;

	if (object == NULL || object->kind != JSON_OBJECT || (key == NULL && keylen > 0))
		return NULL;
	i = member_index(object, key, keylen);
	return i < object->count ? object->members[i].value : NULL;
}

JsonNode *
json_get(const JsonNode *object, const char *key)
{
	return key ? json_object_get(object, key, strlen(key)) : NULL;
}

JsonNode *
json_new_null(void)
{
	return node_alloc(JSON_NULL, NULL, 0);
}

JsonNode *
json_new_bool(bool value)
{
	return node_alloc(value ? JSON_TRUE : JSON_FALSE, NULL, 0);
}

JsonNode *
json_new_number(double value)
{
	char		text[JCS_DOUBLE_BUFSIZE];
	size_t		len;
	JsonNode   *node;

	if (!isfinite(value))
		return NULL;
	/* the canonical text, which reads back as the same double */
	len = jcs_format_double(value, text);
	node = node_alloc(JSON_NUMBER, text, len);
	if (node == NULL)
		return NULL;
	node->number = value;
	return node;
}

JsonNode *
json_new_string(const char *utf8, size_t len)
{
	if ((utf8 == NULL && len > 0) || !json_utf8_valid(utf8, len))
		return NULL;
	return node_alloc(JSON_STRING, utf8, len);
}

JsonNode *
json_new_array(void)
{
	return node_alloc(JSON_ARRAY, NULL, 0);
}

JsonNode *
json_new_object(void)
{
	return node_alloc(JSON_OBJECT, NULL, 0);
}

bool
json_array_append(JsonNode *array, JsonNode *value)
{
	if (array == NULL || value == NULL || array->kind != JSON_ARRAY || !grow(array))
	{
		json_free(value);
		return false;
	}
	array->items[array->count++] = value;
	return true;
}

bool
json_object_set(JsonNode *object, const char *key, size_t keylen, JsonNode *value)
{
	size_t		i;
	char	   *copy;

	if (object == NULL || value == NULL || object->kind != JSON_OBJECT ||
		(key == NULL && keylen > 0) || !json_utf8_valid(key, keylen))
	{
		json_free(value);
		return false;
	}
	i = member_index(object, key, keylen);
	if (i < object->count)
	{
		json_free(object->members[i].value);
		object->members[i].value = value;
		return true;
	}
	copy = copy_key(key, keylen);
	if (copy == NULL || !grow(object))
	{
		deg_free(copy);
		json_free(value);
		return false;
	}
	object->members[object->count].key = copy;
	object->members[object->count].keylen = keylen;
	object->members[object->count].value = value;
	object->count++;
	return true;
}

JsonNode *
json_object_remove(JsonNode *object, const char *key, size_t keylen)
{
	size_t		i;
	JsonNode   *value;

	if (object == NULL || object->kind != JSON_OBJECT || (key == NULL && keylen > 0))
		return NULL;
	i = member_index(object, key, keylen);
	if (i >= object->count)
		return NULL;
	value = object->members[i].value;
	deg_free(object->members[i].key);
	memmove(&object->members[i], &object->members[i + 1],
			(object->count - i - 1) * sizeof(JsonMember));
	object->count--;
	return value;
}

JsonNode *
json_copy(const JsonNode *node)
{
	JsonNode   *copy;
	size_t		i;

	if (node == NULL)
		return NULL;
	copy = node_alloc(node->kind, node->text, node->len);
	if (copy == NULL)
		return NULL;
	copy->number = node->number;
	if (node->kind == JSON_ARRAY)
	{
		for (i = 0; i < node->count; i++)
			if (!json_array_append(copy, json_copy(node->items[i])))
			{
				json_free(copy);
				return NULL;
			}
	}
	else if (node->kind == JSON_OBJECT)
	{
		for (i = 0; i < node->count; i++)
		{
			const JsonMember *m = &node->members[i];
			JsonNode   *value = json_copy(m->value);
			char	   *key = copy_key(m->key, m->keylen);

			if (value == NULL || key == NULL || !grow(copy))
			{
				json_free(value);
				deg_free(key);
				json_free(copy);
				return NULL;
			}
			copy->members[copy->count].key = key;
			copy->members[copy->count].keylen = m->keylen;
			copy->members[copy->count].value = value;
			copy->count++;
		}
	}
	return copy;
}

static bool
objects_equal_sorted(const JsonNode *a, const JsonNode *b)
{
	size_t		n = a->count;
	const JsonMember **sa = deg_alloc(n * sizeof(JsonMember *));
	const JsonMember **sb = deg_alloc(n * sizeof(JsonMember *));
	bool		equal = true;
	size_t		i;

	if (sa == NULL || sb == NULL)
	{
		/* no room to sort: compare by lookup, slower but the same answer */
		deg_free(sa);
		deg_free(sb);
		for (i = 0; i < n && equal; i++)
			equal = json_equal(a->members[i].value,
							   json_object_get(b, a->members[i].key, a->members[i].keylen));
		return equal;
	}
	for (i = 0; i < n; i++)
	{
		sa[i] = &a->members[i];
		sb[i] = &b->members[i];
	}
	qsort(sa, n, sizeof(JsonMember *), compare_member_ptrs);
	qsort(sb, n, sizeof(JsonMember *), compare_member_ptrs);
	for (i = 0; i < n && equal; i++)
		equal = same_key(sa[i], sb[i]) && json_equal(sa[i]->value, sb[i]->value);
	deg_free(sa);
	deg_free(sb);
	return equal;
}

bool
json_equal(const JsonNode *a, const JsonNode *b)
{
	size_t		i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->kind != b->kind)
		return false;
	switch (a->kind)
	{
		case JSON_NULL:
		case JSON_TRUE:
		case JSON_FALSE:
			return true;
		case JSON_NUMBER:
			return a->number == b->number;
		case JSON_STRING:
			return a->len == b->len && (a->len == 0 || memcmp(a->text, b->text, a->len) == 0);
		case JSON_ARRAY:
			if (a->count != b->count)
				return false;
			for (i = 0; i < a->count; i++)
				if (!json_equal(a->items[i], b->items[i]))
					return false;
			return true;
		case JSON_OBJECT:
			if (a->count != b->count)
				return false;
			if (a->count > PAIRWISE_MEMBERS)
				return objects_equal_sorted(a, b);
			for (i = 0; i < a->count; i++)
				if (!json_equal(a->members[i].value,
								json_object_get(b, a->members[i].key, a->members[i].keylen)))
					return false;
			return true;
	}
	return false;
}
