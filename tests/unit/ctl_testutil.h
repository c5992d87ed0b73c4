/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_testutil.h - what gpsppsctl's renderer tests share: the schema's
 * example object (tests/ctl/data/status-ok.json).
 */
#ifndef GPSPPS_CTL_TESTUTIL_H
#define GPSPPS_CTL_TESTUTIL_H

#include <jansson.h>

/* The example object (fails the test if unreadable); json_decref() it. */
json_t *ctl_test_fixture(void);

#endif
