/* SPDX-License-Identifier: GPL-2.0-or-later */
/* sock.c - chronyd SOCK refclock client; see sock.h. */
#include "sock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "timeutil.h"

/* chronyd's own limit on a SOCK path is sizeof(sun_path) - 1. */
#define SOCK_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

int sock_encode(struct sock_sample *out, int64_t sys_ns, int64_t true_ns,
		int leap)
{
	int64_t tv_us = tu_floor_div(sys_ns, TU_NS_PER_US);
	int64_t sec = tu_floor_div(tv_us, 1000000);

	if (leap < 0 || leap > 2) {
		return -EINVAL;
	}
	if ((int64_t)(time_t)sec != sec) {
		return -EOVERFLOW;
	}
	memset(out, 0, sizeof(*out));
	out->tv.tv_sec = (time_t)sec;
	out->tv.tv_usec = (suseconds_t)tu_floor_mod(tv_us, 1000000);
	/* true - system is the same, to well under 1 ns, anywhere within the
	 * microsecond that truncation moves tv by: so it is taken from the
	 * exact times, not from the truncated tv.  The int64_t difference is
	 * converted, never the two absolute times (a double holding a time
	 * of day since 1970 has only ~240 ns resolution). */
	out->offset = (double)(true_ns - sys_ns) / (double)TU_NS_PER_SEC;
	out->pulse = 0;
	out->leap = leap;
	out->magic = SOCK_MAGIC;
	return 0;
}

int sock_decode(const struct sock_sample *in, int64_t *tv_ns,
		int64_t *offset_ns)
{
	if (in->magic != SOCK_MAGIC) {
		return -EINVAL;
	}
	*tv_ns = (int64_t)in->tv.tv_sec * TU_NS_PER_SEC +
		 (int64_t)in->tv.tv_usec * TU_NS_PER_US;
	*offset_ns = (int64_t)llround(in->offset * (double)TU_NS_PER_SEC);
	return 0;
}

struct sock_client {
	int fd;
	struct sockaddr_un addr;
	char name[16];
	int last_errno;        /* 0 while samples flow */
	struct sock_stats stats;
};

int sock_path_check(const char *path, char *err, size_t errlen)
{
	if (strlen(path) > SOCK_PATH_MAX) {
		/* %.4095s: a bound keeps a 32-bit size_t's INT_MAX out of
		 * reach (-Wformat-truncation); no path is longer */
		snprintf(err, errlen, "socket path %.4095s is longer than %zu "
			 "bytes, which chronyd refuses", path, SOCK_PATH_MAX);
		return -ENAMETOOLONG;
	}
	if (strchr(path, ':') != NULL) {
		snprintf(err, errlen, "socket path %s contains ':', which "
			 "chronyd's refclock directive cannot take", path);
		return -EINVAL;
	}
	return 0;
}

struct sock_client *sock_client_create(const char *path, const char *name,
				       char *err, size_t errlen)
{
	struct sock_client *c;

	if (sock_path_check(path, err, errlen) < 0) {
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(c);
		return NULL;
	}
	c->addr.sun_family = AF_UNIX;
	memcpy(c->addr.sun_path, path, strlen(path) + 1);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->last_errno = -1;   /* nothing known yet */
	c->stats.last_errno = -1;
	return c;
}

void sock_client_destroy(struct sock_client *c)
{
	if (c == NULL) {
		return;
	}
	close(c->fd);
	free(c);
}

static const char *send_hint(int e)
{
	switch (e) {
	case ENOENT:
	case ECONNREFUSED:
		return "chronyd is not running or has no such refclock";
	case EACCES:
	case EPERM:
		return "permission denied: chronyd made the socket root-only";
	case EAGAIN:
		return "chronyd is not reading its socket (queue full)";
	default:
		return "send failed";
	}
}

static void note_state(struct sock_client *c, int e)
{
	if (e == c->last_errno) {
		return;
	}
	if (e == 0) {
		log_notice("%s samples reach chronyd at %s", c->name,
			   c->addr.sun_path);
	} else {
		log_warn("%s samples not delivered to %s: %s (%s); will keep "
			 "trying", c->name, c->addr.sun_path, strerror(e),
			 send_hint(e));
	}
	c->last_errno = e;
}

static void count_errno(struct sock_stats *st, int e)
{
	int i;

	for (i = 0; i < SOCK_ERRNO_SLOTS; i++) {
		if (st->by_errno[i].err == e || st->by_errno[i].err == 0) {
			st->by_errno[i].err = e;
			st->by_errno[i].count++;
			return;
		}
	}
}

const char *sock_errno_meaning(int e)
{
	switch (e) {
	case ENOENT:
		return "chronyd is not running, or has no refclock SOCK on "
		       "this path";
	case EACCES:
	case EPERM:
		return "permission denied: gpsppsd's user cannot write "
		       "chronyd's socket (see doc/install.md)";
	case ECONNREFUSED:
		return "a stale socket: chronyd stopped";
	case EAGAIN:
	case ENOBUFS:
		return "chronyd's queue is full";
	default:
		return strerror(e);
	}
}

int sock_client_send(struct sock_client *c, const struct sock_sample *s)
{
	ssize_t n = sendto(c->fd, s, sizeof(*s), MSG_DONTWAIT | MSG_NOSIGNAL,
			   (const struct sockaddr *)&c->addr, sizeof(c->addr));
	int e = n == (ssize_t)sizeof(*s) ? 0 : (n < 0 ? errno : EMSGSIZE);

	note_state(c, e);
	c->stats.last_errno = e;
	if (e != 0) {
		c->stats.failed++;
		count_errno(&c->stats, e);
		return -e;
	}
	c->stats.sent++;
	c->stats.last_sent_ns = tu_now(CLOCK_REALTIME);
	c->stats.last_sent_mono_ns = tu_now(CLOCK_MONOTONIC);
	return 0;
}

const struct sock_stats *sock_client_stats(const struct sock_client *c)
{
	return &c->stats;
}

const char *sock_client_path(const struct sock_client *c)
{
	return c->addr.sun_path;
}

size_t sock_client_sample_size(void)
{
	return sizeof(struct sock_sample);
}
