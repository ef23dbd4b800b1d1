#!/bin/bash
# test_linux.sh — config-linux.md and runtime-linux.md (cgroups are in
# test_cgroups.sh): namespaces (new, inherited, joined by path, errors), user
# namespace mappings, time offsets, devices (configured, default, /dev
# symlinks, /dev/pts, /dev/console), netDevices, sysctl, seccomp (actions,
# errors, listenerPath), maskedPaths, readonlyPaths, rootfsPropagation,
# personality, memoryPolicy, intelRdt without resctrl, no mountLabel.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init linux "$0" "$@"

B=$WORK/b
SH=/bin/sh
NSTYPES="mnt net uts ipc pid cgroup"
nsname() { case $1 in mnt) echo mount ;; net) echo network ;; *) echo "$1" ;; esac; }
PRINT_NS='for n in mnt net uts ipc pid cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done'
myns() { readlink "/proc/self/ns/$1"; }
ns_of() { printf '%s\n' "$OUT" | awk -v n="$1" '$1 == n {print $2}'; }

# ---- namespaces ----------------------------------------------------------------
cf_bundle "$B" '.linux.namespaces = [{type: "pid"}, {type: "network"}, {type: "ipc"}, {type: "uts"}, {type: "mount"}, {type: "cgroup"}]' $SH -c "$PRINT_NS"
cf_run "$B"
for n in $NSTYPES; do
	check config-linux.md#L43 "a $(nsname $n) namespace without path is new ($(ns_of $n))" eval '[ -n "$(ns_of $n)" ] && [ "$(ns_of $n)" != "$(myns $n)" ]'
done
cf_bundle "$B" 'del(.hostname) | .linux.namespaces = [{type: "mount"}] | .mounts = [.mounts[] | select(.type != "mqueue" and .type != "sysfs" and .type != "cgroup")]' $SH -c "$PRINT_NS"
cf_run "$B"
for n in net uts ipc pid cgroup; do
	check config-linux.md#L45 "a $(nsname $n) namespace not listed is inherited from the runtime" eval '[ "$RC" = 0 ] && [ "$(ns_of $n)" = "$(myns $n)" ]'
done

# joining by path
for n in net uts ipc; do touch "$WORK/ns-$n"; done
unshare --net="$WORK/ns-net" --uts="$WORK/ns-uts" --ipc="$WORK/ns-ipc" true
cf_bundle "$B" 'del(.hostname)' $SH -c "$PRINT_NS"
cf_jq "$B" '.linux.namespaces = [{type: "pid"}, {type: "mount"}, {type: "network", path: $net}, {type: "uts", path: $uts}, {type: "ipc", path: $ipc}]' \
	--arg net "$WORK/ns-net" --arg uts "$WORK/ns-uts" --arg ipc "$WORK/ns-ipc"
cf_run "$B"
for n in net uts ipc; do
	want="$n:[$(stat -L -c %i "$WORK/ns-$n")]"
	check config-linux.md#L40 "the container joins the $(nsname $n) namespace at path ($want)" [ "$(ns_of $n)" = "$want" ]
done
cf_bundle "$B" .
cf_jq "$B" '.linux.namespaces = [{type: "pid"}, {type: "mount"}, {type: "network", path: $p}]' --arg p "$WORK/ns-uts"
check_create_fails config-linux.md#L41 "a namespace path of another type (uts file as network) is an error" "$B"
echo notans > "$WORK/notans"
cf_jq "$B" '.linux.namespaces = [{type: "pid"}, {type: "mount"}, {type: "network", path: $p}]' --arg p "$WORK/notans"
check_create_fails config-linux.md#L41 "a namespace path that is no namespace at all is an error" "$B"
cf_jq "$B" '.linux.namespaces = [{type: "pid"}, {type: "mount"}, {type: "network", path: "proc/1/ns/net"}]'
check_create_fails config-linux.md#L39 "a relative namespace path is an error" "$B"
cf_jq "$B" '.linux.namespaces = [{type: "pid"}, {type: "mount"}, {type: "network"}, {type: "network"}]'
check_create_fails config-linux.md#L46 "duplicate namespace types are an error" "$B"

# ---- user namespace and mappings ---------------------------------------------------
USERNS='.linux.namespaces += [{type: "user"}] | .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
	| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 1000}]
	| .mounts = [.mounts[] | select(.destination != "/sys/fs/cgroup" and .destination != "/sys")]'
