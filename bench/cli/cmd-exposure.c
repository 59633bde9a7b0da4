// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench exposure: what lazy mode leaves open.  The front-end of the
 * exposure engine (bench/runner/exposure.c): parses the command line,
 * prints per policy and delay how often QEMU's edu device still wrote into
 * a buffer after dma_unmap_page() returned, and the anomalies.
 */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommubench/dmabench.h>

#include "analysis.h"
#include "commands.h"
#include "exposure.h"
#include "json.h"
#include "log.h"
#include "opt.h"

#define CMD_NAME		"iommubench exposure"
#define DEFAULT_POLICIES	"strict,lazy,identity"
#define DEFAULT_DELAYS		"0,100us,1ms,5ms,20ms"

static struct exposure x;
static const char *kernel = "debian:6.1", *json_path;
static int iommu_idx;
static unsigned int trials = 20, timeout_s = 600;
static unsigned long long seed = 1;
static bool trace, keep, policies_set, delays_set;

static const char *const iommu_choices[] = {
	"intel", "intel-cm", "amd", "virtio", NULL,
};

static int bad(const char *opt, const char *arg, const char *want)
{
	fprintf(stderr, "%s: %s: '%s' is not %s\n", CMD_NAME, opt, arg, want);
	return -1;
}

static int cb_policies(const struct opt *o, const char *arg)
{
	char *copy = strdup(arg), *tok, *save = NULL;
	int ret = 0;

	(void)o;
	x.o.npolicies = 0;
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		enum iommu_policy p;

		if (policy_parse(tok, &p) || p == POLICY_DEFAULT) {
			ret = bad("--policies", tok, "strict, lazy or identity");
			break;
		}
		for (unsigned int i = 0; i < x.o.npolicies; i++)
			if (x.o.policies[i] == p)
				ret = bad("--policies", arg, "a list naming each policy once");
		if (!ret)
			x.o.policies[x.o.npolicies++] = p;
	}
	if (!ret && !x.o.npolicies)
		ret = bad("--policies", arg, "a list of policies");
	free(copy);
	policies_set = true;
	return ret;
}

static int cb_delays(const struct opt *o, const char *arg)
{
	(void)o;
	delays_set = true;
	if (parse_duration_list(arg, 1, DMABENCH_STALE_MAX_LEAD_NS,
				x.o.delays, EXPOSURE_MAX_DELAYS, &x.o.ndelays))
		return bad("--delays", arg,
			   "a list of distinct durations of 0 to 90ms (ns, us, ms; at most 32)");
	return 0;
}

static int cb_clock(const struct opt *o, const char *arg)
{
	(void)o;
	if (ib_clock_parse(arg, &x.o.clock))
		return bad("--clock", arg, "host, icount or icount:SHIFT (SHIFT 0-10)");
	return 0;
}

static const struct opt opts[] = {
	OPT_GROUP("What to boot:"),
	OPT_STRING('k', "kernel", &kernel, "SPEC",
		   "debian:6.1 (default), debian:6.12, a cached name or a directory"),
	OPT_CHOICE('i', "iommu", &iommu_idx, "IOMMU", "the vIOMMU (default intel)",
		   iommu_choices),
	OPT_CALLBACK('p', "policies", NULL, "LIST",
		     "one boot each, in this order (default " DEFAULT_POLICIES ")",
		     cb_policies),
	OPT_CALLBACK(0, "clock", NULL, "C",
		     "icount (default: guest time counts instructions, one vCPU), icount:SHIFT or host",
		     cb_clock),
	OPT_UINT('t', "timeout", &timeout_s, "S",
		 "watchdog of one boot, seconds (default 600)", 10, 86400),
	OPT_GROUP("The probe:"),
	OPT_CALLBACK(0, "delays", NULL, "LIST",
		     "how long before the device's write is due the unmap returns: durations of 0 to 90ms (default " DEFAULT_DELAYS ")",
		     cb_delays),
	OPT_UINT('n', "trials", &trials, "N",
		 "trials per delay and policy (default 20)", 1,
		 DMABENCH_STALE_MAX_TRIALS),
	OPT_U64(0, "seed", &seed, "N", "seed of the trial order (default 1)",
		0, 0x7fffffffffffffffLL),
	OPT_BOOL(0, "trace", &trace,
		 "run the probe under iommutrace: its exposure windows next to the curve"),
	OPT_GROUP("Output:"),
	OPT_STRING(0, "json", &json_path, "FILE", "also write the results as JSON"),
	OPT_BOOL(0, "keep", &keep, "keep the boots' logs and the probes' JSON"),
	OPT_END(),
};

