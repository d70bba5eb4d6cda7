#!/usr/bin/env bash
# The residents read/write benchmark on both backends in one run, side by side:
#   reads:  GET  /api/v1/residents/{id}   (wrk -t2 -c$CONC, keep-alive, bearer token)
#   writes: POST /api/v1/residents        (wrk -t2 -c$WCONC, a new valid ID number each request)
# One nuanxin process per backend, each on a fresh data set (init + demo --residents $N): SQLite in
# a temporary directory, PostgreSQL on a throw-away cluster (scripts/pg-test-cluster.sh, fsync off
# like the test cluster: see docs/performance.md). Rounds alternate the backends; medians reported,
# with the ratio PostgreSQL / SQLite of each round (the figure to compare on a shared machine) and
# the load average beside each round. Each read run also records the CPU time per request (user +
# system from /proc: the nuanxin process, plus every process of the PostgreSQL cluster for the
# PostgreSQL runs — only the server under test is busy during its run), which a machine shared with
# other work moves much less than requests per second.
# BEFORE=/path/to/an/older/nuanxin also runs that binary in the same rounds, on copies of the same
# data sets (the SQLite directory copied, the PostgreSQL database cloned from the same template), so
# before and after are measured in one run under the same load.
#   bench/backends.sh [seconds per run] [rounds]        BEFORE=/tmp/old/nuanxin bench/backends.sh 5 5
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
PGDIR=$(awk -F= '/^dir=/ {print $2}' "$STATE")
# cpu_ticks PID… → utime + stime of the processes (and, for "pg", of the cluster's), in clock ticks
cpu_ticks() {
  local t=0 p list=() pm
  for p in "$@"; do
    if [ "$p" = pg ]; then
      pm=$(head -1 "$PGDIR/data/postmaster.pid"); list+=("$pm" $(pgrep -P "$pm"))
    else list+=("$p"); fi
  done
  for p in "${list[@]}"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
  echo $t
}
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

declare -A PORT TOKEN RID COMM GRID NXPID
RUNS=(sqlite postgres)
for be in sqlite postgres; do
  d="$WORK/$be"; mkdir -p "$d"
  [ "$be" = postgres ] && echo "database = $PGDB" >"$d/nuanxin.conf"
  "$BIN" --data "$d" init >"$d/init.txt"
  "$BIN" --data "$d" demo --residents "$N" >"$d/demo.txt"
done
if [ -n "${BEFORE:-}" ]; then
  # copies made before any server runs: the same rows, ids and accounts for both binaries
  cp -a "$WORK/sqlite" "$WORK/sqlite_before"
  psql -X -q -d "$PGURL" -c "CREATE DATABASE nxbefore TEMPLATE nxbench"
  cp -a "$WORK/postgres" "$WORK/postgres_before"
  echo "database = ${PGURL%/*}/nxbefore" >"$WORK/postgres_before/nuanxin.conf"
  RUNS=(sqlite postgres sqlite_before postgres_before)
fi
for run in "${RUNS[@]}"; do
  d="$WORK/$run"
  pass=$(awk -F'：' '/初始密码/ {print $2}' "$d/init.txt")
  if [[ $run = *_before ]]; then BIN=$BEFORE start_nuanxin "$d"; else start_nuanxin "$d"; fi
  PIDS+=("$NX_PID"); PORT[$run]=$NX_PORT; NXPID[$run]=$NX_PID
  TOKEN[$run]=$(login "$NX_PORT" admin "$pass")
  read -r rid comm grid < <(curl -sf "http://127.0.0.1:$NX_PORT/api/v1/residents?limit=1" \
    -H "Authorization: Bearer ${TOKEN[$run]}" | python3 -c 'import json,sys; r=json.load(sys.stdin)["items"][0]; print(r["id"], r["community_id"], r["grid_id"])')
  RID[$run]=$rid; COMM[$run]=$comm; GRID[$run]=$grid
done

