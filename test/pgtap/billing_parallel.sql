-- pgTAP: contracts evaluated on parallel workers (deg.contract_lines_of).  The
-- same billing statement gives the same lines whether the session evaluates
-- every contract itself, hands them all to workers, or some of each; no
-- workers to be had means the session does it all; an error in a worker
-- aborts the statement with the worker's error.
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;
SET TimeZone = 'UTC';

SELECT plan(17);

-- 300 contracts like the benchmark's (a meter, a time-of-use price), eight readings each but
-- every tenth contract, which has none; three contracts with a metric and a penalty
INSERT INTO deg.contracts (contract_id, body, status)
SELECT 'par-' || lpad(i::text, 4, '0'), (jsonb_build_object(
         '@type', 'EnergyContract', 'contractId', 'par-' || lpad(i::text, 4, '0'), 'status', 'ACTIVE',
         'createdAt', '2025-01-01T00:00:00Z',
         'roles', jsonb_build_array(
             jsonb_build_object('role', 'SELLER', 'filledBy', 'retail.utility.example.net', 'filled', true, 'roleInputs', '{}'::jsonb),
             jsonb_build_object('role', 'BUYER', 'filledBy', 'home-' || i || '.example.net', 'filled', true, 'roleInputs', '{}'::jsonb)),
         'inputParameters', jsonb_build_object('settlementInterval', 'PT15M', 'currency', (ARRAY['INR', 'JPY', 'KWD'])[1 + i % 3]),
         'inputSignals', jsonb_build_array(jsonb_build_object(
             'signalId', 'par-price', 'signalType', 'PRICE', 'unit', 'INR/kWh',
             'source', jsonb_build_object('era', 'tariffs.utility.example.net'))),
         'telemetrySources', jsonb_build_array(jsonb_build_object(
             'sourceId', 'meter', 'sourceType', 'METER_READING',
             'source', jsonb_build_object('era', 'par-meter-' || i || '.example.net'))),
         'revenueFlows', jsonb_build_object('flows', jsonb_build_array(jsonb_build_object(
             'from', 'BUYER', 'to', 'SELLER',
             'formula', 'inputSignals.par-price × telemetrySources.meter.importedKWh - telemetrySources.meter.exportedKWh / inputSignals.par-price',
             'description', 'energy charge less export, at the price'))))
       || CASE WHEN i % 100 = 7 THEN jsonb_build_object('qualityMetrics', jsonb_build_object('metrics', jsonb_build_array(
             jsonb_build_object('metricId', 'avgImport', 'unit', 'kWh', 'target', 0.9, 'formula', 'telemetrySources.meter.importedKWh',
                                'penalty', jsonb_build_object('appliedTo', 'SELLER',
                                                              'formula', 'max(0, 0.9 - telemetrySources.meter.importedKWh) × 2')))))
               ELSE '{}'::jsonb END)::deg.contract,
       'ACTIVE'
  FROM generate_series(1, 300) i;
INSERT INTO deg.signal_values (signal_id, valid, value)
SELECT 'par-price', tstzrange(t, t + interval '15 min'), 4.5 + q * 0.0625
  FROM generate_series(0, 7) q, LATERAL (SELECT timestamptz '2025-02-01' + q * interval '15 min' AS t) x;
INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh)
SELECT f.source_era, tstzrange(t, t + interval '15 min'),
       round(((split_part(f.contract_id, '-', 2)::int * 7919 + q * 104729) % 2000) / 1000.0, 3), (q % 3) * 0.125
  FROM deg.contract_feeds f, generate_series(0, 7) q,
       LATERAL (SELECT timestamptz '2025-02-01' + q * interval '15 min' AS t) x
 WHERE f.source_type = 'METER_READING' AND split_part(f.contract_id, '-', 2)::int % 10 <> 0;

SELECT deg.billing_sql('true') AS q_bill \gset
PREPARE bill(tstzrange) AS :q_bill;
SET max_parallel_workers_per_gather = 2;

-- every contract evaluated by the session
SET deg.parallel_evaluation_threshold = 1000000;
CREATE TEMP TABLE here_lines AS EXECUTE bill('[2025-02-01 00:00, 2025-02-01 02:00)');
SELECT is((SELECT row(contracts, on_workers, workers)::text FROM deg.last_contract_evaluation()), '(300,0,0)',
          'below the threshold the session evaluates every contract itself');
