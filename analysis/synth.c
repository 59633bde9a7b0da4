// SPDX-License-Identifier: GPL-2.0
/*
 * synth.c - 'iommubench synth-store' (hidden): a synthetic result store
 * for the analysis tests and the speed benchmark (docs/analysis.md)
 *
 * Writes runs in the layout of results/README -- manifest, cell files
 * with fio and dmabench output (histograms included), optionally an
 * iommutrace object -- and indexes them through lib/store.c, so the
 * metrics come from cell_metrics() exactly as for real runs.  Values are
 * log-normal around per-policy medians resembling TCG runs of the default
 * matrix; --sd sets the dispersion (standard deviation of the logs), and
 * --shift METRIC=PCT multiplies one metric's values.  Values carry no
 * noise between runs unless --run-offset PCT moves the whole run; the
 * manifest records the clock given by --clock (none: the host's, as a
 * real run that does not say).
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analysis.h"
#include "hist.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "exitcodes.h"
#include "store.h"

/* medians per policy: strict, lazy, identity */
struct base {
	double fio_iops[3];
	double map_p50[3];
	double unmap_p50[3];
};

static const struct base base = {
	.fio_iops = { 7700, 8400, 11700 },
	.map_p50 = { 1970, 1890, 474 },
	.unmap_p50 = { 3310, 1470, 422 },
};

static const char *const policies[] = { "strict", "lazy", "identity" };
static const char *const types[] = { "DMA", "DMA-FQ", "identity" };

struct synth {
	const char *root;
	const char *run;
	unsigned int kernels;
	unsigned int iommus;
	unsigned int npol;
	unsigned int reps;
	double sd;
	uint64_t seed;
	bool files;
	bool trace;
	double kernel_step;	/* per-kernel drift of everything, for history */
	char *shift_pat[16];
	double shift[16];
	unsigned int nshift;
	int shift_kernel;	/* the kernel the shifts apply to, -1: all */
	int cur_kernel;		/* the kernel of the cell being written */
	double run_factor;	/* every value of the run, --run-offset */
	int klist[64];		/* --kernel-list, else kernel_base.. */
	unsigned int nklist;
	const char *fail_policy;	/* its cells fail */
	const char *clock;
	bool fq_flush;
	struct stats_rng rng;
	int kernel_base;
	const char *started;
};

static double shifted(struct synth *s, const char *metric, double v)
{
	if (s->shift_kernel >= 0 && s->cur_kernel != s->shift_kernel)
		return v;
	for (unsigned int i = 0; i < s->nshift; i++)
		if (!fnmatch(s->shift_pat[i], metric, 0))
			v *= 1 + s->shift[i];
	return v;
}

static double lognorm(struct synth *s, double median, double sd)
{
	return median * exp(sd * stats_rng_normal(&s->rng));
}

/* a latency histogram of @n draws around @median into @h */
static void draw_hist(struct synth *s, struct hist *h, double median,
		      double sd, unsigned int n)
{
	hist_init(h);
	for (unsigned int i = 0; i < n; i++)
		hist_record(h, (uint64_t)lognorm(s, median, sd));
}

static struct json_object *fio_json(struct synth *s, int pol, double factor)
{
	struct json_object *fio = json_object_new_object(), *jobs, *job, *rd,
			   *clat, *pct, *bins;
	double iops = shifted(s, "fio.read.iops",
			      lognorm(s, base.fio_iops[pol] * factor, s->sd));
	double mean = 16e9 / iops;
	struct hist h;
	char key[32];

