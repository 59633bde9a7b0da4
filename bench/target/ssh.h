/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The SSH transport: a remote machine named ssh://[user@]host[:port],
 * shell commands run there, and files moved with tar over the same
 * connection (nothing but a POSIX shell and tar is needed on the far side:
 * a busybox guest with dropbear will do).  OpenSSH's client does the
 * work; its configuration (~/.ssh/config, keys, known hosts) applies, and
 * $IOMMUBENCH_SSH replaces the "ssh" command, as GIT_SSH_COMMAND does for
 * git ("ssh -F my-config").
 */
#ifndef IB_SSH_H
#define IB_SSH_H

#include <stdbool.h>

#include "spawn.h"

/* ssh exits with this status when the connection failed or was lost. */
#define SSH_EXIT_CONNECTION	255

struct ssh_target {
	char *url;		/* as given */
	char *login;		/* [user@]host */
	char *host;
	unsigned int port;	/* 0: ssh's default */
};

/* Does @s name an SSH target (starts with "ssh://")? */
bool ssh_is_url(const char *s);
/*
 * ssh_parse - ssh://[user@]host[:port] (host may be [v6addr]); -1 after
 * saying what is wrong with it.
 */
int ssh_parse(const char *url, struct ssh_target *t);
void ssh_free(struct ssh_target *t);

/*
 * ssh_argv - push the ssh command line that runs @script (POSIX sh) on @t
 * onto @a: $IOMMUBENCH_SSH or "ssh", batch mode (no password prompts),
 * a connect timeout and keep-alives so that a dead host is noticed in
 * about 20 s, the port, the login, and the script.
 */
void ssh_argv(const struct ssh_target *t, const char *script, struct argv *a);

/*
 * ssh_run - run @script on @t with @o's file descriptors (stdin /dev/null
 * unless @o says otherwise).  ssh's own complaints go to @o->err_fd as
 * usual, and the last of them is kept in *@why (caller frees; NULL when
 * not wanted) when the status is SSH_EXIT_CONNECTION.  Returns the
 * script's exit status, SSH_EXIT_CONNECTION when the connection failed,
 * or -1 when ssh could not be started.
 */
int ssh_run(const struct ssh_target *t, const char *script,
	    const struct spawn_opts *o, char **why);

/* ssh_capture - ssh_run() with stdout into *@out (caller frees). */
int ssh_capture(const struct ssh_target *t, const char *script, char **out,
		char **why);

/*
 * ssh_put - copy @paths (relative to @localdir; files or directories)
 * into @remotedir on @t, created if needed, keeping the relative paths.
 * ssh_get - the reverse: @paths relative to @remotedir into @localdir;
 * paths that do not exist there are skipped.  Both return 0,
 * SSH_EXIT_CONNECTION when the connection failed, or -1; the reason of a
 * failure is in *@why (caller frees).
 */
int ssh_put(const struct ssh_target *t, const char *localdir,
	    char *const paths[], const char *remotedir, char **why);
int ssh_get(const struct ssh_target *t, const char *remotedir,
	    char *const paths[], const char *localdir, char **why);

/* A string quoted for a POSIX shell (caller frees). */
char *sh_quote(const char *s);

#endif /* IB_SSH_H */
