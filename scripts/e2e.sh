#!/usr/bin/env bash
# Browser tests of the web app (tests/e2e/): builds web/dist, creates a temporary demo community
# (`init` + `demo`) as a template, and runs the tests with node's built-in runner (playwright-core
# driving Debian's chromium, headless), two files at a time; each file serves its own copy of the
# template on a free loopback port (tests/e2e/harness.mjs).
# Screenshots and each file's server log go to tests/artifacts/. The last lines printed are node's test-runner summary.
# The tests get NX_BASE_URL, NX_DATA and NX_WATCH_PORT (the gateway's watch port) from the harness, and
# NX_ADMIN_PASSWORD, NX_DEMO_PASSWORD and NX_BIN from here.
# Usage: scripts/e2e.sh [test files…] | scripts/e2e.sh --perf (runs tests/e2e/perf.mjs instead)   env: BUILD (build directory, default build), CHROMIUM (default /usr/bin/chromium), E2E_JOBS (files at once, default 2)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/${BUILD:-build}/nuanxin"
[ -x "$bin" ] || { echo "e2e: $bin is missing (make build)" >&2; exit 1; }
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || { echo "e2e: $CHROMIUM is missing (scripts/deps.sh test installs chromium)" >&2; exit 1; }

# Test files may be named from the repository's root (tests/e2e/x.test.mjs) or from tests/e2e.
files=()
for f in "$@"; do
  if [ "$f" != "--perf" ] && [ -f "$root/$f" ]; then files+=("$root/$f"); else files+=("$f"); fi
done
set -- "${files[@]}"
"$root/scripts/web.sh" >/dev/null
cd "$root/tests/e2e"
[ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund >/dev/null

# One demo community made once as a template; each test file copies it and serves its copy on a
# port of its own (tests/e2e/harness.mjs), so files do not see each other's changes and two run at
# once (E2E_JOBS, default 2).
root_dir="$(mktemp -d /tmp/nuanxin-e2e.XXXXXX)"
data="$root_dir/template"
mkdir -p "$data"
cleanup() {
  # A file that died before its exit handler leaves its server: stop every server over a copy here.
  pkill -f -- "--data $root_dir/" 2>/dev/null || true
  rm -rf "$root_dir"
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

# Serve the template once until its event dispatchers have caught up (the demo leaves thousands of
# events for them: messages to inboxes, visit tasks), so every file starts from the same settled
# community instead of racing a backlog that fills inboxes while its first test counts them.
settle_port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
NUANXIN_WATCH_LISTEN=off NUANXIN_IW_LISTEN=off "$bin" --data "$data" serve --listen "127.0.0.1:$settle_port" --web-root '' >"$root_dir/settle.log" 2>&1 &
settle_pid=$!
python3 - "$data/nuanxin.db" <<'PY' || { echo "e2e: the demo's events were not dispatched in 120 s:" >&2; tail -20 "$root_dir/settle.log" >&2; kill "$settle_pid"; exit 1; }
import sqlite3, sys, time
# Caught up: the newest event id and every subscriber's cursor unchanged over two seconds, and the
# messages service (when there is one) at the newest event.
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=10)
last, still, t0 = None, 0, time.time()
while time.time() - t0 < 120:
    time.sleep(0.5)
    newest = db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]
    cursors = dict(db.execute("SELECT subscriber, last_id FROM event_cursors").fetchall())
    now = (newest, cursors)
    still = still + 1 if now == last and cursors.get("messages.service", newest) == newest else 0
    last = now
    if still >= 4:
        sys.exit(0)
sys.exit(1)
PY
kill "$settle_pid"; wait "$settle_pid" 2>/dev/null || true

export NX_E2E_TEMPLATE="$data" NX_E2E_ROOT="$root_dir" NX_WEB_ROOT="$root/web/dist" NX_BIN="$bin"
mkdir -p "$root/tests/artifacts"
export NX_ARTIFACTS="$root/tests/artifacts"
jobs="${E2E_JOBS:-2}"

set +e
if [ "${1:-}" = "--perf" ]; then node perf.mjs
elif [ $# -gt 0 ]; then node --test --test-concurrency="$jobs" "$@"; else node --test --test-concurrency="$jobs" ./*.test.mjs ../../web/src/utils/*.test.js; fi
rc=$?
set -e
exit $rc
