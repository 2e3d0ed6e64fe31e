/*
 * curve.c: DEG offer curves: parsing, validation, the binary form, and the
 * power at a price.
 *
 * Every number is held as an exact 64-bit fixed-point integer (curve.h), so
 * evaluation is integer arithmetic with one rounding; decimals appear only
 * at the edges (JSON text, numeric arguments and results).
 */
#include "curve.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const int64_t pow10_64[19] = {
	INT64_C(1), INT64_C(10), INT64_C(100), INT64_C(1000), INT64_C(10000),
	INT64_C(100000), INT64_C(1000000), INT64_C(10000000),
	INT64_C(100000000), INT64_C(1000000000), INT64_C(10000000000),
	INT64_C(100000000000), INT64_C(1000000000000),
	INT64_C(10000000000000), INT64_C(100000000000000),
	INT64_C(1000000000000000), INT64_C(10000000000000000),
	INT64_C(100000000000000000), INT64_C(1000000000000000000)
};

/* ---------- errors ---------- */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void
fail(CurveError *err, int point, const char *field, const char *fmt,...)
{
	va_list		args;
	char		msg[200];
	size_t		n;

	if (err == NULL)
		return;
	err->point = point;
	n = strlen(field);
	if (n >= sizeof(err->field))
		n = sizeof(err->field) - 1;
	memcpy(err->field, field, n);
	err->field[n] = '\0';
	va_start(args, fmt);
	vsnprintf(msg, sizeof(msg), fmt, args);
	va_end(args);
	if (point > 0)
		snprintf(err->message, sizeof(err->message), "curve point %d: %s", point, msg);
	else
		snprintf(err->message, sizeof(err->message), "%s", msg);
}

static void
fail_nomem(CurveError *err)
{
	fail(err, 0, "", "out of memory");
}

/* ---------- fixed point and decimals ---------- */

int
curve_fixed_from_decimal(const Decimal *d, int scale, int64_t limit, int64_t *value)
{
	const int16_t *digits = dec_digits(d);
	uint64_t	acc = 0;
	bool		fraction = false;
	int			i;

	for (i = 0; i < d->ndigits; i++)
	{
		int64_t		digit = digits[i];
		int64_t		e = 4 * (int64_t) (d->weight - i) + scale;	/* digit * 10^e units */
		uint64_t	term;

		if (digit == 0)
			continue;
		if (e < 0)
		{
			if (e <= -4 || digit % pow10_64[-e] != 0)
			{
				fraction = true;
				continue;
			}
			term = (uint64_t) (digit / pow10_64[-e]);
		}
		else
		{
			if (e > 18 || digit > limit / pow10_64[e])
				return 2;
			term = (uint64_t) (digit * pow10_64[e]);
		}
		if (term >= (uint64_t) limit - acc)
			return 2;
		acc += term;
	}
	if (fraction)
		return 1;
	*value = d->sign == DEC_NEG ? -(int64_t) acc : (int64_t) acc;
	return 0;
}

/* a /= d, returning the remainder; d small */
static uint64_t
u128_divsmall(DegU128 *a, uint64_t d)
{
	uint64_t	rem;
	DegU128		top = u128_make(a->hi % d, a->lo);

	a->hi /= d;
	a->lo = u128_div64(top, d, &rem);
	return rem;
}

