/* SPDX-License-Identifier: GPL-2.0-or-later */
/* confedit.c - see confedit.h. */
#include "confedit.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"

#define MAX_TOKENS 256
#define MAX_CONF_DIRS 10

struct tok {
	size_t start;
	size_t end;
};

struct ce_config {
	struct ce_refclock *rc;
	size_t n_rc;
	char **files;
	size_t n_files;
	char *err;
	size_t errlen;
};

/* Words of a line, separated by white space as chronyd's isspace(). */
static int tokenize(const char *line, size_t len, struct tok *toks)
{
	size_t i = 0;
	int n = 0;

	while (i < len) {
		while (i < len && isspace((unsigned char)line[i])) {
			i++;
		}
		if (i == len) {
			break;
		}
		if (n == MAX_TOKENS) {
			return -1;
		}
		toks[n].start = i;
		while (i < len && !isspace((unsigned char)line[i])) {
			i++;
		}
		toks[n].end = i;
		n++;
	}
	return n;
}

static bool tok_is(const char *line, const struct tok *t, const char *word)
{
	size_t len = t->end - t->start;

	return len == strlen(word) && strncasecmp(line + t->start, word, len) == 0;
}

/* malloc'ed NUL-terminated copy of a token. */
static char *tok_dup(const char *line, const struct tok *t)
{
	return strndup(line + t->start, t->end - t->start);
}

static bool is_comment(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)line[i])) {
		i++;
	}
	return i < len && strchr("!;#%", line[i]) != NULL;
}

/* Where the interesting options of a refclock line are (token indices,
 * -1 when absent). */
struct rc_walk {
	int offset_val;
	int refid_val;
	int lock_val;
	bool noselect;
};

/* refclock options followed by a value (chrony 4.0-4.8); the flags are
 * pps, tai, local, noselect, prefer, require, trust. */
static bool is_valued_option(const char *line, const struct tok *t)
{
	static const char *const valued[] = {
		"refid", "lock", "poll", "dpoll", "filter", "rate",
		"minsamples", "maxsamples", "maxlockage", "offset", "delay",
		"precision", "maxdispersion", "stratum", "width",
	};
	size_t i;

	for (i = 0; i < sizeof(valued) / sizeof(valued[0]); i++) {
		if (tok_is(line, t, valued[i])) {
			return true;
		}
	}
	return false;
}

/* Known valued options take the next word; flags and unknown words
 * (options of a later chrony) stand alone.  Returns -1 when a value is
 * missing. */
static int walk_options(const char *line, const struct tok *toks, int n,
			struct rc_walk *w)
{
	int i = 3;

	w->offset_val = w->refid_val = w->lock_val = -1;
	w->noselect = false;
	while (i < n) {
		if (!is_valued_option(line, &toks[i])) {
			w->noselect |= tok_is(line, &toks[i], "noselect");
			i++;
			continue;
		}
		if (i + 1 >= n) {
			return -1;
		}
		if (tok_is(line, &toks[i], "offset")) {
			w->offset_val = i + 1;
		} else if (tok_is(line, &toks[i], "refid")) {
			w->refid_val = i + 1;
		} else if (tok_is(line, &toks[i], "lock")) {
			w->lock_val = i + 1;
		}
		i += 2;
	}
	return 0;
}

static void default_refid(const char *driver, int index, char *refid)
{
	snprintf(refid, 4, "%3.3s", driver);
	refid[3] = (char)('0' + index % 10);
	refid[4] = '\0';
	if (index >= 10) {
		refid[2] = (char)('0' + (index / 10) % 10);
	}
}

