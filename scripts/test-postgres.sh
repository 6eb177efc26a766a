#!/usr/bin/env bash
# Throwaway PostgreSQL for the store tests.
#
#   eval "$(scripts/test-postgres.sh)"        # start; exports VOXFLOW_TEST_POSTGRES_DSN and VOXFLOW_TEST_POSTGRES_DIR
#   go test ./store/
#   scripts/test-postgres.sh stop "$VOXFLOW_TEST_POSTGRES_DIR"
#
#   scripts/test-postgres.sh test [go test args...]   # start, go test ./store/, stop
#
# Needs the PostgreSQL server binaries (Debian: apt-get install -y postgresql).
# The cluster lives in a temp dir, listens on 127.0.0.1 only (unix socket in
# the temp dir), trusts local connections, and runs as the postgres user when
# started by root (PostgreSQL refuses to run as root).
set -euo pipefail

log() { echo "test-postgres: $*" >&2; }

find_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
	if [[ -z "$d" || ! -x "$d/initdb" ]]; then
		if command -v initdb >/dev/null 2>&1; then
			d=$(dirname "$(command -v initdb)")
		else
			log "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and PATH)."
			log "Install them: apt-get update && apt-get install -y postgresql"
			exit 1
		fi
	fi
	echo "$d"
}

# as_pg runs a command as the postgres user when we are root.
as_pg() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
	local bindir dir port tries
	bindir=$(find_bindir)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/voxflow-pg.XXXXXX")
	mkdir -p "$dir/sock"
	if [[ $(id -u) -eq 0 ]]; then
		chown -R postgres:postgres "$dir"
	fi
	as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
		as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
		log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1
	}
	for tries in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 20000))
		port_free "$port" || continue
		if as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
			start >/dev/null 2>&1; then
			as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres voxflow_test
			log "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') running on 127.0.0.1:$port, data in $dir"
			log "stop it with: $0 stop $dir"
			echo "export VOXFLOW_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:$port/voxflow_test?sslmode=disable'"
			echo "export VOXFLOW_TEST_POSTGRES_DIR='$dir'"
			return 0
		fi
	done
	log "could not start PostgreSQL; server log:"
	cat "$dir/server.log" >&2 || true
	rm -rf "$dir"
	exit 1
}

stop() {
	local dir=${1:?usage: $0 stop DIR}
	local bindir
	bindir=$(find_bindir)
	if [[ ! -d "$dir/data" ]]; then
		log "$dir is not a test-postgres directory"
		exit 1
	fi
	as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || log "pg_ctl stop failed (already stopped?)"
	rm -rf "$dir"
}

case "${1:-start}" in
start)
	start
	;;
stop)
	stop "${2:-}"
	;;
test)
	shift
	env_lines=$(start)
	eval "$env_lines"
	trap 'stop "$VOXFLOW_TEST_POSTGRES_DIR"' EXIT
	cd "$(dirname "$0")/.."
	go test "$@" ./store/
	;;
*)
	echo "usage: $0 [start] | stop DIR | test [go test args...]" >&2
	exit 2
	;;
esac
