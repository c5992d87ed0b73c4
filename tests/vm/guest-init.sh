#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# /init of the VM test initramfs: runs one scenario named on the kernel
# command line (gpspps.scenario=NAME) and reports the result to the host
# through isa-debug-exit (port 0xf4): 0x10 = pass, anything else = fail.
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
ip link set lo up 2>/dev/null

SCENARIO=$(sed -n 's/.*gpspps\.scenario=\([^ ]*\).*/\1/p' /proc/cmdline)
FAILED=0

report() {   # report CODE: tell qemu and stop
	printf "$(printf '\\%03o' "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	poweroff -f
}
check() {    # check DESCRIPTION COMMAND...: one assertion
	local what=$1
	shift
	if "$@"; then
		echo "GUEST ok: $what"
	else
		echo "GUEST FAIL: $what"
		FAILED=1
	fi
}

C=/run/chrony      # chronyd's private directory
PROBE="vmprobe --max-offset 20000"  # on the second: within 20 ms (TCG timer
                                     # latency reaches a few ms; the wrong
                                     # edge would be 100 ms off)

# The receiver: gpspps-sim writes NMEA to a pty; cat copies it into ttyS1,
# whose line qemu joins to ttyS2, where gpsppsd reads it through a real
# 8250 UART driver.
start_receiver() {
	stty -F /dev/ttyS1 9600 raw -echo -crtscts clocal
	start_sim
	cat /tmp/gps0 >/dev/ttyS1 &
}

# gpspps-sim's NMEA on the pty /tmp/gps0.
start_sim() {
	gpspps-sim --pty /tmp/gps0 --baud 9600 >/tmp/sim.log 2>&1 &
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -e /tmp/gps0 ] && break
		sleep 0.5
	done
	stty -F /tmp/gps0 raw -echo 2>/dev/null
}

# wait_for TEST-ARGS...: up to 5 s for `test TEST-ARGS` to hold.
wait_for() {
	for i in 1 2 3 4 5 6 7 8 9 10; do
		test "$@" && return 0
		sleep 0.5
	done
	return 1
}

start_chronyd() {
	mkdir -p $C
	chmod 700 $C
	cat >$C/chrony.conf <<CONF
refclock SOCK $C/pps.sock refid PPS poll 2 precision 1e-7 prefer
refclock SOCK $C/nmea.sock refid NMEA poll 2 precision 1e-3 noselect
pidfile $C/chronyd.pid
bindcmdaddress $C/chronyd.sock
cmdport 0
port 0
logdir $C
log refclocks
CONF
	chronyd -x -d -u root -f $C/chrony.conf >$C/chronyd.out 2>&1 &
	wait_for -S $C/pps.sock
}

start_gpsppsd() {   # start_gpsppsd PPS-SPEC [EDGE]
	gpsppsd --config /dev/null --device /dev/ttyS2 --baud 9600 \
		--pps "$1" --pps-edge "${2:-rising}" \
		--pps-socket $C/pps.sock --nmea-socket $C/nmea.sock \
		--status-socket $STATUS_SOCK \
		--dump >/tmp/dump.jsonl 2>/tmp/gpsppsd.log &
	GPSPPSD=$!
}

sources() { chronyc -h $C/chronyd.sock -n sources 2>&1; }

# Wait up to $1 s for chronyd to select the PPS refclock ('*').
wait_selected() {
	local t=0
	while [ $t -lt "$1" ]; do
		sources | grep -q '^#\* PPS' && { echo "GUEST: PPS selected after ${t} s"; return 0; }
		sleep 2
		t=$((t + 2))
	done
	return 1
}

pps_samples() { grep -c ' PPS ' $C/refclocks.log 2>/dev/null || echo 0; }

# /proc/uptime in centiseconds.
uptime_cs() { awk '{ split($1, a, "."); print a[1] * 100 + a[2] }' /proc/uptime; }
sleep_until_cs() {
	while [ "$(uptime_cs)" -lt "$1" ]; do sleep 0.1; done
}
# wait_recovery N SECONDS: print how long after now gpsppsd logged the
# reopen and chronyd got its first PPS sample beyond N (the figure of the
# issue-11 recovery runs); gives up after SECONDS.
wait_recovery() {
	local t0 now reopen=-
	t0=$(uptime_cs)
	while now=$(uptime_cs); [ $((now - t0)) -lt $(($2 * 100)) ]; do
		if [ "$reopen" = - ] && grep -q 'reopened' /tmp/gpsppsd.log; then
			reopen=$((now - t0))
		fi
		if [ "$(pps_samples)" -gt "$1" ]; then
			echo "GUEST: recovery: PPS reopened ${reopen} cs," \
				"first PPS sample $((now - t0)) cs after insmod"
			return 0
		fi
		sleep 0.1
	done
	echo "GUEST: recovery: no PPS sample within $2 s of insmod"
}

# check_pps_stopped SETTLE WINDOW (after an rmmod): SETTLE s later, no PPS
# sample reaches chronyd for WINDOW s.  PPS_N: the count at the end.
check_pps_stopped() {
	local n1
	sleep "$1"
	n1=$(pps_samples)
	sleep "$2"
	PPS_N=$(pps_samples)
	echo "GUEST: after rmmod: PPS samples $n1 -> $PPS_N in $2 s"
	check "PPS samples stop after rmmod" [ "$PPS_N" -eq "$n1" ]
}

show_state() {
	echo "--- chronyc sources"; sources
	echo "--- chronyc sourcestats"; chronyc -h $C/chronyd.sock -n sourcestats 2>&1
	echo "--- refclocks.log (PPS, last 5)"; grep ' PPS ' $C/refclocks.log | tail -n 5
	echo "--- gpsppsd log"; tail -n 20 /tmp/gpsppsd.log
	echo "--- dump (last 2)"; tail -n 2 /tmp/dump.jsonl
}

# PPS offsets in refclocks.log (raw, column 7): all below $1 seconds.
offsets_below() {
	grep ' PPS ' $C/refclocks.log | tail -n 10 |
		awk -v lim="$1" '{ o = $7 < 0 ? -$7 : $7; if (o > max) max = o }
			END { printf "GUEST: max |PPS offset| of the last samples %.1f us\n", max * 1e6;
			      exit !(NR > 0 && max < lim) }'
}

