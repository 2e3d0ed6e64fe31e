/*
 * formula.c: the DEG formula language: lexer, recursive-descent compiler
 * to a stack bytecode, checker of stored bytecode, and evaluator.
 *
 * The compiler resolves every reference against the scope when the
 * contract is written, so evaluation only indexes arrays.  if() and
 * coalesce() compile to forward jumps, which makes them lazy and makes
 * every program terminate; the checker accepts only forward jumps and a
 * stack depth that is the same on every path, so bytes read from disk can
 * be run without trusting them.
 *
 * Stored form (formula_serialize), integers as unsigned LEB128 varints in
 * their shortest form:
 *
 *   "DGF" 0x01                  magic and version
 *   iteration role + 1          0: none
 *   nslots, then per slot       kind, role + 1, index role + 1, type (a byte
 *                               each), name (length, bytes), and for
 *                               telemetry the field (length, bytes)
 *   nconsts, then per constant  length, numeric_send bytes
 *   ninstr, then per instr.     opcode byte, then its operands: a, b, column
 *                               as op_operands says
 *
 * Jump targets are instruction indexes, so the code is position
 * independent.  The opcode numbers below are part of the stored form.
 */
#include "formula.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---------- bytecode ---------- */

enum
{
	OP_CONST = 0,				/* push constant a */
	OP_SLOT = 1,				/* push slot a */
	OP_NEG = 2,
	OP_ADD = 3,
	OP_SUB = 4,
	OP_MUL = 5,
	OP_DIV = 6,
	OP_LT = 7,
	OP_LE = 8,
	OP_GT = 9,
	OP_GE = 10,
	OP_EQ = 11,
	OP_NE = 12,
	OP_MIN = 13,				/* binary; min(a, b, c) is min(min(a, b), c) */
	OP_MAX = 14,
	OP_ABS = 15,
	OP_FLOOR = 16,
	OP_CEIL = 17,
	OP_ROUND = 18,				/* round(x) */
	OP_ROUND2 = 19,				/* round(x, scale) */
	OP_TARIFF = 20,				/* a arguments; b 1 when spelled computeTariffPrice */
	OP_JUMP = 21,				/* to a */
	OP_IF = 22,					/* pop cond: zero -> a; missing -> keep it, go to b */
	OP_COALESCE = 23,			/* top not missing -> a, else pop */
	OP_COUNT
};

#define HAS_A 1
#define HAS_B 2
#define HAS_COL 4

static const uint8_t op_operands[OP_COUNT] = {
	HAS_A,						/* CONST */
	HAS_A,						/* SLOT */
	HAS_COL,					/* NEG */
	HAS_COL, HAS_COL, HAS_COL, HAS_COL,	/* ADD SUB MUL DIV */
	HAS_COL, HAS_COL, HAS_COL, HAS_COL, HAS_COL, HAS_COL,	/* comparisons */
	HAS_COL, HAS_COL,			/* MIN MAX */
	HAS_COL, HAS_COL, HAS_COL, HAS_COL, HAS_COL,	/* ABS FLOOR CEIL ROUND ROUND2 */
	HAS_A | HAS_B | HAS_COL,	/* TARIFF */
	HAS_A,						/* JUMP */
	HAS_A | HAS_B | HAS_COL,	/* IF */
	HAS_A						/* COALESCE */
};

typedef struct Instr
{
	uint8_t		op;
	uint32_t	a;
	uint32_t	b;
	uint32_t	col;
} Instr;

struct FormulaProgram
{
	Instr	   *code;
	int			ncode;
	Decimal    *consts;
	int			nconsts;
	FormulaSlot *slots;
	int			nslots;
	char	   *names;			/* the slots' strings, NUL-terminated */
	int			iteration_role;
	int			max_depth;		/* stack entries evaluation needs */
	bool		uses_tariff;
};

/* serialized form: magic, version */
static const uint8_t MAGIC[4] = {'D', 'G', 'F', 1};

static const Decimal DEC_ZERO = {0, 0, 0, DEC_POS, 0, NULL, {0}};
static const Decimal DEC_ONE = {1, 0, 0, DEC_POS, 0, NULL, {1}};

/* ---------- types ---------- */

static const char *const type_names[FORMULA_TYPE_COUNT] = {
	"UNKNOWN", "NUMBER", "DATE_TIME", "DURATION", "BOOLEAN", "STRING",
	"OBJECT", "OFFER_CURVE", "ROUTE"
};

int
formula_type_from_name(const char *name, size_t len)
{
	int			i;

	for (i = 1; i < FORMULA_TYPE_COUNT; i++)
		if (strlen(type_names[i]) == len && memcmp(type_names[i], name, len) == 0)
			return i;
	return -1;
}

const char *
formula_type_name(FormulaType type)
{
	return ((int) type >= 0 && (int) type < FORMULA_TYPE_COUNT) ? type_names[type] : "?";
}

/* what a value is known to be at compile time */
typedef enum StaticKind
{
	SK_NUMBER,					/* a number, or computed from numbers */
	SK_ANY,						/* an undeclared reference: checked when evaluated */
	SK_BOOLEAN,
	SK_STRING,
	SK_OBJECT
} StaticKind;

static StaticKind
kind_of_type(FormulaType type)
{
	switch (type)
	{
		case FORMULA_TYPE_NUMBER:
		case FORMULA_TYPE_DATE_TIME:
		case FORMULA_TYPE_DURATION:
			return SK_NUMBER;
		case FORMULA_TYPE_BOOLEAN:
			return SK_BOOLEAN;
		case FORMULA_TYPE_STRING:
			return SK_STRING;
		case FORMULA_TYPE_OBJECT:
		case FORMULA_TYPE_OFFER_CURVE:
		case FORMULA_TYPE_ROUTE:
			return SK_OBJECT;
		default:
			return SK_ANY;
	}
}

/* ---------- program ---------- */

void
formula_program_free(FormulaProgram *p)
{
	int			i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nconsts; i++)
		dec_free(&p->consts[i]);
	deg_free(p->consts);
	deg_free(p->code);
	deg_free(p->slots);
	deg_free(p->names);
	deg_free(p);
}

int
formula_program_nslots(const FormulaProgram *p)
{
	return p->nslots;
}

const FormulaSlot *
formula_program_slot(const FormulaProgram *p, int i)
{
	return (i >= 0 && i < p->nslots) ? &p->slots[i] : NULL;
}

int
formula_program_iteration_role(const FormulaProgram *p)
{
	return p->iteration_role;
}

bool
formula_program_uses_tariff(const FormulaProgram *p)
{
	return p->uses_tariff;
}

bool
formula_slot_text(const FormulaSlot *s, DegBuf *out)
{
	switch (s->kind)
	{
		case FORMULA_REF_ROLE_INPUT:
			degbuf_puts(out, "roles.");
			degbuf_puts(out, deg_role_name(s->role));
			degbuf_puts(out, ".roleInputs.");
			break;
		case FORMULA_REF_PARAMETER:
			degbuf_puts(out, "inputParameters.");
			break;
		case FORMULA_REF_SIGNAL:
			degbuf_puts(out, "inputSignals.");
			break;
		case FORMULA_REF_TELEMETRY:
			degbuf_puts(out, "telemetrySources.");
			break;
		case FORMULA_REF_NAME:
			break;
	}
	degbuf_puts(out, s->name);
	if (s->kind == FORMULA_REF_TELEMETRY && s->field != NULL)
	{
		degbuf_putc(out, '.');
		degbuf_puts(out, s->field);
	}
	if (s->index_role >= 0)
	{
		degbuf_putc(out, '[');
		degbuf_puts(out, deg_role_name(s->index_role));
		degbuf_puts(out, ".era]");
	}
	return !out->oom;
}

void
formula_warnings_free(FormulaWarnings *w)
{
	if (w == NULL)
		return;
	deg_free(w->items);
	w->items = NULL;
	w->count = 0;
}

/* ---------- messages ---------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
msg_add(FormulaError *err, const char *fmt,...)
{
	size_t		used = strlen(err->message);
	va_list		ap;

	if (used + 1 >= sizeof(err->message))
		return;
	va_start(ap, fmt);
	vsnprintf(err->message + used, sizeof(err->message) - used, fmt, ap);
	va_end(ap);
}

static void
msg_begin(FormulaError *err, size_t col)
{
	err->column = col;
	err->message[0] = '\0';
}

static void
msg_at(FormulaError *err)
{
	msg_add(err, " at column %zu", err->column);
}

/* "<fmt> at column N" */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
fail_at(FormulaError *err, size_t col, const char *fmt,...)
{
	va_list		ap;

	err->column = col;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	msg_at(err);
	return false;
}

/* a list item of a hint, stopping politely when the message gets long */
static void
msg_list_item(FormulaError *err, int i, const char *name)
{
	if (strlen(err->message) > 400)
	{
		if (strcmp(err->message + strlen(err->message) - 3, "...") != 0)
			msg_add(err, ", ...");
		return;
	}
	msg_add(err, "%s%s", i > 0 ? ", " : "", name);
}

/* ---------- compiler state ---------- */

typedef enum TokKind
{
	T_END,
	T_NUMBER,
	T_PATH,						/* a name or dotted reference */
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_LBRACKET,
	T_RBRACKET,
	T_PLUS,
	T_MINUS,
	T_STAR,						/* "*" or "×" */
	T_SLASH,					/* "/" or "÷" */
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_EQ,
	T_NE
} TokKind;

typedef struct Token
{
	TokKind		kind;
	size_t		off;			/* bytes of the token in the text */
	size_t		len;
	size_t		col;			/* 1-based column of its first character */
} Token;

typedef struct SlotDraft
{
	FormulaRefKind kind;
	int			role;
	int			index_role;
	FormulaType type;
	size_t		name_off;		/* into Compiler.names */
	size_t		name_len;
	size_t		field_off;		/* SIZE_MAX: none */
	size_t		field_len;
	bool		undeclared;		/* a role input the scope does not declare (open_role_inputs) */
} SlotDraft;

/* open addressing over indexes + 1 (0 is empty) */
typedef struct HashSet
{
	int		   *cells;
	size_t		cap;			/* a power of two, or 0 */
	size_t		used;
} HashSet;

typedef struct Compiler
{
	const char *text;
	size_t		len;
	size_t		pos;			/* lexer: next byte */
	size_t		col;			/* lexer: its column */
	Token		tok;			/* the current token */
	const FormulaScope *scope;
	FormulaError *err;
	FormulaWarning *warnings;
	int			nwarnings;
	int			capwarnings;
	int			depth;
	int			index_role;
	Instr	   *code;
	int			ncode;
	int			capcode;
	Decimal    *consts;
	int			nconsts;
	int			capconsts;
	SlotDraft  *slots;
	int			nslots;
	int			capslots;
	DegBuf		names;
	HashSet		consthash;
	HashSet		slothash;
	bool		uses_tariff;
} Compiler;

/* what the parser knows of a parsed expression */
typedef struct Info
{
	StaticKind	kind;
	int			slot;			/* a lone reference: its slot, else -1 */
	size_t		col;
} Info;

static bool
oom(Compiler *c)
{
	return fail_at(c->err, c->tok.col, "out of memory while compiling");
}

