// SPDX-License-Identifier: GPL-2.0
/*
 * The result index (lib/store.c): every SQLite failure is an error that
 * names the index file, a busy index is waited for and then fails, a
 * cell is never lost for one metric that is not a number, whose name is
 * long or is another's, and a traced path that did not attach stores no
 * metric.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capture.h"
#include "json.h"
#include "store.h"
#include "tap.h"
#include "util.h"

static char root[] = "/tmp/ib-test-store-XXXXXX";
static char *index_path;

/*
 * A reader in another process: it opens the index, reads it inside a
 * transaction (which holds SQLite's shared lock, as a long 'sqlite3' or
 * analysis session does) and keeps the transaction open until the parent
 * writes to its pipe, or for @hold_ms when that is not 0.
 */
struct reader {
	pid_t pid;
	int release_fd;
};

static struct reader reader_start(unsigned int hold_ms)
{
	int locked[2], release[2];
	struct reader r = { -1, -1 };
	char c;

	if (pipe(locked) || pipe(release))
		return r;
	r.pid = fork();
	if (r.pid == 0) {
		sqlite3 *db;

		close(locked[0]);
		close(release[1]);
		if (sqlite3_open_v2(index_path, &db, SQLITE_OPEN_READONLY, NULL) ||
		    sqlite3_exec(db, "BEGIN; SELECT count(*) FROM cells;", NULL,
				 NULL, NULL))
			_exit(1);
		if (write(locked[1], "l", 1) != 1)
			_exit(1);
		if (hold_ms)
			usleep(hold_ms * 1000);
		else if (read(release[0], &c, 1) < 0)
			_exit(1);
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	close(locked[1]);
	close(release[0]);
	r.release_fd = release[1];
	/* Wait until the reader holds its lock. */
	if (r.pid < 0 || read(locked[0], &c, 1) != 1) {
		r.pid = -1;
		close(r.release_fd);
	}
	close(locked[0]);
	return r;
}

/* Let the reader end its transaction; 0 when it exited cleanly. */
static int reader_stop(struct reader *r)
{
	int status;

	close(r->release_fd);
	if (r->pid < 0 || waitpid(r->pid, &status, 0) != r->pid)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static struct json_object *cell(const char *id, const char *iops)
{
	char *text = xasprintf("{\"id\":\"%s\",\"status\":\"ok\","
			       "\"config\":{\"kernel\":\"k\",\"policy\":\"lazy\"},"
			       "\"fio\":{\"jobs\":[{\"read\":{\"io_bytes\":1,"
			       "\"iops\":%s,\"bw_bytes\":4096}}]}}", id, iops);
	struct json_object *o = json_tokener_parse(text);

	free(text);
	return o;
}

/* The first column of the one row @sql (with ?1 = @arg) returns, as text. */
static char *query(sqlite3 *db, const char *sql, const char *arg)
{
	sqlite3_stmt *st;
	char *v = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL))
		return strdup("(prepare failed)");
	if (arg)
		sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = strdup(sqlite3_column_text(st, 0) ?
			   (const char *)sqlite3_column_text(st, 0) : "NULL");
	sqlite3_finalize(st);
	return v ? v : strdup("(no row)");
}

static bool query_is(sqlite3 *db, const char *sql, const char *arg,
		     const char *want)
{
	char *v = query(db, sql, arg);
	bool ok = !strcmp(v, want);

	if (!ok)
		printf("# %s [%s]: got %s, want %s\n", sql, arg ? arg : "", v,
		       want);
	free(v);
	return ok;
}

static struct json_object *manifest(void)
{
	return json_tokener_parse("{\"run_id\":\"R\",\"started\":\"2026-12-01\"}");
}

/*
 * A reader's open transaction makes COMMIT fail: the failure must reach the
 * caller (it was ignored: the run said its cells were fine and the index
 * kept none), the transaction must not stay open, and nothing is half
 * written.
 */
