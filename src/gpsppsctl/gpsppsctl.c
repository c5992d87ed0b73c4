/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpsppsctl - a running gpsppsd seen from outside, through its status
 * socket: status, watch, doctor, metrics.  See gpsppsctl(8).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"
#include "ctl_client.h"
#include "ctl_metrics.h"
#include "ctl_output.h"
#include "ctl_summary.h"
#include "ctl_watchline.h"
#include "doctor.h"
#include "timeutil.h"

#define CTL_ERRLEN 512

struct ctl_args {
	struct ctl_options o;
	const char *verb;
	long count;               /* watch --count; 0: until interrupted */
	const char *output;       /* metrics --output */
};

static void usage(FILE *f)
{
	fprintf(f,
"Usage: gpsppsctl [OPTION]... VERB\n"
"Show what a running gpsppsd does, through its status socket.\n"
"\n"
"Verbs\n"
"  status                  a summary; the first line says OK or what is\n"
"                          wrong (exit 0 when gpsppsd answered)\n"
"  watch                   a line per second: label, fix, PPS offset, NMEA\n"
"                          delay, what was sent to chronyd or why not\n"
"  doctor                  check the chain receiver -> gpsppsd -> chronyd,\n"
"                          a PASS/WARN/FAIL line per check with the fix\n"
"                          (exit 0 all pass, 1 warnings, 2 a failure)\n"
"  metrics                 Prometheus text format, for node_exporter's\n"
"                          textfile collector\n"
"\n"
"Options (before or after the verb)\n"
"      --socket PATH       gpsppsd's status socket (default\n"
"                          " CTL_DEFAULT_SOCKET ")\n"
"      --conf FILE         chrony.conf for doctor (default\n"
"                          " CTL_DEFAULT_CONF "),\n"
"                          include and confdir followed\n"
"      --chronyc CMD       chronyc command for doctor (default \"chronyc\"),\n"
"                          e.g. \"chronyc -h /run/chrony/chronyd.sock -n\"\n"
"      --gpsppsd-conf FILE doctor: gpsppsd's configuration, read when\n"
"                          gpsppsd does not answer (default\n"
"                          " GPSPPS_SYSCONFDIR "/gpspps/gpsppsd.conf)\n"
"      --json              status: the daemon's object unchanged; watch: one\n"
"                          object per line; doctor: its checks as JSON\n"
"      --timeout DUR       wait at most DUR for each answer (default 3s)\n"
"  -n, --count N           watch: stop after N lines\n"
"  -o, --output FILE       metrics: replace FILE atomically instead of\n"
"                          writing to standard output\n"
"  -h, --help              this help\n"
"  -V, --version           print the version\n"
"\n"
"Exit status: 0 done; 1 doctor: warnings; 2 gpsppsd did not answer (the\n"
"message says why and how to fix it), doctor: a failure; 64 bad usage.\n");
}

enum {
	OPT_SOCKET = 256, OPT_CONF, OPT_CHRONYC, OPT_JSON, OPT_TIMEOUT,
	OPT_GPSPPSD_CONF,
};

static const struct option long_opts[] = {
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "conf", required_argument, NULL, OPT_CONF },
	{ "chronyc", required_argument, NULL, OPT_CHRONYC },
	{ "gpsppsd-conf", required_argument, NULL, OPT_GPSPPSD_CONF },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "count", required_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *const verbs[] = { "status", "watch", "doctor", "metrics",
				     NULL };

static int parse_timeout(const char *arg, int *ms)
{
	int64_t ns;

	if (tu_parse_duration(arg, &ns) != 0 || ns <= 0 ||
	    ns / TU_NS_PER_MS > INT_MAX) {
		fprintf(stderr, "gpsppsctl: --timeout: not a positive "
			"duration: '%s'\n", arg);
		return -1;
	}
	*ms = (int)((ns + TU_NS_PER_MS - 1) / TU_NS_PER_MS);
	return 0;
}