/* grow an array of elements of size elem to hold need; false when out of memory */
static bool
grow(void **items, int *cap, int need, size_t elem)
{
	int			ncap;
	void	   *n;

	if (need <= *cap)
		return true;
	if (need > INT_MAX / 2)
		return false;
	ncap = *cap < 8 ? 8 : *cap;
	while (ncap < need)
		ncap *= 2;
	if ((size_t) ncap > SIZE_MAX / elem)
		return false;
	n = deg_realloc(*items, (size_t) ncap * elem);
	if (n == NULL)
		return false;
	*items = n;
	*cap = ncap;
	return true;
}

/* ---------- hashing ---------- */

static uint32_t
fnv(uint32_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t		i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

#define FNV_INIT 2166136261u

static uint32_t
hash_const(const Decimal *d)
{
	uint32_t	h = FNV_INIT;

	h = fnv(h, &d->ndigits, sizeof(d->ndigits));
	h = fnv(h, &d->weight, sizeof(d->weight));
	h = fnv(h, &d->dscale, sizeof(d->dscale));
	h = fnv(h, &d->sign, sizeof(d->sign));
	return fnv(h, dec_digits(d), (size_t) d->ndigits * sizeof(int16_t));
}

/* the same value and the same scale: 1.0 and 1 are different constants */
static bool
same_const(const Decimal *a, const Decimal *b)
{
	return a->ndigits == b->ndigits && a->weight == b->weight &&
		a->dscale == b->dscale && a->sign == b->sign &&
		memcmp(dec_digits(a), dec_digits(b), (size_t) a->ndigits * sizeof(int16_t)) == 0;
}

static uint32_t
hash_slot(const Compiler *c, const SlotDraft *s)
{
	uint32_t	h = FNV_INIT;
	int			meta[3];

	meta[0] = (int) s->kind;
	meta[1] = s->role;
	meta[2] = s->index_role;
	h = fnv(h, meta, sizeof(meta));
	h = fnv(h, c->names.data + s->name_off, s->name_len);
	if (s->field_off != SIZE_MAX)
		h = fnv(fnv(h, ".", 1), c->names.data + s->field_off, s->field_len);
	return h;
}

static bool
same_slot(const Compiler *c, const SlotDraft *a, const SlotDraft *b)
{
	return a->kind == b->kind && a->role == b->role && a->index_role == b->index_role &&
		a->name_len == b->name_len &&
		memcmp(c->names.data + a->name_off, c->names.data + b->name_off, a->name_len) == 0 &&
		(a->field_off == SIZE_MAX) == (b->field_off == SIZE_MAX) &&
		(a->field_off == SIZE_MAX ||
		 (a->field_len == b->field_len &&
		  memcmp(c->names.data + a->field_off, c->names.data + b->field_off, a->field_len) == 0));
}

/* room for one more entry at most half full */
static bool
hash_reserve(HashSet *h, uint32_t (*rehash) (const void *, int), const void *ctx)
{
	size_t		ncap;
	int		   *cells;
	size_t		i;

	if ((h->used + 1) * 2 <= h->cap)
		return true;
	ncap = h->cap == 0 ? 64 : h->cap * 2;
	if (ncap > SIZE_MAX / sizeof(int))
		return false;
	cells = deg_alloc(ncap * sizeof(int));
	if (cells == NULL)
		return false;
	memset(cells, 0, ncap * sizeof(int));
	for (i = 0; i < h->cap; i++)
		if (h->cells[i] != 0)
		{
			size_t		j = rehash(ctx, h->cells[i] - 1) & (ncap - 1);

			while (cells[j] != 0)
				j = (j + 1) & (ncap - 1);
			cells[j] = h->cells[i];
		}
	deg_free(h->cells);
	h->cells = cells;
	h->cap = ncap;
	return true;
}

static uint32_t
rehash_const(const void *ctx, int i)
{
	return hash_const(&((const Compiler *) ctx)->consts[i]);
}

static uint32_t
rehash_slot(const void *ctx, int i)
{
	const Compiler *c = ctx;

	return hash_slot(c, &c->slots[i]);
}

/* ---------- lexer ---------- */

static bool
is_alpha(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool
is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool
is_word(unsigned char ch)
{
	return is_alpha(ch) || is_digit(ch);
}

static unsigned char
at(const Compiler *c, size_t off)
{
	return off < c->len ? (unsigned char) c->text[off] : 0;
}

/* length of the valid UTF-8 sequence at off, 0 when invalid */
static size_t
utf8_sequence(const Compiler *c, size_t off, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *) c->text + off;
	size_t		avail = c->len - off;
	size_t		n;
	size_t		i;
	uint32_t	v;

	if (s[0] < 0x80)
		n = 1, v = s[0];
	else if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, v = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, v = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, v = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
		(v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

static bool
bad_character(Compiler *c)
{
	const unsigned char *s = (const unsigned char *) c->text + c->pos;
	uint32_t	cp = 0;
	size_t		n = utf8_sequence(c, c->pos, &cp);

	if (n == 0)
		return fail_at(c->err, c->col, "invalid UTF-8 byte 0x%02X", s[0]);
	if (s[0] == '"')
		return fail_at(c->err, c->col, "unexpected character '\"'");
	if (s[0] >= 0x20 && s[0] < 0x7F)
		return fail_at(c->err, c->col, "unexpected character \"%c\"", s[0]);
	if (cp < 0xA0)
		return fail_at(c->err, c->col, "unexpected character U+%04X", (unsigned) cp);
	return fail_at(c->err, c->col, "unexpected character \"%.*s\" (U+%04X)",
				   (int) n, (const char *) s, (unsigned) cp);
}

/* advance over n bytes of ASCII */
static void
skip(Compiler *c, size_t n)
{
	c->pos += n;
	c->col += n;
}

/* read the next token into c->tok */
static bool
lex(Compiler *c)
{
	unsigned char ch;
	size_t		start;

	while (c->pos < c->len && (at(c, c->pos) == ' ' || at(c, c->pos) == '\t' ||
							   at(c, c->pos) == '\n' || at(c, c->pos) == '\r'))
		skip(c, 1);
	c->tok.off = c->pos;
	c->tok.col = c->col;
	c->tok.len = 1;
	if (c->pos >= c->len)
	{
		c->tok.kind = T_END;
		c->tok.len = 0;
		return true;
	}
	ch = at(c, c->pos);
	start = c->pos;

	if (is_alpha(ch))
	{
		/* first segment: no hyphens, so a-b stays a minus b */
		while (is_word(at(c, c->pos)))
			skip(c, 1);
		while (c->pos < c->len && at(c, c->pos) == '.')
		{
			if (!is_word(at(c, c->pos + 1)))
			{
				skip(c, 1);
				fail_at(c->err, c->col, "expected a name after \".\"");
				if (c->pos >= c->len)
					msg_add(c->err, " (found the end of the formula)");
				else if (at(c, c->pos) > 0x20 && at(c, c->pos) < 0x7F && at(c, c->pos) != '"')
					msg_add(c->err, " (found \"%c\")", at(c, c->pos));
				return false;
			}
			skip(c, 1);
			while (is_word(at(c, c->pos)) ||
				   (at(c, c->pos) == '-' && is_word(at(c, c->pos + 1))))
				skip(c, 1);
		}
		c->tok.kind = T_PATH;
		c->tok.len = c->pos - start;
		return true;
	}
	if (is_digit(ch))
	{
		while (is_digit(at(c, c->pos)))
			skip(c, 1);
		if (at(c, c->pos) == '.')
		{
			if (!is_digit(at(c, c->pos + 1)))
			{
				fail_at(c->err, c->tok.col, "malformed number \"%.*s.\"",
						(int) (c->pos - start < 40 ? c->pos - start : 40), c->text + start);
				msg_add(c->err, " (expected a digit after \".\")");
				return false;
			}
			skip(c, 1);
			while (is_digit(at(c, c->pos)))
				skip(c, 1);
		}
		if ((at(c, c->pos) == 'e' || at(c, c->pos) == 'E') &&
			(is_digit(at(c, c->pos + 1)) ||
			 ((at(c, c->pos + 1) == '+' || at(c, c->pos + 1) == '-') && is_digit(at(c, c->pos + 2)))))
		{
			skip(c, 2);
			while (is_digit(at(c, c->pos)))
				skip(c, 1);
		}
		c->tok.kind = T_NUMBER;
		c->tok.len = c->pos - start;
		return true;
	}

	switch (ch)
	{
		case '(':
			c->tok.kind = T_LPAREN;
			break;
		case ')':
			c->tok.kind = T_RPAREN;
			break;
		case ',':
			c->tok.kind = T_COMMA;
			break;
		case '[':
			c->tok.kind = T_LBRACKET;
			break;
		case ']':
			c->tok.kind = T_RBRACKET;
			break;
		case '+':
			c->tok.kind = T_PLUS;
			break;
		case '-':
			c->tok.kind = T_MINUS;
			break;
		case '*':
			c->tok.kind = T_STAR;
			break;
		case '/':
			c->tok.kind = T_SLASH;
			break;
		case '<':
		case '>':
			if (at(c, c->pos + 1) == '=')
			{
				c->tok.kind = ch == '<' ? T_LE : T_GE;
				c->tok.len = 2;
			}
			else
				c->tok.kind = ch == '<' ? T_LT : T_GT;
			break;
		case '=':
		case '!':
			if (at(c, c->pos + 1) != '=')
			{
				fail_at(c->err, c->col, "unexpected character \"%c\"", ch);
				msg_add(c->err, " (comparisons are <, <=, >, >=, == and !=)");
				return false;
			}
			c->tok.kind = ch == '=' ? T_EQ : T_NE;
			c->tok.len = 2;
			break;
		case '.':
			if (is_digit(at(c, c->pos + 1)))
			{
				fail_at(c->err, c->col, "malformed number \".%c\"", at(c, c->pos + 1));
				msg_add(c->err, " (write 0.%c: a number starts with a digit)", at(c, c->pos + 1));
				return false;
			}
			return bad_character(c);
		case 0xC3:
			/* × U+00D7 and ÷ U+00F7 */
			if (at(c, c->pos + 1) == 0x97 || at(c, c->pos + 1) == 0xB7)
			{
				c->tok.kind = at(c, c->pos + 1) == 0x97 ? T_STAR : T_SLASH;
				c->tok.len = 2;
				c->pos += 2;
				c->col += 1;
				return true;
			}
			return bad_character(c);
		default:
			return bad_character(c);
	}
	skip(c, c->tok.len);
	return true;
}

/* "the end of the formula", "\"abc\"", for messages */
static void
describe_token(const Compiler *c, char *buf, size_t cap)
{
	const Token *t = &c->tok;

	if (t->kind == T_END)
		snprintf(buf, cap, "the end of the formula");
	else if (t->len > 40)
		snprintf(buf, cap, "\"%.40s...\"", c->text + t->off);
	else
		snprintf(buf, cap, "\"%.*s\"", (int) t->len, c->text + t->off);
}

/* "expected <what> at column N (found <token>)" */
static bool
expected(Compiler *c, const char *what)
{
	char		found[64];

	describe_token(c, found, sizeof(found));
	msg_begin(c->err, c->tok.col);
	msg_add(c->err, "expected %s", what);
	msg_at(c->err);
	msg_add(c->err, " (found %s)", found);
	return false;
}

/* ---------- emitting ---------- */

static bool
emit(Compiler *c, int op, uint32_t a, uint32_t b, size_t col)
{
	Instr	   *in;

	if (!grow((void **) &c->code, &c->capcode, c->ncode + 1, sizeof(Instr)))
		return oom(c);
	in = &c->code[c->ncode++];
	in->op = (uint8_t) op;
	in->a = a;
	in->b = b;
	in->col = (uint32_t) col;
	return true;
}

/* index of constant d (taken over: d is reset), -1 when out of memory */
static int
intern_const(Compiler *c, Decimal *d)
{
	uint32_t	h = hash_const(d);
	size_t		j;

	if (!hash_reserve(&c->consthash, rehash_const, c))
		return -1;
	for (j = h & (c->consthash.cap - 1); c->consthash.cells[j] != 0;
		 j = (j + 1) & (c->consthash.cap - 1))
		if (same_const(&c->consts[c->consthash.cells[j] - 1], d))
		{
			dec_free(d);
			return c->consthash.cells[j] - 1;
		}
	if (!grow((void **) &c->consts, &c->capconsts, c->nconsts + 1, sizeof(Decimal)))
		return -1;
	/* a Decimal may be moved with memcpy */
	memcpy(&c->consts[c->nconsts], d, sizeof(Decimal));
	dec_init(d);
	c->consthash.cells[j] = ++c->nconsts;
	c->consthash.used++;
	return c->nconsts - 1;
}

static bool
emit_const(Compiler *c, Decimal *d)
{
	int			k = intern_const(c, d);

	if (k < 0)
	{
		dec_free(d);
		return oom(c);
	}
	return emit(c, OP_CONST, (uint32_t) k, 0, 0);
}

static bool
add_warning(Compiler *c, const FormulaError *w)
{
	FormulaWarning *item;

	if (!grow((void **) &c->warnings, &c->capwarnings, c->nwarnings + 1, sizeof(FormulaWarning)))
		return oom(c);
	item = &c->warnings[c->nwarnings++];
	item->column = w->column;
	snprintf(item->message, sizeof(item->message), "%s", w->message);
	return true;
}

/* ---------- scope lookups ---------- */

/* NUL-terminated s equals the n bytes at t */
static bool
name_eq(const char *s, const char *t, size_t n)
{
	return s != NULL && strncmp(s, t, n) == 0 && s[n] == '\0';
}

static bool
scope_has_role(const FormulaScope *scope, int role)
{
	int			i;

	for (i = 0; i < scope->nroles; i++)
		if ((int) scope->roles[i].role == role)
			return true;
	return false;
}

/* the declared input of role named t[0..n), or NULL */
static const FormulaField *
scope_input(const FormulaScope *scope, int role, const char *t, size_t n)
{
	int			i,
				j;

	for (i = 0; i < scope->nroles; i++)
		if ((int) scope->roles[i].role == role)
			for (j = 0; j < scope->roles[i].ninputs; j++)
				if (name_eq(scope->roles[i].inputs[j].name, t, n))
					return &scope->roles[i].inputs[j];
	return NULL;
}

static const FormulaField *
scope_parameter(const FormulaScope *scope, const char *t, size_t n)
{
	int			i;

	for (i = 0; i < scope->nparameters; i++)
		if (name_eq(scope->parameters[i].name, t, n))
			return &scope->parameters[i];
	return NULL;
}

static bool
scope_signal(const FormulaScope *scope, const char *t, size_t n)
{
	int			i;

	for (i = 0; i < scope->nsignals; i++)
		if (name_eq(scope->signals[i], t, n))
			return true;
	return false;
}

static const FormulaScopeSource *
scope_source(const FormulaScope *scope, const char *t, size_t n)
{
	int			i;

	for (i = 0; i < scope->nsources; i++)
		if (name_eq(scope->sources[i].id, t, n))
			return &scope->sources[i];
	return NULL;
}

/* whether scope->roles[i] repeats the role of an earlier entry */
static bool
role_repeats(const FormulaScope *scope, int i)
{
	int			j;

	for (j = 0; j < i; j++)
		if (scope->roles[j].role == scope->roles[i].role)
			return true;
	return false;
}

static void
list_roles(FormulaError *err, const FormulaScope *scope)
{
	int			i,
				k = 0;

	msg_add(err, " (roles: ");
	for (i = 0; i < scope->nroles; i++)
		if (!role_repeats(scope, i))
			msg_list_item(err, k++, deg_role_name(scope->roles[i].role));
	if (k == 0)
		msg_add(err, "none");
	msg_add(err, ")");
}

/* a hint for a name with a hyphen that was probably meant as a minus */
static void
hyphen_hint(FormulaError *err, const char *name, size_t n)
{
	if (memchr(name, '-', n) != NULL)
		msg_add(err, "; to subtract, put spaces around \"-\"");
}

/* ---------- slots ---------- */

static bool
names_add(Compiler *c, const char *s, size_t n, size_t *off)
{
	*off = c->names.len;
	degbuf_append(&c->names, s, n);
	degbuf_putc(&c->names, '\0');
	return !c->names.oom;
}

/* the slot of a reference (a new one unless the same reference was seen) */
static bool
intern_slot(Compiler *c, const SlotDraft *draft, const char *name, size_t name_len,
			const char *field, size_t field_len, int *slot, bool *is_new)
{
	SlotDraft	s = *draft;
	size_t		mark = c->names.len;
	uint32_t	h;
	size_t		j;

	if (!names_add(c, name, name_len, &s.name_off))
		return oom(c);
	s.name_len = name_len;
	s.field_off = SIZE_MAX;
	s.field_len = 0;
	if (field != NULL)
	{
		if (!names_add(c, field, field_len, &s.field_off))
			return oom(c);
		s.field_len = field_len;
	}
	if (!hash_reserve(&c->slothash, rehash_slot, c))
		return oom(c);
	h = hash_slot(c, &s);
	for (j = h & (c->slothash.cap - 1); c->slothash.cells[j] != 0;
		 j = (j + 1) & (c->slothash.cap - 1))
		if (same_slot(c, &c->slots[c->slothash.cells[j] - 1], &s))
		{
			/* seen: drop the copies of the names */
			c->names.len = mark;
			c->names.data[mark] = '\0';
			*slot = c->slothash.cells[j] - 1;
			*is_new = false;
			return true;
		}
	if (!grow((void **) &c->slots, &c->capslots, c->nslots + 1, sizeof(SlotDraft)))
		return oom(c);
	c->slots[c->nslots] = s;
	c->slothash.cells[j] = ++c->nslots;
	c->slothash.used++;
	*slot = c->nslots - 1;
	*is_new = true;
	return true;
}

/* "roles.SELLER.roleInputs.fee" etc. of a slot under construction */
static void
draft_text(const Compiler *c, const SlotDraft *s, char *buf, size_t cap)
{
	const char *name = c->names.data + s->name_off;

	switch (s->kind)
	{
		case FORMULA_REF_ROLE_INPUT:
			snprintf(buf, cap, "roles.%s.roleInputs.%s", deg_role_name(s->role), name);
			break;
		case FORMULA_REF_PARAMETER:
			snprintf(buf, cap, "inputParameters.%s", name);
			break;
		case FORMULA_REF_SIGNAL:
			snprintf(buf, cap, "inputSignals.%s", name);
			break;
		case FORMULA_REF_TELEMETRY:
			snprintf(buf, cap, "telemetrySources.%s.%s", name, c->names.data + s->field_off);
			break;
		case FORMULA_REF_NAME:
			snprintf(buf, cap, "%s", name);
			break;
	}
}

/* ---------- type checks ---------- */

static const char *
article(FormulaType type)
{
	return (type == FORMULA_TYPE_OBJECT || type == FORMULA_TYPE_OFFER_CURVE) ? "an" : "a";
}

static const char *
ref_kind_text(FormulaRefKind kind)
{
	return kind == FORMULA_REF_ROLE_INPUT ? "role input" : "input parameter";
}

/* a number is needed here: refuse references declared otherwise */
static bool
need_number(Compiler *c, const Info *a, bool boolean_ok)
{
	const SlotDraft *s;
	char		text[200];

	if (a->kind == SK_NUMBER || a->kind == SK_ANY || (boolean_ok && a->kind == SK_BOOLEAN))
		return true;
	if (a->slot < 0)
		return fail_at(c->err, a->col, "expected a number");
	s = &c->slots[a->slot];
	draft_text(c, s, text, sizeof(text));
	fail_at(c->err, a->col, "cannot compute with %s", text);
	msg_add(c->err, " (%s %s %s, not a number)", article(s->type),
			formula_type_name(s->type), ref_kind_text(s->kind));
	return false;
}

static bool
need_tariff(Compiler *c, const Info *a, const char *fname)
{
	const SlotDraft *s;
	char		text[200];

	if (a->slot < 0)
		return fail_at(c->err, a->col, "%s expects a reference to a tariff object as its first argument", fname);
	s = &c->slots[a->slot];
	if (s->type == FORMULA_TYPE_UNKNOWN || s->type == FORMULA_TYPE_OBJECT)
		return true;
	draft_text(c, s, text, sizeof(text));
	fail_at(c->err, a->col, "%s expects a tariff object as its first argument", fname);
	msg_add(c->err, " (%s is %s %s %s)", text, article(s->type),
			formula_type_name(s->type), ref_kind_text(s->kind));
	return false;
}

/* ---------- references ---------- */

/* segment k (0-based) of the dotted token t[0..n): offset and length; false if none */
static bool
segment(const char *t, size_t n, int k, size_t *off, size_t *len)
{
	size_t		i = 0;
	size_t		start;

	while (k > 0)
	{
		while (i < n && t[i] != '.')
			i++;
		if (i >= n)
			return false;
		i++;
		k--;
	}
	start = i;
	while (i < n && t[i] != '.')
		i++;
	*off = start;
	*len = i - start;
	return true;
}

static int
segment_count(const char *t, size_t n)
{
	int			count = 1;
	size_t		i;

	for (i = 0; i < n; i++)
		if (t[i] == '.')
			count++;
	return count;
}

static bool
seg_is(const char *t, size_t off, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(t + off, word, len) == 0;
}

/* a role name at t[0..n) (column col) that the contract has */
static bool
known_role(Compiler *c, const char *t, size_t n, size_t col, int *role)
{
	*role = deg_role_from_name(t, n);
	if (*role < 0)
		return fail_at(c->err, col, "unknown role \"%.*s\"", (int) (n > 64 ? 64 : n), t);
	if (c->scope != NULL && !scope_has_role(c->scope, *role))
	{
		fail_at(c->err, col, "role %s is not in this contract", deg_role_name(*role));
		list_roles(c->err, c->scope);
		return false;
	}
	return true;
}

static bool
incomplete(Compiler *c, const char *t, size_t n, size_t col, const char *form)
{
	fail_at(c->err, col, "incomplete reference \"%.*s\"", (int) (n > 64 ? 64 : n), t);
	msg_add(c->err, " (expected %s)", form);
	return false;
}

static bool
unexpected_segment(Compiler *c, const char *t, size_t off, size_t len, size_t col,
				   const char *why)
{
	fail_at(c->err, col + off - 1, "unexpected \".%.*s\"", (int) (len > 64 ? 64 : len), t + off);
	msg_add(c->err, " (%s)", why);
	/* the segment before: a hyphen there probably joined a minus and a name */
	if (off >= 2)
	{
		size_t		prev = off - 1;

		while (prev > 0 && t[prev - 1] != '.')
			prev--;
		hyphen_hint(c->err, t + prev, off - 1 - prev);
	}
	return false;
}

static bool
role_input_ref(Compiler *c, const char *t, size_t n, size_t col, SlotDraft *s,
			   size_t *name_off, size_t *name_len)
{
	static const char FORM[] = "roles.ROLE.roleInputs.NAME";
	int			nseg = segment_count(t, n);
	size_t		off = 0,
				len = 0;
	const FormulaField *f = NULL;
	int			i,
				j,
				k;

	if (!segment(t, n, 1, &off, &len))
		return incomplete(c, t, n, col, FORM);
	if (!known_role(c, t + off, len, col + off, &s->role))
		return false;
	if (!segment(t, n, 2, &off, &len))
		return incomplete(c, t, n, col, FORM);
	if (!seg_is(t, off, len, "roleInputs"))
	{
		fail_at(c->err, col + off, "expected \"roleInputs\"");
		msg_add(c->err, " (found \"%.*s\")", (int) (len > 64 ? 64 : len), t + off);
		return false;
	}
	if (!segment(t, n, 3, name_off, name_len))
		return incomplete(c, t, n, col, FORM);
	if (nseg > 4)
	{
		segment(t, n, 4, &off, &len);
		if (seg_is(t, off, len, "value"))
			segment(t, n, 5, &off, &len);
		if (nseg > 5 || !seg_is(t, off, len, "value"))
			return unexpected_segment(c, t, off, len, col,
									  "only \".value\" may follow a role input");
	}
	s->kind = FORMULA_REF_ROLE_INPUT;
	s->type = FORMULA_TYPE_UNKNOWN;
	if (c->scope == NULL)
		return true;
	f = scope_input(c->scope, s->role, t + *name_off, *name_len);
	if (f != NULL)
	{
		s->type = f->type;
		return true;
	}
	if (c->scope->open_role_inputs)
	{
		s->undeclared = true;
		return true;
	}
	fail_at(c->err, col, "\"%.*s\" names no role input of %s",
			(int) (*name_off + *name_len > 120 ? 120 : *name_off + *name_len), t,
			deg_role_name(s->role));
	/* the message reads "... names no role input of SELLER at column 1 (SELLER has ...)" */
	msg_add(c->err, " (%s has ", deg_role_name(s->role));
	k = 0;
	for (i = 0; i < c->scope->nroles; i++)
		if ((int) c->scope->roles[i].role == s->role)
			for (j = 0; j < c->scope->roles[i].ninputs; j++)
				if (c->scope->roles[i].inputs[j].name != NULL)
					msg_list_item(c->err, k++, c->scope->roles[i].inputs[j].name);
	if (k == 0)
		msg_add(c->err, "no role inputs");
	msg_add(c->err, ")");
	hyphen_hint(c->err, t + *name_off, *name_len);
	return false;
}

static bool
parameter_ref(Compiler *c, const char *t, size_t n, size_t col, SlotDraft *s,
			  size_t *name_off, size_t *name_len)
{
	const FormulaField *f;
	int			i;

	if (!segment(t, n, 1, name_off, name_len))
		return incomplete(c, t, n, col, "inputParameters.NAME");
	*name_len = n - *name_off;	/* the whole dotted path */
	s->kind = FORMULA_REF_PARAMETER;
	s->role = -1;
	s->type = FORMULA_TYPE_UNKNOWN;
	if (c->scope == NULL)
		return true;
	f = scope_parameter(c->scope, t + *name_off, *name_len);
	if (f != NULL)
	{
		s->type = f->type;
		return true;
	}
	fail_at(c->err, col, "\"%.*s\" names no input parameter", (int) (n > 120 ? 120 : n), t);
	if (c->scope->nparameters == 0)
		msg_add(c->err, " (the contract has no input parameters)");
	else
	{
		msg_add(c->err, " (parameters: ");
		for (i = 0; i < c->scope->nparameters; i++)
			msg_list_item(c->err, i, c->scope->parameters[i].name ? c->scope->parameters[i].name : "");
		msg_add(c->err, ")");
	}
	hyphen_hint(c->err, t + *name_off, *name_len);
	return false;
}

static bool
signal_ref(Compiler *c, const char *t, size_t n, size_t col, SlotDraft *s,
		   size_t *name_off, size_t *name_len)
{
	int			nseg = segment_count(t, n);
	size_t		off = 0,
				len = 0;
	int			i;

	if (!segment(t, n, 1, name_off, name_len))
		return incomplete(c, t, n, col, "inputSignals.ID");
	if (nseg > 2)
	{
		segment(t, n, 2, &off, &len);
		if (seg_is(t, off, len, "value"))
			segment(t, n, 3, &off, &len);
		if (nseg > 3 || !seg_is(t, off, len, "value"))
			return unexpected_segment(c, t, off, len, col,
									  "only \".value\" may follow an input signal");
	}
	s->kind = FORMULA_REF_SIGNAL;
	s->role = -1;
	s->type = FORMULA_TYPE_UNKNOWN;
	if (c->scope == NULL || scope_signal(c->scope, t + *name_off, *name_len))
		return true;
	fail_at(c->err, col + *name_off, "unknown input signal \"%.*s\"",
			(int) (*name_len > 64 ? 64 : *name_len), t + *name_off);
	if (c->scope->nsignals == 0)
		msg_add(c->err, " (the contract has no input signals)");
	else
	{
		msg_add(c->err, " (signals: ");
		for (i = 0; i < c->scope->nsignals; i++)
			msg_list_item(c->err, i, c->scope->signals[i] ? c->scope->signals[i] : "");
		msg_add(c->err, ")");
	}
	hyphen_hint(c->err, t + *name_off, *name_len);
	return false;
}

static bool
telemetry_ref(Compiler *c, const char *t, size_t n, size_t col, SlotDraft *s,
			  size_t *name_off, size_t *name_len, size_t *field_off, size_t *field_len,
			  const FormulaScopeSource **source)
{
	static const char FORM[] = "telemetrySources.ID.FIELD";
	size_t		off = 0,
				len = 0;
	int			i;

	*source = NULL;
	if (!segment(t, n, 1, name_off, name_len) || !segment(t, n, 2, field_off, field_len))
		return incomplete(c, t, n, col, FORM);
	if (segment(t, n, 3, &off, &len))
		return unexpected_segment(c, t, off, len, col, "expected " "telemetrySources.ID.FIELD");
	s->kind = FORMULA_REF_TELEMETRY;
	s->role = -1;
	s->type = FORMULA_TYPE_UNKNOWN;
	if (c->scope == NULL)
		return true;
	*source = scope_source(c->scope, t + *name_off, *name_len);
	if (*source != NULL)
		return true;
	fail_at(c->err, col + *name_off, "unknown telemetry source \"%.*s\"",
			(int) (*name_len > 64 ? 64 : *name_len), t + *name_off);
	if (c->scope->nsources == 0)
		msg_add(c->err, " (the contract has no telemetry sources)");
	else
	{
		msg_add(c->err, " (sources: ");
		for (i = 0; i < c->scope->nsources; i++)
			msg_list_item(c->err, i, c->scope->sources[i].id ? c->scope->sources[i].id : "");
		msg_add(c->err, ")");
	}
	return false;
}

/* a bare NAME: exactly one role input (of any role) or parameter */
static bool
bare_ref(Compiler *c, const char *t, size_t n, size_t col, SlotDraft *s)
{
	const FormulaScope *scope = c->scope;
	int			nfound = 0;
	int			role_of[2] = {-1, -1};	/* -1: the parameter */
	FormulaType type_of = FORMULA_TYPE_UNKNOWN;
	int			i,
				j;
	char		what[2][160];

	s->type = FORMULA_TYPE_UNKNOWN;
	s->role = -1;
	if (scope == NULL)
	{
		s->kind = FORMULA_REF_NAME;
		return true;
	}
	for (i = 0; i < scope->nroles && nfound < 2; i++)
	{
		if (role_repeats(scope, i) && nfound > 0 && role_of[0] == (int) scope->roles[i].role)
			continue;
		for (j = 0; j < scope->roles[i].ninputs; j++)
			if (name_eq(scope->roles[i].inputs[j].name, t, n))
			{
				if (nfound == 0 || role_of[0] != (int) scope->roles[i].role)
				{
					if (nfound == 0)
						type_of = scope->roles[i].inputs[j].type;
					role_of[nfound++] = (int) scope->roles[i].role;
				}
				break;
			}
	}
	if (nfound < 2)
	{
		const FormulaField *f = scope_parameter(scope, t, n);

		if (f != NULL)
		{
			if (nfound == 0)
				type_of = f->type;
			role_of[nfound++] = -1;
		}
	}
	if (nfound == 0)
	{
		fail_at(c->err, col, "unknown name \"%.*s\"", (int) (n > 64 ? 64 : n), t);
		msg_add(c->err, " (not a role input or input parameter of this contract)");
		return false;
	}
	if (nfound == 2)
	{
		for (i = 0; i < 2; i++)
			if (role_of[i] < 0)
				snprintf(what[i], sizeof(what[i]), "inputParameters.%.*s", (int) n, t);
			else
				snprintf(what[i], sizeof(what[i]), "roles.%s.roleInputs.%.*s",
						 deg_role_name(role_of[i]), (int) n, t);
		fail_at(c->err, col, "ambiguous name \"%.*s\"", (int) n, t);
		msg_add(c->err, ": both %s and %s", what[0], what[1]);
		return false;
	}
	s->kind = role_of[0] < 0 ? FORMULA_REF_PARAMETER : FORMULA_REF_ROLE_INPUT;
	s->role = role_of[0];
	s->type = type_of;
	return true;
}

/* [ROLE.era] after a reference; c->tok is the "[" */
static bool
index_suffix(Compiler *c, int *index_role)
{
	const char *t;
	size_t		n,
				col,
				off = 0,
				len = 0;

	if (!lex(c))
		return false;
	if (c->tok.kind != T_PATH)
		return expected(c, "ROLE.era after \"[\"");
	t = c->text + c->tok.off;
	n = c->tok.len;
	col = c->tok.col;
	segment(t, n, 0, &off, &len);
	if (!known_role(c, t, len, col, index_role))
		return false;
	if (!segment(t, n, 1, &off, &len))
		return fail_at(c->err, col + n, "expected \".era\" after \"%.*s\"", (int) len, t);
	if (segment_count(t, n) > 2 || !seg_is(t, off, len, "era"))
		return unexpected_segment(c, t, off, len, col, "expected [ROLE.era]");
	if (!lex(c))
		return false;
	if (c->tok.kind != T_RBRACKET)
		return expected(c, "\"]\"");
	if (c->index_role >= 0 && c->index_role != *index_role)
	{
		fail_at(c->err, col, "formula indexes by both %s and %s",
				deg_role_name(c->index_role), deg_role_name(*index_role));
		msg_add(c->err, " (every [ROLE.era] of one formula must name the same role)");
		return false;
	}
	c->index_role = *index_role;
	return lex(c);
}

/* a reference token (c->tok), with its optional [ROLE.era] */
static bool
parse_reference(Compiler *c, Info *out)
{
	const char *t = c->text + c->tok.off;
	size_t		n = c->tok.len;
	size_t		col = c->tok.col;
	size_t		off0 = 0,
				len0 = 0;
	size_t		name_off = 0,
				name_len = n,
				field_off = 0,
				field_len = 0;
	const FormulaScopeSource *source = NULL;
	SlotDraft	s;
	int			slot = -1;
	bool		is_new = false;
	bool		ok;

	memset(&s, 0, sizeof(s));
	s.index_role = -1;
	segment(t, n, 0, &off0, &len0);
	if (seg_is(t, off0, len0, "roles"))
		ok = role_input_ref(c, t, n, col, &s, &name_off, &name_len);
	else if (seg_is(t, off0, len0, "inputParameters"))
		ok = parameter_ref(c, t, n, col, &s, &name_off, &name_len);
	else if (seg_is(t, off0, len0, "inputSignals"))
		ok = signal_ref(c, t, n, col, &s, &name_off, &name_len);
	else if (seg_is(t, off0, len0, "telemetrySources"))
		ok = telemetry_ref(c, t, n, col, &s, &name_off, &name_len, &field_off, &field_len, &source);
	else if (len0 != n)
	{
		fail_at(c->err, col, "unknown reference \"%.*s\"", (int) (n > 120 ? 120 : n), t);
		if (c->scope != NULL && scope_parameter(c->scope, t, n) != NULL)
			msg_add(c->err, " (did you mean inputParameters.%.*s?)", (int) (n > 120 ? 120 : n), t);
		else
			msg_add(c->err, " (a reference starts with roles., inputParameters., inputSignals. or telemetrySources.)");
		ok = false;
	}
	else
		ok = bare_ref(c, t, n, col, &s);
	if (!ok)
		return false;

	if (!lex(c))
		return false;
	if (c->tok.kind == T_LBRACKET && !index_suffix(c, &s.index_role))
		return false;

	if (!intern_slot(c, &s, t + name_off, name_len,
					 s.kind == FORMULA_REF_TELEMETRY ? t + field_off : NULL, field_len,
					 &slot, &is_new))
		return false;

	/* an element of a per-participant value ([ROLE.era]) has no declared type */
	if (s.index_role >= 0)
		s.type = FORMULA_TYPE_UNKNOWN;

	/* a role input not declared yet: accepted, reported once */
	if (is_new && s.undeclared)
	{
		FormulaError w;

		fail_at(&w, col, "role %s does not declare input \"%.*s\" yet",
				deg_role_name(s.role), (int) (name_len > 64 ? 64 : name_len), t + name_off);
		msg_add(&w, " (its value must be given before the formula is evaluated)");
		if (!add_warning(c, &w))
			return false;
	}

	/* a field the source does not declare: accepted, reported once */
	if (is_new && source != NULL && source->nfields > 0)
	{
		FormulaError w;
		int			i;
		bool		declared = false;

		for (i = 0; i < source->nfields; i++)
			if (name_eq(source->fields[i], t + field_off, field_len))
				declared = true;
		if (!declared)
		{
			fail_at(&w, col, "telemetry source \"%.*s\" does not declare field \"%.*s\"",
					(int) (name_len > 64 ? 64 : name_len), t + name_off,
					(int) (field_len > 64 ? 64 : field_len), t + field_off);
			msg_add(&w, " (it declares ");
			for (i = 0; i < source->nfields; i++)
				msg_list_item(&w, i, source->fields[i] ? source->fields[i] : "");
			msg_add(&w, ")");
			if (!add_warning(c, &w))
				return false;
		}
	}

	out->kind = kind_of_type(s.type);
	out->slot = slot;
	out->col = col;
	return emit(c, OP_SLOT, (uint32_t) slot, 0, 0);
}

/* ---------- expressions ---------- */

static bool parse_expr(Compiler *c, Info *out);

enum
{
	F_MIN, F_MAX, F_ABS, F_ROUND, F_FLOOR, F_CEIL, F_COALESCE, F_IF, F_TARIFF,
	F_COMPUTE_TARIFF_PRICE, F_COUNT
};

static const char *const function_names[F_COUNT] = {
	"min", "max", "abs", "round", "floor", "ceil", "coalesce", "if", "tariff",
	"computeTariffPrice"
};

static bool
arity_error(Compiler *c, const char *fname, size_t col, const char *expect, int found)
{
	fail_at(c->err, col, "%s expects %s", fname, expect);
	msg_add(c->err, " (found %d)", found);
	return false;
}

/* c->tok is a function name followed by "(" */
static bool
parse_call(Compiler *c, Info *out)
{
	const char *t = c->text + c->tok.off;
	size_t		n = c->tok.len;
	size_t		col = c->tok.col;
	const char *fname;
	int			f;
	int			nargs = 0;
	int			chain = -1;		/* coalesce jumps to patch, linked through .a */
	int			if_op = -1;
	int			if_jump = -1;
	int			i;
	Info		a;

	for (f = 0; f < F_COUNT; f++)
		if (seg_is(t, 0, n, function_names[f]))
			break;
	if (f == F_COUNT)
	{
		fail_at(c->err, col, "unknown function \"%.*s\"", (int) (n > 64 ? 64 : n), t);
		msg_add(c->err, " (functions:");
		for (i = 0; i < F_COUNT; i++)
			msg_add(c->err, "%s %s", i > 0 ? "," : "", function_names[i]);
		msg_add(c->err, ")");
		return false;
	}
	fname = function_names[f];
	if (!lex(c) || !lex(c))		/* the name, the "(" */
		return false;

	if (c->tok.kind != T_RPAREN)
		for (;;)
		{
			if (!parse_expr(c, &a))
				return false;
			switch (f)
			{
				case F_IF:
					if (!need_number(c, &a, nargs == 0))
						return false;
					break;
				case F_TARIFF:
				case F_COMPUTE_TARIFF_PRICE:
					if (!(nargs == 0 ? need_tariff(c, &a, fname) : need_number(c, &a, false)))
						return false;
					break;
				default:
					if (!need_number(c, &a, false))
						return false;
					if ((f == F_MIN || f == F_MAX) && nargs > 0 &&
						!emit(c, f == F_MIN ? OP_MIN : OP_MAX, 0, 0, col))
						return false;
					break;
			}
			nargs++;
			if (c->tok.kind == T_RPAREN)
				break;
			if (c->tok.kind != T_COMMA)
				return expected(c, "\",\" or \")\"");
			if (f == F_COALESCE)
			{
				if (!emit(c, OP_COALESCE, (uint32_t) chain, 0, 0))
					return false;
				chain = c->ncode - 1;
			}
			else if (f == F_IF && nargs == 1)
			{
				if (!emit(c, OP_IF, 0, 0, col))
					return false;
				if_op = c->ncode - 1;
			}
			else if (f == F_IF && nargs == 2)
			{
				if (!emit(c, OP_JUMP, 0, 0, 0))
					return false;
				if_jump = c->ncode - 1;
				c->code[if_op].a = (uint32_t) c->ncode;
			}
			if (!lex(c))
				return false;
		}
	if (!lex(c))				/* the ")" */
		return false;

	switch (f)
	{
		case F_MIN:
		case F_MAX:
		case F_COALESCE:
			if (nargs < 2)
				return arity_error(c, fname, col, "at least 2 arguments", nargs);
			break;
		case F_ABS:
		case F_FLOOR:
		case F_CEIL:
			if (nargs != 1)
				return arity_error(c, fname, col, "1 argument", nargs);
			break;
		case F_ROUND:
			if (nargs != 1 && nargs != 2)
				return arity_error(c, fname, col, "1 or 2 arguments", nargs);
			break;
		case F_IF:
			if (nargs != 3)
				return arity_error(c, fname, col, "3 arguments", nargs);
			break;
		default:
			if (nargs < 2 || nargs > FORMULA_MAX_TARIFF_ARGS)
				return arity_error(c, fname, col,
								   nargs < 2 ? "at least 2 arguments (a tariff and a quantity)"
								   : "at most 16 arguments", nargs);
			break;
	}

	switch (f)
	{
		case F_ABS:
			if (!emit(c, OP_ABS, 0, 0, col))
				return false;
			break;
		case F_FLOOR:
			if (!emit(c, OP_FLOOR, 0, 0, col))
				return false;
			break;
		case F_CEIL:
			if (!emit(c, OP_CEIL, 0, 0, col))
				return false;
			break;
		case F_ROUND:
			if (!emit(c, nargs == 1 ? OP_ROUND : OP_ROUND2, 0, 0, col))
				return false;
			break;
		case F_IF:
			c->code[if_jump].a = (uint32_t) c->ncode;
			c->code[if_op].b = (uint32_t) c->ncode;
			break;
		case F_COALESCE:
			while (chain >= 0)
			{
				int			next = (int) c->code[chain].a;

				c->code[chain].a = (uint32_t) c->ncode;
				chain = next;
			}
			break;
		case F_TARIFF:
		case F_COMPUTE_TARIFF_PRICE:
			if (!emit(c, OP_TARIFF, (uint32_t) nargs, f == F_COMPUTE_TARIFF_PRICE, col))
				return false;
			c->uses_tariff = true;
			break;
		default:
			break;
	}
	out->kind = SK_NUMBER;
	out->slot = -1;
	out->col = col;
	return true;
}

static bool
parse_number(Compiler *c, bool negate)
{
	Decimal		d;
	DecError	derr;

	dec_init(&d);
	if (dec_from_text(&d, c->text + c->tok.off, c->tok.len, &derr) != DEC_OK)
	{
		dec_free(&d);
		if (derr.status == DEC_ERR_NOMEM)
			return oom(c);
		return fail_at(c->err, c->tok.col, "number out of range \"%.*s\"",
					   (int) (c->tok.len > 40 ? 40 : c->tok.len), c->text + c->tok.off);
	}
	if (negate)
		dec_negate(&d, &d, NULL);
	if (!emit_const(c, &d))
		return false;
	return lex(c);
}

/* whether the next character after the current token, past whitespace, is "(" */
static bool
call_follows(const Compiler *c)
{
	size_t		i = c->tok.off + c->tok.len;

	while (i < c->len && (c->text[i] == ' ' || c->text[i] == '\t' ||
						  c->text[i] == '\n' || c->text[i] == '\r'))
		i++;
	return i < c->len && c->text[i] == '(';
}

static bool
parse_primary(Compiler *c, Info *out)
{
	out->kind = SK_NUMBER;
	out->slot = -1;
	out->col = c->tok.col;
	switch (c->tok.kind)
	{
		case T_NUMBER:
			return parse_number(c, false);
		case T_LPAREN:
			if (!lex(c) || !parse_expr(c, out))
				return false;
			if (c->tok.kind != T_RPAREN)
				return expected(c, "\")\"");
			return lex(c);
		case T_PATH:
			if (memchr(c->text + c->tok.off, '.', c->tok.len) == NULL && call_follows(c))
				return parse_call(c, out);
			return parse_reference(c, out);
		default:
			return expected(c, "an expression");
	}
}

static bool
nest(Compiler *c)
{
	if (++c->depth > FORMULA_MAX_DEPTH)
	{
		fail_at(c->err, c->tok.col, "formula nests too deeply");
		msg_add(c->err, " (at most %d levels)", FORMULA_MAX_DEPTH);
		return false;
	}
	return true;
}

static bool
parse_unary(Compiler *c, Info *out)
{
	size_t		col;

	if (c->tok.kind != T_MINUS)
		return parse_primary(c, out);
	col = c->tok.col;
	if (!lex(c))
		return false;
	out->kind = SK_NUMBER;
	out->slot = -1;
	out->col = col;
	/* a negative literal is a constant */
	if (c->tok.kind == T_NUMBER)
		return parse_number(c, true);
	if (!nest(c) || !parse_unary(c, out) || !need_number(c, out, false))
		return false;
	c->depth--;
	out->kind = SK_NUMBER;
	out->slot = -1;
	out->col = col;
	return emit(c, OP_NEG, 0, 0, col);
}

static bool
parse_term(Compiler *c, Info *out)
{
	Info		rhs;
	size_t		col;
	int			op;

	if (!parse_unary(c, out))
		return false;
	while (c->tok.kind == T_STAR || c->tok.kind == T_SLASH)
	{
		op = c->tok.kind == T_STAR ? OP_MUL : OP_DIV;
		col = c->tok.col;
		if (!need_number(c, out, false) || !lex(c) ||
			!parse_unary(c, &rhs) || !need_number(c, &rhs, false) ||
			!emit(c, op, 0, 0, col))
			return false;
		out->kind = SK_NUMBER;
		out->slot = -1;
	}
	return true;
}

static bool
parse_sum(Compiler *c, Info *out)
{
	Info		rhs;
	size_t		col;
	int			op;

	if (!parse_term(c, out))
		return false;
	while (c->tok.kind == T_PLUS || c->tok.kind == T_MINUS)
	{
		op = c->tok.kind == T_PLUS ? OP_ADD : OP_SUB;
		col = c->tok.col;
		if (!need_number(c, out, false) || !lex(c) ||
			!parse_term(c, &rhs) || !need_number(c, &rhs, false) ||
			!emit(c, op, 0, 0, col))
			return false;
		out->kind = SK_NUMBER;
		out->slot = -1;
	}
	return true;
}

static int
comparison_op(TokKind kind)
{
	switch (kind)
	{
		case T_LT:
			return OP_LT;
		case T_LE:
			return OP_LE;
		case T_GT:
			return OP_GT;
		case T_GE:
			return OP_GE;
		case T_EQ:
			return OP_EQ;
		case T_NE:
			return OP_NE;
		default:
			return -1;
	}
}

static bool
parse_expr(Compiler *c, Info *out)
{
	Info		rhs;
	size_t		col;
	int			op;

	if (!nest(c) || !parse_sum(c, out))
		return false;
	op = comparison_op(c->tok.kind);
	if (op >= 0)
	{
		col = c->tok.col;
		if (!need_number(c, out, false) || !lex(c) ||
			!parse_sum(c, &rhs) || !need_number(c, &rhs, false) ||
			!emit(c, op, 0, 0, col))
			return false;
		if (comparison_op(c->tok.kind) >= 0)
		{
			fail_at(c->err, c->tok.col, "comparisons do not chain");
			msg_add(c->err, " (use parentheses or if())");
			return false;
		}
		out->kind = SK_NUMBER;
		out->slot = -1;
	}
	c->depth--;
	return true;
}

/* ---------- checking a program ---------- */

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static bool
invalid(FormulaError *err, const char *fmt,...)
{
	va_list		ap;
	size_t		used;

	err->column = 0;
	snprintf(err->message, sizeof(err->message), "invalid formula bytecode: ");
	used = strlen(err->message);
	va_start(ap, fmt);
	vsnprintf(err->message + used, sizeof(err->message) - used, fmt, ap);
	va_end(ap);
	return false;
}

/*
 * Check the code of p and compute its stack depth: operands in range, jumps
 * forward and inside, every instruction reachable, the stack never below
 * what an instruction takes and the same on every path, one value at the end.
 */
static bool
check_code(FormulaProgram *p, FormulaError *err)
{
	int			n = p->ncode;
	int		   *depth;
	int			maxd = 0;
	int			i;
	bool		ok = false;

	depth = deg_alloc(((size_t) n + 1) * sizeof(int));
	if (depth == NULL)
		return fail_at(err, 0, "out of memory");
	for (i = 0; i <= n; i++)
		depth[i] = -1;
	depth[0] = 0;
	p->uses_tariff = false;

#define MERGE(target, d) \
	do { \
		if ((int64_t) (target) <= i || (int64_t) (target) > n) \
			{ invalid(err, "jump out of range at %d", i); goto done; } \
		if (depth[target] < 0) \
			depth[target] = (d); \
		else if (depth[target] != (d)) \
			{ invalid(err, "stack depths differ at %u", (unsigned) (target)); goto done; } \
	} while (0)

	for (i = 0; i < n; i++)
	{
		const Instr *in = &p->code[i];
		int			d = depth[i];
		int			nd = d;
		bool		fall = true;

		if (d < 0)
		{
			invalid(err, "unreachable instruction %d", i);
			goto done;
		}
		switch (in->op)
		{
			case OP_CONST:
			case OP_SLOT:
				if (in->a >= (uint32_t) (in->op == OP_CONST ? p->nconsts : p->nslots))
				{
					invalid(err, "operand out of range at %d", i);
					goto done;
				}
				nd = d + 1;
				break;
			case OP_NEG:
			case OP_ABS:
			case OP_FLOOR:
			case OP_CEIL:
			case OP_ROUND:
				if (d < 1)
					goto underflow;
				break;
			case OP_ADD:
			case OP_SUB:
			case OP_MUL:
			case OP_DIV:
			case OP_LT:
			case OP_LE:
			case OP_GT:
			case OP_GE:
			case OP_EQ:
			case OP_NE:
			case OP_MIN:
			case OP_MAX:
			case OP_ROUND2:
				if (d < 2)
					goto underflow;
				nd = d - 1;
				break;
			case OP_TARIFF:
				if (in->a < 2 || in->a > FORMULA_MAX_TARIFF_ARGS || in->b > 1)
				{
					invalid(err, "bad tariff call at %d", i);
					goto done;
				}
				if (d < (int) in->a)
					goto underflow;
				nd = d - (int) in->a + 1;
				p->uses_tariff = true;
				break;
			case OP_JUMP:
				MERGE(in->a, d);
				fall = false;
				break;
			case OP_IF:
				if (d < 1)
					goto underflow;
				MERGE(in->a, d - 1);
				MERGE(in->b, d);
				nd = d - 1;
				break;
			case OP_COALESCE:
				if (d < 1)
					goto underflow;
				MERGE(in->a, d);
				nd = d - 1;
				break;
			default:
				invalid(err, "unknown opcode %u at %d", (unsigned) in->op, i);
				goto done;
		}
		if (nd > maxd)
			maxd = nd;
		if (fall)
			MERGE(i + 1, nd);
	}
	if (depth[n] != 1)
	{
		invalid(err, "the program does not leave exactly one value");
		goto done;
	}
	p->max_depth = maxd;
	ok = true;
	goto done;

underflow:
	invalid(err, "stack underflow at %d", i);
done:
	deg_free(depth);
	return ok;
#undef MERGE
}

/* ---------- compiling ---------- */

static void
compiler_free(Compiler *c)
{
	int			i;

	for (i = 0; i < c->nconsts; i++)
		dec_free(&c->consts[i]);
	deg_free(c->consts);
	deg_free(c->code);
	deg_free(c->slots);
	deg_free(c->warnings);
	deg_free(c->consthash.cells);
	deg_free(c->slothash.cells);
	degbuf_free(&c->names);
}

/* move what c built into a program */
static FormulaProgram *
finish(Compiler *c)
{
	FormulaProgram *p = deg_alloc(sizeof(FormulaProgram));
	int			i;

	if (p == NULL)
		return NULL;
	memset(p, 0, sizeof(*p));
	p->iteration_role = c->index_role;
	p->uses_tariff = c->uses_tariff;
	p->names = deg_alloc(c->names.len + 1);
	p->slots = deg_alloc((size_t) (c->nslots > 0 ? c->nslots : 1) * sizeof(FormulaSlot));
	if (p->names == NULL || p->slots == NULL)
	{
		formula_program_free(p);
		return NULL;
	}
	if (c->names.len > 0)
		memcpy(p->names, c->names.data, c->names.len);
	p->names[c->names.len] = '\0';
	for (i = 0; i < c->nslots; i++)
	{
		const SlotDraft *s = &c->slots[i];
		FormulaSlot *out = &p->slots[i];

		out->kind = s->kind;
		out->role = s->role;
		out->index_role = s->index_role;
		out->type = s->type;
		out->name = p->names + s->name_off;
		out->field = s->field_off == SIZE_MAX ? NULL : p->names + s->field_off;
	}
	p->nslots = c->nslots;
	p->code = c->code;
	p->ncode = c->ncode;
	c->code = NULL;
	c->ncode = 0;
	p->consts = c->consts;
	p->nconsts = c->nconsts;
	c->consts = NULL;
	c->nconsts = 0;
	return p;
}

FormulaProgram *
formula_compile(const char *text, size_t len, const FormulaScope *scope,
				FormulaWarnings *warnings, FormulaError *err)
{
	Compiler	c;
	FormulaError local;
	FormulaProgram *p = NULL;
	Info		info;

	if (err == NULL)
		err = &local;
	err->column = 0;
	err->message[0] = '\0';
	if (warnings != NULL)
	{
		warnings->items = NULL;
		warnings->count = 0;
	}
	memset(&c, 0, sizeof(c));
	c.text = text;
	c.len = len;
	c.col = 1;
	c.scope = scope;
	c.err = err;
	c.index_role = -1;
	degbuf_init(&c.names);

	if (len > FORMULA_MAX_TEXT)
	{
		fail_at(err, 1, "formula is too long");
		msg_add(err, " (%zu bytes, at most %d)", len, FORMULA_MAX_TEXT);
		goto done;
	}
	if (text == NULL && len > 0)
	{
		fail_at(err, 1, "no formula text");
		goto done;
	}
	if (!lex(&c))
		goto done;
	if (c.tok.kind == T_END)
	{
		fail_at(err, c.tok.col, "empty formula");
		goto done;
	}
	if (!parse_expr(&c, &info) || !need_number(&c, &info, false))
		goto done;
	if (c.tok.kind != T_END)
	{
		expected(&c, "an operator");
		goto done;
	}
	p = finish(&c);
	if (p == NULL)
	{
		fail_at(err, 1, "out of memory while compiling");
		goto done;
	}
	if (!check_code(p, err))
	{
		/* the compiler emitted something the checker refuses: say so plainly */
		char		why[sizeof(err->message)];

		snprintf(why, sizeof(why), "%s", err->message);
		err->column = 0;
		snprintf(err->message, sizeof(err->message), "internal error: %.480s", why);
		formula_program_free(p);
		p = NULL;
		goto done;
	}
	if (warnings != NULL && c.nwarnings > 0)
	{
		warnings->items = c.warnings;
		warnings->count = c.nwarnings;
		c.warnings = NULL;
	}
done:
	compiler_free(&c);
	return p;
}

/* ---------- storage ---------- */

static void
put_varint(DegBuf *b, uint32_t v)
{
	while (v >= 0x80)
	{
		degbuf_putc(b, (char) (0x80 | (v & 0x7F)));
		v >>= 7;
	}
	degbuf_putc(b, (char) v);
}

static void
put_string(DegBuf *b, const char *s)
{
	size_t		n = strlen(s);

	put_varint(b, (uint32_t) n);
	degbuf_append(b, s, n);
}

bool
formula_serialize(const FormulaProgram *p, DegBuf *out)
{
	int			i;

	degbuf_append(out, MAGIC, sizeof(MAGIC));
	put_varint(out, (uint32_t) (p->iteration_role + 1));
	put_varint(out, (uint32_t) p->nslots);
	for (i = 0; i < p->nslots; i++)
	{
		const FormulaSlot *s = &p->slots[i];

		degbuf_putc(out, (char) s->kind);
		degbuf_putc(out, (char) (s->role + 1));
		degbuf_putc(out, (char) (s->index_role + 1));
		degbuf_putc(out, (char) s->type);
		put_string(out, s->name);
		if (s->kind == FORMULA_REF_TELEMETRY)
			put_string(out, s->field);
	}
	put_varint(out, (uint32_t) p->nconsts);
	for (i = 0; i < p->nconsts; i++)
	{
		size_t		n = dec_send_size(&p->consts[i]);

		put_varint(out, (uint32_t) n);
		if (degbuf_reserve(out, n))
		{
			dec_send(&p->consts[i], (uint8_t *) out->data + out->len);
			out->len += n;
			out->data[out->len] = '\0';
		}
	}
	put_varint(out, (uint32_t) p->ncode);
	for (i = 0; i < p->ncode; i++)
	{
		const Instr *in = &p->code[i];
		uint8_t		has = op_operands[in->op];

		degbuf_putc(out, (char) in->op);
		if (has & HAS_A)
			put_varint(out, in->a);
		if (has & HAS_B)
			put_varint(out, in->b);
		if (has & HAS_COL)
			put_varint(out, in->col);
	}
	return !out->oom;
}

typedef struct Reader
{
	const uint8_t *bytes;
	size_t		len;
	size_t		pos;
} Reader;

static bool
get_byte(Reader *r, uint8_t *v)
{
	if (r->pos >= r->len)
		return false;
	*v = r->bytes[r->pos++];
	return true;
}

/* LEB128, at most 32 bits, shortest form only */
static bool
get_varint(Reader *r, uint32_t *v)
{
	uint64_t	x = 0;
	int			shift;
	uint8_t		b = 0;

	for (shift = 0; shift < 35; shift += 7)
	{
		if (!get_byte(r, &b))
			return false;
		x |= (uint64_t) (b & 0x7F) << shift;
		if ((b & 0x80) == 0)
			break;
	}
	if ((b & 0x80) != 0 || x > UINT32_MAX || (shift > 0 && b == 0))
		return false;
	*v = (uint32_t) x;
	return true;
}

/* a count of items of at least min_size bytes each that can still follow */
static bool
get_count(Reader *r, size_t min_size, int *count)
{
	uint32_t	v;

	if (!get_varint(r, &v) || v > (r->len - r->pos) / min_size || v > INT_MAX / 64)
		return false;
	*count = (int) v;
	return true;
}

/* a name of slot kind: [A-Za-z0-9_-]+, and for parameters such segments joined by "." */
static bool
valid_name(const uint8_t *s, size_t n, bool dotted)
{
	size_t		i;

	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (i = 0; i < n; i++)
		if (!(is_word(s[i]) || s[i] == '-' || (dotted && s[i] == '.' && s[i - 1] != '.')))
			return false;
	return true;
}

static bool
get_name(Reader *r, DegBuf *names, bool dotted, size_t *off)
{
	uint32_t	n;

	if (!get_varint(r, &n) || n > r->len - r->pos ||
		!valid_name(r->bytes + r->pos, n, dotted))
		return false;
	*off = names->len;
	degbuf_append(names, r->bytes + r->pos, n);
	degbuf_putc(names, '\0');
	r->pos += n;
	return true;
}

FormulaProgram *
formula_deserialize(const uint8_t *bytes, size_t len, FormulaError *err)
{
	Reader		r;
	FormulaProgram *p;
	FormulaError local;
	DegBuf		names;
	size_t	   *offs = NULL;
	uint32_t	v;
	int			i;
	bool		indexed = false;

	if (err == NULL)
		err = &local;
	r.bytes = bytes;
	r.len = bytes == NULL ? 0 : len;
	r.pos = 0;
	degbuf_init(&names);
	p = deg_alloc(sizeof(FormulaProgram));
	if (p == NULL)
	{
		fail_at(err, 0, "out of memory");
		return NULL;
	}
	memset(p, 0, sizeof(*p));

	if (r.len < sizeof(MAGIC) || memcmp(bytes, MAGIC, sizeof(MAGIC)) != 0)
	{
		invalid(err, "bad header");
		goto fail;
	}
	r.pos = sizeof(MAGIC);
	if (!get_varint(&r, &v) || v > DEG_ROLE_COUNT)
		goto truncated;
	p->iteration_role = (int) v - 1;

	/* slots: kind, role + 1, index role + 1, type, name, [field] */
	if (!get_count(&r, 6, &p->nslots))
		goto truncated;
	p->slots = deg_alloc((size_t) (p->nslots > 0 ? p->nslots : 1) * sizeof(FormulaSlot));
	offs = deg_alloc((size_t) (p->nslots > 0 ? p->nslots : 1) * 2 * sizeof(size_t));
	if (p->slots == NULL || offs == NULL)
		goto nomem;
	for (i = 0; i < p->nslots; i++)
	{
		FormulaSlot *s = &p->slots[i];
		uint8_t		kind,
					role,
					index_role,
					type;

		if (!get_byte(&r, &kind) || !get_byte(&r, &role) ||
			!get_byte(&r, &index_role) || !get_byte(&r, &type))
			goto truncated;
		if (kind > FORMULA_REF_NAME || role > DEG_ROLE_COUNT ||
			index_role > DEG_ROLE_COUNT || type >= FORMULA_TYPE_COUNT ||
			(kind == FORMULA_REF_ROLE_INPUT) != (role != 0))
		{
			invalid(err, "bad slot %d", i);
			goto fail;
		}
		s->kind = (FormulaRefKind) kind;
		s->role = (int) role - 1;
		s->index_role = (int) index_role - 1;
		s->type = (FormulaType) type;
		if (s->index_role >= 0)
		{
			indexed = true;
			if (s->index_role != p->iteration_role)
			{
				invalid(err, "slot %d is indexed by another role", i);
				goto fail;
			}
		}
		offs[2 * i + 1] = SIZE_MAX;
		if (!get_name(&r, &names, kind == FORMULA_REF_PARAMETER, &offs[2 * i]) ||
			(kind == FORMULA_REF_TELEMETRY &&
			 !get_name(&r, &names, false, &offs[2 * i + 1])))
		{
			invalid(err, "bad name in slot %d", i);
			goto fail;
		}
	}
	if (indexed != (p->iteration_role >= 0))
	{
		invalid(err, "iteration role does not match the slots");
		goto fail;
	}
	if (names.oom)
		goto nomem;
	p->names = deg_alloc(names.len + 1);
	if (p->names == NULL)
		goto nomem;
	if (names.len > 0)
		memcpy(p->names, names.data, names.len);
	p->names[names.len] = '\0';
	for (i = 0; i < p->nslots; i++)
	{
		p->slots[i].name = p->names + offs[2 * i];
		p->slots[i].field = offs[2 * i + 1] == SIZE_MAX ? NULL : p->names + offs[2 * i + 1];
	}

	/* constants in numeric's binary format */
	{
		int			nconsts;

		if (!get_count(&r, 9, &nconsts))
			goto truncated;
		p->consts = deg_alloc((size_t) (nconsts > 0 ? nconsts : 1) * sizeof(Decimal));
		if (p->consts == NULL)
			goto nomem;
		for (i = 0; i < nconsts; i++)
		{
			DecError	derr;

			dec_init(&p->consts[i]);
			p->nconsts = i + 1;
			if (!get_varint(&r, &v) || v > r.len - r.pos)
				goto truncated;
			if (dec_recv(&p->consts[i], r.bytes + r.pos, v, &derr) != DEC_OK)
			{
				invalid(err, "constant %d: %s", i, derr.message);
				goto fail;
			}
			r.pos += v;
		}
	}

	/* code */
	if (!get_count(&r, 1, &p->ncode))
		goto truncated;
	p->code = deg_alloc((size_t) (p->ncode > 0 ? p->ncode : 1) * sizeof(Instr));
	if (p->code == NULL)
		goto nomem;
	for (i = 0; i < p->ncode; i++)
	{
		Instr	   *in = &p->code[i];
		uint8_t		op;

		if (!get_byte(&r, &op))
			goto truncated;
		if (op >= OP_COUNT)
		{
			invalid(err, "unknown opcode %u at %d", (unsigned) op, i);
			goto fail;
		}
		in->op = op;
		in->a = in->b = in->col = 0;
		if (((op_operands[op] & HAS_A) && !get_varint(&r, &in->a)) ||
			((op_operands[op] & HAS_B) && !get_varint(&r, &in->b)) ||
			((op_operands[op] & HAS_COL) && !get_varint(&r, &in->col)))
			goto truncated;
	}
	if (r.pos != r.len)
	{
		invalid(err, "%zu bytes after the code", r.len - r.pos);
		goto fail;
	}
	if (!check_code(p, err))
		goto fail;
	deg_free(offs);
	degbuf_free(&names);
	return p;

truncated:
	invalid(err, "truncated or malformed at byte %zu", r.pos);
	goto fail;
nomem:
	fail_at(err, 0, "out of memory");
fail:
	deg_free(offs);
	degbuf_free(&names);
	formula_program_free(p);
	return NULL;
}

/* ---------- evaluation ---------- */

typedef struct Entry
{
	FormulaValueKind kind;
	const Decimal *num;			/* NUMBER: own, a constant or a slot's value */
	const void *obj;			/* OBJECT */
	Decimal		own;			/* results computed here */
} Entry;

struct FormulaStack
{
	Entry	   *entries;
	int			capacity;
	FormulaValue args[FORMULA_MAX_TARIFF_ARGS];
};

FormulaStack *
formula_stack_create(void)
{
	FormulaStack *s = deg_alloc(sizeof(FormulaStack));

	if (s != NULL)
	{
		s->entries = NULL;
		s->capacity = 0;
	}
	return s;
}

void
formula_stack_free(FormulaStack *s)
{
	int			i;

	if (s == NULL)
		return;
	for (i = 0; i < s->capacity; i++)
		dec_free(&s->entries[i].own);
	deg_free(s->entries);
	deg_free(s);
}

static bool
stack_reserve(FormulaStack *s, int n)
{
	Entry	   *e;
	int			i;

	if (n <= s->capacity)
		return true;
	e = deg_realloc(s->entries, (size_t) n * sizeof(Entry));
	if (e == NULL)
		return false;
	for (i = s->capacity; i < n; i++)
		dec_init(&e[i].own);
	s->entries = e;
	s->capacity = n;
	return true;
}

typedef DecStatus (*DecBinary) (Decimal *, const Decimal *, const Decimal *, DecError *);
typedef DecStatus (*DecUnary) (Decimal *, const Decimal *, DecError *);

static DecStatus
round_0(Decimal *res, const Decimal *a, DecError *err)
{
	return dec_round(res, a, 0, DEC_ROUND_HALF_AWAY, err);
}

static const DecBinary binary_fns[OP_COUNT] = {
	[OP_ADD] = dec_add,[OP_SUB] = dec_sub,[OP_MUL] = dec_mul,[OP_DIV] = dec_div,
	[OP_MIN] = dec_min,[OP_MAX] = dec_max
};

static const DecUnary unary_fns[OP_COUNT] = {
	[OP_NEG] = dec_negate,[OP_ABS] = dec_abs,[OP_FLOOR] = dec_floor,
	[OP_CEIL] = dec_ceil,[OP_ROUND] = round_0
};

static FormulaResult
eval_error(FormulaError *err, size_t col, const char *what)
{
	if (col > 0)
		fail_at(err, col, "%s", what);
	else
	{
		err->column = 0;
		snprintf(err->message, sizeof(err->message), "%s", what);
	}
	return FORMULA_RESULT_ERROR;
}

/* both operands numbers: 1; a missing one (result missing): 0; an object: -1 */
static int
operands(const Entry *a, const Entry *b)
{
	if (a->kind == FORMULA_VALUE_NUMBER && b->kind == FORMULA_VALUE_NUMBER)
		return 1;
	if (a->kind == FORMULA_VALUE_OBJECT || b->kind == FORMULA_VALUE_OBJECT)
		return -1;
	return 0;
}

static const char NOT_NUMBER[] = "expected a number, found an object";
static const char INTERRUPTED[] = "interrupted";

/*
 * Work for the interrupt hook (mem.h): a unit per instruction and, for an
 * operation on numbers, one per digit it reads (comparing or copying values
 * of 32768 digits is not free; multiplication and division count their own
 * digit loops besides).  run() counts in a local budget, a register, and
 * hands the units to deg_work_check a batch at a time; its first batch is
 * no larger than what is left of the interval, so the hook is asked on time.
 */
#define RUN_WORK_BATCH 1024

typedef struct WorkBudget
{
	int32_t		left;			/* units of this batch not used yet */
	int32_t		batch;			/* units this batch had */
} WorkBudget;

static inline void
budget_init(WorkBudget *b)
{
	b->batch = deg_work_left < 1 ? 1 :
		deg_work_left < RUN_WORK_BATCH ? deg_work_left : RUN_WORK_BATCH;
	b->left = b->batch;
}

/* true: the hook said stop */
static inline bool
spend(WorkBudget *b, int32_t units)
{
	int32_t		used;

	b->left -= units;
	if (b->left > 0)
		return false;
	used = b->batch - b->left;
	b->batch = b->left = RUN_WORK_BATCH;
	return deg_work_check(used);
}

static inline int32_t
digits_of(const Decimal *a, const Decimal *b)
{
	return a->ndigits + (b != NULL ? b->ndigits : 0);
}

/* whether d is a whole number */
static bool
is_integral(const Decimal *d)
{
	return d->ndigits == 0 || d->weight >= d->ndigits - 1;
}

static FormulaResult
run(const FormulaProgram *p, const FormulaEnv *env, FormulaStack *stack,
	Decimal *result, FormulaError *err)
{
	const Instr *code = p->code;
	Entry	   *st;
	Entry	   *a;
	Entry	   *b;
	int			sp = 0;
	int			pc = 0;
	int			r;
	WorkBudget	budget;
	DecError	derr;

	if (p->nslots > 0 && (env == NULL || env->slots == NULL || env->nslots < p->nslots))
		return eval_error(err, 0, "not enough slot values for the formula");
	if (!stack_reserve(stack, p->max_depth))
		return eval_error(err, 0, "out of memory");
	st = stack->entries;
	budget_init(&budget);

	while (pc < p->ncode)
	{
		const Instr *in = &code[pc++];

		/*
		 * Between instructions every entry is a valid value, so the hook may
		 * stop here, or raise an error and not return (in the server).
		 */
		if (spend(&budget, 1))
			return eval_error(err, in->col, INTERRUPTED);
		switch (in->op)
		{
			case OP_CONST:
				a = &st[sp++];
				a->kind = FORMULA_VALUE_NUMBER;
				a->num = &p->consts[in->a];
				break;
			case OP_SLOT:
				{
					const FormulaValue *v = &env->slots[in->a];

					a = &st[sp++];
					a->kind = v->kind;
					if (v->kind == FORMULA_VALUE_NUMBER)
						a->num = &v->number;
					else if (v->kind == FORMULA_VALUE_OBJECT)
						a->obj = v->object;
					else if (v->kind != FORMULA_VALUE_MISSING)
						return eval_error(err, 0, "invalid slot value kind");
				}
				break;
			case OP_NEG:
			case OP_ABS:
			case OP_FLOOR:
			case OP_CEIL:
			case OP_ROUND:
				a = &st[sp - 1];
				if (a->kind == FORMULA_VALUE_OBJECT)
					return eval_error(err, in->col, NOT_NUMBER);
				if (a->kind == FORMULA_VALUE_MISSING)
					break;
				if (spend(&budget, digits_of(a->num, NULL)))
					return eval_error(err, in->col, INTERRUPTED);
				if (unary_fns[in->op] (&a->own, a->num, &derr) != DEC_OK)
					return eval_error(err, in->col, derr.message);
				a->num = &a->own;
				break;
			case OP_ADD:
			case OP_SUB:
			case OP_MUL:
			case OP_DIV:
			case OP_MIN:
			case OP_MAX:
				b = &st[--sp];
				a = &st[sp - 1];
				r = operands(a, b);
				if (r < 0)
					return eval_error(err, in->col, NOT_NUMBER);
				if (r == 0)
				{
					a->kind = FORMULA_VALUE_MISSING;
					break;
				}
				if (spend(&budget, digits_of(a->num, b->num)))
					return eval_error(err, in->col, INTERRUPTED);
				if (binary_fns[in->op] (&a->own, a->num, b->num, &derr) != DEC_OK)
					return eval_error(err, in->col, derr.message);
				a->num = &a->own;
				break;
			case OP_LT:
			case OP_LE:
			case OP_GT:
			case OP_GE:
			case OP_EQ:
			case OP_NE:
				{
					int			cmp;
					bool		truth;

					b = &st[--sp];
					a = &st[sp - 1];
					r = operands(a, b);
					if (r < 0)
						return eval_error(err, in->col, NOT_NUMBER);
					if (r == 0)
					{
						a->kind = FORMULA_VALUE_MISSING;
						break;
					}
					if (spend(&budget, digits_of(a->num, b->num)))
						return eval_error(err, in->col, INTERRUPTED);
					cmp = dec_cmp(a->num, b->num);
					truth = in->op == OP_LT ? cmp < 0 : in->op == OP_LE ? cmp <= 0 :
						in->op == OP_GT ? cmp > 0 : in->op == OP_GE ? cmp >= 0 :
						in->op == OP_EQ ? cmp == 0 : cmp != 0;
					a->num = truth ? &DEC_ONE : &DEC_ZERO;
				}
				break;
			case OP_ROUND2:
				{
					int64_t		scale;

					b = &st[--sp];
					a = &st[sp - 1];
					r = operands(a, b);
					if (r < 0)
						return eval_error(err, in->col, NOT_NUMBER);
					if (r == 0)
					{
						a->kind = FORMULA_VALUE_MISSING;
						break;
					}
					/* numeric's round(x, int): the scale is an integer */
					if (!is_integral(b->num))
						return eval_error(err, in->col, "the scale of round must be a whole number");
					if (dec_to_int64(b->num, &scale, NULL) != DEC_OK ||
						scale > INT_MAX || scale < INT_MIN)
						return eval_error(err, in->col, "the scale of round is out of range");
					if (spend(&budget, digits_of(a->num, NULL)))
						return eval_error(err, in->col, INTERRUPTED);
					if (dec_round(&a->own, a->num, (int) scale, DEC_ROUND_HALF_AWAY, &derr) != DEC_OK)
						return eval_error(err, in->col, derr.message);
					a->num = &a->own;
				}
				break;
			case OP_TARIFF:
				{
					int			n = (int) in->a;
					int			base = sp - n;
					const char *fname = in->b ? "computeTariffPrice" : "tariff";
					bool		missing = false;
					FormulaError terr;
					FormulaResult tr;
					int			i;

					for (i = 0; i < n; i++)
					{
						b = &st[base + i];
						if (i == 0 && b->kind == FORMULA_VALUE_NUMBER)
						{
							fail_at(err, in->col, "%s expects a tariff object as its first argument", fname);
							msg_add(err, " (found a number)");
							return FORMULA_RESULT_ERROR;
						}
						if (i > 0 && b->kind == FORMULA_VALUE_OBJECT)
							return eval_error(err, in->col, NOT_NUMBER);
						if (b->kind == FORMULA_VALUE_MISSING)
							missing = true;
					}
					sp = base + 1;
					a = &st[base];
					if (missing)
					{
						a->kind = FORMULA_VALUE_MISSING;
						break;
					}
					if (env->tariff == NULL)
					{
						fail_at(err, in->col, "%s cannot be evaluated here", fname);
						msg_add(err, " (no tariff engine)");
						return FORMULA_RESULT_ERROR;
					}
					for (i = 0; i < n; i++)
					{
						FormulaValue *v = &stack->args[i];

						b = &st[base + i];
						v->kind = b->kind;
						v->object = b->kind == FORMULA_VALUE_OBJECT ? b->obj : NULL;
						/* lent to the engine: a shallow view, never freed through it */
						if (b->kind == FORMULA_VALUE_NUMBER)
							memcpy(&v->number, b->num, sizeof(Decimal));
						else
							dec_init(&v->number);
					}
					terr.column = 0;
					terr.message[0] = '\0';
					tr = env->tariff(env->tariff_context, stack->args, n, &a->own, &terr);
					if (tr == FORMULA_RESULT_VALUE)
					{
						a->kind = FORMULA_VALUE_NUMBER;
						a->num = &a->own;
					}
					else if (tr == FORMULA_RESULT_MISSING)
						a->kind = FORMULA_VALUE_MISSING;
					else
					{
						fail_at(err, in->col, "%s", terr.message[0] ? terr.message : "the tariff engine failed");
						return FORMULA_RESULT_ERROR;
					}
				}
				break;
			case OP_JUMP:
				pc = (int) in->a;
				break;
			case OP_IF:
				a = &st[sp - 1];
				if (a->kind == FORMULA_VALUE_MISSING)
				{
					pc = (int) in->b;	/* the missing condition stays as the result */
					break;
				}
				if (a->kind == FORMULA_VALUE_OBJECT)
					return eval_error(err, in->col, NOT_NUMBER);
				sp--;
				if (dec_is_zero(a->num))
					pc = (int) in->a;
				break;
			case OP_COALESCE:
				if (st[sp - 1].kind != FORMULA_VALUE_MISSING)
					pc = (int) in->a;
				else
					sp--;
				break;
		}
	}

	/* the units of the last batch count too (the work is done: no stopping now) */
	(void) deg_work_check(budget.batch - budget.left);

	a = &st[0];
	if (a->kind == FORMULA_VALUE_MISSING)
		return FORMULA_RESULT_MISSING;
	if (a->kind == FORMULA_VALUE_OBJECT)
		return eval_error(err, 1, "the formula gives an object, not a number");
	if (dec_copy(result, a->num, &derr) != DEC_OK)
		return eval_error(err, 0, derr.message);
	return FORMULA_RESULT_VALUE;
}

FormulaResult
formula_eval(const FormulaProgram *p, const FormulaEnv *env, FormulaStack *stack,
			 Decimal *result, FormulaError *err)
{
	FormulaError local;
	FormulaStack *temp = NULL;
	FormulaResult r;

	if (err == NULL)
		err = &local;
	if (stack == NULL)
	{
		temp = stack = formula_stack_create();
		if (stack == NULL)
			return eval_error(err, 0, "out of memory");
	}
	r = run(p, env, stack, result, err);
	formula_stack_free(temp);
	return r;
}
