#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the tests: initdb in a temporary directory, a server on a free
# loopback port, trust authentication for the user `nuanxin`, no system service, no fsync.
#
#   scripts/pg-test-cluster.sh start STATE   -> prints the URL (postgres://nuanxin@127.0.0.1:PORT/postgres)
#   scripts/pg-test-cluster.sh restart STATE -> fast restart on the same port (for the outage test)
#   scripts/pg-test-cluster.sh stop STATE    -> stops the server and removes the directory
#
# STATE is a file this script writes (the cluster's directory, port, user); pass the same one to stop.
# As root the server runs as the `postgres` user (created by Debian's postgresql-common) or, when it
# does not exist, as a dedicated system user `nxpg`. Needs postgresql-15 (scripts/deps.sh test).
set -euo pipefail
cmd=${1:-}
state=${2:-${NX_PG_STATE:-}}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|restart|stop STATEFILE" >&2; exit 2; }

bindir=""
for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
  [ -x "$d/pg_ctl" ] && { bindir=$d; break; }
done
[ -n "$bindir" ] || { echo "pg-test-cluster: PostgreSQL server binaries not found (apt-get install postgresql-15)" >&2; exit 1; }

as_user() { # run "$@" as the cluster's user
  if [ "$(id -u)" -eq 0 ]; then runuser -u "$pguser" -- "$@"; else "$@"; fi
}

case "$cmd" in
start)
  pguser=$(id -un)
  if [ "$(id -u)" -eq 0 ]; then
    if id postgres >/dev/null 2>&1; then pguser=postgres
    else
      id nxpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin nxpg
      pguser=nxpg
    fi
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/nx-pg-XXXXXX")
  chmod 700 "$dir"
  [ "$(id -u)" -eq 0 ] && chown "$pguser" "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_user "$bindir/initdb" -D "$dir/data" -U nuanxin -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  printf 'dir=%s\nport=%s\nuser=%s\nbindir=%s\n' "$dir" "$port" "$pguser" "$bindir" >"$state"
  opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c full_page_writes=off"
  opts="$opts -c max_connections=400 -c shared_buffers=64MB -c log_min_messages=warning"
  printf '%s\n' "$opts" >"$dir/opts"
  as_user "$bindir/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/server.log" -w -t 60 start >/dev/null ||
    { cat "$dir/server.log" >&2; exit 1; }
  echo "postgres://nuanxin@127.0.0.1:$port/postgres"
  ;;
restart|stop)
  [ -f "$state" ] || { echo "pg-test-cluster: no state file $state" >&2; exit 1; }
  # shellcheck disable=SC1090
  . "$state"
  pguser=$user
  if [ "$cmd" = restart ]; then
    as_user "$bindir/pg_ctl" -D "$dir/data" -o "$(cat "$dir/opts")" -l "$dir/server.log" -m fast -w -t 60 restart >/dev/null
  else
    as_user "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 60 stop >/dev/null 2>&1 || true
    rm -rf "$dir" "$state"
  fi
  ;;
*) echo "usage: $0 start|restart|stop STATEFILE" >&2; exit 2 ;;
esac
