-- pgTAP: billing — hand-computed settlements through deg.contract_billing and
-- deg.contract_quality: an EV charging session, a fixed-price P2P trade with
-- wheeling, a time-of-use price over 96 quarter hours, money rounding, bindings
-- to a user's own tables, and duplicate telemetry.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;
SET TimeZone = 'UTC';

SELECT plan(61);

-- Money rounding written out independently of deg: half to even at the given
-- number of places, symmetric around zero.
CREATE FUNCTION pg_temp.half_even(x numeric, places integer) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT sign(x) * (CASE WHEN frac > 0.5 THEN whole + 1
                           WHEN frac < 0.5 THEN whole
                           ELSE whole + mod(whole, 2) END) / 10::numeric ^ places
      FROM (SELECT floor(abs(x) * 10::numeric ^ places) AS whole,
                   abs(x) * 10::numeric ^ places - floor(abs(x) * 10::numeric ^ places) AS frac) s
$$;

-- a contract's lines, in a stable order, with the columns the tests compare
CREATE FUNCTION pg_temp.lines(id text, period tstzrange)
RETURNS TABLE (kind text, line text, payer_role text, payer text, payee_role text, payee text,
               amount numeric, currency text, quantity numeric)
LANGUAGE sql AS $$
    SELECT kind, line, payer_role, payer::text, payee_role, payee::text, amount, currency,
           CASE WHEN kind = 'flow' THEN quantity END   -- a penalty's quantity is not specified
      FROM deg.contract_billing(id, period) ORDER BY kind, line
$$;

-- ============ 1. an EV charging session (SPEC.md section 6) ============
-- The CPO sells at 18 INR/kWh; the CDR of the session says 12.345 kWh in 30 minutes.
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('ev-1', '{
  "@type": "EnergyContractEVCharging", "contractId": "ev-1", "status": "ACTIVE", "createdAt": "2024-12-15T09:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "ecopower-charging.example.com",
             "roleInputs": {"pricePerKWh": 18, "currency": "INR", "connectorType": "CCS2"}},
            {"role": "BUYER", "filled": true, "filledBy": "driver-042@ev.example.net"}],
  "telemetrySources": [{"sourceId": "cdr-ev-charger-ccs2-001", "sourceType": "CHARGE_DATA_RECORD",
                        "source": {"era": "IN*ECO*BTM*01*CCS2*A"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER",
       "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr-ev-charger-ccs2-001.energyKWh"}]},
  "qualityMetrics": {"metrics": [{"metricId": "averageChargingPower", "unit": "kW", "target": 20,
       "formula": "telemetrySources.cdr-ev-charger-ccs2-001.energyKWh / ((telemetrySources.cdr-ev-charger-ccs2-001.endTime - telemetrySources.cdr-ev-charger-ccs2-001.startTime) / 3600)"}]}
}', 'ACTIVE');
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh) VALUES
    ('ev-s-1', 'IN*ECO*BTM*01*CCS2*A', '2024-12-15 10:00', '2024-12-15 10:30', 12.345),
    -- another charger's session and one on the next day are not this contract's period
    ('ev-s-2', 'IN*ECO*BTM*01*CCS2*B', '2024-12-15 10:00', '2024-12-15 11:00', 40),
    ('ev-s-3', 'IN*ECO*BTM*01*CCS2*A', '2024-12-16 08:00', '2024-12-16 09:00', 7);

SELECT results_eq($$SELECT * FROM pg_temp.lines('ev-1', '[2024-12-15, 2024-12-16)')$$,
    $$VALUES ('flow', '1', 'BUYER', 'driver-042@ev.example.net', 'SELLER', 'ecopower-charging.example.com',
              222.21, 'INR', 12.345)$$,
    'EV session: the driver pays the CPO 18 INR/kWh x 12.345 kWh = 222.21 INR');
SELECT results_eq($$SELECT metric, value, target_min, target_max, met, intervals, valued_intervals
                      FROM deg.contract_quality('ev-1', '[2024-12-15, 2024-12-16)')$$,
    $$VALUES ('averageChargingPower', 24.69, 20::numeric, NULL::numeric, true, 1, 1)$$,
    'averageChargingPower = 12.345 kWh / 0.5 h = 24.69 kW, at least the target of 20 kW: met');
SELECT results_eq($$SELECT amount, quantity FROM deg.contract_billing('ev-1', '[2024-12-16, 2024-12-17)')$$,
    $$VALUES (126.00, 7::numeric)$$, 'the next day bills only that day''s session: 18 x 7 = 126.00');

