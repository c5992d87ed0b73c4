/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_judge_pps.c - the PPS input's links (device, edges) and the
 * pairing of edges with NMEA seconds. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "doctor_judge_int.h"

static const char *const pps_wire_fix =
	"check the PPS wire and pin (ppstest /dev/ppsN shows the kernel's "
	"edges); many receivers pulse only once they have a fix";

static bool pps_device_bad(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	json_t *open = ctl_json_get(c->st, "pps.open");
	char desc[96];

	if (f->pps_dev.err != 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s: %s", f->pps_path,
				 strerror(f->pps_dev.err));
		doctor_judge_fix(r, "load the PPS driver (Raspberry Pi: "
				 "dtoverlay=pps-gpio,gpiopin=N) or set `pps` "
				 "to the device that exists");
		return true;
	}
	if (json_is_false(open)) {
		doctor_judge_file_desc(&f->pps_dev, desc, sizeof(desc));
		doctor_judge_say(r, DOCTOR_FAIL, "gpsppsd cannot open %s (%s)",
				 f->pps_path, desc);
		doctor_judge_fix(r, "give gpsppsd's user read access to %s "
				 "(the package's udev rule puts it in group "
				 "gpspps)", f->pps_path);
		return true;
	}
	return false;
}

static void check_pps_device(struct doctor_judge_ctx *c,
			     struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	const char *spec = f->setup.pps;

	r->id = "pps-device";
	if (!f->setup_known) {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd's settings are "
				 "unknown");
	} else if (strcmp(spec, "none") == 0 || spec[0] == '\0') {
		doctor_judge_say(r, DOCTOR_WARN, "no PPS input (pps none): "
				 "NMEA timing only, good to milliseconds");
		doctor_judge_fix(r, "wire the receiver's PPS output and set "
				 "`pps` (kernel:/dev/pps0, gpio:CHIP:LINE or "
				 "dcd)");
	} else if (f->pps_path[0] == '\0') {
		c->pps_ok = true;
		doctor_judge_say(r, DOCTOR_PASS, "PPS input %s (no device file "
				 "to check)", spec);
	} else if (!pps_device_bad(c, r)) {
		c->pps_ok = true;
		if (f->n_pps_holders > 0) {
			doctor_judge_say(r, DOCTOR_WARN, "%s is also open in "
					 "%s (pid %d): a second consumer of "
					 "the pulse", f->pps_path,
					 f->pps_holders[0].comm,
					 (int)f->pps_holders[0].pid);
			doctor_judge_fix(r, "stop %s using it (gpsd: drop it "
					 "from DEVICES; chronyd: remove its "
					 "`refclock PPS` line): gpsppsd "
					 "already feeds chronyd this pulse",
					 f->pps_holders[0].comm);
			return;
		}
		doctor_judge_say(r, DOCTOR_PASS, "PPS input %s, %s present",
				 spec, f->pps_path);
	}
}

static bool edges_missing(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	double edges = 0, since = NAN, up = 0;

	ctl_json_num(c->st, "pps.edges", &edges);
	ctl_json_num(c->st, "pps.since_last_edge_s", &since);
	ctl_json_num(c->st, "daemon.uptime_s", &up);
	if (edges == 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "no PPS edge from %s in %.0f "
				 "s", c->f->setup.pps, up);
		doctor_judge_fix(r, "%s", pps_wire_fix);
		return true;
	}
	if (!(since <= DOCTOR_SILENCE_S)) {
		doctor_judge_say(r, DOCTOR_FAIL, "no PPS edge for %.0f s (%.0f "
				 "before)", since, edges);
		doctor_judge_fix(r, "%s", pps_wire_fix);
		return true;
	}
	return false;
}

static void check_pps_edges(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	double edges = 0, sp = 0, jit = NAN;
	const char *pol = ctl_json_str(c->st, "pps.polarity");
	const char *kind = ctl_json_str(c->st, "pps.jitter_kind");

	r->id = "pps-edges";
	if (c->st == NULL || !c->pps_ok) {
		doctor_judge_say(r, DOCTOR_SKIP, c->st == NULL ?
				 "gpsppsd not running" : "no usable PPS input");
		return;
	}
	if (edges_missing(c, r)) {
		c->pps_ok = false;
		return;
	}
	ctl_json_num(c->st, "pps.edges", &edges);
	ctl_json_num(c->st, "pps.spurious_period", &sp);
	ctl_json_num(c->st, "pps.jitter_s", &jit);
	if (sp > 2 && sp * 10 > edges) {
		doctor_judge_say(r, DOCTOR_WARN, "%.0f of %.0f edges off the 1 "
				 "s grid", sp, edges);
		doctor_judge_fix(r, "noise on the PPS line, or both edges "
				 "seen: check the wiring and `pps-edge`");
		return;
	}
	doctor_judge_say(r, DOCTOR_PASS, "%.0f edges at 1 Hz, %s edge, jitter "
			 "%.3g us (%s)", edges, pol ? pol : "?", jit * 1e6,
			 kind ? kind : "?");
}

void doctor_judge_pps(struct doctor_judge_ctx *c, struct doctor_report *rep)
{
	check_pps_device(c, &rep->r[rep->n++]);
	check_pps_edges(c, &rep->r[rep->n++]);
}

