/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_json.c - see ctl_json.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ctl_json.h"

#define CTL_JSON_MAX_KEY 64

json_t *ctl_json_get(const json_t *root, const char *path)
{
	char key[CTL_JSON_MAX_KEY];
	const json_t *v = root;
	const char *dot;
	size_t n;

	while (v && *path) {
		dot = strchr(path, '.');
		n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(key)) {
			return NULL;
		}
		memcpy(key, path, n);
		key[n] = '\0';
		v = json_object_get(v, key);
		path += dot ? n + 1 : n;
	}
	return json_is_null(v) ? NULL : (json_t *)v;
}

bool ctl_json_num(const json_t *root, const char *path, double *out)
{
	json_t *v = ctl_json_get(root, path);

	if (!json_is_number(v)) {
		return false;
	}
	*out = json_number_value(v);
	return true;
}

const char *ctl_json_str(const json_t *root, const char *path)
{
	return json_string_value(ctl_json_get(root, path));
}

long long ctl_json_int(const json_t *root, const char *path, long long dflt)
{
	json_t *v = ctl_json_get(root, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

bool ctl_json_bool(const json_t *root, const char *path, bool dflt)
{
	json_t *v = ctl_json_get(root, path);

	return json_is_boolean(v) ? json_is_true(v) : dflt;
}

const char *ctl_json_fmt_seconds(double s, char *buf, size_t len)
{
	double a = fabs(s);

	if (a < 1e-6) {
		snprintf(buf, len, "%.0f ns", s * 1e9);
	} else if (a < 1e-3) {
		snprintf(buf, len, "%.3f us", s * 1e6);
	} else if (a < 1.0) {
		snprintf(buf, len, "%.3f ms", s * 1e3);
	} else {
		snprintf(buf, len, "%.3f s", s);
	}
	return buf;
}
