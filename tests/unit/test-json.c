// SPDX-License-Identifier: GPL-2.0
/*
 * json_read_file(): one document per file, nothing after it, and errors
 * as FILE:LINE:COLUMN with json-c's reason.  json_get_typed(): members of
 * the wrong type are told apart from missing ones, before json-c sees them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "json.h"
#include "tap.h"
#include "util.h"

static char dir[] = "/tmp/ib-test-json-XXXXXX";

/*
 * Read a file holding @len bytes of @text; the object (or NULL) and, in
 * *@err, what was reported with the file's path replaced by "F".
 */
static struct json_object *read_text(const char *text, size_t len, char **err)
{
	char *path = xasprintf("%s/f.json", dir), *out, *p;
	struct json_object *obj = NULL;
	struct strbuf sb = STRBUF_INIT;

	if (write_file_atomic(path, text, len)) {
		*err = strdup("(cannot write the file)");
		free(path);
		return NULL;
	}
	capture_begin();
	obj = json_read_file(path);
	out = capture_end();
	for (p = out; *p; ) {
		if (!strncmp(p, path, strlen(path))) {
			strbuf_adds(&sb, "F");
			p += strlen(path);
		} else {
			strbuf_addch(&sb, *p++);
		}
	}
	*err = strbuf_detach(&sb);
	free(out);
	free(path);
	return obj;
}

/* @text fails to read with exactly @want (after the program's prefix). */
static void bad(const char *text, size_t len, const char *want, const char *what)
{
	char *err;
	struct json_object *obj = read_text(text, len, &err);
	char *msg = strstr(err, "F:");

	ok(!obj && msg && !strncmp(msg, want, strlen(want)) &&
	   msg[strlen(want)] == '\n', "%s: \"%s\"", what, want);
	json_object_put(obj);
	free(err);
}

static void good(const char *text, const char *want, const char *what)
{
	char *err;
	struct json_object *obj = read_text(text, strlen(text), &err);
	const char *got = obj ? json_object_to_json_string_ext(obj,
						JSON_C_TO_STRING_PLAIN) : "";

	ok(obj && !strcmp(got, want) && !*err, "%s: %s", what, want);
	json_object_put(obj);
	free(err);
}

/* json_get_typed() on each kind of member */
static void test_typed(void)
{
	struct json_object *o = json_tokener_parse(
		"{\"a\": [1], \"o\": {}, \"n\": null, \"s\": \"x\"}");
	struct json_object *v = o;

	ok(o && !json_get_typed(o, "a", json_type_array, &v) &&
	   json_object_is_type(v, json_type_array),
	   "typed: an array member of the type asked for");
	ok(!json_get_typed(o, "none", json_type_array, &v) && !v &&
	   !json_get_typed(o, "n", json_type_object, &v) && !v &&
	   !json_get_typed(NULL, "a", json_type_array, &v) && !v,
	   "typed: a missing or null member, or none to look in: NULL, no error");
	v = o;
	ok(json_get_typed(o, "o", json_type_array, &v) == -1 && !v &&
	   json_get_typed(o, "s", json_type_object, &v) == -1 && !v,
	   "typed: a member of another type is an error");
	ok(json_get_typed(json_object_object_get(o, "a"), "a",
			  json_type_array, &v) == -1 && !v,
	   "typed: looking into an array is an error");
	json_object_put(o);
}

/* json_add() fails on NULL (an allocation failed), json_add_or_null() writes null */
static void test_add(void)
{
	struct json_object *o = json_object_new_object();

	ok(o && json_add(o, "failed", NULL) == -1 &&
	   !json_add_or_null(o, "none", NULL) &&
	   !json_add_or_null(o, "one", json_object_new_int(1)) &&
	   !strcmp(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		   "{\"none\":null,\"one\":1}"),
	   "add: NULL fails json_add(), is null for json_add_or_null()");
	json_object_put(o);
}

int main(void)
{
	char *missing;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 99;
	}
	good("{\"a\": [1, 2]}\n", "{\"a\":[1,2]}", "an object");
	good("\n  {\"a\": 1}  \r\n\t\n", "{\"a\":1}", "white space around it");
	good("123", "123", "a number at the very end");
	good("true", "true", "a literal at the very end");
	good("{\"iops\":NaN,\"bw\":Infinity}", "{\"iops\":NaN,\"bw\":Infinity}",
	     "NaN and Infinity as the agent writes them");

	bad("{\"a\": 1} x\n", 11, "F:1:10: invalid JSON: trailing data after the document",
	    "trailing garbage");
	bad("{\"a\": 1}\n{\"a\": 2}\n", 18,
	    "F:2:1: invalid JSON: trailing data after the document",
	    "a second document");
	bad("{\"a\": 1}\n\0", 10,
	    "F:2:1: invalid JSON: trailing data after the document",
	    "a NUL byte after the document");
	bad("{\"a\":\n  [1,", 11, "F:2:6: invalid JSON: unexpected end of file",
	    "a truncated document");
	bad("", 0, "F:1:1: invalid JSON: unexpected end of file", "an empty file");
	bad("{\"a\": \0 1}", 10, "F:1:7: invalid JSON: unexpected NUL byte",
	    "a NUL byte inside the document");
	bad("{\n  \"a\" 1\n}", 11,
	    "F:2:7: invalid JSON: object property name separator ':' expected",
	    "a syntax error, with json-c's reason");
	bad("null\n", 5, "F:1:1: invalid JSON: the document is null",
	    "the document null");

	missing = xasprintf("%s/missing.json", dir);
	capture_begin();
	ok(!json_read_file(missing), "a missing file fails");
	free(capture_end());
	free(missing);
	test_typed();
	test_add();
	rm_rf(dir);
	return tap_done();
}
