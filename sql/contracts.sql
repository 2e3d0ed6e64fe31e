-- deg.contract: EnergyContracts, formulas, lifecycle, claims
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- every contract in the DEG examples loads and prints back equivalent JSON
\set examples `sh -c 'printf "["; first=1; for f in test/reference/deg/examples/*/*/*.json test/reference/deg/examples/*/*.json; do [ $first = 1 ] || printf ","; first=0; cat "$f"; done; printf "]"'`
SET client_min_messages = warning;   -- the examples' formulas raise NOTICEs, shown once below
CREATE TEMP TABLE examples AS
SELECT DISTINCT c AS doc FROM jsonb_array_elements(:'examples'::jsonb) f, jsonb_path_query(f, 'strict $.**') c
 WHERE jsonb_typeof(c) = 'object' AND c ? 'contractId' AND c ? 'roles';
SELECT count(*) AS contracts,
       count(*) FILTER (WHERE deg.contract(doc)::jsonb = doc) AS round_trip_equal,
       count(DISTINCT doc->>'contractId') AS distinct_ids
  FROM examples;
SELECT doc->>'contractId' AS contract, doc->>'status' AS status, contract_kind(doc::contract) AS kind,
       contract_open_roles(doc::contract) AS open_roles, contract_ready(doc::contract) AS ready
  FROM examples ORDER BY 1, 2, 4, 5;
RESET client_min_messages;

-- the EV charging contract of the catalog: formulas read a field its telemetry source does not list
\set ev_catalog `cat test/reference/deg/examples/ev_charging/02_on_discover/time-based-ev-charging-slot-catalog.json`
CREATE TEMP TABLE ev AS
SELECT (:'ev_catalog'::jsonb #> '{message,catalogs,0,beckn:offers,0,beckn:offerAttributes,contract}')::contract AS c;
SELECT contract_id(c), contract_status(c), contract_kind(c), contract_created_at(c), contract_open_roles(c) FROM ev;
SELECT * FROM contract_missing((SELECT c FROM ev));
SELECT * FROM contract_participants((SELECT c FROM ev));

-- evaluation: price x CDR energy; average power = energy / ((end - start) / 3600)
SELECT kind, id, from_role, to_role, participant, value FROM contract_eval((SELECT c FROM ev),
    '{"telemetrySources": {"cdr-ev-charger-ccs2-001": {"energyKWh": 7.35,
       "startTime": "2024-12-15T10:00:00Z", "endTime": "2024-12-15T10:30:00Z"}}}');
SELECT kind, id, value FROM contract_eval((SELECT c FROM ev), '{}');

-- the lifecycle
SELECT contract_ready(f), contract_open_roles(f), contract_status(contract_set_status(f, 'ACTIVE')),
       (SELECT array_agg(role || '=' || participant) FROM contract_participants(f)) AS seats
  FROM (SELECT contract_fill(c, 'BUYER', 'driver-042@ev.example.net') AS f FROM ev) s;
SELECT contract_fill(contract_fill(c, 'BUYER', 'a.example.com'), 'BUYER', 'b.example.com') FROM ev;
SELECT contract_fill(c, 'SELLR', 'a.example.com') FROM ev;
SELECT contract_fill(c, 'GRID_OPERATOR', 'a.example.com') FROM ev;
SELECT contract_set_status(c, 'ACTIVE') FROM ev;
SELECT contract_set_status(c, 'COMPLETED') FROM ev;
SELECT contract_set_status(c, 'DONE') FROM ev;
SELECT contract_status(contract_set_status(c, 'TERMINATED')) FROM ev;
SELECT from_s, to_s, contract_status_move_allowed(from_s, to_s) AS allowed
  FROM unnest('{PENDING,ACTIVE,COMPLETED,TERMINATED}'::text[]) from_s, unnest('{PENDING,ACTIVE,COMPLETED,TERMINATED}'::text[]) to_s
 WHERE from_s <> to_s ORDER BY 1, 2;

-- a fixed-price P2P trade with a grid operator (SPEC: 10 kWh at 0.15 + wheeling 0.025 = 1.75)
CREATE TEMP TABLE p2p AS SELECT '{
  "@type": "EnergyContractP2PTrade", "contractId": "p2p-1", "status": "PENDING", "createdAt": "2024-10-04T10:00:00Z",
  "roles": [
    {"role": "SELLER", "filled": true, "filledBy": "household-solar-001.prosumer@example.com",
     "roleInputs": {"sourceMeterId": "100200300", "sourceType": "SOLAR", "pricePerKWh": 0.15, "currency": "USD"}},
    {"role": "BUYER", "filled": false, "filledBy": null,
     "roleInputs": {"targetMeterId": {"type": "STRING", "required": true, "value": null},
                    "contractedQuantity": {"type": "NUMBER", "required": true, "value": null},
                    "tradeStartTime": {"type": "DATE_TIME", "required": true, "value": null},
                    "tradeEndTime": {"type": "DATETIME", "required": true, "value": null}}}],
  "revenueFlows": {"flows": [
    {"from": "BUYER", "to": "SELLER", "formula": "roles.BUYER.roleInputs.contractedQuantity × roles.SELLER.roleInputs.pricePerKWh"},
    {"from": "BUYER", "to": "GRID_OPERATOR", "formula": "roles.BUYER.roleInputs.contractedQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges"}],
    "netZero": true}}'::contract AS c;
