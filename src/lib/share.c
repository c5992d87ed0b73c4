/* SPDX-License-Identifier: GPL-2.0-or-later */
/* share.c - see share.h. */
#include "share.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

struct share {
	struct loop *loop;
	int master, slave;            /* the pty, -1 when off */
	char slave_path[PATH_MAX];
	char link[PATH_MAX];
	int listen_fd;                /* -1 when off */
	int clients[SHARE_MAX_CLIENTS];
	struct share_stats stats;
};

static int share_port(const char *s, int *port)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535) {
		return -EINVAL;
	}
	*port = (int)v;
	return 0;
}

static int share_ip(const char *host, int port, struct share_addr *a)
{
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->ss;

	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		a->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*v6);
		return 0;
	}
	return -EINVAL;
}

/* Split "[V6]:PORT", "[V6]", "V4:PORT", "V4" or "V6" into host and port
 * (left as it is when not given).  Returns 0 or -EINVAL. */
static int share_split(const char *spec, char *host, size_t cap, int *port)
{
	const char *h = spec, *end, *colon = strrchr(spec, ':');
	size_t hl;

	if (spec[0] == '[') {
		h = spec + 1;
		end = strchr(h, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':') ||
		    (end[1] == ':' && share_port(end + 2, port) != 0)) {
			return -EINVAL;
		}
		hl = (size_t)(end - h);
	} else if (colon != NULL && strchr(spec, ':') == colon) {
		if (share_port(colon + 1, port) != 0) {
			return -EINVAL;
		}
		hl = (size_t)(colon - spec);
	} else {
		hl = strlen(spec);
	}
	if (hl == 0 || hl >= cap) {
		return -EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

int share_parse_tcp(const char *spec, struct share_addr *a, char *err,
		    size_t errlen)
{
	char host[64];
	int port = SHARE_TCP_PORT;

	if (share_port(spec, &port) == 0) {
		return share_ip("127.0.0.1", port, a);
	}
	if (share_split(spec, host, sizeof(host), &port) == 0 &&
	    share_ip(host, port, a) == 0) {
		return 0;
	}
	snprintf(err, errlen, "\"%s\" is not ADDR:PORT, [IPV6]:PORT, ADDR or "
		 "PORT with a numeric address (e.g. 127.0.0.1:10110)", spec);
	return -EINVAL;
}

/* ---- the pty ---- */

static void share_master_cb(void *arg, int fd, short revents)
{
	char buf[256];

	(void)arg;
	(void)revents;
	while (read(fd, buf, sizeof(buf)) > 0) {
		/* what a consumer writes never reaches the receiver */
	}
}

static int share_link(struct share *sh, const char *path, char *err,
		      size_t errlen)
{
	char tmp[PATH_MAX + 16];
	struct stat st;

	if (lstat(path, &st) == 0 && !S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "share-pty %s: exists and is not a "
			 "symlink; not replacing it", path);
		return -EEXIST;
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (symlink(sh->slave_path, tmp) != 0 || rename(tmp, path) != 0) {
		int r = -errno;

		unlink(tmp);
		snprintf(err, errlen, "share-pty %s: %s; its directory must be "
			 "writable by gpsppsd's user", path, strerror(-r));
		return r;
	}
	snprintf(sh->link, sizeof(sh->link), "%s", path);
	return 0;
}

static int share_pty_open(struct share *sh, const char *path, char *err,
			  size_t errlen)
{
	struct termios t;
	int r;

	sh->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sh->master < 0 || grantpt(sh->master) != 0 ||
	    unlockpt(sh->master) != 0 ||
	    fcntl(sh->master, F_SETFL, O_NONBLOCK) != 0 ||
	    ptsname_r(sh->master, sh->slave_path,
		      sizeof(sh->slave_path)) != 0) {
		snprintf(err, errlen, "share-pty: cannot create a "
			 "pseudo-terminal: %s", strerror(errno));
		return -errno;
	}
	sh->slave = open(sh->slave_path, O_RDWR | O_NOCTTY | O_NONBLOCK |
			 O_CLOEXEC);
	if (sh->slave < 0 || tcgetattr(sh->slave, &t) != 0) {
		snprintf(err, errlen, "share-pty: %s: %s", sh->slave_path,
			 strerror(errno));
		return -errno;
	}
	cfmakeraw(&t);
	if (tcsetattr(sh->slave, TCSANOW, &t) != 0) {
		snprintf(err, errlen, "share-pty: raw mode: %s", strerror(errno));
		return -errno;
	}
	r = share_link(sh, path, err, errlen);
	if (r == 0) {
		r = loop_add_fd(sh->loop, sh->master, POLLIN, share_master_cb, sh);
	}
	return r;
}

static void share_pty_write(struct share *sh, const char *p, size_t n)
{
	ssize_t w = write(sh->master, p, n);

	if (w == (ssize_t)n) {
		return;
	}
	/* Nobody reads: drop the stale queue, then try once more. */
	tcflush(sh->slave, TCIFLUSH);
	if (w < 0) {
		w = 0;
	}
	p += w;
	n -= (size_t)w;
	w = write(sh->master, p, n);
	sh->stats.dropped += n - (w > 0 ? (size_t)w : 0);
}

