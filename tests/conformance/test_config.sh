#!/bin/bash
# test_config.sh — config.md (and bundle.md, glossary.md): root, mounts (order,
# relative destinations, every MUST option of the Linux option table, idmap
# errors), process (cwd, env, args, user, rlimits, capabilities,
# noNewPrivileges, oomScoreAdj, scheduler, ioPriority, consoleSize),
# hostname/domainname, annotations, unknown properties, and the errors a
# runtime must give for invalid configurations.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init config "$0" "$@"

B=$WORK/b
SH=/bin/sh

# ---- root -------------------------------------------------------------------
cf_bundle "$B" '.root.readonly = true' $SH -c 'touch /cf-ro 2>&1; echo rc=$?'
cf_run "$B"
check config.md#L43 "root.readonly=true: the root filesystem is read-only" eval '[ "$RC" = 0 ] && grep -q "Read-only file system" <<<"$OUT" && [ ! -e "$B/rootfs/cf-ro" ]'
cf_bundle "$B" '.root.readonly = false' $SH -c 'touch /cf-rw; echo rc=$?'
cf_run "$B"
check config.md#L43 "root.readonly=false: the root filesystem is writable" eval '[ "$RC" = 0 ] && [ -e "$B/rootfs/cf-rw" ]'
cf_bundle "$B" '.root.path = "no-such-rootfs"'
check_create_fails config.md#L41 "root.path that does not exist is an error" "$B"
cf_bundle "$B" 'del(.root)'
check_create_fails config.md#L33 "config without root is an error (REQUIRED on Linux)" "$B"
cf_bundle "$B" '.root.path = "rootfs/etc/hostname"'
check_create_fails config.md#L41 "root.path that is a file, not a directory, is an error" "$B"
cf_bundle "$B" '.' $SH -c 'cat /cf-abs'
jq --arg p "$B/rootfs" '.root.path = $p' "$B/config.json" > "$B/c" && mv "$B/c" "$B/config.json"
echo absolute > "$B/rootfs/cf-abs"
cf_run "$B"
check config.md#L35 "an absolute root.path is used as is" [ "$OUT" = absolute ]

# ---- bundle -------------------------------------------------------------------
cf_bundle "$B" .
mv "$B/config.json" "$B/Config.json"
check_create_fails bundle.md#L14 "a bundle whose config is not named config.json is an error" "$B"

# ---- mounts: order, relative destination ----------------------------------------
cf_bundle "$B" '.mounts += [
	{destination: "/cf/a", type: "tmpfs", source: "tmpfs", options: ["size=1m"]},
	{destination: "/cf/a", type: "tmpfs", source: "tmpfs", options: ["size=2m"]},
	{destination: "/cf/a/b", type: "tmpfs", source: "tmpfs", options: ["size=3m"]},
	{destination: "cf/rel", type: "tmpfs", source: "tmpfs", options: ["size=4m"]}]' \
	$SH -c 'cat /proc/self/mountinfo'
mkdir -p "$B/rootfs/cf/a" "$B/rootfs/cf/rel"
cf_run "$B"
MI=$OUT
order=$(printf '%s\n' "$MI" | awk '$5 ~ "^/cf/" {for (i = 7; i <= NF; i++) if ($i == "-") print $5 ":" $(i+3)}' | sed -E 's/:.*size=([0-9]+)k.*/:\1/' | tr '\n' ' ')
check config.md#L66 "mounts are mounted in the listed order ($order)" [ "$order" = "/cf/a:1024 /cf/a:2048 /cf/a/b:3072 /cf/rel:4096 " ]
check config.md#L72 "a relative destination is interpreted relative to / (cf/rel -> /cf/rel)" [ -n "$(mi_line "$MI" /cf/rel)" ]
cf_bundle "$B" '.mounts += [{destination: "/cf/x", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]' $SH -c 'grep -c " /cf/x " /proc/self/mountinfo'
cf_run "$B"
check config.md#L70 "a mount destination that does not exist in the rootfs is created" [ "$OUT" = 1 ]

