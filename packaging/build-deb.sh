#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Build the gpspps .deb from this tree and check it with lintian.
#
# Usage: packaging/build-deb.sh [--ref GIT-REF] [--arch ARCH] [OUTDIR]
#        (default OUTDIR: ./build-deb, which git ignores like every
#        build* directory; default source: the work tree; default ARCH:
#        this machine's)
#
# --arch armhf (or arm64) cross-builds the package for a Raspberry Pi with
# Debian's cross toolchain (tests/deps.sh cross installs it, with the
# -dev packages of that architecture and pkgconf:ARCH, whose
# ARCH-triplet-pkg-config debhelper's meson cross file needs).  The test
# programs are not built (profiles cross, nocheck: the cross suites run
# them under qemu-user).  pps-tools is the one build dependency not
# checked for ARCH: it is there for <sys/timepps.h>, an
# architecture-independent header, and not Multi-Arch: same, so
# pps-tools:ARCH cannot be installed beside this machine's.
#
# debian/ lives in packaging/debian so that the tree's top level stays as
# it is: this script copies the tree (tracked and new files, not build
# directories; or the commit GIT-REF) to a temporary directory, copies
# packaging/debian to its top, runs `dpkg-buildpackage -us -uc -b` there
# and leaves the .deb, .changes, .buildinfo and the build and lintian logs
# in OUTDIR.  lintian must report no errors (warnings are printed).  Extra
# dpkg-buildpackage options go in DPKG_BUILDPACKAGE_OPTS, e.g. "-Pnocheck".
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
ref=""
arch=""
while [ $# -gt 0 ]; do
	case $1 in
	--ref) ref=$2; shift 2 ;;
	--arch) arch=$2; shift 2 ;;
	*) break ;;
	esac
done
cross_opts=""
if [ -n "$arch" ] && [ "$arch" != "$(dpkg --print-architecture)" ]; then
	cross_opts="-a$arch -Pcross,nocheck -d"
fi
out=$(mkdir -p "${1:-$top/build-deb}" && cd "${1:-$top/build-deb}" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/gpspps-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree=$work/gpspps
mkdir "$tree"
if [ -n "$ref" ]; then
	git -C "$top" archive --format=tar "$ref" | tar -C "$tree" -xf -
elif git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		tar --null --ignore-failed-read -T - -cf -) | tar -C "$tree" -xf -
else
	tar -C "$top" --exclude='./build*' --exclude='./.git' \
		--exclude='./build-deb' -cf - . | tar -C "$tree" -xf -
fi
rm -rf "$tree/debian"
cp -r "$tree/packaging/debian" "$tree/debian"

src_version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$tree/meson.build" | head -n1)
deb_version=$(dpkg-parsechangelog -l "$tree/debian/changelog" -S Version)
if [ "$src_version" != "$deb_version" ]; then
	echo "meson.build says $src_version, debian/changelog $deb_version:" \
		"add a changelog entry (dch -v $src_version)" >&2
	exit 1
fi

if [ -n "$cross_opts" ]; then
	unmet=$(cd "$tree" && dpkg-checkbuilddeps -a"$arch" -Pcross,nocheck \
		2>&1 | sed -n 's/.*Unmet build dependencies: *//p')
	if [ -n "$unmet" ] && [ "$unmet" != "pps-tools" ]; then
		echo "unmet build dependencies for $arch: $unmet" \
			"(tests/deps.sh cross installs them)" >&2
		exit 1
	fi
	[ -f /usr/include/sys/timepps.h ] || {
		echo "no <sys/timepps.h>: install pps-tools" >&2; exit 1; }
fi
echo "building gpspps $deb_version${ref:+ from $ref}${arch:+ for $arch}"
# shellcheck disable=SC2086
if ! (cd "$tree" && dpkg-buildpackage -us -uc -b $cross_opts \
	${DPKG_BUILDPACKAGE_OPTS:-}) \
	>"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	echo "dpkg-buildpackage failed; whole log in $out/build.log" >&2
	exit 1
fi
changes=$(ls "$work"/gpspps_"$deb_version"_*.changes)
for f in $(dcmd "$changes"); do
	cp "$f" "$out/"
done
ls -l "$out"/*.deb

if ! lintian --fail-on error --tag-display-limit 0 "$changes" \
	>"$out/lintian.log" 2>&1; then
	cat "$out/lintian.log"
	echo "lintian reports errors" >&2
	exit 1
fi
cat "$out/lintian.log"
echo "lintian: no errors, $(grep -c '^W:' "$out/lintian.log" || true) warnings"
