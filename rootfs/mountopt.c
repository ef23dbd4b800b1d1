#include "rootfs/mountopt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>

#include "lib/cleanup.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif

struct flag_opt {
	const char *name;
	bool clear;            /* the option removes the flag instead of setting it */
	unsigned long flag;
};

static const struct flag_opt flag_opts[] = {
	{ "defaults",      false, 0 },
	{ "ro",            false, MS_RDONLY },
	{ "rw",            true,  MS_RDONLY },
	{ "nosuid",        false, MS_NOSUID },
	{ "suid",          true,  MS_NOSUID },
	{ "nodev",         false, MS_NODEV },
	{ "dev",           true,  MS_NODEV },
	{ "noexec",        false, MS_NOEXEC },
	{ "exec",          true,  MS_NOEXEC },
	{ "sync",          false, MS_SYNCHRONOUS },
	{ "async",         true,  MS_SYNCHRONOUS },
	{ "dirsync",       false, MS_DIRSYNC },
	{ "remount",       false, MS_REMOUNT },
	{ "mand",          false, MS_MANDLOCK },
	{ "nomand",        true,  MS_MANDLOCK },
	{ "noatime",       false, MS_NOATIME },
	{ "atime",         true,  MS_NOATIME },
	{ "nodiratime",    false, MS_NODIRATIME },
	{ "diratime",      true,  MS_NODIRATIME },
	{ "relatime",      false, MS_RELATIME },
	{ "norelatime",    true,  MS_RELATIME },
	{ "strictatime",   false, MS_STRICTATIME },
	{ "nostrictatime", true,  MS_STRICTATIME },
	{ "lazytime",      false, MS_LAZYTIME },
	{ "nolazytime",    true,  MS_LAZYTIME },
	{ "iversion",      false, MS_I_VERSION },
	{ "noiversion",    true,  MS_I_VERSION },
	{ "silent",        false, MS_SILENT },
	{ "loud",          true,  MS_SILENT },
	{ "nosymfollow",   false, MS_NOSYMFOLLOW },
	{ "symfollow",     true,  MS_NOSYMFOLLOW },
};

static const struct { const char *name; unsigned long flag; } prop_opts[] = {
	{ "private",     MS_PRIVATE },
	{ "rprivate",    MS_PRIVATE | MS_REC },
	{ "shared",      MS_SHARED },
	{ "rshared",     MS_SHARED | MS_REC },
	{ "slave",       MS_SLAVE },
	{ "rslave",      MS_SLAVE | MS_REC },
	{ "unbindable",  MS_UNBINDABLE },
	{ "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Recursive attributes.  An atime entry sets one mode and clears the whole
 * __ATIME mask (mount_setattr rejects partial atime clears); the "undo"
 * forms of the atime modes fall back to the kernel default, relatime. */
struct rec_opt {
	const char *name;
	uint64_t set, clr;
};

static const struct rec_opt rec_opts[] = {
	{ "rro",            MOUNT_ATTR_RDONLY,      0 },
	{ "rrw",            0,                      MOUNT_ATTR_RDONLY },
	{ "rnosuid",        MOUNT_ATTR_NOSUID,      0 },
	{ "rsuid",          0,                      MOUNT_ATTR_NOSUID },
	{ "rnodev",         MOUNT_ATTR_NODEV,       0 },
	{ "rdev",           0,                      MOUNT_ATTR_NODEV },
	{ "rnoexec",        MOUNT_ATTR_NOEXEC,      0 },
	{ "rexec",          0,                      MOUNT_ATTR_NOEXEC },
	{ "rnodiratime",    MOUNT_ATTR_NODIRATIME,  0 },
	{ "rdiratime",      0,                      MOUNT_ATTR_NODIRATIME },
	{ "rnosymfollow",   MOUNT_ATTR_NOSYMFOLLOW, 0 },
	{ "rsymfollow",     0,                      MOUNT_ATTR_NOSYMFOLLOW },
	{ "rnoatime",       MOUNT_ATTR_NOATIME,     MOUNT_ATTR__ATIME },
	{ "rstrictatime",   MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME },
	{ "rrelatime",      MOUNT_ATTR_RELATIME,    MOUNT_ATTR__ATIME },
	{ "ratime",         MOUNT_ATTR_RELATIME,    MOUNT_ATTR__ATIME },
	{ "rnorelatime",    MOUNT_ATTR_RELATIME,    MOUNT_ATTR__ATIME },
	{ "rnostrictatime", MOUNT_ATTR_RELATIME,    MOUNT_ATTR__ATIME },
};

static int append_data(char **data, const char *opt)
{
	size_t old = *data ? strlen(*data) : 0, add = strlen(opt);
	char *nd = realloc(*data, old + add + 2);

	if (!nd)
		return -ENOMEM;
	if (old)
		nd[old++] = ',';
	memcpy(nd + old, opt, add + 1);
	*data = nd;
	return 0;
}

static bool parse_flag(struct mount_opts *o, const char *opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(flag_opts); i++) {
		if (strcmp(opt, flag_opts[i].name))
			continue;
		if (flag_opts[i].clear) {
			o->flags &= ~flag_opts[i].flag;
			o->clear |= flag_opts[i].flag;
		} else {
			o->flags |= flag_opts[i].flag;
			o->clear &= ~flag_opts[i].flag;
		}
		return true;
	}
	return false;
}

static int parse_propagation(struct mount_opts *o, const char *opt, struct hull_err *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(prop_opts); i++) {
		if (strcmp(opt, prop_opts[i].name))
			continue;
		if (o->n_propagation == MOUNTOPT_MAX_PROPAGATION)
			return hull_errf(err, EINVAL, "more than %d propagation options", MOUNTOPT_MAX_PROPAGATION);
		o->propagation[o->n_propagation++] = prop_opts[i].flag;
		return 1;
	}
	return 0;
}

