-- pgTAP: behaviour of deg.era
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

SELECT plan(29);

-- the type and its functions are declared truthfully
SELECT has_type('deg', 'era', 'type deg.era exists');
SELECT is(
    (SELECT count(*)::int FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'deg' AND p.proname LIKE 'era%'
        AND p.proname NOT IN ('era_containment_sel')
        AND NOT (p.provolatile = 'i' AND p.proisstrict AND p.proparallel = 's')),
    0, 'every era function is IMMUTABLE, STRICT and PARALLEL SAFE');
SELECT is(
    (SELECT count(*)::int FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
      WHERE c.opcintype = 'deg.era'::regtype AND c.opcdefault AND a.amname IN ('btree', 'hash')),
    2, 'default btree and hash operator classes');

-- errors
SELECT throws_ok($$SELECT 'bpp..cpo.example.com'::deg.era$$, '22P02',
    'invalid energy resource address "bpp..cpo.example.com"', 'malformed domain: 22P02 with the input named');
SELECT throws_ok($$SELECT deg.era(repeat('é', 2000))$$, '22P02', NULL, 'a huge non-ASCII input is refused cleanly');
SELECT throws_ok($$SELECT deg.era('{"a":1}'::jsonb)$$, '22023', NULL, 'a JSON object is not an address');
SELECT throws_ok($$SELECT deg.era(E'\x01\x02')$$, '22P02', NULL, 'control characters are refused');

-- NULL handling
SELECT is(deg.era_parent(NULL), NULL, 'era_parent(NULL) is NULL');
SELECT is(deg.era_parent('example.com'), NULL, 'a top-level address has no parent');
SELECT is(NULL::deg.era <@ 'example.com', NULL, '<@ with NULL is NULL');
SELECT is(deg.era_global('battery'), NULL, 'a bare local name has no global address');
SELECT is(deg.era(NULL::text), NULL, 'era(NULL) is NULL');

-- hierarchy invariants over many generated addresses
CREATE TEMP TABLE sample AS
SELECT deg.era(CASE i % 6
        WHEN 0 THEN format('h%s.r%s.example%s.com', i, i % 97, i % 13)
        WHEN 1 THEN format('u%s@r%s.example%s.com', i, i % 97, i % 13)
        WHEN 2 THEN format('did:web:example%s.com:u%s', i % 13, i)
        WHEN 3 THEN format('IN*E%s*L%s*%s', lpad((i % 50)::text, 2, '0'), i % 40, i)
        WHEN 4 THEN format('h%s.r%s.example%s.com/dev-%s', i % 500, i % 97, i % 13, i)
        ELSE format('u%s@r%s.example%s.com/ev/bms-%s', i % 300, i % 97, i % 13, i) END) AS e
FROM generate_series(1, 20000) i;
SELECT is((SELECT count(*)::int FROM sample
            WHERE deg.era_parent(e) IS NOT NULL
              AND NOT (e <@ deg.era_parent(e) AND deg.era_depth(deg.era_parent(e)) = deg.era_depth(e) - 1)),
          0, 'every parent contains its child and is one level up');
SELECT is((SELECT count(*)::int FROM sample WHERE NOT e <@ deg.era_root(e)), 0, 'every address lies inside its root');
SELECT is((SELECT count(*)::int FROM sample WHERE e::text::deg.era <> e), 0, 'text round trip is exact');
SELECT is((SELECT count(*)::int FROM sample WHERE e::jsonb::deg.era <> e), 0, 'jsonb round trip is exact');
SELECT is((SELECT count(*)::int FROM sample a, LATERAL (SELECT deg.era_parent(a.e) p) x
            WHERE x.p IS NOT NULL AND NOT (x.p < a.e)), 0, 'a parent sorts before its children');

-- one million addresses: namespace queries are index range scans
CREATE TEMP TABLE million (e deg.era);
INSERT INTO million
SELECT deg.era(CASE i % 5
        WHEN 0 THEN format('h%s.r%s.example%s.com', i, i % 997, i % 100)
        WHEN 1 THEN format('u%s@example%s.com', i, i % 100)
        WHEN 2 THEN format('did:deg:res-%s', i)
        WHEN 3 THEN format('IN*E%s*L%s*%s', lpad((i % 100)::text, 2, '0'), i % 40, i)
        ELSE format('h%s.r%s.example%s.com/meter-%s', i % 1000, i % 997, i % 100, i) END)
