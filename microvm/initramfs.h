/* initramfs.h — write a "newc" cpio archive (the Linux initramfs format)
 * into a file descriptor, without running cpio.
 *
 * Used to hand the guest agent (and, for now, the container's root
 * filesystem) to a VM.  Trees are read through openat()/fstatat() with
 * O_NOFOLLOW relative to a directory fd, so a symlink in the tree is archived
 * as a symlink and never followed; entries on another filesystem than the
 * tree's root (mount points such as /proc) become empty directories.  Files
 * with several links are stored once and linked by the kernel's unpacker.
 */
#ifndef HULL_MICROVM_INITRAMFS_H
#define HULL_MICROVM_INITRAMFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/err.h"

struct cpio_link {
	dev_t dev;
	ino_t ino;
	uint32_t cpio_ino;
};

struct cpio_writer {
	int fd;
	uint64_t offset;
	uint32_t next_ino;
	struct cpio_link *links;
	size_t n_links, cap_links;
};

void cpio_init(struct cpio_writer *w, int fd);
void cpio_release(struct cpio_writer *w);

int cpio_add_dir(struct cpio_writer *w, const char *name, mode_t mode, struct hull_err *err);
int cpio_add_chardev(struct cpio_writer *w, const char *name, mode_t mode, unsigned major, unsigned minor,
		     struct hull_err *err);
/* Regular file: the whole content of src_fd (from offset 0). */
int cpio_add_file(struct cpio_writer *w, const char *name, mode_t mode, int src_fd, struct hull_err *err);
/* Everything below dirfd, stored under prefix ("rootfs" → "rootfs/bin/sh"). */
int cpio_add_tree(struct cpio_writer *w, const char *prefix, int dirfd, struct hull_err *err);
/* The trailer; the archive is complete after this. */
int cpio_finish(struct cpio_writer *w, struct hull_err *err);

#endif
