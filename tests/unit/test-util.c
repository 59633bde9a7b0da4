// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"
#include "util.h"

static void test_strbuf(void)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	strbuf_adds(&sb, "abc");
	strbuf_addch(&sb, '-');
	strbuf_addf(&sb, "%d:%s", 42, "x");
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'y');
	ok(sb.len == 1008 && !strncmp(sb.buf, "abc-42:xyy", 10),
	   "strbuf appends and grows (len %zu)", sb.len);
	s = strbuf_detach(&sb);
	ok(sb.buf == NULL && sb.len == 0 && strlen(s) == 1008,
	   "strbuf_detach hands the buffer over and resets");
	free(s);
	s = strbuf_detach(&sb);
	ok(s && !*s, "detaching an empty strbuf gives an empty string");
	free(s);
}

static void test_strings(void)
{
	char buf[] = "  \t padded value \n";

	ok(!strcmp(strtrim(buf), "padded value"), "strtrim strips both ends");
	ok(str_has_prefix("debian:6.1", "debian:") &&
	   !str_has_prefix("deb", "debian:"), "str_has_prefix");
	ok(str_has_suffix("nvme.ko.xz", ".xz") &&
	   !str_has_suffix("xz", ".ko.xz"), "str_has_suffix");
	/* FNV-1a of "a" is 0xaf63dc4c8601ec8c; then the terminator */
	ok(str_hash("a", STR_HASH_INIT) ==
	   (0xaf63dc4c8601ec8cULL ^ 0x1f) * 0x100000001b3ULL,
	   "str_hash is FNV-1a with a terminator");
	ok(str_hash("c", str_hash("ab", STR_HASH_INIT)) !=
	   str_hash("bc", str_hash("a", STR_HASH_INIT)),
	   "str_hash of a sequence depends on where the strings split");
	ok(is_plain_name("knob-6.1") && !is_plain_name("") &&
	   !is_plain_name("a/b") && !is_plain_name(".hidden") &&
	   !is_plain_name(".."), "is_plain_name");
}

static void test_files(void)
{
	char tmpl[] = "/tmp/ib-test-util-XXXXXX";
	char *dir = mkdtemp(tmpl), *deep, *file, *back;
	size_t len;
	int fd1;

	ok(dir != NULL, "mkdtemp");
	deep = xasprintf("%s/a/b/c", dir);
	ok(!mkdir_p(deep, 0755) && path_is_dir(deep), "mkdir_p makes parents");
	ok(!mkdir_p(deep, 0755), "mkdir_p on an existing directory succeeds");
	file = xasprintf("%s/a/b/file", dir);
	ok(!write_file_atomic(file, "hello\0world", 11), "write_file_atomic");
	back = read_file(file, &len);
	ok(back && len == 11 && !memcmp(back, "hello\0world", 11),
	   "read_file returns the bytes written, NULs included");
	free(back);
	ok(!write_file_atomic(file, "x", 1) && (back = read_file(file, &len)) &&
	   len == 1, "write_file_atomic replaces the file");
	free(back);
	errno = 0;
	ok(!read_file("/nonexistent/ib", NULL) && errno == ENOENT,
	   "read_file of a missing file fails with ENOENT");
	fd1 = lock_path(file);
	ok(fd1 >= 0, "lock_path takes the lock");
	close(fd1);
	ok(!rm_rf(dir) && !path_exists(dir), "rm_rf removes the tree");
	ok(!rm_rf(dir), "rm_rf of a missing path succeeds");
	free(deep);
	free(file);
}

/* the number of entries of @dir other than . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	if (d)
		closedir(d);
	return d ? n : -1;
}

static void test_afile(void)
{
	char tmpl[] = "/tmp/ib-test-afile-XXXXXX";
	char *dir = mkdtemp(tmpl), *file, *missing, *back;
	struct afile a;
	FILE *f;

	file = xasprintf("%s/out.txt", dir);
	missing = xasprintf("%s/no/such/dir/out.txt", dir);
	write_file_atomic(file, "old\n", 4);
	f = afile_open(&a, file);
	fprintf(f, "new %d\n", 1);
	back = read_file(file, NULL);
	ok(back && !strcmp(back, "old\n"),
	   "afile: nothing reaches the file before the commit");
	free(back);
	ok(!afile_commit(&a) && (back = read_file(file, NULL)) &&
	   !strcmp(back, "new 1\n"), "afile_commit puts the text in place");
	free(back);
	ok(entries(dir) == 1, "afile_commit leaves no temporary file");
	f = afile_open(&a, file);
	fputs("half", f);
	afile_abort(&a);
	back = read_file(file, NULL);
	ok(back && !strcmp(back, "new 1\n") && entries(dir) == 1,
	   "afile_abort leaves the file as it was");
	free(back);
	f = afile_open(&a, missing);
	fputs("x", f);
	errno = 0;
	ok(afile_commit(&a) == -1 && errno == ENOENT && !path_exists(missing),
	   "afile_commit into a missing directory fails with ENOENT (errno %d)",
	   errno);
	rm_rf(dir);
	free(file);
	free(missing);
}

static void test_markup(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	fput_markup(f, "<a href=\"x\">&</a>");
	fput_markup(f, NULL);
	fclose(f);
	ok(buf && !strcmp(buf, "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"),
	   "fput_markup escapes <, >, & and \" (%s)", buf);
	free(buf);
}

static void test_cache_dir(void)
{
	setenv("IOMMUBENCH_CACHE", "/tmp/ib-cache-test", 1);
	ok(!strcmp(cache_dir(), "/tmp/ib-cache-test"),
	   "IOMMUBENCH_CACHE overrides the cache directory");
}

static void test_durations(void)
{
	uint64_t v = 0, l[4];
	unsigned int n;

	ok(!parse_duration("1.5ms", 1, &v) && v == 1500000 &&
	   !parse_duration("250us", 1, &v) && v == 250000 &&
	   !parse_duration("2", 1000000000, &v) && v == 2000000000 &&
	   !parse_duration("0", 1, &v) && v == 0,
	   "durations with and without a unit");
	ok(parse_duration("-1ms", 1, &v) && parse_duration("1h", 1, &v) &&
	   parse_duration("", 1, &v) && parse_duration(" 1", 1, &v) &&
	   parse_duration("nan", 1, &v) && parse_duration("1e30s", 1, &v),
	   "negative, unknown units, empty, spaces, NaN and overflow are refused");
	ok(!parse_duration_list("0,100us,1ms", 1, 90000000, l, 4, &n) && n == 3 &&
	   l[0] == 0 && l[1] == 100000 && l[2] == 1000000,
	   "a list of durations, in order");
	ok(parse_duration_list("1ms,1000us", 1, 90000000, l, 4, &n) &&
	   parse_duration_list("91ms", 1, 90000000, l, 4, &n) &&
	   parse_duration_list("1,2,3,4,5", 1, 90000000, l, 4, &n) &&
	   parse_duration_list("", 1, 90000000, l, 4, &n) &&
	   parse_duration_list("1ms,,2ms", 1, 90000000, l, 4, &n) &&
	   parse_duration_list("1ms,", 1, 90000000, l, 4, &n),
	   "duplicates, values above the limit, too many, empty items are refused");
}

int main(void)
{
	test_strbuf();
	test_strings();
	test_files();
	test_afile();
	test_markup();
	test_cache_dir();
	test_durations();
	return tap_done();
}
