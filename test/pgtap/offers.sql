-- pgTAP: offers and intents — the index agrees with the rule, KNN with a sort
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

SELECT plan(16);

SELECT has_type('deg', 'energy_offer', 'type deg.energy_offer exists');
SELECT has_type('deg', 'energy_intent', 'type deg.energy_intent exists');
SELECT is((SELECT count(*)::int FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
            WHERE c.opcintype = 'deg.energy_offer'::regtype AND a.amname = 'gist' AND c.opcdefault), 1,
          'a default GiST operator class for energy_offer');

-- 10,000 random offers (deterministic), over a state-sized region
SELECT setseed(0.42);
CREATE TEMP TABLE rnd_offers AS
SELECT i, deg.energy_offer(jsonb_strip_nulls(jsonb_build_object(
    'offerId', 'o' || i,
    'providerId', 'p' || (i % 97) || '.example.com',
    'openRole', (ARRAY['BUYER', 'BUYER', 'SELLER', 'PROSUMER'])[1 + floor(random() * 4)::int],
    'pricePerKWh', CASE WHEN random() < 0.9 THEN round((random() * 30)::numeric, 2) END,
    'currency', (ARRAY['INR', 'INR', 'INR', 'USD'])[1 + floor(random() * 4)::int],
    'minQuantityKWh', CASE WHEN random() < 0.5 THEN floor(random() * 10) END,
    'maxQuantityKWh', CASE WHEN random() < 0.5 THEN 10 + floor(random() * 90) END,
    'availabilityWindow', CASE WHEN random() < 0.8 THEN jsonb_build_object(
        'start', CASE WHEN random() < 0.9 THEN to_char(timestamptz '2025-01-01 00:00Z' + floor(random() * 72) * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END,
        'end', CASE WHEN random() < 0.9 THEN to_char(timestamptz '2025-01-04 00:00Z' + floor(random() * 72) * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END) END,
    'location', CASE WHEN random() < 0.9 THEN jsonb_build_object('lat', 11.5 + random() * 7, 'lon', 74 + random() * 4.5) END,
    'energySource', CASE WHEN random() < 0.85 THEN (ARRAY['SOLAR', 'WIND', 'GRID', 'BATTERY', 'HYDRO'])[1 + floor(random() * 5)::int] END,
    'maxPowerKW', CASE WHEN random() < 0.8 THEN 3 + floor(random() * 147) END,
    'credentialTypes', CASE WHEN random() < 0.3 THEN jsonb_build_array('EVSESafetyCertification') END,
    'attributes', CASE WHEN random() < 0.7 THEN jsonb_build_object('connectorType', (ARRAY['CCS2', 'Type2', 'CHAdeMO'])[1 + floor(random() * 3)::int]) END
))) AS offer
FROM generate_series(1, 10000) i;
CREATE INDEX rnd_offers_gist ON rnd_offers USING gist (offer);
ANALYZE rnd_offers;

-- 600 random intents, each field present about half the time
CREATE TEMP TABLE rnd_intents AS
SELECT j, deg.energy_intent(jsonb_strip_nulls(jsonb_build_object(
    'role', (ARRAY['BUYER', 'BUYER', 'SELLER', 'PROSUMER'])[1 + floor(random() * 4)::int],
    'quantityKWh', CASE WHEN random() < 0.5 THEN floor(random() * 60) END,
    'window', CASE WHEN random() < 0.5 THEN jsonb_build_object(
        'start', to_char(timestamptz '2025-01-02 00:00Z' + floor(random() * 48) * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'end', to_char(timestamptz '2025-01-04 00:00Z' + floor(random() * 48) * interval '1 hour', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) END,
    'maxPricePerKWh', CASE WHEN random() < 0.5 THEN round((random() * 30)::numeric, 2) END,
    'currency', CASE WHEN random() < 0.5 THEN 'INR' END,
    'acceptedSources', CASE WHEN random() < 0.3 THEN jsonb_build_array((ARRAY['SOLAR', 'WIND', 'RENEWABLE', 'GRID'])[1 + floor(random() * 4)::int]) END,
    'minPowerKW', CASE WHEN random() < 0.3 THEN floor(random() * 100) END,
    'requiredCredentials', CASE WHEN random() < 0.15 THEN jsonb_build_array('EVSESafetyCertification') END,
    'requiredAttributes', CASE WHEN random() < 0.3 THEN jsonb_build_object('connectorType', (ARRAY['CCS2', 'Type2'])[1 + floor(random() * 2)::int]) END
) || CASE WHEN random() < 0.6 THEN jsonb_build_object(
        'location', jsonb_build_object('lat', 11.5 + random() * 7, 'lon', 74 + random() * 4.5),
        'radiusMeters', 5000 + floor(random() * 150000)) ELSE '{}' END)) AS intent
FROM generate_series(1, 600) j;

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; plan text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || r || E'\n'; END LOOP;
    RETURN plan;
END $$;

SELECT matches(pg_temp.plan_of($$SELECT i FROM rnd_offers WHERE '{"currency": "INR"}'::deg.energy_intent @@ offer
                                 ORDER BY '{"currency": "INR"}'::deg.energy_intent <-> offer LIMIT 10$$),
    'Index Scan using rnd_offers_gist(.|\n)*Order By', 'top-k is a KNN index scan');

-- matches through the index ...
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
CREATE TEMP TABLE by_index AS
SELECT t.j, array(SELECT o.i FROM rnd_offers o WHERE t.intent @@ o.offer ORDER BY o.i) AS ids FROM rnd_intents t;
SELECT matches(pg_temp.plan_of($$SELECT i FROM rnd_offers WHERE '{"currency": "INR"}'::deg.energy_intent @@ offer$$),
    'Index Scan using rnd_offers_gist', 'the match is answered by the index');
RESET enable_seqscan; RESET enable_bitmapscan;
-- ... and by a sequential scan
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
CREATE TEMP TABLE by_seq AS
SELECT t.j, array(SELECT o.i FROM rnd_offers o WHERE t.intent @@ o.offer ORDER BY o.i) AS ids FROM rnd_intents t;
RESET enable_indexscan; RESET enable_bitmapscan;

SELECT cmp_ok((SELECT count(*)::int FROM by_seq WHERE cardinality(ids) BETWEEN 1 AND 9999), '>=', 200,
              'at least 200 intents match some but not all offers');
SELECT cmp_ok((SELECT sum(cardinality(ids))::bigint FROM by_seq), '>', 10000::bigint,
              'the workload has many matches');
SELECT is((SELECT count(*)::int FROM by_index i JOIN by_seq s USING (j) WHERE i.ids = s.ids), 600,
          'the GiST index returns exactly the rows of a sequential scan, for all 600 intents');

-- the rule is symmetric in its argument order
SELECT is((SELECT count(*)::int FROM rnd_intents t, (SELECT offer FROM rnd_offers LIMIT 50) o
            WHERE (t.intent @@ o.offer) IS DISTINCT FROM (o.offer @@ t.intent)), 0,
          'intent @@ offer equals offer @@ intent');

-- KNN order equals a sort by the same value (values compared: ties may permute ids)
SET LOCAL enable_seqscan = off;
CREATE TEMP TABLE knn AS
SELECT t.j, array(SELECT t.intent <-> o.offer FROM rnd_offers o WHERE t.intent @@ o.offer
                   ORDER BY t.intent <-> o.offer LIMIT 15) AS vals FROM rnd_intents t WHERE t.j <= 300;
RESET enable_seqscan;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
CREATE TEMP TABLE sorted AS
SELECT t.j, array(SELECT t.intent <-> o.offer FROM rnd_offers o WHERE t.intent @@ o.offer
                   ORDER BY 1 LIMIT 15) AS vals FROM rnd_intents t WHERE t.j <= 300;
RESET enable_indexscan; RESET enable_bitmapscan;
SELECT is((SELECT count(*)::int FROM knn k JOIN sorted s USING (j) WHERE k.vals = s.vals), 300,
          'the KNN index scan returns the same ordering values as a sort, for 300 intents');

-- ordering value: price first, then distance
SELECT is((SELECT count(*)::int FROM (
              SELECT deg.offer_price(o.offer) AS p, lag(deg.offer_price(o.offer)) OVER (ORDER BY t.intent <-> o.offer) AS prev
                FROM rnd_offers o, (SELECT intent FROM rnd_intents WHERE j = 1) t
               WHERE deg.offer_price(o.offer) IS NOT NULL) s WHERE prev > p), 0,
          'ordering by <-> never puts a dearer offer before a cheaper one');

-- deg.match: exact order (price, distance, offer id) over published offers
INSERT INTO deg.offers (offer) SELECT offer FROM rnd_offers;
CREATE TEMP TABLE via_match AS
SELECT t.j, array(SELECT m.offer_id FROM deg.match(t.intent, 10) m) AS ids FROM rnd_intents t WHERE t.j <= 150;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
CREATE TEMP TABLE via_sort AS
SELECT t.j, array(SELECT o.offer_id FROM deg.offers o WHERE t.intent @@ o.offer
                   ORDER BY deg.offer_price(o.offer) NULLS LAST, deg.match_distance(t.intent, o.offer) NULLS FIRST, o.offer_id
                   LIMIT 10) AS ids FROM rnd_intents t WHERE t.j <= 150;
RESET enable_indexscan; RESET enable_bitmapscan;
SELECT is((SELECT count(*)::int FROM via_match m JOIN via_sort s USING (j) WHERE m.ids = s.ids), 150,
          'deg.match equals an exact sort by price, distance and offer id, for 150 intents');
SELECT is((SELECT count(*)::int FROM deg.match('{"role": "SELLER"}', 0)), 0, 'k = 0 returns nothing');
SELECT throws_ok($$SELECT * FROM deg.match('{}', -1)$$, '22023', NULL, 'a negative k is an error');

-- NULLs and labels
SELECT is(('{}'::deg.energy_intent @@ NULL::deg.energy_offer), NULL, '@@ with NULL is NULL');
SELECT is((SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'deg' AND (p.proname LIKE 'offer%' OR p.proname LIKE 'energy_%' OR p.proname LIKE 'intent%')
              AND p.proname <> 'intent_from_discover'
              AND NOT ('internal'::regtype = ANY (p.proargtypes::regtype[]))
              AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's')), 0,
          'offer and intent functions are IMMUTABLE, STRICT and PARALLEL SAFE');

SELECT * FROM finish();
ROLLBACK;
