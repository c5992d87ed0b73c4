#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Floods on the NMEA line: gpsppsd stays responsive and recovers.

For each flood (gpspps-sim --flood KIND at 921600 baud, then the clean
1 Hz stream), with gpsppsd --pps sim and a real private chronyd:

  random    60 s of random bytes (issue 11, item 3a)
  longline  20 s of 1 kB lines without a newline (item 3c)
  nul       20 s of NUL bytes
  dollar    20 s of nothing but '$'

Checked, and printed as figures:
  - the status socket answers a `status` request within 100 ms every
    second of the flood (the worst latency is printed);
  - the PPS path is not starved: edges keep arriving (status pps.edges
    grows by at least one per second less 2) and no sample reaches
    chronyd during the flood (there is no valid sentence to pair with);
  - gpsppsd's CPU use over the flood (utime + stime / wall, printed);
  - its resident size is flat: growth from 10 s into the flood to its end
    under RSS_GROWTH_KB (printed);
  - PPS and NMEA samples reach chronyd within 5 s of the flood's end
    (3 valid epochs, --min-valid, at 1 Hz: about 3.1 s at worst).

Environment: GPSPPS_FLOOD_KINDS (comma-separated) runs some floods only.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail,  # noqa: E402
                            first_sample_after, prog, status_request,
                            wait_path)

FLOODS = [("random", 60), ("longline", 20), ("nul", 20), ("dollar", 20)]
BAUD = 921600
STATUS_BOUND_S = 0.100
RESUME_BOUND_S = 5.0
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


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def samples_between(c, t0_ns, t1_ns):
    n = 0
    for refid in ("PPS", "NMEA"):
        t = first_sample_after(c, refid, t0_ns)
        if t is not None and t < t1_ns:
            n += 1
    return n


def run_flood(d, kind, seconds):
    tty = os.path.join(d, f"gps-{kind}")
    sock = os.path.join(d, f"status-{kind}.sock")
    simlog = os.path.join(d, f"sim-{kind}.log")
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", BAUD,
                "--flood", kind, "--flood-for", f"{seconds}s", "--seed", 3],
               simlog)
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
        return measure(c, sim, daemon, sock, kind, seconds, simlog)
    finally:
        rc = daemon.stop()
        sim.stop()
        c.stop()
        if rc != 0:
            fail(f"{kind}: gpsppsd exit {rc}: {daemon.output()[-2000:]}")


def measure(c, sim, daemon, sock, kind, seconds, simlog):
    pid = daemon.proc.pid
    if not wait_path(sock, 5):
        fail(f"{kind}: no status socket: {daemon.output()}")
    t0 = time.monotonic()
    wall0 = time.time_ns()
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
    cpu = cpu_s(pid) - cpu0
    wall = time.monotonic() - t0
    rss_end = rss_kb(pid)
    rx = st["receiver"]
    end = None
    while end is None and time.monotonic() - t0 < seconds + 10:
        if "flood over" in open(simlog).read():
            end = time.time_ns()
        time.sleep(0.02)
    if end is None:
        fail(f"{kind}: the simulator never ended its flood")
    during = samples_between(c, wall0, end - NS // 2)
    time.sleep(RESUME_BOUND_S + 1)
    first = {r: first_sample_after(c, r, end) for r in ("PPS", "NMEA")}
    span = edges[-1][0] - edges[0][0]
    got = edges[-1][1] - edges[0][1]
    print(f"{kind}: {seconds} s at {BAUD} baud: status worst "
          f"{worst * 1e3:.1f} ms; gpsppsd CPU {cpu:.2f} s over {wall:.0f} s "
          f"({100 * cpu / wall:.1f}%); RSS {rss10} kB at 10 s, {rss_end} kB "
          f"at the end; {got} PPS edges in {span:.0f} s; receiver "
          f"{rx['bytes']} bytes, {rx['bad_checksums']} bad checksums, "
          f"{rx['overlong']} overlong, state {rx['state']}; first samples "
          + ", ".join(f"{r} {(t - end) / 1e9:.2f} s" if t else f"{r} none"
                      for r, t in first.items()) + " after the flood")
    if got < span - 2:
        fail(f"{kind}: only {got} PPS edges in {span:.0f} s: PPS starved")
    if during:
        fail(f"{kind}: samples reached chronyd during the flood")
    if rss10 is not None and rss_end - rss10 > RSS_GROWTH_KB:
        fail(f"{kind}: RSS grew {rss_end - rss10} kB in the flood")
    for r, t in first.items():
        if t is None or t - end > RESUME_BOUND_S * NS:
            fail(f"{kind}: {r} samples did not resume within "
                 f"{RESUME_BOUND_S} s of the clean stream")
    return worst, cpu / wall


def main():
    want = os.environ.get("GPSPPS_FLOOD_KINDS")
    floods = [f for f in FLOODS if not want or f[0] in want.split(",")]
    with TestDir("gpspps-flood-") as d:
        for kind, seconds in floods:
            run_flood(d, kind, seconds)
    print("PASS")


if __name__ == "__main__":
    main()
