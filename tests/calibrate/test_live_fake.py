# SPDX-License-Identifier: GPL-2.0-or-later
"""gpspps-calibrate live mode against a scripted chronyc (--chronyc).

Deterministic and fast, for what a real chronyd cannot be made to do on
demand: snapshots taken while chronyd is not synchronised, follows the
NMEA source itself, or cannot reach it are counted by reason and never
used, while a leap second announced (Insert/Delete second) is not a
reason to reject one; chronyc failing all the time ends in "unusable"
(exit 3); --precision stops the run early; SIGTERM or SIGINT ends a
--write run with its report but writes nothing (exit 3); --apply calls
`chronyc offset` on a 4.6 chronyc, says a restart is needed on an older
one, and says so too when chronyd refuses the command or `chronyc -v`
fails (exit 6); a live run that runs out of memory (an LD_PRELOAD realloc
that fails, fail_realloc.so: the one fake of the calibrator's own
process) ends with exit 1 and writes nothing, however many snapshots it
had; progress
is redrawn in place on a terminal and printed as plain lines otherwise.
"""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import BUILD, TestDir, fail, prog  # noqa: E402

CAL = prog("gpspps-calibrate")
CONFIGURED = 0.1
TRUE = 0.3

FAKE = r'''#!/usr/bin/env python3
import os, sys
d = os.path.dirname(os.path.abspath(__file__))
args = [a for a in sys.argv[1:] if a not in ("-n", "-c")]
mode = open(os.path.join(d, "mode")).read().strip()
if args == ["-v"]:
    if mode.split(":")[1] == "none":
        print("chronyc: error while loading shared libraries", file=sys.stderr)
        sys.exit(127)
    print(f"chronyc (chrony) version {mode.split(':')[1]} (+CMDMON)")
    sys.exit(0)
if mode.startswith("fail"):
    print("506 Cannot talk to daemon", file=sys.stderr)
    sys.exit(1)
if args[0] == "offset":
    if mode.startswith("refuse"):
        # a 4.6 chronyc talking to an older chronyd
        print("502 Invalid command", file=sys.stderr)
        sys.exit(1)
    with open(os.path.join(d, "applied"), "w") as f:
        f.write(" ".join(args[1:]))
    print("200 OK")
    sys.exit(0)
cpath = os.path.join(d, "count-" + args[0])
k = int(open(cpath).read()) if os.path.exists(cpath) else 0
open(cpath, "w").write(str(k + 1))
if args[0] == "tracking":
    if k < 3:
        print("00000000,,0,0.0,0.0,0.0,0.0,0.000,0.000,0.000,1.0,1.0,0.0,"
              "Not synchronised")
    elif k % 10 == 5:
        print("4E4D4541,NMEA,1,1795769479.8,0.0,0.0,0.0,0.000,0.000,0.000,"
              "0.0,0.001,16.0,Normal")
    else:
        leap = "Normal"
        if mode.startswith("leap"):
            leap = ("Insert second", "Delete second")[k % 2]
        print("50505300,PPS,1,1795769479.8,0.0,0.0,0.0,0.000,0.000,0.000,"
              f"0.000000001,0.000003363,16.0,{leap}")
elif args[0] == "sources":
    reach = "0" if k % 13 == 7 else "377"
    print("#,*,PPS,0,4,377,3,0.000000000,0.000000000,0.000000101")
    print(f"#,?,NMEA,0,4,{reach},3,0.2,0.2,0.004")
elif args[0] == "sourcestats":
    noise = ((k * 7919) % 101 - 50) / 50 * 0.0015
    print("PPS,20,10,300,0.000,0.000,0.000000000,0.000000001")
    print(f"NMEA,20,10,300,0.010,0.200,{%TRUE% - %CONF% + noise:.9f},"
          "0.002000000")
'''.replace("%TRUE%", str(TRUE)).replace("%CONF%", str(CONFIGURED))


