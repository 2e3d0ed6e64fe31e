-- Tariffs: the OCPI 2.2.1 tariff type (DEG's camelCase Tariff accepted on
-- input) and the pricing of charge data records (src/tariff.c,
-- src/core/tariff.c).

CREATE TYPE deg.tariff;
CREATE FUNCTION deg.tariff_in(cstring) RETURNS deg.tariff
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.tariff_out(deg.tariff) RETURNS cstring
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.tariff_recv(internal) RETURNS deg.tariff
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.tariff_send(deg.tariff) RETURNS bytea
    AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE TYPE deg.tariff (
    INPUT = deg.tariff_in, OUTPUT = deg.tariff_out,
    RECEIVE = deg.tariff_recv, SEND = deg.tariff_send,
    INTERNALLENGTH = VARIABLE, STORAGE = extended
);
COMMENT ON FUNCTION deg.tariff_in(cstring) IS 'text input: OCPI 2.2.1 or DEG tariff JSON (22P02 when not JSON, 22023 naming the field when not a valid tariff)';
COMMENT ON FUNCTION deg.tariff_out(deg.tariff) IS 'text output: OCPI 2.2.1 JSON';
COMMENT ON FUNCTION deg.tariff_recv(internal) IS 'binary input: a version byte (1), then the JSON text, validated as text input is';
COMMENT ON FUNCTION deg.tariff_send(deg.tariff) IS 'binary output: a version byte (1), then the OCPI JSON text';
COMMENT ON TYPE deg.tariff IS 'an OCPI 2.2.1 Tariff (DEG''s camelCase Tariff accepted on input), validated and kept in a compact binary form; text form: OCPI JSON';

CREATE FUNCTION deg.tariff(jsonb) RETURNS deg.tariff
    AS 'MODULE_PATHNAME', 'tariff_from_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.tariff_jsonb(deg.tariff) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'tariff_to_jsonb' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE CAST (jsonb AS deg.tariff) WITH FUNCTION deg.tariff(jsonb);
CREATE CAST (deg.tariff AS jsonb) WITH FUNCTION deg.tariff_jsonb(deg.tariff);
COMMENT ON FUNCTION deg.tariff(jsonb) IS 'a tariff from its JSON (OCPI 2.2.1 snake_case or DEG camelCase); also the cast jsonb::deg.tariff';
COMMENT ON FUNCTION deg.tariff_jsonb(deg.tariff) IS 'the tariff as OCPI 2.2.1 JSON; also the cast deg.tariff::jsonb';

CREATE FUNCTION deg.tariff_currency(deg.tariff) RETURNS text
    AS 'MODULE_PATHNAME', 'tariff_currency' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION deg.tariff_type(deg.tariff) RETURNS text
    AS 'MODULE_PATHNAME', 'tariff_type' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION deg.tariff_currency(deg.tariff) IS 'the ISO 4217 currency of the tariff''s prices';
COMMENT ON FUNCTION deg.tariff_type(deg.tariff) IS 'AD_HOC_PAYMENT, PROFILE_CHEAP, PROFILE_FAST, PROFILE_GREEN or REGULAR; NULL when the tariff has no type (it applies to every session)';

-- pricing: IMMUTABLE like PostgreSQL's own timezone(text, timestamptz): the
-- result depends on the arguments and the tz database PostgreSQL uses
CREATE FUNCTION deg.tariff_cost(t deg.tariff, cdr jsonb, time_zone text, scale integer DEFAULT 4) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'deg_tariff_cost' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION deg.tariff_cost(deg.tariff, jsonb, text, integer) IS 'the OCPI 2.2.1 CDR totals (total_cost, total_fixed_cost, total_energy, total_energy_cost, total_time, total_time_cost, total_parking_time, total_parking_cost, total_reservation_cost) of the CDR''s charging periods priced with the tariff, restrictions read in the site''s time zone (an IANA name); money rounded half to even to scale places (default 4, OCPI''s number format; negative: every digit), incl_vat left out where VAT is unknown';

CREATE FUNCTION deg.tariff_price_per_kwh(t deg.tariff, session tstzrange, energy_kwh numeric, time_zone text DEFAULT 'UTC')
    RETURNS numeric
    AS 'MODULE_PATHNAME', 'deg_tariff_price_per_kwh' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 100;
COMMENT ON FUNCTION deg.tariff_price_per_kwh(deg.tariff, tstzrange, numeric, text) IS 'the average price per kWh excl. VAT of a session of one charging period over the range delivering energy_kwh (total_cost.excl_vat / energy_kwh), as the contract formula computeTariffPrice(tariff, start, end, kWh) computes it; NULL when energy_kwh is 0';