scenario_kernel() {
	insmod /lib/modules/vmpps.ko || return 1
	check "/dev/pps0 delivers edges on whole seconds" \
		$PROBE --count 4 kernel:/dev/pps0
	check "auto polarity (assert+clear capture) picks the rising edge" \
		$PROBE --count 3 --edge auto --timeout 12 kernel:/dev/pps0
	check "a missing device names the fix" vmprobe \
		--expect-error "does not exist: load the PPS driver" kernel:/dev/pps7
	check "no access to /dev/pps0 (0600 root): the message names the fix" \
		vmprobe --uid 1000 --expect-error "permission denied on /dev/pps0: run gpsppsd as root" \
		kernel:/dev/pps0
	check "a non-PPS device is refused" vmprobe \
		--expect-error "is not a PPS device" kernel:/dev/null
	rmmod vmpps && insmod /lib/modules/vmpps.ko invert=1 || return 1
	check "inverted pulse: falling edge on the second" \
		$PROBE --count 3 --edge falling kernel:/dev/pps0
	check "inverted pulse: auto polarity picks falling" \
		$PROBE --count 3 --edge auto --timeout 12 kernel:/dev/pps0
	rmmod vmpps && insmod /lib/modules/vmpps.ko || return 1

	start_chronyd || { echo "GUEST FAIL: chronyd did not start"; cat $C/chronyd.out; return 1; }
	start_receiver
	start_gpsppsd kernel:/dev/pps0
	check "chronyd selects the PPS refclock fed from /dev/pps0" wait_selected 90
	check "PPS offsets below 10 ms" offsets_below 0.01
	show_state

	rmmod vmpps || return 1
	check_pps_stopped 5 5
	n2=$PPS_N
	check "gpsppsd reports the device gone" grep -q 'disappeared' /tmp/gpsppsd.log
	insmod /lib/modules/vmpps.ko || return 1
	t_ins=$(uptime_cs)
	wait_recovery "$n2" 15
	sleep_until_cs $((t_ins + 1500))
	n3=$(pps_samples)
	echo "GUEST: after insmod: PPS samples $n2 -> $n3 in 15 s"
	check "PPS samples resume after insmod" [ "$n3" -ge $((n2 + 3)) ]
	check "gpsppsd reopened the source" grep -q 'reopened' /tmp/gpsppsd.log
	check "gpsppsd is still running" kill -0 $GPSPPSD
	show_state
}

# --- ppsflood: 10,000 edges a second from vmpps (issue 11, item 3b) -------

VMPPS_RATE=/sys/module/vmpps/parameters/rate_hz
PPSFLOOD_S=20         # length of the burst

between() { [ "$1" -ge "$2" ] && [ "$1" -lt "$3" ]; }   # V LO HI

# metric NAME: a value of gpsppsctl metrics (NAME with its labels).
metric() {
	gpsppsctl --socket $STATUS_SOCK --timeout 1s metrics 2>/dev/null |
		awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print -1 }'
}
pps_sent() { metric 'gpspps_chronyd_sent_total{socket="pps"}'; }
# utime + stime of process $1 in clock ticks (USER_HZ, 100 a second).
cpu_ticks() { awk '{ print $14 + $15 }' /proc/$1/stat; }
# The kernel's assert sequence number of /dev/pps0 (pulses made).
assert_seq() { sed 's/.*#//' /sys/class/pps/pps0/assert; }

# status_latency: answer time of one status request in cs (-1: none).
status_latency() {
	local t0 t1
	t0=$(uptime_cs)
	gpsppsctl --socket $STATUS_SOCK --timeout 1s status >/dev/null 2>&1 ||
		{ echo -1; return; }
	t1=$(uptime_cs)
	echo $((t1 - t0))
}

# During the burst: ask for the status about once a second, keep the
# worst answer time in WORST (-1: a request was not answered).
ppsflood_watch() {
	local end=$(($(uptime_cs) + PPSFLOOD_S * 100 - 100)) l
	WORST=0
	while [ "$(uptime_cs)" -lt $end ]; do
		l=$(status_latency)
		if [ "$l" -lt 0 ]; then
			WORST=-1
			return
		fi
		[ "$l" -gt $WORST ] && WORST=$l
		sleep 1
	done
}

# Wait up to $3 s for gpsppsd to send a PPS sample beyond count $1; the
# time after $2 (uptime cs) in cs, or -1.
ppsflood_resume() {
	local t0=$2 now
	while now=$(uptime_cs); [ $((now - t0)) -lt $(($2 * 100)) ]; do
		if [ "$(pps_sent)" -gt "$1" ]; then
			echo $((now - t0))
			return
		fi
		sleep 0.2
	done
	echo -1
}

# Figures of the burst, in the globals the checks read.
ppsflood_burst() {
	local t0 t1 c0 c1 q0 q1 e0 p0 m0
	c0=$(cpu_ticks $GPSPPSD)
	q0=$(assert_seq)
	e0=$(metric gpspps_pps_edges_total)
	p0=$(metric 'gpspps_pps_spurious_total{by="period"}')
	m0=$(metric gpspps_pps_missed_total)
	t0=$(uptime_cs)
	echo 10000 >$VMPPS_RATE || return 1
	sleep 1.5             # a sample of the last whole second may still come
	N0=$(pps_samples)
	S0=$(pps_sent)
	ppsflood_watch
	echo 1 >$VMPPS_RATE || return 1
	T_BACK=$(uptime_cs)
	N1=$(pps_samples)
	S1=$(pps_sent)
	t1=$T_BACK
	c1=$(cpu_ticks $GPSPPSD)
	q1=$(assert_seq)
	CPU=$(((c1 - c0) * 1000 / (t1 - t0)))   # per mille of a core
	RATE=$(((q1 - q0) * 100 / (t1 - t0)))
	echo "GUEST: ppsflood: $((t1 - t0)) cs at 10 kHz:" \
		"$((q1 - q0)) assert edges made ($RATE a second)," \
		"gpsppsd CPU $((CPU / 10)).$((CPU % 10))% of a core," \
		"status worst ${WORST} cs"
	SPUR=$(($(metric 'gpspps_pps_spurious_total{by="period"}') - p0))
	echo "GUEST: ppsflood: gpsppsd counters over the burst: edges" \
		"+$(($(metric gpspps_pps_edges_total) - e0)), spurious (period)" \
		"+$SPUR, missed +$(($(metric gpspps_pps_missed_total) - m0))"
	echo "GUEST: ppsflood: PPS samples in refclocks.log $N0 -> $N1," \
		"sent by gpsppsd $S0 -> $S1 (from 1.5 s into the burst to its end)"
}

