/* SPDX-License-Identifier: GPL-2.0-or-later */
/* daemon.c - see daemon.h. */
#include "daemon.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "baudprobe.h"
#include "burst.h"
#include "log.h"
#include "loop.h"
#include "nmea.h"
#include "pair.h"
#include "pps.h"
#include "serial.h"
#include "share.h"
#include "sock.h"
#include "statefile.h"
#include "status.h"
#include "status_server.h"
#include "timeutil.h"

#define BACKOFF_MIN_NS (1 * TU_NS_PER_SEC)
#define BACKOFF_MAX_NS (30 * TU_NS_PER_SEC)
/* While a PPS device is absent, its open is retried this often: a failed
 * open is one system call, and a doubling back-off would make the time to
 * recover grow with the length of the outage (up to 30 s after the device
 * is back).  The back-off is kept for a device that opens but fails again
 * before it delivers (pps_lost). */
#define PPS_RETRY_NS (1 * TU_NS_PER_SEC)
/* Silence this long on a source is reported (once). */
#define PPS_SILENT_NS (3 * TU_NS_PER_SEC)
#define NMEA_SILENT_NS (5 * TU_NS_PER_SEC)
#define MAX_EDGES 16
/* Bad checksums in a row, or this long without a valid sentence, make
 * baud auto probe the rate again. */
#define BAUD_BAD_RUN 8
#define BAUD_NO_SENTENCE_NS NMEA_SILENT_NS
/* The state file of the last rate that worked, in state-directory. */
#define BAUD_STATE_FILE "baud"

struct backoff {
	int64_t delay;
};

struct daemon {
	const struct gpsppsd_config *cfg;
	struct loop *loop;
	FILE *dump;
	int sigfd;

	/* serial input */
	int serial_fd;
	struct backoff serial_backoff;
	bool serial_failing;      /* an open failure was logged */
	int flush_timer;
	int64_t last_rx_mono;
	/* burst gathering (burst.h): the port is not watched meanwhile */
	struct burst_pacer *pacer;
	int gather_timer;
	int64_t gather_real, gather_mono;  /* dates of the last read */
	int64_t char_ns;          /* bytes dated back by this (0: not) */
	bool nmea_silent;         /* silence was logged */

	/* PPS input */
	bool pps_enabled;
	struct pps_source pps;
	bool pps_open;
	struct pps_options pps_opt;
	struct backoff pps_backoff;
	int pps_timer;
	int64_t last_edge_mono;
	bool pps_silent;

	struct nmea_decoder *dec;
	struct pair_engine *pair;
	struct sock_client *pps_sock;
	struct sock_client *nmea_sock;
	struct status *status;
	struct status_server *server;
	bool fix_logged_valid;
	bool first_pps_logged;
	struct log_ratelimit hold_rl;
	int exit_code;

	/* baud rate: fixed, or auto (the probe of baudprobe.h) */
	long baud;                /* the port's rate now */
	bool baud_auto;
	long good_baud;           /* the last rate that decoded, 0 */
	long detected_baud;       /* a rate that decoded when probed, 0 */
	struct baudprobe *probe;  /* non-NULL while probing */
	struct nmea_decoder *probe_dec;  /* sees the bytes while probing */
	uint64_t probe_good, probe_bad;  /* its counts at the last look */
	bool probe_report;        /* report only: back to the fixed rate */
	bool probe_reported;      /* done for this run without sentences */
	bool probe_exhaust_logged;
	int probe_timer;
	int64_t last_good_mono;   /* last valid sentence at the port's rate */
	uint64_t good_seen, bad_seen, bytes_at_good;  /* main decoder */
	unsigned bad_run;         /* bad checksums since the last valid one */

	struct share *share;      /* share-pty, share-tcp; NULL when off */
};

static int64_t backoff_next(struct backoff *b)
{
	int64_t d = b->delay ? b->delay : BACKOFF_MIN_NS;

	b->delay = d * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : d * 2;
	return d;
}

static void backoff_reset(struct backoff *b)
{
	b->delay = 0;
}

/* The loop's tables grow as needed: adding fails only when memory runs
 * out, which ends the daemon (for its supervisor to restart) rather than
 * leave a source unwatched. */
static void loop_oom(struct daemon *d, int r)
{
	log_err("event loop: %s", strerror(-r));
	d->exit_code = EXIT_SOFTWARE;
	loop_quit(d->loop);
}

static int add_timer(struct daemon *d, int64_t when, loop_timer_cb cb)
{
	int id = loop_add_timer(d->loop, when, cb, d);

	if (id < 0) {
		loop_oom(d, id);
		return 0;
	}
	return id;
}

static int add_fd(struct daemon *d, int fd, loop_fd_cb cb)
{
	int r = loop_add_fd(d->loop, fd, POLLIN, cb, d);

	if (r < 0) {
		loop_oom(d, r);
	}
	return r;
}

/* ---- chronyd output ------------------------------------------------ */

static bool send_sample(struct sock_client *c, int64_t sys_ns, int64_t true_ns,
			int leap)
{
	struct sock_sample s;

	if (sock_encode(&s, sys_ns, true_ns, leap) < 0) {
		return false;
	}
	return sock_client_send(c, &s) == 0;
}

/* ---- --dump -------------------------------------------------------- */

static json_t *dump_sentences(unsigned bits)
{
	json_t *a = json_array();
	static const unsigned order[] = { NMEA_GGA, NMEA_GLL, NMEA_GNS,
					  NMEA_RMC, NMEA_ZDA };
	size_t i;

	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (bits & order[i]) {
			json_array_append_new(a, json_string(nmea_kind_name(order[i])));
		}
	}
	return a;
}

