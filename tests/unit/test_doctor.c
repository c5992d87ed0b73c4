/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test_doctor.c - doctor's verdicts on fixtures: a healthy chain passes
 * every check, and each broken link is the first WARN or FAIL with the
 * cause and the fix named.  The status object follows
 * plan/status-schema.md; chronyc's output is chrony 4.3's CSV.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "doctor_judge.h"

static const char healthy_status[] =
	"{\"version\":1,"
	"\"daemon\":{\"version\":\"0.1.0\",\"pid\":1234,\"uptime_s\":60.0,"
	" \"config\":\"/dev/null\",\"user\":\"gpspps\",\"wakeups\":100},"
	"\"receiver\":{\"device\":\"/dev/ttyS0\",\"baud\":9600,"
	" \"baud_mode\":\"fixed\",\"detected_baud\":null,\"state\":\"valid\","
	" \"talker\":\"GP\",\"sentences\":{\"RMC\":60,\"GGA\":60},"
	" \"bytes\":9000,\"bad_checksums\":0,\"dropped_bytes\":0,"
	" \"overlong\":0,\"epochs\":60,\"last_epoch\":\"2026-12-01T22:00:00Z\","
	" \"since_last_byte_s\":0.3,\"epochs_per_s\":1.0},"
	"\"nmea_delay\":{\"last_s\":0.35,\"median_s\":0.35,"
	" \"spread_s\":0.001,\"count\":60},"
	"\"pps\":{\"backend\":\"sim\",\"device\":null,\"open\":true,"
	" \"edges\":60,\"missed\":0,\"errors\":0,\"spurious_seq\":0,"
	" \"spurious_period\":0,\"polarity\":\"rising\","
	" \"since_last_edge_s\":0.4,\"jitter_s\":4e-6,"
	" \"jitter_kind\":\"second\"},"
	"\"pairing\":{\"samples\":55,\"held\":{\"warmup\":3,\"no_edge\":0},"
	" \"guard\":\"locked\",\"last_offset_s\":-1.2e-8,"
	" \"window_min_s\":0.0,\"window_max_s\":0.95,\"next_second\":false},"
	"\"chronyd\":{"
	" \"pps\":{\"path\":\"/run/gpspps/pps.sock\",\"enabled\":true,"
	"  \"sent\":55,\"failed\":{},\"last_error\":null,"
	"  \"since_last_delivery_s\":0.4,\"sample_size\":40},"
	" \"nmea\":{\"path\":\"/run/gpspps/nmea.sock\",\"enabled\":true,"
	"  \"sent\":58,\"failed\":{},\"last_error\":null,"
	"  \"since_last_delivery_s\":0.35,\"sample_size\":40}},"
	"\"last\":{\"pps\":\"sample\",\"pps_sent\":true}}";

static const char healthy_sources[] =
	"#,*,PPS,0,2,377,1,-0.000000012,-0.000000012,0.000000101\n"
	"#,?,NMEA,0,2,377,1,0.350000000,0.350000000,0.001000000\n";

static const char healthy_tracking[] =
	"50505300,PPS,1,1795000000.5,-0.000000010,-0.000000012,"
	"0.000000020,-1.000,0.000,0.010,0.000000001,0.000010000,4.0,Normal\n";

struct fixture {
	struct doctor_facts f;
	struct doctor_report rep;
};

static void set_file(struct doctor_file *fl, mode_t mode, uid_t uid,
		     gid_t gid, const char *owner, const char *group)
{
	memset(fl, 0, sizeof(*fl));
	fl->probed = true;
	fl->mode = mode;
	fl->uid = uid;
	fl->gid = gid;
	snprintf(fl->owner, sizeof(fl->owner), "%s", owner);
	snprintf(fl->group, sizeof(fl->group), "%s", group);
	fl->dirs_searchable = true;
}

static void set_rc(struct doctor_rc *rc, const char *refid,
		   const char *path, int line)
{
	rc->found = true;
	snprintf(rc->refid, sizeof(rc->refid), "%s", refid);
	snprintf(rc->path, sizeof(rc->path), "%s", path);
	snprintf(rc->where, sizeof(rc->where), "/etc/chrony/chrony.conf:%d",
		 line);
}

static void set_sources(struct doctor_facts *f, const char *text)
{
	free(f->sources);
	f->sources = strdup(text);
	f->sources_len = strlen(text);
}

