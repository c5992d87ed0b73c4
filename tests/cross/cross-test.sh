#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# cross-test.sh ARCH SRC BUILD [--build-only] [--time64] - cross-compile
# gpspps for a Raspberry Pi ABI (ARCH armhf or arm64, cross/ARCH.ini) in
# BUILD/cross-ARCH with warnings fatal, then run its unit (with the fuzz
# corpus replay), property (the full 10^6 seconds) and replay suites there,
# every test program under qemu-user (the cross file's exe_wrapper; no
# binfmt_misc needed).
#
# --build-only stops after the build (armhf_chrony.py uses the programs);
# --time64 builds in BUILD/cross-ARCH-time64 with -D_TIME_BITS=64 (and
# meson's -D_FILE_OFFSET_BITS=64): a 64-bit time_t on a 32-bit ABI, whose
# SOCK samples are 40 bytes.
#
# Exit 0 when every test passed, 1 on a build error or a failed test, 77
# when the cross toolchain, qemu-user-static or ARCH's -dev packages are
# missing (tests/deps.sh cross installs them).
set -euo pipefail

ARCH=${1:?arch (armhf or arm64)}
SRC=$(realpath "${2:?source dir}")
BUILD=$(realpath "${3:?build dir}")
shift 3
CROSS=$SRC/cross/$ARCH.ini
OUT=$BUILD/cross-$ARCH
build_only=""
setup_args=()
for a in "$@"; do
	case $a in
	--build-only) build_only=yes ;;
	--time64) OUT=$OUT-time64; setup_args=(-Dc_args=-D_TIME_BITS=64) ;;
	*) echo "FAIL: unknown option $a"; exit 1 ;;
	esac
done
skip() { echo "SKIP: $*"; exit 77; }

[ -f "$CROSS" ] || { echo "FAIL: no cross file $CROSS"; exit 1; }
cc=$(sed -n "s/^c = '\(.*\)'$/\1/p" "$CROSS")
wrapper=$(sed -n "s/^exe_wrapper = '\(.*\)'$/\1/p" "$CROSS")
command -v "$cc" >/dev/null ||
	skip "$cc missing: tests/deps.sh cross installs crossbuild-essential-$ARCH"
command -v "$wrapper" >/dev/null ||
	skip "$wrapper missing: tests/deps.sh cross installs qemu-user-static"
for p in libjansson-dev libgpiod-dev libcmocka-dev; do
	dpkg-query -W -f='${Status}\n' "$p:$ARCH" 2>/dev/null |
		grep -q '^install ok installed' ||
		skip "$p:$ARCH missing: tests/deps.sh cross installs it"
done

mkdir -p "$BUILD"
exec 9>"$OUT.lock"
flock 9
if [ ! -f "$OUT/build.ninja" ]; then
	meson setup "$OUT" "$SRC" --cross-file "$CROSS" -Dwerror=true \
		-Dfuzz=disabled "${setup_args[@]}" >"$OUT-setup.log" 2>&1 ||
		{ cat "$OUT-setup.log"; exit 1; }
fi
start=$(date +%s)
ninja -C "$OUT"
echo "cross-$ARCH: built in $(( $(date +%s) - start )) s"
grep -E '^#define (HAVE_GPIOD|HAVE_TIMEPPS|GPSPPS_GPIOD_API) ' "$OUT/config.h"
file -L "$OUT/src/gpsppsd/gpsppsd" 2>/dev/null || true
[ -z "$build_only" ] || exit 0

start=$(date +%s)
status=0
# qemu-user runs the code 20-70 times slower than natively: each test's
# own timeout (set for native runs) is stretched to match.
meson test -C "$OUT" --print-errorlogs --timeout-multiplier 5 \
	--suite unit --suite property --suite replay || status=$?
echo "cross-$ARCH: tests ran in $(( $(date +%s) - start )) s"
# The figures a reader wants from the ABI: the SOCK sample size (test_sock
# checks it: 32 or 40 bytes), the property test's line and table, the
# replay totals.
log=$OUT/meson-logs/testlog.txt
grep -h -m1 '^SOCK sample:' "$log" || true
sed -n '/^pair property test:/,/^PASS/p' "$log"
grep -h 'captures:' "$log" || true
exit $status
