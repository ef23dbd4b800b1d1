#!/bin/bash
# test_hooks.sh — config.md POSIX-platform hooks and runtime.md lifecycle
# steps 3-13: every hook kind runs, in the listed order, at its point of the
# lifecycle, in the right namespace, with the state on stdin; the path of
# each resolves in the right mount namespace; a failing hook stops the
# container and the lifecycle goes on with destroy + poststop; a failing
# poststop hook is only a warning; invalid hook entries are rejected.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cf_init hooks "$0" "$@"

B=$WORK/b
R=$B/rootfs
HK=$WORK/hooks
mkdir -p "$HK"

# rec.sh NAME OUTDIR: record that NAME ran (order), the state it got on stdin,
# its namespaces, and what it can see of the container at that moment
cat > "$HK/rec.sh" <<'EOF'
#!/bin/sh
name=$1 out=$2
cat > "$out/$name.state"
echo "$name" >> "$out/order"
for n in mnt net uts ipc pid; do echo "$n $(readlink /proc/self/ns/$n)"; done > "$out/$name.ns"
pid=$(sed -n 's/.*"pid": *\([0-9][0-9]*\).*/\1/p' "$out/$name.state")
if [ -n "$pid" ]; then
	readlink "/proc/$pid/exe" > "$out/$name.exe" 2>/dev/null
	cat "/proc/$pid/mountinfo" > "$out/$name.mountinfo" 2>/dev/null
	# a zombie waiting for its reaper is already dead
	st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -c1)
	case "$st" in ''|Z|X) echo dead ;; *) echo alive ;; esac > "$out/$name.alive"
fi
cat /proc/self/mountinfo > "$out/$name.selfmountinfo"
[ -e "$out/process" ] && echo after > "$out/$name.vsprocess" || echo before > "$out/$name.vsprocess"
[ -n "$3" ] && sleep "$3"
exit 0
EOF
chmod 755 "$HK/rec.sh"
printf '#!/bin/sh\nexit 1\n' > "$HK/fail.sh"; chmod 755 "$HK/fail.sh"
SELFNS=$(for n in mnt net uts ipc pid; do echo "$n $(readlink /proc/self/ns/$n)"; done)

# hooks object: two entries per kind; startContainer's path exists only in the rootfs
hooks_json() {  # OUTDIR-HOST
	jq -n --arg rec "$HK/rec.sh" --arg o "$1" '
	def h($n): {path: $rec, args: ["rec.sh", $n, $o]};
	{ prestart: [h("prestart-1"), h("prestart-2")],
	  createRuntime: [h("createRuntime-1"), h("createRuntime-2")],
	  createContainer: [h("createContainer-1"), h("createContainer-2")],
	  startContainer: [{path: "/cf-start-hook.sh", args: ["rec.sh", "startContainer-1", "/out"]},
	                   {path: "/cf-start-hook.sh", args: ["rec.sh", "startContainer-2", "/out"]}],
	  poststart: [{path: $rec, args: ["rec.sh", "poststart-1", $o, "1"]}, h("poststart-2")],
	  poststop: [{path: $rec, args: ["rec.sh", "poststop-1", $o, "1"]}, h("poststop-2")] }'
}

PROG='echo process > /out/process; echo process >> /out/order; sleep 2'
cf_bundle "$B" . /bin/sh -c "$PROG"
cf_out "$B"
cp "$HK/rec.sh" "$R/cf-start-hook.sh"
[ ! -e /cf-start-hook.sh ] || { echo "# /cf-start-hook.sh exists on the host"; }
cf_jq "$B" '.hooks = $h' --argjson h "$(hooks_json "$B/out")"
O=$B/out
ID=hk$$
cf_create "$B" "$ID"
check runtime.md#L62 "create with all hook kinds succeeds" [ "$RC" = 0 ]
PID=$(cf_field "$ID" .pid)
CNS=$(for n in mnt net uts ipc pid; do echo "$n $(readlink /proc/$PID/ns/$n)"; done)
check runtime.md#L62 "prestart hooks ran during create" eval '[ -e "$O/prestart-1.state" ] && [ -e "$O/prestart-2.state" ]'
check runtime.md#L64 "createRuntime hooks ran during create" eval '[ -e "$O/createRuntime-1.state" ] && [ -e "$O/createRuntime-2.state" ]'
check runtime.md#L66 "createContainer hooks ran during create" eval '[ -e "$O/createContainer-1.state" ] && [ -e "$O/createContainer-2.state" ]'
check config.md#L630 "startContainer hooks did not run during create" [ ! -e "$O/startContainer-1.state" ]
cf_start "$ID"
start_rc=$RC
check runtime.md#L69 "startContainer hooks ran during start" eval '[ "$start_rc" = 0 ] && [ -e "$O/startContainer-1.state" ] && [ -e "$O/startContainer-2.state" ]'
check config.md#L638 "poststart hooks ran before start returned (the first one sleeps 1 s)" \
	eval '[ -e "$O/poststart-1.state" ] && [ -e "$O/poststart-2.state" ]'