/* magnitude * 10^-scale with a sign, as a decimal without trailing zeros */
static bool
magnitude_to_decimal(bool negative, DegU128 mag, int scale, Decimal *result)
{
	int16_t		digits[12];
	int16_t		ordered[12];
	int			n = 0;
	int			pad;
	int			i;
	uint64_t	factor;

	if (u128_is_zero(mag))
		return dec_from_int64(result, 0, NULL) == DEC_OK;
	while (scale > 0)
	{
		DegU128		t = mag;

		if (u128_divsmall(&t, 10) != 0)
			break;
		mag = t;
		scale--;
	}
	/* align the point to a base-10000 digit boundary */
	pad = (4 - scale % 4) % 4;
	factor = (uint64_t) pow10_64[pad];
	if (mag.hi > UINT64_MAX / 10000)
	{
		/* too wide to pad (beyond any sum deg makes): go through text */
		char		text[64];
		char		rev[48];
		int			len = 0;
		int			j = 0;

		while (!u128_is_zero(mag) || len <= scale)
		{
			rev[len++] = (char) ('0' + u128_divsmall(&mag, 10));
		}
		if (negative)
			text[j++] = '-';
		for (i = len - 1; i >= 0; i--)
		{
			text[j++] = rev[i];
			if (i == scale && scale > 0)
				text[j++] = '.';
		}
		return dec_from_text(result, text, (size_t) j, NULL) == DEC_OK;
	}
	{
		DegU128		lo = u128_mul64(mag.lo, factor);

		mag = u128_make(mag.hi * factor + lo.hi, lo.lo);
	}
	while (!u128_is_zero(mag))
		digits[n++] = (int16_t) u128_divsmall(&mag, 10000);
	for (i = 0; i < n; i++)
		ordered[i] = digits[n - 1 - i];
	return dec_from_wire(result, n, n - 1 - (scale + pad) / 4,
						 negative ? DEC_NEG : DEC_POS, scale, ordered,
						 NULL) == DEC_OK;
}

bool
curve_fixed_to_decimal(int64_t value, int scale, Decimal *result)
{
	uint64_t	mag = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;

	return magnitude_to_decimal(value < 0, u128_from_u64(mag), scale, result);
}

bool
curve_wide_to_decimal(DegI128 value, int scale, Decimal *result)
{
	return magnitude_to_decimal(i128_is_negative(value), i128_abs(value),
								scale, result);
}

void
curve_fixed_format(int64_t value, int scale, char out[32])
{
	uint64_t	mag = value < 0 ? (uint64_t) 0 - (uint64_t) value : (uint64_t) value;
	char		rev[24];
	int			len = 0;
	int			j = 0;
	int			i;

	while (scale > 0 && mag % 10 == 0)
	{
		mag /= 10;
		scale--;
	}
	do
	{
		rev[len++] = (char) ('0' + mag % 10);
		mag /= 10;
	} while (mag != 0 || len <= scale);
	if (value < 0)
		out[j++] = '-';
	for (i = len - 1; i >= 0; i--)
	{
		out[j++] = rev[i];
		if (i == scale && scale > 0)
			out[j++] = '.';
	}
	out[j] = '\0';
}

void
curve_decimal_trim(Decimal *d)
{
	const int16_t *digits = dec_digits(d);
	int			last_weight;
	int			places;
	int			last;

	if (d->ndigits == 0)
	{
		d->dscale = 0;
		return;
	}
	last_weight = d->weight - (d->ndigits - 1);
	if (last_weight >= 0)
	{
		d->dscale = 0;
		return;
	}
	places = -last_weight * 4;
	for (last = digits[d->ndigits - 1]; last % 10 == 0; last /= 10)
		places--;
	d->dscale = places;
}

/* ---------- construction and the rules ---------- */

static Curve *
curve_alloc(int npoints)
{
	Curve	   *curve = deg_alloc(offsetof(Curve, points) +
								  (size_t) npoints * sizeof(CurvePoint));

	if (curve != NULL)
	{
		memset(curve, 0, offsetof(Curve, points));
		curve->npoints = npoints;
	}
	return curve;
}

void
curve_free(Curve *curve)
{
	deg_free(curve);
}

static bool
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static bool
power_in_range(int64_t v)
{
	return v > -CURVE_POWER_LIMIT && v < CURVE_POWER_LIMIT;
}

