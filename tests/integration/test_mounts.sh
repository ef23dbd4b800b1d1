#!/bin/bash
# test_mounts.sh — the container's filesystem view, checked from inside:
# config mounts with their flags (/proc/self/mountinfo), default and
# configured devices, /dev symlinks, masked and read-only paths, read-only
# root, rootfsPropagation, bind mounts (ro, rro, propagation, file, relative
# source), tmpfs options and tmpcopyup, --no-pivot.
# Env: HULL (default build/hull).  Runs as root.
set -uo pipefail
. "$(dirname "$0")/../lib/mount-helpers.sh"
mh_init test_mounts "$0" "$@"

B=$WORK/b

# ---- default mounts ---------------------------------------------------------
mh_bundle "$B" . /bin/cat /proc/self/mountinfo
mh_run "$B"
MI=$OUT
check "run prints mountinfo" [ "$RC" = 0 ]
check "/proc is procfs" [ "$(mi_fstype "$MI" /proc)" = proc ]
O=$(mi_opts "$MI" /dev) S=$(mi_sbopts "$MI" /dev)
check "/dev is tmpfs nosuid, mode=755, size=65536k ($O / $S)" \
	eval '[ "$(mi_fstype "$MI" /dev)" = tmpfs ] && has_opt "$O" nosuid && has_opt "$S" mode=755 && has_opt "$S" size=65536k'
O=$(mi_opts "$MI" /dev/pts) S=$(mi_sbopts "$MI" /dev/pts)
check "/dev/pts is devpts nosuid,noexec ptmxmode=666 mode=620 gid=5 ($O / $S)" \
	eval '[ "$(mi_fstype "$MI" /dev/pts)" = devpts ] && has_opt "$O" nosuid && has_opt "$O" noexec && has_opt "$S" ptmxmode=666 && has_opt "$S" mode=620 && has_opt "$S" gid=5'
O=$(mi_opts "$MI" /dev/shm)
check "/dev/shm is tmpfs nosuid,nodev,noexec ($O)" eval '[ "$(mi_fstype "$MI" /dev/shm)" = tmpfs ] && has_opt "$O" nosuid && has_opt "$O" nodev && has_opt "$O" noexec'
check "/dev/mqueue is mqueue" [ "$(mi_fstype "$MI" /dev/mqueue)" = mqueue ]
O=$(mi_opts "$MI" /sys)
check "/sys is sysfs ro,nosuid,nodev,noexec ($O)" eval '[ "$(mi_fstype "$MI" /sys)" = sysfs ] && has_opt "$O" ro && has_opt "$O" nosuid && has_opt "$O" nodev && has_opt "$O" noexec'
check "/sys/fs/cgroup is mounted" [ -n "$(mi_line "$MI" /sys/fs/cgroup)$(printf '%s\n' "$MI" | awk '$5 ~ "^/sys/fs/cgroup/"' | head -1)" ]
check "root is read-only (root.readonly=true)" has_opt "$(mi_opts "$MI" /)" ro

# ---- devices ----------------------------------------------------------------
mh_bundle "$B" '.linux.devices = [
	{path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 384, uid: 0, gid: 0},
	{path: "/dev/loopx", type: "b", major: 7, minor: 200, fileMode: 416, uid: 0, gid: 6},
	{path: "/mydev/zero2", type: "c", major: 1, minor: 5},
	{path: "/dev/fifo0", type: "p"} ]' \
	/bin/sh -c 'for d in null zero full random urandom tty fuse loopx fifo0; do stat -c "%n %F %t:%T %a %u:%g" /dev/$d; done
		stat -c "%n %F %t:%T" /mydev/zero2; for l in fd stdin stdout stderr ptmx; do echo "$l -> $(readlink /dev/$l)"; done
		stat -c "%n %F %t:%T %a" /dev/pts/ptmx'
