// SPDX-License-Identifier: GPL-2.0
/*
 * Messages go to stderr as "prog: text"; warnings say so. Errors are
 * always printed, info only at the default level or above, debug with -v.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

static const char *log_prog = "iommubench";
static enum log_level log_level = LOG_INFO;
static char log_first[512];
static bool log_first_set;

const char *log_swap_prog(const char *prog)
{
	const char *old = log_prog;

	log_prog = prog;
	return old;
}

void log_init(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	log_prog = slash ? slash + 1 : prog;
}

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	if (level == LOG_ERR && !log_first_set) {
		va_start(ap, fmt);
		vsnprintf(log_first, sizeof(log_first), fmt, ap);
		va_end(ap);
		log_first_set = true;
	}
	fprintf(stderr, "%s: %s", log_prog, level == LOG_WARN ? "warning: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void log_mark(void)
{
	log_first_set = false;
}

const char *log_first_error(void)
{
	return log_first_set ? log_first : NULL;
}
