/* loop.c - see loop.h. */
#include "loop.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "timeutil.h"

struct loop_fd {
	int fd;
	short events;
	loop_fd_cb cb;
	void *arg;
};

struct loop_timer {
	int id;            /* 0: free slot */
	int64_t deadline;
	loop_timer_cb cb;
	void *arg;
};

struct loop {
	struct loop_fd fds[LOOP_MAX_FDS];
	int nfds;
	struct loop_timer timers[LOOP_MAX_TIMERS];
	int next_id;
	bool quit;
	uint64_t wakeups;
	int64_t wake_real, wake_raw;
};

struct loop *loop_create(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l != NULL) {
		l->next_id = 1;
	}
	return l;
}

void loop_destroy(struct loop *l)
{
	free(l);
}

int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb,
		void *arg)
{
	int i;

	for (i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd) {
			return -EEXIST;
		}
	}
	if (l->nfds == LOOP_MAX_FDS) {
		return -ENOSPC;
	}
	l->fds[l->nfds++] = (struct loop_fd){ fd, events, cb, arg };
	return 0;
}

void loop_remove_fd(struct loop *l, int fd)
{
	int i;

	for (i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd) {
			l->fds[i] = l->fds[--l->nfds];
			return;
		}
	}
}

int loop_add_timer(struct loop *l, int64_t deadline_ns, loop_timer_cb cb,
		   void *arg)
{
	int i;

	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].id == 0) {
			/* Ids wrap after 2^31 timers (weeks of per-read idle
			 * timers at high rates); a stale id never matches a
			 * live timer that long after. */
			int id = l->next_id;

			l->next_id = id == INT_MAX ? 1 : id + 1;
			l->timers[i] = (struct loop_timer){ id, deadline_ns,
							    cb, arg };
			return id;
		}
	}
	return -ENOSPC;
}

void loop_cancel_timer(struct loop *l, int id)
{
	int i;

	for (i = 0; id > 0 && i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].id == id) {
			l->timers[i].id = 0;
		}
	}
}

/* Index of the earliest pending timer, or -1. */
static int earliest_timer(const struct loop *l)
{
	int i, best = -1;

	for (i = 0; i < LOOP_MAX_TIMERS; i++) {
		if (l->timers[i].id != 0 && (best < 0 ||
		    l->timers[i].deadline < l->timers[best].deadline)) {
			best = i;
		}
	}
	return best;
}

static int poll_timeout_ms(const struct loop *l, int64_t now)
{
	int t = earliest_timer(l);
	int64_t wait;

	if (t < 0) {
		return -1;
	}
	wait = l->timers[t].deadline - now;
	if (wait <= 0) {
		return 0;
	}
	/* Round up: waking early would only spin once more. */
	wait = (wait + TU_NS_PER_MS - 1) / TU_NS_PER_MS;
	return wait > 60000 ? 60000 : (int)wait;
}

static void run_due_timers(struct loop *l)
{
	int64_t now = tu_now(CLOCK_MONOTONIC);
	int t;

	while ((t = earliest_timer(l)) >= 0 && l->timers[t].deadline <= now) {
		struct loop_timer fired = l->timers[t];

		l->timers[t].id = 0;
		fired.cb(fired.arg);
	}
}

static void dispatch_fds(struct loop *l, struct pollfd *pfd, int n)
{
	int i, j;

	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0) {
			continue;
		}
		/* A handler may have removed fds: look the fd up again. */
		for (j = 0; j < l->nfds; j++) {
			if (l->fds[j].fd == pfd[i].fd) {
				l->fds[j].cb(l->fds[j].arg, pfd[i].fd,
					     pfd[i].revents);
				break;
			}
		}
	}
}

int loop_run(struct loop *l)
{
	struct pollfd pfd[LOOP_MAX_FDS];
	int i, n, r;

	l->quit = false;
	while (!l->quit) {
		n = l->nfds;
		for (i = 0; i < n; i++) {
			pfd[i] = (struct pollfd){ l->fds[i].fd,
				l->fds[i].events, 0 };
		}
		r = poll(pfd, (nfds_t)n, poll_timeout_ms(l, tu_now(CLOCK_MONOTONIC)));
		l->wake_real = tu_now(CLOCK_REALTIME);
		l->wake_raw = tu_now(CLOCK_MONOTONIC_RAW);
		l->wakeups++;
		if (r < 0 && errno != EINTR) {
			return -errno;
		}
		if (r > 0) {
			dispatch_fds(l, pfd, n);
		}
		run_due_timers(l);
	}
	return 0;
}

void loop_quit(struct loop *l)
{
	l->quit = true;
}

void loop_wake_time(const struct loop *l, int64_t *real_ns,
		    int64_t *mono_raw_ns)
{
	*real_ns = l->wake_real;
	*mono_raw_ns = l->wake_raw;
}

uint64_t loop_wakeups(const struct loop *l)
{
	return l->wakeups;
}