-- Hourly settlement intervals, a per-session fee and a penalty: every hour is
-- evaluated on its own sessions, metrics are averaged over the hours that have one.
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('ev-2', '{
  "contractId": "ev-2", "status": "ACTIVE", "createdAt": "2024-12-15T09:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "ecopower-charging.example.com",
             "roleInputs": {"pricePerKWh": 18, "currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "fleet-7.example.com"}],
  "inputParameters": {"settlementInterval": "PT1H"},
  "telemetrySources": [{"sourceId": "cdr", "sourceType": "CHARGE_DATA_RECORD", "source": {"era": "IN*ECO*BTM*01*TYPE2*A"}}],
  "revenueFlows": {"flows": [
      {"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr.energyKWh"},
      {"from": "BUYER", "to": "SELLER", "formula": "telemetrySources.cdr.sessions × 10", "description": "session fee"}]},
  "qualityMetrics": {"metrics": [{"metricId": "averageChargingPower", "unit": "kW", "target": 20,
       "formula": "telemetrySources.cdr.energyKWh / ((telemetrySources.cdr.endTime - telemetrySources.cdr.startTime) / 3600)",
       "penalty": {"appliedTo": "SELLER",
                   "formula": "max(0, 20 - telemetrySources.cdr.energyKWh / ((telemetrySources.cdr.endTime - telemetrySources.cdr.startTime) / 3600)) × 2"}}]}
}', 'ACTIVE');
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh) VALUES
    ('ev2-a', 'IN*ECO*BTM*01*TYPE2*A', '2024-12-15 10:00', '2024-12-15 10:30', 12.345),  -- 24.69 kW
    ('ev2-b', 'IN*ECO*BTM*01*TYPE2*A', '2024-12-15 11:00', '2024-12-15 12:00', 5),       -- 5 kW
    ('ev2-c', 'IN*ECO*BTM*01*TYPE2*A', '2024-12-15 11:15', '2024-12-15 11:45', 2.5);     -- same hour
-- hour 10: 24.69 kW, no penalty; hour 11: 7.5 kWh from the first start (11:00) to the
-- last end (12:00) = 7.5 kW, penalty (20 - 7.5) x 2 = 25
SELECT results_eq($$SELECT metric, value, met, intervals, valued_intervals, penalty, currency, penalty_payer::text, penalty_payee::text
                      FROM deg.contract_quality('ev-2', '[2024-12-15, 2024-12-16)')$$,
    $$VALUES ('averageChargingPower', 16.095, false, 24, 2, 25.00, 'INR', 'ecopower-charging.example.com', 'fleet-7.example.com')$$,
    'hourly: the metric is the average of 24.69 and 7.5 kW over the 2 hours with sessions (16.095 < 20: not met), the penalty 25.00 INR');
SELECT results_eq($$SELECT * FROM pg_temp.lines('ev-2', '[2024-12-15, 2024-12-16)')$$,
    $$VALUES ('flow', '1', 'BUYER', 'fleet-7.example.com', 'SELLER', 'ecopower-charging.example.com', 357.21, 'INR', 19.845),
             ('flow', '2', 'BUYER', 'fleet-7.example.com', 'SELLER', 'ecopower-charging.example.com', 30.00, 'INR', NULL),
             ('penalty', 'averageChargingPower', 'SELLER', 'ecopower-charging.example.com', 'BUYER', 'fleet-7.example.com',
              25.00, 'INR', NULL)$$,
    'hourly lines: 18 x 19.845 kWh = 357.21, 3 sessions x 10 = 30.00, and the SELLER pays the penalty to the BUYER');
-- a session charged under a contract (OCPI authorization_reference) is billed to that contract alone
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh, contract_id) VALUES
    ('ev2-d', 'IN*ECO*BTM*01*TYPE2*A', '2024-12-15 13:00', '2024-12-15 13:30', 7, 'ev-other'),
    ('ev2-e', 'IN*ECO*BTM*01*TYPE2*A', '2024-12-15 14:00', '2024-12-15 14:30', 1, 'ev-2');
SELECT results_eq($$SELECT line, amount, quantity FROM pg_temp.lines('ev-2', '[2024-12-15, 2024-12-16)') WHERE kind = 'flow'$$,
    $$VALUES ('1', 375.21, 20.845), ('2', 40.00, NULL::numeric)$$,
    'sessions of the EVSE: those charged under another contract are not billed, those under this one are');
DELETE FROM deg.charge_data_records WHERE session_id IN ('ev2-d', 'ev2-e');

