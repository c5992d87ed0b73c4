#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the whole tree with clang and -Werror (CI's gcc build already
# does the same with gcc): a warning either compiler gives fails here.
# Then build gpsppsd and the PPS unit test once more without libgpiod
# (-Dgpiod=disabled): the gpio kind must stay listed as not built, and
# --check must refuse it with the reason, not as an unknown kind.
set -eu
src="$1"
out="$2/clang-werror"
if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP: clang is not installed"
	exit 77
fi
if [ ! -f "$out/build.ninja" ]; then
	CC=clang meson setup "$out" "$src" -Dwerror=true -Dfuzz=disabled >"$out.log" 2>&1 ||
		{ cat "$out.log"; exit 1; }
fi
ninja -C "$out"

nog="$2/clang-nogpiod"
if [ ! -f "$nog/build.ninja" ]; then
	CC=clang meson setup "$nog" "$src" -Dwerror=true -Dfuzz=disabled \
		-Dgpiod=disabled >"$nog.log" 2>&1 || { cat "$nog.log"; exit 1; }
fi
ninja -C "$nog" src/gpsppsd/gpsppsd tests/unit/test_pps_check
fail() { echo "FAIL: $*"; exit 1; }
not_built="gpio: not built (libgpiod was not found at build time; install libgpiod-dev and rebuild)"
"$nog/tests/unit/test_pps_check" | tee "$nog/test_pps_check.log" ||
	fail "test_pps_check without libgpiod"
grep -qxF "not built: $not_built" "$nog/test_pps_check.log" ||
	fail "test_pps_check did not see gpio as not built"
"$nog/src/gpsppsd/gpsppsd" --help | grep -E '^  gpio +not built \(libgpiod was not found at build time\)$' ||
	fail "gpsppsd --help does not list gpio as not built"
msg=$("$nog/src/gpsppsd/gpsppsd" --check --pps gpio:gpiochip0:18 2>&1) &&
	fail "--check accepted gpio without libgpiod"
echo "$msg"
echo "$msg" | grep -qxF "gpsppsd: --pps: $not_built" ||
	fail "--check does not say gpio was not built"
echo "PASS: without libgpiod, gpio is 'not built'"
