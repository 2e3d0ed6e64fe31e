/*
 * fuzz_curve.c: offer curves (src/core/curve.c), in their JSON and binary
 * forms.
 *
 * The input is tried as OfferCurve JSON and as the binary form.  A curve
 * either accepts must satisfy curve_check, read back equal from its
 * canonical JSON and from its binary form (a binary input must be exactly
 * the binary form of what it decodes to), and evaluate as a
 * non-decreasing function of price within [minExport, maxExport], with
 * curve_power on a decimal price agreeing with curve_power_pico.
 */
#include "core/curve.h"
#include "fuzz.h"

static void
check_eval(const Curve *c, const uint8_t *data, size_t size)
{
	int64_t		prices[64];
	int			n = 0;
	int			i,
				j;
	uint64_t	h = 1469598103934665603ULL;
	size_t		k;

	for (k = 0; k < size; k++)
		h = (h ^ data[k]) * 1099511628211ULL;
	/* around the points, at the ends, and a few from the input */
	prices[n++] = -CURVE_PICO_LIMIT + 1;
	prices[n++] = 0;
	prices[n++] = CURVE_PICO_LIMIT - 1;
	for (i = 0; i < c->npoints && n < 56; i += 1 + c->npoints / 16)
	{
		int64_t		p = c->points[i].price * CURVE_PICO_PER_NANO;

		prices[n++] = p - 1;
		prices[n++] = p;
		prices[n++] = p + 1;
		if (i + 1 < c->npoints)
			prices[n++] = p + (c->points[i + 1].price - c->points[i].price) * CURVE_PICO_PER_NANO / 2 + 1;
	}
	while (n < 64)
	{
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
		prices[n++] = (int64_t) (h % (uint64_t) (2 * CURVE_PICO_LIMIT - 1)) - CURVE_PICO_LIMIT + 1;
	}
	/* sort */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && prices[j - 1] > prices[j]; j--)
		{
			int64_t		t = prices[j];

			prices[j] = prices[j - 1];
			prices[j - 1] = t;
		}

	{
		int64_t		prev = INT64_MIN;

		for (i = 0; i < n; i++)
		{
			int64_t		v = curve_power_pico(c, prices[i]);
			Decimal		price = DEC_INIT;
			Decimal		power = DEC_INIT;
			CurveError	err;
			int64_t		back;
			bool		left,
						right;

			FUZZ_ASSERT(v >= c->min_export && v <= c->max_export,
						"power %lld at %lld outside [%lld, %lld]", (long long) v,
						(long long) prices[i], (long long) c->min_export, (long long) c->max_export);
			FUZZ_ASSERT(v >= prev, "power decreases at price %lld: %lld after %lld",
						(long long) prices[i], (long long) v, (long long) prev);
			prev = v;
			curve_slopes_at(c, prices[i], &left, &right);

			FUZZ_ASSERT(curve_fixed_to_decimal(prices[i], CURVE_PRICE_SCALE, &price), "price decimal");
			FUZZ_ASSERT(curve_power(c, &price, &power, &err), "curve_power: %s", err.message);
			FUZZ_ASSERT(curve_fixed_from_decimal(&power, CURVE_SCALE, CURVE_POWER_LIMIT, &back) == 0 && back == v,
						"curve_power and curve_power_pico disagree at %lld: %lld", (long long) prices[i], (long long) v);
			dec_free(&price);
			dec_free(&power);
		}
	}
}

static void
check_curve(const Curve *c, const uint8_t *data, size_t size)
{
	CurveError	err;
	DegBuf		j1,
				j2;
	Curve	   *again;
	uint8_t    *bin;
	size_t		binlen;

	FUZZ_ASSERT(curve_check(c, &err), "accepted curve fails curve_check: %s", err.message);
	FUZZ_ASSERT(curve_cmp(c, c) == 0, "cmp with itself");

	degbuf_init(&j1);
	degbuf_init(&j2);
	FUZZ_ASSERT(curve_to_json(c, &j1), "to_json");
	again = curve_parse(j1.data, j1.len, &err);
	FUZZ_ASSERT(again != NULL, "canonical JSON refused: %s\n%s", err.message, j1.data);
	FUZZ_ASSERT(curve_cmp(c, again) == 0 && curve_cmp(again, c) == 0, "canonical JSON reads back other:\n%s", j1.data);
	FUZZ_ASSERT(curve_to_json(again, &j2) && strcmp(j1.data, j2.data) == 0, "canonical JSON not stable");
	curve_free(again);

	binlen = curve_serialized_size(c);
	FUZZ_ASSERT(binlen == CURVE_HEADER_SIZE + (size_t) c->npoints * CURVE_POINT_SIZE, "serialized size");
	bin = malloc(binlen);
	FUZZ_ASSERT(bin != NULL, "malloc");
	curve_serialize(c, bin);
	again = curve_deserialize(bin, binlen, &err);
	FUZZ_ASSERT(again != NULL, "binary form refused: %s", err.message);
	FUZZ_ASSERT(curve_cmp(c, again) == 0, "binary form reads back other");
	curve_free(again);
	FUZZ_ASSERT(curve_deserialize(bin, binlen - 1, &err) == NULL, "short binary accepted");
	free(bin);

	check_eval(c, data, size);
	degbuf_free(&j1);
	degbuf_free(&j2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CurveError	err;
	Curve	   *c;

	memset(&err, 0, sizeof(err));
	c = curve_parse((const char *) data, size, &err);
	if (c != NULL)
	{
		check_curve(c, data, size);
		curve_free(c);
	}
	else
		FUZZ_ASSERT(err.message[0] != '\0', "JSON error without a message");

	memset(&err, 0, sizeof(err));
	c = curve_deserialize(data, size, &err);
	if (c != NULL)
	{
		uint8_t    *bin;

		FUZZ_ASSERT(curve_serialized_size(c) == size, "binary size");
		bin = malloc(size);
		FUZZ_ASSERT(bin != NULL, "malloc");
		curve_serialize(c, bin);
		FUZZ_ASSERT(memcmp(bin, data, size) == 0, "binary input is not the binary form of its curve");
		free(bin);
		check_curve(c, data, size);
		curve_free(c);
	}
	else
		FUZZ_ASSERT(err.message[0] != '\0', "binary error without a message");
	return 0;
}
