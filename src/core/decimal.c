/*
 * decimal.c: exact decimal arithmetic with PostgreSQL numeric semantics.
 *
 * Values are stored normalized, exactly as numeric_send writes them (see
 * decimal.h).  Arithmetic works on base-10000 digits held in int32 scratch
 * arrays, on the stack while they are short, so the common case (amounts of
 * a few digits) allocates nothing; a result is then stripped, checked
 * against numeric's limits and copied into its Decimal.
 *
 * Division is done on integers: a / b at scale s is floor(A * 10^e / B)
 * for the digit strings A and B and a decimal shift e, with the exact
 * remainder deciding the rounding.  So every rounding mode is exact, and
 * numeric's "/" (rounded half away from zero at select_div_scale's scale)
 * is one case of it.
 */
#include "decimal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NBASE DEC_NBASE
#define DEC_DIGITS DEC_DEC_DIGITS

/* numeric's sign words for the special values it has and deg refuses */
#define NUMERIC_NAN 0xC000
#define NUMERIC_PINF 0xD000
#define NUMERIC_NINF 0xF000

/* numeric_in rejects exponents from INT_MAX / 2 on, before anything else */
#define EXPONENT_LIMIT 1073741823

/* scratch digits kept on the stack before falling back to deg_alloc */
#define LOCAL_DIGITS 48

static const int32_t pow10_table[5] = {1, 10, 100, 1000, 10000};

/* ---------- errors ---------- */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static DecStatus
fail(DecError *err, DecStatus status, size_t position, const char *fmt,...)
{
	va_list		args;

	if (err != NULL)
	{
		err->status = status;
		err->position = position;
		va_start(args, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, args);
		va_end(args);
	}
	return status;
}

static DecStatus
fail_overflow(DecError *err)
{
	return fail(err, DEC_ERR_OVERFLOW, 0, "value overflows numeric format");
}

static DecStatus
fail_nomem(DecError *err)
{
	return fail(err, DEC_ERR_NOMEM, 0, "out of memory");
}

static DecStatus
fail_div0(DecError *err)
{
	return fail(err, DEC_ERR_DIVISION_BY_ZERO, 0, "division by zero");
}

static DecStatus
fail_interrupted(DecError *err)
{
	return fail(err, DEC_ERR_INTERRUPTED, 0, "interrupted");
}

/* ---------- scratch digit arrays ---------- */

typedef struct Work
{
	int32_t		local[LOCAL_DIGITS];
	int32_t    *heap;
} Work;

/* n zeroed digits, from the stack buffer when they fit; NULL when out of memory */
static int32_t *
work_get(Work *w, int64_t n)
{
	int32_t    *digits;

	w->heap = NULL;
	if (n < 1)
		n = 1;
	if (n <= LOCAL_DIGITS)
		digits = w->local;
	else
	{
		if ((uint64_t) n > SIZE_MAX / sizeof(int32_t))
			return NULL;
		digits = w->heap = deg_alloc((size_t) n * sizeof(int32_t));
		if (digits == NULL)
			return NULL;
	}
	memset(digits, 0, (size_t) n * sizeof(int32_t));
	return digits;
}

static void
work_release(Work *w)
{
	deg_free(w->heap);
	w->heap = NULL;
}

/*
 * Count units of digit work on w's digits for the interrupt hook (mem.h):
 * true means stop.  Only work on scratch from the heap counts, so the hook
 * (which in the server may raise an error and not return) is only called
 * in an operation that has just allocated, never in one on short values.
 */
static inline bool
work_interrupted(const Work *w, int64_t units)
{
	return w->heap != NULL &&
		deg_work_check(units > INT32_MAX / 2 ? INT32_MAX / 2 : (int32_t) units);
}

/* ---------- storing results ---------- */

void
dec_init(Decimal *d)
{
	d->ndigits = 0;
	d->weight = 0;
	d->dscale = 0;
	d->sign = DEC_POS;
	d->capacity = 0;
	d->heap = NULL;
}

void
dec_free(Decimal *d)
{
	deg_free(d->heap);
	dec_init(d);
}

/* room for n digits in d; the old digits are not kept */
static bool
reserve(Decimal *d, int n)
{
	int			capacity;
	int16_t    *heap;

	if (d->heap == NULL ? n <= DEC_INLINE_DIGITS : n <= d->capacity)
		return true;
	capacity = n < 16 ? 16 : n;
	heap = deg_alloc((size_t) capacity * sizeof(int16_t));
	if (heap == NULL)
		return false;
	deg_free(d->heap);
	d->heap = heap;
	d->capacity = capacity;
	return true;
}

/*
 * Store a computed magnitude into res: strip zero digits, normalize zero,
 * check numeric's limits.  digits never point into res.
 */
static DecStatus
store(Decimal *res, const int32_t *digits, int n, int weight, int sign,
	  int dscale, DecError *err)
{
	int16_t    *out;
	int			i;

	while (n > 0 && digits[0] == 0)
	{
		digits++;
		n--;
		weight--;
	}
	while (n > 0 && digits[n - 1] == 0)
		n--;
	if (n == 0)
	{
		weight = 0;
		sign = DEC_POS;
	}
	if (weight > DEC_MAX_WEIGHT || weight < -DEC_MAX_WEIGHT - 1 ||
		dscale > DEC_MAX_DSCALE)
		return fail_overflow(err);
	if (!reserve(res, n))
		return fail_nomem(err);
	out = res->heap ? res->heap : res->inline_digits;
	for (i = 0; i < n; i++)
		out[i] = (int16_t) digits[i];
	res->ndigits = n;
	res->weight = weight;
	res->sign = (uint16_t) sign;
	res->dscale = dscale;
	return DEC_OK;
}

/* copy a (already normalized) value with a new sign */
static DecStatus
assign(Decimal *res, const Decimal *src, int sign, DecError *err)
{
	if (src->ndigits == 0)
		sign = DEC_POS;
	if (res != src)
	{
		if (!reserve(res, src->ndigits))
			return fail_nomem(err);
		memcpy(res->heap ? res->heap : res->inline_digits, dec_digits(src),
			   (size_t) src->ndigits * sizeof(int16_t));
		res->ndigits = src->ndigits;
		res->weight = src->weight;
		res->dscale = src->dscale;
	}
	res->sign = (uint16_t) sign;
	return DEC_OK;
}

