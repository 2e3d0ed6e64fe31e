-- Stage 9: the report a back office and an analyst look at after the day:
-- plain SQL over deg's tables and views.
CALL demo.stage('9. report');

CREATE FUNCTION demo.inr(x numeric) RETURNS text LANGUAGE sql IMMUTABLE
RETURN to_char(x, 'FM999,999,999,990.00');
CREATE FUNCTION demo.kwh(x numeric) RETURNS text LANGUAGE sql IMMUTABLE
RETURN to_char(x, 'FM999,999,999,990.0');

SELECT format(E'\n== Report: %s, the settlement day %s (%s), SCALE=%s\n', 'Suryapur', day, tz, scale) FROM demo.params;
\pset tuples_only off
\pset format aligned
\pset border 1

\echo '-- 1. Resources per kind (deg.resources): every party and device has an ERA; devices are local ERAs under their owner'
SELECT r.kind, count(*) AS resources,
       count(*) FILTER (WHERE deg.era_scope(r.era) = 'local') AS "local ERAs",
       string_agg(DISTINCT deg.era_kind(r.era), ', ') AS "ERA forms",
       coalesce(demo.kwh(sum(r.capacity_kw)), '') AS "capacity kW",
       coalesce(demo.kwh(sum(r.energy_capacity_kwh)), '') AS "storage kWh"
  FROM deg.resources r GROUP BY r.kind ORDER BY r.kind;

\echo '-- 2. Credentials: what the city''s verifier says about each (deg.credential_check)'
SELECT s.type AS credential, s.issuer, count(*) AS issued, count(*) FILTER (WHERE s.valid) AS valid,
       count(*) FILTER (WHERE s.reason LIKE 'expired%') AS expired,
       count(*) FILTER (WHERE s.reason = 'revoked') AS revoked,
       count(*) FILTER (WHERE s.reason LIKE '%not trusted') AS "issuer not trusted"
  FROM demo.credential_status s GROUP BY 1, 2 ORDER BY 1, 2;

\echo '-- ... and the claims and trades refused, and why (the role-claim trigger, SQLSTATE 28000; the trade caps, 23514)'
SELECT r.stage, demo.reason(r.message) AS reason, r.sqlstate, count(*) AS refused, count(DISTINCT r.who) AS participants
  FROM demo.refusals r GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2;

\echo '-- 3. Intents: who found an offer (deg.match), and for those who did not, what failed against the closest offer'
SELECT 'EV charging' AS intents, count(*) AS intents,
       (SELECT count(*) FROM demo.ev_contracts) AS matched,
       (SELECT count(*) FROM demo.unmatched) AS unmatched,
       coalesce((SELECT string_agg(format('%s %s', n, failing), ', ' ORDER BY n DESC, failing)
                   FROM (SELECT failing, count(*) AS n FROM demo.unmatched GROUP BY 1) x), '') AS "unmatched because"
  FROM demo.intents
UNION ALL
SELECT 'P2P solar from a neighbour', count(*),
       (SELECT count(*) FROM demo.trades WHERE offer_id IS NOT NULL),
       (SELECT count(*) FROM demo.trades WHERE offer_id IS NULL),
       ''
  FROM demo.trade_intents;

\echo '-- ... the charging sessions by operator and pricing, as settled (deg.ledger)'
SELECT c.name AS operator, CASE WHEN o.tariff_name IS NULL THEN 'per kWh' ELSE 'OCPI tariff ' || o.tariff_name END AS pricing,
       count(DISTINCT e.contract_id) AS sessions, demo.kwh(sum(s.energy_kwh)) AS kwh,
       demo.inr(sum(l.energy)) AS "billed INR", round(sum(l.energy) / sum(s.energy_kwh), 2) AS "INR per kWh",
       demo.inr(sum(l.penalty)) AS "penalties INR",
       count(*) FILTER (WHERE round(l.energy / s.energy_kwh, 2) > (i.intent::jsonb ->> 'maxPricePerKWh')::numeric)
           AS "paid above the driver's limit"
  FROM demo.ev_contracts e
  JOIN demo.intents i USING (d)
  JOIN demo.evse_offers o USING (offer_id)
  JOIN demo.cpos c ON c.code = o.cpo
  JOIN demo.sessions s USING (contract_id)
  JOIN (SELECT contract_id, sum(signed_amount) FILTER (WHERE kind = 'flow') AS energy,
               coalesce(sum(signed_amount) FILTER (WHERE kind = 'penalty'), 0) AS penalty
          FROM deg.ledger GROUP BY 1) l USING (contract_id)
 GROUP BY 1, 2 ORDER BY 1, 2;

\ir 91_report_market.sql

\echo '-- 5. Money per flow type and currency (deg.contract_ledger: each line''s amount after its adjustments)'
CREATE TEMP TABLE report_kinds AS
SELECT c.contract_id,
       CASE deg.contract_kind(c.body) WHEN 'generic' THEN 'supply' WHEN 'ev_charging' THEN 'EV charging'
            WHEN 'p2p_fixed_price' THEN 'P2P fixed price' WHEN 'p2p_market' THEN 'P2P market' END AS contracts
  FROM deg.contracts c WHERE c.status <> 'PENDING';
