#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpspps-sim on a real pty, checked from the reader's side.

Runs the simulator for a few seconds, reads the slave like a daemon would
and checks what a user of the simulator relies on: each burst's first byte
arrives at label + delay within a few ms (measured by this reader with
CLOCK_REALTIME), no byte arrives before the line could have carried it,
every checksum is right, labels are consecutive epochs and agree with the
--log ground truth, the --pty symlink exists while running and is gone
after exit or SIGTERM, and bad options are refused.  The options in --help
and in the man page must be the same, with the same words.

Environment: GPSPPS_BUILD (meson build root), GPSPPS_SRC (source root),
GPSPPS_SIM (the program, overrides GPSPPS_BUILD), GPSPPS_SIM_TOL_MS
(first-byte tolerance, default 5).
"""

import calendar
import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("GPSPPS_BUILD", os.path.join(HERE, "..", "..", "build"))
SRC = os.environ.get("GPSPPS_SRC", os.path.join(HERE, "..", ".."))
SIM = os.environ.get("GPSPPS_SIM", os.path.join(BUILD, "src", "gpspps-sim", "gpspps-sim"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from gpspps_harness import check, checks_failed  # noqa: E402

TOL_NS = int(float(os.environ.get("GPSPPS_SIM_TOL_MS", "5")) * 1e6)
# The median first-byte error must be below this (the reader's own wake-up
# latency is part of every measurement).
MEDIAN_NS = 2_000_000
SEC = 1_000_000_000



# ---- NMEA helpers ----

def checksum_ok(line):
    m = re.fullmatch(rb"\$([^*]*)\*([0-9A-F]{2})", line)
    if not m:
        return False
    x = 0
    for b in m.group(1):
        x ^= b
    return x == int(m.group(2), 16)


def label_of(fields_rmc):
    """POSIX ns of an RMC's time + date (2-digit year as 20YY)."""
    t, d = fields_rmc[1], fields_rmc[9]
    frac = t[6:] or ".0"
    sec = calendar.timegm((2000 + int(d[4:6]), int(d[2:4]), int(d[0:2]),
                           int(t[0:2]), int(t[2:4]), int(t[4:6])))
    return sec * SEC + round(float(frac) * SEC)


# ---- running the simulator and reading its pty ----

def realtime_reader():
    """Best effort: let this reader wake as promptly as a daemon would, so
    that its own latency does not count against the simulator."""
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(5))
    except (OSError, AttributeError):
        pass


