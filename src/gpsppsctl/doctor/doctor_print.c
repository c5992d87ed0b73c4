/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_print.c - see doctor_print.h. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "doctor_print.h"

void doctor_print_text(const struct doctor_report *rep, FILE *out)
{
	size_t i;

	for (i = 0; i < rep->n; i++) {
		const struct doctor_result *r = &rep->r[i];

		fprintf(out, "%s  %-11s  %s", doctor_judge_level_name(r->level),
			r->id, r->msg);
		if (r->fix[0] != '\0') {
			fprintf(out, ".  Fix: %s", r->fix);
		}
		fputs(".\n", out);
	}
}

static void lower(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++) {
		buf[i] = (char)tolower((unsigned char)s[i]);
	}
	buf[i] = '\0';
}

static json_t *check_json(const struct doctor_result *r)
{
	char level[8];

	lower(doctor_judge_level_name(r->level), level, sizeof(level));
	return json_pack("{s:s, s:s, s:s, s:s?}", "check", r->id,
			 "result", level, "message", r->msg,
			 "fix", r->fix[0] != '\0' ? r->fix : NULL);
}

int doctor_print_json(const struct doctor_report *rep, FILE *out)
{
	static const char *const names[] = { "pass", "warn", "fail" };
	int status = doctor_judge_exit_status(rep);
	json_t *checks = json_array(), *root;
	size_t i;

	for (i = 0; checks != NULL && i < rep->n; i++) {
		json_array_append_new(checks, check_json(&rep->r[i]));
	}
	root = json_pack("{s:i, s:s, s:i, s:o?}", "version", 1,
			 "result", names[status], "exit", status,
			 "checks", checks);
	if (root == NULL || json_dumpf(root, out, JSON_INDENT(2)) != 0) {
		json_decref(root);
		return -ENOMEM;
	}
	fputc('\n', out);
	json_decref(root);
	return 0;
}
