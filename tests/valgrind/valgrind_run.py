#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsd under valgrind memcheck on the fault-heavy stream.

120 s of tests/lib/gpspps_faults.py's chain (every simulator fault at high
rates, PPS sim:miss,spurious, 5 Hz, a leap second inserted) with gpsppsd
run by `valgrind --tool=memcheck --leak-check=full`; chronyd is restarted
twice (at 30 s and 60 s) and the receiver unplugged once (at 85 s, back
3.5 s later); a `status` request every 10 s.  Then SIGTERM, and:

  - valgrind's ERROR SUMMARY says 0 errors;
  - 0 bytes definitely and 0 bytes indirectly lost at exit;
  - gpsppsd exited 0, and PPS samples reached chronyd after the last
    event (the unplug);
  - the resident size, sampled every second, is flat after the first
    minute: the least-squares slope over 60-120 s is printed, and the
    growth it implies over that minute must stay under RSS_GROWTH_KB
    (a leak of one allocation per epoch, 5 Hz, would be several times
    that).  That is asserted on a native twin run beside it (a second
    chain, same faults and events): under memcheck the process also holds
    valgrind's shadow memory and translated code, whose slope is printed
    for the record.

Environment: GPSPPS_VALGRIND_SECONDS shortens or lengthens the run (the
events keep their times; under 90 s the unplug is left out).
"""

import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import TestDir, fail, rss_kb, skip  # noqa: E402
from gpspps_faults import FaultChain  # noqa: E402

DURATION_S = int(os.environ.get("GPSPPS_VALGRIND_SECONDS", "120"))
RSS_GROWTH_KB = 256
EVENTS = [(30, "restart"), (60, "restart"), (85, "unplug")]


def slope(points):
    """Least-squares slope of (t, v) points, v per second."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    num = sum((t - mt) * (v - mv) for t, v in points)
    den = sum((t - mt) ** 2 for t, _ in points)
    return num / den if den else 0.0


def run_chains(d, vlog):
    """The memcheck'ed gpsppsd and a native twin, each on its own chain,
    through the same events; RSS of both sampled every second."""
    prefix = ["valgrind", "--tool=memcheck", "--leak-check=full",
              "--show-leak-kinds=definite,indirect",
              "--errors-for-leak-kinds=definite,indirect",
              "--track-origins=yes", f"--log-file={vlog}"]
    chains = []
    for name, seed, pre in (("memcheck", 41, prefix), ("native", 43, [])):
        sub = os.path.join(d, name)
        os.mkdir(sub, 0o700)      # chronyd wants its directory private
        os.chmod(sub, 0o700)
        chains.append(FaultChain(sub, seed=seed, daemon_prefix=pre,
                                 duration_s=DURATION_S).start())
    vg, native = chains
    t0 = time.monotonic()
    rss = {"memcheck": [], "native": []}
    done, counts, statuses = set(), [], 0
    try:
        while time.monotonic() - t0 < DURATION_S:
            now = time.monotonic() - t0
            for name, ch in (("memcheck", vg), ("native", native)):
                v = rss_kb(ch.daemon.pid)
                if v is not None:
                    rss[name].append((now, v))
            for at, what in EVENTS:
                if now >= at and at not in done and at < DURATION_S - 5:
                    done.add(at)
                    before = vg.samples("PPS")
                    for ch in chains:
                        if what == "restart":
                            ch.restart_chronyd()
                        else:
                            ch.unplug(3.5)
                    counts.append((at, what, before))
                    print(f"{at} s: {what} (chronyd had {before} PPS "
                          "samples from the memcheck'ed gpsppsd)", flush=True)
            for ch in chains:
                ch.alive(f"at {now:.0f} s")
            if int(now) % 10 == 5:
                statuses += 1
                vg.status()         # the status server runs under memcheck
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0 - now)))
        final = vg.samples("PPS"), vg.samples("NMEA")
        print(f"{statuses} status requests answered")
    finally:
        rc = vg.stop(timeout=60)
        native.stop()
    return vg, rc, rss, final, counts


def check_valgrind_log(vlog):
    with open(vlog) as f:
        text = f.read()
    m = re.search(r"ERROR SUMMARY: (\d+) errors", text)
    if m is None:
        fail(f"no ERROR SUMMARY in valgrind's log:\n{text[-3000:]}")
    lost = {}
    for kind in ("definitely", "indirectly"):
        k = re.search(kind + r" lost: ([\d,]+) bytes", text)
        lost[kind] = int(k.group(1).replace(",", "")) if k else 0
    if "All heap blocks were freed" in text:
        lost = {"definitely": 0, "indirectly": 0}
    print(f"valgrind: {m.group(0)}; definitely lost {lost['definitely']} "
          f"bytes, indirectly lost {lost['indirectly']} bytes")
    heap = re.search(r"total heap usage: .*", text)
    if heap:
        print(f"valgrind: {heap.group(0)}")
    if int(m.group(1)) != 0 or any(lost.values()):
        fail(f"valgrind found errors or leaks:\n{text[-6000:]}")


def rss_slope(name, rss):
    late = [(t, v) for t, v in rss if t >= 60]
    if len(late) < 20:
        fail(f"only {len(late)} RSS samples of the {name} gpsppsd after "
             "the first minute")
    s = slope(late)
    growth = s * (late[-1][0] - late[0][0])
    print(f"RSS of the {name} gpsppsd: {rss[0][1]} kB at start, "
          f"{late[0][1]} kB at 60 s, {rss[-1][1]} kB at {rss[-1][0]:.0f} s; "
          f"slope after the first minute {s * 60:+.1f} kB/min over "
          f"{len(late)} samples ({growth:+.0f} kB over "
          f"{late[-1][0] - late[0][0]:.0f} s)")
    return growth


def check_rss(rss):
    """The native twin's RSS is the one asserted: under memcheck the
    process also holds valgrind's shadow memory and translated code, which
    grows when the restarts and the unplug run code not run before (the
    heap itself is checked by valgrind's summary)."""
    rss_slope("memcheck'ed", rss["memcheck"])
    growth = rss_slope("native", rss["native"])
    if growth > RSS_GROWTH_KB:
        fail(f"the native gpsppsd's RSS grows {growth:.0f} kB after the "
             f"first minute (bound {RSS_GROWTH_KB} kB)")


def main():
    if shutil.which("valgrind") is None:
        skip("valgrind is not installed (tests/deps.sh test)")
    with TestDir("gpspps-valgrind-") as d:
        vlog = os.path.join(d, "valgrind.log")
        chain, rc, rss, (pps, nmea), events = run_chains(d, vlog)
        print(f"{DURATION_S} s: chronyd got {pps} PPS and {nmea} NMEA "
              f"samples; gpsppsd exit {rc}")
        check_valgrind_log(vlog)
        if rc != 0:
            fail(f"gpsppsd under valgrind exited {rc}:\n"
                 f"{chain.log_text()[-3000:]}")
        if pps < 10 or nmea < 10:
            fail(f"too few samples reached chronyd: {pps} PPS, {nmea} NMEA")
        if events and pps < events[-1][2] + 3:
            fail(f"PPS samples did not resume after the {events[-1][1]} at "
                 f"{events[-1][0]} s: {events[-1][2]} before, {pps} at the "
                 "end")
        if DURATION_S >= 90:
            check_rss(rss)
    print("PASS")


if __name__ == "__main__":
    main()
