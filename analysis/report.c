// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - 'iommubench report': one self-contained HTML file (plots
 * inlined as data: URIs, tables, provenance from the manifest) and a
 * Markdown summary next to it; also the end-of-run summary of
 * 'iommubench run'.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "exitcodes.h"

static int base64_file(FILE *f, const char *path)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t len;
	unsigned char *d = (unsigned char *)read_file(path, &len);

	if (!d)
		return -1;
	for (size_t i = 0; i < len; i += 3) {
		unsigned int v = d[i] << 16 | (i + 1 < len ? d[i + 1] << 8 : 0) |
				 (i + 2 < len ? d[i + 2] : 0);

		fputc(tab[v >> 18 & 63], f);
		fputc(tab[v >> 12 & 63], f);
		fputc(i + 1 < len ? tab[v >> 6 & 63] : '=', f);
		fputc(i + 2 < len ? tab[v & 63] : '=', f);
	}
	free(d);
	return 0;
}

static const char *jstr(struct json_object *o, const char *path)
{
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok && o; tok = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, tok, &o))
			return NULL;
	return o && !json_object_is_type(o, json_type_null) ?
	       json_object_get_string(o) : NULL;
}

/* a policy (or other configuration) name in its colour, as in the plots */
static void html_config(FILE *f, const char *name)
{
	fprintf(f, "<span class=\"cfg\"><i style=\"background:%s\"></i>",
		an_policy_colour(name));
	fput_markup(f, name);
	fputs("</span>", f);
}

static void html_qty(FILE *f, double v, const struct an_series *s)
{
	char buf[32];

	fput_markup(f, an_fmt_unit(buf, sizeof(buf), v, s->unit,
				   s->dim[AN_METRIC]));
}

/* better (1), worse (-1) or no clear change (0): the ratio's interval */
static int verdict(const struct an_row *r)
{
	bool hi = an_higher_is_better(r->s->dim[AN_METRIC], r->s->unit);

	if (hi ? r->ratio.lo > 1 : r->ratio.hi < 1)
		return 1;
	if (hi ? r->ratio.hi < 1 : r->ratio.lo > 1)
		return -1;
	return 0;
}

static const char *const verdict_class[] = { "bad", "same", "good" };
static const char *const verdict_word[] = { "worse", "no clear change", "better" };

static void html_table(FILE *f, const struct an_compare *c)
{
	const struct an_series *prev = NULL;

	for (size_t i = 0; i < c->n; i++) {
		const struct an_row *r = &c->rows[i];
		const struct an_series *s = r->s;
		bool newblk = !prev, newmet;

		for (int k = 0; prev && k < AN_METRIC; k++)
			if (k != (int)c->by && prev->dim[k] != s->dim[k])
				newblk = true;
		newmet = newblk || prev->dim[AN_METRIC] != s->dim[AN_METRIC];
		if (newblk) {
			if (prev)
				fputs("</tbody></table>\n", f);
			fputs("<h3>", f);
			for (int k = 0, first = 1; k < AN_METRIC; k++) {
				if (k == (int)c->by)
					continue;
				fputs(first ? "" : ", ", f);
				fput_markup(f, s->dim[k]);
				first = 0;
			}
			fprintf(f, "</h3>\n<table class=\"all\"><thead><tr><th>metric</th><th>%s</th><th>n</th>"
				"<th>median</th><th>%.0f%% CI</th><th>ratio to ",
				an_dim_names[c->by], c->level * 100);
			fput_markup(f, r->base ? r->base->dim[c->by] : "-");
			fprintf(f, "</th><th>%.0f%% CI</th><th>change</th></tr></thead><tbody>\n",
				c->level * 100);
		}
		fprintf(f, "<tr%s><td>", newmet ? " class=\"first\"" : "");
		if (newmet) {
			fput_markup(f, s->dim[AN_METRIC]);
			fprintf(f, " <span class=\"unit\">%s</span>",
				an_higher_is_better(s->dim[AN_METRIC], s->unit) ?
				"&uarr;" : "&darr;");
		}
		fputs("</td><td>", f);
		html_config(f, s->dim[c->by]);
		fprintf(f, "</td><td>%zu</td><td>", s->n);
		html_qty(f, r->med.est, s);
		fputs("</td><td>[", f);
		html_qty(f, r->med.lo, s);
		fputs(", ", f);
		html_qty(f, r->med.hi, s);
		fputs("]</td>", f);
		if (s == r->base || isnan(r->ratio.est))
			fprintf(f, "<td>%s</td><td></td><td></td></tr>\n",
				s == r->base ? "baseline" : "-");
		else
			fprintf(f, "<td>%.3f</td><td>[%.3f, %.3f]</td><td class=\"%s\">%+.1f%%</td></tr>\n",
				r->ratio.est, r->ratio.lo, r->ratio.hi,
				verdict_class[verdict(r) + 1],
				(r->ratio.est - 1) * 100);
		prev = s;
	}
	if (prev)
		fputs("</tbody></table>\n", f);
}

/* --- the headline: per workload, the metrics that answer the question ----- */

