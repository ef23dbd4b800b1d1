#!/bin/bash
# test_mount_escapes.sh — mount-related runtime CVE classes, each with an
# image or config that tries to make hull mount, create or bind outside the
# rootfs, or bind something other than what it means to:
#   - destination "../../.." and climbing symlinks in the image
#   - absolute symlink in the image pointing at a host directory
#   - destination through /proc/self/root (a magic link to the host's /)
#   - symlink/directory swap race on a destination (CVE-2021-30465)
#   - /dev/null in the image a symlink to a procfs file + maskedPaths (CVE-2025-31133)
#   - /proc or /sys in the image a symlink (CVE-2019-16884, CVE-2025-52881 class)
#   - mounts over /proc files that the runtime or kernel writes through
#   - device paths with ".." (linux.devices)
# Env: HULL (default build/hull).  Runs as root.
set -uo pipefail
. "$(dirname "$0")/../lib/mount-helpers.sh"
mh_init test_mount_escapes "$0" "$@"

B=$WORK/b
HT=$WORK/host-target          # a host directory no container may touch
mkdir -p "$HT" && echo host > "$HT/marker"
export HT
host_untouched() { [ "$(ls -A "$HT")" = marker ] && [ "$(cat "$HT/marker")" = host ]; }

# ---- ".." in the destination -----------------------------------------------------
name=hull-esc-$$
mh_bundle "$B" ".mounts += [{destination: \"/../../../../../../../etc/$name\", type: \"tmpfs\", source: \"tmpfs\"}]" \
	/bin/sh -c "stat -f -c %T /etc/$name"
mh_run "$B"
check "destination ../../etc: mounted inside the container" eval '[ "$RC" = 0 ] && [ "$OUT" = tmpfs ]'
check "destination ../../etc: nothing created on the host" [ ! -e "/etc/$name" ]

# ---- absolute symlink in the image -> host directory -----------------------------------
mh_bundle "$B" '.mounts += [{destination: "/lnk/sub", type: "tmpfs", source: "tmpfs"}]' \
	/bin/sh -c 'stat -f -c %T /lnk/sub'
ln -s "$HT" "$B/rootfs/lnk"
mh_run "$B"
check "absolute image symlink: the mount lands at the in-root target" eval '[ "$RC" = 0 ] && [ "$OUT" = tmpfs ] && [ -d "$B/rootfs$HT/sub" ]'
check "absolute image symlink: host directory untouched" host_untouched

# ---- relative symlink climbing out ----------------------------------------------------
mh_bundle "$B" '.mounts += [{destination: "/up/sub", type: "bind", source: "/etc", options: ["rbind","ro"]}]' \
	/bin/sh -c 'ls /up/sub/passwd >/dev/null && echo seen'
ln -s "../../../../../../../../..$HT" "$B/rootfs/up"
mh_run "$B"
check "climbing image symlink: bind lands in the rootfs" eval '[ "$RC" = 0 ] && [ "$OUT" = seen ] && [ -d "$B/rootfs$HT/sub" ]'
check "climbing image symlink: host directory untouched" host_untouched

# ---- bind source inside the rootfs, symlinked by the image to a host file -----------------
mh_bundle "$B" '.mounts += [{destination: "/leak", type: "bind", source: "rootfs/evilsrc", options: ["bind","ro"]}]' \
	/bin/cat /leak
ln -s "$HT/marker" "$B/rootfs/evilsrc"
mh_run "$B"
check "bind source in the rootfs is resolved inside it: the host file is not bound in" \
	eval '! grep -qx host <<<"$OUT" && grep -q "mounts\[7\]" <<<"$ERR"'
mkdir -p "$B/rootfs$HT" && echo image > "$B/rootfs$HT/marker"
mh_run "$B"
check "... and its in-root target is what gets bound" eval '[ "$RC" = 0 ] && [ "$OUT" = image ]'

# ---- /proc/self/root: a magic link to the runtime's / ------------------------------------
mh_bundle "$B" '.mounts += [{destination: "/proc/self/root/\(env.HT | ltrimstr("/"))/magic", type: "tmpfs", source: "tmpfs"}]'
mh_run "$B"
check "destination through /proc/self/root: refused, host untouched" eval '[ "$RC" != 0 ] && host_untouched'
check "destination through /proc/self/root: error names the mount" eval 'grep -q "mounts\[7\]" <<<"$ERR"'

