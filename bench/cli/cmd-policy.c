// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench policy show|verify|set: the read-back every measurement is
 * labelled from.  Runs in the guest (vm run uses it before COMMAND) and on
 * real hardware alike.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "opt.h"
#include "policy.h"
#include "remote.h"
#include "spawn.h"
#include "util.h"

static struct json_object *policy_json(const struct device_policy *dp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "device", json_object_new_string(dp->dev));
	json_object_object_add(o, "group", dp->group < 0 ? NULL :
			       json_object_new_int(dp->group));
	json_object_object_add(o, "type", dp->group < 0 ? NULL :
			       json_object_new_string(dp->type));
	json_object_object_add(o, "policy", json_object_new_string(
			       dp->group < 0 ? "none" : policy_name(dp->policy)));
	json_object_object_add(o, "driver", dp->driver[0] ?
			       json_object_new_string(dp->driver) : NULL);
	return o;
}

static struct json_object *log_lines_json(const char *log)
{
	struct json_object *arr = json_object_new_array();
	const char *p = log;

	while (p && *p) {
		size_t n = strcspn(p, "\n");

		json_object_array_add(arr, json_object_new_string_len(p, n));
		p += n + (p[n] == '\n');
	}
	return arr;
}

static int policy_show(char *const devs[], size_t ndevs, const char *json)
{
	struct json_object *arr = json_object_new_array();
	struct dirent **ents = NULL;
	int n = 0, ret = 0;

	if (!ndevs) {
		n = scandir("/sys/bus/pci/devices", &ents, NULL, alphasort);
		if (n < 0) {
			pr_err("/sys/bus/pci/devices: %s", strerror(errno));
			return EXIT_ERROR;
		}
	}
	if (!json)
		printf("%-14s %5s %-9s %-8s %s\n", "DEVICE", "GROUP", "TYPE",
		       "POLICY", "DRIVER");
	for (size_t i = 0; i < (n ? (size_t)n : ndevs); i++) {
		const char *name = n ? ents[i]->d_name : devs[i];
		struct device_policy dp;
		char dev[64];

		if (name[0] == '.')
			goto next;
		if (policy_normalize_dev(name, dev, sizeof(dev)) ||
		    policy_read(dev, &dp)) {
			pr_err("%s: no such device", name);
			ret = EXIT_ERROR;
			goto next;
		}
		if (json) {
			json_object_array_add(arr, policy_json(&dp));
		} else if (dp.group < 0) {
			printf("%-14s %5s %-9s %-8s %s\n", dp.dev, "-", "-",
			       "none", dp.driver[0] ? dp.driver : "-");
		} else {
			printf("%-14s %5d %-9s %-8s %s\n", dp.dev, dp.group,
			       dp.type, policy_name(dp.policy),
			       dp.driver[0] ? dp.driver : "-");
		}
next:
		if (n)
			free(ents[i]);
	}
	free(ents);
	if (json && json_output(json, arr))
		ret = EXIT_ERROR;
	json_object_put(arr);
	return ret;
}

static int policy_verify(const char *dev, enum iommu_policy want, const char *json)
{
	struct strbuf log = STRBUF_INIT, why = STRBUF_INIT;
	struct json_object *o;
	struct device_policy dp;
	const char *forced;
	size_t flen;
	bool ok;

	if (policy_read(dev, &dp)) {
		pr_err("%s: no such device", dev);
		return EXIT_ERROR;
	}
	policy_kernel_log(&log);
	ok = dp.group >= 0 && dp.policy == want;
	if (dp.group < 0) {
		strbuf_addf(&why, "%s has no IOMMU group: no IOMMU translates it (vIOMMU off, or its driver not loaded)",
			    dev);
	} else if (!ok && want == POLICY_LAZY && dp.policy == POLICY_STRICT &&
		   (forced = policy_strict_forced(log.buf, &flen))) {
		strbuf_addf(&why, "group %d is %s: the IOMMU driver forced strict mode at boot (kernel log: \"%.*s\"), which overrides iommu.strict=0; apply lazy through sysfs instead (vm run --mechanism sysfs)",
			    dp.group, dp.type, (int)flen, forced);
	} else if (!ok) {
		strbuf_addf(&why, "group %d type is %s (%s), expected %s (%s)",
			    dp.group, dp.type, policy_name(dp.policy),
			    policy_group_type(want), policy_name(want));
	}
	if (json) {
		o = policy_json(&dp);
		json_object_object_add(o, "expected",
				       json_object_new_string(policy_name(want)));
		json_object_object_add(o, "ok", json_object_new_boolean(ok));
		json_object_object_add(o, "reason", ok ? NULL :
				       json_object_new_string(why.buf));
		json_object_object_add(o, "kernel_log", log_lines_json(log.buf));
		if (json_output(json, o))
			ok = false;
		json_object_put(o);
	}
	if (ok)
		pr_info("%s: group %d type %s: %s verified", dev, dp.group,
			dp.type, policy_name(want));
	else
		pr_err("%s: policy is not %s: %s", dev, policy_name(want),
		       why.buf);
	strbuf_release(&log);
	strbuf_release(&why);
	return ok ? 0 : EXIT_POLICY;
}

