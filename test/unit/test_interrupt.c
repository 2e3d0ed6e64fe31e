/*
 * test_interrupt.c: the interrupt hook of mem.h, as formula evaluation and
 * decimal arithmetic call it.
 *
 * Values of tens of thousands of digits make one division or product long;
 * the hook must be called inside such an operation, not only between
 * formula instructions, must not change any result while it says go on,
 * and when it says stop the operation must fail cleanly ("interrupted"),
 * leave its result argument unchanged, leak nothing (the tests run under
 * LeakSanitizer) and leave a reused formula stack usable.  Tariff pricing,
 * which formulas call, counts its pieces too.
 */
#include "core/formula.h"
#include "core/tariff.h"
#include "unit.h"

#include <stdlib.h>

/* the hook: counts its calls, says stop from call number stop_at on (0: never) */
static long hook_calls;
static long stop_at;

static bool
test_hook(void)
{
	hook_calls++;
	return stop_at > 0 && hook_calls >= stop_at;
}

static void
hook_reset(long stop)
{
	hook_calls = 0;
	stop_at = stop;
	deg_set_interrupt_check(test_hook);
}

/* 10^e + add, exactly: every digit of the magnitude is stored */
static void
long_value(Decimal *d, int e, int add)
{
	char		text[32];

	snprintf(text, sizeof(text), "1e%d", e);
	dec_from_text(d, text, strlen(text), NULL);
	{
		Decimal		a = DEC_INIT;

		dec_from_int64(&a, add, NULL);
		dec_add(d, d, &a, NULL);
		dec_free(&a);
	}
}

/* a value of n decimal digits, none of them zero: 123456789123... */
static void
dense_value(Decimal *d, int n)
{
	char	   *text = malloc((size_t) n);
	int			i;

	for (i = 0; i < n; i++)
		text[i] = (char) ('1' + i % 9);
	dec_from_text(d, text, (size_t) n, NULL);
	free(text);
}

static bool
same(const Decimal *a, const Decimal *b)
{
	return dec_cmp(a, b) == 0 && a->dscale == b->dscale;
}

