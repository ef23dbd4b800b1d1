/* json.h — the one way hull writes JSON (state, features, events, list).
 *
 * A thin layer over yajl_gen.  Calls never fail individually: the first
 * problem (allocation, a key outside a map, unbalanced nesting) is remembered
 * and reported once by hull_json_finish(), so producers stay linear:
 *
 *   struct hull_json *j = hull_json_new(false);
 *   hull_json_begin_map(j);
 *   hull_json_kv_string(j, "id", id);
 *   hull_json_kv_int(j, "pid", pid);
 *   hull_json_end_map(j);
 *   r = hull_json_finish(j, &text, &len, err);   also frees j
 *
 * Strings that are not valid UTF-8 are written with U+FFFD in place of the
 * bad bytes (what Go's encoding/json does), so output is always valid JSON.
 * A NULL string is written as null.
 */
#ifndef HULL_LIB_JSON_H
#define HULL_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/err.h"

struct hull_json;

/* pretty: two-space indentation and newlines (for `hull spec`, `features`). */
struct hull_json *hull_json_new(bool pretty);

void hull_json_begin_map(struct hull_json *j);
void hull_json_end_map(struct hull_json *j);
void hull_json_begin_array(struct hull_json *j);
void hull_json_end_array(struct hull_json *j);

void hull_json_key(struct hull_json *j, const char *key);
void hull_json_string(struct hull_json *j, const char *s);
void hull_json_int(struct hull_json *j, int64_t v);
void hull_json_uint(struct hull_json *j, uint64_t v);
void hull_json_bool(struct hull_json *j, bool v);
void hull_json_null(struct hull_json *j);

void hull_json_kv_string(struct hull_json *j, const char *key, const char *s);
void hull_json_kv_int(struct hull_json *j, const char *key, int64_t v);
void hull_json_kv_uint(struct hull_json *j, const char *key, uint64_t v);
void hull_json_kv_bool(struct hull_json *j, const char *key, bool v);
/* "key": ["a", "b", …] */
void hull_json_kv_strings(struct hull_json *j, const char *key, const char *const *v, size_t n);

/* Hand out the document (NUL-terminated, *len without the NUL; len may be
 * NULL) and free j.  Fails if anything went wrong or the document is
 * incomplete.  j may be NULL (allocation failed in hull_json_new). */
int hull_json_finish(struct hull_json *j, char **out, size_t *len, struct hull_err *err);

/* Free without producing output (error paths). */
void hull_json_free(struct hull_json *j);

#endif
