#!/usr/bin/env bash
# The residents read/write benchmark on both backends in one run, side by side:
#   reads:  GET  /api/v1/residents/{id}   (wrk -t2 -c$CONC, keep-alive, bearer token)
#   writes: POST /api/v1/residents        (wrk -t2 -c$WCONC, a new valid ID number each request)
# One nuanxin process per backend, each on a fresh data set (init + demo --residents $N): SQLite in
# a temporary directory, PostgreSQL on a throw-away cluster (scripts/pg-test-cluster.sh, fsync off
# like the test cluster: see docs/performance.md). Rounds alternate the backends; medians reported.
#   bench/backends.sh [seconds per run] [rounds]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-5}; ROUNDS=${2:-3}; CONC=${CONC:-50}; WCONC=${WCONC:-8}; N=${N:-2000}
WORK=$(mktemp -d); STATE="$WORK/pg.state"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done
  "$ROOT/scripts/pg-test-cluster.sh" stop "$STATE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
PGURL=$("$ROOT/scripts/pg-test-cluster.sh" start "$STATE")
psql -X -q -d "$PGURL" -c "CREATE DATABASE nxbench"
PGDB="${PGURL%/*}/nxbench"

declare -A PORT TOKEN RID COMM GRID
for be in sqlite postgres; do
  d="$WORK/$be"; mkdir -p "$d"
  [ "$be" = postgres ] && echo "database = $PGDB" >"$d/nuanxin.conf"
  "$BIN" --data "$d" init >"$d/init.txt"
  "$BIN" --data "$d" demo --residents "$N" >"$d/demo.txt"
  pass=$(awk -F'：' '/初始密码/ {print $2}' "$d/init.txt")
  start_nuanxin "$d"
  PIDS+=("$NX_PID"); PORT[$be]=$NX_PORT
  TOKEN[$be]=$(login "$NX_PORT" admin "$pass")
  read -r rid comm grid < <(curl -sf "http://127.0.0.1:$NX_PORT/api/v1/residents?limit=1" \
    -H "Authorization: Bearer ${TOKEN[$be]}" | python3 -c 'import json,sys; r=json.load(sys.stdin)["items"][0]; print(r["id"], r["community_id"], r["grid_id"])')
  RID[$be]=$rid; COMM[$be]=$comm; GRID[$be]=$grid
done

for be in sqlite postgres; do : >"$OUT/backend_${be}_read.txt"; : >"$OUT/backend_${be}_write.txt"; done
for r in $(seq "$ROUNDS"); do
  for be in sqlite postgres; do
    url="http://127.0.0.1:${PORT[$be]}/api/v1/residents/${RID[$be]}"
    wrk_rps "$url" -t2 -c"$CONC" -d"${SECS}s" -H "Authorization: Bearer ${TOKEN[$be]}" >>"$OUT/backend_${be}_read.txt"
    out=$(wrk -t2 -c"$WCONC" -d"${SECS}s" -s "$ROOT/bench/post_resident.lua" \
      "http://127.0.0.1:${PORT[$be]}/api/v1/residents" -- "${TOKEN[$be]}" "${COMM[$be]}" "${GRID[$be]}" "$((r * 100000))")
    echo "$out" | awk '/Requests\/sec/ {print $2}' >>"$OUT/backend_${be}_write.txt"
    bad=$(echo "$out" | awk -F= '/non_2xx/ {print $2}')
    [ "${bad:-0}" = 0 ] || echo "warning: $be round $r: $bad writes not answered 201" >&2
  done
done

echo "residents on both backends: $N demo residents, $ROUNDS rounds × ${SECS}s, wrk -t2 (reads -c$CONC, writes -c$WCONC)"
printf '  %-10s %14s %14s\n' backend "GET req/s" "POST req/s"
for be in sqlite postgres; do
  printf '  %-10s %14s %14s   (runs: reads %s| writes %s)\n' "$be" \
    "$(median <"$OUT/backend_${be}_read.txt")" "$(median <"$OUT/backend_${be}_write.txt")" \
    "$(tr '\n' ' ' <"$OUT/backend_${be}_read.txt")" "$(tr '\n' ' ' <"$OUT/backend_${be}_write.txt")"
done