	jobs = json_object_new_array();
	job = json_object_new_object();
	rd = json_object_new_object();
	clat = json_object_new_object();
	pct = json_object_new_object();
	bins = json_object_new_object();
	json_object_object_add(fio, "fio version", json_object_new_string("fio-synthetic"));
	json_object_object_add(fio, "jobs", jobs);
	json_object_array_add(jobs, job);
	json_object_object_add(job, "read", rd);
	json_object_object_add(rd, "io_bytes", json_object_new_int64((int64_t)(iops * 4096 * 8)));
	json_object_object_add(rd, "iops", json_object_new_double(iops));
	json_object_object_add(rd, "bw_bytes", json_object_new_int64((int64_t)(shifted(s, "fio.read.bw", iops * 4096))));
	json_object_object_add(rd, "clat_ns", clat);
	json_object_object_add(clat, "mean", json_object_new_double(shifted(s, "fio.read.clat_mean", mean)));
	json_object_object_add(clat, "percentile", pct);
	json_object_object_add(pct, "50.000000", json_object_new_double(shifted(s, "fio.read.clat_p50", mean * 0.8)));
	json_object_object_add(pct, "99.000000", json_object_new_double(shifted(s, "fio.read.clat_p99", lognorm(s, mean * 4, s->sd))));
	/* fio's json+ bins: value -> count */
	if (s->files) {
		draw_hist(s, &h, mean * 0.8, 0.5, 2000);
		for (uint32_t i = 0; i < IBH_NR_BUCKETS; i++) {
			if (!h.buckets[i])
				continue;
			snprintf(key, sizeof(key), "%" PRIu64, (uint64_t)ibh_lower(i));
			json_object_object_add(bins, key, json_object_new_int64(h.buckets[i]));
		}
	}
	json_object_object_add(clat, "bins", bins);
	json_object_object_add(job, "write", json_object_new_object());
	return fio;
}

static struct json_object *dmabench_json(struct synth *s, int pol, double factor)
{
	struct json_object *db = json_object_new_object(), *res, *ops;
	static const char *const opn[] = { "map", "unmap" };
	double p50[2] = { base.map_p50[pol] * factor, base.unmap_p50[pol] * factor };
	double rate;
	char name[64];

	p50[0] = lognorm(s, p50[0], s->sd);
	p50[1] = lognorm(s, p50[1], s->sd);
	rate = 1e9 / (p50[0] + p50[1] + 400);
	res = json_object_new_object();
	ops = json_object_new_object();
	json_object_object_add(db, "schema", json_object_new_string("iommubench.dmabench/1"));
	json_object_object_add(db, "result", res);
	json_object_object_add(res, "ops", ops);
	for (int i = 0; i < 2; i++) {
		struct json_object *op = json_object_new_object(), *lat;
		struct hist h;

		if (s->files) {
			draw_hist(s, &h, p50[i], 0.25, 3000);
			lat = hist_to_json(&h);
		} else {
			lat = json_object_new_object();
			json_object_object_add(lat, "mean", json_object_new_double(p50[i] * 1.1));
		}
		snprintf(name, sizeof(name), "dmabench.%s.p50", opn[i]);
		json_object_object_add(lat, "p50", json_object_new_double(shifted(s, name, p50[i])));
		snprintf(name, sizeof(name), "dmabench.%s.p99", opn[i]);
		json_object_object_add(lat, "p99", json_object_new_double(shifted(s, name, p50[i] * 2.4)));
		snprintf(name, sizeof(name), "dmabench.%s.mean", opn[i]);
		json_object_object_add(lat, "mean", json_object_new_double(shifted(s, name, p50[i] * 1.1)));
		snprintf(name, sizeof(name), "dmabench.%s.rate", opn[i]);
		json_object_object_add(op, "ops_per_sec", json_object_new_double(shifted(s, name, rate)));
		json_object_object_add(op, "latency", lat);
		json_object_object_add(ops, opn[i], op);
	}
	return db;
}

/* what iommutrace's JSON carries about the exposure window (docs/iommutrace.md) */
static struct json_object *trace_json(struct synth *s, int pol)
{
	struct json_object *it = json_object_new_object(), *ex = json_object_new_object();
	struct hist lazy, strict;

