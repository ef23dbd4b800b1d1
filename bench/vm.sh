#!/bin/bash
# bench/vm.sh — microVM boot and VMM memory, inside the nested test host
# (real KVM): `hull vm boot` vs `qemu-system-x86_64 -M microvm` with the same
# guest kernel and initrd, time to the boot-timer write, and the VMM's own
# memory (RSS minus the guest RAM it touched); and `run --rm true` in VM mode
# vs container mode.  Reports numbers only.
# Needs the guest kernel (`make guest-kernel`, cached).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
BUILD=${BUILD:-$REPO/build}
make -C "$REPO" --no-print-directory guest-kernel >/dev/null || { echo "vm bench: no guest kernel (make guest-kernel failed)"; exit 1; }
# QEMU's microvm firmware travels with the guest files into the test host.
for f in bios-microvm.bin qboot.rom pvh.bin linuxboot_dma.bin; do
	[ -f "/usr/share/qemu/$f" ] && cp -L "/usr/share/qemu/$f" "$BUILD/guest/" 2>/dev/null
done
HULL=${HULL:-$BUILD/hull} BUILD=$BUILD HULL_TESTHOST=force \
	HULL_TESTHOST_SUITES="microvm/bench_vm_boot microvm/bench_vm_isolation" HULL_TESTHOST_EXTRA_BINS=qemu-system-x86_64 \
	bash "$REPO/tests/testhost/run.sh"
