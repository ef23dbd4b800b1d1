#include "oci/json_walk.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* yajl_tree_free recurses once per nesting level; no OCI document comes
 * close to this depth, hostile ones must not get to smash the stack. */
#define JW_MAX_DEPTH 64

void jw_init(struct jw *w, const char *name, struct hull_err *err)
{
	w->name = name ? name : "config.json";
	w->err = err;
	w->path[0] = '\0';
	w->len = 0;
}

static int nesting_ok(const char *s, size_t len)
{
	bool in_str = false, esc = false;
	int depth = 0;

	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (in_str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"')
			in_str = true;
		else if (ch == '{' || ch == '[') {
			if (++depth > JW_MAX_DEPTH)
				return 0;
		} else if (ch == '}' || ch == ']')
			depth--;
	}
	return 1;
}

/* yajl's messages span several lines (with a caret picture); keep the first. */
static void first_line(char *s)
{
	char *nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '.'))
		s[--n] = '\0';
}

int jw_parse(struct jw *w, const char *json, size_t len, yajl_val *out)
{
	char errbuf[256] = "";
	char *copy;
	yajl_val tree;

	*out = NULL;
	if (memchr(json, '\0', len))
		return hull_errf(w->err, EINVAL, "%s: invalid JSON: contains a NUL byte", w->name);
	if (!nesting_ok(json, len))
		return hull_errf(w->err, EINVAL, "%s: invalid JSON: nested deeper than %d levels",
				 w->name, JW_MAX_DEPTH);
	copy = malloc(len + 1);
	if (!copy)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	memcpy(copy, json, len);
	copy[len] = '\0';
	tree = yajl_tree_parse(copy, errbuf, sizeof(errbuf));
	free(copy);
	if (!tree) {
		first_line(errbuf);
		return hull_errf(w->err, EINVAL, "%s: invalid JSON: %s", w->name,
				 errbuf[0] ? errbuf : "parse error");
	}
	*out = tree;
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The repeated name of obj, or NULL.  Small objects (nearly all of a
 * config) are compared pairwise; larger ones sorted. */
static const char *repeated_name(yajl_val obj, bool *oom)
{
	size_t n = obj->u.object.len;
	const char **keys = (const char **)obj->u.object.keys;
	const char *found = NULL;
	const char **sorted;

	if (n <= 16) {
		for (size_t i = 1; i < n; i++)
			for (size_t j = 0; j < i; j++)
				if (strcmp(keys[i], keys[j]) == 0)
					return keys[i];
		return NULL;
	}
	sorted = malloc(n * sizeof(*sorted));
	if (!sorted) {
		*oom = true;
		return NULL;
	}
	memcpy(sorted, keys, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), cmp_key);
	for (size_t i = 1; i < n && !found; i++)
		if (strcmp(sorted[i], sorted[i - 1]) == 0)
			found = sorted[i];
	free(sorted);
	return found;
}

int jw_check_unique_names(struct jw *w, yajl_val v)
{
	bool oom = false;
	const char *dup;
	char q[96];
	int r = 0;

	if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len && r == 0; i++) {
			size_t mark = jw_push_index(w, i);
			r = jw_check_unique_names(w, v->u.array.values[i]);
			jw_pop(w, mark);
		}
		return r;
	}
	if (!YAJL_IS_OBJECT(v))
		return 0;
	dup = repeated_name(v, &oom);
	if (oom)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	if (dup)
		return jw_fail(w, "duplicate name %s in an object", jw_quote(q, sizeof(q), dup));
	for (size_t i = 0; i < v->u.object.len && r == 0; i++) {
		size_t mark = jw_push_key(w, v->u.object.keys[i]);
		r = jw_check_unique_names(w, v->u.object.values[i]);
		jw_pop(w, mark);
	}
	return r;
}

static bool plain_key(const char *key)
{
	if (!*key)
		return false;
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '_'))
			return false;
	return true;
}

