-- data for the crash test (test/crash/run.sh): a database that the test copies twice, one copy
-- to be interrupted and one to run undisturbed.  Everything is deterministic but the credential
-- keys, which the copies share.
--   settlement: :n_meter meter contracts in INR, JPY and KWD (hourly intervals; every 4th with a
--   feed-in flow the other way, every 5th with a quality metric and its penalty), :n_tou contracts
--   priced by a quarter-hourly signal, two fixed-price trades settled on actuals
--   (deg.allocate_trades); readings for two days, day A already settled once and then given late
--   readings (so that settling it again writes adjustments), day B never settled.
--   claims: :n_claim PENDING contracts whose open BUYER role needs a CustomerCredential, and a
--   driver with a credential for each.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION deg;

-- ---------- settlement ----------
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'cm-' || lpad(i::text, 5, '0'), (jsonb_build_object(
    'contractId', 'cm-' || lpad(i::text, 5, '0'), 'status', 'ACTIVE', 'createdAt', '2025-02-01T00:00:00Z',
    'inputParameters', jsonb_build_object('currency', (ARRAY['INR', 'JPY', 'KWD'])[1 + i % 3], 'settlementInterval', 'PT1H'),
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'retailer-' || (i % 20) || '.example.com',
                           'roleInputs', jsonb_build_object('pricePerKWh', 4 + (i % 9) * 0.37)),
        jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', 'home-' || i || '.example.com')),
    'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'meter', 'sourceType', 'METER_READING',
                                                             'source', jsonb_build_object('era', 'm-' || i || '.meters.example.com'))),
    'revenueFlows', jsonb_build_object('flows',
        jsonb_build_array(jsonb_build_object('from', 'BUYER', 'to', 'SELLER',
                                             'formula', 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.meter.importedKWh'))
        || CASE WHEN i % 4 = 0 THEN jsonb_build_array(jsonb_build_object('from', 'SELLER', 'to', 'BUYER',
                                             'formula', 'telemetrySources.meter.exportedKWh × 3.1')) ELSE '[]' END))
    || CASE WHEN i % 5 = 0 THEN jsonb_build_object('qualityMetrics', jsonb_build_object('metrics', jsonb_build_array(
           jsonb_build_object('metricId', 'supply', 'formula', 'telemetrySources.meter.importedKWh', 'target', 1.2,
                              'penalty', jsonb_build_object('appliedTo', 'SELLER',
                                          'formula', 'max(0, 1.2 - telemetrySources.meter.importedKWh) × 2.5')))))
       ELSE '{}' END)::deg.contract,
    'ACTIVE'
  FROM generate_series(1, :n_meter) i;

-- hourly readings for both days; every 10th meter's last hour of day A arrives late (below)
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
SELECT ('m-' || i || '.meters.example.com')::deg.era, tstzrange(t, t + interval '1 hour'),
       ((i * 7 + h * 13) % 29) / 10.0 + 0.05, CASE WHEN i % 4 = 0 THEN ((i + h * 3) % 11) / 20.0 ELSE 0 END
  FROM generate_series(1, :n_meter) i,
       generate_series(0, 47) h,
       LATERAL (SELECT '2025-02-03 00:00+00'::timestamptz + h * interval '1 hour' AS t) x
 WHERE NOT (i % 10 = 0 AND h = 23);

INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'ct-' || lpad(i::text, 4, '0'), jsonb_build_object(
    'contractId', 'ct-' || lpad(i::text, 4, '0'), 'status', 'ACTIVE', 'createdAt', '2025-02-01T00:00:00Z',
    'inputParameters', jsonb_build_object('currency', 'INR', 'settlementInterval', 'PT15M'),
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'tou.utility.example.com'),
        jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', 'flat-' || i || '.example.com')),
    'inputSignals', jsonb_build_array(jsonb_build_object('signalId', 'tou-price', 'signalType', 'PRICE',
                                                         'source', jsonb_build_object('era', 'tariffs.utility.example.com'))),
    'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'meter', 'sourceType', 'METER_READING',
                                                             'source', jsonb_build_object('era', 't-' || i || '.meters.example.com'))),
    'revenueFlows', jsonb_build_object('flows', jsonb_build_array(jsonb_build_object('from', 'BUYER', 'to', 'SELLER',
                                             'formula', 'inputSignals.tou-price × telemetrySources.meter.importedKWh'))))::deg.contract,
    'ACTIVE'
  FROM generate_series(1, :n_tou) i;
