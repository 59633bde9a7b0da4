// SPDX-License-Identifier: GPL-2.0
/*
 * Matrix files: what parses, what is refused (with file and line), and
 * how the plan orders cells.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "matrix.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/ib-test-matrix-XXXXXX";
static char errpath[256];

static const char good[] =
	"# a comment\n"
	"[global]\n"
	"kernels = debian:6.1 debian:6.12\n"
	"iommu = intel\n"
	"policies = strict lazy identity lazy@sysfs\n"
	"repetitions = 3\n"
	"seed = 42\n"
	"\n"
	"[rr]\n"
	"type = fio\n"
	"rw = randread\n"
	"bs = 4k\n"
	"; another comment\n"
	"[db]\n"
	"type = dmabench\n"
	"args = --mode sg --sg-entries 4\n";

static char *write_matrix(const char *name, const char *text, size_t len)
{
	char *p = xasprintf("%s/%s", dir, name);

	write_file_atomic(p, text, len);
	return p;
}

static FILE *saved_stderr;

static void stderr_capture(void)
{
	saved_stderr = stderr;
	stderr = fopen(errpath, "w");
}

/* What was printed since stderr_capture(). */
static char *stderr_captured(void)
{
	char *err;

	fclose(stderr);
	stderr = saved_stderr;
	err = read_file(errpath, NULL);
	if (err)
		strtrim(err);
	return err;
}

/*
 * Parse the @len bytes of @text; on failure return the error printed,
 * else NULL.
 */
static char *parse_err_len(const char *text, size_t len, struct matrix *m)
{
	char *path = write_matrix("m.ini", text, len), *err;
	int ret;

	stderr_capture();
	ret = matrix_parse(path, m);
	err = stderr_captured();
	if (!ret) {
		free(err);
		err = NULL;
	}
	free(path);
	return err;
}

static char *parse_err(const char *text, struct matrix *m)
{
	return parse_err_len(text, strlen(text), m);
}

struct bad {
	const char *text;
	const char *expect;	/* substring of the message, with file:line */
};

