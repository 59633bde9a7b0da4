// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	char *buf;

	if (need <= sb->cap)
		return 0;
	if (need < sb->cap * 2)
		need = sb->cap * 2;
	buf = realloc(sb->buf, need);
	if (!buf)
		return -1;
	sb->buf = buf;
	sb->cap = need;
	return 0;
}

int strbuf_addn(struct strbuf *sb, const char *s, size_t n)
{
	if (strbuf_grow(sb, n))
		return -1;
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_adds(struct strbuf *sb, const char *s)
{
	return strbuf_addn(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_addn(sb, &c, 1);
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || strbuf_grow(sb, n))
		return -1;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, n + 1, fmt, ap);
	va_end(ap);
	sb->len += n;
	return 0;
}

char *strbuf_detach(struct strbuf *sb)
{
	char *buf = sb->buf;

	if (!buf)
		buf = strdup("");
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return buf;
}

void strbuf_release(struct strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

char *strtrim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

void fput_markup(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

bool is_plain_name(const char *s)
{
	return *s && !strchr(s, '/') && s[0] != '.';
}

uint64_t str_hash(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0x1f) * 0x100000001b3ULL;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

uint64_t now_ms(void)
{
	return now_ns() / 1000000ull;
}

/* the time now in @fmt (strftime), UTC or local; NULL without memory */
static char *now_str(const char *fmt, bool utc)
{
	char buf[32];
	time_t now = time(NULL);
	struct tm tm;

	strftime(buf, sizeof(buf), fmt,
		 utc ? gmtime_r(&now, &tm) : localtime_r(&now, &tm));
	return strdup(buf);
}

char *iso8601_now(void)
{
	return now_str("%Y-%m-%dT%H:%M:%SZ", true);
}

char *stamp_now(void)
{
	return now_str("%Y%m%d-%H%M%S", false);
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

bool path_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

bool path_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int mkdir_p(const char *path, unsigned int mode)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int rm_rf(const char *path)
{
	if (!path_exists(path))
		return 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *read_file(const char *path, size_t *len)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (strbuf_addn(&sb, buf, n))
			goto err;
	}
	close(fd);
	if (len)
		*len = sb.len;
	return strbuf_detach(&sb);
err:
	n = errno;
	close(fd);
	strbuf_release(&sb);
	errno = n;
	return NULL;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int fd, err;

	if (!tmp)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto err_free;
	if (write_all(fd, data, len) || fsync(fd))
		goto err_close;
	if (close(fd))
		goto err_unlink;
	if (rename(tmp, path))
		goto err_unlink;
	free(tmp);
	return 0;

err_close:
	err = errno;
	close(fd);
	errno = err;
err_unlink:
	err = errno;
	unlink(tmp);
	errno = err;
err_free:
	err = errno;
	free(tmp);
	errno = err;
	return -1;
}

FILE *afile_open(struct afile *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->path = strdup(path);
	if (!a->path)
		return NULL;
	a->f = open_memstream(&a->buf, &a->len);
	if (!a->f) {
		free(a->path);
		a->path = NULL;
	}
	return a->f;
}

static void afile_release(struct afile *a)
{
	free(a->buf);
	free(a->path);
	memset(a, 0, sizeof(*a));
}

int afile_commit(struct afile *a)
{
	bool bad = ferror(a->f);
	int ret = -1, err = ENOMEM;

	/* fclose() sets buf and len, NUL-terminated */
	if (fclose(a->f) || bad)
		goto out;
	ret = write_file_atomic(a->path, a->buf, a->len);
	err = errno;
out:
	afile_release(a);
	errno = err;
	return ret;
}

void afile_abort(struct afile *a)
{
	if (a->f)
		fclose(a->f);
	afile_release(a);
}

int copy_file(const char *src, const char *dst, unsigned int mode)
{
	size_t len;
	char *data = read_file(src, &len);
	int fd, ret;

	if (!data)
		return -1;
	fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		free(data);
		return -1;
	}
	ret = write_all(fd, data, len);
	free(data);
	if (close(fd))
		ret = -1;
	return ret;
}

const char *cache_dir(void)
{
	static char dir[PATH_MAX];
	const char *env;

	if (dir[0])
		return dir;
	env = getenv("IOMMUBENCH_CACHE");
	if (env && *env)
		snprintf(dir, sizeof(dir), "%s", env);
	else if ((env = getenv("XDG_CACHE_HOME")) && *env)
		snprintf(dir, sizeof(dir), "%s/iommubench", env);
	else
		snprintf(dir, sizeof(dir), "%s/.cache/iommubench",
			 getenv("HOME") ? getenv("HOME") : "/root");
	return dir;
}

int lock_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

char *sysfs_path(const char *fmt, ...)
{
	const char *root = getenv("IOMMUBENCH_SYSFS_ROOT");
	char *rel, *path;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	path = xasprintf("%s%s", root ? root : "", rel);
	free(rel);
	return path;
}

int sysfs_write(const char *path, const char *val)
{
	size_t len = strlen(val);
	ssize_t n;
	int fd, err;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do {
		n = write(fd, val, len);
	} while (n < 0 && errno == EINTR);
	err = n < 0 ? errno : (size_t)n != len ? EIO : 0;
	if (close(fd) && !err)
		err = errno;
	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

int readlink_base(const char *path, char *out, size_t len)
{
	char buf[PATH_MAX];
	const char *base;
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0)
		return -1;
	buf[n] = '\0';
	base = strrchr(buf, '/');
	base = base ? base + 1 : buf;
	if (strlen(base) >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, base, strlen(base) + 1);
	return 0;
}

const char *ib_bindir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return BINDIR;
	dir[n] = '\0';
	*strrchr(dir, '/') = '\0';
	return dir;
}

