#!/bin/bash
# bench/net.sh [MIB] [REPS] — TCP throughput of hull's bridge networking
# (netns/), reported, never asserted.  One stream of MIB MiB (default 512)
# per measurement, REPS (default 3) repetitions, median in Mbit/s:
#   host loopback          baseline: 127.0.0.1 -> 127.0.0.1 on the host
#   container -> container two bridge-mode containers over hull0
#   host -> container      to the container's address
#   container -> host      to the gateway address 10.210.0.1
#   host -> published port 127.0.0.1:PORT, DNAT'ed into the container
# and the same rows for VM containers when `hull run --vm` has bridge
# networking (reported as n/a until then).  The tool is tests/lib/nettool.c,
# built static; iperf3 is not needed.  Traffic stays on this machine.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_enter_ns "$HERE/net.sh" "$@"

MIB=${1:-512} REPS=${2:-3}
HULL=${HULL:-$HERE/../build/hull}
W=${BENCH_DIR:-/var/tmp/hull-bench}/net
mkdir -p "$W"
STATE=$W/state STORE=$W/store
cleanup() {
	for c in $("$HULL" --root "$STATE" list -q 2>/dev/null); do "$HULL" --root "$STATE" delete -f "$c" >/dev/null 2>&1; done
	grep -o " $W/[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "net: needs root"; exit 0; }
gcc -O2 -static -o "$W/nettool" "$HERE/../tests/lib/nettool.c" || { echo "net: cannot build nettool"; exit 1; }
if [ ! -f "$W/img/oci/index.json" ]; then
	"$HERE/../tests/lib/make-image.sh" "$W/img" >/dev/null 2>&1 || { echo "net: make-image.sh failed"; exit 1; }
fi
IMG="oci:$W/img/oci:latest"
h() { "$HULL" --root "$STATE" "$@"; }
RUNF=(--store "$STORE" -v "$W/nettool:/nettool:ro")
lease_of() { awk -v id="$1" '$2 == id { print $1 }' /run/hull/net/leases 2>/dev/null; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "n/a" }'; }

# one measurement: prints Mbit/s (3rd field of nettool's report) or nothing
sink_container() {   # NAME PORT [-p SPEC]: a detached container accepting one stream
	local name=$1 port=$2; shift 2
	h run -d --rm --name "$name" "$@" "${RUNF[@]}" "$IMG" /nettool tcp-sink "$port" 60 >/dev/null
}
measure() {   # KIND
	local r ip
	case $1 in
	loopback)
		"$W/nettool" tcp-sink 15201 60 >/dev/null & local sp=$!
		"$W/nettool" tcp-source 127.0.0.1 15201 "$MIB" | awk '{ print $3 }'
		wait "$sp" ;;
	c2c)
		local sink=bsink$$$RANDOM
		sink_container "$sink" 5201 || return
		ip=$(lease_of "$sink")
		h run --rm "${RUNF[@]}" "$IMG" /nettool tcp-source "$ip" 5201 "$MIB" | awk '{ print $3 }'
		h delete -f "$sink" >/dev/null 2>&1 ;;
	h2c)
		local sink=bsink$$$RANDOM
		sink_container "$sink" 5201 || return
		ip=$(lease_of "$sink")
		"$W/nettool" tcp-source "$ip" 5201 "$MIB" | awk '{ print $3 }'
		h delete -f "$sink" >/dev/null 2>&1 ;;
	c2h)
		"$W/nettool" tcp-sink 15202 60 >/dev/null & local sp=$!
		h run --rm "${RUNF[@]}" "$IMG" /nettool tcp-source 10.210.0.1 15202 "$MIB" | awk '{ print $3 }'
		wait "$sp" ;;
	pub)
		local sink=bsink$$$RANDOM
		sink_container "$sink" 5201 -p 127.0.0.1:15203:5201 || return
		"$W/nettool" tcp-source 127.0.0.1 15203 "$MIB" | awk '{ print $3 }'
		h delete -f "$sink" >/dev/null 2>&1 ;;
	esac
}

printf "TCP, one stream of %s MiB, median of %s (Mbit/s)\n" "$MIB" "$REPS"
printf "%-26s %12s %12s\n" "path" "container" "vm"
for kind in loopback c2c h2c c2h pub; do
	vals=$(for _ in $(seq "$REPS"); do measure "$kind"; done)
	case $kind in
	loopback) label="host loopback (baseline)" ;;
	c2c) label="container -> container" ;;
	h2c) label="host -> container" ;;
	c2h) label="container -> host" ;;
	pub) label="host -> 127.0.0.1:published" ;;
	esac
	vm="n/a"
	[ "$kind" = loopback ] && vm="-"
	printf "%-26s %12s %12s\n" "$label" "$(median <<<"$vals")" "$vm"
done
echo "vm: n/a = VM containers have no bridge networking yet (netns/ tap + tc redirect not wired to the VMM)"