/* A healthy chain: gpsppsd as gpspps (uid 100, groups 100 and 20). */
static void healthy(struct doctor_facts *f)
{
	json_error_t je;
	struct doctor_setup *s = &f->setup;

	memset(f, 0, sizeof(*f));
	snprintf(f->socket, DOCTOR_STR, "/run/gpspps/status.sock");
	f->status = json_loads(healthy_status, 0, &je);
	assert_non_null(f->status);
	f->setup_known = true;
	snprintf(s->device, DOCTOR_STR, "/dev/ttyS0");
	s->baud = 9600;
	snprintf(s->pps, DOCTOR_STR, "sim");
	snprintf(s->pps_socket, DOCTOR_STR, "/run/gpspps/pps.sock");
	snprintf(s->nmea_socket, DOCTOR_STR, "/run/gpspps/nmea.sock");
	s->nmea_samples = true;
	s->window_max_s = 0.95;
	f->check_ran = true;
	snprintf(f->check_what, DOCTOR_STR, "/dev/null");
	set_file(&f->device, S_IFCHR | 0660, 0, 20, "root", "dialout");
	f->chronyc_ran = true;
	f->tracking_ok = cp_parse_tracking(healthy_tracking,
					   strlen(healthy_tracking),
					   &f->tracking) == 0;
	assert_true(f->tracking_ok);
	f->chronyd_age_s = 600;
	set_sources(f, healthy_sources);
	snprintf(f->conf, DOCTOR_STR, "/etc/chrony/chrony.conf");
	f->conf_ok = true;
	f->conf_files = 2;
	set_rc(&f->pps_rc, "PPS", s->pps_socket, 10);
	set_rc(&f->nmea_rc, "NMEA", s->nmea_socket, 11);
	f->n_socks = 2;
	snprintf(f->socks[0], DOCTOR_STR, "%s", s->pps_socket);
	snprintf(f->socks[1], DOCTOR_STR, "%s", s->nmea_socket);
	set_file(&f->pps_sock, S_IFSOCK | 0770, 0, 100, "root", "gpspps");
	set_file(&f->nmea_sock, S_IFSOCK | 0770, 0, 100, "root", "gpspps");
	f->user.known = true;
	snprintf(f->user.name, sizeof(f->user.name), "gpspps");
	f->user.uid = 100;
	f->user.ngroups = 2;
	f->user.groups[0] = 100;
	f->user.groups[1] = 20;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	healthy(&fx->f);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	doctor_facts_clear(&fx->f);
	free(fx);
	return 0;
}

/* Set a member of the status object by dotted path. */
static void put(json_t *root, const char *path, json_t *v)
{
	char buf[128], *dot, *p = buf;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(p, '.')) != NULL) {
		*dot = '\0';
		root = json_object_get(root, p);
		assert_non_null(root);
		p = dot + 1;
	}
	json_object_set_new(root, p, v);
}

/* The first WARN or FAIL: it must be `id` at `level`. */
static const struct doctor_result *first(struct fixture *fx, const char *id,
					 enum doctor_level level)
{
	size_t i;

	doctor_judge(&fx->f, &fx->rep);
	for (i = 0; i < fx->rep.n; i++) {
		const struct doctor_result *r = &fx->rep.r[i];

		if (r->level == DOCTOR_WARN || r->level == DOCTOR_FAIL) {
			if (strcmp(r->id, id) != 0 || r->level != level) {
				fail_msg("first problem %s %s: %s",
					 doctor_judge_level_name(r->level),
					 r->id, r->msg);
			}
			assert_true(r->fix[0] != '\0');
			return r;
		}
	}
	fail_msg("no problem found, expected %s", id);
	return NULL;
}

static void contains(const char *s, const char *what)
{
	if (strstr(s, what) == NULL) {
		fail_msg("\"%s\" lacks \"%s\"", s, what);
	}
}

static void test_healthy_all_pass(void **state)
{
	struct fixture *fx = *state;
	size_t i;

	doctor_judge(&fx->f, &fx->rep);
	assert_int_equal(fx->rep.n, 16);
	for (i = 0; i < fx->rep.n; i++) {
		if (fx->rep.r[i].level != DOCTOR_PASS) {
			fail_msg("%s %s: %s", doctor_judge_level_name(
				 fx->rep.r[i].level), fx->rep.r[i].id,
				 fx->rep.r[i].msg);
		}
		assert_string_equal(fx->rep.r[i].fix, "");
	}
	assert_int_equal(doctor_judge_exit_status(&fx->rep), 0);
}