# ---- mount options: every MUST option of the Linux table ------------------------
declare -A OPTLINE=([async]=95 [atime]=96 [bind]=97 [defaults]=98 [dev]=99 [diratime]=100 [dirsync]=101
	[exec]=102 [iversion]=103 [lazytime]=104 [loud]=105 [noatime]=107 [nodev]=108 [nodiratime]=109
	[noexec]=110 [noiversion]=111 [nolazytime]=112 [norelatime]=114 [nostrictatime]=115 [nosuid]=116
	[private]=118 [rbind]=120 [relatime]=123 [remount]=124 [ro]=133 [rprivate]=134 [rshared]=138
	[rslave]=139 [runbindable]=143 [rw]=144 [shared]=145 [silent]=146 [slave]=147 [strictatime]=148
	[suid]=149 [sync]=151 [unbindable]=153)
FSOPTS="async atime defaults dev diratime dirsync exec iversion lazytime loud noatime nodev nodiratime noexec
	noiversion nolazytime norelatime nostrictatime nosuid relatime ro rw silent strictatime suid sync"
# host source with a submount, for bind/rbind and the propagation options
SRC=$WORK/bsrc
mkdir -p "$SRC/sub"
mount -t tmpfs -o size=1m cfsub "$SRC/sub"
echo file > "$SRC/f"
mounts='[]'
# an option that restores a default comes after its opposite, so that a
# runtime ignoring it is caught (the opposite would stay in effect)
declare -A OPPOSITE=([dev]=nodev [exec]=noexec [suid]=nosuid [atime]=noatime [diratime]=nodiratime
	[async]=sync [nolazytime]=lazytime [rw]=ro [strictatime]=noatime
	[nostrictatime]=strictatime)
for o in $FSOPTS; do
	opts=$(jq -cn --arg o "$o" --arg n "${OPPOSITE[$o]:-}" 'if $n == "" then [$o] else [$n, $o] end')
	mounts=$(jq -c --arg o "$o" --argjson opts "$opts" '. + [{destination: ("/o/" + $o), type: "tmpfs", source: "tmpfs", options: $opts}]' <<<"$mounts")
done
for o in bind rbind private rprivate shared rshared slave rslave unbindable runbindable; do
	case $o in bind) opts='["bind"]' ;; rbind) opts='["rbind"]' ;; r*) opts="[\"rbind\",\"$o\"]" ;; *) opts="[\"bind\",\"$o\"]" ;; esac
	mounts=$(jq -c --arg o "$o" --arg s "$SRC" --argjson opts "$opts" '. + [{destination: ("/o/" + $o), type: "bind", source: $s, options: $opts}]' <<<"$mounts")
done
# remount: a second entry for the same destination changes the first mount's flags
mounts=$(jq -c '. + [{destination: "/o/remount", type: "tmpfs", source: "tmpfs", options: ["size=1m"]},
	{destination: "/o/remount", type: "tmpfs", source: "tmpfs", options: ["remount", "ro", "size=1m"]}]' <<<"$mounts")
