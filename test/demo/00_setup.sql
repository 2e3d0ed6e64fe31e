-- Stage 0: the demo's own schema: parameters, a deterministic random source,
-- stage timing, and the log of refusals the report prints.
--
-- Everything the city does goes through deg's documented SQL; the schema
-- `demo` only holds the generator's bookkeeping (who lives where, what each
-- household's day looks like) and the report's helpers.

CREATE SCHEMA demo;

-- SCALE multiplies the city of SCALE=1 (20 feeders of 100 households, 3
-- operators with 5 sites of 4 EVSEs each, 500 drivers); a fraction gives a
-- smaller city, with at least one feeder, one site per operator and one driver
CREATE TABLE demo.params (
    scale      numeric NOT NULL CHECK (scale > 0),
    seed       text NOT NULL,
    day        date NOT NULL,
    tz         text NOT NULL,
    outdir     text NOT NULL,
    feeders    integer GENERATED ALWAYS AS (greatest(1, round(20 * scale))) STORED,
    households integer GENERATED ALWAYS AS (100 * greatest(1, round(20 * scale))) STORED,
    sites      integer GENERATED ALWAYS AS (greatest(1, round(5 * scale))) STORED,     -- per operator
    drivers    integer GENERATED ALWAYS AS (greatest(1, round(500 * scale))) STORED,
    -- the city's extent: feeders on a square grid 0.011 degrees (about 1.2 km) apart
    extent     numeric GENERATED ALWAYS AS (0.011 * ceil(sqrt(greatest(1, round(20 * scale)))) + 0.01) STORED
);
INSERT INTO demo.params (scale, seed, day, tz, outdir) VALUES (:'scale', :'seed', :'day', :'tz', :'outdir');

-- the settlement day, as a period in the city's time zone
CREATE FUNCTION demo.period() RETURNS tstzrange
LANGUAGE sql STABLE
RETURN (SELECT tstzrange((day::timestamp AT TIME ZONE tz), ((day + 1)::timestamp AT TIME ZONE tz)) FROM demo.params);

-- a local time of the day (hours after midnight) as a timestamptz
CREATE FUNCTION demo.at(hours numeric) RETURNS timestamptz
LANGUAGE sql STABLE
RETURN (SELECT (day::timestamp + hours * interval '1 hour') AT TIME ZONE tz FROM demo.params);

-- ISO 8601 with the city's offset, as contracts and offers write times
CREATE FUNCTION demo.iso(t timestamptz) RETURNS text
LANGUAGE sql STABLE
RETURN to_char(t AT TIME ZONE (SELECT tz FROM demo.params), 'YYYY-MM-DD"T"HH24:MI:SS')
       || (SELECT CASE WHEN o < interval '0' THEN '-' ELSE '+' END || to_char(abs(extract(epoch FROM o))::int / 3600, 'FM00')
                  || ':' || to_char(abs(extract(epoch FROM o))::int % 3600 / 60, 'FM00')
             FROM (SELECT (t AT TIME ZONE (SELECT tz FROM demo.params)) - (t AT TIME ZONE 'UTC') AS o) x);

-- A uniform number in [0, 1) from the seed, a tag and a number: the same
-- inputs give the same number in any order of evaluation. (PostgreSQL's
-- hashtextextended: the same on every little-endian machine, x86-64 and
-- arm64; md5 would be portable everywhere but is 25 times slower.)
SELECT format($f$
CREATE FUNCTION demo.u(tag text, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN (hashtextextended(tag || ':' || i::text, %s) & 281474976710655)::double precision / 281474976710656.0
$f$, ('x' || substr(md5(:'seed'), 1, 15))::bit(60)::bigint) \gexec

-- a normally distributed number (Box-Muller on two uniforms)
CREATE FUNCTION demo.n(tag text, i bigint) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN sqrt(-2 * ln(1 - demo.u(tag || '/a', i))) * cos(2 * pi() * demo.u(tag || '/b', i));

-- Demo keys: an Ed25519 seed derived from the demo's seed and a name. (A
-- real issuer keeps its secret key in an HSM or a vault and passes it as a
-- bind parameter; deg never stores one.)
SELECT format($f$
CREATE FUNCTION demo.secret_key(name text) RETURNS bytea
LANGUAGE sql IMMUTABLE
RETURN sha256(convert_to('deg demo key:' || %L || ':' || name, 'UTF8'))
$f$, :'seed') \gexec

-- stage timing: each stage starts with demo.stage('name')
CREATE TABLE demo.stages (
    n        serial PRIMARY KEY,
    stage    text NOT NULL,
    started  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE PROCEDURE demo.stage(name text)
LANGUAGE sql
BEGIN ATOMIC
    INSERT INTO demo.stages (stage) VALUES (name);
END;

-- everything refused on the way (claims, trades over the caps), with the reason
CREATE TABLE demo.refusals (
    n          serial PRIMARY KEY,
    stage      text NOT NULL,
    what       text NOT NULL,
    who        text NOT NULL,
    sqlstate   text NOT NULL,
    message    text NOT NULL
);

-- a refusal message with the parts that differ per row (ids, dates, numbers
-- after the reason) replaced, so that refusals group by their reason
CREATE FUNCTION demo.reason(message text) RETURNS text
LANGUAGE sql IMMUTABLE
RETURN regexp_replace(regexp_replace(regexp_replace(regexp_replace(
           regexp_replace(message, '^.* refused: ', ''),
           'urn:uuid:[0-9a-f-]+|sha256:[0-9a-f]+', '…', 'g'),
           '(expired at|not valid before) [0-9 :.+-]+', '\1 …', 'g'),
           'contracted quantity [0-9.]+ kWh exceeds the grid operator''s trade limit of [0-9.-]+ kWh',
           'contracted quantity exceeds the grid operator''s trade limit'),
           'is about [^ ]+, not [^ ]+', 'is about someone else');
