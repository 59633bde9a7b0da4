// SPDX-License-Identifier: GPL-2.0
/*
 * plot.c - gnuplot figures: change vs baseline with CIs, latency CDFs
 * from merged histograms, exposure-window CDFs, the stale-DMA probe's
 * P(landed) against the delay, per-commit trends
 *
 * Every figure is a data file plus a gnuplot script written next to the
 * images (NAME.dat, NAME.gp -> NAME.png, NAME.svg), so it can be edited
 * and re-rendered by hand: cd DIR && gnuplot NAME.gp.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "hist.h"
#include "json.h"
#include "log.h"
#include "spawn.h"
#include "util.h"

/*
 * One colour per policy in every figure and table: strict, lazy and
 * identity fixed (Okabe-Ito blue and orange, a purple), other policies by
 * a hash of the name so they keep theirs from figure to figure.  Green
 * and red stay free for better and worse.
 */
const char *an_policy_colour(const char *policy)
{
	static const char *const others[] = { "#56b4e9", "#8c564b", "#999999",
					      "#f0e442", "#17becf" };

	if (!strcmp(policy, "strict"))
		return "#0072b2";
	if (!strcmp(policy, "lazy"))
		return "#e69f00";
	if (!strcmp(policy, "identity"))
		return "#7b4fa0";
	return others[str_hash(policy, STR_HASH_INIT) % ARRAY_SIZE(others)];
}

int an_gnuplot(const char *dir, const char *script)
{
	char *argv[] = { "gnuplot", (char *)script, NULL };
	struct spawn_opts o = SPAWN_OPTS_DEFAULT;
	int rc;

	o.cwd = dir;
	o.timeout_ms = 60000;
	rc = spawn_run(argv, &o);
	if (rc) {
		pr_err("gnuplot %s/%s failed (status %d)%s", dir, script, rc,
		       rc == 127 ? ": is gnuplot installed (scripts/setup)?" : "");
		return -1;
	}
	return 0;
}

/*
 * A figure's two text files, written whole or not at all (struct afile);
 * the images are gnuplot's.
 */
struct fig {
	struct afile dat;
	struct afile gp;
	FILE *d;		/* NAME.dat */
	FILE *g;		/* NAME.gp */
};

static char *fig_path(const char *dir, const char *name, const char *ext)
{
	return xasprintf("%s/%s.%s", dir, name, ext);
}

/* Start NAME.dat and NAME.gp in @dir; -1 after saying why. */
static int fig_open(struct fig *x, const char *dir, const char *name)
{
	char *dat = fig_path(dir, name, "dat"), *gp = fig_path(dir, name, "gp");
	int ret = -1;

	memset(x, 0, sizeof(*x));
	if (!dat || !gp) {
		pr_err("%s/%s: %s", dir, name, strerror(ENOMEM));
		goto out;
	}
	x->d = afile_open(&x->dat, dat);
	x->g = x->d ? afile_open(&x->gp, gp) : NULL;
	if (!x->g) {
		pr_err("%s: %s", x->d ? gp : dat, strerror(errno));
		if (x->d)
			afile_abort(&x->dat);
		x->d = NULL;
		goto out;
	}
	ret = 0;
out:
	free(dat);
	free(gp);
	return ret;
}

static void fig_abort(struct fig *x)
{
	if (x->d)
		afile_abort(&x->dat);
	if (x->g)
		afile_abort(&x->gp);
	x->d = x->g = NULL;
}

/*
 * gnuplot exits 0 when it cannot write an image (a full disk leaves a
 * truncated PNG and an empty SVG): an image counts only when complete.
 */
static int check_image(const char *dir, const char *name, const char *ext)
{
	static const char png_end[] = "IEND\xae\x42\x60\x82";
	char *path = fig_path(dir, name, ext), *data;
	size_t len = 0;
	bool whole;
	int ret = -1;

	if (!path)
		return -1;
	data = read_file(path, &len);
	if (!data) {
		pr_err("%s: %s (gnuplot did not write it)", path, strerror(errno));
		goto out;
	}
	if (!strcmp(ext, "png"))
		whole = len >= 8 && !memcmp(data + len - 8, png_end, 8);
	else
		whole = strstr(data, "</svg>") != NULL;
	if (!whole)
		pr_err("%s: incomplete (%zu bytes): gnuplot could not finish writing it (is the file system full?)",
		       path, len);
	ret = whole ? 0 : -1;
out:
	free(data);
	free(path);
	return ret;
}

