-- pgTAP: row-level security per participant, analysts and operators, and SECURITY DEFINER
-- functions that a user's own objects in public cannot hijack
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;

SELECT plan(21);

CREATE FUNCTION pg_temp.contract(id text, buyer text) RETURNS deg.contract LANGUAGE sql AS $$
    SELECT ('{"contractId": "' || id || '", "status": "ACTIVE", "createdAt": "2024-01-01T00:00:00Z",
      "inputParameters": {"currency": "INR"},
      "roles": [{"role": "SELLER", "filled": true, "filledBy": "utility.example.com"},
                {"role": "BUYER", "filled": true, "filledBy": "' || buyer || '"}],
      "telemetrySources": [{"sourceId": "m", "sourceType": "METER_READING", "source": {"era": "meter-' || id || '.example.com"}}],
      "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "2 × telemetrySources.m.importedKWh"}]}}')::deg.contract
$$;
INSERT INTO deg.contracts (contract_id, body, status) VALUES
    ('sec-1', pg_temp.contract('sec-1', 'home-1.example.com'), 'ACTIVE'),
    ('sec-2', pg_temp.contract('sec-2', 'home-2.example.com'), 'ACTIVE');
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh) VALUES
    ('meter-sec-1.example.com', '[2024-01-01 10:00+00, 2024-01-01 11:00+00)', 3),
    ('meter-sec-2.example.com', '[2024-01-01 10:00+00, 2024-01-01 11:00+00)', 5);
SELECT deg.settle('[2024-01-01 00:00+00, 2024-01-02 00:00+00)', ARRAY['sec-1', 'sec-2']);

CREATE ROLE deg_test_home1 IN ROLE deg_participant;
CREATE ROLE deg_test_analyst IN ROLE deg_reader;
CREATE ROLE deg_test_operator IN ROLE deg_operator;
CREATE ROLE deg_test_nobody;
INSERT INTO deg.participant_roles (db_role, participant) VALUES ('deg_test_home1', 'home-1.example.com');

SET ROLE deg_test_home1;
SELECT is(deg.my_participants(), ARRAY['home-1.example.com'::deg.era], 'a participant''s role acts for its ERAs');
SELECT results_eq($$SELECT contract_id FROM deg.contracts WHERE contract_id LIKE 'sec-%'$$, $$VALUES ('sec-1')$$,
    'a participant sees only the contracts it fills');
SELECT results_eq($$SELECT contract_id, amount FROM deg.ledger WHERE contract_id LIKE 'sec-%'$$, $$VALUES ('sec-1', 6.00)$$,
    'and only the ledger lines it pays or receives');
SELECT results_eq($$SELECT DISTINCT contract_id FROM deg.contract_events WHERE contract_id LIKE 'sec-%'$$, $$VALUES ('sec-1')$$,
    'and only its contracts'' events');
SELECT is((SELECT count(*)::int FROM deg.contract_events WHERE contract_id = 'sec-2'), 0,
    'another contract''s events cannot be asked for by id');
SELECT is((SELECT count(*)::int FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'deg' AND p.prosecdef AND p.proname LIKE '%visible%'), 0,
    'no definer function answers whether an ERA takes part in a contract the caller cannot see');
SELECT results_eq($$SELECT participant::text, net FROM deg.net_positions WHERE period = '[2024-01-01 00:00+00, 2024-01-02 00:00+00)' ORDER BY 1$$,
    $$VALUES ('home-1.example.com', -6.00), ('utility.example.com', 6.00)$$,
    'the analyst views show it only its own lines');
SELECT throws_ok($$INSERT INTO deg.ledger (run_id, contract_id, period, kind, line, from_role, to_role, payer_role, payer,
                                          payee_role, payee, amount, signed_amount, currency, digest)
                   VALUES (1, 'sec-1', '[2024-01-01, 2024-01-02)', 'flow', '9', 'BUYER', 'SELLER', 'BUYER', 'home-1.example.com',
                           'SELLER', 'utility.example.com', 1, 1, 'INR', '\x00')$$,
    '42501', NULL, 'a participant cannot write the ledger');