-- ============ 2. fixed-price P2P with wheeling (SPEC.md sections 7 and 12) ============
CREATE FUNCTION pg_temp.p2p(id text, flows text) RETURNS deg.contract LANGUAGE sql AS $$
    SELECT ('{"@type": "EnergyContractP2PTrade", "contractId": "' || id || '", "status": "ACTIVE",
      "createdAt": "2024-10-04T10:00:00Z",
      "roles": [{"role": "SELLER", "filled": true, "filledBy": "bpp.energy-provider.com",
                 "roleInputs": {"sourceMeterId": "100200300", "sourceType": "SOLAR", "pricePerKWh": 0.15, "currency": "USD"}},
                {"role": "BUYER", "filled": true, "filledBy": "bap.energy-consumer.com",
                 "roleInputs": {"targetMeterId": "98765456", "contractedQuantity": 10.0,
                                "tradeStartTime": "2024-10-04T10:00:00Z", "tradeEndTime": "2024-10-04T18:00:00Z"}},
                {"role": "GRID_OPERATOR", "filled": true, "filledBy": "example-transmission-bpp.com",
                 "roleInputs": {"wheelingCharges": 0.025, "current_buyer_trades_total": 5.0,
                                "current_seller_trade_total": 20.0, "buyer_trade_cap": 50.0, "seller_trade_cap": 100.0}}],
      "revenueFlows": {"netZero": true, "flows": ' || flows || '}}')::deg.contract
$$;
-- settled on actuals: deliveredQuantity is the metered energy allocated to the trade
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('p2p-actuals', pg_temp.p2p('p2p-actuals', '[
    {"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × deliveredQuantity"},
    {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "deliveredQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges"}]'),
    'ACTIVE');
INSERT INTO deg.trade_allocations (contract_id, meter, allocation_interval, allocated_kwh) VALUES
    ('p2p-actuals', '100200300.meters.example.com', '[2024-10-04 10:00, 2024-10-04 12:00)', 4.2),
    ('p2p-actuals', '100200300.meters.example.com', '[2024-10-04 12:00, 2024-10-04 14:00)', 3.5),
    ('p2p-actuals', '100200300.meters.example.com', '[2024-10-04 14:00, 2024-10-04 18:00)', 2.3),
    ('p2p-actuals', '100200300.meters.example.com', '[2024-10-05 10:00, 2024-10-05 12:00)', 9.8);
SELECT results_eq($$SELECT * FROM pg_temp.lines('p2p-actuals', '[2024-10-04, 2024-10-05)')$$,
    $$VALUES ('flow', '1', 'BUYER', 'bap.energy-consumer.com', 'SELLER', 'bpp.energy-provider.com', 1.50, 'USD', 10.0),
             ('flow', '2', 'BUYER', 'bap.energy-consumer.com', 'GRID_OPERATOR', 'example-transmission-bpp.com', 0.25, 'USD', 10.0)$$,
    'P2P: 10 kWh delivered (4.2 + 3.5 + 2.3): the buyer pays the seller 0.15 x 10 = 1.50 and the grid operator 0.025 x 10 = 0.25');
SELECT is((SELECT sum(amount) FROM deg.contract_billing('p2p-actuals', '[2024-10-04, 2024-10-05)')), 1.75,
    'the settlement cycle amount is 1.75 USD, as in the DEG example');
-- 9.8 kWh (the example's in-progress delivery): 0.025 x 9.8 = 0.245 rounds half to even, to 0.24
SELECT results_eq($$SELECT line, amount, quantity FROM deg.contract_billing('p2p-actuals', '[2024-10-05, 2024-10-06)') ORDER BY line$$,
    $$VALUES ('1', 1.47, 9.8), ('2', 0.24, 9.8)$$,
    'P2P next day: 9.8 kWh gives 1.47 and 0.245 -> 0.24 (half to even)');
-- The DEG example's own flows read the contracted quantity: no telemetry, so
-- they are one-off, billed once, in the period that holds createdAt.
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('p2p-contracted', pg_temp.p2p('p2p-contracted', '[
    {"from": "BUYER", "to": "SELLER", "formula": "roles.BUYER.roleInputs.contractedQuantity × roles.SELLER.roleInputs.pricePerKWh"},
    {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "roles.BUYER.roleInputs.contractedQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges"}]'),
    'ACTIVE');
SELECT results_eq($$SELECT line, amount FROM deg.contract_billing('p2p-contracted', '[2024-10-04, 2024-10-05)') ORDER BY line$$,
    $$VALUES ('1', 1.50), ('2', 0.25)$$, 'flows on the contracted quantity are billed in the period of createdAt');
SELECT is_empty($$SELECT * FROM deg.contract_billing('p2p-contracted', '[2024-10-05, 2024-10-06)')$$,
    'and never again in a later period');
SELECT is_empty($$SELECT * FROM deg.contract_billing('p2p-contracted', '[2024-10-04 11:00, 2024-10-05)')$$,
    'nor in a period that starts after createdAt');

-- ============ 3. a time-of-use price over 96 quarter hours ============
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('tou-1', '{
  "contractId": "tou-1", "status": "ACTIVE", "createdAt": "2025-03-01T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "retail.utility.example.com", "roleInputs": {"currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "home-12.prosumer.example.com"}],
  "inputParameters": {"settlementInterval": "PT15M"},
  "inputSignals": [{"signalId": "tou-price", "signalType": "PRICE", "source": {"era": "tariffs.utility.example.com"}}],
  "telemetrySources": [{"sourceId": "main-meter", "sourceType": "METER_READING", "source": {"era": "meter-12.prosumer.example.com"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER",
       "formula": "inputSignals.tou-price × telemetrySources.main-meter.importedKWh"}]}
}', 'ACTIVE');
-- 96 readings of 15 minutes with three decimals, and 96 prices with four; price i
-- comes into force 7 minutes before interval i starts, so the one in force at an
-- interval's start is not the one in force for most of it.
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
SELECT 'meter-12.prosumer.example.com',
       tstzrange('2025-03-02'::timestamptz + (i - 1) * interval '15 min', '2025-03-02'::timestamptz + i * interval '15 min'),
       round(0.05 + mod(i * 37, 101) * 0.0137, 3), 0
  FROM generate_series(1, 96) i;
