-- Fixed-price P2P trading (SPEC.md section 7, DESIGN.md section 7): the grid
-- operator's trade caps, checked when a role is claimed, and settlement on
-- metered actuals: a seller meter's exported energy is allocated to its
-- trades first come, first served, each up to its contracted quantity.

-- a role input's value: DEG writes both {"type": ..., "value": v} and v
CREATE FUNCTION deg.input_value(v jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT CASE WHEN jsonb_typeof(v) = 'object' AND v ? 'value' AND v ? 'type' THEN v->'value' ELSE v END
$$;
COMMENT ON FUNCTION deg.input_value(jsonb) IS 'a role input''s value, whether written as {"type", "value"} or bare';

-- a number a role input gives, for everyone or (an object keyed by ERA) for one participant
CREATE FUNCTION deg.input_number(inputs jsonb, name text, participant deg.era DEFAULT NULL) RETURNS numeric
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT CASE jsonb_typeof(deg.input_value(inputs->name))
                WHEN 'number' THEN (deg.input_value(inputs->name) #>> '{}')::numeric
                WHEN 'object' THEN (deg.input_value(inputs->name) ->> participant::text)::numeric
           END
$$;
COMMENT ON FUNCTION deg.input_number(jsonb, text, deg.era) IS 'the number a role input gives (for one participant when it is an object keyed by ERA)';

-- the roles of a contract as (role, participant, inputs), filled seats only
CREATE FUNCTION deg.contract_seats(c deg.contract)
RETURNS TABLE (role text, participant deg.era, inputs jsonb)
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, deg, pg_temp
AS $$
    SELECT r->>'role', (r->>'filledBy')::deg.era, coalesce(r->'roleInputs', '{}')
      FROM jsonb_array_elements(deg.contract_jsonb(c)->'roles') r
     WHERE (r->>'filled')::boolean AND r->>'filledBy' IS NOT NULL
$$;
COMMENT ON FUNCTION deg.contract_seats(deg.contract) IS 'the filled seats of a contract: role, participant ERA and role inputs';

/*
 * The most a fixed-price trade may carry: min(buyer cap - the buyer's
 * current trades, seller cap - the seller's current trades), from the
 * GRID_OPERATOR's role inputs (numbers, or objects keyed by the participant's
 * ERA).  Raises 23514 with the numbers when the BUYER's contractedQuantity is
 * more; does nothing without a filled GRID_OPERATOR or without caps.
 */
CREATE FUNCTION deg.p2p_trade_cap_check(c deg.contract) RETURNS void
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    seller deg.era;
    buyer deg.era;
    buyer_inputs jsonb;
    go jsonb;
    quantity numeric;
    buyer_room numeric;
    seller_room numeric;
BEGIN
    SELECT s.participant INTO seller FROM deg.contract_seats(c) s WHERE s.role = 'SELLER';
    SELECT s.participant, s.inputs INTO buyer, buyer_inputs FROM deg.contract_seats(c) s WHERE s.role = 'BUYER';
    SELECT s.inputs INTO go FROM deg.contract_seats(c) s WHERE s.role = 'GRID_OPERATOR';
    quantity := deg.input_number(buyer_inputs, 'contractedQuantity');
    IF seller IS NULL OR buyer IS NULL OR go IS NULL OR quantity IS NULL THEN
        RETURN;
    END IF;
    buyer_room := deg.input_number(go, 'buyer_trade_cap', buyer)
                  - coalesce(deg.input_number(go, 'current_buyer_trades_total', buyer), 0);
    seller_room := deg.input_number(go, 'seller_trade_cap', seller)
                   - coalesce(deg.input_number(go, 'current_seller_trade_total', seller), 0);
    IF quantity > least(buyer_room, seller_room) THEN
        RAISE EXCEPTION 'contracted quantity % kWh exceeds the grid operator''s trade limit of % kWh', quantity,
                        least(buyer_room, seller_room)
            USING ERRCODE = '23514',
                  DETAIL = format('limit = min(buyer cap %s - buyer''s current trades %s = %s, seller cap %s - seller''s current trades %s = %s)',
                                  coalesce(deg.input_number(go, 'buyer_trade_cap', buyer)::text, 'none'),
                                  coalesce(deg.input_number(go, 'current_buyer_trades_total', buyer), 0),
                                  coalesce(buyer_room::text, 'unlimited'),
                                  coalesce(deg.input_number(go, 'seller_trade_cap', seller)::text, 'none'),
                                  coalesce(deg.input_number(go, 'current_seller_trade_total', seller), 0),
                                  coalesce(seller_room::text, 'unlimited'));
    END IF;
END $$;
COMMENT ON FUNCTION deg.p2p_trade_cap_check(deg.contract) IS 'refuse (23514, with the numbers) a fixed-price trade whose contracted quantity exceeds min(buyer cap - current buyer trades, seller cap - current seller trades)';

-- the fixed-price trades: a SELLER with a source meter and a BUYER with a quantity and a window
CREATE VIEW deg.p2p_trades AS
SELECT c.contract_id, c.status, (s.inputs #>> '{sourceMeterId}')::deg.era AS seller_meter,
       s.participant AS seller, b.participant AS buyer,
       deg.input_number(b.inputs, 'contractedQuantity') AS contracted_kwh,
       tstzrange((deg.input_value(b.inputs->'tradeStartTime') #>> '{}')::timestamptz,
                 (deg.input_value(b.inputs->'tradeEndTime') #>> '{}')::timestamptz) AS trade_window,
       c.created_at
  FROM deg.contracts c
 CROSS JOIN LATERAL (SELECT * FROM deg.contract_seats(c.body) x WHERE x.role = 'SELLER') s
 CROSS JOIN LATERAL (SELECT * FROM deg.contract_seats(c.body) x WHERE x.role = 'BUYER') b
 WHERE c.status <> 'PENDING' AND s.inputs ? 'sourceMeterId'
   AND b.inputs ? 'contractedQuantity' AND b.inputs ? 'tradeStartTime' AND b.inputs ? 'tradeEndTime';
COMMENT ON VIEW deg.p2p_trades IS 'fixed-price P2P trades: seller meter, seller, buyer, contracted kWh and trade window';

/*
 * Allocate the energy each seller meter exported in the period to its trades
 * (DEG's first-come rule): reading by reading in time order, to the trades
 * whose window overlaps the reading, in trade-time order (window start, then
 * when the contract was made, then id), each up to what is left of its
 * contracted quantity.  Replaces the period's allocations, so that late
 * readings are allocated again; returns the rows written.
 */
CREATE FUNCTION deg.allocate_trades(period tstzrange, contract_ids text[] DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, deg, pg_temp
AS $$
DECLARE
    m deg.era;
    r record;
    t record;
    ids text[];
    left_kwh numeric[];
    windows tstzrange[];
    available numeric;
    share numeric;
    i integer;
    written integer := 0;
BEGIN
    IF period IS NULL OR isempty(period) OR lower_inf(period) OR upper_inf(period) THEN
        RAISE EXCEPTION 'an allocation period must be a non-empty bounded range, not %', period USING ERRCODE = '22023';
    END IF;
    FOR m IN SELECT DISTINCT p.seller_meter FROM deg.p2p_trades p
              WHERE p.trade_window && period AND (contract_ids IS NULL OR p.contract_id = ANY (contract_ids))
              ORDER BY 1
    LOOP
        -- the meter's trades, first come first served, with what is left of each before the period
        SELECT array_agg(p.contract_id ORDER BY lower(p.trade_window), p.created_at, p.contract_id),
               array_agg(greatest(p.contracted_kwh - coalesce(a.kwh, 0), 0)
                         ORDER BY lower(p.trade_window), p.created_at, p.contract_id),
               array_agg(p.trade_window ORDER BY lower(p.trade_window), p.created_at, p.contract_id)
          INTO ids, left_kwh, windows
          FROM deg.p2p_trades p
          LEFT JOIN LATERAL (SELECT sum(x.allocated_kwh) AS kwh FROM deg.trade_allocations x
                              WHERE x.contract_id = p.contract_id
                                AND lower(x.allocation_interval) < lower(period)) a ON true
         WHERE p.seller_meter = m AND p.trade_window && period;
        DELETE FROM deg.trade_allocations x
         WHERE x.contract_id = ANY (ids) AND lower(x.allocation_interval) >= lower(period)
           AND lower(x.allocation_interval) < upper(period);
        FOR r IN SELECT g.reading_interval, g.exported_kwh FROM deg.meter_readings g
                  WHERE g.meter = m AND lower(g.reading_interval) >= lower(period)
                    AND lower(g.reading_interval) < upper(period) AND g.exported_kwh > 0
                  ORDER BY lower(g.reading_interval)
        LOOP
            available := r.exported_kwh;
            FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
                EXIT WHEN available <= 0;
                CONTINUE WHEN NOT windows[i] && r.reading_interval OR left_kwh[i] <= 0;
                share := least(available, left_kwh[i]);
                INSERT INTO deg.trade_allocations (contract_id, meter, allocation_interval, allocated_kwh)
                VALUES (ids[i], m, r.reading_interval, share);
                written := written + 1;
                left_kwh[i] := left_kwh[i] - share;
                available := available - share;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN written;
END $$;
COMMENT ON FUNCTION deg.allocate_trades(tstzrange, text[]) IS 'allocate seller meters'' exported energy in a period to their fixed-price trades, first come first served, each up to its contracted quantity (deg.trade_allocations; billed as deliveredQuantity)';

REVOKE EXECUTE ON FUNCTION deg.allocate_trades(tstzrange, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION deg.allocate_trades(tstzrange, text[]) TO deg_operator;
GRANT SELECT ON deg.p2p_trades TO deg_reader;
