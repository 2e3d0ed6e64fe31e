/*
 * fuzz_decimal.c: exact decimals (src/core/decimal.c), text and wire forms
 * and arithmetic.
 *
 * The whole input is read as numeric text and as numeric's binary wire
 * form; split at the first NUL it is two numbers for arithmetic.  Checked:
 * a value's text reads back to the same value and scale and prints the
 * same; its wire form reads back to the same value and bytes; a wire input
 * is normalized (no leading or trailing zero digits, nothing beyond
 * dscale); and arithmetic identities that are exact on numeric hold
 * (a + b - b = a, a * b = b * a, trunc(a / b) * b + a mod b = a, rounding
 * agrees with dec_div_round, comparisons agree with subtraction).  Each
 * operation again with an interrupt hook (mem.h) that says stop, asked
 * after a number of units of work taken from the input: it gives the same
 * result, or DEC_ERR_INTERRUPTED with its result argument unchanged.
 */
#include "core/decimal.h"
#include "fuzz.h"

/* keep arithmetic on inputs this long or shorter (a multiplication of two
 * 4000-digit numbers is fine; division at full scale is slower) */
#define MAX_ARITH_TEXT 600

static char *
text_of(const Decimal *d)
{
	char	   *s = malloc(dec_text_size(d));

	FUZZ_ASSERT(s != NULL, "malloc");
	dec_format(d, s);
	FUZZ_ASSERT(strlen(s) + 1 == dec_text_size(d), "dec_text_size");
	return s;
}

static void
check_normalized(const Decimal *d)
{
	const int16_t *dig = dec_digits(d);
	int			i;

	FUZZ_ASSERT(d->ndigits >= 0 && d->dscale >= 0 && d->dscale <= DEC_MAX_DSCALE, "header");
	FUZZ_ASSERT(d->sign == DEC_POS || d->sign == DEC_NEG, "sign");
	if (d->ndigits == 0)
	{
		FUZZ_ASSERT(d->weight == 0 && d->sign == DEC_POS, "zero is not normalized");
		return;
	}
	FUZZ_ASSERT(dig[0] != 0 && dig[d->ndigits - 1] != 0, "leading or trailing zero digit");
	for (i = 0; i < d->ndigits; i++)
		FUZZ_ASSERT(dig[i] >= 0 && dig[i] < DEC_NBASE, "digit %d", dig[i]);
	FUZZ_ASSERT(d->weight <= DEC_MAX_WEIGHT, "weight");
	/* no nonzero digit beyond dscale */
	FUZZ_ASSERT((d->ndigits - 1 - d->weight) * DEC_DEC_DIGITS <= d->dscale + DEC_DEC_DIGITS - 1, "digits beyond dscale");
	{
		int			last_pos = (d->ndigits - 1 - d->weight) * DEC_DEC_DIGITS;	/* decimal places covered */
		int			extra = last_pos - d->dscale;

		if (extra > 0)
		{
			int			div = 1;

			while (extra-- > 0)
				div *= 10;
			FUZZ_ASSERT(dig[d->ndigits - 1] % div == 0, "nonzero digit beyond dscale");
		}
	}
}

