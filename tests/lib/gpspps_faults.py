# SPDX-License-Identifier: GPL-2.0-or-later
"""The fault-heavy chain shared by the sanitize, valgrind and flood tests.

gpspps-sim at 5 Hz with every fault it has at high rates (bad checksums,
garbage, fix loss, missing epochs, week rollover, an inserted leap second
within the run), gpsppsd with simulated PPS that misses and adds edges,
and a real private chronyd (tests/lib/gpspps_harness.py).  A test drives
it: restarts chronyd, unplugs the receiver (kills the simulator: the pty
hangs up) and plugs it back, and reads what reached chronyd.

    chain = FaultChain(d, daemon_prefix=["valgrind", ...])
    chain.start()
    chain.restart_chronyd(); chain.unplug(3.5)
    chain.stop()          # gpsppsd's exit status
"""

import os
import signal
import subprocess
import time

from gpspps_harness import (Chronyd, Proc, fail, prog, status_request,
                            wait_path)

SIM_FAULTS = ["--fault", "badsum=0.2", "--fault", "garbage=0.2",
              "--fault", "fixloss=0.03", "--fault", "missing=0.1",
              "--fault", "rollover=0.1"]
PPS_FAULTS = "sim:jitter=4us,miss=0.2,spurious=0.2"


def leap_label(within_s):
    """--leap-at for the end of a UTC minute 15 s to 75 s from now, so
    that a run of within_s >= 75 s sees the leap second inserted."""
    if within_s < 75:
        raise ValueError("the leap second needs a run of 75 s or more")
    t = int(time.time()) + 15
    return time.strftime("%Y-%m-%dT%H:%M:60", time.gmtime(t))


def refclocks(d):
    return [
        f"refclock SOCK {d}/pps.sock refid PPS poll 2 precision 1e-7 prefer",
        f"refclock SOCK {d}/nmea.sock refid NMEA poll 2 precision 1e-3 "
        "noselect",
    ]


class FaultChain:
    """gpspps-sim (faults) -> gpsppsd (faulty PPS) -> chronyd, in d."""

    def __init__(self, d, seed=21, daemon_prefix=(), duration_s=80,
                 sim_extra=(), daemon_extra=(), env=None):
        self.d = d
        self.seed = seed
        self.tty = os.path.join(d, "gps0")
        self.log = os.path.join(d, "gpsppsd.log")
        self.status_sock = os.path.join(d, "status.sock")
        self.prefix = list(daemon_prefix)
        self.duration_s = duration_s
        self.sim_extra = list(sim_extra)
        self.daemon_extra = list(daemon_extra)
        self.env = env
        self.sims = []
        self.daemon = None
        self.chronyd = Chronyd(d, refclocks(d))
        self.leap = leap_label(duration_s) if duration_s >= 75 else None

    def sim_args(self, n):
        args = [prog("gpspps-sim"), "--pty", self.tty, "--baud", "115200",
                "--rate", "5", "--delay", "0.05", "--jitter", "0.01",
                "--sentences", "RMC,GGA,ZDA,GSV",
                "--seed", str(self.seed + n)] + SIM_FAULTS + self.sim_extra
        if self.leap is not None:
            args += ["--leap-at", self.leap]
        return args

    def start_sim(self):
        n = len(self.sims)
        sim = Proc(self.sim_args(n), os.path.join(self.d, f"sim{n}.log"),
                   env=self.env)
        self.sims.append(sim)
        if not wait_path(self.tty, 10):
            fail(f"gpspps-sim made no pty: {sim.output()}")
        return sim

    def start(self):
        self.start_sim()
        self.chronyd.start()
        cmd = self.prefix + [
            prog("gpsppsd"), "--config", "/dev/null", "--device", self.tty,
            "--baud", "115200", "--pps", f"{PPS_FAULTS},seed={self.seed}",
            "--pps-socket", f"{self.d}/pps.sock",
            "--nmea-socket", f"{self.d}/nmea.sock",
            "--status-socket", self.status_sock] + self.daemon_extra
        self.daemon = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                       stderr=open(self.log, "w"),
                                       env=self.env)
        return self

    def alive(self, when):
        if self.daemon.poll() is not None:
            fail(f"gpsppsd exited ({self.daemon.returncode}) {when}:\n"
                 f"{self.log_text()[-3000:]}")

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def restart_chronyd(self, down_s=2):
        self.chronyd.stop()
        time.sleep(down_s)
        self.alive("while chronyd was down")
        self.chronyd.start()

    def unplug(self, back_after_s=3.5):
        """Kill the simulator (the pty hangs up), remove its node as udev
        would, and start a new one back_after_s later."""
        self.sims[-1].stop(signal.SIGKILL)
        if os.path.islink(self.tty):
            os.unlink(self.tty)
        time.sleep(back_after_s)
        self.alive("after the unplug")
        self.start_sim()

    def samples(self, refid):
        return len(self.chronyd.refclock_lines(refid))

    def stop(self, timeout=30):
        """SIGTERM gpsppsd and wait; then the rest.  Returns gpsppsd's
        exit status."""
        rc = None
        if self.daemon is not None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                rc = self.daemon.wait(timeout)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                rc = self.daemon.wait()
        for sim in self.sims:
            sim.stop()
        self.chronyd.stop()
        return rc

    def status(self):
        """A `status` request on gpsppsd's status socket: the object."""
        return status_request(self.status_sock, timeout=10)
