-- Section 4 of the report: the market, hour by hour (deg.market_clearings, deg.market_setpoints)
\echo '-- 4. The P2P market: energy traded per hour and the clearing price (feeder markets, each cleared every 15 minutes)'
SELECT to_char(h.h, 'FM00') || ':00' AS hour,
       demo.kwh(sum(c.cleared_quantity_kw) * 0.25) AS "kWh traded",
       coalesce(to_char(sum(c.clearing_price * c.cleared_quantity_kw) / nullif(sum(c.cleared_quantity_kw), 0), 'FM990.00'), '-')
           AS "price INR/kWh",
       coalesce(to_char(min(c.clearing_price) FILTER (WHERE c.cleared_quantity_kw > 0), 'FM990.00') || ' - '
                || to_char(max(c.clearing_price) FILTER (WHERE c.cleared_quantity_kw > 0), 'FM990.00'), '-') AS "range over feeders",
       (SELECT count(DISTINCT s.participant) FROM deg.market_setpoints s
         WHERE s.clearing_interval <@ tstzrange(demo.at(h.h), demo.at(h.h + 1)) AND s.cleared_kw > 0) AS sellers,
       (SELECT count(DISTINCT s.participant) FROM deg.market_setpoints s
         WHERE s.clearing_interval <@ tstzrange(demo.at(h.h), demo.at(h.h + 1)) AND s.cleared_kw < 0) AS buyers,
       (SELECT to_char(v.value, 'FM990.00') FROM deg.signal_values v
         WHERE v.signal_id = 'retail-tou-price' AND v.valid @> demo.at(h.h)) AS "retail INR/kWh",
       count(*) AS clearings
  FROM generate_series(0, 23) h(h)
  JOIN deg.market_clearings c ON c.clearing_interval <@ tstzrange(demo.at(h.h), demo.at(h.h + 1))
 GROUP BY h.h ORDER BY h.h;
