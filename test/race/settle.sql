-- pgbench script: one race.settle() transaction (test/race/setup.sql)
SELECT race.settle();
