#!/bin/bash
# test_net.sh — bridge networking of image runs (netns/): two containers on
# hull0 reach each other (ICMP, TCP, UDP); published TCP and UDP ports answer
# from the host on 127.0.0.1 and on the bridge address; a container resolves
# a name through a test DNS server on the bridge address; /etc/hosts and
# /etc/resolv.conf inside; concurrent runs get distinct leases; after delete
# (also --force after the init was killed) no veth, no nftables rule and no
# lease is left; --net none|host|ns:PATH; bad flags are refused.
# Traffic stays on this machine: 127.0.0.1 and the hull0 subnet.
# Env: HULL (default build/hull).  Runs as root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$HERE/../lib

. "$LIB/tap-suite.sh"

ts_enter_ns NET_IN_NS "$@"
ts_require test_net umoci skopeo python3 gcc ip nft

WORK=$(mktemp -d /var/tmp/hull-test-net.XXXXXX)
STORE=$WORK/store STATE=$WORK/state
DNS_PID=
cleanup() {
	[ -n "$DNS_PID" ] && kill "$DNS_PID" 2>/dev/null
	for c in $("$HULL" --root "$STATE" list -q 2>/dev/null); do "$HULL" --root "$STATE" delete -f "$c" >/dev/null 2>&1; done
	grep -o " $WORK[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	[ -n "${NSPATH:-}" ] && umount "$NSPATH" 2>/dev/null
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT

h() { "$HULL" --root "$STATE" "$@"; }
run() {   # capture rc/out/err of a command
	OUT=$("$@" 2>"$WORK/err"); RC=$?; ERR=$(cat "$WORK/err"); return 0
}
lease_of() { awk -v id="$1" '$2 == id { print $1 }' /run/hull/net/leases 2>/dev/null; }
rules_of() { nft -a list table inet hull 2>/dev/null | grep -c "comment \"hull:$1\""; }
veth_of() {   # host veth name of a container id (FNV-1a of the id, as netns/spec.c)
	python3 -c 'import sys
h=2166136261
for b in sys.argv[1].encode(): h=((h^b)*16777619)&0xffffffff
print("vh%08x" % h)' "$1"
}
holder_start() {   # HOLDER = a process in a new network namespace, once it is in it
	unshare -n sleep 120 & HOLDER=$!
	local i
	for i in $(seq 100); do
		[ "$(readlink /proc/$HOLDER/ns/net 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && return 0
		sleep 0.05
	done
	echo "holder never entered its network namespace" >&2
	return 1
}
gone() {   # ID: no veth, no rule, no lease
	local v; v=$(veth_of "$1")
	! ip link show "$v" >/dev/null 2>&1 && [ "$(rules_of "$1")" = 0 ] && [ -z "$(lease_of "$1")" ]
}

gcc -O2 -static -o "$WORK/nettool" "$LIB/nettool.c" || { notok "build nettool"; finish; }
"$LIB/make-image.sh" "$WORK/img" >"$WORK/mkimg.log" 2>&1 || { notok "make-image.sh"; cat "$WORK/mkimg.log" >&2; finish; }
IMG="oci:$WORK/img/oci:latest"
RUNF=(--store "$STORE" -v "$WORK/nettool:/nettool:ro")
[ -z "$(lease_of neta)$(lease_of netb)" ] || { notok "stale leases for neta/netb from an earlier run"; finish; }

# --- two containers on the bridge -------------------------------------------
# A: web page on 8080 (published twice: 127.0.0.1 only, and every address),
#    UDP echo on 8081 (published on every address)
run h run -d --name neta -p 127.0.0.1:18080:8080 -p 18082:8080 -p 18081:8081/udp "${RUNF[@]}" "$IMG" \
	sh -c 'mkdir -p /tmp/www && echo hello-from-a > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && exec /nettool udp-echo 8081 300'
check "run -d neta (bridge, -p tcp/udp)" [ "$RC" = 0 ]
run h run -d --name netb --cap-add NET_RAW "${RUNF[@]}" "$IMG" sleep 300
check "run -d netb (bridge)" [ "$RC" = 0 ]
IPA=$(lease_of neta) IPB=$(lease_of netb)
check "leases: neta=$IPA netb=$IPB, distinct, in 10.210.0.0/24" \
	bash -c "[[ '$IPA' == 10.210.0.* && '$IPB' == 10.210.0.* && '$IPA' != '$IPB' ]]"
check "hull0 has the gateway address 10.210.0.1/24" bash -c "ip -o -4 addr show dev hull0 | grep -q ' 10.210.0.1/24 '"
run h exec neta ip -o -4 addr show dev eth0
check "neta: eth0 has its lease" grep -q " $IPA/24 " <<<"$OUT"
run h exec neta ip route
check "neta: default route via the gateway" grep -q "default via 10.210.0.1 dev eth0" <<<"$OUT"
run h exec neta cat /etc/hosts
check "neta: /etc/hosts names its address" grep -q "^$IPA[[:space:]]" <<<"$OUT"
sleep 1   # httpd and the UDP echo come up
run h exec netb ping -c 1 -W 3 "$IPA"
check "netb pings neta (busybox ping needs CAP_NET_RAW)" [ "$RC" = 0 ]
run h exec netb timeout 10 wget -q -O - "http://$IPA:8080/"
check "netb reaches neta over TCP" [ "$OUT" = hello-from-a ]
run h exec netb /nettool udp-ask "$IPA" 8081 b2a 5
check "netb reaches neta over UDP" [ "$OUT" = pong:b2a ]

if [ "$(cat /proc/sys/net/ipv6/conf/default/disable_ipv6 2>/dev/null)" = 0 ]; then
	V6A=$(printf 'fd68:756c:6c00::%x' "${IPA##*.}")
	run h exec neta ip -o -6 addr show dev eth0
	check "neta: eth0 has $V6A/64 (IPv6: the host has it)" grep -q " $V6A/64 " <<<"$OUT"
	run h exec neta ip -6 route
	check "neta: IPv6 default route via the gateway" grep -q "default via fd68:756c:6c00::1 dev eth0" <<<"$OUT"
	run h exec netb timeout 10 wget -q -O - "http://[$V6A]:8080/"
	check "netb reaches neta over IPv6 TCP" [ "$OUT" = hello-from-a ]
	run timeout 10 busybox wget -q -O - "http://[$V6A]:8080/"
	check "the host reaches neta over IPv6 TCP" [ "$OUT" = hello-from-a ]
	run h exec neta cat /etc/hosts
	check "neta: /etc/hosts names its IPv6 address" grep -q "^$V6A[[:space:]]" <<<"$OUT"
else
	skip "IPv6: the host has it switched off"
fi

# --- published ports from the host ------------------------------------------
run timeout 10 busybox wget -q -O - http://127.0.0.1:18080/
check "published TCP 127.0.0.1:18080 answers from the host" [ "$OUT" = hello-from-a ]
run timeout 10 busybox wget -q -O - http://127.0.0.1:18082/
check "published TCP :18082 answers on 127.0.0.1" [ "$OUT" = hello-from-a ]
run timeout 10 busybox wget -q -O - http://10.210.0.1:18082/
check "published TCP :18082 answers on the bridge address" [ "$OUT" = hello-from-a ]
run "$WORK/nettool" udp-ask 127.0.0.1 18081 host-lo 5
check "published UDP :18081 answers on 127.0.0.1" [ "$OUT" = pong:host-lo ]
run "$WORK/nettool" udp-ask 10.210.0.1 18081 host-br 5
check "published UDP :18081 answers on the bridge address" [ "$OUT" = pong:host-br ]
run timeout 5 busybox wget -q -O - http://10.210.0.1:18080/
check "a port published on 127.0.0.1 does not answer on other addresses" [ "$RC" != 0 ]
check "nftables: neta's 6 port rules are in table inet hull" [ "$(rules_of neta)" = 6 ]
run h run --rm --name netref1 -p 18082:80 "${RUNF[@]}" "$IMG" true
check "a host port another container publishes is refused" bash -c "[ '$RC' != 0 ] && grep -q 'already published by container .neta.' <<<'$ERR'"
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",18087)); s.listen(); time.sleep(20)' & BUSY=$!
sleep 0.3
run h run --rm --name netref2 -p 18087:80 "${RUNF[@]}" "$IMG" true
check "a host port a host process listens on is refused" bash -c "[ '$RC' != 0 ] && grep -q 'in use on the host' <<<'$ERR'"
kill "$BUSY" 2>/dev/null; wait "$BUSY" 2>/dev/null
check "refused runs left nothing behind" bash -c "$(declare -f lease_of rules_of veth_of gone); gone netref1 && gone netref2"

# --- DNS through a test server on the bridge address -------------------------
cat >"$WORK/dns.py" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.210.0.1", 53)); s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        q, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    if len(q) < 12: continue
    i, labels = 12, []
    while i < len(q) and q[i]:
        labels.append(q[i+1:i+1+q[i]].decode(errors="replace")); i += 1 + q[i]
    qtype = struct.unpack(">H", q[i+1:i+3])[0]
    question = q[12:i+5]
    name = ".".join(labels)
    answer = b""
    if name == "hull-test.example" and qtype == 1:
        answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("10.210.0.99")
    rcode = 0 if name == "hull-test.example" else 3
    hdr = q[:2] + struct.pack(">HHHHH", 0x8180 | rcode, 1, 1 if answer else 0, 0, 0)
    s.sendto(hdr + question + answer, peer)
EOF
python3 "$WORK/dns.py" & DNS_PID=$!
sleep 0.5
run h run --rm --dns 10.210.0.1 "${RUNF[@]}" "$IMG" sh -c 'cat /etc/resolv.conf; nslookup hull-test.example'
check "--dns: resolv.conf names the server" grep -q "^nameserver 10.210.0.1$" <<<"$OUT"
check "container resolves hull-test.example through the host's test DNS server" grep -q "10.210.0.99" <<<"$OUT"
kill "$DNS_PID" 2>/dev/null; wait "$DNS_PID" 2>/dev/null; DNS_PID=

# --- concurrent runs ----------------------------------------------------------
for i in 1 2 3 4; do h run -d --name "netc$i" "${RUNF[@]}" "$IMG" sleep 300 >/dev/null 2>"$WORK/c$i.err" & done
wait
LEASES=$(for i in 1 2 3 4; do lease_of "netc$i"; done)
check "4 concurrent runs: 4 distinct leases" [ "$(sort -u <<<"$LEASES" | grep -c .)" = 4 ]
for i in 1 2 3 4; do h delete -f "netc$i" >/dev/null 2>&1; done
check "concurrent containers deleted: nothing left" bash -c "$(declare -f lease_of rules_of veth_of gone); gone netc1 && gone netc2 && gone netc3 && gone netc4"

# --- delete removes everything ------------------------------------------------
VA=$(veth_of neta)
check "neta's host veth $VA is on hull0" bash -c "ip -o link show master hull0 | grep -q ' $VA@'"
run h delete -f neta
check "delete -f neta" [ "$RC" = 0 ]
check "after delete: no veth, no nft rule, no lease for neta" gone neta
run timeout 5 busybox wget -q -O - http://127.0.0.1:18080/
check "published port closed after delete" [ "$RC" != 0 ]
# a crash: the init dies under the runtime; delete --force still cleans up
PIDB=$(h state netb | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
kill -9 "$PIDB"
run h delete --force netb
check "delete --force after the init was killed" [ "$RC" = 0 ]
check "after delete --force: no veth, no nft rule, no lease for netb" gone netb
check "the hull-base rules only match the hull subnet" \
	bash -c "nft list chain inet hull postrouting | grep masquerade | grep -v -e '10.210.0.0/24' -e 'ip6 saddr fd68:756c:6c00::/64' | grep -q . && exit 1 || exit 0"

# --- stale leases and the subnet -----------------------------------------------
# a namespace dies without a teardown (a create that failed after the setup
# hook): the next attach releases its lease and rules
mkdir -p "$WORK/tapb" && echo tapguest >"$WORK/tapb/hostname"
holder_start || { notok "a namespace holder"; finish; }
SSTATE="{\"ociVersion\":\"1.2.0\",\"id\":\"netstale\",\"status\":\"creating\",\"pid\":$HOLDER,\"bundle\":\"$WORK/tapb\"}"
run "$HULL" -- -net-hook setup -p 18086:80 <<<"$SSTATE"
check "setup hook for netstale" bash -c "[ '$RC' = 0 ] && [ -n '$(lease_of netstale)' ]"
kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
for _ in $(seq 50); do ip link show "$(veth_of netstale)" >/dev/null 2>&1 || break; sleep 0.1; done
check "netstale's lease and rules are still there after its namespace died" \
	bash -c "[ -n '$(lease_of netstale)' ] && [ '$(rules_of netstale)' = 2 ]"
run h run --rm "${RUNF[@]}" "$IMG" true
check "the next run releases the stale lease and its rules" bash -c "[ '$RC' = 0 ] && [ -z '$(lease_of netstale)' ] && [ '$(rules_of netstale)' = 0 ]"
# the subnet is configurable, but only while no container holds a lease
# (other users of hull0 on this machine hold leases: then this part is skipped)
if [ -n "$(grep -c . /run/hull/net/leases | grep -v '^0$')" ]; then
	skip "subnet change: other containers hold leases on hull0"
else
run h run -d --name netd "${RUNF[@]}" "$IMG" sleep 300
run h run --rm --subnet 10.211.0.0/24 "${RUNF[@]}" "$IMG" true
check "--subnet change refused while a container holds a lease" bash -c "[ '$RC' != 0 ] && grep -q 'containers deleted first' <<<'$ERR'"
h delete -f netd >/dev/null 2>&1
run h run --rm --subnet 10.211.0.0/24 "${RUNF[@]}" "$IMG" ip -o -4 addr show dev eth0
check "--subnet 10.211.0.0/24 once the bridge is free" grep -q " 10.211.0.2/24 " <<<"$OUT"
check "hull0 moved to 10.211.0.1/24" bash -c "ip -o -4 addr show dev hull0 | grep -q ' 10.211.0.1/24 ' && ! ip -o -4 addr show dev hull0 | grep -q 10.210."
check "masquerade follows the subnet" bash -c "nft list chain inet hull postrouting | grep -q 'ip saddr 10.211.0.0/24' && ! nft list chain inet hull postrouting | grep -q 10.210."
run h run --rm "${RUNF[@]}" "$IMG" ip -o -4 addr show dev eth0
check "back to the default subnet" grep -q " 10.210.0.2/24 " <<<"$OUT"
fi

# --- other modes and bad input -------------------------------------------------
run h run --rm --net none "${RUNF[@]}" "$IMG" ip -o link
check "--net none: loopback only" bash -c "[ '$RC' = 0 ] && ! grep -q eth0 <<<'$OUT'"
run h run --rm --net host "${RUNF[@]}" "$IMG" ip -o link show hull0
check "--net host: the host's interfaces" [ "$RC" = 0 ]
NSPATH=$WORK/ns1
touch "$NSPATH" && unshare --net="$NSPATH" true
run h run --rm --net "ns:$NSPATH" "${RUNF[@]}" "$IMG" sh -c 'readlink /proc/self/ns/net'
WANT=$(nsenter --net="$NSPATH" readlink /proc/self/ns/net)
check "--net ns:PATH joins that namespace ($WANT)" [ "$OUT" = "$WANT" ]
umount "$NSPATH" 2>/dev/null; NSPATH=
run h run --rm -p 99999:80 "${RUNF[@]}" "$IMG" true
check "-p 99999:80 refused" bash -c "[ '$RC' != 0 ] && grep -q '99999' <<<'$ERR'"
run h run --rm -p 80:80/sctp "${RUNF[@]}" "$IMG" true
check "-p .../sctp refused" bash -c "[ '$RC' != 0 ] && grep -q 'tcp or udp' <<<'$ERR'"
run h run --rm --net none -p 18090:80 "${RUNF[@]}" "$IMG" true
check "-p with --net none refused" [ "$RC" != 0 ]
run h run --rm --net bogus "${RUNF[@]}" "$IMG" true
check "--net bogus refused" bash -c "[ '$RC' != 0 ] && grep -q 'bridge, none, host' <<<'$ERR'"
run h run --rm --subnet 10.210.0.5/24 "${RUNF[@]}" "$IMG" true
check "--subnet with host bits refused" bash -c "[ '$RC' != 0 ] && grep -q 'host bits' <<<'$ERR'"
# --- VM plumbing: tap + tc redirect (netns/tap.c) ------------------------------
# A namespace stands in for a VM container's (the VMM lives there); the setup
# hook gets --tap.  A tiny user-space "guest" on the tap answers ARP and UDP
# port 7 with "guest:…"; a UDP echo bound in the namespace's own stack would
# answer "pong:…" — the redirect must hand every frame to the guest instead.
cat >"$WORK/guest.py" <<'EOF'
import fcntl, os, select, socket, struct, sys, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"tap0", 0x0002 | 0x1000))  # TUNSETIFF, IFF_TAP|IFF_NO_PI
ip, mac = socket.inet_aton(sys.argv[1]), bytes.fromhex("02aa11223344")
def csum(b):
    s = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
end = time.time() + int(sys.argv[2])
while time.time() < end:
    if not select.select([fd], [], [], 1)[0]: continue
    f = os.read(fd, 2048)
    if len(f) < 42: continue
    src, et = f[6:12], struct.unpack(">H", f[12:14])[0]
    if et == 0x0806 and struct.unpack(">H", f[20:22])[0] == 1 and f[38:42] == ip:
        os.write(fd, src + mac + b"\x08\x06" + struct.pack(">HHBBH", 1, 0x0800, 6, 4, 2) + mac + ip + f[22:28] + f[28:32])
    elif et == 0x0800 and f[23] == 17 and f[30:34] == ip:
        ihl = (f[14] & 15) * 4
        sport, dport, ulen = struct.unpack(">HHH", f[14 + ihl:20 + ihl])
        if dport != 7: continue
        data = b"guest:" + f[22 + ihl:14 + ihl + ulen]
        u = struct.pack(">HHHH", 7, sport, 8 + len(data), 0) + data
        h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 0, 0, 64, 17, 0, ip, f[26:30])
        h = h[:10] + struct.pack(">H", csum(h)) + h[12:]
        os.write(fd, src + mac + b"\x08\x00" + h + u)
