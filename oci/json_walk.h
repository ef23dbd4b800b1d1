/* json_walk.h — typed, path-tracking reads from a yajl tree (oci/ internal).
 *
 * Every reader knows the JSON path of the value it looks at, so any error
 * comes out as "<file>: <path>: <what is wrong>", e.g.
 *   config.json: .linux.namespaces[2].type: unknown namespace type "foo"
 * Conventions: functions return 0 or a negative errno (after filling the
 * error); a JSON null counts as "absent" (as Go's encoding/json, which runc
 * and most clients use, treats it); strings are heap copies.
 */
#ifndef HULL_OCI_JSON_WALK_H
#define HULL_OCI_JSON_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_tree.h>

#include "lib/err.h"
#include "oci/config.h"

#define JW_PATH_MAX 320

struct jw {
	const char *name;          /* file name for messages */
	struct hull_err *err;
	char path[JW_PATH_MAX];
	size_t len;
};

void jw_init(struct jw *w, const char *name, struct hull_err *err);

/* Parse text (need not be NUL-terminated) into a tree; rejects embedded NULs
 * and nesting deeper than the walkers (and yajl_tree_free) handle safely. */
int jw_parse(struct jw *w, const char *json, size_t len, yajl_val *out);

/* glossary.md: "JSON objects MUST NOT include duplicate names", and yajl's
 * tree keeps them all.  Fails at the first object (depth first, document
 * order) that repeats a name: "<file>: <object path>: duplicate name "x"".
 * O(n log n) per object. */
int jw_check_unique_names(struct jw *w, yajl_val v);

/* Path bookkeeping: push returns the mark to pop back to. */
size_t jw_push_key(struct jw *w, const char *key);
size_t jw_push_index(struct jw *w, size_t index);
void jw_pop(struct jw *w, size_t mark);

/* Fill the error with "<name>: <path>: <message>" and return -EINVAL. */
int jw_fail(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copy a user-supplied string into buf, escaped and shortened, for messages. */
const char *jw_quote(char *buf, size_t size, const char *s);

/* Member of an object (last one wins for duplicate keys, like Go); NULL when
 * absent or JSON null. */
yajl_val jw_member(yajl_val obj, const char *key);

/* Checks on the value at the current path. */
int jw_want_object(struct jw *w, yajl_val v);
int jw_want_array(struct jw *w, yajl_val v);

/* Value readers (current path = the value). */
int jw_str(struct jw *w, yajl_val v, char **out);
int jw_bool(struct jw *w, yajl_val v, bool *out);
int jw_u64(struct jw *w, yajl_val v, uint64_t max, uint64_t *out);
int jw_i64(struct jw *w, yajl_val v, int64_t min, int64_t max, int64_t *out);
int jw_str_array(struct jw *w, yajl_val v, char ***out, size_t *n);  /* NULL-terminated */
int jw_str_map(struct jw *w, yajl_val v, struct oci_kv **out, size_t *n);

/* Keyed readers: look `key` up in obj, push it on the path, read, pop.
 * `required` makes absence an error ("is required"). Absent optional values
 * leave *out untouched. */
int jw_key_str(struct jw *w, yajl_val obj, const char *key, bool required, char **out);
int jw_key_bool(struct jw *w, yajl_val obj, const char *key, bool *out, bool *present);
int jw_key_u64(struct jw *w, yajl_val obj, const char *key, bool required, uint64_t max, uint64_t *out);
int jw_key_u32(struct jw *w, yajl_val obj, const char *key, bool required, uint32_t *out);
int jw_key_i64(struct jw *w, yajl_val obj, const char *key, bool required, int64_t min, int64_t max,
	       int64_t *out);
int jw_key_i32(struct jw *w, yajl_val obj, const char *key, bool required, int32_t *out);
int jw_key_opt_u64(struct jw *w, yajl_val obj, const char *key, uint64_t max, struct opt_u64 *out);
int jw_key_opt_i64(struct jw *w, yajl_val obj, const char *key, int64_t min, int64_t max,
		   struct opt_i64 *out);
int jw_key_str_array(struct jw *w, yajl_val obj, const char *key, char ***out, size_t *n);
int jw_key_str_map(struct jw *w, yajl_val obj, const char *key, struct oci_kv **out, size_t *n);

/* Evaluate `call` (which may use v_, the member's value) with `key` pushed
 * on the path, if obj has that member; yields call's result, or 0. */
#define JW_WITH_MEMBER(w, obj, key, call)                       \
	({                                                      \
		yajl_val v_ = jw_member((obj), (key));          \
		int r_ = 0;                                     \
		if (v_) {                                       \
			size_t m_ = jw_push_key((w), (key));    \
			r_ = (call);                            \
			jw_pop((w), m_);                        \
		}                                               \
		r_;                                             \
	})

/* Arrays and maps of objects: the element array is allocated zeroed and
 * handed to *out / *n before the elements are filled, so the owner's free
 * routine releases whatever was parsed when an element fails. */
typedef int (*jw_elem_fn)(struct jw *w, yajl_val v, void *elem, void *ctx);
typedef int (*jw_entry_fn)(struct jw *w, const char *key, yajl_val v, void *elem, void *ctx);
int jw_key_array(struct jw *w, yajl_val obj, const char *key, size_t elem_size, void **out,
		 size_t *n, jw_elem_fn fn, void *ctx);
int jw_key_object_map(struct jw *w, yajl_val obj, const char *key, size_t elem_size, void **out,
		      size_t *n, jw_entry_fn fn, void *ctx);

/* An empty NULL-terminated vector where none was given (execve wants one). */
int jw_ensure_strv(struct jw *w, char ***v);

void jw_free_strv(char **v, size_t n);
void jw_free_kv(struct oci_kv *kv, size_t n);

#endif
