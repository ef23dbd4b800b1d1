/* Unit tests for microvm/agentproto.c: the host↔agent message encoding,
 * including truncated, oversized and malformed input from the other side,
 * and microvm/initramfs.c's newc headers. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "microvm/agentproto.h"
#include "microvm/initramfs.h"

static char *args3[] = { "sh", "-c", "echo hi", NULL };
static char *env2[] = { "PATH=/bin", "TERM=xterm", NULL };
static uint32_t gids[] = { 10, 20 };

static struct ap_rlimit rlims[] = { { 7, 1024, 4096 }, { 1, UINT64_MAX, UINT64_MAX } };
static char *masked1[] = { "/proc/kcore", NULL };

static struct ap_process sample(void)
{
	return (struct ap_process){ .terminal = true, .uid = 1000, .gid = 1001, .n_gids = 2, .gids = gids,
				    .rows = 24, .cols = 80, .cwd = "/work", .n_args = 3, .args = args3,
				    .n_env = 2, .env = env2, .hostname = "box", .no_new_privs = true,
				    .has_caps = true, .cap_bounding = 0x20000420, .cap_effective = 1ull << 40,
				    .cap_ambient = 0x20, .has_umask = true, .umask = 022, .n_rlimits = 2,
				    .rlimits = rlims, .n_masked = 1, .masked = masked1 };
}

static void encode_sample(struct ap_buf *b)
{
	struct ap_process p = sample();

	memset(b, 0, sizeof(*b));
	assert_int_equal(ap_process_encode(&p, b), 0);
}

static void test_process_roundtrip(void **state)
{
	struct ap_buf b;
	struct ap_process out;

	(void)state;
	encode_sample(&b);
	assert_int_equal(ap_process_decode(b.data, b.len, &out), 0);
	assert_true(out.terminal);
	assert_int_equal(out.uid, 1000);
	assert_int_equal(out.gid, 1001);
	assert_int_equal(out.n_gids, 2);
	assert_int_equal(out.gids[1], 20);
	assert_int_equal(out.rows, 24);
	assert_int_equal(out.cols, 80);
	assert_string_equal(out.cwd, "/work");
	assert_int_equal(out.n_args, 3);
	assert_string_equal(out.args[2], "echo hi");
	assert_null(out.args[3]);   /* ready for execve */
	assert_int_equal(out.n_env, 2);
	assert_string_equal(out.env[1], "TERM=xterm");
	assert_null(out.env[2]);
	assert_string_equal(out.hostname, "box");
	assert_true(out.no_new_privs);
	assert_true(out.has_caps);
	assert_int_equal(out.cap_bounding, 0x20000420);
	assert_true(out.cap_effective == 1ull << 40);
	assert_int_equal(out.cap_ambient, 0x20);
	assert_int_equal(out.cap_permitted, 0);
	assert_true(out.has_umask);
	assert_int_equal(out.umask, 022);
	assert_int_equal(out.n_rlimits, 2);
	assert_int_equal(out.rlimits[0].resource, 7);
	assert_int_equal(out.rlimits[0].soft, 1024);
	assert_int_equal(out.rlimits[0].hard, 4096);
	assert_true(out.rlimits[1].hard == UINT64_MAX);
	assert_int_equal(out.n_masked, 1);
	assert_string_equal(out.masked[0], "/proc/kcore");
	assert_null(out.masked[1]);
	assert_int_equal(out.n_readonly, 0);
	ap_process_free(&out);
	ap_buf_free(&b);
}

static void test_process_no_hostname(void **state)
{
	struct ap_process p = sample(), out;
	struct ap_buf b = { 0 };

	(void)state;
	p.hostname = NULL;
	p.n_gids = 0;
	p.terminal = false;
	p.has_caps = false;
	p.n_rlimits = 0;
	assert_int_equal(ap_process_encode(&p, &b), 0);
	assert_int_equal(ap_process_decode(b.data, b.len, &out), 0);
	assert_null(out.hostname);
	assert_null(out.gids);
	assert_false(out.terminal);
	assert_false(out.has_caps);
	assert_int_equal(out.cap_bounding, 0);
	assert_null(out.rlimits);
	ap_process_free(&out);
	ap_buf_free(&b);
}

