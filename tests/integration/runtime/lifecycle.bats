#!/usr/bin/env bats
# create, start, run, state, kill, delete, list: runc's behaviour.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "run shows the container's output and cleans up after itself" {
  set_args echo hello from runf
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = "hello from runf" ]
  assert_no_leftovers
}

@test "run exits with the container's exit status" {
  set_args sh -c 'exit 42'
  run runf run t1
  [ "$status" -eq 42 ]
  assert_no_leftovers
}

@test "run exits with 128+N when signal N kills the container" {
  set_args sh -c 'echo ready; exec sleep 100'
  runf run t1 >"$TEST_DIR/out" 2>&1 &
  pid=$!
  wait_for grep -q ready "$TEST_DIR/out"
  runf kill t1 KILL
  wait $pid || st=$?
  [ "${st:-0}" -eq 137 ]
}

@test "run forwards signals to the container" {
  set_args sh -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done'
  # Not the runf function: $! must be runf itself.
  "$RUNF_BIN" --root "$STATE_ROOT" run t1 >"$TEST_DIR/out" 2>&1 &
  pid=$!
  wait_for grep -q ready "$TEST_DIR/out"
  kill -TERM $pid
  wait $pid || st=$?
  [ "${st:-0}" -eq 3 ]
  grep -q got-term "$TEST_DIR/out"
}

@test "create, start, state, kill, delete walk through created, running, stopped" {
  set_args sh -c 'echo started >/tmp/marker; exec sleep 100'
  update_config '.root.readonly = false'
  runf_detached create --pid-file "$TEST_DIR/pid" t1
  run runf state t1
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r .status)" = created ]
  [ "$(echo "$output" | jq -r .id)" = t1 ]
  [ "$(echo "$output" | jq -r .bundle)" = "$(cd "$BUNDLE" && pwd -P)" ]
  pid=$(echo "$output" | jq -r .pid)
  [ "$pid" = "$(cat "$TEST_DIR/pid")" ]
  [ -d "/proc/$pid" ]
  [ ! -e "$BUNDLE/rootfs/tmp/marker" ]

  run runf start t1
  [ "$status" -eq 0 ]
  run runf state t1
  [ "$(echo "$output" | jq -r .status)" = running ]
  wait_for test -e "$BUNDLE/rootfs/tmp/marker"

  run runf start t1
  [ "$status" -ne 0 ]
  [[ "$output" == *"already running"* ]]

  run runf delete t1
  [ "$status" -ne 0 ]
  [[ "$output" == *"not stopped"* ]]

  run runf kill t1 KILL
  [ "$status" -eq 0 ]
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  run runf state t1
  [ "$(echo "$output" | jq -r .pid)" = 0 ]
  run runf delete t1
  [ "$status" -eq 0 ]
  assert_no_leftovers
}