INSERT INTO deg.signal_values (signal_id, valid, value)
SELECT 'tou-price', tstzrange(t, t + interval '15 minutes'), 3.5 + (q % 7) * 0.4321
  FROM generate_series(0, 191) q, LATERAL (SELECT '2025-02-03 00:00+00'::timestamptz + q * interval '15 minutes' AS t) x;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
SELECT ('t-' || i || '.meters.example.com')::deg.era, tstzrange(t, t + interval '15 minutes'), ((i * 3 + q * 5) % 17) / 40.0
  FROM generate_series(1, :n_tou) i, generate_series(0, 191) q,
       LATERAL (SELECT '2025-02-03 00:00+00'::timestamptz + q * interval '15 minutes' AS t) x;

-- two fixed-price trades on one seller meter, first come first served; the run allocates them
INSERT INTO deg.contracts (contract_id, body, status)
SELECT id, ('{"@type": "EnergyContractP2PTrade", "contractId": "' || id || '", "status": "ACTIVE",
      "createdAt": "2025-02-01T00:00:00Z",
      "roles": [{"role": "SELLER", "filled": true, "filledBy": "bpp.energy-provider.com",
                 "roleInputs": {"sourceMeterId": "100200300", "sourceType": "SOLAR", "pricePerKWh": 0.15, "currency": "USD"}},
                {"role": "BUYER", "filled": true, "filledBy": "' || buyer || '",
                 "roleInputs": {"targetMeterId": "98765456", "contractedQuantity": ' || kwh || ',
                                "tradeStartTime": "2025-02-03T08:00:00Z", "tradeEndTime": "2025-02-04T18:00:00Z"}},
                {"role": "GRID_OPERATOR", "filled": true, "filledBy": "example-transmission-bpp.com",
                 "roleInputs": {"wheelingCharges": 0.025, "current_buyer_trades_total": 5.0,
                                "current_seller_trade_total": 20.0, "buyer_trade_cap": 50.0, "seller_trade_cap": 100.0}}],
      "revenueFlows": {"flows": [
          {"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × deliveredQuantity"},
          {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "deliveredQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges"}]}}')::deg.contract,
       'ACTIVE'
  FROM (VALUES ('p2p-1', 'bap-1.energy-consumer.com', 12.0), ('p2p-2', 'bap-2.energy-consumer.com', 20.0)) v(id, buyer, kwh);
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
SELECT '100200300', tstzrange(t, t + interval '2 hours'), 0, 1.5 + h * 0.25
  FROM generate_series(0, 23) h, LATERAL (SELECT '2025-02-03 00:00+00'::timestamptz + h * interval '2 hours' AS t) x;

ANALYZE deg.contracts;
ANALYZE deg.contract_feeds;
ANALYZE deg.meter_readings;
ANALYZE deg.signal_values;

-- day A settled once, then its late readings arrive
SELECT entries_written > 0 AS day_a_settled FROM deg.settle('[2025-02-03 00:00+00, 2025-02-04 00:00+00)');
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
SELECT ('m-' || i || '.meters.example.com')::deg.era, '[2025-02-03 23:00+00, 2025-02-04 00:00+00)', 1.75, 0
  FROM generate_series(10, :n_meter, 10) i;

-- ---------- claims ----------
CREATE TABLE public.crash_issuer AS
SELECT (kp).public_key AS public_key, (kp).secret_key AS secret_key, deg.did_key((kp).public_key) AS did
  FROM (SELECT deg.keypair() AS kp) s;
