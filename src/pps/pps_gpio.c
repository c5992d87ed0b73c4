/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pps_gpio.c - PPS from a GPIO line through libgpiod:
 * "--pps gpio:CHIP:LINE".  CHIP is a chip name (gpiochip0), its /dev path,
 * its number or its label (pinctrl-bcm2711); LINE is an offset (18) or a
 * line name (GPIO18).  The GPIO character device timestamps each edge in
 * its interrupt handler, as pps-gpio does, and the descriptor is polled.
 *
 * The libgpiod API is chosen at build time (GPSPPS_GPIOD_API in config.h):
 *
 * v2 (libgpiod >= 2.0) asks the kernel for CLOCK_REALTIME event stamps
 * (kernel >= 5.11), so edges need no conversion.  On older kernels the
 * request is retried with the default monotonic clock.
 *
 * v1 (libgpiod 1.6, Debian 12, Raspberry Pi OS bookworm) cannot choose:
 * since Linux 5.7 its event stamps are CLOCK_MONOTONIC (before, realtime;
 * told apart by their distance from the realtime clock).  A monotonic
 * stamp is converted with the realtime - monotonic offset measured at read
 * time: three (monotonic, realtime, monotonic) readings, the tightest
 * bracket kept, so the conversion error is at most half that bracket
 * (typically < 1 us; with a vDSO clock_gettime, tens of ns) plus the slew
 * applied by chronyd between the edge and the read (at most 500 ppm of
 * the read latency, < 0.1 us for a read 200 us after the edge).  When the
 * realtime clock was stepped between two reads, an edge captured before
 * the step would be converted with the wrong offset: such edges are
 * dropped and counted in stats.errors.
 */
#include "config.h"

#if GPSPPS_GPIOD_API == 1
#define PPS_GPIOD 1
#elif GPSPPS_GPIOD_API == 2
#define PPS_GPIOD 2
#endif

#ifdef PPS_GPIOD

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pps.h"
#include "pps_util.h"
#include "timeutil.h"

#define GPIO_CONSUMER "gpsppsd"
#define GPIO_MAX_BATCH 16
#define CLOCK_PAIRS 3

struct gpio_state {
	char chip_desc[96];
	char line_desc[64];
	unsigned int offset;
	enum pps_polarity want;
	struct pps_util_edge_filter filt;
	bool monotonic_stamps;          /* stamps need conversion */
	bool have_pair;
	struct pps_util_clock_pair prev_pair;
	struct pps_util_rate rate;      /* CLOCK_REALTIME against _RAW */
	uint64_t seq;
	struct log_ratelimit step_rl;
#if PPS_GPIOD == 1
	struct gpiod_chip *chip;
	struct gpiod_line *line;
#else
	struct gpiod_chip *chip;
	struct gpiod_line_request *req;
	struct gpiod_edge_event_buffer *buf;
#endif
	int fd;
};

/* ---- messages ------------------------------------------------------ */

/* The /dev/ppsN that pps-gpio registered, for the "in use" hint. */
static void find_pps_gpio_dev(char *out, size_t len)
{
	DIR *d = opendir("/sys/class/pps");
	struct dirent *de;

	snprintf(out, len, "/dev/pps0");
	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[300], name[64] = "";
		FILE *f;

		if (strncmp(de->d_name, "pps", 3) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/sys/class/pps/%s/name",
			 de->d_name);
		f = fopen(path, "r");
		if (f == NULL) {
			continue;
		}
		if (fgets(name, sizeof(name), f) != NULL &&
		    strstr(name, "ktimer") == NULL) {
			snprintf(out, len, "/dev/%s", de->d_name);
		}
		fclose(f);
	}
	closedir(d);
}

static int line_busy(struct gpio_state *s, const char *consumer, char *err,
		     size_t errlen)
{
	/* pps-gpio requests its pin under its device name: "pps@12" from a
	 * device tree overlay, "pps-gpio.0" from platform data */
	if (consumer != NULL && strncmp(consumer, "pps", 3) == 0 &&
	    strchr("@-.", consumer[3]) != NULL && consumer[3] != '\0') {
		char dev[300];

		find_pps_gpio_dev(dev, sizeof(dev));
		snprintf(err, errlen, "GPIO %u is in use by %s: use --pps "
			 "kernel:%s", s->offset, consumer, dev);
	} else {
		snprintf(err, errlen, "GPIO %u of %s is in use by \"%s\": stop "
			 "that user or choose another line", s->offset,
			 s->chip_desc, consumer ? consumer : "?");
	}
	return -EBUSY;
}

