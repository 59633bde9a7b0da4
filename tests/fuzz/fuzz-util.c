// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-util.c - the harnesses' shared plumbing (see fuzz.h)
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"
#include "hist.h"
#include "json.h"
#include "log.h"
#include "util.h"
#include "analysis.h"
#include "store.h"

static char *dir;
static sqlite3 *db;

static void cleanup(void)
{
	if (db)
		store_close(db);
	db = NULL;
	if (dir)
		rm_rf(dir);
	free(dir);
	dir = NULL;
}

/*
 * Remove the directories of harnesses that died (a crash leaves its
 * directory behind): <base>/ib-fuzz-<name>.<pid> of a pid that is gone.
 */
static void remove_stale(const char *base)
{
	DIR *d = opendir(base);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');
		char *end, *path;
		long pid;

		if (!str_has_prefix(e->d_name, "ib-fuzz-") || !dot)
			continue;
		pid = strtol(dot + 1, &end, 10);
		if (*end || pid <= 0 || !kill(pid, 0) || errno != ESRCH)
			continue;
		path = xasprintf("%s/%s", base, e->d_name);
		if (path)
			rm_rf(path);
		free(path);
	}
	if (d)
		closedir(d);
}

void fuzz_init(const char *name)
{
	const char *base = getenv("TMPDIR");
	const char *verbose = getenv("IB_FUZZ_VERBOSE");

	log_init(name);
	if (!verbose || strcmp(verbose, "1"))
		log_set_level(LOG_NONE);
	/*
	 * The code under test fsyncs what it writes (write_file_atomic(),
	 * SQLite): on a disk that costs more than the rest of a run.
	 */
	if (path_is_dir("/dev/shm"))
		base = "/dev/shm";
	else if (!base || !*base)
		base = "/tmp";
	remove_stale(base);
	dir = xasprintf("%s/ib-%s.%d", base, name, (int)getpid());
	if (!dir || rm_rf(dir) || mkdir(dir, 0700))
		fuzz_fail("%s: cannot make a directory: %s", name, strerror(errno));
	atexit(cleanup);
}

const char *fuzz_dir(void)
{
	return dir;
}

char *fuzz_file(const char *rel, const void *data, size_t size)
{
	char *path = xasprintf("%s/%s", dir, rel);

	if (!path || write_file_atomic(path, data, size))
		fuzz_fail("%s: cannot write: %s", path ? path : rel,
			  strerror(errno));
	return path;
}

void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fuzz_json_whole(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *obj;
	size_t end;

	if (!tok)
		fuzz_fail("out of memory");
	obj = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (obj)
		json_object_put(obj);
	for (size_t i = end; i < size; i++)
		fuzz_check(strchr(" \t\r\n", data[i]) && data[i],
			   "json_read_file accepted %zu bytes after the JSON value at byte %zu",
			   size - end, end);
}

sqlite3 *fuzz_store(void)
{
	char *err = NULL;

	if (!db) {
		db = store_open(dir);
		if (!db)
			fuzz_fail("%s: cannot open the index", dir);
		/* A scratch index: nothing to keep when the machine stops. */
		sqlite3_exec(db, "PRAGMA synchronous = OFF;"
			     " PRAGMA journal_mode = MEMORY", NULL, NULL, NULL);
	}
	if (sqlite3_exec(db, "DELETE FROM metrics; DELETE FROM cells;"
			 " DELETE FROM runs", NULL, NULL, &err) != SQLITE_OK)
		fuzz_fail("%s: cannot empty the index: %s", dir, err);
	return db;
}

static long long count_rows(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long n = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fuzz_fail("%s: %s", sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* The metrics store_add_cell() keeps: NaN and infinities are left out. */
static void count_metric(void *arg, const char *name, double value,
			 const char *unit)
{
	size_t *n = arg;

	fuzz_check(name && *name && unit,
		   "cell_metrics: a metric without a name or unit");
	if (isfinite(value))
		(*n)++;
}

/*
 * What the plots rebuild from the cell (an_cell_hists, analysis/plot.c):
 * a cell whose histograms are malformed is refused (an error naming the
 * file), leaving nothing merged; one that is not has at most its own.
 */
static void cell_hists(sqlite3 *db)
{
	static const char *const whats[] = { "fio", "map", "unmap", "exposure" };
	sqlite3_stmt *st;
	char *wl = NULL, *pol = NULL;

	if (sqlite3_prepare_v2(db, "SELECT workload, policy FROM cells", -1,
			       &st, NULL) != SQLITE_OK)
		fuzz_fail("cells: %s", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
	    sqlite3_column_text(st, 1)) {
		wl = strdup((const char *)sqlite3_column_text(st, 0));
		pol = strdup((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	for (size_t i = 0; wl && pol && i < ARRAY_SIZE(whats); i++) {
		struct hist h;
		size_t n;

		if (an_cell_hists(db, "fuzz", wl, whats[i], pol, &h, &n)) {
			fuzz_check(!n && !hist_count(&h),
				   "an_cell_hists(%s) failed, yet merged %zu cells",
				   whats[i], n);
			continue;
		}
		fuzz_check(n <= 1, "an_cell_hists(%s): %zu cells from one",
			   whats[i], n);
		fuzz_check(!hist_count(&h) || hist_min(&h) <= hist_max(&h),
			   "an_cell_hists(%s): min %llu > max %llu", whats[i],
			   (unsigned long long)hist_min(&h),
			   (unsigned long long)hist_max(&h));
	}
	free(wl);
	free(pol);
}

void fuzz_cell(struct json_object *cell, const char *path)
{
	sqlite3 *db = fuzz_store();
	bool indexable = json_object_is_type(cell, json_type_object) &&
			 json_get_string(cell, "id") &&
			 json_get_string(cell, "status");
	struct an_dataset ds;
	size_t nmetrics = 0, nvalues = 0;
	long long rows;
	int ret;

	cell_metrics(cell, count_metric, &nmetrics);
	ret = store_add_cell(db, "fuzz", cell, path);
	if (!indexable)
		return;
	fuzz_check(!ret, "a cell with an id and a status is not indexed");
	rows = count_rows(db, "SELECT count(*) FROM metrics");
	fuzz_check(rows == (long long)nmetrics,
		   "cell_metrics() reported %zu metrics, the index has %lld",
		   nmetrics, rows);
	an_dataset_init(&ds);
	fuzz_check(!an_load_run(db, "fuzz", &ds), "an_load_run failed");
	for (size_t i = 0; i < ds.n; i++)
		nvalues += ds.s[i].n;
	fuzz_check(nvalues == nmetrics,
		   "an_load_run: %zu values from %zu metrics", nvalues, nmetrics);
	an_dataset_free(&ds);
	cell_hists(db);
}
