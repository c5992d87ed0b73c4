/* SPDX-License-Identifier: GPL-2.0-or-later */
/* test_share.c - share-tcp's address forms, accepted and refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "share.h"

static void expect(const char *spec, int family, const char *host, int port)
{
	struct share_addr a;
	char err[200], got[64];
	const void *ip;
	int p;

	assert_int_equal(share_parse_tcp(spec, &a, err, sizeof(err)), 0);
	assert_int_equal(a.ss.ss_family, family);
	if (family == AF_INET) {
		const struct sockaddr_in *v4 = (const void *)&a.ss;

		ip = &v4->sin_addr;
		p = ntohs(v4->sin_port);
	} else {
		const struct sockaddr_in6 *v6 = (const void *)&a.ss;

		ip = &v6->sin6_addr;
		p = ntohs(v6->sin6_port);
	}
	assert_non_null(inet_ntop(family, ip, got, sizeof(got)));
	assert_string_equal(got, host);
	assert_int_equal(p, port);
}

static void test_forms(void **state)
{
	(void)state;
	expect("127.0.0.1:10110", AF_INET, "127.0.0.1", 10110);
	expect("10111", AF_INET, "127.0.0.1", 10111);
	expect("0.0.0.0", AF_INET, "0.0.0.0", 10110);
	expect("[::1]:2000", AF_INET6, "::1", 2000);
	expect("[::1]", AF_INET6, "::1", 10110);
	expect("::1", AF_INET6, "::1", 10110);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"", "localhost:10110", "127.0.0.1:", "127.0.0.1:0",
		"127.0.0.1:65536", "[::1", "[::1]x", "1.2.3.4:5:6", "99999",
		"[]:1", "127.0.0.1:12ab",
	};
	struct share_addr a;
	char err[200];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (share_parse_tcp(bad[i], &a, err, sizeof(err)) != -EINVAL) {
			fail_msg("\"%s\" accepted", bad[i]);
		}
		assert_non_null(strstr(err, "ADDR:PORT"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
