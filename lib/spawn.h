/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one process spawner: every external program iommubench runs (apt-get,
 * dpkg-deb, depmod, cpio, qemu, fio ...) goes through here, so timeouts,
 * process groups, output capture and the logged command line are handled
 * the same way everywhere.
 */
#ifndef IB_SPAWN_H
#define IB_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* A growable, NULL-terminated argument vector. */
struct argv {
	char **v;
	size_t n;
	size_t cap;
};

int argv_push(struct argv *a, const char *arg);
int argv_pushf(struct argv *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void argv_free(struct argv *a);
/* Shell-quoted rendering of @v for logs and reproduction; caller frees. */
char *argv_to_string(char *const v[]);

#define SPAWN_INHERIT	(-1)
#define SPAWN_DEVNULL	(-2)

struct spawn_opts {
	const char *cwd;		/* NULL: current directory */
	int in_fd;			/* SPAWN_INHERIT, SPAWN_DEVNULL or an fd */
	int out_fd;
	int err_fd;
	unsigned int timeout_ms;	/* spawn_run() only; 0: no limit */
	bool quiet;			/* do not echo the command at debug level */
};

#define SPAWN_OPTS_DEFAULT { .in_fd = SPAWN_DEVNULL, \
			     .out_fd = SPAWN_INHERIT, .err_fd = SPAWN_INHERIT }

/*
 * spawn_start - start @argv[0] (looked up in PATH) in its own process group.
 * The child is killed if the calling process dies (PR_SET_PDEATHSIG).
 * Returns the pid, or -1 with errno set.
 */
pid_t spawn_start(char *const argv[], const struct spawn_opts *opts);

/*
 * spawn_wait - reap @pid.  @timeout_ms 0 waits forever; otherwise the whole
 * process group is sent SIGTERM at the deadline and SIGKILL 2 s later, and
 * *@timed_out is set.  Returns the exit status, 128 + signal number for a
 * killed child, or -1 with errno set.
 */
int spawn_wait(pid_t pid, unsigned int timeout_ms, bool *timed_out);

/* spawn_poll - non-blocking reap: 1 and *@status when exited, 0 if running. */
int spawn_poll(pid_t pid, int *status);

/* spawn_kill - SIGTERM the group, SIGKILL after @grace_ms, then reap. */
int spawn_kill(pid_t pid, unsigned int grace_ms);

/* spawn_run - start and wait; returns as spawn_wait(). */
int spawn_run(char *const argv[], const struct spawn_opts *opts);

/*
 * spawn_to_file - run @argv with stdout written to @path (created or
 * truncated, mode 0644).  Returns as spawn_wait(); -1 if @path cannot be
 * opened.
 */
int spawn_to_file(char *const argv[], const struct spawn_opts *opts,
		  const char *path);

/*
 * spawn_capture - run @argv with stdout captured into *@out (NUL-terminated,
 * caller frees); stderr is inherited.  Past @opts->timeout_ms the group is
 * killed and -1 returned with errno ETIMEDOUT.  Returns as spawn_wait().
 */
int spawn_capture(char *const argv[], const struct spawn_opts *opts, char **out);

/*
 * spawn_check - run @argv in @cwd (NULL: here); on failure say which
 * command failed and how, and return -1.  0 on success.
 */
int spawn_check(char *const argv[], const char *cwd);

/*
 * spawn_capture_line - the first line of @argv's stdout (run in @cwd),
 * trimmed, or NULL if it fails; stderr is discarded.  Caller frees.
 */
char *spawn_capture_line(char *const argv[], const char *cwd);

#endif /* IB_SPAWN_H */