# ---- mounts over /proc files the kernel/runtime write through ------------------------------
mh_bundle "$B" '.mounts += [{destination: "/proc/sys/kernel/core_pattern", type: "bind", source: "/etc/hostname", options: ["bind"]}]'
mh_run "$B"
check "bind over /proc/sys/kernel/core_pattern is refused" eval '[ "$RC" != 0 ] && grep -q "only procfs may be mounted on /proc" <<<"$ERR"'
mh_bundle "$B" '.mounts += [{destination: "/proc", type: "tmpfs", source: "tmpfs"}]'
mh_run "$B"
check "tmpfs over /proc is refused" eval '[ "$RC" != 0 ]'
mh_bundle "$B" '.mounts += [{destination: "/proc/uptime", type: "bind", source: "/etc/hostname", options: ["bind","ro"]}]' /bin/cat /proc/uptime
mh_run "$B"
check "bind over /proc/uptime (lxcfs-style) is allowed" eval '[ "$RC" = 0 ] && [ "$OUT" = "$(cat /etc/hostname)" ]'

# the same through an image symlink to /proc (CVE-2025-52881 class)
mh_bundle "$B" '.mounts += [{destination: "/myproc/sys/kernel/core_pattern", type: "bind", source: "/etc/hostname", options: ["bind"]}]'
ln -s /proc "$B/rootfs/myproc"
mh_run "$B"
check "bind over procfs through an image symlink (/myproc -> /proc) is refused" \
	eval '[ "$RC" != 0 ] && grep -q "procfs" <<<"$ERR"'
mh_bundle "$B" '.mounts += [{destination: "/myproc/self/attr", type: "tmpfs", source: "tmpfs"}]'
ln -s /proc "$B/rootfs/myproc"
mh_run "$B"
check "tmpfs over /proc/self/attr through an image symlink is refused" \
	eval '[ "$RC" != 0 ] && grep -q "procfs" <<<"$ERR"'

# ---- symlink swap race on a destination (CVE-2021-30465) ----------------------------------
# A host-side "attacker" keeps exchanging rootfs/race/d (a directory) with
# rootfs/race/l (a symlink to the host directory) while containers mount
# tmpfs at /race/d/sub.  Whatever wins, nothing may appear in the host dir.
mh_bundle "$B" '.mounts += [{destination: "/race/d/sub", type: "tmpfs", source: "tmpfs"}]'
mkdir -p "$B/rootfs/race/d"
ln -s "$HT" "$B/rootfs/race/l"
python3 - "$B/rootfs/race/d" "$B/rootfs/race/l" <<'EOF' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b = (p.encode() for p in sys.argv[1:3])
end = time.time() + 120
while time.time() < end and os.getppid() != 1:
    for _ in range(2000):
        libc.renameat2(-100, a, -100, b, 2)   # AT_FDCWD, RENAME_EXCHANGE
EOF
FLIP=$!
runs=0 fails=0
for i in $(seq 1 25); do
	mh_run "$B"
	runs=$((runs + 1))
	[ "$RC" = 0 ] || fails=$((fails + 1))
done
kill "$FLIP" 2>/dev/null; wait "$FLIP" 2>/dev/null
check "swap race: $runs containers ($fails refused), host directory untouched" host_untouched
check "swap race: the mount target was created inside the rootfs only" \
	eval '[ -d "$B/rootfs/race/d/sub" ] || [ -d "$B/rootfs/race/l/sub" ] || [ -d "$B/rootfs$HT/sub" ]'

# ---- /dev/null symlink in the image + maskedPaths (CVE-2025-31133) -----------------------------
# No /dev tmpfs: the image's /dev is used, with /dev/null -> core_pattern.
mh_bundle "$B" '.mounts |= map(select(.destination | startswith("/dev") | not))' /bin/sh -c '
	stat -c "null=%F %t:%T" /dev/null; stat -c "keys=%F %t:%T" /proc/keys; echo "content=[$(cat /proc/keys)]"'
