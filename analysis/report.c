// SPDX-License-Identifier: GPL-2.0
/*
 * report.c - 'iommubench report': one self-contained HTML file (plots
 * inlined as data: URIs, tables, provenance from the manifest) and a
 * Markdown summary next to it; also the end-of-run summary of
 * 'iommubench run'.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "../bench/iommubench.h"

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

static void html_table(FILE *f, const struct an_compare *c)
{
	const struct an_series *prev = NULL;
	char a[16], b[16], d[16];

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
			fprintf(f, "</h3>\n<table><thead><tr><th>metric</th><th>%s</th><th>n</th>"
				"<th>median</th><th>%.0f%% CI</th><th>ratio to %s</th><th>%.0f%% CI</th><th>change</th></tr></thead><tbody>\n",
				an_dim_names[c->by], c->level * 100,
				r->base ? r->base->dim[c->by] : "-", c->level * 100);
		}
		fprintf(f, "<tr%s><td>", newmet ? " class=\"first\"" : "");
		if (newmet) {
			fput_markup(f, s->dim[AN_METRIC]);
			fprintf(f, " <span class=\"unit\">%s %s</span>", s->unit,
				an_higher_is_better(s->dim[AN_METRIC], s->unit) ? "&uarr;" : "&darr;");
		}
		fputs("</td><td>", f);
		fput_markup(f, s->dim[c->by]);
		fprintf(f, "</td><td>%zu</td><td>%s</td><td>[%s, %s]</td>", s->n,
			an_fmt(a, sizeof(a), r->med.est), an_fmt(b, sizeof(b), r->med.lo),
			an_fmt(d, sizeof(d), r->med.hi));
		if (s == r->base || isnan(r->ratio.est)) {
			fprintf(f, "<td>%s</td><td></td><td></td></tr>\n",
				s == r->base ? "baseline" : "-");
		} else {
			bool good = an_higher_is_better(s->dim[AN_METRIC], s->unit) ?
				    r->ratio.lo > 1 : r->ratio.hi < 1;
			bool bad = an_higher_is_better(s->dim[AN_METRIC], s->unit) ?
				   r->ratio.hi < 1 : r->ratio.lo > 1;

			fprintf(f, "<td>%.3f</td><td>[%.3f, %.3f]</td><td class=\"%s\">%+.1f%%</td></tr>\n",
				r->ratio.est, r->ratio.lo, r->ratio.hi,
				good ? "good" : bad ? "bad" : "", (r->ratio.est - 1) * 100);
		}
		prev = s;
	}
	if (prev)
		fputs("</tbody></table>\n", f);
}

static void provenance_html(FILE *f, struct json_object *man)
{
	static const char *const keys[][2] = {
		{ "run_id", "run" }, { "started", "started" },
		{ "finished", "finished" }, { "target", "target" },
		{ "seed", "order seed" }, { "host.name", "host" },
		{ "host.kernel", "host kernel" }, { "host.cpu_model", "host CPU" },
		{ "host.cpus", "host CPUs" }, { "tools.qemu", "QEMU" },
		{ "tools.fio", "fio" }, { "tools.iommubench", "iommubench" },
		{ "tools.git_describe", "suite commit" },
		{ "settings.cpus", "guest CPUs" }, { "settings.mem_mb", "guest MiB" },
		{ "settings.disk", "disk" }, { "matrix.path", "matrix" },
	};
	struct json_object *k;

	fputs("<table class=\"prov\"><tbody>\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = jstr(man, keys[i][0]);

		if (!v)
			continue;
		fprintf(f, "<tr><th>%s</th><td>", keys[i][1]);
		fput_markup(f, v);
		fputs("</td></tr>\n", f);
	}
	if (json_object_object_get_ex(man, "kernels", &k) &&
	    json_object_is_type(k, json_type_object)) {
		json_object_object_foreach(k, spec, kv) {
			fputs("<tr><th>kernel ", f);
			fput_markup(f, spec);
			fputs("</th><td>", f);
			fput_markup(f, jstr(kv, "release"));
			fputs(" (", f);
			fput_markup(f, jstr(kv, "version"));
			fputs(jstr(kv, "commit") ? ", commit " : "", f);
			fput_markup(f, jstr(kv, "commit"));
			fputs(")</td></tr>\n", f);
		}
	}
	fputs("</tbody></table>\n", f);
	if (jstr(man, "matrix.text")) {
		fputs("<details><summary>matrix as run</summary><pre>", f);
		fput_markup(f, jstr(man, "matrix.text"));
		fputs("</pre></details>\n", f);
	}
}

static const char css[] =
	"body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222;padding:0 1em}"
	"h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}h3{font-size:1.05em}"
	"table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
	"th,td{padding:3px 8px;text-align:right;border-bottom:1px solid #eee}"
	"th:first-child,td:first-child{text-align:left}"
	"tr.first td{border-top:1px solid #bbb}.unit{color:#888;font-size:0.85em}"
	".good{color:#1e8449;font-weight:bold}.bad{color:#c0392b;font-weight:bold}"
	"table.prov th{text-align:left;color:#555}table.prov td{text-align:left}"
	"figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}"
	"figcaption{color:#555;font-size:0.9em}pre{background:#f6f6f6;padding:0.5em}"
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

static int write_html(const char *path, const char *plotdir,
		      struct json_object *man, const struct an_run *run,
		      const struct an_compare *c, size_t cells, char **plots,
		      size_t nplots, char **skipped, size_t nskipped)
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
	fprintf(f, "</h1>\n<p>%zu cells measured. Each configuration is compared with the <b>%s</b> %s: the median over repetitions (one value per cell) with its %.0f%% percentile-bootstrap interval, and the ratio of medians with its interval. "
		"<span class=\"good\">Green</span>/<span class=\"bad\">red</span>: the interval of the ratio excludes 1 in the metric's good/bad direction (&uarr; higher is better, &darr; lower is better).</p>\n",
		cells, c->baseline ? c->baseline : "first", an_dim_names[c->by],
		c->level * 100);
	fputs("<h2>Plots</h2>\n", f);
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
		fput_markup(f, plots[i]);
		fputs(" (plots/", f);
		fput_markup(f, plots[i]);
		fputs(".svg, .gp, .dat)</figcaption></figure>\n", f);
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
	fputs("<h2>Comparison</h2>\n", f);
	html_table(f, c);
	fputs("<h2>Provenance</h2>\n", f);
	if (man)
		provenance_html(f, man);
	else
		fputs("<p>no manifest.json</p>\n", f);
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
		    const struct an_run *run, const struct an_compare *c,
		    size_t cells, char **plots, size_t nplots, char **skipped,
		    size_t nskipped)
{
	struct afile af;
	FILE *f = afile_open(&af, path);

	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "# iommubench report: %s\n\n%zu cells; baseline %s %s; medians with %.0f%% percentile-bootstrap intervals, ratios of medians with theirs.\n\n",
		run->id, cells, an_dim_names[c->by],
		c->baseline ? c->baseline : "(first)", c->level * 100);
	fprintf(f, "- started %s, finished %s, target %s, host %s\n",
		jstr(man, "started") ?: "?", jstr(man, "finished") ?: "?",
		jstr(man, "target") ?: "?", jstr(man, "host.name") ?: "?");
	fprintf(f, "- suite %s (%s), QEMU: %s, fio: %s\n",
		jstr(man, "tools.iommubench") ?: "?",
		jstr(man, "tools.git_describe") ?: "?",
		jstr(man, "tools.qemu") ?: "-", jstr(man, "tools.fio") ?: "-");
	fprintf(f, "- matrix %s, seed %s\n", jstr(man, "matrix.path") ?: "?",
		jstr(man, "seed") ?: "?");
	fputs("\n## Plots\n\n", f);
	for (size_t i = 0; i < nplots; i++)
		fprintf(f, "![%s](plots/%s.png)\n\n", plots[i], plots[i]);
	for (size_t i = 0; i < nskipped; i++)
		fprintf(f, "- not plotted: %s\n", skipped[i]);
	fputs("\n## Comparison\n", f);
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
	html = xasprintf("%s/report.html", tmp);
	md = xasprintf("%s/report.md", tmp);
	if (!html || !md ||
	    write_html(html, plotdir, man, run, c, cells, plots, nplots,
		       skipped, nskipped) ||
	    write_md(md, man, run, c, cells, plots, nplots, skipped, nskipped) ||
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
