#!/usr/bin/env bash
# Source check (`make check`; ctest style.banned_functions): two kinds of rule, each violation printed
# as file:line: reason, exit 1 when there is any.
#
# 1. Banned C library calls in our code (sprintf, strcpy, strcat, strtok, atoi, atol, gets): use
#    snprintf, str_copy, strbuf, strtok_r, str_to_i64. A line may opt out with "check-src: allow".
# 2. The layers of DESIGN.md §3, read from the #include "…" lines of src/:
#    - a rules file (src/modules/**/*.c not named *_http.c) or a module header (src/modules/**/*.h
#      not named *_http.h) includes nothing of HTTP: no http/ header and no *_http.h glue;
#    - no file includes another folder's internal header (*_internal.h, internal.h);
#    - src/wire/ is pure: it includes only base/ and wire/ (no store/, modules/, gateway/, http/ …);
#    - src/http/ includes no module;
#    - src/base/ includes nothing of ours outside base/.
# 3. The module kit's read API: no store_next outside src/store/ (loops are `while (store_row(r))`
#    ending with store_rows_end, one-row reads store_first), so a failed read is never a short list.
#
# Usage: scripts/check-src.sh [ROOT]   ROOT defaults to the repository this script belongs to; the
# test tests/style/layers_can_fail.sh points it at a small tree with deliberate violations.
set -u
root=${1:-"$(cd "$(dirname "$0")/.." && pwd)"}
cd "$root" || exit 2

failed=0

# ---- 1. banned functions ----
dirs=()
for d in src tests bench; do [ -d "$d" ] && dirs+=("$d"); done
banned=""
if [ ${#dirs[@]} -gt 0 ]; then
  banned=$(grep -rnE '(^|[^_a-zA-Z0-9.>])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
    --include='*.c' --include='*.h' "${dirs[@]}" 2>/dev/null | grep -v 'check-src: allow' |
    sed -E 's/^([^:]+:[0-9]+):.*$/\1: banned C function (use snprintf, str_copy, strbuf, strtok_r, str_to_i64)/')
fi
if [ -n "$banned" ]; then
  echo "$banned"
  failed=1
fi

# ---- 2. layers ----
layers=""
if [ -d src ]; then
  files=$(find src -type f \( -name '*.c' -o -name '*.h' \) | sort)
  if [ -n "$files" ]; then
    # shellcheck disable=SC2086
    layers=$(awk '
      function say(msg) { printf "%s:%d: %s\n", FILENAME, FNR, msg }
      function reason(msg) { say(msg " (#include \"" inc "\")") }
      /^[ \t]*#[ \t]*include[ \t]*"/ {
        inc = $0
        sub(/^[^"]*"/, "", inc)
        sub(/".*$/, "", inc)
        n = split(FILENAME, part, "/")      # src/<layer>/…/<name>
        layer = part[2]
        name = part[n]
        fdir = FILENAME
        sub(/\/[^\/]*$/, "", fdir)
        top = inc
        sub(/\/.*$/, "", top)
        idir = inc
        if (!sub(/\/[^\/]*$/, "", idir))
          idir = ""
        iname = inc
        sub(/^.*\//, "", iname)
        ours = index(inc, "/") > 0

        if (layer == "modules" && (top == "http" || iname ~ /_http\.h$/)) {
          if (name ~ /\.c$/ && name !~ /_http\.c$/)
            reason("a rules file must not include HTTP: parse the request and answer it in <module>_http.c")
          else if (name ~ /\.h$/ && name !~ /_http\.h$/)
            reason("a module header must not include HTTP: HTTP glue goes in a *_http.h header")
        }
        if (ours && (iname == "internal.h" || iname ~ /_internal\.h$/) && "src/" idir != fdir)
          reason("another folder'"'"'s internal header: use its public header, or make what you need public")
        if (layer == "wire" && ours && top != "base" && top != "wire")
          reason("src/wire/ is pure and may include only base/ and wire/")
        if (layer == "http" && top == "modules")
          reason("http/ knows no module")
        if (layer == "base" && ours && top != "base")
          reason("base/ depends on nothing of ours outside base/")
      }
      # ---- 3. (module kit) reads of rows go through store_row / store_rows_end / store_first ----
      # store_next outside src/store/ is how the bare loop `while (store_next(r) == 1)` and the
      # `store_next(r) != 1 → not found` came back: both turned a failed read into fewer rows or a 404.
      /(^|[^_a-zA-Z0-9])store_next[ \t]*\(/ && FILENAME !~ /^src\/store\// {
        say("a read of rows outside src/store/ uses store_row + store_rows_end (or store_first for one row), never store_next")
      }
    ' $files)
  fi
fi
if [ -n "$layers" ]; then
  echo "$layers"
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  echo "check-src: violations above"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "check-src: no banned functions; the layers of DESIGN.md §3 and the kit's read API hold"
echo "1 passed, 0 failed"
