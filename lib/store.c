// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "store.h"
#include "util.h"

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS runs ("
	"  run_id TEXT PRIMARY KEY,"
	"  path TEXT NOT NULL,"
	"  matrix TEXT,"
	"  seed INTEGER,"
	"  target TEXT,"
	"  started TEXT,"
	"  finished TEXT,"
	"  host TEXT,"
	"  suite_version TEXT);"
	"CREATE TABLE IF NOT EXISTS cells ("
	"  run_id TEXT NOT NULL REFERENCES runs(run_id),"
	"  cell_id TEXT NOT NULL,"
	"  boot_id TEXT,"
	"  seq INTEGER,"
	"  kernel TEXT,"
	"  kernel_release TEXT,"
	"  kernel_version TEXT,"
	"  kernel_commit TEXT,"
	"  iommu TEXT,"
	"  policy TEXT,"
	"  mechanism TEXT,"
	"  verified_type TEXT,"
	"  verified_policy TEXT,"
	"  device TEXT,"
	"  workload TEXT,"
	"  workload_type TEXT,"
	"  rep INTEGER,"
	"  status TEXT NOT NULL,"
	"  error TEXT,"
	"  started TEXT,"
	"  duration_s REAL,"
	"  path TEXT NOT NULL,"
	"  PRIMARY KEY (run_id, cell_id));"
	"CREATE TABLE IF NOT EXISTS metrics ("
	"  run_id TEXT NOT NULL,"
	"  cell_id TEXT NOT NULL,"
	"  metric TEXT NOT NULL,"
	"  value REAL NOT NULL,"
	"  unit TEXT,"
	"  PRIMARY KEY (run_id, cell_id, metric));"
	"CREATE INDEX IF NOT EXISTS metrics_by_name ON metrics(metric, run_id);"
	"CREATE INDEX IF NOT EXISTS cells_by_config"
	"  ON cells(kernel, iommu, policy, workload);";

/* Open the index at @path with @flags; *@version gets its schema version. */
static sqlite3 *index_open(const char *path, int flags, int *version)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;

	*version = -1;
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		pr_err("%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		if (db)
			sqlite3_close(db);
		return NULL;
	}
	/* Parallel writers (tests) wait rather than fail. */
	sqlite3_busy_timeout(db, 30000);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			*version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (*version > STORE_SCHEMA_VERSION) {
		pr_err("%s: schema version %d is newer than this iommubench (%d)",
		       path, *version, STORE_SCHEMA_VERSION);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *store_open(const char *root)
{
	char *path = xasprintf("%s/index.sqlite", root);
	sqlite3 *db = NULL;
	char *err = NULL;
	int version;

	if (!path || mkdir_p(root, 0755)) {
		pr_err("%s: %s", root, strerror(errno));
		goto fail;
	}
	db = index_open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			&version);
	if (!db)
		goto fail;
	if (sqlite3_exec(db, schema_sql, NULL, NULL, &err) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA user_version = 1", NULL, NULL, &err) != SQLITE_OK) {
		pr_err("%s: %s", path, err ? err : "cannot create the schema");
		sqlite3_free(err);
		goto fail;
	}
	free(path);
	return db;
fail:
	if (db)
		sqlite3_close(db);
	free(path);
	return NULL;
}

sqlite3 *store_open_readonly(const char *root)
{
	char *path = xasprintf("%s/index.sqlite", root);
	sqlite3 *db = NULL;
	int version;

	if (!path)
		return NULL;
	if (!path_exists(path)) {
		pr_err("%s: no result index (run 'iommubench run', or give --results DIR)",
		       path);
		free(path);
		return NULL;
	}
	db = index_open(path, SQLITE_OPEN_READONLY, &version);
	if (db && version < 1) {
		pr_err("%s: not an iommubench index (schema version %d)", path,
		       version);
		sqlite3_close(db);
		db = NULL;
	}
	free(path);
	return db;
}

void store_close(sqlite3 *db)
{
	if (db)
		sqlite3_close(db);
}

static struct json_object *jpath(struct json_object *o, const char *path)
{
	char *copy = strdup(path), *tok, *save;

	for (tok = strtok_r(copy, ".", &save); tok && o;
	     tok = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, atoi(tok));
		else if (!json_object_object_get_ex(o, tok, &o))
			o = NULL;
	}
	free(copy);
	return o;
}

