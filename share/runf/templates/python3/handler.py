#!/usr/bin/env python3
"""A runf function in warm mode: long-lived instances share the function's
listening socket, which runfd passes as fd 3 (LISTEN_FDS=1, systemd's
Accept=no), and accept connections themselves until SIGTERM.  Edit handle().

Run it outside runf too: without LISTEN_FDS it listens on 127.0.0.1:$PORT
(default 8080)."""
import http.server
import os
import signal
import socket
import socketserver
import threading


def handle(method, path, headers, body):
    """Return (status, content type, body) for one request."""
    name = os.environ.get("RUNF_FUNCTION", "__NAME__")
    text = "Hello from %s: %s %s\n" % (name, method, path)
    return 200, "text/plain", text.encode() + body


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, ctype, out = handle(self.command, self.path, self.headers, body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer

    def log_message(self, fmt, *args):
        pass  # one line per request in the log is left to the handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = False  # SIGTERM: requests in flight finish
    block_on_close = True

    def __init__(self):
        if os.environ.get("LISTEN_FDS") == "1":
            super().__init__(("", 0), Handler, bind_and_activate=False)
            self.socket = socket.socket(fileno=3)
            # Several instances accept on the same socket: one that lost the
            # race must not block in accept().
            self.socket.setblocking(False)
        else:
            super().__init__(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Handler)

    def get_request(self):
        conn, addr = self.socket.accept()
        conn.setblocking(True)
        return conn, addr


def main():
    server = Server()
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.5)
    server.server_close()


if __name__ == "__main__":
    main()
