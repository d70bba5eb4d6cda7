#!/usr/bin/env bash
# The Debian package, end to end, on this machine (issue #20; `make test` runs it, as root in CI):
# build it (scripts/deb.sh), check its contents and conffiles, lintian (no error or warning left
# unexplained: debian/nuanxin.lintian-overrides), install it with apt, check the user, the key file
# and the data it made, verify the systemd units, start /usr/bin/nuanxin with the packaged
# configuration, upgrade it over its own data (a newer version of the same package: the upgrade takes
# a verified backup, the data is kept), run `nuanxin doctor`, remove it (configuration and data kept)
# and purge it (configuration gone, data and key deliberately kept, and said so). Then it removes
# what it installed. The last line is "package: N passed, M failed".
#
# It refuses to run where a nuanxin package or its data already exist (someone's real community), and
# skips (exit 0, saying why) when not root or without apt.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "package: FAIL $*" >&2; }
check() { local what=$1; shift; if "$@" >/dev/null 2>&1; then ok; else bad "$what"; fi; }

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "package: skipped (needs root and apt: it installs the package on this machine)"; exit 0
fi
if dpkg-query -W -f='${Status}' nuanxin 2>/dev/null | grep -q 'installed' || [ -e /var/lib/nuanxin ] || [ -e /etc/nuanxin ]; then
  echo "package: refused — a nuanxin installation or its data exists on this machine (/var/lib/nuanxin, /etc/nuanxin)" >&2
  exit 1
fi

deb="$(scripts/deb.sh)" || { echo "package: FAIL the package did not build" >&2; echo "package: 0 passed, 1 failed"; exit 1; }
log="$root/build-deb/pkg-test.log"
: >"$log"
export DEBIAN_FRONTEND=noninteractive

# --- contents ---
contents="$(dpkg-deb -c "$deb" | awk '{print $6}')"
for f in ./usr/bin/nuanxin ./usr/share/nuanxin/web/index.html ./etc/nuanxin/nuanxin.conf \
         ./lib/systemd/system/nuanxin.service ./lib/systemd/system/nuanxin-backup.service \
         ./lib/systemd/system/nuanxin-backup.timer ./usr/share/man/man1/nuanxin.1.gz \
         ./usr/share/doc/nuanxin/install.md.gz ./usr/share/doc/nuanxin/copyright; do
  check "the package holds $f" grep -qx "$f" <<<"$contents"
done
check "nothing of the tree's build or tests in the package" bash -c "! grep -qE 'test_|fuzz_|bench_|\\.o\$' <<<\"\$1\"" _ "$contents"
check "nuanxin.conf is a conffile" bash -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | grep -qx /etc/nuanxin/nuanxin.conf"
check "the key file is not in the package" bash -c "! grep -q 'nuanxin.key' <<<\"\$1\"" _ "$contents"

# --- lintian: errors and warnings fail; each override is explained in its file ---
changes="${deb%.deb}.changes"
if lintian --allow-root --fail-on error,warning "$changes" >>"$log" 2>&1; then ok; else bad "lintian (see $log)"; cat "$log" >&2; fi

# --- install ---
if apt-get install -y -qq "$deb" >>"$log" 2>&1; then ok; else bad "apt install (see $log)"; tail -30 "$log" >&2; fi
check "/usr/bin/nuanxin runs" /usr/bin/nuanxin --version
check "the nuanxin system user" getent passwd nuanxin
check "the key file is 0600 and the service user's" test "$(stat -c '%a %U' /etc/nuanxin/nuanxin.key)" = "600 nuanxin"
check "the key file is not beside the database" test ! -e /var/lib/nuanxin/nuanxin.key
check "the database is the service user's" test "$(stat -c '%U' /var/lib/nuanxin/nuanxin.db)" = nuanxin
check "the data directory is 0750" test "$(stat -c '%a' /var/lib/nuanxin)" = 750
check "the one-time password is root's only" test "$(stat -c '%a %U' /etc/nuanxin/initial-admin-password)" = "600 root"
pw="$(cat /etc/nuanxin/initial-admin-password 2>/dev/null)"
check "a one-time password was written" test -n "$pw"
if command -v systemd-analyze >/dev/null; then
  for u in nuanxin.service nuanxin-backup.service nuanxin-backup.timer; do
    if systemd-analyze verify "/lib/systemd/system/$u" >>"$log" 2>&1; then ok; else bad "systemd-analyze verify $u (see $log)"; fi
  done