static void dump_write(struct daemon *d, const struct status_epoch *r)
{
	char iso[40];
	json_t *o = json_object();
	char *text;

	if (r->ep->date_known &&
	    tu_format_iso(r->ep->time_ns, r->ep->leap_second, iso, sizeof(iso)) > 0) {
		json_object_set_new(o, "time", json_string(iso));
	} else {
		json_object_set_new(o, "time", json_null());
	}
	json_object_set_new(o, "valid", json_boolean(r->ep->valid));
	json_object_set_new(o, "sentences", dump_sentences(r->ep->sentences));
	json_object_set_new(o, "burst_ns", json_integer(r->ep->burst_rx_ns));
	json_object_set_new(o, "pps", json_string(pair_result_name(r->pr)));
	if (r->pr == PAIR_SAMPLE) {
		json_object_set_new(o, "edge_ns", json_integer(r->ps->edge_ns));
		json_object_set_new(o, "pps_offset_ns", json_integer(r->ps->offset_ns));
		json_object_set_new(o, "leap", json_integer(r->ps->leap));
	}
	json_object_set_new(o, "pps_sent", json_boolean(r->pps_sent));
	if (r->nmea_usable) {
		json_object_set_new(o, "nmea_offset_ns",
				    json_integer(r->ep->time_ns - r->ep->burst_rx_ns));
	}
	json_object_set_new(o, "nmea_sent", json_boolean(r->nmea_sent));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		fprintf(d->dump, "%s\n", text);
		fflush(d->dump);
		free(text);
	}
	json_decref(o);
}

/* ---- pairing and sending ------------------------------------------- */

static void log_fix_change(struct daemon *d, const struct nmea_epoch *ep)
{
	if (ep->valid && !d->fix_logged_valid) {
		log_notice("receiver reports a valid fix (talker %s)", ep->talker);
	} else if (!ep->valid && d->fix_logged_valid) {
		log_warn("receiver lost its fix: no samples until it returns");
	}
	d->fix_logged_valid = ep->valid;
}

static void handle_pps_sample(struct daemon *d, const struct pair_sample *ps,
			      bool *sent)
{
	status_note_sample(d->status, ps, tu_now(CLOCK_MONOTONIC));
	*sent = send_sample(d->pps_sock, ps->edge_ns, ps->label_ns, ps->leap);
	if (*sent && !d->first_pps_logged) {
		log_notice("first PPS sample sent (offset %+.9f s)",
			   (double)ps->offset_ns / 1e9);
		d->first_pps_logged = true;
	}
}

/* Holds that mean something is wrong with the input are worth a warning,
 * at most a few a minute; the others (warm-up, no fix) are expected. */
static void log_pair_hold(struct daemon *d, const struct nmea_epoch *ep,
			  enum pair_result pr)
{
	long long sec = (long long)tu_floor_div(ep->time_ns, TU_NS_PER_SEC);

	/* Before the first sample, guard holds are the normal wait for a
	 * reference to be confirmed. */
	if ((pr == PAIR_GUARD && d->first_pps_logged) ||
	    pr == PAIR_AMBIGUOUS || pr == PAIR_STALE || pr == PAIR_UNTIMED) {
		log_limited(&d->hold_rl, LOG_LVL_WARN, "second %lld: PPS sample "
			    "held back: %s", sec, pair_result_name(pr));
	} else {
		log_debug("second %lld: no PPS sample: %s", sec,
			  pair_result_name(pr));
	}
}

static void handle_epoch(struct daemon *d, const struct nmea_epoch *ep)
{
	struct pair_sample ps;
	struct status_epoch r = { .ep = ep };
	bool whole = tu_floor_mod(ep->time_ns, TU_NS_PER_SEC) == 0;
	bool names;	/* the epoch that names its second for pairing */

	log_fix_change(d, ep);
	r.pr = pair_add_epoch(d->pair, ep, &ps);
	names = whole || pair_stood_in(d->pair);
	r.ps = &ps;
	if (r.pr == PAIR_SAMPLE) {
		handle_pps_sample(d, &ps, &r.pps_sent);
	} else {
		log_pair_hold(d, ep, r.pr);
	}
	r.nmea_usable = whole && pair_nmea_usable(d->pair);
	if (r.nmea_usable && d->cfg->nmea_samples) {
		r.nmea_sent = send_sample(d->nmea_sock, ep->burst_rx_ns,
					  ep->time_ns, 0);
	}
	if (d->dump != NULL && names) {
		dump_write(d, &r);
	}
	status_note_epoch(d->status, ep, names ? &r : NULL,
			  tu_now(CLOCK_MONOTONIC));
}

/* ---- PPS input ----------------------------------------------------- */

static void pps_arm(struct daemon *d);
static void pps_try_open(void *arg);

static void pps_lost(struct daemon *d, int err)
{
	int64_t delay = backoff_next(&d->pps_backoff);

	log_warn("PPS source %s failed: %s; reopening in %lld s", d->cfg->pps,
		 strerror(-err), (long long)(delay / TU_NS_PER_SEC));
	if (d->pps_timer > 0) {
		loop_cancel_timer(d->loop, d->pps_timer);
	}
	if (d->pps.backend->fd(&d->pps) >= 0) {
		loop_remove_fd(d->loop, d->pps.backend->fd(&d->pps));
	}
	status_note_pps_closed(d->status, &d->pps.stats);
	pps_close(&d->pps);
	d->pps_open = false;
	d->pps_timer = add_timer(d, tu_now(CLOCK_MONOTONIC) + delay,
				 pps_try_open);
}

