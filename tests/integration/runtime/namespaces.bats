#!/usr/bin/env bats
# linux.namespaces: each type new, or joined through a path.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

ns_inode() { readlink "/proc/$1/ns/$2"; }

@test "each new namespace differs from the host's" {
  local types="pid mnt ipc uts cgroup time"
  update_config '.linux.namespaces += [{"type": "cgroup"}, {"type": "time"}]'
  if is_root; then
    types="$types net"
  else
    types="$types user"
    update_config '.linux.namespaces += [{"type": "network"}]'
    types="$types net"
  fi
  set_args sh -c 'for t in '"$types"'; do echo "$t $(readlink /proc/self/ns/$t)"; done'
  run runf run t1
  [ "$status" -eq 0 ]
  for t in $types; do
    inside=$(echo "$output" | awk -v t="$t" '$1 == t {print $2}')
    [ -n "$inside" ]
    [ "$inside" != "$(readlink /proc/self/ns/$t)" ] || { echo "$t is the host's"; return 1; }
  done
}

@test "a new network namespace has lo up, as runc and crun leave it; a joined one is left as it is" {
  is_root || update_config '.linux.namespaces += [{"type": "network"}]'
  # /proc/net/dev lists lo; its flags (IFF_UP is 0x1) are in /sys.
  set_args sh -c 'cat /sys/class/net/lo/flags; grep -c "lo:" /proc/net/dev'
  run runf run t1
  [ "$status" -eq 0 ]
  [ $((${lines[0]} & 1)) -eq 1 ]
  [ "${lines[1]}" = 1 ]
  if is_root; then
    # A namespace the caller made and left down stays down.
    ip netns add "rft-$$"
    update_config --arg p "/run/netns/rft-$$" '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)'
    run runf run t2
    ip netns del "rft-$$"
    [ "$status" -eq 0 ]
    [ $((${lines[0]} & 1)) -eq 0 ]
  fi
}

@test "the container's process is pid 1 of its pid namespace" {
  set_args sh -c 'echo $$'
  run runf run t1
  [ "$output" = 1 ]
}

@test "without a network namespace the container shares the host's" {
  update_config '.linux.namespaces |= map(select(.type != "network"))'
  if is_root; then
    # sysfs needs a network namespace of its own; bind the host's instead.
    update_config '.mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)'
  fi
  set_args readlink /proc/self/ns/net
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = "$(readlink /proc/self/ns/net)" ]
}

@test "namespaces are joined through their path" {
  requires_root
  unshare --uts --ipc --net --mount --pid --fork sleep 100 &
  holder=$!
  wait_for sh -c "pgrep -P $holder"
  target=$(pgrep -P $holder)
  update_config --arg p "/proc/$target/ns" '.linux.namespaces |= map(
      if .type == "uts" then .path = "\($p)/uts"
      elif .type == "ipc" then .path = "\($p)/ipc"
      elif .type == "network" then .path = "\($p)/net"
      elif .type == "pid" then .path = "\($p)/pid"
      else . end)'
  set_args sh -c 'for t in uts ipc net pid; do echo "$t $(readlink /proc/self/ns/$t)"; done; echo "pid $$"'
  run runf run t1
  [ "$status" -eq 0 ]
  for t in uts ipc net pid; do
    [ "$(echo "$output" | awk -v t="$t" '$1 == t && $2 ~ /:/ {print $2}')" = "$(ns_inode "$target" "$t")" ]
  done
  # Joined pid namespace: the sleep is pid 1 there, the container is not.
  [ "$(echo "$output" | awk '$1 == "pid" && $2 !~ /:/ {print $2}')" != 1 ]
  kill $holder
}

@test "a user namespace is joined through its path, with new namespaces owned by it" {
  requires_rootless
  unshare --user --map-root-user sleep 100 &
  holder=$!
  wait_for sh -c "[ \"\$(readlink /proc/$holder/ns/user)\" != \"\$(readlink /proc/self/ns/user)\" ]"
  update_config --arg p "/proc/$holder/ns/user" '
      del(.linux.uidMappings) | del(.linux.gidMappings)
      | .linux.namespaces |= map(if .type == "user" then .path = $p else . end)'
  set_args sh -c 'readlink /proc/self/ns/user; echo $$; cat /proc/self/uid_map'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$(readlink /proc/$holder/ns/user)" ]
  [ "${lines[1]}" = 1 ]
  kill $holder
}

@test "time namespace offsets move the container's clocks" {
  update_config '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"boottime": {"secs": 864000, "nanosecs": 0}, "monotonic": {"secs": 86400, "nanosecs": 0}}'
  set_args cut -d. -f1 /proc/uptime
  run runf run t1
  [ "$status" -eq 0 ]
  host=$(cut -d. -f1 /proc/uptime)
  [ "$output" -ge $((host + 864000 - 5)) ]
}

@test "timeOffsets without a time namespace are refused" {
  update_config '.linux.timeOffsets = {"boottime": {"secs": 1, "nanosecs": 0}}'
  run runf run t1
  assert_one_error_line "linux.timeOffsets"
}

@test "a missing mount namespace is refused" {
  update_config '.linux.namespaces |= map(select(.type != "mount"))'
  run runf run t1
  assert_one_error_line "mount namespace"
}