const char *ib_datadir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("IOMMUBENCH_DATADIR");
	char build[PATH_MAX];

	if (dir[0])
		return dir;
	if (env && *env) {
		snprintf(dir, sizeof(dir), "%s", env);
		return dir;
	}
	/* Running uninstalled from the build tree: use the sources. */
	if (realpath(ABS_TOP_BUILDDIR, build) && !strcmp(build, ib_bindir()))
		snprintf(dir, sizeof(dir), "%s", ABS_TOP_SRCDIR);
	else
		snprintf(dir, sizeof(dir), "%s", PKGDATADIR);
	return dir;
}

/* three significant digits, trailing zeros kept: 4.00, 40.0, 400 */
static void sig3(char *buf, size_t len, double v, const char *sfx)
{
	double a = fabs(v);

	snprintf(buf, len, a >= 99.95 ? "%.0f%s" : a >= 9.995 ? "%.1f%s" :
		 "%.2f%s", v, sfx);
}

/* @v scaled by the first of @div (descending) that it reaches */
static void scaled(char *buf, size_t len, double v, const double *div,
		   const char *const *name, size_t n)
{
	size_t i = 0;

	while (i + 1 < n && fabs(v) < div[i] * 0.9995)
		i++;
	sig3(buf, len, v / div[i], name[i]);
}

const char *fmt_unit(char *buf, size_t len, double v, const char *unit)
{
	static const double t_div[] = { 1e9, 1e6, 1e3, 1 };
	static const char *const t_name[] = { " s", " ms", " \xc2\xb5s", " ns" };
	static const double b_div[] = { 1e12, 1e9, 1e6, 1e3, 1 };
	static const char *const b_name[] = { " TB/s", " GB/s", " MB/s",
					      " kB/s", " B/s" };
	static const double si_div[] = { 1e12, 1e9, 1e6, 1e3, 1 };

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (unit && !strcmp(unit, "ns") && fabs(v) < 999.5) {
		/* whole ns: no clock here resolves finer */
		snprintf(buf, len, "%.0f ns", v);
		return buf;
	}
	if (unit && !strcmp(unit, "ns")) {
		scaled(buf, len, v, t_div, t_name, ARRAY_SIZE(t_div));
		return buf;
	}
	if (unit && !strcmp(unit, "B/s")) {
		scaled(buf, len, v, b_div, b_name, ARRAY_SIZE(b_div));
		return buf;
	}
	{
		static const char *const pre[] = { "T", "G", "M", "k", "" };
		const char *names[ARRAY_SIZE(pre)];
		char tmp[ARRAY_SIZE(pre)][40];

		for (size_t i = 0; i < ARRAY_SIZE(pre); i++) {
			snprintf(tmp[i], sizeof(tmp[i]), "%s%s%s", pre[i],
				 unit && *unit ? " " : "", unit ? unit : "");
			names[i] = tmp[i];
		}
		scaled(buf, len, v, si_div, names, ARRAY_SIZE(si_div));
	}
	return buf;
}

size_t str_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

void fput_cell(FILE *f, const char *s, int width)
{
	size_t w = str_width(s);
	size_t want = (size_t)(width < 0 ? -(long)width : width);

	if (width < 0)
		fputs(s, f);
	for (; w < want; w++)
		fputc(' ', f);
	if (width >= 0)
		fputs(s, f);
}

void fmt_duration(char *buf, size_t len, double s)
{
	if (s < 60)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, len, "%dm%02ds", (int)s / 60, (int)s % 60);
	else
		snprintf(buf, len, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
}

void fmt_clock_in(char *buf, size_t len, double s)
{
	time_t t = time(NULL) + (time_t)s;
	struct tm tm;

	if (localtime_r(&t, &tm))
		strftime(buf, len, s < 86400 ? "%H:%M" : "%a %H:%M", &tm);
	else
		snprintf(buf, len, "?");
}

int parse_duration(const char *s, uint64_t unit_ns, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
		{ "s", 1000000000 },
	};
	double v, r;
	char *end;
	size_t i;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || isspace((unsigned char)*s))
		return -1;
	if (*end) {
		for (i = 0; i < ARRAY_SIZE(units); i++)
			if (!strcmp(end, units[i].suffix))
				break;
		if (i == ARRAY_SIZE(units))
			return -1;
		unit_ns = units[i].ns;
	}
	/* rounded to the nearest ns (v >= 0) */
	r = v * unit_ns + 0.5;
	if (r > (double)UINT64_MAX / 2)
		return -1;
	*ns = (uint64_t)r;
	return 0;
}

int parse_duration_list(const char *s, uint64_t unit_ns, uint64_t max_ns,
			uint64_t *out, unsigned int max_n, unsigned int *n)
{
	char *copy = strdup(s), *tok, *save = NULL;
	int ret = -1;

	*n = 0;
	if (!copy)
		return -1;
	/* "1ms,,2ms" and a trailing comma are mistakes, not empty lists */
	if (!*copy || *copy == ',' || strstr(copy, ",,") ||
	    copy[strlen(copy) - 1] == ',')
		goto out;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (*n == max_n || parse_duration(tok, unit_ns, &v) ||
		    v > max_ns)
			goto out;
		for (unsigned int i = 0; i < *n; i++)
			if (out[i] == v)
				goto out;
		out[(*n)++] = v;
	}
	ret = 0;
out:
	free(copy);
	return ret;
}