static const char *jstr(struct json_object *o, const char *path)
{
	o = jpath(o, path);
	return o && json_object_is_type(o, json_type_string) ?
	       json_object_get_string(o) : NULL;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

static int exec_stmt(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		pr_err("index: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

int store_add_run(sqlite3 *db, struct json_object *man, const char *path)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO runs (run_id, path, matrix, seed, target,"
		" started, finished, host, suite_version)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", -1, &st, NULL) != SQLITE_OK) {
		pr_err("index: %s", sqlite3_errmsg(db));
		return -1;
	}
	bind_text(st, 1, jstr(man, "run_id"));
	bind_text(st, 2, path);
	bind_text(st, 3, jstr(man, "matrix.path"));
	sqlite3_bind_int64(st, 4, json_object_get_int64(jpath(man, "seed")));
	bind_text(st, 5, jstr(man, "target"));
	bind_text(st, 6, jstr(man, "started"));
	bind_text(st, 7, jstr(man, "finished"));
	bind_text(st, 8, jstr(man, "host.name"));
	bind_text(st, 9, jstr(man, "suite.version"));
	return exec_stmt(db, st);
}

int store_finish_run(sqlite3 *db, const char *run_id, const char *finished)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "UPDATE runs SET finished = ? WHERE run_id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	bind_text(st, 1, finished);
	bind_text(st, 2, run_id);
	return exec_stmt(db, st);
}

struct metric_ctx {
	sqlite3 *db;
	sqlite3_stmt *st;
	int err;
};

static void insert_metric(void *arg, const char *name, double value,
			  const char *unit)
{
	struct metric_ctx *c = arg;

	sqlite3_reset(c->st);
	bind_text(c->st, 3, name);
	sqlite3_bind_double(c->st, 4, value);
	bind_text(c->st, 5, unit);
	if (sqlite3_step(c->st) != SQLITE_DONE)
		c->err = -1;
}

int store_add_cell(sqlite3 *db, const char *run_id, struct json_object *cell,
		   const char *path)
{
	const char *id = jstr(cell, "id");
	struct metric_ctx mc = { .db = db };
	sqlite3_stmt *st;
	int ret = -1;

	if (!id) {
		pr_err("%s: cell without an id", path);
		return -1;
	}
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(db,
		"INSERT OR REPLACE INTO cells (run_id, cell_id, boot_id, seq, kernel,"
		" kernel_release, kernel_version, kernel_commit, iommu, policy,"
		" mechanism, verified_type, verified_policy, device, workload,"
		" workload_type, rep, status, error, started, duration_s, path)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
		-1, &st, NULL) != SQLITE_OK)
		goto out;
	bind_text(st, 1, run_id);
	bind_text(st, 2, id);
	bind_text(st, 3, jstr(cell, "boot"));
	sqlite3_bind_int(st, 4, json_object_get_int(jpath(cell, "seq")));
	bind_text(st, 5, jstr(cell, "config.kernel"));
	bind_text(st, 6, jstr(cell, "config.kernel_release"));
	bind_text(st, 7, jstr(cell, "config.kernel_version"));
	bind_text(st, 8, jstr(cell, "config.kernel_commit"));
	bind_text(st, 9, jstr(cell, "config.iommu"));
	bind_text(st, 10, jstr(cell, "config.policy"));
	bind_text(st, 11, jstr(cell, "config.mechanism"));
	bind_text(st, 12, jstr(cell, "policy_verified.type"));
	bind_text(st, 13, jstr(cell, "policy_verified.policy"));
	bind_text(st, 14, jstr(cell, "workload.device"));
	bind_text(st, 15, jstr(cell, "workload.name"));
	bind_text(st, 16, jstr(cell, "workload.type"));
	sqlite3_bind_int(st, 17, json_object_get_int(jpath(cell, "rep")));
	bind_text(st, 18, jstr(cell, "status"));
	bind_text(st, 19, jstr(cell, "error"));
	bind_text(st, 20, jstr(cell, "started"));
	sqlite3_bind_double(st, 21, json_object_get_double(jpath(cell, "duration_s")));
	bind_text(st, 22, path);
	if (exec_stmt(db, st))
		goto out;
	if (sqlite3_prepare_v2(db, "DELETE FROM metrics WHERE run_id = ? AND cell_id = ?",
			       -1, &st, NULL) != SQLITE_OK)
		goto out;
	bind_text(st, 1, run_id);
	bind_text(st, 2, id);
	if (exec_stmt(db, st))
		goto out;
	if (sqlite3_prepare_v2(db,
		"INSERT INTO metrics (run_id, cell_id, metric, value, unit)"
		" VALUES (?, ?, ?, ?, ?)", -1, &mc.st, NULL) != SQLITE_OK)
		goto out;
	bind_text(mc.st, 1, run_id);
	bind_text(mc.st, 2, id);
	cell_metrics(cell, insert_metric, &mc);
	sqlite3_finalize(mc.st);
	ret = mc.err;