SELECT * FROM contract_missing((SELECT c FROM p2p));
SELECT contract_fill(c, 'BUYER', 'bap.energy-consumer.com', '{"contractedQuantity": "ten"}') FROM p2p;
CREATE TEMP TABLE p2p_filled AS
SELECT contract_fill(contract_fill(c, 'BUYER', 'bap.energy-consumer.com',
           '{"targetMeterId": "98765456", "contractedQuantity": 10, "tradeStartTime": "2024-10-04T10:00:00Z",
             "tradeEndTime": "2024-10-04T18:00:00Z"}'),
       'GRID_OPERATOR', 'example-transmission-bpp.com', '{"wheelingCharges": 0.025}') AS c FROM p2p;
SELECT contract_ready(c), contract_open_roles(c) FROM p2p_filled;
SELECT kind, id, from_role, to_role, value, sum(value) OVER () AS total FROM contract_eval((SELECT c FROM p2p_filled));
SELECT kind, id, value FROM contract_eval((SELECT c FROM p2p));

-- a market contract: one clearing agent, prosumers indexed by their ERA
CREATE TEMP TABLE market AS SELECT contract_fill(contract_fill('{
  "@type": "EnergyContractP2PTrade", "contractId": "market-1", "status": "PENDING", "createdAt": "2024-10-04T10:00:00Z",
  "roles": [
    {"role": "MARKET_CLEARING_AGENT", "filled": true, "filledBy": "mca.example.com",
     "roleInputs": {"marketMakingFee": 0.01, "clearingPrice": 0.065,
                    "clearedPower": {"buyer.example.com": -5, "seller.example.com": 5}}},
    {"role": "PROSUMER", "filled": false, "filledBy": null, "roleInputs": {"sourceMeterId": null}}],
  "inputParameters": {"settlementInterval": "PT15M"},
  "revenueFlows": {"flows": [
    {"from": "PROSUMER", "to": "MARKET_CLEARING_AGENT",
     "formula": "(roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice + roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee) × roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] × intervalHours"}]}}'::contract,
  'PROSUMER', 'buyer.example.com', '{"sourceMeterId": "m-1"}'), 'PROSUMER', 'seller.example.com', '{"sourceMeterId": "m-2"}') AS c;
SELECT contract_open_roles(c), contract_ready(c), (SELECT count(*) FROM contract_participants(c)) AS seats FROM market;
SELECT participant, value FROM contract_eval((SELECT c FROM market), '{"intervalHours": 0.25}') ORDER BY participant;
SELECT contract_fill(c, 'PROSUMER', 'buyer.example.com') FROM market;

-- errors during evaluation name the formula
SELECT * FROM contract_eval('{"contractId": "div", "status": "ACTIVE", "createdAt": "2024-01-01T00:00:00Z",
  "roles": [{"role": "BUYER", "filled": true, "filledBy": "b.example.com", "roleInputs": {"q": 0}},
            {"role": "SELLER", "filled": true, "filledBy": "s.example.com", "roleInputs": {"p": 5}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.p / roles.BUYER.roleInputs.q"}]}}');
SELECT value FROM contract_eval('{"contractId": "guard", "status": "ACTIVE", "createdAt": "2024-01-01T00:00:00Z",
  "roles": [{"role": "BUYER", "filled": true, "filledBy": "b.example.com", "roleInputs": {"q": 0}},
            {"role": "SELLER", "filled": true, "filledBy": "s.example.com", "roleInputs": {"p": 5}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER",
     "formula": "if(roles.BUYER.roleInputs.q == 0, 0, roles.SELLER.roleInputs.p / roles.BUYER.roleInputs.q)"}]}}');

-- validation: each rule has a failing example
CREATE FUNCTION pg_temp.try_contract(doc text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; state text;
BEGIN
    PERFORM doc::deg.contract;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
    RETURN state || ': ' || msg;
END $$;
CREATE TEMP TABLE base AS SELECT '{"contractId": "k", "status": "PENDING", "createdAt": "2024-01-01T00:00:00Z",
  "roles": [{"role": "BUYER", "filled": false, "filledBy": null},
            {"role": "SELLER", "filled": true, "filledBy": "s.example.com", "roleInputs": {"pricePerKWh": 18}}],
  "revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLER.roleInputs.pricePerKWh * 2"}]}}'::jsonb AS j;
