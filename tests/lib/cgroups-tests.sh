# cgroups-tests.sh — the body of tests/integration/test_cgroups.sh (v1 /
# hybrid hosts) and test_cgroups_v2.sh (pure cgroup v2, e.g. inside the test
# host).  Sourced after CG_SUITE is set; needs bash, jq and busybox tools.
#
# Every limit is checked twice: the value in the container's cgroup files,
# and the behaviour it causes (a memory hog is OOM-killed and `events`
# reports it, a fork bomb stops at pids.max, a frozen container makes no
# progress and then resumes, a denied device cannot be opened).
set -uo pipefail
CG_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CG_PASS=0 CG_FAIL=0 CG_SKIP=0 CG_N=0

ok() { CG_N=$((CG_N + 1)); CG_PASS=$((CG_PASS + 1)); echo "ok $CG_N - $*"; }
notok() { CG_N=$((CG_N + 1)); CG_FAIL=$((CG_FAIL + 1)); echo "not ok $CG_N - $*"; }
skip() { CG_N=$((CG_N + 1)); CG_SKIP=$((CG_SKIP + 1)); echo "ok $CG_N - # SKIP $*"; }
check() {  # check DESC COMMAND...
	local desc=$1; shift
	if "$@"; then ok "$desc"; else notok "$desc"; fi
}
# expect DESC GOT WANT
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else notok "$1"; echo "    got '$2', want '$3'" >&2; fi
}
cg_done() {
	echo "$CG_PASS passed, $CG_FAIL failed, $CG_SKIP skipped"
	[ "$CG_FAIL" = 0 ]
	exit $?
}