def setup(d, mode):
    fake = os.path.join(d, "chronyc")
    with open(fake, "w") as f:
        f.write(FAKE)
    os.chmod(fake, 0o755)
    with open(os.path.join(d, "mode"), "w") as f:
        f.write(mode)
    for n in os.listdir(d):
        if n.startswith("count-") or n == "applied":
            os.unlink(os.path.join(d, n))
    conf = os.path.join(d, "chrony.conf")
    with open(conf, "w") as f:
        f.write("refclock SOCK /run/gpspps/pps.sock refid PPS\n"
                "refclock SOCK /run/gpspps/nmea.sock refid NMEA offset "
                f"{CONFIGURED} noselect\n")
    return ["--conf", conf, "--chronyc", fake]


def run(args, timeout=60):
    r = subprocess.run([CAL, "--json"] + args, capture_output=True,
                       text=True, timeout=timeout)
    try:
        return r, json.loads(r.stdout)
    except ValueError:
        fail(f"no JSON (exit {r.returncode}): {r.stdout!r} {r.stderr}")


def test_rejections_and_precision(d):
    base = setup(d, "ok:4.3")
    t0 = time.monotonic()
    r, rep = run(base + ["--interval", "20ms", "--duration", "40s",
                         "--precision", "0.5ms"])
    took = time.monotonic() - t0
    if r.returncode != 0:
        fail(f"exit {r.returncode}: {r.stderr}")
    rej = rep["rejected"]
    res = rep["result"]
    if not rep["precision_reached"] or took > 30:
        fail(f"--precision did not stop the run ({took:.1f} s)")
    if res["half_width"] >= 0.0005 or res["n_used"] < 20:
        fail(f"stopped at half-width {res['half_width']}, n {res['n_used']}")
    if rej["not-synchronised"] != 3:
        fail(f"not-synchronised counted {rej['not-synchronised']}, not 3")
    if rej["reference-is-source"] < 1 or rej["unreachable"] < 1:
        fail(f"rejections not counted: {rej}")
    if abs(res["new_offset"] - TRUE) > res["half_width"] + 1e-6:
        fail(f"new offset {res['new_offset']} not {TRUE} +/- "
             f"{res['half_width']}")
    if abs(rep["configured_offset"] - CONFIGURED) > 1e-12:
        fail(f"configured offset {rep['configured_offset']}")
    print(f"ok precision: stopped after {took:.1f} s, {res['n_used']} used, "
          f"rejected {rej}, new offset {res['new_offset']:.6f} "
          f"+/- {res['half_width']:.6f}")


def test_chronyc_failing(d):
    base = setup(d, "fail:4.3")
    r, rep = run(base + ["--interval", "50ms", "--duration", "1s",
                         "--write"])
    if r.returncode != 3 or rep["outcome"]["usable"]:
        fail(f"chronyc failing: exit {r.returncode}, {rep['outcome']}")
    if rep["rejected"]["chronyc-failed"] < 5:
        fail(f"chronyc failures not counted: {rep['rejected']}")
    if "Cannot talk to daemon" not in r.stderr:
        fail(f"chronyc's message not shown: {r.stderr}")
    if r.stderr.count("Cannot talk") > 3:
        fail("chronyc failures are not rate-limited")
    print(f"ok chronyc failing: exit 3, {rep['rejected']['chronyc-failed']} "
          "failed snapshots")


def test_apply(d):
    for version, applied in (("4.6", True), ("4.3", False)):
        base = setup(d, f"ok:{version}")
        r, rep = run(base + ["--interval", "20ms", "--duration", "40s",
                             "--precision", "0.5ms", "--apply",
                             "--max-uncertainty", "0.01"])
        out = rep["outcome"]
        if r.returncode != 0 or not out["written"] or \
                out["applied"] != applied:
            fail(f"--apply with chronyc {version}: exit {r.returncode}, "
                 f"{out}")
        value = f"{rep['result']['new_offset']:.6f}"
        path = os.path.join(d, "applied")
        if applied:
            got = open(path).read()
            if got != f"NMEA {value}":
                fail(f"chronyc offset called with {got!r}")
        else:
            if os.path.exists(path) or "restart" not in out["apply_message"]:
                fail(f"chronyc {version}: {out['apply_message']}")
        print(f"ok --apply with chronyc {version}: {out['apply_message']}")