scenario_ppsflood() {
	insmod /lib/modules/vmpps.ko || return 1
	check "vmpps starts at 1 Hz" [ "$(cat $VMPPS_RATE)" = 1 ]
	check "rate_hz refuses 0" sh -c "! echo 0 >$VMPPS_RATE"
	start_chronyd || { echo "GUEST FAIL: chronyd did not start"; cat $C/chronyd.out; return 1; }
	start_receiver
	start_gpsppsd kernel:/dev/pps0
	check "chronyd selects the PPS refclock fed from /dev/pps0" wait_selected 90
	ppsflood_burst || return 1
	check "the burst made thousands of edges a second" [ "$RATE" -ge 2000 ]
	check "no PPS sample reaches chronyd during the burst" [ "$N1" -eq "$N0" ]
	check "gpsppsd sends no PPS sample during the burst" [ "$S1" -eq "$S0" ]
	check "gpsppsd uses under 50% of a core during the burst" [ "$CPU" -lt 500 ]
	check "the status socket answers within 1 s during the burst" \
		between "$WORST" 0 100
	check "the period check counts the burst's edges as spurious" [ "$SPUR" -gt 0 ]
	r=$(ppsflood_resume "$S1" "$T_BACK" 30)
	echo "GUEST: ppsflood: recovery: first PPS sample sent $r cs after the pulse is 1 Hz again"
	check "PPS samples resume within 10 s of 1 Hz" between "$r" 0 1000
	check "gpsppsd is still running" kill -0 $GPSPPSD
	show_state
}

scenario_gpio() {
	insmod /lib/modules/vmgpio.ko || return 1
	check "libgpiod v1: edges on whole seconds (chip label, line name)" \
		$PROBE --count 4 gpio:vmgpio:PPS
	check "libgpiod v1: chip by name and line by offset, auto polarity" \
		$PROBE --count 3 --edge auto --timeout 12 gpio:gpiochip0:2
	if [ -x /opt/gpiod2/vmprobe ]; then
		check "libgpiod v2: edges on whole seconds (realtime event clock)" \
			env LD_LIBRARY_PATH=/opt/gpiod2 /opt/gpiod2/vmprobe \
			--max-offset 20000 --count 4 gpio:vmgpio:PPS
		check "libgpiod v2: auto polarity" env LD_LIBRARY_PATH=/opt/gpiod2 \
			/opt/gpiod2/vmprobe --max-offset 20000 --count 3 \
			--edge auto --timeout 12 gpio:/dev/gpiochip0:PPS
	else
		echo "GUEST: no libgpiod v2 build in the initramfs"
	fi
	vmprobe --count 1000 --timeout 20 gpio:vmgpio:PPS >/dev/null &
	holder=$!
	sleep 1
	check "a line already requested is refused with its owner's name" \
		vmprobe --expect-error 'is in use by "gpsppsd"' gpio:vmgpio:2
	kill $holder
	check "a line held by pps-gpio points to kernel PPS" vmprobe \
		--expect-error 'GPIO 3 is in use by pps-gpio.0: use --pps kernel:/dev/pps' \
		gpio:vmgpio:3
	check "no access to the GPIO chip: the message names the fix" \
		vmprobe --uid 1000 --expect-error "permission denied on GPIO chip gpiochip0" \
		gpio:gpiochip0:2
	check "an unknown line is refused" vmprobe \
		--expect-error 'no line "NOPE"' gpio:vmgpio:NOPE
	rmmod vmgpio && insmod /lib/modules/vmgpio.ko invert=1 || return 1
	check "inverted pulse: auto polarity picks the falling edge" \
		$PROBE --count 3 --edge auto --timeout 12 gpio:vmgpio:PPS
	rmmod vmgpio && insmod /lib/modules/vmgpio.ko || return 1

	start_chronyd || { echo "GUEST FAIL: chronyd did not start"; cat $C/chronyd.out; return 1; }
	start_receiver
	start_gpsppsd gpio:vmgpio:PPS auto
	check "chronyd selects the PPS refclock fed from the GPIO line" wait_selected 90
	check "PPS offsets below 10 ms" offsets_below 0.01
	show_state
}

# udev's part, done late as udev does it: once N_PPS has created a
# /dev/ppsN (root 0600, devtmpfs), give everyone access $1 s later.
late_udev() {
	local i=0 f
	while [ $i -lt 500 ]; do
		for f in /dev/pps*; do
			[ -c "$f" ] && { sleep "$1"; chmod 0666 "$f"; return 0; }
		done
		sleep 0.01
		i=$((i + 1))
	done
}

no_pps_nodes() { ! ls /dev/pps* >/dev/null 2>&1; }

