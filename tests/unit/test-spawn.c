// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spawn.h"
#include "tap.h"
#include "util.h"

int main(void)
{
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	char *out = NULL, *q;
	bool timed_out;
	uint64_t t0;
	int ret;

	{
		char *argv[] = { "sh", "-c", "exit 7", NULL };

		ok(spawn_run(argv, NULL) == 7, "exit status is passed through");
	}
	{
		char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };

		ok(spawn_run(argv, NULL) == 128 + 15,
		   "a killed child reports 128 + signal");
	}
	{
		char *argv[] = { "/nonexistent/program", NULL };

		errno = 0;
		ok(spawn_run(argv, NULL) == -1 && errno == ENOENT,
		   "a missing program fails with ENOENT, not exit 127");
	}
	{
		char *argv[] = { "printf", "a\\nb", NULL };

		ok(spawn_capture(argv, NULL, &out) == 0 && !strcmp(out, "a\nb"),
		   "stdout is captured");
		free(out);
	}
	{
		char *argv[] = { "pwd", NULL };

		o.cwd = "/tmp";
		ok(spawn_capture(argv, &o, &out) == 0 && !strcmp(out, "/tmp\n"),
		   "cwd is honoured");
		free(out);
		o.cwd = NULL;
	}
	{
		/* The grandchild shares the group and must die too. */
		char *argv[] = { "sh", "-c", "sleep 30 & sleep 30; :", NULL };
		pid_t pid = spawn_start(argv, NULL);

		t0 = now_ms();
		ret = spawn_wait(pid, 200, &timed_out);
		ok(timed_out && ret == 128 + 15 && now_ms() - t0 < 5000,
		   "timeout kills the process group (status %d)", ret);
	}
	{
		char *argv[] = { "sh", "-c", "echo early; sleep 30", NULL };

		o.timeout_ms = 300;
		t0 = now_ms();
		errno = 0;
		ret = spawn_capture(argv, &o, &out);
		ok(ret == -1 && errno == ETIMEDOUT && now_ms() - t0 < 5000 &&
		   !strcmp(out, "early\n"),
		   "capture with a timeout returns what was printed, then ETIMEDOUT");
		free(out);
		o.timeout_ms = 0;
	}
	{
		char *words[] = { "echo", "it's", "a b", "$HOME", "plain", NULL };
		char *argv[] = { "sh", "-c", NULL, NULL };

		q = argv_to_string(words);
		argv[2] = q;
		ok(spawn_capture(argv, NULL, &out) == 0 &&
		   !strcmp(out, "it's a b $HOME plain\n"),
		   "argv_to_string quotes for the shell: %s", q);
		free(out);
		free(q);
	}
	{
		char *argv[] = { "printf", "to-file", NULL };
		char path[] = "/tmp/ib-test-spawn-XXXXXX";
		int fd = mkstemp(path);
		char *back;

		close(fd);
		ok(spawn_to_file(argv, NULL, path) == 0 &&
		   (back = read_file(path, NULL)) && !strcmp(back, "to-file"),
		   "spawn_to_file writes stdout to the file");
		unlink(path);
		ok(spawn_to_file(argv, NULL, "/nonexistent/dir/f") == -1,
		   "spawn_to_file fails when the file cannot be created");
	}
	{
		char *argv[] = { "sh", "-c", "printf '  first  \\nsecond\\n'", NULL };
		char *bad[] = { "sh", "-c", "echo out; exit 3", NULL };
		char *yes[] = { "true", NULL }, *no[] = { "false", NULL };
		char *line = spawn_capture_line(argv, NULL);

		ok(line && !strcmp(line, "first"),
		   "spawn_capture_line returns the first line, trimmed");
		free(line);
		ok(!spawn_capture_line(bad, NULL),
		   "spawn_capture_line of a failing command is NULL");
		ok(spawn_check(yes, "/tmp") == 0 && spawn_check(no, NULL) == -1,
		   "spawn_check: 0 on success, -1 on failure");
	}
	{
		struct argv a = { 0 };

		for (int i = 0; i < 100; i++)
			argv_pushf(&a, "arg%d", i);
		ok(a.n == 100 && !strcmp(a.v[99], "arg99") && a.v[100] == NULL,
		   "argv grows and stays NULL-terminated");
		argv_free(&a);
	}
	return tap_done();
}
