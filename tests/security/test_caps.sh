#!/bin/bash
# test_caps.sh — the process attributes hull sets last: capabilities (all five
# sets, across the uid switch), user/groups/umask, rlimits, noNewPrivileges,
# oomScoreAdj, personality, scheduler, ioPriority, execCPUAffinity; and the
# errors and warnings for what cannot be granted.
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_caps "$0" "$@"

B=$WORK/b
OUT=
STATUS='grep -E "^(Cap|NoNewPrivs|Uid|Gid|Groups|Cpus_allowed_list)" /proc/self/status'

# ---- capabilities --------------------------------------------------------------
mh_bundle "$B" . /bin/sh -c "$STATUS"
sec_run "$B"
check "runc-spec defaults: bounding/permitted/effective = AUDIT_WRITE,KILL,NET_BIND_SERVICE" \
	[ "$(status_field "$OUT" CapBnd)" = 0000000020000420 -a "$(status_field "$OUT" CapPrm)" = 0000000020000420 \
	  -a "$(status_field "$OUT" CapEff)" = 0000000020000420 ]
check "runc-spec defaults: ambient without inheritable is left out quietly" \
	[ "$(status_field "$OUT" CapAmb)" = 0000000000000000 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 -a -z "$ERR" ]

mh_bundle "$B" '.process.user = {uid: 1000, gid: 1000} | .process.capabilities = {
	bounding: ["CAP_NET_BIND_SERVICE", "CAP_KILL"], permitted: ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
	effective: ["CAP_NET_BIND_SERVICE", "CAP_KILL"], inheritable: ["CAP_NET_BIND_SERVICE"],
	ambient: ["CAP_NET_BIND_SERVICE"] }' /bin/sh -c "$STATUS"
sec_run "$B"
check "uid 1000 with all five sets: the ambient cap survives the uid switch and execve" \
	[ "$RC" = 0 -a "$(status_field "$OUT" Uid)" = 1000 -a "$(status_field "$OUT" CapAmb)" = 0000000000000400 \
	  -a "$(status_field "$OUT" CapEff)" = 0000000000000400 -a "$(status_field "$OUT" CapPrm)" = 0000000000000400 \
	  -a "$(status_field "$OUT" CapInh)" = 0000000000000400 -a "$(status_field "$OUT" CapBnd)" = 0000000000000420 ]

mh_bundle "$B" '.process.capabilities.bounding += ["CAP_BOGUS"]'
sec_run "$B"
check "an unknown capability name is an error naming it" \
	eval '[ "$RC" != 0 ] && grep -q CAP_BOGUS <<<"$ERR"'

