/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pair.c - see pair.h. */
#include "pair.h"

#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

struct edge_slot {
	struct pair_edge e;
	bool candidate;		/* passed the period check (or it is off) */
	bool used;		/* taken by an epoch */
};

/* A whole-second epoch waiting for its edge (next_second mode). */
struct waiting {
	int64_t label_ns;
	int64_t mono_ns;	/* burst start */
};

/* A pairing's offsets: label - edge on the system clock, and label - edge
 * on CLOCK_MONOTONIC_RAW (which moves only with the oscillator's error,
 * whatever is done to the system clock). */
struct offsets {
	int64_t real;
	int64_t mono;
};

struct guard {
	bool have_ref;
	struct offsets ref;	/* of the last sample produced */
	int run;		/* held pairings in a row that agree */
	struct offsets run_off;
	int64_t run_label;
};

/* A second as an epoch names it: its label floored to the whole second,
 * and the burst moved back by the label's fraction (when the whole-second
 * epoch's burst would have come, at the same delay). */
struct mark {
	int64_t label;
	int64_t mono;
	bool leap;
};

struct warmup {
	int run;		/* consecutive valid seconds */
	struct mark last;	/* the last second counted */
	bool have_alt;		/* an inconsistent second seen since */
	struct mark alt;	/* the newest of them */
};

struct pair_engine {
	struct pair_config cfg;
	struct pair_stats stats;
	struct edge_slot edges[PAIR_EDGE_HISTORY];
	unsigned n_edges;
	unsigned last_edge;	/* index of the newest edge */
	struct waiting wait[PAIR_PENDING_MAX];
	unsigned n_wait;
	struct guard guard;
	struct warmup warm;
	bool usable;
	int64_t anchor_mono;	/* edge of the last sample, 0 if none */
	struct mark tried;	/* of the last epoch that sought an edge */
	bool stood_in;		/* the epoch just fed stood in for its second */
	int64_t leap_label;	/* label of the last 23:59:60 seen */
};

static const char *const result_names[PAIR_RESULT_COUNT] = {
	[PAIR_SAMPLE] = "sample",
	[PAIR_PENDING] = "pending",
	[PAIR_NOT_WHOLE] = "not_whole",
	[PAIR_NO_DATE] = "no_date",
	[PAIR_NO_FIX] = "no_fix",
	[PAIR_WARMUP] = "warmup",
	[PAIR_NO_EDGE] = "no_edge",
	[PAIR_AMBIGUOUS] = "ambiguous",
	[PAIR_STALE] = "stale",
	[PAIR_LEAP_SECOND] = "leap_second",
	[PAIR_GUARD] = "guard",
	[PAIR_UNTIMED] = "untimed",
};

const char *pair_result_name(enum pair_result r)
{
	if ((unsigned)r >= PAIR_RESULT_COUNT) {
		return "?";
	}
	return result_names[r];
}

void pair_config_default(struct pair_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->window_min_ns = 0;
	cfg->window_max_ns = 950 * TU_NS_PER_MS;
	cfg->next_second = false;
	cfg->stale_ns = 2 * TU_NS_PER_SEC;
	cfg->min_valid = 3;
	cfg->guard_ns = 100 * TU_NS_PER_MS;
	cfg->confirm = 3;
	cfg->period_tol_ns = 500 * TU_NS_PER_US;
}

const char *pair_config_check(const struct pair_config *cfg)
{
	if (cfg->window_min_ns <= -TU_NS_PER_SEC ||
	    cfg->window_max_ns >= TU_NS_PER_SEC) {
		return "pairing window must lie within (-1 s, 1 s)";
	}
	if (cfg->window_min_ns >= cfg->window_max_ns) {
		return "window_min must be below window_max";
	}
	if (cfg->window_max_ns - cfg->window_min_ns >= TU_NS_PER_SEC) {
		return "pairing window must be shorter than 1 s";
	}
	if (cfg->stale_ns < TU_NS_PER_MS || cfg->stale_ns > 60 * TU_NS_PER_SEC) {
		return "stale must be 1 ms .. 60 s";
	}
	if (cfg->min_valid < 0 || cfg->min_valid > 3600) {
		return "min_valid must be 0 .. 3600";
	}
	if (cfg->guard_ns < TU_NS_PER_US || cfg->guard_ns > TU_NS_PER_SEC / 2) {
		return "guard must be 1 us .. 0.5 s";
	}
	if (cfg->confirm < 1 || cfg->confirm > 60) {
		return "confirm must be 1 .. 60";
	}
	if (cfg->period_tol_ns < 0 || cfg->period_tol_ns > 50 * TU_NS_PER_MS) {
		return "period tolerance must be 0 .. 50 ms";
	}
	return NULL;
}

