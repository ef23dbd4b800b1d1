#!/bin/bash
# test_cgroups.sh — config-linux.md control groups: cgroupsPath (absolute,
# relative, consistent), resources visible in the container's cgroup files
# (memory, cpu, cpuset, pids, blkio, hugetlb), device rules applied in order,
# unified (cgroup v2) keys and their errors, checkBeforeUpdate.
# Works on v1, v2 and hybrid hosts: every file is looked up in whatever
# hierarchy holds the controller for the container's process.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init cgroups "$0" "$@"

B=$WORK/b
SH=/bin/sh
TAG=hull-conf-cg-$$
# hull removes each container's own cgroup; the parents named in cgroupsPath
# (/$TAG) were created for these tests and are removed here
cg_cleanup() {
	local d i left
	# a cgroup whose last task has just exited can be busy for a moment: retry
	for i in $(seq 20); do
		left=0
		for d in /sys/fs/cgroup/*/"$TAG" /sys/fs/cgroup/"$TAG" /sys/fs/cgroup/*/"$TAG"-rel /sys/fs/cgroup/*/*/"$TAG"-rel; do
			[ -d "$d" ] || continue
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] && left=1
		done
		[ $left = 0 ] && break
		sleep 0.1
	done
	return 0
}
trap 'cf_cleanup; cg_cleanup' EXIT

# cg_file PID CONTROLLER FILE: path of FILE in PID's cgroup for CONTROLLER
# (v1 hierarchy of that controller, else the unified hierarchy)
cg_file() {
	local pid=$1 ctrl=$2 file=$3 line path mnt
	line=$(awk -F: -v c="$ctrl" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) {print $2 ":" $3; exit}}' "/proc/$pid/cgroup")
	if [ -n "$line" ]; then
		path=${line#*:}
		mnt=$(awk -v c="$ctrl" '$3 == "cgroup" {n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) {print $2; exit}}' /proc/self/mounts)
	else
		path=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
		mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
	fi
	[ -n "$mnt" ] && echo "$mnt$path/$file"
}
cg_read() { local f; f=$(cg_file "$@") && [ -r "$f" ] && cat "$f"; }
cg_path() { awk -F: -v c="$2" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) {print $3; exit}}' "/proc/$1/cgroup"; }

# ---- cgroupsPath ------------------------------------------------------------------
cf_bundle "$B" ".linux.cgroupsPath = \"/$TAG/abs\"" $SH -c 'sleep 30'
ID=cg$$
cf_create "$B" "$ID"
PID=$(cf_field "$ID" .pid)
for c in memory pids cpu devices; do
	check config-linux.md#L317 "absolute cgroupsPath: the $c cgroup is /$TAG/abs below the mount point ($(cg_path "$PID" $c))" [ "$(cg_path "$PID" $c)" = "/$TAG/abs" ]
done
cf_rm "$ID"
cf_create "$B" "$ID"
PID=$(cf_field "$ID" .pid)
check config-linux.md#L320 "the same cgroupsPath attaches to the same place again" [ "$(cg_path "$PID" memory)" = "/$TAG/abs" ]
cf_rm "$ID"
cf_bundle "$B" ".linux.cgroupsPath = \"$TAG-rel\"" $SH -c 'sleep 30'
cf_create "$B" "$ID"
PID=$(cf_field "$ID" .pid)
p=$(cg_path "$PID" memory)
check config-linux.md#L315 "relative cgroupsPath: the container's cgroup ends with it ($p)" eval '[ "$RC" = 0 ] && [ "${p%/$TAG-rel}" != "$p" ]'
cf_rm "$ID"
cf_bundle "$B" 'del(.linux.cgroupsPath)' $SH -c 'sleep 30'
cf_create "$B" "$ID"
PID=$(cf_field "$ID" .pid)
check config-linux.md#L320 "without cgroupsPath the container still gets its own cgroup ($(cg_path "$PID" memory))" \
	eval '[ "$RC" = 0 ] && [ "$(cg_path "$PID" memory)" != "$(cg_path $$ memory)" ]'
cf_rm "$ID"

# ---- resources in the cgroup files ------------------------------------------------------
BLKDEV=$(for d in /sys/block/*; do case ${d##*/} in loop*|ram*|zram*) continue ;; esac; cat "$d/dev"; break; done 2>/dev/null)
cf_bundle "$B" ".linux.cgroupsPath = \"/$TAG/res\" | .linux.resources += {
	memory: {limit: 67108864, reservation: 33554432},
	cpu: {shares: 512, quota: 50000, period: 100000, cpus: \"0\", mems: \"0\"},
	pids: {limit: 42}}" $SH -c 'sleep 30'
if [ -n "$BLKDEV" ]; then
	cf_jq "$B" '.linux.resources.blockIO = {throttleReadBpsDevice: [{major: $ma, minor: $mi, rate: 1048576}]}' \
		--argjson ma "${BLKDEV%:*}" --argjson mi "${BLKDEV#*:}"