SELECT is((SELECT count(*) FROM here_lines), 306::bigint, 'one line per contract, and a metric and a penalty for three');
SELECT ok((SELECT count(*) FROM here_lines WHERE kind = 'penalty') = 3 AND (SELECT count(*) FROM here_lines WHERE kind = 'metric') = 3
          AND (SELECT count(*) FROM here_lines WHERE amount <> 0 AND kind = 'flow') = 270,
          'a flow owed by each contract with readings, three metrics and penalties');

-- every contract evaluated by workers
SET deg.parallel_evaluation_threshold = 0;
CREATE TEMP TABLE worker_lines AS EXECUTE bill('[2025-02-01 00:00, 2025-02-01 02:00)');
SELECT ok((SELECT contracts = 300 AND on_workers = 300 AND workers BETWEEN 1 AND 2 FROM deg.last_contract_evaluation()),
          'with threshold 0 workers evaluate every contract');
SELECT is_empty($$SELECT * FROM here_lines EXCEPT ALL SELECT * FROM worker_lines$$,
                'every line the session computed, the workers computed');
SELECT is_empty($$SELECT * FROM worker_lines EXCEPT ALL SELECT * FROM here_lines$$,
                'and nothing else');

-- some of each
SET deg.parallel_evaluation_threshold = 120;
CREATE TEMP TABLE mixed_lines AS EXECUTE bill('[2025-02-01 00:00, 2025-02-01 02:00)');
SELECT is((SELECT row(contracts, on_workers)::text FROM deg.last_contract_evaluation()), '(300,180)',
          'past the threshold the rest go to workers');
SELECT is_empty($$(SELECT * FROM here_lines EXCEPT ALL SELECT * FROM mixed_lines)
                  UNION ALL (SELECT * FROM mixed_lines EXCEPT ALL SELECT * FROM here_lines)$$,
                'the same lines');

-- no workers allowed: the session evaluates them
SET max_parallel_workers_per_gather = 0;
CREATE TEMP TABLE no_worker_lines AS EXECUTE bill('[2025-02-01 00:00, 2025-02-01 02:00)');
SELECT is((SELECT row(contracts, on_workers, workers)::text FROM deg.last_contract_evaluation()), '(300,0,0)',
          'with max_parallel_workers_per_gather = 0 the session evaluates them all');
SELECT is_empty($$(SELECT * FROM here_lines EXCEPT ALL SELECT * FROM no_worker_lines)
                  UNION ALL (SELECT * FROM no_worker_lines EXCEPT ALL SELECT * FROM here_lines)$$,
                'the same lines');
SET max_parallel_workers_per_gather = 2;

-- a settlement run through workers settles what contract_billing computes
SET deg.parallel_evaluation_threshold = 0;
SELECT is((SELECT entries_written FROM deg.settle('[2025-02-01 00:00, 2025-02-01 02:00)', force => true)),
          (SELECT count(*)::int FROM here_lines WHERE kind <> 'metric'),
          'a run through workers writes an entry per line');
SELECT ok((SELECT on_workers = 300 FROM deg.last_contract_evaluation()), 'the run''s contracts went to workers');
SELECT is_empty($$SELECT e.contract_id FROM deg.ledger e
                   JOIN LATERAL deg.contract_billing(e.contract_id, e.period) b ON b.kind = e.kind AND b.line = e.line
                  WHERE e.contract_id LIKE 'par-%' AND (b.amount, b.payer) IS DISTINCT FROM (e.amount, e.payer)$$,
                'each entry is the contract''s billing line');

-- an error while a worker evaluates: the statement fails with it, and the session goes on
UPDATE deg.signal_values SET value = 0 WHERE signal_id = 'par-price' AND lower(valid) = '2025-02-01 00:30';
SELECT throws_like($$CREATE TEMP TABLE failed_lines AS EXECUTE bill('[2025-02-01 00:00, 2025-02-01 02:00)')$$,
                   '%division by zero%', 'a division by zero in a worker fails the statement with that error');
SET deg.parallel_evaluation_threshold = 1000000;
SELECT throws_like($$CREATE TEMP TABLE failed_lines AS EXECUTE bill('[2025-02-01 00:00, 2025-02-01 02:00)')$$,
                   '%division by zero%', 'as it does in the session');
SELECT is((SELECT count(*) FROM deg.contract_lines(
              (SELECT body FROM deg.contracts WHERE contract_id = 'par-0001'), '[2025-02-01 00:00, 2025-02-01 00:15)')),
          1::bigint, 'the session evaluates contracts afterwards');

-- the threshold is a setting with a floor
SELECT throws_ok($$SET deg.parallel_evaluation_threshold = -1$$, '22023', NULL, 'a negative threshold is refused');

SELECT * FROM finish();
ROLLBACK;
