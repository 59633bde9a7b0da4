// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench policy show|verify|set: the read-back every measurement is
 * labelled from.  Runs in the guest (vm run uses it before COMMAND) and on
 * real hardware alike.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "json.h"
#include "log.h"
#include "policy.h"
#include "remote.h"
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

static int policy_show(int argc, char **argv, bool json)
{
	struct json_object *arr = json_object_new_array();
	struct dirent **ents = NULL;
	int n = 0;

	if (optind == argc) {
		n = scandir("/sys/bus/pci/devices", &ents, NULL, alphasort);
		if (n < 0) {
			pr_err("/sys/bus/pci/devices: %s", strerror(errno));
			return EXIT_ERROR;
		}
	}
	if (!json)
		printf("%-14s %5s %-9s %-8s %s\n", "DEVICE", "GROUP", "TYPE",
		       "POLICY", "DRIVER");
	for (int i = 0; i < (n ? n : argc - optind); i++) {
		const char *name = n ? ents[i]->d_name : argv[optind + i];
		struct device_policy dp;
		char dev[64];

		if (name[0] == '.')
			goto next;
		if (policy_normalize_dev(name, dev, sizeof(dev)) ||
		    policy_read(dev, &dp)) {
			pr_err("%s: no such device", name);
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
	if (json)
		json_print(stdout, arr);
	json_object_put(arr);
	return 0;
}

static int policy_verify(const char *dev, enum iommu_policy want, bool json)
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
		json_print(stdout, o);
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

static void policy_usage(FILE *f)
{
	fprintf(f,
		"usage: iommubench policy show [--json] [DEVICE...]\n"
		"       iommubench policy verify --device DEVICE --expect strict|lazy|identity [--json]\n"
		"       iommubench policy set --device DEVICE [--rebind [--force]] strict|lazy|identity\n"
		"\n"
		"  --target ssh://[USER@]HOST[:PORT]   do it on that machine (the suite is\n"
		"                                      installed there first)\n");
}

int cmd_policy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "expect", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "rebind", no_argument, NULL, 'r' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	enum iommu_policy want = POLICY_DEFAULT;
	const char *devarg = NULL, *sub;
	unsigned int flags = 0;
	bool json = false;
	char dev[64];
	int c;

	if (argc < 2) {
		policy_usage(stderr);
		return EXIT_USAGE;
	}
	if (remote_forward(argc, argv, &c))
		return c;
	sub = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "d:e:jrfh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			devarg = optarg;
			break;
		case 'e':
			if (policy_parse(optarg, &want)) {
				pr_err("--expect: '%s' is not strict, lazy or identity",
				       optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			json = true;
			break;
		case 'r':
			flags |= POLICY_SET_REBIND;
			break;
		case 'f':
			flags |= POLICY_SET_FORCE;
			break;
		case 'h':
			policy_usage(stdout);
			return 0;
		default:
			policy_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!strcmp(sub, "show"))
		return policy_show(argc, argv, json);
	if (!devarg || policy_normalize_dev(devarg, dev, sizeof(dev))) {
		pr_err("policy %s needs --device BDF (e.g. 0000:00:04.0)", sub);
		return EXIT_USAGE;
	}
	if (!strcmp(sub, "verify")) {
		if (want == POLICY_DEFAULT) {
			pr_err("policy verify needs --expect strict|lazy|identity");
			return EXIT_USAGE;
		}
		return policy_verify(dev, want, json);
	}
	if (!strcmp(sub, "set") && optind + 1 == argc) {
		struct strbuf why = STRBUF_INIT;
		enum iommu_policy p;
		int ret = 0;

		if (policy_parse(argv[optind], &p)) {
			pr_err("'%s' is not strict, lazy or identity", argv[optind]);
			return EXIT_USAGE;
		}
		if (policy_set(dev, p, flags, &why)) {
			pr_err("%s: cannot set %s: %s", dev, policy_name(p),
			       why.buf ? why.buf : strerror(errno));
			ret = EXIT_ERROR;
		} else {
			pr_info("%s: %s (group type %s)", dev, policy_name(p),
				policy_group_type(p));
		}
		strbuf_release(&why);
		return ret;
	}
	policy_usage(stderr);
	return EXIT_USAGE;
}