static const char *const policy_names[] = { "strict", "lazy", "identity", NULL };
static const enum iommu_policy policy_values[] = {
	POLICY_STRICT, POLICY_LAZY, POLICY_IDENTITY,
};

static struct {
	struct argv devices;
	const char *json;
	/* --target: remote_forward() takes it first; here for --help */
	const char *target;
	int expect;
	bool rebind, force;
} args;

/* --device BDF: normalised and checked here, repeatable for show. */
static int parse_device(const struct opt *o, const char *arg)
{
	char dev[64];

	if (policy_normalize_dev(arg, dev, sizeof(dev))) {
		pr_err("--%s: '%s' is not a PCI device (DDDD:BB:DD.F or BB:DD.F)",
		       o->long_name, arg);
		return -1;
	}
	return argv_push(o->value, dev);
}

static const struct opt show_opts[] = {
	OPT_CALLBACK('d', "device", &args.devices, "BDF",
		     "a device to show (repeatable; default: every PCI device)",
		     parse_device),
	OPT_STRING('j', "json", &args.json, "FILE",
		   "write JSON to FILE ('-': standard output) instead of the table"),
	OPT_STRING(0, "target", &args.target, "URL",
		   "do it on ssh://[USER@]HOST[:PORT] (the suite is installed there first)"),
	OPT_END(),
};

static const struct opt verify_opts[] = {
	OPT_CALLBACK('d', "device", &args.devices, "BDF", "the device",
		     parse_device),
	OPT_CHOICE('e', "expect", &args.expect, "POLICY",
		   "the policy it must have", policy_names),
	OPT_STRING('j', "json", &args.json, "FILE",
		   "write the verdict as JSON to FILE ('-': standard output)"),
	OPT_STRING(0, "target", &args.target, "URL",
		   "do it on ssh://[USER@]HOST[:PORT] (the suite is installed there first)"),
	OPT_END(),
};

static const struct opt set_opts[] = {
	OPT_CALLBACK('d', "device", &args.devices, "BDF", "the device",
		     parse_device),
	OPT_BOOL('r', "rebind", &args.rebind,
		 "unbind the driver, set the group type, bind it again"),
	OPT_BOOL('f', "force", &args.force,
		 "with --rebind: unbind even a device whose storage is in use"),
	OPT_STRING(0, "target", &args.target, "URL",
		   "do it on ssh://[USER@]HOST[:PORT] (the suite is installed there first)"),
	OPT_END(),
};

static const char *const show_usage[] = {
	"iommubench policy show [--json FILE] [--device BDF]... [BDF...]", NULL,
};
static const char *const verify_usage[] = {
	"iommubench policy verify --device BDF --expect strict|lazy|identity [--json FILE]",
	NULL,
};
static const char *const set_usage[] = {
	"iommubench policy set --device BDF [--rebind [--force]] strict|lazy|identity",
	NULL,
};

