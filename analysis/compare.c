// SPDX-License-Identifier: GPL-2.0
/*
 * compare.c - 'iommubench compare': per metric, the median of every
 * configuration with its bootstrap interval and its ratio to a baseline
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "exitcodes.h"
#include "json.h"
#include "log.h"
#include "util.h"

static bool same_block(const struct an_series *a, const struct an_series *b,
		       enum an_dim by)
{
	for (int d = 0; d < AN_NR_DIMS; d++)
		if (d != (int)by && a->dim[d] != b->dim[d])
			return false;
	return true;
}

static uint64_t row_seed(uint64_t seed, const struct an_series *s)
{
	uint64_t h = seed ^ 0xcbf29ce484222325ULL;

	for (int d = 0; d < AN_NR_DIMS; d++)
		for (const char *p = s->dim[d]; *p; p++)
			h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
	return h;
}

int an_compare_build(struct an_dataset *ds, enum an_dim by,
		     const char *baseline, double level, uint64_t seed,
		     struct an_compare *c)
{
	memset(c, 0, sizeof(*c));
	c->by = by;
	c->level = level;
	c->seed = seed;
	if (!baseline && by == AN_POLICY)
		baseline = "strict";
	c->baseline = baseline;
	an_sort(ds, by);
	c->rows = calloc(ds->n ? ds->n : 1, sizeof(*c->rows));
	if (!c->rows)
		return -1;
	for (size_t i = 0; i < ds->n;) {
		const struct an_series *base = NULL;
		size_t j = i;

		while (j < ds->n && same_block(&ds->s[i], &ds->s[j], by))
			j++;
		for (size_t k = i; k < j; k++)
			if (baseline ? !strcmp(ds->s[k].dim[by], baseline) : k == i)
				base = &ds->s[k];
		for (size_t k = i; k < j; k++) {
			struct an_row *r = &c->rows[c->n++];

			r->s = &ds->s[k];
			r->base = base;
			if (stats_median_ci(r->s->v, r->s->n, level,
					    row_seed(seed, r->s), &r->med))
				r->med.est = r->med.lo = r->med.hi = NAN;
			r->ratio.est = r->ratio.lo = r->ratio.hi = NAN;
			if (base && stats_ratio_ci(base->v, base->n, r->s->v,
						   r->s->n, level,
						   row_seed(seed, r->s), &r->ratio))
				r->ratio.est = r->ratio.lo = r->ratio.hi = NAN;
		}
		i = j;
	}
	return 0;
}

void an_compare_free(struct an_compare *c)
{
	free(c->rows);
	memset(c, 0, sizeof(*c));
}

/* "kernel / iommu / workload" minus the compared dimension */
static void block_name(char *buf, size_t len, const struct an_series *s,
		       enum an_dim by)
{
	static const enum an_dim order[] = { AN_KERNEL, AN_IOMMU, AN_POLICY,
					     AN_WORKLOAD };
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		if (order[i] == by)
			continue;
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s",
				off ? ", " : "", s->dim[order[i]]);
	}
}

static void fmt_pct(char *buf, size_t len, double ratio)
{
	if (isnan(ratio))
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, "%+.1f%%", (ratio - 1) * 100);
}

/* "[2.10 µs, 2.23 µs]": an interval in the series' unit */
static const char *fmt_ci(char *buf, size_t len, const struct stats_ci *ci,
			  const struct an_series *s)
{
	char lo[32], hi[32];

	snprintf(buf, len, "[%s, %s]",
		 an_fmt_unit(lo, sizeof(lo), ci->lo, s->unit, s->dim[AN_METRIC]),
		 an_fmt_unit(hi, sizeof(hi), ci->hi, s->unit, s->dim[AN_METRIC]));
	return buf;
}

static const char *direction(const struct an_series *s)
{
	return an_higher_is_better(s->dim[AN_METRIC], s->unit) ? "higher" : "lower";
}

/*
 * Text: one table for the whole output, so the columns line up across
 * blocks whatever the metric names; quantities in their units.
 */
