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

scenario_probe() {
	insmod /lib/modules/vmpps.ko || return 1
	timeout 4 ppstest /dev/pps0
	insmod /lib/modules/vmgpio.ko || return 1
	timeout 4 gpiomon vmgpio 2
	return 0
}

echo "GUEST: scenario $SCENARIO on $(uname -r)"
if type "scenario_$SCENARIO" >/dev/null 2>&1; then
	"scenario_$SCENARIO" || FAILED=1
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
