/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_testutil.h - what gpsppsctl's renderer tests share: the schema's
 * example object (tests/ctl/data/status-ok.json) and a renderer's output
 * as a string.
 */
#ifndef GPSPPS_CTL_TESTUTIL_H
#define GPSPPS_CTL_TESTUTIL_H

#include <stdio.h>

#include <jansson.h>

/* The example object (fails the test if unreadable); json_decref() it. */
json_t *ctl_test_fixture(void);
/* What fn prints for st, NUL-terminated; free() it. */
char *ctl_test_render(void (*fn)(const json_t *, FILE *), const json_t *st);

#endif
