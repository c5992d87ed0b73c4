#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""armhf end to end: Debian 12's armhf chronyd fed by the armhf gpsppsd.

chronyd is chrony:armhf from the host's apt sources, unpacked (never
installed) by tests/lib/chrony-prefix.sh into BUILD/chrony-armhf; it runs
under qemu-arm with -x, so it never touches the clock.  gpspps-sim and
gpsppsd are the armhf builds of cross-test.sh (BUILD/cross-armhf), also
under qemu-arm.  chronyc is the host's unpacked one (the command protocol
does not depend on the architecture).

Scenarios (argv[1]):
  time32  the Debian 12 armhf ABI (32-bit time_t): chronyd selects the PPS
          refclock with |offset| < 1 us, and each raw PPS offset in its
          refclocks.log equals the simulated edge error from gpsppsd --dump
          to 1 ns.  Prints the sample size both sides use.
  time64  the same chronyd fed by a gpsppsd built with -D_TIME_BITS=64
          -D_FILE_OFFSET_BITS=64 (BUILD/cross-armhf-time64): its 40-byte
          samples are dropped silently.  gpsppsd's sends all succeed (its
          exit summary counts every sample delivered), chronyd's reach stays
          0 for both refclocks and refclocks.log records no sample.

Environment: GPSPPS_BUILD, GPSPPS_SRC (set by meson).  Exit 77 when the
cross toolchain, qemu-user-static or chrony:armhf's libraries are missing
(tests/deps.sh cross).
"""

import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from gpspps_harness import (BUILD, SRC, Chronyd, Proc, TestDir,  # noqa: E402
                            fail, skip, wait_path)
from e2e_chrony import (check_raw_pps_offsets, refclocks,  # noqa: E402
                        wait_selected)

QEMU = "qemu-arm-static"
CHRONY = os.path.join(BUILD, "chrony-armhf")
RUN_S = 25     # s of samples after PPS is selected (time32), or in all (time64)


def cross_build(variant):
    """Build dir of the armhf gpspps (cross-test.sh --build-only)."""
    args = [os.path.join(HERE, "cross-test.sh"), "armhf", SRC, BUILD,
            "--build-only"] + (["--time64"] if variant == "time64" else [])
    r = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if r.returncode == 77:
        skip(r.stdout.strip())
    if r.returncode != 0:
        fail(f"cross build failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    suffix = "-time64" if variant == "time64" else ""
    return os.path.join(BUILD, "cross-armhf" + suffix)


def armhf_chronyd():
    if shutil.which(QEMU) is None:
        skip(f"{QEMU} missing: tests/deps.sh cross installs qemu-user-static")
    script = os.path.join(HERE, "..", "lib", "chrony-prefix.sh")
    r = subprocess.run([script, CHRONY, "armhf"], capture_output=True,
                       text=True, timeout=300)
    if r.returncode != 0:
        fail(f"no chrony:armhf: {r.stderr.strip()}")
    chronyd = os.path.join(CHRONY, "usr", "sbin", "chronyd")
    v = subprocess.run([QEMU, chronyd, "-v"], capture_output=True, text=True)
    if v.returncode != 0:
        skip(f"chrony:armhf does not run under {QEMU} (its libraries: "
             f"tests/deps.sh cross): {v.stderr.strip()}")
    print(f"armhf {v.stdout.strip()}")
    return [QEMU, chronyd]


def sample_size(out):
    """The SOCK sample size of a build, from its test_sock under qemu."""
    r = subprocess.run([QEMU, os.path.join(out, "tests", "unit", "test_sock")],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"SOCK sample: (\d+) bytes \((\d+)-byte time_t\)",
                  r.stdout + r.stderr)
    if r.returncode != 0 or not m:
        fail(f"test_sock of {out} failed:\n{r.stdout}{r.stderr}")
    return int(m.group(1)), int(m.group(2))


def start_chain(d, out):
    tty = os.path.join(d, "gps0")
    sim = Proc([QEMU, os.path.join(out, "src", "gpspps-sim", "gpspps-sim"),
                "--pty", tty, "--baud", 9600, "--delay", "0.35",
                "--jitter", "0.002", "--seed", "5"],
               os.path.join(d, "sim.log"))
    if not wait_path(tty, 10):
        fail(f"gpspps-sim made no pty: {sim.output()}")
    dump = open(os.path.join(d, "dump.jsonl"), "w")
    err = open(os.path.join(d, "gpsppsd.log"), "w")
    daemon = subprocess.Popen(
        [QEMU, os.path.join(out, "src", "gpsppsd", "gpsppsd"),
         "--config", "/dev/null", "--device", tty, "--baud", "9600",
         "--pps", "sim:jitter=4us,seed=11",
         "--pps-socket", f"{d}/pps.sock", "--nmea-socket", f"{d}/nmea.sock",
         "--dump"], stdout=dump, stderr=err)
    return sim, daemon, dump, err


def stop_chain(d, sim, daemon, dump, err):
    """Stop gpsppsd (then the simulator); returns its log."""
    daemon.terminate()
    try:
        daemon.wait(10)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
    dump.close()
    err.close()
    sim.stop()
    with open(os.path.join(d, "gpsppsd.log"), errors="replace") as f:
        text = f.read()
    if daemon.returncode not in (0, -15):
        fail(f"gpsppsd exited with {daemon.returncode}:\n{text}")
    return text


def summary_counts(text):
    """(PPS sent, PPS delivered, NMEA delivered) from gpsppsd's summary."""
    m = re.search(r"(\d+) PPS samples \((\d+) delivered\), (\d+) NMEA "
                  r"samples delivered", text)
    if not m:
        fail(f"no summary line in gpsppsd's log:\n{text}")
    return tuple(int(g) for g in m.groups())


