#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The real chain built with AddressSanitizer and UndefinedBehaviorSanitizer.

A separate build directory (GPSPPS_SANITIZE_BUILD, default
$GPSPPS_BUILD/sanitize-build) is set up with -Db_sanitize=address,undefined
-Db_lundef=false and builds gpsppsd, gpspps-sim and gpspps-calibrate.  With
those binaries (GPSPPS_BUILD pointed at that directory), and
ASAN_OPTIONS/UBSAN_OPTIONS halt_on_error=1 (LeakSanitizer on at exit):

  1. the e2e scenarios basic, restart, fixloss, unplug, variant, two at
     a time (each on its own chain: a light load on 2 cores);
  2. a fault-heavy run of 80 s (tests/lib/gpspps_faults.py: every
     simulator fault at high rates, PPS sim:miss,spurious, 5 Hz, a leap
     second inserted) with chronyd restarted and the receiver unplugged
     once, and status requests; gpspps-calibrate live against that
     chronyd for 15 s, then --from-log on its refclocks.log without
     chrony.conf;
  3. the offline cases of the calibrate suite (tests/calibrate/
     test_offline.py: --from-file, and --from-log on a 24-hour
     refclocks.log without chrony.conf; its CPU-time benchmark is left to
     cal_offline, as a sanitized build is several times slower).

The suite fails on any failed step and on any sanitizer report: the
sanitizers write to log_path files (one per process that reported), and
every log the steps keep is searched for "runtime error",
"ERROR: AddressSanitizer" and "ERROR: LeakSanitizer".  Its scratch
directory is removed when all is clean, kept (and named) otherwise.

`sanitize.py build` only sets up and builds the sanitized tree: the
parallel test sanitize-build, which runs early beside the other builds,
so that this timing-bound one, run alone, finds it built.
"""

import concurrent.futures
import fcntl
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import gpspps_harness  # noqa: E402
from gpspps_harness import BUILD, CHRONYC, SRC, failed, failures  # noqa: E402

SAN_BUILD = os.environ.get("GPSPPS_SANITIZE_BUILD",
                           os.path.join(BUILD, "sanitize-build"))
TARGETS = ["src/gpsppsd/gpsppsd", "src/gpspps-sim/gpspps-sim",
           "calibrate/gpspps-calibrate"]
# Longest first (about 45, 43, 29, 29 and 28 s), two at a time: 100 s.
SCENARIOS = ["fixloss", "restart", "basic", "variant", "unplug"]
E2E_AT_ONCE = 2
MARKERS = ["runtime error", "ERROR: AddressSanitizer",
           "ERROR: LeakSanitizer"]

def build():
    # sanitize-build runs in the background lane (tests/run-all.sh), so
    # sanitize may start while it builds: one ninja at a time in SAN_BUILD.
    os.makedirs(os.path.dirname(os.path.abspath(SAN_BUILD)), exist_ok=True)
    with open(os.path.abspath(SAN_BUILD) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(os.path.join(SAN_BUILD, "build.ninja")):
            subprocess.run(["meson", "setup", SAN_BUILD, SRC,
                            "-Db_sanitize=address,undefined",
                            "-Db_lundef=false", "-Dbuildtype=debugoptimized",
                            "-Dwerror=true", "-Dfuzz=disabled"], check=True,
                           stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        subprocess.run(["ninja", "-C", SAN_BUILD] + TARGETS, check=True,
                       stdout=subprocess.DEVNULL)
    print(f"sanitized build in {SAN_BUILD} ({time.monotonic() - t0:.0f} s)")


def san_env(work):
    env = dict(os.environ)
    env.update({
        "GPSPPS_BUILD": SAN_BUILD,
        "TMPDIR": work,
        "GPSPPS_KEEP": "1",
        "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:exitcode=23:"
                        "strict_string_checks=1:check_initialization_order=1:"
                        f"log_path={work}/asan",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:"
                         f"log_path={work}/ubsan",
    })
    return env


def run_step(name, args, env, timeout):
    t0 = time.monotonic()
    r = subprocess.run(args, env=env, capture_output=True, text=True,
                       timeout=timeout)
    dt = time.monotonic() - t0
    summary = [ln for ln in r.stdout.splitlines()
               if ln.startswith(("PASS", "FAIL", "ok "))]
    print(f"{name}: exit {r.returncode} in {dt:.0f} s "
          f"{summary[-1] if summary else ''}", flush=True)
    if r.returncode != 0:
        failed(f"{name}: exit {r.returncode}\n{r.stdout[-3000:]}\n"
                  f"{r.stderr[-3000:]}")


def in_process(work, env):
    """This process's children run sanitized too, their files in work."""
    os.environ.update({k: env[k] for k in
                       ("ASAN_OPTIONS", "UBSAN_OPTIONS", "GPSPPS_KEEP")})
    gpspps_harness.BUILD = SAN_BUILD
    tempfile.tempdir = work


