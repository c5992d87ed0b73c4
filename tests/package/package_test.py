#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The Debian package, built and installed for real (meson suite 'package').

Scenarios (argv[1]):
  build    packaging/build-deb.sh: dpkg-buildpackage -us -uc -b from the
           tree; lintian reports no errors; the .deb holds the programs,
           their man pages, the units, udev rules, tmpfiles, the chrony
           drop-ins, /etc/gpspps/gpsppsd.conf as a conffile, and depends on
           chrony.
  install  a Debian 12 root made by debootstrap (cached under the build
           directory): apt's resolver removes systemd-timesyncd; the .deb
           installs (user, socket directory, enabled unit, AppArmor rule
           that the parser accepts, chrony's configuration includes the
           drop-in); reinstalls; upgrades to a newer version keeping an
           edited conffile without a prompt; removal sets chrony's drop-ins
           aside so chrony's configuration is valid without gpspps, and a
           reinstall brings the edits back; purge leaves nothing behind.
           gpspps-leap.conf holds the leap-second line for the root's
           chrony and tzdata (leapsectz right/UTC for chrony 4.3), which
           the installed chronyd, started with it, logs that it uses; the
           units pass systemd-analyze verify in the root.
  systemd  that root booted with systemd-nspawn (private network, no
           CAP_SYS_TIME, chronyd with -x: this machine's clock is never
           touched): the packaged chrony.service (root, then _chrony, umask
           from the package's drop-in) and the hardened gpsppsd.service as
           user gpspps, fed by gpspps-sim.  Samples reach chronyd with
           gpsppsd started first, and again after chronyd restarts; with
           chronyd's default umask they do not (the design is what makes
           it work); gpsppsd never restarts; the one-shot calibration
           service writes the offset and restarts chronyd; apt remove and
           install with systemd running restart chronyd without and with
           the refclocks; systemd-analyze verify passes (also for
           gpspps-metrics.service and .timer); systemd-analyze security
           figures are printed and bounded.  gpsppsctl status works for a
           member of adm (the status socket's ACL) and is refused to
           others; gpspps-metrics.timer, once node_exporter's directory
           exists, writes gpspps.prom, which promtool accepts.
  multi    two simulated receivers under systemd-nspawn, each read by an
           instance of gpsppsd@.service (gps0, gps1; gpsppsd.service
           disabled), chronyd started at boot with the packaged
           two-receivers.conf as its drop-in: chronyc sources shows PPS0,
           PPS1, NMA0 and NMA1 with reach, each NMEA line with its own
           receiver's delay (the instance's sockets follow its name, also
           against a pps-socket line in its file), each instance answers
           gpsppsctl on its own status socket, also for a member of adm
           (the socket's ACL, again after a restart); the instances are as
           confined as gpsppsd.service.  Stopping gpsppsd@gps1 leaves
           receiver 0's samples untouched (refclocks.log keeps getting
           them, PPS0's reach keeps its recent polls, gpsppsd@gps0 never
           restarts) while PPS1 gets none; starting it again brings PPS1
           back; apt remove stops both instances.

Other roots and architectures (registered in the cross-* and deb13
suites):
  build-armhf, build-arm64
           build: packaging/build-deb.sh --arch ARCH, a cross build.
  install-armhf
           install in a Debian 12 armhf root, every command under qemu-arm
           (../cross/qemu-userns.sh), the .deb from build-armhf.
  install-trixie
           install in a Debian 13 root, the .deb built in the deb13
           suite's root from a clean tree; chrony 4.6 without the right/
           zones: leapseclist; then with tzdata-legacy: right/UTC, and
           after its removal and dpkg-reconfigure leapseclist again.
  systemd-trixie
           systemd in that root booted (systemd 257, chrony 4.6).

Needs root, debootstrap, zstd, and network to a Debian mirror the first
time (the roots are cached in $GPSPPS_BUILD/package/).  GPSPPS_KEEP=1 keeps
the roots.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import BUILD, SRC, fail, skip  # noqa: E402

PKG = os.path.join(os.path.abspath(BUILD), "package")
DEBDIR = os.path.join(PKG, "deb")
HERE = os.path.dirname(os.path.abspath(__file__))


HOST_ARCH = subprocess.run(["dpkg", "--print-architecture"],
                           capture_output=True, text=True).stdout.strip()

# What the install scenarios install into: the Debian release and
# architecture of the root, gpspps's run-time dependencies there, and the
# leap-second line the package must choose (gpspps-leap-conf) for that
# root's chrony and tzdata, with what chronyd logs when it loads it.
RIGHT_UTC = ("leapsectz right/UTC",
             "Using right/UTC timezone to obtain leap second data")
LEAP_LIST = ("leapseclist /usr/share/zoneinfo/leap-seconds.list",
             "Using leap second list /usr/share/zoneinfo/leap-seconds.list")
TARGETS = {
    "bookworm": {"suite": "bookworm", "arch": HOST_ARCH,
                 "deps": "chrony libjansson4 libgpiod2", "leap": RIGHT_UTC},
    "armhf": {"suite": "bookworm", "arch": "armhf",
              "deps": "chrony libjansson4 libgpiod2", "leap": RIGHT_UTC},
    # chrony 4.6 and no right/ zones without tzdata-legacy.
    "trixie": {"suite": "trixie", "arch": HOST_ARCH,
               "deps": "chrony libjansson4 libgpiod3", "leap": LEAP_LIST},
}
TARGET = TARGETS["bookworm"]


def base_path(target):
    """The cached root is named after mkroot.sh's content, so that a
    change to the recipe makes a new root."""
    import hashlib
    with open(os.path.join(HERE, "mkroot.sh"), "rb") as f:
        tag = hashlib.sha1(f.read()).hexdigest()[:10]
    return os.path.join(PKG, f"{target['suite']}-{target['arch']}-base-"
                        f"{tag}.tar.zst")


UPGRADE_VERSION_SUFFIX = "+upgradetest"
QEMU_USERNS = os.path.join(HERE, "..", "cross", "qemu-userns.sh")

# Exposure bounds for `systemd-analyze security` (0 best, 10 worst): the
# figures measured when the units were written, so a change that weakens
# the sandbox fails here.
MAX_EXPOSURE = {"gpsppsd.service": 0.6, "gpspps-calibrate.service": 1.8,
                "gpspps-metrics.service": 0.9}


def run(cmd, check=True, timeout=600, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check and r.returncode != 0:
        fail(f"{' '.join(map(str, cmd))} exited {r.returncode}:\n"
             f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def need_tools(*names):
    if os.geteuid() != 0:
        skip("needs root (chroot, debootstrap, systemd-nspawn)")
    for n in names:
        if shutil.which(n) is None:
            skip(f"{n} not installed (tests/deps.sh installs it)")


# --- the .deb -----------------------------------------------------------------

def debdir(arch=HOST_ARCH):
    return DEBDIR if arch == HOST_ARCH else f"{DEBDIR}-{arch}"


def build_deb(arch=HOST_ARCH):
    """packaging/build-deb.sh on this host (--arch: cross-built)."""
    d = debdir(arch)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "*")):
        os.remove(f)
    cross = [] if arch == HOST_ARCH else ["--arch", arch]
    r = run([os.path.join(SRC, "packaging", "build-deb.sh")] + cross + [d],
            check=False, timeout=900)
    print(r.stdout[-4000:])
    if r.returncode == 1 and "tests/deps.sh cross installs" in r.stderr:
        skip(r.stderr.strip())
    if r.returncode != 0:
        fail(f"packaging/build-deb.sh failed:\n{r.stderr[-4000:]}")
    return the_deb(d)


def the_deb(d=DEBDIR):
    debs = [p for p in glob.glob(os.path.join(d, "gpspps_*.deb"))
            if UPGRADE_VERSION_SUFFIX not in p]
    return debs[0] if len(debs) == 1 else None


def ensure_deb(arch=HOST_ARCH):
    deb = the_deb(debdir(arch))
    return deb if deb else build_deb(arch)


