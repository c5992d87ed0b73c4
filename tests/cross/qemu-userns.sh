#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# qemu-userns.sh [--net] ARCH COMMAND [ARG...] - run COMMAND as root in new
# user, mount and PID namespaces (with --net also a network namespace with
# only loopback, where COMMAND may mount sysfs) in which ARCH's programs
# (armhf) run under qemu-user-static, also those that COMMAND's children
# exec (dpkg's maintainer scripts in an armhf root).
#
# Since Linux 6.7 each user namespace may mount a binfmt_misc instance of
# its own: the qemu entry is registered there, never in this machine's
# binfmt_misc (on a test host it is often not even mounted).  The entry has
# flag F, so the kernel opens the emulator at registration and a chroot
# needs no copy of it.  The user namespace maps uids and gids 0-65535 to
# themselves: inside, root is this machine's root for every file, and
# chown to a package's system user works.
#
# Exit status: COMMAND's; 77 without qemu-arm-static or binfmt_misc in a
# user namespace (Linux < 6.7).
set -eu
net=""
if [ "${1:-}" = --net ]; then
	net=--net
	shift
fi
arch=${1:?arch (armhf)}
shift
case $arch in
armhf)
	qemu=/usr/bin/qemu-arm-static
	magic='\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x28\x00'
	mask='\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff'
	;;
*)
	echo "qemu-userns.sh: no binfmt entry for $arch" >&2
	exit 2
	;;
esac
if [ ! -x "$qemu" ]; then
	echo "SKIP: $qemu missing: tests/deps.sh cross installs qemu-user-static"
	exit 77
fi
reg=":gpspps-qemu-$arch:M::$magic:$mask:$qemu:F"

# The child waits until this shell has written its uid and gid maps, then
# mounts its own binfmt_misc and registers the emulator.
# shellcheck disable=SC2016
unshare --user --mount --pid $net --fork --kill-child /bin/sh -c '
	while [ -z "$(cat /proc/self/gid_map)" ]; do sleep 0.02; done
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || {
		echo "SKIP: binfmt_misc cannot be mounted in a user namespace" \
			"(Linux >= 6.7 needed)"; exit 77; }
	printf "%s" "$0" >/proc/sys/fs/binfmt_misc/register
	exec "$@"' "$reg" "$@" &
child=$!
me=$(readlink /proc/self/ns/user)
while [ "$(readlink "/proc/$child/ns/user" 2>/dev/null || echo "$me")" = "$me" ]; do
	kill -0 "$child" 2>/dev/null || break
	sleep 0.02
done
echo "0 0 65536" >"/proc/$child/uid_map"
echo "0 0 65536" >"/proc/$child/gid_map"
status=0
wait "$child" || status=$?
exit "$status"
