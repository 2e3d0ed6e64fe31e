/*
 * tariff_checks.h: what the tariff fuzz targets check on an accepted tariff
 * and on a priced CDR (see fuzz_tariff.c), and the local time they price in.
 */
#ifndef DEG_TEST_TARIFF_CHECKS_H
#define DEG_TEST_TARIFF_CHECKS_H

#include "core/tariff.h"
#include "fuzz.h"

/* ---------- local time ---------- */

typedef struct Zone
{
	int			mode;
	int32_t		offset;
	uint64_t	seed;
	int			calls;
	int			fail_after;
} Zone;

static bool
zone_offset(void *ctx, int64_t s, int32_t *off)
{
	Zone	   *z = ctx;

	z->calls++;
	switch (z->mode)
	{
		case 1:
			*off = z->offset;
			return true;
		case 2:
			{
				uint64_t	h = ((uint64_t) (s / 300) ^ z->seed) * 0x9E3779B97F4A7C15ULL;

				*off = (int32_t) ((h >> 58) % 49) * 1800 - 12 * 3600;
				return true;
			}
		default:
			if (z->calls > z->fail_after)
			{
				*off = 0;
				return false;
			}
			*off = z->offset;
			return true;
	}
}

static void
zone_from(Zone *z, const uint8_t *cfg, size_t len)
{
	FuzzReader	r;

	fuzz_reader_init(&r, cfg, len);
	memset(z, 0, sizeof(*z));
	z->mode = fuzz_u8(&r) % 4;
	z->offset = (int32_t) fuzz_u64(&r, 4);
	if (z->offset % 900 == 0 || (fuzz_u8(&r) & 1))
		z->offset %= 86400 + 3600;	/* mostly plausible, sometimes a day or more */
	else
		z->offset = (z->offset % 57) * 900;
	z->seed = fuzz_u64(&r, 8);
	z->fail_after = fuzz_u8(&r);
}

/* ---------- helpers ---------- */

static char *
json_of(const Tariff *t)
{
	DegBuf		b;
	TariffError err;

	degbuf_init(&b);
	FUZZ_ASSERT(tariff_to_json(t, &b, &err) && b.data != NULL, "tariff_to_json: %s", err.message);
	return b.data;
}

static char *
totals_of(const TariffTotals *tot)
{
	DegBuf		b;

	degbuf_init(&b);
	FUZZ_ASSERT(tariff_totals_to_json(tot, -1, &b) && b.data != NULL, "tariff_totals_to_json");
	/* rounded for display, too */
	{
		DegBuf		r;

		degbuf_init(&r);
		FUZZ_ASSERT(tariff_totals_to_json(tot, 2, &r), "rounded totals");
		degbuf_free(&r);
	}
	return b.data;
}

