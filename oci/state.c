#include "oci/state.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json.h"
#include "oci/json_walk.h"

bool oci_state_status_valid(const char *status)
{
	static const char *const known[] = { "creating", "created", "running", "paused", "stopped" };

	for (size_t i = 0; status && i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(status, known[i]) == 0)
			return true;
	return false;
}

int oci_state_to_json(const struct oci_state *st, bool pretty, char **out, size_t *len,
		      struct hull_err *err)
{
	struct hull_json *j;

	*out = NULL;
	if (!st->oci_version || !st->id || !st->bundle || !oci_state_status_valid(st->status))
		return hull_errf(err, EINVAL, "state: ociVersion, id, bundle and a valid status are required");
	j = hull_json_new(pretty);
	hull_json_begin_map(j);
	hull_json_kv_string(j, "ociVersion", st->oci_version);
	hull_json_kv_string(j, "id", st->id);
	hull_json_kv_string(j, "status", st->status);
	hull_json_kv_int(j, "pid", st->pid > 0 ? st->pid : 0);
	hull_json_kv_string(j, "bundle", st->bundle);
	if (st->rootfs)
		hull_json_kv_string(j, "rootfs", st->rootfs);
	if (st->created)
		hull_json_kv_string(j, "created", st->created);
	if (st->owner)
		hull_json_kv_string(j, "owner", st->owner);
	if (st->n_annotations) {
		hull_json_key(j, "annotations");
		hull_json_begin_map(j);
		for (size_t i = 0; i < st->n_annotations; i++)
			hull_json_kv_string(j, st->annotations[i].key, st->annotations[i].value);
		hull_json_end_map(j);
	}
	hull_json_end_map(j);
	return hull_json_finish(j, out, len, err);
}

static int parse_state(struct jw *w, yajl_val doc, struct oci_state *st)
{
	int64_t pid = 0;
	size_t mark;
	int r;

	if (!YAJL_IS_OBJECT(doc))
		return jw_fail(w, "top level must be a JSON object");
	if ((r = jw_key_str(w, doc, "ociVersion", true, &st->oci_version)) < 0 ||
	    (r = jw_key_str(w, doc, "id", true, &st->id)) < 0 ||
	    (r = jw_key_str(w, doc, "status", true, &st->status)) < 0 ||
	    (r = jw_key_i64(w, doc, "pid", false, 0, INT32_MAX, &pid)) < 0 ||
	    (r = jw_key_str(w, doc, "bundle", true, &st->bundle)) < 0 ||
	    (r = jw_key_str(w, doc, "rootfs", false, &st->rootfs)) < 0 ||
	    (r = jw_key_str(w, doc, "created", false, &st->created)) < 0 ||
	    (r = jw_key_str(w, doc, "owner", false, &st->owner)) < 0 ||
	    (r = jw_key_str_map(w, doc, "annotations", &st->annotations, &st->n_annotations)) < 0)
		return r;
	st->pid = (pid_t)pid;
	if (!oci_state_status_valid(st->status)) {
		char q[64];
		mark = jw_push_key(w, "status");
		r = jw_fail(w, "unknown status %s", jw_quote(q, sizeof(q), st->status));
		jw_pop(w, mark);
		return r;
	}
	return 0;
}

int oci_state_parse(const char *json, size_t len, const char *name, struct oci_state **out,
		    struct hull_err *err)
{
	struct oci_state *st;
	yajl_val doc;
	struct jw w;
	int r;

	*out = NULL;
	jw_init(&w, name ? name : "state.json", err);
	if ((r = jw_parse(&w, json, len, &doc)) < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st) {
		yajl_tree_free(doc);
		return hull_errf(err, ENOMEM, "%s: out of memory", w.name);
	}
	r = parse_state(&w, doc, st);
	yajl_tree_free(doc);
	if (r < 0) {
		oci_state_free(st);
		return r;
	}
	*out = st;
	return 0;
}

void oci_state_free(struct oci_state *st)
{
	if (!st)
		return;
	free(st->oci_version);
	free(st->id);
	free(st->status);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->owner);
	jw_free_kv(st->annotations, st->n_annotations);
	free(st);
}
