/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_judge_chrony.c - chronyd's links: running, its configuration,
 * the sockets, gpsppsd's sends, reach, selection, the system clock. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor_judge_int.h"

static void check_chronyd(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;

	r->id = "chronyd";
	if (!f->chronyc_ran) {
		doctor_judge_say(r, DOCTOR_FAIL, "cannot run chronyc: %s",
				 f->chronyc_err);
		doctor_judge_fix(r, "install chrony, or give --chronyc with "
				 "the command that runs chronyc");
		return;
	}
	if (f->chronyc_status != 0 || !f->tracking_ok) {
		doctor_judge_say(r, DOCTOR_FAIL, "chronyd is not running or "
				 "not answering: chronyc: %s", f->chronyc_err);
		doctor_judge_fix(r, "start chronyd (systemctl start chrony), "
				 "or point --chronyc at its socket (\"chronyc "
				 "-h SOCKET\")");
		return;
	}
	c->chronyd_up = true;
	doctor_judge_say(r, DOCTOR_PASS, "chronyd answering (stratum %d, "
			 "reference %s)", f->tracking.stratum,
			 f->tracking.refname[0] ? f->tracking.refname : "none");
}

/* --- chrony.conf ------------------------------------------------------- */

static void other_socks(const struct doctor_facts *f, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < f->n_socks && used < len; i++) {
		if (strcmp(f->socks[i], f->pps_rc.path) == 0 ||
		    strcmp(f->socks[i], f->nmea_rc.path) == 0) {
			continue;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 used ? ", " : "", f->socks[i]);
	}
}

static bool conf_lacks(struct doctor_judge_ctx *c, struct doctor_result *r,
		       const struct doctor_rc *rc, const char *what,
		       const char *path, const char *line)
{
	const struct doctor_facts *f = c->f;
	char others[300];

	if (rc->found) {
		return false;
	}
	other_socks(f, others, sizeof(others));
	if (others[0] != '\0') {
		doctor_judge_say(r, DOCTOR_FAIL, "%s's SOCK refclocks read %s, "
				 "not %s where gpsppsd sends %s samples",
				 f->conf, others, path, what);
		doctor_judge_fix(r, "make the two paths the same (gpsppsd's "
				 "`%s-socket` or the refclock's path), then "
				 "restart the one you changed", strcmp(what,
				 "PPS") == 0 ? "pps" : "nmea");
		return true;
	}
	doctor_judge_say(r, DOCTOR_FAIL, "%s (%zu files read) has no SOCK "
			 "refclock on %s, where gpsppsd sends %s samples",
			 f->conf, f->conf_files, path, what);
	doctor_judge_fix(r, "add `refclock SOCK %s %s` and restart chronyd",
			 path, line);
	return true;
}

static void check_conf(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	const struct doctor_setup *s = &f->setup;

	r->id = "chrony-conf";
	if (!f->conf_ok) {
		doctor_judge_say(r, DOCTOR_FAIL, "cannot read chrony's "
				 "configuration: %s", f->conf_err);
		doctor_judge_fix(r, "give --conf with the file chronyd reads");
		return;
	}
	if (!f->setup_known) {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd's socket paths are "
				 "unknown");
		return;
	}
	if (strcmp(s->pps, "none") != 0 &&
	    conf_lacks(c, r, &f->pps_rc, "PPS", s->pps_socket,
		       "refid PPS precision 1e-7 prefer")) {
		return;
	}
	if (s->nmea_samples &&
	    conf_lacks(c, r, &f->nmea_rc, "NMEA", s->nmea_socket,
		       "refid NMEA precision 1e-3 offset 0.0 delay 0.2 "
		       "noselect")) {
		return;
	}
	doctor_judge_say(r, DOCTOR_PASS, "refclocks %s on %s (%s), %s on %s "
			 "(%s)", c->pps_refid, f->pps_rc.path, f->pps_rc.where,
			 c->nmea_refid, f->nmea_rc.path, f->nmea_rc.where);
}

/* --- the sockets -------------------------------------------------------- */

static bool sock_bad(struct doctor_judge_ctx *c, struct doctor_result *r,
		     const struct doctor_file *fl, const char *path)
{
	const struct doctor_user *u = &c->f->user;
	char desc[96];

	if (fl->err != 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s: %s", path,
				 strerror(fl->err));
		doctor_judge_fix(r, "chronyd creates it when it starts: "
				 "restart chronyd once its refclock line names "
				 "this path");
		return true;
	}
	doctor_judge_file_desc(fl, desc, sizeof(desc));
	if (!S_ISSOCK(fl->mode)) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s is not a socket (%s)",
				 path, desc);
		doctor_judge_fix(r, "remove it and restart chronyd");
		return true;
	}
	if (!u->known) {
		return false;
	}
	if (!fl->dirs_searchable ||
	    !doctor_judge_user_may(u, fl->mode, fl->uid, fl->gid, 2)) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s is %s: gpsppsd's user %s "
				 "may not %s it", path, desc, u->name,
				 fl->dirs_searchable ? "write" : "reach");
		doctor_judge_fix(r, "let chronyd create its sockets "
				 "group-writable (UMask=0007) in a directory "
				 "of gpsppsd's group (root:gpspps 2750), as "
				 "the package does: doc/install.md, "
				 "Privileges");
		return true;
	}
	return false;
}

