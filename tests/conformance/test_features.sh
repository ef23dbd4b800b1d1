#!/bin/bash
# test_features.sh — features.md and features-linux.md: `hull features`
# validates against features-schema.json, holds only properties this spec
# version defines, and every value it lists is actually accepted in
# config.json: ociVersionMin/Max, hooks, mount options, namespaces,
# capabilities, seccomp actions/operators/architectures/flags, memory
# policy modes and flags, idmap mount extensions.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init features "$0" "$@"

B=$WORK/b
SH=/bin/sh
F=$WORK/features.json
H features > "$F" 2>"$WORK/stderr"; rc=$?
check features.md#L14 "hull features prints a JSON document" eval '[ "$rc" = 0 ] && jq -e type "$F" >/dev/null'

msg=$(cf_schema features-schema.json "$F" 2>&1); src=$?
if [ $src = 2 ]; then
	# no python3-jsonschema: the structural checks jq can do
	check features.md#L14 "features: required fields and types (jq; no python3-jsonschema)" \
		jq -e '(.ociVersionMin | type == "string") and (.ociVersionMax | type == "string")
			and ((.hooks // []) | type == "array") and ((.mountOptions // []) | type == "array")
			and ((.annotations // {}) | type == "object" and all(.[]; type == "string"))' "$F"
else
	check features.md#L14 "features validates against features-schema.json $msg" [ $src = 0 ]
fi
MIN=$(jq -r .ociVersionMin "$F") MAX=$(jq -r .ociVersionMax "$F")
semver='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$'
check features.md#L14 "ociVersionMin is present and SemVer ($MIN)" eval '[[ "$MIN" =~ $semver ]]'
check features.md#L17 "ociVersionMax is present and SemVer ($MAX)" eval '[[ "$MAX" =~ $semver ]]'
check features.md#L19 "ociVersionMax is not less than ociVersionMin" eval '[ "$(printf "%s\n%s\n" "${MIN%%-*}" "${MAX%%-*}" | sort -V | head -1)" = "${MIN%%-*}" ]'
for v in "$MIN" "$MAX"; do
	cf_bundle "$B" ".ociVersion = \"$v\"" $SH -c 'echo fine'
	cf_run "$B"
	[ "$v" = "$MIN" ] && l=L15 || l=L18
	check "features.md#$l" "ociVersion $v from features is accepted in config.json" [ "$OUT" = fine ]
done

# only properties this version of the spec defines (annotation maps excepted)
unknown=$(python3 - "$CF_DIR/schema" "$F" <<'EOF'
import json, sys, os
d = sys.argv[1]
def props(node, acc):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "properties" and isinstance(v, dict):
                acc.update(v.keys())
            props(v, acc)
    elif isinstance(node, list):
        for v in node:
            props(v, acc)
known = set()
for f in ("features-schema.json", "features-linux.json"):
    props(json.load(open(os.path.join(d, f))), known)
# features-linux.md (1.3.0) defines linux.memoryPolicy; its JSON schema does not yet
known.update(("memoryPolicy", "modes", "flags"))
bad = []
def walk(node, path):
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in known:
                bad.append(path + "." + k)
            if k not in ("annotations", "potentialAnnotations"):
                walk(v, path + "." + k)
walk(json.load(open(sys.argv[2])), "")
print(" ".join(bad))
EOF
)
check features.md#L20 "features holds no property the spec does not define ($unknown)" [ -z "$unknown" ]
jqe() { jq -e "$@" >/dev/null; }
check features.md#L10 "features lists what hull implements (hooks, mountOptions, namespaces, capabilities are not empty or null)" \
	jqe '(.hooks | length > 0) and (.mountOptions | length > 0) and (.linux.namespaces | length > 0) and (.linux.capabilities | length > 0)' "$F"
check features.md#L131 "features.annotations, if present, is a map of strings" jqe '(.annotations // {}) | type == "object" and all(.[]; type == "string")' "$F"

# ---- hooks ---------------------------------------------------------------------------------
mkdir -p "$WORK/hk"
hooks=$(jq -c --arg d "$WORK/hk" '[.hooks[]? | {key: ., value: [{path: "/bin/sh", args: ["sh", "-c", ("echo > " + $d + "/" + .)]}]}] | from_entries' "$F")
cf_bundle "$B" . $SH -c 'true'
cf_jq "$B" '.hooks = $h' --argjson h "$hooks"
# startContainer runs in the container: point it at a path there
cf_jq "$B" 'if .hooks.startContainer then .hooks.startContainer[0].args[2] = "echo > /hk/startContainer" else . end |
	.mounts += [{destination: "/hk", type: "bind", source: $d, options: ["rbind", "rw"]}]' --arg d "$WORK/hk"
cf_run "$B"
for h in $(jq -r '.hooks[]?' "$F"); do
	check features.md#L32 "hook kind $h listed in features is supported" [ -e "$WORK/hk/$h" ]
done

# ---- mount options ---------------------------------------------------------------------------
# recognized = some mount of some kind takes it: tmpfs, then a bind, then an
# id-mapped bind in a user namespace (idmap, ridmap)
SRC=$WORK/msrc
mkdir -p "$SRC"
USERNS='.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	| .mounts = [.mounts[] | select(.destination != "/sys/fs/cgroup" and .destination != "/sys")]'
opt_runs() {  # OPTION
	local o=$1 kind
	for kind in tmpfs bind rbind userns; do
		case $kind in
		tmpfs) cf_bundle "$B" . $SH -c 'echo fine'
			cf_jq "$B" '.mounts += [{destination: "/cfm", type: "tmpfs", source: "tmpfs", options: [$o]}]' --arg o "$o" ;;
		bind|rbind) cf_bundle "$B" . $SH -c 'echo fine'
			cf_jq "$B" '.mounts += [{destination: "/cfm", type: "bind", source: $s, options: [$k, $o]}]' --arg o "$o" --arg s "$SRC" --arg k "$kind" ;;
		userns) cf_bundle "$B" "$USERNS" $SH -c 'echo fine'
			mkdir -p "$B/rootfs/cfm"
			cf_jq "$B" '.mounts += [{destination: "/cfm", type: "bind", source: $s, options: ["rbind", $o],
				uidMappings: [{containerID: 0, hostID: 100000, size: 65536}], gidMappings: [{containerID: 0, hostID: 100000, size: 65536}]}]' --arg o "$o" --arg s "$SRC" ;;
		esac
		cf_run "$B"
		[ "$RC" = 0 ] && [ "$OUT" = fine ] && return 0
	done
	return 1
}
# first all options at once, one tmpfs each (fast); one by one only if that fails
OPTS=$(jq -r '.mountOptions[]?' "$F" | grep -vxE 'bind|rbind|idmap|ridmap|remount')
cf_bundle "$B" . $SH -c 'echo fine'
allm=$(jq -cn '[$ARGS.positional | to_entries[] | {destination: "/cfm/\(.key)", type: "tmpfs", source: "tmpfs", options: [.value]}]' --args $OPTS)
cf_jq "$B" '.mounts += $m' --argjson m "$allm"
cf_run "$B"
batch=0; [ "$RC" = 0 ] && [ "$OUT" = fine ] && batch=1
for o in $(jq -r '.mountOptions[]?' "$F"); do
	if [ $batch = 1 ] && grep -qx -- "$o" <<<"$OPTS"; then
		pass features.md#L49 "mount option $o listed in features is recognized in config.json (with all others on tmpfs)"
	else
		check features.md#L49 "mount option $o listed in features is recognized in config.json" opt_runs "$o"
	fi
