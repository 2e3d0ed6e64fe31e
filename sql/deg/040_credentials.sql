-- Verifiable credentials: the credential type, eddsa-jcs-2022, did:key,
-- issuers and Bitstring Status Lists (src/credential.c, src/core/vc.c).

CREATE FUNCTION deg.jcs(json) RETURNS text
    AS 'MODULE_PATHNAME', 'jcs_text' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.jcs(json) IS 'RFC 8785 canonical form of a JSON text (from the text itself: duplicate keys are an error)';

-- keys and DIDs
CREATE FUNCTION deg.keypair(OUT public_key bytea, OUT secret_key bytea)
    AS 'MODULE_PATHNAME', 'deg_keypair' LANGUAGE C VOLATILE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.keypair() IS 'a new Ed25519 key pair: 32-byte public key and 32-byte secret seed (libsodium)';
CREATE FUNCTION deg.public_key(secret_key bytea) RETURNS bytea
    AS 'MODULE_PATHNAME', 'deg_public_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.public_key(bytea) IS 'the Ed25519 public key of a secret key (32-byte seed, 64-byte seed||pk, or multibase z3u2... text)';
CREATE FUNCTION deg.did_key(public_key bytea) RETURNS text
    AS 'MODULE_PATHNAME', 'deg_did_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.did_key(bytea) IS 'did:key:z6Mk... of an Ed25519 public key (multicodec 0xed01, base58btc)';
