#!/usr/bin/env bats
# exec: a new process in a created or running container, with runc's flags,
# output and exit codes (the process's status; 255 when exec itself fails).

load ../helpers

setup() {
  setup_bundle
  update_config '.process.env += ["FROM_CONFIG=yes"]'
  set_args sleep 1000
}
teardown() { teardown_bundle; }

start_container() {
  runf_detached run -d t1
}

init_pid() {
  runf state t1 | jq -r .pid
}

# Several id ranges: root plus 65536 ids from /etc/subuid and /etc/subgid,
# so that exec -u has ids to switch to when rootless.
use_subid_mappings() {
  is_root && return 0
  local user sub_uid sub_gid
  user=$(id -un)
  sub_uid=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subuid)
  sub_gid=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subgid)
  [ -n "$sub_uid" ] && [ -n "$sub_gid" ] || skip "no /etc/subuid range for $user"
  update_config --argjson u "$(id -u)" --argjson g "$(id -g)" \
    --argjson su "$sub_uid" --argjson sg "$sub_gid" \
    '.linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}, {"containerID": 1, "hostID": $su, "size": 65536}]
     | .linux.gidMappings = [{"containerID": 0, "hostID": $g, "size": 1}, {"containerID": 1, "hostID": $sg, "size": 65536}]'
}

@test "exec shows the process's output and exits with its status" {
  start_container
  run runf exec t1 echo hello from exec
  [ "$status" -eq 0 ]
  [ "$output" = "hello from exec" ]
  run runf exec t1 sh -c 'exit 42'
  [ "$status" -eq 42 ]
  run runf exec t1 false
  [ "$status" -eq 1 ]
}

@test "exec exits with 128+N when signal N kills the process" {
  start_container
  run runf exec t1 sh -c 'kill -KILL $$'
  [ "$status" -eq 137 ]
}

@test "exec forwards signals to the process" {
  start_container
  "$RUNF_BIN" --root "$STATE_ROOT" exec t1 sh -c 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done' >"$TEST_DIR/out" 2>&1 &
  pid=$!
  wait_for grep -q ready "$TEST_DIR/out"
  kill -TERM $pid
  wait $pid || st=$?
  [ "${st:-0}" -eq 3 ]
  grep -q got-term "$TEST_DIR/out"
}

@test "exec joins every namespace of the container's init" {
  start_container
  pid=$(init_pid)
  for ns in ipc uts net pid mnt cgroup user time; do
    [ -e "/proc/$pid/ns/$ns" ] || continue
    run runf exec t1 readlink "/proc/self/ns/$ns"
    [ "$status" -eq 0 ]
    [ "$output" = "$(readlink "/proc/$pid/ns/$ns")" ] || {
      echo "$ns: exec has $output, init has $(readlink "/proc/$pid/ns/$ns")"
      return 1
    }
  done
  # In the container's pid namespace, init is 1 and the process is not.
  run runf exec t1 sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "'
  [ "${lines[0]}" -gt 1 ]
  [ "${lines[1]}" = "sleep 1000 " ]
}

@test "exec into a created container works and leaves it created" {
  runf_detached create t1
  run runf exec t1 echo in-created
  [ "$status" -eq 0 ]
  [ "$output" = in-created ]
  [ "$(runf state t1 | jq -r .status)" = created ]
}

@test "exec into a stopped container fails with one clear line" {
  set_args true
  runf_detached create t1
  runf start t1
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  run runf exec t1 echo never
  assert_one_error_line "cannot exec in a stopped container"
  [ "$status" -eq 255 ]
}

@test "exec takes env from the config; -e adds and overrides" {
  start_container
  run runf exec t1 sh -c 'echo $FROM_CONFIG'
  [ "$output" = yes ]
  run runf exec -e FROM_CONFIG=no -e EXTRA=1 --env OTHER=2 t1 sh -c 'echo $FROM_CONFIG $EXTRA $OTHER; env | grep -c ^FROM_CONFIG='
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "no 1 2" ]
  [ "${lines[1]}" = 1 ]
}

@test "exec --cwd sets the directory; the config's is the default" {
  update_config '.process.cwd = "/etc"'
  start_container
  run runf exec t1 pwd
  [ "$output" = /etc ]
  run runf exec --cwd /tmp t1 pwd
  [ "$output" = /tmp ]
}

@test "exec applies the config's rlimits and umask" {
  update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512}] | .process.user.umask = 63'
  start_container
  run runf exec t1 sh -c 'ulimit -n; umask'
  [ "${lines[0]}" = 512 ]
  [ "${lines[1]}" = 0077 ]
}

