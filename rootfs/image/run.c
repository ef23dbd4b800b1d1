/* run.c — turn an image into a runnable bundle, and take it apart again.
 *
 *   <store>/containers/<id>/config.json   from convert.c
 *                          /rootfs        overlay (or a private copy)
 *                          /upper /work   overlay's writable layer
 *                          /l/            short layer names (overlay.c)
 *                          /volumes/N     anonymous volumes (image Volumes), seeded
 *                                         with what the image has there
 *                          /hostname /hosts
 *                          /image         manifest digest (keeps layers from prune)
 *                          /active        present until run_cleanup
 * Mounting happens here, in the caller's (host) mount namespace, before the
 * container exists; the container's mount namespace inherits the rootfs.
 * The poststop hook (`hull -image-cleanup BUNDLE [--rm]`) unmounts it when
 * the container is deleted, also for detached runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "rootfs/safepath.h"
#include "rootfs/image/image.h"


/* room for a file name under a PATH_MAX dir */
#define SUBPATH_MAX (PATH_MAX + 128)

static bool id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 64 || !((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') ||
				  (id[0] >= '0' && id[0] <= '9')))
		return false;
	return strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/* Read a small file of the image's rootfs as if the rootfs were "/". */
static char *read_in_rootfs(const char *rootfs, const char *rel)
{
	int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return NULL;
	struct hull_err ignored;
	/* symlinks stay inside the rootfs; O_NONBLOCK: a FIFO planted there must not hang us */
	int fd = safepath_open(root, rel, O_RDONLY | O_CLOEXEC | O_NONBLOCK, 0, &ignored);
	close(root);
	if (fd < 0)
		return NULL;
	char *text = NULL;
	size_t len;
	struct hull_err e;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || hull_read_fd(fd, 4 << 20, &text, &len, &e) < 0)
		text = NULL;
	close(fd);
	return text;
}

static int resolve_image(const struct img_store *s, const struct hull_image_ctx *ctx, const char *image,
			 bool pull_always, char *digest, struct hull_err *err)
{
	struct img_ref ref;
	int r = img_ref_parse(image, &ref, err);
	bool local = r == 0 && ref.transport != IMG_REGISTRY;
	if (r == 0)
		img_ref_free(&ref);
	if (!local && !pull_always) {
		struct hull_err miss;
		if (img_store_resolve(s, image, digest, NULL, &miss) == 0)
			return 0;
		if (r < 0)   /* not a reference and not a stored name/id */
			return hull_errf(err, ENOENT, "image `%s`: not in the store and not a valid reference", image);
	}
	if (r < 0)
		return r;
	/* local transports are re-read every time: the file may have changed,
	 * and blobs already stored are not copied again */
	return img_fetch(s, ctx, image, NULL, digest, err);
}

static int copy_rootfs(const struct img_store *s, const struct img_manifest *m, const char *rootfs,
		       struct hull_err *err)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return hull_errf_sys(err, errno, "open `%s`", rootfs);
	for (size_t i = 0; i < m->n_layers; i++) {
		_cleanup_free_ char *blob = img_store_blob_path(s, m->layers[i].digest);
		_cleanup_close_ int fd = blob ? open(blob, O_RDONLY | O_CLOEXEC) : -1;
		if (fd < 0)
			return hull_errf_sys(err, errno, "layer %s: blob missing from the store (fetch the image again)",
					     m->layers[i].digest);
		int r = img_unpack(fd, root, IMG_UNPACK_APPLY, NULL, NULL, m->layers[i].digest, NULL, err);
		if (r < 0)
			return r;
	}
	return chmod(rootfs, 0755) < 0 ? hull_errf_sys(err, errno, "chmod `%s`", rootfs) : 0;
}

