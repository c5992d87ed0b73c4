/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpspps-calibrate - measure the delay of the NMEA refclock against the
 * clock chronyd is synchronised to, and write the `offset` that cancels
 * it into chrony's configuration.  See gpspps-calibrate(1).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "chronyc_parse.h"
#include "chronyc_run.h"
#include "confedit.h"
#include "config.h"
#include "estimate.h"
#include "log.h"
#include "report.h"
#include "timeutil.h"

#define DEFAULT_CONF "/etc/chrony/chrony.conf"
#define DEFAULT_SOCKET GPSPPS_RUNDIR "/nmea.sock"
#define CHRONYC_TIMEOUT_MS 10000
#define PLAIN_PROGRESS_NS (300 * TU_NS_PER_SEC)
#define MAX_ABS_OFFSET 1.0
/* sourcestats with fewer samples are chronyd's start-up transient: the
 * frequency of so short a regression is poorly known and its offset,
 * extrapolated to now, wanders by several times the jitter. */
#define MIN_NP 8

struct opts {
	int64_t interval_ns;
	int64_t duration_ns;
	double precision;          /* s; 0: run the whole duration */
	double max_uncertainty;    /* s: larger 95% half-width is unusable */
	const char *chronyc;
	const char *conf;
	const char *refid;
	const char *socket;
	const char *from_log;
	const char *from_file;
	double offset;             /* --offset, NAN when not given */
	bool write;
	bool apply;
	bool json;
	bool quiet;
};

struct cal {
	struct opts o;
	struct ce_config *cfg;
	struct est *est;
	struct cal_report rep;
	struct log_ratelimit chronyc_rl;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: gpspps-calibrate [OPTION]...\n"
"Measure the delay of the NMEA refclock fed by gpsppsd and set chrony's\n"
"`offset` for it: new offset = configured offset + measured offset.\n"
"\n"
"Input (default: live, chronyc snapshots while chronyd follows another source)\n"
"      --from-log FILE     chronyd's refclocks.log (raw offsets)\n"
"      --from-file FILE    saved `chronyc -c sourcestats` lines, optionally\n"
"                          preceded by a timestamp\n"
"Live mode\n"
"      --interval DUR      time between snapshots (default 60s)\n"
"      --duration DUR      length of the run (default 24h); s/m/h/d suffixes\n"
"      --precision DUR     stop once the 95%% half-width is below DUR\n"
"      --chronyc CMD       chronyc command (default \"chronyc\"), e.g.\n"
"                          \"chronyc -h 192.0.2.1\"\n"
"Refclock\n"
"      --conf FILE         chrony.conf (default " DEFAULT_CONF "),\n"
"                          include and confdir followed\n"
"      --refid ID          the NMEA refclock's refid (default: the SOCK\n"
"                          refclock reading --socket)\n"
"      --socket PATH       gpsppsd's NMEA socket (default " DEFAULT_SOCKET ")\n"
"      --offset S          offset in effect, instead of the configured one\n"
"      Offline without --write, --refid (and --offset for --from-file) is\n"
"      enough: chrony.conf missing or without the refclock is a warning\n"
"Result\n"
"      --write             write the new offset into the refclock's line\n"
"      --apply             --write, and set it in chronyd now (chrony 4.6+)\n"
"      --max-uncertainty S refuse to write when the 95%% half-width is over\n"
"                          S seconds (default 0.05)\n"
"      --json              print the report as JSON\n"
"  -q, --quiet             no progress display\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"\n"
"Nothing is written when the result is unusable: too few values, a 95%%\n"
"half-width over --max-uncertainty, a drift over it, or a live run ended\n"
"by SIGINT/SIGTERM before --precision was reached (the report is printed).\n"
"\n"
"Exit status: 0 done; 1 run-time error; 2 bad usage; 3 result unusable or\n"
"run interrupted, nothing written; 4 chrony.conf unreadable or refclock not\n"
"found; 5 write failed, file untouched; 6 written but `chronyc offset`\n"
"failed (chronyd older than 4.6, or refused) or `chronyc -v` failed:\n"
"restart chronyd.\n");
}