static void
check_totals(const Tariff *t, const TariffCdr *cdr, const TariffTotals *tot)
{
	Decimal		sum = DEC_INIT,
				energy = DEC_INIT,
				hours = DEC_INIT,
				d = DEC_INIT;
	int			i;

	FUZZ_ASSERT(tot->duration_us == cdr->end - cdr->start, "duration");
	FUZZ_ASSERT(tot->pieces >= cdr->nperiods && tot->pieces <= TARIFF_MAX_PIECES, "pieces %d", tot->pieces);

	/* total_energy: the sum of the ENERGY volumes */
	for (i = 0; i < cdr->nperiods; i++)
		if (cdr->periods[i].present & (1u << TARIFF_CDR_ENERGY))
			FUZZ_ASSERT(dec_add(&energy, &energy, &cdr->periods[i].energy, NULL) == DEC_OK, "add");
	FUZZ_ASSERT(dec_cmp(&energy, &tot->total_energy) == 0, "total_energy is not the sum of ENERGY volumes");

	/* total_time: the session in hours (rounded at TARIFF_DIV_SCALE or finer) */
	FUZZ_ASSERT(dec_from_int64(&d, tot->duration_us, NULL) == DEC_OK, "duration");
	FUZZ_ASSERT(dec_from_int64(&hours, INT64_C(3600000000), NULL) == DEC_OK, "hour");
	FUZZ_ASSERT(dec_div_round(&hours, &d, &hours, TARIFF_DIV_SCALE, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK, "div");
	FUZZ_ASSERT(dec_sub(&d, &hours, &tot->total_time, NULL) == DEC_OK, "sub");
	FUZZ_ASSERT(dec_round(&d, &d, TARIFF_DIV_SCALE - 1, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK && dec_is_zero(&d),
				"total_time is not the session's length");

	/* total_cost: the sum of the parts, or the bound that applied */
	dec_add(&sum, &tot->total_fixed_cost.excl_vat, &tot->total_energy_cost.excl_vat, NULL);
	dec_add(&sum, &sum, &tot->total_time_cost.excl_vat, NULL);
	dec_add(&sum, &sum, &tot->total_parking_cost.excl_vat, NULL);
	dec_add(&sum, &sum, &tot->total_reservation_cost.excl_vat, NULL);
	if (t->has_max_price && dec_cmp(&tot->total_cost.excl_vat, &t->max_price.excl_vat) == 0 && tot->max_price_applied)
		;
	else if (t->has_min_price && dec_cmp(&tot->total_cost.excl_vat, &t->min_price.excl_vat) == 0 && tot->min_price_applied)
		;
	else
		FUZZ_ASSERT(dec_cmp(&sum, &tot->total_cost.excl_vat) == 0,
					"total_cost excl_vat is neither the sum of its parts nor a bound");
	if (t->has_max_price)
		FUZZ_ASSERT(dec_cmp(&tot->total_cost.excl_vat, &t->max_price.excl_vat) <= 0 ||
					(t->has_min_price && dec_cmp(&t->min_price.excl_vat, &t->max_price.excl_vat) > 0),
					"total_cost above max_price");
	if (t->has_min_price && !tot->max_price_applied)
		FUZZ_ASSERT(dec_cmp(&tot->total_cost.excl_vat, &t->min_price.excl_vat) >= 0, "total_cost below min_price");
	/* incl. VAT is known only when every part's is */
	if (tot->total_cost.has_incl_vat)
		FUZZ_ASSERT(tot->total_energy_cost.has_incl_vat && tot->total_time_cost.has_incl_vat &&
					tot->total_parking_cost.has_incl_vat && tot->total_fixed_cost.has_incl_vat &&
					tot->total_reservation_cost.has_incl_vat, "total incl_vat known with a part unknown");
	dec_free(&sum);
	dec_free(&energy);
	dec_free(&hours);
	dec_free(&d);
}

/* price with t, t read back from JSON and t read back from binary: the same */
static void
price(const Tariff *t, const TariffCdr *cdr, const uint8_t *cfg, size_t cfglen)
{
	Zone		z;
	TariffTotals tot;
	TariffError err;
	bool		ok;
	char	   *r1;
	Tariff		t2,
				t3;
	char	   *json = json_of(t);
	DegBuf		bin;
	int			k;

	zone_from(&z, cfg, cfglen);
	tariff_totals_init(&tot);
	ok = tariff_cost(t, cdr, z.mode == 0 && cfglen == 0 ? NULL : zone_offset, &z, &tot, &err);
	if (!ok)
	{
		FUZZ_ASSERT(err.message[0] != '\0', "pricing error without a message");
		tariff_totals_free(&tot);
		free(json);
		return;
	}
	check_totals(t, cdr, &tot);
	r1 = totals_of(&tot);
	tariff_totals_free(&tot);

	tariff_init(&t2);
	tariff_init(&t3);
	FUZZ_ASSERT(tariff_parse(json, strlen(json), &t2, &err), "JSON form refused: %s", err.message);
	degbuf_init(&bin);
	FUZZ_ASSERT(tariff_serialize(t, &bin), "serialize");
	FUZZ_ASSERT(tariff_deserialize((const uint8_t *) bin.data, bin.len, &t3, &err), "binary refused: %s", err.message);
	for (k = 0; k < 3; k++)
	{
		const Tariff *tk = k == 0 ? t : k == 1 ? &t2 : &t3;
		char	   *rk;

		zone_from(&z, cfg, cfglen);
		tariff_totals_init(&tot);
		FUZZ_ASSERT(tariff_cost(tk, cdr, z.mode == 0 && cfglen == 0 ? NULL : zone_offset, &z, &tot, &err),
					"pricing %s fails: %s", k == 0 ? "again" : k == 1 ? "with the JSON form" : "with the binary form",
					err.message);
		rk = totals_of(&tot);
		FUZZ_ASSERT(strcmp(r1, rk) == 0, "pricing %s differs:\n%s\n%s\ntariff %s",
					k == 0 ? "again" : k == 1 ? "with the JSON form" : "with the binary form", r1, rk, json);
		free(rk);
		tariff_totals_free(&tot);
	}
	free(r1);
	free(json);
	degbuf_free(&bin);
	tariff_free(&t2);
	tariff_free(&t3);
}

/* the round trips of an accepted tariff */
static void
check_tariff(const Tariff *t)
{
	char	   *j1 = json_of(t);
	char	   *j2;
	Tariff		t2;
	TariffError err;
	DegBuf		b1,
				b2;

	FUZZ_ASSERT(t->nelements >= 1 && t->nelements <= TARIFF_MAX_ELEMENTS, "elements %d", t->nelements);
	tariff_init(&t2);
	FUZZ_ASSERT(tariff_parse(j1, strlen(j1), &t2, &err), "OCPI JSON form refused: %s\n%s", err.message, j1);
	j2 = json_of(&t2);
	FUZZ_ASSERT(strcmp(j1, j2) == 0, "OCPI JSON form reads back different:\n%s\n%s", j1, j2);
	free(j2);
	tariff_free(&t2);

	degbuf_init(&b1);
	degbuf_init(&b2);
	FUZZ_ASSERT(tariff_serialize(t, &b1), "serialize");
	FUZZ_ASSERT(tariff_deserialize((const uint8_t *) b1.data, b1.len, &t2, &err), "binary form refused: %s", err.message);
	j2 = json_of(&t2);
	FUZZ_ASSERT(strcmp(j1, j2) == 0, "binary form reads back different:\n%s\n%s", j1, j2);
	FUZZ_ASSERT(tariff_serialize(&t2, &b2) && b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0,
				"binary form is not stable");
	tariff_free(&t2);
	FUZZ_ASSERT(!tariff_deserialize((const uint8_t *) b1.data, b1.len - 1, &t2, &err), "short binary accepted");
	free(j2);
	free(j1);
	degbuf_free(&b1);
	degbuf_free(&b2);
}

#endif							/* DEG_TEST_TARIFF_CHECKS_H */
