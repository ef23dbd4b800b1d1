# shellcheck shell=bash
# TAP helpers for the test host's suites (source it; bash).
#   ok DESC / not_ok DESC / skip DESC WHY / diag LINE...
#   check DESC CMD...    ok if CMD succeeds
#   expect_eq DESC GOT WANT
#   tap_include CMD...   re-emit a TAP-printing program's results as ours
#   finish               print "N passed, N failed[, N skipped]" and exit 0/1
_tap_n=0 _tap_pass=0 _tap_fail=0 _tap_skip=0

ok() { _tap_n=$((_tap_n + 1)) _tap_pass=$((_tap_pass + 1)); echo "ok $_tap_n - $*"; }
not_ok() { _tap_n=$((_tap_n + 1)) _tap_fail=$((_tap_fail + 1)); echo "not ok $_tap_n - $*"; }
skip() { _tap_n=$((_tap_n + 1)) _tap_skip=$((_tap_skip + 1)); echo "ok $_tap_n - $1 # SKIP $2"; }
diag() { printf '# %s\n' "$@"; }

# check DESC CMD...: ok if CMD succeeds
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# expect_eq DESC GOT WANT: also returns 1 on a mismatch
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1 ($2)"; else not_ok "$1: got '$2', want '$3'"; return 1; fi
}

tap_include() {
	local line out rc
	out=$("$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case $line in
		"not ok "*) not_ok "$(sed -E 's/^not ok [0-9]+ (- )?//' <<<"$line")" ;;
		"ok "*) ok "$(sed -E 's/^ok [0-9]+ (- )?//' <<<"$line")" ;;
		*" passed, "*" failed"*) ;;
		'') ;;
		"#"*) echo "$line" ;;
		*) diag "$line" ;;
		esac
	done <<<"$out"
	[ "$rc" = 0 ] || not_ok "$1 exited with status $rc"
	return "$rc"
}

finish() {
	if [ "$_tap_skip" -gt 0 ]; then
		echo "$_tap_pass passed, $_tap_fail failed, $_tap_skip skipped"
	else
		echo "$_tap_pass passed, $_tap_fail failed"
	fi
	[ "$_tap_fail" = 0 ]
	exit
}
