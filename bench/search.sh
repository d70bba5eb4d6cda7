#!/usr/bin/env bash
# Search latency (p50/p99) of GET /api/v1/residents?q=… over N generated residents, for name,
# pinyin-initials and phone-tail queries, one client at a time (wrk -t1 -c1 --latency); the
# reference is GET /healthz measured the same way in the same run (the HTTP floor). Also records
# start-up time (until /readyz answers) and idle RSS with that many residents.
#   bench/search.sh [residents] [seconds per kind]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
N=${1:-100000}; SECS=${2:-10}
DATA=$(mktemp -d); trap 'stop_nuanxin; rm -rf "$DATA"' EXIT
"$BIN" --data "$DATA" init >"$DATA/init.txt"
T0=$(date +%s.%N)
"$BIN" --data "$DATA" demo --residents "$N" >"$DATA/demo.txt"
T1=$(date +%s.%N)
PASS=$(awk -F'：' '/初始密码/ {print $2}' "$DATA/init.txt")
echo "generated $N residents in $(python3 -c "print(f'{$T1-$T0:.1f}')") s"

# start-up: five starts, median time until /readyz answers
: >"$OUT/startup.txt"
for i in 1 2 3 4 5; do
  S0=$(date +%s.%N)
  start_nuanxin "$DATA"
  until curl -sf "http://127.0.0.1:$NX_PORT/readyz" >/dev/null; do sleep 0.005; done
  S1=$(date +%s.%N)
  python3 -c "print(($S1-$S0)*1000)" >>"$OUT/startup.txt"
  [ $i -lt 5 ] && stop_nuanxin
done
TOKEN=$(login "$NX_PORT" admin "$PASS")
sleep 2
RSS=$(awk '/VmRSS/ {print $2}' /proc/$NX_PID/status)

# queries: names sampled from the registry, random initials, random phone tails
python3 - "$NX_PORT" "$TOKEN" "$OUT" <<'PY'
import json, random, sys, urllib.parse, urllib.request
port, token, out = sys.argv[1], sys.argv[2], sys.argv[3]
rnd = random.Random(7)
def get(path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": "Bearer " + token})
    return json.load(urllib.request.urlopen(req))
names = []
for sort in ("name", "age", "-age", "created", "-created"):
    names += [r["name"] for r in get(f"/api/v1/residents?limit=200&sort={sort}")["items"]]
letters = "wlzcyhxsmgjqdtfbp"
kinds = {
    "name": [n for n in rnd.sample(names, min(200, len(names)))],
    "initials": ["".join(rnd.choice(letters) for _ in range(3)) for _ in range(200)],
    "phone_tail": [f"{rnd.randrange(10000):04d}" for _ in range(200)],
}
for kind, qs in kinds.items():
    paths = ",".join('"/api/v1/residents?limit=20&q=%s"' % urllib.parse.quote(q) for q in qs)
    with open(f"{out}/search_{kind}.lua", "w") as f:
        f.write("local paths = {%s}\nlocal i = 0\nrequest = function()\n  i = i %% #paths + 1\n"
                "  return wrk.format(nil, paths[i])\nend\n" % paths)
PY

latency() { # latency URL LUA → "p50 p99" in ms
  local url=$1 lua=$2
  local args=(-t1 -c1 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN")
  [ -n "$lua" ] && args+=(-s "$lua")
  wrk "${args[@]}" "$url" | python3 -c '
import re, sys
t = sys.stdin.read()
def ms(s):
    v, u = re.match(r"([\d.]+)(\w+)", s).groups(); v = float(v)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
p = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", t, re.M))
rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
print("%.3f %.3f %s" % (ms(p["50"]), ms(p["99"]), rps))'
}
BASE="http://127.0.0.1:$NX_PORT"
REF=$(latency "$BASE/healthz" "")
echo "residents=$N, one client, ${SECS}s per kind; latency in ms (p50 p99 req/s)"
echo "  reference /healthz:  $REF"
for kind in name initials phone_tail; do
  R=$(latency "$BASE/api/v1/residents" "$OUT/search_$kind.lua")
  echo "  search $kind: $R"
done
echo "start-up to /readyz (median of 5): $(median <"$OUT/startup.txt" | xargs printf '%.0f') ms"
echo "idle RSS after start-up and login: $((RSS / 1024)) MiB"
