/*
 * fuzz_names.c: the short texts the glue hands to src/core as they come:
 * role, energy source, accepted source and currency names (offer.c),
 * formula type names (formula.c), CDR dimension names and RFC 3339
 * timestamps (tariff.c), and PostgreSQL timestamps formatted for
 * explanations (offer.c).
 *
 * A name that is accepted must be its canonical name up to ASCII case (or
 * exactly, for formula types), and the canonical name must be accepted
 * back.  A timestamp is checked against a reference parser written here
 * from RFC 3339 and OCPI (T or t, an optional fraction of 1 to 9 digits
 * kept to the microsecond, Z, z, an offset or nothing), and the
 * microseconds it gives must format back to a text that parses to them.
 */
#include "core/formula.h"
#include "core/offer.h"
#include "core/tariff.h"
#include "fuzz.h"

#include <ctype.h>

static bool
same_name(const char *s, size_t len, const char *name, bool fold)
{
	size_t		i;

	if (strlen(name) != len)
		return false;
	for (i = 0; i < len; i++)
		if ((fold ? toupper((unsigned char) s[i]) : s[i]) != name[i])
			return false;
	return true;
}

static void
check_names(const char *s, size_t len)
{
	int			v;
	uint32_t	mask;
	uint32_t	cur;
	uint64_t	sig;
	int			bits = 0;

	v = deg_role_from_name(s, len);
	if (v >= 0)
	{
		FUZZ_ASSERT(v < DEG_ROLE_COUNT && same_name(s, len, deg_role_name(v), true), "role %d", v);
		FUZZ_ASSERT(deg_role_from_name(deg_role_name(v), strlen(deg_role_name(v))) == v, "role name back");
	}
	v = deg_source_from_name(s, len);
	if (v >= 0)
	{
		FUZZ_ASSERT(v < DEG_SOURCE_COUNT && same_name(s, len, deg_source_name(v), true), "source %d", v);
		FUZZ_ASSERT(deg_source_from_name(deg_source_name(v), strlen(deg_source_name(v))) == v, "source back");
	}
	mask = deg_source_mask_from_name(s, len);
	if (same_name(s, len, "RENEWABLE", true))
		FUZZ_ASSERT(mask == DEG_SOURCES_RENEWABLE, "RENEWABLE mask %x", mask);
	else
		FUZZ_ASSERT(v >= 0 ? mask == (1u << v) : mask == 0, "source mask %x for source %d", mask, v);

	cur = deg_currency_pack(s, len);
	if (cur != 0)
	{
		char		back[4];

		FUZZ_ASSERT(len == 3, "currency of %zu bytes", len);
		deg_currency_unpack(cur, back);
		FUZZ_ASSERT(same_name(s, len, back, true) && deg_currency_pack(back, 3) == cur, "currency back");
	}
	else
		FUZZ_ASSERT(len != 3 || !isalpha((unsigned char) s[0]) || !isalpha((unsigned char) s[1]) ||
					!isalpha((unsigned char) s[2]), "three letters refused as a currency");

	sig = deg_signature(s, len);
	while (sig)
	{
		sig &= sig - 1;
		bits++;
	}
	FUZZ_ASSERT(bits == 1 || bits == 2, "signature with %d bits", bits);

	v = formula_type_from_name(s, len);
	if (v >= 0)
	{
		FUZZ_ASSERT(v < FORMULA_TYPE_COUNT && same_name(s, len, formula_type_name((FormulaType) v), false),
					"formula type %d", v);
		FUZZ_ASSERT(formula_type_from_name(formula_type_name((FormulaType) v),
										   strlen(formula_type_name((FormulaType) v))) == v, "type back");
	}
	v = tariff_cdr_dimension_from_name(s, len);
	FUZZ_ASSERT(v >= -1 && v < TARIFF_CDR_DIMS, "CDR dimension %d", v);
}

/* ---------- a reference RFC 3339 reader ---------- */

