/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_loop.c - the event loop: timers in deadline order, fds and timers
 * removed from inside callbacks, capacity past the old fixed 16 slots.
 * Real pipes and the real CLOCK_MONOTONIC; deadlines are in the past or
 * a few ms ahead, so nothing here waits long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "loop.h"
#include "testseed.h"
#include "timeutil.h"

#define N_MANY 200

struct rec {
	struct loop *l;
	int order[N_MANY * 2];
	int n;
	int quit_after;          /* loop_quit when n reaches this */
	int cancel_id;           /* timer to cancel from a callback */
	int other_fd;            /* fd to remove from a callback */
	int fds[N_MANY][2];
	int calls[N_MANY];
};

struct tref {
	struct rec *r;
	int tag;
};

static void note(struct rec *r, int tag)
{
	r->order[r->n++] = tag;
	if (r->n == r->quit_after) {
		loop_quit(r->l);
	}
}

static void timer_cb(void *arg)
{
	struct tref *t = arg;

	note(t->r, t->tag);
}

/* Shuffled deadlines, some equal, all already due: they fire in deadline
 * order, equal ones in the order they were added. */
static void test_timer_order(void **state)
{
	struct rec r = { .l = loop_create() };
	static struct tref refs[N_MANY];
	int64_t now = tu_now(CLOCK_MONOTONIC);
	int64_t dl[N_MANY];
	int i, j;

	(void)state;
	assert_non_null(r.l);
	r.quit_after = N_MANY;
	for (i = 0; i < N_MANY; i++) {
		/* 50 distinct deadlines for 200 timers: many ties. */
		dl[i] = now - TU_NS_PER_SEC + test_range(0, 49) * TU_NS_PER_MS;
		refs[i] = (struct tref){ &r, i };
		assert_true(loop_add_timer(r.l, dl[i], timer_cb, &refs[i]) > 0);
	}
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.n, N_MANY);
	for (i = 1; i < N_MANY; i++) {
		int a = r.order[i - 1], b = r.order[i];

		assert_true(dl[a] < dl[b] || (dl[a] == dl[b] && a < b));
	}
	/* Every timer fired exactly once. */
	for (i = 0; i < N_MANY; i++) {
		int seen = 0;

		for (j = 0; j < N_MANY; j++) {
			seen += r.order[j] == i;
		}
		assert_int_equal(seen, 1);
	}
	loop_destroy(r.l);
}

/* A timer in the future fires after the earlier ones and not before its
 * deadline. */
static void test_timer_waits(void **state)
{
	struct rec r = { .l = loop_create() };
	struct tref late = { &r, 1 }, early = { &r, 0 };
	int64_t t0 = tu_now(CLOCK_MONOTONIC);

	(void)state;
	r.quit_after = 2;
	assert_true(loop_add_timer(r.l, t0 + 30 * TU_NS_PER_MS, timer_cb,
				   &late) > 0);
	assert_true(loop_add_timer(r.l, t0 + 10 * TU_NS_PER_MS, timer_cb,
				   &early) > 0);
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 1);
	assert_true(tu_now(CLOCK_MONOTONIC) - t0 >= 30 * TU_NS_PER_MS);
	loop_destroy(r.l);
}

static void cancel_cb(void *arg)
{
	struct tref *t = arg;

	loop_cancel_timer(t->r->l, t->r->cancel_id);
	note(t->r, t->tag);
}

static void quit_cb(void *arg)
{
	struct tref *t = arg;

	note(t->r, t->tag);
	loop_quit(t->r->l);
}

/* A due timer cancelled by an earlier one in the same wake-up does not
 * fire; cancelling it again, or a fired id, is harmless. */
static void test_cancel_in_callback(void **state)
{
	struct rec r = { .l = loop_create() };
	struct tref a = { &r, 0 }, b = { &r, 1 }, c = { &r, 2 };
	int64_t now = tu_now(CLOCK_MONOTONIC);
	int ida;

	(void)state;
	ida = loop_add_timer(r.l, now - 3, cancel_cb, &a);
	r.cancel_id = loop_add_timer(r.l, now - 2, timer_cb, &b);
	assert_true(loop_add_timer(r.l, now - 1, quit_cb, &c) > 0);
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 2);
	loop_cancel_timer(r.l, r.cancel_id);
	loop_cancel_timer(r.l, ida);
	loop_cancel_timer(r.l, 0);
	loop_destroy(r.l);
}

static void make_pipe(int p[2])
{
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
}

/* Each handler removes (and closes) the other pipe: whichever runs first,
 * the other must not be called with the stale revents. */
static void remove_other_cb(void *arg, int fd, short revents)
{
	struct rec *r = arg;
	int i = fd == r->fds[0][0] ? 0 : 1;
	int other = r->fds[1 - i][0];

	(void)revents;
	r->calls[i]++;
	loop_remove_fd(r->l, other);
	loop_remove_fd(r->l, fd);
	loop_quit(r->l);
}

