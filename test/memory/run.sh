#!/usr/bin/env bash
# test/memory/run.sh [asan|growth]...      (no argument: both)
#
# asan:   builds deg with AddressSanitizer and UBSan in a copy of the tree
#         (the tree's own build is not touched), preloads the sanitizer
#         runtimes into a throwaway cluster's server and runs every suite of
#         `make cluster-tests` there; fails on any sanitizer report, which it
#         prints.  deg's own palloc calls get exact bounds from
#         guard_palloc.c (see there).  MEMCHECK_COMMAND replaces the
#         suites (e.g. "make installcheck REGRESS=era").
# growth: bills, aggregates, evaluates and matches a quarter of a million
#         and a million telemetry rows while sampling the backend's memory;
#         fails if the peak grows with the number of rows (growth.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
MAKE=${MAKE:-make}

# in a subshell: its exports and its trap stay there
run_asan() (
	status=0
	work=$(mktemp -d "${TMPDIR:-/tmp}/deg-asan.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	chmod 755 "$work"

	# a copy of the sources, built with the sanitizers
	tar -C "$here" --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
		--exclude='sql/deg--*.sql' --exclude=results --exclude=test/unit \
		-cf - Makefile deg.control src sql expected test | tar -C "$work" -xf -
	cp "$here/test/memory/guard_palloc.c" "$work/src/zz_guard_palloc.c"
	cat >"$work/GNUmakefile" <<'EOF'
# the ASan build of test/memory/run.sh: GNU make reads this before Makefile
COPT = -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fsanitize-recover=address,undefined
include Makefile
SHLIB_LINK += -Wl,--wrap=palloc,--wrap=palloc0,--wrap=repalloc,--wrap=MemoryContextAlloc,--wrap=MemoryContextAllocZero,--wrap=pstrdup,--wrap=pnstrdup
EOF
	echo "memcheck: building deg with AddressSanitizer and UBSan"
	nice -n 10 "$MAKE" -C "$work" -s --no-print-directory all >/dev/null

	logs=$work/sanitizer-reports
	mkdir -p "$logs"
	# ASan initialises at the first malloc, which a preloaded runtime sees
	# inside libgpg-error's constructor, under glibc's gettext lock: its
	# dlsym("swift_demangle") then fails, and dlerror() takes that lock again
	# and breaks it (postgres hangs in bindtextdomain).  A swift_demangle
	# that exists (and demangles nothing) keeps dlerror quiet.
	printf '%s\n' 'char *swift_demangle(const char *, unsigned long, char *, unsigned long *, unsigned);' \
		'char *swift_demangle(const char *n, unsigned long l, char *o, unsigned long *ol, unsigned f)' \
		'{ (void) n; (void) l; (void) o; (void) ol; (void) f; return 0; }' \
		| "${CC:-gcc}" -shared -fPIC -Wall -Wextra -Werror -x c - -o "$work/no_swift_demangle.so"
	cc_lib() { "${CC:-gcc}" -print-file-name="$1"; }
	export DEG_SERVER_ENV="LD_PRELOAD=$(cc_lib libasan.so):$work/no_swift_demangle.so:$(cc_lib libubsan.so) \
ASAN_OPTIONS=detect_leaks=0:halt_on_error=0:allocator_may_return_null=1 \
UBSAN_OPTIONS=halt_on_error=0:print_stacktrace=1"

	echo "memcheck: every cluster suite under AddressSanitizer"
	(cd "$work" && MEMCHECK_LOGS=$logs nice -n 10 test/cluster.sh "$here/test/memory/run.sh" _asan_in_cluster) || status=1

	if compgen -G "$logs/*" >/dev/null; then
		echo "memcheck: sanitizer reports:" >&2
		for f in "$logs"/*; do
			echo "--- $(basename "$f")" >&2
			cat "$f" >&2
		done
		status=1
	elif [ $status -eq 0 ]; then
		echo "memcheck: no sanitizer report"
	fi
	exit $status
)

# the sanitizers' reports in the server log (their stderr; log_path is not
# used: the two runtimes share it and UBSan resets it), from line $2 on,
# into file $3
sanitizer_reports() {
	tail -n "+$2" "$1" | awk '
		/^==[0-9]+==ERROR: / || /: runtime error: / { p = 1 }
		/^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] / { p = 0 }
		p' >"$3"
	[ -s "$3" ] || rm -f "$3"
}

# inside the ASan build's cluster (cwd: the copy): the probe, then the suites
asan_in_cluster() {
	local logs=$MEMCHECK_LOGS server_log=$DEG_CLUSTER_DIR/server.log probe from status=0
	psql -X -q -v ON_ERROR_STOP=1 -d postgres -c 'CREATE DATABASE memcheck_probe'
	psql -X -q -v ON_ERROR_STOP=1 -d memcheck_probe \
		-c "CREATE FUNCTION deg_memcheck_probe(int) RETURNS int STRICT LANGUAGE c AS 'deg', 'deg_memcheck_probe'" \
		-c 'SELECT deg_memcheck_probe(9)' -c 'SELECT deg_memcheck_probe(10)' >/dev/null
	psql -X -q -d postgres -c 'DROP DATABASE memcheck_probe'
	# exactly one report of each kind, for the probe with 10
	probe=$logs/probe
	sanitizer_reports "$server_log" 1 "$probe"
	if [ "$(grep -c '^==[0-9]*==ERROR: AddressSanitizer' "$probe" 2>/dev/null)" != 1 ] \
		|| ! grep -q 'READ of size 1' "$probe" || ! grep -q 'in deg_memcheck_probe .*zz_guard_palloc.c' "$probe" \
		|| [ "$(grep -c 'runtime error' "$probe")" != 1 ] || ! grep -q 'zz_guard_palloc.c.*shift exponent 32' "$probe"; then
		echo "memcheck: the probe's overread of a 10-byte palloc and its too wide shift were not reported once each:" >&2
		cat "$probe" >&2 2>/dev/null || true
		rm -f "$probe"
		return 1
	fi
	rm -f "$probe"
	echo "memcheck: the probe's one-byte overread of a palloc'd chunk and its too wide shift were reported: both sanitizers are live"

	from=$(($(wc -l <"$server_log") + 1))
	DEG_SANITIZED=1 ${MEMCHECK_COMMAND:-"$MAKE" --no-print-directory cluster-tests} || status=1
	sanitizer_reports "$server_log" "$from" "$logs/server-log"
	return $status
}

modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(asan growth)
status=0
for m in "${modes[@]}"; do
	case $m in
	asan) run_asan || status=1 ;;
	_asan_in_cluster) asan_in_cluster || status=1 ;;
	growth) (cd "$here" && test/cluster.sh test/memory/growth.sh) || status=1 ;;
	*) echo "usage: $0 [asan|growth]..." >&2; exit 2 ;;
	esac
done
exit $status
