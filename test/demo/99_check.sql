-- The demo checks what it claims, and fails (an ERROR, so make demo exits
-- non-zero) when a claim does not hold. Each check reads deg's tables and
-- views, not the generator's picture of the city, except to know what to expect.

CREATE TEMP TABLE demo_checks (n serial, claim text NOT NULL, ok boolean NOT NULL, detail text);

INSERT INTO demo_checks (claim, ok, detail)
-- the city: every generated party and device is registered, with the right kind
SELECT 'every household, meter, EVSE, driver and car is registered',
       count(*) = 0, count(*) || ' missing'
  FROM (SELECT era FROM demo.households UNION ALL SELECT meter FROM demo.households
        UNION ALL SELECT era FROM demo.evses UNION ALL SELECT era FROM demo.drivers UNION ALL SELECT car FROM demo.drivers) g
 WHERE NOT EXISTS (SELECT 1 FROM deg.resources r WHERE r.era = g.era)
UNION ALL
-- trust: every credential planned as expired, revoked or from the untrusted issuer is refused, and only those
SELECT 'the verifier refuses exactly the credentials that were meant to fail',
       count(*) = 0, count(*) || ' credentials judged otherwise'
  FROM demo.credential_plan p
  JOIN demo.credential_status s ON s.subject = p.subject AND s.type = p.type
 WHERE s.valid <> (p.fate = 'valid' AND p.issuer <> 'installers')
UNION ALL
-- claims refused: only households without a valid approval for their feeder
SELECT 'market claims are refused only for households without a valid grid interconnection approval',
       count(*) = 0, count(*) || ' refusals of households with a valid approval'
  FROM demo.refusals r
 WHERE r.stage = 'market'
   AND EXISTS (SELECT 1 FROM demo.credential_status s
                WHERE s.subject::text = r.who AND s.type = 'GridInterconnectionApproval' AND s.valid)
UNION ALL
SELECT 'no household without a valid approval took a market seat',
       count(*) = 0, count(*) || ' seats taken without one'
  FROM deg.role_claims c
 WHERE c.role = 'PROSUMER'
   AND NOT EXISTS (SELECT 1 FROM demo.credential_status s
                    WHERE s.subject = c.participant AND s.type = 'GridInterconnectionApproval' AND s.valid)
UNION ALL
-- intents: every driver either has a contract or a reason
SELECT 'every EV intent is matched or explained',
       (SELECT count(*) FROM demo.ev_contracts) + (SELECT count(*) FROM demo.unmatched) = count(*),
       count(*) || ' intents'
  FROM demo.intents
UNION ALL
-- the market: 96 quarter-hours cleared for every feeder with a market
SELECT 'the market cleared every quarter-hour of the day on every feeder',
       count(*) = 96 * (SELECT count(DISTINCT feeder) FROM demo.bids), count(*) || ' clearings'
  FROM deg.market_clearings m JOIN deg.contracts c USING (contract_id)
 WHERE m.clearing_interval <@ demo.period()
UNION ALL
-- settlement: run 1 settled every started contract; run 2 wrote only adjustments; run 3 nothing
SELECT 'the first run settled every started contract',
       r.contracts = (SELECT count(*) FROM deg.contracts WHERE status <> 'PENDING') AND r.adjustments = 0
       AND jsonb_array_length(r.skipped) = 0,
       format('%s contracts, %s adjustments, %s skipped', r.contracts, r.adjustments, jsonb_array_length(r.skipped))
  FROM demo.runs r WHERE r.n = 1
UNION ALL
SELECT 'the run after the late data wrote only adjustments',
       r.entries_written > 0 AND r.entries_written = r.adjustments,
       format('%s entries, %s adjustments', r.entries_written, r.adjustments)
  FROM demo.runs r WHERE r.n = 2
UNION ALL
SELECT 'a run with nothing new wrote nothing',
       r.entries_written = 0, format('%s entries', r.entries_written)
  FROM demo.runs r WHERE r.n = 3
UNION ALL
-- every adjustment points at the first entry of its own line
SELECT 'every adjustment adjusts the first entry of its line',
       count(*) = 0, count(*) || ' do not'
  FROM deg.ledger a JOIN deg.ledger f ON f.entry_id = a.adjusts
 WHERE (f.contract_id, f.period, f.kind, f.line) IS DISTINCT FROM (a.contract_id, a.period, a.kind, a.line)
    OR f.adjusts IS NOT NULL
UNION ALL
SELECT 'the ledger''s digest chains verify', count(*) = 0, count(*) || ' entries fail'
  FROM deg.ledger_verify()
UNION ALL
-- the money adds up: per currency, received - paid = 0
SELECT 'received - paid = 0.00 in ' || currency, sum(received) - sum(paid) = 0,
       to_char(sum(received) - sum(paid), 'FM9990.00')
  FROM deg.net_positions WHERE period = demo.period() GROUP BY currency
UNION ALL
-- the late meter readings changed the supply bills of the feeder that was offline
SELECT 'the late readings were settled: the offline feeder''s households were adjusted',
       count(DISTINCT l.contract_id) > 0, count(DISTINCT l.contract_id) || ' supply contracts adjusted'
  FROM deg.ledger l
  JOIN demo.households h ON l.contract_id = 'supply-' || split_part(h.era::text, '@', 1)
 WHERE l.adjusts IS NOT NULL AND h.feeder = (SELECT feeder FROM demo.outage);

SELECT format('== %s checks: %s', count(*),
              CASE WHEN bool_and(ok) THEN 'all hold'
                   ELSE 'FAILED: ' || string_agg(format('%s (%s)', claim, detail), '; ') FILTER (WHERE NOT ok) END) AS result,
       bool_and(ok) AS all_ok
  FROM demo_checks \gset
\echo :result
\if :all_ok
\else
DO $$ BEGIN RAISE EXCEPTION 'the demo''s checks failed'; END $$;
\endif