DecStatus
dec_copy(Decimal *res, const Decimal *src, DecError *err)
{
	return assign(res, src, src->sign, err);
}

/* ---------- comparison ---------- */

static int
cmp_abs(const Decimal *a, const Decimal *b)
{
	const int16_t *da = dec_digits(a);
	const int16_t *db = dec_digits(b);
	int			i;

	if (a->ndigits == 0 || b->ndigits == 0)
		return (a->ndigits != 0) - (b->ndigits != 0);
	if (a->weight != b->weight)
		return a->weight > b->weight ? 1 : -1;
	for (i = 0; i < a->ndigits && i < b->ndigits; i++)
	{
		if (da[i] != db[i])
			return da[i] > db[i] ? 1 : -1;
	}
	/* normalized: the longer one has a nonzero digit left */
	return (a->ndigits > i) - (b->ndigits > i);
}

int
dec_sign(const Decimal *d)
{
	if (d->ndigits == 0)
		return 0;
	return d->sign == DEC_NEG ? -1 : 1;
}

bool
dec_is_zero(const Decimal *d)
{
	return d->ndigits == 0;
}

int
dec_cmp(const Decimal *a, const Decimal *b)
{
	int			sa = dec_sign(a);
	int			sb = dec_sign(b);

	if (sa != sb)
		return sa > sb ? 1 : -1;
	return sa >= 0 ? cmp_abs(a, b) : -cmp_abs(a, b);
}

/* ---------- addition and subtraction ---------- */

/* digit of d at weight w, 0 outside its digits */
static int32_t
digit_at(const Decimal *d, const int16_t *digits, int w)
{
	int			i = d->weight - w;

	return (i >= 0 && i < d->ndigits) ? digits[i] : 0;
}

/* lowest weight of a nonzero value's digits */
static int
low_weight(const Decimal *d)
{
	return d->weight - d->ndigits + 1;
}

/*
 * |a| + |b| (subtract false) or |a| - |b| (subtract true, |a| >= |b|) into
 * out, which has room for n = top - low + 1 digits, the first at weight top.
 */
static void
add_sub_abs(const Decimal *a, const Decimal *b, bool subtract,
			int32_t *out, int top, int low)
{
	const int16_t *da = dec_digits(a);
	const int16_t *db = dec_digits(b);
	int32_t		carry = 0;
	int			w;

	for (w = low; w <= top; w++)
	{
		int32_t		t;

		if (subtract)
			t = digit_at(a, da, w) - digit_at(b, db, w) - carry;
		else
			t = digit_at(a, da, w) + digit_at(b, db, w) + carry;
		if (t < 0)
		{
			t += NBASE;
			carry = 1;
		}
		else if (t >= NBASE)
		{
			t -= NBASE;
			carry = 1;
		}
		else
			carry = 0;
		out[top - w] = t;
	}
}

/* a + b, with b's sign taken as bsign */
static DecStatus
add_signed(Decimal *res, const Decimal *a, const Decimal *b, int bsign,
		   DecError *err)
{
	int			dscale = a->dscale > b->dscale ? a->dscale : b->dscale;
	const Decimal *big;
	const Decimal *small;
	int			sign;
	bool		subtract;
	int			top;
	int			low;
	int32_t    *out;
	Work		w;
	DecStatus	status;

	if (a->ndigits == 0 || b->ndigits == 0)
	{
		status = a->ndigits == 0 ? assign(res, b, bsign, err) :
			assign(res, a, a->sign, err);
		if (status == DEC_OK)
			res->dscale = dscale;
		return status;
	}

	if (a->sign == bsign)
	{
		big = a;
		small = b;
		sign = a->sign;
		subtract = false;
	}
	else if (cmp_abs(a, b) >= 0)
	{
		big = a;
		small = b;
		sign = a->sign;
		subtract = true;
	}
	else
	{
		big = b;
		small = a;
		sign = bsign;
		subtract = true;
	}

	/* one digit above the larger weight takes a carry */
	top = (a->weight > b->weight ? a->weight : b->weight) + 1;
	low = low_weight(a) < low_weight(b) ? low_weight(a) : low_weight(b);
	out = work_get(&w, (int64_t) top - low + 1);
	if (out == NULL)
		return fail_nomem(err);
	if (work_interrupted(&w, (int64_t) top - low + 1))
	{
		work_release(&w);
		return fail_interrupted(err);
	}
	add_sub_abs(big, small, subtract, out, top, low);
	status = store(res, out, top - low + 1, top, sign, dscale, err);
	work_release(&w);
	return status;
}

DecStatus
dec_add(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	return add_signed(res, a, b, b->sign, err);
}

DecStatus
dec_sub(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	return add_signed(res, a, b, b->sign == DEC_NEG ? DEC_POS : DEC_NEG, err);
}

/* ---------- rounding ---------- */

static int64_t
floor_div4(int64_t x)
{
	return x >= 0 ? x / 4 : -((-x + 3) / 4);
}

/*
 * Whether dropping a nonzero remainder rounds the kept magnitude up.  half
 * compares the remainder with half a unit (-1, 0, 1); inexact says whether
 * anything is dropped at all; odd is the parity of the last kept digit.
 */
static bool
rounds_up(DecRound mode, bool negative, int half, bool inexact, bool odd)
{
	if (!inexact)
		return false;
	switch (mode)
	{
		case DEC_ROUND_HALF_EVEN:
			return half > 0 || (half == 0 && odd);
		case DEC_ROUND_HALF_AWAY:
			return half >= 0;
		case DEC_ROUND_DOWN:
			return false;
		case DEC_ROUND_FLOOR:
			return negative;
		case DEC_ROUND_CEIL:
			return !negative;
	}
	return false;
}

static bool
valid_mode(DecRound mode)
{
	return mode == DEC_ROUND_HALF_EVEN || mode == DEC_ROUND_HALF_AWAY ||
		mode == DEC_ROUND_DOWN || mode == DEC_ROUND_FLOOR ||
		mode == DEC_ROUND_CEIL;
}

