-- Stage 3: EV charging. The CPOs publish one offer per EVSE, priced per kWh
-- or by an OCPI tariff, carrying the credential types that verify for that
-- EVSE; 500 drivers express intents; each takes the best offer that matches
-- (deg.match: the GiST index, cheapest then nearest) with deg.accept_offer;
-- the charge data records of the sessions arrive.
CALL demo.stage('3. offers and intents');

-- ---------- tariffs (OCPI 2.2.1, INR, GST 18 %) ----------
CREATE TABLE demo.tariffs (name text PRIMARY KEY, tariff deg.tariff NOT NULL);
INSERT INTO demo.tariffs VALUES
('eco-dc', '{"country_code": "IN", "party_id": "ECO", "id": "eco-dc-tou", "currency": "INR",
   "elements": [
     {"price_components": [{"type": "ENERGY", "price": 13.50, "vat": 18, "step_size": 1}],
      "restrictions": {"start_time": "00:00", "end_time": "06:00"}},
     {"price_components": [{"type": "ENERGY", "price": 23.00, "vat": 18, "step_size": 1}],
      "restrictions": {"start_time": "18:00", "end_time": "22:00"}},
     {"price_components": [{"type": "ENERGY", "price": 18.00, "vat": 18, "step_size": 1},
                           {"type": "FLAT", "price": 10.00, "vat": 18, "step_size": 1}]}],
   "last_updated": "2025-06-01T00:00:00Z"}'),
('eco-ac', '{"country_code": "IN", "party_id": "ECO", "id": "eco-ac-tou", "currency": "INR",
   "elements": [
     {"price_components": [{"type": "ENERGY", "price": 9.50, "vat": 18, "step_size": 1}],
      "restrictions": {"start_time": "00:00", "end_time": "06:00"}},
     {"price_components": [{"type": "ENERGY", "price": 16.00, "vat": 18, "step_size": 1}],
      "restrictions": {"start_time": "18:00", "end_time": "22:00"}},
     {"price_components": [{"type": "ENERGY", "price": 12.50, "vat": 18, "step_size": 1},
                           {"type": "FLAT", "price": 5.00, "vat": 18, "step_size": 1}]}],
   "last_updated": "2025-06-01T00:00:00Z"}'),
('plg-ac', '{"country_code": "IN", "party_id": "PLG", "id": "plg-ac-green", "currency": "INR", "type": "PROFILE_GREEN",
   "elements": [
     {"price_components": [{"type": "ENERGY", "price": 11.00, "vat": 18, "step_size": 100}],
      "restrictions": {"start_time": "09:00", "end_time": "16:00"}},
     {"price_components": [{"type": "ENERGY", "price": 14.50, "vat": 18, "step_size": 100}]}],
   "last_updated": "2025-06-01T00:00:00Z"}');

-- ---------- offers ----------
CREATE TABLE demo.evse_offers AS
SELECT e.*, c.era AS cpo_era,
       lower(replace(e.era::text, '*', '-')) AS offer_id,
       'ev-' || lower(replace(e.era::text, '*', '-')) AS template_id,
       CASE WHEN c.pricing = 'per_kwh' OR (c.pricing = 'mixed' AND e.connector = 'CCS2') THEN NULL
            WHEN c.code = 'ECO' AND e.connector = 'CCS2' THEN 'eco-dc'
            WHEN c.code = 'ECO' THEN 'eco-ac' ELSE 'plg-ac' END AS tariff_name,
       CASE WHEN c.code = 'VLT' THEN CASE WHEN e.power_kw >= 120 THEN 24 WHEN e.power_kw >= 60 THEN 21 ELSE 15 END
            WHEN c.code = 'PLG' AND e.connector = 'CCS2' THEN CASE WHEN e.power_kw >= 120 THEN 22.5 ELSE 19.5 END
       END::numeric AS price,
       CASE WHEN e.connector = 'CCS2' THEN CASE WHEN e.power_kw >= 120 THEN 50 ELSE 30 END ELSE 6 END AS target_kw,
       ARRAY(SELECT s.type FROM demo.credential_status s WHERE s.subject = e.era AND s.valid) AS credential_types
  FROM demo.evses e JOIN demo.cpos c ON c.code = e.cpo;

