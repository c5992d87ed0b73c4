#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The shipped configuration against a real chronyd (4.3 on Debian 12).

Scenarios (argv[1]):
  accept   chronyd accepts every shipped file: `chronyd -p` parses the
           drop-in and the LAN example unmodified; a running chronyd with
           the drop-in (sockets moved to a private directory), the LAN
           example and the sources file shows the PPS and NMEA refclocks
           with the shipped poll and selection options, and one source per
           server line of the sources file; the leap-second line that
           gpspps-leap-conf picks for this chronyd loads.
           `gpsppsd --check` accepts the package's gpsppsd.conf.  The
           two-receiver example parses, differs from the drop-in only in
           its refclock lines (four, with the drop-in's options, on the
           sockets gpsppsd@.service uses), and a running chronyd with it
           shows PPS0, PPS1, NMA0 and NMA1 (refids have at most four
           characters), the NMEA lines noselect.
  serve    a serving chronyd with the drop-in and the LAN example (allow
           changed to 127.0.0.1), fed by gpsppsd from gpspps-sim, selects
           the PPS; a second chronyd, an NTP client on loopback, syncs from
           it and sees stratum 1 with reference ID PPS.  Also measures how
           fast refclocks.log grows (the SD-card wear note in the drop-in).

Environment: GPSPPS_BUILD, GPSPPS_SRC (set by meson).
"""

import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (BUILD, SRC, Chronyd, Proc, TestDir,  # noqa: E402
                            fail, private_chronyc, private_chronyd, prog,
                            wait_path)

DROPIN = os.path.join(BUILD, "chrony-conf", "gpspps.conf")
SOURCES = os.path.join(SRC, "chrony-conf", "gpspps.sources")
SERVE_LAN = os.path.join(SRC, "chrony-conf", "serve-lan.conf")
TWO = os.path.join(BUILD, "chrony-conf", "two-receivers.conf")
NOTE = "chrony-conf/gpspps.conf.in"


def rundir_of(text):
    m = re.search(r"^refclock SOCK (\S+)/pps\.sock ", text, re.M)
    if not m:
        fail(f"{DROPIN}: no `refclock SOCK .../pps.sock` line")
    return m.group(1)


def private_copy(src, dst, replace=()):
    """Copy a shipped file, applying (old, new) replacements, each of which
    must match (so that a changed file cannot silently skip one)."""
    with open(src) as f:
        text = f.read()
    for old, new in replace:
        if old not in text:
            fail(f"{src}: expected text {old!r} not found")
        text = text.replace(old, new)
    with open(dst, "w") as f:
        f.write(text)
    return dst


def directives(path):
    out = []
    with open(path) as f:
        for line in f:
            s = line.strip()
            if s and s[0] not in "#!;%":
                out.append(s.split())
    return out


def parse_only(path):
    r = subprocess.run([private_chronyd(), "-p", "-f", path], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        fail(f"chronyd -p -f {path} rejected it: {r.stderr.strip()}")
    print(f"chronyd -p accepts {os.path.basename(path)} "
          f"({len(r.stdout.splitlines())} directives)")


LEAP_CONF = os.path.join(SRC, "packaging", "libexec", "gpspps-leap-conf")


def dropin_copy(d):
    """The drop-in with private sockets, followed by the leap-second line
    the package writes beside it (gpspps-leap-conf for this chronyd)."""
    with open(DROPIN) as f:
        rundir = rundir_of(f.read())
    path = private_copy(DROPIN, os.path.join(d, "gpspps.conf"),
                        [(f"{rundir}/pps.sock", f"{d}/pps.sock"),
                         (f"{rundir}/nmea.sock", f"{d}/nmea.sock")])
    r = subprocess.run([LEAP_CONF, private_chronyd()], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 0:
        fail(f"gpspps-leap-conf: {r.stdout}{r.stderr}")
    with open(path, "a") as f:
        f.write(r.stdout)
    return path


def check_leap_zone(c):
    """chronyd loaded the leap-second source gpspps-leap-conf chose."""
    log = c.log_tail(200)
    if "failed leap second check" in log or not re.search(
            r"Using (\S+ timezone to obtain leap second data|leap second "
            r"list)", log):
        fail(f"the leap-second line did not load: {log}")


GPSPPSD_CONF = os.path.join(SRC, "packaging", "gpsppsd.conf")


def refclock_options(words):
    """A refclock line's options but refid and prefer, as a dict."""
    opts = {}
    i = 3
    while i < len(words):
        if words[i] in ("prefer", "noselect"):
            opts[words[i]] = True
            i += 1
        else:
            opts[words[i]] = words[i + 1]
            i += 2
    opts.pop("refid", None)
    opts.pop("prefer", None)
    return opts


