#!/usr/bin/env bash
# Alarm latency, idle · flood · flood + busy, side by side (issue 18, item 3). One fresh data set
# (`init` + `demo --residents 2000`), one nuanxin process, `nuanxin simulate` as the wristbands; in
# each phase SOS_N registered watches (new ones per phase, so each SOS opens a new alert) press SOS
# once, one every SOS_EVERY_MS ms, and the probe (simulate --mode probe) records frame written → the
# alarm's ack on the device's socket, and → the devices.alert.opened event on
# GET /api/v1/events/stream (admin token). The phases:
#   idle        nothing else runs;
#   flood       FLOOD_DEVICES registered watches flood positions and readings as fast as the server
#               answers (the ingest flood of bench/gateway.sh);
#   flood+busy  the same flood, and beside it two CPU-bound processes (a shell loop each) and a large
#               export (GET /api/v1/residents/export, all residents as .xlsx, again and again) — the
#               small community box that also runs backups, exports and a browser.
# ROUNDS rounds of the three phases (each round on new devices); p50/p99/max are over all SOS of a
# phase (medians of the rounds' p99 printed beside). BACKEND=postgres runs the server on a
# throw-away PostgreSQL cluster (scripts/pg-test-cluster.sh, fsync off). Prints the load average of
# each phase: the machine may be shared. Kills only the processes it started (by PID). TRACE=1: the
# server writes each alarm's stage timestamps (NX_SOS_TRACE, src/base/trace.h) and the end prints
# where the alarms waited, hand-off by hand-off (bench/sos_trace.py; over all phases run, so use it
# with PHASES=busy), and who held the write lock how long.
#   bench/sos.sh                 SOS_N=100 SOS_EVERY_MS=50 ROUNDS=1 bench/sos.sh     BACKEND=postgres bench/sos.sh
#   TRACE=1 PHASES=busy bench/sos.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
export NUANXIN_BIN=${NUANXIN_BIN:-$BUILD/nuanxin}
source "$ROOT/bench/lib.sh"
SOS_N=${SOS_N:-200}; SOS_EVERY_MS=${SOS_EVERY_MS:-100}; ROUNDS=${ROUNDS:-1}
FLOOD_DEVICES=${FLOOD_DEVICES:-200}; BACKEND=${BACKEND:-sqlite}; PHASES=${PHASES:-"idle flood busy"}
WORK=$(mktemp -d); DATA="$WORK/data"; mkdir -p "$DATA"; STATE="$WORK/pg.state"
PIDS=(); BUSY=()
cleanup() {
  local p
  for p in "${BUSY[@]}" "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BUSY[@]}" "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ "$BACKEND" = postgres ] && "$ROOT/scripts/pg-test-cluster.sh" stop "$STATE" >/dev/null 2>&1
  [ -n "${KEEP_LOG:-}" ] && cp "$WORK/server.log" "$KEEP_LOG"
  rm -rf "$WORK"
}
trap cleanup EXIT
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

if [ "$BACKEND" = postgres ]; then
  PGURL=$("$ROOT/scripts/pg-test-cluster.sh" start "$STATE")
  psql -X -q -d "$PGURL" -c "CREATE DATABASE nxsos"
  echo "database = ${PGURL%/*}/nxsos" >"$DATA/nuanxin.conf"
fi
"$BIN" --data "$DATA" init >"$WORK/init.txt"
"$BIN" --data "$DATA" demo --residents 2000 >"$WORK/demo.txt" 2>/dev/null
PASS=$(awk -F'：' '/初始密码/ {print $2}' "$WORK/init.txt")
TRACE_FILE=; [ -n "${TRACE:-}" ] && TRACE_FILE="$WORK/sos-trace.txt"
NX_SOS_TRACE=$TRACE_FILE "$BIN" --data "$DATA" serve --listen 127.0.0.1:0 --watch-listen 127.0.0.1:0 --iw-listen off --web-root '' \
  --access-log false >"$WORK/serve.out" 2>>"$WORK/server.log" &
SRV_PID=$!; PIDS+=("$SRV_PID")
for _ in $(seq 200); do grep -q 'gateway watch on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(awk -F: '/listening on/ {print $NF}' "$WORK/serve.out")
WP=$(awk -F: '/gateway watch on/ {print $NF}' "$WORK/serve.out")
[ -n "$HP" ] && [ -n "$WP" ] || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
TOKEN=$(login "$HP" admin "$PASS")

# registered watches bound to residents: flood 10000…, probes 30000 + 1000·k … (one block per phase
# and round); the probe's map (imei → device id) comes from the API's answers, on either backend
NPROBE=$(( 3 * ROUNDS ))
if [ "$BACKEND" = postgres ]; then
  psql -X -qAt -d "${PGURL%/*}/nxsos" -c "SELECT id FROM residents ORDER BY id LIMIT 2000" >"$WORK/res.txt"
else
  sqlite3 -cmd '.timeout 5000' "$DATA/nuanxin.db" "SELECT id FROM residents ORDER BY id LIMIT 2000" >"$WORK/res.txt"