static int mount_rootfs(const struct img_store *s, const struct img_manifest *m, const struct img_config *c,
			const char *cdir, bool discard, struct hull_err *err)
{
	char rootfs[SUBPATH_MAX], upper[SUBPATH_MAX], work[SUBPATH_MAX], shortdir[SUBPATH_MAX], empty[SUBPATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", cdir);
	snprintf(upper, sizeof(upper), "%s/upper", cdir);
	snprintf(work, sizeof(work), "%s/work", cdir);
	snprintf(shortdir, sizeof(shortdir), "%s/l", cdir);
	snprintf(empty, sizeof(empty), "%s/empty", cdir);
	const char *copy = getenv("HULL_IMAGE_COPY");
	int r = 0;
	if (!(copy && *copy == '1')) {
		if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(shortdir, 0700) < 0)
			return hull_errf_sys(err, errno, "mkdir in `%s`", cdir);
		size_t n = m->n_layers ? m->n_layers : 1;
		char **lowers = calloc(n, sizeof(char *));
		if (!lowers)
			return hull_errf(err, ENOMEM, "out of memory");
		if (m->n_layers == 0) {
			lowers[0] = strdup(empty);
			if (mkdir(empty, 0755) < 0)
				r = hull_errf_sys(err, errno, "mkdir `%s`", empty);
		}
		for (size_t i = 0; i < m->n_layers && r == 0; i++) {
			/* top layer first */
			lowers[i] = img_store_layer_path(s, c->diff_ids[m->n_layers - 1 - i]);
			if (!lowers[i])
				r = hull_errf(err, ENOMEM, "out of memory");
		}
		if (r == 0)
			r = img_overlay_mount(lowers, n, upper, work, rootfs, shortdir, discard, err);
		for (size_t i = 0; i < n; i++)
			free(lowers[i]);
		free(lowers);
		if (r == 0)
			return 0;
		/* no overlay here (e.g. the store is on overlayfs itself): private copy */
		fprintf(stderr, "hull: %s; using a private copy of the image\n", err->msg);
		hull_err_clear(err);
	}
	return copy_rootfs(s, m, rootfs, err);
}

/* Docker and podman start an anonymous volume with what the image has at
 * that path.  The source is walked by names from an fd resolved inside the
 * rootfs (never ".."; O_NOFOLLOW everywhere), so image symlinks cannot make
 * us read host files. */
