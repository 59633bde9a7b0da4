// SPDX-License-Identifier: GPL-2.0
/*
 * The matrix file format (fio-like INI, documented in docs/matrix.md):
 *
 *   [global]                     axes and run settings
 *   kernels = debian:6.1 debian:6.12
 *   iommu = intel
 *   policies = strict lazy identity lazy@sysfs
 *   repetitions = 5
 *
 *   [randread]                   one workload per other section
 *   type = fio
 *   rw = randread
 *   ...
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iommubench/dmabench.h>

#include "log.h"
#include "matrix.h"
#include "util.h"

/* Keys a workload section may set, per type (NULL-terminated). */
static const char *const fio_keys[] = {
	"rw", "bs", "iodepth", "numjobs", "ioengine", "runtime", "ramp_time",
	"size", "template", NULL,
};
static const char *const dmabench_keys[] = { "args", "device", NULL };
/* dmabench --mode stale --delays ... --trials ... (device: host mode) */
static const char *const stale_keys[] = { "delays", "trials", "device", NULL };

static const char *const type_names[] = {
	[WORKLOAD_FIO] = "fio",
	[WORKLOAD_DMABENCH] = "dmabench",
	[WORKLOAD_STALE] = "stale",
};

const char *workload_type_name(enum workload_type type)
{
	return type_names[type];
}

static const char *const iommu_names[] = {
	"intel", "intel-cm", "amd", "virtio", NULL,
};

/* More keys than any section knows: [global] knows 13. */
#define MAX_SECTION_KEYS	32

struct parser {
	const char *path;
	int line;			/* 0: the error is about the whole file */
	const char *section;		/* "global" or a workload's name */
	struct {
		const char *key;	/* points into the text being parsed */
		int line;
	} seen[MAX_SECTION_KEYS];	/* keys of the current section */
	unsigned int nseen;
	struct workload *w;		/* the section's workload, or NULL */
	bool in_global;
	int global_line;		/* where [global] is, 0: not yet */
	bool empty;			/* nothing but comments so far */
};

