/* features.h — the OCI "features" document (features.md, features-linux.md)
 * describing what hull recognizes, as `hull features` prints it.
 *
 * Determined by the build, not the host (the spec asks for that): the lists
 * are what the config parser accepts and the modules implement; seccomp
 * architectures are the ones the linked libseccomp can resolve.
 */
#ifndef HULL_OCI_FEATURES_H
#define HULL_OCI_FEATURES_H

#include "lib/err.h"

#define OCI_FEATURES_VERSION_MIN "1.0.0"
#define OCI_FEATURES_VERSION_MAX "1.3.0"

/* Pretty-printed JSON, NUL-terminated, newline-terminated; free() it. */
int oci_features_json(char **out, struct hull_err *err);

#endif
