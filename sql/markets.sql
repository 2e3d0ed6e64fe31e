-- deg.offer_curve, deg.curve_power, and pay-as-clear clearing: deg.clear_market,
-- deg.clear_market_result and the deg.clear_market_agg aggregate
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- SQLSTATE, message and detail of a statement's error (or 'no error')
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    detail text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
    RETURN SQLSTATE || ': ' || SQLERRM || CASE WHEN detail <> '' THEN E'\n       ' || detail ELSE '' END;
END $$;

-- an offer curve from bounds and 'price:power' pairs, in INR
CREATE FUNCTION pg_temp.c(lo numeric, hi numeric, points text) RETURNS offer_curve
LANGUAGE sql AS $$
    SELECT format('{"currency": "INR", "minExport": %s, "maxExport": %s, "curve": [%s]}', lo, hi,
                  string_agg(format('{"price": %s, "powerKW": %s}', split_part(pt, ':', 1), split_part(pt, ':', 2)), ', ' ORDER BY n))::offer_curve
      FROM unnest(string_to_array(points, ' ')) WITH ORDINALITY AS u(pt, n)
$$;

-- ---------- input and output ----------

-- DEG's example curves (SPEC.md section 8): a consumer and a solar prosumer.
-- The text form is canonical: members in OfferCurve's order, numbers without
-- trailing zeros, the currency upper-cased
SELECT '{"currency": "INR", "minExport": -50, "maxExport": 5,
         "curve": [{"price": 0.06, "powerKW": -50}, {"price": 0.07, "powerKW": 0}]}'::offer_curve AS consumer;
SELECT '{"curve": [{"powerKW": 0.000, "price": 0.0500}, {"price": 0.06, "powerKW": 2.0}, {"price": 7E-2, "powerKW": 5}],
         "maxExport": 5, "minExport": 0, "currency": "inr"}'::offer_curve AS solar;

-- the text form, jsonb and binary (send/recv) read back to the same curve
CREATE TEMP TABLE curves (name text PRIMARY KEY, c offer_curve);
INSERT INTO curves VALUES
    ('consumer', '{"currency": "INR", "minExport": -50, "maxExport": 5, "curve": [{"price": 0.06, "powerKW": -50}, {"price": 0.07, "powerKW": 0}]}'),
    ('solar', '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}, {"price": 0.06, "powerKW": 2}, {"price": 0.07, "powerKW": 5}]}'),
    ('one point', '{"currency": "EUR", "minExport": -1, "maxExport": 1, "curve": [{"price": 0, "powerKW": 0.5}]}'),
    ('extremes', '{"currency": "USD", "minExport": -999999999.999999999, "maxExport": 999999999.999999999,
                   "curve": [{"price": 0, "powerKW": -999999999.999999999}, {"price": 0.000000001, "powerKW": -0.000000001},
                             {"price": 999999.999999999, "powerKW": 999999999.999999999}]}');
SELECT name, c::text::offer_curve = c AS text_round_trip, c::jsonb::offer_curve = c AS jsonb_round_trip,
       curve_currency(c) AS currency
  FROM curves ORDER BY name;
SELECT name, c::jsonb FROM curves ORDER BY name;

-- the binary form: version 1, flags, currency, point count, minExport,
-- maxExport, then price and power per point, little-endian 64-bit integers
-- of 10^-9
SELECT encode(offer_curve_send(c), 'hex') AS binary_form FROM curves WHERE name = 'one point';

