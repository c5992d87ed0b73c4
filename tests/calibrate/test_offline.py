"""gpspps-calibrate offline modes.

--from-log: a generated 24-hour refclocks.log, written as chronyd writes it
(banners, PPS lines, filtered lines), 86,400 NMEA samples with a known
delay, Gaussian jitter, wrong-second outliers and a step of the delay for
the last three and a half hours.  The result must lie between the delay and the
median the step can pull it to, plus a tolerance from the jitter and the
sample count; the drift and outlier warnings must be raised; the
configured offset must not matter (raw offsets) and the report must say so.
The run is timed (CPU time under 1 s asserted, wall time printed).

--from-file: saved sourcestats snapshots in every accepted form; new offset
= configured + the estimate (huber_estimate, the man page's estimator
written again), also through --json.

Without chrony: a copied log analysed where chrony.conf is missing, or has
no such refclock, works with --refid (and --offset for --from-file), with
the same result; without --refid, or with --write, it is refused (exit 4)
and the message names --refid.
"""

import json
import math
import os
import random
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import TestDir, fail, huber_estimate, prog  # noqa: E402

CAL = prog("gpspps-calibrate")
SEED = int(os.environ.get("GPSPPS_TEST_SEED", "20261127"))
DELAY = 0.35
JITTER = 0.005
STEP = 0.030
STEP_FROM = 73800              # the last 3.5 hours, not on a block edge
OUTLIER_P = 0.005
CONFIGURED_IN_LOG = 0.2
T0 = 1795737600                # 2026-11-27 00:00:00 UTC

BANNER = ("=" * 79 + "\n"
          "   Date (UTC) Time         Refid  DP L P  Raw offset   Cooked "
          "offset      Disp.\n" + "=" * 79 + "\n")


def stamp(t):
    s = int(t)
    us = int(round((t - s) * 1e6))
    if us == 1000000:
        s, us = s + 1, 0
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(s)) + f".{us:06d}"


def generate_log(path, step):
    rng = random.Random(SEED)
    outliers = 0
    lines = 0
    with open(path, "w") as f:
        for i in range(86400):
            if lines % 32 == 0:
                f.write(BANNER)
            t = T0 + i
            f.write(f"{stamp(t)} PPS   {i % 16:5d} N 1  0.000000e+00  "
                    f"0.000000e+00  1.000e-07\n")
            d = DELAY + rng.gauss(0, JITTER)
            if step and i >= STEP_FROM:
                d += STEP
            if rng.random() < OUTLIER_P:
                d += rng.choice((-1.0, 1.0))
                outliers += 1
            raw = -d
            f.write(f"{stamp(t + 0.35)} NMEA  {i % 16:5d} N 0 {raw:13.6e} "
                    f"{raw + CONFIGURED_IN_LOG:13.6e}  1.000e-03\n")
            lines += 2
            if i % 16 == 15:
                f.write(f"{stamp(t - 7.5)} NMEA      - N -       -       "
                        f"{-DELAY + CONFIGURED_IN_LOG:13.6e}  1.000e-03\n")
                lines += 1
    return outliers


def phi(z):
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def mixture_median(p_step):
    """Median of (1-p) N(D, J) + p N(D + STEP, J), by bisection."""
    lo, hi = DELAY - 1, DELAY + 1
    for _ in range(200):
        m = (lo + hi) / 2
        c = (1 - p_step) * phi((m - DELAY) / JITTER) + \
            p_step * phi((m - DELAY - STEP) / JITTER)
        lo, hi = (m, hi) if c < 0.5 else (lo, m)
    return lo