/* Every prefix of a valid message is refused, and nothing leaks (ASan). */
static void test_process_truncated(void **state)
{
	struct ap_buf b;
	struct ap_process out;

	(void)state;
	encode_sample(&b);
	for (size_t len = 0; len < b.len; len++)
		assert_int_equal(ap_process_decode(b.data, len, &out), -EBADMSG);
	ap_buf_free(&b);
}

static void test_process_trailing_bytes(void **state)
{
	struct ap_buf b;
	struct ap_process out;

	(void)state;
	encode_sample(&b);
	assert_int_equal(ap_put_u32(&b, 7), 0);
	assert_int_equal(ap_process_decode(b.data, b.len, &out), -EBADMSG);
	ap_buf_free(&b);
}

static void put_le(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Counts and lengths far beyond the payload must not drive allocation or reads. */
static void test_process_hostile_counts(void **state)
{
	struct ap_buf b;
	struct ap_process out;
	uint8_t *copy;

	(void)state;
	encode_sample(&b);
	copy = malloc(b.len);
	/* n_gids at offset 12 */
	memcpy(copy, b.data, b.len);
	put_le(copy + 12, 0xffffffffu);
	assert_int_equal(ap_process_decode(copy, b.len, &out), -EBADMSG);
	/* cwd length at 12 + 4 + 2*4 (gids) + 8 (rows, cols) */
	memcpy(copy, b.data, b.len);
	put_le(copy + 32, 0x7fffffffu);
	assert_int_equal(ap_process_decode(copy, b.len, &out), -EBADMSG);
	/* flags other than 0/1 */
	memcpy(copy, b.data, b.len);
	put_le(copy, 2);
	assert_int_equal(ap_process_decode(copy, b.len, &out), -EBADMSG);
	/* argc: huge */
	memcpy(copy, b.data, b.len);
	put_le(copy + 36 + 5, 0x10000000u);
	assert_int_equal(ap_process_decode(copy, b.len, &out), -EBADMSG);
	/* rlimit count: huge (it sits 4 + 4 + 40 + 8 bytes after the hostname) */
	memcpy(copy, b.data, b.len);
	{
		size_t at = b.len - 4 - 4 - (4 + 11) - 2 * 20 - 4;   /* readonly list, masked list, rlimits */
		uint32_t was = (uint32_t)copy[at] | (uint32_t)copy[at + 1] << 8;
		assert_int_equal(was, 2);
		put_le(copy + at, 1000000);
		assert_int_equal(ap_process_decode(copy, b.len, &out), -EBADMSG);
	}
	/* umask beyond 0777 */
	memcpy(copy, b.data, b.len);
	{
		size_t at = b.len - 4 - (4 + 4 + 11) - 2 * 20 - 4 - 4;
		assert_int_equal(copy[at], 022);
		put_le(copy + at, 010000);
		assert_int_equal(ap_process_decode(copy, b.len, &out), -EBADMSG);
	}
	free(copy);
	ap_buf_free(&b);
}

static void test_process_embedded_nul(void **state)
{
	struct ap_buf b;
	struct ap_process out;

	(void)state;
	encode_sample(&b);
	/* cwd "/work" starts at 36: make it "/w\0rk" */
	assert_int_equal(b.data[36 + 2], 'o');
	b.data[36 + 2] = 0;
	assert_int_equal(ap_process_decode(b.data, b.len, &out), -EBADMSG);
	ap_buf_free(&b);
}

static void test_process_empty_args(void **state)
{
	struct ap_process p = sample(), out;
	struct ap_buf b = { 0 };

	(void)state;
	p.n_args = 0;
	assert_int_equal(ap_process_encode(&p, &b), 0);
	assert_int_equal(ap_process_decode(b.data, b.len, &out), -EBADMSG);
	ap_buf_free(&b);
}

static void test_header(void **state)
{
	uint8_t h[AP_HDR_LEN];
	uint32_t type, len;

	(void)state;
	ap_hdr_encode(h, AP_EXIT, 4);
	assert_memory_equal(h, "\x06\0\0\0\x04\0\0\0", 8);
	assert_int_equal(ap_hdr_decode(h, &type, &len), 0);
	assert_int_equal(type, AP_EXIT);
	assert_int_equal(len, 4);
	ap_hdr_encode(h, AP_STDOUT, AP_MAX_PAYLOAD + 1);
	assert_int_equal(ap_hdr_decode(h, &type, &len), -EMSGSIZE);
}

static void test_send_recv(void **state)
{
	int sv[2];
	uint8_t buf[64], big[1000];
	uint32_t type, len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(big, 'x', sizeof(big));
	assert_int_equal(ap_send_u32(sv[0], AP_EXIT, 137), 0);
	assert_int_equal(ap_send(sv[0], AP_STDIN_EOF, NULL, 0), 0);
	assert_int_equal(ap_send(sv[0], AP_STDOUT, big, sizeof(big)), 0);
	assert_int_equal(ap_recv(sv[1], &type, buf, sizeof(buf), &len), 0);
	assert_int_equal(type, AP_EXIT);
	assert_int_equal(len, 4);
	assert_int_equal(buf[0], 137);
	assert_int_equal(ap_recv(sv[1], &type, buf, sizeof(buf), &len), 0);
	assert_int_equal(type, AP_STDIN_EOF);
	assert_int_equal(len, 0);
	/* Larger than the reader's buffer: refused, not overrun. */
	assert_int_equal(ap_recv(sv[1], &type, buf, sizeof(buf), &len), -EMSGSIZE);
	close(sv[0]);
	close(sv[1]);
}

static void test_recv_eof(void **state)
{
	int sv[2];
	uint8_t buf[16];
	uint32_t type, len;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* A header cut short by EOF is an error too. */
	assert_int_equal(write(sv[0], "\x04\0\0", 3), 3);
	close(sv[0]);
	assert_int_equal(ap_recv(sv[1], &type, buf, sizeof(buf), &len), -EPIPE);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	close(sv[0]);
	assert_int_equal(ap_recv(sv[1], &type, buf, sizeof(buf), &len), -EPIPE);
	close(sv[1]);
}

/* newc: header fields, 4-byte padding, 512-byte trailer alignment. */
static void test_initramfs(void **state)
{
	struct cpio_writer w;
	struct hull_err err = { 0 };
	int fd = memfd_create("t", 0), src = memfd_create("s", 0);
	char buf[1024];
	ssize_t n;

	(void)state;
	assert_int_equal(write(src, "hello", 5), 5);
	cpio_init(&w, fd);
	assert_int_equal(cpio_add_dir(&w, "dev", 0755, &err), 0);
	assert_int_equal(cpio_add_chardev(&w, "dev/console", 0600, 5, 1, &err), 0);
	assert_int_equal(cpio_add_file(&w, "init", 0755, src, &err), 0);
	assert_int_equal(cpio_finish(&w, &err), 0);
	cpio_release(&w);
	n = pread(fd, buf, sizeof(buf), 0);
	assert_int_equal(n % 512, 0);
	assert_memory_equal(buf, "070701", 6);
	assert_memory_equal(buf + 14, "000041ED", 8);          /* dir 0755 */
	assert_memory_equal(buf + 110, "dev\0", 4);
	/* second header at 112 + 4 = 116 (110 + "dev\0" padded to 4) */
	assert_memory_equal(buf + 116, "070701", 6);
	assert_memory_equal(buf + 116 + 14, "00002180", 8);    /* chr 0600 */
	assert_memory_equal(buf + 116 + 78, "0000000500000001", 16);  /* rdev 5:1 */
	assert_non_null(memmem(buf, (size_t)n, "init\0\0hello", 11));
	assert_non_null(memmem(buf, (size_t)n, "TRAILER!!!", 10));
	close(fd);
	close(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_roundtrip),
		cmocka_unit_test(test_process_no_hostname),
		cmocka_unit_test(test_process_truncated),
		cmocka_unit_test(test_process_trailing_bytes),
		cmocka_unit_test(test_process_hostile_counts),
		cmocka_unit_test(test_process_embedded_nul),
		cmocka_unit_test(test_process_empty_args),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_send_recv),
		cmocka_unit_test(test_recv_eof),
		cmocka_unit_test(test_initramfs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
