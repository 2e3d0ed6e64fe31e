/*
 * offer.h: energy offers and intents, the match rule, and the index key.
 *
 * An offer is an open role in a contract with the conditions under which it
 * can be taken; an intent is what an actor is looking for.  This file holds
 * their numeric and enumerated fields (the glue keeps strings and JSON), the
 * rule "this offer can serve this intent" field by field, the value that
 * orders candidates (cheapest first, then nearest), and the summary key the
 * GiST index keeps for a set of offers.
 */
#ifndef DEG_CORE_OFFER_H
#define DEG_CORE_OFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "geo.h"

/* contract roles (SPEC.md section 2) */
typedef enum DegRole
{
	DEG_ROLE_BUYER,
	DEG_ROLE_SELLER,
	DEG_ROLE_PROSUMER,
	DEG_ROLE_MARKET_CLEARING_AGENT,
	DEG_ROLE_AGGREGATOR,
	DEG_ROLE_GRID_OPERATOR
} DegRole;
#define DEG_ROLE_COUNT 6

/* energy sources an offer may state */
typedef enum DegSource
{
	DEG_SOURCE_SOLAR,
	DEG_SOURCE_WIND,
	DEG_SOURCE_HYDRO,
	DEG_SOURCE_BIOMASS,
	DEG_SOURCE_GEOTHERMAL,
	DEG_SOURCE_BATTERY,
	DEG_SOURCE_GRID,
	DEG_SOURCE_NUCLEAR,
	DEG_SOURCE_COAL,
	DEG_SOURCE_GAS,
	DEG_SOURCE_HYBRID,
	DEG_SOURCE_OTHER
} DegSource;
#define DEG_SOURCE_COUNT 12
#define DEG_SOURCE_NONE (-1)
/* an intent may accept RENEWABLE, meaning these */
#define DEG_SOURCES_RENEWABLE ((1u << DEG_SOURCE_SOLAR) | (1u << DEG_SOURCE_WIND) | \
	(1u << DEG_SOURCE_HYDRO) | (1u << DEG_SOURCE_BIOMASS) | (1u << DEG_SOURCE_GEOTHERMAL))

/* timestamps are PostgreSQL's: microseconds since 2000-01-01 00:00 UTC */
#define DEG_TS_NOBEGIN INT64_MIN
#define DEG_TS_NOEND INT64_MAX

extern int	deg_role_from_name(const char *name, size_t len);	/* -1 if unknown */
extern const char *deg_role_name(int role);
extern int	deg_source_from_name(const char *name, size_t len); /* -1 if unknown */
extern const char *deg_source_name(int source);
/* an accepted-source name as a mask (RENEWABLE expands); 0 if unknown */
extern uint32_t deg_source_mask_from_name(const char *name, size_t len);

/* ISO 4217 style code: three letters, upper-cased; 0 when invalid */
extern uint32_t deg_currency_pack(const char *code, size_t len);
extern void deg_currency_unpack(uint32_t packed, char out[4]);

/* a 64-bit Bloom signature of a string (two bits) */
extern uint64_t deg_signature(const char *s, size_t len);

/* "2024-10-04 10:00:00Z" for a PostgreSQL timestamp, "-infinity"/"infinity" */
extern void deg_format_timestamp(int64_t ts, char out[40]);

typedef struct DegStrings
{
	const char *const *items;
	const size_t *lens;
	int			count;
} DegStrings;

typedef struct DegOffer
{
	int			role;
	int			source;			/* DEG_SOURCE_NONE when not stated */
	uint32_t	currency;		/* packed; 0 when none */
	bool		has_price;
	double		price;			/* per kWh, indicative when derived */
	bool		has_min_kwh;
	bool		has_max_kwh;
	double		min_kwh;
	double		max_kwh;
	bool		has_min_kw;
	bool		has_max_kw;
	double		min_kw;
	double		max_kw;
	bool		has_location;
	double		lat;
	double		lon;
	int64_t		window_start;	/* DEG_TS_NOBEGIN when open */
	int64_t		window_end;		/* DEG_TS_NOEND when open */
	DegStrings	credential_types;
	uint64_t	credential_sig;
	uint64_t	attribute_sig;
} DegOffer;