rm -rf "$B/rootfs/dev" && mkdir "$B/rootfs/dev"
ln -s /proc/sys/kernel/core_pattern "$B/rootfs/dev/null"
mh_run "$B"
check "/dev/null symlink in the image: replaced by the real device" eval 'grep -qx "null=character special file 1:3" <<<"$OUT"'
check "/dev/null symlink in the image: masked /proc/keys is the null device, empty" \
	eval 'grep -qx "keys=character special file 1:3" <<<"$OUT" && grep -qx "content=\[\]" <<<"$OUT"'

# The same through a shared /dev: bind the bundle's own dev dir (with the
# hostile symlink) as /dev, so hull does not create devices there.
mkdir -p "$WORK/evildev" && rm -f "$WORK/evildev/null" && ln -s /proc/sys/kernel/core_pattern "$WORK/evildev/null"
export EVILDEV=$WORK/evildev
mh_bundle "$B" '.mounts |= map(select(.destination | startswith("/dev") | not))
	| .mounts += [{destination: "/dev", type: "bind", source: env.EVILDEV, options: ["rbind"]}]' \
	/bin/sh -c 'cat /proc/keys'
mh_run "$B"
check "/dev/null not a null device at mask time: refused with a clear error" \
	eval '[ "$RC" != 0 ] && grep -q "not the null device" <<<"$ERR"'

# ---- /dev/console symlink in the image (CVE-2025-52565) ---------------------------------------
# terminal=true with the image's /dev: the container's /dev/console must be
# the pty, and the symlink's target must not be what the pty is bound over.
mh_bundle "$B" '.process.terminal = true | .mounts |= map(select(.destination != "/dev"))' \
	/bin/sh -c 'stat -c "console=%F %t" /dev/console; readlink /dev/console || echo notalink'
rm -rf "$B/rootfs/dev" && mkdir "$B/rootfs/dev"
ln -s /proc/sys/kernel/core_pattern "$B/rootfs/dev/console"
SOCK=$WORK/console.sock
rm -f "$SOCK"
python3 -c '
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(60)
c, _ = s.accept()
msg, anc, _, _ = c.recvmsg(4096, socket.CMSG_SPACE(4))
fds = array.array("i")
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[:4])
out = b""
while True:
    try:
        chunk = os.read(fds[0], 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
' "$SOCK" > "$WORK/console.out" &
RECV=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
mh_run "$B" --console-socket "$SOCK"
wait "$RECV"
CONS=$(cat "$WORK/console.out")
OUT=$CONS
check "/dev/console symlink in the image: /dev/console is the pty (major 136 = 0x88), not a symlink" \
	eval 'grep -qx "console=character special file 88" <<<"$CONS" && grep -qx notalink <<<"$CONS"'

# ---- /proc and /sys symlinks in the image ---------------------------------------------------
mh_bundle "$B" '.' /bin/true
rmdir "$B/rootfs/proc" && mkdir -p "$B/rootfs/fakeproc" && ln -s /fakeproc "$B/rootfs/proc"
mh_run "$B"
check "/proc symlink in the image: refused" eval '[ "$RC" != 0 ] && grep -q "symlink" <<<"$ERR"'
mh_bundle "$B" '.' /bin/true
rmdir "$B/rootfs/sys" && mkdir -p "$B/rootfs/fakesys" && ln -s fakesys "$B/rootfs/sys"
mh_run "$B"
check "/sys symlink in the image: refused" eval '[ "$RC" != 0 ] && grep -q "symlink" <<<"$ERR"'

# ---- device paths ---------------------------------------------------------------------------
dev=hull-evil-$$
mh_bundle "$B" ".linux.devices = [{path: \"/dev/../../../../../../../dev/$dev\", type: \"c\", major: 1, minor: 3}]" \
	/bin/sh -c "stat -c %t:%T /dev/$dev"
mh_run "$B"
check "device path with ..: created inside the container" eval '[ "$RC" = 0 ] && [ "$OUT" = 1:3 ]'
check "device path with ..: nothing created in the host's /dev" [ ! -e "/dev/$dev" ]
mh_bundle "$B" '.linux.devices = [{path: "/lnk/evil", type: "c", major: 1, minor: 3}]' /bin/true
ln -s "$HT" "$B/rootfs/lnk"
mh_run "$B"
check "device under an image symlink to a host dir: host untouched" host_untouched

mh_done
