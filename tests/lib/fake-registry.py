#!/usr/bin/env python3
"""fake-registry.py — a tiny OCI distribution server for what Debian's
docker-registry cannot be made to do in a test: bearer-token auth, a blob
connection dropped mid-transfer (to exercise Range resume), Range support,
and a multi-arch index.

  fake-registry.py LAYOUT REF PORTFILE [--bearer USER:PASS] [--drop BYTES] [--index]

Serves the image LAYOUT:REF as /v2/img/manifests/latest (with --index: an
image index listing it as linux/amd64 next to a linux/arm64 entry whose
manifest does not exist, so picking the wrong one fails).  --drop BYTES: the
first GET of each blob sends only BYTES bytes, then closes the connection.
Writes the port to PORTFILE once listening.  Logs requests to stderr.
"""
import base64, hashlib, http.server, json, os, socketserver, sys, threading

layout, ref, portfile = sys.argv[1:4]
args = sys.argv[4:]
bearer = args[args.index("--bearer") + 1] if "--bearer" in args else None
drop = int(args[args.index("--drop") + 1]) if "--drop" in args else 0
want_index = "--index" in args
TOKEN = "t0k3n-" + hashlib.sha256(os.urandom(8)).hexdigest()[:16]

def blob(dg):
    p = os.path.join(layout, "blobs", "sha256", dg.split(":", 1)[1])
    return open(p, "rb").read() if os.path.exists(p) else None

idx = json.load(open(os.path.join(layout, "index.json")))
desc = next(m for m in idx["manifests"] if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref)
MANIFESTS = {"latest": (blob(desc["digest"]), "application/vnd.oci.image.manifest.v1+json")}
if want_index:
    index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + "0" * 64, "size": 10,
         "platform": {"os": "linux", "architecture": "arm64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": desc["digest"], "size": desc["size"],
         "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    MANIFESTS["latest"] = (index, "application/vnd.oci.image.index.v1+json")
MANIFESTS[desc["digest"]] = (blob(desc["digest"]), "application/vnd.oci.image.manifest.v1+json")
dropped = set()
lock = threading.Lock()

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        sys.stderr.write("fake-registry: " + (fmt % a) + " range=" + str(self.headers.get("Range")) + "\n")

    def send(self, code, body=b"", ctype="application/json", extra=None):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def authorized(self):
        if not bearer:
            return True
        if self.headers.get("Authorization") == "Bearer " + TOKEN:
            return True
        host = self.headers.get("Host")
        self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', extra={"WWW-Authenticate":
            'Bearer realm="http://%s/token",service="fake",scope="repository:img:pull"' % host})
        return False

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/token":
            want = "Basic " + base64.b64encode(bearer.encode()).decode()
            if self.headers.get("Authorization") != want or "scope=repository%3Aimg%3Apull" not in self.path:
                return self.send(401, b"{}")
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        if path == "/v2/":
            return self.send(200, b"{}") if self.authorized() else None
        if not self.authorized():
            return
        parts = path.split("/")
        if len(parts) == 5 and parts[1] == "v2" and parts[2] == "img" and parts[3] == "manifests":
            m = MANIFESTS.get(parts[4])
            if not m or not m[0]:
                return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return self.send(200, m[0], m[1], {"Docker-Content-Digest": "sha256:" + hashlib.sha256(m[0]).hexdigest()})
        if len(parts) == 5 and parts[3] == "blobs":
            b = blob(parts[4])
            if b is None:
                return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
            rng = self.headers.get("Range")
            start = int(rng.split("=")[1].split("-")[0]) if rng else 0
            with lock:
                first = parts[4] not in dropped
                dropped.add(parts[4])
            body = b[start:]
            self.send_response(206 if start else 200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            if start:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(b) - 1, len(b)))
            self.end_headers()
            if drop and first and len(body) > drop:
                self.wfile.write(body[:drop])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.wfile.write(body)
            return
        self.send(404, b"{}")

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

srv = S(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
