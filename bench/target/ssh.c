// SPDX-License-Identifier: GPL-2.0
/*
 * The SSH transport (ssh.h): OpenSSH's client runs every command and
 * carries every file; tar packs the files, so the far side needs only a
 * POSIX shell and tar.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"
#include "ssh.h"
#include "util.h"

/* Seconds to open a connection, and to notice a peer that went silent. */
#define SSH_CONNECT_TIMEOUT_S	15
#define SSH_ALIVE_INTERVAL_S	5
#define SSH_ALIVE_COUNT		3

bool ssh_is_url(const char *s)
{
	return s && str_has_prefix(s, "ssh://");
}

void ssh_free(struct ssh_target *t)
{
	free(t->url);
	free(t->login);
	free(t->host);
	memset(t, 0, sizeof(*t));
}

int ssh_parse(const char *url, struct ssh_target *t)
{
	const char *p = url + strlen("ssh://"), *at, *hs, *he, *colon = NULL;
	long long port = 0;

	memset(t, 0, sizeof(*t));
	if (!ssh_is_url(url))
		goto bad;
	if (strchr(p, '/') || !*p)
		goto bad;
	at = strrchr(p, '@');
	hs = at ? at + 1 : p;
	if (at == p)
		goto bad;
	if (*hs == '[') {
		he = strchr(hs, ']');
		if (!he || he == hs + 1)
			goto bad;
		if (he[1] == ':')
			colon = he + 1;
		else if (he[1])
			goto bad;
		t->host = strndup(hs + 1, he - hs - 1);
	} else {
		colon = strchr(hs, ':');
		he = colon ? colon : hs + strlen(hs);
		if (he == hs)
			goto bad;
		t->host = strndup(hs, he - hs);
	}
	if (colon) {
		char *end;

		errno = 0;
		port = strtoll(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
			goto bad;
	}
	t->port = port;
	t->url = strdup(url);
	t->login = at ? xasprintf("%.*s@%s", (int)(at - p), p, t->host) :
		   strdup(t->host);
	if (!t->url || !t->login || !t->host) {
		ssh_free(t);
		return -1;
	}
	return 0;
bad:
	pr_err("'%s' is not ssh://[USER@]HOST[:PORT]", url);
	ssh_free(t);
	return -1;
}

char *sh_quote(const char *s)
{
	char *v[] = { (char *)s, NULL };

	return argv_to_string(v);
}

/* The words of $IOMMUBENCH_SSH, or "ssh", onto @a. */
static void ssh_command(struct argv *a)
{
	const char *cmd = getenv("IOMMUBENCH_SSH");
	char *copy = strdup(cmd && *cmd ? cmd : "ssh"), *tok, *save;

	for (tok = copy ? strtok_r(copy, " \t", &save) : NULL; tok;
	     tok = strtok_r(NULL, " \t", &save))
		argv_push(a, tok);
	free(copy);
	if (!a->n)
		argv_push(a, "ssh");
}

/* What follows the command: options, the login and the script. */
static void ssh_options(const struct ssh_target *t, const char *script,
			struct argv *a)
{
	argv_push(a, "-o");
	argv_push(a, "BatchMode=yes");
	argv_push(a, "-o");
	argv_pushf(a, "ConnectTimeout=%d", SSH_CONNECT_TIMEOUT_S);
	argv_push(a, "-o");
	argv_pushf(a, "ServerAliveInterval=%d", SSH_ALIVE_INTERVAL_S);
	argv_push(a, "-o");
	argv_pushf(a, "ServerAliveCountMax=%d", SSH_ALIVE_COUNT);
	if (t->port) {
		argv_push(a, "-p");
		argv_pushf(a, "%u", t->port);
	}
	argv_push(a, "--");
	argv_push(a, t->login);
	argv_push(a, script);
}

void ssh_argv(const struct ssh_target *t, const char *script, struct argv *a)
{
	ssh_command(a);
	ssh_options(t, script, a);
}

/* A temporary file for ssh's own messages or a tar archive; -1 on error. */
static int tmpfile_fd(char **path)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	*path = xasprintf("%s/iommubench-ssh.XXXXXX", dir && *dir ? dir : "/tmp");
	if (!*path)
		return -1;
	fd = mkostemp(*path, O_CLOEXEC);
	if (fd < 0) {
		pr_err("%s: %s", *path, strerror(errno));
		free(*path);
		*path = NULL;
	}
	return fd;
}

