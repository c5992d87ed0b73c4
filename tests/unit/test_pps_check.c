/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pps_check.c - pps_check (what gpsppsd --check runs) refuses the
 * PPS arguments that the backend's open refuses, with the same message,
 * and accepts the rest without opening any device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pps.h"

/* Open spec with the options the daemon would use (no serial port). */
static int try_open(const char *spec, char *err, size_t errlen)
{
	struct pps_options opt = { .edge = PPS_EDGE_RISING, .serial_fd = -1 };
	struct pps_source src;
	int r = pps_open(&src, spec, &opt, err, errlen);

	if (r == 0) {
		pps_close(&src);
	}
	return r;
}

/* spec is refused by the check with a message containing want, and open
 * refuses it with the very same message (one parser for both). */
static void assert_refused(const char *spec, const char *want)
{
	char check_err[256] = "", open_err[256] = "";

	if (pps_check(spec, check_err, sizeof(check_err)) != -EINVAL) {
		fail_msg("pps_check accepted \"%s\"", spec);
	}
	if (strstr(check_err, want) == NULL) {
		fail_msg("pps_check(\"%s\"): \"%s\" lacks \"%s\"", spec,
			 check_err, want);
	}
	assert_int_equal(try_open(spec, open_err, sizeof(open_err)), -EINVAL);
	assert_string_equal(check_err, open_err);
}

static void assert_accepted(const char *spec)
{
	char err[256] = "";

	if (pps_check(spec, err, sizeof(err)) != 0) {
		fail_msg("pps_check refused \"%s\": %s", spec, err);
	}
}

static bool built_in(const char *kind)
{
	const char *arg;
	const struct pps_backend *b = pps_lookup(kind, &arg);

	assert_non_null(b);
	return b->not_built == NULL;
}

static void test_sim(void **state)
{
	(void)state;
	assert_accepted("sim");
	assert_accepted("sim:");
	assert_accepted("sim:jitter=2us,miss=0.01,spurious=0.01,seed=7");
	assert_accepted("sim:bias=-5us,seed=0x10");
	assert_refused("sim:jitter=2parsecs", "bad sim PPS option "
		       "\"jitter=2parsecs\"");
	assert_refused("sim:jitter=-1us", "\"jitter=-1us\"");
	assert_refused("sim:miss=1.5", "\"miss=1.5\"");
	assert_refused("sim:spurious=x", "\"spurious=x\"");
	assert_refused("sim:seed=7x", "\"seed=7x\"");
	assert_refused("sim:seed=", "\"seed=\"");
	assert_refused("sim:colour=red", "\"colour=red\"");
	assert_refused("sim:miss", "\"miss\"");
	assert_refused("sim:seed=1,wobble=2", "\"wobble=2\"");
}

static void test_kernel(void **state)
{
	char err[256] = "", path[200];

	(void)state;
	if (!built_in("kernel")) {
		skip();
	}
	assert_refused("kernel", "kernel PPS needs a device path: --pps "
		       "kernel:/dev/pps0");
	assert_refused("kernel:", "needs a device path");
	assert_refused("kernel:pps0", "needs a device path");
	memset(path, 'p', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	snprintf(err, sizeof(err), "kernel:%s", path);
	assert_refused(err, "longer than 127 bytes");
	/* A well-formed path is accepted without opening it: the open of
	 * the same spec fails on the missing device. */
	assert_accepted("kernel:/dev/pps0");
	assert_accepted("kernel:/nonexistent/pps9");
	assert_int_equal(try_open("kernel:/nonexistent/pps9", err,
				  sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "does not exist"));
}

static void test_dcd(void **state)
{
	(void)state;
	assert_accepted("dcd");
	assert_accepted("dcd:ldisc");
	assert_accepted("dcd:wait");
	assert_refused("dcd:bogus", "unknown DCD mode \"bogus\"");
	assert_refused("dcd:", "unknown DCD mode \"\"");
}

static void test_gpio(void **state)
{
	(void)state;
	if (!built_in("gpio")) {
		skip();
	}
	assert_accepted("gpio:gpiochip0:18");
	assert_accepted("gpio:/dev/gpiochip0:GPIO18");
	assert_accepted("gpio:pinctrl-bcm2711:18");
	assert_refused("gpio", "GPIO PPS needs a chip and a line");
	assert_refused("gpio:18", "needs a chip and a line");
	assert_refused("gpio:gpiochip0:", "needs a chip and a line");
	assert_refused("gpio::18", "needs a chip and a line");
}

/* Every entry either has its functions or says why it was not built. */
static void test_table(void **state)
{
	int i;

	(void)state;
	assert_true(built_in("sim"));
	assert_true(built_in("dcd"));
	for (i = 0; pps_backends[i] != NULL; i++) {
		const struct pps_backend *b = pps_backends[i];

		if (b->not_built == NULL) {
			assert_non_null(b->open);
			assert_non_null(b->close);
			assert_non_null(b->read);
		} else {
			assert_null(b->open);
			assert_non_null(b->build_fix);
		}
	}
}

/*
 * A kind not built (gpio without libgpiod, kernel without sys/timepps.h)
 * is refused by name with the reason and the fix, by the check and by
 * open alike.  The default build has none; the build suite runs this test
 * in a build without libgpiod.
 */
static void test_not_built(void **state)
{
	char want[256], spec[64];
	int i, n = 0;

	(void)state;
	for (i = 0; pps_backends[i] != NULL; i++) {
		const struct pps_backend *b = pps_backends[i];

		if (b->not_built == NULL) {
			continue;
		}
		snprintf(want, sizeof(want), "%s: not built (%s; %s)",
			 b->kind, b->not_built, b->build_fix);
		assert_refused(b->kind, want);
		snprintf(spec, sizeof(spec), "%s:x:1", b->kind);
		assert_refused(spec, want);
		printf("not built: %s\n", want);
		n++;
	}
	printf("%d PPS kinds not built\n", n);
}

static void test_unknown_kind(void **state)
{
	char err[256] = "";

	(void)state;
	assert_int_equal(pps_check("magic:1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown PPS kind in \"magic:1\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sim),
		cmocka_unit_test(test_kernel),
		cmocka_unit_test(test_dcd),
		cmocka_unit_test(test_gpio),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_not_built),
		cmocka_unit_test(test_unknown_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
