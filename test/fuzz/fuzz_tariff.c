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
#include "tariff_checks.h"

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
