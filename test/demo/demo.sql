-- The main job (make demo): one settlement day of the city of Suryapur, end
-- to end, then the report a back office and an analyst would look at.
-- run.sh sets the psql variables scale, seed, day, tz and outdir.
\set ON_ERROR_STOP on
\set QUIET on
\pset footer off
\pset format unaligned
\pset tuples_only on
SET client_min_messages = warning;
SET work_mem = '64MB';
CREATE EXTENSION IF NOT EXISTS deg;
SELECT set_config('search_path', 'public, deg', false) \g /dev/null
SELECT set_config('TimeZone', :'tz', false) \g /dev/null

\ir 00_setup.sql
SELECT format('== deg demo: one settlement day of Suryapur (SCALE=%s, seed %s, %s, %s)', scale, seed, day, tz) FROM demo.params;
\ir 10_city.sql
\ir 15_profiles.sql
\ir 18_supply.sql
\ir 20_trust.sql
\ir 30_charging.sql
\ir 40_market.sql
\ir 50_trades.sql
\ir 60_readings.sql
\ir 70_settle.sql
\ir 90_report.sql
\ir 99_check.sql
