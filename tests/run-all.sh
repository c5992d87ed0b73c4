#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build gpspps and run every test suite: the README's test command and
# what CI runs.  Installs missing build/test dependencies first.
# Usage: tests/run-all.sh [meson test options, e.g. --suite unit]
#
# Without options the tests run in two lanes at once (doc/hacking.md,
# "Two lanes"): the suite 'background' (builds and packaging, CPU only,
# nothing timed) under SCHED_IDLE, so that it only takes the CPU the other
# lane leaves and adds no scheduling latency to it, and every other test
# in the normal lane, where meson runs the timing-bound ones alone.  With
# options, one meson test run of what they select, as before.
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
if [ $# -gt 0 ]; then
	meson test -C "$build" --print-errorlogs "$@" || status=$?
	python3 "$top/tests/summary.py" "$build/meson-logs/testlog.json" ||
		status=1
	exit $status
fi

logs="$build/meson-logs"
mkdir -p "$logs"
rm -f "$logs/background.json" "$logs/main.json"
# The background lane's console goes to a file (follow it with tail -f),
# printed once it is done, so that the two lanes' lines do not interleave.
echo "background lane (SCHED_IDLE): $logs/background-console.txt"
chrt --idle 0 meson test -C "$build" --no-rebuild --print-errorlogs \
	--suite background --logbase background \
	>"$logs/background-console.txt" 2>&1 &
bg=$!
meson test -C "$build" --no-rebuild --print-errorlogs \
	--no-suite background --logbase main || status=$?
wait $bg || status=$?
echo "=== background lane (SCHED_IDLE) ==="
cat "$logs/background-console.txt"
python3 "$top/tests/summary.py" "$logs/main.json" "$logs/background.json" ||
	status=1
exit $status
