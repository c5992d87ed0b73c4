#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Every exported name starts with its file's name (suite 'build').

doc/hacking.md's Names rule: what a file exports starts with the file's
name (serial.c -> serial_open), or is that name, or starts with the short
prefix the table there gives it; a module's internal header foo_int.h
gives foo_ to every foo*.c.  Checked on what the compiler made and on
the headers:

  - the global symbols of every object compiled from src/ and calibrate/
    (nm --defined-only on the objects compile_commands.json names), for
    functions and variables;
  - the macros, struct/enum/union tags, typedefs and enum constants of
    every header there (comments blanked), for types and constants.

The exceptions are PREFIXES below, each with its reason, and they are the
table of doc/hacking.md.  Usage: names.py SRC BUILD.
"""

import json
import os
import re
import subprocess
import sys

# file (without .c/.h) -> (extra prefixes, reason).  The file's own name
# is always allowed.
PREFIXES = {
    "src/lib/timeutil": (["tu_", "TU_"], "short prefix, used everywhere"),
    "src/lib/log": (["LOG_LVL_"], "the levels"),
    "src/lib/conf": (["gpsppsd_config"], "the daemon's settings"),
    "src/gpsppsd/daemon": (["EXIT_CONFIG", "EXIT_SOFTWARE"],
                           "sysexits' names for the exit codes"),
    "calibrate/chronyc_parse": (["cp_", "CP_"], "short prefix"),
    "calibrate/chronyc_run": (["cr_", "CR_"], "short prefix"),
    "calibrate/confedit": (["ce_", "CE_"], "short prefix"),
    "calibrate/estimate": (["est_", "EST_"], "short prefix"),
    "calibrate/report": (["cal_", "CAL_", "REJ_"],
                         "gpspps-calibrate's shared types and exit codes"),
}
# The doctor's vocabulary, facts in and report out, shared by every
# doctor_*.c: the types and constants of these two headers (their
# functions take the file's name).
TYPE_PREFIXES = {
    "src/gpsppsctl/doctor/doctor_facts": ["doctor_", "DOCTOR_"],
    "src/gpsppsctl/doctor/doctor_judge": ["doctor_", "DOCTOR_"],
}
# Programs: their file exports main only.
PROGRAMS = {"src/gpsppsd/gpsppsd", "src/gpspps-sim/gpspps-sim",
            "calibrate/gpspps-calibrate", "src/gpsppsctl/gpsppsctl"}
# A PPS backend exports its vtable only.
BACKEND = re.compile(r"src/pps/pps_(\w+)$")
DIRS = ("src/", "calibrate/")


def allowed(src, mod, typ=False):
    """The prefixes a name of module mod (path without extension) may
    take: its own name, a short prefix, foo_ when foo_int.h is beside;
    typ: a type or constant of a header."""
    base = os.path.basename(mod)
    out = [base + "_", base.upper() + "_"]
    out += PREFIXES.get(mod, ([], ""))[0]
    if typ:
        out += TYPE_PREFIXES.get(mod, [])
    d = os.path.dirname(mod)
    for f in os.listdir(os.path.join(src, d)):
        if f.endswith("_int.h") and base.startswith(f[:-6]):
            out += [f[:-6] + "_", f[:-6].upper() + "_"]
    return out


def ok(name, src, mod, typ):
    base = os.path.basename(mod)
    if mod in PROGRAMS:
        return name == "main"
    m = BACKEND.match(mod)
    if m and m.group(1) != "util":
        return name == base + "_backend"
    if name in (base, base.upper()):
        return True
    return any(name.startswith(p) or name == p.rstrip("_")
               for p in allowed(src, mod, typ))


def object_names(src, build):
    """(module, symbol) for every global symbol the objects define."""
    with open(os.path.join(build, "compile_commands.json")) as f:
        cmds = json.load(f)
    seen = set()
    for c in cmds:
        path = os.path.normpath(os.path.join(c["directory"], c["file"]))
        rel = os.path.relpath(path, src)
        if not rel.startswith(DIRS) or not rel.endswith(".c"):
            continue
        obj = os.path.join(c["directory"], c["output"])
        if not os.path.exists(obj):
            continue
        nm = subprocess.run(["nm", "-g", "--defined-only", obj],
                            capture_output=True, text=True, check=True)
        for line in nm.stdout.splitlines():
            seen.add((rel[:-2], line.split()[-1]))
    return seen


def blank_comments(text):
    return re.sub(r"/\*.*?\*/|//[^\n]*", " ", text, flags=re.S)


def header_names(src):
    """(module, name) for the macros, tags, typedefs and enum constants
    of every header."""
    out = set()
    for d in DIRS:
        for root, _, files in os.walk(os.path.join(src, d)):
            for f in files:
                if not f.endswith(".h"):
                    continue
                rel = os.path.relpath(os.path.join(root, f), src)[:-2]
                mod = rel[:-4] if rel.endswith("_int") else rel
                guard = "GPSPPS_" + f[:-2].upper() + "_H"
                with open(os.path.join(root, f)) as fh:
                    t = blank_comments(fh.read())
                for n in header_idents(t):
                    if n != guard:
                        out.add((mod, n))
    return out


def header_idents(t):
    names = re.findall(r"^\s*#\s*define\s+(\w+)", t, re.M)
    names += re.findall(r"\b(?:struct|enum|union)\s+(\w+)\s*[{;]", t)
    names += re.findall(r"typedef[^;{]*?(\w+)\s*;", t)
    for body in re.findall(r"\benum\s*\w*\s*\{(.*?)\}", t, re.S):
        names += re.findall(r"^\s*(\w+)", body, re.M)
    return names


def main():
    src, build = sys.argv[1], sys.argv[2]
    objs = object_names(src, build)
    if not objs:
        print("FAIL: no objects found through compile_commands.json")
        return 1
    bad = sorted({(m, n) for m, n in objs if not ok(n, src, m, False)} |
                 {(m, n) for m, n in header_names(src)
                  if not ok(n, src, m, True)})
    for m, n in bad:
        print(f"FAIL: {m} exports {n}, not prefixed {allowed(src, m)[0]}"
              " (doc/hacking.md, Names)")
    print(f"{len(objs)} symbols checked, {len(bad)} misnamed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