def trixie_deb(fresh):
    """The .deb built inside the Debian 13 root of the deb13 suite, from a
    clean copy of the tree (build-deb.sh's own copy: no .git there), with
    trixie's toolchain, debhelper and lintian; unless fresh, the one the
    last such build left."""
    sys.path.insert(0, os.path.join(HERE, "..", "deb13"))
    import deb13_test
    d = os.path.join(deb13_test.DIR, "deb")
    if not fresh and the_deb(d):
        return the_deb(d)
    lock = deb13_test.ensure_root()
    try:
        deb13_test.copy_tree("pkgsrc")
        deb13_test.sh("rm -rf /debs && /pkgsrc/packaging/build-deb.sh /debs "
                      "| tail -n 20", timeout=1200)
        shutil.rmtree(d, ignore_errors=True)
        shutil.copytree(os.path.join(deb13_test.ROOT, "debs"), d)
    finally:
        lock.close()
    deb = the_deb(d)
    if deb is None:
        fail(f"build-deb.sh in the trixie root left no .deb in {d}")
    return deb


def target_deb(fresh=False):
    if TARGET["suite"] == "trixie":
        return trixie_deb(fresh)
    return ensure_deb(TARGET["arch"])


def deb_field(deb, field):
    return run(["dpkg-deb", "-f", deb, field]).stdout.strip()


def scenario_build(arch=HOST_ARCH):
    need_tools("dpkg-buildpackage", "lintian")
    deb = build_deb(arch)
    if deb_field(deb, "Architecture") != arch:
        fail(f"{deb} is for {deb_field(deb, 'Architecture')}, not {arch}")
    files = set()
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        path = line.split()[5].lstrip(".")
        files.add(path)
    want = ["/usr/sbin/gpsppsd", "/usr/bin/gpspps-calibrate",
            "/usr/sbin/gpsppsctl",
            "/usr/share/man/man8/gpsppsd.8.gz",
            "/usr/share/man/man1/gpspps-calibrate.1.gz",
            "/usr/share/man/man8/gpsppsctl.8.gz",
            "/usr/share/bash-completion/completions/gpsppsctl",
            "/usr/libexec/gpspps/gpspps-status-acl",
            "/usr/libexec/gpspps/gpspps-leap-conf",
            "/lib/systemd/system/gpspps-metrics.service",
            "/lib/systemd/system/gpspps-metrics.timer",
            "/etc/gpspps/gpsppsd.conf",
            "/etc/chrony/conf.d/gpspps.conf",
            "/etc/chrony/sources.d/gpspps.sources",
            "/lib/systemd/system/gpsppsd.service",
            "/lib/systemd/system/gpsppsd@.service",
            "/lib/systemd/system/gpspps-calibrate.service",
            "/lib/systemd/system/chrony.service.d/gpspps.conf",
            "/usr/lib/tmpfiles.d/gpspps.conf",
            "/lib/udev/rules.d/60-gpspps.rules",
            "/usr/share/doc/gpspps/install.md",
            "/usr/share/doc/gpspps/examples/two-receivers.conf"]
    missing = [w for w in want if w not in files]
    if missing:
        fail(f"{deb} lacks {missing}")
    ctl = os.path.join(PKG, "control")
    shutil.rmtree(ctl, ignore_errors=True)
    run(["dpkg-deb", "-e", deb, ctl])
    with open(os.path.join(ctl, "conffiles")) as f:
        conffiles = f.read().split()
    if "/etc/gpspps/gpsppsd.conf" not in conffiles:
        fail(f"/etc/gpspps/gpsppsd.conf is not a conffile: {conffiles}")
    depends = deb_field(deb, "Depends")
    if not re.search(r"(^|, )chrony( |,|$)", depends):
        fail(f"Depends does not name chrony: {depends}")
    with open(os.path.join(debdir(arch), "lintian.log")) as f:
        lint = f.read()
    print(f"{os.path.basename(deb)}: {len(files)} paths, Depends: {depends}")
    print(f"lintian: {lint.count(chr(10) + 'E:') + lint.startswith('E:')} "
          f"errors, {len(re.findall(r'^W:', lint, re.M))} warnings")


# --- a Debian 12 root -----------------------------------------------------------

