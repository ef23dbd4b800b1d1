#include "lib/json.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#define JSON_MAX_DEPTH 64

struct hull_json {
	yajl_gen gen;
	const char *problem;          /* first error; NULL while all is well */
	int depth;
	bool is_map[JSON_MAX_DEPTH];  /* kind of each open container */
	bool want_key;                /* innermost is a map waiting for a key */
	bool done;                    /* the top-level value is complete */
};

struct hull_json *hull_json_new(bool pretty)
{
	struct hull_json *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->gen = yajl_gen_alloc(NULL);
	if (!j->gen) {
		free(j);
		return NULL;
	}
	if (pretty) {
		yajl_gen_config(j->gen, yajl_gen_beautify, 1);
		yajl_gen_config(j->gen, yajl_gen_indent_string, "  ");
	}
	return j;
}

void hull_json_free(struct hull_json *j)
{
	if (!j)
		return;
	yajl_gen_free(j->gen);
	free(j);
}

static void fail(struct hull_json *j, const char *problem)
{
	if (!j->problem)
		j->problem = problem;
}

/* Called before every value: a value must not follow a complete document and
 * must not stand where a map expects a key. */
static bool value_ok(struct hull_json *j)
{
	if (!j || j->problem)
		return false;
	if (j->done) {
		fail(j, "value after the end of the document");
		return false;
	}
	if (j->depth && j->is_map[j->depth - 1] && j->want_key) {
		fail(j, "value without a key inside a map");
		return false;
	}
	return true;
}

static void after_value(struct hull_json *j, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok) {
		fail(j, "yajl generator error");
		return;
	}
	if (j->depth == 0)
		j->done = true;
	else if (j->is_map[j->depth - 1])
		j->want_key = true;
}

static void open_container(struct hull_json *j, bool map)
{
	yajl_gen_status st;

	if (!value_ok(j))
		return;
	if (j->depth == JSON_MAX_DEPTH) {
		fail(j, "nesting too deep");
		return;
	}
	st = map ? yajl_gen_map_open(j->gen) : yajl_gen_array_open(j->gen);
	if (st != yajl_gen_status_ok) {
		fail(j, "yajl generator error");
		return;
	}
	j->is_map[j->depth++] = map;
	j->want_key = map;
}

static void close_container(struct hull_json *j, bool map)
{
	yajl_gen_status st;

	if (!j || j->problem)
		return;
	if (j->depth == 0 || j->is_map[j->depth - 1] != map) {
		fail(j, map ? "end_map without begin_map" : "end_array without begin_array");
		return;
	}
	if (map && !j->want_key) {
		fail(j, "key without a value");
		return;
	}
	st = map ? yajl_gen_map_close(j->gen) : yajl_gen_array_close(j->gen);
	j->depth--;
	after_value(j, st);
}

void hull_json_begin_map(struct hull_json *j) { open_container(j, true); }
void hull_json_end_map(struct hull_json *j) { close_container(j, true); }
void hull_json_begin_array(struct hull_json *j) { open_container(j, false); }
void hull_json_end_array(struct hull_json *j) { close_container(j, false); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static yajl_gen_status gen_string(struct hull_json *j, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i, n, o = 0;
	yajl_gen_status st;
	unsigned char *fixed;

	for (i = 0; i < len; i += n)
		if (!(n = utf8_seq(u + i, len - i)))
			break;
	if (i == len)
		return yajl_gen_string(j->gen, u, len);
	fixed = malloc(len * 3 + 1);   /* every bad byte may become 3 bytes */
	if (!fixed)
		return yajl_gen_in_error_state;
	for (i = 0; i < len; i += n) {
		n = utf8_seq(u + i, len - i);
		if (n) {
			memcpy(fixed + o, u + i, n);
			o += n;
		} else {
			memcpy(fixed + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		}
	}
	st = yajl_gen_string(j->gen, fixed, o);
	free(fixed);
	return st;
}

void hull_json_key(struct hull_json *j, const char *key)
{
	if (!j || j->problem)
		return;
	if (!j->depth || !j->is_map[j->depth - 1] || !j->want_key) {
		fail(j, "key outside a map or where a value belongs");
		return;
	}
	if (!key || gen_string(j, key) != yajl_gen_status_ok) {
		fail(j, "cannot write key");
		return;
	}
	j->want_key = false;
}

void hull_json_string(struct hull_json *j, const char *s)
{
	if (!value_ok(j))
		return;
	after_value(j, s ? gen_string(j, s) : yajl_gen_null(j->gen));
}

static void gen_number_text(struct hull_json *j, const char *text)
{
	if (!value_ok(j))
		return;
	after_value(j, yajl_gen_number(j->gen, text, strlen(text)));
}

void hull_json_int(struct hull_json *j, int64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	gen_number_text(j, buf);
}

void hull_json_uint(struct hull_json *j, uint64_t v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	gen_number_text(j, buf);
}

void hull_json_bool(struct hull_json *j, bool v)
{
	if (!value_ok(j))
		return;
	after_value(j, yajl_gen_bool(j->gen, v));
}

void hull_json_null(struct hull_json *j)
{
	if (!value_ok(j))
		return;
	after_value(j, yajl_gen_null(j->gen));
}

void hull_json_kv_string(struct hull_json *j, const char *key, const char *s)
{
	hull_json_key(j, key);
	hull_json_string(j, s);
}

void hull_json_kv_int(struct hull_json *j, const char *key, int64_t v)
{
	hull_json_key(j, key);
	hull_json_int(j, v);
}

void hull_json_kv_uint(struct hull_json *j, const char *key, uint64_t v)
{
	hull_json_key(j, key);
	hull_json_uint(j, v);
}

void hull_json_kv_bool(struct hull_json *j, const char *key, bool v)
{
	hull_json_key(j, key);
	hull_json_bool(j, v);
}

void hull_json_kv_strings(struct hull_json *j, const char *key, const char *const *v, size_t n)
{
	hull_json_key(j, key);
	hull_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		hull_json_string(j, v[i]);
	hull_json_end_array(j);
}

int hull_json_finish(struct hull_json *j, char **out, size_t *len, struct hull_err *err)
{
	const unsigned char *buf;
	size_t blen;
	char *copy;
	int r = 0;

	*out = NULL;
	if (len)
		*len = 0;
	if (!j)
		return hull_errf(err, ENOMEM, "json: out of memory");
	if (j->problem)
		r = hull_errf(err, EINVAL, "json: %s", j->problem);
	else if (!j->done)
		r = hull_errf(err, EINVAL, "json: incomplete document");
	else if (yajl_gen_get_buf(j->gen, &buf, &blen) != yajl_gen_status_ok)
		r = hull_errf(err, EINVAL, "json: yajl generator error");
	if (r == 0) {
		copy = malloc(blen + 1);
		if (!copy) {
			r = hull_errf(err, ENOMEM, "json: out of memory");
		} else {
			memcpy(copy, buf, blen);
			copy[blen] = '\0';
			*out = copy;
			if (len)
				*len = blen;
		}
	}
	hull_json_free(j);
	return r;
}
