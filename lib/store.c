// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "store.h"
#include "util.h"

#define STRINGIFY_(x)		#x
#define STRINGIFY(x)		STRINGIFY_(x)
#define SCHEMA_VERSION_STR	STRINGIFY(STORE_SCHEMA_VERSION)

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
	"  clock TEXT,"
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
	"  host TEXT,"
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

/* The file of @db, for messages. */
static const char *db_path(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");

	return path && *path ? path : "index";
}

/*
 * db_error - report @db's last error: "FILE: WHAT: SQLite's message".
 * Call it right after the failing call, before another call on @db
 * replaces the message.  Returns -1.
 */
static int __attribute__((format(printf, 2, 3)))
db_error(sqlite3 *db, const char *fmt, ...)
{
	int code = sqlite3_errcode(db);
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (code == SQLITE_BUSY)
		pr_err("%s: %s: %s (gave up after waiting %d s for another process using it)",
		       db_path(db), what, sqlite3_errmsg(db),
		       STORE_BUSY_TIMEOUT_MS / 1000);
	else
		pr_err("%s: %s: %s", db_path(db), what, sqlite3_errmsg(db));
	return -1;
}

/* Run @sql (no result rows) on @db; -1 with an error about @what. */
static int db_exec(sqlite3 *db, const char *sql, const char *what)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return db_error(db, "%s", what);
	return 0;
}

/*
 * index_open - open the index of @root with @flags; *@version gets its
 * schema version.  Read-only, a root without an index, or with a file
 * that is not one, is an error.  NULL after saying why.
 */
