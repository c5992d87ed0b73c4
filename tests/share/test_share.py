#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsd's share-pty and share-tcp with real consumers.

One chain: gpspps-sim -> gpsppsd (--pps sim) -> a private chronyd, and
gpsppsd re-exporting the bytes it reads on a pty (a symlink) and on TCP.
Two of Debian's gpsd (run in the foreground on private ports, no system
service involved) read the shared pty and the TCP port; `gpspipe -w` on
each must show TPV objects whose time is the simulator's (the system
clock's second, within 2 s) and whose position is the simulator's, while
chronyd keeps getting a PPS sample every second.  Then: a TCP consumer
that connects and never reads for 15 s (chronyd's PPS samples go on, one
a second, and other consumers still get every burst); 8 consumers at once,
each receiving the same valid sentences; consumers that come and go (TCP
and the pty) leave gpsppsd serving the next one.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail, prog, skip,  # noqa: E402
                            wait_path)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "sim"))
from test_sim_pty import checksum_ok  # noqa: E402

NS = 1_000_000_000
# gpspps-sim's position (simgen.c): 4807.0380 N, 01131.0000 E, each
# +-0.0005 minutes of arc.
LAT = 48 + 7.0380 / 60
LON = 11 + 31.0 / 60
POS_TOL = 0.00051 / 60


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def read_for(sock, seconds):
    sock.settimeout(0.2)
    data = b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            c = sock.recv(65536)
        except socket.timeout:
            continue
        if not c:
            break
        data += c
    return data


def sentences(data):
    return [ln for ln in data.split(b"\r\n") if checksum_ok(ln)]


def pps_times(c):
    return [ln["time"] for ln in c.refclock_lines("PPS")]


def gpsd(d, name, device):
    port = free_port()
    p = Proc(["gpsd", "-N", "-n", "-b", "-S", str(port),
              "-F", f"{d}/{name}.sock", "-P", f"{d}/{name}.pid", device],
             os.path.join(d, f"{name}.log"))
    return p, port


def tpv(port, what):
    """TPV objects from gpspipe -w on a gpsd, and the wall-clock span
    (s) during which gpspipe ran."""
    t0 = time.time()
    r = subprocess.run(["gpspipe", "-w", "-n", "25", f"127.0.0.1:{port}"],
                       capture_output=True, text=True, timeout=30)
    out = []
    for line in r.stdout.splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("class") == "TPV" and o.get("mode", 0) >= 2 and "time" in o:
            out.append(o)
    if not out:
        fail(f"{what}: no TPV with a fix from gpspipe -w:\n{r.stdout}"
             f"{r.stderr}")
    return out, (t0, time.time())


def check_tpv(got, what):
    from datetime import datetime
    objs, (t0, t1) = got
    for o in objs:
        t = datetime.strptime(o["time"][:19], "%Y-%m-%dT%H:%M:%S")
        t = (t - datetime(1970, 1, 1)).total_seconds()
        if not t0 - 3 <= t <= t1:
            fail(f"{what}: TPV time {o['time']} is not the simulator's "
                 f"second (gpspipe ran {t0:.1f} .. {t1:.1f})")
        if abs(o["lat"] - LAT) > POS_TOL or abs(o["lon"] - LON) > POS_TOL:
            fail(f"{what}: TPV position {o['lat']}, {o['lon']} is not the "
                 f"simulator's {LAT:.6f}, {LON:.6f}")
    print(f"{what}: {len(objs)} TPV, e.g. {json.dumps(objs[-1])[:160]}")


def test_gpsd(d, c, share, tcp_port):
    a, pa = gpsd(d, "gpsd-pty", share)
    b, pb = gpsd(d, "gpsd-tcp", f"tcp://127.0.0.1:{tcp_port}")
    try:
        time.sleep(2)
        n0 = len(pps_times(c))
        check_tpv(tpv(pa, "gpsd on share-pty"), "gpsd on share-pty")
        check_tpv(tpv(pb, "gpsd on share-tcp"), "gpsd on share-tcp")
        n = len(pps_times(c)) - n0
        if n < 3:
            fail(f"chronyd got {n} PPS samples while gpsd was reading")
        print(f"chronyd got {n} PPS samples meanwhile")
    finally:
        a.stop()
        b.stop()