static void test_busy(void)
{
	sqlite3 *db = store_open(root);
	struct json_object *man = manifest(), *c0 = cell("c0", "100");
	struct reader rd;
	char *err;
	int ret;

	ok(db && !store_add_run(db, man, "R"), "busy: a store with a run");
	if (!db)
		return;
	/* Not the 10 s of STORE_BUSY_TIMEOUT_MS: this test waits on it. */
	sqlite3_busy_timeout(db, 300);
	rd = reader_start(0);
	ok(rd.pid > 0, "busy: another process holds a read transaction");

	capture_begin();
	ret = store_add_cell(db, "R", c0, "cells/c0.json");
	err = capture_end();
	ok(ret == -1, "busy: store_add_cell fails when COMMIT cannot lock the index");
	ok(strstr(err, index_path) && strstr(err, "cell c0") &&
	   strstr(err, "database is locked"),
	   "busy: the error names the index file, the cell and the lock");
	free(err);
	ok(sqlite3_get_autocommit(db),
	   "busy: the failed cell's transaction is rolled back, not left open");

	capture_begin();
	ret = store_finish_run(db, "R", "2026-12-02");
	err = capture_end();
	ok(ret == -1 && strstr(err, index_path) &&
	   strstr(err, "database is locked"),
	   "busy: store_finish_run fails naming the index file");
	free(err);

	ok(!reader_stop(&rd), "busy: the reader ends");
	ok(query_is(db, "SELECT count(*) FROM cells", NULL, "0") &&
	   query_is(db, "SELECT finished IS NULL FROM runs", NULL, "1"),
	   "busy: nothing of the failed calls is in the index");
	ok(!store_add_cell(db, "R", c0, "cells/c0.json") &&
	   !store_finish_run(db, "R", "2026-12-02"),
	   "busy: once the reader is gone the same calls succeed");
	ok(query_is(db, "SELECT count(*) FROM cells WHERE cell_id = ?1", "c0", "1") &&
	   query_is(db, "SELECT count(*) FROM metrics WHERE cell_id = ?1", "c0", "2") &&
	   query_is(db, "SELECT finished FROM runs", NULL, "2026-12-02"),
	   "busy: the cell, its metrics and the end of the run are indexed");

	/* The default timeout waits out a reader that lets go in time. */
	store_close(db);
	db = store_open(root);
	rd = reader_start(500);
	ok(db && !store_add_cell(db, "R", c0, "cells/c0.json"),
	   "busy: a reader that ends within the busy timeout is waited for");
	ok(!reader_stop(&rd), "busy: the reader ends");
	ok(!store_remove_cell(db, "R", "c0") &&
	   query_is(db, "SELECT count(*) FROM cells WHERE cell_id = ?1", "c0", "0") &&
	   query_is(db, "SELECT count(*) FROM metrics WHERE cell_id = ?1", "c0", "0") &&
	   sqlite3_get_autocommit(db),
	   "store_remove_cell removes the cell and its metrics, and commits");

	capture_begin();
	ret = store_finish_run(db, "no-such-run", "2026-12-02");
	err = capture_end();
	ok(ret == -1 && strstr(err, "no-such-run"),
	   "store_finish_run of a run that is not indexed fails");
	free(err);
	store_close(db);
	json_object_put(man);
	json_object_put(c0);
}

/* A metric that is NaN or infinite is left out; its cell is indexed. */
static void test_nan(void)
{
	sqlite3 *db = store_open(root);
	struct json_object *c = json_read_file(ABS_TOP_SRCDIR "/tests/fixtures/cell-nan.json");
	struct json_object *c1 = cell("c1", "NaN");
	char *err;
	int ret;

	ok(c && db, "nan: the cell of the report reads");
	if (!c || !db)
		return;
	capture_begin();
	ret = store_add_cell(db, "R", c, "cells/x.json");
	err = capture_end();
	ok(!ret, "nan: a cell whose metrics are NaN and Infinity is indexed");
	ok(strstr(err, "cell x: metric fio.read.iops is NaN") &&
	   strstr(err, "cell x: metric fio.read.bw is infinite") &&
	   strstr(err, "cells/x.json"),
	   "nan: a warning names the cell file, the cell and each metric");
	free(err);
	ok(query_is(db, "SELECT status FROM cells WHERE cell_id = ?1", "x", "ok") &&
	   query_is(db, "SELECT count(*) FROM metrics WHERE cell_id = ?1", "x", "0"),
	   "nan: the cell is in the index without the non-numbers");

	capture_begin();
	ret = store_add_cell(db, "R", c1, "cells/c1.json");
	err = capture_end();
	ok(!ret && query_is(db, "SELECT group_concat(metric) FROM metrics"
			    " WHERE cell_id = ?1", "c1", "fio.read.bw"),
	   "nan: the cell's other metrics are indexed");
	free(err);
	store_close(db);
	json_object_put(c);
	json_object_put(c1);
}

