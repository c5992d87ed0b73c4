#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""gpsppsctl on the command line, without a running gpsppsd (about 3 s).

- No gpsppsd: status, watch, metrics exit 2 at once with one line naming
  the cause and the fix; metrics still prints `gpspps_up 0` (and
  --output writes it); no verb, an unknown verb, two verbs, an option the
  verb does not take: exit 64.
- Socket errors a user meets, each with its fix: permission denied (a
  socket the user may not open: run as nobody, when the test is root),
  connection refused (a stale socket nobody listens on), a regular file.
- A peer that accepts and never answers: ETIMEDOUT within --timeout, no
  hang.  A peer that answers something else (not JSON, another schema
  version, an error object): exit 2 naming it.  These peers are Python
  sockets standing in for a broken or foreign daemon, which the real
  gpsppsd is not; the real one is tested in tests/ctl.
- The schema's example object (tests/ctl/data/status-ok.json) through
  status, status --json (byte for byte), watch --count and metrics,
  options before or after the verb; `promtool check metrics` accepts the
  exposition, also with quotes, backslashes and newlines in label values.
- --version agrees with meson.build and the man page; the options of
  --help are exactly those gpsppsctl(8) describes, and so are the verbs.
- The bash completion (packaging/bash-completion/gpsppsctl) offers the
  verbs of --help, and after each verb exactly the options it takes.

Environment: GPSPPS_BUILD (meson build root), GPSPPS_SRC (source root).
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from gpspps_harness import (SRC, TestDir, check,  # noqa: E402
                            checks_failed, prog)

CTL = prog("gpsppsctl")
MAN = os.path.join(SRC, "src", "gpsppsctl", "gpsppsctl.8")
FIXTURE = os.path.join(SRC, "tests", "ctl", "data", "status-ok.json")
# An error without a daemon is a few system calls; generous for a loaded
# 2-core machine.
FAST_S = 2.0



