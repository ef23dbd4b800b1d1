#!/bin/bash
# Build the test host's (L1's) initramfs: busybox, bash, jq, hull and its
# shared libraries, the kernel modules KVM and containers need, the test
# scripts, and tests/testhost/init.sh as /init.
#
# Usage: build-initramfs.sh KERNEL_DIR OUT.cpio
# Environment: REPO (source tree), BUILD (build dir: hull, hull-image.so,
#   hull-agent, guest/), KVM_SMOKE (static kvm_smoke binary),
#   HULL_TESTHOST_MODULES (extra kernel modules), HULL_TESTHOST_EXTRA_BINS
#   (extra host programs to carry, with their libraries, e.g. a reference
#   runtime to compare against).
#
# Rebuilds only when an input changed: the manifest (every source file, its
# place in the image and a hash of its content) is hashed and compared with
# OUT.hash.  Prints "cached" or "built" and the size on stderr.
#
# The archive is left uncompressed: decompressing under TCG costs more than
# reading the larger file.
set -euo pipefail

kdir=${1:?usage: build-initramfs.sh KERNEL_DIR OUT.cpio}
out=${2:?usage: build-initramfs.sh KERNEL_DIR OUT.cpio}
: "${REPO:?}" "${BUILD:?}" "${KVM_SMOKE:?}"
release=$(cat "$kdir/release")
moddir=$kdir/lib/modules/$release

# irqbypass/kvm/kvm-amd give /dev/kvm; the rest are what containers and
# microVMs may ask for (overlay rootfs, veth/bridge networks, loop/erofs/
# squashfs images, vhost).  Built-ins (ext4, tmpfs, cgroups) need nothing.
modules="kvm-amd overlay veth bridge tun loop erofs squashfs vhost_net vhost_vsock
 ${HULL_TESTHOST_MODULES:-}"

manifest=$(mktemp)
trap 'rm -f "$manifest"' EXIT

add() {  # add SRC DST: one file, symlinks resolved
	[ -e "$1" ] || { echo "testhost: missing input $1" >&2; exit 1; }
	printf '%s\t%s\n' "$(readlink -f "$1")" "$2" >>"$manifest"
}

add_libs() {  # the shared objects (and loader) a dynamic ELF needs, at their own paths
	local lib libs
	libs=$(ldd "$1" 2>/dev/null | grep -o '/[^ ]*') || return 0   # static: none
	for lib in $libs; do
		add "$lib" "$lib"
	done
}

add_prog() {  # add_prog SRC DST: a program plus its libraries
	add "$1" "$2"
	add_libs "$1"
}

add_tree() {  # add_tree SRCDIR DSTDIR: every regular file below SRCDIR
	local f
	[ -d "$1" ] || return 0
	while IFS= read -r f; do
		add "$1/$f" "$2/$f"
	done < <(cd "$1" && find . -type f ! -name '*.o' ! -name '*.d' | sed 's|^\./||' | sort)
}

module_file() {  # module name -> its path relative to $moddir (names treat - and _ alike)
	local want=${1//-/_}
	awk -F: -v want="$want" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n);
		gsub(/-/, "_", n); if (n == want) { print $1; exit } }' "$moddir/modules.dep"
}

# --- programs
busybox=$(command -v busybox)
if ldd "$busybox" >/dev/null 2>&1; then
	echo "testhost: $busybox is dynamically linked; install busybox-static" >&2
	exit 1
fi
add "$busybox" /bin/busybox
add_prog "$(command -v bash)" /bin/bash
command -v jq >/dev/null && add_prog "$(command -v jq)" /usr/bin/jq
add "$KVM_SMOKE" /testhost/bin/kvm_smoke
# Tools the test scripts use that Debian's busybox lacks.
for prog in install flock mountpoint; do
	p=$(command -v "$prog") && add_prog "$p" "/usr/bin/$prog"
done
for prog in ${HULL_TESTHOST_EXTRA_BINS:-}; do
	p=$(command -v "$prog") || { echo "testhost: HULL_TESTHOST_EXTRA_BINS: $prog not found" >&2; exit 1; }
	add_prog "$p" "/usr/bin/$(basename "$p")"
done

