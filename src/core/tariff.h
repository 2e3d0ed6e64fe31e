/*
 * tariff.h: OCPI 2.2.1 tariffs and the pricing of a charge data record,
 * without PostgreSQL.
 *
 * A tariff is read from the OCPI 2.2.1 Tariff JSON (snake_case) or from
 * DEG's camelCase Tariff (SPEC.md section 9), validated, and kept as the
 * structs below; it has a compact binary form for storage and an OCPI JSON
 * form for output.  tariff_cost prices a CDR's charging periods with it and
 * returns the OCPI CDR totals.
 *
 * The pricing rules (OCPI 2.2.1 mod_tariffs, and the choices where the text
 * is silent):
 *
 *  - Per dimension (ENERGY, TIME, PARKING_TIME, FLAT, and the reservation
 *    dimensions) the FIRST element that has a price component of that
 *    dimension and whose restrictions all hold applies; none: free.
 *  - Restrictions are evaluated at the start of each piece of a charging
 *    period: time of day, date and day of week in the site's local time
 *    (the caller's utc_offset callback), cumulative session energy for
 *    min_kwh/max_kwh, elapsed session time for min_duration/max_duration,
 *    the period's MIN_/MAX_ CURRENT and POWER dimensions.  Lower bounds are
 *    inclusive and upper bounds exclusive for all of them, so adjacent
 *    ranges (max_current 32 / min_current 32) leave no gap.  A current or
 *    power restriction on a period that states neither MIN_ nor MAX_ of it
 *    does not hold.  start_time == end_time means the whole day; only one of
 *    them means until / from midnight; end_time < start_time crosses midnight.
 *  - A period is split wherever a restriction can change inside it: local
 *    time-of-day and midnight boundaries, UTC-offset changes (DST), elapsed
 *    duration bounds, and the instant cumulative energy reaches a kWh bound.
 *    The volumes of the priced dimensions are divided in proportion to time
 *    (constant power within a period), except that at a kWh bound the
 *    energy is divided exactly at the bound.  Shares are rounded half-even
 *    to TARIFF_SPLIT_SCALE places and the last piece takes the remainder, so
 *    a period's volume is kept exactly.
 *  - FLAT is charged once per session: the first FLAT found, in time order
 *    of the pieces, in element order within a piece.  A reservation's FLAT
 *    (an element restricted to RESERVATION or RESERVATION_EXPIRES) is
 *    charged once more when the session has reservation time.
 *  - step_size: per dimension, the session total of the priced volume is
 *    rounded up to a multiple of the step_size (Wh for ENERGY, seconds for
 *    the times) of the price component that priced the last piece with
 *    volume; the extra is charged at that component's price and VAT.  The
 *    volume is taken to 1e-9 Wh or s for that, so that the rounding of the
 *    proportional split never costs a whole step.
 *  - min_price and max_price bound total_cost only (excl. VAT by the
 *    excl_vat bound, incl. VAT by the incl_vat bound when given); the
 *    per-dimension totals stay as computed.
 *  - VAT: a price component without vat has unknown VAT (OCPI: "Not
 *    providing a VAT is different from 0% VAT"; its example: "As no VAT
 *    information is given, it is not possible to calculate total costs
 *    including VAT").  An amount priced by such a component, unless zero,
 *    makes incl_vat of its dimension total and of total_cost unknown
 *    (has_incl_vat false).  vat 0 is 0 %.
 *  - Reservations: a period with RESERVATION_TIME is reservation time,
 *    priced by the TIME components of elements restricted to RESERVATION.
 *    A session of reservation periods only is an expired reservation: then
 *    RESERVATION_EXPIRES elements come first, then RESERVATION ones, and no
 *    charging FLAT is due.  DEG's RESERVED / NOT_RESERVED restrict an element
 *    to sessions with / without reservation time.
 *  - DEG's AD_HOC_PAYMENT component is a one-time fee like FLAT, counted in
 *    total_fixed_cost.  DEG's stepSize is read with OCPI units (Wh for
 *    ENERGY, seconds for time), not DEG's "seconds" for every dimension.
 *
 * Numbers: money and volumes are exact decimals (decimal.h).  Inputs have at
 * most TARIFF_MAX_INT_DIGITS digits before the point and
 * TARIFF_MAX_FRAC_DIGITS nonzero digits after it.  Prices times volumes and
 * VAT factors (1 + vat / 100) are exact.  The only inexact steps are the
 * proportional split above and two divisions: the step_size extra of a time
 * dimension (seconds to hours) and total_time (microseconds to hours); a
 * quotient that does not terminate is rounded half-even at the dividend's
 * scale + 10 places, at least TARIFF_DIV_SCALE.  Results are kept at that
 * full precision (trailing zeros dropped) so that billing rounds once;
 * tariff_totals_to_json can round for display.
 *
 * Times are microseconds since 1970-01-01 00:00 UTC; durations, step sizes
 * and restriction bounds are seconds.
 */
