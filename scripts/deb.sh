#!/usr/bin/env bash
# `make deb`: the Debian package from this tree. Builds the web app (web/dist, npm), then the binary
# package with dpkg-buildpackage (debian/: CMake with dpkg-buildflags' hardening, the web app, the
# configuration, the systemd units); the .deb and its .buildinfo/.changes are moved into build-deb/.
# Usage: scripts/deb.sh   (needs: scripts/deps.sh package — debhelper, lintian, dpkg-dev, fakeroot)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
scripts/web.sh >/dev/null
out="$root/build-deb"
mkdir -p "$out"
# dpkg-buildpackage writes its results next to the source tree; collect them from there.
parent="$(dirname "$root")"
version="$(dpkg-parsechangelog -S Version)"
arch="$(dpkg --print-architecture)"
rm -f "$parent"/nuanxin_"$version"_* "$parent"/nuanxin-dbgsym_"$version"_*
dpkg-buildpackage -b -us -uc --no-pre-clean >"$out/build.log" 2>&1 || { tail -40 "$out/build.log" >&2; exit 1; }
mv "$parent"/nuanxin_"$version"_* "$parent"/nuanxin-dbgsym_"$version"_* "$out"/
# the package build leaves CMake's tree and debhelper's staging behind; they are not part of the tree
rm -rf obj-* debian/nuanxin debian/.debhelper debian/debhelper-build-stamp debian/files debian/*.substvars \
  debian/*.debhelper.log debian/*.postrm.debhelper debian/*.postinst.debhelper debian/*.prerm.debhelper
echo "$out/nuanxin_${version}_${arch}.deb"
