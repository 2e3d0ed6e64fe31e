-- pgTAP: scheduled settlement with pg_cron.  The test cluster preloads pg_cron
-- for this database (test/cluster.sh): a job made by deg.schedule_settlement
-- settles the due hours of a contract within a minute or so.  In a database
-- without pg_cron, deg.schedule_settlement says what is missing.
-- What the job must see is committed, and removed at the end.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
CREATE EXTENSION IF NOT EXISTS dblink;
CREATE EXTENSION IF NOT EXISTS pg_cron;
SET search_path = deg, public;
SET TimeZone = 'UTC';

CREATE FUNCTION pg_temp.conninfo(db text) RETURNS text LANGUAGE sql AS $$
    SELECT format('dbname=%s host=%s port=%s user=%s', db, split_part(current_setting('unix_socket_directories'), ',', 1),
                  current_setting('port'), current_user)
$$;
-- everything this file commits, removed (also what a failed earlier run left)
CREATE FUNCTION pg_temp.clean() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM cron.unschedule(jobid) FROM cron.job WHERE jobname LIKE 'deg-pgtap-%';
    DELETE FROM cron.job_run_details d WHERE NOT EXISTS (SELECT 1 FROM cron.job j WHERE j.jobid = d.jobid);
    SET LOCAL session_replication_role = replica;   -- the ledger, runs and events are append-only
    DELETE FROM deg.quality_results WHERE contract_id LIKE 'cron-%';
    DELETE FROM deg.ledger WHERE contract_id LIKE 'cron-%';
    -- the scheduled runs settled every contract: those that billed nothing else
    DELETE FROM deg.settlement_runs r WHERE r.contract_ids IS NULL
       AND NOT EXISTS (SELECT 1 FROM deg.ledger l WHERE l.run_id = r.run_id)
       AND NOT EXISTS (SELECT 1 FROM deg.quality_results q WHERE q.run_id = r.run_id);
    DELETE FROM deg.contract_feeds WHERE contract_id LIKE 'cron-%';
    DELETE FROM deg.contract_events WHERE contract_id LIKE 'cron-%';
    DELETE FROM deg.contracts WHERE contract_id LIKE 'cron-%';
    DELETE FROM deg.meter_readings WHERE meter::text = 'cron-meter.example.com';
    PERFORM dblink_exec(pg_temp.conninfo('postgres'), 'DROP DATABASE IF EXISTS deg_pgtap_nocron');
END $$;
SELECT pg_temp.clean();

SELECT plan(11);

-- ============ 1. without pg_cron: a clear error ============
DO $$
BEGIN
    PERFORM dblink_exec(pg_temp.conninfo('postgres'), 'CREATE DATABASE deg_pgtap_nocron');
    PERFORM dblink_connect('nocron', pg_temp.conninfo('deg_pgtap_nocron'));
    PERFORM dblink_exec('nocron', 'SET client_min_messages = warning; CREATE EXTENSION deg');
END $$;
SELECT throws_ok($$SELECT * FROM dblink('nocron', 'SELECT deg.schedule_settlement(''daily'', ''0 2 * * *'')') t(job bigint)$$,
    '42704', 'deg.schedule_settlement needs the pg_cron extension, which is not installed in database deg_pgtap_nocron',
    'without pg_cron, schedule_settlement names the missing extension (42704)');
SELECT throws_ok($$SELECT * FROM dblink('nocron', 'SELECT deg.unschedule_settlement(''daily'')') t(done boolean)$$,
    '42704', 'the pg_cron extension is not installed in database deg_pgtap_nocron', 'and so does unschedule_settlement');
DO $$ BEGIN PERFORM dblink_disconnect('nocron'); END $$;

-- ============ 2. the job ============
SELECT throws_ok($$SELECT deg.schedule_settlement('deg-pgtap-yearly', '0 2 1 1 *', '1 year')$$, '22023', NULL,
    'a period length settle_due cannot use is refused');
SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname LIKE 'deg-pgtap-%'), 0, 'and no job was made');
CREATE TEMP TABLE jobs AS SELECT deg.schedule_settlement('deg-pgtap-hourly', '0 3 * * *', '1 hour', '5 minutes') AS first;
ALTER TABLE jobs ADD COLUMN second bigint;
UPDATE jobs SET second = deg.schedule_settlement('deg-pgtap-hourly', '* * * * *', '1 hour', '0 seconds');
SELECT results_eq($$SELECT jobid, schedule COLLATE "default", command COLLATE "default", database COLLATE "default",
                            username COLLATE "default" FROM cron.job WHERE jobname = 'deg-pgtap-hourly'$$,
    $$SELECT first, '* * * * *', 'SELECT count(*) FROM deg.settle_due(''01:00:00''::interval, ''00:00:00''::interval)',
             current_database()::text COLLATE "default", current_user::text COLLATE "default" FROM jobs WHERE second = first$$,
    'scheduling the same name again replaces the job: every minute, settle_due of hours with no collection delay');

