/* path.c — cgroupsPath resolution and `unified` key checks (pure logic). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"

/* "slice:prefix:name" — two colons and no slash before the first one. */
static bool looks_systemd(const char *p)
{
	const char *c1 = strchr(p, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

	if (!c1 || !c2 || strchr(c2 + 1, ':'))
		return false;
	return memchr(p, '/', (size_t)(c1 - p)) == NULL;
}

int cg_path_resolve(const char *cgroups_path, const char *id, bool systemd, char **out,
		    struct hull_err *err)
{
	char buf[CG_PATH_MAX];
	size_t used = 0;
	const char *src;

	*out = NULL;
	if (cgroups_path && looks_systemd(cgroups_path)) {
		if (systemd)
			return hull_errf(err, ENOTSUP, ".linux.cgroupsPath: `%s`: the systemd cgroup driver "
					 "is not available (no systemd on this host)", cgroups_path);
		return hull_errf(err, EINVAL, ".linux.cgroupsPath: `%s` is in the systemd form "
				 "(slice:prefix:name), which needs --systemd-cgroup and systemd", cgroups_path);
	}
	if (systemd)
		return hull_errf(err, ENOTSUP, "--systemd-cgroup: the systemd cgroup driver is not "
				 "available (no systemd on this host)");
	if (!cgroups_path || !*cgroups_path) {
		if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
			return hull_errf(err, EINVAL, "container id `%s` cannot name a cgroup", id ? id : "");
		src = NULL;
	} else {
		src = cgroups_path;
	}

	/* Normalise component by component: drop empty and "." parts, refuse
	 * "..", so the result always stays below the hierarchy root. */
	buf[0] = '\0';
	if (!src) {
		int n = snprintf(buf, sizeof(buf), "/hull/%s", id);
		if (n < 0 || (size_t)n >= sizeof(buf))
			return hull_errf(err, ENAMETOOLONG, "container id too long for a cgroup path");
		used = (size_t)n;
	} else {
		const char *p = src;
		while (*p) {
			const char *e;
			size_t len;
			while (*p == '/')
				p++;
			if (!*p)
				break;
			e = strchr(p, '/');
			len = e ? (size_t)(e - p) : strlen(p);
			if (len == 1 && p[0] == '.') {
				p += len;
				continue;
			}
			if (len == 2 && p[0] == '.' && p[1] == '.')
				return hull_errf(err, EINVAL, ".linux.cgroupsPath: `%s`: `..` is not allowed", src);
			if (memchr(p, '\n', len))
				return hull_errf(err, EINVAL, ".linux.cgroupsPath: `%s`: newline in path", src);
			if (used + 1 + len >= sizeof(buf))
				return hull_errf(err, ENAMETOOLONG, ".linux.cgroupsPath: `%s`: too long", src);
			buf[used++] = '/';
			memcpy(buf + used, p, len);
			used += len;
			buf[used] = '\0';
			p += len;
		}
		if (!used)
			return hull_errf(err, EINVAL, ".linux.cgroupsPath: `%s`: names the root cgroup", src);
	}
	*out = strdup(buf);
	if (!*out)
		return hull_errf(err, ENOMEM, "cgroup path");
	return 0;
}

int cg_unified_key_check(const char *key, struct hull_err *err)
{
	static const char *const refused[] = {
		"cgroup.procs", "cgroup.threads", "cgroup.kill", "cgroup.subtree_control",
		"cgroup.type", "cgroup.freeze",
	};
	const char *dot;

	if (!key || !*key)
		return hull_errf(err, EINVAL, ".linux.resources.unified: empty key");
	if (strchr(key, '/') || !strcmp(key, ".") || !strcmp(key, ".."))
		return hull_errf(err, EINVAL, ".linux.resources.unified: key `%s` must be a file name", key);
	dot = strchr(key, '.');
	if (!dot || dot == key || !dot[1])
		return hull_errf(err, EINVAL, ".linux.resources.unified: key `%s` must be CONTROLLER.PARAMETER", key);
	for (const char *p = key; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '.' || *p == '_' || *p == '-'))
			return hull_errf(err, EINVAL, ".linux.resources.unified: key `%s`: invalid character", key);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (!strcmp(key, refused[i]))
			return hull_errf(err, EINVAL, ".linux.resources.unified: key `%s` is not a resource", key);
	if (strncmp(key, "cgroup.", 7) && cg_ctrl_from_name_n(key, (size_t)(dot - key)) < 0)
		return hull_errf(err, EINVAL, ".linux.resources.unified: key `%s`: unknown controller", key);
	return 0;
}