# dcd as a user other than root (the packaged service runs as gpspps):
# the /dev/ppsN of N_PPS is root 0600 until udev's rule applies.
dcd_as_user() {
	chmod 0666 /dev/ttyS3
	check "no /dev/ppsN before the user runs" no_pps_nodes
	late_udev 0.5 &
	udev=$!
	vmprobe --uid 1000 --count 0 --device /dev/ttyS3 dcd:ldisc \
		>/tmp/ldisc-user.log 2>&1
	rc=$?
	kill $udev 2>/dev/null; wait $udev 2>/dev/null
	cat /tmp/ldisc-user.log
	check "dcd:ldisc as a user: waits for udev's permissions on /dev/ppsN" \
		[ $rc -eq 0 ]
	check "... and uses N_PPS" grep -q 'N_PPS line discipline: /dev/pps' \
		/tmp/ldisc-user.log
	check "no /dev/ppsN after close" no_pps_nodes
	# No udev rule: dcd:ldisc gives up naming the fix, plain dcd falls
	# back to TIOCMIWAIT with a warning naming why and the fix.
	check "dcd:ldisc as a user without the udev rule names the fix" \
		vmprobe --uid 1000 --device /dev/ttyS3 \
		--expect-error "permission denied on /dev/pps0 for 2 s after N_PPS created it: give gpsppsd's group the PPS devices with a udev rule" \
		dcd:ldisc
	vmprobe --uid 1000 --count 0 --device /dev/ttyS3 dcd \
		>/tmp/fallback.log 2>&1
	rc=$?
	cat /tmp/fallback.log
	check "dcd as a user without the udev rule falls back to TIOCMIWAIT" \
		[ $rc -eq 0 ]
	check "... with a warning naming the permission and the udev rule" \
		grep -q 'warning: DCD of /dev/ttyS3: N_PPS not usable: permission denied on /dev/pps0 .*udev rule.*falling back to TIOCMIWAIT' \
		/tmp/fallback.log
}

# DCD: qemu's 8250 (7.2) computes the modem status of its loopback mode on
# read without delta bits or an interrupt, and its socket chardevs carry
# no modem lines, so no DCD edge can be made on it (vmdcd.c drives it on a
# real UART; the edges in this VM come from vmuart's port, in scenarios
# dcd-ldisc and dcd-wait).  What is checked: opening both ways on a real 8250,
# N_PPS finding its /dev/ppsN, the TIOCMIWAIT thread stopping on close,
# and the error messages.
scenario_dcd() {
	stty -F /dev/ttyS3 9600 raw -echo -crtscts clocal
	check "a pty has no DCD" vmprobe --expect-error "no modem status lines" \
		--device /dev/ptmx dcd
	check "N_PPS without pps-ldisc: the message names modprobe" vmprobe \
		--expect-error "modprobe pps-ldisc" --device /dev/ttyS3 dcd:ldisc
	check "TIOCMIWAIT: opens, waits, and its thread stops on close" \
		sh -c 'timeout 10 vmprobe --count 1 --timeout 2 --device /dev/ttyS3 dcd:wait; [ $? -eq 1 ]'
	insmod /lib/modules/pps-ldisc.ko || return 1
	vmprobe --count 0 --device /dev/ttyS3 dcd >/tmp/ldisc.log 2>&1
	cat /tmp/ldisc.log
	check "dcd uses N_PPS when available and finds its /dev/ppsN" \
		grep -q 'N_PPS line discipline: /dev/pps0' /tmp/ldisc.log
	dcd_as_user
	check "gpsppsd starts with --pps dcd on a UART" sh -c '
		gpsppsd --config /dev/null --device /dev/ttyS3 --pps dcd \
			--pps-socket /tmp/p.sock --nmea-socket /tmp/n.sock \
			2>/tmp/dcd-daemon.log & pid=$!; sleep 3; kill -0 $pid &&
		kill $pid; cat /tmp/dcd-daemon.log'
}

# ---- DCD edges from vmuart (modules/vmuart.c) ----------------------------
# A serial-core UART whose DCD pulses on whole seconds of the guest's
# CLOCK_REALTIME (100 ms high; low with invert=1), reported through
# uart_handle_dcd_change as a UART's interrupt handler does, so that N_PPS
# and TIOCMIWAIT see it as on a real port.  Its data loops back: NMEA
# copied into /dev/ttyVM0 comes back to gpsppsd reading it.  debugfs
# vmuart/edges lists the module's own time of each edge.
VMUART=/dev/ttyVM0
VMUART_EDGES=/sys/kernel/debug/vmuart/edges
STATUS_SOCK=/run/gpsppsd-status.sock

vmuart_load() {   # vmuart_load [invert=1]
	insmod /lib/modules/vmuart.ko "$@" || return 1
	# raw and -echo before any byte: an echo would loop back for ever
	stty -F $VMUART 9600 raw -echo -crtscts clocal
}

# gpspps-sim's NMEA into the port (the copy is started again after the
# port comes back: it ends with the hang-up).
vmuart_feed() {
	[ -e /tmp/gps0 ] || start_sim
	cat /tmp/gps0 >$VMUART 2>/dev/null &
}

start_gpsppsd_dcd() {   # start_gpsppsd_dcd ldisc|wait
	gpsppsd --config /dev/null --device $VMUART --baud 9600 \
		--pps "dcd:$1" --pps-edge auto \
		--pps-socket $C/pps.sock --nmea-socket $C/nmea.sock \
		--status-socket $STATUS_SOCK \
		--dump >/tmp/dump.jsonl 2>/tmp/gpsppsd.log &
	GPSPPSD=$!
}

# The pps object of gpsppsd's status (flat: no nested objects).
pps_status() {
	gpsppsctl --socket $STATUS_SOCK --json status 2>/dev/null |
		grep -o '"pps": *{ *"backend"[^}]*}'
}

# Exact differences of two decimal nanosecond stamps (awk's doubles
# would round 19-digit numbers to 256 ns), in us.  The "1" keeps busybox
# awk from reading the nanoseconds' leading zeros as octal.
DCD_AWK_LIB='
function sec(s) { return substr(s, 1, length(s) - 9) + 0 }
function frac(s) { return ("1" substr(s, length(s) - 8)) - 1e9 }
function diff_us(a, b) { return ((sec(a) - sec(b)) * 1e9 + frac(a) - frac(b)) / 1e3 }'