static const char *const usage[] = {
	"iommubench exposure [--kernel K] [--iommu I] [--policies LIST] [--delays LIST] [--trials N] [--json FILE]",
	NULL,
};

static const struct opt_cmd cmd = {
	.name = CMD_NAME,
	.usage = usage,
	.about = "Can a device that was told to stop still write into memory the kernel took back, and for how long?\n"
		 "Boots once per policy with QEMU's edu device, verifies edu's policy, and runs dmabench's stale-DMA\n"
		 "probe: per delay, how often the device's write landed after dma_unmap_page() returned.  Strict must\n"
		 "give none, identity all, lazy some until its flush queue invalidates; anything else is an anomaly.",
	.opts = opts,
	.min_args = 0,
	.max_args = 0,
	.footer = "Exit status: 0 every policy measured and as it must be, 1 an anomaly or a failed boot,\n"
		  "2 usage error, 130 interrupted.  docs/exposure.md explains the method and the results.",
};

static const char *ns(char *buf, size_t len, double v)
{
	return an_fmt_unit(buf, len, v, "ns", NULL);
}

static void print_header(void)
{
	char clk[16], a[32];
	const char *sources = NULL;

	printf("exposure after dma_unmap_page(): %s%s%s%s, %s vIOMMU, clock %s%s\n",
	       x.kernel.name, x.kernel.release ? " (" : "",
	       x.kernel.release ? x.kernel.release : "",
	       x.kernel.release ? ")" : "", vm_iommu_name(x.o.iommu),
	       ib_clock_name(&x.o.clock, clk, sizeof(clk)),
	       x.o.clock.icount ? " (guest time counts instructions, one vCPU)" :
	       " (guest time follows the host's)");
	printf("QEMU edu at %s, %u trials per delay and policy, delays", VM_BDF_EDU,
	       x.o.trials);
	for (unsigned int i = 0; i < x.o.ndelays; i++)
		printf("%s %s", i ? "," : "", exposure_fmt_delay(a, sizeof(a), x.o.delays[i]));
	for (unsigned int i = 0; i < x.o.npolicies && !sources; i++)
		if (x.p[i].sources[0])
			sources = x.p[i].sources;
	printf("\nfault reports watched: %s\n\n", sources ? sources : "none");
}

static void print_table(void)
{
	struct an_table t;
	char a[32], b[32];

	an_table_init(&t, x.o.trace ? "llrrrrrrrlrr" : "llrrrrrrrlr");
	an_table_row(&t);
	an_table_cell(&t, "policy");
	an_table_cell(&t, "domain");
	an_table_cell(&t, "delay");
	an_table_cell(&t, "trials");
	an_table_cell(&t, "landed");
	an_table_cell(&t, "faulted");
	an_table_cell(&t, "neither");
	an_table_cell(&t, "late");
	an_table_cell(&t, "P(landed)");
	an_table_cell(&t, "95%% CI (Wilson)");
	an_table_cell(&t, "write after unmap");
	if (x.o.trace)
		an_table_cell(&t, "iommutrace predicts");
	for (unsigned int i = 0; i < x.o.npolicies; i++) {
		const struct exposure_policy *p = &x.p[i];

		if (p->error[0]) {
			an_table_line(&t, "%-8s %s", policy_name(p->policy), p->error);
			continue;
		}
		for (unsigned int k = 0; k < x.o.ndelays; k++) {
			const struct exposure_delay *d = &p->d[k];

			an_table_row(&t);
			an_table_cell(&t, "%s", k ? "" : policy_name(p->policy));
			an_table_cell(&t, "%s", k ? "" : p->domain);
			an_table_cell(&t, "%s", exposure_fmt_delay(a, sizeof(a), d->delay_ns));
			an_table_cell(&t, "%u", d->trials);
			if (d->partial)
				an_table_cell(&t, "%u (%u partial)", d->landed + d->partial,
					      d->partial);
			else
				an_table_cell(&t, "%u", d->landed);
			an_table_cell(&t, "%u", d->faulted);
			an_table_cell(&t, "%u", d->neither);
			an_table_cell(&t, "%u", d->late);
			if (isnan(d->p.est)) {
				an_table_cell(&t, "-");
				an_table_cell(&t, "-");
			} else {
				an_table_cell(&t, "%.3f", d->p.est);
				an_table_cell(&t, "[%.3f, %.3f]", d->p.lo, d->p.hi);
			}
			an_table_cell(&t, "%s", ns(b, sizeof(b), d->gap_p50));
			if (!x.o.trace)
				continue;
			if (isnan(d->pred_lo))
				an_table_cell(&t, "-");
			else if (d->pred_lo == d->pred_hi)
				an_table_cell(&t, "%.3f", d->pred_lo);
			else
				an_table_cell(&t, "%.3f (%.3f-%.3f)", d->predicted,
					      d->pred_lo, d->pred_hi);
		}
	}
	an_table_print(&t, stdout, "");
	an_table_free(&t);
}

