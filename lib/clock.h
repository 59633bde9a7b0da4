/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest's clock.  "host": guest time follows the host's wall clock, so
 * a loaded host stretches every measured time.  "icount[:SHIFT]": QEMU
 * counts instructions and guest time is 2^SHIFT ns per instruction
 * (-icount shift=SHIFT,sleep=off,align=off), so a measured time is a count
 * of instructions executed, whatever the host's load (docs/clock.md).
 */
#ifndef IB_CLOCK_H
#define IB_CLOCK_H

#include <stdbool.h>
#include <stddef.h>

/* 1 ns of guest time per instruction: a time reads as an instruction count. */
#define IB_ICOUNT_DEFAULT_SHIFT	0
#define IB_ICOUNT_MAX_SHIFT	10	/* QEMU's own limit */

struct ib_clock {
	bool icount;
	unsigned int shift;	/* icount only */
};

/* "host", "icount" or "icount:N" (0 <= N <= 10); -1 if @s is none of them. */
int ib_clock_parse(const char *s, struct ib_clock *c);
/* The canonical name: "host" or "icount:N", in @buf of at least 16 bytes. */
const char *ib_clock_name(const struct ib_clock *c, char *buf, size_t len);

#endif /* IB_CLOCK_H */