def built(variant, size, tbits):
    """The variant's build dir, checked to send size-byte samples with a
    tbits-byte time_t."""
    out = cross_build(variant)
    got = sample_size(out)
    if got != (size, tbits):
        fail(f"the {variant} build sends {got[0]}-byte samples ({got[1]}-"
             f"byte time_t), expected {size} ({tbits})")
    return out


def scenario_time32(d):
    size, tbits = 32, 4
    out = built("time32", size, tbits)
    # chronyd first: then every send of gpsppsd's can succeed
    with Chronyd(d, refclocks(d), command=armhf_chronyd()) as c:
        chain = start_chain(d, out)
        s = wait_selected(c, timeout=90)
        print(f"armhf chronyd selected PPS: offset {s['PPS']['offset']:.9f}"
              f" s, reach {s['PPS']['reach']:o}")
        time.sleep(RUN_S)
        text = stop_chain(d, *chain)
        check_raw_pps_offsets(c, d)
    sent, delivered, nmea = summary_counts(text)
    print(f"gpsppsd (armhf, {tbits}-byte time_t) sent {size}-byte samples: "
          f"{delivered} of {sent} PPS and {nmea} NMEA delivered; chronyd "
          f"4.3 armhf accepted them")


def scenario_time64(d):
    size, tbits = 40, 8
    out = built("time64", size, tbits)
    # chronyd first: then every send of gpsppsd's can succeed
    with Chronyd(d, refclocks(d), command=armhf_chronyd()) as c:
        chain = start_chain(d, out)
        deadline = time.monotonic() + RUN_S + 15
        while time.monotonic() < deadline:
            if chain[1].poll() is not None:
                break
            time.sleep(1)
        s = c.sources()
        text = stop_chain(d, *chain)
        lines = c.refclock_lines()
    sent, delivered, nmea = summary_counts(text)
    if sent < 20 or delivered != sent or nmea < 20:
        fail(f"gpsppsd's sends did not all succeed: {delivered} of {sent} "
             f"PPS delivered, {nmea} NMEA:\n{text}")
    for refid in ("PPS", "NMEA"):
        if refid not in s:
            fail(f"chronyd has no {refid} refclock: {s}")
        if s[refid]["reach"] != 0:
            fail(f"chronyd accepted 40-byte samples: {refid} reach "
                 f"{s[refid]['reach']:o}")
    if lines:
        fail(f"refclocks.log has {len(lines)} samples, the first "
             f"{lines[0]}")
    print(f"gpsppsd (armhf, {tbits}-byte time_t) sent {size}-byte samples: "
          f"{delivered} of {sent} PPS and {nmea} NMEA sends succeeded; "
          f"chronyd 4.3 armhf dropped every one silently (reach 0 for PPS "
          f"and NMEA, refclocks.log empty)")


def main():
    name = sys.argv[1]
    with TestDir(f"gpspps-armhf-{name}-") as d:
        globals()[f"scenario_{name}"](d)
    print(f"PASS: armhf {name}")


if __name__ == "__main__":
    main()
