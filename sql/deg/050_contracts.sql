-- Energy contracts: the contract type, formulas, the lifecycle, role claims
-- (src/contract.c, src/core/formula.c).

CREATE TYPE deg.contract;
CREATE FUNCTION deg.contract_in(cstring) RETURNS deg.contract
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_out(deg.contract) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_recv(internal) RETURNS deg.contract
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_send(deg.contract) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.contract (
    INPUT = deg.contract_in, OUTPUT = deg.contract_out,
    RECEIVE = deg.contract_recv, SEND = deg.contract_send,
    INTERNALLENGTH = VARIABLE, ALIGNMENT = double, STORAGE = extended
);
COMMENT ON TYPE deg.contract IS 'a DEG EnergyContract: roles, inputs, signals, telemetry, and formulas compiled on input';

CREATE FUNCTION deg.contract(jsonb) RETURNS deg.contract
    AS 'MODULE_PATHNAME', 'contract_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_jsonb(deg.contract) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'contract_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (jsonb AS deg.contract) WITH FUNCTION deg.contract(jsonb);
CREATE CAST (deg.contract AS jsonb) WITH FUNCTION deg.contract_jsonb(deg.contract);

CREATE FUNCTION deg.contract_id(deg.contract) RETURNS text
    AS 'MODULE_PATHNAME', 'contract_id_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_status(deg.contract) RETURNS text
    AS 'MODULE_PATHNAME', 'contract_status_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_kind(deg.contract) RETURNS text
    AS 'MODULE_PATHNAME', 'contract_kind_fn' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_created_at(deg.contract) RETURNS timestamptz
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_open_roles(deg.contract) RETURNS text[]
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_missing(c deg.contract, OUT role text, OUT input text) RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
CREATE FUNCTION deg.contract_ready(deg.contract) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_participants(c deg.contract, OUT role text, OUT participant deg.era) RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 3;
CREATE FUNCTION deg.contract_fill(c deg.contract, role text, participant deg.era, inputs jsonb DEFAULT '{}')
    RETURNS deg.contract
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_set_status(c deg.contract, status text) RETURNS deg.contract
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.contract_id(deg.contract) IS 'contractId';
COMMENT ON FUNCTION deg.contract_status(deg.contract) IS 'PENDING, ACTIVE, COMPLETED or TERMINATED';
COMMENT ON FUNCTION deg.contract_kind(deg.contract) IS 'generic, ev_charging, p2p_fixed_price or p2p_market';
COMMENT ON FUNCTION deg.contract_created_at(deg.contract) IS 'createdAt';
COMMENT ON FUNCTION deg.contract_open_roles(deg.contract) IS 'roles with an open seat';
COMMENT ON FUNCTION deg.contract_missing(deg.contract) IS 'what blocks confirmation: open roles (input NULL), required inputs without a value, signals and telemetry not connected (role NULL)';
COMMENT ON FUNCTION deg.contract_ready(deg.contract) IS 'nothing is missing: the contract can become ACTIVE';
COMMENT ON FUNCTION deg.contract_participants(deg.contract) IS 'the filled seats: role and participant ERA';
COMMENT ON FUNCTION deg.contract_fill(deg.contract, text, deg.era, jsonb) IS 'the contract with a participant in a role and its inputs (pure; the claim trigger uses it)';
COMMENT ON FUNCTION deg.contract_set_status(deg.contract, text) IS 'the contract in a new status: PENDING -> ACTIVE (when ready) -> COMPLETED, PENDING|ACTIVE -> TERMINATED';

CREATE FUNCTION deg.contract_eval(c deg.contract, bindings jsonb DEFAULT '{}',
                                  OUT kind text, OUT id text, OUT from_role text, OUT to_role text,
                                  OUT participant deg.era, OUT value numeric)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION deg.contract_eval(deg.contract, jsonb) IS 'evaluate flows, metrics and penalties with {"telemetrySources": {id: {field: v}}, "inputSignals": {id: v}}; one row per participant for [ROLE.era] formulas';

CREATE FUNCTION deg.contract_eval(c deg.contract, line text, VARIADIC inputs "any") RETURNS numeric
    AS 'MODULE_PATHNAME', 'contract_eval_line' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION deg.contract_eval(deg.contract, text, "any") IS 'the value of one line (flow number, metricId, or "penalty ID") with its inputs as name, value pairs: deg.contract_eval(c, ''1'', ''telemetrySources.cdr.energyKWh'', 12.5)';

