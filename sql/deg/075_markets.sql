-- Markets: DEG offer curves and pay-as-clear market clearing (src/market.c,
-- src/core/curve.c, src/core/clearing.c; DESIGN.md section 7).

CREATE TYPE deg.offer_curve;
CREATE FUNCTION deg.offer_curve_in(cstring) RETURNS deg.offer_curve
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_out(deg.offer_curve) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_recv(internal) RETURNS deg.offer_curve
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_send(deg.offer_curve) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.offer_curve (
    INPUT = deg.offer_curve_in, OUTPUT = deg.offer_curve_out,
    RECEIVE = deg.offer_curve_recv, SEND = deg.offer_curve_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON FUNCTION deg.offer_curve_in(cstring) IS 'text input: DEG OfferCurve JSON {currency, minExport, maxExport, curve: [{price, powerKW}]} (22P02 when not JSON, 22023 naming the curve point and field when not a valid curve)';
COMMENT ON FUNCTION deg.offer_curve_out(deg.offer_curve) IS 'text output: canonical OfferCurve JSON (numbers without trailing zeros)';
COMMENT ON FUNCTION deg.offer_curve_recv(internal) IS 'binary input: the stored form (version byte 1, currency, point count, minExport, maxExport, then price and power per point, little-endian 64-bit fixed point with 9 decimals), checked as text input is';
COMMENT ON FUNCTION deg.offer_curve_send(deg.offer_curve) IS 'binary output: the stored form (see offer_curve_recv)';
COMMENT ON TYPE deg.offer_curve IS 'a DEG OfferCurve: the power a participant trades at each price (positive exports/sells, negative imports/buys), linear between points, flat outside them, clipped to [minExport, maxExport]; exact fixed point with 9 decimals';

CREATE FUNCTION deg.offer_curve(jsonb) RETURNS deg.offer_curve
    AS 'MODULE_PATHNAME', 'offer_curve_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_jsonb(deg.offer_curve) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'offer_curve_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (jsonb AS deg.offer_curve) WITH FUNCTION deg.offer_curve(jsonb);
CREATE CAST (deg.offer_curve AS jsonb) WITH FUNCTION deg.offer_curve_jsonb(deg.offer_curve);
COMMENT ON FUNCTION deg.offer_curve(jsonb) IS 'an offer curve from its OfferCurve JSON; also the cast jsonb::deg.offer_curve';
COMMENT ON FUNCTION deg.offer_curve_jsonb(deg.offer_curve) IS 'the offer curve as OfferCurve JSON; also the cast deg.offer_curve::jsonb';

-- comparison: currency, minExport, maxExport, then the points in order
CREATE FUNCTION deg.offer_curve_cmp(deg.offer_curve, deg.offer_curve) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_eq(deg.offer_curve, deg.offer_curve) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_ne(deg.offer_curve, deg.offer_curve) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_lt(deg.offer_curve, deg.offer_curve) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_le(deg.offer_curve, deg.offer_curve) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_gt(deg.offer_curve, deg.offer_curve) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_ge(deg.offer_curve, deg.offer_curve) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_hash(deg.offer_curve) RETURNS integer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_curve_hash_extended(deg.offer_curve, bigint) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.offer_curve_cmp(deg.offer_curve, deg.offer_curve) IS 'btree support: -1, 0 or 1 ordering by currency, minExport, maxExport, then the points (price, then power) in order';
COMMENT ON FUNCTION deg.offer_curve_eq(deg.offer_curve, deg.offer_curve) IS 'implementation of = : the same currency, bounds and points';
COMMENT ON FUNCTION deg.offer_curve_ne(deg.offer_curve, deg.offer_curve) IS 'implementation of <>';
COMMENT ON FUNCTION deg.offer_curve_lt(deg.offer_curve, deg.offer_curve) IS 'implementation of <';
COMMENT ON FUNCTION deg.offer_curve_le(deg.offer_curve, deg.offer_curve) IS 'implementation of <=';
COMMENT ON FUNCTION deg.offer_curve_gt(deg.offer_curve, deg.offer_curve) IS 'implementation of >';
COMMENT ON FUNCTION deg.offer_curve_ge(deg.offer_curve, deg.offer_curve) IS 'implementation of >=';
COMMENT ON FUNCTION deg.offer_curve_hash(deg.offer_curve) IS 'hash support: a hash of the stored form (equal curves are stored alike)';
COMMENT ON FUNCTION deg.offer_curve_hash_extended(deg.offer_curve, bigint) IS 'hash support: a seeded 64-bit hash of the stored form';

CREATE OPERATOR deg.= (
    LEFTARG = deg.offer_curve, RIGHTARG = deg.offer_curve, FUNCTION = deg.offer_curve_eq,
    COMMUTATOR = OPERATOR(deg.=), NEGATOR = OPERATOR(deg.<>),
    RESTRICT = eqsel, JOIN = eqjoinsel, HASHES, MERGES
);
CREATE OPERATOR deg.<> (
    LEFTARG = deg.offer_curve, RIGHTARG = deg.offer_curve, FUNCTION = deg.offer_curve_ne,
    COMMUTATOR = OPERATOR(deg.<>), NEGATOR = OPERATOR(deg.=),
    RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR deg.< (
    LEFTARG = deg.offer_curve, RIGHTARG = deg.offer_curve, FUNCTION = deg.offer_curve_lt,
    COMMUTATOR = OPERATOR(deg.>), NEGATOR = OPERATOR(deg.>=),
    RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR deg.<= (
    LEFTARG = deg.offer_curve, RIGHTARG = deg.offer_curve, FUNCTION = deg.offer_curve_le,
    COMMUTATOR = OPERATOR(deg.>=), NEGATOR = OPERATOR(deg.>),
    RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR deg.> (
    LEFTARG = deg.offer_curve, RIGHTARG = deg.offer_curve, FUNCTION = deg.offer_curve_gt,
    COMMUTATOR = OPERATOR(deg.<), NEGATOR = OPERATOR(deg.<=),
    RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR deg.>= (
    LEFTARG = deg.offer_curve, RIGHTARG = deg.offer_curve, FUNCTION = deg.offer_curve_ge,
    COMMUTATOR = OPERATOR(deg.<=), NEGATOR = OPERATOR(deg.<),
    RESTRICT = scalargesel, JOIN = scalargejoinsel
);
COMMENT ON OPERATOR deg.= (deg.offer_curve, deg.offer_curve) IS 'the same offer curve: currency, bounds and points';
COMMENT ON OPERATOR deg.<> (deg.offer_curve, deg.offer_curve) IS 'not the same offer curve';
COMMENT ON OPERATOR deg.< (deg.offer_curve, deg.offer_curve) IS 'sorts before (currency, minExport, maxExport, points)';
COMMENT ON OPERATOR deg.<= (deg.offer_curve, deg.offer_curve) IS 'sorts before or is equal';
COMMENT ON OPERATOR deg.> (deg.offer_curve, deg.offer_curve) IS 'sorts after (currency, minExport, maxExport, points)';
COMMENT ON OPERATOR deg.>= (deg.offer_curve, deg.offer_curve) IS 'sorts after or is equal';

CREATE OPERATOR CLASS deg.offer_curve_ops
    DEFAULT FOR TYPE deg.offer_curve USING btree AS
        OPERATOR 1 deg.<,
        OPERATOR 2 deg.<=,
        OPERATOR 3 deg.=,
        OPERATOR 4 deg.>=,
        OPERATOR 5 deg.>,
        FUNCTION 1 deg.offer_curve_cmp(deg.offer_curve, deg.offer_curve);
CREATE OPERATOR CLASS deg.offer_curve_hash_ops
    DEFAULT FOR TYPE deg.offer_curve USING hash AS
        OPERATOR 1 deg.=,
        FUNCTION 1 deg.offer_curve_hash(deg.offer_curve),
        FUNCTION 2 deg.offer_curve_hash_extended(deg.offer_curve, bigint);
COMMENT ON OPERATOR CLASS deg.offer_curve_ops USING btree IS 'orders offer curves by currency, minExport, maxExport, then points: for ORDER BY, DISTINCT, unique indexes';
COMMENT ON OPERATOR CLASS deg.offer_curve_hash_ops USING hash IS 'hashes offer curves: for hash joins, GROUP BY and hash indexes';

-- what a curve says
CREATE FUNCTION deg.curve_power(curve deg.offer_curve, price numeric) RETURNS numeric
    AS 'MODULE_PATHNAME', 'offer_curve_power' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.curve_currency(curve deg.offer_curve) RETURNS text
    AS 'MODULE_PATHNAME', 'offer_curve_currency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.curve_power(deg.offer_curve, numeric) IS 'the power (kW; positive exports, negative imports) the curve trades at a price: linear between points, the end value outside them, clipped to [minExport, maxExport], rounded once half to even to 9 decimals';
COMMENT ON FUNCTION deg.curve_currency(deg.offer_curve) IS 'the ISO 4217 currency of the curve''s prices';

-- clearing (DESIGN.md section 7)
CREATE FUNCTION deg.clear_market(curves deg.offer_curve[], participants deg.era[])
    RETURNS TABLE (participant deg.era, cleared_kw numeric, clearing_price numeric)
    AS 'MODULE_PATHNAME', 'deg_clear_market' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE
    ROWS 1000;
COMMENT ON FUNCTION deg.clear_market(deg.offer_curve[], deg.era[]) IS 'pay-as-clear: one row per participant, in input order, with its cleared power (kW, 9 decimals; positive sells, negative buys; the rows sum to exactly 0) and the one clearing price (12 decimals); curves[i] is the offer curve of participants[i], all in one currency; deterministic whatever the order of the input';

CREATE FUNCTION deg.clear_market_result(curves deg.offer_curve[], participants deg.era[]) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'deg_clear_market_result' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.clear_market_result(deg.offer_curve[], deg.era[]) IS 'pay-as-clear as a DEG AggregationResult: currency, clearingPrice, clearingQuantityKW, setpoints [{era, setpointKW}] ordered by participant, aggregatedSupplyCurve, aggregatedDemandCurve, and an explanation (rule crossing | midpoint | lower_bound | upper_bound, reason, priceRange, zeroRange, breakpoints around the price, supplyKW and demandKW at the price, rationedSide, excessKW, marginal participants); the same jsonb for the same participants in any order';

CREATE FUNCTION deg.clear_market_agg_transfn(internal, deg.offer_curve, deg.era) RETURNS internal
    AS 'MODULE_PATHNAME', 'clear_market_agg_transfn' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION deg.clear_market_agg_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'clear_market_agg_combine' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION deg.clear_market_agg_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'clear_market_agg_serialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.clear_market_agg_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'clear_market_agg_deserialize' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.clear_market_agg_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'clear_market_agg_final' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION deg.clear_market_agg_transfn(internal, deg.offer_curve, deg.era) IS 'deg.clear_market_agg: keeps each (participant, curve) pair; a NULL curve or participant is an error (22004)';
COMMENT ON FUNCTION deg.clear_market_agg_combine(internal, internal) IS 'deg.clear_market_agg: merges the pairs of two partial states (parallel workers)';
COMMENT ON FUNCTION deg.clear_market_agg_serialize(internal) IS 'deg.clear_market_agg: a partial state as bytes, for parallel workers';
COMMENT ON FUNCTION deg.clear_market_agg_deserialize(bytea, internal) IS 'deg.clear_market_agg: a partial state from bytes';
COMMENT ON FUNCTION deg.clear_market_agg_final(internal) IS 'deg.clear_market_agg: clears the pairs, as deg.clear_market_result does';

CREATE AGGREGATE deg.clear_market_agg(curve deg.offer_curve, participant deg.era) (
    SFUNC = deg.clear_market_agg_transfn,
    STYPE = internal,
    COMBINEFUNC = deg.clear_market_agg_combine,
    SERIALFUNC = deg.clear_market_agg_serialize,
    DESERIALFUNC = deg.clear_market_agg_deserialize,
    FINALFUNC = deg.clear_market_agg_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE deg.clear_market_agg(deg.offer_curve, deg.era) IS 'pay-as-clear over rows: the AggregationResult jsonb of deg.clear_market_result for the (curve, participant) rows of a group, the same whatever the order of the rows or the parallel plan; NULL for no rows';