static int
clamp_scale(int scale)
{
	if (scale > DEC_MAX_DSCALE)
		return DEC_MAX_DSCALE;
	if (scale < DEC_MIN_ROUND_SCALE)
		return DEC_MIN_ROUND_SCALE;
	return scale;
}

/*
 * Round the magnitude (*digits)[0 .. *n), first digit at *weight, in place
 * to scale decimal places.  (*digits)[-1] and (*digits)[-2] must exist and
 * be zero: a carry out of the first digit, or a unit just above it, lands
 * there and *digits moves back.
 */
static void
round_work(int32_t **digits, int *n, int *weight, int scale, DecRound mode,
		   bool negative)
{
	int32_t    *d = *digits;
	int			unit_weight = (int) floor_div4(-(int64_t) scale);
	int			k = -scale - unit_weight * DEC_DIGITS;	/* dropped digits in the unit's digit */
	int32_t		unit = pow10_table[k];
	int64_t		i = (int64_t) *weight - unit_weight;	/* index of the unit's digit */
	int			first;
	bool		rest = false;
	bool		odd;
	int			half;
	int			j;

	if (*n == 0 || i >= *n)
		return;
	if (i <= -2)
	{
		/* below a ten-thousandth of a unit: zero, or one unit away from it */
		bool		up = rounds_up(mode, negative, -1, true, false);

		*n = up ? 1 : 0;
		d[0] = unit;
		*weight = unit_weight;
		return;
	}
	if (i == -1)
	{
		d--;
		(*n)++;
		(*weight)++;
		i = 0;
	}

	if (k > 0)
	{
		int32_t		low = d[i] % unit;

		first = low / (unit / 10);
		rest = low % (unit / 10) != 0;
		d[i] -= low;
		odd = (d[i] / unit) % 2 != 0;
		j = (int) i + 1;
	}
	else
	{
		first = i + 1 < *n ? d[i + 1] / 1000 : 0;
		rest = i + 1 < *n && d[i + 1] % 1000 != 0;
		odd = d[i] % 2 != 0;
		j = (int) i + 2;
	}
	for (; j < *n && !rest; j++)
		rest = d[j] != 0;
	half = first > 5 || (first == 5 && rest) ? 1 : (first == 5 ? 0 : -1);
	*n = (int) i + 1;

	if (rounds_up(mode, negative, half, first != 0 || rest, odd))
	{
		d[i] += unit;
		for (j = (int) i; j >= 0 && d[j] >= NBASE; j--)
		{
			d[j] -= NBASE;
			d[j - 1]++;
		}
		if (j < 0)
		{
			d--;
			(*n)++;
			(*weight)++;
		}
	}
	*digits = d;
}

DecStatus
dec_round(Decimal *res, const Decimal *a, int scale, DecRound mode,
		  DecError *err)
{
	Work		w;
	int32_t    *buf;
	int32_t    *d;
	int			n = a->ndigits;
	int			weight = a->weight;
	const int16_t *src = dec_digits(a);
	int			i;
	DecStatus	status;

	if (!valid_mode(mode))
		return fail(err, DEC_ERR_INVALID, 0, "invalid rounding mode %d", (int) mode);
	scale = clamp_scale(scale);
	buf = work_get(&w, (int64_t) n + 2);
	if (buf == NULL)
		return fail_nomem(err);
	if (work_interrupted(&w, n))
	{
		work_release(&w);
		return fail_interrupted(err);
	}
	d = buf + 2;
	for (i = 0; i < n; i++)
		d[i] = src[i];
	round_work(&d, &n, &weight, scale, mode, a->sign == DEC_NEG);
	status = store(res, d, n, weight, a->sign, scale > 0 ? scale : 0, err);
	work_release(&w);
	return status;
}

DecStatus
dec_trunc(Decimal *res, const Decimal *a, int scale, DecError *err)
{
	return dec_round(res, a, scale, DEC_ROUND_DOWN, err);
}

DecStatus
dec_floor(Decimal *res, const Decimal *a, DecError *err)
{
	return dec_round(res, a, 0, DEC_ROUND_FLOOR, err);
}

DecStatus
dec_ceil(Decimal *res, const Decimal *a, DecError *err)
{
	return dec_round(res, a, 0, DEC_ROUND_CEIL, err);
}

/* ---------- multiplication ---------- */

static int
nonzero_digits(const int16_t *digits, int n)
{
	int			count = 0;
	int			i;

	for (i = 0; i < n; i++)
		count += digits[i] != 0;
	return count;
}

DecStatus
dec_mul(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	int			dscale = a->dscale + b->dscale;
	int			na = a->ndigits;
	int			nb = b->ndigits;
	const int16_t *da = dec_digits(a);
	const int16_t *db = dec_digits(b);
	int			sign = a->sign == b->sign ? DEC_POS : DEC_NEG;
	Work		w;
	int32_t    *buf;
	int32_t    *d;
	int			n;
	int			weight;
	int			i,
				j;
	DecStatus	status;

	if (na == 0 || nb == 0)
	{
		int32_t		none = 0;

		return store(res, &none, 0, 0, DEC_POS,
					 dscale > DEC_MAX_DSCALE ? DEC_MAX_DSCALE : dscale, err);
	}

	/* two spare leading digits for round_work */
	buf = work_get(&w, (int64_t) na + nb + 2);
	if (buf == NULL)
		return fail_nomem(err);
	d = buf + 2;
	n = na + nb;
	weight = a->weight + b->weight + 1;

	/*
	 * A row per digit of a, and none for a zero digit (as numeric's mul_var):
	 * long values are often sparse (1e65000 + 1 is 16251 digits, two of
	 * them nonzero), so rows run over the operand with fewer nonzero digits.
	 */
	if (w.heap != NULL && nonzero_digits(db, nb) < nonzero_digits(da, na))
	{
		const int16_t *dt = da;
		int			nt = na;

		da = db;
		na = nb;
		db = dt;
		nb = nt;
	}
	for (i = na - 1; i >= 0; i--)
	{
		int32_t		carry = 0;

		if (da[i] == 0)
			continue;			/* d[i], which no row wrote yet, stays 0 */
		if (work_interrupted(&w, nb))
		{
			work_release(&w);
			return fail_interrupted(err);
		}
		for (j = nb - 1; j >= 0; j--)
		{
			int32_t		t = d[i + j + 1] + (int32_t) da[i] * db[j] + carry;

			d[i + j + 1] = t % NBASE;
			carry = t / NBASE;
		}
		d[i] = carry;
	}

	/* exact, unless the scale is more than numeric can hold */
	if (dscale > DEC_MAX_DSCALE)
	{
		dscale = DEC_MAX_DSCALE;
		round_work(&d, &n, &weight, dscale, DEC_ROUND_HALF_AWAY, sign == DEC_NEG);
	}
	status = store(res, d, n, weight, sign, dscale, err);
	work_release(&w);
	return status;
}