/*
 * Put NAME.dat and NAME.gp in place, run the script, check the images and
 * add @name to *@out.  -1 after saying what failed.
 */
static int fig_finish(struct fig *x, const char *dir, const char *name,
		      char ***out, size_t *nout)
{
	char *gpname = xasprintf("%s.gp", name), **n;
	int ret = -1;

	if (afile_commit(&x->dat)) {
		pr_err("%s/%s.dat: %s", dir, name, strerror(errno));
		x->d = NULL;
		goto out;
	}
	x->d = NULL;
	if (afile_commit(&x->gp)) {
		pr_err("%s/%s.gp: %s", dir, name, strerror(errno));
		x->g = NULL;
		goto out;
	}
	x->g = NULL;
	if (!gpname || an_gnuplot(dir, gpname) ||
	    check_image(dir, name, "png") || check_image(dir, name, "svg"))
		goto out;
	n = realloc(*out, (*nout + 1) * sizeof(*n));
	if (!n)
		goto out;
	*out = n;
	n[*nout] = strdup(name);
	if (!n[*nout])
		goto out;
	(*nout)++;
	ret = 0;
out:
	fig_abort(x);
	free(gpname);
	return ret;
}

/* the common head of every script: PNG first, SVG by replot at the end */
static void script_head(FILE *f, const char *name, const char *title,
			int width, int height)
{
	fprintf(f, "# %s.gp - written by iommubench; render with: gnuplot %s.gp\n"
		"set encoding utf8\n"
		"set terminal pngcairo size %d,%d font 'Sans,10' enhanced\n"
		"set output '%s.png'\n"
		"set title \"%s\" noenhanced\n"
		"set key outside right top noenhanced\n"
		"set grid ytics lc rgb '#dddddd'\n"
		"set border 3\nset tics nomirror\n",
		name, name, width, height, name, title);
}

static void script_tail(FILE *f, const char *name, int width, int height)
{
	fprintf(f, "set terminal svg size %d,%d font 'Sans,10' enhanced\n"
		"set output '%s.svg'\nreplot\n", width, height, name);
}

static void safe_name(char *dst, size_t len, const char *src)
{
	size_t i = 0;

	for (; *src && i + 1 < len; src++)
		dst[i++] = (*src >= 'a' && *src <= 'z') || (*src >= 'A' && *src <= 'Z') ||
			   (*src >= '0' && *src <= '9') || *src == '-' ? *src : '_';
	dst[i] = '\0';
}

/*
 * Whether the metric of rows [@k, *@e) (*@e: where the next metric starts,
 * at most @j) goes in the chart of @rate's direction: it has one, and a
 * ratio to the baseline.
 */
static bool metric_in_chart(const struct an_compare *c, size_t k, size_t j,
			    bool rate, size_t *e)
{
	const struct an_series *s = c->rows[k].s;
	bool any = false;

	for (*e = k; *e < j && c->rows[*e].s->dim[AN_METRIC] == s->dim[AN_METRIC];
	     (*e)++)
		any |= c->rows[*e].s != c->rows[*e].base &&
		       !isnan(c->rows[*e].ratio.est);
	return any && an_higher_is_better(s->dim[AN_METRIC], s->unit) == rate;
}

/*
 * One bar chart of a block: the metrics of @rate's direction (rates, or
 * times) of rows [@i, @j), as the change in the good direction, so that
 * up is better in every chart: a rate's increase, a time's reduction.
 */