cf_bundle "$B" . $SH -c 'cat /proc/self/mountinfo'
cf_jq "$B" '.mounts += $m' --argjson m "$mounts"
cf_run "$B"
MI=$OUT
check config.md#L91 "a container with one mount per MUST option runs" [ "$RC" = 0 ]
optchk() {  # OPTION: does /o/OPTION show the option's effect?
	local o=$1 po so opt
	po=$(mi_opts "$MI" "/o/$o") so=$(mi_sbopts "$MI" "/o/$o") opt=$(mi_optional "$MI" "/o/$o")
	[ -n "$(mi_line "$MI" "/o/$o")" ] || return 1
	case $o in
	ro) has_opt "$po" ro ;;
	rw|defaults) has_opt "$po" rw && has_opt "$so" rw && ! has_opt "$po" nosuid && ! has_opt "$po" nodev && ! has_opt "$po" noexec ;;
	nosuid|nodev|noexec|noatime|nodiratime|relatime) has_opt "$po" "$o" ;;
	nostrictatime) has_opt "$po" relatime ;;
	suid) ! has_opt "$po" nosuid ;;
	dev) ! has_opt "$po" nodev ;;
	exec) ! has_opt "$po" noexec ;;
	atime) ! has_opt "$po" noatime ;;
	diratime) ! has_opt "$po" nodiratime ;;
	strictatime) ! has_opt "$po" relatime && ! has_opt "$po" noatime ;;
	sync|dirsync|lazytime) has_opt "$so" "$o" ;;
	async) ! has_opt "$so" sync ;;
	nolazytime) ! has_opt "$so" lazytime ;;
	# no visible trace in mountinfo: the mount exists with that option accepted
	iversion|noiversion|silent|loud|norelatime) true ;;
	bind) [ -z "$(mi_line "$MI" /o/bind/sub)" ] && [ "$(mi_fstype "$MI" /o/bind)" != tmpfs ] ;;
	rbind) [ "$(mi_fstype "$MI" /o/rbind/sub)" = tmpfs ] ;;
	shared) [[ "$opt" == *shared:* ]] ;;
	rshared) [[ "$opt" == *shared:* ]] && [[ "$(mi_optional "$MI" /o/rshared/sub)" == *shared:* ]] ;;
	private) [[ "$opt" != *shared:* && "$opt" != *master:* ]] ;;
	rprivate) [[ "$opt" != *shared:* && "$opt" != *master:* ]] && s=$(mi_optional "$MI" /o/rprivate/sub) && [[ "$s" != *shared:* && "$s" != *master:* ]] ;;
	slave) [[ "$opt" != *shared:* ]] ;;
	rslave) [[ "$opt" != *shared:* ]] && [[ "$(mi_optional "$MI" /o/rslave/sub)" != *shared:* ]] ;;
	unbindable) [[ "$opt" == *unbindable* ]] ;;
	runbindable) [[ "$opt" == *unbindable* ]] && [[ "$(mi_optional "$MI" /o/runbindable/sub)" == *unbindable* ]] ;;
	remount) [ "$(printf '%s\n' "$MI" | awk '$5 == "/o/remount"' | wc -l)" = 1 ] && has_opt "$po" ro ;;
	*) return 1 ;;
	esac
}
for o in $FSOPTS bind rbind private rprivate shared rshared slave rslave unbindable runbindable remount; do
	check "config.md#L${OPTLINE[$o]}" "mount option $o is applied ($(mi_opts "$MI" "/o/$o") / $(mi_sbopts "$MI" "/o/$o") /$(mi_optional "$MI" "/o/$o"))" optchk "$o"
done

# idmap: mappings on a mount must come in pairs; idmap without any mapping and
# without a user namespace is an error
cf_bundle "$B" .
cf_jq "$B" '.mounts += [{destination: "/o/idm", type: "bind", source: $s, options: ["bind", "idmap"]}]' --arg s "$SRC"
check_create_fails config.md#L154 "idmap mount without mappings and without a user namespace is an error" "$B"
cf_jq "$B" '.mounts[-1].options = ["rbind", "ridmap"]'
check_create_fails config.md#L155 "ridmap mount without mappings and without a user namespace is an error" "$B"
cf_jq "$B" '.mounts[-1].options = ["bind"] | .mounts[-1].uidMappings = [{containerID: 0, hostID: 1000, size: 1}]'
check_create_fails config.md#L192 "a mount with uidMappings but no gidMappings is an error" "$B"
cf_jq "$B" 'del(.mounts[-1].uidMappings) | .mounts[-1].gidMappings = [{containerID: 0, hostID: 1000, size: 1}]'
check_create_fails config.md#L197 "a mount with gidMappings but no uidMappings is an error" "$B"