static sqlite3 *index_open(const char *root, int flags, int *version)
{
	char *path = xasprintf("%s/index.sqlite", root);
	bool create = flags & SQLITE_OPEN_CREATE;
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;

	*version = -1;
	if (!path) {
		pr_err("%s: %s", root, strerror(errno));
		return NULL;
	}
	if (!create && !path_exists(path)) {
		pr_err("%s: no result index (run 'iommubench run', or give --results DIR)",
		       path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
		pr_err("%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	/* A busy index (another writer, or a reader) is waited for. */
	if (sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS) != SQLITE_OK) {
		pr_err("%s: cannot set a busy timeout: %s", path,
		       sqlite3_errmsg(db));
		goto fail;
	}
	/* The first read: a file that is not an SQLite database fails here. */
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		db_error(db, "reading the schema version");
		goto fail;
	}
	*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (*version > STORE_SCHEMA_VERSION) {
		pr_err("%s: schema version %d is newer than this iommubench (%d)",
		       path, *version, STORE_SCHEMA_VERSION);
		goto fail;
	}
	if (!create && *version < 1) {
		pr_err("%s: not an iommubench index (schema version %d)", path,
		       *version);
		goto fail;
	}
	free(path);
	return db;
fail:
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(path);
	return NULL;
}

sqlite3 *store_open(const char *root)
{
	sqlite3 *db = NULL;
	int version;

	if (mkdir_p(root, 0755)) {
		pr_err("%s: %s", root, strerror(errno));
		return NULL;
	}
	db = index_open(root, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			&version);
	if (!db)
		return NULL;
	if (db_exec(db, schema_sql, "creating the schema"))
		goto fail;
	/* Version 2 added cells.clock; cells of version 1 ran on the host's. */
	if (version == 1 &&
	    db_exec(db, "ALTER TABLE cells ADD COLUMN clock TEXT;"
		    "UPDATE cells SET clock = 'host'", "adding cells.clock"))
		goto fail;
	/*
	 * Version 3 added cells.host, the machine that ran the cell; before
	 * fan-out every cell of a run ran on the run's host.
	 */
	if (version >= 1 && version < 3 &&
	    db_exec(db, "ALTER TABLE cells ADD COLUMN host TEXT;"
		    "UPDATE cells SET host = (SELECT host FROM runs"
		    " WHERE runs.run_id = cells.run_id)", "adding cells.host"))
		goto fail;
	if (db_exec(db, version == STORE_SCHEMA_VERSION ? "" :
		    "PRAGMA user_version = " SCHEMA_VERSION_STR,
		    "setting the schema version"))
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

sqlite3 *store_open_readonly(const char *root)
{
	int version;

	return index_open(root, SQLITE_OPEN_READONLY, &version);
}

void store_close(sqlite3 *db)
{
	if (db && sqlite3_close(db) != SQLITE_OK)
		db_error(db, "closing");
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

/*
 * A statement's parameters, bound in order: bind_*() number them and keep
 * the first failure for step().
 */
struct binder {
	sqlite3_stmt *st;
	int n;
	int bad;	/* the parameter that failed, and how */
	int rc;
};

static void bind_rc(struct binder *b, int rc)
{
	if (b->rc == SQLITE_OK && rc != SQLITE_OK) {
		b->rc = rc;
		b->bad = b->n;
	}
}

static void bind_text(struct binder *b, const char *s)
{
	b->n++;
	bind_rc(b, s ? sqlite3_bind_text(b->st, b->n, s, -1, SQLITE_TRANSIENT) :
		       sqlite3_bind_null(b->st, b->n));
}

static void bind_int64(struct binder *b, int64_t v)
{
	b->n++;
	bind_rc(b, sqlite3_bind_int64(b->st, b->n, v));
}

static void bind_double(struct binder *b, double v)
{
	b->n++;
	bind_rc(b, sqlite3_bind_double(b->st, b->n, v));
}

/* Prepare @sql on @db into @b; -1 with an error about @what. */
static int prepare(sqlite3 *db, const char *sql, struct binder *b,
		   const char *what)
{
	*b = (struct binder){ 0 };
	if (sqlite3_prepare_v2(db, sql, -1, &b->st, NULL) != SQLITE_OK)
		return db_error(db, "%s", what);
	return 0;
}

/*
 * step - run @b's statement, which returns no rows; -1 with an error about
 * @what when a parameter could not be bound or the statement failed.
 */
static int step(sqlite3 *db, struct binder *b, const char *what)
{
	if (b->rc != SQLITE_OK) {
		pr_err("%s: %s: binding parameter %d: %s", db_path(db), what,
		       b->bad, sqlite3_errstr(b->rc));
		return -1;
	}
	if (sqlite3_step(b->st) != SQLITE_DONE)
		return db_error(db, "%s", what);
	return 0;
}

/* step(), then finalize the statement. */
static int step_done(sqlite3 *db, struct binder *b, const char *what)
{
	int ret = step(db, b, what);

	sqlite3_finalize(b->st);
	b->st = NULL;
	return ret;
}

int store_add_run(sqlite3 *db, struct json_object *man, const char *path)
{
	struct binder b;

	if (prepare(db,
		"INSERT OR REPLACE INTO runs (run_id, path, matrix, seed, target,"
		" started, finished, host, suite_version)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &b, "adding the run"))
		return -1;
	bind_text(&b, jstr(man, "run_id"));
	bind_text(&b, path);
	bind_text(&b, jstr(man, "matrix.path"));
	bind_int64(&b, json_object_get_int64(jpath(man, "seed")));
	bind_text(&b, jstr(man, "target"));
	bind_text(&b, jstr(man, "started"));
	bind_text(&b, jstr(man, "finished"));
	bind_text(&b, jstr(man, "host.name"));
	bind_text(&b, jstr(man, "suite.version"));
	return step_done(db, &b, "adding the run");
}

int store_finish_run(sqlite3 *db, const char *run_id, const char *finished)
{
	struct binder b;

	if (prepare(db, "UPDATE runs SET finished = ? WHERE run_id = ?", &b,
		    "recording the end of the run"))
		return -1;
	bind_text(&b, finished);
	bind_text(&b, run_id);
	if (step_done(db, &b, "recording the end of the run"))
		return -1;
	if (sqlite3_changes(db) != 1) {
		pr_err("%s: run %s is not in the index", db_path(db), run_id);
		return -1;
	}
	return 0;
}

struct metric_ctx {
	sqlite3 *db;
	const char *id;
	const char *path;
	struct binder b;
	int err;
};

static void insert_metric(void *arg, const char *name, double value,
			  const char *unit)
{
	struct metric_ctx *c = arg;
	char what[192];

	if (c->err)
		return;
	/* NaN or an infinity: no measurement to keep, but keep the cell. */
	if (!isfinite(value)) {
		pr_warn("%s: cell %s: metric %s is %s: not indexed", c->path,
			c->id, name, isnan(value) ? "NaN" : "infinite");
		return;
	}
	snprintf(what, sizeof(what), "cell %s: metric %s", c->id, name);
	if (sqlite3_reset(c->b.st) != SQLITE_OK) {
		c->err = db_error(c->db, "%s", what);
		return;
	}
	c->b.n = 2;	/* run_id and cell_id stay bound */
	bind_text(&c->b, name);
	bind_double(&c->b, value);
	bind_text(&c->b, unit);
	c->err = step(c->db, &c->b, what);
}

/*
 * end_transaction - COMMIT when @err is 0, else (or when COMMIT fails)
 * ROLLBACK; 0 or -1.  COMMIT waits (the busy timeout) for readers to let
 * go; when it still fails, the transaction stays open and must be rolled
 * back.
 */
static int end_transaction(sqlite3 *db, int err, const char *what)
{
	if (!err && !db_exec(db, "COMMIT", what))
		return 0;
	if (!sqlite3_get_autocommit(db))
		db_exec(db, "ROLLBACK", what);
	return -1;
}

/* run @sql, whose parameters are a run id and a cell id, to its end */
static int exec_for_cell(sqlite3 *db, const char *sql, const char *run_id,
			 const char *cell_id, const char *what)
{
	struct binder b;

	if (prepare(db, sql, &b, what))
		return -1;
	bind_text(&b, run_id);
	bind_text(&b, cell_id);
	return step_done(db, &b, what);
}

/* the cells row of @cell, replacing the one it had */
static int insert_cell_row(sqlite3 *db, const char *run_id,
			   struct json_object *cell, const char *path,
			   const char *what)
{
	struct binder b = { 0 };

	if (prepare(db,
		"INSERT OR REPLACE INTO cells (run_id, cell_id, boot_id, seq, kernel,"
		" kernel_release, kernel_version, kernel_commit, iommu, policy,"
		" mechanism, clock, verified_type, verified_policy, device,"
		" workload, workload_type, rep, status, error, started,"
		" duration_s, path, host)"
		" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", &b, what))
		return -1;
	bind_text(&b, run_id);
	bind_text(&b, jstr(cell, "id"));
	bind_text(&b, jstr(cell, "boot"));
	bind_int64(&b, json_object_get_int(jpath(cell, "seq")));
	bind_text(&b, jstr(cell, "config.kernel"));
	bind_text(&b, jstr(cell, "config.kernel_release"));
	bind_text(&b, jstr(cell, "config.kernel_version"));
	bind_text(&b, jstr(cell, "config.kernel_commit"));
	bind_text(&b, jstr(cell, "config.iommu"));
	bind_text(&b, jstr(cell, "config.policy"));
	bind_text(&b, jstr(cell, "config.mechanism"));
	bind_text(&b, jstr(cell, "config.clock") ? jstr(cell, "config.clock") :
		  "host");
	bind_text(&b, jstr(cell, "policy_verified.type"));
	bind_text(&b, jstr(cell, "policy_verified.policy"));
	bind_text(&b, jstr(cell, "workload.device"));
	bind_text(&b, jstr(cell, "workload.name"));
	bind_text(&b, jstr(cell, "workload.type"));
	bind_int64(&b, json_object_get_int(jpath(cell, "rep")));
	bind_text(&b, jstr(cell, "status"));
	bind_text(&b, jstr(cell, "error"));
	bind_text(&b, jstr(cell, "started"));
	bind_double(&b, json_object_get_double(jpath(cell, "duration_s")));
	bind_text(&b, path);
	bind_text(&b, jstr(cell, "host"));
	return step_done(db, &b, what);
}

/* the metrics rows of @cell (its old ones deleted before) */
static int insert_metrics(struct metric_ctx *mc, const char *run_id,
			  struct json_object *cell, const char *what)
{
	if (prepare(mc->db,
		"INSERT INTO metrics (run_id, cell_id, metric, value, unit)"
		" VALUES (?, ?, ?, ?, ?)", &mc->b, what))
		return -1;
	bind_text(&mc->b, run_id);
	bind_text(&mc->b, mc->id);
	/* A failed binding is reported by the first metric's step(). */
	cell_metrics(cell, insert_metric, mc);
	sqlite3_finalize(mc->b.st);
	return mc->err;
}

int store_add_cell(sqlite3 *db, const char *run_id, struct json_object *cell,
		   const char *path)
{
	const char *id = jstr(cell, "id");
	struct metric_ctx mc = { .db = db, .id = id, .path = path };
	char what[160];
	int err;

	if (!id) {
		pr_err("%s: cell without an id", path);
		return -1;
	}
	snprintf(what, sizeof(what), "cell %s", id);
	/* IMMEDIATE: take the write lock now, waiting for other writers. */
	if (db_exec(db, "BEGIN IMMEDIATE", what))
		return -1;
	err = insert_cell_row(db, run_id, cell, path, what) ||
	      exec_for_cell(db, "DELETE FROM metrics WHERE run_id = ? AND cell_id = ?",
			    run_id, id, what) ||
	      insert_metrics(&mc, run_id, cell, what);
	return end_transaction(db, err, what);
}

int store_remove_cell(sqlite3 *db, const char *run_id, const char *cell_id)
{
	static const char *const sql[] = {
		"DELETE FROM metrics WHERE run_id = ? AND cell_id = ?",
		"DELETE FROM cells WHERE run_id = ? AND cell_id = ?",
	};
	char what[160];
	int err = 0;

	snprintf(what, sizeof(what), "removing cell %s", cell_id);
	if (db_exec(db, "BEGIN IMMEDIATE", what))
		return -1;
	for (size_t i = 0; !err && i < ARRAY_SIZE(sql); i++)
		err = exec_for_cell(db, sql[i], run_id, cell_id, what);
	return end_transaction(db, err, what);
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

/*
 * A histogram object's p50 and p99 as <prefix>.p50 / .p99, when not empty.
 * Metric names have any length: one cut short could coincide with another
 * and make the cell's INSERT fail.
 */
static void hist_metrics(struct json_object *h, const char *prefix,
			 metric_fn fn, void *arg)
{
	static const char *const stats[] = { "p50", "p99" };
	double count, v;

	if (!h || !num(h, "count", &count) || count <= 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(stats); i++) {
		char *name;

		if (!num(h, stats[i], &v))
			continue;
		name = xasprintf("%s.%s", prefix, stats[i]);
		if (!name) {
			pr_err("metric %s.%s: out of memory", prefix, stats[i]);
			continue;
		}
		fn(arg, name, v, "ns");
		free(name);
	}
}

/*
 * Did the tracer attach @path?  Schema 2 says so in path_status; schema 1
 * documents only list the functions ("attach"), and wrote zeros for a
 * path none of whose functions attached.  A document with neither (a
 * synthetic one) is taken at its word.
 */
static bool trace_path_attached(struct json_object *t, const char *path)
{
	struct json_object *a = jpath(t, "attach"), *ps = jpath(t, "path_status");
	const char *st = NULL;

	/* @path is one key: jpath() would split it at its dots. */
	if (ps && json_object_is_type(ps, json_type_object) &&
	    json_object_object_get_ex(ps, path, &ps))
		st = jstr(ps, "status");
	if (st)
		return !strcmp(st, "attached");
	if (!a || !json_object_is_type(a, json_type_array))
		return true;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		const char *p = jstr(e, "path"), *s = jstr(e, "status");

		if (p && s && !strcmp(p, path) && !strcmp(s, "attached"))
			return true;
	}
	return false;
}

/*
 * An iommutrace path name as the tracer writes them (dma_unmap,
 * __iommu_unmap, ...): letters, digits and '_'.  Nothing else may become
 * trace.<path>.*: a path with a dot could name another metric, such as
 * "exposure.strict" giving trace.exposure.strict.p50 a second time.
 */
static bool trace_path_name_ok(const char *path)
{
	if (!*path)
		return false;
	for (const char *c = path; *c; c++)
		if (!(*c >= 'a' && *c <= 'z') && !(*c >= 'A' && *c <= 'Z') &&
		    !(*c >= '0' && *c <= '9') && *c != '_')
			return false;
	return true;
}

/*
 * iommutrace's metrics.  A metric whose path did not attach is left out,
 * never stored as 0: the trace had nothing to count with.  So is a path
 * whose name is not one (trace_path_name_ok()), with a warning naming
 * the cell @id.
 */
static void iommutrace_metrics(struct json_object *t, const char *id,
			       metric_fn fn, void *arg)
{
	struct json_object *paths = jpath(t, "paths");
	bool fq = trace_path_attached(t, "fq_flush");
	double dur_ns = 0, v;

	num(t, "duration_ns", &dur_ns);
	if (paths && json_object_is_type(paths, json_type_object)) {
		json_object_object_foreach(paths, path, p) {
			double calls;
			char *name;

			if (!trace_path_name_ok(path)) {
				pr_warn("cell %s: iommutrace path '%s' is not a path name (letters, digits, '_'): its metrics are left out",
					id ? id : "without an id", path);
				continue;
			}
			if (!trace_path_attached(t, path) ||
			    !num(p, "calls", &calls) || calls <= 0)
				continue;
			if (dur_ns > 0) {
				name = xasprintf("trace.%s.rate", path);
				if (name)
					fn(arg, name, calls / (dur_ns / 1e9),
					   "calls/s");
				else
					pr_err("metric trace.%s.rate: out of memory",
					       path);
				free(name);
			}
			name = xasprintf("trace.%s", path);
			if (!name) {
				pr_err("metrics of trace path %s: out of memory",
				       path);
				continue;
			}
			hist_metrics(jpath(p, "latency"), name, fn, arg);
			free(name);
		}
	}
	if (fq && dur_ns > 0 && num(t, "fq_flush.timer", &v))
		fn(arg, "trace.fq_flush.timer_rate", v / (dur_ns / 1e9), "calls/s");
	if (fq && dur_ns > 0 && num(t, "fq_flush.queue_full", &v))
		fn(arg, "trace.fq_flush.queue_full_rate", v / (dur_ns / 1e9),
		   "calls/s");
	hist_metrics(jpath(t, "exposure_window.strict"),
		     "trace.exposure.strict", fn, arg);
	if (fq)
		hist_metrics(jpath(t, "exposure_window.lazy"),
			     "trace.exposure.lazy", fn, arg);
	if (num(t, "overhead.ns_per_event", &v))
		fn(arg, "trace.overhead.ns_per_event", v, "ns");
}

/* "0", "100us", "5ms": a delay of the stale-DMA probe in a metric's name */
static void delay_name(char *buf, size_t len, uint64_t ns)
{
	if (!ns)
		snprintf(buf, len, "0");
	else if (!(ns % 1000000))
		snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000));
	else if (!(ns % 1000))
		snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000));
	else
		snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/*
 * dmabench's stale-DMA probe: P(landed) per delay (stale.p_landed.<delay>,
 * a fraction: lower is better), the longest time after its unmap a write
 * still landed and the delay from which none did, when there are such.
 */
static void stale_metrics(struct json_object *st, metric_fn fn, void *arg)
{
	struct json_object *delays = jpath(st, "delays");
	char name[64], d[32];
	double v, ns;

	for (size_t i = 0; delays && json_object_is_type(delays, json_type_array) &&
	     i < json_object_array_length(delays); i++) {
		struct json_object *e = json_object_array_get_idx(delays, i);

		if (!num(e, "delay_ns", &ns) || ns < 0 || !num(e, "p_landed", &v))
			continue;
		delay_name(d, sizeof(d), (uint64_t)ns);
		snprintf(name, sizeof(name), "stale.p_landed.%s", d);
		fn(arg, name, v, "");
	}
	if (num(st, "last_landed_gap_ns", &v))
		fn(arg, "stale.last_landed_gap", v, "ns");
	if (num(st, "first_clean_delay_ns", &v))
		fn(arg, "stale.first_clean_delay", v, "ns");
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
	if (json_object_object_get_ex(cell, "stale", &o))
		stale_metrics(o, fn, arg);
	if (json_object_object_get_ex(cell, "iommutrace", &o))
		iommutrace_metrics(o, jstr(cell, "id"), fn, arg);
}
