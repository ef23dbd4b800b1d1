#!/usr/bin/env python3
"""recvtty.py SOCKET OUTFILE — a --console-socket peer for tests: accept one
connection, take the pty master sent with SCM_RIGHTS, copy everything the
container writes to its terminal into OUTFILE until the pty closes."""
import array, os, socket, sys

path, outfile = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
srv.settimeout(60)
conn, _ = srv.accept()
fds = array.array("i")
msg, anc, _, _ = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
for level, kind, data in anc:
    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
        fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
conn.close()
if not fds:
    sys.exit("recvtty: no fd received")
master = fds[0]
with open(outfile, "wb", buffering=0) as out:
    while True:
        try:
            buf = os.read(master, 4096)
        except OSError:  # EIO once the last slave fd is closed
            break
        if not buf:
            break
        out.write(buf)
