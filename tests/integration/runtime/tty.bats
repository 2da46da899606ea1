#!/usr/bin/env bats
# process.terminal and --console-socket, as runc handles them: the pty of
# run and exec, its owner and size, stdin that is not a terminal, and the
# detached containers without one.

load ../helpers

setup() {
  setup_bundle
  update_config '.process.terminal = true'
}
teardown() { teardown_bundle; }

# A console socket that takes one pty and copies what comes out of it to
# $TEST_DIR/tty.out until the container hangs up.
console_socket() {
  rm -f "$TEST_DIR/console.sock"
  "$HELPERS/recvtty" "$TEST_DIR/console.sock" >"$TEST_DIR/tty.out" 2>"$TEST_DIR/tty.err" &
  RECVTTY=$!
  wait_for test -S "$TEST_DIR/console.sock"
}

# A running container whose init has a terminal; the console socket's
# reader is gone after (a second console_socket can take its place).
detached_with_terminal() {
  set_args sleep 1000
  console_socket
  runf_detached run -d --console-socket "$TEST_DIR/console.sock" t1
  wait_for grep -q "got a terminal" "$TEST_DIR/tty.err"
  kill "$RECVTTY"
}

@test "run with a terminal, stdin not a terminal: the process still has its pty" {
  set_args sh -c 'stty size >/dev/null && echo has-a-tty'
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *has-a-tty* ]]
}

@test "run: fds 0, 1 and 2 are the pty, /dev/pts/0 in the container's own devpts" {
  set_args sh -c 'for f in /proc/self/fd/0 /proc/self/fd/1 /proc/self/fd/2; do readlink $f; done'
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d '\r' | tr '\n' ' ')" = "/dev/pts/0 /dev/pts/0 /dev/pts/0 " ]
}

@test "run: the pty belongs to the process's user, group tty (5)" {
  set_args sh -c 'stat -c %u:%g $(tty)'
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  if is_root; then
    [ "$(echo "$output" | tr -d '\r')" = 0:5 ]
  else
    [[ "$(echo "$output" | tr -d '\r')" == 0:* ]]
  fi
}

@test "run and exec: a user that is not root owns its pty" {
  requires_root
  update_config '.process.user = {"uid": 1000, "gid": 100}'
  set_args sh -c 'stat -c %u:%g $(tty)'
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d '\r')" = 1000:5 ]
  detached_with_terminal
  # (script echoes the end of its input into the terminal, hence no =.)
  run script -qec "\"$RUNF_BIN\" --root \"$STATE_ROOT\" exec -t t1 sh -c 'stat -c %u:%g \$(tty)'" /dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *1000:5* ]]
}

@test "run: process.consoleSize sizes the pty when stdin is not a terminal" {
  update_config '.process.consoleSize = {"height": 10, "width": 110}'
  set_args stty size
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d '\r')" = "10 110" ]
}

@test "exec -t: stdin not a terminal, its own pty (/dev/pts/1), owned by its user" {
  detached_with_terminal
  run runf exec -t t1 sh -c 'stty size >/dev/null && echo has-a-tty' </dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *has-a-tty* ]]
  run runf exec -t t1 sh -c 'for f in 0 1 2; do readlink /proc/self/fd/$f; done; stat -c %u $(tty)' </dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr -d '\r' | tr '\n' ' ')" = "/dev/pts/1 /dev/pts/1 /dev/pts/1 0 " ]
}

@test "exec -p with consoleSize: a detached exec's pty has that size" {
  update_config '.root.readonly = false'
  detached_with_terminal
  cat >"$TEST_DIR/process.json" <<'EOF'
{"terminal": true, "consoleSize": {"height": 10, "width": 110}, "cwd": "/",
 "args": ["/bin/sh", "-c", "/bin/stty -a >/tmp/tty-info"]}
EOF
  console_socket
  runf_detached exec -t -d --pid-file "$TEST_DIR/exec.pid" --console-socket "$TEST_DIR/console.sock" \
    -p "$TEST_DIR/process.json" t1
  wait_for test -s "$BUNDLE/rootfs/tmp/tty-info"
  grep -q 'rows 10; columns 110' "$BUNDLE/rootfs/tmp/tty-info"
}

@test "a relative --console-socket is relative to the current directory, for run and exec" {
  set_args sleep 1000
  console_socket
  cd "$TEST_DIR"
  runf_detached run -d -b "$BUNDLE" --console-socket console.sock t1
  [ "$(runf state t1 | jq -r .status)" = running ]
  wait_for grep -q "got a terminal" "$TEST_DIR/tty.err"
  kill "$RECVTTY"
  console_socket
  runf_detached exec -t -d --console-socket console.sock t1 sleep 10
  wait_for grep -q "got a terminal" "$TEST_DIR/tty.err"
}

@test "terminal false: create + start, and run -d, with the caller's stdio" {
  update_config '.process.terminal = false'
  set_args sleep 1000
  runf_detached create t1
  run runf start t1
  [ "$status" -eq 0 ]
  [ "$(runf state t1 | jq -r .status)" = running ]
  run runf kill t1 KILL
  [ "$status" -eq 0 ]
  runf_detached run -d t2
  [ "$(runf state t2 | jq -r .status)" = running ]
  [ "$(readlink "/proc/$(runf state t2 | jq -r .pid)/fd/1")" = "$TEST_DIR/detached.out" ]
}

@test "a console socket that would get no terminal is refused in one line, as by runc" {
  console_socket
  update_config '.process.terminal = false'
  set_args sleep 1000
  run runf create --console-socket "$TEST_DIR/console.sock" t1
  assert_one_error_line "process.terminal is false"
  run runf run -d --console-socket "$TEST_DIR/console.sock" t1
  assert_one_error_line "process.terminal is false"
  assert_no_leftovers
  update_config '.process.terminal = true'
  run runf run --console-socket "$TEST_DIR/console.sock" t1
  assert_one_error_line "relays the terminal itself"
  runf_detached run -d --console-socket "$TEST_DIR/console.sock" t1
  run runf exec -d --console-socket "$TEST_DIR/console.sock" t1 true
  [ "$status" -eq 255 ]
  [[ "$output" == *"no -t"* ]]
  run runf exec -t --console-socket "$TEST_DIR/console.sock" t1 true
  [ "$status" -eq 255 ]
  [[ "$output" == *"relays the terminal itself"* ]]
}