@test "delete --force kills a running container" {
  set_args sleep 100
  runf_detached run -d t1
  pid=$(runf state t1 | jq -r .pid)
  run runf delete --force t1
  [ "$status" -eq 0 ]
  [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
  assert_no_leftovers
}

@test "delete of a created container kills its init" {
  set_args true
  runf_detached create t1
  pid=$(runf state t1 | jq -r .pid)
  run runf delete t1
  [ "$status" -eq 0 ]
  ! [ -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
  assert_no_leftovers
}

@test "delete --force of a container that does not exist succeeds, plain delete fails" {
  run runf delete --force nosuch
  [ "$status" -eq 0 ]
  run runf delete nosuch
  assert_one_error_line "does not exist"
}

@test "kill takes signal names with and without SIG, and numbers" {
  update_config '.root.readonly = false'
  set_args sh -c 'trap "echo usr1 >>/tmp/sigs" USR1; trap "echo usr2 >>/tmp/sigs" USR2; trap "echo hup >>/tmp/sigs" HUP; echo ready >/tmp/ready; while :; do sleep 0.1; done'
  runf_detached run -d t1
  wait_for test -e "$BUNDLE/rootfs/tmp/ready"
  runf kill t1 USR1
  wait_for grep -q usr1 "$BUNDLE/rootfs/tmp/sigs"
  runf kill t1 SIGUSR2
  wait_for grep -q usr2 "$BUNDLE/rootfs/tmp/sigs"
  runf kill t1 1
  wait_for grep -q hup "$BUNDLE/rootfs/tmp/sigs"
  run runf kill t1 NOTASIGNAL
  assert_one_error_line "unknown signal"
  runf kill t1 KILL
}

@test "kill defaults to SIGTERM and fails on a stopped container" {
  # As pid 1 the process only gets the signals it handles.
  set_args sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done'
  runf_detached run -d t1
  runf kill t1
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  run runf kill t1 KILL
  assert_one_error_line "not running"
}

@test "kill --all signals every process of the container" {
  update_config '.root.readonly = false'
  set_args sh -c 'sleep 100 & sleep 100 & echo ready >/tmp/ready; wait'
  runf_detached run -d t1
  wait_for test -e "$BUNDLE/rootfs/tmp/ready"
  pid=$(runf state t1 | jq -r .pid)
  ns=$(readlink /proc/$pid/ns/pid)
  run runf kill --all t1 KILL
  [ "$status" -eq 0 ]
  wait_for sh -c "! for p in /proc/[0-9]*; do [ \"\$(readlink \$p/ns/pid 2>/dev/null)\" = \"$ns\" ] && grep -qv '^State:.*Z' \$p/status && echo \$p; done | grep -q ."
}

@test "run -d leaves the container running and returns" {
  set_args sleep 100
  runf_detached run -d t1
  [ "$(runf state t1 | jq -r .status)" = running ]
}

@test "a duplicate id is refused and the first container is untouched" {
  set_args sleep 100
  runf_detached run -d t1
  run runf create t1 </dev/null
  assert_one_error_line "already exists"
  [ "$(runf state t1 | jq -r .status)" = running ]
}

@test "list shows containers as a table, as JSON and quietly" {
  set_args sleep 100
  runf_detached run -d aaa
  update_config 'del(.linux.cgroupsPath)' # bbb's own cgroup: /runf/bbb
  runf_detached create bbb
  run runf list
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "ID"*"PID"*"STATUS"*"BUNDLE"*"CREATED"*"OWNER" ]]
  [[ "${lines[1]}" == "aaa "*running* ]]
  [[ "${lines[2]}" == "bbb "*created* ]]
  run runf list -q
  [ "$output" = "$(printf 'aaa\nbbb')" ]
  run runf list --format json
  [ "$(echo "$output" | jq -r '.[1].status')" = created ]
  [ "$(echo "$output" | jq -r 'length')" = 2 ]
}

@test "a container whose process died reads as stopped" {
  set_args true
  runf_detached create t1
  runf start t1
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
}

@test "a reused pid is never signalled" {
  set_args sleep 100
  runf_detached run -d t1
  init=$(runf state t1 | jq -r .pid)
  # Point the state at another live process with a different start time.
  sleep 100 &
  other=$!
  state="$STATE_ROOT/t1/state.json"
  cp "$state" "$state.real"
  jq --argjson p "$other" '.pid = $p' "$state" >"$state.new" && mv "$state.new" "$state"
  [ "$(runf state t1 | jq -r .status)" = stopped ]
  run runf kill t1 KILL
  [ "$status" -ne 0 ]
  kill -0 $other
  kill $other
  # The real init again, for teardown's delete to kill it.
  mv "$state.real" "$state"
  [ "$(runf state t1 | jq -r .pid)" = "$init" ]
}

@test "--pid-file is written atomically with the init pid" {
  set_args sleep 100
  runf_detached run -d --pid-file "$TEST_DIR/pidfile" t1
  [ "$(cat "$TEST_DIR/pidfile")" = "$(runf state t1 | jq -r .pid)" ]
  ! ls "$TEST_DIR" | grep -q 'pidfile.tmp'
}