/* text and wire round trips of a value */
static void
check_value(const Decimal *d)
{
	char	   *s = text_of(d);
	Decimal		back = DEC_INIT;
	DecError	err;
	size_t		n = dec_send_size(d);
	uint8_t    *w = malloc(n);
	uint8_t    *w2;
	DegBuf		buf;

	check_normalized(d);
	FUZZ_ASSERT(dec_from_text(&back, s, strlen(s), &err) == DEC_OK, "own text \"%s\" refused: %s", s, err.message);
	FUZZ_ASSERT(dec_cmp(&back, d) == 0 && back.dscale == d->dscale, "text \"%s\" reads back different", s);
	degbuf_init(&buf);
	FUZZ_ASSERT(dec_to_text(d, &buf, NULL) == DEC_OK && strcmp(buf.data, s) == 0, "dec_to_text");
	degbuf_free(&buf);

	FUZZ_ASSERT(w != NULL, "malloc");
	dec_send(d, w);
	FUZZ_ASSERT(dec_recv(&back, w, n, &err) == DEC_OK, "own wire form refused: %s", err.message);
	FUZZ_ASSERT(dec_cmp(&back, d) == 0 && back.dscale == d->dscale, "wire form of %s reads back different", s);
	w2 = malloc(n);
	FUZZ_ASSERT(w2 != NULL && dec_send_size(&back) == n, "wire size");
	dec_send(&back, w2);
	FUZZ_ASSERT(memcmp(w, w2, n) == 0, "wire form not stable");
	free(w2);
	free(w);

	/* int64 and double conversions */
	{
		int64_t		i64;
		double		dbl;

		if (dec_to_int64(d, &i64, NULL) == DEC_OK)
		{
			Decimal		r = DEC_INIT;
			Decimal		diff = DEC_INIT;

			FUZZ_ASSERT(dec_from_int64(&r, i64, NULL) == DEC_OK, "from int64");
			/* numeric::bigint rounds half away from zero: within 0.5 */
			dec_sub(&diff, d, &r, NULL);
			dec_abs(&diff, &diff, NULL);
			dec_from_text(&r, "0.5", 3, NULL);
			FUZZ_ASSERT(dec_cmp(&diff, &r) <= 0, "to_int64 of %s is %lld", s, (long long) i64);
			dec_free(&r);
			dec_free(&diff);
		}
		if (dec_to_double(d, &dbl, NULL) == DEC_OK)
		{
			Decimal		r = DEC_INIT;
			double		again;

			FUZZ_ASSERT(dec_from_double(&r, dbl, &err) == DEC_OK, "from double %.17g: %s", dbl, err.message);
			FUZZ_ASSERT(dec_to_double(&r, &again, NULL) == DEC_OK && again == dbl, "double round trip of %.17g", dbl);
			dec_free(&r);
		}
	}
	dec_free(&back);
	free(s);
}

