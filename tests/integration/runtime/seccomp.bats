#!/usr/bin/env bats
# linux.seccomp: actions, errno values, argument conditions, notify.

load ../helpers

setup() {
  setup_bundle
  update_config '.root.readonly = false'
}
teardown() { teardown_bundle; }

profile() { # jq expression for .linux.seccomp
  update_config ".linux.seccomp = $1"
}

@test "an errno rule fails the chosen system call with that errno, others work" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
  set_args sh -c 'mkdir /tmp/x 2>&1; touch /tmp/y && echo touched; grep ^Seccomp: /proc/self/status'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"Permission denied"* ]]
  [ "${lines[1]}" = touched ]
  [ "${lines[2]}" = "Seccomp:	2" ]
}

@test "SCMP_ACT_ERRNO without errnoRet is EPERM; defaultErrnoRet sets the default's" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  set_args sh -c 'mkdir /tmp/x 2>&1'
  run runf run t1
  [[ "$output" == *"Operation not permitted"* ]]
}

@test "argument conditions select which calls a rule applies to" {
  # personality(0xffffffff) queries; any other argument is refused.
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["umask"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1,
            "args": [{"index": 0, "value": 63, "op": "SCMP_CMP_EQ"}]}]}'
  set_args sh -c 'umask 022 && echo a-ok; umask 077 2>&1 && echo b-ok; umask'
  run runf run t1
  [ "${lines[0]}" = a-ok ]
  # busybox sh's umask builtin does not check the result; the mask stays.
  [ "${lines[-1]}" = 0022 ]
}

@test "a kill action ends the process with SIGSYS" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
  set_args sh -c 'echo $PPID'
  run runf run t1
  [ "$status" -eq 159 ]
}

@test "the default action applies to what no rule lists" {
  profile '{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "syscalls": [
      {"names": ["execve", "brk", "mmap", "munmap", "arch_prctl", "set_tid_address", "exit_group", "write", "read",
                 "rt_sigaction", "rt_sigprocmask", "getpid", "getppid", "uname", "set_robust_list", "prlimit64",
                 "rseq", "mprotect", "getuid", "geteuid", "getgid", "getegid", "close", "fcntl", "ioctl", "newfstatat",
                 "fstat", "stat", "readlink", "wait4", "clone", "fork", "vfork", "execveat", "dup2", "dup3", "lseek", "exit"],
       "action": "SCMP_ACT_ALLOW"}]}'
  set_args sh -c 'echo still-running; mkdir /tmp/z 2>&1'
  run runf run t1
  [ "${lines[0]}" = still-running ]
  [[ "$output" == *"not implemented"* ]]
}

@test "noNewPrivileges false still loads the filter as root" {
  requires_root
  update_config '.process.noNewPrivileges = false'
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  set_args sh -c 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; mkdir /tmp/x 2>&1'
  run runf run t1
  [ "$status" -ne 0 ] || true
  [[ "$output" == *"NoNewPrivs:	0"* ]]
  [[ "$output" == *"Seccomp:	2"* ]]
  [[ "$output" == *"Operation not permitted"* ]]
}

@test "SCMP_ACT_NOTIFY sends the listener the fd and the state; it answers the call" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/listener.sock", "listenerMetadata": "meta-data",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
  "$HELPERS/seccomp_listener" "$TEST_DIR/listener.sock" >"$TEST_DIR/listener.out" 2>&1 &
  wait_for test -S "$TEST_DIR/listener.sock"
  set_args sh -c 'mkdir /tmp/notified 2>&1; echo done'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$output" == *"Operation not permitted"* ]]
  [ ! -d "$BUNDLE/rootfs/tmp/notified" ]
  wait_for grep -q '^syscall 83$' "$TEST_DIR/listener.out"
  state=$(sed -n 's/^state //p' "$TEST_DIR/listener.out")
  echo "$state" | jq -e '.fds == ["seccompFd"] and .metadata == "meta-data" and .state.id == "t1" and .pid > 0'
}