enum {
	OPT_FROM_LOG = 256, OPT_FROM_FILE, OPT_INTERVAL, OPT_DURATION,
	OPT_PRECISION, OPT_CHRONYC, OPT_CONF, OPT_REFID, OPT_SOCKET,
	OPT_OFFSET, OPT_WRITE, OPT_APPLY, OPT_MAXUNC, OPT_JSON,
};

static const struct option long_opts[] = {
	{ "from-log", required_argument, NULL, OPT_FROM_LOG },
	{ "from-file", required_argument, NULL, OPT_FROM_FILE },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "precision", required_argument, NULL, OPT_PRECISION },
	{ "chronyc", required_argument, NULL, OPT_CHRONYC },
	{ "conf", required_argument, NULL, OPT_CONF },
	{ "refid", required_argument, NULL, OPT_REFID },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "offset", required_argument, NULL, OPT_OFFSET },
	{ "write", no_argument, NULL, OPT_WRITE },
	{ "apply", no_argument, NULL, OPT_APPLY },
	{ "max-uncertainty", required_argument, NULL, OPT_MAXUNC },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static int parse_seconds(const char *name, const char *arg, double *out)
{
	int64_t ns;

	if (tu_parse_duration(arg, &ns) != 0) {
		log_err("--%s: not a duration: '%s'", name, arg);
		return -1;
	}
	*out = (double)ns / 1e9;
	return 0;
}

static int parse_positive_ns(const char *name, const char *arg, int64_t *out)
{
	if (tu_parse_duration(arg, out) != 0 || *out <= 0) {
		log_err("--%s: not a positive duration: '%s'", name, arg);
		return -1;
	}
	return 0;
}

static int parse_offset(const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(*out)) {
		log_err("--offset: not a number of seconds: '%s'", arg);
		return -1;
	}
	return 0;
}

static int set_option(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_FROM_LOG: o->from_log = arg; return 0;
	case OPT_FROM_FILE: o->from_file = arg; return 0;
	case OPT_INTERVAL: return parse_positive_ns("interval", arg, &o->interval_ns);
	case OPT_DURATION: return parse_positive_ns("duration", arg, &o->duration_ns);
	case OPT_PRECISION: return parse_seconds("precision", arg, &o->precision);
	case OPT_MAXUNC: return parse_seconds("max-uncertainty", arg,
					      &o->max_uncertainty);
	case OPT_CHRONYC: o->chronyc = arg; return 0;
	case OPT_CONF: o->conf = arg; return 0;
	case OPT_REFID: o->refid = arg; return 0;
	case OPT_SOCKET: o->socket = arg; return 0;
	case OPT_OFFSET: return parse_offset(arg, &o->offset);
	case OPT_WRITE: o->write = true; return 0;
	case OPT_APPLY: o->apply = o->write = true; return 0;
	case OPT_JSON: o->json = true; return 0;
	case 'q': o->quiet = true; return 0;
	}
	return -1;
}

static void default_opts(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->interval_ns = 60 * TU_NS_PER_SEC;
	o->duration_ns = 86400 * TU_NS_PER_SEC;
	o->max_uncertainty = 0.05;
	o->chronyc = "chronyc";
	o->conf = DEFAULT_CONF;
	o->socket = DEFAULT_SOCKET;
	o->offset = NAN;
}

/* Returns -1 to exit with CAL_EXIT_USAGE, 1 to exit 0 (help, version). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	default_opts(o);
	while ((c = getopt_long(argc, argv, "qhV", long_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("gpspps-calibrate %s\n", GPSPPS_VERSION);
			return 1;
		}
		if (c == '?' || set_option(o, c, optarg) != 0) {
			fprintf(stderr, "Try 'gpspps-calibrate --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o->from_log != NULL && o->from_file != NULL) {
		log_err("--from-log and --from-file exclude each other");
		return -1;
	}
	if (o->refid != NULL && (o->refid[0] == '\0' || strlen(o->refid) > 4)) {
		log_err("--refid: 1 to 4 characters, as chrony's refid");
		return -1;
	}
	return 0;
}

static bool offline(const struct opts *o)
{
	return o->from_log != NULL || o->from_file != NULL;
}

static void list_refclocks(const struct ce_config *cfg)
{
	size_t i, n = ce_refclock_count(cfg);

	if (n == 0) {
		log_err("no refclock directive in the files read");
	}
	for (i = 0; i < n; i++) {
		const struct ce_refclock *rc = ce_refclock_at(cfg, i);

		log_err("  refclock %s %s refid %s at %s:%d", rc->driver,
			rc->param, rc->refid, rc->file, rc->line);
	}
}

/* Offline without --write, chrony's configuration only supplies the
 * refid and the offset in effect: with --refid, analysis goes on without
 * it (raw offsets need none; --from-file then needs --offset). */
