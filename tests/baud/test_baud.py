#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsd --baud auto on a real pty, with gpspps-sim's baud emulation
(a reader at the wrong rate gets what a UART would give it: garbage).

Scenarios (argv[1]):
  rates    one gpsppsd on auto; the simulator at each rate in turn, on the
           same --pty symlink: gpsppsd settles on each (log and state
           file), and a real chronyd gets new PPS and NMEA samples after
           each settle.  Then gpsppsd is restarted: it tries the rate in
           its state directory first and settles at once.
  change   the receiver is reconfigured while running (--baud-from): the
           daemon probes again, settles on the new rate, chronyd gets no
           PPS sample from the seconds between the change and the settle
           and samples resume after it.
  garbage  random bytes on a pty, whatever the rate: two whole passes over
           every rate, no settle, one warning that no rate decodes.
  report   a fixed --baud 9600 with the receiver at 38400: the log names
           38400, the port goes back to 9600 (the simulator's log says
           which rate the reader had set), and the probe runs only once.
"""

import os
import random
import re
import sys
import termios
import threading
import time
import tty as ttymod

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail, prog,  # noqa: E402
                            status_request, wait_path)

NS = 1_000_000_000
# gpsppsd's probe order (baudprobe.c) without a state file.
RATES = [9600, 115200, 38400, 4800, 57600, 19200, 230400, 460800, 921600]
# A pass: each rate for the 2.2 s dwell.
PASS_S = len(RATES) * 2.2


def refclocks(d):
    return [
        f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 prefer",
        f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 precision 1e-3 noselect",
    ]


def gpsppsd(d, tty, baud, log, extra=()):
    os.makedirs(f"{d}/state", exist_ok=True)
    return Proc([prog("gpsppsd"), "--config", "/dev/null", "--device", tty,
                 "--baud", baud, "--state-directory", f"{d}/state",
                 "--pps", "sim:jitter=2us,seed=7",
                 "--pps-socket", f"{d}/pps.sock",
                 "--nmea-socket", f"{d}/nmea.sock",
                 "--status-socket", f"{d}/status.sock"] + list(extra),
                os.path.join(d, log))


def sim(d, tty, baud, extra=()):
    p = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", baud,
              "--log", f"{d}/sim-{baud}.jsonl"] + list(extra),
             os.path.join(d, f"sim-{baud}.log"))
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {p.output()}")
    return p


def text(proc):
    """What proc wrote so far (also after it stopped)."""
    with open(proc.logpath, errors="replace") as f:
        return f.read()


def wait_count(proc, pattern, count, timeout):
    """Wait until pattern (a regex) occurs count times in proc's output;
    returns the wall time (ns) it was seen, or fails."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(re.findall(pattern, text(proc))) >= count:
            return time.time_ns()
        if not proc.alive():
            break
        time.sleep(0.1)
    fail(f"{pattern!r} not seen {count} times in {timeout} s:\n"
         f"{text(proc)[-3000:]}")


def status(d):
    """The receiver object of gpsppsd's status socket."""
    return status_request(f"{d}/status.sock", timeout=5)["receiver"]


def check_status(d, baud, mode, detected):
    r = status(d)
    got = (r["baud"], r["baud_mode"], r["detected_baud"])
    if got != (baud, mode, detected):
        fail(f"status says baud, baud_mode, detected_baud = {got}, not "
             f"{(baud, mode, detected)}")


def state_rate(d):
    with open(f"{d}/state/baud") as f:
        return int(f.read())


def sample_times(c, refid):
    """Times (ns) of refid's samples in chronyd's refclocks.log."""
    from datetime import datetime, timezone
    out = []
    for ln in c.refclock_lines(refid):
        dt = datetime.strptime(f"{ln['date']} {ln['time']}",
                               "%Y-%m-%d %H:%M:%S.%f").replace(
                                   tzinfo=timezone.utc)
        out.append(int(dt.timestamp()) * NS + dt.microsecond * 1000)
    return out


