/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_watchline.c - see ctl_watchline.h. */
#include <stdbool.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_text.h"
#include "ctl_watchline.h"

#define CTL_WATCHLINE_FMT "%-24s %-6s %12s %12s  %s\n"

bool ctl_watchline_show(struct ctl_watchline_state *s, const json_t *st)
{
	const char *t = ctl_json_str(st, "last.time");

	t = t ? t : "";
	if (!strncmp(s->label, t, sizeof(s->label))) {
		s->repeats++;
	} else {
		snprintf(s->label, sizeof(s->label), "%s", t);
		s->repeats = 0;
	}
	return s->repeats != 1;
}

char *ctl_watchline_header(void)
{
	struct ctl_text out = CTL_TEXT_INIT;

	ctl_text_printf(&out, CTL_WATCHLINE_FMT, "Second (UTC)", "Fix",
			"PPS offset", "NMEA delay", "Sent to chronyd");
	return ctl_text_take(&out);
}

/* What happened to the second's PPS sample: "PPS", "PPS failed: ENOENT",
 * "PPS held: warmup" or "" without PPS. */
static void ctl_watchline_pps(const json_t *st, char *buf, size_t len)
{
	const char *why = ctl_json_str(st, "last.pps");
	const char *backend = ctl_json_str(st, "pps.backend");
	const char *e = ctl_json_str(st, "chronyd.pps.last_error");

	if (!backend || !strcmp(backend, "none")) {
		buf[0] = '\0';
	} else if (ctl_json_bool(st, "last.pps_sent", false)) {
		snprintf(buf, len, "PPS");
	} else if (why && !strcmp(why, "sample")) {
		snprintf(buf, len, "PPS failed: %s", e ? e : "?");
	} else {
		snprintf(buf, len, "PPS held: %s", why ? why : "no epoch");
	}
}

static void ctl_watchline_sent(const json_t *st, char *buf, size_t len)
{
	const char *e = ctl_json_str(st, "chronyd.nmea.last_error");
	bool nmea_on = ctl_json_bool(st, "chronyd.nmea.enabled", false);
	char pps[128];

	ctl_watchline_pps(st, pps, sizeof(pps));
	if (!nmea_on) {
		snprintf(buf, len, "%s", pps[0] ? pps : "nothing");
	} else if (ctl_json_bool(st, "last.nmea_sent", false)) {
		snprintf(buf, len, "%s%sNMEA", pps, pps[0] ? ", " : "");
	} else {
		snprintf(buf, len, "%s%sNMEA not sent%s%s", pps,
			 pps[0] ? ", " : "", e ? ": " : "", e ? e : "");
	}
}

char *ctl_watchline_render(const json_t *st)
{
	struct ctl_text out = CTL_TEXT_INIT;
	char off[32] = "-", delay[32] = "-", sent[256];
	const char *t = ctl_json_str(st, "last.time");
	double v;

	if (ctl_json_num(st, "last.pps_offset_s", &v)) {
		ctl_json_fmt_seconds(v, off, sizeof(off));
	}
	if (ctl_json_num(st, "last.nmea_delay_s", &v)) {
		ctl_json_fmt_seconds(v, delay, sizeof(delay));
	}
	ctl_watchline_sent(st, sent, sizeof(sent));
	ctl_text_printf(&out, CTL_WATCHLINE_FMT, t ? t : "(no epoch yet)",
			ctl_json_bool(st, "last.valid", false) ? "fix" :
			"no-fix", off, delay, sent);
	return ctl_text_take(&out);
}