#ifndef DEG_CORE_TARIFF_H
#define DEG_CORE_TARIFF_H

#include "decimal.h"
#include "json.h"
#include "mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARIFF_MAX_INT_DIGITS 15
#define TARIFF_MAX_FRAC_DIGITS 16
#define TARIFF_SPLIT_SCALE 20
#define TARIFF_DIV_SCALE 20

#define TARIFF_MAX_ELEMENTS 1000
#define TARIFF_MAX_PERIODS 100000
/* pieces one CDR may be cut into (periods times restriction boundaries) */
#define TARIFF_MAX_PIECES 100000
/* bytes of the non-pricing members (id, alt texts, energy mix...) kept */
#define TARIFF_MAX_META 65536

/* price component dimensions; AD_HOC_PAYMENT only in DEG's dialect */
typedef enum TariffDimension
{
	TARIFF_DIM_ENERGY,
	TARIFF_DIM_FLAT,
	TARIFF_DIM_TIME,
	TARIFF_DIM_PARKING_TIME,
	TARIFF_DIM_AD_HOC_PAYMENT
} TariffDimension;
#define TARIFF_DIMS 5

typedef enum TariffType
{
	TARIFF_TYPE_NONE = -1,		/* absent: valid for all sessions */
	TARIFF_TYPE_AD_HOC_PAYMENT,
	TARIFF_TYPE_PROFILE_CHEAP,
	TARIFF_TYPE_PROFILE_FAST,
	TARIFF_TYPE_PROFILE_GREEN,
	TARIFF_TYPE_REGULAR
} TariffType;
#define TARIFF_TYPES 5

typedef enum TariffReservation
{
	TARIFF_RES_NONE,
	TARIFF_RES_RESERVATION,		/* OCPI: prices reservation time */
	TARIFF_RES_EXPIRES,			/* OCPI: prices an expired reservation */
	TARIFF_RES_RESERVED,		/* DEG: only sessions with a reservation */
	TARIFF_RES_NOT_RESERVED		/* DEG: only sessions without one */
} TariffReservation;

typedef enum TariffDialect
{
	TARIFF_DIALECT_OCPI,		/* snake_case */
	TARIFF_DIALECT_DEG			/* camelCase */
} TariffDialect;

/* restriction presence bits (TariffRestrictions.mask) */
#define TARIFF_R_START_TIME		0x0001
#define TARIFF_R_END_TIME		0x0002
#define TARIFF_R_START_DATE		0x0004
#define TARIFF_R_END_DATE		0x0008
#define TARIFF_R_MIN_KWH		0x0010
#define TARIFF_R_MAX_KWH		0x0020
#define TARIFF_R_MIN_CURRENT	0x0040
#define TARIFF_R_MAX_CURRENT	0x0080
#define TARIFF_R_MIN_POWER		0x0100
#define TARIFF_R_MAX_POWER		0x0200
#define TARIFF_R_MIN_DURATION	0x0400
#define TARIFF_R_MAX_DURATION	0x0800
#define TARIFF_R_DAY_OF_WEEK	0x1000
#define TARIFF_R_RESERVATION	0x2000
#define TARIFF_R_ALL			0x3FFF
/* the restrictions read in local time */
#define TARIFF_R_LOCAL (TARIFF_R_START_TIME | TARIFF_R_END_TIME | \
	TARIFF_R_START_DATE | TARIFF_R_END_DATE | TARIFF_R_DAY_OF_WEEK)

typedef struct TariffRestrictions
{
	uint32_t	mask;			/* TARIFF_R_* present */
	int32_t		start_time;		/* seconds after local midnight, whole minutes */
	int32_t		end_time;
	int32_t		start_date;		/* local days since 1970-01-01 */
	int32_t		end_date;		/* exclusive */
	uint8_t		day_mask;		/* bit 0 Monday .. bit 6 Sunday */
	uint8_t		reservation;	/* TariffReservation */
	int64_t		min_duration;	/* seconds, inclusive */
	int64_t		max_duration;	/* seconds, exclusive */
	Decimal		min_kwh;
	Decimal		max_kwh;
	Decimal		min_current;	/* A, sum over phases */
	Decimal		max_current;
	Decimal		min_power;		/* kW */
	Decimal		max_power;
} TariffRestrictions;

