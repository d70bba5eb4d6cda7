#!/usr/bin/env bash
# The canteen counter (issue 12): sustained POST /api/v1/canteen/sales per second and the p99 sale
# latency on a database holding the demo's three months of sales, beside a reference measured in the
# same run against the same server: a card top-up (POST …/cards/{id}/top-ups, one plain write
# transaction: the balance, a transaction row, an event) and GET /api/v1/canteen/sales/{id} (one
# authenticated read). A sale does what the counter needs — the diner's tier from their record, one
# subsidised meal per slot, the hash chain's head, the insert — in one write transaction, so
# sale/top-up says what pricing and the chain add to a write, and sale/read what the write costs over
# the HTTP, session and JSON path every request pays; ratios move less than raw figures when the
# machine is busy. The three alternate, ROUNDS times. The load average is printed with the figures.
#   bench/canteen.sh [seconds per run] [rounds]      env: CONC (connections, default 8), NUANXIN_BIN
set -euo pipefail
source "$(dirname "$0")/lib.sh"
SECS=${1:-10}; ROUNDS=${2:-3}; CONC=${CONC:-8}
DATA=$(mktemp -d); trap 'stop_nuanxin; rm -rf "$DATA"' EXIT
"$BIN" --data "$DATA" init >"$DATA/init.txt"
# the demo's accounts get one password here; the counter is the demo's canteen account (shitang)
PASS="Bench$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')9"
NX_DEMO_PASSWORD=$PASS "$BIN" --data "$DATA" demo >"$DATA/demo.txt"
start_nuanxin "$DATA"
TOKEN=$(login "$NX_PORT" shitang "$PASS")
api() { curl -sf "http://127.0.0.1:$NX_PORT$1" -H "Authorization: Bearer $TOKEN"; }
# today's lunch (Shanghai): its basic set; the diners holding a card; the newest sale for the reference
TODAY=$(TZ=Asia/Shanghai date +%F)
ITEM=$(api "/api/v1/canteen/menus?date=$TODAY&meal=lunch" |
  python3 -c 'import json,sys; m=json.load(sys.stdin)["items"]; print([i["id"] for x in m for i in x["items"] if i["price_class"]=="basic"][0])')
DINERS=$(api "/api/v1/canteen/cards?limit=100" |
  python3 -c 'import json,sys; print(",".join(str(c["resident_id"]) for c in json.load(sys.stdin)["items"]))')
SALES=$(api "/api/v1/canteen/sales?limit=1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("total") or "")')
SALE=$(api "/api/v1/canteen/sales?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
ROWS_BEFORE=$(api "/api/v1/canteen/sales/verify" | python3 -c 'import json,sys; print(json.load(sys.stdin)["checked"])')
: >"$OUT/canteen_top.txt"; : >"$OUT/canteen_top_p99.txt"
CARD=$(api "/api/v1/canteen/cards?limit=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
printf 'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = %s\n' \
  "'{\"amount\":100,\"method\":\"cash\"}'" >"$DATA/topup.lua"
: >"$OUT/canteen_sale.txt"; : >"$OUT/canteen_sale_p99.txt"; : >"$OUT/canteen_ref.txt"; : >"$OUT/canteen_ref_p99.txt"
# p99 from wrk --latency, in ms
p99() { awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; printf "%.2f\n", v}'; }
for r in $(seq "$ROUNDS"); do
  res=$(wrk -t2 -c"$CONC" -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$NX_PORT/api/v1/canteen/sales/$SALE")
  echo "$res" | awk '/Requests\/sec/ {print $2}' >>"$OUT/canteen_ref.txt"; echo "$res" | p99 >>"$OUT/canteen_ref_p99.txt"
  res=$(wrk -t2 -c"$CONC" -d"${SECS}s" --latency -s "$DATA/topup.lua" -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$NX_PORT/api/v1/canteen/cards/$CARD/top-ups")
  if echo "$res" | grep -q 'Non-2xx'; then echo "canteen: top-ups answered non-2xx" >&2; exit 1; fi
  echo "$res" | awk '/Requests\/sec/ {print $2}' >>"$OUT/canteen_top.txt"; echo "$res" | p99 >>"$OUT/canteen_top_p99.txt"
  res=$(wrk -t2 -c"$CONC" -d"${SECS}s" --latency -s "$(dirname "$0")/post_sale.lua" \
    "http://127.0.0.1:$NX_PORT/api/v1/canteen/sales" -- "$TOKEN" "$ITEM" "$$r$RANDOM" "$DINERS")
  echo "$res" | awk '/Requests\/sec/ {print $2}' >>"$OUT/canteen_sale.txt"; echo "$res" | p99 >>"$OUT/canteen_sale_p99.txt"
  bad=$(echo "$res" | awk -F= '/non_2xx/ {print $2}')
  [ "${bad:-0}" = 0 ] || { echo "canteen: $bad sales answered non-2xx" >&2; tail -5 "$DATA/server.log" >&2; exit 1; }
done
CHAIN=$(api "/api/v1/canteen/sales/verify" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(("ok" if d["ok"] else "BROKEN"), d["checked"])')
S=$(median <"$OUT/canteen_sale.txt"); R=$(median <"$OUT/canteen_ref.txt")
SP=$(median <"$OUT/canteen_sale_p99.txt"); RP=$(median <"$OUT/canteen_ref_p99.txt")
T=$(median <"$OUT/canteen_top.txt"); TP=$(median <"$OUT/canteen_top_p99.txt")
echo "canteen counter: $ROUNDS rounds × ${SECS}s, wrk -t2 -c$CONC, ${ROWS_BEFORE} sales on the chain before (demo: three months)${SALES:+, $SALES listed}"
echo "  POST /api/v1/canteen/sales        median ${S} sales/s, p99 ${SP} ms   (runs: $(tr '\n' ' ' <"$OUT/canteen_sale.txt"))"
echo "  POST …/cards/{id}/top-ups         median ${T} writes/s, p99 ${TP} ms  (reference; runs: $(tr '\n' ' ' <"$OUT/canteen_top.txt"))"
echo "  GET  /api/v1/canteen/sales/{id}   median ${R} req/s,   p99 ${RP} ms   (reference; runs: $(tr '\n' ' ' <"$OUT/canteen_ref.txt"))"
echo "  ratio sale/top-up = $(python3 -c "print(f'{$S/$T:.2f}')"), sale/read = $(python3 -c "print(f'{$S/$R:.3f}')")   chain after: $CHAIN rows"
echo "  load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
