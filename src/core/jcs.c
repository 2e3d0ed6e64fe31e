/*
 * jcs.c: RFC 8785 canonical JSON from a json.h tree.
 *
 * Numbers are the delicate part: RFC 8785 prints the double as ECMAScript
 * does, with the fewest significant digits that read back as the same
 * double, and of those the closest to it.  printf cannot say which digits
 * are fewest, so the digits come from the free-format algorithm of Steele &
 * White as refined by Burger & Dybvig ("Printing Floating-Point Numbers
 * Quickly and Accurately", 1996), on exact big integers: it knows the
 * interval of decimals that round to the double, including the narrower
 * lower half at powers of two and whether the ends round to it (they do when
 * the significand is even, under round-half-even).  Exact arithmetic makes it
 * correct for every double and independent of the C library and locale.
 */
#include "jcs.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------- exact big integers, just enough for digit generation ---------- */

/*
 * The largest value ever held is below 2^1140 (a subnormal scaled by
 * 10^340), so 40 words of 32 bits leave room; the guards below only keep
 * memory safe should that reasoning ever be wrong.
 */
#define BIG_WORDS 40

typedef struct Big
{
	int			n;				/* words in use, no leading zero words */
	uint32_t	w[BIG_WORDS];	/* least significant first */
} Big;

static void
big_set(Big *b, uint64_t v)
{
	b->n = 0;
	while (v != 0)
	{
		b->w[b->n++] = (uint32_t) v;
		v >>= 32;
	}
}

static void
big_mul_small(Big *b, uint32_t m)
{
	uint64_t	carry = 0;
	int			i;

	for (i = 0; i < b->n; i++)
	{
		uint64_t	t = (uint64_t) b->w[i] * m + carry;

		b->w[i] = (uint32_t) t;
		carry = t >> 32;
	}
	if (carry != 0 && b->n < BIG_WORDS)
		b->w[b->n++] = (uint32_t) carry;
}

static void
big_mul_pow10(Big *b, int k)
{
	static const uint32_t small[] = {1, 10, 100, 1000, 10000, 100000, 1000000,
	10000000, 100000000};

	while (k >= 9)
	{
		big_mul_small(b, 1000000000);
		k -= 9;
	}
	if (k > 0)
		big_mul_small(b, small[k]);
}

static void
big_shift_left(Big *b, int bits)
{
	int			words = bits / 32;
	int			rem = bits % 32;
	uint32_t	carry = 0;
	int			i;

	if (b->n == 0 || bits <= 0)
		return;
	if (b->n + words >= BIG_WORDS)
		return;
	memmove(b->w + words, b->w, (size_t) b->n * sizeof(uint32_t));
	memset(b->w, 0, (size_t) words * sizeof(uint32_t));
	b->n += words;
	if (rem == 0)
		return;
	for (i = words; i < b->n; i++)
	{
		uint32_t	v = b->w[i];

		b->w[i] = (v << rem) | carry;
		carry = v >> (32 - rem);
	}
	if (carry != 0)
		b->w[b->n++] = carry;
}

static int
big_compare(const Big *a, const Big *b)
{
	int			i;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (i = a->n - 1; i >= 0; i--)
		if (a->w[i] != b->w[i])
			return a->w[i] < b->w[i] ? -1 : 1;
	return 0;
}

static void
big_add(Big *sum, const Big *a, const Big *b)
{
	const Big  *longer = a->n >= b->n ? a : b;
	const Big  *shorter = a->n >= b->n ? b : a;
	uint64_t	carry = 0;
	int			i;

	for (i = 0; i < longer->n; i++)
	{
		uint64_t	t = (uint64_t) longer->w[i] + (i < shorter->n ? shorter->w[i] : 0) + carry;

		sum->w[i] = (uint32_t) t;
		carry = t >> 32;
	}
	sum->n = longer->n;
	if (carry != 0 && sum->n < BIG_WORDS)
		sum->w[sum->n++] = (uint32_t) carry;
}

