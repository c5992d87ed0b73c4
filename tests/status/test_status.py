#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsd's status socket on the real chain: gpspps-sim on a pty ->
gpsppsd --pps sim -> a real chronyd (private, -x).

Scenarios (argv[1]):
  chain   `status` and `watch` while the simulator injects bad checksums
          and missing seconds: between two snapshots the receiver's
          counters (epochs, bad checksums, sentences per type) equal what
          the simulator's --log says it sent; PPS `sent` equals the PPS
          samples in chronyd's refclocks.log; `watch` gives one object a
          second; the receiver state follows the simulator (valid while it
          runs, absent when it is gone).
  abuse   while samples flow: a watcher that never reads, a client that
          never sends its request, 50 clients at once, a 1 MiB request and
          random bytes.  The daemon keeps sending a PPS sample every second
          (refclocks.log has no gap), its RSS stays within RSS_BOUND, the
          silent client and the non-reader are dropped, the 50 get at most
          8 answers and refusals for the rest, and a well-behaved client
          still gets its answer.
  socket  the socket file's life, without a receiver: mode 0660, removed
          at exit; a stale one (its daemon killed) replaced; one a live
          daemon answers on, or a file that is not a socket, left alone
          with a warning naming it while the daemon runs on; none makes
          no socket.
"""

import json
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail, prog,  # noqa: E402
                            rss_kb, wait_path)

BAUD = 38400
DELAY = 0.35
# The daemon's own bound is 8 clients x (16 KiB queued + 16 KiB socket
# buffer); this leaves room for the allocator's slack around them.
RSS_BOUND_KB = 2048
TYPES = ["RMC", "GGA", "GSA", "GSV"]


def refclocks(d):
    return [
        f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 prefer",
        f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 precision 1e-3 "
        "noselect",
    ]


def start_chain(d, sim_args=()):
    tty = os.path.join(d, "gps0")
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", BAUD,
                "--delay", DELAY, "--sentences", ",".join(TYPES),
                "--log", os.path.join(d, "sim.jsonl")] + list(sim_args),
               os.path.join(d, "sim.log"))
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    daemon = Proc([prog("gpsppsd"), "--config", "/dev/null",
                   "--device", tty, "--baud", BAUD, "--pps", "sim:jitter=4us,seed=11",
                   "--pps-socket", f"{d}/pps.sock",
                   "--nmea-socket", f"{d}/nmea.sock",
                   "--status-socket", f"{d}/status.sock"],
                  os.path.join(d, "gpsppsd.log"))
    if not wait_path(f"{d}/status.sock", 5):
        fail(f"no status socket: {daemon.output()}")
    return sim, daemon


def connect(path, timeout=3.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Blocking: with the listen queue full, connect waits for the daemon
    # to accept (a socket with a timeout would fail with EAGAIN).
    s.connect(path)
    s.settimeout(timeout)
    return s


def read_all(s):
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            return data
        data += b


def status(path):
    """One `status` answer: the object, after which the daemon closed."""
    with connect(path) as s:
        s.sendall(b"status\n")
        data = read_all(s)
    lines = data.splitlines()
    if len(lines) != 1:
        fail(f"status answer is {len(lines)} lines: {data[:200]!r}")
    o = json.loads(lines[0])
    if o.get("version") != 1:
        fail(f"status object without version 1: {lines[0][:200]!r}")
    return o


def at_quiet_time(frac=0.7):
    """Sleep to `frac` past the next whole second of the system clock:
    bursts (0.35 s after the second, under 0.1 s long at 38400 baud) are
    over and their epochs closed, so a snapshot sees whole epochs only."""
    now = time.time()
    t = int(now) + frac
    if t <= now + 0.05:
        t += 1
    time.sleep(t - now)


def sim_log(d):
    with open(os.path.join(d, "sim.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def sent_between(log, first_label, last_label):
    """Epochs the simulator labelled in (first_label, last_label]."""
    return [e for e in log
            if first_label < e["label"][:19] <= last_label]


def expected_counts(epochs):
    """What the simulator sent: epochs, bad checksums and valid
    sentences per type (GSV is three sentences: indices 3-5)."""
    sent = [e for e in epochs if "missing" not in e["faults"]]
    bad = [e for e in sent if "badsum" in e["faults"]]
    kinds = ["RMC", "GGA", "GSA", "GSV", "GSV", "GSV"]
    per_type = {t: 0 for t in TYPES}
    for e in sent:
        for i, k in enumerate(kinds):
            if e.get("badsum_sentence") != i:
                per_type[k] += 1
    return {"epochs": len(sent), "bad_checksums": len(bad),
            "sentences": per_type,
            "missing": len(epochs) - len(sent)}


def label(o):
    """The snapshot's last epoch label, 'YYYY-MM-DDTHH:MM:SS'."""
    return o["receiver"]["last_epoch"][:19]


