-- pgTAP: a market contract end to end: PROSUMERs claim with offer curves, the clearing agent
-- clears four quarter hours (the grid operator's caps bound the curves), and the hour settles
-- through the ledger with the fee and wheeling flows of DESIGN.md section 7
BEGIN;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS deg;
SET search_path = deg, public;

SELECT plan(14);

INSERT INTO deg.contracts (contract_id, body, status) VALUES ('market-1', '{
  "contractId": "market-1", "status": "PENDING", "createdAt": "2025-03-01T00:00:00Z",
  "inputParameters": {"currency": "USD", "settlementInterval": "PT15M"},
  "roles": [
    {"role": "MARKET_CLEARING_AGENT", "filled": true, "filledBy": "mca.example.com", "roleInputs": {"marketMakingFee": 0.01}},
    {"role": "GRID_OPERATOR", "filled": true, "filledBy": "grid.example.com",
     "roleInputs": {"wheelingCharges": 0.025, "seller_trade_cap": {"solar-a.example.com": 1}}},
    {"role": "PROSUMER", "filled": false, "filledBy": null,
     "roleInputs": {"offerCurve": {"type": "OFFER_CURVE", "required": true, "value": null}}}],
  "revenueFlows": {"flows": [
    {"from": "MARKET_CLEARING_AGENT", "to": "PROSUMER", "description": "a seller is paid price - fee, a buyer pays price + fee",
     "formula": "roles.MARKET_CLEARING_AGENT.roleInputs.clearingPrice × roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] × intervalHours - roles.MARKET_CLEARING_AGENT.roleInputs.marketMakingFee × abs(roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era] × intervalHours)"},
    {"from": "MARKET_CLEARING_AGENT", "to": "GRID_OPERATOR", "description": "wheeling on the energy sold",
     "formula": "roles.GRID_OPERATOR.roleInputs.wheelingCharges × max(0, roles.MARKET_CLEARING_AGENT.roleInputs.clearedPower[PROSUMER.era]) × intervalHours"}]}
}', 'PENDING');

-- three households claim seats with their curves: two sell, one buys
INSERT INTO deg.role_claims (contract_id, role, participant, inputs) VALUES
  ('market-1', 'PROSUMER', 'solar-a.example.com', '{"offerCurve": {"currency": "USD", "minExport": 0, "maxExport": 10,
       "curve": [{"price": 0.05, "powerKW": 0}, {"price": 0.10, "powerKW": 10}]}}'),
  ('market-1', 'PROSUMER', 'solar-b.example.com', '{"offerCurve": {"currency": "USD", "minExport": 0, "maxExport": 6,
       "curve": [{"price": 0.04, "powerKW": 0}, {"price": 0.08, "powerKW": 6}]}}'),
  ('market-1', 'PROSUMER', 'home-c.example.com', '{"offerCurve": {"currency": "USD", "minExport": -12, "maxExport": 0,
       "curve": [{"price": 0.06, "powerKW": -12}, {"price": 0.12, "powerKW": 0}]}}');
SELECT is((SELECT status FROM deg.contracts WHERE contract_id = 'market-1'), 'ACTIVE',
          'the market is ACTIVE once PROSUMERs have joined');

CREATE TEMP TABLE clearings AS
SELECT q, deg.clear_contract('market-1', tstzrange(t, t + interval '15 minutes')) AS result
  FROM generate_series(0, 3) q, LATERAL (SELECT '2025-03-01 10:00+00'::timestamptz + q * interval '15 minutes' AS t) x;
SELECT is((SELECT count(*)::int FROM deg.market_clearings WHERE contract_id = 'market-1'), 4, 'four clearings are kept');
SELECT is((SELECT count(*)::int FROM deg.market_setpoints WHERE contract_id = 'market-1'), 12, 'with a setpoint per PROSUMER each');
SELECT is_empty($$SELECT clearing_interval FROM deg.market_setpoints GROUP BY clearing_interval HAVING sum(cleared_kw) <> 0$$,
                'each clearing balances exactly');
