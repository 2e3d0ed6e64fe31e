-- deg.energy_offer, deg.energy_intent, @@, <->, match_explain, Beckn import
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS deg;
RESET client_min_messages;
SET search_path = deg, public;

-- text form: the DEG EnergyOffer JSON, with the fields deg interprets printed first
SELECT '{"offerId": "offer-ccs2-60kw-kwh", "contractId": "contract-walk-in-001",
         "providerId": "ecopower-charging", "providerUri": "https://bpp.ecopower-charging.com",
         "openRole": "BUYER", "pricePerKWh": 18.0, "currency": "inr",
         "minQuantityKWh": 1, "maxQuantityKWh": 60,
         "availabilityWindow": {"start": "2025-10-01T00:00:00Z", "end": "2026-03-31T23:59:59Z"},
         "location": {"type": "Point", "coordinates": [77.5946, 12.9716]},
         "energySource": "grid", "minPowerKW": 5, "maxPowerKW": 60,
         "credentialTypes": ["EVSESafetyCertification", "CPOBusinessLicense"],
         "attributes": {"connectorType": "CCS2", "evseId": "IN*ECO*BTM*01*CCS2*A", "amenityFeature": ["WI-FI", "RESTROOM"]}}'::energy_offer;

CREATE TEMP TABLE t_offers (o energy_offer);
INSERT INTO t_offers VALUES
 ('{"offerId": "ev-1", "providerId": "ecopower-charging.example.com", "openRole": "BUYER", "pricePerKWh": 18, "currency": "INR",
    "minQuantityKWh": 1, "maxQuantityKWh": 60, "availabilityWindow": {"start": "2025-01-01T06:00:00Z", "end": "2025-01-01T22:00:00Z"},
    "location": {"lat": 12.9716, "lon": 77.5946}, "energySource": "GRID", "maxPowerKW": 60,
    "credentialTypes": ["EVSESafetyCertification"], "attributes": {"connectorType": "CCS2"}}'),
 ('{"offerId": "ev-2", "providerId": "ecopower-charging.example.com", "openRole": "BUYER", "pricePerKWh": 16.5, "currency": "INR",
    "availabilityWindow": {"start": "2025-01-01T00:00:00Z", "end": null},
    "location": {"lat": 12.9352, "lon": 77.6245}, "energySource": "SOLAR", "maxPowerKW": 22,
    "attributes": {"connectorType": "Type2"}}'),
 ('{"offerId": "p2p-1", "providerId": "household-solar-001.prosumer@example.com", "openRole": "BUYER", "pricePerKWh": 0.15, "currency": "USD",
    "minQuantityKWh": 1, "maxQuantityKWh": 100, "energySource": "SOLAR"}'),
 ('{"offerId": "grid-1", "providerId": "utility.example.com", "openRole": "SELLER", "pricePerKWh": 0.1, "currency": "INR"}');

-- every rule, true and false, explained
CREATE TEMP TABLE t_intents (n serial, name text, i energy_intent);
INSERT INTO t_intents (name, i) VALUES
 ('empty (any BUYER offer)', '{}'),
 ('seller role', '{"role": "SELLER"}'),
 ('20 kWh', '{"quantityKWh": 20}'),
 ('70 kWh', '{"quantityKWh": 70}'),
 ('0.5 kWh', '{"quantityKWh": 0.5}'),
 ('window inside', '{"window": {"start": "2025-01-01T08:00:00Z", "end": "2025-01-01T10:00:00Z"}}'),
 ('window too late', '{"window": {"start": "2025-01-01T21:00:00Z", "end": "2025-01-01T23:00:00Z"}}'),
 ('deadline only', '{"deadline": "2025-01-01T20:00:00Z"}'),
 ('max 17 INR', '{"maxPricePerKWh": 17, "currency": "INR"}'),
 ('max 18 INR', '{"maxPricePerKWh": 18, "currency": "INR"}'),
 ('USD only', '{"currency": "USD"}'),
 ('renewable', '{"acceptedSources": ["RENEWABLE"]}'),
 ('grid or wind', '{"acceptedSources": ["GRID", "WIND"]}'),
 ('within 5 km of MG Road', '{"location": {"lat": 12.9756, "lon": 77.6066}, "radiusMeters": 5000}'),
 ('within 1 km of MG Road', '{"location": {"lat": 12.9756, "lon": 77.6066}, "radiusMeters": 1000}'),
 ('at least 50 kW', '{"minPowerKW": 50}'),
 ('safety certified', '{"requiredCredentials": ["EVSESafetyCertification"]}'),
 ('CCS2', '{"requiredAttributes": {"connectorType": "CCS2"}}'),
 ('CHAdeMO', '{"requiredAttributes": {"connectorType": "CHAdeMO"}}');
