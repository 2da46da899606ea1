#!/usr/bin/env python3
"""A callback receiver for runfd's asynchronous calls: listens on
127.0.0.1 (an ephemeral port, written to PORTFILE), and writes each POST
it gets as OUTDIR/N.json (its headers and body), answering STATUS (200
unless given).  Stops after a minute at most."""
import http.server
import json
import os
import sys
import threading

portfile, outdir = sys.argv[1], sys.argv[2]
status = int(sys.argv[3]) if len(sys.argv) > 3 else 200
count = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global count
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        count += 1
        record = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                  "body": body.decode("utf-8", "replace")}
        tmp = os.path.join(outdir, ".%d.tmp" % count)
        with open(tmp, "w") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(outdir, "%d.json" % count))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(portfile + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(portfile + ".tmp", portfile)
threading.Timer(60, server.shutdown).start()
server.serve_forever()
