/*
 * fuzz_formula_eval.c: the formula evaluator (src/core/formula.c).
 *
 * Input: a formula text, a NUL, then bytes that choose the scope, the slot
 * values and what the tariff engine answers:
 *
 *   byte 0         scope (index into formula_scopes.h)
 *   per slot       kind (0 missing, 1 an object, else a number); a number
 *                  is a length byte and that much decimal text (when it is
 *                  not a number: 8 bytes, an integer, divided by 10^(kind % 8))
 *   the rest       the tariff engine's answers, one per call: 0 a value
 *                  (a length byte and decimal text), 1 missing, 2 an error,
 *                  3 the last argument times a value
 *
 * The program is evaluated with a fresh stack, twice with one reused stack
 * and, after a serialize / deserialize round trip, once more; all four must
 * give the same result (the same number, missing, or the same error).  Then
 * once with an interrupt hook (mem.h) that says stop when first asked,
 * asked after a few units of work: the result must be the same or an error,
 * never another value; and the same stack must give the first result again.
 */
#include "core/formula.h"
#include "formula_scopes.h"
#include "fuzz.h"

typedef struct TariffScript
{
	FuzzReader	r;
	int			calls;
} TariffScript;

static int	the_object;			/* what an object slot points at */

static int	stop_requests;

static bool
stop_hook(void)
{
	stop_requests++;
	return true;
}

static bool
read_decimal(FuzzReader *r, Decimal *d, int fallback_scale)
{
	size_t		n;
	const char *t = fuzz_bytes(r, 64, &n);

	if (n > 0 && dec_from_text(d, t, n, NULL) == DEC_OK)
		return true;
	{
		int64_t		v = (int64_t) fuzz_u64(r, 8);
		Decimal		scale = DEC_INIT;

		if (dec_from_int64(d, v, NULL) != DEC_OK)
			return false;
		if (fallback_scale > 0)
		{
			dec_from_int64(&scale, 1, NULL);
			while (fallback_scale-- > 0)
			{
				Decimal		ten = DEC_INIT;

				dec_from_int64(&ten, 10, NULL);
				dec_mul(&scale, &scale, &ten, NULL);
				dec_free(&ten);
			}
			dec_div(d, d, &scale, NULL);
			dec_free(&scale);
		}
		return true;
	}
}

static FormulaResult
scripted_tariff(void *context, const FormulaValue *args, int nargs, Decimal *result,
				FormulaError *err)
{
	TariffScript *s = context;
	int			i;
	uint8_t		mode;

	s->calls++;
	FUZZ_ASSERT(nargs >= 1 && nargs <= FORMULA_MAX_TARIFF_ARGS, "tariff called with %d arguments", nargs);
	FUZZ_ASSERT(args[0].kind == FORMULA_VALUE_OBJECT && args[0].object == &the_object,
				"tariff's first argument is not the object");
	for (i = 1; i < nargs; i++)
		FUZZ_ASSERT(args[i].kind == FORMULA_VALUE_NUMBER, "tariff argument %d is not a number", i);
	mode = fuzz_u8(&s->r) % 4;
	switch (mode)
	{
		case 1:
			return FORMULA_RESULT_MISSING;
		case 2:
			snprintf(err->message, sizeof(err->message), "scripted tariff error");
			return FORMULA_RESULT_ERROR;
		default:
			{
				Decimal		v = DEC_INIT;
				DecStatus	st = DEC_OK;

				if (!read_decimal(&s->r, &v, 2))
				{
					dec_free(&v);
					snprintf(err->message, sizeof(err->message), "no value");
					return FORMULA_RESULT_ERROR;
				}
				if (mode == 3 && nargs > 1)
					st = dec_mul(&v, &v, &args[nargs - 1].number, NULL);
				if (st == DEC_OK)
					st = dec_copy(result, &v, NULL);
				dec_free(&v);
				if (st != DEC_OK)
				{
					snprintf(err->message, sizeof(err->message), "overflow");
					return FORMULA_RESULT_ERROR;
				}
				return FORMULA_RESULT_VALUE;
			}
	}
}

