#!/usr/bin/env bash
# `make run`'s last step: serve the demo community and, beside it, the demo's 79 wristbands.
# Starts `nuanxin serve`, waits until it answers /healthz, then `nuanxin simulate --devices 79
# --id-base 1` against the gateway's watch port (the demo's devices are watch ids 5600000001…, bound
# to 王建国 and the oldest residents living alone): a position, a health reading and a keep-alive
# per wristband every minute, and now and then an SOS (about two an hour across the fleet), so the
# alarm centre has live data. Ctrl-C stops both. WRISTBANDS=0 starts no simulator; SOS_RATE sets
# the per-minute probability of an SOS per wristband.
# Usage: scripts/run.sh BIN DATA LISTEN
set -euo pipefail
bin="$1" data="$2" listen="$3"
wristbands="${WRISTBANDS:-79}"
sos_rate="${SOS_RATE:-0.0005}"

"$bin" serve --data "$data" --listen "$listen" &
server=$!
sim=""
stop() {
  trap - EXIT INT TERM
  [ -n "$sim" ] && kill "$sim" 2>/dev/null || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
}
trap stop EXIT INT TERM

watch="$("$bin" config --data "$data" 2>/dev/null | sed -n 's/^watch_listen = //p')"
host="${listen%:*}"
for _ in $(seq 1 100); do
  curl -fs "http://$host:${listen##*:}/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || exit 1
  sleep 0.1
done
if [ "$wristbands" -gt 0 ] && [ -n "$watch" ] && [ "$watch" != "off" ]; then
  echo "演示手环：${wristbands} 只模拟手环连接 ${watch}（每分钟上报一次，偶尔一键呼救）"
  "$bin" simulate --devices "$wristbands" --id-base 1 --interval 60 --sos-rate "$sos_rate" \
    --protocol watch --target "$watch" >"$data/simulator.log" 2>&1 &
  sim=$!
fi
wait "$server"