out:
	if (ret)
		pr_err("index: cell %s: %s", id, sqlite3_errmsg(db));
	sqlite3_exec(db, ret ? "ROLLBACK" : "COMMIT", NULL, NULL, NULL);
	return ret;
}

struct json_object *cell_new(const char *boot_id, struct json_object *config,
			     struct json_object *pc)
{
	struct json_object *cell = json_object_new_object();

	json_object_object_add(cell, "schema",
			       json_object_new_string("iommubench.cell/1"));
	json_copy(cell, "id", pc, "id");
	json_object_object_add(cell, "boot", json_object_new_string(boot_id));
	json_object_object_add(cell, "config", json_object_get(config));
	json_copy(cell, "workload", pc, "workload");
	json_copy(cell, "rep", pc, "rep");
	json_copy(cell, "seq", pc, "seq");
	return cell;
}

/* --- metrics ---------------------------------------------------------- */

static bool num(struct json_object *o, const char *path, double *v)
{
	o = jpath(o, path);
	if (!o || !(json_object_is_type(o, json_type_int) ||
		    json_object_is_type(o, json_type_double)))
		return false;
	*v = json_object_get_double(o);
	return true;
}

typedef void (*metric_fn)(void *, const char *, double, const char *);

static void fio_metrics(struct json_object *fio, metric_fn fn, void *arg)
{
	static const char *const dirs[] = { "read", "write" };
	struct json_object *job = jpath(fio, "jobs.0");
	static const struct {
		const char *path;
		const char *name;
		const char *unit;
	} keys[] = {
		{ "iops", "iops", "ops/s" },
		{ "bw_bytes", "bw", "B/s" },
		{ "clat_ns.mean", "clat_mean", "ns" },
		{ "clat_ns.percentile.50.000000", "clat_p50", "ns" },
		{ "clat_ns.percentile.99.000000", "clat_p99", "ns" },
	};

	if (!job)
		return;
	for (size_t d = 0; d < ARRAY_SIZE(dirs); d++) {
		struct json_object *side = jpath(job, dirs[d]);
		double io, v;

		if (!side || !num(side, "io_bytes", &io) || io <= 0)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			char name[64];
			struct json_object *o = side;

			/* Percentile keys contain dots: walk them by hand. */
			if (str_has_prefix(keys[k].path, "clat_ns.percentile.")) {
				o = jpath(side, "clat_ns.percentile");
				o = o ? json_object_object_get(o, keys[k].path +
							       strlen("clat_ns.percentile.")) : NULL;
				if (!o)
					continue;
				v = json_object_get_double(o);
			} else if (!num(o, keys[k].path, &v)) {
				continue;
			}
			snprintf(name, sizeof(name), "fio.%s.%s", dirs[d], keys[k].name);
			fn(arg, name, v, keys[k].unit);
		}
	}
}

