#!/bin/sh
# Install the Debian packages hull needs to build, test and benchmark.
# Idempotent and quiet when everything is present: it asks dpkg first and only
# runs apt-get for what is missing.
set -eu

BUILD_PKGS="build-essential pkg-config libseccomp-dev libcap-dev libyajl-dev libarchive-dev
 libcurl4-openssl-dev libssl-dev libcmocka-dev"
TEST_PKGS="jq busybox-static runc crun podman containerd skopeo umoci time hyperfine
 iproute2 nftables e2fsprogs erofs-utils cpio uidmap qemu-system-x86 docker-registry
 apache2-utils debootstrap clang libclang-rt-14-dev iperf3 strace python3-jsonschema libcap2-bin"
KERNEL_PKGS="linux-source-6.1 bc bison flex libelf-dev"

want="$BUILD_PKGS"
case "${HULL_DEPS:-all}" in
	build) ;;
	*) want="$want $TEST_PKGS $KERNEL_PKGS" ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "hull: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "hull: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
