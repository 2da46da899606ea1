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