static const struct bad bad[] = {
	{ "[global]\npolicies = strict\nbogus = 1\n[w]\nrw=read\n",
	  "m.ini:3: unknown key 'bogus' in [global]" },
	{ "[global]\npolicies = strict sloppy\n",
	  "m.ini:2: policies: 'sloppy' is not strict, lazy or identity" },
	{ "[global]\npolicies = lazy@boot\n",
	  "m.ini:2: policies: mechanism 'boot' is not auto, cmdline or sysfs" },
	{ "[global]\npolicies = strict\nrepetitions = 0\n",
	  "m.ini:3: repetitions: '0' is not a number from 1 to 1000" },
	{ "[global]\npolicies = strict\niommu = sparc\n",
	  "m.ini:3: iommu: 'sparc' is not intel, intel-cm, amd or virtio" },
	{ "policies = strict\n",
	  "m.ini:1: 'policies' outside a section" },
	{ "[global]\npolicies = strict\n[w]\ntype = nfs\n",
	  "m.ini:4: type: 'nfs' is not fio, dmabench or stale" },
	{ "[global]\npolicies = strict\n[s]\ntype = stale\ndelays = 0,91ms\n",
	  "m.ini:5: delays: '0,91ms' is not a list of distinct durations of 0 to 90ms" },
	{ "[global]\npolicies = strict\n[s]\ntype = stale\ndelays = 1ms,1000us\n",
	  "m.ini:5: delays: '1ms,1000us' is not a list of distinct durations" },
	{ "[global]\npolicies = strict\n[s]\ntype = stale\ntrials = 0\n",
	  "m.ini:5: trials: '0' is not a number from 1 to 10000" },
	{ "[global]\npolicies = strict\n[s]\ntype = stale\nargs = -T 1\n",
	  "m.ini:5: unknown key 'args' for a stale workload in [s]" },
	{ "[global]\npolicies = strict\n[w]\nrw = read\nrw = write\n",
	  "m.ini:5: 'rw' set twice in [w] (first on line 4)" },
	{ "[global]\npolicies = strict\n[w]\nbs = 4k; rm -rf /\n",
	  "m.ini:4: bs: character ';' is not allowed" },
	{ "[global]\npolicies = strict\n[w]\nrw = read\n[w]\nrw = read\n",
	  "m.ini:5: [w] appears twice (first on line 3)" },
	{ "[global]\npolicies = strict\n[w x]\n",
	  "m.ini:3: [w x]: a workload name uses letters" },
	{ "[global]\npolicies = strict\n[w]\ntype = dmabench\n",
	  "m.ini:3: [w]: a dmabench workload needs args" },
	{ "[global]\npolicies = strict\n[w\n",
	  "m.ini:3: expected [section] or key = value" },
	{ "[global]\nrepetitions = 2\n[w]\nrw = read\n",
	  "needs policies" },
	{ "[global]\npolicies = strict\n",
	  "m.ini: no workload" },

	/* repro matrix-17-policies.ini: 17 policies overwrote npolicies */
	{ "[w]\ntype = fio\n[global]\npolicies = strict strict strict strict "
	  "strict strict strict strict strict strict strict strict strict "
	  "strict strict strict\npolicies = lazy\n",
	  "m.ini:4: policies: 'strict' given twice" },
	{ "[w]\ntype = fio\n[global]\npolicies = strict lazy identity "
	  "strict@sysfs lazy@sysfs identity@sysfs strict@cmdline lazy@cmdline "
	  "identity@cmdline\npolicies = lazy\n",
	  "m.ini:5: 'policies' set twice in [global] (first on line 4)" },
	/* repro p17-global-first.ini */
	{ "[global]\nrepetitions = 1\npolicies = lazy lazy lazy lazy lazy lazy "
	  "lazy lazy lazy lazy lazy lazy lazy lazy lazy lazy\n"
	  "policies = identity\n[w]\ntype = dmabench\nargs = -T 1\n",
	  "m.ini:3: policies: 'lazy' given twice" },
	/* every axis is bounded */
	{ "[global]\npolicies = strict\nkernels = k1 k2 k3 k4 k5 k6 k7 k8 k9 "
	  "k10 k11 k12 k13 k14 k15 k16 k17\n[w]\nrw = read\n",
	  "m.ini:3: kernels: more than 16 values" },
	{ "[global]\npolicies = strict\n[w1]\n[w2]\n[w3]\n[w4]\n[w5]\n[w6]\n"
	  "[w7]\n[w8]\n[w9]\n[w10]\n[w11]\n[w12]\n[w13]\n[w14]\n[w15]\n"
	  "[w16]\n[w17]\n[w18]\n[w19]\n[w20]\n[w21]\n[w22]\n[w23]\n[w24]\n"
	  "[w25]\n[w26]\n[w27]\n[w28]\n[w29]\n[w30]\n[w31]\n[w32]\n[w33]\n",
	  "m.ini:35: more than 32 workloads" },
	/* no value twice on an axis: two cells would share an id */
	{ "[global]\npolicies = strict strict\n[w]\nrw = read\n",
	  "m.ini:2: policies: 'strict' given twice" },
	{ "[global]\npolicies = strict lazy strict@auto\n[w]\nrw = read\n",
	  "m.ini:2: policies: strict@auto given twice" },
	{ "[global]\npolicies = strict\nkernels = debian:6.1,debian:6.1\n"
	  "[w]\nrw = read\n",
	  "m.ini:3: kernels: 'debian:6.1' given twice" },
	{ "[global]\npolicies = strict\nkernels = debian:6.1 debian-6.1\n"
	  "[w]\nrw = read\n",
	  "m.ini:3: kernels: 'debian:6.1' and 'debian-6.1' give the same cell ids" },
	{ "[global]\npolicies = strict\niommu = amd intel amd\n[w]\nrw = read\n",
	  "m.ini:3: iommu: 'amd' given twice" },
	/* repro policies-twice.ini, kernels-twice.ini, matrix-leak-dup-key.ini */
	{ "[global]\npolicies = strict lazy\npolicies = identity\n"
	  "repetitions = 1\n[w]\ntype = dmabench\nargs = -T 1\n",
	  "m.ini:3: 'policies' set twice in [global] (first on line 2)" },
	{ "[global]\nkernels = debian:6.1\nkernels = debian:6.12\n"
	  "policies = strict\nrepetitions = 1\n[w]\ntype = dmabench\n"
	  "args = -T 1\n",
	  "m.ini:3: 'kernels' set twice in [global] (first on line 2)" },
	{ "[global]\niommu = intel\niommu = amd\npolicies = strict\n[w]\n"
	  "type = fio\n",
	  "m.ini:3: 'iommu' set twice in [global] (first on line 2)" },
	{ "[global]\npolicies = strict\nseed = 1\n\nseed = 2\n[w]\nrw = read\n",
	  "m.ini:5: 'seed' set twice in [global] (first on line 3)" },
	{ "[global]\npolicies = strict\n[w]\ntype = fio\ntype = dmabench\n"
	  "args = -T 1\n",
	  "m.ini:5: 'type' set twice in [w] (first on line 4)" },
	/* repro empty.ini: the error named line 0 */
	{ "", "m.ini: the file is empty" },
	{ "# only a comment\n\n", "m.ini: the file is empty" },
	{ "[w]\nrw = read\n", "m.ini: [global] needs policies" },
	/* the plan's size is capped before it is expanded */
	{ "[global]\npolicies = strict lazy identity\nrepetitions = 1000\n"
	  "[w]\nrw = read\n",
	  "m.ini: the plan has 3000 boots (3000 cells), more than max_boots = 1000" },
	{ "[global]\npolicies = strict lazy identity\nrepetitions = 1000\n"
	  "max_boots = 3000\n[w1]\n[w2]\n[w3]\n[w4]\n",
	  "m.ini: the plan has 12000 cells (3000 boots), more than max_cells = 10000" },
	{ "[global]\npolicies = strict\nmax_cells = 0\n[w]\nrw = read\n",
	  "m.ini:3: max_cells: '0' is not a number from 1 to 1000000" },
	/* dmabench args may not choose the device or skip safety checks */
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = --mode single --device 0000:00:04.0\n",
	  "m.ini:5: args: '--device' is dmabench's --device" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = --device=0000:00:04.0\n",
	  "m.ini:5: args: '--device=0000:00:04.0' is dmabench's --device" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = --devi 0000:00:04.0\n",
	  "m.ini:5: args: '--devi' is dmabench's --device" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = -d 00:04.0\n",
	  "m.ini:5: args: '-d' is dmabench's --device" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = -vd00:04.0\n",
	  "m.ini:5: args: '-vd00:04.0' is dmabench's --device" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = --duration 1 --force\n",
	  "m.ini:5: args: '--force' is dmabench's --force" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = --fo\n",
	  "m.ini:5: args: '--fo' is dmabench's --force" },
	{ "[global]\npolicies = strict\n[d]\ntype = dmabench\n"
	  "args = -T 1 -Sf\n",
	  "m.ini:5: args: '-Sf' is dmabench's --force" },
};

