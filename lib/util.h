/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers shared by every program: strings, files, time.
 * Functions return -1 and set errno on failure; none of them exits.
 */
#ifndef IB_UTIL_H
#define IB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
};

#define STRBUF_INIT { NULL, 0, 0 }

int strbuf_addn(struct strbuf *sb, const char *s, size_t n);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the buffer to the caller (never NULL on success); @sb is reset. */
char *strbuf_detach(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

/* asprintf() that returns the string, or NULL on allocation failure. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *strtrim(char *s);
bool str_has_prefix(const char *s, const char *prefix);
bool str_has_suffix(const char *s, const char *suffix);
/* A name usable as one path component: not empty, no '/', no leading '.'. */
bool is_plain_name(const char *s);

/*
 * str_hash - FNV-1a of @s continued from @h (STR_HASH_INIT to start), with
 * a terminator mixed in so that hashing "ab" then "c" differs from "a"
 * then "bc".  For hash tables and short content tags, not for security.
 */
#define STR_HASH_INIT	14695981039346656037ULL
uint64_t str_hash(const char *s, uint64_t h);

/*
 * fput_markup - write @s to @f with <, >, & and " as XML/HTML entities
 * (NULL writes nothing).
 */
void fput_markup(FILE *f, const char *s);

/*
 * parse_duration - "1.5ms", "250us", "2" (in @unit_ns) -> *@ns.  Units: ns,
 * us, ms, s.  -1 for anything else, a negative value or one that does not
 * fit.
 */
int parse_duration(const char *s, uint64_t unit_ns, uint64_t *ns);
/*
 * parse_duration_list - "0,100us,1ms" -> @out[0..*@n): at most @max_n
 * distinct durations, none above @max_ns.  -1 otherwise (also when empty).
 */
int parse_duration_list(const char *s, uint64_t unit_ns, uint64_t max_ns,
			uint64_t *out, unsigned int max_n, unsigned int *n);

uint64_t now_ms(void);
/* The current UTC time as "2026-11-21T15:26:47Z"; caller frees. */
char *iso8601_now(void);
/* Local time as YYYYmmdd-HHMMSS, the stamp in run and flow names. */
char *stamp_now(void);
uint64_t now_ns(void);
void sleep_ms(unsigned int ms);

bool path_exists(const char *path);
bool path_is_dir(const char *path);
int mkdir_p(const char *path, unsigned int mode);
int rm_rf(const char *path);
/* Read a whole file; *@len (optional) gets its size.  Caller frees. */
char *read_file(const char *path, size_t *len);
/* Write @len bytes to @path through a temporary file and rename(2). */
int write_file_atomic(const char *path, const void *data, size_t len);
int copy_file(const char *src, const char *dst, unsigned int mode);

/*
 * struct afile - a file written through a stdio stream and put in place
 * only when complete: afile_open() hands out a stream that collects the
 * text in memory, afile_commit() writes it with write_file_atomic()
 * (temporary file in the same directory, fsync, rename).  A reader never
 * sees a partial file, and a full disk is an error (ENOSPC) instead of a
 * truncated file.
 */
struct afile {
	FILE *f;
	char *buf;
	size_t len;
	char *path;
};

/* The stream for @path, or NULL with errno set. */
FILE *afile_open(struct afile *a, const char *path);
/*
 * Close the stream and write the file; -1 with errno set (ENOMEM for an
 * error of the stream itself) leaves @path as it was.  Releases @a.
 */
int afile_commit(struct afile *a);
/* Drop what was written, leave @path as it was; releases @a. */
void afile_abort(struct afile *a);

/*
 * The per-user cache holding kernels, disks and run directories:
 * $IOMMUBENCH_CACHE, else $XDG_CACHE_HOME/iommubench, else
 * ~/.cache/iommubench.  Returned string is static.
 */
const char *cache_dir(void);

/* Take an exclusive flock(2) on @path (created if needed); returns the fd. */
int lock_path(const char *path);

/*
 * sysfs_path - a path under /sys (or any absolute path) built like printf,
 * prefixed with $IOMMUBENCH_SYSFS_ROOT when set, so tests can run on a
 * fake tree.  Every sysfs access of the library goes through it.  Caller
 * frees; NULL (errno ENOMEM) on failure.
 */
char *sysfs_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * sysfs_write - write @val to the attribute @path in one write(2), as
 * sysfs wants it; the attribute must exist (no O_CREAT).  A short write is
 * EIO; the kernel's error comes back in errno.
 */
int sysfs_write(const char *path, const char *val);
/*
 * readlink_base - the last component of the target of symlink @path
 * ("nvme" for ".../drivers/nvme") into @out.
 */
int readlink_base(const char *path, char *out, size_t len);

/*
 * Where the suite's own files live: the source tree when running from the
 * build tree, else $(pkgdatadir).  Both static strings.
 */
const char *ib_datadir(void);
/* Directory of the running executable (sibling programs live there). */
const char *ib_bindir(void);

/*
 * fmt_unit - @v of @unit for a reader, 3 significant digits: ns as
 * µs/ms/s (whole ns below 1 µs), B/s as B/s/kB/s/MB/s/GB/s/TB/s (decimal), other units (or
 * none, NULL or "") with an SI prefix ("176k ops/s", "1.62k").  "-" for
 * NaN and infinities.  Returns @buf.
 */
const char *fmt_unit(char *buf, size_t len, double v, const char *unit);
/* The columns @s takes on screen: UTF-8 continuation bytes take none. */
size_t str_width(const char *s);
/*
 * fput_cell - @s in @width columns of screen (UTF-8 aware, so "µs" lines
 * up): right-aligned, or left-aligned when @width is negative.  Never cuts.
 */
void fput_cell(FILE *f, const char *s, int width);

/* @s seconds as "42s", "3m07s" or "2h05m", for progress lines. */
void fmt_duration(char *buf, size_t len, double s);
/* The local time @s seconds from now, "14:05" (or "Tue 14:05"), for ETAs. */
void fmt_clock_in(char *buf, size_t len, double s);

#endif /* IB_UTIL_H */
