#!/usr/bin/env bats
# runfctl image import: OCI layouts (directory and tar), docker save
# archives (one image, several, and the OCI layout newer docker adds), from
# a file or stdin, and the same images made by skopeo.

load image_helpers

setup() {
  setup_image_test
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Cmd": ["/bin/echo", "hi"]}'
}
teardown() { teardown_image_test; }

@test "an OCI layout directory is imported under localhost/<dir>:<tag>" {
  run runfctl image import "$TEST_DIR/layout"
  [ "$status" -eq 0 ]
  [[ "$output" == "imported localhost/layout:v1 sha256:"* ]]
  run runfctl image ls
  [[ "$output" == *"localhost/layout:v1"* ]]
  # Every blob in the store is what its name says.
  for b in "$STORE"/blobs/sha256/*; do
    [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ]
  done
}

@test "an OCI layout as a tar, and from stdin, with --name" {
  tar -C "$TEST_DIR/layout" -cf "$TEST_DIR/img.tar" .
  run runfctl image import "$TEST_DIR/img.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == "imported localhost/img:v1 "* ]]
  gzip -c "$TEST_DIR/img.tar" | runfctl image import --name example.com/app:2 - >"$TEST_DIR/out"
  grep -q "imported example.com/app:2 sha256:" "$TEST_DIR/out"
  run runfctl image inspect example.com/app:2
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | jq -r '.config.Cmd[1]')" = hi ]
}

@test "importing the same image again stores nothing new" {
  runfctl image import "$TEST_DIR/layout" >/dev/null
  before=$(store_snapshot)
  run runfctl image import "$TEST_DIR/layout"
  [ "$status" -eq 0 ]
  [[ "$output" == "imported localhost/layout:v1 sha256:"*" (already stored)" ]]
  [ "$before" = "$(store_snapshot)" ]
}

@test "a docker save archive with several images sharing a layer" {
  write_entries "$TEST_DIR/extra.json" '[{"name": "extra", "data": "x"}]'
  mkimage oci "$TEST_DIR/layout" --tag v2 --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/extra.json" >/dev/null
  mkimage docker-save "$TEST_DIR/save.tar" "$TEST_DIR/layout:v1=busybox:1" "$TEST_DIR/layout:v2=myorg/app:2"
  run runfctl image import "$TEST_DIR/save.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == *"imported docker.io/library/busybox:1 sha256:"* ]]
  [[ "$output" == *"imported docker.io/myorg/app:2 sha256:"* ]]
  # config, manifest and layer of each, the busybox layer once.
  [ "$(ls "$STORE/blobs/sha256" | wc -l)" -eq 6 ]
  runfctl image unpack docker.io/myorg/app:2 "$TEST_DIR/b" >/dev/null
  [ -f "$TEST_DIR/b/rootfs/extra" ] && [ -x "$TEST_DIR/b/rootfs/bin/busybox" ]
}

@test "the OCI layout inside newer docker save archives wins over manifest.json" {
  mkimage docker-save --oci "$TEST_DIR/save.tar" "$TEST_DIR/layout:v1=busybox:1"
  want=$(tar -xOf "$TEST_DIR/save.tar" index.json | jq -r '.manifests[0].digest')
  run runfctl image import "$TEST_DIR/save.tar"
  [ "$status" -eq 0 ]
  [ "$output" = "imported docker.io/library/busybox:1 $want" ]
}

@test "zstd and uncompressed layers" {
  write_entries "$TEST_DIR/a.json" '[{"name": "a", "data": "zstd layer"}]'
  write_entries "$TEST_DIR/b.json" '[{"name": "b", "data": "plain layer"}]'
  mkimage oci "$TEST_DIR/z" --tag 1 --compress zstd --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/a.json" >/dev/null
  mkimage oci "$TEST_DIR/z" --tag 2 --compress none --layer "$TEST_DIR/b.json" >/dev/null
  run runfctl image import "$TEST_DIR/z"
  [ "$status" -eq 0 ]
  runfctl image unpack localhost/z:1 "$TEST_DIR/b1" >/dev/null
  [ "$(cat "$TEST_DIR/b1/rootfs/a")" = "zstd layer" ]
  runfctl image unpack localhost/z:2 "$TEST_DIR/b2" >/dev/null
  [ "$(cat "$TEST_DIR/b2/rootfs/b")" = "plain layer" ]
}

@test "a multi-platform layout: the host's platform, or --platform" {
  write_entries "$TEST_DIR/arm.json" '[{"name": "arch", "data": "arm64"}]'
  write_entries "$TEST_DIR/amd.json" '[{"name": "arch", "data": "amd64"}]'
  mkimage oci "$TEST_DIR/parts" --tag arm --platform linux/arm64 --layer "$TEST_DIR/arm.json" >/dev/null
  mkimage oci "$TEST_DIR/parts" --tag amd --platform linux/amd64 --layer "$TEST_DIR/amd.json" >/dev/null
  mkimage index "$TEST_DIR/multi" --tag 1 "linux/arm64/v8=$TEST_DIR/parts:arm" "linux/amd64=$TEST_DIR/parts:amd" >/dev/null
  runfctl image import --platform linux/arm64 --name arm:1 "$TEST_DIR/multi" >/dev/null
  runfctl image unpack arm:1 "$TEST_DIR/b" >/dev/null
  [ "$(cat "$TEST_DIR/b/rootfs/arch")" = arm64 ]
  runfctl image import --platform linux/amd64 --name amd:1 "$TEST_DIR/multi" >/dev/null
  runfctl image unpack amd:1 "$TEST_DIR/c" >/dev/null
  [ "$(cat "$TEST_DIR/c/rootfs/arch")" = amd64 ]
}

@test "skopeo's docker-archive and oci-archive of a local layout import to the same image" {
  skopeo --insecure-policy copy -q "oci:$TEST_DIR/layout:v1" "docker-archive:$TEST_DIR/d.tar:skopeo/busybox:1"
  skopeo --insecure-policy copy -q "oci:$TEST_DIR/layout:v1" "oci-archive:$TEST_DIR/o.tar:skopeo/busybox:2"
  # and back: skopeo reads what it wrote as docker-archive into a layout
  skopeo --insecure-policy copy -q "docker-archive:$TEST_DIR/d.tar" "oci:$TEST_DIR/back:3"
  run runfctl image import "$TEST_DIR/d.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == "imported docker.io/skopeo/busybox:1 "* ]]
  run runfctl image import "$TEST_DIR/o.tar"
  [ "$status" -eq 0 ]
  [[ "$output" == "imported docker.io/skopeo/busybox:2 "* ]]
  run runfctl image import "$TEST_DIR/back"
  [ "$status" -eq 0 ]
  for ref in skopeo/busybox:1 skopeo/busybox:2 localhost/back:3; do
    rm -rf "$TEST_DIR/u"
    runfctl image unpack "$ref" "$TEST_DIR/u" >/dev/null
    [ "$(jq -c .process.args "$TEST_DIR/u/config.json")" = '["/bin/echo","hi"]' ]
    cmp "$TEST_DIR/u/rootfs/bin/busybox" "$FIXTURE_ROOTFS/bin/busybox"
  done
}