static int bars_one(const char *dir, const struct an_compare *c, size_t i,
		    size_t j, const char *const *cfgs, size_t ncfg, bool rate,
		    char ***out, size_t *nout)
{
	const struct an_series *s0 = c->rows[i].s;
	const char *base = c->rows[i].base ? c->rows[i].base->dim[c->by] : "baseline";
	char name[192], title[320], blk[160];
	size_t nmet = 0;
	struct fig x;
	FILE *dat, *gp;
	int width;

	/* the metrics of this chart that have a ratio */
	for (size_t k = i, e; k < j; k = e)
		nmet += metric_in_chart(c, k, j, rate, &e);
	if (!nmet)
		return 0;
	snprintf(blk, sizeof(blk), "bars-%s-%s-%s", s0->dim[AN_KERNEL],
		 s0->dim[AN_IOMMU], s0->dim[AN_WORKLOAD]);
	safe_name(name, sizeof(name) - 8, blk);
	strcat(name, rate ? "-rates" : "-times");
	if (fig_open(&x, dir, name))
		return -1;
	dat = x.d;
	gp = x.g;
	fprintf(dat, "# %s against %s, in %% of %s's median, positive = better:\n"
		"# %s\n# metric", rate ? "rates" : "times", base, base,
		rate ? "increase (ratio - 1)" : "reduction (1 - ratio)");
	for (size_t k = 0; k < ncfg; k++)
		fprintf(dat, "  %s: better%% lo%% hi%%", cfgs[k]);
	fputc('\n', dat);
	nmet = 0;
	for (size_t k = i, e; k < j; k = e) {
		const char *metric = c->rows[k].s->dim[AN_METRIC];

		if (!metric_in_chart(c, k, j, rate, &e))
			continue;
		fprintf(dat, "\"%s\"", metric);
		for (size_t q = 0; q < ncfg; q++) {
			const struct an_row *r = NULL;

			for (size_t m = k; m < e; m++)
				if (c->rows[m].s->dim[c->by] == cfgs[q])
					r = &c->rows[m];
			if (!r || isnan(r->ratio.est))
				fprintf(dat, " NaN NaN NaN");
			else if (rate)
				fprintf(dat, " %.4f %.4f %.4f",
					(r->ratio.est - 1) * 100,
					(r->ratio.lo - 1) * 100,
					(r->ratio.hi - 1) * 100);
			else
				fprintf(dat, " %.4f %.4f %.4f",
					(1 - r->ratio.est) * 100,
					(1 - r->ratio.hi) * 100,
					(1 - r->ratio.lo) * 100);
		}
		fputc('\n', dat);
	}
	snprintf(title, sizeof(title),
		 "%s, %s, %s\\n%s %s: up is better (ratio of medians, %.0f%% CI)",
		 s0->dim[AN_WORKLOAD], s0->dim[AN_KERNEL], s0->dim[AN_IOMMU],
		 rate ? "rates, increase over" : "times, reduction from",
		 base, c->level * 100);
	width = 360 + 60 * (int)nmet * (int)ncfg;
	width = width > 1100 ? 1100 : width < 700 ? 700 : width;
	script_head(gp, name, title, width, 460);
	fprintf(gp, "set style data histogram\n"
		"set style histogram errorbars gap 1 lw 1\n"
		"set style fill solid 0.85 border -1\n"
		"set boxwidth 0.9\n"
		"set ylabel '%s %s (%%), up is better'\n"
		"set xtics rotate by -30 noenhanced\n"
		"set xzeroaxis lt -1\n"
		"set yrange [*<0:0<*]\n"
		"set bmargin 7\n"
		"plot ", rate ? "increase over" : "reduction from", base);
	for (size_t q = 0; q < ncfg; q++)
		fprintf(gp, "%s'%s.dat' using %zu:%zu:%zu%s title '%s' lc rgb '%s'",
			q ? ", " : "", name, 2 + 3 * q, 3 + 3 * q, 4 + 3 * q,
			q ? "" : ":xtic(1)", cfgs[q], an_policy_colour(cfgs[q]));
	fputc('\n', gp);
	script_tail(gp, name, width, 460);
	return fig_finish(&x, dir, name, out, nout);
}

/*
 * an_plot_bars - per block (kernel, iommu, workload), two charts of the
 * change against the baseline per configuration, error bars = bootstrap
 * interval of the ratio of medians: rates (higher is better: the
 * increase) and times (lower is better: the reduction).  Split and
 * oriented so that up is better everywhere and a rate's +337 % does not
 * share an axis with a latency's -87 %.
 */
