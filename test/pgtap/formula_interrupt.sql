-- pgTAP: a contract formula that computes for seconds is stopped by statement_timeout
-- and by pg_cancel_backend within a fraction of a second, and the session goes on.
--
-- The slow formula is ten divisions of a 131001-digit number by a 65001-digit one
-- (about half a second each): without the evaluator's interrupt check it runs for
-- seconds, and neither statement_timeout nor a cancel could stop it before the end.
-- Nothing here is committed but the extensions (the second session needs deg).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
CREATE EXTENSION IF NOT EXISTS dblink;

SELECT plan(11);

CREATE FUNCTION pg_temp.contract(id text, formula text) RETURNS deg.contract LANGUAGE sql AS $$
    SELECT jsonb_build_object(
      'contractId', id, 'status', 'ACTIVE', 'createdAt', '2024-12-15T10:00:00Z',
      'roles', '[{"role": "SELLER", "filled": true, "filledBy": "cpo.example.com", "roleInputs": {"pricePerKWh": 18}},
                 {"role": "BUYER", "filled": true, "filledBy": "buyer-1.example.com", "roleInputs": {}}]'::jsonb,
      'telemetrySources', '[{"sourceId": "cdr", "sourceType": "CHARGE_DATA_RECORD",
                             "source": {"era": "IN*ECO*BTM*01*CCS2*A"}}]'::jsonb,
      'revenueFlows', jsonb_build_object('flows', jsonb_build_array(
          jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'formula', formula))))::deg.contract
$$;

CREATE TEMP TABLE contracts AS
SELECT 'slow' AS name,
       pg_temp.contract('slow', (SELECT string_agg(format('(1e131000+%s)/(7e65000+3)', k), ' + ')
                                   FROM generate_series(1, 10) k)) AS c
