-- pgTAP: settlement — deg.settle_due and the collection delay, the append-only
-- ledger (idempotent runs, adjustments, late data), the digest chain, the
-- analyst views, and net zero after rounding on thousands of random contracts.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;
SET TimeZone = 'UTC';

SELECT plan(65);

-- money rounding written out independently of deg: half to even, symmetric
CREATE FUNCTION pg_temp.half_even(x numeric, places integer) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT sign(x) * (CASE WHEN frac > 0.5 THEN whole + 1
                           WHEN frac < 0.5 THEN whole
                           ELSE whole + mod(whole, 2) END) / 10::numeric ^ places
      FROM (SELECT floor(abs(x) * 10::numeric ^ places) AS whole,
                   abs(x) * 10::numeric ^ places - floor(abs(x) * 10::numeric ^ places) AS frac) s
$$;
-- a billing line's amount, positive when its from role pays its to role
CREATE FUNCTION pg_temp.signed(l deg.billing_line) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN l.payer_role = l.from_role THEN l.amount ELSE -l.amount END
$$;
CREATE FUNCTION pg_temp.iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- ============ 1. settle_due: every due period since the last run, and the lookback ============
-- A contract made five hours ago, with a quarter-hourly meter since then and a
-- one-off connection fee; the contracts row itself is inserted now.
SET deg.collection_delay = '30min';
SET deg.lookback = 1;
CREATE TEMP TABLE clock AS
SELECT now() - interval '5 hours' AS created, date_trunc('hour', now() - interval '5 hours') AS t0,
       date_trunc('hour', now() - interval '3 hours') AS due_3h, date_trunc('hour', now() - interval '30 minutes') AS due;
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'd-1', jsonb_build_object('contractId', 'd-1', 'status', 'ACTIVE', 'createdAt', pg_temp.iso(created),
    'roles', '[{"role": "SELLER", "filled": true, "filledBy": "utility.example.com", "roleInputs": {"pricePerKWh": 6.25, "currency": "INR"}},
               {"role": "BUYER", "filled": true, "filledBy": "home-d.example.com"}]'::jsonb,
    'telemetrySources', '[{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "meter-d.example.com"}}]'::jsonb,
    'revenueFlows', '{"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.importedKWh"},
                                {"from": "BUYER", "to": "SELLER", "formula": "25", "description": "connection fee"}]}'::jsonb)::deg.contract,
       'ACTIVE'
  FROM clock;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
SELECT 'meter-d.example.com', tstzrange(t, t + interval '15 min'), 0.101 + mod(extract(epoch FROM t)::bigint / 900, 7) * 0.113
  FROM clock, generate_series(t0, now() - interval '15 min', interval '15 min') t;
-- what each hour owes, computed here
CREATE FUNCTION pg_temp.d1_hour(h timestamptz) RETURNS numeric LANGUAGE sql AS $$
    SELECT pg_temp.half_even(coalesce(sum(6.25 * imported_kwh), 0), 2) FROM deg.meter_readings
     WHERE meter = 'meter-d.example.com' AND lower(reading_interval) >= h AND lower(reading_interval) < h + interval '1 hour'
$$;

CREATE TEMP TABLE due_runs AS SELECT 1 AS call, * FROM deg.settle_due('1 hour', '3 hours');
SELECT results_eq($$SELECT lower(period) FROM due_runs ORDER BY 1$$,
    $$SELECT generate_series(t0, due_3h - interval '1 hour', interval '1 hour') FROM clock$$,
    'the first settle_due settles every hour from the one the contract was made in to the last one 3 hours old (its collection_delay argument)');
INSERT INTO due_runs SELECT 2, * FROM deg.settle_due('1 hour');
SELECT results_eq($$SELECT lower(period) FROM due_runs WHERE call = 2 ORDER BY 1$$,
    $$SELECT generate_series(due_3h - interval '1 hour', due - interval '1 hour', interval '1 hour') FROM clock$$,
    'the next settles on to the last hour 30 minutes old (deg.collection_delay), re-checking deg.lookback = 1 hour before');
SELECT is((SELECT entries_written FROM due_runs WHERE call = 2 AND upper(period) = (SELECT due_3h FROM clock)), 0,
    'the re-checked hour had nothing new');
SELECT results_eq($$SELECT lower(l.period), l.line, l.signed_amount FROM deg.ledger l WHERE l.contract_id = 'd-1' ORDER BY 1, 2$$,
    $$SELECT h, '1', pg_temp.d1_hour(h) FROM clock, generate_series(t0, due - interval '1 hour', interval '1 hour') h
      UNION ALL SELECT t0, '2', 25 FROM clock ORDER BY 1, 2$$,
    'each due hour bills its readings; the connection fee is billed once, in the hour of createdAt; nothing newer is settled');
-- late data: a correction in the last settled hour is found by the lookback
UPDATE deg.meter_readings SET imported_kwh = imported_kwh + 2 WHERE meter = 'meter-d.example.com'
   AND lower(reading_interval) = (SELECT due - interval '1 hour' FROM clock);
INSERT INTO due_runs SELECT 3, * FROM deg.settle_due('1 hour');
SELECT results_eq($$SELECT lower(period), entries_written, adjustments FROM due_runs WHERE call = 3$$,
    $$SELECT due - interval '1 hour', 1, 1 FROM clock$$, 'a re-run re-checks the last hour and writes one adjustment for its late reading');
SELECT is((SELECT amount FROM deg.ledger WHERE contract_id = 'd-1' AND adjusts IS NOT NULL), 12.50,
    'the adjustment is 2 kWh x 6.25 = 12.50');
