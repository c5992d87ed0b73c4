/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conf.c - see conf.h. */
#include "conf.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "pps.h"
#include "serial.h"
#include "sock.h"
#include "share.h"
#include "timeutil.h"

enum conf_type { CT_STR, CT_LONG, CT_BAUD, CT_DUR, CT_AUTODUR, CT_BOOL,
		 CT_EDGE, CT_PPS, CT_LISTEN, CT_TCP };

struct conf_key {
	const char *name;
	enum conf_type type;
	size_t off;
	const char *def;      /* default, as text */
	int64_t min, max;     /* CT_LONG, CT_DUR (ns) */
	const char *help;
};

#define OFF(f) offsetof(struct gpsppsd_config, f)
#define MS TU_NS_PER_MS
#define SEC TU_NS_PER_SEC

static const struct conf_key conf_keys[] = {
	{ "device", CT_STR, OFF(device), "/dev/serial0", 0, 0,
	  "serial port of the receiver's NMEA output" },
	{ "baud", CT_BAUD, OFF(baud), "9600", 4800, 921600,
	  "serial rate, 4800 to 921600, or auto (find it, and again when "
	  "it changes)" },
	{ "pps", CT_PPS, OFF(pps), "none", 0, 0,
	  "PPS input: none, or KIND[:ARG] (see PPS inputs below)" },
	{ "pps-edge", CT_EDGE, OFF(pps_edge), "rising", 0, 0,
	  "edge on the second: rising, falling or auto" },
	{ "pps-socket", CT_STR, OFF(pps_socket), GPSPPS_RUNDIR "/pps.sock", 0, 0,
	  "chronyd SOCK refclock for PPS-paired samples" },
	{ "nmea-socket", CT_STR, OFF(nmea_socket), GPSPPS_RUNDIR "/nmea.sock", 0, 0,
	  "chronyd SOCK refclock for NMEA timing samples" },
	{ "status-socket", CT_LISTEN, OFF(status_socket),
	  GPSPPS_RUNDIR "/status.sock", 0, 0,
	  "Unix socket answering status and watch requests (gpsppsctl), "
	  "or none" },
	{ "nmea-samples", CT_BOOL, OFF(nmea_samples), "yes", 0, 0,
	  "send NMEA timing samples (yes/no)" },
	{ "window-min", CT_DUR, OFF(window_min_ns), "0", -SEC, SEC,
	  "earliest burst start after its edge" },
	{ "window-max", CT_DUR, OFF(window_max_ns), "0.95", 0, SEC - 1,
	  "latest burst start after its edge" },
	{ "next-second", CT_BOOL, OFF(next_second), "no", 0, 0,
	  "receiver names the next pulse's second before it (yes/no)" },
	{ "min-valid", CT_LONG, OFF(min_valid), "3", 1, 600,
	  "valid epochs in a row needed before the first sample" },
	{ "guard", CT_DUR, OFF(guard_ns), "0.1", 1000, SEC / 2,
	  "offset jump that holds a pairing back until confirmed" },
	{ "confirm", CT_LONG, OFF(confirm), "3", 2, 60,
	  "agreeing pairings that confirm a jump" },
	{ "idle-flush", CT_DUR, OFF(idle_flush_ns), "0.05", MS, SEC / 2,
	  "line idle time that ends an epoch's burst" },
	{ "char-time", CT_AUTODUR, OFF(char_time_ns), "auto", 0, 10 * MS,
	  "time of one character, to date bytes within a read: auto "
	  "(from --baud on a UART, 0 on USB CDC and ptys) or a duration" },
	{ "rollover-floor", CT_STR, OFF(rollover_floor),
	  GPSPPS_ROLLOVER_FLOOR_DATE, 0, 0,
	  "receiver dates before this YYYY-MM-DD are a GPS week-number "
	  "rollover: moved 1024 weeks forward" },
	{ "sched-priority", CT_LONG, OFF(sched_priority), "0", 0, 99,
	  "SCHED_FIFO real-time priority 1 to 99, as chronyd -P "
	  "(0: normal scheduling)" },
	{ "mlockall", CT_BOOL, OFF(lock_memory), "no", 0, 0,
	  "lock the daemon's memory against paging (yes/no)" },
	{ "debug", CT_BOOL, OFF(debug), "no", 0, 0,
	  "log debug messages (yes/no)" },
	{ "state-directory", CT_STR, OFF(state_directory), GPSPPS_STATEDIR,
	  0, 0, "kept across restarts: the last baud rate that worked" },
	{ "share-pty", CT_STR, OFF(share_pty), "none", 0, 0,
	  "re-export the receiver's bytes on a pty linked here "
	  "(e.g. /run/gpspps/gps0, for gpsd), or none" },
	{ "share-tcp", CT_TCP, OFF(share_tcp), "none", 0, 0,
	  "re-export them to TCP clients on ADDR:PORT (PORT alone: "
	  "127.0.0.1; ADDR alone: port 10110), or none" },
};

