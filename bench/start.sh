#!/bin/bash
# bench/start.sh [N] [RUNTIME...] — container start latency and footprint,
# side by side in one run (default runtimes: hull crun runc; N=30).
#
# Each iteration runs every runtime once, interleaved, so machine noise hits
# them alike.  For every runtime it measures, in wall milliseconds:
#   run     RT run -b BUNDLE ID  of /bin/true in the foreground (stdio to /dev/null)
#   cycle   RT create + RT start + RT delete (the wait for /bin/true to exit is
#           not timed), plus each part
# and peak RSS in KiB (GNU time %M: the largest of the runtime process and any
# descendant it reaped) of `run` and `create`, and CPU ms per run.
# Reports medians (p90 in brackets) and ratios against the first runtime.
# Never asserts on timings.  The bundle: a static busybox rootfs with the
# config.json of `runc spec` (all default namespaces), args /bin/true.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_enter_ns "$HERE/start.sh" "$@"

N=${1:-30}; shift || true
[ $# -gt 0 ] || set -- "${HULL:-$HERE/../build/hull}" crun runc
RTS=() NAMES=()
for r in "$@"; do
	p=$(resolve_runtime "$r") || { echo "skip: $r not found" >&2; continue; }
	RTS+=("$p"); NAMES+=("$(basename "$p")")
done
W=${BENCH_DIR:-/var/tmp/hull-bench}
mkdir -p "$W"
B=$W/bundle-true
if [ ! -f "$B/config.json" ]; then
	bash "$HERE/../tests/lib/make-bundle.sh" "$B" /bin/true >/dev/null || { echo "cannot build bundle" >&2; exit 2; }
fi
TMP=$(mktemp -d "$W/run.XXXXXX")
ID=bench-$$
cleanup() { for r in "${RTS[@]}"; do "$r" delete -f "$ID" >/dev/null 2>&1; done; rm -rf "$TMP"; }
trap cleanup EXIT
TIME=/usr/bin/time

exec {SLEEPFD}<> <(:)
nap() { read -r -t "$1" -u "$SLEEPFD" _ 2>/dev/null; }
wait_exit() {  # until pid $1 is gone or a zombie; no forks
	local pid=$1 i st
	for ((i = 0; i < 1000; i++)); do
		[ -r "/proc/$pid/stat" ] || return 0
		read -r _ _ st _ < "/proc/$pid/stat" 2>/dev/null || return 0
		[ "$st" = Z ] && return 0
		nap 0.005
	done
	return 1
}

fails=0
for k in "${!RTS[@]}"; do
	rt=${RTS[$k]}
	"$rt" delete -f "$ID" >/dev/null 2>&1
	if ! "$rt" run -b "$B" "$ID" </dev/null >"$TMP/sanity" 2>&1; then
		echo "sanity run failed for ${NAMES[$k]}:" >&2; head -5 "$TMP/sanity" >&2; exit 1
	fi
	"$rt" delete -f "$ID" >/dev/null 2>&1
done

for ((i = -3; i < N; i++)); do
	for k in "${!RTS[@]}"; do
		rt=${RTS[$k]} n=${NAMES[$k]}
		t0=${EPOCHREALTIME/./}
		"$rt" run -b "$B" "$ID" </dev/null >/dev/null 2>>"$TMP/err.$n" || fails=$((fails + 1))
		t1=${EPOCHREALTIME/./}
		"$rt" delete -f "$ID" >/dev/null 2>&1   # no-op when run cleaned up (it should)
		: > "$TMP/pid"
		t2=${EPOCHREALTIME/./}
		"$rt" create -b "$B" --pid-file "$TMP/pid" "$ID" </dev/null >/dev/null 2>>"$TMP/err.$n" || fails=$((fails + 1))
		t3=${EPOCHREALTIME/./}
		"$rt" start "$ID" >/dev/null 2>>"$TMP/err.$n" || fails=$((fails + 1))
		t4=${EPOCHREALTIME/./}
		read -r pid < "$TMP/pid"
		wait_exit "${pid:-0}"
		t5=${EPOCHREALTIME/./}
		"$rt" delete "$ID" >/dev/null 2>>"$TMP/err.$n" || { fails=$((fails + 1)); "$rt" delete -f "$ID" >/dev/null 2>&1; }
		t6=${EPOCHREALTIME/./}
		if [ "$i" -ge 0 ]; then
			echo $(((t1 - t0))) >> "$TMP/run.$n"
			echo $(((t3 - t2))) >> "$TMP/create.$n"
			echo $(((t4 - t3))) >> "$TMP/start.$n"
			echo $(((t6 - t5))) >> "$TMP/delete.$n"
			echo $(((t3 - t2) + (t4 - t3) + (t6 - t5))) >> "$TMP/cycle.$n"
		fi
	done
done

M=$(( N < 10 ? N : 10 ))
for ((i = 0; i < M; i++)); do
	for k in "${!RTS[@]}"; do
		rt=${RTS[$k]} n=${NAMES[$k]}
		$TIME -f '%M %U %S' -o "$TMP/t" "$rt" run -b "$B" "$ID" </dev/null >/dev/null 2>>"$TMP/err.$n"
		read -r kb u s < <(tail -1 "$TMP/t"); echo "$kb" >> "$TMP/rss_run.$n"
		awk -v u="$u" -v s="$s" 'BEGIN{print (u+s)*1000}' >> "$TMP/cpu_run.$n"
		"$rt" delete -f "$ID" >/dev/null 2>&1
		$TIME -f '%M' -o "$TMP/t" "$rt" create -b "$B" "$ID" </dev/null >/dev/null 2>>"$TMP/err.$n"
		tail -1 "$TMP/t" >> "$TMP/rss_create.$n"
		"$rt" delete -f "$ID" >/dev/null 2>&1
	done
done

us_to_ms() { awk '{printf "%.3f\n", $1/1000}' "$1" > "$1.ms"; echo "$1.ms"; }
echo "host: $(nproc) cpus, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), N=$N (interleaved), bundle $B"
for k in "${!RTS[@]}"; do echo "  ${NAMES[$k]}: ${RTS[$k]} ($("${RTS[$k]}" --version 2>/dev/null | head -1))"; done
printf '%-16s' metric; for n in "${NAMES[@]}"; do printf '%20s' "$n"; done
for n in "${NAMES[@]:1}"; do printf '%14s' "${NAMES[0]}/$n"; done; echo
declare -A MED
for m in run create start delete cycle rss_run rss_create cpu_run; do
	unit=ms; case $m in rss_*) unit=KiB ;; esac
	printf '%-16s' "${m}_$unit"
	for n in "${NAMES[@]}"; do
		f=$TMP/$m.$n
		[ -s "$f" ] || { printf '%20s' n/a; MED[$m.$n]=nan; continue; }
		case $m in run|create|start|delete|cycle) f=$(us_to_ms "$f") ;; esac
		read -r med p90 < <(stats "$f")
		MED[$m.$n]=$med
		case $m in rss_*|cpu_*) printf '%20s' "$med" ;; *) printf '%20s' "$med ($p90)" ;; esac
	done
	for n in "${NAMES[@]:1}"; do
		awk -v a="${MED[$m.${NAMES[0]}]}" -v b="${MED[$m.$n]}" 'BEGIN{ if (b+0 > 0) printf "%14.2f", a/b; else printf "%14s", "n/a" }'
	done
	echo
done
echo "(ratio < 1: ${NAMES[0]} is faster/smaller)"
res="RESULT N=$N"
for n in "${NAMES[@]}"; do
	for m in run cycle rss_run; do res="$res ${n}_$m=${MED[$m.$n]}"; done
done
echo "$res"
for n in "${NAMES[@]}"; do
	[ -s "$TMP/err.$n" ] && { echo "stderr of $n (first lines):"; sort "$TMP/err.$n" | uniq -c | sort -rn | head -3; }
done
echo "failures: $fails"
[ "$fails" = 0 ]
