/*
 * gpsppsd - pairs a GPS receiver's NMEA seconds with its PPS edges and
 * feeds chronyd's SOCK refclocks.  Command line and start-up; the run time
 * is in daemon.c.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "pps.h"
#include "replay.h"

#define DEFAULT_CONFIG GPSPPS_SYSCONFDIR "/gpspps/gpsppsd.conf"

enum {
	OPT_CONFIG = 1000,
	OPT_CHECK,
	OPT_DUMP,
	OPT_REPLAY,
	OPT_HELP,
	OPT_VERSION,
	OPT_KEY_BASE = 2000,    /* + index into the config key table */
};

struct cmdline {
	const char *config;
	bool config_given;
	bool check;
	bool dump;
	const char *replay;
};

static void usage(FILE *out)
{
	int i;

	fprintf(out,
		"Usage: gpsppsd [OPTION]...\n"
		"Pair a GPS receiver's NMEA time with its PPS edges and feed "
		"chronyd's SOCK refclocks:\nPPS-paired samples on one socket, "
		"NMEA timing samples on the other.\n\n"
		"Options (each is also a `key value` line of the config file):\n");
	conf_print_help(out);
	fprintf(out,
		"\nOther options:\n"
		"  --config FILE              config file (default: %s; a missing\n"
		"                             default file is not an error)\n"
		"  --check                    validate the configuration, print "
		"\"configuration OK\"\n"
		"                             or every error, and exit\n"
		"  --dump                     also print one JSON object per second "
		"on stdout\n"
		"  --replay FILE              decode an NMEA capture (no timing; "
		"'-' = stdin),\n"
		"                             print one JSON line per epoch, and "
		"exit\n"
		"  -d                         same as --debug\n"
		"  --help, --version\n\nPPS inputs:\n"
		"  none                       NMEA timing samples only\n",
		DEFAULT_CONFIG);
	for (i = 0; pps_backends[i] != NULL; i++) {
		const struct pps_backend *b = pps_backends[i];

		if (b->not_built != NULL) {
			fprintf(out, "  %-26s not built (%s)\n", b->kind,
				b->not_built);
		} else {
			fprintf(out, "  %-26s %s\n", b->kind, b->summary);
		}
	}
	fprintf(out, "\nExit status: 0 ok, 1 bad configuration (--check) or "
		"command line, %d configuration or\ndevice error at start-up, "
		"%d internal error.\n", EXIT_CONFIG, EXIT_SOFTWARE);
}

/* Build the getopt table: fixed options plus one per config key. */
static struct option *build_options(void)
{
	static const struct option fixed[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "replay", required_argument, NULL, OPT_REPLAY },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
	};
	size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct option *opts;
	bool takes_arg;
	int nkeys = 0, i;

	while (conf_key_name(nkeys, &takes_arg) != NULL) {
		nkeys++;
	}
	opts = calloc(nfixed + (size_t)nkeys + 1, sizeof(*opts));
	if (opts == NULL) {
		return NULL;
	}
	memcpy(opts, fixed, sizeof(fixed));
	for (i = 0; i < nkeys; i++) {
		struct option *o = &opts[nfixed + (size_t)i];

		o->name = conf_key_name(i, &takes_arg);
		o->has_arg = takes_arg ? required_argument : optional_argument;
		o->val = OPT_KEY_BASE + i;
	}
	return opts;
}

/* First pass: find --config so that the file is read before the other
 * options override it. */
static void find_config(int argc, char **argv, struct cmdline *cl)
{
	int i;

	cl->config = DEFAULT_CONFIG;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			cl->config = argv[i + 1];
			cl->config_given = true;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cl->config = argv[i] + 9;
			cl->config_given = true;
		}
	}
}