INSERT INTO deg.signal_values (signal_id, valid, value)
SELECT 'tou-price',
       tstzrange('2025-03-02'::timestamptz + (i - 1) * interval '15 min' - interval '7 min',
                 CASE WHEN i < 96 THEN '2025-03-02'::timestamptz + i * interval '15 min' - interval '7 min' END),
       round(4 + mod(i * 53, 89) * 0.0731 + CASE WHEN i BETWEEN 69 AND 88 THEN 3.5 ELSE 0 END, 4)
  FROM generate_series(1, 96) i;
CREATE TEMP TABLE tou_expected AS
SELECT sum(s.value * r.imported_kwh) AS exact, sum(pg_temp.half_even(s.value * r.imported_kwh, 2)) AS rounded_each,
       sum(r.imported_kwh) AS kwh, count(*) AS n
  FROM deg.meter_readings r
  JOIN deg.signal_values s ON s.signal_id = 'tou-price' AND s.valid @> lower(r.reading_interval)
 WHERE r.meter = 'meter-12.prosumer.example.com';
SELECT is((SELECT n FROM tou_expected), 96::bigint, 'the independent computation prices 96 intervals');
SELECT isnt((SELECT pg_temp.half_even(exact, 2) FROM tou_expected), (SELECT rounded_each FROM tou_expected),
    'and rounding each interval would give other cents than rounding the sum (so the test tells them apart)');
SELECT results_eq($$SELECT amount, quantity, intervals, valued_intervals
                      FROM deg.contract_billing('tou-1', '[2025-03-02, 2025-03-03)')$$,
    $$SELECT pg_temp.half_even(exact, 2), kwh, 96, 96 FROM tou_expected$$,
    'time of use: sum over 96 quarter hours of (price in force at the start x kWh), rounded once');
SELECT is((SELECT amount FROM deg.contract_billing('tou-1', '[2025-03-02 06:00, 2025-03-02 07:00)')),
    (SELECT pg_temp.half_even(sum(s.value * r.imported_kwh), 2) FROM deg.meter_readings r
       JOIN deg.signal_values s ON s.signal_id = 'tou-price' AND s.valid @> lower(r.reading_interval)
      WHERE r.meter = 'meter-12.prosumer.example.com' AND r.reading_interval <@ '[2025-03-02 06:00, 2025-03-02 07:00)'::tstzrange),
    'a one-hour period bills its own 4 quarter hours');
-- the price that starts before the day (at 23:53) is in force at 00:00
SELECT is((SELECT amount FROM deg.contract_billing('tou-1', '[2025-03-02 00:00, 2025-03-02 00:15)')),
    (SELECT pg_temp.half_even(round(4 + mod(53, 89) * 0.0731, 4) * round(0.05 + mod(37, 101) * 0.0137, 3), 2)),
    'the first quarter hour takes the price that came into force 7 minutes before the day');

-- ============ 4. money rounding, currencies, directions, open roles ============
-- a two-party contract on one charger: price x energy, or price x a meter's net energy
CREATE FUNCTION pg_temp.k(id text, currency text, price numeric, formula text DEFAULT 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.src.energyKWh',
                          source_type text DEFAULT 'CHARGE_DATA_RECORD', extra jsonb DEFAULT '{}')
RETURNS void LANGUAGE sql AS $$
    INSERT INTO deg.contracts (contract_id, body, status)
    SELECT id, (jsonb_build_object(
        'contractId', id, 'status', 'ACTIVE', 'createdAt', '2025-01-01T00:00:00Z',
        'roles', jsonb_build_array(
            jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'seller.example.com',
                               'roleInputs', jsonb_strip_nulls(jsonb_build_object('pricePerKWh', price, 'currency', currency))),
            jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', 'buyer.example.com')),
        'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'src', 'sourceType', source_type,
                                                                 'source', jsonb_build_object('era', id || '.devices.example.com'))),
        'revenueFlows', jsonb_build_object('flows', jsonb_build_array(
            jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'formula', formula)))) || extra)::deg.contract, 'ACTIVE'