/* result as text: the number, "MISSING" or "ERROR: message" */
static char *
run(const FormulaProgram *p, const FormulaValue *slots, int nslots, FormulaStack *stack,
	const uint8_t *script, size_t scriptlen)
{
	TariffScript ts;
	FormulaEnv	env;
	FormulaError err;
	Decimal		r = DEC_INIT;
	char	   *out;

	fuzz_reader_init(&ts.r, script, scriptlen);
	ts.calls = 0;
	env.slots = slots;
	env.nslots = nslots;
	env.tariff = scripted_tariff;
	env.tariff_context = &ts;
	memset(&err, 0, sizeof(err));
	switch (formula_eval(p, &env, stack, &r, &err))
	{
		case FORMULA_RESULT_VALUE:
			{
				Decimal		again = DEC_INIT;

				out = malloc(dec_text_size(&r));
				FUZZ_ASSERT(out != NULL, "malloc");
				dec_format(&r, out);
				/* the result is a normalized decimal: its text reads back the same */
				FUZZ_ASSERT(dec_from_text(&again, out, strlen(out), NULL) == DEC_OK &&
							dec_cmp(&again, &r) == 0 && again.dscale == r.dscale, "result %s", out);
				dec_free(&again);
			}
			break;
		case FORMULA_RESULT_MISSING:
			out = fuzz_strndup("MISSING", 7);
			break;
		case FORMULA_RESULT_ERROR:
			FUZZ_ASSERT(err.message[0] != '\0', "error without a message");
			out = malloc(strlen(err.message) + 8);
			FUZZ_ASSERT(out != NULL, "malloc");
			sprintf(out, "ERROR: %s", err.message);
			break;
		default:
			FUZZ_ASSERT(false, "formula_eval returned something else");
			out = NULL;
	}
	dec_free(&r);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		textlen;
	const uint8_t *rest;
	size_t		restlen;
	FuzzReader	r;
	FormulaError err;
	FormulaProgram *p;
	FormulaProgram *q;
	FormulaValue *slots;
	FormulaStack *stack;
	DegBuf		stored;
	int			n,
				i;
	char	   *r1,
			   *r2,
			   *r3,
			   *r4,
			   *r5,
			   *r6;

	fuzz_split(data, size, &textlen, &rest, &restlen);
	fuzz_reader_init(&r, rest, restlen);
	p = formula_compile((const char *) data, textlen, fuzz_scope(fuzz_u8(&r) % FUZZ_NSCOPES), NULL, &err);
	if (p == NULL)
		return 0;

	n = formula_program_nslots(p);
	slots = calloc((size_t) n + 1, sizeof(FormulaValue));
	FUZZ_ASSERT(slots != NULL, "calloc");
	for (i = 0; i < n; i++)
	{
		uint8_t		kind = fuzz_u8(&r);

		dec_init(&slots[i].number);
		if (kind % 8 == 0)
			slots[i].kind = FORMULA_VALUE_MISSING;
		else if (kind % 8 == 1)
		{
			slots[i].kind = FORMULA_VALUE_OBJECT;
			slots[i].object = &the_object;
		}
		else
		{
			slots[i].kind = FORMULA_VALUE_NUMBER;
			if (!read_decimal(&r, &slots[i].number, kind % 8))
				slots[i].kind = FORMULA_VALUE_MISSING;
		}
	}

	r1 = run(p, slots, n, NULL, r.data + r.pos, r.len - r.pos);
	stack = formula_stack_create();
	FUZZ_ASSERT(stack != NULL, "stack");
	r2 = run(p, slots, n, stack, r.data + r.pos, r.len - r.pos);
	r3 = run(p, slots, n, stack, r.data + r.pos, r.len - r.pos);
	FUZZ_ASSERT(strcmp(r1, r2) == 0, "fresh and reused stacks differ: %s vs %s", r1, r2);
	FUZZ_ASSERT(strcmp(r2, r3) == 0, "a reused stack changes the result: %s vs %s", r2, r3);

	degbuf_init(&stored);
	FUZZ_ASSERT(formula_serialize(p, &stored), "serialize");
	q = formula_deserialize((const uint8_t *) stored.data, stored.len, &err);
	FUZZ_ASSERT(q != NULL, "stored program refused: %s", err.message);
	r4 = run(q, slots, n, stack, r.data + r.pos, r.len - r.pos);
	FUZZ_ASSERT(strcmp(r1, r4) == 0, "the stored program evaluates differently: %s vs %s", r1, r4);

	/* interrupted after 1 to 256 units of work (a unit: an instruction, a digit) */
	stop_requests = 0;
	deg_set_interrupt_check(stop_hook);
	deg_work_left = 1 + (int32_t) (size % 256);
	r5 = run(p, slots, n, stack, r.data + r.pos, r.len - r.pos);
	deg_set_interrupt_check(NULL);
	FUZZ_ASSERT(strcmp(r5, r1) == 0 || (stop_requests > 0 && strncmp(r5, "ERROR: ", 7) == 0),
				"an interrupt changed the result: %s vs %s (%d stop requests)", r5, r1, stop_requests);
	r6 = run(p, slots, n, stack, r.data + r.pos, r.len - r.pos);
	FUZZ_ASSERT(strcmp(r1, r6) == 0, "a stack reused after an interrupt evaluates differently: %s vs %s", r1, r6);

	free(r1);
	free(r2);
	free(r3);
	free(r4);
	free(r5);
	free(r6);
	degbuf_free(&stored);
	formula_program_free(q);
	formula_stack_free(stack);
	for (i = 0; i < n; i++)
		dec_free(&slots[i].number);
	free(slots);
	formula_program_free(p);
	return 0;
}
