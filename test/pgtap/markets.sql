-- pgTAP: markets — pay-as-clear clearing through SQL on 3,300 random markets
-- (the properties of DESIGN.md section 7), the aggregate in parallel plans,
-- and the error cases with their SQLSTATEs.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

SELECT plan(37);

-- ---------- random markets ----------

/*
 * A random offer curve: a seller (from 0 up), a buyer (from below 0 up to at
 * most 0), a prosumer (from below 0 to above), one flat point, or a step of one
 * nano-unit of price.  Prices mostly on a 0.01 grid (so that curves share
 * breakpoints and flat totals can be zero over a range), some anywhere to 9
 * places; powers whole or to 3 places; a third of the curves clipped inside
 * their range.
 */
CREATE FUNCTION pg_temp.random_curve() RETURNS offer_curve LANGUAGE plpgsql AS $$
DECLARE
    kind int := floor(random() * 5);
    k int := CASE kind WHEN 3 THEN 1 WHEN 4 THEN 2 ELSE 2 + floor(random() * 4)::int END;
    price numeric := 0.01 * (1 + floor(random() * 10))::int;
    power numeric;
    pts text[] := '{}';
    first_power numeric;
    lo numeric;
    hi numeric;
BEGIN
    power := CASE kind WHEN 0 THEN 0
                       WHEN 1 THEN -(1 + floor(random() * 50))::int
                       WHEN 2 THEN -(1 + floor(random() * 20))::int
                       WHEN 3 THEN round((random() * 20 - 10)::numeric, 3)
                       ELSE CASE WHEN random() < 0.5 THEN 0 ELSE -(1 + floor(random() * 30))::int END END;
    first_power := power;
    FOR j IN 1..k LOOP
        pts := pts || format('{"price": %s, "powerKW": %s}', price, power);
        price := price + CASE WHEN kind = 4 THEN 0.000000001
                              WHEN random() < 0.3 THEN 0.000000001 + round((random() * 0.02)::numeric, 9)
                              ELSE 0.01 * (1 + floor(random() * 3))::int END;
        power := power + CASE WHEN random() < 0.2 THEN 0
                              WHEN kind = 4 THEN (1 + floor(random() * 60))::int
                              ELSE round((random() * 20)::numeric, CASE WHEN random() < 0.5 THEN 0 ELSE 3 END) END;
        IF kind = 1 AND power > 0 THEN
            power := 0;
        END IF;
    END LOOP;
    -- the last point's power is the one before the last increment
    lo := first_power - floor(random() * 3)::int;
    hi := (pts[k]::jsonb ->> 'powerKW')::numeric + floor(random() * 3)::int;
    IF random() < 0.33 THEN
        IF random() < 0.5 THEN
            hi := round((first_power + (pts[k]::jsonb ->> 'powerKW')::numeric) / 2, 3);
        ELSE
            lo := round((first_power + (pts[k]::jsonb ->> 'powerKW')::numeric) / 2, 3);
        END IF;
    END IF;
    RETURN format('{"currency": "INR", "minExport": %s, "maxExport": %s, "curve": [%s]}',
                  lo, hi, array_to_string(pts, ', '))::offer_curve;
END $$;

SELECT setseed(0.20241004);
-- 3,000 markets of 1 to 12 participants; one participant in twenty repeats the
-- previous one's curve (ties in the pro-rata shares, broken by ERA)
CREATE TABLE public.deg_pgtap_market_bids AS
SELECT m AS market, i AS idx, ('p' || i || '.m' || m || '.example.com')::era AS participant,
       pg_temp.random_curve() AS curve
  FROM generate_series(1, 3000) m, LATERAL generate_series(1, 1 + (m * 7919) % 12) i;
UPDATE public.deg_pgtap_market_bids b SET curve = p.curve
  FROM public.deg_pgtap_market_bids p
 WHERE p.market = b.market AND p.idx = b.idx - 1 AND (b.market * 31 + b.idx) % 20 = 0;
