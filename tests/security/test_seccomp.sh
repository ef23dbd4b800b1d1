#!/bin/bash
# test_seccomp.sh — linux.seccomp as the container sees it: errno actions
# (errnoRet, defaultErrnoRet, EPERM default), kill, argument comparisons
# (EQ, MASKED_EQ), architectures, flags, unknown syscall names, the filter
# present in /proc/self/status for run and exec, loading without
# noNewPrivileges, and configuration errors.
set -uo pipefail
. "$(dirname "$0")/sec-lib.sh"
mh_init test_seccomp "$0" "$@"

B=$WORK/b
OUT=
sc() {  # JQ-for-.linux.seccomp ARGS...
	local f=$1; shift
	mh_bundle "$B" ".linux.seccomp = ($f)" "$@"
}

# errnoRet: 123 is ENOMEDIUM ("No medium found"), which nothing else returns
sc '{defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
     syscalls: [ { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 123 } ]}' \
	/bin/sh -c 'mkdir /tmp/x; echo rc=$?; grep -E "^Seccomp(_filters)?:" /proc/self/status'
sec_run "$B"
check "errnoRet: mkdir fails with the configured errno" eval 'printf "%s" "$OUT$ERR" | grep -q "No medium found"'
check "the filter is in force (Seccomp: 2)" [ "$(status_field "$OUT" Seccomp)" = 2 ]
check "one filter, loaded once" [ "$(status_field "$OUT" Seccomp_filters)" = 1 ]

sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" } ]}' \
	/bin/mkdir /tmp/x
sec_run "$B"
check "SCMP_ACT_ERRNO without errnoRet is EPERM" eval '[ "$RC" != 0 ] && printf "%s" "$ERR$OUT" | grep -q "Operation not permitted"'

# default action with defaultErrnoRet; an allow list keeps the shell alive
ALLOW='["execve","brk","mmap","munmap","mprotect","arch_prctl","set_tid_address","set_robust_list","rseq",
	"prlimit64","getuid","geteuid","getgid","getegid","getpid","getppid","rt_sigaction","rt_sigprocmask",
	"rt_sigreturn","read","write","writev","close","exit","exit_group","fstat","newfstatat","statx","stat",
	"lstat","openat","open","ioctl","fcntl","dup2","dup3","wait4","clone","clone3","fork","vfork","getcwd",
	"chdir","uname","access","readlink","readlinkat","getdents64","lseek","pipe","pipe2","sigaltstack",
	"getpgid","setpgid","getrandom","futex","poll","ppoll","pselect6","mremap","madvise","gettid","tgkill"]'
sc '{defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 123,
     syscalls: [ { names: '"$ALLOW"', action: "SCMP_ACT_ALLOW" } ]}' \
	/bin/sh -c 'mkdir /tmp/x; echo survived'
sec_run "$B"
check "defaultAction ERRNO + defaultErrnoRet: unlisted mkdir gets 123" \
	eval 'printf "%s" "$OUT$ERR" | grep -q "No medium found" && grep -q survived <<<"$OUT"'

# kill
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["uname"], action: "SCMP_ACT_KILL_PROCESS" } ]}' \
	/bin/uname
sec_run "$B"
check "SCMP_ACT_KILL_PROCESS: uname dies of SIGSYS (exit 159)" [ "$RC" = 159 ]
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["uname"], action: "SCMP_ACT_KILL" } ]}' \
	/bin/uname
sec_run "$B"
check "SCMP_ACT_KILL: uname dies of SIGSYS" [ "$RC" = 159 ]

# argument comparison: kill(pid, 0) is refused, kill(pid, SIGCONT) works
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 123,
     args: [ { index: 1, value: 0, op: "SCMP_CMP_EQ" } ] } ]}' \
	/bin/sh -c 'kill -0 $$ && echo k0-ok; kill -CONT $$ && echo kcont-ok; true'
