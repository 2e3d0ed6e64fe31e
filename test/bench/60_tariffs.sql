-- Benchmark (issue 7): pricing charge data records with OCPI tariffs.
--   100,000 generated CDRs, varied and deterministic (no random()): 1 to 5
--   charging periods of 7 to 95 minutes each, 0.5 to 40 kWh per period, a
--   parking period after a quarter of them, sessions spread over a whole
--   year (so across both DST changes) at any minute of the day.  One
--   time-of-use tariff: a start fee, a cheap night (00:00-07:00), a weekday
--   evening peak (17:00-21:00) with a TIME price, a day price, parking, step
--   sizes on every dimension (100 Wh, 60 s, 300 s), 21 % VAT, a max_price;
--   priced in Europe/Amsterdam local time with deg.tariff_cost.
--   deg:      sum of total_cost.excl_vat over deg.tariff_cost(t, cdr, 'Europe/Amsterdam')
--   baseline: plain SQL over the same jsonb rows doing the simplest comparable
--             jsonb work: unnest every period's dimensions, sum ENERGY volume x
--             a flat price per CDR (no restrictions, no local time, no steps).
--   Both run on one core (max_parallel_workers_per_gather = 0); rounds
--   alternate deg and baseline, each figure is the median of 3.  The deg
--   statement with parallel workers is timed besides, for information.
-- Goal (issue 7): print CDRs per second.  The ratio is for information.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SET jit = off;
\set n 100000

-- wall time of each of `reps` runs of a statement that returns one value
CREATE FUNCTION pg_temp.timed(q text, reps int DEFAULT 1)
RETURNS TABLE (round int, ms float8, result numeric)
LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    FOR r IN 1..reps LOOP
        round := r;
        t0 := clock_timestamp();
        EXECUTE q INTO result;
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
        RETURN NEXT;
    END LOOP;
END $$;

