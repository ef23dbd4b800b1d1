# tap-suite.sh — the common opening of the image-run integration suites
# (test_image.sh, test_net.sh), sourced right after `set -uo pipefail`:
#
# ts_enter_ns GUARD "$@"   re-exec the calling script as a child subreaper in a
#                          private mount namespace (overlays and mounts a test
#                          makes stay there); GUARD names the env variable that
#                          marks the second run
# ts_require NAME CMD...   set HULL (default build/hull, made absolute); skip the
#                          whole suite (exit 77) without root, hull or a CMD
# ok / notok / skip DESC   one TAP-ish line, counted in N PASS FAIL SKIP
# check DESC COMMAND...    ok when COMMAND succeeds, else notok and show
#                          $RC/$OUT/$ERR on stderr
# finish                   the closing "N passed, N failed, N skipped" line;
#                          exits non-zero on any failure

TS_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ts_enter_ns() {
	local guard=$1; shift
	[ -n "${!guard:-}" ] && return 0
	export "$guard=1"
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' \
		unshare -m --propagation private -- bash "$0" "$@"
}

ts_require() {
	local name=$1 c; shift
	HULL=${HULL:-$TS_LIB/../../build/hull}
	case "$HULL" in */*) HULL=$(readlink -f "$HULL") ;; esac
	if [ ! -x "$HULL" ] || [ "$(id -u)" != 0 ]; then
		echo "$name: need root and a hull binary ($HULL)"
		echo "0 passed, 0 failed, 1 skipped"
		exit 77
	fi
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "$name: need $c"; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
	done
}

N=0 PASS=0 FAIL=0 SKIP=0
ok() { N=$((N + 1)); PASS=$((PASS + 1)); echo "ok $N - $*"; }
notok() { N=$((N + 1)); FAIL=$((FAIL + 1)); echo "not ok $N - $*"; }
skip() { N=$((N + 1)); SKIP=$((SKIP + 1)); echo "ok $N - # SKIP $*"; }
check() {   # DESC COMMAND...
	local desc=$1; shift
	if "$@"; then ok "$desc"; else
		notok "$desc"
		{ echo "    rc=${RC:-}"; printf '%s\n' "${OUT:-}" | head -15 | sed 's/^/    out: /'
		  printf '%s\n' "${ERR:-}" | head -5 | sed 's/^/    err: /'; } >&2
	fi
}
finish() {
	echo "$PASS passed, $FAIL failed, $SKIP skipped"
	[ "$FAIL" = 0 ]
	exit $?
}