	hist_init(&lazy);
	hist_init(&strict);
	if (pol == 1)
		draw_hist(s, &lazy, 4e6, 0.6, 5000);
	if (pol == 0)
		draw_hist(s, &strict, 900, 0.3, 5000);
	json_object_object_add(it, "exposure_window", ex);
	json_object_object_add(ex, "strict", hist_to_json(&strict));
	json_object_object_add(ex, "lazy", hist_to_json(&lazy));
	if (s->fq_flush) {
		struct json_object *fq = json_object_new_object();
		/* 8 s; the flush-queue timer fires in lazy mode only */
		double timer = pol == 1 ? shifted(s, "trace.fq_flush.timer_rate",
						  lognorm(s, 95, s->sd)) * 8 : 0;

		json_object_object_add(it, "duration_ns", json_object_new_int64(8000000000LL));
		json_object_object_add(fq, "timer", json_object_new_int64(llround(timer)));
		json_object_object_add(fq, "queue_full", json_object_new_int64(0));
		json_object_object_add(it, "fq_flush", fq);
	}
	return it;
}

static int write_run(struct synth *s)
{
	char *dir = xasprintf("%s/%s", s->root, s->run), *cdir = xasprintf("%s/cells", dir);
	char *mpath = NULL;
	struct json_object *man = json_object_new_object(), *tools, *host;
	unsigned int nk = s->nklist ? s->nklist : s->kernels;
	unsigned int seq = 0, ncfg = nk * s->iommus * s->npol;
	unsigned int *order = calloc(ncfg, sizeof(*order));
	sqlite3 *db = NULL;
	int ret = -1;

	if (!dir || !cdir || !order || mkdir_p(cdir, 0755)) {
		pr_err("%s: %s", dir ? dir : s->root, strerror(errno));
		goto out;
	}
	db = store_open(s->root);
	if (!db)
		goto out;
	/* store_add_cell() makes one transaction per cell: make them cheap */
	sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY",
		     NULL, NULL, NULL);
	json_object_object_add(man, "schema", json_object_new_string("iommubench.manifest/1"));
	json_object_object_add(man, "run_id", json_object_new_string(s->run));
	json_object_object_add(man, "started", json_object_new_string(s->started));
	json_object_object_add(man, "finished", json_object_new_string(s->started));
	json_object_object_add(man, "target", json_object_new_string("synthetic"));
	if (s->clock) {
		struct json_object *settings = json_object_new_object();

		json_object_object_add(settings, "clock", json_object_new_string(s->clock));
		json_object_object_add(man, "settings", settings);
	}
	json_object_object_add(man, "seed", json_object_new_int64((int64_t)s->seed));
	host = json_object_new_object();
	json_object_object_add(host, "name", json_object_new_string("synth-store"));
	json_object_object_add(man, "host", host);
	tools = json_object_new_object();
	json_object_object_add(tools, "iommubench", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(man, "tools", tools);
	mpath = xasprintf("%s/manifest.json", dir);
	if (!mpath || json_write_file(mpath, man) || store_add_run(db, man, dir))
		goto out;
	for (unsigned int c = 0; c < ncfg; c++)
		order[c] = c;
	/* interleaved rounds, shuffled per round, as the runner does */
	for (unsigned int rep = 1; rep <= s->reps; rep++) {
		for (unsigned int c = ncfg; c > 1; c--) {
			unsigned int k = stats_rng_below(&s->rng, c), t = order[c - 1];

			order[c - 1] = order[k];
			order[k] = t;
		}
		for (unsigned int c = 0; c < ncfg; c++) {
			unsigned int cfg = order[c];
			int pol = cfg % s->npol;
			unsigned int io = cfg / s->npol % s->iommus;
			unsigned int kx = cfg / s->npol / s->iommus;
			unsigned int kn = s->nklist ? (unsigned int)s->klist[kx] :
				kx + s->kernel_base;
			double factor = pow(1 + s->kernel_step, (int)kn - s->kernel_base) *
					s->run_factor;
			bool fail = s->fail_policy && !strcmp(s->fail_policy, policies[pol]);

			s->cur_kernel = kn;

			for (int w = 0; w < 2; w++) {
				struct json_object *cell = json_object_new_object(), *cf, *wl, *pv;
				char id[160], kern[32], kname[32], commit[48], iommu[16], *path;

				snprintf(kern, sizeof(kern), "synth:%u", kn);
				snprintf(kname, sizeof(kname), "synth-%u", kn);
				snprintf(commit, sizeof(commit), "%016" PRIx64 "%016" PRIx64 "%08x",
					 (uint64_t)((kn + 1) * 0x9e3779b97f4a7c15ULL),
					 (uint64_t)((kn + 7) * 0xbf58476d1ce4e5b9ULL), kn);
				snprintf(iommu, sizeof(iommu), s->iommus == 1 ? "intel" : "iommu%u", io);
				snprintf(id, sizeof(id), "%s-%s-%s-%s-r%u", kname, iommu,
					 policies[pol], w ? "dmabench-single" : "fio-randread", rep);
				cf = json_object_new_object();
				json_object_object_add(cf, "kernel", json_object_new_string(kern));
				json_object_object_add(cf, "kernel_name", json_object_new_string(kname));
				json_object_object_add(cf, "kernel_version", json_object_new_string(kname + 6));
				json_object_object_add(cf, "kernel_commit", json_object_new_string(commit));
				json_object_object_add(cf, "iommu", json_object_new_string(iommu));
				json_object_object_add(cf, "policy", json_object_new_string(policies[pol]));
				json_object_object_add(cf, "mechanism", json_object_new_string("cmdline"));
				wl = json_object_new_object();
				json_object_object_add(wl, "name", json_object_new_string(w ? "dmabench-single" : "fio-randread"));
				json_object_object_add(wl, "type", json_object_new_string(w ? "dmabench" : "fio"));
				pv = json_object_new_object();
				json_object_object_add(pv, "type", json_object_new_string(types[pol]));
				json_object_object_add(pv, "policy", json_object_new_string(policies[pol]));
				json_object_object_add(pv, "ok", json_object_new_boolean(true));
				json_object_object_add(cell, "schema", json_object_new_string("iommubench.cell/1"));
				json_object_object_add(cell, "id", json_object_new_string(id));
				json_object_object_add(cell, "seq", json_object_new_int(++seq));
				json_object_object_add(cell, "rep", json_object_new_int(rep));
				json_object_object_add(cell, "config", cf);
				json_object_object_add(cell, "workload", wl);
				json_object_object_add(cell, "policy_verified", pv);
				json_object_object_add(cell, "started", json_object_new_string(s->started));
				json_object_object_add(cell, "status", json_object_new_string(fail ? "failed" : "ok"));
				if (fail)
					json_object_object_add(cell, "error", json_object_new_string("synthetic failure (--fail-policy)"));
				else
					json_object_object_add(cell, w ? "dmabench" : "fio",
							       w ? dmabench_json(s, pol, factor) :
								   fio_json(s, pol, factor));
				if (s->trace && w && !fail)
					json_object_object_add(cell, "iommutrace", trace_json(s, pol));
				path = xasprintf("%s/%s.json", cdir, id);
				if (!path || (s->files && json_write_file(path, cell)) ||
				    store_add_cell(db, s->run, cell, path)) {
					free(path);
					json_object_put(cell);
					goto out;
				}
				free(path);
				json_object_put(cell);
			}
		}
	}
	ret = 0;
out:
	store_close(db);
	json_object_put(man);
	free(order);
	free(mpath);
	free(dir);
	free(cdir);
	return ret;
}

