#!/usr/bin/env python3
"""pty-run.py TIMEOUT CMD [ARG...] — run CMD with a fresh pty as its
controlling terminal and stdio (as a user at a terminal would), copy what it
writes to our stdout, and exit with its exit status; 124 if it is still
running after TIMEOUT seconds (then it is killed).  Nothing is typed."""
import os, pty, select, sys, time

limit = float(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
end = time.monotonic() + limit
code = None
while code is None and time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        code = os.waitstatus_to_exitcode(st)
if code is None:
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    sys.exit(124)
sys.exit(code if code >= 0 else 128 - code)
