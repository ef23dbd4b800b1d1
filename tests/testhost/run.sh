#!/bin/bash
# make check-testhost: run the suites that need a real KVM and a pure
# cgroup v2 (see run-suites.sh for which) where those exist.
#
# If this host has both, the suites run here directly.  Otherwise (e.g. a
# build machine whose /dev/kvm is PVM and whose cgroups are hybrid) they run
# inside the test host: a QEMU-TCG VM ("L1") with an emulated AMD SVM CPU,
# running Debian's stock cloud kernel with kvm_amd and a pure cgroup2
# hierarchy.  Either way the output is the suites' TAP lines, "# " comments
# with timings, and one closing "N passed, N failed, N skipped" line; the exit
# status is non-zero if anything failed.
#
# Environment:
#   HULL, BUILD                 set by the Makefile (build/hull, build/)
#   HULL_TESTHOST=auto|force|never  auto (default): boot L1 only if needed;
#                               force: always boot; never: always run here
#   HULL_TESTHOST_SUITES        only these suites (names or globs: "kvm cgroupv2")
#   HULL_TESTHOST_CACHE         kernel cache (default ~/.cache/hull-testhost)
#   HULL_TESTHOST_TIMEOUT       whole VM run, seconds (default 1200)
#   HULL_TESTHOST_BOOT_TIMEOUT  until the suites start, seconds (default 240)
#   HULL_TESTHOST_SUITE_TIMEOUT per suite, seconds (default 480)
#   HULL_TESTHOST_CPU, _SMP, _MEM   QEMU -cpu / -smp / -m for L1
#   HULL_TESTHOST_APPEND        more kernel command line for L1
#   HULL_TESTHOST_EXTRA_BINS    more host programs to carry into L1 (see build-initramfs.sh)
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build}
HULL=${HULL:-$BUILD/hull}
mode=${HULL_TESTHOST:-auto}
out=$BUILD/testhost
export HULL_TESTHOST_CACHE=${HULL_TESTHOST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hull-testhost}
timeout_s=${HULL_TESTHOST_TIMEOUT:-1200}
boot_timeout_s=${HULL_TESTHOST_BOOT_TIMEOUT:-240}
suite_timeout_s=${HULL_TESTHOST_SUITE_TIMEOUT:-480}

case $mode in auto | force | never) ;; *)
	echo "testhost: HULL_TESTHOST must be auto, force or never (got '$mode')" >&2
	echo "0 passed, 1 failed"
	exit 1
	;;
esac
mkdir -p "$out"

# Orphaned container processes must be reaped by us, not by a PID 1 that may not reap.
if [ -z "${HULL_SUBREAPER:-}" ] && command -v python3 >/dev/null; then
	export HULL_SUBREAPER=1
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' bash "$0" "$@"
fi

# Harness-level results (numbered after the suites' own) and the final line.
extra_fail=0
harness_fail() { extra_fail=$((extra_fail + 1)); harness_lines+=("$*"); }
harness_lines=()
inner_n=0 inner_pass=0 inner_fail=0 inner_skip=0 have_summary=

# print_result_line LINE: pass a suite line through and count it; hold back the summary.
print_result_line() {
	local line=$1
	case $line in
	# Counted from the result lines, so a run cut short still reports what passed.
	[0-9]*" passed, "*" failed"*) have_summary=1 ;;
	"not ok "*)
		inner_n=$(sed -E 's/^not ok ([0-9]+).*/\1/' <<<"$line") inner_fail=$((inner_fail + 1))
		echo "$line"
		;;
	"ok "*)
		inner_n=$(sed -E 's/^ok ([0-9]+).*/\1/' <<<"$line")
		case $line in
		*"# SKIP"* | *"# skip"*) inner_skip=$((inner_skip + 1)) ;;
		*) inner_pass=$((inner_pass + 1)) ;;
		esac
		echo "$line"
		;;
	*) echo "$line" ;;
	esac
}