def delta(a, b, *keys):
    x, y = a, b
    for k in keys:
        x, y = x[k], y[k]
    return y - x


def check_receiver_counts(d, s0, s1):
    exp = expected_counts(sent_between(sim_log(d), label(s0), label(s1)))
    r0, r1 = s0["receiver"], s1["receiver"]
    got = {"epochs": r1["epochs"] - r0["epochs"],
           "bad_checksums": r1["bad_checksums"] - r0["bad_checksums"],
           "sentences": {t: r1["sentences"].get(t, 0) -
                         r0["sentences"].get(t, 0) for t in TYPES}}
    print(f"between {label(s0)} and {label(s1)}: simulator sent "
          f"{exp['epochs']} epochs ({exp['missing']} missing seconds), "
          f"{exp['bad_checksums']} bad checksums, sentences "
          f"{exp['sentences']}; status says {got}")
    for k in ("epochs", "bad_checksums", "sentences"):
        if got[k] != exp[k]:
            fail(f"receiver {k}: status {got[k]} != simulator {exp[k]}")
    if exp["bad_checksums"] == 0 or exp["missing"] == 0:
        fail("the faults were not exercised: raise their rates")


def pps_log_count(c):
    return len([x for x in c.refclock_lines("PPS")])


def check_sent_vs_chronyd(c, o, when):
    """chronyd logs each sample in refclocks.log as it reads it.  The
    snapshot is taken at a quiet time, when no sample is being sent, and
    the log is read after it: the only difference allowed is a sample
    sent before the snapshot that chronyd has not read and logged yet
    (one at most: one sample a second, read within ms)."""
    time.sleep(0.1)
    logged = pps_log_count(c)
    sent = o["chronyd"]["pps"]["sent"]
    print(f"{when}: status PPS sent {sent}, refclocks.log PPS samples "
          f"{logged}")
    if not 0 <= sent - logged <= 1:
        fail(f"{when}: PPS sent {sent} but chronyd logged {logged}")
    return sent, logged


def watch_objects(path, n):
    """The first n objects of a `watch`, with the time each came."""
    out = []
    with connect(path, timeout=5) as s:
        s.sendall(b"watch\n")
        buf = b""
        while len(out) < n:
            b = s.recv(65536)
            if not b:
                fail(f"watch ended after {len(out)} objects")
            buf += b
            while b"\n" in buf and len(out) < n:
                line, buf = buf.split(b"\n", 1)
                out.append((time.monotonic(), json.loads(line)))
    return out


def check_watch(path):
    objs = watch_objects(path, 6)
    span = objs[-1][0] - objs[1][0]
    ups = [o["daemon"]["uptime_s"] for _, o in objs]
    epochs = [o["receiver"]["epochs"] for _, o in objs]
    print(f"watch: 6 objects, the last 5 over {span:.2f} s, epochs {epochs}")
    # One a second (the daemon's 1 s housekeeping tick): 4 intervals.
    if not 3.5 <= span <= 4.5:
        fail(f"watch: 4 intervals took {span:.2f} s, not about 4 s")
    if ups != sorted(ups) or epochs != sorted(epochs) or \
            epochs[-1] <= epochs[0]:
        fail(f"watch: counters do not advance: {ups} {epochs}")


def check_running(o, faults=False):
    """What a healthy running chain reports.  With faults (missing seconds
    at random labels), the rate is lower and warm-up may restart after two
    missing seconds in a row, so the guard and last sample are not
    checked."""
    r, p = o["receiver"], o["pairing"]
    problems = []
    if r["state"] != "valid" or r["talker"] != "GP":
        problems.append(f"receiver {r['state']} talker {r['talker']}")
    low = 0.3 if faults else 0.8
    if not low <= (r["epochs_per_s"] or 0) <= 1.05:
        problems.append(f"epochs_per_s {r['epochs_per_s']}")
    med = o["nmea_delay"]["median_s"]
    if med is None or abs(med - DELAY) > 0.005:
        problems.append(f"NMEA delay median {med}, simulated {DELAY}")
    if not faults and (p["guard"] != "locked" or
                       o["last"]["pps"] != "sample"):
        problems.append(f"guard {p['guard']}, last {o['last']}")
    if o["pps"]["backend"] != "sim" or o["pps"]["edges"] < 5:
        problems.append(f"pps {o['pps']}")
    jit = o["pps"]["jitter_s"]
    if not faults and (jit is None or not 0 < jit < 20e-6):
        problems.append(f"PPS jitter {jit} s with 4 us simulated")
    if o["chronyd"]["pps"]["last_error"] is not None:
        problems.append(f"chronyd pps {o['chronyd']['pps']}")
    if problems:
        fail("running chain: " + "; ".join(problems))
    print(f"running: state valid, {r['epochs_per_s']:.3f} epochs/s, "
          f"NMEA delay median {med:.4f} s spread "
          f"{o['nmea_delay']['spread_s']:.6f} s, guard {p['guard']}, PPS "
          f"jitter {o['pps']['jitter_s']} s ({o['pps']['jitter_kind']})")


