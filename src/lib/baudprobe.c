/* SPDX-License-Identifier: GPL-2.0-or-later */
/* baudprobe.c - see baudprobe.h. */
#include "baudprobe.h"

#include <stdlib.h>

#include "timeutil.h"

/* Most common first: u-blox M8 and MTK modules ship at 9600, many HATs are
 * set to 115200, ZED-F9P ships at 38400, old SiRF units at 4800. */
static const long baudprobe_candidates[] = {
	9600, 115200, 38400, 4800, 57600, 19200, 230400, 460800, 921600,
};

#define N_CANDIDATES \
	((int)(sizeof(baudprobe_candidates) / sizeof(baudprobe_candidates[0])))

struct baudprobe {
	struct baudprobe_config cfg;
	long order[BAUDPROBE_MAX_RATES];
	int n;
	int cur;
	int64_t since;          /* monotonic time the current rate was set */
	unsigned good, bad;     /* at the current rate */
	unsigned passes;
	bool settled;
	bool at_home;           /* at cfg.home, after order[cur] */
};

void baudprobe_config_default(struct baudprobe_config *c)
{
	c->first = 0;
	c->skip = 0;
	c->dwell_ns = 2200 * TU_NS_PER_MS;
	c->need = 2;
	c->home = 0;
	c->home_dwell_ns = c->dwell_ns;
}

static bool baudprobe_is_candidate(long rate)
{
	int i;

	for (i = 0; i < N_CANDIDATES; i++) {
		if (baudprobe_candidates[i] == rate) {
			return true;
		}
	}
	return false;
}

static bool baudprobe_left_out(const struct baudprobe *p, long rate)
{
	return rate == p->cfg.skip || rate == p->cfg.home;
}

static void baudprobe_make_order(struct baudprobe *p)
{
	long first = p->cfg.first;
	int i;

	p->n = 0;
	if (baudprobe_is_candidate(first) && !baudprobe_left_out(p, first)) {
		p->order[p->n++] = first;
	}
	for (i = 0; i < N_CANDIDATES; i++) {
		long r = baudprobe_candidates[i];

		if (r != first && !baudprobe_left_out(p, r)) {
			p->order[p->n++] = r;
		}
	}
}

struct baudprobe *baudprobe_create(const struct baudprobe_config *c)
{
	struct baudprobe *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		return NULL;
	}
	p->cfg = *c;
	if (p->cfg.need == 0) {
		p->cfg.need = 1;
	}
	baudprobe_make_order(p);
	return p;
}

void baudprobe_destroy(struct baudprobe *p)
{
	free(p);
}

static void baudprobe_set(struct baudprobe *p, int i, bool home,
			  int64_t now)
{
	p->cur = i;
	p->at_home = home;
	p->since = now;
	p->good = 0;
	p->bad = 0;
}

long baudprobe_begin(struct baudprobe *p, int64_t now)
{
	p->passes = 0;
	p->settled = false;
	baudprobe_set(p, 0, false, now);
	return p->order[0];
}

enum baudprobe_step baudprobe_feed(struct baudprobe *p, unsigned good,
				   unsigned bad, int64_t now)
{
	if (p->settled) {
		return BAUDPROBE_SETTLED;
	}
	p->good += good;
	p->bad += bad;
	if (p->good >= p->cfg.need && p->good >= p->bad) {
		p->settled = true;
		return BAUDPROBE_SETTLED;
	}
	return baudprobe_tick(p, now);
}

enum baudprobe_step baudprobe_tick(struct baudprobe *p, int64_t now)
{
	if (p->settled) {
		return BAUDPROBE_SETTLED;
	}
	if (now < baudprobe_deadline(p)) {
		return BAUDPROBE_LISTEN;
	}
	if (p->cur + 1 >= p->n) {
		p->passes++;
		baudprobe_set(p, 0, false, now);
		return BAUDPROBE_EXHAUSTED;
	}
	if (p->cfg.home != 0 && !p->at_home) {
		baudprobe_set(p, p->cur, true, now);
	} else {
		baudprobe_set(p, p->cur + 1, false, now);
	}
	return BAUDPROBE_SWITCH;
}

long baudprobe_rate(const struct baudprobe *p)
{
	return p->at_home ? p->cfg.home : p->order[p->cur];
}

bool baudprobe_at_home(const struct baudprobe *p)
{
	return p->at_home;
}

int64_t baudprobe_deadline(const struct baudprobe *p)
{
	return p->since + (p->at_home ? p->cfg.home_dwell_ns :
			   p->cfg.dwell_ns);
}

int baudprobe_order(const struct baudprobe *p, long *rates)
{
	int i;

	for (i = 0; i < p->n; i++) {
		rates[i] = p->order[i];
	}
	return p->n;
}

unsigned baudprobe_passes(const struct baudprobe *p)
{
	return p->passes;
}
