-- deg.tariff: OCPI 2.2.1 tariffs (DEG camelCase accepted), deg.tariff_cost, deg.tariff_price_per_kwh
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- SQLSTATE and message of a statement's error (or 'no error')
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- a charge data record of one charging period from s to e with these dimensions
CREATE FUNCTION pg_temp.cdr(s timestamptz, e timestamptz, dims jsonb) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'start_date_time', to_char(s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'end_date_time', to_char(e AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'charging_periods', jsonb_build_array(jsonb_build_object(
            'start_date_time', to_char(s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'dimensions', dims)))
$$;

-- ---------- input and output ----------

-- OCPI 2.2.1 in, the same OCPI JSON out (members in OCPI's order, numbers as written)
SELECT '{"country_code": "NL", "party_id": "DEG", "id": "t-1", "currency": "EUR",
         "elements": [{"price_components": [{"type": "ENERGY", "price": 0.25, "vat": 21.0, "step_size": 1}]}],
         "last_updated": "2024-01-01T00:00:00Z"}'::tariff;
SELECT tariff_currency(t), tariff_type(t), tariff_type('{"currency": "EUR", "type": "PROFILE_GREEN", "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]}')
  FROM (SELECT '{"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 1, "step_size": 1}]}]}'::tariff AS t) s;

-- every OCPI scenario tariff: the text form reads back to the same text, jsonb too
\set vectors `sh -c 'printf "{"; first=1; for f in test/vectors/ocpi-tariffs/*/tariff.json; do [ $first = 1 ] || printf ","; first=0; printf "\"%s\": " "$(basename "$(dirname "$f")")"; cat "$f"; done; printf "}"'`
CREATE TEMP TABLE vector_tariffs AS
SELECT key AS scenario, value AS doc, value::tariff AS t FROM jsonb_each(:'vectors'::jsonb);
SELECT count(*) AS tariffs,
       count(*) FILTER (WHERE t::text::tariff::text = t::text) AS text_round_trip,
       count(*) FILTER (WHERE t::jsonb::tariff::text = t::text) AS jsonb_round_trip,
       count(*) FILTER (WHERE t::jsonb = doc) AS same_as_the_file
  FROM vector_tariffs;

-- DEG's camelCase Tariff (the P2P tariff trade example): read, printed as OCPI
\set deg_init `cat test/reference/deg/examples/p2p_trading_tariff/05_init/init-tariff-trade.json`
\set deg_catalog `cat test/reference/deg/examples/p2p_trading_tariff/02_on_discover/utility-tariff-catalog.json`
CREATE TEMP TABLE deg_tariffs AS
SELECT 'init' AS example, d AS doc, d::tariff AS t FROM jsonb_path_query(:'deg_init'::jsonb, 'strict $.**.tariff') d
UNION ALL
SELECT 'catalog', d, d::tariff FROM jsonb_path_query(:'deg_catalog'::jsonb, 'strict $.**.tariff') d;
SELECT example, tariff_currency(t), tariff_type(t), t::text::tariff::text = t::text AS round_trip FROM deg_tariffs;
SELECT jsonb_pretty(t::jsonb) FROM deg_tariffs WHERE example = 'catalog';
-- DEG's stepSize may be left out (its schema defaults it to 1); OCPI requires step_size
SELECT '{"currency": "INR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 18}]}]}'::tariff;
SELECT pg_temp.err($$SELECT '{"currency": "INR", "elements": [{"price_components": [{"type": "ENERGY", "price": 18}]}]}'::tariff$$);

-- binary form: a version byte and the OCPI text
SELECT get_byte(tariff_send(t), 0) AS version,
       convert_from(substr(tariff_send(t), 2), 'UTF8') = t::text AS text_follows
  FROM vector_tariffs WHERE scenario = 'complex';

-- stored in a table (a large tariff is compressed and toasted), read back
CREATE TEMP TABLE stored (id int, t tariff);
INSERT INTO stored
SELECT 1, jsonb_build_object('currency', 'EUR', 'elements',
           jsonb_agg(jsonb_build_object(
               'price_components', jsonb_build_array(jsonb_build_object('type', 'ENERGY', 'price', 0.10 + i / 1000.0, 'vat', 21, 'step_size', 1)),
               'restrictions', jsonb_build_object('start_date', '2024-01-01'::date + i, 'end_date', '2024-01-01'::date + i + 1))
             ORDER BY i))::tariff
  FROM generate_series(0, 365) i;
SELECT id, pg_column_size(t) < octet_length(t::text) AS compressed,
       jsonb_array_length(t::jsonb -> 'elements') AS elements,
       tariff_cost(t, pg_temp.cdr('2024-12-31 10:00Z', '2024-12-31 11:00Z', '[{"type": "ENERGY", "volume": 10}]'), 'UTC') -> 'total_cost' AS dec_31
  FROM stored;

-- ---------- bad input: 22P02 when it is not JSON, 22023 when it is not a valid tariff ----------

-- (each input has one defect; the message names its field)
CREATE TEMP TABLE bad_tariffs (n serial, defect text, input text);
INSERT INTO bad_tariffs (defect, input) VALUES
    ('empty text', ''),
    ('cut short', '{"currency": "EUR",'),
    ('duplicate key', '{"currency": "EUR", "currency": "USD"}'),
    ('number beyond a double', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1e400, "step_size": 1}]}]}'),
    ('not an object', '[1, 2]'),
    ('no elements', '{"currency": "EUR"}'),
    ('empty elements', '{"currency": "EUR", "elements": []}'),
    ('currency', '{"currency": "euro", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}]}'),
    ('tariff type', '{"currency": "EUR", "type": "CHEAP", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}]}'),
    ('dimension', '{"currency": "EUR", "elements": [{"price_components": [{"type": "POWER", "price": 1, "step_size": 1}]}]}'),
    ('DEG dimension in OCPI', '{"currency": "EUR", "elements": [{"price_components": [{"type": "AD_HOC_PAYMENT", "price": 1, "step_size": 1}]}]}'),
    ('price as a string', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": "0.25", "step_size": 1}]}]}'),
    ('negative price', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": -0.25, "step_size": 1}]}]}'),
    ('17 decimals', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.12345678901234567, "step_size": 1}]}]}'),
    ('fractional step', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 0.5}]}]}'),
    ('negative step', '{"currency": "EUR", "elements": [{"price_components": [{"type": "TIME", "price": 1, "step_size": -60}]}]}'),
    ('misspelt field', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "pirce": 1, "step_size": 1}]}]}'),
    ('two ENERGY components', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}, {"type": "ENERGY", "price": 2, "step_size": 1}]}]}'),
    ('time H:MM', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "restrictions": {"start_time": "9:00"}}]}'),
    ('time 24:00', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "restrictions": {"end_time": "24:00"}}]}'),
    ('date', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "restrictions": {"start_date": "2024-02-30"}}]}'),
    ('day of week', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "restrictions": {"day_of_week": ["MONDAY", "FUNDAY"]}}]}'),
    ('kWh range', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "restrictions": {"min_kwh": 10, "max_kwh": 5}}]}'),
    ('unknown restriction', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "restrictions": {"weekday": ["MONDAY"]}}]}'),
    ('min above max price', '{"currency": "EUR", "min_price": {"excl_vat": 2}, "max_price": {"excl_vat": 1}, "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}]}'),
    ('last_updated', '{"currency": "EUR", "last_updated": "yesterday", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}]}]}'),
    ('mixed dialects', '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 1, "step_size": 1}], "priceComponents": []}]}'),
    ('DEG: dimension', '{"currency": "INR", "elements": [{"priceComponents": [{"type": "POWER", "price": 1}]}]}'),
    ('DEG: time 18:60', '{"currency": "INR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 1}], "restrictions": {"startTime": "18:60"}}]}');