int cmd_synth_store(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "results", required_argument, NULL, 'r' },
		{ "run", required_argument, NULL, 'R' },
		{ "kernels", required_argument, NULL, 'k' },
		{ "kernel-base", required_argument, NULL, 'K' },
		{ "kernel-step", required_argument, NULL, 'S' },
		{ "iommus", required_argument, NULL, 'i' },
		{ "policies", required_argument, NULL, 'p' },
		{ "reps", required_argument, NULL, 'n' },
		{ "sd", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "shift", required_argument, NULL, 'x' },
		{ "started", required_argument, NULL, 't' },
		{ "no-files", no_argument, NULL, 'F' },
		{ "iommutrace", no_argument, NULL, 'T' },
		{ "fq-flush", no_argument, NULL, 'Q' },
		{ "clock", required_argument, NULL, 'c' },
		{ "run-offset", required_argument, NULL, 'o' },
		{ "kernel-list", required_argument, NULL, 'l' },
		{ "shift-kernel", required_argument, NULL, 'X' },
		{ "fail-policy", required_argument, NULL, 'f' },
		{ 0 }
	};
	struct synth s = {
		.root = "results", .run = "synthetic", .kernels = 1, .iommus = 1,
		.npol = 3, .reps = 5, .sd = 0.02, .seed = 1, .files = true,
		.started = "2026-01-01T00:00:00Z", .shift_kernel = -1,
		.run_factor = 1,
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
		char *eq;

		switch (ch) {
		case 'r':
			s.root = optarg;
			break;
		case 'R':
			s.run = optarg;
			break;
		case 'k':
			s.kernels = atoi(optarg);
			break;
		case 'K':
			s.kernel_base = atoi(optarg);
			break;
		case 'S':
			s.kernel_step = strtod(optarg, NULL) / 100;
			break;
		case 'i':
			s.iommus = atoi(optarg);
			break;
		case 'p':
			s.npol = atoi(optarg);
			break;
		case 'n':
			s.reps = atoi(optarg);
			break;
		case 'd':
			s.sd = strtod(optarg, NULL);
			break;
		case 's':
			s.seed = strtoull(optarg, NULL, 0);
			break;
		case 'x':
			eq = strchr(optarg, '=');
			if (!eq || s.nshift == ARRAY_SIZE(s.shift)) {
				pr_err("--shift METRIC-GLOB=PERCENT");
				return EXIT_USAGE;
			}
			*eq = '\0';
			s.shift_pat[s.nshift] = optarg;
			s.shift[s.nshift++] = strtod(eq + 1, NULL) / 100;
			break;
		case 't':
			s.started = optarg;
			break;
		case 'F':
			s.files = false;
			break;
		case 'T':
			s.trace = true;
			break;
		case 'Q':
			s.fq_flush = true;
			break;
		case 'c':
			s.clock = optarg;
			break;
		case 'o':
			s.run_factor = 1 + strtod(optarg, NULL) / 100;
			break;
		case 'l':
			for (char *t = strtok(optarg, ","); t; t = strtok(NULL, ",")) {
				if (s.nklist == ARRAY_SIZE(s.klist)) {
					pr_err("--kernel-list: at most %zu kernels",
					       ARRAY_SIZE(s.klist));
					return EXIT_USAGE;
				}
				s.klist[s.nklist++] = atoi(t);
			}
			break;
		case 'X':
			s.shift_kernel = atoi(optarg);
			break;
		case 'f':
			s.fail_policy = optarg;
			break;
		default:
			fprintf(stderr, "usage: iommubench synth-store [--results DIR] [--run ID] [--kernels N] [--iommus N] [--policies 1-3] [--reps N] [--sd X] [--seed N] [--shift GLOB=PCT] [--kernel-base N] [--kernel-step PCT] [--kernel-list N,N...] [--shift-kernel N] [--run-offset PCT] [--clock CLOCK] [--fail-policy P] [--started TIME] [--no-files] [--iommutrace [--fq-flush]]\n");
			return EXIT_USAGE;
		}
	}
	if (!s.kernels || !s.iommus || !s.npol || s.npol > 3 || !s.reps) {
		pr_err("synth-store: --kernels, --iommus, --reps >= 1, --policies 1..3");
		return EXIT_USAGE;
	}
	stats_rng_seed(&s.rng, s.seed);
	return write_run(&s) ? EXIT_ERROR : 0;
}
