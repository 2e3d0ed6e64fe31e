#!/usr/bin/env bash
# test/crash/run.sh: the server dies (immediate shutdown: no checkpoint, crash recovery at the next
# start) in the middle of a settlement run and of batches of role claims; after the restart
# nothing half-done remains, and doing the work again gives the same ledger and the same claims
# as a database where nothing was interrupted.  Run by `make test` inside the throwaway cluster
# (test/cluster.sh), whose server it stops and starts.
#
# Two copies of one database (setup.sql): deg_crash_ref does everything undisturbed,
# deg_crash_run is interrupted four times:
#   1. a settlement run of a new day, killed while it computes the contracts' lines;
#   2. a settlement run that adjusts a settled day, killed after it has written its ledger entries
#      and before it commits (a session holds a lock on deg.quality_results, which the run writes
#      next, so the run waits there; the same lock keeps run 1 from committing);
#   3. a batch of claims in one transaction, killed with part of it done (a session holds the row
#      of one of its contracts, which the claim trigger locks);
#   4. a batch of claims committed in groups of 10, killed in the middle of a group.
# Each time: the server is stopped with pg_ctl -m immediate and started again, the database is
# checked for leftovers, and at the end the work is done again and compared with the reference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${DEG_PGBIN:?run inside test/cluster.sh}" "${DEG_PGDATA:?}" "${DEG_CLUSTER_DIR:?}"
n_meter=${CRASH_METER_CONTRACTS:-2400}
n_tou=${CRASH_TOU_CONTRACTS:-300}
n_claim=2000                # claims: batch 1 is contracts 1..1000, batch 2 is 1001..2000
day_a='[2025-02-03 00:00+00, 2025-02-04 00:00+00)'
day_b='[2025-02-04 00:00+00, 2025-02-05 00:00+00)'
ref=deg_crash_ref
run=deg_crash_run

