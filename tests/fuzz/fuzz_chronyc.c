/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_chronyc.c - libFuzzer target for the parsers of outside input in
 * gpspps-calibrate: chronyc -c output (sources, sourcestats, tracking),
 * saved snapshot lines, refclocks.log lines, and chrony.conf refclock
 * lines with the offset edit.
 *
 * Invariants checked (abort on violation): parsed numbers are finite,
 * reach fits 8 bits, names are NUL-terminated inside their buffers; a
 * refclock line that parses can be edited, and the edited line parses
 * again with the new offset; a line that does not parse cannot be edited.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chronyc_parse.h"
#include "confedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) {
		abort();
	}
}

static void chronyc_line(const char *line, size_t len)
{
	struct cp_source s;
	struct cp_sourcestats ss;
	struct cp_tracking t;
	struct cp_refclock_sample rs;
	double ts;

	if (cp_parse_source_line(line, len, &s) == 0) {
		check(s.reach <= 0377 && isfinite(s.offset) &&
		      isfinite(s.measured) && isfinite(s.error) &&
		      memchr(s.name, '\0', sizeof(s.name)) != NULL);
	}
	if (cp_parse_sourcestats_line(line, len, &ss) == 0) {
		check(isfinite(ss.offset) && isfinite(ss.sd) && ss.np >= 0 &&
		      memchr(ss.name, '\0', sizeof(ss.name)) != NULL);
	}
	if (cp_parse_tracking_line(line, len, &t) == 0) {
		check(strlen(t.refid_hex) == 8 && isfinite(t.system_offset));
	}
	if (cp_parse_snapshot_line(line, len, &ts, &ss) == 0) {
		check(isnan(ts) || isfinite(ts));
		check(isfinite(ss.offset));
	}
	if (cp_parse_refclocks_line(line, len, &rs) == 0) {
		check(isfinite(rs.t) && isfinite(rs.raw) && isfinite(rs.cooked));
	}
}

static void conf_line(const char *line, size_t len)
{
	struct ce_refclock rc, again;
	char *out = NULL;
	size_t outlen;
	int parsed = ce_parse_refclock_line(line, len, 3, &rc);
	int edited = ce_edit_offset(line, len, 1, 0.123456, &out, &outlen);

	if (parsed != 1) {
		check(edited != 0 || memchr(line, '\n', len) != NULL);
		free(out);
		return;
	}
	free(rc.param);
	check(edited == 0);
	check(ce_parse_refclock_line(out, outlen, 3, &again) == 1);
	check(again.has_offset && again.offset == 0.123456);
	free(again.param);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t start = 0;
	struct cp_sourcestats ss;
	struct cp_source s;
	struct cp_tracking t;

	cp_find_sourcestats(text, size, "NMEA", &ss);
	cp_find_source(text, size, "NMEA", &s);
	cp_parse_tracking(text, size, &t);
	while (start < size) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - text) : size;

		chronyc_line(text + start, end - start);
		conf_line(text + start, end - start);
		start = end + 1;
	}
	return 0;
}
