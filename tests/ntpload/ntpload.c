/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ntpload - NTP client requests (RFC 5905 mode 3) at a fixed rate to a
 * server on 127.0.0.1, from many source addresses of 127.0.0.0/8, for the
 * ntpload test.  Loopback only and bounded: the destination is always
 * 127.0.0.1, the sources are 127.A.B.C from --first-source on, at most
 * 50,000 requests a second for at most 30 s (10^6 requests in all).
 *
 *   ntpload --port P --rate R --seconds S [--sources N]
 *           [--first-source 127.X.Y.Z]
 *
 * One socket bound to 0.0.0.0 (so replies to any 127/8 source arrive on
 * it) sends each request with IP_PKTINFO naming its source; the sources
 * take turns.  The transmit timestamp of each request is its number, which
 * the server copies into the reply's origin timestamp: a reply is counted
 * only when it matches a request.  After the last request, replies are
 * collected for 0.5 s more.  One JSON line on standard output:
 *
 *   {"rate":R,"seconds":S,"sources":N,"sent":..,"replies":..,
 *    "kod":..,"answered_sources":..,"min_source_replies":..,
 *    "stratum":..,"refid":".."}
 *
 * kod counts Kiss-o'-Death replies (stratum 0; the code is in refid);
 * stratum and refid are those of the last ordinary reply.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_RATE 50000
#define MAX_SECONDS 30
#define MAX_SOURCES 65536
#define TICK_NS 1000000LL
#define LINGER_NS 500000000LL
#define NTP_LEN 48

struct load {
	int port, rate, seconds, sources;
	uint32_t first;            /* host order */
	int fd;
	uint64_t sent, replies, kod;
	uint32_t *per_source;
	int stratum;
	char refid[5];
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: ntpload --port P --rate R (1-%d) --seconds S "
		"(1-%d) [--sources N (1-%d)] [--first-source 127.X.Y.Z]\n",
		MAX_RATE, MAX_SECONDS, MAX_SOURCES);
	return 2;
}

static int parse_int(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end != '\0' || v < min || v > max) {
		return -1;
	}
	*out = (int)v;
	return 0;
}

static int parse_source(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || (ntohl(a.s_addr) >> 24) != 127) {
		return -1;
	}
	*out = ntohl(a.s_addr);
	return 0;
}

static int set_option(struct load *l, int c, const char *arg)
{
	switch (c) {
	case 'p':
		return parse_int(arg, 1, 65535, &l->port);
	case 'r':
		return parse_int(arg, 1, MAX_RATE, &l->rate);
	case 's':
		return parse_int(arg, 1, MAX_SECONDS, &l->seconds);
	case 'n':
		return parse_int(arg, 1, MAX_SOURCES, &l->sources);
	case 'f':
		return parse_source(arg, &l->first);
	}
	return -1;
}

static int parse(int argc, char **argv, struct load *l)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "rate", required_argument, NULL, 'r' },
		{ "seconds", required_argument, NULL, 's' },
		{ "sources", required_argument, NULL, 'n' },
		{ "first-source", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	int c, bad = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bad |= set_option(l, c, optarg);
	}
	/* the sources must stay inside 127/8 */
	if (bad || l->port == 0 || l->rate == 0 || l->seconds == 0 ||
	    ((l->first + (uint32_t)l->sources - 1) >> 24) != 127) {
		return -1;
	}
	return 0;
}

static int open_socket(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one,
				 sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("ntpload: socket");
		return -1;
	}
	return fd;
}

/* Request number k from source k % sources. */
static void send_one(struct load *l, uint64_t k)
{
	unsigned char pkt[NTP_LEN] = { 0x23 };   /* LI 0, VN 4, mode 3 */
	struct sockaddr_in dst = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)l->port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = { 0 };
	struct iovec iov = { pkt, sizeof(pkt) };
	struct msghdr m = { .msg_name = &dst, .msg_namelen = sizeof(dst),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	struct in_pktinfo pi = { 0 };
	uint64_t tag = k + 1;

	memcpy(pkt + 40, &tag, sizeof(tag));     /* transmit timestamp */
	pi.ipi_spec_dst.s_addr = htonl(l->first + (uint32_t)(k % (uint64_t)
							      l->sources));
	cm->cmsg_level = IPPROTO_IP;
	cm->cmsg_type = IP_PKTINFO;
	cm->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	if (sendmsg(l->fd, &m, 0) == NTP_LEN) {
		l->sent++;
	}
}

static void take_reply(struct load *l, const unsigned char *p, ssize_t n)
{
	uint64_t tag;

	if (n < NTP_LEN || (p[0] & 7) != 4) {
		return;
	}
	memcpy(&tag, p + 24, sizeof(tag));       /* origin timestamp */
	if (tag == 0 || tag > l->sent) {
		return;
	}
	if (p[1] == 0) {
		l->kod++;
		return;
	}
	l->replies++;
	l->per_source[(tag - 1) % (uint64_t)l->sources]++;
	l->stratum = p[1];
	memcpy(l->refid, p + 12, 4);
}

static void drain(struct load *l)
{
	unsigned char buf[512];
	ssize_t n;

	while ((n = recv(l->fd, buf, sizeof(buf), 0)) > 0) {
		take_reply(l, buf, n);
	}
}

static void run(struct load *l)
{
	int64_t start = now_ns(), end = start + l->seconds * 1000000000LL;
	int64_t t = start;
	uint64_t k = 0, total = (uint64_t)l->rate * (uint64_t)l->seconds;

	while (t < end + LINGER_NS) {
		int64_t due = t - start;
		uint64_t want = due >= l->seconds * 1000000000LL ? total :
			(uint64_t)((double)due * l->rate / 1e9);
		struct pollfd pfd = { l->fd, POLLIN, 0 };

		while (k < want) {
			send_one(l, k++);
		}
		drain(l);
		t += TICK_NS;
		while (now_ns() < t) {
			int ms = (int)((t - now_ns()) / 1000000) + 1;

			if (poll(&pfd, 1, ms) > 0) {
				drain(l);
			}
		}
	}
}

static void report(const struct load *l)
{
	uint32_t min = UINT32_MAX;
	int i, answered = 0;

	for (i = 0; i < l->sources; i++) {
		answered += l->per_source[i] > 0;
		min = l->per_source[i] < min ? l->per_source[i] : min;
	}
	printf("{\"rate\":%d,\"seconds\":%d,\"sources\":%d,\"sent\":%llu,"
	       "\"replies\":%llu,\"kod\":%llu,\"answered_sources\":%d,"
	       "\"min_source_replies\":%u,\"stratum\":%d,\"refid\":\"%s\"}\n",
	       l->rate, l->seconds, l->sources, (unsigned long long)l->sent,
	       (unsigned long long)l->replies, (unsigned long long)l->kod,
	       answered, min, l->stratum, l->refid);
}

int main(int argc, char **argv)
{
	struct load l = { .sources = 1, .first = 0x7f000101 };
	char *p;

	if (parse(argc, argv, &l) != 0) {
		return usage();
	}
	l.per_source = calloc((size_t)l.sources, sizeof(*l.per_source));
	l.fd = open_socket();
	if (l.per_source == NULL || l.fd < 0) {
		return 1;
	}
	run(&l);
	for (p = l.refid; *p != '\0'; p++) {
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\') {
			*p = '?';
		}
	}
	report(&l);
	close(l.fd);
	free(l.per_source);
	return 0;
}
