-- pgTAP: settlement runs from several sessions (dblink): two runs started
-- together do not double-bill, a run killed halfway leaves nothing behind, and
-- deg.settlement_progress shows a run from another session.
-- The data is committed (the other sessions must see it) and removed at the end.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
CREATE EXTENSION IF NOT EXISTS dblink;
SET search_path = deg, public;
SET TimeZone = 'UTC';

-- everything this file commits, removed (also what a failed earlier run left)
CREATE FUNCTION pg_temp.clean() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL session_replication_role = replica;   -- the ledger, runs and events are append-only
    DELETE FROM deg.quality_results WHERE contract_id LIKE 'sr-%';
    DELETE FROM deg.ledger WHERE contract_id LIKE 'sr-%';
    DELETE FROM deg.settlement_runs r WHERE r.contract_ids[1] LIKE 'sr-%';
    DELETE FROM deg.telemetry_bindings WHERE contract_id LIKE 'sr-%';
    DELETE FROM deg.contract_feeds WHERE contract_id LIKE 'sr-%';
    DELETE FROM deg.contract_events WHERE contract_id LIKE 'sr-%';
    DELETE FROM deg.contracts WHERE contract_id LIKE 'sr-%';
    DELETE FROM deg.meter_readings WHERE meter::text LIKE 'srm-%';
    DROP VIEW IF EXISTS public.sr_slow_meter;
    DROP FUNCTION IF EXISTS public.sr_slow_rows();
END $$;
SELECT pg_temp.clean();
-- a settlement job that settlement_cron.sql could not remove would take the runs' lock
DO $$
BEGIN
    IF to_regclass('cron.job') IS NOT NULL THEN
        PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'deg-pgtap-%';
    END IF;
END $$;

-- 2,000 contracts on their own meters (4 hourly readings a day, 8 days), and one
-- whose meter is a view that takes as long as the session's sr.sleep says
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'sr-' || i, jsonb_build_object('contractId', 'sr-' || i, 'status', 'ACTIVE', 'createdAt', '2024-06-01T00:00:00Z',
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'seller-' || (i % 50) || '.example.com',
                           'roleInputs', jsonb_build_object('pricePerKWh', 5 + (i % 7) * 0.25, 'currency', 'INR')),
        jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', 'buyer-' || i || '.example.com')),
    'telemetrySources', jsonb_build_array(jsonb_build_object('sourceId', 'm', 'sourceType', 'METER_READING',
                                                             'source', jsonb_build_object('era', 'srm-' || i || '.meters.example.com'))),
    'revenueFlows', jsonb_build_object('flows', jsonb_build_array(
        jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'formula', 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.importedKWh'))))::deg.contract,
    'ACTIVE'
  FROM generate_series(1, 2000) i;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
SELECT ('srm-' || i || '.meters.example.com')::deg.era, tstzrange(t, t + interval '1 hour'), 1 + (i % 13) * 0.1
  FROM generate_series(1, 2000) i, generate_series('2024-06-01'::timestamptz, '2024-06-08', interval '1 day') d,
       generate_series(d + interval '8 hours', d + interval '11 hours', interval '1 hour') t;
CREATE FUNCTION public.sr_slow_rows() RETURNS TABLE (at tstzrange, kwh numeric) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_sleep(coalesce(nullif(current_setting('sr.sleep', true), '')::float8, 0));
    RETURN QUERY SELECT tstzrange(t, t + interval '1 day'), 10::numeric
                   FROM generate_series('2024-06-01'::timestamptz, '2024-06-08', interval '1 day') t;
END $$;
CREATE VIEW public.sr_slow_meter AS SELECT * FROM public.sr_slow_rows();
INSERT INTO deg.contracts (contract_id, body, status) VALUES ('sr-slow', '{
  "contractId": "sr-slow", "status": "ACTIVE", "createdAt": "2024-06-01T00:00:00Z",
  "roles": [{"role": "SELLER", "filled": true, "filledBy": "seller-0.example.com", "roleInputs": {"pricePerKWh": 4, "currency": "INR"}},
            {"role": "BUYER", "filled": true, "filledBy": "buyer-slow.example.com"}],
  "telemetrySources": [{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "srm-slow.meters.example.com"}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.importedKWh"}]},
  "qualityMetrics": {"metrics": [{"metricId": "energy", "formula": "telemetrySources.m.importedKWh", "target": 5}]}
}', 'ACTIVE');
INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, time_column, value_columns)
VALUES ('sr-slow', 'telemetrySources.m', 'public.sr_slow_meter', 'at', '{"importedKWh": "kwh"}');
ANALYZE deg.contracts;
ANALYZE deg.contract_feeds;
ANALYZE deg.meter_readings;

CREATE TEMP TABLE ids AS SELECT ARRAY(SELECT contract_id FROM deg.contracts WHERE contract_id LIKE 'sr-%' ORDER BY 1) AS ids;
CREATE FUNCTION pg_temp.conninfo() RETURNS text LANGUAGE sql AS $$
    SELECT format('dbname=%s host=%s port=%s user=%s', current_database(),
                  split_part(current_setting('unix_socket_directories'), ',', 1), current_setting('port'), current_user)
$$;
CREATE FUNCTION pg_temp.settle_sql(day date, answer text DEFAULT 'run_id') RETURNS text LANGUAGE sql AS $$
    SELECT format('SELECT (deg.settle(tstzrange(%L::timestamptz, %L::timestamptz + interval ''1 day''),
                                      ARRAY(SELECT contract_id FROM deg.contracts WHERE contract_id LIKE ''sr-%%''))).%I',
                  day, day, answer)
