/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one JSON writer (and reader): json-c objects in, files or streams
 * out, with the same formatting everywhere.
 */
#ifndef IB_JSON_H
#define IB_JSON_H

#include <stdio.h>
#include <json-c/json.h>

/* Print @obj to @f, pretty-printed, followed by a newline. */
int json_print(FILE *f, struct json_object *obj);
/*
 * Print @obj to @f on one line, without spaces, followed by a newline: for
 * outputs read by programs (one record per line).
 */
int json_print_compact(FILE *f, struct json_object *obj);
/*
 * json_add - add @val (NULL: its allocation failed) to @obj under @key,
 * and json_push - append it to array @arr: 0, or -1 with @val dropped, so
 * that a writer can add up failures and fail its whole output once.
 */
int json_add(struct json_object *obj, const char *key, struct json_object *val);
int json_push(struct json_object *arr, struct json_object *val);
/*
 * json_add_or_null - add @val to @obj under @key, or JSON null when @val is
 * NULL: for members that may not exist (a writer that must tell a failed
 * allocation from "none" uses json_add()).  0, or -1 with @val dropped.
 */
int json_add_or_null(struct json_object *obj, const char *key,
		     struct json_object *val);
/*
 * json_output - the one way a command writes its --json FILE: to @path
 * atomically, or to stdout when @path is "-".  -1 after saying why.
 */
int json_output(const char *path, struct json_object *obj);
/* Write @obj to @path atomically (temporary file + rename). */
int json_write_file(const char *path, struct json_object *obj);
/*
 * Parse @path, one JSON document and nothing after it but white space;
 * NULL on failure, with an error "FILE:LINE:COLUMN: invalid JSON: why"
 * (json-c's reason; "unexpected end of file" for a truncated document).
 */
struct json_object *json_read_file(const char *path);
/*
 * json_copy - set @dst[@key] to (a new reference to) @src[@src_key], or
 * to null when @src has no such member.
 */
void json_copy(struct json_object *dst, const char *key,
	       struct json_object *src, const char *src_key);
/* Member @key of @obj as a string, or NULL. */
const char *json_get_string(struct json_object *obj, const char *key);
/*
 * json_get_typed - member @key of @obj when it is of @type, for reading
 * files whose shape is not guaranteed (json-c asserts the type of arrays
 * and objects it is handed).  0 with *@out the member, or NULL when @obj
 * is NULL or has no member @key, or it is null; -1 (*@out NULL) when
 * @obj is not an object or the member has another type.
 */
int json_get_typed(struct json_object *obj, const char *key,
		   enum json_type type, struct json_object **out);

#endif /* IB_JSON_H */
