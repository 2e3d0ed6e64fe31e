-- pgTAP: two sessions claim the same role at the same moment, many times.
-- Setup is committed (the racing sessions must see it); it is removed at the end.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
CREATE EXTENSION IF NOT EXISTS dblink;
SET search_path = deg, public;

-- 200 contracts with one open BUYER role each
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'race-' || i, ('{"contractId": "race-' || i || '", "status": "PENDING", "createdAt": "2024-12-15T10:00:00Z",
    "roles": [{"role": "SELLER", "filled": true, "filledBy": "cpo.example.com", "roleInputs": {"pricePerKWh": 18}},
              {"role": "BUYER", "filled": false, "filledBy": null}],
    "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh * 2"}]}}')::deg.contract,
    'PENDING'
FROM generate_series(1, 200) i;

CREATE TEMP TABLE race_results (round int, who text, ok boolean, sqlstate text, message text);

DO $$
DECLARE
    conninfo text := format('dbname=%s host=%s port=%s user=%s', current_database(),
                            split_part(current_setting('unix_socket_directories'), ',', 1),
                            current_setting('port'), current_user);
    i int;
    who text;
    res record;
    err text;
BEGIN
    PERFORM dblink_connect('racer_a', conninfo);
    PERFORM dblink_connect('racer_b', conninfo);
    FOR i IN 1..200 LOOP
        -- both claims are on the wire before either is answered
        PERFORM dblink_send_query('racer_a', format(
            'INSERT INTO deg.role_claims (contract_id, role, participant) VALUES (%L, ''BUYER'', %L)',
            'race-' || i, 'driver-a.example.com'));
        PERFORM dblink_send_query('racer_b', format(
            'INSERT INTO deg.role_claims (contract_id, role, participant) VALUES (%L, ''BUYER'', %L)',
            'race-' || i, 'driver-b.example.com'));
        FOREACH who IN ARRAY ARRAY['racer_a', 'racer_b'] LOOP
            BEGIN
                SELECT * INTO res FROM dblink_get_result(who) AS t(status text);
                INSERT INTO race_results VALUES (i, who, true, NULL, NULL);
            EXCEPTION WHEN others THEN
                GET STACKED DIAGNOSTICS err = MESSAGE_TEXT;
                INSERT INTO race_results VALUES (i, who, false, SQLSTATE, err);
            END;
            -- drain the end of the result set
            PERFORM * FROM dblink_get_result(who, false) AS t(status text);
        END LOOP;
    END LOOP;
    PERFORM dblink_disconnect('racer_a');
    PERFORM dblink_disconnect('racer_b');
END $$;

SELECT plan(6);
SELECT is((SELECT count(DISTINCT round)::int FROM race_results), 200, '200 rounds were raced');
SELECT is((SELECT count(*)::int FROM (SELECT round FROM race_results GROUP BY round HAVING count(*) FILTER (WHERE ok) = 1) s), 200,
          'in every round exactly one claim succeeded');
SELECT is((SELECT count(*)::int FROM race_results WHERE NOT ok AND sqlstate = '23505'
             AND message LIKE 'role BUYER of contract race-% is already filled'), 200,
          'every losing claim got 23505 "role BUYER of contract ... is already filled"');
SELECT is((SELECT count(*)::int FROM race_results WHERE sqlstate = '40P01'), 0, 'no deadlock had to be broken');
SELECT is((SELECT count(*)::int FROM deg.role_claims WHERE contract_id LIKE 'race-%'), 200, 'one claim row per contract');
SELECT is((SELECT count(*)::int FROM deg.contracts c, deg.contract_participants(c.body) p
            WHERE c.contract_id LIKE 'race-%' AND p.role = 'BUYER'), 200,
          'every contract has exactly one BUYER, and it is ACTIVE') ;
SELECT * FROM finish();

-- clean up the committed rows (events and claims are append-only: bypass their guard triggers)
SET session_replication_role = replica;
DELETE FROM deg.contract_events WHERE contract_id LIKE 'race-%';
DELETE FROM deg.role_claims WHERE contract_id LIKE 'race-%';
DELETE FROM deg.contracts WHERE contract_id LIKE 'race-%';
RESET session_replication_role;
