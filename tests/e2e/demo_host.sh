#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# demo_host.sh SRC BUILD - tests/demo.sh as the README runs it, checked to
# leave the host's time service alone.
#
# The demo runs in a private mount namespace where the host's own chrony,
# if it has one, is out of use: /usr/sbin/chronyd and /usr/bin/chronyc are
# covered by a tripwire that records any call and fails, /etc/chrony,
# /var/lib/chrony, /run/chrony and /var/log/chrony by empty directories (as
# on a machine without the chrony package).  Passes when chronyd selects
# the PPS refclock fed by gpsppsd (the demo's own verdict), the tripwire
# never fired, and the installed state of chrony and systemd-timesyncd
# (dpkg) is the same after the demo as before.
set -euo pipefail

SRC=$(realpath "${1:?source dir}")
BUILD=$(realpath "${2:?build dir}")
fail() { echo "FAIL: $*"; exit 1; }
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (the demo runs chronyd)"
	exit 77
fi

work=$(mktemp -d /tmp/gpspps-demo-host-XXXXXX)
trap 'rm -rf "$work"' EXIT
cat >"$work/tripwire" <<EOF
#!/bin/sh
echo "\$0 \$*" >>"$work/tripwire.log"
exit 127
EOF
chmod 755 "$work/tripwire"
: >"$work/tripwire.log"

state() {
	dpkg-query -W -f='${Package} ${Status} ${Version}\n' chrony \
		systemd-timesyncd 2>/dev/null || true
}
before=$(state)

set +e
GPSPPS_BUILDDIR=$BUILD TRIP=$work/tripwire unshare --mount /bin/sh -c '
	set -e
	for p in /usr/sbin/chronyd /usr/bin/chronyc; do
		if [ -e "$p" ]; then mount --bind "$TRIP" "$p"; fi
	done
	for d in /etc/chrony /var/lib/chrony /run/chrony /var/log/chrony; do
		if [ -d "$d" ]; then mount -t tmpfs -o mode=0755 none "$d"; fi
	done
	exec "$0"/tests/demo.sh 60' "$SRC" >"$work/demo.log" 2>&1
rc=$?
set -e
cat "$work/demo.log"

[ ! -s "$work/tripwire.log" ] ||
	fail "the demo ran the host's chrony: $(cat "$work/tripwire.log")"
after=$(state)
[ "$before" = "$after" ] ||
	fail "the demo changed the host's packages: before '$before', after '$after'"
[ $rc -eq 0 ] || fail "tests/demo.sh exited $rc"
grep -q "selected the PPS refclock" "$work/demo.log" ||
	fail "the demo did not report PPS selected"
grep -q "^#\* PPS" "$work/demo.log" ||
	fail "no '#* PPS' line in the demo's chronyc sources"
echo "host packages unchanged: ${after//$'\n'/; }"
echo "PASS: the demo selected PPS with the unpacked chronyd, never the host's"
