"""Test harness: a private, real chronyd and the gpspps programs.

Shared by the end-to-end, calibrator and packaging tests.  chronyd runs as
shared/notes/chrony.md describes: -x (never touches the system clock),
-d (foreground), -u root, a private directory (mode 0700) holding its
config, pid file, command socket, logs and the SOCK refclock sockets.

    with Chronyd(tmpdir, refclocks=[...]) as c:
        c.wait_sources(lambda s: ..., timeout=30)
        c.chronyc("sources")

Environment: GPSPPS_BUILD (meson build root) locates gpsppsd / gpspps-sim.
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ.get("GPSPPS_BUILD", os.path.join(
    os.path.dirname(__file__), "..", "..", "build"))
SRC = os.environ.get("GPSPPS_SRC", os.path.join(
    os.path.dirname(__file__), "..", ".."))
CHRONYD = shutil.which("chronyd") or "/usr/sbin/chronyd"
CHRONYC = shutil.which("chronyc") or "/usr/bin/chronyc"


_chronyd_copy = None
_chronyd_lock = threading.Lock()


def private_chronyd():
    """Path of a copy of chronyd to run in tests.

    Debian's and Ubuntu's chrony ship an enforced AppArmor profile attached
    to /usr/sbin/chronyd that lets it read only /etc/chrony and a few other
    places: run from there, a test chronyd could not read its private
    configuration.  The profile attaches by path, so a copy runs
    unconfined (machines without AppArmor, such as CI's, are unaffected).
    """
    global _chronyd_copy
    with _chronyd_lock:
        if _chronyd_copy is None or not os.path.exists(_chronyd_copy):
            d = tempfile.mkdtemp(prefix="gpspps-chronyd-")
            atexit.register(shutil.rmtree, d, True)
            path = os.path.join(d, "chronyd")
            # Complete before anyone can run it: threads may ask at once.
            shutil.copy2(CHRONYD, path + ".part")
            os.replace(path + ".part", path)
            _chronyd_copy = path
        return _chronyd_copy


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
    poll 2 precision 1e-7'); extra: more config lines.
    """

    def __init__(self, dirpath, refclocks=(), extra=(), log_name="chronyd.log"):
        self.dir = dirpath
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
        self.proc = subprocess.Popen(
            [private_chronyd(), "-x", "-d", "-u", "root", "-f", self.conf],
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
        cmd = [CHRONYC, "-h", self.sock, "-n"] + (["-c"] if csv else []) + list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        if check and r.returncode != 0:
            fail(f"{' '.join(cmd)}: {r.stderr.strip()}")
        return r.stdout

    def chronyc_ok(self, *args):
        cmd = [CHRONYC, "-h", self.sock, "-n", "-c"] + list(args)
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


def huber_estimate(values):
    """The calibrator's estimate as gpspps-calibrate(1) states it, written
    again from the man page: values beyond 5 robust sd (at least 5 us) of
    the median rejected, then the Huber M-estimate (K = 1.345, scale 1.4826
    MAD of the values left), or their median when that MAD is 0."""
    import statistics
    m0 = statistics.median(values)
    s0 = 1.482602 * statistics.median(abs(v - m0) for v in values)
    used = [v for v in values if abs(v - m0) <= 5.0 * max(s0, 1e-6)]
    m = statistics.median(used)
    s = 1.482602 * statistics.median(abs(v - m) for v in used)
    if s <= 0:
        return m
    for _ in range(100):
        w = [1.0 if abs(v - m) <= 1.345 * s else 1.345 * s / abs(v - m)
             for v in used]
        nxt = sum(wi * v for wi, v in zip(w, used)) / sum(w)
        if abs(nxt - m) <= 1e-9 * s:
            return nxt
        m = nxt
    return m
