// SPDX-License-Identifier: GPL-2.0
/*
 * The exposure engine (exposure.h): one boot per policy with QEMU's edu
 * device as the device under test, so that the guest init applies and
 * verifies the policy on edu before anything runs; in the guest, dmabench's
 * stale-DMA probe writes its JSON into the shared directory (under
 * iommutrace when asked, whose report lands there too); here the outcomes
 * are read back and held against what each policy must give:
 *
 *   strict    no write lands after dma_unmap_page() returned;
 *   identity  every write lands (nothing translates, nothing is taken back);
 *   lazy      writes land shortly after the unmap, and stop once the flush
 *             queue has invalidated the IOTLB (its timer: 10 ms).
 *
 * A result that contradicts them is an anomaly, reported as such, never
 * smoothed over.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "exitcodes.h"
#include "exposure.h"
#include "json.h"
#include "log.h"

#define PROBE_SCHEMA	"iommubench.dmabench-stale/1"

static volatile sig_atomic_t stop;

void exposure_interrupt(void)
{
	stop = 1;
	vm_interrupt();
}

const char *exposure_fmt_delay(char *buf, size_t len, uint64_t ns)
{
	if (!ns)
		snprintf(buf, len, "0");
	else if (!(ns % 1000000))
		snprintf(buf, len, "%llu ms", (unsigned long long)(ns / 1000000));
	else if (!(ns % 1000))
		snprintf(buf, len, "%llu \xc2\xb5s", (unsigned long long)(ns / 1000));
	else
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
	return buf;
}

/* member @key of @o as a number; NaN when missing or null */
static double jnum(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v ||
	    !(json_object_is_type(v, json_type_int) ||
	      json_object_is_type(v, json_type_double)))
		return NAN;
	return json_object_get_double(v);
}

static unsigned int jcount(struct json_object *o, const char *key)
{
	double v = jnum(o, key);

	return isnan(v) || v < 0 ? 0 : (unsigned int)v;
}

