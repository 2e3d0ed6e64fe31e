-- Section 4 of the report: the market, hour by hour (deg.market_clearings, deg.market_setpoints)
\echo '-- 4. The P2P market: energy traded per hour and the clearing price (feeder markets, each cleared every 15 minutes)'
WITH c AS (
    SELECT floor(extract(epoch FROM lower(m.clearing_interval) - lower(demo.period())) / 3600)::int AS h, m.*
      FROM deg.market_clearings m WHERE m.clearing_interval <@ demo.period()),
p AS (
    SELECT floor(extract(epoch FROM lower(s.clearing_interval) - lower(demo.period())) / 3600)::int AS h,
           count(DISTINCT s.participant) FILTER (WHERE s.cleared_kw > 0) AS sellers,
           count(DISTINCT s.participant) FILTER (WHERE s.cleared_kw < 0) AS buyers
      FROM deg.market_setpoints s WHERE s.clearing_interval <@ demo.period() GROUP BY 1)
SELECT to_char(c.h, 'FM00') || ':00' AS hour,
       demo.kwh(sum(c.cleared_quantity_kw) * 0.25) AS "kWh traded",
       coalesce(to_char(sum(c.clearing_price * c.cleared_quantity_kw) / nullif(sum(c.cleared_quantity_kw), 0), 'FM990.00'), '-')
           AS "price INR/kWh",
       coalesce(to_char(min(c.clearing_price) FILTER (WHERE c.cleared_quantity_kw > 0), 'FM990.00') || ' - '
                || to_char(max(c.clearing_price) FILTER (WHERE c.cleared_quantity_kw > 0), 'FM990.00'), '-') AS "range over feeders",
       min(p.sellers) AS sellers, min(p.buyers) AS buyers,
       (SELECT to_char(v.value, 'FM990.00') FROM deg.signal_values v
         WHERE v.signal_id = 'retail-tou-price' AND v.valid @> demo.at(c.h)) AS "retail INR/kWh",
       count(*) AS clearings
  FROM c LEFT JOIN p USING (h)
 GROUP BY c.h ORDER BY c.h;
