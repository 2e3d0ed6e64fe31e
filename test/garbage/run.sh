#!/usr/bin/env bash
# test/garbage/run.sh: garbage through SQL (issue 9, item 2; see garbage.sql).
#
# Feeds every input function, receive function, cast and JSON/text/bytes
# taking function of deg (found in the catalog) with mutated examples, and
# checks that each call gives an allowed error or a value that reads back,
# and that the server never went down. Runs inside test/cluster.sh (needs
# PGHOST, PGPORT, PGUSER; DEG_CLUSTER_DIR for the server log).
#
#   GARBAGE_ROUNDS        mutated inputs per target in the UTF-8 database (default 20)
#   GARBAGE_ASCII_ROUNDS  the same in a SQL_ASCII database, where text input
#                         functions can be sent invalid UTF-8 (default GARBAGE_ROUNDS / 3)
#   GARBAGE_SEED          the random seed (default 1); a run is repeatable
#   GARBAGE_SLOW_MS       a call slower than this fails (default 10000)
#   GARBAGE_CONSUMERS     how many of the functions taking a type each accepted value
#                         is then given to (default 3)
#   GARBAGE_SELFTEST=1    adds a call that kills its backend: the run must report it
#
# A longer run: test/cluster.sh env GARBAGE_ROUNDS=400 test/garbage/run.sh
set -uo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${GARBAGE_ROUNDS:-20}
ascii_rounds=${GARBAGE_ASCII_ROUNDS:-$(( rounds / 3 ))}
seed=${GARBAGE_SEED:-1}
slow_ms=${GARBAGE_SLOW_MS:-10000}
consumers=${GARBAGE_CONSUMERS:-3}
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning -c garbage.slow_ms=$slow_ms -c garbage.consumers_per_value=$consumers"

q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }

wait_ready() {
	for _ in $(seq 1 120); do
		q -d postgres -c 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	echo "garbage: the server did not come back" >&2
	return 1
}

server_log_tail() {
	if [ -n "${DEG_CLUSTER_DIR:-}" ] && [ -f "$DEG_CLUSTER_DIR/server.log" ]; then
		tail -n 12 "$DEG_CLUSTER_DIR/server.log" | sed 's/^/     log /'
	fi
}