def scenario_chain():
    with TestDir("gpspps-status-") as d, Chronyd(d, refclocks(d)) as c:
        sim, daemon = start_chain(d, ["--count", "40", "--seed", "5",
                                      "--fault", "badsum=0.3",
                                      "--fault", "missing=0.25"])
        time.sleep(6)
        at_quiet_time()
        s0 = status(f"{d}/status.sock")
        check_sent_vs_chronyd(c, s0, "first snapshot")
        check_running(s0, faults=True)
        check_watch(f"{d}/status.sock")
        at_quiet_time()
        mid = status(f"{d}/status.sock")
        check_sent_vs_chronyd(c, mid, "mid-run snapshot")
        # The simulator stops after 40 epochs and removes its pty.
        deadline = time.monotonic() + 60
        while sim.alive() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(2)
        s1 = status(f"{d}/status.sock")
        check_receiver_counts(d, s0, s1)
        sent, logged = check_sent_vs_chronyd(c, s1, "after the simulator")
        if sent != logged:
            fail(f"no sample in flight at the end, yet sent {sent} != "
                 f"logged {logged}")
        if s1["receiver"]["state"] != "absent":
            fail(f"receiver state {s1['receiver']['state']} after the "
                 "simulator's pty is gone")
        rc = daemon.stop()
        if rc != 0:
            fail(f"gpsppsd exited {rc}: {daemon.output()[-500:]}")
        if os.path.exists(f"{d}/status.sock"):
            fail("the status socket was not removed at exit")
    print("PASS")


# ---- abuse ---------------------------------------------------------------

def closed_by_daemon(s, timeout=3.0):
    """Read until the daemon closes: returns the bytes, or None when it
    did not close within timeout."""
    s.settimeout(timeout)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                return data
            data += b
    except socket.timeout:
        return None
    except ConnectionResetError:
        return data