static void collect(void *arg, const char *name, double v, const char *unit)
{
	struct strbuf *sb = arg;

	(void)unit;
	strbuf_addf(sb, "%s=%g ", name, v);
}

/*
 * The trace of a kernel where the flush-queue flush did not attach (7.2,
 * fq_flush_iotlb inlined): its counts are not zeros to store.  Schema 1
 * documents wrote 0 for them (only "attach" says the path was missing);
 * schema 2 ones write null and say so in path_status.
 */
static void test_trace_missing_path(void)
{
	static const char *const files[] = {
		ABS_TOP_SRCDIR "/tests/fixtures/cell-trace-v1-nofq.json",
		ABS_TOP_SRCDIR "/tests/fixtures/cell-trace-v2-nofq.json",
	};

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct json_object *c = json_read_file(files[i]);
		struct strbuf sb = STRBUF_INIT;

		cell_metrics(c, collect, &sb);
		printf("# %s: %s\n", strrchr(files[i], '/') + 1, sb.buf ? sb.buf : "");
		ok(c && sb.buf && strstr(sb.buf, "trace.dma_unmap.rate=2000 ") &&
		   strstr(sb.buf, "trace.dma_unmap.p50=900 "),
		   "trace v%zu: the attached path's metrics are indexed", i + 1);
		ok(sb.buf && !strstr(sb.buf, "fq_flush.timer_rate") &&
		   !strstr(sb.buf, "fq_flush.queue_full_rate") &&
		   !strstr(sb.buf, "trace.fq_flush.") &&
		   !strstr(sb.buf, "exposure.lazy"),
		   "trace v%zu: a path that did not attach stores no metric, not 0", i + 1);
		strbuf_release(&sb);
		json_object_put(c);
	}
}

static void collect_units(void *arg, const char *name, double value,
			  const char *unit)
{
	strbuf_addf(arg, "%s=%g%s%s;", name, value, *unit ? " " : "", unit);
}

/* A stale-DMA cell: P(landed) per delay, and the times when they exist. */
static void test_stale(void)
{
	struct json_object *c = json_tokener_parse(
		"{\"id\":\"s\",\"status\":\"ok\",\"stale\":{\"delays\":["
		"{\"delay_ns\":0,\"p_landed\":1},"
		"{\"delay_ns\":100000,\"p_landed\":1},"
		"{\"delay_ns\":12500000,\"p_landed\":0.25},"
		"{\"delay_ns\":20000000,\"p_landed\":0},"
		"{\"delay_ns\":1500,\"p_landed\":null}],"
		"\"last_landed_gap_ns\":12100000,\"first_clean_delay_ns\":20000000}}");
	struct json_object *strict = json_tokener_parse(
		"{\"id\":\"t\",\"status\":\"ok\",\"stale\":{\"delays\":["
		"{\"delay_ns\":0,\"p_landed\":0}],"
		"\"last_landed_gap_ns\":null,\"first_clean_delay_ns\":0}}");
	struct strbuf sb = STRBUF_INIT, sb2 = STRBUF_INIT;

	cell_metrics(c, collect_units, &sb);
	ok(sb.buf && !strcmp(sb.buf, "stale.p_landed.0=1;stale.p_landed.100us=1;"
			     "stale.p_landed.12500us=0.25;stale.p_landed.20ms=0;"
			     "stale.last_landed_gap=1.21e+07 ns;"
			     "stale.first_clean_delay=2e+07 ns;"),
	   "stale: P(landed) per delay, named by the delay, and the times (%s)",
	   sb.buf ? sb.buf : "nothing");
	cell_metrics(strict, collect_units, &sb2);
	ok(sb2.buf && !strcmp(sb2.buf, "stale.p_landed.0=0;stale.first_clean_delay=0 ns;"),
	   "stale: no landing, no last-landing time (%s)",
	   sb2.buf ? sb2.buf : "nothing");
	strbuf_release(&sb);
	strbuf_release(&sb2);
	json_object_put(c);
	json_object_put(strict);
}