-- a correction further back is outside deg.lookback until it is widened
UPDATE deg.meter_readings SET imported_kwh = imported_kwh + 1 WHERE meter = 'meter-d.example.com'
   AND lower(reading_interval) = (SELECT due - interval '3 hours' FROM clock);
INSERT INTO due_runs SELECT 4, * FROM deg.settle_due('1 hour');
SELECT is((SELECT sum(entries_written)::int FROM due_runs WHERE call = 4), 0, 'a correction 3 hours back is not re-checked with lookback 1');
SET deg.lookback = 3;
INSERT INTO due_runs SELECT 5, * FROM deg.settle_due('1 hour');
SELECT results_eq($$SELECT lower(period), entries_written FROM due_runs WHERE call = 5 ORDER BY 1$$,
    $$SELECT h, CASE WHEN h = due - interval '3 hours' THEN 1 ELSE 0 END
        FROM clock, generate_series(due - interval '3 hours', due - interval '1 hour', interval '1 hour') h$$,
    'with deg.lookback = 3 the three last hours are re-checked and the old correction is settled');
SELECT results_eq($$SELECT lower(l.period), sum(l.signed_amount) FROM deg.ledger l WHERE l.contract_id = 'd-1' AND l.line = '1'
                     GROUP BY 1 ORDER BY 1$$,
    $$SELECT h, pg_temp.d1_hour(h) FROM clock, generate_series(t0, due - interval '1 hour', interval '1 hour') h$$,
    'after the adjustments every hour''s line adds up to what its readings owe now');

-- the collection delay
SELECT throws_like($$SELECT deg.settle(tstzrange((SELECT due FROM clock), (SELECT due FROM clock) + interval '1 hour'))$$,
    'period % is not yet due: intervals are settled once they are 00:30:00 old (deg.collection_delay)',
    'a period younger than the collection delay is refused');
SELECT throws_ok($$SELECT deg.settle(tstzrange((SELECT due FROM clock), (SELECT due FROM clock) + interval '1 hour'))$$,
    '55000', NULL, 'with SQLSTATE 55000');
SET deg.collection_delay = '1d';
SELECT throws_ok($$SELECT deg.settle(tstzrange((SELECT due - interval '2 hours' FROM clock), (SELECT due - interval '1 hour' FROM clock)))$$,
    '55000', NULL, 'a settled hour is not due again under a collection delay of a day');
SET deg.collection_delay = '30min';
SELECT lives_ok($$SELECT deg.settle(tstzrange((SELECT due FROM clock), (SELECT due FROM clock) + interval '1 hour'), force => true)$$,
    'force => true settles it anyway');

-- ============ 2. the ledger: runs, idempotency, adjustments, late data ============
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('k-energy', '{
  "contractId": "k-energy", "status": "ACTIVE", "createdAt": "2025-01-09T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "retail.utility.example.com", "roleInputs": {"pricePerKWh": 8, "currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "home-1.example.com"}],
  "inputParameters": {"settlementInterval": "PT1H"},
  "telemetrySources": [{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "meter-1.example.com"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.netKWh"}]}
}', 'ACTIVE'), ('k-p2p', '{
  "@type": "EnergyContractP2PTrade", "contractId": "k-p2p", "status": "ACTIVE", "createdAt": "2025-01-09T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "bpp.energy-provider.com",
             "roleInputs": {"sourceMeterId": "100200300", "sourceType": "SOLAR", "pricePerKWh": 0.15, "currency": "USD"}},
            {"role": "BUYER", "filled": true, "filledBy": "bap.energy-consumer.com",
             "roleInputs": {"targetMeterId": "98765456", "contractedQuantity": 10.0,
                            "tradeStartTime": "2025-01-10T10:00:00Z", "tradeEndTime": "2025-01-10T18:00:00Z"}},
            {"role": "GRID_OPERATOR", "filled": true, "filledBy": "example-transmission-bpp.com", "roleInputs": {"wheelingCharges": 0.025}}],
  "revenueFlows": {"flows": [
      {"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × deliveredQuantity"},
      {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "deliveredQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges"}]}
}', 'ACTIVE'), ('k-ev', '{
  "contractId": "k-ev", "status": "ACTIVE", "createdAt": "2025-01-09T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "ecopower-charging.example.com", "roleInputs": {"pricePerKWh": 18, "currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "driver-042@ev.example.net"}],
  "telemetrySources": [{"sourceId": "cdr", "sourceType": "CHARGE_DATA_RECORD", "source": {"era": "IN*ECO*BTM*01*CCS2*A"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr.energyKWh"}]},
  "qualityMetrics": {"metrics": [{"metricId": "averageChargingPower", "unit": "kW", "target": 30,
       "formula": "telemetrySources.cdr.energyKWh / ((telemetrySources.cdr.endTime - telemetrySources.cdr.startTime) / 3600)",
       "penalty": {"appliedTo": "SELLER",
                   "formula": "max(0, 30 - telemetrySources.cdr.energyKWh / ((telemetrySources.cdr.endTime - telemetrySources.cdr.startTime) / 3600)) × 1.5"}}]}
}', 'ACTIVE'), ('k-pending', '{
  "contractId": "k-pending", "status": "PENDING", "createdAt": "2025-01-09T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "retail.utility.example.com", "roleInputs": {"pricePerKWh": 8, "currency": "INR"}},
            {"role": "BUYER", "filled": false, "filledBy": null}],
  "telemetrySources": [{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "meter-1.example.com"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.netKWh"}]}
}', 'PENDING');
-- k-energy: net 2.5 + (1.25 - 0.5) + (0 - 1) = 2.25 kWh x 8 = 18.00 INR
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh) VALUES
    ('meter-1.example.com', '[2025-01-10 10:00, 2025-01-10 11:00)', 2.5, 0),
    ('meter-1.example.com', '[2025-01-10 11:00, 2025-01-10 12:00)', 1.25, 0.5),
    ('meter-1.example.com', '[2025-01-10 12:00, 2025-01-10 13:00)', 0, 1);
-- k-p2p, settled on actuals: the seller meter exports 4.2 + 5.6 = 9.8 kWh in the
-- trade window (10:00-18:00; what it exports after is no part of the trade):
-- 1.47 USD to the seller, 0.245 -> 0.24 USD wheeling
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh) VALUES
    ('100200300', '[2025-01-10 10:00, 2025-01-10 14:00)', 0, 4.2),
    ('100200300', '[2025-01-10 14:00, 2025-01-10 18:00)', 0, 5.6),
    ('100200300', '[2025-01-10 18:00, 2025-01-10 19:00)', 0, 3);
-- k-ev: 12.345 kWh in 30 min = 24.69 kW < 30: 222.21 INR, penalty (30 - 24.69) x 1.5 = 7.965 -> 7.96 INR
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh)
VALUES ('k-ev-1', 'IN*ECO*BTM*01*CCS2*A', '2025-01-10 10:00', '2025-01-10 10:30', 12.345);