as_server=()
if [ "$(id -u)" = 0 ]; then
	as_server=(runuser -u postgres --)
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/deg-crash.XXXXXX")
background=()
cleanup() {
	local status=$?
	for pid in "${background[@]}"; do kill "$pid" 2>/dev/null || true; done
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $ref" -c "DROP DATABASE IF EXISTS $run" \
		-c 'DROP DATABASE IF EXISTS deg_crash_base' >/dev/null 2>&1 || true
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT

fail() {
	echo "crash: $*" >&2
	exit 1
}
q() {   # one value from a database
	local db=$1
	shift
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$db" -c "$*"
}
# start SQL (stdin) in a session of its own, in the background
session() {
	cat >"$tmp/$2.sql"
	psql -X -q -d "$1" -f "$tmp/$2.sql" >"$tmp/$2.out" 2>&1 &
	background+=($!)
}
# wait (up to a minute) until a query on the database returns a row; print its first value
wait_for() {
	psql -X -qAt -v ON_ERROR_STOP=1 -d "$1" -v what="$2" -v cond="$3" <<'SQL'
CREATE FUNCTION pg_temp.wait_for(what text, cond text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    answer text;
    deadline timestamptz := clock_timestamp() + interval '60 seconds';
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();   -- pg_stat_activity as it is now, not as this transaction first saw it
        EXECUTE cond INTO answer;
        IF answer IS NOT NULL THEN
            RETURN answer;
        END IF;
        IF clock_timestamp() > deadline THEN
            RAISE EXCEPTION 'gave up waiting (60 s) for %', what;
        END IF;
        PERFORM pg_sleep(0.005);
    END LOOP;
END $$;
SELECT pg_temp.wait_for(:'what', :'cond');
SQL
}
# the server dies: immediate shutdown (no checkpoint, every backend killed), then a normal start,
# which recovers from the WAL
crash_and_restart() {
	"${as_server[@]}" "$DEG_PGBIN/pg_ctl" -D "$DEG_PGDATA" -m immediate -w stop >/dev/null
	for pid in "${background[@]}"; do wait "$pid" 2>/dev/null || true; done
	background=()
	"${as_server[@]}" "$DEG_PGBIN/pg_ctl" -D "$DEG_PGDATA" -l "$DEG_CLUSTER_DIR/server.log" -w -t 60 start >/dev/null
}
# the next value of a sequence (what nextval has handed out so far, seen from outside the transaction)
seq_next() {
	q "$1" "SELECT coalesce(last_value + 1, start_value) FROM pg_sequences WHERE schemaname = 'deg' AND sequencename =
	        (SELECT split_part(pg_get_serial_sequence('deg.$2', '$3'), '.', 2))"
}
# settlement leftovers: runs, entries, quality results, allocations, progress, broken chain
settle_state() {
	q "$1" "SELECT (SELECT count(*) FROM deg.settlement_runs) || ' runs, ' ||
	        (SELECT count(*) FROM deg.settlement_runs WHERE finished_at IS NULL) || ' unfinished, ' ||
	        (SELECT count(*) FROM deg.ledger) || ' entries, ' ||
	        (SELECT count(*) || '/' || coalesce(round(sum(value), 4), 0) FROM deg.quality_results) || ' quality results, ' ||
	        (SELECT count(*) FROM deg.trade_allocations) || ' allocations, ' ||
	        (SELECT count(*) FROM deg.settlement_progress) || ' in progress, ' ||
	        (SELECT count(*) FROM deg.ledger_verify()) || ' broken'"
}
start=$(date +%s)

# ---------- two identical databases ----------
psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $ref" -c "DROP DATABASE IF EXISTS $run" \
	-c 'DROP DATABASE IF EXISTS deg_crash_base' -c 'CREATE DATABASE deg_crash_base' 2>/dev/null
psql -X -q -v ON_ERROR_STOP=1 -v n_meter="$n_meter" -v n_tou="$n_tou" -v n_claim="$n_claim" \
	-d deg_crash_base -f "$here/setup.sql" >/dev/null
psql -X -q -d postgres -c "CREATE DATABASE $ref TEMPLATE deg_crash_base" -c "CREATE DATABASE $run TEMPLATE deg_crash_base" \
	-c 'DROP DATABASE deg_crash_base'

# ---------- the reference: nothing interrupted ----------
t0=$(date +%s%N)
q $ref "SELECT run_id FROM deg.settle('$day_b')" >/dev/null
t1=$(date +%s%N)
q $ref "SELECT run_id FROM deg.settle('$day_a')" >/dev/null
q $ref "SELECT public.crash_claims_at_once(1, 1000)" >/dev/null
q $ref "CALL public.crash_claims_in_groups(1001, 2000, 10)" >/dev/null
echo "crash: reference settled day B in $(( (t1 - t0) / 1000000 )) ms"

before=$(settle_state $run)

# ---------- 1. killed while computing ----------
session $run lock1 <<'SQL'
BEGIN;
LOCK TABLE deg.quality_results IN EXCLUSIVE MODE;
SELECT pg_sleep(600);
SQL
wait_for $run "the lock on deg.quality_results" \
	"SELECT 'held' FROM pg_locks WHERE relation = 'deg.quality_results'::regclass AND mode = 'ExclusiveLock' AND granted" >/dev/null
session $run settle1 <<SQL
SELECT run_id FROM deg.settle('$day_b');
SQL
seen=$(wait_for $run "the run to compute some contracts' lines" \
	"SELECT p.phase || ' ' || p.contracts_done || '/' || p.contracts_total FROM deg.settlement_progress p
	  JOIN pg_stat_activity a ON a.pid = p.pid
	 WHERE a.datname = current_database() AND ((p.phase = 'computing' AND p.contracts_done > 0) OR a.wait_event_type = 'Lock')")
crash_and_restart
after=$(settle_state $run)
[ "$after" = "$before" ] || fail "a run killed while computing left something: before '$before', after '$after'"
grep -q 'terminating connection\|server closed the connection\|connection to server' "$tmp/settle1.out" \
	|| fail "the run was not killed: $(cat "$tmp/settle1.out")"
echo "crash: settlement run killed at '$seen' (progress when the server was stopped): nothing remains ($after)"

# ---------- 2. killed after writing its entries, before commit ----------
entry_before=$(seq_next $run ledger entry_id)
session $run lock2 <<'SQL'
BEGIN;
LOCK TABLE deg.quality_results IN EXCLUSIVE MODE;
SELECT pg_sleep(600);
SQL
wait_for $run "the lock on deg.quality_results" \
	"SELECT 'held' FROM pg_locks WHERE relation = 'deg.quality_results'::regclass AND mode = 'ExclusiveLock' AND granted" >/dev/null
session $run settle2 <<SQL
SELECT run_id FROM deg.settle('$day_a');
SQL
wait_for $run "the run to wait for deg.quality_results" \
	"SELECT 'waiting' FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	  WHERE l.relation = 'deg.quality_results'::regclass AND NOT l.granted AND a.application_name LIKE 'deg settle:%'" >/dev/null
entry_killed=$(seq_next $run ledger entry_id)
crash_and_restart
after=$(settle_state $run)
[ "$after" = "$before" ] || fail "a run killed after writing its entries left something: before '$before', after '$after'"
uncommitted=$(( entry_killed - entry_before ))
[ "$uncommitted" -gt 0 ] || fail "the run had not written entries when it was killed"
echo "crash: settlement run killed after writing $uncommitted entries, before commit: nothing remains ($after)"

# ---------- settle again: no stale lock or run, the same ledger ----------
q $run "SET lock_timeout = '5s'; SELECT run_id FROM deg.settle('$day_b')" >/dev/null \
	|| fail "after the crash a new run of day B failed"
rerun=$(q $run "SELECT entries_written || ' ' || adjustments FROM deg.settle('$day_a')")
[ "${rerun% *}" = "$uncommitted" ] \
	|| fail "the re-run of day A wrote ${rerun% *} entries; the killed run had written $uncommitted"
[ "${rerun#* }" -gt 0 ] || fail "day A's re-run wrote no adjustments: the test's late readings did not count"

# ---------- 3. a batch of claims in one transaction, killed part way ----------
claim_before=$(seq_next $run role_claims claim_id)
session $run hold3 <<'SQL'
BEGIN;
SELECT contract_id FROM deg.contracts WHERE contract_id = 'cc-00600' FOR UPDATE;
SELECT pg_sleep(600);
SQL
wait_for $run "the row lock on cc-00600" \
	"SELECT 'held' FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(600)%' AND state = 'active'" >/dev/null
session $run claims3 <<'SQL'
SELECT public.crash_claims_at_once(1, 1000);
SQL
wait_for $run "the batch to reach cc-00600" \
	"SELECT 'waiting' FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
	    AND query LIKE '%crash_claims_at_once%'" >/dev/null
claim_killed=$(seq_next $run role_claims claim_id)
crash_and_restart
[ $(( claim_killed - claim_before )) = 600 ] \
	|| fail "the batch had drawn $(( claim_killed - claim_before )) claim ids when it was killed, expected 600 (599 claims and the one waiting)"
left=$(q $run "SELECT (SELECT count(*) FROM deg.role_claims) || ' claims, ' ||
	(SELECT count(*) FROM deg.contracts WHERE contract_id LIKE 'cc-%' AND (status <> 'PENDING' OR NOT 'BUYER' = ANY (deg.contract_open_roles(body)))) || ' contracts filled, ' ||
	(SELECT count(*) FROM deg.contract_events WHERE contract_id LIKE 'cc-%' AND event <> 'created') || ' events'")
[ "$left" = "0 claims, 0 contracts filled, 0 events" ] || fail "a batch of claims killed in its transaction left: $left"
echo "crash: a batch of claims killed after 599 of 1000 (uncommitted): $left"
[ "$(q $run "SELECT public.crash_claims_at_once(1, 1000)")" = 1000 ] || fail "the batch of 1000 claims, run again, did not claim 1000"

# ---------- 4. claims committed in groups of 10, killed inside a group ----------
claim_before=$(seq_next $run role_claims claim_id)
session $run hold4 <<'SQL'
BEGIN;
SELECT contract_id FROM deg.contracts WHERE contract_id = 'cc-01505' FOR UPDATE;
SELECT pg_sleep(600);
SQL
wait_for $run "the row lock on cc-01505" \
	"SELECT 'held' FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(600)%' AND state = 'active'" >/dev/null
session $run claims4 <<'SQL'
CALL public.crash_claims_in_groups(1001, 2000, 10);
SQL
wait_for $run "the batch to reach cc-01505" \
	"SELECT 'waiting' FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
	    AND query LIKE '%crash_claims_in_groups%'" >/dev/null
claim_killed=$(seq_next $run role_claims claim_id)
crash_and_restart
[ $(( claim_killed - claim_before )) = 505 ] \
	|| fail "the batch had drawn $(( claim_killed - claim_before )) claim ids when it was killed, expected 505 (500 committed, 4 in the open group and the one waiting)"
# each claim whole: the claim, its contract ACTIVE with the claimant as BUYER, a fill and a status event
left=$(q $run "WITH c AS (
	    SELECT k.contract_id, k.status, substr(k.contract_id, 4)::int AS j,
	           (SELECT participant::text FROM deg.contract_participants(k.body) p WHERE p.role = 'BUYER') AS buyer,
	           (SELECT participant::text FROM deg.role_claims r WHERE r.contract_id = k.contract_id) AS claimant,
	           (SELECT count(*) FROM deg.contract_events e JOIN deg.role_claims r USING (claim_id)
	             WHERE e.contract_id = k.contract_id AND e.event = 'filled' AND r.contract_id = k.contract_id) AS fills,
	           (SELECT count(*) FROM deg.contract_events e
	             WHERE e.contract_id = k.contract_id AND e.event = 'status' AND e.to_status = 'ACTIVE') AS activations
	      FROM deg.contracts k WHERE k.contract_id BETWEEN 'cc-01001' AND 'cc-02000')
	SELECT count(*) FILTER (WHERE claimant IS NOT NULL) || ' claimed ' ||
	       coalesce(min(j) FILTER (WHERE claimant IS NOT NULL), 0) || '..' || coalesce(max(j) FILTER (WHERE claimant IS NOT NULL), 0) || ', ' ||
	       count(*) FILTER (WHERE claimant IS NOT NULL AND (status <> 'ACTIVE' OR buyer IS DISTINCT FROM claimant OR fills <> 1 OR activations <> 1)) || ' claims not whole, ' ||
	       count(*) FILTER (WHERE claimant IS NULL AND (status <> 'PENDING' OR buyer IS NOT NULL OR fills <> 0 OR activations <> 0)) || ' contracts filled without a claim, ' ||
	       (SELECT count(*) FROM deg.contract_events e WHERE e.event = 'filled' AND NOT EXISTS (SELECT 1 FROM deg.role_claims r WHERE r.claim_id = e.claim_id)) || ' orphan events'
	  FROM c")
[ "$left" = "500 claimed 1001..1500, 0 claims not whole, 0 contracts filled without a claim, 0 orphan events" ] \
	|| fail "a batch of claims committed in groups and killed in group 1501..1510 left: $left"
echo "crash: claims committed in groups of 10, killed in the group 1501..1510 after 4 of its claims: $left"

q $run "CALL public.crash_claims_in_groups(1001, 2000, 10)" >/dev/null

# ---------- compare with the reference, row by row ----------
psql -X -q -v ON_ERROR_STOP=1 -d $ref -f "$here/snapshot.sql" >"$tmp/ref.txt"
psql -X -q -v ON_ERROR_STOP=1 -d $run -f "$here/snapshot.sql" >"$tmp/run.txt"
if ! diff -u "$tmp/ref.txt" "$tmp/run.txt" | head -40; then
	fail "after the crashes and the re-runs the database differs from the undisturbed one"
fi
grep -q '^broken chain' "$tmp/run.txt" && fail "the ledger's chain is broken: $(grep '^broken chain' "$tmp/run.txt" | head -3)"
# the indexes agree with their tables after four crash recoveries (amcheck: every heap row is in
# every B-tree index of deg, and each index is ordered)
checked=$(q $run "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS amcheck;
	SELECT count(bt_index_check(c.oid, true)) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	  JOIN pg_am am ON am.oid = c.relam WHERE am.amname = 'btree' AND c.relnamespace = 'deg'::regnamespace") \
	|| fail "amcheck found a B-tree index of deg that does not agree with its table"
[ "$checked" -gt 10 ] || fail "amcheck checked only $checked indexes"
counts=$(cut -d'|' -f1 "$tmp/run.txt" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
echo "crash: after the re-runs the interrupted database equals the undisturbed one row by row ($counts); chain intact; $checked B-tree indexes consistent; $(( $(date +%s) - start )) s"
