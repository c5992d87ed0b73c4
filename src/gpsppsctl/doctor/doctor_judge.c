/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor_judge.c - see doctor_judge.h.  The framework and the receiver's
 * links: gpsppsd, its configuration, the port, bytes, sentences, fix and
 * the PPS input. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "doctor_judge_int.h"

static const char *const level_names[] = {
	[DOCTOR_PASS] = "PASS", [DOCTOR_WARN] = "WARN",
	[DOCTOR_FAIL] = "FAIL", [DOCTOR_SKIP] = "SKIP",
};

const char *doctor_judge_level_name(enum doctor_level l)
{
	if ((unsigned)l > DOCTOR_SKIP) {
		return "?";
	}
	return level_names[l];
}

void doctor_judge_say(struct doctor_result *r, enum doctor_level l,
		      const char *fmt, ...)
{
	va_list ap;

	r->level = l;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
}

void doctor_judge_fix(struct doctor_result *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->fix, sizeof(r->fix), fmt, ap);
	va_end(ap);
}

static void mode_str(mode_t m, char *s)
{
	static const char rwx[] = "rwxrwxrwx";
	int i;

	s[0] = S_ISSOCK(m) ? 's' : S_ISCHR(m) ? 'c' : S_ISDIR(m) ? 'd' : '-';
	for (i = 0; i < 9; i++) {
		s[i + 1] = (m & (0400u >> i)) ? rwx[i] : '-';
	}
	s[10] = '\0';
}

void doctor_judge_file_desc(const struct doctor_file *fl, char *buf, size_t len)
{
	char m[11];

	mode_str(fl->mode, m);
	snprintf(buf, len, "%s %s:%s", m, fl->owner, fl->group);
}

bool doctor_judge_user_may(const struct doctor_user *u, mode_t mode, uid_t uid,
			   gid_t gid, unsigned want)
{
	size_t i;

	if (u->uid == 0) {
		return (want & 1u) == 0 || (mode & 0111u) != 0;
	}
	if (u->uid == uid) {
		return ((mode >> 6) & want) == want;
	}
	for (i = 0; i < u->ngroups; i++) {
		if (u->groups[i] == gid) {
			return ((mode >> 3) & want) == want;
		}
	}
	return (mode & want) == want;
}

/* --- gpsppsd and its configuration ------------------------------------ */

static const char *daemon_fix(int rc)
{
	switch (rc) {
	case -EACCES:
	case -EPERM:
		return "run gpsppsctl as root or as a member of group gpspps "
		       "or adm";
	case -ECONNREFUSED:
		return "gpsppsd stopped and left its socket behind: start it "
		       "(systemctl start gpsppsd)";
	case -ETIMEDOUT:
		return "gpsppsd is hung: restart it (systemctl restart "
		       "gpsppsd) and report its log";
	default:
		return "start gpsppsd (systemctl start gpsppsd), or give "
		       "--socket PATH when its status-socket is elsewhere";
	}
}

static void check_daemon(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	double pid = 0, up = 0;
	const char *ver = ctl_json_str(c->st, "daemon.version");

	r->id = "gpsppsd";
	if (c->st == NULL) {
		doctor_judge_say(r, DOCTOR_FAIL, "gpsppsd does not answer on "
				 "%s (%s)", f->socket, strerror(-f->status_rc));
		doctor_judge_fix(r, "%s", daemon_fix(f->status_rc));
		return;
	}
	ctl_json_num(c->st, "daemon.pid", &pid);
	ctl_json_num(c->st, "daemon.uptime_s", &up);
	doctor_judge_say(r, DOCTOR_PASS, "gpsppsd %s running (pid %.0f, up "
			 "%.0f s), answering on %s", ver ? ver : "?", pid, up,
			 f->socket);
}

static void check_config(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;

	r->id = "config";
	if (!f->check_ran) {
		doctor_judge_say(r, DOCTOR_WARN, "could not run gpsppsd "
				 "--check: %s", f->check_out);
		doctor_judge_fix(r, "install gpsppsd, or run gpsppsd --check "
				 "by hand");
		return;
	}
	if (f->check_status != 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "gpsppsd --check on %s: %s",
				 f->check_what, f->check_out);
		doctor_judge_fix(r, "correct what it names, then restart "
				 "gpsppsd");
		return;
	}
	doctor_judge_say(r, DOCTOR_PASS, "configuration OK (%s)",
			 f->check_what);
}