class Run:
    """gpspps-sim with args, its slave read until the simulator exits."""

    def __init__(self, args, tmp):
        self.link = os.path.join(tmp, "gps0")
        self.log = os.path.join(tmp, "sim.log")
        self.proc = subprocess.Popen(
            [SIM, "--pty", self.link, "--log", self.log] + args,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.slave = self.proc.stdout.readline().decode().strip()
        self.link_target = (os.readlink(self.link)
                            if os.path.islink(self.link) else None)
        self.chunks = []          # (arrival ns, bytes)
        self.ready_ns = None

    def read_all(self, timeout=15):
        realtime_reader()
        fd = os.open(self.link, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        self.ready_ns = time.time_ns()
        end = time.monotonic() + timeout
        try:
            while time.monotonic() < end:
                r, _, _ = select.select([fd], [], [], 0.2)
                if not r:
                    if self.proc.poll() is not None:
                        break
                    continue
                try:
                    data = os.read(fd, 4096)
                except BlockingIOError:
                    continue
                except OSError:       # EIO: the master was closed
                    break
                now = time.time_ns()
                if not data:
                    break
                self.chunks.append((now, data))
        finally:
            os.close(fd)
        self.proc.wait(5)
        self.stderr = self.proc.stderr.read().decode()

    def bursts(self):
        """[(first-byte arrival, [(arrival, byte index of chunk end)], bytes,
        log entry)], chunks assigned to the epoch whose first byte the
        simulator wrote last before they arrived (reader stalls cannot
        split or merge bursts)."""
        entries = sorted((e for e in self.log_lines() if e["actual_ns"]),
                         key=lambda e: e["actual_ns"])
        out = {}
        for t, data in self.chunks:
            owner = None
            for e in entries:
                if e["actual_ns"] <= t:
                    owner = e
            if owner is None:
                continue
            b = out.setdefault(owner["seq"], [t, [], b"", owner])
            b[2] += data
            b[1].append((t, len(b[2]) - 1))
        return [out[k] for k in sorted(out)]

    def log_lines(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]


def check_burst_lines(data, where):
    lines = data.split(b"\r\n")
    check(lines[-1] == b"", f"{where}: burst does not end with CR LF")
    lines = lines[:-1]
    for line in lines:
        check(checksum_ok(line), f"{where}: bad checksum: {line!r}")
    return [line.decode().split("*")[0].split(",") for line in lines]


def check_pacing(burst, due_ns, char_ns, where):
    """No byte may arrive before due + index * character time.  Measured
    arrivals are late by the reader's wake-up latency, never early, so
    this holds however loaded the machine is."""
    ends = burst[1]
    worst = max((due_ns + idx * char_ns) - t for t, idx in ends)
    check(worst < 100_000,
          f"{where}: a byte arrived {worst / 1e6:.3f} ms before the line "
          f"could carry it")


def usable(run, bursts, delay_ns):
    """Bursts due after the reader was ready (the first may not be)."""
    out = []
    for b in bursts:
        if b[3]["intended_ns"] < run.ready_ns + 20_000_000:
            continue
        fields = check_burst_lines(b[2], f"burst {b[3]['label']}")
        rmc = next(f for f in fields if f[0].endswith("RMC"))
        out.append((b, fields, label_of(rmc)))
    return out


# ---- tests ----

def test_one_hz(tmp):
    delay = 350_000_000
    char_ns = 10 * SEC // 9600
    run = Run(["--count", "4", "--sentences", "RMC,GGA,ZDA,GSV"], tmp)
    check(run.slave.startswith("/dev/pts/"), f"slave path {run.slave!r}")
    check(run.link_target == run.slave,
          f"--pty link -> {run.link_target}, slave {run.slave}")
    run.read_all()
    check(run.proc.returncode == 0, f"exit status {run.proc.returncode}: "
          f"{run.stderr}")
    check(not os.path.lexists(run.link), "--pty symlink left after exit")
    good = usable(run, run.bursts(), delay)
    check(len(good) >= 3, f"only {len(good)} whole bursts read")
    log = {e["label_ns"]: e for e in run.log_lines()}
    prev = None
    offsets = []
    for b, fields, label in good:
        where = time.strftime("%H:%M:%S", time.gmtime(label // SEC))
        types = [f[0][3:] for f in fields]
        check(types == ["RMC", "GGA", "ZDA", "GSV", "GSV", "GSV"],
              f"{where}: sentences {types}")
        for f in fields[:3]:
            check(f[1] == fields[0][1], f"{where}: {f[0]} time {f[1]}")
        zda = fields[2]
        rmc_date = fields[0][9]
        check(f"{zda[2]}{zda[3]}{zda[4][2:]}" == rmc_date and len(zda[4]) == 4,
              f"{where}: ZDA {zda[2:5]} vs RMC {rmc_date}")
        check(label % SEC == 0, f"{where}: label not on a second")
        if prev is not None:
            check(label - prev == SEC, f"{where}: label step {label - prev}")
        prev = label
        off = b[0] - (label + delay)
        offsets.append(off)
        check(abs(off) < TOL_NS, f"{where}: first byte at label + delay "
              f"{off / 1e6:+.3f} ms (written at "
              f"{(b[3]['actual_ns'] - label - delay) / 1e6:+.3f} ms)")
        check_pacing(b, label + delay, char_ns, where)
        e = log.get(label)
        if check(e is not None, f"{where}: not in --log"):
            check(e["intended_ns"] == label + delay, f"{where}: log intended")
            check(0 <= e["actual_ns"] - e["intended_ns"] < 1_000_000,
                  f"{where}: log actual - intended "
                  f"{(e['actual_ns'] - e['intended_ns']) / 1e3:.0f} us")
            check(e["written"] == len(b[2]) and e["faults"] == [],
                  f"{where}: log says {e['written']} bytes, read {len(b[2])}")
            check(b[0] >= e["actual_ns"], f"{where}: read before written")
    report_offsets("1 Hz", offsets)


def report_offsets(what, offsets):
    if not offsets:
        return
    print(f"{what}: first byte - (label + delay): "
          f"{', '.join(f'{o / 1e3:+.0f}' for o in offsets)} us")
    med = sorted(abs(o) for o in offsets)[len(offsets) // 2]
    check(med < MEDIAN_NS, f"{what}: median first-byte error "
          f"{med / 1e6:.3f} ms")


def test_five_hz(tmp):
    delay = 50_000_000
    run = Run(["--count", "8", "--rate", "5", "--baud", "115200",
               "--delay", "50ms", "--sentences", "GGA,RMC"], tmp)
    run.read_all()
    check(run.proc.returncode == 0, f"5 Hz exit {run.proc.returncode}")
    good = usable(run, run.bursts(), delay)
    check(len(good) >= 6, f"5 Hz: only {len(good)} bursts")
    prev = None
    offsets = []
    for b, fields, label in good:
        where = f"5 Hz {fields[0][1]}"
        check(fields[0][1] == fields[1][1], f"{where}: GGA/RMC times differ")
        check(re.fullmatch(r"\d{6}\.[02468]00", fields[0][1]) is not None,
              f"{where}: time field")
        if prev is not None:
            check(label - prev == SEC // 5, f"{where}: step {label - prev}")
        prev = label
        offsets.append(b[0] - (label + delay))
        check(abs(offsets[-1]) < TOL_NS,
              f"{where}: first byte {offsets[-1] / 1e6:+.3f} ms (written at "
              f"{(b[3]['actual_ns'] - label - delay) / 1e6:+.3f} ms)")
        check_pacing(b, label + delay, 10 * SEC // 115200, where)
    report_offsets("5 Hz", offsets)


def test_sigterm_and_stale_link(tmp):
    link = os.path.join(tmp, "gps1")
    os.symlink("/nonexistent/pts/99", link)
    p = subprocess.Popen([SIM, "--pty", link], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    slave = p.stdout.readline().decode().strip()
    check(os.path.islink(link) and os.readlink(link) == slave,
          "stale symlink not replaced")
    time.sleep(0.3)
    p.send_signal(signal.SIGTERM)
    try:
        rc = p.wait(3)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = None
    check(rc == 0, f"exit status after SIGTERM: {rc}")
    check(not os.path.lexists(link), "symlink left after SIGTERM")


def test_refuses_regular_file(tmp):
    path = os.path.join(tmp, "notalink")
    with open(path, "w") as f:
        f.write("keep me\n")
    r = subprocess.run([SIM, "--pty", path, "--count", "1"],
                       capture_output=True, text=True, timeout=10)
    check(r.returncode == 1, f"--pty over a file: exit {r.returncode}")
    with open(path) as f:
        check(f.read() == "keep me\n", "--pty clobbered a regular file")


def test_bad_options(tmp):
    cases = [
        (["--rate", "3"], "rate"),
        (["--sentences", "RMC,FOO"], "FOO"),
        (["--delay", "-0.1"], "negative"),
        (["--baud", "9601"], "baud"),
        (["--fault", "nosuch"], "nosuch"),
        (["--fault", "badsum=2"], "rate"),
        (["--leap-at", "2016-12-31T23:59:59"], "leap-at"),
        (["--rate", "10"], "epoch interval"),   # 141 bytes > 100 ms at 9600
        (["--jitter", "1", "--delay", "0.2"], "negative"),
    ]
    for args, word in cases:
        r = subprocess.run([SIM] + args, capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 2 and word in r.stderr and r.stdout == "",
              f"{args}: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    r = subprocess.run([SIM, "--rate", "5", "--baud", "115200", "--count",
                        "1"], capture_output=True, text=True, timeout=10)
    check(r.returncode == 0 and "warning" in r.stderr,
          f"delay + burst > interval should warn: {r.stderr.strip()!r}")


# ---- --help against the man page ----

def help_options():
    out = subprocess.run([SIM, "--help"], capture_output=True, text=True,
                         check=True).stdout
    opts, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"  (--\S+(?: \S+)?)\s{2,}(.*)", line)
        if m:
            cur = m.group(1)
            opts[cur] = m.group(2)
        elif cur and line.startswith("      "):
            opts[cur] += " " + line.strip()
        else:
            cur = None
    return opts


def troff_text(line):
    m = re.match(r"\.(B|I|BI|BR|IR|RB|RI|IB)\s+(.*)", line)
    if m:
        args = re.findall(r'"([^"]*)"|(\S+)', m.group(2))
        args = [a or b for a, b in args]
        line = ("" if len(m.group(1)) == 2 else " ").join(args)
    line = re.sub(r"\\f[BIRP]", "", line)
    return line.replace("\\-", "-").replace("\\ ", " ")


def man_options():
    with open(os.path.join(SRC, "src", "gpspps-sim", "gpspps-sim.1")) as f:
        lines = f.read().splitlines()
    start = lines.index(".SH OPTIONS")
    opts, cur = {}, None
    i = start + 1
    while i < len(lines) and not lines[i].startswith(".SH"):
        if lines[i] == ".TP":
            cur = troff_text(lines[i + 1]).strip()
            opts[cur] = ""
            i += 2
            continue
        if cur:
            opts[cur] += " " + troff_text(lines[i])
        i += 1
    return {k: " ".join(v.split()) for k, v in opts.items()}


def test_help_matches_man(tmp):
    h, m = help_options(), man_options()
    check(set(h) == set(m), f"--help and man page options differ: "
          f"{sorted(set(h) ^ set(m))}")
    for opt, text in h.items():
        text = " ".join(text.split())
        check(m.get(opt, "").startswith(text),
              f"{opt}: --help says {text!r}, man page {m.get(opt)!r}")


def main():
    if not os.access(SIM, os.X_OK):
        print(f"FAIL: {SIM} not built")
        return 1
    for test in (test_help_matches_man, test_bad_options,
                 test_refuses_regular_file, test_sigterm_and_stale_link,
                 test_one_hz, test_five_hz):
        with tempfile.TemporaryDirectory(prefix="gpspps-sim-") as tmp:
            print(f"--- {test.__name__}")
            test(tmp)
    if checks_failed():
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
