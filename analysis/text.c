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

/* three significant digits, trailing zeros kept: 4.00, 40.0, 400 */
static void sig3(char *buf, size_t len, double v, const char *sfx)
{
	double a = fabs(v);

	snprintf(buf, len, a >= 99.95 ? "%.0f%s" : a >= 9.995 ? "%.1f%s" :
		 "%.2f%s", v, sfx);
}

/* @v scaled by the first of @div (descending) that it reaches */
static void scaled(char *buf, size_t len, double v, const double *div,
		   const char *const *name, size_t n)
{
	size_t i = 0;

	while (i + 1 < n && fabs(v) < div[i] * 0.9995)
		i++;
	sig3(buf, len, v / div[i], name[i]);
}

const char *an_fmt_unit(char *buf, size_t len, double v, const char *unit,
			const char *metric)
{
	static const double t_div[] = { 1e9, 1e6, 1e3, 1 };
	static const char *const t_name[] = { " s", " ms", " \xc2\xb5s", " ns" };
	static const double b_div[] = { 1e12, 1e9, 1e6, 1e3, 1 };
	static const char *const b_name[] = { " TB/s", " GB/s", " MB/s",
					      " kB/s", " B/s" };
	static const double si_div[] = { 1e12, 1e9, 1e6, 1e3, 1 };

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (unit && !strcmp(unit, "ns")) {
		scaled(buf, len, v, t_div, t_name, ARRAY_SIZE(t_div));
		return buf;
	}
	if (unit && !strcmp(unit, "B/s")) {
		scaled(buf, len, v, b_div, b_name, ARRAY_SIZE(b_div));
		return buf;
	}
	if (unit && !strcmp(unit, "ops/s") && metric &&
	    str_has_suffix(metric, ".iops"))
		unit = "IOPS";
	{
		static const char *const pre[] = { "T", "G", "M", "k", "" };
		const char *names[ARRAY_SIZE(pre)];
		char tmp[ARRAY_SIZE(pre)][40];

		for (size_t i = 0; i < ARRAY_SIZE(pre); i++) {
			snprintf(tmp[i], sizeof(tmp[i]), "%s%s%s", pre[i],
				 unit && *unit ? " " : "", unit ? unit : "");
			names[i] = tmp[i];
		}
		scaled(buf, len, v, si_div, names, ARRAY_SIZE(si_div));
	}
	return buf;
}

/* --- tables ---------------------------------------------------------------- */

/* columns on screen: UTF-8 continuation bytes take none */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

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
		tw = text_width(t->text.buf + t->ent[i].off);
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
			size_t gap = w[e->col] - text_width(s);
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
