#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build a Debian root that the package tests install into, once, and keep
# it as a tarball: debootstrap (minbase) plus what a stock system has that
# matters here (systemd as init, systemd-timesyncd, udev, dbus, iproute2,
# AppArmor's parser), apt lists, and the .debs of gpspps's dependencies in
# apt's cache, so that installing gpspps later needs no network.
#
# Usage: mkroot.sh OUT.tar.zst [SUITE [ARCH]]
#        (root; needs network to the Debian mirror.  SUITE: bookworm, the
#        default, or trixie; ARCH: this machine's, the default, or armhf)
# MIRROR overrides the mirror (default: the first Debian URI in apt's own
# sources on this machine, else http://deb.debian.org/debian).
#
# An armhf root is made in two stages: debootstrap --foreign unpacks it
# here, then its own programs finish the installation (--second-stage)
# under qemu-arm-static through ../cross/qemu-userns.sh, which registers
# the emulator in a binfmt_misc of its own, not this machine's; it takes
# about 6 minutes on 2 cores.
set -eu
out=$1
suite=${2:-bookworm}
arch=${3:-$(dpkg --print-architecture)}
here=$(cd "$(dirname "$0")" && pwd)
case $suite in
bookworm) deps="chrony libjansson4 libgpiod2 tzdata" ;;
# tzdata-legacy (the right/ zones): in the cache for the leap-second test.
trixie) deps="chrony libjansson4 libgpiod3 tzdata tzdata-legacy" ;;
*) echo "mkroot.sh: unknown suite $suite" >&2; exit 2 ;;
esac
foreign=""
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
	foreign=yes
fi
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

# Commands in the root: chroot in own mount and PID namespaces; for a
# foreign ARCH also an own user namespace where qemu runs ARCH's programs.
in_root() {
	if [ -n "$foreign" ]; then
		"$here/../cross/qemu-userns.sh" "$arch" chroot "$root" /bin/sh -c \
			'mount -t proc proc /proc && "$@"' sh "$@"
	else
		unshare --mount --pid --fork --kill-child chroot "$root" /bin/sh -c \
			'mount -t proc proc /proc && "$@"' sh "$@"
	fi
}

echo "debootstrap $suite $arch from $MIRROR"
start=$(date +%s)
debootstrap --variant=minbase --arch="$arch" ${foreign:+--foreign} \
	--include=systemd,systemd-sysv,systemd-timesyncd,udev,dbus,iproute2,apparmor,adduser \
	"$suite" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	exit 1
}
if [ -n "$foreign" ]; then
	# In a user namespace mknod is refused: container=lxc makes
	# debootstrap use the device nodes the first stage made.
	"$here/../cross/qemu-userns.sh" "$arch" env container=lxc \
		chroot "$root" /debootstrap/debootstrap --second-stage \
		>>"$work/debootstrap.log" 2>&1 || {
		tail -n 30 "$work/debootstrap.log" >&2
		exit 1
	}
fi
echo "debootstrap took $(( $(date +%s) - start )) s"

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

in_root apt-get -q update >"$work/apt.log" 2>&1 || {
	tail -n 30 "$work/apt.log" >&2
	exit 1
}
rm -f "$root/var/cache/apt/archives/"*.deb
# gpspps's run-time dependencies, downloaded only; the package tests
# install them (with gpspps) from this cache.
# shellcheck disable=SC2086
in_root apt-get -q -y --download-only install $deps >>"$work/apt.log" 2>&1 || {
	tail -n 30 "$work/apt.log" >&2
	exit 1
}
rm -f "$root/var/cache/apt/"*.bin
tar -C "$root" --numeric-owner --xattrs -cf - . | zstd -q -1 -T0 -o "$out.tmp"
mv "$out.tmp" "$out"
echo "made $out ($(du -h "$out" | cut -f1))"