# "N MEDIAN SD P99 MAX" of the numbers in a file: P99 of |x - median|,
# MAX of |x|.
dcd_stats() {
	local m
	sort -n "$1" >/tmp/stats.txt
	m=$(awk '{ x[NR] = $1 } END { print NR ? x[int((NR + 1) / 2)] : 0 }' \
		/tmp/stats.txt)
	awk -v m="$m" '{ d = $1 - m; print d < 0 ? -d : d }' /tmp/stats.txt |
		sort -n >/tmp/dev.txt
	awk -v m="$m" 'FNR == NR { s += $1; q += $1 * $1
			  a = $1 < 0 ? -$1 : $1; if (a > mx) mx = a; next }
		{ d[FNR] = $1 }
		END { n = FNR; if (n == 0) { print 0, 0, 0, 0, 0; exit }
		      v = q / n - (s / n) * (s / n)
		      printf "%d %.1f %.1f %.1f %.1f\n", n, m, root(v),
			d[int(n * 0.99 + 0.999)], mx }
		# busybox awk may lack math: Newton for the square root
		function root(v,   r, i) { if (v <= 0) return 0
			r = v > 1 ? v : 1
			for (i = 0; i < 60; i++) r = (r + v / r) / 2
			return r }' \
		/tmp/stats.txt /tmp/dev.txt
}

# dcd_figures LABEL ON FROM: gpsppsd's PPS edges (edge_ns of the samples
# in --dump, from its line FROM) against the module's stamp of the edge on
# the same second (DCD level ON: 1, or 0 for the inverted pulse).  Prints
# bias and jitter, and the hrtimer's own latency for scale; sets DCD_N,
# DCD_MEDIAN (us) and DCD_WRONG (samples more than 20 ms from the edge on
# their second: the other edge is 100 ms away).
dcd_figures() {
	cat $VMUART_EDGES >/tmp/edges.txt
	sed -n "$3,\$p" /tmp/dump.jsonl | grep -o '"edge_ns":[0-9]*' |
		cut -d: -f2 >/tmp/gps-edges.txt
	awk -v on="$2" "$DCD_AWK_LIB"'
		FNR == NR { if ($2 == on && frac($3) == 0) {
				real[sec($3)] = $4
				print diff_us($4, $3) >"/tmp/lat.txt" }
			    next }
		{ k = frac($1) < 5e8 ? sec($1) : sec($1) + 1
		  if (!(k in real)) { unmatched++; next }
		  d = diff_us($1, real[k])
		  print d >"/tmp/bias.txt"
		  if (d > 20000 || d < -20000) wrong++ }
		END { printf "%d %d\n", wrong, unmatched >"/tmp/wrong.txt" }' \
		/tmp/edges.txt /tmp/gps-edges.txt
	set -- "$1" $(dcd_stats /tmp/bias.txt) $(cat /tmp/wrong.txt)
	DCD_N=$2 DCD_MEDIAN=$3 DCD_WRONG=$7
	echo "GUEST: $1: $2 PPS samples against vmuart's edge stamps:" \
		"bias median $3 us, jitter sd $4 us, p99 |x - median| $5 us," \
		"max |x| $6 us; $7 from the wrong edge, $8 without a module edge"
	set -- $(dcd_stats /tmp/lat.txt)
	echo "GUEST: $1 vmuart hrtimer wake-ups: latency after the whole" \
		"second median $2 us, sd $3 us, p99 |x - median| $4 us"
	rm -f /tmp/bias.txt /tmp/lat.txt
}

median_below() {   # median_below US: |DCD_MEDIAN| < US
	awk -v m="$DCD_MEDIAN" -v lim="$1" 'BEGIN { exit !(m < lim && -m < lim) }'
}

# rmmod vmuart under gpsppsd: the port hangs up and goes.  rmmod runs in
# the background: it waits for every holder of the port to let it go.
vmuart_unplug() {
	local t0 rc
	t0=$(uptime_cs)
	rmmod vmuart &
	rc=$!
	while kill -0 $rc 2>/dev/null && [ $(($(uptime_cs) - t0)) -lt 1500 ]; do
		sleep 0.1
	done
	if kill -0 $rc 2>/dev/null; then
		echo "GUEST: rmmod vmuart still waiting after 15 s"
		return 1
	fi
	echo "GUEST: rmmod vmuart returned after $(($(uptime_cs) - t0)) cs"
}

scenario_dcd_pulse() {   # scenario_dcd_pulse ldisc|wait
	local mode=$1 n2 n3 from
	mount -t debugfs debugfs /sys/kernel/debug || return 1
	if [ "$mode" = ldisc ]; then
		insmod /lib/modules/pps-ldisc.ko || return 1
	fi
	vmuart_load || return 1
	start_chronyd || { echo "GUEST FAIL: chronyd did not start"; cat $C/chronyd.out; return 1; }
	vmuart_feed
	start_gpsppsd_dcd "$mode"
	check "dcd:$mode: chronyd selects the PPS refclock fed from DCD" \
		wait_selected 90
	check "PPS offsets below 10 ms" offsets_below 0.01
	check "auto polarity picks the rising edge" \
		grep -q 'rising edge is on the second' /tmp/gpsppsd.log
	dcd_figures "dcd:$mode" 1 1
	check "dcd:$mode: at least 10 samples measured" [ "$DCD_N" -ge 10 ]
	check "dcd:$mode: |bias| below 1 ms against the module's edges" \
		median_below 1000
	check "no sample from the wrong edge" [ "$DCD_WRONG" -eq 0 ]
	show_state

	check "rmmod vmuart returns: gpsppsd lets the hung-up port go" \
		vmuart_unplug
	check_pps_stopped 2 3
	n2=$PPS_N
	check "gpsppsd says the port hung up" grep -q 'port hung up' /tmp/gpsppsd.log
	pps_status | tee /tmp/pps-status.txt
	check "gpsppsd's status shows the PPS source closed" \
		grep -q '"open": *false' /tmp/pps-status.txt
	check "gpsppsd is still running" kill -0 $GPSPPSD

	from=$(($(wc -l </tmp/dump.jsonl) + 1))
	vmuart_load invert=1 || return 1
	vmuart_feed
	t_ins=$(uptime_cs)
	wait_recovery "$n2" 30
	sleep_until_cs $((t_ins + 2000))
	n3=$(pps_samples)
	echo "GUEST: after insmod invert=1: PPS samples $n2 -> $n3 in 20 s"
	check "PPS samples resume after insmod" [ "$n3" -ge $((n2 + 3)) ]
	check "auto polarity picks the falling edge of the inverted pulse" \
		grep -q 'falling edge is on the second' /tmp/gpsppsd.log
	dcd_figures "dcd:$mode inverted" 0 "$from"
	check "inverted: no sample from the wrong edge" [ "$DCD_WRONG" -eq 0 ]
	check "inverted: |bias| below 1 ms" median_below 1000
	pps_status | tee /tmp/pps-status.txt
	check "gpsppsd's status: open, falling edges" \
		grep -q '"open": *true.*"polarity": *"falling"' /tmp/pps-status.txt
	check "gpsppsd is still running" kill -0 $GPSPPSD
	show_state
}

