#!/bin/sh
# The no-hardware demo: a simulated receiver (gpspps-sim on a pty), gpsppsd
# with simulated PPS, and a real chronyd in a private directory that never
# touches the system clock (-x).  Prints `chronyc sources` until chronyd
# selects the PPS refclock, then a little longer, then gpsppsd's own view
# (`gpsppsctl status` and `gpsppsctl doctor`), and cleans up.  chronyd is
# unpacked from the chrony package into the build directory, not installed:
# the host's time service is left alone.
# Usage: tests/demo.sh [seconds, default 60]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build="${GPSPPS_BUILDDIR:-$top/build}"
secs="${1:-60}"

if [ "$(id -u)" -ne 0 ]; then
	echo "The demo runs chronyd, which needs root: re-running with sudo."
	exec sudo "$0" "$@"
fi
"$top/tests/deps.sh" build
[ -f "$build/build.ninja" ] || meson setup "$build" "$top"
ninja -C "$build" src/gpsppsd/gpsppsd src/gpspps-sim/gpspps-sim \
	src/gpsppsctl/gpsppsctl
# chronyd and chronyc from Debian's chrony package unpacked in the build
# directory, not installed: the host's time service stays as it is.  (Not
# /usr/sbin/chronyd either: Debian's and Ubuntu's AppArmor profile for it
# would not let it read a configuration in the demo's directory.)
"$top/tests/lib/chrony-prefix.sh" "$build/chrony"
chronyd="$build/chrony/usr/sbin/chronyd"
chronyc="$build/chrony/usr/bin/chronyc"

dir=$(mktemp -d /tmp/gpspps-demo-XXXXXX)
chmod 700 "$dir"
pids=""
cleanup() {
	# gpsppsd first (last started), so it does not see the pty vanish
	for p in $(echo $pids | tr ' ' '\n' | tac); do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM

cat > "$dir/chrony.conf" <<CONF
# The two refclocks gpsppsd feeds (see chrony-conf/ for the shipped ones)
refclock SOCK $dir/pps.sock refid PPS poll 2 precision 1e-7 prefer
refclock SOCK $dir/nmea.sock refid NMEA poll 2 precision 1e-3 offset 0.35 delay 0.2 noselect
pidfile $dir/chronyd.pid
bindcmdaddress $dir/chronyd.sock
cmdport 0
port 0
logdir $dir
log refclocks
CONF

echo "== simulated receiver: NMEA 0.35 s after each second, 9600 baud"
"$build/src/gpspps-sim/gpspps-sim" --pty "$dir/gps0" --delay 0.35 --jitter 0.005 >"$dir/sim.log" 2>&1 &
pids="$pids $!"
"$chronyd" -x -d -u root -f "$dir/chrony.conf" >"$dir/chronyd.log" 2>&1 &
pids="$pids $!"
i=0
while [ ! -e "$dir/gps0" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
echo "== gpsppsd --device $dir/gps0 --pps sim:jitter=1us"
"$build/src/gpsppsd/gpsppsd" --config /dev/null --device "$dir/gps0" --pps sim:jitter=1us \
	--pps-socket "$dir/pps.sock" --nmea-socket "$dir/nmea.sock" \
	--status-socket "$dir/status.sock" 2>&1 &
pids="$pids $!"

end=$(( $(date +%s) + secs ))
selected=""
while [ "$(date +%s)" -lt "$end" ]; do
	sleep 5
	echo "== chronyc sources ($(date +%T))"
	"$chronyc" -h "$dir/chronyd.sock" -n sources
	if "$chronyc" -h "$dir/chronyd.sock" -n -c sources | grep -q '^#,\*,PPS,'; then
		if [ -z "$selected" ]; then
			selected=yes
			end=$(( $(date +%s) + 10 ))
		fi
	fi
done
if [ -n "$selected" ]; then
	echo "== chronyd selected the PPS refclock fed by gpsppsd ('#* PPS')."
	ctl="$build/src/gpsppsctl/gpsppsctl"
	echo "== gpsppsctl status"
	"$ctl" --socket "$dir/status.sock" status
	echo "== gpsppsctl doctor"
	"$ctl" --socket "$dir/status.sock" --conf "$dir/chrony.conf" \
		--chronyc "$chronyc -h $dir/chronyd.sock -n" doctor ||
		echo "== gpsppsctl doctor: exit status $?"
	exit 0
fi
echo "== chronyd did not select PPS within $secs s; chronyd log:"
cat "$dir/chronyd.log"
exit 1
