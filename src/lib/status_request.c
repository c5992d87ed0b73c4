/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status_request.c - see status_request.h. */
#include "status_request.h"

#include <string.h>

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Printable ASCII, blanks, and CR (checked for place by the caller). */
static int is_text(char c)
{
	return (c >= 0x20 && c <= 0x7e) || c == '\t' || c == '\r';
}

/* The word of a complete line buf[0..len) (LF excluded). */
static enum status_request classify(const char *buf, size_t len)
{
	size_t a = 0, b = len;

	if (b > 0 && buf[b - 1] == '\r') {
		b--;
	}
	while (a < b && is_blank(buf[a])) {
		a++;
	}
	while (b > a && is_blank(buf[b - 1])) {
		b--;
	}
	if (memchr(buf + a, '\r', b - a) != NULL) {
		return STATUS_REQUEST_BAD;
	}
	if (b - a == 6 && memcmp(buf + a, "status", 6) == 0) {
		return STATUS_REQUEST_STATUS;
	}
	if (b - a == 5 && memcmp(buf + a, "watch", 5) == 0) {
		return STATUS_REQUEST_WATCH;
	}
	return STATUS_REQUEST_BAD;
}

enum status_request status_request_parse(const char *buf, size_t len)
{
	size_t i, n = len < STATUS_REQUEST_MAX ? len : STATUS_REQUEST_MAX;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n') {
			return classify(buf, i);
		}
		if (!is_text(buf[i])) {
			return STATUS_REQUEST_BAD;
		}
	}
	return len >= STATUS_REQUEST_MAX ? STATUS_REQUEST_TOO_LONG :
					   STATUS_REQUEST_INCOMPLETE;
}

const char *status_request_error(enum status_request r)
{
	switch (r) {
	case STATUS_REQUEST_BAD:
		return "unknown request: send one line, status or watch";
	case STATUS_REQUEST_TOO_LONG:
		return "request line longer than 256 bytes";
	default:
		return NULL;
	}
}
