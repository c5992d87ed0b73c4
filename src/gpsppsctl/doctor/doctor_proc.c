/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_proc.c - see doctor_proc.h. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doctor_proc.h"

static bool is_pid(const char *name)
{
	if (*name == '\0') {
		return false;
	}
	for (; *name != '\0'; name++) {
		if (!isdigit((unsigned char)*name)) {
			return false;
		}
	}
	return true;
}

static bool pid_holds(const char *pid, const char *target)
{
	char dir[300], link[PATH_MAX + 320], dest[PATH_MAX];
	struct dirent *e;
	bool found = false;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%s/fd", pid);
	d = opendir(dir);
	if (d == NULL) {
		return false;
	}
	while (!found && (e = readdir(d)) != NULL) {
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, dest, sizeof(dest) - 1);
		if (n > 0) {
			dest[n] = '\0';
			found = strcmp(dest, target) == 0;
		}
	}
	closedir(d);
	return found;
}

static void read_comm(const char *pid, char *comm, size_t len)
{
	char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%s/comm", pid);
	comm[0] = '\0';
	fp = fopen(path, "re");
	if (fp == NULL) {
		return;
	}
	if (fgets(comm, (int)len, fp) != NULL) {
		comm[strcspn(comm, "\n")] = '\0';
	}
	fclose(fp);
}

size_t doctor_proc_holders(const char *path, pid_t exclude,
			   struct doctor_holder *out, size_t max)
{
	char target[PATH_MAX];
	struct dirent *e;
	size_t n = 0;
	DIR *d;

	/* A pty's other holder is the program behind it (gpspps-sim, a
	 * serial-over-network bridge), not a second reader. */
	if (realpath(path, target) == NULL ||
	    strncmp(target, "/dev/pts/", 9) == 0 ||
	    (d = opendir("/proc")) == NULL) {
		return 0;
	}
	while (n < max && (e = readdir(d)) != NULL) {
		pid_t pid;

		if (!is_pid(e->d_name)) {
			continue;
		}
		pid = (pid_t)atol(e->d_name);
		if (pid == exclude || pid == getpid() ||
		    !pid_holds(e->d_name, target)) {
			continue;
		}
		out[n].pid = pid;
		read_comm(e->d_name, out[n].comm, sizeof(out[n].comm));
		n++;
	}
	closedir(d);
	return n;
}

/* Seconds since boot when the process started (field 22 of stat). */
static double start_time(const char *pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	FILE *fp;
	int i;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	fp = fopen(path, "re");
	if (fp == NULL) {
		return -1;
	}
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	p = p != NULL ? strrchr(buf, ')') : NULL;
	for (i = 2; p != NULL && i < 22; i++) {
		p = strchr(p + 1, ' ');
	}
	if (p == NULL || sscanf(p, " %llu", &ticks) != 1) {
		return -1;
	}
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

static double uptime(void)
{
	double up = -1;
	FILE *fp = fopen("/proc/uptime", "re");

	if (fp != NULL) {
		if (fscanf(fp, "%lf", &up) != 1) {
			up = -1;
		}
		fclose(fp);
	}
	return up;
}

double doctor_proc_youngest(const char *comm)
{
	double best = -1, up = uptime();
	char name[32];
	struct dirent *e;
	DIR *d = opendir("/proc");

	if (d == NULL || up < 0) {
		if (d != NULL) {
			closedir(d);
		}
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		double st;

		if (!is_pid(e->d_name)) {
			continue;
		}
		read_comm(e->d_name, name, sizeof(name));
		st = strcmp(name, comm) == 0 ? start_time(e->d_name) : -1;
		if (st >= 0 && (best < 0 || up - st < best)) {
			best = up - st;
		}
	}
	closedir(d);
	return best;
}

static int read_blob(const char *path, char **blob, size_t *len)
{
	char *buf = malloc(65536);
	size_t n;
	FILE *fp = fopen(path, "re");

	if (fp == NULL || buf == NULL) {
		int e = fp == NULL ? errno : ENOMEM;

		free(buf);
		if (fp != NULL) {
			fclose(fp);
		}
		return -e;
	}
	n = fread(buf, 1, 65535, fp);
	fclose(fp);
	buf[n] = '\0';
	*blob = buf;
	*len = n;
	return 0;
}

int doctor_proc_cmdline(pid_t pid, char *exe, size_t exelen, char ***argv,
			char **blob)
{
	char path[64];
	size_t len = 0, i, argc = 0, k = 0;
	ssize_t n;
	int rc;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, exelen - 1);
	if (n < 0) {
		return -errno;
	}
	exe[n] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	rc = read_blob(path, blob, &len);
	if (rc < 0) {
		return rc;
	}
	for (i = 0; i < len; i++) {
		argc += (*blob)[i] == '\0';
	}
	*argv = calloc(argc + 1, sizeof(**argv));
	if (*argv == NULL) {
		free(*blob);
		return -ENOMEM;
	}
	/* Skip argv[0]; each later argument starts after a NUL. */
	for (i = 0; i + 1 < len; i++) {
		if ((*blob)[i] == '\0') {
			(*argv)[k++] = *blob + i + 1;
		}
	}
	return 0;
}