finish() {
	local l
	[ -n "$have_summary" ] || [ "$extra_fail" -gt 0 ] || harness_fail "the suites ended without their summary line"
	for l in "${harness_lines[@]}"; do
		inner_n=$((inner_n + 1))
		echo "not ok $inner_n - testhost: $l"
	done
	echo "$inner_pass passed, $((inner_fail + extra_fail)) failed, $inner_skip skipped"
	[ $((inner_fail + extra_fail)) = 0 ]
	exit
}

# ---- kvm_smoke: a static binary, so the same file runs on the host and in L1
kvm_smoke=$out/kvm_smoke
if [ ! -x "$kvm_smoke" ] || [ "$here/kvm_smoke.c" -nt "$kvm_smoke" ]; then
	if ! ${CC:-gcc} -static -O2 -std=gnu11 -Wall -Wextra -Werror -o "$kvm_smoke" "$here/kvm_smoke.c"; then
		harness_fail "build kvm_smoke (needs a static libc: libc6-dev)"
		finish
	fi
fi
export KVM_SMOKE=$kvm_smoke

# ---- where to run
# Pure cgroup v2: /sys/fs/cgroup itself is a cgroup2 mount (hybrid hosts have
# a tmpfs there with v1 hierarchies and cgroup2 only at .../unified).
# Real KVM: the real-mode smoke test passes AND /dev/kvm is backed by the
# hardware-assisted vendor module (kvm_intel or kvm_amd, with vmx/svm in the
# CPU flags).  PVM passes the smoke test but cannot boot a stock kernel; it
# shows up as the kvm_pvm module (/sys/module/kvm_pvm), with no vmx/svm flag.
host_lacks=()
[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] || host_lacks+=("pure cgroup v2")
if [ -d /sys/module/kvm_pvm ]; then
	host_lacks+=("real KVM (/dev/kvm is PVM)")
elif ! { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } ||
	! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	host_lacks+=("real KVM (no kvm_intel/kvm_amd with vmx/svm)")
elif ! "$kvm_smoke" -q; then
	host_lacks+=("real KVM (kvm_smoke fails)")
fi