/* ---- TCP ---- */

static void share_client_close(struct share *sh, int i)
{
	loop_remove_fd(sh->loop, sh->clients[i]);
	close(sh->clients[i]);
	sh->clients[i] = -1;
	sh->stats.clients--;
}

static void share_client_cb(void *arg, int fd, short revents)
{
	struct share *sh = arg;
	char buf[256];
	ssize_t r;
	int i;

	(void)revents;
	do {
		r = read(fd, buf, sizeof(buf));
	} while (r > 0);
	if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
		for (i = 0; i < SHARE_MAX_CLIENTS; i++) {
			if (sh->clients[i] == fd) {
				share_client_close(sh, i);
			}
		}
	}
}

static int share_free_slot(const struct share *sh)
{
	int i;

	for (i = 0; i < SHARE_MAX_CLIENTS; i++) {
		if (sh->clients[i] < 0) {
			return i;
		}
	}
	return -1;
}

static void share_accept_cb(void *arg, int fd, short revents)
{
	struct share *sh = arg;
	int c, i;

	(void)revents;
	while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		i = share_free_slot(sh);
		if (i < 0 ||
		    loop_add_fd(sh->loop, c, POLLIN, share_client_cb, sh) < 0) {
			close(c);
			sh->stats.refused++;
			continue;
		}
		sh->clients[i] = c;
		sh->stats.clients++;
		sh->stats.accepted++;
	}
}

static int share_listen(struct share *sh, const char *spec, char *err,
			size_t errlen)
{
	struct share_addr a;
	int one = 1;

	if (share_parse_tcp(spec, &a, err, errlen) < 0) {
		return -EINVAL;
	}
	sh->listen_fd = socket(a.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
			       SOCK_CLOEXEC, 0);
	if (sh->listen_fd < 0 ||
	    setsockopt(sh->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
		       sizeof(one)) != 0 ||
	    bind(sh->listen_fd, (struct sockaddr *)&a.ss, a.len) != 0 ||
	    listen(sh->listen_fd, 8) != 0) {
		snprintf(err, errlen, "share-tcp %s: %s (another gpsd or "
			 "gpsppsd on this port?)", spec, strerror(errno));
		return -errno;
	}
	return loop_add_fd(sh->loop, sh->listen_fd, POLLIN, share_accept_cb,
			   sh);
}

static void share_tcp_write(struct share *sh, const char *p, size_t n)
{
	ssize_t w;
	int i;

	for (i = 0; i < SHARE_MAX_CLIENTS; i++) {
		if (sh->clients[i] < 0) {
			continue;
		}
		w = send(sh->clients[i], p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			share_client_close(sh, i);
			continue;
		}
		sh->stats.dropped += n - (w > 0 ? (size_t)w : 0);
	}
}

/* ---- the interface ---- */

static bool share_on(const char *v)
{
	return v != NULL && *v != '\0' && strcmp(v, "none") != 0;
}

struct share *share_create(struct loop *l, const char *pty_link,
			   const char *tcp, char *err, size_t errlen)
{
	struct share *sh = calloc(1, sizeof(*sh));
	int i, r = 0;

	if (sh == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sh->loop = l;
	sh->master = sh->slave = sh->listen_fd = -1;
	for (i = 0; i < SHARE_MAX_CLIENTS; i++) {
		sh->clients[i] = -1;
	}
	if (share_on(pty_link)) {
		r = share_pty_open(sh, pty_link, err, errlen);
	}
	if (r == 0 && share_on(tcp)) {
		r = share_listen(sh, tcp, err, errlen);
	}
	if (r < 0) {
		share_destroy(sh);
		return NULL;
	}
	return sh;
}

void share_write(struct share *sh, const void *buf, size_t n)
{
	if (sh == NULL || n == 0) {
		return;
	}
	sh->stats.bytes += n;
	if (sh->master >= 0) {
		share_pty_write(sh, buf, n);
	}
	share_tcp_write(sh, buf, n);
}

const struct share_stats *share_get_stats(const struct share *sh)
{
	return &sh->stats;
}

static void share_unlink(const struct share *sh)
{
	char cur[PATH_MAX];
	ssize_t n = readlink(sh->link, cur, sizeof(cur) - 1);

	if (n > 0) {
		cur[n] = '\0';
		if (strcmp(cur, sh->slave_path) == 0) {
			unlink(sh->link);
		}
	}
}

void share_destroy(struct share *sh)
{
	int i;

	if (sh == NULL) {
		return;
	}
	for (i = 0; i < SHARE_MAX_CLIENTS; i++) {
		if (sh->clients[i] >= 0) {
			share_client_close(sh, i);
		}
	}
	if (sh->listen_fd >= 0) {
		loop_remove_fd(sh->loop, sh->listen_fd);
		close(sh->listen_fd);
	}
	if (sh->link[0] != '\0') {
		share_unlink(sh);
	}
	if (sh->master >= 0) {
		loop_remove_fd(sh->loop, sh->master);
		close(sh->master);
	}
	if (sh->slave >= 0) {
		close(sh->slave);
	}
	free(sh);
}