/* ---------- division ---------- */

/*
 * Integer division of magnitudes: q = floor(u / v), r = u mod v, base
 * 10000, most significant digit first; v[0] != 0, nv <= nu.  q has
 * nu - nv + 1 digits and r has nv.  (Knuth's algorithm D.)  Returns DEC_OK,
 * DEC_ERR_NOMEM or DEC_ERR_INTERRUPTED.
 */
static DecStatus
divmod_mag(const int32_t *u_in, int nu, const int32_t *v_in, int nv,
		   int32_t *q, int32_t *r)
{
	Work		uw,
				vw;
	int32_t    *u;
	int32_t    *v;
	int32_t		f;
	int32_t		carry;
	int			i,
				j;

	if (nv == 1)
	{
		int32_t		rem = 0;

		for (i = 0; i < nu; i++)
		{
			int32_t		t = rem * NBASE + u_in[i];

			q[i] = t / v_in[0];
			rem = t % v_in[0];
		}
		r[0] = rem;
		return DEC_OK;
	}

	u = work_get(&uw, (int64_t) nu + 1);
	v = work_get(&vw, nv);
	if (u == NULL || v == NULL)
	{
		work_release(&uw);
		work_release(&vw);
		return DEC_ERR_NOMEM;
	}

	/* scale both so that v's first digit is at least NBASE / 2 */
	f = NBASE / (v_in[0] + 1);
	carry = 0;
	for (i = nu - 1; i >= 0; i--)
	{
		int32_t		t = u_in[i] * f + carry;

		u[i + 1] = t % NBASE;
		carry = t / NBASE;
	}
	u[0] = carry;
	carry = 0;
	for (i = nv - 1; i >= 0; i--)
	{
		int32_t		t = v_in[i] * f + carry;

		v[i] = t % NBASE;
		carry = t / NBASE;
	}

	for (j = 0; j <= nu - nv; j++)
	{
		int32_t		top = u[j] * NBASE + u[j + 1];
		int32_t		qhat = top / v[0];
		int32_t		rhat = top % v[0];
		int32_t		borrow = 0;
		int32_t		t;

		if (work_interrupted(&uw, nv))
		{
			work_release(&uw);
			work_release(&vw);
			return DEC_ERR_INTERRUPTED;
		}
		while (qhat >= NBASE || qhat * v[1] > rhat * NBASE + u[j + 2])
		{
			qhat--;
			rhat += v[0];
			if (rhat >= NBASE)
				break;
		}

		/* u[j .. j+nv] -= qhat * v */
		carry = 0;
		for (i = nv - 1; i >= 0; i--)
		{
			int32_t		p = qhat * v[i] + carry;

			carry = p / NBASE;
			t = u[j + i + 1] - p % NBASE - borrow;
			borrow = t < 0;
			u[j + i + 1] = t + (borrow ? NBASE : 0);
		}
		u[j] -= carry + borrow;

		if (u[j] < 0)
		{
			/* qhat was one too large: add v back */
			carry = 0;
			for (i = nv - 1; i >= 0; i--)
			{
				t = u[j + i + 1] + v[i] + carry;
				carry = t >= NBASE;
				u[j + i + 1] = t - (carry ? NBASE : 0);
			}
			u[j] += carry;
			qhat--;
		}
		q[j] = qhat;
	}

	/* the remainder is in u's last nv digits, still scaled by f */
	carry = 0;
	for (i = 0; i < nv; i++)
	{
		int32_t		t = carry * NBASE + u[nu - nv + 1 + i];

		r[i] = t / f;
		carry = t % f;
	}
	work_release(&uw);
	work_release(&vw);
	return DEC_OK;
}

/* compare 2 * r with v, both nv digits: -1, 0, 1 */
static int
cmp_twice(const int32_t *r, const int32_t *v, int nv)
{
	Work		w;
	int32_t    *twice = work_get(&w, (int64_t) nv + 1);
	int32_t		carry = 0;
	int			result = 0;
	int			i;

	if (twice == NULL)
		return 2;
	for (i = nv - 1; i >= 0; i--)
	{
		int32_t		t = r[i] * 2 + carry;

		twice[i + 1] = t % NBASE;
		carry = t / NBASE;
	}
	twice[0] = carry;
	if (carry != 0)
		result = 1;
	for (i = 0; i < nv && result == 0; i++)
	{
		if (twice[i + 1] != v[i])
			result = twice[i + 1] > v[i] ? 1 : -1;
	}
	work_release(&w);
	return result;
}

/*
 * Write the digits of d times 10^shift (shift >= 0) into out: d's digits
 * times 10^(shift % 4), then shift / 4 zero digits, after one leading digit
 * for the carry.  Returns the number of digits written.
 */
static int
shifted_digits(const Decimal *d, int64_t shift, int32_t *out)
{
	const int16_t *src = dec_digits(d);
	int32_t		mult = pow10_table[shift % DEC_DIGITS];
	int32_t		carry = 0;
	int			i;

	for (i = d->ndigits - 1; i >= 0; i--)
	{
		int32_t		t = src[i] * mult + carry;

		out[i + 1] = t % NBASE;
		carry = t / NBASE;
	}
	out[0] = carry;
	/* the zero digits are already there: work_get zeroes its buffers */
	return d->ndigits + 1 + (int) (shift / DEC_DIGITS);
}

