#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/fuzz_*.c) with clang (libFuzzer + ASan + UBSan) in build-fuzz/ and runs each for
# a bounded time over a scratch copy of its seed corpus (tests/fuzz/corpus/<target>/ stays unchanged).
# Usage: scripts/fuzz.sh [seconds per target, default 60] [target …]
# Exit 1 when a target crashes; the crashing input is left in build-fuzz/crashes/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
build=${FUZZ_BUILD:-build-fuzz}

command -v clang >/dev/null || { echo "fuzz: clang is missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNX_FUZZ=ON >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" >/dev/null

# The targets run side by side, FUZZ_JOBS at a time (default: one per core): each is CPU-bound and
# single-threaded, so on 2 cores two at a time halve the wall time and change nothing else.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
run_one() {
  local t=$1 work="$build/corpus/$1" crashes="$build/crashes/$1"
  mkdir -p "$work" "$crashes"
  cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $t for ${secs}s" >&2
  if ! "$build/$t" -max_total_time="$secs" -max_len=40000 -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$crashes/" "$work" >"$build/$t.log" 2>&1; then
    echo "fuzz: $t FAILED, see $build/$t.log and $crashes/" >&2
    tail -40 "$build/$t.log" >&2
    return 1
  fi
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+ +DONE +cov' "$build/$t.log" | sed "s/^/fuzz: $t /" >&2 || true
}

status=0 failed=0 running=0
for t in "${targets[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || { status=1; failed=$((failed + 1)); }
    running=$((running - 1))
  fi
  run_one "$t" &
  running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
  wait -n || { status=1; failed=$((failed + 1)); }
  running=$((running - 1))
done
echo "$(( ${#targets[@]} - failed )) passed, $failed failed"
exit $status
