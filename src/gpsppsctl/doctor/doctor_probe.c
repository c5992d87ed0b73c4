/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_probe.c - see doctor_probe.h: gpsppsd's side. */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chronyc_run.h"
#include "config.h"
#include "conf.h"
#include "ctl_client.h"
#include "ctl_json.h"
#include "doctor_judge.h"
#include "doctor_probe.h"
#include "doctor_proc.h"

#define DEFAULT_GPSPPSD_CONF GPSPPS_SYSCONFDIR "/gpspps/gpsppsd.conf"

static void copy(char *dst, const char *src)
{
	snprintf(dst, DOCTOR_STR, "%s", src != NULL ? src : "");
}

/* The --pps spec as gpsppsd reports it: backend and its argument. */
static void pps_spec(const json_t *st, char *spec)
{
	const char *backend = ctl_json_str(st, "pps.backend");
	const char *dev = ctl_json_str(st, "pps.device");

	if (backend == NULL) {
		copy(spec, "none");
	} else if (dev != NULL && dev[0] != '\0') {
		snprintf(spec, DOCTOR_STR, "%s:%s", backend, dev);
	} else {
		copy(spec, backend);
	}
}

static void setup_from_status(struct doctor_facts *f)
{
	struct doctor_setup *s = &f->setup;
	const json_t *st = f->status;

	copy(s->device, ctl_json_str(st, "receiver.device"));
	s->baud = (long)ctl_json_int(st, "receiver.baud", 0);
	pps_spec(st, s->pps);
	copy(s->pps_socket, ctl_json_str(st, "chronyd.pps.path"));
	copy(s->nmea_socket, ctl_json_str(st, "chronyd.nmea.path"));
	s->nmea_samples = ctl_json_bool(st, "chronyd.nmea.enabled", true);
	s->window_min_s = 0;
	s->window_max_s = 0.95;
	ctl_json_num(st, "pairing.window_min_s", &s->window_min_s);
	ctl_json_num(st, "pairing.window_max_s", &s->window_max_s);
	s->next_second = ctl_json_bool(st, "pairing.next_second", false);
	f->setup_known = true;
	copy(f->setup_from, "gpsppsd's status");
}

static void setup_from_conf(struct doctor_facts *f, const char *path,
			    bool named)
{
	struct doctor_setup *s = &f->setup;
	struct gpsppsd_config cfg;
	FILE *sink = fopen("/dev/null", "we");

	conf_defaults(&cfg);
	if (sink == NULL || conf_load_file(&cfg, path, !named, sink) < 0) {
		if (sink != NULL) {
			fclose(sink);
		}
		return;
	}
	fclose(sink);
	copy(s->device, cfg.device);
	s->baud = cfg.baud;
	copy(s->pps, cfg.pps);
	copy(s->pps_socket, cfg.pps_socket);
	copy(s->nmea_socket, cfg.nmea_socket);
	s->nmea_samples = cfg.nmea_samples;
	s->window_min_s = (double)cfg.window_min_ns / 1e9;
	s->window_max_s = (double)cfg.window_max_ns / 1e9;
	s->next_second = cfg.next_second;
	f->setup_known = true;
	copy(f->setup_from, path);
}

static void ask_daemon(const struct ctl_options *o, struct doctor_facts *f)
{
	const char *conf = o->gpsppsd_conf;

	copy(f->socket, o->socket);
	f->status_rc = ctl_client_status(o->socket, o->timeout_ms, &f->status,
					 f->status_err,
					 sizeof(f->status_err));
	if (f->status_rc == 0) {
		setup_from_status(f);
		return;
	}
	f->status = NULL;
	setup_from_conf(f, conf != NULL ? conf : DEFAULT_GPSPPSD_CONF,
			conf != NULL);
}

/* --- files and the user ------------------------------------------------- */