-- true, or stop the benchmark (psql runs with ON_ERROR_STOP) with the failure
CREATE FUNCTION pg_temp.check(ok boolean, failure text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'tariffs benchmark: %', failure;
    END IF;
    RETURN true;
END $$;

-- an OCPI timestamp
CREATE FUNCTION pg_temp.ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

CREATE TEMP TABLE figures (what text, round int, ms float8, result numeric);

DROP TABLE IF EXISTS bench_tariff;
CREATE TABLE bench_tariff AS
SELECT '{"country_code": "NL", "party_id": "DEG", "id": "bench-tou", "currency": "EUR",
         "max_price": {"excl_vat": 60.00, "incl_vat": 72.60},
         "elements": [
           {"price_components": [{"type": "FLAT", "price": 0.50, "vat": 21, "step_size": 1}]},
           {"price_components": [{"type": "ENERGY", "price": 0.22, "vat": 21, "step_size": 100},
                                 {"type": "PARKING_TIME", "price": 1.00, "vat": 21, "step_size": 300}],
            "restrictions": {"start_time": "00:00", "end_time": "07:00"}},
           {"price_components": [{"type": "ENERGY", "price": 0.45, "vat": 21, "step_size": 100},
                                 {"type": "TIME", "price": 1.20, "vat": 21, "step_size": 60},
                                 {"type": "PARKING_TIME", "price": 4.00, "vat": 21, "step_size": 300}],
            "restrictions": {"start_time": "17:00", "end_time": "21:00",
                             "day_of_week": ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"]}},
           {"price_components": [{"type": "ENERGY", "price": 0.35, "vat": 21, "step_size": 100},
                                 {"type": "PARKING_TIME", "price": 2.50, "vat": 21, "step_size": 300}]}
         ],
         "last_updated": "2024-01-01T00:00:00Z"}'::deg.tariff AS t,
       0.35::numeric AS flat_price_per_kwh;

-- 100,000 CDRs.  Row i: start at minute (i * 7919) mod (366 days) of 2024,
-- k = 1 + i mod 5 charging periods, period j lasting 7 + (i * 31 + j * 17) mod 89
-- minutes with 0.5 + ((i * 13 + j * 7) mod 396) / 10 kWh, and for i mod 4 = 0 a
-- parking period of 5 + i mod 120 minutes at the end.
DROP TABLE IF EXISTS bench_cdrs;
CREATE TABLE bench_cdrs AS
WITH periods AS (
    SELECT i, j,
           '2024-01-01 00:00Z'::timestamptz + make_interval(mins => ((i::bigint * 7919) % (366 * 1440))::int)
             + make_interval(mins => coalesce(sum(7 + (i * 31 + j * 17) % 89) OVER w, 0)::int) AS start,
           7 + (i * 31 + j * 17) % 89 AS minutes,
           round(0.5 + ((i * 13 + j * 7) % 396) / 10.0, 1) AS kwh
      FROM generate_series(1, :n) i, generate_series(1, 5) j
     WHERE j <= 1 + i % 5
    WINDOW w AS (PARTITION BY i ORDER BY j ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), charging AS (
    SELECT i, min(start) AS session_start, max(start + make_interval(mins => minutes)) AS charge_end,
           jsonb_agg(jsonb_build_object('start_date_time', pg_temp.ts(start),
                     'dimensions', jsonb_build_array(jsonb_build_object('type', 'ENERGY', 'volume', kwh),
                                                     jsonb_build_object('type', 'TIME', 'volume', round(minutes / 60.0, 4))))
                     ORDER BY j) AS periods
      FROM periods GROUP BY i
)
SELECT i AS cdr_id,
       jsonb_build_object(
           'id', 'CDR-' || i, 'currency', 'EUR',
           'start_date_time', pg_temp.ts(session_start),
           'end_date_time', pg_temp.ts(charge_end + CASE WHEN i % 4 = 0 THEN make_interval(mins => 5 + i % 120) ELSE '0'::interval END),
           'charging_periods', periods || CASE WHEN i % 4 = 0 THEN jsonb_build_array(jsonb_build_object(
                'start_date_time', pg_temp.ts(charge_end),
                'dimensions', jsonb_build_array(jsonb_build_object('type', 'PARKING_TIME', 'volume', round((5 + i % 120) / 60.0, 4)))))
                ELSE '[]'::jsonb END) AS cdr
  FROM charging;
VACUUM ANALYZE bench_cdrs;
VACUUM ANALYZE bench_tariff;

SELECT count(*) AS cdrs,
       sum(jsonb_array_length(cdr -> 'charging_periods')) AS periods,
       min(jsonb_array_length(cdr -> 'charging_periods')) AS min_periods,
       max(jsonb_array_length(cdr -> 'charging_periods')) AS max_periods,
       min(cdr ->> 'start_date_time') AS first_start, max(cdr ->> 'end_date_time') AS last_end,
       pg_size_pretty(pg_table_size('bench_cdrs')) AS table_size
  FROM bench_cdrs;
-- one CDR, and what it costs
SELECT jsonb_pretty(cdr) AS example_cdr FROM bench_cdrs WHERE cdr_id = 8;
SELECT jsonb_pretty(deg.tariff_cost(t, cdr, 'Europe/Amsterdam')) AS example_totals FROM bench_cdrs, bench_tariff WHERE cdr_id = 8;

SET max_parallel_workers_per_gather = 0;
\set q_deg 'SELECT sum((deg.tariff_cost((SELECT t FROM bench_tariff), d.cdr, ''Europe/Amsterdam'') -> ''total_cost'' ->> ''excl_vat'')::numeric) FROM bench_cdrs d'
\set q_base 'SELECT sum((SELECT flat_price_per_kwh FROM bench_tariff) * e.kwh) FROM bench_cdrs d CROSS JOIN LATERAL (SELECT sum((dim ->> ''volume'')::numeric) AS kwh FROM jsonb_array_elements(d.cdr -> ''charging_periods'') p, jsonb_array_elements(p -> ''dimensions'') dim WHERE dim ->> ''type'' = ''ENERGY'') e'
EXPLAIN (COSTS OFF) :q_deg;
EXPLAIN (COSTS OFF) :q_base;

-- warm the cache, then alternate rounds
INSERT INTO figures SELECT 'deg', round + 100, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'baseline', round + 100, ms, result FROM pg_temp.timed(:'q_base', 1);
INSERT INTO figures SELECT 'deg', 1, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'baseline', 1, ms, result FROM pg_temp.timed(:'q_base', 1);
INSERT INTO figures SELECT 'deg', 2, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'baseline', 2, ms, result FROM pg_temp.timed(:'q_base', 1);
INSERT INTO figures SELECT 'deg', 3, ms, result FROM pg_temp.timed(:'q_deg', 1);
INSERT INTO figures SELECT 'baseline', 3, ms, result FROM pg_temp.timed(:'q_base', 1);
DELETE FROM figures WHERE round > 100;

-- for information: the parts of the deg statement, and parallel workers
INSERT INTO figures SELECT 'part: scan + jsonb detoast only', round, ms, result FROM pg_temp.timed(
    'SELECT sum(pg_column_size(d.cdr)) FROM bench_cdrs d', 3);
INSERT INTO figures SELECT 'part: scan + CDR as text (jsonb out)', round, ms, result FROM pg_temp.timed(
    'SELECT sum(length(d.cdr::text)) FROM bench_cdrs d', 3);
RESET max_parallel_workers_per_gather;
SET max_parallel_workers_per_gather = 4;
SET parallel_setup_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) :q_deg;
INSERT INTO figures SELECT 'deg, parallel workers', round, ms, result FROM pg_temp.timed(:'q_deg', 3);
RESET parallel_setup_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;

SELECT what AS figure, round, round(ms::numeric, 1) AS ms, result
  FROM figures ORDER BY what, round;

-- all deg runs agree, serial and parallel
SELECT count(DISTINCT result) AS distinct_sums, min(result) AS total_excl_vat,
       pg_temp.check(count(DISTINCT result) = 1, 'the deg sums differ: ' || string_agg(DISTINCT what || ' = ' || result, ', '))
           AS deg_sums_identical
  FROM figures WHERE what IN ('deg', 'deg, parallel workers');

CREATE TEMP TABLE medians AS
SELECT what, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM figures GROUP BY what;
SELECT what, round(ms::numeric, 1) AS median_ms,
       to_char(:n / ms * 1000, 'FM999,999,990') AS cdrs_per_second,
       round((ms / (SELECT ms FROM medians WHERE what = 'baseline'))::numeric, 2) AS x_baseline
  FROM medians ORDER BY ms;

INSERT INTO bench_results (benchmark, deg_figure, baseline_figure, ratio, goal, met)
SELECT 'tariffs: 100,000 CDRs priced with tariff_cost (Europe/Amsterdam, 1 core)',
       to_char(:n / d.ms * 1000, 'FM999,999,990') || ' CDRs/s',
       to_char(:n / b.ms * 1000, 'FM999,999,990') || ' CDRs/s (SQL: energy x price)',
       round((d.ms / b.ms)::numeric, 2) || 'x', 'print CDRs/s', true
  FROM medians d, medians b WHERE d.what = 'deg' AND b.what = 'baseline';
RESET max_parallel_workers_per_gather;
RESET jit;

SELECT benchmark, deg_figure, baseline_figure, ratio, goal, met FROM bench_results WHERE benchmark LIKE 'tariffs:%' ORDER BY id;

DROP TABLE bench_cdrs, bench_tariff;
