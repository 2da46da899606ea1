#!/usr/bin/python3
"""Build test images locally, byte for byte under the test's control.

  mkimage.py oci DIR --tag T [--layer SPEC]... [--compress gzip|zstd|none]
             [--config JSON] [--platform OS/ARCH[/VARIANT]] [--media-type MT]
      An OCI image layout in DIR (added to when DIR exists). A layer SPEC is
      a directory (its tree, owned by root), a JSON file listing entries
      (see add_entry), or raw:FILE (the bytes as they are).
  mkimage.py index DIR --tag T PLATFORM=LAYOUT:TAG...
      A multi-platform OCI layout: an index over images of other layouts.
  mkimage.py docker-save OUT.tar [--oci] LAYOUT:TAG=NAME...
      A `docker save` archive of images from OCI layouts (layers stored
      uncompressed, as docker does); --oci adds the OCI layout that newer
      docker writes alongside manifest.json.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

MTIME = 1700000000
MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {"none": "application/vnd.oci.image.layer.v1.tar",
            "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def put_blob(layout, data):
    d = sha(data)
    path = os.path.join(layout, "blobs", "sha256", d[7:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return d


def get_blob(layout, digest):
    with open(os.path.join(layout, "blobs", "sha256", digest[7:]), "rb") as f:
        return f.read()


def tar_dir(root):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                arc = os.path.relpath(full, root)
                info = t.gettarinfo(full, arc)
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = MTIME
                if info.isreg():
                    with open(full, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()


def add_entry(t, e):
    """One crafted entry: {"name", "type": file|dir|symlink|hardlink|char|
    block|fifo, "data", "target", "mode", "uid", "gid", "major", "minor",
    "xattrs": {k: v}, "size" (a lie, for truncated archives)}."""
    info = tarfile.TarInfo(e["name"])
    kind = e.get("type", "file")
    info.mtime = e.get("mtime", MTIME)
    info.uid = e.get("uid", 0)
    info.gid = e.get("gid", 0)
    info.mode = e.get("mode", 0o755 if kind == "dir" else 0o644)
    for k, v in e.get("xattrs", {}).items():
        info.pax_headers["SCHILY.xattr." + k] = v
    data = None
    if kind == "file":
        data = e.get("data", "").encode()
        info.size = len(data)
    elif kind == "dir":
        info.type = tarfile.DIRTYPE
    elif kind == "symlink":
        info.type = tarfile.SYMTYPE
        info.linkname = e["target"]
    elif kind == "hardlink":
        info.type = tarfile.LNKTYPE
        info.linkname = e["target"]
    elif kind in ("char", "block"):
        info.type = tarfile.CHRTYPE if kind == "char" else tarfile.BLKTYPE
        info.devmajor = e.get("major", 1)
        info.devminor = e.get("minor", 3)
    elif kind == "fifo":
        info.type = tarfile.FIFOTYPE
    else:
        raise SystemExit("unknown entry type " + kind)
    t.addfile(info, io.BytesIO(data) if data is not None else None)


def tar_entries(path):
    with open(path) as f:
        entries = json.load(f)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            add_entry(t, e)
    return buf.getvalue()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    return data


def read_index(layout):
    path = os.path.join(layout, "index.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": []}


def write_layout(layout, index):
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)


def tag_in(index, tag, desc):
    index["manifests"] = [m for m in index["manifests"]
                          if m.get("annotations", {}).get("org.opencontainers.image.ref.name") != tag]
    desc = dict(desc)
    desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index["manifests"].append(desc)


def find_tag(layout, tag):
    for m in read_index(layout)["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            return m
    raise SystemExit("no tag %s in %s" % (tag, layout))


def cmd_oci(a):
    os.makedirs(a.dir, exist_ok=True)
    layers, diff_ids = [], []
    for spec in a.layer or []:
        if spec.startswith("raw:"):
            with open(spec[4:], "rb") as f:
                blob = f.read()
            diff_ids.append(sha(blob))
            mt = a.media_type or MT_LAYER[a.compress]
        else:
            raw = tar_entries(spec) if spec.endswith(".json") else tar_dir(spec)
            diff_ids.append(sha(raw))
            blob = compress(raw, a.compress)
            mt = a.media_type or MT_LAYER[a.compress]
        layers.append({"mediaType": mt, "digest": put_blob(a.dir, blob), "size": len(blob)})
    osname, arch, *variant = a.platform.split("/")
    config = {"created": "2024-01-02T03:04:05Z", "architecture": arch, "os": osname,
              "config": json.loads(a.config) if a.config else {},
              "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    if variant:
        config["variant"] = variant[0]
    cblob = json.dumps(config).encode()
    manifest = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
                "config": {"mediaType": MT_CONFIG, "digest": put_blob(a.dir, cblob), "size": len(cblob)},
                "layers": layers}
    mblob = json.dumps(manifest).encode()
    index = read_index(a.dir)
    tag_in(index, a.tag, {"mediaType": MT_MANIFEST, "digest": put_blob(a.dir, mblob), "size": len(mblob)})
    write_layout(a.dir, index)
    print(sha(mblob))


def copy_blobs(src, dst):
    for name in os.listdir(os.path.join(src, "blobs", "sha256")):
        with open(os.path.join(src, "blobs", "sha256", name), "rb") as f:
            put_blob(dst, f.read())


def cmd_index(a):
    os.makedirs(a.dir, exist_ok=True)
    entries = []
    for item in a.images:
        platform, ref = item.split("=", 1)
        layout, tag = ref.rsplit(":", 1)
        copy_blobs(layout, a.dir)
        desc = dict(find_tag(layout, tag))
        desc.pop("annotations", None)
        osname, arch, *variant = platform.split("/")
        desc["platform"] = {"os": osname, "architecture": arch}
        if variant:
            desc["platform"]["variant"] = variant[0]
        entries.append(desc)
    iblob = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": entries}).encode()
    index = read_index(a.dir)
    tag_in(index, a.tag, {"mediaType": MT_INDEX, "digest": put_blob(a.dir, iblob), "size": len(iblob)})
    write_layout(a.dir, index)
    print(sha(iblob))


def decompress(blob):
    if blob[:2] == b"\x1f\x8b":
        return gzip.decompress(blob)
    if blob[:4] == b"\x28\xb5\x2f\xfd":
        return subprocess.run(["zstd", "-q", "-d", "-c"], input=blob, check=True,
                              stdout=subprocess.PIPE).stdout
    return blob


def cmd_docker_save(a):
    members, manifest, oci_index = {}, [], []
    for item in a.images:
        ref, name = item.split("=", 1)
        layout, tag = ref.rsplit(":", 1)
        m = json.loads(get_blob(layout, find_tag(layout, tag)["digest"]))
        cblob = get_blob(layout, m["config"]["digest"])
        config = json.loads(cblob)
        if a.oci:
            # Newer docker: OCI blobs, uncompressed layers, both indexes.
            layers = []
            for l in m["layers"]:
                raw = decompress(get_blob(layout, l["digest"]))
                members["blobs/sha256/" + sha(raw)[7:]] = raw
                layers.append({"mediaType": MT_LAYER["none"], "digest": sha(raw), "size": len(raw)})
            members["blobs/sha256/" + sha(cblob)[7:]] = cblob
            om = json.dumps({"schemaVersion": 2, "mediaType": MT_MANIFEST,
                             "config": {"mediaType": MT_CONFIG, "digest": sha(cblob), "size": len(cblob)},
                             "layers": layers}).encode()
            members["blobs/sha256/" + sha(om)[7:]] = om
            full = name if "/" in name.split(":")[0] else "docker.io/library/" + name
            oci_index.append({"mediaType": MT_MANIFEST, "digest": sha(om), "size": len(om),
                              "annotations": {"io.containerd.image.name": full,
                                              "org.opencontainers.image.ref.name": name.rsplit(":", 1)[1]}})
            manifest.append({"Config": "blobs/sha256/" + sha(cblob)[7:], "RepoTags": [name],
                             "Layers": ["blobs/sha256/" + l["digest"][7:] for l in layers]})
        else:
            members[sha(cblob)[7:] + ".json"] = cblob
            paths = []
            for l in m["layers"]:
                raw = decompress(get_blob(layout, l["digest"]))
                lid = hashlib.sha256(raw).hexdigest()
                members[lid + "/layer.tar"] = raw
                members[lid + "/VERSION"] = b"1.0"
                paths.append(lid + "/layer.tar")
            manifest.append({"Config": sha(cblob)[7:] + ".json", "RepoTags": [name], "Layers": paths})
    members["manifest.json"] = json.dumps(manifest).encode()
    if a.oci:
        members["index.json"] = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX,
                                            "manifests": oci_index}).encode()
        members["oci-layout"] = b'{"imageLayoutVersion": "1.0.0"}'
    with tarfile.open(a.out, "w", format=tarfile.PAX_FORMAT) as t:
        for path in sorted(members):
            info = tarfile.TarInfo(path)
            info.size = len(members[path])
            info.mtime = MTIME
            t.addfile(info, io.BytesIO(members[path]))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    o = sub.add_parser("oci")
    o.add_argument("dir")
    o.add_argument("--tag", default="latest")
    o.add_argument("--layer", action="append")
    o.add_argument("--compress", default="gzip", choices=["gzip", "zstd", "none"])
    o.add_argument("--config")
    o.add_argument("--platform", default="linux/amd64")
    o.add_argument("--media-type")
    i = sub.add_parser("index")
    i.add_argument("dir")
    i.add_argument("--tag", default="latest")
    i.add_argument("images", nargs="+")
    d = sub.add_parser("docker-save")
    d.add_argument("out")
    d.add_argument("--oci", action="store_true")
    d.add_argument("images", nargs="+")
    a = p.parse_args()
    {"oci": cmd_oci, "index": cmd_index, "docker-save": cmd_docker_save}[a.cmd](a)


if __name__ == "__main__":
    main()
