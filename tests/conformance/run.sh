#!/bin/bash
# run.sh — hull's OCI runtime-spec conformance suite: every
# tests/conformance/test_*.sh in turn (each check is tied to a MUST of the
# spec, see MUSTS.md), then, when available, the OCI runtime-tools validation
# suite (runtime-tools.sh).  Closes with one "N passed, N failed[, N skipped]"
# line summed over all of them; exit status non-zero on any failure.
# A test script that ends without its own summary counts as one failure
# (exit 77 without one: one skip).
# Env: HULL (default build/hull), CF_ONLY=lifecycle,hooks,... to run a subset.
# Runs as root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export HULL=${HULL:-$HERE/../../build/hull}

# Container processes orphaned by a test must be reaped by us, not by a PID 1
# that may not reap: become a child subreaper before starting anything.
. "$HERE/../lib/suite-runner.sh"
sr_become_subreaper CF_SUBREAPER "$@"

# one busybox rootfs for all scripts (each copies it per bundle)
CF_ROOTFS_CACHE=$(mktemp -d /var/tmp/hull-conf-rootfs.XXXXXX)
export CF_ROOTFS_CACHE
trap 'rm -rf "$CF_ROOTFS_CACHE"' EXIT
"$HERE/../lib/make-rootfs.sh" "$CF_ROOTFS_CACHE" || { echo "0 passed, 1 failed"; exit 1; }

# Test a snapshot of the binary: other work may rebuild build/hull meanwhile.
if [ -z "${CF_NO_SNAPSHOT:-}" ] && [ -x "$HULL" ]; then
	snap=$CF_ROOTFS_CACHE.bin
	mkdir -p "$snap"
	for f in "$HULL" "$(dirname "$HULL")"/hull-image.so "$(dirname "$HULL")"/hull-agent; do
		[ -e "$f" ] && cp "$f" "$snap/"
	done
	HULL=$snap/$(basename "$HULL")
	trap 'rm -rf "$CF_ROOTFS_CACHE" "$snap"' EXIT
fi

for t in "$HERE"/test_*.sh "$HERE"/runtime-tools.sh; do
	[ -e "$t" ] || continue
	name=$(basename "$t" .sh)
	if [ -n "${CF_ONLY:-}" ] && [[ ",$CF_ONLY," != *",${name#test_},"* ]]; then continue; fi
	echo "# $name"
	sr_run "$t"
done
sr_finish
