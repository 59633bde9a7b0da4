// SPDX-License-Identifier: GPL-2.0
/*
 * The option parser and subcommand dispatcher of every program: see opt.h.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcodes.h"
#include "log.h"
#include "opt.h"
#include "spawn.h"
#include "util.h"

#define OPT_MAX		64	/* options of one command, help included */
#define HELP_COLUMN	26
#define HELP_WIDTH	79

static const struct opt opt_help_entry = OPT_BOOL('h', "help", NULL,
						   "show this help and exit");
static const struct opt opt_version_entry = OPT_BOOL(0, "version", NULL,
						     "print the version and exit");

/* The command whose line is being parsed, for the messages' prefix. */
static const char *cur_name = PACKAGE_NAME;

static void opt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void opt_err(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cur_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void try_help(const struct opt_cmd *cmd)
{
	fprintf(stderr, "Try '%s --help'.\n", cmd->name);
}

int opt_usage_error(const struct opt_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	try_help(cmd);
	return EXIT_USAGE;
}

int opt_exit(int ret)
{
	return ret == OPT_HELP ? EXIT_OK : EXIT_USAGE;
}

/* Whether @o takes an argument ("--alpha X") or is a flag ("--fdr"). */
static bool takes_arg(const struct opt *o)
{
	return o->kind != OPTK_BOOL && o->kind != OPTK_CALLBACK_FLAG;
}

/* Whether a choice's values are short enough to stand for its argument. */
static bool choices_fit(const struct opt *o)
{
	size_t len = 0;

	for (size_t i = 0; o->choices[i]; i++)
		len += strlen(o->choices[i]) + 1;
	return len <= 24;
}

/* "-k, --kernel SPEC" as the usage text shows it. */
static void opt_label(const struct opt *o, struct strbuf *sb)
{
	if (o->short_name)
		strbuf_addf(sb, "-%c, ", o->short_name);
	else
		strbuf_adds(sb, "    ");
	strbuf_addf(sb, "--%s", o->long_name);
	if (o->kind == OPTK_CHOICE && choices_fit(o)) {
		for (size_t i = 0; o->choices[i]; i++)
			strbuf_addf(sb, "%c%s", i ? '|' : ' ', o->choices[i]);
	} else if (takes_arg(o)) {
		strbuf_addf(sb, " %s", o->argh ? o->argh : "ARG");
	}
}

/* Print @text from HELP_COLUMN on, wrapped at HELP_WIDTH, and a newline. */
static void print_wrapped(const char *text)
{
	size_t col = HELP_COLUMN;

	while (*text) {
		size_t n = strcspn(text, " ");

		if (col > HELP_COLUMN && col + 1 + n > HELP_WIDTH) {
			printf("\n%*s", HELP_COLUMN, "");
			col = HELP_COLUMN;
		} else if (col > HELP_COLUMN) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)n, text);
		col += n;
		text += n;
		text += strspn(text, " ");
	}
	putchar('\n');
}

static void opt_usage_line(const struct opt *o)
{
	struct strbuf sb = STRBUF_INIT;

	if (o->kind == OPTK_GROUP) {
		printf("\n%s\n", o->help);
		return;
	}
	opt_label(o, &sb);
	printf("  %s", sb.buf);
	if (sb.len + 2 >= HELP_COLUMN)
		printf("\n%*s", HELP_COLUMN, "");
	else
		printf("%*s", (int)(HELP_COLUMN - sb.len - 2), "");
	strbuf_release(&sb);
	strbuf_adds(&sb, o->help ? o->help : "");
	if (o->kind == OPTK_STRINGS)
		strbuf_adds(&sb, " (repeatable)");
	print_wrapped(sb.buf ? sb.buf : "");
	if (o->kind == OPTK_CHOICE && !choices_fit(o)) {
		strbuf_release(&sb);
		strbuf_addf(&sb, "%s: ", o->argh ? o->argh : "ARG");
		for (size_t i = 0; o->choices[i]; i++)
			strbuf_addf(&sb, "%s%s", i ? ", " : "", o->choices[i]);
		printf("%*s", HELP_COLUMN, "");
		print_wrapped(sb.buf);
	}
	strbuf_release(&sb);
}

