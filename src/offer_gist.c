/*
 * offer_gist.c: the GiST operator class of deg.energy_offer.
 *
 * The index keeps, for each offer and each subtree, an OfferKey (see
 * src/core/offer.h): role and source bits, the currency, price range,
 * quantity and power bounds, window bounds, a geographic box and Bloom
 * signatures of credential types and attributes.  consistent() answers
 * "intent @@ offer" from it, exactly at the leaves except for the
 * signatures; distance() gives the ordering value of "offer <-> intent"
 * (exactly at the leaves, a lower bound above them), so that "the ten
 * cheapest offers that match" is a best-first index scan.
 */
#include "postgres.h"

#include <math.h>

#include "access/gist.h"
#include "access/stratnum.h"
#include "utils/builtins.h"

#include "offer.h"

#define OFFER_MATCH_STRATEGY 1
#define OFFER_ORDER_STRATEGY 15

typedef struct OfferGistKey
{
	int32		vl_len_;
	int32		padding;
	OfferKey	key;
} OfferGistKey;

#define DatumGetOfferGistKey(X) ((OfferGistKey *) PG_DETOAST_DATUM(X))

static OfferGistKey *
new_gist_key(const OfferKey *key)
{
	OfferGistKey *k = palloc0(sizeof(OfferGistKey));

	SET_VARSIZE(k, sizeof(OfferGistKey));
	k->key = *key;
	return k;
}

PG_FUNCTION_INFO_V1(energy_offer_gist_key_in);
Datum
energy_offer_gist_key_in(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("deg.energy_offer_gist_key is an index key and has no input")));
	PG_RETURN_NULL();
}

/* a readable summary, for pageinspect and debugging */
PG_FUNCTION_INFO_V1(energy_offer_gist_key_out);
Datum
energy_offer_gist_key_out(PG_FUNCTION_ARGS)
{
	OfferKey   *k = &DatumGetOfferGistKey(PG_GETARG_DATUM(0))->key;
	StringInfoData out;

	initStringInfo(&out);
	appendStringInfo(&out, "roles=%x sources=%x price=[%g,%g] kwh=[%g,%g] kw<=%g",
					 k->roles, k->sources, k->price_lo, k->price_hi, k->min_kwh_lo,
					 k->max_kwh_hi, k->max_kw_hi);
	if (k->flags & OFFERKEY_ANY_LOCATION)
		appendStringInfo(&out, " box=[%g,%g]x[%g,%g]", k->box.lat_lo, k->box.lat_hi,
						 k->box.lon_lo, k->box.lon_hi);
	PG_RETURN_CSTRING(out.data);
}

PG_FUNCTION_INFO_V1(energy_offer_gist_compress);
Datum
energy_offer_gist_compress(PG_FUNCTION_ARGS)
{
	GISTENTRY  *entry = (GISTENTRY *) PG_GETARG_POINTER(0);
	GISTENTRY  *out;
	DegOffer	offer;
	CredentialRefs refs;
	OfferKey	key;

	if (!entry->leafkey)
		PG_RETURN_POINTER(entry);
	offer_to_core(DatumGetOfferP(entry->key), &offer, &refs);
	offerkey_from_offer(&key, &offer);
	out = palloc(sizeof(GISTENTRY));
	gistentryinit(*out, PointerGetDatum(new_gist_key(&key)), entry->rel, entry->page,
				  entry->offset, false);
	PG_RETURN_POINTER(out);
}

PG_FUNCTION_INFO_V1(energy_offer_gist_consistent);
Datum
energy_offer_gist_consistent(PG_FUNCTION_ARGS)
{
	GISTENTRY  *entry = (GISTENTRY *) PG_GETARG_POINTER(0);
	StrategyNumber strategy = (StrategyNumber) PG_GETARG_UINT16(2);
	bool	   *recheck = (bool *) PG_GETARG_POINTER(4);
	IntentCache *ic;

	if (strategy != OFFER_MATCH_STRATEGY)
		elog(ERROR, "unrecognized strategy number %d for deg.energy_offer_ops", strategy);
	ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(1));
	PG_RETURN_BOOL(offerkey_consistent(&DatumGetOfferGistKey(entry->key)->key, &ic->core, recheck));
}

