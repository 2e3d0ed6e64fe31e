/*
 * wide.h: 128-bit integer arithmetic for exact fixed-point curves and
 * market clearing, in portable C99.
 *
 * Offer curves hold prices and powers as 64-bit integers of a fixed scale
 * (curve.h); interpolating between two points multiplies two such numbers
 * and divides by a third, and a market adds up many of them.  Both need
 * 128 bits, and C99 has no 128-bit type (__int128 is a compiler
 * extension), so these helpers build one from two uint64_t.  Everything is
 * static inline: the inner loops of clearing call them per participant.
 *
 * A DegU128 is unsigned; a DegI128 holds the same bits read as two's
 * complement, for sums of signed values.
 */
#ifndef DEG_CORE_WIDE_H
#define DEG_CORE_WIDE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct DegU128
{
	uint64_t	hi;
	uint64_t	lo;
} DegU128;

typedef DegU128 DegI128;

static inline DegU128
u128_make(uint64_t hi, uint64_t lo)
{
	DegU128		r;

	r.hi = hi;
	r.lo = lo;
	return r;
}

static inline DegU128
u128_from_u64(uint64_t v)
{
	return u128_make(0, v);
}

static inline bool
u128_is_zero(DegU128 a)
{
	return a.hi == 0 && a.lo == 0;
}

static inline int
u128_cmp(DegU128 a, DegU128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

static inline DegU128
u128_add(DegU128 a, DegU128 b)
{
	DegU128		r;

	r.lo = a.lo + b.lo;
	r.hi = a.hi + b.hi + (r.lo < a.lo);
	return r;
}

static inline DegU128
u128_add_u64(DegU128 a, uint64_t b)
{
	DegU128		r;

	r.lo = a.lo + b;
	r.hi = a.hi + (r.lo < b);
	return r;
}

/* a - b, modulo 2^128 */
static inline DegU128
u128_sub(DegU128 a, DegU128 b)
{
	DegU128		r;

	r.lo = a.lo - b.lo;
	r.hi = a.hi - b.hi - (a.lo < b.lo);
	return r;
}

static inline DegU128
u128_shl1(DegU128 a)
{
	return u128_make((a.hi << 1) | (a.lo >> 63), a.lo << 1);
}

/* the full product of two 64-bit numbers */
static inline DegU128
u128_mul64(uint64_t a, uint64_t b)
{
	uint64_t	a0 = a & 0xFFFFFFFFu;
	uint64_t	a1 = a >> 32;
	uint64_t	b0 = b & 0xFFFFFFFFu;
	uint64_t	b1 = b >> 32;
	uint64_t	p00 = a0 * b0;
	uint64_t	p01 = a0 * b1;
	uint64_t	p10 = a1 * b0;
	uint64_t	p11 = a1 * b1;
	uint64_t	mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);

	return u128_make(p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32),
					 (mid << 32) | (p00 & 0xFFFFFFFFu));
}

static inline int
u64_leading_zeros(uint64_t v)
{
	int			n = 0;

	if (v == 0)
		return 64;
	while ((v & 0xFFFFFFFF00000000u) == 0)
	{
		n += 32;
		v <<= 32;
	}
	while ((v & 0x8000000000000000u) == 0)
	{
		n++;
		v <<= 1;
	}
	return n;
}

/*
 * floor(n / d) and n mod d, for n.hi < d (so the quotient fits in 64 bits).
 * Knuth's algorithm D on 32-bit half-words (Hacker's Delight, divlu).
 */
static inline uint64_t
u128_div64(DegU128 n, uint64_t d, uint64_t *rem)
{
	const uint64_t b = (uint64_t) 1 << 32;
	int			s = u64_leading_zeros(d);
	uint64_t	un32,
				un10,
				un1,
				un0,
				vn1,
				vn0,
				q1,
				q0,
				un21,
				rhat;

	d <<= s;
	vn1 = d >> 32;
	vn0 = d & 0xFFFFFFFFu;
	un32 = s == 0 ? n.hi : (n.hi << s) | (n.lo >> (64 - s));
	un10 = n.lo << s;
	un1 = un10 >> 32;
	un0 = un10 & 0xFFFFFFFFu;

	q1 = un32 / vn1;
	rhat = un32 - q1 * vn1;
	while (q1 >= b || q1 * vn0 > b * rhat + un1)
	{
		q1--;
		rhat += vn1;
		if (rhat >= b)
			break;
	}
	un21 = un32 * b + un1 - q1 * d;

	q0 = un21 / vn1;
	rhat = un21 - q0 * vn1;
	while (q0 >= b || q0 * vn0 > b * rhat + un0)
	{
		q0--;
		rhat += vn1;
		if (rhat >= b)
			break;
	}
	if (rem != NULL)
		*rem = (un21 * b + un0 - q0 * d) >> s;
	return q1 * b + q0;
}

/*
 * floor(a * b / c) and a * b mod c, for b < c < 2^126 (so the quotient is
 * below a).  Fast when c fits in 64 bits; otherwise shift-and-subtract over
 * the bits of a, keeping the remainder below c.
 */
static inline uint64_t
u128_muldiv(uint64_t a, DegU128 b, DegU128 c, DegU128 *rem)
{
	uint64_t	q = 0;
	DegU128		r = u128_from_u64(0);
	int			bit;

	if (c.hi == 0)
	{
		uint64_t	r64;

		q = u128_div64(u128_mul64(a, b.lo), c.lo, &r64);
		if (rem != NULL)
			*rem = u128_from_u64(r64);
		return q;
	}
	for (bit = 63 - u64_leading_zeros(a); bit >= 0; bit--)
	{
		q <<= 1;
		r = u128_shl1(r);
		if ((a >> bit) & 1)
			r = u128_add(r, b);
		while (u128_cmp(r, c) >= 0)
		{
			r = u128_sub(r, c);
			q++;
		}
	}
	if (rem != NULL)
		*rem = r;
	return q;
}

/* ---------- signed (two's complement) ---------- */

static inline DegI128
i128_from_i64(int64_t v)
{
	return u128_make(v < 0 ? UINT64_MAX : 0, (uint64_t) v);
}

static inline bool
i128_is_negative(DegI128 a)
{
	return (a.hi >> 63) != 0;
}

/* -1, 0 or 1 */
static inline int
i128_sign(DegI128 a)
{
	if (i128_is_negative(a))
		return -1;
	return u128_is_zero(a) ? 0 : 1;
}

static inline DegI128
i128_add_i64(DegI128 a, int64_t v)
{
	return u128_add(a, i128_from_i64(v));
}

static inline DegI128
i128_neg(DegI128 a)
{
	return u128_sub(u128_from_u64(0), a);
}

static inline int
i128_cmp(DegI128 a, DegI128 b)
{
	/* flipping the sign bit turns signed order into unsigned order */
	a.hi ^= (uint64_t) 1 << 63;
	b.hi ^= (uint64_t) 1 << 63;
	return u128_cmp(a, b);
}

/* |a| as unsigned (exact for every value but -2^127, which sums never reach) */
static inline DegU128
i128_abs(DegI128 a)
{
	return i128_is_negative(a) ? i128_neg(a) : a;
}

#endif							/* DEG_CORE_WIDE_H */
