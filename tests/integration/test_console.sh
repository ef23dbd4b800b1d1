#!/bin/bash
# test_console.sh — process.terminal: the pty master reaches --console-socket
# (runc's SCM_RIGHTS protocol), the slave is the process's controlling tty and
# stdio, consoleSize applies; `run` without a socket proxies the terminal;
# create without a socket is refused; exec -t works the same way.
set -uo pipefail
. "$(dirname "$0")/../lib/rt-helpers.sh"
mh_init test_console "$0" "$@"
RECV=$MH_LIB/console-recv.py
B=$WORK/b
SOCK=$WORK/console.sock

start_recv() {  # [INPUT]
	rm -f "$SOCK" "$SOCK.ready"
	python3 "$RECV" "$SOCK" "$@" > "$WORK/console.out" 2>&1 &
	RECV_PID=$!
	for ((i = 0; i < 300; i++)); do [ -e "$SOCK.ready" ] && break; sleep 0.01; done
}

mh_bundle "$B" '.process.terminal = true | .process.consoleSize = {height: 30, width: 100}' \
	/bin/sh -c 'tty; stty size; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo stdio-is-tty; ps -o pid,tty | head -3; ls -l /dev/console'
start_recv
H create -b "$B" --console-socket "$SOCK" c$$ 2>"$WORK/err"; RC=$?
check "create with --console-socket" [ "$RC" = 0 ]
H start c$$
wait $RECV_PID
OUT=$(cat "$WORK/console.out")
check "the socket received the pty master (name /dev/pts/N)" eval 'grep -Eq "^name: /dev/pts/[0-9]+" <<<"$OUT"'
check "the process's tty is the container's /dev/pts/0" eval 'grep -qx "/dev/pts/0" <<<"$OUT"'
check "consoleSize 30x100 applied" eval 'grep -qx "30 100" <<<"$OUT"'
check "stdin, stdout, stderr are the terminal" eval 'grep -qx stdio-is-tty <<<"$OUT"'
H delete -f c$$

mh_bundle "$B" '.process.terminal = true' /bin/sh -c 'read line; echo "got:$line"'
start_recv $'hello\n'
H run -d -b "$B" --console-socket "$SOCK" c$$; RC=$?
wait $RECV_PID
OUT=$(cat "$WORK/console.out")
check "input written to the master reaches the process" eval 'grep -q "got:hello" <<<"$OUT"'
H delete -f c$$

mh_bundle "$B" '.process.terminal = true' /bin/sh -c 'tty'
H create -b "$B" c$$ 2>"$WORK/err"; RC=$?
check "terminal without --console-socket: create refuses, naming the flag" \
	eval '[ "$RC" = 1 ] && grep -q -- "--console-socket" "$WORK/err" && [ -z "$(rt_leftovers c$$)" ]'
OUT=$(H run -b "$B" c$$ </dev/null 2>"$WORK/err"); RC=$?
check "run without a socket proxies its own terminal" eval '[ "$RC" = 0 ] && grep -q "^/dev/pts/0" <<<"$OUT"'

# `run` owning the terminal returns as soon as the process exits, with its
# status, whether its stdin is a terminal (script(1), a pty) or not.
mh_bundle "$B" '.process.terminal = true' /bin/sh -c 'echo via-pty; exit 3'
OUT=$(timeout 30 script -qec "$HULL --root $STATE run -b $B s$$" /dev/null </dev/null 2>&1); RC=$?
check "run -b with terminal under script(1) returns with the process's status 3" \
	eval '[ "$RC" = 3 ] && grep -q via-pty <<<"$OUT" && [ -z "$(rt_leftovers s$$)" ]'
OUT=$(python3 "$MH_LIB/pty-run.py" 20 "$HULL" --root "$STATE" run -b "$B" s$$ 2>&1); RC=$?
check "run -b with terminal from a terminal returns with status 3" \
	eval '[ "$RC" = 3 ] && grep -q via-pty <<<"$OUT" && [ -z "$(rt_leftovers s$$)" ]'
mh_bundle "$B" '.process.terminal = true' /bin/sh -c 'sleep 100 & exec true'
OUT=$(python3 "$MH_LIB/pty-run.py" 20 "$HULL" --root "$STATE" run -b "$B" s$$ 2>&1); RC=$?
check "run -b with terminal returns when the process exits, even if a child of it still holds the pty" \
	eval '[ "$RC" = 0 ] && [ -z "$(rt_leftovers s$$)" ]'

mh_bundle "$B" . /bin/sleep 100
H run -d -b "$B" e$$
start_recv
H exec -t -d --console-socket "$SOCK" e$$ /bin/sh -c 'tty; echo exec-ok'; RC=$?
wait $RECV_PID
OUT=$(cat "$WORK/console.out")
check "exec -t --console-socket gives the process a pty" eval '[ "$RC" = 0 ] && grep -q "^/dev/pts/" <<<"$OUT" && grep -q exec-ok <<<"$OUT"'
OUT=$(H exec -t e$$ /bin/sh -c 'tty' </dev/null 2>"$WORK/err"); RC=$?
check "exec -t without a socket proxies" eval '[ "$RC" = 0 ] && grep -q "^/dev/pts/" <<<"$OUT"'
H delete -f e$$
mh_done
