#!/bin/bash
# test_cve_2022_29162.sh — the inheritable capability set of run and exec
# processes is empty unless the config names it.
#
# A non-empty inheritable set lets an unprivileged process in the container
# gain those capabilities by executing a file with inheritable file
# capabilities (setcap …+ei).  runc put the bounding set into inheritable
# (`runc spec`, and `exec --cap`).  Here hull itself is started with a
# non-empty inheritable set (setpriv --inh-caps), so nothing may leak from the
# caller either, and the rootfs holds a busybox copy with cap_net_admin,
# cap_net_raw=ei.  CapInh must be 0 and that binary must gain nothing, for
# run (with and without a capabilities object) and for exec (with --cap too);
# a config that names inheritable gets exactly that (the test can see it).
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_cve_2022_29162 "$0" "$@"

B=$WORK/b
OUT=
INH=+net_admin,+net_raw
NET_CAPS=0000000000003000     # CAP_NET_ADMIN (12) | CAP_NET_RAW (13)
REAL_HULL=$HULL
# hull run/exec with a non-empty inheritable set in the caller
cat > "$WORK/hull-inh" <<EOF
#!/bin/sh
exec setpriv --inh-caps $INH -- "$REAL_HULL" "\$@"
EOF
chmod +x "$WORK/hull-inh"
HULL=$WORK/hull-inh
check "the caller really has a non-empty inheritable set" \
	eval '[ "$(setpriv --inh-caps $INH -- grep CapInh /proc/self/status | cut -f2)" = "$NET_CAPS" ]'

caps_net='.process.capabilities = {
	bounding:  ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"],
	effective: ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"],
	permitted: ["CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_KILL", "CAP_SETUID", "CAP_SETGID"] }'
add_fcap_binary() {
	mkdir -p "$B/rootfs/capbin"
	cp "$B/rootfs/bin/busybox" "$B/rootfs/capbin/busybox"
	setcap cap_net_admin,cap_net_raw+ei "$B/rootfs/capbin/busybox"
}
have_fcaps=false
mh_bundle "$B" .
add_fcap_binary 2>/dev/null && [ -n "$(getcap "$B/rootfs/capbin/busybox")" ] && have_fcaps=true

# ---- run ---------------------------------------------------------------------
mh_bundle "$B" "$caps_net" /bin/grep Cap /proc/self/status
sec_run "$B"
check "run, capabilities without inheritable: CapInh 0" \
	[ "$RC" = 0 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 ]

mh_bundle "$B" 'del(.process.capabilities)' /bin/grep Cap /proc/self/status
sec_run "$B"
check "run, no capabilities object: CapInh 0" \
	[ "$RC" = 0 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 ]

if $have_fcaps; then
	mh_bundle "$B" "$caps_net"' | .process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false' \
		/capbin/busybox grep Cap /proc/self/status
	add_fcap_binary
	sec_run "$B"
	check "run as uid 1000: a cap_net_admin,cap_net_raw+ei binary gains nothing" \
		[ "$RC" = 0 -a "$(status_field "$OUT" CapPrm)" = 0000000000000000 -a \
		  "$(status_field "$OUT" CapEff)" = 0000000000000000 ]
else
	skip "file capabilities cannot be set on $WORK"
fi

mh_bundle "$B" "$caps_net"' | .process.capabilities.inheritable = ["CAP_NET_ADMIN"]' /bin/grep Cap /proc/self/status
sec_run "$B"
check "run, inheritable named in the config: CapInh is exactly that (0x1000)" \
	[ "$RC" = 0 -a "$(status_field "$OUT" CapInh)" = 0000000000001000 ]

# ---- exec ----------------------------------------------------------------------
mh_bundle "$B" "$caps_net" /bin/sleep 60
$have_fcaps && add_fcap_binary
ID=cve29162-$$
HULL=$REAL_HULL sec_start "$B" "$ID"
check "start a container for exec" [ "$RC" = 0 ]
sec_exec "$ID" /bin/grep Cap /proc/self/status
check "exec: CapInh 0" [ "$RC" = 0 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 ]
sec_exec --cap CAP_NET_ADMIN --cap CAP_NET_RAW "$ID" /bin/grep Cap /proc/self/status
check "exec --cap CAP_NET_ADMIN --cap CAP_NET_RAW: CapInh 0" \
	[ "$RC" = 0 -a "$(status_field "$OUT" CapInh)" = 0000000000000000 ]
if $have_fcaps; then
	sec_exec --user 1000:1000 "$ID" /capbin/busybox grep Cap /proc/self/status
	check "exec as uid 1000: the +ei binary gains nothing" \
		[ "$RC" = 0 -a "$(status_field "$OUT" CapPrm)" = 0000000000000000 -a \
		  "$(status_field "$OUT" CapEff)" = 0000000000000000 ]
else
	skip "file capabilities cannot be set on $WORK"
fi
HULL=$REAL_HULL sec_rm "$ID"

mh_done
