/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ctl_client.h - the client side of gpsppsd's status socket (protocol in
 * gpsppsd(8)): one request line, "status" or "watch", answered by JSON
 * objects, one per line.  Nothing here blocks longer than the timeout
 * given.
 */
#ifndef GPSPPS_CTL_CLIENT_H
#define GPSPPS_CTL_CLIENT_H

#include <stddef.h>

#include <jansson.h>

/*
 * Ask for one status object.  Returns 0 with *out set (the caller
 * json_decref()s it), or a negative errno with a line in err that names
 * the fix: -ENOENT (gpsppsd not running, or its status-socket is none or
 * elsewhere: --socket), -EACCES (not root, not in group adm or gpspps),
 * -ECONNREFUSED (a stale socket of a stopped gpsppsd), -ETIMEDOUT, -EPROTO
 * (an answer that is not the schema's JSON).
 */
int ctl_client_status(const char *path, int timeout_ms, json_t **out,
		      char *err, size_t errlen);

/* As ctl_client_status, and *line (when not NULL) the object's text as
 * gpsppsd sent it, without the newline (the caller free()s it). */
int ctl_client_status_raw(const char *path, int timeout_ms, json_t **out,
			  char **line, char *err, size_t errlen);

struct ctl_client_watch;

/* Open a "watch" stream; NULL with err set as for ctl_client_status. */
struct ctl_client_watch *ctl_client_watch_open(const char *path, int timeout_ms,
					       char *err, size_t errlen);
/* The next object (about one a second).  Returns 0 with *out set, or a
 * negative errno (-EPIPE: gpsppsd closed the stream). */
int ctl_client_watch_next(struct ctl_client_watch *w, int timeout_ms,
			  json_t **out, char *err, size_t errlen);
/* The text of the object ctl_client_watch_next last returned, as gpsppsd sent
 * it (no newline); valid until the next call. */
const char *ctl_client_watch_line(const struct ctl_client_watch *w);
void ctl_client_watch_close(struct ctl_client_watch *w);

#endif
