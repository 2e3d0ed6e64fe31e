/*
 * offer.h: the deg.energy_offer and deg.energy_intent datums.
 *
 * Both are varlenas with fixed numeric fields first (what matching and the
 * index read) and variable parts after: identifiers, the provider's ERA key,
 * credential type names (NUL-terminated, one after another), and jsonb
 * values for attributes and for the fields deg keeps without interpreting
 * ("extra": providerUri, contract, ...).  Offsets are from the start of the
 * datum and MAXALIGNed where a jsonb starts.
 */
#ifndef DEG_OFFER_H
#define DEG_OFFER_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#include "core/offer.h"

#define OFFER_FORMAT_VERSION 1
#define INTENT_FORMAT_VERSION 1

/* at most this many credential types on an offer or an intent */
#define DEG_MAX_CREDENTIAL_TYPES 64

/* OfferDatum.flags / IntentDatum.flags */
#define OD_HAS_PRICE 0x0001
#define OD_HAS_MIN_KWH 0x0002
#define OD_HAS_MAX_KWH 0x0004
#define OD_HAS_MIN_KW 0x0008
#define OD_HAS_MAX_KW 0x0010
#define OD_HAS_LOCATION 0x0020
#define OD_HAS_ATTRIBUTES 0x0040
#define OD_HAS_EXTRA 0x0080
#define OD_HAS_CONTRACT_ID 0x0100

#define ID_HAS_QUANTITY 0x0001
#define ID_HAS_MAX_PRICE 0x0002
#define ID_HAS_POINT 0x0004
#define ID_HAS_MIN_KW 0x0008
#define ID_HAS_ATTRIBUTES 0x0010
#define ID_HAS_EXTRA 0x0020

/* where an offer's price per kWh comes from */
#define PRICE_SOURCE_GIVEN 0
#define PRICE_SOURCE_TARIFF 1
#define PRICE_SOURCE_OFFER_CURVE 2

typedef struct OfferDatum
{
	int32		vl_len_;
	uint8		version;
	uint8		role;
	int8		source;			/* DEG_SOURCE_NONE when not stated */
	uint8		price_source;
	uint32		flags;
	uint32		currency;		/* packed ISO 4217 code, 0 when none */
	uint32		n_credentials;
	float8		price;
	float8		min_kwh;
	float8		max_kwh;
	float8		min_kw;
	float8		max_kw;
	float8		lat;
	float8		lon;
	int64		window_start;
	int64		window_end;
	uint64		credential_sig;
	uint64		attribute_sig;
	uint32		offer_id_off;
	uint32		offer_id_len;
	uint32		contract_id_off;
	uint32		contract_id_len;
	uint32		provider_off;	/* the provider ERA's key (see era.h) */
	uint32		provider_len;
	uint32		credentials_off;
	uint32		attributes_off; /* a Jsonb */
	uint32		extra_off;		/* a Jsonb object */
	uint32		reserved;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} OfferDatum;

typedef struct IntentDatum
{
	int32		vl_len_;
	uint8		version;
	uint8		role;
	uint16		reserved1;
	uint32		flags;
	uint32		currency;
	uint32		source_mask;
	uint32		n_credentials;
	float8		quantity_kwh;
	float8		max_price;
	float8		lat;
	float8		lon;
	float8		radius_m;
	float8		min_kw;
	int64		window_start;
	int64		window_end;
	uint64		credential_sig;
	uint64		attribute_sig;
	uint32		credentials_off;
	uint32		attributes_off;
	uint32		extra_off;
	uint32		reserved2;
	char		data[FLEXIBLE_ARRAY_MEMBER];
} IntentDatum;

#define DatumGetOfferP(X) ((OfferDatum *) PG_DETOAST_DATUM(X))
#define DatumGetIntentP(X) ((IntentDatum *) PG_DETOAST_DATUM(X))

/* storage for the credential type pointers of a decoded offer or intent */
typedef struct CredentialRefs
{
	const char *items[DEG_MAX_CREDENTIAL_TYPES];
	size_t		lens[DEG_MAX_CREDENTIAL_TYPES];
} CredentialRefs;

/* core views of the datums; they point into the datum and into refs */
extern void offer_to_core(const OfferDatum *d, DegOffer *out, CredentialRefs *refs);
extern void intent_to_core(const IntentDatum *d, DegIntent *out, CredentialRefs *refs);

/* the offer's attributes contain the intent's required ones */
extern bool offer_attributes_contain(const OfferDatum *offer, const IntentDatum *intent);

/*
 * A decoded intent kept across calls (fn_extra): the GiST and the operators
 * see the same intent for every row of a scan.
 */
typedef struct IntentCache
{
	IntentDatum *datum;			/* a copy in fn_mcxt */
	DegIntent	core;
	CredentialRefs refs;
} IntentCache;

extern IntentCache *intent_cache_get(FunctionCallInfo fcinfo, Datum intent);

#endif							/* DEG_OFFER_H */
