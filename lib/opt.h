/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One command-line convention for every program and subcommand.
 *
 * A command describes its options in a table of struct opt, terminated by
 * OPT_END(); opt_parse() parses argv with getopt_long against it, checks
 * every value (numbers are numbers and within range, choices are one of
 * theirs), generates the usage text from the table, and answers --help and
 * --version itself.  An error names the bad word and ends with
 * "Try 'PROG --help'.".  Exit codes are those of exitcodes.h: 0 after
 * --help and --version, EXIT_USAGE after a usage error.
 *
 * Subcommands ("iommubench kernel fetch") are dispatched by subcmd_run()
 * from a table of struct subcmd, with the same conventions.
 */
#ifndef IB_OPT_H
#define IB_OPT_H

#include <stdbool.h>
#include <stddef.h>

enum opt_kind {
	OPTK_END,
	OPTK_GROUP,	/* a heading in the usage text */
	OPTK_BOOL,	/* bool *, set to true */
	OPTK_STRING,	/* const char **, the last one given wins */
	OPTK_STRINGS,	/* struct argv *, repeatable */
	OPTK_INT,	/* int *, within [min, max] */
	OPTK_UINT,	/* unsigned int *, within [min, max] */
	OPTK_U64,	/* unsigned long long *, within [min, max] */
	OPTK_DOUBLE,	/* double *, within [dmin, dmax] */
	OPTK_CHOICE,	/* int *: index into choices[] (NULL-terminated) */
	OPTK_CALLBACK,	/* cb(opt, arg): 0, or -1 after saying why */
	OPTK_CALLBACK_FLAG, /* cb(opt, NULL): a flag with a rule of its own */
};

struct opt {
	enum opt_kind kind;
	int short_name;			/* 0: long only */
	const char *long_name;
	void *value;
	const char *argh;		/* the argument's name in the usage */
	const char *help;
	long long min, max;
	double dmin, dmax;
	const char *const *choices;
	int (*cb)(const struct opt *opt, const char *arg);
};

#define OPT_END()	{ .kind = OPTK_END }
#define OPT_GROUP(h)	{ .kind = OPTK_GROUP, .help = (h) }
#define OPT_BOOL(s, l, v, h) \
	{ .kind = OPTK_BOOL, .short_name = (s), .long_name = (l), \
	  .value = (v), .help = (h) }
#define OPT_STRING(s, l, v, a, h) \
	{ .kind = OPTK_STRING, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h) }
#define OPT_STRINGS(s, l, v, a, h) \
	{ .kind = OPTK_STRINGS, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h) }
#define OPT_INT(s, l, v, a, h, lo, hi) \
	{ .kind = OPTK_INT, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h), .min = (lo), .max = (hi) }
#define OPT_UINT(s, l, v, a, h, lo, hi) \
	{ .kind = OPTK_UINT, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h), .min = (lo), .max = (hi) }
#define OPT_U64(s, l, v, a, h, lo, hi) \
	{ .kind = OPTK_U64, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h), .min = (lo), .max = (hi) }
#define OPT_DOUBLE(s, l, v, a, h, lo, hi) \
	{ .kind = OPTK_DOUBLE, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h), .dmin = (lo), .dmax = (hi) }
#define OPT_CHOICE(s, l, v, a, h, names) \
	{ .kind = OPTK_CHOICE, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h), .choices = (names) }
#define OPT_CALLBACK(s, l, v, a, h, fn) \
	{ .kind = OPTK_CALLBACK, .short_name = (s), .long_name = (l), \
	  .value = (v), .argh = (a), .help = (h), .cb = (fn) }
#define OPT_CALLBACK_FLAG(s, l, v, h, fn) \
	{ .kind = OPTK_CALLBACK_FLAG, .short_name = (s), .long_name = (l), \
	  .value = (v), .help = (h), .cb = (fn) }

/* Positional arguments: any number. */
#define OPT_ARGS_ANY	(-1)

struct subcmd;

struct opt_cmd {
	const char *name;		/* "iommubench gate", for messages */
	const char *const *usage;	/* synopsis lines, NULL-terminated */
	const char *about;		/* one paragraph after the synopsis, or NULL */
	const struct opt *opts;
	int min_args;			/* positional arguments allowed */
	int max_args;			/* or OPT_ARGS_ANY */
	const char *args_name;		/* the positionals, for "X is missing" */
	bool stop_at_arg;		/* options end at the first positional */
	const char *footer;		/* text after the options, or NULL */
	const struct subcmd *subs;	/* subcommands, for subcmd_run() */
	size_t nsubs;
	int version_short;		/* a short flag for --version, or 0 */
	const char *version;		/* the --version line, or NULL:
					 * "NAME PACKAGE_VERSION" */
	/*
	 * given - called after each option of @opts is stored, in the order
	 * given, for the rules between options ("--ops and --duration
	 * exclude each other") that a value alone cannot tell.  Optional.
	 */
	void (*given)(const struct opt *opt);
};

#define OPT_HELP	(-1)	/* --help or --version answered */
#define OPT_ERROR	(-2)	/* a usage error, already reported */

/*
 * opt_parse - parse @argv[1..] against @cmd.  Returns the index in @argv
 * of the first positional argument (== @argc when there is none), or
 * OPT_HELP / OPT_ERROR.  opt_exit() turns the latter into an exit status.
 */
int opt_parse(const struct opt_cmd *cmd, int argc, char **argv);
int opt_exit(int ret);

/*
 * opt_usage_error - report a usage error of @cmd found after parsing
 * ("needs --device"), with the "Try ... --help" line.  Returns EXIT_USAGE.
 */
int opt_usage_error(const struct opt_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Print the usage text of @cmd to stdout. */
void opt_usage(const struct opt_cmd *cmd);

/* The integer in @s, all of it, within [min, max]; -1 after saying why. */
int opt_parse_ll(const char *what, const char *s, long long min,
		 long long max, long long *out);
/* The real number in @s, all of it, finite, within [min, max]; likewise. */
int opt_parse_double(const char *what, const char *s, double min, double max,
		     double *out);

struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;		/* NULL: hidden */
};

/*
 * subcmd_run - run the subcommand of @cmd (one of @cmd->subs) named by
 * @argv[1], with argv shifted so that its argv[0] is its name.  Answers
 * --help/-h and --version, and names an unknown or missing subcommand.
 */
int subcmd_run(const struct opt_cmd *cmd, int argc, char **argv);

#endif /* IB_OPT_H */
