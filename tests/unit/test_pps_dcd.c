/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_pps_dcd.c - the DCD backend's TIOCMIWAIT mode (dcd:wait) without a
 * UART: linked with -Wl,--wrap=ioctl, so the modem-status ioctls of
 * pps_dcd.c come here and a script plays the DCD line.  The event loop
 * calls read() only when the backend's descriptor is readable, so what is
 * checked is what the loop would see: every edge and every error of the
 * wait thread is delivered, however many reads that takes.
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
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "pps.h"
#include "timeutil.h"

int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

/* One return of TIOCMIWAIT: the new DCD level, or an errno. */
struct step {
	int err;
	int dcd;
};

static pthread_mutex_t script_lock = PTHREAD_MUTEX_INITIALIZER;
static struct step script[16];
static int script_len, script_pos;
static int dcd_level;

static void play(const struct step *steps, int n)
{
	pthread_mutex_lock(&script_lock);
	memcpy(script, steps, (size_t)n * sizeof(*steps));
	script_len = n;
	script_pos = 0;
	dcd_level = 0;
	pthread_mutex_unlock(&script_lock);
}

/* TIOCMIWAIT: the next step, or (script over) wait for the signal that
 * the backend's close sends, as the real ioctl does. */
static int fake_miwait(void)
{
	struct timespec forever = { 60, 0 };
	struct step st = { 0, 0 };
	bool have = false;

	pthread_mutex_lock(&script_lock);
	if (script_pos < script_len) {
		st = script[script_pos++];
		have = true;
		if (st.err == 0) {
			dcd_level = st.dcd;
		}
	}
	pthread_mutex_unlock(&script_lock);
	if (!have) {
		if (nanosleep(&forever, NULL) < 0) {
			return -1;   /* EINTR */
		}
		errno = EIO;
		return -1;
	}
	if (st.err != 0) {
		errno = st.err;
		return -1;
	}
	return 0;
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg = NULL;

	if (req == TIOCMIWAIT) {
		return fake_miwait();
	}
	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (req == TIOCMGET) {
		pthread_mutex_lock(&script_lock);
		*(int *)arg = dcd_level ? TIOCM_CD : 0;
		pthread_mutex_unlock(&script_lock);
		return 0;
	}
	return __real_ioctl(fd, req, arg);
}

/* Wait until the wait thread has written n wake bytes (edges and its
 * error) into the backend's descriptor.  A guard against a thread that
 * never writes, not a bound on how soon: 30 s, as the background lane of
 * tests/run-all.sh (SCHED_IDLE) may get almost no CPU for seconds while
 * the other lane keeps both cores busy. */
static void wait_pending(int fd, int n)
{
	int64_t end = tu_now(CLOCK_MONOTONIC) + 30 * TU_NS_PER_SEC;
	int avail = 0;

	while (tu_now(CLOCK_MONOTONIC) < end) {
		assert_int_equal(ioctl(fd, FIONREAD, &avail), 0);
		if (avail >= n) {
			return;
		}
		usleep(1000);
	}
	fail_msg("the wait thread wrote %d of %d wake bytes", avail, n);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void open_wait_on(struct pps_source *src, const char *device)
{
	struct pps_options opt = { .edge = PPS_EDGE_RISING,
				   .serial_device = device,
				   .serial_fd = -1 };
	char err[256] = "";
	int r = pps_open(src, "dcd:wait", &opt, err, sizeof(err));

	if (r != 0) {
		fail_msg("dcd:wait on the scripted line: %s", err);
	}
}

static void open_wait(struct pps_source *src)
{
	open_wait_on(src, "/dev/null");
}

/* The thread reports two rising edges, a falling one, then fails: the
 * read that returns the edges must not swallow the error. */
static void test_error_after_edges(void **state)
{
	static const struct step steps[] = {
		{ 0, 1 }, { 0, 0 }, { 0, 1 }, { EIO, 0 },
	};
	struct pps_edge e[8];
	struct pps_source src;
	int fd;

	(void)state;
	play(steps, 4);
	open_wait(&src);
	fd = src.backend->fd(&src);
	wait_pending(fd, 4);    /* 3 edges + the error */
	assert_true(readable(fd));
	assert_int_equal(src.backend->read(&src, e, 8), 2);
	assert_int_equal(e[0].polarity, PPS_EDGE_RISING);
	assert_int_equal(e[1].polarity, PPS_EDGE_RISING);
	/* the loop polls again and learns that the source failed */
	assert_true(readable(fd));
	assert_int_equal(src.backend->read(&src, e, 8), -EIO);
	pps_close(&src);
}

/* More edges pending than one read takes: the rest are delivered by the
 * following reads, each announced by a readable descriptor. */
static void test_more_than_max(void **state)
{
	static const struct step steps[] = {
		{ 0, 1 }, { 0, 1 }, { 0, 1 }, { 0, 1 }, { 0, 1 },
	};
	struct pps_edge e[2];
	struct pps_source src;
	uint64_t last_seq = 0;
	int fd, got = 0, reads = 0;

	(void)state;
	play(steps, 5);
	open_wait(&src);
	fd = src.backend->fd(&src);
	wait_pending(fd, 5);
	while (readable(fd) && reads < 10) {
		int n = src.backend->read(&src, e, 2), i;

		assert_in_range(n, 0, 2);
		for (i = 0; i < n; i++) {
			assert_true(e[i].seq > last_seq);
			last_seq = e[i].seq;
		}
		got += n;
		reads++;
	}
	assert_int_equal(got, 5);
	assert_int_equal(reads, 3);
	assert_false(readable(fd));
	assert_int_equal(src.stats.edges, 5);
	pps_close(&src);   /* the thread waits in TIOCMIWAIT: must stop */
}

/* The port hangs up (here: a pty whose master closes; in the VM: the UART
 * removed) while the thread sits in TIOCMIWAIT, which a hang-up does not
 * end: the read the deadline asks for within a second reports the source
 * gone, and close stops the thread. */
static void test_hangup(void **state)
{
	static const struct step steps[] = { { 0, 1 } };
	struct pps_edge e[4];
	struct pps_source src;
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	int64_t before, deadline;

	(void)state;
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	play(steps, 1);
	open_wait_on(&src, ptsname(master));
	wait_pending(src.backend->fd(&src), 1);
	assert_int_equal(src.backend->read(&src, e, 4), 1);
	/* Within 1.1 s of the call, however long a loaded machine (the
	 * background lane, qemu-user) keeps this thread off the CPU around
	 * it: the bounds are taken just before and just after the call. */
	before = tu_now(CLOCK_MONOTONIC);
	deadline = src.backend->deadline(&src);
	assert_in_range(deadline, before, tu_now(CLOCK_MONOTONIC) +
			TU_NS_PER_SEC + TU_NS_PER_SEC / 10);
	close(master);
	assert_int_equal(src.backend->read(&src, e, 4), -ENODEV);
	pps_close(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hangup),
		cmocka_unit_test(test_error_after_edges),
		cmocka_unit_test(test_more_than_max),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
