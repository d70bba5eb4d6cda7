#!/usr/bin/env bash
# The wristband gateway end to end (issue 5), three measurements on one fresh data set
# (`init` + `demo --residents 2000`), one nuanxin process, `nuanxin simulate` as the devices:
#  (b) connections held: HOLD idle watches (keep-alives only, one a minute; unregistered devices, as
#      a fleet being rolled out is), ramped in at RAMP/s by simulator processes of at most HOLD_CHUNK
#      connections each; server-side count from /proc/PID/fd and `ss`; the server's RSS before and
#      after → bytes per connection (and the kernel's slab, system-wide, for both ends of each socket). Run first, on the fresh process, so that freed memory of the
#      other phases does not hide the cost.
#  (a) ingest: FLOOD_DEVICES registered watches bound to residents flood positions and health
#      readings as fast as the server answers, FLOOD_INFLIGHT pairs in flight per device (default 8;
#      FLOOD_INFLIGHT=1 is the flood of the figures before 2026-12-07's ninth session, whose send
#      rate was bounded by the round trip, below the raw rate, so stored/raw measured the simulator)
#      for SECS seconds; the rows left in the write queue when the flood stops (drained after it)
#      show that the offered load exceeded what the writer stores, so stored/s is the writer's rate;
#      rows stored per second counted in the database (device_positions + device_readings before and
#      right after the run), as a ratio to the simulator's send rate and to the reference: raw
#      batched SQLite writes of the same rows into a copy of the same database (bench/ingest_ref.c,
#      same pragmas, 200 rows per transaction), run alternately in each round; medians of ROUNDS.
#      Also the CPU time per stored row of the server, of its writer thread (nx-gw-writer) and of the
#      reference, and their per-round ratio raw/writer: on a shared machine the simulator and the
#      reference are starved in turn and rows/s moves with the load; CPU per row moves much less.
#  (c) alarm latency: BG_DEVICES registered watches report every BG_INTERVAL s (keep-alive,
#      position, reading) while SOS_N other registered watches each press SOS once, one every
#      SOS_EVERY_MS ms; a C client in the simulator's loop records the time from writing the SOS frame
#      to its ack and to the devices.alert.opened event on GET /api/v1/events/stream (admin token).
#      Repeated with the flood of (a) as the background (LAT_FLOOD=0 skips it).
# Prints a summary table and the load average (the machine is shared). Stops by itself, uses only
# 127.0.0.1, kills only the processes it started (by PID).
#   bench/gateway.sh [seconds per ingest run]       BUILD=build-bench bench/gateway.sh 10
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
export NUANXIN_BIN=${NUANXIN_BIN:-$BUILD/nuanxin}
source "$ROOT/bench/lib.sh"
REF="$BUILD/bench_ingest_ref"
SECS=${1:-10}; ROUNDS=${ROUNDS:-3}
FLOOD_DEVICES=${FLOOD_DEVICES:-200}; FLOOD_INFLIGHT=${FLOOD_INFLIGHT:-8}
BG_DEVICES=${BG_DEVICES:-2000}; BG_INTERVAL=${BG_INTERVAL:-5}
SOS_N=${SOS_N:-200}; SOS_EVERY_MS=${SOS_EVERY_MS:-100}; LAT_FLOOD=${LAT_FLOOD:-1}
RAMP=${RAMP:-4000}
ulimit -n "$(ulimit -Hn)"
NOFILE=$(ulimit -n)
# The server needs one descriptor per connection plus ~40 of its own; the target is 20 000.
if [ -z "${HOLD:-}" ]; then HOLD=20000; [ "$NOFILE" -ge $((HOLD + 100)) ] || HOLD=$((NOFILE - 100)); fi
HOLD_CHUNK=${HOLD_CHUNK:-$(( NOFILE - 100 < 10000 ? NOFILE - 100 : 10000 ))}
for f in "$BIN" "$REF"; do [ -x "$f" ] || { echo "missing $f (cmake --build $BUILD)" >&2; exit 1; }; done

WORK=$(mktemp -d); DATA="$WORK/data"; mkdir -p "$DATA"
PIDS=(); SRV_PID=
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

"$BIN" --data "$DATA" init >"$WORK/init.txt"
"$BIN" --data "$DATA" demo --residents 2000 >"$WORK/demo.txt"
PASS=$(awk -F'：' '/初始密码/ {print $2}' "$WORK/init.txt")
"$BIN" --data "$DATA" serve --listen 127.0.0.1:0 --watch-listen 127.0.0.1:0 --iw-listen off --web-root '' \
  --access-log false >"$WORK/serve.out" 2>>"$WORK/server.log" &