static void path_append(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void path_append(struct jw *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->len >= sizeof(w->path) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->path + w->len, sizeof(w->path) - w->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		w->path[w->len] = '\0';
	else if ((size_t)n >= sizeof(w->path) - w->len)
		w->len = sizeof(w->path) - 1;
	else
		w->len += (size_t)n;
}

size_t jw_push_key(struct jw *w, const char *key)
{
	size_t mark = w->len;
	char q[96];

	if (plain_key(key))
		path_append(w, ".%s", key);
	else
		path_append(w, "[%s]", jw_quote(q, sizeof(q), key));
	return mark;
}

size_t jw_push_index(struct jw *w, size_t index)
{
	size_t mark = w->len;
	path_append(w, "[%zu]", index);
	return mark;
}

void jw_pop(struct jw *w, size_t mark)
{
	if (mark < sizeof(w->path)) {
		w->len = mark;
		w->path[mark] = '\0';
	}
}

int jw_fail(struct jw *w, const char *fmt, ...)
{
	char msg[HULL_ERR_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (w->len)
		return hull_errf(w->err, EINVAL, "%s: %s: %s", w->name, w->path, msg);
	return hull_errf(w->err, EINVAL, "%s: %s", w->name, msg);
}

const char *jw_quote(char *buf, size_t size, const char *s)
{
	size_t o = 0;
	const size_t keep = size > 8 ? size - 8 : 0; /* room for `..."` + NUL */

	if (size < 3) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; *s && o < keep; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", ch);
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (*s) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

yajl_val jw_member(yajl_val obj, const char *key)
{
	yajl_val found = NULL;

	if (!YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++)
		if (strcmp(obj->u.object.keys[i], key) == 0)
			found = obj->u.object.values[i];
	if (found && YAJL_IS_NULL(found))
		return NULL;
	return found;
}

int jw_want_object(struct jw *w, yajl_val v)
{
	return YAJL_IS_OBJECT(v) ? 0 : jw_fail(w, "must be an object");
}

int jw_want_array(struct jw *w, yajl_val v)
{
	return YAJL_IS_ARRAY(v) ? 0 : jw_fail(w, "must be an array");
}

int jw_str(struct jw *w, yajl_val v, char **out)
{
	char *s;

	if (!YAJL_IS_STRING(v))
		return jw_fail(w, "must be a string");
	s = strdup(v->u.string);
	if (!s)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	free(*out);
	*out = s;
	return 0;
}

int jw_bool(struct jw *w, yajl_val v, bool *out)
{
	if (YAJL_IS_TRUE(v))
		*out = true;
	else if (YAJL_IS_FALSE(v))
		*out = false;
	else
		return jw_fail(w, "must be a boolean");
	return 0;
}

/* yajl keeps the number's text; parse it ourselves so the full uint64 range
 * works (yajl's own integer is a long long) and fractions are refused. */
static bool parse_integer(yajl_val v, bool *neg, uint64_t *mag)
{
	const char *r;
	char *end;

	if (!YAJL_IS_NUMBER(v) || !v->u.number.r)
		return false;
	r = v->u.number.r;
	*neg = (*r == '-');
	if (*neg)
		r++;
	if (*r < '0' || *r > '9')
		return false;
	errno = 0;
	*mag = strtoull(r, &end, 10);
	if (errno || *end)
		return false;
	return true;
}

int jw_u64(struct jw *w, yajl_val v, uint64_t max, uint64_t *out)
{
	bool neg;
	uint64_t mag;

	if (!parse_integer(v, &neg, &mag) || (neg && mag) || mag > max)
		return jw_fail(w, "must be an integer in [0, %" PRIu64 "]", max);
	*out = mag;
	return 0;
}

int jw_i64(struct jw *w, yajl_val v, int64_t min, int64_t max, int64_t *out)
{
	bool neg;
	uint64_t mag;
	int64_t val;

	if (!parse_integer(v, &neg, &mag))
		goto bad;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			goto bad;
		val = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			goto bad;
		val = (int64_t)mag;
	}
	if (val < min || val > max)
		goto bad;
	*out = val;
	return 0;
bad:
	return jw_fail(w, "must be an integer in [%" PRId64 ", %" PRId64 "]", min, max);
}

void jw_free_strv(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void jw_free_kv(struct oci_kv *kv, size_t n)
{
	if (!kv)
		return;
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

int jw_str_array(struct jw *w, yajl_val v, char ***out, size_t *n)
{
	char **vec;
	size_t len;
	int r;

	if (!YAJL_IS_ARRAY(v))
		return jw_fail(w, "must be an array of strings");
	len = v->u.array.len;
	vec = calloc(len + 1, sizeof(*vec));
	if (!vec)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	for (size_t i = 0; i < len; i++) {
		size_t mark = jw_push_index(w, i);
		r = jw_str(w, v->u.array.values[i], &vec[i]);
		jw_pop(w, mark);
		if (r < 0) {
			jw_free_strv(vec, len);
			return r;
		}
	}
	jw_free_strv(*out, *n);
	*out = vec;
	*n = len;
	return 0;
}

int jw_str_map(struct jw *w, yajl_val v, struct oci_kv **out, size_t *n)
{
	struct oci_kv *kv;
	size_t len;
	int r;

	if (!YAJL_IS_OBJECT(v))
		return jw_fail(w, "must be an object with string values");
	len = v->u.object.len;
	kv = calloc(len ? len : 1, sizeof(*kv));
	if (!kv)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	for (size_t i = 0; i < len; i++) {
		size_t mark = jw_push_key(w, v->u.object.keys[i]);
		if (!v->u.object.keys[i][0])
			r = jw_fail(w, "empty key");
		else
			r = jw_str(w, v->u.object.values[i], &kv[i].value);
		jw_pop(w, mark);
		if (r == 0) {
			kv[i].key = strdup(v->u.object.keys[i]);
			if (!kv[i].key)
				r = hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
		}
		if (r < 0) {
			jw_free_kv(kv, len);
			return r;
		}
	}
	jw_free_kv(*out, *n);
	*out = kv;
	*n = len;
	return 0;
}

/* Shared shape of the keyed readers: find, push, (require), read, pop. */
#define KEYED(w, obj, key, required, read_expr)                   \
	do {                                                      \
		yajl_val v_ = jw_member((obj), (key));            \
		size_t mark_;                                     \
		int r_;                                           \
		if (!v_) {                                        \
			if (!(required))                          \
				return 0;                         \
			mark_ = jw_push_key((w), (key));          \
			r_ = jw_fail((w), "is required");         \
			jw_pop((w), mark_);                       \
			return r_;                                \
		}                                                 \
		mark_ = jw_push_key((w), (key));                  \
		r_ = (read_expr);                                 \
		jw_pop((w), mark_);                               \
		return r_;                                        \
	} while (0)

int jw_key_str(struct jw *w, yajl_val obj, const char *key, bool required, char **out)
{
	KEYED(w, obj, key, required, jw_str(w, v_, out));
}

int jw_key_bool(struct jw *w, yajl_val obj, const char *key, bool *out, bool *present)
{
	yajl_val v = jw_member(obj, key);
	size_t mark;
	int r;

	if (!v)
		return 0;
	mark = jw_push_key(w, key);
	r = jw_bool(w, v, out);
	jw_pop(w, mark);
	if (r == 0 && present)
		*present = true;
	return r;
}

int jw_key_u64(struct jw *w, yajl_val obj, const char *key, bool required, uint64_t max, uint64_t *out)
{
	KEYED(w, obj, key, required, jw_u64(w, v_, max, out));
}

int jw_key_u32(struct jw *w, yajl_val obj, const char *key, bool required, uint32_t *out)
{
	uint64_t v = 0;
	int r = 0;
	bool had = jw_member(obj, key) != NULL;

	r = jw_key_u64(w, obj, key, required, UINT32_MAX, &v);
	if (r == 0 && had)
		*out = (uint32_t)v;
	return r;
}

int jw_key_i64(struct jw *w, yajl_val obj, const char *key, bool required, int64_t min, int64_t max,
	       int64_t *out)
{
	KEYED(w, obj, key, required, jw_i64(w, v_, min, max, out));
}

int jw_key_i32(struct jw *w, yajl_val obj, const char *key, bool required, int32_t *out)
{
	int64_t v = 0;
	bool had = jw_member(obj, key) != NULL;
	int r = jw_key_i64(w, obj, key, required, INT32_MIN, INT32_MAX, &v);

	if (r == 0 && had)
		*out = (int32_t)v;
	return r;
}

int jw_key_opt_u64(struct jw *w, yajl_val obj, const char *key, uint64_t max, struct opt_u64 *out)
{
	bool had = jw_member(obj, key) != NULL;
	int r = jw_key_u64(w, obj, key, false, max, &out->v);

	if (r == 0 && had)
		out->set = true;
	return r;
}

int jw_key_opt_i64(struct jw *w, yajl_val obj, const char *key, int64_t min, int64_t max,
		   struct opt_i64 *out)
{
	bool had = jw_member(obj, key) != NULL;
	int r = jw_key_i64(w, obj, key, false, min, max, &out->v);

	if (r == 0 && had)
		out->set = true;
	return r;
}

int jw_key_str_array(struct jw *w, yajl_val obj, const char *key, char ***out, size_t *n)
{
	KEYED(w, obj, key, false, jw_str_array(w, v_, out, n));
}

int jw_key_str_map(struct jw *w, yajl_val obj, const char *key, struct oci_kv **out, size_t *n)
{
	KEYED(w, obj, key, false, jw_str_map(w, v_, out, n));
}

/* Room for len zeroed elements, published in *out and *n before any is
 * filled, so the caller's free function sees every element even when a
 * later one fails.  NULL (error set) when memory runs out. */
static char *alloc_elems(struct jw *w, size_t len, size_t elem_size, void **out, size_t *n)
{
	char *elems = calloc(len ? len : 1, elem_size);

	if (!elems) {
		hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
		return NULL;
	}
	*out = elems;
	*n = len;
	return elems;
}

/* The walk behind jw_key_array and jw_key_object_map: exactly one of
 * elem_fn (key must hold an array) and entry_fn (key must hold an object)
 * is set; each element is filled in place, its path pushed around the call. */
static int key_each(struct jw *w, yajl_val obj, const char *key, size_t elem_size, void **out, size_t *n,
		    jw_elem_fn elem_fn, jw_entry_fn entry_fn, void *ctx)
{
	yajl_val v = jw_member(obj, key);
	bool is_object = entry_fn != NULL;
	size_t mark, len;
	char *elems;
	int r = 0;

	if (!v)
		return 0;
	mark = jw_push_key(w, key);
	if (is_object ? !YAJL_IS_OBJECT(v) : !YAJL_IS_ARRAY(v)) {
		r = jw_fail(w, is_object ? "must be an object" : "must be an array");
		goto out;
	}
	len = is_object ? v->u.object.len : v->u.array.len;
	elems = alloc_elems(w, len, elem_size, out, n);
	if (!elems) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < len && r == 0; i++) {
		void *elem = elems + i * elem_size;
		size_t m;

		if (is_object) {
			m = jw_push_key(w, v->u.object.keys[i]);
			r = entry_fn(w, v->u.object.keys[i], v->u.object.values[i], elem, ctx);
		} else {
			m = jw_push_index(w, i);
			r = elem_fn(w, v->u.array.values[i], elem, ctx);
		}
		jw_pop(w, m);
	}
out:
	jw_pop(w, mark);
	return r;
}

int jw_key_array(struct jw *w, yajl_val obj, const char *key, size_t elem_size, void **out,
		 size_t *n, jw_elem_fn fn, void *ctx)
{
	return key_each(w, obj, key, elem_size, out, n, fn, NULL, ctx);
}

int jw_key_object_map(struct jw *w, yajl_val obj, const char *key, size_t elem_size, void **out,
		      size_t *n, jw_entry_fn fn, void *ctx)
{
	return key_each(w, obj, key, elem_size, out, n, NULL, fn, ctx);
}

int jw_ensure_strv(struct jw *w, char ***v)
{
	if (*v)
		return 0;
	*v = calloc(1, sizeof(**v));
	if (!*v)
		return hull_errf(w->err, ENOMEM, "%s: out of memory", w->name);
	return 0;
}