SELECT rule, pg_temp.try_contract(doc::text) AS result FROM base, LATERAL (VALUES
  ('valid', j),
  ('not JSON', '"x"'::jsonb),
  ('no contractId', j - 'contractId'),
  ('unknown status', j || '{"status": "DONE"}'),
  ('no createdAt', j - 'createdAt'),
  ('bad createdAt', j || '{"createdAt": "yesterday"}'),
  ('no roles', j || '{"roles": []}'),
  ('unknown role', jsonb_set(j, '{roles,0,role}', '"SELLR"')),
  ('filled without filledBy', jsonb_set(j, '{roles,0,filled}', 'true')),
  ('filledBy but not filled', jsonb_set(j, '{roles,0,filledBy}', '"b.example.com"')),
  ('filledBy not an ERA', jsonb_set(jsonb_set(j, '{roles,0,filled}', 'true'), '{roles,0,filledBy}', '"bad..era"')),
  ('role twice', jsonb_set(j, '{roles,0,role}', '"SELLER"')),
  ('input type mismatch', jsonb_set(j, '{roles,1,roleInputs,x}', '{"type": "NUMBER", "value": "eighteen"}')),
  ('input date mismatch', jsonb_set(j, '{roles,1,roleInputs,x}', '{"type": "DATE_TIME", "value": 5}')),
  ('flow role missing', jsonb_set(j, '{revenueFlows,flows,0,to}', '"GRID_OPERATOR"')),
  ('flow to itself', jsonb_set(j, '{revenueFlows,flows,0,to}', '"BUYER"')),
  ('formula syntax', jsonb_set(j, '{revenueFlows,flows,0,formula}', '"roles.SELLER.roleInputs.pricePerKWh *"')),
  ('formula unknown role', jsonb_set(j, '{revenueFlows,flows,0,formula}', '"roles.SELLR.roleInputs.pricePerKWh"')),
  ('formula unknown name', jsonb_set(j, '{revenueFlows,flows,0,formula}', '"price * 2"')),
  ('formula on a string', jsonb_set(jsonb_set(j, '{roles,1,roleInputs,currency}', '"INR"'), '{revenueFlows,flows,0,formula}', '"roles.SELLER.roleInputs.currency * 2"')),
  ('duplicate signalId', j || '{"inputSignals": [{"signalId": "p", "signalType": "PRICE", "source": {"era": "u.example.com"}},
                                                 {"signalId": "p", "signalType": "PRICE", "source": {"era": "u.example.com"}}]}'),
  ('unknown signalType', j || '{"inputSignals": [{"signalId": "p", "signalType": "MOOD", "source": {"era": "u.example.com"}}]}'),
  ('signal without source', j || '{"inputSignals": [{"signalId": "p", "signalType": "PRICE"}]}'),
  ('duplicate sourceId', j || '{"telemetrySources": [{"sourceId": "m", "sourceType": "METER_READING"}, {"sourceId": "m", "sourceType": "METER_READING"}]}'),
  ('unknown sourceType', j || '{"telemetrySources": [{"sourceId": "m", "sourceType": "SMOKE_SIGNAL"}]}'),
  ('duplicate metricId', j || '{"qualityMetrics": {"metrics": [{"metricId": "a", "formula": "1"}, {"metricId": "a", "formula": "2"}]}}'),
  ('penalty role missing', j || '{"qualityMetrics": {"metrics": [{"metricId": "a", "formula": "1", "penalty": {"formula": "1", "appliedTo": "GRID_OPERATOR"}}]}}'),
  ('unknown hash algorithm', j || '{"verification": {"integrity": {"algorithm": "MD5"}}}'),
  ('P2P both modes', j || '{"@type": "EnergyContractP2PTrade", "roles": [
        {"role": "SELLER", "filled": true, "filledBy": "s.example.com"}, {"role": "BUYER", "filled": false, "filledBy": null},
        {"role": "MARKET_CLEARING_AGENT", "filled": true, "filledBy": "m.example.com"}], "revenueFlows": {"flows": []}}'),
  ('P2P fixed without BUYER', j || '{"@type": "EnergyContractP2PTrade", "roles": [{"role": "SELLER", "filled": true, "filledBy": "s.example.com"}], "revenueFlows": {"flows": []}}'),
  ('P2P market without agent', j || '{"@type": "EnergyContractP2PTrade", "roles": [{"role": "PROSUMER", "filled": false, "filledBy": null}], "revenueFlows": {"flows": []}}'),
  ('P2P with an aggregator', j || '{"@type": "EnergyContractP2PTrade", "roles": [
        {"role": "SELLER", "filled": true, "filledBy": "s.example.com"}, {"role": "BUYER", "filled": false, "filledBy": null},
        {"role": "AGGREGATOR", "filled": false, "filledBy": null}], "revenueFlows": {"flows": []}}'),
  ('penalty without counterparty', j || '{"roles": [
        {"role": "SELLER", "filled": true, "filledBy": "s.example.com"}, {"role": "BUYER", "filled": false, "filledBy": null},
        {"role": "GRID_OPERATOR", "filled": false, "filledBy": null}], "revenueFlows": {"flows": []},
        "qualityMetrics": {"metrics": [{"metricId": "a", "formula": "1", "penalty": {"formula": "1", "appliedTo": "SELLER"}}]}}')
) AS t(rule, doc);
\set VERBOSITY default
SELECT (j || '{"revenueFlows": {"flows": [{"from": "BUYER", "to": "SELLER", "formula": "roles.SELLR.roleInputs.x"}]}}')::contract FROM base;
SELECT '{"contractId": "k", "contractId": "l"}'::contract;

