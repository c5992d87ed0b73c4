/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_client.c - see ctl_client.h.  One non-blocking connection, every
 * wait a poll() bounded by a CLOCK_MONOTONIC deadline.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_client.h"
#include "timeutil.h"

/* The schema version this gpsppsctl reads (plan/status-schema.md). */
#define CTL_CLIENT_SCHEMA 1
/* A status object is a few KiB; anything this long is not gpsppsd. */
#define CTL_CLIENT_MAX_LINE (1024 * 1024)
#define CTL_CLIENT_CHUNK 4096

struct ctl_client_watch {
	int fd;
	const char *path;
	char *buf;        /* bytes read, not yet returned as a line */
	size_t len, cap;
	char *last;       /* the last line returned, as received */
	bool eof;
};

/* What each failure means to a user, and the fix (after "PATH: "). */
static const struct {
	int e;
	const char *text;
} ctl_client_reasons[] = {
	{ ENOENT, "no such socket: gpsppsd is not running, or its "
		  "status-socket is none or elsewhere (start it: systemctl "
		  "start gpsppsd; or give --socket PATH)" },
	{ EACCES, "permission denied: join group adm (usermod -aG adm USER, "
		  "then log in again) or run as root" },
	{ EPERM, "permission denied: join group adm (usermod -aG adm USER, "
		 "then log in again) or run as root" },
	{ ECONNREFUSED, "connection refused: a stale socket of a stopped "
			"gpsppsd (systemctl restart gpsppsd)" },
	{ ENOTSOCK, "not a socket: --socket must name gpsppsd's "
		    "status-socket" },
	{ ENAMETOOLONG, "path too long for a Unix socket (at most 107 "
			"bytes)" },
	{ EAGAIN, "gpsppsd accepts no more connections now (its queue is "
		  "full): try again" },
	{ EPIPE, "gpsppsd closed the connection (it stopped or restarted, "
		 "or has its 8 clients)" },
	{ ECONNRESET, "gpsppsd closed the connection (it stopped or "
		      "restarted, or has its 8 clients)" },
};

static void ctl_client_explain(int e, const char *path, int timeout_ms,
			       char *err, size_t errlen)
{
	size_t i;

	if (e == ETIMEDOUT) {
		snprintf(err, errlen, "%s: no answer within %d ms: gpsppsd "
			 "is stuck or overloaded (systemctl status gpsppsd)",
			 path, timeout_ms);
		return;
	}
	for (i = 0; i < sizeof(ctl_client_reasons) /
		    sizeof(ctl_client_reasons[0]); i++) {
		if (ctl_client_reasons[i].e == e) {
			snprintf(err, errlen, "%s: %s", path,
				 ctl_client_reasons[i].text);
			return;
		}
	}
	snprintf(err, errlen, "%s: %s", path, strerror(e));
}

/* Milliseconds left until deadline (ns, CLOCK_MONOTONIC), at least 0. */
static int ctl_client_left_ms(int64_t deadline)
{
	int64_t left = deadline - tu_now(CLOCK_MONOTONIC);

	if (left <= 0) {
		return 0;
	}
	return (int)((left + TU_NS_PER_MS - 1) / TU_NS_PER_MS);
}

/* Wait for events on fd until deadline: 0, -ETIMEDOUT or -errno. */
static int ctl_client_wait(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	do {
		r = poll(&p, 1, ctl_client_left_ms(deadline));
	} while (r < 0 && errno == EINTR);
	if (r < 0) {
		return -errno;
	}
	return r == 0 ? -ETIMEDOUT : 0;
}

/* A Unix stream connect completes or fails at once (EAGAIN: the
 * listener's backlog is full), it never is in progress. */
static int ctl_client_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

static int ctl_client_send(int fd, const char *line, int64_t deadline)
{
	size_t off = 0, len = strlen(line);
	ssize_t n;
	int r;

	while (off < len) {
		n = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR) {
			return -errno;
		}
		r = ctl_client_wait(fd, POLLOUT, deadline);
		if (r < 0) {
			return r;
		}
	}
	return 0;
}