-- and 300 markets of two sellers at full output meeting one buyer's flat
-- demand: the total is zero over a range of prices (a midpoint) in most
INSERT INTO public.deg_pgtap_market_bids
SELECT m, i, ('p' || i || '.m' || m || '.example.com')::era,
       format('{"currency": "INR", "minExport": %s, "maxExport": %s, "curve": [%s]}', lo, hi, pts)::offer_curve
  FROM generate_series(3001, 3300) m,
       LATERAL (VALUES (1 + m % 7, 2 + m % 5)) ab(a, b),
       LATERAL (VALUES
           (1, 0, ab.a, format('{"price": 0.02, "powerKW": 0}, {"price": %s, "powerKW": %s}', 0.03 + (m % 3) * 0.01, ab.a)),
           (2, 0, ab.b, format('{"price": 0.01, "powerKW": 0}, {"price": 0.04, "powerKW": %s}', ab.b)),
           (3, -(ab.a + ab.b), 0, format('{"price": %s, "powerKW": %s}, {"price": %s, "powerKW": 0}',
                                         0.05 + (m % 4) * 0.01, -(ab.a + ab.b), 0.09 + (m % 3) * 0.01))) v(i, lo, hi, pts);
ANALYZE public.deg_pgtap_market_bids;

-- each market as two arrays, in input order and shuffled
CREATE TEMP TABLE markets AS
SELECT market, count(*) AS n,
       array_agg(curve ORDER BY idx) AS curves, array_agg(participant ORDER BY idx) AS eras,
       array_agg(curve ORDER BY md5(market || '/' || idx)) AS shuffled_curves,
       array_agg(participant ORDER BY md5(market || '/' || idx)) AS shuffled_eras
  FROM public.deg_pgtap_market_bids GROUP BY market;

-- clear_market's rows, with each participant's curve and its value at the price
CREATE TEMP TABLE cleared AS
SELECT m.market, r.ord AS idx, r.participant, r.cleared_kw, r.clearing_price, b.curve,
       curve_power(b.curve, r.clearing_price) AS value_kw
  FROM markets m
       CROSS JOIN LATERAL clear_market(m.curves, m.eras) WITH ORDINALITY AS r(participant, cleared_kw, clearing_price, ord)
       LEFT JOIN public.deg_pgtap_market_bids b ON b.market = m.market AND b.idx = r.ord;

CREATE TEMP TABLE results AS
SELECT market, clear_market_result(curves, eras) AS result FROM markets;

CREATE INDEX ON cleared (market);
ANALYZE cleared;

-- per market: the long side at the price (before rationing) and the result
CREATE TEMP TABLE summary AS
SELECT c.market, count(*) AS nrows, min(c.clearing_price) AS price, count(DISTINCT c.clearing_price) AS nprices,
       sum(c.cleared_kw) AS net_kw,
       coalesce(sum(c.value_kw) FILTER (WHERE c.value_kw > 0), 0) AS supply_kw,
       coalesce(-sum(c.value_kw) FILTER (WHERE c.value_kw < 0), 0) AS demand_kw,
       r.result
  FROM cleared c JOIN results r USING (market)
 GROUP BY c.market, r.result;

SELECT is((SELECT count(*) FROM cleared), (SELECT count(*) FROM public.deg_pgtap_market_bids),
          'clear_market returns one row per participant of 3,300 random markets');
SELECT is((SELECT count(*) FROM cleared c JOIN public.deg_pgtap_market_bids b USING (market, idx)
            WHERE c.participant IS DISTINCT FROM b.participant), 0::bigint,
          'rows come in input order');
SELECT is((SELECT count(*) FROM summary WHERE nprices <> 1), 0::bigint, 'one clearing price per market');
SELECT is((SELECT count(*) FROM summary WHERE net_kw <> 0), 0::bigint,
          'cleared powers sum to exactly zero in every market');
SELECT is((SELECT count(*) FROM cleared c JOIN summary s USING (market)
            WHERE c.cleared_kw <> c.value_kw
              AND NOT ((s.supply_kw > s.demand_kw AND c.value_kw > 0) OR (s.demand_kw > s.supply_kw AND c.value_kw < 0))),
          0::bigint,
          'every cleared power is the curve''s power at the price, except on the long side');
SELECT is((SELECT count(*) FROM cleared
            WHERE cleared_kw::text !~ '^-?[0-9]+(\.[0-9]*[1-9])?$' OR scale(cleared_kw) > 9
               OR (cleared_kw = value_kw AND cleared_kw::text <> value_kw::text)),
          0::bigint, 'cleared powers are written with at most 9 decimals and no trailing zeros, as curve_power writes them');
