/*
 * market.h: the deg.offer_curve datum, for glue files that read or store
 * offer curves (a market contract's PROSUMER offerCurve role inputs).
 *
 * On disk an offer curve is a varlena holding the core's binary form
 * (curve_serialize in src/core/curve.h), which starts with its format
 * version.  Every read goes through curve_deserialize, which checks the
 * bytes as thoroughly as the JSON parser checks text.
 */
#ifndef DEG_MARKET_H
#define DEG_MARKET_H

#include "postgres.h"

#include "core/curve.h"
#include "core/json.h"

/* a new offer_curve datum (palloc'd) holding the curve's binary form */
extern struct varlena *deg_curve_to_datum(const Curve *curve);

/*
 * The curve of a stored value, palloc'd in the current memory context; a
 * value that does not read back is an error (XX001).  what, when not NULL,
 * names where the value came from in that error ("curves[3]").
 */
extern Curve *deg_curve_from_datum(const struct varlena *v, const char *what);

/*
 * A curve from a parsed OfferCurve JSON object, or an error (22023) whose
 * message names the curve point and field; what, when not NULL, names where
 * the JSON came from ("role input offerCurve of PROSUMER").
 */
extern Curve *deg_curve_from_node(const JsonNode *node, const char *what);

#endif							/* DEG_MARKET_H */