check runtime.md#L72 "poststart hooks were invoked" [ -e "$O/poststart-2.state" ]
cf_wait_status "$ID" stopped 15
check config.md#L646 "poststop hooks did not run before delete" [ ! -e "$O/poststop-1.state" ]
H delete "$ID" >/dev/null 2>&1
check config.md#L646 "poststop hooks ran before delete returned (the first one sleeps 1 s)" \
	eval '[ -e "$O/poststop-1.state" ] && [ -e "$O/poststop-2.state" ]'
check runtime.md#L78 "poststop hooks were invoked" [ -e "$O/poststop-2.state" ]

ORDER=$(grep -v '^process$' "$O/order" 2>/dev/null | tr '\n' ' ')
WANT="prestart-1 prestart-2 createRuntime-1 createRuntime-2 createContainer-1 createContainer-2 startContainer-1 startContainer-2 poststart-1 poststart-2 poststop-1 poststop-2 "
check config.md#L591 "hooks ran in the listed order ($ORDER)" [ "$ORDER" = "$WANT" ]
check config.md#L598 "prestart hooks ran before createRuntime hooks" eval 'grep -n . "$O/order" | awk -F: "/prestart-2/{p=\$1} /createRuntime-1/{c=\$1} END{exit !(p && c && p < c)}"'
check config.md#L619 "createContainer hooks ran after createRuntime hooks" eval 'grep -n . "$O/order" | awk -F: "/createRuntime-2/{p=\$1} /createContainer-1/{c=\$1} END{exit !(p && c && p < c)}"'

# state on stdin
for h in prestart-1 createRuntime-1 createContainer-1 startContainer-1 poststart-1 poststop-1; do
	f=$O/$h.state
	msg=$(cf_schema state-schema.json "$f" 2>&1); rc=$?
	if [ $rc = 2 ]; then skip config.md#L592 "$h got a schema-valid state on stdin" "$msg"; else
		check config.md#L592 "$h got the container's state on stdin (schema-valid, id, bundle) $msg" \
			eval '[ $rc = 0 ] && [ "$(jq -r .id "$f")" = "$ID" ] && [ "$(jq -r .bundle "$f")" = "$B" ]'
	fi
done
check config.md#L592 "hooks that run while the container process exists got its pid (hooks in the container pid namespace: host pid or 1)" \
	eval '(for h in createRuntime-1 createContainer-1 startContainer-1 poststart-1; do p=$(jq -r .pid "$O/$h.state"); case $h in create*|start*) [ "$p" = 1 ] && continue ;; esac; [ "$p" = "$PID" ] || { echo "    # $h: pid $p, container pid $PID"; exit 1; }; done)'

# namespaces
for h in prestart createRuntime poststart poststop; do
	case $h in prestart) l=L562 ;; createRuntime) l=L572 ;; poststart) l=L584 ;; poststop) l=L588 ;; esac
	check "config.md#$l" "$h hooks ran in the runtime namespaces (mnt net uts ipc pid)" [ "$(cat "$O/$h-1.ns" 2>/dev/null)" = "$SELFNS" ]
done
for h in createContainer startContainer; do
	case $h in createContainer) l=L576 ;; startContainer) l=L580 ;; esac
	check "config.md#$l" "$h hooks ran in the container namespaces (mnt net uts ipc pid)" [ "$(cat "$O/$h-1.ns" 2>/dev/null)" = "$CNS" ]
done
# paths: rec.sh exists only on the host, /cf-start-hook.sh only in the rootfs
for h in prestart createRuntime createContainer poststart poststop; do
	case $h in prestart) l=L561 ;; createRuntime) l=L571 ;; createContainer) l=L575 ;; poststart) l=L583 ;; poststop) l=L587 ;; esac
	check "config.md#$l" "$h hook path resolved in the runtime mount namespace ($HK/rec.sh, absent from the rootfs)" [ -e "$O/$h-1.state" ]
done
check config.md#L579 "startContainer hook path resolved in the container mount namespace (/cf-start-hook.sh, rootfs only)" [ -e "$O/startContainer-1.state" ]

# lifecycle points
for h in prestart createRuntime; do
	case $h in prestart) l=L596 ;; createRuntime) l=L607 ;; esac
	check "config.md#$l" "$h: environment created (container's /proc mounted) but not pivoted (mount seen at $R/proc)" \
		grep -q " $R/proc " "$O/$h-1.mountinfo"
done
check config.md#L618 "createContainer: environment created but not pivoted (own mountinfo shows $R/proc)" \
	grep -q " $R/proc " "$O/createContainer-1.selfmountinfo"
check config.md#L630 "startContainer hooks ran before the user program (it had not written its marker)" \
	eval 'grep -qx before "$O/startContainer-1.vsprocess" && grep -qx before "$O/startContainer-2.vsprocess"'
check config.md#L630 "startContainer hooks ran after pivot_root (/ is the rootfs: /cf-start-hook.sh visible at /)" [ -e "$O/startContainer-1.state" ]
check config.md#L638 "poststart hooks ran after the user program was executed (pid's exe is busybox)" \
	grep -q busybox "$O/poststart-1.exe"
