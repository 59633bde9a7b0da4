// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-matrix - bench/runner/matrix.c: matrix_parse() on any file, then
 * the plan of what it accepted.
 *
 * Checked beyond memory safety: an accepted matrix respects the limits of
 * struct matrix, holds the file as read (m->text goes into the manifest),
 * names only known policies and mechanisms, and plans every cell once
 * under an id of its own (cell ids are file names: cells/<id>.json).  A
 * rejected one leaves nothing behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json.h"
#include "matrix.h"

/*
 * Plans are built only up to this many cells: 1000 repetitions of 16^3
 * configurations of 32 workloads are valid and take minutes, not bugs.
 */
#define PLAN_MAX_CELLS	4096

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-matrix");
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void check_axis(char *const v[], unsigned int n, const char *what)
{
	fuzz_check(n >= 1 && n <= MATRIX_MAX_AXIS, "%u %s", n, what);
	for (unsigned int i = 0; i < n; i++)
		fuzz_check(v[i] && *v[i], "%s %u is empty", what, i);
}

static void check_matrix(const struct matrix *m, size_t size)
{
	check_axis(m->kernels, m->nkernels, "kernels");
	check_axis(m->iommus, m->niommus, "iommus");
	fuzz_check(m->npolicies >= 1 && m->npolicies <= MATRIX_MAX_AXIS,
		   "%u policies", m->npolicies);
	for (unsigned int i = 0; i < m->npolicies; i++) {
		const struct policy_axis *pa = &m->policies[i];

		fuzz_check(pa->policy == POLICY_STRICT || pa->policy == POLICY_LAZY ||
			   pa->policy == POLICY_IDENTITY,
			   "policy %u is %d", i, pa->policy);
		fuzz_check(pa->mechanism && (!strcmp(pa->mechanism, "auto") ||
					     !strcmp(pa->mechanism, "cmdline") ||
					     !strcmp(pa->mechanism, "sysfs")),
			   "policy %u: mechanism '%s'", i,
			   pa->mechanism ? pa->mechanism : "(null)");
	}
	fuzz_check(m->nworkloads >= 1 && m->nworkloads <= MATRIX_MAX_WORKLOADS,
		   "%u workloads", m->nworkloads);
	for (unsigned int i = 0; i < m->nworkloads; i++) {
		const struct workload *w = &m->workloads[i];

		fuzz_check(w->name && *w->name, "workload %u has no name", i);
		fuzz_check(w->nparams <= MATRIX_MAX_PARAMS, "[%s]: %u keys",
			   w->name, w->nparams);
		for (unsigned int j = 0; j < w->nparams; j++)
			fuzz_check(w->key[j] && w->val[j], "[%s]: key %u is NULL",
				   w->name, j);
	}
	fuzz_check(m->repetitions >= 1 && m->repetitions <= 1000,
		   "%u repetitions", m->repetitions);
	fuzz_check(m->text && strlen(m->text) == size,
		   "the matrix text has %zu of the file's %zu bytes",
		   m->text ? strlen(m->text) : 0, size);
}

/* Every planned cell once, each under its own id. */
static void check_plan(const struct matrix *m)
{
	size_t nconf = (size_t)m->nkernels * m->niommus * m->npolicies;
	size_t want = nconf * m->repetitions * m->nworkloads, n = 0;
	struct json_object *plan, *boots;
	const char **ids;

	if (want > PLAN_MAX_CELLS)
		return;
	plan = matrix_plan(m, 1);
	boots = json_object_object_get(plan, "boots");
	fuzz_check(json_object_array_length(boots) == nconf * m->repetitions,
		   "%zu boots planned for %zu", json_object_array_length(boots),
		   nconf * m->repetitions);
	ids = calloc(want ? want : 1, sizeof(*ids));
	for (size_t b = 0; b < json_object_array_length(boots); b++) {
		struct json_object *cells = json_object_object_get(
			json_object_array_get_idx(boots, b), "cells");

		for (size_t c = 0; c < json_object_array_length(cells); c++) {
			const char *id = json_get_string(
				json_object_array_get_idx(cells, c), "id");

			fuzz_check(id && n < want, "cell %zu: %s", n,
				   id ? "more cells than planned" : "no id");
			fuzz_check(!strchr(id, '/'),
				   "cell id '%s' is not a file name", id);
			ids[n++] = id;
		}
	}
	fuzz_check(n == want, "%zu cells planned for %zu", n, want);
	qsort(ids, n, sizeof(*ids), cmp_str);
	for (size_t i = 1; i < n; i++)
		fuzz_check(strcmp(ids[i - 1], ids[i]),
			   "two cells are both '%s'", ids[i]);
	free(ids);
	json_object_put(plan);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct matrix zero;
	char *path = fuzz_file("matrix.ini", data, size);
	struct matrix m;

	if (matrix_parse(path, &m)) {
		fuzz_check(!memcmp(&m, &zero, sizeof(m)),
			   "a rejected matrix keeps state");
	} else {
		check_matrix(&m, size);
		check_plan(&m);
		matrix_free(&m);
	}
	free(path);
	return 0;
}
