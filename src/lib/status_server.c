/* SPDX-License-Identifier: GPL-2.0-or-later */
/* status_server.c - see status_server.h. */
#include "status_server.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "status_request.h"
#include "timeutil.h"

/* The kernel's share of a client's unread output. */
#define CLIENT_SNDBUF (16 * 1024)
/* Connections accepted in one wake-up at most (the rest wait in the
 * listen queue for the next). */
#define ACCEPT_BURST 16

enum client_state {
	CLIENT_FREE = 0,
	CLIENT_REQUEST,     /* waiting for the request line */
	CLIENT_CLOSING,     /* answer (or error line) queued, then close */
	CLIENT_WATCH,       /* one object a second */
};

struct client {
	enum client_state state;
	int fd;
	short events;       /* as registered with the loop */
	int64_t since;      /* CLOCK_MONOTONIC of accept / last state change */
	char in[STATUS_REQUEST_MAX];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
};

struct status_server {
	struct loop *loop;
	int fd;
	bool listening;     /* lfd watched (paused while out of fds) */
	char path[STATUS_SERVER_PATH_MAX + 1];
	dev_t dev;
	ino_t ino;
	status_server_render_cb render;
	void *arg;
	struct client cl[STATUS_SERVER_MAX_CLIENTS];
	struct status_server_stats stats;
	struct log_ratelimit rl;
};

/* ---- clients -------------------------------------------------------- */

static void client_close(struct status_server *s, struct client *c)
{
	loop_remove_fd(s->loop, c->fd);
	close(c->fd);
	free(c->out);
	*c = (struct client){ .state = CLIENT_FREE, .fd = -1 };
	s->stats.clients--;
}

static void client_cb(void *arg, int fd, short revents);

/* Register the events the client's state needs. */
static void client_watch(struct status_server *s, struct client *c)
{
	short ev = c->state == CLIENT_CLOSING ? 0 : POLLIN;

	if (c->out_off < c->out_len) {
		ev |= POLLOUT;
	}
	if (ev == c->events) {
		return;
	}
	loop_remove_fd(s->loop, c->fd);
	if (loop_add_fd(s->loop, c->fd, ev, client_cb, s) < 0) {
		client_close(s, c);
		return;
	}
	c->events = ev;
}

/* Append len bytes to the client's output; false when over the bound. */
static bool client_queue(struct client *c, const char *text, size_t len)
{
	size_t pending = c->out_len - c->out_off;
	char *p;

	if (pending + len > STATUS_SERVER_OUT_MAX) {
		return false;
	}
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, pending);
		c->out_off = 0;
		c->out_len = pending;
	}
	p = realloc(c->out, pending + len);
	if (p == NULL) {
		return false;
	}
	memcpy(p + pending, text, len);
	c->out = p;
	c->out_len = pending + len;
	return true;
}

/* Write what the socket takes.  Returns false when the client is gone
 * (closed here), true otherwise. */
static bool client_flush(struct status_server *s, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			break;
		}
		if (n <= 0) {
			client_close(s, c);
			return false;
		}
		c->out_off += (size_t)n;
	}
	if (c->state == CLIENT_CLOSING && c->out_off == c->out_len) {
		client_close(s, c);
		return false;
	}
	client_watch(s, c);
	return c->state != CLIENT_FREE;
}

static void client_error(struct status_server *s, struct client *c,
			 const char *msg)
{
	char line[160];
	int n = snprintf(line, sizeof(line),
			 "{\"version\":1,\"error\":\"%s\"}\n", msg);

	s->stats.bad_requests++;
	c->state = CLIENT_CLOSING;
	client_queue(c, line, (size_t)n);
	client_flush(s, c);
}

/* Queue one rendered object; false when the client was dropped. */
static bool client_send_object(struct status_server *s, struct client *c,
			       const char *text, size_t len)
{
	if (text == NULL || !client_queue(c, text, len)) {
		s->stats.dropped++;
		client_close(s, c);
		return false;
	}
	s->stats.answers++;
	return true;
}

static void client_answer(struct status_server *s, struct client *c,
			  enum status_request r)
{
	size_t len = 0;
	char *text = s->render(s->arg, &len);

	c->state = r == STATUS_REQUEST_WATCH ? CLIENT_WATCH : CLIENT_CLOSING;
	c->since = tu_now(CLOCK_MONOTONIC);
	if (client_send_object(s, c, text, len)) {
		client_flush(s, c);
	}
	free(text);
}

