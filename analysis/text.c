// SPDX-License-Identifier: GPL-2.0
/*
 * text.c - what the text outputs of compare, gate and history share:
 * quantities in units a reader knows (4.02 ms, 8.30k IOPS, 31.2 MB/s)
 * and tables whose columns line up whatever is in them.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "log.h"
#include "util.h"

const char *an_fmt_unit(char *buf, size_t len, double v, const char *unit,
			const char *metric)
{
	if (unit && !strcmp(unit, "ops/s") && metric &&
	    str_has_suffix(metric, ".iops"))
		unit = "IOPS";
	return fmt_unit(buf, len, v, unit);
}

/* --- tables ---------------------------------------------------------------- */

void an_table_init(struct an_table *t, const char *align)
{
	memset(t, 0, sizeof(*t));
	t->align = align;
	t->ncols = strlen(align);
}

void an_table_free(struct an_table *t)
{
	strbuf_release(&t->text);
	free(t->ent);
	memset(t, 0, sizeof(*t));
}

static int table_push(struct an_table *t, bool line, const char *fmt,
		      va_list ap)
{
	struct an_table_ent *e;

	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;

		e = realloc(t->ent, cap * sizeof(*e));
		if (!e)
			return t->err = -1;
		t->ent = e;
		t->cap = cap;
	}
	e = &t->ent[t->n];
	e->off = t->text.len;
	e->line = line;
	e->col = line ? 0 : t->col++;
	if (e->col >= t->ncols) {
		errno = EINVAL;
		return t->err = -1;
	}
	{
		char *s;

		if (vasprintf(&s, fmt, ap) < 0)
			return t->err = -1;
		if (strbuf_addn(&t->text, s, strlen(s) + 1))
			t->err = -1;
		free(s);
	}
	t->n++;
	return t->err;
}

void an_table_row(struct an_table *t)
{
	t->col = 0;
}

int an_table_cell(struct an_table *t, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = table_push(t, false, fmt, ap);
	va_end(ap);
	return ret;
}

int an_table_line(struct an_table *t, const char *fmt, ...)
{
	va_list ap;
	int ret;

	va_start(ap, fmt);
	ret = table_push(t, true, fmt, ap);
	va_end(ap);
	t->col = 0;
	return ret;
}

static void pad(FILE *f, size_t n)
{
	while (n--)
		fputc(' ', f);
}

int an_table_print(struct an_table *t, FILE *f, const char *indent)
{
	size_t *w;

	if (t->err) {
		errno = ENOMEM;
		return -1;
	}
	w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	if (!w)
		return -1;
	for (size_t i = 0; i < t->n; i++) {
		size_t tw;

		if (t->ent[i].line)
			continue;
		tw = str_width(t->text.buf + t->ent[i].off);
		if (tw > w[t->ent[i].col])
			w[t->ent[i].col] = tw;
	}
	for (size_t i = 0; i < t->n;) {
		size_t j = i + 1, last;

		if (t->ent[i].line) {
			fprintf(f, "%s\n", t->text.buf + t->ent[i].off);
			i++;
			continue;
		}
		while (j < t->n && !t->ent[j].line && t->ent[j].col)
			j++;
		/* the last cell that prints anything: no trailing blanks */
		last = i;
		for (size_t k = i; k < j; k++)
			if (t->text.buf[t->ent[k].off])
				last = k;
		fputs(indent, f);
		for (size_t k = i; k <= last; k++) {
			const struct an_table_ent *e = &t->ent[k];
			const char *s = t->text.buf + e->off;
			size_t gap = w[e->col] - str_width(s);
			bool right = t->align[e->col] == 'r';

			if (k > i)
				fputs("  ", f);
			/* columns skipped by a short row */
			for (size_t c = k > i ? t->ent[k - 1].col + 1 : 0;
			     c < e->col; c++) {
				pad(f, w[c]);
				fputs("  ", f);
			}
			if (right)
				pad(f, gap);
			fputs(s, f);
			if (!right && k < last)
				pad(f, gap);
		}
		fputc('\n', f);
		i = j;
	}
	free(w);
	return ferror(f) ? -1 : 0;
}

int an_stdout_done(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	pr_err("standard output: %s", errno ? strerror(errno) : "write error");
	return -1;
}
