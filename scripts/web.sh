#!/usr/bin/env bash
# Builds the web app into web/dist when it exists (see the web app issue); a no-op otherwise.
set -euo pipefail
cd "$(dirname "$0")/../web"
[ -f package.json ] || exit 0
command -v npm >/dev/null || { echo "web: npm is missing (apt-get install npm)" >&2; exit 1; }
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build
