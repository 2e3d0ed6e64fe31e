-- test/race/checks.sql: what must hold after the race, one row per check:
--   check | violations | detail
-- run.sh fails when any row has violations <> 0.  What a line should cost is computed here
-- from the readings and race's own contract numbering, not read back from deg.
\pset format unaligned
\pset tuples_only on
\pset fieldsep '|'
SET search_path = public, deg;

-- money rounding written out independently of deg: half to even
CREATE FUNCTION pg_temp.half_even(x numeric, places integer) RETURNS numeric LANGUAGE sql IMMUTABLE AS $$
    SELECT sign(x) * (CASE WHEN frac > 0.5 THEN whole + 1
                           WHEN frac < 0.5 THEN whole
                           ELSE whole + mod(whole, 2) END) / 10::numeric ^ places
      FROM (SELECT floor(abs(x) * 10::numeric ^ places) AS whole,
                   abs(x) * 10::numeric ^ places - floor(abs(x) * 10::numeric ^ places) AS frac) s
$$;

-- the BUYER contracts (the claimed pool and the accepted offers), numbered as race.buyer_contract numbers them
CREATE TEMP TABLE buyer_contracts AS
SELECT c.contract_id, c.status, n,
       format('meter-%s.race.example.com', n % cfg.meters)::deg.era AS meter,
       format('seller-%s.race.example.com', n % 5)::deg.era AS seller,
       (SELECT rc.participant FROM deg.role_claims rc WHERE rc.contract_id = c.contract_id AND rc.role = 'BUYER'
         ORDER BY rc.claim_id LIMIT 1) AS buyer,
       p.price, p.currency, cur.minor_unit
  FROM deg.contracts c
 CROSS JOIN race.config cfg
 CROSS JOIN LATERAL (SELECT substring(c.contract_id FROM '^(?:pool-|accepted-)0*(\d+)')::integer AS n) num
  JOIN race.currency_prices p ON p.k = n % 3
  JOIN deg.currencies cur ON cur.code = p.currency
 WHERE c.contract_id LIKE 'pool-%' OR c.contract_id LIKE 'accepted-%';

-- what every started BUYER contract owes for every day of the week: price x the day's net energy
CREATE TEMP TABLE expected_lines AS
SELECT b.contract_id, tstzrange(d, d + interval '1 day') AS period, b.buyer, b.seller, b.currency,
       pg_temp.half_even(b.price * coalesce((SELECT sum(r.imported_kwh - r.exported_kwh) FROM deg.meter_readings r
                                              WHERE r.meter = b.meter AND lower(r.reading_interval) >= d
                                                AND lower(r.reading_interval) < d + interval '1 day'), 0),
                         b.minor_unit) AS signed_amount
  FROM buyer_contracts b
 CROSS JOIN race.config cfg
 CROSS JOIN LATERAL generate_series(cfg.first_day, cfg.first_day + (cfg.days - 1) * interval '1 day', interval '1 day') d
 WHERE b.status <> 'PENDING';

-- ---------- roles ----------

SELECT 'claims: a role filled twice', count(*), string_agg(contract_id || ' ' || role, ', ')
  FROM (SELECT contract_id, role FROM deg.role_claims WHERE role <> 'PROSUMER'
         GROUP BY 1, 2 HAVING count(*) > 1) x;

SELECT 'claims: a participant seated twice in a market', count(*), string_agg(contract_id || ' ' || participant::text, ', ')
  FROM (SELECT contract_id, participant FROM deg.role_claims WHERE role = 'PROSUMER'
         GROUP BY 1, 2 HAVING count(*) > 1) x;

-- the claimed seats and the contract bodies say the same (the pre-filled seats aside)
SELECT 'claims: bodies and claims disagree', count(*), string_agg(coalesce(s.contract_id, k.contract_id), ', ')
  FROM (SELECT c.contract_id, p.role, p.participant
          FROM deg.contracts c CROSS JOIN LATERAL deg.contract_participants(c.body) p
         WHERE p.role IN ('BUYER', 'PROSUMER')) s
  FULL JOIN deg.role_claims k ON k.contract_id = s.contract_id AND k.role = s.role AND k.participant = s.participant
 WHERE s.contract_id IS NULL OR k.contract_id IS NULL;

SELECT 'claims: fills not recorded exactly once in contract_events', count(*), string_agg(k.claim_id::text, ', ')
  FROM deg.role_claims k
 WHERE (SELECT count(*) FROM deg.contract_events e WHERE e.claim_id = k.claim_id AND e.event = 'filled') <> 1;

SELECT 'claims: a pool contract whose status does not follow its BUYER', count(*), string_agg(contract_id, ', ')
  FROM buyer_contracts WHERE (buyer IS NULL) <> (status = 'PENDING') OR status NOT IN ('PENDING', 'ACTIVE');

-- every claim and acceptance a client saw succeed is there, and nothing else
SELECT 'claims: successes reported and claims stored differ', abs(reported - stored),
       format('%s reported, %s stored', reported, stored)
  FROM (SELECT (SELECT count(*) FROM race.outcomes WHERE script IN ('claim buyer', 'claim prosumer') AND outcome = 'ok') AS reported,
               (SELECT count(*) FROM deg.role_claims WHERE contract_id LIKE 'pool-%' OR contract_id LIKE 'market-%') AS stored) x;

