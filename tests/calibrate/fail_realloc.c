/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * LD_PRELOAD shim for test_live_fake.py: realloc() fails (NULL, ENOMEM)
 * whenever it is asked for GPSPPS_FAIL_REALLOC_AT bytes or more.  Running
 * out of memory cannot be caused on demand otherwise; the calibrator's
 * estimator grows its arrays with realloc, so this is how a long live run
 * meets a full memory.  Only the process itself: the variables are
 * removed at load, so the chronyc it runs allocates normally.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

static size_t fail_at;

__attribute__((constructor)) static void fail_realloc_init(void)
{
	const char *at = getenv("GPSPPS_FAIL_REALLOC_AT");

	if (at != NULL) {
		fail_at = strtoull(at, NULL, 10);
	}
	unsetenv("GPSPPS_FAIL_REALLOC_AT");
	unsetenv("LD_PRELOAD");
}

void *realloc(void *p, size_t n)
{
	static void *(*next)(void *, size_t);

	if (fail_at > 0 && n >= fail_at) {
		errno = ENOMEM;
		return NULL;
	}
	if (next == NULL) {
		next = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
	}
	return next(p, n);
}