static void say(struct strbuf *sb, unsigned int *count, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* one line into @sb; @count (may be NULL) counts it */
static void say(struct strbuf *sb, unsigned int *count, const char *fmt, ...)
{
	char *line;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	strbuf_addf(sb, "%s\n", line);
	free(line);
	if (count)
		(*count)++;
}

/* "0,100000,1000000": the delays for dmabench, in ns */
static char *delays_arg(const struct exposure_opts *o)
{
	struct strbuf sb = STRBUF_INIT;

	for (unsigned int i = 0; i < o->ndelays; i++)
		strbuf_addf(&sb, "%s%llu", i ? "," : "",
			    (unsigned long long)o->delays[i]);
	return strbuf_detach(&sb);
}

/* dmabench's JSON into @p; -1 with @p->error set when it is not one */
static int probe_parse(const struct exposure_opts *o, struct exposure_policy *p)
{
	struct json_object *delays, *src, *v;
	const char *schema = json_get_string(p->probe, "schema");

	if (!schema || strcmp(schema, PROBE_SCHEMA)) {
		snprintf(p->error, sizeof(p->error),
			 "the probe's output is not %s", PROBE_SCHEMA);
		return -1;
	}
	if (json_object_object_get_ex(p->probe, "device", &v))
		snprintf(p->domain, sizeof(p->domain), "%s",
			 json_get_string(v, "iommu_domain") ?: "?");
	if (json_object_object_get_ex(p->probe, "fault_sources", &src))
		for (size_t i = 0; i < json_object_array_length(src); i++) {
			size_t n = strlen(p->sources);

			snprintf(p->sources + n, sizeof(p->sources) - n, "%s%s",
				 n ? ", " : "", json_object_get_string(
					 json_object_array_get_idx(src, i)));
		}
	if (!json_object_object_get_ex(p->probe, "delays", &delays) ||
	    json_object_array_length(delays) != o->ndelays) {
		snprintf(p->error, sizeof(p->error),
			 "the probe's output has not the %u delays asked for",
			 o->ndelays);
		return -1;
	}
	for (unsigned int i = 0; i < o->ndelays; i++) {
		struct json_object *e = json_object_array_get_idx(delays, i);
		struct exposure_delay *d = &p->d[i];
		struct json_object *ci, *gap;

		d->delay_ns = o->delays[i];
		if (jnum(e, "delay_ns") != (double)o->delays[i]) {
			snprintf(p->error, sizeof(p->error),
				 "the probe's delay %u is not the one asked for",
				 i);
			return -1;
		}
		d->trials = jcount(e, "trials");
		d->landed = jcount(e, "landed");
		d->partial = jcount(e, "partial");
		d->faulted = jcount(e, "faulted");
		d->neither = jcount(e, "neither");
		d->late = jcount(e, "late");
		d->p.est = jnum(e, "p_landed");
		d->p.lo = d->p.hi = NAN;
		if (json_object_object_get_ex(e, "p_landed_ci95", &ci) && ci &&
		    json_object_array_length(ci) == 2) {
			d->p.lo = json_object_get_double(json_object_array_get_idx(ci, 0));
			d->p.hi = json_object_get_double(json_object_array_get_idx(ci, 1));
		}
		d->gap_p50 = json_object_object_get_ex(e, "gap_ns", &gap) ?
			     jnum(gap, "p50") : NAN;
		d->predicted = d->pred_lo = d->pred_hi = NAN;
	}
	p->last_landed_gap_ns = jnum(p->probe, "last_landed_gap_ns");
	p->first_clean_delay_ns = jnum(p->probe, "first_clean_delay_ns");
	return 0;
}

/*
 * iommutrace's exposure windows of the boot: lazy unmaps until the flush
 * that covered them returned, or strict ones until their IOTLB sync
 * returned.  Each lazy window predicts the trials: a write @gap after its
 * unmap lands when the window is longer.
 */
static void trace_parse(const struct exposure_opts *o, struct exposure_policy *p)
{
	struct json_object *ew, *h;
	const char *which = p->policy == POLICY_LAZY ? "lazy" : "strict";

	if (!json_object_object_get_ex(p->trace, "exposure_window", &ew) ||
	    !json_object_object_get_ex(ew, which, &h) ||
	    hist_from_json(&p->window, h)) {
		say(&p->notes, NULL, "iommutrace's report has no %s exposure windows",
		    which);
		return;
	}
	p->traced = hist_count(&p->window) > 0;
	if (!p->traced || p->policy != POLICY_LAZY)
		return;
	for (unsigned int i = 0; i < o->ndelays; i++) {
		struct exposure_delay *d = &p->d[i];

		if (isnan(d->gap_p50))
			continue;
		d->predicted = hist_fraction_above(&p->window, d->gap_p50);
		hist_fraction_above_bounds(&p->window, d->gap_p50, &d->pred_lo,
					   &d->pred_hi);
	}
}

/*
 * The same unmaps seen twice: iommutrace's windows predict P(landed) at
 * each delay (the fraction of windows longer than the delay's median
 * write time).  A count of landings that the prediction makes implausible
 * -- its Wilson interval at EXPOSURE_PREDICT_LEVEL misses every fraction
 * the windows' histogram allows -- is an anomaly: the probe and the tracer
 * disagree on when the IOTLB was invalidated.  The bounds, not the
 * interpolated estimate: the probe's windows cluster at a few phases of
 * the kernel's tick (edu runs commands on millisecond ticks), each cluster
 * narrower than its bucket, and a delay just below a cluster put the
 * estimate far from the truth (0.07 for 0.25 at 15 ms).
 */
static void check_prediction(struct exposure *x, struct exposure_policy *p)
{
	char a[32];

	for (unsigned int i = 0; i < x->o.ndelays; i++) {
		const struct exposure_delay *d = &p->d[i];
		struct stats_ci ci;

		if (!d->trials || isnan(d->pred_lo) ||
		    stats_binomial_ci(d->landed + d->partial, d->trials,
				      EXPOSURE_PREDICT_LEVEL, &ci))
			continue;
		if (d->pred_hi >= ci.lo && d->pred_lo <= ci.hi)
			continue;
		say(&p->anomalies, &x->anomalies,
		    "lazy, delay %s: %u of %u writes landed, iommutrace's exposure windows predict %.3f to %.3f, outside the %g %% interval [%.3f, %.3f]",
		    exposure_fmt_delay(a, sizeof(a), d->delay_ns),
		    d->landed + d->partial, d->trials, d->pred_lo, d->pred_hi,
		    EXPOSURE_PREDICT_LEVEL * 100, ci.lo, ci.hi);
	}
}

/* Hold @p's outcomes against what its policy must give. */
static void check_facts(struct exposure *x, struct exposure_policy *p)
{
	const struct exposure_opts *o = &x->o;
	const char *want = policy_group_type(p->policy), *name = policy_name(p->policy);
	unsigned int trials = 0, landed = 0, partial = 0, faulted = 0, neither = 0;
	unsigned int smallest = 0, after = 0, after_trials = 0;
	char a[32], b[32];

	if (strcmp(p->domain, want))
		say(&p->anomalies, &x->anomalies,
		    "%s: the module saw an IOMMU domain of type %s during the trials, not %s",
		    name, p->domain, want);
	for (unsigned int i = 0; i < o->ndelays; i++) {
		const struct exposure_delay *d = &p->d[i];

		trials += d->trials;
		landed += d->landed + d->partial;
		partial += d->partial;
		faulted += d->faulted;
		neither += d->neither;
		if (d->delay_ns < o->delays[smallest])
			smallest = i;
		if (d->delay_ns >= 2 * EXPOSURE_FQ_TIMEOUT_NS) {
			after += d->landed + d->partial;
			after_trials += d->trials;
		}
		if (d->trials < o->trials)
			say(&p->notes, NULL,
			    "%s, delay %s: %u trials, not %u: the write ran before the unmap returned in %u (late, repeated up to %u times)",
			    name, exposure_fmt_delay(a, sizeof(a), d->delay_ns),
			    d->trials, o->trials, d->late, o->trials);
	}
	if (!trials) {
		say(&p->anomalies, &x->anomalies,
		    "%s: no trial said anything: every write ran before its unmap returned",
		    name);
		return;
	}
	if (partial)
		say(&p->anomalies, &x->anomalies,
		    "%s: %u writes landed in part only", name, partial);
	switch (p->policy) {
	case POLICY_STRICT:
		if (landed)
			say(&p->anomalies, &x->anomalies,
			    "strict: %u of %u writes landed after dma_unmap_page() returned: the IOTLB was not invalidated before it returned",
			    landed, trials);
		break;
	case POLICY_IDENTITY:
		if (landed != trials)
			say(&p->anomalies, &x->anomalies,
			    "identity: %u of %u writes did not land (%u faulted, %u neither): without translation nothing stops the device",
			    trials - landed, trials, faulted, neither);
		break;
	case POLICY_LAZY: {
		const struct exposure_delay *d = &p->d[smallest];

		if (d->delay_ns < EXPOSURE_FQ_TIMEOUT_NS && d->trials &&
		    !(d->landed + d->partial))
			say(&p->anomalies, &x->anomalies,
			    "lazy: no write landed at the smallest delay, %s, below the flush queue's %s timer",
			    exposure_fmt_delay(a, sizeof(a), d->delay_ns),
			    exposure_fmt_delay(b, sizeof(b), EXPOSURE_FQ_TIMEOUT_NS));
		if (after)
			say(&p->anomalies, &x->anomalies,
			    "lazy: %u of %u writes landed at delays of %s and more, twice the flush queue's timer",
			    after, after_trials,
			    exposure_fmt_delay(a, sizeof(a), 2 * EXPOSURE_FQ_TIMEOUT_NS));
		/* a write lands only before the covering flush returned */
		if (p->traced && !isnan(p->last_landed_gap_ns) &&
		    p->last_landed_gap_ns > (double)hist_max(&p->window))
			say(&p->anomalies, &x->anomalies,
			    "lazy: a write landed %s after its unmap, later than the longest exposure window iommutrace saw (%s)",
			    an_fmt_unit(a, sizeof(a), p->last_landed_gap_ns, "ns", NULL),
			    an_fmt_unit(b, sizeof(b), hist_max(&p->window), "ns", NULL));
		check_prediction(x, p);
		break;
	}
	default:
		break;
	}
}

static void exposure_one(struct exposure *x, struct exposure_policy *p)
{
	const struct exposure_opts *o = &x->o;
	const char *name = policy_name(p->policy);
	char *probe = xasprintf("%s/%s.json", x->dir, name);
	char *trace = xasprintf("%s/%s.trace.json", x->dir, name);
	char *logs = xasprintf("%s/%s.vm", x->dir, name);
	char *delays = delays_arg(o);
	struct strbuf cmd = STRBUF_INIT;
	char *argv[2] = { NULL, NULL };
	struct vm_config cfg = {
		.kernel = x->kernel,
		.iommu = o->iommu,
		.policy = p->policy,
		.disk = VM_DISK_NONE,
		.edu = true,
		.dut = VM_BDF_EDU,
		.cpus = o->clock.icount ? 1 : 2,
		.clock = o->clock,
		.mem_mb = 1024,
		.timeout_s = o->timeout_s,
		.share = x->dir,
		.run_dir = logs,
		.keep = o->keep,
		.stream = stderr,
	};

	if (!probe || !trace || !logs || !delays) {
		snprintf(p->error, sizeof(p->error), "out of memory");
		goto out;
	}
	/* the guest's working directory is the shared one */
	if (o->trace)
		strbuf_addf(&cmd, "iommutrace -q --json %s.trace.json --device %s -- ",
			    name, VM_BDF_EDU);
	strbuf_addf(&cmd, "dmabench -q --device %s --mode stale --delays %s --trials %u --seed %llu --json > %s.json",
		    VM_BDF_EDU, delays, o->trials, (unsigned long long)o->seed,
		    name);
	argv[0] = cmd.buf;
	cfg.command = argv;
	unlink(probe);
	unlink(trace);
	pr_info("%s: booting %s with %s, %s vIOMMU", name, x->kernel.name,
		name, vm_iommu_name(o->iommu));
	p->status = vm_run(&cfg, &p->vm);
	if (p->status == EXIT_POLICY) {
		snprintf(p->error, sizeof(p->error),
			 "the policy was not applied to edu: its group reads %s",
			 p->vm.group_type[0] ? p->vm.group_type : "nothing");
		goto out;
	}
	if (p->status && p->vm.boot_to_command_ms < 0) {
		snprintf(p->error, sizeof(p->error), "the boot failed (%s, status %d)",
			 p->vm.outcome, p->status);
		goto out;
	}
	if (p->status) {
		snprintf(p->error, sizeof(p->error),
			 "the probe failed (status %d, %s): its messages are above",
			 p->status, p->vm.outcome);
		goto out;
	}
	p->probe = path_exists(probe) ? json_read_file(probe) : NULL;
	if (!p->probe) {
		snprintf(p->error, sizeof(p->error), "the probe wrote no %s",
			 probe);
		goto out;
	}
	if (probe_parse(o, p))
		goto out;
	if (o->trace) {
		p->trace = path_exists(trace) ? json_read_file(trace) : NULL;
		if (p->trace)
			trace_parse(o, p);
		else
			say(&p->notes, NULL, "%s: iommutrace wrote no report", name);
	}
	check_facts(x, p);
out:
	if (p->error[0])
		x->failed++;
	strbuf_release(&cmd);
	free(probe);
	free(trace);
	free(logs);
	free(delays);
}

int exposure_run(struct exposure *x)
{
	const struct exposure_opts *o = &x->o;
	char *stamp;
	bool keep;

	for (unsigned int i = 0; i < EXPOSURE_MAX_POLICIES; i++) {
		x->p[i].policy = i < o->npolicies ? o->policies[i] : POLICY_DEFAULT;
		x->p[i].last_landed_gap_ns = x->p[i].first_clean_delay_ns = NAN;
		hist_init(&x->p[i].window);
	}
	if (kernel_resolve(o->kernel, &x->kernel))
		return -1;
	for (unsigned int i = 0; i < o->npolicies; i++) {
		struct vm_config cfg = {
			.kernel = x->kernel,
			.iommu = o->iommu,
			.policy = o->policies[i],
			.dut = VM_BDF_EDU,
			.cpus = o->clock.icount ? 1 : 2,
			.clock = o->clock,
		};

		if (vm_check(&cfg))
			return -1;
	}
	stamp = stamp_now();
	x->dir = xasprintf("%s/runs/exposure-%s-%d", cache_dir(),
			   stamp ? stamp : "now", (int)getpid());
	free(stamp);
	if (!x->dir || mkdir_p(x->dir, 0755)) {
		pr_err("%s: %s", x->dir ? x->dir : cache_dir(), strerror(errno));
		return -1;
	}
	for (unsigned int i = 0; i < o->npolicies && !stop; i++)
		exposure_one(x, &x->p[i]);
	x->interrupted = stop;
	keep = o->keep || x->failed;
	if (keep)
		pr_info("logs and the probes' JSON kept in %s", x->dir);
	else
		rm_rf(x->dir);
	return 0;
}

void exposure_free(struct exposure *x)
{
	for (unsigned int i = 0; i < EXPOSURE_MAX_POLICIES; i++) {
		struct exposure_policy *p = &x->p[i];

		strbuf_release(&p->anomalies);
		strbuf_release(&p->notes);
		if (p->probe)
			json_object_put(p->probe);
		if (p->trace)
			json_object_put(p->trace);
	}
	kernel_free(&x->kernel);
	free(x->dir);
}

/* --- JSON ------------------------------------------------------------------ */

static struct json_object *num_or_null(double v)
{
	return isnan(v) ? NULL : json_object_new_double(v);
}

static struct json_object *lines_json(const struct strbuf *sb)
{
	struct json_object *a = json_object_new_array();
	const char *s = sb->buf;

	while (s && *s) {
		size_t n = strcspn(s, "\n");

		json_object_array_add(a, json_object_new_string_len(s, n));
		s += n + (s[n] == '\n');
	}
	return a;
}

static struct json_object *policy_json(const struct exposure *x,
				       const struct exposure_policy *p)
{
	struct json_object *o = json_object_new_object(), *a;

	json_object_object_add(o, "policy", json_object_new_string(policy_name(p->policy)));
	json_object_object_add(o, "status", json_object_new_int(p->status));
	json_object_object_add(o, "outcome", json_object_new_string(p->vm.outcome));
	json_object_object_add(o, "group_type", p->vm.group_type[0] ?
			       json_object_new_string(p->vm.group_type) : NULL);
	json_object_object_add(o, "verified", json_object_new_boolean(p->vm.verified));
	json_object_object_add(o, "error", p->error[0] ?
			       json_object_new_string(p->error) : NULL);
	json_object_object_add(o, "domain", p->domain[0] ?
			       json_object_new_string(p->domain) : NULL);
	a = json_object_new_array();
	for (unsigned int i = 0; p->probe && i < x->o.ndelays; i++) {
		const struct exposure_delay *d = &p->d[i];
		struct json_object *e = json_object_new_object(), *ci = NULL, *pb = NULL;

		json_object_object_add(e, "delay_ns", json_object_new_uint64(d->delay_ns));
		json_object_object_add(e, "trials", json_object_new_int(d->trials));
		json_object_object_add(e, "landed", json_object_new_int(d->landed));
		json_object_object_add(e, "partial", json_object_new_int(d->partial));
		json_object_object_add(e, "faulted", json_object_new_int(d->faulted));
		json_object_object_add(e, "neither", json_object_new_int(d->neither));
		json_object_object_add(e, "late", json_object_new_int(d->late));
		json_object_object_add(e, "p_landed", num_or_null(d->p.est));
		if (!isnan(d->p.lo)) {
			ci = json_object_new_array();
			json_object_array_add(ci, json_object_new_double(d->p.lo));
			json_object_array_add(ci, json_object_new_double(d->p.hi));
		}
		json_object_object_add(e, "p_landed_ci95", ci);
		json_object_object_add(e, "gap_ns_p50", num_or_null(d->gap_p50));
		json_object_object_add(e, "predicted_p_landed", num_or_null(d->predicted));
		if (!isnan(d->pred_lo)) {
			pb = json_object_new_array();
			json_object_array_add(pb, json_object_new_double(d->pred_lo));
			json_object_array_add(pb, json_object_new_double(d->pred_hi));
		}
		json_object_object_add(e, "predicted_p_landed_bounds", pb);
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "delays", a);
	json_object_object_add(o, "last_landed_gap_ns", num_or_null(p->last_landed_gap_ns));
	json_object_object_add(o, "first_clean_delay_ns", num_or_null(p->first_clean_delay_ns));
	json_object_object_add(o, "exposure_window", p->traced ?
			       hist_to_json(&p->window) : NULL);
	json_object_object_add(o, "anomalies", lines_json(&p->anomalies));
	json_object_object_add(o, "notes", lines_json(&p->notes));
	json_object_object_add(o, "probe", p->probe ? json_object_get(p->probe) : NULL);
	json_object_object_add(o, "iommutrace", p->trace ? json_object_get(p->trace) : NULL);
	return o;
}

struct json_object *exposure_json(const struct exposure *x)
{
	struct json_object *o = json_object_new_object(), *k, *a;
	char clk[16];

	json_object_object_add(o, "schema", json_object_new_string(EXPOSURE_SCHEMA));
	k = json_object_new_object();
	json_object_object_add(k, "spec", json_object_new_string(x->o.kernel));
	json_object_object_add(k, "name", x->kernel.name ?
			       json_object_new_string(x->kernel.name) : NULL);
	json_object_object_add(k, "release", x->kernel.release ?
			       json_object_new_string(x->kernel.release) : NULL);
	json_object_object_add(k, "version", x->kernel.version ?
			       json_object_new_string(x->kernel.version) : NULL);
	json_object_object_add(o, "kernel", k);
	json_object_object_add(o, "iommu", json_object_new_string(vm_iommu_name(x->o.iommu)));
	json_object_object_add(o, "clock", json_object_new_string(
			       ib_clock_name(&x->o.clock, clk, sizeof(clk))));
	json_object_object_add(o, "cpus", json_object_new_int(x->o.clock.icount ? 1 : 2));
	json_object_object_add(o, "device", json_object_new_string(VM_BDF_EDU));
	k = json_object_new_object();
	a = json_object_new_array();
	for (unsigned int i = 0; i < x->o.ndelays; i++)
		json_object_array_add(a, json_object_new_uint64(x->o.delays[i]));
	json_object_object_add(k, "delays_ns", a);
	json_object_object_add(k, "trials", json_object_new_int(x->o.trials));
	json_object_object_add(k, "seed", json_object_new_uint64(x->o.seed));
	json_object_object_add(k, "trace", json_object_new_boolean(x->o.trace));
	json_object_object_add(o, "params", k);
	a = json_object_new_array();
	for (unsigned int i = 0; i < x->o.npolicies; i++)
		json_object_array_add(a, policy_json(x, &x->p[i]));
	json_object_object_add(o, "policies", a);
	json_object_object_add(o, "anomalies", json_object_new_int(x->anomalies));
	json_object_object_add(o, "failed", json_object_new_int(x->failed));
	return o;
}
