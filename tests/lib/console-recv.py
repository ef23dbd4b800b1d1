#!/usr/bin/env python3
"""console-recv.py SOCKET [INPUT] — the receiving end of --console-socket.

Listens on SOCKET (AF_UNIX stream), accepts one connection, takes the pty
master fd sent with SCM_RIGHTS (runc's protocol: payload = pty name), prints
"name: <payload>" and then everything read from the master until it hangs up.
INPUT, when given, is written to the master first.  Touches SOCKET.ready once
listening so the caller knows when to start the runtime."""
import array
import os
import socket
import sys

path = sys.argv[1]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
open(path + ".ready", "w").close()
srv.settimeout(30)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
if not fds:
    print("no fd received")
    sys.exit(1)
master = fds[0]
print("name: " + msg.decode(errors="replace").rstrip("\0"), flush=True)
if len(sys.argv) > 2:
    os.write(master, sys.argv[2].encode())
out = b""
while True:
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
