/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_judge_select.c - whether chronyd selects the PPS, and why not,
 * and whether the system clock is synchronised. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "doctor_judge_int.h"

static bool selected_other(const struct cp_source *s, const void *refid)
{
	return strcmp(s->name, refid) != 0 &&
	       (s->state == '*' || s->state == '+');
}

/* The selected or combined source other than the PPS, if any. */
static bool other_selected(struct doctor_judge_ctx *c, struct cp_source *out)
{
	return doctor_judge_find_source(c->f, selected_other, c->pps_refid,
					out);
}

/* A `lock` to a refclock whose offset is past chronyd's limit. */
static bool lock_over(struct doctor_judge_ctx *c, struct doctor_result *r,
		      bool selected)
{
	const struct doctor_facts *f = c->f;
	struct cp_source lk;

	if (f->pps_rc.lock[0] == '\0' || f->sources == NULL ||
	    cp_find_source(f->sources, f->sources_len, f->pps_rc.lock,
			   &lk) != 0 ||
	    !(fabs(lk.offset) > DOCTOR_LOCK_LIMIT_S)) {
		return false;
	}
	doctor_judge_say(r, selected ? DOCTOR_WARN : DOCTOR_FAIL, "%s is "
			 "locked to %s (lock %s, %s), whose uncalibrated "
			 "offset %.3f s is past chrony's %.1f s lock limit%s",
			 c->pps_refid, f->pps_rc.lock, f->pps_rc.lock,
			 f->pps_rc.where, lk.offset, DOCTOR_LOCK_LIMIT_S,
			 selected ? " (still selected: chronyd locks pulses, "
			 "and gpsppsd sends whole samples)" : "");
	doctor_judge_fix(r, "run gpspps-calibrate --write to set the %s "
			 "refclock's offset and restart chronyd, or drop `lock "
			 "%s`, which gpsppsd's samples do not need",
			 f->pps_rc.lock, f->pps_rc.lock);
	return true;
}

static void falseticker(struct doctor_judge_ctx *c, struct doctor_result *r,
			const struct cp_source *pps)
{
	struct cp_source o;
	double d, whole;

	if (!other_selected(c, &o)) {
		doctor_judge_say(r, DOCTOR_FAIL, "chronyd marks %s a "
				 "falseticker", c->pps_refid);
		doctor_judge_fix(r, "add network servers: with fewer than two "
				 "there is no majority to trust the PPS "
				 "against");
		return;
	}
	d = pps->offset - o.offset;
	whole = round(d);
	doctor_judge_say(r, DOCTOR_FAIL, "chronyd marks %s a falseticker: %.6f "
			 "s from %s", c->pps_refid, d, o.name);
	if (whole != 0 && fabs(d - whole) < 0.01) {
		doctor_judge_fix(r, "the receiver reports the wrong second (a "
				 "week rollover? see gpsppsd's log)");
	} else if (fabs(d) > 0.01) {
		doctor_judge_fix(r, "the wrong edge (off by about a pulse "
				 "width): set `pps-edge` to the other edge");
	} else {
		doctor_judge_fix(r, "add network servers: with fewer than two "
				 "there is no majority to trust the PPS "
				 "against");
	}
}

static void noselect(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	struct cp_source o;

	if (other_selected(c, &o)) {
		doctor_judge_say(r, DOCTOR_WARN, "%s is noselect (%s): chronyd "
				 "follows %s", c->pps_refid, c->f->pps_rc.where,
				 o.name);
	} else {
		doctor_judge_say(r, DOCTOR_FAIL, "%s is noselect (%s) and "
				 "chronyd has no other source to select",
				 c->pps_refid, c->f->pps_rc.where);
	}
	doctor_judge_fix(r, "remove `noselect` from the %s refclock line and "
			 "restart chronyd", c->pps_refid);
}

static void by_state(struct doctor_judge_ctx *c, struct doctor_result *r,
		     const struct cp_source *s)
{
	switch (s->state) {
	case '*':
	case '+':
		doctor_judge_say(r, DOCTOR_PASS, "%s %s (%c), offset %.0f ns",
				 c->pps_refid, s->state == '*' ? "selected" :
				 "combined", s->state, s->offset * 1e9);
		return;
	case 'x':
		falseticker(c, r, s);
		return;
	case '~':
		doctor_judge_say(r, DOCTOR_WARN, "chronyd finds %s too "
				 "variable (~)", c->pps_refid);
		doctor_judge_fix(r, "check for a loose PPS wire or a weak "
				 "signal; with pps dcd:wait raise the "
				 "refclock's precision");
		return;
	case '-':
		doctor_judge_say(r, DOCTOR_WARN, "%s not combined (-)",
				 c->pps_refid);
		doctor_judge_fix(r, "add `prefer` to the %s refclock line",
				 c->pps_refid);
		return;
	default:
		doctor_judge_say(r, DOCTOR_FAIL, "chronyd does not use %s "
				 "(state %c)", c->pps_refid, s->state);
		doctor_judge_fix(r, "wait a minute after a (re)start; if it "
				 "lasts, see chronyd's log");
	}
}

static void check_selection(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	struct cp_source s;

	r->id = "selection";
	if (!c->pps_reached ||
	    cp_find_source(c->f->sources, c->f->sources_len, c->pps_refid,
			   &s) != 0) {
		doctor_judge_say(r, DOCTOR_SKIP, "no PPS samples in chronyd");
		return;
	}
	if (lock_over(c, r, s.state == '*' || s.state == '+')) {
		return;
	}
	if (c->f->pps_rc.noselect) {
		noselect(c, r);
		return;
	}
	by_state(c, r, &s);
}

static void check_clock(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct cp_tracking *t = &c->f->tracking;

	r->id = "clock";
	if (!c->chronyd_up) {
		doctor_judge_say(r, DOCTOR_SKIP, "chronyd not answering");
		return;
	}
	if (t->leap == CP_LEAP_UNSYNC || t->stratum == 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "the system clock is not "
				 "synchronised (%s)", t->leap_word);
		doctor_judge_fix(r, "chronyd synchronises once it selects a "
				 "source: see the checks above");
		return;
	}
	if (strcmp(t->refname, c->pps_refid) != 0) {
		doctor_judge_say(r, DOCTOR_WARN, "synchronised to %s, not to "
				 "%s", t->refname, c->pps_refid);
		doctor_judge_fix(r, "see the PPS selection above");
		return;
	}
	doctor_judge_say(r, DOCTOR_PASS, "synchronised to %s (stratum %d), "
			 "offset %.0f ns", t->refname, t->stratum,
			 t->system_offset * 1e9);
}

void doctor_judge_selection(struct doctor_judge_ctx *c,
			    struct doctor_report *rep)
{
	check_selection(c, &rep->r[rep->n++]);
	check_clock(c, &rep->r[rep->n++]);
}