-- binary input: COPY in binary format calls offer_curve_recv on each value;
-- a bytea column's COPY file carries the same bytes, so tampered bytes can be
-- fed to it.  Good bytes read back, bad ones are refused (22P03).
CREATE TEMP TABLE wire (name text, bytes bytea);
INSERT INTO wire SELECT name, offer_curve_send(c) FROM curves;
INSERT INTO wire SELECT 'version 2', set_byte(offer_curve_send(c), 0, 2) FROM curves WHERE name = 'solar';
INSERT INTO wire SELECT 'reserved byte', set_byte(offer_curve_send(c), 6, 1) FROM curves WHERE name = 'solar';
INSERT INTO wire SELECT 'lower-case currency', set_byte(offer_curve_send(c), 2, 105) FROM curves WHERE name = 'solar';
INSERT INTO wire SELECT 'truncated', substring(offer_curve_send(c) FROM 1 FOR 40) FROM curves WHERE name = 'solar';
INSERT INTO wire SELECT 'prices out of order', overlay(offer_curve_send(c) PLACING '\x005a620200000000'::bytea FROM 49) FROM curves WHERE name = 'solar';
INSERT INTO wire SELECT 'power decreasing', overlay(offer_curve_send(c) PLACING '\x00ca9a3b00000000'::bytea FROM 73) FROM curves WHERE name = 'solar';
CREATE TEMP TABLE received (c offer_curve);
CREATE FUNCTION pg_temp.recv(wire_name text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    f text := '/tmp/deg_markets_' || pg_backend_pid() || '.bin';
    result text;
BEGIN
    EXECUTE format('COPY (SELECT bytes FROM wire WHERE name = %L) TO %L (FORMAT binary)', wire_name, f);
    TRUNCATE received;
    BEGIN
        EXECUTE format('COPY received FROM %L (FORMAT binary)', f);
        SELECT c::text INTO result FROM received;
    EXCEPTION WHEN OTHERS THEN
        result := SQLSTATE || ': ' || SQLERRM;
    END;
    EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', 'rm -f ' || f);
    RETURN result;
END $$;
SELECT name, received, received = c::text AS round_trip
  FROM (SELECT w.name, pg_temp.recv(w.name) AS received, c.c FROM wire w LEFT JOIN curves c USING (name)) s
 ORDER BY name;

-- ---------- validation: each error names the point and the field ----------

-- not JSON: 22P02
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0,'::offer_curve$$);
SELECT pg_temp.err($$SELECT 'solar'::offer_curve$$);
-- JSON, but not a valid offer curve: 22023
SELECT pg_temp.err($$SELECT '[1, 2]'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}], "unit": "kW"}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "RUPEE", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": 356, "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": "0", "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 1000000000, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 5, "maxExport": 0, "curve": [{"price": 0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": {"price": 0.05, "powerKW": 0}}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": []}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}, [0.06, 2]]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}, {"price": 0.06, "power": 2}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}, {"price": 0.06}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}, {"price": null, "powerKW": 2}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": -0.05, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 1000000, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.0500000001, "powerKW": 0}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": -1e9}]}'::offer_curve$$);
-- the rules between points: prices strictly increase, power never decreases
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.04, "powerKW": 0}, {"price": 0.06, "powerKW": 1}, {"price": 0.05, "powerKW": 2}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 0}, {"price": 0.05, "powerKW": 2}]}'::offer_curve$$);
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.05, "powerKW": 2}, {"price": 0.06, "powerKW": 1.5}]}'::offer_curve$$);
-- the jsonb cast checks the same way
SELECT pg_temp.err($$SELECT '{"currency": "INR", "minExport": 0, "maxExport": 5, "curve": [{"price": 0.06, "powerKW": 0}, {"price": 0.05, "powerKW": 2}]}'::jsonb::offer_curve$$);

-- ---------- comparison ----------

-- equality and the btree order: currency, minExport, maxExport, then points
SELECT a.name, b.name, a.c = b.c AS eq, a.c < b.c AS lt, offer_curve_cmp(a.c, b.c) AS cmp
  FROM curves a, curves b WHERE a.name < b.name ORDER BY 1, 2;
SELECT name FROM curves ORDER BY c;
-- the same curve written differently is the same value, for = and for hashing
SELECT count(DISTINCT c) AS distinct_curves,
       count(DISTINCT offer_curve_hash(c)) AS distinct_hashes
  FROM (VALUES ('{"currency": "inr", "minExport": 0.0, "maxExport": 5, "curve": [{"price": 0.050, "powerKW": 0}]}'::offer_curve),
               ('{"curve": [{"powerKW": 0e3, "price": 5e-2}], "maxExport": 5.000, "minExport": -0, "currency": "INR"}')) v(c);

