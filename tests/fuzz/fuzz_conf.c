/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_conf.c - libFuzzer target for gpsppsd's configuration parser
 * (src/lib/conf.c): the input is a gpsppsd.conf.
 *
 * Invariants checked (abort on violation):
 * - conf_load_stream prints exactly one "NAME:LINE: message" line per
 *   error it counts, with LINE a line of the input;
 * - each file line is judged alone: loading every line by itself gives
 *   the same errors on the same lines (a bad line cannot hide the next),
 *   and a line refused leaves the configuration as it was;
 * - every value set lies within its key's range (baud a standard rate,
 *   or 0 for auto; durations and counts within their bounds, strings non-empty and
 *   NUL-terminated inside their buffers);
 * - conf_validate and conf_check_startup print one line per error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "serial.h"
#include "timeutil.h"

#define NAME "fuzz"
#define MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) {
		abort();
	}
}

/* Load len bytes; returns the error count, *out the messages. */
static int load(struct gpsppsd_config *cfg, const uint8_t *data, size_t len,
		char **out, size_t *outlen)
{
	FILE *in = fmemopen((void *)data, len, "r");
	FILE *err = open_memstream(out, outlen);
	int n;

	check(in != NULL && err != NULL);
	conf_defaults(cfg);
	n = conf_load_stream(cfg, in, NAME, err);
	fclose(in);
	fclose(err);
	return n;
}

static size_t count_lines(const char *s, size_t len)
{
	size_t n = 0, i;

	for (i = 0; i < len; i++) {
		n += s[i] == '\n';
	}
	return n;
}

/* The line number of each message, checked against the line count. */
static void check_messages(const char *msgs, size_t len, int n,
			   size_t lines, unsigned char *bad)
{
	const char *p = msgs;
	int i;

	check(n >= 0 && count_lines(msgs, len) == (size_t)n);
	for (i = 0; i < n; i++) {
		unsigned long line;
		char *end;

		check(strncmp(p, NAME ":", strlen(NAME) + 1) == 0);
		line = strtoul(p + strlen(NAME) + 1, &end, 10);
		check(end[0] == ':' && end[1] == ' ');
		check(line >= 1 && line <= lines);
		check(!bad[line - 1]);
		bad[line - 1] = 1;
		p = strchr(p, '\n') + 1;
	}
}

static int terminated(const char *s)
{
	return memchr(s, '\0', CONF_PATH_MAX) != NULL && s[0] != '\0';
}

static void check_ranges(const struct gpsppsd_config *c)
{
	check(c->baud == 0 || serial_baud_valid(c->baud)); /* 0: auto */
	check(terminated(c->device) && terminated(c->pps) &&
	      terminated(c->pps_socket) && terminated(c->nmea_socket));
	check(c->pps_edge >= PPS_EDGE_RISING && c->pps_edge <= PPS_EDGE_AUTO);
	check(c->window_min_ns >= -TU_NS_PER_SEC &&
	      c->window_min_ns <= TU_NS_PER_SEC);
	check(c->window_max_ns >= 0 && c->window_max_ns < TU_NS_PER_SEC);
	check(c->min_valid >= 1 && c->min_valid <= 600);
	check(c->confirm >= 2 && c->confirm <= 60);
	check(c->guard_ns >= 1000 && c->guard_ns <= TU_NS_PER_SEC / 2);
	check(c->idle_flush_ns >= TU_NS_PER_MS &&
	      c->idle_flush_ns <= TU_NS_PER_SEC / 2);
	check(c->char_time_ns == -1 ||
	      (c->char_time_ns >= 0 && c->char_time_ns <= 10 * TU_NS_PER_MS));
}

/* The cross-field and start-up checks: one line per error. */
static void check_validation(const struct gpsppsd_config *c)
{
	char *out = NULL;
	size_t len = 0;
	FILE *err = open_memstream(&out, &len);
	int n;

	check(err != NULL);
	n = conf_validate(c, err) + conf_check_startup(c, err);
	fclose(err);
	check(count_lines(out, len) == (size_t)n);
	free(out);
}

/* Each line alone must give the errors it gave within the file. */
static void check_lines_alone(const uint8_t *data, size_t size,
			      const unsigned char *bad, size_t lines)
{
	static struct gpsppsd_config defaults_buf;
	const struct gpsppsd_config *defaults = &defaults_buf;
	struct gpsppsd_config cfg;
	size_t start = 0, line = 0;

	conf_defaults(&defaults_buf);
	while (start < size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) + 1 : size;
		char *out = NULL;
		size_t outlen = 0;
		int n = load(&cfg, data + start, end - start, &out, &outlen);

		check(line < lines && n == bad[line]);
		if (n != 0) {
			check(memcmp(&cfg, defaults, sizeof(cfg)) == 0);
		}
		free(out);
		start = end;
		line++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gpsppsd_config cfg;
	unsigned char *bad;
	char *out = NULL;
	size_t outlen = 0, lines;
	int n;

	if (size == 0 || size > MAX_INPUT) {
		return 0;
	}
	lines = count_lines((const char *)data, size) +
		(data[size - 1] != '\n');
	bad = calloc(lines, 1);
	check(bad != NULL);
	n = load(&cfg, data, size, &out, &outlen);
	check_messages(out, outlen, n, lines, bad);
	free(out);
	check_ranges(&cfg);
	check_validation(&cfg);
	check_lines_alone(data, size, bad, lines);
	free(bad);
	return 0;
}
