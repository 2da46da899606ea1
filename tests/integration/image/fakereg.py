#!/usr/bin/python3
"""A registry that misbehaves on purpose, serving an OCI layout's tags.

Modes: ok, status:<code> (every request), flaky:<n> (the first n requests
get 503), hang (accept, never answer), token (Bearer auth with a token
endpoint; alice:secret), corrupt (blobs served with a byte changed).
Each request is logged as one line to --log (created at start).
"""
import argparse
import base64
import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

a = None
count = 0
lock = threading.Lock()
TOKEN = "tok-123"


def log(line):
    with open(a.log, "a") as f:
        f.write(line + "\n")


def blob(digest):
    path = os.path.join(a.layout, "blobs", "sha256", digest.split(":", 1)[1])
    with open(path, "rb") as f:
        return f.read()


def manifest_for(ref):
    with open(os.path.join(a.layout, "index.json")) as f:
        index = json.load(f)
    if ref.startswith("sha256:"):
        data = blob(ref)
        return data, json.loads(data).get("mediaType", "application/vnd.oci.image.manifest.v1+json")
    for m in index["manifests"]:
        if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref:
            return blob(m["digest"]), m["mediaType"]
    return None, None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body=b"", ctype="application/json", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def error(self, code, errcode, message, headers=()):
        body = json.dumps({"errors": [{"code": errcode, "message": message}]}).encode()
        self.send(code, body, headers=headers)

    def do_GET(self):
        global count
        with lock:
            count += 1
            n = count
        log("GET " + self.path)
        mode = a.mode
        if mode == "hang":
            time.sleep(3600)
            return
        if mode.startswith("status:"):
            code = int(mode.split(":")[1])
            return self.error(code, "NOPE", "status %d on purpose" % code,
                              headers=[("Retry-After", "0")] if code == 429 else [])
        if mode.startswith("flaky:") and n <= int(mode.split(":")[1]):
            return self.error(503, "UNAVAILABLE", "try again")
        if self.path.startswith("/token"):
            auth = self.headers.get("Authorization", "")
            if auth != "Basic " + base64.b64encode(b"alice:secret").decode():
                return self.error(401, "UNAUTHORIZED", "bad credentials")
            return self.send(200, json.dumps({"token": TOKEN}).encode())
        if mode == "token" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            realm = "http://127.0.0.1:%d/token" % a.port
            return self.error(401, "UNAUTHORIZED", "authentication required", headers=[
                ("WWW-Authenticate", 'Bearer realm="%s",service="fake",scope="repository:x:pull"' % realm)])
        parts = self.path.split("/")
        # /v2/<name...>/manifests/<ref> or /v2/<name...>/blobs/<digest>
        if self.path == "/v2/":
            return self.send(200, b"{}")
        if len(parts) >= 5 and parts[-2] == "manifests":
            data, mt = manifest_for(parts[-1])
            if data is None:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            return self.send(200, data, mt, [("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())])
        if len(parts) >= 5 and parts[-2] == "blobs":
            try:
                data = blob(parts[-1])
            except OSError:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown")
            if mode == "corrupt" and len(data) > 100:
                data = data[:50] + bytes([data[50] ^ 1]) + data[51:]
            return self.send(200, data, "application/octet-stream")
        self.error(404, "NAME_UNKNOWN", "no such path")


def main():
    global a
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", default="ok")
    p.add_argument("--layout", required=True)
    p.add_argument("--log", required=True)
    a = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    log("ready")
    server.serve_forever()


if __name__ == "__main__":
    main()