def host_codename():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("VERSION_CODENAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def ensure_base():
    # A .deb built on this host, against its libraries, installs in a
    # Debian 12 root only when the host is Debian 12 too (the trixie
    # package is built in the trixie root).
    suite, arch = TARGET["suite"], TARGET["arch"]
    if suite == "bookworm" and host_codename() != "bookworm":
        skip(f"the install tests use a Debian 12 root, and a package built "
             f"on this host ({host_codename() or 'unknown'}) needs its own "
             "release's libraries")
    if arch != HOST_ARCH:
        r = run([QEMU_USERNS, "--net", arch, "true"], check=False)
        if r.returncode == 77:
            skip(r.stdout.strip())
        if r.returncode != 0:
            fail(f"qemu-userns.sh {arch}: {r.stdout}{r.stderr}")
    base = base_path(TARGET)
    if os.path.exists(base):
        return
    # Older recipes' roots, also those named before there were several.
    for old in glob.glob(os.path.join(PKG, f"{suite}-{arch}-base*.tar.zst")) \
            + glob.glob(os.path.join(PKG, "bookworm-base-*.tar.zst")):
        os.remove(old)
    need_tools("debootstrap", "zstd")
    os.makedirs(PKG, exist_ok=True)
    print(f"making the {suite} {arch} root (once; cached in "
          f"{os.path.relpath(base, os.getcwd())})")
    t0 = time.monotonic()
    r = run([os.path.join(HERE, "mkroot.sh"), base, suite, arch],
            check=False, timeout=1800)
    print(r.stdout)
    if r.returncode != 0:
        fail(f"mkroot.sh failed:\n{r.stderr[-3000:]}")
    print(f"made it in {time.monotonic() - t0:.0f} s")


class Root:
    """A fresh copy of the cached root of TARGET."""

    def __init__(self, name):
        # A new directory each run: a container left running by a killed
        # run keeps its own root.
        for old in glob.glob(os.path.join(PKG, f"root-{name}-*")):
            if not os.path.exists(os.path.join(
                    PKG, f".#{os.path.basename(old)}.lck")):
                shutil.rmtree(old, ignore_errors=True)
        self.path = tempfile.mkdtemp(prefix=f"root-{name}-", dir=PKG)
        os.chmod(self.path, 0o755)
        run(["sh", "-c", f'zstd -dc "{base_path(TARGET)}" | tar -C "{self.path}" '
             "--numeric-owner -xf -"])
        os.makedirs(self.p("/tmp/debs"), exist_ok=True)

    def p(self, path):
        return os.path.join(self.path, path.lstrip("/"))

    def sh(self, script, check=True, timeout=300):
        """Run a shell script inside the root (chroot, own mount and PID
        namespaces, /proc mounted), stdin from /dev/null.  A root of
        another architecture runs under qemu-user in a user namespace of
        its own (qemu-userns.sh), its commands 10-20 times slower, with a
        network namespace of its own too, so that it may mount sysfs (the
        packages it installs are in apt's cache)."""
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
               "DEBIAN_FRONTEND": "noninteractive", "HOME": "/root"}
        if TARGET["arch"] == HOST_ARCH:
            ns = ["unshare", "--mount", "--pid", "--fork", "--kill-child"]
        else:
            ns = [QEMU_USERNS, "--net", TARGET["arch"]]
            timeout *= 4
        return run(ns + ["chroot", self.path, "/bin/sh", "-c",
                         "mount -t proc proc /proc && " + script],
                   check=check, timeout=timeout, env=env,
                   stdin=subprocess.DEVNULL)

    def read(self, path):
        with open(self.p(path)) as f:
            return f.read()

    def exists(self, path):
        return os.path.lexists(self.p(path))

    def add_deb(self, deb):
        shutil.copy(deb, self.p("/tmp/debs/"))
        return "/tmp/debs/" + os.path.basename(deb)

    def files(self):
        out = set()
        for dirpath, dirs, names in os.walk(self.path):
            rel = "/" + os.path.relpath(dirpath, self.path)
            if rel in ("/proc", "/tmp", "/sys", "/dev"):
                dirs[:] = []
                continue
            for n in names + dirs:
                out.add(os.path.normpath(os.path.join(rel, n)))
        return out

    def status(self, pkg):
        r = self.sh(f"dpkg-query -W -f '${{db:Status-Abbrev}}${{Version}}' {pkg}"
                    " 2>/dev/null || true")
        return r.stdout.strip()

    def remove(self):
        if os.environ.get("GPSPPS_KEEP"):
            print(f"kept {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


def apt_install(root, debpath):
    return root.sh("apt-get -q -y --no-install-recommends install "
                   f"{debpath}")


def check_installed(root, version):
    st = root.status("gpspps")
    if not st.startswith("ii") or not st.endswith(version):
        fail(f"gpspps status {st!r}, expected installed {version}")
    for path in ("/usr/sbin/gpsppsd", "/usr/bin/gpspps-calibrate",
                 "/usr/sbin/gpsppsctl",
                 "/usr/share/man/man8/gpsppsd.8.gz",
                 "/usr/share/man/man1/gpspps-calibrate.1.gz",
                 "/usr/share/man/man8/gpsppsctl.8.gz",
                 "/usr/share/bash-completion/completions/gpsppsctl",
                 "/etc/systemd/system/multi-user.target.wants/gpsppsd.service",
                 "/etc/systemd/system/timers.target.wants/"
                 "gpspps-metrics.timer"):
        if not root.exists(path):
            fail(f"{path} missing after install")
    pw = root.sh("getent passwd gpspps").stdout.strip().split(":")
    if pw[5] != "/nonexistent" or not pw[6].endswith("nologin"):
        fail(f"gpspps user: {pw}")
    groups = root.sh("id -nG gpspps").stdout.split()
    if "gpspps" not in groups or "dialout" not in groups:
        fail(f"gpspps is in groups {groups}, expected gpspps and dialout")
    st = os.stat(root.p("/run/gpspps"))
    gid = int(pw[3])
    if (st.st_mode & 0o7777) != 0o3770 or st.st_uid != 0 or st.st_gid != gid:
        fail(f"/run/gpspps mode {oct(st.st_mode)} uid {st.st_uid} gid "
             f"{st.st_gid}, expected 3770 root:gpspps")
    if "gpsppsctl" not in root.sh("gpsppsctl --version").stdout:
        fail("the installed gpsppsctl does not run")
    conffiles = root.sh("dpkg-query -W -f '${Conffiles}' gpspps").stdout
    if "/etc/gpspps/gpsppsd.conf" not in conffiles:
        fail(f"/etc/gpspps/gpsppsd.conf not a conffile: {conffiles}")
    # chrony's own configuration, as chronyd parses it, includes the
    # drop-in and the leap-second line chosen for this root.
    conf = root.sh("chronyd -p").stdout
    for want in ("refclock SOCK /run/gpspps/pps.sock refid PPS",
                 "refclock SOCK /run/gpspps/nmea.sock refid NMEA",
                 TARGET["leap"][0], "log refclocks statistics tracking"):
        if want not in conf:
            fail(f"chronyd -p (/etc/chrony/chrony.conf) lacks {want!r}:\n{conf}")
    # chronyd's AppArmor profile allows the sockets, exactly once, and parses.
    aa = root.read("/etc/apparmor.d/local/usr.sbin.chronyd")
    if aa.count("@{run}/gpspps/*.sock rw,") != 1:
        fail(f"AppArmor local rule missing or repeated:\n{aa}")
    r = root.sh("apparmor_parser -QK /etc/apparmor.d/usr.sbin.chronyd 2>&1",
                check=False)
    if r.returncode != 0:
        fail(f"apparmor_parser rejects chronyd's profile:\n{r.stdout}")


LEAP_CONF = "/etc/chrony/conf.d/gpspps-leap.conf"

# A chronyd with only the leap-second file (and a command socket, so that
# it has something to do), started for real in the root and stopped.
LEAP_RUN = """set -e
d=/run/gpspps-leaptest
mkdir -m 700 $d
printf 'include %s\\nport 0\\ncmdport 0\\nbindcmdaddress %s\\npidfile %s\\n' \\
    {conf} $d/cmd.sock $d/pid >$d/chrony.conf
chronyd -x -d -u root -f $d/chrony.conf >$d/log 2>&1 &
i=0
while [ ! -S $d/cmd.sock ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
chronyc -h $d/cmd.sock -n tracking | grep '^Leap status' || true
kill $!; wait $! || true
cat $d/log
rm -rf $d
"""


def check_leap(root, leap):
    """gpspps-leap.conf holds exactly the line chosen for this root's
    chrony and tzdata, and the installed chronyd, started with it, loads
    it: its log says which source it uses, and names no error."""
    text = root.read(LEAP_CONF)
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    if lines != [leap[0]]:
        fail(f"{LEAP_CONF} says {lines}, expected [{leap[0]!r}]:\n{text}")
    log = root.sh(LEAP_RUN.format(conf=LEAP_CONF)).stdout
    bad = [ln for ln in log.splitlines()
           if re.search(r"failed|[Ff]atal|[Ee]rror|[Ii]nvalid", ln)]
    if leap[1] not in log or "chronyd exiting" not in log or bad:
        fail(f"chronyd with {LEAP_CONF} ({leap[0]}): expected {leap[1]!r}, "
             f"a clean exit and no error; its log:\n{log}")
    version = root.sh("chronyd --version").stdout.split()[3]
    print(f"{LEAP_CONF}: {leap[0]!r}; chronyd {version} started with it "
          f"logs {leap[1]!r}")


def check_udev_rules(root):
    """udev parses the rules and knows their group (udevadm test reports
    every rules file's problems by file:line)."""
    # udevadm test stores the device's data in /run/udev: a test artefact,
    # removed again (the purge check would see it).
    r = root.sh("test ! -e /run/udev && mount -t sysfs sysfs /sys && "
                "udevadm test --action=add /sys/class/mem/null 2>&1; "
                "rm -rf /run/udev", check=False)
    lines = [ln for ln in r.stdout.splitlines() if "60-gpspps.rules" in ln]
    if not any(ln.startswith("Reading rules file") for ln in lines):
        fail(f"udevadm test did not read 60-gpspps.rules:\n{r.stdout[-2000:]}")
    bad = [ln for ln in lines if not ln.startswith("Reading rules file")]
    if bad:
        fail(f"udev complains about 60-gpspps.rules: {bad}")


def chrony_config_without_gpspps(root):
    r = root.sh("chronyd -p", check=False)
    if r.returncode != 0:
        fail(f"chrony's configuration is broken after removal: {r.stderr}")
    if "gpspps" in r.stdout:
        fail(f"chrony still reads gpspps's drop-in after removal:\n{r.stdout}")
    if "gpspps" in root.read("/etc/apparmor.d/local/usr.sbin.chronyd"):
        fail("the AppArmor rule is still there after removal")
    if root.exists("/run/gpspps"):
        fail("/run/gpspps left after removal")


def bumped_deb(deb, root):
    """The same package with a newer version: an upgrade runs every
    maintainer script with the old version as argument."""
    d = os.path.join(PKG, "bump")
    shutil.rmtree(d, ignore_errors=True)
    run(["dpkg-deb", "-R", deb, d])
    ctl = os.path.join(d, "DEBIAN", "control")
    with open(ctl) as f:
        text = f.read()
    version = deb_field(deb, "Version")
    new = version + UPGRADE_VERSION_SUFFIX
    with open(ctl, "w") as f:
        f.write(text.replace(f"Version: {version}\n", f"Version: {new}\n"))
    out = os.path.join(PKG, f"gpspps_{new}_upgrade.deb")
    run(["dpkg-deb", "-b", "--root-owner-group", d, out])
    shutil.rmtree(d)
    path = root.add_deb(out)
    os.remove(out)
    return path, new


# Paths that change on any install or removal, whatever the package:
# package manager state and logs, and account backups written by adduser
# and deluser (they hold the previous account lists by design).
VOLATILE = re.compile(r"^/(var/lib/dpkg|var/lib/apt|var/cache|var/log"
                      r"|etc/(passwd|group|shadow|gshadow)-$)")


def snapshot(root):
    """Every path with its type and content (symlink target, file hash)."""
    import hashlib
    out = {}
    for path in root.files():
        if VOLATILE.match(path):
            continue
        full = root.p(path)
        if os.path.islink(full):
            out[path] = "l:" + os.readlink(full)
        elif os.path.isdir(full):
            st = os.stat(full)
            out[path] = f"d:{oct(st.st_mode)}:{st.st_uid}:{st.st_gid}"
        elif os.path.isfile(full):
            with open(full, "rb") as f:
                out[path] = "f:" + hashlib.sha1(f.read()).hexdigest()
        else:
            out[path] = "other"
    return out


def reference_snapshot():
    """A root where only gpspps's dependencies were installed: what a purge
    must come back to."""
    ref = Root("reference")
    ref.sh("apt-get -q -y --no-install-recommends install "
           + TARGET["deps"])
    snap = snapshot(ref)
    ref.remove()
    return snap


def check_purged(root, reference):
    st = root.status("gpspps")
    if st:
        fail(f"gpspps still known to dpkg after purge: {st!r}")
    now = snapshot(root)
    extra = sorted(set(now) - set(reference))
    gone = sorted(set(reference) - set(now))
    changed = sorted(p for p in set(now) & set(reference)
                     if now[p] != reference[p])
    named = sorted(p for p in root.files() if "gpspps" in p)
    r = root.sh("grep -rIl gpspps /etc /run /usr /lib /var/lib /srv /opt "
                "/root 2>/dev/null | grep -vE '^/var/lib/dpkg/|"
                "^/etc/(passwd|group|shadow|gshadow)-$' || true")
    mentions = r.stdout.split()
    if extra or gone or changed or named or mentions:
        fail("after purge the root differs from one where only the "
             "dependencies were installed:\n"
             f"  extra paths: {extra}\n  missing paths: {gone}\n"
             f"  changed: {changed}\n  paths named gpspps: {named}\n"
             f"  files mentioning gpspps: {mentions}")
    return len(now)


def calibrate_offline(root):
    """Run the installed gpspps-calibrate on saved sourcestats (an NMEA
    delay of 123.5 ms) against the installed chrony configuration: it
    finds the drop-in through chrony.conf's confdir and rewrites the
    offset, as the one-shot service does, leaving gpspps.conf.bak."""
    import random
    rnd = random.Random(5)
    lines = [f"{1790000000 + 60 * i} NMEA,20,10,300,0.000,0.100,"
             f"{0.1235 + rnd.gauss(0, 0.0003):.6f},0.002000" for i in range(30)]
    with open(root.p("/tmp/sourcestats.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    root.sh("gpspps-calibrate --from-file /tmp/sourcestats.txt --write --quiet")
    m = re.search(r"refid NMEA .* offset ([-\d.]+) ",
                  root.read("/etc/chrony/conf.d/gpspps.conf"))
    if not m or abs(float(m.group(1)) - 0.1235) > 0.001:
        fail(f"gpspps-calibrate did not write the offset: {m and m.group(0)}")
    if not root.exists("/etc/chrony/conf.d/gpspps.conf.bak"):
        fail("gpspps-calibrate left no gpspps.conf.bak")
    print(f"gpspps-calibrate --write set the NMEA offset to {m.group(1)}")
    return m.group(1)


def verify_units(root):
    """systemd-analyze verify in the root (no systemd running there): the
    units parse against this root's systemd and name programs that
    exist."""
    # systemd-analyze leaves /run/systemd/systemd-units-load behind: a test
    # artefact, removed again (the purge check would see it).
    stamp = "/run/systemd/systemd-units-load"
    r = root.sh(f"test -e {stamp}; had=$?; "
                "systemd-analyze verify --man=no gpsppsd.service "
                "gpsppsd@gps0.service gpspps-calibrate.service "
                "gpspps-metrics.service gpspps-metrics.timer 2>&1; s=$?; "
                f"[ $had = 0 ] || rm -f {stamp}; exit $s",
                check=False, timeout=120)
    if r.returncode != 0 or r.stdout.strip():
        fail(f"systemd-analyze verify in the {TARGET['suite']} "
             f"{TARGET['arch']} root:\n{r.stdout}")
    v = root.sh("systemctl --version").stdout.split()[1]
    print(f"systemd-analyze verify (systemd {v}): clean")


def scenario_install():
    need_tools("zstd")
    deb = target_deb(fresh=True)
    version = deb_field(deb, "Version")
    arch = deb_field(deb, "Architecture")
    if arch != TARGET["arch"]:
        fail(f"{deb} is for {arch}, the root for {TARGET['arch']}")
    ensure_base()
    t0 = time.monotonic()
    reference = reference_snapshot()
    root = Root("install")
    if not root.status("systemd-timesyncd").startswith("ii"):
        fail("the base root lacks systemd-timesyncd")
    debpath = root.add_deb(deb)

    sim = root.sh(f"apt-get -s -q --no-install-recommends install {debpath}")
    if not re.search(r"^Remv systemd-timesyncd ", sim.stdout, re.M):
        fail(f"apt's resolver does not remove systemd-timesyncd:\n{sim.stdout}")
    print("apt-get -s install gpspps.deb: "
          + "; ".join(ln for ln in sim.stdout.splitlines()
                      if ln.startswith(("Remv", "Inst gpspps", "Inst chrony"))))

    apt_install(root, debpath)
    if root.status("systemd-timesyncd").startswith("ii"):
        fail("systemd-timesyncd still installed next to chrony")
    check_installed(root, version)
    check_udev_rules(root)
    print(f"installed {version}: user, /run/gpspps 2750 root:gpspps, unit "
          "enabled, chrony.conf includes the drop-in, AppArmor rule and udev "
          "rules parse")
    check_leap(root, TARGET["leap"])
    verify_units(root)

    root.sh(f"dpkg -i {debpath}")
    check_installed(root, version)
    print("reinstalled the same version")

    # The calibrator's edit and an administrator's edit survive an upgrade.
    offset = calibrate_offline(root)
    root.sh("sed -i 's|^device .*|device /dev/ttyACM0|' /etc/gpspps/gpsppsd.conf")
    newpath, newversion = bumped_deb(deb, root)
    apt_install(root, newpath)
    check_installed(root, newversion)
    if f"offset {offset} " not in root.read("/etc/chrony/conf.d/gpspps.conf"):
        fail("the upgrade lost the calibrated offset")
    if "device /dev/ttyACM0" not in root.read("/etc/gpspps/gpsppsd.conf"):
        fail("the upgrade lost the edited gpsppsd.conf")
    stray = [p for p in root.files() if re.search(r"\.dpkg-(new|dist|old)$", p)]
    if stray:
        fail(f"upgrade left {stray}")
    print(f"upgraded to {newversion} with edited conffiles kept, no prompt")

    root.sh("apt-get -q -y remove gpspps")
    if not root.status("gpspps").startswith("rc"):
        fail(f"after remove: {root.status('gpspps')}")
    chrony_config_without_gpspps(root)
    if root.exists("/usr/sbin/gpsppsd"):
        fail("gpsppsd left after removal")
    print("removed: chrony's configuration valid without gpspps")

    apt_install(root, newpath)
    check_installed(root, newversion)
    if f"offset {offset} " not in root.read("/etc/chrony/conf.d/gpspps.conf"):
        fail("reinstall after removal lost the calibrated offset")
    print("reinstalled after removal: the calibrated offset is back")

    root.sh("apt-get -q -y purge gpspps")
    n = check_purged(root, reference)
    print(f"purged: all {n} paths (type, owner, content) as in a root where "
          f"only the dependencies were installed ({time.monotonic() - t0:.0f} s)")
    if TARGET["suite"] == "trixie":
        legacy_zones(root, newpath)
    root.remove()


def legacy_zones(root, debpath):
    """Debian 13 with tzdata-legacy (which the package recommends): the
    right/ zones exist again, and the package picks right/UTC, which every
    chrony knows."""
    if root.exists("/usr/share/zoneinfo/right/UTC"):
        fail("the trixie root has right/UTC without tzdata-legacy")
    root.sh("apt-get -q -y install tzdata-legacy")
    apt_install(root, debpath)
    check_leap(root, RIGHT_UTC)
    root.sh("apt-get -q -y remove tzdata-legacy && dpkg-reconfigure gpspps")
    check_leap(root, LEAP_LIST)
    print("with tzdata-legacy: leapsectz right/UTC; removed again, "
          "dpkg-reconfigure gpspps: leapseclist")


# --- systemd ------------------------------------------------------------------

SIM_UNIT = """[Unit]
Description=simulated GPS receiver on a pty (test only)
[Service]
User=gpspps
RuntimeDirectory=gpspps-sim
ExecStart=/usr/bin/gpspps-sim --pty /run/gpspps-sim/gps0 --baud 9600
[Install]
WantedBy=multi-user.target
"""

GPSPPSD_TEST_CONF = """# test: the simulated receiver
device /run/gpspps-sim/gps0
baud 9600
pps sim:jitter=2us,seed=3
"""


class Container:
    """The root booted with systemd-nspawn; commands run inside with
    nsenter."""

    def __init__(self, root):
        self.root = root
        self.log = open(os.path.join(PKG, "nspawn.log"), "w")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "-q", "-D", root.path, "--keep-unit",
             "--register=no", "--private-network", "--boot"],
            stdin=subprocess.DEVNULL, stdout=self.log,
            stderr=subprocess.STDOUT)
        try:
            self.boot()
        except BaseException:
            self.stop()
            raise

    def boot(self):
        self.pid = None
        self.pid = self.find_init()
        deadline = time.monotonic() + 90
        state = ""
        while time.monotonic() < deadline:
            # Empty or "offline" until the container's manager is up.
            state = self.sh("systemctl is-system-running 2>/dev/null",
                            check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(0.5)
        else:
            fail(f"container did not boot ({state!r}): {self.tail()}")
        if state == "degraded":
            print("degraded boot: " + self.sh(
                "systemctl --failed --no-legend --plain", check=False).stdout)

    def tail(self):
        self.log.flush()
        with open(self.log.name, errors="replace") as f:
            return f.read()[-3000:]

    def find_init(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                fail(f"systemd-nspawn exited {self.proc.returncode}: "
                     f"{self.tail()}")
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    with open(f"/proc/{pid}/status") as f:
                        st = f.read()
                except OSError:
                    continue
                ppid = re.search(r"^PPid:\s+(\d+)", st, re.M)
                nspid = re.search(r"^NSpid:\s+(.*)$", st, re.M)
                if (ppid and int(ppid.group(1)) == self.proc.pid and nspid
                        and nspid.group(1).split()[-1] == "1"):
                    return int(pid)
            time.sleep(0.1)
        fail(f"no init process in the container: {self.tail()}")

    def sh(self, script, check=True, timeout=60):
        return run(["nsenter", "-t", self.pid, "-m", "-u", "-i", "-n", "-p",
                    "-r", "-w", "/bin/sh", "-c", script],
                   check=check, timeout=timeout)

    def prop(self, unit, name):
        return self.sh(f"systemctl show -P {name} {unit}").stdout.strip()

    def stop(self):
        """Power the container off; nspawn's own SIGTERM handling halts it
        too, a second SIGTERM ends it at once."""
        if self.proc.poll() is None:
            if self.pid is not None:
                self.sh("systemctl poweroff", check=False)
            else:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(10)
        self.log.close()


def chrony_sources(c):
    """chronyc -c sources inside the container: name -> state, reach,
    measured offset (s)."""
    out = {}
    r = c.sh("chronyc -n -c sources", check=False)
    for line in r.stdout.splitlines():
        f = line.split(",")
        if len(f) >= 10:
            out[f[2]] = {"state": f[1], "reach": int(f[5], 8),
                         "measured": float(f[8])}
    return out


def refclock_lines(c, refid):
    r = c.sh(f"grep -c ' {refid} ' /var/log/chrony/refclocks.log || true")
    return int(r.stdout.strip() or 0)


def wait_samples(c, timeout, what):
    """PPS samples from gpsppsd reach chronyd: new raw PPS lines in
    chronyd's refclocks.log, and the PPS refclock's reach in chronyc."""
    n0 = refclock_lines(c, "PPS")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = chrony_sources(c)
        n = refclock_lines(c, "PPS")
        if n > n0 + 3 and s.get("PPS", {}).get("reach", 0) > 0:
            return n - n0
        time.sleep(1)
    fail(f"{what}: no PPS samples reached chronyd in {timeout} s "
         f"(sources {chrony_sources(c)}):\n"
         + c.sh("ls -l /run/gpspps; journalctl -b -n 30 -u gpsppsd "
                "-u chrony --no-pager", check=False).stdout)


def no_samples(c, seconds):
    n0 = refclock_lines(c, "PPS")
    time.sleep(seconds)
    return refclock_lines(c, "PPS") - n0


def start_chrony(c):
    c.sh("systemctl start chrony.service")
    if c.prop("chrony.service", "ActiveState") != "active":
        fail(f"chrony.service did not start: "
             f"{c.sh('journalctl -b -u chrony --no-pager', check=False).stdout}")


def proc_user(c, pid):
    return c.sh(f"stat -c %U /proc/{pid}").stdout.strip()


def check_gpsppsd_process(c, unit="gpsppsd.service"):
    pid = c.prop(unit, "MainPID")
    st = c.sh(f"cat /proc/{pid}/status").stdout
    fields = dict(re.findall(r"^(\w+):\s+(.*)$", st, re.M))
    user = proc_user(c, pid)
    if user != "gpspps" or int(fields["CapEff"], 16) != 0 \
            or fields["NoNewPrivs"] != "1" or fields["Seccomp"] != "2":
        fail(f"gpsppsd runs as {user} with CapEff {fields['CapEff']}, "
             f"NoNewPrivs {fields['NoNewPrivs']}, Seccomp {fields['Seccomp']}")
    return pid


def security_figures(c):
    figures = {}
    for unit in ("gpsppsd.service", "gpspps-calibrate.service",
                 "gpspps-metrics.service", "chrony.service"):
        r = c.sh(f"systemd-analyze security --no-pager {unit}", check=False)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)",
                      r.stdout)
        if not m:
            fail(f"systemd-analyze security {unit}: {r.stdout[-500:]}")
        figures[unit] = (float(m.group(1)), m.group(2))
    for unit, bound in MAX_EXPOSURE.items():
        if figures[unit][0] > bound:
            fail(f"{unit} exposure {figures[unit][0]} over {bound}")
    print("systemd-analyze security: " + ", ".join(
        f"{u} {v[0]} {v[1]}" for u, v in figures.items()))


def apt(c, args):
    """apt inside the booted container, as an administrator runs it:
    maintainer scripts talk to the container's systemd."""
    return c.sh("env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "
                f"DEBIAN_FRONTEND=noninteractive apt-get -q -y {args} "
                "</dev/null 2>&1", timeout=300)


def remove_and_reinstall_live(c):
    """Removal and installation with systemd running: postrm takes the
    drop-in away and restarts chronyd, which then runs without it; postinst
    starts gpsppsd and restarts chronyd, and samples flow again."""
    # The root forbids service starts from maintainer scripts (policy-rc.d)
    # for the chroot tests; here systemd runs and chronyd has -x.
    c.sh("rm -f /usr/sbin/policy-rc.d")
    chrony_pid = c.prop("chrony.service", "MainPID")
    apt(c, "remove gpspps")
    if c.prop("chrony.service", "ActiveState") != "active" or \
            c.prop("chrony.service", "MainPID") == chrony_pid:
        fail("chronyd was not restarted (or did not survive) on removal: "
             + c.sh("journalctl -b -u chrony -n 20 --no-pager",
                    check=False).stdout)
    s = chrony_sources(c)
    if "PPS" in s or "NMEA" in s:
        fail(f"chronyd still has gpspps's refclocks after removal: {s}")
    if c.prop("gpsppsd.service", "ActiveState") == "active":
        fail("gpsppsd still running after removal")
    chrony_pid = c.prop("chrony.service", "MainPID")
    apt(c, "--no-install-recommends install /root/gpspps.deb")
    if c.prop("gpsppsd.service", "ActiveState") != "active":
        fail("postinst did not start gpsppsd.service")
    if c.prop("chrony.service", "MainPID") == chrony_pid:
        fail("postinst did not restart chronyd")
    n = wait_samples(c, 60, "after reinstalling with systemd running")
    print(f"apt remove with systemd running: chronyd restarted without the "
          f"refclocks; apt install: gpsppsd started, chronyd restarted, "
          f"{n} PPS samples")


def nmea_offset_configured(c):
    m = re.search(r"refid NMEA .* offset ([-\d.]+) ",
                  c.sh("cat /etc/chrony/conf.d/gpspps.conf").stdout)
    return float(m.group(1)) if m else None


def calibrate_service(c):
    """The one-shot calibration as packaged, in its sandbox: it reads
    chrony's configuration, rewrites the drop-in and restarts chronyd,
    after which the NMEA refclock's offset is near zero.  Only the input
    is changed for the test: chronyd's refclocks.log (a minute of raw
    samples) instead of hours of chronyc snapshots."""
    c.sh("mkdir -p /run/systemd/system/gpspps-calibrate.service.d && printf "
         "'[Service]\nExecStart=\nExecStart=/usr/bin/gpspps-calibrate "
         "--write --quiet --from-log /var/log/chrony/refclocks.log\n' "
         ">/run/systemd/system/gpspps-calibrate.service.d/test.conf && "
         "systemctl daemon-reload")
    # Enough raw NMEA samples since the last restart.
    deadline = time.monotonic() + 60
    while refclock_lines(c, "NMEA") < 40 and time.monotonic() < deadline:
        time.sleep(1)
    chrony_pid = c.prop("chrony.service", "MainPID")
    r = c.sh("systemctl start gpspps-calibrate.service", check=False,
             timeout=120)
    log = c.sh("journalctl -b -u gpspps-calibrate --no-pager -o cat",
               check=False).stdout
    if r.returncode != 0 or \
            c.prop("gpspps-calibrate.service", "Result") != "success":
        fail(f"gpspps-calibrate.service failed:\n{log[-3000:]}")
    offset = nmea_offset_configured(c)
    # gpspps-sim sends each burst 0.35 s after the second.
    if offset is None or abs(offset - 0.35) > 0.01:
        fail(f"calibrated offset {offset}, expected 0.35 +- 0.01:\n{log}")
    if c.prop("chrony.service", "MainPID") == chrony_pid:
        fail("gpspps-calibrate.service did not restart chronyd")
    t1 = time.monotonic()
    while time.monotonic() < t1 + 60:
        n = chrony_sources(c).get("NMEA")
        if n and n["reach"] > 0:
            break
        time.sleep(1)
    n = chrony_sources(c).get("NMEA")
    if n is None or n["reach"] == 0 or abs(n["measured"]) > 0.01:
        fail(f"after calibration chronyc shows NMEA {n}, expected within "
             "10 ms of zero")
    print(f"gpspps-calibrate.service: offset {offset:.6f} written, chronyd "
          f"restarted, NMEA now {n['measured'] * 1e3:+.3f} ms in chronyc")


def status_socket_access(c):
    """gpsppsd's status socket: srw-rw---- gpspps:gpspps plus the ACL entry
    group:adm:rw- that gpspps-status-acl adds; a user in adm runs
    gpsppsctl status without root (OK: PPS flows) but may not write
    chronyd's sockets; a user in neither group is refused with the fix."""
    st = c.sh("ls -l /run/gpspps/status.sock").stdout.split()
    if st[0] != "srw-rw----+" or st[2:4] != ["gpspps", "gpspps"]:
        fail(f"status socket {st}, expected srw-rw----+ (an ACL) "
             "gpspps gpspps")
    c.sh("useradd -M -G adm opsadm && useradd -M outsider")
    r = c.sh("runuser -u opsadm -- gpsppsctl status", check=False)
    first = (r.stdout.splitlines() or [""])[0]
    if r.returncode != 0 or not first.startswith("OK: PPS"):
        fail(f"gpsppsctl status as a member of adm: exit {r.returncode}, "
             f"{r.stdout}{r.stderr}")
    r = c.sh("runuser -u opsadm -- test -w /run/gpspps/pps.sock",
             check=False)
    if r.returncode == 0:
        fail("a member of adm may write chronyd's PPS socket")
    r = c.sh("runuser -u outsider -- gpsppsctl status", check=False)
    if r.returncode != 2 or "permission denied: join group adm" not in \
            r.stderr:
        fail(f"gpsppsctl status as an outsider: exit {r.returncode}, "
             f"{r.stderr}")
    print(f"status socket {' '.join(st[:4])}; as a member of adm: "
          f"{first!r}; an outsider: {r.stderr.strip()!r}")


def metrics_timer(c):
    """gpspps-metrics.timer: enabled, inactive while node_exporter's
    directory is missing; started once it exists, it writes gpspps.prom
    (mode 0644, nothing else in the directory) that promtool accepts."""
    if c.sh("systemctl is-enabled gpspps-metrics.timer",
            check=False).stdout.strip() != "enabled" or \
            c.prop("gpspps-metrics.timer", "ActiveState") != "inactive":
        fail("gpspps-metrics.timer: not enabled, or active without "
             "/var/lib/prometheus/node-exporter")
    d = "/var/lib/prometheus/node-exporter"
    c.sh(f"mkdir -p {d} && systemctl start gpspps-metrics.timer")
    prom = c.root.p(f"{d}/gpspps.prom")
    deadline = time.monotonic() + 40
    while not os.path.exists(prom) and time.monotonic() < deadline:
        time.sleep(0.5)
    if not os.path.exists(prom):
        fail("gpspps-metrics.timer wrote no gpspps.prom in 40 s: " + c.sh(
            "journalctl -b -u gpspps-metrics --no-pager", check=False).stdout)
    with open(prom) as f:
        text = f.read()
    mode = c.sh(f"stat -c %a {d}/gpspps.prom").stdout.strip()
    names = os.listdir(c.root.p(d))
    if "\ngpspps_up 1\n" not in text or mode != "644" or \
            names != ["gpspps.prom"] or \
            c.prop("gpspps-metrics.service", "Result") != "success":
        fail(f"gpspps.prom: mode {mode}, directory {names}, service "
             f"{c.prop('gpspps-metrics.service', 'Result')}:\n{text[:500]}")
    if shutil.which("promtool"):
        r = run(["promtool", "check", "metrics"], check=False, input=text)
        if r.returncode != 0:
            fail(f"promtool check metrics on gpspps.prom: {r.stdout}"
                 f"{r.stderr}")
    sent = re.search(r'gpspps_chronyd_sent_total\{socket="pps"\} (\d+)',
                     text)
    print(f"gpspps-metrics.timer: gpspps.prom mode 644, promtool "
          f"{'accepts it' if shutil.which('promtool') else 'absent'}, "
          f"{sent.group(1) if sent else '?'} PPS samples sent")


def prepare_chrony_and_pty(root, unit):
    """chronyd with -x in the container, and unit (gpsppsd's) allowed the
    simulated receiver's pty."""
    with open(root.p("/etc/default/chrony"), "w") as f:
        # -x: chronyd never touches the clock (and the container has no
        # CAP_SYS_TIME anyway); -F 1 as Debian ships it.
        f.write('DAEMON_OPTS="-F 1 -x"\n')
    d = root.p("/etc/systemd/system/chrony.service.d")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "test.conf"), "w") as f:
        # The container has no CAP_SYS_TIME; with -x chronyd needs none.
        f.write("[Unit]\nConditionCapability=\n")
    d = root.p(f"/etc/systemd/system/{unit}.d")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "test.conf"), "w") as f:
        # The simulated receiver is a pty.
        f.write("[Service]\nDeviceAllow=char-pts rw\n")


