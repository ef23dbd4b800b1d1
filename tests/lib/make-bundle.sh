#!/bin/bash
# make-bundle.sh DIR [ARG...] — an OCI bundle for hull's tests:
#   DIR/rootfs (see make-rootfs.sh; an existing one is reused, or copied from
#   $ROOTFS_CACHE when set, which is much faster than rebuilding) and
#   DIR/config.json: the same defaults `runc spec` writes (namespaces, mounts,
#   masked and read-only paths, three capabilities), with terminal=false and
#   process.args=ARG... (default /bin/true).  No runc needed.
# Env: READONLY_ROOT=true|false (default true, like runc spec),
#      NO_CGROUP_MOUNT=1 drops the /sys/fs/cgroup mount.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: make-bundle.sh DIR [ARG...]}
shift
[ $# -eq 0 ] && set -- /bin/true
command -v jq >/dev/null || { echo "make-bundle.sh: need jq" >&2; exit 1; }

mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
if [ ! -x "$DIR/rootfs/bin/busybox" ]; then
	if [ -n "${ROOTFS_CACHE:-}" ]; then
		[ -x "$ROOTFS_CACHE/bin/busybox" ] || "$HERE/make-rootfs.sh" "$ROOTFS_CACHE"
		mkdir -p "$DIR/rootfs"
		cp -a "$ROOTFS_CACHE/." "$DIR/rootfs/"
	else
		"$HERE/make-rootfs.sh" "$DIR/rootfs"
	fi
fi

# one --arg per argument keeps it whole (newlines, leading dashes included)
args_json=$(for a in "$@"; do jq -n --arg a "$a" '$a'; done | jq -cs .)
jq -n --argjson args "$args_json" --arg ro "${READONLY_ROOT:-true}" --arg nocg "${NO_CGROUP_MOUNT:-}" '{
	ociVersion: "1.0.2-dev",
	process: {
		terminal: false,
		user: { uid: 0, gid: 0 },
		args: $args,
		env: [ "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm" ],
		cwd: "/",
		capabilities: {
			bounding:  [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			effective: [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			permitted: [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ],
			ambient:   [ "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" ]
		},
		rlimits: [ { type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 } ],
		noNewPrivileges: true
	},
	root: { path: "rootfs", readonly: ($ro == "true") },
	hostname: "hull",
	mounts: ([
		{ destination: "/proc", type: "proc", source: "proc" },
		{ destination: "/dev", type: "tmpfs", source: "tmpfs",
		  options: [ "nosuid", "strictatime", "mode=755", "size=65536k" ] },
		{ destination: "/dev/pts", type: "devpts", source: "devpts",
		  options: [ "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5" ] },
		{ destination: "/dev/shm", type: "tmpfs", source: "shm",
		  options: [ "nosuid", "noexec", "nodev", "mode=1777", "size=65536k" ] },
		{ destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
		  options: [ "nosuid", "noexec", "nodev" ] },
		{ destination: "/sys", type: "sysfs", source: "sysfs",
		  options: [ "nosuid", "noexec", "nodev", "ro" ] }
	] + (if $nocg == "" then [
		{ destination: "/sys/fs/cgroup", type: "cgroup", source: "cgroup",
		  options: [ "nosuid", "noexec", "nodev", "relatime", "ro" ] } ] else [] end)),
	linux: {
		resources: { devices: [ { allow: false, access: "rwm" } ] },
		namespaces: [ { type: "pid" }, { type: "network" }, { type: "ipc" },
			      { type: "uts" }, { type: "mount" } ],
		maskedPaths: [ "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
			       "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
			       "/proc/sched_debug", "/sys/firmware", "/proc/scsi" ],
		readonlyPaths: [ "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger" ]
	}
}' > "$DIR/config.json"
echo "$DIR"
