-- Market contracts (DESIGN.md section 7): a MARKET_CLEARING_AGENT clears the
-- PROSUMER offer curves of a contract for an interval; the clearing price and
-- each PROSUMER's cleared power are the agent's role inputs for that
-- interval, kept here and read by billing interval by interval.

CREATE TABLE deg.market_clearings (
    contract_id         text NOT NULL REFERENCES deg.contracts (contract_id),
    clearing_interval   tstzrange NOT NULL,
    clearing_price      numeric NOT NULL,
    cleared_quantity_kw numeric NOT NULL,
    currency            text NOT NULL,
    result              jsonb NOT NULL,
    cleared_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contract_id, clearing_interval),
    CONSTRAINT market_clearings_interval CHECK (NOT isempty(clearing_interval) AND NOT lower_inf(clearing_interval)
                                                AND NOT upper_inf(clearing_interval))
);
COMMENT ON TABLE deg.market_clearings IS 'each clearing of a market contract: interval, clearing price, quantity, and the AggregationResult with its explanation';
SELECT pg_catalog.pg_extension_config_dump('deg.market_clearings', '');

CREATE TABLE deg.market_setpoints (
    contract_id       text NOT NULL,
    clearing_interval tstzrange NOT NULL,
    participant       deg.era NOT NULL,
    cleared_kw        numeric NOT NULL,
    PRIMARY KEY (contract_id, clearing_interval, participant),
    FOREIGN KEY (contract_id, clearing_interval) REFERENCES deg.market_clearings ON DELETE CASCADE
);
COMMENT ON TABLE deg.market_setpoints IS 'each PROSUMER''s cleared power (kW; positive exports) per clearing: the MARKET_CLEARING_AGENT''s clearedPower[PROSUMER.era] for that interval';
SELECT pg_catalog.pg_extension_config_dump('deg.market_setpoints', '');
-- clearings removed or replaced are recorded, so that settlement recomputes their contracts
-- (deg.telemetry_removals, sql/deg/060_billing.sql)
CREATE TRIGGER market_clearings_removed AFTER DELETE ON deg.market_clearings
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER market_clearings_replaced AFTER UPDATE ON deg.market_clearings
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER market_clearings_truncated AFTER TRUNCATE ON deg.market_clearings
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER market_setpoints_removed AFTER DELETE ON deg.market_setpoints
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER market_setpoints_replaced AFTER UPDATE ON deg.market_setpoints
    REFERENCING OLD TABLE AS old FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();
CREATE TRIGGER market_setpoints_truncated AFTER TRUNCATE ON deg.market_setpoints
    FOR EACH STATEMENT EXECUTE FUNCTION deg.telemetry_removals_log();

/*
 * A PROSUMER's offer curve bounded by the grid operator's caps for an
 * interval of h hours: it exports at most (seller_trade_cap -
 * current_seller_trade_total) / h kW and imports at most (buyer_trade_cap -
 * current_buyer_trades_total) / h kW.  Caps are numbers or objects keyed by
 * the participant's ERA; absent caps bound nothing.
 */
CREATE FUNCTION deg.capped_curve(curve jsonb, grid_operator jsonb, participant deg.era, hours numeric)
RETURNS deg.offer_curve
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    export_room numeric := (deg.input_number(grid_operator, 'seller_trade_cap', participant)
                            - coalesce(deg.input_number(grid_operator, 'current_seller_trade_total', participant), 0)) / hours;
    import_room numeric := (deg.input_number(grid_operator, 'buyer_trade_cap', participant)
                            - coalesce(deg.input_number(grid_operator, 'current_buyer_trades_total', participant), 0)) / hours;
    lo numeric := (curve->>'minExport')::numeric;
    hi numeric := (curve->>'maxExport')::numeric;
BEGIN
    IF export_room IS NOT NULL THEN
        hi := least(hi, greatest(trunc(export_room, 9), 0));
    END IF;
    IF import_room IS NOT NULL THEN
        lo := greatest(lo, -greatest(trunc(import_room, 9), 0));
    END IF;
    -- a cap can leave no room at all: then the participant trades nothing
    IF lo > hi THEN
        lo := least(greatest(0, (curve->>'minExport')::numeric), hi);
        hi := lo;
    END IF;
    RETURN jsonb_set(jsonb_set(curve, '{minExport}', to_jsonb(lo)), '{maxExport}', to_jsonb(hi))::deg.offer_curve;