#define N_KEYS ((int)(sizeof(conf_keys) / sizeof(conf_keys[0])))

/* Where each key got its value ("FILE:LINE", "--KEY"; "" = default), for
 * the cross-field errors of conf_validate.  A process reads one
 * configuration, so this lives here rather than in the config struct. */
static char conf_origin[N_KEYS][CONF_PATH_MAX + 16];

static const struct conf_key *find_key(const char *name)
{
	int i;

	for (i = 0; i < N_KEYS; i++) {
		if (strcmp(conf_keys[i].name, name) == 0) {
			return &conf_keys[i];
		}
	}
	return NULL;
}

static int parse_bool(const char *v, bool *b)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -1;
}

static int parse_edge(const char *v, long *edge)
{
	if (strcmp(v, "rising") == 0 || strcmp(v, "assert") == 0) {
		*edge = PPS_EDGE_RISING;
	} else if (strcmp(v, "falling") == 0 || strcmp(v, "clear") == 0) {
		*edge = PPS_EDGE_FALLING;
	} else if (strcmp(v, "auto") == 0) {
		*edge = PPS_EDGE_AUTO;
	} else {
		return -1;
	}
	return 0;
}

static int set_long(const struct conf_key *k, void *field, const char *v,
		    char *msg, size_t msglen)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0') {
		snprintf(msg, msglen, "%s: \"%s\" is not a whole number", k->name, v);
		return -1;
	}
	if (n < k->min || n > k->max) {
		snprintf(msg, msglen, "%s: %ld is out of range %lld..%lld", k->name,
			 n, (long long)k->min, (long long)k->max);
		return -1;
	}
	*(long *)field = n;
	return 0;
}

/* A rejected rate leaves the field as it was. */
static int set_baud(const struct conf_key *k, void *field, const char *v,
		    char *msg, size_t msglen)
{
	long baud;

	if (strcmp(v, "auto") == 0) {
		*(long *)field = 0;
		return 0;
	}
	if (set_long(k, &baud, v, msg, msglen) < 0 ||
	    !serial_baud_valid(baud)) {
		snprintf(msg, msglen, "baud: \"%s\" is not auto or a standard "
			 "rate (4800, 9600, 19200, 38400, 57600, 115200, "
			 "230400, 460800, 921600)", v);
		return -1;
	}
	*(long *)field = baud;
	return 0;
}

static int set_dur(const struct conf_key *k, void *field, const char *v,
		   char *msg, size_t msglen)
{
	int64_t ns;

	if (tu_parse_duration(v, &ns) < 0) {
		snprintf(msg, msglen, "%s: \"%s\" is not a duration (e.g. 0.35, "
			 "350ms)", k->name, v);
		return -1;
	}
	if (ns < k->min || ns > k->max) {
		snprintf(msg, msglen, "%s: %s is out of range %.9g..%.9g s",
			 k->name, v, (double)k->min / 1e9, (double)k->max / 1e9);
		return -1;
	}
	*(int64_t *)field = ns;
	return 0;
}

static int set_str(const struct conf_key *k, void *field, const char *v,
		   char *msg, size_t msglen)
{
	if (*v == '\0' || strlen(v) >= CONF_PATH_MAX) {
		snprintf(msg, msglen, "%s: value empty or too long", k->name);
		return -1;
	}
	memcpy(field, v, strlen(v) + 1);
	return 0;
}

