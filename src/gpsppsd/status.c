/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status.c - see status.h. */
#include "status.h"

#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "rolling.h"
#include "timeutil.h"

/* Samples a window holds at most: 64 s of epochs at 20 Hz. */
#define WINDOW_CAP 1280

/* The last epoch that named its second, copied out of the record. */
struct last_epoch {
	bool have;
	struct nmea_epoch ep;
	enum pair_result pr;
	struct pair_sample ps;
	bool pps_sent, nmea_usable, nmea_sent;
};

struct status {
	struct status_sources src;
	char user[64];              /* looked up once: NSS may block */
	int64_t start_mono;
	int64_t open_mono;          /* serial opened, 0 never */
	int64_t last_rx_mono;       /* last byte since open, 0 none */
	int64_t last_good_mono;     /* last valid-checksum sentence, 0 none */
	uint64_t sentences_seen;
	int64_t last_epoch_mono;
	struct nmea_epoch epoch;    /* the last epoch of any kind */
	bool have_epoch;
	struct last_epoch last;
	struct rolling *epochs, *delay, *offsets, *intervals;
	/* PPS */
	struct pps_stats pps_base;  /* counters of sources closed before */
	uint64_t edges;
	uint64_t spurious_seq;
	uint64_t prev_seq;
	int64_t prev_edge_mono;     /* CLOCK_MONOTONIC_RAW, 0 none */
	struct pps_edge last_edge;
	int64_t last_edge_mono;     /* CLOCK_MONOTONIC when it came */
	bool have_offset;
	int64_t last_offset_ns;
};

/* The user the daemon runs as, or its uid when it has no name. */
static void user_name(char *buf, size_t len)
{
	struct passwd *pw = getpwuid(geteuid());

	if (pw != NULL && strlen(pw->pw_name) < len) {
		memcpy(buf, pw->pw_name, strlen(pw->pw_name) + 1);
		return;
	}
	snprintf(buf, len, "%u", (unsigned)geteuid());
}

struct status *status_create(const struct status_sources *src,
			     int64_t start_mono)
{
	struct status *st = calloc(1, sizeof(*st));

	if (st == NULL) {
		return NULL;
	}
	st->src = *src;
	user_name(st->user, sizeof(st->user));
	st->start_mono = start_mono;
	st->epochs = rolling_create(WINDOW_CAP, STATUS_WINDOW_NS);
	st->delay = rolling_create(WINDOW_CAP, STATUS_WINDOW_NS);
	st->offsets = rolling_create(WINDOW_CAP, STATUS_WINDOW_NS);
	st->intervals = rolling_create(WINDOW_CAP, STATUS_WINDOW_NS);
	if (st->epochs == NULL || st->delay == NULL || st->offsets == NULL ||
	    st->intervals == NULL) {
		status_destroy(st);
		return NULL;
	}
	return st;
}

void status_destroy(struct status *st)
{
	if (st == NULL) {
		return;
	}
	rolling_destroy(st->epochs);
	rolling_destroy(st->delay);
	rolling_destroy(st->offsets);
	rolling_destroy(st->intervals);
	free(st);
}

/* ---- notes ---------------------------------------------------------- */

void status_note_open(struct status *st, int64_t mono)
{
	st->open_mono = mono;
	st->last_rx_mono = 0;
}

void status_note_bytes(struct status *st, int64_t mono)
{
	uint64_t n = nmea_get_stats(st->src.dec)->sentences;

	st->last_rx_mono = mono;
	if (n != st->sentences_seen) {
		st->sentences_seen = n;
		st->last_good_mono = mono;
	}
}

static void note_last(struct status *st, const struct status_epoch *rec)
{
	struct last_epoch *l = &st->last;

	l->have = true;
	l->ep = *rec->ep;
	l->pr = rec->pr;
	if (rec->pr == PAIR_SAMPLE) {
		l->ps = *rec->ps;
	}
	l->pps_sent = rec->pps_sent;
	l->nmea_usable = rec->nmea_usable;
	l->nmea_sent = rec->nmea_sent;
}