SELECT t.name, array_agg(offer_id(o.o) ORDER BY offer_id(o.o)) FILTER (WHERE t.i @@ o.o) AS matching
  FROM t_intents t CROSS JOIN t_offers o GROUP BY t.n, t.name ORDER BY t.n;

SELECT field, ok, detail FROM match_explain(
    '{"quantityKWh": 70, "maxPricePerKWh": 17, "currency": "INR", "acceptedSources": ["SOLAR"],
      "location": {"lat": 12.9756, "lon": 77.6066}, "radiusMeters": 1000, "minPowerKW": 100,
      "requiredCredentials": ["GreenEnergyCertificate"], "requiredAttributes": {"connectorType": "CHAdeMO"},
      "window": {"start": "2025-01-01T05:00:00Z", "end": "2025-01-01T23:00:00Z"}}',
    (SELECT o FROM t_offers WHERE offer_id(o) = 'ev-1'));

-- both argument orders, and the ordering value: cheapest first, then nearest
SELECT offer_id(o) AS offer, (o @@ '{}'::energy_intent) = ('{}'::energy_intent @@ o) AS commutes,
       offer_price(o) AS price,
       round(match_distance('{"location": {"lat": 12.9756, "lon": 77.6066}, "radiusMeters": 50000}', o)) AS metres
  FROM t_offers
 ORDER BY '{"location": {"lat": 12.9756, "lon": 77.6066}, "radiusMeters": 50000}'::energy_intent <-> o;

-- accessors and casts
SELECT offer_id(o), offer_contract_id(o), offer_provider(o), offer_role(o), offer_price(o), offer_currency(o),
       offer_source(o), offer_window(o), offer_credential_types(o), offer_attributes(o)
  FROM t_offers ORDER BY 1;
SELECT ('{"offerId": "x", "providerId": "a.example.com", "openRole": "seller"}'::jsonb::energy_offer)::jsonb;
SELECT '{"quantityKWh": 5, "acceptedSources": "SOLAR", "note": "kept"}'::energy_intent;

-- indicative prices from a tariff (lowest ENERGY component) and an offer curve
SELECT offer_price(o), offer_currency(o), (o::jsonb)->>'priceSource' AS source FROM (VALUES
  ('{"offerId": "t", "providerId": "u.example.com", "openRole": "BUYER",
     "tariff": {"currency": "INR", "elements": [{"priceComponents": [{"type": "ENERGY", "price": 0.2}]},
                                               {"priceComponents": [{"type": "FLAT", "price": 0.01}, {"type": "ENERGY", "price": 0.1}]}]}}'::energy_offer),
  ('{"offerId": "c", "providerId": "p.example.com", "openRole": "PROSUMER",
     "offerCurve": {"currency": "USD", "minExport": -5, "maxExport": 5,
                    "curve": [{"price": 0.05, "powerKW": 0}, {"price": 0.06, "powerKW": 2}, {"price": 0.07, "powerKW": 5}]}}'),
  ('{"offerId": "b", "providerId": "p.example.com", "openRole": "PROSUMER",
     "offerCurve": {"currency": "USD", "curve": [{"price": 0.06, "powerKW": -50}, {"price": 0.07, "powerKW": 0}]}}')) t(o);

-- bad input: a clear error naming the field
\set VERBOSITY default
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "SELLR"}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "energySource": "PLUTONIUM"}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER",
         "availabilityWindow": {"start": "2025-01-02T00:00:00Z", "end": "2025-01-01T00:00:00Z"}}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER",
         "availabilityWindow": {"start": "yesterday-ish"}}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "location": {"lat": 91, "lon": 0}}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "location": {"type": "Point", "coordinates": [200, 0]}}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "pricePerKWh": -1, "currency": "INR"}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "pricePerKWh": 1, "currency": "RUPEE"}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "pricePerKWh": 1}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "maxQuantityKWh": "lots"}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "minQuantityKWh": 10, "maxQuantityKWh": 5}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "bad..era", "openRole": "BUYER"}'::energy_offer;
