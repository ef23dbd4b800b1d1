#!/bin/bash
# KVM smoke: /dev/kvm exists, and a real-mode guest runs to its HLT exit
# (kvm_smoke.c).  Inside the test host it also checks that kvm_amd is the
# hardware-assisted (SVM, nested paging) backend, not something emulated.
# Environment: KVM_SMOKE (the static kvm_smoke binary).
. "$(dirname "$0")/../lib.sh"

if [ -c /dev/kvm ]; then ok "/dev/kvm is a character device"; else not_ok "/dev/kvm is a character device"; finish; fi

if [ -n "${HULL_TESTHOST_INSIDE:-}" ]; then
	check "kvm_amd module is loaded" test -d /sys/module/kvm_amd
	npt=$(cat /sys/module/kvm_amd/parameters/npt 2>/dev/null)
	case $npt in
	Y | 1) ok "kvm_amd uses nested paging (npt=$npt)" ;;
	*) not_ok "kvm_amd uses nested paging: npt='$npt'" ;;
	esac
	check "CPU offers SVM" grep -qw svm /proc/cpuinfo
fi

if [ -x "${KVM_SMOKE:-}" ]; then
	tap_include "$KVM_SMOKE"
else
	not_ok "kvm_smoke binary at '${KVM_SMOKE:-}' (set KVM_SMOKE)"
fi
finish
