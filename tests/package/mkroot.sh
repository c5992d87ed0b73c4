#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the Debian 12 root that the package tests install into, once, and
# keep it as a tarball: debootstrap (minbase) plus what a stock system has
# that matters here (systemd as init, systemd-timesyncd, udev, dbus, iproute2,
# AppArmor's parser), apt lists, and the .debs of gpspps's dependencies in
# apt's cache, so that installing gpspps later needs no network.
#
# Usage: mkroot.sh OUT.tar.zst   (root; needs network to the Debian mirror)
# MIRROR overrides the mirror (default: the first Debian URI in apt's own
# sources on this machine, else http://deb.debian.org/debian).
set -eu
out=$1
suite=bookworm
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(grep -hoE 'https?://[^ ]*/debian/?( |$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		head -n1 | tr -d ' ' || true)
	MIRROR=${MIRROR:-http://deb.debian.org/debian}
fi
MIRROR=${MIRROR%/}
work=$(mktemp -d "${out}.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

echo "debootstrap $suite from $MIRROR"
debootstrap --variant=minbase \
	--include=systemd,systemd-sysv,systemd-timesyncd,udev,dbus,iproute2,apparmor,adduser \
	"$suite" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	exit 1
}

cat >"$root/etc/apt/sources.list" <<LIST
deb $MIRROR $suite main
deb $MIRROR $suite-updates main
LIST
# No daemon may start inside the root: chronyd would steer this machine's
# clock.  Tests that want a daemon start it themselves, with -x.
cat >"$root/usr/sbin/policy-rc.d" <<'POL'
#!/bin/sh
exit 101
POL
chmod 755 "$root/usr/sbin/policy-rc.d"
echo "pkgtest" >"$root/etc/hostname"

in_root() {
	unshare --mount --pid --fork --kill-child chroot "$root" /bin/sh -c \
		'mount -t proc proc /proc && "$@"' sh "$@"
}
in_root apt-get -q update >"$work/apt.log" 2>&1 || {
	tail -n 30 "$work/apt.log" >&2
	exit 1
}
rm -f "$root/var/cache/apt/archives/"*.deb
# gpspps's run-time dependencies, downloaded only; the package tests
# install them (with gpspps) from this cache.
in_root apt-get -q -y --download-only install chrony libjansson4 libgpiod2 \
	tzdata >>"$work/apt.log" 2>&1 || {
	tail -n 30 "$work/apt.log" >&2
	exit 1
}
rm -f "$root/var/cache/apt/"*.bin
tar -C "$root" --numeric-owner --xattrs -cf - . | zstd -q -1 -T0 -o "$out.tmp"
mv "$out.tmp" "$out"
echo "made $out ($(du -h "$out" | cut -f1))"