static int print_text(FILE *f, const struct an_compare *c)
{
	const struct an_series *prev = NULL;
	char blk[256] = "", cur[256], med[32], ci[80], rci[48], r1[16], pct[16];
	char level[16];
	struct an_table t;
	int ret;

	snprintf(level, sizeof(level), "%.0f%% CI", c->level * 100);
	an_table_init(&t, "lllrrlrlr");
	for (size_t i = 0; i < c->n; i++) {
		const struct an_row *r = &c->rows[i];
		const struct an_series *s = r->s;
		bool new_metric = !prev || !same_block(prev, s, c->by);
		bool base = s == r->base, noratio = base || isnan(r->ratio.est);

		block_name(cur, sizeof(cur), s, c->by);
		if (!prev || strcmp(blk, cur)) {
			snprintf(blk, sizeof(blk), "%s", cur);
			an_table_line(&t, "%s", "");
			an_table_line(&t, "%s", blk);
			an_table_row(&t);
			an_table_cell(&t, "metric");
			an_table_cell(&t, "better");
			an_table_cell(&t, "%s", an_dim_names[c->by]);
			an_table_cell(&t, "n");
			an_table_cell(&t, "median");
			an_table_cell(&t, "%s", level);
			an_table_cell(&t, "ratio");
			an_table_cell(&t, "%s", level);
			an_table_cell(&t, "change");
		}
		snprintf(r1, sizeof(r1), base ? "base" : noratio ? "-" : "%.3f",
			 r->ratio.est);
		rci[0] = '\0';
		if (!noratio)
			snprintf(rci, sizeof(rci), "[%.3f, %.3f]", r->ratio.lo,
				 r->ratio.hi);
		fmt_pct(pct, sizeof(pct), base ? NAN : r->ratio.est);
		an_table_row(&t);
		an_table_cell(&t, "%s", new_metric ? s->dim[AN_METRIC] : "");
		an_table_cell(&t, "%s", new_metric ? direction(s) : "");
		an_table_cell(&t, "%s", s->dim[c->by]);
		an_table_cell(&t, "%zu", s->n);
		an_table_cell(&t, "%s", an_fmt_unit(med, sizeof(med), r->med.est,
						    s->unit, s->dim[AN_METRIC]));
		an_table_cell(&t, "%s", fmt_ci(ci, sizeof(ci), &r->med, s));
		an_table_cell(&t, "%s", r1);
		an_table_cell(&t, "%s", rci);
		an_table_cell(&t, "%s", pct);
		prev = s;
	}
	ret = an_table_print(&t, f, "  ");
	an_table_free(&t);
	return ret;
}

static void print_md(FILE *f, const struct an_compare *c)
{
	const struct an_series *prev = NULL;
	char blk[256] = "", cur[256], med[32], ci[80], r1[16], pct[16];

	for (size_t i = 0; i < c->n; i++) {
		const struct an_row *r = &c->rows[i];
		const struct an_series *s = r->s;
		bool new_metric = !prev || !same_block(prev, s, c->by);
		bool base = s == r->base, noratio = base || isnan(r->ratio.est);

		block_name(cur, sizeof(cur), s, c->by);
		if (!prev || strcmp(blk, cur)) {
			snprintf(blk, sizeof(blk), "%s", cur);
			fprintf(f, "\n### %s\n\n| metric | %s | n | median | %.0f%% CI | ratio to %s | %.0f%% CI | change |\n"
				"|---|---|---:|---:|---|---:|---|---:|\n",
				blk, an_dim_names[c->by], c->level * 100,
				r->base ? r->base->dim[c->by] : "-",
				c->level * 100);
		}
		snprintf(r1, sizeof(r1), base ? "base" : noratio ? "-" : "%.3f",
			 r->ratio.est);
		fmt_pct(pct, sizeof(pct), base ? NAN : r->ratio.est);
		if (new_metric)
			fprintf(f, "| %s (%s, %s is better) ", s->dim[AN_METRIC],
				s->unit, direction(s));
		else
			fputs("| ", f);
		fprintf(f, "| %s | %zu | %s | %s | %s | ", s->dim[c->by], s->n,
			an_fmt_unit(med, sizeof(med), r->med.est, s->unit,
				    s->dim[AN_METRIC]),
			fmt_ci(ci, sizeof(ci), &r->med, s), r1);
		if (!noratio)
			fprintf(f, "[%.3f, %.3f]", r->ratio.lo, r->ratio.hi);
		fprintf(f, " | %s |\n", pct);
		prev = s;
	}
}

static void csv_field(FILE *f, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\n") != NULL;

	if (q) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
	fputc(last ? '\n' : ',', f);
}

static void csv_num(FILE *f, double v, bool last)
{
	if (isnan(v))
		fputs(last ? "\n" : ",", f);
	else
		fprintf(f, "%.10g%c", v, last ? '\n' : ',');
}

static void print_csv(FILE *f, const struct an_compare *c)
{
	fprintf(f, "kernel,iommu,policy,workload,metric,unit,direction,n,median,ci_lo,ci_hi,baseline,ratio,ratio_lo,ratio_hi\n");
	for (size_t i = 0; i < c->n; i++) {
		const struct an_row *r = &c->rows[i];

		for (int d = 0; d < AN_NR_DIMS; d++)
			csv_field(f, r->s->dim[d], false);
		csv_field(f, r->s->unit, false);
		csv_field(f, an_higher_is_better(r->s->dim[AN_METRIC], r->s->unit) ?
			  "higher-is-better" : "lower-is-better", false);
		fprintf(f, "%zu,", r->s->n);
		csv_num(f, r->med.est, false);
		csv_num(f, r->med.lo, false);
		csv_num(f, r->med.hi, false);
		csv_field(f, r->base ? r->base->dim[c->by] : "", false);
		csv_num(f, r->ratio.est, false);
		csv_num(f, r->ratio.lo, false);
		csv_num(f, r->ratio.hi, true);
	}
}