static int chip_error(struct gpio_state *s, int e, char *err, size_t errlen)
{
	if (e == EACCES || e == EPERM) {
		snprintf(err, errlen, "permission denied on GPIO chip %s: run "
			 "as root or add the user to the group owning "
			 "/dev/gpiochip* (see doc/hardware.md)", s->chip_desc);
	} else if (e == ENOENT || e == ENODEV || e == ENOTTY) {
		snprintf(err, errlen, "GPIO chip \"%s\" not found: give a name, "
			 "path, number or label that gpiodetect lists",
			 s->chip_desc);
		e = ENODEV;
	} else {
		snprintf(err, errlen, "cannot open GPIO chip %s: %s",
			 s->chip_desc, strerror(e));
	}
	return -e;
}

static int line_missing(struct gpio_state *s, char *err, size_t errlen)
{
	snprintf(err, errlen, "no line \"%s\" on GPIO chip %s: give an offset "
		 "or a name that gpioinfo %s lists", s->line_desc, s->chip_desc,
		 s->chip_desc);
	return -ENOENT;
}

/* Offset from a decimal line description; -1 when it is a name. */
static long parse_offset(const char *desc)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(desc, &end, 10);
	if (*desc == '\0' || *end != '\0' || errno != 0 || v < 0) {
		return -1;
	}
	return v;
}

/* ---- libgpiod v1 --------------------------------------------------- */
#if PPS_GPIOD == 1

static int gpio_api_open(struct gpio_state *s, char *err, size_t errlen)
{
	long off = parse_offset(s->line_desc);
	int r;

	s->chip = gpiod_chip_open_lookup(s->chip_desc);
	if (s->chip == NULL) {
		return chip_error(s, errno, err, errlen);
	}
	if (off >= 0) {
		s->line = gpiod_chip_get_line(s->chip, (unsigned int)off);
	} else {
		s->line = gpiod_chip_find_line(s->chip, s->line_desc);
	}
	if (s->line == NULL) {
		return line_missing(s, err, errlen);
	}
	s->offset = gpiod_line_offset(s->line);
	if (gpiod_line_is_used(s->line)) {
		return line_busy(s, gpiod_line_consumer(s->line), err, errlen);
	}
	if (s->want == PPS_EDGE_RISING) {
		r = gpiod_line_request_rising_edge_events(s->line,
							  GPIO_CONSUMER);
	} else if (s->want == PPS_EDGE_FALLING) {
		r = gpiod_line_request_falling_edge_events(s->line,
							   GPIO_CONSUMER);
	} else {
		r = gpiod_line_request_both_edges_events(s->line,
							 GPIO_CONSUMER);
	}
	if (r < 0) {
		if (errno == EBUSY) {
			gpiod_line_update(s->line);
			return line_busy(s, gpiod_line_consumer(s->line), err,
					 errlen);
		}
		return chip_error(s, errno, err, errlen);
	}
	s->fd = gpiod_line_event_get_fd(s->line);
	s->monotonic_stamps = true;   /* refined per event, see v1_stamp */
	return 0;
}

static void gpio_api_close(struct gpio_state *s)
{
	if (s->line != NULL && s->fd >= 0) {
		gpiod_line_release(s->line);
	}
	if (s->chip != NULL) {
		gpiod_chip_close(s->chip);
	}
}

/* Fill ts (ns, on the stamp clock) and pol of up to max pending events;
 * returns the count, 0 when none, or -errno. */
static int gpio_api_read(struct gpio_state *s, int64_t *ts,
			 enum pps_polarity *pol, int max)
{
	struct gpiod_line_event ev[GPIO_MAX_BATCH];
	int n, i;

	n = gpiod_line_event_read_fd_multiple(s->fd, ev,
			(unsigned int)(max < GPIO_MAX_BATCH ? max :
				       GPIO_MAX_BATCH));
	if (n < 0) {
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	}
	for (i = 0; i < n; i++) {
		ts[i] = tu_ts_to_ns(&ev[i].ts);
		pol[i] = ev[i].event_type == GPIOD_LINE_EVENT_RISING_EDGE ?
			 PPS_EDGE_RISING : PPS_EDGE_FALLING;
	}
	return n;
}

static const char *gpio_api_name(void)
{
	return "libgpiod v1";
}