/*
 * The quotient of nonzero a and b at a decimal scale, truncated toward
 * zero: q = floor(N / D) for integers N and D with N / D = |a| / |b| *
 * 10^scale, with the remainder r = N mod D.  quotient() fills q (nq digits,
 * two spare zero digits before them), r and d (D, nd digits each); the
 * buffers belong to the Quotient until quotient_release, also on failure.
 * Returns DEC_OK, DEC_ERR_NOMEM or DEC_ERR_INTERRUPTED.
 */
typedef struct Quotient
{
	Work		nw,
				dw,
				qw,
				rw;
	int32_t    *q;
	int			nq;
	int32_t    *r;
	int32_t    *d;
	int			nd;
} Quotient;

static void
quotient_release(Quotient *qt)
{
	work_release(&qt->nw);
	work_release(&qt->dw);
	work_release(&qt->qw);
	work_release(&qt->rw);
}

static DecStatus
quotient(const Decimal *a, const Decimal *b, int scale, Quotient *qt)
{
	int64_t		shift = (int64_t) DEC_DIGITS * (low_weight(a) - low_weight(b)) + scale;
	int64_t		nn_max = a->ndigits + 1 + (shift > 0 ? shift / DEC_DIGITS : 0);
	int64_t		nd_max = b->ndigits + 1 + (shift < 0 ? -shift / DEC_DIGITS : 0);
	int32_t    *num;
	int32_t    *den;
	int			nn,
				nd;

	qt->nw.heap = qt->dw.heap = qt->qw.heap = qt->rw.heap = NULL;
	num = work_get(&qt->nw, nn_max);
	den = work_get(&qt->dw, nd_max);
	if (num == NULL || den == NULL)
		return DEC_ERR_NOMEM;
	/* the shifts are linear work, long when the scales are far apart */
	if (work_interrupted(qt->nw.heap != NULL ? &qt->nw : &qt->dw, nn_max + nd_max))
		return DEC_ERR_INTERRUPTED;
	nn = shifted_digits(a, shift > 0 ? shift : 0, num);
	nd = shifted_digits(b, shift < 0 ? -shift : 0, den);
	while (nn > 0 && num[0] == 0)
	{
		num++;
		nn--;
	}
	while (den[0] == 0)
	{
		den++;
		nd--;
	}

	qt->d = den;
	qt->nd = nd;
	qt->r = work_get(&qt->rw, nd);
	if (qt->r == NULL)
		return DEC_ERR_NOMEM;
	if (nn < nd)
	{
		/* quotient zero, remainder the whole numerator */
		qt->q = work_get(&qt->qw, 3);
		if (qt->q == NULL)
			return DEC_ERR_NOMEM;
		qt->q += 2;
		qt->nq = 1;
		memcpy(qt->r + (nd - nn), num, (size_t) nn * sizeof(int32_t));
		return DEC_OK;
	}
	qt->nq = nn - nd + 1;
	qt->q = work_get(&qt->qw, (int64_t) qt->nq + 2);
	if (qt->q == NULL)
		return DEC_ERR_NOMEM;
	qt->q += 2;
	return divmod_mag(num, nn, den, nd, qt->q, qt->r);
}

static bool
is_zero_digits(const int32_t *d, int n)
{
	int			i;

	for (i = 0; i < n; i++)
	{
		if (d[i] != 0)
			return false;
	}
	return true;
}

DecStatus
dec_div_round(Decimal *res, const Decimal *a, const Decimal *b, int scale,
			  DecRound mode, DecError *err)
{
	Quotient	qt;
	int			sign = a->sign == b->sign ? DEC_POS : DEC_NEG;
	int			dscale;
	int			shift;
	int32_t    *q;
	int			nq;
	int			i;
	DecStatus	status;

	if (!valid_mode(mode))
		return fail(err, DEC_ERR_INVALID, 0, "invalid rounding mode %d", (int) mode);
	if (b->ndigits == 0)
		return fail_div0(err);
	scale = clamp_scale(scale);
	dscale = scale > 0 ? scale : 0;
	if (a->ndigits == 0)
		return store(res, NULL, 0, 0, DEC_POS, dscale, err);

	status = quotient(a, b, scale, &qt);
	if (status != DEC_OK)
	{
		quotient_release(&qt);
		return status == DEC_ERR_NOMEM ? fail_nomem(err) : fail_interrupted(err);
	}
	q = qt.q;
	nq = qt.nq;
	if (!is_zero_digits(qt.r, qt.nd))
	{
		int			half = cmp_twice(qt.r, qt.d, qt.nd);

		if (half == 2)
		{
			quotient_release(&qt);
			return fail_nomem(err);
		}
		if (rounds_up(mode, sign == DEC_NEG, half, true, q[nq - 1] % 2 != 0))
		{
			q[nq - 1]++;
			for (i = nq - 1; i >= 0 && q[i] >= NBASE; i--)
			{
				q[i] -= NBASE;
				q[i - 1]++;
			}
			if (i < 0)
			{
				q--;
				nq++;
			}
		}
	}

	/* q * 10^-scale: align to base-10000 digits by multiplying by 10^shift */
	shift = ((-scale) % DEC_DIGITS + DEC_DIGITS) % DEC_DIGITS;
	if (shift > 0)
	{
		int32_t		carry = 0;

		for (i = nq - 1; i >= 0; i--)
		{
			int32_t		t = q[i] * pow10_table[shift] + carry;

			q[i] = t % NBASE;
			carry = t / NBASE;
		}
		if (carry != 0)
		{
			q--;
			nq++;
			q[0] = carry;
		}
	}
	status = store(res, q, nq, nq - 1 + (-scale - shift) / DEC_DIGITS,
				   sign, dscale, err);
	quotient_release(&qt);
	return status;
}

