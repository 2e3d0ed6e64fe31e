-- deg.credential: W3C Verifiable Credentials with eddsa-jcs-2022 proofs
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- RFC 8785: the six input/output pairs, byte for byte (vectors in test/vectors/jcs)
\set in_arrays `cat test/vectors/jcs/input/arrays.json`
\set out_arrays `cat test/vectors/jcs/output/arrays.json`
\set in_french `cat test/vectors/jcs/input/french.json`
\set out_french `cat test/vectors/jcs/output/french.json`
\set in_structures `cat test/vectors/jcs/input/structures.json`
\set out_structures `cat test/vectors/jcs/output/structures.json`
\set in_unicode `cat test/vectors/jcs/input/unicode.json`
\set out_unicode `cat test/vectors/jcs/output/unicode.json`
\set in_values `cat test/vectors/jcs/input/values.json`
\set out_values `cat test/vectors/jcs/output/values.json`
\set in_weird `cat test/vectors/jcs/input/weird.json`
\set out_weird `cat test/vectors/jcs/output/weird.json`
SELECT name, jcs(input::json) = output AS identical FROM (VALUES
    ('arrays', :'in_arrays', :'out_arrays'), ('french', :'in_french', :'out_french'),
    ('structures', :'in_structures', :'out_structures'), ('unicode', :'in_unicode', :'out_unicode'),
    ('values', :'in_values', :'out_values'), ('weird', :'in_weird', :'out_weird')) t(name, input, output);
SELECT jcs('{"b": [1E30, 4.50, 56.0, -0, 2e-3, 333333333.33333329], "a": "\u20ac\n"}');
-- jsonb would silently keep the last duplicate; JCS refuses it
SELECT jcs('{"a": 1, "a": 2}');
SELECT jcs('[1e400]');

-- W3C vc-di-eddsa eddsa-jcs-2022: every intermediate through SQL
\set unsigned `cat test/vectors/vc-di-eddsa/unsigned.json`
\set proof_config `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/proofConfigJCS.json`
\set canon_doc `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/canonDocJCS.txt`
\set canon_proof `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/proofCanonJCS.txt`
\set doc_hash `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/docHashJCS.txt`
\set proof_hash `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/proofHashJCS.txt`
\set combined `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/combinedHashJCS.txt`
\set sig_b58 `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/sigBTC58JCS.txt`
\set signed `cat test/vectors/vc-di-eddsa/eddsa-jcs-2022/signedJCS.json`
\set legacy `cat test/vectors/vc-di-eddsa/legacy-eddsa-jcs-2022-no-proof-context/signedJCS.json`
\set vector_secret z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq
SELECT jcs(:'unsigned') = :'canon_doc' AS canonical_document,
       jcs(:'proof_config') = :'canon_proof' AS canonical_proof_options,
       encode(sha256(convert_to(jcs(:'unsigned'), 'UTF8')), 'hex') = :'doc_hash' AS document_hash,
       encode(sha256(convert_to(jcs(:'proof_config'), 'UTF8')), 'hex') = :'proof_hash' AS proof_hash;
