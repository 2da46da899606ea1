#!/usr/bin/env bats
# The store: ls, inspect, rm, prune; where it lives; concurrent writers;
# and a runfctl killed half-way.

load image_helpers

setup() {
  setup_image_test
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Cmd": ["sh"]}'
  write_entries "$TEST_DIR/more.json" '[{"name": "more", "data": "m"}]'
  mkimage oci "$TEST_DIR/layout" --tag v2 --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/more.json" \
    --config '{"Cmd": ["sh"]}' >/dev/null
}
teardown() { teardown_image_test; }

# Every blob is what its name says, every name reaches a manifest.
assert_store_consistent() {
  local b
  for b in "$STORE"/blobs/sha256/*; do
    [ -e "$b" ] || continue
    [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || { echo "corrupt blob $b"; return 1; }
  done
  for d in $(jq -r '.refs[]' "$STORE/refs.json" 2>/dev/null); do
    [ -f "$STORE/blobs/sha256/${d#sha256:}" ] || { echo "dangling name to $d"; return 1; }
  done
}

@test "ls, inspect, rm and prune" {
  runfctl image import "$TEST_DIR/layout" >/dev/null
  run runfctl image ls
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$(printf '%-50s %-12s %10s  %s' NAME DIGEST SIZE CREATED)" ]
  [[ "${lines[1]}" == "localhost/layout:v1 "*"MiB  2024-01-02 03:04" ]]
  [ "${#lines[@]}" -eq 3 ]
  run runfctl image ls --json
  [ "$(echo "$output" | jq length)" -eq 2 ]
  digest=$(echo "$output" | jq -r '.[] | select(.name == "localhost/layout:v2") | .digest')
  run runfctl image inspect "${digest:7:16}"
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.names[0]')" = localhost/layout:v2 ]
  [ "$(echo "$output" | jq -r '.layers | length')" -eq 2 ]
  runfctl image bundle localhost/layout:v2 "$TEST_DIR/b" >/dev/null
  run runfctl image rm localhost/layout:v2
  [ "$output" = "removed localhost/layout:v2" ]
  run runfctl image prune
  [ "$status" -eq 0 ]
  # v2's manifest, config and second layer, and its rootfs
  [[ "$output" == "freed "*": 3 blobs, 1 root filesystem" ]]
  [ -z "$(ls "$STORE/rootfs")" ]
  run runfctl image prune
  [ "$output" = "freed 0 B: 0 blobs, 0 root filesystems" ]
  runfctl image unpack localhost/layout:v1 "$TEST_DIR/u" >/dev/null
  run runfctl image rm "$(runfctl image ls --json | jq -r '.[0].digest')"
  [ "$output" = "removed localhost/layout:v1" ]
  runfctl image prune >/dev/null
  [ -z "$(ls "$STORE/blobs/sha256")" ]
}

@test "rm of a prefix that names two images, and a prune that removes read-only rootless trees" {
  runfctl image import "$TEST_DIR/layout" >/dev/null
  write_entries "$TEST_DIR/ro.json" '[{"name": "ro/", "type": "dir", "mode": 365}, {"name": "ro/f", "data": "x", "mode": 256}]'
  mkimage oci "$TEST_DIR/ro" --tag 1 --layer "$TEST_DIR/ro.json" >/dev/null
  runfctl image import "$TEST_DIR/ro" >/dev/null
  runfctl image bundle localhost/ro:1 "$TEST_DIR/b" >/dev/null
  runfctl image rm localhost/ro:1 >/dev/null
  run runfctl image prune
  [ "$status" -eq 0 ]
  [[ "$output" == *"1 root filesystem" ]]
}

@test "the default store: \$XDG_DATA_HOME/runf, else ~/.local/share/runf (rootless)" {
  requires_rootless
  XDG_DATA_HOME=$TEST_DIR/xdg "$RUNFCTL_BIN" image import "$TEST_DIR/layout" >/dev/null
  [ -f "$TEST_DIR/xdg/runf/refs.json" ]
  HOME=$TEST_DIR/home XDG_DATA_HOME= "$RUNFCTL_BIN" image import "$TEST_DIR/layout" >/dev/null
  [ -f "$TEST_DIR/home/.local/share/runf/refs.json" ]
  [ "$(stat -c %u "$TEST_DIR/home/.local/share/runf/refs.json")" = "$(id -u)" ]
}

@test "two imports and two bundles at once" {
  mkimage docker-save "$TEST_DIR/a.tar" "$TEST_DIR/layout:v1=a:1"
  mkimage docker-save "$TEST_DIR/b.tar" "$TEST_DIR/layout:v2=b:1"
  for round in 1 2 3; do
    rm -rf "$STORE"
    runfctl image import "$TEST_DIR/a.tar" >"$TEST_DIR/a.out" 2>&1 &
    p1=$!
    runfctl image import "$TEST_DIR/b.tar" >"$TEST_DIR/b.out" 2>&1 &
    p2=$!
    wait $p1 || { cat "$TEST_DIR/a.out"; false; }
    wait $p2 || { cat "$TEST_DIR/b.out"; false; }
    [ "$(runfctl image ls --json | jq length)" -eq 2 ]
    assert_store_consistent
    [ -z "$(ls -A "$STORE/tmp")" ]
  done
  runfctl image bundle a:1 "$TEST_DIR/x" >"$TEST_DIR/x.out" &
  p1=$!
  runfctl image bundle a:1 "$TEST_DIR/y" >"$TEST_DIR/y.out" &
  p2=$!
  wait $p1 && wait $p2
  [ "$(cat "$TEST_DIR/x.out" "$TEST_DIR/y.out" | grep -c 'unpacked now')" -eq 1 ]
  [ "$(ls "$STORE/rootfs" | wc -l)" -eq 1 ]
}

@test "a runfctl killed half-way leaves the store consistent and its scratch is swept" {
  runfctl image import "$TEST_DIR/layout" >/dev/null
  mkimage docker-save "$TEST_DIR/c.tar" "$TEST_DIR/layout:v2=c:1"
  before=$(store_snapshot)
  # The archive's first half, then a stall: runfctl is in the middle of it.
  size=$(stat -c %s "$TEST_DIR/c.tar")
  mkfifo "$TEST_DIR/pipe"
  "$RUNFCTL_BIN" --store "$STORE" image import - <"$TEST_DIR/pipe" >/dev/null 2>&1 &
  pid=$!
  exec 8>"$TEST_DIR/pipe"
  head -c $((size / 2)) "$TEST_DIR/c.tar" >&8
  wait_for test -n "$(ls -A "$STORE/tmp" 2>/dev/null)"
  kill -9 $pid
  exec 8>&-
  wait $pid || true
  [ -n "$(ls -A "$STORE/tmp")" ]
  [ "$before" = "$(store_snapshot)" ]
  run runfctl image ls
  [[ "$output" != *"c:1"* ]]
  # The next writer sweeps what the dead one left, and works.
  run runfctl image import "$TEST_DIR/c.tar"
  [ "$status" -eq 0 ]
  [ -z "$(ls -A "$STORE/tmp")" ]
  assert_store_consistent
  # Killed while unpacking a shared rootfs: no half rootfs is ever named.
  runfctl image bundle c:1 "$TEST_DIR/b" >/dev/null &
  pid=$!
  kill -9 $pid 2>/dev/null || true
  wait $pid || true
  for d in "$STORE"/rootfs/*; do
    [ -e "$d" ] || continue
    [ -x "$d/bin/busybox" ] && [ -f "$d/more" ]
  done
  run runfctl image bundle c:1 "$TEST_DIR/b2"
  [ "$status" -eq 0 ]
}