typedef struct DegIntent
{
	int			role;
	bool		has_quantity;
	double		quantity_kwh;
	int64_t		window_start;	/* DEG_TS_NOBEGIN: no constraint on the start */
	int64_t		window_end;		/* DEG_TS_NOEND: no constraint on the end */
	uint32_t	currency;		/* 0: any currency */
	bool		has_max_price;
	double		max_price;
	uint32_t	source_mask;	/* 0: any source */
	bool		has_point;
	double		lat;
	double		lon;
	double		radius_m;		/* with has_point */
	bool		has_min_kw;
	double		min_kw;
	DegStrings	credential_types;	/* required */
	uint64_t	credential_sig;
	bool		has_attributes;
	uint64_t	attribute_sig;
} DegIntent;

/* the fields of the match rule, in the order match_explain reports them */
typedef enum DegMatchField
{
	DEG_MATCH_ROLE,
	DEG_MATCH_QUANTITY,
	DEG_MATCH_WINDOW,
	DEG_MATCH_CURRENCY,
	DEG_MATCH_PRICE,
	DEG_MATCH_SOURCE,
	DEG_MATCH_DISTANCE,
	DEG_MATCH_POWER,
	DEG_MATCH_CREDENTIALS,
	DEG_MATCH_ATTRIBUTES
} DegMatchField;
#define DEG_MATCH_FIELDS 10

typedef struct DegMatchResult
{
	bool		ok;
	char		detail[200];
} DegMatchResult;

extern const char *deg_match_field_name(int field);

/*
 * Does the offer serve the intent?  attributes_ok is the outcome of the
 * attribute containment test, which the caller evaluates on JSON.  With
 * results non-NULL, every field is evaluated and explained; otherwise the
 * evaluation stops at the first failing field.
 */
extern bool deg_match(const DegIntent *intent, const DegOffer *offer,
					  bool attributes_ok, DegMatchResult *results);

/* haversine metres from the intent's point to the offer, 0 when either has none */
extern double deg_match_distance_m(const DegIntent *intent, const DegOffer *offer);

/*
 * The ordering value of intent <-> offer: the price in millionths of the
 * currency unit, then the distance in tens of metres, packed so that one
 * float8 orders both (exact up to 4294 currency units per kWh).  An offer
 * without a price sorts last.
 */
extern double deg_order_value(bool has_price, double price, double distance_m);

/* ---------- the GiST key: a summary of a set of offers ---------- */

#define OFFERKEY_NO_SOURCE_BIT (1u << DEG_SOURCE_COUNT)
#define OFFERKEY_MIXED_CURRENCY 0xFFFFFFFFu

#define OFFERKEY_ANY_LOCATION 0x1	/* some offer has a location (box is valid) */
#define OFFERKEY_ANY_UNLOCATED 0x2	/* some offer has none */
#define OFFERKEY_LEAF 0x4		/* summarises exactly one offer */

typedef struct OfferKey
{
	uint32_t	roles;			/* bit per role */
	uint32_t	sources;		/* bit per source, OFFERKEY_NO_SOURCE_BIT */
	uint32_t	currency;		/* the one currency, 0 none, or MIXED */
	uint32_t	flags;
	uint64_t	currency_sig;
	uint64_t	credential_sig;
	uint64_t	attribute_sig;
	double		price_lo;		/* lowest price; +inf when no offer has one */
	double		price_hi;
	double		min_kwh_lo;		/* lowest minimum quantity (0 when absent) */
	double		max_kwh_hi;		/* highest maximum quantity (+inf when absent) */
	double		max_kw_hi;		/* highest maximum power (-inf when absent) */
	int64_t		start_lo;		/* earliest window start */
	int64_t		end_hi;			/* latest window end */
	GeoBox		box;			/* of the offers with a location */
} OfferKey;

extern void offerkey_from_offer(OfferKey *key, const DegOffer *offer);
extern void offerkey_union(OfferKey *into, const OfferKey *other);
extern double offerkey_penalty(const OfferKey *orig, const OfferKey *add);

/*
 * Can some offer under key serve the intent?  For a leaf key the numeric
 * conditions are exact; *recheck is set when the credential or attribute
 * signatures alone cannot decide.
 */
extern bool offerkey_consistent(const OfferKey *key, const DegIntent *intent, bool *recheck);

/* a lower bound of deg_order_value for every offer under key */
extern double offerkey_order_lower_bound(const OfferKey *key, const DegIntent *intent);

/*
 * Split n keys into two groups for a page split: side[i] is 0 or 1.  Offers
 * are ordered along the longer geographic extent (by price when they are all
 * at one place, offers without a location last) and cut in the middle.
 */
extern void offerkey_picksplit(const OfferKey *keys, int n, unsigned char *side);

#endif							/* DEG_CORE_OFFER_H */