static void name_ids(struct doctor_file *fl)
{
	struct passwd *pw = getpwuid(fl->uid);
	struct group *gr = getgrgid(fl->gid);

	if (pw != NULL) {
		snprintf(fl->owner, sizeof(fl->owner), "%s", pw->pw_name);
	} else {
		snprintf(fl->owner, sizeof(fl->owner), "%u", (unsigned)fl->uid);
	}
	if (gr != NULL) {
		snprintf(fl->group, sizeof(fl->group), "%s", gr->gr_name);
	} else {
		snprintf(fl->group, sizeof(fl->group), "%u", (unsigned)fl->gid);
	}
}

/* Every directory above path searchable by the user. */
static bool dirs_searchable(const char *path, const struct doctor_user *u)
{
	char dir[PATH_MAX];
	struct stat st;
	char *slash;

	if (!u->known || snprintf(dir, sizeof(dir), "%s", path) >=
	    (int)sizeof(dir)) {
		return true;
	}
	while ((slash = strrchr(dir, '/')) != NULL) {
		*(slash == dir ? slash + 1 : slash) = '\0';
		if (stat(dir, &st) == 0 &&
		    !doctor_judge_user_may(u, st.st_mode, st.st_uid, st.st_gid,
					   1)) {
			return false;
		}
		if (slash == dir) {
			break;
		}
	}
	return true;
}

static void look_at(const char *path, const struct doctor_user *u,
		    struct doctor_file *fl)
{
	struct stat st;

	memset(fl, 0, sizeof(*fl));
	fl->probed = true;
	if (path[0] == '\0' || stat(path, &st) != 0) {
		fl->err = path[0] == '\0' ? ENOENT : errno;
		return;
	}
	fl->mode = st.st_mode;
	fl->uid = st.st_uid;
	fl->gid = st.st_gid;
	name_ids(fl);
	fl->dirs_searchable = dirs_searchable(path, u);
}

static void resolve_user(const char *name, struct doctor_user *u)
{
	struct passwd *pw = NULL;
	char *end;
	unsigned long id;
	int n = DOCTOR_MAX_GROUPS;

	memset(u, 0, sizeof(*u));
	if (name == NULL || name[0] == '\0') {
		return;
	}
	id = strtoul(name, &end, 10);
	pw = *end == '\0' ? getpwuid((uid_t)id) : getpwnam(name);
	if (pw == NULL) {
		return;
	}
	u->known = true;
	snprintf(u->name, sizeof(u->name), "%s", pw->pw_name);
	u->uid = pw->pw_uid;
	if (getgrouplist(pw->pw_name, pw->pw_gid, u->groups, &n) < 0) {
		n = 1;
		u->groups[0] = pw->pw_gid;
	}
	u->ngroups = (size_t)n;
}

/* --- gpsppsd --check ------------------------------------------------------ */

static void first_line(const struct cr_output *out, char *dst)
{
	const char *src = out->err_len > 0 ? out->err : out->out;

	snprintf(dst, DOCTOR_STR, "%.*s", (int)strcspn(src, "\n"), src);
}

static void run_check(const struct ctl_options *o, struct doctor_facts *f,
		      const char *cmd, const char *const *args)
{
	struct cr_output out;
	int rc = cr_run(cmd, args, o->timeout_ms, &out);

	if (rc < 0) {
		snprintf(f->check_out, DOCTOR_STR, "%s: %s", cmd,
			 strerror(-rc));
		return;
	}
	f->check_ran = out.status != 127;
	f->check_status = out.timed_out ? -1 : out.status;
	first_line(&out, f->check_out);
	if (!f->check_ran) {
		snprintf(f->check_out, DOCTOR_STR, "%s: not found", cmd);
	}
	cr_output_free(&out);
}

/* The running daemon's own command line, plus --check. */
static bool check_running(const struct ctl_options *o,
			  struct doctor_facts *f)
{
	char exe[PATH_MAX], cmd[PATH_MAX + 2];
	char **argv, *blob;
	size_t n = 0;
	const char **args;
	pid_t pid = (pid_t)ctl_json_int(f->status, "daemon.pid", 0);