int an_plot_bars(const char *dir, const struct an_compare *c, char ***out,
		 size_t *nout)
{
	for (size_t i = 0; i < c->n;) {
		const struct an_series *s0 = c->rows[i].s;
		const char *cfgs[8];
		size_t ncfg = 0, j = i;

		/* the block: same kernel, iommu, workload (for --by policy) */
		while (j < c->n) {
			const struct an_series *s = c->rows[j].s;
			bool same = true;

			for (int d = 0; d < AN_METRIC; d++)
				if (d != (int)c->by && s->dim[d] != s0->dim[d])
					same = false;
			if (!same)
				break;
			if (c->rows[j].base && s != c->rows[j].base) {
				bool seen = false;

				for (size_t k = 0; k < ncfg; k++)
					seen |= cfgs[k] == s->dim[c->by];
				if (!seen && ncfg < ARRAY_SIZE(cfgs))
					cfgs[ncfg++] = s->dim[c->by];
			}
			j++;
		}
		if (ncfg && (bars_one(dir, c, i, j, cfgs, ncfg, true, out, nout) ||
			     bars_one(dir, c, i, j, cfgs, ncfg, false, out, nout)))
			return -1;
		i = j;
	}
	return 0;
}

/* --- histograms from cell files ---------------------------------------------- */

/*
 * Cell files are read back as they are on disk: every member is
 * type-checked (json_get_typed()) before json-c, which asserts the type
 * of arrays and objects, sees it.  A member of another type makes the
 * cell malformed, an error naming the file and the member.
 */
static int member(const char *file, struct json_object *o, const char *name,
		  const char *key, enum json_type type, struct json_object **out)
{
	if (!json_get_typed(o, key, type, out))
		return 0;
	/* @type is json_type_object or json_type_array */
	pr_err("%s: %s%s%s is not an %s", file, name, *name ? "." : "", key,
	       json_type_to_name(type));
	return -1;
}

/*
 * fio's json+ clat_ns.bins {"value": count} into the shared bucket layout:
 * 0, or -1 after naming @file when a bin is not a number of calls at a
 * number of nanoseconds.
 */
static int fio_bins_hist(const char *file, struct json_object *bins,
			 struct hist *h)
{
	static __u64 b[IBH_NR_BUCKETS];
	uint64_t count = 0, min = UINT64_MAX, max = 0;
	unsigned __int128 sum = 0, sq = 0, t;

	memset(b, 0, sizeof(b));
	json_object_object_foreach(bins, key, val) {
		uint64_t v, n;
		char *end;

		errno = 0;
		v = strtoull(key, &end, 10);
		if (*key < '0' || *key > '9' || *end || errno ||
		    !json_object_is_type(val, json_type_int) ||
		    json_object_get_int64(val) < 0) {
			pr_err("%s: fio.jobs.0.read.clat_ns.bins: \"%s\": %s is not a count of calls at a latency in ns",
			       file, key, json_object_to_json_string(val));
			return -1;
		}
		n = json_object_get_int64(val);
		if (!n)
			continue;
		if (count + n < count ||
		    __builtin_mul_overflow((unsigned __int128)v * n, v, &t) ||
		    sum + (unsigned __int128)v * n < sum || sq + t < sq) {
			pr_err("%s: fio.jobs.0.read.clat_ns.bins: the sums overflow",
			       file);
			return -1;
		}
		b[ibh_bucket(v)] += n;
		count += n;
		sum += (unsigned __int128)v * n;
		sq += t;
		if (v < min)
			min = v;
		if (v > max)
			max = v;
	}
	if (!count) {
		hist_init(h);
		return 0;
	}
	if (sum > UINT64_MAX ||
	    hist_load(h, b, IBH_NR_BUCKETS, count, min, max, (uint64_t)sum,
		      (uint64_t)sq, (uint64_t)(sq >> 64))) {
		pr_err("%s: fio.jobs.0.read.clat_ns.bins: not a histogram", file);
		return -1;
	}
	return 0;
}

/*
 * The latency histogram @o (member @name of cell @file) into @h: 1 when
 * there is one, 0 when there is none (absent, null, or a summary without
 * buckets), -1 after naming @file when it is malformed.
 */
static int cell_hist(const char *file, const char *name,
		     struct json_object *o, struct hist *h)
{
	hist_init(h);
	if (!o || !json_object_object_get_ex(o, "buckets", NULL))
		return 0;
	if (hist_from_json(h, o)) {
		pr_err("%s: %s is not a histogram (docs/iommutrace.md)", file,
		       name);
		return -1;
	}
	return 1;
}

