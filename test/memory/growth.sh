#!/usr/bin/env bash
# test/memory/growth.sh: does a backend's memory stay bounded over long runs?
#
# Run inside a throwaway cluster (test/memory/run.sh growth starts one).  For
# each size in GROWTH_SIZES (contracts; 96 readings each, so the default
# "2604 10417" is 249,984 and 1,000,032 meter readings) it builds a database
# (growth_data.sql) and runs each workload below in a fresh session, one core
# (no parallel workers, so all the work is in the sampled backend), default
# work_mem.  While a workload runs, its backend's /proc/PID/status is read
# every 5 ms: RssAnon (private memory: palloc, malloc) before it starts
# ("base") and at its highest ("peak"), and VmHWM at the end (the exact high
# water mark of the whole resident set, which also counts the shared buffers
# the backend touched, up to shared_buffers).  Every workload's result is
# checked against the same figure computed another way.
#
# Bounded means: from the smallest to the largest size, the peak's growth
# above base is at most twice the smallest's plus 8 MB.  Memory that grows
# with the rows (one leaked byte per row, a per-row palloc in the query's
# context) grows four times as fast as the rows quadruple; memory bounded
# by design (work_mem, caches) does not.  The whole-table telemetry_agg
# builds one bundle of every row: it grows by design, and its bytes per row
# are printed, not judged.
#
# GROWTH_WORKLOADS (space-separated names) runs only those.  `growth.sh
# short` is the version in `make test`: 49,920 and 249,984 rows (five times
# as many: a leak of about 60 bytes a row fails; the full run's four times
# as many fails at about 17), the workloads that need no offers and take
# well under a second.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${DEG_SANITIZED:-}" ]; then
	# a sanitizer's allocator (quarantine, redzones) is not the server's memory
	echo "memory growth: not measured in a sanitizer build"
	exit 0
fi
if [ "${1:-}" = short ]; then
	: "${GROWTH_SIZES:=520 2604}"
	: "${GROWTH_WORKLOADS:=contract_srfs_per_row formula_check_per_row settle telemetry_agg_per_meter contract_eval_line contract_eval_jsonb era_text_round_trip contract_text_round_trip}"
fi
sizes=(${GROWTH_SIZES:-2604 10417})
only=${GROWTH_WORKLOADS:-}
period='[2025-03-01 00:00:00+00,2025-03-02 00:00:00+00)'
first_contract="(SELECT body FROM deg.contracts ORDER BY contract_id LIMIT 1)"

# name | statement measured (one value) | the value it must give | judged (bounded) or not
names=() statements=() expectations=() judgements=()
add() { names+=("$1"); statements+=("$2"); expectations+=("$3"); judgements+=("$4"); }

add offers_insert \
"INSERT INTO deg.offers (offer)
 SELECT jsonb_build_object('offerId', 'offer-' || i, 'providerId', 'provider-' || i % 500 || '.example.net',
          'openRole', 'BUYER', 'pricePerKWh', 1 + (i % 100) / 10.0, 'currency', 'INR',
          'minQuantityKWh', 1, 'maxQuantityKWh', 60,
          'availabilityWindow', '{\"start\": \"2025-01-01T00:00:00Z\", \"end\": \"2026-01-01T00:00:00Z\"}'::jsonb,
          'location', jsonb_build_object('lat', 12 + (i % 1000) / 1000.0, 'lon', 77 + (i / 1000 % 1000) / 1000.0),
          'energySource', (ARRAY['SOLAR', 'WIND', 'GRID', 'HYDRO'])[i % 4 + 1], 'maxPowerKW', 7 + i % 50,
          'attributes', jsonb_build_object('connectorType', CASE WHEN i % 2 = 0 THEN 'CCS2' ELSE 'Type2' END)
        )::deg.energy_offer
   FROM generate_series(1, 24 * :n) i;
 SELECT count(*) FROM deg.offers" \
"SELECT 24 * :n" yes

# ANALYZE reads a sample of at most 30,000 rows: its memory grows up to
# 30,000 offers, then stays (both full sizes are above; not in the short run)
add offers_analyze \
"ANALYZE deg.offers;
 SELECT count(*) FROM pg_stats WHERE schemaname = 'deg' AND tablename = 'offers' AND attname = 'offer'" \
"SELECT 1" yes

