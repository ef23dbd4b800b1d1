#!/bin/bash
# bench/image.sh — image benchmarks, side by side, numbers reported (never asserted):
#  (a) cold import + unpack of a ~100 MB Debian image (debootstrap --variant=minbase,
#      one gzip layer, built once and cached): `hull pull oci:LAYOUT` into an empty
#      store (blob copied and verified, layer unpacked, diff_id checked) against
#      `umoci unpack` of the same layout.  Target: hull >= 1x umoci's throughput.
#  (b) warm run of an image already in the store: `hull run --rm IMG true` against
#      `podman run --rm IMG true` (runtime crun), same busybox image, both with no
#      network (hull --net none, podman --network none).  Target: >= 10x.
# Env: HULL, BENCH_N (runs, default 20), BENCH_UNPACK_N (runs of (a), default 5),
#      BENCH_IMAGE_PARTS=b (only the warm run), HULL_BENCH_CACHE (default
#      /var/tmp/hull-bench-cache), DEBIAN_MIRROR (default: the first
#      Debian archive URI in this machine's apt sources).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_enter_ns "$0" "$@"

HULL=$(resolve_runtime "${HULL:-$HERE/../build/hull}") || exit 1
N=${BENCH_N:-20}
CACHE=${HULL_BENCH_CACHE:-/var/tmp/hull-bench-cache}
# The same archive apt uses here: the first "URIs:" (deb822) or "deb" line
# that is not a security mirror.
apt_mirror() {
	cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '/^URIs:/ {print $2} /^deb / {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' |
		grep -v -- '-security' | head -1
}
MIRROR=${DEBIAN_MIRROR:-$(apt_mirror)}
WORK=$(mktemp -d /var/tmp/hull-bench-image.XXXXXX)
PODMAN=(podman --root "$WORK/podman-root" --runroot "$WORK/podman-run" --cgroup-manager cgroupfs
	--events-backend file --runtime crun)
cleanup() {
	"${PODMAN[@]}" rm -af >/dev/null 2>&1
	"${PODMAN[@]}" system reset -f >/dev/null 2>&1
	safe_rm "$WORK"
}
trap cleanup EXIT
mkdir -p "$CACHE"

now() { date +%s%N; }
ms() { echo "scale=1; ($2 - $1) / 1000000" | bc; }

# ---- (a) cold import + unpack --------------------------------------------------
debian_layout() {
	[ -f "$CACHE/debian-oci/index.json" ] && return 0
	command -v debootstrap >/dev/null && command -v umoci >/dev/null || return 1
	if [ ! -x "$CACHE/debian-rootfs/bin/sh" ]; then
		echo "building the Debian image once (debootstrap minbase bookworm from $MIRROR) ..."
		rm -rf "$CACHE/debian-rootfs.tmp"
		debootstrap --variant=minbase bookworm "$CACHE/debian-rootfs.tmp" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 ||
			{ echo "debootstrap failed (see $CACHE/debootstrap.log)"; return 1; }
		# what Docker's debian images leave out too: package caches and lists
		rm -rf "$CACHE/debian-rootfs.tmp/var/cache/apt/archives/"*.deb "$CACHE/debian-rootfs.tmp/var/cache/apt/"*.bin \
			"$CACHE/debian-rootfs.tmp/var/lib/apt/lists/"*
		mv "$CACHE/debian-rootfs.tmp" "$CACHE/debian-rootfs"
	fi
	rm -rf "$CACHE/debian-oci.tmp"
	umoci init --layout "$CACHE/debian-oci.tmp" &&
	umoci new --image "$CACHE/debian-oci.tmp:bench" &&
	umoci insert --image "$CACHE/debian-oci.tmp:bench" "$CACHE/debian-rootfs" / >/dev/null &&
	umoci config --image "$CACHE/debian-oci.tmp:bench" --config.cmd /bin/bash --architecture amd64 --os linux &&
	umoci gc --layout "$CACHE/debian-oci.tmp" &&
	mv "$CACHE/debian-oci.tmp" "$CACHE/debian-oci"
}

echo "--- (a) cold import + unpack of a Debian image: hull pull oci: vs umoci unpack"
if [ "${BENCH_IMAGE_PARTS:-ab}" = b ]; then
	echo "skipped (BENCH_IMAGE_PARTS=b)"
