#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# gpiod-v2-prefix.sh PREFIX - unpack libgpiod v2 (headers, .so, .pc) from
# Debian 13 "trixie" into PREFIX, so that a second meson build compiles the
# libgpiod v2 backend on a Debian 12 host, which ships only libgpiod 1.6.
#
# Nothing is installed and the system's apt configuration is not touched:
# a private apt configuration under PREFIX lists only trixie, pinned at
# priority 100 as a second safeguard, and is used for `apt-get download`
# alone (installing trixie's libgpiod3 would pull a newer libc).  The
# packages are unpacked with dpkg-deb -x and the .pc file's prefix is
# rewritten to PREFIX.  Afterwards:
#
#   PKG_CONFIG_PATH=PREFIX/usr/lib/x86_64-linux-gnu/pkgconfig meson setup ...
#   LD_LIBRARY_PATH=PREFIX/usr/lib/x86_64-linux-gnu ./program
#
# Exit status 0 when PREFIX is ready (cached: a second run does nothing),
# 77 when trixie's packages cannot be fetched (reason printed).
set -euo pipefail

PREFIX=$(realpath -m "${1:?prefix}")
MULTIARCH=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null ||
	    gcc -print-multiarch)
PC=$PREFIX/usr/lib/$MULTIARCH/pkgconfig/libgpiod.pc
[ -f "$PREFIX/.done" ] && [ -f "$PC" ] && exit 0

APT=$PREFIX/apt
rm -rf "$PREFIX"
mkdir -p "$APT"/{lists/partial,cache/archives/partial,parts,debs}
cat >"$APT/sources.list" <<EOF
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main
EOF
cat >"$APT/preferences" <<EOF
Package: *
Pin: release n=trixie
Pin-Priority: 100
EOF
opts=(-o Dir::Etc::SourceList="$APT/sources.list"
      -o Dir::Etc::SourceParts="$APT/parts"
      -o Dir::Etc::Preferences="$APT/preferences"
      -o Dir::Etc::PreferencesParts="$APT/parts"
      -o Dir::State::Lists="$APT/lists"
      -o Dir::Cache="$APT/cache"
      -o APT::Sandbox::User=root
      -o Acquire::Languages=none -q)

if ! apt-get "${opts[@]}" update >"$APT/update.log" 2>&1; then
	cat "$APT/update.log"
	echo "SKIP: cannot read Debian trixie's package lists"
	exit 77
fi
if ! (cd "$APT/debs" && apt-get "${opts[@]}" download \
	libgpiod-dev/trixie libgpiod3/trixie) >"$APT/download.log" 2>&1; then
	cat "$APT/download.log"
	echo "SKIP: cannot download libgpiod-dev and libgpiod3 from trixie"
	exit 77
fi
for deb in "$APT"/debs/*.deb; do
	dpkg-deb -x "$deb" "$PREFIX"
done
sed -i "s#^prefix=.*#prefix=$PREFIX/usr#" "$PC"
# the lists are 10+ MB and no longer needed
rm -rf "$APT/lists" "$APT/cache"
grep -H '^Version' "$PC"
touch "$PREFIX/.done"
