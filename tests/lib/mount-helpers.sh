# mount-helpers.sh — sourced by tests/integration/test_mounts.sh and
# tests/security/test_mount_escapes.sh.
#
# mh_init NAME "$@"    re-exec the calling script as a child subreaper inside a
#                      private mount namespace whose / is rshared (like a
#                      systemd host, so propagation can be observed and nothing
#                      a test mounts reaches the real host), set HULL, WORK
# mh_bundle DIR JQ [ARG...]  bundle from a cached busybox rootfs; JQ edits config.json
# mh_run DIR           `$HULL run` the bundle; stdout -> $OUT, stderr -> $ERR, rc -> $RC
# ok / notok / check   TAP-ish lines; mh_done prints the closing summary

MH_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MH_PASS=0 MH_FAIL=0 MH_SKIP=0 MH_N=0

mh_init() {
	local name=$1; shift
	if [ -z "${MH_IN_NS:-}" ]; then
		export MH_IN_NS=1
		exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' \
			unshare -m --propagation slave -- /bin/bash -c 'mount --make-rshared / && exec "$@"' bash "$@"
	fi
	HULL=${HULL:-$MH_LIB/../../build/hull}
	case "$HULL" in */*) HULL=$(readlink -f "$HULL") ;; esac
	command -v "$HULL" >/dev/null || { echo "$name: no hull binary at $HULL"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
	WORK=$(mktemp -d "/var/tmp/hull-$name.XXXXXX")
	chmod 755 "$WORK"   # user-namespaced containers must traverse it
	STATE=$WORK/state
	ROOTFS_CACHE=$WORK/rootfs-cache
	export ROOTFS_CACHE
	"$MH_LIB/make-rootfs.sh" "$ROOTFS_CACHE"
	trap mh_cleanup EXIT
}

mh_cleanup() {
	# unmount anything still below WORK (deepest first), then delete
	grep -o " $WORK[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	rm -rf --one-file-system "$WORK"
}

mh_bundle() {  # DIR JQ-FILTER [ARG...]
	local dir=$1 filter=$2; shift 2
	rm -rf "$dir"
	NO_CGROUP_MOUNT=${NO_CGROUP_MOUNT:-} "$MH_LIB/make-bundle.sh" "$dir" "$@" >/dev/null
	jq "$filter" "$dir/config.json" > "$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}

MH_ID=0
mh_run() {  # DIR [extra run flags...]
	local dir=$1; shift
	MH_ID=$((MH_ID + 1))
	local id="mh$$-$MH_ID"
	OUT=$(cd "$dir" && timeout 60 "$HULL" --root "$STATE" run "$@" --bundle "$dir" "$id" 2>"$WORK/stderr")
	RC=$?
	ERR=$(cat "$WORK/stderr")
	"$HULL" --root "$STATE" delete -f "$id" >/dev/null 2>&1 || true
}

ok() { MH_N=$((MH_N + 1)); MH_PASS=$((MH_PASS + 1)); echo "ok $MH_N - $*"; }
notok() { MH_N=$((MH_N + 1)); MH_FAIL=$((MH_FAIL + 1)); echo "not ok $MH_N - $*"; }
skip() { MH_N=$((MH_N + 1)); MH_SKIP=$((MH_SKIP + 1)); echo "ok $MH_N - # SKIP $*"; }

# check DESC COMMAND...: ok when the command succeeds; on failure show what
# the container printed, to make the failing line self-explaining.
check() {
	local desc=$1; shift
	if "$@"; then
		ok "$desc"
	else
		notok "$desc"
		{ echo "    rc=$RC"; printf '%s\n' "$OUT" | head -20 | sed 's/^/    out: /'
		  printf '%s\n' "$ERR" | head -5 | sed 's/^/    err: /'; } >&2
	fi
}

# mountinfo line for mount point $2 in the captured output $1 (last one wins)
mi_line() { printf '%s\n' "$1" | awk -v mp="$2" '$5 == mp' | tail -1; }
# per-mount options (field 6) and superblock options (after " - fstype source ")
mi_opts() { mi_line "$1" "$2" | awk '{print $6}'; }
mi_fstype() { mi_line "$1" "$2" | awk '{for (i = 7; i <= NF; i++) if ($i == "-") {print $(i+1); exit}}'; }
mi_sbopts() { mi_line "$1" "$2" | awk '{for (i = 7; i <= NF; i++) if ($i == "-") {print $(i+3); exit}}'; }
mi_optional() { mi_line "$1" "$2" | awk '{s = ""; for (i = 7; i <= NF && $i != "-"; i++) s = s " " $i; print s}'; }
has_opt() { case ",$1," in *",$2,"*) return 0 ;; *) return 1 ;; esac; }

mh_done() {
	if [ "$MH_SKIP" -gt 0 ]; then
		echo "$MH_PASS passed, $MH_FAIL failed, $MH_SKIP skipped"
	else
		echo "$MH_PASS passed, $MH_FAIL failed"
	fi
	[ "$MH_FAIL" -eq 0 ]
}
