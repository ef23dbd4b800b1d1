#!/bin/bash
# podman driving hull as its OCI runtime (`podman --runtime HULL`), the way an
# operator configures it: private containers.conf/storage.conf, cgroupfs
# manager (no systemd), no network.  No workaround for hybrid cgroups.
set -uo pipefail
CLIENTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLIENTS_DIR/lib.sh"
RT=${HULL:?HULL=path to hull}
WORK=${PODMAN_WORK:-/var/tmp/hull-test-podman}
IMGDIR=${IMAGE_DIR:-/var/tmp/hull-test-image}
mkdir -p "$WORK"
ensure_image "$IMGDIR" || { echo "not ok 1 - build test image"; echo "0 passed, 1 failed"; exit 1; }

cat > "$WORK/storage.conf" <<CONF
[storage]
driver = "${PODMAN_DRIVER:-overlay}"
runroot = "/run/hull-test-podman/storage"
graphroot = "$WORK/storage"
CONF
cat > "$WORK/containers.conf" <<CONF
[containers]
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
tmp_dir = "/run/hull-test-podman/libpod"
static_dir = "$WORK/libpod"
volume_path = "$WORK/volumes"
CONF
export CONTAINERS_CONF=$WORK/containers.conf CONTAINERS_STORAGE_CONF=$WORK/storage.conf
P=(podman --runtime "$RT" --cgroup-manager cgroupfs --events-backend file)
IMG=localhost/busybox:latest
# No CAP_SYS_RESOURCE here: podman's root defaults (nofile 1048576) cannot be set.
HN=$(ulimit -Hn); [ "$HN" = unlimited ] && HN=1048576
ULIM=(--ulimit "nofile=$HN:$HN" --ulimit "nproc=4096:4096")
cname=hull-podman-$$
trap '"${P[@]}" rm -f "$cname" >/dev/null 2>&1' EXIT

echo "# podman $(podman --version | awk '{print $3}') with $("$RT" --version | head -1)"
check "podman load oci-archive" 0 - "${P[@]}" load -q -i "$IMGDIR/busybox.oci.tar"
check "run --rm IMG true" 0 - "${P[@]}" run --rm --network none "${ULIM[@]}" "$IMG" true
check "run --rm echo (stdout)" 0 hello "${P[@]}" run --rm --network none "${ULIM[@]}" "$IMG" sh -c 'echo hello'
check "run --rm exit 3 (exit code)" 3 - "${P[@]}" run --rm --network none "${ULIM[@]}" "$IMG" sh -c 'exit 3'
check "run -d IMG sleep 60" 0 - "${P[@]}" run -d --name "$cname" --network none "${ULIM[@]}" "$IMG" sleep 60
check "exec in detached container" 0 hi "${P[@]}" exec "$cname" echo hi
check "stop + rm detached container" 0 - sh -c "$(printf '%q ' "${P[@]}") stop -t 1 $cname >/dev/null && $(printf '%q ' "${P[@]}") rm $cname >/dev/null"
client_summary
