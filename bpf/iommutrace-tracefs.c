// SPDX-License-Identifier: GPL-2.0
/*
 * iommutrace-tracefs.c - iommutrace --tracefs: the iommu tracepoints read
 * through libtracefs + libtraceevent, no BPF needed
 *
 * A private tracefs instance ("iommutrace-<pid>") gets iommu:map and
 * iommu:unmap, and intel_iommu:qi_submit and dma:dma_map_page /
 * dma:dma_unmap_page (dma:dma_map_phys / dma:dma_unmap_phys from v6.18)
 * where the kernel has them.  Raw events are read
 * every 20 ms, and the report has per-event counts, size distributions
 * and IOVA reuse: how often, and how soon, an unmapped IOVA is mapped
 * again.  The instance is removed at the end, also after errors.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event-parse.h>
#include <json-c/json.h>
#include <tracefs.h>

#include "exitcodes.h"
#include "hist.h"
#include "iommutrace-run.h"
#include "json.h"
#include "log.h"
#include "util.h"

enum tf_ev {
	TF_MAP,
	TF_UNMAP,
	TF_QI_SUBMIT,
	TF_DMA_MAP_PAGE,
	TF_DMA_UNMAP_PAGE,
	TF_DMA_MAP_PHYS,
	TF_DMA_UNMAP_PHYS,
	TF_NR_EV,
};

static const struct {
	const char *system, *event, *size_field;
} tf_events[TF_NR_EV] = {
	[TF_MAP] = { "iommu", "map", "size" },
	[TF_UNMAP] = { "iommu", "unmap", "size" },
	[TF_QI_SUBMIT] = { "intel_iommu", "qi_submit", NULL },
	[TF_DMA_MAP_PAGE] = { "dma", "dma_map_page", "size" },
	[TF_DMA_UNMAP_PAGE] = { "dma", "dma_unmap_page", "size" },
	/* renamed by "dma-mapping: rename trace_dma_*map_page to trace_dma_*map_phys" (v6.18) */
	[TF_DMA_MAP_PHYS] = { "dma", "dma_map_phys", "size" },
	[TF_DMA_UNMAP_PHYS] = { "dma", "dma_unmap_phys", "size" },
};

#define TF_NR_SIZES	32
#define TF_IOVA_BITS	18	/* open-addressing table of 256 Ki IOVAs */

struct tf_sizes {
	__u64 size[TF_NR_SIZES], count[TF_NR_SIZES];
	__u64 other;
};

struct tf_counts {
	__u64 events[TF_NR_EV];
	struct tf_sizes sizes[TF_NR_EV];
	__u64 maps_reusing;	/* iommu:map of an IOVA seen unmapped before */
	struct hist reuse;	/* unmap -> next map of the same IOVA */
};

struct tf_iova {
	__u64 iova;		/* 0: empty */
	__u64 unmap_ts;		/* 0: mapped now */
};

struct tf_reader {
	const struct it_opts *o;
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	bool enabled[TF_NR_EV];
	int ids[TF_NR_EV];
	struct tep_format_field *iova_f[TF_NR_EV], *size_f[TF_NR_EV];
	struct tf_counts total, interval;
	struct tf_iova *iovas;
	__u64 iova_overflow;
};

static void sizes_add(struct tf_sizes *s, __u64 size)
{
	for (int i = 0; i < TF_NR_SIZES; i++) {
		if (s->count[i] && s->size[i] == size) {
			s->count[i]++;
			return;
		}
		if (!s->count[i]) {
			s->size[i] = size;
			s->count[i] = 1;
			return;
		}
	}
	s->other++;
}

static struct tf_iova *iova_slot(struct tf_reader *r, __u64 iova)
{
	size_t mask = (1UL << TF_IOVA_BITS) - 1;
	size_t i = (iova >> 12) * 0x9E3779B97F4A7C15ULL >> (64 - TF_IOVA_BITS);

	for (size_t n = 0; n <= mask; n++, i = (i + 1) & mask) {
		if (r->iovas[i].iova == iova || !r->iovas[i].iova)
			return &r->iovas[i];
	}
	return NULL;
}

static void counts_event(struct tf_counts *c, int ev, bool has_size, __u64 size)
{
	c->events[ev]++;
	if (has_size)
		sizes_add(&c->sizes[ev], size);
}