/* The last non-empty line of @text (a copy), or NULL. */
static char *last_line(const char *text)
{
	const char *end = text ? text + strlen(text) : NULL, *start;

	while (end && end > text && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (!end || end == text)
		return NULL;
	start = end;
	while (start > text && start[-1] != '\n')
		start--;
	return strndup(start, end - start);
}

int ssh_run(const struct ssh_target *t, const char *script,
	    const struct spawn_opts *o, char **why)
{
	struct spawn_opts so = SPAWN_OPTS_DEFAULT;
	struct argv a = { 0 };
	char *log = NULL;
	int fd, ret;

	if (why)
		*why = NULL;
	if (o)
		so = *o;
	so.quiet = true;
	fd = tmpfile_fd(&log);
	if (fd < 0)
		return -1;
	close(fd);
	/*
	 * ssh's own messages (not the script's stderr) go to the log: -E
	 * right after the command's first word, before the user's options.
	 */
	{
		struct argv cmd = { 0 };

		ssh_command(&cmd);
		argv_push(&a, cmd.v[0]);
		argv_push(&a, "-E");
		argv_push(&a, log);
		for (size_t i = 1; i < cmd.n; i++)
			argv_push(&a, cmd.v[i]);
		argv_free(&cmd);
	}
	ssh_options(t, script, &a);
	{
		char *line = argv_to_string(a.v);

		pr_debug("ssh: %s", line ? line : "");
		free(line);
	}
	ret = spawn_run(a.v, &so);
	if (ret < 0)
		pr_err("cannot run ssh: %s (install the Debian package openssh-client)",
		       strerror(errno));
	if (ret == SSH_EXIT_CONNECTION) {
		char *text = read_file(log, NULL);
		char *line = last_line(text);

		if (!line)
			line = strdup("the connection failed or closed (ssh exited with 255)");
		if (why)
			*why = line;
		else
			free(line);
		free(text);
	}
	unlink(log);
	free(log);
	argv_free(&a);
	return ret;
}

int ssh_capture(const struct ssh_target *t, const char *script, char **out,
		char **why)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *path = NULL;
	int fd = tmpfile_fd(&path), ret;

	*out = NULL;
	if (fd < 0)
		return -1;
	o.out_fd = fd;
	ret = ssh_run(t, script, &o, why);
	close(fd);
	*out = read_file(path, NULL);
	unlink(path);
	free(path);
	if (!*out) {
		*out = strdup("");
		return *out ? ret : -1;
	}
	return ret;
}

/* "'a' 'b' 'c'" for @paths, quoted for the remote shell. */
static char *quoted_list(char *const paths[])
{
	char *s = argv_to_string(paths);

	return s ? s : strdup("");
}

int ssh_put(const struct ssh_target *t, const char *localdir,
	    char *const paths[], const char *remotedir, char **why)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	struct argv tar = { 0 };
	char *path = NULL, *qdir = sh_quote(remotedir), *script = NULL;
	int fd = tmpfile_fd(&path), ret = -1, st;

	*why = NULL;
	if (fd < 0 || !qdir)
		goto out;
	argv_push(&tar, "tar");
	argv_push(&tar, "-C");
	argv_push(&tar, localdir);
	argv_push(&tar, "-cf");
	argv_push(&tar, "-");
	argv_push(&tar, "--");
	for (size_t i = 0; paths[i]; i++)
		argv_push(&tar, paths[i]);
	o.out_fd = fd;
	o.quiet = true;
	st = spawn_run(tar.v, &o);
	if (st) {
		*why = xasprintf("tar of %s in %s failed (status %d)", paths[0],
				 localdir, st);
		goto out;
	}
	lseek(fd, 0, SEEK_SET);
	script = xasprintf("mkdir -p %s && tar -C %s -xf -", qdir, qdir);
	o = (struct spawn_opts)SPAWN_OPTS_DEFAULT;
	o.in_fd = fd;
	st = ssh_run(t, script, &o, why);
	if (st && !*why)
		*why = xasprintf("unpacking into %s on %s failed (status %d)",
				 remotedir, t->login, st);
	ret = st == SSH_EXIT_CONNECTION ? st : st ? -1 : 0;
out:
	if (fd >= 0)
		close(fd);
	if (path)
		unlink(path);
	free(path);
	free(qdir);
	free(script);
	argv_free(&tar);
	return ret;
}

int ssh_get(const struct ssh_target *t, const char *remotedir,
	    char *const paths[], const char *localdir, char **why)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *path = NULL, *qdir = sh_quote(remotedir), *list = quoted_list(paths);
	char *script = NULL;
	char *tar[] = { "tar", "-C", (char *)localdir, "-xf", NULL, NULL };
	int fd = tmpfile_fd(&path), ret = -1, st;
	struct stat sb;

	*why = NULL;
	if (fd < 0 || !qdir || !list)
		goto out;
	/* only what exists; no archive at all when nothing does */
	script = xasprintf("cd %s || exit 1; set --; for p in %s; do "
			   "[ -e \"$p\" ] && set -- \"$@\" \"$p\"; done; "
			   "[ $# -eq 0 ] || tar -cf - \"$@\"", qdir, list);
	o.out_fd = fd;
	st = ssh_run(t, script, &o, why);
	if (st) {
		if (!*why)
			*why = xasprintf("packing %s on %s failed (status %d)",
					 remotedir, t->login, st);
		if (st == SSH_EXIT_CONNECTION)
			ret = st;
		goto out;
	}
	if (fstat(fd, &sb) || sb.st_size == 0) {
		ret = 0;
		goto out;
	}
	tar[4] = path;
	o = (struct spawn_opts)SPAWN_OPTS_DEFAULT;
	o.quiet = true;
	st = spawn_run(tar, &o);
	if (st)
		*why = xasprintf("unpacking what %s sent into %s failed (status %d)",
				 t->login, localdir, st);
	ret = st ? -1 : 0;
out:
	if (fd >= 0)
		close(fd);
	if (path)
		unlink(path);
	free(path);
	free(qdir);
	free(list);
	free(script);
	return ret;
}
