#!/bin/bash
# test_image.sh — image runs end to end: `hull run` from oci:, oci-archive:,
# docker-archive: and registry references (Debian's docker-registry on
# 127.0.0.1, without and with htpasswd auth; a small fake registry for bearer
# tokens, a dropped connection resumed with Range, and a multi-arch index);
# image config conversion and run flags checked from inside the container;
# digest mismatch and truncated blobs leave nothing half-written in the
# store; hostile layers write nothing outside; a 200-layer image runs
# (overlay with the new mount API and with the short-name fallback, and the
# copy fallback); whiteouts; detached runs and their cleanup hook; image
# ls/inspect/rm/prune; the runc-form `run -b BUNDLE ID` still means a bundle.
# Env: HULL (default build/hull).  Runs as root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
LIB=$HERE/../lib

. "$LIB/tap-suite.sh"

ts_enter_ns IMG_IN_NS "$@"
ts_require test_image umoci skopeo jq python3

WORK=$(mktemp -d /var/tmp/hull-test-image.XXXXXX)
STORE=$WORK/store STATE=$WORK/state
FAKE_PID=
cleanup() {
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	registry_stop 2>/dev/null
	for c in $("$HULL" --root "$STATE" list -q 2>/dev/null); do "$HULL" --root "$STATE" delete -f "$c" >/dev/null 2>&1; done
	grep -o " $WORK[^ ]*" /proc/self/mountinfo 2>/dev/null | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	rm -rf --one-file-system "$WORK"
}
trap cleanup EXIT
. "$LIB/registry.sh"

# h ARGS...: hull with the test's state dir; stdout -> OUT, stderr -> ERR, rc -> RC
h() {
	OUT=$(timeout 120 "$HULL" --root "$STATE" "$@" 2>"$WORK/stderr" </dev/null)
	RC=$?
	ERR=$(cat "$WORK/stderr")
}
hrun() { h run --store "$STORE" "$@"; }
has() { grep -qx -- "$1" <<<"$OUT"; }
err_has() { grep -qi -- "$1" <<<"$ERR"; }