fi
python3 - "$HP" "$TOKEN" "$FLOOD_DEVICES" "$SOS_N" "$NPROBE" "$WORK/probe.map" "$WORK/res.txt" <<'PY'
import http.client, json, sys
port, token, nflood, nsos, nprobe, mapfile = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:6]), sys.argv[6]
c = http.client.HTTPConnection("127.0.0.1", int(port))
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
res = [int(x) for x in open(sys.argv[7]).read().split()]
blocks = [(10000, nflood)] + [(30000 + 1000 * k, nsos) for k in range(nprobe)]
k = 0
with open(mapfile, "w") as out:
    for base, n in blocks:
        for i in range(n):
            imei = "%010d" % (5600000000 + base + i)
            c.request("POST", "/api/v1/devices", json.dumps({"imei": imei, "protocol": "watch",
                      "resident_id": res[k % len(res)]}), h)
            k += 1
            r = c.getresponse(); body = r.read()
            if r.status != 201:
                sys.exit(f"device registration: HTTP {r.status} {body[:300]}")
            if base >= 30000:
                out.write("%s %d\n" % (imei, json.loads(body)["id"]))
PY

PROBE_SECS=$(( SOS_N * SOS_EVERY_MS / 1000 + 10 ))
probe() { # probe NAME ID-BASE
  "$BIN" simulate --mode probe --devices "$SOS_N" --id-base "$2" --sos-every-ms "$SOS_EVERY_MS" \
    --duration $(( PROBE_SECS + 10 )) --target "127.0.0.1:$WP" --sse "127.0.0.1:$HP" \
    --token "$TOKEN" --id-map "$WORK/probe.map" >"$WORK/probe.$1.json" 2>"$WORK/probe.$1.err"
}
start_busy() { # two CPU-bound processes and an export loop
  local i
  for i in 1 2; do bash -c 'while :; do :; done' & BUSY+=($!); done
  bash -c 'while :; do curl -sf -o /dev/null -H "Authorization: Bearer $1" \
    "http://127.0.0.1:$2/api/v1/residents/export?limit=200000" || sleep 0.2; done' _ "$TOKEN" "$HP" &
  BUSY+=($!)
}
stop_busy() { local p; for p in "${BUSY[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; BUSY=(); }

k=0
for r in $(seq "$ROUNDS"); do
  for ph in $PHASES; do
    name="$ph.$r"; FL_PID=
    if [ "$ph" != idle ]; then
      "$BIN" simulate --mode flood --devices "$FLOOD_DEVICES" --id-base 10000 --duration $(( PROBE_SECS + 3 )) \
        --target "127.0.0.1:$WP" >"$WORK/flood.$name.json" 2>/dev/null &
      FL_PID=$!; PIDS+=("$FL_PID")
    fi
    [ "$ph" = busy ] && start_busy
    sleep 2
    probe "$name" $(( 30000 + 1000 * k ))
    cut -d' ' -f1-3 /proc/loadavg >"$WORK/load.$name"
    stop_busy
    [ -n "$FL_PID" ] && { wait "$FL_PID" || true; }
    k=$((k + 1))
  done
done

echo
echo "SOS latency, $(date -u +%F), $(nproc) cores, backend $BACKEND, build $(basename "$BUILD");" \
  "$SOS_N SOS one every $SOS_EVERY_MS ms per phase, $ROUNDS round(s)"
printf '  %-11s %-34s %-34s %s\n' phase "SOS → ack p50 / p99 / max ms" "SOS → live event p50 / p99 / max ms" "load (1 5 15)"
for ph in $PHASES; do
  python3 - "$WORK" "$ph" "$ROUNDS" <<'PY'
import json, sys, statistics
work, ph, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")
cols, loads = [], []
for key in ("ack_ms", "event_ms"):
    allv, p99s, sent, n = [], [], 0, 0
    for r in range(1, rounds + 1):
        d = json.load(open(f"{work}/probe.{ph}.{r}.json"))
        s = d.get(key) or {}
        p99s.append(s.get("p99", float("nan"))); n += s.get("n", 0); sent += d.get("sos_sent", 0)
        allv += d.get(key + "_all", [])
    st = "n/a"
    if p99s:
        st = "%s p99 (rounds: %s) n=%d/%d" % (statistics.median(p99s), " ".join(map(str, p99s)), n, sent)
        if rounds == 1:
            s = json.load(open(f"{work}/probe.{ph}.1.json")).get(key) or {}
            st = "%s / %s / %s (n=%d/%d)" % (s.get("p50"), s.get("p99"), s.get("max"), n, sent)
    cols.append(st)
for r in range(1, rounds + 1):
    loads.append(open(f"{work}/load.{ph}.{r}").read().strip())
name = {"idle": "idle", "flood": "flood", "busy": "flood+busy"}[ph]
print("  %-11s %-34s %-34s %s" % (name, cols[0], cols[1], " | ".join(loads)))
PY
done
grep -E 'WARN|ERROR' "$WORK/server.log" | sed 's/^/server: /' | sort | uniq -c | sort -rn | head -5 || true
if [ -n "$TRACE_FILE" ]; then
  echo
  echo "Where the alarms waited (server-side stages, all phases run):"
  python3 "$ROOT/bench/sos_trace.py" "$TRACE_FILE"
  if [ -n "${BENCH_OUT:-}" ]; then cp "$TRACE_FILE" "$BENCH_OUT/sos-trace.$BACKEND.txt"; fi
fi