-- formulas: every one in SPEC.md parses; malformed ones name the position
SELECT f AS formula, coalesce((SELECT string_agg(severity || ' at ' || "position" || ': ' || message, '; ')
                              FROM formula_check(f)), 'ok') AS check FROM (VALUES
  ('roles.SELLER.roleInputs.pricePerKWh.value × telemetrySources.cdr-ev-charger-ccs2-001.energyKWh'),
  ('roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr-ev-charger-ccs2-001.energyKWh'),
  ('telemetrySources.cdr-ev-charger-ccs2-001.energyKWh / ((telemetrySources.cdr-ev-charger-ccs2-001.endTime - telemetrySources.cdr-ev-charger-ccs2-001.startTime) / 3600)'),
  ('roles.BUYER.roleInputs.contractedQuantity × roles.SELLER.roleInputs.pricePerKWh'),
  ('roles.BUYER.roleInputs.contractedQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges'),
  ('(roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice + roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee) × roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]'),
  ('abs(roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]) × roles.GRID_OPERATOR.roleInputs.wheelingCharges'),
  ('computeTariffPrice(roles.SELLER.roleInputs.tariff, roles.BUYER.roleInputs.tradeStartTime, roles.BUYER.roleInputs.tradeEndTime, deliveredQuantity) × deliveredQuantity'),
  ('(marketClearingPrice + marketMakingFee) × clearedPower'),
  ('basePrice + (currentLoadPercent * priceAdderPerPercent)'),
  ('max(0, (waitTime - target) * penaltyRate)'),
  ('1 +'),
  ('* 2'),
  ('(1 + 2'),
  ('min(1)'),
  ('sqrt(4)'),
  ('a b'),
  ('x[PROSUMER.era'),
  ('roles.SELLER.roleInputs.p ÷ 0.5'),
  ('')) t(f);
SELECT * FROM formula_check('roles.SELLR.roleInputs.pricePerKWh', (SELECT c FROM ev));
SELECT * FROM formula_check('telemetrySources.cdr-ev-charger-ccs2-001.kWh * 2', (SELECT c FROM ev));

-- integrity: hash over the canonical contract, Ed25519 signature
\set key '\\x' '1111111111111111111111111111111111111111111111111111111111111111'
SELECT encode(contract_hash(c), 'hex') = encode(sha256(convert_to(jcs(c::text::json), 'UTF8')), 'hex') AS hash_is_sha256_of_jcs
  FROM ev;
CREATE TEMP TABLE signed AS SELECT contract_sign(c, 'ecopower-charging.example.com', :'key'::bytea) AS c FROM ev;
SELECT contract_verify(c, public_key(:'key'::bytea)) AS verifies,
       contract_verify(c, (keypair()).public_key) AS other_key,
       contract_hash(c) = (SELECT contract_hash(c) FROM ev) AS hash_ignores_signature,
       (c::jsonb) #>> '{verification,integrity,signedBy}' AS signed_by,
       (c::jsonb) #>> '{verification,integrity,publicKeyEndpoint}' = did_key(public_key(:'key'::bytea)) AS key_published
  FROM signed;
SELECT contract_verify(jsonb_set(c::jsonb, '{inputParameters,gracePeriodMinutes}', '30')::contract, public_key(:'key'::bytea)) AS tampered
  FROM signed;
SELECT contract_verify((SELECT c FROM ev), public_key(:'key'::bytea)) AS unsigned;