/* The histogram @what of the cell @c read from @file, as cell_hist(). */
static int cell_what_hist(const char *file, struct json_object *c,
			  const char *what, struct hist *h)
{
	struct json_object *o = NULL, *jobs = NULL, *job = NULL, *lat = NULL;
	char ops[64], latency[80];
	struct hist two;
	int rc, rc2;

	hist_init(h);
	if (!json_object_is_type(c, json_type_object)) {
		pr_err("%s: not a cell (not a JSON object)", file);
		return -1;
	}
	if (!strcmp(what, "fio")) {
		if (member(file, c, "", "fio", json_type_object, &o) ||
		    member(file, o, "fio", "jobs", json_type_array, &jobs))
			return -1;
		job = jobs && json_object_array_length(jobs) ?
		      json_object_array_get_idx(jobs, 0) : NULL;
		if (job && !json_object_is_type(job, json_type_object)) {
			pr_err("%s: fio.jobs.0 is not an object", file);
			return -1;
		}
		if (member(file, job, "fio.jobs.0", "read", json_type_object, &o) ||
		    member(file, o, "fio.jobs.0.read", "clat_ns",
			   json_type_object, &o) ||
		    member(file, o, "fio.jobs.0.read.clat_ns", "bins",
			   json_type_object, &o))
			return -1;
		if (!o || !json_object_object_length(o))
			return 0;
		return fio_bins_hist(file, o, h) ? -1 : 1;
	}
	if (!strcmp(what, "exposure")) {
		/* strict cells fill .strict, lazy cells .lazy: take both */
		if (member(file, c, "", "iommutrace", json_type_object, &o) ||
		    member(file, o, "iommutrace", "exposure_window",
			   json_type_object, &o) ||
		    member(file, o, "iommutrace.exposure_window", "lazy",
			   json_type_object, &lat))
			return -1;
		rc = cell_hist(file, "iommutrace.exposure_window.lazy", lat, h);
		if (member(file, o, "iommutrace.exposure_window", "strict",
			   json_type_object, &lat))
			return -1;
		rc2 = cell_hist(file, "iommutrace.exposure_window.strict", lat,
				&two);
		if (rc < 0 || rc2 < 0)
			return -1;
		hist_merge(h, &two);
		return rc || rc2;
	}
	snprintf(ops, sizeof(ops), "dmabench.result.ops.%s", what);
	snprintf(latency, sizeof(latency), "%s.latency", ops);
	if (member(file, c, "", "dmabench", json_type_object, &o) ||
	    member(file, o, "dmabench", "result", json_type_object, &o) ||
	    member(file, o, "dmabench.result", "ops", json_type_object, &o) ||
	    member(file, o, "dmabench.result.ops", what, json_type_object, &o) ||
	    member(file, o, ops, "latency", json_type_object, &lat))
		return -1;
	return cell_hist(file, latency, lat, h);
}

/*
 * The cell files of the ok cells of @workload under @policy in @run_id,
 * in the order they ran: a statement to step through, or NULL after
 * saying why.
 */
static sqlite3_stmt *ok_cell_paths(sqlite3 *db, const char *run_id,
				   const char *workload, const char *policy)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT path FROM cells WHERE run_id = ?1"
			       " AND workload = ?2 AND policy = ?3 AND status = 'ok'"
			       " ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		pr_err("index: %s", sqlite3_errmsg(db));
		return NULL;
	}
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, workload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, policy, -1, SQLITE_STATIC);
	return st;
}

/*
 * an_cell_hists - merge the histogram @what ("fio", "map", "unmap",
 * "exposure": iommutrace's exposure windows) of every ok cell of @workload under
 * @policy in @run_id.  *@ncells gets the number of cells that had one.
 * A cell file that does not parse or is malformed is an error naming it.
 */
int an_cell_hists(sqlite3 *db, const char *run_id, const char *workload,
		  const char *what, const char *policy, struct hist *out,
		  size_t *ncells)
{
	sqlite3_stmt *st;
	struct hist one;
	int ret = 0;

	hist_init(out);
	*ncells = 0;
	st = ok_cell_paths(db, run_id, workload, policy);
	if (!st)
		return -1;
	while (!ret && sqlite3_step(st) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		struct json_object *cell;
		int rc;

		if (!path || !path_exists(path))
			continue;
		cell = json_read_file(path);
		if (!cell) {
			ret = -1;	/* json_read_file() said why */
			break;
		}
		rc = cell_what_hist(path, cell, what, &one);
		if (rc < 0)
			ret = -1;
		else if (rc && hist_count(&one)) {
			hist_merge(out, &one);
			(*ncells)++;
		}
		json_object_put(cell);
	}
	sqlite3_finalize(st);
	if (ret)
		hist_init(out);
	return ret;
}

