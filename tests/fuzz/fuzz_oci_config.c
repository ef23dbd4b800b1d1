// FUZZ-SOURCES: oci/config.c oci/config_linux.c oci/json_walk.c oci/state.c lib/json.c lib/err.c lib/fs.c
// FUZZ-LIBS: -lyajl -lcap
// FUZZ-CORPUS: tests/unit/data tests/unit/data/spec/good tests/unit/data/spec/bad
/* libFuzzer target: config.json, exec --process documents and state.json
 * from hostile bytes.  Any crash, leak or sanitizer report is a bug; so is
 * an accepted config that breaks the invariants the rest of hull relies on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/config.h"
#include "oci/state.h"

static void check_invariants(const struct oci_config *cfg)
{
	if (!cfg->oci_version || !cfg->root.path || !cfg->root.path[0])
		abort();
	if (cfg->has_process) {
		const struct oci_process *p = &cfg->process;
		if (p->n_args == 0 || !p->args || p->args[p->n_args] || !p->env || p->env[p->n_env] ||
		    !p->cwd || p->cwd[0] != '/')
			abort();
	}
	for (size_t i = 0; i < cfg->linux_.n_namespaces; i++) {
		const struct oci_namespace *ns = &cfg->linux_.namespaces[i];
		if (oci_config_namespace(cfg, ns->type) != ns || ns->clone_flag == 0)
			abort();
		if (ns->path && ns->path[0] != '/')
			abort();
	}
	for (int k = 0; k < OCI_HOOK__COUNT; k++)
		for (size_t i = 0; i < cfg->hooks[k].n; i++)
			if (cfg->hooks[k].hooks[i].path[0] != '/' || !cfg->hooks[k].hooks[i].args)
				abort();
	for (size_t i = 0; i < cfg->n_annotations; i++)
		if (!oci_config_annotation(cfg, cfg->annotations[i].key))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hull_err err;
	struct oci_config *cfg;
	struct oci_process *proc;
	struct oci_state *st;

	if (oci_config_parse((const char *)data, size, "fuzz.json", &cfg, &err) == 0) {
		check_invariants(cfg);
		oci_config_free(cfg);
	} else if (cfg || strncmp(err.msg, "fuzz.json: ", 11) != 0) {
		abort();   /* errors must name the file and leave nothing behind */
	}

	if (oci_process_parse((const char *)data, size, "p.json", &proc, &err) == 0)
		oci_process_free(proc);
	else if (proc)
		abort();

	if (oci_state_parse((const char *)data, size, "s.json", &st, &err) == 0) {
		char *out;
		size_t len;
		/* a parsed state must serialize again */
		if (oci_state_to_json(st, false, &out, &len, &err) != 0)
			abort();
		free(out);
		oci_state_free(st);
	} else if (st) {
		abort();
	}
	return 0;
}
