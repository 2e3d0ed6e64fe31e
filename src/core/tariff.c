/*
 * tariff.c: OCPI 2.2.1 tariffs (and DEG's camelCase variant): reading and
 * validating them, their binary and JSON forms, charge data records, and
 * the pricing of a CDR.  The rules are in tariff.h.
 */
#include "tariff.h"

#include "jcs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USEC_PER_SEC INT64_C(1000000)
#define SECS_PER_DAY 86400
#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)

/* 1000-01-01 and 2999-12-31, the dates OCPI's regex allows, in days since 1970 */
#define MIN_DATE_DAYS (-353920)
#define MAX_DATE_DAYS 376199

/* the binary form */
#define BIN_MAGIC 0x54			/* 'T' */
#define BIN_VERSION 1
#define BIN_MIN_PRICE 0x01
#define BIN_MIN_INCL 0x02
#define BIN_MAX_PRICE 0x04
#define BIN_MAX_INCL 0x08

static const char *const dim_names[TARIFF_DIMS] = {
	"ENERGY", "FLAT", "TIME", "PARKING_TIME", "AD_HOC_PAYMENT"
};

static const char *const type_names[TARIFF_TYPES] = {
	"AD_HOC_PAYMENT", "PROFILE_CHEAP", "PROFILE_FAST", "PROFILE_GREEN", "REGULAR"
};

static const char *const day_names[7] = {
	"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"
};

static const char *const reservation_names[5] = {
	"", "RESERVATION", "RESERVATION_EXPIRES", "RESERVED", "NOT_RESERVED"
};

static const char *const cdr_dim_names[TARIFF_CDR_DIMS] = {
	"CURRENT", "ENERGY", "ENERGY_EXPORT", "ENERGY_IMPORT", "MAX_CURRENT",
	"MIN_CURRENT", "MAX_POWER", "MIN_POWER", "PARKING_TIME", "POWER",
	"RESERVATION_TIME", "STATE_OF_CHARGE", "TIME"
};

/* field names in the two dialects; NULL: the dialect has no such field */
typedef struct FieldName
{
	const char *ocpi;
	const char *deg;
} FieldName;

enum
{
	F_CURRENCY, F_TYPE, F_MIN_PRICE, F_MAX_PRICE, F_ELEMENTS,
	/* the rest are kept in meta, in OCPI's order of the Tariff object */
	F_COUNTRY_CODE, F_PARTY_ID, F_ID, F_ALT_TEXT, F_ALT_URL,
	F_START_DATE_TIME, F_END_DATE_TIME, F_ENERGY_MIX, F_LAST_UPDATED,
	NTOP
};
#define F_FIRST_META F_COUNTRY_CODE

static const FieldName top_fields[NTOP] = {
	{"currency", "currency"}, {"type", "type"}, {"min_price", "minPrice"},
	{"max_price", "maxPrice"}, {"elements", "elements"},
	{"country_code", NULL}, {"party_id", NULL}, {"id", "tariffId"},
	{"tariff_alt_text", "tariffAltText"}, {"tariff_alt_url", "tariffAltUrl"},
	{"start_date_time", NULL}, {"end_date_time", NULL},
	{"energy_mix", "energyMix"}, {"last_updated", NULL}
};

enum
{
	P_EXCL, P_INCL, NPRICE
};
static const FieldName price_fields[NPRICE] = {
	{"excl_vat", "exclVat"}, {"incl_vat", "inclVat"}
};

enum
{
	E_COMPONENTS, E_RESTRICTIONS, NELEM
};
static const FieldName element_fields[NELEM] = {
	{"price_components", "priceComponents"}, {"restrictions", "restrictions"}
};

enum
{
	C_TYPE, C_PRICE, C_VAT, C_STEP, NCOMP
};
static const FieldName component_fields[NCOMP] = {
	{"type", "type"}, {"price", "price"}, {"vat", "vat"}, {"step_size", "stepSize"}
};

/* in the order of the TARIFF_R_* bits: field i is bit (1 << i) */
#define NRESTR 14
static const FieldName restriction_fields[NRESTR] = {
	{"start_time", "startTime"}, {"end_time", "endTime"},
	{"start_date", "startDate"}, {"end_date", "endDate"},
	{"min_kwh", "minKWh"}, {"max_kwh", "maxKWh"},
	{"min_current", "minCurrent"}, {"max_current", "maxCurrent"},
	{"min_power", "minPower"}, {"max_power", "maxPower"},
	{"min_duration", "minDuration"}, {"max_duration", "maxDuration"},
	{"day_of_week", "dayOfWeek"}, {"reservation", "reservation"}
};
#define RI_START_TIME 0
#define RI_END_TIME 1
#define RI_START_DATE 2
#define RI_END_DATE 3
#define RI_MIN_KWH 4
#define RI_MAX_DURATION 11
#define RI_DAY_OF_WEEK 12
#define RI_RESERVATION 13

/* ---------- errors and small helpers ---------- */