/* a -= b, where a >= b */
static void
big_subtract(Big *a, const Big *b)
{
	int64_t		borrow = 0;
	int			i;

	for (i = 0; i < a->n; i++)
	{
		int64_t		t = (int64_t) a->w[i] - (i < b->n ? b->w[i] : 0) - borrow;

		borrow = t < 0;
		a->w[i] = (uint32_t) (t + (borrow ? ((int64_t) 1 << 32) : 0));
	}
	while (a->n > 0 && a->w[a->n - 1] == 0)
		a->n--;
}

/* ---------- shortest digits ---------- */

/*
 * The shortest, then closest, decimal digits of a finite positive double:
 * value = 0.d1 d2 ... dn * 10^*point.  Returns n (at most 17).
 */
static int
shortest_digits(double value, char *digits, int *point)
{
	uint64_t	bits;
	uint64_t	fraction;
	int			biased;
	uint64_t	f;
	int			e;
	bool		even;
	bool		narrow_below;	/* the gap to the next lower double is half */
	int			bitlen;
	int			k;
	int			n = 0;
	Big			r,
				s,
				mplus,
				mminus,
				t;

	memcpy(&bits, &value, sizeof(bits));
	biased = (int) ((bits >> 52) & 0x7FF);
	fraction = bits & (((uint64_t) 1 << 52) - 1);
	if (biased == 0)
	{
		f = fraction;
		e = -1074;
	}
	else
	{
		f = fraction | ((uint64_t) 1 << 52);
		e = biased - 1075;
	}
	even = (f & 1) == 0;
	narrow_below = fraction == 0 && biased > 1;

	/* value = r / s, its rounding interval (r - mminus) / s .. (r + mplus) / s */
	if (e >= 0)
	{
		big_set(&r, f);
		big_set(&s, narrow_below ? 4 : 2);
		big_set(&mplus, 1);
		big_set(&mminus, 1);
		big_shift_left(&r, e + (narrow_below ? 2 : 1));
		big_shift_left(&mplus, e + (narrow_below ? 1 : 0));
		big_shift_left(&mminus, e);
	}
	else
	{
		big_set(&r, f << (narrow_below ? 2 : 1));
		big_set(&s, 1);
		big_shift_left(&s, (narrow_below ? 2 : 1) - e);
		big_set(&mplus, narrow_below ? 2 : 1);
		big_set(&mminus, 1);
	}

	/* estimate k, the smallest power of ten above the interval, from below */
	bitlen = 0;
	while (bitlen < 64 && (f >> bitlen) != 0)
		bitlen++;
	k = (int) ceil((e + bitlen - 1) * 0.30102999566398114 - 1e-10);
	if (k >= 0)
		big_mul_pow10(&s, k);
	else
	{
		big_mul_pow10(&r, -k);
		big_mul_pow10(&mplus, -k);
		big_mul_pow10(&mminus, -k);
	}
	/* fix the estimate: the top of the interval must lie below 10^k (or at it when excluded) */
	for (;;)
	{
		big_add(&t, &r, &mplus);
		if (even ? big_compare(&t, &s) >= 0 : big_compare(&t, &s) > 0)
		{
			big_mul_small(&s, 10);
			k++;
			continue;
		}
		big_mul_small(&t, 10);
		if (even ? big_compare(&t, &s) < 0 : big_compare(&t, &s) <= 0)
		{
			big_mul_small(&r, 10);
			big_mul_small(&mplus, 10);
			big_mul_small(&mminus, 10);
			k--;
			continue;
		}
		break;
	}

	/* generate digits until the rest of the interval allows stopping */
	for (;;)
	{
		int			q = 0;
		bool		low_ok;
		bool		high_ok;

		big_mul_small(&r, 10);
		big_mul_small(&mplus, 10);
		big_mul_small(&mminus, 10);
		while (q < 10 && big_compare(&r, &s) >= 0)
		{
			big_subtract(&r, &s);
			q++;
		}
		low_ok = even ? big_compare(&r, &mminus) <= 0 : big_compare(&r, &mminus) < 0;
		big_add(&t, &r, &mplus);
		high_ok = even ? big_compare(&t, &s) >= 0 : big_compare(&t, &s) > 0;
		if (!low_ok && !high_ok && n < 17)
		{
			digits[n++] = (char) q;
			continue;
		}
		if (low_ok && high_ok)
		{
			/* both neighbours round to the value: the closer, or the even one on a tie */
			int			c;

			big_add(&t, &r, &r);
			c = big_compare(&t, &s);
			if (c > 0 || (c == 0 && q % 2 == 1))
				q++;
		}
		else if (high_ok)
			q++;
		digits[n++] = (char) q;
		break;
	}

	/* a final 10 carries (it cannot arise by the algorithm, but stay exact) */
	while (n > 1 && digits[n - 1] >= 10)
	{
		digits[n - 1] = 0;
		digits[n - 2]++;
		n--;
	}
	if (digits[0] >= 10)
	{
		digits[0] = 1;
		n = 1;
		k++;
	}
	while (n > 1 && digits[n - 1] == 0)
		n--;
	*point = k;
	return n;
}

