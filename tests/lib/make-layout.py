#!/usr/bin/env python3
"""make-layout.py — build OCI image layouts for hull's image tests.

  make-layout.py OUT BASE:REF KIND [N]

Starts from the image BASE:REF (an OCI layout, e.g. from make-image.sh) and
writes a new layout OUT (ref "latest") with extra layers on top:
  layers N     N small layers, layer i adds /layer<i> containing "i"
  whiteout     one layer: deletes /etc/resolv.conf (.wh.), makes /root opaque and
               adds /root/new, adds /wh-done
  hostile-dotdot | hostile-abs | hostile-symlink | hostile-hardlink |
  hostile-whiteout | hostile-symlink-dir
               one hostile layer (see HOSTILE below); each tries to create
               or delete something named hull-escape* outside the layer dir
               ($ESCAPE_TAG, when set, is inserted after "hull-escape-" so
               concurrent test runs do not see each other's files)
Layers are plain tar (N, hostile) or gzip (whiteout), so both paths are used.
"""
import gzip, hashlib, io, json, os, shutil, sys, tarfile, time

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def tar_bytes(entries):
    """entries: list of (TarInfo, data or None)"""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for ti, data in entries:
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def f(name, data=b"", mode=0o644):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; ti.mtime = 1000000
    return (ti, data)

def d(name, mode=0o755):
    ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = mode; ti.mtime = 1000000
    return (ti, None)

def sym(name, target):
    ti = tarfile.TarInfo(name); ti.type = tarfile.SYMTYPE; ti.linkname = target; ti.mtime = 1000000
    return (ti, None)

def hard(name, target):
    ti = tarfile.TarInfo(name); ti.type = tarfile.LNKTYPE; ti.linkname = target; ti.mtime = 1000000
    return (ti, None)

TAG = os.environ.get("ESCAPE_TAG", "")
def esc(name):
    return name.replace("hull-escape-", "hull-escape-" + (TAG + "-" if TAG else ""))

HOSTILE = {
    "hostile-dotdot": [f("../hull-escape-dotdot", b"x"), f("a/../../hull-escape-dotdot2", b"x")],
    "hostile-abs": [f("/hull-escape-abs", b"inside-only")],   # lands inside the layer
    "hostile-symlink": [sym("up", "../../../../../../../../tmp"), f("up/hull-escape-symlink", b"x")],
    "hostile-symlink-dir": [sym("tmpdir", "/tmp"), d("tmpdir/hull-escape-dir"), f("tmpdir/hull-escape-dir/f", b"x")],
    "hostile-hardlink": [hard("h", "../../../../../../../../etc/hostname"), f("hull-escape-after", b"x")],
    "hostile-whiteout": [f("../.wh.hull-escape-victim", b""), f("hull-escape-after", b"x")],
}

def main():
    out, base, kind = sys.argv[1], sys.argv[2], sys.argv[3]
    n = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    bdir, bref = base.rsplit(":", 1)
    idx = json.load(open(os.path.join(bdir, "index.json")))
    desc = next(m for m in idx["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == bref)
    blob = lambda dg: open(os.path.join(bdir, "blobs", "sha256", dg.split(":")[1]), "rb").read()
    manifest = json.loads(blob(desc["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(os.path.join(out, "blobs", "sha256"))
    def put(b):
        dg = sha(b)
        open(os.path.join(out, "blobs", "sha256", dg.split(":")[1]), "wb").write(b)
        return dg
    for l in manifest["layers"]:
        put(blob(l["digest"]))

    layers = []   # (tar bytes, gzip?)
    if kind == "layers":
        for i in range(n):
            layers.append((tar_bytes([f("layer%d" % i, b"%d\n" % i)]), False))
    elif kind == "whiteout":
        layers.append((tar_bytes([f("etc/.wh.resolv.conf"), d("root"), f("root/.wh..wh..opq"),
                                  f("root/new", b"new\n"), f("wh-done", b"done\n")]), True))
    elif kind in HOSTILE:
        entries = []
        for ti, data in HOSTILE[kind]:
            ti.name = esc(ti.name)
            if ti.linkname:
                ti.linkname = esc(ti.linkname)
            entries.append((ti, data))
        layers.append((tar_bytes(entries), False))
    else:
        sys.exit("unknown kind " + kind)

    for raw, gz in layers:
        data = gzip.compress(raw, mtime=0) if gz else raw
        mt = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gz else "")
        manifest["layers"].append({"mediaType": mt, "digest": put(data), "size": len(data)})
        config["rootfs"]["diff_ids"].append(sha(raw))
    cb = json.dumps(config).encode()
    manifest["config"] = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": put(cb), "size": len(cb)}
    mb = json.dumps(manifest).encode()
    md = put(mb)
    json.dump({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": len(mb),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]},
        open(os.path.join(out, "index.json"), "w"))
    json.dump({"imageLayoutVersion": "1.0.0"}, open(os.path.join(out, "oci-layout"), "w"))

main()
