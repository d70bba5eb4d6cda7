#!/bin/sh
# `make test`'s stage lines: "make test: NAME at HH:MM:SS, +N s" (seconds since the first stage), and
# how busy the cores were during the stage before (from /proc/stat), so that a run's log shows where
# its time goes and which stages leave the cores idle (and could run beside another) — the budget is
# 30 minutes on 2 cores. The marks live in DIR (.test-start, .test-cpu); the first stage of a run
# starts with `--first`.
# Usage: scripts/test-stage.sh [--first] DIR NAME
first=0
[ "$1" = "--first" ] && { first=1; shift; }
dir=$1 name=$2
mkdir -p "$dir"
now=$(date +%s)
if [ $first -eq 1 ] || [ ! -f "$dir/.test-start" ]; then
  echo "$now" >"$dir/.test-start"
  rm -f "$dir/.test-cpu"
fi
# total and idle (idle + iowait) jiffies of all cores
cpu=$(awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8+$9, $5+$6}' /proc/stat 2>/dev/null)
busy=""
if [ -n "$cpu" ] && [ -f "$dir/.test-cpu" ]; then
  busy=$(echo "$(cat "$dir/.test-cpu") $cpu" |
    awk '$3 > $1 {printf "; the cores were %d%% busy in the stage before", 100 * (1 - ($4 - $2) / ($3 - $1))}')
fi
[ -n "$cpu" ] && echo "$cpu" >"$dir/.test-cpu"
echo "make test: $name at $(date +%H:%M:%S), +$((now - $(cat "$dir/.test-start"))) s$busy"
