-- pgTAP: contract tables, the claim trigger, the lifecycle, accept_offer
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;

SELECT plan(39);

-- an issuer and credentials for the participants
CREATE TEMP TABLE k AS SELECT * FROM deg.keypair();
INSERT INTO deg.issuers (issuer, public_key) SELECT 'did:deg:grid-authority', public_key FROM k;
SELECT deg.status_list_create('https://grid.example.com/status/1', 'did:deg:grid-authority');
CREATE TEMP TABLE creds AS
SELECT 'good' AS name, deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM k), 'buyer-1.example.com',
          '{CustomerCredential}', '{"tariffClass": "residential"}', now() - interval '1 day', now() + interval '1 year',
          'https://grid.example.com/status/1') AS c
UNION ALL
SELECT 'expired', deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM k), 'buyer-1.example.com',
          '{CustomerCredential}', '{"tariffClass": "residential"}', '2020-01-01', '2021-01-01')
UNION ALL
SELECT 'revoked', deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM k), 'buyer-1.example.com',
          '{CustomerCredential}', '{"tariffClass": "residential"}', now() - interval '1 day', NULL,
          'https://grid.example.com/status/1')
UNION ALL
SELECT 'other subject', deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM k), 'someone-else.example.com',
          '{CustomerCredential}', '{"tariffClass": "residential"}', now() - interval '1 day')
UNION ALL
SELECT 'wrong type', deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM k), 'buyer-1.example.com',
          '{SafetyCertificate}', '{}', now() - interval '1 day')
UNION ALL
SELECT 'commercial', deg.credential_issue('did:deg:grid-authority', (SELECT secret_key FROM k), 'buyer-1.example.com',
          '{CustomerCredential}', '{"tariffClass": "commercial"}', now() - interval '1 day');
SELECT deg.credential_revoke(c) FROM creds WHERE name = 'revoked';

-- a contract template whose BUYER must present a residential CustomerCredential
CREATE FUNCTION pg_temp.template(id text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT ('{
      "contractId": "' || id || '", "status": "PENDING", "createdAt": "2024-12-15T10:00:00Z",
      "roles": [{"role": "SELLER", "filled": true, "filledBy": "cpo.example.com", "roleInputs": {"pricePerKWh": 18}},
                {"role": "BUYER", "filled": false, "filledBy": null,
                 "roleInputs": {"vehicleId": {"type": "STRING", "required": true, "value": null},
                                "maxKWh": {"type": "NUMBER", "required": false, "value": null}}}],
      "telemetrySources": [{"sourceId": "cdr", "sourceType": "CHARGE_DATA_RECORD", "source": {"era": "IN*ECO*BTM*01*CCS2*A"}}],
      "credentials": {"requiredCredentials": [{"credentialType": ["VerifiableCredential", "CustomerCredential"],
                                              "requiredClaims": {"tariffClass": "residential"}, "role": "BUYER"}]},
      "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER",
                                  "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr.energyKWh"}]}
    }')::jsonb
$$;
CREATE FUNCTION pg_temp.new_contract(id text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO deg.contracts (contract_id, body, status) VALUES (id, pg_temp.template(id)::deg.contract, 'PENDING')
$$;
SELECT pg_temp.new_contract('c-1');
SELECT is((SELECT count(*)::int FROM deg.contract_events WHERE contract_id = 'c-1' AND event = 'created'), 1,
          'creating a contract records an event');

CREATE FUNCTION pg_temp.claim(contract text, who text, inputs jsonb, cred text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO deg.role_claims (contract_id, role, participant, inputs, credentials)
    VALUES (contract, 'BUYER', who::deg.era, inputs,
            CASE WHEN cred IS NULL THEN '{}'::deg.credential[] ELSE ARRAY[(SELECT c FROM creds WHERE name = cred)] END)
$$;

SELECT throws_ok($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', NULL)$$, '28000',
    'claim of role BUYER of contract c-1 by buyer-1.example.com refused: a CustomerCredential credential is required; none was presented',
    'a claim without the required credential is refused');
SELECT throws_ok($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'expired')$$, '28000',
    NULL, 'an expired credential is refused');
SELECT throws_matching($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'expired')$$,
    'expired at', 'the refusal says the credential expired');
SELECT throws_matching($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'revoked')$$,
    ': revoked$', 'a revoked credential is refused, saying so');
SELECT throws_matching($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'other subject')$$,
    'is about someone-else.example.com, not buyer-1.example.com', 'a credential about someone else is refused');
SELECT throws_matching($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'wrong type')$$,
    'is not a CustomerCredential', 'a credential of the wrong type is refused');
SELECT throws_matching($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'commercial')$$,
    'lacks the claims', 'a credential without the required claims is refused');
SELECT throws_ok($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"vehicleId": 42}', 'good')$$, '42804',
    'input "vehicleId" of role BUYER of contract c-1 must be STRING', 'an input of the wrong type is refused');