done

# ---- namespaces, capabilities ----------------------------------------------------------------------
for n in $(jq -r '.linux.namespaces[]?' "$F"); do
	f='.linux.namespaces = ([.linux.namespaces[] | select(.type != $n)] + [{type: $n}])'
	[ "$n" = user ] && f="$f | ${USERNS#.linux.namespaces += \[\{type: \"user\"\}\] | }"
	cf_bundle "$B" . $SH -c 'echo fine'
	cf_jq "$B" "$f" --arg n "$n"
	cf_run "$B"
	check features-linux.md#L8 "namespace type $n listed in features is recognized" [ "$OUT" = fine ]
done
caps=$(jq -c '.linux.capabilities // []' "$F")
cf_bundle "$B" . $SH -c 'grep CapBnd /proc/self/status'
cf_jq "$B" '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' --argjson c "$caps"
cf_run "$B"
# the bits of every listed capability the host can grant
want=$(python3 - "$caps" <<'EOF'
import json, sys
names = ["CHOWN","DAC_OVERRIDE","DAC_READ_SEARCH","FOWNER","FSETID","KILL","SETGID","SETUID","SETPCAP",
 "LINUX_IMMUTABLE","NET_BIND_SERVICE","NET_BROADCAST","NET_ADMIN","NET_RAW","IPC_LOCK","IPC_OWNER",
 "SYS_MODULE","SYS_RAWIO","SYS_CHROOT","SYS_PTRACE","SYS_PACCT","SYS_ADMIN","SYS_BOOT","SYS_NICE",
 "SYS_RESOURCE","SYS_TIME","SYS_TTY_CONFIG","MKNOD","LEASE","AUDIT_WRITE","AUDIT_CONTROL","SETFCAP",
 "MAC_OVERRIDE","MAC_ADMIN","SYSLOG","WAKE_ALARM","BLOCK_SUSPEND","AUDIT_READ","PERFMON","BPF","CHECKPOINT_RESTORE"]
host = int([l.split()[1] for l in open("/proc/self/status") if l.startswith("CapBnd:")][0], 16)
m = 0
for c in json.loads(sys.argv[1]):
    n = c[4:] if c.startswith("CAP_") else c
    if n in names:
        m |= 1 << names.index(n)
print("%016x" % (m & host))
EOF
)
got=$(printf '%s\n' "$OUT" | awk '{print $2}')
check features-linux.md#L27 "every capability listed in features is recognized and granted where the host allows ($got)" \
	eval '[ "$RC" = 0 ] && [ "$got" = "$want" ]'

