#!/usr/bin/env bash
# Builds the web app (web/) into web/dist with Vite, plus a .gz beside each compressible file for
# nuanxin's static handler. Dependencies come from the committed package-lock.json (npm ci), and
# are installed again when the lock file is newer than node_modules. Quiet when nothing changed
# except for Vite's own summary.
set -euo pipefail
cd "$(dirname "$0")/../web"
[ -f package.json ] || exit 0
command -v npm >/dev/null || { echo "web: npm is missing (scripts/deps.sh run installs it)" >&2; exit 1; }
# Vite 8 needs Node.js 20.19 or newer (Debian 12's own nodejs is 18).
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { echo "web: Node.js $(node --version) is too old; Vite needs 20.19 or newer" >&2; exit 1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