size_t
jcs_format_double(double value, char *out)
{
	char		digits[24];
	int			n;
	int			point;
	size_t		o = 0;
	int			i;

	if (!isfinite(value))
	{
		out[0] = '\0';
		return 0;
	}
	if (value == 0)
	{
		/* both zeros, since ECMAScript prints -0 as "0" */
		out[0] = '0';
		out[1] = '\0';
		return 1;
	}
	if (value < 0)
	{
		out[o++] = '-';
		value = -value;
	}
	if (value < 9007199254740992.0 && value == floor(value))
	{
		/* an integer below 2^53 is its own shortest form */
		uint64_t	v = (uint64_t) value;
		char		rev[20];
		int			len = 0;

		while (v != 0)
		{
			rev[len++] = (char) ('0' + v % 10);
			v /= 10;
		}
		while (len > 0)
			out[o++] = rev[--len];
		out[o] = '\0';
		return o;
	}

	n = shortest_digits(value, digits, &point);

	/* Number::toString: digits d1..dn with value 0.d1..dn * 10^point */
	if (n <= point && point <= 21)
	{
		for (i = 0; i < n; i++)
			out[o++] = (char) ('0' + digits[i]);
		for (i = n; i < point; i++)
			out[o++] = '0';
	}
	else if (0 < point && point <= 21)
	{
		for (i = 0; i < n; i++)
		{
			if (i == point)
				out[o++] = '.';
			out[o++] = (char) ('0' + digits[i]);
		}
	}
	else if (-6 < point && point <= 0)
	{
		out[o++] = '0';
		out[o++] = '.';
		for (i = point; i < 0; i++)
			out[o++] = '0';
		for (i = 0; i < n; i++)
			out[o++] = (char) ('0' + digits[i]);
	}
	else
	{
		int			exponent = point - 1;

		out[o++] = (char) ('0' + digits[0]);
		if (n > 1)
		{
			out[o++] = '.';
			for (i = 1; i < n; i++)
				out[o++] = (char) ('0' + digits[i]);
		}
		out[o++] = 'e';
		out[o++] = exponent < 0 ? '-' : '+';
		o += (size_t) snprintf(out + o, JCS_DOUBLE_BUFSIZE - o, "%d",
							   exponent < 0 ? -exponent : exponent);
	}
	out[o] = '\0';
	return o;
}

/* ---------- strings and keys ---------- */

bool
jcs_append_string(DegBuf *out, const char *utf8, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *) utf8;
	size_t		run = 0;
	size_t		i;

	degbuf_putc(out, '"');
	for (i = 0; i < len; i++)
	{
		unsigned char c = s[i];
		char		esc[6];
		size_t		n = 2;

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		esc[0] = '\\';
		switch (c)
		{
			case '"':
			case '\\':
				esc[1] = (char) c;
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\t':
				esc[1] = 't';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xF];
				n = 6;
				break;
		}
		degbuf_append(out, utf8 + run, i - run);
		degbuf_append(out, esc, n);
		run = i + 1;
	}
	degbuf_append(out, utf8 + run, len - run);
	degbuf_putc(out, '"');
	return !out->oom;
}

/*
 * UTF-8 byte order is code point order, and UTF-16 order differs from it
 * only in that U+E000..U+FFFF (lead bytes EE, EF) sort after the surrogate
 * pairs of U+10000 and up (lead bytes F0..F4).  Two keys first differ at the
 * same place in a character, so lifting those two lead bytes above F4 turns
 * a byte comparison into a UTF-16 one.
 */
