#!/bin/bash
# build-kernel.sh OUTDIR — build hull's guest kernel from Debian's
# linux-source-6.1 with microvm/guest/kernel.config, and put vmlinux (ELF,
# booted through its PVH entry) and bzImage into OUTDIR.
#
# The result is cached under $HULL_KERNEL_CACHE (default
# /var/cache/hull/guest-kernel), keyed by the linux-source package version and
# a hash of the fragment and of this script, so a rebuild only happens when one
# of them changes.  HULL_KERNEL_JOBS overrides the parallelism.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-kernel.sh OUTDIR}
fragment=$here/kernel.config
cache=${HULL_KERNEL_CACHE:-/var/cache/hull/guest-kernel}
jobs=${HULL_KERNEL_JOBS:-$(nproc)}
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
	echo "build-kernel.sh: /usr/src/linux-source-6.1.tar.* not found (apt-get install linux-source-6.1)" >&2
	exit 1
fi
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || stat -c %Y "$tarball")
key=$srcver-$(cat "$fragment" "$0" | sha256sum | cut -c1-16)
result=$cache/$key
mkdir -p "$out" "$cache"

# One build at a time per cache: two makes in one tree corrupt each other.
exec 9>"$cache/.lock"
if ! flock -n 9; then
	echo "guest kernel: waiting for another build in $cache"
	flock 9
fi

if [ -s "$result/vmlinux" ] && [ -s "$result/bzImage" ]; then
	cp "$result/vmlinux" "$result/bzImage" "$result/config" "$out/"
	echo "guest kernel: cached $result"
	exit 0
fi

tree=$cache/src-$srcver
if [ ! -f "$tree/.hull-extracted" ]; then
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	echo "guest kernel: extracting $tarball"
	tar -xf "$tarball" -C "$tree.tmp" --strip-components=1
	touch "$tree.tmp/.hull-extracted"
	mv "$tree.tmp" "$tree"
fi

cd "$tree"
# allnoconfig + fragment: strict, only the listed options (and what they select).
make -s ARCH=x86_64 KCONFIG_ALLCONFIG="$fragment" allnoconfig
missing=0
while IFS= read -r line; do
	case "$line" in CONFIG_*=*) ;; *) continue ;; esac
	if ! grep -qxF "$line" .config; then
		echo "build-kernel.sh: fragment line dropped by Kconfig (missing dependency?): $line" >&2
		missing=1
	fi
done < "$fragment"
[ "$missing" = 0 ] || exit 1

echo "guest kernel: building $srcver with $jobs jobs"
make -s ARCH=x86_64 -j"$jobs" vmlinux bzImage
mkdir -p "$result.tmp"
cp vmlinux "$result.tmp/vmlinux"
cp arch/x86/boot/bzImage "$result.tmp/bzImage"
cp .config "$result.tmp/config"
rm -rf "$result"
mv "$result.tmp" "$result"
cp "$result/vmlinux" "$result/bzImage" "$result/config" "$out/"
echo "guest kernel: built $result"
