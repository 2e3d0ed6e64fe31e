/*
 * fuzz_tariff_price.c: OCPI pricing (src/core/tariff.c) on tariffs and
 * CDRs built from the fuzz bytes, so that nearly every input prices
 * something: elements with every kind of restriction, step sizes, VAT or
 * none, min_price and max_price, CDRs with energy, time, parking and
 * reservation periods, current and power, across midnight and a DST change.
 *
 * Checked, beyond what fuzz_tariff checks on every priced CDR (the same
 * totals from the tariff read back from JSON and binary, totals that add
 * up): pricing is linear in the prices.  The same tariff with every price
 * doubled gives exactly twice every dimension's cost, excl. and incl. VAT
 * (restrictions and step sizes do not depend on prices), up to the one
 * rounding of a time dimension's step_size extra.  And cutting a charging
 * period in two halves, each with half its volumes, changes no cost beyond
 * the rounding of the proportional split.
 */
#include "core/tariff.h"
#include "fuzz.h"
#include "tariff_checks.h"

typedef struct Gen
{
	FuzzReader	r;
	DegBuf		b;
} Gen;

static void
put(Gen *g, const char *s)
{
	degbuf_puts(&g->b, s);
}

static void
putf(Gen *g, const char *fmt, long long v)
{
	char		tmp[64];

	snprintf(tmp, sizeof(tmp), fmt, v);
	degbuf_puts(&g->b, tmp);
}

/* a price with up to 4 places, times mult */
static void
put_price(Gen *g, uint8_t a, uint8_t b, int mult)
{
	long long	cents = ((long long) a * 256 + b) % 40000;

	putf(g, "%lld", cents * mult / 10000);
	putf(g, ".%04lld", cents * mult % 10000);
}