def prepare_root_for_boot(root):
    """Test-only settings, each an administrator's kind of change."""
    prepare_chrony_and_pty(root, "gpsppsd.service")
    with open(root.p("/etc/systemd/system/gpspps-sim.service"), "w") as f:
        f.write(SIM_UNIT)
    os.symlink("/etc/systemd/system/gpspps-sim.service",
               root.p("/etc/systemd/system/multi-user.target.wants/"
                      "gpspps-sim.service"))
    with open(root.p("/etc/gpspps/gpsppsd.conf"), "w") as f:
        f.write(GPSPPSD_TEST_CONF)
    # chronyd is started by the test, after gpsppsd: start order must not
    # matter.
    root.sh("systemctl disable chrony.service 2>&1")


def scenario_systemd():
    need_tools("zstd", "systemd-nspawn", "nsenter")
    deb = target_deb()
    ensure_base()
    root = Root("systemd")
    apt_install(root, root.add_deb(deb))
    shutil.copy(deb, root.p("/root/gpspps.deb"))
    prepare_root_for_boot(root)
    t0 = time.monotonic()
    c = Container(root)
    try:
        print(f"booted in {time.monotonic() - t0:.1f} s")
        r = c.sh("systemd-analyze verify --man=no gpsppsd.service "
                 "gpspps-calibrate.service gpspps-metrics.service "
                 "gpspps-metrics.timer chrony.service 2>&1", check=False)
        if r.returncode != 0 or r.stdout.strip():
            fail(f"systemd-analyze verify:\n{r.stdout}")
        print("systemd-analyze verify: clean")
        security_figures(c)

        # gpsppsd first, chronyd not running: it starts and stays up.
        if c.prop("chrony.service", "ActiveState") == "active":
            fail("chrony.service is running before the test starts it")
        if c.prop("gpsppsd.service", "ActiveState") != "active":
            fail("gpsppsd.service not active after boot: "
                 + c.sh("journalctl -b -u gpsppsd --no-pager",
                        check=False).stdout)
        pid0 = check_gpsppsd_process(c)
        time.sleep(5)
        if c.prop("gpsppsd.service", "MainPID") != pid0:
            fail("gpsppsd restarted while chronyd was absent")
        print(f"gpsppsd up without chronyd for 5 s, as gpspps, CapEff 0, "
              "NoNewPrivs, seccomp")

        start_chrony(c)
        sock = c.sh("stat -c '%A %U %G' /run/gpspps/pps.sock "
                    "/run/gpspps/nmea.sock").stdout.split("\n")
        for line in filter(None, sock):
            if line.strip() != "srwxrwx--- root gpspps":
                fail(f"socket is {line}, expected srwxrwx--- root gpspps")
        user = proc_user(c, c.prop("chrony.service", "MainPID"))
        if user != "_chrony":
            fail(f"chronyd runs as {user}, expected _chrony")
        log = c.sh("journalctl -b -u chrony --no-pager -o cat",
                   check=False).stdout
        if TARGET["leap"][1] not in log or "failed leap second" in log:
            fail(f"chrony.service did not load {TARGET['leap'][0]!r}:\n{log}")
        print(f"chrony.service: {TARGET['leap'][1]!r}")
        t1 = time.monotonic()
        n = wait_samples(c, 60, "chronyd started after gpsppsd")
        print(f"sockets srwxrwx--- root:gpspps, chronyd as _chrony: "
              f"{n} PPS samples in {time.monotonic() - t1:.0f} s")

        status_socket_access(c)
        metrics_timer(c)

        c.sh("systemctl restart chrony.service")
        t1 = time.monotonic()
        n = wait_samples(c, 60, "after chronyd restarted")
        print(f"chronyd restarted: {n} PPS samples in "
              f"{time.monotonic() - t1:.0f} s")

        # Negative control: chronyd's default umask, the sockets come out
        # srwxr-xr-x, and gpsppsd (user gpspps) is refused.
        c.sh("mkdir -p /run/systemd/system/chrony.service.d && printf "
             "'[Service]\\nUMask=0022\\n' >/run/systemd/system/"
             "chrony.service.d/zz-umask.conf && systemctl daemon-reload && "
             "systemctl restart chrony.service")
        mode = c.sh("stat -c %A /run/gpspps/pps.sock").stdout.strip()
        n = no_samples(c, 20)
        reach = chrony_sources(c).get("PPS", {}).get("reach")
        if n != 0 or reach != 0 or mode != "srwxr-xr-x":
            fail(f"with umask 0022 the socket is {mode}, {n} PPS samples "
                 f"arrived, reach {reach}: the test cannot tell the design "
                 "works")
        said = c.sh("journalctl -b -u gpsppsd -n 1 --no-pager -o cat",
                    check=False).stdout.strip()
        print(f"control, chronyd umask 0022: socket {mode}, no sample in "
              f"20 s, reach 0; gpsppsd: {said}")
        c.sh("rm /run/systemd/system/chrony.service.d/zz-umask.conf && "
             "systemctl daemon-reload && systemctl restart chrony.service")
        wait_samples(c, 60, "after the control")

        calibrate_service(c)

        if c.prop("gpsppsd.service", "MainPID") != pid0 or \
                c.prop("gpsppsd.service", "NRestarts") != "0":
            fail("gpsppsd restarted during the chronyd restarts")
        print("gpsppsd kept running through 4 chronyd restarts "
              "(NRestarts 0)")

        remove_and_reinstall_live(c)
        print(f"total {time.monotonic() - t0:.0f} s")
    finally:
        c.stop()
    root.remove()