static bool parse_recursive(struct mount_opts *o, const char *opt)
{
	for (size_t i = 0; i < ARRAY_SIZE(rec_opts); i++) {
		const struct rec_opt *r = &rec_opts[i];
		if (strcmp(opt, r->name))
			continue;
		if (r->clr & MOUNT_ATTR__ATIME) {
			o->rec_attr_clr |= MOUNT_ATTR__ATIME;
			o->rec_attr_set = (o->rec_attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | r->set;
		} else {
			/* last one wins */
			o->rec_attr_set = (o->rec_attr_set & ~r->clr) | r->set;
			o->rec_attr_clr = (o->rec_attr_clr & ~r->set) | r->clr;
		}
		return true;
	}
	return false;
}

static bool parse_special(struct mount_opts *o, const char *opt)
{
	if (!strcmp(opt, "bind")) {
		o->bind = true;
	} else if (!strcmp(opt, "rbind")) {
		o->bind = o->recursive = true;
	} else if (!strcmp(opt, "idmap")) {
		o->idmap = true;
	} else if (!strcmp(opt, "ridmap")) {
		o->idmap = o->idmap_recursive = true;
	} else if (!strcmp(opt, "tmpcopyup")) {
		o->tmpcopyup = true;
	} else {
		return false;
	}
	return true;
}

int mountopt_parse(char *const *opts, size_t n, struct mount_opts *out, struct hull_err *err)
{
	struct mount_opts o = { 0 };

	for (size_t i = 0; i < n; i++) {
		const char *opt = opts[i];
		int r;

		if (!opt || !*opt)
			continue;
		if (parse_special(&o, opt) || parse_flag(&o, opt) || parse_recursive(&o, opt))
			continue;
		r = parse_propagation(&o, opt, err);
		if (r < 0) {
			mountopt_free(&o);
			return r;
		}
		if (r)
			continue;
		if (append_data(&o.data, opt) < 0) {
			mountopt_free(&o);
			return hull_errf_sys(err, ENOMEM, "mount options");
		}
	}
	*out = o;
	return 0;
}

void mountopt_free(struct mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}

void mountopt_bind_attrs(const struct mount_opts *o, uint64_t *attr_set, uint64_t *attr_clr)
{
	static const struct { unsigned long ms; uint64_t attr; } simple[] = {
		{ MS_RDONLY, MOUNT_ATTR_RDONLY },
		{ MS_NOSUID, MOUNT_ATTR_NOSUID },
		{ MS_NODEV, MOUNT_ATTR_NODEV },
		{ MS_NOEXEC, MOUNT_ATTR_NOEXEC },
		{ MS_NODIRATIME, MOUNT_ATTR_NODIRATIME },
		{ MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW },
	};
	uint64_t set = 0, clr = 0;

	for (size_t i = 0; i < ARRAY_SIZE(simple); i++) {
		if (o->flags & simple[i].ms)
			set |= simple[i].attr;
		else if (o->clear & simple[i].ms)
			clr |= simple[i].attr;
	}
	/* One atime mode at most; the strongest explicit request wins. */
	if (o->flags & MS_NOATIME) {
		set |= MOUNT_ATTR_NOATIME;
		clr |= MOUNT_ATTR__ATIME;
	} else if (o->flags & MS_STRICTATIME) {
		set |= MOUNT_ATTR_STRICTATIME;
		clr |= MOUNT_ATTR__ATIME;
	} else if ((o->flags & MS_RELATIME) || (o->clear & (MS_NOATIME | MS_STRICTATIME))) {
		set |= MOUNT_ATTR_RELATIME;
		clr |= MOUNT_ATTR__ATIME;
	}
	*attr_set = set;
	*attr_clr = clr;
}

unsigned long mountopt_flags_from_statvfs(unsigned long f_flag)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_RDONLY, MS_RDONLY },
		{ ST_NOSUID, MS_NOSUID },
		{ ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC },
		{ ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME },
		{ ST_RELATIME, MS_RELATIME },
	};
	unsigned long ms = 0;

	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (f_flag & map[i].st)
			ms |= map[i].ms;
	return ms;
}
