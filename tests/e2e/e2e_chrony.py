#!/usr/bin/env python3
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

Every check reads what a user would: chronyc sources and chronyd's own
refclocks.log, plus gpsppsd --dump for the simulated edge errors.
"""

import json
import os
import sys
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import Chronyd, Proc, TestDir, fail, prog, wait_path  # noqa: E402

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


def log_time_ns(line):
    """refclocks.log date+time (UTC, microseconds) -> ns."""
    dt = datetime.strptime(f"{line['date']} {line['time']}",
                           "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return int(dt.timestamp()) * NS + dt.microsecond * 1000


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


def first_sample_after(c, refid, t0_ns):
    for line in c.refclock_lines(refid):
        t = log_time_ns(line)
        if t >= t0_ns:
            return t
    return None


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


def main():
    name = sys.argv[1]
    with TestDir(f"gpspps-e2e-{name}-") as d:
        globals()[f"scenario_{name}"](d)
    print(f"PASS: {name}")


if __name__ == "__main__":
    main()
