// SPDX-License-Identifier: GPL-2.0
/*
 * noise.c - the noise between runs: which clock timed a run, and the
 * engine of 'iommubench noise' (bench/cli/cmd-noise.c), which estimates
 * from A/A runs (the same matrix run several times) how far the mean of
 * one run moves away from another's, so that the gate can judge two
 * separate runs (docs/analysis.md).
 *
 * Model, per series (configuration and metric), on the log scale: a
 * repetition of run r is mu + u_r + e, with u_r ~ N(0, tau^2) shared by
 * the run's repetitions (host load, placement, the state of the host's
 * caches during that run) and e ~ N(0, sigma^2) per boot.  From k runs,
 * tau^2 = var(run means) - mean(sigma_r^2 / n_r) (method of moments).
 * The estimate is pooled per metric over its configurations (a few runs
 * give one noisy estimate per series) and counted with k - 1 degrees of
 * freedom: the offsets of one run may be shared by all its series, so
 * more series do not mean more independent information.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "clock.h"
#include "json.h"
#include "log.h"
#include "util.h"

#define NOISE_SCHEMA	"iommubench.noise/1"

/*
 * The manifest's settings.clock, else a top-level "clock", else "host":
 * runs made before clocks were recorded ran on the host's.  One name per
 * clock (ib_clock_name(): "icount" is "icount:0"), so that two runs on the
 * same clock compare equal however their manifests spell it.
 */
char *an_run_clock(const struct an_run *run)
{
	char *path = xasprintf("%s/manifest.json", run->dir);
	struct json_object *man = NULL, *settings;
	const char *clock = NULL;
	struct ib_clock c = { .icount = false };
	char name[16], *ret = NULL;

	if (path && path_exists(path))
		man = json_read_file(path);
	if (man && json_object_object_get_ex(man, "settings", &settings))
		clock = json_get_string(settings, "clock");
	if (man && !clock)
		clock = json_get_string(man, "clock");
	if (clock && *clock && ib_clock_parse(clock, &c))
		pr_err("%s: clock \"%s\" is none of host, icount, icount:N",
		       path, clock);
	else
		ret = strdup(ib_clock_name(&c, name, sizeof(name)));
	json_object_put(man);
	free(path);
	return ret;
}

/* --- the noise file ---------------------------------------------------------- */

void an_noise_free(struct an_noise *nz)
{
	for (size_t i = 0; i < nz->n; i++)
		free(nz->m[i].metric);
	free(nz->m);
	free(nz->path);
	free(nz->clock);
	memset(nz, 0, sizeof(*nz));
}

int an_noise_load(const char *path, struct an_noise *nz)
{
	struct json_object *root, *arr;
	const char *schema;
	int ret = -1;

	memset(nz, 0, sizeof(*nz));
	root = json_read_file(path);
	if (!root)
		return -1;
	schema = json_get_string(root, "schema");
	if (!schema || strcmp(schema, NOISE_SCHEMA)) {
		pr_err("%s: not a noise estimate (schema %s, expected %s; made by 'iommubench noise')",
		       path, schema ? schema : "missing", NOISE_SCHEMA);
		goto out;
	}
	if (!json_object_object_get_ex(root, "metrics", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		pr_err("%s: no \"metrics\" array", path);
		goto out;
	}
	nz->path = strdup(path);
	nz->clock = strdup(json_get_string(root, "clock") ?: "host");
	nz->m = calloc(json_object_array_length(arr) + 1, sizeof(*nz->m));
	if (!nz->path || !nz->clock || !nz->m)
		goto out;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *e = json_object_array_get_idx(arr, i), *t, *r;
		const char *metric = json_get_string(e, "metric");
		double tau;
		int64_t runs;

		if (!metric || !json_object_object_get_ex(e, "tau", &t) ||
		    !json_object_object_get_ex(e, "runs", &r)) {
			pr_err("%s: metrics[%zu]: needs \"metric\", \"tau\" and \"runs\"",
			       path, i);
			goto out;
		}
		tau = json_object_get_double(t);
		runs = json_object_get_int64(r);
		if (!(tau >= 0) || isinf(tau) || runs < 2) {
			pr_err("%s: metrics[%zu] (%s): tau must be a number >= 0 and runs at least 2",
			       path, i, metric);
			goto out;
		}
		nz->m[nz->n].metric = strdup(metric);
		if (!nz->m[nz->n].metric)
			goto out;
		nz->m[nz->n].tau = tau;
		nz->m[nz->n++].runs = runs;
	}
	ret = 0;
out:
	if (ret)
		an_noise_free(nz);
	json_object_put(root);
	return ret;
}