bool
curve_check(const Curve *curve, CurveError *err)
{
	char		a[32],
				b[32];
	int			i;

	if (!is_upper(curve->currency[0]) || !is_upper(curve->currency[1]) ||
		!is_upper(curve->currency[2]) || curve->currency[3] != '\0')
	{
		fail(err, 0, "currency", "currency is not three upper-case letters");
		return false;
	}
	if (!power_in_range(curve->min_export))
	{
		fail(err, 0, "minExport", "minExport is out of range (it must be above -1000000000 and below 1000000000)");
		return false;
	}
	if (!power_in_range(curve->max_export))
	{
		fail(err, 0, "maxExport", "maxExport is out of range (it must be above -1000000000 and below 1000000000)");
		return false;
	}
	if (curve->npoints < 1)
	{
		fail(err, 0, "curve", "curve has no points (at least one is needed)");
		return false;
	}
	if (curve->npoints > CURVE_MAX_POINTS)
	{
		fail(err, 0, "curve", "curve has %d points (at most %d)",
			 (int) curve->npoints, CURVE_MAX_POINTS);
		return false;
	}
	for (i = 0; i < curve->npoints; i++)
	{
		const CurvePoint *p = &curve->points[i];

		if (p->price < 0)
		{
			curve_fixed_format(p->price, CURVE_SCALE, a);
			fail(err, i + 1, "price", "price %s is negative", a);
			return false;
		}
		if (p->price >= CURVE_PRICE_LIMIT)
		{
			curve_fixed_format(p->price, CURVE_SCALE, a);
			fail(err, i + 1, "price", "price %s is out of range (it must be below 1000000)", a);
			return false;
		}
		if (!power_in_range(p->power))
		{
			curve_fixed_format(p->power, CURVE_SCALE, a);
			fail(err, i + 1, "powerKW", "powerKW %s is out of range (it must be above -1000000000 and below 1000000000)", a);
			return false;
		}
		if (i > 0 && p->price <= p[-1].price)
		{
			curve_fixed_format(p->price, CURVE_SCALE, a);
			curve_fixed_format(p[-1].price, CURVE_SCALE, b);
			fail(err, i + 1, "price", "price %s is not above the previous %s (prices must strictly increase)", a, b);
			return false;
		}
		if (i > 0 && p->power < p[-1].power)
		{
			curve_fixed_format(p->power, CURVE_SCALE, a);
			curve_fixed_format(p[-1].power, CURVE_SCALE, b);
			fail(err, i + 1, "powerKW", "powerKW %s is below the previous %s (power must not decrease as price rises)", a, b);
			return false;
		}
	}
	if (curve->min_export > curve->max_export)
	{
		curve_fixed_format(curve->min_export, CURVE_SCALE, a);
		curve_fixed_format(curve->max_export, CURVE_SCALE, b);
		fail(err, 0, "minExport", "minExport %s is above maxExport %s", a, b);
		return false;
	}
	return true;
}

Curve *
curve_make(const char *currency, int64_t min_export, int64_t max_export,
		   const CurvePoint *points, int npoints, CurveError *err)
{
	Curve	   *curve;
	int			i;

	if (npoints < 1 || npoints > CURVE_MAX_POINTS)
	{
		fail(err, 0, "curve", npoints < 1 ? "curve has no points (at least one is needed)" :
			 "curve has too many points (at most 10000)");
		return NULL;
	}
	curve = curve_alloc(npoints);
	if (curve == NULL)
	{
		fail_nomem(err);
		return NULL;
	}
	for (i = 0; i < 3 && currency[i] != '\0'; i++)
		curve->currency[i] = currency[i];
	curve->currency[3] = (i == 3 && currency[3] == '\0') ? '\0' : '?';
	curve->min_export = min_export;
	curve->max_export = max_export;
	memcpy(curve->points, points, (size_t) npoints * sizeof(CurvePoint));
	if (!curve_check(curve, err))
	{
		curve_free(curve);
		return NULL;
	}
	return curve;
}

/* ---------- JSON ---------- */

