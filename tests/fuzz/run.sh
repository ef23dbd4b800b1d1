#!/bin/bash
# Build and run every libFuzzer target tests/fuzz/fuzz_*.c.
#
# Each target names what it needs in header comments:
#   // FUZZ-SOURCES: oci/config.c lib/err.c …   repo sources to link (required)
#   // FUZZ-LIBS: -lyajl -lcap                   extra link flags (optional)
#   // FUZZ-CORPUS: tests/unit/data …            seed directories (optional)
# and tests/fuzz/<name>.dict, if present, is used as the libFuzzer dictionary.
# Environment: FUZZ_SECONDS (default 20) per target, BUILD (default build),
# FUZZ_TARGETS="fuzz_a fuzz_b" to run a subset, CC (default clang).
# Prints "ok N - name" / "not ok N - name" and one "N passed, N failed" line.
set -u
cd "$(dirname "$0")/../.." || exit 1
SRCDIR=$(pwd)
BUILD=${BUILD:-$SRCDIR/build}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
CC=${FUZZ_CC:-clang}
OUT=$BUILD/fuzz
mkdir -p "$OUT"

CFLAGS="-g -O1 -std=gnu11 -fno-strict-aliasing -D_GNU_SOURCE -I$SRCDIR
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

header() {   # header FILE KEY -> value of "// KEY: value"
	sed -n "s|^// $2: *||p" "$1" | head -1
}

pass=0; fail=0; n=0
for src in tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then
		continue
	fi
	n=$((n + 1))
	sources=$(header "$src" FUZZ-SOURCES)
	libs=$(header "$src" FUZZ-LIBS)
	corpus_dirs=$(header "$src" FUZZ-CORPUS)
	bin=$OUT/$name
	log=$OUT/$name.log
	# shellcheck disable=SC2086
	if ! $CC $CFLAGS -o "$bin" "$src" $sources $libs >"$log" 2>&1; then
		echo "not ok $n - $name (build failed, see $log)"
		sed 's/^/    /' "$log" | head -20
		fail=$((fail + 1))
		continue
	fi
	# libFuzzer writes new inputs into the first corpus dir: keep it out of the repo
	work=$OUT/corpus-$name
	mkdir -p "$work"
	seeds=()
	for d in $corpus_dirs; do
		[ -d "$d" ] && seeds+=("$d")
	done
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=("-dict=tests/fuzz/$name.dict")
	if "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$OUT/$name-" -print_final_stats=1 "${dict[@]}" \
		"$work" "${seeds[@]}" >"$log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
		echo "ok $n - $name (${execs:-?} runs in ${FUZZ_SECONDS}s)"
		pass=$((pass + 1))
	else
		echo "not ok $n - $name (crash; reproducer and log under $OUT/$name-*)"
		grep -E 'ERROR|SUMMARY|runtime error|==[0-9]+==' "$log" | head -20 | sed 's/^/    /'
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
