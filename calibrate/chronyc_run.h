/*
 * chronyc_run.h - run chronyc (or the command given with --chronyc) and
 * capture what it prints.
 *
 * The command is a shell command line ("chronyc", "chronyc -h 192.0.2.1",
 * "ssh gps chronyc"); the arguments are appended safely, as
 *   /bin/sh -c 'exec COMMAND "$@"' gpspps-calibrate ARG...
 * so that COMMAND may use shell quoting while the arguments are never
 * re-parsed.
 */
#ifndef GPSPPS_CHRONYC_RUN_H
#define GPSPPS_CHRONYC_RUN_H

#include <stddef.h>

/* Arguments accepted after the command; more is refused (-E2BIG), never
 * cut: a command run without its last arguments does something else. */
#define CR_MAX_ARGS 64

/* Output kept per stream; more is read and discarded. */
#define CR_OUT_MAX (256 * 1024)

struct cr_output {
	char *out;          /* stdout, NUL-terminated, malloc'ed */
	size_t out_len;
	char *err;          /* stderr, NUL-terminated, malloc'ed */
	size_t err_len;
	int status;         /* exit status, or 128 + signal, or -1 */
	int timed_out;      /* killed after timeout_ms */
};

/*
 * Run `command` with the NULL-terminated args.  Waits at most timeout_ms,
 * then kills the child (SIGKILL) and reaps it.  Returns 0 when the command
 * ran (whatever its exit status; see out->status), or a negative errno
 * when it could not be started (-E2BIG: more than CR_MAX_ARGS args).
 * Free with cr_output_free.
 */
int cr_run(const char *command, const char *const *args, int timeout_ms,
	   struct cr_output *out);
void cr_output_free(struct cr_output *out);

#endif
