"""gpspps-calibrate --write on real chrony.conf shapes, crash safety and
refusals.

Each shape is a set of files in a private directory (Debian's and Ubuntu's
default chrony.conf with confdir and sourcedir, include, several refclocks,
tabs, comments, no final newline, CR LF).  The calibrator runs --from-file
on snapshots whose median is known, with --write, and then:
  - the one file holding the refclock changed in exactly one token (or
    gained " offset X" after the line's last word), every other byte and
    every other file identical; mode and owner kept; a .bak of the old file;
  - chronyd itself (chronyd -p, which follows include and confdir) reads
    the new offset for that refclock.
Crash safety: the write is killed (SIGKILL injected by strace) at every
system call of the process in turn; each time the file holds the old or
the new text, never anything else.  Refusals: a read-only file, a
directory the user cannot write, an unusable result (no data, too few
values, too wide an interval, a drift beyond --max-uncertainty), a
missing refclock; a drift within --max-uncertainty is written, loudly.
The packaged gpspps-calibrate.service's own options refuse a result short
of the +/- 1 ms doc/install.md promises.
"""

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (SRC, TestDir, fail, huber_estimate,  # noqa: E402
                            private_chronyd, prog)

CAL = prog("gpspps-calibrate")
STRACE = shutil.which("strace")

DEBIAN = """\
# Welcome to the chrony configuration file. See chrony.conf(5) for more
# information about usable directives.

# Include configuration files found in /etc/chrony/conf.d.
confdir {d}/conf.d

# Use Debian vendor zone.
pool 2.debian.pool.ntp.org iburst

# Use time sources from DHCP.
sourcedir {d}/chrony-dhcp

# Use NTP sources found in /etc/chrony/sources.d.
sourcedir {d}/sources.d

# This directive specify the location of the file containing ID/key pairs for
# NTP authentication.
keyfile /etc/chrony/chrony.keys

# This directive specify the file into which chronyd will store the rate
# information.
driftfile /var/lib/chrony/chrony.drift

# Save NTS keys and cookies.
ntsdumpdir /var/lib/chrony

# Uncomment the following line to turn logging on.
#log tracking measurements statistics

# Log files location.
logdir /var/log/chrony

# Stop bad estimates upsetting machine clock.
maxupdateskew 100.0

# This directive enables kernel synchronisation (every 11 minutes) of the
# real-time clock. Note that it can't be used along with the 'rtcfile' directive.
rtcsync

# Step the system clock instead of slewing it if the adjustment is larger than
# one second, but only in the first three clock updates.
makestep 1 3

# Get TAI-UTC offset and leap seconds from the system tz database.
# This directive must be commented out when using time sources serving
# leap-smeared time.
leapsectz right/UTC
"""

UBUNTU = """\
# Welcome to the chrony configuration file. See chrony.conf(5) for more
# information about usable directives.

# Include configuration files found in /etc/chrony/conf.d.
confdir {d}/conf.d

# This will use (up to):
# - 4 sources from ntp.ubuntu.com which some are ipv6 enabled
# - 2 sources from 2.ubuntu.pool.ntp.org which is ipv6 enabled as well
# - 1 source from [01].ubuntu.pool.ntp.org each (ipv4 only atm)
# This means by default, up to 6 dual-stack and up to 2 additional IPv4-only
# sources will be used.
pool ntp.ubuntu.com        iburst maxsources 4
pool 0.ubuntu.pool.ntp.org iburst maxsources 1
pool 1.ubuntu.pool.ntp.org iburst maxsources 1
pool 2.ubuntu.pool.ntp.org iburst maxsources 2

# Use time sources from DHCP.
sourcedir {d}/chrony-dhcp

# Use NTP sources found in /etc/chrony/sources.d.
sourcedir {d}/sources.d

# This directive specify the location of the file containing ID/key pairs for
# NTP authentication.
keyfile /etc/chrony/chrony.keys

# This directive specify the file into which chronyd will store the rate
# information.
driftfile /var/lib/chrony/chrony.drift

# Save NTS keys and cookies.
ntsdumpdir /var/lib/chrony

# Log files location.
logdir /var/log/chrony

# Stop bad estimates upsetting machine clock.
maxupdateskew 100.0

# This directive enables kernel synchronisation (every 11 minutes) of the
# real-time clock. Note that it can't be used along with the 'rtcfile' directive.
rtcsync

# Step the system clock instead of slewing it if the adjustment is larger than
# one second, but only in the first three clock updates.
makestep 1 3

# Get TAI-UTC offset and leap seconds from the system tz database.
# This directive must be commented out when using time sources serving
# leap-smeared time.
leapsectz right/UTC
"""