@test "exec -u uid:gid and --additional-gids set the process's ids" {
  use_subid_mappings
  start_container
  run runf exec -u 1000:1000 t1 sh -c 'id -u; id -g; id -G'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = 1000 ]
  # -u with only a uid keeps the config's gid.
  run runf exec -u 1000 t1 id -g
  [ "$output" = 0 ]
  run runf exec -u 1000:1000 --additional-gids 5 -g 20 t1 id -G
  [ "$status" -eq 0 ]
  [ "$output" = "1000 5 20" ]
  # HOME follows the user, from the container's /etc/passwd.
  run runf exec -u 1000:1000 t1 sh -c 'echo $HOME'
  [ "$output" = /home/user ]
}

@test "exec -c adds a capability to the effective set" {
  start_container
  run runf exec t1 grep CapEff /proc/self/status
  before=$(printf '%d' "0x${output##*:[[:space:]]}")
  [ $((before & (1 << 21))) -eq 0 ]
  run runf exec -c CAP_SYS_ADMIN --cap CAP_NET_RAW t1 grep -E 'CapEff|CapBnd' /proc/self/status
  [ "$status" -eq 0 ]
  for line in "${lines[@]}"; do
    v=$(printf '%d' "0x${line##*:[[:space:]]}")
    [ $((v & (1 << 21))) -ne 0 ] # CAP_SYS_ADMIN
    [ $((v & (1 << 13))) -ne 0 ] # CAP_NET_RAW
  done
}

@test "exec --no-new-privs sets no_new_privs over the config" {
  update_config '.process.noNewPrivileges = false'
  start_container
  run runf exec t1 grep NoNewPrivs /proc/self/status
  [[ "$output" == *"0" ]]
  run runf exec --no-new-privs t1 grep NoNewPrivs /proc/self/status
  [[ "$output" == *"1" ]]
}

@test "exec -p process.json replaces the config's process" {
  start_container
  cat >"$TEST_DIR/process.json" <<'EOF'
{
  "args": ["sh", "-c", "echo $ONLY_HERE ${FROM_CONFIG:-unset}; pwd"],
  "env": ["PATH=/bin:/usr/bin", "ONLY_HERE=from-process-json"],
  "cwd": "/tmp",
  "user": {"uid": 0, "gid": 0}
}
EOF
  run runf exec -p "$TEST_DIR/process.json" t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "from-process-json unset" ]
  [ "${lines[1]}" = /tmp ]
}

@test "exec -d returns at once and --pid-file names the process" {
  start_container
  runf_detached exec -d --pid-file "$TEST_DIR/exec.pid" t1 sleep 1000
  pid=$(cat "$TEST_DIR/exec.pid")
  [ -d "/proc/$pid" ]
  [ "$(readlink /proc/$pid/ns/pid)" = "$(readlink /proc/$(init_pid)/ns/pid)" ]
  runf ps -f json t1 | jq -e --argjson p "$pid" 'index($p) != null'
}

@test "exec -t with --console-socket hands the pty to the socket" {
  start_container
  "$HELPERS/recvtty" "$TEST_DIR/console.sock" >"$TEST_DIR/tty.out" 2>"$TEST_DIR/tty.err" &
  rpid=$!
  wait_for test -S "$TEST_DIR/console.sock"
  runf_detached exec -d -t --console-socket "$TEST_DIR/console.sock" t1 sh -c 'tty; echo on-the-terminal'
  wait $rpid
  grep -q "got a terminal" "$TEST_DIR/tty.err"
  grep -q "/dev/pts/" "$TEST_DIR/tty.out"
  grep -q "on-the-terminal" "$TEST_DIR/tty.out"
}

@test "exec -t in the foreground relays a pty to the caller's terminal" {
  start_container
  run script -qec "\"$RUNF_BIN\" --root \"$STATE_ROOT\" exec -t t1 sh -c 'tty; exit 7'" /dev/null
  [ "$status" -eq 7 ]
  [[ "$output" == *"/dev/pts/"* ]]
}

@test "exec -d -t without --console-socket is refused" {
  start_container
  run runf exec -d -t t1 true
  assert_one_error_line "console-socket"
}

@test "exec --preserve-fds passes fds 3.. to the process" {
  start_container
  echo three >"$TEST_DIR/three"
  run runf exec --preserve-fds 1 t1 sh -c 'cat <&3; ls /proc/self/fd | wc -l' 3<"$TEST_DIR/three"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = three ]
  # 0-2, 3 and the directory ls opens: nothing of runf leaks in.
  [ "${lines[1]}" -le 5 ]
}

