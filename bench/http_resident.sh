#!/usr/bin/env bash
# HTTP throughput of GET /api/v1/residents/{id} (authenticated, keep-alive) as a ratio to nginx
# serving the same JSON bytes as a static file, measured alternately in the same run.
# By default the three share both cores, as wrk against a server on one machine does (the issue's
# setup). PIN=1 pins both servers to the same core (CPU 1) and wrk to the other (CPU 0), so each
# server gets exactly one core and the load generator never competes with it: a stricter view of
# the work each does per request. Either way the script also prints CPU time per request.
# BEFORE=/path/to/an/older/nuanxin also runs that binary in the same rounds on a copy of the same
# data (same resident, same bytes) and prints its figures and the per-round ratios new/old.
#   bench/http_resident.sh [seconds per run] [rounds]     BEFORE=/tmp/old/nuanxin bench/http_resident.sh 5 5
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-10}; ROUNDS=${2:-3}; CONC=${CONC:-50}; PIN=${PIN:-0}
SRV=(); GEN=(); WORKERS=2
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  SRV=(taskset -c 1); GEN=(taskset -c 0); WORKERS=1
fi
DATA=$(mktemp -d); OLD_PID=
trap 'stop_nuanxin; [ -n "$OLD_PID" ] && kill $OLD_PID 2>/dev/null; [ -n "${NGINX_PID:-}" ] && kill $NGINX_PID 2>/dev/null; rm -rf "$DATA" "$DATA.before"' EXIT
"$BIN" --data "$DATA" init >"$DATA/init.txt"
"$BIN" --data "$DATA" demo --residents 2000 >"$DATA/demo.txt"
PASS=$(awk -F'：' '/初始密码/ {print $2}' "$DATA/init.txt")
NX_WRAP=("${SRV[@]}")
if [ -n "${BEFORE:-}" ]; then
  cp -a "$DATA" "$DATA.before" # before any server runs: the same rows, ids and accounts
  BIN=$BEFORE start_nuanxin "$DATA.before"
  OLD_PID=$NX_PID; OLD_PORT=$NX_PORT
  OLD_TOKEN=$(login "$OLD_PORT" admin "$PASS")
fi
start_nuanxin "$DATA"
TOKEN=$(login "$NX_PORT" admin "$PASS")
RID=$(curl -sf "http://127.0.0.1:$NX_PORT/api/v1/residents?limit=1&sort=created" -H "Authorization: Bearer $TOKEN" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
mkdir -p "$DATA/www"
curl -sf "http://127.0.0.1:$NX_PORT/api/v1/residents/$RID" -H "Authorization: Bearer $TOKEN" >"$DATA/www/resident.json"
BYTES=$(stat -c %s "$DATA/www/resident.json")
NGPORT=$(free_port)
cat >"$DATA/nginx.conf" <<CONF
worker_processes $WORKERS;
error_log $DATA/nginx-error.log;
pid $DATA/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  default_type application/json;
  server { listen 127.0.0.1:$NGPORT; root $DATA/www; }
}
CONF
"${SRV[@]}" nginx -c "$DATA/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
sleep 0.5
# cpu_ticks PID… → utime + stime of the processes, in clock ticks
cpu_ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }
# run_wrk OUTFILE CPUFILE URL [wrk args…] (PIDS: the server's processes) → appends req/s and µs/request
run_wrk() {
  local out=$1 cpu=$2 url=$3; shift 3
  local t0 t1 res; t0=$(cpu_ticks $PIDS)
  res=$("${GEN[@]}" wrk -t2 -c"$CONC" -d"${SECS}s" "$@" "$url")
  t1=$(cpu_ticks $PIDS)
  echo "$res" | awk '/Requests\/sec/ {print $2}' >>"$out"
  echo "$res" | awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" \
    '/requests in/ {printf "%.1f\n", d / hz * 1e6 / $1}' >>"$cpu"
}
NG_PIDS=$(pgrep -P "$NGINX_PID" | tr '\n' ' ')
NX_URL="http://127.0.0.1:$NX_PORT/api/v1/residents/$RID"
NG_URL="http://127.0.0.1:$NGPORT/resident.json"
: >"$OUT/http_nx.txt"; : >"$OUT/http_ng.txt"
: >"$OUT/http_nx_cpu.txt"; : >"$OUT/http_ng_cpu.txt"
: >"$OUT/http_old.txt"; : >"$OUT/http_old_cpu.txt"; : >"$OUT/http_load.txt"
for r in $(seq "$ROUNDS"); do
  PIDS=$NG_PIDS run_wrk "$OUT/http_ng.txt" "$OUT/http_ng_cpu.txt" "$NG_URL"
  PIDS=$NX_PID run_wrk "$OUT/http_nx.txt" "$OUT/http_nx_cpu.txt" "$NX_URL" -H "Authorization: Bearer $TOKEN"
  [ -n "$OLD_PID" ] && PIDS=$OLD_PID run_wrk "$OUT/http_old.txt" "$OUT/http_old_cpu.txt" \
    "http://127.0.0.1:$OLD_PORT/api/v1/residents/$RID" -H "Authorization: Bearer $OLD_TOKEN"
  cut -d' ' -f1 /proc/loadavg >>"$OUT/http_load.txt"
