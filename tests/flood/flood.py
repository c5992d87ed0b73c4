#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Floods on the NMEA line: gpsppsd stays responsive and recovers.

For each flood, with gpsppsd --pps sim and a real private chronyd:
gpspps-sim at 921600 baud sends its clean 1 Hz stream for 15 s (samples
flow), then `--flood KIND` for the time below, then the clean stream
again:

  random    60 s of random bytes (issue 11, item 3a)
  longline  20 s of 1 kB lines without a newline (item 3c)
  nul       20 s of NUL bytes
  dollar    20 s of nothing but '$'

Checked, and printed as figures:
  - the status socket answers a `status` request within 100 ms every
    second of the flood (the worst latency is printed);
  - the PPS path is not starved: edges keep arriving (status pps.edges
    grows by at least one per second less 2) and no sample dated within
    the flood reaches chronyd (there is no valid sentence to pair with);
  - gpsppsd's CPU use over the flood (utime + stime / wall, printed);
  - its resident size is flat: growth from 10 s into the flood to its end
    under RSS_GROWTH_KB (printed);
  - PPS and NMEA samples reach chronyd within 5 s of the first byte of
    the clean stream (--min-valid 3 epochs at 1 Hz: about 2.1 s, 3.1 s
    when the first burst still runs into the flood's last bytes).

Environment: GPSPPS_FLOOD_KINDS (comma-separated) runs some floods only.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail,  # noqa: E402
                            first_sample_after, prog, rss_kb,
                            status_request, wait_path)

FLOODS = [("random", 60), ("longline", 20), ("nul", 20), ("dollar", 20)]
BAUD = 921600
STATUS_BOUND_S = 0.100
RESUME_BOUND_S = 5.0
CLEAN_BEFORE_S = 15
RSS_GROWTH_KB = 256
CLK_TCK = os.sysconf("SC_CLK_TCK")
NS = 1_000_000_000


def status(path):
    """One `status` request; returns (object, seconds)."""
    t0 = time.monotonic()
    st = status_request(path)
    return st, time.monotonic() - t0


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def wait_text(path, text, timeout):
    """Wait until the file holds text; the wall time (ns) it was seen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            if text in f.read():
                return time.time_ns()
        time.sleep(0.02)
    return None


def counts(c):
    return {r: len(c.refclock_lines(r)) for r in ("PPS", "NMEA")}


def clean_start_ns(epochs_log, after_ns):
    """First byte of the first burst after the flood: the first epoch of
    the simulator's log sent after after_ns."""
    with open(epochs_log) as f:
        for line in f:
            e = json.loads(line)
            if e["actual_ns"] is not None and e["actual_ns"] > after_ns:
                return e["actual_ns"]
    return None


def run_flood(d, kind, seconds):
    tty = os.path.join(d, f"gps-{kind}")
    sock = os.path.join(d, f"status-{kind}.sock")
    simlog = os.path.join(d, f"sim-{kind}.log")
    epochs = os.path.join(d, f"epochs-{kind}.jsonl")
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", BAUD,
                "--flood", kind, "--flood-for", f"{seconds}s",
                "--flood-after", f"{CLEAN_BEFORE_S}s", "--seed", 3,
                "--log", epochs], simlog)
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    c = Chronyd(d, [
        f"refclock SOCK {d}/pps-{kind}.sock refid PPS poll 2 precision 1e-7",
        f"refclock SOCK {d}/nmea-{kind}.sock refid NMEA poll 2 noselect"],
        log_name=f"chronyd-{kind}.log").start()
    daemon = Proc([prog("gpsppsd"), "--config", "/dev/null", "--device", tty,
                   "--baud", BAUD, "--pps", "sim:jitter=4us,seed=5",
                   "--pps-socket", f"{d}/pps-{kind}.sock",
                   "--nmea-socket", f"{d}/nmea-{kind}.sock",
                   "--status-socket", sock], os.path.join(d, f"d-{kind}.log"))
    try:
        return measure(c, daemon, sock, kind, seconds, simlog, epochs)
    finally:
        rc = daemon.stop()
        sim.stop()
        c.stop()
        if rc != 0:
            fail(f"{kind}: gpsppsd exit {rc}: {daemon.output()[-2000:]}")


