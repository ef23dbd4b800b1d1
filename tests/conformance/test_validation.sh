#!/bin/bash
# test_validation.sh — the REQUIRED fields and config-author MUSTs of
# config.md / config-linux.md, seen from the runtime: a config.json that
# breaks one of them is invalid, and "Runtimes MUST generate an error when
# invalid or unsupported values are encountered" (config.md#L759); the
# create must fail and leave nothing behind (runtime.md#L84).
# One row per rule: id, description, jq filter applied to `hull spec`.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init validation "$0" "$@"

B=$WORK/b
while IFS='|' read -r sid desc filter; do
	[ -z "$sid" ] && continue
	case $sid in \#*) continue ;; esac
	cf_bundle "$B" "$filter"
	check_create_fails "$sid" "$desc" "$B"
done <<'EOF'
config.md#L17|ociVersion missing (REQUIRED)|del(.ociVersion)
config.md#L35|root.path missing (REQUIRED)|del(.root.path)
config.md#L264|rlimit without type (REQUIRED)|.process.rlimits = [{soft: 1, hard: 1}]
config.md#L274|rlimit without hard (REQUIRED)|.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1}]
config.md#L310|scheduler without policy (REQUIRED)|.process.scheduler = {nice: 1}
config.md#L341|ioPriority without class (REQUIRED)|.process.ioPriority = {priority: 1}
config.md#L342|ioPriority without priority (REQUIRED)|.process.ioPriority = {class: "IOPRIO_CLASS_BE"}
config.md#L371|user without gid (REQUIRED)|del(.process.user.gid)
config.md#L555|prestart hook without path (REQUIRED)|.hooks = {prestart: [{args: ["x"]}]}
config.md#L565|createRuntime hook without path (REQUIRED)|.hooks = {createRuntime: [{args: ["x"]}]}
config.md#L566|createRuntime hook with a relative path|.hooks = {createRuntime: [{path: "bin/true"}]}
config.md#L566|poststop hook with a relative path|.hooks = {poststop: [{path: "bin/true"}]}
config.md#L560|prestart hook with timeout 0|.hooks = {prestart: [{path: "/bin/true", timeout: 0}]}
config.md#L723|annotations with a non-string value in a nested map|.annotations = {"a": {"b": "c"}}
config.md#L246|consoleSize without height with terminal=true (REQUIRED)|.process.terminal = true | .process.consoleSize = {width: 80}
config-linux.md#L29|namespace without type (REQUIRED)|.linux.namespaces += [{path: "/proc/1/ns/net"}]
config-linux.md#L88|uidMapping without containerID (REQUIRED)|.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{hostID: 100000, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1}]
config-linux.md#L89|uidMapping without hostID (REQUIRED)|.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1}]
config-linux.md#L90|gidMapping without size (REQUIRED)|.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 100000}]
config-linux.md#L132|device without type (REQUIRED)|.linux.devices = [{path: "/dev/cf", major: 1, minor: 3}]
config-linux.md#L134|device without path (REQUIRED)|.linux.devices = [{type: "c", major: 1, minor: 3}]
config-linux.md#L409|device cgroup rule without allow (REQUIRED)|.linux.resources.devices = [{access: "rwm"}]
config-linux.md#L533|blockIO.weightDevice without major (REQUIRED)|.linux.resources.blockIO = {weightDevice: [{minor: 0, weight: 10}]}
config-linux.md#L538|blockIO.weightDevice with neither weight nor leafWeight|.linux.resources.blockIO = {weightDevice: [{major: 8, minor: 0}]}
config-linux.md#L542|blockIO.throttleReadBpsDevice without minor (REQUIRED)|.linux.resources.blockIO = {throttleReadBpsDevice: [{major: 8, rate: 1}]}
config-linux.md#L544|blockIO.throttleReadBpsDevice without rate (REQUIRED)|.linux.resources.blockIO = {throttleReadBpsDevice: [{major: 8, minor: 0}]}
config-linux.md#L548|blockIO.throttleReadIOPSDevice without major (REQUIRED)|.linux.resources.blockIO = {throttleReadIOPSDevice: [{minor: 0, rate: 1}]}
config-linux.md#L550|blockIO.throttleWriteIOPSDevice without rate (REQUIRED)|.linux.resources.blockIO = {throttleWriteIOPSDevice: [{major: 8, minor: 0}]}
config-linux.md#L608|hugepageLimits entry without pageSize (REQUIRED)|.linux.resources.hugepageLimits = [{limit: 2097152}]
config-linux.md#L614|hugepageLimits entry without limit (REQUIRED)|.linux.resources.hugepageLimits = [{pageSize: "2MB"}]
config-linux.md#L641|network.priorities entry without name (REQUIRED)|.linux.resources.network = {priorities: [{priority: 1}]}
config-linux.md#L642|network.priorities entry without priority (REQUIRED)|.linux.resources.network = {priorities: [{name: "eth0"}]}
config-linux.md#L692|rdma entry with neither hcaHandles nor hcaObjects|.linux.resources.rdma = {"mlx5_1": {}}
config-linux.md#L885|seccomp without defaultAction (REQUIRED)|.linux.seccomp = {syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO"}]}
config-linux.md#L946|seccomp rule without names (REQUIRED)|.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{action: "SCMP_ACT_ERRNO"}]}
config-linux.md#L948|seccomp rule without action (REQUIRED)|.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"]}]}
config-linux.md#L969|seccomp arg without index (REQUIRED)|.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO", args: [{value: 1, op: "SCMP_CMP_EQ"}]}]}
config-linux.md#L970|seccomp arg without value (REQUIRED)|.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO", args: [{index: 0, op: "SCMP_CMP_EQ"}]}]}
config-linux.md#L972|seccomp arg without op (REQUIRED)|.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO", args: [{index: 0, value: 1}]}]}
config-linux.md#L826|memoryPolicy with an unknown mode|.linux.memoryPolicy = {mode: "MPOL_CF", nodes: "0"}
config-linux.md#L753|intelRdt.memBwSchema not starting with MB:|.linux.intelRdt = {memBwSchema: "L3:0=ff"}
config-linux.md#L754|intelRdt.schemata entry with a newline|.linux.intelRdt = {schemata: ["L3:0=ff\nMB:0=10"]}
config.md#L78|mount destination that is not absolute and not relative-compatible (empty)|.mounts += [{destination: "", type: "tmpfs", source: "tmpfs"}]
config.md#L759|process.args not an array|.process.args = "/bin/true"
config.md#L759|linux.namespaces not an array|.linux.namespaces = {type: "pid"}
config.md#L759|uidMappings without a user namespace|.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 1}]
config.md#L759|negative rlimit|.process.rlimits = [{type: "RLIMIT_NOFILE", soft: -1, hard: 10}]
EOF

cf_done
