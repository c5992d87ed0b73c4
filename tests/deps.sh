#!/bin/sh
# Install what building and testing gpspps needs, from the distribution's
# packages (Debian 12, Ubuntu 24.04).  Installs only what is missing;
# needs root (or sudo).  Usage: tests/deps.sh [build|test|bench|all]
set -eu

build_pkgs="gcc meson ninja-build pkg-config libjansson-dev libgpiod-dev
	libcmocka-dev pps-tools"
run_pkgs="chrony python3"
test_pkgs="clang libclang-rt-dev strace man-db"
vm_pkgs="qemu-system-x86 busybox-static cpio kmod gcc make"
# The benchmark against gpsd (tests/bench/vs-gpsd).
bench_pkgs="gpsd socat stress-ng"
pkg_pkgs="debhelper dpkg-dev fakeroot lintian debootstrap devscripts systemd
	systemd-container zstd"

case "${1:-all}" in
build) want="$build_pkgs $run_pkgs" ;;
test) want="$build_pkgs $run_pkgs $test_pkgs" ;;
bench) want="$build_pkgs $run_pkgs $bench_pkgs" ;;
all) want="$build_pkgs $run_pkgs $test_pkgs $vm_pkgs $pkg_pkgs $bench_pkgs" ;;
*) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
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