harvest() {
	perl "$here/test/garbage/harvest.pl" \
		$(ls "$here"/sql/*.sql | grep -v -- '--') "$here"/test/pgtap/*.sql "$here"/test/dump/*.sql \
		$(find "$here/test/reference" "$here/test/vectors" -name '*.json' | sort)
}

# runs the cases; a call that ends the session is found by running its batch
# again one committed case at a time, and recorded as a crash (or a hang)
run_cases() {
	local db=$1 last next err
	err=$(mktemp)
	last=$(q -d "$db" -c 'SELECT COALESCE(max(id), 0) FROM garbage.cases')
	while :; do
		next=$(q -d "$db" -c 'SELECT COALESCE(max(case_id), 0) + 1 FROM garbage.results')
		[ "$next" -gt "$last" ] && break
		q -d "$db" -c "CALL garbage.run($next, 100)" 2>"$err" && continue
		wait_ready || return 1
		next=$(q -d "$db" -c 'SELECT COALESCE(max(case_id), 0) + 1 FROM garbage.results')
		if q -d "$db" -c "CALL garbage.run($next, 1, 100)" 2>>"$err"; then
			echo "garbage: a batch from case $next failed but not case by case:" >&2
			sed 's/^/     /' "$err" >&2
			continue
		fi
		wait_ready || return 1
		culprit=$(q -d "$db" -v err="$(tr '\n' ' ' <"$err" | cut -c1-900)" <<-'EOF'
			INSERT INTO garbage.results (case_id, outcome, message)
			SELECT min(s.case_id), CASE WHEN :'err' LIKE '%statement timeout%' THEN 'slow' ELSE 'crash' END, :'err'
			  FROM garbage.started s LEFT JOIN garbage.results r USING (case_id) WHERE r.case_id IS NULL
			HAVING min(s.case_id) IS NOT NULL
			RETURNING case_id;
		EOF
		)
		if [ -z "$culprit" ]; then
			echo "garbage: the run failed outside any call:" >&2
			sed 's/^/     /' "$err" >&2
			return 1
		fi
		server_log_tail
	done
	rm -f "$err"
}

started_at=$(q -d postgres -c 'SELECT pg_postmaster_start_time()')
# crash recovery empties unlogged tables: a row here at the end means none happened
q -d postgres -c 'DROP TABLE IF EXISTS garbage_canary' -c 'CREATE UNLOGGED TABLE garbage_canary AS SELECT 1 AS alive' || exit 1
status=0
t_start=$(date +%s)
for pass in "deg_garbage UTF8 $rounds" "deg_garbage_ascii SQL_ASCII $ascii_rounds"; do
	set -- $pass
	db=$1 encoding=$2 n=$3
	[ "$n" -gt 0 ] || continue
	q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" \
		-c "CREATE DATABASE $db TEMPLATE template0 ENCODING '$encoding' LC_COLLATE 'C' LC_CTYPE 'C'" || exit 1
	# the dump test's data (contracts, claims, a credential, a settled ledger) gives the
	# functions that read tables something to find
	q -d "$db" -f "$here/test/dump/data.sql" >/dev/null || exit 1
	q -d "$db" -f "$here/test/garbage/garbage.sql" >/dev/null || exit 1
	harvest | q -d "$db" -c '\copy garbage.candidates FROM STDIN' || exit 1
	missing=$(q -d "$db" <<-EOF
		SELECT garbage.make_pool() \gset
		SELECT garbage.make_type_targets() \gset
		SELECT garbage.make_seeds('{in,cast}', 16, 120, 40) \gset
		SELECT garbage.share_type_seeds() \gset
		SELECT garbage.default_type_args() \gset
		SELECT garbage.make_func_targets();
		SELECT garbage.make_consumers() \gset
		SELECT garbage.make_seeds('{func}', 8, 60, 20) \gset
		SELECT garbage.fallback_seeds(8) \gset
		SELECT garbage.generate($seed, $n) \gset
	EOF
	) || exit 1
	[ -n "$missing" ] && printf 'garbage: %s\n' "$missing"
	if [ "${GARBAGE_SELFTEST:-0}" = 1 ]; then
		# a call that kills its backend, as a crash would: the server goes through crash
		# recovery, and the call must be found and reported, and the run go on
		q -d "$db" >/dev/null <<-'EOF'
			INSERT INTO garbage.targets (kind, name, argtype, call_sql)
			VALUES ('func', 'selftest: a call that kills its backend', 'text',
			        $$COPY (SELECT 1) TO PROGRAM 'kill -9 $PPID'$$);
			UPDATE garbage.cases SET target_id = currval('garbage.targets_id_seq'), mutation = 'selftest', val = 'x', bytes = NULL
			 WHERE id = (SELECT max(id) / 2 FROM garbage.cases);
		EOF
	fi
	t_gen=$(date +%s)
	run_cases "$db" || exit 1
	echo "garbage: database $db ($encoding), seed $seed, $n rounds, $(( t_gen - t_start ))s to prepare, $(( $(date +%s) - t_gen ))s to run"
	q -d "$db" -c 'SELECT * FROM garbage.report()' | sed 's/^/  /'
	failures=$(q -d "$db" -c "SELECT count(*) FROM garbage.results WHERE outcome NOT IN ('value', 'error')")
	[ "$failures" = 0 ] || status=1
	t_start=$(date +%s)
done

# the server is up, was never restarted, and deg still works in a new session
now_started=$(q -d postgres -c 'SELECT pg_postmaster_start_time()' 2>/dev/null)
canary=$(q -d postgres -c 'SELECT count(*) FROM garbage_canary' 2>/dev/null)
q -d postgres -c 'DROP TABLE IF EXISTS garbage_canary' >/dev/null 2>&1
if [ "$now_started" != "$started_at" ]; then
	echo "garbage: FAIL the server restarted during the run (started $started_at, now $now_started)"
	status=1
elif [ "$canary" != 1 ]; then
	echo "garbage: FAIL the server went through crash recovery during the run"
	status=1
elif ! q -d deg_garbage -c "SELECT 'a.example.com'::deg.era" >/dev/null; then
	echo "garbage: FAIL deg does not answer after the run"
	status=1
else
	echo "garbage: the server stayed up (no restart, no crash recovery since $started_at)"
fi
[ $status = 0 ] && echo "garbage: ok" || echo "garbage: FAILED"
exit $status
