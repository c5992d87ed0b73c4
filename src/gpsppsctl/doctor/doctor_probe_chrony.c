/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_probe_chrony.c - see doctor_probe.h: chronyd's side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chronyc_parse.h"
#include "chronyc_run.h"
#include "confedit.h"
#include "doctor_probe.h"
#include "doctor_proc.h"

static void chronyc_err(const struct cr_output *out, char *dst)
{
	const char *src = out->err_len > 0 ? out->err : out->out;

	if (out->timed_out) {
		snprintf(dst, DOCTOR_STR, "no answer (timed out)");
		return;
	}
	snprintf(dst, DOCTOR_STR, "%.*s", (int)strcspn(src, "\n"), src);
}

static void ask_tracking(const struct ctl_options *o, struct doctor_facts *f)
{
	static const char *const args[] = { "-c", "tracking", NULL };
	struct cr_output out;
	int rc = cr_run(o->chronyc, args, o->timeout_ms, &out);

	if (rc < 0) {
		snprintf(f->chronyc_err, DOCTOR_STR, "%s: %s", o->chronyc,
			 strerror(-rc));
		return;
	}
	f->chronyc_ran = out.status != 127;
	f->chronyc_status = out.timed_out ? -1 : out.status;
	chronyc_err(&out, f->chronyc_err);
	f->tracking_ok = f->chronyc_status == 0 &&
			 cp_parse_tracking(out.out, out.out_len,
					   &f->tracking) == 0;
	if (f->chronyc_status == 0 && !f->tracking_ok) {
		snprintf(f->chronyc_err, DOCTOR_STR, "tracking output not "
			 "understood");
	}
	cr_output_free(&out);
}

static void ask_sources(const struct ctl_options *o, struct doctor_facts *f)
{
	static const char *const args[] = { "-c", "sources", NULL };
	struct cr_output out;

	if (cr_run(o->chronyc, args, o->timeout_ms, &out) < 0) {
		return;
	}
	if (out.status == 0 && !out.timed_out) {
		f->sources = out.out;
		f->sources_len = out.out_len;
		out.out = NULL;
	}
	cr_output_free(&out);
}

static void copy_rc(const struct ce_refclock *rc, struct doctor_rc *out)
{
	if (rc == NULL) {
		return;
	}
	out->found = true;
	snprintf(out->refid, sizeof(out->refid), "%s", rc->refid);
	snprintf(out->lock, sizeof(out->lock), "%s", rc->lock);
	out->noselect = rc->noselect;
	snprintf(out->path, sizeof(out->path), "%s", rc->param);
	snprintf(out->where, sizeof(out->where), "%s:%d", rc->file, rc->line);
}

static void read_conf(const struct ctl_options *o, struct doctor_facts *f)
{
	struct ce_config *cfg;
	size_t i;

	snprintf(f->conf, DOCTOR_STR, "%s", o->conf);
	cfg = ce_load(o->conf, f->conf_err, sizeof(f->conf_err));
	if (cfg == NULL) {
		return;
	}
	f->conf_ok = true;
	f->conf_files = ce_file_count(cfg);
	for (i = 0; i < ce_refclock_count(cfg); i++) {
		const struct ce_refclock *rc = ce_refclock_at(cfg, i);

		if (strcmp(rc->driver, "SOCK") == 0 &&
		    f->n_socks < DOCTOR_MAX_SOCKS) {
			snprintf(f->socks[f->n_socks++], DOCTOR_STR, "%s",
				 rc->param);
		}
	}
	if (f->setup_known) {
		copy_rc(ce_find_sock(cfg, f->setup.pps_socket), &f->pps_rc);
		copy_rc(ce_find_sock(cfg, f->setup.nmea_socket), &f->nmea_rc);
	}
	ce_free(cfg);
}

void doctor_probe_chrony(const struct ctl_options *o, struct doctor_facts *f)
{
	ask_tracking(o, f);
	if (f->tracking_ok) {
		ask_sources(o, f);
	}
	f->chronyd_age_s = doctor_proc_youngest("chronyd");
	read_conf(o, f);
}
