#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# vmtest.sh - run one gpspps scenario on Debian's own kernel in a qemu guest.
#
#   vmtest.sh BUILD_DIR SCENARIO
#
# Prepares, once and cached under BUILD_DIR/vm-cache: qemu (installed from
# apt if missing), the kernel of the current linux-image-amd64 and its
# headers (apt-get download + dpkg-deb -x, no installation), the test
# modules of tests/vm/modules built against them.  Then packs an initramfs
# with busybox, the modules, gpsppsd, gpsppsctl, gpspps-sim, the probe,
# chronyd and chronyc (unpacked from the chrony package by
# tests/lib/chrony-prefix.sh; with the libraries ldd lists) and boots it
# with -accel tcg (KVM hangs on these hosts).  The guest runs guest-init.sh
# SCENARIO and reports through isa-debug-exit: qemu exits with
# (code << 1) | 1.
#
# Exit status: 0 pass, 1 fail, 77 skip (qemu or the kernel packages cannot
# be had; the reason is printed).
#
# Environment: GPSPPS_VM_KEEP=1 keeps the scratch directory;
# GPSPPS_VM_TIMEOUT (s, default 240, 280 for leap) bounds one boot;
# GPSPPS_VM_APPEND adds to the kernel command line (vs-gpsd passes
# gpspps.bench=...).
set -euo pipefail

BUILD=$(realpath "${1:?build dir}")
SCENARIO=${2:?scenario}
HERE=$(dirname "$(realpath "$0")")
CACHE=$BUILD/vm-cache
PASS_CODE=33    # guest writes 0x10: (0x10 << 1) | 1
mkdir -p "$CACHE"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
log() { echo "vmtest: $*"; }

# --- preparation (serialised: meson runs the scenarios in parallel) -------

ensure_qemu() {
	command -v qemu-system-x86_64 >/dev/null && return 0
	log "installing qemu-system-x86"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends qemu-system-x86 >"$CACHE/apt.log" 2>&1; then
		apt-get update -q >>"$CACHE/apt.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends qemu-system-x86 \
			>>"$CACHE/apt.log" 2>&1 ||
			skip "qemu-system-x86 cannot be installed (see $CACHE/apt.log)"
	fi
	command -v qemu-system-x86_64 >/dev/null ||
		skip "qemu-system-x86_64 not found after installation"
}

# First "Depends:" of a package, e.g. linux-image-amd64 -> linux-image-6.1.0-NN-amd64.
depends_of() {
	apt-cache depends "$1" 2>/dev/null | sed -n 's/^ *Depends: \([^ <]*\)$/\1/p'
}

