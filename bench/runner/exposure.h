/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exposure engine: what lazy mode leaves open, measured.  Per policy,
 * one boot with QEMU's edu device, its policy verified, dmabench's
 * stale-DMA probe (optionally under iommutrace), and the outcomes checked
 * against what each policy must give (docs/exposure.md).
 */
#ifndef IB_EXPOSURE_H
#define IB_EXPOSURE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include <iommubench/dmabench.h>

#include "clock.h"
#include "hist.h"
#include "kernel.h"
#include "policy.h"
#include "stats.h"
#include "util.h"
#include "vm.h"

#define EXPOSURE_MAX_POLICIES	3
#define EXPOSURE_MAX_DELAYS	DMABENCH_STALE_MAX_DELAYS
#define EXPOSURE_SCHEMA		"iommubench.exposure/1"
/* lazy mode's flush queue timer (drivers/iommu/dma-iommu.c, IOVA_FQ_TIMEOUT) */
#define EXPOSURE_FQ_TIMEOUT_NS	10000000ULL
/*
 * With --trace, a lazy delay where the bounds of iommutrace's predicted
 * P(landed) lie wholly outside the Wilson interval at this level of the
 * measured count is an anomaly: wide enough that chance alone rarely (1 in
 * 1000 per delay) raises one.
 */
#define EXPOSURE_PREDICT_LEVEL	0.999

/**
 * struct exposure_opts - what to measure
 * @kernel: the kernel's spec (debian:6.1, a directory, ...)
 * @iommu: the vIOMMU
 * @policies: the policies, one boot each, in this order
 * @delays: how long before the device's write is due the unmap returns
 * @trials: trials per delay and policy
 * @seed: of the trial order
 * @clock: the guest's clock
 * @trace: run the probe under iommutrace, for its exposure windows
 * @timeout_s: watchdog of one boot
 * @keep: keep the logs of successful boots too
 */
struct exposure_opts {
	const char *kernel;
	enum vm_iommu iommu;
	enum iommu_policy policies[EXPOSURE_MAX_POLICIES];
	unsigned int npolicies;
	uint64_t delays[EXPOSURE_MAX_DELAYS];
	unsigned int ndelays;
	unsigned int trials;
	uint64_t seed;
	struct ib_clock clock;
	bool trace;
	unsigned int timeout_s;
	bool keep;
};

/**
 * struct exposure_delay - one delay under one policy
 * @delay_ns: the delay
 * @trials: trials that say something (all but the late ones)
 * @landed..@late: trials per outcome
 * @p: P(landed) ((landed + partial) / trials) with its Wilson interval;
 *     NaN without trials
 * @gap_p50: median time from the unmap's return to the write, ns
 * @predicted: the fraction of iommutrace's exposure windows longer than
 *	@gap_p50: P(landed) as the trace predicts it, interpolated inside the
 *	histogram's bucket that holds @gap_p50; NaN without a trace
 * @pred_lo, @pred_hi: the bounds of that fraction that the histogram
 *	knows for certain (hist_fraction_above_bounds()); NaN without a trace
 */
struct exposure_delay {
	uint64_t delay_ns;
	unsigned int trials;
	unsigned int landed;
	unsigned int partial;
	unsigned int faulted;
	unsigned int neither;
	unsigned int late;
	struct stats_ci p;
	double gap_p50;
	double predicted;
	double pred_lo;
	double pred_hi;
};

/**
 * struct exposure_policy - the result of one policy's boot
 * @policy: the policy
 * @status: vm_run()'s status: 0, the probe's exit status, or EXIT_*
 * @vm: what the boot found (group type read back, outcome)
 * @error: why there is no result ("" when there is one)
 * @domain: the IOMMU domain the module saw during the trials
 * @sources: what watched for fault reports, comma separated
 * @d: per delay, in the order of the options
 * @last_landed_gap_ns: the longest time after its unmap a write landed;
 *	NaN when none did
 * @first_clean_delay_ns: the smallest delay from which on none landed;
 *	NaN when writes landed at the largest delay
 * @traced: @window holds iommutrace's exposure windows of this boot
 * @window: lazy windows (unmap until the covering flush returned), or the
 *	strict ones (unmap until its IOTLB sync returned)
 * @anomalies: results that contradict what the policy must give, a line
 *	each
 * @notes: what a reader should know (trials lost to late writes)
 * @probe: dmabench's JSON; @trace: iommutrace's
 */
struct exposure_policy {
	enum iommu_policy policy;
	int status;
	struct vm_result vm;
	char error[256];
	char domain[16];
	char sources[96];
	struct exposure_delay d[EXPOSURE_MAX_DELAYS];
	double last_landed_gap_ns;
	double first_clean_delay_ns;
	bool traced;
	struct hist window;
	struct strbuf anomalies;
	struct strbuf notes;
	struct json_object *probe;
	struct json_object *trace;
};

struct exposure {
	struct exposure_opts o;
	struct kernel kernel;
	char *dir;			/* the boots' logs and outputs */
	struct exposure_policy p[EXPOSURE_MAX_POLICIES];
	unsigned int anomalies;		/* over all policies */
	unsigned int failed;		/* policies without a result */
	bool interrupted;		/* exposure_interrupt() stopped it */
};

/*
 * exposure_run - boot once per policy of @x->o and fill @x->p.  A policy
 * whose boot fails (its policy not verified, the probe failed) gets its
 * error and the others go on.  Returns 0, or -1 when nothing could start
 * (the kernel is unavailable, the configuration cannot run), after saying
 * why.  Free with exposure_free() in every case.
 */
int exposure_run(struct exposure *x);
void exposure_free(struct exposure *x);
/*
 * exposure_interrupt - stop the boot under way and start no other
 * (async-signal-safe); exposure_run() then returns with x->interrupted.
 */
void exposure_interrupt(void);
/* A delay as it was given: "0", "100 µs", "5 ms", "1500 ns". */
const char *exposure_fmt_delay(char *buf, size_t len, uint64_t ns);
/* The whole result as JSON (EXPOSURE_SCHEMA). */
struct json_object *exposure_json(const struct exposure *x);

#endif /* IB_EXPOSURE_H */
