-- Stage 5: fixed-price P2P trades between neighbours. Some solar homes offer
-- their midday surplus at a fixed price, carrying the credentials that verify
-- for them; neighbours on the same feeder who want certified solar energy
-- take the best offer; the utility joins each trade as GRID_OPERATOR with its
-- wheeling charge and trade caps, and refuses trades beyond them.
CALL demo.stage('5. fixed-price trades');

CREATE TABLE demo.trade_offers AS
SELECT h.h, h.era, h.meter, h.feeder, h.lat, h.lon, h.pv_kw,
       'p2p-offer-' || lpad(h.h::text, 5, '0') AS offer_id,
       'p2p-' || lpad(h.h::text, 5, '0') AS template_id,
       round((5.0 + 2 * demo.u('p2p-price', h.h))::numeric, 2) AS price,
       round(h.pv_kw * 2) AS max_kwh,
       ARRAY(SELECT s.type FROM demo.credential_status s WHERE s.subject = h.era AND s.valid ORDER BY s.type) AS credential_types
  FROM demo.households h
 WHERE h.solar AND NOT h.battery AND demo.u('p2p-seller', h.h) < 0.2;

CREATE FUNCTION demo.trade_template(o demo.trade_offers) RETURNS jsonb
LANGUAGE sql STABLE
RETURN jsonb_build_object(
    '@type', 'EnergyContractP2PTrade',
    'contractId', o.template_id, 'status', 'PENDING', 'createdAt', demo.iso(now()),
    'roles', jsonb_build_array(
        jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', o.era,
            'roleInputs', jsonb_build_object('sourceMeterId', o.meter, 'sourceType', 'SOLAR', 'pricePerKWh', o.price,
                                             'currency', 'INR', 'pricingModel', 'PER_KWH', 'settlementType', 'DAILY')),
        jsonb_build_object('role', 'BUYER', 'filled', false, 'filledBy', NULL,
            'roleInputs', jsonb_build_object(
                'targetMeterId', jsonb_build_object('type', 'STRING', 'required', true, 'value', NULL),
                'contractedQuantity', jsonb_build_object('type', 'NUMBER', 'required', true, 'value', NULL),
                'tradeStartTime', jsonb_build_object('type', 'DATE_TIME', 'required', true, 'value', NULL),
                'tradeEndTime', jsonb_build_object('type', 'DATE_TIME', 'required', true, 'value', NULL))),
        jsonb_build_object('role', 'GRID_OPERATOR', 'filled', false, 'filledBy', NULL,
            'roleInputs', jsonb_build_object(
                'wheelingCharges', jsonb_build_object('type', 'NUMBER', 'required', true, 'value', NULL)))),
    'inputParameters', jsonb_build_object('currency', 'INR', 'timeZone', 'Asia/Kolkata'),
    'revenueFlows', jsonb_build_object('netZero', true, 'flows', jsonb_build_array(
        jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'description', 'energy delivered (metered, first come first served)',
                           'formula', 'deliveredQuantity × roles.SELLER.roleInputs.pricePerKWh'),
        jsonb_build_object('from', 'BUYER', 'to', 'GRID_OPERATOR', 'description', 'wheeling',
                           'formula', 'deliveredQuantity × roles.GRID_OPERATOR.roleInputs.wheelingCharges'))));

INSERT INTO deg.offers (offer)
SELECT jsonb_build_object(
           'offerId', o.offer_id, 'contractId', o.template_id, 'providerId', o.era, 'openRole', 'BUYER',
           'pricePerKWh', o.price, 'currency', 'INR', 'minQuantityKWh', 1, 'maxQuantityKWh', o.max_kwh,
           'availabilityWindow', jsonb_build_object('start', demo.iso(demo.at(10)), 'end', demo.iso(demo.at(16))),
           'location', jsonb_build_object('lat', round(o.lat::numeric, 5), 'lon', round(o.lon::numeric, 5)),
           'energySource', 'SOLAR', 'maxPowerKW', o.pv_kw,
           'credentialTypes', to_jsonb(o.credential_types),
           'attributes', jsonb_build_object('tradeType', 'P2P_FIXED_PRICE',
                                            'feeder', (SELECT f.era FROM demo.feeders f WHERE f.f = o.feeder)),
           'contract', demo.trade_template(o))::deg.energy_offer
  FROM demo.trade_offers o ORDER BY o.offer_id;
ANALYZE deg.offers;

