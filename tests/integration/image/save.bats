#!/usr/bin/env bats
# runfctl image save: docker save's archive (an OCI layout and manifest.json
# in one tar), an OCI layout as a tar or a directory.  Round trips: import
# gives back the same digest; skopeo and umoci read what save wrote.

load image_helpers

setup() {
  setup_image_test
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Cmd": ["/bin/echo", "saved"]}'
  runfctl image import "$TEST_DIR/layout" >/dev/null
  DIGEST=$(jq -r '.manifests[0].digest' "$TEST_DIR/layout/index.json")
}
teardown() { teardown_image_test; }

other_store() {
  "$RUNFCTL_BIN" --store "$TEST_DIR/store2" "$@"
}

# No temporary file or directory left beside an output.
no_temp_left() {
  [ -z "$(ls -A "$TEST_DIR" | grep '^\.')" ] || { echo "left: $(ls -A "$TEST_DIR" | grep '^\.')"; return 1; }
}

@test "docker-archive: import gives the same image back; skopeo reads it as docker-archive" {
  run runfctl image save localhost/layout:v1 -o "$TEST_DIR/a.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "saved 1 image to $TEST_DIR/a.tar" ]
  [ "$(tar tf "$TEST_DIR/a.tar" | grep -c -x -e oci-layout -e index.json -e manifest.json)" -eq 3 ]
  [ "$(tar xOf "$TEST_DIR/a.tar" manifest.json | jq -r '.[0].RepoTags[0]')" = localhost/layout:v1 ]
  run other_store image import "$TEST_DIR/a.tar"
  [ "$output" = "imported localhost/layout:v1 $DIGEST" ]
  # skopeo: its docker-archive reader takes manifest.json (and the
  # compressed layers), and makes the same root filesystem of it.
  [ "$(skopeo list-tags "docker-archive:$TEST_DIR/a.tar" | jq -r '.Tags[0]')" = localhost/layout:v1 ]
  skopeo --insecure-policy copy -q "docker-archive:$TEST_DIR/a.tar" "oci:$TEST_DIR/back:x"
  runfctl image import "$TEST_DIR/back" >/dev/null
  runfctl image unpack localhost/back:x "$TEST_DIR/theirs" >/dev/null
  runfctl image unpack localhost/layout:v1 "$TEST_DIR/ours" >/dev/null
  diff <(tree_listing "$TEST_DIR/ours/rootfs") <(tree_listing "$TEST_DIR/theirs/rootfs")
  [ "$(jq -r '.process.args | join(" ")' "$TEST_DIR/theirs/config.json")" = "/bin/echo saved" ]
  no_temp_left
}

@test "OCI layout, as a directory and as a tar: umoci unpacks it, skopeo reads it, import keeps the digest" {
  run runfctl image save --format oci-dir -o "$TEST_DIR/dir" localhost/layout:v1
  [ "$status" -eq 0 ]
  [ "$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$TEST_DIR/dir/index.json")" = v1 ]
  [ "$(jq -r '.manifests[0].digest' "$TEST_DIR/dir/index.json")" = "$DIGEST" ]
  [ ! -e "$TEST_DIR/dir/manifest.json" ]
  if is_root; then
    umoci unpack --image "$TEST_DIR/dir:v1" "$TEST_DIR/umoci" >/dev/null
  else
    umoci unpack --rootless --image "$TEST_DIR/dir:v1" "$TEST_DIR/umoci" >/dev/null
  fi
  runfctl image unpack localhost/layout:v1 "$TEST_DIR/ours" >/dev/null
  diff <(tree_listing "$TEST_DIR/umoci/rootfs") <(tree_listing "$TEST_DIR/ours/rootfs")
  [ "$(skopeo inspect "oci:$TEST_DIR/dir:v1" | jq -r .Digest)" = "$DIGEST" ]
  run runfctl image save --format oci-archive -o "$TEST_DIR/o.tar" localhost/layout:v1
  [ "$status" -eq 0 ]
  [ "$(skopeo inspect "oci-archive:$TEST_DIR/o.tar:v1" | jq -r .Digest)" = "$DIGEST" ]
  run other_store image import "$TEST_DIR/o.tar"
  [ "$output" = "imported localhost/layout:v1 $DIGEST" ]
  run other_store image import --name again:1 "$TEST_DIR/dir"
  [ "$output" = "imported docker.io/library/again:1 $DIGEST (already stored)" ]
  no_temp_left
}

