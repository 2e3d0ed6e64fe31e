-- The main job (make demo): register the resources of the two seed scenarios
-- and show them with their ERAs, scopes and hierarchy.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;

\echo
\echo '== deg demo: energy resources of two seed scenarios'
\echo

BEGIN;
-- Scenario 1: an EV charging hub. The charge point operator (CPO) is a
-- service provider addressed by its network subscriber domain; the hub and
-- its EVSEs are addressed by ISO 15118 / eMI3 EVSE ids; an EV user is a
-- handle, with the car as a local ERA beneath it.
INSERT INTO resources (era, kind, owner_era, descriptor, capacity_kw, energy_capacity_kwh, latitude, longitude) VALUES
    ('ecopower-charging.example.com', 'service_provider', NULL,
        '{"name": "EcoPower Charging", "role": "CPO"}', NULL, NULL, NULL, NULL),
    ('bpp.cpo.example.com', 'service_provider', 'ecopower-charging.example.com',
        '{"name": "EcoPower BPP", "role": "Beckn provider platform"}', NULL, NULL, NULL, NULL),
    ('IN*ECO*BTM*01', 'infrastructure', 'ecopower-charging.example.com',
        '{"name": "BTM Layout charging hub", "ocppId": "IN-ECO-BTM-01"}', 180, NULL, 12.9166, 77.6101),
    ('IN*ECO*BTM*01*CCS2*A', 'infrastructure', 'ecopower-charging.example.com',
        '{"connectorType": "CCS2", "powerType": "DC"}', 60, NULL, 12.9166, 77.6101),
    ('IN*ECO*BTM*01*CCS2*B', 'infrastructure', 'ecopower-charging.example.com',
        '{"connectorType": "CCS2", "powerType": "DC"}', 60, NULL, 12.9166, 77.6101),
    ('IN*ECO*BTM*01*TYPE2*A', 'infrastructure', 'ecopower-charging.example.com',
        '{"connectorType": "Type2", "powerType": "AC"}', 22, NULL, 12.9166, 77.6101),
    ('driver-042@ev.example.net', 'consumption', NULL,
        '{"name": "EV user 42"}', NULL, NULL, NULL, NULL),
    ('driver-042@ev.example.net/car', 'storage', 'driver-042@ev.example.net',
        '{"model": "compact EV", "connector": "CCS2"}', 50, 40.5, NULL, NULL);

-- Scenario 2: a prosumer household with rooftop solar, a battery and a smart
-- meter; the devices are local ERAs managed by the household's gateway.
INSERT INTO resources (era, kind, owner_era, descriptor, capacity_kw, energy_capacity_kwh, latitude, longitude) VALUES
    ('household-solar-001.prosumer@example.com', 'prosumer', NULL,
        '{"name": "Household 001", "gridConnectionPoint": "TX-114/F3"}', NULL, NULL, 12.9352, 77.6245),
    ('household-solar-001.prosumer@example.com/panel-array-rooftop', 'generation', 'household-solar-001.prosumer@example.com',
        '{"technology": "mono-PERC", "panels": 12}', 5.4, NULL, 12.9352, 77.6245),
    ('household-solar-001.prosumer@example.com/battery-inverter-01', 'storage', 'household-solar-001.prosumer@example.com',
        '{"chemistry": "LFP"}', 5, 13.5, 12.9352, 77.6245),
    ('household-solar-001.prosumer@example.com/smart-meter-main', 'infrastructure', 'household-solar-001.prosumer@example.com',
        '{"meterType": "bidirectional", "standard": "IEEE 2030.5"}', NULL, NULL, 12.9352, 77.6245),
    ('community-solar-array.localenergy.coop', 'generation', NULL,
        '{"name": "Community solar array"}', 250, NULL, 12.9401, 77.6190),
    ('community-solar-array.localenergy.coop/PANEL-ROW-A-01', 'generation', 'community-solar-array.localenergy.coop',
        '{"row": "A"}', 25, NULL, 12.9401, 77.6190);
COMMIT;

\echo '-- Registered resources in ERA order: a namespace stays together, each'
\echo '-- resource indented under the registered resources that contain it.'
SELECT repeat('   ', (SELECT count(*)::int FROM resources a WHERE r.era <@ a.era AND a.era <> r.era))
           || r.era::text AS era,
       r.kind, era_kind(r.era) AS form, era_scope(r.era) AS scope,
       coalesce(r.capacity_kw::text || ' kW', '') AS capacity
  FROM resources r
 ORDER BY r.era;

\echo '-- The hierarchy of each local ERA.'
SELECT era, era_parent(era) AS parent, era_global(era) AS global, era_root(era) AS root, era_depth(era) AS depth
  FROM resources WHERE era_scope(era) = 'local' ORDER BY era;

\echo '-- Everything inside the charging hub IN*ECO*BTM*01 (an index range scan).'
SELECT era, descriptor->>'connectorType' AS connector, capacity_kw
  FROM resources WHERE era <@ 'IN*ECO*BTM*01' ORDER BY era;

\echo '-- Everything inside example.com (domains, handles and their devices).'
SELECT era, kind FROM resources WHERE era <@ 'example.com' ORDER BY era;

\echo '-- Resources per kind.'
SELECT kind, count(*) AS resources, sum(capacity_kw) AS total_kw
  FROM resources GROUP BY kind ORDER BY kind;