static void test_parse(void)
{
	struct matrix m;
	char *err;

	err = parse_err(good, &m);
	ok(!err, "a good matrix parses%s%s", err ? ": " : "", err ? err : "");
	if (err)
		return;
	ok(m.nkernels == 2 && m.niommus == 1 && m.npolicies == 4 &&
	   m.repetitions == 3 && m.seed_set && m.seed == 42,
	   "axes and settings are read");
	ok(m.policies[3].policy == POLICY_LAZY &&
	   !strcmp(m.policies[3].mechanism, "sysfs") &&
	   !strcmp(m.policies[0].mechanism, "auto"),
	   "policy@mechanism is split");
	ok(m.nworkloads == 2 && m.workloads[0].type == WORKLOAD_FIO &&
	   !strcmp(workload_param(&m.workloads[0], "bs", NULL), "4k") &&
	   !strcmp(workload_param(&m.workloads[1], "args", NULL),
		   "--mode sg --sg-entries 4"),
	   "workloads keep their parameters");
	ok(matrix_needs_testdev(&m), "a dmabench workload needs pci-testdev");
	matrix_free(&m);

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err = parse_err(bad[i].text, &m);
		ok(err && strstr(err, bad[i].expect),
		   "refused with \"%s\" (got: %s)", bad[i].expect,
		   err ? err : "accepted");
		if (!err)
			matrix_free(&m);
		free(err);
	}
	/* An error about the whole file names no line, least of all 0. */
	err = parse_err("", &m);
	ok(err && !strstr(err, ":0:"), "an empty file names no line 0 (%s)",
	   err ? err : "accepted");
	free(err);
}