CREATE TEMP TABLE runs AS SELECT 1 AS n, * FROM deg.settle('[2025-01-10, 2025-01-11)');
SELECT results_eq($$SELECT contracts, lines, entries_written, adjustments, finished_at IS NOT NULL, totals FROM runs WHERE n = 1$$,
    $$VALUES (4, 6, 6, 0, true, '{"INR": {"amount": 248.17, "lines": 4}, "USD": {"amount": 1.71, "lines": 2}}'::jsonb)$$,
    'the first run: 4 started contracts (not the PENDING one), 6 lines written, totals per currency');
SELECT results_eq($$SELECT contract_id, kind, line, payer::text, payee::text, amount, signed_amount, currency,
                             CASE WHEN kind = 'flow' THEN quantity END, adjusts
                      FROM deg.ledger WHERE period = '[2025-01-10, 2025-01-11)' ORDER BY contract_id, kind, line$$,
    $$VALUES ('d-1', 'flow', '1', 'home-d.example.com', 'utility.example.com', 0.00, 0.00, 'INR', NULL::numeric, NULL::bigint),
             ('k-energy', 'flow', '1', 'home-1.example.com', 'retail.utility.example.com', 18.00, 18.00, 'INR', 2.25, NULL),
             ('k-ev', 'flow', '1', 'driver-042@ev.example.net', 'ecopower-charging.example.com', 222.21, 222.21, 'INR', 12.345, NULL),
             ('k-ev', 'penalty', 'averageChargingPower', 'ecopower-charging.example.com', 'driver-042@ev.example.net', 7.96, 7.96, 'INR', NULL, NULL),
             ('k-p2p', 'flow', '1', 'bap.energy-consumer.com', 'bpp.energy-provider.com', 1.47, 1.47, 'USD', 9.8, NULL),
             ('k-p2p', 'flow', '2', 'bap.energy-consumer.com', 'example-transmission-bpp.com', 0.24, 0.24, 'USD', 9.8, NULL)$$,
    'the ledger holds each line as computed by hand (a contract with nothing to bill gets its line at zero)');
SELECT results_eq($$SELECT l.contract_id, l.kind, l.line, l.payer, l.payee, l.amount, l.currency FROM deg.ledger l
                     WHERE l.run_id = (SELECT run_id FROM runs WHERE n = 1) ORDER BY 1, 2, 3$$,
    $$SELECT b.contract_id, b.kind, b.line, b.payer, b.payee, b.amount, b.currency
        FROM deg.contracts c, deg.contract_billing(c.contract_id, '[2025-01-10, 2025-01-11)') b ORDER BY 1, 2, 3$$,
    'and agrees with deg.contract_billing line by line');
SELECT is_empty($$SELECT * FROM deg.ledger_verify()$$, 'the digest chain of an intact ledger verifies');

-- idempotent: a second run writes nothing
CREATE TEMP TABLE ledger_before AS SELECT * FROM deg.ledger;
INSERT INTO runs SELECT 2, * FROM deg.settle('[2025-01-10, 2025-01-11)');
SELECT results_eq($$SELECT entries_written, adjustments, lines FROM runs WHERE n = 2$$, $$VALUES (0, 0, 6)$$,
    'a second run over the same period writes nothing');
SELECT is((SELECT count(*) FROM deg.ledger), (SELECT count(*) FROM ledger_before), 'the ledger did not grow');

-- one reading changes: one adjustment, linked to the entry it corrects
UPDATE deg.meter_readings SET exported_kwh = 2
 WHERE meter = 'meter-1.example.com' AND reading_interval = '[2025-01-10 12:00, 2025-01-10 13:00)';
INSERT INTO runs SELECT 3, * FROM deg.settle('[2025-01-10, 2025-01-11)');
SELECT results_eq($$SELECT entries_written, adjustments FROM runs WHERE n = 3$$, $$VALUES (1, 1)$$,
    'a changed reading writes exactly one entry, an adjustment');
