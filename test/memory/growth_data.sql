-- The data of test/memory/growth.sh, for :n contracts (psql variable):
--   :n ACTIVE contracts, each with a meter and the time-of-use price signal
--   "tou-price" shared by all; flow: BUYER pays SELLER
--   inputSignals.tou-price × telemetrySources.meter.importedKWh per 15 minutes;
--   96 quarter-hour readings per meter on 2025-03-01 (96 × :n rows) and
--   96 prices;
--   24 × :n offers (a quarter as many as readings): price 1.0 .. 10.9 INR/kWh
--   (offer i: 1 + (i % 100) / 10), connector CCS2 for even i, Type2 for odd,
--   spread over a 100 km square around (12.5, 77.5);
--   :n intents for 20 kWh of CCS2 at most 5.95 INR/kWh within 200 km.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
CREATE EXTENSION deg;
SET jit = off;
\set period '[2025-03-01 00:00:00+00,2025-03-02 00:00:00+00)'

INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'tou-' || lpad(i::text, 6, '0'), jsonb_build_object(
         '@type', 'EnergyContract', 'contractId', 'tou-' || lpad(i::text, 6, '0'), 'status', 'ACTIVE',
         'createdAt', '2025-01-01T00:00:00Z',
         'roles', jsonb_build_array(
             jsonb_build_object('role', 'SELLER', 'filledBy', 'retail.utility.example.net', 'filled', true,
                                'roleInputs', '{}'::jsonb),
             jsonb_build_object('role', 'BUYER', 'filledBy', 'home-' || i || '.example.net', 'filled', true,
                                'roleInputs', '{}'::jsonb)),
         'inputParameters', jsonb_build_object('settlementInterval', 'PT15M', 'currency', 'INR'),
         'inputSignals', jsonb_build_array(jsonb_build_object(
             'signalId', 'tou-price', 'signalType', 'PRICE', 'unit', 'INR/kWh',
             'source', jsonb_build_object('era', 'tariffs.utility.example.net'))),
         'telemetrySources', jsonb_build_array(jsonb_build_object(
             'sourceId', 'meter', 'sourceType', 'METER_READING',
             'source', jsonb_build_object('era', 'meter-' || i || '.example.net'))),
         'revenueFlows', jsonb_build_object('flows', jsonb_build_array(jsonb_build_object(
             'from', 'BUYER', 'to', 'SELLER',
             'formula', 'inputSignals.tou-price × telemetrySources.meter.importedKWh',
             'description', 'time-of-use energy charge')))
       )::deg.contract, 'ACTIVE'
  FROM generate_series(1, :n) i;

INSERT INTO deg.signal_values (signal_id, valid, value, received_at)
SELECT 'tou-price', tstzrange(t, t + interval '15 min'), 4.5 + (q * 37 % 41) * 0.0625 + (q % 3) * 0.0011,
       lower(:'period'::tstzrange)
  FROM generate_series(0, 95) q, LATERAL (SELECT lower(:'period'::tstzrange) + q * interval '15 min' AS t) x;

-- one batch of every meter's reading per quarter hour, as they arrive
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh, received_at)
SELECT f.source_era, tstzrange(t, t + interval '15 min'),
       ((split_part(f.contract_id, '-', 2)::int * 7919 + q * 104729) % 2000) / 1000.0, 0, t + interval '15 min'
  FROM generate_series(0, 95) q,
       LATERAL (SELECT lower(:'period'::tstzrange) + q * interval '15 min' AS t) x,
       deg.contract_feeds f
 WHERE f.source_type = 'METER_READING'
 ORDER BY q, f.contract_id;

CREATE TABLE growth_intents AS
SELECT k, jsonb_build_object('role', 'BUYER', 'quantityKWh', 20, 'maxPricePerKWh', 5.95, 'currency', 'INR',
                             'location', jsonb_build_object('lat', 12.5 + (k % 7) * 0.01, 'lon', 77.5 - (k % 5) * 0.01),
                             'radiusMeters', 200000,
                             'requiredAttributes', '{"connectorType": "CCS2"}'::jsonb)::deg.energy_intent AS intent
  FROM generate_series(1, :n) k;

VACUUM ANALYZE deg.contracts, deg.contract_feeds, deg.meter_readings, deg.signal_values, growth_intents;
