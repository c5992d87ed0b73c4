#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Replay agreement: our reading of real receiver captures against GPSD's.

usage: check_replay.py DATA_DIR PROGRAM [ARGS...]

PROGRAM ARGS FILE must replay one NMEA capture and print one JSON line per
epoch with a known date (see src/lib/replay.h): `gpsppsd --replay`, or the
test-only replay-driver (one line in meson.build).  In a cross build
meson sets MESON_EXE_WRAPPER (qemu-user, from the cross file): PROGRAM
runs through it.

DATA_DIR holds GPSD's regression captures (NAME.log) and GPSD's reading of
each (NAME.log.chk: every sentence GPSD accepted, echoed, followed by the
JSON it emitted after it).  For every capture, each of our epoch times is
compared with the "time" fields of GPSD's TPV reports.  A difference is
either explained by one of the CLASSES below, each checked against the
data, or it is unexplained; the counts per class must equal EXPECTED for
that file exactly.  An unexplained difference, or a class count that moved
either way, fails the test.
"""

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

ROLLOVER = timedelta(weeks=1024)

CLASSES = {
    'gpsd_rollover':
        "GPSD moved the date 1024 weeks forward (its own rollover floor is "
        "newer than the capture); we keep the capture's date",
    'compiled_floor':
        "the capture names no date, so the replay applies the compiled-in "
        "rollover floor, as the daemon would, and lands 1024 weeks after "
        "GPSD",
    'gpsd_untimed_no_fix':
        "the receiver reports no fix: GPSD's TPVs for the epoch carry no "
        "time, we print it with valid=false",
    'gpsd_untimed_first_fix':
        "first fix (at the start of the capture or after no-fix epochs): "
        "GPSD's TPVs for the epoch still carry no time",
    'gpsd_no_report':
        "GPSD emitted no TPV between the epoch's first sentence and the next "
        "epoch's: its end-of-cycle report came after the next second's "
        "sentence had replaced the time",
    'gpsd_no_report_end':
        "the capture's last epoch: GPSD emitted no TPV after it",
    'gpsd_ignores_all':
        "no .chk: GPSD ignored the whole capture (no checksums); we must "
        "print no epoch either",
}


def expected_table(floor):
    """Expected difference classes per capture; {} = full agreement."""
    # hemi.log has no "# Date:" header: the compiled floor decides.
    hemi = {'compiled_floor': 118} if floor > '2018-09-07' else {}
    return {
        'GPSmap-76S.log': {'gpsd_untimed_no_fix': 12},
        'ais-nmea.log': {'gpsd_no_report': 3},
        'beidou-gb.log': {'gpsd_untimed_no_fix': 3,
                          'gpsd_untimed_first_fix': 1},
        'bn-9015.log': {'gpsd_untimed_no_fix': 4,
                        'gpsd_untimed_first_fix': 1},
        'bt451.log': {'gpsd_untimed_first_fix': 1, 'gpsd_no_report': 1,
                      'gpsd_no_report_end': 1},
        'bu353-glonass.log': {},
        'bundg_zeus_9.log': {'gpsd_no_report': 1},
        'ch-4701.log': {'gpsd_no_report_end': 1},
        'com-1289.log': {},
        'eXplorist210.log': {},
        'ericsson-gru04.log': {},
        'firefly-II.log': {},
        'garmin-geko201.log': {'gpsd_untimed_no_fix': 18},
        'garmin17n.log': {},
        'garmin38.log': {},
        'geos-1m.log': {'gpsd_untimed_no_fix': 6,
                        'gpsd_untimed_first_fix': 1},
        'gp-320fw-2019-03-28.log': {'gpsd_no_report': 1},
        'gpsdf.log': {},
        'gr601-w.log': {},
        'hab-gpspi.log': {},
        'hemi.log': hemi,
        'hp58534a.log': {'gpsd_ignores_all': 1},
        'humminbird-M37.log': {'gpsd_no_report': 2},
        'jl-micro-jlt.log': {},
        'magellan315.log': {},
        'mr-350p.log': {'gpsd_no_report_end': 1},
        'mt3339.log': {},
        'mtk-3329.log': {},
        'navika-100-fix.log': {},
        'neo-m8n.log': {'gpsd_rollover': 22, 'gpsd_no_report_end': 1},
        'nl2008u.log': {},
        'nl551e.log': {'gpsd_untimed_no_fix': 3},
        'nmea-fuzzy-cases.log': {},
        'nokia-ld-4w.log': {},
        'pharos-360.log': {'gpsd_no_report_end': 1},
        'quectel-L70.log': {},
        'quectel-eg25-g.log': {'gpsd_untimed_no_fix': 7},
        'quectel-l76k-nmea.log': {'gpsd_no_report_end': 1},
        'quectelLC79D-1.log': {},
        'rgm3800.log': {'gpsd_untimed_no_fix': 2,
                        'gpsd_untimed_first_fix': 1},
        'rst39.log': {'gpsd_rollover': 40, 'gpsd_no_report': 1},
        'saab-r4.log': {},
        'sirfstarv-nmea.log': {},
        'skytraq-fixB.log': {},
        'sl869.log': {'gpsd_untimed_no_fix': 7},
        'telit-he910.log': {},
        'tn200-all.log': {'gpsd_untimed_no_fix': 9},
        'tn204.log': {'gpsd_no_report': 1},
        'triton400.log': {},
        'ublox-lea-4h.log': {'gpsd_no_report_end': 1},
        'ublox-lea-5h.log': {'gpsd_no_report': 1},
        'ublox-zed-f9p-nmea.log': {},
        'unicore-um621.log': {},
    }


# ---- reading GPSD's side ----------------------------------------------------

TIME_FIELD = {'RMC': 1, 'GGA': 1, 'GNS': 1, 'ZDA': 1, 'GLL': 5}
ADDRESS = re.compile(r'^\$[A-Z]{2}(RMC|GGA|GNS|ZDA|GLL),')
HHMMSS = re.compile(r'^(\d\d)(\d\d)(\d\d)(?:\.(\d*))?$')


def sentence_tod(line):
    """'HH:MM:SS.mmm' of a time-bearing sentence, else None."""
    m = ADDRESS.match(line)
    if not m:
        return None
    fields = line.split('*')[0].split(',')
    i = TIME_FIELD[m.group(1)]
    t = HHMMSS.match(fields[i]) if i < len(fields) else None
    if not t:
        return None
    ms = ((t.group(4) or '') + '000')[:3]
    return '%s:%s:%s.%s' % (t.group(1), t.group(2), t.group(3), ms)


def read_chk(path):
    """GPSD's TPV times, and its output split into spans: one per run of
    time sentences with the same time of day, with the TPVs after them."""
    spans, times, untimed = [], set(), 0
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            line = line.rstrip('\r\n')
            if line.startswith('{'):
                obj = json.loads(line)
                if obj.get('class') != 'TPV':
                    continue
                if 'time' in obj:
                    times.add(obj['time'])
                else:
                    untimed += 1
                if spans:
                    spans[-1]['tpv'].append(obj)
                continue
            tod = sentence_tod(line)
            if tod is not None and (not spans or spans[-1]['tod'] != tod):
                spans.append({'tod': tod, 'tpv': []})
    return spans, times, untimed


def has_date_header(path):
    with open(path, 'rb') as f:
        for raw in f:
            if not raw.startswith(b'#'):
                return False
            if re.match(rb'#\s*date\s*[:=]', raw, re.I):
                return True
    return False


# ---- our side ----------------------------------------------------------------

def replay(cmd, path):
    r = subprocess.run(cmd + [path], capture_output=True, text=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError('%s: exit %d: %s' % (path, r.returncode, r.stderr))
    return [json.loads(line) for line in r.stdout.splitlines()], r.stderr


def parse_time(s):
    return datetime.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ').replace(
        tzinfo=timezone.utc)


def fmt_time(t):
    return t.strftime('%Y-%m-%dT%H:%M:%S.') + '%03dZ' % (t.microsecond // 1000)


# ---- classification ------------------------------------------------------------

def find_span(spans, start, tod):
    for k in range(start, len(spans)):
        if spans[k]['tod'] == tod:
            return k
    return None


def classify_unmatched(ep, prev, spans, k):
    """Class of an epoch of ours that GPSD did not report, or None."""
    if k is None:
        return None
    tpv = spans[k]['tpv']
    if not tpv:
        return 'gpsd_no_report_end' if k == len(spans) - 1 else \
            'gpsd_no_report'
    if any('time' in o for o in tpv):
        return None     # GPSD reported another time here: unexplained
    if not ep['valid']:
        return 'gpsd_untimed_no_fix'
    if prev is None or not prev['valid']:
        return 'gpsd_untimed_first_fix'
    return None


def shifted_match(ep, gpsd_times, dated):
    """Rollover classes: the same label 1024 weeks apart."""
    t = parse_time(ep['time'])
    if fmt_time(t + ROLLOVER) in gpsd_times and not ep['rollover_fixed']:
        return 'gpsd_rollover', fmt_time(t + ROLLOVER)
    if fmt_time(t - ROLLOVER) in gpsd_times and ep['rollover_fixed'] and \
            not dated:
        return 'compiled_floor', fmt_time(t - ROLLOVER)
    return None, None


def compare(epochs, spans, gpsd_times, dated):
    counts, unexplained, matched = {}, [], set()
    agree, pos, prev = 0, 0, None
    for ep in epochs:
        tod = ep['time'][11:23]
        k = find_span(spans, pos, tod)
        pos = k + 1 if k is not None else pos
        cls = None
        if ep['time'] in gpsd_times:
            agree += 1
            matched.add(ep['time'])
        else:
            cls, other = shifted_match(ep, gpsd_times, dated)
            if cls:
                matched.add(other)
            else:
                cls = classify_unmatched(ep, prev, spans, k)
            if cls:
                counts[cls] = counts.get(cls, 0) + 1
            else:
                unexplained.append('ours only: %s' % ep['time'])
        prev = ep
    for t in sorted(gpsd_times - matched):
        unexplained.append('GPSD only: %s' % t)
    return agree, counts, unexplained


# ---- main ------------------------------------------------------------------------

def compiled_floor():
    build = os.environ.get('GPSPPS_BUILD')
    if not build:
        sys.exit('GPSPPS_BUILD is not set (run through meson test)')
    with open(os.path.join(build, 'config.h')) as f:
        m = re.search(r'GPSPPS_ROLLOVER_FLOOR_DATE "([0-9-]+)"', f.read())
    return m.group(1)


def check_file(cmd, data, name, expected):
    """Returns a summary row and a list of failures."""
    path = os.path.join(data, name)
    epochs, err = replay(cmd, path)
    if not os.path.exists(path + '.chk'):
        counts = {'gpsd_ignores_all': 1} if not epochs else {}
        unexplained = ['ours only: %s' % e['time'] for e in epochs]
        row = (name, len(epochs), 0, 0, 0, counts, len(unexplained))
    else:
        spans, gpsd_times, untimed = read_chk(path + '.chk')
        agree, counts, unexplained = compare(epochs, spans, gpsd_times,
                                             has_date_header(path))
        row = (name, len(epochs), len(gpsd_times), untimed, agree, counts,
               len(unexplained))
    failures = ['%s: %s' % (name, u) for u in unexplained]
    if counts != expected:
        failures.append('%s: difference classes %s, expected %s'
                        % (name, counts, expected))
    if 'replay ' not in err:
        failures.append('%s: no summary on stderr' % name)
    return row, failures


def nmea(body):
    cs = 0
    for c in body:
        cs ^= ord(c)
    return '$%s*%02X\r\n' % (body, cs)


# Captures made up here, with the exact lines expected: a leap second, a
# receiver 1024 weeks behind (repaired against the capture's own date),
# comments and noise between sentences.
SYNTHETIC = [
    ('# Date: 2016-12-31\n'
     + nmea('GPRMC,235959,A,1,N,2,E,0,0,311216,,,A')
     + '# a comment line in the middle\n'
     + nmea('GPGGA,235960,1,N,2,E,1,08,0.9,5,M,4,M,,')
     + 'noise\n$GPZDA,000000,01,01,2017,,*00\r\n'
     + nmea('GNZDA,000000.5,01,01,2017,,'),
     ['{"time":"2016-12-31T23:59:59.000Z","sentences":["RMC"],"valid":true,'
      '"talker":"GP","leap_second":false,"rollover_fixed":false}',
      '{"time":"2016-12-31T23:59:60.000Z","sentences":["GGA"],"valid":true,'
      '"talker":"GP","leap_second":true,"rollover_fixed":false}',
      '{"time":"2017-01-01T00:00:00.500Z","sentences":["ZDA"],"valid":true,'
      '"talker":"GN","leap_second":false,"rollover_fixed":false}']),
    ('# Name: a receiver after the 2019 rollover\n# Date = 2019-4-8\n'
     + nmea('GPRMC,120000.00,A,1,N,2,E,0,0,220899,,,A')
     + nmea('GPGLL,1,N,2,E,120000.00,A,A')
     + nmea('GPGNS,120000.20,1,N,2,E,NN,00,,,,,'),
     ['{"time":"2019-04-07T12:00:00.000Z","sentences":["GLL","RMC"],'
      '"valid":true,"talker":"GP","leap_second":false,'
      '"rollover_fixed":true}',
      '{"time":"2019-04-07T12:00:00.200Z","sentences":["GNS"],'
      '"valid":false,"talker":"GP","leap_second":false,'
      '"rollover_fixed":true}']),
]


def check_synthetic(cmd, tmpdir):
    failures = []
    for i, (text, expected) in enumerate(SYNTHETIC):
        path = os.path.join(tmpdir, 'synthetic-%d.log' % i)
        with open(path, 'w', newline='') as f:
            f.write(text)
        r = subprocess.run(cmd + [path], capture_output=True, text=True)
        got = r.stdout.splitlines()
        if r.returncode != 0 or got != expected:
            failures.append('synthetic capture %d: exit %d, got %s, '
                            'expected %s' % (i, r.returncode, got, expected))
    return failures


def check_missing_file(cmd):
    """An unreadable capture: non-zero exit and a message naming it."""
    path = '/nonexistent/capture.log'
    r = subprocess.run(cmd + [path], capture_output=True, text=True)
    if r.returncode == 0 or path not in r.stderr or r.stdout:
        return ['missing file: exit %d, stderr %r' % (r.returncode, r.stderr)]
    return []


def print_table(rows):
    print('%-26s %6s %6s %7s %6s  %-44s %s' % (
        'capture', 'ours', 'gpsd', 'untimed', 'agree', 'explained differences',
        'unexpl.'))
    tot = [0, 0, 0, 0, 0, 0]
    for name, ours, gpsd, untimed, agree, counts, unexpl in rows:
        expl = ' '.join('%s=%d' % kv for kv in sorted(counts.items()))
        print('%-26s %6d %6d %7d %6d  %-44s %d' % (
            name, ours, gpsd, untimed, agree, expl or '-', unexpl))
        for i, v in enumerate((ours, gpsd, untimed, agree,
                               sum(counts.values()), unexpl)):
            tot[i] += v
    print('%d captures: %d epochs of ours, %d GPSD TPV times (+%d TPVs '
          'without time), %d agreements, %d explained differences, '
          '%d unexplained' % (len(rows), *tot))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    data, cmd = sys.argv[1], sys.argv[2:]
    cmd = shlex.split(os.environ.get('MESON_EXE_WRAPPER', '')) + cmd
    table = expected_table(compiled_floor())
    captures = sorted(n for n in os.listdir(data) if n.endswith('.log'))
    rows, failures = [], check_missing_file(cmd)
    with tempfile.TemporaryDirectory() as tmpdir:
        failures += check_synthetic(cmd, tmpdir)
    for name in captures:
        if name not in table:
            failures.append('%s: not in the expected table' % name)
            continue
        row, fails = check_file(cmd, data, name, table[name])
        rows.append(row)
        failures += fails
    for name in sorted(set(table) - set(captures)):
        failures.append('%s: in the table but not in %s' % (name, data))
    print_table(rows)
    print()
    for cls, text in CLASSES.items():
        print('  %-24s %s' % (cls, text))
    if failures:
        print('\nFAILED:')
        for f in failures:
            print('  ' + f)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