@test "exec as an unprivileged user runs as that user on the host" {
  requires_rootless
  start_container
  run runf exec t1 id -u
  [ "$output" = 0 ]
  runf_detached exec -d --pid-file "$TEST_DIR/exec.pid" t1 sleep 1000
  pid=$(cat "$TEST_DIR/exec.pid")
  [ "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" = "$(id -u)" ]
}

@test "exec as root into a container with a user namespace runs as the mapped uid" {
  requires_root
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  start_container
  run runf exec -u 1000:1000 t1 sh -c 'id -u; readlink /proc/self/ns/user'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = "$(readlink /proc/$(init_pid)/ns/user)" ]
  runf_detached exec -d --pid-file "$TEST_DIR/exec.pid" t1 sleep 1000
  [ "$(awk '/^Uid:/ { print $2 }' "/proc/$(cat "$TEST_DIR/exec.pid")/status")" = 100000 ]
}

@test "exec under unshare -r, in the user namespace the container was made in" {
  requires_rootless
  rm "$BUNDLE/config.json"
  unshare -r "$RUNF_BIN" spec --rootless
  update_config '.process.terminal = false'
  set_args sleep 1000
  run unshare -r sh -c '
    r="$1 --root $2"
    $r run -d t1 </dev/null >/dev/null 2>&1 || exit 10
    $r exec t1 sh -c "id -u; echo in-exec" || exit 11
    $r delete -f t1' sh "$RUNF_BIN" "$STATE_ROOT"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = in-exec ]
  assert_no_leftovers
}

@test "exec of a missing executable fails with 255 and names it" {
  start_container
  run runf exec t1 no-such-binary
  assert_one_error_line "executable file not found"
  [ "$status" -eq 255 ]
}

@test "exec into a paused container is refused; with --ignore-paused it runs once resumed" {
  requires_root
  start_container
  runf pause t1
  run runf exec t1 echo ok
  [ "$status" -eq 255 ]
  [[ "$output" == *"cannot exec in a paused container"* ]]
  (sleep 1; "$RUNF_BIN" --root "$STATE_ROOT" resume t1) &
  run timeout 20 "$RUNF_BIN" --root "$STATE_ROOT" exec --ignore-paused t1 echo ok
  [ "$status" -eq 0 ]
  [ "$output" = ok ]
}

@test "exec bad input: one line each, exit status 255" {
  start_container
  run runf exec -u abc t1 true
  assert_one_error_line "--user"
  [ "$status" -eq 255 ]
  run runf exec -u 1:x t1 true
  assert_one_error_line "--user"
  run runf exec -c CAP_BOGUS t1 true
  assert_one_error_line "unknown capability"
  run runf exec -e NOEQUALS t1 true
  assert_one_error_line "KEY=VALUE"
  run runf exec --additional-gids -1 t1 true
  assert_one_error_line "--additional-gids"
  run runf exec --cwd relative t1 true
  assert_one_error_line "absolute"
  run runf exec t1
  assert_one_error_line "missing the command"
  run runf exec nosuch true
  assert_one_error_line "does not exist"
  [ "$status" -eq 255 ]
  if ! grep -qs Y /sys/module/apparmor/parameters/enabled; then
    run runf exec --apparmor someprofile t1 true
    assert_one_error_line "AppArmor is not enabled"
  fi
  printf '{\n  "args": ["true"],\n  "cwd": "/",,\n}\n' >"$TEST_DIR/bad.json"
  run runf exec -p "$TEST_DIR/bad.json" t1
  assert_one_error_line "bad.json:3:"
  echo '{"args": [], "cwd": "/"}' >"$TEST_DIR/empty.json"
  run runf exec -p "$TEST_DIR/empty.json" t1
  assert_one_error_line "process.args"
  run runf exec -p "$TEST_DIR/missing.json" t1
  assert_one_error_line "missing.json"
}

@test "exec errors land in --log as runc-style JSON lines" {
  run "$RUNF_BIN" --root "$STATE_ROOT" --log "$TEST_DIR/log.json" --log-format json exec nosuch true
  [ "$status" -eq 255 ]
  [ "$(wc -l <"$TEST_DIR/log.json")" -eq 1 ]
  jq -e 'select(.level == "error") | (.msg | contains("does not exist")) and (.time | test("^[0-9-]+T[0-9:.]+Z$")) and (keys == ["level", "msg", "time"])' "$TEST_DIR/log.json"
}
