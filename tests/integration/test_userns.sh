#!/bin/bash
# test_userns.sh — user namespaces: uid/gid maps written by the runtime,
# the process is root inside and unprivileged outside, files it creates are
# owned by the mapped host ids, exec joins the same user namespace.
set -uo pipefail
. "$(dirname "$0")/../lib/rt-helpers.sh"
mh_init test_userns "$0" "$@"
B=$WORK/b
MAP='.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}] | .linux.gidMappings = [{containerID: 0, hostID: 300000, size: 65536}]'

READONLY_ROOT=false mh_bundle "$B" "$MAP | .process.capabilities |= map_values(. + [\"CAP_CHOWN\"]) | .mounts += [{destination: \"/data\", type: \"bind\", source: \"$WORK/data\", options: [\"rbind\", \"rw\"]}]" \
	/bin/sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g; touch /data/f; echo > /data/g; chown 5:7 /data/g; readlink /proc/self/ns/user'
mkdir -p "$WORK/data" "$B/rootfs/data"; chown 200000:300000 "$WORK/data"
mh_run "$B"
check "run in a new user namespace" [ "$RC" = 0 ]
check "uid_map 0 200000 65536" eval 'grep -Eq "^ +0 +200000 +65536$" <<<"$OUT"'
check "gid_map 0 300000 65536" eval 'grep -Eq "^ +0 +300000 +65536$" <<<"$OUT"'
check "the process is uid 0 / gid 0 inside" [ "$(sed -n 3,4p <<<"$OUT" | tr '\n' ' ')" = "0 0 " ]
check "a file it creates is owned by host 200000:300000" [ "$(stat -c %u:%g "$WORK/data/f" 2>/dev/null)" = 200000:300000 ]
check "chown 5:7 inside is host 200005:300007" [ "$(stat -c %u:%g "$WORK/data/g" 2>/dev/null)" = 200005:300007 ]
check "the user namespace differs from the host's" [ "$(tail -1 <<<"$OUT")" != "$(readlink /proc/self/ns/user)" ]

mh_bundle "$B" "$MAP" /bin/sleep 100
H run -d -b "$B" --pid-file "$WORK/pid" u$$; RC=$?
PID=$(cat "$WORK/pid" 2>/dev/null)
check "run -d with a user namespace" [ "$RC" = 0 ]
check "the init runs as host uid 200000" [ "$(awk '/^Uid:/ {print $2}' /proc/$PID/status 2>/dev/null)" = 200000 ]
OUT=$(H exec u$$ /bin/sh -c 'readlink /proc/self/ns/user; id -u'); RC=$?
check "exec joins the container's user namespace" \
	eval '[ "$RC" = 0 ] && [ "$(head -1 <<<"$OUT")" = "$(readlink /proc/$PID/ns/user)" ] && [ "$(tail -1 <<<"$OUT")" = 0 ]'
H delete -f u$$

mh_bundle "$B" '.linux.namespaces += [{type: "user"}]' /bin/true
mh_run "$B"
check "a new user namespace without mappings is refused, naming the field" eval '[ "$RC" = 1 ] && grep -q "uidMappings" <<<"$ERR"'
# idmapped binds in a user namespace: the runtime makes the trees on the host
# (the init has no privilege over the source) and hands them to the init.
mkdir -p "$WORK/idsrc"; touch "$WORK/idsrc/file"; chown 0:0 "$WORK/idsrc/file"; chmod 755 "$WORK/idsrc"
IDM=".mounts += [{destination: \"/tmp\", type: \"bind\", source: \"$WORK/idsrc\", options: [\"bind\", \"idmap\"]},
	{destination: \"/run\", type: \"bind\", source: \"$WORK/idsrc\", options: [\"bind\"]}]"
for variant in "" ' | .linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {monotonic: {secs: 1, nanosecs: 0}}'; do
	name=${variant:+" (user ns unshared by the child)"}
	mh_bundle "$B" "$MAP | $IDM$variant" /bin/sh -c 'stat -c %u:%g /tmp/file /run/file; grep " /tmp " /proc/self/mountinfo'
	mh_run "$B"
	check "idmap bind in a user namespace$name: host 0:0 shows as 0:0 (plain bind: 65534)" \
		eval '[ "$RC" = 0 ] && [ "$(head -2 <<<"$OUT" | tr "\n" " ")" = "0:0 65534:65534 " ] && grep -q idmapped <<<"$OUT"'
done

mh_bundle "$B" '.linux.uidMappings = [{containerID: 0, hostID: 1000, size: 1}] | .linux.gidMappings = [{containerID: 0, hostID: 1000, size: 1}]' /bin/true
mh_run "$B"
check "mappings without a user namespace are refused" eval '[ "$RC" = 1 ] && grep -q "uidMappings" <<<"$ERR"'
mh_done