# ---- process ------------------------------------------------------------------------
cf_bundle "$B" '.process.cwd = "/tmp" | .process.env += ["CF_VAR=hello world"]' $SH -c 'pwd; echo "$CF_VAR"'
cf_run "$B"
check config.md#L248 "process.cwd is the working directory (/tmp)" [ "$(printf '%s\n' "$OUT" | sed -n 1p)" = /tmp ]
check runtime.md#L128 "process.env is the environment (CF_VAR)" [ "$(printf '%s\n' "$OUT" | sed -n 2p)" = "hello world" ]
cf_bundle "$B" '.process.cwd = "tmp"'
check_create_fails config.md#L249 "a relative process.cwd is an error" "$B"
cf_bundle "$B" '.process.args = []'
check_create_fails config.md#L252 "empty process.args is an error (at least one entry REQUIRED)" "$B"
cf_bundle "$B" '.process.args = ["echo", "via", "PATH"]'
cf_run "$B"
check config.md#L252 "args[0] is looked up like execvp's file (echo via PATH)" [ "$OUT" = "via PATH" ]
cf_bundle "$B" '.process.user = {uid: 1, gid: 1, additionalGids: [5, 65534], umask: 23}' $SH -c 'id -u; id -g; id -G; umask'
cf_run "$B"
check config.md#L370 "process.user.uid is the process uid (1)" [ "$(printf '%s\n' "$OUT" | sed -n 1p)" = 1 ]
check config.md#L371 "process.user.gid is the process gid (1)" [ "$(printf '%s\n' "$OUT" | sed -n 2p)" = 1 ]
check runtime.md#L128 "process.user.additionalGids are the supplementary groups (5 65534)" \
	eval '[ "$(printf "%s\n" "$OUT" | sed -n 3p | tr " " "\n" | sort -n | tr "\n" " ")" = "1 5 65534 " ]'
check runtime.md#L128 "process.user.umask is applied (0027)" [ "$(printf '%s\n' "$OUT" | sed -n 4p)" = 0027 ]

# rlimits
cf_bundle "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 1000, hard: 1001}, {type: "RLIMIT_CORE", soft: 1234, hard: 5678}, {type: "RLIMIT_NPROC", soft: 300, hard: 400}]' \
	$SH -c 'cat /proc/self/limits'
cf_run "$B"
lim() { printf '%s\n' "$OUT" | awk -v n="$1" 'index($0, n) == 1 {s = substr($0, 27); split(s, a, " "); print a[1] " " a[2]}'; }
check config.md#L273 "rlimit soft values match (NOFILE 1000, CORE 1234, NPROC 300)" \
	eval '[ "$(lim "Max open files" | cut -d" " -f1)" = 1000 ] && [ "$(lim "Max core file size" | cut -d" " -f1)" = 1234 ] && [ "$(lim "Max processes" | cut -d" " -f1)" = 300 ]'
check config.md#L275 "rlimit hard values match (NOFILE 1001, CORE 5678, NPROC 400)" \
	eval '[ "$(lim "Max open files" | cut -d" " -f2)" = 1001 ] && [ "$(lim "Max core file size" | cut -d" " -f2)" = 5678 ] && [ "$(lim "Max processes" | cut -d" " -f2)" = 400 ]'
cf_bundle "$B" '.process.rlimits = [{type: "RLIMIT_CF_BOGUS", soft: 1, hard: 1}]'
check_create_fails config.md#L268 "an rlimit type that maps to no kernel resource is an error" "$B"
cf_bundle "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 100, hard: 100}, {type: "RLIMIT_NOFILE", soft: 200, hard: 200}]'
check_create_fails config.md#L278 "duplicate rlimit types are an error" "$B"
cf_bundle "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", soft: 200, hard: 100}]'
cf_run "$B"
check config.md#L269 "an rlimit that setrlimit cannot apply (soft > hard) is an error" [ "$RC" != 0 ]

# capabilities (uid 1000, so the kernel's root special cases do not blur the sets)
cf_bundle "$B" '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false | .process.capabilities = {
	bounding: ["CAP_KILL", "CAP_CHOWN"], permitted: ["CAP_KILL", "CAP_CHOWN"], effective: ["CAP_KILL"],
	inheritable: ["CAP_CHOWN"], ambient: ["CAP_CHOWN"]}' $SH -c 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