const struct an_noise_metric *an_noise_find(const struct an_noise *nz,
					    const char *metric)
{
	for (size_t i = 0; i < nz->n; i++)
		if (!strcmp(nz->m[i].metric, metric))
			return &nz->m[i];
	return NULL;
}

/* --- iommubench noise ------------------------------------------------------ */

struct noise_run {
	struct an_run run;
	sqlite3 *db;
	struct an_dataset ds;
	size_t at;		/* merge cursor */
};

/* per metric: the sum of the series' between-run variances */
struct noise_acc {
	const char *metric;	/* interned in one of the runs' datasets */
	const char *unit;
	double sum;
	size_t series;
};

static struct noise_acc *acc_get(struct noise_acc **acc, size_t *n,
				 const struct an_series *s)
{
	struct noise_acc *grow;

	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*acc)[i].metric, s->dim[AN_METRIC]))
			return &(*acc)[i];
	grow = realloc(*acc, (*n + 1) * sizeof(*grow));
	if (!grow)
		return NULL;
	*acc = grow;
	grow[*n] = (struct noise_acc){ .metric = s->dim[AN_METRIC],
				       .unit = s->unit };
	return &grow[(*n)++];
}

static bool any_zero(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == 0)
			return true;
	return false;
}

/* one estimate: the runs, per metric the sums, and the JSON document */
struct noise {
	const struct an_noise_req *r;
	struct noise_run *runs;
	size_t k;		/* runs */
	char *clock;		/* the runs' one clock */
	struct noise_acc *acc;
	size_t nacc;
	size_t skipped;		/* series not in every run, or all 0 */
	struct json_object *jroot, *jmetrics, *jseries;
};

/* Load run @r of @nz; -1 after saying why. */
static int load_run(struct noise *nz, size_t r)
{
	const struct an_noise_req *req = nz->r;
	struct noise_run *nr = &nz->runs[r];
	char *c;

	if (an_resolve_run(req->runs[r], req->root, &nr->run))
		return -1;
	nr->db = store_open_readonly(nr->run.root);
	if (!nr->db || an_load_run(nr->db, nr->run.id, &nr->ds))
		return -1;
	if (!nr->ds.n) {
		pr_err("run %s: no metrics in %s/index.sqlite (no ok cells, or no such run)",
		       nr->run.id, nr->run.root);
		return -1;
	}
	if (an_filter_metrics(&nr->ds, req->metrics, req->nmetrics))
		return -1;
	for (size_t q = 0; q < r; q++)
		if (!strcmp(nz->runs[q].run.dir, nr->run.dir)) {
			pr_err("run %s given twice: the estimate needs distinct runs",
			       nr->run.id);
			return -1;
		}
	c = an_run_clock(&nr->run);
	if (!c)
		return -1;
	if (nz->clock && strcmp(nz->clock, c)) {
		pr_err("run %s is on clock %s, run %s on %s: A/A runs share one clock",
		       nz->runs[0].run.id, nz->clock, nr->run.id, c);
		free(c);
		return -1;
	}
	free(nz->clock);
	nz->clock = c;
	an_sort(&nr->ds, AN_POLICY);
	return 0;
}

/* Add series @s's between-run variance @bv to its metric's sum. */
static int add_series(struct noise *nz, const struct an_series *s, double bv,
		      bool raw)
{
	struct noise_acc *a = acc_get(&nz->acc, &nz->nacc, s);
	struct json_object *e;

	if (!a)
		return -1;
	a->sum += bv;
	a->series++;
	e = json_object_new_object();
	for (int d = AN_KERNEL; d < AN_NR_DIMS; d++)
		json_object_object_add(e, an_dim_names[d],
				       json_object_new_string(s->dim[d]));
	json_object_object_add(e, "between_var", json_object_new_double(bv));
	json_object_object_add(e, "scale", json_object_new_string(raw ? "relative" : "log"));
	json_object_array_add(nz->jseries, e);
	return 0;
}

/*
 * Merge-join the runs' sorted datasets: a series counts when every run has
 * it (with at least 2 repetitions, not 0 throughout).
 */
static int merge_series(struct noise *nz)
{
	const double **v = calloc(nz->k, sizeof(*v));
	size_t *n = calloc(nz->k, sizeof(*n));
	int ret = -1;

	if (!v || !n)
		goto out;
	for (;;) {
		const struct an_series *lo = NULL;
		size_t have = 0;
		bool raw = false;
		double bv;

		for (size_t r = 0; r < nz->k; r++) {
			struct noise_run *nr = &nz->runs[r];
			const struct an_series *s = nr->at < nr->ds.n ? &nr->ds.s[nr->at] : NULL;

			if (s && (!lo || an_key_cmp(s, lo, AN_POLICY, true) < 0))
				lo = s;
		}
		if (!lo)
			break;
		for (size_t r = 0; r < nz->k; r++) {
			struct noise_run *nr = &nz->runs[r];
			const struct an_series *s = nr->at < nr->ds.n ? &nr->ds.s[nr->at] : NULL;

			if (s && !an_key_cmp(s, lo, AN_POLICY, true)) {
				v[have] = s->v;
				n[have] = s->n;
				raw |= any_zero(s->v, s->n);
				have++;
				nr->at++;
			}
		}
		bv = have == nz->k ? stats_between_var(v, n, nz->k, raw) : NAN;
		if (isnan(bv))
			/* in some runs only, too few repetitions, or all zero */
			nz->skipped++;
		else if (add_series(nz, lo, bv, raw))
			goto out;
	}
	ret = 0;
out:
	free(v);
	free(n);
	return ret;
}

