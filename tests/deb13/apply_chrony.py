#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpspps-calibrate --apply against a running chronyd 4.6 or newer (run in
the Debian 13 root by deb13_test.py apply; any machine with chrony 4.6+).

gpspps-sim (NMEA 0.35 s late) -> gpsppsd --pps sim -> a private chronyd
with the NMEA refclock at offset 0.  Once chronyd shows the NMEA refclock
about +0.35 s off (`chronyc -c sources`), gpspps-calibrate --from-log
(chronyd's own refclocks.log) --apply must write the offset into the
chrony.conf chronyd runs with and set it in chronyd (`chronyc offset`):
the same chronyd process, not restarted, then shows NMEA within 20 ms of
zero.  Exit 77 when chronyc is older than 4.6 (no `chronyc offset`).

Environment: GPSPPS_BUILD, GPSPPS_SRC.
"""

import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail,  # noqa: E402
                            private_chronyc, prog, skip, wait_path)

DELAY = 0.35


def chrony_version():
    r = subprocess.run([private_chronyc(), "-v"], capture_output=True,
                       text=True)
    m = re.search(r"version (\d+)\.(\d+)", r.stdout)
    if not m:
        fail(f"chronyc -v: {r.stdout}{r.stderr}")
    return int(m.group(1)), int(m.group(2))


def nmea_measured(c):
    n = c.sources().get("NMEA")
    return None if n is None or n["reach"] == 0 else n["measured"]


def wait_nmea(c, pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = nmea_measured(c)
        if m is not None and pred(m):
            return m
        time.sleep(1)
    return None


def conf_offset(path):
    with open(path) as f:
        for line in f:
            if "refid NMEA" in line:
                m = re.search(r"\boffset (\S+)", line)
                return float(m.group(1)) if m else 0.0
    fail(f"{path} lost its NMEA refclock line")


def run(d):
    ver = chrony_version()
    if ver < (4, 6):
        skip(f"chrony {ver[0]}.{ver[1]} has no `chronyc offset` (4.6+)")
    tty = os.path.join(d, "gps0")
    refclocks = [
        f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 prefer",
        f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 precision 1e-3 "
        "offset 0.0 delay 0.2 noselect",
    ]
    with Chronyd(d, refclocks) as c:
        pid = c.proc.pid
        sim = Proc([prog("gpspps-sim"), "--pty", tty, "--delay", DELAY,
                    "--jitter", "0.002", "--seed", "7"],
                   os.path.join(d, "sim.log"))
        if not wait_path(tty, 5):
            fail(f"gpspps-sim made no pty: {sim.output()}")
        daemon = Proc([prog("gpsppsd"), "--config", "/dev/null", "--device",
                       tty, "--pps", "sim:jitter=1us", "--pps-socket",
                       f"{d}/pps.sock", "--nmea-socket", f"{d}/nmea.sock"],
                      os.path.join(d, "gpsppsd.log"))
        before = wait_nmea(c, lambda m: abs(m - DELAY) < 0.02, 60)
        if before is None:
            fail(f"NMEA never showed +{DELAY} s: {c.sources()}")
        time.sleep(30)           # refclocks.log: 40+ NMEA samples
        r = subprocess.run(
            [prog("gpspps-calibrate"), "--conf", c.conf, "--refid", "NMEA",
             "--from-log", os.path.join(d, "refclocks.log"), "--apply",
             "--chronyc", f"{private_chronyc()} -h {c.sock}", "--json"],
            capture_output=True, text=True, timeout=60)
        print(r.stdout[-2000:], r.stderr[-2000:])
        if r.returncode != 0:
            fail(f"gpspps-calibrate --apply exited {r.returncode}")
        out = json.loads(r.stdout)["outcome"]
        if not out["written"] or not out["applied"]:
            fail(f"--apply did not write and apply: {out}")
        written = conf_offset(c.conf)
        if abs(written - DELAY) > 0.01:
            fail(f"chrony.conf now says offset {written}, expected ~{DELAY}")
        after = wait_nmea(c, lambda m: abs(m) < 0.02, 30)
        if after is None:
            fail(f"chronyd still shows NMEA at {nmea_measured(c)} s after "
                 "--apply")
        if c.proc.pid != pid or c.proc.poll() is not None:
            fail("chronyd was restarted or died")
        daemon.stop()
        sim.stop()
    print(f"chrony {ver[0]}.{ver[1]}: NMEA {before:+.6f} s before, "
          f"{after:+.6f} s after --apply, same chronyd (pid {pid}); "
          f"chrony.conf offset {written}; {out['apply_message']}")


def main():
    with TestDir("gpspps-apply-") as d:
        run(d)
    print("PASS: --apply")


if __name__ == "__main__":
    main()