static void check_sockets(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	const struct doctor_setup *s = &f->setup;
	bool pps = f->setup_known && strcmp(s->pps, "none") != 0;
	bool nmea = f->setup_known && s->nmea_samples;
	char desc[96];

	r->id = "sockets";
	if (!pps && !nmea) {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd's socket paths are "
				 "unknown");
		return;
	}
	if ((pps && sock_bad(c, r, &f->pps_sock, s->pps_socket)) ||
	    (nmea && sock_bad(c, r, &f->nmea_sock, s->nmea_socket))) {
		return;
	}
	doctor_judge_file_desc(pps ? &f->pps_sock : &f->nmea_sock, desc,
			       sizeof(desc));
	doctor_judge_say(r, f->user.known ? DOCTOR_PASS : DOCTOR_WARN,
			 "%s%s%s (%s)%s%s", pps ? s->pps_socket : "",
			 pps && nmea ? ", " : "", nmea ? s->nmea_socket : "",
			 desc, f->user.known ? ", writable by " :
			 ": cannot tell who gpsppsd runs as",
			 f->user.known ? f->user.name : "");
	if (!f->user.known) {
		doctor_judge_fix(r, "run gpsppsctl doctor while gpsppsd runs");
	}
}

/* --- gpsppsd's sends ----------------------------------------------------- */

struct send_state {
	double sent, since;   /* since: NAN when never delivered */
	const char *err;      /* last errno name, or NULL */
	double err_count;
	const char *meaning;
};

static void send_state(const json_t *st, const char *which,
		       struct send_state *s)
{
	char key[96];

	s->sent = 0;
	s->since = NAN;
	s->err_count = 0;
	snprintf(key, sizeof(key), "chronyd.%s.sent", which);
	ctl_json_num(st, key, &s->sent);
	snprintf(key, sizeof(key), "chronyd.%s.since_last_delivery_s", which);
	ctl_json_num(st, key, &s->since);
	snprintf(key, sizeof(key), "chronyd.%s.last_error", which);
	s->err = ctl_json_str(st, key);
	s->meaning = NULL;
	if (s->err != NULL) {
		snprintf(key, sizeof(key), "chronyd.%s.failed.%s.count", which,
			 s->err);
		ctl_json_num(st, key, &s->err_count);
		snprintf(key, sizeof(key), "chronyd.%s.failed.%s.meaning",
			 which, s->err);
		s->meaning = ctl_json_str(st, key);
	}
}

/* Deliveries are succeeding now: one within the last few seconds. */
static bool sends_ok(const struct send_state *s)
{
	return s->sent > 0 && s->since <= DOCTOR_SILENCE_S;
}

static bool sends_failing(struct doctor_result *r, const char *what,
			  const struct send_state *s)
{
	if (sends_ok(s) || s->err == NULL) {
		return false;
	}
	doctor_judge_say(r, DOCTOR_FAIL, "%s samples are not delivered: %s "
			 "(%.0f times)", what, s->err, s->err_count);
	doctor_judge_fix(r, "%s", s->meaning ? s->meaning : "see gpsppsd's "
			 "log");
	return true;
}

static void check_sends(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	struct send_state p, n;
	bool nmea = c->f->setup.nmea_samples;

	r->id = "sends";
	if (c->st == NULL) {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd not running");
		return;
	}
	send_state(c->st, "pps", &p);
	send_state(c->st, "nmea", &n);
	if ((c->pps_ok && sends_failing(r, "PPS", &p)) ||
	    (nmea && sends_failing(r, "NMEA", &n))) {
		return;
	}
	if (c->pps_ok && !sends_ok(&p)) {
		doctor_judge_say(r, DOCTOR_SKIP, "no PPS sample to send");
		return;
	}
	doctor_judge_say(r, DOCTOR_PASS, "delivered %.0f PPS and %.0f NMEA "
			 "samples, the last %.1f s ago", p.sent, n.sent,
			 c->pps_ok ? p.since : n.since);
}

/* --- reach ------------------------------------------------------------- */