-- ---------- the power at a price ----------

-- DEG's solar curve: (0.05, 0) (0.06, 2) (0.07, 5), maxExport 5.  At the
-- points, between them (linear), and outside them (the end values)
SELECT p AS price, curve_power(c, p) AS power_kw
  FROM curves, unnest('{0, 0.01, 0.05, 0.055, 0.06, 0.065, 0.0675, 0.07, 0.5, 1000000000}'::numeric[]) p
 WHERE name = 'solar';
-- clipped to [minExport, maxExport]: (0, -10) (1, 10) within [-4, 6]
SELECT p AS price, curve_power(pg_temp.c(-4, 6, '0:-10 1:10'), p) AS power_kw
  FROM unnest('{0, 0.2, 0.3, 0.5, 0.8, 0.9, 1}'::numeric[]) p;
-- rounded once, half to even, to 9 decimals: (0, 0) (3, 1) gives price / 3
SELECT p AS price, curve_power(pg_temp.c(0, 1, '0:0 3:1'), p) AS power_kw
  FROM unnest('{1, 2, 0.0000000015, 0.0000000045, 0.0000000075, 0.000000001499999999999999}'::numeric[]) p;
-- a price with more than 12 decimals, a negative price (below every point)
SELECT curve_power(c, 0.05500000000000000001) AS just_above_0_055, curve_power(c, -3) AS negative_price
  FROM curves WHERE name = 'solar';
SELECT pg_temp.err($$SELECT curve_power(c, 'NaN') FROM curves WHERE name = 'solar'$$);

-- ---------- clearing: hand-computed markets ----------

-- A crossing inside a linear segment.  Seller (0.04, 0) (0.08, 8): 200 kW per
-- unit of price; buyer (0.02, -6) (0.10, 0): 75 kW per unit.  Between 0.04 and
-- 0.08 the total is 200 (p - 0.04) - 6 + 75 (p - 0.02) = 275 p - 15.5, zero at
-- p = 15.5 / 275 = 0.0563636363636..., 0.056363636364 to 12 places.  There the
-- seller gives 200 x 0.016363636364 = 3.2727272728 and the buyer takes
-- 6 - 75 x 0.036363636364 = 3.2727272727: both 3.272727273 to 9 places, so
-- nobody is rationed.
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 8, '0.04:0 0.08:8'), pg_temp.c(-6, 0, '0.02:-6 0.10:0')],
                           ARRAY['seller.example.com', 'buyer.example.com']::era[]);
SELECT jsonb_pretty(clear_market_result(ARRAY[pg_temp.c(0, 8, '0.04:0 0.08:8'), pg_temp.c(-6, 0, '0.02:-6 0.10:0')],
                                        ARRAY['seller.example.com', 'buyer.example.com']::era[]));

-- A flat zero segment: the seller gives its whole 10 kW from 0.05 on, the
-- buyer takes 10 kW up to 0.07; the total is zero on [0.05, 0.07], so the
-- price is its midpoint 0.06 and both clear in full.
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 10, '0.04:0 0.05:10'), pg_temp.c(-10, 0, '0.07:-10 0.09:0')],
                           ARRAY['seller.example.com', 'buyer.example.com']::era[]);
SELECT key, value FROM jsonb_each(clear_market_result(ARRAY[pg_temp.c(0, 10, '0.04:0 0.05:10'), pg_temp.c(-10, 0, '0.07:-10 0.09:0')],
                           ARRAY['seller.example.com', 'buyer.example.com']::era[]) -> 'explanation') ORDER BY key;