void status_note_epoch(struct status *st, const struct nmea_epoch *ep,
		       const struct status_epoch *rec, int64_t mono)
{
	st->epoch = *ep;
	st->have_epoch = true;
	st->last_epoch_mono = mono;
	rolling_add(st->epochs, mono, 0);
	if (rec == NULL) {
		return;
	}
	note_last(st, rec);
	/* The delay of whole-second bursts (not of a later epoch standing
	 * in), as the NMEA samples and the calibrator see it. */
	if (ep->date_known && ep->burst_rx_ns != 0 &&
	    tu_floor_mod(ep->time_ns, TU_NS_PER_SEC) == 0) {
		rolling_add(st->delay, mono,
			    (double)(ep->burst_rx_ns - ep->time_ns) / 1e9);
	}
}

/* Successive edges' intervals on CLOCK_MONOTONIC_RAW, less the whole
 * seconds: their spread is the jitter where no edge's true time is
 * known. */
static void note_interval(struct status *st, const struct pps_edge *e,
			  int64_t mono)
{
	int64_t d, r;

	if (e->mono_ns == 0) {
		return;
	}
	if (st->prev_edge_mono != 0) {
		d = e->mono_ns - st->prev_edge_mono;
		r = tu_floor_mod(d + TU_NS_PER_SEC / 2, TU_NS_PER_SEC) -
		    TU_NS_PER_SEC / 2;
		rolling_add(st->intervals, mono, (double)r / 1e9);
	}
	st->prev_edge_mono = e->mono_ns;
}

void status_note_edge(struct status *st, const struct pps_edge *e,
		      int64_t mono)
{
	st->edges++;
	if (e->seq != 0 && st->prev_seq != 0 && e->seq <= st->prev_seq) {
		st->spurious_seq++;
	}
	st->spurious_seq += e->extra;
	if (e->seq != 0) {
		st->prev_seq = e->seq;
	}
	note_interval(st, e, mono);
	st->last_edge = *e;
	st->last_edge_mono = mono;
}

void status_note_sample(struct status *st, const struct pair_sample *ps,
			int64_t mono)
{
	st->have_offset = true;
	st->last_offset_ns = ps->offset_ns;
	rolling_add(st->offsets, mono, (double)ps->offset_ns / 1e9);
}

void status_note_pps_closed(struct status *st, const struct pps_stats *s)
{
	st->pps_base.edges += s->edges;
	st->pps_base.missed += s->missed;
	st->pps_base.errors += s->errors;
	st->prev_seq = 0;
	st->prev_edge_mono = 0;
}

/* ---- JSON helpers --------------------------------------------------- */

struct now {
	int64_t real, mono;
};

static json_t *iso_or_null(int64_t ns, bool ns_digits)
{
	char buf[48];
	int n = ns_digits ? tu_format_iso_ns(ns, buf, sizeof(buf)) :
			    tu_format_iso(ns, false, buf, sizeof(buf));

	return n > 0 ? json_string(buf) : json_null();
}

static json_t *secs(int64_t ns)
{
	return json_real((double)ns / 1e9);
}

/* Seconds from mono_then to now, or null when then is 0 (never). */
static json_t *since(const struct now *now, int64_t mono_then)
{
	return mono_then != 0 ? secs(now->mono - mono_then) : json_null();
}

static json_t *real_or_null(bool have, double v)
{
	return have ? json_real(v) : json_null();
}

static void set(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
}

static json_t *count(uint64_t n)
{
	return json_integer((json_int_t)n);
}

/* ---- daemon --------------------------------------------------------- */


static json_t *daemon_obj(const struct status *st, const struct now *now)
{
	const char *cf = st->src.cfg->config_file;
	json_t *o = json_object();

	set(o, "version", json_string(GPSPPS_VERSION));
	set(o, "pid", json_integer(getpid()));
	set(o, "uptime_s", secs(now->mono - st->start_mono));
	set(o, "config", cf[0] != '\0' ? json_string(cf) : json_null());
	set(o, "user", json_string(st->user));
	set(o, "wakeups", count(loop_wakeups(st->src.loop)));
	return o;
}

/* ---- receiver ------------------------------------------------------- */

