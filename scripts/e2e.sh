#!/usr/bin/env bash
# Browser tests of the web app (tests/e2e/): builds web/dist, creates a temporary data directory
# with `init` + `demo`, starts nuanxin on a free loopback port serving web/dist, runs the tests with
# node's built-in runner (playwright-core driving Debian's chromium, headless), stops the server.
# Screenshots and the server's log go to tests/artifacts/. The last lines printed are node's test-runner summary.
# The tests get NX_BASE_URL, NX_ADMIN_PASSWORD, NX_BIN, NX_DATA and NX_WATCH_PORT (the gateway's watch port).
# Usage: scripts/e2e.sh [test files…] | scripts/e2e.sh --perf (runs tests/e2e/perf.mjs instead)   env: BUILD (build directory, default build), CHROMIUM (default /usr/bin/chromium)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/${BUILD:-build}/nuanxin"
[ -x "$bin" ] || { echo "e2e: $bin is missing (make build)" >&2; exit 1; }
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || { echo "e2e: $CHROMIUM is missing (scripts/deps.sh test installs chromium)" >&2; exit 1; }

"$root/scripts/web.sh" >/dev/null
cd "$root/tests/e2e"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund >/dev/null

data="$(mktemp -d /tmp/nuanxin-e2e.XXXXXX)"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$data"
}
trap cleanup EXIT

init_out="$("$bin" --data "$data" init 2>/dev/null)"
# The admin's one-time password is the last token of the line that announces it.
NX_ADMIN_PASSWORD="$(printf '%s\n' "$init_out" | grep -E '初始密码|password' | tail -1 | awk '{print $NF}' | sed 's/.*[：:]//')"
export NX_ADMIN_PASSWORD
# The demo's accounts share one password here (the tests log in as them); a fresh random one per run.
NX_DEMO_PASSWORD="${NX_DEMO_PASSWORD:-Demo$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')9}"
export NX_DEMO_PASSWORD
"$bin" --data "$data" demo >/dev/null 2>&1

port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
# The wristband gateway's watch listener on a free port (port 0; the server prints the one it got), so
# the alarm tests can send watch frames without clashing with a nuanxin already running on this
# machine; no IW listener.
NUANXIN_WATCH_LISTEN=127.0.0.1:0 NUANXIN_IW_LISTEN=off "$bin" --data "$data" serve --listen "127.0.0.1:$port" --web-root "$root/web/dist" --outbound_allow 127.0.0.1 >"$data/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { echo "e2e: nuanxin did not start:" >&2; cat "$data/server.log" >&2; exit 1; }
  sleep 0.1
done
export NX_BASE_URL="http://127.0.0.1:$port"
# "nuanxin: gateway watch on 127.0.0.1:PORT" (empty when the binary has no gateway: those tests skip).
NX_WATCH_PORT="$(sed -n 's/^nuanxin: gateway watch on .*:\([0-9][0-9]*\)$/\1/p' "$data/server.log" | head -1)"
export NX_WATCH_PORT
# The care tests run the visit scheduler with a pinned clock (`visits schedule --now`) on the same data.
export NX_BIN="$bin" NX_DATA="$data"
mkdir -p "$root/tests/artifacts"
export NX_ARTIFACTS="$root/tests/artifacts"

set +e
if [ "${1:-}" = "--perf" ]; then node perf.mjs
elif [ $# -gt 0 ]; then node --test --test-concurrency=1 "$@"; else node --test --test-concurrency=1 ./*.test.mjs ../../web/src/utils/*.test.js; fi
rc=$?
set -e
cp "$data/server.log" "$root/tests/artifacts/e2e-server.log" 2>/dev/null || true
exit $rc