-- A vertical step needing pro rata.  The seller steps from 0 to 90 kW between
-- 0.05 and 0.050000001 (the steepest step a curve can state: one nano-unit of
-- price); two buyers take 20 and 10 kW at any price.  The total crosses zero a
-- third of the way up the step, at 0.0500000003333..., which rounds to
-- 0.050000000333; there the seller gives 90 x 0.333 = 29.97 kW, 0.03 kW short
-- of the 30 kW asked.  The buyers are the long side and are rationed pro rata:
-- 20 x 29.97 / 30 = 19.98 and 10 x 29.97 / 30 = 9.99.
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 90, '0.05:0 0.050000001:90'), pg_temp.c(-20, 0, '0.01:-20'), pg_temp.c(-10, 0, '0.02:-10')],
                           ARRAY['seller.example.com', 'buyer-a.example.com', 'buyer-b.example.com']::era[]);
SELECT key, value FROM jsonb_each(clear_market_result(ARRAY[pg_temp.c(0, 90, '0.05:0 0.050000001:90'), pg_temp.c(-20, 0, '0.01:-20'), pg_temp.c(-10, 0, '0.02:-10')],
                           ARRAY['seller.example.com', 'buyer-a.example.com', 'buyer-b.example.com']::era[]) -> 'explanation') ORDER BY key;

-- No crossing, lower bound: even at 0.04, the lowest price of any point, the
-- sellers offer 5 + 1 = 6 kW and the buyer takes 4.  The market clears at
-- 0.04 and the sellers are rationed pro rata to 4 kW: 5 x 4/6 = 3.333333333
-- and 1 x 4/6 = 0.666666667 (the last nano-kW to the largest remainder).
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 10, '0.05:5 0.06:10'), pg_temp.c(0, 3, '0.04:1 0.06:3'), pg_temp.c(-4, 0, '0.08:-4')],
                           ARRAY['s1.example.com', 's2.example.com', 'b.example.com']::era[]);
SELECT key, value FROM jsonb_each(clear_market_result(ARRAY[pg_temp.c(0, 10, '0.05:5 0.06:10'), pg_temp.c(0, 3, '0.04:1 0.06:3'), pg_temp.c(-4, 0, '0.08:-4')],
                           ARRAY['s1.example.com', 's2.example.com', 'b.example.com']::era[]) -> 'explanation') ORDER BY key;

-- No crossing, upper bound: even at 0.08, the highest price of any point, the
-- buyer takes 5 kW and the seller offers 2.  The buyer is rationed to 2 kW.
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 2, '0.05:0 0.06:2'), pg_temp.c(-10, 0, '0.05:-10 0.08:-5')],
                           ARRAY['s.example.com', 'b.example.com']::era[]);
SELECT key, value FROM jsonb_each(clear_market_result(ARRAY[pg_temp.c(0, 2, '0.05:0 0.06:2'), pg_temp.c(-10, 0, '0.05:-10 0.08:-5')],
                           ARRAY['s.example.com', 'b.example.com']::era[]) -> 'explanation') ORDER BY key;

-- One participant: DEG's solar curve alone is zero at 0.05 (a crossing at the
-- lowest price); a seller that offers power at every price is rationed to
-- nothing at its lowest price; a buyer alone, to nothing at its highest.
SELECT r.* FROM curves, clear_market(ARRAY[c], ARRAY['household-solar-001.prosumer@example.com'::era]) r WHERE name = 'solar';
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 5, '0.05:3 0.06:4')], ARRAY['did:deg:household-solar-001'::era]);
SELECT * FROM clear_market(ARRAY[pg_temp.c(-50, 5, '0.06:-50 0.07:-1')], ARRAY['IN*ECO*BTM*01*CCS2*A'::era]);
SELECT jsonb_pretty(clear_market_result(ARRAY[pg_temp.c(0, 5, '0.05:3 0.06:4')], ARRAY['did:deg:household-solar-001'::era]));

-- All buyers: the total is below zero everywhere; the price is the highest of
-- any point, 0.09, and nobody buys anything.
SELECT * FROM clear_market(ARRAY[pg_temp.c(-50, 0, '0.06:-50 0.07:-10'), pg_temp.c(-5, 0, '0.02:-5'), pg_temp.c(-8, 0, '0.03:-8 0.09:-2')],
                           ARRAY['b1.example.com', 'b2.example.com', 'b3.example.com']::era[]);