static const char *const dims[] = {"ENERGY", "FLAT", "TIME", "PARKING_TIME"};
static const char *const days[] = {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"};
static const int steps[] = {1, 1, 60, 300, 900, 100, 1000, 3600};

static void
gen_tariff(const uint8_t *data, size_t size, int mult, DegBuf *out)
{
	Gen			g;
	uint8_t		head;
	int			nel,
				e;

	fuzz_reader_init(&g.r, data, size);
	degbuf_init(&g.b);
	head = fuzz_u8(&g.r);
	put(&g, "{\"currency\":\"EUR\"");
	if (head & 1)
	{
		uint8_t		a = fuzz_u8(&g.r);

		put(&g, ",\"min_price\":{\"excl_vat\":");
		put_price(&g, 0, a, mult * 100);
		put(&g, "}");
	}
	if (head & 2)
	{
		uint8_t		a = fuzz_u8(&g.r);

		put(&g, ",\"max_price\":{\"excl_vat\":");
		put_price(&g, a, 0, mult);
		if (head & 4)
		{
			put(&g, ",\"incl_vat\":");
			put_price(&g, (uint8_t) (a + 20), 0, mult);
		}
		put(&g, "}");
	}
	put(&g, ",\"elements\":[");
	nel = 1 + (head >> 4) % 6;
	for (e = 0; e < nel; e++)
	{
		uint8_t		comps = fuzz_u8(&g.r);
		uint16_t	rmask = (uint16_t) fuzz_u64(&g.r, 2);
		int			d,
					first = 1;

		if ((comps & 15) == 0)
			comps |= 1;
		put(&g, e ? ",{\"price_components\":[" : "{\"price_components\":[");
		for (d = 0; d < 4; d++)
		{
			uint8_t		a,
						b,
						v;

			if (!(comps & (1 << d)))
				continue;
			a = fuzz_u8(&g.r);
			b = fuzz_u8(&g.r);
			v = fuzz_u8(&g.r);
			put(&g, first ? "{\"type\":\"" : ",{\"type\":\"");
			first = 0;
			put(&g, dims[d]);
			put(&g, "\",\"price\":");
			put_price(&g, a, b, mult);
			if (v % 4 != 0)
				putf(&g, ",\"vat\":%lld", v % 4 == 1 ? 0 : v % 4 == 2 ? 20 : 21);
			putf(&g, ",\"step_size\":%lld", steps[(v >> 2) % 8]);
			put(&g, "}");
		}
		put(&g, "]");
		if (rmask)
		{
			int			n = 0;

			put(&g, ",\"restrictions\":{");
#define SEP() put(&g, n++ ? "," : "")
			if (rmask & 0x0001)
			{
				SEP();
				putf(&g, "\"start_time\":\"%02lld", fuzz_u8(&g.r) % 24);
				putf(&g, ":%02lld\"", (fuzz_u8(&g.r) % 4) * 15);
			}
			if (rmask & 0x0002)
			{
				SEP();
				putf(&g, "\"end_time\":\"%02lld", fuzz_u8(&g.r) % 24);
				putf(&g, ":%02lld\"", (fuzz_u8(&g.r) % 4) * 15);
			}
			if (rmask & 0x0004)
			{
				SEP();
				putf(&g, "\"start_date\":\"2024-03-%02lld\"", 25 + fuzz_u8(&g.r) % 6);
			}
			if (rmask & 0x0008)
			{
				SEP();
				putf(&g, "\"end_date\":\"2024-04-%02lld\"", 1 + fuzz_u8(&g.r) % 3);
			}
			if (rmask & 0x0010)
			{
				SEP();
				putf(&g, "\"min_kwh\":%lld", fuzz_u8(&g.r) % 30);
			}
			if (rmask & 0x0020)
			{
				SEP();
				putf(&g, "\"max_kwh\":%lld", 30 + fuzz_u8(&g.r) % 30);
				putf(&g, ".%lld", fuzz_u8(&g.r) % 10);
			}
			if (rmask & 0x0040)
			{
				SEP();
				putf(&g, "\"min_current\":%lld", fuzz_u8(&g.r) % 64);
			}
			if (rmask & 0x0080)
			{
				SEP();
				putf(&g, "\"max_current\":%lld", 64 + fuzz_u8(&g.r) % 64);
			}
			if (rmask & 0x0100)
			{
				SEP();
				putf(&g, "\"min_power\":%lld", fuzz_u8(&g.r) % 22);
			}
			if (rmask & 0x0200)
			{
				SEP();
				putf(&g, "\"max_power\":%lld", 22 + fuzz_u8(&g.r) % 50);
			}
			if (rmask & 0x0400)
			{
				SEP();
				putf(&g, "\"min_duration\":%lld", (long long) (fuzz_u8(&g.r) * 60));
			}
			if (rmask & 0x0800)
			{
				SEP();
				putf(&g, "\"max_duration\":%lld", (long long) (16000 + fuzz_u8(&g.r) * 97));
			}
			if (rmask & 0x1000)
			{
				uint8_t		dm = fuzz_u8(&g.r) | 1;
				int			k,
							m = 0;

				SEP();
				put(&g, "\"day_of_week\":[");
				for (k = 0; k < 7; k++)
					if (dm & (1 << k))
					{
						put(&g, m++ ? ",\"" : "\"");
						put(&g, days[k]);
						put(&g, "\"");
					}
				put(&g, "]");
			}
			if (rmask & 0x2000)
			{
				SEP();
				put(&g, fuzz_u8(&g.r) & 1 ? "\"reservation\":\"RESERVATION\"" : "\"reservation\":\"RESERVATION_EXPIRES\"");
			}
#undef SEP
			put(&g, "}");
		}
		put(&g, "}");
	}
	put(&g, "]}");
	*out = g.b;
}

static void
put_time(Gen *g, int64_t minutes)
{
	/* minutes after 2024-03-30T20:00:00Z (Amsterdam's DST starts 03-31 01:00 UTC) */
	int64_t		t = minutes + 20 * 60;
	int64_t		day = 30 + t / (24 * 60);
	int64_t		month = 3;

	if (day > 31)
	{
		day -= 31;
		month = 4;
	}
	putf(g, "\"2024-%02lld", month);
	putf(g, "-%02lldT", day);
	putf(g, "%02lld:", (t / 60) % 24);
	putf(g, "%02lld:00Z\"", t % 60);
}

static void
gen_cdr(FuzzReader *r, DegBuf *out)
{
	Gen			g;
	int			n = 1 + fuzz_u8(r) % 8;
	int64_t		t = fuzz_u8(r) * 4;
	int			i;

	g.r = *r;
	degbuf_init(&g.b);
	put(&g, "{\"start_date_time\":");
	put_time(&g, t);
	put(&g, ",\"currency\":\"EUR\",\"charging_periods\":[");
	for (i = 0; i < n; i++)
	{
		uint8_t		dm = fuzz_u8(&g.r);
		int			m = 0;

		put(&g, i ? ",{\"start_date_time\":" : "{\"start_date_time\":");
		put_time(&g, t);
		put(&g, ",\"dimensions\":[");
#define DIM(bit, name, fmt, v) \
		if (dm & (bit)) \
		{ \
			put(&g, m++ ? ",{\"type\":\"" name "\",\"volume\":" : "{\"type\":\"" name "\",\"volume\":"); \
			putf(&g, fmt, (long long) (v)); \
			put(&g, "}"); \
		}
		DIM(0x01, "ENERGY", "%lld", fuzz_u8(&g.r) % 40);
		DIM(0x01, "TIME", "%lld", 1);
		DIM(0x02, "PARKING_TIME", "%lld", fuzz_u8(&g.r) % 3);
		DIM(0x04, "RESERVATION_TIME", "%lld", fuzz_u8(&g.r) % 2);
		DIM(0x08, "MIN_CURRENT", "%lld", fuzz_u8(&g.r) % 100);
		DIM(0x10, "MAX_CURRENT", "%lld", 16 + fuzz_u8(&g.r) % 100);
		DIM(0x20, "MAX_POWER", "%lld", fuzz_u8(&g.r) % 60);
		DIM(0x40, "MIN_POWER", "%lld", fuzz_u8(&g.r) % 20);
#undef DIM
		if (m == 0)
			put(&g, "{\"type\":\"ENERGY\",\"volume\":0}");
		put(&g, "]}");
		t += 1 + fuzz_u8(&g.r) * 3;
	}
	put(&g, "],\"end_date_time\":");
	put_time(&g, t + fuzz_u8(&g.r) % 30);
	put(&g, "}");
	*r = g.r;
	*out = g.b;
}

/* Europe/Amsterdam around the change of 2024-03-31 01:00 UTC, or UTC + hours */
static bool
zone(void *ctx, int64_t s, int32_t *off)
{
	int			mode = *(const int *) ctx;

	if (mode == 0)
		*off = s >= INT64_C(1711846800) ? 7200 : 3600;
	else
		*off = (mode - 4) * 3600 + (mode == 7 ? 1800 : 0);
	return true;
}

/*
 * b is 2a, up to the one rounding of a non-terminating quotient (a time
 * dimension's step_size extra: seconds to hours, at TARIFF_DIV_SCALE or
 * more places): within 2 * 10^-TARIFF_DIV_SCALE
 */
static void
linear(const Decimal *a, const Decimal *b, const Decimal *two, const Decimal *tol, int part,
	   const char *what)
{
	Decimal		x = DEC_INIT;

	FUZZ_ASSERT(dec_mul(&x, a, two, NULL) == DEC_OK && dec_sub(&x, &x, b, NULL) == DEC_OK &&
				dec_abs(&x, &x, NULL) == DEC_OK, "arithmetic");
	if (dec_cmp(&x, tol) > 0)
	{
		char		ta[256] = "",
					tb[256] = "";

		if (dec_text_size(a) < sizeof(ta))
			dec_format(a, ta);
		if (dec_text_size(b) < sizeof(tb))
			dec_format(b, tb);
		FUZZ_ASSERT(false, "part %d %s is not linear in the prices: %s, doubled %s", part, what, ta, tb);
	}
	dec_free(&x);
}

static void
check_linear(const Tariff *t1, const Tariff *t2, const TariffCdr *cdr, int mode)
{
	TariffTotals a,
				b;
	TariffError err;
	const TariffPrice *pa[5],
			   *pb[5];
	int			i;
	Decimal		two = DEC_INIT,
				tol = DEC_INIT;

	tariff_totals_init(&a);
	tariff_totals_init(&b);
	if (!tariff_cost(t1, cdr, zone, &mode, &a, &err))
	{
		tariff_totals_free(&a);
		tariff_totals_free(&b);
		return;
	}
	FUZZ_ASSERT(tariff_cost(t2, cdr, zone, &mode, &b, &err), "doubled tariff fails: %s", err.message);
	pa[0] = &a.total_fixed_cost;
	pa[1] = &a.total_energy_cost;
	pa[2] = &a.total_time_cost;
	pa[3] = &a.total_parking_cost;
	pa[4] = &a.total_reservation_cost;
	pb[0] = &b.total_fixed_cost;
	pb[1] = &b.total_energy_cost;
	pb[2] = &b.total_time_cost;
	pb[3] = &b.total_parking_cost;
	pb[4] = &b.total_reservation_cost;
	dec_from_int64(&two, 2, NULL);
	dec_from_text(&tol, "2e-20", 5, NULL);
	for (i = 0; i < 5; i++)
	{
		FUZZ_ASSERT(pa[i]->has_incl_vat == pb[i]->has_incl_vat, "part %d incl_vat known in one only", i);
		linear(&pa[i]->excl_vat, &pb[i]->excl_vat, &two, &tol, i, "excl_vat");
		if (pa[i]->has_incl_vat)
			linear(&pa[i]->incl_vat, &pb[i]->incl_vat, &two, &tol, i, "incl_vat");
	}
	FUZZ_ASSERT(dec_cmp(&a.total_energy, &b.total_energy) == 0 && dec_cmp(&a.total_time, &b.total_time) == 0 &&
				dec_cmp(&a.total_parking_time, &b.total_parking_time) == 0 && a.pieces == b.pieces,
				"volumes depend on the prices");
	dec_free(&two);
	dec_free(&tol);
	tariff_totals_free(&a);
	tariff_totals_free(&b);
}

/* a copy of cdr with period k cut in two at its middle, every volume halved */
static bool
split_cdr(const TariffCdr *cdr, int k, TariffCdr *out)
{
	static const int volumes[] = {TARIFF_CDR_ENERGY, TARIFF_CDR_TIME, TARIFF_CDR_PARKING_TIME, TARIFF_CDR_RESERVATION_TIME};
	int64_t		end = k + 1 < cdr->nperiods ? cdr->periods[k + 1].start : cdr->end;
	int64_t		mid;
	Decimal		half = DEC_INIT;
	TariffError err;
	int			i,
				h;

	if (end - cdr->periods[k].start < 2)
		return false;
	mid = cdr->periods[k].start + (end - cdr->periods[k].start) / 2;
	dec_from_text(&half, "0.5", 3, NULL);
	out->start = cdr->start;
	out->end = cdr->end;
	memcpy(out->currency, cdr->currency, sizeof(out->currency));
	for (i = 0; i < cdr->nperiods; i++)
		for (h = 0; h < (i == k ? 2 : 1); h++)
		{
			const TariffPeriod *src = &cdr->periods[i];
			TariffPeriod *p = tariff_cdr_add_period(out, h ? mid : src->start);
			int			d;

			FUZZ_ASSERT(p != NULL, "add period");
			for (d = 0; d < TARIFF_CDR_DIMS; d++)
			{
				const Decimal *v;
				Decimal		x = DEC_INIT;
				size_t		j;
				bool		is_volume = false;

				if (!(src->present & (1u << d)))
					continue;
				switch (d)
				{
					case TARIFF_CDR_ENERGY: v = &src->energy; break;
					case TARIFF_CDR_TIME: v = &src->time; break;
					case TARIFF_CDR_PARKING_TIME: v = &src->parking_time; break;
					case TARIFF_CDR_RESERVATION_TIME: v = &src->reservation_time; break;
					case TARIFF_CDR_MIN_CURRENT: v = &src->min_current; break;
					case TARIFF_CDR_MAX_CURRENT: v = &src->max_current; break;
					case TARIFF_CDR_MIN_POWER: v = &src->min_power; break;
					case TARIFF_CDR_MAX_POWER: v = &src->max_power; break;
					default: continue;
				}
				for (j = 0; j < sizeof(volumes) / sizeof(volumes[0]); j++)
					is_volume |= volumes[j] == d;
				if (i == k && is_volume)
					dec_mul(&x, v, &half, NULL);
				else
					dec_copy(&x, v, NULL);
				FUZZ_ASSERT(tariff_period_set(p, d, &x, &err), "set dimension: %s", err.message);
				dec_free(&x);
			}
		}
	dec_free(&half);
	FUZZ_ASSERT(tariff_cdr_check(out, &err), "split CDR: %s", err.message);
	return true;
}

/* |a - b| <= tol */
static void
close_to(const Decimal *a, const Decimal *b, const Decimal *tol, const char *what)
{
	Decimal		x = DEC_INIT;

	dec_sub(&x, a, b, NULL);
	dec_abs(&x, &x, NULL);
	if (dec_cmp(&x, tol) > 0)
	{
		char		ta[256] = "",
					tb[256] = "";

		if (dec_text_size(a) < sizeof(ta))
			dec_format(a, ta);
		if (dec_text_size(b) < sizeof(tb))
			dec_format(b, tb);
		FUZZ_ASSERT(false, "cutting a period in two changes %s: %s, cut %s", what, ta, tb);
	}
	dec_free(&x);
}

/*
 * Cutting a period in two halves, each with half its volumes (the same
 * constant power), changes no cost beyond the rounding of the proportional
 * split (TARIFF_SPLIT_SCALE places per piece).
 */
static void
check_split(const Tariff *t, const TariffCdr *cdr, int k, int mode)
{
	TariffCdr	cut;
	TariffTotals a,
				b;
	TariffError err;
	Decimal		tol = DEC_INIT;
	const TariffPrice *pa[6],
			   *pb[6];
	static const char *const names[6] = {"total_cost", "total_fixed_cost", "total_energy_cost",
	"total_time_cost", "total_parking_cost", "total_reservation_cost"};
	int			i;

	tariff_cdr_init(&cut);
	if (!split_cdr(cdr, k % cdr->nperiods, &cut))
	{
		tariff_cdr_free(&cut);
		return;
	}
	tariff_totals_init(&a);
	tariff_totals_init(&b);
	if (tariff_cost(t, cdr, zone, &mode, &a, &err))
	{
		FUZZ_ASSERT(tariff_cost(t, &cut, zone, &mode, &b, &err), "the cut CDR fails: %s", err.message);
		dec_from_text(&tol, "1e-15", 5, NULL);
		pa[0] = &a.total_cost;
		pa[1] = &a.total_fixed_cost;
		pa[2] = &a.total_energy_cost;
		pa[3] = &a.total_time_cost;
		pa[4] = &a.total_parking_cost;
		pa[5] = &a.total_reservation_cost;
		pb[0] = &b.total_cost;
		pb[1] = &b.total_fixed_cost;
		pb[2] = &b.total_energy_cost;
		pb[3] = &b.total_time_cost;
		pb[4] = &b.total_parking_cost;
		pb[5] = &b.total_reservation_cost;
		for (i = 0; i < 6; i++)
		{
			close_to(&pa[i]->excl_vat, &pb[i]->excl_vat, &tol, names[i]);
			FUZZ_ASSERT(pa[i]->has_incl_vat == pb[i]->has_incl_vat, "cutting changes whether %s incl_vat is known", names[i]);
			if (pa[i]->has_incl_vat)
				close_to(&pa[i]->incl_vat, &pb[i]->incl_vat, &tol, names[i]);
		}
		FUZZ_ASSERT(dec_cmp(&a.total_energy, &b.total_energy) == 0 &&
					dec_cmp(&a.total_parking_time, &b.total_parking_time) == 0, "cutting changes volumes");
	}
	dec_free(&tol);
	tariff_totals_free(&a);
	tariff_totals_free(&b);
	tariff_cdr_free(&cut);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	DegBuf		j1,
				j2,
				jc;
	Tariff		t1,
				t2;
	TariffCdr	cdr;
	TariffError err;
	FuzzReader	r;
	size_t		split;
	int			mode;

	if (size < 2)
		return 0;
	/* the first byte says where the tariff's bytes end and the CDR's begin */
	split = 1 + (size_t) data[0] * (size - 1) / 256;
	gen_tariff(data + 1, split - 1, 1, &j1);
	gen_tariff(data + 1, split - 1, 2, &j2);
	fuzz_reader_init(&r, data + split, size - split);
	mode = fuzz_u8(&r) % 8;
	gen_cdr(&r, &jc);

	/* FUZZ_DUMP=1 fuzz_tariff_price <input>: show what an input prices */
	if (getenv("FUZZ_DUMP") != NULL)
		fprintf(stderr, "zone %d\ntariff %s\ncdr %s\n", mode, j1.data, jc.data);
	tariff_init(&t1);
	tariff_init(&t2);
	tariff_cdr_init(&cdr);
	if (tariff_parse(j1.data, j1.len, &t1, &err))
	{
		FUZZ_ASSERT(tariff_parse(j2.data, j2.len, &t2, &err), "doubled tariff refused: %s\n%s", err.message, j2.data);
		check_tariff(&t1);
		if (tariff_cdr_parse(jc.data, jc.len, &cdr, &err))
		{
			/* the same zone for price(): a fixed offset, or one that jumps */
			int32_t		off = mode == 0 ? 0 : (mode - 4) * 3600 + (mode == 7 ? 1800 : 0);
			uint8_t		cfg[5];

			cfg[0] = (uint8_t) (mode == 0 ? 2 : 1);
			cfg[1] = (uint8_t) off;
			cfg[2] = (uint8_t) (off >> 8);
			cfg[3] = (uint8_t) (off >> 16);
			cfg[4] = (uint8_t) (off >> 24);
			price(&t1, &cdr, cfg, 5);
			check_linear(&t1, &t2, &cdr, mode);
			check_split(&t1, &cdr, data[size - 1], mode);
		}
	}
	tariff_free(&t1);
	tariff_free(&t2);
	tariff_cdr_free(&cdr);
	degbuf_free(&j1);
	degbuf_free(&j2);
	degbuf_free(&jc);
	return 0;
}