struct pair_engine *pair_create(const struct pair_config *cfg)
{
	struct pair_engine *pe;

	if (pair_config_check(cfg) != NULL) {
		return NULL;
	}
	pe = calloc(1, sizeof(*pe));
	if (pe == NULL) {
		return NULL;
	}
	pe->cfg = *cfg;
	return pe;
}

void pair_destroy(struct pair_engine *pe)
{
	free(pe);
}

const struct pair_stats *pair_get_stats(const struct pair_engine *pe)
{
	return &pe->stats;
}

bool pair_nmea_usable(const struct pair_engine *pe)
{
	return pe->usable;
}

/* ---- arithmetic ---------------------------------------------------- */

/* a - b, saturated: labels come from outside and may be garbage. */
static int64_t sub_sat(int64_t a, int64_t b)
{
	int64_t d;

	if (__builtin_sub_overflow(a, b, &d)) {
		return b < 0 ? INT64_MAX : INT64_MIN;
	}
	return d;
}

static bool within(int64_t a, int64_t b, int64_t tol)
{
	int64_t d = sub_sat(a, b);

	return d >= -tol && d <= tol;
}

static bool is_whole(int64_t label_ns)
{
	return tu_floor_mod(label_ns, TU_NS_PER_SEC) == 0;
}

static enum pair_result hold(struct pair_engine *pe, enum pair_result r)
{
	pe->stats.held[r]++;
	return r;
}

/* ---- edges ---------------------------------------------------------- */

/* 1: mono is 1 .. PAIR_PERIOD_SPAN whole seconds (within tol) after ref;
 * 0: it is not (or not after ref at all); -1: ref is unknown or too old
 * to tell. */
static int whole_seconds_after(int64_t mono, int64_t ref, int64_t tol)
{
	int64_t dt, k;

	if (ref == 0) {
		return -1;
	}
	dt = sub_sat(mono, ref);
	if (dt > PAIR_PERIOD_SPAN * TU_NS_PER_SEC + TU_NS_PER_SEC / 2) {
		return -1;
	}
	k = (dt + TU_NS_PER_SEC / 2) / TU_NS_PER_SEC;
	return dt > 0 && k >= 1 && within(dt, k * TU_NS_PER_SEC, tol);
}

/* Is e on the grid of genuine pulses?  The grid is the edge of the last
 * sample when it is recent enough, else two edges of the history. */
static bool period_ok(const struct pair_engine *pe, const struct pair_edge *e)
{
	int64_t tol = pe->cfg.period_tol_ns;
	unsigned i, votes = 0;
	int r;

	if (e->extra > 0) {
		return false;
	}
	if (tol == 0) {
		return true;
	}
	r = whole_seconds_after(e->mono_ns, pe->anchor_mono, tol);
	if (r >= 0) {
		return r == 1;
	}
	for (i = 0; i < pe->n_edges; i++) {
		votes += whole_seconds_after(e->mono_ns, pe->edges[i].e.mono_ns,
					     tol) == 1;
	}
	return votes >= 2;
}

static struct edge_slot *edge_push(struct pair_engine *pe,
				   const struct pair_edge *e)
{
	struct edge_slot *s;
	bool candidate = period_ok(pe, e);

	if (pe->n_edges < PAIR_EDGE_HISTORY) {
		pe->last_edge = pe->n_edges++;
	} else {
		pe->last_edge = (pe->last_edge + 1) % PAIR_EDGE_HISTORY;
	}
	s = &pe->edges[pe->last_edge];
	s->e = *e;
	s->candidate = candidate;
	s->used = false;
	if (!candidate) {
		pe->stats.edges_aperiodic++;
	}
	return s;
}