cf_bundle "$B" "$USERNS" $SH -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user'
cf_run "$B"
um=$(printf '%s\n' "$OUT" | sed -n 1p | tr -s ' ' | sed 's/^ //') gm=$(printf '%s\n' "$OUT" | sed -n 2p | tr -s ' ' | sed 's/^ //')
check config-linux.md#L88 "uidMappings are written to uid_map ($um)" [ "$um" = "0 100000 65536" ]
check config-linux.md#L89 "gidMappings are written to gid_map ($gm)" [ "$gm" = "0 200000 1000" ]
check config-linux.md#L43 "the user namespace is new and the process is uid 0 in it" \
	eval '[ "$(printf "%s\n" "$OUT" | sed -n 3p)" = 0 ] && [ "$(printf "%s\n" "$OUT" | sed -n 4p)" != "$(myns user)" ]'

# ---- time namespace, timeOffsets ------------------------------------------------------
if [ -e /proc/self/ns/time ]; then
	cf_bundle "$B" '.linux.namespaces += [{type: "time"}] | .linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 5}, boottime: {secs: 3600}}' \
		$SH -c 'cat /proc/self/timens_offsets'
	cf_run "$B"
	check config-linux.md#L43 "time namespace with timeOffsets: monotonic 86400 s 5 ns, boottime 3600 s ($(printf '%s' "$OUT" | tr '\n' ';'))" \
		eval 'grep -qE "^monotonic +86400 +5$" <<<"$OUT" && grep -qE "^boottime +3600 +0$" <<<"$OUT"'
else
	skip config-linux.md#L43 "time namespace with timeOffsets" "kernel without time namespaces"
fi

# ---- devices ------------------------------------------------------------------------------
cf_bundle "$B" '.linux.devices = [
	{path: "/dev/cf-char", type: "c", major: 1, minor: 5, fileMode: 384, uid: 7, gid: 8},
	{path: "/dev/cf-block", type: "b", major: 7, minor: 200, fileMode: 416, uid: 0, gid: 6},
	{path: "/dev/cf-unbuf", type: "u", major: 1, minor: 9},
	{path: "/dev/cf-fifo", type: "p"},
	{path: "/cf-devdir/zero2", type: "c", major: 1, minor: 5, fileMode: 438}]
	| .linux.resources.devices = [{allow: true, access: "rwm"}]' \
	$SH -c 'for d in /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty /dev/cf-char /dev/cf-block /dev/cf-unbuf /dev/cf-fifo /cf-devdir/zero2; do stat -c "%n %F %t:%T %a %u:%g" $d; done
		for l in fd stdin stdout stderr ptmx; do echo "/dev/$l -> $(readlink /dev/$l)"; done
		stat -c "%n %F %t:%T" /dev/pts/ptmx; head -c 4 /cf-devdir/zero2 | od -An -tx1'
cf_run "$B"
DEV=$OUT
dev_is() { grep -qx -- "$1" <<<"$DEV"; }
check config-linux.md#L127 "device c 1:5 at /dev/cf-char with fileMode 0600, uid 7, gid 8" dev_is "/dev/cf-char character special file 1:5 600 7:8"
check config-linux.md#L127 "device b 7:200 at /dev/cf-block with fileMode 0640, gid 6" dev_is "/dev/cf-block block special file 7:c8 640 0:6"
check config-linux.md#L127 "device u 1:9 (unbuffered char) at /dev/cf-unbuf" eval 'grep -q "^/dev/cf-unbuf character special file 1:9 " <<<"$DEV"'
check config-linux.md#L127 "device p (fifo) at /dev/cf-fifo" eval 'grep -q "^/dev/cf-fifo fifo " <<<"$DEV"'
check config-linux.md#L127 "a device outside /dev gets its directory created (/cf-devdir/zero2)" eval 'grep -q "^/cf-devdir/zero2 character special file 1:5 " <<<"$DEV"'
check config-linux.md#L127 "the device works (reads zeros from /cf-devdir/zero2)" eval 'grep -q "00 00 00 00" <<<"$DEV"'
for d in null:1:3 zero:1:5 full:1:7 random:1:8 urandom:1:9 tty:5:0; do
	IFS=: read -r name ma mi <<<"$d"
	check config-linux.md#L180 "default device /dev/$name (c $ma:$mi, 0666)" eval 'grep -q "^/dev/$name character special file $ma:$mi 666 " <<<"$DEV"'