static bool conf_optional(const struct opts *o)
{
	return offline(o) && !o->write && o->refid != NULL;
}

static void offline_hint(const struct opts *o)
{
	if (offline(o) && !o->write) {
		log_err("offline analysis needs no chrony.conf: give the "
			"refclock's refid with --refid%s",
			o->from_file != NULL ? " and the offset in effect with "
			"--offset" : "");
	}
}

static int refclock_missing(struct cal *c, const char *err)
{
	const struct opts *o = &c->o;

	if (conf_optional(o)) {
		log_warn("%s (offline: continuing with --refid %s)", err,
			 o->refid);
		c->rep.refid = o->refid;
		return 0;
	}
	log_err("%s", err);
	offline_hint(o);
	return CAL_EXIT_NO_REFCLOCK;
}

/* Find the refclock in chrony's configuration. */
static int resolve_refclock(struct cal *c)
{
	const struct opts *o = &c->o;
	char err[512];

	if (conf_optional(o) && isfinite(o->offset)) {
		c->rep.refid = o->refid;
		return 0;
	}
	c->cfg = ce_load(o->conf, err, sizeof(err));
	if (c->cfg == NULL) {
		return refclock_missing(c, err);
	}
	c->rep.rc = o->refid ? ce_find_refid(c->cfg, o->refid)
			     : ce_find_sock(c->cfg, o->socket);
	if (c->rep.rc == NULL) {
		snprintf(err, sizeof(err), "no refclock %s%s in %s",
			 o->refid ? "with refid " : "SOCK ",
			 o->refid ? o->refid : o->socket, o->conf);
		if (conf_optional(o)) {
			return refclock_missing(c, err);
		}
		log_err("%s; found:", err);
		list_refclocks(c->cfg);
		offline_hint(o);
		return CAL_EXIT_NO_REFCLOCK;
	}
	c->rep.refid = c->rep.rc->refid;
	c->rep.configured = c->rep.rc->offset;
	return 0;
}

/* ---- live mode ---- */

static int run_chronyc(struct cal *c, const char *cmd, struct cr_output *out)
{
	const char *args[] = { "-n", "-c", cmd, NULL };
	int ret = cr_run(c->o.chronyc, args, CHRONYC_TIMEOUT_MS, out);

	if (ret != 0) {
		log_limited(&c->chronyc_rl, LOG_LVL_WARN, "cannot run %s: %s",
			    c->o.chronyc, strerror(-ret));
		return -1;
	}
	if (out->status != 0 || out->timed_out) {
		char *nl = strchr(out->err, '\n');

		if (nl != NULL) {
			*nl = '\0';
		}
		log_limited(&c->chronyc_rl, LOG_LVL_WARN, "%s -c %s: %s%s",
			    c->o.chronyc, cmd, out->timed_out ? "timed out " : "",
			    out->err[0] ? out->err : "failed");
		cr_output_free(out);
		return -1;
	}
	return 0;
}

/* chronyc's hex refid of a refid string: "NMEA" -> "4E4D4541". */
static bool is_self(const struct cp_tracking *t, const char *refid)
{
	char hex[9];
	size_t i;

	for (i = 0; i < 4; i++) {
		unsigned char ch = i < strlen(refid) ? (unsigned char)refid[i] : 0;

		snprintf(hex + 2 * i, 3, "%02X", ch);
	}
	return strcmp(t->refname, refid) == 0 ||
	       strcasecmp(t->refid_hex, hex) == 0;
}

static enum cal_reject check_tracking(struct cal *c)
{
	struct cr_output out;
	struct cp_tracking t;
	int r;