add match_seqscan \
"SET enable_indexscan = off; SET enable_bitmapscan = off;
 SELECT count(*) FROM deg.offers o WHERE (SELECT intent FROM growth_intents WHERE k = 1) @@ o.offer" \
"SELECT count(*) FROM generate_series(1, 24 * :n) i WHERE i % 2 = 0 AND i % 100 <= 49" yes

add match_explain \
"SELECT count(*) FILTER (WHERE NOT e.ok)
   FROM deg.offers o, LATERAL deg.match_explain((SELECT intent FROM growth_intents WHERE k = 1), o.offer) e" \
"SELECT count(*) FILTER (WHERE i % 2 = 1) + count(*) FILTER (WHERE i % 100 > 49) FROM generate_series(1, 24 * :n) i" yes

add contract_srfs_per_row \
"SELECT count(*) FROM deg.contracts c, generate_series(1, 24) g,
        LATERAL (SELECT p.role FROM deg.contract_participants(c.body) p
                 UNION ALL SELECT m.role FROM deg.contract_missing(c.body) m) s" \
"SELECT 2 * 24 * :n" yes

add formula_check_per_row \
"SELECT count(*) FROM generate_series(1, 96 * :n) g, LATERAL deg.formula_check('1 + (' || g) f" \
"SELECT 96 * :n" yes

add match_top10_index \
"SELECT count(*) FROM growth_intents g,
        LATERAL (SELECT o.offer_id FROM deg.offers o WHERE g.intent @@ o.offer ORDER BY g.intent <-> o.offer LIMIT 10) m" \
"SELECT 10 * :n" yes

add deg_match_top10 \
"SELECT count(*) FROM growth_intents g, LATERAL deg.match(g.intent, 10) m" \
"SELECT 10 * :n" yes

add settle \
"SELECT lines || ' lines, ' || entries_written || ' entries' FROM deg.settle('$period')" \
"SELECT :n || ' lines, ' || :n || ' entries'" yes

add contract_billing \
"SELECT trim_scale(sum(b.amount)) FROM deg.contracts c, LATERAL deg.contract_billing(c.contract_id, '$period') b" \
"SELECT trim_scale(sum(amount)) FROM deg.ledger" yes

add telemetry_agg_per_meter \
"SELECT count(*) FROM (SELECT meter, deg.telemetry_agg('telemetrySources.meter', reading_interval, 'importedKWh', imported_kwh) t
                        FROM deg.meter_readings GROUP BY meter) s WHERE t IS NOT NULL" \
"SELECT :n" yes

add telemetry_agg_whole_table \
"SELECT pg_column_size(deg.telemetry_agg('telemetrySources.meter', reading_interval, 'importedKWh', imported_kwh)) > 96 * :n
   FROM deg.meter_readings" \
"SELECT true" no

add contract_eval_line \
"SELECT trim_scale(sum(deg.contract_eval(c.body, '1', 'inputSignals.tou-price', 5.5,
                                         'telemetrySources.meter.importedKWh', r.imported_kwh)))
   FROM deg.meter_readings r, $first_contract c" \
"SELECT trim_scale(5.5 * sum(imported_kwh)) FROM deg.meter_readings" yes

add contract_eval_jsonb \
"SELECT trim_scale(sum(e.value))
   FROM deg.meter_readings r, $first_contract c,
        LATERAL deg.contract_eval(c.body, jsonb_build_object('inputSignals', jsonb_build_object('tou-price', 5.5),
                  'telemetrySources', jsonb_build_object('meter', jsonb_build_object('importedKWh', r.imported_kwh)))) e
  WHERE e.kind = 'flow'" \
"SELECT trim_scale(5.5 * sum(imported_kwh)) FROM deg.meter_readings" yes

add era_text_round_trip \
"SELECT count(DISTINCT meter::text::deg.era) FROM deg.meter_readings" \
"SELECT :n" yes

add contract_text_round_trip \
"SELECT count(*) FROM deg.contracts c, generate_series(1, 24) g WHERE ((c.body::text)::deg.contract)::text = c.body::text" \
"SELECT 24 * :n" yes

# RssAnon and VmHWM of a process, in kB, into $anon and $hwm
read_status() {
	local k v rest
	anon=
	hwm=
	{ while read -r k v rest; do
		case $k in
		RssAnon:) anon=$v ;;
		VmHWM:) hwm=$v ;;
		esac
	done <"/proc/$1/status"; } 2>/dev/null || return 1
	[ -n "$anon" ]
}

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results
touch "$results"
# a FIFO nobody writes to: read -t on it sleeps without starting a process
mkfifo "$tmp/tick"
exec {tick}<>"$tmp/tick"
status=0