static void dmabench_metrics(struct json_object *db, metric_fn fn, void *arg)
{
	static const char *const ops[] = { "map", "unmap", "sync" };
	static const char *const stats[] = { "p50", "p99", "mean" };

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		char path[64], name[64];
		double v;

		snprintf(path, sizeof(path), "result.ops.%s.ops_per_sec", ops[i]);
		if (num(db, path, &v)) {
			snprintf(name, sizeof(name), "dmabench.%s.rate", ops[i]);
			fn(arg, name, v, "ops/s");
		}
		for (size_t s = 0; s < ARRAY_SIZE(stats); s++) {
			snprintf(path, sizeof(path), "result.ops.%s.latency.%s",
				 ops[i], stats[s]);
			if (!num(db, path, &v))
				continue;
			snprintf(name, sizeof(name), "dmabench.%s.%s", ops[i], stats[s]);
			fn(arg, name, v, "ns");
		}
	}
}

/* A histogram object's p50 and p99 as <prefix>.p50 / .p99, when not empty. */
static void hist_metrics(struct json_object *h, const char *prefix,
			 metric_fn fn, void *arg)
{
	static const char *const stats[] = { "p50", "p99" };
	char name[96];
	double count, v;

	if (!h || !num(h, "count", &count) || count <= 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++) {
		if (!num(h, stats[i], &v))
			continue;
		snprintf(name, sizeof(name), "%s.%s", prefix, stats[i]);
		fn(arg, name, v, "ns");
	}
}

static void iommutrace_metrics(struct json_object *t, metric_fn fn, void *arg)
{
	struct json_object *paths = jpath(t, "paths");
	double dur_ns = 0, v;
	char name[96];

	num(t, "duration_ns", &dur_ns);
	if (paths && json_object_is_type(paths, json_type_object)) {
		json_object_object_foreach(paths, path, p) {
			double calls;

			if (!num(p, "calls", &calls) || calls <= 0)
				continue;
			if (dur_ns > 0) {
				snprintf(name, sizeof(name), "trace.%s.rate", path);
				fn(arg, name, calls / (dur_ns / 1e9), "calls/s");
			}
			snprintf(name, sizeof(name), "trace.%s", path);
			hist_metrics(jpath(p, "latency"), name, fn, arg);
		}
	}
	if (dur_ns > 0 && num(t, "fq_flush.timer", &v))
		fn(arg, "trace.fq_flush.timer_rate", v / (dur_ns / 1e9), "calls/s");
	if (dur_ns > 0 && num(t, "fq_flush.queue_full", &v))
		fn(arg, "trace.fq_flush.queue_full_rate", v / (dur_ns / 1e9),
		   "calls/s");
	hist_metrics(jpath(t, "exposure_window.strict"),
		     "trace.exposure.strict", fn, arg);
	hist_metrics(jpath(t, "exposure_window.lazy"),
		     "trace.exposure.lazy", fn, arg);
	if (num(t, "overhead.ns_per_event", &v))
		fn(arg, "trace.overhead.ns_per_event", v, "ns");
}

void cell_metrics(struct json_object *cell, metric_fn fn, void *arg)
{
	struct json_object *o;

	if (strcmp(jstr(cell, "status") ? jstr(cell, "status") : "", "ok"))
		return;
	if (json_object_object_get_ex(cell, "fio", &o))
		fio_metrics(o, fn, arg);
	if (json_object_object_get_ex(cell, "dmabench", &o))
		dmabench_metrics(o, fn, arg);
	if (json_object_object_get_ex(cell, "iommutrace", &o))
		iommutrace_metrics(o, fn, arg);
}
