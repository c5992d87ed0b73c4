/* chronyc_run.c - see chronyc_run.h. */
#include "chronyc_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "timeutil.h"

#define MAX_ARGS CR_MAX_ARGS

struct stream {
	int fd;
	char *buf;
	size_t len;
};

static void child_exec(const char *command, const char *const *args,
		       int out_fd, int err_fd)
{
	char script[4096];
	const char *argv[MAX_ARGS + 5];
	int i, n = 0;

	snprintf(script, sizeof(script), "exec %s \"$@\"", command);
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = script;
	argv[n++] = "gpspps-calibrate";
	for (i = 0; args[i] != NULL && i < MAX_ARGS; i++) {
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	if (dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0) {
		_exit(127);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	execv("/bin/sh", (char *const *)argv);
	_exit(127);
}

/* Read what is there; returns 1 at end of file, 0 otherwise. */
static int drain(struct stream *s)
{
	char tmp[4096];
	ssize_t r = read(s->fd, tmp, sizeof(tmp));
	size_t keep;

	if (r < 0) {
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	}
	if (r == 0) {
		return 1;
	}
	keep = (size_t)r;
	if (s->len + keep > CR_OUT_MAX) {
		keep = CR_OUT_MAX - s->len;
	}
	memcpy(s->buf + s->len, tmp, keep);
	s->len += keep;
	return 0;
}

/* Collect both streams until both close or the deadline passes. */
static int collect(struct stream *s, int64_t deadline)
{
	bool open[2] = { true, true };

	while (open[0] || open[1]) {
		struct pollfd pfd[2];
		int64_t left = deadline - tu_now(CLOCK_MONOTONIC);
		int i, r;

		if (left <= 0) {
			return -ETIMEDOUT;
		}
		for (i = 0; i < 2; i++) {
			pfd[i].fd = open[i] ? s[i].fd : -1;
			pfd[i].events = POLLIN;
		}
		r = poll(pfd, 2, (int)(left / TU_NS_PER_MS) + 1);
		if (r < 0 && errno != EINTR) {
			return -errno;
		}
		for (i = 0; i < 2 && r > 0; i++) {
			if (open[i] && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) {
				open[i] = drain(&s[i]) == 0;
			}
		}
	}
	return 0;
}

static int wait_child(pid_t pid, int killed)
{
	int st;

	if (killed) {
		kill(pid, SIGKILL);
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			return -1;
		}
	}
	if (WIFEXITED(st)) {
		return WEXITSTATUS(st);
	}
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

static int make_pipes(int p[2][2])
{
	if (pipe2(p[0], O_CLOEXEC) != 0) {
		return -errno;
	}
	if (pipe2(p[1], O_CLOEXEC) != 0) {
		int ret = -errno;

		close(p[0][0]);
		close(p[0][1]);
		return ret;
	}
	return 0;
}

int cr_run(const char *command, const char *const *args, int timeout_ms,
	   struct cr_output *out)
{
	struct stream s[2];
	int p[2][2];
	pid_t pid;
	int ret, i;

	memset(out, 0, sizeof(*out));
	for (i = 0; args[i] != NULL; i++) {
		if (i == MAX_ARGS) {
			return -E2BIG;
		}
	}
	ret = make_pipes(p);
	if (ret != 0) {
		return ret;
	}
	pid = fork();
	if (pid == 0) {
		child_exec(command, args, p[0][1], p[1][1]);
	}
	ret = pid < 0 ? -errno : 0;
	for (i = 0; i < 2; i++) {
		close(p[i][1]);
		s[i].fd = p[i][0];
		s[i].len = 0;
		s[i].buf = malloc(CR_OUT_MAX + 1);
	}
	if (ret == 0 && (s[0].buf == NULL || s[1].buf == NULL)) {
		ret = -ENOMEM;
	}
	if (ret == 0) {
		int64_t deadline = tu_now(CLOCK_MONOTONIC) +
				   (int64_t)timeout_ms * TU_NS_PER_MS;

		out->timed_out = collect(s, deadline) == -ETIMEDOUT;
	}
	if (pid > 0) {
		out->status = wait_child(pid, out->timed_out || ret != 0);
	}
	for (i = 0; i < 2; i++) {
		close(s[i].fd);
		if (s[i].buf != NULL) {
			s[i].buf[s[i].len] = '\0';
		}
	}
	out->out = s[0].buf;
	out->out_len = s[0].len;
	out->err = s[1].buf;
	out->err_len = s[1].len;
	if (ret != 0) {
		cr_output_free(out);
	}
	return ret;
}

void cr_output_free(struct cr_output *out)
{
	free(out->out);
	free(out->err);
	out->out = out->err = NULL;
	out->out_len = out->err_len = 0;
}
