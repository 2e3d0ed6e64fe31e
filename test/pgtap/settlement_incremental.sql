-- pgTAP: a period settled before for every contract is recomputed only for
-- the contracts whose inputs changed since (deg.settle, deg.settle_changed):
-- readings written, deleted or moved, a signal, a contract row, a currency,
-- changes made in the run's own transaction, a reading a subtransaction of a
-- transaction running across a run wrote.  Which contracts a run computed
-- shows in their quality results (run_id) and in the run's recomputed count;
-- what it wrote must be what a full computation writes.
-- The changes must be committed (a run compares them with the snapshot of the
-- period's last run), so this file commits and removes its data at the end.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
CREATE EXTENSION IF NOT EXISTS dblink;
SET search_path = deg, public;
SET TimeZone = 'UTC';

CREATE FUNCTION pg_temp.clean() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL session_replication_role = replica;   -- the ledger, runs and events are append-only
    DELETE FROM deg.quality_results WHERE period = '[2020-03-01, 2020-03-02)';
    DELETE FROM deg.ledger WHERE period = '[2020-03-01, 2020-03-02)';
    DELETE FROM deg.settlement_runs WHERE period = '[2020-03-01, 2020-03-02)';
    DELETE FROM deg.contract_feeds WHERE contract_id LIKE 'si-%';
    DELETE FROM deg.contract_events WHERE contract_id LIKE 'si-%';
    DELETE FROM deg.contracts WHERE contract_id LIKE 'si-%';
    DELETE FROM deg.meter_readings WHERE meter::text LIKE 'sim-%';
    DELETE FROM deg.signal_values WHERE signal_id = 'si-price';
    DELETE FROM deg.telemetry_removals WHERE key LIKE 'si%' OR source = 'currencies';
END $$;
SELECT pg_temp.clean();
-- a settlement job that settlement_cron.sql could not remove would take the runs' lock
DO $$
BEGIN
    IF to_regclass('cron.job') IS NOT NULL THEN
        PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'deg-pgtap-%';
    END IF;
END $$;

-- four contracts, each on its own meter, all on one price; a quality metric each, so that
-- deg.quality_results says which run last computed a contract
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'si-' || i, jsonb_build_object('contractId', 'si-' || i, 'status', 'ACTIVE', 'createdAt', '2020-01-01T00:00:00Z',
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'seller.example.com'),
        jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', 'buyer-' || i || '.example.com')),
    'inputParameters', jsonb_build_object('settlementInterval', 'PT1H', 'currency', 'INR'),
    'inputSignals', jsonb_build_array(jsonb_build_object('signalId', 'si-price', 'signalType', 'PRICE',
                                                          'source', jsonb_build_object('era', 'prices.example.com'))),
    'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'm', 'sourceType', 'METER_READING',
                                                             'source', jsonb_build_object('era', 'sim-' || i || '.example.com'))),
    'revenueFlows', jsonb_build_object('flows', jsonb_build_array(
        jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'formula', 'inputSignals.si-price × telemetrySources.m.importedKWh'))),
    'qualityMetrics', jsonb_build_object('metrics', jsonb_build_array(
        jsonb_build_object('metricId', 'energy', 'formula', 'telemetrySources.m.importedKWh', 'target', 1))))::deg.contract,
    'ACTIVE'
  FROM generate_series(1, 4) i;
INSERT INTO deg.signal_values (signal_id, valid, value)
SELECT 'si-price', tstzrange(t, t + interval '1 hour'), 5 + extract(hour FROM t) * 0.25
  FROM generate_series('2020-03-01'::timestamptz, '2020-03-01 23:00', interval '1 hour') t;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
SELECT ('sim-' || i || '.example.com')::deg.era, tstzrange(t, t + interval '1 hour'), 0.5 + i * 0.125
  FROM generate_series(1, 4) i, generate_series('2020-03-01 08:00'::timestamptz, '2020-03-01 11:00', interval '1 hour') t;

CREATE TEMP TABLE runs (n int, run_id bigint, entries_written int, adjustments int, lines int, totals jsonb, recomputed int);
CREATE FUNCTION pg_temp.settle(n int) RETURNS void LANGUAGE sql AS $$
    INSERT INTO runs SELECT n, r.run_id, r.entries_written, r.adjustments, r.lines, r.totals, r.recomputed
      FROM deg.settle('[2020-03-01, 2020-03-02)') r
$$;
-- the contracts run n computed (their quality results are its), and what it wrote for them
CREATE FUNCTION pg_temp.computed(n int) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce(string_agg(q.contract_id, ',' ORDER BY q.contract_id), '')
      FROM deg.quality_results q JOIN runs r ON r.run_id = q.run_id
     WHERE r.n = computed.n AND q.contract_id LIKE 'si-%'
