-- test/garbage/garbage.sql: garbage through SQL (issue 9, item 2).
--
-- Loaded by test/garbage/run.sh into a scratch database that has deg. Every
-- input path of deg is found in the catalog, so new types, casts and functions
-- are covered without editing this file:
--   in    every type in schema deg: its text input function
--   recv  every type in schema deg with a binary receive function, fed through
--         COPY ... (FORMAT binary), the way a client's binary parameter arrives
--   cast  every cast from json, jsonb, text or bytea to a deg type
--   func  every deg function with a json, jsonb, text or bytea argument, one
--         target per such argument (the other arguments get ordinary values)
-- Each target is fed mutations of valid examples harvested from the tests and
-- the reference documents (garbage.candidates, filled by run.sh). A call must
-- either fail with an allowed SQLSTATE (garbage.error_allowed) or return a
-- value whose text output reads back to the same text, and, for deg types,
-- whose binary form and JSON form read back to it too.
--
-- Every call runs in its own subtransaction that is always rolled back, so
-- functions that write (accept_offer, status_list_create, ...) leave nothing.

SET client_min_messages = warning;
DROP SCHEMA IF EXISTS garbage CASCADE;
CREATE SCHEMA garbage;
RESET client_min_messages;

-- valid-looking text found in the tests and the reference documents
CREATE TABLE garbage.candidates (
    origin text NOT NULL,          -- the file it came from
    ctx    text NOT NULL,          -- the file and the SQL statement around it
    val    text NOT NULL
);

-- the ordinary value given to an argument that is not being fuzzed: by
-- argument name first, then by type
CREATE TABLE garbage.arg_defaults (
    typ     regtype NOT NULL,
    argname text NOT NULL DEFAULT '',
    val     text,                  -- NULL: SQL NULL
    PRIMARY KEY (typ, argname)
);

CREATE TABLE garbage.targets (
    id          serial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('in', 'recv', 'cast', 'func')),
    name        text NOT NULL UNIQUE,  -- shown in reports
    argtype     regtype NOT NULL,      -- what is fed: text (also for cstring), json, jsonb, bytea
    call_sql    text,                  -- $1 is the fed value; returns the result as text
    result_type regtype,               -- its output is read back (NULL: not a readable type)
    sink        text,                  -- recv: the table COPY fills
    proname     text,                  -- func: the function's name (to find affine examples)
    argname     text                   -- func: the fuzzed argument's name
);