/* repro nul.ini, nul2.ini: what followed a NUL byte was ignored */
static void test_nul(void)
{
	static const char nul1[] =
		"[global]\npolicies = strict\n[w]\ntype = fio\n"
		"rw = randread\0garbage\n";
	static const char nul2[] =
		"[global]\npolicies = strict\n[w]\ntype = dmabench\n"
		"args = -T 1\n\0\n[global]\nrepetitions = 1\nfoo = bar\n";
	struct matrix m;
	char *err;

	err = parse_err_len(nul1, sizeof(nul1) - 1, &m);
	ok(err && strstr(err, "m.ini:5: a NUL byte"),
	   "a NUL byte in a value is refused (got: %s)", err ? err : "accepted");
	if (!err)
		matrix_free(&m);
	free(err);
	err = parse_err_len(nul2, sizeof(nul2) - 1, &m);
	ok(err && strstr(err, "m.ini:6: a NUL byte"),
	   "a NUL byte on a line of its own is refused (got: %s)",
	   err ? err : "accepted");
	if (!err)
		matrix_free(&m);
	free(err);
}

/* dmabench options that only look like --device or --force. */
static void test_dmabench_args(void)
{
	static const char text[] =
		"[global]\npolicies = strict\n[d]\ntype = dmabench\n"
		"args = --device-time 1 -rfrom-device -s4096 --dir to-device -S\n";
	struct matrix m;
	char *err = parse_err(text, &m);

	ok(!err, "--device-time, -rfrom-device and -s4096 are allowed%s%s",
	   err ? ": " : "", err ? err : "");
	if (err)
		free(err);
	else
		matrix_free(&m);
}

/* Raised caps let a large plan through; the plan itself checks them too. */
static void test_plan_cap(void)
{
	static const char text[] =
		"[global]\npolicies = strict lazy identity\nrepetitions = 1000\n"
		"max_boots = 3000\nmax_cells = 12000\n[w1]\n[w2]\n[w3]\n[w4]\n";
	struct json_object *plan;
	struct matrix m;
	char *err = parse_err(text, &m);

	ok(!err, "max_cells and max_boots raise the caps%s%s",
	   err ? ": " : "", err ? err : "");
	free(err);
	if (!err)
		matrix_free(&m);

	/* run --kernel replaces an axis after parsing: plan checks again */
	err = parse_err(good, &m);
	if (err) {
		ok(0, "cap: the matrix parses");
		free(err);
		return;
	}
	m.repetitions = 1000;	/* 8 configurations: 8000 boots */
	stderr_capture();
	plan = matrix_plan(&m, 1);
	err = stderr_captured();
	ok(!plan && err &&
	   strstr(err, "m.ini: the plan has 8000 boots (16000 cells), more than max_boots = 1000"),
	   "matrix_plan refuses a plan over the caps (got: %s)",
	   plan ? "a plan" : err ? err : "no message");
	free(err);
	json_object_put(plan);
	matrix_free(&m);
}

