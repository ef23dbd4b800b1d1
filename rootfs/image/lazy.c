/* lazy.c — see lazy.h. */
#define HULL_LAZY_IMPL
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "rootfs/image/lazy.h"

#define X(ret, name, args) ret(*lazy_##name) args;
LAZY_ARCHIVE_FUNCS(X)
LAZY_CRYPTO_FUNCS(X)
#undef X

struct lib {
	const char *soname;
	pthread_once_t once;
	bool ok;
	char why[256];
};

static struct lib archive_lib = { "libarchive.so.13", PTHREAD_ONCE_INIT, false, "" };
static struct lib crypto_lib = { "libcrypto.so.3", PTHREAD_ONCE_INIT, false, "" };

static void *open_lib(struct lib *l)
{
	void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		snprintf(l->why, sizeof(l->why), "%s", dlerror());
	return h;
}

#define BIND(h, l, name) \
	do { \
		if (!(*(void **)&lazy_##name = dlsym(h, #name)) && l->ok) { \
			snprintf(l->why, sizeof(l->why), "%s: no symbol %s", l->soname, #name); \
			l->ok = false; \
		} \
	} while (0)

static void load_archive(void)
{
	struct lib *l = &archive_lib;
	void *h = open_lib(l);
	if (!h)
		return;
	l->ok = true;
#define X(ret, name, args) BIND(h, l, name);
	LAZY_ARCHIVE_FUNCS(X)
#undef X
}

static void load_crypto(void)
{
	struct lib *l = &crypto_lib;
	void *h = open_lib(l);
	if (!h)
		return;
	l->ok = true;
#define X(ret, name, args) BIND(h, l, name);
	LAZY_CRYPTO_FUNCS(X)
#undef X
}

int img_lazy_archive(struct hull_err *err)
{
	pthread_once(&archive_lib.once, load_archive);
	if (archive_lib.ok)
		return 0;
	return err ? hull_errf(err, ENOSYS, "cannot load libarchive: %s", archive_lib.why) : -ENOSYS;
}

int img_lazy_crypto(struct hull_err *err)
{
	pthread_once(&crypto_lib.once, load_crypto);
	if (crypto_lib.ok)
		return 0;
	return err ? hull_errf(err, ENOSYS, "cannot load libcrypto: %s", crypto_lib.why) : -ENOSYS;
}