static int parse_count(const char *arg, long *count)
{
	char *end;

	errno = 0;
	*count = strtol(arg, &end, 10);
	if (errno || end == arg || *end || *count <= 0) {
		fprintf(stderr, "gpsppsctl: --count: not a positive number: "
			"'%s'\n", arg);
		return -1;
	}
	return 0;
}

static int set_option(struct ctl_args *a, int c, const char *arg)
{
	switch (c) {
	case OPT_SOCKET: a->o.socket = arg; return 0;
	case OPT_CONF: a->o.conf = arg; return 0;
	case OPT_CHRONYC: a->o.chronyc = arg; return 0;
	case OPT_GPSPPSD_CONF: a->o.gpsppsd_conf = arg; return 0;
	case OPT_JSON: a->o.json = true; return 0;
	case OPT_TIMEOUT: return parse_timeout(arg, &a->o.timeout_ms);
	case 'n': return parse_count(arg, &a->count);
	case 'o': a->output = arg; return 0;
	}
	return -1;
}

static int set_verb(struct ctl_args *a, const char *arg)
{
	size_t i;

	for (i = 0; verbs[i]; i++) {
		if (!strcmp(arg, verbs[i])) {
			break;
		}
	}
	if (!verbs[i]) {
		fprintf(stderr, "gpsppsctl: unknown verb '%s': status, watch, "
			"doctor or metrics\n", arg);
		return -1;
	}
	if (a->verb) {
		fprintf(stderr, "gpsppsctl: one verb at a time ('%s', then "
			"'%s')\n", a->verb, arg);
		return -1;
	}
	a->verb = verbs[i];
	return 0;
}

/* Options a verb does not take are an error, not silently ignored. */
static int check_verb_options(const struct ctl_args *a)
{
	if (!a->verb) {
		fprintf(stderr, "gpsppsctl: a verb is needed: status, watch, "
			"doctor or metrics\n");
		return -1;
	}
	if (a->count && strcmp(a->verb, "watch")) {
		fprintf(stderr, "gpsppsctl: --count is for watch\n");
		return -1;
	}
	if (a->output && strcmp(a->verb, "metrics")) {
		fprintf(stderr, "gpsppsctl: --output is for metrics\n");
		return -1;
	}
	if (a->o.json && !strcmp(a->verb, "metrics")) {
		fprintf(stderr, "gpsppsctl: metrics has no --json: its format "
			"is Prometheus'\n");
		return -1;
	}
	return 0;
}