	if (run_chronyc(c, "tracking", &out) != 0) {
		return REJ_CHRONYC;
	}
	r = cp_parse_tracking(out.out, out.out_len, &t);
	cr_output_free(&out);
	if (r != 0) {
		return REJ_CHRONYC;
	}
	/* A leap second announced (Insert/Delete second, for up to a
	 * month) is not a loss of synchronisation. */
	if (t.leap == CP_LEAP_UNSYNC || t.leap == CP_LEAP_UNKNOWN) {
		return REJ_UNSYNC;
	}
	return is_self(&t, c->rep.refid) ? REJ_REF_SELF : REJ_COUNT;
}

static enum cal_reject check_source(struct cal *c)
{
	struct cr_output out;
	struct cp_source s;
	int r;

	if (run_chronyc(c, "sources", &out) != 0) {
		return REJ_CHRONYC;
	}
	r = cp_find_source(out.out, out.out_len, c->rep.refid, &s);
	cr_output_free(&out);
	if (r != 0) {
		return REJ_NO_STATS;
	}
	if (s.state == '*') {
		return REJ_REF_SELF;
	}
	return s.reach == 0 ? REJ_UNREACHABLE : REJ_COUNT;
}

static enum cal_reject read_stats(struct cal *c, struct cp_sourcestats *ss)
{
	struct cr_output out;
	int r;

	if (run_chronyc(c, "sourcestats", &out) != 0) {
		return REJ_CHRONYC;
	}
	r = cp_find_sourcestats(out.out, out.out_len, c->rep.refid, ss);
	cr_output_free(&out);
	if (r != 0 || ss->np < MIN_NP) {
		return REJ_NO_STATS;
	}
	return REJ_COUNT;
}

/* One snapshot: tracking first (is the clock synchronised to something
 * else?), then the source, then its statistics.  -ENOMEM when the value
 * cannot be kept: the run is then broken, not merely short. */
static int take_snapshot(struct cal *c)
{
	struct cp_sourcestats ss;
	enum cal_reject why = check_tracking(c);

	if (why == REJ_COUNT) {
		why = check_source(c);
	}
	if (why == REJ_COUNT) {
		why = read_stats(c, &ss);
	}
	if (why != REJ_COUNT) {
		c->rep.rejected[why]++;
		log_debug("snapshot not used: %s", report_reject_name(why));
		return 0;
	}
	return est_add(c->est, (double)tu_now(CLOCK_REALTIME) / 1e9,
		       c->rep.configured + ss.offset, ss.sd);
}

static uint64_t rejected_total(const struct cal_report *r)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < REJ_COUNT; i++) {
		n += r->rejected[i];
	}
	return n;
}

static void fmt_hms(int64_t ns, char *buf, size_t len)
{
	int64_t s = ns / TU_NS_PER_SEC;

	snprintf(buf, len, "%" PRId64 ":%02d:%02d", s / 3600,
		 (int)(s / 60 % 60), (int)(s % 60));
}

static void progress_line(struct cal *c, int64_t elapsed, int64_t left,
			  char *buf, size_t len)
{
	char el[32], rem[32];
	int n;

	fmt_hms(elapsed, el, sizeof(el));
	fmt_hms(left, rem, sizeof(rem));
	n = snprintf(buf, len, "elapsed %s, remaining %s, snapshots %zu used, "
		     "%" PRIu64 " not", el, rem, est_count(c->est),
		     rejected_total(&c->rep));
	if (c->rep.have_result && n > 0 && (size_t)n < len) {
		snprintf(buf + n, len - (size_t)n, ", offset %.6f +/- %.6f s",
			 c->rep.res.median, c->rep.res.half_width);
	}
}

struct progress {
	bool tty;
	int64_t last_plain;
};

static void show_progress(struct cal *c, struct progress *p, int64_t now,
			  int64_t start, int64_t end)
{
	char line[256];

	if (c->o.quiet || c->o.json) {
		return;
	}
	if (!p->tty && now - p->last_plain < PLAIN_PROGRESS_NS) {
		return;
	}
	progress_line(c, now - start, end > now ? end - now : 0, line,
		      sizeof(line));
	if (p->tty) {
		fprintf(stderr, "\r\033[K%s", line);
		fflush(stderr);
	} else {
		log_notice("%s", line);
		p->last_plain = now;
	}
}

