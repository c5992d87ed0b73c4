#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Serving NTP under load: the shipped serving configuration holds.

A chronyd with the shipped drop-in (chrony-conf/gpspps.conf, sockets moved
to a private directory) and serve-lan.conf (its allow line pointed at
127.0.0.0/8), bound to 127.0.0.1 port 123, fed by gpsppsd from gpspps-sim.
Once it has selected the PPS:

  1. ntpload (tests/ntpload/ntpload.c: loopback only, 127/8 sources,
     bounded) sends client requests at rising rates for 20 s each, spread
     over enough source addresses that none exceeds serve-lan.conf's
     ratelimit; printed per rate: replies per second served, the drop
     rate, chronyd's CPU; after each rate PPS must still be selected with
     |offset| under 1 us, as before the load;
  2. one abusive address (100 requests a second) beside 50 well-behaved
     ones (one request every 2 s each): the abusive one is rate limited
     (most of its requests dropped or answered with a KoD), while every
     well-behaved one gets at least 90% of its answers;
  3. a real client that is not chrony, Debian's sntp (ntpsec's ntpdig),
     reports stratum 1, and the reply it dumps carries refid PPS.

Port 123 of 127.0.0.1 must be free (no system NTP server bound to it or
to the wildcard address); otherwise the test skips.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "conf"))
from gpspps_harness import (BUILD, Chronyd, Proc, TestDir, fail,  # noqa: E402
                            prog, skip, wait_path)
from conf_chrony import SERVE_LAN, dropin_copy, private_copy  # noqa: E402

NTPLOAD = os.path.join(BUILD, "tests", "ntpload", "ntpload")
RATES = [200, 1000, 4000, 16000, 32000]
STEP_S = 20
CLK_TCK = os.sysconf("SC_CLK_TCK")


