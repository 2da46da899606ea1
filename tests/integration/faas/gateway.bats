#!/usr/bin/env bats
# The shared gateway routes requests, not connections: each request on a
# connection reaches the function it names, whatever came before it on
# that connection (pipelined, keep-alive), and nothing of one request
# reaches another's function.

load faas_helpers

setup_file() {
  faas_setup_file
  runfctl fn deploy gwa - <"$FN_IMAGE" >/dev/null
  runfctl fn deploy gwb - <"$FN_IMAGE" >/dev/null
}
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-case.XXXXXX")
}
teardown() {
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$TEST_DIR"
}

# Send raw bytes (printf escapes) on one connection, print everything that
# comes back until the server closes or 5 s pass.
raw() { # host:port bytes
  python3 - "$1" "$2" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin1"))
s.settimeout(5)
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
except (socket.timeout, ConnectionResetError):
    pass
sys.stdout.write(out.decode("latin1"))
PY
}

@test "pipelined requests for two functions each reach their own, and B's credentials never reach A" {
  run raw "$GATEWAY" 'GET /function/gwa/head HTTP/1.1\r\nHost: x\r\n\r\nGET /function/gwb/head HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET-B\r\n\r\n'
  echo "$output"
  # gwa answers with Connection: close: the connection ends after its
  # answer, and the second request never reaches gwa.
  [[ "$output" == *"gwa:"* ]]
  [[ "$output" != *"SECRET-B"* ]]
  [ "$(echo "$output" | grep -c '^HTTP/1.1 ')" -eq 1 ]
}

@test "on a kept-alive connection each request is routed on its own" {
  run raw "$GATEWAY" 'GET /function/gwa/ka HTTP/1.1\r\nHost: x\r\n\r\nGET /function/gwb/ka HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer SECRET-B\r\n\r\nGET /function/gwa/head HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  [ "$(echo "$output" | grep -c '^HTTP/1.1 200')" -eq 3 ]
  [ "$(echo "$output" | grep -n 'hello gw' | cut -d: -f2 | tr '\n' ' ')" = "hello gwa hello gwb " ]
  [[ "$(echo "$output" | sed -n '/^gwa:/,$p')" != *SECRET-B* ]]
  # curl reuses its connection across the two.
  run curl -sS -v "http://$GATEWAY/function/gwa/ka" "http://$GATEWAY/function/gwb/ka"
  [[ "$output" == *"hello gwa"*"Re-using existing connection"*"hello gwb"* ]]
}

@test "a request body (Content-Length or chunked) ends where its framing says, the next request is routed" {
  run raw "$GATEWAY" 'POST /function/gwa/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 45\r\n\r\nGET /function/gwb/head HTTP/1.1\r\nX-In: body\r\n\r\nGET /function/gwb/ka HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  # The 45 bytes that look like a request are gwa's body, echoed back.
  [[ "$output" == *"GET /function/gwb/head HTTP/1.1"* ]]
  [[ "$output" != *"gwb:"* ]]
  run raw "$GATEWAY" 'POST /function/gwa/ka HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /function/gwb/ka HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  [[ "$output" == *"hello gwa"*"hello gwb"* ]]
}

@test "through the gateway a silent handler gets 502, a slow one 504, a malformed request 400" {
  run curl -sS -o /dev/null -w '%{http_code}' "http://$GATEWAY/function/gwa/crash"
  [ "$output" = 502 ]
  runfctl fn deploy gwslow --timeout 1s - <"$FN_IMAGE" >/dev/null
  run curl -sS -o /dev/null -w '%{http_code}' "http://$GATEWAY/function/gwslow/sleep/5"
  [ "$output" = 504 ]
  run raw "$GATEWAY" 'POST /function/gwa/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'
  [[ "$output" == "HTTP/1.1 400"* ]]
  runfctl fn rm gwslow >/dev/null
}

@test "control-socket and warm functions through the gateway route each request too" {
  runfctl fn deploy gwctl --mode control-socket - <"$FN_IMAGE" >/dev/null
  runfctl fn deploy gwwarm --mode warm - <"$FN_IMAGE" >/dev/null
  # Warm instances see the gateway's path whole (no per-request
  # RUNF_PATH_PREFIX): fn_handler answers it with Connection: close, so it
  # comes last.
  run raw "$GATEWAY" 'GET /function/gwctl/ka HTTP/1.1\r\nHost: x\r\n\r\nGET /function/gwb/ka HTTP/1.1\r\nHost: x\r\n\r\nGET /function/gwwarm/ka HTTP/1.1\r\nHost: x\r\n\r\n'
  echo "$output"
  [ "$(echo "$output" | grep 'hello gw' | tr '\n' ' ')" = "hello gwctl hello gwb hello gwwarm " ]
  runfctl fn rm gwctl >/dev/null
  runfctl fn rm gwwarm >/dev/null
}