typedef struct TariffPriceComponent
{
	uint8_t		type;			/* TariffDimension */
	bool		has_vat;
	int32_t		step_size;		/* Wh or seconds; FLAT: as given, unused */
	Decimal		price;			/* per kWh, per hour, or per session */
	Decimal		vat;			/* percent, when has_vat */
	Decimal		vat_factor;		/* 1 + vat / 100, when has_vat */
} TariffPriceComponent;

typedef struct TariffElement
{
	int			ncomponents;	/* 1 .. TARIFF_DIMS, one per dimension */
	TariffPriceComponent components[TARIFF_DIMS];
	int8_t		component_of[TARIFF_DIMS];	/* index per dimension, -1 none */
	TariffRestrictions r;
} TariffElement;

typedef struct TariffPrice
{
	Decimal		excl_vat;
	bool		has_incl_vat;
	Decimal		incl_vat;
} TariffPrice;

typedef struct Tariff
{
	char		currency[4];	/* ISO 4217, NUL-terminated */
	int			type;			/* TariffType */
	int			dialect;		/* TariffDialect of the input */
	bool		has_min_price;
	bool		has_max_price;
	TariffPrice min_price;
	TariffPrice max_price;
	int			nelements;
	TariffElement *elements;
	char	   *meta;			/* canonical JSON object of the other members
								 * (OCPI names), or NULL */
	size_t		metalen;
	/* derived on parse and deserialize, not stored */
	uint32_t	all_masks;		/* union of the elements' masks */
	int			nlocal_bounds;	/* sorted distinct local seconds of day */
	int32_t    *local_bounds;
	int			nduration_bounds;	/* sorted distinct seconds */
	int64_t    *duration_bounds;
	int			nkwh_bounds;	/* sorted distinct kWh bounds */
	Decimal    *kwh_bounds;
} Tariff;

typedef struct TariffError
{
	char		path[128];		/* e.g. "elements[1].price_components[0].step_size" */
	char		message[320];	/* the path, a colon, and what is wrong */
} TariffError;

/* ---------- tariffs ---------- */

extern void tariff_init(Tariff *t);
extern void tariff_free(Tariff *t);	/* t is empty (tariff_init) again */

/*
 * Read a tariff from JSON text (len bytes) or from a parsed tree.  On
 * failure *err names the field (path) and the problem, and *t is empty.
 */
extern bool tariff_parse(const char *text, size_t len, Tariff *t, TariffError *err);
extern bool tariff_from_json(const JsonNode *node, Tariff *t, TariffError *err);

/*
 * The binary form: tariff_serialize appends it to out (false when out of
 * memory); tariff_deserialize reads exactly len bytes and checks everything
 * tariff_parse checks, so any bytes are safe input.
 */
extern bool tariff_serialize(const Tariff *t, DegBuf *out);
extern bool tariff_deserialize(const uint8_t *data, size_t len, Tariff *t,
							   TariffError *err);

/*
 * Append the tariff as OCPI 2.2.1 JSON (snake_case, whatever the input
 * dialect): the pricing members from the structs, the others from meta.
 */
extern bool tariff_to_json(const Tariff *t, DegBuf *out, TariffError *err);

extern const char *tariff_dimension_name(int dim);
extern const char *tariff_type_name(int type);

/* ---------- charge data records ---------- */

/* CDR dimension types (OCPI 2.2.1 CdrDimensionType) */
typedef enum TariffCdrDimension
{
	TARIFF_CDR_CURRENT,
	TARIFF_CDR_ENERGY,
	TARIFF_CDR_ENERGY_EXPORT,
	TARIFF_CDR_ENERGY_IMPORT,
	TARIFF_CDR_MAX_CURRENT,
	TARIFF_CDR_MIN_CURRENT,
	TARIFF_CDR_MAX_POWER,
	TARIFF_CDR_MIN_POWER,
	TARIFF_CDR_PARKING_TIME,
	TARIFF_CDR_POWER,
	TARIFF_CDR_RESERVATION_TIME,
	TARIFF_CDR_STATE_OF_CHARGE,
	TARIFF_CDR_TIME
} TariffCdrDimension;
#define TARIFF_CDR_DIMS 13

/*
 * One charging period.  present has bit (1 << TariffCdrDimension) for each
 * dimension given; the values of the ones pricing reads are kept (kWh,
 * hours, A, kW).  The period lasts until the next period's start, the last
 * one until the CDR's end.
 */
typedef struct TariffPeriod
{
	int64_t		start;
	uint32_t	present;
	Decimal		energy;
	Decimal		time;
	Decimal		parking_time;
	Decimal		reservation_time;
	Decimal		min_current;
	Decimal		max_current;
	Decimal		min_power;
	Decimal		max_power;
} TariffPeriod;

