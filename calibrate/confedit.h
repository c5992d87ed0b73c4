/*
 * confedit.h - find a refclock in chrony's configuration and change its
 * `offset` option in place.
 *
 * Reading follows chronyd (conf.c in chrony 4.x):
 *   - a line's first word is the directive, compared without case; words
 *     are separated by white space (CR included, so CR LF files work);
 *   - a line whose first non-blank character is one of ! ; # % is a
 *     comment (there are no comments after a directive);
 *   - `include PATTERN` reads the files matching the glob pattern, in
 *     glob order, at that point;
 *   - `confdir DIR...` reads DIR/<name>.conf of every directory, sorted by
 *     name, a name present in several directories taken from the first;
 *   - `sourcedir` holds only NTP sources (*.sources), never refclocks, and
 *     is not read;
 *   - `refclock DRIVER PARAM [option...]`: the refid is the `refid`
 *     option's first 4 characters, by default the driver name's first 3
 *     characters followed by the refclock's index (0-based, in reading
 *     order, counting every refclock): "SOC1".  When `offset` is given
 *     more than once the last one counts.
 *
 * Editing changes the bytes of one token and nothing else: the value of
 * the line's last `offset` option, or, when the line has none,
 * " offset VALUE" inserted after its last word (before trailing blanks
 * and the line ending).  Comments, order, other options, tabs, CR LF and
 * a missing final newline are kept as they were.
 *
 * Writing is atomic (see ce_write_atomic).
 */
#ifndef GPSPPS_CONFEDIT_H
#define GPSPPS_CONFEDIT_H

#include <stdbool.h>
#include <stddef.h>

/* Include depth chronyd also refuses to go beyond. */
#define CE_MAX_DEPTH 10
/* Largest configuration file read. */
#define CE_MAX_FILE (4 * 1024 * 1024)

struct ce_refclock {
	char *file;          /* the file holding the line, as opened */
	int line;            /* 1-based line number */
	int index;           /* 0-based refclock index in chronyd's order */
	char driver[16];     /* "SOCK" */
	char *param;         /* driver parameter up to any ':' (a path) */
	char refid[5];       /* effective refid, "NMEA" or "SOC1" */
	bool has_offset;
	double offset;       /* configured offset, 0 when absent */
	bool noselect;
	char lock[5];        /* refid named by a `lock` option, "" without */
};

struct ce_config;

/*
 * Read `path` and the files it includes.  Returns NULL with a message in
 * err (naming the file and line) on an unreadable file, a refclock line
 * that does not parse, or includes nested deeper than CE_MAX_DEPTH.
 */
struct ce_config *ce_load(const char *path, char *err, size_t errlen);
void ce_free(struct ce_config *cfg);

size_t ce_refclock_count(const struct ce_config *cfg);
const struct ce_refclock *ce_refclock_at(const struct ce_config *cfg,
					 size_t i);
/* How many files were read (the top file and those it includes). */
size_t ce_file_count(const struct ce_config *cfg);

/* The refclock whose refid is `refid` (compared on 4 characters), or
 * NULL. */
const struct ce_refclock *ce_find_refid(const struct ce_config *cfg,
					const char *refid);
/* The SOCK refclock reading socket `path` (same string, or the same file
 * once symbolic links are resolved), or NULL. */
const struct ce_refclock *ce_find_sock(const struct ce_config *cfg,
				       const char *path);

/*
 * Parse one line (len bytes, any line ending).  Returns 1 and fills *out
 * (file = NULL, line = 0, index as given) when it is a refclock
 * directive, 0 when it is anything else, -1 when it is a refclock
 * directive that does not parse.  out->param is malloc'ed.
 */
int ce_parse_refclock_line(const char *line, size_t len, int index,
			   struct ce_refclock *out);

/* Format an offset as written into the file ("%.6f", never "-0.000000"). */
void ce_format_offset(double value, char *buf, size_t len);

/*
 * Pure edit: in text (len bytes), set the offset of the refclock directive
 * on 1-based line `line` to `value`.  Returns 0 with a malloc'ed result in
 * *out / *outlen, -EINVAL when that line is not a refclock directive,
 * -ENOMEM.
 */
int ce_edit_offset(const char *text, size_t len, int line, double value,
		   char **out, size_t *outlen);

/*
 * Replace the file at `path` (symbolic links followed) by `data`,
 * atomically: a temporary file in the same directory is written, given the
 * old file's mode and owner, fsync'ed and renamed over the file, then the
 * directory is fsync'ed.  When backup_suffix is not NULL, the previous
 * contents are first saved the same way to path + suffix, with the same
 * mode and owner.  At any moment the file holds either the old or the new
 * contents.
 *
 * Refused, with the file untouched: a file that is not a regular file, has
 * no write permission bit at all (mode 0444: read-only by intent, even for
 * root) or cannot be written by the caller, and a directory in which the
 * caller cannot create files.
 *
 * Returns 0, or a negative errno with a one-line message in err.
 */
int ce_write_atomic(const char *path, const char *data, size_t len,
		    const char *backup_suffix, char *err, size_t errlen);

/*
 * Read rc->file, set the offset on rc->line, write it back with
 * ce_write_atomic (backup suffix ".bak").  The line must still be the
 * refclock (same driver and parameter) else -ESTALE.  Returns 0 or a
 * negative errno with a message in err.
 */
int ce_set_offset(const struct ce_refclock *rc, double value, char *err,
		  size_t errlen);

#endif