def offline_cases(work):
    sys.path.insert(0, os.path.join(SRC, "tests", "calibrate"))
    import test_offline
    d = tempfile.mkdtemp(prefix="offline-", dir=work)
    try:
        test_offline.test_file(d)
        test_offline.test_no_chrony(d)
    except SystemExit as e:
        failed(f"calibrate offline cases: exit {e.code}")


def fault_run(work, env):
    """The fault-heavy chain with the sanitized programs."""
    import gpspps_faults
    d = tempfile.mkdtemp(prefix="fault-run-", dir=work)
    chain = gpspps_faults.FaultChain(d, seed=31, duration_s=80).start()
    t0 = time.monotonic()
    cal = None
    try:
        for _ in range(5):
            time.sleep(5)
            chain.status()      # the status server, sanitized
        chain.alive("in the fault run")
        chain.restart_chronyd()
        time.sleep(10)
        chain.unplug(3.5)
        time.sleep(10)
        cal = subprocess.Popen(
            [gpspps_harness.prog("gpspps-calibrate"), "--conf",
             chain.chronyd.conf, "--chronyc",
             f"{CHRONYC} -h {chain.chronyd.sock}", "--refid", "NMEA",
             "--interval", "1s", "--duration", "15s", "--json"],
            stdout=open(os.path.join(d, "cal-live.json"), "w"),
            stderr=open(os.path.join(d, "cal-live.log"), "w"))
        time.sleep(max(0, 80 - (time.monotonic() - t0)))
        chain.alive("at the end of the fault run")
        cal_rc = cal.wait(30)
    finally:
        pps, nmea = chain.samples("PPS"), chain.samples("NMEA")
        rc = chain.stop()
    print(f"fault run: 80 s, {pps} PPS and {nmea} NMEA samples in "
          f"chronyd's refclocks.log, leap second at {chain.leap}, "
          f"gpsppsd exit {rc}, live calibration exit {cal_rc}", flush=True)
    if rc != 0:
        failed(f"fault run: gpsppsd exit {rc}:\n{chain.log_text()[-3000:]}")
    if pps < 10 or nmea < 10:
        failed(f"fault run: only {pps} PPS and {nmea} NMEA samples")
    if cal_rc not in (0, 3):
        failed(f"fault run: live gpspps-calibrate exit {cal_rc}")
    logs = glob.glob(os.path.join(d, "refclocks*.log"))
    r = subprocess.run([gpspps_harness.prog("gpspps-calibrate"), "--conf",
                        os.path.join(d, "no-chrony.conf"), "--refid", "NMEA",
                        "--offset", "0", "--from-log", logs[0]],
                       capture_output=True, text=True, timeout=60, env=env)
    print(f"fault run: gpspps-calibrate --from-log exit {r.returncode}")
    if r.returncode not in (0, 3):
        failed(f"--from-log on the fault run's log: exit {r.returncode}"
                  f": {r.stderr}")


def scan(work):
    """Sanitizer reports: the log_path files, and the markers anywhere."""
    found = sorted(glob.glob(os.path.join(work, "asan*")) +
                   glob.glob(os.path.join(work, "ubsan*")))
    for path in found:
        with open(path, errors="replace") as f:
            failed(f"sanitizer report {path}:\n{f.read()[:4000]}")
    scanned = 0
    for root, _, files in os.walk(work):
        for name in files:
            path = os.path.join(root, name)
            if path in found or not name.endswith((".log", ".jsonl",
                                                    ".json")):
                continue
            scanned += 1
            with open(path, errors="replace") as f:
                text = f.read()
            for m in MARKERS:
                if m in text:
                    failed(f"{m!r} in {path}")
    print(f"scanned {scanned} logs and {len(found)} report files")


def e2e_steps(env):
    """The e2e scenarios, E2E_AT_ONCE at a time, each on its own chain
    (own directory, pty, sockets and chronyd)."""
    e2e = os.path.join(SRC, "tests", "e2e", "e2e_chrony.py")
    with concurrent.futures.ThreadPoolExecutor(E2E_AT_ONCE) as pool:
        steps = [pool.submit(run_step, f"e2e {s}", [sys.executable, e2e, s],
                             env, 300) for s in SCENARIOS]
        for step in steps:
            step.result()


def main():
    build()
    if sys.argv[1:] == ["build"]:
        return
    work = tempfile.mkdtemp(prefix="gpspps-sanitize-")
    env = san_env(work)
    e2e_steps(env)
    in_process(work, env)
    fault_run(work, env)
    offline_cases(work)
    scan(work)
    if failures:
        print(f"FAIL: {len(failures)} problems; logs kept in {work}")
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("PASS: no sanitizer report")


if __name__ == "__main__":
    main()