# What the gpspps package drops into conf.d.
GPSPPS_CONF = """\
# gpsppsd feeds these two sockets.
refclock SOCK /run/gpspps/pps.sock refid PPS poll 2 precision 1e-7 lock NMEA prefer
refclock SOCK /run/gpspps/nmea.sock refid NMEA poll 4 precision 1e-3 offset 0.250 delay 0.2 noselect
"""

# name -> (files, file expected to change, calibrator args, configured)
SHAPES = {
    "debian": ({
        "chrony.conf": DEBIAN,
        "conf.d/gpspps.conf": GPSPPS_CONF,
        "conf.d/README": "refclock SOCK /never.sock refid NMEA\n",
        "sources.d/local.sources": "server 192.0.2.1 iburst\n",
    }, "conf.d/gpspps.conf", [], 0.25),
    "ubuntu": ({
        "chrony.conf": UBUNTU,
        "conf.d/00-other.conf": "allow 192.0.2.0/24\n",
        "conf.d/gpspps.conf": GPSPPS_CONF.replace(" offset 0.250", ""),
        "chrony-dhcp/eth0.sources": "server 192.0.2.9 iburst\n",
    }, "conf.d/gpspps.conf", [], 0.0),
    "include": ({
        "chrony.conf": "pool pool.example iburst\n"
                       "include {d}/gps/*.conf\nmakestep 1 3\n",
        "gps/10-pps.conf": "refclock SOCK /run/gpspps/pps.sock refid PPS\n",
        "gps/20-nmea.conf": "refclock SOCK /run/gpspps/nmea.sock refid GPS "
                            "offset -0.1 noselect\n",
    }, "gps/20-nmea.conf", ["--refid", "GPS"], -0.1),
    "several": ({
        "chrony.conf":
            "#refclock SOCK /run/gpspps/nmea.sock refid NMEA offset 0.5\n"
            "refclock PHC /dev/ptp0 poll 0 dpoll -2 offset 0\n"
            "refclock SHM 0 refid SHM0 offset 0.7 delay 0.2\n"
            "refclock SOCK /run/gpspps/nmea.sock refid NMEA offset 0.3"
            " noselect\n"
            "refclock PPS /dev/pps0 lock NMEA refid PPS offset 0.0\n"
            "! offset 0.3 was set by hand\n",
    }, "chrony.conf", [], 0.3),
    "tabs-trailing": ({
        "chrony.conf": "server 192.0.2.1 iburst\n"
                       "refclock\tSOCK\t/run/gpspps/nmea.sock\trefid\tNMEA"
                       "\tnoselect \t \n"
                       "% trailing comment\n; another\n\n",
    }, "chrony.conf", [], 0.0),
    "no-final-newline": ({
        "chrony.conf": "makestep 1 3\n"
                       "refclock SOCK /run/gpspps/nmea.sock refid NMEA"
                       " offset 0.125",
    }, "chrony.conf", [], 0.125),
    "crlf": ({
        "chrony.conf": "# Windows-edited\r\nmakestep 1 3\r\n"
                       "refclock SOCK /run/gpspps/nmea.sock refid NMEA\r\n"
                       "refclock SOCK /run/gpspps/pps.sock refid PPS\r\n",
    }, "chrony.conf", [], 0.0),
    "default-refid": ({
        "chrony.conf": "refclock SOCK /run/gpspps/pps.sock\n"
                       "refclock SOCK /tmp/gps-nmea.sock offset 0.05\n",
    }, "chrony.conf", ["--socket", "/tmp/gps-nmea.sock"], 0.05),
}

MEASURED = [0.2 + 0.0001 * ((i * 37) % 21 - 10) for i in range(41)]


def snapshots(path, refid):
    with open(path, "w") as f:
        f.write("# chronyc -c sourcestats, one per minute\n")
        for i, v in enumerate(MEASURED):
            f.write(f"{1795769479 + 60 * i} {refid},64,30,1008,0.010,0.200,"
                    f"{v:.9f},0.004000000\n")
            f.write(f"{1795769479 + 60 * i} PPS,64,30,1008,0.0,0.0,"
                    f"0.000000001,0.000000010\n")