SELECT results_eq($$SELECT l.adjusts, l.payer::text, l.payee::text, l.amount, l.signed_amount, l.quantity FROM deg.ledger l
                     WHERE l.run_id = (SELECT run_id FROM runs WHERE n = 3)$$,
    $$SELECT o.entry_id, 'retail.utility.example.com', 'home-1.example.com', 8.00, -8.00, -1::numeric
        FROM deg.ledger o WHERE o.contract_id = 'k-energy' AND o.adjusts IS NULL$$,
    'net 2.25 -> 1.25 kWh: the adjustment gives 8.00 back to the buyer and points at the original entry');
SELECT is((SELECT line_amount_after FROM deg.contract_ledger WHERE contract_id = 'k-energy' ORDER BY entry_id DESC LIMIT 1),
    (SELECT pg_temp.signed(b) FROM deg.contract_billing('k-energy', '[2025-01-10, 2025-01-11)') b),
    'the line''s total after the adjustment is the recomputed amount (10.00)');
-- the line changes direction: the buyer now exports more than it takes
UPDATE deg.meter_readings SET imported_kwh = 0.5
 WHERE meter = 'meter-1.example.com' AND reading_interval = '[2025-01-10 10:00, 2025-01-10 11:00)';
INSERT INTO runs SELECT 4, * FROM deg.settle('[2025-01-10, 2025-01-11)');
SELECT results_eq($$SELECT l.payer_role, l.payee_role, l.amount, l.signed_amount FROM deg.ledger l
                     WHERE l.run_id = (SELECT run_id FROM runs WHERE n = 4)$$,
    $$VALUES ('SELLER', 'BUYER', 16.00, -16.00)$$,
    'net 1.25 -> -0.75 kWh: the seller pays 16.00, and the line now runs the other way');
SELECT results_eq($$SELECT payer_role, payee_role, amount FROM deg.contract_billing('k-energy', '[2025-01-10, 2025-01-11)')$$,
    $$VALUES ('SELLER', 'BUYER', 6.00)$$, 'as contract_billing says: the seller pays 6.00');
-- late data: a reading that arrives after the period was settled
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
VALUES ('meter-1.example.com', '[2025-01-10 13:00, 2025-01-10 14:00)', 3, 0);
INSERT INTO runs SELECT 5, * FROM deg.settle('[2025-01-10, 2025-01-11)');
SELECT results_eq($$SELECT r.entries_written, r.adjustments, l.signed_amount, l.adjusts IS NOT NULL FROM runs r
                      JOIN deg.ledger l ON l.run_id = r.run_id WHERE r.n = 5$$,
    $$VALUES (1, 1, 24.00, true)$$, 'a late reading (3 kWh) is settled by the next run as an adjustment of 24.00');
SELECT results_eq($$SELECT is_adjustment, signed_amount_after FROM (
                      SELECT is_adjustment, line_amount_after AS signed_amount_after, entry_id FROM deg.contract_ledger
                       WHERE contract_id = 'k-energy' AND period = '[2025-01-10, 2025-01-11)') x ORDER BY entry_id$$,
    $$VALUES (false, 18.00), (true, 10.00), (true, -6.00), (true, 18.00)$$,
    'contract_ledger: the original line and its three adjustments, with the line''s total after each');
SELECT results_eq($$SELECT l.* FROM deg.ledger l JOIN ledger_before b USING (entry_id) ORDER BY entry_id$$,
    $$SELECT * FROM ledger_before ORDER BY entry_id$$, 'history is never rewritten: the first run''s entries are unchanged');
SELECT throws_ok($$UPDATE deg.ledger SET amount = 0 WHERE contract_id = 'k-energy'$$, '55000',
    'ledger is append-only', 'UPDATE on the ledger is refused');
SELECT throws_ok($$DELETE FROM deg.ledger WHERE contract_id = 'k-energy'$$, '55000', 'ledger is append-only',
    'DELETE on the ledger is refused');
SELECT throws_ok($$TRUNCATE deg.ledger CASCADE$$, '55000', 'ledger is append-only', 'TRUNCATE of the ledger is refused');
SELECT throws_ok($$UPDATE deg.settlement_runs SET lines = 0 WHERE run_id = (SELECT run_id FROM runs WHERE n = 1)$$, '55000',
    NULL, 'a finished run cannot be changed');
SELECT throws_ok($$DELETE FROM deg.settlement_runs WHERE run_id = (SELECT run_id FROM runs WHERE n = 1)$$, '55000',
    NULL, 'nor removed');

-- a run that cannot finish leaves nothing: money owed to a role nobody has taken
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('k-open', '{
  "contractId": "k-open", "status": "ACTIVE", "createdAt": "2025-01-09T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "retail.utility.example.com", "roleInputs": {"currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "home-2.example.com"},
            {"role": "GRID_OPERATOR", "filled": false, "filledBy": null}],
  "telemetrySources": [{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "meter-2.example.com"}}],
  "revenueFlows": {"flows": [
      {"from": "BUYER", "to": "SELLER", "formula": "7 × telemetrySources.m.importedKWh"},
      {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "0.5 × telemetrySources.m.importedKWh"}]}
}', 'ACTIVE');
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh) VALUES ('meter-2.example.com', '[2025-01-10 10:00, 2025-01-10 11:00)', 4);
CREATE TEMP TABLE counts_before AS SELECT (SELECT count(*) FROM deg.ledger) AS entries, (SELECT count(*) FROM deg.settlement_runs) AS runs,
                                          (SELECT count(*) FROM deg.quality_results) AS quality;