check runtime.md#L77 "poststop hooks ran after the container was destroyed (its process is gone)" \
	grep -qx dead "$O/poststop-1.alive"

# ---- failing hooks --------------------------------------------------------------
for kind in prestart createRuntime createContainer startContainer poststart; do
	case $kind in prestart) l=L63 ;; createRuntime) l=L65 ;; createContainer) l=L67 ;; startContainer) l=L70 ;; poststart) l=L73 ;; esac
	cf_bundle "$B" . /bin/sh -c 'echo ran > /out/ran; sleep 5'
	cf_out "$B"
	O=$B/out
	if [ $kind = startContainer ]; then
		printf '#!/bin/sh\nexit 1\n' > "$R/cf-fail.sh"; chmod 755 "$R/cf-fail.sh"
		fh='{path: "/cf-fail.sh"}'
	else
		fh='{path: $fail}'
	fi
	cf_jq "$B" ".hooks = {$kind: [$fh], poststop: [{path: \$rec, args: [\"rec.sh\", \"poststop\", \$o]}]}" \
		--arg fail "$HK/fail.sh" --arg rec "$HK/rec.sh" --arg o "$O"
	FID=hkf-$kind-$$
	cf_create "$B" "$FID"
	crc=$RC
	if [ $kind = startContainer ] || [ $kind = poststart ]; then
		cf_start "$FID"
		check "runtime.md#$l" "a failing $kind hook makes start fail" [ "$crc" = 0 ] && [ "$RC" != 0 ]
		if [ $kind = startContainer ]; then
			check "runtime.md#$l" "... and the user program never runs" eval 'sleep 0.5; [ ! -e "$O/ran" ]'
		fi
		check "runtime.md#$l" "... and the container is stopped (process gone)" \
			eval 'cf_gone "$FID" || cf_wait_status "$FID" stopped 5'
		H delete "$FID" >/dev/null 2>&1
	else
		check "runtime.md#$l" "a failing $kind hook makes create fail" [ "$crc" != 0 ]
		check "runtime.md#$l" "... and the container is destroyed (step 12: no container left)" cf_gone "$FID"
		check "runtime.md#$l" "... and the user program never runs" eval 'sleep 0.3; [ ! -e "$O/ran" ]'
	fi
	check "runtime.md#$l" "... and the lifecycle continues with poststop hooks (step 13)" eval '[ -e "$O/poststop.state" ] && cf_gone "$FID"'
	cf_rm "$FID"
done

# poststop failure: a warning, the other hooks and delete go on
cf_bundle "$B" . /bin/true
cf_out "$B"
O=$B/out
cf_jq "$B" '.hooks = {poststop: [{path: $fail}, {path: $rec, args: ["rec.sh", "poststop-after", $o]}]}' \
	--arg fail "$HK/fail.sh" --arg rec "$HK/rec.sh" --arg o "$O"
ID=hkps$$
cf_create "$B" "$ID" && cf_start "$ID" && cf_wait_status "$ID" stopped
H --log "$WORK/ps.log" delete "$ID" >/dev/null 2>"$WORK/ps.err"; rc=$?
check runtime.md#L79 "a failing poststop hook does not fail delete" eval '[ "$rc" = 0 ] && cf_gone "$ID"'
check runtime.md#L79 "... the remaining poststop hooks still run" [ -e "$O/poststop-after.state" ]
check runtime.md#L79 "... and a warning is logged" eval 'grep -qi warn "$WORK/ps.log" "$WORK/ps.err" 2>/dev/null'
check runtime.md#L89 "a logged warning does not change the flow (delete completed, state removed)" eval '[ "$rc" = 0 ] && cf_gone "$ID" && [ -e "$O/poststop-after.state" ]'
cf_rm "$ID"

# ---- invalid hook entries and timeouts ---------------------------------------------
cf_bundle "$B" '.hooks = {prestart: [{path: "bin/true"}]}'
check_create_fails config.md#L556 "a hook with a relative path is rejected"  "$B"
cf_bundle "$B" '.hooks = {createRuntime: [{path: "/bin/true", timeout: 0}]}'
check_create_fails config.md#L560 "a hook with timeout 0 is rejected" "$B"
cf_bundle "$B" '.hooks = {createRuntime: [{path: "/bin/true", timeout: -1}]}'
check_create_fails config.md#L570 "a hook with a negative timeout is rejected" "$B"
cf_bundle "$B" '.hooks = {createRuntime: [{path: "/bin/sleep", args: ["sleep", "30"], timeout: 1}]}'
t0=$SECONDS
check_create_fails config.md#L570 "a hook that outlives its timeout (1 s, sleeps 30 s) fails create" "$B"
check config.md#L570 "... within a few seconds of the timeout ($((SECONDS - t0)) s)" [ $((SECONDS - t0)) -lt 10 ]
cf_bundle "$B" '.hooks = {prestart: [{path: "/nonexistent-hook-'$$'"}]}'
check_create_fails config.md#L561 "a prestart hook whose path does not resolve in the runtime namespace fails create" "$B"

cf_done
