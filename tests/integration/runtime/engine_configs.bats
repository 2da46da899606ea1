#!/usr/bin/env bats
# Parts of config.json as docker, podman and containerd write them, each of
# which runf once handled differently from runc (found by running the
# engines themselves: tests/integration/engines/).

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "device rules that start with deny-all keep the default devices usable (podman, docker)" {
  update_config '.linux.resources = {"devices": [{"allow": false, "access": "rwm"}]}'
  set_args sh -c 'echo x >/dev/null && head -c 3 /dev/zero | wc -c && echo ok'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[-2]}" = 3 ]
  [ "${lines[-1]}" = ok ]
}

@test "tmpcopyup: a tmpfs starts with what the directory held (podman --read-only)" {
  mkdir -p "$BUNDLE/rootfs/data/sub"
  echo kept >"$BUNDLE/rootfs/data/sub/file"
  chmod 0750 "$BUNDLE/rootfs/data/sub"
  chmod 0604 "$BUNDLE/rootfs/data/sub/file"
  ln -s sub/file "$BUNDLE/rootfs/data/link"
  chmod 0711 "$BUNDLE/rootfs/data"
  update_config '.mounts += [{"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                               "options": ["rw", "nosuid", "nodev", "tmpcopyup"]},
                              {"destination": "/ro", "type": "tmpfs", "source": "tmpfs",
                               "options": ["ro", "tmpcopyup"]},
                              {"destination": "/new", "type": "tmpfs", "source": "tmpfs",
                               "options": ["mode=0700", "tmpcopyup"]}]'
  mkdir -p "$BUNDLE/rootfs/ro"
  echo there >"$BUNDLE/rootfs/ro/f"
  set_args sh -c 'cat /data/link; stat -c "%a %n" /data /data/sub /data/sub/file;
                  echo new >/data/sub/file && cat /data/sub/file;
                  cat /ro/f; touch /ro/x 2>/dev/null || echo ro-refused;
                  grep " /data " /proc/self/mountinfo | grep -c tmpfs;
                  stat -c %a /new'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = kept ]
  [ "${lines[1]}" = "711 /data" ]
  [ "${lines[2]}" = "750 /data/sub" ]
  [ "${lines[3]}" = "604 /data/sub/file" ]
  [ "${lines[4]}" = new ]
  [ "${lines[5]}" = there ]
  [ "${lines[6]}" = ro-refused ]
  [ "${lines[7]}" = 1 ]
  # A directory made for the mount keeps the mode the options give.
  [ "${lines[8]}" = 700 ]
  # The copy was written, not the rootfs under it.
  [ "$(cat "$BUNDLE/rootfs/data/sub/file")" = kept ]
}

@test "blockIO weight 0 means not set, as docker sends it" {
  update_config '.linux.resources = {"blockIO": {"weight": 0, "leafWeight": 0}}'
  set_args echo ok
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = ok ]
}

@test "a failed exec names the cause in runc's lower-case words (docker's 126/127)" {
  set_args /nonexistent
  run runf run t1
  [ "$status" -ne 0 ]
  [[ "$output" == *"exec /nonexistent: no such file or directory"* ]]
  set_args /etc/passwd
  run runf run t2
  [ "$status" -ne 0 ]
  [[ "$output" == *"permission denied"* ]]
  [[ "$output" != *"canceled"* ]]
  set_args sleep 30
  runf_detached run -d t3
  run runf exec t3 /nonexistent
  [ "$status" -eq 255 ]
  [[ "$output" == *"no such file or directory"* ]]
  run runf exec t3 /etc
  [ "$status" -eq 255 ]
  [[ "$output" == *"permission denied"* ]]
}

@test "kill --all after init has exited reaches what is left in the cgroup (containerd's shim, --pid host)" {
  update_config '.root.readonly = false | .linux.namespaces |= map(select(.type != "pid"))'
  set_args sh -c 'sleep 1000 & echo $! >/tmp/child; exit 0'
  runf_detached run -d t1
  wait_for test -s "$BUNDLE/rootfs/tmp/child"
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  run runf kill --all t1 KILL
  [ "$status" -eq 0 ]
  child=$(cat "$BUNDLE/rootfs/tmp/child")
  if is_root; then
    # Without a pid namespace the child outlived init in the cgroup, and
    # --all ended it.  (Rootless, there is no cgroup to find it in.)
    wait_for sh -c "! kill -0 $child"
  else
    kill -9 "$child" 2>/dev/null || true
  fi
  run runf kill t1 KILL
  assert_one_error_line "not running"
}

@test "kill KILL of a paused container thaws it, so it dies (podman kill)" {
  requires_root
  set_args sleep 1000
  runf_detached run -d t1
  runf pause t1
  [ "$(runf state t1 | jq -r .status)" = paused ]
  runf kill t1 KILL
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\"'"
  runf delete t1
}