/* Returns -1 to exit with CTL_EXIT_USAGE, 1 to exit 0 (help, version). */
static int parse_args(int argc, char **argv, struct ctl_args *a)
{
	int c;

	while ((c = getopt_long(argc, argv, "n:o:hV", long_opts,
				NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 1;
		}
		if (c == 'V') {
			printf("gpsppsctl %s\n", GPSPPS_VERSION);
			return 1;
		}
		if (c == '?' || set_option(a, c, optarg) != 0) {
			fprintf(stderr, "Try 'gpsppsctl --help'.\n");
			return -1;
		}
	}
	for (; optind < argc; optind++) {
		if (set_verb(a, argv[optind]) != 0) {
			return -1;
		}
	}
	return check_verb_options(a);
}

/* Write a renderer's text to stdout and free it: 0, or -ENOMEM for the
 * renderer's NULL. */
static int put_text(char *text)
{
	if (!text) {
		fprintf(stderr, "gpsppsctl: out of memory\n");
		return -ENOMEM;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

static int verb_status(const struct ctl_args *a)
{
	char err[CTL_ERRLEN], *line = NULL;
	json_t *st;
	int r;

	r = ctl_client_status_raw(a->o.socket, a->o.timeout_ms, &st, &line,
				  err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "gpsppsctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	if (a->o.json) {
		printf("%s\n", line);
	} else {
		r = put_text(ctl_summary_render(st));
	}
	free(line);
	json_decref(st);
	return r < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* The next object of the stream, printed unless it repeats the line
 * before (ctl_watchline_show): 1 printed, 0 not, -1 error (said). */
static int watch_one(struct ctl_client_watch *w, const struct ctl_args *a,
		     struct ctl_watchline_state *seen)
{
	char err[CTL_ERRLEN];
	json_t *st;
	int shown = 1;

	if (ctl_client_watch_next(w, a->o.timeout_ms, &st, err,
				  sizeof(err)) < 0) {
		fprintf(stderr, "gpsppsctl: %s\n", err);
		return -1;
	}
	if (a->o.json) {
		printf("%s\n", ctl_client_watch_line(w));
	} else if (ctl_watchline_show(seen, st)) {
		put_text(ctl_watchline_render(st));
	} else {
		shown = 0;
	}
	fflush(stdout);
	json_decref(st);
	return shown;
}

static int verb_watch(const struct ctl_args *a)
{
	struct ctl_watchline_state seen = { 0 };
	char err[CTL_ERRLEN];
	struct ctl_client_watch *w;
	long n = 0;
	int r = 0;

	w = ctl_client_watch_open(a->o.socket, a->o.timeout_ms, err,
				  sizeof(err));
	if (!w) {
		fprintf(stderr, "gpsppsctl: %s\n", err);
		return CTL_EXIT_FAIL;
	}
	if (!a->o.json) {
		put_text(ctl_watchline_header());
	}
	while (r >= 0 && (!a->count || n < a->count)) {
		r = watch_one(w, a, &seen);
		n += r > 0;
	}
	ctl_client_watch_close(w);
	return r < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

/* The exposition into *text, or gpspps_up 0 alone when gpsppsd did not
 * answer (then the error is on stderr and the return value negative). */
static int metrics_render(const struct ctl_args *a, char **text)
{
	char err[CTL_ERRLEN];
	json_t *st = NULL;
	int r;

	r = ctl_client_status(a->o.socket, a->o.timeout_ms, &st, err,
			      sizeof(err));
	if (r < 0) {
		fprintf(stderr, "gpsppsctl: %s\n", err);
	}
	*text = r < 0 ? ctl_metrics_render_down() : ctl_metrics_render(st);
	json_decref(st);
	if (!*text) {
		fprintf(stderr, "gpsppsctl: out of memory\n");
		return -ENOMEM;
	}
	return r;
}

static int verb_metrics(const struct ctl_args *a)
{
	char err[CTL_ERRLEN], *text = NULL;
	int r, w;

	r = metrics_render(a, &text);
	if (!text) {
		return CTL_EXIT_FAIL;
	}
	if (a->output) {
		w = ctl_output_replace(a->output, text, strlen(text), err,
				       sizeof(err));
		if (w < 0) {
			fprintf(stderr, "gpsppsctl: %s\n", err);
			r = w;
		}
	} else {
		fputs(text, stdout);
	}
	free(text);
	return r < 0 ? CTL_EXIT_FAIL : CTL_EXIT_OK;
}

static void default_args(struct ctl_args *a)
{
	memset(a, 0, sizeof(*a));
	a->o.socket = CTL_DEFAULT_SOCKET;
	a->o.conf = CTL_DEFAULT_CONF;
	a->o.chronyc = CTL_DEFAULT_CHRONYC;
	a->o.timeout_ms = CTL_DEFAULT_TIMEOUT_MS;
}

int main(int argc, char **argv)
{
	struct ctl_args a;
	int r;

	default_args(&a);
	r = parse_args(argc, argv, &a);
	if (r != 0) {
		return r > 0 ? CTL_EXIT_OK : CTL_EXIT_USAGE;
	}
	if (!strcmp(a.verb, "status")) {
		return verb_status(&a);
	}
	if (!strcmp(a.verb, "watch")) {
		return verb_watch(&a);
	}
	if (!strcmp(a.verb, "metrics")) {
		return verb_metrics(&a);
	}
	return doctor_run(&a.o, stdout);
}