-- the flows' descriptions, from one contract of each kind
CREATE TEMP TABLE report_flows AS
SELECT k.contracts, f.n::text AS line, f.flow ->> 'description' AS description
  FROM (SELECT DISTINCT ON (contracts) contracts, contract_id FROM report_kinds ORDER BY contracts, contract_id) k
  JOIN deg.contracts c USING (contract_id)
 CROSS JOIN LATERAL jsonb_array_elements(deg.contract_jsonb(c.body) -> 'revenueFlows' -> 'flows') WITH ORDINALITY f(flow, n);
WITH lines AS (
    SELECT DISTINCT ON (l.contract_id, l.kind, l.line, l.participant)
           l.contract_id, l.kind, l.line, l.currency, l.line_amount_after, l.line_quantity_after, l.from_role, l.to_role
      FROM deg.contract_ledger l
     WHERE l.period = demo.period()
     ORDER BY l.contract_id, l.kind, l.line, l.participant, l.entry_id DESC)
SELECT k.contracts, CASE WHEN l.kind = 'penalty' THEN 'penalty: ' || l.line ELSE f.description END AS "flow",
       l.from_role || ' -> ' || l.to_role AS "from -> to", l.currency, count(*) AS lines,
       CASE WHEN l.kind = 'penalty' THEN ''
            WHEN k.contracts = 'P2P market' THEN (SELECT demo.kwh(sum(CASE WHEN l.line = '1' THEN abs(m.cleared_kw) ELSE greatest(m.cleared_kw, 0) END) * 0.25)
                                                   FROM deg.market_setpoints m WHERE m.clearing_interval <@ demo.period())
            ELSE demo.kwh(sum(l.line_quantity_after)) END AS kwh,
       demo.inr(sum(abs(l.line_amount_after))) AS "amount",
       demo.inr(sum(l.line_amount_after)) AS "net from -> to"
  FROM lines l
  JOIN report_kinds k USING (contract_id)
  LEFT JOIN report_flows f ON f.contracts = k.contracts AND f.line = l.line AND l.kind = 'flow'
 GROUP BY k.contracts, 2, 3, 4, l.kind, l.line ORDER BY k.contracts, 2;

\echo '-- 6. Top participants by net position (deg.net_positions)'
(SELECT 'receives most' AS " ", participant, demo.inr(received) AS "received INR", demo.inr(paid) AS "paid INR",
        demo.inr(net) AS "net INR"
   FROM deg.net_positions WHERE period = demo.period() AND currency = 'INR' ORDER BY net DESC, participant LIMIT 5)
UNION ALL
(SELECT 'pays most', participant, demo.inr(received), demo.inr(paid), demo.inr(net)
   FROM deg.net_positions WHERE period = demo.period() AND currency = 'INR' ORDER BY net, participant LIMIT 5);

\echo '-- 7. Quality: charging power against the offer''s target (deg.quality_report), trades: metered delivery (deg.allocate_trades) vs contract'
SELECT 'EV average charging power' AS metric, count(*) AS contracts,
       round(avg(q.value), 1) || ' kW' AS average, count(*) FILTER (WHERE q.met) AS met,
       count(*) FILTER (WHERE NOT q.met) AS missed,
       demo.inr(sum(q.penalty)) || ' ' || min(q.currency) AS penalties
  FROM deg.quality_report q WHERE q.period = demo.period() AND q.metric = 'averageChargingPower'
UNION ALL
SELECT 'P2P trades: delivered / contracted kWh', count(*),
       demo.kwh(sum(d.delivered)) || ' / ' || demo.kwh(sum(d.contracted)),
       count(*) FILTER (WHERE d.delivered >= d.contracted), count(*) FILTER (WHERE d.delivered < d.contracted), ''
  FROM (SELECT t.contract_id, i.kwh AS contracted,
               (SELECT coalesce(sum(l.quantity), 0) FROM deg.ledger l
                 WHERE l.contract_id = t.contract_id AND l.kind = 'flow' AND l.line = '1') AS delivered
          FROM demo.trades t JOIN demo.trade_intents i USING (h) JOIN deg.contracts c USING (contract_id)
         WHERE c.status = 'ACTIVE') d;

\echo '-- 8. Settlement runs (deg.settlement_runs) and the ledger''s digest chains (deg.ledger_verify)'
SELECT r.run_id AS run, r.what AS "data", r.contracts, r.lines, r.entries_written AS "entries written", r.adjustments,
       demo.inr((r.totals -> 'INR' ->> 'amount')::numeric) AS "lines total INR",
       round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 1) AS seconds
  FROM demo.runs r ORDER BY r.n;
SELECT count(*) AS "ledger entries", count(*) FILTER (WHERE adjusts IS NOT NULL) AS adjustments,
       count(DISTINCT contract_id) AS contracts, (SELECT count(*) FROM deg.ledger_verify()) AS "entries failing verification"
  FROM deg.ledger;

\echo '-- 9. Net zero: per currency, what participants received minus what they paid'
SELECT currency, demo.inr(sum(received)) AS received, demo.inr(sum(paid)) AS paid,
       to_char(sum(received) - sum(paid), 'FM9990.00') AS "received - paid"
  FROM deg.net_positions WHERE period = demo.period() GROUP BY currency ORDER BY currency;

\ir 95_chart.sql

\echo '-- 10. Time per stage'
SELECT stage, to_char(extract(epoch FROM lead(started, 1, clock_timestamp()) OVER (ORDER BY n) - started), 'FM990.0') || ' s' AS "time"
  FROM demo.stages
UNION ALL
SELECT 'total', to_char(extract(epoch FROM clock_timestamp() - min(started)), 'FM990.0') || ' s' FROM demo.stages;
