#!/usr/bin/env bash
# Load and soak (docs/reliability.md, "Load and soak"): one nuanxin with a demo community of RESIDENTS
# residents, for SECS seconds at a set rate (not flat out: think times per connection), under
#   - staff browsing: STAFF_CONNS wrk connections, each a GET every ~STAFF_THINK_MS (resident lists,
#     searches, one resident, alerts, devices, applications, the overview; bench/soak_staff.lua);
#   - residents applying: APPLY_CONNS resident accounts, each creating then submitting an
#     application every ~APPLY_THINK_MS (bench/soak_apply.lua);
#   - WRISTBANDS registered wristbands (`nuanxin simulate`, 3G watch protocol, one connection each,
#     ramped in at RAMP/s), each reporting every INTERVAL s, an SOS with probability SOS_RATE per report.
# Reports wrk's latency percentiles and errors per role, the simulator's frames, alarms and
# acknowledgements, and the server's RSS, descriptors and threads every SAMPLE_S seconds
# (bench/out/soak-rss.csv) with the growth from the end of the ramp-up to the end.
# Loopback only; stops by itself after SECS; kills only what it started.
#   bench/soak.sh [SECS]            WRISTBANDS=5000 STAFF_CONNS=16 bench/soak.sh 300
# One process holds at most its open-files limit of connections (20 000 hard here, minus what HTTP and
# the database use), so WRISTBANDS defaults to 18 700 (the gateway keeps 1 292 for HTTP and the database: 18 708 device connections at most); more need two processes (bench/gateway_hold.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
export NUANXIN_BIN=${NUANXIN_BIN:-$BUILD/nuanxin}
source "$ROOT/bench/lib.sh"
SECS=${1:-${SECS:-300}}
RESIDENTS=${RESIDENTS:-2000}
WRISTBANDS=${WRISTBANDS:-18700}
INTERVAL=${INTERVAL:-60}
RAMP=${RAMP:-2000}
SOS_RATE=${SOS_RATE:-0.0005}
STAFF_CONNS=${STAFF_CONNS:-8}
STAFF_THINK_MS=${STAFF_THINK_MS:-200}
APPLY_CONNS=${APPLY_CONNS:-4}
APPLY_THINK_MS=${APPLY_THINK_MS:-500}
SAMPLE_S=${SAMPLE_S:-5}
PASS="Soak2026pass!"
command -v wrk >/dev/null || { echo "soak: wrk is missing (scripts/deps.sh test)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${NX_PID:-}" ] && stop_nuanxin
  cp "$WORK/server.log" "$OUT/soak-server.log" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "soak: preparing ($RESIDENTS residents, $WRISTBANDS wristbands to register)" >&2
ADMIN_PW=$("$BIN" --data "$WORK" init | awk -F'：' '/初始密码/ {print $2}')
"$BIN" --data "$WORK" demo --residents "$RESIDENTS" >/dev/null
"$BIN" --data "$WORK" serve --listen 127.0.0.1:0 --watch-listen 127.0.0.1:0 --iw-listen off --web-root '' \
  --access-log false --gw-max-connections "$(( $(ulimit -n) - 200 ))" >"$WORK/serve.out" 2>>"$WORK/server.log" &