$$;
CREATE FUNCTION pg_temp.written(n int) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM deg.ledger l JOIN runs r ON r.run_id = l.run_id WHERE r.n = written.n AND l.contract_id LIKE 'si-%'
$$;

CREATE FUNCTION pg_temp.removals(meter text) RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM deg.telemetry_removals x WHERE x.source = 'meter_readings' AND x.key = meter
$$;
CREATE FUNCTION pg_temp.remote(sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_exec('si_other', sql);
END $$;

SELECT plan(32);

SELECT pg_temp.settle(1);
SELECT is(pg_temp.computed(1), 'si-1,si-2,si-3,si-4', 'the first run of the period computes every contract');
SELECT is(pg_temp.written(1), 4::bigint, 'and writes a line for each');

SELECT pg_temp.settle(2);
SELECT is(pg_temp.computed(2), '', 'a run with nothing changed computes none of them');
SELECT results_eq($$SELECT entries_written, lines, totals FROM runs WHERE n = 2$$,
                  $$SELECT 0, lines, totals FROM runs WHERE n = 1$$,
                  'writes nothing, and counts the lines and totals of the first run (the ledger''s)');

UPDATE deg.meter_readings SET imported_kwh = imported_kwh + 1
 WHERE meter = 'sim-1.example.com'::deg.era AND lower(reading_interval) = '2020-03-01 09:00';
SELECT pg_temp.settle(3);
SELECT is(pg_temp.computed(3), 'si-1', 'a reading changed: its contract is computed');
SELECT is(pg_temp.written(3), 1::bigint, 'one adjustment');

DELETE FROM deg.meter_readings WHERE meter = 'sim-2.example.com'::deg.era AND lower(reading_interval) = '2020-03-01 10:00';
SELECT is(pg_temp.removals('sim-2.example.com'), 1::bigint, 'a deletion is recorded');
SELECT pg_temp.settle(4);
SELECT is(pg_temp.computed(4), 'si-2', 'a reading deleted: its contract is computed');
SELECT is(pg_temp.written(4), 1::bigint, 'one adjustment');
SELECT is(pg_temp.removals('sim-2.example.com'), 0::bigint, 'and, the period settled since, forgotten');

UPDATE deg.meter_readings SET meter = 'sim-4.example.com', reading_interval = '[2020-03-01 13:00, 2020-03-01 14:00)'
 WHERE meter = 'sim-3.example.com'::deg.era AND lower(reading_interval) = '2020-03-01 08:00';
SELECT pg_temp.settle(5);
SELECT is(pg_temp.computed(5), 'si-3,si-4', 'a reading moved to another meter: both contracts are computed');
SELECT is(pg_temp.written(5), 2::bigint, 'one adjustment each');

INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
VALUES ('sim-1.example.com', '[2020-03-01 12:00, 2020-03-01 13:00)', 2);
SELECT pg_temp.settle(6);
SELECT is(pg_temp.computed(6), 'si-1', 'a late reading: its contract is computed');

INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
VALUES ('sim-2.example.com', '[2020-03-02 12:00, 2020-03-02 13:00)', 2);
SELECT pg_temp.settle(7);
SELECT is(pg_temp.computed(7), '', 'a reading of another period changes nothing');

UPDATE deg.signal_values SET value = value + 1 WHERE signal_id = 'si-price' AND lower(valid) = '2020-03-01 09:00';
SELECT pg_temp.settle(8);
SELECT is(pg_temp.computed(8), 'si-1,si-2,si-3,si-4', 'a price changed: every contract on it is computed');
SELECT is(pg_temp.written(8), 4::bigint, 'each adjusted');

UPDATE deg.contracts SET updated_at = updated_at WHERE contract_id = 'si-2';
SELECT pg_temp.settle(9);
SELECT is(pg_temp.computed(9), 'si-2', 'a contract row written: that contract is computed');
SELECT is(pg_temp.written(9), 0::bigint, 'and, unchanged, gets nothing');

UPDATE deg.currencies SET name = name WHERE code = 'INR';
SELECT pg_temp.settle(10);
SELECT is(pg_temp.computed(10), 'si-1,si-2,si-3,si-4', 'a currency written: everything is computed');
SELECT ok((SELECT recomputed >= 4 FROM runs WHERE n = 10) AND (SELECT recomputed = 0 FROM runs WHERE n = 2),
          'the run counts the contracts it computed');

-- a change made in the run's own transaction, before the run
BEGIN;
UPDATE deg.meter_readings SET imported_kwh = 0 WHERE meter = 'sim-4.example.com'::deg.era AND lower(reading_interval) = '2020-03-01 11:00';
SELECT pg_temp.settle(11);
COMMIT;
SELECT ok(pg_temp.computed(11) LIKE '%si-4%', 'a change of the run''s own transaction is seen');
SELECT is(pg_temp.written(11), 1::bigint, 'and adjusted');
SELECT is(pg_temp.removals('sim-4.example.com'), 1::bigint, 'its removal is kept for the next run');

-- (a run cannot tell its own transaction's rows written before it from those written after:
-- the next run computes them again, once)
SELECT pg_temp.settle(12);
SELECT is(pg_temp.removals('sim-4.example.com'), 0::bigint, 'which forgets it');
SELECT pg_temp.settle(13);
SELECT is(pg_temp.computed(13), '', 'then nothing again');

-- a reading written by a subtransaction (a plpgsql block with an EXCEPTION clause) of a
-- transaction that runs across a run: the run does not see it, and the next run must (a snapshot
-- lists only top-level transactions in progress)
SELECT dblink_connect('si_other', format('dbname=%s host=%s port=%s user=%s', current_database(),
                      split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user));
SELECT pg_temp.remote('BEGIN');
SELECT pg_temp.remote('DO $x$ BEGIN PERFORM pg_current_xact_id(); END $x$');   -- its own xid first
SELECT pg_temp.remote($q$DO $x$ BEGIN
    BEGIN
        INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
        VALUES ('sim-3.example.com', '[2020-03-01 15:00, 2020-03-01 16:00)', 3);
    EXCEPTION WHEN unique_violation THEN NULL;
    END;
END $x$$q$);
CREATE TEMP TABLE later_xid AS SELECT 1 AS one;   -- a newer transaction ends before the run starts
SELECT pg_temp.settle(14);
SELECT is(pg_temp.computed(14), '', 'a reading not committed yet is not the run''s');
SELECT pg_temp.remote('COMMIT');
SELECT pg_temp.settle(15);
SELECT is(pg_temp.computed(15), 'si-3', 'once committed, the next run computes its contract, though a subtransaction wrote it');

-- a transaction open across two runs does not make what others committed before the first of
-- them look changed to the second (the rows' xids lie between the snapshot's xmin and xmax)
SELECT pg_temp.remote('BEGIN');
SELECT pg_temp.remote('DO $x$ BEGIN PERFORM pg_current_xact_id(); END $x$');
DO $$ BEGIN
    BEGIN   -- a subtransaction of a transaction that ends before the run
        UPDATE deg.meter_readings SET imported_kwh = imported_kwh + 1
         WHERE meter = 'sim-4.example.com'::deg.era AND lower(reading_interval) = '2020-03-01 10:00';
    EXCEPTION WHEN unique_violation THEN NULL;
    END;
END $$;
UPDATE deg.meter_readings SET imported_kwh = imported_kwh + 1
 WHERE meter = 'sim-1.example.com'::deg.era AND lower(reading_interval) = '2020-03-01 10:00';
SELECT pg_temp.settle(16);
SELECT is(pg_temp.computed(16), 'si-1,si-4', 'with a transaction open, the run computes the contracts whose readings changed');
SELECT pg_temp.settle(17);
SELECT is(pg_temp.computed(17), '', 'and the next run, that transaction still open, none of them');
SELECT pg_temp.remote('COMMIT');
SELECT dblink_disconnect('si_other');

-- what the runs wrote is what computing every contract now gives
SELECT is_empty($$SELECT b.contract_id, b.line
                    FROM deg.contracts c CROSS JOIN LATERAL deg.contract_billing(c.contract_id, '[2020-03-01, 2020-03-02)') b
                    LEFT JOIN (SELECT l.contract_id, l.line, sum(l.signed_amount) AS signed_amount FROM deg.ledger l
                                WHERE l.period = '[2020-03-01, 2020-03-02)' GROUP BY 1, 2) l
                           ON l.contract_id = b.contract_id AND l.line = b.line
                   WHERE c.contract_id LIKE 'si-%'
                     AND l.signed_amount IS DISTINCT FROM CASE WHEN b.payer_role = b.from_role THEN b.amount ELSE -b.amount END$$,
                'every line''s ledger total is what contract_billing computes now');
SELECT is((SELECT (deg.settle('[2020-03-01, 2020-03-02)', ARRAY['si-1', 'si-2', 'si-3', 'si-4'])).entries_written), 0,
          'a run that computes the four anew writes nothing');
SELECT is_empty($$SELECT * FROM deg.ledger_verify() WHERE contract_id LIKE 'si-%'$$, 'the digest chains hold');

SELECT * FROM finish();
SELECT pg_temp.clean();
