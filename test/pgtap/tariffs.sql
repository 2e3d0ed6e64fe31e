-- pgTAP: tariffs — the OCPI 2.2.1 scenarios of test/vectors/ocpi-tariffs priced
-- through deg.tariff_cost, the binary form through COPY, parallel workers.
-- Run from the repository root (the vectors are read with psql backquotes).
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- every scenario folder's tariff.json, and every cdr*.json with its folder's tariff
\set tariffs `sh -c 'printf "{"; first=1; for f in test/vectors/ocpi-tariffs/*/tariff.json; do [ $first = 1 ] || printf ","; first=0; printf "\"%s\": " "$(basename "$(dirname "$f")")"; cat "$f"; done; printf "}"'`
\set cdrs `sh -c 'printf "{"; first=1; for f in test/vectors/ocpi-tariffs/*/cdr*.json; do d=$(dirname "$f"); [ $first = 1 ] || printf ","; first=0; printf "\"%s/%s\": " "$(basename "$d")" "$(basename "$f")"; cat "$f"; done; printf "}"'`

CREATE TEMP TABLE scenario_tariff AS
SELECT key AS scenario, value AS doc FROM jsonb_each(:'tariffs'::jsonb);
CREATE TEMP TABLE scenario_cdr AS
SELECT key AS name, split_part(key, '/', 1) AS scenario, value AS cdr FROM jsonb_each(:'cdrs'::jsonb);

