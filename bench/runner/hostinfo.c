// SPDX-License-Identifier: GPL-2.0
/*
 * iommubench host-info: who is this machine.  A run records it in its
 * manifest; remote host mode and fan-out run it on the far side of SSH so
 * that a result names the machine that produced it, not the one that
 * asked for it.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "commands.h"
#include "hostinfo.h"
#include "json.h"
#include "opt.h"
#include "util.h"

static struct json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The first "model name" of /proc/cpuinfo, or NULL. */
static char *cpu_model(void)
{
	char *cpu = read_file("/proc/cpuinfo", NULL), *model, *ret = NULL;

	model = cpu ? strstr(cpu, "model name") : NULL;
	if (model && (model = strchr(model, ':'))) {
		model += 1 + (model[1] == ' ');
		ret = strndup(model, strcspn(model, "\n"));
	}
	free(cpu);
	return ret;
}

/* The names in directory @path (sorted), without dot files. */
static struct json_object *dir_names(const char *path, int *count)
{
	struct json_object *arr = json_object_new_array();
	char *dir = sysfs_path("%s", path);
	struct dirent **ents = NULL;
	int n = dir ? scandir(dir, &ents, NULL, alphasort) : -1;

	*count = 0;
	for (int i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.') {
			json_object_array_add(arr, json_object_new_string(ents[i]->d_name));
			(*count)++;
		}
		free(ents[i]);
	}
	free(ents);
	free(dir);
	return arr;
}

/* The kernel command line's IOMMU options ("intel_iommu=on iommu.strict=1"). */
static struct json_object *iommu_cmdline(void)
{
	char *cmdline = read_file("/proc/cmdline", NULL), *tok, *save;
	struct strbuf sb = STRBUF_INIT;

	for (tok = cmdline ? strtok_r(cmdline, " \n", &save) : NULL; tok;
	     tok = strtok_r(NULL, " \n", &save))
		if (str_has_prefix(tok, "iommu") || strstr(tok, "_iommu"))
			strbuf_addf(&sb, "%s%s", sb.len ? " " : "", tok);
	free(cmdline);
	if (!sb.len)
		return json_object_new_string("");
	return json_object_new_string(strbuf_detach(&sb));
}

struct json_object *host_identity(void)
{
	struct json_object *h = json_object_new_object();
	struct json_object *io = json_object_new_object(), *groups;
	struct utsname u;
	char *model = cpu_model();
	int nunits, ngroups;

	uname(&u);
	json_object_object_add(h, "name", json_object_new_string(u.nodename));
	json_object_object_add(h, "kernel", json_object_new_string(u.release));
	json_object_object_add(h, "arch", json_object_new_string(u.machine));
	json_object_object_add(h, "cpus", json_object_new_int(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(h, "mem_bytes", json_object_new_int64(
			       (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE)));
	json_object_object_add(h, "cpu_model", jstr_or_null(model));
	json_object_object_add(io, "units", dir_names("/sys/class/iommu", &nunits));
	groups = dir_names("/sys/kernel/iommu_groups", &ngroups);
	json_object_put(groups);
	json_object_object_add(io, "groups", json_object_new_int(ngroups));
	json_object_object_add(io, "cmdline", iommu_cmdline());
	json_object_object_add(h, "iommu", io);
	free(model);
	return h;
}

int cmd_host_info(int argc, char **argv)
{
	static const char *const usage[] = { "iommubench host-info", NULL };
	static const struct opt opts[] = { OPT_END() };
	static const struct opt_cmd cmd = {
		.name = "iommubench host-info",
		.usage = usage,
		.about = "Print this machine's identity (name, kernel, CPU, IOMMU) as JSON.",
		.opts = opts,
	};
	struct json_object *h;
	int ret = opt_parse(&cmd, argc, argv);

	if (ret < 0)
		return opt_exit(ret);
	h = host_identity();
	ret = json_print(stdout, h) ? EXIT_ERROR : 0;
	json_object_put(h);
	return ret;
}