/* a / b with 10000- and 5000-digit operands: about 25 million digit steps */
static void
test_decimal_long_operations(void)
{
	Decimal		a = DEC_INIT;
	Decimal		b = DEC_INIT;
	Decimal		want = DEC_INIT;
	Decimal		got = DEC_INIT;
	Decimal		marker = DEC_INIT;
	DecError	err;
	int			k;

	long_value(&a, 40000, 1);	/* 10001 base-10000 digits */
	long_value(&b, 20000, 3);
	CHECK(a.ndigits == 10001 && b.ndigits == 5001, "long operands: %d and %d digits", a.ndigits, b.ndigits);

	deg_set_interrupt_check(NULL);
	CHECK(dec_div(&want, &a, &b, &err) == DEC_OK, "division without a hook");

	/* a hook that says go on: called inside the one division, same quotient */
	hook_reset(0);
	CHECK(dec_div(&got, &a, &b, &err) == DEC_OK && same(&got, &want),
		  "division with a hook that says go on gives the same quotient");
	CHECK(hook_calls >= 25000000L / DEG_INTERRUPT_INTERVAL / 2,
		  "one division of 10001 by 5001 digits called the hook %ld times", hook_calls);

	/* and stopped at the first, fifth, fiftieth call: a clean failure */
	for (k = 0; k < 3; k++)
	{
		long		stop = (long[]) {1, 5, 50}[k];

		dec_from_int64(&marker, 42, NULL);
		hook_reset(stop);
		CHECK(dec_div(&marker, &a, &b, &err) == DEC_ERR_INTERRUPTED &&
			  err.status == DEC_ERR_INTERRUPTED && strcmp(err.message, "interrupted") == 0,
			  "division stopped at hook call %ld: %s", stop, err.message);
		CHECK(hook_calls == stop, "no work after the hook said stop (%ld calls)", hook_calls);
		CHECK(marker.ndigits == 1 && dec_digits(&marker)[0] == 42, "the result argument is unchanged");
	}

	/* mod and div_trunc go through the same division */
	hook_reset(3);
	CHECK(dec_mod(&marker, &a, &b, &err) == DEC_ERR_INTERRUPTED, "mod stopped");
	hook_reset(3);
	CHECK(dec_div_trunc(&marker, &a, &b, &err) == DEC_ERR_INTERRUPTED, "div_trunc stopped");
	hook_reset(0);
	CHECK(dec_mod(&got, &a, &b, &err) == DEC_OK && hook_calls > 0, "mod with a hook that says go on");

	/* a product of 10000 by 5000 digits, all nonzero */
	{
		Decimal		x = DEC_INIT;
		Decimal		y = DEC_INIT;

		dense_value(&x, 40000);
		dense_value(&y, 20000);
		deg_set_interrupt_check(NULL);
		CHECK(dec_mul(&want, &x, &y, &err) == DEC_OK, "product without a hook");
		hook_reset(0);
		CHECK(dec_mul(&got, &x, &y, &err) == DEC_OK && same(&got, &want) &&
			  hook_calls >= 50000000L / DEG_INTERRUPT_INTERVAL / 2,
			  "one product called the hook %ld times, same product", hook_calls);
		dec_from_int64(&marker, 42, NULL);
		hook_reset(2);
		CHECK(dec_mul(&marker, &x, &y, &err) == DEC_ERR_INTERRUPTED && hook_calls == 2 &&
			  marker.ndigits == 1 && dec_digits(&marker)[0] == 42,
			  "product stopped at the second call, result unchanged");
		dec_free(&x);
		dec_free(&y);
	}

	/*
	 * Sparse long values multiply in a few rows (a zero digit makes no
	 * row), either way round: (10^40000 + 1)(10^20000 + 3) is
	 * 10^60000 + 3 * 10^40000 + 10^20000 + 3
	 */
	{
		Decimal		sum = DEC_INIT;
		Decimal		term = DEC_INIT;
		const char *const terms[] = {"1e60000", "3e40000", "1e20000", "3"};

		for (k = 0; k < 4; k++)
		{
			dec_from_text(&term, terms[k], strlen(terms[k]), NULL);
			dec_add(&sum, &sum, &term, NULL);
		}
		hook_reset(0);
		CHECK(dec_mul(&got, &a, &b, &err) == DEC_OK && same(&got, &sum) && hook_calls == 0,
			  "a sparse product is exact and short (hook called %ld times)", hook_calls);
		CHECK(dec_mul(&got, &b, &a, &err) == DEC_OK && same(&got, &sum), "b * a as well");
		dec_free(&sum);
		dec_free(&term);
	}

	/* linear operations on long values count their digits: a sum, a rounding */
	hook_reset(1);
	for (k = 0; k < 100 && dec_add(&got, &a, &b, &err) == DEC_OK; k++)
		;
	CHECK(err.status == DEC_ERR_INTERRUPTED && k <= DEG_INTERRUPT_INTERVAL / 10001 + 1,
		  "sums of 10001-digit values stopped after %d", k);
	hook_reset(1);
	for (k = 0; k < 100 && dec_round(&got, &a, -5, DEC_ROUND_HALF_EVEN, &err) == DEC_OK; k++)
		;
	CHECK(err.status == DEC_ERR_INTERRUPTED && k <= DEG_INTERRUPT_INTERVAL / 10001 + 1,
		  "roundings of a 10001-digit value stopped after %d", k);

	/* short values never call the hook, however much work they add up to */
	{
		Decimal		x = DEC_INIT;
		Decimal		y = DEC_INIT;

		dec_from_text(&x, "123456789.123456789", 19, NULL);
		dec_from_text(&y, "3.7", 3, NULL);
		hook_reset(1);
		for (k = 0; k < 200000; k++)
		{
			if (dec_mul(&got, &x, &y, &err) != DEC_OK || dec_div(&got, &x, &y, &err) != DEC_OK ||
				dec_add(&got, &x, &y, &err) != DEC_OK)
				break;
		}
		CHECK(k == 200000 && hook_calls == 0,
			  "600000 operations on short values: %d done, hook called %ld times", k, hook_calls);
		dec_free(&x);
		dec_free(&y);
	}

	deg_set_interrupt_check(NULL);
	dec_free(&a);
	dec_free(&b);
	dec_free(&want);
	dec_free(&got);
	dec_free(&marker);
}

