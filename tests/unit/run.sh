#!/bin/sh
# Run cmocka unit-test binaries; print each one's result and a closing
# "N passed, N failed" line summed over all of them.
pass=0; fail=0; status=0
for t in "$@"; do
	out=$("$t" 2>&1); rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0}; f=${f:-0}
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed before cmocka's summary
	pass=$((pass + p)); fail=$((fail + f))
	if [ "$f" != 0 ]; then
		status=1
		echo "FAIL $(basename "$t"): $p passed, $f failed"
		printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert|Sanitizer|runtime error' | head -20 | sed 's/^/    /'
	else
		echo "ok   $(basename "$t"): $p passed"
	fi
done
echo "$pass passed, $fail failed"
exit $status
