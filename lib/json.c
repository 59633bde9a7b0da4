// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "util.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
		    JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSON_COMPACT_FLAGS (JSON_C_TO_STRING_PLAIN | \
			    JSON_C_TO_STRING_NOSLASHESCAPE)

static int json_print_flags(FILE *f, struct json_object *obj, int flags)
{
	const char *s = json_object_to_json_string_ext(obj, flags);

	if (!s) {
		errno = ENOMEM;
		return -1;
	}
	if (fprintf(f, "%s\n", s) < 0)
		return -1;
	return 0;
}

int json_print(FILE *f, struct json_object *obj)
{
	return json_print_flags(f, obj, JSON_FLAGS);
}

int json_print_compact(FILE *f, struct json_object *obj)
{
	return json_print_flags(f, obj, JSON_COMPACT_FLAGS);
}

int json_write_file(const char *path, struct json_object *obj)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_FLAGS);
	char *text;
	int ret;

	if (!s)
		return -1;
	text = xasprintf("%s\n", s);
	if (!text)
		return -1;
	ret = write_file_atomic(path, text, strlen(text));
	free(text);
	return ret;
}

int json_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return -1;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

int json_add_or_null(struct json_object *obj, const char *key,
		     struct json_object *val)
{
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

int json_push(struct json_object *arr, struct json_object *val)
{
	if (!val)
		return -1;
	if (json_object_array_add(arr, val)) {
		json_object_put(val);
		return -1;
	}
	return 0;
}

int json_output(const char *path, struct json_object *obj)
{
	if (strcmp(path, "-")) {
		if (json_write_file(path, obj)) {
			pr_err("%s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}
	if (json_print(stdout, obj) || fflush(stdout)) {
		pr_err("standard output: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Report a parse error at byte @off of @text (@len bytes) from @path. */
static void parse_error(const char *path, const char *text, size_t len,
			size_t off, const char *msg)
{
	unsigned int line = 1, col = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	pr_err("%s:%u:%u: invalid JSON: %s", path, line, col, msg);
}

/*
 * json_read_file - parse @path, which must hold one JSON document and
 * nothing else but white space.  json-c is given the terminating NUL as
 * well, so that a document cut short (or a top-level number or literal at
 * the very end) is told from one that goes on.
 */
struct json_object *json_read_file(const char *path)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t len, end;
	char *text = read_file(path, &len);

	if (!text) {
		pr_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (len >= INT_MAX) {
		pr_err("%s: %zu bytes: too large for a JSON file", path, len);
		free(text);
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		pr_err("%s: %s", path, strerror(ENOMEM));
		free(text);
		return NULL;
	}
	/* read_file() NUL-terminates: len + 1 hands json-c the end. */
	obj = json_tokener_parse_ex(tok, text, (int)len + 1);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (jerr != json_tokener_success) {
		if (jerr == json_tokener_error_parse_eof)
			parse_error(path, text, len, end, end < len ?
				    "unexpected NUL byte" :
				    "unexpected end of file");
		else
			parse_error(path, text, len, end,
				    json_tokener_error_desc(jerr));
		goto out;
	}
	while (end < len && text[end] && strchr(" \t\r\n", text[end]))
		end++;
	if (end < len) {
		parse_error(path, text, len, end,
			    "trailing data after the document");
		json_object_put(obj);
		obj = NULL;
	} else if (!obj) {
		/* json-c's object for the literal null is NULL */
		parse_error(path, text, len, 0, "the document is null");
	}
out:
	json_tokener_free(tok);
	free(text);
	return obj;
}

void json_copy(struct json_object *dst, const char *key,
	       struct json_object *src, const char *src_key)
{
	json_object_object_add(dst, key, json_object_get(
			       json_object_object_get(src, src_key)));
}

const char *json_get_string(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int json_get_typed(struct json_object *obj, const char *key,
		   enum json_type type, struct json_object **out)
{
	struct json_object *v;

	*out = NULL;
	if (!obj)
		return 0;
	if (!json_object_is_type(obj, json_type_object))
		return -1;
	if (!json_object_object_get_ex(obj, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, type))
		return -1;
	*out = v;
	return 0;
}
