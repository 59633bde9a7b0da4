// SPDX-License-Identifier: GPL-2.0
/*
 * noise.c - the noise between runs: which clock timed a run, and
 * 'iommubench noise', which estimates from A/A runs (the same matrix run
 * several times) how far the mean of one run moves away from another's,
 * so that the gate can judge two separate runs (docs/analysis.md).
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
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "clock.h"
#include "exitcodes.h"
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

static void noise_usage(FILE *f)
{
	fprintf(f,
		"usage: iommubench noise [options] --out FILE RUN RUN [RUN...]\n"
		"\n"
		"Estimate, from runs of one matrix repeated without changes (A/A), how\n"
		"far the mean of a run moves between runs: per metric, the standard\n"
		"deviation of a run's offset on the log scale.  'iommubench gate --noise\n"
		"FILE' uses it to judge two separate runs on the host clock.\n"
		"\n"
		"  -r, --results DIR     results root (default: results)\n"
		"  -o, --out FILE        where to write the estimate (iommubench.noise/1)\n"
		"  -m, --metric PATTERN  only these metrics (glob, repeatable)\n"
		"\n"
		"exit status: 0 written, 1 an error, 2 usage\n");
}

int cmd_noise(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "metric", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *root = NULL, *out = NULL;
	char *pat[64], *clock = NULL;
	size_t npat = 0, k = 0, nacc = 0, skipped = 0;
	struct noise_run *runs = NULL;
	struct noise_acc *acc = NULL;
	struct json_object *jroot = NULL, *jm, *js, *jr;
	const double **v = NULL;
	size_t *n = NULL;
	struct an_table t;
	int ch, ret = EXIT_ERROR;

	an_table_init(&t, "lrr");
	while ((ch = getopt_long(argc, argv, "r:o:m:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r':
			root = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'm':
			if (npat == ARRAY_SIZE(pat)) {
				pr_err("too many --metric");
				return EXIT_USAGE;
			}
			pat[npat++] = optarg;
			break;
		case 'h':
			noise_usage(stdout);
			return EXIT_OK;
		default:
			noise_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!out || argc - optind < 2) {
		pr_err("needs --out FILE and at least two runs");
		noise_usage(stderr);
		return EXIT_USAGE;
	}
	k = argc - optind;
	runs = calloc(k, sizeof(*runs));
	v = calloc(k, sizeof(*v));
	n = calloc(k, sizeof(*n));
	if (!runs || !v || !n)
		goto out;
	for (size_t r = 0; r < k; r++) {
		struct noise_run *nr = &runs[r];
		char *c;

		an_dataset_init(&nr->ds);
		if (an_resolve_run(argv[optind + r], root, &nr->run))
			goto out;
		nr->db = store_open_readonly(nr->run.root);
		if (!nr->db || an_load_run(nr->db, nr->run.id, &nr->ds))
			goto out;
		if (!nr->ds.n) {
			pr_err("run %s: no metrics in %s/index.sqlite (no ok cells, or no such run)",
			       nr->run.id, nr->run.root);
			goto out;
		}
		if (an_filter_metrics(&nr->ds, pat, npat))
			goto out;
		for (size_t q = 0; q < r; q++)
			if (!strcmp(runs[q].run.dir, nr->run.dir)) {
				pr_err("run %s given twice: the estimate needs distinct runs",
				       nr->run.id);
				goto out;
			}
		c = an_run_clock(&nr->run);
		if (!c)
			goto out;
		if (clock && strcmp(clock, c)) {
			pr_err("run %s is on clock %s, run %s on %s: A/A runs share one clock",
			       runs[0].run.id, clock, nr->run.id, c);
			free(c);
			goto out;
		}
		free(clock);
		clock = c;
		an_sort(&nr->ds, AN_POLICY);
	}
	jroot = json_object_new_object();
	jr = json_object_new_array();
	jm = json_object_new_array();
	js = json_object_new_array();
	json_object_object_add(jroot, "schema", json_object_new_string(NOISE_SCHEMA));
	json_object_object_add(jroot, "clock", json_object_new_string(clock));
	for (size_t r = 0; r < k; r++)
		json_object_array_add(jr, json_object_new_string(runs[r].run.id));
	json_object_object_add(jroot, "runs", jr);
	json_object_object_add(jroot, "metrics", jm);
	json_object_object_add(jroot, "series", js);
	/* merge-join the k sorted datasets: a series counts when every run has it */
	for (;;) {
		const struct an_series *lo = NULL;
		size_t have = 0;
		bool raw = false;
		double bv;

		for (size_t r = 0; r < k; r++) {
			const struct an_series *s = runs[r].at < runs[r].ds.n ?
				&runs[r].ds.s[runs[r].at] : NULL;

			if (s && (!lo || an_key_cmp(s, lo, AN_POLICY, true) < 0))
				lo = s;
		}
		if (!lo)
			break;
		for (size_t r = 0; r < k; r++) {
			const struct an_series *s = runs[r].at < runs[r].ds.n ?
				&runs[r].ds.s[runs[r].at] : NULL;

			if (s && !an_key_cmp(s, lo, AN_POLICY, true)) {
				v[have] = s->v;
				n[have] = s->n;
				raw |= any_zero(s->v, s->n);
				have++;
				runs[r].at++;
			}
		}
		bv = have == k ? stats_between_var(v, n, k, raw) : NAN;
		if (isnan(bv)) {
			/* in some runs only, too few repetitions, or all zero */
			skipped++;
			continue;
		}
		{
			struct noise_acc *a = acc_get(&acc, &nacc, lo);
			struct json_object *e = json_object_new_object();

			if (!a) {
				json_object_put(e);
				goto out;
			}
			a->sum += bv;
			a->series++;
			for (int d = AN_KERNEL; d < AN_NR_DIMS; d++)
				json_object_object_add(e, an_dim_names[d],
						       json_object_new_string(lo->dim[d]));
			json_object_object_add(e, "between_var", json_object_new_double(bv));
			json_object_object_add(e, "scale", json_object_new_string(raw ? "relative" : "log"));
			json_object_array_add(js, e);
		}
	}
	if (!nacc) {
		pr_err("no series is in all %zu runs with at least 2 repetitions each%s",
		       k, npat ? " (among the --metric patterns)" : "");
		goto out;
	}
	printf("between-run noise from %zu runs (clock %s), per metric: the standard deviation of a run's offset\n",
	       k, clock);
	an_table_row(&t);
	an_table_cell(&t, "metric");
	an_table_cell(&t, "noise");
	an_table_cell(&t, "series");
	for (size_t i = 0; i < nacc; i++) {
		struct json_object *e = json_object_new_object();
		double var = acc[i].sum / acc[i].series;
		double tau = var > 0 ? sqrt(var) : 0;

		json_object_object_add(e, "metric", json_object_new_string(acc[i].metric));
		json_object_object_add(e, "unit", json_object_new_string(acc[i].unit));
		json_object_object_add(e, "tau", json_object_new_double(tau));
		json_object_object_add(e, "runs", json_object_new_int64(k));
		json_object_object_add(e, "series", json_object_new_int64(acc[i].series));
		json_object_array_add(jm, e);
		an_table_row(&t);
		an_table_cell(&t, "%s", acc[i].metric);
		an_table_cell(&t, "%.2f%%", (exp(tau) - 1) * 100);
		an_table_cell(&t, "%zu", acc[i].series);
	}
	if (an_table_print(&t, stdout, "  "))
		goto out;
	if (skipped)
		printf("%zu series left out: not in every run, fewer than 2 repetitions in one, or 0 throughout\n",
		       skipped);
	if (json_write_file(out, jroot)) {
		pr_err("%s: %s", out, strerror(errno));
		goto out;
	}
	printf("noise: %s\n", out);
	ret = an_stdout_done() ? EXIT_ERROR : EXIT_OK;
out:
	an_table_free(&t);
	json_object_put(jroot);
	for (size_t r = 0; runs && r < k; r++) {
		an_dataset_free(&runs[r].ds);
		if (runs[r].db)
			sqlite3_close(runs[r].db);
		an_run_free(&runs[r].run);
	}
	free(runs);
	free(acc);
	free(clock);
	free(v);
	free(n);
	return ret;
}