-- buyers: homes without solar that want certified solar energy from their feeder
CREATE TABLE demo.trade_intents AS
SELECT h.h, h.era, h.meter,
       round((3 + 5 * demo.u('p2p-kwh', h.h))::numeric, 1) AS kwh,
       jsonb_build_object(
           'role', 'BUYER', 'quantityKWh', round((3 + 5 * demo.u('p2p-kwh', h.h))::numeric, 1),
           'window', jsonb_build_object('start', demo.iso(demo.at(11)), 'end', demo.iso(demo.at(15))),
           'maxPricePerKWh', 6.5, 'currency', 'INR', 'acceptedSources', jsonb_build_array('SOLAR'),
           'location', jsonb_build_object('lat', round(h.lat::numeric, 5), 'lon', round(h.lon::numeric, 5)),
           'radiusMeters', 800, 'requiredCredentials', jsonb_build_array('GreenEnergyCertificate'),
           'requiredAttributes', jsonb_build_object('tradeType', 'P2P_FIXED_PRICE',
                                                    'feeder', (SELECT f.era FROM demo.feeders f WHERE f.f = h.feeder))
       )::deg.energy_intent AS intent
  FROM demo.households h
 WHERE NOT h.solar AND NOT h.battery AND demo.u('p2p-buyer', h.h) < 0.06;

-- each buyer takes the best match; one transaction per trade, as buyers
-- come one by one (the trade's creation time orders first come, first served)
CREATE TABLE demo.trades AS
SELECT i.h, m.offer_id, NULL::text AS contract_id
  FROM demo.trade_intents i
  LEFT JOIN LATERAL (SELECT x.offer_id FROM deg.match(i.intent, 1) x) m ON true;
SELECT format($q$UPDATE demo.trades SET contract_id = deg.accept_offer(%L, %L, %L) WHERE h = %s$q$,
              t.offer_id, i.era, jsonb_build_object('targetMeterId', i.meter::text, 'contractedQuantity', i.kwh,
                                                    'tradeStartTime', demo.iso(demo.at(11)), 'tradeEndTime', demo.iso(demo.at(15))),
              t.h)
  FROM demo.trades t JOIN demo.trade_intents i USING (h)
 WHERE t.offer_id IS NOT NULL
 ORDER BY t.h \gexec
ALTER TABLE demo.trades ADD COLUMN seller text, ADD COLUMN buyer text;
UPDATE demo.trades d SET seller = o.era::text, buyer = i.era::text
  FROM demo.trade_offers o, demo.trade_intents i WHERE o.offer_id = d.offer_id AND i.h = d.h;

-- the utility joins each trade in turn, with the caps it enforces: what a
-- buyer and a seller may trade in a day, less what their trades already hold
DO $$
DECLARE
    t record;
    buyer_totals jsonb := '{}';
    seller_totals jsonb := '{}';
BEGIN
    FOR t IN SELECT d.contract_id, d.seller, d.buyer, i.kwh
               FROM demo.trades d JOIN demo.trade_intents i USING (h)
              WHERE d.contract_id IS NOT NULL
              ORDER BY d.h
    LOOP
        BEGIN
            INSERT INTO deg.role_claims (contract_id, role, participant, inputs)
            VALUES (t.contract_id, 'GRID_OPERATOR', 'discom.suryapur.example',
                    jsonb_build_object('wheelingCharges', 0.50, 'buyer_trade_cap', 10, 'seller_trade_cap', 20,
                                       'current_buyer_trades_total',
                                       jsonb_build_object(t.buyer, coalesce(buyer_totals->>t.buyer, '0')::numeric),
                                       'current_seller_trade_total',
                                       jsonb_build_object(t.seller, coalesce(seller_totals->>t.seller, '0')::numeric)));
            buyer_totals := buyer_totals || jsonb_build_object(t.buyer, coalesce(buyer_totals->>t.buyer, '0')::numeric + t.kwh);
            seller_totals := seller_totals || jsonb_build_object(t.seller, coalesce(seller_totals->>t.seller, '0')::numeric + t.kwh);
        EXCEPTION WHEN check_violation THEN
            INSERT INTO demo.refusals (stage, what, who, sqlstate, message)
            VALUES ('fixed-price trades', 'grid operator joins trade ' || t.contract_id, t.seller, '23514', SQLERRM);
        END;
    END LOOP;
END $$;

SELECT format('   %s sellers offer solar at a fixed price; %s neighbours look for it: %s trades, %s refused by the grid operator''s caps, %s found no offer',
              (SELECT count(*) FROM demo.trade_offers), (SELECT count(*) FROM demo.trade_intents),
              (SELECT count(*) FROM deg.p2p_trades WHERE status = 'ACTIVE'),
              (SELECT count(*) FROM demo.refusals WHERE stage = 'fixed-price trades'),
              (SELECT count(*) FROM demo.trades WHERE offer_id IS NULL));