/* a JSON number as fixed point; false with err filled when it is not one */
static bool
json_fixed(const JsonNode *node, int point, const char *field, int64_t limit,
		   bool price, int64_t *value, CurveError *err)
{
	Decimal		d = DEC_INIT;
	int			status;

	if (node->kind != JSON_NUMBER)
	{
		fail(err, point, field, "%s must be a number, not %s", field,
			 json_kind_name(node->kind));
		return false;
	}
	if (dec_from_text(&d, node->text, node->len, NULL) != DEC_OK)
	{
		dec_free(&d);
		fail(err, point, field, "%s %.40s is not a number", field, node->text);
		return false;
	}
	status = curve_fixed_from_decimal(&d, CURVE_SCALE, limit, value);
	if (status == 0 && price && *value < 0)
		status = 3;
	dec_free(&d);
	if (status == 1)
		fail(err, point, field, "%s %.40s has more than %d digits after the point",
			 field, node->text, CURVE_SCALE);
	else if (status == 2 && price)
		fail(err, point, field, "%s %.40s is out of range (it must be at least 0 and below 1000000)",
			 field, node->text);
	else if (status == 2)
		fail(err, point, field, "%s %.40s is out of range (it must be above -1000000000 and below 1000000000)",
			 field, node->text);
	else if (status == 3)
		fail(err, point, field, "%s %.40s is negative", field, node->text);
	return status == 0;
}

/* the first member of object not named in allowed, or NULL */
static const JsonMember *
unknown_member(const JsonNode *object, const char *const *allowed, int nallowed)
{
	size_t		i;
	int			j;

	for (i = 0; i < object->count; i++)
	{
		const JsonMember *m = &object->members[i];

		for (j = 0; j < nallowed; j++)
			if (m->keylen == strlen(allowed[j]) && memcmp(m->key, allowed[j], m->keylen) == 0)
				break;
		if (j == nallowed)
			return m;
	}
	return NULL;
}

static const char *const curve_fields[] = {"currency", "minExport", "maxExport", "curve"};
static const char *const point_fields[] = {"price", "powerKW"};

/* quote a member name for a message: printable ASCII, at most 40 bytes */
static void
quote_key(const JsonMember *m, char out[48])
{
	size_t		i;
	size_t		j = 0;

	for (i = 0; i < m->keylen && j < 40; i++)
	{
		unsigned char c = (unsigned char) m->key[i];

		out[j++] = (c >= 0x20 && c < 0x7F) ? (char) c : '?';
	}
	if (i < m->keylen)
	{
		out[j++] = '.';
		out[j++] = '.';
	}
	out[j] = '\0';
}