/* Is edge time e in the window of a burst at b (both mono)? */
static bool in_window(const struct pair_engine *pe, int64_t e, int64_t b)
{
	int64_t d = sub_sat(e, b);

	if (pe->cfg.next_second) {
		return d >= pe->cfg.window_min_ns && d <= pe->cfg.window_max_ns;
	}
	return d >= -pe->cfg.window_max_ns && d <= -pe->cfg.window_min_ns;
}

/* Candidate edges in w's window among those fed so far; *found is the
 * last of them. */
static int find_edges(struct pair_engine *pe, const struct waiting *w,
		      struct edge_slot **found)
{
	int n = 0;
	unsigned i;

	for (i = 0; i < pe->n_edges; i++) {
		struct edge_slot *s = &pe->edges[i];

		if (s->candidate && in_window(pe, s->e.mono_ns, w->mono_ns)) {
			*found = s;
			n++;
		}
	}
	return n;
}

/* ---- consistency guard ---------------------------------------------- */

static bool agree(const struct offsets *a, const struct offsets *b,
		  int64_t tol)
{
	return within(a->real, b->real, tol) && within(a->mono, b->mono, tol);
}

static enum pair_result accept(struct pair_engine *pe, int64_t label,
			       const struct pair_edge *e,
			       const struct offsets *off, bool confirmed,
			       struct pair_sample *out)
{
	/* With the period check off, only a confirmed run may move the
	 * reference: a noise edge accepted within guard_ns would otherwise
	 * let it wander, guard_ns at a time. */
	if (confirmed || pe->cfg.period_tol_ns > 0) {
		pe->guard.have_ref = true;
		pe->guard.ref = *off;
		pe->anchor_mono = e->mono_ns;
	}
	pe->guard.run = 0;
	out->edge_ns = e->real_ns;
	out->label_ns = label;
	out->offset_ns = off->real;
	out->leap = 0;
	pe->stats.samples++;
	return PAIR_SAMPLE;
}

/* Does this held pairing continue the run of the previous one: the next
 * label, the edge a whole second after the previous one on
 * CLOCK_MONOTONIC_RAW (offset unchanged within the period tolerance), and
 * the system clock offset within guard_ns (a slewing clock moves it)? */
static bool run_continues(const struct pair_engine *pe, int64_t label,
			  const struct offsets *off)
{
	const struct guard *g = &pe->guard;
	int64_t tol = pe->cfg.period_tol_ns;

	if (tol == 0 || tol > pe->cfg.guard_ns) {
		tol = pe->cfg.guard_ns;
	}
	return g->run > 0 && sub_sat(label, g->run_label) == TU_NS_PER_SEC &&
	       within(off->mono, g->run_off.mono, tol) &&
	       within(off->real, g->run_off.real, pe->cfg.guard_ns);
}

static enum pair_result guard_check(struct pair_engine *pe, int64_t label,
				    const struct pair_edge *e,
				    struct pair_sample *out)
{
	struct guard *g = &pe->guard;
	struct offsets off = { sub_sat(label, e->real_ns),
			       sub_sat(label, e->mono_ns) };

	if (g->have_ref && agree(&off, &g->ref, pe->cfg.guard_ns)) {
		return accept(pe, label, e, &off, false, out);
	}
	g->run = run_continues(pe, label, &off) ? g->run + 1 : 1;
	g->run_label = label;
	g->run_off = off;
	if (g->run >= pe->cfg.confirm) {
		if (g->have_ref) {
			pe->stats.ref_changes++;
		}
		return accept(pe, label, e, &off, true, out);
	}
	return hold(pe, PAIR_GUARD);
}

static enum pair_result ambiguous(struct pair_engine *pe)
{
	pe->guard.run = 0;
	return hold(pe, PAIR_AMBIGUOUS);
}

