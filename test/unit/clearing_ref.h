/*
 * clearing_ref.h: an independent evaluation of a market's aggregate on
 * decimals, shared by test_clearing.c and test/fuzz/fuzz_clearing.c to
 * check the price clearing_run chooses against its rule.
 */
#ifndef DEG_TEST_CLEARING_REF_H
#define DEG_TEST_CLEARING_REF_H

#include "core/curve.h"
#include "core/decimal.h"

/*
 * The sign of the sum of the n curves at the price y / 2 pico-units: each
 * curve interpolated exactly (to 40 places) and clipped, summed exactly.
 * A total within n * 2^-64 nano-kW of zero is 0, as clearing.h allows.
 */
static int
clearing_reference_sign(Curve *const *curves, size_t n, int64_t y)
{
	Decimal		x = DEC_INIT;
	Decimal		sum = DEC_INIT;
	Decimal		t = DEC_INIT;
	Decimal		a = DEC_INIT;
	Decimal		b = DEC_INIT;
	Decimal		tol = DEC_INIT;
	size_t		i;
	int			sign;

	curve_fixed_to_decimal(y, CURVE_PRICE_SCALE, &x);
	dec_from_int64(&t, 2, NULL);
	dec_div_round(&x, &x, &t, 14, DEC_ROUND_HALF_EVEN, NULL);
	for (i = 0; i < n; i++)
	{
		const Curve *c = curves[i];
		int			j;
		int			last = c->npoints - 1;

		curve_fixed_to_decimal(c->points[0].power, 9, &t);
		for (j = 0; j < c->npoints; j++)
		{
			curve_fixed_to_decimal(c->points[j].price, 9, &a);
			if (dec_cmp(&x, &a) < 0)
				break;
		}
		if (j == c->npoints)
			curve_fixed_to_decimal(c->points[last].power, 9, &t);
		else if (j > 0)
		{
			/* q0 + (q1 - q0) (x - p0) / (p1 - p0) */
			curve_fixed_to_decimal(c->points[j - 1].price, 9, &a);
			dec_sub(&t, &x, &a, NULL);
			curve_fixed_to_decimal(c->points[j].power - c->points[j - 1].power, 9, &a);
			dec_mul(&t, &t, &a, NULL);
			curve_fixed_to_decimal(c->points[j].price - c->points[j - 1].price, 9, &a);
			dec_div_round(&t, &t, &a, 40, DEC_ROUND_HALF_EVEN, NULL);
			curve_fixed_to_decimal(c->points[j - 1].power, 9, &a);
			dec_add(&t, &t, &a, NULL);
		}
		curve_fixed_to_decimal(c->min_export, 9, &a);
		curve_fixed_to_decimal(c->max_export, 9, &b);
		if (dec_cmp(&t, &a) < 0)
			dec_copy(&t, &a, NULL);
		if (dec_cmp(&t, &b) > 0)
			dec_copy(&t, &b, NULL);
		dec_add(&sum, &sum, &t, NULL);
	}
	/* 2^-64 nano-kW is 5.42e-29 kW */
	dec_from_text(&tol, "5.43e-29", 8, NULL);
	dec_from_int64(&a, (int64_t) n, NULL);
	dec_mul(&tol, &tol, &a, NULL);
	dec_abs(&t, &sum, NULL);
	sign = dec_cmp(&t, &tol) <= 0 ? 0 : dec_sign(&sum);
	dec_free(&x);
	dec_free(&sum);
	dec_free(&t);
	dec_free(&a);
	dec_free(&b);
	dec_free(&tol);
	return sign;
}

#endif							/* DEG_TEST_CLEARING_REF_H */