CREATE FUNCTION deg.did_key_public_key(did text) RETURNS bytea
    AS 'MODULE_PATHNAME', 'deg_did_key_public_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.did_key_public_key(text) IS 'the Ed25519 public key of a did:key (or of a did:key#fragment verification method)';

-- the credential type
CREATE TYPE deg.credential;
CREATE FUNCTION deg.credential_in(cstring) RETURNS deg.credential
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_out(deg.credential) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_recv(internal) RETURNS deg.credential
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_send(deg.credential) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.credential (
    INPUT = deg.credential_in, OUTPUT = deg.credential_out,
    RECEIVE = deg.credential_recv, SEND = deg.credential_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE deg.credential IS 'a W3C Verifiable Credential (VCDM 2.0, 1.1 accepted), kept with what verifying and filtering need';

CREATE FUNCTION deg.credential(jsonb) RETURNS deg.credential
    AS 'MODULE_PATHNAME', 'credential_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_jsonb(deg.credential) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'credential_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (jsonb AS deg.credential) WITH FUNCTION deg.credential(jsonb);
CREATE CAST (deg.credential AS jsonb) WITH FUNCTION deg.credential_jsonb(deg.credential);

-- accessors
CREATE FUNCTION deg.credential_id(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_key(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_issuer(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_subject(deg.credential) RETURNS deg.era
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_subject_id(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_types(deg.credential) RETURNS text[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_claims(deg.credential) RETURNS jsonb
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_valid_from(deg.credential) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_valid_until(deg.credential) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_status_list(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_status_index(deg.credential) RETURNS bigint
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_status_purpose(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_proof(deg.credential) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.credential_id(deg.credential) IS 'the credential''s id, NULL when it has none';
COMMENT ON FUNCTION deg.credential_key(deg.credential) IS 'the id, or sha256:<hex> of the canonical text when there is none';
COMMENT ON FUNCTION deg.credential_issuer(deg.credential) IS 'the issuer id (DID or URL)';
COMMENT ON FUNCTION deg.credential_subject(deg.credential) IS 'the subject''s ERA: credentialSubject.era, else credentialSubject.id when it is an ERA';
COMMENT ON FUNCTION deg.credential_subject_id(deg.credential) IS 'credentialSubject.id';
COMMENT ON FUNCTION deg.credential_types(deg.credential) IS 'the credential types besides VerifiableCredential';
COMMENT ON FUNCTION deg.credential_claims(deg.credential) IS 'credentialSubject without id and era';
COMMENT ON FUNCTION deg.credential_valid_from(deg.credential) IS 'validFrom (issuanceDate in VCDM 1.1)';
COMMENT ON FUNCTION deg.credential_valid_until(deg.credential) IS 'validUntil (expirationDate in VCDM 1.1)';
COMMENT ON FUNCTION deg.credential_status_list(deg.credential) IS 'credentialStatus.statusListCredential';
COMMENT ON FUNCTION deg.credential_status_index(deg.credential) IS 'credentialStatus.statusListIndex';
COMMENT ON FUNCTION deg.credential_status_purpose(deg.credential) IS 'credentialStatus.statusPurpose';
COMMENT ON FUNCTION deg.credential_proof(deg.credential) IS 'eddsa-jcs-2022 when the proof can be verified, otherwise why not';

CREATE FUNCTION deg.credential_has_type(deg.credential, text) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_claims_contain(deg.credential, jsonb) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OPERATOR deg.? (LEFTARG = deg.credential, RIGHTARG = text, FUNCTION = deg.credential_has_type,
                       RESTRICT = contsel, JOIN = contjoinsel);
COMMENT ON OPERATOR deg.? (deg.credential, text) IS 'the credential has this type';
CREATE OPERATOR deg.@> (LEFTARG = deg.credential, RIGHTARG = jsonb, FUNCTION = deg.credential_claims_contain,
                        RESTRICT = contsel, JOIN = contjoinsel);
COMMENT ON OPERATOR deg.@> (deg.credential, jsonb) IS 'the credential''s claims contain these';

-- signing and verifying
CREATE FUNCTION deg.credential_sign(document json, secret_key bytea) RETURNS deg.credential
    AS 'MODULE_PATHNAME', 'credential_sign' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000;
CREATE FUNCTION deg.credential_sign(document json, secret_key bytea, proof_options json) RETURNS deg.credential
    AS 'MODULE_PATHNAME', 'credential_sign' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION deg.credential_sign(json, bytea, json) IS 'add a DataIntegrityProof (eddsa-jcs-2022) to a credential document; created defaults to the transaction time, verificationMethod to the key''s did:key';
-- an Ed25519 verification costs tens of microseconds: tell the planner (it then parallelizes big scans)
CREATE FUNCTION deg.credential_verify(c deg.credential) RETURNS boolean
    AS 'MODULE_PATHNAME', 'credential_verify' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
CREATE FUNCTION deg.credential_verify(c deg.credential, public_key bytea) RETURNS boolean
    AS 'MODULE_PATHNAME', 'credential_verify_key' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
CREATE FUNCTION deg.credential_signing_input(deg.credential) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.credential_signature(deg.credential) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.credential_signing_input(deg.credential) IS 'the 64 bytes the proof signs: SHA-256 of the canonical proof options, then of the canonical document (NULL without a verifiable proof)';
COMMENT ON FUNCTION deg.credential_signature(deg.credential) IS 'the 64-byte Ed25519 signature of the proof (NULL without a verifiable proof)';
COMMENT ON FUNCTION deg.credential_verify(deg.credential) IS 'the proof verifies with the did:key of its verification method';
COMMENT ON FUNCTION deg.credential_verify(deg.credential, bytea) IS 'the proof verifies with this Ed25519 public key';

-- status lists (W3C Bitstring Status List: bit 0 is the most significant bit of byte 0)
CREATE FUNCTION deg.status_list_encode(bits bytea) RETURNS text
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.status_list_decode(encoded_list text) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.status_list_get(bits bytea, index bigint) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.status_list_set(bits bytea, index bigint, value boolean) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.status_list_encode(bytea) IS 'encodedList of a bitstring: u + base64url(GZIP), at least 131,072 entries';
COMMENT ON FUNCTION deg.status_list_decode(text) IS 'the bitstring of an encodedList (BitstringStatusList u..., or StatusList2021)';
COMMENT ON FUNCTION deg.status_list_get(bytea, bigint) IS 'entry index of a bitstring';
COMMENT ON FUNCTION deg.status_list_set(bytea, bigint, boolean) IS 'the bitstring with entry index set or cleared';

-- issuers the utility trusts, with the types each may issue
CREATE TABLE deg.issuers (
    issuer           text PRIMARY KEY,
    public_key       bytea NOT NULL,
    trusted          boolean NOT NULL DEFAULT true,
    credential_types text[],
    name             text,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT issuers_public_key_is_ed25519 CHECK (octet_length(public_key) = 32)
);
COMMENT ON TABLE deg.issuers IS 'credential issuers: public key, trust, and the credential types each may issue (NULL: any)';
SELECT pg_catalog.pg_extension_config_dump('deg.issuers', '');

CREATE TABLE deg.status_lists (
    list_id    text PRIMARY KEY,
    issuer     text NOT NULL REFERENCES deg.issuers (issuer),
    purpose    text NOT NULL DEFAULT 'revocation',
    bits       bytea NOT NULL,
    next_index bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT status_lists_purpose_known CHECK (purpose IN ('revocation', 'suspension')),
    CONSTRAINT status_lists_at_least_131072_entries CHECK (octet_length(bits) >= 16384),
    CONSTRAINT status_lists_next_index_in_range CHECK (next_index BETWEEN 0 AND octet_length(bits)::bigint * 8)
);
COMMENT ON TABLE deg.status_lists IS 'Bitstring Status Lists kept by this database; list_id is the statusListCredential URL';
SELECT pg_catalog.pg_extension_config_dump('deg.status_lists', '');

CREATE TABLE deg.credentials (
    credential_id text GENERATED ALWAYS AS (deg.credential_key(credential)) STORED PRIMARY KEY,
    credential    deg.credential NOT NULL,
    subject       deg.era GENERATED ALWAYS AS (deg.credential_subject(credential)) STORED,
    issuer        text GENERATED ALWAYS AS (deg.credential_issuer(credential)) STORED,
    types         text[] GENERATED ALWAYS AS (deg.credential_types(credential)) STORED,
    valid_from    timestamptz GENERATED ALWAYS AS (deg.credential_valid_from(credential)) STORED,
    valid_until   timestamptz GENERATED ALWAYS AS (deg.credential_valid_until(credential)) STORED,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credentials_subject_idx ON deg.credentials (subject);
CREATE INDEX credentials_types_idx ON deg.credentials USING gin (types);
CREATE INDEX credentials_issuer_idx ON deg.credentials (issuer);
COMMENT ON TABLE deg.credentials IS 'received credentials; subject (btree: namespace queries with <@) and types (GIN) are indexed';
SELECT pg_catalog.pg_extension_config_dump('deg.credentials', '');

-- a new status list for an issuer
CREATE FUNCTION deg.status_list_create(list_id text, issuer text, entries integer DEFAULT 131072,
                                       purpose text DEFAULT 'revocation')
RETURNS text
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    IF entries < 131072 OR entries % 8 <> 0 THEN
        RAISE EXCEPTION 'a status list has a multiple of 8 entries, at least 131072, not %', entries
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO deg.status_lists (list_id, issuer, purpose, bits)
    VALUES (list_id, issuer, purpose, decode(repeat('00', entries / 8), 'hex'));
    RETURN list_id;
END $$;
COMMENT ON FUNCTION deg.status_list_create(text, text, integer, text) IS 'a new, empty Bitstring Status List of an issuer';

-- issue a credential about a resource
CREATE FUNCTION deg.credential_issue(issuer text, secret_key bytea, subject deg.era, types text[], claims jsonb,
                                     valid_from timestamptz DEFAULT now(), valid_until timestamptz DEFAULT NULL,
                                     status_list text DEFAULT NULL)
RETURNS deg.credential
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    doc jsonb;
    subj jsonb;
    idx bigint;
    list_issuer text;
    list_purpose text;
BEGIN
    IF issuer IS NULL OR secret_key IS NULL OR subject IS NULL THEN
        RAISE EXCEPTION 'issuer, secret key and subject are required' USING ERRCODE = '22004';
    END IF;
    IF jsonb_typeof(coalesce(claims, '{}')) <> 'object' THEN
        RAISE EXCEPTION 'claims must be a JSON object' USING ERRCODE = '22023';
    END IF;
    IF valid_until IS NOT NULL AND valid_until < valid_from THEN
        RAISE EXCEPTION 'valid_until (%) is before valid_from (%)', valid_until, valid_from USING ERRCODE = '22023';
    END IF;
    subj := coalesce(claims, '{}') || jsonb_build_object('era', subject::text);
    IF deg.era_kind(subject) = 'did' THEN
        subj := subj || jsonb_build_object('id', subject::text);
    END IF;
    doc := jsonb_build_object(
        '@context', jsonb_build_array('https://www.w3.org/ns/credentials/v2'),
        'id', 'urn:uuid:' || gen_random_uuid(),
        'type', to_jsonb(ARRAY['VerifiableCredential'] || coalesce(types, '{}')),
        'issuer', issuer,
        'validFrom', to_char(valid_from AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'credentialSubject', subj);
    IF valid_until IS NOT NULL THEN
        doc := doc || jsonb_build_object('validUntil', to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
    END IF;
    IF status_list IS NOT NULL THEN
        UPDATE deg.status_lists s SET next_index = s.next_index + 1, updated_at = now()
         WHERE s.list_id = status_list AND s.next_index < octet_length(s.bits)::bigint * 8
        RETURNING s.next_index - 1, s.issuer, s.purpose INTO idx, list_issuer, list_purpose;
        IF NOT FOUND THEN
            IF EXISTS (SELECT 1 FROM deg.status_lists s WHERE s.list_id = status_list) THEN
                RAISE EXCEPTION 'status list % is full', status_list USING ERRCODE = '54000';
            END IF;
            RAISE EXCEPTION 'status list % does not exist', status_list USING ERRCODE = '42704',
                HINT = 'Create it with deg.status_list_create().';
        END IF;
        IF list_issuer <> issuer THEN
            RAISE EXCEPTION 'status list % belongs to issuer %, not %', status_list, list_issuer, issuer
                USING ERRCODE = '22023';
        END IF;
        doc := doc || jsonb_build_object('credentialStatus', jsonb_build_object(
            'id', status_list || '#' || idx,
            'type', 'BitstringStatusListEntry',
            'statusPurpose', list_purpose,
            'statusListIndex', idx::text,
            'statusListCredential', status_list));
    END IF;
    RETURN deg.credential_sign(doc::text::json, secret_key);
END $$;
COMMENT ON FUNCTION deg.credential_issue(text, bytea, deg.era, text[], jsonb, timestamptz, timestamptz, text) IS 'issue a signed credential (VCDM 2.0, eddsa-jcs-2022) about a resource, optionally with a status list entry';

-- is a credential revoked (or suspended) in the list it names?
CREATE FUNCTION deg.credential_status(c deg.credential)
RETURNS text
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    list deg.status_lists;
BEGIN
    IF deg.credential_status_list(c) IS NULL THEN
        RETURN 'no status entry';
    END IF;
    SELECT * INTO list FROM deg.status_lists WHERE list_id = deg.credential_status_list(c);
    IF NOT FOUND THEN
        RETURN 'unknown status list';
    END IF;
    IF deg.credential_status_index(c) >= octet_length(list.bits)::bigint * 8 THEN
        RETURN 'index outside the status list';
    END IF;
    IF deg.status_list_get(list.bits, deg.credential_status_index(c)) THEN
        RETURN CASE list.purpose WHEN 'suspension' THEN 'suspended' ELSE 'revoked' END;
    END IF;
    RETURN 'active';
END $$;
COMMENT ON FUNCTION deg.credential_status(deg.credential) IS 'active, revoked, suspended, no status entry, unknown status list, or index outside the status list';

CREATE FUNCTION deg.credential_revoke(c deg.credential)
RETURNS boolean
LANGUAGE plpgsql VOLATILE STRICT
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    was boolean;
BEGIN
    IF deg.credential_status_list(c) IS NULL THEN
        RAISE EXCEPTION 'credential % has no status entry and cannot be revoked', deg.credential_key(c)
            USING ERRCODE = '55000';
    END IF;
    SELECT deg.status_list_get(bits, deg.credential_status_index(c)) INTO was
      FROM deg.status_lists WHERE list_id = deg.credential_status_list(c) FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'status list % of credential % is not kept here', deg.credential_status_list(c), deg.credential_key(c)
            USING ERRCODE = '42704';
    END IF;
    UPDATE deg.status_lists
       SET bits = deg.status_list_set(bits, deg.credential_status_index(c), true), updated_at = now()
     WHERE list_id = deg.credential_status_list(c);
    RETURN NOT was;
END $$;
COMMENT ON FUNCTION deg.credential_revoke(deg.credential) IS 'set the credential''s status list bit; true when it was not set before';

-- verify, then check trust, validity window and status: why a credential is refused
CREATE FUNCTION deg.credential_check(c deg.credential, at timestamptz DEFAULT now(),
                                     OUT valid boolean, OUT reason text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    iss deg.issuers;
    status text;
    missing text[];
BEGIN
    IF c IS NULL THEN
        valid := NULL; reason := NULL; RETURN;
    END IF;
    valid := false;
    IF deg.credential_proof(c) <> 'eddsa-jcs-2022' THEN
        reason := 'proof cannot be verified: ' || deg.credential_proof(c); RETURN;
    END IF;
    SELECT * INTO iss FROM deg.issuers WHERE issuer = deg.credential_issuer(c);
    IF NOT FOUND THEN
        reason := format('issuer %s is not registered', deg.credential_issuer(c)); RETURN;
    END IF;
    IF NOT deg.credential_verify(c, iss.public_key) THEN
        reason := format('signature does not verify with the key of issuer %s', iss.issuer); RETURN;
    END IF;
    IF NOT iss.trusted THEN
        reason := format('issuer %s is not trusted', iss.issuer); RETURN;
    END IF;
    IF iss.credential_types IS NOT NULL THEN
        missing := ARRAY(SELECT unnest(deg.credential_types(c)) EXCEPT SELECT unnest(iss.credential_types));
        IF cardinality(missing) > 0 THEN
            reason := format('issuer %s may not issue %s', iss.issuer, array_to_string(missing, ', ')); RETURN;
        END IF;
    END IF;
    IF at IS NULL THEN
        at := now();
    END IF;
    IF deg.credential_valid_from(c) > at THEN
        reason := format('not valid before %s', deg.credential_valid_from(c)); RETURN;
    END IF;
    IF deg.credential_valid_until(c) <= at THEN
        reason := format('expired at %s', deg.credential_valid_until(c)); RETURN;
    END IF;
    status := deg.credential_status(c);
    IF status NOT IN ('active', 'no status entry') THEN
        reason := status; RETURN;
    END IF;
    valid := true;
    reason := 'valid';
END $$;
COMMENT ON FUNCTION deg.credential_check(deg.credential, timestamptz) IS 'verify with the registered issuer''s key, then trust, allowed types, validity window and revocation: (valid, reason)';

-- the status list published as a signed BitstringStatusListCredential
CREATE FUNCTION deg.status_list_credential(list_id text, secret_key bytea)
RETURNS deg.credential
LANGUAGE plpgsql STABLE STRICT
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    list deg.status_lists;
BEGIN
    SELECT * INTO list FROM deg.status_lists s WHERE s.list_id = status_list_credential.list_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'status list % does not exist', list_id USING ERRCODE = '42704';
    END IF;
    RETURN deg.credential_sign(jsonb_build_object(
        '@context', jsonb_build_array('https://www.w3.org/ns/credentials/v2'),
        'id', list.list_id,
        'type', jsonb_build_array('VerifiableCredential', 'BitstringStatusListCredential'),
        'issuer', list.issuer,
        'validFrom', to_char(list.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'credentialSubject', jsonb_build_object(
            'id', list.list_id || '#list',
            'type', 'BitstringStatusList',
            'statusPurpose', list.purpose,
            'encodedList', deg.status_list_encode(list.bits)))::text::json,
        secret_key);
END $$;
COMMENT ON FUNCTION deg.status_list_credential(text, bytea) IS 'the status list as a signed BitstringStatusListCredential (the issuer''s secret key is an argument: deg never stores one)';

-- issuing, revoking and signing are not for PUBLIC
REVOKE EXECUTE ON FUNCTION deg.credential_sign(json, bytea) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION deg.credential_sign(json, bytea, json) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION deg.credential_issue(text, bytea, deg.era, text[], jsonb, timestamptz, timestamptz, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION deg.credential_revoke(deg.credential) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION deg.status_list_credential(text, bytea) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION deg.status_list_create(text, text, integer, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deg.credential_sign(json, bytea) TO deg_admin;
GRANT EXECUTE ON FUNCTION deg.credential_sign(json, bytea, json) TO deg_admin;
GRANT EXECUTE ON FUNCTION deg.credential_issue(text, bytea, deg.era, text[], jsonb, timestamptz, timestamptz, text) TO deg_admin;
GRANT EXECUTE ON FUNCTION deg.credential_revoke(deg.credential) TO deg_admin;
GRANT EXECUTE ON FUNCTION deg.status_list_credential(text, bytea) TO deg_admin;
GRANT EXECUTE ON FUNCTION deg.status_list_create(text, text, integer, text) TO deg_admin;
GRANT SELECT ON deg.issuers, deg.status_lists, deg.credentials TO deg_reader;
GRANT INSERT, UPDATE, DELETE ON deg.credentials TO deg_operator;
GRANT INSERT, UPDATE, DELETE ON deg.issuers, deg.status_lists TO deg_admin;