mh_run "$B"
DEV=$OUT
dev_is() { grep -qx -- "$1" <<<"$DEV"; }
check "devices: container ran" [ "$RC" = 0 ]
check "/dev/null c 1:3 0666" dev_is "/dev/null character special file 1:3 666 0:0"
check "/dev/zero c 1:5 0666" dev_is "/dev/zero character special file 1:5 666 0:0"
check "/dev/full c 1:7 0666" dev_is "/dev/full character special file 1:7 666 0:0"
check "/dev/random c 1:8 0666" dev_is "/dev/random character special file 1:8 666 0:0"
check "/dev/urandom c 1:9 0666" dev_is "/dev/urandom character special file 1:9 666 0:0"
check "/dev/tty c 5:0 0666" dev_is "/dev/tty character special file 5:0 666 0:0"
check "linux.devices /dev/fuse c 10:229 0600 (hex %t:%T = a:e5)" dev_is "/dev/fuse character special file a:e5 600 0:0"
check "linux.devices /dev/loopx b 7:200 0640 gid 6" dev_is "/dev/loopx block special file 7:c8 640 0:6"
check "linux.devices outside /dev: /mydev/zero2" dev_is "/mydev/zero2 character special file 1:5"
check "linux.devices fifo" eval 'grep -q "^/dev/fifo0 fifo" <<<"$DEV"'
check "/dev/fd -> /proc/self/fd" dev_is "fd -> /proc/self/fd"
check "/dev/stdin,stdout,stderr -> /proc/self/fd/0,1,2" eval 'dev_is "stdin -> /proc/self/fd/0" && dev_is "stdout -> /proc/self/fd/1" && dev_is "stderr -> /proc/self/fd/2"'
check "/dev/ptmx -> pts/ptmx" dev_is "ptmx -> pts/ptmx"
check "/dev/pts/ptmx is 5:2 mode 666" dev_is "/dev/pts/ptmx character special file 5:2 666"

# a config device that conflicts with an existing file is an error (spec MUST)
mh_bundle "$B" '.linux.devices = [ {path: "/etc/passwd", type: "c", major: 1, minor: 3} ]'
mh_run "$B"
check "linux.devices over an existing regular file fails with a message naming it" \
	eval '[ "$RC" != 0 ] && grep -q "linux.devices\[0\]" <<<"$ERR"'

# ---- masked and read-only paths ----------------------------------------------
mh_bundle "$B" '.linux.maskedPaths += ["/etc/hostname", "/etc/hull-missing"]' /bin/sh -c '
	echo "keys=[$(cat /proc/keys 2>&1)]"; stat -c "keysdev=%t:%T" /proc/keys
	echo "acpi=[$(ls -A /proc/acpi 2>&1)]"; touch /proc/acpi/x 2>/dev/null && echo acpi-writable
	echo "fw=[$(ls -A /sys/firmware 2>&1)]"
	echo "hostname=[$(cat /etc/hostname)]"
	sh -c "echo x > /proc/sys/kernel/domainname" 2>/dev/null && echo sys-writable
	sh -c "echo x > /proc/sysrq-trigger" 2>/dev/null && echo sysrq-writable
	umount /proc/keys 2>/dev/null && echo unmasked
	umount -l /proc/keys 2>/dev/null && echo unmasked
	echo "keys2=[$(cat /proc/keys 2>&1)]"
	cat /proc/self/mountinfo'
mh_run "$B"
check "masked file /proc/keys reads empty" eval 'grep -qx "keys=\[\]" <<<"$OUT"'
check "masked file is the null device" eval 'grep -qx "keysdev=1:3" <<<"$OUT"'
if [ -d /proc/acpi ]; then
	check "masked dir /proc/acpi is an empty read-only tmpfs" eval 'grep -qx "acpi=\[\]" <<<"$OUT" && ! grep -q acpi-writable <<<"$OUT" && [ "$(mi_fstype "$OUT" /proc/acpi)" = tmpfs ] && has_opt "$(mi_opts "$OUT" /proc/acpi)" ro'
else
	skip "no /proc/acpi on this kernel"
fi
check "masked dir /sys/firmware is empty" eval 'grep -qx "fw=\[\]" <<<"$OUT"'
check "masked image file /etc/hostname reads empty; missing masked path ignored" eval 'grep -qx "hostname=\[\]" <<<"$OUT"'
check "/proc/sys is read-only" eval '! grep -q sys-writable <<<"$OUT" && has_opt "$(mi_opts "$OUT" /proc/sys)" ro'
if [ -e /proc/sysrq-trigger ]; then
	check "/proc/sysrq-trigger is read-only" eval '! grep -q sysrq-writable <<<"$OUT" && has_opt "$(mi_opts "$OUT" /proc/sysrq-trigger)" ro'