SELECT is((SELECT count(*)::int FROM deg.role_claims WHERE contract_id = 'c-1'), 0, 'refused claims leave no row');
SELECT is((SELECT status FROM deg.contracts WHERE contract_id = 'c-1'), 'PENDING', 'and the contract is untouched');
SELECT is((SELECT count(*)::int FROM deg.contract_events WHERE contract_id = 'c-1'), 1, 'nor any event');

-- a required input missing: the role is filled, the contract waits
SELECT lives_ok($$SELECT pg_temp.claim('c-1', 'buyer-1.example.com', '{"maxKWh": 20}', 'good')$$,
    'a claim with a valid credential fills the role');
SELECT is((SELECT status FROM deg.contracts WHERE contract_id = 'c-1'), 'PENDING',
    'without its required input the contract stays PENDING');
SELECT results_eq($$SELECT role, input FROM deg.contract_missing((SELECT body FROM deg.contracts WHERE contract_id = 'c-1'))$$,
    $$VALUES ('BUYER'::text, 'vehicleId'::text)$$, 'contract_missing names the required input');
SELECT throws_ok($$SELECT pg_temp.claim('c-1', 'buyer-2.example.com', '{"vehicleId": "KA02"}', 'good')$$, '23505',
    'role BUYER of contract c-1 is already filled', 'a second participant cannot take a filled role');

-- the same participant can complete a contract through a fresh contract instance
SELECT pg_temp.new_contract('c-2');
SELECT lives_ok($$SELECT pg_temp.claim('c-2', 'buyer-1.example.com', '{"vehicleId": "KA01"}', 'good')$$,
    'a complete claim');
SELECT is((SELECT status FROM deg.contracts WHERE contract_id = 'c-2'), 'ACTIVE', 'makes the contract ACTIVE');
SELECT results_eq($$SELECT event, role, participant::text, from_status, to_status FROM deg.contract_events
                    WHERE contract_id = 'c-2' ORDER BY event_id$$,
    $$VALUES ('created'::text, NULL::text, NULL::text, NULL::text, 'PENDING'::text),
             ('status', NULL, NULL, 'PENDING', 'ACTIVE'),
             ('filled', 'BUYER', 'buyer-1.example.com', NULL, NULL)$$,
    'the events record creation, the status change and the fill');
SELECT throws_ok($$SELECT pg_temp.claim('c-2', 'buyer-2.example.com', '{"vehicleId": "KA02"}', 'good')$$, '23505',
    'role BUYER of contract c-2 is already filled', 'an ACTIVE contract takes no more BUYER claims');

-- status moves through UPDATE
SELECT throws_ok($$UPDATE deg.contracts SET status = 'PENDING' WHERE contract_id = 'c-2'$$, '55000',
    'contract c-2 cannot go from ACTIVE to PENDING', 'ACTIVE cannot go back to PENDING');
SELECT lives_ok($$UPDATE deg.contracts SET status = 'COMPLETED' WHERE contract_id = 'c-2'$$, 'ACTIVE -> COMPLETED');
SELECT is((SELECT deg.contract_status(body) FROM deg.contracts WHERE contract_id = 'c-2'), 'COMPLETED',
    'the body follows the status column');
SELECT throws_ok($$UPDATE deg.contracts SET status = 'TERMINATED' WHERE contract_id = 'c-2'$$, '55000',
    NULL, 'COMPLETED is final');
SELECT throws_ok($$UPDATE deg.contracts SET status = 'ACTIVE' WHERE contract_id = 'c-1'$$, '55000',
    NULL, 'PENDING -> ACTIVE is refused while something is missing');
SELECT throws_ok($$UPDATE deg.contract_events SET actor = 'x'$$, '55000', NULL, 'events are append-only');
SELECT throws_ok($$DELETE FROM deg.role_claims$$, '55000', NULL, 'claims cannot be removed');

-- accept_offer: instantiate the offer's contract and claim its open role
INSERT INTO deg.offers (offer) SELECT deg.energy_offer(jsonb_build_object(
    'offerId', 'offer-1', 'providerId', 'cpo.example.com', 'openRole', 'BUYER', 'pricePerKWh', 18, 'currency', 'INR',
    'contract', pg_temp.template('ev-template')));
SELECT matches(deg.accept_offer('offer-1', 'buyer-1.example.com', '{"vehicleId": "KA07"}',
                                ARRAY[(SELECT c FROM creds WHERE name = 'good')]),
    '^ev-template:[0-9a-f-]{36}$', 'accept_offer returns a fresh contract id');
SELECT is((SELECT status FROM deg.contracts WHERE offer_id = 'offer-1'), 'ACTIVE',
    'the new contract is ACTIVE with its role filled');
SELECT throws_ok($$SELECT deg.accept_offer('offer-1', 'buyer-1.example.com', '{"vehicleId": "KA07"}')$$, '28000',
    NULL, 'accepting without the credential the contract requires is refused');

