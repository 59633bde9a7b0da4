/* SPDX-License-Identifier: GPL-2.0 */
/* Minimal TAP producer for the unit tests (run under tap-driver.sh). */
#ifndef IB_TAP_H
#define IB_TAP_H

#include <stdio.h>

static int tap_n, tap_failed;

#define ok(cond, ...) do {						\
	int _ok = !!(cond);						\
	printf("%s %d - ", _ok ? "ok" : "not ok", ++tap_n);		\
	printf(__VA_ARGS__);						\
	printf("\n");							\
	if (!_ok) {							\
		tap_failed++;						\
		printf("# failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	}								\
} while (0)

#define tap_done() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif /* IB_TAP_H */
