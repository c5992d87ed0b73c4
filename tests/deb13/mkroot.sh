#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkroot.sh OUT.tar.zst - the Debian 13 "trixie" root of the deb13 suite,
# made once and kept as a tarball: debootstrap (minbase) plus what building
# and testing gpspps needs there (gcc 14, meson, libjansson, libgpiod 2,
# cmocka, pps-tools, python3), what building the .deb there needs
# (build-essential, debhelper, devscripts, lintian), chrony 4.6 and its time zone data, and apt
# lists (the harness unpacks trixie's chrony with apt-get download inside
# the root).  No daemon may start in the root: policy-rc.d refuses all,
# debootstrap itself installs with a fake start-stop-daemon.
#
# Root; needs network to the Debian mirror.  MIRROR overrides it (default:
# http://deb.debian.org/debian).
set -eu
out=$1
suite=trixie
MIRROR=${MIRROR:-http://deb.debian.org/debian}
work=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

pkgs=gcc,libc6-dev,meson,ninja-build,pkg-config,libjansson-dev,libgpiod-dev
pkgs=$pkgs,libcmocka-dev,pps-tools,python3,tzdata,chrony,iproute2
echo "debootstrap $suite from $MIRROR"
debootstrap --variant=minbase --include="$pkgs" "$suite" "$root" \
	"$MIRROR" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	exit 1
}
cat >"$root/usr/sbin/policy-rc.d" <<'POL'
#!/bin/sh
exit 101
POL
chmod 755 "$root/usr/sbin/policy-rc.d"
echo "deb $MIRROR $suite main" >"$root/etc/apt/sources.list"
rm -f "$root/etc/apt/sources.list.d/"*
# The lists for apt-get download, without a running system: chroot only.
# The .deb's build tools with apt: debootstrap --include fails to order
# lintian's dependencies (libnet-ssleay-perl does not configure).
unshare --mount --pid --fork --kill-child chroot "$root" /bin/sh -c \
	'mount -t proc proc /proc && apt-get -q update &&
	DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends \
		install build-essential dpkg-dev debhelper devscripts lintian' >"$work/apt.log" 2>&1 || {
	tail -n 30 "$work/apt.log" >&2
	exit 1
}
rm -f "$root/var/cache/apt/archives/"*.deb
tar -C "$root" --numeric-owner -cf - . | zstd -q -T0 -o "$out.part"
mv "$out.part" "$out"
ls -l "$out"
