#!/bin/bash
# cgroup v2 smoke, on a host (or test host) whose /sys/fs/cgroup is pure cgroup v2.
#  1. the hierarchy itself: cgroup2 alone, memory and pids delegated, and a
#     child cgroup enforcing pids.max on a real fork storm (no hull needed);
#  2. a container run by $HULL with memory and pids limits: the values appear
#     in the container's own cgroup files (seen from inside through its cgroup
#     namespace, and from outside through /proc/<pid>/cgroup), and both limits
#     are enforced.
# Environment: HULL (the hull binary; part 2 is skipped if it is missing).
. "$(dirname "$0")/../lib.sh"

cg=/sys/fs/cgroup
mem_limit=67108864   # 64 MiB
pids_limit=32
work=$(mktemp -d /tmp/testhost-cgroupv2.XXXXXX)
test_cg=$cg/testhost-cgroupv2.$$
containers=()

# hull_cmd ARGS...: hull with our state dir; a hang becomes exit 124, not a stuck suite.
hull_cmd() { timeout -s KILL 60 "$HULL" --root "$work/state" "$@"; }

cleanup() {
	local id
	for id in "${containers[@]}"; do
		hull_cmd kill "$id" KILL >/dev/null 2>&1
		hull_cmd delete --force "$id" >/dev/null 2>&1
	done
	[ -d "$test_cg" ] && rmdir "$test_cg" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. the hierarchy
# (From the mount table: busybox stat does not name cgroup2's magic.)
fstype=$(awk -v m=$cg '$2 == m { t = $3 } END { print t }' /proc/self/mounts)
expect_eq "$cg is a cgroup2 mount" "${fstype:-none}" cgroup2
# Anything below would only write files into whatever else is mounted there.
[ "$fstype" = cgroup2 ] || finish
v1=$(awk '$3 == "cgroup" { print $2 }' /proc/self/mounts | tr '\n' ' ')
expect_eq "no cgroup v1 hierarchy is mounted" "${v1:-none}" none
for c in memory pids; do
	check "controller $c is available and enabled for children" \
		grep -qw "$c" $cg/cgroup.subtree_control
done

# storm.sh N CGROUP_DIR: a child shell forks up to N sleepers (a shell gives
# up at its first failed fork), then report its status and pids.current,
# read with a builtin: at the limit nothing else can fork.
storm=$work/storm.sh
cat >"$storm" <<'EOF'
sh -c 'i=0; while [ $i -lt "$1" ]; do sleep 60 >/dev/null 2>&1 & i=$((i + 1)); done' sh "$1" 2>/dev/null
echo "storm=$?"
read -r current <"$2/pids.current"
echo "current=$current"
EOF

if mkdir "$test_cg"; then
	echo $pids_limit >"$test_cg/pids.max"
	echo $mem_limit >"$test_cg/memory.max"
	expect_eq "child cgroup keeps pids.max" "$(cat "$test_cg/pids.max")" $pids_limit
	expect_eq "child cgroup keeps memory.max" "$(cat "$test_cg/memory.max")" $mem_limit
	# A shell moved into the child runs a fork storm of 2x the limit
	# (storm.sh); the excess forks must fail.
	out=$(sh -c 'echo $$ >"$1/cgroup.procs" && exec sh "$2" "$3" "$1"' sh "$test_cg" "$storm" $((pids_limit * 2)) 2>&1)
	current=$(sed -n 's/^current=//p' <<<"$out")
	storm_rc=$(sed -n 's/^storm=//p' <<<"$out")
	hits=$(awk '$1 == "max" { print $2 }' "$test_cg/pids.events")
	if [ -n "$current" ] && [ "$current" -le $pids_limit ] && [ "${hits:-0}" -gt 0 ] && [ "$storm_rc" != 0 ]; then
		ok "pids.max stops a fork storm (pids.current $current, pids.events max $hits)"
	else
		not_ok "pids.max stops a fork storm: pids.current '$current', pids.events max '$hits', storm exit '$storm_rc'"
	fi
	echo 1 >"$test_cg/cgroup.kill"
	# Killed tasks leave the cgroup asynchronously; rmdir is EBUSY until then.
	for _ in $(seq 100); do rmdir "$test_cg" 2>/dev/null && break; sleep 0.1; done
	[ -d "$test_cg" ] && not_ok "remove the test cgroup $test_cg ($(wc -l <"$test_cg/cgroup.procs") tasks left)"
else
	not_ok "create a child cgroup under $cg"
fi

# ---- 2. a container with limits
if [ ! -e "${HULL:-}" ]; then
	skip "container with memory and pids limits" "hull is not built (HULL='${HULL:-}')"
	finish
elif [ ! -x "$HULL" ]; then
	not_ok "hull at $HULL is executable"
	finish
fi

# A busybox rootfs: all a shell-driven check needs (the shared builder when
# there is one, so every suite's containers look alike).
rootfs=$work/bundle/rootfs
make_rootfs=$(dirname "$0")/../../lib/make-rootfs.sh
if [ -x "${ROOTFS_CACHE:-}/bin/busybox" ]; then
	mkdir -p "$rootfs" && cp -a "$ROOTFS_CACHE/." "$rootfs/"
elif [ -f "$make_rootfs" ]; then
	bash "$make_rootfs" "$rootfs" || { not_ok "build a busybox rootfs with $make_rootfs"; finish; }
else
	mkdir -p "$rootfs"/{bin,proc,sys,dev,tmp,etc}
	cp "$(command -v busybox)" "$rootfs/bin/busybox"
	for applet in sh cat head awk sleep kill echo; do ln -s busybox "$rootfs/bin/$applet"; done
	echo 'root:x:0:0:root:/:/bin/sh' >"$rootfs/etc/passwd"
fi

# write_config ARGS_JSON [MEMORY_LIMIT]: an OCI config with our limits and its own cgroup
# namespace, so the container sees its cgroup as /sys/fs/cgroup.
write_config() {
	cat >"$work/bundle/config.json" <<-EOF
	{
	  "ociVersion": "1.0.2",
	  "process": {
	    "terminal": false,
	    "user": { "uid": 0, "gid": 0 },
	    "args": $1,
	    "env": [ "PATH=/bin" ],
	    "cwd": "/",
	    "capabilities": {
	      "bounding": [ "CAP_KILL", "CAP_SETUID", "CAP_SETGID" ],
	      "effective": [ "CAP_KILL", "CAP_SETUID", "CAP_SETGID" ],
	      "permitted": [ "CAP_KILL", "CAP_SETUID", "CAP_SETGID" ]
	    },
	    "noNewPrivileges": true
	  },
	  "root": { "path": "rootfs" },
	  "hostname": "limits",
	  "mounts": [
	    { "destination": "/proc", "type": "proc", "source": "proc" },
	    { "destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
	    { "destination": "/sys", "type": "sysfs", "source": "sysfs", "options": [ "nosuid", "noexec", "nodev", "ro" ] },
	    { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": [ "nosuid", "noexec", "nodev", "relatime", "ro" ] },
	    { "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": [ "nosuid", "nodev" ] }
	  ],
	  "linux": {
	    "resources": {
	      "memory": { "limit": ${2:-$mem_limit} },
	      "pids": { "limit": $pids_limit }
	    },
	    "namespaces": [
	      { "type": "pid" }, { "type": "mount" }, { "type": "ipc" }, { "type": "uts" }, { "type": "cgroup" }
	    ]
	  }
	}
	EOF
}

# 2a. Inside view: the container reads its own limits.
write_config '[ "sh", "-c", "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup" ]'
id=limits-view-$$
containers+=("$id")
out=$(cd "$work/bundle" && hull_cmd run --bundle "$work/bundle" "$id" 2>&1)
rc=$?
expect_eq "hull run of a container with limits exits 0" "$rc" 0
expect_eq "container sees memory.max" "$(sed -n 1p <<<"$out")" $mem_limit
expect_eq "container sees pids.max" "$(sed -n 2p <<<"$out")" $pids_limit
expect_eq "container's /proc/self/cgroup is its own cgroup v2 root" "$(sed -n 3p <<<"$out")" "0::/"
[ "$rc" = 0 ] || diag "hull run output:" "$out"

# 2b. Outside view: while the container runs, its cgroup on the host holds the limits.
write_config '[ "sleep", "600" ]'
id=limits-host-$$
containers+=("$id")
if hull_cmd create --bundle "$work/bundle" "$id" >"$work/create.log" 2>&1; then
	ok "hull create"
	pid=$(hull_cmd state "$id" 2>/dev/null | sed -nE 's/.*"pid": *([0-9]+).*/\1/p' | head -1)
	path=$(sed -n 's/^0:://p' "/proc/${pid:-0}/cgroup" 2>/dev/null)
	if [ -n "$pid" ] && [ -n "$path" ] && [ "$path" != / ]; then
		ok "container init (pid $pid) is in cgroup $path"
		expect_eq "host view: memory.max" "$(cat "$cg$path/memory.max" 2>&1)" $mem_limit
		expect_eq "host view: pids.max" "$(cat "$cg$path/pids.max" 2>&1)" $pids_limit
	else
		not_ok "find the container's cgroup (pid '$pid', cgroup '$path')"
	fi
	hull_cmd kill "$id" KILL >"$work/kill.log" 2>&1
	expect_eq "hull kill of a created container" "$?" 0 || diag "$(cat "$work/kill.log")"
	hull_cmd delete --force "$id" >"$work/delete.log" 2>&1
	expect_eq "hull delete --force" "$?" 0 || diag "$(cat "$work/delete.log")"
	if [ -n "$path" ] && [ "$path" != / ] && [ -d "$cg$path" ]; then
		not_ok "hull delete removes the container's cgroup $path"
	else
		ok "hull delete removes the container's cgroup"
	fi
else
	not_ok "hull create (exit $?)"
	diag "$(cat "$work/create.log")"
fi

# 2c. Enforcement from inside: a fork storm stops at pids.max; an allocation
# beyond memory.max gets its process OOM-killed, and the container survives to
# report it.
# The container's PID 1: $1 = how far awk doubles a string (2x memory.max:
# it must be OOM-killed before), $2 = how many sleepers the storm forks.
cp "$storm" "$rootfs/storm.sh"
cat >"$rootfs/enforce.sh" <<'EOF'
awk -v max="$1" 'BEGIN { s = "0123456789abcdef"; while (length(s) < max) s = s s }'
echo "child=$?"
sh /storm.sh "$2" /sys/fs/cgroup
kill -9 -1
wait
while read -r line; do echo "pids.events $line"; done </sys/fs/cgroup/pids.events
while read -r line; do echo "memory.events $line"; done </sys/fs/cgroup/memory.events
EOF
# A smaller memory.max here: faulting in pages is slow under TCG.
enforce_mem=16777216
write_config "[ \"sh\", \"/enforce.sh\", \"$((enforce_mem * 2))\", \"$((pids_limit * 2))\" ]" $enforce_mem
id=limits-enforce-$$
containers+=("$id")
out=$(cd "$work/bundle" && hull_cmd run --bundle "$work/bundle" "$id" 2>&1)
rc=$?
pids_current=$(sed -n 's/^current=//p' <<<"$out")
pids_hits=$(awk '$1 == "pids.events" && $2 == "max" { print $3 }' <<<"$out")
oom_kills=$(awk '$1 == "memory.events" && $2 == "oom_kill" { print $3 }' <<<"$out")
child=$(sed -n 's/^child=//p' <<<"$out")
if [ "${pids_current:-999}" -le $pids_limit ] 2>/dev/null && [ "${pids_hits:-0}" -gt 0 ]; then
	ok "pids.max holds inside the container (pids.current $pids_current, max events $pids_hits)"
else
	not_ok "pids.max holds inside the container: pids.current '$pids_current', max events '$pids_hits'"
fi
if [ "${oom_kills:-0}" -gt 0 ] && [ "$child" = 137 ]; then
	ok "memory.max holds: the allocating process was OOM-killed (oom_kill $oom_kills)"
else
	not_ok "memory.max holds: oom_kill '$oom_kills', child status '$child'"
fi
[ "$rc" = 0 ] || diag "hull run exited $rc; output:" "$out"

finish