@test "several images in one archive: shared layers once; a digest saves an image without a name" {
  write_entries "$TEST_DIR/more.json" '[{"name": "more", "data": "m"}]'
  mkimage oci "$TEST_DIR/layout" --tag v2 --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/more.json" >/dev/null
  runfctl image import "$TEST_DIR/layout" >/dev/null
  runfctl image save localhost/layout:v1 localhost/layout:v2 -o "$TEST_DIR/two.tar" >/dev/null
  # 2 manifests, 2 configs, 2 layers: the busybox layer is stored once.
  [ "$(tar tf "$TEST_DIR/two.tar" | grep -c '^blobs/sha256/.')" -eq 6 ]
  run other_store image import "$TEST_DIR/two.tar"
  [ "${#lines[@]}" -eq 2 ]
  [ "$(other_store image ls --json | jq -r '[.[].name] | sort | join(" ")')" = "localhost/layout:v1 localhost/layout:v2" ]
  runfctl image save "$DIGEST" -o "$TEST_DIR/anon.tar" >/dev/null
  [ "$(tar xOf "$TEST_DIR/anon.tar" manifest.json | jq -c '.[0].RepoTags')" = "[]" ]
  [ "$(tar xOf "$TEST_DIR/anon.tar" index.json | jq -c '.manifests[0].annotations')" = null ]
  run "$RUNFCTL_BIN" --store "$TEST_DIR/store3" image import --name named:1 "$TEST_DIR/anon.tar"
  [ "$output" = "imported docker.io/library/named:1 $DIGEST" ]
}

@test "to stdout; an existing archive is replaced whole" {
  runfctl image save localhost/layout:v1 >"$TEST_DIR/s.tar"
  run other_store image import - <"$TEST_DIR/s.tar"
  [ "$output" = "imported localhost/layout:v1 $DIGEST" ]
  echo old >"$TEST_DIR/x.tar"
  runfctl image save -o "$TEST_DIR/x.tar" localhost/layout:v1 >/dev/null
  cmp "$TEST_DIR/s.tar" "$TEST_DIR/x.tar"
}

@test "bad input, and a corrupt blob in the store: one line, nothing written" {
  expect_failure "image \`nope\` is not in the store" image save localhost/layout:v1 nope -o "$TEST_DIR/x.tar"
  expect_failure "--format \`zip\`: expected docker-archive, oci-archive or oci-dir" image save --format zip localhost/layout:v1
  expect_failure "oci-dir writes a directory: give it with -o DIR" image save --format oci-dir localhost/layout:v1
  mkdir "$TEST_DIR/exists"
  expect_failure "\`$TEST_DIR/exists\` exists; remove it first" image save --format oci-dir -o "$TEST_DIR/exists" localhost/layout:v1
  expect_failure "\`$TEST_DIR/exists\` exists; remove it first" image save -o "$TEST_DIR/exists" localhost/layout:v1
  expect_failure "image save: missing REF" image save -o "$TEST_DIR/x.tar"
  expect_failure "No such file or directory" image save -o "$TEST_DIR/no/such/dir/x.tar" localhost/layout:v1
  layer=$(jq -r '.layers[0].digest' "$TEST_DIR/layout/blobs/sha256/${DIGEST#sha256:}")
  printf X | dd of="$STORE/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc 2>/dev/null
  expect_failure "blob $layer in the store is corrupt" image save localhost/layout:v1 -o "$TEST_DIR/c.tar"
  expect_failure "blob $layer in the store is corrupt" image save --format oci-dir localhost/layout:v1 -o "$TEST_DIR/c"
  [ ! -e "$TEST_DIR/x.tar" ] && [ ! -e "$TEST_DIR/c.tar" ] && [ ! -e "$TEST_DIR/c" ]
  no_temp_left
}
