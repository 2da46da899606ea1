"""function.py's function behind http.server, for the protocols whose
process serves request after request: http (an ordinary server on
0.0.0.0:$PORT, default 8080) and warm (accepting on the function's
listening socket, fd 3).  SIGTERM: stop accepting, finish what is in
flight, exit."""
import http.server
import os
import signal
import socket
import threading

import function


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def answer(self):
        if self.headers.get("Transfer-Encoding"):
            # A chunked body is not read here: ask for a length instead.
            self.send_error(411, "send a Content-Length")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        status, ctype, out = function.call(self.command, self.path, body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # SIGTERM: requests in flight finish
    block_on_close = True


class WarmServer(Server):
    """Accepts on the function's listening socket, fd 3, shared with other
    instances: an accept another instance won must not block this one."""

    def __init__(self):
        super().__init__(("", 0), Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = socket.socket(fileno=3)
        self.socket.setblocking(False)

    def get_request(self):
        conn, addr = self.socket.accept()
        conn.setblocking(True)
        return conn, addr


def serve(protocol):
    if protocol == "warm":
        server = WarmServer()
    else:
        server = Server(("0.0.0.0", int(os.environ.get("PORT") or 8080)), Handler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever(poll_interval=0.5)
    server.server_close()
