#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The doctor matrix: real broken set-ups, each named by doctor's first
WARN or FAIL, and a healthy chain that passes every check.

Each case (argv[1]) builds a real chain: gpspps-sim on a pty, gpsppsd
(status socket in the test directory) and a private chronyd 4.x, breaks
one link, waits until the chain has settled, and runs
`gpsppsctl doctor` once, as a user would.  The check asserts the first
line that is not PASS or SKIP: its check name, level and the words that
name the cause, and doctor's exit status.  The lines are printed, so the
test log holds what doctor said for each case.

  healthy        every check PASS, exit 0
  chronyd-down   no chronyd                         -> chronyd FAIL
  no-pps-conf    chrony.conf without the PPS line   -> chrony-conf FAIL
  socket-path    gpsppsd sends to another path      -> chrony-conf FAIL
  socket-perms   gpsppsd as nobody, chronyd umask 022 -> sockets FAIL
  wrong-baud     simulator 38400, gpsppsd 9600      -> sentences FAIL, 38400
  down-baud      the same with gpsppsd stopped: doctor probes the port
                 read-only                          -> sentences FAIL, 38400
  no-fix         the receiver never has a fix       -> fix FAIL
  no-edges       --pps sim:miss=1                   -> pps-edges FAIL
  absent         no receiver on the port            -> port FAIL
  window         NMEA delay 0.62 s, window-max 0.5  -> pairing FAIL, --window-max
  lock           uncalibrated NMEA + `lock NMEA`    -> selection, gpspps-calibrate
  reach          chronyd's PPS socket replaced by another process's: sends
                 succeed, reach 0                   -> reach FAIL, sample size
"""

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (CHRONYC, Chronyd, Proc, TestDir, fail,  # noqa: E402
                            prog, skip, wait_path)


def refclocks(d, pps=True, nmea=True, pps_opts="", nmea_offset=None):
    out = []
    if pps:
        out.append(f"refclock SOCK {d}/pps.sock refid PPS poll 2 "
                   f"precision 1e-7 prefer {pps_opts}".rstrip())
    if nmea:
        off = "" if nmea_offset is None else f" offset {nmea_offset}"
        out.append(f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 "
                   f"precision 1e-3{off} noselect")
    return out


class Chain:
    """sim -> gpsppsd (-> chronyd, started by the case)."""

    def __init__(self, d):
        self.d = d
        self.procs = []
        self.status = os.path.join(d, "run", "status.sock")
        os.makedirs(os.path.dirname(self.status), exist_ok=True)

    def sim(self, *args, baud=9600):
        tty = os.path.join(self.d, "gps0")
        p = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", baud]
                 + list(args), os.path.join(self.d, "sim.log"))
        self.procs.append(p)
        if not wait_path(tty, 5):
            fail(f"gpspps-sim made no pty: {p.output()}")
        return tty

    def gpsppsd(self, device, *args, baud=9600, pps="sim:jitter=2us,seed=3",
                pps_sock=None, nmea_sock=None, user=None):
        cmd = [prog("gpsppsd"), "--config", "/dev/null", "--device", device,
               "--baud", str(baud), "--pps", pps,
               "--pps-socket", pps_sock or f"{self.d}/pps.sock",
               "--nmea-socket", nmea_sock or f"{self.d}/nmea.sock",
               "--status-socket", self.status] + list(args)
        if user is not None:
            pw = pwd.getpwnam(user)
            cmd = ["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                   "--clear-groups", "--"] + cmd
        p = Proc(cmd, os.path.join(self.d, "gpsppsd.log"))
        self.procs.append(p)
        if not wait_path(self.status, 5):
            fail(f"gpsppsd made no status socket: {p.output()}")
        return p

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def doctor(d, status_sock=None, *extra):
    """Run gpsppsctl doctor once: (exit status, lines)."""
    chronyc = f"{CHRONYC} -h {d}/chronyd.sock -n"
    cmd = [prog("gpsppsctl"), "doctor", "--socket",
           status_sock or os.path.join(d, "run", "status.sock"),
           "--conf", os.path.join(d, "chrony.conf"),
           "--chronyc", chronyc] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.stderr:
        print(r.stderr, end="")
    return r.returncode, r.stdout.splitlines()


def status(d, status_sock=None):
    r = subprocess.run([prog("gpsppsctl"), "status", "--json", "--socket",
                        status_sock or os.path.join(d, "run", "status.sock")],
                       capture_output=True, text=True, timeout=10)
    return json.loads(r.stdout) if r.returncode == 0 else None


def wait_uptime(d, seconds, status_sock=None):
    """Let gpsppsd run `seconds` (its own uptime)."""
    deadline = time.monotonic() + seconds + 15
    while time.monotonic() < deadline:
        st = status(d, status_sock)
        if st is not None and st["daemon"]["uptime_s"] >= seconds:
            return st
        time.sleep(0.5)
    fail(f"gpsppsd's status did not reach {seconds} s of uptime")


def wait_reach(c, refid, timeout=40):
    if c.wait_sources(lambda s: s.get(refid, {}).get("reach", 0) > 0,
                      timeout) is None:
        fail(f"chronyd's reach for {refid} stayed 0: {c.sources()}")


def expect(code, lines, check, level, words, exit_status):
    """The first line that is not PASS/SKIP is `level check` and has
    every one of `words`."""
    for line in lines:
        print(f"doctor: {line}")
    problems = [ln for ln in lines
                if not ln.startswith(("PASS", "SKIP"))]
    if not problems:
        fail(f"doctor found nothing wrong, expected {level} {check}")
    first = problems[0].split(None, 2)
    if first[0] != level or first[1] != check:
        fail(f"first problem is {first[0]} {first[1]}, expected "
             f"{level} {check}: {problems[0]}")
    for w in words:
        if w not in problems[0]:
            fail(f"the {check} line does not say {w!r}: {problems[0]}")
    if code != exit_status:
        fail(f"doctor exited {code}, expected {exit_status}")
    print(f"CASE LINE: {problems[0]}")


def broken(d, check, words, conf=None, sim_args=(), sim_baud=9600,
           device=None, wait=8, args=(), **daemon_kw):
    """The usual case: chronyd and the chain up, one thing broken; after
    `wait` s of gpsppsd, doctor's first problem is FAIL `check`."""
    ch = Chain(d)
    with Chronyd(d, conf or refclocks(d)):
        dev = device or ch.sim(*sim_args, baud=sim_baud)
        ch.gpsppsd(dev, *args, **daemon_kw)
        wait_uptime(d, wait)
        code, lines = doctor(d)
        ch.stop()
    expect(code, lines, check, "FAIL", words, 2)


