-- Stage 4: the P2P market. Each feeder has its own pay-as-clear market,
-- run by the market clearing agent, with the utility as GRID_OPERATOR paid
-- wheeling on what is sold. The day is traded in blocks, hour by hour from
-- 06:00 to 21:00 and one block for the night (when nobody has energy to
-- sell). Half of the households with solar or a battery have a home energy
-- manager that trades for them: for each block it joins the household's
-- feeder's market contract for that block (a PROSUMER claim) with an offer
-- curve made from the household's forecast: sellers in the day, buyers in the
-- evening.
-- To join, it must present a grid interconnection approval for that feeder
-- from the utility. The agent then clears every quarter-hour of the day: 96
-- markets per feeder.
CALL demo.stage('4. P2P market: bids');

-- the trading blocks and their quarter-hours (the night block in two parts)
CREATE TABLE demo.blocks AS
SELECT h AS b, format('%s:00-%s:00', to_char(h, 'FM00'), to_char(h + 1, 'FM00')) AS name, 4 * h AS first_t, 4 * h + 3 AS last_t
  FROM generate_series(6, 20) h
UNION ALL
SELECT 0, 'night 21:00-06:00', first_t, last_t FROM (VALUES (0, 23), (84, 95)) n(first_t, last_t);

-- a household's position in a block: its average forecast net export (kW);
-- and the utility's prices (the signals its supply contract reads): the
-- lowest retail and highest feed-in price in force during the block
CREATE TABLE demo.bids AS
WITH pos AS (
    SELECT h.h, h.era, h.meter, h.feeder, h.solar, h.battery, bl.b,
           round(avg(p.forecast_kw), 3) AS kw
      FROM demo.households h
      JOIN demo.profiles p USING (h)
      JOIN demo.blocks bl ON p.t BETWEEN bl.first_t AND bl.last_t
     WHERE (h.solar OR h.battery) AND demo.u('energy-manager', h.h) < 0.5
     GROUP BY h.h, h.era, h.meter, h.feeder, h.solar, h.battery, bl.b),
prices AS (
    SELECT bl.b,
           min((SELECT v.value FROM deg.signal_values v WHERE v.signal_id = 'retail-tou-price' AND v.valid @> demo.at(t / 4.0))) AS retail,
           max((SELECT v.value FROM deg.signal_values v WHERE v.signal_id = 'feed-in-price' AND v.valid @> demo.at(t / 4.0))) AS feed_in
      FROM demo.blocks bl CROSS JOIN LATERAL generate_series(bl.first_t, bl.last_t) t
     GROUP BY bl.b)
SELECT pos.*,
       format('market-%s-%s', lpad(pos.feeder::text, 3, '0'),
              CASE WHEN pos.b = 0 THEN 'night' ELSE lpad(pos.b::text, 2, '0') || 'h' END) AS contract_id,
       CASE WHEN pos.kw > 0
            -- a seller: nothing below its reserve (the feed-in price plus the market fee and a
            -- margin), all of it 1.50 above
            THEN jsonb_build_object('currency', 'INR', 'minExport', 0, 'maxExport', pos.kw, 'curve', jsonb_build_array(
                     jsonb_build_object('price', round(pr.feed_in + 0.25 + 0.8 * demo.u('reserve', pos.h)::numeric, 2), 'powerKW', 0),
                     jsonb_build_object('price', round(pr.feed_in + 1.75 + 0.8 * demo.u('reserve', pos.h)::numeric, 2), 'powerKW', pos.kw)))
            -- a buyer: nothing unless it saves on the retail price after the market fee; all it
            -- needs 2.00 below that
            ELSE jsonb_build_object('currency', 'INR', 'minExport', pos.kw, 'maxExport', 0, 'curve', jsonb_build_array(
                     jsonb_build_object('price', round(pr.retail - 2.35 - 0.6 * demo.u('willing', pos.h)::numeric, 2), 'powerKW', pos.kw),
                     jsonb_build_object('price', round(pr.retail - 0.35 - 0.6 * demo.u('willing', pos.h)::numeric, 2), 'powerKW', 0)))
       END AS curve
  FROM pos JOIN prices pr USING (b)
 WHERE abs(pos.kw) >= 0.05;

