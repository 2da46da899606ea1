#!/usr/bin/env bats
# User namespaces: id maps written directly or through newuidmap, rootless
# as a plain user and under `unshare -r`.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "root: one range is written directly and devices are bound, not made" {
  requires_root
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; echo x >/dev/null && echo devnull-ok; head -c 4 /dev/zero | wc -c'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$(echo "${lines[0]}" | tr -s ' ')" = " 0 100000 65536" ]
  [ "$(echo "${lines[1]}" | tr -s ' ')" = " 0 100000 65536" ]
  [ "${lines[2]}" = 0 ]
  [ "${lines[3]}" = devnull-ok ]
  [ "${lines[4]}" = 4 ]
}

@test "root: a process in the container runs as the mapped host uid" {
  requires_root
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  set_args sleep 100
  runf_detached run -d t1
  pid=$(runf state t1 | jq -r .pid)
  [ "$(stat -c %u /proc/$pid)" = 100000 ]
}

@test "rootless: runf spec --rootless then runf run, as a plain user" {
  requires_rootless
  set_args sh -c 'id -u; cat /proc/self/uid_map'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "$(echo "${lines[1]}" | tr -s ' ')" = " 0 $(id -u) 1" ]
}

@test "rootless: several ranges go through newuidmap and newgidmap" {
  requires_rootless
  grep -q "^$(id -un):" /etc/subuid || skip "no subordinate ids for $(id -un)"
  read -r start count < <(awk -F: -v u="$(id -un)" '$1 == u {print $2, $3}' /etc/subuid)
  read -r gstart gcount < <(awk -F: -v u="$(id -un)" '$1 == u {print $2, $3}' /etc/subgid)
  update_config --argjson u "$(id -u)" --argjson g "$(id -g)" --argjson s "$start" --argjson c "$count" \
    --argjson gs "$gstart" --argjson gc "$gcount" '
      .linux.uidMappings = [{"containerID": 0, "hostID": $u, "size": 1}, {"containerID": 1, "hostID": $s, "size": $c}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": $g, "size": 1}, {"containerID": 1, "hostID": $gs, "size": $gc}]
    | .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5]}'
  set_args sh -c 'wc -l </proc/self/uid_map; wc -l </proc/self/gid_map; id -u; id -G'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 2 ]
  [ "${lines[1]}" = 2 ]
  [ "${lines[2]}" = 1000 ]
  [ "${lines[3]}" = "1000 5" ]
}

@test "rootless: under unshare -r" {
  requires_rootless
  rm "$BUNDLE/config.json"
  unshare -r "$RUNF_BIN" spec --rootless
  update_config '.process.terminal = false'
  set_args sh -c 'id -u; echo ok'
  run unshare -r "$RUNF_BIN" --root "$STATE_ROOT" run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = ok ]
  assert_no_leftovers
}

@test "root under unshare -r is treated as rootless" {
  requires_root
  rm "$BUNDLE/config.json"
  unshare -r "$RUNF_BIN" spec --rootless
  update_config '.process.terminal = false'
  set_args sh -c 'echo ok'
  run unshare -r "$RUNF_BIN" --root "$STATE_ROOT" --debug run t1
  [ "$status" -eq 0 ]
  [[ "$output" == *rootless* ]]
  [[ "$output" == *ok* ]]
}

@test "a mapping the user may not have fails with one line" {
  requires_rootless
  update_config '.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 1}]'
  run runf run t1
  assert_one_error_line "uidMappings"
  assert_no_leftovers
}

# A bind source below a directory only the host's root may enter: root of
# the container's user namespace (host uid 100000) could not reach it by
# its path; runf opens it as the host's root.
@test "root: bind mounts below a directory the user namespace cannot enter, for run and exec" {
  requires_root
  mkdir -p "$TEST_DIR/private/one" "$TEST_DIR/private/two"
  echo one >"$TEST_DIR/private/one/file"
  echo two >"$TEST_DIR/private/two/file"
  chmod 700 "$TEST_DIR/private"
  # (The rootfs belongs to the host's root: the mount points are there.)
  mkdir "$BUNDLE/rootfs/mnt1" "$BUNDLE/rootfs/mnt2"
  update_config --arg p "$TEST_DIR/private" '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .mounts += [{"source": ($p + "/one"), "destination": "/mnt1", "options": ["bind"]},
                  {"source": ($p + "/two"), "destination": "/mnt2", "options": ["rbind", "ro"]}]'
  set_args sh -c 'cat /mnt1/file /mnt2/file; sleep 1000'
  runf_detached run -d t1
  wait_for grep -q two "$TEST_DIR/detached.out"
  [ "$(cat "$TEST_DIR/detached.out")" = "$(printf 'one\ntwo')" ]
  run runf exec t1 cat /mnt2/file
  [ "$status" -eq 0 ]
  [ "$output" = two ]
}

@test "root: a bind mount before a cgroup mount, in a user namespace with a cgroup namespace" {
  requires_root
  mkdir -p "$TEST_DIR/private/one"
  echo one >"$TEST_DIR/private/one/file"
  chmod 700 "$TEST_DIR/private"
  mkdir "$BUNDLE/rootfs/mnt1"
  update_config --arg p "$TEST_DIR/private" '.linux.namespaces += [{"type": "user"}, {"type": "cgroup"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .mounts = [.mounts[] | select(.destination != "/sys/fs/cgroup")]
    | .mounts += [{"source": ($p + "/one"), "destination": "/mnt1", "options": ["bind"]},
                  {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                   "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}]'
  set_args sh -c 'cat /mnt1/file; ls /sys/fs/cgroup | grep -c .'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = one ]
  [ "${lines[1]}" -gt 0 ]
}