fi
cf_create "$B" "$ID"
check runtime.md#L113 "create with memory, cpu, cpuset, pids and blkio resources succeeds" [ "$RC" = 0 ]
PID=$(cf_field "$ID" .pid)
v1_or_v2() {  # CONTROLLER V1FILE V1WANT V2FILE V2WANT
	local got
	got=$(cg_read "$PID" "$1" "$2" 2>/dev/null) && [ "$got" = "$3" ] && return 0
	got=$(cg_read "$PID" "$1" "$4" 2>/dev/null) && [ "$got" = "$5" ] && return 0
	return 1
}
check runtime.md#L113 "memory.limit is in the cgroup (64 MiB)" v1_or_v2 memory memory.limit_in_bytes 67108864 memory.max 67108864
check runtime.md#L113 "memory.reservation is in the cgroup (32 MiB)" v1_or_v2 memory memory.soft_limit_in_bytes 33554432 memory.low 33554432
check runtime.md#L113 "cpu.shares is in the cgroup (512)" v1_or_v2 cpu cpu.shares 512 cpu.weight 20
check runtime.md#L113 "cpu.quota/period are in the cgroup (50000/100000)" \
	eval 'v1_or_v2 cpu cpu.cfs_quota_us 50000 cpu.max "50000 100000" && { [ "$(cg_read "$PID" cpu cpu.cfs_period_us 2>/dev/null)" = 100000 ] || [ "$(cg_read "$PID" cpu cpu.max 2>/dev/null)" = "50000 100000" ]; }'
check runtime.md#L113 "cpu.cpus / mems are in the cpuset cgroup (0 / 0)" \
	eval 'v1_or_v2 cpuset cpuset.cpus 0 cpuset.cpus 0 && v1_or_v2 cpuset cpuset.mems 0 cpuset.mems 0'
check runtime.md#L113 "pids.limit is in the cgroup (42)" v1_or_v2 pids pids.max 42 pids.max 42
if [ -n "$BLKDEV" ]; then
	check runtime.md#L113 "blockIO.throttleReadBpsDevice is in the cgroup ($BLKDEV 1048576)" \
		eval 'cg_read "$PID" blkio blkio.throttle.read_bps_device 2>/dev/null | grep -qx "$BLKDEV 1048576" || cg_read "$PID" io io.max 2>/dev/null | grep -q "^$BLKDEV rbps=1048576"'
else
	skip runtime.md#L113 "blockIO.throttleReadBpsDevice is in the cgroup" "no block device on this host"
fi
check runtime.md#L113 "the container process is in the cgroup (cgroup.procs)" eval 'grep -qx "$PID" "$(cg_file "$PID" memory cgroup.procs)"'
cf_rm "$ID"

# hugetlb: in a v1 hierarchy, or only in cgroup v2 (hybrid hosts): set, converted, or an error
HP=$(ls /sys/kernel/mm/hugepages 2>/dev/null | sed -n 's/^hugepages-\([0-9]*\)kB$/\1/p' | sort -n | head -1)
if [ -n "$HP" ]; then
	if [ "$HP" -ge 1048576 ]; then PS="$((HP / 1048576))GB"; elif [ "$HP" -ge 1024 ]; then PS="$((HP / 1024))MB"; else PS="${HP}KB"; fi
	cf_bundle "$B" ".linux.cgroupsPath = \"/$TAG/huge\" | .linux.resources.hugepageLimits = [{pageSize: \"$PS\", limit: $((HP * 1024 * 4))}]" $SH -c 'sleep 30'
	cf_create "$B" "$ID"
	crc=$RC
	PID=$(cf_field "$ID" .pid)
	if [ "$crc" = 0 ]; then
		check config-linux.md#L734 "hugepageLimits $PS are in the cgroup (v1 file, or converted to the v2 one)" \
			v1_or_v2 hugetlb "hugetlb.$PS.limit_in_bytes" $((HP * 1024 * 4)) "hugetlb.$PS.max" $((HP * 1024 * 4))
	else
		pass config-linux.md#L734 "hugepageLimits $PS: create failed with an error (conversion not possible)"
	fi
	cf_rm "$ID"
else
	skip config-linux.md#L734 "hugepageLimits" "no huge page sizes on this host"
fi