-- one evaluator over many rows: values that outgrow their digits between
-- rows must not live in the per-row context (this once crashed the backend)
SELECT is((SELECT sum(e.value) FROM generate_series(1, 20000) g,
                LATERAL deg.contract_eval(pg_temp.template('many-rows')::deg.contract,
                    jsonb_build_object('telemetrySources', jsonb_build_object('cdr',
                        jsonb_build_object('energyKWh', (g / 7.0)::numeric(30, 20) * 1000000000)))) e
            WHERE e.kind = 'flow'),
          (SELECT sum(18 * (g / 7.0)::numeric(30, 20) * 1000000000) FROM generate_series(1, 20000) g),
    'contract_eval over 20,000 rows of growing values equals the plain sum');

-- numbers cross between numeric and the evaluator exactly, scale included
-- (short and long numeric forms, tiny, huge and negative values)
CREATE TEMP TABLE numbers AS
SELECT x FROM (VALUES (0::numeric), (1), (-1), (0.0001), (-0.00000001), (123456789.123456789), (1e100), (-1e-100),
                      (99999999999999999999999.5), (1e130000), (-0.5), (1.000), (10000)) t(x)
UNION ALL SELECT (random() * 10 ^ (random() * 40 - 20))::numeric(60, 30) FROM generate_series(1, 2000)
UNION ALL SELECT -(random() * 10 ^ (random() * 40 - 20))::numeric FROM generate_series(1, 2000);
SELECT is((SELECT count(*)::int FROM numbers n,
                LATERAL deg.contract_eval((pg_temp.template('identity') || '{"qualityMetrics": {"metrics":
                        [{"metricId": "energy", "formula": "telemetrySources.cdr.energyKWh"}]}}')::deg.contract,
                    jsonb_build_object('telemetrySources', jsonb_build_object('cdr', jsonb_build_object('energyKWh', n.x)))) e
            WHERE e.kind = 'metric' AND e.value::text = n.x::text), (SELECT count(*)::int FROM numbers),
    'numbers go into formulas and come out exactly, with their scale');

-- the one-line form: inputs as name, value pairs
SELECT is(deg.contract_eval(pg_temp.template('line')::deg.contract, '1', 'telemetrySources.cdr.energyKWh', 2.5),
          45.0, 'contract_eval(c, line, name, value) gives the flow''s value');
SELECT is(deg.contract_eval(pg_temp.template('line')::deg.contract, 'flow 1', 'telemetrySources.cdr.energyKWh', 3),
          (SELECT value FROM deg.contract_eval(pg_temp.template('line')::deg.contract,
                                               '{"telemetrySources": {"cdr": {"energyKWh": 3}}}') WHERE kind = 'flow'),
          'the one-line form agrees with the set-returning form');
SELECT throws_ok($$SELECT deg.contract_eval(pg_temp.template('line')::deg.contract, '7', 'telemetrySources.cdr.energyKWh', 1)$$,
                 '42704', 'contract line has no line "7"', 'an unknown line is named');
SELECT throws_ok($$SELECT deg.contract_eval(pg_temp.template('line')::deg.contract, '1', 'telemetrySources.cdr.energyKwh', 1)$$,
                 '42704', 'line "1" of contract line does not read input "telemetrySources.cdr.energyKwh"',
                 'a misspelt input is refused, not ignored');
SELECT throws_ok($$SELECT deg.contract_eval(pg_temp.template('line')::deg.contract, '1', 'telemetrySources.cdr.energyKWh')$$,
                 '22023', 'input "telemetrySources.cdr.energyKWh" of deg.contract_eval has no value',
                 'a name without a value is refused');

-- tariff(): the DEG P2P tariff example prices 10 kWh delivered 18:00-06:00 (Fri 4 Oct 2024, UTC) at its
-- time-of-use rates, split in proportion to time: 4 h at 0.20 and 8 h at 0.10 -> 3.333 x 0.20 + 6.667 x 0.10
\set tariff_trade `cat test/reference/deg/examples/p2p_trading_tariff/05_init/init-tariff-trade.json`
SELECT is((SELECT round(value, 10) FROM deg.contract_eval((:'tariff_trade'::jsonb #> '{message,order,beckn:orderAttributes}')::deg.contract,
                                                        '{"deliveredQuantity": 10}') WHERE kind = 'flow'),
          1.3333333333, 'computeTariffPrice prices the delivery with the seller''s time-of-use tariff');
CREATE TEMP TABLE tariff_trade AS SELECT :'tariff_trade'::jsonb #> '{message,order,beckn:orderAttributes}' AS j;
SELECT throws_ok($$SELECT deg.contract_eval(jsonb_set(j, '{roles,0,roleInputs,tariff,elements,0,priceComponents,0,type}',
                                                      '"POWER"')::deg.contract) FROM tariff_trade$$,
                 '22023', NULL, 'an invalid tariff in a role input is refused, naming it');

SELECT * FROM finish();
ROLLBACK;