SET client_min_messages = error;
CREATE TEMP TABLE skipped_run AS SELECT * FROM deg.settle('[2025-01-10, 2025-01-11)');
RESET client_min_messages;
SELECT is((SELECT skipped FROM skipped_run),
    '[{"contract_id": "k-open", "problem": "flow 2: 2.00 INR is owed but role GRID_OPERATOR is not filled"}]'::jsonb,
    'a contract owing money to an open role is skipped, the reason in the run, and does not stop the others');
SELECT is((SELECT ROW((SELECT count(*) FROM deg.ledger), (SELECT count(*) FROM deg.settlement_runs), (SELECT count(*) FROM deg.quality_results))::text),
    (SELECT ROW(entries, runs + 1, quality)::text FROM counts_before), 'the run writes no entry for it, and nothing else changed');
DELETE FROM deg.contracts WHERE contract_id = 'k-open';

-- overlapping periods
SELECT throws_ok($$SELECT deg.settle('[2025-01-10 12:00, 2025-01-11 12:00)')$$, '23P01',
    NULL, 'a period overlapping a settled one is refused');
SELECT throws_like($$SELECT deg.settle('[2025-01-10 12:00, 2025-01-11 12:00)', ARRAY['k-energy'])$$,
    'period % overlaps period ["2025-01-10 00:00:00+00","2025-01-11 00:00:00+00") already settled for contract k-energy',
    'naming the settled period and the contract');
SELECT throws_ok($$SELECT deg.settle('[2025-01-10,)')$$, '22023', NULL, 'an unbounded period is refused');

-- ============ 3. the analyst views ============
SELECT results_eq($$SELECT currency, participant::text, received, paid, net FROM deg.net_positions
                     WHERE period = '[2025-01-10, 2025-01-11)' AND (received <> 0 OR paid <> 0) ORDER BY 1, 2$$,
    $$VALUES ('INR', 'driver-042@ev.example.net', 7.96, 222.21, -214.25),
             ('INR', 'ecopower-charging.example.com', 222.21, 7.96, 214.25),
             ('INR', 'home-1.example.com', 8.00 + 16.00, 18.00 + 24.00, -18.00),
             ('INR', 'retail.utility.example.com', 18.00 + 24.00, 8.00 + 16.00, 18.00),
             ('USD', 'bap.energy-consumer.com', 0, 1.71, -1.71),
             ('USD', 'bpp.energy-provider.com', 1.47, 0, 1.47),
             ('USD', 'example-transmission-bpp.com', 0.24, 0, 0.24)$$,
    'net_positions: received, paid and net of each participant, adjustments included');
SELECT is_empty($$SELECT period, currency FROM deg.net_positions GROUP BY 1, 2 HAVING sum(net) <> 0$$,
    'the nets of every period and currency sum to zero');
SELECT results_eq($$SELECT contract_id, contracted_kwh, delivered_kwh, difference_kwh FROM deg.energy_contracted_vs_delivered
                     WHERE period = '[2025-01-10, 2025-01-11)' AND contract_id = 'k-p2p'$$,
    $$VALUES ('k-p2p', 10.0, 9.8, -0.2)$$, 'energy_contracted_vs_delivered: 10 kWh contracted, 9.8 delivered');
SELECT results_eq($$SELECT metric, value, target_min, met, penalty, currency, penalty_payer::text, penalty_payee::text FROM deg.quality_report
                     WHERE contract_id = 'k-ev' AND period = '[2025-01-10, 2025-01-11)'$$,
    $$VALUES ('averageChargingPower', 24.69, 30::numeric, false, 7.96, 'INR', 'ecopower-charging.example.com', 'driver-042@ev.example.net')$$,
    'quality_report: 24.69 kW against at least 30, not met, and the penalty the seller paid');
-- a late session brings the average power up to the target: the penalty is reversed
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh)
VALUES ('k-ev-2', 'IN*ECO*BTM*01*CCS2*A', '2025-01-10 10:30', '2025-01-10 11:00', 17.655);
INSERT INTO runs SELECT 6, * FROM deg.settle('[2025-01-10, 2025-01-11)', ARRAY['k-ev']);
SELECT results_eq($$SELECT value, met, penalty FROM deg.quality_report WHERE contract_id = 'k-ev' AND period = '[2025-01-10, 2025-01-11)'$$,
    $$VALUES (30::numeric, true, 0.00)$$, 'with 30 kWh from 10:00 to 11:00 the metric is 30 kW, met, and the penalty settles at zero');
SELECT results_eq($$SELECT entries_written, adjustments FROM runs WHERE n = 6$$, $$VALUES (2, 2)$$,
    'the late session adjusted the flow (18 x 17.655) and the penalty (-7.96)');
SELECT results_eq($$SELECT run_id, currency, amount, currency_lines, entries_written, adjustments FROM deg.settlement_run_totals
                     WHERE run_id IN (SELECT run_id FROM runs) ORDER BY run_id, currency$$,
    $$SELECT r.run_id, t.currency, t.amount, t.lines, r.entries_written, r.adjustments FROM runs r,
             (VALUES (1, 'INR', 248.17, 4), (1, 'USD', 1.71, 2), (2, 'INR', 248.17, 4), (2, 'USD', 1.71, 2),
                     (3, 'INR', 240.17, 4), (3, 'USD', 1.71, 2), (4, 'INR', 236.17, 4), (4, 'USD', 1.71, 2),
                     (5, 'INR', 248.17, 4), (5, 'USD', 1.71, 2), (6, 'INR', 540.00, 2)) t(n, currency, amount, lines)
       WHERE r.n = t.n ORDER BY r.run_id, t.currency$$,
    'settlement_run_totals: each run''s amount and lines per currency, and what it wrote');