/* One epoch, one edge: the edge is taken whatever the guard decides. */
static enum pair_result pair_one(struct pair_engine *pe,
				 const struct waiting *w, struct edge_slot *s,
				 struct pair_sample *out)
{
	if (s->used) {
		return ambiguous(pe);
	}
	s->used = true;
	if (sub_sat(s->e.mono_ns, w->mono_ns) > pe->cfg.stale_ns) {
		return hold(pe, PAIR_STALE);
	}
	return guard_check(pe, w->label_ns, &s->e, out);
}

/* ---- warm-up and screening of epochs -------------------------------- */

static struct mark mark_of(const struct nmea_epoch *ep)
{
	int64_t frac = tu_floor_mod(ep->time_ns, TU_NS_PER_SEC);
	struct mark m = { sub_sat(ep->time_ns, frac), ep->burst_rx_mono_ns,
			  ep->leap_second };

	if (m.mono != 0) {
		m.mono = sub_sat(m.mono, frac);
	}
	return m;
}

/* Does second m follow second a as its burst follows a's: a whole number
 * of seconds later (one more across a leap second), within a second of
 * the burst interval?  Without mono stamps: exactly the next second. */
static bool warmup_follows(const struct mark *a, const struct mark *m)
{
	int64_t dl = sub_sat(m->label, a->label);
	int64_t gap = sub_sat(m->mono, a->mono);

	if (a->leap) {
		dl = sub_sat(dl, -TU_NS_PER_SEC);
	}
	if (m->mono == 0 || a->mono == 0) {
		return dl == TU_NS_PER_SEC;
	}
	return dl >= TU_NS_PER_SEC && is_whole(dl) &&
	       within(dl, gap, TU_NS_PER_SEC - 1);
}

static void warmup_count(struct warmup *w, const struct mark *m, int run)
{
	w->run = run;
	w->last = *m;
	w->have_alt = false;
}

/* An inconsistent second while warming up.  One alone (garbled,
 * spurious) does not restart the count: it is remembered, and the count
 * goes on when the next second follows the last one counted.  When the
 * next second follows the remembered one instead (the labels jumped, or
 * the seconds counted were the wrong ones), the count restarts from the
 * two of them. */
static void warmup_other(struct warmup *w, const struct mark *m)
{
	if (w->have_alt && warmup_follows(&w->alt, m)) {
		warmup_count(w, m, 2);
		return;
	}
	w->have_alt = true;
	w->alt = *m;
}

/* Count ep's second towards warm-up; returns whether its label is
 * consistent with the seconds counted before it.  A later epoch of a
 * second (label not whole) counts for it when the whole-second epoch did
 * not; untimed, it does not count. */
static bool warmup_note(struct pair_engine *pe, const struct nmea_epoch *ep)
{
	struct warmup *w = &pe->warm;
	bool whole = is_whole(ep->time_ns);
	struct mark m = mark_of(ep);
	bool timed = m.mono != 0 && w->last.mono != 0;
	int64_t gap = sub_sat(m.mono, w->last.mono);
	/* silence: since the last second seen, counted or not */
	int64_t quiet = w->have_alt && w->alt.mono != 0 ?
			sub_sat(m.mono, w->alt.mono) : gap;
	bool silence = timed && quiet > pe->cfg.stale_ns + TU_NS_PER_SEC / 2;

	if (!ep->valid) {
		w->run = 0;
		return false;
	}
	if (!ep->date_known || (!whole && m.mono == 0)) {
		return true;
	}
	if (w->run == 0 || silence) {
		warmup_count(w, &m, 1);         /* start, or after a silence */
		return true;
	}
	if (timed && gap < TU_NS_PER_SEC / 2) {
		/* Within the second counted: a later epoch of it agrees, a
		 * second whole-second epoch does not. */
		return !whole && m.label == w->last.label;
	}
	if (warmup_follows(&w->last, &m)) {
		warmup_count(w, &m, w->run + (w->run < pe->cfg.min_valid));
		return true;
	}
	/* Garbled, spurious or jumped.  Once warm, leave the count alone
	 * (the guard holds the pairing) but do not vouch for its NMEA
	 * sample. */
	if (w->run < pe->cfg.min_valid) {
		warmup_other(w, &m);
	}
	return false;
}