	if (pid <= 0 || doctor_proc_cmdline(pid, exe, sizeof(exe), &argv,
					    &blob) < 0) {
		return false;
	}
	while (argv[n] != NULL) {
		n++;
	}
	args = calloc(n + 2, sizeof(*args));
	if (args != NULL) {
		args[0] = "--check";
		memcpy(args + 1, argv, n * sizeof(*args));
		snprintf(cmd, sizeof(cmd), "'%s'", exe);
		snprintf(f->check_what, DOCTOR_STR, "the command line of pid "
			 "%d", (int)pid);
		run_check(o, f, cmd, args);
	}
	free(args);
	free(argv);
	free(blob);
	return args != NULL;
}

/* gpsppsd beside gpsppsctl (both in sbindir), else from PATH. */
static const char *sibling_gpsppsd(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0) {
		return "gpsppsd";
	}
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL) {
		return "gpsppsd";
	}
	snprintf(buf, len, "%.*s/gpsppsd", (int)(slash - self), self);
	if (access(buf, X_OK) != 0 || strchr(buf, '\'') != NULL) {
		return "gpsppsd";
	}
	snprintf(buf, len, "'%.*s/gpsppsd'", (int)(slash - self), self);
	return buf;
}

static void check_config(const struct ctl_options *o, struct doctor_facts *f)
{
	char cmd[PATH_MAX + 16];
	const char *conf = ctl_json_str(f->status, "daemon.config");
	const char *args[] = { "--check", "--config", NULL, NULL };

	if (f->status != NULL && check_running(o, f)) {
		return;
	}
	if (conf == NULL) {
		conf = o->gpsppsd_conf ? o->gpsppsd_conf : DEFAULT_GPSPPSD_CONF;
	}
	args[2] = conf;
	copy(f->check_what, conf);
	run_check(o, f, sibling_gpsppsd(cmd, sizeof(cmd)), args);
}

/* --- devices ---------------------------------------------------------- */

/* The device file behind a --pps spec, "" when there is none. */
static void pps_path(const struct doctor_setup *s, char *out)
{
	const char *arg = strchr(s->pps, ':');
	const char *colon;

	out[0] = '\0';
	if (strncmp(s->pps, "kernel:", 7) == 0) {
		copy(out, arg + 1);
	} else if (strncmp(s->pps, "dcd", 3) == 0) {
		copy(out, s->device);
	} else if (strncmp(s->pps, "gpio:/", 6) == 0 ||
		   strncmp(s->pps, "gpio:gpiochip", 13) == 0) {
		/* by path or name; a chip named by its label has no path */
		colon = strrchr(arg + 1, ':');
		snprintf(out, DOCTOR_STR, "%s%.*s",
			 arg[1] == '/' ? "" : "/dev/",
			 colon ? (int)(colon - arg - 1) : (int)strlen(arg + 1),
			 arg + 1);
	}
}

static void probe_devices(struct doctor_facts *f)
{
	pid_t pid = (pid_t)ctl_json_int(f->status, "daemon.pid", 0);

	resolve_user(ctl_json_str(f->status, "daemon.user"), &f->user);
	if (!f->setup_known) {
		return;
	}
	look_at(f->setup.device, &f->user, &f->device);
	f->n_dev_holders = doctor_proc_holders(f->setup.device, pid,
					       f->dev_holders,
					       DOCTOR_MAX_HOLDERS);
	if (f->status == NULL && f->device.err == 0) {
		doctor_probe_port(f);
	}
	pps_path(&f->setup, f->pps_path);
	if (f->pps_path[0] != '\0') {
		look_at(f->pps_path, &f->user, &f->pps_dev);
		f->n_pps_holders = doctor_proc_holders(f->pps_path, pid,
						       f->pps_holders,
						       DOCTOR_MAX_HOLDERS);
	}
	look_at(f->setup.pps_socket, &f->user, &f->pps_sock);
	look_at(f->setup.nmea_socket, &f->user, &f->nmea_sock);
}

void doctor_probe(const struct ctl_options *o, struct doctor_facts *f)
{
	memset(f, 0, sizeof(*f));
	ask_daemon(o, f);
	check_config(o, f);
	probe_devices(f);
	doctor_probe_chrony(o, f);
}
