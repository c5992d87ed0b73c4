/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_summary.c - see ctl_summary.h. */
#include <stdarg.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_text.h"
#include "ctl_summary.h"

/* A pulse or a delivery older than this is "not arriving" (they come
 * once a second). */
#define CTL_SUMMARY_STALE_S 2.5
/* gpsppsd's own limit for "silent" (gpsppsd(8)). */
#define CTL_SUMMARY_SILENT_S 5.0
#define CTL_SUMMARY_W 16

/* Each check writes what is wrong into buf and returns true, or returns
 * false when its link of the chain works. */
/* A silent receiver: no byte at all, or bytes that never decode (with
 * the rate that did decode when gpsppsd probed, if any). */
static void ctl_summary_silent(const json_t *st, const char *dev, char *buf,
			       size_t len)
{
	long long bad = ctl_json_int(st, "receiver.bad_checksums", 0);
	long long rate = ctl_json_int(st, "receiver.detected_baud", 0);
	double since;

	if (!ctl_json_num(st, "receiver.since_last_byte_s", &since) ||
	    since >= CTL_SUMMARY_SILENT_S) {
		snprintf(buf, len, "receiver %s silent: no byte for %.0f s or "
			 "more", dev, CTL_SUMMARY_SILENT_S);
	} else if (rate) {
		snprintf(buf, len, "receiver %s: bytes but no valid sentence: "
			 "it decodes at %lld baud (baud %lld, or baud auto)",
			 dev, rate, rate);
	} else {
		snprintf(buf, len, "receiver %s: bytes but no valid sentence "
			 "(%lld bad checksums): wrong baud rate?", dev, bad);
	}
}

static bool ctl_summary_receiver(const json_t *st, char *buf, size_t len)
{
	const char *state = ctl_json_str(st, "receiver.state");
	const char *dev = ctl_json_str(st, "receiver.device");

	dev = dev ? dev : "(no device)";
	if (!state) {
		snprintf(buf, len, "gpsppsd reports no receiver state");
	} else if (!strcmp(state, "valid")) {
		return false;
	} else if (!strcmp(state, "absent")) {
		snprintf(buf, len, "receiver %s absent: cannot open the "
			 "device", dev);
	} else if (!strcmp(state, "opening")) {
		snprintf(buf, len, "receiver %s: no byte yet", dev);
	} else if (!strcmp(state, "silent")) {
		ctl_summary_silent(st, dev, buf, len);
	} else if (!strcmp(state, "no-fix")) {
		snprintf(buf, len, "receiver %s has no fix", dev);
	} else {
		snprintf(buf, len, "receiver %s: %s", dev, state);
	}
	return true;
}

static bool ctl_summary_pps_on(const json_t *st)
{
	const char *b = ctl_json_str(st, "pps.backend");

	return b && strcmp(b, "none") != 0;
}

static bool ctl_summary_pps(const json_t *st, char *buf, size_t len)
{
	const char *dev = ctl_json_str(st, "pps.device");
	double since;

	dev = dev ? dev : ctl_json_str(st, "pps.backend");
	if (!ctl_summary_pps_on(st)) {
		return false;
	}
	if (!ctl_json_bool(st, "pps.open", true)) {
		snprintf(buf, len, "PPS %s not open", dev);
	} else if (ctl_json_int(st, "pps.edges", 0) == 0) {
		snprintf(buf, len, "no PPS edge yet from %s", dev);
	} else if (ctl_json_num(st, "pps.since_last_edge_s", &since) &&
		   since > CTL_SUMMARY_STALE_S) {
		snprintf(buf, len, "no PPS edge from %s for %.0f s", dev,
			 since);
	} else {
		return false;
	}
	return true;
}

static bool ctl_summary_pairing(const json_t *st, char *buf, size_t len)
{
	const char *why = ctl_json_str(st, "last.pps");

	if (!ctl_summary_pps_on(st) || !why || !strcmp(why, "sample")) {
		return false;
	}
	snprintf(buf, len, "PPS samples held back: %s", why);
	return true;
}