static int ctl_client_open(const char *request, const char *path,
			   int timeout_ms, struct ctl_client_watch **out,
			   char *err, size_t errlen)
{
	int64_t deadline = tu_now(CLOCK_MONOTONIC) +
			   (int64_t)timeout_ms * TU_NS_PER_MS;
	struct ctl_client_watch *w;
	int fd, r;

	fd = ctl_client_connect(path);
	r = fd < 0 ? fd : ctl_client_send(fd, request, deadline);
	if (r < 0) {
		if (fd >= 0) {
			close(fd);
		}
		ctl_client_explain(-r, path, timeout_ms, err, errlen);
		return r;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->fd = fd;
	w->path = path;
	*out = w;
	return 0;
}

/* Index of the first '\n' in the buffer, or -1. */
static ssize_t ctl_client_newline(const struct ctl_client_watch *w)
{
	const char *nl = w->len ? memchr(w->buf, '\n', w->len) : NULL;

	return nl ? nl - w->buf : -1;
}

static int ctl_client_grow(struct ctl_client_watch *w)
{
	size_t cap = w->cap ? w->cap * 2 : CTL_CLIENT_CHUNK;
	char *p;

	if (w->cap >= CTL_CLIENT_MAX_LINE) {
		return -EMSGSIZE;
	}
	p = realloc(w->buf, cap);
	if (!p) {
		return -ENOMEM;
	}
	w->buf = p;
	w->cap = cap;
	return 0;
}

/* Read what is there into the buffer: 0 (some bytes or EOF), -EAGAIN,
 * or a negative errno. */
static int ctl_client_fill(struct ctl_client_watch *w)
{
	ssize_t n;
	int r;

	if (w->len == w->cap) {
		r = ctl_client_grow(w);
		if (r < 0) {
			return r;
		}
	}
	n = recv(w->fd, w->buf + w->len, w->cap - w->len, 0);
	if (n < 0) {
		return errno == EINTR ? -EAGAIN : -errno;
	}
	if (n == 0) {
		w->eof = true;
	}
	w->len += (size_t)n;
	return 0;
}

/* The next line's length (without '\n') once it is in the buffer. */
static ssize_t ctl_client_line(struct ctl_client_watch *w, int64_t deadline)
{
	ssize_t nl;
	int r;

	while ((nl = ctl_client_newline(w)) < 0) {
		if (w->eof) {
			return -EPIPE;
		}
		r = ctl_client_fill(w);
		if (r == -EAGAIN) {
			r = ctl_client_wait(w->fd, POLLIN, deadline);
		}
		if (r < 0) {
			return r;
		}
	}
	return nl;
}

/* Check a decoded line against the schema's outline: an object with
 * "version" 1 and no "error". */
static int ctl_client_check(json_t *o, char *err, size_t errlen,
			    const char *path)
{
	json_t *v = json_object_get(o, "version");
	const char *e = json_string_value(json_object_get(o, "error"));

	if (e) {
		snprintf(err, errlen, "%s: gpsppsd refused the request: %s",
			 path, e);
		return -EPROTO;
	}
	if (!json_is_integer(v)) {
		snprintf(err, errlen, "%s: the answer has no schema version: "
			 "is this gpsppsd's status-socket?", path);
		return -EPROTO;
	}
	if (json_integer_value(v) != CTL_CLIENT_SCHEMA) {
		snprintf(err, errlen, "%s: status schema version %lld, this "
			 "gpsppsctl reads %d: install matching versions of "
			 "gpsppsd and gpsppsctl", path,
			 (long long)json_integer_value(v), CTL_CLIENT_SCHEMA);
		return -EPROTO;
	}
	return 0;
}

static int ctl_client_decode(struct ctl_client_watch *w, size_t n, json_t **out,
			     char *err, size_t errlen)
{
	json_error_t je;
	json_t *o;
	int r;

	o = json_loadb(w->buf, n, JSON_REJECT_DUPLICATES, &je);
	free(w->last);
	w->last = strndup(w->buf, n);
	memmove(w->buf, w->buf + n + 1, w->len - n - 1);
	w->len -= n + 1;
	if (!json_is_object(o)) {
		snprintf(err, errlen, "%s: the answer is not a JSON object "
			 "(%s): is this gpsppsd's status-socket?", w->path,
			 o ? "another JSON value" : je.text);
		json_decref(o);
		return -EPROTO;
	}
	r = ctl_client_check(o, err, errlen, w->path);
	if (r < 0) {
		json_decref(o);
		return r;
	}
	*out = o;
	return 0;
}

int ctl_client_watch_next(struct ctl_client_watch *w, int timeout_ms,
			  json_t **out, char *err, size_t errlen)
{
	int64_t deadline = tu_now(CLOCK_MONOTONIC) +
			   (int64_t)timeout_ms * TU_NS_PER_MS;
	ssize_t n = ctl_client_line(w, deadline);

	if (n == -EMSGSIZE) {
		snprintf(err, errlen, "%s: an answer line over %d bytes: is "
			 "this gpsppsd's status-socket?", w->path,
			 CTL_CLIENT_MAX_LINE);
		return -EPROTO;
	}
	if (n < 0) {
		ctl_client_explain((int)-n, w->path, timeout_ms, err, errlen);
		return (int)n;
	}
	return ctl_client_decode(w, (size_t)n, out, err, errlen);
}

struct ctl_client_watch *ctl_client_watch_open(const char *path, int timeout_ms,
					       char *err, size_t errlen)
{
	struct ctl_client_watch *w = NULL;

	ctl_client_open("watch\n", path, timeout_ms, &w, err, errlen);
	return w;
}

void ctl_client_watch_close(struct ctl_client_watch *w)
{
	if (!w) {
		return;
	}
	close(w->fd);
	free(w->buf);
	free(w->last);
	free(w);
}

const char *ctl_client_watch_line(const struct ctl_client_watch *w)
{
	return w->last ? w->last : "";
}

int ctl_client_status(const char *path, int timeout_ms, json_t **out,
		      char *err, size_t errlen)
{
	return ctl_client_status_raw(path, timeout_ms, out, NULL, err, errlen);
}

int ctl_client_status_raw(const char *path, int timeout_ms, json_t **out,
			  char **line, char *err, size_t errlen)
{
	struct ctl_client_watch *w = NULL;
	int r;

	*out = NULL;
	r = ctl_client_open("status\n", path, timeout_ms, &w, err, errlen);
	if (r < 0) {
		return r;
	}
	r = ctl_client_watch_next(w, timeout_ms, out, err, errlen);
	if (r == 0 && line) {
		*line = w->last;
		w->last = NULL;
	}
	ctl_client_watch_close(w);
	return r;
}