def conf_state(d):
    """The configuration's bytes, and whether a backup was made."""
    with open(os.path.join(d, "chrony.conf"), "rb") as f:
        return f.read(), os.path.exists(os.path.join(d, "chrony.conf.bak"))


def snapshots_taken(d):
    path = os.path.join(d, "count-sourcestats")
    try:
        return int(open(path).read())
    except (OSError, ValueError):
        return 0


def test_interrupted(d):
    """SIGTERM (systemctl stop) or SIGINT (Ctrl-C) ends a --write run with
    its report, but a partial run writes nothing: exit 3, file untouched,
    and the report says why."""
    for sig, name, extra, json_out in (
            (signal.SIGTERM, "SIGTERM", [], True),
            (signal.SIGINT, "SIGINT", ["--precision", "1us"], False)):
        base = setup(d, "ok:4.3")
        before = conf_state(d)
        cmd = [CAL] + (["--json"] if json_out else []) + base + [
            "--write", "--interval", "20ms", "--duration", "1h"] + extra
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        # enough snapshots for a usable result, were the run not cut short
        deadline = time.monotonic() + 30
        while snapshots_taken(d) < 60 and time.monotonic() < deadline:
            time.sleep(0.1)
        p.send_signal(sig)
        out, err = p.communicate(timeout=30)
        if conf_state(d) != before:
            fail(f"{name}: an interrupted run wrote chrony.conf:\n{out}")
        if p.returncode != 3:
            fail(f"{name}: exit {p.returncode}, expected 3\n{out}\n{err}")
        if json_out:
            rep = json.loads(out)
            o = rep["outcome"]
            if not rep["interrupted"] or o["written"] or o["usable"] or \
                    "interrupted" not in o["unusable_reason"] or \
                    name not in o["unusable_reason"]:
                fail(f"{name}: report {rep['interrupted']} {o}")
            if rep["result"]["n_used"] < 20:
                fail(f"{name}: only {rep['result']['n_used']} snapshots "
                     "before the signal")
            why = o["unusable_reason"]
        else:
            why = [x.strip() for x in out.splitlines()
                   if "nothing written" in x]
            if "offsets (used values" not in out or len(why) != 1 or \
                    "interrupted" not in why[0] or \
                    "--precision" not in why[0] or name not in why[0]:
                fail(f"{name}: text report does not say the interrupted "
                     f"run wrote nothing:\n{out}")
            why = why[0]
        print(f"ok {name}: exit 3, chrony.conf untouched: {why}")


def test_leap_announced(d):
    """A leap second announced (Insert/Delete second, for up to a month)
    does not make chronyd unsynchronised: those snapshots are used."""
    base = setup(d, "leap:4.3")
    r, rep = run(base + ["--interval", "20ms", "--duration", "40s",
                         "--precision", "0.5ms"])
    rej = rep["rejected"]
    if r.returncode != 0 or rej["not-synchronised"] != 3 or \
            not rep["precision_reached"]:
        fail(f"leap announced: exit {r.returncode}, rejected {rej}, "
             f"result {rep['result'] and rep['result']['n_used']}: "
             f"{rep['outcome']}")
    print(f"ok leap announced: {rep['result']['n_used']} snapshots used, "
          f"{rej['not-synchronised']} not synchronised (the first three)")


def expect_written_not_applied(d, mode, words, what):
    """An --apply run that writes but cannot tell chronyd: exit 6, and
    the message says why and what to do; returns the message."""
    base = setup(d, mode)
    r, rep = run(base + ["--interval", "20ms", "--duration", "40s",
                         "--precision", "0.5ms", "--apply",
                         "--max-uncertainty", "0.01"])
    out = rep["outcome"]
    msg = out["apply_message"]
    if r.returncode != 6 or not out["written"] or out["applied"] or \
            os.path.exists(os.path.join(d, "applied")):
        fail(f"{what}: exit {r.returncode}, {out}")
    for w in words + ("restart chronyd to use the new offset",):
        if w not in msg:
            fail(f"{what}: message lacks {w!r}: {msg!r}")
    print(f"ok {what}: exit 6: {msg}")
    return msg


