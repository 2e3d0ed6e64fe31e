/*
 * offer_stats.c: planner statistics for deg.energy_offer.
 *
 * An offer has no order and no useful equality, so ANALYZE would keep no
 * statistics and the planner would guess the selectivity of "intent @@
 * offer" (a constant 0.1%); with such a guess it prefers a bitmap scan and a
 * sort to the KNN index scan that "the ten cheapest offers" wants.  So
 * ANALYZE keeps an evenly spaced sample of the offers' index keys (the
 * numeric summary the GiST index uses), and the estimator counts the share
 * of the sample an intent matches.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/vacuum.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"

#include "offer.h"

/* kind codes 1-99 are PostgreSQL's, 100-299 PostGIS's and ESRI's; this one is deg's */
#define DEG_STATISTIC_KIND_OFFER_KEYS 5301

/* the default when there are no statistics: matching is selective */
#define DEFAULT_MATCH_SELECTIVITY 0.001

static void
compute_offer_stats(VacAttrStatsP stats, AnalyzeAttrFetchFunc fetchfunc,
					int samplerows, double totalrows pg_attribute_unused())
{
	int			target = stats->attr->attstattarget > 0 ? stats->attr->attstattarget : 100;
	int			keep = Min(samplerows, target * 20);
	Datum	   *values = MemoryContextAlloc(stats->anl_context, sizeof(Datum) * Max(keep, 1));
	int			nkept = 0;
	int			nulls = 0;
	double		width = 0;
	int			i;

	for (i = 0; i < samplerows; i++)
	{
		bool		isnull;
		Datum		value = fetchfunc(stats, i, &isnull);

		vacuum_delay_point();
		if (isnull)
		{
			nulls++;
			continue;
		}
		width += VARSIZE_ANY(DatumGetPointer(value));
		/* every (samplerows / keep)-th row, so the kept keys spread over the sample */
		if (nkept < keep && (int64) i * keep / samplerows != (int64) (i + 1) * keep / samplerows)
		{
			OfferDatum *od = DatumGetOfferP(value);
			DegOffer	offer;
			CredentialRefs refs;
			OfferKey	key;
			bytea	   *b;

			offer_to_core(od, &offer, &refs);
			offerkey_from_offer(&key, &offer);
			b = MemoryContextAlloc(stats->anl_context, VARHDRSZ + sizeof(OfferKey));
			SET_VARSIZE(b, VARHDRSZ + sizeof(OfferKey));
			memcpy(VARDATA(b), &key, sizeof(OfferKey));
			values[nkept++] = PointerGetDatum(b);
			if ((Pointer) od != DatumGetPointer(value))
				pfree(od);
		}
	}

	stats->stats_valid = true;
	stats->stanullfrac = samplerows > 0 ? (float4) nulls / samplerows : 0;
	stats->stawidth = samplerows > nulls ? (int32) (width / (samplerows - nulls)) : 0;
	stats->stadistinct = -1.0;	/* offers carry unique ids */
	if (nkept > 0)
	{
		stats->stakind[0] = DEG_STATISTIC_KIND_OFFER_KEYS;
		stats->staop[0] = InvalidOid;
		stats->stacoll[0] = InvalidOid;
		stats->stavalues[0] = values;
		stats->numvalues[0] = nkept;
		stats->statypid[0] = BYTEAOID;
		stats->statyplen[0] = -1;
		stats->statypbyval[0] = false;
		stats->statypalign[0] = TYPALIGN_INT;
	}
}

PG_FUNCTION_INFO_V1(energy_offer_typanalyze);
Datum
energy_offer_typanalyze(PG_FUNCTION_ARGS)
{
	VacAttrStats *stats = (VacAttrStats *) PG_GETARG_POINTER(0);

	if (stats->attr->attstattarget < 0)
		stats->attr->attstattarget = default_statistics_target;
	stats->compute_stats = compute_offer_stats;
	stats->minrows = 300 * stats->attr->attstattarget;
	PG_RETURN_BOOL(true);
}

/*
 * Restriction selectivity of "intent @@ offer" and "offer @@ intent": the
 * share of the sampled offers whose key the intent is consistent with (at a
 * leaf that is the match rule itself, but for the Bloom signatures).
 */
PG_FUNCTION_INFO_V1(energy_match_sel);
Datum
energy_match_sel(PG_FUNCTION_ARGS)
{
	PlannerInfo *root = (PlannerInfo *) PG_GETARG_POINTER(0);
	List	   *args = (List *) PG_GETARG_POINTER(2);
	int			varRelid = PG_GETARG_INT32(3);
	VariableStatData vardata;
	Node	   *other;
	bool		varonleft;
	double		selec = DEFAULT_MATCH_SELECTIVITY;
	AttStatsSlot sslot;

	if (!get_restriction_variable(root, args, varRelid, &vardata, &other, &varonleft))
		PG_RETURN_FLOAT8(selec);
	if (IsA(other, Const) && ((Const *) other)->constisnull)
		selec = 0.0;
	else if (IsA(other, Const) && exprType(other) != vardata.atttype &&
			 HeapTupleIsValid(vardata.statsTuple) &&
			 get_attstatsslot(&sslot, vardata.statsTuple, DEG_STATISTIC_KIND_OFFER_KEYS,
							  InvalidOid, ATTSTATSSLOT_VALUES))
	{
		IntentDatum *idatum = DatumGetIntentP(((Const *) other)->constvalue);
		Form_pg_statistic stat = (Form_pg_statistic) GETSTRUCT(vardata.statsTuple);
		DegIntent	intent;
		CredentialRefs refs;
		int			matches = 0;
		int			i;

		intent_to_core(idatum, &intent, &refs);
		for (i = 0; i < sslot.nvalues; i++)
		{
			bytea	   *b = DatumGetByteaPP(sslot.values[i]);
			OfferKey	key;
			bool		recheck;

			if (VARSIZE_ANY_EXHDR(b) != sizeof(OfferKey))
				continue;		/* statistics of another version of deg */
			memcpy(&key, VARDATA_ANY(b), sizeof(OfferKey));
			if (offerkey_consistent(&key, &intent, &recheck))
				matches++;
		}
		/* half a row when none of the sample matches: rare, not impossible */
		selec = (matches > 0 ? matches : 0.5) / (double) Max(sslot.nvalues, 1);
		selec *= 1.0 - stat->stanullfrac;
		free_attstatsslot(&sslot);
	}
	ReleaseVariableStats(vardata);
	CLAMP_PROBABILITY(selec);
	PG_RETURN_FLOAT8(selec);
}