static FormulaResult
eval_text(const char *text, const FormulaValue *slots, int nslots, FormulaStack *stack,
		  Decimal *result, FormulaError *err)
{
	FormulaProgram *p = formula_compile(text, strlen(text), NULL, NULL, err);
	FormulaEnv	env = {slots, nslots, NULL, NULL};
	FormulaResult r;

	if (p == NULL)
		return FORMULA_RESULT_ERROR;
	r = formula_eval(p, &env, stack, result, err);
	formula_program_free(p);
	return r;
}

static void
test_formula(void)
{
	/* the slow formula of the fuzz notes, at a size the sanitizers run quickly */
	const char *slow = "(1e40000+1)/(7e20000+3) + 2";
	FormulaStack *stack = formula_stack_create();
	Decimal		want = DEC_INIT;
	Decimal		got = DEC_INIT;
	FormulaError err;
	FormulaResult r;
	long		stop;

	deg_set_interrupt_check(NULL);
	CHECK(eval_text(slow, NULL, 0, stack, &want, &err) == FORMULA_RESULT_VALUE, "slow formula without a hook");

	hook_reset(0);
	CHECK(eval_text(slow, NULL, 0, stack, &got, &err) == FORMULA_RESULT_VALUE && same(&got, &want),
		  "with a hook that says go on: the same value");
	CHECK(hook_calls >= 100, "a 9-instruction formula called the hook %ld times (inside the division)", hook_calls);

	/* stopped anywhere: an error at the division's column, then the same stack works */
	for (stop = 1; stop <= 200; stop *= 3)
	{
		hook_reset(stop);
		r = eval_text(slow, NULL, 0, stack, &got, &err);
		CHECK(r == FORMULA_RESULT_ERROR && strcmp(err.message, "interrupted at column 12") == 0,
			  "stopped at hook call %ld: %s", stop, r == FORMULA_RESULT_ERROR ? err.message : "no error");
		deg_set_interrupt_check(NULL);
		CHECK(eval_text(slow, NULL, 0, stack, &got, &err) == FORMULA_RESULT_VALUE && same(&got, &want),
			  "the stack interrupted at call %ld evaluates again", stop);
	}

	/* many cheap instructions: checked between instructions */
	{
		size_t		terms = 100000;
		char	   *text = malloc(2 * terms + 1);
		size_t		i;

		for (i = 0; i < terms; i++)
		{
			text[2 * i] = '1';
			text[2 * i + 1] = '+';
		}
		text[2 * terms - 1] = '\0';
		hook_reset(0);
		CHECK(eval_text(text, NULL, 0, stack, &got, &err) == FORMULA_RESULT_VALUE &&
			  dec_digits(&got)[0] == 10 && got.weight == 1 && hook_calls >= 2,
			  "1+1+...+1 (199999 instructions) called the hook %ld times", hook_calls);
		hook_reset(2);
		r = eval_text(text, NULL, 0, stack, &got, &err);
		CHECK(r == FORMULA_RESULT_ERROR && strncmp(err.message, "interrupted at column ", 22) == 0,
			  "1+1+...+1 stopped: %s", r == FORMULA_RESULT_ERROR ? err.message : "no error");
		free(text);
	}

	/* comparisons allocate nothing, but count the digits they read */
	{
		FormulaValue slot;

		slot.kind = FORMULA_VALUE_NUMBER;
		slot.object = NULL;
		dec_init(&slot.number);
		long_value(&slot.number, 120000, 7);	/* 30001 digits */
		hook_reset(0);
		/* 2 * 60002 digits read: more than an interval, in five instructions */
		CHECK(eval_text("(x == x) + (x == x)", &slot, 1, stack, &got, &err) == FORMULA_RESULT_VALUE &&
			  dec_digits(&got)[0] == 2 && hook_calls == 1,
			  "two comparisons of 30001-digit values called the hook %ld times", hook_calls);
		dec_free(&slot.number);
	}

	deg_set_interrupt_check(NULL);
	formula_stack_free(stack);
	dec_free(&want);
	dec_free(&got);
}