/* --- the serial port ----------------------------------------------------- */

static bool port_missing(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;

	if (f->device.err == ENOENT) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s does not exist: the "
				 "receiver is absent", f->setup.device);
		doctor_judge_fix(r, "plug the receiver in, or set `device` "
				 "(--device) to its port (ls -l "
				 "/dev/serial/by-id/)");
		return true;
	}
	if (f->device.err != 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s: %s", f->setup.device,
				 strerror(f->device.err));
		doctor_judge_fix(r, "set `device` (--device) to the receiver's "
				 "port");
		return true;
	}
	if (!S_ISCHR(f->device.mode)) {
		doctor_judge_say(r, DOCTOR_FAIL, "%s is not a serial port (not "
				 "a character device)", f->setup.device);
		doctor_judge_fix(r, "set `device` (--device) to the receiver's "
				 "port");
		return true;
	}
	return false;
}

static bool port_unopened(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	const char *state = ctl_json_str(c->st, "receiver.state");
	char desc[96];

	if (state == NULL || strcmp(state, "absent") != 0) {
		return false;
	}
	doctor_judge_file_desc(&f->device, desc, sizeof(desc));
	doctor_judge_say(r, DOCTOR_FAIL, "gpsppsd cannot open %s (%s)",
			 f->setup.device, desc);
	if (f->user.known &&
	    !doctor_judge_user_may(&f->user, f->device.mode, f->device.uid,
				   f->device.gid, 6)) {
		doctor_judge_fix(r, "add gpsppsd's user %s to group %s "
				 "(usermod -aG %s %s) and restart gpsppsd",
				 f->user.name, f->device.group, f->device.group,
				 f->user.name);
	} else {
		doctor_judge_fix(r, "see gpsppsd's log for why, e.g. "
				 "journalctl -u gpsppsd");
	}
	return true;
}

static void check_port(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;
	char desc[96];

	r->id = "port";
	if (!f->setup_known) {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd's settings are "
				 "unknown");
		return;
	}
	if (port_missing(c, r) || port_unopened(c, r)) {
		return;
	}
	c->port_ok = true;
	if (f->n_dev_holders > 0) {
		doctor_judge_say(r, DOCTOR_WARN, "%s is also open in %s (pid "
				 "%d): two readers split its bytes",
				 f->setup.device, f->dev_holders[0].comm,
				 (int)f->dev_holders[0].pid);
		doctor_judge_fix(r, "stop %s reading the port (gpsd: remove it "
				 "from DEVICES, stop gpsd.socket)",
				 f->dev_holders[0].comm);
		return;
	}
	doctor_judge_file_desc(&f->device, desc, sizeof(desc));
	doctor_judge_say(r, DOCTOR_PASS, "%s present (%s), %ld baud",
			 f->setup.device, desc, f->setup.baud);
}

/* --- bytes and sentences ------------------------------------------------ */

static const char *const wiring_fix =
	"check the receiver's power and that its TX reaches the port's RX "
	"(and GND); a USB receiver: plug it in again";

static void bytes_from_daemon(struct doctor_judge_ctx *c,
			      struct doctor_result *r)
{
	double bytes = 0, since = NAN, up = 0;

	ctl_json_num(c->st, "receiver.bytes", &bytes);
	ctl_json_num(c->st, "receiver.since_last_byte_s", &since);
	ctl_json_num(c->st, "daemon.uptime_s", &up);
	if (bytes == 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "no byte from %s in %.0f s",
				 c->f->setup.device, up);
		doctor_judge_fix(r, "%s", wiring_fix);
		return;
	}
	if (!(since <= DOCTOR_SILENCE_S)) {
		doctor_judge_say(r, DOCTOR_FAIL, "no byte from %s for %.0f s "
				 "(%.0f before)", c->f->setup.device, since,
				 bytes);
		doctor_judge_fix(r, "%s", wiring_fix);
		return;
	}
	c->bytes_ok = true;
	doctor_judge_say(r, DOCTOR_PASS, "%.0f bytes, the last %.1f s ago",
			 bytes, since);
}

