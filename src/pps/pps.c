/* SPDX-License-Identifier: GPL-2.0-or-later */
/* pps.c - PPS backend table and dispatch; see pps.h. */
#include "pps.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

extern const struct pps_backend pps_sim_backend;
extern const struct pps_backend pps_kernel_backend;
extern const struct pps_backend pps_gpio_backend;
extern const struct pps_backend pps_dcd_backend;

/* A backend not built defines its entry with not_built set (pps.h). */
const struct pps_backend *const pps_backends[] = {
	&pps_sim_backend,
	&pps_kernel_backend,
	&pps_gpio_backend,
	&pps_dcd_backend,
	NULL,
};

const struct pps_backend *pps_lookup(const char *spec, const char **arg)
{
	const char *colon = strchr(spec, ':');
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
	int i;

	*arg = colon ? colon + 1 : NULL;
	for (i = 0; pps_backends[i] != NULL; i++) {
		if (strlen(pps_backends[i]->kind) == len &&
		    strncmp(pps_backends[i]->kind, spec, len) == 0) {
			return pps_backends[i];
		}
	}
	return NULL;
}

static const struct pps_backend *lookup_or_err(const char *spec,
						const char **arg, char *err,
						size_t errlen)
{
	const struct pps_backend *b = pps_lookup(spec, arg);

	if (b == NULL) {
		snprintf(err, errlen, "unknown PPS kind in \"%s\" (see --help "
			 "for the kinds built in)", spec);
	} else if (b->not_built != NULL) {
		snprintf(err, errlen, "%s: not built (%s; %s)", b->kind,
			 b->not_built, b->build_fix);
		b = NULL;
	}
	return b;
}

int pps_open(struct pps_source *src, const char *spec,
	     const struct pps_options *opt, char *err, size_t errlen)
{
	const char *arg;
	const struct pps_backend *b = lookup_or_err(spec, &arg, err, errlen);

	memset(src, 0, sizeof(*src));
	if (b == NULL) {
		return -EINVAL;
	}
	src->backend = b;
	return b->open(src, arg, opt, err, errlen);
}

int pps_check(const char *spec, char *err, size_t errlen)
{
	const char *arg;
	const struct pps_backend *b = lookup_or_err(spec, &arg, err, errlen);

	if (b == NULL) {
		return -EINVAL;
	}
	return b->check != NULL ? b->check(arg, err, errlen) : 0;
}

void pps_close(struct pps_source *src)
{
	if (src->backend != NULL) {
		src->backend->close(src);
	}
	src->backend = NULL;
	src->priv = NULL;
}
