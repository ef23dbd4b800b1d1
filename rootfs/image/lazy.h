/* lazy.h — libarchive and libcrypto, loaded on first use.
 *
 * Why: an image run of a stored image needs neither (no unpacking, and the
 * store's blobs were verified when they were written), yet mapping them costs
 * more than the rest of the run's image work: libcrypto ~8 ms, libarchive ~4 ms
 * (it drags in libxml2 and ICU).  So hull-image.so does not link them; the
 * first caller of an unpack or a hash loads them with dlopen() and every call
 * site below goes through a function pointer (the #defines rename them).
 * Files include <archive.h>/<openssl/evp.h> first, then this header.
 *
 * img_lazy_archive()/img_lazy_crypto(): 0, or -ENOSYS with a message.  The
 * hash helpers in digest.c load libcrypto themselves and fail closed.
 */
#ifndef HULL_ROOTFS_IMAGE_LAZY_H
#define HULL_ROOTFS_IMAGE_LAZY_H

#include "lib/err.h"

int img_lazy_archive(struct hull_err *err);
int img_lazy_crypto(struct hull_err *err);

#define LAZY_ARCHIVE_FUNCS(X) \
	X(struct archive *, archive_read_new, (void)) \
	X(int, archive_read_free, (struct archive *)) \
	X(const char *, archive_error_string, (struct archive *)) \
	X(void, archive_set_error, (struct archive *, int, const char *, ...)) \
	X(int, archive_read_support_filter_all, (struct archive *)) \
	X(int, archive_read_support_filter_gzip, (struct archive *)) \
	X(int, archive_read_support_filter_zstd, (struct archive *)) \
	X(int, archive_read_support_filter_none, (struct archive *)) \
	X(int, archive_read_support_format_raw, (struct archive *)) \
	X(int, archive_read_support_format_empty, (struct archive *)) \
	X(int, archive_read_support_format_tar, (struct archive *)) \
	X(int, archive_read_open, (struct archive *, void *, archive_open_callback *, archive_read_callback *, archive_close_callback *)) \
	X(int, archive_read_open_filename, (struct archive *, const char *, size_t)) \
	X(int, archive_read_next_header, (struct archive *, struct archive_entry **)) \
	X(la_ssize_t, archive_read_data, (struct archive *, void *, size_t)) \
	X(int, archive_read_data_block, (struct archive *, const void **, size_t *, la_int64_t *)) \
	X(const char *, archive_entry_pathname, (struct archive_entry *)) \
	X(const char *, archive_entry_hardlink, (struct archive_entry *)) \
	X(const char *, archive_entry_symlink, (struct archive_entry *)) \
	X(__LA_MODE_T, archive_entry_filetype, (struct archive_entry *)) \
	X(__LA_MODE_T, archive_entry_perm, (struct archive_entry *)) \
	X(la_int64_t, archive_entry_uid, (struct archive_entry *)) \
	X(la_int64_t, archive_entry_gid, (struct archive_entry *)) \
	X(time_t, archive_entry_mtime, (struct archive_entry *)) \
	X(long, archive_entry_mtime_nsec, (struct archive_entry *)) \
	X(time_t, archive_entry_atime, (struct archive_entry *)) \
	X(int, archive_entry_atime_is_set, (struct archive_entry *)) \
	X(la_int64_t, archive_entry_size, (struct archive_entry *)) \
	X(int, archive_entry_size_is_set, (struct archive_entry *)) \
	X(dev_t, archive_entry_rdevmajor, (struct archive_entry *)) \
	X(dev_t, archive_entry_rdevminor, (struct archive_entry *)) \
	X(int, archive_entry_xattr_reset, (struct archive_entry *)) \
	X(int, archive_entry_xattr_next, (struct archive_entry *, const char **, const void **, size_t *))

