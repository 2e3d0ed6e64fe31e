-- deg.resources: the registry of energy resources
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

INSERT INTO resources (era, kind, descriptor, capacity_kw, latitude, longitude) VALUES
    ('ecopower-charging.example.com', 'service_provider', '{"name": "EcoPower Charging"}', NULL, NULL, NULL),
    ('household-solar-001.prosumer@example.com', 'prosumer', '{"name": "Household 001"}', NULL, 12.9716, 77.5946);
INSERT INTO resources (era, kind, owner_era, capacity_kw, energy_capacity_kwh) VALUES
    ('IN*ECO*BTM*01*CCS2*A', 'infrastructure', 'ecopower-charging.example.com', 60, NULL),
    ('household-solar-001.prosumer@example.com/panel-array-rooftop', 'generation', 'household-solar-001.prosumer@example.com', 5.5, NULL),
    ('household-solar-001.prosumer@example.com/battery-inverter-01', 'storage', 'household-solar-001.prosumer@example.com', 5, 13.5);

SELECT era, kind, owner_era, parent_era, capacity_kw FROM resources ORDER BY era;

-- a local ERA needs its parent registered first
INSERT INTO resources (era, kind) VALUES ('unknown-household.example.com/battery', 'storage');
-- and a bare local name cannot be registered at all (terse: the DETAIL shows created_at)
\set VERBOSITY terse
INSERT INTO resources (era, kind) VALUES ('battery-inverter-01', 'storage');
-- nonsense values
INSERT INTO resources (era, kind, capacity_kw) VALUES ('neg.example.com', 'generation', -5);
INSERT INTO resources (era, kind, energy_capacity_kwh) VALUES ('neg.example.com', 'storage', -1);
INSERT INTO resources (era, kind, latitude, longitude) VALUES ('far.example.com', 'generation', 91, 0);
INSERT INTO resources (era, kind, latitude) VALUES ('half.example.com', 'generation', 10);
\set VERBOSITY default
INSERT INTO resources (era, kind) VALUES ('x.example.com', 'windmill');
INSERT INTO resources (era, kind, owner_era) VALUES ('y.example.com', 'generation', 'nobody.example.com');
\set VERBOSITY terse
INSERT INTO resources (era, kind, descriptor) VALUES ('z.example.com', 'generation', '[1,2]');
\set VERBOSITY default
INSERT INTO resources (era, kind) VALUES ('bad..era.com', 'generation');
-- the same resource twice, even spelled differently
INSERT INTO resources (era, kind) VALUES ('EcoPower-Charging.Example.COM', 'service_provider');
-- a registered parent cannot be removed while a device lives under it
DELETE FROM resources WHERE era = 'household-solar-001.prosumer@example.com';

-- the registry is dumped with the data: it is an extension config table
SELECT c.relname, e.extconfig IS NOT NULL AS dumped
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid) JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'deg' AND c.relname = 'resources';

DELETE FROM resources;
