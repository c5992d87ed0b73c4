#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# gpiod2-build.sh SRC BUILD - compile gpspps a second time against
# libgpiod v2 (unpacked from Debian 13 by gpiod-v2-prefix.sh) in
# BUILD/gpiod2, then run the v2-linked programs on the host: vmprobe
# --version must report API v2 from a 2.x library, gpsppsd --help must list
# the gpio kind, and opening a missing chip must fail through the v2 code
# with its one-line message.  Exit 77 when libgpiod v2 cannot be fetched.
set -euo pipefail

SRC=$(realpath "${1:?source dir}")
BUILD=$(realpath "${2:?build dir}")
HERE=$(dirname "$(realpath "$0")")
PREFIX=$BUILD/gpiod2-prefix
OUT=$BUILD/gpiod2
MULTIARCH=$(gcc -print-multiarch)
LIBDIR=$PREFIX/usr/lib/$MULTIARCH

mkdir -p "$BUILD"
exec 9>"$BUILD/gpiod2.lock"
flock 9

"$HERE/gpiod-v2-prefix.sh" "$PREFIX" || exit $?
export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
if [ ! -f "$OUT/build.ninja" ]; then
	meson setup "$OUT" "$SRC" -Dgpiod=enabled -Dwerror=true \
		-Dfuzz=disabled >"$BUILD/gpiod2-setup.log" 2>&1 ||
		{ cat "$BUILD/gpiod2-setup.log"; exit 1; }
fi
grep -q '^#define GPSPPS_GPIOD_API 2$' "$OUT/config.h" ||
	{ echo "FAIL: $OUT/config.h does not select the v2 API"; exit 1; }
ninja -C "$OUT" src/gpsppsd/gpsppsd tests/vm/vmprobe

export LD_LIBRARY_PATH=$LIBDIR
fail() { echo "FAIL: $*"; exit 1; }
# (not `ldd | grep -q`: grep -q exits at the match, and under pipefail
# ldd's SIGPIPE on its next write would fail the check)
libs=$(ldd "$OUT/tests/vm/vmprobe")
grep -qF "$LIBDIR/libgpiod.so.3" <<<"$libs" ||
	fail "vmprobe is not linked to the v2 library"
v=$("$OUT/tests/vm/vmprobe" --version)
echo "$v"
echo "$v" | grep -q 'libgpiod API v2, library 2\.' || fail "not API v2"
"$OUT/src/gpsppsd/gpsppsd" --help | grep -E '^ +gpio +GPIO line' ||
	fail "gpsppsd --help does not list the gpio kind"
"$OUT/tests/vm/vmprobe" --expect-error 'GPIO chip "/nonexistent/gpiochip9" not found' \
	gpio:/nonexistent/gpiochip9:18 || fail "missing chip not reported"
"$OUT/tests/vm/vmprobe" --expect-error 'needs a chip and a line' gpio:18 ||
	fail "bad spec not reported"
echo "PASS: libgpiod v2 build"