typedef struct TariffCdr
{
	int64_t		start;			/* start_date_time */
	int64_t		end;			/* end_date_time */
	char		currency[4];	/* "" when absent */
	int			nperiods;
	int			capacity;
	TariffPeriod *periods;
} TariffCdr;

/* a TariffCdr may be reused: reset keeps its buffer, free releases it */
extern void tariff_cdr_init(TariffCdr *cdr);
extern void tariff_cdr_reset(TariffCdr *cdr);
extern void tariff_cdr_free(TariffCdr *cdr);

/*
 * Read start_date_time, end_date_time, currency and charging_periods of an
 * OCPI CDR (other members are ignored).  Errors: a missing or malformed
 * field, no charging periods, periods out of order or outside the session,
 * an unknown or repeated dimension type, a negative ENERGY, TIME,
 * PARKING_TIME or RESERVATION_TIME volume.
 */
extern bool tariff_cdr_parse(const char *text, size_t len, TariffCdr *cdr,
							 TariffError *err);
extern bool tariff_cdr_from_json(const JsonNode *node, TariffCdr *cdr,
								 TariffError *err);

/*
 * Building a CDR without JSON: append a period (zeroed, start set; NULL
 * when out of memory or beyond TARIFF_MAX_PERIODS) and set its dimensions;
 * tariff_cdr_check then applies the checks tariff_cdr_parse applies.
 */
extern TariffPeriod *tariff_cdr_add_period(TariffCdr *cdr, int64_t start);
extern bool tariff_period_set(TariffPeriod *p, int dim, const Decimal *volume,
							  TariffError *err);
extern bool tariff_cdr_check(const TariffCdr *cdr, TariffError *err);

extern int	tariff_cdr_dimension_from_name(const char *name, size_t len);	/* -1 unknown */

/*
 * RFC 3339 date-time as OCPI writes it: "2015-06-29T20:39:09Z", optional
 * fraction (kept to the microsecond), "Z", a numeric offset, or nothing (UTC,
 * as OCPI says).  Years 0001..9999.
 */
extern bool tariff_parse_timestamp(const char *text, size_t len, int64_t *usec);

/* ---------- pricing ---------- */

/*
 * The site's local time: the offset in seconds to add to a UTC instant
 * (seconds since 1970-01-01 UTC) to get local wall-clock time there, e.g.
 * 3600 in Amsterdam in winter and 7200 in summer.  Returns false when it
 * cannot tell (tariff_cost then fails).  Offsets of a day or more are errors.
 * A NULL callback is UTC.
 */
typedef bool (*TariffUtcOffsetFn) (void *ctx, int64_t utc_seconds,
								   int32_t *offset_seconds);

typedef struct TariffTotals
{
	TariffPrice total_cost;		/* after min_price / max_price */
	TariffPrice total_fixed_cost;	/* charging FLAT and AD_HOC_PAYMENT */
	TariffPrice total_energy_cost;
	TariffPrice total_time_cost;
	TariffPrice total_parking_cost;	/* OCPI's name for parking time cost */
	TariffPrice total_reservation_cost; /* reservation time and its FLAT */
	Decimal		total_energy;	/* kWh, sum of ENERGY volumes */
	Decimal		total_time;		/* hours, end_date_time - start_date_time */
	Decimal		total_parking_time; /* hours, sum of PARKING_TIME volumes */
	int64_t		duration_us;	/* end_date_time - start_date_time */
	bool		min_price_applied;
	bool		max_price_applied;
	int			pieces;			/* pieces the periods were cut into */
} TariffTotals;

extern void tariff_totals_init(TariffTotals *totals);
extern void tariff_totals_free(TariffTotals *totals);

/*
 * Price the CDR.  totals must be initialized (tariff_totals_init) and is
 * overwritten; on failure *err says why (a currency mismatch, the local
 * time callback failing, too many pieces, out of memory).
 */
extern bool tariff_cost(const Tariff *tariff, const TariffCdr *cdr,
						TariffUtcOffsetFn utc_offset, void *ctx,
						TariffTotals *totals, TariffError *err);

/*
 * Append the totals as the OCPI CDR members (total_cost, total_fixed_cost,
 * total_energy, total_energy_cost, total_time, total_time_cost,
 * total_parking_time, total_parking_cost, total_reservation_cost) in one
 * JSON object; incl_vat is left out where it is unknown.  Money is rounded
 * half-even to scale places, or written at full precision (trailing zeros
 * dropped) when scale is negative; quantities are always full precision.
 */
extern bool tariff_totals_to_json(const TariffTotals *totals, int scale, DegBuf *out);

#endif							/* DEG_CORE_TARIFF_H */