SELECT throws_ok($$SELECT deg.settle('[2024-01-01 00:00+00, 2024-01-02 00:00+00)')$$, '42501', NULL,
    'nor run a settlement');
RESET ROLE;

SET ROLE deg_test_analyst;
SELECT ok(deg.my_participants() IS NULL, 'an analyst acts for no participant');
SELECT results_eq($$SELECT contract_id FROM deg.contracts WHERE contract_id LIKE 'sec-%' ORDER BY 1$$, $$VALUES ('sec-1'), ('sec-2')$$,
    'an analyst sees every contract');
SELECT is((SELECT count(*)::int FROM deg.ledger WHERE contract_id LIKE 'sec-%'), 2, 'and every ledger line');
SELECT throws_ok($$SELECT deg.settle('[2024-01-01 00:00+00, 2024-01-02 00:00+00)')$$, '42501', NULL,
    'an analyst cannot run a settlement');
RESET ROLE;

SET ROLE deg_test_nobody;
SELECT throws_ok($$SELECT count(*) FROM deg.ledger$$, '42501', NULL, 'a role with no deg role reads nothing');
SELECT throws_ok($$SELECT deg.credential_issue('did:x', '\x00', 'a.example.com', '{X}', '{}', now())$$, '42501', NULL,
    'nor issues credentials');
RESET ROLE;

SET ROLE deg_test_operator;
SELECT is((SELECT count(*)::int FROM deg.ledger WHERE contract_id LIKE 'sec-%'), 2, 'an operator sees every line');
SELECT lives_ok($$SELECT deg.settle('[2024-01-01 00:00+00, 2024-01-02 00:00+00)', ARRAY['sec-1', 'sec-2'])$$,
    'and runs settlements (as the extension''s owner: the ledger stays closed to direct writes)');
RESET ROLE;

-- the catalog: every SECURITY DEFINER function pins its search_path, temporary objects last, and
-- none but trigger functions (which cannot be called directly) is executable by PUBLIC
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'deg'::regnamespace AND p.prosecdef
              AND NOT coalesce('search_path=pg_catalog, deg, pg_temp' = ANY (p.proconfig), false)),
    NULL, 'every SECURITY DEFINER function runs with search_path pg_catalog, deg, pg_temp');
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'deg'::regnamespace AND p.prosecdef AND p.prorettype <> 'trigger'::regtype
              AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                           WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')),
    NULL, 'no SECURITY DEFINER function is executable by PUBLIC');
SELECT is((SELECT array_agg(p.proname::text ORDER BY 1) FROM pg_catalog.pg_proc p
            WHERE p.pronamespace = 'deg'::regnamespace
              AND p.proname IN ('credential_issue', 'credential_sign', 'credential_revoke', 'status_list_create',
                                'status_list_credential', 'contract_sign', 'settle', 'settle_due', 'schedule_settlement',
                                'unschedule_settlement', 'clear_contract', 'allocate_trades', 'accept_offer')
              AND EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
                           WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE')),
    NULL, 'issuing, signing, revoking, settling, clearing and accepting are not granted to PUBLIC');

-- a user's own function in public named like one deg calls does not change what deg computes
CREATE FUNCTION public.round_half_even(x numeric, scale integer) RETURNS numeric LANGUAGE sql AS 'SELECT 999::numeric';
CREATE FUNCTION public.contract_participants(c deg.contract, OUT role text, OUT participant deg.era) RETURNS SETOF record
    LANGUAGE sql AS $$SELECT 'BUYER'::text, 'home-1.example.com'::deg.era$$;
SET search_path = public, deg;
SELECT results_eq($$SELECT amount FROM deg.contract_billing('sec-2', '[2024-01-01 00:00+00, 2024-01-02 00:00+00)')$$,
    $$VALUES (10.00)$$, 'deg''s functions run with a fixed search_path: look-alikes in public are not called');

SELECT * FROM finish();
ROLLBACK;
