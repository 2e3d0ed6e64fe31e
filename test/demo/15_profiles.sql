-- Stage 1 (continued): each household's day, quarter-hour by quarter-hour:
-- the forecast it bids in the market with, and what its meter will measure.
--
-- Sun from 06:00 to 18:45 with clouds passing early in the afternoon; loads
-- with a morning and a large evening peak. Batteries beside solar store the
-- midday surplus and cover the evening; batteries without solar charge at
-- midday and sell at the evening peak.

CREATE FUNCTION demo.bump(x double precision, centre double precision, width double precision)
RETURNS double precision LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN exp(-least(((x - centre) / width) ^ 2, 100));

CREATE TABLE demo.profiles AS
WITH base AS MATERIALIZED (
    SELECT h.h, t, (t + 0.5::float8) / 4 AS hr, h.solar, h.battery, h.batt_kwh::float8 AS batt_kwh,
           round(h.batt_kwh / 2.7, 1)::float8 AS batt_kw,
           coalesce(h.pv_kw, 0)::float8 * 0.8 * greatest(0, sin(pi() * ((t + 0.5::float8) / 4 - 6.0) / 12.75)) ^ 1.2
               * (1 - 0.45 * demo.bump((t + 0.5::float8) / 4, 13.6, 0.9) - 0.25 * demo.bump((t + 0.5::float8) / 4, 16.1, 0.6)) AS pv,
           h.base_kw::float8 * (0.55 + 0.9 * demo.bump((t + 0.5::float8) / 4, 7.5, 1.1) + 0.45 * demo.bump((t + 0.5::float8) / 4, 13.5, 1.8)
                        + 2.1 * demo.bump((t + 0.5::float8) / 4, 20.3, 1.7) + 0.3 * demo.u('load-shape', h.h)) AS load
      FROM demo.households h, generate_series(0, 95) t),
want AS MATERIALIZED (
    -- what the battery would like to do: charge (+) or discharge (-), kW
    SELECT b.*,
           CASE WHEN NOT b.battery THEN 0
                WHEN b.solar AND b.hr BETWEEN 9 AND 16 THEN least(b.batt_kw, greatest(0, b.pv - b.load))
                WHEN b.solar AND b.hr >= 17 THEN -least(b.batt_kw, greatest(0, b.load - b.pv))
                WHEN NOT b.solar AND b.hr BETWEEN 10.5 AND 15 THEN 0.6 * b.batt_kw
                WHEN NOT b.solar AND b.hr BETWEEN 18 AND 23 THEN -b.batt_kw
                ELSE 0 END AS want
      FROM base b),
capped AS (
    -- within what it holds: up to 90 % of its capacity stored, and back
    SELECT w.*,
           CASE WHEN w.want > 0
                THEN greatest(0, least(w.want, (0.9 * w.batt_kwh - (sum(greatest(w.want, 0)) OVER early - greatest(w.want, 0)) * 0.25) / 0.25))
                ELSE 0 END AS charge_kw
      FROM want w
    WINDOW early AS (PARTITION BY w.h ORDER BY w.t ROWS UNBOUNDED PRECEDING)),
stored AS (
    SELECT c.*, sum(c.charge_kw) OVER (PARTITION BY c.h) * 0.25 + 0.1 * coalesce(c.batt_kwh, 0) AS stored_kwh
      FROM capped c),
discharged AS (
    SELECT s.*,
           CASE WHEN s.want < 0
                THEN greatest(0, least(-s.want, (s.stored_kwh - (sum(greatest(-s.want, 0)) OVER early - greatest(-s.want, 0)) * 0.25) / 0.25))
                ELSE 0 END AS discharge_kw
      FROM stored s
    WINDOW early AS (PARTITION BY s.h ORDER BY s.t ROWS UNBOUNDED PRECEDING))
SELECT d.h, d.t::smallint AS t,
       round(d.pv::numeric, 3) AS pv_kw, round(d.load::numeric, 3) AS load_kw,
       round((d.charge_kw - d.discharge_kw)::numeric, 3) AS battery_kw,
       -- the forecast net export (kW): what the household bids with
       round((d.pv - d.load - d.charge_kw + d.discharge_kw)::numeric, 3) AS forecast_kw,
       -- what actually happened: the forecast with load and sun a little off
       round((d.pv * (1 + 0.06 * demo.n('pv-err', d.h * 96 + d.t)) - d.load * (1 + 0.10 * demo.n('load-err', d.h * 96 + d.t))
              - d.charge_kw + d.discharge_kw)::numeric, 3) AS actual_kw
  FROM discharged d;
ALTER TABLE demo.profiles ADD PRIMARY KEY (h, t);