SELECT is((SELECT count(*) FROM cleared
            WHERE cleared_kw <> value_kw
              AND NOT (sign(cleared_kw) IN (0, sign(value_kw)) AND abs(cleared_kw) < abs(value_kw))),
          0::bigint,
          'a rationed power keeps its sign and is smaller than the curve''s');
SELECT is((SELECT count(*) FROM cleared c JOIN summary s USING (market)
            WHERE (s.supply_kw > s.demand_kw AND c.value_kw > 0
                   AND abs(c.cleared_kw - c.value_kw * s.demand_kw / s.supply_kw) >= 0.000000001)
               OR (s.demand_kw > s.supply_kw AND c.value_kw < 0
                   AND abs(c.cleared_kw - c.value_kw * s.supply_kw / s.demand_kw) >= 0.000000001)),
          0::bigint,
          'the long side is rationed pro rata (within one nano-kW: largest remainders)');
SELECT is((SELECT count(*) FROM summary
            WHERE (result ->> 'clearingQuantityKW')::numeric <> least(supply_kw, demand_kw)),
          0::bigint, 'the quantity is the short side''s total');

-- the rule that chose the price holds

-- (a + b) / 2 rounded half to even to 12 places
CREATE FUNCTION pg_temp.midpoint(a numeric, b numeric) RETURNS numeric LANGUAGE sql AS $$
    SELECT CASE WHEN s % 2 = 0 THEN s / 2 WHEN ((s - 1) / 2) % 2 = 0 THEN (s - 1) / 2 ELSE (s + 1) / 2 END / 1e12
      FROM (SELECT ((a + b) * 1e12)::bigint AS s) x
$$;
CREATE TEMP TABLE rules AS
SELECT s.market, s.result -> 'explanation' ->> 'rule' AS rule, s.price, s.nrows,
       (s.result -> 'explanation' -> 'priceRange' ->> 'low')::numeric AS low,
       (s.result -> 'explanation' -> 'priceRange' ->> 'high')::numeric AS high,
       (s.result -> 'explanation' -> 'zeroRange' ->> 'low')::numeric AS zero_low,
       (s.result -> 'explanation' -> 'zeroRange' ->> 'high')::numeric AS zero_high
  FROM summary s;
-- the totals of the curves' values just below, at and just above the price,
-- at the ends of a zero range, and the lowest and highest price of any point
CREATE TEMP TABLE totals AS
SELECT r.market,
       sum(curve_power(c.curve, r.price - 0.000000000001)) AS below,
       sum(c.value_kw) AS at,
       sum(curve_power(c.curve, r.price + 0.000000000001)) AS above,
       sum(curve_power(c.curve, r.zero_low)) AS at_zero_low,
       sum(curve_power(c.curve, r.zero_high)) AS at_zero_high,
       min((c.curve::jsonb -> 'curve' -> 0 ->> 'price')::numeric) AS first_price,
       max((c.curve::jsonb -> 'curve' -> -1 ->> 'price')::numeric) AS last_price
  FROM rules r JOIN cleared c USING (market)
 GROUP BY r.market;
SELECT is((SELECT count(*) FROM rules JOIN totals USING (market) WHERE low <> first_price OR high <> last_price OR price < low OR price > high),
          0::bigint, 'the price lies between the lowest and the highest price of any point');
SELECT is((SELECT count(*) FROM rules JOIN totals USING (market) WHERE rule = 'lower_bound' AND NOT (price = low AND at > 0)), 0::bigint,
          'lower_bound: a surplus at the lowest price, which is the price');
SELECT is((SELECT count(*) FROM rules JOIN totals USING (market) WHERE rule = 'upper_bound' AND NOT (price = high AND at < 0)), 0::bigint,
          'upper_bound: a shortage at the highest price, which is the price');
-- each participant's value is rounded to 9 places, so a total is exact to n/2 nano-kW
SELECT is((SELECT count(*) FROM rules JOIN totals USING (market)
            WHERE rule = 'crossing'
              AND NOT (below <= nrows * 0.0000000005 AND above >= -nrows * 0.0000000005)),
          0::bigint, 'crossing: the total is at most zero just below the price and at least zero just above');