def make_shape(d, files):
    for rel, text in files.items():
        path = os.path.join(d, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", newline="") as f:
            f.write(text.replace("{d}", d))


def digest_tree(d):
    out = {}
    for root, _dirs, names in os.walk(d):
        for n in names:
            p = os.path.join(root, n)
            with open(p, "rb") as f:
                out[os.path.relpath(p, d)] = hashlib.sha256(f.read()).hexdigest()
    return out


def run_cal(args, user=None):
    cmd = [CAL] + args
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}",
               "--clear-groups"] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def check_one_token(old, new, value):
    """new differs from old only by the offset value of one line."""
    ol = old.splitlines(keepends=True)
    nl = new.splitlines(keepends=True)
    if len(ol) != len(nl):
        fail(f"line count changed: {len(ol)} -> {len(nl)}")
    changed = [i for i in range(len(ol)) if ol[i] != nl[i]]
    if len(changed) != 1:
        fail(f"{len(changed)} lines changed, expected 1")
    a, b = ol[changed[0]], nl[changed[0]]
    m = re.search(r"(?i)(\soffset\s+)(\S+)(?!.*\soffset\s)", a)
    if m:
        want = a[:m.start(2)] + value + a[m.end(2):]
    else:
        body = a.rstrip(" \t\r\n")
        want = body + " offset " + value + a[len(body):]
    if b != want:
        fail(f"edited line {b!r}, expected {want!r}")


