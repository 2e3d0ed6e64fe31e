-- Stage 6: the day's meter readings arrive, quarter-hour by quarter-hour,
-- for every smart meter. Some do not arrive in time: the data concentrator of
-- one feeder was offline from 10:00 to 16:00 (its readings come in a day
-- late), and 1 % of the other readings straggle in. They are held back here
-- and arrive after the first settlement run.
CALL demo.stage('6. meter readings');

-- the feeder whose concentrator failed: the one with the most fixed-price trades
CREATE TABLE demo.outage AS
SELECT f.f AS feeder, f.era, demo.at(10) AS from_t, demo.at(16) AS to_t
  FROM demo.feeders f
 ORDER BY (SELECT count(*) FROM demo.trades d JOIN demo.households h ON h.era::text = d.seller
            WHERE h.feeder = f.f AND d.contract_id IS NOT NULL) DESC, f.f
 LIMIT 1;

CREATE TABLE demo.readings AS
SELECT h.meter, tstzrange(demo.at(p.t / 4.0), demo.at((p.t + 1) / 4.0)) AS reading_interval,
       round(greatest(-p.actual_kw, 0) * 0.25, 3) AS imported_kwh,
       round(greatest(p.actual_kw, 0) * 0.25, 3) AS exported_kwh,
       (h.feeder = o.feeder AND p.t >= 40 AND p.t < 64) OR demo.u('reading-late', p.h * 96 + p.t) < 0.01 AS late
  FROM demo.profiles p JOIN demo.households h USING (h) CROSS JOIN demo.outage o;

INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh, received_at)
SELECT meter, reading_interval, imported_kwh, exported_kwh, upper(reading_interval) + interval '5 minutes'
  FROM demo.readings WHERE NOT late
 ORDER BY meter, reading_interval;
ANALYZE deg.meter_readings;

SELECT format('   %s readings from %s meters in; %s to come late (feeder %s offline 10:00-16:00, and stragglers)',
              count(*) FILTER (WHERE NOT late), count(DISTINCT meter), count(*) FILTER (WHERE late),
              (SELECT era FROM demo.outage))
  FROM demo.readings;