/*
 * Metric names are not cut short: an iommutrace path of 100 characters
 * made its .p50 and .p99 one name (cut at 95), the INSERT failed and the
 * cell was missing from the index.  Its path_status is found whole too.
 */
static void test_long_path(void)
{
	sqlite3 *db = store_open(root);
	char p[101], *text, *want, *err;
	struct json_object *c;
	int ret;

	memset(p, 'p', 100);
	p[100] = '\0';
	text = xasprintf("{\"id\":\"long\",\"status\":\"ok\",\"iommutrace\":"
			 "{\"duration_ns\":1e9,\"paths\":{"
			 "\"%s\":{\"calls\":3,\"latency\":{\"count\":3,\"p50\":1,\"p99\":2}},"
			 "\"%sq\":{\"calls\":3,\"latency\":{\"count\":3,\"p50\":1,\"p99\":2}}},"
			 "\"path_status\":{\"%s\":{\"status\":\"attached\"},"
			 "\"%sq\":{\"status\":\"missing\"}}}}", p, p, p, p);
	c = text ? json_tokener_parse(text) : NULL;
	want = xasprintf("trace.%s.p50,trace.%s.p99,trace.%s.rate", p, p, p);
	ok(c && db && want, "long path: the cell parses");
	if (!c || !db || !want)
		goto out;
	capture_begin();
	ret = store_add_cell(db, "R", c, "cells/long.json");
	err = capture_end();
	ok(!ret && !*err, "long path: the cell is indexed, without complaint");
	if (*err)
		printf("# %s", err);
	free(err);
	ok(query_is(db, "SELECT group_concat(metric) FROM (SELECT metric FROM"
		    " metrics WHERE cell_id = ?1 ORDER BY metric)", "long", want),
	   "long path: its metrics have their whole names; the path that is"
	   " not attached has none");
out:
	free(want);
	free(text);
	store_close(db);
	json_object_put(c);
}

/*
 * An iommutrace path is named like the tracer names them, so its metrics
 * cannot be another's: a path named "exposure.strict" gave
 * trace.exposure.strict.p50 twice (its latency and the exposure window)
 * and the cell was missing from the index.  Such a path is left out with
 * a warning; the cell and its other metrics are indexed.
 */
static void test_path_names(void)
{
	sqlite3 *db = store_open(root);
	struct json_object *c = json_tokener_parse(
		"{\"id\":\"names\",\"status\":\"ok\",\"iommutrace\":{"
		"\"paths\":{\"exposure.strict\":{\"calls\":1,\"latency\":"
		"{\"count\":1,\"p50\":1}},\"__iommu_unmap\":{\"calls\":1,"
		"\"latency\":{\"count\":1,\"p50\":3}},\"\":{\"calls\":1,"
		"\"latency\":{\"count\":1,\"p50\":4}}},"
		"\"exposure_window\":{\"strict\":{\"count\":1,\"p50\":2}}}}");
	char *err;
	int ret;

	ok(c && db, "path names: the cell parses");
	if (!c || !db)
		goto out;
	capture_begin();
	ret = store_add_cell(db, "R", c, "cells/names.json");
	err = capture_end();
	ok(!ret, "path names: a path named like another metric keeps its cell");
	ok(strstr(err, "cell names: iommutrace path 'exposure.strict' is not a path name") &&
	   strstr(err, "cell names: iommutrace path '' is not a path name"),
	   "path names: a warning names the cell and each path left out");
	free(err);
	ok(query_is(db, "SELECT group_concat(metric || '=' || value) FROM"
		    " (SELECT metric, value FROM metrics WHERE cell_id = ?1"
		    " ORDER BY metric)", "names",
		    "trace.__iommu_unmap.p50=3.0,trace.exposure.strict.p50=2.0"),
	   "path names: the exposure window and the other path are indexed");
out:
	store_close(db);
	json_object_put(c);
}