static void note_edge(struct daemon *d, const struct pps_edge *e)
{
	struct pair_edge pe = { e->real_ns, e->mono_ns, e->seq, e->extra };
	struct pair_sample ps;
	bool sent;

	d->last_edge_mono = tu_now(CLOCK_MONOTONIC);
	status_note_edge(d->status, e, d->last_edge_mono);
	if (d->pps_silent) {
		log_notice("PPS edges resumed: PPS samples resume");
		d->pps_silent = false;
	}
	if (pair_add_edge(d->pair, &pe, &ps) == PAIR_SAMPLE) {
		handle_pps_sample(d, &ps, &sent);
	}
}

/* Fetch pending edges; also called before each epoch is paired. */
static void pps_drain(struct daemon *d)
{
	struct pps_edge edges[MAX_EDGES];
	int n, i;

	if (!d->pps_open) {
		return;
	}
	n = d->pps.backend->read(&d->pps, edges, MAX_EDGES);
	if (n < 0) {
		pps_lost(d, n);
		return;
	}
	backoff_reset(&d->pps_backoff);
	for (i = 0; i < n; i++) {
		note_edge(d, &edges[i]);
	}
}

static void pps_timer_cb(void *arg)
{
	struct daemon *d = arg;

	d->pps_timer = 0;
	pps_drain(d);
	if (d->pps_open) {
		pps_arm(d);
	}
}

static void pps_fd_cb(void *arg, int fd, short revents)
{
	(void)fd;
	(void)revents;
	pps_drain(arg);
}

static void pps_arm(struct daemon *d)
{
	int64_t when = d->pps.backend->deadline(&d->pps);

	if (when >= 0 && d->pps_timer == 0) {
		d->pps_timer = add_timer(d, when, pps_timer_cb);
	}
}

static int pps_start(struct daemon *d, char *err, size_t errlen)
{
	int r = pps_open(&d->pps, d->cfg->pps, &d->pps_opt, err, errlen);
	int fd;

	if (r < 0) {
		return r;
	}
	d->pps_open = true;
	d->last_edge_mono = tu_now(CLOCK_MONOTONIC);
	fd = d->pps.backend->fd(&d->pps);
	if (fd >= 0) {
		add_fd(d, fd, pps_fd_cb);
	}
	pps_arm(d);
	return 0;
}

static void pps_try_open(void *arg)
{
	struct daemon *d = arg;
	char err[256];

	d->pps_timer = 0;
	if (pps_start(d, err, sizeof(err)) < 0) {
		log_debug("PPS reopen failed: %s", err);
		d->pps_timer = add_timer(d, tu_now(CLOCK_MONOTONIC) +
					 PPS_RETRY_NS, pps_try_open);
		return;
	}
	log_notice("PPS source %s reopened", d->cfg->pps);
}

/* ---- serial input -------------------------------------------------- */

static void serial_try_open(void *arg);
static void feed_bytes(struct daemon *d, const unsigned char *buf, size_t n,
		       int64_t rx, int64_t mono);
static void baud_opened(struct daemon *d);

static void drain_epochs(struct daemon *d)
{
	struct nmea_epoch ep;

	while (nmea_next_epoch(d->dec, &ep)) {
		pps_drain(d);
		handle_epoch(d, &ep);
	}
}

static void flush_cb(void *arg)
{
	struct daemon *d = arg;

	d->flush_timer = 0;
	nmea_flush(d->dec);
	drain_epochs(d);
}

static void gather_stop(struct daemon *d)
{
	if (d->gather_timer > 0) {
		loop_cancel_timer(d->loop, d->gather_timer);
	}
	d->gather_timer = 0;
}

static void serial_lost(struct daemon *d, const char *why)
{
	int64_t delay = backoff_next(&d->serial_backoff);

	log_warn("lost %s (%s); reopening in %lld s", d->cfg->device, why,
		 (long long)(delay / TU_NS_PER_SEC));
	gather_stop(d);
	loop_remove_fd(d->loop, d->serial_fd);
	close(d->serial_fd);
	d->serial_fd = -1;
	nmea_flush(d->dec);
	drain_epochs(d);
	add_timer(d, tu_now(CLOCK_MONOTONIC) + delay, serial_try_open);
}

/* A read that got nothing or failed: false when the port is lost. */
static bool serial_read_failed(struct daemon *d, ssize_t n, short revents)
{
	if (n < 0 && (errno == EAGAIN || errno == EINTR) &&
	    !(revents & (POLLHUP | POLLERR))) {
		return true;
	}
	if (n == 0 || (revents & (POLLHUP | POLLERR))) {
		serial_lost(d, n == 0 ? "hang-up" : "device error");
	} else {
		serial_lost(d, strerror(errno));
	}
	return false;
}

static void serial_got_data(struct daemon *d)
{
	d->last_rx_mono = tu_now(CLOCK_MONOTONIC);
	if (d->nmea_silent) {
		log_notice("NMEA data flows again on %s", d->cfg->device);
		d->nmea_silent = false;
	}
	status_note_bytes(d->status, d->last_rx_mono);
}

static void serial_read_cb(void *arg, int fd, short revents);

/* The burst is over: watch the port again, and close the epoch when the
 * line has been idle for idle-flush. */