int
dec_div_result_scale(const Decimal *a, const Decimal *b)
{
	int			weight1 = a->ndigits ? a->weight : 0;
	int			weight2 = b->ndigits ? b->weight : 0;
	int			first1 = a->ndigits ? dec_digits(a)[0] : 0;
	int			first2 = b->ndigits ? dec_digits(b)[0] : 0;
	int			qweight = weight1 - weight2;
	int			rscale;

	/* when the first digits are equal, assume a's are the smaller */
	if (first1 <= first2)
		qweight--;
	rscale = DEC_MIN_SIG_DIGITS - qweight * DEC_DIGITS;
	if (rscale < a->dscale)
		rscale = a->dscale;
	if (rscale < b->dscale)
		rscale = b->dscale;
	if (rscale < 0)
		rscale = 0;
	if (rscale > DEC_MAX_DISPLAY_SCALE)
		rscale = DEC_MAX_DISPLAY_SCALE;
	return rscale;
}

DecStatus
dec_div(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	return dec_div_round(res, a, b, dec_div_result_scale(a, b), DEC_ROUND_HALF_AWAY, err);
}

DecStatus
dec_div_trunc(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	return dec_div_round(res, a, b, 0, DEC_ROUND_DOWN, err);
}

DecStatus
dec_mod(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	Quotient	qt;
	int			dscale = a->dscale > b->dscale ? a->dscale : b->dscale;
	int			low;
	DecStatus	status;

	if (b->ndigits == 0)
		return fail_div0(err);
	if (a->ndigits == 0)
		return store(res, NULL, 0, 0, DEC_POS, dscale, err);

	/*
	 * a - trunc(a / b) * b is the remainder of the integer division at
	 * scale 0, in units of the lower of a's and b's last digit weights; q
	 * itself may be far beyond numeric's limits and is never stored.
	 */
	status = quotient(a, b, 0, &qt);
	if (status != DEC_OK)
	{
		quotient_release(&qt);
		return status == DEC_ERR_NOMEM ? fail_nomem(err) : fail_interrupted(err);
	}
	low = low_weight(a) < low_weight(b) ? low_weight(a) : low_weight(b);
	status = store(res, qt.r, qt.nd, qt.nd - 1 + low, a->sign, dscale, err);
	quotient_release(&qt);
	return status;
}

/* ---------- sign, min, max ---------- */

DecStatus
dec_abs(Decimal *res, const Decimal *a, DecError *err)
{
	return assign(res, a, DEC_POS, err);
}

DecStatus
dec_negate(Decimal *res, const Decimal *a, DecError *err)
{
	return assign(res, a, a->sign == DEC_NEG ? DEC_POS : DEC_NEG, err);
}

DecStatus
dec_min(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	return dec_copy(res, dec_cmp(b, a) < 0 ? b : a, err);
}

DecStatus
dec_max(Decimal *res, const Decimal *a, const Decimal *b, DecError *err)
{
	return dec_copy(res, dec_cmp(b, a) > 0 ? b : a, err);
}

/* ---------- text ---------- */

/* isspace() of the C locale, as numeric_in sees it in the server */
static bool
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

static bool
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* whether text[p..) starts with word, ignoring ASCII case */
static bool
has_word(const char *text, size_t len, size_t p, const char *word)
{
	size_t		n = strlen(word);
	size_t		i;

	if (len - p < n)
		return false;
	for (i = 0; i < n; i++)
	{
		unsigned char c = (unsigned char) text[p + i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char) (c - 'A' + 'a');
		if (c != (unsigned char) word[i])
			return false;
	}
	return true;
}

static DecStatus
fail_syntax(DecError *err, const char *text, size_t len, size_t p,
			const char *expected)
{
	unsigned char c;

	if (p >= len)
		return fail(err, DEC_ERR_SYNTAX, len + 1,
					"invalid input syntax for type numeric: expected %s at end of input",
					expected);
	c = (unsigned char) text[p];
	if (c > ' ' && c < 0x7f)
		return fail(err, DEC_ERR_SYNTAX, p + 1,
					"invalid input syntax for type numeric: expected %s at position %zu, found \"%c\"",
					expected, p + 1, c);
	return fail(err, DEC_ERR_SYNTAX, p + 1,
				"invalid input syntax for type numeric: expected %s at position %zu, found byte 0x%02x",
				expected, p + 1, c);
}