/* "none" or KIND[:ARG] with KIND compiled in; the backend checks ARG when
 * it opens the source.  A kind not built is refused with the reason. */
static int set_pps(const struct conf_key *k, void *field, const char *v,
		   char *msg, size_t msglen)
{
	const char *arg;
	char err[256];
	size_t len;
	int i;

	if (strcmp(v, "none") == 0) {
		return set_str(k, field, v, msg, msglen);
	}
	if (pps_lookup(v, &arg) != NULL) {
		/* The backend's own argument check, which opens nothing:
		 * a malformed argument is an error of this line. */
		if (pps_check(v, err, sizeof(err)) < 0) {
			snprintf(msg, msglen, "%s: %s", k->name, err);
			return -1;
		}
		return set_str(k, field, v, msg, msglen);
	}
	len = (size_t)snprintf(msg, msglen, "%s: unknown PPS input \"%s\" "
			       "(built in: none", k->name, v);
	for (i = 0; pps_backends[i] != NULL && len < msglen; i++) {
		if (pps_backends[i]->not_built == NULL) {
			len += (size_t)snprintf(msg + len, msglen - len,
						", %s", pps_backends[i]->kind);
		}
	}
	if (len < msglen) {
		snprintf(msg + len, msglen - len, ")");
	}
	return -1;
}

/* "none", or a path a Unix stream socket can be bound to. */
static int set_listen(const struct conf_key *k, void *field, const char *v,
		      char *msg, size_t msglen)
{
	/* sizeof(sun_path) - 1 */
	if (strcmp(v, "none") != 0 && strlen(v) > 107) {
		/* %.4095s: bounded, or gcc warns that a 32-bit int could
		 * overflow (-Wformat-truncation, armhf) */
		snprintf(msg, msglen, "%s: %.4095s is longer than 107 bytes, "
			 "the limit of a Unix socket's path", k->name, v);
		return -1;
	}
	return set_str(k, field, v, msg, msglen);
}

static int set_tcp(const struct conf_key *k, void *field, const char *v,
		   char *msg, size_t msglen)
{
	struct share_addr a;
	char err[200];

	if (strcmp(v, "none") != 0 &&
	    share_parse_tcp(v, &a, err, sizeof(err)) < 0) {
		snprintf(msg, msglen, "%s: %s", k->name, err);
		return -1;
	}
	return set_str(k, field, v, msg, msglen);
}

static int set_value(const struct conf_key *k, struct gpsppsd_config *cfg,
		     const char *v, char *msg, size_t msglen)
{
	void *field = (char *)cfg + k->off;

	switch (k->type) {
	case CT_STR:
		return set_str(k, field, v, msg, msglen);
	case CT_PPS:
		return set_pps(k, field, v, msg, msglen);
	case CT_LISTEN:
		return set_listen(k, field, v, msg, msglen);
	case CT_TCP:
		return set_tcp(k, field, v, msg, msglen);
	case CT_LONG:
		return set_long(k, field, v, msg, msglen);
	case CT_BAUD:
		return set_baud(k, field, v, msg, msglen);
	case CT_AUTODUR:
		if (strcmp(v, "auto") == 0) {
			*(int64_t *)field = -1;
			return 0;
		}
		return set_dur(k, field, v, msg, msglen);
	case CT_DUR:
		return set_dur(k, field, v, msg, msglen);
	case CT_BOOL:
		if (parse_bool(v, field) < 0) {
			snprintf(msg, msglen, "%s: \"%s\" is not yes or no", k->name, v);
			return -1;
		}
		return 0;
	case CT_EDGE:
		if (parse_edge(v, field) < 0) {
			snprintf(msg, msglen, "%s: \"%s\" is not rising, falling "
				 "or auto", k->name, v);
			return -1;
		}
		return 0;
	}
	return -1;
}