static int perr(const struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int perr(const struct parser *p, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if (p->line > 0)
		strbuf_addf(&sb, "%s:%d: %s", p->path, p->line, msg);
	else
		strbuf_addf(&sb, "%s: %s", p->path, msg);
	pr_err("%s", sb.buf);
	strbuf_release(&sb);
	free(msg);
	return -1;
}

static bool in_list(const char *const list[], const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/*
 * Split @val on white space and commas into @out (strdup'ed), at most
 * MATRIX_MAX_AXIS values, none twice: a value given twice would give two
 * cells the same id.  *@n counts what is in @out, on error too, so that
 * the caller frees it.  Returns 0 or -1.
 */
static int split(const struct parser *p, const char *key, char *val,
		 char **out, unsigned int *n)
{
	char *save, *tok;

	*n = 0;
	for (tok = strtok_r(val, " \t,", &save); tok;
	     tok = strtok_r(NULL, " \t,", &save)) {
		if (*n == MATRIX_MAX_AXIS)
			return perr(p, "%s: more than %u values", key,
				    MATRIX_MAX_AXIS);
		for (unsigned int i = 0; i < *n; i++)
			if (!strcmp(out[i], tok))
				return perr(p, "%s: '%s' given twice", key, tok);
		out[(*n)++] = strdup(tok);
	}
	if (!*n)
		return perr(p, "%s: no value", key);
	return 0;
}

/* "debian:6.1" -> "debian-6.1": ids are file names. */
static char *id_part(const char *s)
{
	char *d = strdup(s);

	for (char *c = d; c && *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '-' &&
		    *c != '_')
			*c = '-';
	return d;
}

/* Two kernel specs that differ only where ids have a '-' share cell ids. */
static int kernel_ids_differ(const struct parser *p, const struct matrix *m)
{
	for (unsigned int i = 0; i < m->nkernels; i++) {
		char *a = id_part(m->kernels[i]);

		for (unsigned int j = 0; j < i; j++) {
			char *b = id_part(m->kernels[j]);
			bool same = !strcmp(a, b);

			free(b);
			if (same) {
				perr(p, "kernels: '%s' and '%s' give the same cell ids (%s)",
				     m->kernels[j], m->kernels[i], a);
				free(a);
				return -1;
			}
		}
		free(a);
	}
	return 0;
}

static int parse_policies(const struct parser *p, struct matrix *m, char *val)
{
	char *words[MATRIX_MAX_AXIS];
	unsigned int n;
	int ret = split(p, "policies", val, words, &n);

	for (unsigned int i = 0; !ret && i < n; i++) {
		struct policy_axis *pa = &m->policies[m->npolicies];
		char *at = strchr(words[i], '@');

		if (at)
			*at = '\0';
		if (policy_parse(words[i], &pa->policy)) {
			ret = perr(p, "policies: '%s' is not strict, lazy or identity",
				   words[i]);
			break;
		}
		pa->mechanism = strdup(at ? at + 1 : "auto");
		m->npolicies++;
		if (strcmp(pa->mechanism, "auto") &&
		    strcmp(pa->mechanism, "cmdline") &&
		    strcmp(pa->mechanism, "sysfs")) {
			ret = perr(p, "policies: mechanism '%s' is not auto, cmdline or sysfs",
				   pa->mechanism);
			break;
		}
		/* "strict" and "strict@auto" are one configuration. */
		for (unsigned int j = 0; j < m->npolicies - 1; j++) {
			if (m->policies[j].policy == pa->policy &&
			    !strcmp(m->policies[j].mechanism, pa->mechanism)) {
				ret = perr(p, "policies: %s@%s given twice",
					   policy_name(pa->policy), pa->mechanism);
				break;
			}
		}
	}
	for (unsigned int i = 0; i < n; i++)
		free(words[i]);
	return ret;
}

/*
 * dmabench options a matrix may not pass: the runner gives dmabench the
 * device under test whose policy it verified, and never skips dmabench's
 * safety checks.  getopt_long() takes any unambiguous prefix of a long
 * option ("--forc"), so every prefix is refused.
 */
static const struct {
	const char *name;
	char short_opt;
} dmabench_denied[] = {
	{ "device", 'd' },
	{ "force", 'f' },
};

/*
 * dmabench's short options that take an argument (dmabench-cli.c's
 * short_opts): in "-rfrom-device" the rest of the word is the argument.
 */
static const char dmabench_short_with_arg[] = "dtTnwcNrMmesDb";

/* The dmabench option @word sets that a matrix may not, or NULL. */
static const char *dmabench_denied_opt(const char *word)
{
	if (word[0] != '-' || !word[1])
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dmabench_denied); i++) {
		const char *name = dmabench_denied[i].name;

		if (word[1] == '-') {
			size_t len = strcspn(word + 2, "=");

			if (len && len <= strlen(name) &&
			    !strncmp(word + 2, name, len))
				return name;
			continue;
		}
		/* A cluster of short options: "-Sf", "-s4096". */
		for (const char *c = word + 1; *c; c++) {
			if (*c == dmabench_denied[i].short_opt)
				return name;
			if (strchr(dmabench_short_with_arg, *c))
				break;
		}
	}
	return NULL;
}

static int dmabench_args_check(const struct parser *p, const char *val)
{
	char *copy = strdup(val), *save, *word;
	const char *name = NULL;

	/* The runner splits args on spaces (agent.c), as here. */
	for (word = strtok_r(copy, " ", &save); word;
	     word = strtok_r(NULL, " ", &save)) {
		name = dmabench_denied_opt(word);
		if (name)
			break;
	}
	if (name)
		perr(p, "args: '%s' is dmabench's --%s: the runner passes the device under test it verified, and never --force",
		     word, name);
	free(copy);
	return name ? -1 : 0;
}

static int parse_uint(const struct parser *p, const char *key,
		      const char *val, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(val, &end, 10);
	if (errno || *end || end == val || v < min || v > max)
		return perr(p, "%s: '%s' is not a number from %u to %u", key,
			    val, min, max);
	*out = v;
	return 0;
}

