# tests/clients/lib.sh — shared by the client suites (podman, containerd).
# Each check prints "ok N - desc" or "not ok N - desc" and the first lines of
# stderr; client_summary prints the closing "N passed, N failed" line.

CLIENT_T=${CLIENT_TIMEOUT:-90}
pass=0 fail=0 n=0

# check DESC EXPECTED_RC EXPECTED_STDOUT|- CMD...
check() {
	local desc=$1 erc=$2 eout=$3; shift 3
	n=$((n + 1))
	local out rc errf=$WORK/err.$n
	out=$(timeout "$CLIENT_T" "$@" 2>"$errf" </dev/null); rc=$?
	if [ "$rc" = "$erc" ] && { [ "$eout" = - ] || [ "$out" = "$eout" ]; }; then
		pass=$((pass + 1)); echo "ok $n - $desc"
	else
		fail=$((fail + 1)); echo "not ok $n - $desc (rc=$rc want $erc; stdout=$(echo "$out" | head -c 200))"
		head -c 1500 "$errf" | sed 's/^/#   /'
	fi
}

# ensure_image DIR: the busybox OCI image (layout + oci-archive) the suites load
ensure_image() {
	local dir=$1
	[ -f "$dir/busybox.oci.tar" ] && return 0
	bash "$CLIENTS_DIR/../lib/make-image.sh" "$dir" >/dev/null
}

client_summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