# ---- setup ---------------------------------------------------------------------
cg_init() {
	if [ -z "${CG_SUBREAPER:-}" ] && command -v python3 >/dev/null; then
		# PID 1 here may not reap orphans: adopt our containers ourselves
		export CG_SUBREAPER=1
		exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' \
			bash "$0" "$@"
	fi
	HULL=${HULL:-$CG_LIB/../../build/hull}
	case "$HULL" in */*) HULL=$(readlink -f "$HULL") ;; esac
	if ! [ -x "$HULL" ]; then
		echo "no hull binary at $HULL"
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
	WORK=$(mktemp -d "/var/tmp/hull-$CG_SUITE.XXXXXX" 2>/dev/null || mktemp -d "/tmp/hull-$CG_SUITE.XXXXXX")
	chmod 755 "$WORK"
	STATE=$WORK/state
	if [ -z "${ROOTFS_CACHE:-}" ]; then
		if [ -x /testhost/rootfs/bin/busybox ]; then ROOTFS_CACHE=/testhost/rootfs; else ROOTFS_CACHE=$WORK/rootfs-cache; fi
	fi
	export ROOTFS_CACHE
	[ -x "$ROOTFS_CACHE/bin/busybox" ] || "$CG_LIB/make-rootfs.sh" "$ROOTFS_CACHE"
	CG_IDS=()
	CG_EXTRA_DIRS=()
	trap cg_cleanup EXIT
	if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] ||
	   awk '$2 == "/sys/fs/cgroup" && $3 == "cgroup2" { f = 1 } END { exit !f }' /proc/self/mounts; then
		LAYOUT=v2
	elif [ -d /sys/fs/cgroup/unified ] && awk '$2 == "/sys/fs/cgroup/unified" { f = 1 } END { exit !f }' /proc/self/mounts; then
		LAYOUT=hybrid
	else
		LAYOUT=v1
	fi
	echo "# cgroup layout: $LAYOUT"
}

cg_cleanup() {
	local id d
	for id in "${CG_IDS[@]}"; do
		timeout 20 "$HULL" --root "$STATE" delete --force "$id" >/dev/null 2>&1
	done
	[ -n "${EVENTS_PID:-}" ] && kill "$EVENTS_PID" 2>/dev/null
	for d in "${CG_EXTRA_DIRS[@]}"; do rmdir "$d" 2>/dev/null; done
	rm -rf "$WORK"
}

H() { timeout 60 "$HULL" --root "$STATE" "$@"; }

# bundle DIR JQ-FILTER ARG... : writable rootfs, no cgroup namespace unless asked
bundle() {
	local dir=$1 filter=$2; shift 2
	rm -rf "$dir"
	READONLY_ROOT=false "$CG_LIB/make-bundle.sh" "$dir" "$@" >/dev/null
	jq "$filter" "$dir/config.json" >"$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

# start ID DIR : create + start, container output in $WORK/ID.out
start() {
	CG_IDS+=("$1")
	(cd "$2" && H create --bundle "$2" "$1" >"$WORK/$1.out" 2>&1 </dev/null) || return 1
	H start "$1"
}

init_pid() { H state "$1" | jq -r .pid; }

# cgdir CONTROLLER ID [PATH]: the container's directory for a controller
cgdir() {
	local ctrl=$1 path=${3:-/hull/$2}
	case $LAYOUT in
	v2) echo "/sys/fs/cgroup$path" ;;
	*)
		if [ -d "/sys/fs/cgroup/$ctrl" ]; then
			echo "/sys/fs/cgroup/$ctrl$path"
		else
			echo "/sys/fs/cgroup/unified$path"
		fi
		;;
	esac
}

# cgfile CONTROLLER V1FILE V2FILE ID: value of the container's file
cgval() {
	local f=$2
	# hybrid: a controller without a v1 hierarchy lives on the unified tree
	if [ "$LAYOUT" = v2 ] || ! [ -d "/sys/fs/cgroup/$1" ]; then f=$3; fi
	cat "$(cgdir "$1" "$4")/$f" 2>/dev/null
}

# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() {
	local n=$(($1 * 20)); shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

leftovers() {  # cgroup directories still present for path P
	local p=$1 d
	for d in /sys/fs/cgroup/*"$p" /sys/fs/cgroup"$p"; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

blockdev() {  # MAJ:MIN of a real disk, or nothing
	local b
	for b in /sys/block/*; do
		case $(basename "$b") in loop* | ram* | zram* | nbd*) continue ;; esac
		[ -r "$b/dev" ] && { cat "$b/dev"; return; }
	done
}

# ---- the tests ----------------------------------------------------------------
cg_tests() {
	local B=$WORK/b id pid out col hp=2MB have_hp=
	[ -e /sys/kernel/mm/hugepages/hugepages-2048kB ] && have_hp=1
	local dev
	dev=$(blockdev)

	# ---- 1. limits land in the cgroup files -----------------------------------
	id=lim$$
	local res='{ memory: { limit: 67108864, reservation: 33554432, swap: 67108864 },
		cpu: { shares: 512, quota: 20000, period: 100000, cpus: "0" },
		pids: { limit: 50 },
		devices: [ { allow: false, access: "rwm" }, { allow: true, type: "c", major: 1, minor: 3, access: "rw" } ] }'
	local filt=".linux.resources = $res"
	[ -n "$have_hp" ] && filt="$filt | .linux.resources.hugepageLimits = [ { pageSize: \"$hp\", limit: 4194304 } ]"
	[ -n "$dev" ] && filt="$filt | .linux.resources.blockIO = { throttleReadBpsDevice: [ { major: ${dev%:*}, minor: ${dev#*:}, rate: 1048576 } ] }"
	[ "$LAYOUT" = v1 ] || [ "$LAYOUT" = hybrid ] && filt="$filt | .linux.resources.memory.swappiness = 30"
	bundle "$B" "$filt" sleep 300
	start $id "$B"
	check "create+start with linux.resources" [ "$(H state $id | jq -r .status)" = running ]
	pid=$(init_pid $id)
	expect "memory limit" "$(cgval memory memory.limit_in_bytes memory.max $id)" 67108864
	expect "memory reservation" "$(cgval memory memory.soft_limit_in_bytes memory.low $id)" 33554432
	if [ "$LAYOUT" = v2 ]; then
		if [ -e "$(cgdir memory $id)/memory.swap.max" ]; then
			expect "swap: memory+swap 64M over 64M -> memory.swap.max 0" "$(cgval memory x memory.swap.max $id)" 0
		else
			skip "memory.swap.max (no swap accounting)"
		fi
		expect "cpu shares 512 -> cpu.weight 20" "$(cgval cpu x cpu.weight $id)" 20
		expect "cpu quota/period -> cpu.max" "$(cgval cpu x cpu.max $id)" "20000 100000"
	else
		expect "memory+swap limit" "$(cgval memory memory.memsw.limit_in_bytes x $id)" 67108864
		expect "swappiness" "$(cgval memory memory.swappiness x $id)" 30
		expect "cpu.shares" "$(cgval cpu cpu.shares x $id)" 512
		expect "cpu.cfs_quota_us" "$(cgval cpu cpu.cfs_quota_us x $id)" 20000
		expect "cpu.cfs_period_us" "$(cgval cpu cpu.cfs_period_us x $id)" 100000
	fi
	expect "cpuset.cpus" "$(cgval cpuset cpuset.cpus cpuset.cpus $id)" 0
	expect "pids.max" "$(cgval pids pids.max pids.max $id)" 50
	if [ -n "$have_hp" ]; then
		expect "hugetlb $hp limit (on the unified tree when hybrid)" \
			"$(cgval hugetlb hugetlb.$hp.limit_in_bytes hugetlb.$hp.max $id)" 4194304
	else
		skip "hugetlb (no 2MB huge pages)"
	fi
	if [ -n "$dev" ]; then
		if [ "$LAYOUT" = v2 ]; then
			check "io.max read throttle for $dev" grep -q "^$dev rbps=1048576 " "$(cgdir io $id)/io.max"
		else
			check "blkio read throttle for $dev" grep -qx "$dev 1048576" "$(cgdir blkio $id)/blkio.throttle.read_bps_device"
		fi
	else
		skip "block I/O throttle (no disk)"
	fi
	if [ "$LAYOUT" != v2 ]; then
		out=$(cat "$(cgdir devices $id)/devices.list" 2>/dev/null)
		check "devices.list: deny-all then /dev/null rw and the defaults" \
			eval '[[ $out == *"c 1:3 rw"* && $out == *"c 136:* rwm"* && $out != *"a *:* rwm"* ]]'
	fi
	check "init is in the container's cgroup in every hierarchy" \
		eval '! grep -v ":/hull/$id\$" /proc/$pid/cgroup | grep -q .'

	# ---- 2. ps / events --stats ------------------------------------------------
	out=$(H ps --format json $id)
	check "ps --format json lists the init pid" eval 'jq -e "index($pid) != null" <<<"$out" >/dev/null'
	out=$(H ps $id)
	# the PID column is wherever ps(1) put it (procps -ef: 2nd, busybox: 1st)
	col=$(head -1 <<<"$out" | awk '{ for (i = 1; i <= NF; i++) if ($i == "PID") print i }')
	check "ps table: ps(1) header and the init's line" \
		eval '[ -n "$col" ] && awk -v c="$col" -v p=$pid "\$c == p" <<<"$out" | grep -q sleep'
	out=$(H events --stats $id)
	check "events --stats: one stats record for the container" \
		eval '[ "$(jq -r ".type + \" \" + .id" <<<"$out")" = "stats $id" ] && [ $(wc -l <<<"$out") = 1 ]'
	check "events --stats: memory limit, pids and cpu usage" \
		eval 'jq -e ".data.memory.usage.limit == 67108864 and .data.pids.current >= 1 and .data.pids.limit == 50
			and .data.cpu.usage.total > 0 and (.data.memory.raw | length) > 0" <<<"$out" >/dev/null'

	# ---- 3. update ---------------------------------------------------------------
	if [ "$LAYOUT" != v2 ]; then
		H update --memory 256m $id 2>"$WORK/err"; RC=$?
		check "v1: raising memory above memory+swap alone is refused, naming swap" \
			eval '[ $RC = 1 ] && grep -q "memory+swap" "$WORK/err"'
	fi
	H update --memory 128m --memory-swap 128m --pids-limit 60 --cpu-quota 30000 $id
	expect "update --memory 128m" "$(cgval memory memory.limit_in_bytes memory.max $id)" 134217728
	expect "update --pids-limit" "$(cgval pids pids.max pids.max $id)" 60
	if [ "$LAYOUT" = v2 ]; then
		expect "update --cpu-quota keeps the period" "$(cgval cpu x cpu.max $id)" "30000 100000"
	else
		expect "update --cpu-quota" "$(cgval cpu cpu.cfs_quota_us x $id)" 30000
	fi
	echo '{"memory":{"limit":100663296,"swap":100663296},"cpu":{"shares":1024}}' >"$WORK/res.json"
	H update --resources "$WORK/res.json" $id
	expect "update --resources FILE: memory" "$(cgval memory memory.limit_in_bytes memory.max $id)" 100663296
	if [ "$LAYOUT" = v2 ]; then
		expect "update --resources: shares 1024 -> weight 39" "$(cgval cpu x cpu.weight $id)" 39
	else
		expect "update --resources: cpu.shares" "$(cgval cpu cpu.shares x $id)" 1024
	fi
	echo '{"pids":{"limit":70}}' | H update -r - $id
	expect "update -r - (stdin)" "$(cgval pids pids.max pids.max $id)" 70
	# runc records updated limits in its state: hull in the saved config.json
	expect "update is recorded in the container's state (memory, pids, cpu quota)" \
		"$(jq -c '.linux.resources | [.memory.limit, .pids.limit, .cpu.quota]' "$STATE/$id/config.json" 2>&1)" "[100663296,70,30000]"
	echo '{"memory":{"limit":4096,"checkBeforeUpdate":true}}' | H update -r - $id 2>"$WORK/err"; RC=$?
	check "checkBeforeUpdate refuses a limit below usage" \
		eval '[ $RC != 0 ] && grep -q "below the current usage" "$WORK/err"'
	expect "... and the limit is unchanged" "$(cgval memory memory.limit_in_bytes memory.max $id)" 100663296
	echo '{"memory":{"limit":"lots"}}' | H update -r - $id 2>"$WORK/err"; RC=$?
	check "update with a bad value: one error naming the field" \
		eval '[ $RC = 1 ] && grep -q "\.memory\.limit" "$WORK/err" && [ $(wc -l <"$WORK/err") = 1 ]'
	echo '{"unified":{"../../memory.max":"1"}}' | H update -r - $id 2>"$WORK/err"; RC=$?
	check "unified key with a path is refused" eval '[ $RC = 1 ] && grep -q "must be a file name" "$WORK/err"'
	if [ "$LAYOUT" = v2 ]; then
		echo '{"unified":{"memory.high":"90000000"}}' | H update -r - $id
		expect "unified memory.high" "$(cgval memory x memory.high $id)" 89997312
	else
		echo '{"unified":{"memory.high":"90000000"}}' | H update -r - $id 2>"$WORK/err"; RC=$?
		check "unified key for a v1 controller is refused" eval '[ $RC = 1 ] && grep -q "unified" "$WORK/err"'
	fi

	# ---- 4. devices are enforced --------------------------------------------------
	# mknod is allowed for any device (a default rule), opening is not: a node
	# for /dev/kmsg made inside the container must stay unusable.
	local did=dev$$
	bundle "$WORK/bd" '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
		| .process.capabilities.permitted += ["CAP_MKNOD"]' \
		sh -c 'echo x > /dev/null && echo null-ok; head -c 1 /dev/zero >/dev/null && echo zero-ok;
			mknod /tmp/kmsg c 1 11 && echo mknod-ok; head -c 1 /tmp/kmsg >/dev/null || echo open-denied'
	out=$(cd "$WORK/bd" && H run --bundle "$WORK/bd" $did 2>&1)
	CG_IDS+=("$did")
	check "allowed devices open (/dev/null, /dev/zero)" eval '[[ $out == *null-ok* && $out == *zero-ok* ]]'
	check "mknod of a device is allowed (default rule)" eval '[[ $out == *mknod-ok* ]]'
	check "a device outside the rules cannot be opened" eval '[[ $out == *open-denied* && $out == *"not permitted"* ]]'
	H delete --force $did 2>/dev/null

	# ---- 5. pause / resume ----------------------------------------------------------
	# progress = the size of a file the container appends to in a busy loop
	id=frz$$
	bundle "$B" '.' sh -c 'i=0; while :; do i=$((i + 1)); echo $i >> /tmp/count; done'
	start $id "$B"
	wait_for 5 test -s "$B/rootfs/tmp/count"
	H pause $id
	expect "pause: status paused" "$(H state $id | jq -r .status)" paused
	local c1 c2 c3
	c1=$(stat -c %s "$B/rootfs/tmp/count"); sleep 0.5; c2=$(stat -c %s "$B/rootfs/tmp/count")
	check "a frozen container makes no progress ($c1 -> $c2 bytes)" [ "${c1:-0}" -gt 0 ] && [ "$c1" = "$c2" ]
	H pause $id 2>/dev/null
	check "pause of a paused container fails" [ $? = 1 ]
	H resume $id
	expect "resume: status running" "$(H state $id | jq -r .status)" running
	sleep 0.5; c3=$(stat -c %s "$B/rootfs/tmp/count")
	check "it makes progress again ($c2 -> $c3 bytes)" [ "${c3:-0}" -gt "${c2:-0}" ]
	H resume $id 2>/dev/null
	check "resume of a running container fails" [ $? = 1 ]
	H pause $id
	H delete --force $id
	check "delete --force of a paused container removes its cgroups" [ -z "$(leftovers /hull/$id)" ]
	# SIGKILL must stop a paused container: a task frozen by the v1 freezer
	# does not die until thawed (containerd and podman expect it to stop)
	local how
	for how in init all; do
		id=frz$how$$
		start $id "$B"
		H pause $id
		if [ $how = all ]; then H kill --all $id KILL; else H kill $id KILL; fi
		check "kill KILL ($how) of a paused container: it stops" \
			wait_for 5 eval "[ \"\$(H state $id | jq -r .status)\" = stopped ]"
		H delete --force $id
	done

	# ---- 6. a fork bomb stops at pids.max ------------------------------------------
	# The bomb runs in a subshell, which gives up at its first failed fork; the
	# outer shell then execs (no fork needed) so the sleepers stay counted.
	id=pid$$
	bundle "$B" '.linux.resources.pids = { limit: 20 }' \
		sh -c '(i=0; while [ $i -lt 200 ]; do sleep 300 & i=$((i + 1)); done) 2>/dev/null; echo spawned; exec sleep 300'
	start $id "$B"
	wait_for 10 grep -q spawned "$WORK/$id.out"
	out=$(cgval pids pids.current pids.current $id)
	check "fork bomb: stopped at pids.max 20 (pids.current $out)" eval '[ "${out:-0}" -ge 18 ] && [ "$out" -le 20 ]'
	out=$(cgval pids pids.events pids.events $id)
	check "pids.events counts refused forks ($out)" eval '[ "$(awk "/^max/ {print \$2}" <<<"$out")" -gt 0 ]'
	out=$(H ps --format json $id)
	check "ps sees the bomb's processes" eval 'jq -e "length >= 17" <<<"$out" >/dev/null'
	H delete --force $id
	check "delete --force: every process gone, cgroup removed" [ -z "$(leftovers /hull/$id)" ]

	# ---- 7. a memory hog is OOM-killed at the limit and `events` says so ------------
	id=oom$$
	bundle "$B" '.linux.resources.memory = { limit: 33554432, swap: 33554432 }' \
		sh -c 'sleep 2; tail /dev/zero; echo "hog-exit=$?"; sleep 300'
	start $id "$B"
	H events --interval 1s $id >"$WORK/events.log" 2>&1 &
	EVENTS_PID=$!
	wait_for 30 grep -q hog-exit "$WORK/$id.out"
	expect "the hog is killed by SIGKILL" "$(grep -o 'hog-exit=[0-9]*' "$WORK/$id.out")" hog-exit=137
	wait_for 5 grep -q '"type":"oom"' "$WORK/events.log"
	check "events streams an oom record" grep -q "{\"type\":\"oom\",\"id\":\"$id\"}" "$WORK/events.log"
	check "events streams stats records" grep -q "\"type\":\"stats\",\"id\":\"$id\"" "$WORK/events.log"
	out=$(H events --stats $id)
	check "stats count the OOM kill" eval 'jq -e ".data.memory.event_count.oom_kill >= 1" <<<"$out" >/dev/null'
	H delete --force $id
	wait_for 5 eval '! kill -0 $EVENTS_PID 2>/dev/null'
	check "events exits once the container is gone" eval '! kill -0 $EVENTS_PID 2>/dev/null'
	kill $EVENTS_PID 2>/dev/null; wait $EVENTS_PID 2>/dev/null; EVENTS_PID=

	# ---- 8. cgroup namespace: the container's cgroup is its root ---------------------
	id=ns$$
	bundle "$B" '.linux.resources.memory = { limit: 50331648 } | .linux.namespaces += [ { type: "cgroup" } ]' \
		sh -c 'cat /proc/self/cgroup; echo ---; cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null; ls /sys/fs/cgroup'
	out=$(cd "$B" && H run --bundle "$B" $id 2>&1)
	CG_IDS+=("$id")
	check "cgroupns: /proc/self/cgroup shows / in every hierarchy" \
		eval '[ -n "$(sed "/^---/q" <<<"$out" | grep :)" ] && ! sed "/^---/q" <<<"$out" | grep : | grep -qv ":/\$"'
	check "cgroupns: /sys/fs/cgroup shows the container's own limit" grep -qx 50331648 <<<"$out"
	H delete --force $id 2>/dev/null
	id=nons$$
	bundle "$B" '.linux.resources.memory = { limit: 50331648 }' \
		sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null'
	out=$(cd "$B" && H run --bundle "$B" $id 2>&1)
	CG_IDS+=("$id")
	check "no cgroupns: the mounted /sys/fs/cgroup is still the container's cgroup" grep -qx 50331648 <<<"$out"
	H delete --force $id 2>/dev/null

	# ---- 9. cgroupsPath forms --------------------------------------------------------
	id=abs$$
	bundle "$B" ".linux.cgroupsPath = \"/hulltest$$/abs/$id\" | .linux.resources.pids = { limit: 33 }" sleep 300
	CG_EXTRA_DIRS+=("$(cgdir pids x /hulltest$$/abs)" "$(cgdir pids x /hulltest$$)")
	start $id "$B"
	expect "absolute cgroupsPath" "$(cat "$(cgdir pids x /hulltest$$/abs/$id)/pids.max" 2>/dev/null)" 33
	H delete --force $id
	check "delete removes the custom-path cgroup" [ -z "$(leftovers /hulltest$$/abs/$id)" ]
	for d in /sys/fs/cgroup/*/hulltest$$/abs /sys/fs/cgroup/*/hulltest$$ /sys/fs/cgroup/hulltest$$/abs /sys/fs/cgroup/hulltest$$; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	id=rel$$
	bundle "$B" ".linux.cgroupsPath = \"hulltest$$/$id\" | .linux.resources.pids = { limit: 34 }" sleep 300
	start $id "$B"
	expect "relative cgroupsPath (root-relative)" "$(cat "$(cgdir pids x /hulltest$$/$id)/pids.max" 2>/dev/null)" 34
	H delete --force $id
	for d in /sys/fs/cgroup/*/hulltest$$ /sys/fs/cgroup/hulltest$$; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
	id=sd$$
	bundle "$B" '.linux.cgroupsPath = "system.slice:hull:x"' sleep 300
	(cd "$B" && H create --bundle "$B" $id >/dev/null 2>"$WORK/err"); RC=$?
	check "systemd-form cgroupsPath: a clear error" eval '[ $RC = 1 ] && grep -q "systemd" "$WORK/err" && [ $(wc -l <"$WORK/err") = 1 ]'
	check "... and nothing left behind" eval '[ ! -e "$STATE/$id" ] && [ -z "$(leftovers /system.slice:hull:x)" ]'
	id=bad$$
	bundle "$B" '.linux.resources.pids = { limit: 40 } | .linux.resources.hugepageLimits = [ { pageSize: "3MB", limit: 4194304 } ]' sleep 300
	(cd "$B" && H create --bundle "$B" $id >/dev/null 2>"$WORK/err"); RC=$?
	check "a limit the host cannot take fails create with one line naming the field" \
		eval '[ $RC = 1 ] && grep -q "hugepageLimits" "$WORK/err" && [ $(wc -l <"$WORK/err") = 1 ]'
	check "... and leaves no cgroup and no state behind" eval '[ -z "$(leftovers /hull/$id)" ] && [ ! -e "$STATE/$id" ]'
	id=esc$$
	bundle "$B" '.linux.cgroupsPath = "/../../etc"' sleep 300
	(cd "$B" && H create --bundle "$B" $id >/dev/null 2>"$WORK/err"); RC=$?
	check "cgroupsPath with .. is refused" eval '[ $RC = 1 ] && grep -q "cgroupsPath" "$WORK/err"'

	# ---- 10. delete waits for leftovers and kills them ------------------------------
	id=left$$
	bundle "$B" '.linux.namespaces |= map(select(.type != "pid"))' sh -c 'sleep 300 & echo started'
	start $id "$B"
	wait_for 5 grep -q started "$WORK/$id.out"
	sleep 0.3
	out=$(H ps --format json $id)
	check "without a pid namespace a child outlives the init" eval 'jq -e "length >= 1" <<<"$out" >/dev/null'
	H delete --force $id
	check "delete --force kills it and removes the cgroup" [ -z "$(leftovers /hull/$id)" ]
}