SRV_PID=$!
for _ in $(seq 200); do grep -q 'gateway watch on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.05; done
HP=$(awk -F: '/listening on/ {print $NF}' "$WORK/serve.out")
WP=$(awk -F: '/gateway watch on/ {print $NF}' "$WORK/serve.out")
[ -n "$HP" ] && [ -n "$WP" ] || { echo "server did not start" >&2; cat "$WORK/server.log" >&2; exit 1; }
TOKEN=$(login "$HP" admin "$PASS")
DB="$DATA/nuanxin.db"
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$@"; }
rows() { q "SELECT (SELECT count(*) FROM device_positions) + (SELECT count(*) FROM device_readings)"; }
rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$SRV_PID/status"; }
fds() { ls "/proc/$SRV_PID/fd" | wc -l; }
established() { ss -Htn state established "( sport = :$WP )" | wc -l; }
slab_kib() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }

# ---- (b) connections held, on the fresh process ----
sleep 2
FD0=$(fds); RSS0=$(rss_kib); MEM0=$(slab_kib)
HOLD_SECS=$(( HOLD / RAMP + 20 ))
SOURCES=()
[ "$HOLD" -gt 25000 ] && SOURCES=(--source 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4)
left=$HOLD; base=1000000; k=0; HPIDS=()
while [ "$left" -gt 0 ]; do
  n=$(( left < HOLD_CHUNK ? left : HOLD_CHUNK ))
  "$BIN" simulate --mode hold --devices "$n" --id-base "$base" --interval 60 --ramp $(( RAMP * n / HOLD )) \
    --duration "$HOLD_SECS" --target "127.0.0.1:$WP" ${SOURCES[@]+"${SOURCES[@]}"} \
    >"$WORK/hold.$k.json" 2>"$WORK/hold.$k.err" &
  PIDS+=($!); HPIDS+=($!)
  left=$((left - n)); base=$((base + n)); k=$((k + 1))
done
# wait until the server holds them all (or the ramp is long over), then let it settle
HELD=0
for _ in $(seq $(( (HOLD_SECS - 5) * 2 ))); do
  HELD=$(( $(fds) - FD0 )); [ "$HELD" -ge "$HOLD" ] && break; sleep 0.5
done
sleep 3
HELD=$(( $(fds) - FD0 )); EST=$(established); RSS1=$(rss_kib); MEM1=$(slab_kib)
for p in "${HPIDS[@]}"; do wait "$p" || true; done
HOLD_CONNECTED=0; HOLD_ERRORS=0
for f in "$WORK"/hold.*.json; do [ -e "$f" ] || continue  # HOLD=0: no phase (b)
  HOLD_CONNECTED=$((HOLD_CONNECTED + $(json "$f" connected))); HOLD_ERRORS=$((HOLD_ERRORS + $(json "$f" errors)))
done
PER_CONN=$(python3 -c "print(round(($RSS1 - $RSS0) * 1024 / max($HELD, 1)))")
KMEM=$(python3 -c "print(round(($MEM1 - $MEM0) * 1024 / max($HELD, 1)))")
LOAD_B=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 2