for n in "${sizes[@]}"; do
	db=deg_growth_$n
	rows=$((96 * n))
	echo "== $n contracts, $rows meter readings"
	psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" 2>/dev/null
	psql -X -q -v ON_ERROR_STOP=1 -v n="$n" -d "$db" -f "$here/growth_data.sql"

	for i in "${!names[@]}"; do
		name=${names[$i]} sql=${statements[$i]} want=${expectations[$i]} judged=${judgements[$i]}
		if [ -n "$only" ] && [[ " $only " != *" $name "* ]]; then continue; fi
		out=$tmp/out pidfile=$tmp/pid
		rm -f "$out" "$pidfile"
		t0=$(date +%s.%N)
		# the backend's pid first (\o closes the file, so it is there at once)
		psql -X -q -A -t -v ON_ERROR_STOP=1 -v n="$n" -d "$db" >"$out" 2>&1 <<-EOF &
			\\o $pidfile
			SELECT pg_backend_pid();
			\\o
			SET max_parallel_workers_per_gather = 0;
			SET jit = off;
			SET client_min_messages = warning;
			SET search_path = public, deg;
			SELECT pg_sleep(0.2);
			\\echo ==result
			$sql;
			\\echo ==end
			SELECT pg_sleep(0.2);
		EOF
		client=$!
		pid= base= peak=0 last_hwm=0
		while kill -0 "$client" 2>/dev/null; do
			[ -n "$pid" ] || pid=$(cat "$pidfile" 2>/dev/null || true)
			if [ -n "$pid" ] && read_status "$pid"; then
				[ -n "$base" ] || base=$anon
				[ "$anon" -gt "$peak" ] && peak=$anon
				last_hwm=$hwm
			fi
			read -r -t 0.005 -u "$tick" || true
		done
		wait "$client" || { echo "workload $name failed:" >&2; cat "$out" >&2; status=1; continue; }
		secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a - 0.4 }')
		got=$(sed -n '/^==result$/,/^==end$/p' "$out" | grep -v '^==' | grep -v '^$' | tail -1)
		expected=$(psql -X -A -t -q -v n="$n" -d "$db" <<<"$want")
		if [ "$got" != "$expected" ] || [ -z "$base" ]; then
			echo "workload $name at $n contracts gave '$got', expected '$expected' (memory sampled: ${base:-no})" >&2
			status=1
			continue
		fi
		printf '%s %s %s %s %s %s %s\n' "$name" "$n" "$base" "$peak" "$last_hwm" "$secs" "$judged" >>"$results"
		printf '  %-26s %8s MB base  %8s MB peak  %8s MB VmHWM  %7s s   (%s)\n' "$name" "$(mb "$base")" "$(mb "$peak")" \
			"$(mb "$last_hwm")" "$secs" "$got"
	done
	psql -X -q -d postgres -c "DROP DATABASE $db"
done

# the verdict: growth above base at the largest size against the smallest
small=${sizes[0]}
large=${sizes[${#sizes[@]}-1]}
echo "== growth of the peak above base, $small -> $large contracts ($((96 * small)) -> $((96 * large)) rows)"
while read -r name _; do
	[ "$(grep -c "^$name " "$results")" -ge 2 ] || continue
	read -r _ _ b1 p1 _ _ judged < <(grep "^$name $small " "$results")
	read -r _ _ b2 p2 _ _ _ < <(grep "^$name $large " "$results")
	g1=$((p1 - b1))
	g2=$((p2 - b2))
	limit=$((2 * g1 + 8192))
	if [ "$judged" = no ]; then
		verdict="grows by design: $(awk -v g="$g2" -v r="$((96 * large))" 'BEGIN { printf "%.0f", g * 1024 / r }') bytes per row"
	elif [ "$g2" -le "$limit" ]; then
		verdict="bounded"
	else
		verdict="GROWS (more than 2 x $(mb "$g1") MB + 8 MB)"
		status=1
	fi
	printf '  %-26s %8s MB -> %8s MB   %s\n' "$name" "$(mb "$g1")" "$(mb "$g2")" "$verdict"
done < <(awk '!seen[$1]++' "$results")
exit $status
