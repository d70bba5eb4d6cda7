#!/usr/bin/env bash
# User-space instructions per GET /api/v1/residents/{id}, counted by callgrind, for two binaries on
# the same data: a figure that the load of a shared machine does not move (unlike requests/s or CPU
# time). One data set (`init` + `demo --residents 300`); each binary in turn runs under
# `valgrind --tool=callgrind`, is warmed up with 50 requests and left alone SETTLE (8) seconds, its
# counters are zeroed, N requests
# go over one keep-alive connection, and the counters are dumped: instructions of the measured
# window / N. The kernel's share (TCP) is not counted.
# OLD_ENV / NEW_ENV: environment assignments for one binary's run only (NAME=VALUE …), e.g. the same
# binary twice with another setting: OLD_ENV=NUANXIN_MAX_HEADER=64K NEW_ENV=NUANXIN_MAX_HEADER=16K.
# CG_KEEP=DIR keeps the two profiles there (callgrind.out.old, callgrind.out.new).
#   bench/callgrind_resident.sh OLD-BINARY NEW-BINARY [N]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
OLD=$1; NEW=$2; N=${3:-300}
W=$(mktemp -d); VP=
trap '[ -n "$VP" ] && kill "$VP" 2>/dev/null; rm -rf "$W"' EXIT
"$NEW" --data "$W" init >"$W/init.txt"
"$NEW" --data "$W" demo --residents 300 >/dev/null
PASS=$(awk -F'：' '/初始密码/ {print $2}' "$W/init.txt")
for which in old new; do
  if [ $which = old ]; then B=$OLD; ENVS=${OLD_ENV:-}; else B=$NEW; ENVS=${NEW_ENV:-}; fi
  rm -f "$W/fifo"; mkfifo "$W/fifo"
  # shellcheck disable=SC2086 # ENVS: words NAME=VALUE
  env $ENVS valgrind --tool=callgrind --callgrind-out-file="$W/cg.$which" "$B" --data "$W" serve --listen 127.0.0.1:0 \
    --watch-listen off --iw-listen off --web-root '' --access-log false >"$W/fifo" 2>>"$W/server.log" &
  VP=$!
  read -r line <"$W/fifo"; PORT=${line##*:}
  # log in (the first time the admin of `init` must choose a password: one is chosen and kept for the
  # second binary); prints the password, the token and the first resident's id
  read -r PASS TOKEN RID < <(python3 - "$PORT" "$PASS" <<'PY'
import http.client, json, secrets, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
def call(method, path, body=None, token=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse(); data = r.read()
    return json.loads(data) if data else None
pw = sys.argv[2]
b = call("POST", "/api/v1/auth/login", {"username": "admin", "password": pw})
if b.get("must_change_password"):
    new = "Nx" + secrets.token_hex(8) + "a1"
    call("POST", "/api/v1/me/password", {"old_password": pw, "new_password": new}, b["token"])
    pw = new
rid = call("GET", "/api/v1/residents?limit=1", token=b["token"])["items"][0]["id"]
print(pw, b["token"], rid)
PY
)
  run() { python3 - "$PORT" "$RID" "$TOKEN" "$1" <<'PY'
import http.client, sys
port, rid, tok, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", int(port))
for _ in range(n):
    c.request("GET", f"/api/v1/residents/{rid}", headers={"Authorization": "Bearer " + tok})
    r = c.getresponse(); r.read()
    if r.status != 200:
        sys.exit(f"HTTP {r.status}")
PY
  }
  run 50
  sleep "${SETTLE:-8}" # the start-up's own work (first passes of the tickers) ends before the window
  callgrind_control -z "$VP" >/dev/null
  run "$N"
  callgrind_control -d "$VP" >/dev/null
  kill "$VP"; wait "$VP" 2>/dev/null || true; VP=
  IR=$(awk '/^totals:/ {print $2}' "$W/cg.$which.1")
  echo "$which ($B${ENVS:+, $ENVS}): $IR instructions / $N requests = $((IR / N)) per request"
  echo "$IR" >"$W/ir.$which"
  [ -n "${CG_KEEP:-}" ] && cp "$W/cg.$which.1" "$CG_KEEP/callgrind.out.$which" # for callgrind_annotate
done
python3 -c "print('new / old instructions per request: %.3f' % ($(cat "$W/ir.new") / $(cat "$W/ir.old")))"
