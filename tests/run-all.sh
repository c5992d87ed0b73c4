#!/bin/sh
# Build gpspps and run every test suite: the README's test command and
# what CI runs.  Installs missing build/test dependencies first.
# Usage: tests/run-all.sh [meson test options, e.g. --suite unit]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build="${GPSPPS_BUILDDIR:-$top/build}"

"$top/tests/deps.sh" all
if [ ! -f "$build/build.ninja" ]; then
	meson setup "$build" "$top" -Dwerror=true
fi
ninja -C "$build"
status=0
meson test -C "$build" --print-errorlogs "$@" || status=$?
python3 "$top/tests/summary.py" "$build/meson-logs/testlog.json" || status=1
exit $status
