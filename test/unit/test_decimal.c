/*
 * test_decimal.c: unit, differential and property tests of the exact
 * decimal arithmetic in src/core/decimal.c.
 *
 * The differential vectors (test/vectors/decimal/numeric_ops.txt) were
 * computed once by a PostgreSQL 15 server; this test needs no server.
 */
#include "core/decimal.h"
#include "unit.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>

#define VECTORS "test/vectors/decimal/numeric_ops.txt"

/* ---------- helpers ---------- */

/* a ring of growable buffers, so a few results can be used in one CHECK */
static char *ring[8];
static size_t ring_size[8];
static int	ring_next;

static char *
ring_buf(size_t size)
{
	int			i = ring_next++ % 8;

	if (ring_size[i] < size)
	{
		ring[i] = realloc(ring[i], size);
		ring_size[i] = size;
	}
	return ring[i];
}

static const char *
txt(const Decimal *d)
{
	char	   *out = ring_buf(dec_text_size(d));

	dec_format(d, out);
	return out;
}

static const char *
err_txt(const DecError *err)
{
	char	   *out = ring_buf(sizeof(err->message) + 8);

	snprintf(out, sizeof(err->message) + 8, "ERROR: %s", err->message);
	return out;
}

/* every stored value must be normalized exactly as numeric stores it */
static bool
normalized(const Decimal *d)
{
	const int16_t *digits = dec_digits(d);
	int			i;

	if (d->sign != DEC_POS && d->sign != DEC_NEG)
		return false;
	if (d->dscale < 0 || d->dscale > DEC_MAX_DSCALE)
		return false;
	if (d->ndigits == 0)
		return d->weight == 0 && d->sign == DEC_POS;
	if (digits[0] == 0 || digits[d->ndigits - 1] == 0)
		return false;
	for (i = 0; i < d->ndigits; i++)
	{
		if (digits[i] < 0 || digits[i] >= DEC_NBASE)
			return false;
	}
	if (d->weight > DEC_MAX_WEIGHT)
		return false;
	/* the last digit's lowest decimal place is within dscale */
	if ((d->weight - d->ndigits + 1) * DEC_DEC_DIGITS < -d->dscale)
	{
		int			places = -(d->weight - d->ndigits + 1) * DEC_DEC_DIGITS - d->dscale;
		int			pow = 1;

		if (places >= DEC_DEC_DIGITS)
			return false;
		while (places-- > 0)
			pow *= 10;
		if (digits[d->ndigits - 1] % pow != 0)
			return false;
	}
	return true;
}

static bool
parse(Decimal *d, const char *text)
{
	DecError	err;

	if (dec_from_text(d, text, strlen(text), &err) != DEC_OK)
	{
		printf("# cannot parse \"%s\": %s\n", text, err.message);
		return false;
	}
	return true;
}

/* text of a value read from text, or the error */
static const char *
in(const char *text)
{
	Decimal		d = DEC_INIT;
	DecError	err;
	const char *out;

	if (dec_from_text(&d, text, strlen(text), &err) != DEC_OK)
		out = err_txt(&err);
	else
	{
		CHECK(normalized(&d), "normalized: %s", text);
		out = txt(&d);
	}
	dec_free(&d);
	return out;
}

typedef DecStatus (*BinOp) (Decimal *, const Decimal *, const Decimal *, DecError *);
typedef DecStatus (*UnOp) (Decimal *, const Decimal *, DecError *);

static const char *
binop(BinOp fn, const char *a, const char *b)
{
	Decimal		x = DEC_INIT,
				y = DEC_INIT,
				r = DEC_INIT;
	DecError	err;
	const char *out = "PARSE";

	if (parse(&x, a) && parse(&y, b))
	{
		if (fn(&r, &x, &y, &err) != DEC_OK)
			out = err_txt(&err);
		else
		{
			CHECK(normalized(&r), "normalized result of %s, %s", a, b);
			out = txt(&r);
		}
	}
	dec_free(&x);
	dec_free(&y);
	dec_free(&r);
	return out;
}

static const char *
unop(UnOp fn, const char *a)
{
	Decimal		x = DEC_INIT,
				r = DEC_INIT;
	DecError	err;
	const char *out = "PARSE";

	if (parse(&x, a))
	{
		if (fn(&r, &x, &err) != DEC_OK)
			out = err_txt(&err);
		else
		{
			CHECK(normalized(&r), "normalized result of %s", a);
			out = txt(&r);
		}
	}
	dec_free(&x);
	dec_free(&r);
	return out;
}

static const char *
rnd(const char *a, int scale, DecRound mode)
{
	Decimal		x = DEC_INIT,
				r = DEC_INIT;
	DecError	err;
	const char *out = "PARSE";

	if (parse(&x, a))
	{
		if (dec_round(&r, &x, scale, mode, &err) != DEC_OK)
			out = err_txt(&err);
		else
		{
			CHECK(normalized(&r), "normalized round of %s", a);
			out = txt(&r);
		}
	}
	dec_free(&x);
	dec_free(&r);
	return out;
}

static const char *
divr(const char *a, const char *b, int scale, DecRound mode)
{
	Decimal		x = DEC_INIT,
				y = DEC_INIT,
				r = DEC_INIT;
	DecError	err;
	const char *out = "PARSE";

	if (parse(&x, a) && parse(&y, b))
	{
		if (dec_div_round(&r, &x, &y, scale, mode, &err) != DEC_OK)
			out = err_txt(&err);
		else
		{
			CHECK(normalized(&r), "normalized quotient of %s, %s", a, b);
			out = txt(&r);
		}
	}
	dec_free(&x);
	dec_free(&y);
	dec_free(&r);
	return out;
}

static int
cmp_text(const char *a, const char *b)
{
	Decimal		x = DEC_INIT,
				y = DEC_INIT;
	int			c = 99;

	if (parse(&x, a) && parse(&y, b))
		c = dec_cmp(&x, &y);
	dec_free(&x);
	dec_free(&y);
	return c;
}