/*
 * Read-only, the index must exist and be one: a root without one, or
 * with an SQLite file of schema version 0, is refused with the reason.
 */
static void test_readonly_refused(void)
{
	char *err;
	sqlite3 *db;

	unlink(index_path);
	capture_begin();
	db = store_open_readonly(root);
	err = capture_end();
	ok(!db && strstr(err, "no result index") && !path_exists(index_path),
	   "read-only: no index is an error, and none is created");
	free(err);
	if (sqlite3_open(index_path, &db) == SQLITE_OK)
		sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL);
	sqlite3_close(db);
	capture_begin();
	db = store_open_readonly(root);
	err = capture_end();
	ok(!db && strstr(err, index_path) &&
	   strstr(err, "not an iommubench index (schema version 0)"),
	   "read-only: an SQLite file of schema version 0 is not an index");
	free(err);
	unlink(index_path);
}

/* A file that is not (or no longer) an SQLite database: name it. */
static void test_malformed(void)
{
	static const char junk[] = "this is not an SQLite database, only text "
		"long enough to have been a header of one, and some more\n";
	struct json_object *c0 = cell("c0", "1");
	char *err, *pad;
	sqlite3 *db;
	int ret;

	ok(!write_file_atomic(index_path, junk, strlen(junk)),
	   "malformed: the index is overwritten with text");
	capture_begin();
	db = store_open(root);
	err = capture_end();
	ok(!db && strstr(err, index_path) && strstr(err, "file is not a database"),
	   "malformed: store_open says which file is not a database");
	free(err);
	capture_begin();
	db = store_open_readonly(root);
	err = capture_end();
	ok(!db && strstr(err, index_path) && strstr(err, "file is not a database"),
	   "malformed: store_open_readonly says which file is not a database");
	free(err);

	/* A valid header with its tables' pages overwritten. */
	unlink(index_path);
	db = store_open(root);
	store_close(db);
	pad = calloc(1, 4096 * 8);
	{
		FILE *f = fopen(index_path, "r+");

		memset(pad, 0xa5, 4096 * 8);
		ok(f && !fseek(f, 4096, SEEK_SET) &&
		   fwrite(pad, 1, 4096 * 8, f) == 4096 * 8 && !fclose(f),
		   "malformed: the index's table pages are overwritten");
	}
	free(pad);
	capture_begin();
	db = store_open(root);
	ret = db ? store_add_cell(db, "R", c0, "cells/c0.json") : -1;
	err = capture_end();
	ok(ret == -1 && strstr(err, index_path) && strstr(err, "malformed"),
	   "malformed: indexing into a corrupt index fails naming the file");
	free(err);
	store_close(db);
	json_object_put(c0);
}

/*
 * An index of schema version 2 (no cells.host) gains the column when a
 * run next writes to it: old cells get their run's host, a new cell its
 * own "host" field, and the version becomes 3.
 */
