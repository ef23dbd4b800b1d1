/* seccomp.c — linux.seccomp → BPF with libseccomp, loaded with seccomp(2).
 *
 * libseccomp only compiles the rules; hull exports the BPF and loads it with
 * one seccomp(2) call so every filter flag the kernel has is available (the
 * Debian libseccomp has no attribute for WAIT_KILLABLE_RECV) and so building
 * (which allocates and may need privileges the process is about to drop) is
 * separate from loading (the very last step before execve).
 */
#include "runtime/security.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fs.h"
#include "lib/json.h"
#include "lib/log.h"

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

struct sec_seccomp_prog {
	struct sock_filter *insns;
	unsigned short len;
	unsigned long flags;
	bool notify;
};

static const struct { const char *name; uint32_t token; } arch_names[] = {
	{ "SCMP_ARCH_X86", SCMP_ARCH_X86 },
	{ "SCMP_ARCH_X86_64", SCMP_ARCH_X86_64 },
	{ "SCMP_ARCH_X32", SCMP_ARCH_X32 },
	{ "SCMP_ARCH_ARM", SCMP_ARCH_ARM },
	{ "SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64 },
	{ "SCMP_ARCH_MIPS", SCMP_ARCH_MIPS },
	{ "SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64 },
	{ "SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32 },
	{ "SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL },
	{ "SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64 },
	{ "SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32 },
	{ "SCMP_ARCH_PPC", SCMP_ARCH_PPC },
	{ "SCMP_ARCH_PPC64", SCMP_ARCH_PPC64 },
	{ "SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE },
	{ "SCMP_ARCH_S390", SCMP_ARCH_S390 },
	{ "SCMP_ARCH_S390X", SCMP_ARCH_S390X },
	{ "SCMP_ARCH_PARISC", SCMP_ARCH_PARISC },
	{ "SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64 },
	{ "SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64 },
#ifdef SCMP_ARCH_LOONGARCH64
	{ "SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64 },
#endif
#ifdef SCMP_ARCH_M68K
	{ "SCMP_ARCH_M68K", SCMP_ARCH_M68K },
#endif
#ifdef SCMP_ARCH_SH
	{ "SCMP_ARCH_SH", SCMP_ARCH_SH },
	{ "SCMP_ARCH_SHEB", SCMP_ARCH_SHEB },
#endif
};

static const struct { const char *name; unsigned long flag; } flag_names[] = {
	{ "SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC },
	{ "SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG },
	{ "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
	{ "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
};

static const enum scmp_compare cmp_ops[] = {
	[OCI_SCMP_CMP_NE] = SCMP_CMP_NE, [OCI_SCMP_CMP_LT] = SCMP_CMP_LT,
	[OCI_SCMP_CMP_LE] = SCMP_CMP_LE, [OCI_SCMP_CMP_EQ] = SCMP_CMP_EQ,
	[OCI_SCMP_CMP_GE] = SCMP_CMP_GE, [OCI_SCMP_CMP_GT] = SCMP_CMP_GT,
	[OCI_SCMP_CMP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

/* where: JSON path for messages, e.g. "linux.seccomp.syscalls[3]" */
static int resolve_action(enum oci_seccomp_action a, const struct opt_u64 *errno_ret,
			  const char *where, uint32_t *out, struct hull_err *err)
{
	uint16_t ret = EPERM;

	if (errno_ret->set) {
		if (a != OCI_SCMP_ACT_ERRNO && a != OCI_SCMP_ACT_TRACE)
			return hull_errf(err, EINVAL, "%s: an errno return needs SCMP_ACT_ERRNO or SCMP_ACT_TRACE",
					 where);
		if (errno_ret->v > 0xffff)
			return hull_errf(err, EINVAL, "%s: errno %llu is out of range", where,
					 (unsigned long long)errno_ret->v);
		ret = (uint16_t)errno_ret->v;
	}
	switch (a) {
	case OCI_SCMP_ACT_KILL: *out = SCMP_ACT_KILL; break;
	case OCI_SCMP_ACT_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; break;
	case OCI_SCMP_ACT_KILL_THREAD: *out = SCMP_ACT_KILL_THREAD; break;
	case OCI_SCMP_ACT_TRAP: *out = SCMP_ACT_TRAP; break;
	case OCI_SCMP_ACT_ERRNO: *out = SCMP_ACT_ERRNO(ret); break;
	case OCI_SCMP_ACT_TRACE: *out = SCMP_ACT_TRACE(ret); break;
	case OCI_SCMP_ACT_ALLOW: *out = SCMP_ACT_ALLOW; break;
	case OCI_SCMP_ACT_LOG: *out = SCMP_ACT_LOG; break;
	case OCI_SCMP_ACT_NOTIFY: *out = SCMP_ACT_NOTIFY; break;
	default:
		return hull_errf(err, EINVAL, "%s: unknown action %d", where, (int)a);
	}
	return 0;
}

/* Whether the filter may answer `name` with NOTIFY, as far as the config
 * decides it without argument comparisons. */
bool sec_seccomp_may_notify(const struct oci_seccomp *sc, const char *name)
{
	bool unconditional_other = false;

	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct oci_seccomp_syscall *s = &sc->syscalls[i];

		for (size_t k = 0; k < s->n_names; k++) {
			if (strcmp(s->names[k], name) != 0)
				continue;
			if (s->action == OCI_SCMP_ACT_NOTIFY)
				return true;
			if (s->n_args == 0)
				unconditional_other = true;
		}
	}
	return sc->default_action == OCI_SCMP_ACT_NOTIFY && !unconditional_other;
}

static bool uses_notify(const struct oci_seccomp *sc)
{
	if (sc->default_action == OCI_SCMP_ACT_NOTIFY)
		return true;
	for (size_t i = 0; i < sc->n_syscalls; i++)
		if (sc->syscalls[i].action == OCI_SCMP_ACT_NOTIFY)
			return true;
	return false;
}

static int add_rule(scmp_filter_ctx ctx, const struct oci_seccomp_syscall *s, size_t idx,
		    uint32_t action, int nr, const char *name, struct hull_err *err)
{
	struct scmp_arg_cmp cmps[6];
	bool repeated_index = false;
	unsigned seen = 0;
	int ret;

	if (s->n_args > ARRAY_SIZE(cmps))
		return hull_errf(err, EINVAL, "linux.seccomp.syscalls[%zu].args: more than 6 entries", idx);
	for (size_t a = 0; a < s->n_args; a++) {
		const struct oci_seccomp_arg *arg = &s->args[a];

		if (arg->index > 5)
			return hull_errf(err, EINVAL, "linux.seccomp.syscalls[%zu].args[%zu].index: %u is not 0..5",
					 idx, a, arg->index);
		if (arg->op < OCI_SCMP_CMP_NE || arg->op > OCI_SCMP_CMP_MASKED_EQ)
			return hull_errf(err, EINVAL, "linux.seccomp.syscalls[%zu].args[%zu].op: unknown", idx, a);
		if (seen & (1u << arg->index))
			repeated_index = true;
		seen |= 1u << arg->index;
		/* MASKED_EQ: datum_a is the mask (value), datum_b the result (valueTwo). */
		cmps[a] = (struct scmp_arg_cmp){
			.arg = arg->index, .op = cmp_ops[arg->op],
			.datum_a = arg->value, .datum_b = arg->value_two,
		};
	}

	/* Several conditions on one argument cannot be ANDed by libseccomp; like
	 * runc, such an entry means "any of these" (one rule per condition). */
	if (repeated_index) {
		for (size_t a = 0; a < s->n_args; a++) {
			ret = seccomp_rule_add_array(ctx, action, nr, 1, &cmps[a]);
			if (ret < 0)
				goto fail;
		}
		return 0;
	}
	ret = seccomp_rule_add_array(ctx, action, nr, (unsigned)s->n_args, cmps);
	if (ret >= 0)
		return 0;
fail:
	return hull_errf_sys(err, -ret, "linux.seccomp.syscalls[%zu]: add rule for `%s`", idx, name);
}

static int build_ctx(const struct oci_seccomp *sc, scmp_filter_ctx *out, struct hull_err *err)
{
	uint32_t def_action, action;
	scmp_filter_ctx ctx;
	char where[64];
	int ret;

	ret = resolve_action(sc->default_action, &sc->default_errno_ret, "linux.seccomp.defaultAction",
			     &def_action, err);
	if (ret < 0)
		return ret;
	if (uses_notify(sc) && sec_seccomp_may_notify(sc, "sendmsg"))
		return hull_errf(err, EINVAL,
				 "linux.seccomp: SCMP_ACT_NOTIFY must not apply to sendmsg (hull sends the listener fd with it)");

	ctx = seccomp_init(def_action);
	if (!ctx)
		return hull_errf(err, EINVAL, "linux.seccomp.defaultAction: libseccomp refused it");

	/* hull sets no_new_privs itself, as process.noNewPrivileges says. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
	if (ret < 0)
		goto lib_fail;

	for (size_t i = 0; i < sc->n_architectures; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(arch_names); k++)
			if (strcmp(sc->architectures[i], arch_names[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(arch_names)) {
			ret = hull_errf(err, EINVAL,
					"linux.seccomp.architectures[%zu]: `%s` is not supported by libseccomp %u.%u.%u",
					i, sc->architectures[i], SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
			goto out;
		}
		ret = seccomp_arch_add(ctx, arch_names[k].token);
		if (ret < 0 && ret != -EEXIST) {
			ret = hull_errf_sys(err, -ret, "linux.seccomp.architectures[%zu]: add `%s`",
					    i, sc->architectures[i]);
			goto out;
		}
	}

	for (size_t i = 0; i < sc->n_syscalls; i++) {
		const struct oci_seccomp_syscall *s = &sc->syscalls[i];

		snprintf(where, sizeof(where), "linux.seccomp.syscalls[%zu]", i);
		ret = resolve_action(s->action, &s->errno_ret, where, &action, err);
		if (ret < 0)
			goto out;
		/* libseccomp refuses rules that repeat the default action. */
		if (action == def_action)
			continue;
		for (size_t k = 0; k < s->n_names; k++) {
			int nr = seccomp_syscall_resolve_name(s->names[k]);

			if (nr == __NR_SCMP_ERROR) {
				hull_debug("seccomp: unknown syscall `%s` skipped", s->names[k]);
				continue;
			}
			ret = add_rule(ctx, s, i, action, nr, s->names[k], err);
			if (ret < 0)
				goto out;
		}
	}
	*out = ctx;
	return 0;

lib_fail:
	ret = hull_errf_sys(err, -ret, "linux.seccomp: libseccomp");
out:
	seccomp_release(ctx);
	return ret;
}

static int resolve_flags(const struct oci_seccomp *sc, unsigned long *out, struct hull_err *err)
{
	unsigned long flags = 0;

	for (size_t i = 0; i < sc->n_flags; i++) {
		size_t k;

		for (k = 0; k < ARRAY_SIZE(flag_names); k++)
			if (strcmp(sc->flags[i], flag_names[k].name) == 0)
				break;
		if (k == ARRAY_SIZE(flag_names))
			return hull_errf(err, EINVAL, "linux.seccomp.flags[%zu]: unknown flag `%s`",
					 i, sc->flags[i]);
		flags |= flag_names[k].flag;
	}
	*out = flags;
	return 0;
}

/* libseccomp 2.5 exports only to an fd; a memfd has no size limit (a pipe
 * would block on big profiles). */
static int export_to_buf(scmp_filter_ctx ctx, bool pfc, char **buf, size_t *len, struct hull_err *err)
{
	_cleanup_close_ int fd = memfd_create("hull-seccomp", MFD_CLOEXEC);
	int ret;

	if (fd < 0)
		return hull_errf_sys(err, errno, "linux.seccomp: memfd_create");
	ret = pfc ? seccomp_export_pfc(ctx, fd) : seccomp_export_bpf(ctx, fd);
	if (ret < 0)
		return hull_errf_sys(err, -ret, "linux.seccomp: export the filter");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return hull_errf_sys(err, errno, "linux.seccomp: rewind the filter");
	ret = hull_read_fd(fd, 0, buf, len, err);
	if (ret < 0)
		return hull_err_wrap(err, "linux.seccomp: read the exported filter");
	return 0;
}

int sec_seccomp_build(const struct oci_seccomp *sc, struct sec_seccomp_prog **out,
		      struct hull_err *err)
{
	struct sec_seccomp_prog *p;
	scmp_filter_ctx ctx;
	char *buf = NULL;
	size_t len = 0;
	unsigned long flags = 0;
	int ret;

	*out = NULL;
	ret = resolve_flags(sc, &flags, err);
	if (ret < 0)
		return ret;
	ret = build_ctx(sc, &ctx, err);
	if (ret < 0)
		return ret;
	ret = export_to_buf(ctx, false, &buf, &len, err);
	seccomp_release(ctx);
	if (ret < 0)
		return ret;
	if (len == 0 || len % sizeof(struct sock_filter) || len / sizeof(struct sock_filter) > BPF_MAXINSNS) {
		free(buf);
		return hull_errf(err, E2BIG, "linux.seccomp: the filter has %zu instructions (kernel limit %d)",
				 len / sizeof(struct sock_filter), BPF_MAXINSNS);
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		free(buf);
		return hull_errf(err, ENOMEM, "linux.seccomp: out of memory");
	}
	p->insns = (struct sock_filter *)buf;
	p->len = (unsigned short)(len / sizeof(struct sock_filter));
	p->notify = uses_notify(sc);
	p->flags = flags;
	if (p->notify) {
		p->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* TSYNC and NEW_LISTENER both want the return value. */
		if (p->flags & SECCOMP_FILTER_FLAG_TSYNC)
			p->flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	}
	*out = p;
	return 0;
}

void sec_seccomp_prog_free(struct sec_seccomp_prog *p)
{
	if (!p)
		return;
	free(p->insns);
	free(p);
}

bool sec_seccomp_config_uses_notify(const struct oci_seccomp *sc)
{
	return sc && sc->present && uses_notify(sc);
}

bool sec_seccomp_uses_notify(const struct sec_seccomp_prog *p)
{
	return p && p->notify;
}

int sec_seccomp_export_pfc(const struct oci_seccomp *sc, char **out, struct hull_err *err)
{
	scmp_filter_ctx ctx;
	size_t len;
	int ret;

	ret = build_ctx(sc, &ctx, err);
	if (ret < 0)
		return ret;
	ret = export_to_buf(ctx, true, out, &len, err);
	seccomp_release(ctx);
	return ret;
}

int sec_seccomp_load(const struct sec_seccomp_prog *p, int *notify_fd, struct hull_err *err)
{
	struct sock_fprog fprog = { .len = p->len, .filter = p->insns };
	long ret;

	*notify_fd = -1;
	ret = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->flags, &fprog);
	if (ret < 0) {
		if (errno == EINVAL && p->flags)
			return hull_errf_sys(err, errno,
					     "linux.seccomp: load the filter (does this kernel support flags 0x%lx?)",
					     p->flags);
		return hull_errf_sys(err, errno, "linux.seccomp: load the filter");
	}
	if (p->notify)
		*notify_fd = (int)ret;
	return 0;
}

/* ---- listener ---------------------------------------------------------------- */

/* {"ociVersion","fds","pid","metadata"} from the one JSON writer, then the
 * runtime's state object (already JSON) spliced in as "state". */
static int process_state_json(pid_t pid, const char *metadata, const char *state_json,
			      char **out, size_t *len, struct hull_err *err)
{
	static const char *const fds[] = { "seccompFd" };
	struct hull_json *j = hull_json_new(false);
	_cleanup_free_ char *head = NULL;
	size_t head_len = 0;
	int ret;

	hull_json_begin_map(j);
	hull_json_kv_string(j, "ociVersion", "1.3.0");
	hull_json_kv_strings(j, "fds", fds, 1);
	hull_json_kv_int(j, "pid", pid);
	if (metadata)
		hull_json_kv_string(j, "metadata", metadata);
	hull_json_end_map(j);
	ret = hull_json_finish(j, &head, &head_len, err);
	if (ret < 0)
		return ret;
	if (head_len < 2 || head[head_len - 1] != '}')
		return hull_errf(err, EINVAL, "seccomp listener: unexpected JSON writer output");
	head[head_len - 1] = '\0';
	if (asprintf(out, "%s,\"state\":%s}", head, state_json) < 0)
		return hull_errf(err, ENOMEM, "seccomp listener: out of memory");
	*len = strlen(*out);
	return 0;
}

static int send_all(int sock, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(sock, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int sec_seccomp_send_listener(const char *listener_path, int notify_fd, pid_t pid,
			      const char *metadata, const char *state_json,
			      struct hull_err *err)
{
	_cleanup_free_ char *msg = NULL;
	_cleanup_close_ int sock = -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	size_t len = 0;
	ssize_t n;
	int ret;

	if (!listener_path || !*listener_path)
		return hull_errf(err, EINVAL,
				 "linux.seccomp.listenerPath: required when SCMP_ACT_NOTIFY is used");
	if (strlen(listener_path) >= sizeof(addr.sun_path))
		return hull_errf(err, ENAMETOOLONG, "linux.seccomp.listenerPath: `%s` is too long",
				 listener_path);
	strcpy(addr.sun_path, listener_path);
	if (!state_json || !*state_json)
		return hull_errf(err, EINVAL, "seccomp listener: no container state to send");
	ret = process_state_json(pid, metadata, state_json, &msg, &len, err);
	if (ret < 0)
		return ret;

	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return hull_errf_sys(err, errno, "seccomp listener: socket");
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return hull_errf_sys(err, errno, "linux.seccomp.listenerPath: connect to `%s`",
				     listener_path);

	/* The fd travels with the first bytes; the rest follows plainly. */
	memset(&ctl, 0, sizeof(ctl));
	iov = (struct iovec){ .iov_base = msg, .iov_len = len };
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &notify_fd, sizeof(int));
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return hull_errf_sys(err, errno, "linux.seccomp.listenerPath: send to `%s`", listener_path);
	if ((size_t)n < len) {
		ret = send_all(sock, msg + n, len - (size_t)n);
		if (ret < 0)
			return hull_errf_sys(err, -ret, "linux.seccomp.listenerPath: send to `%s`",
					     listener_path);
	}
	return 0;
}