static void gather_end(struct daemon *d)
{
	int64_t last = burst_pacer_last_data(d->pacer);

	if (add_fd(d, d->serial_fd, serial_read_cb) < 0) {
		return;
	}
	if (d->flush_timer > 0) {
		loop_cancel_timer(d->loop, d->flush_timer);
	}
	d->flush_timer = add_timer(d, last + d->cfg->idle_flush_ns, flush_cb);
}

/* Bytes gathered since the last read came some time between it and now:
 * date them in pieces spread over that span, so that a line busy all
 * along shows no gap the decoder would take for the start of a burst. */
#define GATHER_PIECE 4

static void feed_spread(struct daemon *d, const unsigned char *buf, size_t n,
			int64_t real, int64_t mono)
{
	size_t pieces = (n + GATHER_PIECE - 1) / GATHER_PIECE, j;
	int64_t dr = real - d->gather_real, dm = mono - d->gather_mono;

	for (j = 0; j < pieces; j++) {
		size_t off = j * GATHER_PIECE;
		size_t len = n - off < GATHER_PIECE ? n - off : GATHER_PIECE;
		int64_t k = (int64_t)(j + 1);

		feed_bytes(d, buf + off, len,
			   d->gather_real + dr * k / (int64_t)pieces,
			   d->gather_mono + dm * k / (int64_t)pieces);
	}
	d->gather_real = real;
	d->gather_mono = mono;
}

/* Read everything the port holds; returns the byte count, or -1 when the
 * port was lost. */
static ssize_t gather_read(struct daemon *d)
{
	unsigned char buf[4096];
	int64_t real = tu_now(CLOCK_REALTIME);
	int64_t mono = tu_now(CLOCK_MONOTONIC_RAW);
	ssize_t n, total = 0;

	while ((n = read(d->serial_fd, buf, sizeof(buf))) > 0) {
		feed_spread(d, buf, (size_t)n, real, mono);
		total += n;
		if ((size_t)n < sizeof(buf)) {
			break;
		}
	}
	if (n <= 0 && !serial_read_failed(d, n, 0)) {
		return -1;
	}
	return total;
}

static void gather_cb(void *arg)
{
	struct daemon *d = arg;
	ssize_t n;
	int64_t next;

	d->gather_timer = 0;
	n = gather_read(d);
	if (n < 0) {
		return;
	}
	if (n > 0) {
		serial_got_data(d);
		drain_epochs(d);
	}
	next = burst_pacer_next(d->pacer, tu_now(CLOCK_MONOTONIC), (size_t)n);
	if (next < 0) {
		gather_end(d);
		return;
	}
	d->gather_timer = add_timer(d, next, gather_cb);
}

/*
 * The first byte of a burst woke us: it came before the wake-up, so date
 * the read by the loop's wake-up time rather than by a clock read after
 * read() and after whatever handlers ran first.  Where bytes are dated
 * back at the line rate (a UART), that holds only for bytes that were
 * there at the wake-up: if the read came later than half a character
 * after it, more may have come since, and the read's own time is used.
 */
static void serial_read_time(struct daemon *d, int64_t *rx, int64_t *mono)
{
	int64_t now = tu_now(CLOCK_REALTIME);
	int64_t now_mono = tu_now(CLOCK_MONOTONIC_RAW);

	loop_wake_time(d->loop, rx, mono);
	if (*rx == 0 || (d->char_ns > 0 && now - *rx > d->char_ns / 2)) {
		*rx = now;
		*mono = now_mono;
	}
}

/* Date the first byte of a burst, then stop watching the port and gather
 * the rest of the burst at the pacer's deadlines. */
static void serial_read_cb(void *arg, int fd, short revents)
{
	struct daemon *d = arg;
	unsigned char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf));
	int64_t rx, mono;

	serial_read_time(d, &rx, &mono);
	if (n <= 0) {
		serial_read_failed(d, n, revents);
		return;
	}
	serial_got_data(d);
	d->gather_real = rx;
	d->gather_mono = mono;
	feed_bytes(d, buf, (size_t)n, rx, mono);
	if (d->flush_timer > 0) {
		loop_cancel_timer(d->loop, d->flush_timer);
		d->flush_timer = 0;
	}
	loop_remove_fd(d->loop, fd);
	d->gather_timer = add_timer(d, burst_pacer_start(d->pacer,
				    d->last_rx_mono, (size_t)n), gather_cb);
}

/* Date bytes within a read by the line rate only where there is one. */
static void set_char_time(struct daemon *d)
{
	const char *kind = "set by char-time";
	int64_t ns = d->cfg->char_time_ns;

	if (ns < 0) {
		ns = serial_line_char_ns(d->cfg->device, d->baud, &kind);
	}
	nmea_set_char_ns(d->dec, ns);
	d->char_ns = ns;
	log_notice("reading NMEA from %s at %ld baud (%s)", d->cfg->device,
		   d->baud, kind);
}

static void serial_try_open(void *arg)
{
	struct daemon *d = arg;
	char err[512];
	int fd = serial_open(d->cfg->device, d->baud, err, sizeof(err));

	if (fd < 0) {
		int64_t delay = backoff_next(&d->serial_backoff);

		if (!d->serial_failing) {
			log_warn("%s; will retry (up to every %lld s)", err,
				 (long long)(BACKOFF_MAX_NS / TU_NS_PER_SEC));
			d->serial_failing = true;
		}
		add_timer(d, tu_now(CLOCK_MONOTONIC) + delay, serial_try_open);
		return;
	}
	d->serial_failing = false;
	backoff_reset(&d->serial_backoff);
	d->serial_fd = fd;
	d->last_rx_mono = tu_now(CLOCK_MONOTONIC);
	status_note_open(d->status, d->last_rx_mono);
	add_fd(d, fd, serial_read_cb);
	baud_opened(d);
}