Curve *
curve_from_json(const JsonNode *node, CurveError *err)
{
	const JsonNode *currency;
	const JsonNode *min_node;
	const JsonNode *max_node;
	const JsonNode *points;
	const JsonMember *extra;
	char		name[48];
	char		code[4];
	int64_t		min_export;
	int64_t		max_export;
	Curve	   *curve;
	size_t		i;

	if (node == NULL || node->kind != JSON_OBJECT)
	{
		fail(err, 0, "", "an offer curve must be a JSON object, not %s",
			 node == NULL ? "nothing" : json_kind_name(node->kind));
		return NULL;
	}
	extra = unknown_member(node, curve_fields, 4);
	if (extra != NULL)
	{
		quote_key(extra, name);
		fail(err, 0, "", "unknown field \"%s\" (an offer curve has currency, minExport, maxExport and curve)", name);
		return NULL;
	}
	currency = json_get(node, "currency");
	min_node = json_get(node, "minExport");
	max_node = json_get(node, "maxExport");
	points = json_get(node, "curve");
	if (currency == NULL || min_node == NULL || max_node == NULL || points == NULL)
	{
		const char *missing = currency == NULL ? "currency" : min_node == NULL ? "minExport" :
			max_node == NULL ? "maxExport" : "curve";

		fail(err, 0, missing, "missing field \"%s\"", missing);
		return NULL;
	}

	if (currency->kind != JSON_STRING)
	{
		fail(err, 0, "currency", "currency must be a string, not %s", json_kind_name(currency->kind));
		return NULL;
	}
	for (i = 0; i < 3 && i < currency->len; i++)
	{
		char		c = currency->text[i];

		code[i] = (c >= 'a' && c <= 'z') ? (char) (c - 'a' + 'A') : c;
		if (!is_upper(code[i]))
			break;
	}
	if (currency->len != 3 || i != 3)
	{
		fail(err, 0, "currency", "currency \"%.20s\" is not a three-letter code", currency->text);
		return NULL;
	}
	code[3] = '\0';

	if (!json_fixed(min_node, 0, "minExport", CURVE_POWER_LIMIT, false, &min_export, err) ||
		!json_fixed(max_node, 0, "maxExport", CURVE_POWER_LIMIT, false, &max_export, err))
		return NULL;

	if (points->kind != JSON_ARRAY)
	{
		fail(err, 0, "curve", "curve must be an array of points, not %s", json_kind_name(points->kind));
		return NULL;
	}
	if (points->count == 0)
	{
		fail(err, 0, "curve", "curve has no points (at least one is needed)");
		return NULL;
	}
	if (points->count > CURVE_MAX_POINTS)
	{
		fail(err, 0, "curve", "curve has %zu points (at most %d)", points->count, CURVE_MAX_POINTS);
		return NULL;
	}
	curve = curve_alloc((int) points->count);
	if (curve == NULL)
	{
		fail_nomem(err);
		return NULL;
	}
	memcpy(curve->currency, code, 4);
	curve->min_export = min_export;
	curve->max_export = max_export;
	for (i = 0; i < points->count; i++)
	{
		const JsonNode *p = points->items[i];
		const JsonNode *price;
		const JsonNode *power;
		int			point = (int) i + 1;

		if (p->kind != JSON_OBJECT)
		{
			fail(err, point, "", "a point must be an object with price and powerKW, not %s",
				 json_kind_name(p->kind));
			goto bad;
		}
		extra = unknown_member(p, point_fields, 2);
		if (extra != NULL)
		{
			quote_key(extra, name);
			fail(err, point, "", "unknown field \"%s\" (a point has price and powerKW)", name);
			goto bad;
		}
		price = json_get(p, "price");
		power = json_get(p, "powerKW");
		if (price == NULL || power == NULL)
		{
			const char *missing = price == NULL ? "price" : "powerKW";

			fail(err, point, missing, "missing field \"%s\"", missing);
			goto bad;
		}
		if (!json_fixed(price, point, "price", CURVE_PRICE_LIMIT, true,
						&curve->points[i].price, err) ||
			!json_fixed(power, point, "powerKW", CURVE_POWER_LIMIT, false,
						&curve->points[i].power, err))
			goto bad;
	}
	/* ordering and minExport <= maxExport; the values themselves are in range */
	if (!curve_check(curve, err))
		goto bad;
	return curve;

bad:
	curve_free(curve);
	return NULL;
}

Curve *
curve_parse(const char *text, size_t len, CurveError *err)
{
	JsonError	jerr;
	JsonNode   *root = json_parse(text, len, &jerr);
	Curve	   *curve;

	if (root == NULL)
	{
		fail(err, 0, "", "%s", jerr.message);
		return NULL;
	}
	curve = curve_from_json(root, err);
	json_free(root);
	return curve;
}

bool
curve_to_json(const Curve *curve, DegBuf *buf)
{
	char		num[32];
	int			i;

	degbuf_puts(buf, "{\"currency\":\"");
	degbuf_append(buf, curve->currency, 3);
	degbuf_puts(buf, "\",\"minExport\":");
	curve_fixed_format(curve->min_export, CURVE_SCALE, num);
	degbuf_puts(buf, num);
	degbuf_puts(buf, ",\"maxExport\":");
	curve_fixed_format(curve->max_export, CURVE_SCALE, num);
	degbuf_puts(buf, num);
	degbuf_puts(buf, ",\"curve\":[");
	for (i = 0; i < curve->npoints; i++)
	{
		if (i > 0)
			degbuf_putc(buf, ',');
		degbuf_puts(buf, "{\"price\":");
		curve_fixed_format(curve->points[i].price, CURVE_SCALE, num);
		degbuf_puts(buf, num);
		degbuf_puts(buf, ",\"powerKW\":");
		curve_fixed_format(curve->points[i].power, CURVE_SCALE, num);
		degbuf_puts(buf, num);
		degbuf_putc(buf, '}');
	}
	degbuf_puts(buf, "]}");
	return !buf->oom;
}