# ---- registered devices for (a) and (c): watches bound to demo residents ----
# flood 10000…, background 20000…, probes 30000… and 40000… (imei = 5600000000 + id-base + i)
python3 - "$HP" "$TOKEN" "$DB" "$FLOOD_DEVICES" "$BG_DEVICES" "$SOS_N" <<'PY'
import http.client, json, sqlite3, sys
port, token, db, nflood, nbg, nsos = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
res = [r[0] for r in sqlite3.connect(db).execute("SELECT id FROM residents ORDER BY id")]
c = http.client.HTTPConnection("127.0.0.1", int(port))
k = 0
for base, n in ((10000, nflood), (20000, nbg), (30000, nsos), (40000, nsos)):
    for i in range(n):
        body = json.dumps({"imei": "%010d" % (5600000000 + base + i), "protocol": "watch",
                           "resident_id": res[k % len(res)]})
        k += 1
        c.request("POST", "/api/v1/devices", body, {"Authorization": "Bearer " + token,
                                                    "Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        if r.status != 201:
            sys.exit(f"device registration: HTTP {r.status}")
PY
FLOOD_IDS=$(q "SELECT id FROM devices WHERE imei BETWEEN '$((5600010000))' AND '$((5600010000 + FLOOD_DEVICES - 1))' ORDER BY id")
q "SELECT imei, id FROM devices WHERE imei BETWEEN '5600030000' AND '5600049999'" | tr '|' ' ' >"$WORK/probe.map"

# ---- (a) ingest, alternating with the raw reference ----
q ".backup '$WORK/ref.db'"
: >"$WORK/ref.txt"; : >"$WORK/sent.txt"; : >"$WORK/stored.txt"; : >"$WORK/kept.txt"; : >"$WORK/ratio.txt"
: >"$WORK/cpu_srv.txt"; : >"$WORK/cpu_wr.txt"; : >"$WORK/cpu_ref.txt"; : >"$WORK/cpu_ratio.txt"
: >"$WORK/backlog.txt"
HZ=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "$1/stat"; } # ticks /proc/PID[/task/TID] → utime + stime
# the writer thread (named nx-gw-writer): its CPU per row is what a writer with a core of its own pays
WTID=$(for t in /proc/"$SRV_PID"/task/*; do [ "$(cat "$t/comm")" != nx-gw-writer ] || basename "$t"; done | head -1)
for r in $(seq "$ROUNDS"); do
  # shellcheck disable=SC2086
  /usr/bin/time -f '%U %S' -o "$WORK/ref.$r.time" "$REF" "$WORK/ref.db" "$SECS" $FLOOD_IDS >"$WORK/ref.$r.json"
  json "$WORK/ref.$r.json" rows_per_s >>"$WORK/ref.txt"
  python3 -c "u, s = map(float, open('$WORK/ref.$r.time').read().split()[-2:]); print(round((u + s) * 1e6 / $(json "$WORK/ref.$r.json" rows), 2))" >>"$WORK/cpu_ref.txt"
  S0=$(ticks "/proc/$SRV_PID"); W0=0; [ -n "$WTID" ] && W0=$(ticks "/proc/$SRV_PID/task/$WTID")
  C0=$(rows)
  "$BIN" simulate --mode flood --devices "$FLOOD_DEVICES" --inflight "$FLOOD_INFLIGHT" --id-base 10000 \
    --duration "$SECS" --target "127.0.0.1:$WP" >"$WORK/flood.$r.json" 2>/dev/null
  C1=$(rows)
  # the queue drains: wait until the count stops moving
  C2=$C1; while sleep 1; c=$(rows); [ "$c" != "$C2" ]; do C2=$c; done
  SENT=$(json "$WORK/flood.$r.json" "positions+readings"); FS=$(json "$WORK/flood.$r.json" seconds)
  json "$WORK/flood.$r.json" rows_per_s >>"$WORK/sent.txt"
  python3 -c "print(round(($C1 - $C0) / $FS, 1))" >>"$WORK/stored.txt"
  python3 -c "print(round(($C2 - $C0) / $SENT, 4))" >>"$WORK/kept.txt"
  echo $((C2 - C1)) >>"$WORK/backlog.txt"
  python3 -c "print(round(($C1 - $C0) / $FS / $(tail -1 "$WORK/ref.txt"), 3))" >>"$WORK/ratio.txt"
  S2=$(ticks "/proc/$SRV_PID"); W2=0; [ -n "$WTID" ] && W2=$(ticks "/proc/$SRV_PID/task/$WTID")
  python3 -c "print(round(($S2 - $S0) / $HZ * 1e6 / max(1, $C2 - $C0), 2))" >>"$WORK/cpu_srv.txt"
  if [ -n "$WTID" ]; then
    python3 -c "print(round(($W2 - $W0) / $HZ * 1e6 / max(1, $C2 - $C0), 2))" >>"$WORK/cpu_wr.txt"
    python3 -c "print(round($(tail -1 "$WORK/cpu_ref.txt") / max(0.01, $(tail -1 "$WORK/cpu_wr.txt")), 3))" >>"$WORK/cpu_ratio.txt"
  fi
done
REF_RPS=$(median <"$WORK/ref.txt"); SENT_RPS=$(median <"$WORK/sent.txt"); STORED_RPS=$(median <"$WORK/stored.txt")
KEPT=$(median <"$WORK/kept.txt"); RATIO=$(median <"$WORK/ratio.txt")
LOAD_A=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- (c) SOS → ack and → event stream, under background load ----
probe() { # probe NAME ID-BASE: the SOS probe while the background runs; result in $WORK/probe.NAME.json
  "$BIN" simulate --mode probe --devices "$SOS_N" --id-base "$2" --sos-every-ms "$SOS_EVERY_MS" \
    --duration $(( SOS_N * SOS_EVERY_MS / 1000 + 20 )) --target "127.0.0.1:$WP" --sse "127.0.0.1:$HP" \
    --token "$TOKEN" --id-map "$WORK/probe.map" >"$WORK/probe.$1.json" 2>"$WORK/probe.$1.err"
}
PROBE_SECS=$(( SOS_N * SOS_EVERY_MS / 1000 + 10 ))
"$BIN" simulate --devices "$BG_DEVICES" --id-base 20000 --interval "$BG_INTERVAL" --ramp 2000 \
  --duration $(( PROBE_SECS + BG_INTERVAL + 5 )) --target "127.0.0.1:$WP" >"$WORK/bg.json" 2>/dev/null &
BG_PID=$!; PIDS+=($BG_PID)
sleep $(( BG_INTERVAL + 3 ))
probe background 30000
LOAD_C=$(cut -d' ' -f1-3 /proc/loadavg)
wait "$BG_PID" || true
if [ "$LAT_FLOOD" = 1 ]; then
  # the second probe uses its own devices, so its SOS open new alerts rather than repeat the first's
  "$BIN" simulate --mode flood --devices "$FLOOD_DEVICES" --id-base 10000 --duration $(( PROBE_SECS + 3 )) \
    --target "127.0.0.1:$WP" >"$WORK/flood.lat.json" 2>/dev/null &
  FL_PID=$!; PIDS+=($FL_PID)
  sleep 2
  probe flood 40000
  wait "$FL_PID" || true
fi
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

lat() { # lat FILE KEY → "p50 p99 max n"
  json "$1" "'%s / %s / %s ms (n=%s of %s)' % ($2['p50'], $2['p99'], $2['max'], $2['n'], sos_sent) if $2 else 'none'"
}
BG_RATE=$(json "$WORK/bg.json" "round(frames / seconds)")
echo
echo "Wristband gateway, $(date -u +%F), $(nproc) cores, build $(basename "$BUILD"), open-files limit $NOFILE"
echo "(b) connections: $HOLD asked, $HELD held by the server (fds), $EST established on its port," \
  "simulators connected $HOLD_CONNECTED, errors $HOLD_ERRORS"
echo "    server RSS $((RSS0 / 1024)) → $((RSS1 / 1024)) MiB: $PER_CONN bytes per connection;" \
  "kernel slab (both ends of each connection, system-wide) $KMEM bytes per connection; load $LOAD_B"
echo "(a) ingest, flood of $FLOOD_DEVICES devices × $FLOOD_INFLIGHT pairs in flight, $ROUNDS × ${SECS}s (medians; runs in brackets):"
echo "    simulator sent      $SENT_RPS rows/s   ($(tr '\n' ' ' <"$WORK/sent.txt"))"
echo "    stored (database)   $STORED_RPS rows/s   ($(tr '\n' ' ' <"$WORK/stored.txt"))"
echo "    raw SQLite ref.     $REF_RPS rows/s   ($(tr '\n' ' ' <"$WORK/ref.txt"))"
echo "    stored/sent = $(python3 -c "print(f'{$STORED_RPS/$SENT_RPS:.2f}')"), stored/raw = $(python3 -c "print(f'{$STORED_RPS/$REF_RPS:.2f}')")," \
  "kept after the queue drained = $(python3 -c "print(f'{$KEPT:.3f}')") of sent; load $LOAD_A"
echo "    stored/raw per round (each flood next to its reference run): median $RATIO ($(tr '\n' ' ' <"$WORK/ratio.txt"))"
echo "    rows left in the write queue when the flood stopped: median $(median <"$WORK/backlog.txt") ($(tr '\n' ' ' <"$WORK/backlog.txt"))" \
  "— above 0: the offered load exceeded what was stored, so stored/s is the writer's rate, not the simulator's"
echo "    CPU µs per stored row: server $(median <"$WORK/cpu_srv.txt") ($(tr '\n' ' ' <"$WORK/cpu_srv.txt")), its writer thread" \
  "$( [ -s "$WORK/cpu_wr.txt" ] && median <"$WORK/cpu_wr.txt" || echo n/a) ($(tr '\n' ' ' <"$WORK/cpu_wr.txt")), raw reference $(median <"$WORK/cpu_ref.txt") ($(tr '\n' ' ' <"$WORK/cpu_ref.txt"))"
[ -s "$WORK/cpu_ratio.txt" ] && echo "    raw/writer CPU per row per round: median $(median <"$WORK/cpu_ratio.txt") ($(tr '\n' ' ' <"$WORK/cpu_ratio.txt")) — stored/raw where each writer has a core to itself"
echo "(c) SOS latency, $SOS_N SOS one every ${SOS_EVERY_MS} ms (p50 / p99 / max):"
echo "    background $BG_DEVICES devices every ${BG_INTERVAL}s ($BG_RATE frames/s):"
echo "      SOS → ack            $(lat "$WORK/probe.background.json" ack_ms)"
echo "      SOS → SSE event      $(lat "$WORK/probe.background.json" event_ms)   load $LOAD_C"
if [ "$LAT_FLOOD" = 1 ]; then
  echo "    background flood of $FLOOD_DEVICES devices ($(json "$WORK/flood.lat.json" "round(rows_per_s)") rows/s sent):"
  echo "      SOS → ack            $(lat "$WORK/probe.flood.json" ack_ms)"
  echo "      SOS → SSE event      $(lat "$WORK/probe.flood.json" event_ms)"
fi
echo "load average: start $LOAD0, end $LOAD1"
grep -E 'WARN|ERROR' "$WORK/server.log" | sed 's/^/server: /' | sort | uniq -c | sort -rn | head -5 || true
