#!/bin/bash
# containerd's runc v2 shim driving hull (`ctr run --runc-binary HULL`), with a
# private containerd (own root, state and socket; CRI disabled) stopped by pid
# at the end.  No workaround for hybrid cgroups.
set -uo pipefail
CLIENTS_DIR=$(cd "$(dirname "$0")" && pwd)
. "$CLIENTS_DIR/lib.sh"
RT=${HULL:?HULL=path to hull}
WORK=${CTD_WORK:-/var/tmp/hull-test-containerd}
S=/run/hull-test-containerd
IMGDIR=${IMAGE_DIR:-/var/tmp/hull-test-image}
NS=hulltest
SOCK=$S/containerd.sock
mkdir -p "$WORK" "$S"
ensure_image "$IMGDIR" || { echo "not ok 1 - build test image"; echo "0 passed, 1 failed"; exit 1; }

cat > "$WORK/config.toml" <<CONF
version = 2
root = "$WORK/root"
state = "$S/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$S/containerd.sock.ttrpc"
[debug]
  address = "$S/debug.sock"
  level = "info"
CONF

CTD_PID=
C=(ctr -a "$SOCK" -n $NS)
cleanup() {
	[ -n "$CTD_PID" ] || return
	"${C[@]}" tasks ls -q 2>/dev/null | while read -r t; do
		"${C[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1; sleep 0.3
		"${C[@]}" tasks rm -f "$t" >/dev/null 2>&1; done
	"${C[@]}" containers ls -q 2>/dev/null | while read -r c; do "${C[@]}" containers rm "$c" >/dev/null 2>&1; done
	kill "$CTD_PID" 2>/dev/null; wait "$CTD_PID" 2>/dev/null
}
trap cleanup EXIT
containerd --config "$WORK/config.toml" > "$WORK/containerd.log" 2>&1 &
CTD_PID=$!
for ((i = 0; i < 100; i++)); do
	ctr -a "$SOCK" version >/dev/null 2>&1 && break
	kill -0 "$CTD_PID" 2>/dev/null || { echo "not ok 1 - containerd died"; tail -20 "$WORK/containerd.log" | sed 's/^/#   /'; echo "0 passed, 1 failed"; exit 1; }
	sleep 0.1
done
IMG=localhost/busybox:latest
id=hull-ctd-$$

echo "# $(containerd --version | awk '{print $1, $3}') with $("$RT" --version | head -1)"
check "ctr images import" 0 - "${C[@]}" images import --base-name localhost/busybox "$IMGDIR/busybox.oci.tar"
check "ctr run --rm true" 0 - "${C[@]}" run --rm --runc-binary "$RT" "$IMG" $id-1 true
check "ctr run --rm echo (stdout)" 0 hello "${C[@]}" run --rm --runc-binary "$RT" "$IMG" $id-2 sh -c 'echo hello'
check "ctr run --rm exit 3 (exit code)" 3 - "${C[@]}" run --rm --runc-binary "$RT" "$IMG" $id-3 sh -c 'exit 3'
check "ctr run -d sleep 60" 0 - "${C[@]}" run -d --runc-binary "$RT" "$IMG" $id-4 sleep 60
check "ctr task exec" 0 hi "${C[@]}" tasks exec --exec-id e1 $id-4 echo hi
check "ctr task kill + rm + container rm" 0 - sh -c "$(printf '%q ' "${C[@]}") tasks kill -s SIGKILL $id-4 && sleep 0.5 && $(printf '%q ' "${C[@]}") tasks rm $id-4 >/dev/null && $(printf '%q ' "${C[@]}") containers rm $id-4"
client_summary