done
check config-linux.md#L180 "/dev/ptmx is a symlink to pts/ptmx or a bind of /dev/pts/ptmx" \
	eval 'dev_is "/dev/ptmx -> pts/ptmx" || dev_is "/dev/ptmx -> /dev/pts/ptmx" || (grep -q "^/dev/ptmx character special file 5:2 " <<<"$DEV")'
check config-linux.md#L180 "/dev/pts/ptmx is the devpts ptmx (c 5:2)" eval 'grep -q "^/dev/pts/ptmx character special file 5:2" <<<"$DEV"'
check runtime-linux.md#L11 "/dev/fd -> /proc/self/fd" dev_is "/dev/fd -> /proc/self/fd"
check runtime-linux.md#L11 "/dev/stdin -> /proc/self/fd/0" dev_is "/dev/stdin -> /proc/self/fd/0"
check runtime-linux.md#L11 "/dev/stdout -> /proc/self/fd/1" dev_is "/dev/stdout -> /proc/self/fd/1"
check runtime-linux.md#L11 "/dev/stderr -> /proc/self/fd/2" dev_is "/dev/stderr -> /proc/self/fd/2"

cf_bundle "$B" '.linux.devices = [{path: "/etc/hostname", type: "c", major: 1, minor: 3}] | .root.readonly = false'
check_create_fails config-linux.md#L135 "a device path where a different file exists (/etc/hostname) is an error" "$B"
cf_bundle "$B" '.linux.devices = [{path: "/dev/cf-x", type: "c"}]'
check_create_fails config-linux.md#L137 "a c device without major/minor is an error" "$B"
cf_bundle "$B" '.linux.devices = [{path: "/dev/cf-x", type: "q", major: 1, minor: 3}]'
check_create_fails config-linux.md#L132 "a device of unknown type is an error" "$B"

# /dev/console with terminal=true, through a console socket
cf_bundle "$B" '.process.terminal = true' $SH -c 'stat -c "%n %F %t" /dev/console; tty'
SOCK=$WORK/console.sock
python3 "$CF_DIR/helpers/recvtty.py" "$SOCK" "$WORK/tty.out" & rpid=$!
wait_file "$SOCK" 5
ID=tty$$
cf_create "$B" "$ID" --console-socket "$SOCK"
crc=$RC
[ "$crc" = 0 ] && cf_start "$ID" && cf_wait_status "$ID" stopped 10
wait "$rpid" 2>/dev/null
TTY=$(tr -d '\r' < "$WORK/tty.out" 2>/dev/null)
cf_rm "$ID"
check config-linux.md#L180 "terminal=true: /dev/console is the pty (char major 88 = 136)" \
	eval '[ "$crc" = 0 ] && grep -q "^/dev/console character special file 88$" <<<"$TTY"'
check config.md#L240 "terminal=true: stdio is the pseudoterminal (tty says /dev/pts/N)" eval 'grep -q "^/dev/pts/[0-9]" <<<"$TTY"'