static bool warm(const struct pair_engine *pe)
{
	return pe->warm.run >= pe->cfg.min_valid;
}

/* May a later epoch of a second (label not whole) seek an edge in place
 * of the whole-second epoch: it is timed, and the last epoch that sought
 * one named another second and has a mark more than 0.5 s before its
 * own? */
static bool stands_in(const struct pair_engine *pe,
		      const struct nmea_epoch *ep)
{
	struct mark m = mark_of(ep);

	if (m.mono == 0) {
		return false;
	}
	return pe->tried.mono == 0 ||
	       (m.label != pe->tried.label &&
		sub_sat(m.mono, pe->tried.mono) > TU_NS_PER_SEC / 2);
}

/* PAIR_PENDING when the epoch may pair, else why not. */
static enum pair_result screen(const struct pair_engine *pe,
			       const struct nmea_epoch *ep)
{
	if (!ep->valid) {
		return PAIR_NO_FIX;
	}
	if (!ep->date_known) {
		return PAIR_NO_DATE;
	}
	if (ep->leap_second) {
		return PAIR_LEAP_SECOND;
	}
	if (!is_whole(ep->time_ns) && (!warm(pe) || !stands_in(pe, ep))) {
		return PAIR_NOT_WHOLE;
	}
	if (!warm(pe)) {
		return PAIR_WARMUP;
	}
	if (ep->burst_rx_mono_ns == 0) {
		return PAIR_UNTIMED;
	}
	return PAIR_PENDING;
}

/* ---- waiting epochs (next_second mode) ------------------------------ */

static void wait_remove(struct pair_engine *pe, unsigned i)
{
	memmove(&pe->wait[i], &pe->wait[i + 1],
		(pe->n_wait - i - 1) * sizeof(pe->wait[0]));
	pe->n_wait--;
}

static void wait_add(struct pair_engine *pe, const struct waiting *w)
{
	if (pe->n_wait == PAIR_PENDING_MAX) {
		wait_remove(pe, 0);
		hold(pe, PAIR_STALE);
	}
	pe->wait[pe->n_wait++] = *w;
}

/* Give up the waiting epochs whose window closed before mono time t;
 * returns how many. */
static unsigned wait_expire(struct pair_engine *pe, int64_t t)
{
	unsigned i = 0, n = 0;

	while (i < pe->n_wait) {
		if (sub_sat(t, pe->wait[i].mono_ns) > pe->cfg.window_max_ns) {
			wait_remove(pe, i);
			hold(pe, PAIR_NO_EDGE);
			n++;
		} else {
			i++;
		}
	}
	return n;
}

/* A new candidate edge against the waiting epochs. */
static enum pair_result wait_match(struct pair_engine *pe, struct edge_slot *s,
				   struct pair_sample *out)
{
	unsigned i, n = 0, hit = 0;
	struct waiting w;

	for (i = 0; i < pe->n_wait; i++) {
		if (in_window(pe, s->e.mono_ns, pe->wait[i].mono_ns)) {
			hit = i;
			n++;
		}
	}
	if (n == 0) {
		return PAIR_PENDING;
	}
	if (n == 1) {
		w = pe->wait[hit];
		wait_remove(pe, hit);
		return pair_one(pe, &w, s, out);
	}
	for (i = pe->n_wait; i-- > 0;) {
		if (in_window(pe, s->e.mono_ns, pe->wait[i].mono_ns)) {
			wait_remove(pe, i);
			ambiguous(pe);
		}
	}
	return PAIR_AMBIGUOUS;
}

/* ---- the two entry points ------------------------------------------- */

enum pair_result pair_add_edge(struct pair_engine *pe,
			       const struct pair_edge *edge,
			       struct pair_sample *out)
{
	struct edge_slot *s;
	enum pair_result r = PAIR_PENDING, m;

