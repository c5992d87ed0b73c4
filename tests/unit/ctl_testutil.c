/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_testutil.c - see ctl_testutil.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctl_testutil.h"

#define CTL_TEST_FIXTURE CTL_FIXTURE_DIR "/status-ok.json"

json_t *ctl_test_fixture(void)
{
	json_error_t je;
	json_t *st = json_load_file(CTL_TEST_FIXTURE, 0, &je);

	if (!st) {
		fail_msg("%s: %s", CTL_TEST_FIXTURE, je.text);
	}
	return st;
}
