#!/usr/bin/env bash
# test/demo/run.sh: the main job, run by `make demo` inside a throwaway cluster
# (test/cluster.sh sets PGHOST and PGPORT).
#   SCALE  multiplies the city (default 1: 2,000 households, 60 EVSEs, 500 drivers;
#          a fraction makes it smaller: 0.05 is one feeder of 100 households)
#   SEED   the generator's seed (default deg); the same seed gives the same day
#   DAY    the settlement day (default 2025-06-21), in the city's time zone Asia/Kolkata
#   OUT    where the chart is written (default test/demo/out)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scale=${SCALE:-1}
seed=${SEED:-deg}
day=${DAY:-2025-06-21}
out=${OUT:-$here/out}
if ! [[ $scale =~ ^[0-9]*\.?[0-9]+$ ]] || ! [[ $scale =~ [1-9] ]]; then
	echo "SCALE must be a positive number (1, 2, 0.05), not '$scale'" >&2; exit 2
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'SET client_min_messages = warning' -c 'DROP DATABASE IF EXISTS deg_demo' -c 'CREATE DATABASE deg_demo' >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d deg_demo -v scale="$scale" -v seed="$seed" -v day="$day" -v tz=Asia/Kolkata \
	-v outdir="$out" -f "$here/demo.sql"
