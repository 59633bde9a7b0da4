/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Diagnostics for every iommubench program: one prefix, one verbosity knob.
 */
#ifndef IB_LOG_H
#define IB_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_NONE = -1,	/* nothing, not even errors */
	LOG_ERR,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

void log_init(const char *prog);
/* Prefix messages with @prog (a static string) from now on; the old one back. */
const char *log_swap_prog(const char *prog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * log_first_error - the first error printed since log_mark(), without the
 * program prefix, or NULL when none was: for a caller that records why an
 * operation failed (a cell's "error") instead of leaving it to the log.
 * Errors silenced by the level are not counted.  Valid until the next
 * log_mark().
 */
void log_mark(void);
const char *log_first_error(void);

#define pr_err(...)	log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)

#endif /* IB_LOG_H */