static int copy_tree(int src, int dst, int depth)
{
	if (depth > 64)
		return -ELOOP;
	int dfd = dup(src);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat st;
		if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int cs = openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int cd = -1;
			if (cs >= 0 && (mkdirat(dst, e->d_name, 0700) == 0 || errno == EEXIST))
				cd = openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cs >= 0 && cd >= 0)
				r = copy_tree(cs, cd, depth + 1);
			if (cd >= 0 && r == 0 && (fchown(cd, st.st_uid, st.st_gid) < 0 || fchmod(cd, st.st_mode & 07777) < 0))
				r = -errno;
			if (cs >= 0)
				close(cs);
			if (cd >= 0)
				close(cd);
		} else if (S_ISREG(st.st_mode)) {
			int in = openat(src, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			int out = openat(dst, e->d_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			off_t left = st.st_size;
			while (in >= 0 && out >= 0 && left > 0) {
				ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t)left, 0);
				if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL))
					n = sendfile(out, in, NULL, (size_t)left);
				if (n <= 0)
					break;
				left -= n;
			}
			if (in < 0 || out < 0 || left > 0 || fchown(out, st.st_uid, st.st_gid) < 0 ||
			    fchmod(out, st.st_mode & 07777) < 0)
				r = -(errno ? errno : EIO);
			if (in >= 0)
				close(in);
			if (out >= 0)
				close(out);
		} else if (S_ISLNK(st.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(src, e->d_name, target, sizeof(target) - 1);
			if (n >= 0) {
				target[n] = '\0';
				if (symlinkat(target, dst, e->d_name) < 0 ||
				    fchownat(dst, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
					r = -errno;
			}
		}
		/* devices, fifos and sockets are not volume content */
	}
	closedir(d);
	return r;
}

static int seed_volume(const char *rootfs, const char *path, const char *dest, struct hull_err *err)
{
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct hull_err ignored;
	_cleanup_close_ int src = root < 0 ? -1 : safepath_open(root, path, O_RDONLY | O_DIRECTORY, 0, &ignored);
	if (src < 0)
		return 0;   /* nothing there (or not a directory): an empty volume */
	_cleanup_close_ int dst = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	int r = dst < 0 ? -errno : copy_tree(src, dst, 0);
	if (r == 0 && fstat(src, &st) == 0 && (fchown(dst, st.st_uid, st.st_gid) < 0 || fchmod(dst, st.st_mode & 07777) < 0))
		r = -errno;
	return r < 0 ? hull_errf_sys(err, -r, "volume `%s`: copy the image's content", path) : 0;
}

static int env_entries(const struct hull_image_run_opts *o, char ***out, size_t *n, struct hull_err *err)
{
	size_t cap = 16;
	char **v = calloc(cap, sizeof(char *));
	*n = 0;
	if (!v)
		return hull_errf(err, ENOMEM, "out of memory");
	int r = 0;
#define PUSH(str) do { \
		if (*n + 1 >= cap) { char **nv = realloc(v, (cap *= 2) * sizeof(char *)); if (!nv) { r = -ENOMEM; break; } v = nv; } \
		if (!(v[(*n)++] = (str))) r = -ENOMEM; \
	} while (0)
	for (size_t f = 0; f < o->n_env_files && r == 0; f++) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		if ((r = hull_read_file(o->env_files[f], 1 << 20, &text, &len, err)) < 0) {
			hull_err_wrap(err, "--env-file");
			break;
		}
		for (char *l = text; l && *l && r == 0;) {
			char *e = strchr(l, '\n');
			if (e)
				*e = '\0';
			size_t ll = strlen(l);
			if (ll && l[ll - 1] == '\r')
				l[--ll] = '\0';
			while (*l == ' ' || *l == '\t')
				l++;
			if (*l && *l != '#') {
				if (strchr(l, '='))
					PUSH(strdup(l));
				else if (getenv(l)) {
					char *kvp = NULL;
					PUSH(asprintf(&kvp, "%s=%s", l, getenv(l)) < 0 ? NULL : kvp);
				}
			}
			l = e ? e + 1 : NULL;
		}
	}
	for (size_t i = 0; i < o->n_env && r == 0; i++) {
		if (o->env[i][0] == '=' || !o->env[i][0]) {
			r = hull_errf(err, EINVAL, "-e `%s`: expected KEY=VALUE or KEY", o->env[i]);
			break;
		}
		if (strchr(o->env[i], '='))
			PUSH(strdup(o->env[i]));
		else if (getenv(o->env[i])) {
			char *kvp = NULL;
			PUSH(asprintf(&kvp, "%s=%s", o->env[i], getenv(o->env[i])) < 0 ? NULL : kvp);
		}
	}