# ---- seccomp ---------------------------------------------------------------------------------------
if [ "$(jq -r '.linux.seccomp.enabled // false' "$F")" = true ]; then
	SYSCALLS=(acct swapon swapoff syslog vhangup pivot_root sethostname setdomainname iopl ioperm reboot kexec_load)
	i=0
	for a in $(jq -r '.linux.seccomp.actions[]?' "$F"); do
		sc=${SYSCALLS[$((i % ${#SYSCALLS[@]}))]}; i=$((i + 1))
		cf_bundle "$B" . $SH -c 'echo fine'
		if [ "$a" = SCMP_ACT_NOTIFY ]; then
			LS=$WORK/notify.sock; rm -f "$LS"; mkdir -p "$WORK/nl"
			python3 "$CF_DIR/helpers/seccomp-listener.py" "$LS" "$WORK/nl" & lp=$!
			wait_file "$LS" 5
			cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l, syscalls: [{names: [$s], action: $a}]}' --arg a "$a" --arg s "$sc" --arg l "$LS"
		else
			cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: [$s], action: $a}]}' --arg a "$a" --arg s "$sc"
		fi
		cf_run "$B"
		[ "$a" = SCMP_ACT_NOTIFY ] && { kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null; }
		check features-linux.md#L107 "seccomp action $a listed in features is recognized" [ "$OUT" = fine ]
	done
	for op in $(jq -r '.linux.seccomp.operators[]?' "$F"); do
		cf_bundle "$B" . $SH -c 'echo fine'
		cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO",
			args: [(if $op == "SCMP_CMP_MASKED_EQ" then {index: 0, value: 1, valueTwo: 1, op: $op} else {index: 0, value: 1, op: $op} end)]}]}' --arg op "$op"
		cf_run "$B"
		check features-linux.md#L109 "seccomp operator $op listed in features is recognized" [ "$OUT" = fine ]
	done
	# an architecture is recognized when it is used, or refused for this host
	# (e.g. another byte order) with an error naming it rather than as unknown
	for arch in $(jq -r '.linux.seccomp.archs[]?' "$F"); do
		cf_bundle "$B" . $SH -c 'echo fine'
		cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", $a], syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO"}]}' --arg a "$arch"
		cf_run "$B"
		check features-linux.md#L111 "seccomp architecture $arch listed in features is recognized" \
			eval '[ "$OUT" = fine ] || { grep -q "$arch" <<<"$ERR" && ! grep -qiE "unknown|unrecognized|unsupported|invalid value" <<<"$ERR"; }'
	done
	for fl in $(jq -r '.linux.seccomp.knownFlags[]?' "$F"); do
		cf_bundle "$B" . $SH -c 'echo fine'
		lp=
		if [ "$fl" = SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV ]; then
			# the kernel takes this flag only with a notify listener
			LS=$WORK/notify.sock; rm -f "$LS"; mkdir -p "$WORK/nl"
			python3 "$CF_DIR/helpers/seccomp-listener.py" "$LS" "$WORK/nl" & lp=$!
			wait_file "$LS" 5
			cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", flags: [$f], listenerPath: $l, syscalls: [{names: ["acct"], action: "SCMP_ACT_NOTIFY"}]}' --arg f "$fl" --arg l "$LS"
		else
			cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", flags: [$f], syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO"}]}' --arg f "$fl"
		fi
		cf_run "$B"
		[ -n "$lp" ] && { kill "$lp" 2>/dev/null; wait "$lp" 2>/dev/null; }
		check features-linux.md#L113 "seccomp flag $fl (knownFlags) is recognized: runs or fails with an error naming it" \
			eval '[ "$OUT" = fine ] || grep -q "$fl" <<<"$ERR"'
		if jq -e --arg f "$fl" '.linux.seccomp.supportedFlags // [] | index($f)' "$F" >/dev/null; then
			check features-linux.md#L116 "seccomp flag $fl (supportedFlags) works in config.json" [ "$OUT" = fine ]
		fi
	done
