/*
 * decimal.h: exact decimal arithmetic with PostgreSQL numeric semantics,
 * without PostgreSQL.
 *
 * Money flows, market clearing and tariffs are computed on these values, so
 * that the same inputs give the same cents on every machine and the same
 * result as the equivalent SQL over numeric columns.
 *
 * Representation (identical to numeric's binary wire format, numeric_send
 * and numeric_recv):
 *
 *   value = sign * sum(digits[i] * 10000^(weight - i)), i = 0 .. ndigits-1
 *
 *   digits   base-10000 digits, each 0..9999, most significant first
 *   weight   power of 10000 of digits[0] (negative for values below 1)
 *   sign     DEC_POS (0x0000) or DEC_NEG (0x4000), numeric's sign words
 *   dscale   display scale: decimal digits after the point (0..16383)
 *
 * A stored value is normalized as numeric stores it: no leading or trailing
 * zero digits, no nonzero digit beyond dscale, and zero is ndigits 0,
 * weight 0, positive.  So (ndigits, weight, sign, dscale, digits) is exactly
 * what numeric_send writes, and -12.3400 is {2, 0, DEC_NEG, 4, {12, 3400}}.
 * NaN and the infinities are not values here: deg treats them as errors.
 *
 * Limits are numeric's: 131072 digits before the point (weight <= 32767)
 * and 16383 after; a result beyond them is DEC_ERR_OVERFLOW.
 *
 * Memory: up to DEC_INLINE_DIGITS digits (32 decimal digits) live inside
 * the struct, longer values in a buffer from deg_alloc.  A Decimal is set
 * up with dec_init (or DEC_INIT), released with dec_free, and may be moved
 * with memcpy (it holds no pointer into itself), but copied only with
 * dec_copy.  Every result argument must be an initialized Decimal and may be
 * the same object as an operand.  On error a result is left unchanged.
 *
 * Interrupts: multiplication, division and the linear operations on values
 * long enough to need scratch memory count their digit operations with
 * deg_work_check (mem.h), so that even one division of 131072-digit values
 * is interruptible within a fraction of a millisecond.
 */
#ifndef DEG_CORE_DECIMAL_H
#define DEG_CORE_DECIMAL_H

#include "mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEC_NBASE 10000
#define DEC_DEC_DIGITS 4		/* decimal digits per base-10000 digit */

#define DEC_POS 0x0000
#define DEC_NEG 0x4000

#define DEC_MAX_WEIGHT 32767	/* 131072 decimal digits before the point */
#define DEC_MAX_DSCALE 16383	/* decimal digits after the point */
/* the rounding scale below which every value rounds to zero */
#define DEC_MIN_ROUND_SCALE (-(DEC_MAX_WEIGHT + 1) * DEC_DEC_DIGITS - 1)

/* numeric's division result scale bounds (select_div_scale) */
#define DEC_MIN_SIG_DIGITS 16
#define DEC_MAX_DISPLAY_SCALE 1000

#define DEC_INLINE_DIGITS 8

typedef struct Decimal
{
	int32_t		ndigits;		/* digits in use */
	int32_t		weight;			/* power of 10000 of the first digit */
	int32_t		dscale;			/* decimal digits after the point */
	uint16_t	sign;			/* DEC_POS or DEC_NEG */
	int32_t		capacity;		/* digits the heap buffer holds, 0 if none */
	int16_t    *heap;			/* deg_alloc'd digits, or NULL: inline */
	int16_t		inline_digits[DEC_INLINE_DIGITS];
} Decimal;

#define DEC_INIT {0, 0, 0, DEC_POS, 0, NULL, {0}}

typedef enum DecStatus
{
	DEC_OK = 0,
	DEC_ERR_SYNTAX,				/* malformed text; DecError.position says where */
	DEC_ERR_DIVISION_BY_ZERO,
	DEC_ERR_OVERFLOW,			/* beyond numeric's limits, or a double's range */
	DEC_ERR_INVALID,			/* NaN or infinity, malformed binary value */
	DEC_ERR_NOMEM,
	DEC_ERR_INTERRUPTED			/* the interrupt hook (mem.h) said stop */
} DecStatus;

typedef struct DecError
{
	DecStatus	status;
	size_t		position;		/* 1-based byte position in text, 0 if none */
	char		message[160];	/* lower case, no trailing period */
} DecError;

typedef enum DecRound
{
	DEC_ROUND_HALF_EVEN,		/* banker's rounding: deg's money rounding */
	DEC_ROUND_HALF_AWAY,		/* numeric's round(x, s) and division */
	DEC_ROUND_DOWN,				/* toward zero: trunc */
	DEC_ROUND_FLOOR,			/* toward minus infinity */
	DEC_ROUND_CEIL				/* toward plus infinity */
} DecRound;

/*
 * In every function below, err may be NULL; when it is not, a failure
 * fills it.  A function that returns DecStatus returns DEC_OK on success.
 */

/* lifecycle */
extern void dec_init(Decimal *d);	/* zero, scale 0 */
extern void dec_free(Decimal *d);	/* releases the heap; d is zero again */
extern DecStatus dec_copy(Decimal *res, const Decimal *src, DecError *err);

static inline const int16_t *
dec_digits(const Decimal *d)
{
	return d->heap ? d->heap : d->inline_digits;
}