resolve_kernel() {
	local img
	img=$(depends_of linux-image-amd64 | grep '^linux-image-' | head -n1 || true)
	if [ -z "$img" ]; then
		apt-get update -q >"$CACHE/apt.log" 2>&1 || true
		img=$(depends_of linux-image-amd64 | grep '^linux-image-' | head -n1 || true)
	fi
	[ -n "$img" ] || skip "cannot resolve linux-image-amd64 through apt"
	KVER=${img#linux-image-}
}

fetch_debs() {
	local dir=$CACHE/debs pkgs p missing=()
	mkdir -p "$dir"
	pkgs=("linux-image-$KVER" "linux-headers-$KVER")
	pkgs+=($(depends_of "linux-headers-$KVER" | grep -E '^linux-(headers|kbuild)-'))
	for p in "${pkgs[@]}"; do
		ls "$dir/${p}_"*.deb >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "downloading ${missing[*]}"
	# _apt cannot write into the build tree: download as root, unsandboxed.
	(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root \
		"${missing[@]}") >"$CACHE/download.log" 2>&1 ||
		skip "apt-get download ${missing[*]} failed (see $CACHE/download.log)"
}

unpack_kernel() {
	local root=$CACHE/root-$KVER deb
	VMLINUZ=$root/boot/vmlinuz-$KVER
	KDIR=$root/usr/src/linux-headers-$KVER
	LDISC=$root/lib/modules/$KVER/kernel/drivers/pps/clients/pps-ldisc.ko
	[ -f "$root/.done" ] && return 0
	rm -rf "$root"
	mkdir -p "$root"
	for deb in "$CACHE"/debs/*.deb; do
		case $deb in
		*linux-image-$KVER*)
			dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$root" \
				"./boot/vmlinuz-$KVER" \
				"./lib/modules/$KVER/kernel/drivers/pps/clients/pps-ldisc.ko" ;;
		*linux-headers-*|*linux-kbuild-*)
			dpkg-deb -x "$deb" "$root" ;;
		esac
	done
	# The arch Makefile includes the -common one by absolute path.
	sed -i "s#^include /usr/src/#include $root/usr/src/#" "$KDIR/Makefile"
	touch "$root/.done"
}

build_modules() {
	local out=$CACHE/modules-$KVER
	if [ -z "$(find "$HERE/modules" -newer "$out/.done" 2>/dev/null)" ] &&
	   [ -f "$out/.done" ]; then
		return 0
	fi
	rm -rf "$out"
	cp -r "$HERE/modules" "$out"
	log "building test modules against $KVER"
	make -s -C "$KDIR" M="$out" modules >"$CACHE/modules.log" 2>&1 ||
		{ cat "$CACHE/modules.log"; fail "module build failed"; }
	touch "$out/.done"
}

prepare() {
	ensure_qemu
	if [ -n "${GPSPPS_VM_KVER:-}" ]; then
		KVER=$GPSPPS_VM_KVER
	else
		resolve_kernel
	fi
	if [ -f "/usr/src/linux-headers-$KVER/Makefile" ] &&
	   [ -f "/boot/vmlinuz-$KVER" ]; then
		VMLINUZ=/boot/vmlinuz-$KVER
		KDIR=/usr/src/linux-headers-$KVER
		LDISC=/lib/modules/$KVER/kernel/drivers/pps/clients/pps-ldisc.ko
	else
		fetch_debs
		unpack_kernel
	fi
	build_modules
	MODDIR=$CACHE/modules-$KVER
}

exec 9>"$CACHE/lock"
flock 9
prepare
flock -u 9

# --- initramfs ------------------------------------------------------------

WORK=$(mktemp -d "$CACHE/run-$SCENARIO.XXXXXX")
cleanup() {
	[ -n "${QEMU_PID:-}" ] && kill "$QEMU_PID" 2>/dev/null || true
	[ "${GPSPPS_VM_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
IR=$WORK/initramfs
mkdir -p "$IR"/{bin,sbin,etc,proc,sys,dev,tmp,run,lib/modules,usr/bin,usr/sbin}

add_bin() {   # add_bin SRC DEST: a program plus every library ldd names
	local src=$1 dest=$2 lib
	install -D -m 0755 "$src" "$IR$dest"
	for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[ -e "$IR$lib" ] || install -D -m 0755 "$(realpath "$lib")" "$IR$lib"
	done
}

BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || skip "busybox (busybox-static) is not installed"
case $(ldd "$BUSYBOX" 2>&1 || true) in
*"not a dynamic executable"*) ;;
*) skip "busybox is not the static build (install busybox-static)" ;;
esac
install -m 0755 "$BUSYBOX" "$IR/bin/busybox"

for p in src/gpsppsd/gpsppsd src/gpspps-sim/gpspps-sim src/gpsppsctl/gpsppsctl \
	 tests/vm/vmprobe tests/vm/vmdcd tests/vm/vmclock; do
	[ -x "$BUILD/$p" ] && add_bin "$BUILD/$p" "/usr/bin/$(basename "$p")"
done
# The libgpiod v2 build of vmprobe (gpiod2-build.sh) and its library.
if [ "$SCENARIO" = gpio ]; then
	"$HERE/gpiod2-build.sh" "$(dirname "$HERE")/.." "$BUILD" \
		>"$WORK/gpiod2.log" 2>&1 ||
		{ log "no libgpiod v2 build (status $?):"; tail -n 20 "$WORK/gpiod2.log"; }
	V2LIB=$(ls "$BUILD"/gpiod2-prefix/usr/lib/*/libgpiod.so.3 2>/dev/null || true)
	if [ -x "$BUILD/gpiod2/tests/vm/vmprobe" ] && [ -n "$V2LIB" ]; then
		install -D -m 0755 "$BUILD/gpiod2/tests/vm/vmprobe" "$IR/opt/gpiod2/vmprobe"
		install -m 0644 "$(realpath "$V2LIB")" "$IR/opt/gpiod2/libgpiod.so.3"
	fi
fi
# chronyd and chronyc from the chrony package unpacked in the build
# directory (the host's own, if any, is not used).
"$HERE/../lib/chrony-prefix.sh" "$BUILD/chrony" >"$WORK/chrony.log" 2>&1 ||
	fail "no private chronyd: $(cat "$WORK/chrony.log")"
for p in /usr/sbin/chronyd /usr/bin/chronyc; do
	add_bin "$BUILD/chrony$p" "$p"
done
for p in /usr/bin/ppstest /usr/bin/gpiomon; do
	[ -x "$p" ] && add_bin "$p" "$p"
done
# Debian's gpsd, read side by side with gpsppsd (tests/bench/vs-gpsd).
if [ "$SCENARIO" = uartbench ]; then
	[ -x /usr/sbin/gpsd ] || skip "gpsd is not installed (tests/deps.sh bench)"
	add_bin /usr/sbin/gpsd /usr/sbin/gpsd
fi
install -m 0644 "$HERE/uartbench.sh" "$IR/uartbench.sh"
install -m 0644 "$MODDIR"/vmpps.ko "$MODDIR"/vmgpio.ko "$MODDIR"/vmuart.ko \
	"$IR/lib/modules/"
[ -f "$LDISC" ] && install -m 0644 "$LDISC" "$IR/lib/modules/"
install -m 0755 "$HERE/guest-init.sh" "$IR/init"
# chronyd's leapsectz right/UTC (the leap scenario) from the host's tzdata.
if [ -f /usr/share/zoneinfo/right/UTC ]; then
	install -D -m 0644 /usr/share/zoneinfo/right/UTC \
		"$IR/usr/share/zoneinfo/right/UTC"
elif [ "$SCENARIO" = leap ]; then
	skip "no /usr/share/zoneinfo/right/UTC (install tzdata)"
fi
echo "root:x:0:0:root:/root:/bin/sh" >"$IR/etc/passwd"
echo "root:x:0:" >"$IR/etc/group"
(cd "$IR" && find . | "$BUSYBOX" cpio -o -H newc -R 0:0 2>/dev/null | gzip -1) \
	>"$WORK/initramfs.cpio.gz"

# --- boot -----------------------------------------------------------------

# serial_cable ID1 ID2: two socket chardevs joined to each other, a
# null-modem cable between the two UARTs that use them.
serial_cable() {
	SERIAL+=(-chardev "socket,id=$1,path=$WORK/$1.sock,server=on,wait=off"
		-chardev "socket,id=$2,path=$WORK/$1.sock")
}

# ttyS0: console (a file); ttyS1 and ttyS2 are joined by one cable
# between two real 8250 UARTs; ttyS3 is unconnected (the DCD scenario uses
# its loopback mode).  The DCD pulse scenarios use vmuart's port
# (modules/vmuart.c) instead.  uartbench: ISA ttyS1 to PCI ttyS4 and ISA
# ttyS3 to PCI ttyS5 (pci-serial, a 16550A each; 8250.nr_uarts=6 lets the
# kernel register them), ttyS2 unconnected.
CONSOLE=$WORK/console.log
SERIAL=()
APPEND=
if [ "$SCENARIO" = uartbench ]; then
	serial_cable s1 s4
	serial_cable s3 s5
	SERIAL+=(-serial "file:$CONSOLE" -serial chardev:s1 -serial null
		-serial chardev:s3 -device pci-serial,chardev=s4
		-device pci-serial,chardev=s5)
	APPEND=" 8250.nr_uarts=6"
else
	serial_cable s1 s2
	SERIAL+=(-serial "file:$CONSOLE" -serial chardev:s1 -serial chardev:s2
		-serial null)
fi
BOOT_TIMEOUT=240
[ "$SCENARIO" = leap ] && BOOT_TIMEOUT=280   # about 100 s of guest time
log "booting $KVER, scenario $SCENARIO"
start=$(date +%s)
set +e
timeout "${GPSPPS_VM_TIMEOUT:-$BOOT_TIMEOUT}" qemu-system-x86_64 -accel tcg -m 384 -smp 1 \
	-display none -monitor none -no-reboot \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 "${SERIAL[@]}" \
	-kernel "$VMLINUZ" -initrd "$WORK/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 loglevel=4 gpspps.scenario=$SCENARIO$APPEND ${GPSPPS_VM_APPEND:-}" \
	</dev/null
rc=$?
set -e
log "qemu exited with $rc after $(( $(date +%s) - start )) s"
cat "$CONSOLE"
[ $rc -eq 124 ] && fail "guest timed out"
[ $rc -eq $PASS_CODE ] || fail "guest reported failure (qemu status $rc)"
echo "PASS: vm scenario $SCENARIO"
