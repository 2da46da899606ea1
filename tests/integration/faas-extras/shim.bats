#!/usr/bin/env bats
# The stdio shim (src/shim/shim.c) end to end: the stdio example's rootfs
# with build/bin/runf-shim bind-mounted read-only at /.runf/shim, as runfd
# runs it, one connection per container (inetd convention).

load faas_helpers

setup() {
  setup_example stdio
  mount_file "$SHIM_BIN" /.runf/shim ro
  set_env RUNF_FUNCTION=echo RUNF_MODE=stdio
}

teardown() {
  teardown_example
}

# The shim in front of a command: shim_serve CMD [ARG]...
shim_serve() {
  set_args /.runf/shim -- "$@"
  serve_inetd s1
}

@test "shim: GET, the request in CGI variables, CGI headers from the script" {
  set_env RUNF_PATH_PREFIX=/function/echo
  shim_serve /handler.sh
  run http -A test-agent/1.0 -H 'X-Multi: a' -H 'X-Multi: b' -H 'X_Under: dropped' \
    "http://127.0.0.1:$PORT/function/echo/some%20where?q=1&r=2"
  [ "$status" -eq 0 ]
  [ "$(status_code)" = 200 ]
  [[ "$output" == *$'\nX-Handler: stdio/handler.sh\n'* ]]
  [[ "$output" == *$'\nContent-Type: text/plain\n'* ]]
  [[ "$output" == *$'\nConnection: close\n'* ]]
  [ "$(body_of)" = "$(printf '%s\n' 'Hello from echo (stdio)' 'method: GET' 'path: /some where' \
       'query: q=1&r=2' 'content-type: ' 'content-length: ' 'user-agent: test-agent/1.0' 'body:')" ]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
  assert_no_leftovers
}

@test "shim: the whole CGI environment, and nothing of the socket activation" {
  set_env RUNF_PATH_PREFIX=/function/echo HTTP_STALE=from-the-image
  shim_serve sh -c 'env | sort; ls /proc/self/fd | tr "\n" " "'
  run http -H 'X-Multi: a' -H 'x-multi: b' -H 'X_Under: dropped' -H 'Proxy: evil' \
    "http://127.0.0.1:$PORT/function/echo/p%2Fq?x=%41"
  [ "$(status_code)" = 200 ]
  body=$(body_of)
  for want in GATEWAY_INTERFACE=CGI/1.1 SERVER_PROTOCOL=HTTP/1.1 REQUEST_METHOD=GET \
      "REQUEST_URI=/function/echo/p%2Fq?x=%41" SCRIPT_NAME=/function/echo PATH_INFO=/p/q \
      QUERY_STRING=x=%41 "HTTP_X_MULTI=a, b" HTTP_HOST=127.0.0.1:$PORT SERVER_NAME=127.0.0.1 \
      REMOTE_ADDR=127.0.0.1 SERVER_ADDR=127.0.0.1 SERVER_PORT=$PORT RUNF_FUNCTION=echo \
      RUNF_MODE=stdio RUNF_PATH_PREFIX=/function/echo; do
    grep -qxF "$want" <<<"$body" || { echo "missing $want in: $body"; return 1; }
  done
  ! grep -q '^HTTP_X_UNDER=\|^HTTP_PROXY=\|^HTTP_STALE=\|^LISTEN_' <<<"$body"
  # The command has stdin, stdout, stderr (and ls's own directory fd): not
  # the client's socket.
  [ "$(tail -1 <<<"$body")" = "0 1 2 3 " ]
}

@test "shim: POST, the body on the command's stdin" {
  shim_serve /handler.sh
  run http -H 'Content-Type: application/json' --data-binary '{"a": 1}' "http://127.0.0.1:$PORT/post"
  [ "$(status_code)" = 200 ]
  body=$(body_of)
  grep -qx 'method: POST' <<<"$body"
  grep -qx 'content-type: application/json' <<<"$body"
  grep -qx 'content-length: 8' <<<"$body"
  [ "$(tail -1 <<<"$body")" = '{"a": 1}' ]
}

@test "shim: a large body streams through, with 100-continue, and a large answer" {
  # 8 MiB in, through cat, 8 MiB out: more than the shim keeps in memory.
  head -c 8388608 /dev/urandom >"$TEST_DIR/big"
  shim_serve cat
  curl -sS --max-time 30 -H 'Expect: 100-continue' --data-binary @"$TEST_DIR/big" \
    -o "$TEST_DIR/back" -w '%{http_code} %{size_download}\n' "http://127.0.0.1:$PORT/" >"$TEST_DIR/code"
  [ "$(cat "$TEST_DIR/code")" = "200 8388608" ]
  cmp "$TEST_DIR/big" "$TEST_DIR/back"
}

