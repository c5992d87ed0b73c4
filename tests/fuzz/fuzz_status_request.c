/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_status_request.c - libFuzzer target for the status socket's
 * request parser (status_request.h).
 *
 * Input: the bytes a client sends.  For every prefix of the input the
 * parser must give an answer consistent with the rules: once a prefix is
 * decided, every longer one gives the same answer; a served request has a
 * LF within STATUS_REQUEST_MAX bytes and its line is the word; an
 * undecided prefix is shorter than STATUS_REQUEST_MAX.  Any broken
 * invariant aborts (a crash for libFuzzer).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "status_request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok) {
		abort();
	}
}

/* The line of a served request, blanks and CR stripped, is the word. */
static void check_served(const char *buf, size_t len, enum status_request r)
{
	const char *lf = memchr(buf, '\n', len);
	const char *word = r == STATUS_REQUEST_STATUS ? "status" : "watch";

	check(lf != NULL && (size_t)(lf - buf) < STATUS_REQUEST_MAX);
	check(memmem(buf, (size_t)(lf - buf), word, strlen(word)) != NULL);
	check(status_request_error(r) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	enum status_request first = STATUS_REQUEST_INCOMPLETE, r;
	size_t n, max = size < 2 * STATUS_REQUEST_MAX ? size :
			2 * STATUS_REQUEST_MAX;

	for (n = 0; n <= max; n++) {
		r = status_request_parse(buf, n);
		if (first != STATUS_REQUEST_INCOMPLETE) {
			check(r == first);
			continue;
		}
		first = r;
		if (r == STATUS_REQUEST_INCOMPLETE) {
			check(n < STATUS_REQUEST_MAX);
			check(memchr(buf, '\n', n) == NULL);
		} else if (r == STATUS_REQUEST_STATUS ||
			   r == STATUS_REQUEST_WATCH) {
			check_served(buf, n, r);
		} else {
			check(status_request_error(r) != NULL);
		}
	}
	check(status_request_parse(buf, size) == (size > max ? first : r));
	return 0;
}