scenario_dcd_ldisc() { scenario_dcd_pulse ldisc; }
scenario_dcd_wait() { scenario_dcd_pulse wait; }

# --- leap: a leap second inserted by the guest's kernel, then a step ---
#
# The reference is vmpps raw=1 and gpspps-sim --raw-clock on the same
# CLOCK_MONOTONIC_RAW + offset: a GPS receiver's time, which counts
# 23:59:60 and which neither the kernel's leap nor a step of the system
# clock moves.  chronyd owns the guest's clock (no -x) and takes the leap
# from right/UTC; the kernel inserts it (adjtimex TIME_INS -> TIME_OOP).
# gpsppsd's --rollover-floor lets it take 2016 for 2016, not for a GPS
# week-number rollover (which the default floor, 2026, would).
LEAP_AT=1483228800      # 2017-01-01 00:00:00 UTC, POSIX: the end of 23:59:60
LEAP_START="2016-12-31 23:58:45"
LC=/run/chrony-client   # the client chronyd (loopback, -x)

start_leap_chronyd() {
	mkdir -p $C $LC
	chmod 700 $C $LC
	cat >$C/chrony.conf <<CONF
refclock SOCK $C/pps.sock refid PPS poll 2 precision 1e-7 prefer
refclock SOCK $C/nmea.sock refid NMEA poll 2 precision 1e-3 noselect
refclock SOCK $C/ppsn.sock refid PPSN poll 2 precision 1e-7 noselect
refclock SOCK $C/nmean.sock refid NMEN poll 2 precision 1e-3 noselect
leapsectz right/UTC
leapsecmode system
allow 127.0.0.1
pidfile $C/chronyd.pid
bindcmdaddress $C/chronyd.sock
cmdport 0
logdir $C
log refclocks tracking statistics
CONF
	cat >$LC/chrony.conf <<CONF
server 127.0.0.1 iburst minpoll 0 maxpoll 0
pidfile $LC/chronyd.pid
bindcmdaddress $LC/chronyd.sock
cmdport 0
port 0
logdir $LC
log measurements
CONF
	chronyd -d -u root -f $C/chrony.conf >$C/chronyd.out 2>&1 &
	chronyd -x -d -u root -f $LC/chrony.conf >$LC/chronyd.out 2>&1 &
	wait_for -S $C/pps.sock
}

# Two receivers on the reference clock, with the leap: one sends the
# time of the pulse before it through the UARTs (as start_receiver), the
# other names the coming pulse (--next-second) on a pty of its own.  Both
# gpsppsd read /dev/pps0.
leap_receivers() {
	local sim="gpspps-sim --baud 9600 --raw-clock $REF_OFF --leap-at 2016-12-31T23:59:60"

	stty -F /dev/ttyS1 9600 raw -echo -crtscts clocal
	$sim --pty /tmp/gps0 >/tmp/sim.log 2>&1 &
	$sim --pty /tmp/gps1 --next-second >/tmp/sim-next.log 2>&1 &
	wait_for -e /tmp/gps0 && wait_for -e /tmp/gps1
	stty -F /tmp/gps0 raw -echo 2>/dev/null
	cat /tmp/gps0 >/dev/ttyS1 &
	gpsppsd --config /dev/null --device /dev/ttyS2 --baud 9600 \
		--pps kernel:/dev/pps0 --status-socket /run/gpsppsd.sock \
		--rollover-floor 2010-01-01 \
		--pps-socket $C/pps.sock --nmea-socket $C/nmea.sock \
		--dump >/tmp/dump.jsonl 2>/tmp/gpsppsd.log &
	GPSPPSD=$!
	mkdir -p /tmp/state-next
	gpsppsd --config /dev/null --device /tmp/gps1 --baud 9600 \
		--pps kernel:/dev/pps0 --next-second --status-socket none \
		--rollover-floor 2010-01-01 \
		--state-directory /tmp/state-next \
		--pps-socket $C/ppsn.sock --nmea-socket $C/nmean.sock \
		--dump >/tmp/dump-next.jsonl 2>/tmp/gpsppsd-next.log &
}

