// SPDX-License-Identifier: GPL-2.0
/*
 * The SSH transport's names (bench/target/ssh.c): ssh://[USER@]HOST[:PORT]
 * into the login and port ssh gets, everything else refused; and the
 * ssh command line, with $IOMMUBENCH_SSH's words first.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "log.h"
#include "ssh.h"
#include "tap.h"

static void good(const char *url, const char *login, unsigned int port)
{
	struct ssh_target t;
	int ret = ssh_parse(url, &t);

	ok(!ret && !strcmp(t.login, login) && t.port == port,
	   "%s: login %s, port %u (got %s, %u)", url, login, port,
	   ret ? "error" : t.login, ret ? 0 : t.port);
	if (!ret)
		ssh_free(&t);
}

static void bad(const char *url)
{
	struct ssh_target t;
	char *err;
	int ret;

	capture_begin();
	ret = ssh_parse(url, &t);
	err = capture_end();
	ok(ret == -1 && strstr(err, "is not ssh://[USER@]HOST[:PORT]"),
	   "%s is refused, saying what is expected", url);
	free(err);
}

int main(void)
{
	struct ssh_target t;
	struct argv a = { 0 };
	char *line;

	good("ssh://lab7", "lab7", 0);
	good("ssh://root@127.0.0.1:2222", "root@127.0.0.1", 2222);
	good("ssh://bench@[::1]:22", "bench@::1", 22);
	good("ssh://[fe80::1]", "fe80::1", 0);
	bad("ssh://");
	bad("ssh://host:");
	bad("ssh://host:0");
	bad("ssh://host:65536");
	bad("ssh://host:22x");
	bad("ssh://@host");
	bad("ssh://host/path");
	bad("ssh://[::1");
	bad("http://host");
	ok(ssh_is_url("ssh://h") && !ssh_is_url("host") && !ssh_is_url(NULL),
	   "ssh_is_url: only ssh:// names");

	setenv("IOMMUBENCH_SSH", "ssh -F my config", 1);
	ssh_parse("ssh://u@h:2200", &t);
	ssh_argv(&t, "echo 'x y'", &a);
	line = argv_to_string(a.v);
	ok(line && !strcmp(line, "ssh -F my config -o BatchMode=yes -o ConnectTimeout=15 "
			   "-o ServerAliveInterval=5 -o ServerAliveCountMax=3 "
			   "-p 2200 -- u@h 'echo '\\''x y'\\'''"),
	   "ssh_argv: $IOMMUBENCH_SSH's words, batch mode, keep-alives, the port, the script as one word (%s)",
	   line ? line : "");
	free(line);
	argv_free(&a);
	ssh_free(&t);
	return tap_done();
}
