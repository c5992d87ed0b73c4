/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_status_request.c - the status socket's request line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "status_request.h"

static enum status_request parse(const char *s)
{
	return status_request_parse(s, strlen(s));
}

static void test_words(void **state)
{
	(void)state;
	assert_int_equal(parse("status\n"), STATUS_REQUEST_STATUS);
	assert_int_equal(parse("watch\n"), STATUS_REQUEST_WATCH);
	assert_int_equal(parse("watch\r\n"), STATUS_REQUEST_WATCH);
	assert_int_equal(parse(" \tstatus \n"), STATUS_REQUEST_STATUS);
	/* Bytes after the line are not looked at. */
	assert_int_equal(parse("status\n\x01\x02"), STATUS_REQUEST_STATUS);
	assert_null(status_request_error(STATUS_REQUEST_STATUS));
}

static void test_refused(void **state)
{
	(void)state;
	assert_int_equal(parse("STATUS\n"), STATUS_REQUEST_BAD);
	assert_int_equal(parse("statusx\n"), STATUS_REQUEST_BAD);
	assert_int_equal(parse("sta\rtus\n"), STATUS_REQUEST_BAD);
	assert_int_equal(parse("\n"), STATUS_REQUEST_BAD);
	assert_int_equal(parse("status watch\n"), STATUS_REQUEST_BAD);
	/* Not text: refused before any newline. */
	assert_int_equal(status_request_parse("st\0", 3), STATUS_REQUEST_BAD);
	assert_int_equal(parse("st\xff"), STATUS_REQUEST_BAD);
	assert_non_null(status_request_error(STATUS_REQUEST_BAD));
}

static void test_lengths(void **state)
{
	char buf[600];

	(void)state;
	assert_int_equal(parse(""), STATUS_REQUEST_INCOMPLETE);
	assert_int_equal(parse("stat"), STATUS_REQUEST_INCOMPLETE);
	/* 255 blanks and the word fit only if the LF is byte 256. */
	memset(buf, ' ', sizeof(buf));
	memcpy(buf + 249, "status\n", 7);
	assert_int_equal(status_request_parse(buf, 256), STATUS_REQUEST_STATUS);
	memcpy(buf + 250, "status\n", 7);
	assert_int_equal(status_request_parse(buf, 255),
			 STATUS_REQUEST_INCOMPLETE);
	assert_int_equal(status_request_parse(buf, 257),
			 STATUS_REQUEST_TOO_LONG);
	assert_int_equal(status_request_parse(buf, sizeof(buf)),
			 STATUS_REQUEST_TOO_LONG);
	assert_non_null(status_request_error(STATUS_REQUEST_TOO_LONG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
