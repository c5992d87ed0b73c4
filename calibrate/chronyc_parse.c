/* SPDX-License-Identifier: GPL-2.0-or-later */
/* chronyc_parse.c - see chronyc_parse.h. */
#include "chronyc_parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

/* Longest line accepted; chronyc's CSV lines are under 200 bytes. */
#define LINE_MAX_LEN 1024
#define FIELDS_MAX 16

struct fields {
	char buf[LINE_MAX_LEN + 1];
	char *f[FIELDS_MAX];
	int n;
};

/* Copy the line without its ending and cut it at the commas.  Returns the
 * field count, or -1 when the line is too long or has too many fields. */
static int split_fields(const char *line, size_t len, struct fields *fs)
{
	size_t i;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
		len--;
	}
	if (len > LINE_MAX_LEN) {
		return -1;
	}
	memcpy(fs->buf, line, len);
	fs->buf[len] = '\0';
	fs->n = 0;
	fs->f[fs->n++] = fs->buf;
	for (i = 0; i < len; i++) {
		if (fs->buf[i] == '\0') {
			return -1;
		}
		if (fs->buf[i] != ',') {
			continue;
		}
		if (fs->n == FIELDS_MAX) {
			return -1;
		}
		fs->buf[i] = '\0';
		fs->f[fs->n++] = &fs->buf[i + 1];
	}
	return fs->n;
}

/* A decimal number as chronyc prints it: [-+]digits[.digits][e[-+]digits].
 * strtod alone would also take "nan", "inf" and hex. */
static bool is_number(const char *s)
{
	bool digits = false;

	if (*s == '-' || *s == '+') {
		s++;
	}
	while (*s >= '0' && *s <= '9') {
		s++;
		digits = true;
	}
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			s++;
			digits = true;
		}
	}
	if (!digits) {
		return false;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+') {
			s++;
		}
		if (!(*s >= '0' && *s <= '9')) {
			return false;
		}
		while (*s >= '0' && *s <= '9') {
			s++;
		}
	}
	return *s == '\0';
}

static int get_double(const char *s, double *out)
{
	double v;

	if (!is_number(s)) {
		return -1;
	}
	errno = 0;
	v = strtod(s, NULL);
	if (errno != 0 || !isfinite(v)) {
		return -1;
	}
	*out = v;
	return 0;
}

static int get_long(const char *s, int base, long min, long max, long *out)
{
	const char *p = s;
	char *end;
	long v;

	if (*p == '-') {
		p++;
	}
	if (*p < '0' || *p > '9') {
		return -1;
	}
	errno = 0;
	v = strtol(s, &end, base);
	if (errno != 0 || *end != '\0' || v < min || v > max) {
		return -1;
	}
	*out = v;
	return 0;
}

