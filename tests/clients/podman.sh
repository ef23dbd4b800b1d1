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

# The configuration is per run (CONF), so that concurrent runs of other
# versions of this suite cannot rewrite it underneath us; the storage is
# shared.  The database stays in its default place below graphroot
# (no static_dir): conmon's exit command (`podman container cleanup`) gets
# --root/--runroot/--tmpdir but not the config file, so a database elsewhere
# is one it cannot find, the container is never marked exited and every
# foreground `podman run` waits out podman's 20 s conmon timeout.
CONF=$WORK/conf.$$
ERRDIR=$CONF
mkdir -p "$CONF"
RT=$(private_runtime "$CONF") || { echo "not ok 1 - copy $HULL"; echo "0 passed, 1 failed"; rm -rf "$CONF"; exit 1; }
cat > "$CONF/storage.conf" <<EOF_CONF
[storage]
driver = "${PODMAN_DRIVER:-overlay}"
runroot = "/run/hull-test-podman/storage"
graphroot = "$WORK/storage"
EOF_CONF
cat > "$CONF/containers.conf" <<EOF_CONF
[containers]
netns = "none"
log_driver = "k8s-file"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$WORK/events.log"
tmp_dir = "/run/hull-test-podman/libpod"
volume_path = "$WORK/volumes"
EOF_CONF
export CONTAINERS_CONF=$CONF/containers.conf CONTAINERS_STORAGE_CONF=$CONF/storage.conf
P=(podman --runtime "$RT" --cgroup-manager cgroupfs --events-backend file)
IMG=localhost/busybox:latest
# No CAP_SYS_RESOURCE here: podman's root defaults (nofile 1048576) cannot be set.
HN=$(ulimit -Hn); [ "$HN" = unlimited ] && HN=1048576
ULIM=(--ulimit "nofile=$HN:$HN" --ulimit "nproc=4096:4096")
cname=hull-podman-$$
kname=hull-podman-kill-$$
cleanup() {
	local c
	# bounded, and unpaused first: a container a broken runtime left frozen
	# must not hang us
	for c in "$cname" "$kname"; do
		timeout 10 "${P[@]}" unpause "$c" >/dev/null 2>&1
		timeout 30 "${P[@]}" rm -f -t 0 "$c" >/dev/null 2>&1
	done
	rm -rf "$CONF"
}
trap cleanup EXIT

state_is() { [ "$(tmo "${P[@]}" inspect -f '{{.State.Status}}' "$1")" = "$2" ]; }
init_pid() { tmo "${P[@]}" inspect -f '{{.State.Pid}}' "$cname"; }

t_pause() {
	local pid
	pid=$(init_pid) || return 1
	until_true 5 test "$(counter "$pid")" -gt 0 || { echo "the counter never started"; return 1; }
	tmo "${P[@]}" pause "$cname" || return 1
	state_is "$cname" paused || { echo "State.Status: $(tmo "${P[@]}" inspect -f '{{.State.Status}}' "$cname")"; return 1; }
	expect_frozen "$pid"
}

t_unpause() {
	local pid
	pid=$(init_pid) || return 1
	tmo "${P[@]}" unpause "$cname" || return 1
	state_is "$cname" running || { echo "State.Status: $(tmo "${P[@]}" inspect -f '{{.State.Status}}' "$cname")"; return 1; }
	expect_progress "$pid"
}

# "MEM USAGE / LIMIT" from the cgroup: usage is not zero, the limit is the
# --memory 256m the container was started with (podman prints 268.4MB).
t_stats() {
	local out mem pids
	out=$(tmo "${P[@]}" stats --no-stream --no-reset --format json "$cname") || return 1
	echo "$out"
	mem=$(jq -r '.[0].mem_usage' <<<"$out") pids=$(jq -r '.[0].pids' <<<"$out")
	case $mem in 0B*|0kB*|"") echo "memory usage is zero or missing: $mem"; return 1 ;; esac
	[ "${mem#* / }" = 268.4MB ] || { echo "memory limit '${mem#* / }', want 268.4MB"; return 1; }
	[ "$pids" -ge 1 ] 2>/dev/null || { echo "pids '$pids'"; return 1; }
}

