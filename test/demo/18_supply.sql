-- Stage 1 (continued): every household is a customer of the utility. Its
-- supply contract bills what its smart meter imports at the time-of-day
-- retail price and pays what it exports at the feed-in price; both prices are
-- input signals the utility publishes (deg.signal_values).

INSERT INTO deg.signal_values (signal_id, valid, value)
SELECT 'retail-tou-price', tstzrange(demo.at(a), demo.at(b)), price
  FROM (VALUES (0, 6, 5.50), (6, 10, 7.00), (10, 17, 6.00), (17, 22, 8.50), (22, 24, 6.50)) p(a, b, price)
UNION ALL
SELECT 'feed-in-price', tstzrange(demo.at(0), NULL), 3.00;

INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'supply-' || split_part(h.era::text, '@', 1), jsonb_build_object(
           'contractId', 'supply-' || split_part(h.era::text, '@', 1), 'status', 'ACTIVE',
           'createdAt', '2024-04-01T00:00:00+05:30',
           'roles', jsonb_build_array(
               jsonb_build_object('role', 'SELLER', 'filled', true, 'filledBy', 'discom.suryapur.example',
                                  'roleInputs', jsonb_build_object('tariffClass', 'LT-2 residential')),
               jsonb_build_object('role', 'BUYER', 'filled', true, 'filledBy', h.era,
                                  'roleInputs', jsonb_build_object('meterId', h.meter))),
           'inputParameters', jsonb_build_object('currency', 'INR', 'settlementInterval', 'PT1H',
                                                 'timeZone', 'Asia/Kolkata', 'billingCycle', 'daily'),
           'inputSignals', jsonb_build_array(
               jsonb_build_object('signalId', 'retail-tou-price', 'signalType', 'PRICE',
                                  'source', jsonb_build_object('era', 'discom.suryapur.example')),
               jsonb_build_object('signalId', 'feed-in-price', 'signalType', 'PRICE',
                                  'source', jsonb_build_object('era', 'discom.suryapur.example'))),
           'telemetrySources', jsonb_build_array(jsonb_build_object(
               'sourceId', 'meter', 'sourceType', 'METER_READING', 'source', jsonb_build_object('era', h.meter),
               'fields', jsonb_build_array('importedKWh', 'exportedKWh'))),
           'revenueFlows', jsonb_build_object('netZero', true, 'flows', jsonb_build_array(
               jsonb_build_object('from', 'BUYER', 'to', 'SELLER', 'description', 'energy imported',
                                  'formula', 'inputSignals.retail-tou-price × telemetrySources.meter.importedKWh'),
               jsonb_build_object('from', 'SELLER', 'to', 'BUYER', 'description', 'energy exported (feed-in)',
                                  'formula', 'inputSignals.feed-in-price × telemetrySources.meter.exportedKWh'))))::deg.contract,
       'ACTIVE'
  FROM demo.households h
 ORDER BY h.h;

SELECT format('   each household''s day profiled (%s quarter-hours); %s supply contracts with the utility',
              (SELECT count(*) FROM demo.profiles), (SELECT count(*) FROM deg.contracts WHERE contract_id LIKE 'supply-%'));