# ---- netDevices ------------------------------------------------------------------------------
if ip link add cfveth0 type veth peer name cfveth1 2>/dev/null; then
	ip addr add 10.99.0.1/24 dev cfveth0
	ip link add cfveth2 type veth peer name cfveth3
	cf_bundle "$B" '.linux.netDevices = {cfveth0: {name: "ctr0"}, cfveth2: {}}' $SH -c 'ip -o link show ctr0; ip -o addr show ctr0; ip -o link show cfveth2' 
	cf_out "$B"
	cf_jq "$B" '.process.args = ["/bin/sh", "-c", "(ip -o link show ctr0; ip -o addr show ctr0; ip -o link show cfveth2) > /out/net 2>&1"]'
	ID=net$$
	cf_create "$B" "$ID"
	crc=$RC
	moved=1; ip link show cfveth0 >/dev/null 2>&1 && moved=0
	cf_start "$ID"; RC=$?; cf_wait_status "$ID" stopped 10
	OUT=$(cat "$B/out/net" 2>/dev/null)
	H delete "$ID" >/dev/null 2>&1
	check config-linux.md#L214 "netDevices: the device is moved into the container (gone from the runtime namespace)" eval '[ "$crc" = 0 ] && [ $moved = 1 ]'
	check config-linux.md#L214 "netDevices: renamed to name (ctr0); without name it keeps its name (cfveth2)" \
		eval '[ "$RC" = 0 ] && grep -q ": ctr0[:@]" <<<"$OUT" && grep -q ": cfveth2[:@]" <<<"$OUT"'
	check config-linux.md#L232 "netDevices: the permanent global address (10.99.0.1/24) is preserved" eval 'grep -q "inet 10.99.0.1/24" <<<"$OUT"'
	check config-linux.md#L238 "netDevices: the device is up in the container" eval 'grep -E ": ctr0[:@]" <<<"$OUT" | grep -q "[<,]UP[,>]"'
	check config-linux.md#L251 "netDevices: after delete the device is not moved back to the runtime namespace" eval '! ip link show cfveth0 >/dev/null 2>&1 && ! ip link show ctr0 >/dev/null 2>&1'
	ip link add cfveth4 type veth peer name cfveth5
	cf_bundle "$B" '.linux.netDevices = {cfveth4: {name: "lo"}}'
	check_create_fails config-linux.md#L226 "netDevices: a name that already exists in the container namespace (lo) is an error" "$B"
	check config-linux.md#L84 "... and the device stays in the runtime namespace" ip link show cfveth4
	cf_bundle "$B" '.linux.netDevices = {cfveth4: {name: "cfeth%d"}}' $SH -c 'ip -o link show'
	cf_run "$B"
	check config-linux.md#L228 "netDevices: a %d template name is allowed and the kernel picks the name (cfeth0)" eval '[ "$RC" = 0 ] && grep -q ": cfeth0[:@]" <<<"$OUT"'
	cf_bundle "$B" '.linux.netDevices = {"cf-missing0": {}}'
	check_create_fails config-linux.md#L224 "netDevices: a device that does not exist cannot be moved: error" "$B"
	cf_bundle "$B" '.linux.netDevices = {cfveth6: {}} | .linux.namespaces = [.linux.namespaces[] | select(.type != "network")]'
	ip link add cfveth6 type veth peer name cfveth7
	check_create_fails config-linux.md#L224 "netDevices without a new network namespace is an error" "$B"
else
	for l in L214 L226 L228 L232 L238 L251; do skip "config-linux.md#$l" "netDevices" "cannot create veth devices here"; done
fi

# ---- sysctl ---------------------------------------------------------------------------------------
cf_bundle "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}' \
	$SH -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax'
cf_run "$B"
check runtime.md#L113 "sysctl values are set in the container's namespaces (1 123456789)" [ "$(printf '%s' "$OUT" | tr '\n' ' ')" = "1 123456789" ]
check runtime.md#L113 "... and not in the runtime's" [ "$(cat /proc/sys/kernel/shmmax)" != 123456789 ]
cf_bundle "$B" '.linux.sysctl = {"cf.no.such.key": "1"}'
check_create_fails runtime.md#L116 "a sysctl that cannot be applied is an error" "$B"

# ---- seccomp -----------------------------------------------------------------------------------------
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
	syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 1},
	           {names: ["chmod", "fchmodat"], action: "SCMP_ACT_ERRNO", errnoRet: 38}]}' \
	$SH -c 'mkdir /tmp/x 2>&1; chmod 600 /tmp 2>&1; echo done'
cf_run "$B"
check runtime.md#L128 "seccomp: mkdir fails with errnoRet 1 (EPERM)" eval 'grep -q "Operation not permitted" <<<"$OUT"'
check runtime.md#L128 "seccomp: chmod fails with errnoRet 38 (ENOSYS)" eval 'grep -qi "not implemented" <<<"$OUT"'
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_KILL", errnoRet: 1}]}'
check_create_fails config-linux.md#L963 "errnoRet on an action without errno (SCMP_ACT_KILL) is an error" "$B"
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_KILL", defaultErrnoRet: 1, syscalls: [{names: ["acct"], action: "SCMP_ACT_ALLOW"}]}'
check_create_fails config-linux.md#L888 "defaultErrnoRet with a defaultAction without errno is an error" "$B"
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: [], action: "SCMP_ACT_ERRNO"}]}'
check_create_fails config-linux.md#L947 "a seccomp rule with empty names is an error" "$B"
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerMetadata: "cf", syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO"}]}'
check_create_fails config-linux.md#L939 "listenerMetadata without listenerPath is an error" "$B"
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_CF_BOGUS"}]}'
check_create_fails config-linux.md#L948 "an unknown seccomp action is an error" "$B"
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", syscalls: [{names: ["acct"], action: "SCMP_ACT_ERRNO", args: [{index: 0, value: 1, op: "SCMP_CMP_CF_BOGUS"}]}]}'
check_create_fails config-linux.md#L972 "an unknown seccomp operator is an error" "$B"
cf_bundle "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: "/nonexistent/cf.sock", syscalls: [{names: ["acct"], action: "SCMP_ACT_NOTIFY"}]}'
check_create_fails config-linux.md#L930 "a listenerPath nobody listens on is an error" "$B"
LSOCK=$WORK/seccomp.sock
mkdir -p "$WORK/listener"
python3 "$CF_DIR/helpers/seccomp-listener.py" "$LSOCK" "$WORK/listener" & lpid=$!
wait_file "$LSOCK" 5
cf_bundle "$B" . $SH -c 'echo fine'
cf_jq "$B" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $s, listenerMetadata: "cf-meta", syscalls: [{names: ["acct"], action: "SCMP_ACT_NOTIFY"}]}' --arg s "$LSOCK"
ID=sc$$
cf_create "$B" "$ID"
crc=$RC
SCPID=$(cf_field "$ID" .pid)
# the filter (and so the listener's fd) may come at create or, when it is
# loaded just before execve (noNewPrivileges), at start
wait_file "$WORK/listener/1.end" 2 || { cf_start "$ID"; wait_file "$WORK/listener/1.end" 10; }
cf_rm "$ID"
kill "$lpid" 2>/dev/null; wait "$lpid" 2>/dev/null
L=$WORK/listener
check config-linux.md#L928 "listenerPath: exactly one container process state per connection (valid JSON)" \
	eval '[ "$crc" = 0 ] && [ -s "$L/1.json" ] && jq -e . "$L/1.json" >/dev/null && [ "$(jq -s length "$L/1.json")" = 1 ]'