PG_FUNCTION_INFO_V1(energy_offer_gist_distance);
Datum
energy_offer_gist_distance(PG_FUNCTION_ARGS)
{
	GISTENTRY  *entry = (GISTENTRY *) PG_GETARG_POINTER(0);
	StrategyNumber strategy = (StrategyNumber) PG_GETARG_UINT16(2);
	bool	   *recheck = (bool *) PG_GETARG_POINTER(4);
	IntentCache *ic;

	if (strategy != OFFER_ORDER_STRATEGY)
		elog(ERROR, "unrecognized strategy number %d for deg.energy_offer_ops", strategy);
	ic = intent_cache_get(fcinfo, PG_GETARG_DATUM(1));
	/* exact at a leaf: the key holds the offer's own price and position */
	*recheck = false;
	PG_RETURN_FLOAT8(offerkey_order_lower_bound(&DatumGetOfferGistKey(entry->key)->key, &ic->core));
}

PG_FUNCTION_INFO_V1(energy_offer_gist_union);
Datum
energy_offer_gist_union(PG_FUNCTION_ARGS)
{
	GistEntryVector *entryvec = (GistEntryVector *) PG_GETARG_POINTER(0);
	int		   *size = (int *) PG_GETARG_POINTER(1);
	OfferKey	key = DatumGetOfferGistKey(entryvec->vector[0].key)->key;
	int			i;

	for (i = 1; i < entryvec->n; i++)
		offerkey_union(&key, &DatumGetOfferGistKey(entryvec->vector[i].key)->key);
	key.flags &= ~OFFERKEY_LEAF;
	*size = sizeof(OfferGistKey);
	PG_RETURN_POINTER(new_gist_key(&key));
}

PG_FUNCTION_INFO_V1(energy_offer_gist_penalty);
Datum
energy_offer_gist_penalty(PG_FUNCTION_ARGS)
{
	GISTENTRY  *orig = (GISTENTRY *) PG_GETARG_POINTER(0);
	GISTENTRY  *add = (GISTENTRY *) PG_GETARG_POINTER(1);
	float	   *penalty = (float *) PG_GETARG_POINTER(2);

	*penalty = (float) offerkey_penalty(&DatumGetOfferGistKey(orig->key)->key,
										&DatumGetOfferGistKey(add->key)->key);
	PG_RETURN_POINTER(penalty);
}

PG_FUNCTION_INFO_V1(energy_offer_gist_picksplit);
Datum
energy_offer_gist_picksplit(PG_FUNCTION_ARGS)
{
	GistEntryVector *entryvec = (GistEntryVector *) PG_GETARG_POINTER(0);
	GIST_SPLITVEC *v = (GIST_SPLITVEC *) PG_GETARG_POINTER(1);
	OffsetNumber maxoff = entryvec->n - 1;
	int			n = maxoff - FirstOffsetNumber + 1;
	OfferKey   *keys = palloc(sizeof(OfferKey) * n);
	unsigned char *side = palloc(n);
	OfferKey	left,
				right;
	bool		have_left = false,
				have_right = false;
	OffsetNumber i;

	for (i = FirstOffsetNumber; i <= maxoff; i = OffsetNumberNext(i))
		keys[i - FirstOffsetNumber] = DatumGetOfferGistKey(entryvec->vector[i].key)->key;
	offerkey_picksplit(keys, n, side);

	v->spl_left = palloc(sizeof(OffsetNumber) * n);
	v->spl_right = palloc(sizeof(OffsetNumber) * n);
	v->spl_nleft = v->spl_nright = 0;
	for (i = FirstOffsetNumber; i <= maxoff; i = OffsetNumberNext(i))
	{
		const OfferKey *k = &keys[i - FirstOffsetNumber];

		if (side[i - FirstOffsetNumber] == 0)
		{
			v->spl_left[v->spl_nleft++] = i;
			if (have_left)
				offerkey_union(&left, k);
			else
				left = *k, have_left = true;
		}
		else
		{
			v->spl_right[v->spl_nright++] = i;
			if (have_right)
				offerkey_union(&right, k);
			else
				right = *k, have_right = true;
		}
	}
	left.flags &= ~OFFERKEY_LEAF;
	right.flags &= ~OFFERKEY_LEAF;
	v->spl_ldatum = PointerGetDatum(new_gist_key(&left));
	v->spl_rdatum = PointerGetDatum(new_gist_key(&right));
	PG_RETURN_POINTER(v);
}

PG_FUNCTION_INFO_V1(energy_offer_gist_same);
Datum
energy_offer_gist_same(PG_FUNCTION_ARGS)
{
	OfferGistKey *a = DatumGetOfferGistKey(PG_GETARG_DATUM(0));
	OfferGistKey *b = DatumGetOfferGistKey(PG_GETARG_DATUM(1));
	bool	   *result = (bool *) PG_GETARG_POINTER(2);

	*result = memcmp(&a->key, &b->key, sizeof(OfferKey)) == 0;
	PG_RETURN_POINTER(result);
}
