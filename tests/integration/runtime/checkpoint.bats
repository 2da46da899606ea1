#!/usr/bin/env bats
# checkpoint and restore with CRIU, runc's command line: a container's
# processes go on from where they were (their memory, their open TCP
# connection), the restored container is one like any other for state,
# ps, exec, kill and delete, and bad input is one line that leaves
# nothing behind.  The tests that need CRIU to work skip, saying what CRIU
# refused, on a host where it cannot (tests/integration/runtime/criu.bash).

load ../helpers
load criu

setup_file() {
  criu_probe
  export CRIU_BIN CRIU_DIR CRIU_SKIP CRIU_NOTE CRIU_MEMTRACK CRIU_TCP_SKIP
  if [ -n "$CRIU_SKIP" ]; then
    echo "# CRIU: $CRIU_SKIP" >&3
  else
    echo "# using $CRIU_NOTE" >&3
    [ -z "$CRIU_TCP_SKIP" ] || echo "# $CRIU_TCP_SKIP" >&3
  fi
}

teardown_file() {
  criu_cleanup
}

setup() {
  setup_bundle
  update_config '.root.readonly = false'
}

teardown() {
  teardown_bundle
}

# runf with the probed criu.
criu_runf() {
  "$RUNF_BIN" --root "$STATE_ROOT" --criu "${CRIU_BIN:-criu}" "$@"
}

# The last number written (the shell truncates the file before each).
count() {
  local n
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    n=$(cat "$BUNDLE/rootfs/tmp/count" 2>/dev/null)
    [ -n "$n" ] && break
    sleep 0.01
  done
  echo "${n:-0}"
}

count_at_least() {
  [ "$(count)" -ge "$1" ]
}

# A container that counts in its shell's memory, every 50 ms, and writes
# each number to /tmp/count; SIGTERM makes it exit with status 7.
start_counter() {
  set_args sh -c 'trap "exit 7" TERM; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.05; done'
  runf_detached run -d "$1"
}

# restore -d with stdio from files, as CRIU wants them (see the test of a
# pipe below); prints runf's errors on failure.
restore_detached() {
  if ! criu_runf restore -d "$@" </dev/null >"$TEST_DIR/restore.out" 2>&1; then
    cat "$TEST_DIR/restore.out"
    return 1
  fi
}

status_of() {
  runf state "$1" | jq -r .status
}

# The test's cgroups (linux.cgroupsPath is /runf-tests/<its dir>).
cgroup_dirs() {
  ls -d /sys/fs/cgroup/*/runf-tests/"${TEST_DIR##*/}" /sys/fs/cgroup/runf-tests/"${TEST_DIR##*/}" 2>/dev/null
}

@test "checkpoint ends the container; restore brings it back and its count goes on from where it was" {
  requires_root
  requires_criu
  start_counter t1
  wait_for count_at_least 20
  run criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ -z "$output" ]
  [ -f "$TEST_DIR/img/inventory.img" ]
  [ -f "$TEST_DIR/img/dump.log" ]
  # As with runc, the checkpointed container is gone, cgroups and all.
  run runf state t1
  [ "$status" -ne 0 ]
  [[ "$output" == *"does not exist"* ]]
  [ -z "$(cgroup_dirs)" ]
  saved=$(count)
  sleep 0.3
  [ "$(count)" = "$saved" ]

  # The container's stdout was a file (runf_detached's): CRIU gives it
  # back only as a file, and bats' `run` makes it a pipe.
  run criu_runf restore -d --image-path "$TEST_DIR/img" t1 </dev/null
  assert_one_error_line "fd 1 was a file when the container was checkpointed, and is a pipe or a socket here"
  assert_no_leftovers
  [ -z "$(cgroup_dirs)" ]

  restore_detached --image-path "$TEST_DIR/img" --pid-file "$TEST_DIR/pid" t1
  [ ! -s "$TEST_DIR/restore.out" ]
  [ "$(status_of t1)" = running ]
  pid=$(runf state t1 | jq -r .pid)
  [ "$pid" = "$(cat "$TEST_DIR/pid")" ]
  [ -d "/proc/$pid" ]
  [ -n "$(cgroup_dirs)" ]
  grep -q "runf-tests/${TEST_DIR##*/}" "/proc/$pid/cgroup"
  # The shell's own variable goes on: never back to 1.
  wait_for count_at_least $((saved + 5))
  now=$(count)
  [ "$now" -gt "$saved" ] && [ "$now" -lt $((saved + 200)) ]
  # Nothing of the restore stays mounted.
  ! grep -q criu-root /proc/self/mountinfo
}