check config-linux.md#L1013 "listenerPath: the state has ociVersion, fds, pid, metadata and the container state" \
	eval 'jq -e ".ociVersion and (.fds | length > 0) and .pid == ${SCPID:-0} and .metadata == \"cf-meta\" and .state.id == \"$ID\"" "$L/1.json" >/dev/null'
check config-linux.md#L1007 "listenerPath: the seccomp fd is sent with SCM_RIGHTS in the first sendmsg" eval 'grep -q "^1:1" "$L/1.fds"'
check config-linux.md#L1009 "listenerPath: fds only in the first sendmsg" eval '[ "$(cut -d" " -f1 "$L/1.fds")" = "1:1" ] && [ "$(wc -w < "$L/1.fds")" = 1 ]'
check config-linux.md#L935 "listenerPath: fds names the seccomp fd (seccompFd)" eval 'jq -e ".fds | index(\"seccompFd\")" "$L/1.json" >/dev/null'
check config-linux.md#L1016 "listenerPath: pid is the container process as seen by the runtime" eval 'jq -e ".pid == ${SCPID:-0}" "$L/1.json" >/dev/null'
check config-linux.md#L1018 "listenerPath: state is the container state (id, status, bundle)" eval 'jq -e ".state.id == \"$ID\" and (.state.status | type == \"string\") and .state.bundle == \"$B\"" "$L/1.json" >/dev/null'
check config-linux.md#L929 "listenerPath: the connection is closed after the state is sent" eval 'grep -qx eof "$L/1.end"'
check config-linux.md#L927 "listenerPath: the runtime connected once for the container" [ ! -e "$L/2.json" ]

# ---- maskedPaths, readonlyPaths ------------------------------------------------------------------------
cf_bundle "$B" '.root.readonly = false | .linux.maskedPaths += ["/etc/cf-secret", "/cf-secret-dir"] | .linux.readonlyPaths += ["/cf-ro-dir"]' \
	$SH -c 'echo "secret=[$(cat /etc/cf-secret)] dir=[$(ls /cf-secret-dir)] fw=[$(ls /sys/firmware)]"
		(echo x > /cf-ro-dir/f) 2>&1; (echo 1 > /proc/sys/kernel/shmmax) 2>&1; echo end'
echo hidden > "$B/rootfs/etc/cf-secret"
mkdir -p "$B/rootfs/cf-secret-dir" "$B/rootfs/cf-ro-dir" && echo hidden > "$B/rootfs/cf-secret-dir/f"
cf_run "$B"
check runtime.md#L113 "maskedPaths: a file reads empty (/etc/cf-secret)" eval 'grep -q "secret=\[\]" <<<"$OUT"'
check runtime.md#L113 "maskedPaths: directories appear empty (/cf-secret-dir, /sys/firmware)" eval 'grep -q "dir=\[\] fw=\[\]" <<<"$OUT"'
check runtime.md#L113 "readonlyPaths: /cf-ro-dir and /proc/sys are read-only" \
	eval '[ "$(grep -c "Read-only file system" <<<"$OUT")" -ge 2 ] && [ ! -e "$B/rootfs/cf-ro-dir/f" ]'
