"""One Python function served over each of runfd's protocols, standard
library only.  handle() is the function; the rest gets requests to it.

  http            an ordinary http.server on 0.0.0.0:$PORT (default 8080),
                  in the instance's own network namespace; runfd relays
                  requests to it (server.py)
  control-socket  connect to /control.sock, receive the client's
                  connection (payload "fd", one SCM_RIGHTS fd), serve one
                  request, connect again for the next (runfd ends the
                  instance then, unless --requests-per-instance says more)
  inetd           the connection is fd 3: serve one request, exit
  warm            fd 3 is the function's listening socket: accept and
                  serve until SIGTERM, then finish what is in flight
                  (server.py)

main(protocol) serves the one runfd names in RUNF_MODE, else `protocol`:
the same image deployed with another --mode follows it.  Nothing is
printed on the request path: a line per request in the log costs time.

A process that serves one request reads it here, with the socket module
alone: http.server imports http.client, ssl and email, which take longer
than starting the interpreter itself.

This module is imported, never run as the script: Python compiles the
script it runs from source at every start, but loads an imported module
from its precompiled .pyc (see docs/functions.md, "Python functions")."""
import os
import socket


def handle(method, path, body):
    """Return (status, content type, body bytes) for one request."""
    if method == "POST":
        return 200, "application/octet-stream", body
    name = os.environ.get("RUNF_FUNCTION", "python")
    mode = os.environ.get("RUNF_MODE", "no runfd")
    text = "Hello from %s (python, %s): %s %s\n" % (name, mode, method, path)
    return 200, "text/plain", text.encode()


def call(method, path, body):
    """handle() on the path the function was called with.  Through the
    gateway, inetd and control-socket handlers see the whole path,
    /function/NAME/x, and the prefix in RUNF_PATH_PREFIX."""
    prefix = os.environ.get("RUNF_PATH_PREFIX")
    if prefix and path.startswith(prefix):
        path = path[len(prefix):] or "/"
    return handle(method, path, body)


REASONS = {200: "OK", 400: "Bad Request", 411: "Length Required", 500: "Internal Server Error"}


def read_request(rfile):
    """(method, target, body) of one HTTP/1.x request, or the status of
    what is wrong with it."""
    line = rfile.readline(8193).decode("latin-1").split()
    if len(line) != 3 or not line[2].startswith("HTTP/1."):
        return 400
    headers = {}
    for _ in range(100):
        field = rfile.readline(8193)
        if field in (b"\r\n", b"\n", b""):
            break
        name, colon, value = field.decode("latin-1").partition(":")
        if not colon:
            return 400
        headers[name.strip().lower()] = value.strip()
    else:
        return 400
    if "transfer-encoding" in headers:
        return 411  # a chunked body is not read here: ask for a length
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        length = -1
    body = rfile.read(length) if length > 0 else b""
    if length < 0 or len(body) != length:
        return 400
    return line[0], line[1], body


def serve_connection(sock):
    """One request on a connected socket, then close it."""
    try:
        with sock.makefile("rb") as rfile:
            request = read_request(rfile)
        if isinstance(request, int):
            status, ctype, out, method = request, "text/plain", b"%d\n" % request, "GET"
        else:
            method = request[0]
            status, ctype, out = call(*request)
        head = ("HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
                "Connection: close\r\n\r\n" % (status, REASONS.get(status, "Status"), ctype, len(out)))
        sock.sendall(head.encode("latin-1") + (out if method != "HEAD" else b""))
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


def main(protocol):
    protocol = os.environ.get("RUNF_MODE") or protocol
    if protocol == "control-socket":
        while True:
            serve_connection(receive_connection())
    elif protocol == "inetd":
        serve_connection(socket.socket(fileno=3))
    elif protocol in ("http", "warm"):
        import server
        server.serve(protocol)
    else:
        raise SystemExit("RUNF_MODE=%s: this function knows http, control-socket, inetd and warm"
                         % protocol)