static bool ctl_summary_socket(const json_t *st, const char *name,
			       char *buf, size_t len)
{
	char key[64];
	const json_t *s;
	const char *e;
	double since;

	snprintf(key, sizeof(key), "chronyd.%s", name);
	s = ctl_json_get(st, key);
	e = ctl_json_str(s, "last_error");
	if (!s || !ctl_json_bool(s, "enabled", true) || !e) {
		return false;
	}
	if (ctl_json_num(s, "since_last_delivery_s", &since) &&
	    since <= CTL_SUMMARY_STALE_S) {
		return false;
	}
	snprintf(key, sizeof(key), "failed.%s.meaning", e);
	snprintf(buf, len, "%s samples do not reach chronyd (%s): %s",
		 strcmp(name, "pps") ? "NMEA" : "PPS", e,
		 ctl_json_str(s, key) ? ctl_json_str(s, key) : e);
	return true;
}

bool ctl_summary_verdict(const json_t *st, char *buf, size_t len)
{
	char why[512];
	bool pps = ctl_summary_pps_on(st);

	if (ctl_summary_receiver(st, why, sizeof(why)) ||
	    ctl_summary_pps(st, why, sizeof(why)) ||
	    ctl_summary_pairing(st, why, sizeof(why)) ||
	    (pps && ctl_summary_socket(st, "pps", why, sizeof(why))) ||
	    ctl_summary_socket(st, "nmea", why, sizeof(why))) {
		snprintf(buf, len, "NOT OK: %s", why);
		return false;
	}
	snprintf(buf, len, "OK: %s samples reach chronyd",
		 pps ? "PPS" : "NMEA");
	return true;
}

static void ctl_summary_field(struct ctl_text *out, const char *name,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ctl_summary_field(struct ctl_text *out, const char *name,
			      const char *fmt, ...)
{
	va_list ap;

	ctl_text_printf(out, "%-*s: ", CTL_SUMMARY_W, name);
	va_start(ap, fmt);
	ctl_text_vprintf(out, fmt, ap);
	va_end(ap);
	ctl_text_printf(out, "\n");
}

/* Seconds at path with a unit, or the word for null. */
static const char *ctl_summary_secs(const json_t *st, const char *path,
				    const char *none, char *buf, size_t len)
{
	double s;

	if (!ctl_json_num(st, path, &s)) {
		return none;
	}
	return ctl_json_fmt_seconds(s, buf, len);
}

/* "310.000 ms ago", or none for null. */
static const char *ctl_summary_ago(const json_t *st, const char *path,
				   const char *none, char *buf, size_t len)
{
	double s;
	char t[32];

	if (!ctl_json_num(st, path, &s)) {
		return none;
	}
	snprintf(buf, len, "%s ago", ctl_json_fmt_seconds(s, t, sizeof(t)));
	return buf;
}

static const char *ctl_summary_str(const json_t *st, const char *path,
				   const char *none)
{
	const char *s = ctl_json_str(st, path);

	return s ? s : none;
}

static void ctl_summary_daemon(const json_t *st, struct ctl_text *out)
{
	char up[32];

	ctl_summary_field(out, "Daemon", "gpsppsd %s, pid %lld, up %s, user %s",
			  ctl_summary_str(st, "daemon.version", "?"),
			  ctl_json_int(st, "daemon.pid", 0),
			  ctl_summary_secs(st, "daemon.uptime_s", "?", up,
					   sizeof(up)),
			  ctl_summary_str(st, "daemon.user", "?"));
	ctl_summary_field(out, "Configuration", "%s",
			  ctl_summary_str(st, "daemon.config", "(none)"));
}

/* "RMC 10, GGA 10" from an object of counters. */
static void ctl_summary_counts(const json_t *obj, char *buf, size_t len)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)obj, key, v) {
		if (n < len) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s %lld",
					      n ? ", " : "", key,
					      (long long)json_integer_value(v));
		}
	}
	if (!n) {
		snprintf(buf, len, "none");
	}
}

