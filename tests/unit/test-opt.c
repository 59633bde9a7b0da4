// SPDX-License-Identifier: GPL-2.0
/* The one option parser: values, ranges, choices, errors, --help. */
#include "config.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcodes.h"
#include "opt.h"
#include "spawn.h"
#include "tap.h"

static bool flag;
static const char *str;
static unsigned int count;
static double ratio;
static int mode;
static struct argv list;
static int lean, exact;

/* --lean and --exact: one or the other, as a flag's own rule */
static int one_of(const struct opt *o, const char *arg)
{
	int *other = o->value == &lean ? &exact : &lean;

	if (arg || *other) {
		fprintf(stderr, "--lean and --exact: one or the other\n");
		return -1;
	}
	(*(int *)o->value)++;
	return 0;
}

static const char *const modes[] = { "single", "sg", "batch", NULL };

static const struct opt opts[] = {
	OPT_BOOL('f', "flag", &flag, "a flag"),
	OPT_STRING('s', "string", &str, "S", "a string"),
	OPT_GROUP("Numbers:"),
	OPT_UINT('n', "count", &count, "N", "a count", 1, 100),
	OPT_DOUBLE(0, "ratio", &ratio, "R", "a ratio", 0.0, 1.0),
	OPT_CHOICE('m', "mode", &mode, "MODE", "a mode", modes),
	OPT_STRINGS(0, "item", &list, "X", "an item"),
	OPT_CALLBACK_FLAG('l', "lean", &lean, "lean, not exact", one_of),
	OPT_CALLBACK_FLAG(0, "exact", &exact, "exact, not lean", one_of),
	OPT_END(),
};

static const char *const usage[] = { "test-opt [options] ARG...", NULL };
static const struct opt_cmd cmd = {
	.name = "test-opt", .usage = usage, .opts = opts,
	.min_args = 1, .max_args = 2,
};

/* the same table with a -V for --version, its own line, and a hook */
static char given[64];

static void note_given(const struct opt *o)
{
	size_t n = strlen(given);

	if (n + 2 < sizeof(given))
		snprintf(given + n, sizeof(given) - n, "%c",
			 o->short_name ? o->short_name : '-');
}

static const struct opt_cmd cmd_v = {
	.name = "test-opt", .usage = usage, .opts = opts,
	.min_args = 1, .max_args = 2,
	.version_short = 'V', .version = "test-opt 1.2 (ABI 7)",
	.given = note_given,
};

static const struct opt_cmd *pcmd = &cmd;
static char err[4096], out[4096];