/* ---- baud rate: auto, and the report-only probe ------------------- */

/*
 * With baud auto the port is probed at open and again after a run of bad
 * checksums or BAUD_NO_SENTENCE_NS without a valid sentence.  With a fixed
 * rate that brings bytes but no valid sentence, the same probe runs once
 * in report-only mode: it names the rate that decodes (detected_baud, the
 * log) and returns the port to the configured rate.  Between two of its
 * candidates it goes back to the configured rate for twice a candidate's
 * dwell and feeds the main decoder as usual, so that a flood at the right
 * rate costs at most one candidate's dwell once the clean stream is back;
 * when that rate decodes again the probe stops.  At any other rate bytes go
 * to a decoder of their own and never to the pairing: no sample comes from
 * them.
 */

static void probe_timer_cb(void *arg);

/* Start counting the main decoder's sentences afresh at the port's rate. */
static void baud_watch_reset(struct daemon *d)
{
	const struct nmea_stats *st = nmea_get_stats(d->dec);

	d->last_good_mono = tu_now(CLOCK_MONOTONIC);
	d->good_seen = st->sentences;
	d->bad_seen = st->bad_checksum;
	d->bytes_at_good = st->bytes;
	d->bad_run = 0;
}

static void probe_stop(struct daemon *d)
{
	if (d->probe_timer > 0) {
		loop_cancel_timer(d->loop, d->probe_timer);
	}
	d->probe_timer = 0;
	baudprobe_destroy(d->probe);
	d->probe = NULL;
	nmea_decoder_destroy(d->probe_dec);
	d->probe_dec = NULL;
	baud_watch_reset(d);
}

/* Set the port to rate with a fresh decoder for what arrives at it. */
static int probe_set_rate(struct daemon *d, long rate)
{
	char err[256];
	int r = serial_set_baud(d->serial_fd, rate, err, sizeof(err));

	if (r < 0) {
		log_warn("%s: %s", d->cfg->device, err);
		return r;
	}
	d->baud = rate;
	nmea_decoder_destroy(d->probe_dec);
	d->probe_dec = d->probe != NULL ? nmea_decoder_create(NULL) : NULL;
	d->probe_good = 0;
	d->probe_bad = 0;
	log_debug("baud probe: listening at %ld baud", rate);
	return 0;
}

static void probe_arm(struct daemon *d)
{
	if (d->probe_timer > 0) {
		loop_cancel_timer(d->loop, d->probe_timer);
	}
	d->probe_timer = add_timer(d, baudprobe_deadline(d->probe),
				   probe_timer_cb);
}

static void probe_start(struct daemon *d, bool report)
{
	struct baudprobe_config pc;

	baudprobe_config_default(&pc);
	pc.first = report ? 0 : d->good_baud;
	pc.skip = report ? d->cfg->baud : 0;
	pc.home = report ? d->cfg->baud : 0;
	pc.home_dwell_ns = 2 * pc.dwell_ns;
	nmea_flush(d->dec);
	drain_epochs(d);
	d->probe_report = report;
	d->probe_exhaust_logged = false;
	d->probe = baudprobe_create(&pc);
	if (d->probe == NULL ||
	    probe_set_rate(d, baudprobe_begin(d->probe,
					      tu_now(CLOCK_MONOTONIC))) < 0 ||
	    d->probe_dec == NULL) {
		log_warn("baud probe failed to start: %s rate %ld stays",
			 d->cfg->device, d->baud);
		probe_stop(d);
		return;
	}
	probe_arm(d);
}

static void baud_save(struct daemon *d, long rate)
{
	char err[512];

	if (rate == d->good_baud) {
		return;
	}
	d->good_baud = rate;
	if (statefile_write_long(d->cfg->state_directory, BAUD_STATE_FILE,
				 rate, err, sizeof(err)) < 0) {
		log_warn("baud auto: %s (it is only tried first next time)",
			 err);
	}
}

static void set_char_time(struct daemon *d);

static void probe_settled(struct daemon *d)
{
	long rate = baudprobe_rate(d->probe);

	if (d->probe_report && baudprobe_at_home(d->probe)) {
		log_notice("%s: valid sentences at %ld baud again: the rate "
			   "probe stops", d->cfg->device, rate);
		probe_stop(d);
		return;
	}
	d->detected_baud = rate;
	if (d->probe_report) {
		log_warn("%s: the receiver sends at %ld baud, not %ld: set baud "
			 "%ld (or auto)", d->cfg->device, rate, d->cfg->baud,
			 rate);
		d->probe_reported = true;
		probe_set_rate(d, d->cfg->baud);
	} else {
		/* Saved before it is logged: whoever reads the log line
		 * finds the state file already naming the rate. */
		baud_save(d, rate);
		log_notice("baud auto: %s decodes at %ld baud (%llu valid "
			   "sentences)", d->cfg->device, rate,
			   (unsigned long long)d->probe_good);
		set_char_time(d);
	}
	probe_stop(d);
}