def check_two_receivers_shape(rundir):
    """two-receivers.conf is the drop-in with four refclocks: the same
    other directives, each refclock with the options of the drop-in's
    line of its kind, on gpsppsd@NAME.service's socket names."""
    one = directives(DROPIN)
    two = directives(TWO)
    if [w for w in one if w[0] != "refclock"] != \
            [w for w in two if w[0] != "refclock"]:
        fail(f"{TWO}: directives other than refclock differ from {DROPIN}")
    kinds = {os.path.basename(w[2]).split(".")[0]: refclock_options(w)
             for w in one if w[0] == "refclock"}
    got = {}
    for w in (w for w in two if w[0] == "refclock"):
        refid = w[w.index("refid") + 1]
        kind = {"PPS": "pps", "NMA": "nmea"}.get(refid[:-1], refid)
        n = refid[-1]
        if w[2] != f"{rundir}/gps{n}.{kind}.sock":
            fail(f"{TWO}: {refid} reads {w[2]}, gpsppsd@gps{n} sends to "
                 f"{rundir}/gps{n}.{kind}.sock")
        if refclock_options(w) != kinds.get(kind):
            fail(f"{TWO}: {refid} options {refclock_options(w)} differ from "
                 f"the drop-in's {kind} line {kinds.get(kind)}")
        got[refid] = "prefer" in w
    if got != {"PPS0": True, "NMA0": False, "PPS1": False, "NMA1": False}:
        fail(f"{TWO}: refclocks (refid: prefer) {got}, expected PPS0 "
             "(prefer), NMA0, PPS1, NMA1")


def two_receivers_run(rundir):
    with TestDir() as d:
        names = [f"gps{n}.{k}.sock" for n in (0, 1) for k in ("pps", "nmea")]
        conf = private_copy(TWO, os.path.join(d, "two.conf"),
                            [(f"{rundir}/{n}", f"{d}/{n}") for n in names])
        with Chronyd(d, extra=[f"include {conf}"]) as c:
            time.sleep(2)
            if c.proc.poll() is not None:
                fail(f"chronyd exited with {TWO}: {c.log_tail()}")
            s = c.sources()
            for refid in ("PPS0", "PPS1", "NMA0", "NMA1"):
                if s.get(refid, {}).get("poll") != 4:
                    fail(f"{refid} missing or not poll 4: {s}")
            if s["NMA0"]["state"] != "?" or s["NMA1"]["state"] != "?":
                fail(f"the NMEA lines of {TWO} are not noselect: {s}")
            missing = [n for n in names if not os.path.exists(f"{d}/{n}")]
            if missing:
                fail(f"chronyd did not create {missing}")
    print("chronyd ran with two-receivers.conf: PPS0 PPS1 NMA0 NMA1, "
          "the four sockets created")


def scenario_accept():
    for path in (DROPIN, SERVE_LAN, TWO):
        parse_only(path)
    # The package's /etc/gpspps/gpsppsd.conf, and the socket paths it
    # implies, agree with the drop-in.
    r = subprocess.run([prog("gpsppsd"), "--check", "--config", GPSPPSD_CONF],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0 or "configuration OK" not in r.stdout:
        fail(f"gpsppsd --check rejects {GPSPPSD_CONF}: {r.stdout}{r.stderr}")
    with open(DROPIN) as f:
        rundir = rundir_of(f.read())
    with open(GPSPPSD_CONF) as f:
        for line in f:
            w = line.split()
            if w and w[0] in ("pps-socket", "nmea-socket") and \
                    not w[1].startswith(rundir + "/"):
                fail(f"{GPSPPSD_CONF}: {w[0]} {w[1]} is not under {rundir}")
    print("gpsppsd --check accepts packaging/gpsppsd.conf")
    check_two_receivers_shape(rundir)
    two_receivers_run(rundir)
    with TestDir() as d:
        conf = dropin_copy(d)
        srcdir = os.path.join(d, "sources.d")
        os.mkdir(srcdir)
        private_copy(SOURCES, os.path.join(srcdir, "gpspps.sources"))
        n_servers = sum(1 for w in directives(SOURCES)
                        if w[0] in ("server", "pool", "peer"))
        if n_servers != len(directives(SOURCES)) or n_servers == 0:
            fail(f"{SOURCES}: only server/pool/peer lines are allowed")
        c = Chronyd(d, extra=[f"include {conf}", f"include {SERVE_LAN}",
                              f"sourcedir {srcdir}"])
        with c:
            time.sleep(2)
            if c.proc.poll() is not None:
                fail(f"chronyd exited: {c.log_tail()}")
            s = c.sources()
            for refid, poll in (("PPS", 4), ("NMEA", 4)):
                if refid not in s:
                    fail(f"no {refid} refclock in chronyc sources: {s}")
                if s[refid]["poll"] != poll:
                    fail(f"{refid} poll {s[refid]['poll']}, shipped {poll}")
            if s["NMEA"]["state"] != "?":
                fail(f"NMEA is not noselect (state {s['NMEA']['state']})")
            allsrc = [ln for ln in c.chronyc("sources", "-a").splitlines()
                      if ln.startswith("^")]
            if len(allsrc) != n_servers:
                fail(f"{n_servers} server lines in gpspps.sources but chronyd "
                     f"has {len(allsrc)} network sources: {allsrc}")
            check_leap_zone(c)
        print(f"chronyd ran with the drop-in, serve-lan.conf and "
              f"{n_servers} sources from gpspps.sources")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ntpdata(c, addr):
    r = subprocess.run([private_chronyc(), "-h", c.sock, "-n", "ntpdata",
                        addr], capture_output=True, text=True, timeout=10)
    out = {}
    for line in r.stdout.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k.strip()] = v.strip()
    return out


