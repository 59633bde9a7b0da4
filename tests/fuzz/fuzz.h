/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the libFuzzer harnesses share (docs/fuzzing.md).  A harness checks
 * the contract of the code it feeds, not only its memory safety: a broken
 * invariant ends the run through fuzz_fail(), which aborts, so libFuzzer
 * saves the input like any crash.
 */
#ifndef IB_FUZZ_H
#define IB_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <sqlite3.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * fuzz_init - the harness's private directory, ib-<name>.<pid> under
 * /dev/shm, else $TMPDIR or /tmp (removed at exit; one a crash left
 * behind is removed by the next harness), and quiet diagnostics: the
 * code under
 * test reports every rejected input, which would drown libFuzzer's output.
 * IB_FUZZ_VERBOSE=1 keeps them, for reproducing one input.
 */
void fuzz_init(const char *name);
/* The directory fuzz_init() made. */
const char *fuzz_dir(void);
/* Write @size bytes to <fuzz_dir>/@rel; returns the path (free it). */
char *fuzz_file(const char *rel, const void *data, size_t size);

void fuzz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
#define fuzz_check(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__VA_ARGS__);					\
} while (0)

/*
 * fuzz_json_whole - check that @data, which json_read_file() accepted, is
 * one JSON value and white space: nothing after it is silently dropped.
 */
void fuzz_json_whole(const uint8_t *data, size_t size);

/*
 * fuzz_store - the result index of the harness, <fuzz_dir>/index.sqlite,
 * opened once, emptied by every call (inputs must not see each other).
 */
sqlite3 *fuzz_store(void);

/*
 * fuzz_cell - what the suite does with a cell file at @path once it is
 * read: index it (lib/store.c), load the run back (analysis/dataset.c)
 * and rebuild its histograms for the plots (analysis/plot.c).  Checks
 * that a cell with a string id and status indexes, and that the index
 * holds exactly the finite metrics cell_metrics() reports.
 */
void fuzz_cell(struct json_object *cell, const char *path);

#endif /* IB_FUZZ_H */
