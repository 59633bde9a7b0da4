// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

int ib_clock_parse(const char *s, struct ib_clock *c)
{
	const char *p;
	char *end;
	unsigned long v;

	if (!s)
		return -1;
	if (!strcmp(s, "host")) {
		*c = (struct ib_clock){ .icount = false };
		return 0;
	}
	if (strncmp(s, "icount", 6))
		return -1;
	p = s + 6;
	if (!*p) {
		*c = (struct ib_clock){ true, IB_ICOUNT_DEFAULT_SHIFT };
		return 0;
	}
	if (*p++ != ':' || *p < '0' || *p > '9')
		return -1;
	v = strtoul(p, &end, 10);
	if (*end || v > IB_ICOUNT_MAX_SHIFT)
		return -1;
	*c = (struct ib_clock){ true, (unsigned int)v };
	return 0;
}

const char *ib_clock_name(const struct ib_clock *c, char *buf, size_t len)
{
	if (c->icount)
		snprintf(buf, len, "icount:%u", c->shift);
	else
		snprintf(buf, len, "host");
	return buf;
}
