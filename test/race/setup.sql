-- test/race/setup.sql: the world the race runs in, and one function per kind of transaction.
--
-- Each function does one thing through deg's SQL API and records what came of it in
-- race.outcomes, in the same transaction.  The errors a correct deg gives under concurrency
-- (a role taken by a faster claim, a duplicate reading, a settlement run refused because
-- another one is running, an offer withdrawn meanwhile) are caught by their SQLSTATE and
-- counted; anything else propagates, and pgbench aborts that client, which fails the test.
--
-- psql variables: meters (meter count), days (the settled week's length), contracts (how many
-- billed contracts claims and acceptances may create, spread evenly over the run: every started
-- contract is computed in every settlement run, so this bounds a run's length).
SET client_min_messages = warning;
CREATE EXTENSION deg;
CREATE SCHEMA race;
-- deg's operators (= on deg.era) are found through the search path, as README.md advises
SELECT format('ALTER DATABASE %I SET search_path = public, deg', current_database()) \gexec
SET search_path = public, deg;

CREATE TABLE race.config (meters integer NOT NULL, days integer NOT NULL, first_day timestamptz NOT NULL,
                          contracts integer NOT NULL, started_at timestamptz, seconds integer);
INSERT INTO race.config (meters, days, first_day, contracts) VALUES (:meters, :days, '2024-03-04 00:00+00', :contracts);

-- how many contracts of a share of the budget may exist by now (run.sh sets started_at and seconds)
CREATE FUNCTION race.budget(share numeric) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT share * contracts * least(1, extract(epoch FROM clock_timestamp() - started_at) / seconds)
      FROM race.config
$$;

-- what each transaction did: script, outcome (ok, or the expected refusal), and when
CREATE TABLE race.outcomes (script text NOT NULL, outcome text NOT NULL, detail text, at timestamptz NOT NULL DEFAULT clock_timestamp());

-- three currencies with different minor units, so that rounding is exercised per currency
CREATE TABLE race.currency_prices (k integer PRIMARY KEY, currency text NOT NULL, price numeric NOT NULL);
INSERT INTO race.currency_prices VALUES (0, 'INR', 6.37), (1, 'JPY', 31.7), (2, 'KWD', 0.0437);

-- a BUYER contract: a seller, a meter, a price; billed per quarter hour on the meter's net energy
-- (negative when the buyer exported more than it took: the seller pays it back)
CREATE FUNCTION race.buyer_contract(id text, seq_no integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'contractId', id, 'status', 'PENDING', 'createdAt', '2024-03-01T00:00:00Z',
        'inputParameters', jsonb_build_object('settlementInterval', 'PT15M'),
        'roles', jsonb_build_array(
            jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', format('seller-%s.race.example.com', seq_no % 5),
                               'roleInputs', jsonb_build_object('pricePerKWh', p.price, 'currency', p.currency)),
            jsonb_build_object('role', 'BUYER', 'filled', false, 'filledBy', NULL)),
        'telemetrySources', jsonb_build_array(jsonb_build_object(
            'sourceId', 'm', 'sourceType', 'METER_READING',
            'source', jsonb_build_object('era', format('meter-%s.race.example.com', seq_no % cfg.meters)))),
        'revenueFlows', jsonb_build_object('flows', jsonb_build_array(jsonb_build_object(
            'from', 'BUYER', 'to', 'SELLER',
            'formula', 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.m.netKWh'))))
      FROM race.config cfg, race.currency_prices p WHERE p.k = seq_no % 3
$$;

-- the pool of open BUYER roles that claims race for; topped up as it is taken
CREATE SEQUENCE race.pool_seq;
CREATE FUNCTION race.pool_add(n integer) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO deg.contracts (contract_id, body, status)
    SELECT id, race.buyer_contract(id, k::integer)::deg.contract, 'PENDING'
      FROM (SELECT nextval('race.pool_seq') AS k FROM generate_series(1, n)) s,
           LATERAL (SELECT 'pool-' || lpad(s.k::text, 7, '0') AS id) i
$$;
SELECT race.pool_add(64) \gset

-- markets: PROSUMER seats, one per participant, joinable while ACTIVE
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'market-' || i, jsonb_build_object(
    'contractId', 'market-' || i, 'status', 'PENDING', 'createdAt', '2024-03-01T00:00:00Z',
    'inputParameters', '{"currency": "EUR", "settlementInterval": "PT15M"}'::jsonb,
    'roles', '[{"role": "MARKET_CLEARING_AGENT", "filled": true, "filledBy": "mca.race.example.com", "roleInputs": {"marketMakingFee": 0.01}},
               {"role": "GRID_OPERATOR", "filled": true, "filledBy": "grid.race.example.com", "roleInputs": {"wheelingCharges": 0.025}},
               {"role": "PROSUMER", "filled": false, "filledBy": null,
                "roleInputs": {"offerCurve": {"type": "OFFER_CURVE", "required": true, "value": null}}}]'::jsonb,
    'revenueFlows', '{"flows": [
        {"from": "MARKET_CLEARING_AGENT", "to": "PROSUMER",
         "formula": "roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice × roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] × intervalHours"},
        {"from": "MARKET_CLEARING_AGENT", "to": "GRID_OPERATOR",
         "formula": "roles.GRID_OPERATOR.roleInputs.wheelingCharges × max(0, roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]) × intervalHours"}]}'::jsonb
    )::deg.contract, 'PENDING'
  FROM generate_series(1, 4) i;

-- offers whose contract template a taker instantiates (deg.accept_offer); rotated by race.rotate_offer
CREATE SEQUENCE race.offer_seq;
CREATE FUNCTION race.offer_publish() RETURNS void
LANGUAGE sql AS $$
    INSERT INTO deg.offers (offer)
    SELECT jsonb_build_object(
        'offerId', 'offer-' || s.k, 'providerId', format('seller-%s.race.example.com', s.k % 5), 'openRole', 'BUYER',
        'pricePerKWh', p.price, 'currency', p.currency,
        'contract', race.buyer_contract('accepted-' || s.k, s.k::integer))::deg.energy_offer
      FROM (SELECT nextval('race.offer_seq') AS k) s, race.currency_prices p WHERE p.k = s.k % 3
$$;
SELECT count(race.offer_publish()) FROM generate_series(1, 12) \gset

-- ---------- the transactions ----------

-- take an open BUYER role (one of the two oldest, so that clients collide), or now and then a
-- PROSUMER seat; returns 1 when there was nothing to claim (pgbench then waits a little)
CREATE FUNCTION race.claim() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    role text;
    who text;
    outcome text := 'ok';
    msg text;
BEGIN
    IF random() >= 0.1 THEN
        SELECT c.contract_id INTO target
          FROM (SELECT contract_id FROM deg.contracts
                 WHERE status = 'PENDING' AND contract_id LIKE 'pool-%'
                 ORDER BY contract_id LIMIT 2) c
         ORDER BY random() LIMIT 1;
        IF target IS NULL THEN
            IF (SELECT last_value FROM race.pool_seq) < race.budget(0.6) THEN
                PERFORM race.pool_add(16);  -- everything was taken: open more roles
                INSERT INTO race.outcomes (script, outcome) VALUES ('claim', 'pool refilled');
                RETURN 0;
            END IF;
            INSERT INTO race.outcomes (script, outcome) VALUES ('claim', 'nothing open');
            RETURN 1;
        END IF;
        role := 'BUYER';
        who := format('buyer-%s.race.example.com', floor(random() * 1000)::int);
    ELSE
        target := 'market-' || (1 + floor(random() * 4))::int;
        role := 'PROSUMER';
        who := format('home-%s.race.example.com', floor(random() * 24)::int);
    END IF;
    BEGIN
        INSERT INTO deg.role_claims (contract_id, role, participant, inputs)
        VALUES (target, role, who::deg.era,
                CASE WHEN role = 'PROSUMER' THEN jsonb_build_object('offerCurve', jsonb_build_object(
                    'currency', 'EUR', 'minExport', -5, 'maxExport', 5,
                    'curve', jsonb_build_array(jsonb_build_object('price', 0.05, 'powerKW', -5),
                                               jsonb_build_object('price', 0.10, 'powerKW', 5))))
                     ELSE '{}' END);
    EXCEPTION WHEN unique_violation THEN
        -- the documented refusals: the role went to a faster claim, or the participant has a seat
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
        outcome := CASE WHEN msg LIKE 'role % of contract % is already filled' THEN 'role already filled'
                        WHEN msg LIKE '% has already joined role % of contract %' THEN 'participant already seated'
                        ELSE 'unexpected 23505' END;
    END;
    INSERT INTO race.outcomes (script, outcome, detail) VALUES ('claim ' || lower(role), outcome, msg);
    RETURN 0;
END $$;

-- take the oldest live offer, or one of the newest (which may just have been withdrawn); returns 1 when the
-- budget is spent for now (pgbench then waits a little)
CREATE SEQUENCE race.accepted_seq;
CREATE FUNCTION race.accept() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    offer text;
    outcome text := 'ok';
    msg text;
BEGIN
    IF (SELECT last_value FROM race.accepted_seq) > race.budget(0.4) THEN
        RETURN 1;
    END IF;
    IF random() < 0.5 THEN              -- the offer everyone wants, which its provider withdraws next
        SELECT o.offer_id INTO offer FROM deg.offers o WHERE o.withdrawn_at IS NULL
         ORDER BY o.published_at, o.offer_id LIMIT 1;
    ELSE
        SELECT o.offer_id INTO offer
          FROM (SELECT offer_id FROM deg.offers ORDER BY published_at DESC, offer_id DESC LIMIT 16) o
         ORDER BY random() LIMIT 1;
    END IF;
    BEGIN
        PERFORM deg.accept_offer(offer, format('taker-%s.race.example.com', floor(random() * 1000)::int)::deg.era);
        PERFORM nextval('race.accepted_seq');
    EXCEPTION WHEN object_not_in_prerequisite_state THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
        outcome := CASE WHEN msg LIKE 'offer % was withdrawn at %' THEN 'offer withdrawn' ELSE 'unexpected 55000' END;
    END;
    INSERT INTO race.outcomes (script, outcome, detail) VALUES ('accept', outcome, msg);
    RETURN 0;
END $$;

-- a provider withdraws its oldest live offer and publishes a new one.  The row is locked before
-- the withdrawal time is read, so that an acceptance that went first has committed by then
-- (race/checks.sql: no contract of an offer is newer than its withdrawal)
CREATE FUNCTION race.rotate_offer() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    oldest text;
    n integer := 0;
BEGIN
    SELECT offer_id INTO oldest FROM deg.offers WHERE withdrawn_at IS NULL
     ORDER BY published_at, offer_id LIMIT 1;
    PERFORM 1 FROM deg.offers WHERE offer_id = oldest AND withdrawn_at IS NULL FOR UPDATE;
    IF FOUND THEN
        UPDATE deg.offers SET withdrawn_at = clock_timestamp() WHERE offer_id = oldest;
        n := 1;
    END IF;
    PERFORM race.offer_publish();
    INSERT INTO race.outcomes (script, outcome) VALUES ('rotate offer', CASE WHEN n = 1 THEN 'ok' ELSE 'withdrawn by another' END);
    RETURN 'ok';
END $$;

-- a meter reports an hour (four quarter hours, in order), or corrects one reading it sent
CREATE FUNCTION race.telemetry() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    cfg race.config;
    meter_era deg.era;
    t timestamptz;
    n integer;
    outcome text := 'ok';
BEGIN
    SELECT * INTO cfg FROM race.config;
    meter_era := format('meter-%s.race.example.com', floor(random() * cfg.meters)::int);
    t := cfg.first_day + floor(random() * cfg.days * 24) * interval '1 hour';
    IF random() < 0.2 THEN
        t := t + floor(random() * 4) * interval '15 minutes';
        UPDATE deg.meter_readings r
           SET imported_kwh = round((random() * 2)::numeric, 3), exported_kwh = round((random() * 1.5)::numeric, 3)
         WHERE r.meter = meter_era AND r.reading_interval = tstzrange(t, t + interval '15 minutes');
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO race.outcomes (script, outcome) VALUES ('telemetry correction', CASE WHEN n = 1 THEN 'ok' ELSE 'no such reading' END);
        RETURN 'correction';
    END IF;
    BEGIN
        INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
        SELECT meter_era, tstzrange(q, q + interval '15 minutes'),
               round((random() * 2)::numeric, 3), round((random() * 1.5)::numeric, 3)
          FROM generate_series(t, t + interval '45 minutes', interval '15 minutes') q
         ORDER BY q;
    EXCEPTION WHEN unique_violation THEN
        outcome := 'duplicate reading';  -- the hour (or part of it) is there already: refused, not summed
    END;
    INSERT INTO race.outcomes (script, outcome) VALUES ('telemetry', outcome);
    RETURN outcome;
END $$;

-- settle a day of the week: for every contract, or for a few
CREATE FUNCTION race.settle() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    cfg race.config;
    day timestamptz;
    ids text[];
    run deg.settlement_runs;
    outcome text := 'ok';
    msg text;
BEGIN
    SELECT * INTO cfg FROM race.config;
    day := cfg.first_day + floor(random() * cfg.days) * interval '1 day';
    IF random() < 0.3 THEN
        ids := ARRAY(SELECT contract_id FROM deg.contracts TABLESAMPLE BERNOULLI (5));
    END IF;
    BEGIN
        run := deg.settle(tstzrange(day, day + interval '1 day'), ids);
    EXCEPTION WHEN lock_not_available THEN
        GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
        outcome := CASE WHEN msg LIKE 'another settlement run is in progress (backend %)' THEN 'another run in progress'
                        ELSE 'unexpected 55P03' END;
    END;
    INSERT INTO race.outcomes (script, outcome, detail)
    VALUES (CASE WHEN ids IS NULL THEN 'settle all' ELSE 'settle some' END, outcome,
            coalesce(msg, format('run %s: %s entries, %s adjustments', run.run_id, run.entries_written, run.adjustments)));
    RETURN outcome;
END $$;