/*
 * The metrics of the headline, in this order, where a block has them:
 * throughput and typical and tail latency of each workload type.  A
 * block with none of them shows its first metrics instead.
 */
static const struct {
	const char *pat;
	const char *label;
} headline_metrics[] = {
	{ "fio.*.iops", "%s IOPS" },
	{ "fio.*.clat_p50", "%s completion latency, median" },
	{ "fio.*.clat_p99", "%s completion latency, p99" },
	{ "dmabench.map.rate", "maps per second (each with its unmap)" },
	{ "dmabench.map.p50", "dma_map latency, median" },
	{ "dmabench.unmap.p50", "dma_unmap latency, median" },
	{ "dmabench.unmap.p99", "dma_unmap latency, p99" },
};

#define HEADLINE_FALLBACK	3

/**
 * struct hl - one row of the headline
 * @r: the configuration's row of the comparison
 * @label: what the metric measures, for a reader
 * @span: rows of this metric (on its first row), 0 on the others
 * @block: the first row of a block
 */
struct hl {
	const struct an_row *r;
	char label[64];
	size_t span;
	bool block;
};

static bool block_same(const struct an_compare *c, const struct an_series *a,
		       const struct an_series *b)
{
	for (int d = 0; d < AN_METRIC; d++)
		if (d != (int)c->by && a->dim[d] != b->dim[d])
			return false;
	return true;
}

/* the rows [@k, end) of the metric at @k with a ratio; returns end */
static size_t metric_rows(const struct an_compare *c, size_t k, size_t j,
			  struct hl *out, size_t *n, const char *label)
{
	const char *metric = c->rows[k].s->dim[AN_METRIC];
	size_t first = *n;

	for (; k < j && c->rows[k].s->dim[AN_METRIC] == metric; k++) {
		const struct an_row *r = &c->rows[k];

		if (r->s == r->base || isnan(r->ratio.est))
			continue;
		out[*n].r = r;
		snprintf(out[*n].label, sizeof(out[*n].label), "%s", label);
		out[*n].span = 0;
		out[*n].block = false;
		(*n)++;
	}
	if (*n > first)
		out[first].span = *n - first;
	return k;
}

static void metric_label(char *buf, size_t len, const char *fmt,
			 const char *metric)
{
	char dir[16] = "";

	/* fio.<read|write>.x: the direction goes into the label */
	sscanf(metric, "fio.%15[a-z]", dir);
	snprintf(buf, len, fmt, dir);
}

/* the headline rows of @c; *@out is freed by the caller */
static size_t headline(const struct an_compare *c, struct hl **out)
{
	struct hl *h = calloc(c->n ? c->n : 1, sizeof(*h));
	size_t n = 0;

	*out = h;
	if (!h)
		return 0;
	for (size_t i = 0, j; i < c->n; i = j) {
		size_t start = n;
		char label[64];

		for (j = i; j < c->n && block_same(c, c->rows[i].s, c->rows[j].s); j++)
			;
		for (size_t p = 0; p < ARRAY_SIZE(headline_metrics); p++)
			for (size_t k = i; k < j;) {
				const char *m = c->rows[k].s->dim[AN_METRIC];

				if (fnmatch(headline_metrics[p].pat, m, 0)) {
					while (k < j && c->rows[k].s->dim[AN_METRIC] == m)
						k++;
					continue;
				}
				metric_label(label, sizeof(label),
					     headline_metrics[p].label, m);
				k = metric_rows(c, k, j, h, &n, label);
			}
		/* no headline metric in this block: its first few instead */
		if (n == start)
			for (size_t k = i, shown = 0;
			     k < j && shown < HEADLINE_FALLBACK;) {
				size_t before = n;

				k = metric_rows(c, k, j, h, &n,
						c->rows[k].s->dim[AN_METRIC]);
				shown += n > before;
			}
		if (n > start)
			h[start].block = true;
	}
	return n;
}

/* --- provenance: what the manifest and the index record ---------------------- */

struct kinfo {
	char spec[64];
	char release[96];
	char version[96];
	char source[32];
	char commit[48];
};

/**
 * struct prov - where the numbers come from
 * @k: the kernels measured (the index, completed by the manifest)
 * @iommu: the vIOMMUs measured, comma separated
 * @accel: the accelerators the boots ran with (the manifest's plan)
 */
struct prov {
	struct kinfo k[16];
	size_t nk;
	char iommu[128];
	char accel[64];
};

static void set(char *dst, size_t len, const char *v)
{
	if (v && *v)
		snprintf(dst, len, "%s", v);
}

static void add_word(char *dst, size_t len, const char *w)
{
	size_t n = strlen(dst), l;

	if (!w || !*w)
		return;
	l = strlen(w);
	/* once each */
	for (const char *p = dst; (p = strstr(p, w)); p += l)
		if ((p == dst || p[-1] == ' ') && (p[l] == ',' || !p[l]))
			return;
	snprintf(dst + n, len - n, "%s%s", n ? ", " : "", w);
}

