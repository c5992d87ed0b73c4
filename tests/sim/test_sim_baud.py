#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpspps-sim's baud-rate emulation on a real pty, from the reader's side.

The simulator sends at 9600 baud.  A reader opens the pty, sets 38400 on
it (tcsetattr, as gpsppsd does), reads, then 9600, then 4800, 3 s each.
Each epoch's burst, assigned by the simulator's --log (line_baud: the
rate the simulator saw the reader set; actual_ns: when the first byte
went out), must be: at 9600 the burst itself, every checksum right; at
any other rate bytes (not silence) with no valid NMEA sentence in them.

Environment: GPSPPS_BUILD (meson build root), GPSPPS_SIM (the program).
"""

import os
import select
import sys
import tempfile
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from test_sim_pty import SIM, Run, checksum_ok  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from gpspps_harness import check, checks_failed  # noqa: E402

PHASES = [(38400, termios.B38400), (9600, termios.B9600),
          (4800, termios.B4800)]
PHASE_S = 3.0


def set_speed(fd, speed):
    attr = termios.tcgetattr(fd)
    attr[4] = attr[5] = speed
    termios.tcsetattr(fd, termios.TCSANOW, attr)


def read_phases(run):
    """Read the slave, changing its rate every PHASE_S seconds."""
    fd = os.open(run.link, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        for _, speed in PHASES:
            set_speed(fd, speed)
            end = time.monotonic() + PHASE_S
            while time.monotonic() < end:
                r, _, _ = select.select([fd], [], [], 0.1)
                if r:
                    try:
                        data = os.read(fd, 4096)
                    except BlockingIOError:
                        continue
                    run.chunks.append((time.time_ns(), data))
    finally:
        os.close(fd)
    run.proc.terminate()
    run.proc.wait(5)
    run.stderr = run.proc.stderr.read().decode()


def sentences(data):
    """Valid-checksum sentences in a byte stream, as a decoder frames them."""
    good = 0
    for part in data.split(b"$")[1:]:
        end = part.find(b"*")
        if end >= 0 and end + 3 <= len(part):
            good += checksum_ok(b"$" + part[:end + 3])
    return good


def test_rates(tmp):
    run = Run(["--baud", "9600", "--sentences", "RMC,GGA,GSV"], tmp)
    read_phases(run)
    seen = {}
    for _, _, data, e in run.bursts():
        rate = e["line_baud"]
        seen[rate] = seen.get(rate, 0) + 1
        where = f"epoch {e['label']} read at {rate}"
        check(e["written"] == len(data),
              f"{where}: {len(data)} bytes arrived, {e['written']} written")
        if rate == 9600:
            check(e["written"] == e["bytes"],
                  f"{where}: {e['written']} of {e['bytes']} bytes")
            check(sentences(data) == 5,
                  f"{where}: {sentences(data)} of 5 sentences valid")
        else:
            check(len(data) > 0, f"{where}: silence, not garbage")
            check(sentences(data) == 0,
                  f"{where}: {sentences(data)} valid sentences in garbage")
    print(f"bursts per reader rate: {seen}")
    for rate, _ in PHASES:
        check(seen.get(rate, 0) >= 1, f"no burst sent at reader rate {rate}")
    check("the reader set 38400 baud" in run.stderr,
          f"no notice of the mismatch: {run.stderr!r}")


def main():
    if not os.access(SIM, os.X_OK):
        print(f"FAIL: {SIM} not built")
        return 1
    with tempfile.TemporaryDirectory(prefix="gpspps-sim-baud-") as tmp:
        test_rates(tmp)
    if checks_failed():
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
