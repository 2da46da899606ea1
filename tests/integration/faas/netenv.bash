# A world for network tests, made of namespaces the test makes and removes:
#   HOST_NS  where runfd runs: lo, an uplink up0 198.51.100.2/24, default
#            route through the internet; a service on port 9999 of all its
#            addresses, an abstract unix socket; `ip netns exec` gives it
#            /etc/netns/HOST_NS/resolv.conf (the internet's resolver)
#   INET_NS  the internet: 198.51.100.1 (an HTTP server answering
#            "internet", dnsmasq answering example.test), and a private
#            10.99.0.1 (HTTP "private")
# No packet ever leaves these namespaces.

NET_PY=/usr/bin/python3
[ -x "$NET_PY" ] || NET_PY=python3

net_world_up() { # name-suffix
  HOST_NS=rfh-$1
  INET_NS=rfi-$1
  ip netns add "$HOST_NS"
  ip netns add "$INET_NS"
  ip link add up0 netns "$HOST_NS" type veth peer name inet0 netns "$INET_NS"
  ip -n "$HOST_NS" addr add 198.51.100.2/24 dev up0
  ip -n "$HOST_NS" link set up0 up
  ip -n "$HOST_NS" link set lo up
  ip -n "$HOST_NS" route add default via 198.51.100.1
  ip -n "$INET_NS" addr add 198.51.100.1/24 dev inet0
  ip -n "$INET_NS" addr add 10.99.0.1/24 dev inet0
  ip -n "$INET_NS" link set inet0 up
  ip -n "$INET_NS" link set lo up
  ip -n "$INET_NS" route add 10.88.0.0/16 via 198.51.100.2
  mkdir -p "/etc/netns/$HOST_NS"
  echo "nameserver 198.51.100.1" >"/etc/netns/$HOST_NS/resolv.conf"
  NET_PIDS=()
  ip netns exec "$INET_NS" dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=198.51.100.1 \
    --bind-interfaces --address=/example.test/198.51.100.1 --pid-file= --user=root </dev/null >/dev/null 2>&1 3>&- &
  NET_PIDS+=($!)
  ip netns exec "$INET_NS" "$NET_PY" -c '
import http.server, socketserver, threading
def handler(text):
    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.end_headers(); self.wfile.write(text)
        def log_message(self, *a): pass
    return H
class T(socketserver.ThreadingTCPServer): allow_reuse_address = True
a = T(("198.51.100.1", 80), handler(b"internet\n"))
b = T(("10.99.0.1", 80), handler(b"private\n"))
threading.Thread(target=b.serve_forever, daemon=True).start()
a.serve_forever()' </dev/null >/dev/null 2>&1 3>&- &
  NET_PIDS+=($!)
  nsenter --net="/run/netns/$HOST_NS" "$NET_PY" -c '
import http.server, socketserver, socket, threading
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.end_headers(); self.wfile.write(b"hostservice\n")
    def log_message(self, *a): pass
class T(socketserver.ThreadingTCPServer): allow_reuse_address = True
u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
u.bind("\0runf-test-abstract"); u.listen(16)
def accept_all():
    while True:
        c, _ = u.accept(); c.close()
threading.Thread(target=accept_all, daemon=True).start()
T(("0.0.0.0", 9999), H).serve_forever()' </dev/null >/dev/null 2>&1 3>&- &
  NET_PIDS+=($!)
  wait_for ip netns exec "$INET_NS" "$NET_PY" -c 'import socket; socket.create_connection(("198.51.100.1", 80), 1)'
  wait_for nsenter --net="/run/netns/$HOST_NS" "$NET_PY" -c 'import socket; socket.create_connection(("127.0.0.1", 9999), 1)'
}

net_world_down() {
  local p
  for p in "${NET_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${NET_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${HOST_NS:-}" ] && ip netns del "$HOST_NS" 2>/dev/null && rm -rf "/etc/netns/$HOST_NS"
  [ -n "${INET_NS:-}" ] && ip netns del "$INET_NS" 2>/dev/null
  return 0
}

# Run a command in the test's host namespace.
in_host() {
  nsenter --net="/run/netns/$HOST_NS" "$@"
}
