-- Stage 7: the day is settled: every started contract's lines computed from
-- its telemetry and signals, written to the append-only ledger.
CALL demo.stage('7. settlement');

CREATE TABLE demo.runs AS
SELECT 1 AS n, 'the day' AS what, r.* FROM deg.settle(demo.period()) r;
ANALYZE deg.ledger;

SELECT format('   run %s: %s contracts, %s lines, %s ledger entries written, %s adjustments',
              run_id, contracts, lines, entries_written, adjustments)
  FROM demo.runs WHERE n = 1;

-- Stage 8: the late readings and CDRs arrive; the second run writes only the
-- differences, as adjustments linked to the entries they correct; a third
-- run with nothing new writes nothing.
CALL demo.stage('8. late data and re-runs');

INSERT INTO deg.meter_readings (meter, reading_interval, imported_kwh, exported_kwh, received_at)
SELECT meter, reading_interval, imported_kwh, exported_kwh, upper(demo.period()) + interval '9 hours'
  FROM demo.readings WHERE late
 ORDER BY meter, reading_interval;
INSERT INTO deg.charge_data_records (session_id, evse, start_time, end_time, energy_kwh, cdr, received_at)
SELECT *, upper(demo.period()) + interval '9 hours' FROM demo.cdr_rows(true);

INSERT INTO demo.runs SELECT 2, 'late data', r.* FROM deg.settle(demo.period()) r;
INSERT INTO demo.runs SELECT 3, 'nothing new', r.* FROM deg.settle(demo.period()) r;

SELECT format('   run %s (%s): %s ledger entries written, %s adjustments', run_id, what, entries_written, adjustments)
  FROM demo.runs WHERE n > 1 ORDER BY n;
