-- Benchmark (issue 2): 1,000,000 synthetic ERAs of mixed forms.
--   index build and point lookups on deg.era vs the same values as text;
--   a namespace query with <@ vs the text baseline
--   WHERE addr = 'example.com' OR addr LIKE '%.example.com'.
-- Goals: build and lookup within 1.5x of text; namespace at least 20x faster.
\set ON_ERROR_STOP on
SET search_path = public, deg;
SET client_min_messages = warning;
SET max_parallel_workers_per_gather = 2;

DROP TABLE IF EXISTS bench_era;
-- one row in 200 lies in the example.com namespace (sub-domains only, so that
-- the text baseline's LIKE finds exactly the same rows)
CREATE TABLE bench_era AS
SELECT e, e::text AS t FROM (
    SELECT deg.era(CASE i % 200
        WHEN 0 THEN format('n%s.r%s.example.com', i, i % 50)
        ELSE CASE i % 5
            WHEN 0 THEN format('h%s.r%s.example%s.com', i, i % 997, i % 100)
            WHEN 1 THEN format('u%s@example%s.org', i, i % 100)
            WHEN 2 THEN format('did:deg:res-%s', i)
            WHEN 3 THEN format('IN*E%s*L%s*%s', lpad((i % 100)::text, 2, '0'), i % 40, i)
            ELSE format('h%s.r%s.example%s.net/meter-%s', i % 1000, i % 997, i % 100, i) END
        END) AS e
    FROM generate_series(1, 1000000) i
) s;
VACUUM ANALYZE bench_era;

CREATE TEMP TABLE figures (what text PRIMARY KEY, ms float8);

-- index build (median of 3; the last index stays for the lookups)
INSERT INTO figures SELECT 'build_era', bench_ms('CREATE INDEX bench_era_e ON bench_era (e)', 3, 'DROP INDEX IF EXISTS bench_era_e');
INSERT INTO figures SELECT 'build_text', bench_ms('CREATE INDEX bench_era_t ON bench_era (t COLLATE "C")', 3, 'DROP INDEX IF EXISTS bench_era_t');
VACUUM ANALYZE bench_era;

-- point lookups: 100,000 probes through nested-loop index scans
CREATE TEMP TABLE probes AS SELECT e, t FROM bench_era TABLESAMPLE BERNOULLI (10) REPEATABLE (7) LIMIT 100000;
ANALYZE probes;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_bitmapscan = off;
SET max_parallel_workers_per_gather = 0;
INSERT INTO figures SELECT 'lookup_era', bench_ms('SELECT count(*) FROM probes p JOIN bench_era b ON b.e = p.e', 5);
INSERT INTO figures SELECT 'lookup_text', bench_ms('SELECT count(*) FROM probes p JOIN bench_era b ON b.t = p.t COLLATE "C"', 5);
RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_bitmapscan;
SET max_parallel_workers_per_gather = 2;

-- namespace query
INSERT INTO figures SELECT 'ns_era', bench_ms($$SELECT count(*) FROM bench_era WHERE e <@ 'example.com'$$, 7);
INSERT INTO figures SELECT 'ns_text', bench_ms($$SELECT count(*) FROM bench_era WHERE t = 'example.com' OR t LIKE '%.example.com'$$, 7);

SELECT (SELECT count(*) FROM bench_era WHERE e <@ 'example.com') AS rows_era,
       (SELECT count(*) FROM bench_era WHERE t = 'example.com' OR t LIKE '%.example.com') AS rows_text,
       (SELECT count(*) FROM probes p JOIN bench_era b ON b.e = p.e) AS probes_found;

SELECT what AS figure, round(ms::numeric, 1) AS ms FROM figures ORDER BY what;

WITH f AS (SELECT what, ms FROM figures),
     r AS (
        SELECT 'era: btree index build, 1M rows' AS benchmark,
               (SELECT ms FROM f WHERE what = 'build_era') AS d, (SELECT ms FROM f WHERE what = 'build_text') AS b,
               'ms' AS unit, 'deg/text <= 1.5' AS goal, 1.5 AS limit_ratio, false AS higher_is_better
        UNION ALL
        SELECT 'era: 100k point lookups',
               (SELECT ms FROM f WHERE what = 'lookup_era'), (SELECT ms FROM f WHERE what = 'lookup_text'),
               'ms', 'deg/text <= 1.5', 1.5, false
        UNION ALL
        SELECT 'era: namespace query <@',
               (SELECT ms FROM f WHERE what = 'ns_era'), (SELECT ms FROM f WHERE what = 'ns_text'),
               'ms', 'text/deg >= 20', 20, true)
INSERT INTO bench_results (benchmark, deg_figure, baseline_figure, ratio, goal, met)
SELECT benchmark, round(d::numeric, 1) || ' ' || unit, round(b::numeric, 1) || ' ' || unit,
       CASE WHEN higher_is_better THEN round((b / d)::numeric, 1) || 'x faster'
            ELSE round((d / b)::numeric, 2) || 'x' END,
       goal,
       CASE WHEN higher_is_better THEN b / d >= limit_ratio ELSE d / b <= limit_ratio END
  FROM r;

SELECT benchmark, deg_figure, baseline_figure, ratio, goal, met FROM bench_results WHERE benchmark LIKE 'era:%';
DROP TABLE bench_era;
