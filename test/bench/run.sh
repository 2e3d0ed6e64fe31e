#!/usr/bin/env bash
# test/bench/run.sh: every benchmark, run by `make bench` inside a throwaway
# cluster (test/cluster.sh).  Each test/bench/*.sql measures deg and its
# baseline in the same run, on the same data, prints both and the ratio, and
# records a row in bench_results; the summary table comes last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS deg_bench' -c 'CREATE DATABASE deg_bench' 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d deg_bench -f "$here/common.sql"
only=${BENCH:-}
for f in "$here"/[0-9]*.sql; do
	name=$(basename "$f" .sql)
	if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then continue; fi
	echo "== benchmark $name"
	psql -X -q -v ON_ERROR_STOP=1 -d deg_bench -f "$f"
	echo
done
echo "== summary"
psql -X -q -d deg_bench -c "SELECT benchmark, deg_figure AS deg, baseline_figure AS baseline, ratio, goal,
       CASE WHEN met THEN 'yes' ELSE 'NO' END AS met
  FROM bench_results ORDER BY id"
