// SPDX-License-Identifier: GPL-2.0
#include "config.h"

#include <errno.h>
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

struct json_object *json_read_file(const char *path)
{
	struct json_tokener *tok;
	struct json_object *obj;
	size_t len;
	char *text = read_file(path, &len);

	if (!text) {
		pr_err("%s: %s", path, strerror(errno));
		return NULL;
	}
	tok = json_tokener_new();
	obj = tok ? json_tokener_parse_ex(tok, text, (int)len) : NULL;
	if (!obj) {
		size_t off = tok ? json_tokener_get_parse_end(tok) : 0;
		unsigned int line = 1;

		for (size_t i = 0; i < off && i < len; i++)
			line += text[i] == '\n';
		pr_err("%s:%u: invalid JSON: %s", path, line,
		       tok ? json_tokener_error_desc(json_tokener_get_error(tok))
			   : "out of memory");
	}
	if (tok)
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
