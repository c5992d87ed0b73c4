/* SPDX-License-Identifier: GPL-2.0-or-later */
/* replay.c - see replay.h. */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "nmea.h"
#include "timeutil.h"

/* Half a GPS week-number period: the floor's distance before the date a
 * capture names. */
#define HALF_ROLLOVER_SEC (TU_GPS_ROLLOVER_SEC / 2)

struct replay {
	const char *name;
	FILE *in, *out, *err;
	struct nmea_decoder *dec;
	int64_t floor_s;        /* 0: compiled-in floor */
	bool in_header;         /* no sentence line seen yet */
	uint64_t printed, undated;
};

/* Kinds in the order they are printed. */
static const unsigned print_order[NMEA_KIND_COUNT] = {
	NMEA_GGA, NMEA_GLL, NMEA_GNS, NMEA_RMC, NMEA_ZDA,
};

/* "# Date: 2015-04-13" / "# Date = 2015-3-18": the floor it implies. */
static bool header_floor(const char *line, int64_t *floor_s)
{
	const char *p = line + 1;
	int y, m, d, used = 0;

	p += strspn(p, " \t");
	if (strncasecmp(p, "date", 4) != 0) {
		return false;
	}
	p += 4;
	p += strspn(p, " \t");
	if (*p != ':' && *p != '=') {
		return false;
	}
	p++;
	if (sscanf(p, " %4d-%2d-%2d%n", &y, &m, &d, &used) != 3 || used == 0 ||
	    !tu_date_valid(y, m, d)) {
		return false;
	}
	*floor_s = tu_days_from_civil(y, m, d) * TU_SEC_PER_DAY -
		   HALF_ROLLOVER_SEC;
	return true;
}

static json_t *epoch_json(const struct nmea_epoch *ep)
{
	json_t *obj = json_object();
	json_t *kinds = json_array();
	char iso[40];

	tu_format_iso(ep->time_ns, ep->leap_second, iso, sizeof(iso));
	for (unsigned i = 0; i < NMEA_KIND_COUNT; i++) {
		if (ep->sentences & print_order[i]) {
			json_array_append_new(kinds,
				json_string(nmea_kind_name(print_order[i])));
		}
	}
	json_object_set_new(obj, "time", json_string(iso));
	json_object_set_new(obj, "sentences", kinds);
	json_object_set_new(obj, "valid", json_boolean(ep->valid));
	json_object_set_new(obj, "talker", json_string(ep->talker));
	json_object_set_new(obj, "leap_second", json_boolean(ep->leap_second));
	json_object_set_new(obj, "rollover_fixed",
			    json_boolean(ep->rollover_fixed));
	return obj;
}

static int print_epoch(struct replay *r, const struct nmea_epoch *ep)
{
	json_t *obj;
	char *text;
	int ret = 0;

	if (!ep->date_known) {
		r->undated++;
		return 0;
	}
	obj = epoch_json(ep);
	text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	if (!text) {
		return -ENOMEM;
	}
	if (fprintf(r->out, "%s\n", text) < 0) {
		ret = -EIO;
	}
	free(text);
	r->printed++;
	return ret;
}

static int drain(struct replay *r)
{
	struct nmea_epoch ep;
	int ret;

	while (nmea_next_epoch(r->dec, &ep)) {
		ret = print_epoch(r, &ep);
		if (ret < 0) {
			return ret;
		}
	}
	return 0;
}

/* The decoder is made at the first sentence line, once the header has
 * had its chance to name the capture date. */
static int ensure_decoder(struct replay *r)
{
	struct nmea_options opt = { .rollover_floor = r->floor_s };

	if (r->dec) {
		return 0;
	}
	r->dec = nmea_decoder_create(&opt);
	return r->dec ? 0 : -ENOMEM;
}

static int handle_line(struct replay *r, const char *line, size_t len)
{
	int ret;

	if (len > 0 && line[0] == '#') {
		if (r->in_header && r->floor_s == 0) {
			header_floor(line, &r->floor_s);
		}
		return 0;
	}
	r->in_header = false;
	ret = ensure_decoder(r);
	if (ret < 0) {
		return ret;
	}
	nmea_feed(r->dec, line, len, 0, 0);
	return drain(r);
}

static int read_all(struct replay *r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int ret = 0;

	errno = 0;
	while ((n = getline(&line, &cap, r->in)) >= 0) {
		ret = handle_line(r, line, (size_t)n);
		if (ret < 0) {
			break;
		}
	}
	free(line);
	if (ret == 0 && ferror(r->in)) {
		ret = errno > 0 ? -errno : -EIO;
	}
	return ret;
}

static int finish(struct replay *r)
{
	int ret = ensure_decoder(r);

	if (ret < 0) {
		return ret;
	}
	nmea_flush(r->dec);
	ret = drain(r);
	if (ret == 0 && fflush(r->out) != 0) {
		ret = -EIO;
	}
	return ret;
}

static void print_summary(const struct replay *r)
{
	const struct nmea_stats *st = nmea_get_stats(r->dec);

	fprintf(r->err, "replay %s: %" PRIu64 " epochs printed, %" PRIu64
		" without date; %" PRIu64 " sentences, %" PRIu64
		" bad checksums, %" PRIu64 " dropped bytes, %" PRIu64
		" overlong, %" PRIu64 " bad fields, %" PRIu64 " late, %" PRIu64
		" rollover fixed\n", r->name, r->printed, r->undated,
		st->sentences, st->bad_checksum, st->dropped_bytes,
		st->overlong, st->bad_fields, st->late, st->rollover_fixed);
}

static int open_input(struct replay *r, const char *path)
{
	if (strcmp(path, "-") == 0) {
		r->in = stdin;
		r->name = "(stdin)";
		return 0;
	}
	r->name = path;
	r->in = fopen(path, "rb");
	if (!r->in) {
		int ret = -errno;

		fprintf(r->err, "replay: cannot open %s: %s\n", path,
			strerror(-ret));
		return ret;
	}
	return 0;
}

int replay_run(const char *path, FILE *out, FILE *err)
{
	struct replay r = { .out = out, .err = err, .in_header = true };
	int ret = open_input(&r, path);

	if (ret < 0) {
		return ret;
	}
	ret = read_all(&r);
	if (ret == 0) {
		ret = finish(&r);
	}
	if (ret == 0) {
		print_summary(&r);
	} else {
		fprintf(err, "replay: %s: %s\n", r.name, strerror(-ret));
	}
	if (r.in != stdin) {
		fclose(r.in);
	}
	nmea_decoder_destroy(r.dec);
	return ret;
}