static bool source_of(const struct doctor_facts *f, const char *refid,
		      struct cp_source *src)
{
	return f->sources != NULL &&
	       cp_find_source(f->sources, f->sources_len, refid, src) == 0;
}

bool doctor_judge_find_source(const struct doctor_facts *f,
			      bool (*pred)(const struct cp_source *,
					   const void *),
			      const void *arg, struct cp_source *out)
{
	const char *p = f->sources, *end = f->sources + f->sources_len;

	while (p != NULL && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (cp_parse_source_line(p, n, out) == 0 && pred(out, arg)) {
			return true;
		}
		p += n + 1;
	}
	return false;
}

static bool has_reach(const struct cp_source *s, const void *arg)
{
	(void)arg;
	return s->reach != 0;
}

/* Some source of chronyd has a reach: it has been polling long enough
 * for a zero reach to mean something. */
static bool any_reach(const struct doctor_facts *f)
{
	struct cp_source src;

	return doctor_judge_find_source(f, has_reach, NULL, &src);
}

static bool reach_zero(struct doctor_judge_ctx *c, struct doctor_result *r,
		       const char *which, const char *refid,
		       const char *path)
{
	const struct doctor_facts *f = c->f;
	struct send_state s;
	double size = 0;
	char key[64];

	send_state(c->st, which, &s);
	snprintf(key, sizeof(key), "chronyd.%s.sample_size", which);
	ctl_json_num(c->st, key, &size);
	if (!sends_ok(&s)) {
		doctor_judge_say(r, DOCTOR_FAIL, "chronyd's reach for %s is 0: "
				 "no sample of gpsppsd reaches it", refid);
		doctor_judge_fix(r, "see the checks above: gpsppsd must send "
				 "to %s", path);
		return true;
	}
	if (!any_reach(f) && f->chronyd_age_s >= 0 &&
	    f->chronyd_age_s < 20) {
		doctor_judge_say(r, DOCTOR_WARN, "chronyd's reach for %s is 0, "
				 "but chronyd started only %.0f s ago", refid,
				 f->chronyd_age_s);
		doctor_judge_fix(r, "wait half a minute and run gpsppsctl "
				 "doctor again");
		return true;
	}
	doctor_judge_say(r, DOCTOR_FAIL, "gpsppsd's sends to %s succeed (%.0f "
			 "sent) but chronyd's reach for %s stays 0: a sample "
			 "size or socket mismatch", path, s.sent, refid);
	doctor_judge_fix(r, "gpsppsd sends %.0f-byte samples: build it for the "
			 "same time_t as chronyd (a 32-bit time_t chronyd "
			 "takes 32 bytes), and check that %s is this chronyd's "
			 "socket (restart chronyd)", size, path);
	return true;
}

static bool reach_bad(struct doctor_judge_ctx *c, struct doctor_result *r,
		      const char *which, const char *refid, const char *path,
		      unsigned *reach)
{
	struct cp_source src;

	if (!source_of(c->f, refid, &src)) {
		doctor_judge_say(r, DOCTOR_FAIL, "chronyd has no source %s",
				 refid);
		doctor_judge_fix(r, "chronyd reads another configuration than "
				 "%s, or was not restarted since the refclock "
				 "was added: restart chronyd (or give --conf)",
				 c->f->conf);
		return true;
	}
	*reach = src.reach;
	return src.reach == 0 && reach_zero(c, r, which, refid, path);
}

static void check_reach(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_setup *s = &c->f->setup;
	bool pps = c->f->setup_known && strcmp(s->pps, "none") != 0;
	unsigned rp = 0, rn = 0;

	r->id = "reach";
	if (!c->chronyd_up || c->st == NULL || c->f->sources == NULL) {
		doctor_judge_say(r, DOCTOR_SKIP, c->st == NULL ?
				 "gpsppsd not running" :
				 "chronyd not answering");
		return;
	}
	if (pps && reach_bad(c, r, "pps", c->pps_refid, s->pps_socket, &rp)) {
		return;
	}
	if (s->nmea_samples &&
	    reach_bad(c, r, "nmea", c->nmea_refid, s->nmea_socket, &rn)) {
		return;
	}
	c->pps_reached = pps;
	doctor_judge_say(r, DOCTOR_PASS, "reach %s %o, %s %o", c->pps_refid, rp,
			 c->nmea_refid, rn);
}

void doctor_judge_chrony(struct doctor_judge_ctx *c, struct doctor_report *rep)
{
	check_chronyd(c, &rep->r[rep->n++]);
	check_conf(c, &rep->r[rep->n++]);
	check_sockets(c, &rep->r[rep->n++]);
	check_sends(c, &rep->r[rep->n++]);
	check_reach(c, &rep->r[rep->n++]);
	doctor_judge_selection(c, rep);
}
