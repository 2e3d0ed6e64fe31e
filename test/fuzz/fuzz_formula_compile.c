/*
 * fuzz_formula_compile.c: the formula compiler and the stored program
 * form (src/core/formula.c).
 *
 * The input is a formula text, compiled without a scope and against each
 * scope of formula_scopes.h.  A compiled program must serialize, read back
 * with formula_deserialize, and serialize to the same bytes with the same
 * slots; a program that compiles against a scope must also compile
 * without one (the scope only adds checks); and each slot's reference
 * text must compile, against the same scope, to a program with that one
 * slot.
 */
#include "core/formula.h"
#include "formula_scopes.h"
#include "fuzz.h"

static char *
slot_text(const FormulaSlot *s)
{
	DegBuf		b;

	degbuf_init(&b);
	FUZZ_ASSERT(formula_slot_text(s, &b) && b.data != NULL, "slot text");
	return b.data;
}

static void
check_program(const FormulaProgram *p, const FormulaScope *scope, const char *text)
{
	DegBuf		b1,
				b2;
	FormulaError err;
	FormulaProgram *q;
	int			n = formula_program_nslots(p);
	int			i;

	FUZZ_ASSERT(n >= 0, "nslots %d", n);
	degbuf_init(&b1);
	degbuf_init(&b2);
	FUZZ_ASSERT(formula_serialize(p, &b1), "serialize");
	q = formula_deserialize((const uint8_t *) b1.data, b1.len, &err);
	FUZZ_ASSERT(q != NULL, "stored program of \"%s\" refused: %s", text, err.message);
	FUZZ_ASSERT(formula_serialize(q, &b2), "serialize again");
	FUZZ_ASSERT(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
				"stored form of \"%s\" is not stable", text);
	FUZZ_ASSERT(formula_program_nslots(q) == n &&
				formula_program_iteration_role(q) == formula_program_iteration_role(p) &&
				formula_program_uses_tariff(q) == formula_program_uses_tariff(p),
				"stored program of \"%s\" differs", text);
	for (i = 0; i < n; i++)
	{
		const FormulaSlot *s = formula_program_slot(p, i);
		char	   *t1 = slot_text(s);
		char	   *t2 = slot_text(formula_program_slot(q, i));

		FUZZ_ASSERT(strcmp(t1, t2) == 0, "slot %d of \"%s\": %s vs %s", i, text, t1, t2);
		FUZZ_ASSERT(formula_program_slot(q, i)->type == s->type &&
					formula_program_slot(q, i)->kind == s->kind, "slot %d type of \"%s\"", i, text);
		(void) formula_type_name(s->type);
		/*
		 * the reference alone (a number) or as an if() condition (a
		 * boolean) compiles to one slot with the same text
		 */
		if (s->type == FORMULA_TYPE_UNKNOWN || s->type == FORMULA_TYPE_NUMBER ||
			s->type == FORMULA_TYPE_DATE_TIME || s->type == FORMULA_TYPE_DURATION ||
			s->type == FORMULA_TYPE_BOOLEAN)
		{
			char	   *alone = malloc(strlen(t1) + 16);
			FormulaProgram *r;

			FUZZ_ASSERT(alone != NULL, "malloc");
			sprintf(alone, s->type == FORMULA_TYPE_BOOLEAN ? "if(%s, 1, 2)" : "%s", t1);
			r = formula_compile(alone, strlen(alone), scope, NULL, &err);
			free(alone);

			FUZZ_ASSERT(r != NULL, "slot text \"%s\" of \"%s\" does not compile: %s", t1, text, err.message);
			FUZZ_ASSERT(formula_program_nslots(r) == 1, "slot text \"%s\": %d slots", t1,
						formula_program_nslots(r));
			{
				char	   *t3 = slot_text(formula_program_slot(r, 0));

				FUZZ_ASSERT(strcmp(t1, t3) == 0, "slot text \"%s\" compiles to \"%s\"", t1, t3);
				free(t3);
			}
			formula_program_free(r);
		}
		free(t1);
		free(t2);
	}
	/* a stored program cut short is refused */
	if (b1.len > 0)
	{
		FormulaProgram *t = formula_deserialize((const uint8_t *) b1.data, b1.len - 1, &err);

		FUZZ_ASSERT(t == NULL, "truncated stored program accepted");
	}
	formula_program_free(q);
	degbuf_free(&b1);
	degbuf_free(&b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;
	char	   *shown = fuzz_strndup(data, size);
	bool		unscoped_ok = false;
	int			i;

	for (i = 0; i < FUZZ_NSCOPES; i++)
	{
		const FormulaScope *scope = fuzz_scope(i);
		FormulaWarnings warnings;
		FormulaError err;
		FormulaProgram *p;

		memset(&err, 0, sizeof(err));
		p = formula_compile(text, size, scope, &warnings, &err);
		if (p == NULL)
		{
			FUZZ_ASSERT(err.message[0] != '\0', "error without a message");
			FUZZ_ASSERT(strlen(err.message) < sizeof(err.message), "message");
			FUZZ_ASSERT(err.column <= size + 1, "error column %zu past the end (%zu bytes)", err.column, size);
			FUZZ_ASSERT(warnings.count == 0 || warnings.items != NULL, "warnings");
			formula_warnings_free(&warnings);
			continue;
		}
		if (i == 0)
			unscoped_ok = true;
		else
			FUZZ_ASSERT(unscoped_ok, "\"%s\" compiles against scope %d but not without a scope", shown, i);
		{
			int			w;

			for (w = 0; w < warnings.count; w++)
				FUZZ_ASSERT(warnings.items[w].message[0] != '\0' &&
							warnings.items[w].column <= size + 1, "warning");
		}
		formula_warnings_free(&warnings);
		check_program(p, scope, shown);
		formula_program_free(p);
	}
	free(shown);
	return 0;
}
