// SPDX-License-Identifier: GPL-2.0
/*
 * A run's manifest, typed: plan.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "plan.h"
#include "util.h"

int plan_check(const char *path, struct json_object *man)
{
	struct json_object *plan, *boots, *cells;

	if (!json_get_string(man, "run_id")) {
		pr_err("%s: not a run's manifest: no \"run_id\"", path);
		return -1;
	}
	if (json_get_typed(man, "plan", json_type_object, &plan) ||
	    json_get_typed(plan, "boots", json_type_array, &boots) || !boots) {
		pr_err("%s: no plan to resume: \"plan\" has no \"boots\" array (a run of 'synth-store' has none)",
		       path);
		return -1;
	}
	for (size_t b = 0; b < json_object_array_length(boots); b++) {
		struct json_object *boot = json_object_array_get_idx(boots, b);
		const char *bid = json_get_string(boot, "id");

		if (!bid || !is_plain_name(bid) ||
		    json_get_typed(boot, "cells", json_type_array, &cells) ||
		    !cells) {
			pr_err("%s: plan.boots[%zu] is not a boot: an \"id\" that is a file name and a \"cells\" array",
			       path, b);
			return -1;
		}
		for (size_t c = 0; c < json_object_array_length(cells); c++) {
			const char *id = json_get_string(
				json_object_array_get_idx(cells, c), "id");

			if (!id || !is_plain_name(id)) {
				pr_err("%s: plan.boots[%zu].cells[%zu] is not a cell: no \"id\" that is a file name",
				       path, b, c);
				return -1;
			}
		}
	}
	return 0;
}

void plan_free(struct plan *p)
{
	for (size_t b = 0; b < p->nboots; b++) {
		for (size_t c = 0; c < p->boots[b].ncells; c++)
			free(p->boots[b].cells[c].lost);
		free(p->boots[b].cells);
	}
	free(p->boots);
	free(p->kernels);
	*p = (struct plan){ 0 };
}

/* The clock of a run; a manifest written before clocks existed ran on the host's. */
static struct ib_clock run_clock(struct json_object *settings)
{
	struct ib_clock c = { 0 };

	if (ib_clock_parse(json_get_string(settings, "clock"), &c))
		c = (struct ib_clock){ .icount = false };
	return c;
}

static struct run_settings settings_read(struct json_object *st)
{
	return (struct run_settings){
		.cpus = json_object_get_int(json_object_object_get(st, "cpus")),
		.mem_mb = json_object_get_int(json_object_object_get(st, "mem_mb")),
		.boot_timeout_s = json_object_get_int(
			json_object_object_get(st, "boot_timeout_s")),
		.clock = run_clock(st),
		.testdev = json_object_get_boolean(json_object_object_get(st, "testdev")),
		.edu = json_object_get_boolean(json_object_object_get(st, "edu")),
		.disk = json_get_string(st, "disk"),
	};
}

/* The manifest's "kernels", an object of objects (none when it is not). */
static int kernels_load(struct plan *p, struct json_object *kernels)
{
	size_t n = 0;

	if (!json_object_is_type(kernels, json_type_object))
		return 0;
	p->kernels = calloc(json_object_object_length(kernels) + 1,
			    sizeof(*p->kernels));
	if (!p->kernels)
		return -1;
	json_object_object_foreach(kernels, spec, k) {
		p->kernels[n++] = (struct plan_kernel){
			.spec = spec,
			.name = json_get_string(k, "name"),
			.path = json_get_string(k, "path"),
			.json = k,
		};
	}
	p->nkernels = n;
	return 0;
}

/* plan.boots[@b] of @boots into @boot: -1 when out of memory. */
static int boot_load(struct boot *boot, struct json_object *boots, size_t b)
{
	struct json_object *cells;

	boot->json = json_object_array_get_idx(boots, b);
	boot->id = json_get_string(boot->json, "id");
	boot->label = json_get_string(boot->json, "label");
	boot->rep = json_object_get_int(json_object_object_get(boot->json, "rep"));
	boot->config = json_object_object_get(boot->json, "config");
	boot->kernel = json_get_string(boot->config, "kernel");
	boot->iommu = json_get_string(boot->config, "iommu");
	boot->policy = json_get_string(boot->config, "policy");
	boot->mechanism = json_get_string(boot->config, "mechanism");
	json_get_typed(boot->json, "cells", json_type_array, &cells);
	boot->ncells = cells ? json_object_array_length(cells) : 0;
	boot->cells = calloc(boot->ncells ? boot->ncells : 1,
			     sizeof(*boot->cells));
	if (!boot->cells) {
		boot->ncells = 0;
		return -1;
	}
	for (size_t c = 0; c < boot->ncells; c++) {
		struct cell *cell = &boot->cells[c];

		cell->json = json_object_array_get_idx(cells, c);
		cell->id = json_get_string(cell->json, "id");
		cell->type = json_get_string(
			json_object_object_get(cell->json, "workload"), "type");
	}
	return 0;
}

int plan_load(struct plan *p, struct json_object *manifest)
{
	struct json_object *plan = NULL, *boots = NULL;
	const char *target = json_get_string(manifest, "target");

	plan_free(p);
	p->run_id = json_get_string(manifest, "run_id");
	p->target = target && !strcmp(target, "host") ? RUN_TARGET_HOST :
		    RUN_TARGET_VM;
	p->host = json_get_string(json_object_object_get(manifest, "host"),
				  "name");
	p->finished = json_get_string(manifest, "finished") != NULL;
	p->settings = settings_read(json_object_object_get(manifest, "settings"));
	if (kernels_load(p, json_object_object_get(manifest, "kernels")))
		return -1;
	/* a run of synth-store has no plan */
	json_get_typed(manifest, "plan", json_type_object, &plan);
	json_get_typed(plan, "boots", json_type_array, &boots);
	p->nboots = boots ? json_object_array_length(boots) : 0;
	p->boots = calloc(p->nboots ? p->nboots : 1, sizeof(*p->boots));
	if (!p->boots) {
		p->nboots = 0;
		plan_free(p);
		return -1;
	}
	for (size_t b = 0; b < p->nboots; b++) {
		if (boot_load(&p->boots[b], boots, b)) {
			plan_free(p);
			return -1;
		}
	}
	return 0;
}
