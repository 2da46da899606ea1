"""One Python function served over each of runfd's protocols, standard
library only.  handle() is the function; the rest gets requests to it.

  http            an ordinary http.server on 0.0.0.0:$PORT (default 8080),
                  in the instance's own network namespace; runfd relays
                  requests to it
  control-socket  connect to /control.sock, receive the client's
                  connection (payload "fd", one SCM_RIGHTS fd), serve one
                  request, exit
  inetd           the connection is fd 3: serve one request, exit
  warm            fd 3 is the function's listening socket: accept and
                  serve until SIGTERM, then finish what is in flight

main(protocol) serves the one runfd names in RUNF_MODE, else `protocol`:
the same image deployed with another --mode follows it.  Nothing is
printed on the request path: a line per request in the log costs time.

This module is imported, never run as the script: Python compiles the
script it runs from source at every start, but loads an imported module
from its precompiled .pyc (see docs/functions.md, "Python functions")."""
import http.server
import os
import signal
import socket
import threading


def handle(method, path, body):
    """Return (status, content type, body bytes) for one request."""
    if method == "POST":
        return 200, "application/octet-stream", body
    name = os.environ.get("RUNF_FUNCTION", "python")
    mode = os.environ.get("RUNF_MODE", "no runfd")
    text = "Hello from %s (python, %s): %s %s\n" % (name, mode, method, path)
    return 200, "text/plain", text.encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    one_shot = False  # one request per connection: inetd, control-socket

    def answer(self):
        if self.headers.get("Transfer-Encoding"):
            # A chunked body is not read here: ask for a length instead.
            self.send_error(411, "send a Content-Length")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        # Through the gateway, inetd and control-socket handlers see the
        # whole path, /function/NAME/x, and the prefix in RUNF_PATH_PREFIX.
        path, prefix = self.path, os.environ.get("RUNF_PATH_PREFIX")
        if prefix and path.startswith(prefix):
            path = path[len(prefix):] or "/"
        status, ctype, out = handle(self.command, path, body)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        if self.one_shot:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer

    def log_message(self, fmt, *args):
        pass


class OneShot(Handler):
    one_shot = True


def serve_connection(sock):
    """One request on a connected socket, then close it."""
    try:
        OneShot(sock, sock.getpeername(), None)
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass  # the client went away: nothing to answer
    sock.close()


def receive_connection(path="/control.sock"):
    """The client's connection, passed by runfd over the control socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as ctl:
        ctl.connect(path)
        payload, fds = b"", []
        # A stream may deliver the two bytes in two reads; the fd rides on
        # the first.
        while len(payload) < 2:
            data, got, flags, _ = socket.recv_fds(ctl, 2 - len(payload), 2)
            fds += got
            if not data or flags & socket.MSG_CTRUNC:
                break
            payload += data
    if not payload and not fds:
        # runfd closed it unused: a pre-started instance it no longer needs.
        raise SystemExit(0)
    if payload != b"fd" or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise SystemExit("control socket: expected the payload \"fd\" with one fd, got %r and %d"
                         % (payload, len(fds)))
    return socket.socket(fileno=fds[0])


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


def serve_forever(server):
    def stop(*_):
        threading.Thread(target=server.shutdown).start()
    signal.signal(signal.SIGTERM, stop)
    server.serve_forever(poll_interval=0.5)
    server.server_close()


def main(protocol):
    protocol = os.environ.get("RUNF_MODE") or protocol
    if protocol == "http":
        serve_forever(Server(("0.0.0.0", int(os.environ.get("PORT") or 8080)), Handler))
    elif protocol == "control-socket":
        serve_connection(receive_connection())
    elif protocol == "inetd":
        serve_connection(socket.socket(fileno=3))
    elif protocol == "warm":
        serve_forever(WarmServer())
    else:
        raise SystemExit("RUNF_MODE=%s: this function knows http, control-socket, inetd and warm"
                         % protocol)
