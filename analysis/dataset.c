// SPDX-License-Identifier: GPL-2.0
/*
 * dataset.c - metric series read from the result store's SQLite index
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "log.h"
#include "util.h"
#include "store.h"

const char *const an_dim_names[AN_NR_DIMS] = {
	[AN_KERNEL] = "kernel",
	[AN_IOMMU] = "iommu",
	[AN_POLICY] = "policy",
	[AN_WORKLOAD] = "workload",
	[AN_METRIC] = "metric",
};

int an_dim_parse(const char *s)
{
	for (int i = 0; i < AN_METRIC; i++)
		if (!strcmp(s, an_dim_names[i]))
			return i;
	return -1;
}

const char *an_fmt(char *buf, size_t len, double v)
{
	static const char sfx[] = " kMGT";
	double a = fabs(v);
	int i = 0;

	if (isnan(v))
		snprintf(buf, len, "-");
	else if (a < 1000)
		snprintf(buf, len, "%.3g", v);
	else {
		while (a >= 999.5 && i < 4) {
			a /= 1000;
			v /= 1000;
			i++;
		}
		snprintf(buf, len, "%.3g%c", v, sfx[i]);
	}
	return buf;
}

/* --- runs and the index ----------------------------------------------------- */

int an_resolve_run(const char *arg, const char *root, struct an_run *run)
{
	char *man = xasprintf("%s/manifest.json", arg), real[PATH_MAX];

	memset(run, 0, sizeof(*run));
	if (man && path_exists(man) && realpath(arg, real)) {
		char *slash = strrchr(real, '/');

		run->id = strdup(slash + 1);
		*slash = '\0';
		run->root = strdup(real[0] ? real : "/");
	} else {
		run->id = strdup(arg);
		run->root = strdup(root ? root : "results");
	}
	free(man);
	run->dir = run->root && run->id ?
		   xasprintf("%s/%s", run->root, run->id) : NULL;
	if (!run->dir) {
		an_run_free(run);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

void an_run_free(struct an_run *run)
{
	free(run->root);
	free(run->id);
	free(run->dir);
	memset(run, 0, sizeof(*run));
}

/* --- the dataset ---------------------------------------------------------- */

void an_dataset_init(struct an_dataset *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void an_dataset_free(struct an_dataset *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		free(ds->s[i].v);
	for (size_t i = 0; i < ds->nstrs; i++)
		free(ds->strs[i]);
	free(ds->s);
	free(ds->slots);
	free(ds->strs);
	free(ds->strslots);
	memset(ds, 0, sizeof(*ds));
}

static int grow_slots(uint32_t **slots, size_t *nslots, size_t used)
{
	uint32_t *n;

	if (used * 2 < *nslots)
		return 0;
	n = calloc(*nslots ? *nslots * 2 : 1024, sizeof(*n));
	if (!n)
		return -1;
	free(*slots);
	*slots = n;
	*nslots = *nslots ? *nslots * 2 : 1024;
	return 1;	/* rehash */
}

const char *an_intern(struct an_dataset *ds, const char *s)
{
	size_t i;
	int r;

	if (!s)
		return NULL;
	r = grow_slots(&ds->strslots, &ds->nstrslots, ds->nstrs + 1);
	if (r < 0)
		return NULL;
	if (r)
		for (size_t k = 0; k < ds->nstrs; k++) {
			i = str_hash(ds->strs[k], STR_HASH_INIT) &
			    (ds->nstrslots - 1);
			while (ds->strslots[i])
				i = (i + 1) & (ds->nstrslots - 1);
			ds->strslots[i] = k + 1;
		}
	i = str_hash(s, STR_HASH_INIT) & (ds->nstrslots - 1);
	while (ds->strslots[i]) {
		if (!strcmp(ds->strs[ds->strslots[i] - 1], s))
			return ds->strs[ds->strslots[i] - 1];
		i = (i + 1) & (ds->nstrslots - 1);
	}
	if (ds->nstrs == ds->strcap) {
		size_t cap = ds->strcap ? ds->strcap * 2 : 256;
		char **n = realloc(ds->strs, cap * sizeof(*n));

		if (!n)
			return NULL;
		ds->strs = n;
		ds->strcap = cap;
	}
	ds->strs[ds->nstrs] = strdup(s);
	if (!ds->strs[ds->nstrs])
		return NULL;
	ds->strslots[i] = ++ds->nstrs;
	return ds->strs[ds->nstrs - 1];
}

/* interned strings compare by pointer */
static uint64_t key_hash(const char *const dim[], const char *commit)
{
	uint64_t h = STR_HASH_INIT;

	for (int d = 0; d < AN_NR_DIMS; d++)
		h = (h ^ (uintptr_t)dim[d]) * 0x100000001b3ULL;
	h = (h ^ (uintptr_t)commit) * 0x100000001b3ULL;
	/* the multiplications only move entropy up: fold it down (splitmix64) */
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 31);
}

static bool key_eq(const struct an_series *s, const char *const dim[],
		   const char *commit)
{
	for (int d = 0; d < AN_NR_DIMS; d++)
		if (s->dim[d] != dim[d])
			return false;
	return s->commit == commit;
}

/* add to the series of @dim, all of whose strings are interned already */
static struct an_series *add_interned(struct an_dataset *ds,
				      const char *const dim[], const char *unit,
				      const char *commit, double value)
{
	struct an_series *s;
	size_t i;
	int r;

	r = grow_slots(&ds->slots, &ds->nslots, ds->n + 1);
	if (r < 0)
		return NULL;
	if (r)
		for (size_t k = 0; k < ds->n; k++) {
			i = key_hash(ds->s[k].dim, ds->s[k].commit) & (ds->nslots - 1);
			while (ds->slots[i])
				i = (i + 1) & (ds->nslots - 1);
			ds->slots[i] = k + 1;
		}
	i = key_hash(dim, commit) & (ds->nslots - 1);
	while (ds->slots[i]) {
		s = &ds->s[ds->slots[i] - 1];
		if (key_eq(s, dim, commit))
			goto found;
		i = (i + 1) & (ds->nslots - 1);
	}
	if (ds->n == ds->cap) {
		size_t cap = ds->cap ? ds->cap * 2 : 256;
		struct an_series *n = realloc(ds->s, cap * sizeof(*n));

		if (!n)
			return NULL;
		ds->s = n;
		ds->cap = cap;
	}
	s = &ds->s[ds->n];
	memset(s, 0, sizeof(*s));
	memcpy(s->dim, dim, sizeof(s->dim));
	s->unit = unit;
	s->commit = commit;
	s->order = INFINITY;
	ds->slots[i] = ++ds->n;
found:
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = value;
	return s;
}

struct an_series *an_add(struct an_dataset *ds, const char *const in[],
			 const char *unit, const char *commit, double value)
{
	const char *dim[AN_NR_DIMS];

	for (int d = 0; d < AN_NR_DIMS; d++) {
		dim[d] = an_intern(ds, in[d] ? in[d] : "-");
		if (!dim[d])
			return NULL;
	}
	unit = an_intern(ds, unit ? unit : "");
	if (!unit)
		return NULL;
	return add_interned(ds, dim, unit, an_intern(ds, commit), value);
}

/* cell id -> configuration, for joining metrics to cells in memory */
struct cellmap {
	const char **id;	/* interned cell ids, NULL = empty slot */
	const char *(*dim)[AN_METRIC];
	size_t nslots;
};

static size_t cellmap_slot(const struct cellmap *m, const char *id)
{
	size_t i = str_hash(id, STR_HASH_INIT) & (m->nslots - 1);

	while (m->id[i] && strcmp(m->id[i], id))
		i = (i + 1) & (m->nslots - 1);
	return i;
}

/*
 * The rowid range of @run_id's rows in @table (cells or metrics): a run's
 * rows were inserted together, so scanning that range in table order is
 * much cheaper than going through the (run_id, ...) index.
 */
static int rowid_range(sqlite3 *db, const char *table, const char *run_id,
		       sqlite3_int64 *lo, sqlite3_int64 *hi)
{
	char sql[96];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql),
		 "SELECT min(rowid), max(rowid) FROM %s WHERE run_id = ?1", table);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*lo = sqlite3_column_int64(st, 0);
		*hi = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	return 0;
}