/* a string of n copies of c, in a ring buffer */
static char *
repeat(char c, size_t n)
{
	char	   *s = ring_buf(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static char *
concat3(const char *a, const char *b, const char *c)
{
	size_t		la = strlen(a),
				lb = strlen(b),
				lc = strlen(c);
	char	   *s = ring_buf(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* ---------- known answers ---------- */

static void
test_text(void)
{
	static const char *const cases[][2] = {
		{"-12.3400", "-12.3400"},
		{"12.34", "12.34"},
		{"0", "0"},
		{"-0", "0"},
		{"-0.00", "0.00"},
		{"0.000", "0.000"},
		{"00012.3400", "12.3400"},
		{"1.5e3", "1500"},
		{"1.5E-3", "0.0015"},
		{"15e-1", "1.5"},
		{"1.500e1", "15.00"},
		{" 1.5e3 ", "1500"},
		{"\t\n+7\r\n", "7"},
		{"1.", "1"},
		{".5", "0.5"},
		{"-.5", "-0.5"},
		{"+.5", "0.5"},
		{"1.e5", "100000"},
		{"1e 5", "100000"},
		{"1e +5", "100000"},
		{"1e0005", "100000"},
		{"1e-0", "1"},
		{"0e1073741822", "0"},
		{"0.0000e4", "0"},
		{"9999.9999", "9999.9999"},
		{"10000", "10000"},
		{"100000000", "100000000"},
		{"0.0001", "0.0001"},
		{"0.00012", "0.00012"},
		{"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"},
		{"1e-16383", NULL},
		{"", "ERROR: invalid input syntax for type numeric: expected a digit at end of input"},
		{"  ", "ERROR: invalid input syntax for type numeric: expected a digit at end of input"},
		{".", "ERROR: invalid input syntax for type numeric: expected a digit at end of input"},
		{"-", "ERROR: invalid input syntax for type numeric: expected a digit at end of input"},
		{".e5", "ERROR: invalid input syntax for type numeric: expected a digit at position 2, found \"e\""},
		{"+-1", "ERROR: invalid input syntax for type numeric: expected a digit at position 2, found \"-\""},
		{"1.2.3", "ERROR: invalid input syntax for type numeric: expected a digit at position 4, found \".\""},
		{"1e", "ERROR: invalid input syntax for type numeric: expected an exponent at end of input"},
		{"1e--5", "ERROR: invalid input syntax for type numeric: expected an exponent at position 4, found \"-\""},
		{"1ee5", "ERROR: invalid input syntax for type numeric: expected an exponent at position 3, found \"e\""},
		{"1 2", "ERROR: invalid input syntax for type numeric: expected end of input at position 3, found \"2\""},
		{"1_000", "ERROR: invalid input syntax for type numeric: expected end of input at position 2, found \"_\""},
		{"0x10", "ERROR: invalid input syntax for type numeric: expected end of input at position 2, found \"x\""},
		{"1e5.5", "ERROR: invalid input syntax for type numeric: expected end of input at position 4, found \".\""},
		{"12\x01", "ERROR: invalid input syntax for type numeric: expected end of input at position 3, found byte 0x01"},
		{"NaNx", "ERROR: invalid input syntax for type numeric: expected end of input at position 4, found \"x\""},
		{"infinit", "ERROR: invalid input syntax for type numeric: expected end of input at position 4, found \"i\""},
		{"NaN", "ERROR: NaN is not a valid decimal here"},
		{" nan ", "ERROR: NaN is not a valid decimal here"},
		{"-Infinity", "ERROR: infinity is not a valid decimal here"},
		{"+inf", "ERROR: infinity is not a valid decimal here"},
		{"1e131072", "ERROR: value overflows numeric format"},
		{"1e-16384", "ERROR: value overflows numeric format"},
		{"0e-20000", "ERROR: value overflows numeric format"},
		{"0.0e-16383", "ERROR: value overflows numeric format"},
		{"0e1073741823", "ERROR: value overflows numeric format"},
		{"0e-1073741822", "ERROR: value overflows numeric format"},
		{"1e99999999999999999999", "ERROR: value overflows numeric format"},
		{"1e99999999999999999999x", "ERROR: value overflows numeric format"},
		{"1e131072x", "ERROR: invalid input syntax for type numeric: expected end of input at position 9, found \"x\""},
		{"12345678901234567890.5e-16383", "ERROR: value overflows numeric format"},
	};
	size_t		i;
	Decimal		d = DEC_INIT;
	DecError	err;
	char	   *big;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		if (cases[i][1] != NULL)
			CHECK_STR(in(cases[i][0]), cases[i][1], "text \"%s\"", cases[i][0]);
	}

	/* positions and codes */
	CHECK(dec_from_text(&d, "12x", 3, &err) == DEC_ERR_SYNTAX && err.position == 3,
		  "syntax error position");
	CHECK(dec_from_text(&d, "1e999999999999", 14, &err) == DEC_ERR_OVERFLOW,
		  "exponent overflow code");
	CHECK(dec_from_text(&d, "NaN", 3, &err) == DEC_ERR_INVALID, "NaN code");
	/* the text need not be NUL-terminated: only len bytes are read */
	CHECK(dec_from_text(&d, "12.50xyz", 5, &err) == DEC_OK && strcmp(txt(&d), "12.50") == 0,
		  "length-bounded input");
	CHECK(dec_from_text(&d, "1\0" "2", 3, &err) == DEC_ERR_SYNTAX && err.position == 2,
		  "embedded NUL is a syntax error");
	CHECK(dec_from_text(&d, NULL, 0, &err) == DEC_ERR_SYNTAX, "empty input");

	/* the limits: 131072 digits before the point, 16383 after */
	CHECK(strlen(in("1e131071")) == 131072, "1e131071 has 131072 digits");
	CHECK(strlen(in("9.9e131071")) == 131072, "9.9e131071 fits");
	CHECK_STR(in("10e131071"), "ERROR: value overflows numeric format", "10e131071 overflows");
	big = concat3("0.", repeat('0', 16382), "1");
	CHECK_STR(in(big), big, "1e-16383 prints with 16383 places");
	big = concat3("0.", repeat('0', 16383), "");
	CHECK_STR(in(big), big, "zero with 16383 places");
	big = concat3("0.", repeat('0', 16384), "");
	CHECK_STR(in(big), "ERROR: value overflows numeric format", "zero with 16384 places");
	big = concat3(repeat('0', 200000), "1.5", repeat('0', 20000));
	CHECK_STR(in(concat3(big, "e-1", "")), "ERROR: value overflows numeric format",
			  "20000 places overflow even with leading zeros");
	CHECK_STR(in(concat3(big, "e20001", "")), concat3("15", repeat('0', 20000), ""),
			  "an exponent brings trailing places back");
	big = concat3("1", repeat('0', 131072), "");
	CHECK_STR(in(big), "ERROR: value overflows numeric format", "131073 digits overflow");

	/* dec_to_text appends */
	{
		DegBuf		buf;

		degbuf_init(&buf);
		degbuf_puts(&buf, "x=");
		CHECK(parse(&d, "-0.50") && dec_to_text(&d, &buf, &err) == DEC_OK, "to_text");
		CHECK_STR(buf.data, "x=-0.50", "to_text appends");
		CHECK(dec_text_size(&d) == 6, "text size counts the NUL");
		degbuf_free(&buf);
	}
	dec_free(&d);
}

static void
test_add_sub(void)
{
	static const char *const add[][3] = {
		{"1", "2", "3"},
		{"1.5", "-1.5", "0.0"},
		{"-1.5", "1.5", "0.0"},
		{"0", "0.00", "0.00"},
		{"0.000", "-7", "-7.000"},
		{"-7", "0.000", "-7.000"},
		{"9999.9999", "0.0001", "10000.0000"},
		{"9999", "1", "10000"},
		{"99999999", "1", "100000000"},
		{"-99999999", "-1", "-100000000"},
		{"0.9999", "0.0001", "1.0000"},
		{"12.34", "-12.3400", "0.0000"},
		{"100000000", "-0.0001", "99999999.9999"},
		{"-100000000", "0.0001", "-99999999.9999"},
		{"1", "-1.0000000000000000000001", "-0.0000000000000000000001"},
		{"123.456", "0.0004", "123.4564"},
		{"5", "-7.25", "-2.25"},
		{"-5", "7.25", "2.25"},
		{"1e20", "1e-20", "100000000000000000000.00000000000000000001"},
	};
	static const char *const sub[][3] = {
		{"3", "2", "1"},
		{"2", "3", "-1"},
		{"10000", "0.0001", "9999.9999"},
		{"100000000", "1", "99999999"},
		{"1.0000", "0.0001", "0.9999"},
		{"0", "5.50", "-5.50"},
		{"-5", "-5", "0"},
		{"0.1", "0.10", "0.00"},
		{"-1", "1", "-2"},
		{"1e-20", "1e20", "-99999999999999999999.99999999999999999999"},
	};
	size_t		i;
	char	   *nines;

	for (i = 0; i < sizeof(add) / sizeof(add[0]); i++)
		CHECK_STR(binop(dec_add, add[i][0], add[i][1]), add[i][2], "%s + %s", add[i][0], add[i][1]);
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
		CHECK_STR(binop(dec_sub, sub[i][0], sub[i][1]), sub[i][2], "%s - %s", sub[i][0], sub[i][1]);

	/* hundreds of digits: a carry through all of them, a borrow back */
	nines = repeat('9', 400);
	CHECK_STR(binop(dec_add, nines, "1"), concat3("1", repeat('0', 400), ""), "10^400 - 1 + 1");
	CHECK_STR(binop(dec_sub, concat3("1", repeat('0', 400), ""), "1"), repeat('9', 400), "10^400 - 1");
	CHECK_STR(binop(dec_add, concat3("0.", repeat('9', 300), ""), concat3("0.", repeat('0', 299), "1")),
			  concat3("1.", repeat('0', 300), ""), "a carry out of 300 places");

	/* the largest value plus a unit overflows */
	CHECK_STR(binop(dec_add, concat3(repeat('9', 131072), "", ""), "1"),
			  "ERROR: value overflows numeric format", "add overflows");
	CHECK(strlen(binop(dec_sub, concat3("-", repeat('9', 131072), ""), "-1")) == 131073,
		  "sub at the limit");
}

static void
test_mul(void)
{
	static const char *const cases[][3] = {
		{"2", "3", "6"},
		{"-2", "3", "-6"},
		{"-2", "-3", "6"},
		{"0", "-3", "0"},
		{"0.00", "-3.1", "0.000"},
		{"12345.6789", "-98765.4321", "-1219326311.12635269"},
		{"1.5", "1.5", "2.25"},
		{"1.10", "1.10", "1.2100"},
		{"9999", "9999", "99980001"},
		{"9999.9999", "9999.9999", "99999998.00000001"},
		{"0.0001", "0.0001", "0.00000001"},
		{"10000", "10000", "100000000"},
		{"5", "0.25", "1.25"},
		{"1.25", "4", "5.00"},
		{"99999999", "99999999", "9999999800000001"},
		{"-0.5", "0.5", "-0.25"},
	};
	size_t		i;
	char	   *ones;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(binop(dec_mul, cases[i][0], cases[i][1]), cases[i][2], "%s * %s", cases[i][0], cases[i][1]);

	/* (10^200 - 1)^2 = 10^400 - 2 * 10^200 + 1 */
	CHECK_STR(binop(dec_mul, repeat('9', 200), repeat('9', 200)),
			  concat3(concat3(repeat('9', 199), "8", ""), repeat('0', 199), "1"), "(10^200-1)^2");
	ones = repeat('1', 50);
	CHECK_STR(binop(dec_mul, ones, ones),
			  "123456790123456790123456790123456790123456790123454320987654320987654320987654320987654320987654321",
			  "repunit squared");

	/* the exact scale is the sum, rounded half away from zero past 16383 */
	CHECK_STR(binop(dec_mul, "1e-10000", "1e-10000"), concat3("0.", repeat('0', 16383), ""),
			  "a product below 16383 places rounds to zero");
	CHECK_STR(binop(dec_mul, "0.5e-10000", "1e-6383"), concat3("0.", repeat('0', 16382), "1"),
			  "a half at place 16384 rounds up");
	CHECK_STR(binop(dec_mul, "-0.5e-10000", "1e-6383"), concat3("-0.", repeat('0', 16382), "1"),
			  "and away from zero");
	CHECK_STR(binop(dec_mul, "0.4e-10000", "1e-6383"), concat3("0.", repeat('0', 16383), ""),
			  "less than a half rounds down");
	CHECK_STR(binop(dec_mul, "1e70000", "1e70000"), "ERROR: value overflows numeric format",
			  "mul overflows");
}

static void
test_div(void)
{
	static const char *const cases[][3] = {
		{"1", "3", "0.33333333333333333333"},
		{"2", "3", "0.66666666666666666667"},
		{"10", "4", "2.5000000000000000"},
		{"1", "7", "0.14285714285714285714"},
		{"1.5", "7", "0.21428571428571428571"},
		{"1.0", "3", "0.33333333333333333333"},
		{"1", "3.00000000000000000000000", "0.33333333333333333333333"},
		{"0", "7", "0.00000000000000000000"},
		{"0", "0.001", "0.0000000000000000"},
		{"12345678901234567890", "0.0003", "41152263004115226300000.0000"},
		{"0.000001", "7", "0.000000142857142857142857"},
		{"-1", "3", "-0.33333333333333333333"},
		{"-2", "3", "-0.66666666666666666667"},
		{"2", "-3", "-0.66666666666666666667"},
		{"-2", "-3", "0.66666666666666666667"},
		{"9e131071", "1e131071", "9.0000000000000000"},
		{"100", "0.25", "400.0000000000000000"},
		{"5", "2", "2.5000000000000000"},
		{"1", "0", "ERROR: division by zero"},
		{"0", "0.0", "ERROR: division by zero"},
		{"1e131071", "0.1", "ERROR: value overflows numeric format"},
	};
	size_t		i;
	Decimal		a = DEC_INIT,
				b = DEC_INIT;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR(binop(dec_div, cases[i][0], cases[i][1]), cases[i][2], "%s / %s", cases[i][0], cases[i][1]);

	/* the scale is at most 1000 even when an operand has more */
	CHECK_STR(binop(dec_div, "1e-2000", "1"), concat3("0.", repeat('0', 1000), ""), "division scale <= 1000");
	CHECK(parse(&a, "1e-996") && parse(&b, "1e-5") && dec_div_result_scale(&a, &b) == 1000, "div scale clamps");
	CHECK(parse(&a, "1") && parse(&b, "3") && dec_div_result_scale(&a, &b) == 20, "div scale of 1/3");
	CHECK(parse(&a, "10") && parse(&b, "4") && dec_div_result_scale(&a, &b) == 16, "div scale of 10/4");

	/* numeric's div() and %: truncation toward zero, the dividend's sign */
	CHECK_STR(binop(dec_div_trunc, "7.5", "2"), "3", "div(7.5, 2)");
	CHECK_STR(binop(dec_div_trunc, "-7.5", "2"), "-3", "div(-7.5, 2)");
	CHECK_STR(binop(dec_div_trunc, "1", "0"), "ERROR: division by zero", "div by zero");
	CHECK_STR(binop(dec_mod, "7.5", "2"), "1.5", "7.5 %% 2");
	CHECK_STR(binop(dec_mod, "-7.5", "2"), "-1.5", "-7.5 %% 2");
	CHECK_STR(binop(dec_mod, "7.5", "-2"), "1.5", "7.5 %% -2");
	CHECK_STR(binop(dec_mod, "1", "0.3"), "0.1", "1 %% 0.3");
	CHECK_STR(binop(dec_mod, "1", "0.30000"), "0.10000", "mod keeps the larger scale");
	CHECK_STR(binop(dec_mod, "1e-5", "1"), "0.00001", "small mod large");
	CHECK_STR(binop(dec_mod, "6", "3"), "0", "exact mod");
	CHECK_STR(binop(dec_mod, "0.0", "3"), "0.0", "zero mod");
	CHECK_STR(binop(dec_mod, "1.0", "0"), "ERROR: division by zero", "mod by zero");
	/* the quotient would be far beyond numeric, the remainder is not */
	CHECK_STR(binop(dec_mod, "1e131071", "1e-16383"), concat3("0.", repeat('0', 16383), ""),
			  "mod with a huge quotient");

	/* an explicit scale and mode */
	CHECK_STR(divr("1", "3", 2, DEC_ROUND_HALF_EVEN), "0.33", "1/3 at 2");
	CHECK_STR(divr("2", "3", 2, DEC_ROUND_HALF_EVEN), "0.67", "2/3 at 2");
	CHECK_STR(divr("2", "3", 2, DEC_ROUND_DOWN), "0.66", "2/3 at 2 down");
	CHECK_STR(divr("-2", "3", 2, DEC_ROUND_FLOOR), "-0.67", "-2/3 at 2 floor");
	CHECK_STR(divr("-2", "3", 2, DEC_ROUND_CEIL), "-0.66", "-2/3 at 2 ceil");
	CHECK_STR(divr("1", "8", 2, DEC_ROUND_HALF_EVEN), "0.12", "1/8 at 2 even");
	CHECK_STR(divr("1", "8", 2, DEC_ROUND_HALF_AWAY), "0.13", "1/8 at 2 away");
	CHECK_STR(divr("-1", "8", 2, DEC_ROUND_HALF_EVEN), "-0.12", "-1/8 at 2 even");
	CHECK_STR(divr("-1", "8", 2, DEC_ROUND_HALF_AWAY), "-0.13", "-1/8 at 2 away");
	CHECK_STR(divr("3", "8", 2, DEC_ROUND_HALF_EVEN), "0.38", "3/8 at 2 even");
	CHECK_STR(divr("5", "2", 0, DEC_ROUND_HALF_EVEN), "2", "5/2 even");
	CHECK_STR(divr("7", "2", 0, DEC_ROUND_HALF_EVEN), "4", "7/2 even");
	CHECK_STR(divr("1000", "3", -1, DEC_ROUND_HALF_EVEN), "330", "1000/3 to tens");
	CHECK_STR(divr("250", "1", -2, DEC_ROUND_HALF_EVEN), "200", "250 to hundreds, even");
	CHECK_STR(divr("1", "3", 30, DEC_ROUND_HALF_EVEN), "0.333333333333333333333333333333", "1/3 at 30");
	CHECK_STR(divr("12.5", "1", 0, DEC_ROUND_HALF_EVEN), "12", "12.5 even");
	CHECK_STR(divr("1", "0", 2, DEC_ROUND_HALF_EVEN), "ERROR: division by zero", "by zero at a scale");
	CHECK_STR(divr("1", "3", 20000, DEC_ROUND_DOWN), concat3("0.", repeat('3', 16383), ""),
			  "scale limited to 16383");
	CHECK_STR(divr("1", "3", 2, (DecRound) 99), "ERROR: invalid rounding mode 99", "bad mode");
	dec_free(&a);
	dec_free(&b);
}

static void
test_round(void)
{
	static const struct
	{
		const char *a;
		int			scale;
		const char *even;
		const char *away;
		const char *down;
		const char *floor;
		const char *ceil;
	}			cases[] = {
		{"2.5", 0, "2", "3", "2", "2", "3"},
		{"-2.5", 0, "-2", "-3", "-2", "-3", "-2"},
		{"3.5", 0, "4", "4", "3", "3", "4"},
		{"-3.5", 0, "-4", "-4", "-3", "-4", "-3"},
		{"0.125", 2, "0.12", "0.13", "0.12", "0.12", "0.13"},
		{"-0.125", 2, "-0.12", "-0.13", "-0.12", "-0.13", "-0.12"},
		{"0.135", 2, "0.14", "0.14", "0.13", "0.13", "0.14"},
		{"0.1251", 2, "0.13", "0.13", "0.12", "0.12", "0.13"},
		{"0.5", 0, "0", "1", "0", "0", "1"},
		{"-0.5", 0, "0", "-1", "0", "-1", "0"},
		{"0.4", 0, "0", "0", "0", "0", "1"},
		{"1.5", 3, "1.500", "1.500", "1.500", "1.500", "1.500"},
		{"1234.5", -2, "1200", "1200", "1200", "1200", "1300"},
		{"1250", -2, "1200", "1300", "1200", "1200", "1300"},
		{"1350", -2, "1400", "1400", "1300", "1300", "1400"},
		{"-1250", -2, "-1200", "-1300", "-1200", "-1300", "-1200"},
		{"25", -1, "20", "30", "20", "20", "30"},
		{"0.5", -1, "0", "0", "0", "0", "10"},
		{"-15", -1, "-20", "-20", "-10", "-20", "-10"},
		{"9999.5", 0, "10000", "10000", "9999", "9999", "10000"},
		{"99999999.99995", 4, "100000000.0000", "100000000.0000", "99999999.9999", "99999999.9999", "100000000.0000"},
		{"0.00005", 4, "0.0000", "0.0001", "0.0000", "0.0000", "0.0001"},
		{"0.00015", 4, "0.0002", "0.0002", "0.0001", "0.0001", "0.0002"},
		{"5.55", -5, "0", "0", "0", "0", "100000"},
		{"0.0000", 2, "0.00", "0.00", "0.00", "0.00", "0.00"},
		{"-0.001", 2, "0.00", "0.00", "0.00", "-0.01", "0.00"},
		{"12345.6789", 2, "12345.68", "12345.68", "12345.67", "12345.67", "12345.68"},
		{"0.0000000000000000000000000005", 27, "0.000000000000000000000000000", "0.000000000000000000000000001",
		"0.000000000000000000000000000", "0.000000000000000000000000000", "0.000000000000000000000000001"},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		CHECK_STR(rnd(cases[i].a, cases[i].scale, DEC_ROUND_HALF_EVEN), cases[i].even, "even %s, %d", cases[i].a, cases[i].scale);
		CHECK_STR(rnd(cases[i].a, cases[i].scale, DEC_ROUND_HALF_AWAY), cases[i].away, "away %s, %d", cases[i].a, cases[i].scale);
		CHECK_STR(rnd(cases[i].a, cases[i].scale, DEC_ROUND_DOWN), cases[i].down, "down %s, %d", cases[i].a, cases[i].scale);
		CHECK_STR(rnd(cases[i].a, cases[i].scale, DEC_ROUND_FLOOR), cases[i].floor, "floor %s, %d", cases[i].a, cases[i].scale);
		CHECK_STR(rnd(cases[i].a, cases[i].scale, DEC_ROUND_CEIL), cases[i].ceil, "ceil %s, %d", cases[i].a, cases[i].scale);
	}

	CHECK_STR(unop(dec_floor, "-0.5"), "-1", "floor(-0.5)");
	CHECK_STR(unop(dec_ceil, "-0.5"), "0", "ceil(-0.5) is a positive zero");
	CHECK_STR(unop(dec_floor, "7.000"), "7", "floor drops the scale");
	CHECK_STR(unop(dec_ceil, "7.001"), "8", "ceil");
	{
		Decimal		a = DEC_INIT,
					r = DEC_INIT;
		DecError	err;

		CHECK(parse(&a, "-1.55") && dec_trunc(&r, &a, 1, &err) == DEC_OK && strcmp(txt(&r), "-1.5") == 0,
			  "trunc(-1.55, 1)");
		CHECK(dec_round(&r, &a, 99, (DecRound) -1, &err) == DEC_ERR_INVALID, "bad mode");
		dec_free(&a);
		dec_free(&r);
	}

	/* scales clamp as numeric's round() does; rounding up can overflow */
	CHECK(strlen(rnd("1.5", 100000, DEC_ROUND_HALF_AWAY)) == 16385, "scale clamps to 16383");
	CHECK_STR(rnd("1.5", -2147483647, DEC_ROUND_HALF_AWAY), "0", "very negative scale");
	CHECK_STR(rnd("1.5", INT32_MIN, DEC_ROUND_HALF_EVEN), "0", "INT_MIN scale");
	CHECK_STR(rnd("5e131071", -131072, DEC_ROUND_HALF_AWAY), "ERROR: value overflows numeric format",
			  "round up past the limit");
	CHECK_STR(rnd("5e131071", -131073, DEC_ROUND_HALF_AWAY), "0", "round to zero at the limit");
	CHECK_STR(rnd("5e131071", -131072, DEC_ROUND_HALF_EVEN), "0", "even rounds the tie to zero");
	CHECK(strlen(rnd("1e131071", -131071, DEC_ROUND_HALF_AWAY)) == 131072, "round at the top digit");
	CHECK_STR(rnd("9e131071", -131072, DEC_ROUND_DOWN), "0", "trunc above the value");
}

static void
test_sign_cmp(void)
{
	CHECK(cmp_text("1.0", "1.00") == 0, "scale does not matter");
	CHECK(cmp_text("-0", "0.000") == 0, "zeros are equal");
	CHECK(cmp_text("-1", "1") == -1, "-1 < 1");
	CHECK(cmp_text("0", "-0.0001") == 1, "0 > -0.0001");
	CHECK(cmp_text("-2", "-10") == 1, "-2 > -10");
	CHECK(cmp_text("9999.9999", "10000") == -1, "across a digit boundary");
	CHECK(cmp_text("1.00000001", "1.0000001") == -1, "trailing digits");
	CHECK(cmp_text("100000000", "99999999.99999999") == 1, "weights");
	CHECK_STR(unop(dec_abs, "-12.50"), "12.50", "abs");
	CHECK_STR(unop(dec_abs, "0.00"), "0.00", "abs zero");
	CHECK_STR(unop(dec_negate, "12.50"), "-12.50", "negate");
	CHECK_STR(unop(dec_negate, "-12.50"), "12.50", "negate back");
	CHECK_STR(unop(dec_negate, "0.0"), "0.0", "negated zero stays positive");
	CHECK_STR(binop(dec_min, "1.0", "1.00"), "1.0", "LEAST keeps the first on a tie");
	CHECK_STR(binop(dec_max, "1.00", "1.0"), "1.00", "GREATEST keeps the first on a tie");
	CHECK_STR(binop(dec_min, "2", "-3.5"), "-3.5", "min");
	CHECK_STR(binop(dec_max, "2", "-3.5"), "2", "max");
	{
		Decimal		d = DEC_INIT;

		CHECK(parse(&d, "-0.01") && dec_sign(&d) == -1 && !dec_is_zero(&d), "sign -");
		CHECK(parse(&d, "0.00") && dec_sign(&d) == 0 && dec_is_zero(&d), "sign 0");
		CHECK(parse(&d, "3") && dec_sign(&d) == 1, "sign +");
		dec_free(&d);
	}
}

static void
test_numbers(void)
{
	static const struct
	{
		double		value;
		const char *text;
	}			doubles[] = {
		{0.1, "0.1"},
		{1.5, "1.5"},
		{-2.25, "-2.25"},
		{1e-7, "0.0000001"},
		{123456789.125, "123456789.125"},
		{1.0 / 3.0, "0.3333333333333333"},
		{2.0 / 3.0, "0.6666666666666666"},
		{0.1 + 0.2, "0.30000000000000004"},
		{1e21, "1000000000000000000000"},
		{-0.0, "0"},
		{0.0, "0"},
		{100.0, "100"},
	};
	Decimal		d = DEC_INIT;
	DecError	err;
	double		x;
	int64_t		v;
	size_t		i;

	for (i = 0; i < sizeof(doubles) / sizeof(doubles[0]); i++)
	{
		CHECK(dec_from_double(&d, doubles[i].value, &err) == DEC_OK, "from double %g", doubles[i].value);
		CHECK_STR(txt(&d), doubles[i].text, "from double %.17g", doubles[i].value);
		CHECK(dec_to_double(&d, &x, &err) == DEC_OK && x == doubles[i].value, "double round trip %s", doubles[i].text);
	}
	CHECK(dec_from_double(&d, 5e-324, &err) == DEC_OK && d.dscale == 324 &&
		  strcmp(txt(&d) + 320, "000005") == 0, "smallest denormal");
	CHECK(dec_from_double(&d, DBL_MAX, &err) == DEC_OK && strlen(txt(&d)) == 309 &&
		  strncmp(txt(&d), "17976931348623157", 17) == 0, "DBL_MAX");
	CHECK(dec_to_double(&d, &x, &err) == DEC_OK && x == DBL_MAX, "DBL_MAX back");
	CHECK(dec_from_double(&d, NAN, &err) == DEC_ERR_INVALID, "NaN refused");
	CHECK(dec_from_double(&d, -INFINITY, &err) == DEC_ERR_INVALID, "infinity refused");

	CHECK(parse(&d, "1e309") && dec_to_double(&d, &x, &err) == DEC_ERR_OVERFLOW, "too large for a double");
	CHECK(parse(&d, "-1e-400") && dec_to_double(&d, &x, &err) == DEC_ERR_OVERFLOW, "too small for a double");
	CHECK(parse(&d, "1e-320") && dec_to_double(&d, &x, &err) == DEC_OK && x == 1e-320, "denormal result");
	CHECK(parse(&d, "0.000") && dec_to_double(&d, &x, &err) == DEC_OK && x == 0.0, "zero");
	CHECK(parse(&d, "123456789012345678901234567890") && dec_to_double(&d, &x, &err) == DEC_OK &&
		  x == 1.2345678901234568e+29, "nearest double");

	CHECK(dec_from_int64(&d, INT64_MIN, &err) == DEC_OK && strcmp(txt(&d), "-9223372036854775808") == 0, "INT64_MIN");
	CHECK(dec_to_int64(&d, &v, &err) == DEC_OK && v == INT64_MIN, "INT64_MIN back");
	CHECK(dec_from_int64(&d, INT64_MAX, &err) == DEC_OK && strcmp(txt(&d), "9223372036854775807") == 0, "INT64_MAX");
	CHECK(dec_to_int64(&d, &v, &err) == DEC_OK && v == INT64_MAX, "INT64_MAX back");
	CHECK(dec_from_int64(&d, 0, &err) == DEC_OK && strcmp(txt(&d), "0") == 0 && normalized(&d), "int 0");
	CHECK(dec_from_int64(&d, -10000, &err) == DEC_OK && strcmp(txt(&d), "-10000") == 0 && normalized(&d), "int -10000");
	CHECK(parse(&d, "2.5") && dec_to_int64(&d, &v, &err) == DEC_OK && v == 3, "bigint rounds half away");
	CHECK(parse(&d, "-2.5") && dec_to_int64(&d, &v, &err) == DEC_OK && v == -3, "bigint rounds half away below zero");
	CHECK(parse(&d, "9223372036854775807.5") && dec_to_int64(&d, &v, &err) == DEC_ERR_OVERFLOW, "bigint overflow");
	CHECK(parse(&d, "1e30") && dec_to_int64(&d, &v, &err) == DEC_ERR_OVERFLOW, "bigint overflow, large");
	dec_free(&d);
}

static void
test_wire(void)
{
	static const struct
	{
		const char *text;
		const char *hex;
	}			cases[] = {
		/* from PostgreSQL's numeric_send */
		{"-12.3400", "0002000040000004000c0d48"},
		{"0.00", "0000000000000002"},
		{"100000000", "00010002000000000001"},
		{"0.00012", "0002ffff00000005000107d0"},
	};
	Decimal		d = DEC_INIT;
	DecError	err;
	uint8_t		buf[64];
	size_t		i,
				j;
	int16_t		digits[3] = {12, 3400, 5};

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		hex[129];

		CHECK(parse(&d, cases[i].text), "parse %s", cases[i].text);
		dec_send(&d, buf);
		for (j = 0; j < dec_send_size(&d); j++)
			snprintf(hex + 2 * j, 3, "%02x", buf[j]);
		CHECK_STR(hex, cases[i].hex, "numeric_send of %s", cases[i].text);
		CHECK(dec_recv(&d, buf, dec_send_size(&d), &err) == DEC_OK, "recv %s", cases[i].text);
		CHECK_STR(txt(&d), cases[i].text, "recv %s", cases[i].text);
	}

	/* the fields are the wire fields */
	CHECK(parse(&d, "-12.3400") && d.ndigits == 2 && d.weight == 0 && d.sign == DEC_NEG &&
		  d.dscale == 4 && dec_digits(&d)[0] == 12 && dec_digits(&d)[1] == 3400, "layout of -12.3400");

	/* what numeric_recv checks */
	CHECK(dec_from_wire(&d, 3, 0, DEC_POS, 2, digits, &err) == DEC_OK && strcmp(txt(&d), "12.34") == 0,
		  "hidden digits are dropped");
	CHECK(dec_from_wire(&d, 2, 0, 0xC000, 4, digits, &err) == DEC_ERR_INVALID, "NaN refused");
	CHECK(dec_from_wire(&d, 2, 0, 0xD000, 4, digits, &err) == DEC_ERR_INVALID, "infinity refused");
	CHECK(dec_from_wire(&d, 2, 0, 0x1234, 4, digits, &err) == DEC_ERR_INVALID, "bad sign");
	CHECK(dec_from_wire(&d, 2, 0, DEC_POS, 0x4000, digits, &err) == DEC_ERR_INVALID, "bad scale");
	digits[1] = 10000;
	CHECK(dec_from_wire(&d, 2, 0, DEC_POS, 4, digits, &err) == DEC_ERR_INVALID, "bad digit");
	digits[1] = -1;
	CHECK(dec_from_wire(&d, 2, 0, DEC_POS, 4, digits, &err) == DEC_ERR_INVALID, "negative digit");
	digits[0] = 0;
	digits[1] = 7;
	CHECK(dec_from_wire(&d, 2, 0, DEC_NEG, 0, digits, &err) == DEC_OK && strcmp(txt(&d), "0") == 0 &&
		  normalized(&d), "unnormalized input is normalized");
	CHECK(dec_from_wire(&d, 2, 1, DEC_NEG, 0, digits, &err) == DEC_OK && strcmp(txt(&d), "-7") == 0 &&
		  normalized(&d), "leading zero digit stripped");
	CHECK(dec_recv(&d, buf, 7, &err) == DEC_ERR_INVALID, "short message");
	buf[0] = 0;
	buf[1] = 5;
	CHECK(dec_recv(&d, buf, 12, &err) == DEC_ERR_INVALID, "length mismatch");
	dec_free(&d);
}

/* ---------- memory ---------- */

static long alloc_count;
static long alloc_fail_at = -1;

static void *
counting_alloc(size_t size)
{
	if (alloc_fail_at >= 0 && alloc_count++ >= alloc_fail_at)
		return NULL;
	if (alloc_fail_at < 0)
		alloc_count++;
	return malloc(size);
}

static void *
counting_realloc(void *ptr, size_t size)
{
	if (alloc_fail_at >= 0 && alloc_count++ >= alloc_fail_at)
		return NULL;
	if (alloc_fail_at < 0)
		alloc_count++;
	return realloc(ptr, size);
}

static const DegAllocator counting = {counting_alloc, counting_realloc, free};

static void
test_memory(void)
{
	Decimal		a = DEC_INIT,
				b = DEC_INIT,
				r = DEC_INIT,
				moved;
	DecError	err;
	DecStatus	st;
	long		k;
	bool		nomem_seen = false;
	bool		ok_seen = false;

	/* the common path allocates nothing */
	deg_set_allocator(&counting);
	alloc_count = 0;
	dec_from_text(&a, "12345.6789", 10, &err);
	dec_from_text(&b, "-987.65", 7, &err);
	dec_add(&r, &a, &b, &err);
	dec_sub(&r, &a, &b, &err);
	dec_mul(&r, &a, &b, &err);
	dec_div(&r, &a, &b, &err);
	dec_mod(&r, &a, &b, &err);
	dec_div_round(&r, &a, &b, 2, DEC_ROUND_HALF_EVEN, &err);
	dec_round(&r, &r, 1, DEC_ROUND_HALF_EVEN, &err);
	dec_cmp(&a, &b);
	CHECK(alloc_count == 0, "no allocation for short values (%ld)", alloc_count);
	CHECK(r.heap == NULL, "short values are inline");

	/* results may be operands; long values go to the heap and back */
	CHECK(parse(&a, "2") && dec_mul(&a, &a, &a, &err) == DEC_OK && strcmp(txt(&a), "4") == 0, "a = a * a");
	CHECK(parse(&a, repeat('9', 100)) && a.heap != NULL, "100 digits are on the heap");
	CHECK(dec_add(&a, &a, &a, &err) == DEC_OK && strcmp(txt(&a), concat3("1", repeat('9', 99), "8")) == 0,
		  "a = a + a on the heap");
	CHECK(dec_div(&a, &a, &a, &err) == DEC_OK && strcmp(txt(&a), "1.00000000000000000000") == 0, "a = a / a");
	CHECK(dec_copy(&b, &a, &err) == DEC_OK && dec_cmp(&a, &b) == 0, "copy");
	CHECK(dec_copy(&b, &b, &err) == DEC_OK && dec_cmp(&a, &b) == 0, "self copy");

	/* a Decimal may be moved with memcpy */
	memcpy(&moved, &a, sizeof(Decimal));
	CHECK_STR(txt(&moved), "1.00000000000000000000", "moved value");
	dec_init(&a);

	/* every allocation failure is reported, never a crash or a leak */
	for (k = 0; k < 200 && !ok_seen; k++)
	{
		Decimal		x = DEC_INIT,
					y = DEC_INIT,
					z = DEC_INIT;

		alloc_fail_at = k;
		alloc_count = 0;
		st = dec_from_text(&x, repeat('7', 300), 300, &err);
		if (st == DEC_OK)
			st = dec_from_text(&y, concat3("0.", repeat('3', 200), ""), 202, &err);
		if (st == DEC_OK)
			st = dec_mul(&z, &x, &y, &err);
		if (st == DEC_OK)
			st = dec_div(&z, &z, &y, &err);
		if (st == DEC_OK)
			st = dec_mod(&z, &x, &y, &err);
		if (st == DEC_OK)
			st = dec_round(&z, &z, 5, DEC_ROUND_HALF_EVEN, &err);
		CHECK(st == DEC_OK || (st == DEC_ERR_NOMEM && err.status == DEC_ERR_NOMEM &&
							   strcmp(err.message, "out of memory") == 0),
			  "allocation failure %ld reported", k);
		nomem_seen |= st == DEC_ERR_NOMEM;
		ok_seen |= st == DEC_OK;
		dec_free(&x);
		dec_free(&y);
		dec_free(&z);
	}
	alloc_fail_at = -1;
	deg_set_allocator(NULL);
	CHECK(nomem_seen && ok_seen, "failures injected and eventually passed");

	dec_free(&moved);
	dec_free(&b);
	dec_free(&r);
}

/* ---------- differential vectors from PostgreSQL ---------- */

static size_t
unescape(char *s)
{
	char	   *o = s;
	char	   *p = s;

	while (*p)
	{
		if (*p == '\\' && p[1] != '\0')
		{
			p++;
			switch (*p)
			{
				case 't': *o++ = '\t'; break;
				case 'n': *o++ = '\n'; break;
				case 'r': *o++ = '\r'; break;
				case 'b': *o++ = '\b'; break;
				case 'f': *o++ = '\f'; break;
				case 'v': *o++ = '\v'; break;
				default: *o++ = *p; break;
			}
			p++;
		}
		else
			*o++ = *p++;
	}
	*o = '\0';
	return (size_t) (o - s);
}

/* an expected "ERROR:<SQLSTATE>" as a status */
static DecStatus
expected_status(const char *expected)
{
	if (strcmp(expected, "ERROR:22P02") == 0)
		return DEC_ERR_SYNTAX;
	if (strcmp(expected, "ERROR:22003") == 0)
		return DEC_ERR_OVERFLOW;
	if (strcmp(expected, "ERROR:22012") == 0)
		return DEC_ERR_DIVISION_BY_ZERO;
	if (strcmp(expected, "NaN") == 0 || strcmp(expected, "Infinity") == 0 ||
		strcmp(expected, "-Infinity") == 0)
		return DEC_ERR_INVALID;
	return DEC_OK;
}

static DecRound
mode_named(const char *name)
{
	if (strcmp(name, "even") == 0)
		return DEC_ROUND_HALF_EVEN;
	if (strcmp(name, "away") == 0)
		return DEC_ROUND_HALF_AWAY;
	if (strcmp(name, "down") == 0)
		return DEC_ROUND_DOWN;
	if (strcmp(name, "floor") == 0)
		return DEC_ROUND_FLOOR;
	return DEC_ROUND_CEIL;
}

/* check one vector line: fields[0] the op, fields[n-1] the expected result */
static void
check_vector(int lineno, char **f, int n)
{
	const char *op = f[0];
	const char *want = f[n - 1];
	DecStatus	want_status = expected_status(want);
	Decimal		a = DEC_INIT,
				b = DEC_INIT,
				r = DEC_INIT;
	DecError	err;
	DecStatus	st = DEC_OK;
	bool		text_result = true;

	if (strcmp(op, "in") == 0)
	{
		st = dec_from_text(&r, f[1], strlen(f[1]), &err);
		if (st == DEC_OK)
		{
			/* and the printed text reads back as itself */
			Decimal		back = DEC_INIT;

			CHECK(dec_from_text(&back, txt(&r), strlen(txt(&r)), &err) == DEC_OK &&
				  dec_cmp(&back, &r) == 0 && back.dscale == r.dscale,
				  "line %d: text round trip", lineno);
			dec_free(&back);
		}
	}
	else if (!parse(&a, f[1]) || (n > 3 && strcmp(op, "roundeven") != 0 &&
								   strcmp(op, "round") != 0 && strcmp(op, "trunc") != 0 &&
								   !parse(&b, f[2])))
	{
		CHECK(false, "line %d: operands parse", lineno);
		goto done;
	}
	else if (strcmp(op, "add") == 0)
		st = dec_add(&r, &a, &b, &err);
	else if (strcmp(op, "sub") == 0)
		st = dec_sub(&r, &a, &b, &err);
	else if (strcmp(op, "mul") == 0)
		st = dec_mul(&r, &a, &b, &err);
	else if (strcmp(op, "div") == 0)
		st = dec_div(&r, &a, &b, &err);
	else if (strcmp(op, "mod") == 0)
		st = dec_mod(&r, &a, &b, &err);
	else if (strcmp(op, "divint") == 0)
		st = dec_div_trunc(&r, &a, &b, &err);
	else if (strcmp(op, "round") == 0)
		st = dec_round(&r, &a, atoi(f[2]), DEC_ROUND_HALF_AWAY, &err);
	else if (strcmp(op, "roundeven") == 0)
		st = dec_round(&r, &a, atoi(f[2]), DEC_ROUND_HALF_EVEN, &err);
	else if (strcmp(op, "trunc") == 0)
		st = dec_trunc(&r, &a, atoi(f[2]), &err);
	else if (strcmp(op, "floor") == 0)
		st = dec_floor(&r, &a, &err);
	else if (strcmp(op, "ceil") == 0)
		st = dec_ceil(&r, &a, &err);
	else if (strcmp(op, "abs") == 0)
		st = dec_abs(&r, &a, &err);
	else if (strcmp(op, "divround") == 0)
		st = dec_div_round(&r, &a, &b, atoi(f[3]), mode_named(f[4]), &err);
	else if (strcmp(op, "cmp") == 0)
	{
		int			c = atoi(want);

		text_result = false;
		CHECK(dec_cmp(&a, &b) == c && dec_cmp(&b, &a) == -c, "line %d: cmp %s %s", lineno, f[1], f[2]);
	}
	else if (strcmp(op, "float") == 0)
	{
		double		x = 0;

		text_result = false;
		st = dec_to_double(&a, &x, &err);
		if (want_status != DEC_OK)
			CHECK(st == want_status, "line %d: float %s fails", lineno, f[1]);
		else
			CHECK(st == DEC_OK && x == strtod(want, NULL), "line %d: float %s = %s", lineno, f[1], want);
	}
	else if (strcmp(op, "int8") == 0)
	{
		int64_t		v = 0;

		text_result = false;
		st = dec_to_int64(&a, &v, &err);
		if (want_status != DEC_OK)
			CHECK(st == want_status, "line %d: int8 %s fails", lineno, f[1]);
		else
			CHECK(st == DEC_OK && v == strtoll(want, NULL, 10), "line %d: int8 %s = %s", lineno, f[1], want);
	}
	else if (strcmp(op, "send") == 0)
	{
		size_t		size = dec_send_size(&a);
		uint8_t    *bytes = malloc(size);
		char	   *hex = malloc(2 * size + 1);
		size_t		j;

		text_result = false;
		dec_send(&a, bytes);
		for (j = 0; j < size; j++)
			snprintf(hex + 2 * j, 3, "%02x", bytes[j]);
		CHECK_STR(hex, want, "line %d: send %s", lineno, f[1]);
		CHECK(dec_recv(&r, bytes, size, &err) == DEC_OK && dec_cmp(&r, &a) == 0 &&
			  r.dscale == a.dscale, "line %d: recv %s", lineno, f[1]);
		free(bytes);
		free(hex);
	}
	else
	{
		CHECK(false, "line %d: unknown op %s", lineno, op);
		goto done;
	}

	if (text_result)
	{
		if (want_status != DEC_OK)
			CHECK(st == want_status, "line %d: %s %s ... fails with %s (got %d)", lineno, op, f[1], want, (int) st);
		else if (st != DEC_OK)
			CHECK(false, "line %d: %s %s ... = %s, got error %s", lineno, op, f[1], want, err.message);
		else
		{
			CHECK(normalized(&r), "line %d: normalized", lineno);
			CHECK_STR(txt(&r), want, "line %d: %s %s%s%s", lineno, op, f[1], n > 3 ? " " : "", n > 3 ? f[2] : "");
		}
	}
done:
	dec_free(&a);
	dec_free(&b);
	dec_free(&r);
}

static void
test_vectors(void)
{
	FILE	   *fp = fopen(VECTORS, "r");
	char	   *line = NULL;
	size_t		cap = 0;
	int			lineno = 0;
	int			cases = 0;
	int			before = unit_failed;

	CHECK(fp != NULL, "open %s (run from the repository root)", VECTORS);
	if (fp == NULL)
		return;
	for (;;)
	{
		char	   *fields[8];
		int			n = 0;
		char	   *p;
		size_t		len;
		int			c;

		/* lines can be long: read them whole */
		len = 0;
		while ((c = fgetc(fp)) != EOF && c != '\n')
		{
			if (len + 2 > cap)
			{
				cap = cap ? cap * 2 : 4096;
				line = realloc(line, cap);
			}
			line[len++] = (char) c;
		}
		if (c == EOF && len == 0)
			break;
		lineno++;
		if (len == 0)
			continue;
		line[len] = '\0';
		if (line[0] == '#')
			continue;
		p = line;
		fields[n++] = p;
		while ((p = strchr(p, '\t')) != NULL && n < 8)
		{
			*p++ = '\0';
			fields[n++] = p;
		}
		for (c = 0; c < n; c++)
			unescape(fields[c]);
		if (n < 3)
		{
			CHECK(false, "line %d: too few fields", lineno);
			continue;
		}
		check_vector(lineno, fields, n);
		cases++;
	}
	free(line);
	fclose(fp);
	CHECK(cases >= 20000, "at least 20000 differential cases (%d)", cases);
	printf("# %d differential cases from %s, %d failed checks\n", cases, VECTORS, unit_failed - before);
}

/* ---------- properties ---------- */

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* a random value of varied magnitude, scale and sign, as text */
static void
random_value(Decimal *d)
{
	char		text[1200];
	size_t		n = 0;
	int			ip,
				fp,
				i;
	DecError	err;

	switch (rng() % 4)
	{
		case 0:
			ip = (int) (rng() % 8);
			fp = (int) (rng() % 5);
			break;
		case 1:
			ip = (int) (rng() % 25);
			fp = (int) (rng() % 25);
			break;
		case 2:
			ip = 0;
			fp = (int) (rng() % 40);
			break;
		default:
			ip = (int) (rng() % 500);
			fp = (int) (rng() % 300);
			break;
	}
	if (rng() % 2)
		text[n++] = '-';
	text[n++] = '0';
	for (i = 0; i < ip; i++)
		text[n++] = (char) ('0' + (rng() % 3 == 0 ? 9 : rng() % 10));
	if (fp > 0)
	{
		text[n++] = '.';
		for (i = 0; i < fp; i++)
			text[n++] = (char) ('0' + (rng() % 3 == 0 ? 0 : rng() % 10));
	}
	text[n] = '\0';
	if (dec_from_text(d, text, n, &err) != DEC_OK)
		CHECK(false, "random value %s: %s", text, err.message);
}

static bool
same(const Decimal *a, const Decimal *b)
{
	return a->ndigits == b->ndigits && a->weight == b->weight && a->sign == b->sign &&
		a->dscale == b->dscale &&
		memcmp(dec_digits(a), dec_digits(b), (size_t) a->ndigits * sizeof(int16_t)) == 0;
}

static void
test_properties(void)
{
	Decimal		a = DEC_INIT,
				b = DEC_INIT,
				c = DEC_INIT,
				s = DEC_INIT,
				t = DEC_INIT,
				u = DEC_INIT;
	DecError	err;
	int			i;
	int			failed_before = unit_failed;

	for (i = 0; i < 3000; i++)
	{
		int			scale = (int) (rng() % 12) - 2;
		DecRound	mode = (DecRound) (rng() % 5);
		int			cab,
					cbc,
					cac;

		random_value(&a);
		random_value(&b);
		random_value(&c);

		/* (a + b) - b == a, a - b == -(b - a), commutativity */
		CHECK(dec_add(&s, &a, &b, &err) == DEC_OK && dec_sub(&t, &s, &b, &err) == DEC_OK &&
			  dec_cmp(&t, &a) == 0, "(a+b)-b == a: %s, %s", txt(&a), txt(&b));
		CHECK(dec_sub(&s, &a, &b, &err) == DEC_OK && dec_sub(&t, &b, &a, &err) == DEC_OK &&
			  dec_negate(&t, &t, &err) == DEC_OK && same(&s, &t), "a-b == -(b-a)");
		CHECK(dec_add(&s, &a, &b, &err) == DEC_OK && dec_add(&t, &b, &a, &err) == DEC_OK && same(&s, &t), "a+b == b+a");
		CHECK(dec_mul(&s, &a, &b, &err) == DEC_OK && dec_mul(&t, &b, &a, &err) == DEC_OK && same(&s, &t), "a*b == b*a");

		/* (a * b) / b == a, exactly, whenever b is not zero */
		if (!dec_is_zero(&b))
		{
			CHECK(dec_mul(&s, &a, &b, &err) == DEC_OK && dec_div(&t, &s, &b, &err) == DEC_OK &&
				  dec_cmp(&t, &a) == 0, "(a*b)/b == a: %s, %s", txt(&a), txt(&b));
			CHECK(dec_div_round(&t, &s, &b, a.dscale, DEC_ROUND_HALF_EVEN, &err) == DEC_OK && same(&t, &a),
				  "(a*b)/b at a's scale is a itself");

			/* a == div(a, b) * b + mod(a, b), and |mod| < |b| */
			CHECK(dec_div_trunc(&s, &a, &b, &err) == DEC_OK && dec_mul(&s, &s, &b, &err) == DEC_OK &&
				  dec_mod(&t, &a, &b, &err) == DEC_OK && dec_add(&u, &s, &t, &err) == DEC_OK &&
				  dec_cmp(&u, &a) == 0, "div * b + mod == a: %s, %s", txt(&a), txt(&b));
			CHECK(dec_abs(&t, &t, &err) == DEC_OK && dec_abs(&u, &b, &err) == DEC_OK && dec_cmp(&t, &u) < 0,
				  "|mod| < |b|");

			/* q = a / b at a scale, in a mode: the remainder is within one unit, on the right side */
			if (dec_div_round(&s, &a, &b, scale, mode, &err) == DEC_OK)
			{
				Decimal		unit = DEC_INIT,
							half = DEC_INIT,
							rem = DEC_INIT,
							one = DEC_INIT;
				char		unit_text[32];
				int			rs;

				/* rem = (a - q*b) / |b|, in units of 10^-scale: |rem| < 1 (or <= 1/2) */
				snprintf(unit_text, sizeof(unit_text), "1e%d", -scale);
				parse(&unit, unit_text);
				parse(&one, "1");
				dec_mul(&t, &s, &b, &err);
				dec_sub(&t, &a, &t, &err);
				dec_abs(&u, &b, &err);
				dec_mul(&u, &u, &unit, &err);
				dec_div_round(&rem, &t, &u, 40, DEC_ROUND_DOWN, &err);
				rs = dec_sign(&rem) * (b.sign == DEC_NEG && !dec_is_zero(&b) ? -1 : 1);
				dec_abs(&rem, &rem, &err);
				parse(&half, "0.5");
				if (mode == DEC_ROUND_HALF_EVEN || mode == DEC_ROUND_HALF_AWAY)
					CHECK(dec_cmp(&rem, &half) <= 0, "half modes leave at most half a unit");
				else
					CHECK(dec_cmp(&rem, &one) < 0, "directed modes leave less than a unit");
				if (mode == DEC_ROUND_FLOOR)
					CHECK(rs >= 0, "floor: a/b >= q");
				if (mode == DEC_ROUND_CEIL)
					CHECK(rs <= 0, "ceil: a/b <= q");
				dec_free(&unit);
				dec_free(&half);
				dec_free(&rem);
				dec_free(&one);
			}
		}

		/* compare: consistent with sub, antisymmetric, transitive */
		cab = dec_cmp(&a, &b);
		cbc = dec_cmp(&b, &c);
		cac = dec_cmp(&a, &c);
		CHECK(dec_sub(&s, &a, &b, &err) == DEC_OK && dec_sign(&s) == cab, "cmp agrees with sub");
		CHECK(dec_cmp(&b, &a) == -cab, "antisymmetric");
		CHECK(!(cab <= 0 && cbc <= 0) || cac <= 0, "transitive");
		CHECK(dec_cmp(&a, &a) == 0, "reflexive");

		/* text and wire round trips give the very same value */
		{
			size_t		size = dec_send_size(&a);
			uint8_t    *bytes = malloc(size);

			CHECK(dec_from_text(&s, txt(&a), strlen(txt(&a)), &err) == DEC_OK && same(&s, &a), "text round trip");
			dec_send(&a, bytes);
			CHECK(dec_recv(&t, bytes, size, &err) == DEC_OK && same(&t, &a), "wire round trip");
			free(bytes);
		}

		/* rounding: never moves more than a unit, and agrees with division by 1 */
		parse(&u, "1");
		CHECK(dec_round(&s, &a, scale, mode, &err) == DEC_OK &&
			  dec_div_round(&t, &a, &u, scale, mode, &err) == DEC_OK && same(&s, &t),
			  "round(a) == a / 1 rounded: %s, %d, %d", txt(&a), scale, (int) mode);
		CHECK(normalized(&s), "round normalized");
	}
	printf("# properties: 3000 random triples, %d failed checks\n", unit_failed - failed_before);
	dec_free(&a);
	dec_free(&b);
	dec_free(&c);
	dec_free(&s);
	dec_free(&t);
	dec_free(&u);
}

/* arbitrary bytes never crash the parser, and what it accepts prints back */
static void
test_garbage(void)
{
	static const char alphabet[] = "0123456789.-+eE \t\nNaIiy9x";
	Decimal		d = DEC_INIT,
				back = DEC_INIT;
	DecError	err;
	char		text[64];
	int			i;
	int			bad = 0;

	for (i = 0; i < 20000; i++)
	{
		size_t		n = rng() % sizeof(text);
		size_t		j;

		for (j = 0; j < n; j++)
			text[j] = (rng() % 8 == 0) ? (char) (rng() % 256) : alphabet[rng() % (sizeof(alphabet) - 1)];
		if (dec_from_text(&d, text, n, &err) == DEC_OK)
		{
			if (!normalized(&d) || dec_from_text(&back, txt(&d), strlen(txt(&d)), &err) != DEC_OK ||
				!same(&d, &back))
				bad++;
		}
		else if (err.status == DEC_ERR_SYNTAX && (err.position < 1 || err.position > n + 1))
			bad++;
	}
	CHECK(bad == 0, "garbage input handled (%d bad)", bad);
	dec_free(&d);
	dec_free(&back);
}

int
main(void)
{
	int			i;

	test_text();
	test_add_sub();
	test_mul();
	test_div();
	test_round();
	test_sign_cmp();
	test_numbers();
	test_wire();
	test_memory();
	test_vectors();
	test_properties();
	test_garbage();
	for (i = 0; i < 8; i++)
		free(ring[i]);
	return unit_done("decimal");
}