SELECT is((SELECT count(*) FROM rules JOIN totals USING (market)
            WHERE rule = 'midpoint'
              AND NOT (zero_low < zero_high AND price = pg_temp.midpoint(zero_low, zero_high)
                       AND abs(at_zero_low) <= nrows * 0.0000000005 AND abs(at_zero_high) <= nrows * 0.0000000005)),
          0::bigint, 'midpoint: the total is zero at both ends of the range, the price is its middle');
SELECT is((SELECT count(*) FROM rules WHERE rule NOT IN ('crossing', 'midpoint', 'lower_bound', 'upper_bound')),
          0::bigint, 'every market is cleared by one of the four rules');
SELECT diag('markets by rule: ' || string_agg(rule || ' ' || k, ', ' ORDER BY rule))
  FROM (SELECT rule, count(*) AS k FROM rules GROUP BY rule) s;
SELECT cmp_ok((SELECT min(k) FROM (SELECT count(*) AS k FROM rules GROUP BY rule) s), '>=', 50::bigint,
              'the random markets exercise each rule at least 50 times');
SELECT is((SELECT count(DISTINCT rule) FROM rules), 4::bigint, 'all four rules occur');
SELECT cmp_ok((SELECT count(*) FROM summary WHERE supply_kw <> demand_kw AND (result -> 'explanation' ->> 'rule') IN ('crossing', 'midpoint')),
              '>', 0::bigint, 'some markets ration a side at a crossing or midpoint (steps and rounding), not only at bounds');

-- clear_market_result agrees with clear_market
SELECT is((SELECT count(*) FROM summary WHERE (result ->> 'clearingPrice')::numeric <> price), 0::bigint,
          'clear_market_result has clear_market''s price');
SELECT is((SELECT count(*) FROM summary s
            WHERE (SELECT array_agg(x ORDER BY x) FROM (SELECT e ->> 'era' || ' ' || (e ->> 'setpointKW')::numeric AS x
                     FROM jsonb_array_elements(s.result -> 'setpoints') e) y)
                  IS DISTINCT FROM
                  (SELECT array_agg(x ORDER BY x) FROM (SELECT c.participant::text || ' ' || c.cleared_kw AS x
                     FROM cleared c WHERE c.market = s.market) y)),
          0::bigint, 'clear_market_result has clear_market''s setpoints');
SELECT is((SELECT count(*) FROM summary s
            WHERE (SELECT array_agg(e ->> 'era' ORDER BY ord) FROM jsonb_array_elements(s.result -> 'setpoints') WITH ORDINALITY x(e, ord))
                  IS DISTINCT FROM
                  (SELECT array_agg(c.participant::text ORDER BY c.participant, c.cleared_kw) FROM cleared c WHERE c.market = s.market)),
          0::bigint, 'setpoints are ordered by participant');

-- permuting the input changes nothing
SELECT is((SELECT count(*) FROM markets m
            WHERE (SELECT array_agg(r ORDER BY r.participant, r.cleared_kw) FROM clear_market(m.curves, m.eras) r)
                  IS DISTINCT FROM
                  (SELECT array_agg(r ORDER BY r.participant, r.cleared_kw) FROM clear_market(m.shuffled_curves, m.shuffled_eras) r)),
          0::bigint, 'a shuffled market clears every participant at the same power and price');
SELECT is((SELECT count(*) FROM markets m JOIN summary s USING (market)
            WHERE clear_market_result(m.shuffled_curves, m.shuffled_eras) <> s.result),
          0::bigint, 'a shuffled market gives the very same AggregationResult');
SELECT cmp_ok((SELECT count(*) FROM markets WHERE n > 1 AND eras <> shuffled_eras), '>', 2000::bigint,
              'and the shuffles do change the order');

-- the aggregate: serial and parallel, the same jsonb as clear_market_result
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT is((SELECT count(*) FROM (SELECT market, clear_market_agg(curve, participant) AS a
                                   FROM public.deg_pgtap_market_bids GROUP BY market) g
                                JOIN summary s USING (market)
            WHERE g.a <> s.result),
          0::bigint, 'clear_market_agg over each market''s rows equals clear_market_result');
CREATE TABLE public.deg_pgtap_one_market AS
SELECT ('q' || i || '-' || idx || '.m' || market || '.big.example.com')::era AS participant, curve
  FROM public.deg_pgtap_market_bids, generate_series(1, 4) i;
