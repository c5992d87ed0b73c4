/* SPDX-License-Identifier: GPL-2.0-or-later */
/* statefile.c - see statefile.h. */
#include "statefile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int statefile_read_long(const char *dir, const char *name, long *out)
{
	char path[PATH_MAX], buf[32], *end;
	FILE *f;
	long v;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "re");
	if (f == NULL) {
		return -errno;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	errno = 0;
	v = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || (*end != '\n' && *end != '\0')) {
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int statefile_put(const char *tmp, long v)
{
	char buf[32];
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int n = snprintf(buf, sizeof(buf), "%ld\n", v);
	int r = 0;

	if (fd < 0) {
		return -errno;
	}
	if (write(fd, buf, (size_t)n) != n || fsync(fd) != 0) {
		r = errno ? -errno : -EIO;
	}
	if (close(fd) != 0 && r == 0) {
		r = -errno;
	}
	return r;
}

int statefile_write_long(const char *dir, const char *name, long v,
			 char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	int r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	r = statefile_put(tmp, v);
	if (r == 0 && rename(tmp, path) != 0) {
		r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s; create the state "
			 "directory, writable by gpsppsd's user, or set "
			 "state-directory", path, strerror(-r));
	}
	return r;
}