# the store holds only verified objects: every blob hashes to its name, tmp/ is empty
store_clean() {
	local s=${1:-$STORE} f
	[ -z "$(ls -A "$s/tmp" 2>/dev/null)" ] || { echo "    leftover in tmp: $(ls "$s/tmp")" >&2; return 1; }
	for f in "$s"/blobs/sha256/*; do
		[ -e "$f" ] || continue
		[ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$(basename "$f")" ] || { echo "    bad blob $f" >&2; return 1; }
	done
	return 0
}

IMG=$WORK/img
"$LIB/make-image.sh" "$IMG" >/dev/null 2>&1 || { echo "test_image: make-image.sh failed"; echo "0 passed, 1 failed"; exit 1; }

# ---- one run per reference kind -------------------------------------------
hrun --rm "oci:$IMG/oci:latest" sh -c 'echo from-oci; cat /etc/hostname'
check "run oci:DIR:ref" eval '[ "$RC" = 0 ] && has from-oci'
OUT=$(timeout 60 script -qec "$HULL --root $STATE run --store $STORE --rm -it oci:$IMG/oci:latest sh -c 'echo tty-run; exit 3'" /dev/null </dev/null 2>&1); RC=$?
check "run --rm -it under script(1) returns with the process's status 3" eval '[ "$RC" = 3 ] && grep -q tty-run <<<"$OUT"'
hrun --rm "oci-archive:$IMG/busybox.oci.tar" echo from-oci-archive
check "run oci-archive:FILE" eval '[ "$RC" = 0 ] && has from-oci-archive'
hrun --rm "docker-archive:$IMG/busybox.docker.tar" echo from-docker-archive
check "run docker-archive:FILE" eval '[ "$RC" = 0 ] && has from-docker-archive'
h image --store "$STORE" ls -q
check "image ls names the archive's own image (localhost/busybox:latest)" has localhost/busybox:latest
hrun --rm localhost/busybox echo by-name
check "run by stored name (no transport, no network)" eval '[ "$RC" = 0 ] && has by-name'
check "layers stored once: one unpacked layer for three imports of the same rootfs" \
	[ "$(ls "$STORE/layers/sha256" | wc -l)" = 1 ]
check "no container dirs left after --rm" [ -z "$(ls -A "$STORE/containers")" ]
check "store holds only verified blobs, tmp/ empty" store_clean

h image --store "$STORE" import "$IMG/busybox.docker.tar" localhost/imported:1
h image --store "$STORE" import "$IMG/busybox.oci.tar" localhost/imported-oci:1
hrun --rm localhost/imported:1 echo imported
check "image import FILE NAME (docker save and OCI archives detected)" eval '[ "$RC" = 0 ] && has imported'

# ---- conversion and flags -------------------------------------------------
cp -a "$IMG/oci" "$WORK/conf"
umoci config --image "$WORK/conf:latest" --tag conf --config.entrypoint /bin/sh --config.entrypoint -c \
	--config.cmd 'echo "args:$0:$1"; id -u; id -g; pwd; echo "FOO=$FOO"; echo "HOME=$HOME"; grep -c " /data " /proc/self/mounts' \
	--config.cmd arg1 --config.user daemon --config.workingdir /tmp --config.env FOO=bar \
	--config.volume /data --config.volume /etc --config.label org.example=yes --config.stopsignal SIGQUIT >/dev/null 2>&1
hrun --rm "oci:$WORK/conf:conf"
check "Entrypoint + Cmd, User daemon (1:1), WorkingDir, Env, HOME from passwd, Volume mounted" \
	eval '[ "$RC" = 0 ] && has "args:arg1:" && [ "$(printf "%s\n" "$OUT" | sed -n 2,4p | tr "\n" " ")" = "1 1 /tmp " ] && has FOO=bar && has HOME=/usr/sbin && has 1'
hrun --rm -u 0 --hostname vol-host "oci:$WORK/conf:conf" 'cat /etc/passwd | head -1; grep -c " /etc " /proc/self/mounts; touch /etc/new-in-volume && echo wrote; cat /etc/hostname'
check "an image Volume starts with the image's content (seeded copy, writable), /etc/hostname still bound over it" \
	eval '[ "$RC" = 0 ] && has "root:x:0:0:root:/root:/bin/sh" && has wrote && has vol-host'
hrun --rm -u 0:0 -w / -e FOO=over -e ONLY=1 "oci:$WORK/conf:conf" 'echo "$FOO $ONLY $(id -u) $(pwd)"'
check "-u -w -e override the image (args after the image replace Cmd)" eval '[ "$RC" = 0 ] && has "over 1 0 /"'
printf 'A=1\n# comment\nB=two words\n' > "$WORK/envfile"
hrun --rm --env-file "$WORK/envfile" --entrypoint /bin/sh localhost/busybox -c 'echo "$A|$B"'
check "--env-file and --entrypoint" eval '[ "$RC" = 0 ] && has "1|two words"'
mkdir -p "$WORK/vol" && echo host-data > "$WORK/vol/f"
hrun --rm -v "$WORK/vol:/mnt/v:ro" --hostname box1 localhost/busybox sh -c 'cat /mnt/v/f; hostname; touch /mnt/v/g 2>/dev/null && echo wrote || echo ro'
check "-v SRC:DST:ro and --hostname" eval '[ "$RC" = 0 ] && has host-data && has box1 && has ro && [ ! -e "$WORK/vol/g" ]'
hrun --rm --read-only localhost/busybox sh -c 'touch /x 2>/dev/null && echo wrote || echo ro'
check "--read-only" eval '[ "$RC" = 0 ] && has ro'
hrun --rm localhost/busybox sh -c 'exit 7'
check "exit status of the container is hull's" [ "$RC" = 7 ]
hrun --rm localhost/busybox sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status'
check "default caps are podman's set (0x800405fb) and seccomp is on" \
	eval 'has "CapEff:	00000000800405fb" && has "Seccomp:	2"'
hrun --rm --cap-drop ALL --cap-add NET_RAW localhost/busybox sh -c 'grep ^CapEff: /proc/self/status'
check "--cap-drop ALL --cap-add NET_RAW" has "CapEff:	0000000000002000"
hrun --rm localhost/busybox sh -c 'unshare -m true 2>&1 || echo denied'
check "default seccomp/caps deny unshare" has denied
hrun --rm --privileged localhost/busybox sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status'
check "--privileged: all caps, no seccomp" eval 'has "Seccomp:	0" && ! has "CapEff:	00000000800405fb"'
cat > "$WORK/seccomp.json" <<'EOF'
{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}
EOF
hrun --rm --security-opt "seccomp=$WORK/seccomp.json" localhost/busybox sh -c 'mkdir /tmp/d 2>&1 || echo blocked'
check "--security-opt seccomp=FILE" has blocked
hrun --rm --net none localhost/busybox sh -c 'ls /sys/class/net'
check "--net none: own namespace with only lo" eval '[ "$(printf "%s" "$OUT" | tr "\n" " ")" = "lo" ]'
OUT=$(echo piped | timeout 60 "$HULL" --root "$STATE" run --store "$STORE" --rm -i localhost/busybox cat 2>&1)
check "-i passes stdin" [ "$OUT" = piped ]
OUT=$(echo piped | timeout 60 "$HULL" --root "$STATE" run --store "$STORE" --rm localhost/busybox cat 2>&1)
check "without -i the container's stdin is empty" [ -z "$OUT" ]

# ---- detached, resources, cleanup hook -------------------------------------
hrun -d --name det1 --memory 64m --pids-limit 50 localhost/busybox sleep 60
check "-d prints the id and returns while the container runs" eval '[ "$RC" = 0 ] && has det1'
PID=$(timeout 10 "$HULL" --root "$STATE" state det1 2>/dev/null | jq -r .pid)
PIDS_MAX=$(cat "/sys/fs/cgroup/pids$(awk -F: '$2 == "pids" {print $3}' "/proc/$PID/cgroup" 2>/dev/null)/pids.max" 2>/dev/null)
MEM_MAX=$(cat "/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" {print $3}' "/proc/$PID/cgroup" 2>/dev/null)/memory.limit_in_bytes" 2>/dev/null)
check "--pids-limit 50 and --memory 64m reach the cgroup (pids.max=$PIDS_MAX memory=$MEM_MAX)" \
	eval '[ "$PIDS_MAX" = 50 ] && [ "$MEM_MAX" = 67108864 ]'
check "detached container's rootfs is an overlay mount" mountpoint -q "$STORE/containers/det1/rootfs"
h delete -f det1
check "delete runs the poststop hook: rootfs unmounted" eval '[ "$RC" = 0 ] && ! mountpoint -q "$STORE/containers/det1/rootfs"'
h image --store "$STORE" prune
check "prune removes the stopped container's dir" [ ! -e "$STORE/containers/det1" ]
hrun -d --rm --name det2 localhost/busybox sleep 60
h delete -f det2
check "-d --rm: delete removes the container dir" [ ! -e "$STORE/containers/det2" ]
hrun --name kept localhost/busybox sh -c 'echo x > /tmp/written'
check "without --rm the writable layer is kept" [ -f "$STORE/containers/kept/upper/tmp/written" ]
hrun --name kept localhost/busybox true
check "a second run with the same --name is refused" eval '[ "$RC" != 0 ] && err_has "already exists"'

# ---- integrity: digest mismatch, truncation -----------------------------------
layer_blob() { jq -r '.layers[-1].digest' "$1/blobs/sha256/$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)" | cut -d: -f2; }
S2=$WORK/store-bad
cp -a "$IMG/oci" "$WORK/corrupt"
B=$WORK/corrupt/blobs/sha256/$(layer_blob "$WORK/corrupt")
chmod u+w "$B"; printf 'X' | dd of="$B" bs=1 seek=100 conv=notrunc status=none
h pull --store "$S2" "oci:$WORK/corrupt:latest"
check "corrupted layer (same size): pull fails naming the digest" eval '[ "$RC" != 0 ] && err_has "digest"'
h image --store "$S2" ls -q
check "corrupted: image not tagged, no unpacked layer, store clean" \
	eval '[ -z "$OUT" ] && [ -z "$(ls -A "$S2/layers/sha256")" ] && store_clean "$S2"'
cp -a "$IMG/oci" "$WORK/trunc"
B=$WORK/trunc/blobs/sha256/$(layer_blob "$WORK/trunc")
chmod u+w "$B"; truncate -s 500 "$B"
h pull --store "$S2" "oci:$WORK/trunc:latest"
check "truncated layer: pull fails (truncated)" eval '[ "$RC" != 0 ] && err_has "truncated"'
check "truncated: nothing half-written in the store" eval 'store_clean "$S2" && [ -z "$(ls -A "$S2/layers/sha256")" ]'
h run --store "$S2" --rm "oci:$WORK/trunc:latest" true
check "run of a truncated image fails and leaves no container dir" eval '[ "$RC" != 0 ] && [ -z "$(ls -A "$S2/containers")" ]'

# ---- registries ------------------------------------------------------------
if command -v docker-registry >/dev/null && command -v htpasswd >/dev/null; then
	if registry_start "$WORK/reg"; then
		skopeo copy -q --dest-tls-verify=false "oci:$IMG/oci:latest" "docker://$REG_ADDR/busybox:1" >/dev/null 2>&1
		SR=$WORK/store-reg
		h run --store "$SR" --insecure --rm "$REG_ADDR/busybox:1" echo from-registry
		check "run pulls from docker-registry on 127.0.0.1 (no auth)" eval '[ "$RC" = 0 ] && has from-registry'
		check "registry pull: store clean" store_clean "$SR"
		h pull --store "$SR" --insecure "$REG_ADDR/nosuch:1"
		check "unknown repository: clear error" eval '[ "$RC" != 0 ] && err_has "not found"'
		# serve a truncated blob: cut the layer's data file in the registry's storage
		D=$(find "$WORK/reg/data" -path "*blobs/sha256/*/$(layer_blob "$IMG/oci")/data")
		truncate -s 300 "$D"
		h pull --store "$WORK/store-reg2" --insecure "$REG_ADDR/busybox:1"
		check "registry serving a truncated blob: error, nothing half-written" \
			eval '[ "$RC" != 0 ] && store_clean "$WORK/store-reg2" && [ -z "$(ls -A "$WORK/store-reg2/layers/sha256")" ]'
		registry_stop
	else
		notok "docker-registry starts"
	fi
	if registry_start "$WORK/reg-auth" alice s3cret; then
		skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret "oci:$IMG/oci:latest" "docker://$REG_ADDR/busybox:1" >/dev/null 2>&1
		SA=$WORK/store-auth
		h pull --store "$SA" --insecure "$REG_ADDR/busybox:1"
		check "auth registry without credentials: refused" eval '[ "$RC" != 0 ] && err_has "password"'
		h pull --store "$SA" --insecure --creds alice:wrong "$REG_ADDR/busybox:1"
		check "auth registry with a wrong password: refused" eval '[ "$RC" != 0 ] && err_has "rejected"'
		h run --store "$SA" --insecure --creds alice:s3cret --rm "$REG_ADDR/busybox:1" echo with-auth
		check "run from an htpasswd registry with --creds" eval '[ "$RC" = 0 ] && has with-auth'
		printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$REG_ADDR" "$(printf alice:s3cret | base64)" > "$WORK/auth.json"
		h pull --store "$WORK/store-auth2" --insecure --authfile "$WORK/auth.json" "$REG_ADDR/busybox:1"
		check "credentials from an auth.json" [ "$RC" = 0 ]
		registry_stop
	else
		notok "docker-registry with htpasswd starts"
	fi
	if REG_TLS=1 registry_start "$WORK/reg-tls"; then
		skopeo copy -q --dest-tls-verify=false "oci:$IMG/oci:latest" "docker://$REG_ADDR/busybox:1" >/dev/null 2>&1
		h pull --store "$WORK/store-tls" "$REG_ADDR/busybox:1"
		check "HTTPS registry with a certificate the system CAs do not trust: refused" \
			eval '[ "$RC" != 0 ] && err_has "certificate" && [ -z "$(ls -A "$WORK/store-tls/blobs/sha256")" ]'
		registry_stop
	else
		notok "docker-registry with TLS starts"
	fi
else
	skip "docker-registry/htpasswd not installed"
fi

rm -f "$WORK/port"
python3 "$LIB/fake-registry.py" "$IMG/oci" latest "$WORK/port" --bearer bob:pw --drop 2000 --index 2>"$WORK/fake.log" &
FAKE_PID=$!
for _ in $(seq 50); do [ -f "$WORK/port" ] && break; sleep 0.1; done
FR=127.0.0.1:$(cat "$WORK/port" 2>/dev/null)
h pull --store "$WORK/store-fake" --insecure "$FR/img:latest"
check "bearer registry without credentials: refused" eval '[ "$RC" != 0 ] && err_has "token"'
h run --store "$WORK/store-fake" --insecure --creds bob:pw --rm "$FR/img:latest" echo via-bearer
check "bearer token auth, amd64 picked from a multi-arch index" eval '[ "$RC" = 0 ] && has via-bearer'
check "a dropped blob download resumed with a Range request" grep -q 'range=bytes=2000-' "$WORK/fake.log"
kill "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; FAKE_PID=

# ---- hostile layers ---------------------------------------------------------
TAG=$(basename "$WORK")
touch "/tmp/hull-escape-$TAG-victim" "$WORK/hull-escape-$TAG-victim"
for kind in dotdot abs symlink symlink-dir hardlink whiteout; do
	ESCAPE_TAG=$TAG python3 "$LIB/make-layout.py" "$WORK/h-$kind" "$IMG/oci:latest" "hostile-$kind"
	h pull --store "$WORK/store-hostile" "oci:$WORK/h-$kind:latest"
	esc=$(find / -xdev -name "hull-escape-$TAG*" -not -path "$WORK/store-hostile/layers/*" -not -path "/proc/*" 2>/dev/null | sort | tr '\n' ' ')
	check "hostile layer ($kind): nothing written or deleted outside the layer (rc=$RC)" \
		[ "$esc" = "/tmp/hull-escape-$TAG-victim $WORK/hull-escape-$TAG-victim " ]
done
check "hostile layers: store has only verified blobs" store_clean "$WORK/store-hostile"
rm -f "/tmp/hull-escape-$TAG-victim"

# ---- whiteouts, 200 layers, fallbacks ---------------------------------------
python3 "$LIB/make-layout.py" "$WORK/wh" "$IMG/oci:latest" whiteout
for mode in overlay copy; do
	if [ $mode = copy ]; then export HULL_IMAGE_COPY=1; fi
	hrun --rm --net none "oci:$WORK/wh:latest" sh -c 'test -e /etc/resolv.conf && echo resolv-present; ls -A /root; cat /wh-done'
	check "whiteout and opaque dir ($mode)" eval '[ "$RC" = 0 ] && ! has resolv-present && [ "$(printf "%s" "$OUT" | tr "\n" " ")" = "new done" ]'
	unset HULL_IMAGE_COPY
done
python3 "$LIB/make-layout.py" "$WORK/l200" "$IMG/oci:latest" layers 200
hrun --rm "oci:$WORK/l200:latest" sh -c 'cat /layer0 /layer199; ls / | grep -c ^layer'
check "an image with 201 layers runs (overlay, mount API)" eval '[ "$RC" = 0 ] && [ "$(printf "%s" "$OUT" | tr "\n" " ")" = "0 199 200" ]'
HULL_OVERLAY_LEGACY=1 hrun --rm localhost/busybox true
h_legacy() { HULL_OVERLAY_LEGACY=1 timeout 60 "$HULL" --root "$STATE" run --store "$STORE" --rm "$@" 2>"$WORK/stderr"; }
OUT=$(h_legacy "oci:$WORK/l200:latest" sh -c 'cat /layer199; grep -c "lowerdir=0:1:2" /proc/self/mounts'); RC=$?; ERR=$(cat "$WORK/stderr")
check "201 layers through mount(2) with short names (lowerdir > one page)" eval '[ "$RC" = 0 ] && [ "$(printf "%s" "$OUT" | tr "\n" " ")" = "199 1" ]'
OUT=$(HULL_IMAGE_COPY=1 timeout 60 "$HULL" --root "$STATE" run --store "$STORE" --rm "oci:$WORK/l200:latest" cat /layer123 2>"$WORK/stderr"); RC=$?
check "copy fallback (no overlay)" eval '[ "$RC" = 0 ] && [ "$OUT" = 123 ]'

# ---- concurrency -----------------------------------------------------------
SC=$WORK/store-conc
for i in 1 2 3; do "$HULL" pull --store "$SC" "oci-archive:$IMG/busybox.oci.tar" >/dev/null 2>"$WORK/conc$i" & done
wait
check "three concurrent pulls of one image into one store succeed" \
	eval '[ -z "$(cat "$WORK"/conc?)" ] && store_clean "$SC" && [ "$(ls "$SC/layers/sha256" | wc -l)" = 1 ]'
for i in 1 2 3; do timeout 60 "$HULL" --root "$STATE" run --store "$SC" --rm localhost/busybox true 2>"$WORK/crun$i" & done
wait
check "three concurrent runs of one image succeed" eval '[ -z "$(cat "$WORK"/crun?)" ]'

# ---- inspect, rm, prune ---------------------------------------------------------
h image --store "$STORE" inspect localhost/busybox
check "image inspect prints the manifest and config" eval '[ "$RC" = 0 ] && printf "%s" "$OUT" | jq -e ".config.config.Cmd[0] == \"/bin/sh\"" >/dev/null'
BEFORE=$(ls "$STORE/layers/sha256" | wc -l)
h image --store "$STORE" rm "oci:$WORK/l200:latest"
h image --store "$STORE" ls -q
check "image rm untags" eval '[ "$RC" = 0 ] && ! has "oci:$WORK/l200:latest"'
h image --store "$STORE" prune
AFTER=$(ls "$STORE/layers/sha256" | wc -l)
check "rm + prune drop the 200 layers no other image uses ($BEFORE -> $AFTER)" [ "$AFTER" -le $((BEFORE - 200)) ]
hrun --rm localhost/busybox echo still-runs
check "images still named run after prune" has still-runs

# ---- `run` keeps runc's form -------------------------------------------------
"$LIB/make-bundle.sh" "$WORK/bundle" /bin/echo bundle-run >/dev/null 2>&1
h run -b "$WORK/bundle" bid1
check "run -b BUNDLE ID is a bundle run" eval '[ "$RC" = 0 ] && has bundle-run'
OUT=$(cd "$WORK/bundle" && timeout 60 "$HULL" --root "$STATE" run bid2 2>&1); RC=$?
check "run ID inside the bundle dir is a bundle run" eval '[ "$RC" = 0 ] && has bundle-run'

finish
