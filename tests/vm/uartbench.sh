# SPDX-License-Identifier: GPL-2.0-or-later
#
# uartbench.sh - the guest's half of `tests/bench/vs-gpsd --scenario
# vm-uart` and of the vm-uartbench test; sourced by guest-init.sh.
#
# Two gpspps-sim copies with the same seed write to ptys; cat relays each
# into an ISA 16550 (ttyS1, ttyS3) whose line qemu joins to a PCI 16550
# (ttyS4, ttyS5, see vmtest.sh).  gpsppsd reads ttyS4, Debian's gpsd
# ttyS5 (a real UART, so gpsd feeds NTP from it); one chronyd (-x) logs
# gpsppsd's NMEA samples (SOCK) and gpsd's (SHM 0).  Simulators, readers
# and chronyd all run on the guest's clock, so the simulators' --log is
# the truth for both.
#
# Kernel command line: gpspps.bench=DURATION,WARMUP,SEED (default 10,5,7);
# gpspps.args=ARG,ARG... extra gpsppsd arguments.  The guest checks that
# both readers decode, then prints its measurements and logs on the
# console between "=== BEGIN NAME" and "=== END NAME" lines, where
# vs-gpsd reads them.

UB=/run/uartbench
UB_SIM="--baud 9600 --rate 1 --sentences RMC,GGA,GSA,GSV --talker GP --delay 0.35"

uartbench_param() {   # uartbench_param NAME: a gpspps.NAME= value
	sed -n "s/.*gpspps\.$1=\([^ ]*\).*/\1/p" /proc/cmdline
}

# How fast qemu's 16550 passes 960 bytes (1 s of line time at 9600 baud)
# from ttyS3 to ttyS5: if it paced at the line rate, about 100 cs.
uartbench_pacing() {
	local t0 t1 pid
	stty -F /dev/ttyS3 9600 raw -echo -crtscts clocal
	stty -F /dev/ttyS5 9600 raw -echo -crtscts clocal
	cat /dev/ttyS5 >$UB/pace.out &
	pid=$!
	sleep 0.5
	t0=$(uptime_cs)
	yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ |
		head -c 960 >/dev/ttyS3
	while [ "$(wc -c <$UB/pace.out)" -lt 960 ] &&
	      [ $(($(uptime_cs) - t0)) -lt 500 ]; do
		sleep 0.01
	done
	t1=$(uptime_cs)
	kill $pid
	wait $pid 2>/dev/null
	echo "PACE 960 $(wc -c <$UB/pace.out) $((t1 - t0))" >>$UB/bench.txt
}

uartbench_chronyd() {
	mkdir -p $UB
	cat >$UB/chrony.conf <<CONF
refclock SOCK $UB/nmea.sock refid NMEA poll 2 precision 1e-3 noselect
refclock SHM 0 refid GPSD poll 2 dpoll -4 precision 1e-3 noselect
pidfile $UB/chronyd.pid
bindcmdaddress $UB/chronyd.sock
cmdport 0
port 0
logdir $UB
log refclocks
CONF
	chronyd -x -d -u root -f $UB/chrony.conf >$UB/chronyd.out 2>&1 &
	UB_CHRONYD=$!
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -S $UB/nmea.sock ] && return 0
		sleep 0.5
	done
	return 1
}

uartbench_sim() {   # uartbench_sim NAME UART SEED: a receiver on UART
	stty -F "$2" 9600 raw -echo -crtscts clocal
	gpspps-sim --pty $UB/$1 $UB_SIM --seed "$3" --log $UB/$1.jsonl \
		>$UB/sim-$1.log 2>&1 &
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -e $UB/$1 ] && break
		sleep 0.5
	done
	stty -F $UB/$1 raw -echo 2>/dev/null
	cat $UB/$1 >"$2" &
}

uartbench_readers() {   # gpsppsd on ttyS4, gpsd on ttyS5
	gpsppsd --config /dev/null --device /dev/ttyS4 --baud 9600 \
		--pps none --pps-socket $UB/pps.sock \
		--nmea-socket $UB/nmea.sock $(uartbench_param args | tr , ' ') \
		>$UB/gpsppsd.log 2>&1 &
	UB_OURS=$!
	gpsd -N -n -b -s 9600 -F $UB/gpsd.sock /dev/ttyS5 \
		>$UB/gpsd.log 2>&1 &
	UB_GPSD=$!
}

# CPU ns, context switches of each thread, peak RSS of both readers; the
# guest's CPU times and the UARTs' interrupt and byte counters.
uartbench_snap() {   # uartbench_snap LABEL
	local who pid t
	echo "SNAP $1 $(cut -d' ' -f1 /proc/uptime) $(date +%s)"
	for who in gpsppsd:$UB_OURS gpsd:$UB_GPSD; do
		pid=${who#*:}
		for t in /proc/$pid/task/*; do
			echo "TASK ${who%%:*} $(cut -d' ' -f1 $t/schedstat)" \
				"$(awk '/^(non)?voluntary_ctxt_switches/ { s += $2 }
					END { print s }' $t/status)"
		done
		echo "HWM ${who%%:*} $(awk '/^VmHWM/ { print $2 }' /proc/$pid/status)"
	done
	echo "STAT $(head -n 1 /proc/stat)"
	grep -E 'serial|ttyS' /proc/interrupts | sed 's/^ */IRQ /'
	sed -n 's/^\([45]\): .*irq:\([0-9]*\) .*rx:\([0-9]*\).*/UART ttyS\1 \2 \3/p' \
		/proc/tty/driver/serial
}

uartbench_decodes() {   # uartbench_decodes REFID: chronyd got samples
	[ "$(grep -c " $1 " $UB/refclocks.log 2>/dev/null)" -ge 3 ]
}

uartbench_dump() {   # uartbench_dump NAME FILE
	echo "=== BEGIN $1"
	cat "$2" 2>/dev/null
	echo "=== END $1"
}

uartbench_report() {
	local f
	for f in bench.txt refclocks.log a.jsonl b.jsonl; do
		uartbench_dump $f $UB/$f
	done
	for f in gpsppsd.log gpsd.log chronyd.out; do
		echo "--- $f"
		tail -n 10 $UB/$f
	done
}

scenario_uartbench() {
	local p dur warm seed
	p=$(uartbench_param bench)
	dur=$(echo "${p:-10,5,7}" | cut -d, -f1)
	warm=$(echo "${p:-10,5,7}" | cut -d, -f2)
	seed=$(echo "${p:-10,5,7}" | cut -d, -f3)
	mkdir -p $UB
	echo "GUEST: ttyS4 $(readlink /sys/class/tty/ttyS4/device)," \
		"ttyS5 $(readlink /sys/class/tty/ttyS5/device)"
	uartbench_pacing
	uartbench_chronyd || { echo "GUEST FAIL: chronyd did not start"; cat $UB/chronyd.out; return 1; }
	uartbench_sim a /dev/ttyS1 "$seed"
	uartbench_sim b /dev/ttyS3 "$seed"
	uartbench_readers
	sleep "$warm"
	uartbench_snap 0 >>$UB/bench.txt
	sleep "$dur"
	uartbench_snap 1 >>$UB/bench.txt
	sleep 2
	check "gpsppsd is running" kill -0 $UB_OURS
	check "gpsd is running" kill -0 $UB_GPSD
	check "chronyd got gpsppsd's NMEA samples from ttyS4" uartbench_decodes NMEA
	check "chronyd got gpsd's samples (SHM 0) from ttyS5" uartbench_decodes GPSD
	kill $UB_OURS $UB_GPSD $UB_CHRONYD 2>/dev/null
	uartbench_report
}
