/* Unit tests of confedit: reading refclock lines as chronyd does, the
 * one-token edit, following include/confdir, and the atomic write. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "confedit.h"

#define S(x) x, strlen(x)

static void test_parse_line(void **state)
{
	struct ce_refclock rc;

	(void)state;
	assert_int_equal(ce_parse_refclock_line(S(
		"refclock SOCK /run/gpspps/nmea.sock refid NMEA poll 2 "
		"precision 1e-3 offset 0.35 noselect delay 0.2"), 0, &rc), 1);
	assert_string_equal(rc.driver, "SOCK");
	assert_string_equal(rc.param, "/run/gpspps/nmea.sock");
	assert_string_equal(rc.refid, "NMEA");
	assert_true(rc.has_offset && rc.offset == 0.35);
	assert_true(rc.noselect);
	assert_string_equal(rc.lock, "");
	free(rc.param);
	/* lock REFID: the refclock it pairs with */
	assert_int_equal(ce_parse_refclock_line(S(
		"refclock SOCK /p.sock refid PPS lock NMEA prefer"), 1, &rc), 1);
	assert_string_equal(rc.lock, "NMEA");
	free(rc.param);
	/* no refid: driver's first 3 letters + index; case; tabs; CR LF */
	assert_int_equal(ce_parse_refclock_line(S(
		"\tREFCLOCK\tSOCK\t/x.sock:opt\tOffset\t-0.5\tprefer\r\n"), 1,
		&rc), 1);
	assert_string_equal(rc.refid, "SOC1");
	assert_string_equal(rc.param, "/x.sock");
	assert_true(rc.has_offset && rc.offset == -0.5);
	assert_false(rc.noselect);
	free(rc.param);
	assert_int_equal(ce_parse_refclock_line(S("refclock PPS /dev/pps0"), 12,
						&rc), 1);
	assert_string_equal(rc.refid, "PP12");
	assert_false(rc.has_offset);
	free(rc.param);
	/* long refids are cut to 4 characters, as chronyd does */
	assert_int_equal(ce_parse_refclock_line(S(
		"refclock SHM 0 refid GPSNMEA"), 0, &rc), 1);
	assert_string_equal(rc.refid, "GPSN");
	free(rc.param);
	/* not refclock lines */
	assert_int_equal(ce_parse_refclock_line(S(
		"# refclock SOCK /x refid NMEA"), 0, &rc), 0);
	assert_int_equal(ce_parse_refclock_line(S(
		"  ;refclock SOCK /x"), 0, &rc), 0);
	assert_int_equal(ce_parse_refclock_line(S("server ntp refclock"), 0,
						&rc), 0);
	assert_int_equal(ce_parse_refclock_line(S(""), 0, &rc), 0);
	/* broken refclock lines */
	assert_int_equal(ce_parse_refclock_line(S("refclock SOCK"), 0, &rc), -1);
	assert_int_equal(ce_parse_refclock_line(S(
		"refclock SOCK /x offset"), 0, &rc), -1);
	assert_int_equal(ce_parse_refclock_line(S(
		"refclock SOCK /x offset abc"), 0, &rc), -1);
}

