-- pgTAP: credentials — behaviour, privileges, key handling, indexes
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

SELECT plan(22);

SELECT has_type('deg', 'credential', 'type deg.credential exists');
SELECT has_table('deg', 'issuers', 'deg.issuers exists');
SELECT has_table('deg', 'status_lists', 'deg.status_lists exists');
SELECT has_table('deg', 'credentials', 'deg.credentials exists');
-- (deg.contract_feeds is derived from deg.contracts by a trigger, so a restore rebuilds it)
SELECT ok((SELECT bool_and(c.oid = ANY (e.extconfig)) FROM pg_extension e, pg_class c
            WHERE e.extname = 'deg' AND c.relnamespace = 'deg'::regnamespace AND c.relkind = 'r'
              AND c.oid <> 'deg.contract_feeds'::regclass),
          'every deg table is a config table that pg_dump includes');

-- issuing, revoking and signing are not granted to PUBLIC
SELECT ok(NOT has_function_privilege('public', 'deg.credential_issue(text, bytea, deg.era, text[], jsonb, timestamptz, timestamptz, text)', 'EXECUTE'),
          'PUBLIC may not issue credentials');
SELECT ok(NOT has_function_privilege('public', 'deg.credential_sign(json, bytea)', 'EXECUTE')
          AND NOT has_function_privilege('public', 'deg.credential_sign(json, bytea, json)', 'EXECUTE'),
          'PUBLIC may not sign');
SELECT ok(NOT has_function_privilege('public', 'deg.credential_revoke(deg.credential)', 'EXECUTE'),
          'PUBLIC may not revoke');
SELECT ok(has_function_privilege('deg_admin', 'deg.credential_issue(text, bytea, deg.era, text[], jsonb, timestamptz, timestamptz, text)', 'EXECUTE'),
          'deg_admin may issue');
SELECT ok(has_function_privilege('public', 'deg.credential_verify(deg.credential)', 'EXECUTE'),
          'anyone may verify');
CREATE ROLE deg_test_outsider NOLOGIN;
SET LOCAL ROLE deg_test_outsider;
SELECT throws_ok($$SELECT deg.credential_sign('{}', '\x00')$$, '42501', NULL,
                 'a role without deg_admin cannot call credential_sign');
RESET ROLE;

-- key material never appears in an error
CREATE TEMP TABLE k AS SELECT * FROM deg.keypair();
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; d text; h text;
BEGIN
    EXECUTE q;
    RETURN NULL;
EXCEPTION WHEN others THEN
    -- what deg reports: message, detail and hint (the context would quote this very statement)
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    RETURN concat_ws(' | ', m, d, h);
END $$;
SELECT ok((SELECT e IS NOT NULL AND position(encode(secret_key, 'hex') IN e) = 0 AND position(encode(secret_key, 'base64') IN e) = 0
             FROM k, LATERAL pg_temp.error_of(format($q$SELECT deg.credential_sign('{"not": "a credential"}', %L::bytea)$q$, secret_key)) e),
          'signing a bad document does not echo the secret key');
SELECT ok((SELECT e IS NOT NULL AND position(encode(substr(secret_key, 1, 31), 'hex') IN e) = 0
             FROM k, LATERAL pg_temp.error_of(format($q$SELECT deg.public_key(%L::bytea)$q$, substr(secret_key, 1, 31))) e),
          'a secret key of the wrong length is not echoed');
SELECT ok((SELECT e LIKE 'invalid Ed25519 secret key%' AND position('z3u2' || 'badkey' IN e) = 0
             FROM pg_temp.error_of($q$SELECT deg.public_key('z3u2badkey'::bytea)$q$) e),
          'a malformed multibase secret is not echoed');

-- NULLs
SELECT is(deg.credential_verify(NULL::deg.credential), NULL, 'credential_verify(NULL) is NULL');
SELECT is((deg.credential_check(NULL)).valid, NULL, 'credential_check(NULL) is NULL');

-- verify returns false, never an error, for a wrong key or a broken signature
INSERT INTO deg.issuers (issuer, public_key) SELECT 'did:deg:test-utility', public_key FROM k;
CREATE TEMP TABLE issued AS
SELECT i, deg.credential_sign(jsonb_build_object(
        '@context', jsonb_build_array('https://www.w3.org/ns/credentials/v2'),
        'id', 'urn:test:' || i,
        'type', jsonb_build_array('VerifiableCredential', CASE WHEN i % 3 = 0 THEN 'SafetyCertificate' ELSE 'GreenEnergyCertificate' END),
        'issuer', 'did:deg:test-utility',
        'validFrom', '2024-01-01T00:00:00Z',
        'validUntil', CASE WHEN i % 10 = 0 THEN '2024-06-01T00:00:00Z' ELSE '2099-01-01T00:00:00Z' END,
        'credentialSubject', jsonb_build_object('era', format('h%s.%s.example.com', i, CASE WHEN i % 2 = 0 THEN 'prosumer' ELSE 'consumer' END),
                                                'energySource', 'solar'))::text::json,
        (SELECT secret_key FROM k)) AS c
FROM generate_series(1, 3000) i;
SELECT is((SELECT count(*)::int FROM issued WHERE deg.credential_verify(c)), 3000, '3000 signed credentials verify');
SELECT is((SELECT count(*)::int FROM issued, deg.keypair() other WHERE deg.credential_verify(c, other.public_key)), 0,
          'none verifies with another key');
SELECT is((SELECT count(*)::int FROM issued
            WHERE deg.credential_verify((jsonb_set(c::jsonb, '{credentialSubject,energySource}', '"coal"'))::deg.credential)), 0,
          'none verifies after a claim is changed');

-- the credentials table answers a namespace + type query from its indexes
INSERT INTO deg.credentials (credential) SELECT c FROM issued;
ANALYZE deg.credentials;
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; plan text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || r || E'\n'; END LOOP;
    RETURN plan;
END $$;
SELECT doesnt_match(pg_temp.plan_of($$SELECT credential_id FROM deg.credentials
                                WHERE subject <@ 'h42.prosumer.example.com' AND types @> '{GreenEnergyCertificate}'$$),
              'Seq Scan', 'credentials of resources under a namespace: no sequential scan');
SELECT is((SELECT count(*)::int FROM deg.credentials
            WHERE subject <@ 'prosumer.example.com' AND types @> '{GreenEnergyCertificate}'
              AND (deg.credential_check(credential, '2025-01-01')).valid), 800,
          'valid GreenEnergyCertificates under prosumer.example.com: 1500 even, less 500 safety, less 200 expired');
SELECT is((SELECT (deg.credential_check(credential, '2025-01-01')).reason FROM deg.credentials WHERE credential_id = 'urn:test:10'),
          'expired at ' || '2024-06-01 00:00:00+00'::timestamptz::text, 'an expired one says so');

SELECT * FROM finish();
ROLLBACK;