static void client_read_request(struct status_server *s, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
			 MSG_DONTWAIT);
	enum status_request r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		client_close(s, c);
		return;
	}
	c->in_len += (size_t)n;
	r = status_request_parse(c->in, c->in_len);
	if (r == STATUS_REQUEST_STATUS || r == STATUS_REQUEST_WATCH) {
		client_answer(s, c, r);
	} else if (r != STATUS_REQUEST_INCOMPLETE) {
		client_error(s, c, status_request_error(r));
	}
}

/* A watcher may send more; it is read and ignored.  End of file (or an
 * error) means it went away. */
static void client_discard_input(struct status_server *s, struct client *c)
{
	char buf[512];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		client_close(s, c);
	}
}

static struct client *client_by_fd(struct status_server *s, int fd)
{
	int i;

	for (i = 0; i < STATUS_SERVER_MAX_CLIENTS; i++) {
		if (s->cl[i].state != CLIENT_FREE && s->cl[i].fd == fd) {
			return &s->cl[i];
		}
	}
	return NULL;
}

static void client_cb(void *arg, int fd, short revents)
{
	struct status_server *s = arg;
	struct client *c = client_by_fd(s, fd);

	if (c == NULL) {
		return;
	}
	if ((revents & POLLOUT) && !client_flush(s, c)) {
		return;
	}
	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		if (c->state == CLIENT_REQUEST) {
			client_read_request(s, c);
		} else if (c->state == CLIENT_WATCH) {
			client_discard_input(s, c);
		} else if (revents & (POLLHUP | POLLERR)) {
			client_close(s, c);
		}
	}
}

/* ---- listening ------------------------------------------------------ */

static struct client *free_slot(struct status_server *s)
{
	int i;

	for (i = 0; i < STATUS_SERVER_MAX_CLIENTS; i++) {
		if (s->cl[i].state == CLIENT_FREE) {
			return &s->cl[i];
		}
	}
	return NULL;
}

static void refuse(struct status_server *s, int fd)
{
	static const char line[] = "{\"version\":1,\"error\":\"too many "
				   "clients (at most 8)\"}\n";

	s->stats.refused++;
	if (send(fd, line, sizeof(line) - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* Nothing to do: the client is closed either way. */
	}
	close(fd);
}

static void take_client(struct status_server *s, int fd)
{
	struct client *c = free_slot(s);
	int sz = CLIENT_SNDBUF;

	s->stats.accepted++;
	if (c == NULL) {
		refuse(s, fd);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (loop_add_fd(s->loop, fd, POLLIN, client_cb, s) < 0) {
		close(fd);
		return;
	}
	*c = (struct client){ .state = CLIENT_REQUEST, .fd = fd,
			      .events = POLLIN,
			      .since = tu_now(CLOCK_MONOTONIC) };
	s->stats.clients++;
}

static void listen_pause(struct status_server *s, int e)
{
	log_limited(&s->rl, LOG_LVL_WARN, "status socket %s: accept: %s; "
		    "not accepting for a second", s->path, strerror(e));
	loop_remove_fd(s->loop, s->fd);
	s->listening = false;
}

static void accept_cb(void *arg, int fd, short revents)
{
	struct status_server *s = arg;
	int i, c;

	(void)revents;
	for (i = 0; i < ACCEPT_BURST; i++) {
		c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c >= 0) {
			take_client(s, c);
			continue;
		}
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			listen_pause(s, errno);
		}
		return;
	}
}

static void listen_resume(struct status_server *s)
{
	if (!s->listening &&
	    loop_add_fd(s->loop, s->fd, POLLIN, accept_cb, s) == 0) {
		s->listening = true;
	}
}

void status_server_tick(struct status_server *s, int64_t now_mono)
{
	size_t len = 0;
	char *text = NULL;
	int i;

	if (s == NULL) {
		return;
	}
	listen_resume(s);
	for (i = 0; i < STATUS_SERVER_MAX_CLIENTS; i++) {
		struct client *c = &s->cl[i];

		if (c->state == CLIENT_WATCH) {
			if (text == NULL) {
				text = s->render(s->arg, &len);
			}
			if (client_send_object(s, c, text, len)) {
				client_flush(s, c);
			}
		} else if (c->state == CLIENT_REQUEST &&
			   now_mono - c->since > STATUS_SERVER_REQUEST_NS) {
			client_error(s, c, "no request line within 5 s");
		} else if (c->state == CLIENT_CLOSING &&
			   now_mono - c->since > STATUS_SERVER_REQUEST_NS) {
			s->stats.dropped++;
			client_close(s, c);
		}
	}
	free(text);
}

