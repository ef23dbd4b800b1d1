#!/bin/bash
# containerd's runc v2 shim driving hull (`ctr run --runc-binary HULL`), with a
# private containerd (own root, state and socket; CRI disabled) stopped by pid
# at the end.  No workaround for hybrid cgroups.
set -uo pipefail
CLIENTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLIENTS_DIR/lib.sh"
RT=${HULL:?HULL=path to hull}
# Everything per run (root, state, socket), so that concurrent runs of this
# suite cannot meet; the root is removed at the end.
WORK=${CTD_WORK:-/var/tmp/hull-test-containerd}/run.$$
S=/run/hull-test-containerd.$$
IMGDIR=${IMAGE_DIR:-/var/tmp/hull-test-image}
NS=hulltest
SOCK=$S/containerd.sock
CTD_PID=
C=(ctr -a "$SOCK" -n $NS)
cleanup() {
	if [ -n "$CTD_PID" ]; then
		# bounded: a task a broken runtime left frozen must not hang us
		timeout 10 "${C[@]}" tasks ls -q 2>/dev/null | while read -r t; do
			timeout 10 "${C[@]}" tasks resume "$t" >/dev/null 2>&1
			timeout 10 "${C[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1; sleep 0.3
			timeout 20 "${C[@]}" tasks rm -f "$t" >/dev/null 2>&1; done
		timeout 10 "${C[@]}" containers ls -q 2>/dev/null | while read -r c; do
			timeout 10 "${C[@]}" containers rm "$c" >/dev/null 2>&1; done
		kill "$CTD_PID" 2>/dev/null; wait "$CTD_PID" 2>/dev/null
	fi
	# snapshots are unmounted when their containers go; never delete
	# across a mount that is still there
	if ! grep -qF " $WORK/" /proc/self/mountinfo && ! grep -qF " $S/" /proc/self/mountinfo; then
		rm -rf --one-file-system "$WORK" "$S"
	fi
}
trap cleanup EXIT
mkdir -p "$WORK" "$S"
RT=$(private_runtime "$WORK") || { echo "not ok 1 - copy $HULL"; echo "0 passed, 1 failed"; exit 1; }
ensure_image "$IMGDIR" || { echo "not ok 1 - build test image"; echo "0 passed, 1 failed"; exit 1; }

cat > "$WORK/config.toml" <<CONF
version = 2
root = "$WORK/root"
state = "$S/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$S/containerd.sock.ttrpc"
[debug]
  address = "$S/debug.sock"
  level = "info"
CONF

containerd --config "$WORK/config.toml" > "$WORK/containerd.log" 2>&1 &
CTD_PID=$!
for ((i = 0; i < 100; i++)); do
	ctr -a "$SOCK" version >/dev/null 2>&1 && break
	kill -0 "$CTD_PID" 2>/dev/null || { echo "not ok 1 - containerd died"; tail -20 "$WORK/containerd.log" | sed 's/^/#   /'; echo "0 passed, 1 failed"; exit 1; }
	sleep 0.1
done
IMG=localhost/busybox:latest
id=hull-ctd-$$

task_pid() { tmo "${C[@]}" tasks ls | awk -v t="$1" '$1 == t { print $2 }'; }
task_status() { tmo "${C[@]}" tasks ls | awk -v t="$1" '$1 == t { print $3 }'; }
status_is() { [ "$(task_status "$1")" = "$2" ]; }
T=$id-4

t_pause() {
	local pid
	pid=$(task_pid $T); [ -n "$pid" ] || { echo "no task $T"; return 1; }
	until_true 5 test "$(counter "$pid")" -gt 0 || { echo "the counter never started"; return 1; }
	tmo "${C[@]}" tasks pause $T || return 1
	status_is $T PAUSED || { echo "status $(task_status $T)"; return 1; }
	expect_frozen "$pid"
}

t_resume() {
	local pid
	pid=$(task_pid $T)
	tmo "${C[@]}" tasks resume $T || return 1
	status_is $T RUNNING || { echo "status $(task_status $T)"; return 1; }
	expect_progress "$pid"
}

# The shim reads the cgroup the runtime made (v1: every hierarchy, found
# through /proc/<init>/cgroup; v2: the unified directory): memory in use, the
# --memory-limit the task was started with, the pids in it.
t_metrics() {
	local out
	out=$(tmo "${C[@]}" tasks metrics --format json $T) || return 1
	echo "$out" | head -c 600; echo
	jq -e '((.memory.usage.usage // .memory.usage) > 0)
		and ((.memory.usage.limit // .memory.usage_limit) == 268435456)
		and (.pids.current >= 1)' <<<"$out" >/dev/null
}

# ps lists the init and a process started with `tasks exec`
ps_has_exec() {
	local e
	for e in $(tmo "${C[@]}" tasks ps $T | awk 'NR > 1 { print $1 }'); do
		[ "$(tr '\0' ' ' < "/proc/$e/cmdline" 2>/dev/null)" = "sleep 30 " ] && return 0
	done
	return 1
}
t_ps() {
	local out init
	init=$(task_pid $T)
	tmo "${C[@]}" tasks exec --detach --exec-id ps1 $T sleep 30 || return 1
	until_true 5 ps_has_exec || { echo "no 'sleep 30' in:"; tmo "${C[@]}" tasks ps $T; return 1; }
	out=$(tmo "${C[@]}" tasks ps $T) || return 1
	echo "$out"
	awk -v p="$init" 'NR > 1 && $1 == p { f = 1 } END { exit !f }' <<<"$out" || { echo "init $init missing"; return 1; }
}

# SIGKILL to a paused task must stop it (a v1-frozen task does not die until
# thawed; runc thaws it)
t_kill_paused() {
	tmo "${C[@]}" tasks pause $T || return 1
	status_is $T PAUSED || { echo "status $(task_status $T)"; return 1; }
	tmo "${C[@]}" tasks kill -s SIGKILL $T || return 1
	until_true 5 status_is $T STOPPED || { echo "status after kill: $(task_status $T)"; return 1; }
}

echo "# $(containerd --version | awk '{print $1, $3}') with $("$RT" --version | head -1)"
check "ctr images import" 0 - "${C[@]}" images import --base-name localhost/busybox "$IMGDIR/busybox.oci.tar"
check "ctr run --rm true" 0 - "${C[@]}" run --rm --runc-binary "$RT" "$IMG" $id-1 true
check "ctr run --rm echo (stdout)" 0 hello "${C[@]}" run --rm --runc-binary "$RT" "$IMG" $id-2 sh -c 'echo hello'
check "ctr run --rm exit 3 (exit code)" 3 - "${C[@]}" run --rm --runc-binary "$RT" "$IMG" $id-3 sh -c 'exit 3'
check "ctr run -d --memory-limit 256m (counter loop)" 0 - "${C[@]}" run -d --runc-binary "$RT" --memory-limit 268435456 \
	"$IMG" $T sh -c "$COUNTER_SH"
check "ctr task exec" 0 hi "${C[@]}" tasks exec --exec-id e1 $T echo hi
check_fn "ctr task pause: PAUSED, no progress while paused" t_pause
check_fn "ctr task resume: RUNNING, progress again" t_resume
check_fn "ctr task metrics: memory usage, 256m limit, pids" t_metrics
check_fn "ctr task ps: init and an exec'd process" t_ps
check_fn "ctr task kill of a PAUSED task: STOPPED" t_kill_paused
check "ctr task rm + container rm" 0 - sh -c "$(printf '%q ' "${C[@]}") tasks rm $T >/dev/null && $(printf '%q ' "${C[@]}") containers rm $T"
client_summary