static int get_int(const char *s, int *out)
{
	long v;

	if (get_long(s, 10, -1000000000L, 1000000000L, &v) != 0) {
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int get_name(const char *s, char *out)
{
	size_t len = strlen(s);
	size_t i;

	if (len == 0 || len >= CP_NAME_MAX) {
		return -1;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			return -1;
		}
	}
	memcpy(out, s, len + 1);
	return 0;
}

static int get_char(const char *s, const char *allowed, char *out)
{
	if (s[0] == '\0' || s[1] != '\0' || strchr(allowed, s[0]) == NULL) {
		return -1;
	}
	*out = s[0];
	return 0;
}

int cp_parse_source_line(const char *line, size_t len, struct cp_source *out)
{
	struct fields fs;
	long reach;
	int bad = 0;

	if (split_fields(line, len, &fs) != 10) {
		return CP_ERR_FORMAT;
	}
	bad |= get_char(fs.f[0], "^=#", &out->mode);
	bad |= get_char(fs.f[1], "*+-x~?", &out->state);
	bad |= get_name(fs.f[2], out->name);
	bad |= get_int(fs.f[3], &out->stratum);
	bad |= get_int(fs.f[4], &out->poll);
	bad |= get_long(fs.f[5], 8, 0, 0377, &reach);
	if (strcmp(fs.f[6], "-") == 0) {
		out->lastrx = NAN;
	} else {
		bad |= get_double(fs.f[6], &out->lastrx);
	}
	bad |= get_double(fs.f[7], &out->offset);
	bad |= get_double(fs.f[8], &out->measured);
	bad |= get_double(fs.f[9], &out->error);
	if (bad) {
		return CP_ERR_FORMAT;
	}
	out->reach = (unsigned)reach;
	return 0;
}

int cp_parse_sourcestats_line(const char *line, size_t len,
			      struct cp_sourcestats *out)
{
	struct fields fs;
	int bad = 0;

	if (split_fields(line, len, &fs) != 8) {
		return CP_ERR_FORMAT;
	}
	bad |= get_name(fs.f[0], out->name);
	bad |= get_int(fs.f[1], &out->np);
	bad |= get_int(fs.f[2], &out->nr);
	bad |= get_double(fs.f[3], &out->span);
	bad |= get_double(fs.f[4], &out->freq);
	bad |= get_double(fs.f[5], &out->skew);
	bad |= get_double(fs.f[6], &out->offset);
	bad |= get_double(fs.f[7], &out->sd);
	if (bad || out->np < 0 || out->nr < 0) {
		return CP_ERR_FORMAT;
	}
	return 0;
}

static enum cp_leap leap_from_word(const char *w)
{
	if (strcmp(w, "Normal") == 0) {
		return CP_LEAP_NORMAL;
	}
	if (strcmp(w, "Insert second") == 0) {
		return CP_LEAP_INSERT;
	}
	if (strcmp(w, "Delete second") == 0) {
		return CP_LEAP_DELETE;
	}
	if (strcmp(w, "Not synchronised") == 0) {
		return CP_LEAP_UNSYNC;
	}
	return CP_LEAP_UNKNOWN;
}

static int get_refid_hex(const char *s, char *out)
{
	size_t i;

	if (strlen(s) != 8) {
		return -1;
	}
	for (i = 0; i < 8; i++) {
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL) {
			return -1;
		}
	}
	memcpy(out, s, 9);
	return 0;
}

int cp_parse_tracking_line(const char *line, size_t len,
			   struct cp_tracking *out)
{
	struct fields fs;
	int bad = 0;

	if (split_fields(line, len, &fs) != 14) {
		return CP_ERR_FORMAT;
	}
	bad |= get_refid_hex(fs.f[0], out->refid_hex);
	/* The name is empty when chronyd has no reference at all. */
	if (fs.f[1][0] == '\0') {
		out->refname[0] = '\0';
	} else {
		bad |= get_name(fs.f[1], out->refname);
	}
	bad |= get_int(fs.f[2], &out->stratum);
	bad |= get_double(fs.f[3], &out->ref_time);
	bad |= get_double(fs.f[4], &out->system_offset);
	bad |= get_double(fs.f[5], &out->last_offset);
	bad |= get_double(fs.f[6], &out->rms_offset);
	bad |= get_double(fs.f[7], &out->freq);
	bad |= get_double(fs.f[8], &out->resid_freq);
	bad |= get_double(fs.f[9], &out->skew);
	bad |= get_double(fs.f[10], &out->root_delay);
	bad |= get_double(fs.f[11], &out->root_dispersion);
	bad |= get_double(fs.f[12], &out->update_interval);
	if (bad || strlen(fs.f[13]) >= sizeof(out->leap_word)) {
		return CP_ERR_FORMAT;
	}
	strcpy(out->leap_word, fs.f[13]);
	out->leap = leap_from_word(fs.f[13]);
	return 0;
}

/* Call fn on each line of text until it returns 0; returns that 0 or -1. */
typedef int (*line_fn)(const char *line, size_t len, void *ctx);

static int for_each_line(const char *text, size_t len, line_fn fn, void *ctx)
{
	size_t start = 0;

	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;

		if (fn(text + start, end - start, ctx) == 0) {
			return 0;
		}
		start = end + 1;
	}
	return -1;
}

struct find_ctx {
	const char *name;
	void *out;
};