-- the contract each offer's taker joins: the CPO sells, the driver buys; the
-- flow prices the session's CDR; the average charging power is a quality
-- metric, and the CPO pays a penalty per kW it falls short
CREATE FUNCTION demo.ev_template(o demo.evse_offers) RETURNS jsonb
LANGUAGE sql STABLE
RETURN jsonb_build_object(
    '@type', 'EnergyContractEVCharging',
    'contractId', o.template_id, 'status', 'PENDING', 'createdAt', demo.iso(now()),
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', o.cpo_era,
            'roleInputs', jsonb_build_object('currency', 'INR', 'connectorType', o.connector, 'maxPowerKW', o.power_kw,
                                             'evseId', o.era)
                          || CASE WHEN o.tariff_name IS NULL THEN jsonb_build_object('pricePerKWh', o.price)
                                  ELSE jsonb_build_object('tariff', (SELECT t.tariff::jsonb FROM demo.tariffs t WHERE t.name = o.tariff_name)) END),
        jsonb_build_object('role', 'BUYER', 'filled', false, 'filledBy', NULL,
            'roleInputs', jsonb_build_object('vehicleId', jsonb_build_object('type', 'STRING', 'required', true, 'value', NULL)))),
    'inputParameters', jsonb_build_object('currency', 'INR', 'timeZone', 'Asia/Kolkata', 'gracePeriodMinutes', 10),
    'telemetrySources', jsonb_build_array(jsonb_build_object(
        'sourceId', 'cdr', 'sourceType', 'CHARGE_DATA_RECORD', 'source', jsonb_build_object('era', o.era),
        'fields', jsonb_build_array('energyKWh', 'startTime', 'endTime'))),
    'revenueFlows', jsonb_build_object('netZero', true, 'flows', jsonb_build_array(jsonb_build_object(
        'from', 'BUYER', 'to', 'SELLER', 'description', 'charging energy',
        'formula', CASE WHEN o.tariff_name IS NULL
                        THEN 'roles.SELLER.roleInputs.pricePerKWh × telemetrySources.cdr.energyKWh'
                        ELSE 'computeTariffPrice(roles.SELLER.roleInputs.tariff, telemetrySources.cdr.startTime, telemetrySources.cdr.endTime, telemetrySources.cdr.energyKWh) × telemetrySources.cdr.energyKWh' END))),
    'qualityMetrics', jsonb_build_object('metrics', jsonb_build_array(jsonb_build_object(
        'metricId', 'averageChargingPower', 'unit', 'kW', 'target', o.target_kw,
        'formula', 'telemetrySources.cdr.energyKWh / ((telemetrySources.cdr.endTime - telemetrySources.cdr.startTime) / 3600)',
        'penalty', jsonb_build_object('appliedTo', 'SELLER',
            'formula', format('max(0, %s - telemetrySources.cdr.energyKWh / ((telemetrySources.cdr.endTime - telemetrySources.cdr.startTime) / 3600)) × 4', o.target_kw))))));

INSERT INTO deg.offers (offer)
SELECT (jsonb_build_object(
           'offerId', o.offer_id, 'contractId', o.template_id, 'providerId', o.cpo_era, 'openRole', 'BUYER',
           'currency', 'INR',
           'minQuantityKWh', 2, 'maxQuantityKWh', CASE WHEN o.connector = 'CCS2' THEN 80 ELSE 40 END,
           'availabilityWindow', jsonb_build_object('start', demo.iso(lower(demo.period())), 'end', demo.iso(upper(demo.period()))),
           'location', jsonb_build_object('lat', round(o.lat::numeric, 5), 'lon', round(o.lon::numeric, 5)),
           'energySource', CASE WHEN o.cpo = 'PLG' AND o.connector = 'Type2' THEN 'SOLAR' ELSE 'GRID' END,
           'maxPowerKW', o.power_kw,
           'credentialTypes', to_jsonb(o.credential_types),
           'attributes', jsonb_build_object('connectorType', o.connector, 'evseId', o.era, 'powerType', o.power_type),
           'contract', demo.ev_template(o))
        || CASE WHEN o.tariff_name IS NULL THEN jsonb_build_object('pricePerKWh', o.price)
                ELSE jsonb_build_object('tariff', (SELECT t.tariff::jsonb FROM demo.tariffs t WHERE t.name = o.tariff_name)) END
       )::deg.energy_offer
  FROM demo.evse_offers o
 ORDER BY o.offer_id;
ANALYZE deg.offers;