$$;
CREATE FUNCTION pg_temp.cdr(id text, kwh numeric, at timestamptz DEFAULT '2025-01-10 10:00') RETURNS void LANGUAGE sql AS $$
    INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh)
    VALUES (id || '@' || at, (id || '.devices.example.com')::deg.era, at, at + interval '30 min', kwh)
$$;
CREATE FUNCTION pg_temp.amount(id text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(amount::text, ',' ORDER BY line) FROM deg.contract_billing(id, '[2025-01-10, 2025-01-11)')
$$;

SELECT pg_temp.k('r-inr-down', 'INR', 10);  SELECT pg_temp.cdr('r-inr-down', 1.2345);
SELECT pg_temp.k('r-inr-up', 'INR', 10);    SELECT pg_temp.cdr('r-inr-up', 1.2355);
SELECT pg_temp.k('r-jpy-down', 'JPY', 25);  SELECT pg_temp.cdr('r-jpy-down', 0.5);
SELECT pg_temp.k('r-jpy-up', 'JPY', 25);    SELECT pg_temp.cdr('r-jpy-up', 0.54);
SELECT pg_temp.k('r-jpy', 'JPY', 27.5);     SELECT pg_temp.cdr('r-jpy', 3.3);
SELECT pg_temp.k('r-kwd-down', 'KWD', 0.0125); SELECT pg_temp.cdr('r-kwd-down', 98.76);
SELECT pg_temp.k('r-kwd-up', 'KWD', 0.0125);   SELECT pg_temp.cdr('r-kwd-up', 98.68);
SELECT pg_temp.k('r-kwd', 'KWD', 0.0125);      SELECT pg_temp.cdr('r-kwd', 10);
SELECT is(pg_temp.amount('r-inr-down'), '12.34', 'INR: 10 x 1.2345 = 12.345 rounds half to even, down to 12.34');
SELECT is(pg_temp.amount('r-inr-up'), '12.36', 'INR: 10 x 1.2355 = 12.355 rounds half to even, up to 12.36');
SELECT is(pg_temp.amount('r-jpy-down'), '12', 'JPY has no minor unit: 25 x 0.5 = 12.5 -> 12');
SELECT is(pg_temp.amount('r-jpy-up'), '14', 'JPY: 25 x 0.54 = 13.5 -> 14');
SELECT is(pg_temp.amount('r-jpy'), '91', 'JPY: 27.5 x 3.3 = 90.75 -> 91');
SELECT is(pg_temp.amount('r-kwd-down'), '1.234', 'KWD has 3 places: 0.0125 x 98.76 = 1.2345 -> 1.234');
SELECT is(pg_temp.amount('r-kwd-up'), '1.234', 'KWD: 0.0125 x 98.68 = 1.2335 -> 1.234');
SELECT is(pg_temp.amount('r-kwd'), '0.125', 'KWD: 0.0125 x 10 = 0.125 stays 0.125');

-- once per line, not per interval: two hours of 0.125 each make 0.25, not 0.12 + 0.12
SELECT pg_temp.k('r-once', 'INR', 10, extra => '{"inputParameters": {"settlementInterval": "PT1H"}}');
SELECT pg_temp.cdr('r-once', 0.0125, '2025-01-10 10:00');
SELECT pg_temp.cdr('r-once', 0.0125, '2025-01-10 11:00');
SELECT results_eq($$SELECT amount, quantity, valued_intervals FROM deg.contract_billing('r-once', '[2025-01-10, 2025-01-11)')$$,
    $$VALUES (0.25, 0.0250, 2)$$, 'a line is rounded once, after summing its intervals: 0.125 + 0.125 = 0.25');

-- a negative amount runs the other way: the meter exported more than it imported
SELECT pg_temp.k('r-negative', 'INR', 10, 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.src.netKWh', 'METER_READING');
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
VALUES ('r-negative.devices.example.com', '[2025-01-10 10:00, 2025-01-10 11:00)', 1, 2.2345);
SELECT results_eq($$SELECT from_role, to_role, payer_role, payer::text, payee_role, payee::text, amount, quantity
                      FROM deg.contract_billing('r-negative', '[2025-01-10, 2025-01-11)')$$,
    $$VALUES ('BUYER', 'SELLER', 'SELLER', 'seller.example.com', 'BUYER', 'buyer.example.com', 12.34, -1.2345)$$,
    'net -1.2345 kWh x 10 = -12.345: the SELLER pays the BUYER 12.34 (half to even, symmetric)');

-- currencies: unknown, added with its minor unit, missing
SELECT pg_temp.k('r-xts', 'XTS', 10);  SELECT pg_temp.cdr('r-xts', 1.25);
SELECT throws_ok($$SELECT * FROM deg.contract_billing('r-xts', '[2025-01-10, 2025-01-11)')$$, '22023',
    'contract r-xts is in currency XTS, which is not in deg.currencies', 'an unknown currency is refused, by name');
INSERT INTO deg.currencies (code, minor_unit, name) VALUES ('XTS', 1, 'testing code');
SELECT is(pg_temp.amount('r-xts'), '12.5', 'once added to deg.currencies with one place, 10 x 1.25 bills 12.5');
UPDATE deg.currencies SET minor_unit = 0 WHERE code = 'XTS';
SELECT is(pg_temp.amount('r-xts'), '12', 'and its minor unit decides the rounding: 12.5 -> 12 with none');
SELECT pg_temp.k('r-none', NULL, 10);  SELECT pg_temp.cdr('r-none', 1);
SELECT throws_ok($$SELECT * FROM deg.contract_billing('r-none', '[2025-01-10, 2025-01-11)')$$, '22023',
    'contract r-none states no currency', 'a contract without a currency cannot be billed');
SELECT pg_temp.k('r-param-currency', NULL, 10, extra => '{"inputParameters": {"currency": "EUR"}}');
SELECT pg_temp.cdr('r-param-currency', 1.005);
SELECT is((SELECT amount || ' ' || currency FROM deg.contract_billing('r-param-currency', '[2025-01-10, 2025-01-11)')),
    '10.05 EUR', 'inputParameters.currency names the currency too');

-- an open role: owed money is an error, a flow with nothing owed is no line
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('r-open', '{
  "contractId": "r-open", "status": "ACTIVE", "createdAt": "2025-01-01T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "seller.example.com", "roleInputs": {"pricePerKWh": 10, "currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "buyer.example.com"},
            {"role": "GRID_OPERATOR", "filled": false, "filledBy": null}],
  "telemetrySources": [{"sourceId": "src", "sourceType": "CHARGE_DATA_RECORD", "source": {"era": "r-open.devices.example.com"}}],
  "revenueFlows": {"flows": [
      {"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.src.energyKWh"},
      {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "roles.GRID_OPERATOR.roleInputs.wheelingCharges × telemetrySources.src.energyKWh"}]}
}', 'ACTIVE');
SELECT pg_temp.cdr('r-open', 2);
SELECT results_eq($$SELECT * FROM pg_temp.lines('r-open', '[2025-01-10, 2025-01-11)')$$,
    $$VALUES ('flow', '1', 'BUYER', 'buyer.example.com', 'SELLER', 'seller.example.com', 20.00, 'INR', 2::numeric)$$,
    'a flow to a grid operator that has not joined (its wheelingCharges unknown) is no line yet');