cf_run "$B"
cap() { printf '%s\n' "$OUT" | awk -v k="$1:" '$1 == k {print $2}'; }
check runtime.md#L128 "capabilities: bounding {KILL,CHOWN}, inheritable/ambient {CHOWN}, after exec permitted=effective={CHOWN} ($(cap CapBnd) $(cap CapInh) $(cap CapAmb) $(cap CapPrm) $(cap CapEff))" \
	eval '[ "$(cap CapBnd)" = 0000000000000021 ] && [ "$(cap CapInh)" = 0000000000000001 ] && [ "$(cap CapAmb)" = 0000000000000001 ] && [ "$(cap CapPrm)" = 0000000000000001 ] && [ "$(cap CapEff)" = 0000000000000001 ]'
check runtime.md#L128 "noNewPrivileges=false leaves no_new_privs clear" [ "$(cap NoNewPrivs)" = 0 ]
cf_bundle "$B" '.process.noNewPrivileges = true' $SH -c 'grep -E "^(Cap|NoNewPrivs)" /proc/self/status'
cf_run "$B"
check runtime.md#L128 "noNewPrivileges=true sets no_new_privs" [ "$(cap NoNewPrivs)" = 1 ]
check runtime.md#L128 "capabilities of hull spec (AUDIT_WRITE, KILL, NET_BIND_SERVICE) are bounding=effective=permitted ($(cap CapBnd))" \
	eval '[ "$(cap CapBnd)" = 0000000020000420 ] && [ "$(cap CapEff)" = 0000000020000420 ] && [ "$(cap CapPrm)" = 0000000020000420 ]'
cf_bundle "$B" '.process.capabilities.bounding += ["CAP_CF_DOES_NOT_EXIST"]' $SH -c 'grep CapBnd /proc/self/status'
cf_run "$B" 
check config.md#L289 "an unknown capability is logged as a warning naming it" eval 'grep -q CAP_CF_DOES_NOT_EXIST <<<"$ERR"'

# oomScoreAdj
echo 123 > /proc/self/oom_score_adj
cf_bundle "$B" 'del(.process.oomScoreAdj)' $SH -c 'cat /proc/self/oom_score_adj'
cf_run "$B"
check config.md#L304 "without oomScoreAdj the runtime leaves oom_score_adj alone (123 inherited)" [ "$OUT" = 123 ]
cf_bundle "$B" '.process.oomScoreAdj = 456' $SH -c 'cat /proc/self/oom_score_adj'
cf_run "$B"
check config.md#L303 "oomScoreAdj=456 sets oom_score_adj" [ "$OUT" = 456 ]
if (echo -17 > /proc/self/oom_score_adj) 2>/dev/null; then
	cf_bundle "$B" '.process.oomScoreAdj = -17' $SH -c 'cat /proc/self/oom_score_adj'
	cf_run "$B"
	check config.md#L303 "oomScoreAdj=-17 sets oom_score_adj" [ "$OUT" = -17 ]
else
	skip config.md#L303 "oomScoreAdj=-17 sets oom_score_adj" "this host cannot lower oom_score_adj (no CAP_SYS_RESOURCE)"
fi
echo 0 > /proc/self/oom_score_adj

# scheduler, ioPriority
cf_bundle "$B" '.process.scheduler = {policy: "SCHED_IDLE"}' $SH -c 'cut -d" " -f41 /proc/self/stat'
cf_run "$B"
check config.md#L310 "scheduler.policy SCHED_IDLE is applied (policy 5)" [ "$OUT" = 5 ]
cf_bundle "$B" '.process.scheduler = {policy: "SCHED_CF_BOGUS"}'
check_create_fails config.md#L310 "an unknown scheduler policy is an error" "$B"
cf_bundle "$B" '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}' $SH -c 'ionice -p $$'
cf_run "$B"
check config.md#L341 "ioPriority BE/6 is applied ($OUT)" eval 'grep -qi "best.effort.*6" <<<"$OUT"'
cf_bundle "$B" '.process.ioPriority = {class: "IOPRIO_CLASS_CF_BOGUS", priority: 1}'
check_create_fails config.md#L341 "an unknown ioPriority class is an error" "$B"

# consoleSize without a terminal is ignored
cf_bundle "$B" '.process.terminal = false | .process.consoleSize = {height: 24, width: 80}' $SH -c 'echo fine'
cf_run "$B"
check config.md#L245 "consoleSize is ignored when terminal is false" eval '[ "$RC" = 0 ] && [ "$OUT" = fine ]'

