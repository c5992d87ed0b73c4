#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsctl on the real chain: gpspps-sim on a pty -> gpsppsd --pps sim
-> a real chronyd (about 40 s; timing-bound, run under the flock).

- status: once PPS samples reach chronyd, the first line is "OK: PPS
  samples reach chronyd"; its figures (edges, epochs, PPS samples sent)
  lie between what the socket reported just before and just after, the
  pid is the daemon's, and chronyd's refclocks.log holds at most that many
  PPS samples and more than none.
- status --json: an object with exactly the keys, at every level, of the
  one the socket gives a client directly, the same pid, counters in
  between.
- watch --count 5: a header and 5 lines, one per second (UTC labels a
  second apart, one step of two allowed: see test_watch; 3 to 8 s in
  all), each saying PPS went to chronyd; an endless watch stops at
  SIGINT at once.
- metrics: promtool check metrics accepts it, gpspps_up 1, PPS samples
  sent; --output writes a file promtool accepts and leaves no temporary.
- chronyd stopped, gpsppsd running: status says NOT OK and why (ENOENT or
  ECONNREFUSED: chronyd's socket is gone), still exit 0.
- gpsppsd stopped: status, watch and metrics exit 2 within 2 s with one
  line that names the cause; metrics prints gpspps_up 0.

Environment: GPSPPS_BUILD (meson build root), GPSPPS_SRC (source root).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from datetime import datetime

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, check,  # noqa: E402
                            checks_failed, fail, prog, status_request,
                            wait_path)

CTL = prog("gpsppsctl")
FAST_S = 2.0


def ctl(d, *args, timeout=20):
    t0 = time.monotonic()
    r = subprocess.run([CTL, "--socket", f"{d}/status.sock"] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


def ask(path):
    """The status object, read from the socket directly."""
    return status_request(path, timeout=5)


def get(obj, dotted):
    for k in dotted.split("."):
        obj = obj[k]
    return obj


def key_tree(obj):
    if isinstance(obj, dict):
        return {k: key_tree(v) for k, v in obj.items()
                if k not in ("sentences", "failed", "held")}
    return None


def start_chain(d):
    tty = f"{d}/gps0"
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", 9600,
                "--log", f"{d}/sim.jsonl"], f"{d}/sim.log")
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    daemon = Proc([prog("gpsppsd"), "--config", "/dev/null", "--device", tty,
                   "--baud", 9600, "--pps", "sim:jitter=4us,seed=5",
                   "--pps-socket", f"{d}/pps.sock",
                   "--nmea-socket", f"{d}/nmea.sock",
                   "--status-socket", f"{d}/status.sock"],
                  f"{d}/gpsppsd.log")
    if not wait_path(f"{d}/status.sock", 5):
        fail(f"gpsppsd made no status socket: {daemon.output()}")
    return sim, daemon


def wait_ok(d, timeout=60):
    deadline = time.monotonic() + timeout
    out = ""
    while time.monotonic() < deadline:
        rc, out, _, _ = ctl(d, "status")
        if rc == 0 and out.startswith("OK:"):
            st = ask(f"{d}/status.sock")
            if get(st, "chronyd.pps.sent") >= 5:
                return
        time.sleep(1)
    fail(f"status never OK with 5 PPS samples sent in {timeout} s:\n{out}")


def field(out, name):
    m = re.search(rf"^{re.escape(name)} +: (.*)$", out, re.M)
    return m.group(1) if m else ""


def between(lo, x, hi):
    return x is not None and lo <= x <= hi


def first_int(text, pattern):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def test_status(d, c, daemon):
    before = ask(f"{d}/status.sock")
    rc, out, err, _ = ctl(d, "status")
    after = ask(f"{d}/status.sock")
    check(rc == 0 and out.splitlines()[0] == "OK: PPS samples reach chronyd",
          f"status: exit {rc}, {err!r}\n{out}")
    check(f"pid {before['daemon']['pid']}," in field(out, "Daemon"),
          f"status Daemon line {field(out, 'Daemon')!r}, pid "
          f"{before['daemon']['pid']}")
    figures = [
        ("Edges", r"^(\d+) ", "pps.edges"),
        ("Epochs", r"^(\d+),", "receiver.epochs"),
        ("chronyd PPS", r", (\d+) sent", "chronyd.pps.sent"),
        ("Pairing", r"^(\d+) samples", "pairing.samples"),
    ]
    for name, pat, path in figures:
        x = first_int(field(out, name), pat)
        check(between(get(before, path), x, get(after, path)),
              f"status {name} {x}: the socket said {get(before, path)} "
              f"before and {get(after, path)} after")
    check(f"{d}/pps.sock" in field(out, "chronyd PPS"),
          f"chronyd PPS line {field(out, 'chronyd PPS')!r}")
    check(field(out, "Receiver").endswith(", valid"),
          f"Receiver line {field(out, 'Receiver')!r}")
    n = len(c.refclock_lines("PPS"))
    sent = get(ask(f"{d}/status.sock"), "chronyd.pps.sent")
    check(0 < n <= sent, f"refclocks.log has {n} PPS samples, gpsppsd sent "
          f"{sent}")
    print(f"status OK; {n} PPS samples in refclocks.log, {sent} sent")


