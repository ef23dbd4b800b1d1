#!/bin/bash
# VM isolation vs container start cost (a suite inside the test host): wall
# time of `hull run` of /bin/true (create + start + wait + delete) as a plain
# container and with --vm, median of BENCH_RUNS (default 3), and --vm again
# with 64 MiB more in the rootfs: with virtio-fs the start time must not
# grow with the image (with the initramfs fallback it does).
# Under the test host's nested KVM (TCG) absolute numbers are far above real
# hardware; the ratio is what to watch.
# Environment: HULL, BUILD, HULL_GUEST_DIR, ROOTFS_CACHE (as test_vm_isolation.sh).
. "$(dirname "$0")/../testhost/lib.sh"

: "${HULL:?}" "${BUILD:?}"
[ -c /dev/kvm ] || { echo "no /dev/kvm"; exit 77; }
guest=${HULL_GUEST_DIR:-$BUILD/guest}
export HULL_KERNEL=${HULL_KERNEL:-$guest/vmlinux}
export HULL_AGENT=${HULL_AGENT:-$BUILD/hull-agent}
runs=${BENCH_RUNS:-3}
[ -f "$HULL_KERNEL" ] && [ -x "$HULL_AGENT" ] || { not_ok "guest kernel and agent built"; finish; }
work=$(mktemp -d /tmp/hull-vmbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
bash "$(dirname "$0")/../lib/make-bundle.sh" "$work/b" /bin/true >/dev/null || { not_ok "bundle"; finish; }

n=0
# median_ms FLAGS...: median wall time of `hull run` over $runs runs; "" on a failure
median_ms() {
	local t=() i t0 t1
	for ((i = 0; i < runs; i++)); do
		n=$((n + 1))
		t0=${EPOCHREALTIME/./}
		(cd "$work/b" && timeout 300 "$HULL" --root "$work/state" run "$@" "bench$n" >/dev/null 2>&1) || return 1
		t1=${EPOCHREALTIME/./}
		"$HULL" --root "$work/state" delete -f "bench$n" >/dev/null 2>&1
		t+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${t[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p"
}

if c=$(median_ms); then ok "container run /bin/true: median $c ms"; else not_ok "container run /bin/true"; fi
if v=$(median_ms --vm); then ok "VM run /bin/true: median $v ms"; else not_ok "VM run /bin/true"; fi
dd if=/dev/urandom of="$work/b/rootfs/big" bs=1M count=64 2>/dev/null
if v64=$(median_ms --vm); then
	ok "VM run /bin/true, rootfs +64 MiB: median $v64 ms"
else
	not_ok "VM run /bin/true, rootfs +64 MiB"
fi
[ -n "${c:-}" ] && [ -n "${v:-}" ] && diag "VM/container: $v/$c ms"
if grep -qx CONFIG_VIRTIO_FS=y "$(dirname "$HULL_KERNEL")/config" 2>/dev/null && [ -n "${v:-}" ] && [ -n "${v64:-}" ]; then
	# virtio-fs: nothing is copied per image byte; allow for scheduling noise.
	if [ "$v64" -le $((v * 3 / 2 + 1000)) ]; then
		ok "virtio-fs: start time does not grow with the image ($v -> $v64 ms)"
	else
		not_ok "virtio-fs: start time grows with the image ($v -> $v64 ms)"
	fi
fi
finish