static int match_source(const char *line, size_t len, void *ctx)
{
	struct find_ctx *fc = ctx;
	struct cp_source s;

	if (cp_parse_source_line(line, len, &s) != 0 ||
	    strcmp(s.name, fc->name) != 0) {
		return -1;
	}
	*(struct cp_source *)fc->out = s;
	return 0;
}

static int match_sourcestats(const char *line, size_t len, void *ctx)
{
	struct find_ctx *fc = ctx;
	struct cp_sourcestats s;

	if (cp_parse_sourcestats_line(line, len, &s) != 0 ||
	    strcmp(s.name, fc->name) != 0) {
		return -1;
	}
	*(struct cp_sourcestats *)fc->out = s;
	return 0;
}

static int match_tracking(const char *line, size_t len, void *ctx)
{
	return cp_parse_tracking_line(line, len, ctx);
}

int cp_find_source(const char *text, size_t len, const char *name,
		   struct cp_source *out)
{
	struct find_ctx fc = { name, out };

	if (for_each_line(text, len, match_source, &fc) != 0) {
		return CP_ERR_NOT_FOUND;
	}
	return 0;
}

int cp_find_sourcestats(const char *text, size_t len, const char *name,
			struct cp_sourcestats *out)
{
	struct find_ctx fc = { name, out };

	if (for_each_line(text, len, match_sourcestats, &fc) != 0) {
		return CP_ERR_NOT_FOUND;
	}
	return 0;
}

int cp_parse_tracking(const char *text, size_t len, struct cp_tracking *out)
{
	if (for_each_line(text, len, match_tracking, out) != 0) {
		return CP_ERR_FORMAT;
	}
	return 0;
}

/* Read n decimal digits as an int; advances *s. */
static int get_digits(const char **s, int n, int *out)
{
	int v = 0;
	int i;

	for (i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9') {
			return -1;
		}
		v = v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*out = v;
	return 0;
}

/* "YYYY-MM-DD" then sep then "HH:MM:SS[.frac]"; *s is left after it. */
static int get_date_time(const char **s, const char *seps, double *t)
{
	int y, mo, d, h, mi, sec;
	double frac = 0.0;
	const char *p = *s;

	if (get_digits(&p, 4, &y) || *p++ != '-' || get_digits(&p, 2, &mo) ||
	    *p++ != '-' || get_digits(&p, 2, &d) || *p == '\0' ||
	    strchr(seps, *p++) == NULL || get_digits(&p, 2, &h) ||
	    *p++ != ':' || get_digits(&p, 2, &mi) || *p++ != ':' ||
	    get_digits(&p, 2, &sec)) {
		return -1;
	}
	if (!tu_date_valid(y, mo, d) || h > 23 || mi > 59 || sec > 60) {
		return -1;
	}
	if (*p == '.') {
		double scale = 0.1;

		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10.0;
		}
	}
	*t = (double)(tu_days_from_civil(y, mo, d) * TU_SEC_PER_DAY +
		      h * 3600 + mi * 60 + sec) + frac;
	*s = p;
	return 0;
}

/* Optional "Z", "+hh:mm", "-hh:mm" or "+hhmm" after an ISO time. */
static int get_zone(const char *p, double *t)
{
	int h, m = 0, sign;

	if (*p == '\0') {
		return 0;
	}
	if (strcmp(p, "Z") == 0) {
		return 0;
	}
	if (*p != '+' && *p != '-') {
		return -1;
	}
	sign = *p++ == '-' ? -1 : 1;
	if (get_digits(&p, 2, &h)) {
		return -1;
	}
	if (*p == ':') {
		p++;
	}
	if (*p != '\0' && get_digits(&p, 2, &m)) {
		return -1;
	}
	if (*p != '\0' || h > 23 || m > 59) {
		return -1;
	}
	*t -= sign * (h * 3600 + m * 60);
	return 0;
}

static int get_timestamp(const char *s, double *t)
{
	if (is_number(s)) {
		return get_double(s, t);
	}
	if (get_date_time(&s, "T ", t) != 0) {
		return -1;
	}
	return get_zone(s, t);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
	       c == '\f';
}