/* Apply one option; returns 0, 1 for "exit 0 now", or -1 on error. */
static int apply_option(int c, struct gpsppsd_config *cfg, struct cmdline *cl)
{
	char msg[512];
	bool takes_arg;

	switch (c) {
	case OPT_CONFIG:
		return 0;
	case OPT_CHECK:
		cl->check = true;
		return 0;
	case OPT_DUMP:
		cl->dump = true;
		return 0;
	case OPT_REPLAY:
		cl->replay = optarg;
		return 0;
	case OPT_HELP:
		usage(stdout);
		return 1;
	case OPT_VERSION:
		printf("gpsppsd %s\n", GPSPPS_VERSION);
		return 1;
	case 'd':
		cfg->debug = true;
		return 0;
	}
	if (c >= OPT_KEY_BASE && conf_key_name(c - OPT_KEY_BASE, &takes_arg)) {
		const char *key = conf_key_name(c - OPT_KEY_BASE, &takes_arg);

		if (conf_set(cfg, key, optarg ? optarg : "yes", msg,
			     sizeof(msg)) == 0) {
			return 0;
		}
		fprintf(stderr, "gpsppsd: --%s\n", msg);
		return -1;
	}
	fprintf(stderr, "Try 'gpsppsd --help' for more information.\n");
	return -1;
}

/* Returns -1 on errors, 1 to exit 0, 0 to go on. */
static int parse_args(int argc, char **argv, struct gpsppsd_config *cfg,
		      struct cmdline *cl)
{
	struct option *opts = build_options();
	int c, r, errors = 0;

	if (opts == NULL) {
		return -1;
	}
	while ((c = getopt_long(argc, argv, "d", opts, NULL)) != -1) {
		r = apply_option(c, cfg, cl);
		if (r == 1) {
			free(opts);
			return 1;
		}
		errors += r < 0;
	}
	if (optind < argc) {
		fprintf(stderr, "gpsppsd: unexpected argument \"%s\"\n", argv[optind]);
		errors++;
	}
	free(opts);
	return errors ? -1 : 0;
}

/* --check: the PPS argument as the backend's open will parse it (a bad
 * kind was already refused by the config key), without opening any
 * device.  0, or -1 with the message printed. */
/* mlockall and sched-priority, as chronyd's -m and -P: a refusal is
 * logged with its fix, and the daemon runs on without. */
static void apply_realtime(const struct gpsppsd_config *cfg)
{
	struct sched_param sp = { .sched_priority = (int)cfg->sched_priority };

	if (cfg->lock_memory && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		log_warn("mlockall: %s; raise the memory lock limit (ulimit -l, "
			 "systemd LimitMEMLOCK=infinity) or give CAP_IPC_LOCK",
			 strerror(errno));
	}
	if (cfg->sched_priority <= 0) {
		return;
	}
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
		log_warn("sched-priority %ld: %s; run as root or with "
			 "CAP_SYS_NICE (systemd: CPUSchedulingPolicy=fifo)",
			 cfg->sched_priority, strerror(errno));
		return;
	}
	log_notice("running at SCHED_FIFO priority %ld", cfg->sched_priority);
}

static int load_config(int argc, char **argv, struct gpsppsd_config *cfg,
		       struct cmdline *cl)
{
	int file_errors, r;

	conf_defaults(cfg);
	find_config(argc, argv, cl);
	file_errors = conf_load_file(cfg, cl->config, !cl->config_given, stderr);
	if (file_errors >= 0 && access(cl->config, F_OK) == 0 &&
	    strlen(cl->config) < sizeof(cfg->config_file)) {
		memcpy(cfg->config_file, cl->config, strlen(cl->config) + 1);
	}
	r = parse_args(argc, argv, cfg, cl);
	if (r == 1) {
		return 1;
	}
	if (cl->replay != NULL) {
		return r < 0 ? -1 : 0;
	}
	/* Report every error, not just the first kind found. */
	if (conf_validate(cfg, stderr) != 0) {
		r = -1;
	}
	if (cl->check && conf_check_startup(cfg, stderr) != 0) {
		r = -1;
	}
	return r < 0 || file_errors != 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct gpsppsd_config cfg;
	struct cmdline cl = { 0 };
	int r = load_config(argc, argv, &cfg, &cl);

	if (r == 1) {
		return 0;
	}
	if (cl.check) {
		fflush(stderr);
		puts(r < 0 ? "configuration has errors" : "configuration OK");
		return r < 0 ? 1 : 0;
	}
	if (r < 0) {
		return 1;
	}
	if (cl.replay != NULL) {
		return replay_run(cl.replay, stdout, stderr) < 0 ? 1 : 0;
	}
	log_init("gpsppsd", cfg.debug ? LOG_LVL_DEBUG : LOG_LVL_INFO,
		 getenv("JOURNAL_STREAM") != NULL);
	apply_realtime(&cfg);
	return daemon_run(&cfg, cl.dump ? stdout : NULL);
}