INSERT INTO deg.issuers (issuer, public_key, credential_types, name)
SELECT did, public_key, ARRAY['CustomerCredential'], 'crash test customer registry' FROM public.crash_issuer;
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'cc-' || lpad(j::text, 5, '0'), jsonb_build_object(
    'contractId', 'cc-' || lpad(j::text, 5, '0'), 'status', 'PENDING', 'createdAt', '2025-02-01T00:00:00Z',
    'inputParameters', jsonb_build_object('currency', 'INR'),
    'credentials', '{"requiredCredentials": [{"role": "BUYER", "credentialType": ["VerifiableCredential", "CustomerCredential"]}]}'::jsonb,
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'supplier-' || (j % 10) || '.example.com',
                           'roleInputs', jsonb_build_object('pricePerKWh', 6 + (j % 5) * 0.5)),
        jsonb_build_object('role', 'BUYER', 'filled', false, 'filledBy', NULL)),
    'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'meter', 'sourceType', 'METER_READING',
                                                             'source', jsonb_build_object('era', 'mc-' || j || '.meters.example.com'))),
    'revenueFlows', jsonb_build_object('flows', jsonb_build_array(jsonb_build_object('from', 'BUYER', 'to', 'SELLER',
                                             'formula', 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.meter.importedKWh'))))::deg.contract,
    'PENDING'
  FROM generate_series(1, :n_claim) j;
CREATE TABLE public.crash_driver AS
SELECT j, ('driver-' || j || '.ev.example.net')::deg.era AS era,
       deg.credential_issue(k.did, k.secret_key, ('driver-' || j || '.ev.example.net')::deg.era, ARRAY['CustomerCredential'],
                            jsonb_build_object('customerId', 'C-' || lpad(j::text, 6, '0')),
                            '2025-01-01T00:00:00Z', '2035-01-01T00:00:00Z') AS credential
  FROM generate_series(1, :n_claim) j, public.crash_issuer k;
ALTER TABLE public.crash_issuer DROP COLUMN secret_key;
ANALYZE deg.contracts;
ANALYZE public.crash_driver;

-- the batches of claims, both safe to run again: they claim the batch's contracts not claimed yet.
-- All at once: one statement, one transaction.
CREATE FUNCTION public.crash_claims_at_once(first integer, last integer) RETURNS bigint
LANGUAGE sql AS $$
    WITH claimed AS (
        INSERT INTO deg.role_claims (contract_id, role, participant, credentials)
        SELECT 'cc-' || lpad(d.j::text, 5, '0'), 'BUYER', d.era, ARRAY[d.credential]
          FROM public.crash_driver d
         WHERE d.j BETWEEN first AND last
           AND NOT EXISTS (SELECT 1 FROM deg.role_claims c WHERE c.contract_id = 'cc-' || lpad(d.j::text, 5, '0'))
         ORDER BY d.j
        RETURNING 1)
    SELECT count(*) FROM claimed
$$;
-- One claim per statement, a commit after every group_size contracts (CALL it outside a transaction).
CREATE PROCEDURE public.crash_claims_in_groups(first integer, last integer, group_size integer)
LANGUAGE plpgsql AS $$
DECLARE
    d public.crash_driver;
BEGIN
    FOR d IN SELECT * FROM public.crash_driver WHERE j BETWEEN first AND last ORDER BY j LOOP
        IF NOT EXISTS (SELECT 1 FROM deg.role_claims c WHERE c.contract_id = 'cc-' || lpad(d.j::text, 5, '0')) THEN
            INSERT INTO deg.role_claims (contract_id, role, participant, credentials)
            VALUES ('cc-' || lpad(d.j::text, 5, '0'), 'BUYER', d.era, ARRAY[d.credential]);
        END IF;
        IF (d.j - first + 1) % group_size = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
END $$;