@test "a notify listener that is not there fails create with one line" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/nobody.sock",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
  run runf run t1
  assert_one_error_line "listenerPath"
  assert_no_leftovers
}

@test "docker-style profiles with system calls newer than libseccomp load" {
  profile '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["cachestat", "fchmodat2", "map_shadow_stack"], "action": "SCMP_ACT_ALLOW"},
            {"names": ["mkdir"], "action": "SCMP_ACT_ALLOW"}]}'
  update_config '.linux.seccomp.defaultAction = "SCMP_ACT_ALLOW"'
  set_args true
  run runf run t1
  [ "$status" -eq 0 ]
}

@test "a profile that refuses close_range (EPERM) still runs, with no fd of runf's in the process" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
  set_args sh -c 'ls /proc/self/fd'
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
  update_config '.process.noNewPrivileges = false'
  run runf run t2 </dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
}

# The system calls of x86_64 up to Linux 5.0 (numbers below 424), read from
# the kernel's headers: the allow list of a profile written before clone3,
# close_range, faccessat2, openat2 and the pidfd calls existed, which
# answers EPERM to them (runtime-tools' and docker's profiles of that time).
old_profile() {
  local h=/usr/include/x86_64-linux-gnu/asm/unistd_64.h names
  [ "$(uname -m)" = x86_64 ] && [ -r "$h" ] || skip "needs x86_64 and its kernel headers"
  names=$(awk '$1 == "#define" && $2 ~ /^__NR_/ && $3 < 424 {sub(/^__NR_/, "", $2); print $2}' "$h" | jq -R . | jq -cs .)
  [ "$(jq length <<<"$names")" -gt 300 ]
  update_config --argjson n "$names" '.linux.seccomp = {"defaultAction": "SCMP_ACT_ERRNO",
      "architectures": ["SCMP_ARCH_X86_64"], "syscalls": [{"names": $n, "action": "SCMP_ACT_ALLOW"}]}'
}

# The fds of the process that runs this, as it sees them: stdio, and the
# one ls reads the directory with.
FD_LIST='echo $(ls /proc/self/fd)'

# run, create + start (bounded: a start that waits for an exec that never
# tells would hang), exec, and a startContainer hook, all under the profile
# set up by the caller, with noNewPrivileges on and off.
every_way_under_the_filter() {
  # The hook is env itself: a script would not do, since busybox sh moves
  # the script's fd with fcntl, which the second profile refuses to hooks
  # as well.
  update_config '.hooks = {"startContainer": [{"path": "/bin/env", "args": ["env"], "timeout": 10}]}
      | .process.env += ["HOOK_VAR=from-process"]'
  for nnp in true false; do
    update_config --argjson v "$nnp" '.process.noNewPrivileges = $v'
    set_args sh -c "$FD_LIST"
    run runf run "r-$nnp" </dev/null
    echo "run, noNewPrivileges $nnp: $output"
    [ "$status" -eq 0 ]
    [[ "$output" == *HOOK_VAR=from-process* ]]
    [ "${lines[-1]}" = "0 1 2 3" ]
    set_args sleep 100
    runf_detached create "c-$nnp"
    run timeout 20 "$RUNF_BIN" --root "$STATE_ROOT" start "c-$nnp"
    echo "start, noNewPrivileges $nnp: $output"
    [ "$status" -eq 0 ]
    run runf exec "c-$nnp" sh -c "$FD_LIST"
    echo "exec, noNewPrivileges $nnp: $output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "0 1 2 3" ]
    runf delete -f "c-$nnp"
  done
}

@test "a profile from before Linux 5.1 (errno for newer calls): run, create + start, exec and hooks work" {
  old_profile
  every_way_under_the_filter
}

@test "a profile that refuses what runf's last steps use (fcntl, execveat, sendmsg, memfd_create, ...): all still work" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["close_range", "fcntl",
      "execveat", "sendmsg", "recvmsg", "pidfd_open", "pidfd_send_signal", "faccessat2", "memfd_create", "clone3",
      "openat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
  every_way_under_the_filter
}