else
	skip "no /proc/sysrq-trigger on this kernel"
fi
check "a masked path cannot be unmounted from inside" eval '! grep -q unmasked <<<"$OUT" && grep -qx "keys2=\[\]" <<<"$OUT"'
O=$(mi_opts "$OUT" /sys/firmware)
check "masked tmpfs is ro,nosuid,nodev,noexec ($O)" eval 'has_opt "$O" ro && has_opt "$O" nosuid && has_opt "$O" nodev && has_opt "$O" noexec'

# readonly path keeps the flags of the mount below it
mh_bundle "$B" '.mounts += [{destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["nosuid","nodev","noexec"]}]
	| .linux.readonlyPaths += ["/scratch", "/etc/hosts"] | .root.readonly = false' \
	/bin/sh -c 'touch /etc/hosts 2>/dev/null && echo hosts-writable; cat /proc/self/mountinfo'
mh_run "$B"
O=$(mi_opts "$OUT" /scratch)
check "readonlyPaths: ro and keeps nosuid,nodev,noexec ($O)" eval 'has_opt "$O" ro && has_opt "$O" nosuid && has_opt "$O" nodev && has_opt "$O" noexec'
check "readonlyPaths on a file: /etc/hosts is a read-only bind" eval 'has_opt "$(mi_opts "$OUT" /etc/hosts)" ro && ! grep -q hosts-writable <<<"$OUT"'

# ---- read-only root ----------------------------------------------------------
mh_bundle "$B" '.root.readonly = false' /bin/sh -c 'touch /rw-test && echo wrote'
mh_run "$B"
check "root.readonly=false: / is writable" eval 'grep -qx wrote <<<"$OUT"'
mh_bundle "$B" '.root.readonly = true' /bin/sh -c 'touch /rw-test 2>&1; echo rc=$?'
mh_run "$B"
check "root.readonly=true: writing / fails with EROFS" eval 'grep -q "Read-only file system" <<<"$OUT" && [ ! -e "$B/rootfs/rw-test" ]'

# ---- tmpfs options and tmpcopyup ----------------------------------------------
mh_bundle "$B" '.mounts += [
	{destination: "/scratch", type: "tmpfs", source: "tmpfs", options: ["nosuid","nodev","noexec","mode=1700","size=1m","uid=1","gid=1"]},
	{destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["tmpcopyup","mode=755"]},
	{destination: "tmp-rel", type: "tmpfs", source: "tmpfs"} ]' \
	/bin/sh -c 'stat -c "%a %u:%g" /scratch; cat /etc/passwd | head -1; cat /proc/self/mountinfo'
mh_run "$B"
O=$(mi_opts "$OUT" /scratch) S=$(mi_sbopts "$OUT" /scratch)
check "tmpfs flags nosuid,nodev,noexec ($O)" eval 'has_opt "$O" nosuid && has_opt "$O" nodev && has_opt "$O" noexec'
check "tmpfs data size=1m mode=1700 uid=1 gid=1 ($S)" eval 'has_opt "$S" size=1024k && has_opt "$S" mode=1700 && grep -qx "1700 1:1" <<<"$OUT"'
check "tmpcopyup: /etc is tmpfs with the image's files" eval '[ "$(mi_fstype "$OUT" /etc)" = tmpfs ] && grep -q "^root:x:0:0"' <<<"$OUT"
check "relative destination is relative to /" [ "$(mi_fstype "$OUT" /tmp-rel)" = tmpfs ]

# ---- another filesystem type with data: overlay ------------------------------------
OV=$WORK/ov
mkdir -p "$OV/lower" "$OV/upper" "$OV/work" && echo low > "$OV/lower/l"
export OV
mh_bundle "$B" '.mounts += [{destination: "/ov", type: "overlay", source: "overlay",
	options: ["nodev", "lowerdir=\(env.OV)/lower", "upperdir=\(env.OV)/upper", "workdir=\(env.OV)/work"]}]' \
	/bin/sh -c 'cat /ov/l && echo up > /ov/u && cat /proc/self/mountinfo'
mh_run "$B"
check "overlay mount with lowerdir/upperdir/workdir data" \
	eval '[ "$RC" = 0 ] && [ "$(mi_fstype "$OUT" /ov)" = overlay ] && has_opt "$(mi_opts "$OUT" /ov)" nodev && [ "$(cat "$OV/upper/u")" = up ]'

