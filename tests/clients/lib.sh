# tests/clients/lib.sh — shared by the client suites (podman, containerd).
# Each check prints "ok N - desc", "ok N - desc # SKIP reason" or
# "not ok N - desc" and the first lines of its output; client_summary prints
# the closing "N passed, N failed[, N skipped]" line.

CLIENT_T=${CLIENT_TIMEOUT:-90}
STEP_T=${CLIENT_STEP_TIMEOUT:-30}
pass=0 fail=0 skip=0 n=0

# check DESC EXPECTED_RC EXPECTED_STDOUT|- CMD...
check() {
	local desc=$1 erc=$2 eout=$3; shift 3
	n=$((n + 1))
	local out rc errf=${ERRDIR:-$WORK}/err.$n
	out=$(timeout "$CLIENT_T" "$@" 2>"$errf" </dev/null); rc=$?
	if [ "$rc" = "$erc" ] && { [ "$eout" = - ] || [ "$out" = "$eout" ]; }; then
		pass=$((pass + 1)); echo "ok $n - $desc"
	else
		fail=$((fail + 1)); echo "not ok $n - $desc (rc=$rc want $erc; stdout=$(echo "$out" | head -c 200))"
		head -c 1500 "$errf" | sed 's/^/#   /'
	fi
}

# check_fn DESC FUNC [ARG...]: a multi-step check written as a shell function
# (run in a subshell; every client call inside goes through tmo, so it cannot
# hang).  0 passes; 77 is a skip whose reason is the function's last output
# line; anything else fails and shows the output.  Functions explain a
# failure by printing what they saw.
check_fn() {
	local desc=$1 rc errf; shift
	n=$((n + 1))
	errf=${ERRDIR:-$WORK}/err.$n
	( "$@" ) >"$errf" 2>&1 </dev/null; rc=$?
	if [ "$rc" = 0 ]; then
		pass=$((pass + 1)); echo "ok $n - $desc"
	elif [ "$rc" = 77 ]; then
		skip=$((skip + 1)); echo "ok $n - $desc # SKIP $(tail -n 1 "$errf")"
	else
		fail=$((fail + 1)); echo "not ok $n - $desc (rc=$rc)"
		tail -c 1500 "$errf" | sed 's/^/#   /'
	fi
}

# tmo CMD...: one client call, bounded by STEP_T seconds
tmo() { timeout "$STEP_T" "$@"; }

# until_true SECONDS CMD...: poll CMD every 0.1 s until it succeeds
until_true() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# The counter a check container runs: /tmp/cnt grows while it is not frozen.
# It is appended to and its size is read, never rewritten: a reader could
# catch a rewritten file empty, and a container frozen between truncate and
# write would show it empty for good.
COUNTER_SH='while :; do echo x >> /tmp/cnt; sleep 0.05; done'

# counter PID: the counter of the container whose init is PID (read from the
# host through /proc, which also works while the container is frozen)
counter() { stat -L -c %s "/proc/$1/root/tmp/cnt" 2>/dev/null || echo 0; }

# private_runtime DIR: a copy of $HULL in DIR for this run (printed).  On a
# shared build machine another session may relink build/hull while a suite
# runs, and conmon then refuses it ("Runtime path ... is not valid").
private_runtime() {
	local dst=$1/hull.$$
	cp "$HULL" "$dst.tmp" && chmod 755 "$dst.tmp" && mv -f "$dst.tmp" "$dst" && "$dst" --version >/dev/null && echo "$dst"
}

# expect_frozen PID: the counter stays put (and is not 0) for 0.6 s
expect_frozen() {
	local a b
	a=$(counter "$1"); sleep 0.6; b=$(counter "$1")
	echo "counter $a then $b over 0.6 s"
	[ "$a" -gt 0 ] && [ "$a" = "$b" ]
}

# expect_progress PID: the counter moves within 3 s
expect_progress() {
	local a b end=$((SECONDS + 3))
	a=$(counter "$1")
	while b=$(counter "$1"); [ "$b" = "$a" ]; do
		[ "$SECONDS" -lt "$end" ] || { echo "counter stuck at $a for 3 s"; return 1; }
		sleep 0.1
	done
	echo "counter $a then $b"
}

# cg_value PID V1_CONTROLLER V1_FILE V2_FILE: a file of PID's own cgroup,
# found through /proc/PID/cgroup: the v1 hierarchy of the controller on v1 and
# hybrid hosts (where the memory/pids/cpu controllers are v1), the unified
# tree on a pure cgroup2 host.
cg_value() {
	local pid=$1 ctrl=$2 f1=$3 f2=$4 path
	if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
		path=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$path/$f2"
	else
		path=$(awk -F: -v c="$ctrl" '{ k = split($2, a, ","); for (i = 1; i <= k; i++) if (a[i] == c) print $3 }' \
			"/proc/$pid/cgroup")
		[ -n "$path" ] || { echo "no $ctrl line in /proc/$pid/cgroup" >&2; return 1; }
		cat "/sys/fs/cgroup/$ctrl$path/$f1"
	fi
}

# ensure_image DIR: the busybox OCI image (layout + oci-archive) the suites load
ensure_image() {
	local dir=$1
	[ -f "$dir/busybox.oci.tar" ] && return 0
	bash "$CLIENTS_DIR/../lib/make-image.sh" "$dir" >/dev/null
}

client_summary() {
	if [ "$skip" -gt 0 ]; then
		echo "$pass passed, $fail failed, $skip skipped"
	else
		echo "$pass passed, $fail failed"
	fi
	[ "$fail" = 0 ]
}