def run(args, timeout=15, user=None):
    """Run gpsppsctl; returns (exit code, stdout, stderr, seconds)."""
    cmd = [CTL] + list(args)
    if user:
        cmd = ["setpriv", f"--reuid={user}", "--regid=65534",
               "--clear-groups"] + cmd
    t0 = time.monotonic()
    r = subprocess.run(cmd, text=True, capture_output=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr, time.monotonic() - t0


class Peer:
    """A Unix socket server answering each connection with answer(request)
    (bytes, or None: never answer, hold the connection open)."""

    def __init__(self, path, answer):
        self.path, self.answer, self.requests = path, answer, []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(8)
        # accept() wakes up to look at the flag: the listening socket is
        # closed only once the thread has left.  Closing it under a
        # thread about to enter accept() let that thread accept on the
        # next peer's socket, which took the same descriptor number.
        self.sock.settimeout(0.05)
        self.stop = threading.Event()
        self.held = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            c.settimeout(None)
            req = c.recv(300)
            self.requests.append(req)
            out = self.answer(req)
            if out is None:
                self.held.append(c)
                continue
            try:
                for chunk in out if isinstance(out, list) else [out]:
                    c.sendall(chunk)
                    time.sleep(0.05)
            except OSError:
                pass
            c.close()

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()
        for c in self.held:
            c.close()


def one_line(err):
    return len(err.strip().splitlines()) == 1


# ---- without a daemon ----

def test_no_daemon(tmp):
    sock = f"{tmp}/absent.sock"
    for verb in ("status", "watch", "metrics"):
        rc, out, err, dt = run([verb, "--socket", sock])
        check(rc == 2, f"{verb} without gpsppsd: exit {rc}, want 2")
        check(dt < FAST_S, f"{verb} without gpsppsd took {dt:.1f} s")
        check(one_line(err) and "gpsppsd is not running" in err and
              "--socket" in err and "systemctl start gpsppsd" in err,
              f"{verb} without gpsppsd said {err!r}")
        if verb == "metrics":
            check(out.endswith("\ngpspps_up 0\n"),
                  f"metrics without gpsppsd printed {out!r}")
        else:
            check(out == "", f"{verb} without gpsppsd printed {out!r}")
    prom = f"{tmp}/gpspps.prom"
    rc, out, _, _ = run(["metrics", "--socket", sock, "--output", prom])
    with open(prom) as f:
        text = f.read()
    check(rc == 2 and out == "" and text.endswith("gpspps_up 0\n"),
          f"metrics --output without gpsppsd: exit {rc}, file {text!r}")
    check(oct(os.stat(prom).st_mode & 0o777) == "0o644",
          f"{prom}: mode {oct(os.stat(prom).st_mode)}")
    check(os.listdir(tmp).count("gpspps.prom") == 1 and
          not [n for n in os.listdir(tmp) if n.startswith("gpspps.prom.")],
          f"temporary files left: {os.listdir(tmp)}")
    rc, _, err, _ = run(["metrics", "--socket", sock, "--output",
                         f"{tmp}/no/such/dir/x.prom"])
    check(rc == 2 and "does the directory exist" in err,
          f"metrics --output into a missing directory: exit {rc}, {err!r}")


def test_usage():
    cases = [
        ([], "a verb is needed"),
        (["frobnicate"], "unknown verb 'frobnicate'"),
        (["status", "watch"], "one verb at a time"),
        (["status", "--count", "3"], "--count is for watch"),
        (["watch", "--output", "/tmp/x"], "--output is for metrics"),
        (["metrics", "--json"], "metrics has no --json"),
        (["watch", "--count", "0"], "--count: not a positive number"),
        (["status", "--timeout", "soon"], "--timeout: not a positive"),
        (["status", "--bogus"], "Try 'gpsppsctl --help'"),
    ]
    for args, words in cases:
        rc, out, err, _ = run(args)
        check(rc == 64 and words in err and out == "",
              f"gpsppsctl {' '.join(args)}: exit {rc}, stderr {err!r}")


def test_socket_errors(tmp):
    # A stale socket: bound, nobody listening.
    stale = f"{tmp}/stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    rc, _, err, dt = run(["status", "--socket", stale])
    check(rc == 2 and "connection refused" in err and
          "systemctl restart gpsppsd" in err and dt < FAST_S,
          f"stale socket: exit {rc}, {err!r}")
    plain = f"{tmp}/plain"
    open(plain, "w").close()
    rc, _, err, _ = run(["status", "--socket", plain])
    check(rc == 2 and one_line(err) and plain in err,
          f"a regular file as socket: exit {rc}, {err!r}")
    rc, _, err, _ = run(["status", "--socket", "/" + "x" * 120])
    check(rc == 2 and "path too long" in err,
          f"a 121-byte socket path: exit {rc}, {err!r}")
    if os.getuid() != 0 or not shutil.which("setpriv"):
        print("note: not root, permission case skipped")
        return
    closed = f"{tmp}/closed.sock"
    peer = Peer(closed, lambda req: b"{}\n")
    os.chmod(tmp, 0o755)
    os.chmod(closed, 0o600)
    rc, _, err, _ = run(["status", "--socket", closed], user="nobody")
    check(rc == 2 and "permission denied" in err and "group adm" in err,
          f"a socket nobody may open: exit {rc}, {err!r}")
    peer.close()
    os.chmod(tmp, 0o700)


def test_bad_peers(tmp):
    silent = Peer(f"{tmp}/silent.sock", lambda req: None)
    rc, _, err, dt = run(["status", "--socket", silent.path,
                          "--timeout", "500ms"])
    check(rc == 2 and "no answer within 500 ms" in err and 0.4 < dt < 2.5,
          f"a peer that never answers: exit {rc} after {dt:.2f} s, {err!r}")
    rc, _, err, dt = run(["watch", "--socket", silent.path,
                          "--timeout", "500ms"])
    check(rc == 2 and "no answer within 500 ms" in err and dt < 2.5,
          f"watch on a silent peer: exit {rc} after {dt:.2f} s, {err!r}")
    check(silent.requests[:2] == [b"status\n", b"watch\n"],
          f"request lines sent: {silent.requests}")
    silent.close()
    answers = [
        (b"hello\n", "not a JSON object"),
        (b'{"version":2}\n', "schema version 2, this gpsppsctl reads 1"),
        (b'{"version":1,"error":"unknown request"}\n',
         "refused the request: unknown request"),
        (b'{"pid":1}\n', "no schema version"),
        (b'{"version":1', "closed the connection"),
    ]
    for i, (answer, words) in enumerate(answers):
        peer = Peer(f"{tmp}/bad{i}.sock", lambda req, a=answer: a)
        rc, out, err, _ = run(["status", "--socket", peer.path])
        check(rc == 2 and words in err and out == "",
              f"peer answering {answer!r}: exit {rc}, {err!r}")
        peer.close()


# ---- the schema's example object ----

# The seconds of the objects the fixture peer sends a watcher, as
# gpsppsd's timer may: the one at connection and the first tick carry the
# same second, then a receiver that stalls after :01.
WATCH_LABELS = ["22:00:00", "22:00:00", "22:00:01", "22:00:01", "22:00:01",
                "22:00:01"]


def watch_lines(obj):
    out = []
    for t in WATCH_LABELS:
        obj["last"]["time"] = f"2026-12-01T{t}Z"
        out.append((json.dumps(obj) + "\n").encode())
    return out


def fixture_peer(path, obj=None):
    with open(FIXTURE) as f:
        text = f.read().strip()
    line = (json.dumps(obj) if obj else text) + "\n"
    stream = watch_lines(json.loads(text))

    def answer(req):
        return stream if req == b"watch\n" else line.encode()
    return Peer(path, answer), line, stream


def promtool(text):
    r = subprocess.run(["promtool", "check", "metrics"], input=text,
                       text=True, capture_output=True, timeout=30)
    return r.returncode, (r.stdout + r.stderr).strip()


def test_fixture(tmp):
    peer, line, stream = fixture_peer(f"{tmp}/ok.sock")
    rc, out, err, _ = run(["status", "--socket", peer.path])
    first = out.splitlines()[0] if out else ""
    check(rc == 0 and first == "OK: PPS samples reach chronyd",
          f"status: exit {rc}, first line {first!r}, {err!r}")
    check("Held back       : warmup 3, no_fix 0, no_edge 2\n" in out,
          f"status lacks the held-back line:\n{out}")
    for args in (["--json", "status"], ["status", "--json"]):
        rc, out, _, _ = run(args + ["--socket", peer.path])
        check(rc == 0 and out == line,
              f"gpsppsctl {' '.join(args)} printed {out!r}, daemon sent "
              f"{line!r}")
    # The first repeat of a second is not shown, later ones are (stalled).
    rc, out, _, _ = run(["--count", "4", "--socket", peer.path, "watch"])
    rows = out.splitlines()
    labels = [r.split()[0][11:19] for r in rows[1:]]
    check(rc == 0 and rows[0].startswith("Second (UTC)") and
          labels == ["22:00:00", "22:00:01", "22:00:01", "22:00:01"] and
          all("PPS, NMEA" in r for r in rows[1:]),
          f"watch --count 4: exit {rc}, {rows}")
    rc, out, _, _ = run(["watch", "-n", "3", "--json", "--socket",
                         peer.path])
    check(rc == 0 and out.encode() == b"".join(stream[:3]),
          f"watch --json printed {out!r}")
    rc, out, _, _ = run(["metrics", "--socket", peer.path])
    check(rc == 0 and "\ngpspps_up 1\n" in out, f"metrics: exit {rc}")
    if not shutil.which("promtool"):
        check(False, "promtool not installed (tests/deps.sh test)")
        return
    prc, msg = promtool(out)
    check(prc == 0, f"promtool check metrics: {msg}")
    peer.close()
    with open(FIXTURE) as f:
        odd = json.load(f)
    odd["receiver"]["device"] = '/dev/we"ird\\pa\nth'
    odd["receiver"]["sentences"]['X"Y'] = 1
    odd["chronyd"]["pps"]["failed"]["E\\2"] = {"count": 1, "meaning": "?"}
    peer, _, _ = fixture_peer(f"{tmp}/odd.sock", odd)
    rc, out, _, _ = run(["metrics", "--socket", peer.path])
    prc, msg = promtool(out)
    check(rc == 0 and prc == 0 and 'device="/dev/we\\"ird\\\\pa\\nth"' in out,
          f"odd label values: exit {rc}, promtool: {msg}")
    peer.close()


# ---- --version, --help and the man page ----

OPT_RE = r"(?<![\w-])(--?[a-z][a-z0-9-]*)"


def test_version():
    rc, out, _, _ = run(["--version"])
    with open(os.path.join(SRC, "meson.build")) as f:
        want = re.search(r"version\s*:\s*'([^']+)'", f.read()).group(1)
    with open(MAN) as f:
        # the .TH line: the first that is not a roff comment (SPDX)
        th = next((ln for ln in f if not ln.startswith('.\\"')), "")
    check(rc == 0 and out.strip() == f"gpsppsctl {want}",
          f"--version printed {out!r} (exit {rc}), meson.build says {want}")
    check(f"gpspps {want}" in th, f"man page header {th.strip()!r}")


def help_sets():
    """(options, verbs) from --help's first column."""
    rc, out, _, _ = run(["--help"])
    check(rc == 0, f"--help exit {rc}")
    opts, verbs, section = set(), set(), None
    for ln in out.splitlines():
        if ln and not ln.startswith(" "):
            section = ln.split()[0]
            continue
        m = re.match(r" {2,6}(\S.*?)(?:\s{2,}|$)", ln)
        if not m:
            continue
        if section == "Verbs":
            verbs.add(m.group(1))
        elif m.group(1).startswith("-"):
            opts.update(re.findall(OPT_RE, m.group(1)))
    return opts, verbs


def man_tags():
    """{section: set of .TP tags' words} from the roff source."""
    out, name, lines = {}, None, open(MAN).read().splitlines()
    for i, ln in enumerate(lines):
        if ln.startswith(".SH "):
            name = ln[4:].strip('"')
            out[name] = set()
        elif ln == ".TP" and name and i + 1 < len(lines):
            tag = lines[i + 1].replace("\\-", "-")
            if name == "OPTIONS":
                out[name].update(re.findall(OPT_RE, tag))
            else:
                out[name].add(tag.split()[-1])
    return out


def test_help_matches_man():
    opts, verbs = help_sets()
    tags = man_tags()
    check(opts == tags.get("OPTIONS"),
          f"--help options {sorted(opts)} != gpsppsctl(8) "
          f"{sorted(tags.get('OPTIONS', []))}")
    check(verbs == tags.get("VERBS") == {"status", "watch", "doctor",
                                         "metrics"},
          f"--help verbs {sorted(verbs)}, gpsppsctl(8) "
          f"{sorted(tags.get('VERBS', []))}")
    r = subprocess.run(["man", "-l", "-P", "cat", MAN], capture_output=True,
                       text=True, env=dict(os.environ, MANWIDTH="80"))
    check(r.returncode == 0 and "--socket PATH" in r.stdout and
          "gpspps_up 0" in r.stdout,
          f"man -l {MAN}: exit {r.returncode}, {r.stderr[:200]!r}")


COMPLETION = os.path.join(SRC, "packaging", "bash-completion", "gpsppsctl")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def complete(line):
    """What bash completion offers for the command line typed so far."""
    script = (f"source {BASH_COMPLETION}; source {COMPLETION}; "
              'COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}; '
              "read -ra COMP_WORDS <<<\"$1\"; "
              '[[ $1 == *" " ]] && COMP_WORDS+=(""); '
              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); "
              "_gpsppsctl gpsppsctl; printf '%s\\n' \"${COMPREPLY[@]}\"")
    r = subprocess.run(["bash", "-c", script, "bash", line],
                       capture_output=True, text=True, timeout=10)
    return set(filter(None, r.stdout.splitlines()))