-- solar-a may sell 1 kWh per quarter hour (cap 1 kWh): 4 kW at most
SELECT is((SELECT max(cleared_kw) FROM deg.market_setpoints WHERE participant = 'solar-a.example.com'), 4::numeric,
          'the grid operator''s cap bounds solar-a at 1 kWh / 0.25 h = 4 kW');
SELECT ok((SELECT bool_and(m.clearing_price = (c.result->>'clearingPrice')::numeric) FROM deg.market_clearings m
             JOIN clearings c ON m.clearing_interval = tstzrange((c.result#>>'{interval,start}')::timestamptz,
                                                               (c.result#>>'{interval,end}')::timestamptz)),
          'the stored price is the result''s clearingPrice');
SELECT is((SELECT result#>>'{explanation,rule}' FROM clearings WHERE q = 0), 'crossing', 'the market clears where supply meets demand');
-- re-clearing an interval replaces it
SELECT lives_ok($$SELECT deg.clear_contract('market-1', '[2025-03-01 10:00+00, 2025-03-01 10:15+00)')$$, 're-clearing an interval');
SELECT is((SELECT count(*)::int FROM deg.market_setpoints WHERE contract_id = 'market-1'), 12, 'replaces its setpoints');

-- the hour settles: each PROSUMER's line is the sum of its four quarter hours, rounded once
CREATE TEMP TABLE expected AS
SELECT s.participant,
       deg.round_half_even(sum(m.clearing_price * s.cleared_kw * 0.25 - 0.01 * abs(s.cleared_kw * 0.25)), 2) AS energy,
       deg.round_half_even(sum(0.025 * greatest(0, s.cleared_kw) * 0.25), 2) AS wheeling
  FROM deg.market_setpoints s JOIN deg.market_clearings m USING (contract_id, clearing_interval)
 WHERE s.contract_id = 'market-1' GROUP BY s.participant;
SELECT is((SELECT entries_written FROM deg.settle('[2025-03-01 10:00+00, 2025-03-01 11:00+00)', ARRAY['market-1'])), 6,
          'the settlement writes a price line and a wheeling line per PROSUMER');
SELECT results_eq($$SELECT l.participant::text, l.line, l.signed_amount FROM deg.ledger l
                     WHERE l.contract_id = 'market-1' ORDER BY 1, 2$$,
                  $$SELECT participant::text, x.line, x.amount FROM expected,
                           LATERAL (VALUES ('1', energy), ('2', wheeling)) x(line, amount) ORDER BY 1, 2$$,
                  'every line is the clearing''s price, power, hours, fee and wheeling, summed and rounded once');
SELECT ok((SELECT bool_and(CASE WHEN l.line = '1' AND l.signed_amount < 0 THEN l.payer = l.participant AND l.payee::text = 'mca.example.com'
                                WHEN l.line = '1' THEN l.payee = l.participant AND l.payer::text = 'mca.example.com'
                                ELSE l.payer::text = 'mca.example.com' AND l.payee::text = 'grid.example.com' END)
             FROM deg.ledger l WHERE l.contract_id = 'market-1' AND l.signed_amount <> 0),
          'the buyer pays the clearing agent, sellers are paid, the agent pays wheeling');
SELECT is((SELECT net FROM deg.net_positions WHERE participant = 'mca.example.com'
             AND period = '[2025-03-01 10:00+00, 2025-03-01 11:00+00)'),
          (SELECT sum(energy) * -1 - sum(wheeling) FROM expected),
          'the clearing agent keeps the fees less the wheeling it pays');
SELECT is_empty($$SELECT currency FROM deg.net_positions GROUP BY currency, period HAVING sum(net) <> 0$$,
                'and the hour is net-zero');

SELECT * FROM finish();
ROLLBACK;
