#!/usr/bin/env bash
# Connections held by the wristband gateway across two nuanxin processes on one PostgreSQL database —
# the city set-up of docs/operations.md, and the way past one process's open-files limit. Here every
# process is capped at 20 000 descriptors by a hard RLIMIT_NOFILE that root cannot raise (the
# sandbox), so one process holds at most ~19 900 device connections (bench/gateway.sh, phase b);
# two processes hold TOTAL between them, TOTAL/2 each, from `nuanxin simulate --mode hold`
# processes (idle watches: keep-alives once a minute, unregistered devices), ramped in at RAMP/s.
# Reported per process and in total: connections held (its descriptors beyond those it had before),
# established TCP connections on its port (ss), simulator-side connected/errors, and RSS before and
# after → bytes per connection. Loopback only; stops by itself; kills only what it started.
#   bench/gateway_hold.sh                TOTAL=24000 RAMP=3000 bench/gateway_hold.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
export NUANXIN_BIN=${NUANXIN_BIN:-$BUILD/nuanxin}
source "$ROOT/bench/lib.sh"
TOTAL=${TOTAL:-24000}; RAMP=${RAMP:-3000}
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
PER=$(( TOTAL / 2 ))
CHUNK=$(( NOFILE - 100 < 10000 ? NOFILE - 100 : 10000 ))
[ "$PER" -le $(( NOFILE - 100 )) ] || { echo "TOTAL/2 = $PER exceeds one process's open-files limit ($NOFILE)" >&2; exit 1; }

WORK=$(mktemp -d); STATE="$WORK/pg.state"
PIDS=(); SRV=()
cleanup() {
  local p
  for p in "${PIDS[@]}" "${SRV[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}" "${SRV[@]}"; do wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/pg-test-cluster.sh" stop "$STATE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
PGURL=$("$ROOT/scripts/pg-test-cluster.sh" start "$STATE")
psql -X -q -d "$PGURL" -c "CREATE DATABASE nxhold"
PGDB="${PGURL%/*}/nxhold"

mkdir -p "$WORK/a" "$WORK/b"
echo "database = $PGDB" >"$WORK/a/nuanxin.conf"
"$BIN" --data "$WORK/a" init >/dev/null
cp "$WORK/a/nuanxin.conf" "$WORK/a/nuanxin.key" "$WORK/b/"   # one database, one key: two processes
declare -a WP FD0 RSS0
for i in 0 1; do
  d="$WORK/$([ $i = 0 ] && echo a || echo b)"
  "$BIN" --data "$d" serve --listen 127.0.0.1:0 --watch-listen 127.0.0.1:0 --iw-listen off --web-root '' \
    --access-log false --gw-max-connections $(( NOFILE )) >"$d/serve.out" 2>>"$d/server.log" &
  SRV+=($!)
  for _ in $(seq 200); do grep -q 'gateway watch on' "$d/serve.out" 2>/dev/null && break; sleep 0.05; done
  WP[$i]=$(awk -F: '/gateway watch on/ {print $NF}' "$d/serve.out")
  [ -n "${WP[$i]}" ] || { echo "server $i did not start" >&2; cat "$d/server.log" >&2; exit 1; }
done
sleep 2
fds() { ls "/proc/$1/fd" | wc -l; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
for i in 0 1; do FD0[$i]=$(fds "${SRV[$i]}"); RSS0[$i]=$(rss_kib "${SRV[$i]}"); done

SECS=$(( TOTAL / RAMP + 25 ))
base=1000000; k=0
for i in 0 1; do
  left=$PER
  while [ "$left" -gt 0 ]; do
    n=$(( left < CHUNK ? left : CHUNK ))
    "$BIN" simulate --mode hold --devices "$n" --id-base "$base" --interval 60 --ramp $(( RAMP * n / TOTAL + 1 )) \
      --duration "$SECS" --target "127.0.0.1:${WP[$i]}" >"$WORK/hold.$k.json" 2>"$WORK/hold.$k.err" &
    PIDS+=($!)
    left=$((left - n)); base=$((base + n)); k=$((k + 1))
  done
done
held() { echo $(( $(fds "${SRV[$1]}") - FD0[$1] )); }
for _ in $(seq $(( (SECS - 5) * 2 ))); do
  [ "$(held 0)" -ge "$PER" ] && [ "$(held 1)" -ge "$PER" ] && break
  sleep 0.5
done
sleep 3
declare -a H EST RSS1
for i in 0 1; do
  H[$i]=$(held "$i"); EST[$i]=$(ss -Htn state established "( sport = :${WP[$i]} )" | wc -l); RSS1[$i]=$(rss_kib "${SRV[$i]}")
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
for p in "${PIDS[@]}"; do wait "$p" || true; done
PIDS=()
CONN=0; ERR=0
for f in "$WORK"/hold.*.json; do
  CONN=$((CONN + $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connected"])' "$f")))
  ERR=$((ERR + $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["errors"])' "$f")))
done
echo
echo "Wristband gateway, connections held by two processes on one PostgreSQL database, $(date +%F), $(nproc) cores, open-files limit $NOFILE per process"
for i in 0 1; do
  per=$(python3 -c "print(round((${RSS1[$i]} - ${RSS0[$i]}) * 1024 / max(${H[$i]}, 1)))")
  echo "  process $((i + 1)): ${H[$i]} held (descriptors), ${EST[$i]} established on its port, RSS $(( RSS0[$i] / 1024 )) → $(( RSS1[$i] / 1024 )) MiB: $per bytes per connection"
done
echo "  total: $(( H[0] + H[1] )) held, $(( EST[0] + EST[1] )) established; simulators connected $CONN of $TOTAL, errors $ERR"
echo "  load average: start $LOAD0, while held $LOAD1"