-- All sellers: the lowest price, 0.03, and nobody sells.
SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 9, '0.03:1 0.07:9'), pg_temp.c(0, 2, '0.05:2')],
                           ARRAY['s1.example.com', 's2.example.com']::era[]);

-- ---------- DEG's P2P market example (SPEC.md sections 8, 12, 14) ----------

-- The example clears its consumer and solar prosumer at 0.0625 with -50 kW
-- and +5 kW.  Neither follows from the curves (SPEC.md section 14, defects 1
-- and 2): at 0.0625 the consumer takes 50 - 5000 x 0.0025 = 37.5 kW and the
-- prosumer gives 2 + 300 x 0.0025 = 2.75 kW, a total of -34.75 kW, not zero;
-- and -50 + 5 is not zero either.  Between 0.06 and 0.07 the total is
-- -48 + 5300 (p - 0.06), zero at 0.06 + 48/5300 = 0.0690566037735...,
-- 0.069056603774 to 12 places.  There the consumer takes
-- 50 - 5000 x 0.009056603774 = 4.71698113 kW and the prosumer offers
-- 2 + 300 x 0.009056603774 = 4.716981132 kW (each rounded to 9 places); the
-- 0.000000002 kW of rounding left over are rationed on the sellers' side, so
-- that 4.71698113 kW change hands.
SELECT * FROM clear_market(
    ARRAY[(SELECT c FROM curves WHERE name = 'consumer'), (SELECT c FROM curves WHERE name = 'solar')],
    ARRAY['bap.energy-consumer.com', 'bap.solar-prosumer.com']::era[]);
SELECT curve_power(c, 0.0625) AS power_at_the_examples_price FROM curves WHERE name IN ('consumer', 'solar') ORDER BY name;
SELECT jsonb_pretty(clear_market_result(
    ARRAY[(SELECT c FROM curves WHERE name = 'consumer'), (SELECT c FROM curves WHERE name = 'solar')],
    ARRAY['bap.energy-consumer.com', 'bap.solar-prosumer.com']::era[]));

-- ---------- the aggregate ----------

CREATE TEMP TABLE bids (interval_start timestamptz, participant era, curve offer_curve);
INSERT INTO bids
SELECT timestamptz '2024-10-04 10:00+00', era 'bap.energy-consumer.com', c FROM curves WHERE name = 'consumer' UNION ALL
SELECT '2024-10-04 10:00+00', 'bap.solar-prosumer.com', c FROM curves WHERE name = 'solar' UNION ALL
SELECT '2024-10-04 10:15+00', 'bap.energy-consumer.com', pg_temp.c(-50, 0, '0.06:-50 0.07:0') UNION ALL
SELECT '2024-10-04 10:15+00', 'bap.solar-prosumer.com', pg_temp.c(0, 10, '0.04:0 0.05:10') UNION ALL
SELECT '2024-10-04 10:15+00', 'household-solar-001.prosumer@example.com', pg_temp.c(0, 3, '0.03:0 0.05:3');
-- one market per interval, as clear_market_result would clear it
SELECT to_char(interval_start AT TIME ZONE 'UTC', 'HH24:MI') AS utc, r -> 'clearingPrice' AS price, r -> 'clearingQuantityKW' AS quantity_kw,
       r -> 'explanation' ->> 'rule' AS rule, r -> 'setpoints' AS setpoints
  FROM (SELECT interval_start, clear_market_agg(curve, participant) AS r FROM bids GROUP BY interval_start) s
 ORDER BY interval_start;
-- the same jsonb as clear_market_result, whatever the order of the rows
SELECT bool_and(a = r) AS agg_equals_result, bool_and(a = a_reversed) AS order_independent
  FROM (SELECT interval_start,
               clear_market_agg(curve, participant) AS a,
               clear_market_agg(curve, participant ORDER BY participant DESC) AS a_reversed,
               clear_market_result(array_agg(curve), array_agg(participant)) AS r
          FROM bids GROUP BY interval_start) s;