# a capability this host does not have in its bounding set (no CAP_SYS_RESOURCE here)
host_bnd=$((16#$(grep CapBnd /proc/self/status | cut -f2)))
if [ $(( (host_bnd >> 24) & 1 )) = 0 ]; then
	mh_bundle "$B" '.process.capabilities.bounding += ["CAP_SYS_RESOURCE"] | .process.capabilities.permitted += ["CAP_SYS_RESOURCE"]
		| .process.capabilities.effective += ["CAP_SYS_RESOURCE"]' /bin/sh -c "$STATUS"
	sec_run "$B"
	check "a capability the host cannot grant: runs, warns naming it, not granted" \
		eval '[ "$RC" = 0 ] && grep -q CAP_SYS_RESOURCE <<<"$ERR" && [ "$(status_field "$OUT" CapEff)" = 0000000020000420 ]'
else
	skip "this host has CAP_SYS_RESOURCE in its bounding set"
fi

# ---- user ----------------------------------------------------------------------
mh_bundle "$B" '.process.user = {uid: 1000, gid: 1001, additionalGids: [5, 6], umask: 23}' \
	/bin/sh -c "$STATUS; umask"
sec_run "$B"
check "uid, gid, additionalGids, umask" \
	eval '[ "$RC" = 0 ] && grep -qE "^Uid:\s+1000\s+1000\s+1000\s+1000" <<<"$OUT" &&
	      grep -qE "^Gid:\s+1001\s+1001" <<<"$OUT" && grep -qE "^Groups:\s+5 6\s*$" <<<"$OUT" &&
	      grep -qx 0027' <<<"$OUT"

# ---- rlimits ---------------------------------------------------------------------
mh_bundle "$B" '.process.rlimits = [ {type: "RLIMIT_NOFILE", soft: 100, hard: 200}, {type: "RLIMIT_CORE", soft: 0, hard: 0} ]' \
	/bin/sh -c 'ulimit -Sn; ulimit -Hn; ulimit -c'
sec_run "$B"
check "rlimits: nofile 100/200, core 0" [ "$RC" = 0 -a "$(echo $OUT)" = "100 200 0" ]
mh_bundle "$B" '.process.user = {uid: 1000, gid: 1000} | .process.rlimits = [ {type: "RLIMIT_NOFILE", soft: 4096, hard: 4096} ]' \
	/bin/sh -c 'ulimit -Hn'
sec_run "$B"
check "rlimits hold for a non-root process user (uid 1000)" \
	[ "$RC" = 0 -a "$OUT" = 4096 ]
if ! grep -q '^CapEff:.*' /proc/self/status || [ $(( ($(printf '%d' 0x$(grep CapEff /proc/self/status | cut -f2)) >> 24) & 1 )) = 0 ]; then
	hard=$(ulimit -Hn)
	mh_bundle "$B" ".process.rlimits = [ {type: \"RLIMIT_NOFILE\", soft: $((hard * 2)), hard: $((hard * 2))} ]"
	sec_run "$B"
	check "an rlimit above what the host allows is an error naming it" \
		eval '[ "$RC" != 0 ] && grep -q RLIMIT_NOFILE <<<"$ERR"'
else
	skip "this host can raise any rlimit (CAP_SYS_RESOURCE)"
fi

# ---- noNewPrivileges, oomScoreAdj, personality, scheduler, ioPriority ------------
mh_bundle "$B" '.process.noNewPrivileges = false | .process.oomScoreAdj = 500
	| .linux.personality = {domain: "LINUX32"}
	| .process.scheduler = {policy: "SCHED_BATCH", nice: 5}
	| .process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 7}' \
	/bin/sh -c "$STATUS; cat /proc/self/oom_score_adj; uname -m; cut -d' ' -f19,41 /proc/self/stat; ionice"
sec_run "$B"
check "noNewPrivileges false: NoNewPrivs 0" [ "$(status_field "$OUT" NoNewPrivs)" = 0 ]
check "oomScoreAdj 500" eval 'grep -qx 500 <<<"$OUT"'
check "personality LINUX32: uname -m is i686" eval 'grep -qx i686 <<<"$OUT"'
check "scheduler SCHED_BATCH (3), nice 5" eval 'grep -qx "5 3" <<<"$OUT"'
check "ioPriority idle" eval 'grep -qi "^idle" <<<"$OUT"'
mh_bundle "$B" . /bin/sh -c "$STATUS"
sec_run "$B"
check "noNewPrivileges true: NoNewPrivs 1" [ "$(status_field "$OUT" NoNewPrivs)" = 1 ]

# ---- LSMs ------------------------------------------------------------------------
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	mh_bundle "$B" '.process.apparmorProfile = "hull-test-profile"'
	sec_run "$B"
	check "apparmorProfile without AppArmor: one clear error, nothing left behind" \
		eval '[ "$RC" != 0 ] && grep -q "AppArmor is not enabled" <<<"$ERR" && [ -z "$(ls -A "$STATE" 2>/dev/null)" ]'
else
	skip "AppArmor is enabled on this host"
fi
if [ ! -e /sys/fs/selinux/enforce ]; then
	mh_bundle "$B" '.process.selinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
		| .linux.mountLabel = "system_u:object_r:container_file_t:s0:c1,c2"' /bin/sh -c 'grep " /dev " /proc/self/mountinfo'
	sec_run "$B"
	check "SELinux labels without SELinux: ignored (no context= mount option)" \
		eval '[ "$RC" = 0 ] && ! grep -q context= <<<"$OUT"'
else
	skip "SELinux is enabled on this host"
fi

# ---- exec ----------------------------------------------------------------------------
mh_bundle "$B" '.process.execCPUAffinity = {final: "0"}' /bin/sleep 60
ID=caps-$$
sec_start "$B" "$ID"
sec_exec "$ID" /bin/sh -c "$STATUS"
check "exec: the container's capabilities, CapInh 0" \
	[ "$RC" = 0 -a "$(status_field "$OUT" CapEff)" = 0000000020000420 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 ]
check "exec: execCPUAffinity.final 0 applies to the exec'd process" [ "$(status_field "$OUT" Cpus_allowed_list)" = 0 ]
sec_exec --user 1000:1000 "$ID" /bin/sh -c "$STATUS"
check "exec --user 1000: no capabilities left after execve" \
	[ "$RC" = 0 -a "$(status_field "$OUT" Uid)" = 1000 -a "$(status_field "$OUT" CapEff)" = 0000000000000000 ]
sec_rm "$ID"

mh_done