#undef PUSH
	if (r == -ENOMEM)
		r = hull_errf(err, ENOMEM, "out of memory");
	if (r < 0) {
		for (size_t i = 0; i < *n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*out = v;
	return 0;
}

static int write_text(const char *dir, const char *name, const char *text, char *path_out, size_t size,
		      struct hull_err *err)
{
	snprintf(path_out, size, "%s/%s", dir, name);
	return hull_write_file_atomic(path_out, text, strlen(text), 0644, err);
}

int img_run_prepare(const struct hull_image_ctx *ctx, const struct hull_image_run_opts *o,
		    struct hull_image_run_result *res, struct hull_err *err)
{
	struct img_store s;
	struct img_manifest m = { 0 };
	struct img_config c = { 0 };
	char digest[IMG_DIGEST_LEN + 1];
	char cdir[PATH_MAX] = "";
	char **extra_env = NULL;
	size_t n_extra_env = 0;
	char **vols = NULL;
	_cleanup_free_ char *passwd = NULL, *group = NULL, *json = NULL, *seccomp = NULL;
	bool created = false;
	int r;

	if ((r = img_store_open(&s, ctx->store, LOCK_SH, err)) < 0)
		return r;
	if ((r = resolve_image(&s, ctx, o->image, o->pull_always, digest, err)) < 0)
		goto out;
	if ((r = img_load_image(&s, digest, &m, &c, err)) < 0)
		goto out;
	struct img_progress *p = img_progress_new(ctx->progress);
	r = img_ensure_layers(&s, &m, &c, p, err);
	img_progress_free(p);
	if (r < 0)
		goto out;

	if (o->name) {
		if (!id_valid(o->name)) {
			r = hull_errf(err, EINVAL, "--name `%s`: use letters, digits, `_`, `.`, `-` (at most 64)", o->name);
			goto out;
		}
		snprintf(res->id, sizeof(res->id), "%s", o->name);
	} else {
		unsigned char rnd[16];
		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
			r = hull_errf_sys(err, errno, "getrandom");
			goto out;
		}
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(res->id + 2 * i, 3, "%02x", rnd[i]);
	}
	snprintf(cdir, sizeof(cdir), "%s/containers/%s", s.root, res->id);
	if (mkdir(cdir, 0700) < 0) {
		r = errno == EEXIST ? hull_errf(err, EEXIST, "container `%s` already exists (`hull image prune` removes stopped ones)", res->id)
				    : hull_errf_sys(err, errno, "mkdir `%s`", cdir);
		cdir[0] = '\0';
		goto out;
	}
	created = true;
	char path[SUBPATH_MAX], rootfs[SUBPATH_MAX];
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", cdir);
	if ((r = write_text(cdir, "active", "", path, sizeof(path), err)) < 0 ||
	    (r = write_text(cdir, "image", digest, path, sizeof(path), err)) < 0)
		goto out;
	if (mkdir(rootfs, 0755) < 0) {
		r = hull_errf_sys(err, errno, "mkdir `%s`", rootfs);
		goto out;
	}
	if ((r = mount_rootfs(&s, &m, &c, cdir, o->rm, err)) < 0)
		goto out;

	passwd = read_in_rootfs(rootfs, "etc/passwd");
	group = read_in_rootfs(rootfs, "etc/group");
	if ((r = env_entries(o, &extra_env, &n_extra_env, err)) < 0)
		goto out;
	if (o->seccomp_file && strcmp(o->seccomp_file, "unconfined") != 0) {
		size_t len;
		if ((r = hull_read_file(o->seccomp_file, 4 << 20, &seccomp, &len, err)) < 0) {
			hull_err_wrap(err, "--security-opt seccomp");
			goto out;
		}
	}
	if (c.n_volumes) {
		vols = calloc(c.n_volumes, sizeof(char *));
		snprintf(path, sizeof(path), "%s/volumes", cdir);
		if (!vols || mkdir(path, 0755) < 0) {
			r = hull_errf_sys(err, vols ? errno : ENOMEM, "mkdir `%s`", path);
			goto out;
		}
		for (size_t i = 0; i < c.n_volumes; i++) {
			if (c.volumes[i][0] != '/') {
				r = hull_errf(err, EINVAL, "image config: Volumes: `%s` is not absolute", c.volumes[i]);
				goto out;
			}
			if (asprintf(&vols[i], "%s/volumes/%zu", cdir, i) < 0 || mkdir(vols[i], 0755) < 0) {
				r = hull_errf_sys(err, errno, "volume `%s`", c.volumes[i]);
				goto out;
			}
			if ((r = seed_volume(rootfs, c.volumes[i], vols[i], err)) < 0)
				goto out;
		}
	}
	for (size_t i = 0; i < o->n_mounts; i++)
		if (o->mounts[i].src[0] != '/' || o->mounts[i].dst[0] != '/') {
			r = hull_errf(err, EINVAL, "-v %s:%s: both paths must be absolute", o->mounts[i].src, o->mounts[i].dst);
			goto out;
		}

	const char *hostname = o->hostname ? o->hostname : NULL;
	char hn[64], hosts_text[512], hostname_path[SUBPATH_MAX], hosts_path[SUBPATH_MAX];
	if (!hostname) {
		snprintf(hn, sizeof(hn), "%.12s", res->id);
		hostname = hn;
	}
	snprintf(hosts_text, sizeof(hosts_text), "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", hostname);
	snprintf(path, sizeof(path), "%s\n", hostname);
	if ((r = write_text(cdir, "hostname", path, hostname_path, sizeof(hostname_path), err)) < 0 ||
	    (r = write_text(cdir, "hosts", hosts_text, hosts_path, sizeof(hosts_path), err)) < 0)
		goto out;
	struct img_bind etc[3] = {
		{ hostname_path, "/etc/hostname" }, { hosts_path, "/etc/hosts" }, { "/etc/resolv.conf", "/etc/resolv.conf" },
	};
	bool host_net = o->net && strcmp(o->net, "host") == 0;
	bool bridge_net = o->net && strcmp(o->net, "bridge") == 0;
	char resolv_path[SUBPATH_MAX];
	if (bridge_net) {
		/* filled in place by the network setup hook (netns/bridge.c) */
		if ((r = write_text(cdir, "resolv.conf", "", resolv_path, sizeof(resolv_path), err)) < 0)
			goto out;
		etc[2].src = resolv_path;
	}
	struct img_convert_in in = {
		.cfg = &c, .opts = o, .id = res->id, .rootfs = "rootfs", .passwd = passwd, .group = group,
		.volume_sources = vols, .extra_env = extra_env, .n_extra_env = n_extra_env,
		.etc_files = etc, .n_etc_files = bridge_net || (host_net && access("/etc/resolv.conf", R_OK) == 0) ? 3 : 2,
		.seccomp_json = seccomp, .hook_path = o->hook_binary, .hook_remove = o->rm, .bundle = cdir,
		.store = s.root,
	};
	if ((r = img_convert(&in, &json, err)) < 0)
		goto out;
	if ((r = write_text(cdir, "config.json", json, path, sizeof(path), err)) < 0)
		goto out;
	snprintf(res->bundle, sizeof(res->bundle), "%s", cdir);
out:
	if (r < 0 && created) {
		struct hull_err ignored;
		img_run_cleanup(ctx, cdir, true, &ignored);
	}
	for (size_t i = 0; i < n_extra_env; i++)
		free(extra_env[i]);
	free(extra_env);
	for (size_t i = 0; vols && i < c.n_volumes; i++)
		free(vols[i]);
	free(vols);
	img_manifest_free(&m);
	img_config_free(&c);
	img_store_close(&s);
	return r;
}