/* ---- libgpiod v2 --------------------------------------------------- */
#else

/* gpiod_chip_open() takes a path only: resolve names, numbers, labels. */
static struct gpiod_chip *v2_open_chip(const char *desc)
{
	char path[300];
	struct gpiod_chip *chip = NULL;
	DIR *d;
	struct dirent *de;

	if (desc[0] == '/') {
		return gpiod_chip_open(desc);
	}
	if (parse_offset(desc) >= 0) {
		snprintf(path, sizeof(path), "/dev/gpiochip%s", desc);
		return gpiod_chip_open(path);
	}
	snprintf(path, sizeof(path), "/dev/%s", desc);
	if (access(path, F_OK) == 0) {
		return gpiod_chip_open(path);
	}
	d = opendir("/dev");
	if (d == NULL) {
		return NULL;
	}
	while (chip == NULL && (de = readdir(d)) != NULL) {
		struct gpiod_chip_info *info;

		if (strncmp(de->d_name, "gpiochip", 8) != 0) {
			continue;
		}
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		chip = gpiod_chip_open(path);
		info = chip ? gpiod_chip_get_info(chip) : NULL;
		if (info == NULL ||
		    strcmp(gpiod_chip_info_get_label(info), desc) != 0) {
			if (chip != NULL) {
				gpiod_chip_close(chip);
			}
			chip = NULL;
		}
		gpiod_chip_info_free(info);
	}
	closedir(d);
	if (chip == NULL) {
		errno = ENOENT;
	}
	return chip;
}

static int v2_check_line(struct gpio_state *s, char *err, size_t errlen)
{
	struct gpiod_line_info *info;
	long off = parse_offset(s->line_desc);
	int r = 0;

	if (off < 0) {
		off = gpiod_chip_get_line_offset_from_name(s->chip,
							   s->line_desc);
	}
	if (off < 0) {
		return line_missing(s, err, errlen);
	}
	s->offset = (unsigned int)off;
	info = gpiod_chip_get_line_info(s->chip, s->offset);
	if (info == NULL) {
		return line_missing(s, err, errlen);
	}
	if (gpiod_line_info_is_used(info)) {
		r = line_busy(s, gpiod_line_info_get_consumer(info), err,
			      errlen);
	}
	gpiod_line_info_free(info);
	return r;
}

static struct gpiod_line_request *v2_request(struct gpio_state *s,
					     enum gpiod_line_clock clock)
{
	struct gpiod_line_settings *ls = gpiod_line_settings_new();
	struct gpiod_line_config *lc = gpiod_line_config_new();
	struct gpiod_request_config *rc = gpiod_request_config_new();
	struct gpiod_line_request *req = NULL;
	enum gpiod_line_edge edge = GPIOD_LINE_EDGE_BOTH;

	if (s->want == PPS_EDGE_RISING) {
		edge = GPIOD_LINE_EDGE_RISING;
	} else if (s->want == PPS_EDGE_FALLING) {
		edge = GPIOD_LINE_EDGE_FALLING;
	}
	if (ls != NULL && lc != NULL && rc != NULL &&
	    gpiod_line_settings_set_direction(ls,
			GPIOD_LINE_DIRECTION_INPUT) == 0 &&
	    gpiod_line_settings_set_edge_detection(ls, edge) == 0 &&
	    gpiod_line_settings_set_event_clock(ls, clock) == 0 &&
	    gpiod_line_config_add_line_settings(lc, &s->offset, 1, ls) == 0) {
		gpiod_request_config_set_consumer(rc, GPIO_CONSUMER);
		req = gpiod_chip_request_lines(s->chip, rc, lc);
	}
	gpiod_request_config_free(rc);
	gpiod_line_config_free(lc);
	gpiod_line_settings_free(ls);
	return req;
}