# --- hull (any of it that is built; a missing piece is reported by the suites)
for f in hull hull-image.so hull-agent; do
	[ -f "$BUILD/$f" ] && add_prog "$BUILD/$f" "/testhost/build/$f"
done
# Guest artifacts for microVM tests: top-level files only (the kernel build
# tree next to them is gigabytes).
if [ -d "$BUILD/guest" ]; then
	while IFS= read -r f; do
		add "$BUILD/guest/$f" "/testhost/build/guest/$f"
	done < <(cd "$BUILD/guest" && find . -maxdepth 1 -type f -size -128M | sed 's|^\./||' | sort)
fi

# Debian's stock kernel (L1's own) for microVM tests that boot one: they look
# for $HULL_STOCK_KERNEL.
if compgen -G "$REPO/tests/microvm/*.sh" >/dev/null; then
	add "$kdir/vmlinuz" /testhost/stock-vmlinuz
fi

# --- tests: the test host's own suites plus the shared helpers and the
# directories whose suites it picks up (see run-suites.sh)
for d in testhost lib integration microvm; do
	add_tree "$REPO/tests/$d" "/testhost/repo/tests/$d"
done
add "$REPO/tests/testhost/init.sh" /init

# --- kernel modules and their dependency closure
declare -A seen=()
queue=()
for m in $modules; do
	f=$(module_file "$m")
	[ -n "$f" ] || { echo "testhost: kernel $release has no module $m" >&2; exit 1; }
	queue+=("$f")
done
while [ ${#queue[@]} -gt 0 ]; do
	f=${queue[0]}
	queue=("${queue[@]:1}")
	[ -n "${seen[$f]:-}" ] && continue
	seen[$f]=1
	add "$moddir/$f" "/lib/modules/$release/$f"
	for dep in $(sed -n "s|^$f: *||p" "$moddir/modules.dep"); do
		queue+=("$dep")
	done
done

# --- up to date?
sort -u -o "$manifest" "$manifest"
hash=$( { cat "$manifest"; cut -f1 "$manifest" | xargs -d '\n' sha256sum; echo "modules: $modules"; } |
	sha256sum | cut -d' ' -f1)
if [ -f "$out" ] && [ "$(cat "$out.hash" 2>/dev/null)" = "$hash" ]; then
	echo "testhost: initramfs cached ($(du -m "$out" | cut -f1) MB, $out)" >&2
	exit 0
fi

# --- stage and pack
stage=$out.root
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/tmp,mnt,lib/modules/"$release"}
while IFS=$'\t' read -r src dst; do
	mkdir -p "$stage$(dirname "$dst")"
	cp "$src" "$stage$dst"
done <"$manifest"
# Programs must be executable whatever mode the source had when copied.
chmod 0755 "$stage/init" "$stage"/bin/* "$stage"/usr/bin/* "$stage"/testhost/bin/*
for f in hull hull-agent; do
	[ -f "$stage/testhost/build/$f" ] && chmod 0755 "$stage/testhost/build/$f"
done
# A ready busybox rootfs (tests/lib/make-rootfs.sh, whose content is hashed
# with tests/lib) for make-bundle.sh's ROOTFS_CACHE: building one in L1 forks
# once per applet, ~20 s under TCG.
if [ -f "$REPO/tests/lib/make-rootfs.sh" ]; then
	bash "$REPO/tests/lib/make-rootfs.sh" "$stage/testhost/rootfs" >&2
fi
# modprobe inside L1 reads this; keep only the lines for modules we carry.
for f in "${!seen[@]}"; do grep "^$f:" "$moddir/modules.dep"; done >"$stage/lib/modules/$release/modules.dep"
# Debian's bash and many scripts expect /usr/bin/bash and /bin/sh.
ln -s /bin/bash "$stage/usr/bin/bash"
ln -s busybox "$stage/bin/sh"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
printf '127.0.0.1 localhost\n' >"$stage/etc/hosts"
# Without /dev/console in the archive the kernel starts /init with no stdio
# (init.sh also reopens the console once devtmpfs is up, for non-root builds).
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true
(cd "$stage" && find . -mindepth 1 | sed 's|^\./||' | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
echo "$hash" >"$out.hash"
rm -rf "$stage"
echo "testhost: initramfs built ($(du -m "$out" | cut -f1) MB, $out)" >&2