# --- several receivers: gpsppsd@.service ----------------------------------------

# Each simulated receiver has its own NMEA delay, so that chronyd's NMA0
# and NMA1 show which receiver feeds which refclock.
MULTI_DELAYS = {"gps0": 0.35, "gps1": 0.25}
MULTI_REFIDS = ("PPS0", "NMA0", "PPS1", "NMA1")

SIM_UNIT_MULTI = """[Unit]
Description=simulated GPS receiver {name} on a pty (test only)
[Service]
User=gpspps
RuntimeDirectory=gpspps-sim-{name}
ExecStart=/usr/bin/gpspps-sim --pty /run/gpspps-sim-{name}/tty --baud 9600 \
--delay {delay}
[Install]
WantedBy=multi-user.target
"""

# gps1's file names the one-receiver PPS socket: the template's
# instance-named sockets must win over it.
INSTANCE_TEST_CONF = """# test: simulated receiver {name}
device /run/gpspps-sim-{name}/tty
baud 9600
pps sim:jitter=2us,seed={seed}
{extra}"""


def prepare_root_multi(root):
    """What doc/install.md's "Several receivers" says to do, on the
    simulated receivers: a file per receiver, the two-receiver chrony
    drop-in, gpsppsd.service disabled and two instances enabled."""
    prepare_chrony_and_pty(root, "gpsppsd@.service")
    for i, (name, delay) in enumerate(MULTI_DELAYS.items()):
        unit = f"gpspps-sim-{name}.service"
        with open(root.p(f"/etc/systemd/system/{unit}"), "w") as f:
            f.write(SIM_UNIT_MULTI.format(name=name, delay=delay))
        os.symlink(f"/etc/systemd/system/{unit}",
                   root.p(f"/etc/systemd/system/multi-user.target.wants/"
                          f"{unit}"))
        extra = "pps-socket /run/gpspps/pps.sock\n" if i == 1 else ""
        with open(root.p(f"/etc/gpspps/{name}.conf"), "w") as f:
            f.write(INSTANCE_TEST_CONF.format(name=name, seed=3 + i,
                                              extra=extra))
    root.sh("cp /usr/share/doc/gpspps/examples/two-receivers.conf "
            "/etc/chrony/conf.d/gpspps.conf && "
            "systemctl disable gpsppsd.service 2>&1 && "
            "systemctl enable gpsppsd@gps0.service gpsppsd@gps1.service 2>&1")