-- a contract made three hours ago with a quarter-hourly meter, committed for the job to see
CREATE TEMP TABLE clock AS SELECT now() - interval '3 hours' AS created, date_trunc('hour', now() - interval '3 hours') AS t0;
INSERT INTO deg.contracts (contract_id, body, status, created_at)
SELECT 'cron-1', jsonb_build_object('contractId', 'cron-1', 'status', 'ACTIVE',
    'createdAt', to_char(created AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    'roles', '[{"role": "SELLER", "filled": true, "filledBy": "utility.example.com", "roleInputs": {"pricePerKWh": 8, "currency": "INR"}},
               {"role": "BUYER", "filled": true, "filledBy": "home-cron.example.com"}]'::jsonb,
    'telemetrySources', '[{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "cron-meter.example.com"}}]'::jsonb,
    'revenueFlows', '{"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.importedKWh"}]}'::jsonb
    )::deg.contract, 'ACTIVE', created
  FROM clock;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh)
SELECT 'cron-meter.example.com', tstzrange(t, t + interval '15 min'), 0.25 + extract(minute FROM t) / 100 + extract(hour FROM t)::int / 1000.0
  FROM clock, generate_series(t0, now() + interval '1 hour', interval '15 min') t;

-- wait for the job to run (pg_cron starts jobs at the top of a minute)
DO $$
DECLARE
    deadline timestamptz := clock_timestamp() + interval '90 seconds';
BEGIN
    WHILE clock_timestamp() < deadline AND NOT EXISTS (
            SELECT 1 FROM cron.job_run_details d JOIN cron.job j USING (jobid)
             WHERE j.jobname = 'deg-pgtap-hourly' AND d.status IN ('succeeded', 'failed') AND d.end_time IS NOT NULL) LOOP
        PERFORM pg_sleep(0.5);
    END LOOP;
END $$;
SELECT results_eq($$SELECT d.status, d.return_message FROM cron.job_run_details d JOIN cron.job j USING (jobid)
                     WHERE j.jobname = 'deg-pgtap-hourly' ORDER BY d.runid LIMIT 1$$,
    $$VALUES ('succeeded', 'SELECT 1')$$, 'pg_cron ran the job, and it succeeded');
SELECT is(deg.unschedule_settlement('deg-pgtap-hourly'), true, 'unschedule_settlement removes the job');

-- what the job settled (8 INR x kWh of three decimals never ends in a half cent,
-- so round() is money rounding here): every hour from the one the contract was made in until the
-- hour of the run, each with what its readings owe, once
CREATE TEMP TABLE job_runs AS
SELECT r.* FROM deg.settlement_runs r WHERE r.contract_ids IS NULL AND r.started_by = current_user
   AND EXISTS (SELECT 1 FROM deg.ledger l WHERE l.run_id = r.run_id AND l.contract_id = 'cron-1');
SELECT results_eq($$SELECT DISTINCT lower(period) FROM job_runs ORDER BY 1$$,
    $$SELECT generate_series(t0, date_trunc('hour', (SELECT min(started_at) FROM job_runs)) - interval '1 hour', interval '1 hour')
        FROM clock$$,
    'the job settled every hour from the contract''s first to the last complete one');
SELECT results_eq($$SELECT lower(l.period), l.signed_amount FROM deg.ledger l WHERE l.contract_id = 'cron-1' ORDER BY l.entry_id$$,
    $$SELECT lower(p.period), (SELECT round(sum(8 * imported_kwh), 2) FROM deg.meter_readings
                                WHERE meter = 'cron-meter.example.com' AND reading_interval <@ p.period)
        FROM (SELECT DISTINCT period FROM job_runs) p ORDER BY 1$$,
    'the ledger has one line per hour: 8 INR x that hour''s kWh');
SELECT is_empty($$SELECT * FROM deg.ledger_verify('cron-1')$$, 'and its digest chain verifies');
SELECT is((SELECT count(*)::int FROM cron.job WHERE jobname LIKE 'deg-pgtap-%'), 0, 'no job is left behind');

SELECT * FROM finish();

SELECT pg_temp.clean();