SELECT '{"offerId": "x", "openRole": "BUYER"}'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER", "maxPowerKW": 1e400}'::energy_offer;
SELECT '[1, 2]'::energy_offer;
SELECT '{"offerId": "x", "providerId": "a.example.com", "openRole": "BUYER",'::energy_offer;
SELECT '{"quantityKWh": -5}'::energy_intent;
SELECT '{"location": {"lat": 12, "lon": 77}}'::energy_intent;
SELECT '{"acceptedSources": ["SOLAR", "DILITHIUM"]}'::energy_intent;
SELECT '{"currency": "12A"}'::energy_intent;

-- Beckn interop: every DEG example catalog converts, unmapped parts in a NOTICE
\set ev_catalog `cat test/reference/deg/examples/ev_charging/02_on_discover/time-based-ev-charging-slot-catalog.json`
\set p2p_catalog `cat test/reference/deg/examples/p2p_trading/02_on_discover/solar-energy-catalog.json`
\set tariff_catalog `cat test/reference/deg/examples/p2p_trading_tariff/02_on_discover/utility-tariff-catalog.json`
\set market_catalog `cat test/reference/deg/examples/p2p_trading_market_based/02_on_discover/on-discover-market-clearing-agent.json`
\set flex_catalog `cat test/reference/deg/examples/ev_charging_demand_flexibility/on_discover-with-clearing-price.json`
SELECT offer_id(o), offer_contract_id(o), offer_provider(o), offer_role(o), offer_price(o), offer_currency(o),
       offer_source(o), offer_window(o), offer_attributes(o)->>'connectorType' AS connector
  FROM (SELECT import_catalog(:'ev_catalog'::jsonb) UNION ALL
        SELECT import_catalog(:'p2p_catalog'::jsonb) UNION ALL
        SELECT import_catalog(:'tariff_catalog'::jsonb) UNION ALL
        SELECT import_catalog(:'market_catalog'::jsonb) UNION ALL
        SELECT import_catalog(:'flex_catalog'::jsonb)) t(o);
SELECT (o::jsonb)->'location' AS location, (o::jsonb)->'attributes'->'dailyAvailability' AS daily,
       (o::jsonb)->'contract'->>'contractId' AS kept_contract
  FROM import_catalog(:'ev_catalog'::jsonb) o;

\set ev_discover `cat test/reference/deg/examples/ev_charging/01_discover/discovery-within-a-circular-boundary.json`
\set flex_discover `cat test/reference/deg/examples/ev_charging_demand_flexibility/discover-with-bid-curve.json`
\set p2p_discover `cat test/reference/deg/examples/p2p_trading/01_discover/discover-solar-energy.json`
\set market_discover `cat test/reference/deg/examples/p2p_trading_market_based/01_discover/discover-market-based-trading.json`
\set tariff_discover `cat test/reference/deg/examples/p2p_trading_tariff/01_discover/discover-utility-tariff.json`
SELECT intent_from_discover(:'ev_discover'::jsonb);
SELECT intent_from_discover(:'flex_discover'::jsonb);
SELECT intent_from_discover(:'p2p_discover'::jsonb);
SELECT intent_from_discover(:'market_discover'::jsonb);
SELECT intent_from_discover(:'tariff_discover'::jsonb);

-- the discovered intents find the catalog offers they were written for
SELECT 'ev' AS flow, intent_from_discover(:'ev_discover'::jsonb) @@ o AS matches FROM import_catalog(:'ev_catalog'::jsonb) o
UNION ALL
SELECT 'p2p', intent_from_discover(:'p2p_discover'::jsonb) @@ o FROM import_catalog(:'p2p_catalog'::jsonb) o
UNION ALL
SELECT 'tariff', intent_from_discover(:'tariff_discover'::jsonb) @@ o FROM import_catalog(:'tariff_catalog'::jsonb) o;
SELECT import_catalog('{"message": {}}');

-- the index: intent @@ offer ORDER BY intent <-> offer LIMIT k is a KNN index scan
INSERT INTO offers (offer) SELECT o FROM t_offers;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT offer_id FROM offers WHERE '{"currency": "INR"}'::energy_intent @@ offer
 ORDER BY '{"currency": "INR"}'::energy_intent <-> offer LIMIT 10;
SELECT offer_id FROM offers WHERE '{"currency": "INR"}'::energy_intent @@ offer
 ORDER BY '{"currency": "INR"}'::energy_intent <-> offer LIMIT 10;
RESET enable_seqscan;
SELECT offer_id, provider FROM match('{"currency": "INR"}', 1);
UPDATE offers SET withdrawn_at = now() WHERE offer_id = 'ev-2';
SELECT offer_id FROM match('{"currency": "INR"}');
DELETE FROM offers;