static int fill_refclock(const char *line, const struct tok *toks, int n,
			 const struct rc_walk *w, struct ce_refclock *out)
{
	size_t dlen = toks[1].end - toks[1].start;
	char *colon;

	if (dlen >= sizeof(out->driver)) {
		return -1;
	}
	memcpy(out->driver, line + toks[1].start, dlen);
	out->driver[dlen] = '\0';
	out->has_offset = false;
	out->offset = 0.0;
	if (w->offset_val >= 0) {
		char *val = tok_dup(line, &toks[w->offset_val]);
		char *end;

		if (val == NULL) {
			return -1;
		}
		out->offset = strtod(val, &end);
		out->has_offset = end != val && *end == '\0' && isfinite(out->offset);
		free(val);
		if (!out->has_offset) {
			return -1;
		}
	}
	if (w->refid_val >= 0) {
		size_t rlen = toks[w->refid_val].end - toks[w->refid_val].start;

		snprintf(out->refid, sizeof(out->refid), "%.*s",
			 (int)(rlen > 4 ? 4 : rlen), line + toks[w->refid_val].start);
	} else {
		default_refid(out->driver, out->index, out->refid);
	}
	out->noselect = w->noselect;
	out->lock[0] = '\0';
	if (w->lock_val >= 0) {
		size_t llen = toks[w->lock_val].end - toks[w->lock_val].start;

		snprintf(out->lock, sizeof(out->lock), "%.*s",
			 (int)(llen > 4 ? 4 : llen), line + toks[w->lock_val].start);
	}
	out->param = tok_dup(line, &toks[2]);
	if (out->param == NULL) {
		return -1;
	}
	colon = strchr(out->param, ':');
	if (colon != NULL) {
		*colon = '\0';
	}
	(void)n;
	return 0;
}

int ce_parse_refclock_line(const char *line, size_t len, int index,
			   struct ce_refclock *out)
{
	struct tok toks[MAX_TOKENS];
	struct rc_walk w;
	int n;

