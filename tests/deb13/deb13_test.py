#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Suite deb13: gpspps in a Debian 13 "trixie" root (gcc 14, libgpiod 2,
chrony 4.6), the closest stack to Ubuntu 24.04 that can be fetched here.

The root is made once by mkroot.sh (debootstrap, about a minute) and kept
as a tarball in BUILD/deb13, named after mkroot.sh's content; it is
unpacked to BUILD/deb13/root.  Commands run in it with chroot in their own
mount and PID namespaces (/dev and /proc mounted); chronyd there runs with
-x, never touching this machine's clock.

Scenarios (argv[1]):
  build  a clean tree (the files git knows, copied as build-deb.sh does)
         built in the root with -Dwerror=true: the GPIO backend against
         trixie's native libgpiod 2 (config.h selects the v2 API, no local
         unpack), then the unit suite passes there.
  e2e    the e2e suite in the root, the harness's chronyd being trixie's
         chrony 4.6 (unpacked there by tests/lib/chrony-prefix.sh).
  apply  gpspps-calibrate --apply against a running chronyd 4.6: the NMEA
         offset chronyd uses changes without a restart and the file is
         written (apply_chrony.py, run in the root).
build runs first (priority); e2e and apply use its build.

Environment: GPSPPS_BUILD, GPSPPS_SRC (set by meson).
"""

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from gpspps_harness import BUILD, SRC, fail, skip  # noqa: E402

DIR = os.path.join(BUILD, "deb13")
ROOT = os.path.join(DIR, "root")


def tarball():
    with open(os.path.join(HERE, "mkroot.sh"), "rb") as f:
        tag = hashlib.sha1(f.read()).hexdigest()[:10]
    return os.path.join(DIR, f"trixie-{tag}.tar.zst")


def ensure_root():
    """Make (once) and unpack (once per tarball) the trixie root."""
    if os.geteuid() != 0:
        skip("needs root (debootstrap, chroot)")
    for tool in ("debootstrap", "zstd", "unshare"):
        if shutil.which(tool) is None:
            skip(f"{tool} not installed (tests/deps.sh installs it)")
    os.makedirs(DIR, exist_ok=True)
    lock = open(os.path.join(DIR, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    tar = tarball()
    if not os.path.exists(tar):
        r = subprocess.run([os.path.join(HERE, "mkroot.sh"), tar],
                           capture_output=True, text=True, timeout=1800)
        print(r.stdout)
        if r.returncode != 0:
            fail(f"mkroot.sh failed:\n{r.stderr[-3000:]}")
    done = os.path.join(ROOT, ".unpacked-from")
    if not os.path.exists(done) or open(done).read() != tar:
        shutil.rmtree(ROOT, ignore_errors=True)
        os.makedirs(ROOT)
        subprocess.run(f"zstd -dc '{tar}' | tar -C '{ROOT}' -xf -",
                       shell=True, check=True)
        shutil.copy("/etc/resolv.conf", os.path.join(ROOT, "etc"))
        with open(done, "w") as f:
            f.write(tar)
    return lock


def sh(script, timeout=900, check=True):
    """Run a shell script in the root; prints and returns its output."""
    # The root bound on itself: / is then a mount point in the chroot, as
    # unshare --mount there (the e2e demo test) needs.
    inner = ('mount --bind "$0" "$0" && mount --rbind /dev "$0/dev" && '
             'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i '
             'PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C.UTF-8 HOME=/root '
             'DEBIAN_FRONTEND=noninteractive /bin/bash -o pipefail -c "$1"')
    r = subprocess.run(["unshare", "--mount", "--pid", "--fork",
                        "--kill-child", "/bin/sh", "-c", inner, ROOT, script],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    print(r.stdout)
    if check and r.returncode != 0:
        fail(f"in the trixie root, exit {r.returncode}: {script}")
    return r


def copy_tree(name="src"):
    """The tree as build-deb.sh copies it (tracked and new files, no build
    directories) to /NAME in the root."""
    dst = os.path.join(ROOT, name)
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    subprocess.run(
        f"cd '{SRC}' && git ls-files -z --cached --others --exclude-standard"
        f" | tar --null --ignore-failed-read -T - -cf - | tar -C '{dst}' -xf -",
        shell=True, check=True)


def scenario_build():
    copy_tree()
    sh("gcc --version | head -n1; dpkg-query -W chrony libgpiod-dev")
    sh("rm -rf /b && meson setup /b /src -Dwerror=true -Dfuzz=disabled "
       "-Dgpiod=enabled >/tmp/setup.log 2>&1 || { cat /tmp/setup.log; "
       "exit 1; }; sed -n '/^gpspps/,$p' /tmp/setup.log")
    r = sh("grep -E '^#define GPSPPS_GPIOD_API' /b/config.h")
    if "GPSPPS_GPIOD_API 2" not in r.stdout:
        fail("the trixie build does not select the libgpiod v2 API")
    sh("ninja -C /b >/tmp/ninja.log 2>&1 || { tail -n 40 /tmp/ninja.log; "
       "exit 1; }")
    sh("meson test -C /b --suite unit --print-errorlogs | tail -n 12")
    print("PASS: trixie build (gcc 14, libgpiod v2, -Werror), unit suite")


def need_build():
    if not os.path.exists(os.path.join(ROOT, "b", "build.ninja")):
        fail("no trixie build: deb13-build must run first")


def scenario_e2e():
    need_build()
    sh("ninja -C /b >/dev/null")
    sh("meson test -C /b --suite e2e --print-errorlogs | "
       "grep -vE '^(Inherited|$)'", timeout=1500)
    r = sh("cat /b/chrony/VERSION")
    print(f"PASS: e2e suite against trixie's chrony {r.stdout.strip()}")


def scenario_apply():
    need_build()
    sh("ninja -C /b >/dev/null")
    sh("GPSPPS_BUILD=/b GPSPPS_SRC=/src python3 "
       "/src/tests/deb13/apply_chrony.py", timeout=600)
    print("PASS: gpspps-calibrate --apply against chronyd 4.6")


def main():
    lock = ensure_root()
    globals()[f"scenario_{sys.argv[1]}"]()
    lock.close()


if __name__ == "__main__":
    main()