NX_PID=$!
for _ in $(seq 200); do grep -q 'gateway watch on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
NX_PORT=$(awk -F: '/listening on/ {print $NF}' "$WORK/serve.out")
WATCH=$(awk -F: '/gateway watch on/ {print $NF}' "$WORK/serve.out")
[ -n "$NX_PORT" ] && [ -n "$WATCH" ] || { echo "soak: server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
TOKEN=$(login "$NX_PORT" admin "$ADMIN_PW")

# A service item without materials, resident accounts, and the wristbands registered (staff do that
# before a device reports; unregistered ones are quarantined and would raise nothing).
read -r ITEM TOKENS < <(python3 - "$NX_PORT" "$TOKEN" "$APPLY_CONNS" "$WRISTBANDS" "$PASS" <<'EOF'
import http.client, json, sys, threading
port, token, n_res, n_dev, pw = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def call(c, method, path, body=None, tok=token):
    c.request(method, path, body=json.dumps(body) if body is not None else None,
              headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
    r = c.getresponse()
    return r.status, json.loads(r.read() or b"null")
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
st, item = call(c, "POST", "/api/v1/service-items", {"code": "soak_item", "name": "压测事项",
    "form": [{"key": "a", "label": "甲", "type": "text"}],
    "steps": [{"code": "s1", "name": "审核", "role": "community", "days": 3}]})
assert st == 201, (st, item)
st, res = call(c, "GET", "/api/v1/residents?limit=%d" % n_res)
tokens = []
for k, r in enumerate(res["items"][:n_res]):
    st, u = call(c, "POST", "/api/v1/users", {"username": f"soak_res{k}", "display_name": f"居民{k}", "password": pw,
        "role": "resident", "scope": "self", "resident_id": r["id"], "community_id": r["community_id"],
        "must_change_password": False})
    assert st == 201, (st, u)
    c2 = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c2.request("POST", "/api/v1/auth/login", body=json.dumps({"username": f"soak_res{k}", "password": pw}),
               headers={"Content-Type": "application/json"})
    tokens.append(json.loads(c2.getresponse().read())["token"])
bad = []
def register(lo, hi):
    cc = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for i in range(lo, hi):
        st, _ = call(cc, "POST", "/api/v1/devices", {"imei": "%010d" % (5600000000 + i), "protocol": "watch"})
        if st not in (201, 409):  # 409: one of the demo's own wristbands, registered already
            bad.append(st)
ts = [threading.Thread(target=register, args=(k * n_dev // 8, (k + 1) * n_dev // 8)) for k in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
if bad:
    print(f"soak: {len(bad)} registrations failed: {sorted(set(bad))}", file=sys.stderr)
print(item["id"], " ".join(tokens))
EOF
)
RES_COUNT=$(curl -sf "http://127.0.0.1:$NX_PORT/api/v1/residents?limit=1" -H "Authorization: Bearer $TOKEN" |
  python3 -c 'import json,sys; print(json.load(sys.stdin).get("total") or 1)')
RSS_CSV="$OUT/soak-rss.csv"
echo "t_s,rss_kb,fds,threads" >"$RSS_CSV"
(
  t0=$(date +%s)
  while kill -0 "$NX_PID" 2>/dev/null; do
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$NX_PID/status" 2>/dev/null || echo 0)
    thr=$(awk '/^Threads/ {print $2}' "/proc/$NX_PID/status" 2>/dev/null || echo 0)
    fds=$(ls "/proc/$NX_PID/fd" 2>/dev/null | wc -l)
    echo "$(( $(date +%s) - t0 )),$rss,$fds,$thr" >>"$RSS_CSV"
    sleep "$SAMPLE_S"
  done
) &
PIDS+=($!)
echo "soak: ${SECS}s: $WRISTBANDS wristbands every ${INTERVAL}s (ramp ${RAMP}/s), $STAFF_CONNS staff connections" \
     "(~${STAFF_THINK_MS} ms think), $APPLY_CONNS residents applying (~${APPLY_THINK_MS} ms think)" >&2
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
"$BIN" simulate --devices "$WRISTBANDS" --interval "$INTERVAL" --ramp "$RAMP" --duration "$SECS" \
  --sos-rate "$SOS_RATE" --protocol watch --target "127.0.0.1:$WATCH" >"$OUT/soak-sim.json" 2>"$OUT/soak-sim.err" &
SIM=$!; PIDS+=($SIM)
wrk -t 2 -c "$STAFF_CONNS" -d "${SECS}s" --timeout 10s --latency -s "$ROOT/bench/soak_staff.lua" \
  "http://127.0.0.1:$NX_PORT" -- "$TOKEN" "$RES_COUNT" "$STAFF_THINK_MS" >"$OUT/soak-staff.txt" 2>&1 &
W1=$!; PIDS+=($W1)
# shellcheck disable=SC2086
wrk -t "$APPLY_CONNS" -c "$APPLY_CONNS" -d "${SECS}s" --timeout 10s -s "$ROOT/bench/soak_apply.lua" \
  "http://127.0.0.1:$NX_PORT" -- "$ITEM" "$APPLY_THINK_MS" $TOKENS >"$OUT/soak-apply.txt" 2>&1 &
W2=$!; PIDS+=($W2)
wait "$W1" "$W2" "$SIM" || true
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
sleep "$SAMPLE_S"
H=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NX_PORT/healthz")

echo "== soak: $SECS s, nuanxin $("$BIN" --version 2>/dev/null | head -1), $(nproc) cores, load before $LOAD0, after $LOAD1"
grep -h '^soak_result' "$OUT/soak-staff.txt" "$OUT/soak-apply.txt"
grep -h 'Requests/sec' "$OUT/soak-staff.txt" "$OUT/soak-apply.txt" | sed 's/^/wrk: /'
echo "simulate: $(tail -1 "$OUT/soak-sim.json")"
python3 - "$RSS_CSV" "$RAMP" "$WRISTBANDS" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if int(r["rss_kb"]) > 0]
ramp_s = int(sys.argv[3]) / max(1, int(sys.argv[2])) + 30  # connections in, first reports written
steady = [r for r in rows if int(r["t_s"]) >= ramp_s] or rows
first, last = steady[0], steady[-1]
peak = max(int(r["rss_kb"]) for r in rows)
mins = (int(last["t_s"]) - int(first["t_s"])) / 60 or 1
growth = (int(last["rss_kb"]) - int(first["rss_kb"])) / 1024
print(f"rss: {len(rows)} samples; after ramp-up (t={first['t_s']} s) {int(first['rss_kb'])/1024:.1f} MiB, "
      f"at the end (t={last['t_s']} s) {int(last['rss_kb'])/1024:.1f} MiB, peak {peak/1024:.1f} MiB; "
      f"growth {growth:+.1f} MiB ({growth/mins:+.2f} MiB/min); descriptors {first['fds']} -> {last['fds']}, "
      f"threads {first['threads']} -> {last['threads']}")
EOF
echo "healthz after: $H; samples in $RSS_CSV, the server's log in $OUT/soak-server.log"
