#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end: gpspps-sim on a pty -> gpsppsd --pps sim -> a real chronyd.

Scenarios (argv[1]):
  basic     chronyd selects PPS (*) with |offset| < 1 us; the NMEA refclock
            shows the simulated delay within 10 ms; refclocks.log's raw PPS
            offsets equal minus the simulated edge error to 1 ns.
  restart   chronyd is restarted mid-run: PPS and NMEA samples reach the new
            chronyd within 2 s of its socket appearing.
  fixloss   the receiver reports no fix for runs of seconds: nothing is
            sent for those seconds (refclocks.log) and samples resume.
  variant   non-default receiver: talker GN, GGA+ZDA+GSV, 5 Hz, 0.73 s
            delay at 115200 baud: PPS still selected, NMEA offset right.
  unplug    gpsppsd starts before the receiver and chronyd, waits for the
            port (logged once), then the receiver is unplugged (the
            simulator killed: the pty hangs up) and back 3.5 s later: samples
            resume within the serial back-off bound, "lost" is logged once
            and gpsppsd never exits.

Every check reads what a user would: chronyc sources and chronyd's own
refclocks.log, plus gpsppsd --dump for the simulated edge errors.
"""

import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (Chronyd, Proc, TestDir, fail,  # noqa: E402
                            first_sample_after, log_time_ns, prog, wait_path)

NS = 1_000_000_000


def refclocks(d):
    return [
        f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 prefer",
        f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 precision 1e-3 noselect",
    ]


def start_chain(d, sim_args=(), pps_args="sim:jitter=4us,seed=11", baud=9600,
                daemon_args=()):
    tty = os.path.join(d, "gps0")
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", baud,
                "--log", os.path.join(d, "sim.jsonl")] + list(sim_args),
               os.path.join(d, "sim.log"))
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    dump = open(os.path.join(d, "dump.jsonl"), "w")
    import subprocess
    daemon = subprocess.Popen(
        [prog("gpsppsd"), "--config", "/dev/null", "--device", tty,
         "--baud", str(baud), "--pps", pps_args,
         "--pps-socket", f"{d}/pps.sock", "--nmea-socket", f"{d}/nmea.sock",
         "--dump"] + list(daemon_args),
        stdout=dump, stderr=open(os.path.join(d, "gpsppsd.log"), "w"))
    return sim, daemon, dump


def stop_chain(sim, daemon, dump):
    daemon.terminate()
    try:
        daemon.wait(5)
    except Exception:
        daemon.kill()
    dump.close()
    sim.stop()
    if daemon.returncode not in (0, -15):
        fail(f"gpsppsd exited with {daemon.returncode}")


def read_dump(d):
    out = []
    with open(os.path.join(d, "dump.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out


def wait_selected(c, timeout=60):
    def ok(s):
        p = s.get("PPS")
        return p is not None and p["state"] == "*" and abs(p["offset"]) < 1e-6
    s = c.wait_sources(ok, timeout)
    if s is None:
        print(c.chronyc("sources", csv=False))
        fail("chronyd did not select PPS with |offset| < 1 us within "
             f"{timeout} s: {c.sources()}")
    return s


def check_nmea_offset(c, delay, tol=0.010):
    s = c.sources()
    n = s.get("NMEA")
    if n is None or n["reach"] == 0:
        fail(f"no NMEA samples reached chronyd: {s}")
    # chronyc shows +D for samples that arrive D late.
    if abs(n["measured"] - delay) > tol:
        fail(f"NMEA offset {n['measured']:.6f} s, expected {delay} s +- {tol}")
    print(f"NMEA refclock offset {n['measured']*1e3:.3f} ms "
          f"(simulated delay {delay*1e3:.0f} ms)")


def check_raw_pps_offsets(c, d):
    """Each raw PPS offset in refclocks.log equals label - edge from
    gpsppsd's dump (minus the simulated edge error) to 1 ns."""
    by_tv = {}
    for r in read_dump(d):
        if r.get("pps_sent"):
            by_tv[r["edge_ns"] // 1000 * 1000] = r["pps_offset_ns"]
    lines = c.refclock_lines("PPS")
    matched, worst = 0, 0.0
    for line in lines:
        t = log_time_ns(line)
        if t not in by_tv:
            continue
        err = abs(line["raw"] * 1e9 - by_tv[t])
        worst = max(worst, err)
        matched += 1
        if err > 1.0:
            fail(f"raw PPS offset {line['raw']:.9e} at {line['time']} != "
                 f"{by_tv[t]} ns from the simulated edge")
    if matched < 10:
        fail(f"only {matched} refclocks.log PPS lines matched dump edges "
             f"({len(lines)} lines, {len(by_tv)} samples sent)")
    nonzero = sum(1 for v in by_tv.values() if v != 0)
    if nonzero < matched // 2:
        fail("simulated edge errors are mostly zero: the check would be weak")
    print(f"{matched} raw PPS offsets equal the simulated edge errors "
          f"(worst difference {worst:.3f} ns)")


def scenario_basic(d):
    sim, daemon, dump = start_chain(d, ["--delay", "0.35", "--jitter", "0.002",
                                        "--seed", "5"])
    with Chronyd(d, refclocks(d)) as c:
        s = wait_selected(c)
        print(f"PPS selected: offset {s['PPS']['offset']*1e9:.1f} ns")
        time.sleep(8)
        check_nmea_offset(c, 0.35)
        print(c.chronyc("sources", csv=False))
        stop_chain(sim, daemon, dump)
        check_raw_pps_offsets(c, d)


def scenario_restart(d):
    sim, daemon, dump = start_chain(d, ["--delay", "0.2", "--seed", "6"])
    c = Chronyd(d, refclocks(d)).start()
    try:
        wait_selected(c)
        for i in range(2):
            c.stop()
            time.sleep(3)   # samples fail meanwhile: ENOENT/ECONNREFUSED
            if daemon.poll() is not None:
                fail("gpsppsd died while chronyd was down")
            os.rename(c.dir + "/refclocks.log", c.dir + f"/refclocks.{i}.log")
            t0 = time.time_ns()
            c.start()
            time.sleep(4)
            for refid in ("PPS", "NMEA"):
                t = first_sample_after(c, refid, t0)
                if t is None or t - t0 > 2 * NS:
                    fail(f"{refid} samples did not resume within 2 s of the "
                         f"restart (first at {None if t is None else (t - t0) / 1e9} s)")
                print(f"restart {i + 1}: first {refid} sample "
                      f"{(t - t0) / 1e9:.3f} s after chronyd started")
        wait_selected(c)
    finally:
        c.stop()
        stop_chain(sim, daemon, dump)
    log = open(os.path.join(d, "gpsppsd.log")).read()
    if log.count("not delivered") > 4 * 2:
        fail(f"gpsppsd logged send failures more than once per outage:\n{log}")


def scenario_fixloss(d):
    sim, daemon, dump = start_chain(
        d, ["--delay", "0.3", "--seed", "3", "--fault", "fixloss=0.08"])
    with Chronyd(d, refclocks(d)) as c:
        time.sleep(45)
        stop_chain(sim, daemon, dump)
        recs = read_dump(d)
        invalid = [r for r in recs if r["valid"] is False and r["time"]]
        valid = [r for r in recs if r["valid"]]
        if len(invalid) < 3:
            fail(f"the simulator produced only {len(invalid)} no-fix seconds")
        for r in invalid:
            if r["pps_sent"] or r["nmea_sent"]:
                fail(f"a sample was sent during a fix loss: {r}")
        bad = set()
        for r in invalid:
            sec = int(datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
                      .replace(tzinfo=timezone.utc).timestamp())
            bad.add(sec)
        for line in c.refclock_lines():
            t = log_time_ns(line)
            # PPS samples are dated at the edge (S +- jitter), NMEA
            # samples at the burst (S + 0.3 s): both name second S.
            sec = (t + NS // 2) // NS if line["refid"] == "PPS" else t // NS
            if sec in bad:
                fail(f"chronyd got a {line['refid']} sample at {line['time']} "
                     "during a fix loss")
        sent_after = [r for r in valid if r["pps_sent"]]
        if not sent_after:
            fail("no PPS sample was sent at all")
        print(f"{len(invalid)} no-fix seconds, none sent; "
              f"{len(sent_after)} PPS samples in valid seconds")


def scenario_variant(d):
    sim, daemon, dump = start_chain(
        d, ["--delay", "0.73", "--jitter", "0.004", "--talker", "GN",
            "--sentences", "GGA,ZDA,GSV", "--rate", "5", "--seed", "9"],
        baud=115200)
    with Chronyd(d, refclocks(d)) as c:
        wait_selected(c)
        time.sleep(8)
        check_nmea_offset(c, 0.73)
        stop_chain(sim, daemon, dump)
        check_raw_pps_offsets(c, d)


# daemon.c's serial back-off: the first retry 1 s after a failure, then
# each delay doubled (1, 2, 4, 8, 16, 30 s), reset by a successful open.
# Retries are thus at 1, 3, 7, 15 s after the first failure: a port back
# at T > 0 is reopened by the first retry at 2^k - 1 >= T, before 2T + 1 s.
def backoff_reopen_s(t_back):
    k = 1
    while 2 ** k - 1 < t_back:
        k += 1
    return 2 ** k - 1


# The first samples after an open need --min-valid (3) valid epochs in a
# row: the third burst after the open, at most 4 s; then 1 s of slack for
# the 50 ms idle flush, the send and chronyd's read on a loaded machine.
WARMUP_S = 4 + 1
# Timer, log and polling latency allowed on top of a back-off retry time.
REOPEN_SLACK_S = 0.75
# When the receiver comes back: 0.5 s clear of the retry at 3 s after the
# loss, so the retry it meets is the one at 7 s, whatever the scheduling.
BACK_AFTER_S = 3.5


def wait_log(path, text, count, timeout):
    """Wait until path has count lines containing text; returns the
    (monotonic, wall ns) times it was seen, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with open(path, errors="replace") as f:
            n = sum(1 for line in f if text in line)
        if n >= count:
            return time.monotonic(), time.time_ns()
        time.sleep(0.02)
    return None


def samples_since(c, t0_ns):
    """First sample time (ns) at or after t0_ns for PPS and NMEA."""
    return {r: first_sample_after(c, r, t0_ns) for r in ("PPS", "NMEA")}


def check_alive(daemon, log, when):
    if daemon.poll() is not None:
        fail(f"gpsppsd exited ({daemon.returncode}) {when}:\n"
             f"{open(log).read()}")


def start_sim(d, tty, seed, sims):
    """Start a simulator at tty; sims collects them for the clean-up."""
    sim = Proc([prog("gpspps-sim"), "--pty", tty, "--baud", 9600, "--delay",
                "0.3", "--seed", seed], os.path.join(d, f"sim{seed}.log"))
    sims.append(sim)
    if not wait_path(tty, 5):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    return sim


def unplug_phase_absent(d, tty, log, daemon, sims):
    """gpsppsd waits for a port that is not there yet, logging it once."""
    seen = wait_log(log, f"cannot open {tty}", 1, 5)
    if seen is None:
        fail(f"gpsppsd did not report the missing {tty}: {open(log).read()}")
    t_fail = seen[0]
    time.sleep(max(0.0, t_fail + BACK_AFTER_S - time.monotonic()))
    check_alive(daemon, log, "without its port")
    n = open(log).read().count(f"cannot open {tty}")
    if n != 1:
        fail(f"the missing port was logged {n} times in 3 attempts")
    start_sim(d, tty, 7, sims)
    seen = wait_log(log, f"reading NMEA from {tty}", 1, 10)
    bound = backoff_reopen_s(BACK_AFTER_S)
    if seen is None or seen[0] - t_fail > bound + REOPEN_SLACK_S:
        fail(f"the port was not opened by the retry at {bound} s: "
             f"{open(log).read()}")
    print(f"start-up: missing port logged once; receiver there at "
          f"{BACK_AFTER_S} s, opened at {seen[0] - t_fail:.2f} s "
          f"(back-off retry at {bound} s)")


def unplug_phase_outage(c, d, tty, log, daemon, sims):
    """Kill the receiver, bring it back, time the resumption."""
    sims[-1].stop(signal.SIGKILL)    # the pty's master closes: the slave hangs up
    # As udev removes an unplugged port's node (the killed simulator
    # leaves its symlink dangling, and a freed pts may be reused).
    if os.path.islink(tty):
        os.unlink(tty)
    lost = wait_log(log, "lost", 1, 5)
    if lost is None:
        fail(f"gpsppsd did not notice the unplug: {open(log).read()}")
    t_lost, wall_lost = lost
    time.sleep(max(0.0, t_lost + BACK_AFTER_S - time.monotonic()))
    check_alive(daemon, log, "after the unplug")
    start_sim(d, tty, 8, sims)
    retry = backoff_reopen_s(BACK_AFTER_S)
    bound = retry + WARMUP_S
    reopen = wait_log(log, f"reading NMEA from {tty}", 2, bound + 2)
    check_alive(daemon, log, "after the receiver came back")
    if reopen is None or reopen[0] - t_lost > retry + REOPEN_SLACK_S:
        fail(f"the port was not reopened by the retry at {retry} s: "
             f"{open(log).read()}")
    time.sleep(max(0.0, t_lost + bound + 1 - time.monotonic()))
    first = samples_since(c, wall_lost + NS // 10)
    for refid, t in first.items():
        if t is None or t - wall_lost > bound * NS:
            fail(f"{refid} samples did not resume within {bound} s of the "
                 f"loss (first at {None if t is None else (t - wall_lost) / 1e9} "
                 f"s): {open(log).read()}")
    reopened_s = reopen[0] - t_lost
    print(f"outage: receiver back {BACK_AFTER_S} s after the loss, port "
          f"reopened at {reopened_s:.2f} s, first PPS sample at "
          f"{(first['PPS'] - wall_lost) / 1e9:.2f} s, first NMEA at "
          f"{(first['NMEA'] - wall_lost) / 1e9:.2f} s (bound {bound} s)")
    # And they go on: a PPS and an NMEA sample a second from then on.
    t_more = max(first.values())
    time.sleep(3)
    for refid in ("PPS", "NMEA"):
        n = sum(1 for ln in c.refclock_lines(refid)
                if log_time_ns(ln) > t_more)
        if n < 2:
            fail(f"only {n} {refid} samples in the 3 s after resuming")
    quiet_end = min(first.values()) - NS
    during = [ln for ln in c.refclock_lines()
              if wall_lost + NS // 10 < log_time_ns(ln) < quiet_end]
    if during:
        fail(f"samples during the outage: {during}")


def scenario_unplug(d):
    tty = os.path.join(d, "gps0")
    log = os.path.join(d, "gpsppsd.log")
    daemon = subprocess.Popen(
        [prog("gpsppsd"), "--config", "/dev/null", "--device", tty,
         "--baud", "9600", "--pps", "sim:jitter=4us,seed=12",
         "--pps-socket", f"{d}/pps.sock", "--nmea-socket", f"{d}/nmea.sock"],
        stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    sims = []
    try:
        unplug_phase_absent(d, tty, log, daemon, sims)
        with Chronyd(d, refclocks(d)) as c:
            t0 = time.time_ns()
            deadline = time.monotonic() + 15
            while None in samples_since(c, t0).values():
                if time.monotonic() > deadline:
                    fail(f"no PPS and NMEA samples after the receiver came: "
                         f"{samples_since(c, t0)} {open(log).read()}")
                time.sleep(0.5)
            unplug_phase_outage(c, d, tty, log, daemon, sims)
            check_alive(daemon, log, "after the outage")
    finally:
        daemon.terminate()     # first: the simulator's exit is an unplug
        try:
            daemon.wait(5)
        except Exception:
            daemon.kill()
        for sim in sims:
            sim.stop()
    text = open(log).read()
    if daemon.returncode != 0:
        fail(f"gpsppsd exited with {daemon.returncode}:\n{text}")
    lost = [ln for ln in text.splitlines() if "lost" in ln]
    if len(lost) != 1 or tty not in lost[0]:
        fail(f"expected one \"lost {tty}\" line for one outage:\n{text}")
    if text.count(f"cannot open {tty}") != 2:
        fail(f"the missing port should be logged once per outage (twice):"
             f"\n{text}")
    print(f"gpsppsd log:\n{text}")


def main():
    name = sys.argv[1]
    with TestDir(f"gpspps-e2e-{name}-") as d:
        globals()[f"scenario_{name}"](d)
    print(f"PASS: {name}")


if __name__ == "__main__":
    main()
