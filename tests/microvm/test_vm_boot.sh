#!/bin/bash
# hull vm boot on a real KVM (inside the test host): the guest kernel built by
# `make guest-kernel` boots with 1 and 2 vCPUs, through PVH (vmlinux) and the
# 64-bit bzImage protocol, to hull-agent as /init, which checks that it sees
# every vCPU, reads and writes a virtio-blk disk, echoes over vsock to a host
# UNIX socket and reaches a host address through virtio-net; Debian's stock
# kernel boots too.  Exit statuses for timeout and bad input are checked.
#
# Environment: HULL, BUILD (hull-agent), HULL_GUEST_DIR (vmlinux, bzImage from
# make guest-kernel; stock-vmlinuz: Debian's cloud kernel, optional),
# HULL_STOCK_KERNEL (overrides the stock kernel path).
. "$(dirname "$0")/../testhost/lib.sh"

: "${HULL:?}" "${BUILD:?}"
guest=${HULL_GUEST_DIR:-$BUILD/guest}
stock=${HULL_STOCK_KERNEL:-$guest/stock-vmlinuz}
if [ ! -c /dev/kvm ]; then
	echo "no /dev/kvm"
	exit 77
fi
agent=$BUILD/hull-agent
[ -x "$agent" ] || agent=$guest/hull-agent
[ -x "$agent" ] || { not_ok "hull-agent built at $agent"; finish; }

