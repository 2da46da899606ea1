#!/usr/bin/env bats
# runfctl image unpack and bundle: the layers applied exactly (compared
# with umoci's unpack of the same image), config.json from the image
# config, and both kinds of bundle run by runf.

load image_helpers

setup() { setup_image_test; }
teardown() { teardown_image_test; }

# An image whose config exercises every field config.json takes.
config_image() {
  busybox_layout "$TEST_DIR/layout" app --config '{
    "Entrypoint": ["/bin/sh", "-c"],
    "Cmd": ["echo \"$(id -u):$(id -g) $(pwd) $GREETING $HOME\""],
    "Env": ["GREETING=hello", "PATH=/bin:/usr/bin"],
    "WorkingDir": "/home/user",
    "User": "user",
    "Labels": {"org.example.role": "test"}}'
  runfctl image import "$TEST_DIR/layout" >/dev/null
}

@test "unpack writes a bundle that runf runs" {
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Cmd": ["/bin/echo", "hello from the image"]}'
  runfctl image import "$TEST_DIR/layout" >/dev/null
  run runfctl image unpack localhost/layout:v1 "$TEST_DIR/bundle"
  [ "$status" -eq 0 ]
  [ -x "$TEST_DIR/bundle/rootfs/bin/busybox" ]
  cd "$TEST_DIR/bundle"
  run "$RUNF_BIN" --root "$STATE_ROOT" run c1
  [ "$status" -eq 0 ]
  [ "$output" = "hello from the image" ]
}

@test "config.json: Entrypoint + Cmd, Env, WorkingDir, User from /etc/passwd, Labels" {
  config_image
  runfctl image unpack localhost/layout:app "$TEST_DIR/bundle" >/dev/null
  c=$TEST_DIR/bundle/config.json
  [ "$(jq -r '.process.args[0,1]' "$c" | tr '\n' ' ')" = "/bin/sh -c " ]
  [ "$(jq -r '.process.cwd' "$c")" = /home/user ]
  [ "$(jq -r '.process.env | join(" ")' "$c")" = "GREETING=hello PATH=/bin:/usr/bin HOME=/home/user" ]
  [ "$(jq -r '.annotations["org.example.role"]' "$c")" = test ]
  [ "$(jq -r '.process.terminal' "$c")" = false ]
  [ "$(jq -r '.linux.resources // .linux.seccomp // .hooks // "none"' "$c")" = none ]
  if is_root; then
    [ "$(jq -c '.process.user' "$c")" = '{"uid":1000,"gid":1000}' ]
  fi
  cd "$TEST_DIR/bundle"
  run "$RUNF_BIN" --root "$STATE_ROOT" run c2
  [ "$status" -eq 0 ]
  [ "$output" = "1000:1000 /home/user hello /home/user" ]
}

@test "bundle points at the store's shared read-only rootfs, unpacked once" {
  config_image
  run runfctl image bundle localhost/layout:app "$TEST_DIR/b1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"(unpacked now)" ]]
  run runfctl image bundle localhost/layout:app "$TEST_DIR/b2"
  [ "$status" -eq 0 ]
  [[ "$output" != *"(unpacked now)" ]]
  root=$(jq -r .root.path "$TEST_DIR/b1/config.json")
  [ "$root" = "$(jq -r .root.path "$TEST_DIR/b2/config.json")" ]
  [[ "$root" == "$STORE/rootfs/"* ]]
  [ "$(jq -r .root.readonly "$TEST_DIR/b1/config.json")" = true ]
  [ ! -e "$TEST_DIR/b1/rootfs" ]
  cd "$TEST_DIR/b1"
  run "$RUNF_BIN" --root "$STATE_ROOT" run c3
  [ "$status" -eq 0 ]
  [ "$output" = "1000:1000 /home/user hello /home/user" ]
  # The container cannot change the shared rootfs.
  jq '.process.args = ["/bin/sh", "-c", "echo x > /bin/new"] | .process.user = {"uid": 0, "gid": 0}' \
    config.json >c.tmp && mv c.tmp config.json
  run "$RUNF_BIN" --root "$STATE_ROOT" run c4
  [ "$status" -ne 0 ]
  [ ! -e "$root/bin/new" ]
  run runfctl image inspect localhost/layout:app
  [ "$(echo "$output" | jq -r .rootfs)" = "$root" ]
}

