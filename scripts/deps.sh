#!/usr/bin/env bash
# Installs the Debian packages nuanxin needs that are missing on this machine. Idempotent and quick
# when everything is present. Usage: scripts/deps.sh [build|test|run|package]
#   build: compilers and -dev libraries; run: build + what the demo needs; test: run + test tools.
set -euo pipefail
what=${1:-build}

build=(build-essential cmake pkg-config python3
  libmicrohttpd-dev libjansson-dev libsqlite3-dev sqlite3 libpq-dev libsodium-dev libicu-dev libopencc-dev opencc
  libinih-dev libxlsxwriter-dev libzip-dev libexpat1-dev libhpdf-dev libqrencode-dev
  libuv1-dev libmosquitto-dev libcurl4-openssl-dev)
run=(curl fonts-wqy-zenhei)
test=(mosquitto wrk nginx-light libnginx-mod-stream postgresql-15 postgresql-client-15 poppler-utils
  python3-jsonschema gdb)  # python3-jsonschema: the OpenAPI document against the OpenAPI 3.0 meta-schema;
  # gdb: the stacks of a test server that does not stop on SIGTERM (tests/api/nxtest.py)
# The web app (make run builds it, make test drives it in a browser): Node.js and npm unless a
# Node.js is already installed (NodeSource's nodejs ships npm; Debian's npm would conflict with it),
# and Debian's chromium for the browser tests (fonts-wqy-zenhei, in run, renders Chinese in it).
command -v node >/dev/null 2>&1 || run+=(nodejs)
command -v npm >/dev/null 2>&1 || run+=(npm)
test+=(chromium clang libclang-rt-14-dev)  # clang + its runtime: the libFuzzer targets (scripts/fuzz.sh)
# The Debian package (make deb, scripts/pkg-test.sh): debhelper builds it, lintian checks it.
package=(debhelper dpkg-dev fakeroot lintian)
test+=("${package[@]}")

pkgs=("${build[@]}")
[ "$what" = run ] || [ "$what" = test ] && pkgs+=("${run[@]}")
[ "$what" = test ] && pkgs+=("${test[@]}")
[ "$what" = package ] && pkgs+=("${run[@]}" "${package[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists when they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
  $sudo apt-get update -qq
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
