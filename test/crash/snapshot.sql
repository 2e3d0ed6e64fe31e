-- what the interrupted database and the undisturbed one must agree on, row by row (test/crash/run.sh).
-- Ids drawn from sequences (entry, run, claim and event ids) and timestamps may differ after a
-- crash: rows are numbered in id order instead, and a reference to another row (an adjustment's
-- entry, an entry's run, an event's claim) is given as that row's number.
\pset footer off
\pset tuples_only on
\pset format unaligned
WITH runs AS (SELECT run_id, row_number() OVER (ORDER BY run_id) AS n, r.* FROM deg.settlement_runs r)
SELECT 'run', n, period, contract_ids, contracts, lines, entries_written, adjustments, totals, skipped, finished_at IS NOT NULL
  FROM runs ORDER BY n;

WITH runs AS (SELECT run_id, row_number() OVER (ORDER BY run_id) AS n FROM deg.settlement_runs),
entries AS (SELECT row_number() OVER (ORDER BY entry_id) AS n, l.* FROM deg.ledger l)
SELECT 'entry', e.n, r.n AS run, e.contract_id, e.period, e.kind, e.line, e.participant, e.from_role, e.to_role,
       e.payer_role, e.payer, e.payee_role, e.payee, e.amount, e.signed_amount, e.currency, e.quantity,
       a.n AS adjusts, e.prev_digest IS NULL AS first_of_contract
  FROM entries e
  JOIN runs r ON r.run_id = e.run_id
  LEFT JOIN entries a ON a.entry_id = e.adjusts
 ORDER BY e.n;

WITH runs AS (SELECT run_id, row_number() OVER (ORDER BY run_id) AS n FROM deg.settlement_runs)
SELECT 'quality', q.contract_id, q.period, q.metric, q.value, q.target_min, q.target_max, q.met, q.intervals,
       q.valued_intervals, r.n AS run
  FROM deg.quality_results q JOIN runs r ON r.run_id = q.run_id
 ORDER BY q.contract_id, q.period, q.metric;

SELECT 'allocation', a.contract_id, a.meter, a.allocation_interval, a.allocated_kwh
  FROM deg.trade_allocations a ORDER BY a.contract_id, a.allocation_interval;

SELECT 'contract', c.contract_id, c.status, c.body::text FROM deg.contracts c ORDER BY c.contract_id;

WITH claims AS (SELECT row_number() OVER (ORDER BY claim_id) AS n, c.* FROM deg.role_claims c)
SELECT 'claim', c.n, c.contract_id, c.role, c.participant, c.inputs, c.claimed_by FROM claims c ORDER BY c.n;

WITH claims AS (SELECT row_number() OVER (ORDER BY claim_id) AS n, claim_id FROM deg.role_claims)
SELECT 'event', row_number() OVER (ORDER BY e.event_id), e.contract_id, e.event, e.role, e.participant,
       e.from_status, e.to_status, c.n AS claim, e.claim_id IS NOT NULL AND c.n IS NULL AS claim_missing
  FROM deg.contract_events e LEFT JOIN claims c ON c.claim_id = e.claim_id
 ORDER BY e.event_id;

SELECT 'broken chain', v.contract_id, v.entry_id, v.problem FROM deg.ledger_verify() v;
