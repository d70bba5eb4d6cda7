#!/usr/bin/env bash
# layers_can_fail.sh — proves the source check (scripts/check-src.sh) can fail: it builds a small tree
# in a temporary directory with one deliberate violation of each layer rule (and a banned call) next
# to includes that are allowed, and expects the check to fail and name exactly the bad lines as
# file:line. Then it removes the violations and expects a pass, and finally checks the real tree.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
check="$here/scripts/check-src.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

put() { mkdir -p "$(dirname "$tmp/$1")"; printf '%s\n' "${@:2}" >"$tmp/$1"; }
put src/modules/foo/foo.c '#include "modules/foo/foo.h"' '' '#include "http/http.h"' '#include "base/str.h"'
put src/modules/foo/foo.h '#include "modules/app.h"' '#include "modules/app_http.h"'
put src/modules/foo/foo_http.c '#include "modules/app_http.h"' '#include "http/http.h"' \
  '#include "modules/bar/bar_internal.h"'
put src/modules/foo/foo_http.h '#include "http/http.h"'
put src/modules/foo/foo_rules.c '#include "modules/foo/foo_http.h"'
put src/modules/bar/bar.c '#include "modules/bar/bar_internal.h"' '#include "modules/foo/foo.h"'
put src/modules/bar/bar_internal.h '#include "modules/bar/bar.h"'
put src/wire/codec.c '#include "wire/codec_internal.h"' '#include "base/err.h"' '#include "store/store.h"' \
  '#include "gateway/ingest.h"'
put src/wire/watch.c '#include "modules/devices/devices.h"'
put src/http/server.c '#include "http/internal.h"' '#include "modules/app.h"'
put src/base/str.c '#include "base/str.h"' '#include <stdio.h>' '#include "store/store.h"'
put src/gateway/tcp.c '#include "wire/codec.h"' '#include "http/internal.h"'
put tests/unit/test_x.c 'static void f(char *b) { sprintf(b, "x"); }'
put src/modules/bar/bar_list.c '#include "store/store.h"' 'static void f(store_rows *r) {' \
  '    while (store_next(r) == 1) {' '    }' '}'
put src/store/store.c 'int store_next(store_rows *r) { return 0; }' 'bool store_row(store_rows *r) { return store_next(r) == 1; }'

out=$("$check" "$tmp" 2>&1)
rc=$?
[ "$rc" -eq 1 ] || fail "the check should fail on the broken tree (exit $rc)"
expect=(
  "src/modules/foo/foo.c:3: a rules file must not include HTTP"
  "src/modules/foo/foo.h:2: a module header must not include HTTP"
  "src/modules/foo/foo_http.c:3: another folder's internal header"
  "src/modules/foo/foo_rules.c:1: a rules file must not include HTTP"
  "src/wire/codec.c:3: src/wire/ is pure"
  "src/wire/codec.c:4: src/wire/ is pure"
  "src/wire/watch.c:1: src/wire/ is pure"
  "src/http/server.c:2: http/ knows no module"
  "src/base/str.c:3: base/ depends on nothing of ours"
  "src/gateway/tcp.c:2: another folder's internal header"
  "tests/unit/test_x.c:1: banned C function"
  "src/modules/bar/bar_list.c:3: a read of rows outside src/store/"
)
for e in "${expect[@]}"; do
  grep -qF "$e" <<<"$out" || fail "not reported: $e"
done
# Nothing else: the allowed includes (own internal header, HTTP in *_http.c and *_http.h, wire on
# base/, http/ on its own internal.h) must not be reported.
n=$(grep -cE '^[^ ]+:[0-9]+: ' <<<"$out")
[ "$n" -eq "${#expect[@]}" ] || fail "expected ${#expect[@]} violations, got $n"

# The same tree without the violations passes.
for f in src/modules/foo/foo.c src/modules/foo/foo.h src/modules/foo/foo_http.c src/wire/codec.c src/http/server.c \
  src/base/str.c src/gateway/tcp.c; do
  { grep -vE '"(http/http.h|modules/app_http.h|modules/bar/bar_internal.h|store/store.h|gateway/ingest.h|modules/app.h|http/internal.h)"' \
    "$tmp/$f" || true; } >"$tmp/x"
  mv "$tmp/x" "$tmp/$f"
done
printf '#include "http/internal.h"\n' >"$tmp/src/http/server.c"
rm "$tmp/src/wire/watch.c" "$tmp/src/modules/foo/foo_rules.c" "$tmp/tests/unit/test_x.c" "$tmp/src/modules/bar/bar_list.c"
out=$("$check" "$tmp" 2>&1) || fail "the repaired tree should pass: $out"

# A tree without src/wire (or without any of the folders) is checked all the same.
rm -rf "$tmp/src/wire"
"$check" "$tmp" >/dev/null 2>&1 || fail "a tree without src/wire should pass"

# The real tree passes.
out=$("$check" 2>&1) || fail "the real tree has violations: $out"

if [ "$fails" -ne 0 ]; then
  echo "$fails failed"
  exit 1
fi
echo "layers_can_fail: the check fails on each broken include and passes on the tree"
echo "1 passed, 0 failed"