static void bytes_from_probe(struct doctor_judge_ctx *c,
			     struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;

	if (f->probe_err < 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "cannot read %s: %s",
				 f->setup.device, f->probe_errmsg);
		doctor_judge_fix(r, "run gpsppsctl doctor as root, or stop the "
				 "program holding the port");
		return;
	}
	if (f->probe_bytes == 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "no byte from %s in a "
				 "read-only probe", f->setup.device);
		doctor_judge_fix(r, "%s", wiring_fix);
		return;
	}
	c->bytes_ok = true;
	doctor_judge_say(r, DOCTOR_PASS, "%lu bytes from %s (read-only probe, "
			 "gpsppsd not running)", f->probe_bytes,
			 f->setup.device);
}

static void check_bytes(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	r->id = "bytes";
	if (!c->port_ok) {
		doctor_judge_say(r, DOCTOR_SKIP, "no usable serial port");
	} else if (c->st != NULL) {
		bytes_from_daemon(c, r);
	} else if (c->f->probed) {
		bytes_from_probe(c, r);
	} else {
		doctor_judge_say(r, DOCTOR_SKIP, "gpsppsd not running, port "
				 "not probed");
	}
}

static double sentence_total(const json_t *st, char *list, size_t len)
{
	const char *key;
	json_t *v;
	double total = 0;
	size_t used = 0;

	list[0] = '\0';
	json_object_foreach(ctl_json_get(st, "receiver.sentences"), key, v) {
		double n = json_number_value(v);

		total += n;
		if (n > 0 && used < len) {
			used += (size_t)snprintf(list + used, len - used,
						 "%s%s %.0f", used ? ", " : "",
						 key, n);
		}
	}
	return total;
}

static void wrong_baud(struct doctor_judge_ctx *c, struct doctor_result *r,
		       double bytes)
{
	const struct doctor_facts *f = c->f;
	double det = 0;

	if (ctl_json_num(c->st, "receiver.detected_baud", &det) && det > 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "%.0f bytes but no valid "
				 "sentence at %ld baud: the receiver sends at "
				 "%.0f baud", bytes, f->setup.baud, det);
		doctor_judge_fix(r, "set `baud %.0f` in gpsppsd.conf (--baud "
				 "%.0f) and restart gpsppsd", det, det);
		return;
	}
	doctor_judge_say(r, DOCTOR_FAIL, "%.0f bytes but no valid sentence at "
			 "%ld baud: the baud rate is wrong", bytes,
			 f->setup.baud);
	doctor_judge_fix(r, "stop gpsppsd and run gpsppsctl doctor again: it "
			 "tries the other rates on the port%s",
			 ctl_json_get(c->st, "receiver.baud_mode") != NULL ?
			 " (or set `baud auto`)" : "");
}

static void sentences_from_daemon(struct doctor_judge_ctx *c,
				  struct doctor_result *r)
{
	char list[160];
	double bytes = 0, bad = 0;
	double total = sentence_total(c->st, list, sizeof(list));
	const char *talker = ctl_json_str(c->st, "receiver.talker");

	ctl_json_num(c->st, "receiver.bytes", &bytes);
	ctl_json_num(c->st, "receiver.bad_checksums", &bad);
	if (total == 0) {
		wrong_baud(c, r, bytes);
		return;
	}
	c->sentences_ok = true;
	if (bad * 10 > total) {
		doctor_judge_say(r, DOCTOR_WARN, "%.0f of %.0f sentences "
				 "failed their checksum", bad, bad + total);
		doctor_judge_fix(r, "noise on the line: shorten or shield the "
				 "cable and check GND, or stop whatever else "
				 "writes to the port");
		return;
	}
	doctor_judge_say(r, DOCTOR_PASS, "%.0f valid sentences (%s), talker "
			 "%s, %.0f bad checksums", total, list,
			 talker ? talker : "?", bad);
}