sec_run "$B"
check "SCMP_CMP_EQ: kill -0 refused, kill -CONT allowed" \
	eval '! grep -q k0-ok <<<"$OUT" && grep -q kcont-ok <<<"$OUT" && grep -q "No medium found" <<<"$ERR"'

# masked-eq: openat with O_CREAT (0100) in flags (arg 2) is refused, plain opens work
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["openat", "open", "creat"], action: "SCMP_ACT_ERRNO", errnoRet: 123,
     args: [ { index: 2, value: 64, valueTwo: 64, op: "SCMP_CMP_MASKED_EQ" } ] } ]}' \
	/bin/sh -c 'read x < /etc/passwd && echo read-ok; touch /dev/shm/new && echo create-ok; true'
sec_run "$B"
check "SCMP_CMP_MASKED_EQ: reading works, creating a file is refused" \
	eval 'grep -q read-ok <<<"$OUT" && ! grep -q create-ok <<<"$OUT" && grep -q "No medium found" <<<"$ERR"'

# flags and unknown syscall names
sc '{defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
     syscalls: [ { names: ["hull_no_such_syscall", "mkdirat", "mkdir"], action: "SCMP_ACT_ERRNO", errnoRet: 123 } ]}' \
	/bin/sh -c 'mkdir /tmp/x; grep -E "^Seccomp:" /proc/self/status'
sec_run "$B"
check "flags LOG + SPEC_ALLOW load; an unknown syscall name is skipped" \
	eval '[ "$RC" = 0 ] && printf "%s" "$OUT$ERR" | grep -q "No medium found" && [ "$(status_field "$OUT" Seccomp)" = 2 ]'

# without noNewPrivileges the filter is loaded while hull still has CAP_SYS_ADMIN
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 123 } ]}' \
	/bin/sh -c 'mkdir /tmp/x; grep -E "^(Seccomp|NoNewPrivs|CapEff):" /proc/self/status'
jq '.process.noNewPrivileges = false' "$B/config.json" > "$B/c.new" && mv "$B/c.new" "$B/config.json"
sec_run "$B"
check "noNewPrivileges false: filter loaded, NoNewPrivs 0, CAP_SYS_ADMIN not kept" \
	eval '[ "$RC" = 0 ] && [ "$(status_field "$OUT" Seccomp)" = 2 ] && [ "$(status_field "$OUT" NoNewPrivs)" = 0 ] &&
	      [ "$(status_field "$OUT" CapEff)" = 0000000020000420 ] && printf "%s" "$OUT$ERR" | grep -q "No medium found"'

# exec gets the container's filter
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 123 } ]}' \
	/bin/sleep 60
ID=seccomp-$$
sec_start "$B" "$ID"
sec_exec "$ID" /bin/sh -c 'mkdir /tmp/y; grep -E "^Seccomp:" /proc/self/status'
check "exec: the container's filter applies" \
	eval '[ "$(status_field "$OUT" Seccomp)" = 2 ] && printf "%s" "$OUT$ERR" | grep -q "No medium found"'
sec_rm "$ID"

# configuration errors: one clear line, non-zero exit
sc '{defaultAction: "SCMP_ACT_ALLOW", syscalls: [ { names: ["mkdir"], action: "SCMP_ACT_KILL", errnoRet: 1 } ]}'
sec_run "$B"
check "errnoRet on SCMP_ACT_KILL is an error naming the rule" \
	eval '[ "$RC" != 0 ] && grep -q "seccomp.syscalls\[0\]" <<<"$ERR"'
sc '{defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_VAX"]}'
sec_run "$B"
check "an unknown architecture is an error naming it" \
	eval '[ "$RC" != 0 ] && grep -q "SCMP_ARCH_VAX" <<<"$ERR"'
sc '{defaultAction: "SCMP_ACT_ALLOW", flags: ["SECCOMP_FILTER_FLAG_BOGUS"]}'
sec_run "$B"
check "an unknown flag is an error naming it" \
	eval '[ "$RC" != 0 ] && grep -q "SECCOMP_FILTER_FLAG_BOGUS" <<<"$ERR"'

mh_done