FROM generate_series(1, 1000000) i;
INSERT INTO million SELECT format('n%s.example.com', i)::deg.era FROM generate_series(1, 2000) i;
CREATE INDEX million_e ON million (e);
ANALYZE million;

CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE r text; plan text := '';
BEGIN
    FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP plan := plan || r || E'\n'; END LOOP;
    RETURN plan;
END $$;
SELECT matches(pg_temp.plan_of($$SELECT count(*) FROM million WHERE e <@ 'example.com'$$),
    'Index Cond: \(\(e >= ''example.com''::era\) AND \(e < ''example.com/\*''::era\)\)',
    'WHERE e <@ ''example.com'' over a million rows uses the index as a range');
SELECT matches(pg_temp.plan_of($$SELECT * FROM million WHERE e <@ 'n42.example.com'$$),
    'Index Only Scan using million_e(.|\n)*Index Cond: \(\(e >= ''n42.example.com''::era\) AND \(e < ''n42.example.com/\*''::era\)\)',
    'a small namespace is an index-only range scan');
SELECT matches(pg_temp.plan_of($$SELECT * FROM million WHERE e @> 'h7.r7.example7.com/meter-7'$$),
    'Index Cond: \(e = ANY', '@> (ancestors) becomes = ANY on the index');
SELECT matches(pg_temp.plan_of($$SELECT * FROM million WHERE 'IN*E07*L7' @> e$$),
    'Index', 'a namespace on the left of @> uses the index too');
SELECT is((SELECT count(*)::int FROM million WHERE e <@ 'example.com'), 2000, 'example.com holds its 2000 sub-domains');

-- the index and a sequential scan give the same rows, for many namespaces (property)
CREATE TEMP TABLE namespaces AS
SELECT DISTINCT deg.era_parent(e) AS ns FROM (SELECT e FROM million TABLESAMPLE SYSTEM (1) REPEATABLE (42)) s
 WHERE deg.era_parent(e) IS NOT NULL LIMIT 300;
CREATE TEMP TABLE via_index AS SELECT n.ns, count(m.e) AS c FROM namespaces n
    LEFT JOIN LATERAL (SELECT e FROM million WHERE e <@ n.ns) m ON true GROUP BY n.ns;
SET LOCAL enable_indexscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_indexonlyscan = off;
CREATE TEMP TABLE via_seq AS SELECT n.ns, count(m.e) AS c FROM namespaces n
    LEFT JOIN LATERAL (SELECT e FROM million WHERE e <@ n.ns) m ON true GROUP BY n.ns;
RESET enable_indexscan; RESET enable_bitmapscan; RESET enable_indexonlyscan;
SELECT cmp_ok((SELECT count(*)::int FROM namespaces), '>=', 100, 'at least 100 namespaces sampled');
SELECT is((SELECT count(*)::int FROM via_index i JOIN via_seq s USING (ns) WHERE i.c = s.c),
          (SELECT count(*)::int FROM namespaces), 'index and sequential scan agree on every namespace');
SELECT matches(pg_temp.plan_of($$SELECT n.ns, m.e FROM namespaces n JOIN million m ON m.e <@ n.ns$$),
    'million_e', 'a join on <@ can use the index with the outer value as a parameter');

-- sort order: ORDER BY agrees with the btree index and keeps namespaces together
SELECT is((SELECT count(*)::int FROM (
              SELECT e, lag(e) OVER (ORDER BY e) AS prev FROM million) s WHERE prev > e), 0,
          'ORDER BY e is non-decreasing under the comparison operators');
SELECT is((SELECT count(*)::int FROM (
              SELECT e <@ 'example5.com' AS inside,
                     lag(e <@ 'example5.com') OVER (ORDER BY e) AS prev_inside FROM million) s
            WHERE prev_inside IS NOT NULL AND inside <> prev_inside), 2,
          'in sorted order, the example5.com namespace is one contiguous run');

-- hashing: a hash index and hash joins find the same rows
CREATE INDEX million_h ON million USING hash (e);
SELECT matches(pg_temp.plan_of($$SELECT * FROM million WHERE e = 'did:deg:res-7'$$), 'million', 'equality lookup uses an index');
SELECT is((SELECT count(*)::int FROM million a JOIN (SELECT e FROM million LIMIT 5000) b ON a.e = b.e), 5000,
          'a hash or merge join matches every row once');

SELECT * FROM finish();
ROLLBACK;