static void print_summary(void)
{
	char a[32], b[32], c[32];

	printf("\n");
	for (unsigned int i = 0; i < x.o.npolicies; i++) {
		const struct exposure_policy *p = &x.p[i];
		const char *name = policy_name(p->policy);

		if (p->error[0])
			continue;
		if (isnan(p->last_landed_gap_ns))
			printf("%s: no write landed after its unmap returned", name);
		else
			printf("%s: writes landed up to %s after the unmap returned; %s",
			       name, ns(a, sizeof(a), p->last_landed_gap_ns),
			       isnan(p->first_clean_delay_ns) ?
			       "still at the largest delay" : "none at delays of ");
		if (!isnan(p->last_landed_gap_ns) && !isnan(p->first_clean_delay_ns))
			printf("%s and more", exposure_fmt_delay(b, sizeof(b), p->first_clean_delay_ns));
		printf("\n");
		if (p->traced)
			printf("  iommutrace, same boot: %s exposure window p50 %s, p99 %s, max %s over %llu unmaps\n",
			       p->policy == POLICY_LAZY ? "lazy" : "strict",
			       ns(a, sizeof(a), hist_percentile(&p->window, 50)),
			       ns(b, sizeof(b), hist_percentile(&p->window, 99)),
			       ns(c, sizeof(c), hist_max(&p->window)),
			       (unsigned long long)hist_count(&p->window));
		if (p->notes.buf)
			printf("  %s", p->notes.buf);
	}
	if (x.anomalies) {
		printf("\nANOMALIES (results that contradict what the policy must give, or each other):\n");
		for (unsigned int i = 0; i < x.o.npolicies; i++)
			if (x.p[i].anomalies.buf)
				printf("%s", x.p[i].anomalies.buf);
	} else if (!x.failed) {
		printf("\nno anomaly: strict lands nothing, identity everything, lazy until its flush (those measured)\n");
	}
}

static void on_signal(int sig)
{
	(void)sig;
	exposure_interrupt();
}

int cmd_exposure(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct json_object *j;
	int ret;

	/* deterministic by default: delays exact in instructions */
	x.o.clock = (struct ib_clock){ .icount = true,
				       .shift = IB_ICOUNT_DEFAULT_SHIFT };
	ret = opt_parse(&cmd, argc, argv);
	if (ret < 0)
		return opt_exit(ret);
	if (!policies_set && cb_policies(NULL, DEFAULT_POLICIES))
		return EXIT_USAGE;
	if (!delays_set && cb_delays(NULL, DEFAULT_DELAYS))
		return EXIT_USAGE;
	if (vm_iommu_parse(iommu_choices[iommu_idx], &x.o.iommu))
		return EXIT_USAGE;
	x.o.kernel = kernel;
	x.o.trials = trials;
	x.o.seed = seed;
	x.o.trace = trace;
	x.o.timeout_s = timeout_s;
	x.o.keep = keep;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (exposure_run(&x)) {
		exposure_free(&x);
		return EXIT_ERROR;
	}
	if (x.interrupted) {
		pr_err("interrupted: the boot under way was stopped, no results printed");
		exposure_free(&x);
		return 130;
	}
	print_header();
	print_table();
	print_summary();
	ret = x.anomalies || x.failed ? EXIT_ERROR : EXIT_OK;
	if (json_path) {
		j = exposure_json(&x);
		if (!j || json_write_file(json_path, j)) {
			pr_err("%s: cannot write the results", json_path);
			ret = EXIT_ERROR;
		}
		if (j)
			json_object_put(j);
	}
	exposure_free(&x);
	if (an_stdout_done())
		ret = EXIT_ERROR;
	return ret;
}