# hostname, domainname
cf_bundle "$B" '.hostname = "cf-host" | .domainname = "cf.example"' $SH -c 'hostname; cat /proc/sys/kernel/domainname'
cf_run "$B"
check runtime.md#L113 "hostname and domainname are set in the container's UTS namespace" [ "$(printf '%s' "$OUT" | tr '\n' ' ')" = "cf-host cf.example" ]

# ---- annotations, unknown properties, invalid values -----------------------------------
cf_bundle "$B" '.annotations = {"org.example.cf": "v", "com.example.unknown": "x"}' $SH -c 'echo fine'
cf_run "$B"
check config.md#L741 "unknown annotation keys are ignored like unknown properties" eval '[ "$RC" = 0 ] && [ "$OUT" = fine ]'
cf_bundle "$B" '.annotations = {"org.example.cf": 1}'
check_create_fails config.md#L743 "a non-string annotation value is an error" "$B"
cf_bundle "$B" '.annotations = {"": "v"}'
check_create_fails config.md#L724 "an empty annotation key is an error" "$B"
cf_bundle "$B" '.annotations = ["a"]'
check_create_fails config.md#L720 "annotations that are not a map are an error" "$B"
cf_bundle "$B" '.cfUnknownTop = {a: 1} | .process.cfUnknown = [1, 2] | .linux.cfUnknown = "x" | .mounts[0].cfUnknown = true' $SH -c 'echo fine'
cf_run "$B"
check config.md#L754 "unknown properties are ignored" eval '[ "$RC" = 0 ] && [ "$OUT" = fine ]'
cf_bundle "$B" '.ociVersion = "not-a-version"'
check_create_fails config.md#L17 "an ociVersion that is not SemVer is an error" "$B"
cf_bundle "$B" '.ociVersion = "1.0.0"' $SH -c 'echo fine'
cf_run "$B"
check config.md#L17 "ociVersion 1.0.0 is accepted" [ "$OUT" = fine ]
cf_bundle "$B" '.process.user.uid = "root"'
check_create_fails config.md#L759 "a value of the wrong type (user.uid a string) is an error" "$B"
cf_bundle "$B" '.linux.namespaces += [{type: "cf-bogus"}]'
check_create_fails config.md#L759 "an unsupported value (namespace type cf-bogus) is an error" "$B"
cf_bundle "$B" '.mounts += [{destination: "/cf", type: "tmpfs", source: "tmpfs", options: "ro"}]'
check_create_fails config.md#L759 "mount options that are not an array are an error" "$B"
cf_bundle "$B" '.mounts += [{type: "tmpfs", source: "tmpfs"}]'
check_create_fails config.md#L70 "a mount without destination is an error" "$B"
cf_bundle "$B" 'del(.process.cwd)'
check_create_fails config.md#L248 "a process without cwd is an error (REQUIRED)" "$B"
cf_bundle "$B" 'del(.process.user.uid)'
check_create_fails config.md#L370 "a user without uid is an error (REQUIRED)" "$B"
cf_bundle "$B" '.process.rlimits = [{type: "RLIMIT_NOFILE", hard: 10}]'
check_create_fails config.md#L272 "an rlimit without soft is an error (REQUIRED)" "$B"

# ---- JSON encoding (glossary.md) ------------------------------------------------------------
cf_bundle "$B" .
jq -c . "$B/config.json" | sed 's/"hostname":"[^"]*"/"hostname":"cf\xff\xfe"/' > "$B/c" && mv "$B/c" "$B/config.json"
check_create_fails glossary.md#L27 "a config.json that is not valid UTF-8 is an error" "$B"
cf_bundle "$B" .
jq -c . "$B/config.json" | sed 's/^{/{"hostname":"cf-one","hostname":"cf-two",/; s/,"hostname":"hull"//' > "$B/c" && mv "$B/c" "$B/config.json"
check_create_fails glossary.md#L28 "a config.json with duplicate names in an object is an error" "$B"

cf_done