for run in "${RUNS[@]}"; do : >"$OUT/backend_${run}_read.txt"; : >"$OUT/backend_${run}_write.txt"; : >"$OUT/backend_${run}_cpu.txt"; done
: >"$OUT/backend_load.txt"
for r in $(seq "$ROUNDS"); do
  for run in "${RUNS[@]}"; do
    url="http://127.0.0.1:${PORT[$run]}/api/v1/residents/${RID[$run]}"
    who=("${NXPID[$run]}"); [[ $run = postgres* ]] && who+=(pg)
    t0=$(cpu_ticks "${who[@]}")
    out=$(wrk -t2 -c"$CONC" -d"${SECS}s" -H "Authorization: Bearer ${TOKEN[$run]}" "$url")
    t1=$(cpu_ticks "${who[@]}")
    echo "$out" | awk '/Requests\/sec/ {print $2}' >>"$OUT/backend_${run}_read.txt"
    echo "$out" | awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
      '/requests in/ {printf "%.1f\n", d / hz * 1e6 / $1}' >>"$OUT/backend_${run}_cpu.txt"
    out=$(wrk -t2 -c"$WCONC" -d"${SECS}s" -s "$ROOT/bench/post_resident.lua" \
      "http://127.0.0.1:${PORT[$run]}/api/v1/residents" -- "${TOKEN[$run]}" "${COMM[$run]}" "${GRID[$run]}" "$((r * 100000))")
    echo "$out" | awk '/Requests\/sec/ {print $2}' >>"$OUT/backend_${run}_write.txt"
    bad=$(echo "$out" | awk -F= '/non_2xx/ {print $2}')
    [ "${bad:-0}" = 0 ] || echo "warning: $run round $r: $bad writes not answered 201" >&2
  done
  cut -d' ' -f1 /proc/loadavg >>"$OUT/backend_load.txt"
done

# ratio FILE-A FILE-B → the per-round ratios A/B and their median
ratios() { paste "$1" "$2" | awk '{printf "%.3f\n", $1 / $2}'; }
echo "residents on both backends: $N demo residents, $ROUNDS rounds × ${SECS}s, wrk -t2 (reads -c$CONC, writes -c$WCONC)"
echo "  load average: $LOAD0 before; 1-minute load after each round: $(tr '\n' ' ' <"$OUT/backend_load.txt")on $(nproc) cores"
printf '  %-16s %14s %14s %18s\n' run "GET req/s" "POST req/s" "GET CPU µs/req"
for run in "${RUNS[@]}"; do
  printf '  %-16s %14s %14s %18s   (runs: reads %s| writes %s)\n' "$run" \
    "$(median <"$OUT/backend_${run}_read.txt")" "$(median <"$OUT/backend_${run}_write.txt")" \
    "$(median <"$OUT/backend_${run}_cpu.txt")" \
    "$(tr '\n' ' ' <"$OUT/backend_${run}_read.txt")" "$(tr '\n' ' ' <"$OUT/backend_${run}_write.txt")"
done
for sfx in "" _before; do
  [ -s "$OUT/backend_sqlite${sfx}_read.txt" ] || continue
  rr=$(ratios "$OUT/backend_postgres${sfx}_read.txt" "$OUT/backend_sqlite${sfx}_read.txt")
  wr=$(ratios "$OUT/backend_postgres${sfx}_write.txt" "$OUT/backend_sqlite${sfx}_write.txt")
  printf '  postgres/sqlite%-8s reads %s (rounds: %s)  writes %s (rounds: %s)\n' "${sfx:- }" \
    "$(echo "$rr" | median)" "$(echo "$rr" | tr '\n' ' ')" "$(echo "$wr" | median)" "$(echo "$wr" | tr '\n' ' ')"
done
for sfx in "" _before; do
  [ -s "$OUT/backend_sqlite${sfx}_cpu.txt" ] || continue
  printf '  CPU per read, sqlite/postgres%-8s %s (what the ratio of requests/s would be where CPU is all that counts)\n' "${sfx:- }" \
    "$(python3 -c "print(round($(median <"$OUT/backend_sqlite${sfx}_cpu.txt") / $(median <"$OUT/backend_postgres${sfx}_cpu.txt"), 3))")"
done
if [ -n "${BEFORE:-}" ]; then
  for be in sqlite postgres; do
    rr=$(ratios "$OUT/backend_${be}_read.txt" "$OUT/backend_${be}_before_read.txt")
    wr=$(ratios "$OUT/backend_${be}_write.txt" "$OUT/backend_${be}_before_write.txt")
    printf '  %-8s after/before  reads %s (rounds: %s)  writes %s (rounds: %s)\n' "$be" \
      "$(echo "$rr" | median)" "$(echo "$rr" | tr '\n' ' ')" "$(echo "$wr" | median)" "$(echo "$wr" | tr '\n' ' ')"
  done
fi