-- the money totals compared (OCPI's names: the parking one is total_parking_cost)
CREATE TEMP TABLE price_field (field text PRIMARY KEY);
INSERT INTO price_field VALUES ('total_cost'), ('total_fixed_cost'), ('total_energy_cost'),
    ('total_time_cost'), ('total_parking_cost'), ('total_reservation_cost');

/*
 * Where the calculator that produced the vectors departs from the OCPI 2.2.1
 * text, the text wins: these are the expected values used instead (the same
 * three changes as test/unit/test_tariff.c).  incl_vat NULL: incl. VAT must be
 * unknown (left out of the result).
 */
CREATE TEMP TABLE vector_change (name text, field text, excl_vat numeric, incl_vat numeric, reason text,
                                 PRIMARY KEY (name, field));
INSERT INTO vector_change VALUES
    -- min_price: the calculator did not apply it.  OCPI 2.2.1, the example of this
    -- very tariff: "if less than 2 kWh is charged, 0.50 euro (excl. VAT) or 0.55 euro
    -- (incl. VAT) will be billed".  The vector's 0.30 / 0.33 stays the energy cost.
    ('025kwh_min_price/cdr2_less_than_2kWh.json', 'total_cost', 0.50, 0.55,
     'min_price applies (OCPI 2.2.1 example of this tariff)'),
    -- step_size: OCPI's "switching to different Tariff Element" example (plug in 16:55,
    -- charge 10 min, park 2 min) in decimal hours.  The TIME total is rounded up with the
    -- step of the last element used (900 s): 0.0834 h x 1.20 + (0.25 h - 0.0834 h) x 2.40
    -- = 0.49992; parking 15 min = 0.25; total 0.74992.  The calculator left TIME unrounded
    -- (0.3002, total 0.5502).  No component has a vat, so incl. VAT is unknown
    -- ("Not providing a VAT is different from 0% VAT"), where the vector copied excl.
    ('step_size/cdr1.json', 'total_time_cost', 0.49992, NULL, 'TIME step_size of the last element; VAT unknown'),
    ('step_size/cdr1.json', 'total_parking_cost', 0.25, NULL, 'no vat given: incl. VAT unknown'),
    ('step_size/cdr1.json', 'total_cost', 0.74992, NULL, 'TIME step_size of the last element; VAT unknown'),
    -- step_size_energy: 30.00 excl. VAT as expected (12 kWh rounded up to 15 kWh by the
    -- last element's 5000 Wh step); no vat given, so incl. VAT is unknown rather than 30.
    ('step_size_energy/cdr1.json', 'total_energy_cost', 30, NULL, 'no vat given: incl. VAT unknown'),
    ('step_size_energy/cdr1.json', 'total_cost', 30, NULL, 'no vat given: incl. VAT unknown');

-- our totals, every digit (scale -1), in the scenarios' own zone (their times are UTC)
CREATE TEMP TABLE got AS
SELECT c.name, deg.tariff_cost(t.doc::deg.tariff, c.cdr, 'UTC', -1) AS totals
  FROM scenario_cdr c JOIN scenario_tariff t USING (scenario);

-- expected vs got per money total: a total the CDR leaves out is 0 (nothing of it was charged)
CREATE TEMP TABLE money AS
SELECT c.name, f.field, ch.reason,
       CASE WHEN ch.name IS NOT NULL THEN ch.excl_vat ELSE coalesce((c.cdr -> f.field ->> 'excl_vat')::numeric, 0) END AS want_excl,
       CASE WHEN ch.name IS NOT NULL THEN ch.incl_vat
            WHEN c.cdr ? f.field THEN (c.cdr -> f.field ->> 'incl_vat')::numeric ELSE 0 END AS want_incl,
       (g.totals -> f.field ->> 'excl_vat')::numeric AS got_excl,
       (g.totals -> f.field ->> 'incl_vat')::numeric AS got_incl
  FROM scenario_cdr c CROSS JOIN price_field f
  JOIN got g USING (name)
  LEFT JOIN vector_change ch ON ch.name = c.name AND ch.field = f.field;
-- quantities the CDR states
CREATE TEMP TABLE quantity AS
SELECT c.name, q.field, (c.cdr ->> q.field)::numeric AS want, (g.totals ->> q.field)::numeric AS got
  FROM scenario_cdr c JOIN got g USING (name),
       unnest(ARRAY['total_energy', 'total_time', 'total_parking_time']) q(field)
 WHERE c.cdr ? q.field;

SELECT plan(13 + (SELECT 2 * count(*)::int FROM money) + (SELECT count(*)::int FROM quantity));

-- all of them, so that a vector folder lost or added is noticed
SELECT is((SELECT count(*)::int FROM scenario_tariff), 24, 'the 24 scenario tariffs are read');
SELECT is((SELECT count(*)::int FROM scenario_cdr), 9, 'the 9 scenario CDRs are read');
SELECT is((SELECT count(*)::int FROM scenario_tariff WHERE doc::deg.tariff::jsonb = doc), 24,
          'every scenario tariff is accepted and prints back as it was written');
SELECT is((SELECT count(*)::int FROM vector_change ch JOIN money m USING (name, field)), 6,
          'every documented change of an expected value is used');
SELECT is((SELECT count(*)::int FROM got WHERE totals IS NOT NULL), 9, 'every scenario CDR is priced');

SELECT is(round(got_excl, 4), round(want_excl, 4),
          format('%s %s excl_vat%s', name, field, coalesce(' (changed: ' || reason || ')', '')))
  FROM money ORDER BY name, field;
SELECT is(round(got_incl, 4), round(want_incl, 4),
          format('%s %s incl_vat%s', name, field,
                 CASE WHEN want_incl IS NULL THEN ' is unknown' ELSE '' END || coalesce(' (changed: ' || reason || ')', '')))
  FROM money ORDER BY name, field;
SELECT is(round(got, 4), round(want, 4), format('%s %s', name, field)) FROM quantity ORDER BY name, field;

-- the binary form through COPY (send, then recv, which validates as text input does)
CREATE TEMP TABLE bin_out (scenario text, t deg.tariff);
INSERT INTO bin_out SELECT scenario, doc::deg.tariff FROM scenario_tariff;
CREATE TEMP TABLE bin_in (scenario text, t deg.tariff);
SELECT format('/tmp/deg-pgtap-tariffs-%s.bin', pg_backend_pid()) AS binfile \gset
SELECT 'cat > ' || :'binfile' AS write_file, 'cat ' || :'binfile' AS read_file, 'rm -f ' || :'binfile' AS remove_file \gset
COPY bin_out TO PROGRAM :'write_file' WITH (FORMAT binary);
COPY bin_in FROM PROGRAM :'read_file' WITH (FORMAT binary);
SELECT is((SELECT count(*)::int FROM bin_in i JOIN bin_out o USING (scenario) WHERE i.t::text = o.t::text), 24,
          'binary COPY out and in gives the same 24 tariffs');
-- a binary value with another version byte, or bytes that are not a tariff, is refused
CREATE FUNCTION pg_temp.copy_binary_value(value bytea, file text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    body bytea := '\x5047434f50590aff0d0a00'::bytea || '\x0000000000000000'::bytea   -- PGCOPY header
                  || '\x0001'::bytea || int4send(length(value)) || value || '\xffff'::bytea;
BEGIN
    EXECUTE format('COPY (SELECT %L) TO PROGRAM %L', translate(encode(body, 'base64'), E'\n', ''), 'base64 -d > ' || file);
    EXECUTE format('COPY pg_temp.bin_one FROM PROGRAM %L WITH (FORMAT binary)', 'cat ' || file);
    RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END $$;
CREATE TEMP TABLE bin_one (t deg.tariff);
SELECT is(pg_temp.copy_binary_value('\x02'::bytea || convert_to('{"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]}', 'UTF8'), :'binfile'),
          '22P03', 'recv refuses another format version');
SELECT is(pg_temp.copy_binary_value('\x01'::bytea || convert_to('{"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]}', 'UTF8'), :'binfile'),
          'accepted', 'recv reads version 1 with a valid tariff');
SELECT is(pg_temp.copy_binary_value('\x01'::bytea || convert_to('{"currency": "EUR", "elements": []}', 'UTF8'), :'binfile'),
          '22023', 'recv checks the tariff as text input does');
COPY (SELECT 1) TO PROGRAM :'remove_file';

-- parallel workers (PARALLEL SAFE, per-worker caches) price the same totals as one backend
CREATE TABLE public.deg_pgtap_tariff_cdrs AS
SELECT i, c.cdr, t.doc::deg.tariff AS t
  FROM generate_series(1, 200) i, scenario_cdr c JOIN scenario_tariff t USING (scenario);
ANALYZE public.deg_pgtap_tariff_cdrs;
\set sum_query 'SELECT sum((deg.tariff_cost(t, cdr, ''Europe/Amsterdam'', -1) -> ''total_cost'' ->> ''excl_vat'')::numeric) FROM public.deg_pgtap_tariff_cdrs'
SET LOCAL max_parallel_workers_per_gather = 0;
SELECT (:sum_query) AS serial_sum \gset
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
SELECT cmp_ok(pg_temp.workers_launched(:'sum_query'), '>', 0, 'the parallel plan launches workers');
SELECT is((:sum_query), :serial_sum, 'parallel workers give the serial sum of 1,800 priced CDRs');
SELECT ok(:serial_sum > 0, 'and that sum is not zero');

-- DEG's own values (AD_HOC_PAYMENT, RESERVED / NOT_RESERVED) survive the OCPI text form, so dumps restore
SELECT is((SELECT t::text::deg.tariff::text FROM (SELECT '{"currency": "INR", "elements": [{"priceComponents":
              [{"type": "AD_HOC_PAYMENT", "price": 10, "vat": 18}], "restrictions": {"reservation": "NOT_RESERVED"}}]}'::deg.tariff AS t) s),
          (SELECT t::text FROM (SELECT '{"currency": "INR", "elements": [{"priceComponents":
              [{"type": "AD_HOC_PAYMENT", "price": 10, "vat": 18}], "restrictions": {"reservation": "NOT_RESERVED"}}]}'::deg.tariff AS t) s),
          'a DEG tariff reads back from its own text');

SELECT * FROM finish();
ROLLBACK;
