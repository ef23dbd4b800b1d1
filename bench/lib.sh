# bench/lib.sh — sourced by the benchmark scripts.
#
# bench_enter_ns SCRIPT ARGS...: re-executes the calling script (once) as a
# child subreaper (orphaned container inits are reaped by us, as systemd would)
# inside a private mount namespace.  On a hybrid-cgroup host whose cgroup2
# tree lists controllers, an empty file is bind-mounted over
# /sys/fs/cgroup/unified/cgroup.controllers in that namespace only, because
# crun refuses to start any container on such a layout; every runtime in one
# benchmark run sees the same environment.  Nothing global changes.
# BENCH_HYBRID_FIX=none disables the workaround (crun then fails here).

UNIFIED_CTRL=/sys/fs/cgroup/unified/cgroup.controllers

bench_enter_ns() {
	[ -n "${BENCH_IN_NS:-}" ] && return 0
	export BENCH_IN_NS=1
	local pre=(python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])')
	if [ "${BENCH_HYBRID_FIX:-ns}" = none ] || [ -z "$(cat "$UNIFIED_CTRL" 2>/dev/null)" ]; then
		exec "${pre[@]}" /bin/bash "$@"
	fi
	local empty=/run/hull-bench-empty-controllers
	: > "$empty"
	exec unshare -m --propagation slave -- /bin/bash -c '
		mount --bind "$0" '"$UNIFIED_CTRL"' || exit 125
		mount --make-rshared / || exit 125
		exec "$@"' "$empty" "${pre[@]}" /bin/bash "$@"
}

resolve_runtime() {
	local r=$1
	case "$r" in
		*/*) r=$(readlink -f "$r") ;;
		*) r=$(command -v "$r") ;;
	esac
	[ -n "$r" ] && [ -x "$r" ] || { echo "runtime not executable: $1" >&2; return 1; }
	echo "$r"
}

# stats FILE -> "median p90" of the numbers in FILE (one per line)
stats() {
	sort -n "$1" | awk '{a[NR]=$1} END{ if(NR==0){print "nan nan"; exit}
		m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2
		p = a[int(0.9*NR + 0.999)]; if (p=="") p=a[NR]
		printf "%.2f %.2f\n", m, p }'
}

# umount everything at or below DIR, deepest first, then remove it without
# crossing filesystems (a leaked rootfs mount must never be rm -rf'ed through)
safe_rm() {
	local d
	[ -e "$1" ] || return 0
	d=$(readlink -f "$1") || return 0
	awk -v p="$d" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo |
		sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf --one-file-system "$d" 2>/dev/null
}
