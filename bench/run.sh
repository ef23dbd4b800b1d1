#!/bin/bash
# `make bench`: every benchmark, side by side with the peer runtimes, in one
# run.  Numbers are reported, never asserted.  BENCH_N sets iterations.
# Every other bench/*.sh (image unpack, VM boot, network) runs after start.sh.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
status=0
echo "=== container start latency and memory: hull vs crun vs runc"
bash "$HERE/start.sh" "${BENCH_N:-30}" "${HULL:-$HERE/../build/hull}" crun runc || status=1
for b in "$HERE"/*.sh; do
	case $(basename "$b") in lib.sh|run.sh|start.sh) continue ;; esac
	echo
	echo "=== $(basename "$b" .sh)"
	bash "$b" || status=1
done
exit $status