def case_healthy(d):
    ch = Chain(d)
    with Chronyd(d, refclocks(d)) as c:
        ch.gpsppsd(ch.sim("--delay", "0.35", "--seed", "5"))
        if c.wait_sources(lambda s: s.get("PPS", {}).get("state") == "*",
                          60) is None:
            fail(f"PPS not selected: {c.sources()}")
        wait_reach(c, "NMEA")
        code, lines = doctor(d)
        jcode, jlines = doctor(d, None, "--json")
        ch.stop()
    for line in lines:
        print(f"doctor: {line}")
    bad = [ln for ln in lines if not ln.startswith("PASS")]
    if bad or len(lines) != 16 or code != 0:
        fail(f"healthy chain: exit {code}, not all PASS: {bad}")
    report = json.loads("\n".join(jlines))
    names = [ln.split()[1] for ln in lines]
    if (jcode != 0 or report["result"] != "pass" or report["exit"] != 0
            or [c["check"] for c in report["checks"]] != names
            or any(c["result"] != "pass" or c["fix"] is not None
                   for c in report["checks"])):
        fail(f"--json does not say what the text said: {report}")
    print(f"CASE LINE: all {len(lines)} checks PASS, exit 0")


def case_chronyd_down(d):
    ch = Chain(d)
    Chronyd(d, refclocks(d))   # writes chrony.conf, never started
    ch.gpsppsd(ch.sim())
    wait_uptime(d, 8)
    code, lines = doctor(d)
    ch.stop()
    expect(code, lines, "chronyd", "FAIL", ["not running"], 2)


def case_no_pps_conf(d):
    broken(d, "chrony-conf", [f"no SOCK refclock on {d}/pps.sock",
                              "refid PPS"], conf=refclocks(d, pps=False))


def case_socket_path(d):
    broken(d, "chrony-conf", [f"read {d}/pps.sock, not {d}/gpspps-pps.sock"],
           pps_sock=f"{d}/gpspps-pps.sock")


def case_socket_perms(d):
    """chronyd (umask 022) makes its sockets srwxr-xr-x root:root in a
    directory everyone may enter; gpsppsd runs as nobody.  chronyd's own
    directory (command socket) stays 0700, as chronyd demands."""
    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        skip("no user nobody")
    if os.geteuid() != 0:
        skip("needs root to run gpsppsd as nobody")
    pub = tempfile.mkdtemp(prefix="gpspps-doctor-pub-")
    try:
        os.chmod(pub, 0o755)
        run = os.path.join(pub, "run")
        os.mkdir(run)
        os.chown(run, nobody, -1)
        ch = Chain(d)
        ch.status = os.path.join(run, "status.sock")
        old = os.umask(0o022)
        try:
            c = Chronyd(d, [ln.replace(f"{d}/", f"{pub}/")
                            for ln in refclocks(d)]).start()
        finally:
            os.umask(old)
        try:
            tty = os.path.realpath(ch.sim())
            os.chmod(tty, 0o666)
            ch.gpsppsd(tty, user="nobody", pps_sock=f"{pub}/pps.sock",
                       nmea_sock=f"{pub}/nmea.sock")
            wait_uptime(d, 8, ch.status)
            code, lines = doctor(d, ch.status)
            ch.stop()
        finally:
            c.stop()
    finally:
        shutil.rmtree(pub, ignore_errors=True)
    expect(code, lines, "sockets", "FAIL",
           ["srwxr-xr-x root:root", "nobody may not write"], 2)


