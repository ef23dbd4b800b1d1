/* digest.c — sha256 through OpenSSL's EVP interface (never a hand-written hash),
 * libcrypto loaded on first use (lazy.h). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rootfs/image/image.h"
#include "rootfs/image/lazy.h"

struct img_hash { EVP_MD_CTX *ctx; };

struct img_hash *img_hash_new(void)
{
	if (img_lazy_crypto(NULL) < 0)
		return NULL;
	struct img_hash *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return NULL;
	}
	return h;
}

void img_hash_update(struct img_hash *h, const void *buf, size_t len)
{
	if (len)
		EVP_DigestUpdate(h->ctx, buf, len);
}

void img_hash_final(struct img_hash *h, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n && i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	out[IMG_DIGEST_LEN] = '\0';
	EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL);
}

void img_hash_free(struct img_hash *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void img_sha256_digest(const void *buf, size_t len, char *out)
{
	unsigned char md[32] = { 0 };
	unsigned int n = 0;
	/* without libcrypto: all zeros, which matches no real digest (fails closed) */
	if (img_lazy_crypto(NULL) == 0)
		EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	out[IMG_DIGEST_LEN] = '\0';
}

bool img_digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != IMG_DIGEST_LEN)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}
