# SPDX-License-Identifier: GPL-2.0-or-later
"""gpspps-calibrate live, against the real chain:

    gpspps-sim --pty P --delay D --jitter J  ->  gpsppsd --pps sim
    -> a private chronyd (PPS selected, NMEA noselect with a wrong offset)

for delays of 0.12, 0.49 and 0.73 s (three chains run side by side).  The
calibrator runs with --write --precision 2ms, at most DURATION, as the
packaged service runs with --precision 1ms for at most 6 hours: it stops
once the 95% half-width is under 2 ms with at least 20 snapshots and 10
independent ones, the least it writes.  chronyd keeps 8 to 12 NMEA polls
of 1 s in its regression (minsamples, maxsamples): its snapshots then
decorrelate within seconds, as a day's run at chronyd's default 64
samples of poll 4 does within a small part of the run.  (With the window
growing over the whole run, 100 s of snapshots hold about 4 independent
ones: too few to write.)  Then:

  - the written offset matches the delay chronyd itself saw during the run
    (the median raw offset of the NMEA samples in refclocks.log) within a
    tolerance derived from the jitter and the sample count (see
    tolerance()); and it matches the simulated delay within that plus
    CHAIN_BIAS, what the pty chain itself may add;
  - chronyd restarted on the new file shows the NMEA refclock near zero:
    the median of its cooked offsets over the next half minute is within
    the same tolerance plus 4 sd of a median of m uniform samples.

A fourth calibrator on the first chain, with --write on a copy of the
configuration, is stopped with SIGTERM after 60 s (as `systemctl stop`
stops the packaged service): it must still print its report, leave the
copy untouched and exit 3.
"""

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail,  # noqa: E402
                            private_chronyc, private_chronyd, prog,
                            wait_path)

DELAYS = (0.12, 0.49, 0.73)
JITTER = 0.01                     # uniform width, s
SIGMA = JITTER / 12 ** 0.5
DURATION = 300                    # s of calibration at most
PRECISION = "2ms"                 # ... stopping once known to this
SIGTERM_AFTER = 60                # s: the interrupted calibrator
AFTER = 35                        # s of chronyd on the new offset
CHAIN_BIAS = 0.003                # s: first-byte dating over a pty
OLD_OFFSET = 0.05                 # the wrong offset configured at first

errors = []


def tolerance(n):
    """At least 4 sd of the calibrator's estimate from n NMEA samples (one
    a second).

    A sourcestats Offset is chronyd's regression over NP polls (1 s, poll
    0) extrapolated to the newest one: its sd is about 2 sigma / sqrt(NP)
    (1/NP + 3/NP at the end of a straight-line fit), at most 0.71 sigma
    for NP >= 8.  The estimate, a median of snapshots holding at least 10
    independent ones, has an sd of at most 1.2533 * 0.71 sigma / sqrt(10)
    = 0.28 sigma.  4 * 2 sigma sqrt(8/n) is over 4 * 0.28 sigma for n up
    to 400 samples, beyond the longest run (DURATION).  This is also the
    sd of a single snapshot of a window growing with the run (NP ~ n/8 at
    mid-run), what the calibrator sees with chronyd's default window."""
    return 4 * 2 * SIGMA * (8 / n) ** 0.5


def refclocks(d):
    return [f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 "
            "prefer",
            f"refclock SOCK {d}/nmea.sock refid NMEA poll 0 minsamples 8 "
            f"maxsamples 12 precision 1e-3 offset {OLD_OFFSET} noselect"]


def nmea_lines(c):
    return c.refclock_lines("NMEA")


def calibrate(c, extra, conf=None, **kw):
    return subprocess.Popen(
        [prog("gpspps-calibrate"), "--conf", conf or c.conf, "--refid", "NMEA",
         "--chronyc", f"{private_chronyc()} -h {c.sock}", "--interval", "2s",
         "--json"] + extra,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def interrupted_run(c, results):
    """A calibrator stopped by SIGTERM still reports, and writes nothing.
    It gets its own copy of chrony.conf, which the main calibrator of the
    chain does not write."""
    conf = os.path.join(os.path.dirname(c.conf), "interrupted.conf")
    with open(c.conf) as f:
        before = f.read()
    with open(conf, "w") as f:
        f.write(before)
    p = calibrate(c, ["--duration", "1h", "--write"], conf=conf)
    time.sleep(SIGTERM_AFTER)
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=30)
    with open(conf) as f:
        unchanged = f.read() == before
    unchanged = unchanged and not os.path.exists(conf + ".bak")
    results["sigterm"] = (p.returncode, out, err, unchanged)