UPDATE deg.contracts SET body = jsonb_set(body::jsonb, '{revenueFlows,flows,1,formula}',
                                          '"0.5 × telemetrySources.src.energyKWh"')::deg.contract
 WHERE contract_id = 'r-open';
SELECT throws_ok($$SELECT * FROM deg.contract_billing('r-open', '[2025-01-10, 2025-01-11)')$$, '55000',
    'contract r-open, flow 2: 1.00 INR is owed but role GRID_OPERATOR is not filled',
    'money owed to a role nobody has taken is an error, not a silent loss');

-- a PENDING contract is not billed; bad arguments
SELECT pg_temp.k('r-pending', 'INR', 10, extra => '{"status": "PENDING"}');  SELECT pg_temp.cdr('r-pending', 1);
SELECT is_empty($$SELECT * FROM deg.contract_billing('r-pending', '[2025-01-10, 2025-01-11)')$$,
    'a PENDING contract has no lines');
SELECT throws_ok($$SELECT * FROM deg.contract_billing('r-inr-up', '[2025-01-10,)')$$, '22023', NULL,
    'an unbounded period is refused');
SELECT throws_ok($$SELECT * FROM deg.contract_billing('r-inr-up', 'empty')$$, '22023', NULL, 'an empty period is refused');
SELECT throws_ok($$SELECT * FROM deg.contract_billing('no-such-contract', '[2025-01-10, 2025-01-11)')$$, '42704',
    'contract no-such-contract does not exist', 'an unknown contract is named');

