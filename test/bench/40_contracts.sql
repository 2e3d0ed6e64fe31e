-- Benchmark (issue 5): energy contracts.
--   1. the EV charging flow formula of the DEG example contract
--      (roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr-ev-charger-ccs2-001.energyKWh)
--      evaluated 1,000,000 times through deg.contract_eval: one contract,
--      1,000,000 charge data records, each given to the line's form
--      deg.contract_eval(c, '1', 'telemetrySources.cdr-ev-charger-ccs2-001.energyKWh', e).
--      The set-returning form with jsonb bindings
--      {"telemetrySources": {"cdr-ev-charger-ccs2-001": {"energyKWh": e}}}
--      is timed besides, for information (building the jsonb alone costs
--      several times the baseline).
--      Baseline: the same arithmetic written directly in SQL over numeric
--      columns, sum(price × energy), on the same table in the same run.
--      Both sums must be equal.  Goal: at most 2x the baseline.
--      Both statements run on one core (max_parallel_workers_per_gather = 0);
--      rounds alternate deg and baseline, each figure is the median.
--      Components of the deg statement are timed besides (for information).
--   2. 10,000 role claims with credential checks: 10,000 PENDING copies of
--      the EV contract whose open BUYER role requires a CustomerCredential,
--      10,000 drivers each with a credential from a registered issuer, then
--      one INSERT of the 10,000 claims into deg.role_claims (its trigger
--      locks the contract, fills the role, checks type, subject and
--      signature (deg.credential_check), activates the contract); only the
--      INSERT is timed.  Goal: reported.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
\set n 1000000
\set nclaims 10000

-- wall time of each of `reps` runs of a statement that returns one value
CREATE FUNCTION pg_temp.timed(q text, reps int DEFAULT 1)
RETURNS TABLE (round int, ms float8, result numeric)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    FOR r IN 1..reps LOOP
        round := r;
        t0 := clock_timestamp();
        EXECUTE q INTO result;
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
        RETURN NEXT;
    END LOOP;
END $$;