END $$;
COMMENT ON FUNCTION deg.capped_curve(jsonb, jsonb, deg.era, numeric) IS 'an offer curve bounded by the grid operator''s remaining trade caps over an interval of the given hours';

CREATE FUNCTION deg.clear_contract(contract_id text, clearing_interval tstzrange) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    k deg.contracts;
    hours numeric;
    go jsonb;
    curves deg.offer_curve[];
    eras deg.era[];
    result jsonb;
BEGIN
    IF clearing_interval IS NULL OR isempty(clearing_interval) OR lower_inf(clearing_interval) OR upper_inf(clearing_interval) THEN
        RAISE EXCEPTION 'a clearing interval must be a non-empty bounded range, not %', clearing_interval USING ERRCODE = '22023';
    END IF;
    SELECT * INTO k FROM deg.contracts c WHERE c.contract_id = clear_contract.contract_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'contract % does not exist', contract_id USING ERRCODE = '42704';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM deg.contract_seats(k.body) s WHERE s.role = 'MARKET_CLEARING_AGENT') THEN
        RAISE EXCEPTION 'contract % is not a market contract: it has no MARKET_CLEARING_AGENT', contract_id
            USING ERRCODE = '22023';
    END IF;
    IF k.status <> 'ACTIVE' THEN
        RAISE EXCEPTION 'contract % is %, not ACTIVE', contract_id, k.status USING ERRCODE = '55000';
    END IF;
    IF EXISTS (SELECT 1 FROM deg.ledger l WHERE l.contract_id = k.contract_id AND l.period && clearing_interval) THEN
        RAISE NOTICE 'contract % was settled over % already: the next run will adjust it', contract_id, clearing_interval;
    END IF;
    hours := extract(epoch FROM upper(clearing_interval) - lower(clearing_interval)) / 3600;
    SELECT s.inputs INTO go FROM deg.contract_seats(k.body) s WHERE s.role = 'GRID_OPERATOR';
    SELECT array_agg(deg.capped_curve(deg.input_value(s.inputs->'offerCurve'), coalesce(go, '{}'), s.participant, hours)
                     ORDER BY s.participant),
           array_agg(s.participant ORDER BY s.participant)
      INTO curves, eras
      FROM deg.contract_seats(k.body) s
     WHERE s.role = 'PROSUMER' AND s.inputs ? 'offerCurve';
    IF eras IS NULL THEN
        RAISE EXCEPTION 'contract % has no PROSUMER with an offer curve to clear', contract_id USING ERRCODE = '22023';
    END IF;

    result := deg.clear_market_result(curves, eras);
    DELETE FROM deg.market_clearings m WHERE m.contract_id = k.contract_id AND m.clearing_interval = clear_contract.clearing_interval;
    INSERT INTO deg.market_clearings (contract_id, clearing_interval, clearing_price, cleared_quantity_kw, currency, result)
    VALUES (k.contract_id, clearing_interval, (result->>'clearingPrice')::numeric, (result->>'clearingQuantityKW')::numeric,
            result->>'currency', result);
    INSERT INTO deg.market_setpoints (contract_id, clearing_interval, participant, cleared_kw)
    SELECT k.contract_id, clearing_interval, m.participant, m.cleared_kw FROM deg.clear_market(curves, eras) m;
    RETURN result || jsonb_build_object('contractId', k.contract_id,
                                        'interval', jsonb_build_object('start', lower(clearing_interval), 'end', upper(clearing_interval)));
END $$;
COMMENT ON FUNCTION deg.clear_contract(text, tstzrange) IS 'clear a market contract''s PROSUMER offer curves (bounded by the grid operator''s caps) for an interval; the price and cleared powers become the clearing agent''s role inputs for that interval; returns the AggregationResult';

REVOKE EXECUTE ON FUNCTION deg.clear_contract(text, tstzrange) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deg.clear_contract(text, tstzrange) TO deg_operator;
GRANT SELECT ON deg.market_clearings, deg.market_setpoints TO deg_reader;
