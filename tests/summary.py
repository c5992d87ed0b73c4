#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Print the closing line of a test run from meson's JSON test logs
(testlog.json, or one per lane: main.json background.json):
'N passed, N failed, N skipped' over all of them.  Exit 1 when anything
failed, a log is missing, or nothing ran."""
import json
import sys

passed = failed = skipped = 0
missing = []
for path in sys.argv[1:]:
    try:
        f = open(path)
    except OSError as e:
        missing.append(f"{path}: {e.strerror}")
        continue
    with f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)["result"]
            if r in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif r == "SKIP":
                skipped += 1
            else:
                failed += 1
for m in missing:
    print(f"no test log {m}: that lane did not run", file=sys.stderr)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed or missing or passed == 0 else 0)
