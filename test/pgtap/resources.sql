-- pgTAP: the resource registry
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

SELECT plan(20);

SELECT has_table('deg', 'resources', 'deg.resources exists');
SELECT col_is_pk('deg', 'resources', 'era', 'era is the primary key');
SELECT ok((SELECT 'deg.resources'::regclass = ANY (extconfig) FROM pg_extension WHERE extname = 'deg'),
          'deg.resources is a config table pg_dump includes');

SELECT lives_ok($$INSERT INTO deg.resources (era, kind) VALUES ('household-1.example.com', 'prosumer')$$,
                'a global resource registers');
SELECT lives_ok($$INSERT INTO deg.resources (era, kind, owner_era, capacity_kw, energy_capacity_kwh)
                  VALUES ('household-1.example.com/battery', 'storage', 'household-1.example.com', 5, 13.5)$$,
                'a local resource under a registered one registers');
SELECT lives_ok($$INSERT INTO deg.resources (era, kind) VALUES ('household-1.example.com/battery/cell-1', 'storage')$$,
                'a local resource under a local one registers');
SELECT is((SELECT parent_era FROM deg.resources WHERE era = 'household-1.example.com/battery/cell-1'),
          'household-1.example.com/battery'::deg.era, 'parent_era is derived from the ERA');

SELECT throws_ok($$INSERT INTO deg.resources (era, kind) VALUES ('household-2.example.com/battery', 'storage')$$,
                 '23503', NULL, 'a local ERA whose parent is not registered is refused');
SELECT throws_ok($$INSERT INTO deg.resources (era, kind) VALUES ('battery', 'storage')$$,
                 '23514', 'new row for relation "resources" violates check constraint "resources_local_era_needs_a_global_root"',
                 'a bare local name is refused');
SELECT throws_ok($$INSERT INTO deg.resources (era, kind, capacity_kw) VALUES ('p.example.com', 'generation', -0.1)$$,
                 '23514', 'new row for relation "resources" violates check constraint "resources_capacity_kw_not_negative"',
                 'a negative capacity is refused');
SELECT throws_ok($$INSERT INTO deg.resources (era, kind, latitude, longitude) VALUES ('p.example.com', 'generation', 0, 181)$$,
                 '23514', NULL, 'a longitude out of range is refused');
SELECT throws_ok($$INSERT INTO deg.resources (era, kind) VALUES ('HOUSEHOLD-1.Example.com', 'prosumer')$$,
                 '23505', NULL, 'the same ERA spelled in another case is a duplicate');
SELECT throws_ok($$INSERT INTO deg.resources (era, kind) VALUES ('p.example.com', 'spaceship')$$,
                 '22P02', NULL, 'an unknown resource kind is refused');
SELECT throws_ok($$DELETE FROM deg.resources WHERE era = 'household-1.example.com'$$,
                 '23503', NULL, 'a resource with devices under it cannot be deleted');
SELECT throws_ok($$UPDATE deg.resources SET parent_era = 'x.example.com'$$,
                 '428C9', NULL, 'parent_era cannot be set by hand');

-- bulk loads may register children before parents inside one transaction
SAVEPOINT bulk;
SET CONSTRAINTS ALL DEFERRED;
SELECT lives_ok($$INSERT INTO deg.resources (era, kind) VALUES ('site-9.example.com/pv', 'generation'),
                                                               ('site-9.example.com', 'prosumer')$$,
                'with deferred constraints, order inside a transaction does not matter');
SET CONSTRAINTS ALL IMMEDIATE;
RELEASE SAVEPOINT bulk;

-- NULLs
SELECT throws_ok($$INSERT INTO deg.resources (era, kind) VALUES (NULL, 'prosumer')$$, '23502', NULL, 'era is required');
SELECT throws_ok($$INSERT INTO deg.resources (era, kind) VALUES ('q.example.com', NULL)$$, '23502', NULL, 'kind is required');

-- privileges: analysts read, operators write
SELECT ok(has_table_privilege('deg_reader', 'deg.resources', 'SELECT')
          AND NOT has_table_privilege('deg_reader', 'deg.resources', 'INSERT'), 'deg_reader may only read');
SELECT ok(NOT has_table_privilege('public', 'deg.resources', 'INSERT'), 'PUBLIC may not write');

SELECT * FROM finish();
ROLLBACK;
