/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_metrics.c - see ctl_metrics.h. */
#include <stdbool.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_text.h"
#include "ctl_metrics.h"

#define CTL_METRICS_LABELS 512

/* One metric family: its header is printed before its first sample,
 * and not at all when it has none. */
struct ctl_metrics_fam {
	const char *name;
	const char *type;         /* "counter" or "gauge" */
	const char *help;
	const char *path;         /* for the unlabelled ones: the member */
	bool started;
};

#define COUNTER(n, p, h) { "gpspps_" n "_total", "counter", h, p, false }
#define GAUGE(n, p, h) { "gpspps_" n, "gauge", h, p, false }

static const struct ctl_metrics_fam ctl_metrics_scalars[] = {
	GAUGE("daemon_uptime_seconds", "daemon.uptime_s",
	      "Seconds since gpsppsd started."),
	COUNTER("daemon_wakeups", "daemon.wakeups",
		"Wake-ups of gpsppsd's event loop."),
	GAUGE("receiver_baud", "receiver.baud",
	      "Serial rate gpsppsd reads the receiver at, in baud."),
	COUNTER("receiver_bytes", "receiver.bytes",
		"Bytes read from the receiver."),
	COUNTER("receiver_bad_checksums", "receiver.bad_checksums",
		"NMEA sentences with a bad checksum."),
	COUNTER("receiver_dropped_bytes", "receiver.dropped_bytes",
		"Bytes dropped outside any sentence."),
	COUNTER("receiver_overlong_sentences", "receiver.overlong",
		"NMEA sentences longer than the standard allows."),
	COUNTER("receiver_epochs", "receiver.epochs",
		"Whole-second epochs decoded from the receiver."),
	GAUGE("receiver_epoch_rate_hertz", "receiver.epochs_per_s",
	      "Epochs per second over the last 64 seconds."),
	GAUGE("receiver_since_last_byte_seconds", "receiver.since_last_byte_s",
	      "Seconds since the last byte from the receiver."),
	GAUGE("nmea_delay_last_seconds", "nmea_delay.last_s",
	      "Last NMEA delay: first byte of a second's burst after its "
	      "label."),
	GAUGE("nmea_delay_median_seconds", "nmea_delay.median_s",
	      "Median NMEA delay over the last 64 seconds."),
	GAUGE("nmea_delay_spread_seconds", "nmea_delay.spread_s",
	      "Spread (IQR/1.349) of the NMEA delay over the last 64 seconds."),
	GAUGE("nmea_delay_samples", "nmea_delay.count",
	      "NMEA delay samples in the 64-second window."),
	GAUGE("pps_open", "pps.open",
	      "1 when the PPS source is open."),
	COUNTER("pps_edges", "pps.edges", "PPS edges seen."),
	COUNTER("pps_missed", "pps.missed", "PPS edges missed."),
	COUNTER("pps_errors", "pps.errors", "Errors reading the PPS source."),
	GAUGE("pps_since_last_edge_seconds", "pps.since_last_edge_s",
	      "Seconds since the last PPS edge."),
	COUNTER("pairing_samples", "pairing.samples",
		"PPS samples produced by pairing edges with NMEA labels."),
	GAUGE("pairing_last_offset_seconds", "pairing.last_offset_s",
	      "Offset (true - system) of the last PPS sample."),
	GAUGE("pairing_window_min_seconds", "pairing.window_min_s",
	      "Earliest NMEA delay accepted after an edge."),
	GAUGE("pairing_window_max_seconds", "pairing.window_max_s",
	      "Latest NMEA delay accepted after an edge."),
	GAUGE("status_clients", "status_socket.clients",
	      "Clients connected to the status socket (this one included)."),
	COUNTER("status_accepted", "status_socket.accepted",
		"Connections accepted on the status socket."),
	COUNTER("status_refused", "status_socket.refused",
		"Connections refused: all client slots taken."),
	COUNTER("status_bad_requests", "status_socket.bad_requests",
		"Status requests that were not status or watch."),
	COUNTER("status_dropped", "status_socket.dropped",
		"Status clients dropped for not reading."),
};

const char *ctl_metrics_escape(const char *value, char *buf, size_t len)
{
	size_t n = 0;
	const char *rep;
	char one[2] = { 0, 0 };

	for (; *value; value++) {
		one[0] = *value;
		rep = *value == '\\' ? "\\\\" : *value == '"' ? "\\\"" :
		      *value == '\n' ? "\\n" : one;
		if (n + strlen(rep) >= len) {
			break;
		}
		memcpy(buf + n, rep, strlen(rep));
		n += strlen(rep);
	}
	if (len) {
		buf[n] = '\0';
	}
	return buf;
}