/* ---- set-up --------------------------------------------------------- */

/* Remove a socket nobody answers on; refuse anything else at path. */
static int clear_stale(const char *path, const struct sockaddr_un *sa,
		       char *err, size_t errlen)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) != 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "status socket %s: a file that is not a "
			 "socket is in the way; remove it or set status-socket "
			 "to another path", path);
		return -EEXIST;
	}
	/* Non-blocking: a live server with a full queue answers EAGAIN
	 * rather than making us wait. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		return -errno;
	}
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	r = r == 0 || errno == EAGAIN ? 0 : -1;
	close(fd);
	if (r == 0) {
		snprintf(err, errlen, "status socket %s is in use by another "
			 "process (another gpsppsd?); stop it or set "
			 "status-socket to another path", path);
		return -EADDRINUSE;
	}
	return unlink(path) == 0 || errno == ENOENT ? 0 : -errno;
}

static int bind_listen(struct status_server *s, const struct sockaddr_un *sa)
{
	struct stat st;
	mode_t old;
	int r;

	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		return -errno;
	}
	/* The mode comes from the umask at bind: never wider than 0660. */
	old = umask(0117);
	r = bind(s->fd, (const struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (r != 0 || chmod(s->path, 0660) != 0 || listen(s->fd, 16) != 0 ||
	    stat(s->path, &st) != 0) {
		return -errno;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

static int server_open(struct status_server *s, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	memcpy(sa.sun_path, s->path, strlen(s->path) + 1);
	r = clear_stale(s->path, &sa, err, errlen);
	if (r == 0) {
		r = bind_listen(s, &sa);
	}
	if (r < 0 && err[0] == '\0') {
		snprintf(err, errlen, "status socket %s: %s (does its "
			 "directory exist and is it writable? set "
			 "status-socket to another path, or none)", s->path,
			 strerror(-r));
	}
	if (r == 0) {
		r = loop_add_fd(s->loop, s->fd, POLLIN, accept_cb, s);
		s->listening = r == 0;
	}
	return r;
}

struct status_server *status_server_create(struct loop *l, const char *path,
					   status_server_render_cb render,
					   void *arg, char *err, size_t errlen)
{
	struct status_server *s;
	int i;

	err[0] = '\0';
	if (strlen(path) > STATUS_SERVER_PATH_MAX) {
		/* %.4095s: bounded, or gcc warns that a 32-bit int could
		 * overflow (-Wformat-truncation, armhf) */
		snprintf(err, errlen, "status-socket %.4095s is longer than "
			 "%d bytes", path, STATUS_SERVER_PATH_MAX);
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*s = (struct status_server){ .loop = l, .fd = -1, .render = render,
		.arg = arg, .rl = { .interval_ns = 60 * TU_NS_PER_SEC,
				    .burst = 3 } };
	memcpy(s->path, path, strlen(path) + 1);
	for (i = 0; i < STATUS_SERVER_MAX_CLIENTS; i++) {
		s->cl[i].fd = -1;
	}
	if (server_open(s, err, errlen) < 0) {
		status_server_destroy(s);
		return NULL;
	}
	return s;
}

/* Remove the socket file only if it is still ours (not replaced by a
 * newer instance). */
static void remove_socket(const struct status_server *s)
{
	struct stat st;

	if (s->ino != 0 && stat(s->path, &st) == 0 && st.st_dev == s->dev &&
	    st.st_ino == s->ino) {
		unlink(s->path);
	}
}

void status_server_destroy(struct status_server *s)
{
	int i;

	if (s == NULL) {
		return;
	}
	for (i = 0; i < STATUS_SERVER_MAX_CLIENTS; i++) {
		if (s->cl[i].state != CLIENT_FREE) {
			client_close(s, &s->cl[i]);
		}
	}
	if (s->fd >= 0) {
		loop_remove_fd(s->loop, s->fd);
		close(s->fd);
		remove_socket(s);
	}
	free(s);
}

const struct status_server_stats *
status_server_stats(const struct status_server *s)
{
	return &s->stats;
}