SELECT 'accept: acceptances reported and contracts stored differ', abs(reported - stored) + abs(stored - claimed),
       format('%s reported, %s contracts, %s claims', reported, stored, claimed)
  FROM (SELECT (SELECT count(*) FROM race.outcomes WHERE script = 'accept' AND outcome = 'ok') AS reported,
               (SELECT count(*) FROM deg.contracts WHERE offer_id IS NOT NULL AND status = 'ACTIVE') AS stored,
               (SELECT count(*) FROM deg.role_claims WHERE contract_id LIKE 'accepted-%') AS claimed) x;

SELECT 'accept: a contract made from an offer after its withdrawal', count(*),
       string_agg(format('%s at %s, withdrawn at %s', c.contract_id, c.created_at, o.withdrawn_at), ', ')
  FROM deg.contracts c JOIN deg.offers o ON o.offer_id = c.offer_id
 WHERE c.created_at >= o.withdrawn_at;

-- ---------- the ledger ----------

-- a line (contract, period, kind, line, participant) has one original entry; the rest adjust it
SELECT 'ledger: a line with other than one original entry, or an adjustment of another entry', count(*),
       string_agg(format('%s %s %s line %s entry %s', contract_id, period, kind, line, entry_id), ', ')
  FROM (SELECT l.*, min(l.entry_id) OVER k AS first_entry, count(*) FILTER (WHERE l.adjusts IS NULL) OVER k AS originals
          FROM deg.ledger l
        WINDOW k AS (PARTITION BY l.contract_id, l.period, l.kind, l.line, l.participant)) x
 WHERE originals <> 1 OR (adjusts IS NULL AND entry_id <> first_entry) OR (adjusts IS NOT NULL AND adjusts <> first_entry);

SELECT 'ledger: a contract settled over overlapping periods', count(*), string_agg(DISTINCT a.contract_id, ', ')
  FROM (SELECT DISTINCT contract_id, period FROM deg.ledger) a
  JOIN (SELECT DISTINCT contract_id, period FROM deg.ledger) b ON a.contract_id = b.contract_id AND a.period <> b.period
 WHERE a.period && b.period;

-- every quarter hour billed once: each day's line, net of its adjustments, is what that day's readings owe
SELECT 'ledger: a day billed other than once (line total <> price x its readings)', count(*),
       string_agg(format('%s %s: ledger %s, readings %s', coalesce(e.contract_id, l.contract_id),
                         lower(coalesce(e.period, l.period)), l.total, e.signed_amount), '; ')
  FROM expected_lines e
  FULL JOIN (SELECT contract_id, period, sum(signed_amount) AS total FROM deg.ledger
              WHERE contract_id LIKE 'pool-%' OR contract_id LIKE 'accepted-%'
              GROUP BY 1, 2) l ON l.contract_id = e.contract_id AND l.period = e.period
 WHERE l.total IS DISTINCT FROM e.signed_amount;

SELECT 'ledger: an entry of a contract nobody started', count(*), string_agg(DISTINCT l.contract_id, ', ')
  FROM deg.ledger l JOIN deg.contracts c ON c.contract_id = l.contract_id WHERE c.status = 'PENDING';

SELECT 'ledger: the digest chain is broken', count(*), string_agg(format('%s entry %s: %s', contract_id, entry_id, problem), '; ')
  FROM deg.ledger_verify();

-- paid = received, per currency and per settled period
SELECT 'ledger: paid <> received in a currency', count(*), string_agg(format('%s %s: paid %s, received %s', period, currency, paid, received), '; ')
  FROM (SELECT period, currency, sum(paid) AS paid, sum(received) AS received FROM deg.net_positions GROUP BY 1, 2) x
 WHERE paid <> received;

-- and each participant's position is what its lines say: sellers receive, buyers pay (or the reverse)
SELECT 'ledger: a participant''s net position is not what its readings owe', count(*),
       string_agg(format('%s %s: ledger %s, readings %s', participant, currency, net, expected), '; ')
  FROM (SELECT coalesce(n.participant, e.participant) AS participant, coalesce(n.currency, e.currency) AS currency,
               coalesce(n.net, 0) AS net, coalesce(e.net, 0) AS expected
          FROM (SELECT participant, currency, sum(net) AS net FROM deg.net_positions GROUP BY 1, 2) n
          FULL JOIN (SELECT participant, currency, sum(net) AS net
                       FROM (SELECT seller AS participant, currency, signed_amount AS net FROM expected_lines
                             UNION ALL
                             SELECT buyer, currency, -signed_amount FROM expected_lines) x
                      GROUP BY 1, 2) e ON e.participant = n.participant AND e.currency = n.currency) y
 WHERE net <> expected;

SELECT 'runs: a run that did not finish or skipped a contract', count(*), string_agg(run_id::text, ', ')
  FROM deg.settlement_runs WHERE finished_at IS NULL OR skipped <> '[]';