/* Append name="value" (escaped) to a label set in buf. */
static void ctl_metrics_label(char *buf, size_t len, const char *name,
			      const char *value)
{
	char esc[CTL_METRICS_LABELS];
	size_t n = strlen(buf);

	ctl_metrics_escape(value ? value : "", esc, sizeof(esc));
	snprintf(buf + n, len - n, "%s%s=\"%s\"", n ? "," : "", name, esc);
}

static void ctl_metrics_header(struct ctl_metrics_fam *f, struct ctl_text *out)
{
	if (f->started) {
		return;
	}
	ctl_text_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		f->name, f->type);
	f->started = true;
}

/* One sample of f with labels (may be ""), the value a JSON number or
 * boolean; nothing for another type or null. */
static void ctl_metrics_sample(struct ctl_metrics_fam *f, const char *labels,
			       const json_t *v, struct ctl_text *out)
{
	if (!json_is_number(v) && !json_is_boolean(v)) {
		return;
	}
	ctl_metrics_header(f, out);
	ctl_text_printf(out, "%s%s%s%s ", f->name, labels[0] ? "{" : "", labels,
		labels[0] ? "}" : "");
	if (json_is_integer(v)) {
		ctl_text_printf(out, "%lld\n",
				(long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		ctl_text_printf(out, "%d\n", json_is_true(v) ? 1 : 0);
	} else {
		ctl_text_printf(out, "%.10g\n", json_real_value(v));
	}
}

static void ctl_metrics_scalar_all(const json_t *st, struct ctl_text *out)
{
	struct ctl_metrics_fam f;
	size_t i;

	for (i = 0; i < sizeof(ctl_metrics_scalars) /
		    sizeof(ctl_metrics_scalars[0]); i++) {
		f = ctl_metrics_scalars[i];
		ctl_metrics_sample(&f, "", ctl_json_get(st, f.path), out);
	}
}

/* A sample per member of the object at path: label lname = the key. */
static void ctl_metrics_per_key(struct ctl_metrics_fam *f, const json_t *obj,
				const char *lname, struct ctl_text *out)
{
	char labels[CTL_METRICS_LABELS];
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		labels[0] = '\0';
		ctl_metrics_label(labels, sizeof(labels), lname, key);
		ctl_metrics_sample(f, labels, v, out);
	}
}

/* An enumeration as one 0/1 sample per possible value. */
static void ctl_metrics_enum(struct ctl_metrics_fam *f, const char *lname,
			     const char *const *values, const char *cur,
			     struct ctl_text *out)
{
	char labels[CTL_METRICS_LABELS];
	json_t *v;

	for (; *values; values++) {
		labels[0] = '\0';
		ctl_metrics_label(labels, sizeof(labels), lname, *values);
		v = json_boolean(cur && !strcmp(cur, *values));
		ctl_metrics_sample(f, labels, v, out);
		json_decref(v);
	}
}

static void ctl_metrics_info(const json_t *st, struct ctl_text *out)
{
	static const char *const keys[][2] = {
		{ "version", "daemon.version" },
		{ "user", "daemon.user" },
		{ "config", "daemon.config" },
		{ "device", "receiver.device" },
		{ "talker", "receiver.talker" },
		{ "pps_backend", "pps.backend" },
		{ "pps_device", "pps.device" },
		{ "polarity", "pps.polarity" },
	};
	struct ctl_metrics_fam f = GAUGE("info", NULL,
		"gpsppsd's version, user, configuration and devices "
		"(always 1).");
	char labels[4 * CTL_METRICS_LABELS] = "";
	json_t *one = json_integer(1);
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		ctl_metrics_label(labels, sizeof(labels), keys[i][0],
				  ctl_json_str(st, keys[i][1]));
	}
	ctl_metrics_sample(&f, labels, one, out);
	json_decref(one);
}

static void ctl_metrics_states(const json_t *st, struct ctl_text *out)
{
	static const char *const rx[] = { "absent", "opening", "silent",
					  "no-fix", "valid", NULL };
	static const char *const guard[] = { "warming-up", "locked",
					     "confirming", NULL };
	struct ctl_metrics_fam r = GAUGE("receiver_state", NULL,
		"1 for the receiver's state: absent, opening, silent, "
		"no-fix, valid.");
	struct ctl_metrics_fam g = GAUGE("pairing_guard_state", NULL,
		"1 for the jump guard's state: warming-up, locked, "
		"confirming.");

	ctl_metrics_enum(&r, "state", rx, ctl_json_str(st, "receiver.state"),
			 out);
	ctl_metrics_enum(&g, "state", guard, ctl_json_str(st, "pairing.guard"),
			 out);
}

