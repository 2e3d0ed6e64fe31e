#!/usr/bin/env bash
# test/demo/smoke.sh: make test's short run of the demo, inside the test
# cluster (PGHOST/PGPORT set). A city of 100 households (SCALE=0.05) is run
# twice with the same seed: each run must pass the demo's own checks
# (99_check.sql: net zero, adjustments only on the re-run, the chains verify,
# ...), print every section of the report and write the chart; and the two
# runs must print the same report (timings aside) and the same chart.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scale=${SCALE:-0.05}
work=$(mktemp -d "${TMPDIR:-/tmp}/deg-demo-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
started=$SECONDS

fail() { echo "demo smoke test FAILED: $*" >&2; exit 1; }

for run in 1 2; do
	mkdir -p "$work/out$run"
	if ! SCALE=$scale SEED=smoke OUT=$work/out$run "$here/run.sh" >"$work/report$run.txt" 2>&1; then
		cat "$work/report$run.txt" >&2
		fail "run $run exited non-zero"
	fi
done

report=$work/report1.txt
grep -Eq '^== [0-9]+ checks: all hold$' "$report" || fail "the demo's checks did not all hold"
for section in '-- 1. Resources per kind' '-- 2. Credentials' 'refused, and why' '-- 3. Intents' \
	'-- 4. The P2P market: energy traded per hour' '-- 5. Money per flow type and currency' \
	'-- 6. Top participants by net position' '-- 7. Quality' '-- 8. Settlement runs' '-- 9. Net zero' \
	'-- 10. Time per stage'; do
	grep -qF -- "$section" "$report" || fail "the report has no section '$section'"
done
grep -Eq '^ INR +\| [0-9,.]+ +\| [0-9,.]+ +\| 0\.00$' "$report" || fail "the net-zero line is not 0.00"
svg=$work/out1/suryapur-market.svg
grep -qF "chart of the day's clearing prices and volumes: $svg" "$report" || fail "the chart's path is not printed"
grep -q '^<svg ' "$svg" && grep -q '</svg>$' "$svg" || fail "$svg is not an SVG document"
grep -q 'fill="#8fb8de"' "$svg" || fail "the chart has no volume bars"

# the same seed, the same day: everything but the timings and the chart's folder
same() {
	sed -E -e '/^-- 10\. Time per stage/,/^ total/d' \
	       -e '/^ +[0-9]+ \| (the day|late data|nothing new) /s/\|[^|]*$//' \
	       -e "s#$work/out[12]#OUT#" "$1"
}
diff <(same "$work/report1.txt") <(same "$work/report2.txt") >"$work/diff" || { cat "$work/diff" >&2; fail "two runs with the same seed printed different reports"; }
cmp -s "$svg" "$work/out2/suryapur-market.svg" || fail "two runs with the same seed drew different charts"

echo "demo smoke test (SCALE=$scale, twice): report, chart and checks hold, runs identical; $((SECONDS - started)) s"