static void test_daemon_down(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	json_decref(fx->f.status);
	fx->f.status = NULL;
	fx->f.status_rc = -2;   /* ENOENT */
	r = first(fx, "gpsppsd", DOCTOR_FAIL);
	contains(r->fix, "start gpsppsd");
	assert_int_equal(doctor_judge_exit_status(&fx->rep), 2);
}

static void test_config_error(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	fx->f.check_status = 1;
	snprintf(fx->f.check_out, DOCTOR_STR, "/etc/gpspps/gpsppsd.conf:3: "
		 "baud 9601: not a rate");
	r = first(fx, "config", DOCTOR_FAIL);
	contains(r->msg, "gpsppsd.conf:3");
}

static void test_receiver_absent(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	fx->f.device.err = 2;  /* ENOENT */
	put(fx->f.status, "receiver.state", json_string("absent"));
	r = first(fx, "port", DOCTOR_FAIL);
	contains(r->msg, "/dev/ttyS0 does not exist");
	contains(r->fix, "--device");
}

static void test_port_permission(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	fx->f.device.gid = 5;
	snprintf(fx->f.device.group, sizeof(fx->f.device.group), "uucp");
	put(fx->f.status, "receiver.state", json_string("absent"));
	r = first(fx, "port", DOCTOR_FAIL);
	contains(r->fix, "usermod -aG uucp gpspps");
}

static void test_gpsd_holds_port(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	fx->f.n_dev_holders = 1;
	fx->f.dev_holders[0].pid = 77;
	snprintf(fx->f.dev_holders[0].comm, 32, "gpsd");
	r = first(fx, "port", DOCTOR_WARN);
	contains(r->msg, "gpsd (pid 77)");
	assert_int_equal(doctor_judge_exit_status(&fx->rep), 1);
}

static void test_no_bytes(void **state)
{
	struct fixture *fx = *state;

	put(fx->f.status, "receiver.bytes", json_integer(0));
	put(fx->f.status, "receiver.since_last_byte_s", json_null());
	first(fx, "bytes", DOCTOR_FAIL);
}

static void test_wrong_baud_detected(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	put(fx->f.status, "receiver.sentences", json_object());
	put(fx->f.status, "receiver.state", json_string("silent"));
	put(fx->f.status, "receiver.detected_baud", json_integer(38400));
	r = first(fx, "sentences", DOCTOR_FAIL);
	contains(r->msg, "sends at 38400 baud");
	contains(r->fix, "baud 38400");
}

static void test_wrong_baud_unknown(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	put(fx->f.status, "receiver.sentences", json_object());
	r = first(fx, "sentences", DOCTOR_FAIL);
	contains(r->msg, "baud rate is wrong");
	contains(r->fix, "stop gpsppsd");
}

static void test_wrong_baud_probed(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;
	size_t i;

	json_decref(fx->f.status);
	fx->f.status = NULL;
	fx->f.status_rc = -2;
	fx->f.probed = true;
	fx->f.probe_bytes = 1200;
	fx->f.probe_decoded_baud = 38400;
	doctor_judge(&fx->f, &fx->rep);
	for (i = 0; i < fx->rep.n; i++) {
		r = &fx->rep.r[i];
		if (strcmp(r->id, "sentences") == 0) {
			assert_int_equal(r->level, DOCTOR_FAIL);
			contains(r->msg, "sends at 38400 baud");
			return;
		}
	}
	fail();
}

static void test_no_fix(void **state)
{
	struct fixture *fx = *state;

	put(fx->f.status, "receiver.state", json_string("no-fix"));
	put(fx->f.status, "last.pps", json_string("no_fix"));
	first(fx, "fix", DOCTOR_FAIL);
}

static void test_no_edges(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	put(fx->f.status, "pps.edges", json_integer(0));
	put(fx->f.status, "pps.since_last_edge_s", json_null());
	put(fx->f.status, "last.pps", json_string("no_edge"));
	r = first(fx, "pps-edges", DOCTOR_FAIL);
	contains(r->msg, "no PPS edge");
}

