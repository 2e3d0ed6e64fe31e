/*
 * fuzz_tariff.c: OCPI tariffs, charge data records and pricing
 * (src/core/tariff.c).
 *
 * Input: a tariff (OCPI or DEG JSON, or the binary form), optionally a NUL
 * and an OCPI CDR (JSON), optionally another NUL and bytes that choose the
 * site's local time (UTC, a fixed offset, an offset that jumps every few
 * minutes, or a callback that fails).  Without a NUL the whole input is
 * also tried as a CDR, priced with a built-in tariff.
 *
 * Checked: a tariff's OCPI JSON reads back to the same JSON; its binary
 * form reads back to the same JSON and bytes (and a binary input reads back
 * stable); an accepted CDR passes tariff_cdr_check; pricing is the same
 * with the tariff read back from JSON and from binary, and repeatable; the
 * totals add up (total_cost is the sum of its parts unless min_price or
 * max_price applied, and then it is that bound; total_energy is the sum of
 * the ENERGY volumes; total_time is the session's length).
 */
#include "core/tariff.h"
#include "fuzz.h"

static const char builtin_tariff[] =
	"{\"currency\":\"EUR\",\"min_price\":{\"excl_vat\":0.5},\"max_price\":{\"excl_vat\":300},"
	"\"elements\":["
	"{\"price_components\":[{\"type\":\"FLAT\",\"price\":0.5,\"vat\":10,\"step_size\":1}]},"
	"{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.25,\"vat\":20,\"step_size\":100}],"
	"\"restrictions\":{\"max_kwh\":10,\"start_time\":\"08:00\",\"end_time\":\"20:00\"}},"
	"{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.35,\"step_size\":1},"
	"{\"type\":\"TIME\",\"price\":1.5,\"vat\":20,\"step_size\":300}],"
	"\"restrictions\":{\"min_power\":11,\"day_of_week\":[\"MONDAY\",\"SATURDAY\"]}},"
	"{\"price_components\":[{\"type\":\"ENERGY\",\"price\":0.3,\"vat\":0,\"step_size\":1}],"
	"\"restrictions\":{\"min_duration\":1800,\"max_duration\":7200}},"
	"{\"price_components\":[{\"type\":\"PARKING_TIME\",\"price\":5,\"vat\":10,\"step_size\":60}]},"
	"{\"price_components\":[{\"type\":\"TIME\",\"price\":2,\"vat\":20,\"step_size\":60}],"
	"\"restrictions\":{\"reservation\":\"RESERVATION\"}}]}";

static const char builtin_cdr[] =
	"{\"start_date_time\":\"2024-03-31T00:30:00Z\",\"end_date_time\":\"2024-03-31T04:00:00Z\","
	"\"currency\":\"EUR\",\"charging_periods\":["
	"{\"start_date_time\":\"2024-03-31T00:30:00Z\",\"dimensions\":[{\"type\":\"RESERVATION_TIME\",\"volume\":0.5}]},"
	"{\"start_date_time\":\"2024-03-31T01:00:00Z\",\"dimensions\":[{\"type\":\"ENERGY\",\"volume\":12.5},"
	"{\"type\":\"TIME\",\"volume\":1.5},{\"type\":\"MAX_POWER\",\"volume\":22},{\"type\":\"MIN_CURRENT\",\"volume\":16}]},"
	"{\"start_date_time\":\"2024-03-31T02:30:00Z\",\"dimensions\":[{\"type\":\"PARKING_TIME\",\"volume\":1.5}]}]}";

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

static bool
read_tariff(const uint8_t *data, size_t len, Tariff *t)
{
	TariffError err;

	tariff_init(t);
	memset(&err, 0, sizeof(err));
	if (tariff_parse((const char *) data, len, t, &err))
	{
		check_tariff(t);
		return true;
	}
	FUZZ_ASSERT(err.message[0] != '\0', "tariff error without a message");
	FUZZ_ASSERT(t->nelements == 0 && t->elements == NULL, "refused tariff not empty");
	if (tariff_deserialize(data, len, t, &err))
	{
		DegBuf		b;

		/* binary input: what it reads as is stable */
		degbuf_init(&b);
		FUZZ_ASSERT(tariff_serialize(t, &b), "serialize");
		check_tariff(t);
		degbuf_free(&b);
		return true;
	}
	FUZZ_ASSERT(t->nelements == 0 && t->elements == NULL, "refused binary tariff not empty");
	return false;
}

static bool
read_cdr(const uint8_t *data, size_t len, TariffCdr *cdr)
{
	TariffError err;

	memset(&err, 0, sizeof(err));
	if (!tariff_cdr_parse((const char *) data, len, cdr, &err))
	{
		FUZZ_ASSERT(err.message[0] != '\0', "CDR error without a message");
		return false;
	}
	FUZZ_ASSERT(tariff_cdr_check(cdr, &err), "accepted CDR fails tariff_cdr_check: %s", err.message);
	FUZZ_ASSERT(cdr->nperiods >= 1 && cdr->start <= cdr->end, "CDR shape");
	return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t		len1,
				restlen,
				len2,
				cfglen;
	const uint8_t *rest,
			   *cfg;
	Tariff		t;
	TariffCdr	cdr;
	bool		have_tariff;

	fuzz_split(data, size, &len1, &rest, &restlen);
	fuzz_split(rest, restlen, &len2, &cfg, &cfglen);
	have_tariff = read_tariff(data, len1, &t);
	tariff_cdr_init(&cdr);

	if (len1 == size)
	{
		/* no NUL: the input alone as a CDR, and pricing with built-ins */
		Tariff		bt;
		TariffError err;

		if (read_cdr(data, size, &cdr))
		{
			tariff_init(&bt);
			FUZZ_ASSERT(tariff_parse(builtin_tariff, strlen(builtin_tariff), &bt, &err), "built-in tariff: %s", err.message);
			price(&bt, &cdr, NULL, 0);
			tariff_free(&bt);
		}
		if (have_tariff)
		{
			tariff_cdr_reset(&cdr);
			FUZZ_ASSERT(read_cdr((const uint8_t *) builtin_cdr, strlen(builtin_cdr), &cdr), "built-in CDR");
			price(&t, &cdr, NULL, 0);
		}
	}
	else if (read_cdr(rest, len2, &cdr) && have_tariff)
		price(&t, &cdr, cfg, cfglen);

	tariff_cdr_free(&cdr);
	tariff_free(&t);
	return 0;
}