/* --- pairing -------------------------------------------------------------- */

/* The delay measured is outside the window: name the option. */
static bool delay_outside(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	double med, wmin = 0, wmax = 0.95, spread = 0;
	double want;

	if (!ctl_json_num(c->st, "nmea_delay.median_s", &med)) {
		return false;
	}
	ctl_json_num(c->st, "nmea_delay.spread_s", &spread);
	ctl_json_num(c->st, "pairing.window_min_s", &wmin);
	ctl_json_num(c->st, "pairing.window_max_s", &wmax);
	if (med >= wmin && med <= wmax) {
		return false;
	}
	doctor_judge_say(r, DOCTOR_FAIL, "held back (no_edge): the measured "
			 "NMEA delay %.3f s is outside the window %.3f .. %.3f "
			 "s", med, wmin, wmax);
	want = ceil((med + 5 * spread + 0.05) * 100) / 100;
	if (med > wmax && want < 1.0) {
		doctor_judge_fix(r, "set `window-max %.2f` (--window-max "
				 "%.2f), or `next-second` (--next-second) if "
				 "the receiver announces the next pulse", want,
				 want);
	} else {
		doctor_judge_fix(r, "set `window-min` (--window-min) below "
				 "%.3f s, or `next-second` (--next-second) if "
				 "the receiver announces the next pulse", med);
	}
	return true;
}

struct held_advice {
	const char *reason;
	enum doctor_level level;
	const char *why;
	const char *fix;
};

static const struct held_advice held_table[] = {
	{ "no_edge", DOCTOR_FAIL, "no PPS edge in the window before the burst",
	  "check that the PPS and the NMEA come from the same receiver, and "
	  "`window-min`/`window-max` against the NMEA delay" },
	{ "warmup", DOCTOR_WARN, "warming up (min-valid valid epochs in a row)",
	  "wait a few seconds; if it lasts, the receiver's labels are not "
	  "consecutive (see gpsppsd --dump)" },
	{ "no_fix", DOCTOR_FAIL, "the receiver reports no fix",
	  "wait for the receiver's fix (antenna with a clear sky view)" },
	{ "ambiguous", DOCTOR_FAIL, "more than one edge in the window",
	  "spurious edges: check the PPS wiring and `pps-edge`" },
	{ "guard", DOCTOR_WARN, "the offset jumped and is being confirmed",
	  "wait; a lasting jump is confirmed after `confirm` seconds (a "
	  "clock step or a receiver that jumped)" },
	{ "no_date", DOCTOR_FAIL, "the epochs carry no date",
	  "enable RMC or ZDA sentences on the receiver" },
	{ "stale", DOCTOR_FAIL, "the bursts arrive too late for their edges",
	  "a slow or buffered port: check `char-time` and the USB adapter" },
	{ "not_whole", DOCTOR_FAIL, "the labels are not whole seconds",
	  "set the receiver to send whole-second epochs" },
	{ "leap_second", DOCTOR_PASS, "a leap second (23:59:60) is not sent",
	  "" },
	{ "untimed", DOCTOR_FAIL, "bursts without a monotonic timestamp",
	  "report this with gpsppsd's log: the kernel gave no "
	  "CLOCK_MONOTONIC_RAW" },
};

static void held_back(struct doctor_judge_ctx *c, struct doctor_result *r,
		      const char *reason)
{
	char key[64];
	double n = 0;
	size_t i;

	if (strcmp(reason, "no_edge") == 0 && delay_outside(c, r)) {
		return;
	}
	snprintf(key, sizeof(key), "pairing.held.%s", reason);
	ctl_json_num(c->st, key, &n);
	for (i = 0; i < sizeof(held_table) / sizeof(held_table[0]); i++) {
		if (strcmp(held_table[i].reason, reason) == 0) {
			doctor_judge_say(r, held_table[i].level, "held back "
					 "(%s, %.0f times): %s", reason, n,
					 held_table[i].why);
			doctor_judge_fix(r, "%s", held_table[i].fix);
			return;
		}
	}
	doctor_judge_say(r, DOCTOR_FAIL, "held back: %s (%.0f times)", reason,
			 n);
	doctor_judge_fix(r, "see gpsppsd --dump for the epochs");
}

void doctor_judge_pairing(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const char *last = ctl_json_str(c->st, "last.pps");
	double samples = 0, off = NAN;

	r->id = "pairing";
	if (c->st == NULL) {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd not running");
		return;
	}
	if (!c->pps_ok) {
		doctor_judge_say(r, DOCTOR_SKIP, "no PPS edges to pair");
		return;
	}
	ctl_json_num(c->st, "pairing.samples", &samples);
	ctl_json_num(c->st, "pairing.last_offset_s", &off);
	if (last != NULL && strcmp(last, "sample") == 0) {
		doctor_judge_say(r, DOCTOR_PASS, "%.0f PPS samples, the last "
				 "offset %.0f ns", samples, off * 1e9);
		return;
	}
	if (last == NULL) {
		doctor_judge_say(r, DOCTOR_WARN, "no whole-second epoch yet");
		doctor_judge_fix(r, "wait a few seconds and run gpsppsctl "
				 "doctor again");
		return;
	}
	held_back(c, r, last);
}