def multi_counts(c):
    """refclocks.log lines per refid."""
    return {r: refclock_lines(c, r) for r in MULTI_REFIDS}


def multi_journal(c):
    return c.sh("ls -l /run/gpspps; journalctl -b -n 40 -u 'gpsppsd@*' "
                "-u chrony --no-pager", check=False).stdout


def wait_all_four(c, timeout):
    """All four refclocks get samples: new lines in refclocks.log and reach
    in chronyc sources; returns the sources."""
    n0 = multi_counts(c)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = chrony_sources(c)
        n = multi_counts(c)
        if all(n[r] > n0[r] + 3 and s.get(r, {}).get("reach", 0) > 0
               for r in MULTI_REFIDS):
            return s
        time.sleep(1)
    fail(f"not all of {MULTI_REFIDS} got samples in {timeout} s: "
         f"sources {chrony_sources(c)}, refclocks.log lines "
         f"{multi_counts(c)} (from {n0}):\n{multi_journal(c)}")


def check_multi_boot(c):
    """After boot: chronyd, both instances and no gpsppsd.service; the
    instance sockets are chronyd's, group gpspps, in /run/gpspps."""
    for unit in ("chrony.service", "gpsppsd@gps0.service",
                 "gpsppsd@gps1.service"):
        if c.prop(unit, "ActiveState") != "active":
            fail(f"{unit} not active after boot:\n{multi_journal(c)}")
    if c.prop("gpsppsd.service", "ActiveState") == "active":
        fail("gpsppsd.service runs although disabled")
    socks = [f"/run/gpspps/{n}.{k}.sock" for n in MULTI_DELAYS
             for k in ("pps", "nmea")]
    st = c.sh("stat -c '%n %A %U %G' " + " ".join(socks)).stdout
    for line in st.splitlines():
        if not line.endswith(" srwxrwx--- root gpspps"):
            fail(f"instance socket {line}, expected srwxrwx--- root gpspps")
    r = c.sh("systemd-analyze verify --man=no gpsppsd@gps0.service "
             "gpsppsd@gps1.service 2>&1", check=False)
    if r.returncode != 0 or r.stdout.strip():
        fail(f"systemd-analyze verify gpsppsd@gps0.service:\n{r.stdout}")
    r = c.sh("systemd-analyze security --no-pager gpsppsd@gps0.service",
             check=False)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", r.stdout)
    bound = MAX_EXPOSURE["gpsppsd.service"]
    if not m or float(m.group(1)) > bound:
        fail(f"gpsppsd@gps0.service exposure over gpsppsd.service's "
             f"{bound}: {r.stdout[-500:]}")
    for unit in ("gpsppsd@gps0.service", "gpsppsd@gps1.service"):
        check_gpsppsd_process(c, unit)
    print(f"booted: chronyd and gpsppsd@gps0, @gps1 as gpspps (CapEff 0, "
          f"NoNewPrivs, seccomp), {len(socks)} sockets srwxrwx--- "
          f"root:gpspps; verify clean; gpsppsd@gps0.service exposure "
          f"{m.group(1)} {m.group(2)}")