done
NX=$(median <"$OUT/http_nx.txt"); NG=$(median <"$OUT/http_ng.txt")
NXC=$(median <"$OUT/http_nx_cpu.txt"); NGC=$(median <"$OUT/http_ng_cpu.txt")
RATIO=$(python3 -c "print(f'{$NX/$NG:.2f}')"); CRATIO=$(python3 -c "print(f'{$NGC/$NXC:.2f}')")
echo "GET /api/v1/residents/{id}: ${BYTES} bytes, $ROUNDS rounds × ${SECS}s, wrk -t2 -c$CONC, pinned=${PIN}"
echo "  nuanxin median ${NX} req/s   (runs: $(tr '\n' ' ' <"$OUT/http_nx.txt"))"
echo "  nginx   median ${NG} req/s   (runs: $(tr '\n' ' ' <"$OUT/http_ng.txt"))"
echo "  ratio nuanxin/nginx = $RATIO (issue 18 targets: ≥ 1.0 with shared cores, ≥ 0.6 pinned)"
echo "  server CPU per request: nuanxin ${NXC} µs (runs: $(tr '\n' ' ' <"$OUT/http_nx_cpu.txt")), nginx ${NGC} µs (runs: $(tr '\n' ' ' <"$OUT/http_ng_cpu.txt"))"
echo "  CPU ratio nginx/nuanxin = $CRATIO (what the throughput ratio would be on an otherwise idle core)"
echo "  1-minute load average after each round: $(tr '\n' ' ' <"$OUT/http_load.txt")on $(nproc) cores"
if [ -n "$OLD_PID" ]; then
  cmp -s "$DATA/www/resident.json" <(curl -sf "http://127.0.0.1:$OLD_PORT/api/v1/residents/$RID" \
    -H "Authorization: Bearer $OLD_TOKEN") || echo "  warning: the BEFORE binary answers different bytes" >&2
  per_round() { paste "$1" "$2" | awk '{printf "%.3f\n", $1 / $2}'; }
  RR=$(per_round "$OUT/http_nx.txt" "$OUT/http_old.txt"); CR=$(per_round "$OUT/http_old_cpu.txt" "$OUT/http_nx_cpu.txt")
  echo "  before ($BEFORE): median $(median <"$OUT/http_old.txt") req/s (runs: $(tr '\n' ' ' <"$OUT/http_old.txt")), CPU $(median <"$OUT/http_old_cpu.txt") µs/request (runs: $(tr '\n' ' ' <"$OUT/http_old_cpu.txt"))"
  echo "  after/before req/s per round: median $(echo "$RR" | median) ($(echo "$RR" | tr '\n' ' '))"
  echo "  before/after CPU per request per round: median $(echo "$CR" | median) ($(echo "$CR" | tr '\n' ' '))"
fi
