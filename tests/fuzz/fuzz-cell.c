// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz-cell - a cell file (results/<run>/cells/<id>.json) as the suite
 * reads it back: json_read_file() (lib/json.c), then indexing with its
 * metrics (lib/store.c), the analysis's load of the run
 * (analysis/dataset.c) and the histograms of the plots (analysis/plot.c).
 * Checked: the file is one JSON value (fuzz_json_whole()) and what
 * fuzz_cell() checks (fuzz-util.c).
 */
#include "config.h"

#include <stdlib.h>

#include "fuzz.h"
#include "json.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init("fuzz-cell");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_file("cell.json", data, size);
	struct json_object *cell = json_read_file(path);

	if (cell) {
		fuzz_json_whole(data, size);
		fuzz_cell(cell, path);
		json_object_put(cell);
	}
	free(path);
	return 0;
}
