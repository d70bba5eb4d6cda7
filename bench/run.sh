#!/usr/bin/env bash
# All benchmarks, in the order docs/performance.md reports them.
set -euo pipefail
cd "$(dirname "$0")"
./http_resident.sh "${HTTP_SECS:-10}" "${HTTP_ROUNDS:-3}"
./search.sh "${SEARCH_N:-100000}" "${SEARCH_SECS:-10}"
./backends.sh "${BACKEND_SECS:-5}" "${BACKEND_ROUNDS:-3}"
./gateway.sh "${GATEWAY_SECS:-10}"
./gateway_hold.sh
./canteen.sh "${CANTEEN_SECS:-10}" "${CANTEEN_ROUNDS:-3}"