static void ctl_summary_baud(const json_t *st, char *buf, size_t len)
{
	long long det = ctl_json_int(st, "receiver.detected_baud", 0);
	int n;

	n = snprintf(buf, len, "%lld baud (%s",
		     ctl_json_int(st, "receiver.baud", 0),
		     ctl_summary_str(st, "receiver.baud_mode", "fixed"));
	if (det && n > 0 && (size_t)n < len) {
		snprintf(buf + n, len - (size_t)n, ", decodes at %lld)", det);
	} else if (n > 0 && (size_t)n < len) {
		snprintf(buf + n, len - (size_t)n, ")");
	}
}

static void ctl_summary_receiver_fields(const json_t *st, struct ctl_text *out)
{
	char buf[512], t[32], rate[16] = "-";
	double r;

	ctl_summary_baud(st, t, sizeof(t));
	ctl_summary_field(out, "Receiver", "%s at %s, %s",
			  ctl_summary_str(st, "receiver.device", "?"), t,
			  ctl_summary_str(st, "receiver.state", "?"));
	ctl_summary_counts(ctl_json_get(st, "receiver.sentences"), buf,
			   sizeof(buf));
	ctl_summary_field(out, "Sentences", "%s (talker %s)", buf,
			  ctl_summary_str(st, "receiver.talker", "none"));
	ctl_summary_field(out, "Bytes", "%lld (%lld bad checksums, %lld "
			  "dropped, %lld overlong)",
			  ctl_json_int(st, "receiver.bytes", 0),
			  ctl_json_int(st, "receiver.bad_checksums", 0),
			  ctl_json_int(st, "receiver.dropped_bytes", 0),
			  ctl_json_int(st, "receiver.overlong", 0));
	if (ctl_json_num(st, "receiver.epochs_per_s", &r)) {
		snprintf(rate, sizeof(rate), "%.2f", r);
	}
	ctl_summary_field(out, "Epochs", "%lld, %s per second, last %s",
			  ctl_json_int(st, "receiver.epochs", 0), rate,
			  ctl_summary_str(st, "receiver.last_epoch", "never"));
	ctl_summary_field(out, "Last byte", "%s",
			  ctl_summary_ago(st, "receiver.since_last_byte_s",
					  "never", t, sizeof(t)));
}

static void ctl_summary_delay(const json_t *st, struct ctl_text *out)
{
	char a[32], b[32], c[32];

	ctl_summary_field(out, "NMEA delay", "last %s, median %s, spread %s "
			  "(%lld samples in 64 s)",
			  ctl_summary_secs(st, "nmea_delay.last_s", "-", a,
					   sizeof(a)),
			  ctl_summary_secs(st, "nmea_delay.median_s", "-", b,
					   sizeof(b)),
			  ctl_summary_secs(st, "nmea_delay.spread_s", "-", c,
					   sizeof(c)),
			  ctl_json_int(st, "nmea_delay.count", 0));
}

static void ctl_summary_pps_fields(const json_t *st, struct ctl_text *out)
{
	char a[32], b[32];

	if (!ctl_summary_pps_on(st)) {
		ctl_summary_field(out, "PPS", "none (NMEA samples only)");
		return;
	}
	ctl_summary_field(out, "PPS", "%s %s, %s edges, %s",
			  ctl_summary_str(st, "pps.backend", "?"),
			  ctl_summary_str(st, "pps.device", ""),
			  ctl_summary_str(st, "pps.polarity", "?"),
			  ctl_json_bool(st, "pps.open", false) ? "open" :
			  "not open");
	ctl_summary_field(out, "Edges", "%lld (%lld missed, %lld errors, "
			  "spurious %lld by sequence, %lld by period)",
			  ctl_json_int(st, "pps.edges", 0),
			  ctl_json_int(st, "pps.missed", 0),
			  ctl_json_int(st, "pps.errors", 0),
			  ctl_json_int(st, "pps.spurious_seq", 0),
			  ctl_json_int(st, "pps.spurious_period", 0));
	ctl_summary_field(out, "Last edge", "%s",
			  ctl_summary_ago(st, "pps.since_last_edge_s", "never",
					  a, sizeof(a)));
	ctl_summary_field(out, "Edge jitter", "%s (%s, 64 s)",
			  ctl_summary_secs(st, "pps.jitter_s", "-", b,
					   sizeof(b)),
			  strcmp(ctl_summary_str(st, "pps.jitter_kind", ""),
				 "second") ? "spread of intervals" :
			  "against the whole second");
}