def fifty_at_once(path):
    """50 connections made before any request: at most 8 are served (some
    slots are held by the other abusers), the others get the refusal."""
    socks = [connect(path) for _ in range(50)]
    answered = refused = 0
    for s in socks:
        try:
            s.sendall(b"status\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
    for s in socks:
        data = closed_by_daemon(s) or b""
        s.close()
        if b'"error":"too many clients' in data:
            refused += 1
        elif data.startswith(b'{"version":1,"time"'):
            answered += 1
    print(f"50 clients at once: {answered} answered, {refused} refused")
    if answered > 8 or answered + refused != 50 or refused < 42:
        fail(f"50 clients: {answered} answered, {refused} refused")


def huge_request(path):
    s = connect(path)
    s.setblocking(False)
    blob = b"a" * (1 << 20)
    t0 = time.monotonic()
    sent = 0
    try:
        while sent < len(blob) and time.monotonic() - t0 < 3:
            try:
                sent += s.send(blob[sent:])
            except BlockingIOError:
                time.sleep(0.01)
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.setblocking(True)
    data = closed_by_daemon(s)
    s.close()
    print(f"1 MiB request: {sent} bytes taken, answer {data!r}")
    if data is None or b"longer than 256" not in data:
        fail(f"1 MiB request not refused and closed: {data!r}")


def random_bytes(path, rng):
    bad = 0
    for _ in range(40):
        s = connect(path)
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        if b"\n" not in junk[:256] and len(junk) < 256:
            junk += b"\x00"
        try:
            s.sendall(junk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if closed_by_daemon(s) is None:
            bad += 1
        s.close()
    if bad:
        fail(f"{bad} of 40 random-byte clients were not closed")
    print("40 random-byte clients: all closed by the daemon")


def pps_gaps(c, t0, t1):
    """Seconds between successive PPS samples logged in [t0, t1]."""
    from datetime import datetime, timezone
    times = []
    for x in c.refclock_lines("PPS"):
        dt = datetime.strptime(f"{x['date']} {x['time']}",
                               "%Y-%m-%d %H:%M:%S.%f")
        t = dt.replace(tzinfo=timezone.utc).timestamp()
        if t0 <= t <= t1:
            times.append(t)
    return times, [b - a for a, b in zip(times, times[1:])]


def abuse_all(path, rng):
    silent = connect(path)                  # never sends a request
    nonreader = connect(path)               # asks to watch, never reads
    nonreader.sendall(b"watch\n")
    fifty_at_once(path)
    huge_request(path)
    random_bytes(path, rng)
    if closed_by_daemon(silent, timeout=8) is None:
        fail("a client that sent no request was not closed within 8 s")
    silent.close()
    return nonreader


def wait_dropped(path, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        o = status(path)
        if o["status_socket"]["dropped"] >= 1:
            return o
        time.sleep(1)
    fail(f"the watcher that never reads was not dropped in {timeout} s")


def scenario_abuse():
    rng = random.Random(8)
    with TestDir("gpspps-status-") as d, Chronyd(d, refclocks(d)) as c:
        sim, daemon = start_chain(d)
        path = f"{d}/status.sock"
        time.sleep(8)
        status(path)
        rss0 = rss_kb(daemon.proc.pid)
        t0 = time.time()
        nonreader = abuse_all(path, rng)
        good = status(path)                 # a well-behaved client
        check_running(good)
        o = wait_dropped(path, 60)
        nonreader.close()
        t1 = time.time()
        rss1 = rss_kb(daemon.proc.pid)
        ss = o["status_socket"]
        print(f"status socket: {ss}")
        print(f"RSS {rss0} kB before, {rss1} kB after "
              f"(bound: +{RSS_BOUND_KB} kB)")
        if rss1 - rss0 > RSS_BOUND_KB:
            fail(f"RSS grew by {rss1 - rss0} kB")
        if ss["clients"] != 1 or ss["refused"] < 42 or ss["bad_requests"] < 42:
            fail(f"status socket counters: {ss}")
        time.sleep(1.5)
        times, gaps = pps_gaps(c, t0, t1)
        print(f"PPS samples during the abuse ({t1 - t0:.0f} s): "
              f"{len(times)}, largest gap {max(gaps):.3f} s")
        if len(times) < (t1 - t0) - 2 or max(gaps) > 1.5:
            fail(f"PPS samples stopped during the abuse: gaps {gaps}")
        rc = daemon.stop()
        sim.stop()
        if rc != 0:
            fail(f"gpsppsd exited {rc}: {daemon.output()[-500:]}")
    print("PASS")


# ---- the socket file ------------------------------------------------------

def daemon_alone(d, name, sock):
    return Proc([prog("gpsppsd"), "--config", "/dev/null",
                 "--device", f"{d}/no-receiver", "--pps-socket", f"{d}/p.sock",
                 "--nmea-socket", f"{d}/n.sock", "--status-socket", sock],
                os.path.join(d, name + ".log"))


def answers(sock):
    try:
        return status(sock)["daemon"]["pid"]
    except OSError:
        return None


def expect_warning(p, words, what):
    time.sleep(0.5)
    out = p.output()
    if not p.alive() or not all(w in out for w in words):
        fail(f"{what}: alive {p.alive()}, log {out!r}")
    print(f"{what}: {[x for x in out.splitlines() if 'status' in x]}")


def scenario_socket():
    with TestDir("gpspps-status-") as d:
        sock = f"{d}/status.sock"
        first = daemon_alone(d, "first", sock)
        if not wait_path(sock, 5):
            fail(f"no status socket: {first.output()}")
        mode = os.stat(sock).st_mode & 0o777
        if mode != 0o660 or answers(sock) != first.proc.pid:
            fail(f"socket mode {mode:o}, answered by {answers(sock)}")
        second = daemon_alone(d, "second", sock)
        expect_warning(second, [sock, "in use by another process",
                                "running without a status socket"],
                       "a second daemon on the same path")
        second.stop()
        if answers(sock) != first.proc.pid:
            fail("the second daemon took the first one's socket")
        first.stop(sig=9)
        third = daemon_alone(d, "third", sock)
        time.sleep(0.5)
        if answers(sock) != third.proc.pid:
            fail(f"stale socket not replaced: {third.output()}")
        if third.stop() != 0 or os.path.exists(sock):
            fail("socket not removed at exit")
        with open(sock, "w") as f:
            f.write("keep me\n")
        fourth = daemon_alone(d, "fourth", sock)
        expect_warning(fourth, [sock, "not a socket"],
                       "a regular file at the path")
        fourth.stop()
        with open(sock) as f:
            if f.read() != "keep me\n":
                fail("the regular file at the status path was changed")
        off = daemon_alone(d, "off", "none")
        time.sleep(0.5)
        out = off.output()
        off.stop()
        if "status socket" in out or os.path.exists(f"{d}/none"):
            fail(f"status-socket none: {out!r}")
    print("PASS")


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "chain"
    {"chain": scenario_chain, "abuse": scenario_abuse,
     "socket": scenario_socket}[which]()


if __name__ == "__main__":
    main()