def during_flood(c, daemon, sock, kind, seconds):
    """status every second of the flood: worst latency, edges, CPU, RSS."""
    pid = daemon.proc.pid
    t0 = time.monotonic()
    cpu0 = cpu_s(pid)
    worst, edges, rss10 = 0.0, [], None
    while time.monotonic() - t0 < seconds - 1:
        st, dt = status(sock)
        worst = max(worst, dt)
        if dt > STATUS_BOUND_S:
            fail(f"{kind}: status took {dt * 1e3:.0f} ms at "
                 f"{time.monotonic() - t0:.0f} s of the flood")
        edges.append((time.monotonic() - t0, st["pps"]["edges"]))
        if rss10 is None and time.monotonic() - t0 >= 10:
            rss10 = rss_kb(pid)
        if not daemon.alive():
            fail(f"{kind}: gpsppsd died in the flood: {daemon.output()}")
        time.sleep(max(0.0, 1.0 - dt))
    wall = time.monotonic() - t0
    return {"worst": worst, "edges": edges, "rss10": rss10,
            "rss_end": rss_kb(pid), "cpu": (cpu_s(pid) - cpu0) / wall,
            "wall": wall, "rx": st["receiver"]}


def resume(c, kind, end_ns, epochs, before):
    """Wall time (ns) each refid's first sample after the flood reached
    chronyd's log, from the first clean burst."""
    got = {}
    deadline = time.monotonic() + RESUME_BOUND_S + 3
    while len(got) < 2 and time.monotonic() < deadline:
        now = time.time_ns()
        for r, n in counts(c).items():
            if r not in got and n > before[r]:
                got[r] = now
        time.sleep(0.05)
    start = clean_start_ns(epochs, end_ns - NS // 10)
    if start is None:
        fail(f"{kind}: no epoch after the flood in the simulator's log")
    return {r: (got[r] - start) / 1e9 if r in got else None
            for r in ("PPS", "NMEA")}


def measure(c, daemon, sock, kind, seconds, simlog, epochs):
    if not wait_path(sock, 5):
        fail(f"{kind}: no status socket: {daemon.output()}")
    start = wait_text(simlog, f"flood {kind}", CLEAN_BEFORE_S + 10)
    if start is None:
        fail(f"{kind}: the simulator did not start its flood")
    pre = counts(c)
    if min(pre.values()) < 3:
        fail(f"{kind}: too few samples before the flood: {pre}")
    f = during_flood(c, daemon, sock, kind, seconds)
    end = wait_text(simlog, "flood over", 10)
    if end is None:
        fail(f"{kind}: the simulator never ended its flood")
    at_end = counts(c)
    back = resume(c, kind, end, epochs, at_end)
    edges = f["edges"]
    span = edges[-1][0] - edges[0][0]
    got = edges[-1][1] - edges[0][1]
    rx = f["rx"]
    print(f"{kind}: {seconds} s at {BAUD} baud: status worst "
          f"{f['worst'] * 1e3:.1f} ms; gpsppsd CPU {100 * f['cpu']:.1f}%; "
          f"RSS {f['rss10']} kB at 10 s, {f['rss_end']} kB at the end; "
          f"{got} PPS edges in {span:.0f} s; receiver {rx['bytes']} bytes, "
          f"{rx['bad_checksums']} bad checksums, {rx['overlong']} overlong, "
          f"state {rx['state']}; first samples after the clean stream: "
          + ", ".join(f"{r} {t:.2f} s" if t is not None else f"{r} none"
                      for r, t in back.items()), flush=True)
    if got < span - 2:
        fail(f"{kind}: only {got} PPS edges in {span:.0f} s: PPS starved")
    # By their time stamps: the last burst before the flood runs into the
    # flood's first bytes, and its sample may arrive late, dated right.
    during = {r: first_sample_after(c, r, start + NS) for r in at_end}
    if any(t is not None and t < end - NS // 10 for t in during.values()):
        fail(f"{kind}: samples dated within the flood: {during} "
             f"(flood {start} .. {end})")
    if f["rss10"] is not None and f["rss_end"] - f["rss10"] > RSS_GROWTH_KB:
        fail(f"{kind}: RSS grew {f['rss_end'] - f['rss10']} kB in the flood")
    for r, t in back.items():
        if t is None or t > RESUME_BOUND_S:
            fail(f"{kind}: {r} samples did not resume within "
                 f"{RESUME_BOUND_S} s of the clean stream ({t})")


def main():
    want = os.environ.get("GPSPPS_FLOOD_KINDS")
    floods = [f for f in FLOODS if not want or f[0] in want.split(",")]
    with TestDir("gpspps-flood-") as d:
        for kind, seconds in floods:
            run_flood(d, kind, seconds)
    print("PASS")


if __name__ == "__main__":
    main()
