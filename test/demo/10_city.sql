-- Stage 1: the city of Suryapur. Every party and device is registered in
-- deg.resources with its ERA; devices are local ERAs under their owner.
CALL demo.stage('1. city');

-- ---------- the generator's picture of the city ----------

-- feeders (distribution transformers) on a grid about 1.2 km apart
CREATE TABLE demo.feeders AS
SELECT f, format('discom.suryapur.example/feeder-%s', lpad(f::text, 3, '0'))::deg.era AS era,
       12.930 + ((f - 1) / c) * 0.011 AS lat, 77.560 + ((f - 1) % c) * 0.011 AS lon
  FROM (SELECT feeders AS n, ceil(sqrt(feeders))::int AS c FROM demo.params) p,
       generate_series(1, p.n) f;

-- 100 households per feeder; exactly 40 % with rooftop solar, 15 % with a
-- battery (30 % of the solar homes, 5 % of the others)
CREATE TABLE demo.households AS
WITH h AS (
    SELECT h, (h - 1) / 100 + 1 AS feeder,
           row_number() OVER (ORDER BY demo.u('solar', h), h) AS solar_rank
      FROM demo.params, generate_series(1, households) h),
s AS (
    SELECT h.*, solar_rank <= 0.4 * (SELECT households FROM demo.params) AS solar FROM h),
b AS (
    SELECT s.*, row_number() OVER (PARTITION BY solar ORDER BY demo.u('battery', h), h) AS battery_rank FROM s)
SELECT b.h, b.feeder,
       format('hh-%s@homes.suryapur.example', lpad(b.h::text, 5, '0'))::deg.era AS era,
       format('hh-%s@homes.suryapur.example/smart-meter', lpad(b.h::text, 5, '0'))::deg.era AS meter,
       f.lat + (demo.u('lat', b.h) - 0.5) * 0.008 AS lat,
       f.lon + (demo.u('lon', b.h) - 0.5) * 0.008 AS lon,
       b.solar,
       CASE WHEN b.solar THEN round((2 + 6 * demo.u('pv', b.h))::numeric, 1) END AS pv_kw,
       (b.solar AND b.battery_rank <= 0.12 * p.households) OR (NOT b.solar AND b.battery_rank <= 0.03 * p.households) AS battery,
       round((5 + 8.5 * demo.u('kwh', b.h))::numeric, 1) AS batt_kwh,
       round((0.25 + 0.9 * demo.u('load', b.h))::numeric, 2) AS base_kw
  FROM b JOIN demo.feeders f ON f.f = b.feeder, demo.params p;
UPDATE demo.households SET batt_kwh = NULL WHERE NOT battery;
ALTER TABLE demo.households ADD PRIMARY KEY (h);
CREATE UNIQUE INDEX ON demo.households (era);

-- three charge point operators, each with 5 sites of 4 EVSEs (two DC CCS2, two AC Type 2)
CREATE TABLE demo.cpos (code, era, name, pricing) AS VALUES
    ('VLT', 'voltcharge.example'::deg.era, 'VoltCharge', 'per_kwh'),
    ('ECO', 'ecopower-charging.example'::deg.era, 'EcoPower Charging', 'tariff'),
    ('PLG', 'plugpoint.example'::deg.era, 'PlugPoint', 'mixed');

CREATE TABLE demo.sites AS
SELECT c.code AS cpo, s,
       format('IN*%s*S%s', c.code, lpad(s::text, 2, '0'))::deg.era AS era,
       12.925 + demo.u('site-lat/' || c.code, s) * p.extent AS lat,
       77.555 + demo.u('site-lon/' || c.code, s) * p.extent AS lon
  FROM demo.cpos c, demo.params p, generate_series(1, p.sites) s;

CREATE TABLE demo.evses AS
SELECT s.cpo, s.s AS site, u,
       format('%s*%s*%s*%s', s.era, lpad(u::text, 2, '0'), CASE WHEN u <= 2 THEN 'CCS2' ELSE 'TYPE2' END, 'A')::deg.era AS era,
       CASE WHEN u <= 2 THEN 'CCS2' ELSE 'Type2' END AS connector,
       CASE WHEN u <= 2 THEN 'DC' ELSE 'AC_3_PHASE' END AS power_type,
       CASE WHEN u = 1 AND s.s % 2 = 1 THEN 120 WHEN u <= 2 THEN 60 ELSE 22 END AS power_kw,
       s.lat, s.lon
  FROM demo.sites s, generate_series(1, 4) u;

-- EV drivers, each with a car (a local ERA); 70 % drive a CCS2 car
CREATE TABLE demo.drivers AS
SELECT d, format('driver-%s@ev.suryapur.example', lpad(d::text, 5, '0'))::deg.era AS era,
       format('driver-%s@ev.suryapur.example/car', lpad(d::text, 5, '0'))::deg.era AS car,
       CASE WHEN demo.u('ccs', d) < 0.7 THEN 'CCS2' ELSE 'Type2' END AS connector,
       round((40 + 35 * demo.u('car-kwh', d))::numeric, 0) AS car_kwh,
       12.925 + demo.u('drv-lat', d) * p.extent AS lat,
       77.555 + demo.u('drv-lon', d) * p.extent AS lon
  FROM demo.params p, generate_series(1, p.drivers) d;