CREATE FUNCTION deg.contract_hash(deg.contract) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.contract_sign(c deg.contract, signer deg.era, secret_key bytea) RETURNS deg.contract
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
CREATE FUNCTION deg.contract_verify(c deg.contract, public_key bytea) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION deg.contract_hash(deg.contract) IS 'SHA-256 of the RFC 8785 canonical contract without verification.integrity';
COMMENT ON FUNCTION deg.contract_sign(deg.contract, deg.era, bytea) IS 'fill verification.integrity with the hash and an Ed25519 signature of it';
COMMENT ON FUNCTION deg.contract_verify(deg.contract, bytea) IS 'the integrity hash matches the contract and its signature verifies with the key';

CREATE FUNCTION deg.formula_check(formula text, OUT "position" integer, OUT severity text, OUT message text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'formula_check_syntax' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
CREATE FUNCTION deg.formula_check(formula text, c deg.contract, OUT "position" integer, OUT severity text, OUT message text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'formula_check_contract' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1;
COMMENT ON FUNCTION deg.formula_check(text) IS 'syntax errors of a formula (no rows when it parses)';
COMMENT ON FUNCTION deg.formula_check(text, deg.contract) IS 'errors and warnings of a formula against the names a contract declares';

CREATE FUNCTION deg.contract_status_move_allowed(from_status text, to_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
RETURN from_status = to_status
    OR (from_status = 'PENDING' AND to_status IN ('ACTIVE', 'TERMINATED'))
    OR (from_status = 'ACTIVE' AND to_status IN ('COMPLETED', 'TERMINATED'));
COMMENT ON FUNCTION deg.contract_status_move_allowed(text, text) IS 'PENDING -> ACTIVE -> COMPLETED, PENDING|ACTIVE -> TERMINATED';

-- tables
CREATE TABLE deg.contracts (
    contract_id text PRIMARY KEY,
    offer_id    text,
    body        deg.contract NOT NULL,
    status      text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT contracts_id_matches_body CHECK (contract_id = deg.contract_id(body)),
    CONSTRAINT contracts_status_matches_body CHECK (status = deg.contract_status(body))
);
CREATE INDEX contracts_offer_idx ON deg.contracts (offer_id);
CREATE INDEX contracts_status_idx ON deg.contracts (status);
COMMENT ON TABLE deg.contracts IS 'contracts; status follows the body, and moves only as deg.contract_status_move_allowed says';
SELECT pg_catalog.pg_extension_config_dump('deg.contracts', '');

CREATE TABLE deg.role_claims (
    claim_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_id text NOT NULL REFERENCES deg.contracts (contract_id),
    role        text NOT NULL,
    participant deg.era NOT NULL,
    inputs      jsonb NOT NULL DEFAULT '{}',
    credentials deg.credential[] NOT NULL DEFAULT '{}',
    claimed_at  timestamptz NOT NULL DEFAULT now(),
    claimed_by  name NOT NULL DEFAULT current_user,
    CONSTRAINT role_claims_once_per_participant UNIQUE (contract_id, role, participant),
    CONSTRAINT role_claims_inputs_object CHECK (jsonb_typeof(inputs) = 'object')
);
COMMENT ON TABLE deg.role_claims IS 'participants taking contract roles; an INSERT fills the role (trigger) or fails with the reason';
SELECT pg_catalog.pg_extension_config_dump('deg.role_claims', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('deg.role_claims', 'claim_id'), '');

CREATE TABLE deg.contract_events (
    event_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contract_id text NOT NULL,
    event       text NOT NULL,
    role        text,
    participant deg.era,
    from_status text,
    to_status   text,
    claim_id    bigint,
    actor       name NOT NULL DEFAULT session_user,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT contract_events_kind CHECK (event IN ('created', 'filled', 'status'))
);
CREATE INDEX contract_events_contract_idx ON deg.contract_events (contract_id, event_id);
-- the claim trigger looks up a claim's event (once per claim): without this, a scan of every event
CREATE INDEX contract_events_claim_idx ON deg.contract_events (claim_id) WHERE claim_id IS NOT NULL;
COMMENT ON TABLE deg.contract_events IS 'every contract creation, role fill and status change, with who and when (append-only)';
SELECT pg_catalog.pg_extension_config_dump('deg.contract_events', '');
SELECT pg_catalog.pg_extension_config_dump(pg_catalog.pg_get_serial_sequence('deg.contract_events', 'event_id'), '');

-- the contracts table keeps status and body in step, and status moves only as allowed
CREATE FUNCTION deg.contracts_guard() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.status := deg.contract_status(NEW.body);
        IF EXISTS (SELECT 1 FROM deg.contract_participants(NEW.body) p WHERE p.role = 'GRID_OPERATOR') THEN
            PERFORM deg.p2p_trade_cap_check(NEW.body);
        END IF;
        -- once per contract: a restored dump brings the contract's events with it
        IF NOT EXISTS (SELECT 1 FROM deg.contract_events e WHERE e.contract_id = NEW.contract_id AND e.event = 'created') THEN
            INSERT INTO deg.contract_events (contract_id, event, to_status)
            VALUES (NEW.contract_id, 'created', NEW.status);
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.contract_id <> OLD.contract_id THEN
        RAISE EXCEPTION 'the id of contract % cannot change', OLD.contract_id USING ERRCODE = '55000';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status AND NEW.body::text = OLD.body::text THEN
        -- UPDATE ... SET status = 'X': move the body (refused when the move or readiness is wrong)
        NEW.body := deg.contract_set_status(OLD.body, NEW.status);
    ELSIF NOT deg.contract_status_move_allowed(OLD.status, deg.contract_status(NEW.body)) THEN
        RAISE EXCEPTION 'contract % cannot go from % to %', OLD.contract_id, OLD.status, deg.contract_status(NEW.body)
            USING ERRCODE = '55000',
                  DETAIL = 'A contract moves PENDING -> ACTIVE -> COMPLETED, or to TERMINATED from PENDING or ACTIVE.';
    ELSIF deg.contract_status(NEW.body) = 'ACTIVE' AND OLD.status = 'PENDING' AND NOT deg.contract_ready(NEW.body) THEN
        RAISE EXCEPTION 'contract % is not ready to become ACTIVE', OLD.contract_id USING ERRCODE = '55000';
    END IF;
    NEW.status := deg.contract_status(NEW.body);
    NEW.updated_at := now();
    -- a fixed-price trade stays within the grid operator's caps (deg.p2p_trade_cap_check)
    IF NEW.body::text <> OLD.body::text
       AND EXISTS (SELECT 1 FROM deg.contract_participants(NEW.body) p WHERE p.role = 'GRID_OPERATOR') THEN
        PERFORM deg.p2p_trade_cap_check(NEW.body);
    END IF;
    IF NEW.status <> OLD.status THEN
        INSERT INTO deg.contract_events (contract_id, event, from_status, to_status)
        VALUES (NEW.contract_id, 'status', OLD.status, NEW.status);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER contracts_guard BEFORE INSERT OR UPDATE ON deg.contracts
    FOR EACH ROW EXECUTE FUNCTION deg.contracts_guard();

CREATE FUNCTION deg.contract_events_append_only() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'deg.contract_events is append-only' USING ERRCODE = '55000';
END $$;
CREATE TRIGGER contract_events_append_only BEFORE UPDATE OR DELETE ON deg.contract_events
    FOR EACH ROW EXECUTE FUNCTION deg.contract_events_append_only();

-- the credential requirements of a claim: the contract's and its offer's (DEG requiredCredentials)
CREATE FUNCTION deg.claim_requirements(c deg.contract, offer_id text, role text)
RETURNS SETOF jsonb
LANGUAGE sql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT r FROM (
        SELECT r FROM jsonb_array_elements(coalesce(deg.contract_jsonb(c) #> '{credentials,requiredCredentials}', '[]')) r
        UNION ALL
        SELECT r FROM deg.offers o,
               jsonb_array_elements(coalesce(deg.energy_offer_jsonb(o.offer) #> '{credentials,requiredCredentials}', '[]')) r
         WHERE o.offer_id = claim_requirements.offer_id) req
     WHERE NOT (r ? 'role') OR r->>'role' = claim_requirements.role
$$;
COMMENT ON FUNCTION deg.claim_requirements(deg.contract, text, text) IS 'credential requirements ({credentialType, requiredClaims, issuerRestriction, role}) a claimant of the role must meet';

-- a claim: lock the contract, fill the role, check credentials, activate when ready
CREATE FUNCTION deg.role_claims_apply() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    k deg.contracts;
    filled deg.contract;
    req jsonb;
    cred deg.credential;
    wanted text[];
    ok boolean;
    why text;
    check_valid boolean;
    check_reason text;
BEGIN
    -- one claim at a time per contract: a racing claim waits here, then sees the filled role
    SELECT * INTO k FROM deg.contracts WHERE contract_id = NEW.contract_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contract % does not exist', NEW.contract_id USING ERRCODE = '23503';
    END IF;
    -- a claim the contract already shows (a restored dump: the contract row comes back filled)
    -- has nothing left to do; the same claim made twice goes on to be refused by contract_fill
    IF EXISTS (SELECT 1 FROM deg.contract_participants(k.body) p
                WHERE p.role = NEW.role AND p.participant = NEW.participant)
       AND NOT EXISTS (SELECT 1 FROM deg.role_claims c
                        WHERE c.contract_id = NEW.contract_id AND c.role = NEW.role
                          AND c.participant = NEW.participant) THEN
        RETURN NEW;
    END IF;
    -- fill first: a claim that lost a race learns that the role is taken (23505)
    filled := deg.contract_fill(k.body, NEW.role, NEW.participant, NEW.inputs);
    IF NOT (k.status = 'PENDING' OR (k.status = 'ACTIVE' AND NEW.role = 'PROSUMER')) THEN
        RAISE EXCEPTION 'contract % is %: role % can no longer be claimed', k.contract_id, k.status, NEW.role
            USING ERRCODE = '55000';
    END IF;

    FOR req IN SELECT * FROM deg.claim_requirements(k.body, k.offer_id, NEW.role) LOOP
        wanted := array_remove(ARRAY(SELECT jsonb_array_elements_text(coalesce(req->'credentialType', '[]'))),
                               'VerifiableCredential');
        ok := false;
        why := 'none was presented';
        FOREACH cred IN ARRAY NEW.credentials LOOP
            IF NOT wanted <@ deg.credential_types(cred) THEN
                why := format('credential %s is not a %s', deg.credential_key(cred), array_to_string(wanted, ' and '));
                CONTINUE;
            END IF;
            IF deg.credential_subject(cred) IS DISTINCT FROM NEW.participant
               AND deg.credential_subject_id(cred) IS DISTINCT FROM NEW.participant::text THEN
                why := format('credential %s is about %s, not %s', deg.credential_key(cred),
                              coalesce(deg.credential_subject(cred)::text, deg.credential_subject_id(cred), 'nobody'),
                              NEW.participant);
                CONTINUE;
            END IF;
            IF req ? 'requiredClaims' AND NOT deg.credential_claims_contain(cred, req->'requiredClaims') THEN
                why := format('credential %s lacks the claims %s', deg.credential_key(cred), req->'requiredClaims');
                CONTINUE;
            END IF;
            IF req ? 'issuerRestriction' AND deg.credential_issuer(cred) NOT IN
                   (SELECT jsonb_array_elements_text(req->'issuerRestriction')) THEN
                why := format('credential %s is issued by %s, not an allowed issuer', deg.credential_key(cred),
                              deg.credential_issuer(cred));
                CONTINUE;
            END IF;
            SELECT valid, reason INTO check_valid, check_reason FROM deg.credential_check(cred);
            IF check_valid THEN
                ok := true;
                EXIT;
            END IF;
            why := format('credential %s: %s', deg.credential_key(cred), check_reason);
        END LOOP;
        IF NOT ok THEN
            RAISE EXCEPTION 'claim of role % of contract % by % refused: a % credential is required; %',
                NEW.role, NEW.contract_id, NEW.participant,
                coalesce(nullif(array_to_string(wanted, ' and '), ''), 'verifiable'), why
                USING ERRCODE = '28000';
        END IF;
    END LOOP;

    IF k.status = 'PENDING' AND deg.contract_ready(filled) THEN
        filled := deg.contract_set_status(filled, 'ACTIVE');
    END IF;
    UPDATE deg.contracts SET body = filled WHERE contract_id = NEW.contract_id;
    RETURN NEW;
END $$;
CREATE TRIGGER role_claims_apply BEFORE INSERT ON deg.role_claims
    FOR EACH ROW EXECUTE FUNCTION deg.role_claims_apply();

CREATE FUNCTION deg.role_claims_record() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    -- once per claim: a restored dump brings the claims' events with it
    IF NOT EXISTS (SELECT 1 FROM deg.contract_events e WHERE e.claim_id = NEW.claim_id AND e.event = 'filled') THEN
        INSERT INTO deg.contract_events (contract_id, event, role, participant, claim_id)
        VALUES (NEW.contract_id, 'filled', NEW.role, NEW.participant, NEW.claim_id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER role_claims_record AFTER INSERT ON deg.role_claims
    FOR EACH ROW EXECUTE FUNCTION deg.role_claims_record();

CREATE FUNCTION deg.role_claims_immutable() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION 'role claims cannot be changed or removed; terminate the contract instead' USING ERRCODE = '55000';
END $$;
CREATE TRIGGER role_claims_immutable BEFORE UPDATE OR DELETE ON deg.role_claims
    FOR EACH ROW EXECUTE FUNCTION deg.role_claims_immutable();

-- take an offer: a new contract from its template, and a claim of its open role, in one transaction
CREATE FUNCTION deg.accept_offer(offer_id text, participant deg.era, inputs jsonb DEFAULT '{}',
                                 credentials deg.credential[] DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    o deg.offers;
    template jsonb;
    new_id text;
BEGIN
    -- FOR SHARE: a withdrawal in progress is waited for and then seen, and one that comes later
    -- waits until this acceptance has committed
    SELECT * INTO o FROM deg.offers WHERE deg.offers.offer_id = accept_offer.offer_id FOR SHARE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'offer % does not exist', accept_offer.offer_id USING ERRCODE = '42704';
    END IF;
    IF o.withdrawn_at IS NOT NULL THEN
        RAISE EXCEPTION 'offer % was withdrawn at %', o.offer_id, o.withdrawn_at USING ERRCODE = '55000';
    END IF;
    template := deg.energy_offer_jsonb(o.offer)->'contract';
    IF template IS NULL OR jsonb_typeof(template) <> 'object' THEN
        RAISE EXCEPTION 'offer % carries no contract template', o.offer_id USING ERRCODE = '55000',
            HINT = 'An offer''s "contract" field holds the EnergyContract its taker joins.';
    END IF;
    new_id := coalesce(template->>'contractId', o.offer_id) || ':' || gen_random_uuid();
    template := template || jsonb_build_object(
        'contractId', new_id,
        'status', 'PENDING',
        'createdAt', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
    INSERT INTO deg.contracts (contract_id, offer_id, body, status)
    VALUES (new_id, o.offer_id, deg.contract(template), 'PENDING');
    INSERT INTO deg.role_claims (contract_id, role, participant, inputs, credentials)
    VALUES (new_id, deg.offer_role(o.offer), participant, coalesce(inputs, '{}'), coalesce(credentials, '{}'));
    RETURN new_id;
END $$;
COMMENT ON FUNCTION deg.accept_offer(text, deg.era, jsonb, deg.credential[]) IS 'instantiate an offer''s contract (a fresh id) and claim its open role; returns the contract id';

-- privileges: operators form contracts; analysts read
REVOKE EXECUTE ON FUNCTION deg.accept_offer(text, deg.era, jsonb, deg.credential[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deg.accept_offer(text, deg.era, jsonb, deg.credential[]) TO deg_operator;
REVOKE EXECUTE ON FUNCTION deg.contract_sign(deg.contract, deg.era, bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deg.contract_sign(deg.contract, deg.era, bytea) TO deg_admin;
REVOKE EXECUTE ON FUNCTION deg.contracts_guard(), deg.role_claims_apply(), deg.role_claims_record() FROM PUBLIC;
GRANT SELECT ON deg.contracts, deg.role_claims, deg.contract_events TO deg_reader;
GRANT INSERT, UPDATE ON deg.contracts TO deg_operator;
GRANT INSERT ON deg.role_claims TO deg_operator;