void opt_usage(const struct opt_cmd *cmd)
{
	struct opt version;

	for (size_t i = 0; cmd->usage && cmd->usage[i]; i++)
		printf("%s %s\n", i ? "   or:" : "usage:", cmd->usage[i]);
	if (cmd->about)
		printf("\n%s\n", cmd->about);
	printf("\n");
	for (const struct opt *o = cmd->opts; o && o->kind != OPTK_END; o++)
		opt_usage_line(o);
	opt_usage_line(&opt_help_entry);
	version = opt_version_entry;
	version.short_name = cmd->version_short;
	opt_usage_line(&version);
	if (cmd->nsubs) {
		printf("\nsubcommands:\n");
		for (size_t i = 0; i < cmd->nsubs; i++)
			if (cmd->subs[i].help)
				printf("  %-12s %s\n", cmd->subs[i].name,
				       cmd->subs[i].help);
	}
	if (cmd->footer)
		printf("\n%s\n", cmd->footer);
}

int opt_parse_ll(const char *what, const char *s, long long min,
		 long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (!*s || *end || errno == ERANGE || (*s == '-' && min >= 0) ||
	    s[0] == ' ' || s[0] == '+') {
		opt_err("%s: '%s' is not a whole number", what, s);
		return -1;
	}
	if (v < min || v > max) {
		opt_err("%s: %s is out of range (%lld-%lld)", what, s, min,
			     max);
		return -1;
	}
	*out = v;
	return 0;
}