-- ============ 4. the digest chain ============
CREATE TEMP TABLE victim AS
SELECT * FROM deg.ledger WHERE contract_id = 'k-energy' ORDER BY entry_id OFFSET 1 LIMIT 1;
SET session_replication_role = replica;     -- a superuser going around the append-only trigger
UPDATE deg.ledger SET amount = 0.08, signed_amount = -0.08 WHERE entry_id = (SELECT entry_id FROM victim);
RESET session_replication_role;
SELECT results_eq($$SELECT contract_id, entry_id, problem FROM deg.ledger_verify()$$,
    $$SELECT contract_id, entry_id, 'the entry does not match its digest' FROM victim$$,
    'an edited amount is named by ledger_verify, and only it');
SELECT is((SELECT count(*)::int FROM deg.ledger_verify('k-ev')), 0, 'ledger_verify(contract) checks one contract');
-- the forger recomputes the edited entry's digest: the next entry no longer follows it
SET session_replication_role = replica;
UPDATE deg.ledger l SET digest = deg.ledger_digest_step(l.prev_digest, NULL,
        deg.ledger_entry_text(l.entry_id, l.run_id, l.contract_id, l.period, l.kind, l.line, l.participant, l.from_role,
                              l.to_role, l.payer_role, l.payer, l.payee_role, l.payee, l.amount, l.signed_amount,
                              l.currency, l.quantity, l.adjusts, l.recorded_at))
 WHERE entry_id = (SELECT entry_id FROM victim);
RESET session_replication_role;
SELECT results_eq($$SELECT contract_id, entry_id, problem FROM deg.ledger_verify('k-energy')$$,
    $$SELECT v.contract_id, min(l.entry_id), 'the entry does not follow the previous entry of its contract'
        FROM deg.ledger l, victim v WHERE l.contract_id = v.contract_id AND l.entry_id > v.entry_id GROUP BY 1$$,
    'an edit whose digest was recomputed is caught at the entry after it, which no longer follows');
-- put it back: intact again
SET session_replication_role = replica;
UPDATE deg.ledger l SET amount = v.amount, signed_amount = v.signed_amount, digest = v.digest FROM victim v WHERE l.entry_id = v.entry_id;
RESET session_replication_role;
SELECT is_empty($$SELECT * FROM deg.ledger_verify()$$, 'restored, the chain verifies again');
-- a middle entry removed
SET session_replication_role = replica;
DELETE FROM deg.ledger WHERE entry_id = (SELECT entry_id FROM victim);
RESET session_replication_role;
SELECT results_eq($$SELECT contract_id, entry_id, problem FROM deg.ledger_verify()$$,
    $$SELECT contract_id, (SELECT min(entry_id) FROM deg.ledger l WHERE l.contract_id = v.contract_id AND l.entry_id > v.entry_id),
             'the entry does not follow the previous entry of its contract' FROM victim v$$,
    'a deleted middle entry is detected at the entry that followed it, which no longer follows');
SET session_replication_role = replica;
INSERT INTO deg.ledger SELECT * FROM victim;
RESET session_replication_role;
SELECT is_empty($$SELECT * FROM deg.ledger_verify()$$, 'put back, the chain verifies');
-- the references foreign keys would check: the last entry of a contract (nothing follows it)
-- re-pointed, its digest recomputed
CREATE TEMP TABLE last_entry AS SELECT * FROM deg.ledger WHERE contract_id = 'k-energy' ORDER BY entry_id DESC LIMIT 1;
CREATE FUNCTION pg_temp.forge(new_run bigint, new_adjusts bigint) RETURNS void LANGUAGE sql AS $$
    SET session_replication_role = replica;
    UPDATE deg.ledger l SET run_id = new_run, adjusts = new_adjusts,
           digest = deg.ledger_digest_step(l.prev_digest, NULL,
               deg.ledger_entry_text(l.entry_id, new_run, l.contract_id, l.period, l.kind, l.line, l.participant,
                                     l.from_role, l.to_role, l.payer_role, l.payer, l.payee_role, l.payee, l.amount,
                                     l.signed_amount, l.currency, l.quantity, new_adjusts, l.recorded_at))
     WHERE l.entry_id = (SELECT entry_id FROM last_entry);
    RESET session_replication_role;
$$;
SELECT pg_temp.forge((SELECT run_id FROM last_entry), (SELECT min(entry_id) FROM deg.ledger WHERE contract_id = 'k-ev'));
SELECT results_eq($$SELECT contract_id, entry_id, problem FROM deg.ledger_verify()$$,
    $$SELECT contract_id, entry_id, format('the entry adjusts entry %s, which is not the first entry of its line',
                                          (SELECT min(entry_id) FROM deg.ledger WHERE contract_id = 'k-ev')) FROM last_entry$$,
    'an adjustment of another contract''s entry is named by ledger_verify');
SELECT pg_temp.forge(987654, (SELECT adjusts FROM last_entry));
SELECT results_eq($$SELECT contract_id, entry_id, problem FROM deg.ledger_verify()$$,
    $$SELECT contract_id, entry_id, 'the entry''s run 987654 is not in deg.settlement_runs' FROM last_entry$$,
    'an entry of a run that does not exist is named by ledger_verify');
