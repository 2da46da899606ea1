#!/usr/bin/env bats
# Bad input: one line "runfctl: <what>: <why>" on stderr, a non-zero exit,
# and the store exactly as it was (expect_failure checks all three).
# Layers that are bad inside are refused when they are read: by import
# --verify (and pull --verify), else by the unpack or bundle that reads
# them (expect_bad_layers checks both).

load image_helpers

setup() {
  setup_image_test
  # A store that already holds an image, so "as before" means something.
  busybox_layout "$TEST_DIR/good" v1 --config '{"Cmd": ["sh"]}'
  runfctl image import "$TEST_DIR/good" >/dev/null
}
teardown() { teardown_image_test; }

layout_with() { # entries-json [more mkimage options]
  write_entries "$TEST_DIR/bad.json" "$1"
  shift
  mkimage oci "$TEST_DIR/bad" --tag t --layer "$TEST_DIR/bad.json" "$@" >/dev/null
}

# A layer that is bad inside: refused by import --verify, and, when stored
# without that, by unpack and bundle, which leave nothing behind.
expect_bad_layers() { # layout want
  local ref
  ref=localhost/$(basename "$1"):t
  expect_failure "$2" image import --verify "$1"
  runfctl image import "$1" >/dev/null
  expect_failure "$2" image unpack "$ref" "$TEST_DIR/out"
  [ ! -e "$TEST_DIR/out" ]
  expect_failure "$2" image bundle "$ref" "$TEST_DIR/out"
  [ ! -e "$TEST_DIR/out" ]
  [ -z "$(ls -A "$STORE/rootfs")" ]
}

layer_blob() { # layout: the path of its first layer's blob
  local m
  m=$(jq -r '.manifests[0].digest' "$1/index.json")
  echo "$1/blobs/sha256/$(jq -r '.layers[0].digest' "$1/blobs/sha256/${m#sha256:}" | cut -d: -f2)"
}

@test "a corrupt gzip layer" {
  layout_with '[{"name": "f", "data": "'"$(head -c 3000 /dev/urandom | base64 -w0)"'"}]'
  blob=$(layer_blob "$TEST_DIR/bad")
  gzip -dc "$blob" >"$TEST_DIR/layer.tar"
  gzip -c "$TEST_DIR/layer.tar" >"$TEST_DIR/corrupt.gz"
  printf 'garbage!garbage!' | dd of="$TEST_DIR/corrupt.gz" bs=1 seek=100 conv=notrunc 2>/dev/null
  mkimage oci "$TEST_DIR/c" --tag t --layer "raw:$TEST_DIR/corrupt.gz" >/dev/null
  expect_bad_layers "$TEST_DIR/c" "layer 1 (sha256:"
}

@test "a truncated tar" {
  layout_with '[{"name": "f", "data": "'"$(head -c 3000 /dev/urandom | base64 -w0)"'"}]' --compress none
  head -c 2000 "$(layer_blob "$TEST_DIR/bad")" >"$TEST_DIR/short.tar"
  mkimage oci "$TEST_DIR/c" --tag t --compress none --layer "raw:$TEST_DIR/short.tar" >/dev/null
  expect_bad_layers "$TEST_DIR/c" "Truncated"
}

@test "a blob whose digest does not match" {
  layout_with '[{"name": "f", "data": "x"}]'
  blob=$(layer_blob "$TEST_DIR/bad")
  printf 'X' | dd of="$blob" bs=1 seek=40 conv=notrunc 2>/dev/null
  expect_failure "digest mismatch" image import "$TEST_DIR/bad"
  tar -C "$TEST_DIR/bad" -cf "$TEST_DIR/bad.tar" .
  expect_failure "digest mismatch" image import "$TEST_DIR/bad.tar"
}

@test "a layer that does not match the config's diff_id" {
  layout_with '[{"name": "f", "data": "x"}]' --compress none
  # raw: layers claim their own digest as diff_id, which a gzip layer's
  # uncompressed bytes do not hash to.
  gzip -c "$(layer_blob "$TEST_DIR/bad")" >"$TEST_DIR/l.tar.gz"
  mkimage oci "$TEST_DIR/d" --tag t --layer "raw:$TEST_DIR/l.tar.gz" --media-type application/vnd.oci.image.layer.v1.tar+gzip >/dev/null
  expect_bad_layers "$TEST_DIR/d" "the image config says"
}

@test "a manifest naming a missing blob" {
  layout_with '[{"name": "f", "data": "x"}]'
  rm "$(layer_blob "$TEST_DIR/bad")"
  expect_failure "is missing" image import "$TEST_DIR/bad"
  tar -C "$TEST_DIR/bad" -cf "$TEST_DIR/bad.tar" .
  expect_failure "is missing" image import "$TEST_DIR/bad.tar"
}

@test "an unknown media type" {
  layout_with '[{"name": "f", "data": "x"}]' --media-type application/x-not-a-layer
  expect_failure "layers[0].mediaType: unknown media type \`application/x-not-a-layer\`" image import "$TEST_DIR/bad"
}

@test "no manifest for the platform" {
  write_entries "$TEST_DIR/arm.json" '[{"name": "a", "data": "a"}]'
  mkimage oci "$TEST_DIR/parts" --tag arm --platform linux/arm64 --layer "$TEST_DIR/arm.json" >/dev/null
  mkimage index "$TEST_DIR/multi" --tag 1 "linux/arm64=$TEST_DIR/parts:arm" >/dev/null
  expect_failure "no manifest for platform linux/s390x (the image has linux/arm64)" \
    image import --platform linux/s390x "$TEST_DIR/multi"
}

@test "a tar entry ../../etc/passwd" {
  layout_with '[{"name": "../../etc/passwd", "data": "root::0:0::/:/bin/sh"}]'
  expect_bad_layers "$TEST_DIR/bad" "entry \`../../etc/passwd\`: \`..\` component"
}

@test "an absolute path" {
  layout_with '[{"name": "/etc/passwd", "data": "x"}]'
  expect_bad_layers "$TEST_DIR/bad" "entry \`/etc/passwd\`: absolute path"
}

@test "a symlink, then a file through it (one layer, and across layers)" {
  mkdir "$TEST_DIR/outside"
  layout_with '[{"name": "evil", "type": "symlink", "target": "'"$TEST_DIR/outside"'"},
                {"name": "evil/owned", "data": "x"}]'
  expect_bad_layers "$TEST_DIR/bad" "entry \`evil/owned\`: goes through the symlink \`evil\`"
  write_entries "$TEST_DIR/l1.json" '[{"name": "up", "type": "symlink", "target": "../../../../.."}]'
  write_entries "$TEST_DIR/l2.json" '[{"name": "up/tmp/owned", "data": "x"}]'
  mkimage oci "$TEST_DIR/two" --tag t --layer "$TEST_DIR/l1.json" --layer "$TEST_DIR/l2.json" >/dev/null
  expect_bad_layers "$TEST_DIR/two" "goes through the symlink \`up\`"
  [ -z "$(ls -A "$TEST_DIR/outside")" ]
}

