// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"
#include "util.h"

int argv_push(struct argv *a, const char *arg)
{
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 16;
		char **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -1;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n] = strdup(arg);
	if (!a->v[a->n])
		return -1;
	a->v[++a->n] = NULL;
	return 0;
}

int argv_pushf(struct argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int ret;

	va_start(ap, fmt);
	ret = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (ret < 0)
		return -1;
	ret = argv_push(a, s);
	free(s);
	return ret;
}

void argv_free(struct argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

static bool needs_quoting(const char *s)
{
	if (!*s)
		return true;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%", *s))
			return true;
	return false;
}

char *argv_to_string(char *const v[])
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; v[i]; i++) {
		if (i)
			strbuf_addch(&sb, ' ');
		if (!needs_quoting(v[i])) {
			strbuf_adds(&sb, v[i]);
			continue;
		}
		strbuf_addch(&sb, '\'');
		for (const char *p = v[i]; *p; p++) {
			if (*p == '\'')
				strbuf_adds(&sb, "'\\''");
			else
				strbuf_addch(&sb, *p);
		}
		strbuf_addch(&sb, '\'');
	}
	return strbuf_detach(&sb);
}

static int child_fd(int want, int target)
{
	int fd = want;

	if (want == SPAWN_INHERIT)
		return 0;
	if (want == SPAWN_DEVNULL) {
		fd = open("/dev/null", target == 0 ? O_RDONLY : O_WRONLY);
		if (fd < 0)
			return -1;
	}
	if (fd != target && dup2(fd, target) < 0)
		return -1;
	return 0;
}

pid_t spawn_start(char *const argv[], const struct spawn_opts *opts)
{
	static const struct spawn_opts defaults = SPAWN_OPTS_DEFAULT;
	pid_t parent = getpid();
	int pipefd[2];
	pid_t pid;
	int err;

	if (!opts)
		opts = &defaults;
	if (!opts->quiet && log_get_level() >= LOG_DEBUG) {
		char *cmd = argv_to_string(argv);

		pr_debug("run: %s", cmd ? cmd : argv[0]);
		free(cmd);
	}
	/* A close-on-exec pipe carries exec's errno back to the parent. */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		err = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		setpgid(0, 0);
		/*
		 * A child never outlives us: a killed runner must not leave a
		 * QEMU writing into a run directory that --resume reuses.
		 */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if (child_fd(opts->in_fd, 0) || child_fd(opts->out_fd, 1) ||
		    child_fd(opts->err_fd, 2) ||
		    (opts->cwd && chdir(opts->cwd) < 0))
			goto fail;
		execvp(argv[0], argv);
fail:
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &err, sizeof(err)) == sizeof(err)) {
		close(pipefd[0]);
		waitpid(pid, NULL, 0);
		errno = err;
		return -1;
	}
	close(pipefd[0]);
	return pid;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

int spawn_poll(pid_t pid, int *status)
{
	int st;
	pid_t r = waitpid(pid, &st, WNOHANG);

	if (r < 0)
		return -1;
	if (r == 0)
		return 0;
	*status = decode_status(st);
	return 1;
}

int spawn_kill(pid_t pid, unsigned int grace_ms)
{
	uint64_t deadline = now_ms() + grace_ms;
	int status;

	kill(-pid, SIGTERM);
	while (now_ms() < deadline) {
		int r = spawn_poll(pid, &status);

		if (r)
			return r < 0 ? -1 : status;
		sleep_ms(20);
	}
	kill(-pid, SIGKILL);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return decode_status(status);
}

int spawn_wait(pid_t pid, unsigned int timeout_ms, bool *timed_out)
{
	uint64_t deadline = now_ms() + timeout_ms;
	int status;

	if (timed_out)
		*timed_out = false;
	if (!timeout_ms) {
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				return -1;
		return decode_status(status);
	}
	for (;;) {
		int r = spawn_poll(pid, &status);

		if (r)
			return r < 0 ? -1 : status;
		if (now_ms() >= deadline)
			break;
		sleep_ms(10);
	}
	if (timed_out)
		*timed_out = true;
	return spawn_kill(pid, 2000);
}

int spawn_run(char *const argv[], const struct spawn_opts *opts)
{
	pid_t pid = spawn_start(argv, opts);

	if (pid < 0)
		return -1;
	return spawn_wait(pid, opts ? opts->timeout_ms : 0, NULL);
}

int spawn_to_file(char *const argv[], const struct spawn_opts *opts,
		  const char *path)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	int fd, ret, err;

	if (opts)
		o = *opts;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	o.out_fd = fd;
	ret = spawn_run(argv, &o);
	err = errno;
	if (close(fd) && !ret)
		ret = -1;
	else
		errno = err;
	return ret;
}

int spawn_capture(char *const argv[], const struct spawn_opts *opts,
		  char **out)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	int pipefd[2];
	uint64_t deadline;
	ssize_t n;
	pid_t pid;

	if (opts)
		o = *opts;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -1;
	o.out_fd = pipefd[1];
	pid = spawn_start(argv, &o);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		return -1;
	}
	deadline = now_ms() + o.timeout_ms;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		int wait_ms = -1;

		if (o.timeout_ms) {
			uint64_t now = now_ms();

			if (now >= deadline) {
				close(pipefd[0]);
				*out = strbuf_detach(&sb);
				spawn_kill(pid, 2000);
				errno = ETIMEDOUT;
				return -1;
			}
			wait_ms = deadline - now;
		}
		if (poll(&pfd, 1, wait_ms) <= 0)
			continue;
		n = read(pipefd[0], buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		strbuf_addn(&sb, buf, n);
	}
	close(pipefd[0]);
	*out = strbuf_detach(&sb);
	return spawn_wait(pid, 0, NULL);
}

int spawn_check(char *const argv[], const char *cwd)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *cmd;
	int ret;

	o.cwd = cwd;
	ret = spawn_run(argv, &o);
	if (!ret)
		return 0;
	cmd = argv_to_string(argv);
	pr_err("'%s' failed (%s %d)", cmd ? cmd : argv[0],
	       ret < 0 ? "error" : "exit", ret < 0 ? errno : ret);
	free(cmd);
	return -1;
}

char *spawn_capture_line(char *const argv[], const char *cwd)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *out = NULL, *trimmed;

	o.cwd = cwd;
	o.err_fd = SPAWN_DEVNULL;
	o.quiet = true;
	if (spawn_capture(argv, &o, &out)) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\n")] = '\0';
	trimmed = strtrim(out);
	memmove(out, trimmed, strlen(trimmed) + 1);
	return out;
}