/* ---------- binary form ---------- */

static void
put_u32(uint8_t *out, uint32_t v)
{
	int			i;

	for (i = 0; i < 4; i++)
		out[i] = (uint8_t) (v >> (8 * i));
}

static void
put_i64(uint8_t *out, int64_t v)
{
	uint64_t	u = (uint64_t) v;
	int			i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t) (u >> (8 * i));
}

static uint32_t
get_u32(const uint8_t *in)
{
	return (uint32_t) in[0] | (uint32_t) in[1] << 8 |
		(uint32_t) in[2] << 16 | (uint32_t) in[3] << 24;
}

static int64_t
get_i64(const uint8_t *in)
{
	uint64_t	u = 0;
	int			i;

	for (i = 7; i >= 0; i--)
		u = (u << 8) | in[i];
	/* two's complement without relying on an implementation-defined cast */
	if (u >> 63)
		return -(int64_t) (~u) - 1;
	return (int64_t) u;
}

size_t
curve_serialized_size(const Curve *curve)
{
	return CURVE_HEADER_SIZE + (size_t) curve->npoints * CURVE_POINT_SIZE;
}

void
curve_serialize(const Curve *curve, uint8_t *out)
{
	int			i;

	memset(out, 0, CURVE_HEADER_SIZE);
	out[0] = CURVE_FORMAT_VERSION;
	memcpy(out + 2, curve->currency, 3);
	put_u32(out + 8, (uint32_t) curve->npoints);
	put_i64(out + 16, curve->min_export);
	put_i64(out + 24, curve->max_export);
	for (i = 0; i < curve->npoints; i++)
	{
		put_i64(out + CURVE_HEADER_SIZE + i * CURVE_POINT_SIZE, curve->points[i].price);
		put_i64(out + CURVE_HEADER_SIZE + i * CURVE_POINT_SIZE + 8, curve->points[i].power);
	}
}

Curve *
curve_deserialize(const uint8_t *bytes, size_t len, CurveError *err)
{
	uint32_t	npoints;
	Curve	   *curve;
	uint32_t	i;

	if (len < CURVE_HEADER_SIZE)
	{
		fail(err, 0, "", "invalid offer curve data: %zu bytes, fewer than the %d-byte header",
			 len, CURVE_HEADER_SIZE);
		return NULL;
	}
	if (bytes[0] != CURVE_FORMAT_VERSION)
	{
		fail(err, 0, "", "invalid offer curve data: unknown format version %d", bytes[0]);
		return NULL;
	}
	if (bytes[1] != 0 || bytes[5] != 0 || bytes[6] != 0 || bytes[7] != 0 ||
		get_u32(bytes + 12) != 0)
	{
		fail(err, 0, "", "invalid offer curve data: reserved header bytes are not zero");
		return NULL;
	}
	npoints = get_u32(bytes + 8);
	if (npoints < 1 || npoints > CURVE_MAX_POINTS)
	{
		fail(err, 0, "", "invalid offer curve data: %u points (1 to %d allowed)",
			 npoints, CURVE_MAX_POINTS);
		return NULL;
	}
	if ((len - CURVE_HEADER_SIZE) / CURVE_POINT_SIZE != npoints ||
		(len - CURVE_HEADER_SIZE) % CURVE_POINT_SIZE != 0)
	{
		fail(err, 0, "", "invalid offer curve data: %zu bytes for %u points (expected %zu)",
			 len, npoints, (size_t) CURVE_HEADER_SIZE + (size_t) npoints * CURVE_POINT_SIZE);
		return NULL;
	}
	curve = curve_alloc((int) npoints);
	if (curve == NULL)
	{
		fail_nomem(err);
		return NULL;
	}
	memcpy(curve->currency, bytes + 2, 3);
	curve->currency[3] = '\0';
	curve->min_export = get_i64(bytes + 16);
	curve->max_export = get_i64(bytes + 24);
	for (i = 0; i < npoints; i++)
	{
		curve->points[i].price = get_i64(bytes + CURVE_HEADER_SIZE + i * CURVE_POINT_SIZE);
		curve->points[i].power = get_i64(bytes + CURVE_HEADER_SIZE + i * CURVE_POINT_SIZE + 8);
	}
	if (!curve_check(curve, err))
	{
		char		why[sizeof(err->message)];

		if (err != NULL)
		{
			memcpy(why, err->message, sizeof(why));
			snprintf(err->message, sizeof(err->message), "invalid offer curve data: %.200s", why);
		}
		curve_free(curve);
		return NULL;
	}
	return curve;
}