else
	skip features-linux.md#L107 "seccomp values listed in features" "features says seccomp is not enabled"
fi

# ---- memory policy --------------------------------------------------------------------------------------
for m in $(jq -r '.linux.memoryPolicy.modes[]?' "$F"); do
	cf_bundle "$B" . $SH -c 'echo fine'
	case $m in MPOL_DEFAULT|MPOL_LOCAL) cf_jq "$B" '.linux.memoryPolicy = {mode: $m}' --arg m "$m" ;;
	*) cf_jq "$B" '.linux.memoryPolicy = {mode: $m, nodes: "0"}' --arg m "$m" ;; esac
	cf_run "$B"
	check features-linux.md#L203 "memoryPolicy mode $m listed in features is recognized" \
		eval '[ "$OUT" = fine ] || { [ "$RC" != 0 ] && ! grep -qiE "unknown|invalid|unsupported|unrecognized" <<<"$ERR"; }'
done
for fl in $(jq -r '.linux.memoryPolicy.flags[]?' "$F"); do
	cf_bundle "$B" . $SH -c 'echo fine'
	cf_jq "$B" '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0", flags: [$f]}' --arg f "$fl"
	cf_run "$B"
	check features-linux.md#L206 "memoryPolicy flag $fl listed in features is recognized" \
		eval '[ "$OUT" = fine ] || { [ "$RC" != 0 ] && ! grep -qiE "unknown|invalid|unsupported|unrecognized" <<<"$ERR"; }'
done

# ---- idmap mount extension ----------------------------------------------------------------------------------
cf_bundle "$B" . $SH -c 'echo fine'
cf_jq "$B" '.mounts += [{destination: "/cfm", type: "bind", source: $s, options: ["rbind"], uidMappings: [{containerID: 0, hostID: 1000, size: 1}]}]' --arg s "$SRC"
cf_create "$B" idm$$
recognizes=0; [ "$RC" != 0 ] && recognizes=1
cf_rm idm$$
if [ $recognizes = 1 ]; then
	check features-linux.md#L257 "hull parses mount uidMappings (rejects them unpaired), so mountExtensions.idmap.enabled is true" \
		jqe '.linux.mountExtensions.idmap.enabled == true' "$F"
else
	check features-linux.md#L257 "mount uidMappings are ignored, so mountExtensions.idmap.enabled is not true" \
		jqe '.linux.mountExtensions.idmap.enabled != true' "$F"
fi

cf_done
