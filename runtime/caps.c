/* caps.c — process.capabilities with libcap: bounding, effective, permitted,
 * inheritable, ambient.  The inheritable set is empty unless the config names
 * it, also when the config has no capabilities object (CVE-2022-29162: a
 * non-empty inheritable set lets file capabilities of a binary inside the
 * container grant privileges it was not given).
 */
#include "runtime/security_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "lib/log.h"

#define BIT(c) (UINT64_C(1) << (c))

uint64_t sec_caps_kernel_mask(void)
{
	int n = cap_max_bits();

	if (n <= 0)
		return 0;
	if (n >= 64)
		return UINT64_MAX;
	return BIT(n) - 1;
}

void sec_caps_plan(const struct oci_caps *want, uint64_t kernel_mask, uint64_t held,
		   struct sec_capsets *out, uint64_t *ungrantable)
{
	uint64_t asked = want->bounding | want->effective | want->permitted |
			 want->inheritable | want->ambient;

	/* An absent set is an empty set, as in runc and crun. */
	out->bounding = want->bounding & kernel_mask;
	out->permitted = want->permitted & kernel_mask & held;
	/* The kernel requires E ⊆ P, I ⊆ old I ∪ bounding and (we have no
	 * effective CAP_SETPCAP after the uid switch) I ⊆ old P, A ⊆ P ∩ I. */
	out->effective = want->effective & out->permitted;
	out->inheritable = want->inheritable & kernel_mask & held & out->bounding;
	out->ambient = want->ambient & out->permitted & out->inheritable;

	/* Warn about what the host cannot give and about sets that contradict
	 * each other; an ambient cap that is not inheritable is silently left
	 * out (runc spec writes such configs since CVE-2022-29162; crun is
	 * silent too). */
	*ungrantable = (asked & ~kernel_mask) |
		       ((want->permitted | want->effective | want->inheritable | want->ambient) &
			kernel_mask & ~held) |
		       (want->effective & ~want->permitted) |
		       (want->inheritable & ~want->bounding);
}

static void cap_name(int c, char *buf, size_t len)
{
	char *n = cap_to_name(c);

	snprintf(buf, len, "%s", n ? n : "?");
	cap_free(n);
	for (char *p = buf; *p; p++)
		*p = (char)toupper((unsigned char)*p);
}

static void warn_ungrantable(uint64_t bits, uint64_t kernel_mask)
{
	char name[64];

	for (int c = 0; c < 64; c++) {
		if (!(bits & BIT(c)))
			continue;
		if (!(kernel_mask & BIT(c)))
			hull_warn("capability %d is not known to this kernel; not granted", c);
		else {
			cap_name(c, name, sizeof(name));
			hull_warn("capability %s cannot be granted here; not granted", name);
		}
	}
}

int sec_caps_drop_bounding(const struct oci_caps *caps, struct hull_err *err)
{
	uint64_t kernel_mask = sec_caps_kernel_mask();
	char name[64];

	if (!caps->present)
		return 0;
	for (int c = 0; c < 64 && (kernel_mask & BIT(c)); c++) {
		if (caps->bounding & BIT(c))
			continue;
		if (cap_get_bound(c) <= 0)
			continue;
		if (cap_drop_bound(c) < 0) {
			cap_name(c, name, sizeof(name));
			return hull_errf_sys(err, errno, "drop %s from the bounding set", name);
		}
	}
	return 0;
}

static uint64_t flag_mask(cap_t c, cap_flag_t flag, uint64_t kernel_mask)
{
	cap_flag_value_t v;
	uint64_t m = 0;

	for (int i = 0; i < 64 && (kernel_mask & BIT(i)); i++)
		if (cap_get_flag(c, i, flag, &v) == 0 && v == CAP_SET)
			m |= BIT(i);
	return m;
}

static void set_mask(cap_t c, cap_flag_t flag, uint64_t m)
{
	for (int i = 0; i < 64; i++) {
		cap_value_t v = i;

		if (m & BIT(i))
			cap_set_flag(c, flag, 1, &v, CAP_SET);
	}
}

static int reset_ambient(struct hull_err *err)
{
	if (!CAP_AMBIENT_SUPPORTED())
		return 0;
	if (cap_reset_ambient() < 0)
		return hull_errf_sys(err, errno, "clear the ambient capability set");
	return 0;
}

int sec_caps_apply(const struct oci_caps *caps, struct hull_err *err)
{
	uint64_t kernel_mask = sec_caps_kernel_mask();
	struct sec_capsets plan;
	uint64_t held, ungrantable;
	char name[64];
	cap_t cur;
	int ret;

	cur = cap_get_proc();
	if (!cur)
		return hull_errf_sys(err, errno, "read the process capabilities");

	if (!caps->present) {
		/* Keep E and P as they are; only I and the ambient set go. */
		if (flag_mask(cur, CAP_INHERITABLE, kernel_mask)) {
			cap_clear_flag(cur, CAP_INHERITABLE);
			if (cap_set_proc(cur) < 0) {
				ret = hull_errf_sys(err, errno, "clear the inheritable capability set");
				cap_free(cur);
				return ret;
			}
		}
		cap_free(cur);
		return reset_ambient(err);
	}

	held = flag_mask(cur, CAP_PERMITTED, kernel_mask);
	cap_free(cur);
	sec_caps_plan(caps, kernel_mask, held, &plan, &ungrantable);
	if (ungrantable)
		warn_ungrantable(ungrantable, kernel_mask);

	cap_t next = cap_init();
	if (!next)
		return hull_errf_sys(err, errno, "allocate capability state");
	set_mask(next, CAP_EFFECTIVE, plan.effective);
	set_mask(next, CAP_PERMITTED, plan.permitted);
	set_mask(next, CAP_INHERITABLE, plan.inheritable);
	ret = cap_set_proc(next);
	cap_free(next);
	if (ret < 0)
		return hull_errf_sys(err, errno, "set the capabilities");

	ret = reset_ambient(err);
	if (ret < 0)
		return ret;
	for (int c = 0; c < 64; c++) {
		if (!(plan.ambient & BIT(c)))
			continue;
		if (cap_set_ambient(c, CAP_SET) < 0) {
			cap_name(c, name, sizeof(name));
			return hull_errf_sys(err, errno, "raise %s in the ambient set", name);
		}
	}
	return 0;
}