/* Edit and compare with the expected text byte for byte. */
static void expect_edit(const char *in, int line, double v, const char *want)
{
	char *out = NULL;
	size_t len;

	assert_int_equal(ce_edit_offset(in, strlen(in), line, v, &out, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(out, want, len);
	free(out);
}

static void test_edit(void **state)
{
	char *out;
	size_t len;

	(void)state;
	expect_edit("a\nrefclock SOCK /n refid NMEA offset 0.1 noselect\nb\n",
		    2, 0.487,
		    "a\nrefclock SOCK /n refid NMEA offset 0.487000 noselect\nb\n");
	/* absent: added after the last word, before blanks and CR LF */
	expect_edit("x\r\nrefclock SOCK /n refid NMEA  \r\ny\r\n", 2, 0.25,
		    "x\r\nrefclock SOCK /n refid NMEA offset 0.250000  \r\ny\r\n");
	/* no final newline, tabs kept */
	expect_edit("refclock\tSOCK\t/n\toffset\t0.5", 1, -0.0000001,
		    "refclock\tSOCK\t/n\toffset\t0.000000");
	/* the last offset is the one chronyd uses */
	expect_edit("refclock SOCK /n offset 1 offset 2\n", 1, 0.3,
		    "refclock SOCK /n offset 1 offset 0.300000\n");
	/* an option value spelled "offset" is not the option */
	expect_edit("refclock SOCK /n refid offset\n", 1, 0.3,
		    "refclock SOCK /n refid offset offset 0.300000\n");
	assert_int_equal(ce_edit_offset(S("# refclock SOCK /n\n"), 1, 0.1, &out,
					&len), -EINVAL);
	assert_int_equal(ce_edit_offset(S("server a\n"), 1, 0.1, &out, &len),
			 -EINVAL);
	assert_int_equal(ce_edit_offset(S("refclock SOCK /n\n"), 2, 0.1, &out,
					&len), -EINVAL);
	assert_int_equal(ce_edit_offset(S("refclock SOCK /n\n"), 0, 0.1, &out,
					&len), -EINVAL);
}

static char tmpdir[64];

static void write_text(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *rel)
{
	static char buf[4096];
	char path[256];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup_dir(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/gpspps-confedit-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/d1 %s/d2", tmpdir, tmpdir);
	return system(cmd);
}

static int teardown_dir(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void test_load(void **state)
{
	char text[1024], path[256], err[256];
	struct ce_config *cfg;
	const struct ce_refclock *rc;

	(void)state;
	snprintf(text, sizeof(text),
		 "# top\nrefclock SOCK /pps.sock refid PPS\n"
		 "confdir %s/d1 %s/d2\n"
		 "sourcedir %s/d1\n"
		 "include %s/inc*.conf\n"
		 "refclock SHM 0\n", tmpdir, tmpdir, tmpdir, tmpdir);
	write_text("chrony.conf", text);
	write_text("d1/b.conf", "refclock SOCK /b1.sock refid B1\n");
	write_text("d2/b.conf", "refclock SOCK /b2.sock refid B2\n");
	write_text("d2/a.conf", "\n\nrefclock SOCK /nmea.sock offset 0.4\n");
	write_text("d1/x.sources", "refclock SOCK /never.sock refid NO\n");
	write_text("inc1.conf", "refclock SOCK /i.sock refid INC\n");
	snprintf(path, sizeof(path), "%s/chrony.conf", tmpdir);
	cfg = ce_load(path, err, sizeof(err));
	assert_non_null(cfg);
	/* order: top, d2/a.conf (name a < b), d1/b.conf (first dir wins),
	 * inc1.conf, top again */
	assert_int_equal(ce_refclock_count(cfg), 5);
	assert_int_equal(ce_file_count(cfg), 4);
	assert_string_equal(ce_refclock_at(cfg, 1)->refid, "SOC1");
	assert_string_equal(ce_refclock_at(cfg, 2)->refid, "B1");
	assert_string_equal(ce_refclock_at(cfg, 3)->refid, "INC");
	assert_string_equal(ce_refclock_at(cfg, 4)->refid, "SHM4");
	rc = ce_find_sock(cfg, "/nmea.sock");
	assert_non_null(rc);
	assert_int_equal(rc->line, 3);
	assert_non_null(strstr(rc->file, "d2/a.conf"));
	assert_true(rc->offset == 0.4);
	assert_ptr_equal(ce_find_refid(cfg, "SOC1"), rc);
	assert_null(ce_find_refid(cfg, "NO"));
	assert_null(ce_find_sock(cfg, "/b2.sock"));
	ce_free(cfg);
	/* a file that includes itself */
	snprintf(text, sizeof(text), "include %s/loop.conf\n", tmpdir);
	write_text("loop.conf", text);
	snprintf(path, sizeof(path), "%s/loop.conf", tmpdir);
	assert_null(ce_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "nested"));
	assert_null(ce_load("/nonexistent/chrony.conf", err, sizeof(err)));
	assert_non_null(strstr(err, "cannot read"));
	write_text("bad.conf", "refclock SOCK /x offset\n");
	snprintf(path, sizeof(path), "%s/bad.conf", tmpdir);
	assert_null(ce_load(path, err, sizeof(err)));
	assert_non_null(strstr(err, "bad.conf:1"));
}

static void test_write(void **state)
{
	char path[256], link_path[256], err[256];
	struct ce_config *cfg;
	struct stat st;

	(void)state;
	write_text("w.conf", "# keep\r\nrefclock SOCK /n.sock refid NMEA\r\n"
		   "makestep 1 3");
	snprintf(path, sizeof(path), "%s/w.conf", tmpdir);
	assert_int_equal(chmod(path, 0640), 0);
	snprintf(link_path, sizeof(link_path), "%s/link.conf", tmpdir);
	assert_int_equal(symlink(path, link_path), 0);
	cfg = ce_load(link_path, err, sizeof(err));
	assert_non_null(cfg);
	assert_int_equal(ce_set_offset(ce_find_refid(cfg, "NMEA"), 0.123456,
				       err, sizeof(err)), 0);
	assert_string_equal(read_text("w.conf"), "# keep\r\nrefclock SOCK "
			    "/n.sock refid NMEA offset 0.123456\r\nmakestep 1 3");
	assert_string_equal(read_text("w.conf.bak"), "# keep\r\nrefclock SOCK "
			    "/n.sock refid NMEA\r\nmakestep 1 3");
	assert_int_equal(lstat(link_path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	/* the line moved since loading: refused */
	write_text("w.conf", "\n\nrefclock SOCK /n.sock refid NMEA\n");
	assert_int_equal(ce_set_offset(ce_find_refid(cfg, "NMEA"), 0.2, err,
				       sizeof(err)), -ESTALE);
	ce_free(cfg);
	/* read-only by mode, even for root: refused, untouched */
	assert_int_equal(chmod(path, 0444), 0);
	assert_int_equal(ce_write_atomic(path, "new", 3, ".bak", err,
					 sizeof(err)), -EACCES);
	assert_non_null(strstr(err, "read-only"));
	assert_string_equal(read_text("w.conf"),
			    "\n\nrefclock SOCK /n.sock refid NMEA\n");
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ce_write_atomic(path, "new", 3, NULL, err,
					 sizeof(err)), 0);
	assert_string_equal(read_text("w.conf"), "new");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_line),
		cmocka_unit_test(test_edit),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_write),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
