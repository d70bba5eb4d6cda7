#!/usr/bin/env bash
# Issue 18's "Must show", one measurement after the other, and the four ratios at the end:
#   1. GET /api/v1/residents/{id} against nginx serving the same bytes: bench/http_resident.sh, wrk and
#      servers sharing the cores (target ≥ 1.0) and PIN=1, one core per server (target ≥ 0.6);
#   2. PostgreSQL / SQLite, the same read: bench/backends.sh (target ≥ 0.5; writes printed beside);
#   3. SOS → ack and SOS → live event p99 under the telemetry flood with two CPU-bound processes and a
#      large export beside it: bench/sos.sh on SQLite and on PostgreSQL (target ≤ 50 ms, idle and flood
#      printed beside; [rounds] rounds of SOS_N SOS per phase, the median of the rounds' p99);
#   4. gateway ingest, stored / raw SQLite reference in the same run: bench/gateway.sh (target ≥ 0.9;
#      the CPU-per-row ratio beside it), its flood with FLOOD_INFLIGHT (8) pairs in flight per device
#      so that the offered load is not bounded by the round trip; the rows left in the write queue when
#      each flood stopped are printed beside (above 0: the writer, not the simulator, was the limit).
# Meant for a quiet machine: every figure is printed with the load average of its run, and the full
# output of each script is kept in $BENCH_OUT (bench/out by default) as issue18.*.txt.
#   bench/issue18.sh [seconds per run] [rounds]      BUILD=build-release bench/issue18.sh 5 5
# About 25 minutes with the defaults (3 s × 3 rounds: about 15). SOS_N (default 100) SOS per phase and round.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
[[ $BUILD = /* ]] || BUILD="$ROOT/$BUILD"
export NUANXIN_BIN=$BUILD/nuanxin
SECS=${1:-5}; ROUNDS=${2:-5}; SOS_N=${SOS_N:-100}
OUT=${BENCH_OUT:-$ROOT/bench/out}; mkdir -p "$OUT"; export BENCH_OUT=$OUT
[ -x "$NUANXIN_BIN" ] || { echo "missing $NUANXIN_BIN (cmake --build $BUILD)" >&2; exit 1; }
step() { # step NAME COMMAND… → runs it, output to issue18.NAME.txt (and the terminal)
  local name=$1; shift
  echo "== $name: $* ($(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
  "$@" 2>&1 | tee "$OUT/issue18.$name.txt"
}
pick() { # pick NAME REGEX [AWK-OPTION] AWK-PROGRAM → the value from the kept output, or "n/a"
  local name=$1 re=$2; shift 2
  local v; v=$(grep -E "$re" "$OUT/issue18.$name.txt" 2>/dev/null | head -1 | awk "$@")
  echo "${v:-n/a}"
}
step read "$ROOT/bench/http_resident.sh" "$SECS" "$ROUNDS"
PIN=1 step read_pinned "$ROOT/bench/http_resident.sh" "$SECS" "$ROUNDS"
step backends "$ROOT/bench/backends.sh" "$SECS" "$ROUNDS"
BUILD=$BUILD SOS_N=$SOS_N ROUNDS=$ROUNDS step sos_sqlite "$ROOT/bench/sos.sh"
BUILD=$BUILD SOS_N=$SOS_N ROUNDS=$ROUNDS BACKEND=postgres step sos_postgres "$ROOT/bench/sos.sh"
BUILD=$BUILD HOLD=0 LAT_FLOOD=0 SOS_N=20 ROUNDS=$ROUNDS step gateway "$ROOT/bench/gateway.sh" "$SECS"

after() { echo "{for (i = 1; i < NF; i++) if (\$i == \"$1\") {print \$(i + 1); exit}}"; } # awk: the word after $1
busy() { # busy NAME → "ack p99 / event p99 ms" of the flood+busy phase: with several rounds the median
  # of the rounds' p99 (and each round's), with one its p99
  python3 - "$OUT/issue18.$1.txt" <<'PY' 2>/dev/null || echo n/a
import re, sys
for line in open(sys.argv[1]):
    if line.startswith("  flood+busy"):
        m = re.findall(r"([\d.]+) p99 \(rounds: ([\d. ]+)\)", line)
        if len(m) >= 2:
            print("%s / %s ms (rounds: ack %s; event %s)" % (m[0][0], m[1][0], m[0][1], m[1][1]))
            break
        m = re.findall(r"([\d.]+|None) / ([\d.]+|None) / ([\d.]+|None)", line)
        print("%s / %s ms" % (m[0][1], m[1][1]) if len(m) >= 2 else "n/a")
        break
else:
    print("n/a")
PY
}
echo
echo "Issue 18, $(date -u +%F), $(nproc) cores, build $(basename "$BUILD"), ${ROUNDS} rounds × ${SECS}s"
echo "  1. resident read / nginx, shared cores:  $(pick read 'ratio nuanxin/nginx' '{print $4}')  (target ≥ 1.0; load after each round: $(pick read 'load average after' -F': ' '{print $2}'))"
echo "     resident read / nginx, pinned:        $(pick read_pinned 'ratio nuanxin/nginx' '{print $4}')  (target ≥ 0.6; load: $(pick read_pinned 'load average after' -F': ' '{print $2}'))"
echo "  2. PostgreSQL / SQLite reads:            $(pick backends 'postgres/sqlite +reads' '{print $3}')  (target ≥ 0.5; writes $(pick backends 'postgres/sqlite +reads' "$(after writes)"); load: $(pick backends 'load average' -F'round: ' '{print $2}'))"
echo "  3. SOS p99 under flood + busy, ack / event: SQLite $(busy sos_sqlite), PostgreSQL $(busy sos_postgres)  (target ≤ 50 ms each; loads in issue18.sos_*.txt)"
echo "  4. gateway stored / raw (per-round median): $(pick gateway 'stored/raw per round' "$(after median)")  (target ≥ 0.9; raw/writer CPU per row $(pick gateway 'raw/writer CPU' "$(after median)"); rows left in the queue at the flood's end $(pick gateway 'rows left in the write queue' "$(after median)"); load $(pick gateway 'load average:' -F'load average: ' '{print $2}'))"
echo "  (full output of each: $OUT/issue18.*.txt)"