/* Update the running estimate; true when --precision is reached. */
static bool update_estimate(struct cal *c)
{
	struct est_result *r = &c->rep.res;

	c->rep.have_result = est_compute(c->est, r) == 0;
	return c->rep.have_result && c->o.precision > 0 &&
	       r->n_used >= EST_MIN_SAMPLES && !(r->warnings & EST_WARN_FEW) &&
	       r->half_width < c->o.precision;
}

static void sleep_until(int64_t deadline)
{
	struct timespec ts = tu_ns_to_ts(deadline);

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

/* The next snapshot, the end, or a second from now for the display. */
static int64_t wake_time(int64_t next, int64_t end)
{
	int64_t wake = tu_now(CLOCK_MONOTONIC) + TU_NS_PER_SEC;

	if (next < wake) {
		wake = next;
	}
	return end < wake ? end : wake;
}

/* A snapshot now if one is due; -ENOMEM, or 1 when --precision is
 * reached. */
static int live_step(struct cal *c, int64_t now, int64_t *next)
{
	size_t before = est_count(c->est);

	if (now < *next) {
		return 0;
	}
	*next += c->o.interval_ns;
	if (take_snapshot(c) != 0) {
		log_err("out of memory after %zu snapshots: the run is "
			"abandoned, nothing written", before);
		return -ENOMEM;
	}
	return est_count(c->est) > before && update_estimate(c);
}

/* CAL_EXIT_OK, or CAL_EXIT_ERROR when the run broke (no report: a
 * truncated run is not a result). */
static int run_live(struct cal *c)
{
	struct progress p = { isatty(STDERR_FILENO) != 0, INT64_MIN / 2 };
	int64_t start = tu_now(CLOCK_MONOTONIC);
	int64_t end = start + c->o.duration_ns;
	int64_t next = start, now = start;
	int r = 0;

	c->rep.interval_s = (double)c->o.interval_ns / 1e9;
	while (!stop_signal && (now = tu_now(CLOCK_MONOTONIC)) < end) {
		r = live_step(c, now, &next);
		if (r != 0) {
			break;
		}
		show_progress(c, &p, tu_now(CLOCK_MONOTONIC), start, end);
		sleep_until(wake_time(next, end));
	}
	if (p.tty && !c->o.quiet && !c->o.json) {
		fputc('\n', stderr);
	}
	if (r < 0) {
		return CAL_EXIT_ERROR;
	}
	c->rep.precision_reached = r == 1;
	c->rep.elapsed_s = (double)(tu_now(CLOCK_MONOTONIC) - start) / 1e9;
	/* Cut short by a signal: not when the run had ended anyway. */
	c->rep.interrupted = stop_signal != 0 && !c->rep.precision_reached &&
			     now < end;
	return CAL_EXIT_OK;
}

/* ---- offline modes ---- */

typedef void (*line_handler)(struct cal *c, const char *line, size_t len,
			     size_t lineno, struct est *aux);

static int read_lines(struct cal *c, const char *path, line_handler fn,
		      struct est *aux)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int ret = 0;

	if (f == NULL) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return CAL_EXIT_ERROR;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		fn(c, line, (size_t)len, ++lineno, aux);
	}
	if (ferror(f)) {
		log_err("cannot read %s: %s", path, strerror(errno));
		ret = CAL_EXIT_ERROR;
	}
	free(line);
	if (f != stdin) {
		fclose(f);
	}
	return ret;
}

static void bad_line(struct cal *c, const char *path, size_t lineno)
{
	if (c->rep.rejected[REJ_BAD_LINE]++ < 5) {
		log_warn("%s:%zu: line not understood, skipped", path, lineno);
	}
}

/* refclocks.log: the value is -raw, the offset that cancels the sample's
 * raw offset whatever offset was configured; cooked - raw is kept to say
 * which offset was configured when the log was written. */
static void log_line(struct cal *c, const char *line, size_t len,
		     size_t lineno, struct est *aux)
{
	struct cp_refclock_sample s;
	int r = cp_parse_refclocks_line(line, len, &s);

	if (r == 1) {
		return;
	}
	if (r != 0) {
		bad_line(c, c->o.from_log, lineno);
		return;
	}
	if (strcmp(s.refid, c->rep.refid) != 0) {
		c->rep.other_lines++;
		return;
	}
	if (est_add(c->est, s.t, -s.raw, NAN) != 0 ||
	    est_add(aux, s.t, s.cooked - s.raw, NAN) != 0) {
		bad_line(c, c->o.from_log, lineno);
	}
}

