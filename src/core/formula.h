/*
 * formula.h: the DEG formula language, compiled to bytecode and evaluated
 * on exact decimals, without PostgreSQL.
 *
 * Revenue flows, quality metrics and penalties of a contract are formulas
 * such as
 *
 *   roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr-001.energyKWh
 *
 * A formula is compiled once, when the contract is written, against a
 * scope that says what the contract declares (roles and their inputs,
 * parameters, signals, telemetry sources).  Every reference becomes a slot
 * of the program; evaluation takes one value per slot and runs a small
 * stack machine on decimal.h values, so that billing does no parsing, no
 * name lookup and, in the common case, no allocation.
 *
 * Grammar (DESIGN.md section 5; whitespace is space, tab, CR or LF):
 *
 *   expr    := sum [("<" | "<=" | ">" | ">=" | "==" | "!=") sum]
 *   sum     := term (("+" | "-") term)*
 *   term    := unary (("*" | "×" | "/" | "÷") unary)*
 *   unary   := "-" unary | primary
 *   primary := number | reference ["[" ROLE ".era" "]"]
 *            | name "(" [expr ("," expr)*] ")" | "(" expr ")"
 *   number  := digit+ ["." digit+] [("e" | "E") ["+" | "-"] digit+]
 *              (no leading or trailing point: 0.5, not .5 or 5.)
 *   reference := roles.ROLE.roleInputs.NAME[.value]
 *            | inputParameters.NAME(.NAME)*
 *            | inputSignals.ID[.value]
 *            | telemetrySources.ID.FIELD
 *            | NAME (one role input of any role, or one parameter)
 *
 * A reference is one token: no whitespace inside it.  Its first segment is
 * [A-Za-z_][A-Za-z0-9_]*; every later segment is [A-Za-z0-9_]+ in which a
 * "-" between two such characters joins (cdr-ev-charger-ccs2-001).  So a
 * bare name never joins across a hyphen (a-b is a minus b), and to subtract
 * after a dotted reference, put a space before the minus.  Comparisons give
 * 1 or 0 and do not chain.  Unary minus binds tighter than "*".
 *
 * Functions: min(a, b, ...), max(a, b, ...) (SQL's LEAST and GREATEST),
 * abs(x), round(x) and round(x, scale) (half away from zero, as numeric),
 * floor(x), ceil(x), coalesce(a, b, ...) (the first value that is not
 * missing), if(cond, a, b) (cond non-zero is true), and tariff(t, x, ...),
 * also spelled computeTariffPrice, which calls the caller's tariff engine.
 * if() and coalesce() are lazy: an argument not chosen is not evaluated.
 *
 * Values: a slot is a number, missing (no value, like SQL NULL) or an
 * opaque object (a tariff, for tariff()).  Any operation on a missing value
 * gives missing, except coalesce(), which skips it, and if(), whose
 * branch not taken is not looked at (a missing condition gives missing).
 * Timestamps are numbers: seconds since the Unix epoch, so end - start is
 * seconds.
 */
#ifndef DEG_CORE_FORMULA_H
#define DEG_CORE_FORMULA_H

#include "decimal.h"
#include "mem.h"
#include "offer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* input limits: beyond them compiling fails with an error, never a crash */
#define FORMULA_MAX_TEXT (1024 * 1024)	/* bytes of formula text */
#define FORMULA_MAX_DEPTH 200	/* nested parentheses and calls */
#define FORMULA_MAX_TARIFF_ARGS 16

/* declared types of role inputs and parameters (RoleInput.type) */
typedef enum FormulaType
{
	FORMULA_TYPE_UNKNOWN = 0,	/* not declared: checked when evaluated */
	FORMULA_TYPE_NUMBER,
	FORMULA_TYPE_DATE_TIME,		/* a number: seconds since the epoch */
	FORMULA_TYPE_DURATION,		/* a number: seconds */
	FORMULA_TYPE_BOOLEAN,		/* 1 or 0; only an if() condition */
	FORMULA_TYPE_STRING,
	FORMULA_TYPE_OBJECT,		/* e.g. a tariff: only tariff()'s first argument */
	FORMULA_TYPE_OFFER_CURVE,
	FORMULA_TYPE_ROUTE
} FormulaType;
#define FORMULA_TYPE_COUNT 9

