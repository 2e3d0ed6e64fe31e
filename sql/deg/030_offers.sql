-- Energy offers and intents, the @@ match, <-> ordering and the GiST index
-- (src/offer.c, src/offer_gist.c, src/core/offer.c).

CREATE TYPE deg.energy_offer;
CREATE FUNCTION deg.energy_offer_in(cstring) RETURNS deg.energy_offer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_out(deg.energy_offer) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_recv(internal) RETURNS deg.energy_offer
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_send(deg.energy_offer) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_typanalyze(internal) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C STRICT;
CREATE TYPE deg.energy_offer (
    INPUT = deg.energy_offer_in, OUTPUT = deg.energy_offer_out,
    RECEIVE = deg.energy_offer_recv, SEND = deg.energy_offer_send,
    ANALYZE = deg.energy_offer_typanalyze,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE deg.energy_offer IS 'an open role in an energy contract and the conditions to take it (DEG EnergyOffer JSON, extended)';

CREATE TYPE deg.energy_intent;
CREATE FUNCTION deg.energy_intent_in(cstring) RETURNS deg.energy_intent
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_intent_out(deg.energy_intent) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_intent_recv(internal) RETURNS deg.energy_intent
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_intent_send(deg.energy_intent) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.energy_intent (
    INPUT = deg.energy_intent_in, OUTPUT = deg.energy_intent_out,
    RECEIVE = deg.energy_intent_recv, SEND = deg.energy_intent_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE deg.energy_intent IS 'what an actor is looking for: role, quantity, window, price, sources, place, power, credentials, attributes';

-- jsonb casts
CREATE FUNCTION deg.energy_offer(jsonb) RETURNS deg.energy_offer
    AS 'MODULE_PATHNAME', 'energy_offer_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_jsonb(deg.energy_offer) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'energy_offer_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_intent(jsonb) RETURNS deg.energy_intent
    AS 'MODULE_PATHNAME', 'energy_intent_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_intent_jsonb(deg.energy_intent) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'energy_intent_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (jsonb AS deg.energy_offer) WITH FUNCTION deg.energy_offer(jsonb);
CREATE CAST (deg.energy_offer AS jsonb) WITH FUNCTION deg.energy_offer_jsonb(deg.energy_offer);
CREATE CAST (jsonb AS deg.energy_intent) WITH FUNCTION deg.energy_intent(jsonb);
CREATE CAST (deg.energy_intent AS jsonb) WITH FUNCTION deg.energy_intent_jsonb(deg.energy_intent);

-- accessors
CREATE FUNCTION deg.offer_id(deg.energy_offer) RETURNS text
    AS 'MODULE_PATHNAME', 'energy_offer_id' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_contract_id(deg.energy_offer) RETURNS text
    AS 'MODULE_PATHNAME', 'energy_offer_contract_id' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_provider(deg.energy_offer) RETURNS deg.era
    AS 'MODULE_PATHNAME', 'energy_offer_provider' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_role(deg.energy_offer) RETURNS text
    AS 'MODULE_PATHNAME', 'energy_offer_role' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_price(deg.energy_offer) RETURNS numeric
    AS 'MODULE_PATHNAME', 'energy_offer_price' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_currency(deg.energy_offer) RETURNS text
    AS 'MODULE_PATHNAME', 'energy_offer_currency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_source(deg.energy_offer) RETURNS text
    AS 'MODULE_PATHNAME', 'energy_offer_source' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_window(deg.energy_offer) RETURNS tstzrange
    AS 'MODULE_PATHNAME', 'energy_offer_window' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_credential_types(deg.energy_offer) RETURNS text[]
    AS 'MODULE_PATHNAME', 'energy_offer_credential_types' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_attributes(deg.energy_offer) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'energy_offer_attributes' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.offer_id(deg.energy_offer) IS 'the offer id';
COMMENT ON FUNCTION deg.offer_contract_id(deg.energy_offer) IS 'the id of the contract the offer opens a role in';
COMMENT ON FUNCTION deg.offer_provider(deg.energy_offer) IS 'the provider''s ERA';
COMMENT ON FUNCTION deg.offer_role(deg.energy_offer) IS 'the open role';
COMMENT ON FUNCTION deg.offer_price(deg.energy_offer) IS 'price per kWh (indicative when derived from a tariff or an offer curve)';
COMMENT ON FUNCTION deg.offer_currency(deg.energy_offer) IS 'ISO 4217 currency of the price';
COMMENT ON FUNCTION deg.offer_source(deg.energy_offer) IS 'the energy source, NULL when not stated';
COMMENT ON FUNCTION deg.offer_window(deg.energy_offer) IS 'availability window';
COMMENT ON FUNCTION deg.offer_credential_types(deg.energy_offer) IS 'credential types the offer carries';
COMMENT ON FUNCTION deg.offer_attributes(deg.energy_offer) IS 'free attributes (connectorType, evseId, ...)';

-- matching; selectivity from a sample of offers kept by ANALYZE (src/offer_stats.c)
CREATE FUNCTION deg.energy_match_sel(internal, oid, internal, integer) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.intent_matches(deg.energy_intent, deg.energy_offer) RETURNS boolean
    AS 'MODULE_PATHNAME', 'energy_intent_matches' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_matches(deg.energy_offer, deg.energy_intent) RETURNS boolean
    AS 'MODULE_PATHNAME', 'energy_offer_matches' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.intent_matches(deg.energy_intent, deg.energy_offer) IS 'the offer can serve the intent (the function behind @@)';
CREATE OPERATOR deg.@@ (
    LEFTARG = deg.energy_intent, RIGHTARG = deg.energy_offer, FUNCTION = deg.intent_matches,
    COMMUTATOR = OPERATOR(deg.@@), RESTRICT = deg.energy_match_sel, JOIN = contjoinsel
);
CREATE OPERATOR deg.@@ (
    LEFTARG = deg.energy_offer, RIGHTARG = deg.energy_intent, FUNCTION = deg.offer_matches,
    COMMUTATOR = OPERATOR(deg.@@), RESTRICT = deg.energy_match_sel, JOIN = contjoinsel
);
COMMENT ON OPERATOR deg.@@ (deg.energy_intent, deg.energy_offer) IS 'the offer can serve the intent';
COMMENT ON OPERATOR deg.@@ (deg.energy_offer, deg.energy_intent) IS 'the offer can serve the intent';

CREATE FUNCTION deg.intent_order(deg.energy_intent, deg.energy_offer) RETURNS float8
    AS 'MODULE_PATHNAME', 'energy_intent_order' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.offer_order(deg.energy_offer, deg.energy_intent) RETURNS float8
    AS 'MODULE_PATHNAME', 'energy_offer_order' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.intent_order(deg.energy_intent, deg.energy_offer) IS 'ordering value: price in millionths, then distance in tens of metres (the function behind <->)';
CREATE OPERATOR deg.<-> (
    LEFTARG = deg.energy_intent, RIGHTARG = deg.energy_offer, FUNCTION = deg.intent_order,
    COMMUTATOR = OPERATOR(deg.<->)
);
CREATE OPERATOR deg.<-> (
    LEFTARG = deg.energy_offer, RIGHTARG = deg.energy_intent, FUNCTION = deg.offer_order,
    COMMUTATOR = OPERATOR(deg.<->)
);
COMMENT ON OPERATOR deg.<-> (deg.energy_intent, deg.energy_offer) IS 'orders offers for an intent: cheapest first, then nearest';

CREATE FUNCTION deg.match_distance(deg.energy_intent, deg.energy_offer) RETURNS float8
    AS 'MODULE_PATHNAME', 'energy_match_distance' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.match_distance(deg.energy_intent, deg.energy_offer) IS 'haversine metres from the intent''s point to the offer (NULL when either has no location)';

CREATE FUNCTION deg.match_explain(intent deg.energy_intent, offer deg.energy_offer,
                                  OUT field text, OUT ok boolean, OUT detail text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'energy_match_explain' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 10;
COMMENT ON FUNCTION deg.match_explain(deg.energy_intent, deg.energy_offer) IS 'why an offer does or does not serve an intent, field by field';

-- the GiST operator class
CREATE TYPE deg.energy_offer_gist_key;
CREATE FUNCTION deg.energy_offer_gist_key_in(cstring) RETURNS deg.energy_offer_gist_key
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_key_out(deg.energy_offer_gist_key) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.energy_offer_gist_key (
    INPUT = deg.energy_offer_gist_key_in, OUTPUT = deg.energy_offer_gist_key_out,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = plain
);
COMMENT ON TYPE deg.energy_offer_gist_key IS 'GiST index key of deg.energy_offer_ops (internal)';

CREATE FUNCTION deg.energy_offer_gist_consistent(internal, deg.energy_intent, smallint, oid, internal) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_distance(internal, deg.energy_intent, smallint, oid, internal) RETURNS float8
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_union(internal, internal) RETURNS deg.energy_offer_gist_key
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_compress(internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_penalty(internal, internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_picksplit(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.energy_offer_gist_same(deg.energy_offer_gist_key, deg.energy_offer_gist_key, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR CLASS deg.energy_offer_ops
    DEFAULT FOR TYPE deg.energy_offer USING gist AS
        OPERATOR 1 deg.@@ (deg.energy_offer, deg.energy_intent),
        OPERATOR 15 deg.<-> (deg.energy_offer, deg.energy_intent) FOR ORDER BY pg_catalog.float_ops,
        FUNCTION 1 deg.energy_offer_gist_consistent(internal, deg.energy_intent, smallint, oid, internal),
        FUNCTION 2 deg.energy_offer_gist_union(internal, internal),
        FUNCTION 3 deg.energy_offer_gist_compress(internal),
        FUNCTION 5 deg.energy_offer_gist_penalty(internal, internal, internal),
        FUNCTION 6 deg.energy_offer_gist_picksplit(internal, internal),
        FUNCTION 7 deg.energy_offer_gist_same(deg.energy_offer_gist_key, deg.energy_offer_gist_key, internal),
        FUNCTION 8 deg.energy_offer_gist_distance(internal, deg.energy_intent, smallint, oid, internal),
        STORAGE deg.energy_offer_gist_key;

-- published offers
CREATE TABLE deg.offers (
    offer_id     text GENERATED ALWAYS AS (deg.offer_id(offer)) STORED PRIMARY KEY,
    offer        deg.energy_offer NOT NULL,
    provider     deg.era GENERATED ALWAYS AS (deg.offer_provider(offer)) STORED,
    published_at timestamptz NOT NULL DEFAULT now(),
    withdrawn_at timestamptz,
    CONSTRAINT offers_withdrawn_after_published CHECK (withdrawn_at >= published_at)
);
CREATE INDEX offers_match_idx ON deg.offers USING gist (offer);
CREATE INDEX offers_provider_idx ON deg.offers (provider);
COMMENT ON TABLE deg.offers IS 'published energy offers; the GiST index answers intent @@ offer ORDER BY intent <-> offer';
SELECT pg_catalog.pg_extension_config_dump('deg.offers', '');
GRANT SELECT ON deg.offers TO deg_reader;
GRANT INSERT, UPDATE, DELETE ON deg.offers TO deg_operator;

-- the k best offers for an intent: cheapest first, ties by distance, then offer id
CREATE FUNCTION deg.match(intent deg.energy_intent, k integer DEFAULT 10)
RETURNS SETOF deg.offers
LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    r record;
    taken integer := 0;
    last_value float8;
    candidates deg.offers[] := '{}';
    -- a declared cursor is planned for its first rows (a FOR loop over a
    -- query is planned for all of them: a scan and sort of every match)
    best CURSOR FOR
        SELECT o, intent OPERATOR(deg.<->) o.offer AS v
          FROM deg.offers o
         WHERE o.withdrawn_at IS NULL AND o.offer OPERATOR(deg.@@) intent
         ORDER BY o.offer OPERATOR(deg.<->) intent;
BEGIN
    IF k < 0 THEN
        RAISE EXCEPTION 'k must not be negative, got %', k USING ERRCODE = '22023';
    END IF;
    -- the index delivers offers by (price to the millionth, distance to 10 m);
    -- read past the k-th row while the value ties, then order exactly
    FOR r IN best LOOP
        EXIT WHEN taken >= k AND r.v > last_value;
        candidates := candidates || r.o;
        taken := taken + 1;
        last_value := r.v;
    END LOOP;
    RETURN QUERY
        SELECT (c).* FROM unnest(candidates) AS c
         ORDER BY deg.offer_price((c).offer) NULLS LAST,
                  deg.match_distance(intent, (c).offer) NULLS FIRST,
                  (c).offer_id
         LIMIT k;
END $$;
COMMENT ON FUNCTION deg.match(deg.energy_intent, integer) IS 'the k best published offers for an intent: cheapest first, then nearest, then by offer id';