def tracking(c):
    f = c.chronyc("tracking").strip().split(",")
    return {"refid": f[0], "name": f[1], "stratum": int(f[2]),
            "leap": f[-1]}


def start_feed(d):
    tty = os.path.join(d, "gps0")
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", "9600"],
               os.path.join(d, "sim.log"))
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    daemon = Proc([prog("gpsppsd"), "--config", "/dev/null", "--device", tty,
                   "--pps", "sim:jitter=2us,seed=5",
                   "--pps-socket", f"{d}/pps.sock",
                   "--nmea-socket", f"{d}/nmea.sock"],
                  os.path.join(d, "gpsppsd.log"))
    return sim, daemon


def scenario_serve():
    port = free_udp_port()
    with TestDir() as d, TestDir() as dc:
        conf = dropin_copy(d)
        lan = private_copy(SERVE_LAN, os.path.join(d, "serve-lan.conf"),
                           [("allow 192.168.1.0/24", "allow 127.0.0.1")])
        server = Chronyd(d, extra=[f"include {conf}", f"include {lan}",
                                   f"port {port}", "bindaddress 127.0.0.1"])
        client = Chronyd(dc, extra=[
            f"server 127.0.0.1 port {port} iburst minpoll 1 maxpoll 1"])
        sim, daemon = start_feed(d)
        t0 = time.monotonic()
        try:
            with server, client:
                def pps_selected(s):
                    return s.get("PPS", {}).get("state") == "*"
                if server.wait_sources(pps_selected, 150) is None:
                    print(server.chronyc("sources", csv=False))
                    fail(f"serving chronyd did not select the PPS: "
                         f"{daemon.output()[-2000:]}")
                t_sel = time.monotonic() - t0
                tr = tracking(server)
                if tr["name"] != "PPS" or tr["stratum"] != 1:
                    fail(f"server tracking: {tr}, expected PPS stratum 1")

                def synced(s):
                    src = s.get("127.0.0.1")
                    return src is not None and src["state"] == "*"
                s = client.wait_sources(synced, 90)
                if s is None:
                    print(client.chronyc("sources", csv=False))
                    fail("the client did not select the server")
                nd = ntpdata(client, "127.0.0.1")
                if s["127.0.0.1"]["stratum"] != 1 or nd.get("Stratum") != "1":
                    fail(f"client sees stratum {s['127.0.0.1']['stratum']} / "
                         f"{nd.get('Stratum')}, expected 1")
                if not nd.get("Reference ID", "").endswith("(PPS)"):
                    fail(f"client sees reference ID {nd.get('Reference ID')}")
                ct = tracking(client)
                if ct["stratum"] != 2:
                    fail(f"client tracking stratum {ct['stratum']}, expected 2")
                check_leap_zone(server)
                print(f"server selected PPS after {t_sel:.0f} s; client sees "
                      f"stratum {nd['Stratum']}, reference ID "
                      f"{nd['Reference ID']}, own stratum {ct['stratum']} "
                      f"after {time.monotonic() - t0:.0f} s")
                print(server.chronyc("sources", csv=False))
                print(client.chronyc("sources", csv=False))
                report_log_rate(server)
        finally:
            daemon.stop()
            sim.stop()


def report_log_rate(c):
    """Bytes per day of refclocks.log at the shipped settings."""
    path = os.path.join(c.dir, "refclocks.log")
    s0, t0 = os.path.getsize(path), time.monotonic()
    time.sleep(20)
    s1, t1 = os.path.getsize(path), time.monotonic()
    per_day = (s1 - s0) / (t1 - t0) * 86400
    print(f"refclocks.log grows by {per_day / 1e6:.1f} MB/day "
          f"(see the note in {NOTE})")
    if per_day <= 0:
        fail("refclocks.log did not grow: `log refclocks` not in effect")


def main():
    if not os.path.exists(DROPIN):
        fail(f"{DROPIN} not built")
    scenario = sys.argv[1] if len(sys.argv) > 1 else "accept"
    {"accept": scenario_accept, "serve": scenario_serve}[scenario]()
    print("PASS")


if __name__ == "__main__":
    main()
