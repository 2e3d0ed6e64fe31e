#!/usr/bin/env bash
# test/cluster.sh COMMAND [ARG...]
#
# Runs COMMAND against a throwaway PostgreSQL cluster with deg installed:
#   1. installs deg into a private copy of the PostgreSQL installation inside
#      the temporary folder (PostgreSQL finds its share/ and lib/ relative to
#      the real path of its binary, so a copied binary uses the private tree);
#      this works as root and as a normal user and never changes the system;
#   2. initdb in a temporary folder; the server listens only on a unix socket
#      in that folder, on a free port; as root it runs as the postgres user;
#   3. runs COMMAND with PGHOST, PGPORT, PGUSER and PGDATABASE set, and
#      DEG_PGBIN, DEG_PGDATA, DEG_CLUSTER_DIR for tests that restart the server;
#   4. stops the server and removes the folder, also when COMMAND fails or
#      the script is interrupted; exits with COMMAND's status.
#
# DEG_SERVER_ENV, if set, is a list of NAME=value words given to every
# server process (test/memory/run.sh preloads AddressSanitizer this way):
# the private postgres becomes a script that sets them and runs the real
# binary, so a test that restarts the server keeps them.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-pg_config}
MAKE=${MAKE:-make}
bindir=$("$PG_CONFIG" --bindir)
sharedir=$("$PG_CONFIG" --sharedir)
pkglibdir=$("$PG_CONFIG" --pkglibdir)
pgbin=$bindir

dir=$(mktemp -d "${TMPDIR:-/tmp}/deg-cluster.XXXXXX")
chmod 755 "$dir"
pgdata=$dir/data
sock=$dir/sock
log=$dir/server.log

as_server=()
if [ "$(id -u)" = 0 ]; then
	as_server=(runuser -u postgres --)
fi

started=no
cleanup() {
	local status=$?
	if [ "$started" = yes ]; then
		"${as_server[@]}" "$pgbin/pg_ctl" -D "$pgdata" -m immediate -w stop >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
	exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. install into a private copy of the installation (never the system's, so
#    that concurrent runs from different trees cannot disturb each other)
stage=$dir/stage
"$MAKE" -C "$here" -s --no-print-directory install DESTDIR="$stage" >/dev/null
mkdir -p "$stage$bindir" "$stage$sharedir/extension" "$stage$pkglibdir"
for b in postgres initdb pg_ctl; do cp "$bindir/$b" "$stage$bindir/"; done
for f in "$pkglibdir"/*; do
	[ -e "$stage$pkglibdir/$(basename "$f")" ] || ln -s "$f" "$stage$pkglibdir/"
done
for f in "$sharedir"/*; do
	[ "$(basename "$f")" = extension ] || ln -s "$f" "$stage$sharedir/"
done
for f in "$sharedir"/extension/*; do
	[ -e "$stage$sharedir/extension/$(basename "$f")" ] || ln -s "$f" "$stage$sharedir/extension/"
done
pgbin=$stage$bindir
if [ -n "${DEG_SERVER_ENV:-}" ]; then
	mv "$pgbin/postgres" "$pgbin/postgres.bin"
	printf '#!/bin/sh\nexec env %s "$0.bin" "$@"\n' "$DEG_SERVER_ENV" >"$pgbin/postgres"
	chmod 755 "$pgbin/postgres"
fi

# 2. a cluster on a unix socket
mkdir -p "$pgdata" "$sock"
if [ "${#as_server[@]}" -gt 0 ]; then
	chown postgres "$pgdata" "$sock"
	touch "$log" && chown postgres "$log"
fi
"${as_server[@]}" "$pgbin/initdb" -D "$pgdata" -U postgres -A trust --no-locale -E UTF8 \
	>"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }

port=${DEG_PORT:-$(( 20000 + RANDOM % 30000 ))}
while [ -e "$sock/.s.PGSQL.$port" ] || (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	port=$(( 20000 + RANDOM % 30000 ))
done

cat >>"$pgdata/postgresql.conf" <<EOF
listen_addresses = ''
unix_socket_directories = '$sock'
port = $port
fsync = off
shared_preload_libraries = 'pg_cron'
cron.database_name = 'deg_pgtap'
cron.use_background_workers = on
max_worker_processes = 16
log_min_messages = warning
EOF

"${as_server[@]}" "$pgbin/pg_ctl" -D "$pgdata" -l "$log" -w -t 60 start >/dev/null \
	|| { cat "$log" >&2; exit 1; }
started=yes

export PGHOST=$sock PGPORT=$port PGUSER=postgres PGDATABASE=postgres
export DEG_PGBIN=$pgbin DEG_PGDATA=$pgdata DEG_CLUSTER_DIR=$dir

# 3. the command
set +e
"$@"
status=$?
set -e
if [ $status -ne 0 ] && [ -s "$log" ]; then
	echo "--- server log (last 30 lines) ---" >&2
	tail -30 "$log" >&2
fi
exit $status