/* Per metric, the estimate: into the JSON, and the table unless @quiet. */
static int tabulate(struct noise *nz, bool quiet)
{
	struct an_table t;
	int ret = 0;

	an_table_init(&t, "lrr");
	an_table_row(&t);
	an_table_cell(&t, "metric");
	an_table_cell(&t, "noise");
	an_table_cell(&t, "series");
	for (size_t i = 0; i < nz->nacc; i++) {
		const struct noise_acc *a = &nz->acc[i];
		struct json_object *e = json_object_new_object();
		double var = a->sum / a->series;
		double tau = var > 0 ? sqrt(var) : 0;

		json_object_object_add(e, "metric", json_object_new_string(a->metric));
		json_object_object_add(e, "unit", json_object_new_string(a->unit));
		json_object_object_add(e, "tau", json_object_new_double(tau));
		json_object_object_add(e, "runs", json_object_new_int64(nz->k));
		json_object_object_add(e, "series", json_object_new_int64(a->series));
		json_object_array_add(nz->jmetrics, e);
		an_table_row(&t);
		an_table_cell(&t, "%s", a->metric);
		an_table_cell(&t, "%.2f%%", (exp(tau) - 1) * 100);
		an_table_cell(&t, "%zu", a->series);
	}
	if (!quiet) {
		printf("between-run noise from %zu runs (clock %s), per metric: the standard deviation of a run's offset\n",
		       nz->k, nz->clock);
		ret = an_table_print(&t, stdout, "  ");
		if (!ret && nz->skipped)
			printf("%zu series left out: not in every run, fewer than 2 repetitions in one, or 0 throughout\n",
			       nz->skipped);
	}
	an_table_free(&t);
	return ret;
}

/* The document's head: schema, clock, runs; metrics and series to come. */
static void json_head(struct noise *nz)
{
	struct json_object *jr = json_object_new_array();

	nz->jroot = json_object_new_object();
	nz->jmetrics = json_object_new_array();
	nz->jseries = json_object_new_array();
	json_object_object_add(nz->jroot, "schema", json_object_new_string(NOISE_SCHEMA));
	json_object_object_add(nz->jroot, "clock", json_object_new_string(nz->clock));
	for (size_t r = 0; r < nz->k; r++)
		json_object_array_add(jr, json_object_new_string(nz->runs[r].run.id));
	json_object_object_add(nz->jroot, "runs", jr);
	json_object_object_add(nz->jroot, "metrics", nz->jmetrics);
	json_object_object_add(nz->jroot, "series", nz->jseries);
}

static int estimate(struct noise *nz)
{
	const struct an_noise_req *req = nz->r;
	bool to_stdout = !strcmp(req->json, "-");

	for (size_t r = 0; r < nz->k; r++) {
		an_dataset_init(&nz->runs[r].ds);
		if (load_run(nz, r))
			return -1;
	}
	json_head(nz);
	if (merge_series(nz))
		return -1;
	if (!nz->nacc) {
		pr_err("no series is in all %zu runs with at least 2 repetitions each%s",
		       nz->k, req->nmetrics ? " (among the --metric patterns)" : "");
		return -1;
	}
	if (tabulate(nz, to_stdout) || json_output(req->json, nz->jroot))
		return -1;
	if (!to_stdout)
		printf("noise: %s\n", req->json);
	return an_stdout_done();
}

int an_noise_estimate(const struct an_noise_req *req)
{
	struct noise nz = { .r = req, .k = req->nruns };
	int ret = -1;

	nz.runs = calloc(nz.k + 1, sizeof(*nz.runs));
	if (nz.runs)
		ret = estimate(&nz);
	json_object_put(nz.jroot);
	for (size_t r = 0; nz.runs && r < nz.k; r++) {
		an_dataset_free(&nz.runs[r].ds);
		if (nz.runs[r].db)
			sqlite3_close(nz.runs[r].db);
		an_run_free(&nz.runs[r].run);
	}
	free(nz.runs);
	free(nz.acc);
	free(nz.clock);
	return ret;
}