EOF
holder_start || { notok "a namespace holder"; finish; }
TSTATE="{\"ociVersion\":\"1.2.0\",\"id\":\"nettap\",\"status\":\"creating\",\"pid\":$HOLDER,\"bundle\":\"$WORK/tapb\"}"
run "$HULL" -- -net-hook setup --tap -p 127.0.0.1:18085:7/udp <<<"$TSTATE"
check "setup hook with --tap" [ "$RC" = 0 ]
IPT=$(lease_of nettap)
check "tap0 exists in the namespace" bash -c "nsenter -t $HOLDER -n ip -o link show tap0 >/dev/null"
run nsenter -t "$HOLDER" -n tc filter show dev eth0 ingress
check "eth0 ingress is redirected to tap0" grep -q "mirred (Egress Redirect to device tap0)" <<<"$OUT"
run nsenter -t "$HOLDER" -n tc filter show dev tap0 ingress
check "tap0 ingress is redirected to eth0" grep -q "mirred (Egress Redirect to device eth0)" <<<"$OUT"
nsenter -t "$HOLDER" -n "$WORK/nettool" udp-echo 7 30 & NSECHO=$!
nsenter -t "$HOLDER" -n python3 "$WORK/guest.py" "$IPT" 30 & GUEST=$!
sleep 0.5
run "$WORK/nettool" udp-ask "$IPT" 7 direct 5
check "UDP to the container address reaches the guest on the tap, not the namespace's stack" [ "$OUT" = guest:direct ]
run "$WORK/nettool" udp-ask 127.0.0.1 18085 published 5
check "published UDP port on 127.0.0.1 reaches the guest" [ "$OUT" = guest:published ]
kill "$GUEST" "$NSECHO" 2>/dev/null; wait "$GUEST" "$NSECHO" 2>/dev/null
run "$HULL" -- -net-hook teardown <<<"$TSTATE"
check "teardown hook" [ "$RC" = 0 ]
check "after teardown: no veth, no nft rule, no lease for nettap" gone nettap
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null