$$;
-- the other sessions' statements, without their status lines in the test output
CREATE FUNCTION pg_temp.remote(conn text, sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_exec(conn, sql);
END $$;
CREATE FUNCTION pg_temp.send(conn text, sql text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_send_query(conn, sql);
END $$;
CREATE FUNCTION pg_temp.connect(conn text) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    PERFORM dblink_connect(conn, pg_temp.conninfo());
    RETURN (SELECT pid FROM dblink(conn, 'SELECT pg_backend_pid()') t(pid int));
END $$;
-- the answer of a query sent with dblink_send_query: the run id, or the error
CREATE TEMP TABLE answers (round int, who text, pid int, run_id bigint, sqlstate text, message text);
CREATE FUNCTION pg_temp.collect(round int, who text, pid int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    r bigint;
    err text;
    state text;
BEGIN
    BEGIN
        SELECT t.run_id INTO r FROM dblink_get_result(who) AS t(run_id bigint);
        INSERT INTO answers VALUES (round, who, pid, r, NULL, NULL);
    EXCEPTION WHEN others THEN
        GET STACKED DIAGNOSTICS err = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
        INSERT INTO answers VALUES (round, who, pid, NULL, state, err);
    END;
    BEGIN
        PERFORM * FROM dblink_get_result(who, false) AS t(run_id bigint);
    EXCEPTION WHEN others THEN
        NULL;
    END;
END $$;
-- wait (up to seconds) until the backend's run shows in deg.settlement_progress in this phase and the condition holds
CREATE FUNCTION pg_temp.watch(backend int, want_phase text, seconds float8, waiting_on_lock boolean DEFAULT false)
RETURNS SETOF deg.settlement_progress LANGUAGE plpgsql AS $$
DECLARE
    deadline timestamptz := clock_timestamp() + seconds * interval '1 second';
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();
        RETURN QUERY SELECT p.* FROM deg.settlement_progress p JOIN pg_stat_activity a ON a.pid = p.pid
                      WHERE p.pid = backend AND p.phase = want_phase
                        AND (NOT waiting_on_lock OR a.wait_event_type = 'Lock');
        IF FOUND OR clock_timestamp() > deadline THEN
            RETURN;
        END IF;
        PERFORM pg_sleep(0.02);
    END LOOP;
END $$;

SELECT plan(19);

-- ============ 1. two runs started together ============
CREATE TEMP TABLE pids AS SELECT pg_temp.connect('run_a') AS a, pg_temp.connect('run_b') AS b;
-- each run holds the lock for at least a second (the slow meter)
SELECT pg_temp.remote('run_a', 'SET sr.sleep = 1');
SELECT pg_temp.remote('run_b', 'SET sr.sleep = 1');
DO $$
DECLARE
    round int;
BEGIN
    FOR round IN 1..3 LOOP
        -- both are on the wire before either is answered; they alternate who goes first
        IF round % 2 = 1 THEN
            PERFORM dblink_send_query('run_a', pg_temp.settle_sql(('2024-06-01'::date + round)));
            PERFORM dblink_send_query('run_b', pg_temp.settle_sql(('2024-06-01'::date + round)));
        ELSE
            PERFORM dblink_send_query('run_b', pg_temp.settle_sql(('2024-06-01'::date + round)));
            PERFORM dblink_send_query('run_a', pg_temp.settle_sql(('2024-06-01'::date + round)));
        END IF;
        PERFORM pg_temp.collect(round, 'run_a', (SELECT a FROM pids));
        PERFORM pg_temp.collect(round, 'run_b', (SELECT b FROM pids));
    END LOOP;
END $$;
SELECT is((SELECT count(*)::int FROM answers), 6, 'three rounds of two runs each were answered');
SELECT is((SELECT count(*)::int FROM (SELECT round FROM answers GROUP BY round
                                       HAVING count(run_id) = 1 AND count(*) FILTER (WHERE sqlstate = '55P03') = 1) r), 3,
    'in every round one run settled and the other was refused with 55P03');
SELECT is((SELECT count(*)::int FROM answers l JOIN answers w ON w.round = l.round AND w.run_id IS NOT NULL
            WHERE l.sqlstate = '55P03' AND l.message = format('another settlement run is in progress (backend %s)', w.pid)), 3,
    'the refusal names the backend of the run in progress');
SELECT is((SELECT count(*)::int FROM deg.settlement_runs WHERE contract_ids @> (SELECT ids FROM ids) AND contract_ids <@ (SELECT ids FROM ids)), 3,
    'one settlement run per period was recorded');
SELECT is((SELECT count(*)::int FROM deg.ledger WHERE contract_id LIKE 'sr-%'), 3 * 2001,
    'and exactly one set of entries: one per contract and period');
SELECT is_empty($$SELECT contract_id, period, line FROM deg.ledger WHERE contract_id LIKE 'sr-%'
                  GROUP BY 1, 2, 3 HAVING count(*) > 1$$, 'no line was billed twice');
-- the refused run tries again once the other has finished: it writes nothing
SELECT pg_temp.remote('run_a', 'SET sr.sleep = 0');
SELECT is((SELECT t.n FROM dblink('run_a', pg_temp.settle_sql('2024-06-02', 'entries_written')) t(n int)), 0,
    'retried after the other run, it writes no entry');

-- ============ 2. a run killed while it computes, seen from here ============
CREATE TEMP TABLE before AS
SELECT (SELECT count(*) FROM deg.ledger) AS entries, (SELECT count(*) FROM deg.settlement_runs) AS runs,
       (SELECT count(*) FROM deg.quality_results) AS quality, (SELECT max(run_id) FROM deg.settlement_runs) AS last_run;
SELECT pg_temp.remote('run_a', 'SET sr.sleep = 600');
SELECT pg_temp.send('run_a', pg_temp.settle_sql('2024-06-06'));
CREATE TEMP TABLE seen AS SELECT * FROM pg_temp.watch((SELECT a FROM pids), 'computing', 30);
SELECT results_eq($$SELECT pid, phase, contracts_done BETWEEN 0 AND contracts_total, contracts_total, started_by::text,
                           started_at <= clock_timestamp() FROM seen$$,
    $$SELECT a, 'computing', true, 2001::bigint, current_user::text, true FROM pids$$,
    'deg.settlement_progress shows the other session''s run computing 2,001 contracts');
SELECT matches((SELECT query FROM seen), 'deg\.settle\(', 'with the statement it runs');
SELECT ok(pg_terminate_backend((SELECT a FROM pids)), 'the run is terminated from here');
SELECT pg_temp.collect(10, 'run_a', (SELECT a FROM pids));
SELECT is((SELECT sqlstate IS NOT NULL FROM answers WHERE round = 10), true, 'the killed run did not finish');
SELECT results_eq($$SELECT (SELECT count(*) FROM deg.ledger), (SELECT count(*) FROM deg.settlement_runs),
                           (SELECT count(*) FROM deg.quality_results)$$,
    $$SELECT entries, runs, quality FROM before$$,
    'the killed run left no entry, no run and no quality result');

-- ============ 3. a run killed after it wrote its entries, before it committed ============
-- another transaction holds the quality result the run will write: the run waits there
CREATE TEMP TABLE pid_blocker AS SELECT pg_temp.connect('blocker') AS pid;
SELECT pg_temp.remote('blocker', 'BEGIN');
SELECT pg_temp.remote('blocker', format(
    'INSERT INTO deg.quality_results (contract_id, period, metric, intervals, valued_intervals, run_id)
     VALUES (''sr-slow'', ''[2024-06-07, 2024-06-08)'', ''energy'', 0, 0, %s)', (SELECT last_run FROM before)));
CREATE TEMP TABLE pid_c AS SELECT pg_temp.connect('run_c') AS pid;
CREATE TEMP TABLE seq_before AS SELECT coalesce(pg_sequence_last_value(pg_get_serial_sequence('deg.ledger', 'entry_id')), 0) AS last;
SELECT pg_temp.send('run_c', pg_temp.settle_sql('2024-06-07'));
SELECT is((SELECT contracts_done FROM pg_temp.watch((SELECT pid FROM pid_c), 'writing', 30, waiting_on_lock => true)), 2001::bigint,
    'the other session''s run is writing, its lines computed, and waits');
SELECT ok(pg_sequence_last_value(pg_get_serial_sequence('deg.ledger', 'entry_id')) >= (SELECT last FROM seq_before) + 2001
           AND NOT EXISTS (SELECT 1 FROM deg.ledger WHERE period = '[2024-06-07, 2024-06-08)'),
    'it has numbered its 2,001 entries (the sequence moved), none visible outside its transaction');
SELECT ok(pg_terminate_backend((SELECT pid FROM pid_c)), 'the run is terminated while it writes');
SELECT pg_temp.collect(11, 'run_c', (SELECT pid FROM pid_c));
SELECT pg_temp.remote('blocker', 'ROLLBACK');
SELECT results_eq($$SELECT (SELECT count(*) FROM deg.ledger), (SELECT count(*) FROM deg.settlement_runs),
                           (SELECT count(*) FROM deg.quality_results)$$,
    $$SELECT entries, runs, quality FROM before$$,
    'the run killed halfway left the ledger, the runs and the quality results unchanged');
SELECT results_eq($$SELECT contracts, entries_written FROM deg.settle('[2024-06-07, 2024-06-08)', (SELECT ids FROM ids))$$,
    $$VALUES (2001, 2001)$$, 'its lock is gone: the period settles in full on the next run');

-- ============ a run inside a REPEATABLE READ transaction ============
-- its snapshot could predate the last run's commit and bill the same lines again: refused
SELECT pg_temp.connect('iso');
SELECT dblink_exec('iso', 'BEGIN ISOLATION LEVEL REPEATABLE READ');
SELECT throws_ok($$SELECT * FROM dblink('iso', 'SELECT run_id FROM deg.settle(''[2024-06-07, 2024-06-08)'')') t(run_id bigint)$$,
    '25001', NULL, 'a run under REPEATABLE READ is refused (25001): it must see the last run''s entries');
SELECT dblink_exec('iso', 'ROLLBACK');
SELECT dblink_exec('iso', 'BEGIN ISOLATION LEVEL SERIALIZABLE');
SELECT throws_ok($$SELECT * FROM dblink('iso', 'SELECT run_id FROM deg.settle(''[2024-06-07, 2024-06-08)'')') t(run_id bigint)$$,
    '25001', NULL, 'and so is one under SERIALIZABLE');
SELECT dblink_exec('iso', 'ROLLBACK');

SELECT * FROM finish();

DO $$
BEGIN
    PERFORM dblink_disconnect(c) FROM unnest(dblink_get_connections()) c;
    PERFORM pg_temp.clean();
END $$;
