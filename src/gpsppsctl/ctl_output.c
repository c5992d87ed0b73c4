/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ctl_output.c - see ctl_output.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_output.h"

static int ctl_output_write_all(int fd, const char *text, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, text, len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			return -errno;
		}
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_output_replace(const char *path, const char *text, size_t len,
		       char *err, size_t errlen)
{
	char *tmp = NULL;
	int fd, r;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errlen, "%s: cannot create a file beside it: %s "
			 "(does the directory exist, may this user write it?)",
			 path, strerror(-r));
		free(tmp);
		return r;
	}
	r = ctl_output_write_all(fd, text, len);
	if (r == 0 && fchmod(fd, 0644) < 0) {
		r = -errno;
	}
	if (close(fd) < 0 && r == 0) {
		r = -errno;
	}
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
	}
	if (r < 0) {
		snprintf(err, errlen, "%s: not replaced: %s", path,
			 strerror(-r));
		unlink(tmp);
	}
	free(tmp);
	return r;
}
