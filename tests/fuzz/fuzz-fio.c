// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-fio - fio's JSON output (--output-format=json+) as the agent reads
 * it (bench/runner/agent.c: json_read_file(), then the cell's "fio"
 * member), and what becomes of it: the fio metrics of the index
 * (lib/store.c) and the completion-latency histogram of the plots
 * (analysis/plot.c, clat_ns.bins).
 * Checked: the output is one JSON value (fuzz_json_whole()) and what
 * fuzz_cell() checks (fuzz-util.c).
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "json.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-fio");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = fuzz_file("fio.json", data, size), *path;
	struct json_object *fio = json_read_file(out), *cell, *o;

	free(out);
	if (!fio)
		return 0;
	fuzz_json_whole(data, size);
	/* An ok fio cell, as bench/runner/agent.c writes one. */
	cell = json_object_new_object();
	json_object_object_add(cell, "schema",
			       json_object_new_string("iommubench.cell/1"));
	json_object_object_add(cell, "id", json_object_new_string("fio-r1"));
	o = json_object_new_object();
	json_object_object_add(o, "policy", json_object_new_string("strict"));
	json_object_object_add(cell, "config", o);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string("fio"));
	json_object_object_add(o, "type", json_object_new_string("fio"));
	json_object_object_add(cell, "workload", o);
	json_object_object_add(cell, "status", json_object_new_string("ok"));
	json_object_object_add(cell, "fio", fio);
	path = xasprintf("%s/cell.json", fuzz_dir());
	if (!path || json_write_file(path, cell))
		fuzz_fail("cannot write the cell");
	fuzz_cell(cell, path);
	json_object_put(cell);
	free(path);
	return 0;
}
