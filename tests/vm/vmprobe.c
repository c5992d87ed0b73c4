/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vmprobe - read edges from one PPS backend, as ppstest or gpiomon would,
 * and check them: used inside the VM tests and as the libgpiod v2 smoke
 * test on the host.
 *
 *   vmprobe [--edge rising|falling|auto] [--device TTY] [--count N]
 *           [--timeout S] [--max-offset US] [--expect-error TEXT]
 *           [--uid N] SPEC
 *   vmprobe --version
 *
 * Prints one line per edge ("edge seq=.. t=.. frac_us=..") where frac_us
 * is the distance of the edge from the nearest whole second of
 * CLOCK_REALTIME, then "summary edges=N missed=M max_abs_us=X".  Exits 0
 * when N edges arrived before the timeout, all within --max-offset of a
 * whole second (the test modules fire on whole seconds), 1 otherwise.
 * With --expect-error, exits 0 only when opening fails with a message
 * containing TEXT.  --uid drops root for user N first (to see the
 * permission messages).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <grp.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pps.h"
#include "timeutil.h"

#if GPSPPS_GPIOD_API == 1
#define PROBE_GPIOD 1
#elif GPSPPS_GPIOD_API == 2
#define PROBE_GPIOD 2
#endif
#ifdef PROBE_GPIOD
#include <gpiod.h>
#endif

struct probe_opts {
	struct pps_options pps;
	int count;
	int64_t timeout_ns;
	int64_t max_offset_ns;
	const char *expect_error;
	const char *spec;
	long uid;
};

static void print_version(void)
{
	printf("vmprobe %s, PPS kinds:", GPSPPS_VERSION);
	for (int i = 0; pps_backends[i] != NULL; i++) {
		if (pps_backends[i]->not_built == NULL) {
			printf(" %s", pps_backends[i]->kind);
		}
	}
	printf("\n");
#ifdef PROBE_GPIOD
#if PROBE_GPIOD == 2
	printf("libgpiod API v2, library %s\n", gpiod_api_version());
#else
	printf("libgpiod API v1, library %s\n", gpiod_version_string());
#endif
#else
	printf("libgpiod: none\n");
#endif
}

static int parse_args(int argc, char **argv, struct probe_opts *o)
{
	static const struct option longopts[] = {
		{ "edge", required_argument, NULL, 'e' },
		{ "device", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "max-offset", required_argument, NULL, 'm' },
		{ "expect-error", required_argument, NULL, 'x' },
		{ "uid", required_argument, NULL, 'u' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e':
			o->pps.edge = strcmp(optarg, "falling") == 0 ?
				PPS_EDGE_FALLING : strcmp(optarg, "auto") == 0 ?
				PPS_EDGE_AUTO : PPS_EDGE_RISING;
			break;
		case 'd':
			o->pps.serial_device = optarg;
			break;
		case 'n':
			o->count = atoi(optarg);
			break;
		case 't':
			o->timeout_ns = (int64_t)(atof(optarg) * 1e9);
			break;
		case 'm':
			o->max_offset_ns = (int64_t)(atof(optarg) * 1e3);
			break;
		case 'x':
			o->expect_error = optarg;
			break;
		case 'u':
			o->uid = atol(optarg);
			break;
		case 'V':
			print_version();
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc - 1) {
		return -1;
	}
	o->spec = argv[optind];
	return 0;
}

static int64_t frac_from_second(int64_t t)
{
	int64_t f = tu_floor_mod(t, TU_NS_PER_SEC);

	return f > TU_NS_PER_SEC / 2 ? f - TU_NS_PER_SEC : f;
}

/* Wait for the fd or the backend's deadline, whichever comes first. */
static void wait_source(struct pps_source *src, int64_t end)
{
	int fd = src->backend->fd(src);
	int64_t dl = src->backend->deadline(src);
	int64_t now = tu_now(CLOCK_MONOTONIC);
	int64_t until = dl >= 0 && dl < end ? dl : end;
	int ms = until > now ? (int)((until - now) / TU_NS_PER_MS) + 1 : 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	poll(&p, fd >= 0 ? 1 : 0, ms);
}

static int run(struct probe_opts *o, struct pps_source *src)
{
	int64_t end = tu_now(CLOCK_MONOTONIC) + o->timeout_ns;
	int64_t worst = 0;
	int got = 0, bad = 0;

	while (got < o->count && tu_now(CLOCK_MONOTONIC) < end) {
		struct pps_edge e[8];
		int n, i;

		wait_source(src, end);
		n = src->backend->read(src, e, 8);
		if (n < 0) {
			printf("read error: %s\n", strerror(-n));
			return 1;
		}
		for (i = 0; i < n; i++) {
			int64_t f = frac_from_second(e[i].real_ns);

			printf("edge seq=%llu t=%lld.%09lld %s frac_us=%.1f\n",
			       (unsigned long long)e[i].seq,
			       (long long)tu_floor_div(e[i].real_ns, TU_NS_PER_SEC),
			       (long long)tu_floor_mod(e[i].real_ns, TU_NS_PER_SEC),
			       e[i].polarity == PPS_EDGE_RISING ? "rising" :
			       "falling", (double)f / 1e3);
			worst = llabs(f) > worst ? llabs(f) : worst;
			bad += llabs(f) > o->max_offset_ns;
			got++;
		}
		fflush(stdout);
	}
	printf("summary edges=%d missed=%llu errors=%llu max_abs_us=%.1f\n",
	       got, (unsigned long long)src->stats.missed,
	       (unsigned long long)src->stats.errors, (double)worst / 1e3);
	return got >= o->count && bad == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct probe_opts o = {
		.pps = { .edge = PPS_EDGE_RISING, .serial_fd = -1 },
		.count = 5,
		.timeout_ns = 10 * TU_NS_PER_SEC,
		.max_offset_ns = 20 * TU_NS_PER_MS,
	};
	struct pps_source src;
	char err[256] = "";
	int r;

	if (parse_args(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: vmprobe [--edge rising|falling|auto] "
			"[--device TTY] [--count N] [--timeout S] "
			"[--max-offset US] [--expect-error TEXT] SPEC\n");
		return 2;
	}
	log_init("vmprobe", LOG_LVL_INFO, false);
	if (o.uid > 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)o.uid) < 0 ||
			  setuid((uid_t)o.uid) < 0)) {
		perror("vmprobe: dropping root");
		return 2;
	}
	r = pps_open(&src, o.spec, &o.pps, err, sizeof(err));
	if (o.expect_error != NULL) {
		printf("open: %s\n", r < 0 ? err : "ok");
		if (r == 0) {
			pps_close(&src);
		}
		return r < 0 && strstr(err, o.expect_error) != NULL ? 0 : 1;
	}
	if (r < 0) {
		printf("open %s: %s\n", o.spec, err);
		return 1;
	}
	r = run(&o, &src);
	pps_close(&src);
	return r;
}