/* Set key from text; origin is "FILE:LINE", or NULL for the option. */
static int set_from(struct gpsppsd_config *cfg, const char *key,
		    const char *value, const char *origin, char *msg,
		    size_t msglen)
{
	const struct conf_key *k = find_key(key);
	char *o;

	if (k == NULL) {
		snprintf(msg, msglen, "unknown key \"%s\"", key);
		return -1;
	}
	if (set_value(k, cfg, value, msg, msglen) < 0) {
		return -1;
	}
	o = conf_origin[k - conf_keys];
	if (origin != NULL) {
		snprintf(o, sizeof(conf_origin[0]), "%s", origin);
	} else {
		snprintf(o, sizeof(conf_origin[0]), "--%s", k->name);
	}
	return 0;
}

int conf_set(struct gpsppsd_config *cfg, const char *key, const char *value,
	     char *msg, size_t msglen)
{
	return set_from(cfg, key, value, NULL, msg, msglen);
}

static const char *origin_of(const char *key)
{
	const struct conf_key *k = find_key(key);
	const char *o = k != NULL ? conf_origin[k - conf_keys] : "";

	return *o != '\0' ? o : "default";
}

void conf_defaults(struct gpsppsd_config *cfg)
{
	char msg[256];
	int i;

	memset(cfg, 0, sizeof(*cfg));
	memset(conf_origin, 0, sizeof(conf_origin));
	for (i = 0; i < N_KEYS; i++) {
		if (set_value(&conf_keys[i], cfg, conf_keys[i].def, msg,
			      sizeof(msg)) < 0) {
			abort();   /* a bad default is a programming error */
		}
	}
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s)) {
		s++;
	}
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1])) {
		*--e = '\0';
	}
	return s;
}

/* Parse one line; returns 0 or -1 with msg set. */
static int conf_line(struct gpsppsd_config *cfg, char *line,
		     const char *origin, char *msg, size_t msglen)
{
	char *hash = strchr(line, '#');
	char *key, *value;

	if (hash != NULL) {
		*hash = '\0';
	}
	key = trim(line);
	if (*key == '\0') {
		return 0;
	}
	value = key + strcspn(key, " \t");
	if (*value == '\0') {
		snprintf(msg, msglen, "\"%s\" has no value", key);
		return -1;
	}
	*value++ = '\0';
	return set_from(cfg, key, trim(value), origin, msg, msglen);
}

/* One line as read (len bytes, maybe with its newline): 0, or -1 with
 * msg set.  Length and NUL bytes are checked here, as getline sees them. */
static int conf_raw_line(struct gpsppsd_config *cfg, char *line, size_t len,
			 const char *origin, char *msg, size_t msglen)
{
	if (len > 0 && line[len - 1] == '\n') {
		line[--len] = '\0';
	}
	if (len > CONF_LINE_MAX) {
		snprintf(msg, msglen, "line too long (over %d bytes)",
			 CONF_LINE_MAX);
		return -1;
	}
	if (memchr(line, '\0', len) != NULL) {
		snprintf(msg, msglen, "line contains a NUL byte (not a text "
			 "file?)");
		return -1;
	}
	return conf_line(cfg, line, origin, msg, msglen);
}

int conf_load_stream(struct gpsppsd_config *cfg, FILE *in, const char *name,
		     FILE *err)
{
	char msg[512], origin[sizeof(conf_origin[0])];
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, errors = 0;

	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%d", name, lineno);
		if (conf_raw_line(cfg, line, (size_t)len, origin, msg,
				  sizeof(msg)) < 0) {
			fprintf(err, "%s:%d: %s\n", name, lineno, msg);
			errors++;
		}
	}
	if (ferror(in)) {
		fprintf(err, "%s: cannot read: %s\n", name, strerror(errno));
		errors++;
	}
	free(line);
	return errors;
}

