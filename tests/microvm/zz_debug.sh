#!/bin/bash
# temporary (microvm helper debugging; removed before hand-off)
mkdir -p /tmp/r/dev; cp /testhost/build/guest/hull-agent /tmp/r/init; mknod /tmp/r/dev/console c 5 1
(cd /tmp/r && find . | cpio -o -H newc 2>/dev/null) > /tmp/i.cpio
HULL_VM_DEBUG=1 timeout 120 $HULL vm boot --kernel /testhost/build/guest/stock-vmlinuz --initrd /tmp/i.cpio --console --cpus 2 --cmdline "hull.check=cpus hull.cpus=2" --timeout 100 > /tmp/o.txt 2>&1; tail -25 /tmp/o.txt; cat /tmp/o.txt | grep -v -E "^\[ +[0-9.]+\] (evm|ima|NET|PCI|Key|TCP|UDP|thermal|cblist|DMA|audit|HugeTLB|Net|pps|rcu|Spectre|AppArmor|SELinux|VFS|Memory|ftrace|smpboot)" | grep -E "APIC|IO-APIC|smp|CPU|timer|clock|8250|ttyS|Run /init|HULL|ACPI|..MP|IRQ|irq" | head -80
echo "ok 1 - debug"
echo "1 passed, 0 failed"