static void probe_exhausted(struct daemon *d)
{
	long rates[BAUDPROBE_MAX_RATES];
	char list[160] = "";
	int n = baudprobe_order(d->probe, rates), i;
	size_t len = 0;

	for (i = 0; i < n && len < sizeof(list); i++) {
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%ld",
					i ? ", " : "", rates[i]);
	}
	if (d->probe_report) {
		log_warn("%s: no rate gives valid NMEA sentences either (tried "
			 "%s): is this the receiver's port?", d->cfg->device, list);
		d->probe_reported = true;
		probe_set_rate(d, d->cfg->baud);
		probe_stop(d);
		return;
	}
	if (!d->probe_exhaust_logged) {
		log_warn("baud auto: no rate gives valid NMEA sentences on %s "
			 "(tried %s): is this the receiver's port? still trying",
			 d->cfg->device, list);
		d->probe_exhaust_logged = true;
	}
	probe_set_rate(d, baudprobe_rate(d->probe));
}

/* To the next candidate, or home (report only): the main decoder's
 * unfinished epoch ends before another rate's bytes, and its counts start
 * afresh at home. */
static void probe_switch(struct daemon *d)
{
	if (baudprobe_at_home(d->probe)) {
		baud_watch_reset(d);
	} else {
		nmea_flush(d->dec);
		drain_epochs(d);
	}
	probe_set_rate(d, baudprobe_rate(d->probe));
}

static void probe_step(struct daemon *d, enum baudprobe_step step)
{
	switch (step) {
	case BAUDPROBE_LISTEN:
		return;
	case BAUDPROBE_SWITCH:
		probe_switch(d);
		break;
	case BAUDPROBE_EXHAUSTED:
		probe_exhausted(d);
		break;
	case BAUDPROBE_SETTLED:
		probe_settled(d);
		return;
	}
	if (d->probe != NULL) {
		probe_arm(d);
	}
}

static void probe_timer_cb(void *arg)
{
	struct daemon *d = arg;

	d->probe_timer = 0;
	if (d->probe == NULL) {
		return;
	}
	if (d->serial_fd < 0) {
		probe_stop(d);
		return;
	}
	probe_step(d, baudprobe_tick(d->probe, tu_now(CLOCK_MONOTONIC)));
}

static void probe_feed(struct daemon *d, const unsigned char *buf, size_t n)
{
	const struct nmea_stats *st;
	unsigned good, bad;

	nmea_feed(d->probe_dec, buf, n, 0, 0);
	st = nmea_get_stats(d->probe_dec);
	good = (unsigned)(st->sentences - d->probe_good);
	bad = (unsigned)(st->bad_checksum - d->probe_bad);
	d->probe_good = st->sentences;
	d->probe_bad = st->bad_checksum;
	probe_step(d, baudprobe_feed(d->probe, good, bad,
				     tu_now(CLOCK_MONOTONIC)));
}

/* At home (report only) the main decoder's sentences count for the probe:
 * they settle it, and stop it, when the configured rate decodes again. */
static void probe_home_feed(struct daemon *d)
{
	const struct nmea_stats *st = nmea_get_stats(d->dec);
	unsigned good = (unsigned)(st->sentences - d->good_seen);
	unsigned bad = (unsigned)(st->bad_checksum - d->bad_seen);

	d->good_seen = st->sentences;
	d->bad_seen = st->bad_checksum;
	probe_step(d, baudprobe_feed(d->probe, good, bad,
				     tu_now(CLOCK_MONOTONIC)));
}

/* After the main decoder took bytes: a run of bad checksums re-probes. */
static void baud_watch(struct daemon *d)
{
	const struct nmea_stats *st = nmea_get_stats(d->dec);

	if (st->sentences > d->good_seen) {
		baud_watch_reset(d);
		d->probe_reported = false;
		return;
	}
	d->bad_run += (unsigned)(st->bad_checksum - d->bad_seen);
	d->bad_seen = st->bad_checksum;
	if (d->baud_auto && d->bad_run >= BAUD_BAD_RUN) {
		log_warn("baud auto: %u bad checksums in a row at %ld baud on "
			 "%s: probing the rate again", d->bad_run, d->baud,
			 d->cfg->device);
		probe_start(d, false);
	}
}

/* Where the serial path (serial_read_cb, feed_spread) hands its bytes. */
static void feed_bytes(struct daemon *d, const unsigned char *buf, size_t n,
		       int64_t rx, int64_t mono)
{
	share_write(d->share, buf, n);
	if (d->probe != NULL && !baudprobe_at_home(d->probe)) {
		probe_feed(d, buf, n);
		return;
	}
	nmea_feed(d->dec, buf, n, rx, mono);
	drain_epochs(d);
	if (d->probe != NULL) {
		probe_home_feed(d);
	} else {
		baud_watch(d);
	}
}

/* Housekeeping: a while without a valid sentence. */
static void baud_check(struct daemon *d, int64_t now)
{
	const struct nmea_stats *st = nmea_get_stats(d->dec);

	if (d->serial_fd < 0 || d->probe != NULL ||
	    now - d->last_good_mono <= BAUD_NO_SENTENCE_NS) {
		return;
	}
	if (d->baud_auto) {
		log_warn("baud auto: no valid sentence at %ld baud on %s for "
			 "%lld s: probing the rate again", d->baud,
			 d->cfg->device,
			 (long long)(BAUD_NO_SENTENCE_NS / TU_NS_PER_SEC));
		probe_start(d, false);
	} else if (!d->probe_reported && st->bytes > d->bytes_at_good) {
		log_warn("%s: bytes but no valid sentence at %ld baud: finding "
			 "the rate that decodes (report only: the port returns "
			 "to %ld baud)", d->cfg->device, d->baud, d->baud);
		probe_start(d, true);
	}
}