cf_bundle "$B" '.linux.maskedPaths += ["proc/kcore"]'
check_create_fails config-linux.md#L1068 "a relative maskedPaths entry is an error" "$B"
cf_bundle "$B" '.linux.readonlyPaths += ["proc/sys"]'
check_create_fails config-linux.md#L1081 "a relative readonlyPaths entry is an error" "$B"

# ---- rootfsPropagation, mountLabel -----------------------------------------------------------------------
for p in shared slave private unbindable; do
	cf_bundle "$B" ".linux.rootfsPropagation = \"$p\"" $SH -c 'cat /proc/self/mountinfo'
	cf_run "$B"
	opt=$(mi_optional "$OUT" /)
	case $p in
	shared) ok_=$([[ "$opt" == *shared:* ]] && echo 1) ;;
	slave) ok_=$([[ "$opt" == *master:* && "$opt" != *shared:* ]] && echo 1) ;;
	private) ok_=$([[ "$opt" != *shared:* && "$opt" != *master:* ]] && echo 1) ;;
	unbindable) ok_=$([[ "$opt" == *unbindable* ]] && echo 1) ;;
	esac
	check runtime.md#L113 "rootfsPropagation=$p is the propagation of / in the container ($opt)" eval '[ "$RC" = 0 ] && [ "${ok_:-}" = 1 ]'
done
cf_bundle "$B" '.linux.rootfsPropagation = "cf-bogus"'
check_create_fails config.md#L759 "an unknown rootfsPropagation is an error" "$B"
cf_bundle "$B" 'del(.linux.mountLabel) | del(.process.selinuxLabel) | del(.process.apparmorProfile)' $SH -c 'echo fine'
cf_run "$B"
check runtime.md#L113 "no mountLabel / selinuxLabel / apparmorProfile: the container runs unlabelled" [ "$OUT" = fine ]

# ---- personality -------------------------------------------------------------------------------------------
if [ "$(uname -m)" = x86_64 ]; then
	cf_bundle "$B" '.linux.personality = {domain: "LINUX32"}' $SH -c 'uname -m'
	cf_run "$B"
	check runtime.md#L113 "personality LINUX32: uname -m says i686 ($OUT)" [ "$OUT" = i686 ]
else
	skip runtime.md#L113 "personality LINUX32" "not an x86_64 host"
fi
cf_bundle "$B" '.linux.personality = {domain: "LINUX"}' $SH -c 'uname -m'
cf_run "$B"
check runtime.md#L113 "personality LINUX: native machine ($OUT)" [ "$OUT" = "$(uname -m)" ]
cf_bundle "$B" '.linux.personality = {domain: "CF_BOGUS"}'
check_create_fails config-linux.md#L1108 "an unknown personality domain is an error" "$B"
cf_bundle "$B" '.linux.personality = {flags: []}'
check_create_fails config-linux.md#L1108 "a personality without domain is an error (REQUIRED)" "$B"

# ---- memoryPolicy ----------------------------------------------------------------------------------------------
cf_bundle "$B" '.linux.memoryPolicy = {mode: "MPOL_BIND", nodes: "0"}' $SH -c 'grep -c "bind:0" /proc/self/numa_maps'
cf_run "$B"
check runtime.md#L113 "memoryPolicy MPOL_BIND nodes 0 is the process memory policy (numa_maps bind:0)" eval '[ "$RC" = 0 ] && [ "${OUT:-0}" -gt 0 ]'
cf_bundle "$B" '.linux.memoryPolicy = {nodes: "0"}'
check_create_fails config-linux.md#L826 "a memoryPolicy without mode is an error (REQUIRED)" "$B"
cf_bundle "$B" '.linux.memoryPolicy = {mode: "MPOL_CF_BOGUS"}'
check_create_fails config.md#L759 "an unknown memoryPolicy mode is an error" "$B"

# ---- intelRdt without resctrl ----------------------------------------------------------------------------------
if grep -q ' resctrl ' /proc/mounts; then
	skip config-linux.md#L740 "intelRdt without a mounted resctrl is an error" "resctrl is mounted on this host"
else
	cf_bundle "$B" '.linux.intelRdt = {closID: "cf-clos"}'
	check_create_fails config-linux.md#L740 "intelRdt without a mounted resctrl filesystem is an error" "$B"
fi

cf_done
