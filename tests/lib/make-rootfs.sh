#!/bin/bash
# make-rootfs.sh DIR — minimal rootfs for hull's tests, from Debian's busybox-static:
#   DIR/bin/busybox + a symlink per applet (busybox --list-full), /etc/{passwd,
#   group,hostname,hosts,resolv.conf}, empty /proc /sys /dev /tmp /run /root /var.
# Works offline; needs nothing but busybox-static.
set -euo pipefail
DIR=${1:?usage: make-rootfs.sh DIR}
BB=${BUSYBOX:-/bin/busybox}
[ -x "$BB" ] || { echo "make-rootfs.sh: need busybox-static ($BB)" >&2; exit 1; }
if ldd "$BB" >/dev/null 2>&1; then
	echo "make-rootfs.sh: $BB is dynamically linked (install busybox-static)" >&2
	exit 1
fi

mkdir -p "$DIR"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,run,root,var/tmp}
chmod 1777 "$DIR/tmp" "$DIR/var/tmp"
install -m 0755 "$BB" "$DIR/bin/busybox"
"$BB" --list-full | while read -r p; do
	case "$(dirname "$p")" in
		bin) [ "$p" = bin/busybox ] && continue; tgt=busybox ;;
		sbin) tgt=../bin/busybox ;;
		usr/bin|usr/sbin) tgt=../../bin/busybox ;;
		*) continue ;;
	esac
	ln -sf "$tgt" "$DIR/$p"
done
for a in sh true false sleep cat ls echo id env stat grep mount; do
	[ -e "$DIR/bin/$a" ] || ln -sf busybox "$DIR/bin/$a"
done
cat > "$DIR/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOT
cat > "$DIR/etc/group" <<'EOT'
root:x:0:
daemon:x:1:
tty:x:5:
nogroup:x:65534:
EOT
echo hull > "$DIR/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$DIR/etc/hosts"
: > "$DIR/etc/resolv.conf"
