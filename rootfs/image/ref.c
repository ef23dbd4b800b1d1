/* ref.c — image references, defaulted the way docker/podman/skopeo do. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "rootfs/image/image.h"

void img_ref_free(struct img_ref *r)
{
	free(r->path);
	free(r->inner);
	free(r->registry);
	free(r->repository);
	free(r->tag);
	free(r->digest);
	free(r->name);
	memset(r, 0, sizeof(*r));
}

const char *img_registry_host(const char *registry)
{
	if (strcmp(registry, "docker.io") == 0 || strcmp(registry, "index.docker.io") == 0)
		return "registry-1.docker.io";
	return registry;
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := [_.] | __ | -+ */
static bool component_valid(const char *c, size_t len)
{
	if (len == 0 || !is_lower_alnum(c[0]) || !is_lower_alnum(c[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (is_lower_alnum(c[i]))
			continue;
		if (c[i] == '.' || c[i] == '_') {
			size_t run = 1;
			while (i + run < len && c[i + run] == c[i])
				run++;
			if (run > (c[i] == '_' ? 2u : 1u))
				return false;
			i += run - 1;
			continue;
		}
		if (c[i] == '-')
			continue;
		return false;
	}
	return true;
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static bool domain_valid(const char *d)
{
	if (!*d)
		return false;
	for (const char *p = d; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == ':' || *p == '[' || *p == ']'))
			return false;
	/* host:port — the port is digits (an IPv6 literal keeps its colons inside []) */
	const char *colon = strrchr(d, ':'), *bracket = strrchr(d, ']');
	if (colon && (!bracket || colon > bracket)) {
		if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
			return false;
		if (!bracket && memchr(d, ':', (size_t)(colon - d)))
			return false;
	}
	return true;
}

int img_ref_parse_name(const char *s, struct img_ref *out, struct hull_err *err)
{
	memset(out, 0, sizeof(*out));
	out->transport = IMG_REGISTRY;
	if (!*s || strlen(s) > 1024)
		return hull_errf(err, EINVAL, "image reference `%s`: empty or too long", s);

	_cleanup_free_ char *work = strdup(s);
	if (!work)
		return hull_errf(err, ENOMEM, "image reference: out of memory");

	char *at = strchr(work, '@');
	if (at) {
		*at = '\0';
		if (!img_digest_valid(at + 1))
			return hull_errf(err, EINVAL, "image reference `%s`: digest must be sha256: and 64 lowercase hex digits", s);
		out->digest = strdup(at + 1);
	}
	char *slash = strrchr(work, '/');
	char *colon = strrchr(slash ? slash : work, ':');
	if (colon) {
		*colon = '\0';
		if (!tag_valid(colon + 1)) {
			img_ref_free(out);
			return hull_errf(err, EINVAL, "image reference `%s`: invalid tag `%s`", s, colon + 1);
		}
		out->tag = strdup(colon + 1);
	}

	char *repo = work;
	char *first_slash = strchr(work, '/');
	if (first_slash) {
		size_t dlen = (size_t)(first_slash - work);
		bool is_domain = memchr(work, '.', dlen) || memchr(work, ':', dlen) ||
				 (dlen == 9 && strncmp(work, "localhost", 9) == 0);
		for (size_t i = 0; i < dlen && !is_domain; i++)
			if (isupper((unsigned char)work[i]))
				is_domain = true;
		if (is_domain) {
			*first_slash = '\0';
			if (!domain_valid(work)) {
				img_ref_free(out);
				return hull_errf(err, EINVAL, "image reference `%s`: invalid registry `%s`", s, work);
			}
			out->registry = strdup(work);
			repo = first_slash + 1;
		}
	}
	if (!out->registry)
		out->registry = strdup("docker.io");
	if (strcmp(out->registry, "index.docker.io") == 0) {
		free(out->registry);
		out->registry = strdup("docker.io");
	}

	for (const char *c = repo;;) {
		const char *e = strchr(c, '/');
		size_t len = e ? (size_t)(e - c) : strlen(c);
		if (!component_valid(c, len)) {
			img_ref_free(out);
			return hull_errf(err, EINVAL,
					 "image reference `%s`: invalid repository name `%s` (lowercase letters, digits, separators)",
					 s, repo);
		}
		if (!e)
			break;
		c = e + 1;
	}
	if (strcmp(out->registry ? out->registry : "", "docker.io") == 0 && !strchr(repo, '/')) {
		if (asprintf(&out->repository, "library/%s", repo) < 0)
			out->repository = NULL;
	} else {
		out->repository = strdup(repo);
	}
	if (!out->tag && !out->digest)
		out->tag = strdup("latest");

	int n = asprintf(&out->name, "%s/%s%s%s%s%s", out->registry ? out->registry : "",
			 out->repository ? out->repository : "", out->tag ? ":" : "", out->tag ? out->tag : "",
			 out->digest ? "@" : "", out->digest ? out->digest : "");
	if (n < 0 || !out->registry || !out->repository || (!out->tag && !out->digest) ||
	    (at && !out->digest)) {
		out->name = n < 0 ? NULL : out->name;
		img_ref_free(out);
		return hull_errf(err, ENOMEM, "image reference: out of memory");
	}
	return 0;
}

/* "FILE[:ref]": the path ends at the first colon, as in containers/image
 * (skopeo), so "oci-archive:x.tar:localhost/busybox:1" works. */
static int split_path_ref(const char *rest, struct img_ref *out)
{
	const char *colon = strchr(rest, ':');
	if (colon) {
		out->path = strndup(rest, (size_t)(colon - rest));
		out->inner = colon[1] ? strdup(colon + 1) : NULL;
	} else {
		out->path = strdup(rest);
	}
	return out->path ? 0 : -ENOMEM;
}

int img_ref_parse(const char *s, struct img_ref *out, struct hull_err *err)
{
	static const struct { const char *prefix; enum img_transport t; } transports[] = {
		{ "oci:", IMG_OCI_DIR },
		{ "oci-archive:", IMG_OCI_ARCHIVE },
		{ "docker-archive:", IMG_DOCKER_ARCHIVE },
	};
	if (strncmp(s, "docker://", 9) == 0)
		return img_ref_parse_name(s + 9, out, err);
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++) {
		size_t pl = strlen(transports[i].prefix);
		if (strncmp(s, transports[i].prefix, pl) != 0)
			continue;
		memset(out, 0, sizeof(*out));
		out->transport = transports[i].t;
		if (!s[pl])
			return hull_errf(err, EINVAL, "image reference `%s`: missing path after `%s`", s,
					 transports[i].prefix);
		if (split_path_ref(s + pl, out) < 0 || !(out->name = strdup(s))) {
			img_ref_free(out);
			return hull_errf(err, ENOMEM, "image reference: out of memory");
		}
		return 0;
	}
	return img_ref_parse_name(s, out, err);
}