/* ---------- the power at a price ---------- */

/*
 * The index j of the segment [points[j], points[j+1]) holding pico price x,
 * for points[0] < x < points[npoints-1] (so 0 <= j <= npoints - 2).
 */
static int
segment_of(const Curve *curve, int64_t x)
{
	int			lo = 0;
	int			hi = curve->npoints - 1;

	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (curve->points[mid].price * CURVE_PICO_PER_NANO <= x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int64_t
clip(const Curve *curve, int64_t v)
{
	if (v < curve->min_export)
		return curve->min_export;
	if (v > curve->max_export)
		return curve->max_export;
	return v;
}

int64_t
curve_power_pico(const Curve *curve, int64_t x)
{
	const CurvePoint *p = curve->points;
	int			last = curve->npoints - 1;
	int			j;
	uint64_t	dq,
				dp,
				dx,
				rem,
				quo;
	int64_t		v;

	if (x <= p[0].price * CURVE_PICO_PER_NANO)
		return clip(curve, p[0].power);
	if (x >= p[last].price * CURVE_PICO_PER_NANO)
		return clip(curve, p[last].power);
	j = segment_of(curve, x);
	dq = (uint64_t) (p[j + 1].power - p[j].power);
	if (dq == 0)
		return clip(curve, p[j].power);
	dp = (uint64_t) (p[j + 1].price - p[j].price) * CURVE_PICO_PER_NANO;
	dx = (uint64_t) (x - p[j].price * CURVE_PICO_PER_NANO);
	/* dq < 2^61 and dx < dp < 2^60: the product fits, the quotient is below dq */
	quo = u128_div64(u128_mul64(dq, dx), dp, &rem);
	if (2 * rem > dp || (2 * rem == dp && (quo & 1)))
		quo++;
	v = p[j].power + (int64_t) quo;
	return clip(curve, v);
}

bool
curve_power(const Curve *curve, const Decimal *price, Decimal *result, CurveError *err)
{
	const CurvePoint *p = curve->points;
	int			last = curve->npoints - 1;
	int64_t		x;
	int64_t		v;
	Decimal		a = DEC_INIT;
	Decimal		b = DEC_INIT;
	Decimal		t = DEC_INIT;
	int			lo,
				hi;
	bool		ok = false;

	if (curve_fixed_from_decimal(price, CURVE_PRICE_SCALE, CURVE_PICO_LIMIT, &x) == 0)
	{
		if (!curve_fixed_to_decimal(curve_power_pico(curve, x), CURVE_SCALE, result))
		{
			fail_nomem(err);
			return false;
		}
		return true;
	}

	/* finer or farther than pico: the same rule on decimals */
	if (!curve_fixed_to_decimal(p[0].price, CURVE_SCALE, &a))
		goto done;
	if (dec_cmp(price, &a) <= 0)
	{
		v = p[0].power;
		goto found;
	}
	if (!curve_fixed_to_decimal(p[last].price, CURVE_SCALE, &a))
		goto done;
	if (dec_cmp(price, &a) >= 0)
	{
		v = p[last].power;
		goto found;
	}
	lo = 0;
	hi = last;
	while (hi - lo > 1)
	{
		int			mid = lo + (hi - lo) / 2;

		if (!curve_fixed_to_decimal(p[mid].price, CURVE_SCALE, &a))
			goto done;
		if (dec_cmp(&a, price) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	v = p[lo].power;
	if (p[lo + 1].power != p[lo].power)
	{
		int64_t		step;

		/* (price - p0) * (q1 - q0) / (p1 - p0), rounded once to 9 places */
		if (!curve_fixed_to_decimal(p[lo].price, CURVE_SCALE, &a) ||
			dec_sub(&t, price, &a, NULL) != DEC_OK ||
			!curve_fixed_to_decimal(p[lo + 1].power - p[lo].power, CURVE_SCALE, &a) ||
			dec_mul(&t, &t, &a, NULL) != DEC_OK ||
			!curve_fixed_to_decimal(p[lo + 1].price - p[lo].price, CURVE_SCALE, &b) ||
			dec_div_round(&t, &t, &b, CURVE_SCALE, DEC_ROUND_HALF_EVEN, NULL) != DEC_OK)
			goto done;
		/* 0 < step < q1 - q0, so it is a fixed-point number in range */
		if (curve_fixed_from_decimal(&t, CURVE_SCALE, INT64_MAX, &step) != 0)
			goto done;
		v += step;
	}
found:
	if (!curve_fixed_to_decimal(clip(curve, v), CURVE_SCALE, result))
		goto done;
	ok = true;
done:
	if (!ok)
		fail_nomem(err);
	dec_free(&a);
	dec_free(&b);
	dec_free(&t);
	return ok;
}

void
curve_slopes_at(const Curve *curve, int64_t x, bool *left, bool *right)
{
	const CurvePoint *p = curve->points;
	int			last = curve->npoints - 1;
	int64_t		lo = curve->min_export;
	int64_t		hi = curve->max_export;
	int			j;

	*left = false;
	*right = false;
	if (x < p[0].price * CURVE_PICO_PER_NANO || x > p[last].price * CURVE_PICO_PER_NANO)
		return;
	j = x == p[last].price * CURVE_PICO_PER_NANO ? last : segment_of(curve, x);
	if (x == p[j].price * CURVE_PICO_PER_NANO)
	{
		int64_t		q = p[j].power;

		*left = j > 0 && p[j - 1].power < q && lo < q && q <= hi;
		*right = j < last && q < p[j + 1].power && lo <= q && q < hi;
		return;
	}
	if (p[j + 1].power == p[j].power)
		return;
	{
		/* g(x) = q0 + dq * dx / dp, compared with lo and hi exactly */
		uint64_t	dq = (uint64_t) (p[j + 1].power - p[j].power);
		uint64_t	dp = (uint64_t) (p[j + 1].price - p[j].price) * CURVE_PICO_PER_NANO;
		uint64_t	dx = (uint64_t) (x - p[j].price * CURVE_PICO_PER_NANO);
		DegU128		num = u128_mul64(dq, dx);
		int			vs_lo;
		int			vs_hi;

		/* sign of g - bound = sign of dq*dx - (bound - q0)*dp */
		if (lo <= p[j].power)
			vs_lo = 1;
		else
			vs_lo = u128_cmp(num, u128_mul64((uint64_t) (lo - p[j].power), dp));
		if (hi < p[j].power)
			vs_hi = 1;
		else
			vs_hi = u128_cmp(num, u128_mul64((uint64_t) (hi - p[j].power), dp));
		*left = vs_lo > 0 && vs_hi <= 0;
		*right = vs_lo >= 0 && vs_hi < 0;
	}
}

int
curve_cmp(const Curve *a, const Curve *b)
{
	int			c = memcmp(a->currency, b->currency, 3);
	int			i;

	if (c != 0)
		return c < 0 ? -1 : 1;
	if (a->min_export != b->min_export)
		return a->min_export < b->min_export ? -1 : 1;
	if (a->max_export != b->max_export)
		return a->max_export < b->max_export ? -1 : 1;
	for (i = 0; i < a->npoints && i < b->npoints; i++)
	{
		if (a->points[i].price != b->points[i].price)
			return a->points[i].price < b->points[i].price ? -1 : 1;
		if (a->points[i].power != b->points[i].power)
			return a->points[i].power < b->points[i].power ? -1 : 1;
	}
	if (a->npoints != b->npoints)
		return a->npoints < b->npoints ? -1 : 1;
	return 0;
}