int conf_load_file(struct gpsppsd_config *cfg, const char *path,
		   bool missing_ok, FILE *err)
{
	FILE *f = fopen(path, "r");
	int errors;

	if (f == NULL) {
		if (missing_ok && errno == ENOENT) {
			return 0;
		}
		fprintf(err, "%s: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	errors = conf_load_stream(cfg, f, path, err);
	fclose(f);
	return errors;
}

int conf_floor_s(const struct gpsppsd_config *cfg, int64_t *floor_s)
{
	int y, m, d, n = 0;

	if (sscanf(cfg->rollover_floor, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 ||
	    cfg->rollover_floor[n] != '\0' || y < 1980 || y > 2200 ||
	    m < 1 || m > 12 || d < 1 || d > 31) {
		return -EINVAL;
	}
	*floor_s = tu_days_from_civil(y, m, d) * TU_SEC_PER_DAY;
	return 0;
}

int conf_validate(const struct gpsppsd_config *cfg, FILE *err)
{
	int errors = 0;
	int64_t floor_s;

	if (conf_floor_s(cfg, &floor_s) != 0) {
		fprintf(err, "%s: rollover-floor %s: need a date YYYY-MM-DD "
			"between 1980 and 2200, e.g. %s\n",
			origin_of("rollover-floor"), cfg->rollover_floor,
			GPSPPS_ROLLOVER_FLOOR_DATE);
		errors++;
	}

	/* Each message starts with where the first key was set and names
	 * where the second one was, as file errors do. */
	if (cfg->window_min_ns >= cfg->window_max_ns) {
		fprintf(err, "%s: window-min %.9g s must be below window-max "
			"%.9g s (%s)\n", origin_of("window-min"),
			(double)cfg->window_min_ns / 1e9,
			(double)cfg->window_max_ns / 1e9, origin_of("window-max"));
		errors++;
	}
	if (cfg->window_max_ns - cfg->window_min_ns >= TU_NS_PER_SEC) {
		fprintf(err, "%s: window-min %.9g s and window-max %.9g s (%s) "
			"make a pairing window of 1 s or more\n",
			origin_of("window-min"), (double)cfg->window_min_ns / 1e9,
			(double)cfg->window_max_ns / 1e9, origin_of("window-max"));
		errors++;
	}
	if (strcmp(cfg->pps_socket, cfg->nmea_socket) == 0) {
		fprintf(err, "%s: pps-socket %s is also nmea-socket (%s): they "
			"must differ\n", origin_of("pps-socket"), cfg->pps_socket,
			origin_of("nmea-socket"));
		errors++;
	}
	if (strcmp(cfg->status_socket, cfg->pps_socket) == 0 ||
	    strcmp(cfg->status_socket, cfg->nmea_socket) == 0) {
		fprintf(err, "%s: status-socket %s is also a chronyd socket "
			"(pps-socket %s, nmea-socket %s): they must differ\n",
			origin_of("status-socket"), cfg->status_socket,
			origin_of("pps-socket"), origin_of("nmea-socket"));
		errors++;
	}
	return errors;
}

static int check_socket(const char *key, const char *path, FILE *err)
{
	char msg[CONF_PATH_MAX + 128];

	if (sock_path_check(path, msg, sizeof(msg)) == 0) {
		return 0;
	}
	/* "FILE:LINE: key: ..." as file errors; "--key: ..." for an option. */
	if (strncmp(origin_of(key), "--", 2) == 0) {
		fprintf(err, "%s: %s\n", origin_of(key), msg);
	} else {
		fprintf(err, "%s: %s: %s\n", origin_of(key), key, msg);
	}
	return 1;
}

int conf_check_startup(const struct gpsppsd_config *cfg, FILE *err)
{
	return check_socket("pps-socket", cfg->pps_socket, err) +
	       check_socket("nmea-socket", cfg->nmea_socket, err);
}

void conf_print_help(FILE *out)
{
	int i;

	for (i = 0; i < N_KEYS; i++) {
		const struct conf_key *k = &conf_keys[i];
		char left[48];

		snprintf(left, sizeof(left), "--%s%s", k->name,
			 k->type == CT_BOOL ? "[=yes|no]" : " VALUE");
		fprintf(out, "  %-26s %s (default: %s)\n", left, k->help, k->def);
	}
}

const char *conf_key_name(int i, bool *takes_arg)
{
	if (i < 0 || i >= N_KEYS) {
		return NULL;
	}
	*takes_arg = conf_keys[i].type != CT_BOOL;
	return conf_keys[i].name;
}