/* the policies of @workload in @run_id, strict, lazy, identity first */
static size_t run_policies(sqlite3 *db, const char *run_id,
			   const char *workload, char pol[][32], size_t max)
{
	sqlite3_stmt *st;
	size_t n = 0;

	if (sqlite3_prepare_v2(db, "SELECT DISTINCT policy FROM cells WHERE run_id = ?1"
			       " AND workload = ?2 AND status = 'ok' ORDER BY"
			       " CASE policy WHEN 'strict' THEN 0 WHEN 'lazy' THEN 1"
			       " WHEN 'identity' THEN 2 ELSE 3 END, policy",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, workload, -1, SQLITE_STATIC);
	while (n < max && sqlite3_step(st) == SQLITE_ROW)
		snprintf(pol[n++], 32, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return n;
}

/* one CDF block per policy: "upper_ns fraction", blocks separated by two newlines */
static void write_cdf(FILE *dat, const char *policy, const struct hist *h)
{
	uint64_t cum = 0, n = hist_count(h);

	fprintf(dat, "# %s: %" PRIu64 " samples\n", policy, n);
	fprintf(dat, "%" PRIu64 " 0\n", hist_min(h));
	for (uint32_t i = 0; i < IBH_NR_BUCKETS; i++) {
		uint64_t up;

		if (!h->buckets[i])
			continue;
		cum += h->buckets[i];
		up = ibh_upper(i);

		fprintf(dat, "%" PRIu64 " %.6f\n", up > hist_max(h) ? hist_max(h) : up,
			(double)cum / n);
	}
	fprintf(dat, "\n\n");
}

/*
 * an_plot_cdf - CDFs of the merged histogram @what of @workload, one line
 * per policy.  Returns 0 with nothing written when no cell carries the
 * histogram (*@skipped says why).
 */
int an_plot_cdf(const char *dir, sqlite3 *db, const char *run_id,
		const char *workload, const char *what, const char *label,
		char ***out, size_t *nout, char *skipped, size_t skiplen)
{
	char pol[8][32], name[192], title[256], tmp[160];
	struct hist *h = malloc(8 * sizeof(*h));
	size_t npol = run_policies(db, run_id, workload, pol, 8), cells[8], used = 0;
	struct fig x = { 0 };
	FILE *dat, *gp;
	int ret = -1;

	skipped[0] = '\0';
	if (!h)
		return -1;
	for (size_t p = 0; p < npol; p++) {
		if (an_cell_hists(db, run_id, workload, what, pol[p], &h[p], &cells[p]))
			goto out;
		used += cells[p] > 0;
	}
	if (!used) {
		snprintf(skipped, skiplen, "%s of %s: no cell of this run carries it%s",
			 label, workload, !strcmp(what, "exposure") ?
			 " (the workload ran without iommutrace: matrix tracer = off)" : "");
		ret = 0;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "cdf-%s-%s", workload, what);
	safe_name(name, sizeof(name), tmp);
	if (fig_open(&x, dir, name))
		goto out;
	dat = x.d;
	gp = x.g;
	for (size_t p = 0; p < npol; p++)
		if (cells[p])
			write_cdf(dat, pol[p], &h[p]);
	snprintf(title, sizeof(title), "%s, %s: CDF over all repetitions (merged histograms)",
		 workload, label);
	script_head(gp, name, title, 900, 480);
	fprintf(gp, "set logscale x\nset micro\nset format x '%%.0s%%cs'\n"
		"set xlabel 'latency (log scale)'\nset ylabel 'fraction of calls <= x'\n"
		"set yrange [0:1]\nset grid xtics\n"
		"set key inside right bottom\n"
		"to_s(ns) = ns / 1e9\nplot ");
	for (size_t p = 0, k = 0; p < npol; p++) {
		if (!cells[p])
			continue;
		char p50[32];

		an_fmt_unit(p50, sizeof(p50), hist_percentile(&h[p], 50), "ns", NULL);
		fprintf(gp, "%s'%s.dat' index %zu using (to_s($1)):2 with steps lw 2 lc rgb '%s' title '%s (%zu cells, p50 %s)'",
			k ? ", " : "", name, k, an_policy_colour(pol[p]), pol[p],
			cells[p], p50);
		k++;
	}
	fputc('\n', gp);
	script_tail(gp, name, 900, 480);
	ret = fig_finish(&x, dir, name, out, nout);
out:
	fig_abort(&x);
	free(h);
	return ret;
}

/* the stale-DMA probe's trials of one policy, pooled per delay */
struct stale_pool {
	uint64_t delay_ns[32];
	unsigned long trials[32];
	unsigned long landed[32];
	size_t n;
	size_t cells;
};

/* add the per-delay counts of one cell's "stale" to @sp */
static void stale_pool_add(struct stale_pool *sp, struct json_object *stale)
{
	struct json_object *delays = json_object_object_get(stale, "delays");
	bool used = false;

	for (size_t i = 0; delays && json_object_is_type(delays, json_type_array) &&
	     i < json_object_array_length(delays); i++) {
		struct json_object *e = json_object_array_get_idx(delays, i), *v;
		uint64_t d;
		size_t k;

		if (!(v = json_object_object_get(e, "delay_ns")))
			continue;
		d = json_object_get_uint64(v);
		for (k = 0; k < sp->n && sp->delay_ns[k] != d; k++)
			;
		if (k == sp->n) {
			if (sp->n == ARRAY_SIZE(sp->delay_ns))
				continue;
			sp->delay_ns[sp->n++] = d;
		}
		sp->trials[k] += (v = json_object_object_get(e, "trials")) ? json_object_get_int64(v) : 0;
		sp->landed[k] += (v = json_object_object_get(e, "landed")) ? json_object_get_int64(v) : 0;
		sp->landed[k] += (v = json_object_object_get(e, "partial")) ? json_object_get_int64(v) : 0;
		used = true;
	}
	sp->cells += used;
}

/* the probe's cells of @workload under @policy in @run_id, pooled */
static int stale_pool_load(sqlite3 *db, const char *run_id,
			   const char *workload, const char *policy,
			   struct stale_pool *sp)
{
	sqlite3_stmt *st;

	memset(sp, 0, sizeof(*sp));
	st = ok_cell_paths(db, run_id, workload, policy);
	if (!st)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *path = (const char *)sqlite3_column_text(st, 0);
		struct json_object *cell, *stale;

		if (!path || !path_exists(path) || !(cell = json_read_file(path)))
			continue;
		stale = json_object_object_get(cell, "stale");
		if (stale)
			stale_pool_add(sp, stale);
		json_object_put(cell);
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * an_plot_stale - the stale-DMA probe of @workload: P(landed) against the
 * delay (how long before the device's write its unmap returned), one line
 * per policy, the trials of every repetition pooled per delay, with their
 * Wilson 95 % intervals as error bars.  Returns 0 with nothing written
 * when no cell carries the probe (*@skipped says why).
 */
int an_plot_stale(const char *dir, sqlite3 *db, const char *run_id,
		  const char *workload, char ***out, size_t *nout,
		  char *skipped, size_t skiplen)
{
	char pol[8][32], name[192], title[256], tmp[160];
	struct stale_pool *sp = calloc(8, sizeof(*sp));
	size_t npol = run_policies(db, run_id, workload, pol, 8), used = 0;
	struct fig x = { 0 };
	int ret = -1;

	skipped[0] = '\0';
	if (!sp)
		return -1;
	for (size_t p = 0; p < npol; p++) {
		if (stale_pool_load(db, run_id, workload, pol[p], &sp[p]))
			goto out;
		used += sp[p].n > 0;
	}
	if (!used) {
		snprintf(skipped, skiplen, "P(landed) of %s: no cell of this run carries the stale-DMA probe",
			 workload);
		ret = 0;
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "stale-%s", workload);
	safe_name(name, sizeof(name), tmp);
	if (fig_open(&x, dir, name))
		goto out;
	for (size_t p = 0; p < npol; p++) {
		if (!sp[p].n)
			continue;
		fprintf(x.d, "# %s: %zu cells; delay_ms p_landed ci95_lo ci95_hi landed trials\n",
			pol[p], sp[p].cells);
		for (size_t k = 0; k < sp[p].n; k++) {
			/* in order of delay */
			size_t m = k;
			struct stats_ci ci;

			for (size_t j = k + 1; j < sp[p].n; j++)
				if (sp[p].delay_ns[j] < sp[p].delay_ns[m])
					m = j;
			if (m != k) {
				uint64_t d = sp[p].delay_ns[k];
				unsigned long t = sp[p].trials[k], l = sp[p].landed[k];

				sp[p].delay_ns[k] = sp[p].delay_ns[m];
				sp[p].trials[k] = sp[p].trials[m];
				sp[p].landed[k] = sp[p].landed[m];
				sp[p].delay_ns[m] = d;
				sp[p].trials[m] = t;
				sp[p].landed[m] = l;
			}
			if (stats_binomial_ci(sp[p].landed[k], sp[p].trials[k], 0.95, &ci))
				continue;
			fprintf(x.d, "%.6f %.6f %.6f %.6f %lu %lu\n",
				sp[p].delay_ns[k] / 1e6, ci.est, ci.lo, ci.hi,
				sp[p].landed[k], sp[p].trials[k]);
		}
		fprintf(x.d, "\n\n");
	}
	snprintf(title, sizeof(title), "%s: the device's write after the unmap returned: P(landed) by delay, trials of all repetitions pooled",
		 workload);
	script_head(x.g, name, title, 900, 480);
	fprintf(x.g, "set xlabel 'delay: the unmap returned this long before the write (ms)'\n"
		"set ylabel 'P(landed), Wilson 95%% CI'\n"
		"set yrange [-0.05:1.05]\nset offsets 0.2, 0.2, 0, 0\n"
		"set grid xtics\nset key inside right center\nplot ");
	for (size_t p = 0, k = 0; p < npol; p++) {
		if (!sp[p].n)
			continue;
		fprintf(x.g, "%s'%s.dat' index %zu using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '%s' title '%s (%zu cell%s)'",
			k ? ", " : "", name, k, an_policy_colour(pol[p]), pol[p],
			sp[p].cells, sp[p].cells == 1 ? "" : "s");
		k++;
	}
	fputc('\n', x.g);
	script_tail(x.g, name, 900, 480);
	ret = fig_finish(&x, dir, name, out, nout);
out:
	fig_abort(&x);
	free(sp);
	return ret;
}

/*
 * an_plot_trend - a metric per kernel commit: medians with their CIs as
 * error bars, joined by a line, change points as dashed vertical lines.
 * @label[i] names point i; @cp[i] marks a change between i - 1 and i.
 */
int an_plot_trend(const char *dir, const char *name, const char *title,
		  const char *unit, size_t n, const char *const *label,
		  const struct stats_ci *ci, const bool *cp, char ***out,
		  size_t *nout)
{
	struct fig x;
	FILE *dat, *gp;

	if (fig_open(&x, dir, name))
		return -1;
	dat = x.d;
	gp = x.g;
	fprintf(dat, "# index label median lo hi\n");
	for (size_t i = 0; i < n; i++)
		fprintf(dat, "%zu \"%.12s\" %.6g %.6g %.6g\n", i, label[i], ci[i].est,
			ci[i].lo, ci[i].hi);
	script_head(gp, name, title, 1000, 480);
	fprintf(gp, "set ylabel '%s'\nset xtics rotate by -35 noenhanced\n"
		"set bmargin 8\nset offsets 0.5, 0.5, 0, 0\n", unit);
	for (size_t i = 1, k = 1; i < n; i++, k += cp[i - 1])
		if (cp[i])
			fprintf(gp, "set arrow %zu from %.1f, graph 0 to %.1f, graph 1 nohead dt 2 lw 2 lc rgb '#555555'\n"
				"set label %zu 'change' at %.1f, graph 0.97 right offset -0.5,0 tc rgb '#555555'\n",
				k, i - 0.5, i - 0.5, k, i - 0.5);
	fprintf(gp, "plot '%s.dat' using 1:3:4:5:xtic(2) with yerrorlines lw 2 pt 7 lc rgb '#333333' title 'median, 95%% CI'\n",
		name);
	script_tail(gp, name, 1000, 480);
	return fig_finish(&x, dir, name, out, nout);
}