static unsigned int count_label(struct json_object *boots, size_t from,
				size_t n, const char *label)
{
	unsigned int c = 0;

	for (size_t i = from; i < from + n; i++)
		c += !strcmp(json_object_get_string(json_object_object_get(
			json_object_array_get_idx(boots, i), "label")), label);
	return c;
}

static void test_plan(void)
{
	struct json_object *p1, *p2, *p3, *boots;
	struct matrix m;
	char *err = parse_err(good, &m);
	size_t nconf = 2 * 1 * 4, ncells = 0;
	bool rounds_ok = true;

	if (err) {
		ok(0, "plan: the matrix parses");
		free(err);
		return;
	}
	p1 = matrix_plan(&m, 42);
	p2 = matrix_plan(&m, 42);
	p3 = matrix_plan(&m, 43);
	boots = json_object_object_get(p1, "boots");
	ok(json_object_array_length(boots) == nconf * 3,
	   "one boot per configuration and repetition (%zu)",
	   json_object_array_length(boots));
	for (size_t r = 0; r < 3; r++)
		for (size_t b = 0; b < nconf; b++)
			rounds_ok &= count_label(boots, r * nconf, nconf,
				json_object_get_string(json_object_object_get(
				json_object_array_get_idx(boots, b), "label"))) == 1;
	ok(rounds_ok, "every round visits every configuration exactly once");
	for (size_t b = 0; b < json_object_array_length(boots); b++)
		ncells += json_object_array_length(json_object_object_get(
			json_object_array_get_idx(boots, b), "cells"));
	ok(ncells == nconf * 3 * 2, "cells = configurations x workloads x repetitions");
	ok(!strcmp(json_object_to_json_string(p1), json_object_to_json_string(p2)),
	   "the same seed gives the same order");
	ok(strcmp(json_object_to_json_string(p1), json_object_to_json_string(p3)),
	   "another seed gives another order");
	json_object_put(p1);
	json_object_put(p2);
	json_object_put(p3);
	matrix_free(&m);
}

/* clock = host | icount[:SHIFT]; icount runs one vCPU. */
static void test_clock(void)
{
	static const char base[] = "[global]\npolicies = strict\n%s[d]\ntype = dmabench\nargs = -n 10\n";
	struct ib_clock host = { .icount = false }, ic = { true, 3 };
	char text[256];
	struct matrix m;
	char *err;

	snprintf(text, sizeof(text), base, "");
	err = parse_err(text, &m);
	ok(!err && !m.clock.icount && m.cpus == 2,
	   "the default clock is the host's, with 2 vCPUs");
	if (!err) {
		ok(!matrix_set_clock(&m, &ic) && m.clock.icount &&
		   m.clock.shift == 3 && m.cpus == 1,
		   "run --clock icount:3 gives one vCPU");
		ok(!matrix_set_clock(&m, &host) && m.cpus == 2,
		   "and --clock host the default two again");
		matrix_free(&m);
	}
	snprintf(text, sizeof(text), base, "clock = icount:2\n");
	err = parse_err(text, &m);
	ok(!err && m.clock.icount && m.clock.shift == 2 && m.cpus == 1,
	   "clock = icount:2 parses and sets cpus to 1");
	if (!err)
		matrix_free(&m);
	else
		free(err);
	snprintf(text, sizeof(text), base, "cpus = 4\nclock = icount\n");
	err = parse_err(text, &m);
	ok(err && strstr(err, ":3: cpus = 4 with clock = icount"),
	   "cpus = 4 with clock = icount is refused at the cpus line");
	free(err);
	snprintf(text, sizeof(text), base, "cpus = 4\n");
	err = parse_err(text, &m);
	ok(!err && matrix_set_clock(&m, &ic) && !m.clock.icount,
	   "run --clock icount on a matrix with cpus = 4 is refused");
	if (!err)
		matrix_free(&m);
	snprintf(text, sizeof(text), base, "clock = icount:11\n");
	err = parse_err(text, &m);
	ok(err && strstr(err, ":3: clock: 'icount:11' is not host"),
	   "clock = icount:11 is refused, naming the value");
	free(err);
	snprintf(text, sizeof(text), base, "clock = wall\n");
	err = parse_err(text, &m);
	ok(err != NULL, "clock = wall is refused");
	free(err);
}

