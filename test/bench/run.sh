#!/usr/bin/env bash
# test/bench/run.sh: every benchmark, run by `make bench` inside a throwaway
# cluster (test/cluster.sh).  Each test/bench/*.sql measures deg and its
# baseline in the same run, on the same data, prints both and the ratio, and
# records a row in bench_results; the summary table comes last.
#
# A baseline written in C (test/bench/NAME.c) is compiled first into a scratch
# folder; every benchmark gets psql variables :NAME (the program's path) and
# :bench_tmp (the scratch folder, for files handed to those programs).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS deg_bench' -c 'CREATE DATABASE deg_bench' 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d deg_bench -f "$here/common.sql"
only=${BENCH:-}

tmp=${DEG_CLUSTER_DIR:-}
if [ -n "$tmp" ]; then
	tmp=$tmp/bench
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/deg-bench.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
fi
vars=(-v "bench_tmp=$tmp")
for c in "$here"/*.c; do
	[ -e "$c" ] || continue
	name=$(basename "$c" .c)
	# a program that measures deg's own C core is built with it
	core=()
	if grep -q '#include "core/' "$c"; then core=(-I"$here/../../src" "$here"/../../src/core/*.c -lz); fi
	gcc -std=c99 -O2 -Wall -Wextra -Werror -o "$tmp/$name.bin" "$c" "${core[@]}" -lsodium -lm
	vars+=(-v "$name=$tmp/$name.bin")
done

for f in "$here"/[0-9]*.sql; do
	name=$(basename "$f" .sql)
	if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then continue; fi
	echo "== benchmark $name"
	psql -X -q -v ON_ERROR_STOP=1 "${vars[@]}" -d deg_bench -f "$f"
	echo
done
echo "== summary"
psql -X -q -d deg_bench -c "SELECT benchmark, deg_figure AS deg, baseline_figure AS baseline, ratio, goal,
       CASE WHEN met THEN 'yes' ELSE 'NO' END AS met
  FROM bench_results ORDER BY id"