def test_json(d):
    before = ask(f"{d}/status.sock")
    rc, out, _, _ = ctl(d, "--json", "status")
    after = ask(f"{d}/status.sock")
    try:
        got = json.loads(out)
    except ValueError:
        check(False, f"status --json is not JSON: {out!r}")
        return
    check(rc == 0 and out.count("\n") == 1 and out.endswith("}\n"),
          f"status --json: exit {rc}, {out.count(chr(10))} lines")
    check(key_tree(got) == key_tree(before),
          "status --json has other keys than the socket's object")
    check(got["daemon"]["pid"] == before["daemon"]["pid"],
          "status --json: another pid")
    for path in ("pps.edges", "receiver.bytes", "chronyd.pps.sent",
                 "daemon.wakeups"):
        check(between(get(before, path), get(got, path), get(after, path)),
              f"status --json {path} {get(got, path)} not between "
              f"{get(before, path)} and {get(after, path)}")


def label_s(line):
    t = line.split()[0].rstrip("Z")
    return datetime.fromisoformat(t).timestamp()


def test_watch(d):
    rc, out, err, dt = ctl(d, "watch", "--count", "5")
    rows = out.splitlines()
    check(rc == 0 and len(rows) == 6 and rows[0].startswith("Second (UTC)"),
          f"watch --count 5: exit {rc}, {err!r}\n{out}")
    check(3.0 <= dt <= 8.0, f"watch --count 5 took {dt:.1f} s")
    # gpsppsd sends on its own 1 s timer, not at each epoch: when the
    # timer's phase crosses the epochs', one second may be in no object
    # (and one in two, which gpsppsctl shows once).
    secs = [label_s(r) for r in rows[1:]]
    steps = [b - a for a, b in zip(secs, secs[1:])]
    check(all(s in (1, 2) for s in steps) and steps.count(2) <= 1,
          f"watch labels are not a second apart: {rows[1:]}")
    check(all(" fix " in r and r.endswith("PPS, NMEA") for r in rows[1:]),
          f"watch lines without fix or PPS, NMEA sent: {rows[1:]}")
    p = subprocess.Popen([CTL, "--socket", f"{d}/status.sock", "watch"],
                         stdout=subprocess.PIPE, text=True)
    time.sleep(3.5)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    p.wait(5)
    lines = p.stdout.read().splitlines()
    check(time.monotonic() - t0 < FAST_S and len(lines) >= 3,
          f"endless watch: {len(lines)} lines in 3.5 s, SIGINT took "
          f"{time.monotonic() - t0:.1f} s")
    print(f"watch: 5 lines in {dt:.1f} s; {rows[-1]}")


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text,
                       text=True, capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).strip()


def test_metrics(d):
    if not check(shutil.which("promtool"), "promtool not installed "
                 "(tests/deps.sh test installs Debian's prometheus)"):
        return
    rc, out, _, _ = ctl(d, "metrics")
    prc, msg = promtool(out)
    check(rc == 0 and prc == 0, f"metrics: exit {rc}, promtool {prc}: {msg}")
    sent = first_int(out, r'\ngpspps_chronyd_sent_total\{socket="pps"\} (\d+)')
    check("\ngpspps_up 1\n" in out and sent and sent > 0,
          f"metrics: gpspps_up 1 and PPS sent expected:\n{out[:400]}")
    os.mkdir(f"{d}/textfile")
    prom = f"{d}/textfile/gpspps.prom"
    rc, out, _, _ = ctl(d, "metrics", "--output", prom)
    with open(prom) as f:
        prc, msg = promtool(f.read())
    check(rc == 0 and out == "" and prc == 0 and
          os.listdir(f"{d}/textfile") == ["gpspps.prom"],
          f"metrics --output: exit {rc}, promtool {msg}, "
          f"{os.listdir(f'{d}/textfile')}")
    print(f"metrics: promtool accepts it, {sent} PPS samples sent")


def test_chronyd_gone(d, c):
    c.stop()
    time.sleep(4)
    rc, out, _, _ = ctl(d, "status")
    first = out.splitlines()[0] if out else ""
    check(rc == 0 and re.match(r"NOT OK: PPS samples do not reach chronyd "
                               r"\((ENOENT|ECONNREFUSED)\): ", first),
          f"status with chronyd stopped: exit {rc}, {first!r}")
    print(f"chronyd stopped: {first}")


def test_daemon_gone(d, daemon):
    daemon.stop()
    for verb in ("status", "watch", "metrics"):
        rc, out, err, dt = ctl(d, verb)
        check(rc == 2 and dt < FAST_S and len(err.splitlines()) == 1 and
              ("gpsppsd is not running" in err or "stale socket" in err),
              f"{verb} after gpsppsd stopped: exit {rc} in {dt:.1f} s, "
              f"{err!r}")
        if verb == "metrics":
            check(out.endswith("\ngpspps_up 0\n"), f"metrics: {out!r}")
    print(f"gpsppsd stopped: {err.strip()}")


def main():
    with TestDir("gpspps-ctl-") as d:
        c = Chronyd(d, refclocks=[
            f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 "
            "prefer",
            f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 precision 1e-3 "
            "noselect"])
        c.start()
        sim, daemon = start_chain(d)
        try:
            wait_ok(d)
            test_status(d, c, daemon)
            test_json(d)
            test_watch(d)
            test_metrics(d)
            test_chronyd_gone(d, c)
            test_daemon_gone(d, daemon)
        finally:
            daemon.stop()
            sim.stop()
            c.stop()
    if checks_failed():
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