SELECT pg_temp.forge((SELECT run_id FROM last_entry), (SELECT adjusts FROM last_entry));
SELECT is_empty($$SELECT * FROM deg.ledger_verify()$$, 'put back, the ledger verifies');
SELECT throws_ok($$TRUNCATE deg.settlement_runs, deg.quality_results$$, '55000', 'settlement runs are history and cannot be removed',
    'TRUNCATE of the runs is refused');

-- ============ 5. net zero after rounding: thousands of random contracts ============
SELECT setseed(0.4242);
CREATE TEMP TABLE rnd AS
SELECT i, 'rnd-' || i AS id,
       (ARRAY['INR', 'JPY', 'KWD', 'USD', 'CLF', 'BIF', 'EUR', 'BHD'])[1 + floor(random() * 8)::int] AS currency,
       (ARRAY[NULL, 'PT15M', 'PT1H', 'PT6H'])[1 + floor(random() * 4)::int] AS step,
       round((random() * 40)::numeric, 4) AS price, round((random() * 15 - 3)::numeric, 5) AS feed_in,
       round((random() * 0.3)::numeric, 6) AS wheeling, round((random() * 3)::numeric, 2) AS cap,
       1 + floor(random() * 40)::int AS s, 1 + floor(random() * 40)::int AS b, 1 + floor(random() * 40)::int AS g
  FROM generate_series(1, 2500) i;
UPDATE rnd SET b = 1 + mod(b, 40) WHERE b = s;                   -- a flow needs two parties
UPDATE rnd SET g = 1 + mod(g + 1, 40) WHERE g IN (s, b);
UPDATE rnd SET g = 1 + mod(g + 1, 40) WHERE g IN (s, b);
CREATE TEMP TABLE rnd_curr AS SELECT code, minor_unit FROM deg.currencies;
INSERT INTO deg.contracts (contract_id, body, status)
SELECT id, jsonb_build_object('contractId', id, 'status', 'ACTIVE', 'createdAt', '2025-01-20T00:00:00Z',
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'p' || s || '.grid.example.com',
                           'roleInputs', jsonb_build_object('pricePerKWh', price, 'feedIn', feed_in, 'currency', currency)),
        jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', 'p' || b || '.grid.example.com'),
        jsonb_build_object('role', 'GRID_OPERATOR', 'filled', true, 'filledBy', 'p' || g || '.grid.example.com',
                           'roleInputs', jsonb_build_object('wheelingCharges', wheeling, 'cap', cap))),
    'inputParameters', jsonb_strip_nulls(jsonb_build_object('settlementInterval', step)),
    'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'm', 'sourceType', 'METER_READING',
                                                             'source', jsonb_build_object('era', 'rm-' || i || '.meters.example.com'))),
    'revenueFlows', jsonb_build_object('flows', jsonb_build_array(
        jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'formula', 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.importedKWh'),
        jsonb_build_object('from', 'SELLER', 'to', 'BUYER', 'formula', 'roles.SELLER.roleInputs.feedIn × telemetrySources.m.netKWh'),
        jsonb_build_object('from', 'BUYER', 'to', 'GRID_OPERATOR',
                           'formula', 'roles.GRID_OPERATOR.roleInputs.wheelingCharges × min(telemetrySources.m.importedKWh, roles.GRID_OPERATOR.roleInputs.cap)')))
    )::deg.contract, 'ACTIVE'
  FROM rnd;
-- 0 to 10 readings per contract at random quarter hours of two days
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
SELECT DISTINCT ON (1, 2) ('rm-' || r.i || '.meters.example.com')::deg.era,
       tstzrange(q, q + interval '15 min'), round((random() * 4)::numeric, 3), round((random() * 2.5)::numeric, 3)
  FROM rnd r, generate_series(1, (random() * 10 + r.i * 0)::int) k,
       LATERAL (SELECT '2025-02-01'::timestamptz + (floor(random() * 192) + k * 0) * interval '15 min' AS q) t;
-- what every line owes, computed here: readings binned into each contract's
-- settlement intervals, the formulas per interval, summed, rounded half to even
CREATE TEMP TABLE rnd_expected AS
WITH binned AS (
    SELECT r.id, r.price, r.feed_in, r.wheeling, r.cap, r.currency, r.s, r.b, r.g,
           date_trunc('day', lower(m.reading_interval)) AS day,
           CASE r.step WHEN 'PT15M' THEN lower(m.reading_interval)
                       WHEN 'PT1H' THEN date_trunc('hour', lower(m.reading_interval))
                       WHEN 'PT6H' THEN date_trunc('day', lower(m.reading_interval))
                                        + floor(extract(hour FROM lower(m.reading_interval)) / 6) * interval '6 hours'
                       ELSE date_trunc('day', lower(m.reading_interval)) END AS bin,
           sum(m.imported_kwh) AS imp, sum(m.exported_kwh) AS exp
      FROM rnd r JOIN deg.meter_readings m ON m.meter = ('rm-' || r.i || '.meters.example.com')::deg.era
     GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11),
exact AS (
    SELECT id, currency, day, s, b, g, sum(price * imp) AS f1, sum(feed_in * (imp - exp)) AS f2,
           sum(wheeling * least(imp, cap)) AS f3
      FROM binned GROUP BY 1, 2, 3, 4, 5, 6)
SELECT e.id, e.currency, tstzrange(e.day, e.day + interval '1 day') AS period, x.line, x.from_p, x.to_p,
       pg_temp.half_even(x.amount, c.minor_unit) AS signed
  FROM exact e JOIN rnd_curr c ON c.code = e.currency,
       LATERAL (VALUES ('1', e.b, e.s, e.f1), ('2', e.s, e.b, e.f2), ('3', e.b, e.g, e.f3)) x(line, from_p, to_p, amount);
