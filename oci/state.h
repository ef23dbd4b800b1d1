/* state.h — the OCI container state document (runtime.md "State").
 *
 * What `hull state` prints and what hooks read on stdin:
 *   {"ociVersion":"1.3.0","id":"c1","status":"running","pid":4422,
 *    "bundle":"/containers/redis","annotations":{"k":"v"}}
 * runc adds "rootfs", "created" and "owner" to `state` output; clients that
 * parse it (podman, containerd) tolerate them, so they are written when set.
 *
 * oci_state_to_json() always writes ociVersion, id, status, pid and bundle
 * (pid 0 when there is no process, as runc does), annotations when any.
 * oci_state_parse() is the reverse, with config.json-style error messages
 * ("state.json: .pid: must be an integer in [0, 2147483647]"); unknown keys
 * are ignored.  status must be creating|created|running|paused|stopped
 * ("paused" is runc's addition to the spec's four).
 */
#ifndef HULL_OCI_STATE_H
#define HULL_OCI_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/err.h"
#include "oci/config.h"

struct oci_state {
	char *oci_version, *id, *status, *bundle;
	pid_t pid;
	struct oci_kv *annotations;
	size_t n_annotations;
	/* runc extensions, NULL when absent */
	char *rootfs;
	char *created;         /* RFC 3339 */
	char *owner;
};

/* pretty: indented, as `runc state` prints it. */
int oci_state_to_json(const struct oci_state *st, bool pretty, char **out, size_t *len,
		      struct hull_err *err);

int oci_state_parse(const char *json, size_t len, const char *name, struct oci_state **out,
		    struct hull_err *err);

/* Frees the strings and annotations, and st itself. */
void oci_state_free(struct oci_state *st);

bool oci_state_status_valid(const char *status);

#endif
