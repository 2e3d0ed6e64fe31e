-- pgbench script: one race.accept() transaction (test/race/setup.sql); when there is nothing
-- to take for now, wait a little instead of spinning
SELECT race.accept() AS idle \gset
\if :idle
\sleep 20 ms
\endif