def wait_samples(c, since_ns, n, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pps = [t for t in sample_times(c, "PPS") if t >= since_ns]
        nmea = [t for t in sample_times(c, "NMEA") if t >= since_ns]
        if len(pps) >= n and len(nmea) >= n:
            return
        time.sleep(0.5)
    fail(f"{what}: fewer than {n} PPS and NMEA samples reached chronyd "
         f"within {timeout} s")


# ---- scenarios ----

def scenario_rates(d):
    tty = f"{d}/gps0"
    with Chronyd(d, refclocks(d)) as c:
        daemon = None
        for i, r in enumerate(RATES):
            t0 = time.monotonic()
            s = sim(d, tty, r)
            if daemon is None:
                daemon = gpsppsd(d, tty, "auto", "gpsppsd.log")
            pat = rf"decodes at {r} baud"
            settled = wait_count(daemon, pat, 1, 60)
            took = time.monotonic() - t0
            if state_rate(d) != r:
                fail(f"state file says {state_rate(d)} after settling on {r}")
            wait_samples(c, settled, 2, 30, f"after settling on {r}")
            check_status(d, r, "auto", r)
            print(f"{r:>6} baud: settled in {took:4.1f} s, samples reach "
                  "chronyd")
            if i < len(RATES) - 1:
                s.stop()
        daemon.stop()
        # Restarted: the rate in the state directory is tried first.
        t0 = time.monotonic()
        daemon = gpsppsd(d, tty, "auto", "gpsppsd-2.log")
        wait_count(daemon, rf"decodes at {r} baud", 1, 10)
        took = time.monotonic() - t0
        out = text(daemon)
        if f"{r} baud first (the last rate that worked)" not in out:
            fail(f"restart did not try {r} first:\n{out}")
        if took > 5:
            fail(f"restart took {took:.1f} s to settle on the saved rate")
        print(f"restarted: {r} tried first, settled in {took:.1f} s")
        daemon.stop()
        s.stop()


def switch_label_ns(d, baud, seq):
    import json
    with open(f"{d}/sim-{baud}.jsonl") as f:
        for line in f:
            e = json.loads(line)
            if e["seq"] == seq:
                return e["label_ns"]
    fail(f"the simulator's log has no epoch {seq}")


def scenario_change(d):
    tty = f"{d}/gps0"
    switch = 20
    with Chronyd(d, refclocks(d)) as c:
        s = sim(d, tty, 9600, ["--baud-from", f"{switch}:38400"])
        daemon = gpsppsd(d, tty, "auto", "gpsppsd.log")
        first = wait_count(daemon, r"decodes at 9600 baud", 1, 15)
        wait_samples(c, first, 3, 30, "at 9600")
        wait_count(daemon, r"probing the rate again", 1, switch + 15)
        settled = wait_count(daemon, r"decodes at 38400 baud", 1, 30)
        change = switch_label_ns(d, 9600, switch)
        print(f"receiver switched at {change / NS:.0f}, gpsppsd settled "
              f"on 38400 {(settled - change) / NS:.1f} s later")
        wait_samples(c, settled, 3, 30, "after the change to 38400")
        # No sample from the change until the settle (whose burst went to
        # the probe): the pairing never saw a byte read while probing.
        between = [t for t in sample_times(c, "PPS") + sample_times(c, "NMEA")
                   if change <= t < settled - NS]
        if between:
            fail(f"{len(between)} samples from seconds between the change "
                 f"and the settle: {between}")
        if state_rate(d) != 38400:
            fail(f"state file says {state_rate(d)}, not 38400")
        daemon.stop()
        s.stop()


def garbage_writer(master, stop):
    rnd = random.Random(12)
    while not stop.is_set():
        try:
            os.write(master, bytes(rnd.randrange(256) for _ in range(200)))
        except BlockingIOError:
            pass
        try:
            while os.read(master, 4096):
                pass
        except (BlockingIOError, OSError):
            pass
        time.sleep(0.2)


def scenario_garbage(d):
    master, slave = os.openpty()
    ttymod.setraw(slave, termios.TCSANOW)
    os.set_blocking(master, False)
    tty = f"{d}/gps0"
    os.symlink(os.ttyname(slave), tty)
    stop = threading.Event()
    w = threading.Thread(target=garbage_writer, args=(master, stop))
    w.start()
    try:
        daemon = gpsppsd(d, tty, "auto", "gpsppsd.log", ["--debug"])
        wait_count(daemon, r"no rate gives valid NMEA sentences", 1,
                   PASS_S + 15)
        # and a second whole pass
        wait_count(daemon, r"listening at 921600 baud", 2, PASS_S + 15)
        daemon.stop()
    finally:
        stop.set()
        w.join()
        os.close(master)
        os.close(slave)
    out = text(daemon)
    for r in RATES:
        if f"listening at {r} baud" not in out:
            fail(f"never tried {r} baud:\n{out}")
    if "decodes at" in out:
        fail(f"settled on garbage:\n{out}")
    n = out.count("no rate gives valid NMEA sentences")
    if n != 1:
        fail(f"the no-rate warning was logged {n} times, not once")
    print("garbage: two passes over every rate, no settle, warned once")


def scenario_report(d):
    import json
    tty = f"{d}/gps0"
    s = sim(d, tty, 38400)
    daemon = gpsppsd(d, tty, 9600, "gpsppsd.log")
    wait_count(daemon, r"sends at 38400 baud, not 9600", 1, 30)
    t = time.time_ns()
    time.sleep(12)          # past another 5 s without a sentence
    check_status(d, 9600, "fixed", 38400)
    daemon.stop()
    s.stop()
    out = text(daemon)
    if out.count("finding the rate that decodes") != 1:
        fail(f"the report-only probe did not run exactly once:\n{out}")
    if "decodes at" in out:
        fail(f"a fixed rate was given up:\n{out}")
    with open(f"{d}/sim-38400.jsonl") as f:
        log = [json.loads(line) for line in f]
    seen = {e["line_baud"] for e in log}
    after = {e["line_baud"] for e in log if e["slot_ns"] > t}
    if 38400 not in seen or after != {9600}:
        fail(f"reader rates: {sorted(seen)}, after the report {after}")
    print(f"report: 38400 named; the reader's rates were {sorted(seen)}, "
          f"{sorted(after)} after the report")


def main():
    scenarios = {"rates": scenario_rates, "change": scenario_change,
                 "garbage": scenario_garbage, "report": scenario_report}
    if len(sys.argv) != 2 or sys.argv[1] not in scenarios:
        fail(f"usage: {sys.argv[0]} {'|'.join(scenarios)}")
    with TestDir("gpspps-baud-") as d:
        scenarios[sys.argv[1]](d)
    print("PASS")


if __name__ == "__main__":
    main()
