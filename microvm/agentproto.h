/* agentproto.h — the message protocol between hull (host) and its guest
 * agent, spoken over one virtio-vsock stream per process (see
 * microvm/guest/PROTOCOL.md).
 *
 * A message is an 8-byte header (type, payload length; both u32
 * little-endian) followed by the payload.  Payloads are at most
 * AP_MAX_PAYLOAD bytes; a reader refuses anything larger, so neither side can
 * make the other allocate without bound.  Strings are u32 length + bytes
 * (no NUL; an embedded NUL is refused).  This file is shared by the host
 * (libhull) and the static agent, so it depends on libc only and reports
 * errors as negative errno.
 */
#ifndef HULL_MICROVM_AGENTPROTO_H
#define HULL_MICROVM_AGENTPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AP_HDR_LEN 8
#define AP_MAX_PAYLOAD (1u << 20)
#define AP_MAX_STRINGS 65536u
#define AP_MAX_GIDS 65536u

/* Guest vsock ports: the agent connects to the host on AP_PORT_INIT for the
 * container's process; it listens on AP_PORT_EXEC for `hull exec`. */
#define AP_PORT_INIT 1024u
#define AP_PORT_EXEC 1025u

enum ap_type {
	AP_START = 1,       /* host→guest: an encoded ap_process to run */
	AP_STDIN = 2,       /* host→guest: bytes for the process's stdin */
	AP_STDIN_EOF = 3,   /* host→guest: stdin closed */
	AP_STDOUT = 4,      /* guest→host: bytes the process wrote to stdout (or the tty) */
	AP_STDERR = 5,      /* guest→host: bytes the process wrote to stderr */
	AP_EXIT = 6,        /* guest→host: u32 exit code (0-255, 128+N for signal N) */
	AP_SIGNAL = 7,      /* host→guest: u32 signal number for the process */
	AP_RESIZE = 8,      /* host→guest: u32 rows, u32 cols of the tty */
	AP_ERROR = 9,       /* guest→host: text; the process could not be started */
	AP_SHUTDOWN = 10,   /* host→guest: power the VM off */
};

#define AP_MAX_RLIMITS 64u

struct ap_rlimit {
	uint32_t resource;
	uint64_t soft, hard;
};

struct ap_process {
	bool terminal;
	uint32_t uid, gid;
	uint32_t n_gids;
	uint32_t *gids;
	uint32_t rows, cols;  /* initial tty size; 0 = unset */
	char *cwd;
	uint32_t n_args;
	char **args;          /* NULL-terminated */
	uint32_t n_env;
	char **env;           /* NULL-terminated */
	char *hostname;       /* may be NULL */
	/* Security settings the agent applies in the child before exec. */
	bool no_new_privs;
	bool has_caps;        /* else the capability sets are left as they are */
	uint64_t cap_bounding, cap_effective, cap_inheritable, cap_permitted, cap_ambient;
	bool has_umask;
	uint32_t umask;
	uint32_t n_rlimits;
	struct ap_rlimit *rlimits;
	/* Applied once, for the container's process (not for exec). */
	uint32_t n_masked;
	char **masked;        /* NULL-terminated */
	uint32_t n_readonly;
	char **readonly;      /* NULL-terminated */
};

struct ap_buf {
	uint8_t *data;
	size_t len, cap;
};

int ap_put_u32(struct ap_buf *b, uint32_t v);
int ap_put_bytes(struct ap_buf *b, const void *data, size_t len);
int ap_put_str(struct ap_buf *b, const char *s);   /* NULL encodes as "" */
void ap_buf_free(struct ap_buf *b);

struct ap_reader {
	const uint8_t *p;
	size_t left;
};

int ap_get_u32(struct ap_reader *r, uint32_t *v);
/* A freshly allocated NUL-terminated copy. */
int ap_get_str(struct ap_reader *r, char **out);

int ap_process_encode(const struct ap_process *p, struct ap_buf *out);
/* Every length and count is checked against the payload; on failure nothing
 * stays allocated. */
int ap_process_decode(const void *data, size_t len, struct ap_process *out);
void ap_process_free(struct ap_process *p);

/* Header encoding, exposed for tests and for non-blocking readers. */
void ap_hdr_encode(uint8_t hdr[AP_HDR_LEN], uint32_t type, uint32_t len);
int ap_hdr_decode(const uint8_t hdr[AP_HDR_LEN], uint32_t *type, uint32_t *len);

/* Blocking I/O on a stream socket (EINTR retried).  ap_recv reads one whole
 * message; its payload must fit cap (else -EMSGSIZE, the stream is then
 * unusable).  0 = ok, -EPIPE = clean EOF before a header, other negative errno. */
int ap_send(int fd, uint32_t type, const void *data, uint32_t len);
int ap_send_u32(int fd, uint32_t type, uint32_t v);
int ap_recv(int fd, uint32_t *type, void *buf, size_t cap, uint32_t *len);

#endif
