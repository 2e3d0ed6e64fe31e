/*
 * fuzz_formula_deserialize.c: stored formula programs (src/core/formula.c),
 * which the extension reads back from its catalog.
 *
 * formula_deserialize checks every byte (header, counts, names, constants,
 * opcodes, operands, jump targets, stack depth).  Whatever it accepts must
 * serialize to a form that reads back to the same bytes, and evaluate
 * safely with any slot values: missing, numbers and objects, with and
 * without a tariff engine.
 */
#include "core/formula.h"
#include "fuzz.h"

static int	the_object;

static FormulaResult
some_tariff(void *context, const FormulaValue *args, int nargs, Decimal *result,
			FormulaError *err)
{
	int			i;

	(void) context;
	FUZZ_ASSERT(nargs >= 1 && nargs <= FORMULA_MAX_TARIFF_ARGS, "tariff called with %d arguments", nargs);
	FUZZ_ASSERT(args[0].kind == FORMULA_VALUE_OBJECT, "tariff's first argument is not an object");
	for (i = 1; i < nargs; i++)
		FUZZ_ASSERT(args[i].kind == FORMULA_VALUE_NUMBER, "tariff argument %d is not a number", i);
	if (nargs > 1)
		return dec_copy(result, &args[nargs - 1].number, NULL) == DEC_OK ? FORMULA_RESULT_VALUE : FORMULA_RESULT_ERROR;
	snprintf(err->message, sizeof(err->message), "no quantity");
	return FORMULA_RESULT_ERROR;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FormulaError err;
	FormulaProgram *p;
	DegBuf		b;
	FormulaValue *slots;
	FormulaStack *stack;
	int			n,
				i,
				round;

	memset(&err, 0, sizeof(err));
	p = formula_deserialize(data, size, &err);
	if (p == NULL)
	{
		FUZZ_ASSERT(err.message[0] != '\0', "error without a message");
		return 0;
	}
	/*
	 * Constants are numeric's wire format, which dec_recv normalizes as
	 * numeric_recv does (a zero with a weight reads as zero), so the bytes
	 * need not come back exactly; what they read as must.
	 */
	degbuf_init(&b);
	FUZZ_ASSERT(formula_serialize(p, &b), "serialize");
	{
		FormulaProgram *q = formula_deserialize((const uint8_t *) b.data, b.len, &err);
		DegBuf		b2;

		FUZZ_ASSERT(q != NULL, "own serialized form refused: %s", err.message);
		degbuf_init(&b2);
		FUZZ_ASSERT(formula_serialize(q, &b2), "serialize again");
		FUZZ_ASSERT(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "serialized form is not stable");
		FUZZ_ASSERT(b.len <= size, "serialized form longer than the input");
		degbuf_free(&b2);
		formula_program_free(q);
	}
	degbuf_free(&b);

	n = formula_program_nslots(p);
	for (i = 0; i < n; i++)
	{
		DegBuf		t;

		degbuf_init(&t);
		FUZZ_ASSERT(formula_slot_text(formula_program_slot(p, i), &t), "slot text");
		degbuf_free(&t);
	}
	slots = calloc((size_t) n + 1, sizeof(FormulaValue));
	FUZZ_ASSERT(slots != NULL, "calloc");
	stack = formula_stack_create();
	for (round = 0; round < 4; round++)
	{
		FormulaEnv	env;
		Decimal		r = DEC_INIT;
		FormulaResult res;

		for (i = 0; i < n; i++)
		{
			int			kind = (i + round) % 4;

			dec_init(&slots[i].number);
			slots[i].kind = kind == 0 ? FORMULA_VALUE_MISSING : kind == 1 ? FORMULA_VALUE_OBJECT : FORMULA_VALUE_NUMBER;
			slots[i].object = &the_object;
			dec_from_int64(&slots[i].number, kind == 2 ? 0 : (int64_t) (i + 1) * (round & 1 ? -7 : 3), NULL);
		}
		env.slots = slots;
		env.nslots = n;
		env.tariff = round < 2 ? some_tariff : NULL;
		env.tariff_context = NULL;
		res = formula_eval(p, &env, round & 1 ? stack : NULL, &r, &err);
		FUZZ_ASSERT(res == FORMULA_RESULT_VALUE || res == FORMULA_RESULT_MISSING || res == FORMULA_RESULT_ERROR,
					"result");
		if (res == FORMULA_RESULT_ERROR)
			FUZZ_ASSERT(err.message[0] != '\0', "evaluation error without a message");
		dec_free(&r);
		for (i = 0; i < n; i++)
			dec_free(&slots[i].number);
	}
	formula_stack_free(stack);
	free(slots);
	formula_program_free(p);
	return 0;
}