static void test_gpsd_holds_pps(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	snprintf(fx->f.setup.pps, DOCTOR_STR, "kernel:/dev/pps0");
	snprintf(fx->f.pps_path, DOCTOR_STR, "/dev/pps0");
	set_file(&fx->f.pps_dev, S_IFCHR | 0660, 0, 100, "root", "gpspps");
	fx->f.n_pps_holders = 1;
	fx->f.pps_holders[0].pid = 88;
	snprintf(fx->f.pps_holders[0].comm, 32, "gpsd");
	r = first(fx, "pps-device", DOCTOR_WARN);
	contains(r->msg, "/dev/pps0 is also open in gpsd (pid 88)");
}

static void test_delay_outside_window(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	put(fx->f.status, "nmea_delay.median_s", json_real(0.62));
	put(fx->f.status, "pairing.window_max_s", json_real(0.5));
	put(fx->f.status, "last.pps", json_string("no_edge"));
	r = first(fx, "pairing", DOCTOR_FAIL);
	contains(r->msg, "0.620 s is outside the window 0.000 .. 0.500 s");
	contains(r->fix, "--window-max 0.68");
	contains(r->fix, "--next-second");
}

static void test_warming_up(void **state)
{
	struct fixture *fx = *state;

	put(fx->f.status, "last.pps", json_string("warmup"));
	first(fx, "pairing", DOCTOR_WARN);
}

static void test_chronyd_down(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	fx->f.chronyc_status = 1;
	fx->f.tracking_ok = false;
	snprintf(fx->f.chronyc_err, DOCTOR_STR, "506 Cannot talk to daemon");
	free(fx->f.sources);
	fx->f.sources = NULL;
	r = first(fx, "chronyd", DOCTOR_FAIL);
	contains(r->msg, "506 Cannot talk to daemon");
}

static void test_conf_without_pps(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	memset(&fx->f.pps_rc, 0, sizeof(fx->f.pps_rc));
	fx->f.n_socks = 1;
	snprintf(fx->f.socks[0], DOCTOR_STR, "/run/gpspps/nmea.sock");
	r = first(fx, "chrony-conf", DOCTOR_FAIL);
	contains(r->msg, "no SOCK refclock on /run/gpspps/pps.sock");
	contains(r->fix, "refclock SOCK /run/gpspps/pps.sock refid PPS");
}

static void test_conf_other_path(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	memset(&fx->f.pps_rc, 0, sizeof(fx->f.pps_rc));
	snprintf(fx->f.socks[0], DOCTOR_STR, "/run/chrony/pps.sock");
	r = first(fx, "chrony-conf", DOCTOR_FAIL);
	contains(r->msg, "read /run/chrony/pps.sock, not "
		 "/run/gpspps/pps.sock");
	contains(r->fix, "pps-socket");
}

static void test_socket_not_writable(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	set_file(&fx->f.pps_sock, S_IFSOCK | 0755, 0, 0, "root", "root");
	r = first(fx, "sockets", DOCTOR_FAIL);
	contains(r->msg, "srwxr-xr-x root:root: gpsppsd's user gpspps may not "
		 "write it");
	contains(r->fix, "UMask=0007");
}

static void test_socket_missing(void **state)
{
	struct fixture *fx = *state;

	fx->f.nmea_sock.err = 2;
	first(fx, "sockets", DOCTOR_FAIL);
}

static void test_sends_fail(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;
	json_error_t je;

	put(fx->f.status, "chronyd.pps.last_error", json_string("EAGAIN"));
	put(fx->f.status, "chronyd.pps.since_last_delivery_s", json_real(30));
	put(fx->f.status, "chronyd.pps.failed", json_loads(
	    "{\"EAGAIN\":{\"count\":30,\"meaning\":\"chronyd's queue is full\"}}",
	    0, &je));
	r = first(fx, "sends", DOCTOR_FAIL);
	contains(r->msg, "EAGAIN (30 times)");
	contains(r->fix, "queue is full");
}

static void test_reach_zero_sends_ok(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	/* NMEA's reach shows chronyd has polled for a while, whatever the
	 * age of the youngest chronyd on the machine */
	fx->f.chronyd_age_s = 3;
	set_sources(&fx->f,
		    "#,?,PPS,0,2,0,4294967295,0.0,0.0,0.0\n"
		    "#,?,NMEA,0,2,377,1,0.35,0.35,0.001\n");
	r = first(fx, "reach", DOCTOR_FAIL);
	contains(r->msg, "succeed (55 sent) but chronyd's reach for PPS stays "
		 "0: a sample size or socket mismatch");
	contains(r->fix, "40-byte samples");
}