DecStatus
dec_from_text(Decimal *res, const char *text, size_t len, DecError *err)
{
	static const char *const specials[] = {
		"nan", "infinity", "+infinity", "-infinity", "inf", "+inf", "-inf"
	};
	size_t		p = 0;
	size_t		i;
	int			sign = DEC_POS;
	size_t		start;			/* first digit */
	size_t		end;			/* after the last digit */
	size_t		point = 0;		/* position of the point, if any */
	bool		have_point = false;
	int64_t		int_count = 0;	/* digits before the point */
	int64_t		frac_count = 0; /* digits after it */
	int64_t		exponent = 0;
	int64_t		dscale;
	int64_t		t0 = -1;		/* first and last nonzero digit, by index */
	int64_t		t1 = -1;
	int64_t		t;
	int64_t		top;
	int64_t		bottom;
	int			weight;
	int			n;
	Work		w;
	int32_t    *digits;
	DecStatus	status;

	while (p < len && is_space((unsigned char) text[p]))
		p++;

	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
	{
		if (has_word(text, len, p, specials[i]))
		{
			size_t		q = p + strlen(specials[i]);

			while (q < len && is_space((unsigned char) text[q]))
				q++;
			if (q < len)
				return fail_syntax(err, text, len, q, "end of input");
			return fail(err, DEC_ERR_INVALID, p + 1,
						i == 0 ? "NaN is not a valid decimal here" :
						"infinity is not a valid decimal here");
		}
	}

	if (p < len && (text[p] == '+' || text[p] == '-'))
	{
		sign = text[p] == '-' ? DEC_NEG : DEC_POS;
		p++;
	}
	start = p;
	if (p < len && text[p] == '.')
	{
		have_point = true;
		point = p;
		p++;
	}
	if (p >= len || !is_digit((unsigned char) text[p]))
		return fail_syntax(err, text, len, p, "a digit");
	for (; p < len; p++)
	{
		unsigned char c = (unsigned char) text[p];

		if (is_digit(c))
		{
			t = int_count + frac_count;
			if (c != '0')
			{
				if (t0 < 0)
					t0 = t;
				t1 = t;
			}
			if (have_point)
				frac_count++;
			else
				int_count++;
		}
		else if (c == '.' && !have_point)
		{
			have_point = true;
			point = p;
		}
		else if (c == '.')
			return fail_syntax(err, text, len, p, "a digit");
		else
			break;
	}
	end = p;

	if (p < len && (text[p] == 'e' || text[p] == 'E'))
	{
		bool		negative = false;

		/* what strtol accepts: blanks, a sign, digits */
		p++;
		while (p < len && is_space((unsigned char) text[p]))
			p++;
		if (p < len && (text[p] == '+' || text[p] == '-'))
		{
			negative = text[p] == '-';
			p++;
		}
		if (p >= len || !is_digit((unsigned char) text[p]))
			return fail_syntax(err, text, len, p, "an exponent");
		for (; p < len && is_digit((unsigned char) text[p]); p++)
		{
			if (exponent < EXPONENT_LIMIT)
				exponent = exponent * 10 + (text[p] - '0');
		}
		if (exponent >= EXPONENT_LIMIT)
			return fail_overflow(err);
		if (negative)
			exponent = -exponent;
	}

	while (p < len && is_space((unsigned char) text[p]))
		p++;
	if (p < len)
		return fail_syntax(err, text, len, p, "end of input");

	dscale = frac_count - exponent;
	if (dscale < 0)
		dscale = 0;
	if (dscale > DEC_MAX_DSCALE)
		return fail_overflow(err);
	if (t0 < 0)
		return store(res, NULL, 0, 0, DEC_POS, (int) dscale, err);

	/* decimal exponents of the first and last nonzero digits */
	top = int_count - 1 - t0 + exponent;
	bottom = int_count - 1 - t1 + exponent;
	if (floor_div4(top) > DEC_MAX_WEIGHT)
		return fail_overflow(err);
	/* bottom >= -dscale, so the digits below are bounded too */
	weight = (int) floor_div4(top);
	n = weight - (int) floor_div4(bottom) + 1;
	digits = work_get(&w, n);
	if (digits == NULL)
		return fail_nomem(err);

	t = 0;
	for (p = start; p < end; p++)
	{
		int64_t		e;

		if (have_point && p == point)
			continue;
		if (t >= t0 && t <= t1 && text[p] != '0')
		{
			e = int_count - 1 - t + exponent;
			digits[weight - floor_div4(e)] +=
				(text[p] - '0') * pow10_table[e - floor_div4(e) * DEC_DIGITS];
		}
		t++;
	}
	status = store(res, digits, n, weight, sign, (int) dscale, err);
	work_release(&w);
	return status;
}

size_t
dec_text_size(const Decimal *d)
{
	const int16_t *digits = dec_digits(d);
	size_t		size = 1;		/* the NUL */
	int			first;

	if (d->sign == DEC_NEG && d->ndigits > 0)
		size++;
	if (d->ndigits == 0 || d->weight < 0)
		size++;
	else
	{
		first = digits[0];
		size += (size_t) d->weight * DEC_DIGITS + 1;
		while (first >= 10)
		{
			first /= 10;
			size++;
		}
	}
	if (d->dscale > 0)
		size += (size_t) d->dscale + 1;
	return size;
}

void
dec_format(const Decimal *d, char *out)
{
	const int16_t *digits = dec_digits(d);
	char	   *o = out;
	int			w;
	int			i;

	if (d->sign == DEC_NEG && d->ndigits > 0)
		*o++ = '-';
	if (d->ndigits == 0 || d->weight < 0)
		*o++ = '0';
	else
	{
		/* the first digit without leading zeros, then four per digit */
		int			k = DEC_DIGITS - 1;

		while (k > 0 && digits[0] < pow10_table[k])
			k--;
		for (w = d->weight; w >= 0; w--)
		{
			int32_t		digit = digit_at(d, digits, w);

			for (; k >= 0; k--)
				*o++ = (char) ('0' + (digit / pow10_table[k]) % 10);
			k = DEC_DIGITS - 1;
		}
	}
	if (d->dscale > 0)
	{
		*o++ = '.';
		for (i = 0; i < d->dscale; i++)
		{
			int			w2 = -1 - i / DEC_DIGITS;
			int			k = DEC_DIGITS - 1 - i % DEC_DIGITS;

			*o++ = (char) ('0' + (digit_at(d, digits, w2) / pow10_table[k]) % 10);
		}
	}
	*o = '\0';
}

DecStatus
dec_to_text(const Decimal *d, DegBuf *buf, DecError *err)
{
	size_t		size = dec_text_size(d);

	if (!degbuf_reserve(buf, size))
		return fail_nomem(err);
	dec_format(d, buf->data + buf->len);
	buf->len += size - 1;
	return DEC_OK;
}

/* ---------- int64 and double ---------- */

DecStatus
dec_from_int64(Decimal *res, int64_t value, DecError *err)
{
	int32_t		digits[5];
	uint64_t	mag = value < 0 ? (uint64_t) (-(value + 1)) + 1 : (uint64_t) value;
	int			n = 0;
	int			i;

	while (mag > 0)
	{
		for (i = n; i > 0; i--)
			digits[i] = digits[i - 1];
		digits[0] = (int32_t) (mag % NBASE);
		mag /= NBASE;
		n++;
	}
	return store(res, digits, n, n - 1, value < 0 ? DEC_NEG : DEC_POS, 0, err);
}

DecStatus
dec_to_int64(const Decimal *d, int64_t *value, DecError *err)
{
	Decimal		r = DEC_INIT;
	const int16_t *digits;
	uint64_t	mag = 0;
	uint64_t	limit;
	int			w;
	DecStatus	status;

	status = dec_round(&r, d, 0, DEC_ROUND_HALF_AWAY, err);
	if (status != DEC_OK)
		return status;
	digits = dec_digits(&r);
	limit = r.sign == DEC_NEG ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	if (r.ndigits > 0 && r.weight > 4)
		status = fail(err, DEC_ERR_OVERFLOW, 0, "bigint out of range");
	else
	{
		for (w = r.weight; r.ndigits > 0 && w >= 0; w--)
		{
			uint64_t	digit = (uint64_t) digit_at(&r, digits, w);

			if (mag > (limit - digit) / NBASE)
			{
				status = fail(err, DEC_ERR_OVERFLOW, 0, "bigint out of range");
				break;
			}
			mag = mag * NBASE + digit;
		}
	}
	if (status == DEC_OK)
	{
		if (r.sign != DEC_NEG)
			*value = (int64_t) mag;
		else if (mag == (uint64_t) INT64_MAX + 1)
			*value = INT64_MIN;
		else
			*value = -(int64_t) mag;
	}
	dec_free(&r);
	return status;
}

