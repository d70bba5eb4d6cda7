# Shared helpers of the benchmark scripts: a throw-away nuanxin on a free port, and medians.
BIN=${NUANXIN_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/build/nuanxin}
OUT=${BENCH_OUT:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/out}
mkdir -p "$OUT"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_nuanxin DATA [flags…] → sets NX_PID and NX_PORT
start_nuanxin() {
  local data=$1; shift
  local fifo; fifo=$(mktemp -u); mkfifo "$fifo"
  ${NX_WRAP[@]+"${NX_WRAP[@]}"} "$BIN" --data "$data" serve --listen 127.0.0.1:0 --watch-listen 127.0.0.1:0 --iw-listen 127.0.0.1:0 \
    --web-root '' --access-log false "$@" \
    >"$fifo" 2>>"$data/server.log" &
  NX_PID=$!
  local line; read -r line <"$fifo"; rm -f "$fifo"
  NX_PORT=${line##*:}
}

stop_nuanxin() { kill "$NX_PID" 2>/dev/null; wait "$NX_PID" 2>/dev/null || true; }

login() { # login PORT USER PASS → prints token. An account that must change its password first (the
  # admin of `nuanxin init`) changes it to a random one; the session that did it stays valid.
  curl -sf -X POST "http://127.0.0.1:$1/api/v1/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\":\"$2\",\"password\":\"$3\"}" | python3 -c '
import http.client, json, secrets, sys
b = json.load(sys.stdin)
if b.get("must_change_password"):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
    c.request("POST", "/api/v1/me/password", json.dumps({"old_password": sys.argv[2],
              "new_password": "Nx" + secrets.token_hex(8) + "a1"}),
              {"Authorization": "Bearer " + b["token"], "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    if r.status != 204:
        sys.exit("password change: HTTP %d" % r.status)
print(b["token"])' "$1" "$3"
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# wrk_rps URL [wrk args…] → requests/s
wrk_rps() { local url=$1; shift; wrk "$@" "$url" | awk '/Requests\/sec/ {print $2}'; }