@test "shim: chunked request bodies are decoded" {
  shim_serve sh -c 'echo "length=${CONTENT_LENGTH:-none}"; cat'
  run http -H 'Transfer-Encoding: chunked' --data-binary 'chunky body' "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 200 ]
  [ "$(body_of)" = "$(printf 'length=none\nchunky body')" ]
}

@test "shim: chunk extensions and trailers, sent raw" {
  shim_serve cat
  run raw_request < <(printf 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: t\r\n\r\n')
  [ "$(status_code)" = 200 ]
  [[ "$output" == *$'\nContent-Length: 9\n'* ]]
  [ "$(body_of)" = Wikipedia ]
}

@test "shim: Status, Location and other CGI headers; the exit status comes through" {
  shim_serve sh -c 'printf "Status: 201 Made It\r\nContent-Type: application/json\nX-A:  b \nContent-Length: 999\n\n{}"; exit 3'
  run http -X PUT "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 201 ]
  [[ "${lines[0]}" == "HTTP/1.1 201 Made It" ]]
  [[ "$output" == *$'\nContent-Type: application/json\nX-A: b\nContent-Length: 2\nConnection: close\n\n{}'* ]]
  [[ "$output" != *999* ]]
  wait_handler
  [ "$HANDLER_STATUS" = 3 ]
}

@test "shim: Location alone is a redirect" {
  shim_serve sh -c 'printf "Location: /elsewhere\n\n"'
  run http "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 302 ]
  [[ "$output" == *$'\nLocation: /elsewhere\n'* ]]
}

@test "shim: output without headers is text/plain 200, a silent failure is 500" {
  shim_serve sh -c 'echo "just: text, no empty line"; exit 1'
  run http "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 200 ]
  [[ "$output" == *$'\nContent-Type: text/plain\n'* ]]
  [ "$(body_of)" = "just: text, no empty line" ]
  wait_handler
  [ "$HANDLER_STATUS" = 1 ]

  shim_serve sh -c 'exit 4'
  run http "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 500 ]
  wait_handler
  [ "$HANDLER_STATUS" = 4 ]

  shim_serve /no/such/command
  run http "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 500 ]
  wait_handler
  [ "$HANDLER_STATUS" = 127 ]
}

@test "shim: HEAD gets the headers and the length, no body" {
  shim_serve echo twelve bytes
  run http -I "http://127.0.0.1:$PORT/"
  [ "$(status_code)" = 200 ]
  [[ "$output" == *$'\nContent-Length: 13\n'* ]]
  [ -z "$(body_of)" ]
}

@test "shim: malformed requests get 400 and never reach the command" {
  local req
  for req in 'NOT HTTP\r\n\r\n' \
      'GET / HTTP/1.1\r\nBad Header: x\r\n\r\n' \
      'POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello' \
      'POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' \
      'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' \
      'GET /%%00 HTTP/1.1\r\n\r\n'; do
    shim_serve sh -c 'echo ran; touch /tmp/ran'
    run raw_request < <(printf "$req")
    [ "$(status_code)" = 400 ] || { echo "request: $req"; echo "$output"; return 1; }
    [[ "$output" != *ran* ]]
    wait_handler
    [ "$HANDLER_STATUS" = 2 ]
  done
  [ ! -e "$BUNDLE/rootfs/tmp/ran" ]
}

@test "shim: too large: a body 413, headers 431, a request line 414" {
  set_env RUNF_SHIM_MAX_BODY=1000
  shim_serve cat
  run raw_request < <(printf 'POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n')
  [ "$(status_code)" = 413 ]

  # Chunked: found out on the way, the command is stopped.
  shim_serve cat
  run raw_request < <(printf 'POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n'; head -c 1000 /dev/zero; printf '\r\n1\r\nx\r\n0\r\n\r\n')
  [ "$(status_code)" = 413 ]

  shim_serve cat
  run raw_request < <(printf 'GET / HTTP/1.1\r\n'; for i in $(seq 1 40); do printf 'X-Filler-%d: %01000d\r\n' "$i" 0; done; printf '\r\n')
  [ "$(status_code)" = 431 ]

  shim_serve cat
  run raw_request < <(printf 'GET /%09000d HTTP/1.1\r\n\r\n' 0)
  [ "$(status_code)" = 414 ]
}

@test "shim: a client that sends less than Content-Length gets 408, not a hang" {
  set_env RUNF_SHIM_READ_TIMEOUT=1
  shim_serve cat
  SECONDS=0
  # Three bytes of ten, then nothing: the connection stays open.
  run raw_request < <(printf 'POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc')
  [ "$(status_code)" = 408 ]
  [ "$SECONDS" -lt 5 ]
  wait_handler
  [ "$HANDLER_STATUS" = 2 ]

  # Half a head is the same.
  shim_serve cat
  run raw_request < <(printf 'GET / HTTP/1.1\r\nHost: x\r\n')
  [ "$(status_code)" = 408 ]
}
