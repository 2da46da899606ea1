#!/usr/bin/env bats
# The example handlers (examples/), each in its image's rootfs under
# `runf run`, given a connection the way runfd does: inetd (fd 3 with
# LISTEN_FDS, or --preserve-fds alone), warm (the listening socket) and
# control-socket (SCM_RIGHTS over /control.sock).

load faas_helpers

setup() {
  setup_example hello
}

teardown() {
  teardown_example
}

@test "hello: inetd mode, the connection as fd 3, stdin and stdout with LISTEN_FDS" {
  set_args /hello
  set_env RUNF_FUNCTION=hello RUNF_MODE=inetd
  serve_inetd h1
  run http "http://127.0.0.1:$PORT/abc?x=1"
  [ "$status" -eq 0 ]
  [ "$(status_code)" = 200 ]
  [[ "$output" == *"Content-Length: 39"* ]]
  [ "$(body_of)" = "$(printf 'Hello from hello!\nGET /abc?x=1 (inetd)')" ]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
  # LISTEN_PID named the handler's own pid: no complaint on stderr.
  [ ! -s "$TEST_DIR/handler.err" ]
  assert_no_leftovers
}

@test "hello: guesses inetd from a connected fd 3 given with --preserve-fds alone" {
  set_args /hello
  set_env RUNF_FUNCTION=guess
  start_sockserve inetd env -u LISTEN_FDS -u LISTEN_PID \
    "$RUNF_BIN" --root "$STATE_ROOT" run --preserve-fds 1 h1
  # A body it does not need is read, not left to reset the connection.
  run http -X POST --data-binary 'some body' "http://127.0.0.1:$PORT/p"
  [ "$status" -eq 0 ]
  [ "$(body_of)" = "$(printf 'Hello from guess!\nPOST /p (inetd)')" ]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
}

@test "hello: a request that is not HTTP gets 400" {
  set_args /hello
  serve_inetd h1
  run raw_request < <(printf 'hello there\r\n\r\n')
  [ "$(status_code)" = 400 ]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
}

@test "hello: warm mode accepts on the listening fd 3 until SIGTERM" {
  set_args /hello
  set_env RUNF_FUNCTION=warmth
  start_sockserve warm "$RUNF_BIN" --root "$STATE_ROOT" run w1
  # A client that holds a connection without a request does not hold up
  # the others: each connection is served on its own.
  exec 6<>"/dev/tcp/127.0.0.1/$PORT"
  for i in 1 2 3; do
    run http "http://127.0.0.1:$PORT/n$i"
    [ "$status" -eq 0 ]
    [ "$(body_of)" = "$(printf 'Hello from warmth!\nGET /n%s (warm)' "$i")" ]
  done
  # Still running; SIGTERM ends it once the held connection is answered.
  wait_for test -d "$STATE_ROOT/w1"
  runf kill w1 TERM
  printf 'GET /last HTTP/1.1\r\n\r\n' >&6
  run timeout 10 cat <&6
  exec 6<&-
  [[ "$output" == *"GET /last (warm)"* ]]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
  assert_no_leftovers
}

@test "hello: guesses control-socket from /control.sock and takes the connection from it" {
  set_args /hello
  set_env RUNF_FUNCTION=ctl
  touch "$BUNDLE/rootfs/control.sock"
  start_sockserve control "$TEST_DIR/control.sock"
  mount_file "$TEST_DIR/control.sock" /control.sock
  http "http://127.0.0.1:$PORT/via/control" >"$TEST_DIR/answer" &
  run runf run c1
  [ "$status" -eq 0 ]
  wait %2
  [ "$(sed '1,/^$/d' "$TEST_DIR/answer")" = "$(printf 'Hello from ctl!\nGET /via/control (control-socket)')" ]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
}

@test "control/handler: the seed protocol, strictly (payload \"fd\" and one SCM_RIGHTS fd)" {
  rm -rf "$BUNDLE/rootfs"
  cp -a "$EXAMPLES/control/rootfs" "$BUNDLE/rootfs"
  set_args /handler
  set_env RUNF_FUNCTION=seed RUNF_MODE=control-socket
  start_sockserve control "$TEST_DIR/control.sock" 2
  mount_file "$TEST_DIR/control.sock" /control.sock
  # Two requests, one container each, as the seed design runs them.
  for i in 1 2; do
    http "http://127.0.0.1:$PORT/r$i?q" >"$TEST_DIR/answer" &
    run runf run "c$i"
    [ "$status" -eq 0 ]
    [ "$output" = "served GET /r$i?q" ]
    wait $!
    grep -qx "seed answered over the control socket: GET /r$i?q" "$TEST_DIR/answer"
  done
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
  # Without a control socket it fails with one line, not a hang.
  update_config '.mounts |= map(select(.destination != "/control.sock"))'
  run runf run c3
  [ "$status" -eq 1 ]
  [[ "$output" == "handler: connect to /control.sock: "* ]]
}

@test "the example images: docker-save archives that import and run as they are" {
  local store=$TEST_DIR/store name mode
  for name in hello control stdio; do
    run "$TOP/build/bin/runfctl" --store "$store" image import "$EXAMPLES/$name.tar"
    [ "$status" -eq 0 ]
    run "$TOP/build/bin/runfctl" --store "$store" image inspect "$name:latest"
    [ "$status" -eq 0 ]
    mode=$(jq -r '.config.Labels["runf.function.mode"]' <<<"$output")
    case $name in
      hello) [ "$mode" = inetd ] ;;
      control) [ "$mode" = control-socket ] ;;
      stdio) [ "$mode" = stdio ] ;;
    esac
  done
  # hello from the store, exactly as the image says to run it.
  "$TOP/build/bin/runfctl" --store "$store" image unpack hello "$TEST_DIR/b"
  [ "$(jq -c .process.args "$TEST_DIR/b/config.json")" = '["/hello"]' ]
  cd "$TEST_DIR/b"
  jq '.process.env += ["RUNF_FUNCTION=image"]' config.json >c && mv c config.json
  serve_inetd i1
  run http "http://127.0.0.1:$PORT/"
  [ "$(body_of)" = "$(printf 'Hello from image!\nGET / (inetd)')" ]
  wait_handler
  [ "$HANDLER_STATUS" = 0 ]
}
