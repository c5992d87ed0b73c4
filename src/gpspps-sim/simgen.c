/* SPDX-License-Identifier: GPL-2.0-or-later */
/* simgen.c - see simgen.h. */
#include "simgen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"
#include "timeutil.h"

#define DAY_NS (TU_SEC_PER_DAY * TU_NS_PER_SEC)
#define MINUTE_NS (60 * TU_NS_PER_SEC)
/* 1024 GPS weeks, in days. */
#define ROLLOVER_DAYS 7168
/* A fix loss lasts 2..FIXLOSS_MAX_S seconds. */
#define FIXLOSS_MAX_S 10
#define GARBAGE_MAX 16
/* Room for one sentence, '$' to LF; every sentence made here is <= 82. */
#define SENTENCE_MAX 128

/* PRNG streams: each decision has its own, so enabling one fault does not
 * change the others' choices for the same seed. */
enum stream {
	STREAM_FAULT = 1,          /* + enum simgen_fault */
	STREAM_NOISE = 16,
	STREAM_JITTER = 17,
};

struct simgen {
	struct simgen_options opt;
	int64_t interval_ns;
};

/* splitmix64: a small, well-mixed generator; state advances by a constant
 * so that any key gives an independent-looking stream. */
struct rng {
	uint64_t s;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t rng_next(struct rng *r)
{
	r->s += UINT64_C(0x9e3779b97f4a7c15);
	return mix64(r->s);
}

static double rng_uniform(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static unsigned rng_below(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

static struct rng rng_for(const struct simgen *g, uint64_t key,
			  unsigned stream)
{
	struct rng r;

	r.s = mix64(g->opt.seed ^ mix64(key + UINT64_C(0x9e3779b97f4a7c15) *
					 (stream + 1)));
	return r;
}

static uint64_t label_key(int64_t label_ns, bool leap)
{
	return (uint64_t)label_ns * 2 + (leap ? 1 : 0);
}

/* ---- names ---- */

static const char *const sentence_names[SIMGEN_SENTENCE_COUNT] = {
	"RMC", "GGA", "ZDA", "GLL", "GNS", "GSA", "GSV", "VTG",
};

static const char *const fault_names[SIMGEN_FAULT_COUNT] = {
	"badsum", "garbage", "fixloss", "missing", "rollover", "leap",
};

static const double fault_default_rates[SIMGEN_FAULT_COUNT] = {
	0.05, 0.05, 0.02, 0.02, 1.0, 0.0,
};

static int name_lookup(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(names[i], name) == 0) {
			return i;
		}
	}
	return -1;
}

int simgen_sentence_from_name(const char *name)
{
	return name_lookup(sentence_names, SIMGEN_SENTENCE_COUNT, name);
}

const char *simgen_sentence_name(enum simgen_sentence s)
{
	if ((unsigned)s >= SIMGEN_SENTENCE_COUNT) {
		return "?";
	}
	return sentence_names[s];
}

int simgen_fault_from_name(const char *name)
{
	return name_lookup(fault_names, SIMGEN_FAULT_COUNT, name);
}

const char *simgen_fault_name(enum simgen_fault f)
{
	if ((unsigned)f >= SIMGEN_FAULT_COUNT) {
		return "?";
	}
	return fault_names[f];
}

double simgen_fault_default_rate(enum simgen_fault f)
{
	if ((unsigned)f >= SIMGEN_FAULT_COUNT) {
		return 0.0;
	}
	return fault_default_rates[f];
}

/* ---- options ---- */

void simgen_options_init(struct simgen_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	strcpy(opt->talker, "GP");
	opt->sentences[0] = SIMGEN_RMC;
	opt->sentences[1] = SIMGEN_GGA;
	opt->nsentences = 2;
	opt->rate_hz = 1;
	opt->decimals = 3;
	opt->seed = 1;
}

int simgen_parse_sentences(struct simgen_options *opt, const char *list,
			   char *err, size_t errlen)
{
	enum simgen_sentence found[SIMGEN_MAX_SENTENCES];
	const char *p = list;
	int n = 0;

	for (;;) {
		size_t len = strcspn(p, ",");
		char name[8];
		int s;

		if (len == 0 || len >= sizeof(name)) {
			errmsg_set(err, errlen, "bad sentence list '%s': %s",
				   list, len == 0 ? "empty name" : "name too "
				   "long");
			return -EINVAL;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		s = simgen_sentence_from_name(name);
		if (s < 0) {
			errmsg_set(err, errlen, "unknown sentence '%s' (known: "
				   "RMC, GGA, ZDA, GLL, GNS, GSA, GSV, VTG)",
				   name);
			return -EINVAL;
		}
		if (n == SIMGEN_MAX_SENTENCES) {
			errmsg_set(err, errlen, "more than %d sentences in "
				   "'%s'", SIMGEN_MAX_SENTENCES, list);
			return -EINVAL;
		}
		found[n++] = (enum simgen_sentence)s;
		if (p[len] == '\0') {
			break;
		}
		p += len + 1;
	}
	memcpy(opt->sentences, found, sizeof(found[0]) * (size_t)n);
	opt->nsentences = n;
	return 0;
}

static bool talker_valid(const char *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (!((t[i] >= 'A' && t[i] <= 'Z') ||
		      (t[i] >= '0' && t[i] <= '9'))) {
			return false;
		}
	}
	return t[2] == '\0';
}

static int check_rates(const struct simgen_options *opt, char *err,
		       size_t errlen)
{
	int f;

	for (f = 0; f < SIMGEN_FAULT_COUNT; f++) {
		double r = opt->fault_rate[f];

		if (!(r >= 0.0 && r <= 1.0)) {
			errmsg_set(err, errlen, "fault %s: rate %g is not in "
				   "[0, 1]", fault_names[f], r);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_options(const struct simgen_options *opt, char *err,
			 size_t errlen)
{
	int i;

	if (!talker_valid(opt->talker)) {
		errmsg_set(err, errlen, "talker '%s' is not two characters "
			   "A-Z/0-9", opt->talker);
		return -EINVAL;
	}
	if (opt->nsentences < 1 || opt->nsentences > SIMGEN_MAX_SENTENCES) {
		errmsg_set(err, errlen, "need 1-%d sentences",
			   SIMGEN_MAX_SENTENCES);
		return -EINVAL;
	}
	for (i = 0; i < opt->nsentences; i++) {
		if ((unsigned)opt->sentences[i] >= SIMGEN_SENTENCE_COUNT) {
			errmsg_set(err, errlen, "bad sentence type %d",
				   (int)opt->sentences[i]);
			return -EINVAL;
		}
	}
	if (opt->rate_hz != 1 && opt->rate_hz != 5 && opt->rate_hz != 10) {
		errmsg_set(err, errlen, "rate %d Hz is not 1, 5 or 10",
			   opt->rate_hz);
		return -EINVAL;
	}
	if (opt->decimals < 0 || opt->decimals > 3 ||
	    (opt->decimals == 0 && opt->rate_hz != 1)) {
		errmsg_set(err, errlen, "%d decimals cannot label %d Hz epochs "
			   "(0-3, at least 1 above 1 Hz)", opt->decimals,
			   opt->rate_hz);
		return -EINVAL;
	}
	if (opt->leap && tu_floor_mod(opt->leap_ns, MINUTE_NS) != 0) {
		errmsg_set(err, errlen, "leap second must end a whole UTC "
			   "minute");
		return -EINVAL;
	}
	return check_rates(opt, err, errlen);
}

struct simgen *simgen_create(const struct simgen_options *opt, char *err,
			     size_t errlen)
{
	struct simgen *g;

	if (check_options(opt, err, errlen) != 0) {
		return NULL;
	}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		errmsg_set(err, errlen, "out of memory");
		return NULL;
	}
	g->opt = *opt;
	g->interval_ns = TU_NS_PER_SEC / opt->rate_hz;
	return g;
}

void simgen_destroy(struct simgen *g)
{
	free(g);
}

int64_t simgen_interval_ns(const struct simgen *g)
{
	return g->interval_ns;
}

void simgen_label(const struct simgen *g, int64_t slot_ns, int64_t *label_ns,
		  bool *leap)
{
	*label_ns = slot_ns;
	*leap = false;
	if (!g->opt.leap || slot_ns < g->opt.leap_ns) {
		return;
	}
	if (slot_ns < g->opt.leap_ns + TU_NS_PER_SEC) {
		*leap = true;
		return;
	}
	*label_ns = slot_ns - TU_NS_PER_SEC;
}

int64_t simgen_jitter_ns(const struct simgen *g, int64_t slot_ns,
			 int64_t width_ns)
{
	struct rng r;

	if (width_ns <= 0) {
		return 0;
	}
	r = rng_for(g, (uint64_t)slot_ns, STREAM_JITTER);
	return (int64_t)((double)width_ns * (rng_uniform(&r) - 0.5));
}

/* ---- fault decisions ---- */

/* Decisions for one epoch, taken before any byte is written. */
struct plan {
	unsigned faults;
	int nphys;               /* physical sentences in the burst */
	int badsum_index;        /* -1: none */
	unsigned badsum_xor;     /* nonzero: XORed into that checksum */
	int garbage_after;       /* physical index; -1: none */
	int garbage_len;
	unsigned char garbage[GARBAGE_MAX];
};

static bool fault_hits(const struct simgen *g, enum simgen_fault f,
		       uint64_t key, struct rng *r)
{
	double rate = g->opt.fault_rate[f];

	*r = rng_for(g, key, STREAM_FAULT + f);
	return rate > 0.0 && rng_uniform(r) < rate;
}

/* A loss of fix that starts in second s lasts 2..FIXLOSS_MAX_S seconds;
 * deciding it from the starting second keeps the answer stateless. */
static bool in_fixloss(const struct simgen *g, int64_t label_ns)
{
	int64_t sec = tu_floor_div(label_ns, TU_NS_PER_SEC);
	int k;

	for (k = 0; k < FIXLOSS_MAX_S; k++) {
		struct rng r;

		if (fault_hits(g, SIMGEN_FAULT_FIXLOSS, (uint64_t)(sec - k), &r) &&
		    k < 2 + (int)rng_below(&r, FIXLOSS_MAX_S - 1)) {
			return true;
		}
	}
	return false;
}

static int physical_count(const struct simgen_options *opt)
{
	int i, n = 0;

	for (i = 0; i < opt->nsentences; i++) {
		n += opt->sentences[i] == SIMGEN_GSV ? 3 : 1;
	}
	return n;
}

static void plan_garbage(const struct simgen *g, uint64_t key,
			 struct plan *p)
{
	struct rng r;
	int i;

	if (!fault_hits(g, SIMGEN_FAULT_GARBAGE, key, &r)) {
		return;
	}
	p->faults |= SIMGEN_FBIT(SIMGEN_FAULT_GARBAGE);
	p->garbage_after = p->nphys == 1 ? 0 :
		(int)rng_below(&r, (unsigned)p->nphys - 1);
	p->garbage_len = 1 + (int)rng_below(&r, GARBAGE_MAX);
	for (i = 0; i < p->garbage_len; i++) {
		p->garbage[i] = (unsigned char)rng_below(&r, 256);
	}
}

static void plan_epoch(const struct simgen *g, int64_t label_ns, bool leap,
		       struct plan *p)
{
	uint64_t key = label_key(label_ns, leap);
	struct rng r;

	memset(p, 0, sizeof(*p));
	p->nphys = physical_count(&g->opt);
	p->badsum_index = -1;
	p->garbage_after = -1;
	if (leap) {
		p->faults |= SIMGEN_FBIT(SIMGEN_FAULT_LEAP);
	}
	if (fault_hits(g, SIMGEN_FAULT_MISSING, key, &r)) {
		p->faults |= SIMGEN_FBIT(SIMGEN_FAULT_MISSING);
		return;
	}
	if (fault_hits(g, SIMGEN_FAULT_BADSUM, key, &r)) {
		p->faults |= SIMGEN_FBIT(SIMGEN_FAULT_BADSUM);
		p->badsum_index = (int)rng_below(&r, (unsigned)p->nphys);
		p->badsum_xor = 1 + rng_below(&r, 255);
	}
	plan_garbage(g, key, p);
	if (fault_hits(g, SIMGEN_FAULT_ROLLOVER, key, &r)) {
		p->faults |= SIMGEN_FBIT(SIMGEN_FAULT_ROLLOVER);
	}
	if (in_fixloss(g, label_ns)) {
		p->faults |= SIMGEN_FBIT(SIMGEN_FAULT_FIXLOSS);
	}
}

/* ---- sentence fields ---- */

/* Everything a sentence body needs, computed once per epoch. */
struct ctx {
	const struct simgen *g;
	bool fix;
	char time[16];           /* hhmmss[.f] */
	int day, month;
	int64_t year;
	char lat[16], lon[16];   /* ddmm.mmmm, dddmm.mmmm */
	int speed_e3;            /* knots * 1000 */
	int snr[10];
};

static void format_time(struct ctx *c, int64_t sod, int64_t frac_ns,
			bool leap)
{
	int d = c->g->opt.decimals;
	int sec = (int)(sod % 60) + (leap ? 1 : 0);
	char ms[8];
	int n;

	n = snprintf(c->time, sizeof(c->time), "%02d%02d%02d",
		     (int)(sod / 3600), (int)(sod / 60 % 60), sec);
	if (d > 0) {
		snprintf(ms, sizeof(ms), "%03u",
			 (unsigned)(frac_ns / TU_NS_PER_MS) % 1000u);
		c->time[n] = '.';
		memcpy(c->time + n + 1, ms, (size_t)d);
		c->time[n + 1 + d] = '\0';
	}
}

/* Time of day and date of a label; a leap label is the second after
 * hh:mm:59 of the minute before label_ns. */
static void ctx_time(struct ctx *c, int64_t label_ns, bool leap,
		     bool rollover)
{
	int64_t t = leap ? label_ns - TU_NS_PER_SEC : label_ns;
	int64_t days = tu_floor_div(t, DAY_NS);
	int64_t in_day = t - days * DAY_NS;

	format_time(c, in_day / TU_NS_PER_SEC, in_day % TU_NS_PER_SEC, leap);
	if (rollover) {
		days -= ROLLOVER_DAYS;
	}
	tu_civil_from_days(days, &c->year, &c->month, &c->day);
}

/* A fixed place (48 07.038 N, 11 31.000 E) wandering by a few 0.0001'. */
static void ctx_position(struct ctx *c, struct rng *r)
{
	int lat = 48 * 600000 + 70380 + (int)rng_below(r, 11) - 5;
	int lon = 11 * 600000 + 310000 + (int)rng_below(r, 11) - 5;

	snprintf(c->lat, sizeof(c->lat), "%02d%02d.%04d", lat / 600000,
		 lat % 600000 / 10000, lat % 10000);
	snprintf(c->lon, sizeof(c->lon), "%03d%02d.%04d", lon / 600000,
		 lon % 600000 / 10000, lon % 10000);
}

static void ctx_init(struct ctx *c, const struct simgen *g, int64_t label_ns,
		     bool leap, unsigned faults)
{
	struct rng r = rng_for(g, label_key(label_ns, leap), STREAM_NOISE);
	int i;

	memset(c, 0, sizeof(*c));
	c->g = g;
	c->fix = !(faults & SIMGEN_FBIT(SIMGEN_FAULT_FIXLOSS));
	ctx_time(c, label_ns, leap,
		 (faults & SIMGEN_FBIT(SIMGEN_FAULT_ROLLOVER)) != 0);
	ctx_position(c, &r);
	c->speed_e3 = (int)rng_below(&r, 40);
	for (i = 0; i < 10; i++) {
		c->snr[i] = 28 + (int)rng_below(&r, 20);
	}
}

typedef int (*body_fn)(const struct ctx *c, int part, char *b, size_t n);

static int body_rmc(const struct ctx *c, int part, char *b, size_t n)
{
	int yy = (int)tu_floor_mod(c->year, 100);

	if (!c->fix) {
		return snprintf(b, n, "%s,V,,,,,,,%02d%02d%02d,,,N", c->time,
				c->day, c->month, yy);
	}
	return snprintf(b, n, "%s,A,%s,N,%s,E,0.%03d,,%02d%02d%02d,,,A",
			c->time, c->lat, c->lon, c->speed_e3, c->day, c->month,
			yy);
}

static int body_gga(const struct ctx *c, int part, char *b, size_t n)
{
	if (!c->fix) {
		return snprintf(b, n, "%s,,,,,0,00,99.99,,M,,M,,", c->time);
	}
	return snprintf(b, n, "%s,%s,N,%s,E,1,09,0.92,545.4,M,46.9,M,,",
			c->time, c->lat, c->lon);
}

static int body_zda(const struct ctx *c, int part, char *b, size_t n)
{
	return snprintf(b, n, "%s,%02d,%02d,%04lld,00,00", c->time, c->day,
			c->month, (long long)c->year);
}

static int body_gll(const struct ctx *c, int part, char *b, size_t n)
{
	if (!c->fix) {
		return snprintf(b, n, ",,,,%s,V,N", c->time);
	}
	return snprintf(b, n, "%s,N,%s,E,%s,A,A", c->lat, c->lon, c->time);
}

static int body_gns(const struct ctx *c, int part, char *b, size_t n)
{
	bool two = strcmp(c->g->opt.talker, "GN") == 0;

	if (!c->fix) {
		return snprintf(b, n, "%s,,,,,%s,00,99.99,,,,", c->time,
				two ? "NN" : "N");
	}
	return snprintf(b, n, "%s,%s,N,%s,E,%s,09,0.92,545.4,46.9,,", c->time,
			c->lat, c->lon, two ? "AA" : "A");
}

static int body_gsa(const struct ctx *c, int part, char *b, size_t n)
{
	if (!c->fix) {
		return snprintf(b, n, "A,1,,,,,,,,,,,,,99.99,99.99,99.99");
	}
	return snprintf(b, n, "A,3,02,05,07,09,13,16,20,26,29,,,,1.62,0.92,1.33");
}

static const struct {
	int prn, elev, azim;
} sky[10] = {
	{ 2, 63, 55 }, { 5, 42, 282 }, { 7, 18, 120 }, { 9, 35, 74 },
	{ 13, 71, 212 }, { 16, 23, 310 }, { 20, 9, 158 }, { 26, 51, 31 },
	{ 29, 14, 247 }, { 30, 6, 194 },
};

static int body_gsv(const struct ctx *c, int part, char *b, size_t n)
{
	int len = snprintf(b, n, "3,%d,10", part + 1);
	int i;

	for (i = part * 4; i < part * 4 + 4 && i < 10; i++) {
		len += snprintf(b + len, n - (size_t)len, ",%02d,%02d,%03d,%02d",
				sky[i].prn, sky[i].elev, sky[i].azim, c->snr[i]);
	}
	return len;
}

static int body_vtg(const struct ctx *c, int part, char *b, size_t n)
{
	if (!c->fix) {
		return snprintf(b, n, ",T,,M,,N,,K,N");
	}
	return snprintf(b, n, ",T,,M,0.%03d,N,0.%03d,K,A", c->speed_e3,
			c->speed_e3 * 1852 / 1000);
}

static const struct {
	body_fn body;
	int parts;
} sentence_kinds[SIMGEN_SENTENCE_COUNT] = {
	[SIMGEN_RMC] = { body_rmc, 1 },
	[SIMGEN_GGA] = { body_gga, 1 },
	[SIMGEN_ZDA] = { body_zda, 1 },
	[SIMGEN_GLL] = { body_gll, 1 },
	[SIMGEN_GNS] = { body_gns, 1 },
	[SIMGEN_GSA] = { body_gsa, 1 },
	[SIMGEN_GSV] = { body_gsv, 3 },
	[SIMGEN_VTG] = { body_vtg, 1 },
};

/* ---- output ---- */

struct out {
	char *buf;
	size_t cap;
	size_t len;
	bool overflow;
};

static void out_bytes(struct out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

/* "$" talker type "," body "*" checksum CR LF; the checksum is XORed with
 * bad (nonzero for a bad one). */
static void out_sentence(struct out *o, const struct ctx *c,
			 enum simgen_sentence s, int part, unsigned bad)
{
	char line[SENTENCE_MAX];
	unsigned sum = 0;
	int n, i;

	n = snprintf(line, sizeof(line), "$%s%s,", c->g->opt.talker,
		     sentence_names[s]);
	n += sentence_kinds[s].body(c, part, line + n, sizeof(line) - (size_t)n);
	for (i = 1; i < n; i++) {
		sum ^= (unsigned char)line[i];
	}
	sum ^= bad;
	n += snprintf(line + n, sizeof(line) - (size_t)n, "*%02X\r\n", sum);
	out_bytes(o, line, (size_t)n);
}

static void out_burst(struct out *o, const struct ctx *c,
		      const struct plan *p)
{
	const struct simgen_options *opt = &c->g->opt;
	int i, part, phys = 0;

	for (i = 0; i < opt->nsentences; i++) {
		enum simgen_sentence s = opt->sentences[i];

		for (part = 0; part < sentence_kinds[s].parts; part++) {
			out_sentence(o, c, s, part, phys == p->badsum_index ?
				     p->badsum_xor : 0);
			if (phys == p->garbage_after) {
				out_bytes(o, p->garbage, (size_t)p->garbage_len);
			}
			phys++;
		}
	}
}

static int burst_from_plan(const struct simgen *g, int64_t label_ns,
			   bool leap, const struct plan *p, char *buf,
			   size_t cap, struct simgen_epoch *ep)
{
	struct out o = { buf, cap, 0, false };
	struct ctx c;

	ep->slot_ns = label_ns;
	ep->label_ns = label_ns;
	ep->leap = leap;
	ep->faults = p->faults;
	ep->badsum_index = p->badsum_index;
	ep->len = 0;
	if (p->faults & SIMGEN_FBIT(SIMGEN_FAULT_MISSING)) {
		return 0;
	}
	ctx_init(&c, g, label_ns, leap, p->faults);
	out_burst(&o, &c, p);
	if (o.overflow) {
		return -1;
	}
	ep->len = o.len;
	return (int)o.len;
}

static int64_t truncate_label(const struct simgen *g, int64_t label_ns)
{
	static const int64_t unit[4] = { 1000000000, 100000000, 10000000,
					 1000000 };
	int64_t u = unit[g->opt.decimals];

	return tu_floor_div(label_ns, u) * u;
}

int simgen_burst(const struct simgen *g, int64_t label_ns, bool leap,
		 char *buf, size_t cap, struct simgen_epoch *ep)
{
	struct plan p;

	label_ns = truncate_label(g, label_ns);
	if (leap && tu_floor_mod(label_ns, MINUTE_NS) >= TU_NS_PER_SEC) {
		return -1;
	}
	plan_epoch(g, label_ns, leap, &p);
	return burst_from_plan(g, label_ns, leap, &p, buf, cap, ep);
}

int simgen_epoch(const struct simgen *g, int64_t slot_ns, char *buf,
		 size_t cap, struct simgen_epoch *ep)
{
	int64_t label_ns;
	bool leap;
	int n;

	simgen_label(g, slot_ns, &label_ns, &leap);
	n = simgen_burst(g, label_ns, leap, buf, cap, ep);
	ep->slot_ns = slot_ns;
	return n;
}

size_t simgen_nominal_len(const struct simgen *g)
{
	char buf[SIMGEN_BURST_MAX];
	struct simgen_epoch ep;
	struct plan p;

	memset(&p, 0, sizeof(p));
	p.nphys = physical_count(&g->opt);
	p.badsum_index = -1;
	p.garbage_after = -1;
	/* 2020-01-01 00:00:00: every field has its usual width. */
	if (burst_from_plan(g, INT64_C(1577836800) * TU_NS_PER_SEC, false, &p,
			    buf, sizeof(buf), &ep) < 0) {
		return 0;
	}
	return ep.len;
}

/* ---- floods ---- */

static const char *const flood_names[SIMGEN_FLOOD_COUNT] = {
	"random", "longline", "nul", "dollar",
};

int simgen_flood_from_name(const char *name)
{
	return name_lookup(flood_names, SIMGEN_FLOOD_COUNT, name);
}

const char *simgen_flood_name(enum simgen_flood f)
{
	return (unsigned)f < SIMGEN_FLOOD_COUNT ? flood_names[f] : "?";
}

void simgen_flood_init(struct simgen_flood_state *f, enum simgen_flood kind,
		       uint64_t seed)
{
	f->kind = kind;
	f->seed = seed;
	f->pos = 0;
}

/* Byte pos of the stream: random bytes come 8 to a 64-bit draw. */
static char flood_byte(const struct simgen_flood_state *f, uint64_t pos)
{
	static const char text[] = "GPRMC,0123456789.ABCDEFNSWE";
	uint64_t in_line = pos % SIMGEN_FLOOD_LINE;

	switch (f->kind) {
	case SIMGEN_FLOOD_RANDOM:
		return (char)(mix64(f->seed ^ mix64(pos / 8 + 1)) >>
			      (8 * (pos % 8)));
	case SIMGEN_FLOOD_LONGLINE:
		return in_line == 0 ? '$' :
		       text[(in_line - 1) % (sizeof(text) - 1)];
	case SIMGEN_FLOOD_NUL:
		return '\0';
	case SIMGEN_FLOOD_DOLLAR:
	case SIMGEN_FLOOD_COUNT:
		break;
	}
	return '$';
}

void simgen_flood_fill(struct simgen_flood_state *f, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		buf[i] = flood_byte(f, f->pos + i);
	}
	f->pos += len;
}