SELECT n, defect, pg_temp.err(format('SELECT %L::deg.tariff', input)) AS error FROM bad_tariffs ORDER BY n;
-- the cast from jsonb gives the same errors
SELECT pg_temp.err($$SELECT '{"currency": "EUR", "elements": [{"price_components": [{"type": "FOO", "price": 1, "step_size": 1}]}]}'::jsonb::deg.tariff$$);

-- ---------- pricing a charge data record ----------

-- OCPI 2.2.1's example: 0.25 EUR/kWh + 10 % VAT, min_price 0.50 / 0.55; 1.2 kWh costs the minimum
SELECT jsonb_pretty(tariff_cost(t, pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 11:00Z', '[{"type": "ENERGY", "volume": 1.2}]'), 'UTC'))
  FROM vector_tariffs WHERE scenario = '025kwh_min_price';
-- the max_price example: 0.50 start fee + 0.25/kWh, capped at 10.00 / 11.00 (60 kWh: 15.50 / 17.10)
SELECT kwh, c -> 'total_cost' AS total_cost, c -> 'total_energy_cost' AS total_energy_cost, c -> 'total_fixed_cost' AS total_fixed_cost
  FROM vector_tariffs, unnest(ARRAY[10, 60]) kwh,
       LATERAL tariff_cost(t, pg_temp.cdr('2019-05-01 10:00Z', '2019-05-01 13:00Z', jsonb_build_array(jsonb_build_object('type', 'ENERGY', 'volume', kwh))), 'UTC') c
 WHERE scenario = '025kwh_start_max_price' ORDER BY kwh;

-- time zones: cheap 00:00-07:00 local (1.00/h), else 2.00/h, 21 % VAT
\set night '{"currency": "EUR", "elements": [{"price_components": [{"type": "TIME", "price": 1.00, "vat": 21, "step_size": 1}], "restrictions": {"start_time": "00:00", "end_time": "07:00"}}, {"price_components": [{"type": "TIME", "price": 2.00, "vat": 21, "step_size": 1}]}]}'
-- plain: 8 h from 23:00 CET; spring: 8 h across 02:00 CET -> 03:00 CEST (6 cheap hours, not 7);
-- autumn: 10 h across 03:00 CEST -> 02:00 CET (8 cheap hours); Kolkata (+05:30): 03:30 to 11:30
SELECT night, zone, tariff_cost(:'night', pg_temp.cdr(s, e, jsonb_build_array(jsonb_build_object('type', 'TIME', 'volume', extract(epoch FROM e - s) / 3600))), zone)
           -> 'total_cost' AS total_cost
  FROM (VALUES ('plain', '2024-03-23 22:00Z'::timestamptz, '2024-03-24 06:00Z'::timestamptz),
               ('spring DST', '2024-03-30 22:00Z', '2024-03-31 06:00Z'),
               ('autumn DST', '2024-10-26 21:00Z', '2024-10-27 07:00Z')) n(night, s, e),
       unnest(ARRAY['Europe/Amsterdam', 'UTC', 'Asia/Kolkata']) zone
 ORDER BY 1 DESC, 2;
-- zone names as PostgreSQL reads them: any case; POSIX specs with POSIX's sign (like AT TIME ZONE)
SELECT zone, tariff_cost(:'night', pg_temp.cdr('2024-03-23 22:00Z', '2024-03-24 06:00Z', '[{"type": "TIME", "volume": 8}]'), zone)
           -> 'total_cost' -> 'excl_vat' AS excl_vat,
       to_char('2024-03-23 22:00Z'::timestamptz AT TIME ZONE zone, 'HH24:MI') AS local_start
  FROM unnest(ARRAY['europe/amsterdam', 'CET', 'Etc/GMT-1', '<+0530>-05:30', '+05:30']) zone;
-- an energy price by local time of day: 18:00-22:00 at 0.40, else 0.20; one period of 12 kWh over 3 hours
\set peak '{"currency": "INR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.40, "vat": 18, "step_size": 1}], "restrictions": {"start_time": "18:00", "end_time": "22:00"}}, {"price_components": [{"type": "ENERGY", "price": 0.20, "vat": 18, "step_size": 1}]}]}'
SELECT zone, c -> 'total_energy_cost' AS total_energy_cost
  FROM unnest(ARRAY['Asia/Kolkata', 'UTC']) zone,
       LATERAL tariff_cost(:'peak', pg_temp.cdr('2024-07-15 11:30Z', '2024-07-15 14:30Z', '[{"type": "ENERGY", "volume": 12}]'), zone) c;

-- VAT: absent is unknown (incl_vat left out), 0 is 0 %
SELECT vat, tariff_cost(format('{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.30, %s "step_size": 1}]}]}', vat)::tariff,
                        pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 11:00Z', '[{"type": "ENERGY", "volume": 10}]'), 'UTC') -> 'total_cost' AS total_cost
  FROM unnest(ARRAY['', '"vat": 0,', '"vat": 21,']) vat;
-- parking without VAT makes incl_vat of parking and of the total unknown only when parking is charged
\set mixed '{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 0.30, "vat": 21, "step_size": 1}, {"type": "PARKING_TIME", "price": 2.00, "step_size": 1}]}]}'
SELECT parking, c -> 'total_cost' AS total_cost, c -> 'total_energy_cost' AS energy, c -> 'total_parking_cost' AS parking_cost
  FROM unnest(ARRAY[0, 0.5]) parking,
       LATERAL tariff_cost(:'mixed', pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 12:00Z',
                           jsonb_build_array(jsonb_build_object('type', 'ENERGY', 'volume', 10), jsonb_build_object('type', 'PARKING_TIME', 'volume', parking))), 'UTC') c;

-- step sizes: ENERGY in Wh (5000: 12 kWh is billed as 15), TIME in seconds (900: 20 min as 30)
SELECT tariff_cost('{"currency": "EUR", "elements": [{"price_components": [{"type": "ENERGY", "price": 2.00, "vat": 0, "step_size": 5000}, {"type": "TIME", "price": 6.00, "vat": 0, "step_size": 900}]}]}',
                   pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 10:20Z', '[{"type": "ENERGY", "volume": 12}, {"type": "TIME", "volume": 0.3333}]'), 'UTC')
       - 'total_fixed_cost' - 'total_parking_cost' - 'total_parking_time' - 'total_reservation_cost';
-- DEG's stepSize is read in OCPI's units too (Wh for ENERGY), not DEG's "seconds"
SELECT tariff_cost('{"currency": "INR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 10, "vat": 0, "stepSize": 1000}]}]}',
                   pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 11:00Z', '[{"type": "ENERGY", "volume": 12.3}]'), 'UTC') -> 'total_energy_cost';
-- the step of the last element used: 5 min at 1.20/h (step 1800 s) then 10 min at 2.40/h (step 900 s): 15 min billed
SELECT tariff_cost(t, '{"start_date_time": "2022-01-13T16:55:00Z", "end_date_time": "2022-01-13T17:10:00Z",
                        "charging_periods": [{"start_date_time": "2022-01-13T16:55:00Z", "dimensions": [{"type": "TIME", "volume": 0.25}]}]}', 'UTC')
       -> 'total_time_cost' AS total_time_cost
  FROM vector_tariffs WHERE scenario = 'step_size';

-- rounding of money: scale 4 by default (OCPI's number format), any scale, or every digit (negative)
SELECT scale, tariff_cost(:'night', pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 10:20Z', '[{"type": "TIME", "volume": 0.3333333}]'), 'UTC', scale)
           -> 'total_cost' AS total_cost
  FROM unnest(ARRAY[4, 2, 0, -1]) scale;
SELECT tariff_cost(:'night', pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 10:20Z', '[{"type": "TIME", "volume": 0.3333333}]'), 'UTC')
       -> 'total_cost' AS default_scale;

-- one tariff_cost call site, many tariffs and zones: the per-call cache switches correctly
SELECT i, zone, tariff_cost(t, pg_temp.cdr('2024-03-23 22:00Z', '2024-03-24 06:00Z', '[{"type": "TIME", "volume": 8}, {"type": "ENERGY", "volume": 40}]'), zone)
           -> 'total_cost' AS total_cost
  FROM (VALUES (1, :'night'::tariff, 'Europe/Amsterdam'), (2, :'peak', 'Asia/Kolkata'), (3, :'night', 'Europe/Amsterdam'),
               (4, :'night', 'UTC'), (5, :'peak', 'Asia/Kolkata'), (6, :'peak', 'UTC')) v(i, t, zone)
 ORDER BY i;

-- bad charge data records, time zones and scales: 22023 naming the field
CREATE TEMP TABLE bad_cdrs (n serial, defect text, cdr text);
INSERT INTO bad_cdrs (defect, cdr) VALUES
    ('not an object', '[]'),
    ('no charging_periods', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z"}'),
    ('empty charging_periods', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": []}'),
    ('malformed time', '{"start_date_time": "2024-05-01 10:00", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": []}'),
    ('end before start', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T09:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z", "dimensions": [{"type": "TIME", "volume": 1}]}]}'),
    ('period before the session', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T09:00:00Z", "dimensions": [{"type": "TIME", "volume": 1}]}]}'),
    ('period without dimensions', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z"}]}'),
    ('unknown dimension', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z", "dimensions": [{"type": "VOLTAGE", "volume": 230}]}]}'),
    ('negative energy', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z", "dimensions": [{"type": "ENERGY", "volume": -2}]}]}'),
    ('TIME twice', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z", "dimensions": [{"type": "TIME", "volume": 1}, {"type": "TIME", "volume": 1}]}]}'),
    ('other currency', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "currency": "USD", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z", "dimensions": [{"type": "TIME", "volume": 1}]}]}'),
    ('number beyond a double', '{"start_date_time": "2024-05-01T10:00:00Z", "end_date_time": "2024-05-01T11:00:00Z", "charging_periods": [{"start_date_time": "2024-05-01T10:00:00Z", "dimensions": [{"type": "ENERGY", "volume": 1e400}]}]}');
SELECT n, defect, pg_temp.err(format('SELECT deg.tariff_cost(%L, %L, %L)', :'night', cdr, 'UTC')) AS error FROM bad_cdrs ORDER BY n;
SELECT zone, pg_temp.err(format('SELECT deg.tariff_cost(%L, %L, %L)', :'night',
           pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 11:00Z', '[{"type": "TIME", "volume": 1}]'), zone)) AS error
  FROM unnest(ARRAY['Mars/Olympus_Mons', '', 'IST', 'right/Europe/Amsterdam']) zone;
SELECT pg_temp.err(format('SELECT deg.tariff_cost(%L, %L, %L, 1001)', :'night',
           pg_temp.cdr('2024-05-01 10:00Z', '2024-05-01 11:00Z', '[{"type": "TIME", "volume": 1}]'), 'UTC')) AS error;
SELECT tariff_cost(NULL, '{}', 'UTC') IS NULL AS strict;

-- ---------- the contract formula's computeTariffPrice, through SQL ----------

-- DEG's README example: 18:00 to 06:00 IST on a Monday, 100 kWh in one period: 4 h peak (0.20),
-- 8 h off-peak (0.10): 13.3333 INR, 0.133333 INR/kWh excl. VAT on average
SELECT tariff_price_per_kwh(t, '[2024-07-15 18:00+05:30, 2024-07-16 06:00+05:30)', 100, 'Asia/Kolkata') AS ist,
       tariff_price_per_kwh(t, '[2024-07-15 18:00+05:30, 2024-07-16 06:00+05:30)', 100) AS utc_default,
       tariff_price_per_kwh(t, '[2024-07-15 08:00+05:30, 2024-07-15 10:00+05:30)', 10, 'Asia/Kolkata') AS mid_peak
  FROM deg_tariffs WHERE example = 'init';
-- times price: the session's cost, FLAT and step sizes included; 0 kWh has no price per kWh
-- (the price per kWh has 20 decimals, so times kWh it may be 1e-20 off: billing rounds once, to cents)
SELECT kwh, tariff_price_per_kwh(t, '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', kwh) AS per_kwh,
       tariff_price_per_kwh(t, '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', kwh) * kwh AS cost,
       round(tariff_price_per_kwh(t, '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', kwh) * kwh, 2) AS billed
  FROM (SELECT '{"currency": "EUR", "elements": [{"price_components": [{"type": "FLAT", "price": 1.00, "step_size": 1}, {"type": "ENERGY", "price": 0.30, "step_size": 1000}]}]}'::tariff AS t) s,
       unnest(ARRAY[3, 2.5, 0]) kwh;
-- min_price lifts the average of a small session; a TIME price sees the whole session as charging time
SELECT tariff_price_per_kwh(t, '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', 1.2) AS min_price_example
  FROM vector_tariffs WHERE scenario = '025kwh_min_price';
SELECT tariff_price_per_kwh(:'night', '[2024-05-01 10:00Z, 2024-05-01 10:20Z)', 4) AS twenty_minutes_at_2_per_hour;
SELECT what, pg_temp.err(q) AS error FROM (VALUES
    ('empty session', $$SELECT deg.tariff_price_per_kwh('{"currency": "EUR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 1}]}]}', 'empty', 1)$$),
    ('unbounded session', $$SELECT deg.tariff_price_per_kwh('{"currency": "EUR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 1}]}]}', '[2024-05-01 10:00Z,)', 1)$$),
    ('negative energy', $$SELECT deg.tariff_price_per_kwh('{"currency": "EUR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 1}]}]}', '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', -1)$$),
    ('NaN energy', $$SELECT deg.tariff_price_per_kwh('{"currency": "EUR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 1}]}]}', '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', 'NaN')$$),
    ('unknown zone', $$SELECT deg.tariff_price_per_kwh('{"currency": "EUR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 1}]}]}', '[2024-05-01 10:00Z, 2024-05-01 11:00Z)', 1, 'Europe/Atlantis')$$)
) v(what, q);

-- labels: immutable (like PostgreSQL's timezone(text, timestamptz)), strict, parallel safe
SELECT p.oid::regprocedure AS function, p.provolatile AS volatility, p.proisstrict AS strict, p.proparallel AS parallel,
       obj_description(p.oid, 'pg_proc') IS NOT NULL AS commented
  FROM pg_proc p WHERE p.pronamespace = 'deg'::regnamespace AND p.proname LIKE 'tariff%' ORDER BY 1::text;
SELECT obj_description('deg.tariff'::regtype, 'pg_type') IS NOT NULL AS type_commented;
