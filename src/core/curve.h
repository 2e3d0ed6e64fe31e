/*
 * curve.h: the DEG OfferCurve, without PostgreSQL.
 *
 * An offer curve says how much power a participant trades at each price:
 * positive power exports (sells), negative imports (buys).  Between its
 * points power is linear in price, outside them it stays at the end value,
 * and the result is clipped to [minExport, maxExport].  Prices strictly
 * increase from point to point and power never decreases, so a curve is a
 * continuous, non-decreasing function of price.
 *
 * Numbers are exact fixed-point integers:
 *
 *   prices and powers of a curve   "nano": units of 10^-9 (CURVE_SCALE)
 *   a price to evaluate or clear   "pico": units of 10^-12 (CURVE_PRICE_SCALE)
 *
 * An input number (JSON or numeric) must have at most 9 digits after the
 * point, prices must lie in [0, 10^6) and powers in (-10^9, 10^9) kW, so
 * every product that interpolation needs fits in 128 bits (wide.h).
 *
 * The power at a price is the exact linear interpolation, clipped, rounded
 * once, half to even, to 9 places: curve_power_pico for pico prices,
 * curve_power for any decimal price.  The two agree wherever both apply,
 * and market clearing (clearing.h) clears every participant at exactly
 * this value.  Decimals made here carry no trailing zeros ("2.5", not
 * "2.500000000").
 */
#ifndef DEG_CORE_CURVE_H
#define DEG_CORE_CURVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decimal.h"
#include "json.h"
#include "mem.h"
#include "wide.h"

#define CURVE_SCALE 9			/* digits after the point of curve numbers */
#define CURVE_PRICE_SCALE 12	/* digits after the point of evaluated prices */
#define CURVE_NANO INT64_C(1000000000)
#define CURVE_PICO_PER_NANO 1000

/* exclusive limits of |value| in nano-units */
#define CURVE_PRICE_LIMIT INT64_C(1000000000000000)		/* 10^6 */
#define CURVE_POWER_LIMIT INT64_C(1000000000000000000)	/* 10^9 kW */
/* exclusive limit of |price| in pico-units for curve_power_pico */
#define CURVE_PICO_LIMIT INT64_C(1000000000000000000)	/* 10^6 */

#define CURVE_MAX_POINTS 10000

/* serialized form: a 32-byte header, then 16 bytes per point */
#define CURVE_FORMAT_VERSION 1
#define CURVE_HEADER_SIZE 32
#define CURVE_POINT_SIZE 16

typedef struct CurvePoint
{
	int64_t		price;			/* nano-units of currency per kWh, >= 0 */
	int64_t		power;			/* nano-kW */
} CurvePoint;

typedef struct Curve
{
	char		currency[4];	/* three upper-case letters and a NUL */
	int64_t		min_export;		/* nano-kW */
	int64_t		max_export;		/* nano-kW, >= min_export */
	int32_t		npoints;		/* 1 .. CURVE_MAX_POINTS */
	CurvePoint	points[];		/* prices strictly increasing, power not decreasing */
} Curve;

typedef struct CurveError
{
	int			point;			/* 1-based curve point concerned, 0 if none */
	char		field[16];		/* "price", "powerKW", "minExport", ... or "" */
	char		message[256];	/* lower case, no trailing period */
} CurveError;

/*
 * Parse and validate.  curve_parse reads the OfferCurve JSON text (len
 * bytes, any bytes are safe); curve_from_json takes a parsed object.  Both
 * return a curve from deg_alloc, or NULL with err filled (err may be NULL).
 * The members are exactly currency, minExport, maxExport and curve, each
 * point exactly price and powerKW (DEG's additionalProperties: false); a
 * lower-case currency is upper-cased.
 */
extern Curve *curve_parse(const char *text, size_t len, CurveError *err);
extern Curve *curve_from_json(const JsonNode *node, CurveError *err);

/*
 * Build from fixed-point parts, with the same checks as curve_parse.
 * points holds npoints entries; currency is three letters.
 */
extern Curve *curve_make(const char *currency, int64_t min_export,
						 int64_t max_export, const CurvePoint *points,
						 int npoints, CurveError *err);

extern void curve_free(Curve *curve);	/* curve may be NULL */

/* check every rule on a curve built by hand; true when it holds */
extern bool curve_check(const Curve *curve, CurveError *err);

/* the canonical JSON text, appended to buf; false when out of memory */
extern bool curve_to_json(const Curve *curve, DegBuf *buf);

/*
 * Binary form (the datum): little-endian, fixed-width.
 *
 *   0   version (CURVE_FORMAT_VERSION)      1 byte
 *   1   flags, 0                            1 byte
 *   2   currency, 3 letters A-Z             3 bytes
 *   5   zero                                3 bytes
 *   8   npoints                             uint32
 *   12  zero                                uint32
 *   16  min_export, max_export              int64 each
 *   32  npoints x (price, power)            int64 each
 *
 * curve_deserialize checks the length, every field and every rule, since
 * the bytes may come from disk or a client.
 */
extern size_t curve_serialized_size(const Curve *curve);
extern void curve_serialize(const Curve *curve, uint8_t *out);
extern Curve *curve_deserialize(const uint8_t *bytes, size_t len, CurveError *err);

/* the power at a pico price, in nano-kW; |price| < CURVE_PICO_LIMIT */
extern int64_t curve_power_pico(const Curve *curve, int64_t price);

/*
 * The power at any decimal price, as a decimal (at most 9 places, no
 * trailing zeros).  Fails only when out of memory.
 */
extern bool curve_power(const Curve *curve, const Decimal *price,
						Decimal *result, CurveError *err);

/*
 * Is the clipped curve strictly increasing just left of, and just right
 * of, a pico price?  (A participant there is marginal in a market.)
 */
extern void curve_slopes_at(const Curve *curve, int64_t price,
							bool *left, bool *right);

/* a total order on curves: currency, bounds, then points */
extern int	curve_cmp(const Curve *a, const Curve *b);

/* ---------- fixed point and decimals ---------- */

/*
 * The exact value of d in units of 10^-scale, if it is a whole number of
 * them and its magnitude is below limit: 0 on success, 1 when d has more
 * digits after the point than scale, 2 when it is out of range.
 */
extern int	curve_fixed_from_decimal(const Decimal *d, int scale,
									 int64_t limit, int64_t *value);
/* value * 10^-scale as a decimal without trailing zeros */
extern bool curve_fixed_to_decimal(int64_t value, int scale, Decimal *result);
/* the same for a 128-bit two's complement value */
extern bool curve_wide_to_decimal(DegI128 value, int scale, Decimal *result);
/* text of value * 10^-scale, as curve_fixed_to_decimal would print it */
extern void curve_fixed_format(int64_t value, int scale, char out[32]);

/* drop trailing zeros after the point (dscale as small as the value allows) */
extern void curve_decimal_trim(Decimal *d);

#endif							/* DEG_CORE_CURVE_H */