def run_json(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run([CAL, "--json"] + args, capture_output=True,
                       text=True, timeout=60)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        rep = json.loads(r.stdout)
    except ValueError:
        fail(f"no JSON (exit {r.returncode}): {r.stdout[:500]} {r.stderr}")
    return r, rep, wall, cpu


def write_conf(d, offset):
    conf = os.path.join(d, "chrony.conf")
    with open(conf, "w") as f:
        f.write("refclock SOCK /run/gpspps/pps.sock refid PPS\n"
                f"refclock SOCK /run/gpspps/nmea.sock refid NMEA offset "
                f"{offset} noselect\n")
    return conf


def test_log(d, step):
    log = os.path.join(d, "refclocks.log")
    outliers = generate_log(log, step)
    n = 86400
    p_step = (86400 - STEP_FROM) / 86400 if step else 0.0
    se = 1.2533 * JITTER / math.sqrt(n)
    tol = 5 * se
    high = mixture_median(p_step)
    results = []
    for configured in (CONFIGURED_IN_LOG, 0.9):
        conf = write_conf(d, configured)
        r, rep, wall, cpu = run_json(["--conf", conf, "--from-log", log])
        if r.returncode != 0:
            fail(f"exit {r.returncode}: {r.stderr}")
        res = rep["result"]
        print(f"benchmark: {res['n_total']} samples of a 24 h refclocks.log "
              f"({os.path.getsize(log) >> 20} MiB) in {wall:.3f} s wall, "
              f"{cpu:.3f} s CPU")
        if cpu >= 1.0:
            fail(f"took {cpu:.3f} s of CPU, over 1 s")
        if res["n_total"] != n:
            fail(f"read {res['n_total']} samples, expected {n}")
        if not DELAY - tol <= res["new_offset"] <= high + tol:
            fail(f"new offset {res['new_offset']:.6f} outside "
                 f"[{DELAY - tol:.6f}, {high + tol:.6f}]")
        if res["n_outliers"] < outliers:
            fail(f"{res['n_outliers']} outliers rejected, {outliers} injected")
        if abs(rep["log_configured_offset"] - CONFIGURED_IN_LOG) > 1e-6:
            fail(f"log's configured offset {rep['log_configured_offset']}")
        if "independent" not in rep.get("note", ""):
            fail("the report does not say raw offsets were used")
        results.append(res["new_offset"])
        warnings = " ".join(rep["warnings"])
        if step and "drifted" not in warnings:
            fail(f"no drift warning for a {STEP} s step: {warnings}")
        if not step:
            if "drifted" in warnings or "outliers" in warnings:
                fail(f"spurious warnings: {warnings}")
            if not res["ci_low"] <= DELAY <= res["ci_high"]:
                fail(f"95% interval [{res['ci_low']}, {res['ci_high']}] "
                     f"misses {DELAY}")
        print(f"ok log step={step} configured={configured}: new offset "
              f"{res['new_offset']:.6f} (+/- {res['half_width']:.6f}), "
              f"expected [{DELAY:.6f}, {high:.6f}] +/- {tol:.6f}; "
              f"drift {res['drift']:+.6f}; warnings: {warnings or 'none'}")
    if results[0] != results[1]:
        fail(f"the configured offset changed a raw-offset result: {results}")
    text = subprocess.run([CAL, "--conf", conf, "--from-log", log],
                          capture_output=True, text=True).stdout
    expected = ["raw offsets", "offsets (used values", "new offset"]
    if step:
        expected.append("warning: the delay drifted")
    for words in expected:
        if words not in text:
            fail(f"text report lacks {words!r}:\n{text}")


def test_file(d):
    configured = 0.125
    conf = write_conf(d, configured)
    values = [0.30 + 0.0002 * ((i * 7) % 11 - 5) for i in range(60)]
    forms = ["{v}", "1795769479.5 {v}", "1795769479,{v}",
             "2026-11-27T08:51:19Z\t{v}", "2026-11-27 09:51:19.25+01:00,{v}",
             "2026-11-27 08:51:19 {v}"]
    path = os.path.join(d, "snap.txt")
    with open(path, "w") as f:
        f.write("# saved with: chronyc -c sourcestats\n\n")
        for i, v in enumerate(values):
            rec = f"NMEA,64,30,1008,0.010,0.200,{v:.9f},0.004000000"
            f.write(forms[i % len(forms)].format(v=rec) + "\n")
            f.write("PPS,64,30,1008,0.0,0.0,0.000000001,0.00000001\n")
        f.write("NMEA,3,2,8,0.0,0.0,5.0,0.1\n")   # chronyd warming up
        f.write("garbage line\n")
    r, rep, _, _ = run_json(["--conf", conf, "--from-file", path])
    if r.returncode != 0:
        fail(f"--from-file exit {r.returncode}: {r.stderr}")
    res = rep["result"]
    want = configured + huber_estimate(values)
    if abs(res["new_offset"] - want) > 1e-9:
        fail(f"--from-file new offset {res['new_offset']}, expected {want}")
    if res["n_total"] != len(values) or rep["rejected"]["bad-line"] != 1 \
            or rep["rejected"]["no-statistics"] != 1:
        fail(f"counts: {res['n_total']} used, rejected {rep['rejected']}")
    if sum(res["histogram"]["counts"]) != res["n_used"]:
        fail("histogram does not count every used value")
    # --offset overrides the configured offset
    r, rep, _, _ = run_json(["--conf", conf, "--from-file", path,
                             "--offset", "0"])
    if abs(rep["result"]["new_offset"] - huber_estimate(values)) > 1e-9:
        fail("--offset 0 not taken as the offset in effect")
    print(f"ok from-file: new offset {res['new_offset']:.6f} = {configured} "
          f"+ {huber_estimate(values):.6f}")


def test_no_chrony(d):
    """Offline analysis on a machine without chrony (or without gpspps in
    its configuration): --refid is all a refclocks.log needs."""
    log = os.path.join(d, "refclocks.log")
    generate_log(log, step=False)
    _, ref, _, _ = run_json(["--conf", write_conf(d, 0.2), "--from-log", log])
    missing = os.path.join(d, "no-such-dir", "chrony.conf")
    other = os.path.join(d, "other.conf")
    with open(other, "w") as f:
        f.write("pool 2.debian.pool.ntp.org iburst\n"
                "refclock PHC /dev/ptp0 refid PHC0\n")
    for conf, extra in ((missing, ["--offset", "0.2"]), (missing, []),
                        (other, ["--offset", "0.2"]), (other, [])):
        r, rep, _, _ = run_json(["--conf", conf, "--from-log", log,
                                 "--refid", "NMEA"] + extra)
        if r.returncode != 0:
            fail(f"--from-log --refid with {conf} {extra}: exit "
                 f"{r.returncode}: {r.stderr}")
        if rep["result"]["new_offset"] != ref["result"]["new_offset"]:
            fail(f"--from-log without chrony.conf: new offset "
                 f"{rep['result']['new_offset']}, not "
                 f"{ref['result']['new_offset']} as with it")
        if extra and rep["configured_offset"] != 0.2:
            fail(f"--offset 0.2 not shown as in effect: {rep}")
        if extra and r.stderr:
            fail(f"chrony.conf read although --refid and --offset make it "
                 f"needless: {r.stderr}")
        if not extra and "continuing with --refid NMEA" not in r.stderr:
            fail(f"no warning that {conf} was not used: {r.stderr!r}")
    print(f"ok --from-log without chrony.conf: new offset "
          f"{ref['result']['new_offset']:.6f} as with it")
    for args, words in (
            (["--from-log", log], "give the refclock's refid with --refid"),
            (["--from-log", log, "--refid", "NMEA", "--write"],
             "cannot read"),
            (["--from-log", log, "--refid", "NMEA", "--offset", "0.2",
              "--write"], "cannot read")):
        r = subprocess.run([CAL, "--conf", missing] + args,
                           capture_output=True, text=True, timeout=60)
        if r.returncode != 4 or words not in r.stderr:
            fail(f"{args} without chrony.conf: exit {r.returncode}, "
                 f"expected 4 and {words!r}: {r.stderr}")
    r = subprocess.run([CAL, "--conf", other, "--from-log", log],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 4 or "PHC0" not in r.stderr or "--refid" not in r.stderr:
        fail(f"no NMEA refclock, no --refid: exit {r.returncode}: {r.stderr}")
    print("ok without chrony.conf: --write and a missing --refid refused "
          "(exit 4), the message names --refid")
    path = os.path.join(d, "snap-nochrony.txt")
    values = [0.30 + 0.0002 * ((i * 7) % 11 - 5) for i in range(60)]
    with open(path, "w") as f:
        for v in values:
            f.write(f"NMEA,64,30,1008,0.010,0.200,{v:.9f},0.004000000\n")
    r, rep, _, _ = run_json(["--conf", missing, "--from-file", path,
                             "--refid", "NMEA", "--offset", "0.1"])
    want = 0.1 + huber_estimate(values)
    if r.returncode != 0 or abs(rep["result"]["new_offset"] - want) > 1e-9:
        fail(f"--from-file without chrony.conf: exit {r.returncode}, "
             f"{rep.get('result')}: {r.stderr}")
    r = subprocess.run([CAL, "--conf", missing, "--from-file", path,
                        "--refid", "NMEA"], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 2 or "--offset" not in r.stderr:
        fail(f"--from-file without an offset in effect: exit "
             f"{r.returncode}: {r.stderr}")
    print(f"ok --from-file without chrony.conf: {want:.6f} with --offset; "
          "without it, refused (exit 2)")


def main():
    print(f"seed {SEED} (GPSPPS_TEST_SEED to change)")
    with TestDir() as d:
        test_log(d, step=False)
        test_log(d, step=True)
        test_file(d)
        test_no_chrony(d)
    print("PASS")


if __name__ == "__main__":
    main()