def check_multi_wiring(c, s):
    """Each NMEA refclock shows its own receiver's delay (offset 0.0
    configured): the instance -> socket -> refid chain is right."""
    for n, (name, delay) in enumerate(MULTI_DELAYS.items()):
        got = s[f"NMA{n}"]["measured"]
        if abs(got - delay) > 0.01:
            fail(f"NMA{n} measures {got:+.4f} s, receiver {name} is "
                 f"{delay} s late: instances cross-wired? {s}")
    print("chronyc sources: " + ", ".join(
        f"{r} reach {s[r]['reach']:o} {s[r]['measured'] * 1e3:+.1f} ms"
        for r in MULTI_REFIDS))
    print(c.sh("chronyc -n sources", check=False).stdout)
    c.sh("useradd -M -G adm opsadm")
    for name in MULTI_DELAYS:
        check_instance_status(c, name)
        check_instance_acl(c, name)


def check_instance_status(c, name):
    """The instance answers on its own status socket, and says it sends to
    its own chronyd sockets."""
    sock = f"/run/gpspps/{name}.status.sock"
    r = c.sh(f"gpsppsctl --socket {sock} --json status", check=False)
    try:
        st = json.loads(r.stdout)
        pps = st["chronyd"]["pps"]
    except (ValueError, KeyError, TypeError):
        fail(f"gpsppsctl --socket {sock} status: exit {r.returncode}, "
             f"{r.stdout[-500:]}{r.stderr[-500:]}")
    if r.returncode != 0 or pps["path"] != f"/run/gpspps/{name}.pps.sock" \
            or not pps["sent"]:
        fail(f"{sock}: exit {r.returncode}, PPS path {pps['path']}, sent "
             f"{pps['sent']}")
    print(f"{sock}: PPS to {pps['path']}, {pps['sent']} sent")


