# SPDX-License-Identifier: GPL-2.0-or-later
"""Test harness: a private, real chronyd and the gpspps programs.

Shared by the end-to-end, calibrator and packaging tests.  chronyd runs as
shared/notes/chrony.md describes: -x (never touches the system clock),
-d (foreground), -u root, a private directory (mode 0700) holding its
config, pid file, command socket, logs and the SOCK refclock sockets.

    with Chronyd(tmpdir, refclocks=[...]) as c:
        c.wait_sources(lambda s: ..., timeout=30)
        c.chronyc("sources")

Environment: GPSPPS_BUILD (meson build root) locates gpsppsd / gpspps-sim
and holds the unpacked chrony (BUILD/chrony, see chrony_dir()).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

BUILD = os.environ.get("GPSPPS_BUILD", os.path.join(
    os.path.dirname(__file__), "..", "..", "build"))
SRC = os.environ.get("GPSPPS_SRC", os.path.join(
    os.path.dirname(__file__), "..", ".."))
# chronyd and chronyc come from Debian's chrony package unpacked into the
# build directory (tests/lib/chrony-prefix.sh), never from the host's
# /usr/sbin and /usr/bin: the tests leave the host's time service alone and
# run the same on a machine without chrony installed.  GPSPPS_CHRONY_DIR
# names another unpacked tree.
CHRONY_DIR = os.environ.get("GPSPPS_CHRONY_DIR") or os.path.join(
    BUILD, "chrony")
_chrony_ready = False
_chrony_lock = threading.Lock()


def chrony_dir():
    """The unpacked chrony package, made on first use (cached in the build
    directory; concurrent tests wait for each other in the script)."""
    global _chrony_ready
    with _chrony_lock:
        if not _chrony_ready:
            script = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                  "chrony-prefix.sh")
            r = subprocess.run([script, CHRONY_DIR], capture_output=True,
                               text=True)
            if r.returncode != 0:
                fail(f"no private chronyd: {r.stderr.strip()}")
            if r.stdout.strip():
                print(r.stdout.strip())
            _chrony_ready = True
        return CHRONY_DIR


def private_chronyd():
    """Path of the chronyd to run in tests.

    Not /usr/sbin/chronyd: that one may be missing (the host need not have
    chrony installed), and Debian's and Ubuntu's chrony ship an enforced
    AppArmor profile attached to /usr/sbin/chronyd that lets it read only
    /etc/chrony and a few other places, so run from there a test chronyd
    could not read its private configuration.  The profile attaches by
    path: the unpacked copy runs unconfined.
    """
    return os.path.join(chrony_dir(), "usr", "sbin", "chronyd")


def private_chronyc():
    """Path of the chronyc that goes with private_chronyd()."""
    return os.path.join(chrony_dir(), "usr", "bin", "chronyc")


def __getattr__(name):
    # CHRONYD and CHRONYC, resolved (and chrony unpacked) on first use, so
    # that tests which never run chrony do not fetch it.
    if name == "CHRONYD":
        return private_chronyd()
    if name == "CHRONYC":
        return private_chronyc()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def prog(name):
    """Path of a built program (gpsppsd, gpspps-sim, gpspps-calibrate)."""
    for sub in ("src/gpsppsd", "src/gpspps-sim", "src/gpsppsctl", "calibrate"):
        p = os.path.join(BUILD, sub, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{name} not built under {BUILD}")


def skip(reason):
    """Exit with meson's skip status, saying why."""
    print(f"SKIP: {reason}")
    sys.exit(77)


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


# Checks that let a test go on after a failure, so that one run reports
# every broken thing: check() and failed() record, checks_failed() at the
# end says how many.
failures = []


def failed(msg):
    """Record a failure, printed as FAIL: msg."""
    failures.append(msg)
    print(f"FAIL: {msg}", flush=True)


def check(cond, msg):
    """failed(msg) unless cond; returns cond."""
    if not cond:
        failed(msg)
    return cond