static void file_line(struct cal *c, const char *line, size_t len,
		      size_t lineno, struct est *aux)
{
	struct cp_sourcestats ss;
	double t;
	int r = cp_parse_snapshot_line(line, len, &t, &ss);

	(void)aux;
	if (r == 1) {
		return;
	}
	if (r != 0) {
		bad_line(c, c->o.from_file, lineno);
		return;
	}
	if (strcmp(ss.name, c->rep.refid) != 0) {
		c->rep.other_lines++;
		return;
	}
	if (ss.np < MIN_NP) {
		c->rep.rejected[REJ_NO_STATS]++;
		return;
	}
	if (!isfinite(t)) {
		t = (double)lineno;
	}
	if (est_add(c->est, t, c->rep.configured + ss.offset, ss.sd) != 0) {
		bad_line(c, c->o.from_file, lineno);
	}
}

static int run_log(struct cal *c)
{
	struct est *aux = est_create();
	struct est_result ar;
	int ret;

	if (aux == NULL) {
		return CAL_EXIT_ERROR;
	}
	c->rep.mode = CAL_LOG;
	c->rep.input = c->o.from_log;
	ret = read_lines(c, c->o.from_log, log_line, aux);
	if (ret == 0 && est_compute(aux, &ar) == 0) {
		c->rep.log_configured = ar.median;
	}
	est_destroy(aux);
	return ret;
}

static int run_file(struct cal *c)
{
	c->rep.mode = CAL_FILE;
	c->rep.input = c->o.from_file;
	if (!isfinite(c->rep.configured)) {
		log_err("--from-file needs the offset in effect when the "
			"snapshots were taken: --conf or --offset");
		return CAL_EXIT_USAGE;
	}
	return read_lines(c, c->o.from_file, file_line, NULL);
}

/* ---- result, write-back ---- */

static const char *signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

static const char *few_reason(const struct est_result *res, char *why,
			      size_t len)
{
	if (res->n_used < EST_MIN_SAMPLES) {
		snprintf(why, len, "too few values: %zu values (at least %d "
			 "needed)", res->n_used, EST_MIN_SAMPLES);
	} else if (res->n_eff < EST_MIN_NEFF) {
		snprintf(why, len, "too few independent values: effective n "
			 "%.1f of %zu values (at least %.0f needed)", res->n_eff,
			 res->n_used, EST_MIN_NEFF);
	} else {
		snprintf(why, len, "too few values for a 95%% interval (it "
			 "reaches the extremes of the %zu values)", res->n_used);
	}
	return why;
}

/* An interrupted live run (systemctl stop, Ctrl-C) is a partial estimate:
 * written, it would be taken for the offset in effect by the next run
 * while chronyd, not restarted, still used the old one. */
static const char *interrupted_reason(const struct cal_report *r,
				      const struct opts *o, char *why,
				      size_t len)
{
	char el[32];

	fmt_hms((int64_t)(r->elapsed_s * 1e9), el, sizeof(el));
	if (o->precision > 0) {
		snprintf(why, len, "the run was interrupted by %s after %s, "
			 "before --precision %.6f s was reached (a partial run "
			 "is never written)", signal_name(stop_signal), el,
			 o->precision);
	} else {
		snprintf(why, len, "the run was interrupted by %s after %s, "
			 "before --duration ended (a partial run is never "
			 "written)", signal_name(stop_signal), el);
	}
	return why;
}

