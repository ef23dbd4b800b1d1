#!/bin/bash
# `make demo`: build the example image (a busybox userland from Debian's
# busybox-static, as an OCI image layout) and run containers from it with the
# freshly built hull — once as an OCI bundle (runc's way, what Podman and
# containerd do) and once straight from the image.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HULL=${HULL:-$HERE/../build/hull}
W=${DEMO_DIR:-/var/tmp/hull-demo}
ROOT=$W/state
mkdir -p "$W"

# Orphaned processes must be reaped by us on hosts whose PID 1 does not reap.
if [ -z "${HULL_SUBREAPER:-}" ]; then
	export HULL_SUBREAPER=1
	exec python3 -c 'import ctypes,os,sys; ctypes.CDLL(None).prctl(36,1,0,0,0); os.execvp(sys.argv[1], sys.argv[1:])' bash "$0" "$@"
fi

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

echo "hull demo — $("$HULL" --version | head -1)"
if [ ! -f "$W/image/busybox.oci.tar" ]; then
	echo "building the example image in $W/image …"
	bash "$HERE/../tests/lib/make-image.sh" "$W/image" >/dev/null
fi

B=$W/bundle
rm -rf "$B"; mkdir -p "$B"
bash "$HERE/../tests/lib/make-rootfs.sh" "$B/rootfs" >/dev/null
(cd "$B" && "$HULL" spec)
jq '.process.terminal = false | .process.args = ["sh", "-c", "echo hello from $(hostname): pid $$, uid $(id -u); ls /"]' \
	"$B/config.json" > "$B/config.json.new" && mv "$B/config.json.new" "$B/config.json"

say hull run --bundle "$B" demo
"$HULL" --root "$ROOT" run --bundle "$B" demo

say "hull run (exit status propagates)"
jq '.process.args = ["sh", "-c", "exit 7"]' "$B/config.json" > "$B/c.json" && mv "$B/c.json" "$B/config.json"
set +e; "$HULL" --root "$ROOT" run --bundle "$B" demo; echo "exit status: $?"; set -e

if "$HULL" --help 2>&1 | grep -qw pull || [ -n "$(ls "$HERE/../build/hull-image.so" 2>/dev/null)" ]; then
	say hull run --rm "oci:$W/image/oci:latest" sh -c 'cat /etc/hostname; uname -sr'
	"$HULL" --root "$ROOT" run --rm "oci:$W/image/oci:latest" sh -c 'cat /etc/hostname; uname -sr'
fi
echo
echo "demo done."
