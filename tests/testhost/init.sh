#!/bin/busybox sh
# /init of the test host (L1), a QEMU-TCG guest running Debian's stock kernel.
#
# Stage 1 copies the initramfs onto a tmpfs and switch_roots there: pivot_root
# cannot leave an initramfs, and containers need pivot_root.
# Stage 2 sets up a pure cgroup v2 hierarchy and /dev/kvm, runs the suites
# (run-suites.sh) and writes their output between TESTHOST_BEGIN and
# TESTHOST_END rc=N markers to the second serial port (ttyS1), which run.sh
# reads; kernel messages stay on ttyS0.  Then it reboots; QEMU runs with
# -no-reboot, so that ends the VM.
#
# Kernel command line knobs (set by run.sh): hull_suites=a,b (which suites),
# hull_suite_timeout=SECONDS.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bb=/bin/busybox

uptime_s() { read -r u _ </proc/uptime; echo "$u"; }
die() { echo "testhost init: $*"; $bb sync; $bb reboot -f; }

if [ "$1" != stage2 ]; then
	$bb mkdir -p /proc /sys /dev /newroot
	$bb mount -t devtmpfs dev /dev
	exec </dev/console >/dev/console 2>&1
	$bb --install -s /bin
	mount -t proc proc /proc
	echo "testhost: stage 1 at uptime $(uptime_s)"
	mount -t tmpfs -o mode=0755 root /newroot || die "cannot mount the tmpfs root"
	for entry in /*; do
		case $entry in
		/proc | /sys | /dev | /newroot) mkdir -p "/newroot$entry" ;;
		*) cp -a "$entry" /newroot/ || die "copy $entry to tmpfs failed" ;;
		esac
	done
	umount /proc
	# Our stdio holds /dev/console open: move devtmpfs along instead of unmounting it.
	mount --move /dev /newroot/dev
	exec switch_root /newroot /init stage2
	die "switch_root failed"
fi

mount -t proc proc /proc
mount -t sysfs sys /sys
grep -q '^[^ ]* /dev ' /proc/mounts || mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
ln -s /proc/self/fd /dev/fd
ln -s /proc/self/fd/0 /dev/stdin
ln -s /proc/self/fd/1 /dev/stdout
ln -s /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm /dev/mqueue
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 shm /dev/shm
mount -t mqueue mqueue /dev/mqueue
mount -t tmpfs -o mode=0755 run /run
hostname testhost
ip link set lo up 2>/dev/null
booted=$(uptime_s)
echo "testhost: stage 2 at uptime $booted"

# Pure cgroup v2: the unified hierarchy alone at /sys/fs/cgroup, every
# controller the kernel offers enabled for children (one at a time, so one
# refusal does not hide the others).
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || die "cannot mount cgroup2"
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "testhost: cannot enable cgroup controller $c"
done
echo "testhost: cgroup2 subtree_control: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

# kvm-amd first: it is what the KVM suites need; the rest are best effort.
release=$(uname -r)
modprobe kvm_amd || echo "testhost: modprobe kvm_amd failed"
for m in $(sed 's/:.*//' "/lib/modules/$release/modules.dep"); do
	m=${m##*/}
	modprobe "${m%%.ko*}" 2>/dev/null || echo "testhost: modprobe ${m%%.ko*} failed"
done
[ -c /dev/kvm ] || echo "testhost: no /dev/kvm after loading kvm_amd"
ready=$(uptime_s)
echo "testhost: modules loaded at uptime $ready"

# hull finds its helpers next to the binary or in the install location.
mkdir -p /usr/local/bin /usr/local/lib/hull
[ -f /testhost/build/hull ] && ln -s /testhost/build/hull /usr/local/bin/hull
for f in hull-image.so hull-agent; do
	[ -f "/testhost/build/$f" ] && ln -s "/testhost/build/$f" "/usr/local/lib/hull/$f"
done

for arg in $(cat /proc/cmdline); do
	case $arg in
	hull_suites=*) HULL_TESTHOST_SUITES=$(echo "${arg#*=}" | tr , ' ') ;;
	hull_suite_timeout=*) HULL_TESTHOST_SUITE_TIMEOUT=${arg#*=} ;;
	esac
done
export HULL_TESTHOST_SUITES HULL_TESTHOST_SUITE_TIMEOUT
export HULL=/testhost/build/hull BUILD=/testhost/build KVM_SMOKE=/testhost/bin/kvm_smoke
export HULL_TESTHOST_INSIDE=1 HOME=/root TMPDIR=/tmp
[ -d /testhost/build/guest ] && export HULL_GUEST_DIR=/testhost/build/guest
[ -f /testhost/stock-vmlinuz ] && export HULL_STOCK_KERNEL=/testhost/stock-vmlinuz
[ -d /testhost/rootfs ] && export ROOTFS_CACHE=/testhost/rootfs

# Results go to ttyS1 raw (no \r\n translation), and to the console too so a
# timed-out run still shows where it was.
results=/dev/ttyS1
if [ -c $results ] && stty -F $results raw -echo 2>/dev/null; then :; else
	echo "testhost: no second serial port; results on the console only"
	results=/dev/null
fi
cd /testhost/repo || die "no /testhost/repo"
{
	echo "TESTHOST_BEGIN uptime=$ready stage2=$booted"
	bash /testhost/repo/tests/testhost/run-suites.sh 2>&1
	echo "TESTHOST_END rc=$? uptime=$(uptime_s)"
} | tee $results
sync
reboot -f
