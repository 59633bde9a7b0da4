// SPDX-License-Identifier: GPL-2.0
/*
 * The result index (lib/store.c): every SQLite failure is an error that
 * names the index file, a busy index is waited for and then fails, and a
 * cell is never lost for one metric that is not a number.
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
	test_malformed();
	test_host();
	rm_rf(root);
	free(index_path);
	free(real);
	return tap_done();
}