static int gpio_api_open(struct gpio_state *s, char *err, size_t errlen)
{
	int r;

	s->chip = v2_open_chip(s->chip_desc);
	if (s->chip == NULL) {
		return chip_error(s, errno, err, errlen);
	}
	r = v2_check_line(s, err, errlen);
	if (r < 0) {
		return r;
	}
	s->req = v2_request(s, GPIOD_LINE_CLOCK_REALTIME);
	if (s->req == NULL && errno == EINVAL) {
		/* kernel < 5.11: no realtime event clock */
		s->req = v2_request(s, GPIOD_LINE_CLOCK_MONOTONIC);
		s->monotonic_stamps = true;
	}
	if (s->req == NULL) {
		if (errno == EBUSY) {
			return line_busy(s, NULL, err, errlen);
		}
		return chip_error(s, errno, err, errlen);
	}
	s->buf = gpiod_edge_event_buffer_new(GPIO_MAX_BATCH);
	if (s->buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->fd = gpiod_line_request_get_fd(s->req);
	return 0;
}

static void gpio_api_close(struct gpio_state *s)
{
	if (s->buf != NULL) {
		gpiod_edge_event_buffer_free(s->buf);
	}
	if (s->req != NULL) {
		gpiod_line_request_release(s->req);
	}
	if (s->chip != NULL) {
		gpiod_chip_close(s->chip);
	}
}

static int gpio_api_read(struct gpio_state *s, int64_t *ts,
			 enum pps_polarity *pol, int max)
{
	int n, i, r;

	r = gpiod_line_request_wait_edge_events(s->req, 0);
	if (r <= 0) {
		return r == 0 || errno == EINTR ? 0 : -errno;
	}
	n = gpiod_line_request_read_edge_events(s->req, s->buf,
			(size_t)(max < GPIO_MAX_BATCH ? max : GPIO_MAX_BATCH));
	if (n < 0) {
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	}
	for (i = 0; i < n; i++) {
		struct gpiod_edge_event *ev =
			gpiod_edge_event_buffer_get_event(s->buf,
							  (unsigned long)i);

		ts[i] = (int64_t)gpiod_edge_event_get_timestamp_ns(ev);
		pol[i] = gpiod_edge_event_get_event_type(ev) ==
			 GPIOD_EDGE_EVENT_RISING_EDGE ? PPS_EDGE_RISING
						      : PPS_EDGE_FALLING;
	}
	return n;
}

static const char *gpio_api_name(void)
{
	return "libgpiod v2";
}

#endif /* PPS_GPIOD */

/* ---- common -------------------------------------------------------- */

static void gpio_free(struct gpio_state *s)
{
	gpio_api_close(s);
	free(s);
}

static int split_arg(struct gpio_state *s, const char *arg, char *err,
		     size_t errlen)
{
	const char *colon = arg ? strrchr(arg, ':') : NULL;

	if (colon == NULL || colon == arg || colon[1] == '\0' ||
	    (size_t)(colon - arg) >= sizeof(s->chip_desc) ||
	    strlen(colon + 1) >= sizeof(s->line_desc)) {
		snprintf(err, errlen, "GPIO PPS needs a chip and a line: "
			 "--pps gpio:gpiochip0:18 (or gpio:CHIP-LABEL:LINE-NAME)");
		return -EINVAL;
	}
	memcpy(s->chip_desc, arg, (size_t)(colon - arg));
	s->chip_desc[colon - arg] = '\0';
	snprintf(s->line_desc, sizeof(s->line_desc), "%s", colon + 1);
	return 0;
}

static int gpio_check(const char *arg, char *err, size_t errlen)
{
	struct gpio_state s;

	memset(&s, 0, sizeof(s));
	return split_arg(&s, arg, err, errlen);
}

static int gpio_open(struct pps_source *src, const char *arg,
		     const struct pps_options *opt, char *err, size_t errlen)
{
	struct gpio_state *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->fd = -1;
	s->want = opt->edge;
	s->step_rl.interval_ns = 60 * TU_NS_PER_SEC;
	s->step_rl.burst = 3;
	pps_util_edge_filter_init(&s->filt, opt->edge);
	pps_util_rate_init(&s->rate);
	r = split_arg(s, arg, err, errlen);
	if (r == 0) {
		r = gpio_api_open(s, err, errlen);
	}
	if (r == 0 && fcntl(s->fd, F_SETFL,
			    fcntl(s->fd, F_GETFL) | O_NONBLOCK) < 0) {
		r = -errno;
		snprintf(err, errlen, "GPIO event descriptor: %s",
			 strerror(errno));
	}
	if (r < 0) {
		gpio_free(s);
		return r;
	}
	log_info("GPIO PPS on %s line %u through %s%s", s->chip_desc,
		 s->offset, gpio_api_name(), s->monotonic_stamps ?
		 " (monotonic stamps, converted)" : "");
	src->priv = s;
	return 0;
}

static void gpio_close(struct pps_source *src)
{
	gpio_free(src->priv);
}

static int gpio_fd(struct pps_source *src)
{
	struct gpio_state *s = src->priv;

	return s->fd;
}

static int64_t gpio_deadline(struct pps_source *src)
{
	(void)src;
	return -1;
}

/* Measure the realtime - monotonic offset now (tightest of three). */
static struct pps_util_clock_pair measure_pair(void)
{
	struct pps_util_clock_pair p[CLOCK_PAIRS];
	int i;

	for (i = 0; i < CLOCK_PAIRS; i++) {
		p[i].a_before = tu_now(CLOCK_MONOTONIC);
		p[i].b = tu_now(CLOCK_REALTIME);
		p[i].a_after = tu_now(CLOCK_MONOTONIC);
	}
	return *pps_util_clock_best(p, CLOCK_PAIRS);
}

/* Stamps to realtime ns in place; false when they cannot be trusted. */
static bool to_realtime(struct gpio_state *s, int64_t *ts, int n)
{
	struct pps_util_clock_pair now;
	bool stepped;
	int i;

	if (!s->monotonic_stamps) {
		return true;
	}
	now = measure_pair();
	stepped = s->have_pair && pps_util_clock_stepped(&s->prev_pair, &now);
	s->prev_pair = now;
	s->have_pair = true;
	if (stepped) {
		log_limited(&s->step_rl, LOG_LVL_WARN, "system clock stepped: "
			    "dropping %d GPIO edge(s) of unknown time", n);
		return false;
	}
	for (i = 0; i < n; i++) {
		/* a pre-5.7 kernel stamps realtime: already near now.b */
		if (llabs(ts[i] - now.b) > 10 * TU_NS_PER_SEC) {
			ts[i] = pps_util_clock_convert(&now, ts[i], NULL);
		}
	}
	return true;
}

/* Keep e when it is on the second; counts gaps between on-second edges. */
static bool gpio_keep(struct pps_source *src, const struct pps_edge *e)
{
	struct gpio_state *s = src->priv;
	bool decided;
	bool on = pps_util_edge_filter_keep(&s->filt, e, &src->stats.missed,
					    &decided);

	if (decided) {
		log_notice("GPIO %u: the %s edge is on the second (from "
			   "the pulse width)", s->offset,
			   s->filt.auto_pol.decided == PPS_EDGE_RISING ?
			   "rising" : "falling");
	}
	return on;
}

static int gpio_read(struct pps_source *src, struct pps_edge *edges, int max)
{
	struct gpio_state *s = src->priv;
	int64_t ts[GPIO_MAX_BATCH];
	enum pps_polarity pol[GPIO_MAX_BATCH];
	int64_t real, raw;
	int n, i, out = 0;

	n = gpio_api_read(s, ts, pol, max);
	if (n <= 0) {
		if (n < 0) {
			src->stats.errors++;
		}
		return n;
	}
	if (!to_realtime(s, ts, n)) {
		src->stats.errors += (uint64_t)n;
		return 0;
	}
	real = tu_now(CLOCK_REALTIME);
	raw = tu_now(CLOCK_MONOTONIC_RAW);
	/* the latency since the edge, on CLOCK_MONOTONIC_RAW while chronyd
	 * slews the realtime clock (see pps_util_rate) */
	for (i = 0; i < n; i++) {
		struct pps_edge e = {
			.real_ns = ts[i],
			.mono_ns = pps_util_rate_to_raw(&s->rate, real, raw,
							ts[i]),
			.seq = ++s->seq,
			.polarity = pol[i],
		};

		if (gpio_keep(src, &e)) {
			edges[out++] = e;
		}
	}
	pps_util_rate_feed(&s->rate, real, raw);
	src->stats.edges += (uint64_t)out;
	return out;
}

const struct pps_backend pps_gpio_backend = {
	.kind = "gpio",
	.summary = "GPIO line through libgpiod (gpio:CHIP:LINE, e.g. "
		   "gpio:gpiochip0:18)",
	.open = gpio_open,
	.check = gpio_check,
	.close = gpio_close,
	.fd = gpio_fd,
	.deadline = gpio_deadline,
	.read = gpio_read,
};

#else

#include "pps.h"

const struct pps_backend pps_gpio_backend = {
	.kind = "gpio",
	.summary = "GPIO line through libgpiod",
	.not_built = "libgpiod was not found at build time",
	.build_fix = "install libgpiod-dev and rebuild",
};

#endif /* PPS_GPIOD */