INSERT INTO garbage.arg_defaults (typ, argname, val) VALUES
    ('text', '', 'x'), ('json', '', '{}'), ('jsonb', '', '{}'), ('bytea', '', '\x00'),
    ('numeric', '', '1.5'), ('integer', '', '2'), ('bigint', '', '1'), ('boolean', '', 'true'),
    ('tstzrange', '', '[2024-01-01 00:00:00+00,2024-01-02 00:00:00+00)'),
    ('timestamptz', '', '2024-01-01 00:00:00+00'), ('interval', '', '1 hour'), ('text[]', '', '{}'),
    ('text', 'role', 'SELLER'), ('text', 'status', 'ACTIVE'), ('text', 'from_status', 'PENDING'),
    ('text', 'to_status', 'ACTIVE'), ('text', 'time_zone', 'UTC'), ('text', 'formula', '1'),
    ('text', 'did', 'did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2'),
    ('text', 'issuer', 'did:deg:city-utility'), ('text', 'list_id', 'https://utility.example.com/status/1'),
    ('text', 'purpose', 'revocation'), ('text', 'schedule', '0 * * * *'), ('text', 'job_name', 'garbage'),
    ('text', 'contract_id', 'tou-1'), ('text', 'ref', 'telemetrySources.m'), ('text', 'fields', 'energyKWh'),
    ('text', 'currency', 'EUR'), ('text', 'offer_id', 'offer-1'),
    ('text', 'query', 'SELECT c.contract_id, c.body, NULL::deg.telemetry FROM deg.contracts c WHERE c.contract_id = ''tou-1'''),
    -- RFC 8032 test 1: a secret key seed and its public key
    ('bytea', 'secret_key', '\x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
    ('bytea', 'public_key', '\xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a'),
    ('bytea', 'bits', '\x' || repeat('00', 16384)), ('integer', 'entries', '131072'), ('integer', 'scale', '2'),
    ('bigint', 'index', '5'), ('text', 'status_list', NULL), ('deg.credential[]', '', '{}');

-- an issuer whose secret key is known (RFC 8032 test 1) and its status list
INSERT INTO deg.issuers (issuer, public_key)
VALUES ('did:deg:garbage', '\xd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
SELECT deg.status_list_create('https://garbage.example.com/status/1', 'did:deg:garbage') IS NOT NULL AS status_list;
UPDATE garbage.arg_defaults SET val = 'did:deg:garbage' WHERE argname = 'issuer';
UPDATE garbage.arg_defaults SET val = 'https://garbage.example.com/status/1' WHERE argname = 'list_id';

-- the valid inputs each target starts from
CREATE TABLE garbage.seeds (
    target_id int NOT NULL REFERENCES garbage.targets,
    n         int NOT NULL,           -- 1.. in a fixed order
    val       text,
    bytes     bytea,
    accepted  boolean NOT NULL DEFAULT true,  -- false: a fallback the target refused
    PRIMARY KEY (target_id, n)
);

CREATE TABLE garbage.cases (
    id        bigserial PRIMARY KEY,
    target_id int NOT NULL REFERENCES garbage.targets,
    mutation  text NOT NULL,
    val       text,
    bytes     bytea
);

-- outcome: value (round-tripped), error (allowed SQLSTATE), fail, crash, slow
CREATE TABLE garbage.results (
    case_id   bigint PRIMARY KEY,
    outcome   text NOT NULL,
    sqlstate  text,
    message   text,
    detail    text,
    ms        double precision,
    consumer_calls int NOT NULL DEFAULT 0   -- functions then given the value
);

-- cases started in one-commit-per-call mode: one without a result crashed the server
CREATE TABLE garbage.started (case_id bigint PRIMARY KEY);

-- ---------- errors ----------

-- The SQLSTATEs a bad input may raise. Everything else is a failure: XX000
-- (elog-style internal errors), XX001 (deg raises it only for stored values
-- that are corrupted, never for input), 53200 out of memory, P0001-P0004
-- (an unlabelled RAISE or a STRICT/ASSERT that leaks from PL/pgSQL), 42xxx
-- other than those listed (a broken query or dynamic SQL built from input);
-- and messages of elog-style internal errors whatever their SQLSTATE.
CREATE FUNCTION garbage.error_allowed(kind text, state text, message text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
SELECT message !~* '(cache lookup failed|invalid memory alloc request size|unrecognized node|could not (open|read|find|access)|internal error)'
   AND (state LIKE '22%'                 -- data exception: 22P02 malformed, 22023 bad value, 22003 range, 22021 bad encoding ...
        OR state LIKE '23%'              -- integrity constraints of the tables a function writes
        OR state IN ('0A000',            -- feature not supported (an index key type has no input)
                     '42704',            -- undefined object (a named contract, list or job that does not exist)
                     '42804',            -- datatype mismatch (a JSON value of the wrong type)
                     '54000',            -- program limit exceeded (too long, too many)
                     '54001',            -- statement too complex (nesting beyond max_stack_depth)
                     '55000')            -- object not in prerequisite state
        OR (kind = 'recv' AND state IN ('08P01')));  -- "insufficient data left in message"
$$;

-- ---------- text helpers ----------

CREATE FUNCTION garbage.rnd(n int) RETURNS int LANGUAGE sql VOLATILE AS
$$ SELECT floor(random() * greatest(n, 1))::int $$;

CREATE FUNCTION garbage.pick(a text[]) RETURNS text LANGUAGE sql VOLATILE AS
$$ SELECT a[1 + garbage.rnd(cardinality(a))] $$;

-- the "\u" in these is a JSON escape, kept as text
CREATE FUNCTION garbage.special_numbers() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['1e400', '-1e400', '1e-400', '-1e-400', '-0', '-0.0', '0e0', '-0e-0', '0.0e999999',
             '1e308', '1.7976931348623157e309', '4.9e-324', '5e-325', '2.2250738585072011e-308',
             '99999999999999999999999999999999999999999999', '-99999999999999999999999999999999999999999',
             '0.000000000000000000000000000000000000000000001', '1e2147483648', '1e-2147483649',
             '1e131072', '1e-16384', '123456789012345678901234567890.123456789012345678901234567890',
             '9223372036854775807', '9223372036854775808', '-9223372036854775809', '2147483647',
             '2147483648', '-2147483649', '4294967296', '18446744073709551616', '0.1', '1E5', '1e+5',
             '1e-5', '0', '1', '-1', '0.5', '3', '7', '100', '1000000', '1e6', '-1e6', '1e21', '1e-7']
$$;

-- not valid JSON numbers: for the parsers of deg's own text input
CREATE FUNCTION garbage.bad_numbers() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['NaN', '-NaN', 'Infinity', '-Infinity', 'inf', '00', '01', '-01', '1.', '.1', '+1',
             '0x1F', '1e', '1e+', '-', '--1', '1_000', '1..2', '1e5.5', '١٢', '0.', '-.5', 'e5']
$$;

CREATE FUNCTION garbage.special_strings() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['""', '" "', '"\u0000"', '"a\u0000b"', '"\ud800"', '"\udc00\ud800"', '"\uffff"',
             '"\ud83d\ude00"', '"é"', '"🙂"', '"\t\n"', '"\\"', '"\""', '"/"', '"' || repeat('x', 5000) || '"',
             '"' || repeat('é', 3000) || '"', '"NaN"', '"1e400"', '"-0"', '"null"', '"true"',
             '"2024-13-45T25:61:61Z"', '"2024-01-01T00:00:00Z"', '"0000-01-01T00:00:00Z"',
             '"99999-01-01T00:00:00Z"', '"2024-01-01T00:00:00+99:99"', '"P1D"', '"24:00"', '"EUR"',
             '"did:key:z"', '"did:"', '"*"', '"@"', '"a/b/c"', '"a.b"', '"ACTIVE"', '"SELLER"',
             '"x × y"', '"1 / 0"', '"((((((((((1))))))))))"', '"' || repeat('(', 3000) || '"',
             '"' || repeat('1+', 3000) || '1"', '"' || repeat('-', 3000) || '1"']
$$;

-- values of every JSON type, for "a field of the wrong type"
CREATE FUNCTION garbage.wrong_values() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['null', 'true', 'false', '0', '-1', '1e400', '-0', '""', '"x"', '[]', '{}', '[null]',
             '[[]]', '{"":null}', '[1,2,3]', '{"a":{"b":{"c":{}}}}', '[' || repeat('0,', 2000) || '0]']
              || garbage.special_numbers() || garbage.special_strings()
$$;

CREATE FUNCTION garbage.tokens() RETURNS text[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['{', '}', '[', ']', '"', ',', ':', 'null', 'true', '-', '.', '*', '@', '/', '//',
             'did:', '\u0000', '\ud800', '\', '\"', 'e', 'E+', ' ', E'\t', E'\n', E'\r', E'\x01',
             E'\x1f', E'\x7f', 'é', '€', '🙂', ' ', '﻿', ' ', '×', '÷', '−',
             '(', ')', '+', '^', '%', '$', '#', '!', '?', ';', '''', '`', '0', '9', 'A', 'z']
$$;

CREATE FUNCTION garbage.charset() RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT E'abcXYZ019 .,:;-_*@/\\"''{}[]()+=#%&\t\n\x01\x02\x1b\x7féß€🙂' $$;

-- replace the k-th (0-based, modulo their count) match of a pattern; NULL when none
CREATE FUNCTION garbage.replace_nth(s text, pattern text, k int, by text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN n > 0 THEN regexp_replace(s, pattern, replace(replace(by, '\', '\\'), '&', '\&'), 1, k % n + 1) END
  FROM regexp_count(s, pattern) n
$$;

-- every path to a value inside a JSON document (as text[] for jsonb_set)
CREATE FUNCTION garbage.json_paths(doc jsonb) RETURNS SETOF text[] LANGUAGE sql IMMUTABLE AS $$
WITH RECURSIVE walk(path, v) AS (
    SELECT ARRAY[]::text[], doc
    UNION ALL
    SELECT w.path || e.key, e.value
      FROM walk w, LATERAL (SELECT key, value FROM jsonb_each(CASE WHEN jsonb_typeof(w.v) = 'object' THEN w.v END)
                            UNION ALL
                            SELECT (ord - 1)::text, value
                              FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.v) = 'array' THEN w.v END)
                                   WITH ORDINALITY AS a(value, ord)) e
     WHERE cardinality(w.path) < 40
)
SELECT path FROM walk WHERE cardinality(path) > 0
$$;

CREATE FUNCTION garbage.is_json(s text, typ regtype) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF typ = 'jsonb'::regtype THEN
        PERFORM s::jsonb;
    ELSE
        PERFORM s::json;
    END IF;
    RETURN true;
EXCEPTION WHEN OTHERS THEN
    RETURN false;
END $$;

-- in a SQL_ASCII database text may hold any bytes but NUL: the way invalid
-- UTF-8 reaches a text input function
CREATE FUNCTION garbage.raw_text(b bytea) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF getdatabaseencoding() <> 'SQL_ASCII' THEN
        RETURN NULL;
    END IF;
    RETURN convert_from(b, 'SQL_ASCII');
END $$;

CREATE FUNCTION garbage.invalid_utf8() RETURNS bytea[] LANGUAGE sql IMMUTABLE AS $$
SELECT ARRAY['\xff', '\xfe', '\xc080', '\xc3', '\xe282', '\xeda080', '\xf4908080',
             '\xf888808080', '\x80', '\xbf', '\xc328', '\xe228a1', '\xefbfbe',
             '\xf09f98', '\xc1bf', '\xe080af']::bytea[]
$$;

-- ---------- mutations ----------

-- One mutation of a seed, chosen by number; the random parameters come from
-- random(), seeded by the caller. NULL when the mutation does not apply.
CREATE FUNCTION garbage.mutate_text(s text, m int, other text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    len int := length(s);
    p int;
    q int;
    doc jsonb;
    path text[];
    sub jsonb;
    k text;
    n int;
    r text;
BEGIN
    p := garbage.rnd(len + 1);
    q := p + 1 + garbage.rnd(least(len - p, 64));
    CASE m % 24
    WHEN 0 THEN RETURN left(s, p);                                        -- truncate
    WHEN 1 THEN RETURN left(s, p) || substr(garbage.charset(), 1 + garbage.rnd(length(garbage.charset())), 1)
                       || substr(s, p + 2);                               -- replace a character
    WHEN 2 THEN RETURN left(s, p) || substr(s, q + 1);                    -- delete a range
    WHEN 3 THEN RETURN left(s, q) || substr(s, p + 1, q - p) || substr(s, q + 1);  -- duplicate a range
    WHEN 4 THEN RETURN left(s, p) || garbage.pick(garbage.tokens()) || substr(s, p + 1);  -- insert a token
    WHEN 5 THEN RETURN garbage.replace_nth(s, '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?', garbage.rnd(1000),
                                           garbage.pick(garbage.special_numbers()));
    WHEN 6 THEN RETURN garbage.replace_nth(s, '-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?', garbage.rnd(1000),
                                           garbage.pick(garbage.bad_numbers()));
    WHEN 7 THEN RETURN garbage.replace_nth(s, '"([^"\\]|\\.)*"', garbage.rnd(1000),
                                           garbage.pick(garbage.special_strings()));
    WHEN 8, 9, 10 THEN                                                    -- a field of the wrong type, gone, or extra
        BEGIN
            doc := s::jsonb;
        EXCEPTION WHEN OTHERS THEN
            RETURN NULL;
        END;
        SELECT x INTO path FROM garbage.json_paths(doc) x ORDER BY random() LIMIT 1;
        IF path IS NULL THEN
            RETURN garbage.pick(garbage.wrong_values());
        END IF;
        IF m % 24 = 8 THEN
            RETURN jsonb_set(doc, path, garbage.pick(garbage.wrong_values())::jsonb)::text;
        ELSIF m % 24 = 9 THEN
            RETURN (doc #- path)::text;
        ELSE
            sub := doc #> path[1:cardinality(path) - 1];
            IF jsonb_typeof(sub) = 'object' THEN
                RETURN jsonb_set(doc, path[1:cardinality(path) - 1],
                                 sub || jsonb_build_object(garbage.pick(ARRAY['', 'x', '@type', 'id', 'value',
                                                           path[cardinality(path)] || ' ', upper(path[cardinality(path)])]),
                                                           garbage.pick(garbage.wrong_values())::jsonb))::text;
            END IF;
            RETURN jsonb_set(doc, path, jsonb_build_array(doc #> path, doc #> path))::text;
        END IF;
    WHEN 11 THEN                                                          -- a duplicate key, first or last
        BEGIN
            doc := s::jsonb;
        EXCEPTION WHEN OTHERS THEN
            RETURN NULL;
        END;
        SELECT x INTO path FROM garbage.json_paths(doc) x
         WHERE jsonb_typeof(doc #> x[1:cardinality(x) - 1]) = 'object' ORDER BY random() LIMIT 1;
        IF path IS NULL THEN
            RETURN NULL;
        END IF;
        sub := doc #> path[1:cardinality(path) - 1];
        k := to_jsonb(path[cardinality(path)])::text;
        r := garbage.pick(garbage.wrong_values());
        IF garbage.rnd(2) = 0 THEN
            r := '{' || k || ': ' || r || ', ' || substr(sub::text, 2);
        ELSE
            r := left(sub::text, -1) || ', ' || k || ': ' || r || '}';
        END IF;
        RETURN overlay(doc::text PLACING r FROM strpos(doc::text, sub::text) FOR length(sub::text));
    WHEN 12 THEN                                                          -- deep nesting at a value
        n := (ARRAY[100, 1000, 10000, 10000, 50000])[1 + garbage.rnd(5)];
        r := CASE garbage.rnd(3) WHEN 0 THEN repeat('[', n) || '1' || repeat(']', n)
                                 WHEN 1 THEN repeat('{"a":', n) || '1' || repeat('}', n)
                                 ELSE repeat('[{"a":', n / 2) || 'null' || repeat('}]', n / 2) END;
        RETURN COALESCE(garbage.replace_nth(s, '(\{\}|\[\]|"[^"]*"|-?[0-9]+(\.[0-9]+)?|null|true|false)',
                                            garbage.rnd(1000), r), r);
    WHEN 13 THEN                                                          -- a huge array or string at a value
        r := CASE garbage.rnd(4) WHEN 0 THEN '[' || repeat('1,', 20000) || '1]'
                                 WHEN 1 THEN '"' || repeat('a', 100000) || '"'
                                 WHEN 2 THEN '"' || repeat('a', 1000000 * garbage.rnd(2)) || '"'
                                 ELSE '[' || repeat(left(COALESCE(substring(s FROM '\{[^{}]*\}'), '{}'), 200) || ',', 500) || '{}]' END;
        RETURN COALESCE(garbage.replace_nth(s, '(\[[^][]*\]|"[^"]*")', garbage.rnd(1000), r), r);
    WHEN 14 THEN RETURN repeat(s, 2 + garbage.rnd(3));                    -- repeated
    WHEN 15 THEN RETURN CASE garbage.rnd(6) WHEN 0 THEN '﻿' || s WHEN 1 THEN s || ' x'
                             WHEN 2 THEN ' ' || s || E'\n\t ' WHEN 3 THEN s || s
                             WHEN 4 THEN s || E'\x01' ELSE '/*' || s END;
    WHEN 16 THEN RETURN CASE garbage.rnd(2) WHEN 0 THEN upper(s) ELSE lower(s) END;
    WHEN 17 THEN RETURN left(s, p) || substr(other, 1 + garbage.rnd(length(other) + 1));  -- spliced with another type's example
    WHEN 18 THEN RETURN other;                                            -- another type's example whole
    WHEN 19 THEN                                                          -- random text
        SELECT string_agg(substr(garbage.charset(), 1 + garbage.rnd(length(garbage.charset())), 1), '')
          INTO r FROM generate_series(1, 1 + garbage.rnd(40));
        RETURN r;
    WHEN 20 THEN RETURN left(s, p) || chr(1 + garbage.rnd(31)) || substr(s, p + 1);  -- a control character
    WHEN 21 THEN RETURN left(s, p) || garbage.pick(ARRAY['\u0000', '\ud800', '\udfff\ud800', '\uffff',
                                 '\u0041', '\u00e9', '\uDBFF\uDFFF', '\u', '\u12', '\x41', '\/'])
                        || substr(s, p + 1);
    WHEN 22 THEN RETURN garbage.pick(ARRAY['', ' ', '{}', '[]', 'null', '""', '0', '-0', '1e400', 'true',
                                           '{"":""}', '[{}]', '{"a":1,"a":2}', E'\n', '*', '@', '/', '.', '..']);
    ELSE                                                                  -- invalid UTF-8 (SQL_ASCII databases only)
        RETURN left(s, p) || garbage.raw_text((garbage.invalid_utf8())[1 + garbage.rnd(16)]) || substr(s, p + 1);
    END CASE;
END $$;

-- byte-level mutations, for receive functions and bytea arguments
CREATE FUNCTION garbage.mutate_bytes(b bytea, m int, other bytea) RETURNS bytea
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    len int := length(b);
    p int := garbage.rnd(len + 1);
    q int;
    r bytea;
BEGIN
    q := p + 1 + garbage.rnd(least(len - p, 16));
    CASE m % 12
    WHEN 0 THEN RETURN substr(b, 1, p);                                   -- truncate
    WHEN 1 THEN                                                           -- flip a byte
        IF len = 0 THEN RETURN '\x00'; END IF;
        p := least(p, len - 1);
        RETURN set_byte(b, p, get_byte(b, p) # (1 << garbage.rnd(8)));
    WHEN 2 THEN                                                           -- set a byte to an edge value
        IF len = 0 THEN RETURN '\xff'; END IF;
        p := least(p, len - 1);
        RETURN set_byte(b, p, (ARRAY[0, 1, 127, 128, 255, 254, 126, 129])[1 + garbage.rnd(8)]);
    WHEN 3 THEN RETURN substr(b, 1, p) || substr(b, q + 1);               -- delete a range
    WHEN 4 THEN RETURN substr(b, 1, q) || substr(b, p + 1, q - p) || substr(b, q + 1);  -- duplicate a range
    WHEN 5 THEN                                                           -- an edge integer over 1, 2, 4 or 8 bytes
        r := (ARRAY['\xff', '\xffff', '\xffffffff', '\x7fffffff', '\x80000000', '\x00000000',
                    '\xffffffffffffffff', '\x7fffffffffffffff', '\x0000000000000080', '\x01000000',
                    '\x00000001', '\x00'])[1 + garbage.rnd(12)]::bytea;
        RETURN substr(b, 1, p) || r || substr(b, p + 1 + length(r));
    WHEN 6 THEN RETURN substr(b, 1, p) || (garbage.invalid_utf8())[1 + garbage.rnd(16)] || substr(b, p + 1);
    WHEN 7 THEN RETURN substr(b, 1, p) || '\x00'::bytea || substr(b, p + 1);  -- a NUL inside
    WHEN 8 THEN RETURN b || b;
    WHEN 9 THEN RETURN substr(b, 1, 1) || substr(other, 2);               -- another type's payload under this version byte
    WHEN 10 THEN                                                          -- random bytes
        SELECT string_agg(set_byte('\x00'::bytea, 0, garbage.rnd(256)), '') INTO r
          FROM generate_series(1, 1 + garbage.rnd(64));
        RETURN CASE WHEN garbage.rnd(2) = 0 THEN substr(b, 1, 1) || r ELSE r END;
    ELSE RETURN (ARRAY['\x', '\x00', '\x01', '\x02', '\xff', '\x0100', '\x017b7d', '\x01' || repeat('5b', 20000),
                       '\x01' || repeat('ff', 1000)])[1 + garbage.rnd(9)]::bytea;
    END CASE;
END $$;

-- ---------- calling a target ----------

-- b through the type's receive function, as a client's binary COPY or
-- parameter would; returns the value's text output
CREATE FUNCTION garbage.recv(sink text, typoutput regproc, b bytea) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    path text := current_setting('data_directory') || '/garbage_recv.bin';
    r text;
BEGIN
    -- a binary COPY of a bytea holds its bytes as they are: a file for the sink's receive function
    EXECUTE format('COPY (SELECT %L::bytea) TO %L WITH (FORMAT binary)', b, path);
    EXECUTE format('COPY %s FROM %L WITH (FORMAT binary)', sink, path);
    EXECUTE format('SELECT %s(v)::text FROM %s', typoutput, sink) INTO STRICT r;
    EXECUTE format('DELETE FROM %s', sink);
    RETURN r;
END $$;

-- what the checks need to know of each type a target returns
CREATE TABLE garbage.types (
    typ         regtype PRIMARY KEY,
    reader_sql  text,     -- $1 text output -> text output of the value it reads as
    send_sql    text,     -- $1 text output -> the value's binary form
    typoutput   regproc,
    sink        text,     -- a table with one column of the type, for COPY
    jsonb_sql   text,     -- $1 text output -> output after a trip through jsonb
    same_sql    text      -- is v (in the sink) equal to, and hashed as, the value read from $1
);

-- one call; any writes are rolled back. ok is true when it returned.
CREATE FUNCTION garbage.call(t garbage.targets, val text, bytes bytea,
                             OUT ok boolean, OUT result text, OUT state text, OUT message text, OUT detail text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    ok := false;
    BEGIN
        IF t.kind = 'recv' THEN
            result := garbage.recv(t.sink, (SELECT typoutput FROM garbage.types WHERE typ = t.result_type), bytes);
        ELSIF t.argtype = 'bytea'::regtype THEN
            EXECUTE t.call_sql INTO result USING bytes;
        ELSE
            EXECUTE t.call_sql INTO result USING val;
        END IF;
        ok := true;
        RAISE EXCEPTION USING ERRCODE = 'GB999';   -- roll back what the call wrote
    EXCEPTION WHEN OTHERS THEN
        IF NOT ok THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL;
        END IF;
    END;
END $$;

-- a consumer's call on a value; any writes are rolled back
CREATE FUNCTION garbage.consume(sql text, val text,
                                OUT ok boolean, OUT state text, OUT message text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ignored text;
BEGIN
    ok := false;
    BEGIN
        EXECUTE sql INTO ignored USING val;
        ok := true;
        RAISE EXCEPTION USING ERRCODE = 'GB999';
    EXCEPTION WHEN OTHERS THEN
        IF NOT ok THEN
            GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, message = MESSAGE_TEXT;
        END IF;
    END;
END $$;

-- a returned value must read back: its text output, its binary form and its
-- JSON form give the same text output again. NULL when it does, else what failed.
CREATE FUNCTION garbage.check(rtyp regtype, result text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ty garbage.types;
    step text;
    again text;
    b bytea;
    same boolean;
    problem text;
    path text := current_setting('data_directory') || '/garbage_recv.bin';
BEGIN
    IF result IS NULL OR rtyp IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT * INTO ty FROM garbage.types WHERE types.typ = rtyp;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    BEGIN
        step := 'text output read back';
        EXECUTE ty.reader_sql INTO again USING result;
        IF again IS DISTINCT FROM result THEN
            problem := format('%s: %s became %s', step, left(result, 300), left(again, 300));
        END IF;
        IF problem IS NULL AND ty.send_sql IS NOT NULL THEN
            step := 'binary form read back';
            EXECUTE ty.send_sql INTO b USING result;
            EXECUTE format('COPY (SELECT %L::bytea) TO %L WITH (FORMAT binary)', b, path);
            EXECUTE format('COPY %s FROM %L WITH (FORMAT binary)', ty.sink, path);
            EXECUTE format('SELECT %s(v)::text, %s FROM %s', ty.typoutput, COALESCE(ty.same_sql, 'true'), ty.sink)
               INTO STRICT again, same USING result;
            IF again IS DISTINCT FROM result THEN
                problem := format('%s: %s became %s', step, left(result, 300), left(again, 300));
            ELSIF NOT same THEN
                problem := format('%s: %s read from text and from its binary form are not equal, or hash apart',
                                  step, left(result, 300));
            END IF;
        END IF;
        IF problem IS NULL AND ty.jsonb_sql IS NOT NULL THEN
            step := 'JSON form read back';
            EXECUTE ty.jsonb_sql INTO again USING result;
            IF again IS DISTINCT FROM result THEN
                problem := format('%s: %s became %s', step, left(result, 300), left(again, 300));
            END IF;
        END IF;
        RAISE EXCEPTION USING ERRCODE = 'GB999';
    EXCEPTION WHEN OTHERS THEN
        -- jsonb cannot hold the \u0000 that JSON text may: a documented limit of PostgreSQL's jsonb
        IF SQLSTATE <> 'GB999' AND NOT (step = 'JSON form read back' AND SQLSTATE = '22P05') THEN
            problem := format('%s: %s raised %s %s', step, left(result, 300), SQLSTATE, SQLERRM);
        END IF;
    END;
    RETURN problem;
END $$;

-- ---------- the targets ----------

CREATE FUNCTION garbage.ioparam(t oid) RETURNS oid LANGUAGE sql STABLE AS
$$ SELECT CASE WHEN typelem <> 0 THEN typelem ELSE oid END FROM pg_type WHERE oid = t $$;

-- a call of the type's input function (through a cast for enums and domains,
-- whose input functions return a polymorphic type)
CREATE FUNCTION garbage.input_call(t oid, arg text) RETURNS text LANGUAGE sql STABLE AS $$
SELECT CASE WHEN ty.typtype IN ('e', 'd') THEN format('(%s)::text::%s', arg, t::regtype) ELSE
       format('%s(%s%s)', ty.typinput::regproc, arg,
              CASE p.pronargs WHEN 3 THEN format(', %s::oid, -1', garbage.ioparam(t))
                                 WHEN 2 THEN format(', %s::oid', garbage.ioparam(t)) ELSE '' END) END
  FROM pg_type ty JOIN pg_proc p ON p.oid = ty.typinput WHERE ty.oid = t
$$;

-- an argument that is not fuzzed: its ordinary value, NULL if none is known
CREATE FUNCTION garbage.default_arg(typ regtype, argname text) RETURNS text LANGUAGE sql STABLE AS $$
SELECT CASE WHEN typ = '"any"'::regtype THEN format('%L::numeric', d.val) ELSE format('%L::%s', d.val, typ) END
  FROM garbage.arg_defaults d
 WHERE d.typ = CASE WHEN default_arg.typ = '"any"'::regtype THEN 'numeric'::regtype ELSE default_arg.typ END
   AND d.argname IN (COALESCE(default_arg.argname, ''), '')
 ORDER BY d.argname = '' LIMIT 1
$$;

CREATE FUNCTION garbage.make_type_targets() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    ty record;
    p record;
BEGIN
    -- the types: deg's own, not their arrays or table row types
    FOR ty IN SELECT t.oid, t.oid::regtype AS typ, t.typoutput, t.typsend, t.typreceive, t.typname
                FROM pg_type t
               WHERE t.typnamespace = 'deg'::regnamespace AND t.typtype IN ('b', 'e', 'd') AND t.typcategory <> 'A'
               ORDER BY t.typname LOOP
        INSERT INTO garbage.types (typ, reader_sql, typoutput)
        VALUES (ty.typ, format('SELECT %s(%s)::text', ty.typoutput::regproc, garbage.input_call(ty.oid, '$1::cstring')),
                ty.typoutput);
        IF ty.typreceive <> 0 THEN
            EXECUTE format('CREATE TABLE garbage.%I (v %s)', 'sink_' || ty.typname, ty.typ);
            UPDATE garbage.types SET sink = format('garbage.%I', 'sink_' || ty.typname),
                                     send_sql = format('SELECT %s(%s)', ty.typsend::regproc, garbage.input_call(ty.oid, '$1::cstring'))
             WHERE typ = ty.typ;
            INSERT INTO garbage.targets (kind, name, argtype, result_type, sink)
            VALUES ('recv', 'recv ' || ty.typ, 'bytea', ty.typ, format('garbage.%I', 'sink_' || ty.typname));
        END IF;
        INSERT INTO garbage.targets (kind, name, argtype, call_sql, result_type)
        VALUES ('in', 'in ' || ty.typ, 'text',
                format('SELECT %s(%s)::text', ty.typoutput::regproc, garbage.input_call(ty.oid, '$1::cstring')), ty.typ);
        -- equal and hashed alike whether read from text or binary
        UPDATE garbage.types
           SET same_sql = format('(v OPERATOR(%s.=) %s)', o.oprnamespace::regnamespace, garbage.input_call(ty.oid, '$1::cstring'))
                          || COALESCE(format(' AND %s(v) = %s(%s)', h.amproc::regproc, h.amproc::regproc,
                                             garbage.input_call(ty.oid, '$1::cstring')), '')
          FROM pg_operator o
               LEFT JOIN LATERAL (SELECT ap.amproc FROM pg_opclass oc JOIN pg_amproc ap ON ap.amprocfamily = oc.opcfamily
                                   WHERE oc.opcmethod = (SELECT oid FROM pg_am WHERE amname = 'hash') AND oc.opcdefault
                                     AND oc.opcintype = ty.oid AND ap.amproclefttype = ty.oid AND ap.amprocnum = 1) h ON true
         WHERE typ = ty.typ AND o.oprname = '=' AND o.oprleft = ty.oid AND o.oprright = ty.oid;
        -- a trip through jsonb, where the type has casts both ways
        UPDATE garbage.types SET jsonb_sql = format('SELECT %s(%s(%s(%s)))::text', ty.typoutput::regproc,
                                                    fromj.castfunc::regproc, toj.castfunc::regproc,
                                                    garbage.input_call(ty.oid, '$1::cstring'))
          FROM pg_cast toj, pg_cast fromj
         WHERE typ = ty.typ AND toj.castsource = ty.oid AND toj.casttarget = 'jsonb'::regtype AND toj.castfunc <> 0
           AND fromj.castsource = 'jsonb'::regtype AND fromj.casttarget = ty.oid AND fromj.castfunc <> 0;
    END LOOP;

    -- casts into deg types from what a client sends as text or JSON
    FOR p IN SELECT c.castsource::regtype AS src, c.casttarget::regtype AS dst, c.castfunc::regproc AS f, dt.typoutput
               FROM pg_cast c JOIN pg_type dt ON dt.oid = c.casttarget
              WHERE dt.typnamespace = 'deg'::regnamespace AND c.castfunc <> 0
                AND c.castsource IN ('json'::regtype, 'jsonb'::regtype, 'text'::regtype, 'bytea'::regtype, 'varchar'::regtype)
              ORDER BY 1::text, 2::text LOOP
        INSERT INTO garbage.targets (kind, name, argtype, call_sql, result_type)
        VALUES ('cast', format('cast %s -> %s', p.src, p.dst),
                CASE WHEN p.src = 'varchar'::regtype THEN 'text'::regtype ELSE p.src END,
                format('SELECT %s(%s($1::%s))::text', p.typoutput::regproc, p.f, p.src), p.dst);
    END LOOP;
END $$;

-- after the types' seeds are known (they give deg-typed arguments their ordinary values)
CREATE FUNCTION garbage.make_func_targets() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    p record;
    i int;
    args text[];
    arg text;
    call text;
    missing text := '';
BEGIN

    -- functions, one target per argument that takes text, JSON or bytes
    FOR p IN SELECT f.oid, f.oid::regprocedure AS sig, quote_ident(n.nspname) || '.' || quote_ident(f.proname) AS fname,
                    f.proname, f.prokind, f.proretset, f.prorettype, ARRAY(SELECT unnest(f.proargtypes::oid[])::regtype) AS argtypes,
                    f.proargnames, rt.typtype AS rettyptype
               FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace JOIN pg_type rt ON rt.oid = f.prorettype
              WHERE n.nspname = 'deg' AND f.prokind IN ('f', 'a')
                AND f.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype, 'cstring'::regtype)
                AND NOT f.proargtypes::regtype[] && ARRAY['internal', 'cstring']::regtype[]
                AND f.proargtypes::regtype[] && ARRAY['json', 'jsonb', 'text', 'bytea']::regtype[]
                AND NOT EXISTS (SELECT FROM pg_cast c WHERE c.castfunc = f.oid)
              ORDER BY 2::text LOOP
        FOR i IN 1 .. cardinality(p.argtypes) LOOP
            CONTINUE WHEN p.argtypes[i] NOT IN ('json'::regtype, 'jsonb'::regtype, 'text'::regtype, 'bytea'::regtype);
            -- a statement to run (deg.contract_lines_of's query) is SQL, run as given like EXECUTE: not a value
            CONTINUE WHEN p.proargnames[i] = 'query';
            args := ARRAY[]::text[];
            FOR j IN 1 .. cardinality(p.argtypes) LOOP
                IF j = i THEN
                    arg := format('$1::%s', p.argtypes[j]);
                ELSE
                    arg := garbage.default_arg(p.argtypes[j], p.proargnames[j]);
                    IF arg IS NULL THEN
                        missing := missing || format('%s: no ordinary value for an argument of type %s%s', p.sig,
                                                     p.argtypes[j], E'\n');
                        EXIT;
                    END IF;
                END IF;
                args := args || arg;
            END LOOP;
            CONTINUE WHEN cardinality(args) < cardinality(p.argtypes);
            IF p.proretset OR p.rettyptype = 'c' OR p.prorettype = 'record'::regtype THEN
                call := format('SELECT string_agg(r::text, E''\n'') FROM %s(%s) r', p.fname, array_to_string(args, ', '));
            ELSE
                -- the type's output function, as the reader uses
                call := format('SELECT %s(%s(%s))::text', (SELECT typoutput::regproc FROM pg_type WHERE oid = p.prorettype),
                               p.fname, array_to_string(args, ', '));
            END IF;
            INSERT INTO garbage.targets (kind, name, argtype, call_sql, result_type, proname, argname)
            VALUES ('func', format('%s arg %s', p.sig, i), p.argtypes[i], call,
                    CASE WHEN NOT p.proretset AND p.rettyptype IN ('b', 'e', 'd')
                              AND p.prorettype NOT IN ('void'::regtype, 'cstring'::regtype) THEN p.prorettype END,
                    p.proname, p.proargnames[i]);
        END LOOP;
    END LOOP;
    -- types outside deg that functions return (jsonb, numeric, ...) are read back too
    INSERT INTO garbage.types (typ, reader_sql, typoutput)
    SELECT DISTINCT t.result_type, format('SELECT %s(%s)::text', ty.typoutput::regproc, garbage.input_call(ty.oid, '$1::cstring')),
           ty.typoutput
      FROM garbage.targets t JOIN pg_type ty ON ty.oid = t.result_type
     WHERE t.result_type IS NOT NULL
    ON CONFLICT DO NOTHING;
    RETURN missing;
END $$;

-- Functions that take a deg type (accessors, operators, evaluators): each
-- value an input accepted is also given to some of them, which must not fail
-- other than with an allowed error either
CREATE TABLE garbage.consumers (
    id       serial PRIMARY KEY,
    typ      regtype NOT NULL,
    name     text NOT NULL,
    call_sql text NOT NULL      -- $1 is the value's text output
);

CREATE FUNCTION garbage.make_consumers() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    p record;
    i int;
    args text[];
    arg text;
    ty regtype;
BEGIN
    FOR p IN SELECT f.oid::regprocedure AS sig, quote_ident(n.nspname) || '.' || quote_ident(f.proname) AS fname,
                    f.proretset, f.prorettype, rt.typtype AS rettyptype, f.proargnames,
                    ARRAY(SELECT unnest(f.proargtypes::oid[])::regtype) AS argtypes
               FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace JOIN pg_type rt ON rt.oid = f.prorettype
              WHERE n.nspname = 'deg' AND f.prokind IN ('f', 'a')
                AND f.prorettype NOT IN ('trigger'::regtype, 'internal'::regtype, 'cstring'::regtype)
                AND NOT f.proargtypes::regtype[] && ARRAY['internal', 'cstring']::regtype[]
                AND NOT EXISTS (SELECT FROM pg_type t WHERE f.oid IN (t.typoutput, t.typsend))
              ORDER BY 1::text LOOP
        FOR i IN 1 .. cardinality(p.argtypes) LOOP
            -- the argument's type, or its element type for an array of a deg type
            SELECT typ INTO ty FROM garbage.types
             WHERE sink IS NOT NULL
               AND (typ = p.argtypes[i] OR typ = (SELECT typelem FROM pg_type WHERE oid = p.argtypes[i]));
            CONTINUE WHEN ty IS NULL OR ty::text NOT LIKE 'deg.%';
            args := ARRAY[]::text[];
            FOR j IN 1 .. cardinality(p.argtypes) LOOP
                IF j = i THEN
                    arg := garbage.input_call(ty, '$1::cstring');
                    IF ty <> p.argtypes[i] THEN
                        arg := format('ARRAY[%s]', arg);
                    END IF;
                ELSE
                    arg := garbage.default_arg(p.argtypes[j], p.proargnames[j]);
                    EXIT WHEN arg IS NULL;
                END IF;
                args := args || arg;
            END LOOP;
            CONTINUE WHEN cardinality(args) < cardinality(p.argtypes);
            INSERT INTO garbage.consumers (typ, name, call_sql)
            VALUES (ty, format('%s arg %s', p.sig, i),
                    CASE WHEN p.proretset OR p.rettyptype = 'c' OR p.prorettype = 'record'::regtype
                         THEN format('SELECT string_agg(r::text, E''\n'') FROM %s(%s) r', p.fname, array_to_string(args, ', '))
                         ELSE format('SELECT (%s(%s))::text', p.fname, array_to_string(args, ', ')) END);
        END LOOP;
    END LOOP;
END $$;

-- ---------- seeds ----------

-- letters and digits only, lower case: "offer_curve" finds "offerCurve"
CREATE FUNCTION garbage.squash(s text) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT lower(regexp_replace(s, '[^A-Za-z0-9]', '', 'g')) $$;

-- every candidate, and every object, array and string inside the JSON ones;
-- ctx says where it was found (statement, file, JSON path), to match targets to
CREATE TABLE garbage.pool (
    val     text NOT NULL,
    h       text GENERATED ALWAYS AS (md5(val)) STORED PRIMARY KEY,
    words   text GENERATED ALWAYS AS (garbage.squash(ctx)) STORED,
    ctx     text NOT NULL,
    is_json boolean NOT NULL
);

CREATE FUNCTION garbage.make_pool() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c record;
    doc jsonb;
BEGIN
    INSERT INTO garbage.pool (val, ctx, is_json)
    SELECT DISTINCT ON (val) val, ctx, garbage.is_json(val, 'json') FROM garbage.candidates
     ORDER BY val, origin, ctx
    ON CONFLICT DO NOTHING;
    FOR c IN SELECT val, ctx FROM garbage.pool WHERE is_json AND val ~ '^\s*[[{]' ORDER BY val LOOP
        BEGIN
            doc := c.val::jsonb;
        EXCEPTION WHEN OTHERS THEN
            CONTINUE;   -- in SQL_ASCII, jsonb refuses escapes of non-ASCII characters
        END;
        INSERT INTO garbage.pool (val, ctx, is_json)
        SELECT DISTINCT ON (v) v, c.ctx || ' ' || array_to_string(path, '.'), j
          FROM garbage.json_paths(doc) path,
               LATERAL (SELECT (doc #> path)::text, true WHERE jsonb_typeof(doc #> path) IN ('object', 'array', 'string')
                        UNION ALL
                        SELECT doc #>> path, garbage.is_json(doc #>> path, 'json')
                         WHERE jsonb_typeof(doc #> path) = 'string') x(v, j)
         ORDER BY v, path
        ON CONFLICT DO NOTHING;
    END LOOP;
    RETURN (SELECT count(*) FROM garbage.pool);
END $$;

-- a candidate as bytes: hex as written in SQL ('\x00ff'), else its UTF-8
CREATE FUNCTION garbage.as_bytes(val text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN val ~ '^\\x([0-9a-fA-F]{2})*$' THEN decode(substr(val, 3), 'hex') ELSE convert_to(val, 'UTF8') END
$$;

-- try candidates on each target: those it accepts are its seeds. Candidates
-- found near the target's name come first, then a sample of the rest.
CREATE FUNCTION garbage.make_seeds(kinds text[], per_target int, near int, sample int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    t garbage.targets;
    c record;
    word text;
    argword text;
    r record;
    b bytea;
    n int;
BEGIN
    FOR t IN SELECT * FROM garbage.targets WHERE kind = ANY (kinds) AND kind <> 'recv' ORDER BY id LOOP
        word := garbage.squash(COALESCE(t.proname, (SELECT typname FROM pg_type WHERE oid = t.result_type)));
        -- an argument's name finds JSON fields and columns of that name ("cdr", "encoded_list")
        argword := CASE WHEN length(garbage.squash(t.argname)) >= 3 THEN garbage.squash(t.argname) ELSE word END;
        n := 0;
        FOR c IN (SELECT val, -1 AS pass, '' AS o FROM garbage.arg_defaults d
                   WHERE d.typ = t.argtype AND d.argname = t.argname AND d.val IS NOT NULL)
                 UNION ALL
                 (SELECT val, 0 AS pass, md5(val) AS o FROM garbage.pool
                   WHERE (is_json OR t.argtype NOT IN ('json'::regtype, 'jsonb'::regtype))
                     AND (words LIKE '%' || word || '%' OR words LIKE '%' || argword || '%')
                   ORDER BY md5(val) LIMIT near)
                 UNION ALL
                 (SELECT val, 1, md5(t.name || val) FROM garbage.pool
                   WHERE (is_json OR t.argtype NOT IN ('json'::regtype, 'jsonb'::regtype))
                   ORDER BY md5(t.name || val) LIMIT sample)
                 ORDER BY 2, 3 LOOP
            b := garbage.as_bytes(c.val);
            r := garbage.call(t, c.val, b);
            IF r.ok AND NOT EXISTS (SELECT FROM garbage.seeds s WHERE s.target_id = t.id AND s.val = c.val) THEN
                n := n + 1;
                INSERT INTO garbage.seeds (target_id, n, val, bytes) VALUES (t.id, n, c.val, b);
                EXIT WHEN n >= per_target;
            END IF;
        END LOOP;
    END LOOP;
    RETURN (SELECT count(*) FROM garbage.seeds);
END $$;

-- seeds of a type's input, of its casts and of its receive function are
-- shared: each one's accepted values, as text output or binary form
CREATE FUNCTION garbage.share_type_seeds() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t garbage.targets;
    v record;
    r record;
    b bytea;
    n int;
BEGIN
    FOR t IN SELECT * FROM garbage.targets WHERE kind IN ('in', 'cast', 'recv') ORDER BY id LOOP
        n := (SELECT COALESCE(max(s.n), 0) FROM garbage.seeds s WHERE s.target_id = t.id);
        FOR v IN SELECT DISTINCT ON (o.out) o.out
                   FROM garbage.seeds s JOIN garbage.targets u ON u.id = s.target_id,
                        LATERAL garbage.call(u, s.val, s.bytes) c,
                        LATERAL (SELECT c.result) o(out)
                  WHERE u.result_type = t.result_type AND u.kind IN ('in', 'cast') AND c.ok
                  ORDER BY o.out LOOP
            IF t.kind = 'recv' THEN
                BEGIN
                    EXECUTE (SELECT send_sql FROM garbage.types WHERE typ = t.result_type) INTO b USING v.out;
                EXCEPTION WHEN OTHERS THEN
                    CONTINUE;
                END;
                CONTINUE WHEN EXISTS (SELECT FROM garbage.seeds s WHERE s.target_id = t.id AND s.bytes = b);
                n := n + 1;
                INSERT INTO garbage.seeds (target_id, n, val, bytes) VALUES (t.id, n, NULL, b);
            ELSE
                CONTINUE WHEN EXISTS (SELECT FROM garbage.seeds s WHERE s.target_id = t.id AND s.val = v.out);
                r := garbage.call(t, v.out, NULL);
                CONTINUE WHEN NOT r.ok;
                n := n + 1;
                INSERT INTO garbage.seeds (target_id, n, val, bytes) VALUES (t.id, n, v.out, NULL);
            END IF;
        END LOOP;
    END LOOP;
END $$;

-- the ordinary value of a deg-typed argument: the shortest seed of its input
CREATE FUNCTION garbage.default_type_args() RETURNS void LANGUAGE sql AS $$
INSERT INTO garbage.arg_defaults (typ, argname, val)
SELECT DISTINCT ON (t.result_type) t.result_type, '', s.val
  FROM garbage.targets t JOIN garbage.seeds s ON s.target_id = t.id
 WHERE t.kind = 'in'
 ORDER BY t.result_type, length(s.val), s.val
ON CONFLICT DO NOTHING;
INSERT INTO garbage.arg_defaults (typ, argname, val)
SELECT ty.typarray::regtype, '', '{}'
  FROM garbage.targets t JOIN pg_type ty ON ty.oid = t.result_type
 WHERE t.kind = 'in' AND ty.typarray <> 0
ON CONFLICT DO NOTHING;
$$;

-- seeds for targets that accepted none: the candidates found near their name
-- (realistic even when rejected), else the argument's ordinary value
CREATE FUNCTION garbage.fallback_seeds(near int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t garbage.targets;
    word text;
    argword text;
BEGIN
    FOR t IN SELECT * FROM garbage.targets g
              WHERE NOT EXISTS (SELECT FROM garbage.seeds s WHERE s.target_id = g.id) ORDER BY id LOOP
        word := garbage.squash(COALESCE(t.proname, (SELECT typname FROM pg_type WHERE oid = t.result_type)));
        -- an argument's name finds JSON fields and columns of that name ("cdr", "encoded_list")
        argword := CASE WHEN length(garbage.squash(t.argname)) >= 3 THEN garbage.squash(t.argname) ELSE word END;
        INSERT INTO garbage.seeds (target_id, n, val, bytes, accepted)
        SELECT t.id, row_number() OVER (ORDER BY md5(val)), val, garbage.as_bytes(val), false
          FROM (SELECT val FROM garbage.pool
                 WHERE (is_json OR t.argtype NOT IN ('json'::regtype, 'jsonb'::regtype))
                   AND (words LIKE '%' || word || '%' OR words LIKE '%' || argword || '%')
                 ORDER BY md5(val) LIMIT near) x;
        IF NOT FOUND THEN
            INSERT INTO garbage.seeds (target_id, n, val, bytes, accepted)
            SELECT t.id, 1, d.val, CASE WHEN t.argtype = 'bytea'::regtype THEN d.val::bytea ELSE convert_to(d.val, 'UTF8') END, false
              FROM garbage.arg_defaults d WHERE d.typ = t.argtype AND d.argname = '';
        END IF;
    END LOOP;
END $$;

-- ---------- cases ----------

-- rounds mutated inputs per target, and a truncation sweep of one seed;
-- deterministic for a given seed and catalog
CREATE FUNCTION garbage.generate(seed int, rounds int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    t garbage.targets;
    nseeds int;
    s garbage.seeds;
    others text[];
    other_bytes bytea[];
    r int;
    m int;
    v text;
    b bytea;
    tries int;
    step int;
    is_bytes boolean;
    needs_json boolean;
    ascii boolean := getdatabaseencoding() = 'SQL_ASCII';
BEGIN
    SELECT array_agg(val ORDER BY target_id, n) FILTER (WHERE val IS NOT NULL),
           array_agg(bytes ORDER BY target_id, n) FILTER (WHERE bytes IS NOT NULL)
      INTO others, other_bytes FROM garbage.seeds;
    FOR t IN SELECT * FROM garbage.targets ORDER BY name LOOP
        PERFORM setseed((hashtext(seed::text || t.name) % 1000000) / 1000000.0);
        nseeds := (SELECT count(*) FROM garbage.seeds WHERE target_id = t.id);
        CONTINUE WHEN nseeds = 0;
        is_bytes := t.argtype = 'bytea'::regtype;
        needs_json := t.argtype IN ('json'::regtype, 'jsonb'::regtype);
        -- truncations of one seed every few bytes
        SELECT * INTO s FROM garbage.seeds WHERE target_id = t.id AND n = 1 + garbage.rnd(nseeds);
        IF is_bytes THEN
            step := greatest(1, length(s.bytes) / 16);
            INSERT INTO garbage.cases (target_id, mutation, bytes)
            SELECT t.id, 'truncated at ' || k, substr(s.bytes, 1, k) FROM generate_series(0, length(s.bytes) - 1, step) k;
        ELSE
            step := greatest(1, length(s.val) / 16);
            INSERT INTO garbage.cases (target_id, mutation, val)
            SELECT t.id, 'truncated at ' || k, left(s.val, k) FROM generate_series(0, length(s.val) - 1, step) k
             WHERE NOT needs_json OR garbage.is_json(left(s.val, k), t.argtype);
        END IF;
        -- types' own input paths get the most; plain text arguments of functions the least
        FOR r IN 1 .. CASE WHEN t.kind <> 'func' THEN rounds * 3
                           WHEN t.argtype IN ('json'::regtype, 'jsonb'::regtype) THEN rounds
                           ELSE greatest(rounds / 2, 1) END LOOP
            tries := 0;
            LOOP
                tries := tries + 1;
                SELECT * INTO s FROM garbage.seeds WHERE target_id = t.id AND n = 1 + garbage.rnd(nseeds);
                IF is_bytes THEN
                    m := garbage.rnd(1000);
                    IF t.kind = 'recv' AND m % 3 = 0 AND length(s.bytes) > 1 THEN
                        -- the text inside the binary form, mutated as text
                        BEGIN
                            v := garbage.mutate_text(convert_from(substr(s.bytes, 2), 'UTF8'), m / 3,
                                                     others[1 + garbage.rnd(cardinality(others))]);
                            b := substr(s.bytes, 1, 1) || convert_to(v, 'UTF8');
                        EXCEPTION WHEN OTHERS THEN
                            b := NULL;
                        END;
                        v := NULL;
                        IF b IS NOT NULL THEN
                            INSERT INTO garbage.cases (target_id, mutation, bytes) VALUES (t.id, 'text ' || (m / 3) % 24, b);
                            EXIT;
                        END IF;
                    END IF;
                    b := garbage.mutate_bytes(s.bytes, m, other_bytes[1 + garbage.rnd(cardinality(other_bytes))]);
                    IF garbage.rnd(3) = 0 THEN
                        b := garbage.mutate_bytes(b, garbage.rnd(1000), other_bytes[1 + garbage.rnd(cardinality(other_bytes))]);
                    END IF;
                    IF b IS NOT NULL THEN
                        INSERT INTO garbage.cases (target_id, mutation, bytes) VALUES (t.id, 'bytes ' || m % 12, b);
                        EXIT;
                    END IF;
                ELSE
                    m := garbage.rnd(1000);
                    IF ascii AND r % 2 = 0 THEN
                        m := 23;     -- invalid UTF-8: what a SQL_ASCII database is for here
                    END IF;
                    BEGIN
                        v := garbage.mutate_text(s.val, m, others[1 + garbage.rnd(cardinality(others))]);
                        IF garbage.rnd(3) = 0 THEN
                            v := garbage.mutate_text(v, garbage.rnd(1000), others[1 + garbage.rnd(cardinality(others))]);
                        END IF;
                    EXCEPTION WHEN OTHERS THEN
                        v := NULL;   -- a value jsonb itself refuses (1e131072)
                    END;
                    IF v IS NOT NULL AND (NOT needs_json OR garbage.is_json(v, t.argtype)) THEN
                        INSERT INTO garbage.cases (target_id, mutation, val) VALUES (t.id, 'text ' || m % 24, v);
                        EXIT;
                    END IF;
                END IF;
                EXIT WHEN tries >= 8;
            END LOOP;
        END LOOP;
    END LOOP;
    RETURN (SELECT count(*) FROM garbage.cases);
END $$;

-- ---------- running ----------

-- Runs cases from first_id on, committing every commit_every calls. With
-- commit_every = 1 each case is marked started (and committed) before its
-- call, so a case that takes the server down is the one left unfinished.
CREATE PROCEDURE garbage.run(first_id bigint, commit_every int, max_cases int DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    t garbage.targets;
    r record;
    t0 timestamptz;
    ms double precision;
    problem text;
    outcome text;
    slow_ms double precision := COALESCE(NULLIF(current_setting('garbage.slow_ms', true), ''), '10000')::double precision;
    per_value int := COALESCE(NULLIF(current_setting('garbage.consumers_per_value', true), ''), '3')::int;
    consumed int;
    u garbage.consumers;
    cr record;
    n int := 0;
BEGIN
    FOR c IN SELECT * FROM garbage.cases WHERE id >= first_id ORDER BY id LIMIT max_cases LOOP
        IF commit_every = 1 THEN
            INSERT INTO garbage.started VALUES (c.id) ON CONFLICT DO NOTHING;
            COMMIT;
        END IF;
        SELECT * INTO t FROM garbage.targets WHERE id = c.target_id;
        t0 := clock_timestamp();
        r := garbage.call(t, c.val, c.bytes);
        ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
        problem := NULL;
        consumed := 0;
        IF r.ok THEN
            problem := garbage.check(t.result_type, r.result);
            IF problem IS NULL AND r.result IS NOT NULL AND per_value > 0 THEN
                FOR u IN SELECT * FROM garbage.consumers WHERE typ = t.result_type
                          ORDER BY (id * 7919 + c.id * 104729) % 1000003 LIMIT per_value LOOP
                    cr := garbage.consume(u.call_sql, r.result);
                    consumed := consumed + 1;
                    IF NOT cr.ok AND NOT garbage.error_allowed('func', cr.state, cr.message) THEN
                        problem := format('then %s: %s %s (value %s)', u.name, cr.state, cr.message, left(r.result, 300));
                        EXIT;
                    END IF;
                END LOOP;
            END IF;
            outcome := CASE WHEN problem IS NULL THEN 'value' ELSE 'fail' END;
        ELSIF garbage.error_allowed(t.kind, r.state, r.message) THEN
            outcome := 'error';
        ELSE
            outcome := 'fail';
        END IF;
        IF outcome <> 'fail' AND ms > slow_ms THEN
            outcome := 'slow';
        END IF;
        INSERT INTO garbage.results (case_id, outcome, sqlstate, message, detail, ms, consumer_calls)
        VALUES (c.id, outcome, r.state, COALESCE(problem, r.message), r.detail, ms, consumed);
        n := n + 1;
        IF n % commit_every = 0 THEN
            COMMIT;
        END IF;
    END LOOP;
    COMMIT;
END $$;

-- an input, shown short
CREATE FUNCTION garbage.shown(c garbage.cases) RETURNS text LANGUAGE sql IMMUTABLE AS $$
SELECT CASE WHEN c.bytes IS NOT NULL
            THEN format('%s bytes: %s%s', length(c.bytes), left(encode(c.bytes, 'hex'), 240),
                        CASE WHEN length(c.bytes) > 120 THEN '...' ELSE '' END)
            ELSE format('%s chars: %s%s', length(c.val), left(quote_literal(c.val), 240),
                        CASE WHEN length(c.val) > 240 THEN '...' ELSE '' END) END
$$;

CREATE FUNCTION garbage.report() RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    x record;
BEGIN
    RETURN QUERY
    SELECT format('calls %s (and %s more giving the values to %s functions that take them): %s values read back, %s clean errors, %s failures, %s crashes, %s slow (%s targets, %s seeds)',
                  count(*), sum(consumer_calls), (SELECT count(*) FROM garbage.consumers), count(*) FILTER (WHERE outcome = 'value'), count(*) FILTER (WHERE outcome = 'error'),
                  count(*) FILTER (WHERE outcome = 'fail'), count(*) FILTER (WHERE outcome = 'crash'),
                  count(*) FILTER (WHERE outcome = 'slow'),
                  (SELECT count(*) FROM garbage.targets), (SELECT count(*) FROM garbage.seeds))
      FROM garbage.results;
    RETURN QUERY
    SELECT format('  by kind %-5s %6s calls, %6s values, %6s errors, %s failing',
                  t.kind, count(*), count(*) FILTER (WHERE outcome = 'value'), count(*) FILTER (WHERE outcome = 'error'),
                  count(*) FILTER (WHERE outcome NOT IN ('value', 'error')))
      FROM garbage.results r JOIN garbage.cases c ON c.id = r.case_id JOIN garbage.targets t ON t.id = c.target_id
     GROUP BY t.kind ORDER BY t.kind;
    RETURN QUERY
    SELECT format('  clean errors %s: %s', sqlstate, count(*))
      FROM garbage.results WHERE outcome = 'error' GROUP BY sqlstate ORDER BY sqlstate;
    RETURN QUERY
    SELECT format('  no example accepted, fuzzed from rejected ones: %s', t.name)
      FROM garbage.targets t
     WHERE NOT EXISTS (SELECT FROM garbage.seeds s WHERE s.target_id = t.id AND s.accepted)
     ORDER BY t.name;
    FOR x IN SELECT t.name, r.outcome, r.sqlstate, r.message, r.detail, r.ms, c.mutation, garbage.shown(c) AS input, c.id
               FROM garbage.results r JOIN garbage.cases c ON c.id = r.case_id JOIN garbage.targets t ON t.id = c.target_id
              WHERE r.outcome NOT IN ('value', 'error')
              ORDER BY t.name, r.sqlstate, c.id LOOP
        RETURN NEXT format('FAIL %s [case %s, %s]: %s%s%s%s', x.name, x.id, x.mutation, x.outcome,
                           COALESCE(' ' || x.sqlstate, ''), COALESCE(' ' || x.message, ''),
                           CASE WHEN x.outcome = 'slow' THEN format(' (%s ms)', round(x.ms::numeric)) ELSE '' END);
        RETURN NEXT '     input ' || x.input;
    END LOOP;
END $$;