@test "whiteouts and opaque directories across layers; dir to file and back; hard links across layers" {
  write_entries "$TEST_DIR/l1.json" '[
    {"name": "etc/", "type": "dir"}, {"name": "etc/a", "data": "a"}, {"name": "etc/b", "data": "b"},
    {"name": "opq/", "type": "dir"}, {"name": "opq/old", "data": "old"}, {"name": "opq/sub/deep", "data": "d"},
    {"name": "d2f/", "type": "dir"}, {"name": "d2f/inner", "data": "i"},
    {"name": "f2d", "data": "file"}, {"name": "data/orig", "data": "shared", "mode": 493}]'
  write_entries "$TEST_DIR/l2.json" '[
    {"name": "etc/.wh.a", "data": ""}, {"name": "opq/", "type": "dir"},
    {"name": "opq/.wh..wh..opq", "data": ""}, {"name": "opq/new", "data": "new"},
    {"name": "d2f", "data": "now a file"}, {"name": "f2d/", "type": "dir"}, {"name": "f2d/x", "data": "x"},
    {"name": "data/link", "type": "hardlink", "target": "data/orig"}]'
  write_entries "$TEST_DIR/l3.json" '[
    {"name": "data/.wh.orig", "data": ""}, {"name": "etc/c", "data": "c"}]'
  mkimage oci "$TEST_DIR/layout" --tag t --layer "$TEST_DIR/l1.json" --layer "$TEST_DIR/l2.json" \
    --layer "$TEST_DIR/l3.json" >/dev/null
  runfctl image import "$TEST_DIR/layout" >/dev/null
  runfctl image unpack localhost/layout:t "$TEST_DIR/b" >/dev/null
  r=$TEST_DIR/b/rootfs
  [ ! -e "$r/etc/a" ] && [ -f "$r/etc/b" ] && [ -f "$r/etc/c" ]
  [ "$(ls "$r/opq")" = new ]
  [ "$(cat "$r/d2f")" = "now a file" ]
  [ "$(cat "$r/f2d/x")" = x ]
  [ ! -e "$r/data/orig" ]
  [ "$(cat "$r/data/link")" = shared ]
  [ "$(stat -c %a "$r/data/link")" = 755 ]
  ! find "$r" -name '.wh.*' | grep -q .
}

