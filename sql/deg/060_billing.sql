-- Billing and settlement (DESIGN.md sections 6, 8 and 9): telemetry tables and
-- bindings, a contract's billing lines, the settlement ledger and its runs,
-- scheduled runs with pg_cron, and the views analysts report from.

-- ---------- the telemetry bundle and its aggregate ----------

CREATE TYPE deg.telemetry;
CREATE FUNCTION deg.telemetry_in(cstring) RETURNS deg.telemetry
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_out(deg.telemetry) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_recv(internal) RETURNS deg.telemetry
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_send(deg.telemetry) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.telemetry (
    INPUT = deg.telemetry_in, OUTPUT = deg.telemetry_out,
    RECEIVE = deg.telemetry_recv, SEND = deg.telemetry_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON TYPE deg.telemetry IS 'series of observations a contract is billed on: {"telemetrySources.ID": [{"from", "to", FIELD: value}], "inputSignals.ID": [...]}';

CREATE FUNCTION deg.telemetry_merge(deg.telemetry, deg.telemetry) RETURNS deg.telemetry
    AS 'MODULE_PATHNAME', 'telemetry_merge_sql' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.telemetry_merge(deg.telemetry, deg.telemetry) IS 'the observations of both bundles';

CREATE FUNCTION deg.telemetry_agg_step(internal, text, tstzrange, text, VARIADIC "any") RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_agg_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_agg_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_agg_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.telemetry_agg_final(internal) RETURNS deg.telemetry
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
-- SSPACE: a contract-day of quarter-hour readings takes about a kilobyte; without it the
-- planner takes 8 kB a group and a settlement's hash aggregate spills after some 16,000 contracts
CREATE AGGREGATE deg.telemetry_agg(ref text, at tstzrange, fields text, VARIADIC "values" "any") (
    SFUNC = deg.telemetry_agg_step, STYPE = internal, SSPACE = 1024,
    COMBINEFUNC = deg.telemetry_agg_combine,
    SERIALFUNC = deg.telemetry_agg_serialize, DESERIALFUNC = deg.telemetry_agg_deserialize,
    FINALFUNC = deg.telemetry_agg_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE deg.telemetry_agg(text, tstzrange, text, "any") IS 'gather observations into a bundle: ref (telemetrySources.ID, inputSignals.ID, deliveredQuantity), time range, comma-separated field names, then the values';

-- ---------- a contract's lines ----------

CREATE FUNCTION deg.contract_lines(c deg.contract, period tstzrange, telemetry deg.telemetry DEFAULT NULL,
                                   signals deg.telemetry DEFAULT NULL,
                                   OUT kind text, OUT id text, OUT number integer,
                                   OUT from_role text, OUT from_era deg.era, OUT to_role text, OUT to_era deg.era,
                                   OUT participant deg.era, OUT amount numeric, OUT quantity numeric,
                                   OUT intervals integer, OUT valued_intervals integer, OUT currency text,
                                   OUT target_min numeric, OUT target_max numeric, OUT met boolean,
                                   OUT formula text, OUT description text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL SAFE ROWS 3;
COMMENT ON FUNCTION deg.contract_lines(deg.contract, tstzrange, deg.telemetry, deg.telemetry) IS 'every flow, metric and penalty of a contract over a period, evaluated per settlement interval (flows and penalties summed, metrics averaged), exact and unrounded';

-- the lines of every contract a query returns (contract_id, body, telemetry; $1 the period, $2
-- and $3 the arrays given), evaluated on parallel workers once there are more than
-- deg.parallel_evaluation_threshold contracts (deg.billing_sql's statement uses it)
CREATE FUNCTION deg.contract_lines_of(query text, period tstzrange, signals deg.telemetry DEFAULT NULL,
                                      ids text[] DEFAULT NULL, changed text[] DEFAULT NULL,
                                      OUT contract_id text,
                                      OUT kind text, OUT id text, OUT number integer,
                                      OUT from_role text, OUT from_era deg.era, OUT to_role text, OUT to_era deg.era,
                                      OUT participant deg.era, OUT amount numeric, OUT quantity numeric,
                                      OUT intervals integer, OUT valued_intervals integer, OUT currency text,
                                      OUT target_min numeric, OUT target_max numeric, OUT met boolean,
                                      OUT formula text, OUT description text)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE PARALLEL UNSAFE ROWS 1000;
COMMENT ON FUNCTION deg.contract_lines_of(text, tstzrange, deg.telemetry, text[], text[]) IS 'deg.contract_lines of every contract a query returns (contract_id, body, telemetry; $1 is the period, $2 ids, $3 changed), on parallel workers when there are many';
CREATE FUNCTION deg.last_contract_evaluation(OUT contracts bigint, OUT on_workers bigint, OUT workers integer)
    RETURNS record AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION deg.last_contract_evaluation() IS 'what the session''s last settlement run or billing statement evaluated: contracts, how many of them on parallel workers, and how many workers';

CREATE FUNCTION deg.round_half_even(x numeric, scale integer) RETURNS numeric
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.round_half_even(numeric, integer) IS 'round to scale places, ties to even (money rounding; numeric''s round() takes ties away from zero)';

CREATE FUNCTION deg.settle_progress(phase text, done bigint, total bigint) RETURNS void
    AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION deg.settle_progress(text, bigint, bigint) IS 'report a settlement run''s progress in pg_stat_activity.application_name (NULL phase: done)';

-- ---------- currencies ----------

CREATE TABLE deg.currencies (
    code        text PRIMARY KEY,
    minor_unit  integer NOT NULL,
    name        text,
    shipped     boolean NOT NULL DEFAULT false,
    CONSTRAINT currencies_code CHECK (code ~ '^[A-Z]{3}$'),
    CONSTRAINT currencies_minor_unit CHECK (minor_unit BETWEEN 0 AND 4)
);
COMMENT ON TABLE deg.currencies IS 'ISO 4217 currencies and their minor units: amounts are rounded to them, half to even';
INSERT INTO deg.currencies (code, minor_unit, name, shipped) VALUES
    ('AED', 2, 'UAE Dirham', true), ('AUD', 2, 'Australian Dollar', true), ('BHD', 3, 'Bahraini Dinar', true),
    ('BIF', 0, 'Burundi Franc', true), ('BRL', 2, 'Brazilian Real', true), ('CAD', 2, 'Canadian Dollar', true),
    ('CHF', 2, 'Swiss Franc', true), ('CLF', 4, 'Unidad de Fomento', true), ('CLP', 0, 'Chilean Peso', true),
    ('CNY', 2, 'Yuan Renminbi', true), ('CZK', 2, 'Czech Koruna', true), ('DJF', 0, 'Djibouti Franc', true),
    ('DKK', 2, 'Danish Krone', true), ('EUR', 2, 'Euro', true), ('GBP', 2, 'Pound Sterling', true),
    ('GNF', 0, 'Guinean Franc', true), ('HKD', 2, 'Hong Kong Dollar', true), ('IDR', 2, 'Rupiah', true),
    ('INR', 2, 'Indian Rupee', true), ('IQD', 3, 'Iraqi Dinar', true), ('ISK', 0, 'Iceland Krona', true),
    ('JOD', 3, 'Jordanian Dinar', true), ('JPY', 0, 'Yen', true), ('KES', 2, 'Kenyan Shilling', true),
    ('KMF', 0, 'Comorian Franc', true), ('KRW', 0, 'Won', true), ('KWD', 3, 'Kuwaiti Dinar', true),
    ('LYD', 3, 'Libyan Dinar', true), ('MXN', 2, 'Mexican Peso', true), ('NGN', 2, 'Naira', true),
    ('NOK', 2, 'Norwegian Krone', true), ('NZD', 2, 'New Zealand Dollar', true), ('OMR', 3, 'Rial Omani', true),
    ('PLN', 2, 'Zloty', true), ('PYG', 0, 'Guarani', true), ('RWF', 0, 'Rwanda Franc', true),
    ('SAR', 2, 'Saudi Riyal', true), ('SEK', 2, 'Swedish Krona', true), ('SGD', 2, 'Singapore Dollar', true),
    ('TND', 3, 'Tunisian Dinar', true), ('UGX', 0, 'Uganda Shilling', true), ('USD', 2, 'US Dollar', true),
    ('UYI', 0, 'Uruguay Peso en Unidades Indexadas', true), ('UYW', 4, 'Unidad Previsional', true),
    ('VND', 0, 'Dong', true), ('VUV', 0, 'Vatu', true), ('XAF', 0, 'CFA Franc BEAC', true),
    ('XOF', 0, 'CFA Franc BCEAO', true), ('XPF', 0, 'CFP Franc', true), ('ZAR', 2, 'Rand', true);
-- rows a user adds are dumped; the shipped ones come with the extension
SELECT pg_catalog.pg_extension_config_dump('deg.currencies', 'WHERE NOT shipped');

-- ---------- telemetry tables ----------

CREATE TABLE deg.meter_readings (
    meter            deg.era NOT NULL,
    reading_interval tstzrange NOT NULL,
    imported_kwh     numeric NOT NULL DEFAULT 0,
    exported_kwh     numeric NOT NULL DEFAULT 0,
    received_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT meter_readings_once PRIMARY KEY (meter, reading_interval),
    CONSTRAINT meter_readings_bounded CHECK (NOT isempty(reading_interval) AND NOT lower_inf(reading_interval)
                                             AND NOT upper_inf(reading_interval)),
    CONSTRAINT meter_readings_energy CHECK (imported_kwh >= 0 AND exported_kwh >= 0)
);
COMMENT ON TABLE deg.meter_readings IS 'interval meter readings: energy imported (taken from the grid) and exported, kWh; one row per meter and interval';
SELECT pg_catalog.pg_extension_config_dump('deg.meter_readings', '');

CREATE TABLE deg.charge_data_records (
    session_id  text PRIMARY KEY,
    evse        deg.era NOT NULL,
    start_time  timestamptz NOT NULL,
    end_time    timestamptz NOT NULL,
    energy_kwh  numeric NOT NULL,
    cdr         jsonb,
    received_at timestamptz NOT NULL DEFAULT now(),
    -- the contract the session was charged under (OCPI authorization_reference); NULL: a session
    -- of the EVSE as a whole, billed to every contract whose source is the EVSE
    contract_id text,
    CONSTRAINT charge_data_records_times CHECK (end_time > start_time),
    CONSTRAINT charge_data_records_energy CHECK (energy_kwh >= 0)
);
CREATE INDEX charge_data_records_evse_idx ON deg.charge_data_records (evse, start_time);
COMMENT ON TABLE deg.charge_data_records IS 'EV charging sessions (OCPI CDR fields; the whole CDR in cdr): billed as energyKWh, startTime, endTime, sessions; to contract_id alone when it is set, else to every contract of the EVSE';
SELECT pg_catalog.pg_extension_config_dump('deg.charge_data_records', '');

CREATE TABLE deg.signal_values (
    signal_id   text NOT NULL,
    valid       tstzrange NOT NULL,
    value       numeric NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT signal_values_once PRIMARY KEY (signal_id, valid),
    CONSTRAINT signal_values_start CHECK (NOT isempty(valid) AND NOT lower_inf(valid))
);
COMMENT ON TABLE deg.signal_values IS 'values of input signals (prices, states...) and when they are in force; an open end means until further notice';
SELECT pg_catalog.pg_extension_config_dump('deg.signal_values', '');

-- the metered energy delivered under a contract (P2P trades settled on actuals)
CREATE TABLE deg.trade_allocations (
    contract_id text NOT NULL,
    meter       deg.era NOT NULL,
    allocation_interval tstzrange NOT NULL,
    allocated_kwh numeric NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT trade_allocations_once PRIMARY KEY (contract_id, allocation_interval),
    CONSTRAINT trade_allocations_energy CHECK (allocated_kwh >= 0)
);
COMMENT ON TABLE deg.trade_allocations IS 'energy a seller''s meter delivered to each trade contract per interval; billed as deliveredQuantity';
SELECT pg_catalog.pg_extension_config_dump('deg.trade_allocations', '');

-- ---------- what each contract is billed on ----------

-- every telemetry source and input signal of each contract, kept by a trigger
CREATE TABLE deg.contract_feeds (
    contract_id text NOT NULL REFERENCES deg.contracts (contract_id) ON DELETE CASCADE,
    ref         text NOT NULL,
    kind        text NOT NULL,
    source_type text,
    source_era  deg.era,
    signal_id   text,
    PRIMARY KEY (contract_id, ref),
    CONSTRAINT contract_feeds_kind CHECK (kind IN ('telemetry', 'signal'))
);
CREATE INDEX contract_feeds_era_idx ON deg.contract_feeds (source_era);
COMMENT ON TABLE deg.contract_feeds IS 'the telemetry sources (with the ERA of their device) and input signals of every contract';

CREATE FUNCTION deg.contract_feed_list(c deg.contract)
RETURNS TABLE (ref text, kind text, source_type text, source_era deg.era, signal_id text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT 'telemetrySources.' || (s->>'sourceId'), 'telemetry', s->>'sourceType',
           coalesce(s#>>'{source,era}', s#>>'{source,meterId}', s#>>'{source,evseId}', s->>'era')::deg.era, NULL
      FROM jsonb_array_elements(coalesce(deg.contract_jsonb(c)->'telemetrySources', '[]')) s
    UNION ALL
    SELECT 'inputSignals.' || (g->>'signalId'), 'signal', g->>'signalType', NULL, g->>'signalId'
      FROM jsonb_array_elements(coalesce(deg.contract_jsonb(c)->'inputSignals', '[]')) g
$$;
COMMENT ON FUNCTION deg.contract_feed_list(deg.contract) IS 'the telemetry sources and input signals a contract declares';

CREATE FUNCTION deg.contracts_feeds_sync() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.body::text = OLD.body::text THEN
        RETURN NULL;
    END IF;
    DELETE FROM deg.contract_feeds WHERE contract_id = NEW.contract_id;
    INSERT INTO deg.contract_feeds (contract_id, ref, kind, source_type, source_era, signal_id)
    SELECT NEW.contract_id, f.ref, f.kind, f.source_type, f.source_era, f.signal_id
      FROM deg.contract_feed_list(NEW.body) f
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;
CREATE TRIGGER contracts_feeds_sync AFTER INSERT OR UPDATE OF body ON deg.contracts
    FOR EACH ROW EXECUTE FUNCTION deg.contracts_feeds_sync();

-- a source or signal read from a user's own table or view instead of the shipped ones
CREATE TABLE deg.telemetry_bindings (
    contract_id   text NOT NULL REFERENCES deg.contracts (contract_id),
    ref           text NOT NULL,
    relation      regclass NOT NULL,
    key_column    name,
    key_value     text,
    time_column   name NOT NULL,
    end_column    name,
    value_columns jsonb NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by name NOT NULL DEFAULT current_user,
    PRIMARY KEY (contract_id, ref),
    CONSTRAINT telemetry_bindings_key CHECK ((key_column IS NULL) = (key_value IS NULL)),
    CONSTRAINT telemetry_bindings_values CHECK (jsonb_typeof(value_columns) = 'object')
);
COMMENT ON TABLE deg.telemetry_bindings IS 'a contract''s telemetry source or input signal bound to a relation: rows where key_column = key_value, timed by time_column (a tstzrange, or a timestamptz with end_column), fields from value_columns {field: column}';
SELECT pg_catalog.pg_extension_config_dump('deg.telemetry_bindings', '');

-- a binding is checked when it is registered, not when billing runs
CREATE FUNCTION deg.telemetry_bindings_check() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    feed deg.contract_feeds;
    col record;
    field text;
    column_name text;
    column_type regtype;
    time_type regtype;
BEGIN
    SELECT * INTO feed FROM deg.contract_feeds f WHERE f.contract_id = NEW.contract_id AND f.ref = NEW.ref;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contract % has no telemetry source or input signal "%"', NEW.contract_id, NEW.ref
            USING ERRCODE = '42704',
                  HINT = 'Name it as formulas do: telemetrySources.ID or inputSignals.ID.';
    END IF;
    IF NOT has_table_privilege(NEW.relation, 'SELECT') THEN
        RAISE EXCEPTION 'no SELECT privilege on %', NEW.relation USING ERRCODE = '42501';
    END IF;
    SELECT atttypid::regtype INTO time_type FROM pg_attribute
     WHERE attrelid = NEW.relation AND attname = NEW.time_column AND attnum > 0 AND NOT attisdropped;
    IF time_type IS NULL THEN
        RAISE EXCEPTION 'relation % has no column "%" (time_column)', NEW.relation, NEW.time_column USING ERRCODE = '42703';
    END IF;
    IF time_type NOT IN ('tstzrange'::regtype, 'timestamptz'::regtype) THEN
        RAISE EXCEPTION 'time_column "%" of % is %, not tstzrange or timestamptz', NEW.time_column, NEW.relation, time_type
            USING ERRCODE = '42804';
    END IF;
    IF NEW.end_column IS NOT NULL THEN
        IF time_type <> 'timestamptz'::regtype THEN
            RAISE EXCEPTION 'end_column goes with a timestamptz time_column, and "%" is a range', NEW.time_column
                USING ERRCODE = '22023';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = NEW.relation AND attname = NEW.end_column
                          AND atttypid = 'timestamptz'::regtype AND attnum > 0 AND NOT attisdropped) THEN
            RAISE EXCEPTION 'relation % has no timestamptz column "%" (end_column)', NEW.relation, NEW.end_column
                USING ERRCODE = '42703';
        END IF;
    END IF;
    IF NEW.key_column IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = NEW.relation
                                                     AND attname = NEW.key_column AND attnum > 0 AND NOT attisdropped) THEN
        RAISE EXCEPTION 'relation % has no column "%" (key_column)', NEW.relation, NEW.key_column USING ERRCODE = '42703';
    END IF;
    IF (SELECT count(*) FROM jsonb_object_keys(NEW.value_columns)) NOT BETWEEN 1 AND 6 THEN
        RAISE EXCEPTION 'value_columns maps 1 to 6 fields to columns, not %', NEW.value_columns USING ERRCODE = '22023';
    END IF;
    IF feed.kind = 'signal' AND NOT NEW.value_columns ? 'value' THEN
        RAISE EXCEPTION 'a signal binding maps the field "value" to a column' USING ERRCODE = '22023';
    END IF;
    FOR field, column_name IN SELECT key, value #>> '{}' FROM jsonb_each(NEW.value_columns) LOOP
        IF field !~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN
            RAISE EXCEPTION 'field name "%" is not an identifier', field USING ERRCODE = '22023';
        END IF;
        SELECT atttypid::regtype INTO column_type FROM pg_attribute
         WHERE attrelid = NEW.relation AND attname = column_name AND attnum > 0 AND NOT attisdropped;
        IF column_type IS NULL THEN
            RAISE EXCEPTION 'relation % has no column "%" (field %)', NEW.relation, column_name, field USING ERRCODE = '42703';
        END IF;
        IF column_type NOT IN ('numeric'::regtype, 'integer'::regtype, 'bigint'::regtype, 'smallint'::regtype,
                               'real'::regtype, 'double precision'::regtype, 'timestamptz'::regtype) THEN
            RAISE EXCEPTION 'column "%" of % is %; a field is a number or a timestamptz', column_name, NEW.relation, column_type
                USING ERRCODE = '42804';
        END IF;
    END LOOP;
    NEW.registered_at := now();
    NEW.registered_by := current_user;
    RETURN NEW;
END $$;
CREATE TRIGGER telemetry_bindings_check BEFORE INSERT OR UPDATE ON deg.telemetry_bindings
    FOR EACH ROW EXECUTE FUNCTION deg.telemetry_bindings_check();

-- ---------- what changed since a period was settled ----------

-- A run over a period that was settled before recomputes only the contracts whose inputs changed
-- since (sql/deg/061_settlement.sql).  A row written since is told by its xmin:
CREATE FUNCTION deg.changed_since(row_xmin xid, since pg_snapshot) RETURNS boolean
    AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE COST 0.5;
COMMENT ON FUNCTION deg.changed_since(xid, pg_snapshot) IS 'whether a row version (by its xmin) was written after the snapshot was taken';

-- and a row removed (deleted, or updated: its old version no longer counts) is recorded here
CREATE TABLE deg.telemetry_removals (
    source     text NOT NULL,
    key        text,
    at         tstzrange,
    removed_by xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX telemetry_removals_xid_idx ON deg.telemetry_removals (removed_by);
SELECT pg_catalog.pg_extension_config_dump('deg.telemetry_removals', '');
COMMENT ON TABLE deg.telemetry_removals IS 'rows removed from the tables settlement reads (source: the table; key: the meter, EVSE, signal, contract or currency of the rows; at: their time span; key NULL: the whole table, truncated), so that a run recomputes the contracts they were of; deg.settle deletes those the latest run of every period they fall in has seen';

CREATE FUNCTION deg.telemetry_removals_log() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        INSERT INTO deg.telemetry_removals (source) VALUES (TG_TABLE_NAME);
    ELSIF TG_TABLE_NAME = 'meter_readings' THEN
        INSERT INTO deg.telemetry_removals (source, key, at)
        SELECT TG_TABLE_NAME, o.meter::text, tstzrange(min(lower(o.reading_interval)), max(upper(o.reading_interval)))
          FROM old o GROUP BY o.meter;
    ELSIF TG_TABLE_NAME = 'charge_data_records' THEN
        INSERT INTO deg.telemetry_removals (source, key, at)
        SELECT TG_TABLE_NAME, o.evse::text, tstzrange(min(o.start_time), max(o.end_time)) FROM old o GROUP BY o.evse;
    ELSIF TG_TABLE_NAME = 'signal_values' THEN
        INSERT INTO deg.telemetry_removals (source, key, at)
        SELECT TG_TABLE_NAME, o.signal_id, tstzrange(min(lower(o.valid)), max(upper(o.valid))) FROM old o GROUP BY o.signal_id;
    ELSIF TG_TABLE_NAME = 'trade_allocations' THEN
        INSERT INTO deg.telemetry_removals (source, key, at)
        SELECT TG_TABLE_NAME, o.contract_id, tstzrange(min(lower(o.allocation_interval)), max(upper(o.allocation_interval)))
          FROM old o GROUP BY o.contract_id;
    ELSIF TG_TABLE_NAME IN ('market_clearings', 'market_setpoints') THEN
        INSERT INTO deg.telemetry_removals (source, key, at)
        SELECT TG_TABLE_NAME, o.contract_id, tstzrange(min(lower(o.clearing_interval)), max(upper(o.clearing_interval)))
          FROM old o GROUP BY o.contract_id;
    ELSIF TG_TABLE_NAME IN ('telemetry_bindings', 'contracts') THEN
        INSERT INTO deg.telemetry_removals (source, key) SELECT DISTINCT TG_TABLE_NAME, o.contract_id FROM old o;
    ELSIF TG_TABLE_NAME = 'currencies' THEN
        INSERT INTO deg.telemetry_removals (source, key) SELECT DISTINCT TG_TABLE_NAME, o.code FROM old o;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER meter_readings_removed AFTER DELETE ON deg.meter_readings
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER meter_readings_replaced AFTER UPDATE ON deg.meter_readings
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER meter_readings_truncated AFTER TRUNCATE ON deg.meter_readings
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER charge_data_records_removed AFTER DELETE ON deg.charge_data_records
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER charge_data_records_replaced AFTER UPDATE ON deg.charge_data_records
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER charge_data_records_truncated AFTER TRUNCATE ON deg.charge_data_records
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER signal_values_removed AFTER DELETE ON deg.signal_values
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER signal_values_replaced AFTER UPDATE ON deg.signal_values
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER signal_values_truncated AFTER TRUNCATE ON deg.signal_values
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER trade_allocations_removed AFTER DELETE ON deg.trade_allocations
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER trade_allocations_replaced AFTER UPDATE ON deg.trade_allocations
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER trade_allocations_truncated AFTER TRUNCATE ON deg.trade_allocations
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER telemetry_bindings_removed AFTER DELETE ON deg.telemetry_bindings
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER telemetry_bindings_replaced AFTER UPDATE ON deg.telemetry_bindings
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER currencies_removed AFTER DELETE ON deg.currencies
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER currencies_replaced AFTER UPDATE ON deg.currencies
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER contracts_removed AFTER DELETE ON deg.contracts
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER telemetry_bindings_truncated AFTER TRUNCATE ON deg.telemetry_bindings
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER currencies_truncated AFTER TRUNCATE ON deg.currencies
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER contracts_truncated AFTER TRUNCATE ON deg.contracts
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();

-- whether every feed of a contract has data to come from
CREATE VIEW deg.contract_connections AS
SELECT f.contract_id, f.ref, f.kind, f.source_type, f.source_era, f.signal_id,
       CASE WHEN b.relation IS NOT NULL THEN b.relation::text
            WHEN f.kind = 'signal' THEN 'deg.signal_values'
            WHEN f.source_type = 'METER_READING' AND f.source_era IS NOT NULL THEN 'deg.meter_readings'
            WHEN f.source_type = 'CHARGE_DATA_RECORD' AND f.source_era IS NOT NULL THEN 'deg.charge_data_records'
       END AS bound_to
  FROM deg.contract_feeds f
  LEFT JOIN deg.telemetry_bindings b ON b.contract_id = f.contract_id AND b.ref = f.ref;
COMMENT ON VIEW deg.contract_connections IS 'each telemetry source and input signal of each contract and the relation it is read from (NULL: not connected)';

CREATE FUNCTION deg.contract_connected(contract_id text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT NOT EXISTS (SELECT 1 FROM deg.contract_connections c
                        WHERE c.contract_id = contract_connected.contract_id AND c.bound_to IS NULL)
$$;
COMMENT ON FUNCTION deg.contract_connected(text) IS 'true when every telemetry source and input signal of the contract is bound to data';

-- ---------- the billing query ----------

CREATE TYPE deg.billing_line AS (
    contract_id      text,
    period           tstzrange,
    kind             text,
    line             text,
    participant      deg.era,
    from_role        text,
    to_role          text,
    payer_role       text,
    payer            deg.era,
    payee_role       text,
    payee            deg.era,
    amount           numeric,
    currency         text,
    quantity         numeric,
    intervals        integer,
    valued_intervals integer,
    formula          text,
    description      text
);
COMMENT ON TYPE deg.billing_line IS 'one transfer: payer pays payee amount (>= 0, rounded to the currency''s minor unit) for a flow or penalty over a period';

-- The rows every selected contract is billed on, as (contract_id, ref, at,
-- fields, v1..v6): the shipped tables, then each binding.  One statement, so
-- that the aggregate over it runs on parallel workers.
CREATE FUNCTION deg.billing_feed_sql(contracts text) RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    parts text[] := ARRAY[
        format($q$SELECT f.contract_id, f.ref, r.reading_interval AS at, 'importedKWh,exportedKWh' AS fields,
                         r.imported_kwh AS v1, r.exported_kwh AS v2, NULL::numeric AS v3, NULL::numeric AS v4,
                         NULL::numeric AS v5, NULL::numeric AS v6
                    FROM deg.contract_feeds f
                    JOIN deg.meter_readings r ON r.meter = f.source_era
                   WHERE f.source_type = 'METER_READING' AND r.reading_interval && $1 AND %1$s
                     AND NOT EXISTS (SELECT 1 FROM deg.telemetry_bindings b
                                      WHERE b.contract_id = f.contract_id AND b.ref = f.ref)$q$,
               replace(contracts, '{id}', 'f.contract_id')),
        format($q$SELECT f.contract_id, f.ref, tstzrange(r.start_time, r.end_time), 'energyKWh,startTime,endTime',
                         r.energy_kwh, extract(epoch FROM r.start_time), extract(epoch FROM r.end_time),
                         NULL::numeric, NULL::numeric, NULL::numeric
                    FROM deg.contract_feeds f
                    JOIN deg.charge_data_records r ON r.evse = f.source_era
                                                   AND (r.contract_id IS NULL OR r.contract_id = f.contract_id)
                   WHERE f.source_type = 'CHARGE_DATA_RECORD' AND tstzrange(r.start_time, r.end_time) && $1 AND %1$s
                     AND NOT EXISTS (SELECT 1 FROM deg.telemetry_bindings b
                                      WHERE b.contract_id = f.contract_id AND b.ref = f.ref)$q$,
               replace(contracts, '{id}', 'f.contract_id')),
        format($q$SELECT a.contract_id, 'deliveredQuantity', a.allocation_interval, 'value',
                         a.allocated_kwh, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric
                    FROM deg.trade_allocations a
                   WHERE a.allocation_interval && $1 AND %1$s$q$, replace(contracts, '{id}', 'a.contract_id')),
        -- a market's clearings: the clearing agent's role inputs for each interval
        format($q$SELECT m.contract_id, 'roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice', m.clearing_interval,
                         'value', m.clearing_price, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric, NULL::numeric
                    FROM deg.market_clearings m
                   WHERE m.clearing_interval && $1 AND %1$s$q$, replace(contracts, '{id}', 'm.contract_id')),
        format($q$SELECT m.contract_id, 'roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[' || m.participant::text || ']',
                         m.clearing_interval, 'value', m.cleared_kw, NULL::numeric, NULL::numeric, NULL::numeric,
                         NULL::numeric, NULL::numeric
                    FROM deg.market_setpoints m
                   WHERE m.clearing_interval && $1 AND %1$s$q$, replace(contracts, '{id}', 'm.contract_id'))];
    b record;
    time_type regtype;
    fields text;
    vals text;
    at text;
BEGIN
    FOR b IN
        SELECT tb.*, f.kind AS feed_kind FROM deg.telemetry_bindings tb
          JOIN deg.contract_feeds f ON f.contract_id = tb.contract_id AND f.ref = tb.ref
         ORDER BY tb.contract_id, tb.ref
    LOOP
        SELECT atttypid::regtype INTO time_type FROM pg_attribute
         WHERE attrelid = b.relation AND attname = b.time_column AND NOT attisdropped;
        SELECT string_agg(key, ',' ORDER BY key),
               string_agg(CASE WHEN (SELECT atttypid FROM pg_attribute WHERE attrelid = b.relation
                                       AND attname = value #>> '{}') = 'timestamptz'::regtype
                               THEN format('extract(epoch FROM r.%I)', value #>> '{}')
                               ELSE format('r.%I::numeric', value #>> '{}') END, ', ' ORDER BY key)
          INTO fields, vals
          FROM jsonb_each(b.value_columns);
        vals := vals || repeat(', NULL::numeric', 6 - (SELECT count(*)::int FROM jsonb_object_keys(b.value_columns)));
        at := CASE WHEN time_type = 'tstzrange'::regtype THEN format('r.%I', b.time_column)
                   WHEN b.end_column IS NOT NULL THEN format('tstzrange(r.%I, r.%I)', b.time_column, b.end_column)
                   WHEN b.feed_kind = 'signal' THEN format('tstzrange(r.%1$I, coalesce(lead(r.%1$I) OVER (ORDER BY r.%1$I), ''infinity''))', b.time_column)
                   ELSE format('tstzrange(r.%1$I, r.%1$I + interval ''1 microsecond'')', b.time_column) END;
        parts := parts || format(
            $q$SELECT * FROM (SELECT %L::text AS contract_id, %L::text AS ref, %s AS at, %L::text AS fields, %s
                                FROM %s r WHERE %s) x
                WHERE x.at && $1 AND %s$q$,
            b.contract_id, b.ref, at, fields, vals, b.relation,
            CASE WHEN b.key_column IS NULL THEN 'true' ELSE format('r.%I::text = %L', b.key_column, b.key_value) END,
            replace(contracts, '{id}', 'x.contract_id'));
    END LOOP;
    RETURN array_to_string(parts, E'\nUNION ALL\n');
END $$;
COMMENT ON FUNCTION deg.billing_feed_sql(text) IS 'the statement that reads the telemetry of the contracts a condition selects ({id} stands for the contract id; $1 is the period, $2 may be used by the condition)';

-- Each selected contract's body and its telemetry for period $1, gathered per
-- contract on parallel workers (deg.contract_lines_of evaluates them).
CREATE FUNCTION deg.billing_contracts_sql(contracts text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
SELECT format($i$
WITH feed AS (%1$s
UNION ALL
-- a row of no series for every contract billed: each has a group, those without telemetry one of none
SELECT c.contract_id, NULL::text, NULL::tstzrange, NULL::text, NULL::numeric, NULL::numeric, NULL::numeric,
       NULL::numeric, NULL::numeric, NULL::numeric
  FROM deg.contracts c WHERE c.status <> 'PENDING' AND %2$s),
telemetry AS (
    SELECT contract_id, deg.telemetry_agg(ref, at, fields, v1, v2, v3, v4, v5, v6) AS telemetry
      FROM feed GROUP BY contract_id)
SELECT c.contract_id, c.body, t.telemetry
  FROM telemetry t
  JOIN deg.contracts c ON c.contract_id = t.contract_id
 WHERE c.status <> 'PENDING' AND %2$s$i$, deg.billing_feed_sql(contracts), replace(contracts, '{id}', 'c.contract_id'))
$$;
COMMENT ON FUNCTION deg.billing_contracts_sql(text) IS 'the statement gathering, on parallel workers, the body and telemetry of the contracts a condition selects ({id} stands for the contract id), for period $1';

-- The lines of the selected contracts for period $1: telemetry gathered per
-- contract, signals once for all, lines computed, rounded and turned around
-- when negative.
CREATE FUNCTION deg.billing_sql(contracts text) RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
SELECT format($q$
WITH signals AS (
    SELECT deg.telemetry_agg('inputSignals.' || s.signal_id,
                             tstzrange(lower(s.valid), coalesce(upper(s.valid), 'infinity')), 'value', s.value) AS signals
      FROM deg.signal_values s
     WHERE s.valid && $1
       AND s.signal_id IN (SELECT f.signal_id FROM deg.contract_feeds f
                            WHERE f.kind = 'signal' AND %1$s
                              AND NOT EXISTS (SELECT 1 FROM deg.telemetry_bindings b
                                               WHERE b.contract_id = f.contract_id AND b.ref = f.ref))),
lines AS (
    SELECT l.* FROM deg.contract_lines_of(%2$L, $1, (SELECT signals FROM signals), %3$s) l)
SELECT l.contract_id, $1 AS period, l.kind, l.id AS line, l.participant, l.from_role, l.to_role,
       CASE WHEN r.amount < 0 THEN l.to_role ELSE l.from_role END AS payer_role,
       CASE WHEN r.amount < 0 THEN l.to_era ELSE l.from_era END AS payer,
       CASE WHEN r.amount < 0 THEN l.from_role ELSE l.to_role END AS payee_role,
       CASE WHEN r.amount < 0 THEN l.from_era ELSE l.to_era END AS payee,
       abs(r.amount) AS amount, l.currency, l.quantity, l.intervals, l.valued_intervals, l.formula, l.description,
       r.amount AS signed_amount, cur.code IS NOT NULL AS currency_known,
       l.amount AS exact_amount, l.target_min, l.target_max, l.met
  FROM lines l
  LEFT JOIN deg.currencies cur ON cur.code = l.currency
  CROSS JOIN LATERAL (SELECT CASE WHEN l.kind = 'metric' THEN l.amount
                                  ELSE deg.round_half_even(l.amount, coalesce(cur.minor_unit, 2)) END AS amount) r
$q$, replace(contracts, '{id}', 'f.contract_id'),
   -- each contract's body and telemetry
   deg.billing_contracts_sql(contracts),
   -- the condition's parameters, passed on
   CASE WHEN strpos(contracts, '$3') > 0 THEN '$2, $3' WHEN strpos(contracts, '$2') > 0 THEN '$2' ELSE 'NULL, NULL' END)
$$;
COMMENT ON FUNCTION deg.billing_sql(text) IS 'the statement computing the billing lines (and metric values) of the contracts a condition selects ({id} stands for the contract id), for period $1';

-- lines that cannot be settled: an unknown currency, an amount owed by or to an open role
CREATE FUNCTION deg.billing_check(l record) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    IF l.currency IS NULL THEN
        RAISE EXCEPTION 'contract % states no currency', l.contract_id
            USING ERRCODE = '22023', HINT = 'Give inputParameters.currency, or a currency role input.';
    END IF;
    IF NOT l.currency_known THEN
        RAISE EXCEPTION 'contract % is in currency %, which is not in deg.currencies', l.contract_id, l.currency
            USING ERRCODE = '22023', HINT = 'Add the currency and its ISO 4217 minor unit to deg.currencies.';
    END IF;
    IF l.amount <> 0 AND (l.payer IS NULL OR l.payee IS NULL) THEN
        RAISE EXCEPTION 'contract %, % %: % % is owed but role % is not filled', l.contract_id, l.kind, l.line,
                        l.amount, l.currency, CASE WHEN l.payer IS NULL THEN l.payer_role ELSE l.payee_role END
            USING ERRCODE = '55000';
    END IF;
END $$;

CREATE FUNCTION deg.contract_billing(contract_id text, period tstzrange)
RETURNS SETOF deg.billing_line
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    l record;
BEGIN
    IF period IS NULL OR isempty(period) OR lower_inf(period) OR upper_inf(period) THEN
        RAISE EXCEPTION 'a billing period must be a non-empty bounded range, not %', period USING ERRCODE = '22023';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM deg.contracts c WHERE c.contract_id = contract_billing.contract_id) THEN
        RAISE EXCEPTION 'contract % does not exist', contract_id USING ERRCODE = '42704';
    END IF;
    FOR l IN EXECUTE 'SELECT * FROM (' || deg.billing_sql(format('{id} = %L', contract_id))
                     || ') q ORDER BY q.kind, length(q.line), q.line, q.participant' USING period LOOP
        CONTINUE WHEN l.kind = 'metric';
        PERFORM deg.billing_check(l);
        IF l.payer IS NULL OR l.payee IS NULL THEN
            CONTINUE;           -- nothing owed by or to a role nobody has taken
        END IF;
        RETURN NEXT ROW(l.contract_id, l.period, l.kind, l.line, l.participant, l.from_role, l.to_role,
                        l.payer_role, l.payer, l.payee_role, l.payee, l.amount, l.currency, l.quantity,
                        l.intervals, l.valued_intervals, l.formula, l.description)::deg.billing_line;
    END LOOP;
END $$;
COMMENT ON FUNCTION deg.contract_billing(text, tstzrange) IS 'a contract''s billing lines for a period, straight from telemetry: flows and penalties summed over settlement intervals, rounded once per line (half even), negative amounts turned around';

CREATE FUNCTION deg.contract_quality(contract_id text, period tstzrange)
RETURNS TABLE (metric text, value numeric, target_min numeric, target_max numeric, met boolean,
               intervals integer, valued_intervals integer, formula text, description text,
               penalty numeric, currency text, penalty_payer_role text, penalty_payer deg.era,
               penalty_payee_role text, penalty_payee deg.era)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    IF period IS NULL OR isempty(period) OR lower_inf(period) OR upper_inf(period) THEN
        RAISE EXCEPTION 'a billing period must be a non-empty bounded range, not %', period USING ERRCODE = '22023';
    END IF;
    RETURN QUERY
    SELECT m.id, m.amount, m.target_min, m.target_max, m.met, m.intervals, m.valued_intervals, m.formula, m.description,
           p.amount, p.currency, p.payer_role, p.payer, p.payee_role, p.payee
      FROM deg.contracts c
     CROSS JOIN LATERAL deg.contract_lines(c.body, period,
               (SELECT deg.telemetry_agg(t.ref, t.at, t.fields, t.v1, t.v2, t.v3, t.v4, t.v5, t.v6)
                  FROM deg.contract_feed_rows(contract_quality.contract_id, period) t),
               (SELECT deg.telemetry_agg('inputSignals.' || s.signal_id,
                                         tstzrange(lower(s.valid), coalesce(upper(s.valid), 'infinity')), 'value', s.value)
                  FROM deg.signal_values s
                 WHERE s.valid && period
                   AND s.signal_id IN (SELECT f.signal_id FROM deg.contract_feeds f
                                        WHERE f.contract_id = contract_quality.contract_id))) m
      LEFT JOIN deg.contract_billing(contract_quality.contract_id, period) p
             ON p.kind = 'penalty' AND p.line = m.id
     WHERE c.contract_id = contract_quality.contract_id AND m.kind = 'metric'
     ORDER BY m.number;
END $$;

-- a contract's telemetry rows for a period (bindings included)
CREATE FUNCTION deg.contract_feed_rows(contract_id text, period tstzrange)
RETURNS TABLE (ref text, at tstzrange, fields text,
               v1 numeric, v2 numeric, v3 numeric, v4 numeric, v5 numeric, v6 numeric)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
BEGIN
    RETURN QUERY EXECUTE 'SELECT q.ref, q.at, q.fields, q.v1, q.v2, q.v3, q.v4, q.v5, q.v6 FROM ('
                         || deg.billing_feed_sql(format('{id} = %L', contract_id)) || ') q' USING period;
END $$;
COMMENT ON FUNCTION deg.contract_feed_rows(text, tstzrange) IS 'the telemetry rows a contract is billed on for a period (shipped tables and bindings)';
COMMENT ON FUNCTION deg.contract_quality(text, tstzrange) IS 'a contract''s quality metrics over a period: value (average over intervals), target, whether it was met, and the penalty line';