@test "exec'd processes get the container's filter, and a notify rule reaches the listener from them too" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/listener.sock",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"},
                         {"names": ["rmdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}'
  "$HELPERS/seccomp_listener" "$TEST_DIR/listener.sock" >"$TEST_DIR/listener.out" 2>&1 &
  wait_for test -S "$TEST_DIR/listener.sock"
  set_args sleep 100
  runf_detached run -d t1
  run runf exec t1 sh -c 'grep ^Seccomp: /proc/self/status; rmdir /tmp 2>&1; mkdir /tmp/from-exec 2>&1; echo done'
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "Seccomp:	2" ]
  [[ "${lines[1]}" == *"Permission denied"* ]]
  [[ "${lines[2]}" == *"Operation not permitted"* ]]
  [ ! -d "$BUNDLE/rootfs/tmp/from-exec" ]
  # Two states: init's, and the exec'd process's.
  wait_for test "$(grep -c '^state ' "$TEST_DIR/listener.out")" -eq 2
  grep '^state ' "$TEST_DIR/listener.out" | sed -n 2p | cut -d' ' -f2- | jq -e '.state.id == "t1" and .state.status == "running"'
  update_config '.process.noNewPrivileges = false'
  runf delete -f t1
}

@test "notify with noNewPrivileges false, for run and exec" {
  update_config '.process.noNewPrivileges = false'
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/listener.sock",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
  "$HELPERS/seccomp_listener" "$TEST_DIR/listener.sock" >"$TEST_DIR/listener.out" 2>&1 &
  wait_for test -S "$TEST_DIR/listener.sock"
  set_args sh -c 'grep ^NoNewPrivs: /proc/self/status; mkdir /tmp/a 2>&1; sleep 100'
  runf_detached run -d t1
  wait_for grep -q '^syscall 83$' "$TEST_DIR/listener.out"
  run runf exec t1 sh -c 'mkdir /tmp/b 2>&1; echo done'
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"Operation not permitted"* ]]
  [ ! -d "$BUNDLE/rootfs/tmp/a" ] && [ ! -d "$BUNDLE/rootfs/tmp/b" ]
  [ "$(grep -c '^syscall 83$' "$TEST_DIR/listener.out")" -eq 2 ]
}

@test "notify with a startContainer hook: the listener has the fd before the hook runs" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/listener.sock",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
  printf '#!/bin/sh\nmkdir /tmp/from-hook 2>/tmp/hook.err; echo hooked >/tmp/hook.out\n' >"$BUNDLE/rootfs/start-hook"
  chmod +x "$BUNDLE/rootfs/start-hook"
  update_config '.hooks = {"startContainer": [{"path": "/start-hook"}]}'
  "$HELPERS/seccomp_listener" "$TEST_DIR/listener.sock" >"$TEST_DIR/listener.out" 2>&1 &
  wait_for test -S "$TEST_DIR/listener.sock"
  set_args cat /tmp/hook.out
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = hooked ]
  [ ! -d "$BUNDLE/rootfs/tmp/from-hook" ]
  grep -q '^syscall 83$' "$TEST_DIR/listener.out"
}

@test "a listener that dies: the notified call fails with ENOSYS, the container goes on" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/listener.sock",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
  "$HELPERS/seccomp_listener" -1 "$TEST_DIR/listener.sock" >"$TEST_DIR/listener.out" 2>&1 &
  wait_for test -S "$TEST_DIR/listener.sock"
  set_args sh -c 'sleep 0.5; mkdir /tmp/x 2>&1; echo still-here'
  run timeout 20 "$RUNF_BIN" --root "$STATE_ROOT" run t1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"not implemented"* ]]
  [ "${lines[1]}" = still-here ]
}

@test "a listenerPath without any notify rule is ignored" {
  profile '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "'"$TEST_DIR"'/nobody.sock",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
  set_args sh -c 'mkdir /tmp/x 2>&1; echo ok'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == *"Operation not permitted"* ]]
  [ "${lines[1]}" = ok ]
}