-- ---------- intents ----------
-- arrivals: a quarter in the morning, a third at midday, the rest in the
-- evening; CCS2 cars look for DC charging (some only for 100 kW and more),
-- Type 2 cars for AC; 40 % insist on a certified-safe EVSE
CREATE TABLE demo.intents AS
WITH d AS (
    SELECT dr.*,
           CASE WHEN demo.u('arr', dr.d) < 0.25 THEN 7 + 3 * demo.u('arr-h', dr.d)
                WHEN demo.u('arr', dr.d) < 0.60 THEN 10 + 6 * demo.u('arr-h', dr.d)
                ELSE 17 + 5.5 * demo.u('arr-h', dr.d) END AS arrive_h,
           CASE WHEN dr.connector = 'CCS2' THEN 0.6 + 1.2 * demo.u('stay', dr.d) ELSE 2 + 3 * demo.u('stay', dr.d) END AS stay_h
      FROM demo.drivers dr)
SELECT d.d, d.era, d.car, d.connector,
       demo.at(round(d.arrive_h::numeric * 12) / 12) AS arrival,
       demo.at(round((d.arrive_h + d.stay_h)::numeric * 12) / 12) AS deadline,
       CASE WHEN d.connector = 'CCS2' THEN round((15 + 30 * demo.u('kwh', d.d))::numeric)
            ELSE round((6 + 18 * demo.u('kwh', d.d))::numeric) END AS kwh,
       jsonb_strip_nulls(jsonb_build_object(
           'role', 'BUYER',
           'quantityKWh', CASE WHEN d.connector = 'CCS2' THEN round((15 + 30 * demo.u('kwh', d.d))::numeric)
                               ELSE round((6 + 18 * demo.u('kwh', d.d))::numeric) END,
           'window', jsonb_build_object('start', demo.iso(demo.at(round(d.arrive_h::numeric * 12) / 12)),
                                        'end', demo.iso(demo.at(round((d.arrive_h + d.stay_h)::numeric * 12) / 12))),
           'maxPricePerKWh', CASE WHEN d.connector = 'CCS2' THEN 18 + floor(9 * demo.u('price', d.d))
                                  ELSE 12 + floor(7 * demo.u('price', d.d)) END,
           'currency', 'INR',
           'location', jsonb_build_object('lat', round(d.lat::numeric, 5), 'lon', round(d.lon::numeric, 5)),
           'radiusMeters', 1500 + 500 * floor(8 * demo.u('radius', d.d)),
           'minPowerKW', CASE WHEN d.connector = 'CCS2' AND demo.u('fast', d.d) < 0.3 THEN 100
                              WHEN d.connector = 'CCS2' THEN 50 END,
           'requiredCredentials', CASE WHEN demo.u('safe', d.d) < 0.4 THEN jsonb_build_array('EVSESafetyCertification') END,
           'requiredAttributes', jsonb_build_object('connectorType', d.connector)))::deg.energy_intent AS intent
  FROM d;

-- ---------- matching, contracts and sessions, in order of arrival ----------
-- Each driver takes the first row of deg.match (an index scan: cheapest,
-- then nearest) and accepts it (deg.accept_offer: a contract from the offer's
-- template, the BUYER role claimed). The session starts when the driver plugs
-- in; DC cars draw 55-85 % of the EVSE's power (at most 100 kW), AC cars
-- 10 kW; one session in ten runs derated; most deliver what was asked. The
-- CPO then republishes the EVSE as available from the end of the session,
-- so later drivers find it busy until then. A driver who finds nothing is
-- told which fields failed against the offer that came closest.
CREATE TABLE demo.ev_contracts (d integer PRIMARY KEY, offer_id text NOT NULL, contract_id text NOT NULL UNIQUE);
CREATE TABLE demo.unmatched (d integer PRIMARY KEY, failing text);
CREATE TABLE demo.sessions (
    contract_id text PRIMARY KEY, d integer, evse deg.era, start_time timestamptz, end_time timestamptz,
    energy_kwh numeric, late boolean);
DO $$
DECLARE
    i record;
    o demo.evse_offers;
    chosen text;
    cid text;
    start timestamptz;
    kw numeric;
    kwh numeric;
    finish timestamptz;
