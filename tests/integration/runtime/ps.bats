#!/usr/bin/env bats
# ps: the container's processes, as host pids (-f json) or as ps(1)'s table
# filtered to them, as runc prints it.

load ../helpers

setup() {
  setup_bundle
  update_config '.root.readonly = false'
  set_args sh -c 'sleep 1000 & sleep 1000 & echo ready >/tmp/ready; wait'
}
teardown() { teardown_bundle; }

start_container() {
  runf_detached run -d t1
  wait_for test -e "$BUNDLE/rootfs/tmp/ready"
}

@test "ps -f json lists the host pids of init, its children and exec'd processes" {
  start_container
  init=$(runf state t1 | jq -r .pid)
  run runf ps -f json t1
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r 'length')" = 3 ]
  echo "$output" | jq -e --argjson p "$init" 'index($p) != null'
  # Sorted, and each one in the container's pid namespace.
  [ "$(echo "$output" | jq -c 'sort')" = "$(echo "$output" | jq -c .)" ]
  for p in $(echo "$output" | jq -r '.[]'); do
    [ "$(readlink /proc/$p/ns/pid)" = "$(readlink /proc/$init/ns/pid)" ]
  done
  runf_detached exec -d --pid-file "$TEST_DIR/exec.pid" t1 sleep 1000
  run runf ps --format json t1
  [ "$(echo "$output" | jq -r 'length')" = 4 ]
  echo "$output" | jq -e --argjson p "$(cat "$TEST_DIR/exec.pid")" 'index($p) != null'
}

@test "ps prints ps -ef's header and the container's lines only" {
  start_container
  run runf ps t1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *UID*PID*PPID*CMD* ]]
  [ "${#lines[@]}" -eq 4 ]
  [[ "${lines[1]}" == *"sh -c sleep 1000"* ]]
  [[ "${lines[2]}" == *"sleep 1000" ]]
  [[ "${lines[3]}" == *"sleep 1000" ]]
}

@test "ps passes its options on to ps(1)" {
  start_container
  init=$(runf state t1 | jq -r .pid)
  run runf ps t1 -o pid,comm
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *PID*COMMAND* ]]
  [ "${#lines[@]}" -eq 4 ]
  [[ "$output" == *"$init sh"* ]]
}

@test "ps ID -e -x passes -e -x to ps(1)" {
  start_container
  run runf ps t1 -e -x
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" =~ \ +PID\ +TTY\ +STAT\ +TIME\ +COMMAND ]]
  [ "${#lines[@]}" -eq 4 ]
  [[ "${lines[1]}" =~ ^\ *[0-9]+ ]]
}

@test "ps options without a PID column are an error" {
  start_container
  run runf ps t1 -o comm
  assert_one_error_line "PID column"
}

@test "ps of a stopped container lists nothing" {
  set_args true
  runf_detached create t1
  runf start t1
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  run runf ps -f json t1
  [ "$status" -eq 0 ]
  [ "$output" = "[]" ]
  run runf ps t1
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "${lines[0]}" == *UID*PID*CMD* ]]
}

@test "ps bad input: one line each" {
  run runf ps nosuch
  assert_one_error_line "does not exist"
  run runf ps --format yaml nosuch
  assert_one_error_line "--format"
  run runf ps
  assert_one_error_line "missing container id"
}