static void ctl_summary_pairing_fields(const json_t *st, struct ctl_text *out)
{
	char buf[512], a[32], b[32], c[32];
	double lo = 0, hi = 0;

	ctl_json_num(st, "pairing.window_min_s", &lo);
	ctl_json_num(st, "pairing.window_max_s", &hi);
	ctl_summary_field(out, "Pairing", "%lld samples, guard %s, window "
			  "%s .. %s%s",
			  ctl_json_int(st, "pairing.samples", 0),
			  ctl_summary_str(st, "pairing.guard", "?"),
			  ctl_json_fmt_seconds(lo, a, sizeof(a)),
			  ctl_json_fmt_seconds(hi, b, sizeof(b)),
			  ctl_json_bool(st, "pairing.next_second", false) ?
			  ", next second" : "");
	ctl_summary_counts(ctl_json_get(st, "pairing.held"), buf,
			   sizeof(buf));
	ctl_summary_field(out, "Held back", "%s", buf);
	ctl_summary_field(out, "Last offset", "%s",
			  ctl_summary_secs(st, "pairing.last_offset_s", "-", c,
					   sizeof(c)));
}

/* "ENOENT 3 (meaning); EACCES 1 (meaning)" */
static void ctl_summary_failed(const json_t *failed, char *buf, size_t len)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)failed, key, v) {
		if (n < len) {
			n += (size_t)snprintf(buf + n, len - n,
					      "%s%s %lld (%s)", n ? "; " : "",
					      key, ctl_json_int(v, "count", 0),
					      ctl_summary_str(v, "meaning",
							      "?"));
		}
	}
}

static void ctl_summary_sock(const json_t *st, const char *name,
			     const char *label, struct ctl_text *out)
{
	char key[32], buf[1024], t[32];
	const json_t *s;

	snprintf(key, sizeof(key), "chronyd.%s", name);
	s = ctl_json_get(st, key);
	if (!s || !ctl_json_bool(s, "enabled", false)) {
		ctl_summary_field(out, label, "off");
		return;
	}
	ctl_summary_field(out, label, "%s, %lld sent, last %s",
			  ctl_summary_str(s, "path", "?"),
			  ctl_json_int(s, "sent", 0),
			  ctl_summary_ago(s, "since_last_delivery_s", "never",
					  t, sizeof(t)));
	ctl_summary_failed(ctl_json_get(s, "failed"), buf, sizeof(buf));
	if (buf[0]) {
		ctl_summary_field(out, "  failed", "%s", buf);
	}
}

static void ctl_summary_last(const json_t *st, struct ctl_text *out)
{
	char a[32], b[32];

	ctl_summary_field(out, "Last second", "%s, %s, PPS %s%s, offset %s, "
			  "NMEA delay %s%s",
			  ctl_summary_str(st, "last.time", "none"),
			  ctl_json_bool(st, "last.valid", false) ? "fix" :
			  "no fix",
			  ctl_summary_str(st, "last.pps", "-"),
			  ctl_json_bool(st, "last.pps_sent", false) ?
			  " sent" : "",
			  ctl_summary_secs(st, "last.pps_offset_s", "-", a,
					   sizeof(a)),
			  ctl_summary_secs(st, "last.nmea_delay_s", "-", b,
					   sizeof(b)),
			  ctl_json_bool(st, "last.nmea_sent", false) ?
			  ", NMEA sent" : "");
}

char *ctl_summary_render(const json_t *st)
{
	struct ctl_text text = CTL_TEXT_INIT, *out = &text;
	char verdict[768];

	ctl_summary_verdict(st, verdict, sizeof(verdict));
	ctl_text_printf(out, "%s\n", verdict);
	ctl_summary_daemon(st, out);
	ctl_summary_receiver_fields(st, out);
	ctl_summary_delay(st, out);
	ctl_summary_pps_fields(st, out);
	ctl_summary_pairing_fields(st, out);
	ctl_summary_sock(st, "pps", "chronyd PPS", out);
	ctl_summary_sock(st, "nmea", "chronyd NMEA", out);
	ctl_summary_last(st, out);
	return ctl_text_take(out);
}