static bool
digits(const char *s, int n, int *v)
{
	int			i;

	*v = 0;
	for (i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* days from 1970-01-01, counted by whole 400-year cycles, years and months */
static int64_t
days_since_epoch(int y, int m, int d)
{
	static const int before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
	int64_t		days = 0;
	int			yy;

	for (yy = 1970; yy > y;)
	{
		yy -= 400;
		days -= 146097;
	}
	for (; yy + 400 <= y; yy += 400)
		days += 146097;
	for (; yy < y; yy++)
		days += leap(yy) ? 366 : 365;
	days += before[m - 1] + (m > 2 && leap(y)) + d - 1;
	return days;
}

static bool
reference_timestamp(const char *s, size_t len, int64_t *usec)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			y,
				mo,
				d,
				h,
				mi,
				sec,
				oh = 0,
				om = 0,
				sign = 0;
	int64_t		frac = 0;
	size_t		i = 19;

	if (len < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
		!digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
		s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)) ||
		h > 23 || mi > 59 || sec > 59)
		return false;
	if (i < len && s[i] == '.')
	{
		size_t		start = ++i;

		while (i < len && s[i] >= '0' && s[i] <= '9')
		{
			if (i - start < 6)
				frac += (s[i] - '0') * (int64_t) (i - start == 0 ? 100000 : i - start == 1 ? 10000 :
												  i - start == 2 ? 1000 : i - start == 3 ? 100 :
												  i - start == 4 ? 10 : 1);
			i++;
		}
		if (i == start || i - start > 9)
			return false;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i < len && (s[i] == '+' || s[i] == '-'))
	{
		if (len - i != 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || !digits(s + i + 4, 2, &om) ||
			oh > 23 || om > 59)
			return false;
		sign = s[i] == '-' ? -1 : 1;
		i += 6;
	}
	if (i != len)
		return false;
	*usec = days_since_epoch(y, mo, d) * INT64_C(86400000000) +
		((int64_t) h * 3600 + mi * 60 + sec - sign * (oh * 3600 + om * 60)) * INT64_C(1000000) + frac;
	return true;
}

/* microseconds since 1970 as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (years 1..9999) */
static void
format_utc(int64_t usec, char out[40])
{
	int64_t		days = usec / INT64_C(86400000000);
	int64_t		rem = usec % INT64_C(86400000000);
	int			y = 1970,
				m = 1;

	if (rem < 0)
	{
		rem += INT64_C(86400000000);
		days--;
	}
	while (days < 0)
	{
		y -= 400;
		days += 146097;
	}
	while (days >= 146097)
	{
		y += 400;
		days -= 146097;
	}
	while (days >= (leap(y) ? 366 : 365))
		days -= leap(y++) ? 366 : 365;
	for (;;)
	{
		static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int			len = mdays[m - 1] + (m == 2 && leap(y));

		if (days < len)
			break;
		days -= len;
		m++;
	}
	snprintf(out, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", y, m, (int) days + 1,
			 (int) (rem / INT64_C(3600000000)), (int) (rem / 60000000 % 60), (int) (rem / 1000000 % 60),
			 (int) (rem % 1000000));
}

static void
check_timestamp(const char *s, size_t len)
{
	int64_t		got = 0,
				want = 0;
	bool		ok = tariff_parse_timestamp(s, len, &got);
	char	   *text = fuzz_strndup(s, len);

	FUZZ_ASSERT(ok == reference_timestamp(s, len, &want), "\"%s\" %s but the reference %s", text,
				ok ? "is accepted" : "is refused", ok ? "refuses it" : "accepts it");
	if (ok)
	{
		char		back[40];
		int64_t		again = 0;

		FUZZ_ASSERT(got == want, "\"%s\" reads as %lld, the reference %lld", text, (long long) got, (long long) want);
		format_utc(got, back);
		/* an offset can move year 1 or 9999 out of the four digits */
		if (back[0] != '-' && strlen(back) == 27 && strncmp(back, "0000", 4) != 0)
			FUZZ_ASSERT(tariff_parse_timestamp(back, strlen(back), &again) && again == got,
						"\"%s\" reads as %lld, formatted \"%s\" does not read back", text, (long long) got, back);
	}
	free(text);
}

/* a PostgreSQL timestamp in an explanation: the date and time, in 39 bytes at most */
static void
check_format(const uint8_t *data, size_t size)
{
	FuzzReader	r;
	int64_t		ts;
	char		out[40];

	fuzz_reader_init(&r, data, size);
	ts = (int64_t) fuzz_u64(&r, 8);
	memset(out, 'x', sizeof(out));
	deg_format_timestamp(ts, out);
	FUZZ_ASSERT(memchr(out, '\0', sizeof(out)) != NULL, "unterminated timestamp text");
	if (ts != DEG_TS_NOBEGIN && ts != DEG_TS_NOEND && ts >= -INT64_C(60000000000000000) &&
		ts <= INT64_C(60000000000000000))
	{
		/* within +-1900 years of 2000: the same instant as format_utc says, to the second */
		char		ref[40];

		format_utc(ts + INT64_C(946684800000000), ref);
		ref[10] = ' ';
		ref[19] = 'Z';
		ref[20] = '\0';
		FUZZ_ASSERT(strcmp(out, ref) == 0, "%lld formats as \"%s\", want \"%s\"", (long long) ts, out, ref);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_names((const char *) data, size);
	check_timestamp((const char *) data, size);
	check_format(data, size);
	return 0;
}