@test "unpack matches umoci's unpack of the same image, file by file" {
  local devices=''
  if is_root; then
    devices=', {"name": "dev/null", "type": "char", "major": 1, "minor": 3, "mode": 438},
                 {"name": "dev/sda", "type": "block", "major": 8, "minor": 0, "mode": 432}'
  fi
  write_entries "$TEST_DIR/l1.json" '[
    {"name": "srv/", "type": "dir", "mode": 488, "uid": 1000, "gid": 1000},
    {"name": "srv/app", "data": "#!/bin/sh\n", "mode": 1517, "uid": 1000, "gid": 50},
    {"name": "srv/secret", "data": "s", "mode": 384, "uid": 1001, "gid": 1001},
    {"name": "usr/bin/su", "data": "suid", "mode": 2541},
    {"name": "usr/bin/wall", "data": "sgid", "mode": 1517, "gid": 5},
    {"name": "tmp/", "type": "dir", "mode": 1023},
    {"name": "run/fifo", "type": "fifo", "mode": 420},
    {"name": "lib", "type": "symlink", "target": "usr/lib"},
    {"name": "abs", "type": "symlink", "target": "/etc/passwd"},
    {"name": "ro/", "type": "dir", "mode": 365}, {"name": "ro/file", "data": "r", "mode": 292},
    {"name": "hard1", "data": "same"}, {"name": "hard2", "type": "hardlink", "target": "hard1"}'"$devices"']'
  write_entries "$TEST_DIR/l2.json" '[
    {"name": "srv/.wh.secret", "data": ""}, {"name": "usr/bin/.wh..wh..opq", "data": ""},
    {"name": "usr/bin/new", "data": "n", "mode": 493}, {"name": "hard3", "type": "hardlink", "target": "hard1"},
    {"name": "lib", "type": "dir"}, {"name": "lib/x", "data": "x"}]'
  mkimage oci "$TEST_DIR/layout" --tag t --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/l1.json" \
    --layer "$TEST_DIR/l2.json" >/dev/null
  runfctl image import "$TEST_DIR/layout" >/dev/null
  runfctl image unpack localhost/layout:t "$TEST_DIR/ours" >/dev/null
  if is_root; then
    umoci unpack --image "$TEST_DIR/layout:t" "$TEST_DIR/theirs" >/dev/null
  else
    umoci unpack --rootless --image "$TEST_DIR/layout:t" "$TEST_DIR/theirs" >/dev/null
  fi
  tree_listing "$TEST_DIR/ours/rootfs" >"$TEST_DIR/ours.txt"
  tree_listing "$TEST_DIR/theirs/rootfs" >"$TEST_DIR/theirs.txt"
  diff -u "$TEST_DIR/theirs.txt" "$TEST_DIR/ours.txt"
  [ "$(wc -l <"$TEST_DIR/ours.txt")" -gt 250 ]
}

@test "rootless unpack: files owned by the caller, device nodes skipped with one note" {
  requires_rootless
  write_entries "$TEST_DIR/l1.json" '[
    {"name": "f", "data": "x", "uid": 0}, {"name": "g", "data": "y", "uid": 1234, "gid": 99},
    {"name": "dev/null", "type": "char", "major": 1, "minor": 3},
    {"name": "dev/zero", "type": "char", "major": 1, "minor": 5}]'
  mkimage oci "$TEST_DIR/layout" --tag t --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/l1.json" \
    --config '{"Cmd": ["sh"]}' >/dev/null
  runfctl image import "$TEST_DIR/layout" >/dev/null
  run --separate-stderr runfctl image unpack localhost/layout:t "$TEST_DIR/b"
  [ "$status" -eq 0 ]
  [ "$stderr" = "runfctl: note: skipped 2 device nodes: only root can make them" ]
  [ "$(stat -c %u:%g "$TEST_DIR/b/rootfs/g")" = "$(id -u):$(id -g)" ]
  [ ! -e "$TEST_DIR/b/rootfs/dev/null" ]
  [ "$(jq -r '.linux.uidMappings[0].hostID' "$TEST_DIR/b/config.json")" = "$(id -u)" ]
  cd "$TEST_DIR/b"
  jq '.process.args = ["/bin/sh", "-c", "stat -c %u /g"]' config.json >c.tmp && mv c.tmp config.json
  run "$RUNF_BIN" --root "$STATE_ROOT" run c1
  [ "$status" -eq 0 ]
  [ "$output" = 0 ]
}

@test "unpack --rootless as root leaves ownership to the caller" {
  requires_root
  write_entries "$TEST_DIR/l1.json" '[{"name": "g", "data": "y", "uid": 1234, "gid": 99}]'
  mkimage oci "$TEST_DIR/layout" --tag t --layer "$TEST_DIR/l1.json" >/dev/null
  runfctl image import "$TEST_DIR/layout" >/dev/null
  runfctl image unpack --rootless localhost/layout:t "$TEST_DIR/b" >/dev/null
  [ "$(stat -c %u "$TEST_DIR/b/rootfs/g")" = 0 ]
  [ "$(jq -r '.linux.namespaces | map(.type) | index("user") != null' "$TEST_DIR/b/config.json")" = true ]
}