CREATE TEMP TABLE rnd_runs AS
SELECT * FROM deg.settle('[2025-02-01, 2025-02-02)', ARRAY(SELECT id FROM rnd))
UNION ALL SELECT * FROM deg.settle('[2025-02-02, 2025-02-03)', ARRAY(SELECT id FROM rnd));
SELECT is((SELECT sum(contracts)::int FROM rnd_runs), 5000, '2,500 random contracts were settled over two days');
SELECT ok((SELECT count(DISTINCT currency) = 8 AND count(*) FILTER (WHERE signed < 0) > 1000
                  AND count(*) FILTER (WHERE signed <> pg_temp.half_even(signed, 0)) > 1000 FROM rnd_expected),
    'in eight currencies of 0 to 4 places, with over a thousand negative lines and over a thousand with fractions');
SELECT is_empty($$SELECT period, currency, sum(paid) - sum(received) FROM deg.net_positions
                   WHERE period IN ('[2025-02-01, 2025-02-02)', '[2025-02-02, 2025-02-03)')
                   GROUP BY 1, 2 HAVING sum(paid) <> sum(received) OR sum(net) <> 0$$,
    'per period and currency, the total paid equals the total received, exactly: the nets sum to zero');
SELECT is_empty($$SELECT l.currency, l.amount FROM deg.ledger l JOIN rnd_curr c ON c.code = l.currency
                   WHERE l.contract_id LIKE 'rnd-%' AND l.amount <> round(l.amount, c.minor_unit)$$,
    'no entry has more decimals than its currency''s minor unit');
SELECT is_empty($$
    (SELECT contract_id, period, line, signed_amount FROM deg.ledger WHERE contract_id LIKE 'rnd-%' AND signed_amount <> 0
     EXCEPT SELECT id, period, line, signed FROM rnd_expected)
    UNION ALL
    (SELECT id, period, line, signed FROM rnd_expected WHERE signed <> 0
     EXCEPT SELECT contract_id, period, line, signed_amount FROM deg.ledger WHERE contract_id LIKE 'rnd-%' AND signed_amount <> 0)$$,
    'every line is the amount computed independently (intervals binned, half to even once), with its sign');
SELECT is_empty($$
    WITH expected AS (
        SELECT period, currency, 'p' || p || '.grid.example.com' AS participant, sum(net) AS net
          FROM rnd_expected, LATERAL (VALUES (from_p, -signed), (to_p, signed)) x(p, net) GROUP BY 1, 2, 3)
    (SELECT period, currency, participant::text, net FROM deg.net_positions
      WHERE period IN ('[2025-02-01, 2025-02-02)', '[2025-02-02, 2025-02-03)') AND net <> 0
     EXCEPT SELECT period, currency, participant, net FROM expected WHERE net <> 0)
    UNION ALL
    (SELECT period, currency, participant, net FROM expected WHERE net <> 0
     EXCEPT SELECT period, currency, participant::text, net FROM deg.net_positions
      WHERE period IN ('[2025-02-01, 2025-02-02)', '[2025-02-02, 2025-02-03)') AND net <> 0)$$,
    'and every participant''s net position in every period and currency is the independent sum');
SELECT is_empty($$SELECT * FROM deg.ledger_verify()$$, 'the digest chain of the whole ledger verifies');

-- ============ 6. the checks before commit: entries altered as they are written ============
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
VALUES ('meter-1.example.com', '[2025-01-12 10:00, 2025-01-12 11:00)', 1.55, 0);   -- 12.40 INR
CREATE TEMP TABLE ledger_size AS SELECT count(*) AS n FROM deg.ledger;
CREATE FUNCTION public.deg_test_tamper() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_ARGV[0] = 'minor unit' THEN -- the rupee loses its paise while the run writes
        UPDATE deg.currencies SET minor_unit = 0 WHERE code = 'INR';
    ELSE                              -- an adjustment of an entry of another contract
        NEW.adjusts := (SELECT min(entry_id) FROM deg.ledger WHERE contract_id = 'k-ev');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER deg_test_tamper BEFORE INSERT ON deg.ledger FOR EACH ROW EXECUTE FUNCTION public.deg_test_tamper('minor unit');
SELECT throws_like($$SELECT deg.settle('[2025-01-12, 2025-01-13)', ARRAY['k-energy'])$$,
    '%is not in whole minor units%', 'an entry that is not a whole number of its currency''s minor unit aborts the run');
DROP TRIGGER deg_test_tamper ON deg.ledger;
CREATE TRIGGER deg_test_tamper BEFORE INSERT ON deg.ledger FOR EACH ROW EXECUTE FUNCTION public.deg_test_tamper('adjusts');
SELECT throws_like($$SELECT deg.settle('[2025-01-12, 2025-01-13)', ARRAY['k-energy'])$$,
    '%adjusts an entry that is not the first of its line%', 'an entry adjusting another line''s entry aborts the run');
DROP TRIGGER deg_test_tamper ON deg.ledger;
SELECT is((SELECT count(*) FROM deg.ledger), (SELECT n FROM ledger_size), 'and the aborted runs left no entry');
SELECT is((SELECT entries_written FROM deg.settle('[2025-01-12, 2025-01-13)', ARRAY['k-energy'])), 1,
    'the run, untampered, writes its line');

SELECT * FROM finish();
ROLLBACK;