/* "NUMBER", "DATE_TIME"...; -1 when not a type name */
extern int	formula_type_from_name(const char *name, size_t len);
extern const char *formula_type_name(FormulaType type);

/*
 * The scope: what a contract declares.  All strings are NUL-terminated and
 * only read during formula_compile.  Order does not matter.
 */
typedef struct FormulaField
{
	const char *name;			/* role input name, or parameter path */
	FormulaType type;
} FormulaField;

typedef struct FormulaScopeRole
{
	DegRole		role;
	const FormulaField *inputs;
	int			ninputs;
} FormulaScopeRole;

typedef struct FormulaScopeSource
{
	const char *id;				/* sourceId */
	const char *const *fields;	/* declared fields; none means undeclared */
	int			nfields;
} FormulaScopeSource;

typedef struct FormulaScope
{
	const FormulaScopeRole *roles;	/* the contract's roles */
	int			nroles;
	/* parameters as dotted paths, nested objects flattened ("validityWindow.startTime") */
	const FormulaField *parameters;
	int			nparameters;
	const char *const *signals; /* signalIds */
	int			nsignals;
	const FormulaScopeSource *sources;	/* telemetry sources */
	int			nsources;
	/*
	 * Role inputs given later (by a participant when it claims its role, or
	 * by clearing): a reference to an input a declared role does not declare
	 * yet compiles, with a warning, to a slot of unknown type.
	 */
	bool		open_role_inputs;
} FormulaScope;

/*
 * A compile or evaluation error.  Columns count UTF-8 characters from the
 * start of the formula (a newline is one character, columns do not restart).
 */
typedef struct FormulaError
{
	size_t		column;			/* 1-based; 0 when not about a position */
	char		message[512];	/* complete, including "at column N" */
} FormulaError;

typedef struct FormulaWarning
{
	size_t		column;
	char		message[512];
} FormulaWarning;

typedef struct FormulaWarnings
{
	FormulaWarning *items;
	int			count;
} FormulaWarnings;

/* what a slot refers to */
typedef enum FormulaRefKind
{
	FORMULA_REF_ROLE_INPUT,		/* roles.ROLE.roleInputs.NAME */
	FORMULA_REF_PARAMETER,		/* inputParameters.PATH */
	FORMULA_REF_SIGNAL,			/* inputSignals.ID */
	FORMULA_REF_TELEMETRY,		/* telemetrySources.ID.FIELD */
	FORMULA_REF_NAME			/* a bare NAME: only when compiled without a scope */
} FormulaRefKind;

typedef struct FormulaSlot
{
	FormulaRefKind kind;
	int			role;			/* FORMULA_REF_ROLE_INPUT: a DegRole, else -1 */
	const char *name;			/* input name, parameter path, signal id or source id */
	const char *field;			/* FORMULA_REF_TELEMETRY: the field, else NULL */
	int			index_role;		/* [ROLE.era]: that DegRole, else -1 */
	FormulaType type;			/* declared type, FORMULA_TYPE_UNKNOWN if none */
} FormulaSlot;

typedef struct FormulaProgram FormulaProgram;

/*
 * Compile len bytes of UTF-8 text.  With scope NULL every well-formed
 * reference is accepted (a syntax check, for editors); such a program
 * may hold FORMULA_REF_NAME slots.  warnings may be NULL; otherwise it is
 * set (count 0 when none) and must be released with formula_warnings_free.
 * Returns NULL and fills *err on error (including out of memory).
 */
extern FormulaProgram *formula_compile(const char *text, size_t len,
									   const FormulaScope *scope,
									   FormulaWarnings *warnings,
									   FormulaError *err);
extern void formula_warnings_free(FormulaWarnings *warnings);
extern void formula_program_free(FormulaProgram *program);

