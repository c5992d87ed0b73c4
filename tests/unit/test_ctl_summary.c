/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_ctl_summary.c - what `gpsppsctl status` and `watch` say about a
 * status object: the first line names the first broken link of the
 * chain (receiver, PPS, pairing, chronyd), the fields are aligned and
 * carry units, and the watch line says what was sent or why not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_json.h"
#include "ctl_summary.h"
#include "ctl_testutil.h"
#include "ctl_watchline.h"

/* Set the member at a dotted path (its parents exist) to v. */
static void set(json_t *st, const char *path, json_t *v)
{
	char parent[128];
	const char *dot = strrchr(path, '.');
	json_t *p = st;

	if (dot) {
		snprintf(parent, sizeof(parent), "%.*s", (int)(dot - path),
			 path);
		p = ctl_json_get(st, parent);
	}
	assert_non_null(p);
	json_object_set_new(p, dot ? dot + 1 : path, v);
}

static void expect_verdict(json_t *st, bool ok, const char *words)
{
	char buf[768];

	assert_int_equal(ctl_summary_verdict(st, buf, sizeof(buf)), ok);
	if (!strstr(buf, words)) {
		fail_msg("verdict '%s' lacks '%s'", buf, words);
	}
	json_decref(st);
}

static void test_verdict_ok(void **state)
{
	(void)state;
	expect_verdict(ctl_test_fixture(), true,
		       "OK: PPS samples reach chronyd");
}

static void test_verdict_receiver(void **state)
{
	json_t *st;

	(void)state;
	st = ctl_test_fixture();
	set(st, "receiver.state", json_string("absent"));
	expect_verdict(st, false, "NOT OK: receiver /dev/serial0 absent");
	st = ctl_test_fixture();
	set(st, "receiver.state", json_string("silent"));
	expect_verdict(st, false, "2 bad checksums): wrong baud rate?");
	st = ctl_test_fixture();
	set(st, "receiver.state", json_string("silent"));
	set(st, "receiver.detected_baud", json_integer(38400));
	expect_verdict(st, false, "it decodes at 38400 baud (baud 38400, or "
		       "baud auto)");
	st = ctl_test_fixture();
	set(st, "receiver.state", json_string("silent"));
	set(st, "receiver.since_last_byte_s", json_real(7.5));
	expect_verdict(st, false, "silent: no byte for 5 s or more");
	st = ctl_test_fixture();
	set(st, "receiver.state", json_string("silent"));
	set(st, "receiver.since_last_byte_s", json_null());
	expect_verdict(st, false, "silent: no byte for 5 s or more");
	st = ctl_test_fixture();
	set(st, "receiver.state", json_string("no-fix"));
	expect_verdict(st, false, "has no fix");
}

static void test_verdict_pps(void **state)
{
	json_t *st;

	(void)state;
	st = ctl_test_fixture();
	set(st, "pps.since_last_edge_s", json_real(7.2));
	expect_verdict(st, false, "no PPS edge from /dev/pps0 for 7 s");
	st = ctl_test_fixture();
	set(st, "pps.edges", json_integer(0));
	expect_verdict(st, false, "no PPS edge yet");
	st = ctl_test_fixture();
	set(st, "last.pps", json_string("no_edge"));
	set(st, "last.pps_sent", json_false());
	expect_verdict(st, false, "PPS samples held back: no_edge");
	/* Without PPS, only the NMEA samples count. */
	st = ctl_test_fixture();
	set(st, "pps.backend", json_string("none"));
	set(st, "pps.edges", json_integer(0));
	set(st, "last.pps", json_string("no-pps"));
	expect_verdict(st, true, "OK: NMEA samples reach chronyd");
}

static void test_verdict_chronyd(void **state)
{
	json_t *st;

	(void)state;
	st = ctl_test_fixture();
	set(st, "chronyd.pps.last_error", json_string("ENOENT"));
	set(st, "chronyd.pps.failed", json_pack("{s{sis s}}", "ENOENT",
		"count", 9, "meaning", "chronyd is not running"));
	set(st, "chronyd.pps.since_last_delivery_s", json_null());
	expect_verdict(st, false, "PPS samples do not reach chronyd (ENOENT): "
		       "chronyd is not running");
	/* An error long ago, deliveries since: fine. */
	st = ctl_test_fixture();
	set(st, "chronyd.nmea.last_error", json_string("ENOENT"));
	expect_verdict(st, true, "OK");
	st = ctl_test_fixture();
	set(st, "chronyd.nmea.last_error", json_string("EACCES"));
	set(st, "chronyd.nmea.since_last_delivery_s", json_real(30.0));
	expect_verdict(st, false, "NMEA samples do not reach chronyd (EACCES)");
}

