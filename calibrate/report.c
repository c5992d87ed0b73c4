/* SPDX-License-Identifier: GPL-2.0-or-later */
/* report.c - see report.h. */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#define BAR_WIDTH 40

static const char *const reject_names[REJ_COUNT] = {
	[REJ_CHRONYC] = "chronyc-failed",
	[REJ_UNSYNC] = "not-synchronised",
	[REJ_REF_SELF] = "reference-is-source",
	[REJ_NO_STATS] = "no-statistics",
	[REJ_UNREACHABLE] = "unreachable",
	[REJ_BAD_LINE] = "bad-line",
};

const char *report_reject_name(enum cal_reject r)
{
	return r < REJ_COUNT ? reject_names[r] : "?";
}

static const char *mode_name(enum cal_mode m)
{
	switch (m) {
	case CAL_LIVE:
		return "live";
	case CAL_LOG:
		return "refclocks-log";
	default:
		return "sourcestats-file";
	}
}

static void fmt_duration(double s, char *buf, size_t len)
{
	long t = (long)(s + 0.5);

	if (t >= 3600) {
		snprintf(buf, len, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60,
			 t % 60);
	} else if (t >= 60) {
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	} else {
		snprintf(buf, len, "%lds", t);
	}
}

static void text_source(FILE *f, const struct cal_report *r)
{
	fprintf(f, "gpspps-calibrate: refclock %s", r->refid);
	if (r->rc != NULL) {
		fprintf(f, " (%s %s, %s:%d)", r->rc->driver, r->rc->param,
			r->rc->file, r->rc->line);
	}
	fputc('\n', f);
}

static void text_data(FILE *f, const struct cal_report *r)
{
	char span[32];
	bool any = false;
	int i;

	fmt_duration(r->res.t_last - r->res.t_first, span, sizeof(span));
	if (r->mode == CAL_LIVE) {
		char el[32];

		fmt_duration(r->elapsed_s, el, sizeof(el));
		fprintf(f, "  data            %zu chronyc sourcestats snapshots "
			"over %s (every %.0f s)%s\n", r->res.n_total, el,
			r->interval_s, r->interrupted ? ", interrupted" :
			r->precision_reached ? ", precision reached" : "");
	} else if (r->mode == CAL_LOG) {
		fprintf(f, "  data            %zu raw samples from %s, spanning "
			"%s\n", r->res.n_total, r->input, span);
		fprintf(f, "                  (raw offsets: they do not depend on "
			"the offset configured when the log was written)\n");
	} else {
		fprintf(f, "  data            %zu sourcestats snapshots from %s, "
			"spanning %s\n", r->res.n_total, r->input, span);
	}
	fprintf(f, "  not used        ");
	for (i = 0; i < REJ_COUNT; i++) {
		if (r->rejected[i] > 0) {
			fprintf(f, "%s%llu %s", any ? ", " : "",
				(unsigned long long)r->rejected[i],
				report_reject_name(i));
			any = true;
		}
	}
	if (r->other_lines > 0) {
		fprintf(f, "%s%llu lines of other sources", any ? ", " : "",
			(unsigned long long)r->other_lines);
		any = true;
	}
	fprintf(f, "%s\n", any ? "" : "none");
}

static void text_stats(FILE *f, const struct cal_report *r)
{
	const struct est_result *s = &r->res;

	fprintf(f, "  outliers        %zu rejected (|x - median| > %.0f x "
		"robust sd = %.6f s)\n", s->n_outliers, EST_OUTLIER_K,
		s->outlier_limit);
	fprintf(f, "  estimate        %.6f s, 95%% interval %.6f .. %.6f "
		"(+/- %.6f s)\n", s->median, s->ci_low, s->ci_high,
		s->half_width);
	fprintf(f, "                  n %zu, effective n %.1f (correlation "
		"time %.1f values%s)\n", s->n_used, s->n_eff, s->tau,
		s->tau_capped ? ", at least" : "");
	fprintf(f, "  spread          robust sd %.6f s; 99%% within %+.6f .. "
		"%+.6f s of the estimate", s->sigma, s->p005 - s->median,
		s->p995 - s->median);
	if (isfinite(s->sample_sd)) {
		fprintf(f, "; sourcestats sd %.6f s", s->sample_sd);
	}
	fputc('\n', f);
	if (isfinite(s->drift)) {
		fprintf(f, "  drift           first quarter %.6f, last quarter "
			"%.6f: %+.6f s (+/- %.6f)\n", s->first_q, s->last_q,
			s->drift, s->drift_se);
	}
}