static void
check_arith(const Decimal *a, const Decimal *b)
{
	Decimal		s = DEC_INIT,
				t = DEC_INIT,
				u = DEC_INIT,
				q = DEC_INIT,
				m = DEC_INIT;
	int			c = dec_cmp(a, b);

	FUZZ_ASSERT(c == -dec_cmp(b, a), "cmp not antisymmetric");
	if (dec_sub(&s, a, b, NULL) == DEC_OK)
	{
		FUZZ_ASSERT(dec_sign(&s) == c, "cmp %d but a - b has sign %d", c, dec_sign(&s));
		check_normalized(&s);
	}
	/* a + b - b = a, exactly, with the larger scale */
	if (dec_add(&s, a, b, NULL) == DEC_OK)
	{
		check_normalized(&s);
		if (dec_sub(&t, &s, b, NULL) == DEC_OK)
		{
			FUZZ_ASSERT(dec_cmp(&t, a) == 0, "a + b - b != a");
			FUZZ_ASSERT(t.dscale == (a->dscale > b->dscale ? a->dscale : b->dscale), "scale of a + b - b");
		}
	}
	/* a * b = b * a */
	if (dec_mul(&s, a, b, NULL) == DEC_OK)
	{
		check_normalized(&s);
		FUZZ_ASSERT(dec_mul(&t, b, a, NULL) == DEC_OK && dec_cmp(&s, &t) == 0 && s.dscale == t.dscale,
					"a * b != b * a");
		/* exact product over b gives a back (when nothing was rounded) */
		if (!dec_is_zero(b) && a->dscale + b->dscale <= DEC_MAX_DSCALE &&
			dec_div_round(&u, &s, b, a->dscale, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK)
			FUZZ_ASSERT(dec_cmp(&u, a) == 0, "a * b / b != a");
	}
	if (dec_is_zero(b))
	{
		FUZZ_ASSERT(dec_div(&s, a, b, NULL) == DEC_ERR_DIVISION_BY_ZERO, "division by zero");
		FUZZ_ASSERT(dec_mod(&s, a, b, NULL) == DEC_ERR_DIVISION_BY_ZERO, "mod by zero");
	}
	else
	{
		/* trunc(a / b) * b + a mod b = a, |a mod b| < |b|, sign of a */
		if (dec_div_trunc(&q, a, b, NULL) == DEC_OK && dec_mod(&m, a, b, NULL) == DEC_OK)
		{
			check_normalized(&q);
			check_normalized(&m);
			FUZZ_ASSERT(dec_mul(&t, &q, b, NULL) == DEC_OK && dec_add(&t, &t, &m, NULL) == DEC_OK &&
						dec_cmp(&t, a) == 0, "div(a, b) * b + mod(a, b) != a");
			dec_abs(&u, &m, NULL);
			dec_abs(&t, b, NULL);
			FUZZ_ASSERT(dec_cmp(&u, &t) < 0, "|a mod b| >= |b|");
			FUZZ_ASSERT(dec_is_zero(&m) || dec_sign(&m) == dec_sign(a), "a mod b has the wrong sign");
		}
		/* "/" is dec_div_round at its scale, half away from zero */
		if (dec_div(&s, a, b, NULL) == DEC_OK)
		{
			check_normalized(&s);
			FUZZ_ASSERT(dec_div_round(&t, a, b, dec_div_result_scale(a, b), DEC_ROUND_HALF_AWAY, NULL) == DEC_OK &&
						dec_cmp(&s, &t) == 0 && s.dscale == t.dscale, "a / b disagrees with dec_div_round");
			/* floor <= a / b <= ceil at scale 0 */
			if (dec_div_round(&t, a, b, 0, DEC_ROUND_FLOOR, NULL) == DEC_OK &&
				dec_div_round(&u, a, b, 0, DEC_ROUND_CEIL, NULL) == DEC_OK)
			{
				FUZZ_ASSERT(dec_cmp(&t, &u) <= 0, "floor > ceil");
			}
		}
	}
	/* min, max, abs, negate, rounding */
	FUZZ_ASSERT(dec_min(&s, a, b, NULL) == DEC_OK && dec_max(&t, a, b, NULL) == DEC_OK &&
				dec_cmp(&s, &t) <= 0, "min > max");
	if (dec_negate(&s, a, NULL) == DEC_OK && dec_add(&s, &s, a, NULL) == DEC_OK)
		FUZZ_ASSERT(dec_is_zero(&s), "a + -a != 0");
	{
		int			scale = (int) (dec_digits(b)[0] % 40) - 20;

		if (b->ndigits == 0)
			scale = 2;
		if (dec_round(&s, a, scale, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK &&
			dec_round(&t, a, scale, DEC_ROUND_FLOOR, NULL) == DEC_OK &&
			dec_round(&u, a, scale, DEC_ROUND_CEIL, NULL) == DEC_OK)
		{
			check_normalized(&s);
			FUZZ_ASSERT(dec_cmp(&t, a) <= 0 && dec_cmp(a, &u) <= 0, "floor <= a <= ceil at scale %d", scale);
			FUZZ_ASSERT(dec_cmp(&t, &s) <= 0 && dec_cmp(&s, &u) <= 0, "rounded outside [floor, ceil]");
			FUZZ_ASSERT(s.dscale == (scale > 0 ? scale : 0), "dscale of round");
		}
		if (dec_trunc(&s, a, scale, NULL) == DEC_OK)
		{
			dec_abs(&t, &s, NULL);
			dec_abs(&u, a, NULL);
			FUZZ_ASSERT(dec_cmp(&t, &u) <= 0, "|trunc(a)| > |a|");
		}
	}
	if (dec_floor(&s, a, NULL) == DEC_OK && dec_ceil(&t, a, NULL) == DEC_OK)
		FUZZ_ASSERT(dec_cmp(&s, a) <= 0 && dec_cmp(a, &t) <= 0 && s.dscale == 0 && t.dscale == 0, "floor/ceil");
	dec_free(&s);
	dec_free(&t);
	dec_free(&u);
	dec_free(&q);
	dec_free(&m);
}

static bool
stop_hook(void)
{
	return true;
}

typedef enum
{
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD, OP_DIV_TRUNC, OP_ROUND, NOPS
} ArithOp;

static DecStatus
apply(ArithOp op, Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	switch (op)
	{
		case OP_ADD:
			return dec_add(res, a, b, err);
		case OP_SUB:
			return dec_sub(res, a, b, err);
		case OP_MUL:
			return dec_mul(res, a, b, err);
		case OP_DIV:
			return dec_div(res, a, b, err);
		case OP_MOD:
			return dec_mod(res, a, b, err);
		case OP_DIV_TRUNC:
			return dec_div_trunc(res, a, b, err);
		default:
			return dec_round(res, a, -3, DEC_ROUND_HALF_EVEN, err);
	}
}

/* every operation stopped after work_units units: the same result, or interrupted with res unchanged */
static void
check_interrupts(const Decimal *a, const Decimal *b, int32_t work_units)
{
	int			op;

	for (op = 0; op < NOPS; op++)
	{
		Decimal		want = DEC_INIT,
					got = DEC_INIT;
		DecError	err;
		DecStatus	st_want,
					st_got;

		st_want = apply((ArithOp) op, &want, a, b, NULL);
		dec_from_int64(&got, 42, NULL);
		deg_set_interrupt_check(stop_hook);
		deg_work_left = work_units;
		st_got = apply((ArithOp) op, &got, a, b, &err);
		deg_set_interrupt_check(NULL);
		if (st_got == DEC_ERR_INTERRUPTED)
			FUZZ_ASSERT(err.status == DEC_ERR_INTERRUPTED && got.ndigits == 1 && dec_digits(&got)[0] == 42 &&
						got.dscale == 0, "operation %d interrupted but its result changed", op);
		else
		{
			FUZZ_ASSERT(st_got == st_want, "operation %d: status %d with a hook, %d without", op,
						(int) st_got, (int) st_want);
			if (st_got == DEC_OK)
				FUZZ_ASSERT(dec_cmp(&got, &want) == 0 && got.dscale == want.dscale,
							"operation %d gives another value with a hook", op);
		}
		dec_free(&want);
		dec_free(&got);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Decimal		a = DEC_INIT,
				b = DEC_INIT,
				w = DEC_INIT;
	DecError	err;
	size_t		len1,
				restlen;
	const uint8_t *rest;

	memset(&err, 0, sizeof(err));
	if (dec_from_text(&a, (const char *) data, size, &err) == DEC_OK)
		check_value(&a);
	else
		FUZZ_ASSERT(err.status != DEC_OK && err.message[0] != '\0' && err.position <= size + 1,
					"text error: status %d position %zu", (int) err.status, err.position);

	if (dec_recv(&w, data, size, &err) == DEC_OK)
		check_value(&w);

	fuzz_split(data, size, &len1, &rest, &restlen);
	if (len1 < size && len1 <= MAX_ARITH_TEXT && restlen <= MAX_ARITH_TEXT &&
		dec_from_text(&a, (const char *) data, len1, NULL) == DEC_OK &&
		dec_from_text(&b, (const char *) rest, restlen, NULL) == DEC_OK)
	{
		check_value(&a);
		check_value(&b);
		check_arith(&a, &b);
		check_arith(&b, &a);
		/* stopped at once, or after some digit rows of a long operation */
		check_interrupts(&a, &b, 1 + (int32_t) (size % 8) * (int32_t) (size % 512));
	}
	dec_free(&a);
	dec_free(&b);
	dec_free(&w);
	return 0;
}