static int on_record(struct tep_event *event, struct tep_record *rec,
		     int cpu, void *ctx)
{
	struct tf_reader *r = ctx;
	unsigned long long size = 0, iova = 0;
	bool has_size;
	int ev;

	(void)cpu;
	for (ev = 0; ev < TF_NR_EV; ev++)
		if (r->enabled[ev] && r->ids[ev] == event->id)
			break;
	if (ev == TF_NR_EV)
		return 0;
	has_size = r->size_f[ev] &&
		   !tep_read_number_field(r->size_f[ev], rec->data, &size);
	counts_event(&r->total, ev, has_size, size);
	counts_event(&r->interval, ev, has_size, size);
	if ((ev != TF_MAP && ev != TF_UNMAP) || !r->iova_f[ev] ||
	    tep_read_number_field(r->iova_f[ev], rec->data, &iova) || !iova)
		return 0;

	struct tf_iova *slot = iova_slot(r, iova);

	if (!slot) {
		r->iova_overflow++;
		return 0;
	}
	if (ev == TF_UNMAP) {
		slot->iova = iova;
		slot->unmap_ts = rec->ts ? rec->ts : 1;
	} else {
		if (slot->iova == iova && slot->unmap_ts) {
			__u64 d = rec->ts > slot->unmap_ts ? rec->ts - slot->unmap_ts : 0;

			r->total.maps_reusing++;
			r->interval.maps_reusing++;
			hist_record(&r->total.reuse, d);
			hist_record(&r->interval.reuse, d);
		}
		slot->iova = iova;
		slot->unmap_ts = 0;
	}
	return 0;
}