static const char *receiver_state(const struct status *st,
				  const struct now *now)
{
	if (*st->src.serial_fd < 0) {
		return "absent";
	}
	if (st->last_rx_mono == 0) {
		return now->mono - st->open_mono > STATUS_SILENT_NS ? "silent" :
								      "opening";
	}
	if (now->mono - st->last_rx_mono > STATUS_SILENT_NS ||
	    st->last_good_mono == 0 ||
	    now->mono - st->last_good_mono > STATUS_SILENT_NS) {
		return "silent";
	}
	if (st->have_epoch && st->epoch.valid &&
	    now->mono - st->last_epoch_mono <= STATUS_SILENT_NS) {
		return "valid";
	}
	return "no-fix";
}

static json_t *sentences_obj(const struct nmea_stats *ns)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < NMEA_TYPE_SLOTS && ns->types[i].name[0] != '\0'; i++) {
		set(o, ns->types[i].name, count(ns->types[i].count));
	}
	if (ns->types_other > 0) {
		set(o, "other", count(ns->types_other));
	}
	return o;
}

/* Epochs a second over the window, or over the time since start while
 * that is shorter; null in the first 2 s. */
static json_t *epoch_rate(struct status *st, const struct now *now)
{
	struct rolling_summary s;
	int64_t span = now->mono - st->start_mono;

	rolling_summary(st->epochs, now->mono, &s);
	if (span > STATUS_WINDOW_NS) {
		span = STATUS_WINDOW_NS;
	}
	if (span < 2 * TU_NS_PER_SEC) {
		return json_null();
	}
	return json_real(s.count / ((double)span / 1e9));
}

static json_t *last_epoch_label(const struct status *st)
{
	if (!st->have_epoch || !st->epoch.date_known) {
		return json_null();
	}
	return iso_or_null(st->epoch.time_ns, false);
}

static void receiver_counts(json_t *o, const struct nmea_stats *ns)
{
	set(o, "sentences", sentences_obj(ns));
	set(o, "bytes", count(ns->bytes));
	set(o, "bad_checksums", count(ns->bad_checksum));
	set(o, "dropped_bytes", count(ns->dropped_bytes));
	set(o, "overlong", count(ns->overlong));
	set(o, "epochs", count(ns->epochs));
}

static json_t *receiver_obj(struct status *st, const struct now *now)
{
	const struct gpsppsd_config *cfg = st->src.cfg;
	json_t *o = json_object();
	bool talker = st->have_epoch && st->epoch.talker[0] != '\0';

	set(o, "device", json_string(cfg->device));
	set(o, "baud", json_integer(*st->src.baud));
	set(o, "baud_mode", json_string(*st->src.baud_auto ? "auto" : "fixed"));
	set(o, "detected_baud", *st->src.detected_baud ?
	    json_integer(*st->src.detected_baud) : json_null());
	set(o, "state", json_string(receiver_state(st, now)));
	set(o, "talker", talker ? json_string(st->epoch.talker) : json_null());
	receiver_counts(o, nmea_get_stats(st->src.dec));
	set(o, "last_epoch", last_epoch_label(st));
	set(o, "since_last_byte_s", since(now, st->last_rx_mono));
	set(o, "epochs_per_s", epoch_rate(st, now));
	return o;
}

static json_t *delay_obj(struct status *st, const struct now *now)
{
	struct rolling_summary s;
	json_t *o = json_object();
	bool any = rolling_summary(st->delay, now->mono, &s) > 0;

	set(o, "last_s", real_or_null(s.last_t != 0, s.last));
	set(o, "median_s", real_or_null(any, s.median));
	set(o, "spread_s", real_or_null(s.count >= 2, s.spread));
	set(o, "count", json_integer(s.count));
	return o;
}

/* ---- PPS ------------------------------------------------------------ */

static void pps_kind(const struct gpsppsd_config *cfg, json_t *o)
{
	const char *spec = cfg->pps, *colon = strchr(spec, ':');

	if (colon == NULL) {
		set(o, "backend", json_string(spec));
		set(o, "device", json_null());
		return;
	}
	set(o, "backend", json_stringn(spec, (size_t)(colon - spec)));
	set(o, "device", json_string(colon + 1));
}

