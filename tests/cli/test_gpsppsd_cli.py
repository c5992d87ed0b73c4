#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsd as a user meets it on the command line, before any receiver.

- --check: "configuration OK" (exit 0) on a good file; on a file with many
  errors, every error on its own line with FILE:LINE and the value, then
  "configuration has errors" last (exit 1); status-socket too long for a
  Unix socket, or equal to a chronyd socket, named by its line.  A missing
  --config FILE is an error, a missing default file is not.  Socket paths
  chronyd would refuse (over 107 bytes, a ':') are --check errors too, with
  FILE:LINE (or the option), although only start-up would otherwise find
  them.  A line with a NUL byte or over 1022 bytes is an error of that line
  alone.
- Command-line values win over the file, wherever --config stands.
- Bad options: exit 1 with a message naming the option, nothing started.
- Start-up refusals (exit 78, fast, one clear line): a kernel PPS device
  that does not exist, a GPIO chip that does not exist, a socket path too
  long for chronyd (107 bytes is the longest) or containing ':'.
- --replay - reads standard input; --replay of a missing file fails
  naming it.
- --version agrees with meson.build and the man page; the long and short
  options and the PPS kinds in --help are exactly those of gpsppsd(8),
  both as written (roff source) and as man renders it.

Environment: GPSPPS_BUILD (meson build root), GPSPPS_SRC (source root).
"""

import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (SRC, TestDir, check,  # noqa: E402
                            checks_failed, prog)

GPSPPSD = prog("gpsppsd")
MAN = os.path.join(SRC, "src", "gpsppsd", "gpsppsd.8")
# A refusal at start-up is a few system calls; a hang would show as the
# timeout.  Generous for a loaded 2-core machine.
FAST_S = 2.0



def run(args, stdin=None, timeout=10, merged=False):
    """Run gpsppsd; returns (exit code, stdout, stderr, seconds)."""
    t0 = time.monotonic()
    r = subprocess.run([GPSPPSD] + list(args), input=stdin, text=True,
                       stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT if merged else subprocess.PIPE,
                       timeout=timeout)
    return r.returncode, r.stdout, r.stderr or "", time.monotonic() - t0


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def lines(text):
    return [ln for ln in text.splitlines() if ln.strip()]


# ---- --check ----

GOOD = """\
# a receiver on USB
device /dev/ttyACM0   # trailing comment
baud 115200

pps kernel:/dev/pps0
window-max 0.5
nmea-samples no
"""

# Line numbers count comments and blank lines; two lines are fine.
BAD = """\
# gpsppsd.conf with five mistakes
devize /dev/ttyS0
baud 9601
window-min 0.5
window-max 0.4