/* The port was opened at d->baud. */
static void baud_opened(struct daemon *d)
{
	if (d->probe != NULL) {
		probe_stop(d);
	}
	baud_watch_reset(d);
	if (!d->baud_auto) {
		set_char_time(d);
		return;
	}
	probe_start(d, false);
	log_notice("baud auto: probing %s, %ld baud first%s", d->cfg->device,
		   d->baud, d->good_baud ? " (the last rate that worked)" : "");
}

/* share-pty, share-tcp: the exact bytes read, for gpsd and others. */
static int share_start(struct daemon *d, char *err, size_t errlen)
{
	const struct gpsppsd_config *cfg = d->cfg;

	if (strcmp(cfg->share_pty, "none") == 0 &&
	    strcmp(cfg->share_tcp, "none") == 0) {
		return 0;
	}
	d->share = share_create(d->loop, cfg->share_pty, cfg->share_tcp, err,
				errlen);
	if (d->share == NULL) {
		return -EINVAL;
	}
	log_notice("sharing the receiver's bytes:%s%s%s%s",
		   strcmp(cfg->share_pty, "none") ? " pty " : "",
		   strcmp(cfg->share_pty, "none") ? cfg->share_pty : "",
		   strcmp(cfg->share_tcp, "none") ? " tcp " : "",
		   strcmp(cfg->share_tcp, "none") ? cfg->share_tcp : "");
	return 0;
}

/* The rate to open at: fixed, or the last one that worked (9600 when
 * none is known). */
static void baud_init(struct daemon *d)
{
	long v;
	int r;

	d->baud_auto = d->cfg->baud == 0;
	d->baud = d->cfg->baud;
	if (!d->baud_auto) {
		return;
	}
	r = statefile_read_long(d->cfg->state_directory, BAUD_STATE_FILE, &v);
	if (r == 0 && serial_baud_valid(v)) {
		d->good_baud = v;
	} else if (r != -ENOENT) {
		log_info("baud auto: no usable %s/%s (%s): starting at 9600",
			 d->cfg->state_directory, BAUD_STATE_FILE,
			 r == 0 ? "not a rate" : strerror(-r));
	}
	d->baud = d->good_baud ? d->good_baud : 9600;
}

/* ---- housekeeping -------------------------------------------------- */

static void check_silence(struct daemon *d, int64_t now)
{
	if (d->pps_open && !d->pps_silent &&
	    now - d->last_edge_mono > PPS_SILENT_NS) {
		log_warn("no PPS edges for %lld s: PPS samples stop, NMEA "
			 "samples go on", (long long)(PPS_SILENT_NS / TU_NS_PER_SEC));
		d->pps_silent = true;
	}
	if (d->serial_fd >= 0 && !d->nmea_silent &&
	    now - d->last_rx_mono > NMEA_SILENT_NS) {
		log_warn("no NMEA data from %s for %lld s (wrong baud rate or "
			 "port?)", d->cfg->device,
			 (long long)(NMEA_SILENT_NS / TU_NS_PER_SEC));
		d->nmea_silent = true;
	}
}

static void housekeeping_cb(void *arg)
{
	struct daemon *d = arg;
	int64_t now = tu_now(CLOCK_MONOTONIC);

	check_silence(d, now);
	baud_check(d, now);
	status_server_tick(d->server, now);
	add_timer(d, now + TU_NS_PER_SEC, housekeeping_cb);
}

static void signal_cb(void *arg, int fd, short revents)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)revents;
	if (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		log_notice("signal %u: exiting", si.ssi_signo);
		loop_quit(d->loop);
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		return -errno;
	}
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0) {
		return -errno;
	}
	return loop_add_fd(d->loop, d->sigfd, POLLIN, signal_cb, d);
}

/* ---- set-up and tear-down ------------------------------------------ */

static void pair_config_from(const struct gpsppsd_config *cfg,
			     struct pair_config *pc)
{
	pair_config_default(pc);
	pc->window_min_ns = cfg->window_min_ns;
	pc->window_max_ns = cfg->window_max_ns;
	pc->next_second = cfg->next_second;
	pc->min_valid = (int)cfg->min_valid;
	pc->guard_ns = cfg->guard_ns;
	pc->confirm = (int)cfg->confirm;
}

static char *render_status(void *arg, size_t *len)
{
	struct daemon *d = arg;

	return status_render(d->status, tu_now(CLOCK_REALTIME),
			     tu_now(CLOCK_MONOTONIC), len);
}