def test_completion():
    """The verbs and each verb's options, as --help lists them."""
    if not os.path.exists(BASH_COMPLETION):
        check(False, "bash-completion not installed (tests/deps.sh test)")
        return
    opts, verbs = help_sets()
    longs = {o for o in opts if o.startswith("--")}
    got = complete("gpsppsctl ")
    check(got == verbs, f"completing a verb: {sorted(got)}, --help "
          f"{sorted(verbs)}")
    check(complete("gpsppsctl wa") == {"watch"}, "completing 'wa'")
    per_verb = {
        "status": longs - {"--count", "--output", "--gpsppsd-conf"},
        "doctor": longs - {"--count", "--output"},
        "watch": longs - {"--output", "--gpsppsd-conf"},
        "metrics": longs - {"--count", "--json", "--gpsppsd-conf"},
    }
    for verb, want in per_verb.items():
        got = complete(f"gpsppsctl {verb} --")
        check(got == want, f"options after {verb}: {sorted(got)}, want "
              f"{sorted(want)}")
    check(complete("gpsppsctl --json status ") == set(),
          "a second verb offered after one")


def main():
    with TestDir("gpsppsctl-cli-") as tmp:
        test_no_daemon(tmp)
        test_usage()
        test_socket_errors(tmp)
        test_bad_peers(tmp)
        test_fixture(tmp)
    test_version()
    test_help_matches_man()
    test_completion()
    if checks_failed():
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