-- the market contracts: one per feeder and trading block
INSERT INTO deg.contracts (contract_id, body, status)
SELECT m.contract_id, jsonb_build_object(
           '@type', 'EnergyContractP2PTrade',
           'contractId', m.contract_id, 'status', 'PENDING', 'createdAt', demo.iso(now()),
           'roles', jsonb_build_array(
               jsonb_build_object('role', 'MARKET_CLEARING_AGENT', 'filled', true, 'filledBy', 'market.suryapur.example',
                                  'roleInputs', jsonb_build_object('marketMakingFee', 0.25)),
               jsonb_build_object('role', 'PROSUMER', 'filled', false, 'filledBy', NULL,
                                  'roleInputs', jsonb_build_object(
                                      'sourceMeterId', jsonb_build_object('type', 'STRING', 'required', true, 'value', NULL),
                                      'sourceType', jsonb_build_object('type', 'STRING', 'required', true, 'value', NULL),
                                      'offerCurve', jsonb_build_object('type', 'OFFER_CURVE', 'required', true, 'value', NULL))),
               jsonb_build_object('role', 'GRID_OPERATOR', 'filled', true, 'filledBy', 'discom.suryapur.example',
                                  'roleInputs', jsonb_build_object('wheelingCharges', 0.40))),
           'inputParameters', jsonb_build_object(
               'currency', 'INR', 'timeZone', 'Asia/Kolkata', 'settlementInterval', 'PT15M', 'pricingModel', 'PAY_AS_CLEAR',
               'feeder', f.era, 'tradingBlock', (SELECT min(name) FROM demo.blocks bl WHERE bl.b = m.b)),
           'credentials', jsonb_build_object('requiredCredentials', jsonb_build_array(jsonb_build_object(
               'role', 'PROSUMER', 'credentialType', jsonb_build_array('VerifiableCredential', 'GridInterconnectionApproval'),
               'requiredClaims', jsonb_build_object('feeder', f.era),
               'issuerRestriction', jsonb_build_array('did:web:discom.suryapur.example')))),
           'revenueFlows', jsonb_build_object('netZero', true, 'flows', jsonb_build_array(
               jsonb_build_object('from', 'MARKET_CLEARING_AGENT', 'to', 'PROSUMER',
                   'description', 'energy at the clearing price, less the market fee (a buyer pays price + fee)',
                   'formula', 'roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice × roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] × intervalHours - roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee × abs(roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] × intervalHours)'),
               jsonb_build_object('from', 'MARKET_CLEARING_AGENT', 'to', 'GRID_OPERATOR',
                   'description', 'wheeling on the energy sold',
                   'formula', 'roles.GRID_OPERATOR.roleInputs.wheelingCharges × max(0, roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]) × intervalHours')))
       )::deg.contract, 'PENDING'
  FROM (SELECT DISTINCT contract_id, feeder, b FROM demo.bids) m
  JOIN demo.feeders f ON f.f = m.feeder
 ORDER BY m.contract_id;

-- the households join, presenting the approvals they hold; refusals are kept with their reason
DO $$
DECLARE
    x record;
BEGIN
    FOR x IN SELECT d.*, ARRAY(SELECT c.credential FROM deg.credentials c
                                WHERE c.subject = d.era AND c.types @> '{GridInterconnectionApproval}') AS creds
               FROM demo.bids d ORDER BY d.contract_id, d.h
    LOOP
        BEGIN
            INSERT INTO deg.role_claims (contract_id, role, participant, inputs, credentials)
            VALUES (x.contract_id, 'PROSUMER', x.era,
                    jsonb_build_object('sourceMeterId', x.meter::text,
                                       'sourceType', CASE WHEN x.kw < 0 THEN 'CONSUMER' WHEN x.solar THEN 'SOLAR' ELSE 'BATTERY' END,
                                       'offerCurve', x.curve),
                    x.creds);
        EXCEPTION WHEN invalid_authorization_specification THEN
            INSERT INTO demo.refusals (stage, what, who, sqlstate, message)
            VALUES ('market', 'PROSUMER claim of ' || x.contract_id, x.era::text, '28000', SQLERRM);
        END;
    END LOOP;
END $$;

-- the clearing agent clears every quarter-hour of every feeder's market
CALL demo.stage('4b. market clearing');
CREATE TABLE demo.clearings AS
SELECT m.contract_id, m.feeder, t.t, deg.clear_contract(m.contract_id, tstzrange(demo.at(t.t / 4.0), demo.at((t.t + 1) / 4.0))) AS result
  FROM (SELECT DISTINCT d.contract_id, d.feeder, d.b FROM demo.bids d
          JOIN deg.contracts c ON c.contract_id = d.contract_id AND c.status = 'ACTIVE') m
  JOIN demo.blocks bl ON bl.b = m.b
 CROSS JOIN LATERAL generate_series(bl.first_t, bl.last_t) t
 ORDER BY m.contract_id, t.t;

SELECT format('   %s market contracts (%s feeders x %s trading blocks: each hour from 06:00 to 21:00, and the night): %s PROSUMER seats taken, %s claims refused; %s clearings, %s kWh traded',
              (SELECT count(DISTINCT contract_id) FROM demo.bids), (SELECT count(*) FROM demo.feeders),
              (SELECT count(DISTINCT b) FROM demo.blocks),
              (SELECT count(*) FROM deg.role_claims WHERE role = 'PROSUMER'),
              (SELECT count(*) FROM demo.refusals WHERE stage = 'market'),
              (SELECT count(*) FROM demo.clearings),
              (SELECT round(sum((result ->> 'clearingQuantityKW')::numeric) * 0.25) FROM demo.clearings));