UNION ALL
SELECT 'fast', pg_temp.contract('fast', 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr.energyKWh')
UNION ALL
-- long numbers, quick: checked against numeric after the cancels
SELECT 'long', pg_temp.contract('long', '(1e20000+1)/(7e10000+3) + (1e8000+9)*(1e8000+11)');

-- evaluate a contract: the SQLSTATE it ends with (00000 when it gives its values), how
-- long it ran, and the value of its first line.  throws_ok cannot be used: a cancel
-- (57014) is not among the errors WHEN OTHERS catches.
CREATE FUNCTION pg_temp.eval(name text, OUT state text, OUT message text, OUT ms float8, OUT value numeric)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    SELECT e.value INTO value
      FROM contracts k, deg.contract_eval(k.c, '{"telemetrySources": {"cdr": {"energyKWh": 2.5}}}') e
     WHERE k.name = eval.name;
    state := '00000';
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
EXCEPTION WHEN query_canceled THEN
    state := SQLSTATE;
    message := SQLERRM;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;

CREATE TEMP TABLE results AS SELECT 'before'::text AS what, * FROM pg_temp.eval('fast');

-- 1. statement_timeout, twice in the same session
SET statement_timeout = '200ms';
INSERT INTO results SELECT 'timeout 1', * FROM pg_temp.eval('slow');
SET statement_timeout = '50ms';
INSERT INTO results SELECT 'timeout 2', * FROM pg_temp.eval('slow');
RESET statement_timeout;
INSERT INTO results SELECT 'after', * FROM pg_temp.eval('fast');
INSERT INTO results SELECT 'long', * FROM pg_temp.eval('long');

SELECT is((SELECT state || ': ' || message FROM results WHERE what = 'timeout 1'),
          '57014: canceling statement due to statement timeout',
          'statement_timeout stops a formula of ten divisions of 131001-digit numbers');
SELECT cmp_ok((SELECT ms FROM results WHERE what = 'timeout 1'), '<', 1000::float8,
              'it stops within a fraction of a second of the 200 ms timeout');
SELECT is((SELECT state FROM results WHERE what = 'timeout 2'), '57014', 'and again, at 50 ms');
SELECT cmp_ok((SELECT ms FROM results WHERE what = 'timeout 2'), '<', 1000::float8,
              'the second time as quickly');
SELECT is((SELECT value FROM results WHERE what = 'after'), (SELECT value FROM results WHERE what = 'before'),
          'the session evaluates a contract after the timeouts as before');
SELECT is((SELECT value FROM results WHERE what = 'after'), 45.0, 'to the right value');
SELECT is((SELECT value FROM results WHERE what = 'long'),
          (1e20000::numeric + 1) / (7e10000::numeric + 3) + (1e8000::numeric + 9) * (1e8000::numeric + 11),
          'a formula over long numbers gives what numeric gives, after the timeouts');

-- 2. pg_cancel_backend from another session, sent while the victim is inside the formula
CREATE FUNCTION pg_temp.cancel_from_outside(OUT state text, OUT ms_running float8, OUT ms_to_cancel float8,
                                            OUT after numeric)
LANGUAGE plpgsql AS $$
DECLARE
    conninfo text := format('dbname=%s host=%s port=%s user=%s', current_database(),
                            split_part(current_setting('unix_socket_directories'), ',', 1),
                            current_setting('port'), current_user);
    victim int;
    sent timestamptz;
    canceled timestamptz;
BEGIN
    PERFORM dblink_connect('victim', conninfo);
    SELECT pid INTO victim FROM dblink('victim', 'SELECT pg_backend_pid()') AS t(pid int);
    PERFORM dblink_send_query('victim', format('SELECT count(*) FROM deg.contract_eval(%L::deg.contract)',
                                               (SELECT c FROM contracts WHERE name = 'slow')));
    sent := clock_timestamp();
    -- until the victim runs the statement, then a little longer: it is computing
    WHILE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                       WHERE a.pid = victim AND a.state = 'active' AND a.query LIKE '%contract_eval%') LOOP
        PERFORM pg_sleep(0.01);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
    PERFORM pg_sleep(0.2);
    canceled := clock_timestamp();
    ms_running := extract(epoch FROM canceled - sent) * 1000;
    PERFORM pg_cancel_backend(victim);
    BEGIN
        PERFORM * FROM dblink_get_result('victim') AS t(n bigint);
        state := '00000';
    EXCEPTION WHEN query_canceled THEN
        state := SQLSTATE;
    END;
    ms_to_cancel := extract(epoch FROM clock_timestamp() - canceled) * 1000;
    PERFORM * FROM dblink_get_result('victim', false) AS t(n bigint);
    SELECT v INTO after FROM dblink('victim', format(
        'SELECT value FROM deg.contract_eval(%L::deg.contract, ''{"telemetrySources": {"cdr": {"energyKWh": 2.5}}}'')',
        (SELECT c FROM contracts WHERE name = 'fast'))) AS t(v numeric);
    PERFORM dblink_disconnect('victim');
END $$;

CREATE TEMP TABLE cancel AS SELECT * FROM pg_temp.cancel_from_outside();
SELECT is((SELECT state FROM cancel), '57014', 'pg_cancel_backend stops the formula in another session');
SELECT cmp_ok((SELECT ms_running FROM cancel), '>=', 200::float8, 'which was computing when canceled');
SELECT cmp_ok((SELECT ms_to_cancel FROM cancel), '<', 1000::float8, 'within a fraction of a second');
SELECT is((SELECT after FROM cancel), 45.0, 'and that session evaluates a contract right after');

SELECT diag(format('stopped after %s ms (timeout 200 ms), %s ms (timeout 50 ms); canceled %s ms after pg_cancel_backend',
                   (SELECT round(ms::numeric, 1) FROM results WHERE what = 'timeout 1'),
                   (SELECT round(ms::numeric, 1) FROM results WHERE what = 'timeout 2'),
                   (SELECT round(ms_to_cancel::numeric, 1) FROM cancel)));

SELECT * FROM finish();