static void prov_load(struct prov *pv, sqlite3 *db, const char *run_id,
		      struct json_object *man)
{
	struct json_object *kernels = NULL, *boots = NULL;
	sqlite3_stmt *st;

	memset(pv, 0, sizeof(*pv));
	if (sqlite3_prepare_v2(db, "SELECT kernel, max(kernel_release),"
			       " max(kernel_version), max(kernel_commit) FROM cells"
			       " WHERE run_id = ?1 AND status = 'ok'"
			       " GROUP BY kernel ORDER BY kernel", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		while (pv->nk < ARRAY_SIZE(pv->k) && sqlite3_step(st) == SQLITE_ROW) {
			struct kinfo *k = &pv->k[pv->nk++];

			set(k->spec, sizeof(k->spec), (const char *)sqlite3_column_text(st, 0));
			set(k->release, sizeof(k->release), (const char *)sqlite3_column_text(st, 1));
			set(k->version, sizeof(k->version), (const char *)sqlite3_column_text(st, 2));
			set(k->commit, sizeof(k->commit), (const char *)sqlite3_column_text(st, 3));
		}
		sqlite3_finalize(st);
	}
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT iommu FROM cells WHERE run_id = ?1"
			       " AND status = 'ok' ORDER BY iommu", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW)
			add_word(pv->iommu, sizeof(pv->iommu),
				 (const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	if (!man)
		return;
	/* the manifest knows the kernels' source, and what the index lacks */
	if (json_object_object_get_ex(man, "kernels", &kernels))
		for (size_t i = 0; i < pv->nk; i++) {
			struct kinfo *k = &pv->k[i];
			struct json_object *o = json_object_object_get(kernels, k->spec);

			if (!o)
				continue;
			if (!k->release[0])
				set(k->release, sizeof(k->release), json_get_string(o, "release"));
			if (!k->version[0])
				set(k->version, sizeof(k->version), json_get_string(o, "version"));
			if (!k->commit[0])
				set(k->commit, sizeof(k->commit), json_get_string(o, "commit"));
			set(k->source, sizeof(k->source), json_get_string(o, "source"));
		}
	boots = json_object_object_get(json_object_object_get(man, "plan"), "boots");
	for (size_t b = 0; boots && b < json_object_array_length(boots); b++)
		add_word(pv->accel, sizeof(pv->accel), json_get_string(
			 json_object_array_get_idx(boots, b), "accel"));
}

static const struct kinfo *prov_kernel(const struct prov *pv, const char *spec)
{
	for (size_t i = 0; i < pv->nk; i++)
		if (!strcmp(pv->k[i].spec, spec))
			return &pv->k[i];
	return NULL;
}

/* "debian:6.1 = 6.1.0-27-amd64 (debian, 6.1.115-1, commit 1a2b3c4d5e6f)" */
static void kernel_text(char *buf, size_t len, const struct kinfo *k)
{
	snprintf(buf, len, "%s%s%s%s%s%s%s%s%s%.12s%s", k->spec,
		 k->release[0] ? " = " : "", k->release,
		 k->source[0] || k->version[0] || k->commit[0] ? " (" : "",
		 k->source, k->source[0] && (k->version[0] || k->commit[0]) ? ", " : "",
		 k->version, k->version[0] && k->commit[0] ? ", " : "",
		 k->commit[0] ? "commit " : "", k->commit,
		 k->source[0] || k->version[0] || k->commit[0] ? ")" : "");
}

static void prov_line(FILE *f, bool html, const char *key, const char *val)
{
	if (html) {
		fprintf(f, "<div><dt>%s</dt><dd>", key);
		fput_markup(f, val);
		fputs("</dd></div>\n", f);
	} else {
		fprintf(f, "- %s: %s\n", key, val);
	}
}

/*
 * The facts a reader needs to trust or reproduce the numbers, each on its
 * own line: kernel, vIOMMU, QEMU, clock, host, suite, run.
 */
static void provenance(FILE *f, bool html, struct json_object *man,
		       const struct prov *pv, const struct an_run *run,
		       size_t cells)
{
	const char *target = jstr(man, "target");
	const char *clock = jstr(man, "settings.clock");
	bool host = target && !strcmp(target, "host");
	char buf[512];

	if (html)
		fputs("<section id=\"provenance\"><h2>Provenance</h2>\n<dl class=\"prov\">\n", f);
	if (!pv->nk)
		prov_line(f, html, "kernel", "not recorded");
	for (size_t i = 0; i < pv->nk; i++) {
		kernel_text(buf, sizeof(buf), &pv->k[i]);
		prov_line(f, html, "kernel", buf);
	}
	prov_line(f, html, "vIOMMU", host ? "none (host target: the host's own IOMMU)" :
		  pv->iommu[0] ? pv->iommu : "not recorded");
	snprintf(buf, sizeof(buf), "%s%s%s",
		 jstr(man, "tools.qemu") ?: host ? "none (host target)" : "not recorded",
		 pv->accel[0] ? ", accel " : "", pv->accel);
	prov_line(f, html, "QEMU", buf);
	/* timings are the host's clock unless the run records another */
	prov_line(f, html, "clock", clock ?: "host");
	snprintf(buf, sizeof(buf), "%s%s%s%s%s%s%s",
		 jstr(man, "host.name") ?: "not recorded",
		 jstr(man, "host.cpu_model") ? ", " : "", jstr(man, "host.cpu_model") ?: "",
		 jstr(man, "host.cpus") ? ", CPUs " : "", jstr(man, "host.cpus") ?: "",
		 jstr(man, "host.kernel") ? ", Linux " : "", jstr(man, "host.kernel") ?: "");
	prov_line(f, html, "host", buf);
	snprintf(buf, sizeof(buf), "iommubench %s%s%s%s%s%s",
		 jstr(man, "tools.iommubench") ?: "(version not recorded)",
		 jstr(man, "tools.git_describe") ? " (" : "",
		 jstr(man, "tools.git_describe") ?: "",
		 jstr(man, "tools.git_describe") ? ")" : "",
		 jstr(man, "tools.fio") ? "; " : "", jstr(man, "tools.fio") ?: "");
	prov_line(f, html, "suite", buf);
	snprintf(buf, sizeof(buf), "%s%s%s, %zu cells%s%s%s%s%s%s%s%s",
		 run->id, target ? ", target " : "", target ?: "", cells,
		 jstr(man, "started") ? ", " : "", jstr(man, "started") ?: "",
		 jstr(man, "finished") ? " to " : "", jstr(man, "finished") ?: "",
		 jstr(man, "seed") ? ", order seed " : "", jstr(man, "seed") ?: "",
		 jstr(man, "matrix.path") ? ", matrix " : "",
		 jstr(man, "matrix.path") ?: "");
	prov_line(f, html, "run", buf);
	if (html)
		fputs("</dl>\n", f);
	if (html && jstr(man, "matrix.text")) {
		fputs("<details><summary>matrix as run</summary><pre>", f);
		fput_markup(f, jstr(man, "matrix.text"));
		fputs("</pre></details>\n", f);
	}
	if (html)
		fputs("</section>\n", f);
}

/* "fio-randread: debian:6.1 (6.1.0-27-amd64), intel, 5 repetitions" */
static void block_title(char *buf, size_t len, const struct an_compare *c,
			const struct hl *h, size_t n, const struct prov *pv)
{
	const struct an_series *s = h->r->s;
	const struct kinfo *k = prov_kernel(pv, s->dim[AN_KERNEL]);
	size_t lo = SIZE_MAX, hi = 0;

	/* the repetitions of the block's rows and their baselines */
	for (size_t i = 0; i < n && (!i || !h[i].block); i++) {
		size_t a = h[i].r->s->n, b = h[i].r->base->n;

		lo = a < lo ? a : lo;
		lo = b < lo ? b : lo;
		hi = a > hi ? a : hi;
		hi = b > hi ? b : hi;
	}
	snprintf(buf, len, "%s: %s%s%s%s, %s, ", s->dim[AN_WORKLOAD],
		 s->dim[AN_KERNEL], k && k->release[0] ? " (" : "",
		 k ? k->release : "", k && k->release[0] ? ")" : "",
		 s->dim[AN_IOMMU]);
	if (lo == hi)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 "%zu repetitions per %s", lo, an_dim_names[c->by]);
	else
		snprintf(buf + strlen(buf), len - strlen(buf),
			 "%zu to %zu repetitions per %s", lo, hi,
			 an_dim_names[c->by]);
}

/*
 * The answer, first on the page: per workload, each configuration's
 * median of the headline metrics against the baseline, with the ratio,
 * its interval and whether it is better, worse or no clear change.
 */
static void headline_html(FILE *f, const struct an_compare *c,
			  const struct prov *pv)
{
	const char *base = c->baseline ? c->baseline : "baseline";
	char title[512];
	struct hl *h;
	size_t n = headline(c, &h);

	fputs("<table id=\"headline\" class=\"headline\">\n<caption>", f);
	fprintf(f, "Median over the repetitions (one value per cell) and the ratio of medians to <b>");
	fput_markup(f, base);
	fprintf(f, "</b> with its %.0f%% percentile-bootstrap interval. "
		"<span class=\"good\">better</span> / <span class=\"bad\">worse</span>: the interval excludes 1 in the metric's good / bad direction "
		"(&uarr; higher is better, &darr; lower is better); otherwise no clear change. "
		"Every metric is under <a href=\"#all\">All metrics</a>; regressions between runs are for <code>iommubench gate</code>.</caption>\n",
		c->level * 100);
	fprintf(f, "<thead><tr><th>metric</th><th>");
	html_config(f, base);
	fprintf(f, "</th><th class=\"cfgc\">%s</th><th>median</th><th>ratio to ", an_dim_names[c->by]);
	fput_markup(f, base);
	fprintf(f, " [%.0f%% CI]</th><th>change</th></tr></thead>\n", c->level * 100);
	for (size_t i = 0; i < n; i++) {
		const struct an_row *r = h[i].r;
		const struct an_series *s = r->s;
		int v = verdict(r);

		if (h[i].block) {
			block_title(title, sizeof(title), c, &h[i], n - i, pv);
			fputs(i ? "</tbody>\n<tbody>" : "<tbody>", f);
			fputs("<tr class=\"blk\"><th colspan=\"6\">", f);
			fput_markup(f, title);
			fputs("</th></tr>\n", f);
		}
		fputs("<tr>", f);
		if (h[i].span) {
			fprintf(f, "<td rowspan=\"%zu\" class=\"metric\">", h[i].span);
			fput_markup(f, h[i].label);
			fprintf(f, " %s <span class=\"unit\">",
				an_higher_is_better(s->dim[AN_METRIC], s->unit) ?
				"&uarr;" : "&darr;");
			fput_markup(f, s->dim[AN_METRIC]);
			fprintf(f, "</span></td><td rowspan=\"%zu\">", h[i].span);
			html_qty(f, stats_median(r->base->v, r->base->n), r->base);
			fputs("</td>", f);
		}
		fputs("<td class=\"cfgc\">", f);
		html_config(f, s->dim[c->by]);
		fputs("</td><td>", f);
		html_qty(f, r->med.est, s);
		fprintf(f, "</td><td>%.3f [%.3f, %.3f]</td><td class=\"%s\">%+.1f%% %s</td></tr>\n",
			r->ratio.est, r->ratio.lo, r->ratio.hi, verdict_class[v + 1],
			(r->ratio.est - 1) * 100, verdict_word[v + 1]);
	}
	if (n)
		fputs("</tbody>\n", f);
	else
		fputs("<tbody><tr><td colspan=\"6\">no configuration has a baseline to compare with</td></tr></tbody>\n", f);
	fputs("</table>\n", f);
	free(h);
}

static void headline_md(FILE *f, const struct an_compare *c,
			const struct prov *pv)
{
	const char *base = c->baseline ? c->baseline : "baseline";
	char title[512], a[32], b[32];
	struct hl *h;
	size_t n = headline(c, &h);

	for (size_t i = 0; i < n; i++) {
		const struct an_row *r = h[i].r;
		const struct an_series *s = r->s;
		int v = verdict(r);

		if (h[i].block) {
			block_title(title, sizeof(title), c, &h[i], n - i, pv);
			fprintf(f, "\n**%s**\n\n| metric | %s | %s | median | ratio to %s [%.0f%% CI] | change |\n"
				"|---|---:|---|---:|---|---|\n", title, base,
				an_dim_names[c->by], base, c->level * 100);
		}
		an_fmt_unit(a, sizeof(a), stats_median(r->base->v, r->base->n),
			    s->unit, s->dim[AN_METRIC]);
		an_fmt_unit(b, sizeof(b), r->med.est, s->unit, s->dim[AN_METRIC]);
		if (h[i].span)
			fprintf(f, "| %s (%s %s) | %s ", h[i].label, s->dim[AN_METRIC],
				an_higher_is_better(s->dim[AN_METRIC], s->unit) ?
				"\xe2\x86\x91" : "\xe2\x86\x93", a);
		else
			fputs("| | ", f);
		fprintf(f, "| %s | %s | %.3f [%.3f, %.3f] | %+.1f%% %s |\n",
			s->dim[c->by], b, r->ratio.est, r->ratio.lo, r->ratio.hi,
			(r->ratio.est - 1) * 100, verdict_word[v + 1]);
	}
	free(h);
}

/* a figure's caption: what it shows, from its name */
static void figure_caption(FILE *f, const char *name)
{
	if (str_has_prefix(name, "bars-") && str_has_suffix(name, "-rates"))
		fputs("Rates (higher is better): increase over the baseline, up is better. ", f);
	else if (str_has_prefix(name, "bars-"))
		fputs("Times (lower is better): reduction from the baseline, up is better. ", f);
	else if (str_has_suffix(name, "-exposure"))
		fputs("Exposure window: unmap until the IOTLB invalidation covering it. ", f);
	else
		fputs("Latency distribution over all repetitions. ", f);
	fputs("<span class=\"unit\">plots/", f);
	fput_markup(f, name);
	fputs(".svg, .gp, .dat</span>", f);
}

static const char css[] =
	"body{font-family:sans-serif;max-width:1320px;margin:0.8em auto;color:#222;padding:0 1em}"
	"h1{font-size:1.4em;margin:0 0 0.4em}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin:1.2em 0 0.4em}"
	"h3{font-size:1.05em}"
	"table{border-collapse:collapse;margin:0.3em 0 1em;font-size:0.9em}"
	"th,td{padding:2px 8px;text-align:right;border-bottom:1px solid #eee}"
	"th:first-child,td:first-child{text-align:left}"
	"tr.first td{border-top:1px solid #bbb}.unit{color:#888;font-size:0.85em}"
	".good{color:#1e8449;font-weight:bold}.bad{color:#c0392b;font-weight:bold}.same{color:#666}"
	"table.headline{font-size:0.95em}table.headline caption{caption-side:bottom;text-align:left;color:#555;font-size:0.85em;padding-top:4px}"
	"table.headline td{white-space:nowrap}table.headline td[rowspan]{vertical-align:top}"
	"table.headline td.metric{text-align:left;padding-right:1.5em}table.headline .cfgc{text-align:left}"
	"table.headline tr.blk th{text-align:left;background:#f3f3f3;border-top:1px solid #bbb}"
	".cfg i{display:inline-block;width:0.8em;height:0.8em;margin-right:0.35em;vertical-align:-0.05em;border-radius:2px}"
	"dl.prov{display:grid;grid-template-columns:1fr 1fr;gap:1px 2em;margin:0;font-size:0.85em}"
	"dl.prov div{display:flex}dl.prov dt{flex:0 0 4.5em;color:#555}dl.prov dd{margin:0}"
	"details{font-size:0.85em;margin:0.3em 0}"
	"figure{margin:0.5em 1em 0.5em 0;display:inline-block;vertical-align:top;width:calc(50% - 1.5em)}"
	"figure img{width:100%;border:1px solid #eee}"
	"figcaption{color:#555;font-size:0.85em}pre{background:#f6f6f6;padding:0.5em}"
	".note{color:#555}";

/* set data-plots-loaded on <body> once every image has decoded */
static const char check_js[] =
	"<script>\n"
	"window.addEventListener('load', function () {\n"
	"  var imgs = document.querySelectorAll('figure img'), ok = 0;\n"
	"  for (var i = 0; i < imgs.length; i++)\n"
	"    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
	"  document.body.setAttribute('data-plots-loaded', ok + '/' + imgs.length);\n"
	"});\n"
	"</script>\n";

/*
 * The page, in the order a reader asks: the answer (headline), where it
 * comes from (provenance), the charts, every metric, the method.
 */
static int write_html(const char *path, const char *plotdir,
		      struct json_object *man, const struct prov *pv,
		      const struct an_run *run, const struct an_compare *c,
		      size_t cells, char **plots, size_t nplots, char **skipped,
		      size_t nskipped)
{
	struct afile af;
	FILE *f = afile_open(&af, path);
	int ret = -1;

	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		"<title>iommubench report: ");
	fput_markup(f, run->id);
	fprintf(f, "</title>\n<style>%s</style></head>\n<body data-plots=\"%zu\">\n",
		css, nplots);
	fputs("<h1>iommubench report: ", f);
	fput_markup(f, run->id);
	fputs("</h1>\n", f);
	headline_html(f, c, pv);
	provenance(f, true, man, pv, run, cells);
	fputs("<h2>Charts</h2>\n", f);
	for (size_t i = 0; i < nplots; i++) {
		char *png = xasprintf("%s/%s.png", plotdir, plots[i]);

		fputs("<figure><img alt=\"", f);
		fput_markup(f, plots[i]);
		fputs("\" src=\"data:image/png;base64,", f);
		if (!png || base64_file(f, png)) {
			pr_err("%s: cannot inline it: %s", png ? png : plots[i],
			       strerror(errno));
			free(png);
			goto out;
		}
		fputs("\"><figcaption>", f);
		figure_caption(f, plots[i]);
		fputs("</figcaption></figure>\n", f);
		free(png);
	}
	if (nskipped) {
		fputs("<p class=\"note\">Not plotted:</p><ul class=\"note\">\n", f);
		for (size_t i = 0; i < nskipped; i++) {
			fputs("<li>", f);
			fput_markup(f, skipped[i]);
			fputs("</li>\n", f);
		}
		fputs("</ul>\n", f);
	}
	fprintf(f, "<h2 id=\"all\">All metrics</h2>\n<p class=\"note\">%zu cells. Each configuration against the <b>",
		cells);
	fput_markup(f, c->baseline ? c->baseline : "first");
	fprintf(f, "</b> %s: median with its %.0f%% percentile-bootstrap interval, ratio of medians with its interval; "
		"<span class=\"good\">green</span> / <span class=\"bad\">red</span>: better / worse (the interval excludes 1).</p>\n",
		an_dim_names[c->by], c->level * 100);
	html_table(f, c);
	fputs("<h2>Method</h2>\n<p class=\"note\">The unit of replication is the cell: one boot, one workload run. "
	      "Medians and ratios of medians carry percentile-bootstrap intervals computed exactly (all n<sup>n</sup> resamples, weighted) up to 40 repetitions per configuration. "
	      "Regression verdicts come from <code>iommubench gate</code> (Welch's t-test on the logarithms, Holm-adjusted, with a minimum effect). See docs/analysis.md.</p>\n", f);
	fputs(check_js, f);
	fputs("</body></html>\n", f);
	ret = afile_commit(&af);
	if (ret)
		pr_err("%s: %s", path, strerror(errno));
	return ret;
out:
	afile_abort(&af);
	return ret;
}

