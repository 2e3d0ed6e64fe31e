#!/usr/bin/env bash
# test/bench/clearing_c.sh: market clearing in C, deg's exact core against
# the plain double-precision sort-and-sweep baseline, on the same markets of
# 1,000, 10,000 and 100,000 curves (3-5 points each).  Needs only a C
# compiler and libsodium/zlib (which src/core links); no server.
#
#   test/bench/clearing_c.sh [SIZES...]
#
# Prints one line per size: both timings (best of five, after reading),
# their ratio, and the growth from the previous size.  The market files are
# left in $CLEARING_BENCH_DIR (default: a temporary directory, removed) so
# that the SQL benchmark can load the same curves.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 100000)
cc=${CC:-gcc}

dir=${CLEARING_BENCH_DIR:-}
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"

$cc -std=c99 -O2 -o "$here/clearing_baseline.bin" "$here/clearing_baseline.c" -lm
$cc -std=c99 -O2 -I"$root/src" -o "$here/clearing_core.bin" "$here/clearing_core.c" \
	"$root"/src/core/*.c -lsodium -lz -lm

printf '%-8s %8s %12s %12s %8s %10s %10s\n' curves points "core ms" "baseline ms" ratio growth price
prev=""
for n in "${sizes[@]}"; do
	f="$dir/market_$n.txt"
	"$here/clearing_baseline.bin" --generate "$n" 42 > "$f"
	base=$("$here/clearing_baseline.bin" "$f")
	core=$("$here/clearing_core.bin" "$f")
	base_ms=$(sed -n 's/.*, \([0-9.]*\) ms$/\1/p' <<<"$base")
	core_ms=$(sed -n 's/.* clear \([0-9.]*\) ms,.*/\1/p' <<<"$core")
	points=$(sed -n 's/.* \([0-9]*\) points,.*/\1/p' <<<"$core")
	price=$(sed -n 's/.* price \([0-9.]*\) (.*/\1/p' <<<"$core")
	growth="-"
	[ -z "$prev" ] || growth=$(awk -v a="$core_ms" -v b="$prev" 'BEGIN { printf "%.1fx", a / b }')
	printf '%-8s %8s %12s %12s %8s %10s %10s\n' "$n" "$points" "$core_ms" "$base_ms" \
		"$(awk -v a="$core_ms" -v b="$base_ms" 'BEGIN { printf "%.2f", a / b }')" "$growth" "$price"
	echo "  $core"
	echo "  $base"
	prev=$core_ms
done