work=$(mktemp -d /tmp/hull-vm-test.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT

# The initramfs: hull-agent as /init and a console node (no root needed for cpio).
mkdir -p "$work/root/dev"
cp "$agent" "$work/root/init"
mknod "$work/root/dev/console" c 5 1
(cd "$work/root" && find . | cpio -o -H newc 2>/dev/null) >"$work/initrd.cpio"
initrd=$work/initrd.cpio

# A raw disk whose first bytes the guest checks; it writes at 4096.
dd if=/dev/zero of="$work/disk.img" bs=1M count=4 2>/dev/null
printf 'hull-disk-marker' | dd of="$work/disk.img" conv=notrunc 2>/dev/null

out=$work/out
# boot DESC EXPECTED_STATUS hull-vm-boot-args...: run, keep output in $out, check the status
boot() {
	local desc=$1 want=$2 rc
	shift 2
	timeout 300 "$HULL" vm boot "$@" >"$out" 2>&1
	rc=$?
	sed -n 's/^hull vm: /# /p' "$out"
	if [ "$rc" = "$want" ]; then
		ok "$desc: exit status $rc"
	else
		not_ok "$desc: exit status $rc, want $want"
		tail -n 25 "$out" | sed 's/^/#   /'
	fi
}
expect_line() {  # expect_line DESC PATTERN
	if grep -q -- "$2" "$out"; then
		ok "$1"
	else
		not_ok "$1: no '$2' in the output"
		sed 's/^/#   /' "$out" | head -n 400
	fi
}
boot_ms() { sed -nE 's/.*boot_timer_ms=([0-9.]+).*/\1/p' "$out"; }

if [ -f "$guest/vmlinux" ]; then
	# 1 vCPU, PVH: cpus, disk read+write, vsock echo.
	mkdir -p "$work/vsock"
	"$HULL" vm echo "$work/vsock/vsock_1234" &
	pids+=($!)
	for _ in $(seq 50); do [ -S "$work/vsock/vsock_1234" ] && break; sleep 0.1; done
	# host -> guest: once the guest listens on port 5000, connect through DIR/vsock.
	(
		for _ in $(seq 2400); do
			grep -q HULL_VSOCK_LISTENING "$out" 2>/dev/null && break
			sleep 0.1
		done
		echo ping-from-host | "$HULL" vm connect "$work/vsock/vsock" 5000 >"$work/connect.out" 2>&1
	) &
	pids+=($!)
	boot "built kernel (PVH), 1 vCPU" 0 --kernel "$guest/vmlinux" --initrd "$initrd" --console \
		--memory 256 --cpus 1 --disk "$work/disk.img" --vsock "$work/vsock" --timeout 240 \
		--cmdline "quiet hull.check=cpus,blk,blkwrite,vsock,vsocklisten hull.cpus=1 hull.blk=hull-disk-marker hull.vsock=1234 hull.vsock_listen=5000"
	expect_line "PVH 1 vCPU: /init sees 1 vCPU" "HULL_CHECK cpus ok online=1"
	expect_line "PVH: virtio-blk read" "HULL_CHECK blk ok"
	expect_line "PVH: virtio-blk write + flush" "HULL_CHECK blkwrite ok"
	if dd if="$work/disk.img" bs=1 skip=4096 count=16 2>/dev/null | grep -q written-by-guest; then
		ok "the guest's write reached the disk file"
	else
		not_ok "the guest's write reached the disk file"
	fi
	expect_line "PVH: vsock echo through a host UNIX socket" "HULL_CHECK vsock ok"
	expect_line "PVH: vsock host-initiated connection reached the guest" "HULL_CHECK vsocklisten ok got 'ping-from-host'"
	if grep -q "echo:ping-from-host" "$work/connect.out" 2>/dev/null; then
		ok "hull vm connect got the guest's answer"
	else
		not_ok "hull vm connect got the guest's answer: $(head -c 300 "$work/connect.out" 2>/dev/null)"
	fi
	ms=$(boot_ms)
	if [ -n "$ms" ]; then ok "boot timer recorded ($ms ms)"; else not_ok "boot timer recorded"; fi

	# 2 vCPUs through the MP table; read-only disk.
	boot "built kernel (PVH), 2 vCPUs" 0 --kernel "$guest/vmlinux" --initrd "$initrd" --console \
		--cpus 2 --disk "$work/disk.img:ro" --timeout 240 \
		--cmdline "quiet hull.check=cpus,blk hull.cpus=2 hull.blk=hull-disk-marker"
	expect_line "PVH 2 vCPUs: /init sees 2 vCPUs" "HULL_CHECK cpus ok online=2"
	expect_line "PVH 2 vCPUs: read-only virtio-blk read" "HULL_CHECK blk ok"

	# virtio-net over a tap: the host end gets its address once hull created the tap.
	if [ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }; then
		printf '#!/bin/sh\necho reply-from-host\n' >"$work/reply.sh"
		chmod +x "$work/reply.sh"
		nc -l -p 5555 -e "$work/reply.sh" &
		pids+=($!)
		(
			for _ in $(seq 300); do
				if [ -e /sys/class/net/hulltap0 ]; then
					ip addr add 10.0.2.2/24 dev hulltap0 && ip link set hulltap0 up
					exit
				fi
				sleep 0.1
			done
		) &
		pids+=($!)
		boot "built kernel, virtio-net" 0 --kernel "$guest/vmlinux" --initrd "$initrd" --console \
			--net hulltap0 --timeout 240 \
			--cmdline "quiet hull.check=net hull.ip=10.0.2.15/24 hull.peer=10.0.2.2:5555"
		expect_line "virtio-net: the guest reached a host address" "HULL_CHECK net ok reply 'reply-from-host'"
	else
		skip "virtio-net" "no /dev/net/tun"
	fi

	# Hostile/odd input and exit statuses.
	boot "guest that never ends: --timeout gives status 3" 3 --kernel "$guest/vmlinux" --initrd "$initrd" \
		--timeout 2 --cmdline "rdinit=/does-not-exist"
	expect_line "timeout reported" "exit=timeout"
else
	not_ok "built guest kernel at $guest/vmlinux (make guest-kernel)"
fi

if [ -f "$guest/bzImage" ]; then
	boot "built kernel (bzImage 64-bit protocol), 2 vCPUs" 0 --kernel "$guest/bzImage" --initrd "$initrd" \
		--console --cpus 2 --timeout 240 --cmdline "quiet hull.check=cpus hull.cpus=2"
	expect_line "bzImage 2 vCPUs: /init sees 2 vCPUs" "HULL_CHECK cpus ok online=2"
else
	not_ok "built guest bzImage at $guest/bzImage (make guest-kernel)"
fi

if [ -f "$stock" ]; then
	for n in 1 2; do
		boot "Debian stock kernel, $n vCPU(s)" 0 --kernel "$stock" --initrd "$initrd" --console --cpus $n \
			--memory 512 --timeout 280 --cmdline "quiet hull.check=cpus hull.cpus=$n"
		expect_line "stock kernel: /init sees $n vCPU(s)" "HULL_CHECK cpus ok online=$n"
	done
else
	skip "Debian stock kernel boots" "no stock kernel at $stock"
fi

printf 'not a kernel' >"$work/bad"
boot "a file that is no kernel: status 1" 1 --kernel "$work/bad"
expect_line "bad kernel named in the error" "neither an ELF vmlinux nor a bzImage"
finish
