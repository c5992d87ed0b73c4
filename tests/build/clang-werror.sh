#!/bin/sh
# Build the whole tree with clang and -Werror (CI's gcc build already
# does the same with gcc): a warning either compiler gives fails here.
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
