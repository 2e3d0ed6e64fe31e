-- deg.era: Energy Resource Addresses
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- valid inputs of every form, with their canonical text, kind, scope and depth
CREATE TEMP TABLE era_inputs (n serial, input text);
INSERT INTO era_inputs (input) VALUES
    -- domains (DNS host names, case-folded)
    ('bpp.cpo.example.com'),
    ('Household-Solar-001.Prosumer.Example.COM'),
    ('household-solar-battery-001.greenenergy.example.com'),
    ('community-solar-array.localenergy.coop'),
    ('example-company.com'),
    ('example-utility.com'),
    ('xn--bcher-kva.example'),
    ('a.b'),
    ('0.example.com'),
    ('x1.y2.z3.w4.v5.example.org'),
    -- handles
    ('household-solar-001.prosumer@example.com'),
    ('Driver.42+EV@Fleet.Example.com'),
    ('ev_user_7@ev.example.net'),
    ('a@b.c'),
    -- DIDs (method folded, id kept)
    ('did:deg:household-solar-001'),
    ('DID:DEG:Household-Solar-001'),
    ('did:deg:ecopower-charging'),
    ('did:web:example-utility.com'),
    ('did:web:example.com:users:Alice'),
    ('did:web:example.com%3A8443'),
    ('did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'),
    ('did:ethr:0x1:0xAbC'),
    -- EVSE ids (upper-cased)
    ('IN*ECO*BTM*01*CCS2*A'),
    ('in*eco*btm*01*ccs2*b'),
    ('IN*ECO*BTM*01'),
    ('IN*ECO'),
    ('DE*ABC*E123-4*1'),
    ('NL*TNM*EVB-P1234'),
    -- bare local names (case kept)
    ('battery-inverter-01'),
    ('panel-array-rooftop'),
    ('smart-meter-main'),
    ('PANEL-ROW-A-01'),
    ('ev-charger-ccs2-001'),
    ('ecopower-charging'),
    ('IN-ECO-BTM-01'),
    ('rack_1/slot.2'),
    -- local ERAs under a global one
    ('household-solar-001.prosumer@example.com/battery-inverter-01'),
    ('household-solar-001.prosumer@example.com/panel-array-rooftop'),
    ('household-solar-001.prosumer@example.com/smart-meter-main'),
    ('community-solar-array.localenergy.coop/PANEL-ROW-A-01'),
    ('Household.Example.COM/Battery.Inverter_01/Cell-7'),
    ('did:deg:ecopower-charging/evse-1'),
    ('in*eco*btm*01/meter-A');
SELECT n, input, input::era AS era, era_kind(input::era) AS kind,
       era_scope(input::era) AS scope, era_depth(input::era) AS depth
  FROM era_inputs ORDER BY n;

-- the canonical form is what equality compares
SELECT 'Household-Solar-001.Prosumer.Example.COM'::era = 'household-solar-001.prosumer.example.com' AS folded_domain,
       'IN*eco*Btm*01'::era = 'IN*ECO*BTM*01' AS folded_evse,
       'did:DEG:x'::era = 'did:deg:x' AS folded_did_method,
       'did:deg:X'::era = 'did:deg:x' AS did_id_keeps_case,
       'PANEL-ROW-A-01'::era = 'panel-row-a-01' AS local_keeps_case;