/* Parse the NULL-terminated words with stdout and stderr captured. */
static int parse(const char *first, ...)
{
	char *argv[32] = { "test-opt" };
	int argc = 1, ret, saved_out, saved_err;
	FILE *fo = tmpfile(), *fe = tmpfile();
	va_list ap;
	size_t n;

	va_start(ap, first);
	for (const char *w = first; w; w = va_arg(ap, const char *))
		argv[argc++] = (char *)w;
	va_end(ap);
	flag = false;
	str = NULL;
	count = 0;
	ratio = -1;
	mode = -1;
	lean = exact = 0;
	given[0] = '\0';
	argv_free(&list);
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	ret = opt_parse(pcmd, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	rewind(fo);
	rewind(fe);
	n = fread(out, 1, sizeof(out) - 1, fo);
	out[n] = '\0';
	n = fread(err, 1, sizeof(err) - 1, fe);
	err[n] = '\0';
	fclose(fo);
	fclose(fe);
	return ret;
}

int main(void)
{
	int i;

	i = parse("-f", "--string", "x", "-n", "7", "--ratio", "0.25",
		  "--mode", "sg", "--item", "a", "--item", "b", "arg", NULL);
	ok(i == 14 && flag && str && !strcmp(str, "x") && count == 7 &&
	   ratio == 0.25 && mode == 1, "every kind of option is stored");
	ok(list.n == 2 && !strcmp(list.v[0], "a") && !strcmp(list.v[1], "b"),
	   "a repeatable option keeps every value in order");

	i = parse("arg", "-n", "3", NULL);
	ok(i == 3 && count == 3, "options may follow arguments (permuted to the front)");

	ok(parse("--help", NULL) == OPT_HELP && strstr(out, "usage: test-opt") &&
	   strstr(out, "--count N") && strstr(out, "--mode single|sg|batch") &&
	   strstr(out, "Numbers:") && strstr(out, "--version") && !err[0],
	   "--help prints the generated usage to stdout");
	ok(opt_exit(OPT_HELP) == 0 && opt_exit(OPT_ERROR) == EXIT_USAGE,
	   "--help exits 0, a usage error 2");
	ok(parse("--version", NULL) == OPT_HELP &&
	   !strncmp(out, "test-opt " PACKAGE_VERSION, strlen("test-opt ")),
	   "--version prints the name and version");

	ok(parse("--bogus", "arg", NULL) == OPT_ERROR &&
	   strstr(err, "test-opt: unknown option '--bogus'") &&
	   strstr(err, "Try 'test-opt --help'."),
	   "an unknown long option is named, with the Try line");
	ok(parse("-z", "arg", NULL) == OPT_ERROR && strstr(err, "'-z'"),
	   "an unknown short option is named");
	ok(parse("arg", "--string", NULL) == OPT_ERROR &&
	   strstr(err, "'--string' needs an argument"),
	   "a missing option argument is named");
	ok(parse("-n", "abc", "arg", NULL) == OPT_ERROR &&
	   strstr(err, "--count: 'abc' is not a whole number"),
	   "a number that is not one is refused");
	ok(parse("-n", "12x", "arg", NULL) == OPT_ERROR &&
	   parse("-n", "", "arg", NULL) == OPT_ERROR &&
	   parse("-n", " 5", "arg", NULL) == OPT_ERROR &&
	   parse("-n", "-1", "arg", NULL) == OPT_ERROR,
	   "trailing junk, empty, spaces and signs are refused");
	ok(parse("-n", "101", "arg", NULL) == OPT_ERROR &&
	   strstr(err, "out of range (1-100)"),
	   "a number out of range says the range");
	ok(parse("--ratio", "1.5", "arg", NULL) == OPT_ERROR &&
	   parse("--ratio", "nan", "arg", NULL) == OPT_ERROR,
	   "a real number out of range or not finite is refused");
	ok(parse("--mode", "fast", "arg", NULL) == OPT_ERROR &&
	   strstr(err, "'fast' is not one of single, sg, batch"),
	   "a choice names the valid ones");
	ok(parse(NULL) == OPT_ERROR && strstr(err, "an argument is missing"),
	   "a missing argument is said");
	ok(parse("a", "b", "c", NULL) == OPT_ERROR &&
	   strstr(err, "unexpected argument 'c'"),
	   "an extra argument is named");
	ok(parse("-l", "arg", NULL) == 2 && lean == 1 && !exact &&
	   parse("--exact", "arg", NULL) == 2 && exact == 1,
	   "a flag with a callback takes no argument and calls it");
	ok(parse("--lean", "--exact", "arg", NULL) == OPT_ERROR &&
	   strstr(err, "one or the other") && strstr(err, "Try 'test-opt --help'."),
	   "a flag's callback refuses it, with the Try line");
	ok(parse("--lean=yes", "arg", NULL) == OPT_ERROR,
	   "a flag with a callback given an argument is refused");
	ok(parse("--help", NULL) == OPT_HELP && strstr(out, "-l, --lean    ") &&
	   !strstr(out, "--lean ARG"),
	   "the usage shows a flag with a callback without an argument");
	ok(opt_usage_error(&cmd, "needs --%s", "device") == EXIT_USAGE,
	   "a front-end's own usage error is 2");

	ok(parse("-V", "arg", NULL) == OPT_ERROR && strstr(err, "'-V'"),
	   "without version_short, -V is no option");
	pcmd = &cmd_v;
	ok(parse("-V", NULL) == OPT_HELP && !strcmp(out, "test-opt 1.2 (ABI 7)\n") &&
	   parse("--version", NULL) == OPT_HELP &&
	   !strcmp(out, "test-opt 1.2 (ABI 7)\n"),
	   "version_short and version: -V and --version print the command's line");
	ok(parse("--help", NULL) == OPT_HELP && strstr(out, "-V, --version"),
	   "the usage shows the short flag of --version");
	ok(parse("-n", "3", "--exact", "arg", "-f", NULL) == 5 &&
	   !strcmp(given, "n-f"),
	   "the hook sees every option given, in order");
	ok(parse("-f", "-n", "0", "arg", NULL) == OPT_ERROR &&
	   !strcmp(given, "f"),
	   "the hook does not see an option that was refused");
	pcmd = &cmd;
	argv_free(&list);
	return tap_done();
}