static const char *unusable_reason(const struct cal_report *r,
				   const struct opts *o)
{
	static char why[256];

	if (!r->have_result) {
		return "no usable snapshot or sample";
	}
	if (r->interrupted) {
		return interrupted_reason(r, o, why, sizeof(why));
	}
	if (r->res.warnings & EST_WARN_FEW) {
		return few_reason(&r->res, why, sizeof(why));
	}
	if (!isfinite(r->new_offset) || fabs(r->new_offset) > MAX_ABS_OFFSET) {
		snprintf(why, sizeof(why), "offset %.6f s is beyond +/-%.0f s: "
			 "a pairing error, not a delay", r->new_offset,
			 MAX_ABS_OFFSET);
		return why;
	}
	if (!(r->res.half_width <= o->max_uncertainty)) {
		snprintf(why, sizeof(why), "95%% half-width %.6f s is over "
			 "--max-uncertainty %.6f s", r->res.half_width,
			 o->max_uncertainty);
		return why;
	}
	if ((r->res.warnings & EST_WARN_DRIFT) &&
	    !(fabs(r->res.drift) <= o->max_uncertainty)) {
		snprintf(why, sizeof(why), "the delay drifted by %+.6f s during "
			 "the run (first to last quarter), over "
			 "--max-uncertainty %.6f s: the estimate is not the "
			 "delay now", r->res.drift, o->max_uncertainty);
		return why;
	}
	return NULL;
}

static void finish_estimate(struct cal *c)
{
	struct cal_report *r = &c->rep;

	r->have_result = est_compute(c->est, &r->res) == 0;
	r->est = c->est;
	if (r->have_result) {
		r->new_offset = r->res.median;
		r->measured = r->new_offset - r->configured;
	}
	r->unusable = unusable_reason(r, &c->o);
}

static int write_back(struct cal *c)
{
	struct cal_report *r = &c->rep;
	char err[512], val[32];

	r->write_requested = true;
	if (r->rc == NULL) {
		snprintf(r->write_msg, sizeof(r->write_msg), "not written: the "
			 "refclock line was not found in %s", c->o.conf);
		return CAL_EXIT_NO_REFCLOCK;
	}
	if (ce_set_offset(r->rc, r->new_offset, err, sizeof(err)) != 0) {
		snprintf(r->write_msg, sizeof(r->write_msg), "not written: %.400s",
			 err);
		return CAL_EXIT_WRITE;
	}
	ce_format_offset(r->new_offset, val, sizeof(val));
	r->written = true;
	snprintf(r->write_msg, sizeof(r->write_msg), "wrote offset %s to %s:%d "
		 "(previous file kept as %s.bak)", val, r->rc->file,
		 r->rc->line, r->rc->file);
	return CAL_EXIT_OK;
}

/* What a failed chronyc said: the first line of its standard error, else
 * of its output, else its exit status. */
static void chronyc_said(const struct cr_output *out, char *buf, size_t len)
{
	const char *src = out->err_len > 0 ? out->err : out->out;
	size_t n = src != NULL ? strcspn(src, "\r\n") : 0;

	if (out->timed_out) {
		snprintf(buf, len, "timed out");
	} else if (n > 0) {
		snprintf(buf, len, "%.*s", (int)(n < 200 ? n : 200), src);
	} else {
		snprintf(buf, len, "exit status %d", out->status);
	}
}

/* chronyc's version as major * 100 + minor, or -1 with what went wrong
 * in why. */
static int chronyc_version(const char *chronyc, char *why, size_t len)
{
	const char *args[] = { "-v", NULL };
	struct cr_output out;
	const char *v;
	int major = 0, minor = 0, ret = -1, r;

	r = cr_run(chronyc, args, CHRONYC_TIMEOUT_MS, &out);
	if (r != 0) {
		snprintf(why, len, "cannot run it: %s", strerror(-r));
		return -1;
	}
	v = strstr(out.out, "version ");
	if (out.status == 0 && v != NULL &&
	    sscanf(v, "version %d.%d", &major, &minor) >= 1 && major >= 0 &&
	    minor >= 0) {
		ret = major * 100 + minor;
	} else if (out.status != 0 || out.timed_out) {
		chronyc_said(&out, why, len);
	} else {
		snprintf(why, len, "no version in its output");
	}
	cr_output_free(&out);
	return ret;
}

/* `chronyc offset REFID VALUE`, chrony 4.6 and later.  chronyc's version
 * is not chronyd's: an older chronyd rejects the request. */