-- invalid inputs: one error each, naming the form and the position
CREATE FUNCTION pg_temp.try_era(t text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE msg text; detail text; state text;
BEGIN
    PERFORM t::deg.era;
    RETURN 'ok';
EXCEPTION WHEN others THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL, state = RETURNED_SQLSTATE;
    RETURN state || ': ' || detail;
END $$;
SELECT CASE WHEN length(input) > 40 THEN left(input, 24) || '...(' || length(input) || ' chars)' ELSE input END AS input,
       pg_temp.try_era(input) AS error FROM (VALUES
    (''),
    ('bpp..cpo.example.com'),
    ('.example.com'),
    ('example.com.'),
    ('exa_mple.com'),
    ('-bad.example.com'),
    ('bad-.example.com'),
    ('192.168.1.1'),
    ('café.example.com'),
    ('a b.com'),
    (E'tab\there.com'),
    ('user@'),
    ('@example.com'),
    ('a@b@example.com'),
    ('user@localhost'),
    ('.user@example.com'),
    ('us..er@example.com'),
    ('did:'),
    ('did:deg'),
    ('did:deg:'),
    ('did:web:a::b'),
    ('did:de-g:x'),
    ('did:web:a%4'),
    ('IN*'),
    ('I*ECO*1'),
    ('IN*EC*1'),
    ('IN*ECO**1'),
    ('*.example.com'),
    ('/x'),
    ('example.com/'),
    ('example.com//x'),
    ('example.com/..'),
    ('example.com/a@b'),
    ('!!!'),
    ('...'),
    ('@@@'),
    ('***'),
    ('"quoted"'),
    (repeat('a', 64) || '.com'),
    ('example.com/' || repeat('n', 64)),
    (repeat('abcdefghi.', 26) || 'com'),
    (repeat('x/', 600) || 'x')
) AS t(input);

-- the full error as a user sees it
\set VERBOSITY default
SELECT 'bpp..cpo.example.com'::era;
SELECT 'IN*EC*1'::era;
SELECT repeat('bad_', 100)::era;

-- order: a namespace is one contiguous range; a local ERA right after its global one
SELECT era FROM (VALUES
    ('b.example.com'), ('example.com/z'), ('user@example.com'), ('zzz.com'),
    ('example.com'), ('a.example.com'), ('example.com/a'), ('example-2.com'),
    ('z.a.example.com'), ('example.org'), ('did:web:example.com'), ('IN*ECO*BTM*01'),
    ('IN*ECO'), ('IN*ECO*BTM*01/meter'), ('IN*ECO*BTM*01*CCS2'), ('battery'),
    ('battery/cell'), ('did:deg:x'), ('user@example.com/ev'), ('example0.com')
) AS t(e), LATERAL (SELECT e::era AS era) x
ORDER BY era;

-- comparison operators agree with the order
SELECT 'example.com'::era < 'a.example.com' AS lt, 'a.example.com'::era <= 'a.example.com' AS le,
       'b.example.com'::era > 'a.example.com' AS gt, 'example.org'::era >= 'zzz.com' AS ge,
       'example.com'::era <> 'example.org' AS ne, era_cmp('a.b', 'a.b') AS cmp0,
       era_cmp('x.example.com', 'example.com') AS cmp1;

-- containment and hierarchy
SELECT a, b, a::era <@ b::era AS inside, b::era @> a::era AS contains FROM (VALUES
    ('a.b.example.com', 'example.com'),
    ('user@a.example.com', 'example.com'),
    ('a.example.com/x/y', 'example.com'),
    ('a.example.com/x/y', 'a.example.com/x'),
    ('a.example.com/xy', 'a.example.com/x'),
    ('myexample.com', 'example.com'),
    ('example.com', 'a.example.com'),
    ('example.com', 'example.com'),
    ('IN*ECO*BTM*01*CCS2*A', 'IN*ECO'),
    ('IN*ECO*BTM*01*CCS2*A', 'IN*ECO*BTM'),
    ('IN*ECO*BTMX', 'IN*ECO*BTM'),
    ('did:web:example.com:alice', 'did:web:example.com'),
    ('did:web:example.com', 'example.com'),
    ('battery/cell', 'battery'),
    ('household-solar-001.prosumer@example.com/battery-inverter-01', 'household-solar-001.prosumer@example.com')
) AS t(a, b);

SELECT e AS era, era_parent(e) AS parent, era_root(e) AS root, era_global(e) AS global,
       era_depth(e) AS depth
  FROM (VALUES ('user@a.example.com/ev/bms'::era), ('a.b.example.com'), ('example.com'),
               ('IN*ECO*BTM*01*CCS2*A'), ('IN*ECO'), ('did:web:example.com:u:v'),
               ('did:key:z6Mk/dev'), ('battery'), ('battery/cell')) AS t(e);

-- walk up the parent chain of a device
WITH RECURSIVE up(e, lvl) AS (
    SELECT 'household-solar-001.prosumer@example.com/battery-inverter-01/cell-3'::era, 0
    UNION ALL
    SELECT era_parent(e), lvl + 1 FROM up WHERE era_parent(e) IS NOT NULL
)
SELECT lvl, e, era_kind(e) FROM up;

-- NULL in, NULL out
SELECT era_parent(NULL) IS NULL AS p, era_depth(NULL) IS NULL AS d, (NULL::era <@ 'a.b') IS NULL AS c;

-- casts: text, jsonb
SELECT 'A.Example.COM'::text::era::text AS via_text,
       to_jsonb('IN*eco*x'::era) AS to_jsonb_fn,
       'did:deg:X'::era::jsonb AS to_jsonb,
       '"User@Example.com/ev"'::jsonb::era AS from_jsonb;
SELECT '42'::jsonb::era;

-- hashing agrees with equality
SELECT era_hash('Example.com') = era_hash('example.com') AS same_hash,
       era_hash_extended('example.com', 7) <> era_hash_extended('example.com', 8) AS seeded;
SELECT count(DISTINCT e) FROM (VALUES ('A.com'::era), ('a.COM'), ('a.com'), ('b.com')) t(e);

-- binary send/recv round trip through COPY BINARY
SELECT era_send('IN*ECO*BTM*01');
CREATE TEMP TABLE era_copy_out AS SELECT input::era AS e FROM era_inputs;
CREATE TEMP TABLE era_copy_in (e era);
DO $$
DECLARE f text := current_setting('data_directory') || '/deg_era_roundtrip.bin';
BEGIN
    EXECUTE format('COPY era_copy_out TO %L WITH (FORMAT binary)', f);
    EXECUTE format('COPY era_copy_in FROM %L WITH (FORMAT binary)', f);
END $$;
SELECT count(*) AS rows_back,
       count(*) FILTER (WHERE o.e IS NULL) AS mismatched
  FROM era_copy_in i LEFT JOIN era_copy_out o ON o.e = i.e AND o.e::text = i.e::text;

-- an index answers namespace queries as a range
CREATE TEMP TABLE era_idx (e era PRIMARY KEY);
INSERT INTO era_idx SELECT input::era FROM era_inputs ON CONFLICT DO NOTHING;
INSERT INTO era_idx SELECT format('h%s.r%s.example.com', i, i % 7)::era FROM generate_series(1, 200) i;
ANALYZE era_idx;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT * FROM era_idx WHERE e <@ 'example.com';
EXPLAIN (COSTS OFF) SELECT * FROM era_idx WHERE 'example.com' @> e;
EXPLAIN (COSTS OFF) SELECT * FROM era_idx WHERE e @> 'user@a.example.com/ev';
SELECT count(*) FROM era_idx WHERE e <@ 'example.com';
SELECT e FROM era_idx WHERE e <@ 'household-solar-001.prosumer@example.com' ORDER BY e;
SELECT e FROM era_idx WHERE e @> 'IN*ECO*BTM*01*CCS2*A/port' ORDER BY e;
RESET enable_seqscan;
RESET enable_bitmapscan;