static void expect_in(const char *text, const char *words)
{
	if (!strstr(text, words)) {
		fail_msg("'%s' not in:\n%s", words, text);
	}
}

/* Verdict first, then "Name<pad>: value" with the colons aligned, the
 * figures with their units. */
static void test_print(void **state)
{
	json_t *st = ctl_test_fixture();
	char *text = ctl_summary_render(st);
	char *line, *save = NULL;
	char *copy = strdup(text);
	int n = 0;

	(void)state;
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0) {
			assert_string_equal(line,
					    "OK: PPS samples reach chronyd");
			continue;
		}
		assert_true(strlen(line) > 18);
		assert_memory_equal(line + 16, ": ", 2);
	}
	assert_true(n > 15);
	expect_in(text, "\nReceiver        : /dev/serial0 at 9600 baud "
		  "(fixed), valid\n");
	expect_in(text, "\nNMEA delay      : last 350.200 ms, median "
		  "350.000 ms, spread 1.100 ms (64 samples in 64 s)\n");
	expect_in(text, "\nEdge jitter     : 1.200 us (against the whole "
		  "second");
	expect_in(text, "\nLast offset     : -12 ns\n");
	expect_in(text, "\nHeld back       : warmup 3, no_fix 0, "
		  "no_edge 2\n");
	expect_in(text, "\n  failed        : ENOENT 2 (chronyd is not running");
	expect_in(text, "\nchronyd PPS     : /run/gpspps/pps.sock, 115 sent, "
		  "last 400.000 ms ago\n");
	free(copy);
	free(text);
	json_decref(st);
}

/* A daemon that reports nulls (nothing yet) prints words, not zeros. */
static void test_print_nulls(void **state)
{
	json_t *st = ctl_test_fixture();
	char *text;

	(void)state;
	set(st, "receiver.last_epoch", json_null());
	set(st, "receiver.since_last_byte_s", json_null());
	set(st, "pairing.last_offset_s", json_null());
	set(st, "chronyd.nmea.enabled", json_false());
	set(st, "receiver.epochs_per_s", json_null());
	text = ctl_summary_render(st);
	expect_in(text, "\nEpochs          : 120, - per second, last never\n");
	expect_in(text, "\nLast byte       : never\n");
	expect_in(text, "\nLast offset     : -\n");
	expect_in(text, "\nchronyd NMEA    : off\n");
	free(text);
	json_decref(st);
}

static void test_watchline(void **state)
{
	json_t *st = ctl_test_fixture();
	char *text;

	(void)state;
	text = ctl_watchline_render(st);
	assert_string_equal(text, "2026-12-01T22:00:00Z     fix          "
			    "-12 ns   350.200 ms  PPS, NMEA\n");
	free(text);
	set(st, "last.pps", json_string("no_edge"));
	set(st, "last.pps_sent", json_false());
	set(st, "last.pps_offset_s", json_null());
	set(st, "last.valid", json_false());
	text = ctl_watchline_render(st);
	expect_in(text, " no-fix ");
	expect_in(text, "  PPS held: no_edge, NMEA\n");
	free(text);
	set(st, "last.pps", json_string("sample"));
	set(st, "chronyd.pps.last_error", json_string("ECONNREFUSED"));
	set(st, "last.nmea_sent", json_false());
	text = ctl_watchline_render(st);
	expect_in(text, "PPS failed: ECONNREFUSED, NMEA not sent\n");
	free(text);
	json_decref(st);
}

/* The first repeat of a second is not shown; more repeats are. */
static void test_watchline_show(void **state)
{
	static const char *const labels[] = { "00", "00", "01", "02", "02",
					      "02", "02", NULL, NULL, NULL };
	static const bool want[] = { true, false, true, true, false, true,
				     true, true, false, true };
	struct ctl_watchline_state seen = { 0 };
	char t[32];
	json_t *st = ctl_test_fixture();
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(t, sizeof(t), "2026-12-01T22:00:%sZ",
			 labels[i] ? labels[i] : "");
		set(st, "last.time", labels[i] ? json_string(t) : json_null());
		assert_int_equal(ctl_watchline_show(&seen, st), want[i]);
	}
	json_decref(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_ok),
		cmocka_unit_test(test_verdict_receiver),
		cmocka_unit_test(test_verdict_pps),
		cmocka_unit_test(test_verdict_chronyd),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_print_nulls),
		cmocka_unit_test(test_watchline),
		cmocka_unit_test(test_watchline_show),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