-- no rows: NULL
SELECT clear_market_agg(curve, participant) IS NULL AS no_market FROM bids WHERE false;

-- ---------- determinism ----------

-- the same participants in another order: the same rows (in that order) and
-- the very same AggregationResult
WITH m AS (
    SELECT ARRAY[pg_temp.c(0, 90, '0.05:0 0.050000001:90'), pg_temp.c(-20, 0, '0.01:-20'), pg_temp.c(-10, 0, '0.02:-10'), pg_temp.c(-10, 0, '0.02:-10')] AS curves,
           ARRAY['seller.example.com', 'buyer-a.example.com', 'buyer-b.example.com', 'buyer-c.example.com']::era[] AS eras
)
SELECT (SELECT array_agg(r ORDER BY r.participant) FROM clear_market(curves, eras) r) =
       (SELECT array_agg(r ORDER BY r.participant) FROM clear_market(ARRAY[curves[4], curves[2], curves[3], curves[1]],
                                                                  ARRAY[eras[4], eras[2], eras[3], eras[1]]) r) AS same_rows,
       clear_market_result(curves, eras) = clear_market_result(ARRAY[curves[4], curves[2], curves[3], curves[1]],
                                                               ARRAY[eras[4], eras[2], eras[3], eras[1]]) AS same_result,
       (SELECT array_agg(cleared_kw) FROM clear_market(curves, eras)) AS cleared_kw
  FROM m;

-- ---------- bad markets ----------

SELECT pg_temp.err($$SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 1, '0.05:1')], ARRAY['a.example.com', 'b.example.com']::era[])$$);
SELECT pg_temp.err($$SELECT * FROM clear_market('{}', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 1, '0.05:1'), NULL], ARRAY['a.example.com', 'b.example.com']::era[])$$);
SELECT pg_temp.err($$SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 1, '0.05:1'), pg_temp.c(-1, 0, '0.05:-1')], ARRAY['a.example.com', NULL]::era[])$$);
SELECT pg_temp.err($$SELECT * FROM clear_market(ARRAY[pg_temp.c(0, 1, '0.05:1'), pg_temp.c(-1, 0, '0.05:-1'), '{"currency": "EUR", "minExport": -1, "maxExport": 0, "curve": [{"price": 0.05, "powerKW": -1}]}'],
                                                ARRAY['a.example.com', 'b.example.com', 'c.example.com']::era[])$$);
SELECT pg_temp.err($$SELECT clear_market_result(ARRAY[ARRAY[pg_temp.c(0, 1, '0.05:1')]], ARRAY[ARRAY['a.example.com']]::era[])$$);
-- subscripts are the array's own
SELECT pg_temp.err($$SELECT * FROM clear_market('[5:6]={NULL,NULL}'::offer_curve[], '[0:1]={a.example.com,b.example.com}'::era[])$$);
SELECT pg_temp.err($$SELECT clear_market_agg(curve, participant) FROM (VALUES (NULL::offer_curve, 'a.example.com'::era)) v(curve, participant)$$);
SELECT pg_temp.err($$SELECT clear_market_agg(curve, participant) FROM (VALUES (pg_temp.c(0, 1, '0.05:1'), NULL::era)) v(curve, participant)$$);
SELECT pg_temp.err($$SELECT clear_market_agg(curve, participant) FROM (VALUES (pg_temp.c(0, 1, '0.05:1'), 'a.example.com'::era),
    ('{"currency": "EUR", "minExport": -1, "maxExport": 0, "curve": [{"price": 0.05, "powerKW": -1}]}', 'b.example.com'),
    ('{"currency": "USD", "minExport": -1, "maxExport": 0, "curve": [{"price": 0.05, "powerKW": -1}]}', 'c.example.com')) v(curve, participant)$$);
-- NULL arrays: STRICT, no rows
SELECT count(*) AS rows_for_null FROM clear_market(NULL, ARRAY['a.example.com']::era[]);
