-- pgbench script: one race.rotate_offer() transaction (test/race/setup.sql)
SELECT race.rotate_offer();