static unsigned
utf16_rank(unsigned char c)
{
	return (c == 0xEE || c == 0xEF) ? (unsigned) c + 0x10 : c;
}

int
jcs_compare_keys(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		n = alen < blen ? alen : blen;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		unsigned char ca = (unsigned char) a[i];
		unsigned char cb = (unsigned char) b[i];

		if (ca != cb)
			return utf16_rank(ca) < utf16_rank(cb) ? -1 : 1;
	}
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return 0;
}

static int
compare_members(const void *x, const void *y)
{
	const JsonMember *a = *(const JsonMember *const *) x;
	const JsonMember *b = *(const JsonMember *const *) y;

	return jcs_compare_keys(a->key, a->keylen, b->key, b->keylen);
}

/* ---------- serialization ---------- */

static bool
serialize_error(JsonError *err, const char *message)
{
	if (err != NULL)
	{
		memset(err, 0, sizeof(*err));
		snprintf(err->message, sizeof(err->message), "%s", message);
	}
	return false;
}

static bool
serialize(const JsonNode *node, DegBuf *out, JsonError *err, int depth)
{
	char		number[JCS_DOUBLE_BUFSIZE];
	const JsonMember *small[16];
	const JsonMember **sorted;
	size_t		i;

	if (node == NULL)
		return serialize_error(err, "missing value in the tree");
	switch (node->kind)
	{
		case JSON_NULL:
			degbuf_puts(out, "null");
			break;
		case JSON_TRUE:
			degbuf_puts(out, "true");
			break;
		case JSON_FALSE:
			degbuf_puts(out, "false");
			break;
		case JSON_NUMBER:
			if (jcs_format_double(node->number, number) == 0)
				return serialize_error(err, "a number is not finite");
			degbuf_puts(out, number);
			break;
		case JSON_STRING:
			jcs_append_string(out, node->text, node->len);
			break;
		case JSON_ARRAY:
			if (depth >= JSON_MAX_DEPTH)
				return serialize_error(err, "nesting deeper than the JSON limit");
			degbuf_putc(out, '[');
			for (i = 0; i < node->count; i++)
			{
				if (i > 0)
					degbuf_putc(out, ',');
				if (!serialize(node->items[i], out, err, depth + 1))
					return false;
			}
			degbuf_putc(out, ']');
			break;
		case JSON_OBJECT:
			if (depth >= JSON_MAX_DEPTH)
				return serialize_error(err, "nesting deeper than the JSON limit");
			if (node->count <= sizeof(small) / sizeof(small[0]))
				sorted = small;
			else if (node->count > ((size_t) -1) / sizeof(JsonMember *) ||
					 (sorted = deg_alloc(node->count * sizeof(JsonMember *))) == NULL)
				return serialize_error(err, "out of memory");
			for (i = 0; i < node->count; i++)
				sorted[i] = &node->members[i];
			qsort(sorted, node->count, sizeof(JsonMember *), compare_members);
			degbuf_putc(out, '{');
			for (i = 0; i < node->count; i++)
			{
				if (i > 0 && compare_members(&sorted[i - 1], &sorted[i]) == 0)
				{
					if (sorted != small)
						deg_free(sorted);
					return serialize_error(err, "duplicate key in an object");
				}
				if (i > 0)
					degbuf_putc(out, ',');
				jcs_append_string(out, sorted[i]->key, sorted[i]->keylen);
				degbuf_putc(out, ':');
				if (!serialize(sorted[i]->value, out, err, depth + 1))
				{
					if (sorted != small)
						deg_free(sorted);
					return false;
				}
			}
			degbuf_putc(out, '}');
			if (sorted != small)
				deg_free(sorted);
			break;
	}
	if (out->oom)
		return serialize_error(err, "out of memory");
	return true;
}

bool
jcs_serialize(const JsonNode *node, DegBuf *out, JsonError *err)
{
	return serialize(node, out, err, 0);
}

bool
jcs_canonicalize(const char *text, size_t len, DegBuf *out, JsonError *err)
{
	JsonNode   *root = json_parse(text, len, err);
	bool		ok;

	if (root == NULL)
		return false;
	ok = jcs_serialize(root, out, err);
	json_free(root);
	return ok;
}
