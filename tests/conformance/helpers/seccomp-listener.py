#!/usr/bin/env python3
"""seccomp-listener.py SOCKET OUTDIR — a linux.seccomp.listenerPath peer for
tests: for each connection write OUTDIR/N.json (the payload), OUTDIR/N.fds
(how many fds came with SCM_RIGHTS, and in which recvmsg call) and OUTDIR/N.end
(`eof` when the runtime closed the connection, `timeout` when it did not)."""
import array, os, socket, sys

path, outdir = sys.argv[1], sys.argv[2]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(4)
srv.settimeout(60)
n = 0
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    n += 1
    conn.settimeout(5)
    payload, fdinfo, end = b"", [], "eof"
    call = 0
    while True:
        fds = array.array("i")
        try:
            data, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
        except socket.timeout:
            end = "timeout"
            break
        call += 1
        for level, kind, cdata in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(cdata[: len(cdata) - (len(cdata) % fds.itemsize)])
        if fds:
            fdinfo.append("%d:%d" % (call, len(fds)))
            for fd in fds:
                os.close(fd)
        if not data:
            break
        payload += data
    conn.close()
    with open(os.path.join(outdir, "%d.json" % n), "wb") as f:
        f.write(payload)
    with open(os.path.join(outdir, "%d.fds" % n), "w") as f:
        f.write(" ".join(fdinfo) + "\n")
    with open(os.path.join(outdir, "%d.end" % n), "w") as f:
        f.write(end + "\n")