-- ---------- registration ----------

BEGIN;
SET CONSTRAINTS ALL DEFERRED;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, latitude, longitude) VALUES
    ('did:web:trust.suryapur.example', 'service_provider', NULL,
     '{"name": "Suryapur Energy Trust", "role": "certification authority"}', NULL, NULL),
    ('discom.suryapur.example', 'service_provider', NULL,
     '{"name": "Suryapur Power Distribution", "role": "distribution utility (GRID_OPERATOR)"}', 12.9716, 77.5946),
    ('did:web:discom.suryapur.example', 'service_provider', 'discom.suryapur.example',
     '{"name": "Suryapur Power Distribution", "role": "credential issuer (customer and interconnection records)"}', NULL, NULL),
    ('market.suryapur.example', 'service_provider', NULL,
     '{"name": "Suryapur Energy Exchange", "role": "MARKET_CLEARING_AGENT"}', NULL, NULL),
    ('did:web:rooftop-installers.example', 'service_provider', NULL,
     '{"name": "Rooftop Installers Association", "role": "credential issuer (not trusted by the city)"}', NULL, NULL);

INSERT INTO deg.resources (era, kind, owner_era, descriptor, capacity_kw, latitude, longitude)
SELECT era, 'infrastructure', 'discom.suryapur.example',
       jsonb_build_object('type', 'distribution transformer', 'ratingKVA', 400), 400, lat, lon
  FROM demo.feeders;

INSERT INTO deg.resources (era, kind, descriptor)
SELECT era, 'service_provider', jsonb_build_object('name', name, 'role', 'charge point operator', 'operatorCode', code)
  FROM demo.cpos;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, capacity_kw, latitude, longitude)
SELECT s.era, 'infrastructure', c.era, jsonb_build_object('type', 'charging site', 'ocppId', replace(s.era::text, '*', '-')),
       (SELECT sum(power_kw) FROM demo.evses e WHERE e.cpo = s.cpo AND e.site = s.s), s.lat, s.lon
  FROM demo.sites s JOIN demo.cpos c ON c.code = s.cpo;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, capacity_kw, latitude, longitude)
SELECT e.era, 'infrastructure', c.era,
       jsonb_build_object('type', 'EVSE', 'connectorType', e.connector, 'powerType', e.power_type), e.power_kw, e.lat, e.lon
  FROM demo.evses e JOIN demo.cpos c ON c.code = e.cpo;

INSERT INTO deg.resources (era, kind, descriptor, latitude, longitude)
SELECT era, CASE WHEN solar OR battery THEN 'prosumer' ELSE 'consumption' END::deg.resource_kind,
       jsonb_build_object('name', 'Household ' || h, 'gridConnectionPoint', (SELECT era FROM demo.feeders WHERE f = feeder)),
       lat, lon
  FROM demo.households;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, latitude, longitude)
SELECT meter, 'infrastructure', era, '{"type": "smart meter", "meterType": "bidirectional", "standard": "IEEE 2030.5"}', lat, lon
  FROM demo.households;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, capacity_kw, latitude, longitude)
SELECT era::text || '/rooftop-pv', 'generation', era, '{"type": "rooftop PV", "technology": "mono-PERC"}', pv_kw, lat, lon
  FROM demo.households WHERE solar;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, capacity_kw, energy_capacity_kwh, latitude, longitude)
SELECT era::text || '/battery', 'storage', era, '{"type": "home battery", "chemistry": "LFP"}',
       round(batt_kwh / 2.7, 1), batt_kwh, lat, lon
  FROM demo.households WHERE battery;

INSERT INTO deg.resources (era, kind, descriptor)
SELECT era, 'consumption', jsonb_build_object('name', 'EV driver ' || d) FROM demo.drivers;
INSERT INTO deg.resources (era, kind, owner_era, descriptor, capacity_kw, energy_capacity_kwh)
SELECT car, 'storage', era, jsonb_build_object('type', 'electric vehicle', 'connectorType', connector),
       CASE WHEN connector = 'CCS2' THEN 100 ELSE 11 END, car_kwh
  FROM demo.drivers;
COMMIT;

SELECT format('   %s resources registered: %s households (%s with solar, %s with a battery), %s EVSEs at %s sites, %s EV drivers',
              (SELECT count(*) FROM deg.resources), (SELECT count(*) FROM demo.households),
              (SELECT count(*) FROM demo.households WHERE solar), (SELECT count(*) FROM demo.households WHERE battery),
              (SELECT count(*) FROM demo.evses), (SELECT count(*) FROM demo.sites), (SELECT count(*) FROM demo.drivers));
