#!/bin/bash
# test_cve_2024_21626.sh — no host fd reaches the container, and a working
# directory reached through a /proc fd directory is refused.
#
# runc leaked an fd on a host directory into the container init; a config with
# cwd /proc/self/fd/N (or a path that resolves there) then started the process
# in a host directory.  Here the test itself plays the leaked fd: hull is
# started with fd 7 open on a host directory holding HOSTSECRET, and with fd 3
# open on a file for --preserve-fds.
#   - the container's fds are 0-2 (plus 3 with --preserve-fds 1), for run and exec
#   - cwd "/proc/self/fd/7" is refused (the string check)
#   - cwd "/leak", a symlink in the rootfs to /proc/self/fd/7, is refused
#     (the check after chdir: the directory is outside the container root)
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_cve_2024_21626 "$0" "$@"

B=$WORK/b
OUT=
mkdir -p "$WORK/hostdir"
echo x > "$WORK/hostdir/HOSTSECRET"
echo preserved > "$WORK/preserved"
exec 7<"$WORK/hostdir"

fds_of_shell='ls /proc/$$/fd; true'   # two commands: sh must not exec ls itself

# ---- fds -----------------------------------------------------------------------
mh_bundle "$B" . /bin/sh -c "$fds_of_shell"
sec_run "$B"
check "run: the process has fds 0 1 2 only (host fd 7 and hull's own fds stay out)" [ "$RC" = 0 -a "$(echo $OUT)" = "0 1 2" ]

mh_bundle "$B" . /bin/sh -c "$fds_of_shell; cat /proc/self/fd/3"
exec 3<"$WORK/preserved"
sec_run "$B" --preserve-fds 1
exec 3<&-
check "run --preserve-fds 1: fds 0 1 2 3, and 3 is the preserved file" \
	[ "$RC" = 0 -a "$(echo $OUT)" = "0 1 2 3 preserved" ]

# ---- cwd -------------------------------------------------------------------------
mh_bundle "$B" '.process.cwd = "/proc/self/fd/7"' /bin/ls
sec_run "$B"
check "run: cwd /proc/self/fd/7 is refused" eval '[ "$RC" != 0 ] && grep -q "process.cwd" <<<"$ERR"'
check "run: cwd /proc/self/fd/7 shows nothing of the host" eval '! grep -q HOSTSECRET <<<"$OUT"'

mh_bundle "$B" '.process.cwd = "/leak"' /bin/ls
ln -s /proc/self/fd/7 "$B/rootfs/leak"
sec_run "$B"
check "run: cwd through a rootfs symlink to /proc/self/fd/7 is refused" \
	eval '[ "$RC" != 0 ] && grep -q "process.cwd" <<<"$ERR"'
check "run: the symlinked cwd shows nothing of the host" eval '! grep -q HOSTSECRET <<<"$OUT"'

mh_bundle "$B" '.process.cwd = "/tmp"' /bin/sh -c 'pwd'
sec_run "$B"
check "run: an ordinary cwd still works" [ "$RC" = 0 -a "$OUT" = /tmp ]

# ---- exec --------------------------------------------------------------------------
mh_bundle "$B" . /bin/sleep 60
ln -s /proc/self/fd/7 "$B/rootfs/leak"
ID=cve21626-$$
sec_start "$B" "$ID"
check "start a container for exec" [ "$RC" = 0 ]
sec_exec "$ID" /bin/sh -c "$fds_of_shell"
check "exec: the process has fds 0 1 2 only" [ "$RC" = 0 -a "$(echo $OUT)" = "0 1 2" ]
sec_exec --cwd /proc/self/fd/7 "$ID" /bin/ls
check "exec --cwd /proc/self/fd/7 is refused" \
	eval '[ "$RC" != 0 ] && ! grep -q HOSTSECRET <<<"$OUT" && grep -q cwd <<<"$ERR"'
sec_exec --cwd /leak "$ID" /bin/ls
check "exec --cwd through a symlink to /proc/self/fd/7 is refused" \
	eval '[ "$RC" != 0 ] && ! grep -q HOSTSECRET <<<"$OUT" && grep -q cwd <<<"$ERR"'
sec_rm "$ID"

exec 7<&-
mh_done