/* Start of the last 8 comma-separated fields (the sourcestats record). */
static size_t record_start(const char *s, size_t len)
{
	size_t i = len;
	int commas = 0;

	while (i > 0) {
		char c = s[i - 1];

		if (c == ',' && commas < 7) {
			commas++;
		} else if (c == ',' || (is_blank(c) && commas == 7)) {
			return i;
		}
		i--;
	}
	return 0;
}

int cp_parse_snapshot_line(const char *line, size_t len, double *t,
			   struct cp_sourcestats *out)
{
	char prefix[128];
	size_t start, plen;

	while (len > 0 && is_blank(line[len - 1])) {
		len--;
	}
	while (len > 0 && is_blank(line[0])) {
		line++;
		len--;
	}
	if (len == 0 || line[0] == '#') {
		return 1;
	}
	start = record_start(line, len);
	if (cp_parse_sourcestats_line(line + start, len - start, out) != 0) {
		return CP_ERR_FORMAT;
	}
	*t = NAN;
	if (start == 0) {
		return 0;
	}
	plen = start - 1;
	while (plen > 0 && is_blank(line[plen - 1])) {
		plen--;
	}
	if (plen == 0 || plen >= sizeof(prefix) || memchr(line, '\0', plen)) {
		return CP_ERR_FORMAT;
	}
	memcpy(prefix, line, plen);
	prefix[plen] = '\0';
	return get_timestamp(prefix, t) == 0 ? 0 : CP_ERR_FORMAT;
}

/* Split on blanks into at most max words; -1 when there are more. */
static int split_words(char *buf, char **w, int max)
{
	int n = 0;
	char *p = buf;

	for (;;) {
		while (is_blank(*p)) {
			p++;
		}
		if (*p == '\0') {
			return n;
		}
		if (n == max) {
			return -1;
		}
		w[n++] = p;
		while (*p != '\0' && !is_blank(*p)) {
			p++;
		}
		if (*p != '\0') {
			*p++ = '\0';
		}
	}
}

static int refclocks_words(char **w, struct cp_refclock_sample *out)
{
	char datetime[64];
	const char *p = datetime;
	long v;
	int bad = 0;

	if (strlen(w[2]) >= sizeof(out->refid) || strlen(w[4]) != 1 ||
	    strchr("N+-?", w[4][0]) == NULL) {
		return CP_ERR_FORMAT;
	}
	snprintf(datetime, sizeof(datetime), "%.30s %.30s", w[0], w[1]);
	if (get_date_time(&p, " ", &out->t) != 0 || *p != '\0') {
		return CP_ERR_FORMAT;
	}
	strcpy(out->refid, w[2]);
	out->leap = w[4][0];
	bad |= get_long(w[3], 10, 0, 1000000000L, &v);
	out->dpoll = (int)v;
	bad |= get_long(w[5], 10, 0, 1, &v);
	out->pps = (int)v;
	bad |= get_double(w[6], &out->raw);
	bad |= get_double(w[7], &out->cooked);
	bad |= get_double(w[8], &out->dispersion);
	return bad ? CP_ERR_FORMAT : 0;
}

int cp_parse_refclocks_line(const char *line, size_t len,
			    struct cp_refclock_sample *out)
{
	char buf[LINE_MAX_LEN + 1];
	char *w[16];
	int n;

	if (len > LINE_MAX_LEN || memchr(line, '\0', len) != NULL) {
		return CP_ERR_FORMAT;
	}
	memcpy(buf, line, len);
	buf[len] = '\0';
	n = split_words(buf, w, 16);
	if (n == 0 || (n > 0 && (w[0][0] == '=' || strcmp(w[0], "Date") == 0))) {
		return 1;
	}
	if (n == 9 && strcmp(w[3], "-") == 0 && strcmp(w[5], "-") == 0) {
		return 1;
	}
	if (n != 9) {
		return CP_ERR_FORMAT;
	}
	return refclocks_words(w, out);
}

const char *cp_leap_name(enum cp_leap leap)
{
	switch (leap) {
	case CP_LEAP_NORMAL:
		return "normal";
	case CP_LEAP_INSERT:
		return "insert second";
	case CP_LEAP_DELETE:
		return "delete second";
	case CP_LEAP_UNSYNC:
		return "not synchronised";
	default:
		return "unknown";
	}
}