/* the slot table: the glue supplies one value per slot, in this order */
extern int	formula_program_nslots(const FormulaProgram *program);
extern const FormulaSlot *formula_program_slot(const FormulaProgram *program, int i);
/* the role of [ROLE.era]: evaluate once per participant of it; -1 if none */
extern int	formula_program_iteration_role(const FormulaProgram *program);
/* whether the formula calls tariff() */
extern bool formula_program_uses_tariff(const FormulaProgram *program);
/* a slot as reference text, e.g. roles.SELLER.roleInputs.fee[PROSUMER.era] */
extern bool formula_slot_text(const FormulaSlot *slot, DegBuf *out);

/*
 * Bytes for storage.  formula_serialize appends to out (false when out of
 * memory).  formula_deserialize checks everything (header, counts, names,
 * constants, every opcode and operand, jump targets, stack depth) and
 * returns NULL with *err filled when the bytes are not a valid program.
 */
extern bool formula_serialize(const FormulaProgram *program, DegBuf *out);
extern FormulaProgram *formula_deserialize(const uint8_t *bytes, size_t len,
										   FormulaError *err);

/* ---------- evaluation ---------- */

typedef enum FormulaValueKind
{
	FORMULA_VALUE_MISSING = 0,
	FORMULA_VALUE_NUMBER,
	FORMULA_VALUE_OBJECT
} FormulaValueKind;

typedef struct FormulaValue
{
	FormulaValueKind kind;
	Decimal		number;			/* FORMULA_VALUE_NUMBER */
	const void *object;			/* FORMULA_VALUE_OBJECT: opaque, for the tariff engine */
} FormulaValue;

typedef enum FormulaResult
{
	FORMULA_RESULT_VALUE,		/* a number */
	FORMULA_RESULT_MISSING,		/* no value */
	FORMULA_RESULT_ERROR
} FormulaResult;

/*
 * The tariff engine: args[0] is the first argument (an object), the others
 * numbers; none is missing (a missing argument makes the call missing
 * without asking).  The values are lent: read them, do not keep or free
 * them.  Returns FORMULA_RESULT_VALUE with *result set, MISSING, or ERROR
 * with err->message set (the evaluator adds the column).
 */
typedef FormulaResult (*FormulaTariffFn) (void *context,
										  const FormulaValue *args, int nargs,
										  Decimal *result, FormulaError *err);

/*
 * An evaluation workspace: a stack of decimals that grows to what the
 * programs it runs need and then stays, so that evaluating again allocates
 * nothing unless values outgrow the inline digits.  Reusable across
 * programs; one evaluation at a time.  It allocates through mem.h, so in
 * the server it must live in a memory context that outlives its uses.
 */
typedef struct FormulaStack FormulaStack;

extern FormulaStack *formula_stack_create(void);
extern void formula_stack_free(FormulaStack *stack);

typedef struct FormulaEnv
{
	const FormulaValue *slots;	/* one per slot of the program */
	int			nslots;
	FormulaTariffFn tariff;		/* NULL: evaluating tariff() is an error */
	void	   *tariff_context;
} FormulaEnv;

/*
 * Evaluate.  stack may be NULL (a temporary one is made for the call).
 * result must be an initialized Decimal; it is set only when the result is
 * FORMULA_RESULT_VALUE.  An error (division by zero, overflow, an object
 * where a number is needed, the tariff engine's error) fills *err with
 * the column of the operator or function.
 *
 * Evaluation counts its work for the interrupt hook (mem.h): between any
 * two instructions, and inside the arithmetic of long numbers, a hook that
 * says stop makes it an error "interrupted at column N"; a hook that raises
 * an error instead (the server's) leaves stack usable: every value in it is
 * valid, and only scratch memory of the operation in progress is lost, in
 * the memory context current during the call.
 */
extern FormulaResult formula_eval(const FormulaProgram *program,
								  const FormulaEnv *env, FormulaStack *stack,
								  Decimal *result, FormulaError *err);

#endif							/* DEG_CORE_FORMULA_H */