t_update() {
	local pid mem shares
	pid=$(init_pid) || return 1
	tmo "${P[@]}" update --memory 64m --cpu-shares 512 "$cname" || return 1
	mem=$(cg_value "$pid" memory memory.limit_in_bytes memory.max) || return 1
	shares=$(cg_value "$pid" cpu cpu.shares cpu.weight) || return 1
	echo "memory limit $mem, cpu shares/weight $shares"
	[ "$mem" = 67108864 ] || return 1
	[ "$shares" = 512 ] || [ "$shares" = 20 ] || return 1
	state_is "$cname" running
}

# podman 4.3 has no `update --pids-limit`; then hull's own `update` is run on
# the container podman created (podman runs hull without --root, so it is in
# hull's default state directory), which checks the same cgroup plumbing.
t_update_pids() {
	local pid id v
	pid=$(init_pid) || return 1
	if tmo "${P[@]}" update --help 2>/dev/null | grep -q -- --pids-limit; then
		tmo "${P[@]}" update --pids-limit 77 "$cname" || return 1
	else
		id=$(tmo "${P[@]}" inspect -f '{{.Id}}' "$cname") || return 1
		echo "podman $(podman --version | awk '{print $3}') has no update --pids-limit: hull update on its container"
		tmo "$RT" update --pids-limit 77 "$id" || return 1
	fi
	v=$(cg_value "$pid" pids pids.max pids.max) || return 1
	echo "pids.max $v"
	[ "$v" = 77 ]
}

t_top() {
	local out pid
	pid=$(init_pid) || return 1
	out=$(tmo "${P[@]}" top "$cname" pid comm args) || return 1
	echo "$out"
	# the container's init is pid 1 in its namespace, and is the counter loop
	awk 'NR > 1 && $1 == 1 && $2 == "sh" { f = 1 } END { exit !f }' <<<"$out" || return 1
	grep -q 'while' <<<"$out"
}

# SIGKILL to a paused container must stop it (a v1-frozen task does not die
# until thawed; runc and crun thaw it).
t_kill_paused() {
	tmo "${P[@]}" run -d --name "$kname" --network none "${ULIM[@]}" "$IMG" sleep 60 >/dev/null || return 1
	tmo "${P[@]}" pause "$kname" || return 1
	state_is "$kname" paused || { echo "not paused"; return 1; }
	tmo "${P[@]}" kill "$kname" >/dev/null || return 1
	until_true 5 state_is "$kname" exited || {
		echo "State.Status after kill: $(tmo "${P[@]}" inspect -f '{{.State.Status}}' "$kname")"; return 1; }
	tmo "${P[@]}" rm "$kname" >/dev/null
}

echo "# podman $(podman --version | awk '{print $3}') with $("$RT" --version | head -1)"
check "podman load oci-archive" 0 - "${P[@]}" load -q -i "$IMGDIR/busybox.oci.tar"
check "run --rm IMG true" 0 - "${P[@]}" run --rm --network none "${ULIM[@]}" "$IMG" true
check "run --rm echo (stdout)" 0 hello "${P[@]}" run --rm --network none "${ULIM[@]}" "$IMG" sh -c 'echo hello'
check "run --rm exit 3 (exit code)" 3 - "${P[@]}" run --rm --network none "${ULIM[@]}" "$IMG" sh -c 'exit 3'
check "run -d --memory 256m IMG (counter loop)" 0 - "${P[@]}" run -d --name "$cname" --network none --memory 256m \
	"${ULIM[@]}" "$IMG" sh -c "$COUNTER_SH"
check "exec in detached container" 0 hi "${P[@]}" exec "$cname" echo hi
check_fn "pause: State.Status paused, no progress while paused" t_pause
check_fn "unpause: State.Status running, progress again" t_unpause
check_fn "stats --no-stream: memory usage, 256m limit, pids" t_stats
check_fn "update --memory/--cpu-shares: values in the cgroup files" t_update
check_fn "pids limit (update --pids-limit; hull update where podman lacks it): pids.max" t_update_pids
check_fn "top: the container's processes" t_top
check_fn "kill a paused container: it exits" t_kill_paused
check "stop + rm detached container" 0 - sh -c "$(printf '%q ' "${P[@]}") stop -t 1 $cname >/dev/null && $(printf '%q ' "${P[@]}") rm $cname >/dev/null"
client_summary
