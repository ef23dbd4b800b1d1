#!/bin/bash
# Fetch Debian's stock cloud kernel for the test host and print the directory
# holding it: <dir>/vmlinuz, <dir>/release (e.g. 6.1.0-56-cloud-amd64) and
# <dir>/lib/modules/<release>/ (with a modules.dep).
#
# The kernel ABI in the package name moves with every security update and old
# ABIs vanish from the archive, so the package is resolved through the
# metapackage each time (local apt lists only) and cached under
# $HULL_TESTHOST_CACHE/kernel/<package>_<version>/.  A second run with the same
# resolution downloads nothing.  Without apt metadata (offline runner), the
# newest cached kernel is used.
#
# Environment: HULL_TESTHOST_CACHE (cache root), HULL_TESTHOST_KERNEL_PKG
# (a full package name, to pin an ABI instead of following the metapackage).
set -euo pipefail

cache=${HULL_TESTHOST_CACHE:?}
meta=linux-image-cloud-amd64
mkdir -p "$cache/kernel"

resolve_package() {
	local pkg=${HULL_TESTHOST_KERNEL_PKG:-} ver
	if [ -n "$pkg" ]; then
		ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
	else
		# One apt-cache call (each costs ~1 s without a pkgcache.bin):
		# "Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"
		read -r pkg ver < <(apt-cache show --no-all-versions "$meta" 2>/dev/null |
			sed -nE 's/^Depends: (linux-image-[0-9][^ ,]*-cloud-amd64(-unsigned)?) \(= ([^)]+)\).*/\1 \3/p' | head -1)
	fi
	[ -n "$pkg" ] && [ -n "$ver" ] || return 1
	printf '%s_%s\n' "$pkg" "$ver"
}

newest_cached() {
	local d
	d=$(ls -1dt "$cache"/kernel/*/ 2>/dev/null | while read -r d; do
		[ -f "$d/release" ] && [ -f "$d/vmlinuz" ] && { echo "${d%/}"; break; }
	done)
	[ -n "$d" ] && echo "$d"
}

# A fresh CI image may have no apt lists at all: fetch them once, as root.
if ! key=$(resolve_package) && ! newest_cached >/dev/null && [ "$(id -u)" = 0 ]; then
	echo "testhost: no apt metadata for $meta; running apt-get update" >&2
	apt-get update -qq >&2 && key=$(resolve_package) || true
fi
if [ -z "${key:-}" ]; then
	if d=$(newest_cached); then
		echo "testhost: apt cannot resolve $meta; using cached $(basename "$d")" >&2
		echo "$d"
		exit 0
	fi
	echo "testhost: cannot resolve ${HULL_TESTHOST_KERNEL_PKG:-$meta} through apt-cache and nothing is cached in $cache/kernel" >&2
	exit 1
fi

dir=$cache/kernel/$key
if [ -f "$dir/release" ] && [ -f "$dir/vmlinuz" ]; then
	echo "$dir"
	exit 0
fi

pkg=${key%%_*}
tmp=$(mktemp -d "$cache/kernel/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "testhost: downloading $pkg (${key#*_})" >&2
# apt's sandbox user cannot write into root-owned dirs; fetching as root is what we want here.
(cd "$tmp" && apt-get download -q=2 -o APT::Sandbox::User=root "$pkg=${key#*_}") >&2
deb=$(ls "$tmp"/*.deb)
mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"
release=$(ls "$tmp/x/lib/modules")
if [ "$(echo "$release" | wc -l)" != 1 ] || [ ! -f "$tmp/x/boot/vmlinuz-$release" ]; then
	echo "testhost: $deb does not hold exactly one kernel (lib/modules: $release)" >&2
	exit 1
fi
mkdir -p "$tmp/out/lib"
mv "$tmp/x/boot/vmlinuz-$release" "$tmp/out/vmlinuz"
mv "$tmp/x/boot/config-$release" "$tmp/out/config" 2>/dev/null || true
mv "$tmp/x/lib/modules" "$tmp/out/lib/modules"
echo "$release" >"$tmp/out/release"
# The .deb ships no modules.dep; build it once here so the initramfs builder
# can take a module's dependency closure and modprobe works inside L1.
busybox depmod -b "$tmp/out" "$release"
# Another run may have fetched it meanwhile: keep the first complete copy.
[ -f "$dir/release" ] || { rm -rf "$dir"; mv -T "$tmp/out" "$dir" 2>/dev/null; } || true
[ -f "$dir/release" ] || { echo "testhost: could not store the kernel in $dir" >&2; exit 1; }
# Keep this kernel and the one before it (~100 MB each); older ABIs are gone for good.
ls -1dt "$cache"/kernel/*/ | tail -n +3 | while read -r old; do
	[ "${old%/}" = "$dir" ] || rm -rf "${old%/}"
done
echo "$dir"
