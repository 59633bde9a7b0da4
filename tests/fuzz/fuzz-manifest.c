// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-manifest - a run's manifest.json as 'iommubench run --resume' reads
 * it (bench/runner/run.c): load_run(), indexing the run (store_add_run()),
 * counting and indexing the cells its plan names (survey_cells()) and
 * finding each boot's pending cells (pending_cells()).  What comes after,
 * booting, is not fuzzed.
 *
 * bench/runner/run.c is included rather than linked to reach those static
 * functions.  The run directory holds the cell files c1 (ok) and c2
 * (failed), which the plans of the seed manifests name.
 *
 * Checked: a manifest that load_run() accepts indexes, the cell counts
 * add up, and the cell files c1 and c2, results, stay where they are
 * (cell ids are file names: one such as "../cells/c1" would move
 * c1.json to attempts/ to run it again).
 */
#pragma clang diagnostic ignored "-Wunused-function"
#include "../../bench/runner/run.c"

#include "fuzz.h"

static const char cell_ok[] =
	"{ \"schema\": \"iommubench.cell/1\", \"id\": \"c1\", \"boot\": \"b001\","
	" \"seq\": 1, \"rep\": 1, \"config\": { \"kernel\": \"debian:6.1\","
	" \"iommu\": \"intel\", \"policy\": \"strict\" },"
	" \"workload\": { \"name\": \"randread\", \"type\": \"fio\" },"
	" \"status\": \"ok\", \"fio\": { \"jobs\": [ { \"read\": {"
	" \"io_bytes\": 4096, \"iops\": 7700.5, \"bw_bytes\": 31541248,"
	" \"clat_ns\": { \"mean\": 2000.0 } } } ] } }\n";
static const char cell_failed[] =
	"{ \"schema\": \"iommubench.cell/1\", \"id\": \"c2\", \"boot\": \"b001\","
	" \"seq\": 2, \"rep\": 1, \"status\": \"failed\","
	" \"error\": \"boot b001 ended with status 3 (timeout)\" }\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *cells;

	(void)argc;
	(void)argv;
	fuzz_init("fuzz-manifest");
	cells = xasprintf("%s/run/cells", fuzz_dir());
	if (!cells || mkdir_p(cells, 0755))
		fuzz_fail("cannot make the run directory");
	free(cells);
	free(fuzz_file("run/cells/c1.json", cell_ok, strlen(cell_ok)));
	free(fuzz_file("run/cells/c2.json", cell_failed, strlen(cell_failed)));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct runner r = { .db = fuzz_store() };
	unsigned int total;

	free(fuzz_file("run/manifest.json", data, size));
	if (load_run(&r, fuzz_dir(), "run")) {
		fuzz_check(!r.manifest, "load_run failed and kept the manifest");
		goto out;
	}
	fuzz_check(!store_add_run(r.db, r.manifest, r.dir),
		   "a manifest that parses is not indexed");
	fuzz_check(!plan_load(&r.plan, r.manifest), "the plan does not load");
	total = survey_cells(&r);
	fuzz_check(r.skipped <= total && r.done + r.failed == r.skipped,
		   "%u cells: %u skipped, %u done, %u failed", total, r.skipped,
		   r.done, r.failed);
	for (size_t b = 0; b < r.plan.nboots; b++) {
		struct json_object *pending = pending_cells(&r, &r.plan.boots[b]);

		fuzz_check(json_object_array_length(pending) <=
			   r.plan.boots[b].ncells,
			   "boot %zu: more pending cells than cells", b);
		json_object_put(pending);
	}
	for (const char *c = "c1\0c2\0"; *c; c += strlen(c) + 1) {
		char *p = xasprintf("%s/run/cells/%s.json", fuzz_dir(), c);

		fuzz_check(p && path_exists(p), "%s.json was moved", c);
		free(p);
	}
	json_object_put(r.manifest);
out:
	plan_free(&r.plan);
	free(r.dir);
	return 0;
}
