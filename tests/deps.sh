#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Install what building and testing gpspps needs, from the distribution's
# packages (Debian 12, Ubuntu 24.04).  Installs only what is missing;
# needs root (or sudo).  Usage: tests/deps.sh [build|test|bench|cross|all]
# (cross, also part of all: the armhf and arm64 cross toolchains, qemu-user
# and those architectures' -dev packages, after dpkg --add-architecture;
# bench, also part of all: gpsd, socat and stress-ng for tests/bench)
set -eu
case "${1:-all}" in
build | test | bench | cross | all) ;;
*) echo "usage: $0 [build|test|bench|cross|all]" >&2; exit 2 ;;
esac

# (libc6-dev by name: --no-install-recommends leaves out gcc's Recommends)
build_pkgs="gcc libc6-dev meson ninja-build pkg-config libjansson-dev
	libgpiod-dev libcmocka-dev pps-tools"
run_pkgs="python3"
# gpsd, gpsd-clients: the share suite's consumers (gpsd, gpspipe)
test_pkgs="clang libclang-rt-dev strace man-db valgrind sntp prometheus
	bash-completion gpsd gpsd-clients"
vm_pkgs="qemu-system-x86 busybox-static cpio kmod gcc make"
# The benchmark against gpsd (tests/bench/vs-gpsd).
bench_pkgs="gpsd socat stress-ng"
pkg_pkgs="debhelper dpkg-dev fakeroot lintian debootstrap devscripts systemd
	systemd-container zstd"
cross_archs="armhf arm64"
cross_pkgs="qemu-user-static file"
for a in $cross_archs; do
	cross_pkgs="$cross_pkgs crossbuild-essential-$a pkgconf:$a libjansson-dev:$a
		libgpiod-dev:$a libcmocka-dev:$a"
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
updated=""
apt_update() {
	[ -n "$updated" ] || $sudo apt-get update -q
	updated=yes
}

# chrony itself is never installed: on a desktop that would remove
# systemd-timesyncd and start a system chronyd that takes over the clock.
# The demo and the tests run chronyd and chronyc unpacked from the .deb
# (tests/lib/chrony-prefix.sh) and need only what it links and reads: the
# lib* packages among its Depends, and its time zone data (tzdata, or
# tzdata-legacy on Ubuntu 24.04, for leapsectz right/UTC).
chrony_deps() {
	apt-cache show chrony 2>/dev/null |
		awk '/^Depends:/ { sub(/^Depends: */, ""); print; exit }' |
		tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
		grep -E '^(lib|tzdata)' | tr '\n' ' '
}
apt-cache show chrony >/dev/null 2>&1 || apt_update
chrony_pkgs=$(chrony_deps)
if [ -z "$chrony_pkgs" ]; then
	echo "$0: apt knows no chrony package: check apt's sources" >&2
	exit 1
fi
run_pkgs="$run_pkgs $chrony_pkgs"
# The armhf end-to-end test runs chrony:armhf, unpacked the same way.
for p in $chrony_pkgs; do
	case $p in
	lib*) cross_pkgs="$cross_pkgs $p:armhf" ;;
	esac
done

case "${1:-all}" in
build) want="$build_pkgs $run_pkgs" ;;
test) want="$build_pkgs $run_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $run_pkgs $bench_pkgs" ;;
cross) want="$build_pkgs $cross_pkgs" ;;
all) want="$build_pkgs $run_pkgs $test_pkgs $vm_pkgs $pkg_pkgs $cross_pkgs
	$bench_pkgs" ;;
esac
# Foreign architectures for the cross suites' -dev packages (apt then also
# reads their package lists).  Debian's mirrors carry every architecture;
# Ubuntu's amd64 sources do not (armhf and arm64 are on ports.ubuntu.com):
# there `all` leaves the cross packages out and the cross suites skip.
. /etc/os-release
if [ "${ID:-}" != debian ]; then
	case "${1:-all}" in
	cross)
		echo "$0: cross: armhf and arm64 packages need Debian's" \
			"mirrors (on ${ID:-this system}, add ports sources)" >&2
		exit 1 ;;
	all)
		echo "note: not Debian: the cross suites' packages are left out"
		want=$(echo $want | tr ' ' '\n' | grep -vxF "$(echo \
			$cross_pkgs | tr ' ' '\n')" | tr '\n' ' ') ;;
	esac
fi
case "${ID:-}:${1:-all}" in
debian:cross | debian:all)
	for a in $cross_archs; do
		if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
			$sudo dpkg --add-architecture "$a"
			updated=""
		fi
	done
	;;
esac

case "${1:-all}" in
test | all)
	# The share suite runs its own gpsd in the foreground on private
	# ports.  The package's system service would take the receiver and
	# feed chronyd: mask it before the package can start it.  Likewise
	# the Prometheus server: the tests want only its promtool.
	if command -v systemctl >/dev/null 2>&1; then
		$sudo systemctl mask gpsd.socket gpsd.service \
			prometheus.service >/dev/null 2>&1 || true
	fi
	;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
apt_update
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
# The gpsd package enables its socket-activated service; the benchmark runs
# its own gpsd, and a system one would hold the SHM segments it uses.
case " $missing " in
*" gpsd "*)
	$sudo systemctl disable --now gpsd.socket gpsd.service 2>/dev/null || true
	$sudo systemctl mask gpsd.socket gpsd.service 2>/dev/null || true
	;;
esac
case " $missing " in
*" prometheus "*)
	$sudo systemctl disable --now prometheus.service 2>/dev/null || true
	$sudo systemctl mask prometheus.service 2>/dev/null || true
	;;
esac