static int tf_poll(void *ctx)
{
	struct tf_reader *r = ctx;

	if (tracefs_iterate_raw_events(r->tep, r->inst, NULL, 0, on_record, r) < 0) {
		pr_err("reading raw events: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static struct json_object *sizes_json(const struct tf_sizes *s)
{
	struct json_object *arr = json_object_new_array();

	for (int i = 0; arr && i < TF_NR_SIZES && s->count[i]; i++) {
		struct json_object *pair = json_object_new_array();

		json_object_array_add(pair, json_object_new_uint64(s->size[i]));
		json_object_array_add(pair, json_object_new_uint64(s->count[i]));
		json_object_array_add(arr, pair);
	}
	return arr;
}

static int tf_report(void *ctx, struct it_run *run, bool final,
		     unsigned int index, uint64_t from, uint64_t to)
{
	struct tf_reader *r = ctx;
	struct tf_counts *c = final ? &r->total : &r->interval;
	char a[16], b[16], d[16];
	int err = 0;

	if (final) {
		tracefs_trace_off(r->inst);
		if (tf_poll(r))
			return -1;
	}
	if (r->o->json) {
		struct json_object *obj, *evs, *e, *reuse;

		obj = it_json_head(r->o, "tracefs", final, index, from, to);
		if (!obj)
			return -1;
		evs = json_object_new_object();
		json_object_object_add(obj, "events", evs);
		for (int ev = 0; ev < TF_NR_EV; ev++) {
			char name[64];

			snprintf(name, sizeof(name), "%s:%s", tf_events[ev].system,
				 tf_events[ev].event);
			if (!r->enabled[ev]) {
				json_object_object_add(evs, name, NULL);
				continue;
			}
			e = json_object_new_object();
			json_object_object_add(evs, name, e);
			json_object_object_add(e, "count",
					       json_object_new_uint64(c->events[ev]));
			if (tf_events[ev].size_field) {
				json_object_object_add(e, "sizes_bytes",
						       sizes_json(&c->sizes[ev]));
				json_object_object_add(e, "sizes_other",
					json_object_new_uint64(c->sizes[ev].other));
			}
		}
		reuse = json_object_new_object();
		json_object_object_add(obj, "iova_reuse", reuse);
		json_object_object_add(reuse, "maps", json_object_new_uint64(c->events[TF_MAP]));
		json_object_object_add(reuse, "maps_reusing_unmapped_iova",
				       json_object_new_uint64(c->maps_reusing));
		json_object_object_add(reuse, "unmap_to_remap",
				       hist_to_json(&c->reuse));
		json_object_object_add(reuse, "table_overflow",
				       json_object_new_uint64(r->iova_overflow));
		err = it_json_workload(obj, r->o, run, final);
		err |= json_print_compact(run->out, obj);
		json_object_put(obj);
	} else {
		FILE *f = run->out;

		if (final)
			fprintf(f, "\niommutrace --tracefs: %.2f s\n", (to - from) / 1e9);
		else
			fprintf(f, "\n--- interval %u (%.2f s) ---\n", index,
				(to - from) / 1e9);
		for (int ev = 0; ev < TF_NR_EV; ev++) {
			fprintf(f, "%s:%-16s ", tf_events[ev].system, tf_events[ev].event);
			if (!r->enabled[ev]) {
				fprintf(f, "not available on this kernel\n");
				continue;
			}
			fprintf(f, "%10llu", (unsigned long long)c->events[ev]);
			for (int i = 0; i < TF_NR_SIZES && c->sizes[ev].count[i] && i < 4; i++)
				fprintf(f, "  %llu B x %llu",
					(unsigned long long)c->sizes[ev].size[i],
					(unsigned long long)c->sizes[ev].count[i]);
			fputc('\n', f);
		}
		fprintf(f, "IOVA reuse: %llu of %llu maps reuse an unmapped IOVA; unmap -> remap p50 %s p99 %s min %s\n",
			(unsigned long long)c->maps_reusing,
			(unsigned long long)c->events[TF_MAP],
			fmt_unit(a, sizeof(a), hist_percentile(&c->reuse, 50), "ns"),
			fmt_unit(b, sizeof(b), hist_percentile(&c->reuse, 99), "ns"),
			fmt_unit(d, sizeof(d), hist_count(&c->reuse) ?
				 (double)hist_min(&c->reuse) : NAN, "ns"));
		if (r->o->hists && hist_count(&c->reuse))
			it_print_log2(f, &c->reuse, "unmap -> remap of the same IOVA");
		if (final && run->child && run->child_status >= 0)
			fprintf(f, "workload %s exited with status %d\n",
				r->o->cmd[0], run->child_status);
	}
	fflush(run->out);
	if (!final) {
		memset(&r->interval, 0, sizeof(r->interval));
		hist_init(&r->interval.reuse);
	}
	return err ? -1 : 0;
}

/**
 * iommutrace_tracefs_main() - run iommutrace --tracefs
 * @o: options (--device is refused: the iommu tracepoints carry none)
 *
 * Return: exit status.
 */
int iommutrace_tracefs_main(const struct it_opts *o)
{
	static const char *const systems[] = { "iommu", "intel_iommu", "dma", NULL };
	static struct tf_reader reader;
	const struct it_run_ops ops = { tf_poll, tf_report };
	struct tf_reader *r = &reader;
	struct it_run run = { .out = NULL };
	char name[64];
	int ret = EXIT_ERROR, n = 0;

	if (o->device) {
		pr_err("--device is not supported with --tracefs: iommu:map/unmap carry no device");
		return EXIT_USAGE;
	}
	if (it_check_iommu())
		return EXIT_ENVIRONMENT;
	r->o = o;
	hist_init(&r->total.reuse);
	hist_init(&r->interval.reuse);
	r->iovas = calloc(1UL << TF_IOVA_BITS, sizeof(*r->iovas));
	if (!r->iovas)
		return EXIT_ERROR;
	if (!tracefs_tracing_dir()) {
		pr_err("no tracefs: mount it on /sys/kernel/tracing (kernel needs CONFIG_FTRACE)");
		ret = EXIT_ENVIRONMENT;
		goto out;
	}
	r->tep = tracefs_local_events_system(NULL, systems);
	if (!r->tep) {
		pr_err("cannot parse the event formats under %s", tracefs_tracing_dir());
		ret = EXIT_ENVIRONMENT;
		goto out;
	}
	snprintf(name, sizeof(name), "iommutrace-%d", (int)getpid());
	r->inst = tracefs_instance_create(name);
	if (!r->inst) {
		pr_err("cannot create the tracefs instance %s: %s", name, strerror(errno));
		goto out;
	}
	tracefs_instance_file_write(r->inst, "buffer_size_kb", "4096");
	for (int ev = 0; ev < TF_NR_EV; ev++) {
		struct tep_event *e = tep_find_event_by_name(r->tep, tf_events[ev].system,
							     tf_events[ev].event);

		if (!e || tracefs_event_enable(r->inst, tf_events[ev].system,
					       tf_events[ev].event)) {
			pr_info("%s:%s: not on this kernel, skipped",
				tf_events[ev].system, tf_events[ev].event);
			continue;
		}
		r->enabled[ev] = true;
		r->ids[ev] = e->id;
		r->iova_f[ev] = tep_find_field(e, "iova");
		if (tf_events[ev].size_field)
			r->size_f[ev] = tep_find_field(e, tf_events[ev].size_field);
		n++;
	}
	if (!r->enabled[TF_MAP] || !r->enabled[TF_UNMAP]) {
		pr_err("the iommu:map and iommu:unmap tracepoints are missing (kernel without CONFIG_IOMMU_API tracing)");
		ret = EXIT_ENVIRONMENT;
		goto out;
	}
	tracefs_trace_on(r->inst);

	if (it_run_start(o, &run))
		goto out;
	if (it_run_loop(o, &run, &ops, r))
		goto out;
	ret = it_run_exit_status(&run);
out:
	it_run_cleanup(&run);
	if (r->inst) {
		tracefs_event_disable(r->inst, NULL, NULL);
		tracefs_instance_destroy(r->inst);
		tracefs_instance_free(r->inst);
	}
	tep_free(r->tep);
	free(r->iovas);
	return ret;
}