ANALYZE public.deg_pgtap_one_market;
\set agg_query 'SELECT md5(clear_market_agg(curve, participant)::text) FROM public.deg_pgtap_one_market'
SELECT (:agg_query) AS serial_result \gset
SET LOCAL max_parallel_workers_per_gather = 4;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
CREATE FUNCTION pg_temp.workers_launched(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, FORMAT JSON) ' || q INTO plan;
    RETURN coalesce((SELECT sum((n ->> 'Workers Launched')::int)::int
                       FROM jsonb_path_query(plan::jsonb, 'strict $.**') n
                      WHERE jsonb_typeof(n) = 'object' AND n ? 'Workers Launched'), 0);
END $$;
SELECT cmp_ok(pg_temp.workers_launched(:'agg_query'), '>', 0, 'the aggregate runs on parallel workers (partial states serialized and combined)');
SELECT is((:agg_query), :'serial_result', 'one market of every bid four times over (about 80,000 participants) clears in parallel to the serial result');
SELECT is((SELECT md5(clear_market_result(array_agg(curve), array_agg(participant))::text) FROM public.deg_pgtap_one_market),
          :'serial_result', 'and to clear_market_result''s');
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;

-- ---------- errors ----------

SELECT throws_ok($$SELECT '{"currency": "INR", "minExport": 0'::offer_curve$$, '22P02', NULL, 'text that is not JSON: 22P02');
SELECT throws_ok($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.06, "powerKW": 0}, {"price": 0.05, "powerKW": 2}]}'::offer_curve$$,
                 '22023', 'invalid offer curve: curve point 2: price 0.05 is not above the previous 0.06 (prices must strictly increase)',
                 'a curve whose prices do not increase: 22023 naming the point and field');
SELECT throws_ok($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 2}, {"price": 0.06, "powerKW": 1}]}'::jsonb::offer_curve$$,
                 '22023', 'invalid offer curve: curve point 2: powerKW 1 is below the previous 2 (power must not decrease as price rises)',
                 'a curve whose power decreases, through the jsonb cast: 22023');
SELECT throws_ok($$SELECT * FROM clear_market((SELECT curves FROM markets WHERE market = 2), (SELECT eras[1:1] FROM markets WHERE market = 2))$$,
                 '22023', NULL, 'arrays of different lengths: 22023');
SELECT throws_ok($$SELECT * FROM clear_market(ARRAY[NULL::offer_curve], ARRAY['a.example.com'::era])$$,
                 '22004', 'curves[1] is null', 'a NULL curve: 22004 naming the element');
SELECT throws_ok($$SELECT clear_market_agg(curve, participant) FROM (VALUES (NULL::offer_curve, 'a.example.com'::era)) v(curve, participant)$$,
                 '22004', 'offer curve of participant a.example.com is null', 'a NULL curve in the aggregate: 22004 naming the participant');
SELECT throws_ok($$SELECT * FROM clear_market(ARRAY['{"currency": "INR", "minExport": 0, "maxExport": 1, "curve": [{"price": 1, "powerKW": 1}]}'::offer_curve,
                                                     '{"currency": "EUR", "minExport": -1, "maxExport": 0, "curve": [{"price": 1, "powerKW": -1}]}'],
                                               ARRAY['a.example.com', 'b.example.com']::era[])$$,
                 '22023', 'curves[2] is in EUR and curves[1] in INR', 'two currencies in one market: 22023');
SELECT throws_ok($$SELECT * FROM clear_market('{}', '{}')$$, '22023', 'no participants to clear', 'an empty market: 22023');

-- every market function is labelled IMMUTABLE and PARALLEL SAFE (STRICT except
-- the aggregate's transition, combine and final functions, which see NULLs)
SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = 'deg' AND p.prokind = 'f'
              AND (p.proname LIKE 'offer_curve%' OR p.proname LIKE 'curve_%' OR p.proname LIKE 'clear_market%')
              AND NOT (p.provolatile = 'i' AND p.proparallel = 's'
                       AND (p.proisstrict OR p.proname IN ('clear_market_agg_transfn', 'clear_market_agg_combine', 'clear_market_agg_final')))),
          0::bigint, 'market functions are IMMUTABLE and PARALLEL SAFE, and STRICT where NULL in means NULL out');

SELECT * FROM finish();
ROLLBACK;
