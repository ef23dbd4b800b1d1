#!/bin/bash
# test_namespaces.sh — each namespace type of the config is really new
# (inode differs from the host's), joining a namespace by path works (a
# netns from `ip netns add`), cgroup ns roots at the container's cgroup, time
# offsets apply, hostname/domainname/sysctl land in the container only.
set -uo pipefail
. "$(dirname "$0")/../lib/rt-helpers.sh"
mh_init test_namespaces "$0" "$@"
B=$WORK/b
ALL='[{type:"pid"},{type:"network"},{type:"ipc"},{type:"uts"},{type:"mount"},{type:"cgroup"},{type:"time"}]'

mh_bundle "$B" ".linux.namespaces = $ALL" /bin/sh -c 'for n in pid net ipc uts mnt cgroup time; do echo "$n $(readlink /proc/self/ns/$n)"; done'
mh_run "$B"
check "run with pid,net,ipc,uts,mount,cgroup,time namespaces" [ "$RC" = 0 ]
for n in pid net ipc uts mnt cgroup time; do
	host=$(readlink /proc/self/ns/$n)
	inner=$(awk -v n=$n '$1 == n {print $2}' <<<"$OUT")
	check "$n namespace differs from the host's ($inner vs $host)" eval '[ -n "$inner" ] && [ "$inner" != "$host" ]'
done

mh_bundle "$B" '.linux.namespaces |= map(select(.type != "network" and .type != "uts")) | del(.hostname)' \
	/bin/sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/uts'
mh_run "$B"
check "without network/uts entries the host's namespaces are kept" \
	[ "$OUT" = "$(readlink /proc/self/ns/net; readlink /proc/self/ns/uts)" ]

mh_bundle "$B" . /bin/sh -c 'echo $$; cat /proc/self/cgroup'
mh_run "$B"
check "pid namespace: the process is pid 1" [ "$(head -1 <<<"$OUT")" = 1 ]

mh_bundle "$B" '.linux.namespaces += [{type: "cgroup"}]' /bin/sh -c 'cat /proc/self/cgroup'
mh_run "$B"
check "cgroup namespace: every hierarchy's root is the container's cgroup" \
	eval '[ "$RC" = 0 ] && [ -z "$(awk -F: "\$3 != \"/\"" <<<"$OUT")" ]'

NS=hulltest$$
if ip netns add $NS 2>/dev/null; then
	mh_bundle "$B" ".linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$NS\" else . end)" \
		/bin/sh -c 'readlink /proc/self/ns/net; echo pid=$$'
	mh_run "$B"
	check "join a network namespace by path" [ "$(head -1 <<<"$OUT")" = "net:[$(stat -L -c %i /var/run/netns/$NS)]" ]
	check "joining by path still gets a new pid namespace" [ "$(sed -n 2p <<<"$OUT")" = pid=1 ]
	ip netns del $NS
else
	skip "ip netns add not available"
fi

mh_bundle "$B" '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {boottime: {secs: 86400}, monotonic: {secs: 7200}}' \
	/bin/cat /proc/uptime
mh_run "$B"
host_up=$(cut -d. -f1 /proc/uptime)
in_up=$(cut -d. -f1 <<<"$OUT")
check "time namespace: boottime offset of one day applied ($in_up vs $host_up)" \
	eval '[ -n "$in_up" ] && [ $((in_up - host_up)) -ge 86000 ] && [ $((in_up - host_up)) -le 86800 ]'

mh_bundle "$B" '.hostname = "inside" | .domainname = "dom.example" | .linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shm_rmid_forced": "1"}' \
	/bin/sh -c 'hostname; cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shm_rmid_forced'
HOST_FWD=$(cat /proc/sys/net/ipv4/ip_forward)
mh_run "$B"
check "hostname, domainname and sysctls inside" [ "$(tr '\n' ' ' <<<"$OUT")" = "inside dom.example 1 1 " ]
check "the host's hostname and sysctl are unchanged" eval '[ "$(hostname)" != inside ] && [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$HOST_FWD" ]'

mh_bundle "$B" '.linux.namespaces |= map(select(.type != "uts")) | .hostname = "x"' /bin/true
mh_run "$B"
check "hostname without a uts namespace is refused" eval '[ "$RC" = 1 ] && grep -q "hostname" <<<"$ERR"'
mh_done