static const char *polarity_name(const struct status *st)
{
	long want = st->src.cfg->pps_edge;

	if (st->edges > 0) {
		want = st->last_edge.polarity;
	}
	if (want == PPS_EDGE_RISING) {
		return "rising";
	}
	return want == PPS_EDGE_FALLING ? "falling" : "auto";
}

static void pps_counts(struct status *st, json_t *o)
{
	struct pps_stats s = st->pps_base;

	if (*st->src.pps_open) {
		s.edges += st->src.pps->stats.edges;
		s.missed += st->src.pps->stats.missed;
		s.errors += st->src.pps->stats.errors;
	}
	set(o, "edges", count(s.edges));
	set(o, "missed", count(s.missed));
	set(o, "errors", count(s.errors));
	set(o, "spurious_seq", count(st->spurious_seq));
	set(o, "spurious_period",
	    count(pair_get_stats(st->src.pair)->edges_aperiodic));
}

/* Against the whole second when samples give the edges' true seconds,
 * else the spread of successive intervals. */
static void pps_jitter(struct status *st, const struct now *now, json_t *o)
{
	struct rolling_summary s;

	if (rolling_summary(st->offsets, now->mono, &s) >= 2) {
		set(o, "jitter_s", json_real(s.stddev));
		set(o, "jitter_kind", json_string("second"));
		return;
	}
	rolling_summary(st->intervals, now->mono, &s);
	set(o, "jitter_s", real_or_null(s.count >= 2, s.stddev));
	set(o, "jitter_kind", json_string("interval"));
}

static json_t *pps_obj(struct status *st, const struct now *now)
{
	json_t *o = json_object();
	bool edge = st->edges > 0;

	pps_kind(st->src.cfg, o);
	set(o, "open", json_boolean(*st->src.pps_open));
	pps_counts(st, o);
	set(o, "polarity", json_string(polarity_name(st)));
	set(o, "last_edge", edge ? iso_or_null(st->last_edge.real_ns, true) :
				   json_null());
	set(o, "since_last_edge_s", edge ? since(now, st->last_edge_mono) :
					   json_null());
	pps_jitter(st, now, o);
	return o;
}

/* ---- pairing -------------------------------------------------------- */

static json_t *held_obj(const struct pair_stats *ps)
{
	json_t *o = json_object();
	int r;

	for (r = PAIR_PENDING + 1; r < PAIR_RESULT_COUNT; r++) {
		set(o, pair_result_name((enum pair_result)r),
		    count(ps->held[r]));
	}
	return o;
}

static json_t *pairing_obj(const struct status *st)
{
	const struct gpsppsd_config *cfg = st->src.cfg;
	const struct pair_stats *ps = pair_get_stats(st->src.pair);
	json_t *o = json_object();

	set(o, "samples", count(ps->samples));
	set(o, "held", held_obj(ps));
	set(o, "guard", json_string(pair_guard_state_name(
				pair_guard_state(st->src.pair))));
	set(o, "last_offset_s", st->have_offset ? secs(st->last_offset_ns) :
						  json_null());
	set(o, "window_min_s", secs(cfg->window_min_ns));
	set(o, "window_max_s", secs(cfg->window_max_ns));
	set(o, "next_second", json_boolean(cfg->next_second));
	return o;
}

/* ---- chronyd -------------------------------------------------------- */

static const char *errno_name(int e)
{
	const char *n = strerrorname_np(e);

	return n != NULL ? n : "unknown";
}

static json_t *failed_obj(const struct sock_stats *s)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < SOCK_ERRNO_SLOTS && s->by_errno[i].err != 0; i++) {
		json_t *f = json_object();
		int e = s->by_errno[i].err;

		set(f, "count", count(s->by_errno[i].count));
		set(f, "meaning", json_string(sock_errno_meaning(e)));
		set(o, errno_name(e), f);
	}
	return o;
}