def chronyd_offset(conf, refid_or_path):
    r = subprocess.run([private_chronyd(), "-p", "-f", conf], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        fail(f"chronyd -p rejects the edited configuration: {r.stderr}")
    for line in r.stdout.splitlines():
        w = line.split()
        refid = [w[i + 1] for i in range(len(w) - 1) if w[i] == "refid"]
        if w[:1] == ["refclock"] and (w[2] == refid_or_path or
                                      refid == [refid_or_path]):
            for i, word in enumerate(w[:-1]):
                if word.lower() == "offset":
                    return float(w[i + 1])
            return 0.0
    fail(f"chronyd -p shows no refclock {refid_or_path}:\n{r.stdout}")


def test_shape(name, files, target, extra, configured):
    with TestDir() as d:
        make_shape(d, files)
        tpath = os.path.join(d, target)
        os.chmod(tpath, 0o640)
        os.chown(tpath, 65534, 65534)
        with open(tpath, "rb") as f:
            old = f.read()
        snap = os.path.join(d, "snapshots.txt")
        refid = extra[1] if extra[:1] == ["--refid"] else (
            "SOC1" if name == "default-refid" else "NMEA")
        snapshots(snap, refid)
        before = digest_tree(d)
        r = run_cal(["--conf", os.path.join(d, "chrony.conf"), "--from-file",
                     snap, "--write"] + extra)
        if r.returncode != 0:
            fail(f"{name}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        expect = configured + huber_estimate(MEASURED)
        value = f"{expect:.6f}"
        with open(tpath, "rb") as f:
            new = f.read()
        check_one_token(old.decode(), new.decode(), value)
        with open(tpath + ".bak", "rb") as f:
            if f.read() != old:
                fail(f"{name}: backup differs from the old file")
        after = digest_tree(d)
        del after[target + ".bak"]
        for rel in before:
            if rel != target and before[rel] != after.get(rel):
                fail(f"{name}: {rel} changed")
        if set(after) != set(before):
            fail(f"{name}: files left behind: {set(after) - set(before)}")
        st = os.stat(tpath)
        if (st.st_mode & 0o7777, st.st_uid, st.st_gid) != (0o640, 65534, 65534):
            fail(f"{name}: mode/owner not kept: {oct(st.st_mode)} "
                 f"{st.st_uid}:{st.st_gid}")
        key = extra[1] if extra[:1] == ["--socket"] else refid
        got = chronyd_offset(os.path.join(d, "chrony.conf"), key)
        if abs(got - expect) > 1e-6:
            fail(f"{name}: chronyd reads offset {got}, expected {expect}")
        print(f"ok shape {name}: offset {value} in {target}")


def strace_counts(args, d):
    """Per-syscall counts of a full run (strace -c)."""
    out = os.path.join(d, "strace.count")
    subprocess.run([STRACE, "-c", "-U", "name,calls", "-o", out, CAL] + args,
                   capture_output=True, timeout=30)
    counts = {}
    with open(out) as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[1].isdigit() and w[0] != "total":
                counts[w[0]] = int(w[1])
    return counts


def test_crash():
    """Kill the process at each of its system calls in turn."""
    if STRACE is None:
        print("SKIP crash test: strace not installed")
        return 0
    files = SHAPES["several"][0]
    with TestDir() as d:
        make_shape(d, files)
        conf = os.path.join(d, "chrony.conf")
        with open(conf, "rb") as f:
            old = f.read()
        snap = os.path.join(d, "snap.txt")
        snapshots(snap, "NMEA")
        args = ["--conf", conf, "--from-file", snap, "--write", "--json"]
        counts = strace_counts(args, d)
        with open(conf, "rb") as f:
            new = f.read()
        if new == old or not counts:
            fail(f"the reference run did not write ({counts})")
        points = olds = news = 0
        for sc, n in sorted(counts.items()):
            for k in range(1, n + 1):
                with open(conf, "wb") as f:
                    f.write(old)
                for leftover in os.listdir(d):
                    if leftover.startswith(".chrony.conf") or \
                            leftover.endswith(".bak"):
                        os.unlink(os.path.join(d, leftover))
                r = subprocess.run(
                    [STRACE, "-o", "/dev/null", "-e", f"trace={sc}", "-e",
                     f"inject={sc}:signal=KILL:when={k}", CAL] + args,
                    capture_output=True, timeout=30)
                points += 1
                with open(conf, "rb") as f:
                    now = f.read()
                if now not in (old, new):
                    fail(f"killed at {sc} #{k}: the file is a mix "
                         f"({len(now)} bytes)")
                bak = conf + ".bak"
                if now == new and (not os.path.exists(bak) or
                                   open(bak, "rb").read() != old):
                    fail(f"killed at {sc} #{k}: new file without backup")
                if os.path.exists(bak) and open(bak, "rb").read() != old:
                    fail(f"killed at {sc} #{k}: torn backup")
                olds += now == old
                news += now == new
                if r.returncode == 0 and now != new:
                    fail(f"{sc} #{k}: exit 0 but the file is old")
        print(f"ok crash: killed at {points} system calls; old file left "
              f"{olds} times, new file {news} times, never a mix")
        if olds == 0 or news == 0:
            fail("the kill points did not straddle the rename")
    return points


def expect_refusal(name, d, args, code, words, user=None):
    before = digest_tree(d)
    r = run_cal(args, user)
    if r.returncode != code:
        fail(f"{name}: exit {r.returncode}, expected {code}\n{r.stdout}"
             f"\n{r.stderr}")
    text = r.stdout + r.stderr
    for w in words:
        if w not in text:
            fail(f"{name}: message lacks {w!r}:\n{text}")
    if digest_tree(d) != before:
        fail(f"{name}: files changed despite the refusal")
    print(f"ok refusal {name}: exit {code}")


def test_refusals():
    with TestDir() as d:
        os.chmod(d, 0o755)
        make_shape(d, SHAPES["several"][0])
        conf = os.path.join(d, "chrony.conf")
        snap = os.path.join(d, "snap.txt")
        snapshots(snap, "NMEA")
        base = ["--conf", conf, "--from-file", snap, "--write"]
        os.chmod(conf, 0o444)
        expect_refusal("read-only file", d, base, 5, ["read-only", conf])
        # a user who may write the file but not create files beside it
        os.chmod(conf, 0o644)
        os.chown(conf, 65534, 65534)
        os.chown(snap, 65534, 65534)
        expect_refusal("read-only directory", d, base, 5,
                       ["directory", "read-only"], user=65534)
        few = os.path.join(d, "few.txt")
        with open(few, "w") as f:
            f.write("NMEA,64,30,1008,0.0,0.0,0.2,0.004\n" * 3)
        expect_refusal("too few", d, ["--conf", conf, "--from-file", few,
                                      "--write"], 3, ["unusable"])
        wide = os.path.join(d, "wide.txt")
        with open(wide, "w") as f:
            for i in range(40):
                f.write(f"NMEA,64,30,1008,0.0,0.0,{0.2 + 0.01 * (i % 9)},"
                        "0.004\n")
        expect_refusal("uncertain", d, ["--conf", conf, "--from-file", wide,
                                        "--write", "--max-uncertainty",
                                        "1ms"], 3, ["half-width"])
        expect_refusal("no refclock", d, base + ["--refid", "XYZ"], 4,
                       ["no refclock", "NMEA"])
        # 12 good values: more than 5, fewer than the 20 a 95% interval
        # needs; "too few" is a reason not to write, not just a warning
        twelve = os.path.join(d, "twelve.txt")
        with open(twelve, "w") as f:
            for v in MEASURED[:12]:
                f.write(f"NMEA,64,30,1008,0.0,0.0,{v:.9f},0.004\n")
        expect_refusal("12 values", d, ["--conf", conf, "--from-file", twelve,
                                        "--write"], 3,
                       ["unusable", "too few", "12 values"])
        # a step of 3 ms for the last quarter: the estimate (+/- 0.65 ms)
        # is no longer the delay to within 1 ms
        drift = os.path.join(d, "drift.txt")
        with open(drift, "w") as f:
            for i in range(80):
                v = 0.2 + 0.0001 * ((i * 37) % 21 - 10) + \
                    (0.003 if i >= 60 else 0)
                f.write(f"NMEA,64,30,1008,0.0,0.0,{v:.9f},0.004\n")
        expect_refusal("drift", d, ["--conf", conf, "--from-file", drift,
                                    "--write", "--max-uncertainty", "1ms"], 3,
                       ["unusable", "drifted", "+0.0029", "--max-uncertainty"])
    test_drift_written_loudly()


def test_drift_written_loudly():
    """A drift within --max-uncertainty is written, with a warning on
    standard error (the journal) as well as in the report."""
    with TestDir() as d:
        make_shape(d, SHAPES["several"][0])
        conf = os.path.join(d, "chrony.conf")
        drift = os.path.join(d, "drift.txt")
        with open(drift, "w") as f:
            for i in range(80):
                v = 0.2 + 0.0001 * ((i * 37) % 21 - 10) + \
                    (0.003 if i >= 60 else 0)
                f.write(f"NMEA,64,30,1008,0.0,0.0,{v:.9f},0.004\n")
        r = run_cal(["--conf", conf, "--from-file", drift, "--write"])
        if r.returncode != 0 or "wrote offset" not in r.stdout:
            fail(f"drift of 3 ms under --max-uncertainty 50 ms: exit "
                 f"{r.returncode}\n{r.stdout}\n{r.stderr}")
        loud = [x for x in r.stderr.splitlines() if "drifted" in x]
        if len(loud) != 1 or "written" not in loud[0] or \
                "+0.0029" not in loud[0]:
            fail(f"no warning on stderr that a drifting delay was written:"
                 f"\n{r.stderr}")
        print(f"ok drift within --max-uncertainty: written, {loud[0]}")


def unit_exec_start():
    """The packaged unit's ExecStart, as a list of arguments."""
    path = os.path.join(SRC, "packaging", "systemd",
                        "gpspps-calibrate.service")
    with open(path) as f:
        lines = [x for x in f.read().splitlines()
                 if x.startswith("ExecStart=")]
    if len(lines) != 1:
        fail(f"{path}: {len(lines)} ExecStart= lines")
    args = shlex.split(lines[0][len("ExecStart="):])
    if args[0] != "/usr/bin/gpspps-calibrate":
        fail(f"{path}: ExecStart runs {args[0]}")
    return args[1:]


def test_service_promise():
    """doc/install.md: the service writes the offset once it is known to
    +/- 1 ms, or nothing.  The unit's own options, on snapshots too noisy
    for 1 ms (+/- 30 ms of noise, 100 values): nothing written, exit 3;
    the same snapshots are written with the program's default bound."""
    unit = unit_exec_start()
    with TestDir() as d:
        make_shape(d, SHAPES["several"][0])
        conf = os.path.join(d, "chrony.conf")
        snap = os.path.join(d, "noisy.txt")
        with open(snap, "w") as f:
            for i in range(100):
                v = 0.2 + ((i * 7919) % 101 - 50) / 50 * 0.03
                f.write(f"NMEA,64,30,1008,0.0,0.0,{v:.9f},0.004\n")
        args = unit + ["--conf", conf, "--from-file", snap]
        expect_refusal("packaged unit, +/- 1 ms not reached", d, args, 3,
                       ["unusable", "half-width", "--max-uncertainty "
                        "0.001000"])
        r = run_cal(["--conf", conf, "--from-file", snap, "--write"])
        if r.returncode != 0:
            fail(f"the noisy snapshots are unusable even at the default "
                 f"bound: exit {r.returncode}\n{r.stdout}")


def main():
    t0 = time.monotonic()
    for name, (files, target, extra, configured) in SHAPES.items():
        test_shape(name, files, target, extra, configured)
    test_refusals()
    test_service_promise()
    test_crash()
    print(f"write-back tests took {time.monotonic() - t0:.1f} s")
    print("PASS")


if __name__ == "__main__":
    main()
