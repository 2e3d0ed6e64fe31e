-- The chart of the day's market: energy traded per quarter-hour (bars, all
-- feeders) and the clearing price (the volume-weighted average over the
-- feeders' markets, with their range as a band), beside the utility's retail
-- price. An SVG written by one SQL query.

CREATE TABLE demo.chart_data AS
WITH c AS (
    SELECT (extract(epoch FROM lower(m.clearing_interval) - lower(demo.period())) / 900)::int AS t,
           m.clearing_price AS price, m.cleared_quantity_kw AS kw
      FROM deg.market_clearings m
     WHERE m.clearing_interval <@ demo.period())
SELECT t.t,
       coalesce(sum(c.kw) * 0.25, 0) AS kwh,
       sum(c.price * c.kw) / nullif(sum(c.kw), 0) AS price,
       min(c.price) FILTER (WHERE c.kw > 0) AS pmin, max(c.price) FILTER (WHERE c.kw > 0) AS pmax,
       (SELECT s.value FROM deg.signal_values s
         WHERE s.signal_id = 'retail-tou-price' AND s.valid @> demo.at(t.t / 4.0)) AS retail
  FROM generate_series(0, 95) t(t) LEFT JOIN c USING (t)
 GROUP BY t.t;

\set svgfile :outdir '/suryapur-market.svg'
\pset tuples_only on
\pset format unaligned
\o :svgfile
WITH d AS (SELECT * FROM demo.chart_data),
s AS (SELECT greatest(ceil(max(greatest(pmax, retail)) / 2) * 2, 2) AS pmax,
             greatest((ceil(max(kwh) / power(10, floor(log(greatest(max(kwh), 1))))) * power(10, floor(log(greatest(max(kwh), 1)))))::numeric, 1) AS kmax
        FROM d),
g AS (SELECT 70 AS x0, 900 AS x1, 70 AS y0, 400 AS y1),                         -- plot area
px AS (
    SELECT d.*, g.x0 + (g.x1 - g.x0) * d.t / 96.0 AS x, (g.x1 - g.x0) / 96.0 AS w,
           g.y1 - (g.y1 - g.y0) * d.kwh / s.kmax AS ky,
           g.y1 - (g.y1 - g.y0) * d.price / s.pmax AS py,
           g.y1 - (g.y1 - g.y0) * d.pmin / s.pmax AS pminy,
           g.y1 - (g.y1 - g.y0) * d.pmax / s.pmax AS pmaxy,
           g.y1 - (g.y1 - g.y0) * d.retail / s.pmax AS ry
      FROM d, s, g)
SELECT concat_ws(E'\n',
  '<svg xmlns="http://www.w3.org/2000/svg" width="960" height="460" viewBox="0 0 960 460" font-family="sans-serif" font-size="12">',
  '<rect width="960" height="460" fill="white"/>',
  format('<text x="480" y="24" text-anchor="middle" font-size="15" font-weight="bold">Suryapur P2P market, %s: %s, each cleared every 15 minutes</text>',
         (SELECT day FROM demo.params),
         (SELECT CASE count(DISTINCT feeder) WHEN 1 THEN 'one feeder market' ELSE count(DISTINCT feeder) || ' feeder markets' END
            FROM demo.clearings)),
  '<text x="480" y="42" text-anchor="middle" fill="#555">bars: energy traded per quarter-hour, kWh (right axis); line: clearing price, volume-weighted over the feeders,</text>',
  '<text x="480" y="56" text-anchor="middle" fill="#555">band: its range over the feeders; dashed: the utility''s retail price, INR/kWh (left axis)</text>',
  -- grid and axes
  (SELECT string_agg(format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#ddd"/><text x="%s" y="%s" text-anchor="end">%s</text><text x="%s" y="%s">%s</text>',
                            g.x0, round(y, 1), g.x1, round(y, 1), g.x0 - 6, round(y + 4, 1), to_char(s.pmax * k / 4, 'FM990.0'),
                            g.x1 + 6, round(y + 4, 1), regexp_replace(to_char(s.kmax * k / 4, 'FM999,990.9'), '\.0?$', '')), '')
     FROM g, s, LATERAL (SELECT k, g.y1 - (g.y1 - g.y0) * k / 4.0 AS y FROM generate_series(0, 4) k) yk),
  (SELECT string_agg(format('<line x1="%s" y1="%s" x2="%s" y2="%s" stroke="#999"/><text x="%s" y="%s" text-anchor="middle">%s:00</text>',
                            round(x, 1), g.y1, round(x, 1), g.y1 + 5, round(x, 1), g.y1 + 20, lpad(h::text, 2, '0')), '')
     FROM g, LATERAL (SELECT h, g.x0 + (g.x1 - g.x0) * h / 24.0 AS x FROM generate_series(0, 24, 3) h) hx),
  format('<text x="20" y="%s" transform="rotate(-90 20 %s)" text-anchor="middle">clearing price, INR/kWh</text>', 230, 230),
  format('<text x="945" y="%s" transform="rotate(90 945 %s)" text-anchor="middle">energy traded, kWh per quarter-hour</text>', 230, 230),
  format('<text x="485" y="%s" text-anchor="middle">time of day (%s)</text>', 445, (SELECT tz FROM demo.params)),
  -- volumes
  (SELECT string_agg(format('<rect x="%s" y="%s" width="%s" height="%s" fill="#8fb8de"/>',
                            round(x + 0.5, 1), round(ky, 1), round(w - 1, 1), round(g.y1 - ky, 1)), '' ORDER BY t)
     FROM px, g WHERE kwh > 0),
  -- where energy was traded: the price range over the feeders (band) and the volume-weighted price (line)
  (SELECT string_agg(format('<rect x="%s" y="%s" width="%s" height="%s" fill="#f4b183" fill-opacity="0.5"/>',
                            round(x, 1), round(pmaxy - 1, 1), round(w, 1), round(pminy - pmaxy + 2, 1)), '' ORDER BY t)
     FROM px WHERE kwh > 0),
  (SELECT format('<path d="%s" fill="none" stroke="#c55a11" stroke-width="2.5"/>',
                 string_agg(format('M%s,%s H%s', round(x, 1), round(py, 1), round(x + w, 1)), ' ' ORDER BY t))
     FROM px WHERE kwh > 0),
  (SELECT format('<polyline points="%s" fill="none" stroke="#555" stroke-width="1.5" stroke-dasharray="5,4"/>',
                 string_agg(format('%s,%s %s,%s', round(x, 1), round(ry, 1), round(x + w, 1), round(ry, 1)), ' ' ORDER BY t))
     FROM px WHERE retail IS NOT NULL),
  '<rect x="70" y="70" width="830" height="330" fill="none" stroke="#999"/>',
  '</svg>');
\o
\pset tuples_only off
\pset format aligned
\echo '-- The chart of the day''s clearing prices and volumes:' :svgfile
\echo