# ---- bind mounts ---------------------------------------------------------------
H=$WORK/hostdata
export H SINGLE=$WORK/single
mkdir -p "$H/sub" && echo hello > "$H/file" && echo single > "$SINGLE"
mount -t tmpfs subtmp "$H/sub" && echo insub > "$H/sub/f"
mh_bundle "$B" '.mounts += [
	{destination: "/ro", type: "bind", source: env.H, options: ["rbind","ro"]},
	{destination: "/rro", type: "bind", source: env.H, options: ["rbind","rro"]},
	{destination: "/rw", type: "none", source: env.H, options: ["bind","rw"]},
	{destination: "/etc/single", type: "bind", source: env.SINGLE, options: ["bind","ro"]},
	{destination: "/rel", type: "bind", source: "reldata", options: ["rbind"]},
	{destination: "/shared", type: "bind", source: env.H, options: ["rbind","rshared"]},
	{destination: "/private", type: "bind", source: env.H, options: ["rbind","rprivate"]} ]' \
	/bin/sh -c 'cat /ro/file /etc/single /rel/x /ro/sub/f; touch /ro/new 2>/dev/null && echo ro-writable
		touch /ro/sub/new 2>/dev/null && echo rosub-writable
		touch /rro/sub/new2 2>/dev/null && echo rrosub-writable
		sh -c "echo w > /rw/fromc" && echo rw-ok; cat /proc/self/mountinfo'
mkdir -p "$B/reldata" && echo relative > "$B/reldata/x"
mh_run "$B"
check "bind: container ran" [ "$RC" = 0 ]
check "bind ro: host file readable, single-file bind, relative source (bundle-relative)" \
	eval 'printf "%s\n" "$OUT" | head -4 | tr "\n" " " | grep -qx "hello single relative insub "'
check "bind ro: top is read-only" eval '! grep -q "^ro-writable" <<<"$OUT" && has_opt "$(mi_opts "$OUT" /ro)" ro'
check "rbind ro (non-recursive ro): submount stays writable" eval 'grep -q "^rosub-writable" <<<"$OUT"'
check "rbind rro: submount is read-only too" eval '! grep -q "^rrosub-writable" <<<"$OUT" && has_opt "$(mi_opts "$OUT" /rro/sub)" ro'
check "bind rw: write reaches the host" eval 'grep -q "^rw-ok" <<<"$OUT" && [ "$(cat "$H/fromc")" = w ]'
check "single-file bind is ro" has_opt "$(mi_opts "$OUT" /etc/single)" ro
check "rshared bind mount has a shared: peer group" eval 'mi_optional "$OUT" /shared | grep -q "shared:"'
check "rprivate bind mount has no propagation fields" [ -z "$(mi_optional "$OUT" /private | tr -d ' ')" ]
rm -f "$H/fromc"

mh_bundle "$B" '.mounts += [{destination: "/nope", type: "bind", source: "/nonexistent-hull-src", options: ["rbind"]}]'
mh_run "$B"
check "missing bind source: one error line naming the mount" \
	eval '[ "$RC" != 0 ] && grep -q "mounts\[7\].*nonexistent-hull-src" <<<"$ERR"'

# ---- idmapped bind mounts ---------------------------------------------------------
chown 0:0 "$H/file"
mh_bundle "$B" '.mounts += [
	{destination: "/id", type: "bind", source: env.H, options: ["bind","idmap"],
	 uidMappings: [{containerID: 0, hostID: 1000, size: 1}], gidMappings: [{containerID: 0, hostID: 1001, size: 1}]},
	{destination: "/rid", type: "bind", source: env.H, options: ["rbind","ridmap"],
	 uidMappings: [{containerID: 0, hostID: 2000, size: 1}], gidMappings: [{containerID: 0, hostID: 2000, size: 1}]} ]' \
	/bin/sh -c 'stat -c "id=%u:%g" /id/file; stat -c "rid=%u:%g" /rid/file; cat /proc/self/mountinfo'
