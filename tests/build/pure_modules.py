#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The pure modules keep to what makes them pure (suite 'build').

A pure module does no I/O and reads no clock: fed inputs, it returns
results, so it is unit-tested with exact inputs and fuzzed
(doc/hacking.md).  Checked here on the source: each includes only its own
header, the C library's non-I/O headers and other pure modules' headers,
and calls no I/O, clock or logging function.  timeutil is pure but for
tu_now(), the one clock read, which the other pure modules never call.

Usage: pure_modules.py SRC.  A new pure module is added to PURE.
"""

import os
import re
import sys

PURE = [
    "src/lib/timeutil", "src/lib/errmsg", "src/lib/nmea", "src/lib/pair",
    "src/pps/pps_util",
    "src/gpspps-sim/simgen", "calibrate/chronyc_parse", "calibrate/estimate",
    "src/lib/rolling", "src/lib/burst", "src/lib/status_request",
    "src/gpsppsctl/ctl_json", "src/gpsppsctl/ctl_text",
    "src/gpsppsctl/ctl_summary", "src/gpsppsctl/ctl_watchline",
    "src/gpsppsctl/ctl_metrics",
]
# The C library's headers without I/O (stdio.h for snprintf and sscanf
# only), config.h, and pps.h, which declares the PPS types and vtable and
# does nothing itself; and the pure modules' own headers.
ALLOWED = {
    "assert.h", "ctype.h", "errno.h", "float.h", "inttypes.h", "limits.h",
    "math.h", "stdarg.h", "stdbool.h", "stddef.h", "stdint.h", "stdio.h",
    "stdlib.h", "string.h", "strings.h", "time.h", "config.h", "pps.h",
    # JSON values in memory (gpsppsctl's renderers call none of its file
    # or stream functions).
    "jansson.h",
} | {os.path.basename(m) + ".h" for m in PURE}
CALLS = re.compile(
    r"(?<![\w.>])(fopen|fdopen|freopen|fprintf|printf|puts|fputs|fputc|"
    r"putchar|fwrite|fread|fgets|getline|open|openat|read|write|close|"
    r"ioctl|poll|select|socket|connect|send|sendto|recv|clock_gettime|"
    r"gettimeofday|tu_now|time|sleep|usleep|nanosleep|getenv|system|popen|"
    r"json_load(?:_file|f|fd)|json_dump(?:_file|f|fd)|log_\w+)\s*\(")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.M)


def strip(code):
    """Comments and string/char literals blanked, line breaks kept."""
    pat = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'
                     r"'(?:\\.|[^'\\\n])*'", re.S)
    return pat.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)


def check(src, m):
    errors = []
    for path in (f"{src}/{m}.c", f"{src}/{m}.h"):
        with open(path) as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            if inc not in ALLOWED:
                errors.append(f"{m} includes {inc}")
        if not path.endswith(".c"):
            continue
        code = strip(text)
        # tu_now's body is the one clock read.
        code = re.sub(r"int64_t tu_now\(clockid_t clock\)\n\{.*?\n\}",
                      lambda x: re.sub(r"[^\n]", " ", x.group(0)), code,
                      flags=re.S)
        for no, line in enumerate(code.splitlines(), 1):
            for call in CALLS.findall(line):
                errors.append(f"{m}.c:{no} calls {call}()")
    return errors


def main():
    src = sys.argv[1]
    errors = [e for m in PURE for e in check(src, m)]
    for e in errors:
        print(f"FAIL: pure module {e}")
    if errors:
        return 1
    print(f"PASS: {len(PURE)} pure modules include and call no I/O, "
          f"clock or log function")
    return 0


if __name__ == "__main__":
    sys.exit(main())