def check_sigterm(rc, out, err, unchanged):
    try:
        rep = json.loads(out)
    except ValueError:
        fail(f"no report after SIGTERM (exit {rc}): {out!r} {err}")
    if not rep["interrupted"] or rep["elapsed"] > SIGTERM_AFTER + 10:
        fail(f"SIGTERM: interrupted {rep['interrupted']}, elapsed "
             f"{rep['elapsed']}")
    if not rep["result"]:
        fail(f"SIGTERM: no result in the report: {rep['outcome']}")
    o = rep["outcome"]
    if rc != 3 or o["written"] or not unchanged or \
            "interrupted by SIGTERM" not in (o["unusable_reason"] or ""):
        fail(f"SIGTERM: exit {rc}, chrony.conf unchanged {unchanged}, "
             f"outcome {o}")
    print(f"ok SIGTERM after {rep['elapsed']:.0f} s: report with "
          f"{rep['result']['n_used']} snapshots, nothing written, exit {rc}")


def chain(delay, seed, results):
    with TestDir(prefix=f"gpspps-cal-{delay}-") as d:
        tty = os.path.join(d, "gps0")
        c = Chronyd(d, refclocks=refclocks(d))
        c.start()
        sim = Proc([prog("gpspps-sim"), "--pty", tty, "--delay", delay,
                    "--jitter", JITTER, "--seed", seed],
                   os.path.join(d, "sim.log"))
        if not wait_path(tty, 5):
            fail(f"gpspps-sim made no pty: {sim.output()}")
        daemon = Proc([prog("gpsppsd"), "--config", "/dev/null", "--device",
                       tty, "--pps", "sim", "--pps-socket", f"{d}/pps.sock",
                       "--nmea-socket", f"{d}/nmea.sock"],
                      os.path.join(d, "gpsppsd.log"))
        try:
            results[delay] = run_chain(d, c, delay, results)
        finally:
            daemon.stop()
            sim.stop()
            c.stop()


def run_chain(d, c, delay, results):
    side = None
    if delay == DELAYS[0]:
        side = threading.Thread(target=interrupted_run, args=(c, results))
        side.start()
    start_n = len(nmea_lines(c))
    p = calibrate(c, ["--duration", f"{DURATION}s", "--precision", PRECISION,
                      "--write"])
    out, err = p.communicate(timeout=DURATION + 60)
    run_lines = nmea_lines(c)[start_n:]
    if side is not None:
        side.join()
    if p.returncode != 0:
        return ("fail", f"exit {p.returncode}: {out} {err}")
    rep = json.loads(out)
    written = rep["result"]["new_offset"]
    with open(c.conf) as f:
        if f"offset {written:.6f} noselect" not in f.read():
            return ("fail", f"{c.conf} does not hold offset {written:.6f}")
    seen = statistics.median(-x["raw"] for x in run_lines)
    c.restart()
    restart_n = len(nmea_lines(c))
    time.sleep(AFTER)
    after = [x["cooked"] for x in nmea_lines(c)[restart_n + 3:]]
    return ("ok", rep, len(run_lines), seen, after)


def check_chain(delay, res):
    if res[0] != "ok":
        fail(f"delay {delay}: {res[1]}")
    _, rep, n, seen, after = res
    r = rep["result"]
    tol = tolerance(n)
    w = r["new_offset"]
    line = (f"delay {delay}: wrote {w:.6f} (+/- {r['half_width']:.6f}, "
            f"{r['n_used']} snapshots, {r['n_eff']:.1f} independent, after "
            f"{rep['elapsed']:.0f} s, rejected {rep['rejected']}); chronyd "
            f"saw {seen:.6f} over {n} samples; tolerance {tol:.6f}")
    if abs(rep["configured_offset"] - OLD_OFFSET) > 1e-9 or \
            abs(r["measured"] - (w - OLD_OFFSET)) > 1e-9:
        fail(f"{line}: new offset is not configured + measured")
    if abs(w - seen) > tol:
        fail(f"{line}: off by {w - seen:+.6f} from what chronyd saw")
    if abs(w - delay) > tol + CHAIN_BIAS:
        fail(f"{line}: off by {w - delay:+.6f} from the simulated delay")
    if len(after) < 20:
        fail(f"{line}: only {len(after)} NMEA samples after the restart")
    m = statistics.median(after)
    tol_after = tol + 4 * JITTER / (2 * len(after) ** 0.5)
    if abs(m) > tol_after:
        fail(f"{line}; after the restart the NMEA refclock is "
             f"{m:+.6f} s off (median of {len(after)}), limit {tol_after:.6f}")
    print(f"ok {line}; after the restart NMEA is {m:+.6f} s off "
          f"(median of {len(after)}, limit {tol_after:.6f})")


def main():
    for name in ("gpsppsd", "gpspps-sim", "gpspps-calibrate"):
        prog(name)
    # Unpack chrony once, before the chains start it side by side (the
    # first run fetches it; see gpspps_harness.chrony_dir).
    private_chronyd()
    t0 = time.monotonic()
    results = {}
    threads = [threading.Thread(target=chain, args=(dl, 11 + i, results))
               for i, dl in enumerate(DELAYS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for dl in DELAYS:
        if dl not in results:
            fail(f"delay {dl}: the chain did not run")
        check_chain(dl, results[dl])
    check_sigterm(*results["sigterm"])
    print(f"live tests took {time.monotonic() - t0:.0f} s")
    print("PASS")


if __name__ == "__main__":
    main()
