/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_sock.c - SOCK sample encoding: layout, truncation, precision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"
#include "testseed.h"
#include "timeutil.h"

/* chronyd's struct, laid out as refclock_sock.c declares it. */
static void test_layout(void **state)
{
	(void)state;
	print_message("SOCK sample: %zu bytes (%zu-byte time_t)\n",
		      sizeof(struct sock_sample), sizeof(time_t));
	if (sizeof(time_t) == 8) {
		assert_int_equal(sizeof(struct sock_sample), 40);
	} else {
		assert_int_equal(sizeof(struct sock_sample), 32);
	}
	assert_int_equal(offsetof(struct sock_sample, offset),
			 sizeof(struct timeval));
	assert_int_equal(offsetof(struct sock_sample, magic),
			 sizeof(struct sock_sample) - sizeof(int));
}

/* tv is truncated to the microsecond; the offset is the exact
 * true - system difference, which truncation must not change. */
static void test_truncation_keeps_ns(void **state)
{
	struct sock_sample s;
	int64_t sys = INT64_C(1764233520) * TU_NS_PER_SEC + 123456789;
	int64_t truth = INT64_C(1764233520) * TU_NS_PER_SEC;
	int64_t tv_ns, off_ns;

	(void)state;
	assert_int_equal(sock_encode(&s, sys, truth, 0), 0);
	assert_int_equal(s.tv.tv_sec, 1764233520);
	assert_int_equal(s.tv.tv_usec, 123456);
	assert_int_equal(s.magic, SOCK_MAGIC);
	assert_int_equal(s.pulse, 0);
	assert_int_equal(s.leap, 0);
	assert_int_equal(sock_decode(&s, &tv_ns, &off_ns), 0);
	assert_int_equal(tv_ns, sys - 789);
	assert_int_equal(off_ns, -123456789);
}

/* Negative system times (before 1970) truncate towards -inf, so that
 * tv_usec stays in 0..999999 as a timeval must. */
static void test_negative_time(void **state)
{
	struct sock_sample s;
	int64_t tv_ns, off_ns;

	(void)state;
	assert_int_equal(sock_encode(&s, -1500, 0, 0), 0);
	assert_int_equal(s.tv.tv_sec, -1);
	assert_int_equal(s.tv.tv_usec, 999998);
	assert_int_equal(sock_decode(&s, &tv_ns, &off_ns), 0);
	assert_int_equal(tv_ns, -2000);
	assert_int_equal(off_ns, 1500);
}

static void test_bad_leap(void **state)
{
	struct sock_sample s;

	(void)state;
	assert_int_equal(sock_encode(&s, 0, 0, 3), -EINVAL);
	assert_int_equal(sock_encode(&s, 0, 0, -1), -EINVAL);
	assert_int_equal(sock_encode(&s, 0, 0, 1), 0);
	assert_int_equal(s.leap, 1);
	s.magic = 0;
	{
		int64_t a, b;

		assert_int_equal(sock_decode(&s, &a, &b), -EINVAL);
	}
}

/* Random times and offsets up to +-10 days: the offset survives the
 * double to 1 ns, and tv is the time truncated to the microsecond. */
static void test_random_precision(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 100000; i++) {
		struct sock_sample s;
		int64_t sys = test_range(INT64_C(0), INT64_C(4102444800) *
					 TU_NS_PER_SEC);
		int64_t off = test_range(-10 * 86400 * TU_NS_PER_SEC,
					 10 * 86400 * TU_NS_PER_SEC);
		int64_t tv_ns, off_ns;

		if (sys >= INT64_C(2147483648) * TU_NS_PER_SEC &&
		    sizeof(time_t) < 8) {
			assert_int_equal(sock_encode(&s, sys, sys + off, 0),
					 -EOVERFLOW);
			continue;
		}
		assert_int_equal(sock_encode(&s, sys, sys + off, 0), 0);
		assert_int_equal(sock_decode(&s, &tv_ns, &off_ns), 0);
		assert_true(s.tv.tv_usec >= 0 && s.tv.tv_usec < 1000000);
		assert_true(sys - tv_ns >= 0 && sys - tv_ns < 1000);
		assert_int_equal(off_ns, off);
	}
}