def check_instance_acl(c, name):
    """The instance's status socket is as the single-receiver one:
    srw-rw---- gpspps:gpspps plus group adm's ACL entry, so that a member
    of adm runs gpsppsctl on it without root."""
    sock = f"/run/gpspps/{name}.status.sock"
    st = c.sh(f"ls -l {sock}").stdout.split()
    if st[0] != "srw-rw----+" or st[2:4] != ["gpspps", "gpspps"]:
        fail(f"{sock}: {st[:4]}, expected srw-rw----+ (group adm's ACL) "
             "gpspps gpspps, as /run/gpspps/status.sock")
    r = c.sh(f"runuser -u opsadm -- gpsppsctl --socket {sock} status",
             check=False)
    first = (r.stdout.splitlines() or [""])[0]
    if r.returncode != 0 or not first.startswith("OK: PPS"):
        fail(f"gpsppsctl --socket {sock} status as a member of adm: exit "
             f"{r.returncode}, {r.stdout}{r.stderr}")
    print(f"{sock}: {' '.join(st[:4])}; as a member of adm: {first!r}")


def check_multi_stop_one(c):
    """Stopping gpsppsd@gps1 leaves receiver 0's samples untouched."""
    pid0 = c.prop("gpsppsd@gps0.service", "MainPID")
    c.sh("systemctl stop gpsppsd@gps1.service")
    time.sleep(1)   # a sample sent just before the stop may still land
    n0 = multi_counts(c)
    t0 = time.monotonic()
    # Two whole polls (2^4 s) after the stop, and margin.
    time.sleep(40)
    n = multi_counts(c)
    dt = time.monotonic() - t0
    s = chrony_sources(c)
    grown = {r: n[r] - n0[r] for r in MULTI_REFIDS}
    # One sample a second each, on a loaded machine: at least 3/4 of them.
    for r in ("PPS0", "NMA0"):
        if grown[r] < 0.75 * dt:
            fail(f"{r} got {grown[r]} samples in {dt:.0f} s with "
                 f"gpsppsd@gps1 stopped, expected about {dt:.0f}:\n"
                 f"{multi_journal(c)}")
    if grown["PPS1"] or grown["NMA1"]:
        fail(f"gpsppsd@gps1 stopped, yet PPS1/NMA1 got {grown}")
    if s["PPS0"]["reach"] & 3 != 3 or s["PPS1"]["reach"] & 1:
        fail(f"after two polls: PPS0 reach {s['PPS0']['reach']:o} (the last "
             f"two polls should have samples), PPS1 {s['PPS1']['reach']:o} "
             "(the last should have none)")
    if c.prop("gpsppsd@gps0.service", "MainPID") != pid0 or \
            c.prop("gpsppsd@gps0.service", "NRestarts") != "0":
        fail("gpsppsd@gps0 restarted when gpsppsd@gps1 stopped")
    print(f"gpsppsd@gps1 stopped for {dt:.0f} s: PPS0 +{grown['PPS0']}, "
          f"NMA0 +{grown['NMA0']}, PPS1 +{grown['PPS1']}, NMA1 "
          f"+{grown['NMA1']} refclocks.log lines; reach PPS0 "
          f"{s['PPS0']['reach']:o}, PPS1 {s['PPS1']['reach']:o}; "
          "gpsppsd@gps0 never restarted")


def check_multi_restart_and_remove(c):
    c.sh("systemctl start gpsppsd@gps1.service")
    wait_all_four(c, 60)
    print("gpsppsd@gps1 started again: PPS1 and NMA1 get samples")
    # Its status socket is a new one: it gets the ACL entry again.
    check_instance_acl(c, "gps1")
    c.sh("rm -f /usr/sbin/policy-rc.d")
    apt(c, "remove gpspps")
    active = c.sh("systemctl list-units --no-legend --plain --state=active "
                  "'gpsppsd@*'", check=False).stdout.strip()
    if active:
        fail(f"instances still running after apt remove: {active}")
    s = chrony_sources(c)
    if any(r in s for r in MULTI_REFIDS) or \
            c.prop("chrony.service", "ActiveState") != "active":
        fail(f"chronyd after apt remove: {s}")
    print("apt remove: both instances stopped, chronyd runs without the "
          "four refclocks")


def scenario_multi():
    need_tools("zstd", "systemd-nspawn", "nsenter")
    deb = ensure_deb()
    ensure_base()
    root = Root("multi")
    apt_install(root, root.add_deb(deb))
    prepare_root_multi(root)
    t0 = time.monotonic()
    c = Container(root)
    try:
        print(f"booted in {time.monotonic() - t0:.1f} s")
        check_multi_boot(c)
        s = wait_all_four(c, 90)
        # The NMEA lines' measured offsets settle after a poll or two.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(
                abs(s[f"NMA{n}"]["measured"] - d) < 0.01
                for n, d in enumerate(MULTI_DELAYS.values())):
            time.sleep(2)
            s = chrony_sources(c)
        check_multi_wiring(c, s)
        check_multi_stop_one(c)
        check_multi_restart_and_remove(c)
        print(f"total {time.monotonic() - t0:.0f} s")
    finally:
        c.stop()
    root.remove()


def main():
    # meson's timeout sends SIGTERM: unwind, so that finally blocks power
    # the container off.
    signal.signal(signal.SIGTERM, lambda *a: sys.exit("SIGTERM"))
    global TARGET
    scenario = sys.argv[1] if len(sys.argv) > 1 else "build"
    # install-armhf, install-trixie, systemd-trixie: the scenario in that
    # root.
    if scenario.startswith(("install-", "systemd-")):
        scenario, name = scenario.split("-", 1)
        TARGET = TARGETS[name]
    # build-armhf, build-arm64: the cross-built .deb.
    if scenario.startswith("build-"):
        build_arch = scenario.split("-", 1)[1]
        scenario = "build"
    else:
        build_arch = HOST_ARCH
    if scenario == "build":
        scenario_build(build_arch)
    else:
        {"install": scenario_install, "systemd": scenario_systemd,
         "multi": scenario_multi}[scenario]()
    print("PASS")


if __name__ == "__main__":
    main()
