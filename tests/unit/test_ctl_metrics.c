/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctl_metrics.c - gpsppsctl's Prometheus exposition of a status
 * object (tests/ctl/data/status-ok.json, the schema's example): names,
 * types, HELP/TYPE before each family's samples, families contiguous,
 * label escaping, nulls leaving no sample.  tests/ctl/promtool.py feeds
 * the same output to promtool itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_metrics.h"
#include "ctl_testutil.h"

static char *render(const json_t *st)
{
	char *text = ctl_metrics_render(st);

	assert_non_null(text);
	return text;
}

/* The family a sample line belongs to: its name up to '{' or ' '. */
static void sample_name(const char *line, char *name, size_t len)
{
	size_t n = strcspn(line, "{ ");

	assert_true(n < len);
	memcpy(name, line, n);
	name[n] = '\0';
}

struct fam_state {
	char name[128];
	char type[16];
	char seen[64][128];      /* families already closed */
	int nseen;
};

static void check_header(struct fam_state *s, const char *line)
{
	char name[128], type[16];

	if (!strncmp(line, "# HELP ", 7)) {
		assert_int_equal(sscanf(line + 7, "%127s", name), 1);
		for (int i = 0; i < s->nseen; i++) {
			assert_string_not_equal(s->seen[i], name);
		}
		assert_true(s->nseen < 64);
		snprintf(s->seen[s->nseen++], sizeof(s->seen[0]), "%s", name);
		snprintf(s->name, sizeof(s->name), "%s", name);
		s->type[0] = '\0';
		return;
	}
	assert_int_equal(sscanf(line, "# TYPE %127s %15s", name, type), 2);
	assert_string_equal(name, s->name);
	snprintf(s->type, sizeof(s->type), "%s", type);
}

/* Every line: HELP then TYPE then samples of that family only; names
 * gpspps_[a-z_]+; counters and only counters end in _total; labels
 * name="value" with value escaped; the value a number. */
static void check_exposition(const char *text)
{
	struct fam_state s = { 0 };
	regex_t re;
	char *copy = strdup(text), *line, *save = NULL, name[128];
	size_t tl;

	assert_int_equal(regcomp(&re, "^gpspps_[a-z_]+"
				 "(\\{([a-z_]+=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
				 ",?)+\\})? -?[0-9][0-9.e+-]*$",
				 REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#') {
			check_header(&s, line);
			continue;
		}
		if (regexec(&re, line, 0, NULL, 0) != 0) {
			fail_msg("not an exposition line: %s", line);
		}
		sample_name(line, name, sizeof(name));
		assert_string_equal(name, s.name);
		tl = strlen(name);
		assert_int_equal(!strcmp(s.type, "counter"),
				 tl > 6 && !strcmp(name + tl - 6, "_total"));
	}
	regfree(&re);
	free(copy);
}

static void test_fixture_exposition(void **state)
{
	json_t *st = ctl_test_fixture();
	char *text = render(st);

	(void)state;
	check_exposition(text);
	free(text);
	json_decref(st);
}

/* The figures a user would graph, with the labels the issue names. */
static void test_fixture_samples(void **state)
{
	static const char *const want[] = {
		"\ngpspps_up 1\n",
		"\n# TYPE gpspps_receiver_sentences_total counter\n",
		"\ngpspps_receiver_sentences_total{type=\"GSV\"} 360\n",
		"\ngpspps_receiver_bad_checksums_total 2\n",
		"\ngpspps_pairing_held_total{reason=\"warmup\"} 3\n",
		("\ngpspps_chronyd_failed_total{socket=\"nmea\","
		 "errno=\"ENOENT\"} 2\n"),
		"\ngpspps_chronyd_sent_total{socket=\"pps\"} 115\n",
		"\ngpspps_nmea_delay_median_seconds 0.35\n",
		"\ngpspps_pairing_last_offset_seconds -1.2e-08\n",
		"\ngpspps_pps_jitter_seconds{kind=\"second\"} 1.2e-06\n",
		"\ngpspps_receiver_state{state=\"valid\"} 1\n",
		"\ngpspps_receiver_state{state=\"silent\"} 0\n",
		"\ngpspps_pairing_guard_state{state=\"locked\"} 1\n",
		"\ngpspps_pps_spurious_total{by=\"period\"} 1\n",
		"\ngpspps_pps_open 1\n",
		"\ngpspps_status_bad_requests_total 1\n",
	};
	json_t *st = ctl_test_fixture();
	char *text = render(st);
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(text, want[i])) {
			fail_msg("missing %s in:\n%s", want[i], text);
		}
	}
	free(text);
	json_decref(st);
}