@test "a restored container works with state, list, ps, exec, kill and delete" {
  requires_root
  requires_criu
  start_counter t1
  wait_for count_at_least 5
  criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  restore_detached --image-path "$TEST_DIR/img" t1
  runf list | grep -E '^t1 +[0-9]+ +running'
  run runf ps t1
  [ "$status" -eq 0 ]
  [[ "$output" == *'sh -c trap "exit 7" TERM; i=0'* ]]
  run runf exec t1 cat /tmp/count
  [ "$status" -eq 0 ]
  [ "$output" -ge 5 ]
  run runf exec t1 sh -c 'echo $$'
  [ "$status" -eq 0 ]
  runf kill t1 KILL
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  runf delete t1
  [ -z "$(cgroup_dirs)" ]
  assert_no_leftovers
}

@test "checkpoint --leave-running keeps the container running, and its images restore the state they saved" {
  requires_root
  requires_criu
  start_counter t1
  wait_for count_at_least 5
  before=$(count)
  run criu_runf checkpoint --leave-running --image-path "$TEST_DIR/img" t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  after=$(count)
  [ "$(status_of t1)" = running ]
  wait_for count_at_least $((after + 40))
  runf kill t1 KILL
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  runf delete t1
  last=$(count)

  restore_detached --image-path "$TEST_DIR/img" t1
  [ "$(status_of t1)" = running ]
  # Back to what the checkpoint saw, which is well before `last`.
  wait_for sh -c "[ \$(cat '$BUNDLE/rootfs/tmp/count') -lt $last ]"
  now=$(count)
  [ "$now" -ge "$before" ]
}

@test "checkpoint --pre-dump, then a dump on top of it with --parent-path, restores (or says the kernel cannot)" {
  requires_root
  requires_criu
  start_counter t1
  wait_for count_at_least 5
  if [ "$CRIU_MEMTRACK" != yes ]; then
    run criu_runf checkpoint --pre-dump --image-path "$TEST_DIR/pre" t1
    assert_one_error_line "checkpoint \`t1\`: --pre-dump and --parent-path need CRIU to track memory changes, which this kernel cannot"
    [ ! -e "$TEST_DIR/pre" ]
    [ "$(status_of t1)" = running ]
    return 0
  fi
  run criu_runf checkpoint --pre-dump --image-path "$TEST_DIR/pre" t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(status_of t1)" = running ]
  run criu_runf checkpoint --image-path "$TEST_DIR/final" --parent-path ../pre t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ -L "$TEST_DIR/final/parent" ]
  saved=$(count)
  restore_detached --image-path "$TEST_DIR/final" --work-path "$TEST_DIR/work" t1
  [ -f "$TEST_DIR/work/restore.log" ]
  wait_for count_at_least $((saved + 5))
}

# A container with an established TCP connection inside its own network
# namespace, on its 127.0.0.1: the server writes what it receives (a
# number every 50 ms) to /tmp/recv.
start_tcp_container() {
  update_config '.process.capabilities.bounding += ["CAP_NET_ADMIN"]
    | .process.capabilities.effective += ["CAP_NET_ADMIN"]
    | .process.capabilities.permitted += ["CAP_NET_ADMIN"]'
  set_args sh -c 'ip link set lo up
    sleep 100000 | nc -l -p 7000 >/tmp/recv &
    sleep 0.3
    i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done | nc 127.0.0.1 7000'
  runf_detached run -d "$1"
}