static void sentences_from_probe(struct doctor_judge_ctx *c,
				 struct doctor_result *r)
{
	const struct doctor_facts *f = c->f;

	if (f->probe_sentences > 0) {
		c->sentences_ok = true;
		doctor_judge_say(r, DOCTOR_PASS, "%lu valid sentences at %ld "
				 "baud (read-only probe)", f->probe_sentences,
				 f->setup.baud);
	} else if (f->probe_decoded_baud > 0) {
		doctor_judge_say(r, DOCTOR_FAIL, "%lu bytes but no valid "
				 "sentence at %ld baud: the receiver sends at "
				 "%ld baud", f->probe_bytes, f->setup.baud,
				 f->probe_decoded_baud);
		doctor_judge_fix(r, "set `baud %ld` in gpsppsd.conf (--baud "
				 "%ld)", f->probe_decoded_baud,
				 f->probe_decoded_baud);
	} else {
		doctor_judge_say(r, DOCTOR_FAIL, "%lu bytes but no valid "
				 "sentence at any rate from 4800 to 921600 "
				 "baud", f->probe_bytes);
		doctor_judge_fix(r, "switch the receiver's output to NMEA 0183 "
				 "(it may be sending a binary protocol)");
	}
}

static void check_sentences(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	r->id = "sentences";
	if (!c->bytes_ok) {
		doctor_judge_say(r, DOCTOR_SKIP, "no bytes to decode");
	} else if (c->st != NULL) {
		sentences_from_daemon(c, r);
	} else {
		sentences_from_probe(c, r);
	}
}

static void check_fix(struct doctor_judge_ctx *c, struct doctor_result *r)
{
	const char *state = ctl_json_str(c->st, "receiver.state");
	double eps = 0, epochs = 0;

	r->id = "fix";
	if (!c->sentences_ok || c->st == NULL) {
		doctor_judge_say(r, DOCTOR_SKIP, c->st == NULL ?
				 "gpsppsd not running" : "no valid sentences");
		return;
	}
	ctl_json_num(c->st, "receiver.epochs_per_s", &eps);
	ctl_json_num(c->st, "receiver.epochs", &epochs);
	if (state != NULL && strcmp(state, "valid") == 0) {
		doctor_judge_say(r, DOCTOR_PASS, "valid fix, %.0f epochs, %.1f "
				 "per second", epochs, eps);
		return;
	}
	doctor_judge_say(r, DOCTOR_FAIL, "the receiver reports no fix "
			 "(receiver state %s)", state ? state : "unknown");
	doctor_judge_fix(r, "give the antenna a clear view of the sky and "
			 "wait: a cold start can take 15 minutes");
}

void doctor_judge_receiver(struct doctor_judge_ctx *c,
			   struct doctor_report *rep)
{
	check_daemon(c, &rep->r[rep->n++]);
	check_config(c, &rep->r[rep->n++]);
	check_port(c, &rep->r[rep->n++]);
	check_bytes(c, &rep->r[rep->n++]);
	check_sentences(c, &rep->r[rep->n++]);
	check_fix(c, &rep->r[rep->n++]);
}

void doctor_judge(const struct doctor_facts *f, struct doctor_report *rep)
{
	struct doctor_judge_ctx c = { .f = f, .st = f->status };

	memset(rep, 0, sizeof(*rep));
	c.pps_refid = f->pps_rc.found ? f->pps_rc.refid : "PPS";
	c.nmea_refid = f->nmea_rc.found ? f->nmea_rc.refid : "NMEA";
	doctor_judge_receiver(&c, rep);
	doctor_judge_pps(&c, rep);
	doctor_judge_pairing(&c, &rep->r[rep->n++]);
	doctor_judge_chrony(&c, rep);
}

int doctor_judge_exit_status(const struct doctor_report *rep)
{
	int worst = 0;
	size_t i;

	for (i = 0; i < rep->n; i++) {
		if (rep->r[i].level == DOCTOR_FAIL) {
			worst = 2;
		} else if (rep->r[i].level == DOCTOR_WARN && worst < 1) {
			worst = 1;
		}
	}
	return worst;
}
