#!/usr/bin/env bash
# test/race/run.sh: concurrency under load.  16 pgbench clients race, for RACE_SECONDS, to claim
# roles (open BUYER roles and PROSUMER seats), accept offers while providers withdraw them,
# send and correct meter readings, and run settlements of the days those readings fall in.
# Afterwards, once every day is settled again: no role is filled twice, every day of every
# contract is billed once net of its adjustments (what its readings owe, computed here), the
# ledger's chain verifies, paid = received per currency, no deadlock was logged and every client
# finished.  Run by `make test` inside the throwaway cluster (test/cluster.sh).
#
#   RACE_SECONDS    how long the load lasts (default 30)
#   RACE_CLIENTS    pgbench clients (default 16)
#   RACE_CONTRACTS  billed contracts claims and acceptances may create, spread over the run
#                   (default 20 a second, at most 4000: each settlement run computes them all)
#   RACE_SETTLE_ISOLATION  run the settlements in transactions of this isolation level (e.g.
#                   'repeatable read'; pgbench then retries serialization failures); default: none,
#                   each settlement is its own READ COMMITTED statement
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${RACE_SECONDS:-30}
clients=${RACE_CLIENTS:-16}
contracts=${RACE_CONTRACTS:-$(( seconds * 20 < 4000 ? seconds * 20 : 4000 ))}
meters=$(( seconds * 2 > 64 ? seconds * 2 : 64 ))   # room for new readings all along the run
days=7
db=deg_race
log=${DEG_CLUSTER_DIR:?test/race/run.sh runs inside test/cluster.sh}/server.log

# pgbench comes with the server: Debian's postgresql-15 package installs it next to postgres
pgbench=$(pg_config --bindir)/pgbench
if [ ! -x "$pgbench" ]; then
	echo "race: $pgbench is missing (Debian ships it in the postgresql-15 package)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/deg-race.XXXXXX")
trap 'rm -rf "$tmp"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1' EXIT
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db" 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v meters=$meters -v days=$days -v contracts="$contracts" -d $db \
	-f "$here/setup.sql" >/dev/null

# the load
load_start=$SECONDS
log_from=$(( $(stat -c %s "$log") + 1 ))
psql -X -q -d $db -c "UPDATE race.config SET started_at = clock_timestamp(), seconds = $seconds"
cp "$here"/{claim,accept,offers,telemetry,settle}.sql "$tmp/"
retries=()
if [ -n "${RACE_SETTLE_ISOLATION:-}" ]; then
	printf 'BEGIN ISOLATION LEVEL %s;\nSELECT race.settle();\nCOMMIT;\n' "$RACE_SETTLE_ISOLATION" >"$tmp/settle.sql"
	retries=(--max-tries=100)
fi
set +e
(cd "$tmp" && "$pgbench" -n -c "$clients" -j 2 -T "$seconds" "${retries[@]}" \
	-f claim.sql@5 -f accept.sql@3 -f offers.sql@1 -f telemetry.sql@5 -f settle.sql@1 $db) >"$tmp/pgbench.out" 2>&1