if [ "$mode" = never ] || { [ "$mode" = auto ] && [ ${#host_lacks[@]} = 0 ]; }; then
	echo "# testhost: running the suites directly on this host (HULL_TESTHOST=$mode)"
	t0=$(date +%s)
	while IFS= read -r line; do print_result_line "$line"; done < <(
		cd "$repo" && HULL=$HULL BUILD=$BUILD HULL_TESTHOST_SUITE_TIMEOUT=$suite_timeout_s \
			bash "$here/run-suites.sh" 2>&1)
	echo "# testhost: suites took $(($(date +%s) - t0))s"
	finish
fi

if [ ${#host_lacks[@]} -gt 0 ]; then
	lacks=$(IFS=,; echo "${host_lacks[*]}")
	echo "# testhost: this host lacks ${lacks//,/, }; booting the test host VM"
else
	echo "# testhost: booting the test host VM (HULL_TESTHOST=force)"
fi

# ---- one run at a time per build dir (the initramfs and logs live there)
exec 9>"$out/lock"
flock 9

qemu=$(command -v qemu-system-x86_64) || {
	harness_fail "qemu-system-x86_64 is not installed (make deps installs qemu-system-x86)"
	finish
}

t_prep=$(date +%s.%N)
exec 8>&1   # fetch-kernel's messages must bypass the $(...) that takes its result
if ! kdir=$(bash "$here/fetch-kernel.sh" 2> >(sed 's/^/# /' >&8)); then
	harness_fail "fetch Debian's cloud kernel (see the message above)"
	finish
fi
REPO=$repo BUILD=$BUILD KVM_SMOKE=$kvm_smoke bash "$here/build-initramfs.sh" "$kdir" "$out/l1.cpio" 2>&1 | sed 's/^/# /'
if [ "${PIPESTATUS[0]}" != 0 ]; then
	harness_fail "build the test host initramfs"
	finish
fi
echo "# testhost: kernel $(cat "$kdir/release") ($(basename "$kdir")), prepared in $(awk -v a="$t_prep" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')s"

console=$out/console.log results=$out/results.log
: >"$console"
: >"$results"
append="console=ttyS0 panic=-1 rdinit=/init quiet loglevel=4 hull_suite_timeout=$suite_timeout_s ${HULL_TESTHOST_APPEND:-}"
[ -n "${HULL_TESTHOST_SUITES:-}" ] && append="$append hull_suites=$(echo "$HULL_TESTHOST_SUITES" | tr ' ' ,)"

# -nodefaults: no VGA, NIC or option ROMs to initialise under TCG.  ttyS0 gets
# the kernel's messages, ttyS1 only the suites' results.
t_boot=$(date +%s.%N)
"$qemu" -accel tcg,thread=multi -cpu "${HULL_TESTHOST_CPU:-qemu64,+svm,+npt,+vgif}" \
	-smp "${HULL_TESTHOST_SMP:-2}" -m "${HULL_TESTHOST_MEM:-2048}" -machine pc \
	-nodefaults -no-user-config -display none -no-reboot -monitor none \
	-kernel "$kdir/vmlinuz" -initrd "$out/l1.cpio" -append "$append" \
	-serial "file:$console" -serial "file:$results" \
	</dev/null >"$out/qemu.log" 2>&1 &
qemu_pid=$!

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
show_console() {
	echo "# --- last 50 lines of the test host console ($console):"
	tr -d '\r' <"$console" | tail -n 50 | sed 's/^/#   /'
	if [ -s "$out/qemu.log" ]; then
		echo "# --- qemu said:"
		sed 's/^/#   /' "$out/qemu.log"
	fi
}

printed=0 began='' ended='' end_rc='' t_suites=''
while :; do
	alive=1
	kill -0 "$qemu_pid" 2>/dev/null || alive=
	# Print complete new lines of the results channel as they arrive.
	total=$(wc -l <"$results")
	if [ "$total" -gt "$printed" ]; then
		while IFS= read -r line; do
			line=${line%$'\r'}
			case $line in
			TESTHOST_BEGIN*)
				began=1 t_suites=$(date +%s.%N)
				echo "# testhost: booted in $(elapsed "$t_boot")s (L1 uptime: $(sed -nE 's/.*uptime=([0-9.]+) stage2=([0-9.]+).*/\2s at stage 2 of \/init, \1s with modules loaded/p' <<<"$line"))"
				;;
			TESTHOST_END*)
				ended=1
				end_rc=$(sed -nE 's/.*rc=([0-9]+).*/\1/p' <<<"$line")
				;;
			*) print_result_line "$line" ;;
			esac
		done < <(sed -n "$((printed + 1)),${total}p" "$results")
		printed=$total
	fi
	[ -n "$ended" ] && break
	if [ -z "$alive" ]; then
		wait "$qemu_pid"
		harness_fail "the VM stopped before its suites finished (qemu exit $?)"
		show_console
		finish
	fi
	if [ -z "$began" ] && [ "$(elapsed "$t_boot" | cut -d. -f1)" -ge "$boot_timeout_s" ]; then
		kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null
		harness_fail "the VM did not start its suites within ${boot_timeout_s}s (HULL_TESTHOST_BOOT_TIMEOUT)"
		show_console
		finish
	fi
	if [ "$(elapsed "$t_boot" | cut -d. -f1)" -ge "$timeout_s" ]; then
		kill "$qemu_pid"; wait "$qemu_pid" 2>/dev/null
		harness_fail "the VM run exceeded ${timeout_s}s (HULL_TESTHOST_TIMEOUT)"
		show_console
		finish
	fi
	sleep 0.5
done

echo "# testhost: suites took $(elapsed "$t_suites")s in the VM"
# The guest reboots right after its END marker; give QEMU a moment to exit.
for _ in $(seq 60); do kill -0 "$qemu_pid" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$qemu_pid" 2>/dev/null; then
	kill "$qemu_pid"
	echo "# testhost: the VM did not power off after its suites; killed it"
fi
wait "$qemu_pid" 2>/dev/null
echo "# testhost: whole VM run $(elapsed "$t_boot")s"
[ "${end_rc:-1}" = 0 ] || [ "$inner_fail" != 0 ] || harness_fail "the suites exited with status ${end_rc:-?}"
finish