	if (is_comment(line, len)) {
		return 0;
	}
	n = tokenize(line, len, toks);
	if (n < 1 || !tok_is(line, &toks[0], "refclock")) {
		return 0;
	}
	if (n < 3 || walk_options(line, toks, n, &w) != 0) {
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->index = index;
	if (fill_refclock(line, toks, n, &w, out) != 0) {
		free(out->param);
		out->param = NULL;
		return -1;
	}
	return 1;
}

static int read_file(const char *path, char **data, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;
	int ret = 0;

	if (f == NULL) {
		return -errno;
	}
	buf = malloc(CE_MAX_FILE + 1);
	if (buf == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	n = fread(buf, 1, CE_MAX_FILE + 1, f);
	if (ferror(f)) {
		ret = -EIO;
	} else if (n > CE_MAX_FILE) {
		ret = -EFBIG;
	}
	fclose(f);
	if (ret != 0) {
		free(buf);
		return ret;
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

static int add_file(struct ce_config *cfg, const char *path)
{
	char **files = realloc(cfg->files, (cfg->n_files + 1) * sizeof(char *));

	if (files == NULL) {
		return -ENOMEM;
	}
	cfg->files = files;
	cfg->files[cfg->n_files] = strdup(path);
	if (cfg->files[cfg->n_files] == NULL) {
		return -ENOMEM;
	}
	cfg->n_files++;
	return 0;
}

static int add_refclock(struct ce_config *cfg, struct ce_refclock *rc)
{
	struct ce_refclock *arr = realloc(cfg->rc,
					  (cfg->n_rc + 1) * sizeof(*arr));

	if (arr == NULL) {
		return -ENOMEM;
	}
	cfg->rc = arr;
	cfg->rc[cfg->n_rc++] = *rc;
	return 0;
}

static int load_file(struct ce_config *cfg, const char *path, int depth);

static int load_glob(struct ce_config *cfg, const char *pattern, int depth)
{
	glob_t gl;
	size_t i;
	int ret = 0;

	if (glob(pattern, 0, NULL, &gl) != 0) {
		return 0;
	}
	for (i = 0; i < gl.gl_pathc && ret == 0; i++) {
		ret = load_file(cfg, gl.gl_pathv[i], depth + 1);
	}
	globfree(&gl);
	return ret;
}

struct dir_entry {
	const char *path;
	const char *base;
	int dir;
};

static int cmp_dir_entry(const void *a, const void *b)
{
	const struct dir_entry *x = a;
	const struct dir_entry *y = b;
	int c = strcmp(x->base, y->base);

	return c != 0 ? c : x->dir - y->dir;
}

/* confdir: DIR/<name>.conf over all dirs, sorted by name, first dir wins. */
static int load_confdirs(struct ce_config *cfg, const char *line,
			 const struct tok *toks, int n, int depth)
{
	glob_t gl;
	struct dir_entry *ents;
	size_t counts[MAX_CONF_DIRS + 1] = { 0 };
	size_t i;
	int d, ret = 0;

	if (n < 2 || n - 1 > MAX_CONF_DIRS) {
		return -EINVAL;
	}
	memset(&gl, 0, sizeof(gl));
	for (d = 1; d < n; d++) {
		char pattern[PATH_MAX];

		snprintf(pattern, sizeof(pattern), "%.*s/*.conf",
			 (int)(toks[d].end - toks[d].start), line + toks[d].start);
		glob(pattern, d > 1 ? GLOB_APPEND : 0, NULL, &gl);
		counts[d] = gl.gl_pathc;
	}
	ents = calloc(gl.gl_pathc + 1, sizeof(*ents));
	if (ents == NULL) {
		globfree(&gl);
		return -ENOMEM;
	}
	for (i = 0, d = 1; i < gl.gl_pathc; i++) {
		while (i >= counts[d]) {
			d++;
		}
		ents[i].path = gl.gl_pathv[i];
		ents[i].base = strrchr(gl.gl_pathv[i], '/') + 1;
		ents[i].dir = d;
	}
	qsort(ents, gl.gl_pathc, sizeof(*ents), cmp_dir_entry);
	for (i = 0; i < gl.gl_pathc && ret == 0; i++) {
		if (i > 0 && strcmp(ents[i].base, ents[i - 1].base) == 0) {
			continue;
		}
		ret = load_file(cfg, ents[i].path, depth + 1);
	}
	free(ents);
	globfree(&gl);
	return ret;
}

static int load_line(struct ce_config *cfg, const char *path, int lineno,
		     const char *line, size_t len, int depth)
{
	struct tok toks[MAX_TOKENS];
	struct ce_refclock rc;
	int n, r;

	if (is_comment(line, len)) {
		return 0;
	}
	n = tokenize(line, len, toks);
	if (n < 0) {
		errmsg_set(cfg->err, cfg->errlen, "%s:%d: too many words", path,
			   lineno);
		return -EINVAL;
	}
	if (n == 0) {
		return 0;
	}
	if (tok_is(line, &toks[0], "include") && n >= 2) {
		char *pattern = tok_dup(line, &toks[1]);

		r = pattern ? load_glob(cfg, pattern, depth) : -ENOMEM;
		free(pattern);
		return r;
	}
	if (tok_is(line, &toks[0], "confdir")) {
		r = load_confdirs(cfg, line, toks, n, depth);
		if (r == -EINVAL) {
			errmsg_set(cfg->err, cfg->errlen,
				   "%s:%d: confdir needs 1 to %d directories",
				   path, lineno, MAX_CONF_DIRS);
		}
		return r;
	}
	r = ce_parse_refclock_line(line, len, (int)cfg->n_rc, &rc);
	if (r < 0) {
		errmsg_set(cfg->err, cfg->errlen, "%s:%d: refclock directive "
			   "not understood", path, lineno);
		return -EINVAL;
	}
	if (r == 0) {
		return 0;
	}
	rc.file = strdup(path);
	rc.line = lineno;
	if (rc.file == NULL || add_refclock(cfg, &rc) != 0) {
		free(rc.file);
		free(rc.param);
		return -ENOMEM;
	}
	return 0;
}

static int load_text(struct ce_config *cfg, const char *path,
		     const char *data, size_t len, int depth)
{
	size_t start = 0;
	int lineno = 1;
	int ret = 0;

	while (start < len && ret == 0) {
		const char *nl = memchr(data + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - data) : len;

		ret = load_line(cfg, path, lineno, data + start, end - start,
				depth);
		start = end + 1;
		lineno++;
	}
	return ret;
}

static int load_file(struct ce_config *cfg, const char *path, int depth)
{
	char *data;
	size_t len;
	int ret;

	if (depth > CE_MAX_DEPTH) {
		errmsg_set(cfg->err, cfg->errlen,
			   "%s: includes nested more than %d deep", path,
			   CE_MAX_DEPTH);
		return -ELOOP;
	}
	ret = read_file(path, &data, &len);
	if (ret != 0) {
		errmsg_set(cfg->err, cfg->errlen, "cannot read %s: %s", path,
			   strerror(-ret));
		return ret;
	}
	ret = add_file(cfg, path);
	if (ret == 0) {
		ret = load_text(cfg, path, data, len, depth);
	}
	free(data);
	return ret;
}

struct ce_config *ce_load(const char *path, char *err, size_t errlen)
{
	struct ce_config *cfg = calloc(1, sizeof(*cfg));

	if (cfg == NULL) {
		errmsg_set(err, errlen, "out of memory");
		return NULL;
	}
	cfg->err = err;
	cfg->errlen = errlen;
	errmsg_set(err, errlen, "out of memory");
	if (load_file(cfg, path, 0) != 0) {
		ce_free(cfg);
		return NULL;
	}
	cfg->err = NULL;
	return cfg;
}

void ce_free(struct ce_config *cfg)
{
	size_t i;

	if (cfg == NULL) {
		return;
	}
	for (i = 0; i < cfg->n_rc; i++) {
		free(cfg->rc[i].file);
		free(cfg->rc[i].param);
	}
	for (i = 0; i < cfg->n_files; i++) {
		free(cfg->files[i]);
	}
	free(cfg->rc);
	free(cfg->files);
	free(cfg);
}

size_t ce_refclock_count(const struct ce_config *cfg)
{
	return cfg->n_rc;
}

const struct ce_refclock *ce_refclock_at(const struct ce_config *cfg,
					 size_t i)
{
	return i < cfg->n_rc ? &cfg->rc[i] : NULL;
}

size_t ce_file_count(const struct ce_config *cfg)
{
	return cfg->n_files;
}

const struct ce_refclock *ce_find_refid(const struct ce_config *cfg,
					const char *refid)
{
	size_t i;

	for (i = 0; i < cfg->n_rc; i++) {
		if (strncmp(cfg->rc[i].refid, refid, 4) == 0) {
			return &cfg->rc[i];
		}
	}
	return NULL;
}

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (strcmp(a, b) == 0) {
		return true;
	}
	return realpath(a, ra) != NULL && realpath(b, rb) != NULL &&
	       strcmp(ra, rb) == 0;
}

const struct ce_refclock *ce_find_sock(const struct ce_config *cfg,
				       const char *path)
{
	size_t i;

	for (i = 0; i < cfg->n_rc; i++) {
		if (strcmp(cfg->rc[i].driver, "SOCK") == 0 &&
		    same_file(cfg->rc[i].param, path)) {
			return &cfg->rc[i];
		}
	}
	return NULL;
}

void ce_format_offset(double value, char *buf, size_t len)
{
	if (fabs(value) < 5e-7) {
		value = 0.0;
	}
	snprintf(buf, len, "%.6f", value);
}

/* Byte range [*start, *end) of 1-based line `line`; -EINVAL if absent. */
static int find_line(const char *text, size_t len, int line, size_t *start,
		     size_t *end)
{
	size_t pos = 0;
	int n = 1;

	if (line < 1) {
		return -EINVAL;
	}
	while (n < line) {
		const char *nl = memchr(text + pos, '\n', len - pos);

		if (nl == NULL) {
			return -EINVAL;
		}
		pos = (size_t)(nl - text) + 1;
		n++;
	}
	if (pos > len || (pos == len && line > 1)) {
		return -EINVAL;
	}
	*start = pos;
	*end = pos;
	while (*end < len && text[*end] != '\n') {
		(*end)++;
	}
	return 0;
}

/* Splice: text with [cut_start, cut_end) replaced by ins. */
static int splice_text(const char *text, size_t len, size_t cut_start,
		  size_t cut_end, const char *ins, char **out, size_t *outlen)
{
	size_t ilen = strlen(ins);
	size_t n = len - (cut_end - cut_start) + ilen;
	char *buf = malloc(n + 1);

	if (buf == NULL) {
		return -ENOMEM;
	}
	memcpy(buf, text, cut_start);
	memcpy(buf + cut_start, ins, ilen);
	memcpy(buf + cut_start + ilen, text + cut_end, len - cut_end);
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return 0;
}

int ce_edit_offset(const char *text, size_t len, int line, double value,
		   char **out, size_t *outlen)
{
	struct tok toks[MAX_TOKENS];
	struct ce_refclock rc;
	struct rc_walk w;
	size_t ls, le;
	char val[64], ins[80];
	const char *l;
	int n;

	if (find_line(text, len, line, &ls, &le) != 0) {
		return -EINVAL;
	}
	l = text + ls;
	if (ce_parse_refclock_line(l, le - ls, 0, &rc) != 1) {
		return -EINVAL;
	}
	free(rc.param);
	n = tokenize(l, le - ls, toks);
	walk_options(l, toks, n, &w);
	ce_format_offset(value, val, sizeof(val));
	if (w.offset_val >= 0) {
		return splice_text(text, len, ls + toks[w.offset_val].start,
			      ls + toks[w.offset_val].end, val, out, outlen);
	}
	snprintf(ins, sizeof(ins), " offset %s", val);
	return splice_text(text, len, ls + toks[n - 1].end, ls + toks[n - 1].end,
		      ins, out, outlen);
}

/* Fail unless the file and its directory may be replaced: see the header
 * for why a mode without any write bit is refused even to root. */
static int check_writable(const char *path, const char *dir,
			  const struct stat *st, char *err, size_t errlen)
{
	struct stat dst;

	if (!S_ISREG(st->st_mode)) {
		errmsg_set(err, errlen, "%s is not a regular file", path);
		return -EINVAL;
	}
	if ((st->st_mode & 0222) == 0 || access(path, W_OK) != 0) {
		errmsg_set(err, errlen, "%s is read-only (mode %04o): not "
			   "modified", path, (unsigned)(st->st_mode & 07777));
		return -EACCES;
	}
	if (stat(dir, &dst) != 0 || (dst.st_mode & 0222) == 0 ||
	    access(dir, W_OK | X_OK) != 0) {
		errmsg_set(err, errlen, "directory %s is read-only (a new file "
			   "cannot be created beside %s): not modified", dir,
			   path);
		return -EACCES;
	}
	return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		data += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Mode and owner of the old file; chown only when they differ from what
 * the temporary file already has (a non-root user keeps its own files). */
static int copy_attrs(int fd, const struct stat *st)
{
	struct stat now;

	if (fstat(fd, &now) != 0) {
		return -errno;
	}
	if ((now.st_uid != st->st_uid || now.st_gid != st->st_gid) &&
	    fchown(fd, st->st_uid, st->st_gid) != 0) {
		return -errno;
	}
	if (fchmod(fd, st->st_mode & 07777) != 0) {
		return -errno;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) != 0) {
		ret = -errno;
	}
	close(fd);
	return ret;
}

/* Write data to a new file in dir and rename it over target. */
static int replace_file(const char *target, const char *dir,
			const char *data, size_t len, const struct stat *st,
			char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	const char *base = strrchr(target, '/') + 1;
	const char *step = "create";
	int fd, ret;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >=
	    sizeof(tmp)) {
		errmsg_set(err, errlen, "%s: path too long", target);
		return -ENAMETOOLONG;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errmsg_set(err, errlen, "cannot create a file in %s: %s", dir,
			   strerror(-ret));
		return ret;
	}
	step = "write";
	ret = write_all(fd, data, len);
	if (ret == 0) {
		step = "set mode and owner of";
		ret = copy_attrs(fd, st);
	}
	if (ret == 0) {
		step = "fsync";
		ret = fsync(fd) != 0 ? -errno : 0;
	}
	if (close(fd) != 0 && ret == 0) {
		step = "close";
		ret = -errno;
	}
	if (ret == 0 && rename(tmp, target) != 0) {
		step = "rename";
		ret = -errno;
	}
	if (ret != 0) {
		unlink(tmp);
		errmsg_set(err, errlen, "cannot %s %s: %s (%s untouched)", step,
			   tmp, strerror(-ret), target);
		return ret;
	}
	return 0;
}

/* Directory part of an absolute path ("/" for "/x"). */
static void parent_dir(const char *path, char *dir, size_t len)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash != NULL ? (size_t)(slash - path) : 0;

	if (slash == NULL) {
		snprintf(dir, len, ".");
	} else if (n == 0) {
		snprintf(dir, len, "/");
	} else {
		snprintf(dir, len, "%.*s", (int)n, path);
	}
}

int ce_write_atomic(const char *path, const char *data, size_t len,
		    const char *backup_suffix, char *err, size_t errlen)
{
	char real[PATH_MAX], dir[PATH_MAX], bak[PATH_MAX];
	char *old = NULL;
	size_t oldlen = 0;
	struct stat st;
	int ret;

	if (realpath(path, real) == NULL || stat(real, &st) != 0) {
		ret = -errno;
		errmsg_set(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	parent_dir(real, dir, sizeof(dir));
	ret = check_writable(real, dir, &st, err, errlen);
	if (ret != 0) {
		return ret;
	}
	if (backup_suffix != NULL) {
		if ((size_t)snprintf(bak, sizeof(bak), "%s%s", real,
				     backup_suffix) >= sizeof(bak)) {
			errmsg_set(err, errlen, "%s: path too long", real);
			return -ENAMETOOLONG;
		}
		ret = read_file(real, &old, &oldlen);
		if (ret != 0) {
			errmsg_set(err, errlen, "cannot read %s: %s", real,
				   strerror(-ret));
			return ret;
		}
		ret = replace_file(bak, dir, old, oldlen, &st, err, errlen);
		free(old);
		if (ret != 0) {
			return ret;
		}
	}
	ret = replace_file(real, dir, data, len, &st, err, errlen);
	if (ret == 0 && fsync_dir(dir) != 0) {
		ret = -errno;
		errmsg_set(err, errlen, "%s written, but fsync of %s failed: "
			   "%s", real, dir, strerror(errno));
	}
	return ret;
}

/* The line is still the refclock that was found when loading. */
static bool same_refclock(const char *text, size_t len,
			  const struct ce_refclock *rc)
{
	struct ce_refclock now;
	size_t ls, le;
	bool same;

	if (find_line(text, len, rc->line, &ls, &le) != 0 ||
	    ce_parse_refclock_line(text + ls, le - ls, rc->index, &now) != 1) {
		return false;
	}
	same = strcmp(now.driver, rc->driver) == 0 &&
	       strcmp(now.param, rc->param) == 0 &&
	       strcmp(now.refid, rc->refid) == 0;
	free(now.param);
	return same;
}

int ce_set_offset(const struct ce_refclock *rc, double value, char *err,
		  size_t errlen)
{
	char *text = NULL, *out = NULL;
	size_t len, outlen;
	int ret;

	ret = read_file(rc->file, &text, &len);
	if (ret != 0) {
		errmsg_set(err, errlen, "cannot read %s: %s", rc->file,
			   strerror(-ret));
		return ret;
	}
	if (!same_refclock(text, len, rc)) {
		errmsg_set(err, errlen, "%s:%d is no longer the %s refclock "
			   "line (file changed?): not modified", rc->file,
			   rc->line, rc->refid);
		ret = -ESTALE;
	} else {
		ret = ce_edit_offset(text, len, rc->line, value, &out, &outlen);
		if (ret != 0) {
			errmsg_set(err, errlen, "%s:%d: cannot edit: %s",
				   rc->file, rc->line, strerror(-ret));
		}
	}
	if (ret == 0) {
		ret = ce_write_atomic(rc->file, out, outlen, ".bak", err, errlen);
	}
	free(text);
	free(out);
	return ret;
}