/* the counter: reset by installing a hook, the hook called once per interval */
static void
test_interval(void)
{
	int			i;

	hook_reset(0);
	CHECK(deg_work_left == DEG_INTERRUPT_INTERVAL, "installing a hook starts a full interval");
	for (i = 0; i < DEG_INTERRUPT_INTERVAL - 1; i++)
		deg_work_check(1);
	CHECK(hook_calls == 0, "not called before the interval is used up");
	CHECK(!deg_work_check(1) && hook_calls == 1 && deg_work_left == DEG_INTERRUPT_INTERVAL,
		  "called when it is, and a new interval begins");
	stop_at = 2;
	CHECK(deg_work_check(DEG_INTERRUPT_INTERVAL) && hook_calls == 2, "a hook that says stop: true");
	deg_set_interrupt_check(NULL);
	CHECK(!deg_work_check(DEG_INTERRUPT_INTERVAL) && hook_calls == 2, "no hook: never stops");
}

static bool
utc(void *ctx, int64_t s, int32_t *off)
{
	(void) ctx;
	(void) s;
	*off = 0;
	return true;
}

/* a month of charging over a tariff of 200 hourly windows: thousands of pieces */
static void
test_tariff(void)
{
	DegBuf		json;
	Tariff		t;
	TariffCdr	cdr;
	TariffTotals want,
				got;
	TariffError err;
	const char *cdr_json =
		"{\"currency\":\"EUR\",\"start_date_time\":\"2024-01-01T00:00:00Z\","
		"\"end_date_time\":\"2024-02-01T00:00:00Z\",\"charging_periods\":["
		"{\"start_date_time\":\"2024-01-01T00:00:00Z\",\"dimensions\":[{\"type\":\"ENERGY\",\"volume\":500}]}]}";
	char		element[256];
	int			i;

	degbuf_init(&json);
	degbuf_puts(&json, "{\"id\":\"T\",\"currency\":\"EUR\",\"country_code\":\"NL\",\"party_id\":\"ABC\","
				"\"last_updated\":\"2024-01-01T00:00:00Z\",\"elements\":[");
	for (i = 0; i < 200; i++)
	{
		snprintf(element, sizeof(element),
				 "%s{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.%02d,\"step_size\":1}],"
				 "\"restrictions\":{\"start_time\":\"%02d:%02d\",\"end_time\":\"%02d:%02d\"}}",
				 i ? "," : "", 10 + i % 90, i % 24, i % 60, (i + 1) % 24, (i * 7) % 60);
		degbuf_puts(&json, element);
	}
	degbuf_puts(&json, "]}");
	tariff_init(&t);
	tariff_cdr_init(&cdr);
	tariff_totals_init(&want);
	tariff_totals_init(&got);
	CHECK(!json.oom && tariff_parse(json.data, json.len, &t, &err), "tariff of 200 elements: %s", err.message);
	CHECK(tariff_cdr_parse(cdr_json, strlen(cdr_json), &cdr, &err), "a month's CDR: %s", err.message);

	deg_set_interrupt_check(NULL);
	CHECK(tariff_cost(&t, &cdr, utc, NULL, &want, &err) && want.pieces > 1000,
		  "priced without a hook in %d pieces", want.pieces);
	hook_reset(0);
	CHECK(tariff_cost(&t, &cdr, utc, NULL, &got, &err) && got.pieces == want.pieces &&
		  dec_cmp(&got.total_cost.excl_vat, &want.total_cost.excl_vat) == 0 &&
		  hook_calls >= (long) want.pieces * 201 / DEG_INTERRUPT_INTERVAL / 2,
		  "with a hook that says go on: the same cost, hook called %ld times", hook_calls);
	hook_reset(2);
	CHECK(!tariff_cost(&t, &cdr, utc, NULL, &got, &err) && strcmp(err.message, "interrupted") == 0 &&
		  hook_calls == 2, "stopped at the second call: %s", err.message);

	deg_set_interrupt_check(NULL);
	tariff_totals_free(&want);
	tariff_totals_free(&got);
	tariff_cdr_free(&cdr);
	tariff_free(&t);
	degbuf_free(&json);
}

int
main(void)
{
	test_interval();
	test_decimal_long_operations();
	test_formula();
	test_tariff();
	return unit_done("interrupt");
}