mh_run "$B"
check "idmap: on-disk 0:0 shows as the mapped 1000:1001" eval 'grep -qx "id=1000:1001" <<<"$OUT" && printf "%s" "$(mi_opts "$OUT" /id)" | grep -q idmapped'
check "ridmap: the submount is idmapped too" eval 'grep -qx "rid=2000:2000" <<<"$OUT" && printf "%s" "$(mi_opts "$OUT" /rid/sub)" | grep -q idmapped'
mh_bundle "$B" '.mounts += [{destination: "/id", type: "bind", source: env.H, options: ["bind","idmap"]}]'
mh_run "$B"
check "idmap without mappings and without a user namespace: an error naming the mount" \
	eval '[ "$RC" != 0 ] && grep -q "mounts\[7\].*idmap" <<<"$ERR"'

# ---- rootfsPropagation ------------------------------------------------------------
for p in shared slave private unbindable; do
	mh_bundle "$B" ".linux.rootfsPropagation = \"$p\"" /bin/cat /proc/self/mountinfo
	mh_run "$B"
	F=$(mi_optional "$OUT" /)
	case $p in
		shared) check "rootfsPropagation=shared: / has shared: ($F)" eval '[ "$RC" = 0 ] && grep -q "shared:" <<<"$F"' ;;
		slave) check "rootfsPropagation=slave: / has master: and no shared: ($F)" eval '[ "$RC" = 0 ] && grep -q "master:" <<<"$F" && ! grep -q "shared:" <<<"$F"' ;;
		private) check "rootfsPropagation=private: / has no propagation fields ($F)" eval '[ "$RC" = 0 ] && [ -z "$(printf "%s" "$F" | tr -d " ")" ]' ;;
		unbindable) check "rootfsPropagation=unbindable: / is unbindable ($F)" eval '[ "$RC" = 0 ] && grep -q unbindable <<<"$F"' ;;
	esac
done
# without rootfsPropagation the container's / is a slave: host mounts arrive,
# container mounts never leave
mh_bundle "$B" '.' /bin/cat /proc/self/mountinfo
mh_run "$B"
F=$(mi_optional "$OUT" /)
check "default propagation of /: slave of the host, not shared ($F)" eval 'grep -q "master:" <<<"$F" && ! grep -q "shared:" <<<"$F"'

# ---- --no-pivot ---------------------------------------------------------------
mh_bundle "$B" '.' /bin/sh -c 'cat /etc/hostname; ls /proc/1/root/bin/busybox >/dev/null && echo rootok'
mh_run "$B" --no-pivot
check "--no-pivot: runs with the rootfs as /" eval '[ "$RC" = 0 ] && grep -qx hull <<<"$OUT" && grep -qx rootok <<<"$OUT"'

# ---- user namespace: no mknod, device nodes are binds of the host's ----------------
if [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ]; then
	mh_bundle "$B" '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]
		| .linux.devices = [{path: "/dev/fuse", type: "c", major: 10, minor: 229}]' \
		/bin/sh -c 'stat -c "%n %t:%T" /dev/null /dev/tty /dev/fuse; echo x > /dev/null && echo null-ok
			echo "keys=[$(cat /proc/keys)]"; cat /proc/self/mountinfo'
	chown -R 200000:200000 "$B/rootfs"
	mh_run "$B"
	check "userns: container runs" [ "$RC" = 0 ]
	check "userns: /dev/null, /dev/tty, linux.devices are the host's nodes, bind-mounted" \
		eval 'grep -qx "/dev/null 1:3" <<<"$OUT" && grep -qx "/dev/tty 5:0" <<<"$OUT" && grep -qx "/dev/fuse a:e5" <<<"$OUT" && [ -n "$(mi_line "$OUT" /dev/null)" ] && [ -n "$(mi_line "$OUT" /dev/fuse)" ] && grep -qx null-ok <<<"$OUT"'
	check "userns: masked paths still masked" eval 'grep -qx "keys=\[\]" <<<"$OUT"'
	check "userns: sysfs and mqueue present" eval '[ -n "$(mi_line "$OUT" /sys)" ] && [ -n "$(mi_line "$OUT" /dev/mqueue)" ]'
else
	skip "user namespaces disabled on this host"
fi

# ---- nothing leaked to the (test's) host ------------------------------------------
check "no container mount is left in the host namespace" \
	eval '! grep -q " $WORK/b/rootfs" /proc/self/mountinfo'

mh_done