static int apply_offset(struct cal *c)
{
	struct cal_report *r = &c->rep;
	char val[32], said[256];
	const char *args[] = { "offset", r->refid, val, NULL };
	struct cr_output out;
	int v = chronyc_version(c->o.chronyc, said, sizeof(said)), ret;

	r->apply_requested = true;
	ce_format_offset(r->new_offset, val, sizeof(val));
	if (v < 0) {
		snprintf(r->apply_msg, sizeof(r->apply_msg), "%.200s -v "
			 "failed (%.200s), so chronyd was not told: restart "
			 "chronyd to use the new offset", c->o.chronyc, said);
		return CAL_EXIT_APPLY;
	}
	if (v < 406) {
		snprintf(r->apply_msg, sizeof(r->apply_msg), "chronyc %d.%d "
			 "cannot change a refclock's offset at run time (4.6 "
			 "or newer needed): restart chronyd to use the new "
			 "offset", v / 100, v % 100);
		return CAL_EXIT_OK;
	}
	ret = cr_run(c->o.chronyc, args, CHRONYC_TIMEOUT_MS, &out);
	if (ret != 0) {
		snprintf(r->apply_msg, sizeof(r->apply_msg), "cannot run %.200s "
			 "(%s): restart chronyd to use the new offset",
			 c->o.chronyc, strerror(-ret));
		return CAL_EXIT_APPLY;
	}
	if (out.status != 0 || out.timed_out) {
		chronyc_said(&out, said, sizeof(said));
		snprintf(r->apply_msg, sizeof(r->apply_msg), "chronyc offset %s "
			 "%s failed (%s): chronyd is older than 4.6 or refused: "
			 "restart chronyd to use the new offset", r->refid, val,
			 said);
		cr_output_free(&out);
		return CAL_EXIT_APPLY;
	}
	cr_output_free(&out);
	r->applied = true;
	snprintf(r->apply_msg, sizeof(r->apply_msg), "chronyd now uses offset "
		 "%s for %s (chronyc offset)", val, r->refid);
	return CAL_EXIT_OK;
}

static int conclude(struct cal *c)
{
	int code;

	finish_estimate(c);
	if (c->rep.unusable != NULL) {
		return CAL_EXIT_UNUSABLE;
	}
	if (!c->o.write) {
		return CAL_EXIT_OK;
	}
	code = write_back(c);
	if (code == CAL_EXIT_OK && (c->rep.res.warnings & EST_WARN_DRIFT)) {
		log_warn("the delay drifted by %+.6f s during the run; the "
			 "offset was written as it is within --max-uncertainty "
			 "%.6f s, but it represents neither the start nor the "
			 "end of the run", c->rep.res.drift,
			 c->o.max_uncertainty);
	}
	if (code == CAL_EXIT_OK && c->o.apply) {
		code = apply_offset(c);
	}
	return code;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int run(struct cal *c)
{
	int code = resolve_refclock(c);

	if (code != 0) {
		return code;
	}
	if (isfinite(c->o.offset)) {
		c->rep.configured = c->o.offset;
	}
	if (c->o.from_log != NULL) {
		code = run_log(c);
	} else if (c->o.from_file != NULL) {
		code = run_file(c);
	} else {
		install_signals();
		code = run_live(c);
	}
	if (code != 0) {
		return code;
	}
	code = conclude(c);
	c->rep.exit_code = code;
	if (c->o.json) {
		report_json(stdout, &c->rep);
	} else {
		report_text(stdout, &c->rep);
	}
	return code;
}

static void init_cal(struct cal *c)
{
	memset(c, 0, sizeof(*c));
	c->rep.configured = NAN;
	c->rep.log_configured = NAN;
	c->rep.new_offset = NAN;
	c->rep.measured = NAN;
	c->chronyc_rl.interval_ns = 600 * TU_NS_PER_SEC;
	c->chronyc_rl.burst = 3;
}

int main(int argc, char **argv)
{
	struct cal c;
	int code;

	log_init("gpspps-calibrate", LOG_LVL_INFO,
		 getenv("JOURNAL_STREAM") != NULL);
	init_cal(&c);
	code = parse_args(argc, argv, &c.o);
	if (code != 0) {
		return code < 0 ? CAL_EXIT_USAGE : CAL_EXIT_OK;
	}
	c.rep.conf = c.o.conf;
	c.rep.write_requested = c.o.write;
	c.rep.apply_requested = c.o.apply;
	c.est = est_create();
	if (c.est == NULL) {
		log_err("out of memory");
		return CAL_EXIT_ERROR;
	}
	code = run(&c);
	est_destroy(c.est);
	ce_free(c.cfg);
	fflush(stdout);
	return code;
}