/* The stale-DMA probe: its keys, the edu device, its type's name. */
static void test_stale(void)
{
	static const char text[] =
		"[global]\npolicies = strict lazy\n[s]\ntype = stale\n"
		"delays = 0,100us,5ms,20ms\ntrials = 10\n";
	struct matrix m;
	char *err = parse_err(text, &m);

	ok(!err, "a stale workload parses%s%s", err ? ": " : "", err ? err : "");
	if (err) {
		free(err);
		return;
	}
	ok(m.workloads[0].type == WORKLOAD_STALE &&
	   !strcmp(workload_type_name(m.workloads[0].type), "stale") &&
	   !strcmp(workload_param(&m.workloads[0], "delays", NULL),
		   "0,100us,5ms,20ms") &&
	   !strcmp(workload_param(&m.workloads[0], "trials", NULL), "10"),
	   "it keeps its delays and trials, and is named stale");
	ok(matrix_needs_edu(&m) && !matrix_needs_testdev(&m),
	   "a stale workload needs edu, not pci-testdev");
	matrix_free(&m);
}

/*
 * The example of docs/matrix.md, and the shipped matrices, parse: the
 * documentation shows what the parser takes.
 */
static void test_shipped(void)
{
	static const char *const shipped[] = { "quick", "kernels",
					       "caching-mode", "commit-gate" };
	char *doc = read_file(ABS_TOP_SRCDIR "/docs/matrix.md", NULL);
	char *start = doc ? strstr(doc, "```ini\n") : NULL;
	char *end = start ? strstr(start, "\n```\n") : NULL;
	struct matrix m;
	char *err;

	ok(end, "docs/matrix.md has an ini example");
	if (end) {
		start += strlen("```ini\n");
		err = parse_err_len(start, end - start + 1, &m);
		ok(!err, "the example of docs/matrix.md parses%s%s",
		   err ? ": " : "", err ? err : "");
		if (!err) {
			ok(m.nkernels == 2 && m.npolicies == 3 &&
			   m.repetitions == 5 && m.nworkloads == 2,
			   "the example: 2 kernels, 3 policies, 5 rounds, 2 workloads");
			matrix_free(&m);
		}
		free(err);
	}
	free(doc);
	for (size_t i = 0; i < ARRAY_SIZE(shipped); i++) {
		char *path = xasprintf("%s/bench/matrices/%s.ini",
				       ABS_TOP_SRCDIR, shipped[i]);
		int ret;

		stderr_capture();
		ret = path ? matrix_parse(path, &m) : -1;
		err = stderr_captured();
		ok(!ret, "bench/matrices/%s.ini parses%s%s", shipped[i],
		   *err ? ": " : "", err);
		if (!ret)
			matrix_free(&m);
		free(err);
		free(path);
	}
}

int main(void)
{
	log_init("test-matrix");
	if (!mkdtemp(dir))
		return 1;
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	test_parse();
	test_nul();
	test_dmabench_args();
	test_plan_cap();
	test_plan();
	test_clock();
	test_stale();
	test_shipped();
	rm_rf(dir);
	return tap_done();
}