def port_123_free():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind(("127.0.0.1", 123))
        return True
    except OSError:
        return False
    finally:
        s.close()


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def load(args, timeout=60):
    r = subprocess.run([NTPLOAD, "--port", "123"] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        fail(f"ntpload {args}: exit {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


def pps_state(c):
    p = c.sources().get("PPS")
    if p is None or p["state"] != "*" or abs(p["offset"]) >= 1e-6:
        print(c.chronyc("sources", csv=False))
        fail(f"PPS not selected with |offset| < 1 us: {p}")
    return p


def rising_rates(c):
    pid = c.proc.pid
    for rate in RATES:
        before = pps_state(c)
        cpu0, t0 = cpu_s(pid), time.monotonic()
        # 0.5 requests a second per address: under ratelimit interval 1
        r = load(["--rate", rate, "--seconds", STEP_S,
                  "--sources", rate * 2, "--first-source", "127.1.0.1"])
        cpu = (cpu_s(pid) - cpu0) / (time.monotonic() - t0)
        after = pps_state(c)
        drop = 1 - r["replies"] / r["sent"]
        print(f"rate {rate}/s for {STEP_S} s from {rate * 2} addresses: "
              f"{r['replies'] / STEP_S:.0f} replies/s served, drop rate "
              f"{100 * drop:.2f}% ({r['kod']} KoD), chronyd CPU "
              f"{100 * cpu:.0f}%; PPS offset {before['offset'] * 1e9:+.0f} "
              f"ns before, {after['offset'] * 1e9:+.0f} ns after, selected",
              flush=True)
        if r["stratum"] != 1 or r["refid"] != "PPS":
            fail(f"replies name stratum {r['stratum']}, refid {r['refid']}")


def abusive(c):
    t0 = time.time()
    bad = subprocess.Popen([NTPLOAD, "--port", "123", "--rate", "100",
                            "--seconds", str(STEP_S), "--sources", "1",
                            "--first-source", "127.2.0.1"],
                           stdout=subprocess.PIPE, text=True)
    good = load(["--rate", 25, "--seconds", STEP_S, "--sources", 50,
                 "--first-source", "127.3.0.1"])
    out, _ = bad.communicate(timeout=60)
    bad_r = json.loads(out)
    dropped = bad_r["sent"] - bad_r["replies"]
    print(f"abusive address: {bad_r['sent']} requests in {STEP_S} s, "
          f"{bad_r['replies']} answered, {bad_r['kod']} KoD, "
          f"{dropped - bad_r['kod']} dropped; 50 well-behaved addresses: "
          f"{good['replies']} of {good['sent']} answered, the least "
          f"answered got {good['min_source_replies']} of "
          f"{good['sent'] // 50} (in {time.time() - t0:.0f} s)")
    if bad_r["replies"] > bad_r["sent"] / 2:
        fail("the abusive address was not rate limited")
    if good["answered_sources"] != 50 or \
            good["min_source_replies"] < 0.9 * good["sent"] / 50:
        fail(f"well-behaved addresses lost answers: {good}")


def reply_header(dump):
    """Stratum and refid of the server reply in ntpdig's -D 2 hex dump:
    the first 16-byte line whose mode is 4 (server)."""
    for line in dump.splitlines():
        h = line.split()[:16]
        if len(h) == 16 and all(len(x) == 2 for x in h):
            try:
                b = bytes(int(x, 16) for x in h)
            except ValueError:
                continue
            if b[0] & 7 == 4:
                return b[1], b[12:16].rstrip(b"\0").decode("ascii", "replace")
    return None, None


def real_client():
    """Debian's sntp (ntpsec's ntpdig): its report line says s1, and the
    reply it dumps (-D 2) carries stratum 1 and refid PPS."""
    sntp = shutil.which("sntp") or shutil.which("ntpdig")
    if sntp is None:
        fail("sntp (Debian package sntp) is not installed: tests/deps.sh")
    r = subprocess.run([sntp, "-D", "2", "-t", "3", "127.0.0.1"],
                       capture_output=True, text=True, timeout=30)
    out = r.stdout + r.stderr
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("20")]
    stratum, refid = reply_header(out)
    print(f"{os.path.basename(os.path.realpath(sntp))}: "
          f"{line[-1].strip() if line else '?'}; reply stratum {stratum}, "
          f"refid {refid}")
    if r.returncode != 0 or not line or " s1 " not in line[-1] + " ":
        fail(f"sntp does not report stratum 1: exit {r.returncode}: {out}")
    if stratum != 1 or refid != "PPS":
        fail(f"sntp got stratum {stratum}, refid {refid!r}: {out}")


def main():
    if not port_123_free():
        skip("127.0.0.1:123 is taken (a system NTP server?)")
    with TestDir("gpspps-ntpload-") as d:
        conf = dropin_copy(d)
        lan = private_copy(SERVE_LAN, os.path.join(d, "serve-lan.conf"),
                           [("allow 192.168.1.0/24", "allow 127.0.0.0/8")])
        server = Chronyd(d, extra=[f"include {conf}", f"include {lan}",
                                   "port 123", "bindaddress 127.0.0.1"])
        tty = os.path.join(d, "gps0")
        sim = Proc([prog("gpspps-sim"), "--pty", tty], f"{d}/sim.log")
        if not wait_path(tty, 5):
            fail(f"gpspps-sim made no pty: {sim.output()}")
        daemon = Proc([prog("gpsppsd"), "--config", "/dev/null", "--device",
                       tty, "--pps", "sim:jitter=2us,seed=5",
                       "--pps-socket", f"{d}/pps.sock",
                       "--nmea-socket", f"{d}/nmea.sock",
                       "--status-socket", "none"], f"{d}/gpsppsd.log")
        try:
            with server:
                ok = server.wait_sources(
                    lambda s: s.get("PPS", {}).get("state") == "*" and
                    abs(s["PPS"]["offset"]) < 1e-6, 150)
                if ok is None:
                    fail(f"chronyd did not select PPS: {daemon.output()}")
                rising_rates(server)
                abusive(server)
                real_client()
                pps_state(server)
        finally:
            daemon.stop()
            sim.stop()
    print("PASS")


if __name__ == "__main__":
    main()