BEGIN
    FOR i IN SELECT * FROM demo.intents ORDER BY arrival, d LOOP
        SELECT x.offer_id INTO chosen FROM deg.match(i.intent, 1) x;
        IF chosen IS NULL THEN
            INSERT INTO demo.unmatched
            SELECT i.d, f.failing
              FROM deg.offers x
             CROSS JOIN LATERAL (SELECT string_agg(e.field, ' + ' ORDER BY e.field) AS failing, count(*) AS n
                                   FROM deg.match_explain(i.intent, x.offer) e WHERE NOT e.ok) f
             ORDER BY f.n, deg.match_distance(i.intent, x.offer), x.offer_id
             LIMIT 1;
            CONTINUE;
        END IF;
        cid := deg.accept_offer(chosen, i.era, jsonb_build_object('vehicleId', i.car::text));
        INSERT INTO demo.ev_contracts VALUES (i.d, chosen, cid);
        SELECT * INTO o FROM demo.evse_offers WHERE offer_id = chosen;
        start := i.arrival + (3 + floor(demo.u('plug-in', i.d) * 10)) * interval '1 minute';
        kw := CASE WHEN o.connector = 'CCS2' THEN least(o.power_kw, 100) * (0.55 + 0.30 * demo.u('draw', i.d))::numeric
                   ELSE 10.0 END;
        IF demo.u('derated', i.d) < 0.1 THEN
            kw := kw * 0.4;
        END IF;
        kwh := round(i.kwh * (0.8 + 0.2 * demo.u('full', i.d))::numeric, 3);
        finish := date_trunc('second', start + kwh / kw * interval '1 hour');
        INSERT INTO demo.sessions VALUES (cid, i.d, o.era, start, finish, kwh, demo.u('cdr-late', i.d) < 0.04);
        IF finish + interval '5 minutes' < upper(demo.period()) THEN
            UPDATE deg.offers x
               SET offer = jsonb_set(x.offer::jsonb, '{availabilityWindow,start}',
                                     to_jsonb(demo.iso(finish + interval '5 minutes')))::deg.energy_offer
             WHERE x.offer_id = chosen;
        ELSE
            UPDATE deg.offers x SET withdrawn_at = now() WHERE x.offer_id = chosen;   -- busy until closing
        END IF;
    END LOOP;
END $$;

-- The CPO's session records name the contract (OCPI authorization_reference);
-- each contract reads its own sessions through a telemetry binding to this
-- view: the default CDR source reads every session of the EVSE in the period,
-- so two drivers at one EVSE on the same day would each be billed for both.
CREATE VIEW demo.contract_cdrs AS
SELECT r.cdr->>'authorization_reference' AS contract_id, tstzrange(r.start_time, r.end_time) AS session,
       r.energy_kwh, r.start_time, r.end_time
  FROM deg.charge_data_records r;
INSERT INTO deg.telemetry_bindings (contract_id, ref, relation, key_column, key_value, time_column, value_columns)
SELECT c.contract_id, 'telemetrySources.cdr', 'demo.contract_cdrs', 'contract_id', c.contract_id, 'session',
       '{"energyKWh": "energy_kwh", "startTime": "start_time", "endTime": "end_time"}'
  FROM demo.ev_contracts c ORDER BY c.d;

-- the CDRs arrive (those marked late come after the first settlement run)
CREATE FUNCTION demo.cdr_rows(only_late boolean)
RETURNS TABLE (session_id text, evse deg.era, start_time timestamptz, end_time timestamptz, energy_kwh numeric, cdr jsonb)
LANGUAGE sql STABLE
AS $$
    SELECT 'cdr-' || lpad(s.d::text, 5, '0'), s.evse, s.start_time, s.end_time, s.energy_kwh,
           jsonb_build_object('id', 'cdr-' || lpad(s.d::text, 5, '0'), 'currency', 'INR',
                              'start_date_time', to_char(s.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                              'end_date_time', to_char(s.end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                              'authorization_reference', s.contract_id, 'evse_uid', s.evse, 'total_energy', s.energy_kwh,
                              'charging_periods', jsonb_build_array(jsonb_build_object(
                                  'start_date_time', to_char(s.start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                  'dimensions', jsonb_build_array(jsonb_build_object('type', 'ENERGY', 'volume', s.energy_kwh)))))
      FROM demo.sessions s
     WHERE s.late = only_late
$$;
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh, cdr)
SELECT * FROM demo.cdr_rows(false);

SELECT format('   %s offers (%s per kWh, %s OCPI tariff); %s intents: %s matched and accepted, %s unmatched; %s CDRs in, %s to come late',
              (SELECT count(*) FROM deg.offers),
              (SELECT count(*) FROM demo.evse_offers WHERE tariff_name IS NULL),
              (SELECT count(*) FROM demo.evse_offers WHERE tariff_name IS NOT NULL),
              (SELECT count(*) FROM demo.intents), (SELECT count(*) FROM demo.ev_contracts),
              (SELECT count(*) FROM demo.unmatched),
              (SELECT count(*) FROM deg.charge_data_records), (SELECT count(*) FROM demo.sessions WHERE late));