static void text_result(FILE *f, const struct cal_report *r)
{
	if (isfinite(r->log_configured)) {
		fprintf(f, "  log offset      %.6f s was configured when the "
			"log was written (cooked - raw)\n", r->log_configured);
	}
	if (isfinite(r->configured)) {
		fprintf(f, "  configured      %.6f s; the source is now %+.6f s "
			"off (%s)\n", r->configured, r->measured,
			fabs(r->measured) > 0.4 ?
			"a `lock` to it fails: over 0.4 s" : "within 0.4 s");
		fprintf(f, "  new offset      %.6f s (= %.6f %+.6f)\n",
			r->new_offset, r->configured, r->measured);
	} else {
		fprintf(f, "  new offset      %.6f s\n", r->new_offset);
	}
}

static void text_histogram(FILE *f, const struct cal_report *r)
{
	unsigned counts[REPORT_BINS], top = 1;
	double w = (r->res.max - r->res.min) / REPORT_BINS;
	int i;

	est_histogram(r->est, &r->res, counts, REPORT_BINS);
	for (i = 0; i < REPORT_BINS; i++) {
		top = counts[i] > top ? counts[i] : top;
	}
	fprintf(f, "\n  offsets (used values, s)\n");
	for (i = 0; i < REPORT_BINS; i++) {
		int bar = (int)((counts[i] * BAR_WIDTH + top - 1) / top);
		double lo = r->res.min + i * w;

		fprintf(f, "    %10.6f .. %10.6f |%-*.*s %u\n", lo, lo + w,
			BAR_WIDTH, bar,
			"########################################", counts[i]);
	}
}

static void text_warnings(FILE *f, const struct cal_report *r)
{
	unsigned bit;
	bool any = false;

	for (bit = 1; bit <= EST_WARN_OUTLIERS; bit <<= 1) {
		if (r->res.warnings & bit) {
			fprintf(f, "%s  warning: %s\n", any ? "" : "\n",
				est_warning_text(bit));
			any = true;
		}
	}
}

static void text_outcome(FILE *f, const struct cal_report *r)
{
	fputc('\n', f);
	if (r->unusable != NULL) {
		fprintf(f, "  result unusable: %s; nothing written\n", r->unusable);
		return;
	}
	if (r->write_requested) {
		fprintf(f, "  %s\n", r->write_msg);
	} else {
		fprintf(f, "  not written (use --write to update chrony's "
			"configuration)\n");
	}
	if (r->apply_requested) {
		fprintf(f, "  %s\n", r->apply_msg);
	}
}

void report_text(FILE *f, const struct cal_report *r)
{
	text_source(f, r);
	if (!r->have_result) {
		fprintf(f, "  no usable data\n");
		text_data(f, r);
		text_outcome(f, r);
		return;
	}
	text_data(f, r);
	text_stats(f, r);
	text_result(f, r);
	text_histogram(f, r);
	text_warnings(f, r);
	text_outcome(f, r);
}

