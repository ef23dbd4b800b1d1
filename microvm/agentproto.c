#include "microvm/agentproto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int reserve(struct ap_buf *b, size_t more)
{
	size_t want, cap;
	uint8_t *n;

	if (more > AP_MAX_PAYLOAD || b->len > AP_MAX_PAYLOAD - more)
		return -EMSGSIZE;
	want = b->len + more;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	n = realloc(b->data, cap);
	if (!n)
		return -ENOMEM;
	b->data = n;
	b->cap = cap;
	return 0;
}

int ap_put_u32(struct ap_buf *b, uint32_t v)
{
	int r = reserve(b, 4);

	if (r < 0)
		return r;
	put_le32(b->data + b->len, v);
	b->len += 4;
	return 0;
}

int ap_put_bytes(struct ap_buf *b, const void *data, size_t len)
{
	int r = reserve(b, len);

	if (r < 0)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int ap_put_str(struct ap_buf *b, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	int r;

	if (n > AP_MAX_PAYLOAD)
		return -EMSGSIZE;
	if ((r = ap_put_u32(b, (uint32_t)n)) < 0)
		return r;
	return ap_put_bytes(b, s, n);
}

void ap_buf_free(struct ap_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int ap_get_u32(struct ap_reader *r, uint32_t *v)
{
	if (r->left < 4)
		return -EBADMSG;
	*v = get_le32(r->p);
	r->p += 4;
	r->left -= 4;
	return 0;
}

static int put_u64(struct ap_buf *b, uint64_t v)
{
	int r = ap_put_u32(b, (uint32_t)v);

	return r < 0 ? r : ap_put_u32(b, (uint32_t)(v >> 32));
}

static int get_u64(struct ap_reader *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (ap_get_u32(r, &lo) < 0 || ap_get_u32(r, &hi) < 0)
		return -EBADMSG;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int ap_get_str(struct ap_reader *r, char **out)
{
	uint32_t n;
	char *s;

	*out = NULL;
	if (ap_get_u32(r, &n) < 0 || n > r->left || memchr(r->p, 0, n))
		return -EBADMSG;
	s = malloc((size_t)n + 1);
	if (!s)
		return -ENOMEM;
	memcpy(s, r->p, n);
	s[n] = '\0';
	r->p += n;
	r->left -= n;
	*out = s;
	return 0;
}

static int put_strv(struct ap_buf *b, char *const *v, uint32_t n)
{
	int r;

	if (n > AP_MAX_STRINGS)
		return -E2BIG;
	if ((r = ap_put_u32(b, n)) < 0)
		return r;
	for (uint32_t i = 0; i < n; i++)
		if ((r = ap_put_str(b, v[i])) < 0)
			return r;
	return 0;
}

static int get_strv(struct ap_reader *r, char ***out, uint32_t *count)
{
	uint32_t n;
	char **v;
	int ret;

	if (ap_get_u32(r, &n) < 0 || n > AP_MAX_STRINGS || n > r->left / 4)
		return -EBADMSG;
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	*out = v;
	*count = n;
	for (uint32_t i = 0; i < n; i++)
		if ((ret = ap_get_str(r, &v[i])) < 0)
			return ret;   /* the caller frees the partial vector */
	return 0;
}

int ap_process_encode(const struct ap_process *p, struct ap_buf *out)
{
	int r;

	if (p->n_gids > AP_MAX_GIDS)
		return -E2BIG;
	if ((r = ap_put_u32(out, p->terminal ? 1 : 0)) < 0 || (r = ap_put_u32(out, p->uid)) < 0 ||
	    (r = ap_put_u32(out, p->gid)) < 0 || (r = ap_put_u32(out, p->n_gids)) < 0)
		return r;
	for (uint32_t i = 0; i < p->n_gids; i++)
		if ((r = ap_put_u32(out, p->gids[i])) < 0)
			return r;
	if ((r = ap_put_u32(out, p->rows)) < 0 || (r = ap_put_u32(out, p->cols)) < 0 ||
	    (r = ap_put_str(out, p->cwd)) < 0 || (r = put_strv(out, p->args, p->n_args)) < 0 ||
	    (r = put_strv(out, p->env, p->n_env)) < 0 || (r = ap_put_u32(out, p->hostname ? 1 : 0)) < 0)
		return r;
	if (p->hostname && (r = ap_put_str(out, p->hostname)) < 0)
		return r;
	if (p->n_rlimits > AP_MAX_RLIMITS)
		return -E2BIG;
	if ((r = ap_put_u32(out, p->no_new_privs ? 1 : 0)) < 0 || (r = ap_put_u32(out, p->has_caps ? 1 : 0)) < 0)
		return r;
	if (p->has_caps && ((r = put_u64(out, p->cap_bounding)) < 0 || (r = put_u64(out, p->cap_effective)) < 0 ||
			    (r = put_u64(out, p->cap_inheritable)) < 0 || (r = put_u64(out, p->cap_permitted)) < 0 ||
			    (r = put_u64(out, p->cap_ambient)) < 0))
		return r;
	if ((r = ap_put_u32(out, p->has_umask ? 1 : 0)) < 0 || (r = ap_put_u32(out, p->umask)) < 0 ||
	    (r = ap_put_u32(out, p->n_rlimits)) < 0)
		return r;
	for (uint32_t i = 0; i < p->n_rlimits; i++)
		if ((r = ap_put_u32(out, p->rlimits[i].resource)) < 0 || (r = put_u64(out, p->rlimits[i].soft)) < 0 ||
		    (r = put_u64(out, p->rlimits[i].hard)) < 0)
			return r;
	if ((r = put_strv(out, p->masked, p->n_masked)) < 0 || (r = put_strv(out, p->readonly, p->n_readonly)) < 0)
		return r;
	return 0;
}

void ap_process_free(struct ap_process *p)
{
	if (p->args)
		for (uint32_t i = 0; i < p->n_args; i++)
			free(p->args[i]);
	if (p->env)
		for (uint32_t i = 0; i < p->n_env; i++)
			free(p->env[i]);
	if (p->masked)
		for (uint32_t i = 0; i < p->n_masked; i++)
			free(p->masked[i]);
	if (p->readonly)
		for (uint32_t i = 0; i < p->n_readonly; i++)
			free(p->readonly[i]);
	free(p->masked);
	free(p->readonly);
	free(p->rlimits);
	free(p->args);
	free(p->env);
	free(p->gids);
	free(p->cwd);
	free(p->hostname);
	memset(p, 0, sizeof(*p));
}

int ap_process_decode(const void *data, size_t len, struct ap_process *out)
{
	struct ap_reader r = { .p = data, .left = len };
	uint32_t flags, has_host;
	int ret = -EBADMSG;

	memset(out, 0, sizeof(*out));
	if (ap_get_u32(&r, &flags) < 0 || flags > 1 || ap_get_u32(&r, &out->uid) < 0 ||
	    ap_get_u32(&r, &out->gid) < 0 || ap_get_u32(&r, &out->n_gids) < 0)
		goto fail;
	out->terminal = flags & 1;
	if (out->n_gids > AP_MAX_GIDS || out->n_gids > r.left / 4)
		goto fail;
	if (out->n_gids) {
		out->gids = calloc(out->n_gids, sizeof(*out->gids));
		if (!out->gids) {
			ret = -ENOMEM;
			goto fail;
		}
		for (uint32_t i = 0; i < out->n_gids; i++)
			ap_get_u32(&r, &out->gids[i]);
	}
	if (ap_get_u32(&r, &out->rows) < 0 || ap_get_u32(&r, &out->cols) < 0)
		goto fail;
	if ((ret = ap_get_str(&r, &out->cwd)) < 0 || (ret = get_strv(&r, &out->args, &out->n_args)) < 0 ||
	    (ret = get_strv(&r, &out->env, &out->n_env)) < 0)
		goto fail;
	ret = -EBADMSG;
	if (ap_get_u32(&r, &has_host) < 0 || has_host > 1)
		goto fail;
	if (has_host && (ret = ap_get_str(&r, &out->hostname)) < 0)
		goto fail;
	ret = -EBADMSG;
	if (ap_get_u32(&r, &flags) < 0 || flags > 1)
		goto fail;
	out->no_new_privs = flags;
	if (ap_get_u32(&r, &flags) < 0 || flags > 1)
		goto fail;
	out->has_caps = flags;
	if (out->has_caps && (get_u64(&r, &out->cap_bounding) < 0 || get_u64(&r, &out->cap_effective) < 0 ||
			      get_u64(&r, &out->cap_inheritable) < 0 || get_u64(&r, &out->cap_permitted) < 0 ||
			      get_u64(&r, &out->cap_ambient) < 0))
		goto fail;
	if (ap_get_u32(&r, &flags) < 0 || flags > 1 || ap_get_u32(&r, &out->umask) < 0 || out->umask > 0777)
		goto fail;
	out->has_umask = flags;
	if (ap_get_u32(&r, &out->n_rlimits) < 0 || out->n_rlimits > AP_MAX_RLIMITS || out->n_rlimits > r.left / 20)
		goto fail;
	if (out->n_rlimits) {
		out->rlimits = calloc(out->n_rlimits, sizeof(*out->rlimits));
		if (!out->rlimits) {
			ret = -ENOMEM;
			goto fail;
		}
		for (uint32_t i = 0; i < out->n_rlimits; i++)
			if (ap_get_u32(&r, &out->rlimits[i].resource) < 0 || get_u64(&r, &out->rlimits[i].soft) < 0 ||
			    get_u64(&r, &out->rlimits[i].hard) < 0)
				goto fail;
	}
	if ((ret = get_strv(&r, &out->masked, &out->n_masked)) < 0 ||
	    (ret = get_strv(&r, &out->readonly, &out->n_readonly)) < 0)
		goto fail;
	if (r.left || !out->n_args || !out->cwd[0]) {
		ret = -EBADMSG;
		goto fail;
	}
	return 0;
fail:
	ap_process_free(out);
	return ret;
}

void ap_hdr_encode(uint8_t hdr[AP_HDR_LEN], uint32_t type, uint32_t len)
{
	put_le32(hdr, type);
	put_le32(hdr + 4, len);
}

int ap_hdr_decode(const uint8_t hdr[AP_HDR_LEN], uint32_t *type, uint32_t *len)
{
	*type = get_le32(hdr);
	*len = get_le32(hdr + 4);
	return *len > AP_MAX_PAYLOAD ? -EMSGSIZE : 0;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 1 = got len bytes, 0 = EOF before the first byte, negative errno. */
static int read_all(int fd, void *data, size_t len)
{
	uint8_t *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return got ? -EPIPE : 0;
		got += (size_t)n;
	}
	return 1;
}

int ap_send(int fd, uint32_t type, const void *data, uint32_t len)
{
	uint8_t msg[AP_HDR_LEN + 256];
	int r;

	if (len > AP_MAX_PAYLOAD)
		return -EMSGSIZE;
	ap_hdr_encode(msg, type, len);
	/* Small messages go out in one write, so a reader sees them whole. */
	if (len <= sizeof(msg) - AP_HDR_LEN) {
		if (len)
			memcpy(msg + AP_HDR_LEN, data, len);
		return write_all(fd, msg, AP_HDR_LEN + len);
	}
	if ((r = write_all(fd, msg, AP_HDR_LEN)) < 0)
		return r;
	return write_all(fd, data, len);
}

int ap_send_u32(int fd, uint32_t type, uint32_t v)
{
	uint8_t b[4];

	put_le32(b, v);
	return ap_send(fd, type, b, 4);
}

int ap_recv(int fd, uint32_t *type, void *buf, size_t cap, uint32_t *len)
{
	uint8_t hdr[AP_HDR_LEN];
	int r = read_all(fd, hdr, sizeof(hdr));

	if (r <= 0)
		return r == 0 ? -EPIPE : r;
	if (ap_hdr_decode(hdr, type, len) < 0 || *len > cap)
		return -EMSGSIZE;
	if (*len && (r = read_all(fd, buf, *len)) <= 0)
		return r == 0 ? -EPIPE : r;
	return 0;
}