-- true, or stop the benchmark (psql runs with ON_ERROR_STOP) with the failure
CREATE FUNCTION pg_temp.check(ok boolean, failure text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'contracts benchmark: %', failure;
    END IF;
    RETURN true;
END $$;

CREATE TEMP TABLE figures (what text, round int, ms float8, result numeric);

-- the EV charging contract of the DEG catalog example (a flow and a quality metric)
\set ev_catalog `cat test/reference/deg/examples/ev_charging/02_on_discover/time-based-ev-charging-slot-catalog.json`
DROP TABLE IF EXISTS bench_ev_contract;
CREATE TABLE bench_ev_contract AS
SELECT (:'ev_catalog'::jsonb #> '{message,catalogs,0,beckn:offers,0,beckn:offerAttributes,contract}')::deg.contract AS c;
-- the same contract with only its revenue flow (for information: the cost of the metric)
INSERT INTO bench_ev_contract
SELECT (c::jsonb - 'qualityMetrics' || '{"contractId": "contract-walk-in-001-flow-only"}')::deg.contract FROM bench_ev_contract;

-- the baseline's tariff: the seller's price, as a numeric column
DROP TABLE IF EXISTS bench_tariff;
CREATE TABLE bench_tariff AS
SELECT (c::jsonb #>> '{roles,0,roleInputs,pricePerKWh}')::numeric AS price_per_kwh
  FROM bench_ev_contract WHERE deg.contract_id(c) = 'contract-walk-in-001';

-- 1,000,000 charge data records with 1,000,000 different energies,
-- 1.0000 .. 100.9999 kWh (7919 is prime to 10^6), deterministic
DROP TABLE IF EXISTS bench_cdr;
CREATE TABLE bench_cdr AS
SELECT i AS cdr_id, (1 + (i::bigint * 7919) % 1000000 / 10000.0)::numeric(10, 4) AS energy_kwh
  FROM generate_series(1, :n) i;
ALTER TABLE bench_cdr ALTER energy_kwh TYPE numeric;
VACUUM ANALYZE bench_cdr;
VACUUM ANALYZE bench_tariff;
VACUUM ANALYZE bench_ev_contract;

SELECT count(*) AS cdrs, min(energy_kwh), max(energy_kwh), count(DISTINCT energy_kwh) AS distinct_energies,
       (SELECT price_per_kwh FROM bench_tariff) AS price_per_kwh,
       pg_size_pretty(pg_table_size('bench_cdr')) AS table_size
  FROM bench_cdr;

-- one core for both; no Memoize (it would cache contract_eval's rows per
-- energy value: every row must really go through contract_eval)
SET max_parallel_workers_per_gather = 0;
SET enable_memoize = off;
SET jit = off;
\set q_deg 'SELECT sum(deg.contract_eval((SELECT c FROM bench_ev_contract WHERE deg.contract_id(c) = ''contract-walk-in-001''), ''1'', ''telemetrySources.cdr-ev-charger-ccs2-001.energyKWh'', d.energy_kwh)) FROM bench_cdr d'
\set q_json 'SELECT sum(e.value) FROM bench_cdr d, LATERAL deg.contract_eval((SELECT c FROM bench_ev_contract WHERE deg.contract_id(c) = ''contract-walk-in-001''), jsonb_build_object(''telemetrySources'', jsonb_build_object(''cdr-ev-charger-ccs2-001'', jsonb_build_object(''energyKWh'', d.energy_kwh)))) e WHERE e.kind = ''flow'''
\set q_base 'SELECT sum((SELECT price_per_kwh FROM bench_tariff) * d.energy_kwh) FROM bench_cdr d'
EXPLAIN (COSTS OFF) :q_deg;
EXPLAIN (COSTS OFF) :q_json;
EXPLAIN (COSTS OFF) :q_base;

-- warm the cache, then alternate rounds
SELECT count(*) FROM bench_cdr \gset
INSERT INTO figures SELECT 'eval_deg', round + 100, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'eval_base', round + 100, ms, result FROM pg_temp.timed(:'q_base', 1);
INSERT INTO figures SELECT 'eval_deg', 1, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'eval_base', 1, ms, result FROM pg_temp.timed(:'q_base', 1);
INSERT INTO figures SELECT 'eval_deg', 2, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'eval_base', 2, ms, result FROM pg_temp.timed(:'q_base', 1);
INSERT INTO figures SELECT 'eval_deg', 3, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'eval_base', 3, ms, result FROM pg_temp.timed(:'q_base', 1);
DELETE FROM figures WHERE round > 100;

-- components of the deg statement (for information)
INSERT INTO figures SELECT 'part: scan only', round, ms, result FROM pg_temp.timed(
    'SELECT count(d.energy_kwh) FROM bench_cdr d', 3);
INSERT INTO figures SELECT 'part: scan + jsonb_build_object bindings', round, ms, result FROM pg_temp.timed(
    $q$SELECT count(jsonb_build_object('telemetrySources', jsonb_build_object('cdr-ev-charger-ccs2-001',
                jsonb_build_object('energyKWh', d.energy_kwh)))) FROM bench_cdr d$q$, 3);
INSERT INTO figures SELECT 'part: contract_eval, constant bindings', round, ms, result FROM pg_temp.timed(
    $q$SELECT sum(e.value) FROM bench_cdr d, LATERAL deg.contract_eval(
           (SELECT c FROM bench_ev_contract WHERE deg.contract_id(c) = 'contract-walk-in-001'),
           CASE WHEN d.cdr_id > 0 THEN '{"telemetrySources": {"cdr-ev-charger-ccs2-001": {"energyKWh": 12.345}}}'::jsonb END) e
     WHERE e.kind = 'flow'$q$, 3);
INSERT INTO figures SELECT 'part: contract_eval, flow-only contract', round, ms, result FROM pg_temp.timed(
    replace(:'q_deg', '''contract-walk-in-001''', '''contract-walk-in-001-flow-only'''), 3);
INSERT INTO figures SELECT 'set-returning contract_eval, jsonb bindings', round, ms, result FROM pg_temp.timed(:'q_json', 3);

SELECT what AS figure, round, round(ms::numeric, 1) AS ms, result
  FROM figures ORDER BY what, round;

SELECT count(DISTINCT result) AS distinct_sums, min(result) AS sum_value,
       pg_temp.check(count(DISTINCT result) = 1,
                     'the sums differ: ' || string_agg(DISTINCT what || ' = ' || result, ', ')) AS sums_identical
  FROM figures WHERE what IN ('eval_deg', 'eval_base', 'part: contract_eval, flow-only contract',
                              'set-returning contract_eval, jsonb bindings');

CREATE TEMP TABLE medians AS
SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM figures GROUP BY what;
SELECT what, round(ms::numeric, 1) AS median_ms,
       round((ms / (SELECT ms FROM medians WHERE what = 'eval_base'))::numeric, 2) AS x_baseline
  FROM medians ORDER BY ms;

INSERT INTO bench_results (benchmark, deg_figure, baseline_figure, ratio, goal, met)
SELECT 'contracts: EV flow formula, 1,000,000 evaluations',
       round(d.ms::numeric, 1) || ' ms', round(b.ms::numeric, 1) || ' ms',
       round((d.ms / b.ms)::numeric, 2) || 'x', 'deg/SQL <= 2', d.ms / b.ms <= 2
  FROM medians d, medians b WHERE d.what = 'eval_deg' AND b.what = 'eval_base';
RESET max_parallel_workers_per_gather;
RESET enable_memoize;
RESET jit;

-- 2. role claims with credential checks ------------------------------------

-- a registered, trusted issuer of CustomerCredentials
CREATE TEMP TABLE bench_issuer AS
SELECT (kp).public_key AS public_key, (kp).secret_key AS secret_key, deg.did_key((kp).public_key) AS did
  FROM (SELECT deg.keypair() AS kp) s;
INSERT INTO deg.issuers (issuer, public_key, credential_types, name)
SELECT did, public_key, ARRAY['CustomerCredential'], 'EV network customer registry' FROM bench_issuer;

-- 10,000 PENDING copies of the EV contract; the BUYER must show a CustomerCredential
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'ev-bench-' || i,
       (c::jsonb - 'contractId' || jsonb_build_object('contractId', 'ev-bench-' || i,
            'credentials', '{"requiredCredentials": [{"credentialType": ["VerifiableCredential", "CustomerCredential"]}]}'::jsonb))::deg.contract,
       'PENDING'
  FROM generate_series(1, :nclaims) i,
       (SELECT c FROM bench_ev_contract WHERE deg.contract_id(c) = 'contract-walk-in-001') t;

-- 10,000 drivers, each with a credential
CREATE TEMP TABLE bench_driver AS
SELECT i, format('driver-%s.ev.example.net', i)::deg.era AS era,
       deg.credential_issue(k.did, k.secret_key, format('driver-%s.ev.example.net', i)::deg.era,
                            ARRAY['CustomerCredential'],
                            jsonb_build_object('customerId', 'C-' || lpad(i::text, 6, '0'), 'plan', 'pay-as-you-go'),
                            '2025-01-01T00:00:00Z', '2035-01-01T00:00:00Z') AS credential
  FROM generate_series(1, :nclaims) i, bench_issuer k;
ANALYZE bench_driver;

SELECT count(*) AS bench_contracts, count(*) FILTER (WHERE status = 'PENDING') AS pending
  FROM deg.contracts WHERE contract_id LIKE 'ev-bench-%';

-- the claims: one INSERT, each row through the claim trigger
INSERT INTO figures SELECT 'claims', 1, ms, result FROM pg_temp.timed($q$
    WITH ins AS (
        INSERT INTO deg.role_claims (contract_id, role, participant, inputs, credentials)
        SELECT 'ev-bench-' || i, 'BUYER', era, '{}', ARRAY[credential] FROM bench_driver ORDER BY i
        RETURNING 1)
    SELECT count(*) FROM ins$q$);

SELECT count(*) AS contracts,
       count(*) FILTER (WHERE status = 'ACTIVE' AND deg.contract_status(body) = 'ACTIVE') AS active,
       count(*) FILTER (WHERE NOT deg.contract_ready(body)) AS not_ready,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM deg.contract_participants(body) p
                                       WHERE p.role = 'BUYER' AND p.participant::text = 'driver-' || substr(contract_id, 10) || '.ev.example.net'))
           AS buyer_is_claimant
  FROM deg.contracts WHERE contract_id LIKE 'ev-bench-%' \gset
SELECT count(*) FILTER (WHERE event = 'created') AS created_events,
       count(*) FILTER (WHERE event = 'filled' AND role = 'BUYER' AND claim_id IS NOT NULL) AS filled_events,
       count(*) FILTER (WHERE event = 'status' AND from_status = 'PENDING' AND to_status = 'ACTIVE') AS activated_events,
       count(*) AS all_events
  FROM deg.contract_events WHERE contract_id LIKE 'ev-bench-%' \gset
SELECT (SELECT result FROM figures WHERE what = 'claims') AS claims_inserted, :contracts AS contracts, :active AS active,
       :buyer_is_claimant AS buyer_is_claimant, :created_events AS created_events, :filled_events AS filled_events,
       :activated_events AS activated_events,
       pg_temp.check((SELECT result FROM figures WHERE what = 'claims') = :nclaims AND :contracts = :nclaims
                     AND :active = :nclaims AND :not_ready = 0 AND :buyer_is_claimant = :nclaims,
                     'not every claim filled its contract and activated it') AS all_active,
       pg_temp.check(:created_events = :nclaims AND :filled_events = :nclaims AND :activated_events = :nclaims
                     AND :all_events = 3 * :nclaims,
                     'deg.contract_events does not hold one created, one filled and one status event per contract')
       AS events_recorded;

-- a claim without the credential, or with another driver's, is refused
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'ev-bench-refused', (c::jsonb - 'contractId' || jsonb_build_object('contractId', 'ev-bench-refused',
            'credentials', '{"requiredCredentials": [{"credentialType": ["VerifiableCredential", "CustomerCredential"]}]}'::jsonb))::deg.contract,
       'PENDING'
  FROM bench_ev_contract WHERE deg.contract_id(c) = 'contract-walk-in-001';
CREATE FUNCTION pg_temp.try_claim(who deg.era, creds deg.credential[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deg.role_claims (contract_id, role, participant, credentials) VALUES ('ev-bench-refused', 'BUYER', who, creds);
    RETURN 'accepted';
EXCEPTION WHEN SQLSTATE '28000' THEN
    RETURN 'refused';
END $$;
SELECT pg_temp.try_claim('driver-1.ev.example.net', '{}') AS no_credential,
       pg_temp.try_claim('driver-1.ev.example.net', ARRAY[(SELECT credential FROM bench_driver WHERE i = 2)]) AS someone_elses,
       pg_temp.check(pg_temp.try_claim('driver-1.ev.example.net', '{}') = 'refused'
                     AND pg_temp.try_claim('driver-1.ev.example.net', ARRAY[(SELECT credential FROM bench_driver WHERE i = 2)]) = 'refused',
                     'a claim without a valid credential of the claimant was accepted') AS refused;

SELECT round(ms::numeric, 1) AS claims_ms, to_char(:nclaims / ms * 1000, 'FM999,999,990') AS claims_per_second
  FROM figures WHERE what = 'claims';
INSERT INTO bench_results (benchmark, deg_figure, baseline_figure, ratio, goal, met)
SELECT 'contracts: 10,000 role claims with credential checks', to_char(:nclaims / ms * 1000, 'FM999,999,990') || ' claims/s',
       '-', '-', 'reported', true
  FROM figures WHERE what = 'claims';

SELECT benchmark, deg_figure, baseline_figure, ratio, goal, met FROM bench_results WHERE benchmark LIKE 'contracts:%' ORDER BY id;

-- clean up (deg.contract_events and deg.role_claims are append-only)
DROP TABLE bench_cdr, bench_tariff, bench_ev_contract;