/* append len bytes of s at out[*n], truncating at cap - 1; out stays NUL-terminated */
static void
append_trunc(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (*n + 1 >= cap)
		return;
	if (len > cap - 1 - *n)
		len = cap - 1 - *n;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static bool
fail(TariffError *err, const char *path, const char *fmt,...)
{
	va_list		ap;
	char		detail[256];
	size_t		n = 0;

	if (err == NULL)
		return false;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (path == NULL)
		path = "";
	err->path[0] = '\0';
	append_trunc(err->path, sizeof(err->path), &n, path, strlen(path));
	n = 0;
	err->message[0] = '\0';
	if (err->path[0])
	{
		append_trunc(err->message, sizeof(err->message), &n, err->path, strlen(err->path));
		append_trunc(err->message, sizeof(err->message), &n, ": ", 2);
	}
	append_trunc(err->message, sizeof(err->message), &n, detail, strlen(detail));
	return false;
}

/* a key or string from the input, fit for a message: at most 40 bytes, no controls */
static void
printable(const char *s, size_t len, char *out, size_t cap)
{
	size_t		i,
				n = 0;

	for (i = 0; i < len && n + 4 < cap && i < 40; i++)
	{
		unsigned char c = (unsigned char) s[i];

		out[n++] = (c < 0x20 || c == 0x7f || c == '"' || c == '\\') ? '?' : (char) c;
	}
	if (i < len && n + 4 < cap)
	{
		out[n++] = '.';
		out[n++] = '.';
		out[n++] = '.';
	}
	out[n] = '\0';
}

/* out = base.name (or name when base is empty); out must not be base */
static void
path_join(char *out, size_t cap, const char *base, const char *name)
{
	size_t		n = 0;

	out[0] = '\0';
	append_trunc(out, cap, &n, base, strlen(base));
	if (base[0])
		append_trunc(out, cap, &n, ".", 1);
	append_trunc(out, cap, &n, name, strlen(name));
}

static void
path_key(char *out, size_t cap, const char *base, const char *key, size_t keylen)
{
	char		k[64];

	printable(key, keylen, k, sizeof(k));
	path_join(out, cap, base, k);
}

/* out = base[i]; out must not be base */
static void
path_index(char *out, size_t cap, const char *base, size_t i)
{
	char		idx[32];
	size_t		n = 0;

	snprintf(idx, sizeof(idx), "[%zu]", i);
	out[0] = '\0';
	append_trunc(out, cap, &n, base, strlen(base));
	append_trunc(out, cap, &n, idx, strlen(idx));
}

static bool
str_eq(const char *s, size_t len, const char *name)
{
	return name != NULL && strlen(name) == len && memcmp(s, name, len) == 0;
}

static int
name_index(const char *s, size_t len, const char *const *names, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (str_eq(s, len, names[i]))
			return i;
	return -1;
}

const char *
tariff_dimension_name(int dim)
{
	return (dim >= 0 && dim < TARIFF_DIMS) ? dim_names[dim] : "?";
}

const char *
tariff_type_name(int type)
{
	return (type >= 0 && type < TARIFF_TYPES) ? type_names[type] : "";
}

int
tariff_cdr_dimension_from_name(const char *name, size_t len)
{
	return name_index(name, len, cdr_dim_names, TARIFF_CDR_DIMS);
}

/*
 * The scale of a decimal is lowered to the last nonzero digit, which the
 * representation allows (no nonzero digit may lie beyond dscale), so that
 * products of results do not carry runs of zeros.
 */
static void
trim_scale(Decimal *d)
{
	const int16_t *dig = dec_digits(d);
	int			scale;
	int			last;

	if (d->ndigits == 0)
	{
		d->dscale = 0;
		return;
	}
	scale = (d->ndigits - 1 - d->weight) * DEC_DEC_DIGITS;
	last = dig[d->ndigits - 1];
	while (scale > 0 && last % 10 == 0)
	{
		last /= 10;
		scale--;
	}
	if (scale < 0)
		scale = 0;
	if (scale < d->dscale)
		d->dscale = scale;
}

/*
 * Numbers read from tariffs and CDRs: at most TARIFF_MAX_INT_DIGITS digits
 * before the point and TARIFF_MAX_FRAC_DIGITS nonzero digits after it (the
 * scale is lowered to that when the digits beyond are zeros), so that all
 * arithmetic on them stays small.
 */
static bool
fit_decimal(Decimal *d, const char *path, TariffError *err)
{
	/* digits before the point: the first base-10000 digit and weight tell */
	if (d->ndigits > 0 && d->weight >= 0)
	{
		int			first = dec_digits(d)[0];
		int			n = d->weight * DEC_DEC_DIGITS + 1;

		while (first >= 10)
		{
			first /= 10;
			n++;
		}
		if (n > TARIFF_MAX_INT_DIGITS)
			return fail(err, path, "number too large (at most %d digits before the point)",
						TARIFF_MAX_INT_DIGITS);
	}
	if (d->dscale > TARIFF_MAX_FRAC_DIGITS)
	{
		Decimal		copy = DEC_INIT;

		if (dec_copy(&copy, d, NULL) != DEC_OK)
			return fail(err, path, "out of memory");
		trim_scale(&copy);
		if (copy.dscale > TARIFF_MAX_FRAC_DIGITS)
		{
			dec_free(&copy);
			return fail(err, path, "too many digits after the point (at most %d)",
						TARIFF_MAX_FRAC_DIGITS);
		}
		dec_free(&copy);
		d->dscale = TARIFF_MAX_FRAC_DIGITS;
	}
	return true;
}

/* days since 1970-01-01 of a civil date (Howard Hinnant's algorithm) */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(int64_t y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return days[m - 1];
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
digits_value(const char *s, int n)
{
	int			v = 0;
	int			i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static bool
all_digits(const char *s, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return false;
	return true;
}

/* "HH:MM", OCPI's ([0-1][0-9]|2[0-3]):[0-5][0-9], to seconds of the day */
static bool
parse_hhmm(const char *s, size_t len, int32_t *secs)
{
	int			h,
				m;

	if (len != 5 || s[2] != ':' || !all_digits(s, 2) || !all_digits(s + 3, 2))
		return false;
	h = digits_value(s, 2);
	m = digits_value(s + 3, 2);
	if (h > 23 || m > 59)
		return false;
	*secs = (int32_t) (h * 3600 + m * 60);
	return true;
}

/* "YYYY-MM-DD", years 1000..2999 as OCPI's regex, a real calendar day */
static bool
parse_date(const char *s, size_t len, int32_t *days)
{
	int			y,
				m,
				d;

	if (len != 10 || s[4] != '-' || s[7] != '-' || !all_digits(s, 4) ||
		!all_digits(s + 5, 2) || !all_digits(s + 8, 2))
		return false;
	y = digits_value(s, 4);
	m = digits_value(s + 5, 2);
	d = digits_value(s + 8, 2);
	if (y < 1000 || y > 2999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return false;
	*days = (int32_t) days_from_civil(y, m, d);
	return true;
}

bool
tariff_parse_timestamp(const char *s, size_t len, int64_t *usec)
{
	int			y,
				mo,
				d,
				h,
				mi,
				sec;
	size_t		i = 19;
	int64_t		frac = 0;
	int64_t		offset = 0;
	int64_t		days;

	if (len < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
		s[13] != ':' || s[16] != ':' || !all_digits(s, 4) || !all_digits(s + 5, 2) ||
		!all_digits(s + 8, 2) || !all_digits(s + 11, 2) || !all_digits(s + 14, 2) ||
		!all_digits(s + 17, 2))
		return false;
	y = digits_value(s, 4);
	mo = digits_value(s + 5, 2);
	d = digits_value(s + 8, 2);
	h = digits_value(s + 11, 2);
	mi = digits_value(s + 14, 2);
	sec = digits_value(s + 17, 2);
	if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
		h > 23 || mi > 59 || sec > 59)
		return false;
	if (i < len && s[i] == '.')
	{
		int			n = 0;

		i++;
		while (i < len && is_digit(s[i]))
		{
			if (n < 6)
				frac = frac * 10 + (s[i] - '0');
			n++;
			i++;
		}
		if (n == 0 || n > 9)
			return false;
		while (n < 6)
		{
			frac *= 10;
			n++;
		}
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i < len && (s[i] == '+' || s[i] == '-'))
	{
		int			oh,
					om;

		if (len - i != 6 || s[i + 3] != ':' || !all_digits(s + i + 1, 2) ||
			!all_digits(s + i + 4, 2))
			return false;
		oh = digits_value(s + i + 1, 2);
		om = digits_value(s + i + 4, 2);
		if (oh > 23 || om > 59)
			return false;
		offset = (int64_t) (oh * 3600 + om * 60) * USEC_PER_SEC;
		if (s[i] == '-')
			offset = -offset;
		i += 6;
	}
	if (i != len)
		return false;
	days = days_from_civil(y, mo, d);
	*usec = days * USEC_PER_DAY +
		((int64_t) h * 3600 + mi * 60 + sec) * USEC_PER_SEC + frac - offset;
	return true;
}

/* ---------- reading a tariff ---------- */

typedef struct ParseCtx
{
	int			dialect;		/* TariffDialect, or -1 before any tells */
	TariffError *err;
} ParseCtx;

static const char *
field_name(const ParseCtx *cx, const FieldName *f)
{
	if (cx->dialect == TARIFF_DIALECT_DEG && f->deg)
		return f->deg;
	return f->ocpi ? f->ocpi : f->deg;
}

/*
 * Which field of names is this member?  Sets the dialect on the first
 * dialect-specific name; a name of the other dialect, or none, is an error
 * (returns -1).
 */
static int
classify(ParseCtx *cx, const FieldName *names, int n, const JsonMember *m,
		 const char *path)
{
	int			i;
	char		key[64];
	char		sub[256];

	for (i = 0; i < n; i++)
	{
		bool		is_ocpi = str_eq(m->key, m->keylen, names[i].ocpi);
		bool		is_deg = str_eq(m->key, m->keylen, names[i].deg);
		int			d;

		if (!is_ocpi && !is_deg)
			continue;
		if (is_ocpi && is_deg)
			return i;
		d = is_ocpi ? TARIFF_DIALECT_OCPI : TARIFF_DIALECT_DEG;
		if (cx->dialect < 0)
			cx->dialect = d;
		else if (cx->dialect != d)
		{
			path_key(sub, sizeof(sub), path, m->key, m->keylen);
			fail(cx->err, sub, "%s field name, but this tariff uses %s field names",
				 is_ocpi ? "an OCPI snake_case" : "a DEG camelCase",
				 cx->dialect == TARIFF_DIALECT_OCPI ? "OCPI snake_case" : "DEG camelCase");
			return -1;
		}
		return i;
	}
	path_key(sub, sizeof(sub), path, m->key, m->keylen);
	printable(m->key, m->keylen, key, sizeof(key));
	fail(cx->err, sub, "unknown field \"%s\"", key);
	return -1;
}

static bool
expect_kind(ParseCtx *cx, const JsonNode *n, JsonKind kind, const char *path,
			const char *what)
{
	if (n->kind != kind)
		return fail(cx->err, path, "must be %s, not %s", what, json_kind_name(n->kind));
	return true;
}

static bool
read_decimal(ParseCtx *cx, const JsonNode *n, const char *path, Decimal *out)
{
	DecError	de;

	if (!expect_kind(cx, n, JSON_NUMBER, path, "a number"))
		return false;
	if (dec_from_text(out, n->text, n->len, &de) != DEC_OK)
		return fail(cx->err, path, "%s", de.message);
	return fit_decimal(out, path, cx->err);
}

/* an integer in [lo, hi] (JSON numbers like 300.0 or 3e2 included) */
static bool
read_int(ParseCtx *cx, const JsonNode *n, const char *path, int64_t lo, int64_t hi,
		 int64_t *out)
{
	double		v;

	if (!expect_kind(cx, n, JSON_NUMBER, path, "an integer"))
		return false;
	v = n->number;
	if (v < -9e18 || v > 9e18 || (double) (int64_t) v != v)
		return fail(cx->err, path, "must be an integer (got %s)", n->text);
	if (v < (double) lo || v > (double) hi)
		return fail(cx->err, path, "must be between %lld and %lld (got %s)",
					(long long) lo, (long long) hi, n->text);
	*out = (int64_t) v;
	return true;
}

static bool
check_nonnegative(const Decimal *d, const char *path, TariffError *err)
{
	char		buf[64];

	if (dec_sign(d) < 0)
	{
		if (dec_text_size(d) <= sizeof(buf))
			dec_format(d, buf);
		else
			snprintf(buf, sizeof(buf), "a negative number");
		return fail(err, path, "must not be negative (got %s)", buf);
	}
	return true;
}

static bool
read_price(ParseCtx *cx, const JsonNode *n, const char *path, TariffPrice *p)
{
	const JsonNode *f[NPRICE] = {NULL, NULL};
	char		sub[256];
	size_t		i;

	if (!expect_kind(cx, n, JSON_OBJECT, path, "an object"))
		return false;
	for (i = 0; i < n->count; i++)
	{
		int			id = classify(cx, price_fields, NPRICE, &n->members[i], path);

		if (id < 0)
			return false;
		f[id] = n->members[i].value;
	}
	path_key(sub, sizeof(sub), path, field_name(cx, &price_fields[P_EXCL]),
			 strlen(field_name(cx, &price_fields[P_EXCL])));
	if (f[P_EXCL] == NULL || f[P_EXCL]->kind == JSON_NULL)
		return fail(cx->err, sub, "is required");
	if (!read_decimal(cx, f[P_EXCL], sub, &p->excl_vat) ||
		!check_nonnegative(&p->excl_vat, sub, cx->err))
		return false;
	p->has_incl_vat = false;
	if (f[P_INCL] != NULL && f[P_INCL]->kind != JSON_NULL)
	{
		path_key(sub, sizeof(sub), path, field_name(cx, &price_fields[P_INCL]),
				 strlen(field_name(cx, &price_fields[P_INCL])));
		if (!read_decimal(cx, f[P_INCL], sub, &p->incl_vat) ||
			!check_nonnegative(&p->incl_vat, sub, cx->err))
			return false;
		p->has_incl_vat = true;
	}
	return true;
}

static void
component_init(TariffPriceComponent *c)
{
	c->type = 0;
	c->has_vat = false;
	c->step_size = 1;
	dec_init(&c->price);
	dec_init(&c->vat);
	dec_init(&c->vat_factor);
}

static void
component_free(TariffPriceComponent *c)
{
	dec_free(&c->price);
	dec_free(&c->vat);
	dec_free(&c->vat_factor);
}

static void
restrictions_init(TariffRestrictions *r)
{
	r->mask = 0;
	r->start_time = r->end_time = 0;
	r->start_date = r->end_date = 0;
	r->day_mask = 0;
	r->reservation = TARIFF_RES_NONE;
	r->min_duration = r->max_duration = 0;
	dec_init(&r->min_kwh);
	dec_init(&r->max_kwh);
	dec_init(&r->min_current);
	dec_init(&r->max_current);
	dec_init(&r->min_power);
	dec_init(&r->max_power);
}

static void
restrictions_free(TariffRestrictions *r)
{
	dec_free(&r->min_kwh);
	dec_free(&r->max_kwh);
	dec_free(&r->min_current);
	dec_free(&r->max_current);
	dec_free(&r->min_power);
	dec_free(&r->max_power);
}

static void
element_init(TariffElement *e)
{
	int			i;

	e->ncomponents = 0;
	for (i = 0; i < TARIFF_DIMS; i++)
	{
		component_init(&e->components[i]);
		e->component_of[i] = -1;
	}
	restrictions_init(&e->r);
}

static void
element_free(TariffElement *e)
{
	int			i;

	for (i = 0; i < TARIFF_DIMS; i++)
		component_free(&e->components[i]);
	restrictions_free(&e->r);
}

/* the restriction decimals in field order (indexes 4..9) */
static Decimal *
restriction_decimal(TariffRestrictions *r, int index)
{
	switch (index)
	{
		case 4:
			return &r->min_kwh;
		case 5:
			return &r->max_kwh;
		case 6:
			return &r->min_current;
		case 7:
			return &r->max_current;
		case 8:
			return &r->min_power;
		default:
			return &r->max_power;
	}
}

static const Decimal *
restriction_decimal_c(const TariffRestrictions *r, int index)
{
	return restriction_decimal((TariffRestrictions *) r, index);
}

/*
 * Checks of a component on its values, shared by the JSON reader and the
 * binary reader: prices and VAT not negative, step_size at least 1 for the
 * dimensions it measures (FLAT and AD_HOC_PAYMENT have none: 0 is allowed).
 */
static bool
check_component(const TariffPriceComponent *c, int dialect, const char *path,
				TariffError *err)
{
	char		sub[256];
	const char *step = dialect == TARIFF_DIALECT_DEG ? "stepSize" : "step_size";

	if (c->type >= TARIFF_DIMS)
		return fail(err, path, "unknown dimension type");
	path_join(sub, sizeof(sub), path, "price");
	if (!fit_decimal((Decimal *) &c->price, sub, err) || !check_nonnegative(&c->price, sub, err))
		return false;
	if (c->has_vat)
	{
		path_join(sub, sizeof(sub), path, "vat");
		if (!fit_decimal((Decimal *) &c->vat, sub, err) || !check_nonnegative(&c->vat, sub, err))
			return false;
	}
	path_join(sub, sizeof(sub), path, step);
	if (c->type == TARIFF_DIM_FLAT || c->type == TARIFF_DIM_AD_HOC_PAYMENT)
	{
		if (c->step_size < 0)
			return fail(err, sub, "must not be negative (got %d)", (int) c->step_size);
	}
	else if (c->step_size < 1)
		return fail(err, sub, "must be a positive integer (%s of %s, got %d)",
					c->type == TARIFF_DIM_ENERGY ? "Wh" : "seconds",
					dim_names[c->type], (int) c->step_size);
	return true;
}

static bool
set_vat_factor(TariffPriceComponent *c, const char *path, TariffError *err)
{
	Decimal		hundred = DEC_INIT;
	Decimal		one = DEC_INIT;
	bool		ok;

	if (!c->has_vat)
		return true;
	ok = dec_from_int64(&hundred, 100, NULL) == DEC_OK &&
		dec_from_int64(&one, 1, NULL) == DEC_OK &&
		dec_div_round(&c->vat_factor, &c->vat, &hundred, c->vat.dscale + 2,
					  DEC_ROUND_HALF_EVEN, NULL) == DEC_OK &&
		dec_add(&c->vat_factor, &c->vat_factor, &one, NULL) == DEC_OK;
	dec_free(&hundred);
	dec_free(&one);
	if (!ok)
		return fail(err, path, "out of memory");
	trim_scale(&c->vat_factor);
	return true;
}

/*
 * Checks of restrictions on their values: fields in range, no negative
 * bounds, every lower bound below its upper bound (an element that can never
 * apply is a mistake), and the reservation values of the dialect.
 */
static bool
check_restrictions(const TariffRestrictions *r, int dialect, const char *path,
				   TariffError *err)
{
	char		sub[256];
	int			i;
	int			deg = dialect == TARIFF_DIALECT_DEG;

	if (r->mask & ~(uint32_t) TARIFF_R_ALL)
		return fail(err, path, "unknown restriction");
	if (((r->mask & TARIFF_R_START_TIME) &&
		 (r->start_time < 0 || r->start_time >= SECS_PER_DAY || r->start_time % 60 != 0)) ||
		((r->mask & TARIFF_R_END_TIME) &&
		 (r->end_time < 0 || r->end_time >= SECS_PER_DAY || r->end_time % 60 != 0)))
		return fail(err, path, "time of day out of range");
	if (((r->mask & TARIFF_R_START_DATE) &&
		 (r->start_date < MIN_DATE_DAYS || r->start_date > MAX_DATE_DAYS)) ||
		((r->mask & TARIFF_R_END_DATE) &&
		 (r->end_date < MIN_DATE_DAYS || r->end_date > MAX_DATE_DAYS)))
		return fail(err, path, "date out of range");
	if ((r->mask & TARIFF_R_START_DATE) && (r->mask & TARIFF_R_END_DATE) &&
		r->start_date >= r->end_date)
	{
		path_join(sub, sizeof(sub), path, deg ? "endDate" : "end_date");
		return fail(err, sub, "must be after the start date (the end date is exclusive)");
	}
	for (i = 4; i <= 9; i++)
	{
		if (!(r->mask & (1u << i)))
			continue;
		path_join(sub, sizeof(sub), path,
				  deg ? restriction_fields[i].deg : restriction_fields[i].ocpi);
		if (!fit_decimal(restriction_decimal((TariffRestrictions *) r, i), sub, err) ||
			!check_nonnegative(restriction_decimal_c(r, i), sub, err))
			return false;
		/* odd fields are maxima: each must exceed the minimum before it */
		if ((i % 2) == 1 && (r->mask & (1u << (i - 1))) &&
			dec_cmp(restriction_decimal_c(r, i - 1), restriction_decimal_c(r, i)) >= 0)
			return fail(err, sub, "must be greater than %s",
						deg ? restriction_fields[i - 1].deg : restriction_fields[i - 1].ocpi);
	}
	if (((r->mask & TARIFF_R_MIN_DURATION) && (r->min_duration < 0 || r->min_duration > INT32_MAX)) ||
		((r->mask & TARIFF_R_MAX_DURATION) && (r->max_duration < 0 || r->max_duration > INT32_MAX)))
		return fail(err, path, "duration out of range");
	if ((r->mask & TARIFF_R_MIN_DURATION) && (r->mask & TARIFF_R_MAX_DURATION) &&
		r->min_duration >= r->max_duration)
	{
		path_join(sub, sizeof(sub), path,
				  deg ? restriction_fields[RI_MAX_DURATION].deg : restriction_fields[RI_MAX_DURATION].ocpi);
		return fail(err, sub, "must be greater than %s", deg ? "minDuration" : "min_duration");
	}
	if ((r->mask & TARIFF_R_DAY_OF_WEEK) && (r->day_mask == 0 || r->day_mask > 0x7F))
		return fail(err, path, "day of week out of range");
	if (r->mask & TARIFF_R_RESERVATION)
	{
		if (r->reservation == TARIFF_RES_NONE || r->reservation > TARIFF_RES_NOT_RESERVED)
			return fail(err, path, "unknown reservation restriction");
	}
	else if (r->reservation != TARIFF_RES_NONE)
		return fail(err, path, "unknown reservation restriction");
	return true;
}

/* checks of an element as a whole, after its parts */
static bool
check_element(const TariffElement *e, int dialect, const char *path, TariffError *err)
{
	const char *pcs = dialect == TARIFF_DIALECT_DEG ? "priceComponents" : "price_components";
	char		sub[256];
	char		list[256];
	int			i;
	int8_t		seen[TARIFF_DIMS];

	if (e->ncomponents < 1 || e->ncomponents > TARIFF_DIMS)
	{
		path_join(sub, sizeof(sub), path, pcs);
		return fail(err, sub, "must have 1 to %d price components", TARIFF_DIMS);
	}
	memset(seen, -1, sizeof(seen));
	for (i = 0; i < e->ncomponents; i++)
	{
		const TariffPriceComponent *c = &e->components[i];

		path_join(list, sizeof(list), path, pcs);
		path_index(sub, sizeof(sub), list, (size_t) i);
		if (!check_component(c, dialect, sub, err))
			return false;
		if (seen[c->type] >= 0)
			return fail(err, sub, "a second %s price component in one element (only the first could ever apply)",
						dim_names[c->type]);
		seen[c->type] = (int8_t) i;
		if ((e->r.mask & TARIFF_R_RESERVATION) &&
			(e->r.reservation == TARIFF_RES_RESERVATION || e->r.reservation == TARIFF_RES_EXPIRES) &&
			c->type != TARIFF_DIM_FLAT && c->type != TARIFF_DIM_TIME)
			return fail(err, sub, "a reservation element can only have FLAT and TIME price components, not %s",
						dim_names[c->type]);
	}
	for (i = 0; i < TARIFF_DIMS; i++)
		if (e->component_of[i] != seen[i])
			return fail(err, path, "inconsistent component index");
	path_join(sub, sizeof(sub), path, "restrictions");
	return check_restrictions(&e->r, dialect, sub, err);
}

static bool
read_component(ParseCtx *cx, const JsonNode *n, const char *path, TariffPriceComponent *c)
{
	const JsonNode *f[NCOMP] = {NULL, NULL, NULL, NULL};
	char		sub[256];
	char		shown[64];
	size_t		i;
	int			dim;
	int64_t		step;

	if (!expect_kind(cx, n, JSON_OBJECT, path, "an object"))
		return false;
	for (i = 0; i < n->count; i++)
	{
		int			id = classify(cx, component_fields, NCOMP, &n->members[i], path);

		if (id < 0)
			return false;
		f[id] = n->members[i].value;
	}
	path_join(sub, sizeof(sub), path, "type");
	if (f[C_TYPE] == NULL)
		return fail(cx->err, sub, "is required");
	if (!expect_kind(cx, f[C_TYPE], JSON_STRING, sub, "a string"))
		return false;
	dim = name_index(f[C_TYPE]->text, f[C_TYPE]->len, dim_names, TARIFF_DIMS);
	/*
	 * DEG's AD_HOC_PAYMENT is read in both dialects: tariff_to_json writes
	 * every tariff in snake_case, and that text must read back (pg_dump).
	 */
	if (dim < 0)
	{
		printable(f[C_TYPE]->text, f[C_TYPE]->len, shown, sizeof(shown));
		return fail(cx->err, sub, "unknown dimension \"%s\" (expected ENERGY, FLAT, TIME or PARKING_TIME, or DEG's AD_HOC_PAYMENT)",
					shown);
	}
	c->type = (uint8_t) dim;
	path_join(sub, sizeof(sub), path, "price");
	if (f[C_PRICE] == NULL || f[C_PRICE]->kind == JSON_NULL)
		return fail(cx->err, sub, "is required");
	if (!read_decimal(cx, f[C_PRICE], sub, &c->price))
		return false;
	c->has_vat = false;
	if (f[C_VAT] != NULL && f[C_VAT]->kind != JSON_NULL)
	{
		path_join(sub, sizeof(sub), path, "vat");
		if (!read_decimal(cx, f[C_VAT], sub, &c->vat))
			return false;
		c->has_vat = true;
	}
	path_join(sub, sizeof(sub), path, field_name(cx, &component_fields[C_STEP]));
	if (f[C_STEP] == NULL || f[C_STEP]->kind == JSON_NULL)
	{
		/* required by OCPI; DEG's schema defaults it to 1 */
		if (cx->dialect != TARIFF_DIALECT_DEG)
			return fail(cx->err, sub, "is required");
		step = 1;
	}
	else if (!read_int(cx, f[C_STEP], sub, INT32_MIN, INT32_MAX, &step))
		return false;
	c->step_size = (int32_t) step;
	return true;
}

static bool
read_restrictions(ParseCtx *cx, const JsonNode *n, const char *path, TariffRestrictions *r)
{
	size_t		i,
				j;
	char		sub[256];
	char		shown[64];

	if (!expect_kind(cx, n, JSON_OBJECT, path, "an object"))
		return false;
	for (i = 0; i < n->count; i++)
	{
		const JsonNode *v = n->members[i].value;
		int			id = classify(cx, restriction_fields, NRESTR, &n->members[i], path);
		int64_t		iv;

		if (id < 0)
			return false;
		if (v->kind == JSON_NULL)
			continue;
		path_key(sub, sizeof(sub), path, n->members[i].key, n->members[i].keylen);
		switch (id)
		{
			case RI_START_TIME:
			case RI_END_TIME:
				if (!expect_kind(cx, v, JSON_STRING, sub, "a string"))
					return false;
				if (!parse_hhmm(v->text, v->len, id == RI_START_TIME ? &r->start_time : &r->end_time))
				{
					printable(v->text, v->len, shown, sizeof(shown));
					return fail(cx->err, sub, "malformed time \"%s\" (expected HH:MM, 00:00 to 23:59)", shown);
				}
				break;
			case RI_START_DATE:
			case RI_END_DATE:
				if (!expect_kind(cx, v, JSON_STRING, sub, "a string"))
					return false;
				if (!parse_date(v->text, v->len, id == RI_START_DATE ? &r->start_date : &r->end_date))
				{
					printable(v->text, v->len, shown, sizeof(shown));
					return fail(cx->err, sub, "malformed date \"%s\" (expected YYYY-MM-DD, years 1000 to 2999)", shown);
				}
				break;
			case RI_DAY_OF_WEEK:
				if (!expect_kind(cx, v, JSON_ARRAY, sub, "an array"))
					return false;
				for (j = 0; j < v->count; j++)
				{
					const JsonNode *d = v->items[j];
					char		dsub[280];
					int			day;

					path_index(dsub, sizeof(dsub), sub, j);
					if (!expect_kind(cx, d, JSON_STRING, dsub, "a string"))
						return false;
					day = name_index(d->text, d->len, day_names, 7);
					if (day < 0)
					{
						printable(d->text, d->len, shown, sizeof(shown));
						return fail(cx->err, dsub, "unknown day of week \"%s\" (expected MONDAY .. SUNDAY)", shown);
					}
					r->day_mask |= (uint8_t) (1u << day);
				}
				/* an empty list restricts nothing */
				if (v->count == 0)
					continue;
				break;
			case RI_RESERVATION:
				{
					int			res;

					if (!expect_kind(cx, v, JSON_STRING, sub, "a string"))
						return false;
					res = name_index(v->text, v->len, reservation_names + 1, 4);
					/* DEG's RESERVED / NOT_RESERVED in both dialects, as AD_HOC_PAYMENT */
					if (res < 0)
					{
						printable(v->text, v->len, shown, sizeof(shown));
						return fail(cx->err, sub, "unknown reservation restriction \"%s\" (expected RESERVATION or RESERVATION_EXPIRES, or DEG's RESERVED or NOT_RESERVED)",
									shown);
					}
					r->reservation = (uint8_t) (res + 1);
				}
				break;
			case 10:
			case 11:
				if (!read_int(cx, v, sub, 0, INT32_MAX, &iv))
					return false;
				if (id == 10)
					r->min_duration = iv;
				else
					r->max_duration = iv;
				break;
			default:
				if (!read_decimal(cx, v, sub, restriction_decimal(r, id)))
					return false;
				break;
		}
		r->mask |= 1u << id;
	}
	return true;
}

static bool
read_element(ParseCtx *cx, const JsonNode *n, const char *path, TariffElement *e)
{
	const JsonNode *f[NELEM] = {NULL, NULL};
	char		sub[256];
	char		csub[280];
	size_t		i;

	if (!expect_kind(cx, n, JSON_OBJECT, path, "an object"))
		return false;
	for (i = 0; i < n->count; i++)
	{
		int			id = classify(cx, element_fields, NELEM, &n->members[i], path);

		if (id < 0)
			return false;
		f[id] = n->members[i].value;
	}
	path_join(sub, sizeof(sub), path, field_name(cx, &element_fields[E_COMPONENTS]));
	if (f[E_COMPONENTS] == NULL)
		return fail(cx->err, sub, "is required");
	if (!expect_kind(cx, f[E_COMPONENTS], JSON_ARRAY, sub, "an array"))
		return false;
	if (f[E_COMPONENTS]->count == 0)
		return fail(cx->err, sub, "must not be empty");
	for (i = 0; i < f[E_COMPONENTS]->count; i++)
	{
		TariffPriceComponent *c;

		path_index(csub, sizeof(csub), sub, i);
		if (i >= TARIFF_DIMS)
			return fail(cx->err, csub, "more price components than dimensions (one per dimension)");
		c = &e->components[i];
		if (!read_component(cx, f[E_COMPONENTS]->items[i], csub, c))
			return false;
		if (e->component_of[c->type] >= 0)
			return fail(cx->err, csub, "a second %s price component in one element (only the first could ever apply)",
						dim_names[c->type]);
		e->component_of[c->type] = (int8_t) i;
		e->ncomponents = (int) i + 1;
		if (!set_vat_factor(c, csub, cx->err))
			return false;
	}
	if (f[E_RESTRICTIONS] != NULL && f[E_RESTRICTIONS]->kind != JSON_NULL)
	{
		path_join(sub, sizeof(sub), path, "restrictions");
		if (!read_restrictions(cx, f[E_RESTRICTIONS], sub, &e->r))
			return false;
	}
	return check_element(e, cx->dialect, path, cx->err);
}

/* a DEG camelCase key as OCPI snake_case: isGreenEnergy -> is_green_energy */
static bool
snake_key(const char *key, size_t len, DegBuf *out)
{
	size_t		i;

	for (i = 0; i < len; i++)
	{
		char		c = key[i];

		if (c >= 'A' && c <= 'Z')
		{
			if (i > 0 && !degbuf_putc(out, '_'))
				return false;
			c = (char) (c - 'A' + 'a');
		}
		if (!degbuf_putc(out, c))
			return false;
	}
	return true;
}

/* a deep copy with object keys in snake_case (DEG's energyMix) */
static JsonNode *
copy_snake(const JsonNode *n, int depth)
{
	JsonNode   *copy;
	size_t		i;

	if (depth > JSON_MAX_DEPTH)
		return NULL;
	if (n->kind == JSON_ARRAY)
	{
		copy = json_new_array();
		for (i = 0; copy != NULL && i < n->count; i++)
		{
			JsonNode   *item = copy_snake(n->items[i], depth + 1);

			if (item == NULL || !json_array_append(copy, item))
			{
				json_free(copy);
				return NULL;
			}
		}
		return copy;
	}
	if (n->kind != JSON_OBJECT)
		return json_copy(n);
	copy = json_new_object();
	for (i = 0; copy != NULL && i < n->count; i++)
	{
		DegBuf		key;
		JsonNode   *value = copy_snake(n->members[i].value, depth + 1);
		bool		ok;

		degbuf_init(&key);
		ok = value != NULL && snake_key(n->members[i].key, n->members[i].keylen, &key) &&
			!key.oom && key.data != NULL;
		if (!ok)
		{
			json_free(value);
			degbuf_free(&key);
			json_free(copy);
			return NULL;
		}
		/* two camelCase keys may meet in one snake_case key: the last wins */
		ok = json_object_set(copy, key.data, key.len, value);
		degbuf_free(&key);
		if (!ok)
		{
			json_free(copy);
			return NULL;
		}
	}
	return copy;
}

/*
 * Check a member kept in meta (the parts of a Tariff that do not change a
 * price): strings, DisplayText lists, URLs, timestamps, the energy mix.
 */
static bool
check_meta(ParseCtx *cx, int id, const JsonNode *v, const char *path)
{
	char		sub[256];
	char		isub[300];
	size_t		i,
				j;
	int64_t		ts;

	switch (id)
	{
		case F_COUNTRY_CODE:
		case F_PARTY_ID:
		case F_ID:
		case F_ALT_URL:
			return expect_kind(cx, v, JSON_STRING, path, "a string");
		case F_START_DATE_TIME:
		case F_END_DATE_TIME:
		case F_LAST_UPDATED:
			if (!expect_kind(cx, v, JSON_STRING, path, "a string"))
				return false;
			if (!tariff_parse_timestamp(v->text, v->len, &ts))
				return fail(cx->err, path, "malformed date-time (expected RFC 3339, e.g. 2019-06-30T23:59:59Z)");
			return true;
		case F_ENERGY_MIX:
			return expect_kind(cx, v, JSON_OBJECT, path, "an object");
		case F_ALT_TEXT:
			if (!expect_kind(cx, v, JSON_ARRAY, path, "an array"))
				return false;
			for (i = 0; i < v->count; i++)
			{
				const JsonNode *t = v->items[i];
				bool		has_lang = false,
							has_text = false;

				path_index(sub, sizeof(sub), path, i);
				if (!expect_kind(cx, t, JSON_OBJECT, sub, "an object"))
					return false;
				for (j = 0; j < t->count; j++)
				{
					const JsonMember *m = &t->members[j];

					path_key(isub, sizeof(isub), sub, m->key, m->keylen);
					if (str_eq(m->key, m->keylen, "language"))
						has_lang = true;
					else if (str_eq(m->key, m->keylen, "text"))
						has_text = true;
					else
						return fail(cx->err, isub, "unknown field (a DisplayText has language and text)");
					if (!expect_kind(cx, m->value, JSON_STRING, isub, "a string"))
						return false;
				}
				if (!has_lang || !has_text)
					return fail(cx->err, sub, "a DisplayText needs language and text");
			}
			return true;
	}
	return fail(cx->err, path, "unknown field");
}

static void
tariff_zero(Tariff *t)
{
	memset(t->currency, 0, sizeof(t->currency));
	t->type = TARIFF_TYPE_NONE;
	t->dialect = TARIFF_DIALECT_OCPI;
	t->has_min_price = t->has_max_price = false;
	dec_init(&t->min_price.excl_vat);
	dec_init(&t->min_price.incl_vat);
	t->min_price.has_incl_vat = false;
	dec_init(&t->max_price.excl_vat);
	dec_init(&t->max_price.incl_vat);
	t->max_price.has_incl_vat = false;
	t->nelements = 0;
	t->elements = NULL;
	t->meta = NULL;
	t->metalen = 0;
	t->all_masks = 0;
	t->nlocal_bounds = 0;
	t->local_bounds = NULL;
	t->nduration_bounds = 0;
	t->duration_bounds = NULL;
	t->nkwh_bounds = 0;
	t->kwh_bounds = NULL;
}

void
tariff_init(Tariff *t)
{
	tariff_zero(t);
}

void
tariff_free(Tariff *t)
{
	int			i;

	dec_free(&t->min_price.excl_vat);
	dec_free(&t->min_price.incl_vat);
	dec_free(&t->max_price.excl_vat);
	dec_free(&t->max_price.incl_vat);
	for (i = 0; i < t->nelements; i++)
		element_free(&t->elements[i]);
	deg_free(t->elements);
	deg_free(t->meta);
	deg_free(t->local_bounds);
	deg_free(t->duration_bounds);
	for (i = 0; i < t->nkwh_bounds; i++)
		dec_free(&t->kwh_bounds[i]);
	deg_free(t->kwh_bounds);
	tariff_zero(t);
}

static bool
alloc_elements(Tariff *t, int n)
{
	int			i;

	t->elements = deg_alloc(sizeof(TariffElement) * (size_t) n);
	if (t->elements == NULL)
		return false;
	for (i = 0; i < n; i++)
		element_init(&t->elements[i]);
	t->nelements = n;
	return true;
}

static int
cmp_int32(const void *a, const void *b)
{
	int32_t		x = *(const int32_t *) a,
				y = *(const int32_t *) b;

	return (x > y) - (x < y);
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t		x = *(const int64_t *) a,
				y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

/*
 * The places where a restriction can change inside a charging period: local
 * times of day (with midnight, where dates and weekdays change), elapsed
 * durations, and kWh amounts.  Sorted and distinct.
 */
static bool
derive_bounds(Tariff *t, TariffError *err)
{
	int			i,
				n;

	t->all_masks = 0;
	for (i = 0; i < t->nelements; i++)
		t->all_masks |= t->elements[i].r.mask;
	if (t->all_masks & TARIFF_R_LOCAL)
	{
		t->local_bounds = deg_alloc(sizeof(int32_t) * (size_t) (2 * t->nelements + 1));
		if (t->local_bounds == NULL)
			return fail(err, "", "out of memory");
		n = 0;
		t->local_bounds[n++] = 0;
		for (i = 0; i < t->nelements; i++)
		{
			const TariffRestrictions *r = &t->elements[i].r;

			if (r->mask & TARIFF_R_START_TIME)
				t->local_bounds[n++] = r->start_time;
			if (r->mask & TARIFF_R_END_TIME)
				t->local_bounds[n++] = r->end_time;
		}
		qsort(t->local_bounds, (size_t) n, sizeof(int32_t), cmp_int32);
		t->nlocal_bounds = 0;
		for (i = 0; i < n; i++)
			if (i == 0 || t->local_bounds[i] != t->local_bounds[i - 1])
				t->local_bounds[t->nlocal_bounds++] = t->local_bounds[i];
	}
	if (t->all_masks & (TARIFF_R_MIN_DURATION | TARIFF_R_MAX_DURATION))
	{
		t->duration_bounds = deg_alloc(sizeof(int64_t) * (size_t) (2 * t->nelements));
		if (t->duration_bounds == NULL)
			return fail(err, "", "out of memory");
		n = 0;
		for (i = 0; i < t->nelements; i++)
		{
			const TariffRestrictions *r = &t->elements[i].r;

			if (r->mask & TARIFF_R_MIN_DURATION)
				t->duration_bounds[n++] = r->min_duration;
			if (r->mask & TARIFF_R_MAX_DURATION)
				t->duration_bounds[n++] = r->max_duration;
		}
		qsort(t->duration_bounds, (size_t) n, sizeof(int64_t), cmp_int64);
		t->nduration_bounds = 0;
		for (i = 0; i < n; i++)
			if (i == 0 || t->duration_bounds[i] != t->duration_bounds[i - 1])
				t->duration_bounds[t->nduration_bounds++] = t->duration_bounds[i];
	}
	if (t->all_masks & (TARIFF_R_MIN_KWH | TARIFF_R_MAX_KWH))
	{
		int			k;

		t->kwh_bounds = deg_alloc(sizeof(Decimal) * (size_t) (2 * t->nelements));
		if (t->kwh_bounds == NULL)
			return fail(err, "", "out of memory");
		/* insertion into a sorted distinct list: few elements */
		for (i = 0; i < t->nelements; i++)
		{
			const TariffRestrictions *r = &t->elements[i].r;

			for (k = 0; k < 2; k++)
			{
				const Decimal *b = k == 0 ? &r->min_kwh : &r->max_kwh;
				int			pos = 0,
							c = 1;

				if (!(r->mask & (k == 0 ? TARIFF_R_MIN_KWH : TARIFF_R_MAX_KWH)))
					continue;
				while (pos < t->nkwh_bounds && (c = dec_cmp(&t->kwh_bounds[pos], b)) < 0)
					pos++;
				if (pos < t->nkwh_bounds && c == 0)
					continue;
				memmove(&t->kwh_bounds[pos + 1], &t->kwh_bounds[pos],
						sizeof(Decimal) * (size_t) (t->nkwh_bounds - pos));
				dec_init(&t->kwh_bounds[pos]);
				t->nkwh_bounds++;
				if (dec_copy(&t->kwh_bounds[pos], b, NULL) != DEC_OK)
					return fail(err, "", "out of memory");
			}
		}
	}
	return true;
}

static bool
check_currency(const char *s, size_t len)
{
	size_t		i;

	if (len != 3)
		return false;
	for (i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return false;
	return true;
}

/* checks of the tariff as a whole, shared by both readers */
static bool
check_tariff(const Tariff *t, TariffError *err)
{
	int			deg = t->dialect == TARIFF_DIALECT_DEG;
	const char *maxname = deg ? "maxPrice" : "max_price";
	char		sub[64];

	if (!check_currency(t->currency, strlen(t->currency)))
		return fail(err, "currency", "must be an ISO 4217 code of three capital letters");
	if (t->type < TARIFF_TYPE_NONE || t->type >= TARIFF_TYPES)
		return fail(err, "type", "unknown tariff type");
	if (t->nelements < 1 || t->nelements > TARIFF_MAX_ELEMENTS)
		return fail(err, "elements", "must have 1 to %d elements", TARIFF_MAX_ELEMENTS);
	if (t->has_min_price && t->has_max_price)
	{
		path_join(sub, sizeof(sub), maxname, deg ? "exclVat" : "excl_vat");
		if (dec_cmp(&t->max_price.excl_vat, &t->min_price.excl_vat) < 0)
			return fail(err, sub, "must not be less than the minimum price");
		path_join(sub, sizeof(sub), maxname, deg ? "inclVat" : "incl_vat");
		if (t->max_price.has_incl_vat && t->min_price.has_incl_vat &&
			dec_cmp(&t->max_price.incl_vat, &t->min_price.incl_vat) < 0)
			return fail(err, sub, "must not be less than the minimum price");
	}
	return true;
}

static bool
build_meta(ParseCtx *cx, const JsonNode *const *fields, Tariff *t)
{
	JsonNode   *meta = NULL;
	DegBuf		buf;
	JsonError	je;
	int			id;
	bool		any = false;

	for (id = F_FIRST_META; id < NTOP; id++)
		if (fields[id] != NULL && fields[id]->kind != JSON_NULL)
			any = true;
	if (!any)
		return true;
	meta = json_new_object();
	if (meta == NULL)
		return fail(cx->err, "", "out of memory");
	for (id = F_FIRST_META; id < NTOP; id++)
	{
		const JsonNode *v = fields[id];
		JsonNode   *copy;

		if (v == NULL || v->kind == JSON_NULL)
			continue;
		if (!check_meta(cx, id, v, field_name(cx, &top_fields[id])))
		{
			json_free(meta);
			return false;
		}
		copy = (id == F_ENERGY_MIX && cx->dialect == TARIFF_DIALECT_DEG) ?
			copy_snake(v, 0) : json_copy(v);
		if (copy == NULL || !json_object_set(meta, top_fields[id].ocpi,
											 strlen(top_fields[id].ocpi), copy))
		{
			json_free(meta);
			return fail(cx->err, field_name(cx, &top_fields[id]), "out of memory");
		}
	}
	degbuf_init(&buf);
	if (!jcs_serialize(meta, &buf, &je) || buf.oom)
	{
		json_free(meta);
		degbuf_free(&buf);
		return fail(cx->err, "", "cannot keep the tariff's other fields: %s", je.message);
	}
	json_free(meta);
	if (buf.len > TARIFF_MAX_META)
	{
		degbuf_free(&buf);
		return fail(cx->err, "", "the fields other than the prices take more than %d bytes", TARIFF_MAX_META);
	}
	t->meta = buf.data;
	t->metalen = buf.len;
	return true;
}

static bool
tariff_read(ParseCtx *cx, const JsonNode *node, Tariff *t)
{
	const JsonNode *fields[NTOP];
	const JsonNode *v;
	char		sub[256];
	char		shown[64];
	size_t		i;
	int			id;

	memset(fields, 0, sizeof(fields));
	if (!expect_kind(cx, node, JSON_OBJECT, "", "a JSON object"))
		return false;
	for (i = 0; i < node->count; i++)
	{
		id = classify(cx, top_fields, NTOP, &node->members[i], "");
		if (id < 0)
			return false;
		fields[id] = node->members[i].value;
	}
	/* elements first: their field names settle the dialect */
	v = fields[F_ELEMENTS];
	if (v == NULL)
		return fail(cx->err, "elements", "is required");
	if (!expect_kind(cx, v, JSON_ARRAY, "elements", "an array"))
		return false;
	if (v->count == 0)
		return fail(cx->err, "elements", "must not be empty");
	if (v->count > TARIFF_MAX_ELEMENTS)
		return fail(cx->err, "elements", "more than %d elements", TARIFF_MAX_ELEMENTS);
	if (!alloc_elements(t, (int) v->count))
		return fail(cx->err, "elements", "out of memory");
	for (i = 0; i < v->count; i++)
	{
		path_index(sub, sizeof(sub), "elements", i);
		if (!read_element(cx, v->items[i], sub, &t->elements[i]))
			return false;
	}
	if (cx->dialect < 0)
		cx->dialect = TARIFF_DIALECT_OCPI;
	t->dialect = cx->dialect;

	v = fields[F_CURRENCY];
	if (v == NULL || v->kind == JSON_NULL)
		return fail(cx->err, "currency", "is required");
	if (!expect_kind(cx, v, JSON_STRING, "currency", "a string"))
		return false;
	if (!check_currency(v->text, v->len))
	{
		printable(v->text, v->len, shown, sizeof(shown));
		return fail(cx->err, "currency", "\"%s\" is not an ISO 4217 code of three capital letters", shown);
	}
	memcpy(t->currency, v->text, 3);
	t->currency[3] = '\0';

	v = fields[F_TYPE];
	if (v != NULL && v->kind != JSON_NULL)
	{
		if (!expect_kind(cx, v, JSON_STRING, "type", "a string"))
			return false;
		t->type = name_index(v->text, v->len, type_names, TARIFF_TYPES);
		if (t->type < 0)
		{
			printable(v->text, v->len, shown, sizeof(shown));
			t->type = TARIFF_TYPE_NONE;
			return fail(cx->err, "type", "unknown tariff type \"%s\" (expected AD_HOC_PAYMENT, PROFILE_CHEAP, PROFILE_FAST, PROFILE_GREEN or REGULAR)", shown);
		}
	}
	if (fields[F_MIN_PRICE] != NULL && fields[F_MIN_PRICE]->kind != JSON_NULL)
	{
		if (!read_price(cx, fields[F_MIN_PRICE], field_name(cx, &top_fields[F_MIN_PRICE]), &t->min_price))
			return false;
		t->has_min_price = true;
	}
	if (fields[F_MAX_PRICE] != NULL && fields[F_MAX_PRICE]->kind != JSON_NULL)
	{
		if (!read_price(cx, fields[F_MAX_PRICE], field_name(cx, &top_fields[F_MAX_PRICE]), &t->max_price))
			return false;
		t->has_max_price = true;
	}
	if (!build_meta(cx, fields, t))
		return false;
	return check_tariff(t, cx->err) && derive_bounds(t, cx->err);
}

bool
tariff_from_json(const JsonNode *node, Tariff *t, TariffError *err)
{
	ParseCtx	cx;

	cx.dialect = -1;
	cx.err = err;
	tariff_zero(t);
	if (node == NULL)
		return fail(err, "", "no tariff");
	if (!tariff_read(&cx, node, t))
	{
		tariff_free(t);
		return false;
	}
	return true;
}

bool
tariff_parse(const char *text, size_t len, Tariff *t, TariffError *err)
{
	JsonError	je;
	JsonNode   *node = json_parse(text, len, &je);
	bool		ok;

	if (node == NULL)
	{
		tariff_zero(t);
		return fail(err, "", "invalid JSON: %s", je.message);
	}
	ok = tariff_from_json(node, t, err);
	json_free(node);
	return ok;
}

/* ---------- the binary form ---------- */

static void
put_u8(DegBuf *b, unsigned v)
{
	degbuf_putc(b, (char) (v & 0xFF));
}

static void
put_u16(DegBuf *b, unsigned v)
{
	put_u8(b, v >> 8);
	put_u8(b, v);
}

static void
put_u32(DegBuf *b, uint32_t v)
{
	put_u16(b, (unsigned) (v >> 16));
	put_u16(b, (unsigned) (v & 0xFFFF));
}

static void
put_u64(DegBuf *b, uint64_t v)
{
	put_u32(b, (uint32_t) (v >> 32));
	put_u32(b, (uint32_t) (v & 0xFFFFFFFFu));
}

static void
put_dec(DegBuf *b, const Decimal *d)
{
	size_t		n = dec_send_size(d);

	put_u16(b, (unsigned) n);
	if (degbuf_reserve(b, n))
	{
		dec_send(d, (uint8_t *) b->data + b->len);
		b->len += n;
		b->data[b->len] = '\0';
	}
}

bool
tariff_serialize(const Tariff *t, DegBuf *out)
{
	int			i,
				j,
				k;
	unsigned	flags = 0;

	put_u8(out, BIN_MAGIC);
	put_u8(out, BIN_VERSION);
	put_u8(out, (unsigned) t->dialect);
	put_u8(out, t->type < 0 ? 0xFF : (unsigned) t->type);
	degbuf_append(out, t->currency, 3);
	if (t->has_min_price)
		flags |= BIN_MIN_PRICE | (t->min_price.has_incl_vat ? BIN_MIN_INCL : 0);
	if (t->has_max_price)
		flags |= BIN_MAX_PRICE | (t->max_price.has_incl_vat ? BIN_MAX_INCL : 0);
	put_u8(out, flags);
	if (t->has_min_price)
	{
		put_dec(out, &t->min_price.excl_vat);
		if (t->min_price.has_incl_vat)
			put_dec(out, &t->min_price.incl_vat);
	}
	if (t->has_max_price)
	{
		put_dec(out, &t->max_price.excl_vat);
		if (t->max_price.has_incl_vat)
			put_dec(out, &t->max_price.incl_vat);
	}
	put_u16(out, (unsigned) t->nelements);
	for (i = 0; i < t->nelements; i++)
	{
		const TariffElement *e = &t->elements[i];
		const TariffRestrictions *r = &e->r;

		put_u8(out, (unsigned) e->ncomponents);
		for (j = 0; j < e->ncomponents; j++)
		{
			const TariffPriceComponent *c = &e->components[j];

			put_u8(out, c->type);
			put_u8(out, c->has_vat ? 1 : 0);
			put_u32(out, (uint32_t) c->step_size);
			put_dec(out, &c->price);
			if (c->has_vat)
				put_dec(out, &c->vat);
		}
		put_u16(out, r->mask);
		if (r->mask & TARIFF_R_START_TIME)
			put_u32(out, (uint32_t) r->start_time);
		if (r->mask & TARIFF_R_END_TIME)
			put_u32(out, (uint32_t) r->end_time);
		if (r->mask & TARIFF_R_START_DATE)
			put_u32(out, (uint32_t) r->start_date);
		if (r->mask & TARIFF_R_END_DATE)
			put_u32(out, (uint32_t) r->end_date);
		for (k = 4; k <= 9; k++)
			if (r->mask & (1u << k))
				put_dec(out, restriction_decimal_c(r, k));
		if (r->mask & TARIFF_R_MIN_DURATION)
			put_u64(out, (uint64_t) r->min_duration);
		if (r->mask & TARIFF_R_MAX_DURATION)
			put_u64(out, (uint64_t) r->max_duration);
		if (r->mask & TARIFF_R_DAY_OF_WEEK)
			put_u8(out, r->day_mask);
		if (r->mask & TARIFF_R_RESERVATION)
			put_u8(out, r->reservation);
	}
	put_u32(out, (uint32_t) t->metalen);
	if (t->metalen > 0)
		degbuf_append(out, t->meta, t->metalen);
	return !out->oom;
}

typedef struct Reader
{
	const uint8_t *p;
	size_t		len;
	size_t		pos;
	bool		ok;
} Reader;

static unsigned
get_u8(Reader *r)
{
	if (!r->ok || r->pos + 1 > r->len)
	{
		r->ok = false;
		return 0;
	}
	return r->p[r->pos++];
}

static unsigned
get_u16(Reader *r)
{
	unsigned	hi = get_u8(r);

	return (hi << 8) | get_u8(r);
}

static uint32_t
get_u32(Reader *r)
{
	uint32_t	hi = get_u16(r);

	return (hi << 16) | get_u16(r);
}

static uint64_t
get_u64(Reader *r)
{
	uint64_t	hi = get_u32(r);

	return (hi << 32) | get_u32(r);
}

static void
get_dec(Reader *r, Decimal *d)
{
	size_t		n = get_u16(r);

	if (!r->ok || n > r->len - r->pos || dec_recv(d, r->p + r->pos, n, NULL) != DEC_OK)
	{
		r->ok = false;
		return;
	}
	r->pos += n;
}

static bool
deserialize(Reader *rd, Tariff *t, TariffError *err)
{
	unsigned	flags;
	unsigned	type;
	int			n,
				i,
				j,
				k;
	char		path[64];
	JsonNode   *meta;
	JsonError	je;
	ParseCtx	cx;

	if (get_u8(rd) != BIN_MAGIC || get_u8(rd) != BIN_VERSION)
		return fail(err, "", "not a stored tariff (bad header)");
	t->dialect = (int) get_u8(rd);
	if (t->dialect != TARIFF_DIALECT_OCPI && t->dialect != TARIFF_DIALECT_DEG)
		return fail(err, "", "stored tariff: bad dialect");
	type = get_u8(rd);
	t->type = type == 0xFF ? TARIFF_TYPE_NONE : (int) type;
	for (i = 0; i < 3; i++)
		t->currency[i] = (char) get_u8(rd);
	flags = get_u8(rd);
	if (!rd->ok || (flags & ~0x0Fu) || ((flags & BIN_MIN_INCL) && !(flags & BIN_MIN_PRICE)) ||
		((flags & BIN_MAX_INCL) && !(flags & BIN_MAX_PRICE)))
		return fail(err, "", "stored tariff: bad header");
	t->has_min_price = (flags & BIN_MIN_PRICE) != 0;
	t->min_price.has_incl_vat = (flags & BIN_MIN_INCL) != 0;
	t->has_max_price = (flags & BIN_MAX_PRICE) != 0;
	t->max_price.has_incl_vat = (flags & BIN_MAX_INCL) != 0;
	if (t->has_min_price)
	{
		get_dec(rd, &t->min_price.excl_vat);
		if (t->min_price.has_incl_vat)
			get_dec(rd, &t->min_price.incl_vat);
	}
	if (t->has_max_price)
	{
		get_dec(rd, &t->max_price.excl_vat);
		if (t->max_price.has_incl_vat)
			get_dec(rd, &t->max_price.incl_vat);
	}
	if (!rd->ok)
		return fail(err, "", "stored tariff: truncated");
	if ((t->has_min_price &&
		 (!fit_decimal(&t->min_price.excl_vat, "min_price", err) ||
		  !check_nonnegative(&t->min_price.excl_vat, "min_price", err) ||
		  (t->min_price.has_incl_vat &&
		   (!fit_decimal(&t->min_price.incl_vat, "min_price", err) ||
			!check_nonnegative(&t->min_price.incl_vat, "min_price", err))))) ||
		(t->has_max_price &&
		 (!fit_decimal(&t->max_price.excl_vat, "max_price", err) ||
		  !check_nonnegative(&t->max_price.excl_vat, "max_price", err) ||
		  (t->max_price.has_incl_vat &&
		   (!fit_decimal(&t->max_price.incl_vat, "max_price", err) ||
			!check_nonnegative(&t->max_price.incl_vat, "max_price", err))))))
		return false;
	n = (int) get_u16(rd);
	if (!rd->ok || n < 1 || n > TARIFF_MAX_ELEMENTS)
		return fail(err, "elements", "stored tariff: bad element count");
	if (!alloc_elements(t, n))
		return fail(err, "", "out of memory");
	for (i = 0; i < n; i++)
	{
		TariffElement *e = &t->elements[i];
		TariffRestrictions *r = &e->r;

		snprintf(path, sizeof(path), "elements[%d]", i);
		e->ncomponents = (int) get_u8(rd);
		if (e->ncomponents < 1 || e->ncomponents > TARIFF_DIMS)
			return fail(err, path, "stored tariff: bad component count");
		for (j = 0; j < e->ncomponents; j++)
		{
			TariffPriceComponent *c = &e->components[j];
			unsigned	has_vat;

			c->type = (uint8_t) get_u8(rd);
			has_vat = get_u8(rd);
			c->step_size = (int32_t) get_u32(rd);
			get_dec(rd, &c->price);
			if (has_vat > 1 || c->type >= TARIFF_DIMS)
				return fail(err, path, "stored tariff: bad price component");
			c->has_vat = has_vat == 1;
			if (c->has_vat)
				get_dec(rd, &c->vat);
			if (!rd->ok)
				return fail(err, path, "stored tariff: truncated");
			if (e->component_of[c->type] >= 0)
				return fail(err, path, "stored tariff: a second %s price component", dim_names[c->type]);
			e->component_of[c->type] = (int8_t) j;
			if (!set_vat_factor(c, path, err))
				return false;
		}
		r->mask = get_u16(rd);
		if (r->mask & TARIFF_R_START_TIME)
			r->start_time = (int32_t) get_u32(rd);
		if (r->mask & TARIFF_R_END_TIME)
			r->end_time = (int32_t) get_u32(rd);
		if (r->mask & TARIFF_R_START_DATE)
			r->start_date = (int32_t) get_u32(rd);
		if (r->mask & TARIFF_R_END_DATE)
			r->end_date = (int32_t) get_u32(rd);
		for (k = 4; k <= 9; k++)
			if (r->mask & (1u << k))
				get_dec(rd, restriction_decimal(r, k));
		if (r->mask & TARIFF_R_MIN_DURATION)
			r->min_duration = (int64_t) get_u64(rd);
		if (r->mask & TARIFF_R_MAX_DURATION)
			r->max_duration = (int64_t) get_u64(rd);
		if (r->mask & TARIFF_R_DAY_OF_WEEK)
			r->day_mask = (uint8_t) get_u8(rd);
		if (r->mask & TARIFF_R_RESERVATION)
			r->reservation = (uint8_t) get_u8(rd);
		if (!rd->ok)
			return fail(err, path, "stored tariff: truncated");
		if (!check_element(e, t->dialect, path, err))
			return false;
	}
	t->metalen = get_u32(rd);
	if (!rd->ok || t->metalen > TARIFF_MAX_META || t->metalen > rd->len - rd->pos)
		return fail(err, "", "stored tariff: bad metadata length");
	if (t->metalen > 0)
	{
		size_t		m;

		t->meta = deg_alloc(t->metalen + 1);
		if (t->meta == NULL)
			return fail(err, "", "out of memory");
		memcpy(t->meta, rd->p + rd->pos, t->metalen);
		t->meta[t->metalen] = '\0';
		rd->pos += t->metalen;
		/* the members must be what the JSON reader keeps, with OCPI names */
		meta = json_parse(t->meta, t->metalen, &je);
		if (meta == NULL || meta->kind != JSON_OBJECT || meta->count == 0)
		{
			json_free(meta);
			return fail(err, "", "stored tariff: bad metadata");
		}
		cx.dialect = TARIFF_DIALECT_OCPI;
		cx.err = err;
		for (m = 0; m < meta->count; m++)
		{
			const JsonMember *mem = &meta->members[m];

			for (k = F_FIRST_META; k < NTOP; k++)
				if (str_eq(mem->key, mem->keylen, top_fields[k].ocpi))
					break;
			if (k == NTOP || mem->value->kind == JSON_NULL ||
				!check_meta(&cx, k, mem->value, top_fields[k].ocpi))
			{
				json_free(meta);
				return fail(err, "", "stored tariff: bad metadata");
			}
		}
		json_free(meta);
	}
	if (rd->pos != rd->len)
		return fail(err, "", "stored tariff: %zu bytes after the end", rd->len - rd->pos);
	return check_tariff(t, err) && derive_bounds(t, err);
}

bool
tariff_deserialize(const uint8_t *data, size_t len, Tariff *t, TariffError *err)
{
	Reader		rd;

	rd.p = data;
	rd.len = data ? len : 0;
	rd.pos = 0;
	rd.ok = true;
	tariff_zero(t);
	if (!deserialize(&rd, t, err))
	{
		tariff_free(t);
		return false;
	}
	return true;
}

/* ---------- the JSON form ---------- */

static void
put_str(DegBuf *b, const char *s)
{
	jcs_append_string(b, s, strlen(s));
}

static void
put_key(DegBuf *b, bool *first, const char *key)
{
	if (!*first)
		degbuf_putc(b, ',');
	*first = false;
	put_str(b, key);
	degbuf_putc(b, ':');
}

static void
put_decimal(DegBuf *b, const Decimal *d)
{
	dec_to_text(d, b, NULL);
}

static void
put_price_json(DegBuf *b, const TariffPrice *p)
{
	bool		first = true;

	degbuf_putc(b, '{');
	put_key(b, &first, "excl_vat");
	put_decimal(b, &p->excl_vat);
	if (p->has_incl_vat)
	{
		put_key(b, &first, "incl_vat");
		put_decimal(b, &p->incl_vat);
	}
	degbuf_putc(b, '}');
}

static void
put_hhmm(DegBuf *b, int32_t secs)
{
	char		s[32];

	snprintf(s, sizeof(s), "%02d:%02d", (int) (secs / 3600), (int) (secs / 60 % 60));
	put_str(b, s);
}

static void
put_date(DegBuf *b, int32_t days)
{
	char		s[48];
	int64_t		y;
	int			m,
				d;

	civil_from_days(days, &y, &m, &d);
	snprintf(s, sizeof(s), "%04d-%02d-%02d", (int) y, m, d);
	put_str(b, s);
}

static void
put_restrictions(DegBuf *b, const TariffRestrictions *r)
{
	bool		first = true;
	int			k;

	degbuf_putc(b, '{');
	if (r->mask & TARIFF_R_START_TIME)
	{
		put_key(b, &first, "start_time");
		put_hhmm(b, r->start_time);
	}
	if (r->mask & TARIFF_R_END_TIME)
	{
		put_key(b, &first, "end_time");
		put_hhmm(b, r->end_time);
	}
	if (r->mask & TARIFF_R_START_DATE)
	{
		put_key(b, &first, "start_date");
		put_date(b, r->start_date);
	}
	if (r->mask & TARIFF_R_END_DATE)
	{
		put_key(b, &first, "end_date");
		put_date(b, r->end_date);
	}
	for (k = 4; k <= 9; k++)
		if (r->mask & (1u << k))
		{
			put_key(b, &first, restriction_fields[k].ocpi);
			put_decimal(b, restriction_decimal_c(r, k));
		}
	for (k = 10; k <= 11; k++)
		if (r->mask & (1u << k))
		{
			char		s[32];

			put_key(b, &first, restriction_fields[k].ocpi);
			snprintf(s, sizeof(s), "%lld", (long long) (k == 10 ? r->min_duration : r->max_duration));
			degbuf_puts(b, s);
		}
	if (r->mask & TARIFF_R_DAY_OF_WEEK)
	{
		bool		f2 = true;

		put_key(b, &first, "day_of_week");
		degbuf_putc(b, '[');
		for (k = 0; k < 7; k++)
			if (r->day_mask & (1u << k))
			{
				if (!f2)
					degbuf_putc(b, ',');
				f2 = false;
				put_str(b, day_names[k]);
			}
		degbuf_putc(b, ']');
	}
	if (r->mask & TARIFF_R_RESERVATION)
	{
		put_key(b, &first, "reservation");
		put_str(b, reservation_names[r->reservation]);
	}
	degbuf_putc(b, '}');
}

static bool
put_meta(DegBuf *b, bool *first, const JsonNode *meta, int id)
{
	const JsonNode *v;
	JsonError	je;

	if (meta == NULL)
		return true;
	v = json_get(meta, top_fields[id].ocpi);
	if (v == NULL)
		return true;
	put_key(b, first, top_fields[id].ocpi);
	return jcs_serialize(v, b, &je);
}

bool
tariff_to_json(const Tariff *t, DegBuf *out, TariffError *err)
{
	JsonNode   *meta = NULL;
	JsonError	je;
	bool		first = true;
	bool		ok = true;
	int			i,
				j;

	if (t->metalen > 0)
	{
		meta = json_parse(t->meta, t->metalen, &je);
		if (meta == NULL)
			return fail(err, "", "bad metadata: %s", je.message);
	}
	degbuf_putc(out, '{');
	ok = put_meta(out, &first, meta, F_COUNTRY_CODE) &&
		put_meta(out, &first, meta, F_PARTY_ID) &&
		put_meta(out, &first, meta, F_ID);
	put_key(out, &first, "currency");
	put_str(out, t->currency);
	if (t->type >= 0)
	{
		put_key(out, &first, "type");
		put_str(out, type_names[t->type]);
	}
	ok = ok && put_meta(out, &first, meta, F_ALT_TEXT) && put_meta(out, &first, meta, F_ALT_URL);
	if (t->has_min_price)
	{
		put_key(out, &first, "min_price");
		put_price_json(out, &t->min_price);
	}
	if (t->has_max_price)
	{
		put_key(out, &first, "max_price");
		put_price_json(out, &t->max_price);
	}
	put_key(out, &first, "elements");
	degbuf_putc(out, '[');
	for (i = 0; i < t->nelements; i++)
	{
		const TariffElement *e = &t->elements[i];

		if (i > 0)
			degbuf_putc(out, ',');
		degbuf_puts(out, "{\"price_components\":[");
		for (j = 0; j < e->ncomponents; j++)
		{
			const TariffPriceComponent *c = &e->components[j];
			bool		f2 = true;
			char		s[32];

			if (j > 0)
				degbuf_putc(out, ',');
			degbuf_putc(out, '{');
			put_key(out, &f2, "type");
			put_str(out, dim_names[c->type]);
			put_key(out, &f2, "price");
			put_decimal(out, &c->price);
			if (c->has_vat)
			{
				put_key(out, &f2, "vat");
				put_decimal(out, &c->vat);
			}
			put_key(out, &f2, "step_size");
			snprintf(s, sizeof(s), "%d", (int) c->step_size);
			degbuf_puts(out, s);
			degbuf_putc(out, '}');
		}
		degbuf_putc(out, ']');
		if (e->r.mask != 0)
		{
			degbuf_puts(out, ",\"restrictions\":");
			put_restrictions(out, &e->r);
		}
		degbuf_putc(out, '}');
	}
	degbuf_putc(out, ']');
	ok = ok && put_meta(out, &first, meta, F_START_DATE_TIME) &&
		put_meta(out, &first, meta, F_END_DATE_TIME) &&
		put_meta(out, &first, meta, F_ENERGY_MIX) &&
		put_meta(out, &first, meta, F_LAST_UPDATED);
	degbuf_putc(out, '}');
	json_free(meta);
	if (!ok || out->oom)
		return fail(err, "", "out of memory");
	return true;
}

/* ---------- charge data records ---------- */

static void
period_init(TariffPeriod *p, int64_t start)
{
	p->start = start;
	p->present = 0;
	dec_init(&p->energy);
	dec_init(&p->time);
	dec_init(&p->parking_time);
	dec_init(&p->reservation_time);
	dec_init(&p->min_current);
	dec_init(&p->max_current);
	dec_init(&p->min_power);
	dec_init(&p->max_power);
}

static void
period_free(TariffPeriod *p)
{
	dec_free(&p->energy);
	dec_free(&p->time);
	dec_free(&p->parking_time);
	dec_free(&p->reservation_time);
	dec_free(&p->min_current);
	dec_free(&p->max_current);
	dec_free(&p->min_power);
	dec_free(&p->max_power);
}

void
tariff_cdr_init(TariffCdr *cdr)
{
	cdr->start = cdr->end = 0;
	cdr->currency[0] = '\0';
	cdr->nperiods = 0;
	cdr->capacity = 0;
	cdr->periods = NULL;
}

void
tariff_cdr_reset(TariffCdr *cdr)
{
	int			i;

	for (i = 0; i < cdr->nperiods; i++)
		period_free(&cdr->periods[i]);
	cdr->nperiods = 0;
	cdr->start = cdr->end = 0;
	cdr->currency[0] = '\0';
}

void
tariff_cdr_free(TariffCdr *cdr)
{
	tariff_cdr_reset(cdr);
	deg_free(cdr->periods);
	tariff_cdr_init(cdr);
}

TariffPeriod *
tariff_cdr_add_period(TariffCdr *cdr, int64_t start)
{
	TariffPeriod *p;

	if (cdr->nperiods >= TARIFF_MAX_PERIODS)
		return NULL;
	if (cdr->nperiods == cdr->capacity)
	{
		int			cap = cdr->capacity ? cdr->capacity * 2 : 8;
		TariffPeriod *bigger;

		if (cap > TARIFF_MAX_PERIODS)
			cap = TARIFF_MAX_PERIODS;
		bigger = deg_realloc(cdr->periods, sizeof(TariffPeriod) * (size_t) cap);
		if (bigger == NULL)
			return NULL;
		cdr->periods = bigger;
		cdr->capacity = cap;
	}
	p = &cdr->periods[cdr->nperiods++];
	period_init(p, start);
	return p;
}

static Decimal *
period_value(TariffPeriod *p, int dim)
{
	switch (dim)
	{
		case TARIFF_CDR_ENERGY:
			return &p->energy;
		case TARIFF_CDR_TIME:
			return &p->time;
		case TARIFF_CDR_PARKING_TIME:
			return &p->parking_time;
		case TARIFF_CDR_RESERVATION_TIME:
			return &p->reservation_time;
		case TARIFF_CDR_MIN_CURRENT:
			return &p->min_current;
		case TARIFF_CDR_MAX_CURRENT:
			return &p->max_current;
		case TARIFF_CDR_MIN_POWER:
			return &p->min_power;
		case TARIFF_CDR_MAX_POWER:
			return &p->max_power;
	}
	return NULL;
}

static bool
priced_cdr_dim(int dim)
{
	return dim == TARIFF_CDR_ENERGY || dim == TARIFF_CDR_TIME ||
		dim == TARIFF_CDR_PARKING_TIME || dim == TARIFF_CDR_RESERVATION_TIME;
}

static bool
period_set(TariffPeriod *p, int dim, const Decimal *volume, const char *path,
		   TariffError *err)
{
	Decimal    *slot;

	if (dim < 0 || dim >= TARIFF_CDR_DIMS)
		return fail(err, path, "unknown dimension type");
	if (p->present & (1u << dim))
		return fail(err, path, "a second %s dimension in one charging period", cdr_dim_names[dim]);
	if (priced_cdr_dim(dim) && dec_sign(volume) < 0)
		return fail(err, path, "a negative %s volume cannot be priced", cdr_dim_names[dim]);
	slot = period_value(p, dim);
	if (slot != NULL)
	{
		if (dec_copy(slot, volume, NULL) != DEC_OK)
			return fail(err, path, "out of memory");
		if (!fit_decimal(slot, path, err))
			return false;
	}
	p->present |= 1u << dim;
	return true;
}

bool
tariff_period_set(TariffPeriod *p, int dim, const Decimal *volume, TariffError *err)
{
	return period_set(p, dim, volume, "", err);
}

bool
tariff_cdr_check(const TariffCdr *cdr, TariffError *err)
{
	int			i;
	char		path[64];

	if (cdr->nperiods < 1)
		return fail(err, "charging_periods", "a CDR without charging periods cannot be priced");
	if (cdr->end < cdr->start)
		return fail(err, "end_date_time", "is before start_date_time");
	for (i = 0; i < cdr->nperiods; i++)
	{
		int64_t		s = cdr->periods[i].start;

		snprintf(path, sizeof(path), "charging_periods[%d].start_date_time", i);
		if (s < cdr->start || s > cdr->end)
			return fail(err, path, "lies outside the session (start_date_time .. end_date_time)");
		if (i > 0 && s < cdr->periods[i - 1].start)
			return fail(err, path, "is before the previous period's start");
	}
	return true;
}

static bool
read_timestamp(const JsonNode *v, const char *path, int64_t *out, TariffError *err)
{
	if (v == NULL || v->kind == JSON_NULL)
		return fail(err, path, "is required");
	if (v->kind != JSON_STRING)
		return fail(err, path, "must be a string, not %s", json_kind_name(v->kind));
	if (!tariff_parse_timestamp(v->text, v->len, out))
		return fail(err, path, "malformed date-time (expected RFC 3339 in UTC, e.g. 2015-06-29T20:39:09Z)");
	/* years 1..9999 keep all arithmetic on microseconds far from overflow */
	return true;
}

static bool
cdr_read(const JsonNode *node, TariffCdr *cdr, TariffError *err)
{
	const JsonNode *v;
	const JsonNode *periods;
	size_t		i,
				j;
	char		path[96];
	char		dpath[160];
	char		dlist[160];
	char		shown[64];
	ParseCtx	cx;

	cx.dialect = TARIFF_DIALECT_OCPI;
	cx.err = err;
	if (node->kind != JSON_OBJECT)
		return fail(err, "", "a CDR must be a JSON object, not %s", json_kind_name(node->kind));
	if (!read_timestamp(json_get(node, "start_date_time"), "start_date_time", &cdr->start, err) ||
		!read_timestamp(json_get(node, "end_date_time"), "end_date_time", &cdr->end, err))
		return false;
	v = json_get(node, "currency");
	if (v != NULL && v->kind != JSON_NULL)
	{
		if (v->kind != JSON_STRING || !check_currency(v->text, v->len))
			return fail(err, "currency", "must be an ISO 4217 code of three capital letters");
		memcpy(cdr->currency, v->text, 3);
		cdr->currency[3] = '\0';
	}
	periods = json_get(node, "charging_periods");
	if (periods == NULL || periods->kind == JSON_NULL ||
		(periods->kind == JSON_ARRAY && periods->count == 0))
		return fail(err, "charging_periods", "a CDR without charging periods cannot be priced");
	if (!expect_kind(&cx, periods, JSON_ARRAY, "charging_periods", "an array"))
		return false;
	if (periods->count > TARIFF_MAX_PERIODS)
		return fail(err, "charging_periods", "more than %d charging periods", TARIFF_MAX_PERIODS);
	for (i = 0; i < periods->count; i++)
	{
		const JsonNode *pn = periods->items[i];
		const JsonNode *dims;
		TariffPeriod *p;
		int64_t		start;

		snprintf(path, sizeof(path), "charging_periods[%zu]", i);
		if (!expect_kind(&cx, pn, JSON_OBJECT, path, "an object"))
			return false;
		path_join(dpath, sizeof(dpath), path, "start_date_time");
		if (!read_timestamp(json_get(pn, "start_date_time"), dpath, &start, err))
			return false;
		p = tariff_cdr_add_period(cdr, start);
		if (p == NULL)
			return fail(err, path, "out of memory");
		dims = json_get(pn, "dimensions");
		path_join(dpath, sizeof(dpath), path, "dimensions");
		if (dims == NULL)
			return fail(err, dpath, "is required");
		if (!expect_kind(&cx, dims, JSON_ARRAY, dpath, "an array"))
			return false;
		if (dims->count == 0)
			return fail(err, dpath, "must not be empty");
		for (j = 0; j < dims->count; j++)
		{
			const JsonNode *dn = dims->items[j];
			const JsonNode *type;
			const JsonNode *volume;
			Decimal		vol = DEC_INIT;
			int			dim;
			bool		ok;

			path_join(dlist, sizeof(dlist), path, "dimensions");
			path_index(dpath, sizeof(dpath), dlist, j);
			if (!expect_kind(&cx, dn, JSON_OBJECT, dpath, "an object"))
				return false;
			type = json_get(dn, "type");
			volume = json_get(dn, "volume");
			if (type == NULL || type->kind != JSON_STRING)
				return fail(err, dpath, "type is required and must be a string");
			dim = tariff_cdr_dimension_from_name(type->text, type->len);
			if (dim < 0)
			{
				printable(type->text, type->len, shown, sizeof(shown));
				return fail(err, dpath, "unknown dimension type \"%s\"", shown);
			}
			if (volume == NULL || volume->kind == JSON_NULL)
				return fail(err, dpath, "volume is required");
			ok = read_decimal(&cx, volume, dpath, &vol) &&
				period_set(p, dim, &vol, dpath, err);
			dec_free(&vol);
			if (!ok)
				return false;
		}
	}
	return tariff_cdr_check(cdr, err);
}

bool
tariff_cdr_from_json(const JsonNode *node, TariffCdr *cdr, TariffError *err)
{
	tariff_cdr_reset(cdr);
	if (node == NULL)
		return fail(err, "", "no CDR");
	if (!cdr_read(node, cdr, err))
	{
		tariff_cdr_reset(cdr);
		return false;
	}
	return true;
}

bool
tariff_cdr_parse(const char *text, size_t len, TariffCdr *cdr, TariffError *err)
{
	JsonError	je;
	JsonNode   *node = json_parse(text, len, &je);
	bool		ok;

	if (node == NULL)
	{
		tariff_cdr_reset(cdr);
		return fail(err, "", "invalid JSON: %s", je.message);
	}
	ok = tariff_cdr_from_json(node, cdr, err);
	json_free(node);
	return ok;
}

/* ---------- pricing ---------- */

/* accumulators of the totals */
enum
{
	A_ENERGY, A_TIME, A_PARKING, A_RESERVATION, A_FIXED, A_RES_FIXED, NACC
};

/* the priced volumes of a period, and the accumulator and dimension of each */
enum
{
	V_ENERGY, V_TIME, V_PARKING, V_RESERVATION, NVOL
};
static const int vol_acc[NVOL] = {A_ENERGY, A_TIME, A_PARKING, A_RESERVATION};
static const int vol_dim[NVOL] = {
	TARIFF_DIM_ENERGY, TARIFF_DIM_TIME, TARIFF_DIM_PARKING_TIME, TARIFF_DIM_TIME
};

/* which elements may price a dimension */
enum
{
	PASS_CHARGING, PASS_RESERVATION, PASS_EXPIRES
};

#define CHARGING_DIMS ((1u << TARIFF_CDR_ENERGY) | (1u << TARIFF_CDR_TIME) | \
	(1u << TARIFF_CDR_PARKING_TIME))
#define RESERVATION_DIM (1u << TARIFF_CDR_RESERVATION_TIME)

typedef struct Acc
{
	Decimal		excl;
	Decimal		incl;			/* of the components with a VAT */
	Decimal		volume;			/* priced volume: kWh or hours */
	bool		incl_unknown;	/* a nonzero amount without VAT */
	const TariffPriceComponent *last;	/* priced the last piece with volume */
} Acc;

/* where in the session a piece starts: what restrictions are read against */
typedef struct Piece
{
	int64_t		t;				/* UTC microseconds */
	int64_t		elapsed;		/* since the session started */
	int64_t		sod;			/* local microseconds since midnight */
	int64_t		day;			/* local days since 1970-01-01 */
	int			weekday;		/* 0 Monday .. 6 Sunday */
	int32_t		offset;			/* local - UTC, seconds */
	const TariffPeriod *period;
} Piece;

typedef struct Pricer
{
	const Tariff *t;
	const TariffCdr *cdr;
	TariffUtcOffsetFn fn;
	void	   *ctx;
	TariffError *err;
	bool		ok;				/* false once a decimal operation failed */
	bool		reserved;		/* the session has reservation time */
	bool		expired;		/* ... and nothing else: an expired reservation */
	bool		flat_done;
	bool		adhoc_done;
	bool		res_flat_done;
	int			pieces;
	Acc			acc[NACC];
	Decimal		cum;			/* session energy before the piece, kWh */
	Decimal		rem[NVOL];		/* what is left of the period's volumes */
	Decimal		share[NVOL];	/* the piece's part of them */
	Decimal		one;
	Decimal		a;				/* scratch */
	Decimal		b;
	Decimal		c;
} Pricer;

/* run a decimal operation unless one failed already; remember a failure */
#define D(pr, call) ((pr)->ok = (pr)->ok && (call) == DEC_OK)

static void
format_ts(int64_t usec, char *out, size_t cap)
{
	int64_t		days = floor_div(usec, USEC_PER_DAY);
	int64_t		rem = usec - days * USEC_PER_DAY;
	int64_t		y;
	int			m,
				d;

	civil_from_days(days, &y, &m, &d);
	snprintf(out, cap, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long) y, m, d,
			 (int) (rem / (3600 * USEC_PER_SEC)), (int) (rem / (60 * USEC_PER_SEC) % 60),
			 (int) (rem / USEC_PER_SEC % 60));
}

static bool
utc_offset(Pricer *pr, int64_t secs, int32_t *off)
{
	char		when[40];

	if (pr->fn == NULL)
	{
		*off = 0;
		return true;
	}
	if (!pr->fn(pr->ctx, secs, off))
	{
		format_ts(secs * USEC_PER_SEC, when, sizeof(when));
		return fail(pr->err, "", "the site's local time at %s is unknown", when);
	}
	if (*off <= -SECS_PER_DAY || *off >= SECS_PER_DAY)
	{
		format_ts(secs * USEC_PER_SEC, when, sizeof(when));
		return fail(pr->err, "", "the site's UTC offset at %s is out of range (%ld seconds)",
					when, (long) *off);
	}
	return true;
}

static bool
piece_at(Pricer *pr, int64_t t, const TariffPeriod *p, Piece *pc)
{
	pc->t = t;
	pc->elapsed = t - pr->cdr->start;
	pc->period = p;
	pc->sod = 0;
	pc->day = 0;
	pc->weekday = 0;
	pc->offset = 0;
	if (pr->t->all_masks & TARIFF_R_LOCAL)
	{
		int64_t		local;

		if (!utc_offset(pr, floor_div(t, USEC_PER_SEC), &pc->offset))
			return false;
		local = t + (int64_t) pc->offset * USEC_PER_SEC;
		pc->day = floor_div(local, USEC_PER_DAY);
		pc->sod = local - pc->day * USEC_PER_DAY;
		/* 1970-01-01 was a Thursday */
		pc->weekday = (int) (((pc->day % 7) + 7 + 3) % 7);
	}
	return true;
}

/*
 * The value of a period that a current or power restriction reads: for a
 * lower bound its minimum (else its maximum), for an upper bound its
 * maximum (else its minimum); NULL when the period states neither.
 */
static const Decimal *
period_level(const TariffPeriod *p, int min_dim, int max_dim, bool for_lower)
{
	int			first = for_lower ? min_dim : max_dim;
	int			second = for_lower ? max_dim : min_dim;

	if (p->present & (1u << first))
		return period_value((TariffPeriod *) p, first);
	if (p->present & (1u << second))
		return period_value((TariffPeriod *) p, second);
	return NULL;
}

static bool
holds(const TariffRestrictions *r, const Piece *pc, const Decimal *cum)
{
	uint32_t	m = r->mask;
	const Decimal *v;

	if (m == 0 || m == TARIFF_R_RESERVATION)
		return true;
	if (m & (TARIFF_R_START_TIME | TARIFF_R_END_TIME))
	{
		int64_t		st = (int64_t) r->start_time * USEC_PER_SEC;
		int64_t		et = (int64_t) r->end_time * USEC_PER_SEC;

		if ((m & TARIFF_R_START_TIME) && (m & TARIFF_R_END_TIME))
		{
			if (st < et && !(pc->sod >= st && pc->sod < et))
				return false;
			if (st > et && !(pc->sod >= st || pc->sod < et))
				return false;
		}
		else if (m & TARIFF_R_START_TIME)
		{
			if (pc->sod < st)
				return false;
		}
		else if (pc->sod >= et)
			return false;
	}
	if ((m & TARIFF_R_START_DATE) && pc->day < r->start_date)
		return false;
	if ((m & TARIFF_R_END_DATE) && pc->day >= r->end_date)
		return false;
	if ((m & TARIFF_R_DAY_OF_WEEK) && !(r->day_mask & (1u << pc->weekday)))
		return false;
	if ((m & TARIFF_R_MIN_KWH) && dec_cmp(cum, &r->min_kwh) < 0)
		return false;
	if ((m & TARIFF_R_MAX_KWH) && dec_cmp(cum, &r->max_kwh) >= 0)
		return false;
	if ((m & TARIFF_R_MIN_DURATION) && pc->elapsed < r->min_duration * USEC_PER_SEC)
		return false;
	if ((m & TARIFF_R_MAX_DURATION) && pc->elapsed >= r->max_duration * USEC_PER_SEC)
		return false;
	if (m & TARIFF_R_MIN_CURRENT)
	{
		v = period_level(pc->period, TARIFF_CDR_MIN_CURRENT, TARIFF_CDR_MAX_CURRENT, true);
		if (v == NULL || dec_cmp(v, &r->min_current) < 0)
			return false;
	}
	if (m & TARIFF_R_MAX_CURRENT)
	{
		v = period_level(pc->period, TARIFF_CDR_MIN_CURRENT, TARIFF_CDR_MAX_CURRENT, false);
		if (v == NULL || dec_cmp(v, &r->max_current) >= 0)
			return false;
	}
	if (m & TARIFF_R_MIN_POWER)
	{
		v = period_level(pc->period, TARIFF_CDR_MIN_POWER, TARIFF_CDR_MAX_POWER, true);
		if (v == NULL || dec_cmp(v, &r->min_power) < 0)
			return false;
	}
	if (m & TARIFF_R_MAX_POWER)
	{
		v = period_level(pc->period, TARIFF_CDR_MIN_POWER, TARIFF_CDR_MAX_POWER, false);
		if (v == NULL || dec_cmp(v, &r->max_power) >= 0)
			return false;
	}
	return true;
}

/* the first element of the pass with a component of dim whose restrictions hold */
static const TariffPriceComponent *
find_component(const Pricer *pr, const Piece *pc, int dim, int pass)
{
	int			i;

	for (i = 0; i < pr->t->nelements; i++)
	{
		const TariffElement *e = &pr->t->elements[i];
		int			ci = e->component_of[dim];
		int			res = (e->r.mask & TARIFF_R_RESERVATION) ? e->r.reservation : TARIFF_RES_NONE;

		if (ci < 0)
			continue;
		switch (pass)
		{
			case PASS_CHARGING:
				if (res == TARIFF_RES_RESERVATION || res == TARIFF_RES_EXPIRES ||
					(res == TARIFF_RES_RESERVED && !pr->reserved) ||
					(res == TARIFF_RES_NOT_RESERVED && pr->reserved))
					continue;
				break;
			case PASS_RESERVATION:
				if (res != TARIFF_RES_RESERVATION)
					continue;
				break;
			default:
				if (res != TARIFF_RES_EXPIRES)
					continue;
				break;
		}
		if (holds(&e->r, pc, &pr->cum))
			return &e->components[ci];
	}
	return NULL;
}

static const TariffPriceComponent *
find_reservation(const Pricer *pr, const Piece *pc, int dim)
{
	const TariffPriceComponent *c;

	if (pr->expired)
	{
		c = find_component(pr, pc, dim, PASS_EXPIRES);
		if (c != NULL)
			return c;
	}
	return find_component(pr, pc, dim, PASS_RESERVATION);
}

static void
charge(Pricer *pr, Acc *acc, const TariffPriceComponent *c, const Decimal *volume)
{
	D(pr, dec_mul(&pr->a, &c->price, volume, NULL));
	D(pr, dec_add(&acc->excl, &acc->excl, &pr->a, NULL));
	if (c->has_vat)
	{
		D(pr, dec_mul(&pr->b, &pr->a, &c->vat_factor, NULL));
		D(pr, dec_add(&acc->incl, &acc->incl, &pr->b, NULL));
	}
	else if (!dec_is_zero(&pr->a))
		acc->incl_unknown = true;
	D(pr, dec_add(&acc->volume, &acc->volume, volume, NULL));
	acc->last = c;
}

static void
price_piece(Pricer *pr, const Piece *pc)
{
	const TariffPeriod *p = pc->period;
	const TariffPriceComponent *c;
	bool		pure_reservation;
	int			k;

	for (k = 0; k < NVOL; k++)
	{
		if (dec_is_zero(&pr->share[k]))
			continue;
		if (k == V_RESERVATION)
			c = find_reservation(pr, pc, TARIFF_DIM_TIME);
		else
			c = find_component(pr, pc, vol_dim[k], PASS_CHARGING);
		if (c != NULL)
			charge(pr, &pr->acc[vol_acc[k]], c, &pr->share[k]);
	}
	pure_reservation = (p->present & RESERVATION_DIM) && !(p->present & CHARGING_DIMS);
	if (!pure_reservation && !pr->flat_done)
	{
		c = find_component(pr, pc, TARIFF_DIM_FLAT, PASS_CHARGING);
		if (c != NULL)
		{
			charge(pr, &pr->acc[A_FIXED], c, &pr->one);
			pr->flat_done = true;
		}
	}
	if (!pure_reservation && !pr->adhoc_done)
	{
		c = find_component(pr, pc, TARIFF_DIM_AD_HOC_PAYMENT, PASS_CHARGING);
		if (c != NULL)
		{
			charge(pr, &pr->acc[A_FIXED], c, &pr->one);
			pr->adhoc_done = true;
		}
	}
	if ((p->present & RESERVATION_DIM) && !pr->res_flat_done)
	{
		c = find_reservation(pr, pc, TARIFF_DIM_FLAT);
		if (c != NULL)
		{
			charge(pr, &pr->acc[A_RES_FIXED], c, &pr->one);
			pr->res_flat_done = true;
		}
	}
}

/*
 * The end of a piece that starts at pc->t, as set by local time: the next
 * local time-of-day bound (every element's start_time and end_time, and
 * midnight), or an earlier change of the UTC offset (DST), found by
 * bisection on whole seconds.  *te is lowered, never raised.
 */
static bool
local_bound(Pricer *pr, const Piece *pc, int64_t *te)
{
	const Tariff *t = pr->t;
	int64_t		cand;
	int64_t		probe;
	int64_t		s0,
				s1;
	int32_t		off;
	int			i;

	for (i = 0; i < t->nlocal_bounds; i++)
		if ((int64_t) t->local_bounds[i] * USEC_PER_SEC > pc->sod)
			break;
	if (i < t->nlocal_bounds)
		cand = pc->t + ((int64_t) t->local_bounds[i] * USEC_PER_SEC - pc->sod);
	else
		cand = pc->t + (USEC_PER_DAY - pc->sod) + (int64_t) t->local_bounds[0] * USEC_PER_SEC;
	probe = cand < *te ? cand : *te;
	s0 = floor_div(pc->t, USEC_PER_SEC);
	s1 = floor_div(probe - 1, USEC_PER_SEC);
	if (s1 > s0)
	{
		if (!utc_offset(pr, s1, &off))
			return false;
		if (off != pc->offset)
		{
			int64_t		lo = s0,
						hi = s1;

			while (hi - lo > 1)
			{
				int64_t		mid = lo + (hi - lo) / 2;

				if (!utc_offset(pr, mid, &off))
					return false;
				if (off == pc->offset)
					lo = mid;
				else
					hi = mid;
			}
			probe = hi * USEC_PER_SEC;
		}
	}
	if (probe < *te)
		*te = probe;
	return true;
}

/* cut one period [ps, pe) into pieces and price them */
static bool
price_period(Pricer *pr, const TariffPeriod *p, int64_t pe)
{
	const Tariff *t = pr->t;
	int64_t		ts = p->start;
	int			k;
	bool		after_kwh_cut = false;	/* a piece of this period ended at a kWh bound */

	D(pr, dec_copy(&pr->rem[V_ENERGY], &p->energy, NULL));
	D(pr, dec_copy(&pr->rem[V_TIME], &p->time, NULL));
	D(pr, dec_copy(&pr->rem[V_PARKING], &p->parking_time, NULL));
	D(pr, dec_copy(&pr->rem[V_RESERVATION], &p->reservation_time, NULL));
	for (;;)
	{
		Piece		pc;
		int64_t		te = pe;
		int			next_kwh = -1;	/* the next kWh bound above cum */
		bool		kwh_cut = false;

		/*
		 * A long session over a tariff of many elements prices for a good
		 * fraction of a second (up to TARIFF_MAX_PIECES pieces): a unit per
		 * element a piece is matched against, for the interrupt hook (mem.h).
		 */
		if (deg_work_check(t->nelements + 1))
			return fail(pr->err, "", "interrupted");
		if (!piece_at(pr, ts, p, &pc))
			return false;
		if (ts < pe)
		{
			if ((t->all_masks & TARIFF_R_LOCAL) && !local_bound(pr, &pc, &te))
				return false;
			for (k = 0; k < t->nduration_bounds; k++)
			{
				int64_t		d = pr->cdr->start + t->duration_bounds[k] * USEC_PER_SEC;

				if (d > ts)
				{
					if (d < te)
						te = d;
					break;
				}
			}
			if (t->nkwh_bounds > 0 && dec_sign(&pr->rem[V_ENERGY]) > 0)
			{
				for (k = 0; k < t->nkwh_bounds; k++)
					if (dec_cmp(&t->kwh_bounds[k], &pr->cum) > 0)
						break;
				if (k < t->nkwh_bounds)
				{
					/*
					 * constant power over the period [ps, pe) of energy E: the
					 * bound is reached at ps + (b - cum0) / E * (pe - ps), cum0
					 * the session energy before the period (cum less what the
					 * period gave so far), rounded up to a microsecond
					 */
					next_kwh = k;
					D(pr, dec_sub(&pr->a, &t->kwh_bounds[k], &pr->cum, NULL));
					D(pr, dec_add(&pr->a, &pr->a, &p->energy, NULL));
					D(pr, dec_sub(&pr->a, &pr->a, &pr->rem[V_ENERGY], NULL));
					D(pr, dec_from_int64(&pr->b, pe - p->start, NULL));
					D(pr, dec_mul(&pr->a, &pr->a, &pr->b, NULL));
					D(pr, dec_div_round(&pr->c, &pr->a, &p->energy, 0, DEC_ROUND_CEIL, NULL));
					if (pr->ok && dec_cmp(&pr->c, &pr->b) < 0)
					{
						int64_t		q = 0;

						D(pr, dec_to_int64(&pr->c, &q, NULL));
						/* the bound lies ahead of cum, so the piece is never empty */
						if (pr->ok && p->start + q <= ts)
							q = ts - p->start + 1;
						if (pr->ok && p->start + q < te)
						{
							te = p->start + q;
							kwh_cut = true;
						}
					}
				}
			}
		}
		if (!pr->ok)
			return fail(pr->err, "", "out of memory");
		if (te >= pe)
		{
			for (k = 0; k < NVOL; k++)
				D(pr, dec_copy(&pr->share[k], &pr->rem[k], NULL));
			te = pe;
		}
		else
		{
			D(pr, dec_from_int64(&pr->b, te - ts, NULL));
			D(pr, dec_from_int64(&pr->c, pe - ts, NULL));
			for (k = 0; k < NVOL; k++)
			{
				if (dec_is_zero(&pr->rem[k]))
				{
					dec_free(&pr->share[k]);
					continue;
				}
				D(pr, dec_mul(&pr->a, &pr->rem[k], &pr->b, NULL));
				D(pr, dec_div_round(&pr->share[k], &pr->a, &pr->c, TARIFF_SPLIT_SCALE,
									DEC_ROUND_HALF_EVEN, NULL));
				if (pr->ok)
					trim_scale(&pr->share[k]);
			}
			if (after_kwh_cut && !dec_is_zero(&pr->rem[V_ENERGY]))
			{
				/*
				 * After a cut at a kWh bound (at the microsecond after the
				 * exact instant) the energy still follows the period's
				 * constant power: E (te - ps) / (pe - ps) less what the
				 * period gave so far, never below 0 or above what is left.
				 */
				D(pr, dec_from_int64(&pr->b, te - p->start, NULL));
				D(pr, dec_from_int64(&pr->c, pe - p->start, NULL));
				D(pr, dec_mul(&pr->a, &p->energy, &pr->b, NULL));
				D(pr, dec_div_round(&pr->share[V_ENERGY], &pr->a, &pr->c, TARIFF_SPLIT_SCALE,
									DEC_ROUND_HALF_EVEN, NULL));
				D(pr, dec_sub(&pr->share[V_ENERGY], &pr->share[V_ENERGY], &p->energy, NULL));
				D(pr, dec_add(&pr->share[V_ENERGY], &pr->share[V_ENERGY], &pr->rem[V_ENERGY], NULL));
				if (pr->ok && dec_sign(&pr->share[V_ENERGY]) < 0)
					dec_free(&pr->share[V_ENERGY]);
				if (pr->ok && dec_cmp(&pr->share[V_ENERGY], &pr->rem[V_ENERGY]) > 0)
					D(pr, dec_copy(&pr->share[V_ENERGY], &pr->rem[V_ENERGY], NULL));
				if (pr->ok)
					trim_scale(&pr->share[V_ENERGY]);
			}
			if (next_kwh >= 0)
			{
				/* exactly at the bound; never past it, so the piece's element stays right */
				D(pr, dec_sub(&pr->a, &t->kwh_bounds[next_kwh], &pr->cum, NULL));
				if (kwh_cut || (pr->ok && dec_cmp(&pr->share[V_ENERGY], &pr->a) > 0))
					D(pr, dec_copy(&pr->share[V_ENERGY], &pr->a, NULL));
			}
		}
		if (!pr->ok)
			return fail(pr->err, "", "out of memory");
		price_piece(pr, &pc);
		for (k = 0; k < NVOL; k++)
			D(pr, dec_sub(&pr->rem[k], &pr->rem[k], &pr->share[k], NULL));
		D(pr, dec_add(&pr->cum, &pr->cum, &pr->share[V_ENERGY], NULL));
		if (!pr->ok)
			return fail(pr->err, "", "out of memory");
		if (++pr->pieces > TARIFF_MAX_PIECES)
			return fail(pr->err, "charging_periods",
						"the session crosses more than %d tariff boundaries", TARIFF_MAX_PIECES);
		if (te >= pe)
			return true;
		if (kwh_cut)
			after_kwh_cut = true;
		ts = te;
	}
}

/* num / divisor: exact when it terminates within num's scale + 10 places */
static void
div_round(Pricer *pr, Decimal *res, const Decimal *num, int64_t divisor)
{
	int			scale = num->dscale + 10;

	if (scale < TARIFF_DIV_SCALE)
		scale = TARIFF_DIV_SCALE;
	D(pr, dec_from_int64(&pr->c, divisor, NULL));
	D(pr, dec_div_round(res, num, &pr->c, scale, DEC_ROUND_HALF_EVEN, NULL));
	if (pr->ok)
		trim_scale(res);
}

/*
 * step_size: the priced volume rounded up to a multiple of the step of the
 * component that priced the last piece; the extra at that component's price.
 */
static void
apply_step(Pricer *pr, Acc *acc, bool energy)
{
	const TariffPriceComponent *c = acc->last;
	int64_t		mult = energy ? 1000 : 3600;	/* kWh to Wh, hours to seconds */
	Decimal		units = DEC_INIT;

	if (c == NULL || dec_is_zero(&acc->volume))
		return;
	D(pr, dec_from_int64(&pr->b, mult, NULL));
	D(pr, dec_mul(&units, &acc->volume, &pr->b, NULL));
	D(pr, dec_from_int64(&pr->b, c->step_size, NULL));

	/*
	 * The ceiling is taken on the volume rounded to 1e-9 of a unit: each
	 * piece's share carries the split's rounding (at most TARIFF_MAX_PIECES
	 * x 0.5e-20 kWh or hours in all, under 2e-12 Wh or s), which must not
	 * cost a whole step when the volume is a multiple of it.  A volume just
	 * above a multiple leaves a negative extra, which is not charged.
	 */
	D(pr, dec_round(&pr->c, &units, 9, DEC_ROUND_HALF_EVEN, NULL));
	D(pr, dec_div_round(&pr->a, &pr->c, &pr->b, 0, DEC_ROUND_CEIL, NULL));
	D(pr, dec_mul(&pr->a, &pr->a, &pr->b, NULL));
	D(pr, dec_sub(&pr->a, &pr->a, &units, NULL));
	if (pr->ok && dec_sign(&pr->a) > 0)
	{
		D(pr, dec_mul(&units, &c->price, &pr->a, NULL));
		div_round(pr, &pr->a, &units, mult);
		D(pr, dec_add(&acc->excl, &acc->excl, &pr->a, NULL));
		if (c->has_vat)
		{
			D(pr, dec_mul(&pr->b, &pr->a, &c->vat_factor, NULL));
			D(pr, dec_add(&acc->incl, &acc->incl, &pr->b, NULL));
		}
		else if (!dec_is_zero(&pr->a))
			acc->incl_unknown = true;
	}
	dec_free(&units);
}

static void
set_price(Pricer *pr, TariffPrice *out, const Acc *x, const Acc *y)
{
	D(pr, dec_copy(&out->excl_vat, &x->excl, NULL));
	if (y != NULL)
		D(pr, dec_add(&out->excl_vat, &out->excl_vat, &y->excl, NULL));
	out->has_incl_vat = !x->incl_unknown && (y == NULL || !y->incl_unknown);
	if (out->has_incl_vat)
	{
		D(pr, dec_copy(&out->incl_vat, &x->incl, NULL));
		if (y != NULL)
			D(pr, dec_add(&out->incl_vat, &out->incl_vat, &y->incl, NULL));
		if (pr->ok)
			trim_scale(&out->incl_vat);
	}
	else
		dec_free(&out->incl_vat);
	if (pr->ok)
		trim_scale(&out->excl_vat);
}

static void
add_price(Pricer *pr, TariffPrice *sum, const TariffPrice *p)
{
	D(pr, dec_add(&sum->excl_vat, &sum->excl_vat, &p->excl_vat, NULL));
	if (sum->has_incl_vat && p->has_incl_vat)
		D(pr, dec_add(&sum->incl_vat, &sum->incl_vat, &p->incl_vat, NULL));
	else
	{
		sum->has_incl_vat = false;
		dec_free(&sum->incl_vat);
	}
}

static void
finish(Pricer *pr, TariffTotals *out)
{
	const Tariff *t = pr->t;
	const TariffCdr *cdr = pr->cdr;
	TariffPrice *total = &out->total_cost;
	int			i;

	apply_step(pr, &pr->acc[A_ENERGY], true);
	apply_step(pr, &pr->acc[A_TIME], false);
	apply_step(pr, &pr->acc[A_PARKING], false);
	apply_step(pr, &pr->acc[A_RESERVATION], false);

	set_price(pr, &out->total_energy_cost, &pr->acc[A_ENERGY], NULL);
	set_price(pr, &out->total_time_cost, &pr->acc[A_TIME], NULL);
	set_price(pr, &out->total_parking_cost, &pr->acc[A_PARKING], NULL);
	set_price(pr, &out->total_fixed_cost, &pr->acc[A_FIXED], NULL);
	set_price(pr, &out->total_reservation_cost, &pr->acc[A_RESERVATION], &pr->acc[A_RES_FIXED]);

	dec_free(&total->excl_vat);
	dec_free(&total->incl_vat);
	total->has_incl_vat = true;
	add_price(pr, total, &out->total_fixed_cost);
	add_price(pr, total, &out->total_energy_cost);
	add_price(pr, total, &out->total_time_cost);
	add_price(pr, total, &out->total_parking_cost);
	add_price(pr, total, &out->total_reservation_cost);

	/* OCPI: both bounds apply, excl. VAT and incl. VAT each on its own */
	out->min_price_applied = out->max_price_applied = false;
	if (t->has_min_price && pr->ok)
	{
		if (dec_cmp(&total->excl_vat, &t->min_price.excl_vat) < 0)
		{
			D(pr, dec_copy(&total->excl_vat, &t->min_price.excl_vat, NULL));
			out->min_price_applied = true;
		}
		if (total->has_incl_vat && t->min_price.has_incl_vat &&
			dec_cmp(&total->incl_vat, &t->min_price.incl_vat) < 0)
		{
			D(pr, dec_copy(&total->incl_vat, &t->min_price.incl_vat, NULL));
			out->min_price_applied = true;
		}
	}
	if (t->has_max_price && pr->ok)
	{
		if (dec_cmp(&total->excl_vat, &t->max_price.excl_vat) > 0)
		{
			D(pr, dec_copy(&total->excl_vat, &t->max_price.excl_vat, NULL));
			out->max_price_applied = true;
		}
		if (total->has_incl_vat && t->max_price.has_incl_vat &&
			dec_cmp(&total->incl_vat, &t->max_price.incl_vat) > 0)
		{
			D(pr, dec_copy(&total->incl_vat, &t->max_price.incl_vat, NULL));
			out->max_price_applied = true;
		}
	}
	if (pr->ok)
	{
		trim_scale(&total->excl_vat);
		if (total->has_incl_vat)
			trim_scale(&total->incl_vat);
	}

	dec_free(&out->total_energy);
	dec_free(&out->total_parking_time);
	for (i = 0; i < cdr->nperiods; i++)
	{
		const TariffPeriod *p = &cdr->periods[i];

		if (p->present & (1u << TARIFF_CDR_ENERGY))
			D(pr, dec_add(&out->total_energy, &out->total_energy, &p->energy, NULL));
		if (p->present & (1u << TARIFF_CDR_PARKING_TIME))
			D(pr, dec_add(&out->total_parking_time, &out->total_parking_time, &p->parking_time, NULL));
	}
	out->duration_us = cdr->end - cdr->start;
	D(pr, dec_from_int64(&pr->a, out->duration_us, NULL));
	div_round(pr, &out->total_time, &pr->a, INT64_C(3600) * USEC_PER_SEC);
	out->pieces = pr->pieces;
}

static void
pricer_free(Pricer *pr)
{
	int			k;

	for (k = 0; k < NACC; k++)
	{
		dec_free(&pr->acc[k].excl);
		dec_free(&pr->acc[k].incl);
		dec_free(&pr->acc[k].volume);
	}
	for (k = 0; k < NVOL; k++)
	{
		dec_free(&pr->rem[k]);
		dec_free(&pr->share[k]);
	}
	dec_free(&pr->cum);
	dec_free(&pr->one);
	dec_free(&pr->a);
	dec_free(&pr->b);
	dec_free(&pr->c);
}

bool
tariff_cost(const Tariff *tariff, const TariffCdr *cdr, TariffUtcOffsetFn fn,
			void *ctx, TariffTotals *totals, TariffError *err)
{
	Pricer		pr;
	int			i,
				k;
	bool		ok = false;

	if (!tariff_cdr_check(cdr, err))
		return false;
	if (cdr->currency[0] != '\0' && strcmp(cdr->currency, tariff->currency) != 0)
		return fail(err, "currency", "the CDR is in %s, the tariff in %s", cdr->currency,
					tariff->currency);
	pr.t = tariff;
	pr.cdr = cdr;
	pr.fn = fn;
	pr.ctx = ctx;
	pr.err = err;
	pr.ok = true;
	pr.reserved = false;
	pr.expired = true;
	pr.flat_done = pr.adhoc_done = pr.res_flat_done = false;
	pr.pieces = 0;
	for (k = 0; k < NACC; k++)
	{
		dec_init(&pr.acc[k].excl);
		dec_init(&pr.acc[k].incl);
		dec_init(&pr.acc[k].volume);
		pr.acc[k].incl_unknown = false;
		pr.acc[k].last = NULL;
	}
	for (k = 0; k < NVOL; k++)
	{
		dec_init(&pr.rem[k]);
		dec_init(&pr.share[k]);
	}
	dec_init(&pr.cum);
	dec_init(&pr.one);
	dec_init(&pr.a);
	dec_init(&pr.b);
	dec_init(&pr.c);
	D(&pr, dec_from_int64(&pr.one, 1, NULL));
	for (i = 0; i < cdr->nperiods; i++)
	{
		uint32_t	present = cdr->periods[i].present;

		if (present & RESERVATION_DIM)
			pr.reserved = true;
		if (!(present & RESERVATION_DIM) || (present & CHARGING_DIMS))
			pr.expired = false;
	}
	for (i = 0; i < cdr->nperiods; i++)
	{
		int64_t		pe = i + 1 < cdr->nperiods ? cdr->periods[i + 1].start : cdr->end;

		if (!price_period(&pr, &cdr->periods[i], pe))
			goto done;
	}
	finish(&pr, totals);
	if (!pr.ok)
	{
		fail(err, "", "out of memory");
		goto done;
	}
	ok = true;
done:
	pricer_free(&pr);
	return ok;
}

static void
price_init(TariffPrice *p)
{
	dec_init(&p->excl_vat);
	dec_init(&p->incl_vat);
	p->has_incl_vat = true;
}

static void
price_free(TariffPrice *p)
{
	dec_free(&p->excl_vat);
	dec_free(&p->incl_vat);
}

void
tariff_totals_init(TariffTotals *t)
{
	price_init(&t->total_cost);
	price_init(&t->total_fixed_cost);
	price_init(&t->total_energy_cost);
	price_init(&t->total_time_cost);
	price_init(&t->total_parking_cost);
	price_init(&t->total_reservation_cost);
	dec_init(&t->total_energy);
	dec_init(&t->total_time);
	dec_init(&t->total_parking_time);
	t->duration_us = 0;
	t->min_price_applied = t->max_price_applied = false;
	t->pieces = 0;
}

void
tariff_totals_free(TariffTotals *t)
{
	price_free(&t->total_cost);
	price_free(&t->total_fixed_cost);
	price_free(&t->total_energy_cost);
	price_free(&t->total_time_cost);
	price_free(&t->total_parking_cost);
	price_free(&t->total_reservation_cost);
	dec_free(&t->total_energy);
	dec_free(&t->total_time);
	dec_free(&t->total_parking_time);
	tariff_totals_init(t);
}

/* a decimal rounded half-even to scale places, or trimmed when scale < 0 */
static bool
put_rounded(DegBuf *b, const Decimal *d, int scale)
{
	Decimal		r = DEC_INIT;
	bool		ok;

	if (scale >= 0)
		ok = dec_round(&r, d, scale, DEC_ROUND_HALF_EVEN, NULL) == DEC_OK;
	else
	{
		ok = dec_copy(&r, d, NULL) == DEC_OK;
		if (ok)
			trim_scale(&r);
	}
	ok = ok && dec_to_text(&r, b, NULL) == DEC_OK;
	dec_free(&r);
	return ok;
}

static bool
put_total(DegBuf *b, bool *first, const char *name, const TariffPrice *p, int scale)
{
	bool		f2 = true;
	bool		ok;

	put_key(b, first, name);
	degbuf_putc(b, '{');
	put_key(b, &f2, "excl_vat");
	ok = put_rounded(b, &p->excl_vat, scale);
	if (p->has_incl_vat)
	{
		put_key(b, &f2, "incl_vat");
		ok = ok && put_rounded(b, &p->incl_vat, scale);
	}
	degbuf_putc(b, '}');
	return ok;
}

bool
tariff_totals_to_json(const TariffTotals *t, int scale, DegBuf *out)
{
	bool		first = true;
	bool		ok;

	degbuf_putc(out, '{');
	ok = put_total(out, &first, "total_cost", &t->total_cost, scale) &&
		put_total(out, &first, "total_fixed_cost", &t->total_fixed_cost, scale);
	put_key(out, &first, "total_energy");
	ok = ok && put_rounded(out, &t->total_energy, -1) &&
		put_total(out, &first, "total_energy_cost", &t->total_energy_cost, scale);
	put_key(out, &first, "total_time");
	ok = ok && put_rounded(out, &t->total_time, -1) &&
		put_total(out, &first, "total_time_cost", &t->total_time_cost, scale);
	put_key(out, &first, "total_parking_time");
	ok = ok && put_rounded(out, &t->total_parking_time, -1) &&
		put_total(out, &first, "total_parking_cost", &t->total_parking_cost, scale) &&
		put_total(out, &first, "total_reservation_cost", &t->total_reservation_cost, scale);
	degbuf_putc(out, '}');
	return ok && !out->oom;
}