# adjtimex's state (1 INS, 3 OOP; 5, TIME_ERROR, hides them while the
# clock is unsynchronised) and whether the INS status flag is set.
kstate() { adjtimex 2>/dev/null | sed -n 's/.*return value: *\([0-9]*\).*/\1/p'; }
# adjtimex's frequency (ppm, 65536 a ppm) and tick (us): chronyd's slew.
kfreq() { adjtimex 2>/dev/null | awk '/freq.adjust/ { f = $3 / 65536 }
	/tick:/ { t = $3 } END { printf "%.1f %d", f, t }'; }
kflag_ins() { adjtimex 2>/dev/null | grep -q '^ *status:.*INS'; }
tracking() { chronyc -h $C/chronyd.sock -n tracking 2>&1; }

# Every 0.2 s: POSIX second, uptime (cs), kernel state (1 INS, 3 OOP),
# the system clock's error against the reference (s, leap not counted),
# adjtimex's frequency (ppm) and tick (us): how chronyd slews the clock.
leap_sampler() {
	while :; do
		echo "$(date +%s) $(uptime_cs) $(kstate) $(vmclock error "$REF_OFF" 0) $(kfreq)"
		sleep 0.2
	done >/tmp/clock.log
}

wait_posix() { while [ "$(date +%s)" -lt "$1" ]; do sleep 0.2; done; }

kernel_ins() {
	local t=0
	while [ $t -lt "$1" ]; do
		kflag_ins && return 0
		sleep 1
		t=$((t + 1))
	done
	return 1
}

# refclocks.log lines of refid $1 with |raw| or |cooked offset| (columns
# 7 and 8; "-" in a filtered line's 7) above $2 s.
pps_off_by() { grep " $1 " $C/refclocks.log | awk -v lim="$2" \
	'{ a = $7 < 0 ? -$7 : $7; b = $8 < 0 ? -$8 : $8
	   if (a > lim || b > lim) n++ } END { print n + 0 }'; }

# The first refclocks.log line of refid $1 at or after 2017-01-01 $2.
pps_after() { grep '^2017-01-01 ' $C/refclocks.log | grep " $1 " |
	awk -v t="$2" '$2 >= t { print $2; exit }'; }

# --dump $1: no PPS sample of 0.5 s or more sent, none with a leap flag.
dump_clean() {
	! grep '"pps_sent":true' "$1" |
		grep -Eq '"pps_offset_ns":-?([5-9][0-9]{8}|[0-9]{10,}),|"leap":[12]'
}

# Checks for the receiver whose refid is $1 and --dump file $2.
leap_receiver_checks() {
	local first
	check "$1: no sample off by more than 0.5 s reached chronyd" \
		[ "$(pps_off_by "$1" 0.5)" = 0 ]
	check "$1: gpsppsd sent no PPS sample off by 0.5 s or more, all with leap 0" \
		dump_clean "$2"
	check "$1: the 23:59:60 epoch held back (leap_second)" \
		grep -q '"time":"2016-12-31T23:59:60.*"pps":"leap_second"' "$2"
	first=$(pps_after "$1" 00:00:00)
	echo "GUEST: $1: first refclocks.log sample after the leap: ${first:-none}"
	check "$1: samples resume within 8 s of the leap" \
		awk -v f="$first" 'BEGIN { exit !(f != "" && f < "00:00:08") }'
}

leap_report() {
	echo "--- refclocks.log, 23:59:55 to 00:00:05"
	awk '($1 == "2016-12-31" && $2 >= "23:59:55") ||
	     ($1 == "2017-01-01" && $2 < "00:00:06")' $C/refclocks.log
	for f in /tmp/dump.jsonl /tmp/dump-next.jsonl; do
		echo "--- gpsppsd --dump $f, 23:59:58 to 00:00:02"
		grep -E '"time":"(2016-12-31T23:59:(5[89]|60)|2017-01-01T00:00:0[0-2])' "$f"
	done
	echo "--- gpsppsctl status"
	gpsppsctl --socket /run/gpsppsd.sock status 2>&1
	echo "--- kernel"
	dmesg | grep -i 'leap second'
	echo "--- chronyd"
	grep -i 'leap' $C/chronyd.out
}

leap_before() {
	check "chronyd selects the PPS refclock on the reference" wait_selected 50
	check "chronyd announces the leap to the kernel (STA_INS)" kernel_ins 20
	tracking | grep 'Leap status'
	check "chronyd's leap status is Insert second" \
		sh -c "chronyc -h $C/chronyd.sock -n tracking | grep -q 'Leap status *: Insert second'"
}

leap_after() {
	echo "GUEST: adjtimex TIME_OOP (3) seen $(awk '$3 == 3' /tmp/clock.log | wc -l) times in 0.2 s samples"
	check "the kernel logged the insertion" \
		sh -c "dmesg | grep -q 'inserting leap second'"
	leap_report
	leap_receiver_checks PPS /tmp/dump.jsonl
	leap_receiver_checks PPSN /tmp/dump-next.jsonl
	tracking
	check "Leap status back to Normal" \
		sh -c "chronyc -h $C/chronyd.sock -n tracking | grep -q 'Leap status *: Normal'"
	check "|System time| under 1 ms after the leap" sh -c \
		"chronyc -h $C/chronyd.sock -n tracking | awk '/^System time/ { exit !(\$4 < 0.001) }'"
	err=$(vmclock error "$REF_OFF" 1)
	echo "GUEST: system clock - reference after the leap: $err s"
	check "the system clock within 10 ms of the reference after the leap" \
		awk -v e="$err" 'BEGIN { exit !(e < 0.01 && e > -0.01) }'
}

# Wait up to $1 s for the system clock to come back within 1 ms of where
# it stood against the reference before the step ($2: the pulses' timer
# latency under TCG biases both the same), then 8 s more (it must stay).
wait_corrected() {
	local t0
	t0=$(uptime_cs)
	while [ $(($(uptime_cs) - t0)) -lt $(($1 * 100)) ]; do
		if vmclock error "$REF_OFF" 1 | awk -v b="$2" \
		   '{ exit !($1 - b < 0.001 && $1 - b > -0.001) }'; then
			sleep 8
			return 0
		fi
		sleep 0.5
	done
	return 1
}

# "SENT SECONDS": PPS samples gpsppsd sent, and seconds (epochs) seen, in
# the $2 seconds from 2017-01-01 00:00:$1.
step_sent() {
	sed -n 's/^{"time":"2017-01-01T00:\(0[01]\):\([0-5][0-9]\)\..*"pps_sent":\([a-z]*\).*/\1 \2 \3/p' /tmp/dump.jsonl |
		awk -v a="$1" -v n="$2" '{ t = $1 * 60 + $2 }
			t >= a && t < a + n { e++; if ($3 == "true") c++ }
			END { print c + 0, e + 0 }'
}

# After the +1 s step: gpsppsd's guard, chronyd's correction, what a
# client is served.  clock.log from the step on: the error is +1 s plus
# what chronyd has slewed away.
step_after() {
	local big ms sent
	t0=$1
	set -- "$@" $(awk -v t0="$t0" -v b="$3" '$2 >= t0 && $4 != "" {
		e = $4 + 1 - b; if (e < 0) e = -e
		if (e > 0.5) last_big = $2; if (e > 0.001) last_ms = $2 }
		END { printf "%.1f %.1f", (last_big - t0) / 100, (last_ms - t0) / 100 }' /tmp/clock.log)
	big=$4 ms=$5
	echo "GUEST: step: system clock more than 0.5 s off for $big s, more than 1 ms off for $ms s"
	check "the served time more than 0.5 s off for at most $STEP_BIG_S s" \
		awk -v v="$big" -v m="$STEP_BIG_S" 'BEGIN { exit !(v <= m) }'
	check "the served time back within 1 ms within $STEP_MS_S s of the step" \
		awk -v v="$ms" -v m="$STEP_MS_S" 'BEGIN { exit !(v <= m) }'
	set -- "$@" $(step_sent 21 45)
	sent=$6
	echo "GUEST: gpsppsd sent PPS samples for $6 of the $7 seconds from 00:00:21 (the first confirmed, up to 45)"
	# Before the fix 15 of 45 (each change of the slew cost 4 s of
	# no_edge and 2 of guard); after it 36-40, the rest single no_edge
	# seconds, also where the slew did not change and before the step
	# (edges off the pulse grid under TCG, cause not measured), each
	# followed by 2 of guard while the slew ran at 83 ms/s.
	check "gpsppsd sent 3/5 of those seconds while chronyd slewed" \
		awk -v s="$sent" -v e="$7" 'BEGIN { exit !(e >= 20 && s * 5 >= e * 3) }'
	echo "--- gpsppsd --dump from the step on (guard, confirm)"
	grep -A 7 "\"time\":\"2017-01-01T00:00:$2" /tmp/dump.jsonl
	check "gpsppsd held pairings back after the step (guard)" \
		grep -q '"pps":"guard"' /tmp/dump.jsonl
	check "gpsppsd confirmed the -1 s offset and sent it" sh -c \
		"grep '\"pps_sent\":true' /tmp/dump.jsonl |
		 grep -Eq '\"pps_offset_ns\":-(1[0-9]{9}|9[0-9]{8}),'"
	err=$(vmclock error "$REF_OFF" 1)
	echo "GUEST: system clock - reference at the end: $err s (before the step: $3 s)"
	echo "--- client chronyd (127.0.0.1 server; the same kernel clock)"
	chronyc -h $LC/chronyd.sock -n sources 2>&1
	tail -n 3 $LC/measurements.log 2>/dev/null
}

scenario_leap() {
	date -u -s "$LEAP_START" >/dev/null || return 1
	insmod /lib/modules/vmpps.ko raw=1 || return 1
	REF_OFF=$(cat /sys/module/vmpps/parameters/raw_offset_ns)
	start_leap_chronyd || { echo "GUEST FAIL: chronyd did not start"; cat $C/chronyd.out; return 1; }
	leap_receivers
	leap_sampler &
	sampler=$!
	leap_before
	wait_posix $((LEAP_AT + 15))
	leap_after
	wait_posix $((LEAP_AT + 18))
	base=$(vmclock error "$REF_OFF" 1)
	t0=$(uptime_cs)
	sec=$(date +%S)
	vmclock step 1 || return 1
	echo "GUEST: stepped the system clock by +1 s at 00:00:$sec"
	# What chronyd's slewing allows: gpsppsd holds two pairings (guard)
	# and sends the -1 s offset from the third (3 s); chronyd's poll of 4
	# s takes it up (6-10 s, its filter needing 4 samples); slewing at
	# its maxslewrate, 83,333 ppm, removes 1 s in 12 s, the first 0.5 s
	# in 6 s: 0.5 s off for about 12-16 s at best (11.8-15.8 s
	# measured); then its regression drops the samples of before the
	# step, a few polls more (within 1 ms after 29-41 s measured).  The
	# bounds leave about 50 % of margin; before the fix (the edges off
	# the pulse grid while chronyd slewed) it took 72 s, overshooting by
	# 0.5 s.
	STEP_BIG_S=25
	STEP_MS_S=60
	wait_corrected $STEP_MS_S "$base" ||
		echo "GUEST: chronyd did not bring the clock back within 1 ms in $STEP_MS_S s"
	step_after "$t0" "$sec" "$base"
	kill $sampler
	show_state
	leap_diag "$t0"
}

# What to read when a check above failed.
leap_diag() {
	echo "--- chronyd (last 12 lines)"; tail -n 12 $C/chronyd.out
	echo "--- tracking.log from the step on (chronyd's clock updates)"
	awk '$1 == "2017-01-01" && $2 >= "00:00:18"' $C/tracking.log
	echo "--- gpsppsd --dump from the step on: the seconds held back"
	grep -E '"time":"2017-01-01T00:0[01]:' /tmp/dump.jsonl | grep -v '"pps":"sample"' |
		sed 's/"sentences.*"pps":/ /; s/,"pps_sent.*//'
	echo "--- clock.log where chronyd's slew changed (last column: tick, us; before it: freq, ppm)"
	awk -v t0="$1" '$2 >= t0 && ($5 != f || $6 != t) { print; f = $5; t = $6 }' /tmp/clock.log
	echo "--- gpsppsd --next-second log"; tail -n 8 /tmp/gpsppsd-next.log
	echo "--- clock.log: POSIX s, uptime cs, kernel state, clock - reference"
	awk '$3 == 3 { print; n++ } n >= 6 { exit }' /tmp/clock.log
	awk -v t0="$1" '$2 >= t0 && $2 % 200 < 20' /tmp/clock.log | head -n 25
}

# The vs-gpsd benchmark's scenario (scenario_uartbench).
[ -f /uartbench.sh ] && . /uartbench.sh

echo "GUEST: scenario $SCENARIO on $(uname -r)"
SCENARIO_FN=scenario_$(echo "$SCENARIO" | tr - _)
if type "$SCENARIO_FN" >/dev/null 2>&1; then
	"$SCENARIO_FN" || FAILED=1
else
	echo "GUEST FAIL: unknown scenario '$SCENARIO'"
	FAILED=1
fi
if [ $FAILED = 0 ]; then
	echo "GUEST: PASS"
	report 16
fi
echo "GUEST: FAIL"
report 1
