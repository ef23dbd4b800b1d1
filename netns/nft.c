/* nft.c — run nftables commands through libnftables.
 *
 * The library is dlopen()ed (libnftables.so.1, Debian's libnftables1, which
 * the nftables package depends on): only bridge networking needs it, so
 * container start never maps it, and no -dev package or link flag is
 * needed.  hull only ever names `table inet hull` in what it sends.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netns/netns.h"

/* libnftables' stable ABI (nftables.h); the library has been at .so.1 since 0.9 */
#define NFT_CTX_DEFAULT 0
#define NFT_CTX_OUTPUT_HANDLE (1u << 3)

struct nft_api {
	void *(*ctx_new)(uint32_t flags);
	void (*ctx_free)(void *ctx);
	int (*run)(void *ctx, const char *buf);
	int (*buffer_output)(void *ctx);
	const char *(*get_output)(void *ctx);
	int (*buffer_error)(void *ctx);
	const char *(*get_error)(void *ctx);
	void (*set_output_flags)(void *ctx, unsigned flags);
};

static int nft_load(struct nft_api *a, struct hull_err *err)
{
	static void *lib;
	if (!lib && !(lib = dlopen("libnftables.so.1", RTLD_NOW | RTLD_LOCAL)))
		return hull_errf(err, ENOSYS, "nftables: cannot load libnftables.so.1 (install nftables): %s", dlerror());
	struct { void **slot; const char *name; } syms[] = {
		{ (void **)&a->ctx_new, "nft_ctx_new" },
		{ (void **)&a->ctx_free, "nft_ctx_free" },
		{ (void **)&a->run, "nft_run_cmd_from_buffer" },
		{ (void **)&a->buffer_output, "nft_ctx_buffer_output" },
		{ (void **)&a->get_output, "nft_ctx_get_output_buffer" },
		{ (void **)&a->buffer_error, "nft_ctx_buffer_error" },
		{ (void **)&a->get_error, "nft_ctx_get_error_buffer" },
		{ (void **)&a->set_output_flags, "nft_ctx_output_set_flags" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++)
		if (!(*syms[i].slot = dlsym(lib, syms[i].name)))
			return hull_errf(err, ENOSYS, "nftables: libnftables.so.1 has no `%s`", syms[i].name);
	return 0;
}

int netns_nft_run(const char *cmds, bool with_handles, char **out, struct hull_err *err)
{
	struct nft_api a;
	int r;
	if (out)
		*out = NULL;
	if ((r = nft_load(&a, err)) < 0)
		return r;
	void *ctx = a.ctx_new(NFT_CTX_DEFAULT);
	if (!ctx)
		return hull_errf(err, ENOMEM, "nftables: no context");
	a.buffer_output(ctx);
	a.buffer_error(ctx);
	if (with_handles)
		a.set_output_flags(ctx, NFT_CTX_OUTPUT_HANDLE);
	if (a.run(ctx, cmds) != 0) {
		const char *e = a.get_error(ctx);
		char line[300] = "";
		if (e) {
			/* first line only: the rest repeats the command with carets */
			size_t n = strcspn(e, "\n");
			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, e, n);
			line[n] = '\0';
		}
		r = hull_errf(err, EINVAL, "nftables: %s", line[0] ? line : "command failed");
	} else if (out) {
		const char *o = a.get_output(ctx);
		if (!(*out = strdup(o ? o : "")))
			r = hull_errf(err, ENOMEM, "out of memory");
	}
	a.ctx_free(ctx);
	return r;
}
