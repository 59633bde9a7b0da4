// SPDX-License-Identifier: GPL-2.0
/* analysis/text.c: humanised quantities and aligned columns */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "tap.h"

static void test_units(void)
{
	static const struct {
		double v;
		const char *unit, *metric, *want;
	} cases[] = {
		{ 16.4e6, "ns", "trace.exposure.lazy.p99", "16.4 ms" },
		{ 4.02e6, "ns", "fio.read.clat_p50", "4.02 ms" },
		{ 2180, "ns", "dmabench.map.p50", "2.18 \xc2\xb5s" },
		{ 899, "ns", "dmabench.map.p50", "899 ns" },
		{ 81, "ns", "dmabench.map.min", "81 ns" },
		{ 0, "ns", "exposure.delay", "0 ns" },
		{ 999.7, "ns", "dmabench.map.p50", "1.00 \xc2\xb5s" },
		{ 1.5e9, "ns", "x", "1.50 s" },
		{ 7620, "ops/s", "fio.read.iops", "7.62k IOPS" },
		{ 176000, "ops/s", "dmabench.map.rate", "176k ops/s" },
		{ 31.2e6, "B/s", "fio.read.bw", "31.2 MB/s" },
		{ 12, "calls/s", "trace.fq_flush.timer_rate", "12.0 calls/s" },
		{ NAN, "ns", "x", "-" },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		an_fmt_unit(buf, sizeof(buf), cases[i].v, cases[i].unit,
			    cases[i].metric);
		ok(!strcmp(buf, cases[i].want), "%g %s (%s) reads \"%s\": \"%s\"",
		   cases[i].v, cases[i].unit, cases[i].metric, cases[i].want, buf);
	}
}

/* display columns of @s up to @stop (or the end) */
static size_t cols_to(const char *s, const char *stop)
{
	size_t w = 0;

	for (; *s && s != stop; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void test_table(void)
{
	struct an_table t;
	char *buf = NULL, *l1, *l2, *l3;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	an_table_init(&t, "llr");
	an_table_line(&t, "title");
	an_table_row(&t);
	an_table_cell(&t, "metric");
	an_table_cell(&t, "policy");
	an_table_cell(&t, "median");
	an_table_row(&t);
	an_table_cell(&t, "trace.exposure.strict.p50");
	an_table_cell(&t, "strict");
	an_table_cell(&t, "899 ns");
	an_table_row(&t);
	an_table_cell(&t, "a");
	an_table_cell(&t, "lazy");
	an_table_cell(&t, "2.18 \xc2\xb5s");
	an_table_row(&t);
	an_table_cell(&t, "b");
	an_table_cell(&t, "%s", "");
	an_table_print(&t, f, "  ");
	an_table_free(&t);
	fclose(f);
	printf("# %s", buf);
	ok(!strncmp(buf, "title\n", 6), "a line between rows prints as is");
	l1 = strchr(buf, '\n') + 1;
	l2 = strchr(l1, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	ok(cols_to(l1, strstr(l1, " policy") + 1) == cols_to(l2, strstr(l2, " strict") + 1) &&
	   cols_to(l2, strstr(l2, " strict") + 1) == cols_to(l3, strstr(l3, " lazy") + 1),
	   "a long first column moves the next one for every row");
	ok(cols_to(l1, strchr(l1, '\n')) == cols_to(l2, strchr(l2, '\n')) &&
	   cols_to(l2, strchr(l2, '\n')) == cols_to(l3, strchr(l3, '\n')),
	   "right-aligned numbers end in one column, \xc2\xb5 counted as one");
	ok(strstr(buf, "  b\n") != NULL, "no trailing blanks after the last cell");
	free(buf);
}

int main(void)
{
	test_units();
	test_table();
	return tap_done();
}
