-- Billing: the telemetry bundle, settlement intervals, rounding, lines and the ledger
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
SET TimeZone = 'UTC';
SET extra_float_digits = 0;

-- ---------- deg.telemetry: text form, fields, errors ----------
SELECT '{"telemetrySources.m": [{"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:15:00Z", "importedKWh": 1.5, "exportedKWh": 0},
                                {"from": "2024-01-01T00:15:00Z", "to": "2024-01-01T00:30:00Z", "importedKWh": 2.25}],
         "inputSignals.p": [{"from": "2024-01-01T00:00:00Z", "to": "2024-01-02T00:00:00Z", "value": 0.12}]}'::deg.telemetry;
-- the text form reads back the same
SELECT t::text::deg.telemetry::text = t::text AS round_trip
  FROM (SELECT '{"a": [{"from": "2024-01-01T00:00:00+05:30", "to": "2024-01-01T01:00:00+05:30", "x": -0.000, "y": 1e3}]}'::deg.telemetry AS t) s;
SELECT deg.telemetry_merge('{"a": [{"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T01:00:00Z", "x": 1}]}',
                           '{"a": [{"from": "2024-01-01T01:00:00Z", "to": "2024-01-01T02:00:00Z", "x": 2}],
                             "b": [{"from": "2024-01-01T01:00:00Z", "to": "2024-01-01T02:00:00Z", "y": 3}]}');

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
SELECT n, pg_temp.err(format('SELECT %L::deg.telemetry', t)) AS error FROM (VALUES
    (1, '[]'),
    (2, '{"a": 1}'),
    (3, '{"a": []}'),
    (4, '{"a": [{"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T01:00:00Z"}]}'),
    (5, '{"a": [{"to": "2024-01-01T01:00:00Z", "x": 1}]}'),
    (6, '{"a": [{"from": "2024-01-01T02:00:00Z", "to": "2024-01-01T01:00:00Z", "x": 1}]}'),
    (7, '{"a": [{"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T01:00:00Z", "x": "1"}]}'),
    (8, '{"a": [{"from": "yesterday-ish", "to": "2024-01-01T01:00:00Z", "x": 1}]}'),
    (9, '{"a": [{"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T01:00:00Z", "x": 1}'),
    (10, '{"a": [1]}')) v(n, t)
ORDER BY n;

-- ---------- deg.telemetry_agg ----------
SELECT deg.telemetry_agg(ref, at, fields, v1, v2)
  FROM (VALUES ('telemetrySources.m', '[2024-01-01 00:00, 2024-01-01 00:15)'::tstzrange, 'importedKWh,exportedKWh', 1.5, 0.0),
               ('telemetrySources.m', '[2024-01-01 00:15, 2024-01-01 00:30)', 'importedKWh,exportedKWh', 2.0, NULL),
               ('telemetrySources.c', '[2024-01-01 10:00, 2024-01-01 11:00)', 'energyKWh', 7, 99),
               (NULL, '[2024-01-01 10:00, 2024-01-01 11:00)', 'energyKWh', 7, 99)) v(ref, at, fields, v1, v2);
SELECT pg_temp.err($$SELECT deg.telemetry_agg('a', '[2024-01-01, 2024-01-02)', 'x,y', 1.0)$$);
SELECT pg_temp.err($$SELECT deg.telemetry_agg('a', '[2024-01-01,)', 'x', 1.0)$$);
SELECT pg_temp.err($$SELECT deg.telemetry_agg('a', '[2024-01-01, 2024-01-02)', 'x', 'text'::text)$$);
SELECT pg_temp.err($$SELECT deg.telemetry_agg(ref, '[2024-01-01, 2024-01-02)', f, 1.0, 2.0)
                      FROM (VALUES ('a', 'x'), ('a', 'x,y')) v(ref, f)$$);
-- integers, floats and timestamps are values too (timestamps as seconds since 1970)
SELECT deg.telemetry_agg('a', '[2024-01-01, 2024-01-02)', 'i,f,t', 7, 0.5::float8, '2024-01-01 00:00:01.5Z'::timestamptz);

-- ---------- money rounding ----------
SELECT x, deg.round_half_even(x, 2) AS cents, round(x, 2) AS numeric_round, deg.round_half_even(x, 0) AS units
  FROM (VALUES (0.125), (0.135), (-0.125), (2.5), (3.5), (-2.5), (1.005), (0.0049999)) v(x);