pgbench_status=$?
set -e
# a client cut off at the end of -T leaves its backend to finish the statement: wait for them
for _ in $(seq 600); do
	busy=$(psql -X -qAt -d $db -c "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
	[ "$busy" = 0 ] && break
	sleep 0.1
done

# settle every day once more, now that the readings are final; a second pass has nothing to add
settle_week() {
	psql -X -qAt -v ON_ERROR_STOP=1 -d $db -c "SELECT sum(r.entries_written), sum(r.adjustments)
	  FROM race.config cfg, generate_series(0, cfg.days - 1) d,
	       LATERAL deg.settle(tstzrange(cfg.first_day + d * interval '1 day', cfg.first_day + (d + 1) * interval '1 day')) r"
}
load_end=$SECONDS
final=$(settle_week)
again=$(settle_week)
settle_end=$SECONDS

# ---------- the report ----------
echo "race: $clients clients for $seconds s, up to $contracts billed contracts, $meters meters${RACE_SETTLE_ISOLATION:+, settlements in $RACE_SETTLE_ISOLATION transactions}"
awk '/^SQL script/ { name = $4 } /^ - [0-9]+ transactions/ { printf "  %-14s %8d transactions\n", name, $2 }' "$tmp/pgbench.out"
psql -X -qAt -F ' ' -d $db -c "SELECT format('  %-22s %-28s %8s', script, outcome, count(*)) FROM race.outcomes GROUP BY script, outcome ORDER BY 1"
psql -X -qAt -d $db -c "SELECT format('  %s contracts (%s ACTIVE), %s claims, %s readings, %s runs, %s ledger entries (%s adjustments)',
	(SELECT count(*) FROM deg.contracts), (SELECT count(*) FROM deg.contracts WHERE status = 'ACTIVE'),
	(SELECT count(*) FROM deg.role_claims), (SELECT count(*) FROM deg.meter_readings), (SELECT count(*) FROM deg.settlement_runs),
	(SELECT count(*) FROM deg.ledger), (SELECT count(*) FROM deg.ledger WHERE adjusts IS NOT NULL))"
echo "  after the load: settling the week wrote ${final%|*} entries (${final#*|} adjustments); again: ${again%|*} ($(( settle_end - load_end )) s for both)"

# ---------- the checks ----------
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }

[ "$pgbench_status" = 0 ] || fail "pgbench exited with $pgbench_status"
grep -E 'aborted|error' "$tmp/pgbench.out" >&2 && fail "a pgbench client was aborted (above)"
grep -q '^number of failed transactions: 0 ' "$tmp/pgbench.out" || fail "pgbench counted failed transactions"
for s in claim accept offers telemetry settle; do
	grep -q "^SQL script [0-9]*: $s.sql" "$tmp/pgbench.out" || fail "script $s.sql never ran"
done
[ "${again%|*}" = 0 ] || fail "a second settlement of the settled week wrote ${again%|*} entries"

psql -X -q -v ON_ERROR_STOP=1 -d $db -f "$here/checks.sql" >"$tmp/checks.txt" || fail "checks.sql did not run to its end"
while IFS='|' read -r name violations detail; do
	[ -n "$name" ] || continue
	if [ "$violations" = 0 ]; then
		echo "  ok: no $name"
	else
		fail "$name: $violations (${detail:0:2000})"
	fi
done <"$tmp/checks.txt"

# the races the test is about did happen
psql -X -qAt -v ON_ERROR_STOP=1 -d $db >"$tmp/raced.txt" -c "SELECT o, (SELECT count(*) FROM race.outcomes WHERE script || ': ' || outcome = o)
	FROM unnest(ARRAY['claim buyer: role already filled', 'telemetry: duplicate reading',
	                  'settle all: another run in progress', 'settle all: ok', 'settle some: ok', 'accept: ok']) o"
[ "$(wc -l <"$tmp/raced.txt")" = 6 ] || fail "could not count the outcomes"
while IFS='|' read -r what n; do
	[ "$n" -gt 0 ] || fail "no transaction saw: $what (the clients did not race)"
done <"$tmp/raced.txt"
n=$(psql -X -qAt -d $db -c "SELECT count(*) FROM race.outcomes WHERE outcome LIKE 'unexpected%'")
[ "$n" = 0 ] || fail "$n transactions were refused with an unexpected message: $(psql -X -qAt -d $db -c "SELECT string_agg(DISTINCT detail, '; ') FROM race.outcomes WHERE outcome LIKE 'unexpected%'")"

# the server log of the run: no deadlock, no error a client did not catch, no crash
if tail -c +"$log_from" "$log" | grep -E 'deadlock detected|ERROR:|PANIC:|TRAP:|terminated by signal' >"$tmp/log.txt"; then
	head -20 "$tmp/log.txt" >&2
	fail "the server logged the above during the race"
else
	echo "  ok: the server logged no deadlock, error or crash"
fi

[ $failed = 0 ] && echo "race: all checks passed ($(( SECONDS - load_start )) s)"
exit $failed
