/* config_internal.h — pieces of the config.json parser shared between
 * oci/config.c (top level, process, mounts, hooks) and oci/config_linux.c. */
#ifndef HULL_OCI_CONFIG_INTERNAL_H
#define HULL_OCI_CONFIG_INTERNAL_H

#include "oci/config.h"
#include "oci/json_walk.h"

int oci_parse_process_obj(struct jw *w, yajl_val v, struct oci_process *p);
void oci_process_clear(struct oci_process *p);

int oci_parse_linux_obj(struct jw *w, yajl_val v, struct oci_linux *l);
void oci_linux_clear(struct oci_linux *l);

/* uidMappings / gidMappings arrays (linux.* and mounts[].*) */
int oci_parse_idmaps(struct jw *w, yajl_val obj, const char *key, struct oci_idmap **out, size_t *n);

bool oci_path_is_absolute(const char *p);

/* Closed name sets the parser accepts; features.c reports the same tables. */
struct oci_name_value {
	const char *name;
	int value;
};
extern const struct oci_name_value oci_seccomp_actions[];
extern const size_t oci_n_seccomp_actions;
extern const struct oci_name_value oci_seccomp_ops[];
extern const size_t oci_n_seccomp_ops;
extern const char *const oci_seccomp_archs[];
extern const size_t oci_n_seccomp_archs;
extern const char *const oci_seccomp_flags[];
extern const size_t oci_n_seccomp_flags;
extern const struct oci_name_value oci_mpol_modes[];
extern const size_t oci_n_mpol_modes;
extern const char *const oci_mpol_flags[];
extern const size_t oci_n_mpol_flags;

#endif
