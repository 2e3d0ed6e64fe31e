#!/usr/bin/env bash
# test/memory/run.sh [asan|valgrind|growth]...      (no argument: all three)
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
	else
		echo "memcheck: no sanitizer report$([ $status -eq 0 ] || echo ' (but a suite failed: see above)')"
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

# valgrind: pg_regress with the server under valgrind's memcheck (about 2
# minutes; VALGRIND_PGTAP=1 adds pgTAP, about 35 minutes, where timing tests
# such as settlement_runs' concurrent run time out), which sees what ASan does
# not: uninitialised bytes that deg's code branches on or writes out.
# PostgreSQL is not built for valgrind, so its own code shows known noise
# (uninitialised WAL padding written, ld.so's rpath strncmp); only errors
# with a frame in deg's sources count.  That noise shows that memcheck ran.
run_valgrind() (
	status=0
	logs=$(mktemp -d "${TMPDIR:-/tmp}/deg-valgrind.XXXXXX")
	trap 'rm -rf "$logs"' EXIT
	chmod 1777 "$logs"
	suites="$MAKE --no-print-directory installcheck"
	[ -z "${VALGRIND_PGTAP:-}" ] || suites="$suites; $MAKE --no-print-directory pgtap"
	echo "memcheck: $suites, with the server under valgrind"
	(cd "$here" && DEG_SERVER_ENV="valgrind --quiet --error-limit=no --num-callers=30 --fullpath-after= \
--log-file=$logs/vg.%p" nice -n 10 test/cluster.sh bash -c "status=0; ${suites//; / || status=1; } || status=1; exit \$status") \
		|| status=1
	# error blocks: from "==PID== Message" to the blank "==PID==" line
	cat "$logs"/vg.* | awk -v src="$here/src/" '
		/^==[0-9]+== [A-Z]/ && !inblock { inblock = 1; block = $0 "\n"; next }
		inblock && /^==[0-9]+== *$/ { if (index(block, src)) print block; else other++; inblock = 0; next }
		inblock { block = block $0 "\n" }
		END { print other + 0 > "/dev/stderr" }' >"$logs/deg-errors" 2>"$logs/other-count"
	if [ -s "$logs/deg-errors" ]; then
		echo "memcheck: valgrind errors in deg's code:" >&2
		cat "$logs/deg-errors" >&2
		status=1
	elif [ "$(cat "$logs/other-count")" -eq 0 ]; then
		echo "memcheck: valgrind reported nothing at all, not even PostgreSQL's known noise: did it run?" >&2
		status=1
	else
		echo "memcheck: valgrind: no error in deg's code ($(cat "$logs/other-count") in PostgreSQL's own, known noise)"
	fi
	exit $status
)

modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(asan valgrind growth)
status=0
for m in "${modes[@]}"; do
	case $m in
	asan) run_asan || status=1 ;;
	_asan_in_cluster) asan_in_cluster || status=1 ;;
	valgrind) run_valgrind || status=1 ;;
	growth) (cd "$here" && test/cluster.sh test/memory/growth.sh) || status=1 ;;
	*) echo "usage: $0 [asan|valgrind|growth]..." >&2; exit 2 ;;
	esac
done
exit $status