def test_stalled(c, tcp_port):
    stalled = socket.create_connection(("127.0.0.1", tcp_port))
    stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    t0 = time.time()
    n0 = len(pps_times(c))
    time.sleep(15)
    live = socket.create_connection(("127.0.0.1", tcp_port))
    got = sentences(read_for(live, 3.2))
    n = len(pps_times(c)) - n0
    el = time.time() - t0
    stalled.close()
    live.close()
    if n < el - 3:
        fail(f"with a stalled consumer chronyd got {n} PPS samples in "
             f"{el:.0f} s")
    if len(got) < 4:
        fail(f"a reader beside the stalled one got {len(got)} sentences")
    print(f"stalled consumer: {n} PPS samples in {el:.1f} s, a reader beside "
          f"it got {len(got)} sentences in 3 s")


def test_eight(tcp_port):
    socks = [socket.create_connection(("127.0.0.1", tcp_port))
             for _ in range(8)]
    time.sleep(0.2)
    for s in socks:
        s.setblocking(False)
    data = [b""] * 8
    end = time.monotonic() + 3.3
    while time.monotonic() < end:
        for i, s in enumerate(socks):
            try:
                data[i] += s.recv(65536)
            except BlockingIOError:
                pass
        time.sleep(0.01)
    for s in socks:
        s.close()
    got = [set(sentences(x)) for x in data]
    common = set.intersection(*got)
    if len(common) < 4:
        fail(f"8 consumers: sentences each got {[len(g) for g in got]}, "
             f"{len(common)} common")
    print(f"8 consumers at once: {len(common)} identical valid sentences "
          "each")


def test_come_and_go(share, tcp_port, daemon):
    for i in range(20):
        s = socket.create_connection(("127.0.0.1", tcp_port))
        if i % 2:
            s.recv(10)
        s.close()
        fd = os.open(share, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        os.close(fd)
    if not daemon.alive():
        fail("gpsppsd died with consumers coming and going")
    s = socket.create_connection(("127.0.0.1", tcp_port))
    got = sentences(read_for(s, 2.2))
    s.close()
    fd = os.open(share, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
    data = b""
    end = time.monotonic() + 2.2
    while time.monotonic() < end:
        try:
            data += os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.05)
    os.close(fd)
    if len(got) < 2 or len(sentences(data)) < 2:
        fail(f"after 20 comings and goings: {len(got)} sentences on TCP, "
             f"{len(sentences(data))} on the pty")
    print("20 consumers came and went; the next ones get data")


def main():
    for p in ("gpsd", "gpspipe"):
        if shutil.which(p) is None:
            skip(f"{p} not installed (tests/deps.sh test)")
    with TestDir("gpspps-share-") as d:
        tty, share = f"{d}/gps0", f"{d}/gps-share"
        tcp_port = free_port()
        refs = [f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 prefer",
                f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 noselect"]
        with Chronyd(d, refs) as c:
            sim = Proc([prog("gpspps-sim"), "--pty", tty, "--sentences",
                        "RMC,GGA,GSA"], f"{d}/sim.log")
            wait_path(tty)
            daemon = Proc([prog("gpsppsd"), "--config", "/dev/null",
                           "--device", tty, "--baud", "9600",
                           "--pps", "sim:jitter=2us,seed=3",
                           "--pps-socket", f"{d}/pps.sock",
                           "--nmea-socket", f"{d}/nmea.sock",
                           "--status-socket", "none",
                           "--share-pty", share,
                           "--share-tcp", f"127.0.0.1:{tcp_port}"],
                          f"{d}/gpsppsd.log")
            if not wait_path(share):
                fail(f"no share-pty link: {daemon.output()}")
            time.sleep(4)
            test_gpsd(d, c, share, tcp_port)
            test_stalled(c, tcp_port)
            test_eight(tcp_port)
            test_come_and_go(share, tcp_port, daemon)
            daemon.stop()
            sim.stop()
            if os.path.lexists(share):
                fail("share-pty link left behind after gpsppsd exited")
    print("PASS")


if __name__ == "__main__":
    main()