DecStatus
dec_from_double(Decimal *res, double value, DecError *err)
{
	char		text[40];
	int			precision;

	if (isnan(value))
		return fail(err, DEC_ERR_INVALID, 0, "NaN is not a valid decimal here");
	if (isinf(value))
		return fail(err, DEC_ERR_INVALID, 0, "infinity is not a valid decimal here");
	/* the fewest significant digits that read back as the same double */
	for (precision = 1; precision < 17; precision++)
	{
		snprintf(text, sizeof(text), "%.*e", precision - 1, value);
		if (strtod(text, NULL) == value)
			break;
	}
	snprintf(text, sizeof(text), "%.*e", precision - 1, value);
	return dec_from_text(res, text, strlen(text), err);
}

DecStatus
dec_to_double(const Decimal *d, double *value, DecError *err)
{
	char		local[64];
	char	   *text = local;
	size_t		size = dec_text_size(d);
	double		result;
	int			saved_errno = errno;
	bool		range_error;

	if (size > sizeof(local))
	{
		text = deg_alloc(size);
		if (text == NULL)
			return fail_nomem(err);
	}
	dec_format(d, text);
	/* numeric::float8 goes through numeric_out and float8in (strtod) */
	errno = 0;
	result = strtod(text, NULL);
	range_error = errno == ERANGE && (result == 0.0 || isinf(result));
	errno = saved_errno;
	if (text != local)
		deg_free(text);
	if (range_error)
		return fail(err, DEC_ERR_OVERFLOW, 0,
					"value out of range for type double precision");
	*value = result;
	return DEC_OK;
}

/* ---------- binary wire format ---------- */

DecStatus
dec_from_wire(Decimal *res, int ndigits, int weight, int sign, int dscale,
			  const int16_t *digits, DecError *err)
{
	Work		w;
	int32_t    *buf;
	int32_t    *d;
	int			n = ndigits;
	int			i;
	DecStatus	status;

	if (ndigits < 0 || ndigits > 0xFFFF)
		return fail(err, DEC_ERR_INVALID, 0, "invalid length in external \"numeric\" value");
	if (weight < -32768 || weight > 32767)
		return fail(err, DEC_ERR_INVALID, 0, "invalid weight in external \"numeric\" value");
	if (sign == NUMERIC_NAN)
		return fail(err, DEC_ERR_INVALID, 0, "NaN is not a valid decimal here");
	if (sign == NUMERIC_PINF || sign == NUMERIC_NINF)
		return fail(err, DEC_ERR_INVALID, 0, "infinity is not a valid decimal here");
	if (sign != DEC_POS && sign != DEC_NEG)
		return fail(err, DEC_ERR_INVALID, 0, "invalid sign in external \"numeric\" value");
	if (dscale < 0 || dscale > DEC_MAX_DSCALE)
		return fail(err, DEC_ERR_INVALID, 0, "invalid scale in external \"numeric\" value");
	for (i = 0; i < ndigits; i++)
	{
		if (digits[i] < 0 || digits[i] >= NBASE)
			return fail(err, DEC_ERR_INVALID, 0, "invalid digit in external \"numeric\" value");
	}

	buf = work_get(&w, (int64_t) ndigits + 2);
	if (buf == NULL)
		return fail_nomem(err);
	d = buf + 2;
	for (i = 0; i < ndigits; i++)
		d[i] = digits[i];
	/* digits hidden by dscale are dropped, as numeric_recv does */
	round_work(&d, &n, &weight, dscale, DEC_ROUND_DOWN, sign == DEC_NEG);
	status = store(res, d, n, weight, sign, dscale, err);
	work_release(&w);
	return status;
}

size_t
dec_send_size(const Decimal *d)
{
	return 8 + 2 * (size_t) d->ndigits;
}

static void
put16(uint8_t *out, int value)
{
	out[0] = (uint8_t) ((value >> 8) & 0xFF);
	out[1] = (uint8_t) (value & 0xFF);
}

static int
get16(const uint8_t *in)
{
	return (in[0] << 8) | in[1];
}

void
dec_send(const Decimal *d, uint8_t *out)
{
	const int16_t *digits = dec_digits(d);
	int			i;

	put16(out, d->ndigits);
	put16(out + 2, d->weight);
	put16(out + 4, d->sign);
	put16(out + 6, d->dscale);
	for (i = 0; i < d->ndigits; i++)
		put16(out + 8 + 2 * i, digits[i]);
}

DecStatus
dec_recv(Decimal *res, const uint8_t *bytes, size_t len, DecError *err)
{
	int16_t		local[LOCAL_DIGITS] = {0};
	int16_t    *digits = local;
	int			n;
	int			weight;
	int			i;
	DecStatus	status;

	if (len < 8)
		return fail(err, DEC_ERR_INVALID, 0, "insufficient data in external \"numeric\" value");
	n = get16(bytes);
	if (len != 8 + 2 * (size_t) n)
		return fail(err, DEC_ERR_INVALID, 0, "invalid length in external \"numeric\" value");
	weight = get16(bytes + 2);
	if (weight >= 0x8000)
		weight -= 0x10000;
	if (n > LOCAL_DIGITS)
	{
		digits = deg_alloc((size_t) n * sizeof(int16_t));
		if (digits == NULL)
			return fail_nomem(err);
	}
	for (i = 0; i < n; i++)
	{
		int			v = get16(bytes + 8 + 2 * i);

		digits[i] = (int16_t) (v >= 0x8000 ? v - 0x10000 : v);
	}
	status = dec_from_wire(res, n, weight, get16(bytes + 4), get16(bytes + 6),
						   digits, err);
	if (digits != local)
		deg_free(digits);
	return status;
}