static int make_status(struct daemon *d, char *err, size_t errlen)
{
	struct status_sources src = {
		.cfg = d->cfg, .loop = d->loop, .dec = d->dec,
		.pair = d->pair, .pps = &d->pps, .pps_open = &d->pps_open,
		.serial_fd = &d->serial_fd, .pps_sock = d->pps_sock,
		.nmea_sock = d->nmea_sock, .server = &d->server,
		.baud = &d->baud, .baud_auto = &d->baud_auto,
		.detected_baud = &d->detected_baud,
	};

	d->status = status_create(&src, tu_now(CLOCK_MONOTONIC));
	if (d->status == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The status socket, unless turned off.  It only reports: failing to
 * create it is a warning (its message names the fix), and the samples
 * flow without it. */
static void start_status_server(struct daemon *d)
{
	char err[512];

	if (strcmp(d->cfg->status_socket, "none") == 0) {
		return;
	}
	d->server = status_server_create(d->loop, d->cfg->status_socket,
					 render_status, d, err, sizeof(err));
	if (d->server == NULL) {
		log_warn("%s; running without a status socket", err);
		return;
	}
	log_info("status socket %s", d->cfg->status_socket);
}

static int make_modules(struct daemon *d, char *err, size_t errlen)
{
	const struct gpsppsd_config *cfg = d->cfg;
	struct nmea_options no = { .char_ns = serial_char_ns(cfg->baud) };
	struct pair_config pc;
	const char *msg;

	if (conf_floor_s(cfg, &no.rollover_floor) != 0) {
		snprintf(err, errlen, "rollover-floor %s: need YYYY-MM-DD",
			 cfg->rollover_floor);
		return -EINVAL;
	}
	pair_config_from(cfg, &pc);
	msg = pair_config_check(&pc);
	if (msg != NULL) {
		snprintf(err, errlen, "%s", msg);
		return -EINVAL;
	}
	d->loop = loop_create();
	d->dec = nmea_decoder_create(&no);
	d->pair = pair_create(&pc);
	d->pacer = burst_pacer_create(serial_char_ns(cfg->baud));
	if (d->loop == NULL || d->dec == NULL || d->pair == NULL ||
	    d->pacer == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	d->pps_sock = sock_client_create(cfg->pps_socket, "PPS", err, errlen);
	if (d->pps_sock == NULL) {
		return -EINVAL;
	}
	d->nmea_sock = sock_client_create(cfg->nmea_socket, "NMEA", err, errlen);
	if (d->nmea_sock == NULL) {
		return -EINVAL;
	}
	return make_status(d, err, errlen);
}

static int daemon_init(struct daemon *d, char *err, size_t errlen)
{
	int r = make_modules(d, err, errlen);

	if (r < 0) {
		return r;
	}
	d->pps_enabled = strcmp(d->cfg->pps, "none") != 0;
	d->pps_opt.edge = (enum pps_polarity)d->cfg->pps_edge;
	d->pps_opt.serial_device = d->cfg->device;
	d->pps_opt.serial_fd = -1;
	if (d->pps_enabled) {
		r = pps_start(d, err, errlen);
		if (r < 0) {
			return r;
		}
	}
	r = setup_signals(d);
	if (r < 0) {
		snprintf(err, errlen, "signal set-up: %s", strerror(-r));
		return r;
	}
	baud_init(d);
	r = share_start(d, err, errlen);
	if (r < 0) {
		return r;
	}
	start_status_server(d);
	serial_try_open(d);
	housekeeping_cb(d);
	return 0;
}

static void log_summary(const struct daemon *d)
{
	const struct nmea_stats *ns = nmea_get_stats(d->dec);
	const struct pair_stats *ps = pair_get_stats(d->pair);

	int r;

	log_notice("summary: %llu epochs, %llu bad checksums, %llu edges, "
		   "%llu PPS samples (%llu delivered), %llu NMEA samples "
		   "delivered, %llu wake-ups",
		   (unsigned long long)ns->epochs,
		   (unsigned long long)ns->bad_checksum,
		   (unsigned long long)ps->edges,
		   (unsigned long long)ps->samples,
		   (unsigned long long)sock_client_stats(d->pps_sock)->sent,
		   (unsigned long long)sock_client_stats(d->nmea_sock)->sent,
		   (unsigned long long)loop_wakeups(d->loop));
	for (r = PAIR_PENDING + 1; r < PAIR_RESULT_COUNT; r++) {
		if (ps->held[r] > 0) {
			log_info("  no PPS sample, %s: %llu",
				 pair_result_name((enum pair_result)r),
				 (unsigned long long)ps->held[r]);
		}
	}
}

static void daemon_fini(struct daemon *d, bool ran)
{
	if (ran) {
		log_summary(d);
	}
	if (d->pps_open) {
		pps_close(&d->pps);
	}
	if (d->serial_fd >= 0) {
		close(d->serial_fd);
	}
	if (d->sigfd >= 0) {
		close(d->sigfd);
	}
	baudprobe_destroy(d->probe);
	nmea_decoder_destroy(d->probe_dec);
	share_destroy(d->share);
	status_server_destroy(d->server);
	status_destroy(d->status);
	sock_client_destroy(d->pps_sock);
	sock_client_destroy(d->nmea_sock);
	pair_destroy(d->pair);
	nmea_decoder_destroy(d->dec);
	burst_pacer_destroy(d->pacer);
	loop_destroy(d->loop);
}

int daemon_run(const struct gpsppsd_config *cfg, FILE *dump)
{
	struct daemon d = { .cfg = cfg, .dump = dump, .serial_fd = -1,
			    .sigfd = -1, .exit_code = 0,
			    .hold_rl = { .interval_ns = 60 * TU_NS_PER_SEC,
					 .burst = 3 } };
	char err[512] = "";
	int r = daemon_init(&d, err, sizeof(err));

	if (r < 0) {
		log_err("%s", err);
		daemon_fini(&d, false);
		return r == -ENOMEM ? EXIT_SOFTWARE : EXIT_CONFIG;
	}
	r = loop_run(d.loop);
	if (r < 0) {
		log_err("event loop: %s", strerror(-r));
		d.exit_code = EXIT_SOFTWARE;
	}
	daemon_fini(&d, true);
	return d.exit_code;
}