-- signing with the vector key and proof options (the document's @context is copied into the proof)
SELECT c::jsonb -> 'proof' ->> 'proofValue' = :'sig_b58' AS proof_value_reproduced,
       encode(credential_signing_input(c), 'hex') = :'combined' AS combined_hash,
       c::jsonb = :'signed'::jsonb AS equals_signed_vector,
       credential_verify(c) AS verifies
  FROM (SELECT credential_sign(:'unsigned', :'vector_secret'::bytea, (:'proof_config'::jsonb - '@context')::json) AS c) s;
SELECT credential_verify(:'signed') AS current_vector, credential_verify(:'legacy') AS legacy_vector,
       credential_verify(:'signed', did_key_public_key('did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2')) AS with_explicit_key,
       credential_verify(:'signed', public_key(:'vector_secret'::bytea)) AS with_derived_key;
-- tampering: a claim, the proof's created, the proof's @context, the document @context order, another key
SELECT credential_verify(jsonb_set(:'signed'::jsonb, '{credentialSubject,alumniOf}', '"Another School"')::credential) AS tampered_claim,
       credential_verify(jsonb_set(:'signed'::jsonb, '{proof,created}', '"2023-02-24T23:36:39Z"')::credential) AS tampered_created,
       credential_verify((:'signed'::jsonb #- '{proof,@context}')::credential) AS proof_context_deleted,
       credential_verify(jsonb_set(:'signed'::jsonb, '{@context}', '["https://www.w3.org/ns/credentials/v2"]')::credential) AS context_shortened,
       credential_verify(:'signed', (keypair()).public_key) AS other_key;
SELECT credential_proof(jsonb_set(:'signed'::jsonb, '{@context}',
           '["https://www.w3.org/ns/credentials/v2", "https://example.org/other/v1"]')::credential);
-- a document whose @context no longer starts with the VCDM context is not a credential at all
SELECT jsonb_set(:'signed'::jsonb, '{@context}',
           '["https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/v2"]')::credential;

-- accessors
SELECT credential_id(c), credential_issuer(c), credential_subject(c), credential_subject_id(c),
       credential_types(c), credential_claims(c), credential_valid_from(c), credential_valid_until(c),
       credential_proof(c), c ? 'AlumniCredential' AS has_type, c @> '{"alumniOf": "The School of Examples"}' AS claims
  FROM (SELECT :'signed'::credential AS c) s;
SELECT :'signed'::credential::text = jcs(:'signed') AS text_form_is_canonical;

-- keys and did:key (vectors in test/vectors/did-key: seed -> DID)
\set didkeys `cat test/vectors/did-key/ed25519-x25519.json`
SELECT did_key(public_key(decode(v->>'seed', 'hex'))) = d AS did_from_seed,
       did_key_public_key(d) = public_key(decode(v->>'seed', 'hex')) AS key_from_did
  FROM jsonb_each(:'didkeys'::jsonb) AS t(d, v);
SELECT octet_length(public_key) AS pk, octet_length(secret_key) AS sk,
       did_key_public_key(did_key(public_key)) = public_key AS round_trip,
       public_key(secret_key) = public_key AS derived
  FROM keypair();
SELECT did_key(public_key(:'vector_secret'::bytea));

-- issue, verify, check, revoke
\set issuer_secret '\\x' '9f1e7b5c3a2d4f6e8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5'
INSERT INTO issuers (issuer, public_key, credential_types, name)
VALUES ('did:deg:city-utility', public_key(:'issuer_secret'::bytea), '{GreenEnergyCertificate,GridInterconnectionApproval,BitstringStatusListCredential}', 'City utility'),
       ('did:deg:untrusted', public_key('\x0101010101010101010101010101010101010101010101010101010101010101'), NULL, 'Untrusted');
UPDATE issuers SET trusted = false WHERE issuer = 'did:deg:untrusted';
SELECT status_list_create('https://utility.example.com/status/1', 'did:deg:city-utility');

CREATE TEMP TABLE issued (name text, c credential);
INSERT INTO issued VALUES
 ('green', credential_issue('did:deg:city-utility', :'issuer_secret', 'household-solar-001.prosumer@example.com',
        '{GreenEnergyCertificate}', '{"energySource": "solar", "capacityKW": 5.4}',
        now() - interval '1 day', now() + interval '1 year', 'https://utility.example.com/status/1')),
 ('green 2', credential_issue('did:deg:city-utility', :'issuer_secret', 'household-solar-009.prosumer.example.com',
        '{GreenEnergyCertificate}', '{"energySource": "solar"}', now() - interval '1 day')),
 ('expired', credential_issue('did:deg:city-utility', :'issuer_secret', 'h2.prosumer.example.com',
        '{GreenEnergyCertificate}', '{}', '2020-01-01 00:00Z', '2021-01-01 00:00Z')),
 ('future', credential_issue('did:deg:city-utility', :'issuer_secret', 'h3.prosumer.example.com',
        '{GreenEnergyCertificate}', '{}', '2099-01-01 00:00Z')),
 ('wrong type', credential_issue('did:deg:city-utility', :'issuer_secret', 'h4.prosumer.example.com',
        '{SafetyCertificate}', '{}', now() - interval '1 day')),
 ('untrusted', credential_issue('did:deg:untrusted', '\x0101010101010101010101010101010101010101010101010101010101010101',
        'h5.prosumer.example.com', '{GreenEnergyCertificate}', '{}', now() - interval '1 day')),
 ('unregistered', credential_issue('did:deg:somebody', '\x0202020202020202020202020202020202020202020202020202020202020202',
        'h6.prosumer.example.com', '{GreenEnergyCertificate}', '{}', now() - interval '1 day')),
 ('impostor', credential_issue('did:deg:city-utility', '\x0303030303030303030303030303030303030303030303030303030303030303',
        'h7.prosumer.example.com', '{GreenEnergyCertificate}', '{}', now() - interval '1 day')),
 ('did subject', credential_issue('did:deg:city-utility', :'issuer_secret', 'did:deg:household-solar-002',
        '{GridInterconnectionApproval}', '{"approvedExportKW": 4}', now() - interval '1 day'));
SELECT name, credential_verify(c) AS verifies, (credential_check(c)).*, credential_subject(c) AS subject,
       credential_subject_id(c) AS subject_id, credential_status(c) AS status
  FROM issued ORDER BY name;
SELECT credential_revoke(c) AS newly_revoked FROM issued WHERE name = 'green';
SELECT credential_revoke(c) AS newly_revoked FROM issued WHERE name = 'green';
SELECT name, (credential_check(c)).reason, credential_status(c) FROM issued WHERE name = 'green';
SELECT (credential_check(c, '2020-06-01 00:00Z')).reason AS checked_in_the_past FROM issued WHERE name = 'expired';
SELECT credential_revoke(:'signed');

-- the status list published as a signed BitstringStatusListCredential
SELECT credential_types(s) AS types, credential_verify(s) AS verifies,
       (credential_check(s)).reason,
       status_list_get(status_list_decode(credential_claims(s)->>'encodedList'), credential_status_index(i.c)) AS revoked_bit,
       credential_claims(s)->>'statusPurpose' AS purpose
  FROM issued i, LATERAL status_list_credential(credential_status_list(i.c), :'issuer_secret') s
 WHERE i.name = 'green';

-- status list vectors: each encodedList decodes to exactly its documented bits
\set slv `cat test/vectors/status-list/status-list-vectors.json`
WITH decoded AS MATERIALIZED (
    SELECT v, status_list_decode(v->>'encodedList') AS bits
      FROM jsonb_array_elements(:'slv'::jsonb->'vectors') v
     WHERE (v->'expected'->>'decodes')::boolean)
SELECT v->>'id' AS vector,
       octet_length(bits) * 8 = (v->'expected'->>'length_bits')::int
       AND ARRAY(SELECT i FROM generate_series(0, octet_length(bits) * 8 - 1) i WHERE status_list_get(bits, i))
           = ARRAY(SELECT jsonb_array_elements_text(v->'expected'->'set_indexes')::int) AS decodes_as_documented
  FROM decoded;
SELECT status_list_decode(v->>'encodedList') FROM jsonb_array_elements(:'slv'::jsonb->'vectors') v
 WHERE NOT (v->'expected'->>'decodes')::boolean;
SELECT status_list_decode(status_list_encode(status_list_set(decode(repeat('00', 16384), 'hex'), 50000, true)))
       = status_list_set(decode(repeat('00', 16384), 'hex'), 50000, true) AS list_round_trips;
SELECT status_list_encode(decode(repeat('00', 100), 'hex'));

-- the credentials table: "valid GreenEnergyCertificates of resources under prosumer.example.com" from indexes
INSERT INTO credentials (credential) SELECT c FROM issued;
INSERT INTO credentials (credential) VALUES (:'signed'), (:'signed');
SELECT name FROM issued i JOIN credentials k ON k.credential_id = credential_key(i.c)
 WHERE k.subject <@ 'prosumer.example.com' AND k.types @> '{GreenEnergyCertificate}'
   AND (credential_check(k.credential)).valid ORDER BY name;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT credential_id FROM credentials
 WHERE subject <@ 'prosumer.example.com' AND types @> '{GreenEnergyCertificate}';
RESET enable_seqscan;

-- bad input
\set VERBOSITY default
SELECT '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"]'::credential;
SELECT '{"type": ["VerifiableCredential"], "issuer": "x", "credentialSubject": {}}'::credential;
SELECT '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["Thing"], "issuer": "x", "credentialSubject": {}}'::credential;
SELECT '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "credentialSubject": {}}'::credential;
SELECT '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "issuer": "x",
         "credentialSubject": {}, "validFrom": "not a date"}'::credential;
SELECT '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "issuer": "x",
         "credentialSubject": {"era": "bad..era"}}'::credential;
SELECT '{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": "VerifiableCredential", "issuer": "x",
         "credentialSubject": {}, "issuer": "y"}'::credential;
SELECT credential_sign('{"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                         "issuer": "x", "credentialSubject": {}}', '\x0102');
SELECT public_key('z3u2notavalidkey'::bytea);
SELECT credential_verify(:'signed', '\x00');
SELECT did_key_public_key('did:key:z6MkBadBadBad');
-- a credential without a proof, and one with a proof deg cannot verify (the DEG example's)
SELECT credential_verify(c), credential_proof(c)
  FROM (VALUES ('{"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential", "UtilityCustomerCredential"],
                  "issuer": {"id": "did:web:example-utility.com", "name": "Utility"}, "issuanceDate": "2024-01-01T00:00:00Z",
                  "credentialSubject": {"id": "did:example:customer-1"}}'::credential),
               ('{"@context": ["https://www.w3.org/2018/credentials/v1"], "type": ["VerifiableCredential"], "issuer": "did:web:u",
                  "credentialSubject": {}, "proof": {"type": "Ed25519Signature2020", "proofValue": "z3FXQjecWufY46..."}}')) t(c);