def checks_failed():
    """At the end of a test: True, after printing how many, when a check
    failed."""
    if failures:
        print(f"FAIL: {len(failures)} check(s) failed")
    return bool(failures)


class TestDir:
    """A private 0700 directory, removed on exit unless GPSPPS_KEEP is set."""

    def __init__(self, prefix="gpspps-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o700)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        if os.environ.get("GPSPPS_KEEP"):
            print(f"kept test directory {self.path}")
        else:
            shutil.rmtree(self.path, ignore_errors=True)


class Chronyd:
    """A private chronyd 4.x run for real.

    refclocks: chrony.conf lines (e.g. 'refclock SOCK /x/pps.sock refid PPS
    poll 2 precision 1e-7'); extra: more config lines; command: the argv
    prefix that runs chronyd (default [private_chronyd()]; the cross
    suites run another architecture's chronyd under qemu-user).
    """

    def __init__(self, dirpath, refclocks=(), extra=(), log_name="chronyd.log",
                 command=None):
        self.dir = dirpath
        self.command = command
        self.conf = os.path.join(dirpath, "chrony.conf")
        self.sock = os.path.join(dirpath, "chronyd.sock")
        self.logfile = os.path.join(dirpath, log_name)
        self.proc = None
        lines = list(refclocks) + [
            f"pidfile {dirpath}/chronyd.pid",
            f"bindcmdaddress {self.sock}",
            "cmdport 0",
            "port 0",
            f"logdir {dirpath}",
            "log refclocks statistics tracking",
        ] + list(extra)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, wait=True):
        log = open(self.logfile, "a")
        cmd = list(self.command or [private_chronyd()])
        self.proc = subprocess.Popen(
            cmd + ["-x", "-d", "-u", "root", "-f", self.conf],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        if wait:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    fail(f"chronyd exited: {self.log_tail()}")
                if os.path.exists(self.sock) and self.chronyc_ok("tracking"):
                    return self
                time.sleep(0.1)
            fail(f"chronyd did not answer: {self.log_tail()}")
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def log_tail(self, n=20):
        try:
            with open(self.logfile) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def chronyc(self, *args, csv=True, check=True):
        cmd = ([private_chronyc(), "-h", self.sock, "-n"] +
               (["-c"] if csv else []) + list(args))
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        if check and r.returncode != 0:
            fail(f"{' '.join(cmd)}: {r.stderr.strip()}")
        return r.stdout

    def chronyc_ok(self, *args):
        cmd = [private_chronyc(), "-h", self.sock, "-n", "-c"] + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return r.returncode == 0

    def sources(self):
        """chronyc -c sources as a dict name -> dict of fields."""
        out = {}
        for line in self.chronyc("sources").splitlines():
            f = line.split(",")
            if len(f) < 10:
                continue
            out[f[2]] = {
                "mode": f[0], "state": f[1], "stratum": int(f[3]),
                "poll": int(f[4]), "reach": int(f[5], 8),
                "lastrx": int(f[6]) if f[6].lstrip("-").isdigit() else None,
                "offset": float(f[7]), "measured": float(f[8]),
                "error": float(f[9]),
            }
        return out

    def sourcestats(self):
        out = {}
        for line in self.chronyc("sourcestats").splitlines():
            f = line.split(",")
            if len(f) < 8:
                continue
            out[f[0]] = {"np": int(f[1]), "nr": int(f[2]), "span": int(f[3]),
                         "freq": float(f[4]), "skew": float(f[5]),
                         "offset": float(f[6]), "sd": float(f[7])}
        return out

    def wait_sources(self, pred, timeout, interval=0.5):
        """Poll sources() until pred(sources) is true; returns the last
        sources dict, or None on timeout."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = self.sources()
            if pred(last):
                return last
            time.sleep(interval)
        return None

    def refclock_lines(self, refid=None):
        """Parsed refclocks.log lines: dicts with time (str), refid, pps,
        raw, cooked, disp; filtered lines (dashes) are skipped."""
        path = os.path.join(self.dir, "refclocks.log")
        out = []
        try:
            with open(path) as f:
                lines = f.readlines()
        except OSError:
            return out
        for line in lines:
            f = line.split()
            if len(f) < 9 or f[0].startswith("=") or not f[0][0].isdigit():
                continue
            if f[4] == "-" or f[5] == "-":
                continue
            if refid and f[2] != refid:
                continue
            out.append({"date": f[0], "time": f[1], "refid": f[2],
                        "leap": f[4], "pps": f[5], "raw": float(f[6]),
                        "cooked": float(f[7]), "disp": float(f[8])})
        return out


class Proc:
    """A background program with its output in a file."""

    def __init__(self, args, logpath, env=None):
        self.args = [str(a) for a in args]
        self.logpath = logpath
        self.log = open(logpath, "a")
        self.proc = subprocess.Popen(self.args, stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=5):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def output(self):
        self.log.flush()
        with open(self.logpath, errors="replace") as f:
            return f.read()


def wait_path(path, timeout=5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            return True
        time.sleep(0.05)
    return False


NS = 1_000_000_000


def log_time_ns(line):
    """A refclocks.log line's date+time (UTC, microseconds) -> ns."""
    dt = datetime.strptime(f"{line['date']} {line['time']}",
                           "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * NS + dt.microsecond * 1000


def first_sample_after(c, refid, t0_ns):
    """Time (ns) of the first refclocks.log sample of refid at or after
    t0_ns, or None."""
    for line in c.refclock_lines(refid):
        t = log_time_ns(line)
        if t >= t0_ns:
            return t
    return None


def status_request(path, timeout=2):
    """One `status` request on gpsppsd's status socket at path: the
    decoded object."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(path)
        s.sendall(b"status\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def rss_kb(pid):
    """A process's resident set (VmRSS, kB); None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _geyer_tau(c):
    """Integrated autocorrelation time of a series, by Geyer's initial
    positive sequence (as calibrate/estimate.c)."""
    n = len(c)
    mean = sum(c) / n
    c = [x - mean for x in c]
    c0 = sum(x * x for x in c)
    if c0 <= 0 or n < 4:
        return 1.0

    def rho(k):
        return sum(c[i] * c[i + k] for i in range(n - k)) / c0

    total, j, maxlag = 0.0, 0, min(n // 2, 2000)
    while 2 * j + 1 <= maxlag:
        g = rho(2 * j) + rho(2 * j + 1)
        if g <= 0:
            break
        total += g
        j += 1
    return max(1.0, -1.0 + 2.0 * total)


def huber_estimate(values):
    """The calibrator's estimate as gpspps-calibrate(1) states it, written
    again from the man page: values beyond 5 robust sd (at least 5 us) of
    the median rejected; then the Huber M-estimate (K = 1.345, scale 1.4826
    MAD of the values left) when they hold at least 100 independent values
    (n / tau of the clipped residuals), else their median (always the case
    under 100 values, and when that MAD is 0).  Runs with a drift warning
    are not covered."""
    import statistics
    m0 = statistics.median(values)
    s0 = 1.482602 * statistics.median(abs(v - m0) for v in values)
    used = [v for v in values if abs(v - m0) <= 5.0 * max(s0, 1e-6)]
    med = m = statistics.median(used)
    s = 1.482602 * statistics.median(abs(v - m) for v in used)
    if s <= 0 or len(used) < 100:
        return med
    for _ in range(100):
        w = [1.0 if abs(v - m) <= 1.345 * s else 1.345 * s / abs(v - m)
             for v in used]
        nxt = sum(wi * v for wi, v in zip(w, used)) / sum(w)
        if abs(nxt - m) <= 1e-9 * s:
            m = nxt
            break
        m = nxt
    psi = [max(-1.345, min(1.345, (v - m) / s)) for v in used]
    return m if len(used) / _geyer_tau(psi) >= 100 else med