static void test_reach_zero_young_chronyd(void **state)
{
	struct fixture *fx = *state;

	fx->f.chronyd_age_s = 3;
	set_sources(&fx->f,
		    "#,?,PPS,0,2,0,4294967295,0.0,0.0,0.0\n"
		    "#,?,NMEA,0,2,0,4294967295,0.0,0.0,0.0\n");
	first(fx, "reach", DOCTOR_WARN);
}

static void test_lock_past_limit(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	snprintf(fx->f.pps_rc.lock, sizeof(fx->f.pps_rc.lock), "NMEA");
	set_sources(&fx->f,
		    "#,?,PPS,0,2,377,1,0.0,0.0,0.0\n"
		    "#,?,NMEA,0,2,377,1,0.62,0.62,0.001\n");
	r = first(fx, "selection", DOCTOR_FAIL);
	contains(r->msg, "uncalibrated offset 0.620 s is past chrony's 0.4 s");
	contains(r->fix, "gpspps-calibrate --write");
}

static void test_falseticker_edge(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	set_sources(&fx->f,
		    "#,x,PPS,0,2,377,1,0.1,0.1,0.0\n"
		    "^,*,192.0.2.1,2,6,377,10,0.0001,0.0001,0.01\n"
		    "#,?,NMEA,0,2,377,1,0.35,0.35,0.001\n");
	r = first(fx, "selection", DOCTOR_FAIL);
	contains(r->msg, "falseticker");
	contains(r->fix, "pps-edge");
}

static void test_noselect_alone(void **state)
{
	struct fixture *fx = *state;
	const struct doctor_result *r;

	fx->f.pps_rc.noselect = true;
	set_sources(&fx->f,
		    "#,?,PPS,0,2,377,1,0.0,0.0,0.0\n"
		    "#,?,NMEA,0,2,377,1,0.35,0.35,0.001\n");
	r = first(fx, "selection", DOCTOR_FAIL);
	contains(r->msg, "no other source");
	contains(r->fix, "remove `noselect`");
}

static void test_clock_unsynchronised(void **state)
{
	struct fixture *fx = *state;

	fx->f.tracking.leap = CP_LEAP_UNSYNC;
	first(fx, "clock", DOCTOR_FAIL);
}

static void test_user_may(void **state)
{
	struct doctor_user u = { .known = true, .uid = 100, .ngroups = 2,
				 .groups = { 100, 20 } };
	struct doctor_user root = { .known = true, .uid = 0, .ngroups = 1 };

	(void)state;
	assert_true(doctor_judge_user_may(&u, 0770, 0, 100, 2));
	assert_false(doctor_judge_user_may(&u, 0755, 0, 0, 2));
	assert_true(doctor_judge_user_may(&u, 0757, 0, 0, 2));
	assert_true(doctor_judge_user_may(&u, 0200, 100, 0, 2));
	/* the owner's bits decide for the owner, even when others may */
	assert_false(doctor_judge_user_may(&u, 0077, 100, 0, 2));
	assert_true(doctor_judge_user_may(&root, 0, 5, 5, 6));
	assert_false(doctor_judge_user_may(&root, 0600, 5, 5, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_healthy_all_pass),
		T(test_daemon_down),
		T(test_config_error),
		T(test_receiver_absent),
		T(test_port_permission),
		T(test_gpsd_holds_port),
		T(test_no_bytes),
		T(test_wrong_baud_detected),
		T(test_wrong_baud_unknown),
		T(test_wrong_baud_probed),
		T(test_no_fix),
		T(test_no_edges),
		T(test_gpsd_holds_pps),
		T(test_delay_outside_window),
		T(test_warming_up),
		T(test_chronyd_down),
		T(test_conf_without_pps),
		T(test_conf_other_path),
		T(test_socket_not_writable),
		T(test_socket_missing),
		T(test_sends_fail),
		T(test_reach_zero_sends_ok),
		T(test_reach_zero_young_chronyd),
		T(test_lock_past_limit),
		T(test_falseticker_edge),
		T(test_noselect_alone),
		T(test_clock_unsynchronised),
#undef T
		cmocka_unit_test(test_user_may),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