static int write_md(const char *path, struct json_object *man,
		    const struct prov *pv, const struct an_run *run,
		    const struct an_compare *c, size_t cells, char **plots,
		    size_t nplots, char **skipped, size_t nskipped)
{
	struct afile af;
	FILE *f = afile_open(&af, path);

	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# iommubench report: %s\n", run->id);
	headline_md(f, c, pv);
	fprintf(f, "\nMedians over the repetitions; ratios of medians to %s with %.0f%% percentile-bootstrap intervals; better / worse: the interval excludes 1.\n",
		c->baseline ? c->baseline : "the first", c->level * 100);
	fputs("\n## Provenance\n\n", f);
	provenance(f, false, man, pv, run, cells);
	fputs("\n## Plots\n\n", f);
	for (size_t i = 0; i < nplots; i++)
		fprintf(f, "![%s](plots/%s.png)\n\n", plots[i], plots[i]);
	for (size_t i = 0; i < nskipped; i++)
		fprintf(f, "- not plotted: %s\n", skipped[i]);
	fputs("\n## All metrics\n", f);
	an_compare_print(f, c, AN_MARKDOWN, run->id);
	if (afile_commit(&af)) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* distinct workloads of the run and whether each is fio or dmabench */
static size_t run_workloads(sqlite3 *db, const char *run_id, char wl[][64],
			    char type[][16], size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT workload, min(workload_type) FROM cells"
			       " WHERE run_id = ?1 AND status = 'ok'"
			       " GROUP BY workload ORDER BY workload", -1, &st,
			       NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	while (n < max && sqlite3_step(st) == SQLITE_ROW) {
		snprintf(wl[n], 64, "%s", sqlite3_column_text(st, 0));
		snprintf(type[n], 16, "%s", sqlite3_column_text(st, 1) ?
			 (const char *)sqlite3_column_text(st, 1) : "");
		n++;
	}
	sqlite3_finalize(st);
	return n;
}

static int add_skip(char ***sk, size_t *n, const char *msg)
{
	char **p = realloc(*sk, (*n + 1) * sizeof(*p));

	if (!p)
		return -1;
	*sk = p;
	p[(*n)++] = strdup(msg);
	return 0;
}

/*
 * Move the report built in @tmp into @dir: plots/ is swapped whole (the
 * old one moves into @tmp, removed with it), then each page is renamed.
 */
static int install(const char *tmp, const char *dir)
{
	static const char *const pages[] = { "report.html", "report.md" };
	char *plots = xasprintf("%s/plots", dir);
	char *fresh = xasprintf("%s/plots", tmp);
	char *old = xasprintf("%s/plots.old", tmp);
	int ret = -1;

	if (!plots || !fresh || !old)
		goto out;
	if (rename(plots, old) && errno != ENOENT) {
		pr_err("%s: cannot replace it: %s", plots, strerror(errno));
		goto out;
	}
	if (rename(fresh, plots)) {
		pr_err("%s: %s", plots, strerror(errno));
		rename(old, plots);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(pages); i++) {
		char *from = xasprintf("%s/%s", tmp, pages[i]);
		char *to = xasprintf("%s/%s", dir, pages[i]);
		int bad = !from || !to || rename(from, to);

		if (bad)
			pr_err("%s: %s", to ? to : dir, strerror(errno));
		free(from);
		free(to);
		if (bad)
			goto out;
	}
	ret = 0;
out:
	free(plots);
	free(fresh);
	free(old);
	return ret;
}

/*
 * The report is built in a temporary directory inside @out_dir and moved
 * into place only when every file of it was written: a failure (a full
 * disk) leaves the previous report, or none, never a partial plots/.
 */
static int report_from(sqlite3 *db, const struct an_run *run,
		       struct an_compare *c, size_t cells, const char *out_dir,
		       char **html_path)
{
	char *dir = out_dir ? strdup(out_dir) : xasprintf("%s/report", run->dir);
	char *tmp = dir ? xasprintf("%s/.report.tmp.%d", dir, (int)getpid()) : NULL;
	char *plotdir = tmp ? xasprintf("%s/plots", tmp) : NULL;
	char *man_path = xasprintf("%s/manifest.json", run->dir);
	char *html = NULL, *md = NULL, **plots = NULL, **skipped = NULL;
	char wl[16][64], type[16][16], msg[256];
	size_t nplots = 0, nskipped = 0, nwl;
	struct json_object *man = NULL;
	struct prov pv;
	int ret = -1;

	if (!dir || !plotdir || !man_path) {
		pr_err("report: %s", strerror(ENOMEM));
		goto out;
	}
	if (mkdir_p(dir, 0755)) {
		pr_err("%s: %s", dir, strerror(errno));
		goto out;
	}
	rm_rf(tmp);
	if (mkdir_p(plotdir, 0755)) {
		pr_err("%s: %s", plotdir, strerror(errno));
		goto out;
	}
	if (path_exists(man_path))
		man = json_read_file(man_path);
	if (an_plot_bars(plotdir, c, &plots, &nplots))
		goto out;
	nwl = run_workloads(db, run->id, wl, type, 16);
	for (size_t w = 0; w < nwl; w++) {
		static const struct {
			const char *type, *what, *label;
		} figs[] = {
			{ "fio", "fio", "fio completion latency" },
			{ "dmabench", "map", "dma_map latency" },
			{ "dmabench", "unmap", "dma_unmap latency" },
			{ NULL, "exposure", "exposure window (unmap until the IOTLB invalidation covering it)" },
		};

		for (size_t k = 0; k < ARRAY_SIZE(figs); k++) {
			if (figs[k].type && strcmp(figs[k].type, type[w]))
				continue;
			if (an_plot_cdf(plotdir, db, run->id, wl[w], figs[k].what,
					figs[k].label, &plots, &nplots, msg, sizeof(msg)))
				goto out;
			if (msg[0]) {
				pr_info("report: not plotted: %s", msg);
				add_skip(&skipped, &nskipped, msg);
			}
		}
	}
	prov_load(&pv, db, run->id, man);
	html = xasprintf("%s/report.html", tmp);
	md = xasprintf("%s/report.md", tmp);
	if (!html || !md ||
	    write_html(html, plotdir, man, &pv, run, c, cells, plots, nplots,
		       skipped, nskipped) ||
	    write_md(md, man, &pv, run, c, cells, plots, nplots, skipped,
		     nskipped) ||
	    install(tmp, dir))
		goto out;
	*html_path = xasprintf("%s/report.html", dir);
	ret = *html_path ? 0 : -1;
out:
	if (tmp)
		rm_rf(tmp);
	for (size_t i = 0; i < nplots; i++)
		free(plots[i]);
	for (size_t i = 0; i < nskipped; i++)
		free(skipped[i]);
	free(plots);
	free(skipped);
	if (man)
		json_object_put(man);
	free(html);
	free(md);
	free(man_path);
	free(plotdir);
	free(tmp);
	free(dir);
	return ret;
}

int an_report(sqlite3 *db, const struct an_run *run, const char *out_dir,
	      char **html_path)
{
	struct an_dataset ds;
	struct an_compare c;
	int ret = -1;

	an_dataset_init(&ds);
	if (an_load_run(db, run->id, &ds))
		goto out;
	if (!ds.n) {
		pr_err("run %s: no metrics to report (no ok cells, or no such run)", run->id);
		goto out;
	}
	if (an_compare_build(&ds, AN_POLICY, NULL, 0.95, 1, &c))
		goto out;
	ret = report_from(db, run, &c, ds.cells, out_dir, html_path);
	an_compare_free(&c);
out:
	an_dataset_free(&ds);
	return ret;
}

int an_run_summary(sqlite3 *db, const char *root, const char *run_id,
		   const char *dir)
{
	struct an_run run = { .root = (char *)root, .id = (char *)run_id,
			      .dir = (char *)dir };
	char *md = xasprintf("%s/summary.md", dir), *html = NULL;
	struct an_dataset ds;
	struct an_compare c;
	struct afile af;
	int ret = -1;
	bool ok;
	FILE *f;

	an_dataset_init(&ds);
	if (!md || an_load_run(db, run_id, &ds))
		goto out;
	if (!ds.n) {
		printf("no metrics to summarize\n");
		ret = 0;
		goto out;
	}
	if (an_compare_build(&ds, AN_POLICY, NULL, 0.95, 1, &c))
		goto out;
	an_compare_print(stdout, &c, AN_TEXT, run_id);
	f = afile_open(&af, md);
	if (f) {
		fprintf(f, "# Run %s\n\n%zu cells ok.\n", run_id, ds.cells);
		an_compare_print(f, &c, AN_MARKDOWN, run_id);
	}
	ok = f && !afile_commit(&af);
	if (ok)
		printf("\nsummary: %s\n", md);
	else
		pr_err("%s: %s", md, strerror(errno));
	if (!report_from(db, &run, &c, ds.cells, NULL, &html)) {
		printf("report: %s\n", html);
		ret = ok ? 0 : -1;
	}
	an_compare_free(&c);
out:
	an_dataset_free(&ds);
	free(html);
	free(md);
	return ret;
}

static void report_usage(FILE *f)
{
	fprintf(f,
		"usage: iommubench report [options] RUN\n"
		"\n"
		"  RUN                 a run id under --results, or a run directory\n"
		"  -r, --results DIR   results root (default: results)\n"
		"  -o, --output DIR    where report.html, report.md and plots/ go\n"
		"                      (default: RUN/report)\n");
}

int cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *root = NULL, *out = NULL;
	struct an_run run;
	char *html = NULL;
	sqlite3 *db;
	int ch, ret = EXIT_ERROR;

	while ((ch = getopt_long(argc, argv, "r:o:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			root = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			report_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		report_usage(stderr);
		return EXIT_USAGE;
	}
	if (an_resolve_run(argv[optind], root, &run))
		return EXIT_ERROR;
	db = store_open_readonly(run.root);
	if (db && !an_report(db, &run, out, &html)) {
		printf("%s\n", html);
		ret = 0;
	}
	free(html);
	if (db)
		sqlite3_close(db);
	an_run_free(&run);
	return ret;
}