elif debian_layout; then
	RUNS_A=${BENCH_UNPACK_N:-5}
	: > "$WORK/a-hull" ; : > "$WORK/a-umoci"
	for i in $(seq "$RUNS_A"); do
		safe_rm "$WORK/store"
		sync
		t0=$(now)
		"$HULL" pull --store "$WORK/store" -q "oci:$CACHE/debian-oci:bench" >/dev/null || { echo "hull pull failed"; break; }
		t1=$(now)
		ms "$t0" "$t1" >> "$WORK/a-hull"
		safe_rm "$WORK/bundle"
		sync
		t0=$(now)
		umoci unpack --image "$CACHE/debian-oci:bench" "$WORK/bundle" >/dev/null 2>&1 || { echo "umoci unpack failed"; break; }
		t1=$(now)
		ms "$t0" "$t1" >> "$WORK/a-umoci"
	done
	BYTES=$(du -sb --apparent-size "$WORK/bundle/rootfs" | cut -f1)
	FILES=$(find "$WORK/bundle/rootfs" | wc -l)
	GZ=$(du -sb "$CACHE/debian-oci/blobs" | cut -f1)
	read -r hm _ < <(stats "$WORK/a-hull")
	read -r um _ < <(stats "$WORK/a-umoci")
	printf 'image: %.1f MB unpacked, %d entries, %.1f MB compressed; %d runs each, median\n' \
		"$(echo "$BYTES / 1000000" | bc -l)" "$FILES" "$(echo "$GZ / 1000000" | bc -l)" "$RUNS_A"
	printf '%-28s %9s ms %9s MB/s\n' "hull pull oci: (empty store)" "$hm" "$(echo "scale=1; $BYTES / 1000 / $hm" | bc)"
	printf '%-28s %9s ms %9s MB/s\n' "umoci unpack" "$um" "$(echo "scale=1; $BYTES / 1000 / $um" | bc)"
	printf 'hull / umoci throughput: %.2fx (target >= 1x)\n' "$(echo "$um / $hm" | bc -l)"
else
	echo "skipped: no Debian image (needs debootstrap, umoci and the Debian archive once)"
fi

# ---- (b) warm run ----------------------------------------------------------------
echo
echo "--- (b) warm run: hull run --rm IMG true vs podman run --rm IMG true (crun)"
"$HERE/../tests/lib/make-image.sh" "$WORK/img" >/dev/null 2>&1 || { echo "make-image.sh failed"; exit 1; }
"$HULL" pull --store "$WORK/hstore" -q "oci-archive:$WORK/img/busybox.oci.tar" >/dev/null || { echo "hull import failed"; exit 1; }
HCMD=("$HULL" --root "$WORK/hstate" run --store "$WORK/hstore" --rm --net none localhost/busybox:latest true)
"${HCMD[@]}" || { echo "hull run failed"; exit 1; }
have_podman=1
if ! command -v podman >/dev/null || ! "${PODMAN[@]}" load -q -i "$WORK/img/busybox.oci.tar" >/dev/null 2>"$WORK/podman.err"; then
	have_podman=0
	echo "podman: load failed: $(head -2 "$WORK/podman.err")"
fi
# podman raises RLIMIT_NOFILE/NPROC by default, which needs CAP_SYS_RESOURCE;
# hull leaves them as inherited, so give podman fixed values it may set
PCMD=("${PODMAN[@]}" run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096
	localhost/busybox:latest true)
if [ $have_podman = 1 ] && ! "${PCMD[@]}" >/dev/null 2>"$WORK/podman.err"; then
	have_podman=0
	echo "podman: run failed: $(head -3 "$WORK/podman.err")"
fi

# one run of CMD..., its wall time in ms appended to OUTFILE
time_once() {
	local out=$1 t0 t1; shift
	t0=$(now)
	"$@" >/dev/null 2>&1
	t1=$(now)
	ms "$t0" "$t1" >> "$out"
}
for _ in 1 2 3; do "${HCMD[@]}" >/dev/null 2>&1; done
: > "$WORK/b-hull"; : > "$WORK/b-podman"
if [ $have_podman = 1 ]; then
	for _ in 1 2 3; do "${PCMD[@]}" >/dev/null 2>&1; done
fi
# alternate the two so both see the same machine load (shared CI hosts are noisy)
for _ in $(seq "$N"); do
	time_once "$WORK/b-hull" "${HCMD[@]}"
	[ $have_podman = 1 ] && time_once "$WORK/b-podman" "${PCMD[@]}"
done
read -r hm hp < <(stats "$WORK/b-hull")
printf '%-34s median %8s ms   p90 %8s ms   (%d runs)\n' "hull run --rm IMG true" "$hm" "$hp" "$N"
if [ $have_podman = 1 ]; then
	read -r pm pp < <(stats "$WORK/b-podman")
	printf '%-34s median %8s ms   p90 %8s ms   (%d runs)\n' "podman run --rm IMG true (crun)" "$pm" "$pp" "$N"
	printf 'podman / hull: %.1fx faster (target >= 10x)\n' "$(echo "$pm / $hm" | bc -l)"
else
	echo "podman run: not measured"
fi