static void ctl_metrics_labelled(const json_t *st, struct ctl_text *out)
{
	struct ctl_metrics_fam sent = COUNTER("receiver_sentences", NULL,
		"NMEA sentences with a valid checksum, per sentence type.");
	struct ctl_metrics_fam held = COUNTER("pairing_held", NULL,
		"Seconds whose PPS sample was held back, per reason.");
	struct ctl_metrics_fam spur = COUNTER("pps_spurious", NULL,
		"PPS edges rejected as spurious, by sequence number or "
		"period.");
	struct ctl_metrics_fam jit = GAUGE("pps_jitter_seconds", NULL,
		"PPS edge jitter over 64 s: kind second (against the whole "
		"second) or interval (spread of successive intervals).");
	char labels[CTL_METRICS_LABELS] = "";

	ctl_metrics_per_key(&sent, ctl_json_get(st, "receiver.sentences"),
			    "type", out);
	ctl_metrics_per_key(&held, ctl_json_get(st, "pairing.held"),
			    "reason", out);
	ctl_metrics_sample(&spur, "by=\"sequence\"",
			   ctl_json_get(st, "pps.spurious_seq"), out);
	ctl_metrics_sample(&spur, "by=\"period\"",
			   ctl_json_get(st, "pps.spurious_period"), out);
	ctl_metrics_label(labels, sizeof(labels), "kind",
			  ctl_json_str(st, "pps.jitter_kind"));
	ctl_metrics_sample(&jit, labels, ctl_json_get(st, "pps.jitter_s"),
			   out);
}

/* The per-errno counts of a socket's "failed" object. */
static void ctl_metrics_failed(struct ctl_metrics_fam *f, const char *labels,
			       const json_t *failed, struct ctl_text *out)
{
	char l[CTL_METRICS_LABELS];
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)failed, key, v) {
		snprintf(l, sizeof(l), "%s", labels);
		ctl_metrics_label(l, sizeof(l), "errno", key);
		ctl_metrics_sample(f, l, json_object_get(v, "count"), out);
	}
}

/* One family over both of chronyd's sockets, labelled socket="pps" and
 * "nmea" (and path="..." for the first family). */
static void ctl_metrics_sockets(struct ctl_metrics_fam *f, const json_t *st,
				bool with_path, struct ctl_text *out)
{
	static const char *const socks[] = { "pps", "nmea" };
	char labels[CTL_METRICS_LABELS];
	const json_t *s;
	size_t k;

	for (k = 0; k < 2; k++) {
		s = ctl_json_get(ctl_json_get(st, "chronyd"), socks[k]);
		labels[0] = '\0';
		ctl_metrics_label(labels, sizeof(labels), "socket", socks[k]);
		if (with_path) {
			ctl_metrics_label(labels, sizeof(labels), "path",
					  ctl_json_str(s, "path"));
		}
		if (!strcmp(f->path, "failed")) {
			ctl_metrics_failed(f, labels, ctl_json_get(s, "failed"),
					   out);
		} else {
			ctl_metrics_sample(f, labels,
					   ctl_json_get(s, f->path), out);
		}
	}
}

static void ctl_metrics_chronyd(const json_t *st, struct ctl_text *out)
{
	struct ctl_metrics_fam fam[] = {
		GAUGE("chronyd_socket_enabled", "enabled",
		      "1 when gpsppsd sends this kind of sample; path: "
		      "chronyd's SOCK refclock socket."),
		COUNTER("chronyd_sent", "sent",
			"Samples delivered to chronyd's socket."),
		COUNTER("chronyd_failed", "failed",
			"Samples chronyd's socket refused, per errno."),
		GAUGE("chronyd_since_last_delivery_seconds",
		      "since_last_delivery_s",
		      "Seconds since the last sample delivered to chronyd."),
	};
	size_t i;

	for (i = 0; i < sizeof(fam) / sizeof(fam[0]); i++) {
		ctl_metrics_sockets(&fam[i], st, i == 0, out);
	}
}

static void ctl_metrics_up(int up, struct ctl_text *out)
{
	ctl_text_printf(out, "# HELP gpspps_up 1 when gpsppsd answered on its "
			"status socket.\n# TYPE gpspps_up gauge\n"
			"gpspps_up %d\n", up);
}

char *ctl_metrics_render(const json_t *st)
{
	struct ctl_text text = CTL_TEXT_INIT, *out = &text;

	ctl_metrics_up(1, out);
	ctl_metrics_info(st, out);
	ctl_metrics_states(st, out);
	ctl_metrics_scalar_all(st, out);
	ctl_metrics_labelled(st, out);
	ctl_metrics_chronyd(st, out);
	return ctl_text_take(out);
}

char *ctl_metrics_render_down(void)
{
	struct ctl_text out = CTL_TEXT_INIT;

	ctl_metrics_up(0, &out);
	return ctl_text_take(&out);
}
