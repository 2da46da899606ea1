#!/usr/bin/env bats
# Bad input: one line "runf: <what>: <why>", a non-zero exit, and nothing
# left in the state directory.

load ../helpers
bats_require_minimum_version 1.5.0

setup() { setup_bundle; }
teardown() { teardown_bundle; }

expect_create_error() {
  run runf create t1
  assert_one_error_line "$1"
  assert_no_leftovers
  run runf run t1
  assert_one_error_line "$1"
  assert_no_leftovers
}

@test "malformed JSON names the line and column" {
  printf '{\n  "ociVersion": "1.0.2",\n  "root": {"path": "rootfs",}\n}\n' >"$BUNDLE/config.json"
  expect_create_error "config.json:3:"
}

@test "a missing config.json is named" {
  rm "$BUNDLE/config.json"
  expect_create_error "config.json"
}

@test "a wrong type names the field" {
  update_config '.process.args = "sh"'
  expect_create_error "process.args: expected an array"
}

@test "a wrong type inside an array names the index" {
  update_config '.process.args = ["sh", 3]'
  expect_create_error "process.args[1]: expected a string"
}

@test "an unknown namespace type is refused" {
  update_config '.linux.namespaces += [{"type": "bogus"}]'
  expect_create_error "unknown namespace \`bogus\`"
}

@test "a missing rootfs is named" {
  rm -rf "$BUNDLE/rootfs"
  expect_create_error "root.path"
}

@test "empty args are refused" {
  update_config '.process.args = []'
  expect_create_error "process.args: must not be empty"
}

@test "a relative cwd is refused" {
  update_config '.process.cwd = "tmp"'
  expect_create_error "process.cwd"
}

@test "unknown capability names are warned about once and left out, as runc 1.2 does" {
  update_config '.process.capabilities.bounding += ["CAP_BOGUS", "UNKNOWN_CAP"]
      | .process.capabilities.permitted += ["CAP_BOGUS"] | .process.args = ["sh", "-c", "grep ^CapBnd /proc/self/status"]'
  run --separate-stderr runf run t1
  [ "$status" -eq 0 ]
  [ "$stderr" = "runf: warning: process.capabilities: ignoring unknown or unavailable capabilities: CAP_BOGUS, UNKNOWN_CAP" ]
  # The known ones are there: CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE.
  [ "$output" = "CapBnd:	0000000020000420" ]
}

@test "an unknown rlimit is refused" {
  update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
  expect_create_error "unknown rlimit"
}

@test "a soft rlimit above the hard one is refused" {
  update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 10, "hard": 5}]'
  expect_create_error "above the hard limit"
}

@test "an unknown mount propagation for the rootfs is refused" {
  update_config '.linux.rootfsPropagation = "sideways"'
  expect_create_error "rootfsPropagation"
}

@test "a hook binary that is missing is named" {
  update_config '.hooks = {"prestart": [{"path": "/nonexistent/hook"}]}'
  expect_create_error "hooks.prestart[0].path \`/nonexistent/hook\`"
}

@test "an unknown system call or action in the seccomp profile is named" {
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["nosuchcall"], "action": "SCMP_ACT_ERRNO"}]}'
  expect_create_error "unknown system call \`nosuchcall\`"
  update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_BOGUS"}'
  expect_create_error "unknown action \`SCMP_ACT_BOGUS\`"
}

@test "security features the host lacks are refused by name" {
  [ -e /sys/fs/selinux/enforce ] && skip "SELinux is enabled here"
  update_config '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
  expect_create_error "process.selinuxLabel"
  update_config 'del(.process.selinuxLabel) | .linux.mountLabel = "system_u:object_r:container_file_t:s0"'
  expect_create_error "linux.mountLabel"
  update_config 'del(.linux.mountLabel) | .linux.intelRdt = {"l3CacheSchema": "L3:0=f"}'
  [ -e /sys/fs/resctrl/schemata ] || expect_create_error "linux.intelRdt"
  update_config 'del(.linux.intelRdt)'
  if ! grep -qs Y /sys/module/apparmor/parameters/enabled; then
    update_config '.process.apparmorProfile = "runf-test"'
    expect_create_error "process.apparmorProfile"
  fi
}

@test "bad cgroup values are refused, naming the field" {
  update_config '.linux.resources = {"memory": {"limit": -5}}'
  expect_create_error "linux.resources.memory.limit"
  update_config '.linux.resources = {"pids": {"limit": -2}}'
  expect_create_error "linux.resources.pids.limit"
  update_config '.linux.resources = {"cpu": {"period": 10}}'
  expect_create_error "linux.resources.cpu.period"
  update_config '.linux.resources = {"devices": [{"allow": true, "type": "x"}]}'
  expect_create_error "linux.resources.devices[0].type"
  update_config '.linux.resources = {"memory": {"swappiness": 200}}'
  expect_create_error "swappiness"
  update_config '.linux.resources = {} | .linux.cgroupsPath = "/a/../../b"'
  expect_create_error "linux.cgroupsPath"
}

@test "ids with path characters are refused before any path is built" {
  for id in '../x' 'a/b' '..' '.' '' 'x y' "$(printf 'a\nb')"; do
    run runf create "$id"
    [ "$status" -ne 0 ]
    [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"container id"* ]]
  done
  assert_no_leftovers
  [ ! -e "$TEST_DIR/x" ]
  for cmd in state start delete kill; do
    run runf "$cmd" '../x'
    [ "$status" -ne 0 ]
    [[ "$output" == *"invalid"* ]]
  done
}

@test "commands on a container that does not exist say so" {
  for cmd in state start kill delete; do
    run runf "$cmd" nosuch
    assert_one_error_line "does not exist"
  done
}

@test "a device with a bad type is refused" {
  update_config '.linux.devices = [{"path": "/dev/x", "type": "q", "major": 1, "minor": 3}]'
  expect_create_error "linux.devices[0].type"
}

@test "a mount without destination is refused" {
  update_config '.mounts += [{"type": "tmpfs", "source": "tmpfs"}]'
  expect_create_error "destination: missing"
}

@test "a bind mount of a missing source is named" {
  update_config '.mounts += [{"destination": "/mnt", "type": "bind", "source": "/nonexistent/dir", "options": ["bind"]}]'
  expect_create_error "/nonexistent/dir"
}

@test "a namespace path that does not exist is named" {
  update_config '.linux.namespaces |= map(if .type == "uts" then .path = "/nonexistent/ns" else . end)'
  expect_create_error "/nonexistent/ns"
}

@test "uid mappings without a user namespace are refused" {
  requires_root
  update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1}]'
  expect_create_error "user namespace"
}

@test "a sysctl outside the container's namespaces is refused" {
  update_config '.linux.sysctl = {"vm.swappiness": "10"}'
  expect_create_error "vm.swappiness"
}

@test "a hard rlimit above the host's is reported clearly" {
  requires_root
  update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 1073741816, "hard": 1073741816}]'
  hard=$(ulimit -Hn)
  [ "$hard" != unlimited ] || skip "no hard limit here"
  expect_create_error "RLIMIT_NOFILE"
}