static const struct opt_cmd show_cmd = {
	.name = "iommubench policy show",
	.usage = show_usage,
	.about = "The IOMMU group, its type, the policy it means and the driver of each device.",
	.opts = show_opts,
	.max_args = OPT_ARGS_ANY,
};
static const struct opt_cmd verify_cmd = {
	.name = "iommubench policy verify",
	.usage = verify_usage,
	.about = "Exit 0 when the device's group type is the one of the policy, 122 when not.",
	.opts = verify_opts,
};
static const struct opt_cmd set_cmd = {
	.name = "iommubench policy set",
	.usage = set_usage,
	.about = "Write the policy's type to the device's IOMMU group.  A bound device\n"
		 "needs --rebind (except strict to lazy); a device whose storage is in\n"
		 "use, or whose group holds other devices, is refused.",
	.opts = set_opts,
	.min_args = 1,
	.max_args = 1,
	.args_name = "the policy (strict, lazy or identity)",
};

static int parse(const struct opt_cmd *cmd, int argc, char **argv)
{
	argv_free(&args.devices);
	memset(&args, 0, sizeof(args));
	args.expect = -1;
	return opt_parse(cmd, argc, argv);
}

/* The one device verify and set need, or NULL after saying why. */
static const char *one_device(const struct opt_cmd *cmd)
{
	if (args.devices.n != 1) {
		opt_usage_error(cmd, args.devices.n ? "one --device only" :
				"--device BDF is missing (e.g. 0000:00:04.0)");
		return NULL;
	}
	return args.devices.v[0];
}

static int policy_show_main(int argc, char **argv)
{
	int i = parse(&show_cmd, argc, argv), ret;

	if (i < 0)
		return opt_exit(i);
	for (; i < argc; i++)
		if (parse_device(&show_opts[0], argv[i])) {
			argv_free(&args.devices);
			return opt_usage_error(&show_cmd, "no such device name");
		}
	ret = policy_show(args.devices.v, args.devices.n, args.json);
	argv_free(&args.devices);
	return ret;
}

static int policy_verify_main(int argc, char **argv)
{
	int i = parse(&verify_cmd, argc, argv), ret;
	const char *dev;

	if (i < 0)
		return opt_exit(i);
	dev = one_device(&verify_cmd);
	if (!dev)
		ret = EXIT_USAGE;
	else if (args.expect < 0)
		ret = opt_usage_error(&verify_cmd, "--expect strict|lazy|identity is missing");
	else
		ret = policy_verify(dev, policy_values[args.expect], args.json);
	argv_free(&args.devices);
	return ret;
}

static int policy_set_main(int argc, char **argv)
{
	int i = parse(&set_cmd, argc, argv), ret = 0;
	struct strbuf why = STRBUF_INIT;
	enum iommu_policy p;
	const char *dev;

	if (i < 0)
		return opt_exit(i);
	dev = one_device(&set_cmd);
	if (!dev) {
		ret = EXIT_USAGE;
	} else if (policy_parse(argv[i], &p)) {
		ret = opt_usage_error(&set_cmd, "'%s' is not strict, lazy or identity",
				      argv[i]);
	} else if (policy_set(dev, p, (args.rebind ? POLICY_SET_REBIND : 0) |
			      (args.force ? POLICY_SET_FORCE : 0), &why)) {
		pr_err("%s: cannot set %s: %s", dev, policy_name(p),
		       why.buf ? why.buf : strerror(errno));
		ret = EXIT_ERROR;
	} else {
		pr_info("%s: %s (group type %s)", dev, policy_name(p),
			policy_group_type(p));
	}
	strbuf_release(&why);
	argv_free(&args.devices);
	return ret;
}

static const struct subcmd policy_subs[] = {
	{ "show", policy_show_main, "the IOMMU group, type and policy of devices" },
	{ "verify", policy_verify_main, "check that a device has a policy (exit 122 if not)" },
	{ "set", policy_set_main, "give a device a policy through its IOMMU group" },
};

static const char *const policy_usage[] = {
	"iommubench policy show|verify|set [options]", NULL,
};

static const struct opt_cmd policy_cmd = {
	.name = "iommubench policy",
	.usage = policy_usage,
	.subs = policy_subs,
	.nsubs = ARRAY_SIZE(policy_subs),
	.footer = "'iommubench policy SUBCOMMAND --help' lists its options.",
};

int cmd_policy(int argc, char **argv)
{
	int ret;

	/* --target URL, before or after the subcommand: all of it runs there */
	if (remote_forward(argc, argv, &ret))
		return ret;
	return subcmd_run(&policy_cmd, argc, argv);
}