-- ============ 5. bindings to a user's own tables ============
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('b-1', '{
  "contractId": "b-1", "status": "ACTIVE", "createdAt": "2025-01-01T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "retailer.example.com", "roleInputs": {"currency": "EUR"}},
            {"role": "BUYER", "filled": true, "filledBy": "home-7.example.com"}],
  "inputParameters": {"settlementInterval": "PT1H"},
  "inputSignals": [{"signalId": "spot", "signalType": "PRICE", "source": {"era": "prices.exchange.example.com"}}],
  "telemetrySources": [{"sourceId": "home-meter", "sourceType": "METER_READING", "source": {"era": "meter-7.home.example.com"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER",
       "formula": "inputSignals.spot × telemetrySources.home-meter.importedKWh"}]}
}', 'ACTIVE');
-- the shipped tables hold other data for the same meter and signal: the bindings must win
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh) VALUES
    ('meter-7.home.example.com', '[2025-01-10 00:00, 2025-01-10 01:00)', 1000);
INSERT INTO deg.signal_values (signal_id, valid, value) VALUES ('spot', '[2025-01-01,)', 1000);
CREATE TABLE my_readings (meter_no text, period tstzrange, kwh_in numeric, kwh_out real, note text);
CREATE TABLE my_prices (t timestamptz, eur_per_kwh numeric(8, 4));
INSERT INTO my_readings VALUES
    ('M7', '[2025-01-10 00:00, 2025-01-10 01:00)', 2, 0, 'x'),
    ('M7', '[2025-01-10 01:00, 2025-01-10 02:00)', 3, 0.5, 'x'),
    ('M8', '[2025-01-10 01:00, 2025-01-10 02:00)', 100, 0, 'another meter');
-- prices at instants: each holds until the next
INSERT INTO my_prices VALUES ('2025-01-09 23:30', 0.10), ('2025-01-10 00:30', 0.20), ('2025-01-10 01:00', 0.30),
                             ('2025-01-10 05:00', 0.50);

SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                   VALUES ('b-1', 'telemetrySources.nope', 'my_readings', 'period', '{"importedKWh": "kwh_in"}')$$,
    '42704', 'contract b-1 has no telemetry source or input signal "telemetrySources.nope"',
    'a binding for a source the contract does not have is refused');
SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                   VALUES ('b-1', 'telemetrySources.home-meter', 'my_readings', 'period', '{"importedKWh": "kwh_missing"}')$$,
    '42703', 'relation my_readings has no column "kwh_missing" (field importedKWh)', 'a missing value column is refused');
SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                   VALUES ('b-1', 'telemetrySources.home-meter', 'my_readings', 'period', '{"importedKWh": "note"}')$$,
    '42804', 'column "note" of my_readings is text; a field is a number or a timestamptz', 'a text value column is refused');
SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                   VALUES ('b-1', 'telemetrySources.home-meter', 'my_readings', 'note', '{"importedKWh": "kwh_in"}')$$,
    '42804', 'time_column "note" of my_readings is text, not tstzrange or timestamptz', 'a time column of the wrong type is refused');
SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, key_column, key_value, time_column, value_columns)
                   VALUES ('b-1', 'telemetrySources.home-meter', 'my_readings', 'meter', 'M7', 'period', '{"importedKWh": "kwh_in"}')$$,
    '42703', 'relation my_readings has no column "meter" (key_column)', 'a missing key column is refused');
SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                   VALUES ('b-1', 'inputSignals.spot', 'my_prices', 't', '{"price": "eur_per_kwh"}')$$,
    '22023', 'a signal binding maps the field "value" to a column', 'a signal binding needs a value column');
SELECT throws_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                   VALUES ('b-1', 'inputSignals.spot', 'no_such_table', 't', '{"value": "eur_per_kwh"}')$$,
    '42P01', NULL, 'a relation that does not exist is refused');
SELECT is((SELECT count(*)::int FROM deg.telemetry_bindings WHERE contract_id = 'b-1'), 0, 'refused bindings leave no row');

SELECT lives_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, key_column, key_value, time_column, value_columns)
                  VALUES ('b-1', 'telemetrySources.home-meter', 'my_readings', 'meter_no', 'M7', 'period',
                          '{"importedKWh": "kwh_in", "exportedKWh": "kwh_out"}')$$,
    'a meter source bound to a table of readings (key column, range column, numeric and real values)');
SELECT lives_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
                  VALUES ('b-1', 'inputSignals.spot', 'my_prices', 't', '{"value": "eur_per_kwh"}')$$,
    'a price signal bound to a table of instants');
SELECT results_eq($$SELECT ref, bound_to FROM deg.contract_connections WHERE contract_id = 'b-1' ORDER BY ref$$,
    $$VALUES ('inputSignals.spot', 'my_prices'), ('telemetrySources.home-meter', 'my_readings')$$,
    'contract_connections shows where each feed is read from');