-- ---------- contract_lines on hand-made bundles ----------
CREATE TEMP TABLE k AS SELECT '{
  "contractId": "tou-1", "status": "ACTIVE", "createdAt": "2024-01-01T00:00:00Z",
  "inputParameters": {"currency": "INR", "settlementInterval": "PT1H"},
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "utility.example.com", "roleInputs": {"fixedFee": 10}},
            {"role": "BUYER", "filled": true, "filledBy": "home-1.example.com"}],
  "inputSignals": [{"signalId": "price", "signalType": "PRICE", "source": {"era": "utility.example.com"}}],
  "telemetrySources": [{"sourceId": "meter", "sourceType": "METER_READING", "source": {"era": "meter-1.example.com"}}],
  "revenueFlows": {"flows": [
     {"from": "BUYER", "to": "SELLER", "formula": "inputSignals.price × telemetrySources.meter.importedKWh"},
     {"from": "SELLER", "to": "BUYER", "formula": "telemetrySources.meter.exportedKWh × 3 - telemetrySources.meter.importedKWh"},
     {"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.fixedFee"}]},
  "qualityMetrics": {"metrics": [{"metricId": "net", "formula": "telemetrySources.meter.netKWh", "target": {"min": -1, "max": 1}},
                                 {"metricId": "readings", "formula": "telemetrySources.meter.sessions"}]}
}'::deg.contract AS c;
-- hour 0: two readings, hour 1: none, hour 2: one; the price changes at 02:30 (in force at the hour's start counts)
SELECT kind, id, from_role, to_role, amount, quantity, intervals, valued_intervals, target_min, target_max, met
  FROM k, deg.contract_lines(c, '[2024-01-01 00:00, 2024-01-01 03:00)',
    '{"telemetrySources.meter": [
        {"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:30:00Z", "importedKWh": 1.5, "exportedKWh": 0.25},
        {"from": "2024-01-01T00:30:00Z", "to": "2024-01-01T01:00:00Z", "importedKWh": 0.5, "exportedKWh": 0},
        {"from": "2024-01-01T02:00:00Z", "to": "2024-01-01T03:00:00Z", "importedKWh": 4, "exportedKWh": 1},
        {"from": "2024-01-01T03:00:00Z", "to": "2024-01-01T04:00:00Z", "importedKWh": 100, "exportedKWh": 0}]}',
    '{"inputSignals.price": [{"from": "2023-12-31T00:00:00Z", "to": "2024-01-01T02:30:00Z", "value": 0.10},
                            {"from": "2024-01-01T02:30:00Z", "to": "2024-01-02T00:00:00Z", "value": 0.30}]}');
-- the one-off fee is due only in the period holding createdAt
SELECT kind, id, amount FROM k, deg.contract_lines(c, '[2024-01-02, 2024-01-03)') WHERE id = '3';
-- without telemetry: nothing is valued, nothing is made up
SELECT kind, id, amount, valued_intervals FROM k, deg.contract_lines(c, '[2024-01-01 00:00, 2024-01-01 03:00)') ORDER BY kind, id;
SELECT pg_temp.err($$SELECT * FROM k, deg.contract_lines(c, '[2024-01-01,)')$$);
SELECT * FROM k, deg.contract_lines(jsonb_set(c::jsonb, '{inputParameters,settlementInterval}', '"-PT1H"')::deg.contract, '[2024-01-01, 2024-01-02)');
SELECT pg_temp.err($$SELECT * FROM k, deg.contract_lines(jsonb_set(c::jsonb, '{inputParameters,settlementInterval}', '"PT1S"')::deg.contract, '[2024-01-01, 2024-02-01)')$$);

-- ---------- contract_billing and settle on the shipped tables ----------
INSERT INTO deg.contracts (contract_id, body, status) SELECT 'tou-1', c, 'ACTIVE' FROM k;
SELECT ref, kind, source_type, source_era, signal_id FROM deg.contract_feeds ORDER BY ref;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh) VALUES
    ('meter-1.example.com', '[2024-01-01 00:00, 2024-01-01 00:30)', 1.5, 0.25),
    ('meter-1.example.com', '[2024-01-01 00:30, 2024-01-01 01:00)', 0.5, 0),
    ('meter-1.example.com', '[2024-01-01 02:00, 2024-01-01 03:00)', 4, 1);
INSERT INTO deg.signal_values (signal_id, valid, value) VALUES
    ('price', '[2023-12-31, 2024-01-01 02:30)', 0.10), ('price', '[2024-01-01 02:30,)', 0.30);
SELECT pg_temp.err($$INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh) VALUES
                      ('meter-1.example.com', '[2024-01-01 00:00, 2024-01-01 00:30)', 9)$$);
SELECT kind, line, payer_role, payer, payee_role, payee, amount, currency, quantity, valued_intervals
  FROM deg.contract_billing('tou-1', '[2024-01-01 00:00, 2024-01-01 03:00)') ORDER BY line;
SELECT metric, value, target_min, target_max, met, valued_intervals FROM deg.contract_quality('tou-1', '[2024-01-01 00:00, 2024-01-01 03:00)');
SELECT pg_temp.err($$SELECT * FROM deg.contract_billing('nope', '[2024-01-01, 2024-01-02)')$$);
SELECT pg_temp.err($$SELECT * FROM deg.contract_billing('tou-1', 'empty')$$);

SELECT run_id, contracts, lines, entries_written, adjustments, totals
  FROM deg.settle('[2024-01-01 00:00, 2024-01-01 03:00)');
-- again: nothing new
SELECT run_id, entries_written, adjustments FROM deg.settle('[2024-01-01 00:00, 2024-01-01 03:00)');
-- a late reading: one adjustment per line it changes
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh) VALUES
    ('meter-1.example.com', '[2024-01-01 01:00, 2024-01-01 02:00)', 2, 0);
SELECT run_id, entries_written, adjustments FROM deg.settle('[2024-01-01 00:00, 2024-01-01 03:00)');
SELECT entry_id, run_id, line, payer, payee, amount, signed_amount, quantity, adjusts, prev_digest IS NULL AS first
  FROM deg.ledger ORDER BY entry_id;
SELECT participant, received, paid, net FROM deg.net_positions ORDER BY participant;
SELECT count(*) AS broken FROM deg.ledger_verify();
SELECT pg_temp.err($$DELETE FROM deg.ledger$$);
SELECT pg_temp.err($$UPDATE deg.ledger SET amount = 0$$);
SELECT pg_temp.err($$TRUNCATE deg.ledger$$);
SELECT pg_temp.err($$SELECT deg.settle('[2024-01-01 00:00, 2024-01-01 02:00)')$$);
SELECT pg_temp.err($$SELECT deg.settle('[2999-01-01, 2999-01-02)')$$);
