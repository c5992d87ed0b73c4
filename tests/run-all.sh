#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build gpspps and run every test suite: the README's test command and
# what CI runs.  Installs missing build/test dependencies first.
# Usage: tests/run-all.sh [meson test options, e.g. --suite unit]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

# The end-to-end suites run chronyd, and the package and VM suites
# install packages and make roots: all need root.
if [ "$(id -u)" -ne 0 ]; then
	echo "The tests run chronyd and build root file systems, which needs root: re-running with sudo."
	exec sudo -E "$0" "$@"
fi
build="${GPSPPS_BUILDDIR:-$top/build}"

"$top/tests/deps.sh" all
if [ ! -f "$build/build.ninja" ]; then
	# -Dfuzz=enabled: a missing libFuzzer must fail, not drop the fuzzers.
	meson setup "$build" "$top" -Dwerror=true -Dfuzz=enabled
fi
ninja -C "$build"
status=0
meson test -C "$build" --print-errorlogs "$@" || status=$?
python3 "$top/tests/summary.py" "$build/meson-logs/testlog.json" || status=1
exit $status