	pe->stats.edges++;
	if (edge->mono_ns == 0) {
		pe->stats.edges_untimed++;
		return PAIR_PENDING;
	}
	s = edge_push(pe, edge);
	if (!pe->cfg.next_second) {
		return PAIR_PENDING;
	}
	if (wait_expire(pe, edge->mono_ns) > 0) {
		r = PAIR_NO_EDGE;
	}
	if (s->candidate) {
		m = wait_match(pe, s, out);
		if (m != PAIR_PENDING) {
			r = m;
		}
	}
	return r;
}

/* Default mode: the newest edge fed is more than stale_ns after the
 * burst, i.e. the epoch was fed late. */
static bool epoch_stale(const struct pair_engine *pe, const struct waiting *w)
{
	return pe->n_edges > 0 && !pe->cfg.next_second &&
	       sub_sat(pe->edges[pe->last_edge].e.mono_ns, w->mono_ns) >
	       pe->cfg.stale_ns;
}

static enum pair_result pair_epoch(struct pair_engine *pe,
				   const struct waiting *w,
				   struct pair_sample *out)
{
	struct edge_slot *s = NULL;
	int n;

	if (epoch_stale(pe, w)) {
		return hold(pe, PAIR_STALE);
	}
	n = find_edges(pe, w, &s);
	if (n > 1) {
		return ambiguous(pe);
	}
	if (n == 1) {
		return pair_one(pe, w, s, out);
	}
	if (pe->cfg.next_second) {
		wait_add(pe, w);
		return PAIR_PENDING;
	}
	return hold(pe, PAIR_NO_EDGE);
}

/* A 23:59:60 label: one more second has passed on CLOCK_MONOTONIC_RAW
 * than the labels count, so label - mono steps back by a second.  Once per
 * leap second (a 10 Hz receiver labels ten epochs 23:59:60). */
static void leap_note(struct pair_engine *pe, const struct nmea_epoch *ep)
{
	int64_t sec = tu_floor_div(ep->time_ns, TU_NS_PER_SEC);

	if (!ep->leap_second || !ep->date_known || sec == pe->leap_label) {
		return;
	}
	pe->leap_label = sec;
	pe->guard.ref.mono = sub_sat(pe->guard.ref.mono, TU_NS_PER_SEC);
	pe->guard.run_off.mono = sub_sat(pe->guard.run_off.mono, TU_NS_PER_SEC);
}

enum pair_result pair_add_epoch(struct pair_engine *pe,
				const struct nmea_epoch *ep,
				struct pair_sample *out)
{
	struct mark m = mark_of(ep);
	struct waiting w = { m.label, m.mono };
	enum pair_result r;
	bool consistent;

	pe->stats.epochs++;
	pe->stood_in = false;
	leap_note(pe, ep);
	consistent = warmup_note(pe, ep);
	pe->usable = consistent && ep->valid && ep->date_known &&
		     !ep->leap_second && warm(pe);
	if (pe->cfg.next_second && ep->burst_rx_mono_ns != 0) {
		wait_expire(pe, ep->burst_rx_mono_ns);
	}
	r = screen(pe, ep);
	if (r != PAIR_PENDING) {
		return hold(pe, r);
	}
	pe->stood_in = !is_whole(ep->time_ns);
	pe->tried = m;
	return pair_epoch(pe, &w, out);
}

bool pair_stood_in(const struct pair_engine *pe)
{
	return pe->stood_in;
}

enum pair_guard_state pair_guard_state(const struct pair_engine *pe)
{
	if (pe->guard.run > 0) {
		return PAIR_GUARD_CONFIRMING;
	}
	if (!warm(pe) || !pe->guard.have_ref) {
		return PAIR_GUARD_WARMING_UP;
	}
	return PAIR_GUARD_LOCKED;
}

const char *pair_guard_state_name(enum pair_guard_state g)
{
	static const char *const names[] = { "warming-up", "locked",
					     "confirming" };

	if ((unsigned)g >= sizeof(names) / sizeof(names[0])) {
		return "?";
	}
	return names[g];
}