received() {
  tail -n 1 "$BUNDLE/rootfs/tmp/recv" 2>/dev/null || echo 0
}

recv_at_least() {
  [ "$(received)" -ge "$1" ] 2>/dev/null
}

@test "a CRIU failure (a TCP connection without --tcp-established) is one line naming the log; the container runs on" {
  requires_root
  requires_criu
  start_tcp_container t1
  wait_for recv_at_least 5
  run criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  assert_one_error_line "consider using --tcp-established"
  [[ "$output" == *"(log: $TEST_DIR/img/dump.log)"* ]]
  [ "$(status_of t1)" = running ]
  # What the failed dump wrote is gone but for its log.
  [ "$(ls "$TEST_DIR/img")" = dump.log ]
  at=$(received)
  wait_for recv_at_least $((at + 5))
}

@test "checkpoint and restore --tcp-established keep an established TCP connection" {
  requires_root
  requires_criu
  [ -z "$CRIU_TCP_SKIP" ] || skip "$CRIU_TCP_SKIP"
  start_tcp_container t1
  wait_for recv_at_least 5
  run criu_runf checkpoint --tcp-established --image-path "$TEST_DIR/img" t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  saved=$(received)
  restore_detached --tcp-established --image-path "$TEST_DIR/img" t1
  wait_for recv_at_least $((saved + 10))
  # The same connection: every number once, in order, none lost.
  awk 'NR != $1 { print "line " NR ": " $0; bad = 1 } END { exit bad }' "$BUNDLE/rootfs/tmp/recv"
}

@test "restore without --detach stays the container's parent and exits with its status" {
  requires_root
  requires_criu
  start_counter t1
  wait_for count_at_least 5
  criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  # Not a shell function: $! must be runf.
  "$RUNF_BIN" --root "$STATE_ROOT" --criu "$CRIU_BIN" restore --image-path "$TEST_DIR/img" t1 \
    </dev/null >"$TEST_DIR/fg.out" 2>&1 &
  pid=$!
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"running\"'"
  # runf forwards the signal; the restored shell's trap answers it.
  kill -TERM "$pid"
  wait "$pid" || st=$?
  [ "${st:-0}" -eq 7 ] || { cat "$TEST_DIR/fg.out"; return 1; }
  # As `run` does, the container is gone once its process is.
  run runf state t1
  [[ "$output" == *"does not exist"* ]]
  [ -z "$(cgroup_dirs)" ]
}

@test "restore runs the prestart and createRuntime hooks with the restored init's pid; checkpoint's delete runs poststop" {
  requires_root
  requires_criu
  cat >"$TEST_DIR/hook.sh" <<HOOK
#!/bin/sh
echo "\$1 \$(jq -r '.status + " " + (.pid|tostring)')" >>$TEST_DIR/hooks.log
HOOK
  chmod +x "$TEST_DIR/hook.sh"
  update_config --arg h "$TEST_DIR/hook.sh" '.hooks = {
    "prestart": [{"path": $h, "args": ["hook", "prestart"]}],
    "createRuntime": [{"path": $h, "args": ["hook", "createRuntime"]}],
    "poststop": [{"path": $h, "args": ["hook", "poststop"]}]}'
  start_counter t1
  wait_for count_at_least 5
  criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  grep -q '^poststop stopped' "$TEST_DIR/hooks.log"
  rm "$TEST_DIR/hooks.log"
  restore_detached --image-path "$TEST_DIR/img" t1
  pid=$(runf state t1 | jq -r .pid)
  cat "$TEST_DIR/hooks.log"
  [ "$(cat "$TEST_DIR/hooks.log")" = "prestart creating $pid
createRuntime creating $pid" ]
}

