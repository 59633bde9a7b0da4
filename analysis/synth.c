// SPDX-License-Identifier: GPL-2.0
/*
 * synth.c - the engine of 'iommubench synth-store' (hidden;
 * bench/cli/cmd-synth.c): a synthetic result store for the analysis tests
 * and the speed benchmark (docs/analysis.md)
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

/* a run being written: the request, and the state of the drawing */
struct synth {
	const struct an_synth_req *o;
	struct stats_rng rng;
	int cur_kernel;		/* the kernel of the cell being written */
};

static double shifted(struct synth *s, const char *metric, double v)
{
	if (s->o->shift_kernel >= 0 && s->cur_kernel != s->o->shift_kernel)
		return v;
	for (unsigned int i = 0; i < s->o->nshift; i++)
		if (!fnmatch(s->o->shift_pat[i], metric, 0))
			v *= 1 + s->o->shift[i];
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
			      lognorm(s, base.fio_iops[pol] * factor, s->o->sd));
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
	json_object_object_add(pct, "99.000000", json_object_new_double(shifted(s, "fio.read.clat_p99", lognorm(s, mean * 4, s->o->sd))));
	/* fio's json+ bins: value -> count */
	if (s->o->files) {
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

	p50[0] = lognorm(s, p50[0], s->o->sd);
	p50[1] = lognorm(s, p50[1], s->o->sd);
	rate = 1e9 / (p50[0] + p50[1] + 400);
	res = json_object_new_object();
	ops = json_object_new_object();
	json_object_object_add(db, "schema", json_object_new_string("iommubench.dmabench/1"));
	json_object_object_add(db, "result", res);
	json_object_object_add(res, "ops", ops);
	for (int i = 0; i < 2; i++) {
		struct json_object *op = json_object_new_object(), *lat;
		struct hist h;

		if (s->o->files) {
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
	if (s->o->fq_flush) {
		struct json_object *fq = json_object_new_object();
		/* 8 s; the flush-queue timer fires in lazy mode only */
		double timer = pol == 1 ? shifted(s, "trace.fq_flush.timer_rate",
						  lognorm(s, 95, s->o->sd)) * 8 : 0;

		json_object_object_add(it, "duration_ns", json_object_new_int64(8000000000LL));
		json_object_object_add(fq, "timer", json_object_new_int64(llround(timer)));
		json_object_object_add(fq, "queue_full", json_object_new_int64(0));
		json_object_object_add(it, "fq_flush", fq);
	}
	return it;
}

/* the run's manifest.json: what a real run's says of it, minimally */
static struct json_object *synth_manifest(const struct synth *s)
{
	struct json_object *man = json_object_new_object(), *tools, *host;

	json_object_object_add(man, "schema", json_object_new_string("iommubench.manifest/1"));
	json_object_object_add(man, "run_id", json_object_new_string(s->o->run));
	json_object_object_add(man, "started", json_object_new_string(s->o->started));
	json_object_object_add(man, "finished", json_object_new_string(s->o->started));
	json_object_object_add(man, "target", json_object_new_string("synthetic"));
	if (s->o->clock) {
		struct json_object *settings = json_object_new_object();

		json_object_object_add(settings, "clock", json_object_new_string(s->o->clock));
		json_object_object_add(man, "settings", settings);
	}
	json_object_object_add(man, "seed", json_object_new_int64((int64_t)s->o->seed));
	host = json_object_new_object();
	json_object_object_add(host, "name", json_object_new_string("synth-store"));
	json_object_object_add(man, "host", host);
	tools = json_object_new_object();
	json_object_object_add(tools, "iommubench", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(man, "tools", tools);
	return man;
}

/* one configuration of the matrix: kernel number, vIOMMU, policy */
struct synth_cfg {
	unsigned int kn;
	unsigned int io;
	int pol;
	double factor;		/* the kernel's and the run's move */
	bool fail;		/* --fail-policy names this policy */
};

static void synth_cfg_of(const struct synth *s, unsigned int cfg,
			 struct synth_cfg *c)
{
	unsigned int kx = cfg / s->o->npol / s->o->iommus;

	c->pol = cfg % s->o->npol;
	c->io = cfg / s->o->npol % s->o->iommus;
	c->kn = s->o->nklist ? (unsigned int)s->o->klist[kx] :
		kx + s->o->kernel_base;
	c->factor = pow(1 + s->o->kernel_step, (int)c->kn - s->o->kernel_base) *
		    s->o->run_factor;
	c->fail = s->o->fail_policy &&
		  !strcmp(s->o->fail_policy, policies[c->pol]);
}

/*
 * The cell of workload @w (0 fio, 1 dmabench) of configuration @c in
 * repetition @rep, number @seq; its id into @id.
 */
static struct json_object *synth_cell(struct synth *s,
				      const struct synth_cfg *c, int w,
				      unsigned int rep, unsigned int seq,
				      char *id, size_t idlen)
{
	struct json_object *cell = json_object_new_object(), *cf, *wl, *pv;
	char kern[32], kname[32], commit[48], iommu[16];
	unsigned int kn = c->kn;
	int pol = c->pol;

	snprintf(kern, sizeof(kern), "synth:%u", kn);
	snprintf(kname, sizeof(kname), "synth-%u", kn);
	snprintf(commit, sizeof(commit), "%016" PRIx64 "%016" PRIx64 "%08x",
		 (uint64_t)((kn + 1) * 0x9e3779b97f4a7c15ULL),
		 (uint64_t)((kn + 7) * 0xbf58476d1ce4e5b9ULL), kn);
	snprintf(iommu, sizeof(iommu), s->o->iommus == 1 ? "intel" : "iommu%u", c->io);
	snprintf(id, idlen, "%s-%s-%s-%s-r%u", kname, iommu,
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
	json_object_object_add(cell, "seq", json_object_new_int(seq));
	json_object_object_add(cell, "rep", json_object_new_int(rep));
	json_object_object_add(cell, "config", cf);
	json_object_object_add(cell, "workload", wl);
	json_object_object_add(cell, "policy_verified", pv);
	json_object_object_add(cell, "started", json_object_new_string(s->o->started));
	json_object_object_add(cell, "status", json_object_new_string(c->fail ? "failed" : "ok"));
	if (c->fail)
		json_object_object_add(cell, "error", json_object_new_string("synthetic failure (--fail-policy)"));
	else
		json_object_object_add(cell, w ? "dmabench" : "fio",
				       w ? dmabench_json(s, pol, c->factor) :
					   fio_json(s, pol, c->factor));
	if (s->o->trace && w && !c->fail)
		json_object_object_add(cell, "iommutrace", trace_json(s, pol));
	return cell;
}

/* shuffle @order[0..n) in place (Fisher-Yates), as the runner does */
static void shuffle(struct synth *s, unsigned int *order, unsigned int n)
{
	for (unsigned int c = n; c > 1; c--) {
		unsigned int k = stats_rng_below(&s->rng, c), t = order[c - 1];

		order[c - 1] = order[k];
		order[k] = t;
	}
}

/* the cells, in interleaved rounds shuffled per round: into @cdir and @db */
static int write_cells(struct synth *s, sqlite3 *db, const char *cdir)
{
	unsigned int nk = s->o->nklist ? s->o->nklist : s->o->kernels;
	unsigned int seq = 0, ncfg = nk * s->o->iommus * s->o->npol;
	unsigned int *order = calloc(ncfg, sizeof(*order));
	int ret = -1;

	if (!order) {
		pr_err("%s", strerror(errno));
		return -1;
	}
	for (unsigned int c = 0; c < ncfg; c++)
		order[c] = c;
	for (unsigned int rep = 1; rep <= s->o->reps; rep++) {
		shuffle(s, order, ncfg);
		for (unsigned int c = 0; c < ncfg; c++) {
			struct synth_cfg cfg;

			synth_cfg_of(s, order[c], &cfg);
			s->cur_kernel = cfg.kn;
			for (int w = 0; w < 2; w++) {
				struct json_object *cell;
				char id[160], *path;
				int err;

				cell = synth_cell(s, &cfg, w, rep, ++seq, id,
						  sizeof(id));
				path = xasprintf("%s/%s.json", cdir, id);
				err = !path ||
				      (s->o->files && json_write_file(path, cell)) ||
				      store_add_cell(db, s->o->run, cell, path);
				free(path);
				json_object_put(cell);
				if (err)
					goto out;
			}
		}
	}
	ret = 0;
out:
	free(order);
	return ret;
}

static int write_run(struct synth *s)
{
	char *dir = xasprintf("%s/%s", s->o->root, s->o->run), *cdir = xasprintf("%s/cells", dir);
	char *mpath = NULL;
	struct json_object *man = NULL;
	sqlite3 *db = NULL;
	int ret = -1;

	if (!dir || !cdir || mkdir_p(cdir, 0755)) {
		pr_err("%s: %s", dir ? dir : s->o->root, strerror(errno));
		goto out;
	}
	db = store_open(s->o->root);
	if (!db)
		goto out;
	/* store_add_cell() makes one transaction per cell: make them cheap */
	sqlite3_exec(db, "PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY",
		     NULL, NULL, NULL);
	man = synth_manifest(s);
	mpath = xasprintf("%s/manifest.json", dir);
	if (!mpath || json_write_file(mpath, man) || store_add_run(db, man, dir))
		goto out;
	ret = write_cells(s, db, cdir);
out:
	store_close(db);
	json_object_put(man);
	free(mpath);
	free(dir);
	free(cdir);
	return ret;
}

int an_synth_store(const struct an_synth_req *req)
{
	struct synth s = { .o = req, .cur_kernel = -1 };

	stats_rng_seed(&s.rng, req->seed);
	return write_run(&s);
}
