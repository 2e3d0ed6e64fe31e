#!/usr/bin/env bash
# test/demo/run.sh: the main job, run by `make demo` inside a throwaway cluster
# (test/cluster.sh sets PGHOST and PGPORT).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'DROP DATABASE IF EXISTS deg_demo' -c 'CREATE DATABASE deg_demo' 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d deg_demo -f "$here/demo.sql"