/* A 32-bit time_t ends at 2038-01-19 03:14:07: the next second cannot be
 * sent (it would wrap to 1901), a 64-bit one can. */
static void test_time_t_range(void **state)
{
	struct sock_sample s;
	int64_t last = INT64_C(2147483647) * TU_NS_PER_SEC + 999999999;
	int64_t tv_ns, off_ns;

	(void)state;
	assert_int_equal(sock_encode(&s, last, last + 5, 0), 0);
	assert_int_equal(sock_decode(&s, &tv_ns, &off_ns), 0);
	assert_true(tv_ns == last - 999);
	assert_true(off_ns == 5);
	if (sizeof(time_t) < 8) {
		assert_int_equal(sock_encode(&s, last + 1, last + 1, 0),
				 -EOVERFLOW);
	} else {
		assert_int_equal(sock_encode(&s, last + 1, last + 1, 0), 0);
		assert_int_equal(sock_decode(&s, &tv_ns, &off_ns), 0);
		assert_true(tv_ns == last + 1);
	}
}

static void test_client_path_limits(void **state)
{
	char err[256], path[200];

	(void)state;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_null(sock_client_create(path, "PPS", err, sizeof(err)));
	assert_non_null(strstr(err, "longer than"));
	assert_null(sock_client_create("/run/x:y.sock", "PPS", err, sizeof(err)));
	assert_non_null(strstr(err, "':'"));
}

/* What the status report shows of the sends below: failures by errno
 * in order of first appearance, each with a meaning, and the last
 * delivery. */
static void check_delivery_stats(const struct sock_stats *st)
{
	int64_t now = tu_now(CLOCK_REALTIME);

	assert_int_equal(st->by_errno[0].err, ENOENT);
	assert_int_equal(st->by_errno[0].count, 1);
	assert_int_equal(st->by_errno[1].err, ECONNREFUSED);
	assert_int_equal(st->by_errno[1].count, 1);
	assert_int_equal(st->by_errno[2].err, 0);
	assert_int_equal(st->last_errno, 0);
	assert_true(st->last_sent_ns <= now &&
		    st->last_sent_ns > now - 10 * TU_NS_PER_SEC);
	assert_true(st->last_sent_mono_ns > 0);
	assert_non_null(strstr(sock_errno_meaning(ENOENT), "not running"));
	assert_non_null(strstr(sock_errno_meaning(EACCES), "doc/install.md"));
	assert_non_null(strstr(sock_errno_meaning(ECONNREFUSED), "stale"));
	assert_string_equal(sock_errno_meaning(EIO), strerror(EIO));
}

/* A real datagram socket stands in for chronyd's: absent first (ENOENT),
 * then bound (delivered, byte for byte), then gone (ECONNREFUSED on the
 * stale file), then back. */
static void test_client_delivery(void **state)
{
	char dir[] = "/tmp/gpspps-sock-XXXXXX", path[64], err[256];
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct sock_client *c;
	struct sock_sample s, r;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/pps.sock", dir);
	c = sock_client_create(path, "PPS", err, sizeof(err));
	assert_non_null(c);
	sock_encode(&s, 1000 * TU_NS_PER_SEC + 5, 1000 * TU_NS_PER_SEC, 0);
	assert_int_equal(sock_client_send(c, &s), -ENOENT);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(sock_client_send(c, &s), 0);
	assert_int_equal(recv(fd, &r, sizeof(r), 0), sizeof(r));
	assert_memory_equal(&r, &s, sizeof(r));
	close(fd);
	assert_int_equal(sock_client_send(c, &s), -ECONNREFUSED);

	unlink(path);
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(sock_client_send(c, &s), 0);
	assert_int_equal(sock_client_stats(c)->sent, 2);
	assert_int_equal(sock_client_stats(c)->failed, 2);
	check_delivery_stats(sock_client_stats(c));
	close(fd);
	unlink(path);
	rmdir(dir);
	sock_client_destroy(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_truncation_keeps_ns),
		cmocka_unit_test(test_negative_time),
		cmocka_unit_test(test_bad_leap),
		cmocka_unit_test(test_random_precision),
		cmocka_unit_test(test_time_t_range),
		cmocka_unit_test(test_client_path_limits),
		cmocka_unit_test(test_client_delivery),
	};

	test_seed_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