@test "--preserve-fds passes fds 3.. into the container" {
  set_args sh -c 'cat <&3; cat <&4; ls /proc/self/fd'
  echo three >"$TEST_DIR/three"
  echo four >"$TEST_DIR/four"
  run runf run --preserve-fds 2 t1 3<"$TEST_DIR/three" 4<"$TEST_DIR/four"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = three ]
  [ "${lines[1]}" = four ]
  # 0-2, 3, 4 and the directory ls itself opens: nothing of runf leaks in.
  [ "$(echo "${lines[@]:2}" | wc -w)" -le 6 ]
}

@test "LISTEN_FDS from the caller goes into the container with LISTEN_PID" {
  set_args sh -c 'echo $LISTEN_FDS $LISTEN_PID $$; cat <&3'
  echo sock >"$TEST_DIR/sock"
  run env LISTEN_FDS=1 "$RUNF_BIN" --root "$STATE_ROOT" run t1 3<"$TEST_DIR/sock"
  [ "$status" -eq 0 ]
  read -r fds lpid self <<<"${lines[0]}"
  [ "$fds" = 1 ]
  [ "$lpid" = "$self" ]
  [ "${lines[1]}" = sock ]
}

@test "create fails on a missing executable and leaves nothing behind" {
  set_args /nonexistent
  run runf create t1
  assert_one_error_line "/nonexistent"
  assert_no_leftovers
}

@test "start of a file that cannot be exec'd says why, every time (engines map it to 126)" {
  # init's exec fails at once and it exits: start must read the message it
  # left in exec.fifo, not take the exit for a death before the start.
  set_args /etc/passwd
  for i in $(seq 25); do
    runf create t1
    run runf start t1
    [ "$status" -ne 0 ]
    [[ "$output" == *"/etc/passwd"*"permission denied"* ]] || { echo "try $i: $output"; return 1; }
    runf delete -f t1
  done
}

@test "--console-socket receives the pty master and the container writes to it" {
  update_config '.process.terminal = true'
  set_args sh -c 'tty; echo on-the-terminal'
  "$HELPERS/recvtty" "$TEST_DIR/console.sock" >"$TEST_DIR/tty.out" 2>"$TEST_DIR/tty.err" &
  rpid=$!
  wait_for test -S "$TEST_DIR/console.sock"
  runf_detached run -d --console-socket "$TEST_DIR/console.sock" t1
  wait $rpid
  grep -q "got a terminal" "$TEST_DIR/tty.err"
  grep -q "/dev/pts/0" "$TEST_DIR/tty.out"
  grep -q "on-the-terminal" "$TEST_DIR/tty.out"
}

@test "a --console-socket nobody accepts on fails create within its bound, leaving nothing" {
  update_config '.process.terminal = true'
  # A listener with a backlog of one that never accepts: taken by the first
  # connection, and the next would wait forever in a blocking connect.
  python3 - "$TEST_DIR/tty.sock" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(0)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
d = socket.socket(socket.AF_UNIX)
d.setblocking(False)
try:
    d.connect(sys.argv[1])
except OSError:
    pass
time.sleep(120)
PY
  wait_for test -S "$TEST_DIR/tty.sock"
  sleep 0.2
  set_args true
  run timeout 60 "$RUNF_BIN" --root "$STATE_ROOT" run -d --console-socket "$TEST_DIR/tty.sock" t1
  assert_one_error_line "nobody accepts connections there"
  assert_no_leftovers
}

@test "a detached terminal container needs --console-socket" {
  update_config '.process.terminal = true'
  run runf run -d t1
  assert_one_error_line "console-socket"
  assert_no_leftovers
}

@test "process.terminal in the foreground gives the container a pty on the caller's terminal" {
  update_config '.process.terminal = true'
  set_args sh -c 'tty; stty size'
  run script -qec "\"$RUNF_BIN\" --root \"$STATE_ROOT\" run t1" /dev/null
  [ "$status" -eq 0 ]
  [[ "$output" == *"/dev/pts/0"* ]]
}