# the same on a network hull's hook did not give a tap (what Podman/containerd
# leave: an eth0 with an address and a default route): the VM handler's
# netns_vm_net_prepare (here through `-net-hook vm-info`) adds tap0 + redirects
holder_start || { notok "a namespace holder"; finish; }
VSTATE="{\"ociVersion\":\"1.2.0\",\"id\":\"netvm\",\"status\":\"creating\",\"pid\":$HOLDER,\"bundle\":\"$WORK/tapb\"}"
run "$HULL" -- -net-hook setup <<<"$VSTATE"
IPV=$(lease_of netvm)
check "setup hook without --tap: no tap0" bash -c "[ '$RC' = 0 ] && ! nsenter -t $HOLDER -n ip link show tap0 >/dev/null 2>&1"
MACV=$(nsenter -t "$HOLDER" -n ip -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
run nsenter -t "$HOLDER" -n "$HULL" -- -net-hook vm-info
check "vm-info describes eth0 for the guest (MAC, address, gateway)" [ "$OUT" = "eth0 tap=tap0 hull.net=$MACV,$IPV/24,10.210.0.1" ]
run nsenter -t "$HOLDER" -n tc filter show dev eth0 ingress
check "vm-info added the eth0 -> tap0 redirect" grep -q "mirred (Egress Redirect to device tap0)" <<<"$OUT"
run nsenter -t "$HOLDER" -n "$HULL" -- -net-hook vm-info
check "vm-info again: same answer, nothing added twice" bash -c "[ '$OUT' = 'eth0 tap=tap0 hull.net=$MACV,$IPV/24,10.210.0.1' ] && [ \$(nsenter -t $HOLDER -n tc filter show dev eth0 ingress | grep -c mirred) = 1 ]"
nsenter -t "$HOLDER" -n python3 "$WORK/guest.py" "$IPV" 30 & GUEST=$!
sleep 0.5
run "$WORK/nettool" udp-ask "$IPV" 7 cni 5
check "UDP reaches the guest through the tap vm-info made" [ "$OUT" = guest:cni ]
kill "$GUEST" 2>/dev/null; wait "$GUEST" 2>/dev/null
run "$HULL" -- -net-hook teardown <<<"$VSTATE"
check "after teardown: no veth, no nft rule, no lease for netvm" gone netvm
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null

check "no veth of this test left" bash -c "$(declare -f veth_of); for i in neta netb netc1 netc2 netc3 netc4 netd nettap netstale netvm; do ip link show \$(veth_of \$i) >/dev/null 2>&1 && exit 1; done; exit 0"

finish