static int parse_bool(const struct parser *p, const char *key,
		      const char *val, bool *out)
{
	if (!strcmp(val, "on") || !strcmp(val, "yes") || !strcmp(val, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(val, "off") || !strcmp(val, "no") || !strcmp(val, "0")) {
		*out = false;
		return 0;
	}
	return perr(p, "%s: '%s' is not on or off", key, val);
}

static int global_key(struct parser *p, struct matrix *m, const char *key,
		      char *val)
{
	if (!strcmp(key, "kernels")) {
		if (split(p, key, val, m->kernels, &m->nkernels))
			return -1;
		return kernel_ids_differ(p, m);
	} else if (!strcmp(key, "iommu")) {
		if (split(p, key, val, m->iommus, &m->niommus))
			return -1;
		for (unsigned int i = 0; i < m->niommus; i++)
			if (!in_list(iommu_names, m->iommus[i]))
				return perr(p, "iommu: '%s' is not intel, intel-cm, amd or virtio",
					    m->iommus[i]);
	} else if (!strcmp(key, "policies")) {
		return parse_policies(p, m, val);
	} else if (!strcmp(key, "repetitions")) {
		return parse_uint(p, key, val, 1, 1000, &m->repetitions);
	} else if (!strcmp(key, "seed")) {
		char *end;

		errno = 0;
		m->seed = strtoull(val, &end, 0);
		if (errno || *end || end == val)
			return perr(p, "seed: '%s' is not a number", val);
		m->seed_set = true;
	} else if (!strcmp(key, "tracer")) {
		return parse_bool(p, key, val, &m->tracer);
	} else if (!strcmp(key, "tracer_paths")) {
		for (const char *c = val; *c; c++)
			if (!isalnum((unsigned char)*c) && *c != '_' && *c != ',')
				return perr(p, "tracer_paths: '%s' is not a comma-separated list of paths",
					    val);
		free(m->tracer_paths);
		m->tracer_paths = strdup(val);
	} else if (!strcmp(key, "disk")) {
		if (strcmp(val, "nvme") && strcmp(val, "virtio"))
			return perr(p, "disk: '%s' is not nvme or virtio", val);
		free(m->disk);
		m->disk = strdup(val);
	} else if (!strcmp(key, "cpus")) {
		m->cpus_line = p->line;
		return parse_uint(p, key, val, 1, 64, &m->cpus);
	} else if (!strcmp(key, "clock")) {
		if (ib_clock_parse(val, &m->clock))
			return perr(p, "clock: '%s' is not host, icount or icount:SHIFT (SHIFT 0-%d)",
				    val, IB_ICOUNT_MAX_SHIFT);
		m->clock_line = p->line;
	} else if (!strcmp(key, "mem")) {
		return parse_uint(p, key, val, 256, 1 << 20, &m->mem_mb);
	} else if (!strcmp(key, "timeout")) {
		return parse_uint(p, key, val, 10, 86400, &m->boot_timeout_s);
	} else if (!strcmp(key, "max_cells")) {
		return parse_uint(p, key, val, 1, 1000000, &m->max_cells);
	} else if (!strcmp(key, "max_boots")) {
		return parse_uint(p, key, val, 1, 1000000, &m->max_boots);
	} else {
		return perr(p, "unknown key '%s' in [global]", key);
	}
	return 0;
}

static int workload_key(struct parser *p, struct workload *w, const char *key,
			const char *val)
{
	const char *const *allowed = w->type == WORKLOAD_FIO ? fio_keys :
				     w->type == WORKLOAD_STALE ? stale_keys :
				     dmabench_keys;

	if (!strcmp(key, "type")) {
		if (!strcmp(val, "fio"))
			w->type = WORKLOAD_FIO;
		else if (!strcmp(val, "dmabench"))
			w->type = WORKLOAD_DMABENCH;
		else if (!strcmp(val, "stale"))
			w->type = WORKLOAD_STALE;
		else
			return perr(p, "type: '%s' is not fio, dmabench or stale",
				    val);
		if (w->nparams)
			return perr(p, "type must come first in [%s]", w->name);
		return 0;
	}
	if (!strcmp(key, "tracer")) {
		bool on;

		if (parse_bool(p, key, val, &on))
			return -1;
		w->tracer = on;
		return 0;
	}
	if (!in_list(allowed, key))
		return perr(p, "unknown key '%s' for a %s workload in [%s]", key,
			    type_names[w->type], w->name);
	if (w->nparams == MATRIX_MAX_PARAMS)
		return perr(p, "too many keys in [%s]", w->name);
	/* Values reach a shell (fio's environment, dmabench's argv). */
	for (const char *c = val; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr(" -_.:=,/%@+", *c))
			return perr(p, "%s: character '%c' is not allowed", key, *c);
	if (w->type == WORKLOAD_DMABENCH && !strcmp(key, "args") &&
	    dmabench_args_check(p, val))
		return -1;
	if (w->type == WORKLOAD_STALE && !strcmp(key, "delays")) {
		uint64_t d[DMABENCH_STALE_MAX_DELAYS];
		unsigned int n;

		if (parse_duration_list(val, 1, DMABENCH_STALE_MAX_LEAD_NS, d,
					DMABENCH_STALE_MAX_DELAYS, &n))
			return perr(p, "delays: '%s' is not a list of distinct durations of 0 to 90ms (at most %d)",
				    val, DMABENCH_STALE_MAX_DELAYS);
	}
	if (w->type == WORKLOAD_STALE && !strcmp(key, "trials")) {
		unsigned int n;

		if (parse_uint(p, key, val, 1, DMABENCH_STALE_MAX_TRIALS, &n))
			return -1;
	}
	w->key[w->nparams] = strdup(key);
	w->val[w->nparams++] = strdup(val);
	return 0;
}

const char *workload_param(const struct workload *w, const char *key,
			   const char *def)
{
	for (unsigned int i = 0; i < w->nparams; i++)
		if (!strcmp(w->key[i], key))
			return w->val[i];
	return def;
}

bool matrix_needs_testdev(const struct matrix *m)
{
	for (unsigned int i = 0; i < m->nworkloads; i++)
		if (m->workloads[i].type == WORKLOAD_DMABENCH)
			return true;
	return false;
}

bool matrix_needs_edu(const struct matrix *m)
{
	for (unsigned int i = 0; i < m->nworkloads; i++)
		if (m->workloads[i].type == WORKLOAD_STALE)
			return true;
	return false;
}

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

/*
 * A key set twice in one section is an error: appending to an axis or
 * keeping one of two values silently would run another plan than the
 * file reads as.
 */
static int note_key(struct parser *p, const char *key)
{
	for (unsigned int i = 0; i < p->nseen; i++)
		if (!strcmp(p->seen[i].key, key))
			return perr(p, "'%s' set twice in [%s] (first on line %d)",
				    key, p->section, p->seen[i].line);
	if (p->nseen == MAX_SECTION_KEYS)
		return perr(p, "more than %d keys in [%s]", MAX_SECTION_KEYS,
			    p->section);
	p->seen[p->nseen].key = key;
	p->seen[p->nseen++].line = p->line;
	return 0;
}

/*
 * The plan's size, checked before it is expanded: a plan of a million
 * cells takes minutes and gigabytes just to be listed, and days to run.
 */
static int plan_size_check(const struct matrix *m)
{
	struct parser p = { .path = m->path };
	uint64_t boots = (uint64_t)m->nkernels * m->niommus * m->npolicies *
			 m->repetitions;
	uint64_t cells = boots * m->nworkloads;

	if (boots > m->max_boots)
		return perr(&p, "the plan has %llu boots (%llu cells), more than max_boots = %u: fewer axes or repetitions, or raise max_boots in [global]",
			    (unsigned long long)boots,
			    (unsigned long long)cells, m->max_boots);
	if (cells > m->max_cells)
		return perr(&p, "the plan has %llu cells (%llu boots), more than max_cells = %u: fewer axes, workloads or repetitions, or raise max_cells in [global]",
			    (unsigned long long)cells,
			    (unsigned long long)boots, m->max_cells);
	return 0;
}

/* A "[name]" line (brackets removed): [global] or a new workload. */
static int parse_section(struct parser *p, struct matrix *m, char *name)
{
	struct workload *w;

	p->nseen = 0;
	p->section = name;
	p->in_global = !strcmp(name, "global");
	p->w = NULL;
	if (p->in_global) {
		if (p->global_line)
			return perr(p, "[global] appears twice (first on line %d)",
				    p->global_line);
		p->global_line = p->line;
		return 0;
	}
	if (!valid_name(name))
		return perr(p, "[%s]: a workload name uses letters, digits, '-' and '_'",
			    name);
	for (unsigned int i = 0; i < m->nworkloads; i++)
		if (!strcmp(m->workloads[i].name, name))
			return perr(p, "[%s] appears twice (first on line %d)",
				    name, m->workloads[i].line);
	if (m->nworkloads == MATRIX_MAX_WORKLOADS)
		return perr(p, "more than %d workloads", MATRIX_MAX_WORKLOADS);
	w = &m->workloads[m->nworkloads++];
	w->name = strdup(name);
	w->line = p->line;
	w->type = WORKLOAD_FIO;
	w->tracer = true;	/* the [global] tracer decides */
	p->w = w;
	return 0;
}

/* One line of the file, trimmed: a comment, a section or key = value. */
static int parse_line(struct parser *p, struct matrix *m, char *line)
{
	char *eq, *key, *val;

	if (!*line || *line == '#' || *line == ';')
		return 0;
	p->empty = false;
	if (*line == '[') {
		char *end = strchr(line, ']');

		if (!end || end[1])
			return perr(p, "expected [section] or key = value");
		*end = '\0';
		return parse_section(p, m, line + 1);
	}
	eq = strchr(line, '=');
	if (!eq)
		return perr(p, "expected [section] or key = value");
	*eq = '\0';
	key = strtrim(line);
	val = strtrim(eq + 1);
	if (!*key || !*val)
		return perr(p, "'%s' needs a value", key);
	if (!p->in_global && !p->w)
		return perr(p, "'%s' outside a section: start with [global]", key);
	if (note_key(p, key))
		return -1;
	return p->in_global ? global_key(p, m, key, val) :
	       workload_key(p, p->w, key, val);
}

static void matrix_defaults(struct matrix *m)
{
	m->repetitions = 5;
	m->cpus = 2;
	m->mem_mb = 1024;
	m->boot_timeout_s = 900;
	m->max_cells = MATRIX_MAX_CELLS;
	m->max_boots = MATRIX_MAX_BOOTS;
	m->disk = strdup("nvme");
}

/* The icount clock runs one vCPU: cpus follows, or is refused if set higher. */
static int clock_cpus(const char *path, struct matrix *m)
{
	if (m->clock.icount && m->cpus_line && m->cpus > 1) {
		pr_err("%s:%d: cpus = %u with clock = icount: QEMU counts instructions on one vCPU only (with -smp 2 the guest hangs at SMP bring-up); set cpus = 1",
		       path, m->cpus_line, m->cpus);
		return -1;
	}
	m->cpus = m->clock.icount ? 1 : m->cpus_line ? m->cpus : 2;
	return 0;
}

/* After the last line: defaults of the axes, and what the file as a whole needs. */
static int matrix_finish(struct parser *p, struct matrix *m)
{
	p->line = 0;
	if (p->empty)
		return perr(p, "the file is empty: a matrix needs [global] with policies = ... and a workload section");
	if (!m->nkernels)
		m->kernels[m->nkernels++] = strdup("debian:6.1");
	if (!m->niommus)
		m->iommus[m->niommus++] = strdup("intel");
	if (!m->npolicies) {
		p->line = p->global_line;
		return perr(p, "[global] needs policies = strict lazy identity (or some of them)");
	}
	if (!m->nworkloads)
		return perr(p, "no workload: add a [name] section with type = fio, dmabench or stale");
	for (unsigned int i = 0; i < m->nworkloads; i++) {
		struct workload *w = &m->workloads[i];

		w->tracer = w->tracer && m->tracer;
		if (w->type == WORKLOAD_DMABENCH && !workload_param(w, "args", NULL)) {
			p->line = w->line;
			return perr(p, "[%s]: a dmabench workload needs args = ...",
				    w->name);
		}
	}
	if (plan_size_check(m))
		return -1;
	return clock_cpus(p->path, m);
}

int matrix_parse(const char *path, struct matrix *m)
{
	struct parser p = { .path = path, .empty = true };
	char *text, *line, *next, *nul;
	size_t len;
	int ret = -1;

	memset(m, 0, sizeof(*m));
	text = read_file(path, &len);
	if (!text) {
		pr_err("%s: %s", path, strerror(errno));
		return -1;
	}
	m->path = strdup(path);
	nul = memchr(text, '\0', len);
	if (nul) {
		/* Everything after it would be ignored. */
		p.line = 1;
		for (const char *c = text; c < nul; c++)
			p.line += *c == '\n';
		perr(&p, "a NUL byte: a matrix file is text");
		goto out;
	}
	m->text = strdup(text);
	matrix_defaults(m);
	for (line = text; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		p.line++;
		if (parse_line(&p, m, strtrim(line)))
			goto out;
	}
	ret = matrix_finish(&p, m);
out:
	free(text);
	if (ret)
		matrix_free(m);
	return ret;
}

int matrix_set_clock(struct matrix *m, const struct ib_clock *clock)
{
	struct ib_clock old = m->clock;

	m->clock = *clock;
	if (clock_cpus(m->path, m)) {
		m->clock = old;
		return -1;
	}
	return 0;
}

void matrix_free(struct matrix *m)
{
	for (unsigned int i = 0; i < m->nkernels; i++)
		free(m->kernels[i]);
	for (unsigned int i = 0; i < m->niommus; i++)
		free(m->iommus[i]);
	for (unsigned int i = 0; i < m->npolicies; i++)
		free(m->policies[i].mechanism);
	for (unsigned int i = 0; i < m->nworkloads; i++) {
		free(m->workloads[i].name);
		for (unsigned int j = 0; j < m->workloads[i].nparams; j++) {
			free(m->workloads[i].key[j]);
			free(m->workloads[i].val[j]);
		}
	}
	free(m->disk);
	free(m->tracer_paths);
	free(m->path);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

/* splitmix64: small, seedable, and the same everywhere. */
static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void shuffle(unsigned int *v, unsigned int n, uint64_t *state)
{
	for (unsigned int i = n; i > 1; i--) {
		unsigned int j = next_rand(state) % i, t = v[i - 1];

		v[i - 1] = v[j];
		v[j] = t;
	}
}

struct json_object *matrix_plan(const struct matrix *m, uint64_t seed)
{
	unsigned int nconf = m->nkernels * m->niommus * m->npolicies;
	unsigned int order[MATRIX_MAX_AXIS * MATRIX_MAX_AXIS * MATRIX_MAX_AXIS];
	unsigned int worder[MATRIX_MAX_WORKLOADS];
	struct json_object *plan, *boots;
	uint64_t state = seed;
	unsigned int nboot = 0;

	/* Axes replaced after parsing (run --kernel) may have grown it. */
	if (plan_size_check(m))
		return NULL;
	plan = json_object_new_object();
	boots = json_object_new_array();

	for (unsigned int rep = 1; rep <= m->repetitions; rep++) {
		for (unsigned int i = 0; i < nconf; i++)
			order[i] = i;
		shuffle(order, nconf, &state);
		for (unsigned int c = 0; c < nconf; c++) {
			unsigned int k = order[c] / (m->niommus * m->npolicies);
			unsigned int io = order[c] / m->npolicies % m->niommus;
			const struct policy_axis *pa =
				&m->policies[order[c] % m->npolicies];
			struct json_object *b = json_object_new_object();
			struct json_object *cells = json_object_new_array();
			char *kpart = id_part(m->kernels[k]);
			char *conf = xasprintf("%s-%s-%s%s%s", kpart, m->iommus[io],
					       policy_name(pa->policy),
					       strcmp(pa->mechanism, "auto") ? "@" : "",
					       strcmp(pa->mechanism, "auto") ?
					       pa->mechanism : "");

			char bid[16];

			snprintf(bid, sizeof(bid), "b%03u", ++nboot);
			json_object_object_add(b, "id", json_object_new_string(bid));
			json_object_object_add(b, "label", json_object_new_string(conf));
			json_object_object_add(b, "kernel", json_object_new_string(m->kernels[k]));
			json_object_object_add(b, "iommu", json_object_new_string(m->iommus[io]));
			json_object_object_add(b, "policy", json_object_new_string(
					       policy_name(pa->policy)));
			json_object_object_add(b, "mechanism",
					       json_object_new_string(pa->mechanism));
			json_object_object_add(b, "rep", json_object_new_int(rep));
			for (unsigned int i = 0; i < m->nworkloads; i++)
				worder[i] = i;
			shuffle(worder, m->nworkloads, &state);
			for (unsigned int i = 0; i < m->nworkloads; i++) {
				const struct workload *w = &m->workloads[worder[i]];
				struct json_object *cell = json_object_new_object();
				char *id = xasprintf("%s-%s-r%u", conf, w->name, rep);

				json_object_object_add(cell, "id", json_object_new_string(id));
				json_object_object_add(cell, "workload",
						       json_object_new_string(w->name));
				json_object_array_add(cells, cell);
				free(id);
			}
			json_object_object_add(b, "cells", cells);
			json_object_array_add(boots, b);
			free(kpart);
			free(conf);
		}
	}
	json_object_object_add(plan, "seed", json_object_new_uint64(seed));
	json_object_object_add(plan, "boots", boots);
	return plan;
}
