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
	uint64_t gen;      /* tells a re-added fd number from the old one */
};

struct loop_timer {
	int id;            /* 0: free slot */
	int64_t deadline;
	uint64_t seq;      /* order of adding, for equal deadlines */
	loop_timer_cb cb;
	void *arg;
};

struct loop {
	struct loop_fd *fds;
	int nfds, fd_cap;
	struct loop_timer *timers;
	int timer_cap, ntimers;
	/* poll's view of the fds of one wake-up, and each one's gen */
	struct pollfd *pfd;
	uint64_t *pfd_gen;
	int pfd_cap, gen_cap;
	int next_id;
	uint64_t next_gen, next_seq;
	bool quit;
	uint64_t wakeups;
	int64_t wake_real, wake_raw;
};

#define LOOP_INITIAL_CAP 16

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
	if (l == NULL) {
		return;
	}
	free(l->fds);
	free(l->timers);
	free(l->pfd);
	free(l->pfd_gen);
	free(l);
}

/* arr, of *cap elements of size sz, with room for n (its capacity
 * doubled as needed; *cap updated), or NULL with arr left as it was. */
static void *grow(void *arr, int *cap, int n, size_t sz)
{
	int c = *cap ? *cap : LOOP_INITIAL_CAP;
	void *p;

	if (n < 1) {
		n = 1;       /* never NULL for an empty table */
	}
	if (n <= *cap) {
		return arr;
	}
	while (c < n) {
		if (c > INT_MAX / 2) {
			return NULL;
		}
		c *= 2;
	}
	p = realloc(arr, (size_t)c * sz);
	if (p != NULL) {
		*cap = c;
	}
	return p;
}

int loop_add_fd(struct loop *l, int fd, short events, loop_fd_cb cb,
		void *arg)
{
	struct loop_fd *p;
	int i;

	for (i = 0; i < l->nfds; i++) {
		if (l->fds[i].fd == fd) {
			return -EEXIST;
		}
	}
	p = grow(l->fds, &l->fd_cap, l->nfds + 1, sizeof(*p));

	if (p == NULL) {
		return -ENOMEM;
	}
	l->fds = p;
	l->fds[l->nfds++] = (struct loop_fd){ fd, events, cb, arg,
					      ++l->next_gen };
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

static int free_timer_slot(struct loop *l)
{
	struct loop_timer *p;
	int i, old = l->timer_cap;

	if (l->ntimers < l->timer_cap) {
		for (i = 0; i < l->timer_cap; i++) {
			if (l->timers[i].id == 0) {
				return i;
			}
		}
	}
	p = grow(l->timers, &l->timer_cap, old + 1, sizeof(*p));
	if (p == NULL) {
		return -ENOMEM;
	}
	l->timers = p;
	for (i = old; i < l->timer_cap; i++) {
		l->timers[i].id = 0;
	}
	return old;
}

int loop_add_timer(struct loop *l, int64_t deadline_ns, loop_timer_cb cb,
		   void *arg)
{
	int i = free_timer_slot(l);
	int id = l->next_id;

	if (i < 0) {
		return i;
	}
	/* Ids wrap after 2^31 timers (weeks of per-read idle timers at
	 * high rates); a stale id never matches a live timer that long
	 * after. */
	l->next_id = id == INT_MAX ? 1 : id + 1;
	l->timers[i] = (struct loop_timer){ id, deadline_ns, l->next_seq++,
					    cb, arg };
	l->ntimers++;
	return id;
}

void loop_cancel_timer(struct loop *l, int id)
{
	int i;

	for (i = 0; id > 0 && i < l->timer_cap; i++) {
		if (l->timers[i].id == id) {
			l->timers[i].id = 0;
			l->ntimers--;
			return;
		}
	}
}

static bool timer_before(const struct loop_timer *a,
			 const struct loop_timer *b)
{
	return a->deadline < b->deadline ||
	       (a->deadline == b->deadline && a->seq < b->seq);
}

/* Index of the earliest pending timer, or -1. */
static int earliest_timer(const struct loop *l)
{
	int i, best = -1;

	for (i = 0; i < l->timer_cap; i++) {
		if (l->timers[i].id != 0 && (best < 0 ||
		    timer_before(&l->timers[i], &l->timers[best]))) {
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
		l->ntimers--;
		fired.cb(fired.arg);
	}
}

/* The fd entry that pfd slot i was taken from, if it is still there. */
static struct loop_fd *snapshot_entry(struct loop *l, int i)
{
	int j;

	for (j = 0; j < l->nfds; j++) {
		if (l->fds[j].fd == l->pfd[i].fd &&
		    l->fds[j].gen == l->pfd_gen[i]) {
			return &l->fds[j];
		}
	}
	return NULL;
}

static void dispatch_fds(struct loop *l, int n)
{
	struct loop_fd *e;
	int i;

	for (i = 0; i < n; i++) {
		if (l->pfd[i].revents == 0) {
			continue;
		}
		/* A handler may have removed fds (or closed one and
		 * watched its number anew): look the entry up again. */
		e = snapshot_entry(l, i);
		if (e != NULL) {
			e->cb(e->arg, l->pfd[i].fd, l->pfd[i].revents);
		}
	}
}

/* Copy the watched fds into the poll array; returns their count or
 * -ENOMEM. */
static int snapshot_fds(struct loop *l)
{
	struct pollfd *p = grow(l->pfd, &l->pfd_cap, l->nfds, sizeof(*p));
	uint64_t *g;
	int i;

	if (p == NULL) {
		return -ENOMEM;
	}
	l->pfd = p;
	g = grow(l->pfd_gen, &l->gen_cap, l->nfds, sizeof(*g));
	if (g == NULL) {
		return -ENOMEM;
	}
	l->pfd_gen = g;
	for (i = 0; i < l->nfds; i++) {
		l->pfd[i] = (struct pollfd){ l->fds[i].fd, l->fds[i].events,
					     0 };
		l->pfd_gen[i] = l->fds[i].gen;
	}
	return l->nfds;
}

int loop_run(struct loop *l)
{
	int n, r;

	l->quit = false;
	while (!l->quit) {
		n = snapshot_fds(l);
		if (n < 0) {
			return n;
		}
		r = poll(l->pfd, (nfds_t)n,
			 poll_timeout_ms(l, tu_now(CLOCK_MONOTONIC)));
		l->wake_real = tu_now(CLOCK_REALTIME);
		l->wake_raw = tu_now(CLOCK_MONOTONIC_RAW);
		l->wakeups++;
		if (r < 0 && errno != EINTR) {
			return -errno;
		}
		if (r > 0) {
			dispatch_fds(l, n);
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

void loop_usage(const struct loop *l, int *fds, int *timers, int *fd_cap,
		int *timer_cap)
{
	*fds = l->nfds;
	*timers = l->ntimers;
	*fd_cap = l->fd_cap;
	*timer_cap = l->timer_cap;
}