idle-flush 5 parsecs
pps magic:1
guard 10ms
"""


def test_check_good(tmp):
    conf = write(f"{tmp}/good.conf", GOOD)
    rc, out, err, _ = run(["--config", conf, "--check"])
    check(rc == 0, f"--check on a good file: exit {rc}, stderr {err!r}")
    check(out.strip() == "configuration OK",
          f"--check on a good file printed {out!r}")
    check(err == "", f"--check on a good file wrote to stderr: {err!r}")


def test_check_bad(tmp):
    conf = write(f"{tmp}/bad.conf", BAD)
    rc, out, _, _ = run(["--config", conf, "--check"], merged=True)
    got = lines(out)
    check(rc == 1, f"--check on a bad file: exit {rc}")
    check(got and got[-1] == "configuration has errors",
          f"--check on a bad file did not end with \"configuration has "
          f"errors\": {got}")
    # (line, what the message must name: the value as written)
    expect = [
        (2, "unknown key", "devize"),
        (3, "baud", "9601"),
        (4, "window-min", "0.5"),      # the cross-field error
        (7, "idle-flush", "5 parsecs"),
        (8, "pps", "magic:1"),
    ]
    errors = got[:-1]
    check(len(errors) == len(expect),
          f"expected {len(expect)} error lines, got {len(errors)}: {errors}")
    for lineno, word, value in expect:
        hits = [e for e in errors if e.startswith(f"{conf}:{lineno}: ")]
        if check(len(hits) == 1, f"no single error for {conf}:{lineno} "
                 f"({word}) in {errors}"):
            check(word in hits[0] and value in hits[0],
                  f"error for line {lineno} does not name {word} and the "
                  f"value {value!r}: {hits[0]!r}")
    win = [e for e in errors if e.startswith(f"{conf}:4: ")]
    if win:
        check(f"({conf}:5)" in win[0] and "0.4" in win[0],
              f"window error does not name window-max's line and value: "
              f"{win[0]!r}")
    unknown = [e for e in errors if e.startswith(f"{conf}:8: ")]
    if unknown:
        check("built in: none" in unknown[0],
              f"unknown PPS kind error lists no kinds: {unknown[0]!r}")
    print(f"--check printed {len(errors)} errors:\n  " + "\n  ".join(errors))


def test_check_missing(tmp):
    missing = f"{tmp}/no-such.conf"
    rc, out, err, _ = run(["--config", missing, "--check"])
    check(rc == 1, f"--check --config MISSING: exit {rc}")
    check(missing in err and "No such file" in err,
          f"--check --config MISSING does not name the file: {err!r}")
    check(out.strip() == "configuration has errors",
          f"--check --config MISSING printed {out!r}")
    # The default file: named in --help; absent on a test machine.
    _, help_out, _, _ = run(["--help"])
    m = re.search(r"--config FILE\s+config file \(default: (\S+?);", help_out)
    if not check(m, "--help does not name the default config file"):
        return
    default = m.group(1)
    if os.path.exists(default):
        print(f"note: {default} exists here: missing-default case not run")
        return
    rc, out, err, _ = run(["--check"])
    check(rc == 0 and out.strip() == "configuration OK" and err == "",
          f"--check with the default file {default} missing: exit {rc}, "
          f"{out!r} {err!r}")


def test_check_odd_lines(tmp):
    """A line with a NUL byte or over 1022 bytes is an error of its own
    line; the next line is still read (its error reported)."""
    conf = f"{tmp}/odd.conf"
    with open(conf, "wb") as f:
        f.write(b"device /dev/x\0y\nbaud 9601\ndevice /dev/" + b"x" * 1100 +
                b"\nconfirm 99\n")
    rc, out, _, _ = run(["--config", conf, "--check"], merged=True)
    got = lines(out)
    want = [(1, "NUL byte"), (2, "9601"), (3, "line too long"), (4, "99")]
    check(rc == 1 and len(got) == len(want) + 1,
          f"--check on NUL and long lines: exit {rc}, {got}")
    for lineno, word in want:
        check(any(g.startswith(f"{conf}:{lineno}: ") and word in g
                  for g in got),
              f"--check: no {conf}:{lineno} error naming {word!r}: {got}")


def test_check_sockets(tmp):
    """Socket paths chronyd would refuse, found by --check with where they
    were set; 107 bytes and no ':' pass."""
    base = f"{tmp}/"
    long_ok = base + "s" * (107 - len(base))
    long_bad = long_ok + "s"
    conf = write(f"{tmp}/socks.conf", f"# sockets\npps-socket {long_bad}\n"
                 f"\nnmea-socket {tmp}/a:b.sock\n")
    rc, out, _, _ = run(["--config", conf, "--check"], merged=True)
    got = lines(out)
    check(rc == 1 and got[-1:] == ["configuration has errors"],
          f"--check with refused socket paths: exit {rc}, {got}")
    for lineno, key, words in ((2, "pps-socket", [long_bad, "107 bytes"]),
                               (4, "nmea-socket", [f"{tmp}/a:b.sock", "':'"])):
        hits = [g for g in got if g.startswith(f"{conf}:{lineno}: {key}: ")]
        check(len(hits) == 1 and all(w in hits[0] for w in words),
              f"--check: no {conf}:{lineno} error for {key} naming {words}: "
              f"{got}")
    rc, out, _, _ = run(["--config", "/dev/null", "--nmea-socket",
                         f"{tmp}/c:d.sock", "--check"], merged=True)
    got = lines(out)
    check(rc == 1 and len(got) == 2 and
          got[0].startswith("--nmea-socket: ") and "c:d.sock" in got[0],
          f"--check --nmea-socket with ':': exit {rc}, {got}")
    conf = write(f"{tmp}/socks-ok.conf", f"pps-socket {long_ok}\n"
                 f"nmea-socket {tmp}/n.sock\n")
    rc, out, _, _ = run(["--config", conf, "--check"], merged=True)
    check(rc == 0 and lines(out) == ["configuration OK"],
          f"--check refused a 107-byte socket path: exit {rc}, {out!r}")
    print(f"--check on socket paths: {got[0]}")


# ---- command line over the file ----

def test_check_pps_argument(tmp):
    """A malformed PPS argument is an error of its line, found by --check
    without opening any device."""
    cases = [("kernel", "device path"), ("sim:seed=7x", "seed=7x"),
             ("dcd:bogus", "bogus")]
    for spec, word in cases:
        conf = write(f"{tmp}/pps.conf", f"# PPS\npps {spec}\n")
        rc, out, _, _ = run(["--config", conf, "--check"], merged=True)
        got = lines(out)
        check(rc == 1, f"--check with pps {spec}: exit {rc}")
        check(any(g.startswith(f"{conf}:2: pps: ") and word in g for g in got),
              f"--check with pps {spec} did not name {conf}:2 and "
              f"{word!r}: {got}")
    conf = write(f"{tmp}/pps.conf", "pps kernel:/dev/pps-not-here\n")
    rc, out, _, _ = run(["--config", conf, "--check"], merged=True)
    check(rc == 0 and lines(out) == ["configuration OK"],
          f"--check opened the PPS device or refused a well-formed path: "
          f"exit {rc}, {out!r}")


def test_cmdline_overrides(tmp):
    conf = write(f"{tmp}/o.conf", "window-min 0.5\nwindow-max 0.6\n")
    rc, out, _, _ = run(["--config", conf, "--check"])
    check(rc == 0, f"baseline {conf} should be OK: {out!r}")
    # The file's window-max 0.6 alone would be fine; --window-max wins and
    # its error names where each value came from.
    rc, out, err, _ = run(["--window-max", "0.3", "--config", conf,
                           "--check"])
    check(rc == 1, f"--window-max 0.3 before --config did not override "
          f"the file's 0.6: exit {rc}")
    check(f"{conf}:1: window-min 0.5 s" in err
          and "window-max 0.3 s (--window-max)" in err,
          f"the window error does not name where each value came from: "
          f"{err!r}")
    # A file value that is wrong only in combination is fixed by an option.
    conf2 = write(f"{tmp}/o2.conf", "window-min 0.96\n")
    rc, out, err, _ = run(["--config", conf2, "--check"])
    check(rc == 1 and f"{conf2}:1: window-min 0.96 s" in err,
          f"window-min 0.96 over the 0.95 default was accepted: {rc} {err!r}")
    rc, out, err, _ = run(["--config", conf2, "--window-min", "0.2",
                           "--check"])
    check(rc == 0 and out.strip() == "configuration OK",
          f"--window-min did not override the file: {rc} {out!r} {err!r}")
    # What the daemon really uses: the device and baud in its start log.
    master, slave = os.openpty()
    try:
        tty = os.ttyname(slave)
        conf3 = write(f"{tmp}/d.conf", f"device {tmp}/no-such-tty\n"
                      "baud 4800\npps none\n"
                      f"pps-socket {tmp}/p.sock\nnmea-socket {tmp}/n.sock\n")
        p = subprocess.Popen([GPSPPSD, "--device", tty, "--config", conf3,
                              "--baud", "115200"], stderr=subprocess.PIPE,
                             text=True)
        time.sleep(0.5)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=5)
        check(f"reading NMEA from {tty} at 115200 baud" in err,
              f"--device/--baud did not override the file: {err!r}")
        check("no-such-tty" not in err, f"the file's device was tried: {err!r}")
        check(p.returncode == 0, f"gpsppsd exit {p.returncode} on SIGTERM")
    finally:
        os.close(master)
        os.close(slave)


def test_bad_options(tmp):
    cases = [
        (["--bogus"], "--bogus"),
        (["--baud"], "--baud"),
        (["--baud", "9601"], "9601"),
        (["--nmea-samples=maybe"], "maybe"),
        (["--guard", "1 fortnight"], "1 fortnight"),
        (["--pps", "magic"], "magic"),
        (["stray"], "stray"),
    ]
    for args, named in cases:
        rc, out, err, dt = run(["--config", "/dev/null"] + args)
        check(rc == 1, f"gpsppsd {' '.join(args)}: exit {rc}, expected 1")
        check(named in err, f"gpsppsd {' '.join(args)}: message does not "
              f"name {named!r}: {err!r}")
        check(out == "" and "reading NMEA" not in err and dt < FAST_S,
              f"gpsppsd {' '.join(args)} started anyway: {out!r} {err!r}")


# ---- start-up refusals: exit 78 ----

def expect_refusal(args, must, what):
    rc, out, err, dt = run(["--config", "/dev/null"] + args)
    got = lines(err)
    check(rc == 78, f"{what}: exit {rc}, expected 78 ({err!r})")
    check(dt < FAST_S, f"{what}: took {dt:.2f} s")
    check(len(got) == 1, f"{what}: expected one line, got {got}")
    for word in must:
        check(word in err, f"{what}: message lacks {word!r}: {err!r}")
    print(f"{what}: exit {rc} in {dt*1000:.0f} ms: {err.strip()}")


def test_start_refusals(tmp, kinds):
    socks = ["--pps-socket", f"{tmp}/p.sock", "--nmea-socket",
             f"{tmp}/n.sock", "--device", f"{tmp}/no-tty"]
    if "kernel" in kinds:
        expect_refusal(["--pps", "kernel:/dev/pps-does-not-exist"] + socks,
                       ["/dev/pps-does-not-exist", "does not exist",
                        "/sys/class/pps"], "missing kernel PPS device")
    else:
        print("note: kernel PPS not built in: case not run")
    if "gpio" in kinds:
        expect_refusal(["--pps", "gpio:nochip:1"] + socks,
                       ["\"nochip\" not found", "gpiodetect"],
                       "missing GPIO chip")
    else:
        print("note: GPIO PPS not built in: case not run")
    # sun_path holds 108 bytes with the NUL: 107 is the longest path.
    base = f"{tmp}/"
    long_ok = base + "s" * (107 - len(base))
    long_bad = long_ok + "s"
    dev = ["--device", f"{tmp}/no-tty"]
    expect_refusal(["--pps-socket", long_bad, "--nmea-socket",
                    f"{tmp}/n.sock"] + dev,
                   [long_bad, "longer than 107 bytes"], "108-byte socket path")
    expect_refusal(["--pps-socket", f"{tmp}/p.sock", "--nmea-socket",
                    f"{tmp}/a:b.sock"] + dev,
                   [f"{tmp}/a:b.sock", "':'"], "socket path with ':'")
    # The 107-byte path starts (and waits for a device).
    p = subprocess.Popen([GPSPPSD, "--config", "/dev/null", "--pps-socket",
                          long_ok, "--nmea-socket", f"{tmp}/n.sock"] + dev,
                         stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    alive = p.poll() is None
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=5)
    check(alive and p.returncode == 0,
          f"a 107-byte socket path was refused: {p.returncode} {err!r}")


# ---- --replay ----

RMC = "$GPRMC,123519,A,4807.038,N,01131.000,E,022.4,084.4,230394,003.1,W*6A\n"


def test_replay(tmp):
    rc, out, err, _ = run(["--config", "/dev/null", "--replay", "-"],
                          stdin="# a comment\n" + RMC)
    recs = lines(out)
    check(rc == 0 and len(recs) == 1 and "T12:35:19" in recs[0]
          and '"valid":true' in recs[0],
          f"--replay - on one RMC: exit {rc}, {out!r} {err!r}")
    check("(stdin)" in err, f"--replay - summary does not say stdin: {err!r}")
    missing = f"{tmp}/capture-missing.nmea"
    rc, out, err, _ = run(["--config", "/dev/null", "--replay", missing])
    check(rc != 0 and missing in err and out == "",
          f"--replay MISSING: exit {rc}, {out!r} {err!r}")


# ---- --version, --help and the man page ----

def test_version():
    rc, out, _, _ = run(["--version"])
    with open(os.path.join(SRC, "meson.build")) as f:
        want = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
    with open(MAN) as f:
        # the .TH line: the first that is not a roff comment (SPDX)
        th = next((ln for ln in f if not ln.startswith('.\\"')), "")
    check(rc == 0 and out.strip() == f"gpsppsd {want}",
          f"--version printed {out!r} (exit {rc}), meson.build says {want}")
    check(f"gpspps {want}" in th, f"man page header {th.strip()!r} is not "
          f"version {want}")


OPT_RE = r"(?<![\w-])(--?[a-z][a-z0-9-]*)"


def help_sets():
    """(options, PPS kinds) from --help: option column entries only."""
    rc, out, _, _ = run(["--help"])
    check(rc == 0, f"--help exit {rc}")
    opts, kinds, section = set(), set(), None
    for ln in out.splitlines():
        if ln.endswith(":") and not ln.startswith(" "):
            section = ln
            continue
        m = re.match(r"  (\S.*?)(?:\s{2,}|$)", ln)
        if not m:
            continue
        if section == "PPS inputs:":
            kinds.add(m.group(1))
        elif m.group(1).startswith("-"):
            opts.update(re.findall(OPT_RE, m.group(1)))
    return opts, kinds


def roff_sections():
    out, name = {}, None
    with open(MAN) as f:
        for ln in f:
            ln = ln.rstrip("\n")
            if ln.startswith(".SH "):
                name = ln[4:].strip('"')
                out[name] = []
            elif name:
                out[name].append(ln)
    return out


def man_source_sets():
    """(tagged options, every option mentioned, PPS kinds) from the roff."""
    secs = roff_sections()
    text = "\n".join(ln for body in secs.values() for ln in body)
    mentioned = set(re.findall(OPT_RE, text.replace("\\-", "-")))
    tags, kinds = set(), set()
    body = secs.get("OPTIONS", [])
    depth = 0
    for i, ln in enumerate(body):
        depth += ln.startswith(".RS") - ln.startswith(".RE")
        if ln != ".TP" or i + 1 >= len(body):
            continue
        tag = body[i + 1].replace("\\-", "-")
        if depth:
            # .BI kernel: /dev/ppsN, .BR dcd ", " dcd:ldisc ...
            kinds.add(re.match(r"\.\w+ (\w+)", tag).group(1))
        else:
            tags.update(re.findall(OPT_RE, tag))
    pps = "\n".join(body)
    if re.search(r"\.BR none :", pps):
        kinds.add("none")
    return tags, mentioned, kinds


def man_rendered_tags():
    """Option tags as `man` shows them: lines at the 7-column tag indent
    in OPTIONS, options at the start or after ', '."""
    env = dict(os.environ, MANWIDTH="200", MAN_KEEP_FORMATTING="")
    r = subprocess.run(["man", "-l", MAN], capture_output=True, text=True,
                       env=env, timeout=30)
    if r.returncode != 0:
        check(False, f"man -l {MAN} failed: {r.stderr}")
        return set()
    text = re.sub(r".\x08", "", r.stdout)
    tags, inside = set(), False
    for ln in text.splitlines():
        if ln and not ln.startswith(" "):
            inside = ln.strip() == "OPTIONS"
            continue
        if inside and re.match(r" {7}-", ln):
            tags.update(re.findall(r"(?:^|, )(--?[a-z][a-z0-9-]*)",
                                   ln.strip()))
    return tags


def test_help_matches_man():
    h_opts, h_kinds = help_sets()
    m_tags, m_mentioned, m_kinds = man_source_sets()
    r_tags = man_rendered_tags()
    check(len(h_opts) >= 20, f"parsed only {len(h_opts)} options from "
          f"--help: {sorted(h_opts)}")
    check(h_opts == m_tags, "--help and gpsppsd.8 OPTIONS differ: only in "
          f"--help {sorted(h_opts - m_tags)}, only in the man page "
          f"{sorted(m_tags - h_opts)}")
    check(m_tags == r_tags, "the man page as rendered by man differs from "
          f"its source: {sorted(m_tags ^ r_tags)}")
    check(m_mentioned <= h_opts, "gpsppsd.8 mentions options gpsppsd does "
          f"not have: {sorted(m_mentioned - h_opts)}")
    # The man page documents every kind; a build may lack kernel or gpio.
    check(h_kinds <= m_kinds and m_kinds - h_kinds <= {"kernel", "gpio"},
          f"PPS kinds: --help {sorted(h_kinds)}, man page {sorted(m_kinds)}")
    print(f"--help and gpsppsd.8 agree on {len(h_opts)} options and PPS "
          f"kinds {sorted(h_kinds)}")
    r = subprocess.run(["groff", "-man", "-ww", "-z", MAN],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0 and r.stderr == "",
          f"groff warns about gpsppsd.8: {r.stderr}")
    return h_kinds


def test_every_key_in_a_file(tmp):
    """Each option of the config-key group is a `key value` file line;
    the defaults --help shows are accepted as written."""
    rc, out, _, _ = run(["--help"])
    body = out.split("Other options:")[0]
    keys = re.findall(r"^  --([a-z-]+)\S*\s+.*\(default: (.*)\)$", body, re.M)
    check(len(keys) >= 10, f"parsed only {len(keys)} keys from --help")
    conf = write(f"{tmp}/all.conf", "".join(f"{k} {v}\n" for k, v in keys))
    rc, out, err, _ = run(["--config", conf, "--check"])
    check(rc == 0 and out.strip() == "configuration OK",
          f"the --help defaults as a file: exit {rc}: {err!r}")


def test_check_status_socket(tmp):
    """--check takes status-socket none or a path a Unix socket can have,
    and names the line of one that is too long or is a chronyd socket."""
    long_bad = f"{tmp}/" + "s" * (108 - len(tmp) - 1)
    conf = write(f"{tmp}/status.conf", f"status-socket {long_bad}\n"
                 f"pps-socket {tmp}/p.sock\nstatus-socket {tmp}/p.sock\n")
    rc, out, err, _ = run(["--config", conf, "--check"])
    check(rc == 1 and f"{conf}:1: status-socket: {long_bad} is longer "
          "than 107 bytes" in err,
          f"--check of a 108-byte status-socket: exit {rc}: {err!r}")
    check(f"{conf}:3: status-socket {tmp}/p.sock is also a chronyd socket"
          in err, f"--check of status-socket = pps-socket: {err!r}")
    conf = write(f"{tmp}/status-none.conf", "status-socket none\n")
    rc, out, err, _ = run(["--config", conf, "--check"])
    check(rc == 0 and out.strip() == "configuration OK",
          f"--check of status-socket none: exit {rc}: {err!r}")


def main():
    with TestDir("gpspps-cli-") as tmp:
        kinds = test_help_matches_man()
        test_version()
        test_check_good(tmp)
        test_check_bad(tmp)
        test_check_missing(tmp)
        test_check_pps_argument(tmp)
        test_check_sockets(tmp)
        test_check_odd_lines(tmp)
        test_cmdline_overrides(tmp)
        test_bad_options(tmp)
        test_every_key_in_a_file(tmp)
        test_check_status_socket(tmp)
        test_start_refusals(tmp, kinds)
        test_replay(tmp)
    if checks_failed():
        sys.exit(1)
    print("PASS")


if __name__ == "__main__":
    main()