/* null (never, unknown) leaves no sample and no header of its own. */
static void test_null_no_sample(void **state)
{
	json_t *st = ctl_test_fixture();
	json_t *rx = json_object_get(st, "receiver");
	char *text;

	(void)state;
	json_object_set_new(rx, "since_last_byte_s", json_null());
	json_object_set_new(json_object_get(st, "nmea_delay"), "median_s",
			    json_null());
	text = render(st);
	check_exposition(text);
	assert_null(strstr(text, "gpspps_receiver_since_last_byte_seconds"));
	assert_null(strstr(text, "gpspps_nmea_delay_median_seconds"));
	assert_non_null(strstr(text, "\ngpspps_nmea_delay_last_seconds "));
	free(text);
	json_decref(st);
}

static void test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(ctl_metrics_escape("/dev/ttyS0", buf, sizeof(buf)),
			    "/dev/ttyS0");
	assert_string_equal(ctl_metrics_escape("a\"b\\c\nd", buf, sizeof(buf)),
			    "a\\\"b\\\\c\\nd");
	/* Truncation never splits an escape: 'a' then \" does not fit. */
	assert_string_equal(ctl_metrics_escape("a\"b", buf, 3), "a");
	assert_string_equal(ctl_metrics_escape("ab\"", buf, 5), "ab\\\"");
	assert_string_equal(ctl_metrics_escape("", buf, sizeof(buf)), "");
}

/* Outside text reaches labels escaped: a device path with a quote, a
 * backslash and a newline; a sentence type and an errno from the
 * daemon's keys. */
static void test_labels_escaped(void **state)
{
	json_t *st = ctl_test_fixture();
	json_t *sent = json_object_get(json_object_get(st, "receiver"),
				       "sentences");
	char *text;

	(void)state;
	json_object_set_new(json_object_get(st, "receiver"), "device",
			    json_string("/dev/od\"d\\pa\nth"));
	json_object_set_new(sent, "X\"Y", json_integer(7));
	text = render(st);
	check_exposition(text);
	assert_non_null(strstr(text, "device=\"/dev/od\\\"d\\\\pa\\nth\""));
	assert_non_null(strstr(text, "{type=\"X\\\"Y\"} 7\n"));
	free(text);
	json_decref(st);
}

static void test_down(void **state)
{
	char *text = ctl_metrics_render_down();

	(void)state;
	check_exposition(text);
	assert_string_equal(text, "# HELP gpspps_up 1 when gpsppsd answered on "
			    "its status socket.\n# TYPE gpspps_up gauge\n"
			    "gpspps_up 0\n");
	free(text);
}

/* An object with nothing but the version (a daemon still starting, or
 * a newer one that moved members): still a valid exposition. */
static void test_sparse(void **state)
{
	json_t *st = json_pack("{si}", "version", 1);
	char *text = render(st);

	(void)state;
	check_exposition(text);
	assert_non_null(strstr(text, "\ngpspps_up 1\n"));
	free(text);
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_exposition),
		cmocka_unit_test(test_fixture_samples),
		cmocka_unit_test(test_null_no_sample),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_labels_escaped),
		cmocka_unit_test(test_down),
		cmocka_unit_test(test_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
