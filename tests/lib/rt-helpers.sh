# rt-helpers.sh — sourced by the runtime's integration tests (lifecycle,
# namespaces, hooks, console, userns, exec, bad input).  Builds on
# mount-helpers.sh (private mount ns, subreaper, WORK/STATE, check/ok/notok,
# mh_bundle, mh_done) and adds:
#   H ARGS...          $HULL --root $STATE ARGS...
#   rt_wait_gone PID   until PID is gone or a zombie (5 s max)
#   rt_leftovers ID    prints what a container left behind (state dir, cgroup dirs)
. "$(dirname "${BASH_SOURCE[0]}")/mount-helpers.sh"

# check() in mount-helpers prints $OUT/$ERR/$RC on failure.
OUT= ERR= RC=

H() { "$HULL" --root "$STATE" "$@"; }

rt_wait_gone() {
	local pid=$1 i st
	for ((i = 0; i < 500; i++)); do
		[ -r "/proc/$pid/stat" ] || return 0
		st=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null) || return 0
		[ "$st" = Z ] && return 0
		sleep 0.01
	done
	return 1
}

rt_leftovers() {
	local id=$1
	[ -e "$STATE/$id" ] && echo "state dir $STATE/$id"
	local d
	for d in /sys/fs/cgroup/*/hull/"$id" /sys/fs/cgroup/hull/"$id"; do
		[ -d "$d" ] && echo "cgroup $d"
	done
	grep -q "/$id/" /proc/self/mountinfo && echo "mount with $id"
	return 0
}