@test "a paused container: checkpoint --leave-running leaves it paused" {
  requires_root
  requires_criu
  start_counter t1
  wait_for count_at_least 5
  runf pause t1
  run criu_runf checkpoint --leave-running --image-path "$TEST_DIR/img" t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(status_of t1)" = paused ]
  runf resume t1
  at=$(count)
  wait_for count_at_least $((at + 5))
}

@test "a terminal container: restore --console-socket sends the restored pty's master, and the output goes on there" {
  requires_root
  requires_criu
  update_config '.process.terminal = true'
  set_args sh -c 'i=0; while :; do i=$((i+1)); echo n$i; sleep 0.05; done'
  "$HELPERS/recvtty" "$TEST_DIR/c1.sock" >"$TEST_DIR/tty1.out" 2>"$TEST_DIR/tty1.err" &
  wait_for test -S "$TEST_DIR/c1.sock"
  runf_detached run -d --console-socket "$TEST_DIR/c1.sock" t1
  wait_for grep -q '^n5' "$TEST_DIR/tty1.out"
  run criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  last=$(tr -d '\r' <"$TEST_DIR/tty1.out" | grep '^n' | tail -n 1)
  last=${last#n}

  "$HELPERS/recvtty" "$TEST_DIR/c2.sock" >"$TEST_DIR/tty2.out" 2>"$TEST_DIR/tty2.err" &
  wait_for test -S "$TEST_DIR/c2.sock"
  restore_detached --console-socket "$TEST_DIR/c2.sock" --image-path "$TEST_DIR/img" t1
  wait_for grep -q "got a terminal" "$TEST_DIR/tty2.err"
  wait_for grep -q "^n$((last + 5))" "$TEST_DIR/tty2.out"
  # Where the first terminal stopped, not from n1 again.
  ! grep -q '^n1\b' "$TEST_DIR/tty2.out"
}

# --- what needs no working CRIU ----------------------------------------------

@test "checkpoint --help and restore --help succeed (podman probes them)" {
  run "$RUNF_BIN" checkpoint --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--image-path"* && "$output" == *"--leave-running"* ]]
  run "$RUNF_BIN" restore --help
  [ "$status" -eq 0 ]
  [[ "$output" == *"--image-path"* && "$output" == *"--detach"* ]]
}

@test "checkpoint refuses what is not a running container, in one line, and writes nothing" {
  requires_root
  run criu_runf checkpoint --image-path "$TEST_DIR/img" nope
  assert_one_error_line "container \`nope\` does not exist"
  set_args sleep 100
  runf_detached create t1
  run criu_runf checkpoint --image-path "$TEST_DIR/img" t1
  assert_one_error_line "checkpoint \`t1\`: the container is created, not running"
  [ ! -e "$TEST_DIR/img" ]
  runf delete -f t1
  set_args true
  runf_detached run -d t2
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t2 | jq -e '.status == \"stopped\"'"
  run criu_runf checkpoint --image-path "$TEST_DIR/img" t2
  assert_one_error_line "checkpoint \`t2\`: the container is stopped, not running"
  [ ! -e "$TEST_DIR/img" ]
}

@test "checkpoint with a missing image parent directory or a missing criu: one line, the container runs on" {
  requires_root
  set_args sleep 100
  runf_detached run -d t1
  run criu_runf checkpoint --image-path "$TEST_DIR/no/such/dir" t1
  assert_one_error_line "--image-path \`$TEST_DIR/no/such/dir\`: No such file or directory"
  [ "$(status_of t1)" = running ]
  run "$RUNF_BIN" --root "$STATE_ROOT" --criu "$TEST_DIR/no-criu" checkpoint --image-path "$TEST_DIR/img" t1
  assert_one_error_line "CRIU: run \`$TEST_DIR/no-criu\`: No such file or directory"
  [ "$(status_of t1)" = running ]
  [ ! -e "$TEST_DIR/img" ]
}

@test "restore refuses a missing image directory, one without a checkpoint, and an id that exists, leaving nothing behind" {
  requires_root
  run criu_runf restore -d --image-path "$TEST_DIR/none" t1
  assert_one_error_line "restore \`t1\`: --image-path \`$TEST_DIR/none\`: No such file or directory"
  assert_no_leftovers
  [ -z "$(cgroup_dirs)" ]
  mkdir "$TEST_DIR/empty"
  run criu_runf restore -d --image-path "$TEST_DIR/empty" t1
  assert_one_error_line "no checkpoint there (no inventory.img)"
  assert_no_leftovers
  [ -z "$(cgroup_dirs)" ]
  [ "$(ls -A "$TEST_DIR/empty")" = "" ]
  run criu_runf restore -d --bundle "$TEST_DIR/nobundle" --image-path "$TEST_DIR/empty" t1
  assert_one_error_line "restore \`t1\`: bundle \`$TEST_DIR/nobundle\`: No such file or directory"
  assert_no_leftovers

  # An id that is taken: that container is left as it was.
  set_args sleep 100
  runf_detached run -d t1
  pid=$(runf state t1 | jq -r .pid)
  mkdir "$TEST_DIR/img"
  touch "$TEST_DIR/img/inventory.img"
  run criu_runf restore -d --image-path "$TEST_DIR/img" t1
  assert_one_error_line "container \`t1\` already exists"
  [ "$(status_of t1)" = running ]
  [ "$(runf state t1 | jq -r .pid)" = "$pid" ]
  [ "$(ls "$TEST_DIR/img")" = inventory.img ]
}

@test "checkpoint and restore refuse bad flags in one line" {
  run criu_runf checkpoint --manage-cgroups-mode sometimes t1
  assert_one_error_line "--manage-cgroups-mode \`sometimes\`: expected soft, full, strict or ignore"
  run criu_runf restore --empty-ns ipc t1
  assert_one_error_line "--empty-ns \`ipc\`: CRIU can leave only the network namespace empty"
  run criu_runf checkpoint --lazy-pages t1
  assert_one_error_line "runf does not support CRIU's lazy migration"
  run criu_runf restore --lazy-pages t1
  assert_one_error_line "runf does not support CRIU's lazy migration"
  run criu_runf checkpoint --status-fd 3 t1
  assert_one_error_line "--status-fd: only for --lazy-pages"
  run criu_runf checkpoint --parent-path /abs t1
  assert_one_error_line "--parent-path \`/abs\`: must be relative to --image-path"
  run criu_runf checkpoint --image-path "$TEST_DIR/img"
  assert_one_error_line "checkpoint: missing container id"
  run criu_runf restore t1 t2
  assert_one_error_line "restore: unexpected argument \`t2\`"
}

@test "checkpoint --page-server wants ADDRESS:PORT" {
  requires_root
  set_args sleep 100
  runf_detached run -d t1
  run criu_runf checkpoint --page-server 127.0.0.1 --image-path "$TEST_DIR/img" t1
  assert_one_error_line "--page-server \`127.0.0.1\`: expected ADDRESS:PORT"
  run criu_runf checkpoint --page-server 127.0.0.1:0 --image-path "$TEST_DIR/img" t1
  assert_one_error_line "port \`0\`: expected a number in 1..65535"
  [ "$(status_of t1)" = running ]
}

@test "rootless: checkpoint and restore say CRIU needs root, in one line" {
  requires_rootless
  set_args sleep 100
  runf_detached run -d t1
  run runf checkpoint --image-path "$TEST_DIR/img" t1
  assert_one_error_line "checkpoint \`t1\`: not supported rootless (CRIU needs root on the host)"
  [ ! -e "$TEST_DIR/img" ]
  [ "$(status_of t1)" = running ]
  run runf restore -d --image-path "$TEST_DIR/img" t2
  assert_one_error_line "restore \`t2\`: not supported rootless (CRIU needs root on the host)"
}