def case_wrong_baud(d):
    broken(d, "sentences", ["38400 baud"], sim_baud=38400, wait=14)


def case_down_baud(d):
    """gpsppsd not running: doctor reads its configuration and probes
    the port itself, read-only, at the other rates."""
    ch = Chain(d)
    tty = ch.sim(baud=38400)
    conf = os.path.join(d, "gpsppsd.conf")
    with open(conf, "w") as f:
        f.write(f"device {tty}\nbaud 9600\npps sim\n"
                f"pps-socket {d}/pps.sock\nnmea-socket {d}/nmea.sock\n")
    with Chronyd(d, refclocks(d)):
        code, lines = doctor(d, None, "--gpsppsd-conf", conf)
    ch.stop()
    expect(code, lines, "gpsppsd", "FAIL", ["does not answer"], 2)
    line = next((ln for ln in lines if ln.split()[1] == "sentences"), "")
    if not line.startswith("FAIL") or "sends at 38400 baud" not in line:
        fail(f"the port probe did not name 38400 baud: {line!r}")
    print(f"CASE LINE: {line}")


def case_no_fix(d):
    broken(d, "fix", ["no fix"], sim_args=["--fault", "fixloss=1"])


def case_no_edges(d):
    broken(d, "pps-edges", ["no PPS edge"], pps="sim:miss=1")


def case_absent(d):
    broken(d, "port", ["ttyUSB-gone does not exist"],
           device=os.path.join(d, "ttyUSB-gone"), wait=3)


def case_window(d):
    broken(d, "pairing", ["0.620 s is outside the window", "--window-max 0.6",
                          "--next-second"],
           sim_args=["--delay", "0.62"], args=["--window-max", "0.5"],
           wait=10)


def case_lock(d):
    ch = Chain(d)
    with Chronyd(d, refclocks(d, pps_opts="lock NMEA",
                              nmea_offset="0.0")) as c:
        ch.gpsppsd(ch.sim("--delay", "0.62"))
        wait_reach(c, "NMEA")
        wait_reach(c, "PPS")
        time.sleep(8)
        code, lines = doctor(d)
        ch.stop()
    # chronyd 4.3 still selects the PPS (gpsppsd's samples are whole
    # samples, not pulses that a lock would pair): a warning, exit 1.
    expect(code, lines, "selection", "WARN",
           ["lock NMEA", "0.4 s lock limit", "gpspps-calibrate"], 1)


def case_reach(d):
    ch = Chain(d)
    with Chronyd(d, refclocks(d)) as c:
        # Another process takes chronyd's path: gpsppsd's sends succeed,
        # chronyd never sees a sample (as with a sample of the wrong size).
        os.rename(f"{d}/pps.sock", f"{d}/pps.chronyd.sock")
        thief = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        thief.bind(f"{d}/pps.sock")
        sizes = set()

        def drain():
            # Read and drop, as chronyd does with a sample it rejects.
            while True:
                try:
                    n = len(thief.recv(4096))
                except OSError:
                    return
                if n == 0:   # shut down
                    return
                sizes.add(n)
        threading.Thread(target=drain, daemon=True).start()
        ch.gpsppsd(ch.sim())
        wait_reach(c, "NMEA")
        time.sleep(22)   # chronyd older than doctor's 20 s start-up grace
        code, lines = doctor(d)
        ch.stop()
        thief.shutdown(socket.SHUT_RDWR)
        thief.close()
    if len(sizes) != 1:
        fail(f"samples of sizes {sizes} reached the socket")
    expect(code, lines, "reach", "FAIL",
           ["succeed", "reach for PPS stays 0",
            "sample size or socket mismatch",
            f"sends {sizes.pop()}-byte samples"], 2)


CASES = {
    "healthy": case_healthy,
    "chronyd-down": case_chronyd_down,
    "no-pps-conf": case_no_pps_conf,
    "socket-path": case_socket_path,
    "socket-perms": case_socket_perms,
    "wrong-baud": case_wrong_baud,
    "down-baud": case_down_baud,
    "no-fix": case_no_fix,
    "no-edges": case_no_edges,
    "absent": case_absent,
    "window": case_window,
    "lock": case_lock,
    "reach": case_reach,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        fail(f"usage: doctor_matrix.py {'|'.join(CASES)}")
    with TestDir(prefix=f"gpspps-doctor-{sys.argv[1]}-") as d:
        CASES[sys.argv[1]](d)


if __name__ == "__main__":
    main()