/* JSON: a number, or null for NAN / inf. */
static json_t *jnum(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_source(const struct cal_report *r)
{
	if (r->rc == NULL) {
		return json_null();
	}
	return json_pack("{s:s, s:i, s:s, s:s, s:b}", "file", r->rc->file,
			 "line", r->rc->line, "driver", r->rc->driver,
			 "param", r->rc->param, "noselect", r->rc->noselect);
}

static json_t *json_rejected(const struct cal_report *r)
{
	json_t *o = json_object();
	int i;

	for (i = 0; o != NULL && i < REJ_COUNT; i++) {
		json_object_set_new(o, report_reject_name(i),
				    json_integer((json_int_t)r->rejected[i]));
	}
	return o;
}

static json_t *json_histogram(const struct cal_report *r)
{
	unsigned counts[REPORT_BINS];
	json_t *a = json_array();
	int i;

	est_histogram(r->est, &r->res, counts, REPORT_BINS);
	for (i = 0; a != NULL && i < REPORT_BINS; i++) {
		json_array_append_new(a, json_integer(counts[i]));
	}
	return json_pack("{s:o, s:o, s:o}", "low", jnum(r->res.min), "high",
			 jnum(r->res.max), "counts", a);
}

static json_t *json_warnings(const struct cal_report *r)
{
	json_t *a = json_array();
	unsigned bit;

	for (bit = 1; a != NULL && bit <= EST_WARN_OUTLIERS; bit <<= 1) {
		if (r->res.warnings & bit) {
			json_array_append_new(a, json_string(est_warning_text(bit)));
		}
	}
	return a;
}

static json_t *json_stats(const struct cal_report *r)
{
	const struct est_result *s = &r->res;

	if (!r->have_result) {
		return json_null();
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:o, s:o,"
			 " s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o, s:o}",
		"new_offset", jnum(r->new_offset),
		"measured", jnum(r->measured),
		"ci_low", jnum(s->ci_low), "ci_high", jnum(s->ci_high),
		"half_width", jnum(s->half_width),
		"n_total", (json_int_t)s->n_total,
		"n_used", (json_int_t)s->n_used,
		"n_outliers", (json_int_t)s->n_outliers,
		"outlier_limit", jnum(s->outlier_limit),
		"sigma", jnum(s->sigma), "p005", jnum(s->p005),
		"p995", jnum(s->p995), "tau", jnum(s->tau),
		"tau_capped", s->tau_capped, "n_eff", jnum(s->n_eff),
		"sample_sd", jnum(s->sample_sd),
		"first_quarter", jnum(s->first_q),
		"last_quarter", jnum(s->last_q), "drift", jnum(s->drift),
		"drift_se", jnum(s->drift_se),
		"span", jnum(s->t_last - s->t_first),
		"histogram", json_histogram(r));
}

static json_t *json_outcome(const struct cal_report *r)
{
	return json_pack("{s:b, s:s?, s:b, s:b, s:s, s:b, s:b, s:s, s:i}",
		"usable", r->unusable == NULL, "unusable_reason", r->unusable,
		"write_requested", r->write_requested, "written", r->written,
		"write_message", r->write_msg,
		"apply_requested", r->apply_requested, "applied", r->applied,
		"apply_message", r->apply_msg, "exit_code", r->exit_code);
}

int report_json(FILE *f, const struct cal_report *r)
{
	json_t *root = json_pack("{s:s, s:s?, s:s?, s:s, s:o, s:o, s:o, s:o,"
				 " s:o, s:b, s:b, s:o, s:I, s:o, s:o, s:o}",
		"mode", mode_name(r->mode), "input", r->input, "conf", r->conf,
		"refid", r->refid, "refclock", json_source(r),
		"configured_offset", jnum(r->configured),
		"log_configured_offset", jnum(r->log_configured),
		"interval", r->mode == CAL_LIVE ? jnum(r->interval_s) : json_null(),
		"elapsed", r->mode == CAL_LIVE ? jnum(r->elapsed_s) : json_null(),
		"interrupted", r->interrupted,
		"precision_reached", r->precision_reached,
		"rejected", json_rejected(r),
		"other_lines", (json_int_t)r->other_lines,
		"result", json_stats(r),
		"warnings", r->have_result ? json_warnings(r) : json_array(),
		"outcome", json_outcome(r));

	if (root == NULL) {
		return -ENOMEM;
	}
	if (r->mode == CAL_LOG) {
		json_object_set_new(root, "note", json_string(
			"raw offsets from refclocks.log: independent of the "
			"offset configured when the log was written"));
	}
	json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	fputc('\n', f);
	json_decref(root);
	return 0;
}