static json_t *sock_obj(const struct sock_client *c, const char *refid,
			bool enabled, const struct now *now)
{
	const struct sock_stats *s = sock_client_stats(c);
	json_t *o = json_object();
	bool err = s->last_errno > 0;

	set(o, "path", json_string(sock_client_path(c)));
	set(o, "refid_hint", json_string(refid));
	set(o, "enabled", json_boolean(enabled));
	set(o, "sent", count(s->sent));
	set(o, "failed", failed_obj(s));
	set(o, "last_error", err ? json_string(errno_name(s->last_errno)) :
				   json_null());
	set(o, "last_delivery", s->sent > 0 ?
	    iso_or_null(s->last_sent_ns, false) : json_null());
	set(o, "since_last_delivery_s", since(now, s->last_sent_mono_ns));
	set(o, "sample_size",
	    json_integer((json_int_t)sock_client_sample_size()));
	return o;
}

static json_t *chronyd_obj(const struct status *st, const struct now *now)
{
	const struct gpsppsd_config *cfg = st->src.cfg;
	json_t *o = json_object();

	set(o, "pps", sock_obj(st->src.pps_sock, "PPS",
			       strcmp(cfg->pps, "none") != 0, now));
	set(o, "nmea", sock_obj(st->src.nmea_sock, "NMEA", cfg->nmea_samples,
				now));
	return o;
}

/* ---- last epoch ----------------------------------------------------- */

static json_t *last_obj(const struct status *st)
{
	const struct last_epoch *l = &st->last;
	json_t *o = json_object();
	bool sample = l->have && l->pr == PAIR_SAMPLE;

	set(o, "time", l->have && l->ep.date_known ?
	    iso_or_null(l->ep.time_ns, false) : json_null());
	set(o, "valid", json_boolean(l->have && l->ep.valid));
	set(o, "pps", l->have ? json_string(pair_result_name(l->pr)) :
				json_null());
	set(o, "pps_sent", json_boolean(l->pps_sent));
	set(o, "pps_offset_s", sample ? secs(l->ps.offset_ns) : json_null());
	set(o, "edge", sample ? iso_or_null(l->ps.edge_ns, true) : json_null());
	set(o, "nmea_delay_s", l->have && l->ep.burst_rx_ns != 0 ?
	    secs(l->ep.burst_rx_ns - l->ep.time_ns) : json_null());
	set(o, "nmea_sent", json_boolean(l->nmea_sent));
	return o;
}

/* ---- the status socket itself --------------------------------------- */

static json_t *server_obj(const struct status *st)
{
	const struct status_server *srv = *st->src.server;
	const struct status_server_stats *s;
	json_t *o = json_object();

	set(o, "path", json_string(st->src.cfg->status_socket));
	if (srv == NULL) {
		return o;
	}
	s = status_server_stats(srv);
	set(o, "clients", json_integer(s->clients));
	set(o, "accepted", count(s->accepted));
	set(o, "refused", count(s->refused));
	set(o, "bad_requests", count(s->bad_requests));
	set(o, "dropped", count(s->dropped));
	return o;
}

static char *append_newline(char *text, size_t *len)
{
	char *p = realloc(text, *len + 2);

	if (p == NULL) {
		free(text);
		return NULL;
	}
	p[(*len)++] = '\n';
	p[*len] = '\0';
	return p;
}

char *status_render(struct status *st, int64_t now_real, int64_t now_mono,
		    size_t *len)
{
	struct now now = { now_real, now_mono };
	json_t *o = json_object();
	char *text;

	set(o, "version", json_integer(STATUS_SCHEMA_VERSION));
	set(o, "time", iso_or_null(now_real, false));
	set(o, "daemon", daemon_obj(st, &now));
	set(o, "receiver", receiver_obj(st, &now));
	set(o, "nmea_delay", delay_obj(st, &now));
	set(o, "pps", pps_obj(st, &now));
	set(o, "pairing", pairing_obj(st));
	set(o, "chronyd", chronyd_obj(st, &now));
	set(o, "last", last_obj(st));
	set(o, "status_socket", server_obj(st));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (text == NULL) {
		return NULL;
	}
	*len = strlen(text);
	/* json_dumps' buffer has room only for its own NUL: add "\n". */
	return append_newline(text, len);
}