fi

# --- serve from /usr/bin with the packaged configuration (systemd may be absent here) ---
out="$(mktemp)"
# setpriv execs the server itself (runuser would stay between, and answer a signal with its own status)
setpriv --reuid=nuanxin --regid=nuanxin --init-groups /usr/bin/nuanxin serve --listen 127.0.0.1:0 --watch-listen off \
  --iw-listen off >"$out" 2>>"$log" &
srv=$!
port=""
for _ in $(seq 1 100); do
  port="$(sed -n 's/^nuanxin: listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$out")"
  [ -n "$port" ] && break
  sleep 0.2
done
check "nuanxin serve started from the packaged configuration" test -n "$port"
if [ -n "$port" ]; then
  check "the packaged web app is served" bash -c "curl -sf http://127.0.0.1:$port/ | grep -q '<div id=\"app\">'"
  body="{\"username\":\"admin\",\"password\":\"$pw\"}"
  check "the administrator logs in with the one-time password" bash -c \
    "curl -sf -H 'Content-Type: application/json' -d '$body' http://127.0.0.1:$port/api/v1/auth/login | grep -q must_change_password"
fi
kill -TERM "$srv" 2>/dev/null
wait "$srv"
check "a clean stop on SIGTERM" test $? -eq 0
rm -f "$out"

# --- upgrade over this version's data: a newer version of the same package ---
users_before="$(sqlite3 /var/lib/nuanxin/nuanxin.db 'SELECT count(*) FROM users')"
backups_before="$(ls /var/lib/nuanxin/backups | wc -l)"
work="$(mktemp -d)"
dpkg-deb -R "$deb" "$work/pkg"
version="$(dpkg-deb -f "$deb" Version)"
sed -i "s/^Version: .*/Version: ${version}+pkgtest1/" "$work/pkg/DEBIAN/control"
dpkg-deb -b --root-owner-group "$work/pkg" "$work/nuanxin_next.deb" >/dev/null
if apt-get install -y -qq "$work/nuanxin_next.deb" >>"$log" 2>&1; then ok; else bad "upgrade (see $log)"; tail -30 "$log" >&2; fi
check "the upgrade took a backup first" test "$(ls /var/lib/nuanxin/backups | wc -l)" -gt "$backups_before"
check "the data is kept across the upgrade" test "$(sqlite3 /var/lib/nuanxin/nuanxin.db 'SELECT count(*) FROM users')" = "$users_before"
check "the newer version is installed" test "$(dpkg-query -W -f='${Version}' nuanxin)" = "${version}+pkgtest1"
if runuser -u nuanxin -- nuanxin doctor >>"$log" 2>&1; then ok; else bad "nuanxin doctor on the installed package (see $log)"; tail -20 "$log" >&2; fi
check "the backup service's command works" runuser -u nuanxin -- nuanxin --data /var/lib/nuanxin --config /etc/nuanxin/nuanxin.conf backup --dir /var/lib/nuanxin/backups

# --- remove: configuration and data kept ---
check "apt remove" apt-get remove -y -qq nuanxin
check "remove: the program is gone" test ! -e /usr/bin/nuanxin
check "remove: the configuration is kept" test -f /etc/nuanxin/nuanxin.conf
check "remove: the data is kept" test -f /var/lib/nuanxin/nuanxin.db

# --- purge: configuration gone; data and key deliberately kept, and said so ---
purge_out="$(apt-get purge -y nuanxin 2>&1)"
echo "$purge_out" >>"$log"
check "purge: the configuration is gone" test ! -e /etc/nuanxin/nuanxin.conf
check "purge: the one-time password file is gone" test ! -e /etc/nuanxin/initial-admin-password
check "purge: the residents' data is kept" test -f /var/lib/nuanxin/nuanxin.db
check "purge: the key file is kept with the data" test -f /etc/nuanxin/nuanxin.key
check "purge: says where the data is and how to delete it" grep -q '居民数据仍保留在 /var/lib/nuanxin' <<<"$purge_out"

# --- leave the machine as it was ---
rm -rf /var/lib/nuanxin /etc/nuanxin "$work"
userdel nuanxin 2>/dev/null || true
groupdel nuanxin 2>/dev/null || true
echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