#define LAZY_CRYPTO_FUNCS(X) \
	X(EVP_MD_CTX *, EVP_MD_CTX_new, (void)) \
	X(void, EVP_MD_CTX_free, (EVP_MD_CTX *)) \
	X(const EVP_MD *, EVP_sha256, (void)) \
	X(int, EVP_DigestInit_ex, (EVP_MD_CTX *, const EVP_MD *, ENGINE *)) \
	X(int, EVP_DigestUpdate, (EVP_MD_CTX *, const void *, size_t)) \
	X(int, EVP_DigestFinal_ex, (EVP_MD_CTX *, unsigned char *, unsigned int *)) \
	X(int, EVP_Digest, (const void *, size_t, unsigned char *, unsigned int *, const EVP_MD *, ENGINE *)) \
	X(int, EVP_DecodeBlock, (unsigned char *, const unsigned char *, int))

#ifdef ARCHIVE_VERSION_NUMBER
#define X(ret, name, args) extern ret(*lazy_##name) args;
LAZY_ARCHIVE_FUNCS(X)
#undef X
#ifndef HULL_LAZY_IMPL
#define archive_read_new lazy_archive_read_new
#define archive_read_free lazy_archive_read_free
#define archive_error_string lazy_archive_error_string
#define archive_set_error lazy_archive_set_error
#define archive_read_support_filter_all lazy_archive_read_support_filter_all
#define archive_read_support_filter_gzip lazy_archive_read_support_filter_gzip
#define archive_read_support_filter_zstd lazy_archive_read_support_filter_zstd
#define archive_read_support_filter_none lazy_archive_read_support_filter_none
#define archive_read_support_format_raw lazy_archive_read_support_format_raw
#define archive_read_support_format_empty lazy_archive_read_support_format_empty
#define archive_read_support_format_tar lazy_archive_read_support_format_tar
#define archive_read_open lazy_archive_read_open
#define archive_read_open_filename lazy_archive_read_open_filename
#define archive_read_next_header lazy_archive_read_next_header
#define archive_read_data lazy_archive_read_data
#define archive_read_data_block lazy_archive_read_data_block
#define archive_entry_pathname lazy_archive_entry_pathname
#define archive_entry_hardlink lazy_archive_entry_hardlink
#define archive_entry_symlink lazy_archive_entry_symlink
#define archive_entry_filetype lazy_archive_entry_filetype
#define archive_entry_perm lazy_archive_entry_perm
#define archive_entry_uid lazy_archive_entry_uid
#define archive_entry_gid lazy_archive_entry_gid
#define archive_entry_mtime lazy_archive_entry_mtime
#define archive_entry_mtime_nsec lazy_archive_entry_mtime_nsec
#define archive_entry_atime lazy_archive_entry_atime
#define archive_entry_atime_is_set lazy_archive_entry_atime_is_set
#define archive_entry_size lazy_archive_entry_size
#define archive_entry_size_is_set lazy_archive_entry_size_is_set
#define archive_entry_rdevmajor lazy_archive_entry_rdevmajor
#define archive_entry_rdevminor lazy_archive_entry_rdevminor
#define archive_entry_xattr_reset lazy_archive_entry_xattr_reset
#define archive_entry_xattr_next lazy_archive_entry_xattr_next
#endif
#endif

#ifdef EVP_MAX_MD_SIZE
#define X(ret, name, args) extern ret(*lazy_##name) args;
LAZY_CRYPTO_FUNCS(X)
#undef X
#ifndef HULL_LAZY_IMPL
#define EVP_MD_CTX_new lazy_EVP_MD_CTX_new
#define EVP_MD_CTX_free lazy_EVP_MD_CTX_free
#define EVP_sha256 lazy_EVP_sha256
#define EVP_DigestInit_ex lazy_EVP_DigestInit_ex
#define EVP_DigestUpdate lazy_EVP_DigestUpdate
#define EVP_DigestFinal_ex lazy_EVP_DigestFinal_ex
#define EVP_Digest lazy_EVP_Digest
#define EVP_DecodeBlock lazy_EVP_DecodeBlock
#endif
#endif

#endif