static void test_host(void)
{
	static const char v2[] =
		"CREATE TABLE runs (run_id TEXT PRIMARY KEY, path TEXT NOT NULL,"
		" matrix TEXT, seed INTEGER, target TEXT, started TEXT,"
		" finished TEXT, host TEXT, suite_version TEXT);"
		"CREATE TABLE cells (run_id TEXT NOT NULL, cell_id TEXT NOT NULL,"
		" boot_id TEXT, seq INTEGER, kernel TEXT, kernel_release TEXT,"
		" kernel_version TEXT, kernel_commit TEXT, iommu TEXT,"
		" policy TEXT, mechanism TEXT, clock TEXT, verified_type TEXT,"
		" verified_policy TEXT, device TEXT, workload TEXT,"
		" workload_type TEXT, rep INTEGER, status TEXT NOT NULL,"
		" error TEXT, started TEXT, duration_s REAL, path TEXT NOT NULL,"
		" PRIMARY KEY (run_id, cell_id));"
		"INSERT INTO runs (run_id, path, host) VALUES ('old', 'p', 'lab1');"
		"INSERT INTO cells (run_id, cell_id, status, path)"
		" VALUES ('old', 'c0', 'ok', 'p');"
		"PRAGMA user_version = 2;";
	struct json_object *c1 = cell("c1", "7");
	struct json_object *man = manifest();
	sqlite3 *db = NULL;
	int ret;

	unlink(index_path);
	if (sqlite3_open(index_path, &db) == SQLITE_OK)
		sqlite3_exec(db, v2, NULL, NULL, NULL);
	sqlite3_close(db);
	db = store_open(root);
	ok(db != NULL, "host: a version 2 index opens");
	if (!db) {
		json_object_put(c1);
		json_object_put(man);
		return;
	}
	ok(query_is(db, "PRAGMA user_version", NULL, "3"),
	   "host: it is migrated to version 3");
	ok(query_is(db, "SELECT host FROM cells WHERE cell_id = 'c0'", NULL,
		    "lab1"),
	   "host: an old cell gets its run's host");
	json_object_object_add(c1, "host", json_object_new_string("lab2"));
	ret = store_add_run(db, man, "R") ||
	      store_add_cell(db, "R", c1, "cells/c1.json");
	ok(!ret && query_is(db, "SELECT host FROM cells WHERE cell_id = ?1",
			    "c1", "lab2"),
	   "host: a new cell is indexed with its own host");
	store_close(db);
	json_object_put(c1);
	json_object_put(man);
	unlink(index_path);
}

/*
 * An index of schema version 1 (neither cells.clock nor cells.host) goes
 * through both steps in order: clock 'host' (version 2), then its run's
 * host (version 3).
 */
static void test_v1(void)
{
	static const char v1[] =
		"CREATE TABLE runs (run_id TEXT PRIMARY KEY, path TEXT NOT NULL,"
		" matrix TEXT, seed INTEGER, target TEXT, started TEXT,"
		" finished TEXT, host TEXT, suite_version TEXT);"
		"CREATE TABLE cells (run_id TEXT NOT NULL, cell_id TEXT NOT NULL,"
		" boot_id TEXT, seq INTEGER, kernel TEXT, kernel_release TEXT,"
		" kernel_version TEXT, kernel_commit TEXT, iommu TEXT,"
		" policy TEXT, mechanism TEXT, verified_type TEXT,"
		" verified_policy TEXT, device TEXT, workload TEXT,"
		" workload_type TEXT, rep INTEGER, status TEXT NOT NULL,"
		" error TEXT, started TEXT, duration_s REAL, path TEXT NOT NULL,"
		" PRIMARY KEY (run_id, cell_id));"
		"INSERT INTO runs (run_id, path, host) VALUES ('old', 'p', 'lab1');"
		"INSERT INTO cells (run_id, cell_id, status, path)"
		" VALUES ('old', 'c0', 'ok', 'p');"
		"PRAGMA user_version = 1;";
	sqlite3 *db = NULL;

	unlink(index_path);
	if (sqlite3_open(index_path, &db) == SQLITE_OK)
		sqlite3_exec(db, v1, NULL, NULL, NULL);
	sqlite3_close(db);
	db = store_open(root);
	ok(db != NULL, "v1: a version 1 index opens");
	if (!db)
		return;
	ok(query_is(db, "PRAGMA user_version", NULL, "3"),
	   "v1: it is migrated to version 3");
	ok(query_is(db, "SELECT clock || ' ' || host FROM cells"
		    " WHERE cell_id = 'c0'", NULL, "host lab1"),
	   "v1: an old cell gets the host clock and its run's host");
	store_close(db);
	unlink(index_path);
}

int main(void)
{
	char *real;

	signal(SIGPIPE, SIG_IGN);
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 99;
	}
	/* Errors name the index by its absolute path, with links resolved. */
	real = realpath(root, NULL);
	index_path = real ? xasprintf("%s/index.sqlite", real) : NULL;
	if (!index_path) {
		perror("realpath");
		return 99;
	}
	test_busy();
	unlink(index_path);
	test_nan();
	test_trace_missing_path();
	test_stale();
	test_long_path();
	test_path_names();
	test_readonly_refused();
	test_malformed();
	test_host();
	test_v1();
	rm_rf(root);
	free(index_path);
	free(real);
	return tap_done();
}
