#!/usr/bin/env bats
# Hooks: each run once, at its point, with the state on stdin.

load ../helpers

setup() {
  setup_bundle
  update_config '.root.readonly = false'
  HOOK=$TEST_DIR/hook.sh
  # Records: its name, the status in the state, and its mount namespace.
  cat >"$HOOK" <<HOOK
#!/bin/sh
state=\$(cat)
echo "\$1 \$(echo "\$state" | jq -r '.status + " " + .id + " " + (.pid|tostring)') \$(readlink /proc/self/ns/mnt)" >>$TEST_DIR/hooks.log
HOOK
  chmod +x "$HOOK"
}
teardown() { teardown_bundle; }

all_hooks() {
  update_config --arg h "$HOOK" '.hooks = {
    "prestart": [{"path": $h, "args": ["hook", "prestart"]}],
    "createRuntime": [{"path": $h, "args": ["hook", "createRuntime"]}],
    "createContainer": [{"path": $h, "args": ["hook", "createContainer"]}],
    "poststart": [{"path": $h, "args": ["hook", "poststart"]}],
    "poststop": [{"path": $h, "args": ["hook", "poststop"]}]}'
}

@test "every hook runs once, in order, with the right state and namespaces" {
  all_hooks
  set_args sleep 100
  runf_detached create t1
  pid=$(runf state t1 | jq -r .pid)
  runf start t1
  runf delete --force t1
  host_mnt=$(readlink /proc/self/ns/mnt)
  cat "$TEST_DIR/hooks.log"
  [ "$(wc -l <"$TEST_DIR/hooks.log")" -eq 5 ]
  [ "$(awk '{print $1}' "$TEST_DIR/hooks.log" | tr '\n' ' ')" = "prestart createRuntime createContainer poststart poststop " ]
  grep -qxF "prestart creating t1 $pid $host_mnt" "$TEST_DIR/hooks.log"
  grep -qxF "createRuntime creating t1 $pid $host_mnt" "$TEST_DIR/hooks.log"
  grep -qxF "poststart running t1 $pid $host_mnt" "$TEST_DIR/hooks.log"
  grep -qxF "poststop stopped t1 $pid $host_mnt" "$TEST_DIR/hooks.log"
  # createContainer runs in the container's mount namespace.
  grep -q "^createContainer created t1 $pid " "$TEST_DIR/hooks.log"
  ! grep -qxF "createContainer created t1 $pid $host_mnt" "$TEST_DIR/hooks.log"
}

@test "a startContainer hook without env gets the process's environment, one with env gets its own" {
  printf '#!/bin/sh\necho "$1 FOO=$FOO HOME=$HOME PATH=$PATH" >>/tmp/hook.out\n' >"$BUNDLE/rootfs/start-hook"
  chmod +x "$BUNDLE/rootfs/start-hook"
  update_config '.process.env += ["FOO=from-process"]
      | .hooks = {"startContainer": [{"path": "/start-hook", "args": ["start-hook", "one"]},
                                     {"path": "/start-hook", "args": ["start-hook", "two"], "env": ["FOO=own", "PATH=/bin"]}]}'
  set_args cat /tmp/hook.out
  FOO=from-runf run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "one FOO=from-process HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ]
  [ "${lines[1]}" = "two FOO=own HOME= PATH=/bin" ]
}

@test "hook argv reaches the hook exactly as given (argv[0] too, empty and spaced ones)" {
  printf '#!/bin/sh\nfor a in "$0" "$@"; do printf "[%%s]" "$a"; done >>%s\necho >>%s\n' "$TEST_DIR/argv" "$TEST_DIR/argv" >"$HOOK"
  update_config --arg h "$HOOK" '.hooks = {"prestart": [{"path": $h, "args": ["my name", "", "a  b", "-x"]}],
                                           "poststop": [{"path": $h}]}'
  set_args true
  run runf run t1
  [ "$status" -eq 0 ]
  cat "$TEST_DIR/argv"
  # sh sees its script as $0; the argv[0] the hook got is its own name.
  [ "$(sed -n 1p "$TEST_DIR/argv")" = "[$HOOK][][a  b][-x]" ]
  [ "$(sed -n 2p "$TEST_DIR/argv")" = "[$HOOK]" ]
}

@test "startContainer runs inside the container, after start" {
  cp "$HOOK" "$BUNDLE/rootfs/hook.sh"
  printf '#!/bin/sh\ncat >/tmp/start.state\necho "$1" >>/tmp/start.log\n' >"$BUNDLE/rootfs/start-hook"
  chmod +x "$BUNDLE/rootfs/start-hook"
  update_config '.hooks = {"startContainer": [{"path": "/start-hook", "args": ["start-hook", "ran"]}]}'
  set_args sleep 100
  runf_detached create t1
  [ ! -e "$BUNDLE/rootfs/tmp/start.log" ]
  runf start t1
  [ "$(cat "$BUNDLE/rootfs/tmp/start.log")" = ran ]
  jq -e '.id == "t1"' "$BUNDLE/rootfs/tmp/start.state"
}

@test "hooks get their args and env" {
  update_config --arg o "$TEST_DIR/env.out" '.hooks = {"prestart": [{"path": "/bin/sh",
      "args": ["sh", "-c", "echo \"$0 $1 $FOO\" >\($o)", "name0", "first"], "env": ["FOO=bar"]}]}'
  set_args true
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$(cat "$TEST_DIR/env.out")" = "name0 first bar" ]
}

@test "a failing createRuntime hook fails create and leaves nothing" {
  update_config '.hooks = {"createRuntime": [{"path": "/bin/false"}]}'
  set_args true
  run runf create t1
  assert_one_error_line "hooks.createRuntime[0]"
  assert_no_leftovers
}

@test "a failing startContainer hook fails start" {
  update_config '.hooks = {"startContainer": [{"path": "/bin/false"}]}'
  set_args sleep 100
  runf_detached create t1
  run runf start t1
  assert_one_error_line "hooks.startContainer[0]"
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
}

@test "a hook that runs past its timeout is killed and fails create" {
  update_config '.hooks = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}'
  set_args true
  start=$(date +%s)
  run runf run t1
  assert_one_error_line "timed out after 1 s"
  [ $(( $(date +%s) - start )) -lt 10 ]
  assert_no_leftovers
}

@test "failing poststart and poststop hooks only warn" {
  update_config '.hooks = {"poststart": [{"path": "/bin/false"}], "poststop": [{"path": "/bin/false"}]}'
  set_args echo ran
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$output" == *ran* ]]
  [[ "$output" == *"warning: hooks.poststart[0]"* ]]
  [[ "$output" == *"warning: hooks.poststop[0]"* ]]
  assert_no_leftovers
}
