-- pgbench script: one race.telemetry() transaction (test/race/setup.sql)
SELECT race.telemetry();
