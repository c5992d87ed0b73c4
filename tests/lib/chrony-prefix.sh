#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# chrony-prefix.sh DIR [ARCH] - chronyd and chronyc from the distribution's
# chrony package, unpacked into DIR, for the demo and the tests.
#
# The chrony package is never installed on the host: installing it would
# remove systemd-timesyncd and start a system chronyd that takes over the
# clock.  `apt-get download` fetches the .deb the host's own apt sources
# name (so its libraries are the ones tests/deps.sh installs from its
# Depends), `dpkg-deb -x` unpacks it, nothing runs its maintainer scripts.
# Afterwards DIR/usr/sbin/chronyd and DIR/usr/bin/chronyc are ready, and
# DIR/VERSION holds the package's version.  A binary outside /usr/sbin is
# also outside the reach of Debian's and Ubuntu's AppArmor profile for
# chronyd, which would not let it read a test's private configuration.
#
# ARCH (default: the host's) fetches another architecture's chrony, e.g.
# armhf to run under qemu-user; that needs `dpkg --add-architecture ARCH`
# and its libraries (the lib* packages of its Depends, of that
# architecture).
#
# Cached: a second run with DIR ready does nothing; concurrent runs wait for
# each other.  Exit 0 when DIR is ready, 1 with the reason otherwise.
set -euo pipefail

DIR=$(realpath -m "${1:?usage: chrony-prefix.sh DIR [ARCH]}")
HOSTARCH=$(dpkg --print-architecture)
ARCH=${2:-$HOSTARCH}

ready() {
	[ -f "$DIR/.done" ] && [ -x "$DIR/usr/sbin/chronyd" ] &&
		[ -x "$DIR/usr/bin/chronyc" ]
}
ready && exit 0

mkdir -p "$(dirname "$DIR")"
exec 9>"$DIR.lock"
flock 9
ready && exit 0

tmp=$(mktemp -d "$DIR.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
pkg=chrony
[ "$ARCH" = "$HOSTARCH" ] || pkg=chrony:$ARCH
download() {
	(cd "$tmp" && apt-get -q -o APT::Sandbox::User=root download "$pkg") \
		>"$tmp/download.log" 2>&1
}
if ! download; then
	# Stale or missing package lists (a fresh container): refresh them,
	# which changes nothing else on the host.
	if [ "$(id -u)" -ne 0 ] ||
	   ! apt-get -q update >>"$tmp/download.log" 2>&1 || ! download; then
		cat "$tmp/download.log" >&2
		echo "chrony-prefix.sh: cannot download $pkg with apt-get:" \
			"check the network and apt's sources (for a foreign" \
			"architecture: dpkg --add-architecture $ARCH; apt-get" \
			"update)" >&2
		exit 1
	fi
fi
deb=$(ls "$tmp"/chrony_*.deb)
dpkg-deb -x "$deb" "$tmp/root"
dpkg-deb -f "$deb" Version >"$tmp/root/VERSION"
for p in usr/sbin/chronyd usr/bin/chronyc; do
	if [ ! -x "$tmp/root/$p" ]; then
		echo "chrony-prefix.sh: $deb has no $p" >&2
		exit 1
	fi
done
if [ "$ARCH" = "$HOSTARCH" ]; then
	missing=$(ldd "$tmp/root/usr/sbin/chronyd" "$tmp/root/usr/bin/chronyc" |
		awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
	if [ -n "$missing" ]; then
		echo "chrony-prefix.sh: chrony's libraries are missing" \
			"($missing): run tests/deps.sh, which installs them" >&2
		exit 1
	fi
fi
rm -rf "$DIR"
mv "$tmp/root" "$DIR"
touch "$DIR/.done"
echo "chrony $(cat "$DIR/VERSION") ($ARCH) unpacked in $DIR"