/*
 * run_rows - @select over @run_id's rows of @table, scanning their rowid
 * range (?2 to ?3) in table order: the unary + of "+run_id = ?1" keeps
 * SQLite off the (run_id, ...) index, which costs a table lookup per row.
 * Rows of other runs inside the range are filtered out, so the result is
 * the same either way.  NULL on an SQLite error.
 */
static sqlite3_stmt *run_rows(sqlite3 *db, const char *table,
			      const char *select, const char *run_id)
{
	sqlite3_int64 lo = 1, hi = 0;
	sqlite3_stmt *st;

	if (rowid_range(db, table, run_id, &lo, &hi) ||
	    sqlite3_prepare_v2(db, select, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	return st;
}

static int index_error(sqlite3 *db)
{
	pr_err("index: %s", sqlite3_errmsg(db));
	return -1;
}

/* an empty map with room for @run_id's cells */
static int cellmap_alloc(sqlite3 *db, const char *run_id, struct cellmap *m)
{
	sqlite3_stmt *st;
	size_t ncells = 0;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM cells WHERE run_id = ?1",
			       -1, &st, NULL) != SQLITE_OK)
		return index_error(db);
	sqlite3_bind_text(st, 1, run_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		ncells = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (m->nslots = 16; m->nslots < 2 * ncells + 2; m->nslots *= 2)
		;
	m->id = calloc(m->nslots, sizeof(*m->id));
	m->dim = calloc(m->nslots, sizeof(*m->dim));
	return m->id && m->dim ? 0 : -1;
}

/* the run's ok cells into @m: cell id -> kernel, iommu, policy, workload */
static int load_cells(sqlite3 *db, const char *run_id,
		      struct an_dataset *ds, struct cellmap *m)
{
	sqlite3_stmt *st;
	int rc;

	st = run_rows(db, "cells",
		"SELECT cell_id, kernel, iommu, policy, workload FROM cells"
		" WHERE rowid BETWEEN ?2 AND ?3 AND +run_id = ?1 AND status = 'ok'",
		run_id);
	if (!st)
		return index_error(db);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		size_t i;

		if (!id)
			continue;
		i = cellmap_slot(m, id);
		m->id[i] = an_intern(ds, id);
		for (int d = 0; d < AN_METRIC; d++) {
			const char *v = (const char *)sqlite3_column_text(st, d + 1);

			m->dim[i][d] = an_intern(ds, v ? v : "-");
			if (!m->dim[i][d]) {
				sqlite3_finalize(st);
				return -1;
			}
		}
		ds->cells++;
	}
	if (rc != SQLITE_DONE)
		index_error(db);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* the run's metric rows of the cells in @m, each into its series */
static int load_metrics(sqlite3 *db, const char *run_id,
			struct an_dataset *ds, const struct cellmap *m)
{
	size_t last = SIZE_MAX;
	sqlite3_stmt *st;
	int rc;

	st = run_rows(db, "metrics",
		"SELECT cell_id, metric, unit, value FROM metrics"
		" WHERE rowid BETWEEN ?2 AND ?3 AND +run_id = ?1", run_id);
	if (!st)
		return index_error(db);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *dim[AN_NR_DIMS], *unit;
		size_t i;

		if (last != SIZE_MAX && !m->id[last])
			last = SIZE_MAX;

		if (!id)
			continue;
		/* a cell's metrics are consecutive rows: look it up once */
		if (last == SIZE_MAX || strcmp(m->id[last], id))
			last = cellmap_slot(m, id);
		i = last;
		if (!m->id[i])
			continue;	/* a failed cell */
		memcpy(dim, m->dim[i], sizeof(m->dim[i]));
		dim[AN_METRIC] = an_intern(ds, (const char *)sqlite3_column_text(st, 1));
		unit = an_intern(ds, sqlite3_column_text(st, 2) ?
				 (const char *)sqlite3_column_text(st, 2) : "");
		if (!dim[AN_METRIC] || !unit ||
		    !add_interned(ds, dim, unit, NULL, sqlite3_column_double(st, 3))) {
			sqlite3_finalize(st);
			errno = ENOMEM;
			return -1;
		}
	}
	if (rc != SQLITE_DONE)
		index_error(db);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Two plain scans instead of a join: the cells of the run into a hash
 * map, then its metric rows.  SQLite joining 650 000 metric rows to their
 * cells by primary key costs three times as much (docs/analysis.md, speed).
 */
int an_load_run(sqlite3 *db, const char *run_id, struct an_dataset *ds)
{
	struct cellmap m = { 0 };
	int ret;

	ret = cellmap_alloc(db, run_id, &m);
	if (!ret)
		ret = load_cells(db, run_id, ds, &m);
	if (!ret)
		ret = load_metrics(db, run_id, ds, &m);
	free(m.id);
	free(m.dim);
	return ret;
}

/* --- ordering ----------------------------------------------------------------- */

static enum an_dim sort_by;

/* policies in their natural order, everything else as text */
static int dim_cmp(enum an_dim d, const char *a, const char *b)
{
	static const char *const pol[] = { "strict", "lazy", "identity" };
	int ia = 3, ib = 3;

	if (a == b)
		return 0;
	if (d == AN_POLICY) {
		for (int i = 0; i < 3; i++) {
			if (!strcmp(a, pol[i]))
				ia = i;
			if (!strcmp(b, pol[i]))
				ib = i;
		}
		if (ia != ib)
			return ia - ib;
	}
	return strcmp(a, b);
}

int an_key_cmp(const struct an_series *a, const struct an_series *b,
	       enum an_dim by, bool kernel)
{
	static const enum an_dim block[] = { AN_KERNEL, AN_IOMMU, AN_WORKLOAD,
					     AN_POLICY };
	int r;

	/* the block: all dimensions but @by and the metric */
	for (size_t i = 0; i < 4; i++) {
		if (block[i] == by || (block[i] == AN_KERNEL && !kernel))
			continue;
		r = dim_cmp(block[i], a->dim[block[i]], b->dim[block[i]]);
		if (r)
			return r;
	}
	r = strcmp(a->dim[AN_METRIC], b->dim[AN_METRIC]);
	if (r)
		return r;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	if (by == AN_KERNEL && !kernel)
		return 0;
	return dim_cmp(by, a->dim[by], b->dim[by]);
}

static int series_cmp(const void *pa, const void *pb)
{
	return an_key_cmp(pa, pb, sort_by, true);
}

void an_sort(struct an_dataset *ds, enum an_dim by)
{
	sort_by = by;
	qsort(ds->s, ds->n, sizeof(*ds->s), series_cmp);
	/* the hash refers to positions: rebuild it */
	memset(ds->slots, 0, ds->nslots * sizeof(*ds->slots));
	for (size_t k = 0; k < ds->n; k++) {
		size_t i = key_hash(ds->s[k].dim, ds->s[k].commit) & (ds->nslots - 1);

		while (ds->slots[i])
			i = (i + 1) & (ds->nslots - 1);
		ds->slots[i] = k + 1;
	}
}