# ---- unified ----------------------------------------------------------------------------------
cf_bundle "$B" ".linux.cgroupsPath = \"/$TAG/uni\" | .linux.resources.unified = {\"cfbogus.max\": \"1\"}"
check_create_fails config-linux.md#L721 "a unified key for a controller that is not present is an error" "$B"
U=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/self/mounts)
if [ -n "$U" ] && grep -qw hugetlb "$U/cgroup.controllers" && [ -n "$HP" ]; then
	cf_bundle "$B" ".linux.cgroupsPath = \"/$TAG/uni\" | .linux.resources.unified = {\"hugetlb.$PS.max\": \"$((HP * 1024 * 2))\", \"hugetlb.$PS.rsvd.max\": \"$((HP * 1024 * 3))\"}" $SH -c 'sleep 30'
	cf_create "$B" "$ID"
	PID=$(cf_field "$ID" .pid)
	check config-linux.md#L717 "unified hugetlb.$PS.max is written (the controller is enabled for the cgroup)" \
		eval '[ "$RC" = 0 ] && [ "$(cg_read "$PID" hugetlb "hugetlb.$PS.max" 2>/dev/null)" = $((HP * 1024 * 2)) ]'
	check config-linux.md#L719 "unified hugetlb.$PS.rsvd.max is written as given" \
		eval '[ "$(cg_read "$PID" hugetlb "hugetlb.$PS.rsvd.max" 2>/dev/null)" = $((HP * 1024 * 3)) ]'
	cf_rm "$ID"
else
	skip config-linux.md#L717 "unified keys are written" "no cgroup v2 controller usable for it on this host"
fi

# ---- devices: rules applied in order -----------------------------------------------------------
# c 1:200 has no driver: opening it gives ENXIO when the cgroup allows it and EPERM when it does not
DEVS='.linux.devices = [{path: "/dev/cf-nodrv", type: "c", major: 1, minor: 200, fileMode: 438}]'
cf_bundle "$B" "$DEVS | .linux.resources.devices = [{allow: false, access: \"rwm\"}, {allow: true, type: \"c\", major: 1, minor: 200, access: \"rwm\"}]" \
	$SH -c 'cat /dev/cf-nodrv 2>&1; true'
cf_run "$B"
check config-linux.md#L405 "devices [deny all, allow c 1:200]: open is allowed (ENXIO from the missing driver)" eval 'grep -q "No such device or address" <<<"$OUT"'
cf_bundle "$B" "$DEVS | .linux.resources.devices = [{allow: true, access: \"rwm\"}, {allow: false, type: \"c\", major: 1, minor: 200, access: \"rw\"}]" \
	$SH -c 'cat /dev/cf-nodrv 2>&1; true'
cf_run "$B"
check config-linux.md#L405 "devices [allow all, deny c 1:200 rw]: open is denied (EPERM)" eval 'grep -q "Operation not permitted" <<<"$OUT"'
cf_bundle "$B" "$DEVS | .linux.resources.devices = [{allow: false, access: \"rwm\"}, {allow: true, type: \"c\", major: 1, minor: 200, access: \"rwm\"}, {allow: false, type: \"c\", major: 1, minor: 200, access: \"r\"}]" \
	$SH -c 'cat /dev/cf-nodrv 2>&1; true'
cf_run "$B"
check config-linux.md#L405 "devices [deny all, allow c 1:200 rwm, deny c 1:200 r]: the later deny wins (EPERM)" eval 'grep -q "Operation not permitted" <<<"$OUT"'
cf_bundle "$B" '.linux.resources.devices = [{allow: false, access: "rwm"}]' $SH -c 'head -c 1 /dev/null && head -c 1 /dev/zero | od -An -tx1 && (echo x > /dev/full) 2>&1; echo rc=$?'
cf_run "$B"
check config-linux.md#L180 "default devices stay usable under a deny-all device rule (null, zero, full)" \
	eval 'grep -q " 00" <<<"$OUT" && grep -q "No space left on device" <<<"$OUT"'
cf_bundle "$B" '.linux.resources.devices = [{allow: false, access: "rwx"}]'
check_create_fails config.md#L759 "a device rule with an invalid access string is an error" "$B"

# ---- checkBeforeUpdate ---------------------------------------------------------------------------
cf_bundle "$B" ".linux.cgroupsPath = \"/$TAG/upd\" | .linux.resources.memory = {limit: 134217728, checkBeforeUpdate: true}" \
	$SH -c 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null; echo filled > /dev/shm/done; sleep 30'
cf_jq "$B" '.mounts = [.mounts[] | if .destination == "/dev/shm" then .options = ["nosuid", "noexec", "nodev", "mode=1777", "size=100m"] else . end]'
ID=upd$$
cf_create "$B" "$ID" && cf_start "$ID"
PID=$(cf_field "$ID" .pid)
i=0; while [ $i -lt 100 ] && ! [ -e "/proc/$PID/root/dev/shm/done" ]; do sleep 0.1; i=$((i + 1)); done
H update --memory 16777216 "$ID" >/dev/null 2>&1; urc=$?
lim=$(cg_read "$PID" memory memory.limit_in_bytes 2>/dev/null || cg_read "$PID" memory memory.max 2>/dev/null)
check config-linux.md#L466 "checkBeforeUpdate: a new memory limit below the usage is rejected (limit stays $lim)" \
	eval '[ -e "/proc/$PID/root/dev/shm/done" ] && [ "$urc" != 0 ] && [ "$lim" = 134217728 ]'
check config-linux.md#L466 "... and the container keeps running" eval 'kill -0 "$PID" && [ "$(cf_field "$ID" .status)" = running ]'
cf_rm "$ID"

cf_done
