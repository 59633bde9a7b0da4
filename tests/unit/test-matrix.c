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

static char *write_matrix(const char *name, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);

	write_file_atomic(p, text, strlen(text));
	return p;
}

/* Parse @text; on failure return the error printed, else NULL. */
static char *parse_err(const char *text, struct matrix *m)
{
	char *path = write_matrix("m.ini", text), *err = NULL;
	FILE *saved = stderr;
	int ret;

	stderr = fopen(errpath, "w");
	ret = matrix_parse(path, m);
	fclose(stderr);
	stderr = saved;
	if (ret) {
		err = read_file(errpath, NULL);
		if (err)
			strtrim(err);
	}
	free(path);
	return err;
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
	  "m.ini:4: type: 'nfs' is not fio or dmabench" },
	{ "[global]\npolicies = strict\n[w]\nrw = read\nrw = write\n",
	  "m.ini:5: 'rw' set twice in [w]" },
	{ "[global]\npolicies = strict\n[w]\nbs = 4k; rm -rf /\n",
	  "m.ini:4: bs: character ';' is not allowed" },
	{ "[global]\npolicies = strict\n[w]\nrw = read\n[w]\nrw = read\n",
	  "m.ini:5: [w] appears twice" },
	{ "[global]\npolicies = strict\n[w x]\n",
	  "m.ini:3: [w x]: a workload name uses letters" },
	{ "[global]\npolicies = strict\n[w]\ntype = dmabench\n",
	  "m.ini:3: [w]: a dmabench workload needs args" },
	{ "[global]\npolicies = strict\n[w\n",
	  "m.ini:3: expected [section] or key = value" },
	{ "[global]\nrepetitions = 2\n[w]\nrw = read\n",
	  "needs policies" },
	{ "[global]\npolicies = strict\n",
	  "no workload" },
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
		free(err);
	}
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

int main(void)
{
	log_init("test-matrix");
	if (!mkdtemp(dir))
		return 1;
	snprintf(errpath, sizeof(errpath), "%s/stderr", dir);
	test_parse();
	test_plan();
	rm_rf(dir);
	return tap_done();
}