/*
 * Text.  dec_from_text reads len bytes (need not be NUL-terminated) as
 * numeric_in does: surrounding whitespace, an optional sign, digits with
 * at most one point, an optional exponent ("1.5e3"); dscale is the number
 * of digits after the point minus the exponent, at least 0.  "NaN" and
 * "Infinity" are DEC_ERR_INVALID.  dec_format writes numeric_out's text:
 * no exponent, exactly dscale digits after the point.
 */
extern DecStatus dec_from_text(Decimal *res, const char *text, size_t len,
							   DecError *err);
extern size_t dec_text_size(const Decimal *d);	/* bytes including the NUL */
extern void dec_format(const Decimal *d, char *out);	/* dec_text_size bytes */
extern DecStatus dec_to_text(const Decimal *d, DegBuf *buf, DecError *err);	/* appends */

/* numbers */
extern DecStatus dec_from_int64(Decimal *res, int64_t value, DecError *err);
/* numeric::bigint: rounds half away from zero; out of range is overflow */
extern DecStatus dec_to_int64(const Decimal *d, int64_t *value, DecError *err);
/*
 * From a double through its shortest text that reads back as the same
 * double (so 0.1 is 0.1 and 1e-7 is 0.0000001).  NaN and infinities are
 * DEC_ERR_INVALID.  (numeric's float8::numeric keeps 15 digits instead.)
 */
extern DecStatus dec_from_double(Decimal *res, double value, DecError *err);
/*
 * numeric::float8: the nearest double; beyond its range (or a nonzero
 * value that would be 0) is overflow.  Both double conversions go through
 * snprintf/strtod and so expect LC_NUMERIC "C", which the server always
 * uses.
 */
extern DecStatus dec_to_double(const Decimal *d, double *value, DecError *err);

/*
 * Binary wire format.  dec_from_wire checks what numeric_recv checks (sign
 * words, digits 0..9999, dscale 0..16383; NaN and infinities are invalid),
 * drops digits hidden by dscale, and normalizes.  dec_send writes
 * numeric_send's bytes (big-endian int16s: ndigits, weight, sign, dscale,
 * digits); dec_recv reads exactly such bytes.
 */
extern DecStatus dec_from_wire(Decimal *res, int ndigits, int weight,
							   int sign, int dscale, const int16_t *digits,
							   DecError *err);
extern size_t dec_send_size(const Decimal *d);
extern void dec_send(const Decimal *d, uint8_t *out);	/* dec_send_size bytes */
extern DecStatus dec_recv(Decimal *res, const uint8_t *bytes, size_t len,
						  DecError *err);

/* comparison: -1, 0 or 1; scale does not matter (1.0 = 1.00) */
extern int	dec_cmp(const Decimal *a, const Decimal *b);
extern int	dec_sign(const Decimal *d);
extern bool dec_is_zero(const Decimal *d);

/*
 * Arithmetic, each numeric's operator.  add, sub: exact, dscale the larger
 * of the two.  mul: exact, dscale the sum (rounded half away from zero to
 * 16383 places if the sum is larger).  div: numeric's "/": the scale of
 * select_div_scale (at least 16 significant digits, at least either
 * operand's dscale, at most 1000), rounded half away from zero.  mod:
 * a - trunc(a / b) * b, the sign of a.  div_trunc: numeric's div(a, b).
 */
extern DecStatus dec_add(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
extern DecStatus dec_sub(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
extern DecStatus dec_mul(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
extern DecStatus dec_div(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
extern DecStatus dec_mod(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
extern DecStatus dec_div_trunc(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
/* the scale "/" would give a / b (numeric's select_div_scale) */
extern int	dec_div_result_scale(const Decimal *a, const Decimal *b);

/*
 * a / b rounded once, exactly, to scale decimal places with mode; dscale
 * is max(scale, 0).  Scales are limited as in dec_round.
 */
extern DecStatus dec_div_round(Decimal *res, const Decimal *a, const Decimal *b,
							   int scale, DecRound mode, DecError *err);

/* sign; dscale kept, zero stays positive */
extern DecStatus dec_abs(Decimal *res, const Decimal *a, DecError *err);
extern DecStatus dec_negate(Decimal *res, const Decimal *a, DecError *err);

/* SQL's LEAST and GREATEST: on a tie the first argument (and its dscale) */
extern DecStatus dec_min(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);
extern DecStatus dec_max(Decimal *res, const Decimal *a, const Decimal *b, DecError *err);

/*
 * Round to scale decimal places (negative: to tens, hundreds...); dscale
 * becomes max(scale, 0), as numeric's round(x, s) and trunc(x, s) do.  A
 * scale above 16383 is taken as 16383 and one below DEC_MIN_ROUND_SCALE as
 * that, as numeric does.  Rounding up can overflow.
 */
extern DecStatus dec_round(Decimal *res, const Decimal *a, int scale,
						   DecRound mode, DecError *err);
extern DecStatus dec_trunc(Decimal *res, const Decimal *a, int scale, DecError *err);
extern DecStatus dec_floor(Decimal *res, const Decimal *a, DecError *err);	/* dscale 0 */
extern DecStatus dec_ceil(Decimal *res, const Decimal *a, DecError *err);	/* dscale 0 */

#endif							/* DEG_CORE_DECIMAL_H */