int img_run_cleanup(const struct hull_image_ctx *ctx, const char *bundle, bool remove, struct hull_err *err)
{
	char containers[SUBPATH_MAX], real[PATH_MAX], rootfs[SUBPATH_MAX], active[SUBPATH_MAX];
	const char *root = img_store_root(ctx->store);
	char rroot[PATH_MAX];
	if (!realpath(root, rroot))
		return hull_errf_sys(err, errno, "store `%s`", root);
	snprintf(containers, sizeof(containers), "%s/containers/", rroot);
	if (!realpath(bundle, real)) {
		if (errno == ENOENT)
			return 0;   /* already removed */
		return hull_errf_sys(err, errno, "`%s`", bundle);
	}
	/* only ever take apart what run_prepare made */
	if (strncmp(real, containers, strlen(containers)) != 0 || strchr(real + strlen(containers), '/') ||
	    !real[strlen(containers)])
		return hull_errf(err, EINVAL, "`%s` is not an image-run bundle under `%s`", bundle, containers);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", real);
	if (umount2(rootfs, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return hull_errf_sys(err, errno, "unmount `%s`", rootfs);
	snprintf(active, sizeof(active), "%s/active", real);
	unlink(active);
	if (remove)
		return img_rmtree(real, err);
	return 0;
}