int opt_parse_double(const char *what, const char *s, double min, double max,
		     double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno == ERANGE || !isfinite(v) || s[0] == ' ') {
		opt_err("%s: '%s' is not a number", what, s);
		return -1;
	}
	if (v < min || v > max) {
		opt_err("%s: %s is out of range (%g-%g)", what, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Store @arg into @o's value; -1 after saying what is wrong. */
static int opt_store(const struct opt *o, const char *arg, const char *what)
{
	long long ll;
	double d;

	switch (o->kind) {
	case OPTK_BOOL:
		*(bool *)o->value = true;
		return 0;
	case OPTK_STRING:
		*(const char **)o->value = arg;
		return 0;
	case OPTK_STRINGS:
		return argv_push(o->value, arg);
	case OPTK_INT:
		if (opt_parse_ll(what, arg, o->min, o->max, &ll))
			return -1;
		*(int *)o->value = (int)ll;
		return 0;
	case OPTK_UINT:
		if (opt_parse_ll(what, arg, o->min, o->max, &ll))
			return -1;
		*(unsigned int *)o->value = (unsigned int)ll;
		return 0;
	case OPTK_U64:
		if (opt_parse_ll(what, arg, o->min, o->max, &ll))
			return -1;
		*(unsigned long long *)o->value = (unsigned long long)ll;
		return 0;
	case OPTK_DOUBLE:
		if (opt_parse_double(what, arg, o->dmin, o->dmax, &d))
			return -1;
		*(double *)o->value = d;
		return 0;
	case OPTK_CHOICE:
		for (int i = 0; o->choices[i]; i++) {
			if (!strcmp(o->choices[i], arg)) {
				*(int *)o->value = i;
				return 0;
			}
		}
		{
			struct strbuf sb = STRBUF_INIT;

			for (size_t i = 0; o->choices[i]; i++)
				strbuf_addf(&sb, "%s%s", i ? ", " : "",
					    o->choices[i]);
			opt_err("%s: '%s' is not one of %s", what, arg,
				     sb.buf);
			strbuf_release(&sb);
		}
		return -1;
	case OPTK_CALLBACK:
		return o->cb(o, arg);
	case OPTK_CALLBACK_FLAG:
		return o->cb(o, NULL);
	case OPTK_END:
	case OPTK_GROUP:
		break;
	}
	return -1;
}

/* The word of argv that getopt_long just refused, for the message. */
static const char *bad_word(int argc, char **argv)
{
	int i = optind - 1;

	if (i < 1 || i >= argc)
		i = argc - 1;
	return argv[i];
}

/* getopt_long's view of a command's table, and the way back to it. */
struct opt_getopt {
	struct option longopts[OPT_MAX + 1];
	const struct opt *table[OPT_MAX];	/* by longopts[].val - 256 */
	size_t n;
	struct strbuf shorts;
};

#define OPT_VAL_VERSION	(256 + OPT_MAX)

static void opt_getopt_add(struct opt_getopt *g, const struct opt *o,
			   int val)
{
	g->table[g->n] = o;
	g->longopts[g->n++] = (struct option){
		.name = o->long_name,
		.has_arg = takes_arg(o) ? required_argument : no_argument,
		.val = val,
	};
	if (o->short_name)
		strbuf_addf(&g->shorts, "%c%s", o->short_name,
			    takes_arg(o) ? ":" : "");
}

/* Fill @g from @cmd's table, --help and --version. */
static void opt_getopt_init(struct opt_getopt *g, const struct opt_cmd *cmd)
{
	g->n = 0;
	g->shorts = (struct strbuf)STRBUF_INIT;
	strbuf_adds(&g->shorts, cmd->stop_at_arg ? "+:" : ":");
	for (const struct opt *o = cmd->opts; o && o->kind != OPTK_END; o++) {
		if (o->kind == OPTK_GROUP)
			continue;
		if (g->n + 2 >= OPT_MAX) {
			fprintf(stderr, "%s: more than %d options in its table\n",
				cmd->name, OPT_MAX - 2);
			abort();
		}
		opt_getopt_add(g, o, 256 + (int)g->n);
	}
	opt_getopt_add(g, &opt_help_entry, 'h');
	opt_getopt_add(g, &opt_version_entry, OPT_VAL_VERSION);
	if (cmd->version_short)
		strbuf_addf(&g->shorts, "%c", cmd->version_short);
	g->longopts[g->n] = (struct option){ 0 };
}

/* The option getopt_long() returned as @c, or NULL. */
static const struct opt *opt_getopt_find(const struct opt_getopt *g, int c)
{
	if (c >= 256 && c < 256 + (int)g->n)
		return g->table[c - 256];
	for (size_t i = 0; i < g->n; i++)
		if (g->table[i]->short_name == c)
			return g->table[i];
	return NULL;
}

/* Whether the positionals from @argv[optind] on are as many as @cmd takes. */
static bool opt_args_ok(const struct opt_cmd *cmd, int argc, char **argv)
{
	if (argc - optind < cmd->min_args) {
		if (cmd->args_name)
			opt_err("%s is missing", cmd->args_name);
		else
			opt_err("%s", cmd->min_args == 1 && argc == optind ?
				"an argument is missing" : "too few arguments");
		return false;
	}
	if (cmd->max_args != OPT_ARGS_ANY && argc - optind > cmd->max_args) {
		opt_err("unexpected argument '%s'", argv[optind + cmd->max_args]);
		return false;
	}
	return true;
}

/* Store the option getopt_long() returned as @c: 0, or -1 after saying why. */
static int opt_take(const struct opt_cmd *cmd, const struct opt_getopt *g,
		    int c, int argc, char **argv)
{
	const struct opt *o;
	const char *prog;
	char what[64];
	int err;

	if (c == '?') {
		if (optopt)
			opt_err("unknown option '-%c'", optopt);
		else
			opt_err("unknown option '%s'", bad_word(argc, argv));
		return -1;
	}
	if (c == ':') {
		opt_err("option '%s' needs an argument", bad_word(argc, argv));
		return -1;
	}
	o = opt_getopt_find(g, c);
	if (!o)
		return -1;
	snprintf(what, sizeof(what), "--%s", o->long_name);
	/* a callback's pr_err() speaks for the command too */
	prog = log_swap_prog(cmd->name);
	err = opt_store(o, optarg, what);
	log_swap_prog(prog);
	if (!err && cmd->given)
		cmd->given(o);
	return err;
}

int opt_parse(const struct opt_cmd *cmd, int argc, char **argv)
{
	struct opt_getopt g;
	int ret = OPT_ERROR, c;

	cur_name = cmd->name;
	opt_getopt_init(&g, cmd);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, g.shorts.buf, g.longopts,
				NULL)) != -1) {
		if (c == 'h') {
			opt_usage(cmd);
			ret = OPT_HELP;
			goto out;
		}
		if (c == OPT_VAL_VERSION ||
		    (cmd->version_short && c == cmd->version_short)) {
			if (cmd->version)
				printf("%s\n", cmd->version);
			else
				printf("%s %s\n", cmd->name, PACKAGE_VERSION);
			ret = OPT_HELP;
			goto out;
		}
		if (opt_take(cmd, &g, c, argc, argv))
			goto usage;
	}
	if (!opt_args_ok(cmd, argc, argv))
		goto usage;
	ret = optind;
	goto out;
usage:
	try_help(cmd);
out:
	strbuf_release(&g.shorts);
	return ret;
}

int subcmd_run(const struct opt_cmd *cmd, int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	cur_name = cmd->name;
	if (!name)
		return opt_usage_error(cmd, "a command is missing");
	if (!strcmp(name, "-h") || !strcmp(name, "--help")) {
		opt_usage(cmd);
		return EXIT_OK;
	}
	if (!strcmp(name, "--version")) {
		printf("%s %s\n", cmd->name, PACKAGE_VERSION);
		return EXIT_OK;
	}
	for (size_t i = 0; i < cmd->nsubs; i++)
		if (!strcmp(name, cmd->subs[i].name))
			return cmd->subs[i].fn(argc - 1, argv + 1);
	if (name[0] == '-')
		return opt_usage_error(cmd, "unknown option '%s'", name);
	return opt_usage_error(cmd, "'%s' is not a command", name);
}
