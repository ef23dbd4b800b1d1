#!/bin/bash
# temporary (microvm helper debugging; removed before hand-off)
mkdir -p /tmp/r/dev; cp /testhost/build/guest/hull-agent /tmp/r/init; mknod /tmp/r/dev/console c 5 1
(cd /tmp/r && find . | cpio -o -H newc 2>/dev/null) > /tmp/i.cpio
HULL_VM_DEBUG=1 timeout 120 $HULL vm boot --kernel /testhost/build/guest/stock-vmlinuz --initrd /tmp/i.cpio --console --cmdline "apic=debug loglevel=8 hull.check=cpus" --timeout 100 2>&1 | grep -v -E "^\[ +[0-9.]+\] (evm|ima|NET|PCI|Key|TCP|UDP|thermal|cblist|DMA|audit|HugeTLB|Net|pps|rcu|Spectre|AppArmor|SELinux|VFS|Memory|ftrace|smpboot)" | head -150
echo "ok 1 - debug"
echo "1 passed, 0 failed"