def test_apply_refused(d):
    """A 4.6 chronyc whose chronyd is older (or refuses): written, not
    applied, exit 6, and the message says what to do."""
    expect_written_not_applied(d, "refuse:4.6", (
        "chronyd is older than 4.6 or refused", "502 Invalid command"),
        "--apply refused by chronyd")


def test_version_failing(d):
    """`chronyc -v` failing: not "chronyc 0.-1", but what failed, exit 6
    (written, chronyd not told)."""
    msg = expect_written_not_applied(d, "ok:none", (
        "-v failed", "error while loading shared libraries"),
        "chronyc -v failing")
    if "0.-1" in msg or "chronyc 0." in msg:
        fail(f"chronyc -v failing: a made-up version: {msg!r}")


# A fast scripted chronyc (sh, not python: hundreds of snapshots) that is
# always synchronised to PPS, with NMEA reachable and well measured.
FAST_FAKE = """#!/bin/sh
for a; do last=$a; done
case "$last" in
tracking) echo "50505300,PPS,1,1795769479.8,0.0,0.0,0.0,0.000,0.000,0.000,\
0.000000001,0.000003363,16.0,Normal" ;;
sources) echo "#,*,PPS,0,4,377,3,0.0,0.0,0.000000101"
    echo "#,?,NMEA,0,4,377,3,0.2,0.2,0.004" ;;
sourcestats) echo "NMEA,20,10,300,0.010,0.200,0.200000000,0.000100000" ;;
esac
"""


def test_out_of_memory(d):
    """The estimator cannot grow past its first 256 values: the run must
    end there, with exit 1 and chrony.conf untouched, although 256 values
    would make a usable result."""
    base = setup(d, "ok:4.6")
    fake = os.path.join(d, "chronyc-fast")
    with open(fake, "w") as f:
        f.write(FAST_FAKE)
    os.chmod(fake, 0o755)
    base[base.index("--chronyc") + 1] = fake
    before = conf_state(d)
    env = dict(os.environ, GPSPPS_FAIL_REALLOC_AT="4096",
               LD_PRELOAD=os.path.join(BUILD, "tests", "calibrate",
                                       "fail_realloc.so"))
    r = subprocess.run([CAL, "--json"] + base +
                       ["--interval", "1ms", "--duration", "60s", "--write",
                        "--apply", "--max-uncertainty", "0.01"],
                       capture_output=True, text=True, timeout=90, env=env)
    if conf_state(d) != before or os.path.exists(os.path.join(d, "applied")):
        fail(f"out of memory: chrony.conf written or offset applied:\n"
             f"{r.stdout}\n{r.stderr}")
    if r.returncode != 1 or "out of memory after 256 snapshots" not in \
            r.stderr:
        fail(f"out of memory: exit {r.returncode}, expected 1 and the "
             f"reason:\n{r.stderr}")
    print(f"ok out of memory: exit 1, nothing written: "
          f"{r.stderr.strip().splitlines()[-1]}")


def test_progress(d):
    base = setup(d, "ok:4.3")
    args = [CAL] + base + ["--interval", "300ms", "--duration", "2500ms"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30)
    plain = [x for x in r.stderr.splitlines() if "elapsed" in x]
    if len(plain) != 1 or "\r" in r.stderr or "\033" in r.stderr:
        fail(f"not a terminal: expected one plain progress line:\n{r.stderr}")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(CAL, args)
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    text = out.decode(errors="replace")
    redraws = text.count("\r\x1b[K")
    if redraws < 2 or "remaining" not in text or "+/-" not in text:
        fail(f"no progress redrawn in place on a terminal:\n{text!r}")
    if "offsets (used values" not in text:
        fail("no final report on the terminal")
    print(f"ok progress: {redraws} redraws on a terminal, one plain line "
          "otherwise")


def main():
    with TestDir() as d:
        test_rejections_and_precision(d)
        test_chronyc_failing(d)
        test_apply(d)
        test_apply_refused(d)
        test_version_failing(d)
        test_out_of_memory(d)
        test_interrupted(d)
        test_leap_announced(d)
        test_progress(d)
    print("PASS")


if __name__ == "__main__":
    main()
