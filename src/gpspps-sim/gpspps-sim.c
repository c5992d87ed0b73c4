/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpspps-sim - a GPS receiver's NMEA output on a pseudo-terminal.
 *
 * Each epoch's burst (simgen.c) is written to the pty master so that its
 * first byte is readable on the slave at slot + delay + jitter by
 * CLOCK_REALTIME, and byte i no earlier than i character times (10 bits at
 * the baud rate) after it, as on a real line.
 *
 * The simulator keeps its own descriptor of the slave open, so writes never
 * fail with EIO and a reader may come and go.  Bytes still unread when the
 * next burst is due are flushed: a reader that opens the port late, or
 * stops reading, never gets a stale burst (a real UART drops what nobody
 * reads, too).  Whatever the reader writes to the port is read and
 * discarded, so echo can never fill the master's buffer.
 *
 * A pty carries bytes, not bits, whatever rate either side sets.  So
 * before each burst the simulator reads the rate the reader set on the
 * slave (the tty's termios, shared by every descriptor of it) and, when
 * it differs from --baud, sends what a UART at the reader's rate would
 * deliver from a transmitter at --baud instead (uartemu.h has the model),
 * each received byte no earlier than its frame's start edge.
 *
 * With --raw-clock the receiver keeps its own time, CLOCK_MONOTONIC_RAW
 * plus a fixed offset, instead of the system clock's: slots, delays and
 * the default leap second are on that clock, which steps and slews of
 * the system clock do not move and which counts 23:59:60 as a second of
 * its own, as a GPS receiver's time does.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <jansson.h>

#include "config.h"
#include "log.h"
#include "simgen.h"
#include "timeutil.h"
#include "uartemu.h"

#define EXIT_USAGE 2
/* The first byte is written after a busy wait over its last SPIN_NS, so it
 * leaves within microseconds of its time rather than a timer slack late. */
#define SPIN_NS (300 * TU_NS_PER_US)
/* Later bytes go out in chunks of about this duration. */
#define CHUNK_NS TU_NS_PER_MS
/* Schedule margin for the first epoch. */
#define START_MARGIN_NS (5 * TU_NS_PER_MS)
/* After the last epoch, wait at least the first, at most the second for
 * the reader to drain the pty. */
#define LINGER_MIN_NS (50 * TU_NS_PER_MS)
#define LINGER_NS TU_NS_PER_SEC
/* A flood is written in chunks of this duration at the line rate. */
#define FLOOD_TICK_NS (10 * TU_NS_PER_MS)
#define FLOOD_BUF 4096

struct sim_config {
	struct simgen_options gen;
	int64_t delay_ns;
	int64_t jitter_ns;
	int baud;
	speed_t speed;
	long long count;        /* 0: until signalled */
	long long switch_at;    /* --baud-from: epoch number, -1: none */
	int switch_baud;
	const char *pty_link;
	const char *log_path;
	bool leap_at_given;
	bool raw_clock;         /* --raw-clock: time is raw + raw_offset_ns */
	bool next_second;       /* --next-second: a burst names the next epoch */
	int64_t raw_offset_ns;
	bool verbose;
	int flood;              /* enum simgen_flood, or -1: none */
	int64_t flood_ns;       /* how long the flood lasts */
	int64_t flood_after_ns; /* normal stream before the flood */
};

struct sim {
	struct sim_config cfg;
	struct simgen *gen;
	int master;
	int slave;
	char slave_path[PATH_MAX];
	bool link_made;
	FILE *log;
	int64_t char_ns;
	long long seq;
	struct log_ratelimit rl_late;
	struct log_ratelimit rl_write;
	long line_baud;         /* the reader's rate at the last burst */
	/* the burst as the reader's UART receives it, and when */
	unsigned char line[UARTEMU_OUT_MAX(SIMGEN_BURST_MAX)];
	int64_t line_at[UARTEMU_OUT_MAX(SIMGEN_BURST_MAX)];
};

/* The receiver's time: the system clock, or with --raw-clock its own. */
static int64_t sim_now(const struct sim *s)
{
	if (s->cfg.raw_clock) {
		return tu_now(CLOCK_MONOTONIC_RAW) + s->cfg.raw_offset_ns;
	}
	return tu_now(CLOCK_REALTIME);
}

/* What happened to one burst on the wire. */
struct burst_result {
	int64_t actual_ns;      /* first byte handed to write(), 0 if none */
	size_t written;
	int dropped_unread;     /* stale bytes flushed before the burst */
	long line_baud;         /* the reader's rate */
};

static volatile sig_atomic_t stop_signal;

static const char usage_text[] =
	"Usage: gpspps-sim [OPTION]...\n"
	"Simulate a GPS receiver: write NMEA 0183 bursts to a pseudo-terminal\n"
	"at each epoch of the system clock, and print the pty's path.\n"
	"\n"
	"  --pty PATH           also make PATH a symlink to the pty (removed on exit)\n"
	"  --baud N             line speed, 1200-921600 (default 9600)\n"
	"  --talker XX          talker ID (default GP)\n"
	"  --sentences LIST     comma-separated list of RMC, GGA, ZDA, GLL, GNS,\n"
	"                       GSA, GSV, VTG, sent in that order (default RMC,GGA)\n"
	"  --rate HZ            epochs per second: 1, 5 or 10 (default 1)\n"
	"  --decimals N         digits after the seconds in time fields, 0-3\n"
	"                       (default 3)\n"
	"  --delay SECONDS      first byte of a burst after its epoch (default 0.35)\n"
	"  --jitter SECONDS     add a uniform offset in [-SECONDS/2, +SECONDS/2]\n"
	"                       to each delay (default 0)\n"
	"  --seed N             seed of the fault and jitter generator (default 1)\n"
	"  --fault NAME[=RATE]  inject a fault, with probability RATE per epoch\n"
	"                       (repeatable): badsum (0.05), garbage (0.05),\n"
	"                       fixloss (0.02 per second, lasts 2-10 s),\n"
	"                       missing (0.02), rollover (1), leap (no rate)\n"
	"  --leap-at TIME       label of the inserted leap second,\n"
	"                       YYYY-MM-DDTHH:MM:60 (implies --fault leap;\n"
	"                       default: the next UTC midnight)\n"
	"  --raw-clock OFFSET   the receiver's time is CLOCK_MONOTONIC_RAW +\n"
	"                       OFFSET ns (POSIX), not the system clock: steps\n"
	"                       and slews of the system clock do not move it\n"
	"  --next-second        each burst names the epoch after it, as a\n"
	"                       receiver that sends the time of the coming pulse\n"
	"  --flood KIND         a flood at the line rate instead of NMEA:\n"
	"                       random, longline (1 kB lines, no newline), nul,\n"
	"                       dollar (all '$'); then the normal stream\n"
	"  --flood-for DUR      length of the flood (default 60s)\n"
	"  --flood-after DUR    normal stream before the flood (default 0)\n"
	"  --baud-from N:RATE   from epoch N on, send at RATE baud (a receiver\n"
	"                       reconfigured while running)\n"
	"  --count N            stop after N epochs (default 0: until signalled)\n"
	"  --log FILE           write one JSON line per epoch to FILE\n"
	"  --verbose            report each epoch on standard error\n"
	"  --help               show this help and exit\n"
	"  --version            show the version and exit\n";

enum opt_id {
	OPT_PTY = 256, OPT_BAUD, OPT_TALKER, OPT_SENTENCES, OPT_RATE,
	OPT_DECIMALS, OPT_DELAY, OPT_JITTER, OPT_SEED, OPT_FAULT, OPT_LEAP_AT,
	OPT_COUNT, OPT_SWITCH_BAUD, OPT_LOG, OPT_VERBOSE, OPT_HELP, OPT_VERSION,
	OPT_FLOOD, OPT_FLOOD_FOR, OPT_FLOOD_AFTER, OPT_RAW_CLOCK,
	OPT_NEXT_SECOND,
};

static const struct option long_opts[] = {
	{ "pty", required_argument, NULL, OPT_PTY },
	{ "baud", required_argument, NULL, OPT_BAUD },
	{ "talker", required_argument, NULL, OPT_TALKER },
	{ "sentences", required_argument, NULL, OPT_SENTENCES },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "decimals", required_argument, NULL, OPT_DECIMALS },
	{ "delay", required_argument, NULL, OPT_DELAY },
	{ "jitter", required_argument, NULL, OPT_JITTER },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "fault", required_argument, NULL, OPT_FAULT },
	{ "leap-at", required_argument, NULL, OPT_LEAP_AT },
	{ "raw-clock", required_argument, NULL, OPT_RAW_CLOCK },
	{ "next-second", no_argument, NULL, OPT_NEXT_SECOND },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "flood", required_argument, NULL, OPT_FLOOD },
	{ "flood-for", required_argument, NULL, OPT_FLOOD_FOR },
	{ "flood-after", required_argument, NULL, OPT_FLOOD_AFTER },
	{ "baud-from", required_argument, NULL, OPT_SWITCH_BAUD },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static const struct {
	int baud;
	speed_t speed;
} bauds[] = {
	{ 1200, B1200 }, { 2400, B2400 }, { 4800, B4800 }, { 9600, B9600 },
	{ 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
	{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
	{ 921600, B921600 },
};

/* ---- option parsing ---- */

static int parse_ll(const char *s, long long min, long long max,
		    long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* Index in bauds[] of a rate given as text, or -1. */
static int baud_index(const char *arg)
{
	long long v;
	size_t i;

	if (parse_ll(arg, 1, INT_MAX, &v) == 0) {
		for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
			if (bauds[i].baud == v) {
				return (int)i;
			}
		}
	}
	return -1;
}

static int parse_baud(struct sim_config *cfg, const char *arg)
{
	int i = baud_index(arg);

	if (i < 0) {
		log_err("--baud %s: not one of 1200, 2400, 4800, 9600, 19200, "
			"38400, 57600, 115200, 230400, 460800, 921600", arg);
		return -EINVAL;
	}
	cfg->baud = bauds[i].baud;
	cfg->speed = bauds[i].speed;
	return 0;
}

static int parse_talker(struct sim_config *cfg, const char *arg)
{
	if (strlen(arg) != 2) {
		log_err("--talker %s: need two characters, e.g. GP or GN", arg);
		return -EINVAL;
	}
	memcpy(cfg->gen.talker, arg, 3);
	return 0;
}

static int parse_sentences(struct sim_config *cfg, const char *arg)
{
	char err[160];

	if (simgen_parse_sentences(&cfg->gen, arg, err, sizeof(err)) != 0) {
		log_err("--sentences: %s", err);
		return -EINVAL;
	}
	return 0;
}

static int parse_int_opt(const char *name, const char *arg, long long min,
			 long long max, long long *out)
{
	if (parse_ll(arg, min, max, out) != 0) {
		log_err("--%s %s: need an integer in [%lld, %lld]", name, arg,
			min, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_switch_baud(struct sim_config *cfg, const char *arg)
{
	const char *colon = strchr(arg, ':');
	char num[32];
	int i = colon != NULL ? baud_index(colon + 1) : -1;

	if (colon == NULL || (size_t)(colon - arg) >= sizeof(num) || i < 0) {
		log_err("--baud-from %s: need EPOCH:RATE, e.g. 10:38400, with "
			"RATE one of --baud's", arg);
		return -EINVAL;
	}
	memcpy(num, arg, (size_t)(colon - arg));
	num[colon - arg] = '\0';
	if (parse_int_opt("baud-from", num, 0, LLONG_MAX,
			  &cfg->switch_at) != 0) {
		return -EINVAL;
	}
	cfg->switch_baud = bauds[i].baud;
	return 0;
}

static int parse_rate(struct sim_config *cfg, const char *arg)
{
	long long v;

	if (parse_ll(arg, 1, 10, &v) != 0 || (v != 1 && v != 5 && v != 10)) {
		log_err("--rate %s: the rate must be 1, 5 or 10 Hz", arg);
		return -EINVAL;
	}
	cfg->gen.rate_hz = (int)v;
	return 0;
}

static int parse_seconds(const char *name, const char *arg, int64_t *out)
{
	int64_t v;

	if (tu_parse_duration(arg, &v) != 0) {
		log_err("--%s %s: not a duration (seconds, e.g. 0.35 or 350ms)",
			name, arg);
		return -EINVAL;
	}
	if (v < 0) {
		log_err("--%s %s: must not be negative", name, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int parse_seed(struct sim_config *cfg, const char *arg)
{
	char *end;

	errno = 0;
	cfg->gen.seed = strtoull(arg, &end, 0);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-') {
		log_err("--seed %s: need an unsigned integer", arg);
		return -EINVAL;
	}
	return 0;
}

static int parse_fault_rate(const char *name, const char *text, double *rate)
{
	char *end;

	errno = 0;
	*rate = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' ||
	    !(*rate >= 0.0 && *rate <= 1.0)) {
		log_err("--fault %s=%s: the rate must be a number in [0, 1]",
			name, text);
		return -EINVAL;
	}
	return 0;
}

static int parse_fault(struct sim_config *cfg, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char name[16];
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	double rate;
	int f = -1;

	if (len < sizeof(name)) {
		memcpy(name, arg, len);
		name[len] = '\0';
		f = simgen_fault_from_name(name);
	}
	if (f < 0) {
		log_err("--fault %s: unknown fault (badsum, garbage, fixloss, "
			"missing, rollover, leap)", arg);
		return -EINVAL;
	}
	if (f == SIMGEN_FAULT_LEAP) {
		if (eq != NULL) {
			log_err("--fault %s: leap takes no rate", arg);
			return -EINVAL;
		}
		cfg->gen.leap = true;
		return 0;
	}
	rate = simgen_fault_default_rate((enum simgen_fault)f);
	if (eq != NULL && parse_fault_rate(name, eq + 1, &rate) != 0) {
		return -EINVAL;
	}
	cfg->gen.fault_rate[f] = rate;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:60" (optional Z): the leap second ends at the next
 * minute, which is what simgen wants. */
static int parse_leap_at(struct sim_config *cfg, const char *arg)
{
	int y, mo, d, h, mi, sec, n = -1;

	if (sscanf(arg, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi,
		   &sec, &n) != 6 || n < 0 ||
	    !(arg[n] == '\0' || (arg[n] == 'Z' && arg[n + 1] == '\0')) ||
	    !tu_date_valid(y, mo, d) || h > 23 || h < 0 || mi > 59 ||
	    mi < 0 || sec != 60) {
		log_err("--leap-at %s: need YYYY-MM-DDTHH:MM:60, e.g. "
			"2016-12-31T23:59:60", arg);
		return -EINVAL;
	}
	cfg->gen.leap_ns = (tu_days_from_civil(y, mo, d) * TU_SEC_PER_DAY +
			    h * 3600 + mi * 60 + 60) * TU_NS_PER_SEC;
	cfg->gen.leap = true;
	cfg->leap_at_given = true;
	return 0;
}

static int parse_flood(struct sim_config *cfg, const char *arg)
{
	cfg->flood = simgen_flood_from_name(arg);
	if (cfg->flood < 0) {
		log_err("--flood %s: unknown flood (random, longline, nul, "
			"dollar)", arg);
		return -EINVAL;
	}
	return 0;
}

/* One option; returns 0, -EINVAL, or 1 for "exit 0 now". */
static int parse_one(struct sim_config *cfg, int c, const char *arg)
{
	long long v;
	int rc = 0;

	switch (c) {
	case OPT_PTY:
		cfg->pty_link = arg;
		break;
	case OPT_BAUD:
		return parse_baud(cfg, arg);
	case OPT_TALKER:
		return parse_talker(cfg, arg);
	case OPT_SENTENCES:
		return parse_sentences(cfg, arg);
	case OPT_RATE:
		return parse_rate(cfg, arg);
	case OPT_DECIMALS:
		rc = parse_int_opt("decimals", arg, 0, 3, &v);
		if (rc == 0) {
			cfg->gen.decimals = (int)v;
		}
		break;
	case OPT_DELAY:
		return parse_seconds("delay", arg, &cfg->delay_ns);
	case OPT_JITTER:
		return parse_seconds("jitter", arg, &cfg->jitter_ns);
	case OPT_SEED:
		return parse_seed(cfg, arg);
	case OPT_FAULT:
		return parse_fault(cfg, arg);
	case OPT_LEAP_AT:
		return parse_leap_at(cfg, arg);
	case OPT_NEXT_SECOND:
		cfg->next_second = true;
		break;
	case OPT_RAW_CLOCK:
		rc = parse_int_opt("raw-clock", arg, LLONG_MIN, LLONG_MAX,
				   &v);
		if (rc == 0) {
			cfg->raw_clock = true;
			cfg->raw_offset_ns = v;
		}
		break;
	case OPT_COUNT:
		rc = parse_int_opt("count", arg, 0, LLONG_MAX, &cfg->count);
		break;
	case OPT_SWITCH_BAUD:
		return parse_switch_baud(cfg, arg);
	case OPT_LOG:
		cfg->log_path = arg;
		break;
	case OPT_FLOOD:
		return parse_flood(cfg, arg);
	case OPT_FLOOD_FOR:
		return parse_seconds("flood-for", arg, &cfg->flood_ns);
	case OPT_FLOOD_AFTER:
		return parse_seconds("flood-after", arg, &cfg->flood_after_ns);
	case OPT_VERBOSE:
		cfg->verbose = true;
		break;
	case OPT_HELP:
		fputs(usage_text, stdout);
		return 1;
	case OPT_VERSION:
		printf("gpspps-sim %s\n", GPSPPS_VERSION);
		return 1;
	default:
		fputs("Try 'gpspps-sim --help'.\n", stderr);
		return -EINVAL;
	}
	return rc;
}

static void config_defaults(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	simgen_options_init(&cfg->gen);
	cfg->delay_ns = 350 * TU_NS_PER_MS;
	cfg->baud = 9600;
	cfg->speed = B9600;
	cfg->flood = -1;
	cfg->flood_ns = 60 * TU_NS_PER_SEC;
	cfg->switch_at = -1;
}

/*
 * Parse the command line, reporting every bad option before giving up.
 * Returns -1 to go on, or an exit status (0 after --help / --version).
 */
static int parse_args(struct sim_config *cfg, int argc, char **argv)
{
	bool bad = false;
	int c, rc;

	config_defaults(cfg);
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		rc = parse_one(cfg, c, optarg);
		if (rc == 1) {
			return EXIT_SUCCESS;
		}
		bad |= rc != 0;
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		bad = true;
	}
	return bad ? EXIT_USAGE : -1;
}

/* ---- checks that need the generator ---- */

static int check_timing(struct sim *s)
{
	int64_t iv = simgen_interval_ns(s->gen);
	size_t len = simgen_nominal_len(s->gen);
	int64_t burst = (int64_t)len * s->char_ns;

	if (s->cfg.jitter_ns / 2 > s->cfg.delay_ns) {
		log_err("--jitter %.6f s would make the delay %.6f s negative",
			s->cfg.jitter_ns / 1e9, s->cfg.delay_ns / 1e9);
		return -EINVAL;
	}
	if (burst > iv) {
		log_err("a burst of %zu bytes takes %.1f ms at %d baud, longer "
			"than the %.0f ms epoch interval: raise --baud or send "
			"fewer sentences", len, burst / 1e6, s->cfg.baud, iv / 1e6);
		return -EINVAL;
	}
	if (s->cfg.delay_ns + s->cfg.jitter_ns / 2 + burst > iv) {
		log_warn("delay %.3f s + burst %.1f ms is longer than the %.0f ms "
			 "epoch interval: bursts end after the next epoch began",
			 s->cfg.delay_ns / 1e9, burst / 1e6, iv / 1e6);
	}
	return 0;
}

static int make_generator(struct sim *s)
{
	char err[160];

	if (s->cfg.gen.leap && !s->cfg.leap_at_given) {
		int64_t day = TU_SEC_PER_DAY * TU_NS_PER_SEC;

		s->cfg.gen.leap_ns = (tu_floor_div(sim_now(s), day) +
				      1) * day;
	}
	s->gen = simgen_create(&s->cfg.gen, err, sizeof(err));
	if (s->gen == NULL) {
		log_err("%s", err);
		return -EINVAL;
	}
	s->char_ns = 10 * TU_NS_PER_SEC / s->cfg.baud;
	return check_timing(s);
}

/* ---- the pty and its symlink ---- */

static int set_line(int fd, speed_t speed)
{
	struct termios t;

	if (tcgetattr(fd, &t) != 0) {
		return -errno;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	if (cfsetispeed(&t, speed) != 0 || cfsetospeed(&t, speed) != 0 ||
	    tcsetattr(fd, TCSANOW, &t) != 0) {
		return -errno;
	}
	return 0;
}

static int pty_open(struct sim *s)
{
	int rc;

	s->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s->master < 0 || grantpt(s->master) != 0 ||
	    unlockpt(s->master) != 0 ||
	    fcntl(s->master, F_SETFL, O_NONBLOCK) != 0 ||
	    ptsname_r(s->master, s->slave_path, sizeof(s->slave_path)) != 0) {
		rc = -errno;
		log_err("cannot create a pseudo-terminal: %s", strerror(-rc));
		return rc;
	}
	s->slave = open(s->slave_path, O_RDWR | O_NOCTTY | O_NONBLOCK |
			O_CLOEXEC);
	if (s->slave < 0) {
		rc = -errno;
		log_err("%s: %s", s->slave_path, strerror(-rc));
		return rc;
	}
	rc = set_line(s->slave, s->cfg.speed);
	if (rc != 0) {
		log_err("%s: cannot set raw mode at %d baud: %s",
			s->slave_path, s->cfg.baud, strerror(-rc));
	}
	return rc;
}

static int link_create(const char *path, const char *target)
{
	char tmp[PATH_MAX], old[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (lstat(path, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			log_err("--pty %s: exists and is not a symlink; not "
				"replacing it", path);
			return -EEXIST;
		}
		n = readlink(path, old, sizeof(old) - 1);
		old[n < 0 ? 0 : n] = '\0';
		log_notice("replacing symlink %s -> %s", path, old);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path,
		     (long)getpid()) >= (int)sizeof(tmp)) {
		log_err("--pty %s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* A new link renamed over the old one: the path never dangles. */
	if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
		int rc = -errno;

		log_err("--pty %s: %s", path, strerror(-rc));
		unlink(tmp);
		return rc;
	}
	return 0;
}

/* Remove the link only while it still names our slave: another simulator
 * may have replaced it since. */
static void link_remove(const char *path, const char *target)
{
	char cur[PATH_MAX];
	ssize_t n = readlink(path, cur, sizeof(cur) - 1);

	if (n < 0) {
		return;
	}
	cur[n] = '\0';
	if (strcmp(cur, target) == 0 && unlink(path) != 0) {
		log_warn("cannot remove %s: %s", path, strerror(errno));
	}
}

/* Best effort: a real-time priority and locked memory keep other load from
 * delaying a burst (the spin is bounded, so nothing else starves). */
static void raise_priority(void)
{
	struct sched_param sp;

	memset(&sp, 0, sizeof(sp));
	sp.sched_priority = 10;
	if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) {
		log_info("no real-time priority (%s): timing may suffer under "
			 "load", strerror(errno));
	}
	if (mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
		log_info("mlockall: %s", strerror(errno));
	}
}

/* ---- signals ---- */

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void signals_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a signal must end clock_nanosleep at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* ---- timing ---- */

/*
 * --raw-clock: no timer runs on CLOCK_MONOTONIC_RAW, so sleep on
 * CLOCK_MONOTONIC for 7/8 of what is left until within a millisecond
 * (chronyd slews that clock by 8.3 % at most), then the rest.
 */
static void sleep_raw(const struct sim *s, int64_t t)
{
	struct timespec ts;
	int64_t left;

	for (;;) {
		left = t - sim_now(s);
		if (stop_signal || left <= 0) {
			return;
		}
		if (left > TU_NS_PER_MS) {
			left -= left / 8;
		}
		ts = tu_ns_to_ts(left);
		clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	}
}

/*
 * Sleep until the receiver's time reaches t (absolute, so a slewed or
 * stepped system clock is followed).  With spin, sleep until SPIN_NS
 * before and busy-wait the rest.  Returns false when a signal asked us to
 * stop.
 */
static bool wait_until(const struct sim *s, int64_t t, bool spin)
{
	struct timespec ts = tu_ns_to_ts(spin ? t - SPIN_NS : t);
	int64_t spin_end;
	int rc;

	if (s->cfg.raw_clock) {
		sleep_raw(s, spin ? t - SPIN_NS : t);
	} else {
		do {
			rc = clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME,
					     &ts, NULL);
		} while (rc == EINTR && !stop_signal);
	}
	spin_end = tu_now(CLOCK_MONOTONIC) + 2 * SPIN_NS;
	while (spin && !stop_signal && sim_now(s) < t &&
	       tu_now(CLOCK_MONOTONIC) < spin_end) {
		/* busy wait */
	}
	return !stop_signal;
}

/* The first slot whose burst can still start on time after now. */
static int64_t next_slot(const struct sim *s, int64_t now)
{
	int64_t iv = simgen_interval_ns(s->gen);
	int64_t earliest = now - s->cfg.delay_ns + s->cfg.jitter_ns / 2 +
			   SPIN_NS + START_MARGIN_NS;

	return (tu_floor_div(earliest, iv) + 1) * iv;
}

/* Keep the schedule unless the system clock jumped (or we stalled) by
 * more than an interval; then resume at the next slot. */
static int64_t check_schedule(struct sim *s, int64_t slot)
{
	int64_t iv = simgen_interval_ns(s->gen);
	int64_t now = sim_now(s);
	int64_t lead = slot + s->cfg.delay_ns - now;

	/* normally 0 < lead <= iv + jitter/2 + a few ms */
	if (lead > -iv && lead <= 2 * iv + s->cfg.jitter_ns) {
		return slot;
	}
	log_warn("system clock jumped or the simulator stalled (next burst "
		 "due in %+.3f s): resuming at the next epoch", lead / 1e9);
	return next_slot(s, now);
}

/* ---- the line ---- */

/* Read and drop what the reader wrote (echo included). */
static void drain_master(struct sim *s)
{
	char buf[256];

	while (read(s->master, buf, sizeof(buf)) > 0) {
		/* discard */
	}
}

static int flush_unread(struct sim *s)
{
	int pending = 0;

	if (ioctl(s->slave, FIONREAD, &pending) != 0 || pending <= 0) {
		return 0;
	}
	if (tcflush(s->slave, TCIFLUSH) != 0) {
		log_limited(&s->rl_write, LOG_LVL_WARN, "%s: tcflush: %s",
			    s->slave_path, strerror(errno));
	}
	return pending;
}

static size_t line_write(struct sim *s, const char *p, size_t n)
{
	ssize_t w;

	do {
		w = write(s->master, p, n);
	} while (w < 0 && errno == EINTR && !stop_signal);
	if (w < 0) {
		log_limited(&s->rl_write, LOG_LVL_WARN,
			    "write to pty: %s: dropping %zu bytes",
			    strerror(errno), n);
		return 0;
	}
	return (size_t)w;
}

/* A flood chunk, without the burst's logging: a full pty is expected. */
static size_t flood_write(struct sim *s, const char *p, size_t n)
{
	ssize_t w = write(s->master, p, n);

	return w > 0 ? (size_t)w : 0;
}

static void flood_sleep(int64_t mono)
{
	struct timespec ts = tu_ns_to_ts(mono);

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR && !stop_signal) {
	}
}

/* The rate the reader set on the slave (--baud when it is not one of
 * ours). */
static long reader_baud(const struct sim *s)
{
	struct termios t;
	speed_t sp;
	size_t i;

	if (tcgetattr(s->slave, &t) != 0) {
		return s->cfg.baud;
	}
	sp = cfgetispeed(&t) != B0 ? cfgetispeed(&t) : cfgetospeed(&t);
	for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		if (bauds[i].speed == sp) {
			return bauds[i].baud;
		}
	}
	return s->cfg.baud;
}

static void note_line_baud(struct sim *s, long baud)
{
	if (baud == s->line_baud) {
		return;
	}
	if (baud != s->cfg.baud) {
		log_notice("the reader set %ld baud, the receiver sends at %d: "
			   "sending what a UART at %ld baud would receive",
			   baud, s->cfg.baud, baud);
	} else if (s->line_baud != 0) {
		log_notice("the reader set %ld baud: the receiver's own rate",
			   baud);
	}
	s->line_baud = baud;
}

/* The burst as a reader at baud receives it, into s->line, each byte's
 * earliest time (ns after the first) into s->line_at; returns its
 * length. */
static size_t line_bytes(struct sim *s, const char *buf, size_t n, long baud)
{
	size_t i;
	int k;

	if (baud == s->cfg.baud) {
		memcpy(s->line, buf, n);
		for (i = 0; i < n; i++) {
			s->line_at[i] = (int64_t)i * s->char_ns;
		}
		return n;
	}
	k = uartemu_resample((const unsigned char *)buf, n, s->cfg.baud, baud,
			     s->line, s->line_at, sizeof(s->line));
	return k < 0 ? 0 : (size_t)k;
}

/* Byte i of s->line may be readable no earlier than due + line_at[i]; a
 * chunk (about CHUNK_NS of the line) goes out when its last byte is due,
 * the first byte alone and on time. */
static void write_burst(struct sim *s, size_t len, int64_t due,
			struct burst_result *r)
{
	size_t i = 0, n;

	while (i < len) {
		n = 1;
		while (i > 0 && i + n < len &&
		       s->line_at[i + n] - s->line_at[i] < CHUNK_NS) {
			n++;
		}
		if (!wait_until(s, due + s->line_at[i + n - 1], i == 0)) {
			return;
		}
		if (i == 0) {
			r->actual_ns = sim_now(s);
		}
		r->written += line_write(s, (const char *)s->line + i, n);
		i += n;
	}
}

/* ---- the epoch log ---- */

static json_t *faults_json(unsigned faults)
{
	json_t *a = json_array();
	int f;

	for (f = 0; f < SIMGEN_FAULT_COUNT; f++) {
		if (faults & SIMGEN_FBIT(f)) {
			json_array_append_new(a, json_string(
				simgen_fault_name((enum simgen_fault)f)));
		}
	}
	return a;
}

static json_t *epoch_json(const struct sim *s, const struct simgen_epoch *ep,
			  int64_t due, const struct burst_result *r)
{
	char label[40];
	json_t *o = json_object();

	tu_format_iso(ep->label_ns, ep->leap, label, sizeof(label));
	json_object_set_new(o, "seq", json_integer(s->seq));
	json_object_set_new(o, "slot_ns", json_integer(ep->slot_ns));
	json_object_set_new(o, "label", json_string(label));
	json_object_set_new(o, "label_ns", json_integer(ep->label_ns));
	json_object_set_new(o, "leap", json_boolean(ep->leap));
	json_object_set_new(o, "intended_ns", json_integer(due));
	json_object_set_new(o, "actual_ns", r->actual_ns ?
			    json_integer(r->actual_ns) : json_null());
	json_object_set_new(o, "bytes", json_integer((json_int_t)ep->len));
	json_object_set_new(o, "written", json_integer((json_int_t)r->written));
	json_object_set_new(o, "line_baud", json_integer(r->line_baud));
	json_object_set_new(o, "faults", faults_json(ep->faults));
	if (ep->badsum_index >= 0) {
		json_object_set_new(o, "badsum_sentence",
				    json_integer(ep->badsum_index));
	}
	json_object_set_new(o, "dropped_unread",
			    json_integer(r->dropped_unread));
	return o;
}

static void log_epoch(struct sim *s, const struct simgen_epoch *ep,
		      int64_t due, const struct burst_result *r)
{
	char label[40];
	json_t *o;

	tu_format_iso(ep->label_ns, ep->leap, label, sizeof(label));
	log_info("epoch %s: %zu bytes, first byte %+.1f us from its time, "
		 "faults 0x%x", label, r->written,
		 r->actual_ns ? (r->actual_ns - due) / 1e3 : 0.0, ep->faults);
	if (r->actual_ns - due > TU_NS_PER_MS) {
		log_limited(&s->rl_late, LOG_LVL_WARN, "burst %s late by %.3f ms",
			    label, (r->actual_ns - due) / 1e6);
	}
	if (s->log == NULL) {
		return;
	}
	o = epoch_json(s, ep, due, r);
	if (json_dumpf(o, s->log, JSON_COMPACT) != 0 || fputc('\n', s->log) == EOF ||
	    fflush(s->log) != 0) {
		log_limited(&s->rl_write, LOG_LVL_WARN, "%s: write failed",
			    s->cfg.log_path);
	}
	json_decref(o);
}

/* ---- main loop ---- */

static void run_epoch(struct sim *s, int64_t slot)
{
	char buf[SIMGEN_BURST_MAX];
	struct simgen_epoch ep;
	struct burst_result r = { 0, 0, 0, 0 };
	int64_t due;
	int n;

	n = simgen_epoch(s->gen, s->cfg.next_second ?
			 slot + simgen_interval_ns(s->gen) : slot,
			 buf, sizeof(buf), &ep);
	due = slot + s->cfg.delay_ns +
	      simgen_jitter_ns(s->gen, slot, s->cfg.jitter_ns);
	if (!wait_until(s, due - SPIN_NS - TU_NS_PER_MS, false)) {
		return;
	}
	drain_master(s);
	r.dropped_unread = flush_unread(s);
	r.line_baud = reader_baud(s);
	note_line_baud(s, r.line_baud);
	if (n > 0) {
		write_burst(s, line_bytes(s, buf, (size_t)n, r.line_baud), due,
			    &r);
	} else if (!wait_until(s, due, false)) {
		return;
	}
	log_epoch(s, &ep, due, &r);
}

/* Give the reader time to take the last burst: closing the master hangs
 * the slave up and drops what it has not read.  Written bytes reach the
 * slave's queue through the tty layer's deferred work, so the queue is
 * only trusted to be empty after LINGER_MIN_NS. */
static void linger(struct sim *s)
{
	int64_t start = tu_now(CLOCK_MONOTONIC);
	int64_t now = start;
	int pending = 0;

	while (!stop_signal && now - start < LINGER_NS) {
		if (now - start >= LINGER_MIN_NS &&
		    (ioctl(s->slave, FIONREAD, &pending) != 0 || pending == 0)) {
			break;
		}
		usleep(5000);
		now = tu_now(CLOCK_MONOTONIC);
	}
}

/* The flood: bytes at the line rate in FLOOD_TICK_NS chunks for
 * --flood-for; what the reader does not take in time is dropped when the
 * pty is full, as a UART overruns. */
static void flood_run(struct sim *s)
{
	struct simgen_flood_state f;
	char buf[FLOOD_BUF];
	size_t n = (size_t)(FLOOD_TICK_NS / s->char_ns);
	int64_t start = tu_now(CLOCK_MONOTONIC), t = start;
	uint64_t sent = 0, dropped = 0;

	if (n > sizeof(buf)) {
		n = sizeof(buf);
	}
	simgen_flood_init(&f, (enum simgen_flood)s->cfg.flood, s->cfg.gen.seed);
	log_notice("flood %s at %d baud for %.1f s", simgen_flood_name(
		   (enum simgen_flood)s->cfg.flood), s->cfg.baud,
		   s->cfg.flood_ns / 1e9);
	while (!stop_signal && t - start < s->cfg.flood_ns) {
		size_t w;

		simgen_flood_fill(&f, buf, n);
		drain_master(s);
		w = flood_write(s, buf, n);
		sent += w;
		dropped += n - w;
		t += FLOOD_TICK_NS;
		flood_sleep(t);
	}
	log_notice("flood over: %llu bytes written, %llu dropped (pty full); "
		   "the NMEA stream follows", (unsigned long long)sent,
		   (unsigned long long)dropped);
}

/* The flood when it is due (once); the next slot after it, or slot. */
static int64_t flood_if_due(struct sim *s, int64_t start, int64_t slot)
{
	if (s->cfg.flood < 0 ||
	    tu_now(CLOCK_MONOTONIC) - start < s->cfg.flood_after_ns) {
		return slot;
	}
	flood_run(s);
	s->cfg.flood = -1;
	return next_slot(s, sim_now(s));
}

/* --baud-from: the receiver was told to send at another rate. */
static void switch_baud(struct sim *s)
{
	log_notice("epoch %lld: the receiver now sends at %d baud (was %d)",
		   s->seq, s->cfg.switch_baud, s->cfg.baud);
	s->cfg.baud = s->cfg.switch_baud;
	s->char_ns = 10 * TU_NS_PER_SEC / s->cfg.baud;
	s->line_baud = 0;
}

static int sim_run(struct sim *s)
{
	int64_t iv = simgen_interval_ns(s->gen);
	int64_t start = tu_now(CLOCK_MONOTONIC);
	int64_t slot = flood_if_due(s, start, 0);

	if (slot == 0) {
		slot = next_slot(s, sim_now(s));
	}
	while (!stop_signal && (s->cfg.count == 0 || s->seq < s->cfg.count)) {
		slot = flood_if_due(s, start, slot);
		if (s->seq == s->cfg.switch_at) {
			switch_baud(s);
		}
		slot = check_schedule(s, slot);
		run_epoch(s, slot);
		s->seq++;
		slot += iv;
	}
	if (!stop_signal) {
		linger(s);
	}
	return EXIT_SUCCESS;
}

static int open_log(struct sim *s)
{
	if (s->cfg.log_path == NULL) {
		return 0;
	}
	s->log = fopen(s->cfg.log_path, "we");
	if (s->log == NULL) {
		int rc = -errno;

		log_err("--log %s: %s", s->cfg.log_path, strerror(-rc));
		return rc;
	}
	return 0;
}

static int sim_setup(struct sim *s)
{
	if (make_generator(s) != 0) {
		return EXIT_USAGE;
	}
	if (open_log(s) != 0 || pty_open(s) != 0) {
		return EXIT_FAILURE;
	}
	if (s->cfg.pty_link != NULL) {
		if (link_create(s->cfg.pty_link, s->slave_path) != 0) {
			return EXIT_FAILURE;
		}
		s->link_made = true;
	}
	raise_priority();
	printf("%s\n", s->slave_path);
	fflush(stdout);
	log_info("%s: %d baud, %d Hz, delay %.3f s, jitter %.3f s, seed %llu",
		 s->slave_path, s->cfg.baud, s->cfg.gen.rate_hz,
		 s->cfg.delay_ns / 1e9, s->cfg.jitter_ns / 1e9,
		 (unsigned long long)s->cfg.gen.seed);
	return 0;
}

static void sim_teardown(struct sim *s)
{
	if (s->link_made) {
		link_remove(s->cfg.pty_link, s->slave_path);
	}
	if (s->slave >= 0) {
		close(s->slave);
	}
	if (s->master >= 0) {
		close(s->master);
	}
	if (s->log != NULL) {
		fclose(s->log);
	}
	simgen_destroy(s->gen);
}

static void sim_init(struct sim *s)
{
	memset(s, 0, sizeof(*s));
	s->master = -1;
	s->slave = -1;
	s->rl_late.interval_ns = 60 * TU_NS_PER_SEC;
	s->rl_late.burst = 5;
	s->rl_write.interval_ns = 60 * TU_NS_PER_SEC;
	s->rl_write.burst = 5;
}

int main(int argc, char **argv)
{
	struct sim s;
	int rc;

	log_init("gpspps-sim", LOG_LVL_NOTICE, false);
	sim_init(&s);
	rc = parse_args(&s.cfg, argc, argv);
	if (rc >= 0) {
		return rc;
	}
	if (s.cfg.verbose) {
		log_set_level(LOG_LVL_INFO);
	}
	signals_setup();
	rc = sim_setup(&s);
	if (rc == 0) {
		rc = sim_run(&s);
	}
	sim_teardown(&s);
	if (stop_signal) {
		log_info("stopped by signal %d", (int)stop_signal);
	}
	return rc;
}