-- hour 00: price at 00:00 is 0.10 (from 23:30 until 00:30) x 2 kWh; hour 01: 0.30 x 3 kWh
SELECT results_eq($$SELECT amount, quantity, valued_intervals FROM deg.contract_billing('b-1', '[2025-01-10, 2025-01-11)')$$,
    $$VALUES (1.10, 5::numeric, 2)$$,
    'billed from the bound tables only: 0.10 x 2 + 0.30 x 3 = 1.10 EUR (meter M7 only, each price until the next)');
SELECT results_eq($$SELECT amount FROM deg.contract_billing('b-1', '[2025-01-10 06:00, 2025-01-10 07:00)')$$,
    $$VALUES (0.00)$$, 'an hour without readings owes nothing');
UPDATE deg.telemetry_bindings SET value_columns = '{"importedKWh": "kwh_out"}' WHERE ref = 'telemetrySources.home-meter';
SELECT is((SELECT amount FROM deg.contract_billing('b-1', '[2025-01-10, 2025-01-11)')), 0.15,
    'rebinding a field to another column bills it: 0.30 x 0.5 = 0.15');
SELECT throws_ok($$UPDATE deg.telemetry_bindings SET value_columns = '{"importedKWh": "note"}'
                    WHERE ref = 'telemetrySources.home-meter'$$, '42804', NULL, 'an update is checked like an insert');

-- a charge data record source bound to a table of sessions with start and end columns
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'b-ev', jsonb_set(body::jsonb, '{contractId}', '"b-ev"')::deg.contract, 'ACTIVE' FROM deg.contracts WHERE contract_id = 'ev-1';
CREATE TABLE my_sessions (evse text, started timestamptz, ended timestamptz, kwh numeric);
INSERT INTO my_sessions VALUES ('A', '2024-12-15 10:00', '2024-12-15 10:30', 12.345), ('B', '2024-12-15 10:00', '2024-12-15 11:00', 99);
SELECT lives_ok($$INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, key_column, key_value, time_column, end_column, value_columns)
                  VALUES ('b-ev', 'telemetrySources.cdr-ev-charger-ccs2-001', 'my_sessions', 'evse', 'A', 'started', 'ended',
                          '{"energyKWh": "kwh", "startTime": "started", "endTime": "ended"}')$$,
    'a CDR source bound to a table of sessions (timestamptz start and end, times as fields)');
SELECT results_eq($$SELECT q.value, b.amount FROM deg.contract_quality('b-ev', '[2024-12-15, 2024-12-16)') q,
                          deg.contract_billing('b-ev', '[2024-12-15, 2024-12-16)') b$$,
    $$VALUES (24.69, 222.21)$$, 'the bound session bills as the shipped CDR table does: 24.69 kW, 222.21 INR');

-- ============ 6. duplicate telemetry is refused, not summed ============
SELECT throws_ok($$INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
                   VALUES ('meter-12.prosumer.example.com', '[2025-03-02 10:00, 2025-03-02 10:15)', 1)$$,
    '23505', NULL, 'the same meter and interval twice is refused');
SELECT throws_ok($$INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
                   VALUES ('METER-12.Prosumer.Example.COM', '[2025-03-02 10:00, 2025-03-02 10:15)', 1)$$,
    '23505', NULL, 'also when the ERA is written in other case');
SELECT throws_ok($$INSERT INTO deg.signal_values (signal_id, valid, value)
                   SELECT signal_id, valid, 1 FROM deg.signal_values WHERE signal_id = 'tou-price' LIMIT 1$$,
    '23505', NULL, 'the same signal and validity twice is refused');
SELECT throws_ok($$INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh)
                   VALUES ('ev-s-1', 'IN*ECO*BTM*01*CCS2*A', '2024-12-15 10:00', '2024-12-15 10:30', 12.345)$$,
    '23505', NULL, 'the same charging session twice is refused');
SELECT throws_ok($$INSERT INTO deg.trade_allocations (contract_id, meter, allocation_interval, allocated_kwh)
                   VALUES ('p2p-actuals', '100200300.meters.example.com', '[2024-10-04 10:00, 2024-10-04 12:00)', 4.2)$$,
    '23505', NULL, 'the same trade allocation twice is refused');
SELECT is((SELECT amount FROM deg.contract_billing('tou-1', '[2025-03-02 10:00, 2025-03-02 10:15)')),
    (SELECT pg_temp.half_even(s.value * r.imported_kwh, 2) FROM deg.meter_readings r
       JOIN deg.signal_values s ON s.signal_id = 'tou-price' AND s.valid @> lower(r.reading_interval)
      WHERE r.meter = 'meter-12.prosumer.example.com' AND lower(r.reading_interval) = '2025-03-02 10:00'),
    'the refused duplicate did not add to the bill');

SELECT * FROM finish();
ROLLBACK;