@test "archives that are neither format, and broken docker save archives" {
  echo "not a tar" >"$TEST_DIR/junk"
  expect_failure "\`$TEST_DIR/junk\`: archive:" image import "$TEST_DIR/junk"
  tar -C "$TEST_DIR" -cf "$TEST_DIR/empty.tar" good/oci-layout
  expect_failure "neither a docker save archive (manifest.json) nor an OCI layout (index.json)" \
    image import "$TEST_DIR/empty.tar"
  mkimage docker-save "$TEST_DIR/save.tar" "$TEST_DIR/good:v1=busybox:1"
  mkdir "$TEST_DIR/x" && tar -C "$TEST_DIR/x" -xf "$TEST_DIR/save.tar"
  jq '.[0].RepoTags = ["UPPER/case"]' "$TEST_DIR/x/manifest.json" >"$TEST_DIR/m" && mv "$TEST_DIR/m" "$TEST_DIR/x/manifest.json"
  tar -C "$TEST_DIR/x" -cf "$TEST_DIR/badtag.tar" .
  expect_failure "RepoTags[0]" image import "$TEST_DIR/badtag.tar"
  expect_failure "No such file or directory" image import "$TEST_DIR/missing.tar"
}

@test "command-line mistakes" {
  expect_failure "unknown command \`frobnicate\`" frobnicate
  expect_failure "image: unknown command \`frob\`" image frob
  expect_failure "image import: unknown option \`--bogus\`" image import --bogus x
  expect_failure "image import: missing FILE" image import
  expect_failure "image pull: --platform needs a value" image pull --platform
  expect_failure "--platform \`linux\`: expected os/arch[/variant]" image pull --platform linux x
  expect_failure "--creds: expected USER:PASSWORD" image pull --creds nocolon x
  expect_failure "reference \`UPPER\`: invalid repository name" image pull UPPER
  expect_failure "image \`nothing:here\` is not in the store" image inspect nothing:here
  expect_failure "image \`nothing:here\` is not in the store" image rm localhost/good:v1 nothing:here
  expect_failure "image \`nothing:here\` is not in the store" image unpack nothing:here "$TEST_DIR/b"
  [ ! -e "$TEST_DIR/b" ]
  mkdir -p "$TEST_DIR/b/rootfs"
  expect_failure "\`$TEST_DIR/b/rootfs\` exists; remove it first" image unpack localhost/good:v1 "$TEST_DIR/b"
}

@test "a failed unpack leaves no rootfs and no bundle directory" {
  write_entries "$TEST_DIR/l1.json" '[{"name": "f", "data": "x"}]'
  mkimage oci "$TEST_DIR/lay" --tag t --layer "$TEST_DIR/l1.json" --config '{"User": "ghost"}' >/dev/null
  runfctl image import "$TEST_DIR/lay" >/dev/null
  expect_failure "config.User \`ghost\`: no such user" image unpack localhost/lay:t "$TEST_DIR/b"
  [ ! -e "$TEST_DIR/b" ]
  mkdir "$TEST_DIR/b2"
  expect_failure "no such user" image unpack localhost/lay:t "$TEST_DIR/b2"
  [ -z "$(ls -A "$TEST_DIR/b2")" ]
}
