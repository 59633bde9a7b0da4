/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The result store: results/<run-id>/ holds manifest.json, matrix.ini,
 * cells/<cell>.json, plans/, logs/ and kernels/; <results>/index.sqlite
 * indexes every run's cells and their metrics for the analysis.  The
 * schema is documented in results/README and versioned with
 * PRAGMA user_version.
 */
#ifndef IB_STORE_H
#define IB_STORE_H

#include <json-c/json.h>
#include <sqlite3.h>

#define STORE_SCHEMA_VERSION	3	/* 2: cells.clock, 3: cells.host */
/*
 * How long a call waits for an index that another process holds (a
 * writer, or a reader's open transaction) before it fails, naming the
 * file.
 */
#define STORE_BUSY_TIMEOUT_MS	10000

/* Open (creating or migrating) <root>/index.sqlite. */
sqlite3 *store_open(const char *root);
/* Open an existing <root>/index.sqlite for reading (the analysis). */
sqlite3 *store_open_readonly(const char *root);
void store_close(sqlite3 *db);

/*
 * The writers below return 0, or -1 after an error naming the index file
 * (nothing of the call is left in the index then).
 */
int store_add_run(sqlite3 *db, struct json_object *manifest, const char *path);
/* Set the run's finished time; -1 also when the run is not indexed. */
int store_finish_run(sqlite3 *db, const char *run_id, const char *finished);
/*
 * Index one cell file (replacing an earlier row of the same cell) in one
 * transaction.  A metric that is NaN or infinite is left out, with a
 * warning; the cell and its other metrics are indexed.
 */
int store_add_cell(sqlite3 *db, const char *run_id, struct json_object *cell,
		   const char *path);
/* Drop a cell and its metrics from the index (it is about to run again). */
int store_remove_cell(sqlite3 *db, const char *run_id, const char *cell_id);

/*
 * cell_new - a cell file's common part: schema, id, boot, config and,
 * from the plan's cell @pc, workload, rep and seq.  The agent fills in the
 * measurement; the runner uses it alone for a cell that never ran.
 */
struct json_object *cell_new(const char *boot_id, struct json_object *config,
			     struct json_object *pc);

/*
 * cell_metrics - call @fn for every metric of @cell: name, value, unit.
 * The one place where workload output becomes metrics.
 */
void cell_metrics(struct json_object *cell,
		  void (*fn)(void *arg, const char *name, double value,
			     const char *unit),
		  void *arg);

#endif /* IB_STORE_H */