static void test_remove_fd_in_callback(void **state)
{
	struct rec r = { .l = loop_create() };

	(void)state;
	make_pipe(r.fds[0]);
	make_pipe(r.fds[1]);
	assert_int_equal(loop_add_fd(r.l, r.fds[0][0], POLLIN,
				     remove_other_cb, &r), 0);
	assert_int_equal(loop_add_fd(r.l, r.fds[1][0], POLLIN,
				     remove_other_cb, &r), 0);
	assert_int_equal(loop_add_fd(r.l, r.fds[1][0], POLLIN,
				     remove_other_cb, &r), -EEXIST);
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.calls[0] + r.calls[1], 1);
	assert_int_equal(loop_wakeups(r.l), 1);
	loop_destroy(r.l);
	close(r.fds[0][0]);
	close(r.fds[0][1]);
	close(r.fds[1][0]);
	close(r.fds[1][1]);
}

static void new_owner_cb(void *arg, int fd, short revents)
{
	struct rec *r = arg;

	(void)fd;
	(void)revents;
	r->calls[2]++;
}

/* The first handler closes the other pipe and watches a new descriptor
 * that takes its number: the stale readiness of the old one is not given
 * to the new handler. */
static void reuse_cb(void *arg, int fd, short revents)
{
	struct rec *r = arg;
	int i = fd == r->fds[0][0] ? 0 : 1;
	int other = r->fds[1 - i][0];
	int p[2];

	(void)revents;
	r->calls[i]++;
	loop_remove_fd(r->l, other);
	close(other);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(p[0], other);   /* lowest free number */
	r->fds[1 - i][0] = p[0];
	close(p[1]);
	assert_int_equal(loop_add_fd(r->l, p[0], POLLIN, new_owner_cb, r), 0);
	loop_remove_fd(r->l, fd);
	loop_quit(r->l);
}

static void test_fd_number_reused_in_callback(void **state)
{
	struct rec r = { .l = loop_create() };

	(void)state;
	make_pipe(r.fds[0]);
	make_pipe(r.fds[1]);
	assert_int_equal(loop_add_fd(r.l, r.fds[0][0], POLLIN, reuse_cb, &r),
			 0);
	assert_int_equal(loop_add_fd(r.l, r.fds[1][0], POLLIN, reuse_cb, &r),
			 0);
	assert_int_equal(loop_run(r.l), 0);
	assert_int_equal(r.calls[0] + r.calls[1], 1);
	assert_int_equal(r.calls[2], 0);
	loop_destroy(r.l);
	close(r.fds[0][0]);
	close(r.fds[1][0]);
	close(r.fds[0][1]);
	close(r.fds[1][1]);
}

static void count_fd_cb(void *arg, int fd, short revents)
{
	struct rec *r = arg;
	char c;
	int i;

	(void)revents;
	for (i = 0; i < N_MANY; i++) {
		if (r->fds[i][0] == fd) {
			r->calls[i]++;
			assert_int_equal(read(fd, &c, 1), 1);
			loop_remove_fd(r->l, fd);
			note(r, i);
		}
	}
}

/* 200 fds and 200 timers at once, far past the old fixed 16: every one
 * is dispatched once. */
static void test_capacity_grows(void **state)
{
	struct rec *r = calloc(1, sizeof(*r));
	static struct tref refs[N_MANY];
	int64_t now = tu_now(CLOCK_MONOTONIC);
	int i, nfds, ntimers, fd_cap, timer_cap;

	(void)state;
	assert_non_null(r);
	r->l = loop_create();
	r->quit_after = 2 * N_MANY;
	for (i = 0; i < N_MANY; i++) {
		make_pipe(r->fds[i]);
		assert_int_equal(loop_add_fd(r->l, r->fds[i][0], POLLIN,
					     count_fd_cb, r), 0);
		refs[i] = (struct tref){ r, N_MANY + i };
		assert_true(loop_add_timer(r->l, now + TU_NS_PER_MS, timer_cb,
					   &refs[i]) > 0);
	}
	loop_usage(r->l, &nfds, &ntimers, &fd_cap, &timer_cap);
	assert_int_equal(nfds, N_MANY);
	assert_int_equal(ntimers, N_MANY);
	assert_true(fd_cap >= N_MANY && timer_cap >= N_MANY);
	assert_int_equal(loop_run(r->l), 0);
	assert_int_equal(r->n, 2 * N_MANY);
	for (i = 0; i < N_MANY; i++) {
		assert_int_equal(r->calls[i], 1);
		close(r->fds[i][0]);
		close(r->fds[i][1]);
	}
	loop_usage(r->l, &nfds, &ntimers, &fd_cap, &timer_cap);
	assert_int_equal(nfds, 0);
	assert_int_equal(ntimers, 0);
	loop_destroy(r->l);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_order),
		cmocka_unit_test(test_timer_waits),
		cmocka_unit_test(test_cancel_in_callback),
		cmocka_unit_test(test_remove_fd_in_callback),
		cmocka_unit_test(test_fd_number_reused_in_callback),
		cmocka_unit_test(test_capacity_grows),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