static struct json_object *jnum(double v)
{
	return isnan(v) || isinf(v) ? NULL : json_object_new_double(v);
}

static int print_json(FILE *f, const struct an_compare *c, const char *run_id)
{
	struct json_object *o = json_object_new_object(), *rows = json_object_new_array();
	int ret;

	json_object_object_add(o, "schema", json_object_new_string("iommubench.compare/1"));
	json_object_object_add(o, "run", json_object_new_string(run_id));
	json_object_object_add(o, "by", json_object_new_string(an_dim_names[c->by]));
	json_object_object_add(o, "baseline", c->baseline ?
			       json_object_new_string(c->baseline) : NULL);
	json_object_object_add(o, "level", json_object_new_double(c->level));
	json_object_object_add(o, "ci_method", json_object_new_string(
		"percentile bootstrap of the median (exact up to 40 values per side)"));
	json_object_object_add(o, "rows", rows);
	for (size_t i = 0; i < c->n; i++) {
		const struct an_row *r = &c->rows[i];
		struct json_object *row = json_object_new_object(), *vals;

		for (int d = 0; d < AN_NR_DIMS; d++)
			json_object_object_add(row, an_dim_names[d],
					       json_object_new_string(r->s->dim[d]));
		json_object_object_add(row, "unit", json_object_new_string(r->s->unit));
		json_object_object_add(row, "higher_is_better", json_object_new_boolean(
			an_higher_is_better(r->s->dim[AN_METRIC], r->s->unit)));
		json_object_object_add(row, "n", json_object_new_int64(r->s->n));
		json_object_object_add(row, "median", jnum(r->med.est));
		json_object_object_add(row, "ci", json_object_new_array());
		json_object_array_add(json_object_object_get(row, "ci"), jnum(r->med.lo));
		json_object_array_add(json_object_object_get(row, "ci"), jnum(r->med.hi));
		json_object_object_add(row, "baseline", r->base ?
			json_object_new_string(r->base->dim[c->by]) : NULL);
		json_object_object_add(row, "ratio", jnum(r->ratio.est));
		json_object_object_add(row, "ratio_ci", json_object_new_array());
		json_object_array_add(json_object_object_get(row, "ratio_ci"), jnum(r->ratio.lo));
		json_object_array_add(json_object_object_get(row, "ratio_ci"), jnum(r->ratio.hi));
		vals = json_object_new_array();
		for (size_t k = 0; k < r->s->n; k++)
			json_object_array_add(vals, json_object_new_double(r->s->v[k]));
		json_object_object_add(row, "values", vals);
		json_object_array_add(rows, row);
	}
	ret = json_print(f, o);
	json_object_put(o);
	return ret;
}

int an_compare_print(FILE *f, const struct an_compare *c, enum an_format fmt,
		     const char *run_id)
{
	switch (fmt) {
	case AN_CSV:
		print_csv(f, c);
		break;
	case AN_JSON:
		return print_json(f, c, run_id);
	case AN_MARKDOWN:
		print_md(f, c);
		break;
	default:
		fprintf(f, "run %s: by %s, baseline %s; median [%.0f%% bootstrap CI], ratio of medians to the baseline [%.0f%% CI]; better: the direction in which the metric improves\n",
			run_id, an_dim_names[c->by],
			c->baseline ? c->baseline : "(first)", c->level * 100,
			c->level * 100);
		if (print_text(f, c))
			return -1;
		break;
	}
	return ferror(f) ? -1 : 0;
}

bool an_metric_selected(const char *metric, char *const *pat, size_t npat)
{
	for (size_t p = 0; p < npat; p++)
		if (!fnmatch(pat[p], metric, 0))
			return true;
	return !npat;
}

int an_filter_metrics(struct an_dataset *ds, char *const *pat, size_t npat)
{
	size_t k = 0;
	int ret = 0;

	for (size_t p = 0; p < npat; p++) {
		bool any = false;

		for (size_t i = 0; i < ds->n && !any; i++)
			any = an_metric_selected(ds->s[i].dim[AN_METRIC], &pat[p], 1);
		if (!any) {
			pr_err("--metric %s: no metric of the run matches", pat[p]);
			ret = -1;
		}
	}
	if (!npat || ret)
		return ret;
	for (size_t i = 0; i < ds->n; i++) {
		if (an_metric_selected(ds->s[i].dim[AN_METRIC], pat, npat))
			ds->s[k++] = ds->s[i];
		else
			free(ds->s[i].v);
	}
	ds->n = k;
	an_sort(ds, AN_POLICY);
	return 0;
}
