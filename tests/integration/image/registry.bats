#!/usr/bin/env bats
# runfctl image pull from registries on 127.0.0.1: Debian's docker-registry
# (anonymous and with htpasswd basic auth, images pushed by skopeo), and a
# fake registry for Bearer tokens, errors, retries and hangs.

load image_helpers

setup() {
  setup_image_test
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Cmd": ["/bin/echo", "pulled"]}'
}
teardown() { teardown_image_test; }

@test "pull from a local registry, unpack, run: the same digest as skopeo sees" {
  start_registry
  push "$TEST_DIR/layout:v1" test/busybox:v1
  run runfctl image pull "$REGISTRY/test/busybox:v1"
  [ "$status" -eq 0 ]
  want=$(skopeo inspect --tls-verify=false "docker://$REGISTRY/test/busybox:v1" | jq -r .Digest)
  [ "${lines[-1]}" = "pulled $REGISTRY/test/busybox:v1 $want" ]
  runfctl image unpack "$REGISTRY/test/busybox:v1" "$TEST_DIR/b" >/dev/null
  cd "$TEST_DIR/b"
  run "$RUNF_BIN" --root "$STATE_ROOT" run c1
  [ "$output" = pulled ]
  # By digest, too.
  run runfctl image pull --tls-verify=false "$REGISTRY/test/busybox@$want"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "pulled $REGISTRY/test/busybox@$want $want" ]]
}

@test "blobs already in the store are not fetched again" {
  start_registry
  write_entries "$TEST_DIR/more.json" '[{"name": "more", "data": "m"}]'
  mkimage oci "$TEST_DIR/layout" --tag v2 --layer "$FIXTURE_ROOTFS" --layer "$TEST_DIR/more.json" >/dev/null
  push "$TEST_DIR/layout:v1" t/a:1
  push "$TEST_DIR/layout:v2" t/a:2
  run runfctl image pull "$REGISTRY/t/a:1"
  [ "$(grep -c fetched <<<"$output")" -eq 2 ]
  run runfctl image pull "$REGISTRY/t/a:2"
  [ "$status" -eq 0 ]
  # config and the new layer only
  [ "$(grep -c fetched <<<"$output")" -eq 2 ]
  [[ "$output" == *"layer 2 ("*"fetched"* ]]
  [[ "$output" != *"layer 1 ("* ]]
  run runfctl image pull "$REGISTRY/t/a:2"
  [ "$(grep -c fetched <<<"$output")" -eq 0 ]
}

@test "basic auth: refused without credentials, with wrong ones; --creds, --authfile and the default auth files work" {
  start_registry auth
  skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds alice:secret \
    "oci:$TEST_DIR/layout:v1" "docker://$REGISTRY/p/img:1"
  expect_failure "401 Unauthorized: the registry wants a user and password" image pull "$REGISTRY/p/img:1"
  expect_failure "the registry refused the credentials" image pull --creds alice:wrong "$REGISTRY/p/img:1"
  run runfctl image pull --creds alice:secret "$REGISTRY/p/img:1"
  [ "$status" -eq 0 ]
  runfctl image rm "$REGISTRY/p/img:1" >/dev/null
  runfctl image prune >/dev/null
  auth=$(printf alice:secret | base64)
  echo '{"auths": {"'"$REGISTRY"'": {"auth": "'"$auth"'"}}}' >"$TEST_DIR/auth.json"
  runfctl image pull --authfile "$TEST_DIR/auth.json" "$REGISTRY/p/img:1" >/dev/null
  runfctl image rm "$REGISTRY/p/img:1" >/dev/null
  mkdir -p "$TEST_DIR/run/containers" "$TEST_DIR/home/.docker"
  cp "$TEST_DIR/auth.json" "$TEST_DIR/run/containers/auth.json"
  XDG_RUNTIME_DIR=$TEST_DIR/run runfctl image pull "$REGISTRY/p/img:1" >/dev/null
  echo '{"auths": {"http://'"$REGISTRY"'/v2/": {"auth": "'"$auth"'"}}}' >"$TEST_DIR/home/.docker/config.json"
  HOME=$TEST_DIR/home XDG_RUNTIME_DIR=/nonexistent runfctl image pull "$REGISTRY/p/img:1" >/dev/null
}

@test "a multi-platform index: the host's platform by default, or --platform" {
  start_registry
  write_entries "$TEST_DIR/arm.json" '[{"name": "arch", "data": "arm64"}]'
  write_entries "$TEST_DIR/amd.json" '[{"name": "arch", "data": "amd64"}]'
  mkimage oci "$TEST_DIR/parts" --tag arm --platform linux/arm64 --layer "$TEST_DIR/arm.json" >/dev/null
  mkimage oci "$TEST_DIR/parts" --tag amd --platform linux/amd64 --layer "$TEST_DIR/amd.json" >/dev/null
  mkimage index "$TEST_DIR/multi" --tag 1 "linux/arm64/v8=$TEST_DIR/parts:arm" "linux/amd64=$TEST_DIR/parts:amd" >/dev/null
  push "$TEST_DIR/multi:1" m/app:1 --all
  runfctl image pull "$REGISTRY/m/app:1" >/dev/null
  runfctl image unpack "$REGISTRY/m/app:1" "$TEST_DIR/a" >/dev/null
  [ "$(cat "$TEST_DIR/a/rootfs/arch")" = amd64 ]
  runfctl image pull --platform linux/arm64 "$REGISTRY/m/app:1" >/dev/null
  runfctl image unpack "$REGISTRY/m/app:1" "$TEST_DIR/b" >/dev/null
  [ "$(cat "$TEST_DIR/b/rootfs/arch")" = arm64 ]
  expect_failure "no manifest for platform linux/riscv64 (the image has linux/arm64/v8, linux/amd64)" \
    image pull --platform linux/riscv64 "$REGISTRY/m/app:1"
  # The same as a Docker manifest list of Docker schema 2 manifests.
  push "$TEST_DIR/multi:1" m/list:1 --all --format v2s2
  runfctl image pull --platform linux/arm64/v8 "$REGISTRY/m/list:1" >/dev/null
  run runfctl image inspect "$REGISTRY/m/list:1"
  [ "$(echo "$output" | jq -r .mediaType)" = application/vnd.docker.distribution.manifest.v2+json ]
  runfctl image unpack "$REGISTRY/m/list:1" "$TEST_DIR/c" >/dev/null
  [ "$(cat "$TEST_DIR/c/rootfs/arch")" = arm64 ]
}

@test "404: an unknown tag or repository" {
  start_registry
  push "$TEST_DIR/layout:v1" test/busybox:v1
  expect_failure "manifest \`nope\`: 404 Not Found (MANIFEST_UNKNOWN" image pull "$REGISTRY/test/busybox:nope"
  expect_failure "404 Not Found" image pull "$REGISTRY/no/such:v1"
}

@test "Bearer tokens: anonymous is refused, credentials get a token" {
  start_fake_registry token "$TEST_DIR/layout"
  expect_failure "token from the registry's auth server: 401 Unauthorized" image pull --retries 0 "$FAKE/x:v1"
  run runfctl image pull --creds alice:secret "$FAKE/x:v1"
  [ "$status" -eq 0 ]
  grep -q "GET /token?service=fake&scope=repository%3Ax%3Apull" "$TEST_DIR/fake.log"
}

@test "500 and 429 are retried, then reported" {
  start_fake_registry status:500 "$TEST_DIR/layout"
  expect_failure "manifest \`v1\`: 500 Internal Server Error (NOPE: status 500 on purpose)" image pull --retries 2 "$FAKE/x:v1"
  [ "$(grep -c 'GET /v2/x/manifests/v1' "$TEST_DIR/fake.log")" -eq 3 ]
  kill "${REGISTRY_PIDS##* }"
  start_fake_registry status:429 "$TEST_DIR/layout"
  expect_failure "429 Too Many Requests" image pull --retries 1 "$FAKE/x:v1"
}

@test "a registry that fails a few times is pulled from after retries" {
  start_fake_registry flaky:3 "$TEST_DIR/layout"
  run runfctl image pull --retries 4 "$FAKE/x:v1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"503 Service Unavailable"*"retrying"* ]] || [ "$(grep -c GET "$TEST_DIR/fake.log")" -gt 3 ]
  runfctl image inspect "$FAKE/x:v1" >/dev/null
}

@test "a registry that hangs times out" {
  start_fake_registry hang "$TEST_DIR/layout"
  expect_failure "no answer from $FAKE for 1 s (--timeout)" image pull --timeout 1 --retries 1 "$FAKE/x:v1"
  [ "$(grep -c GET "$TEST_DIR/fake.log")" -eq 2 ]
}

@test "a blob that does not match its digest, and a registry that is not there" {
  start_fake_registry corrupt "$TEST_DIR/layout"
  expect_failure "digest mismatch" image pull "$FAKE/x:v1"
  expect_failure "Couldn't connect to server" image pull --retries 0 "127.0.0.1:$(free_port)/x:v1"
}

@test "pull --verify refuses a layer that does not decompress; a plain pull leaves that to unpack" {
  head -c 20000 /dev/urandom >"$TEST_DIR/noise"
  gzip -c "$TEST_DIR/noise" | head -c 5000 >"$TEST_DIR/cut.gz"
  mkimage oci "$TEST_DIR/bad" --tag v1 --layer "raw:$TEST_DIR/cut.gz" >/dev/null
  start_fake_registry ok "$TEST_DIR/bad"
  expect_failure "layer 1 (sha256:" image pull --verify "$FAKE/x:v1"
  runfctl image pull "$FAKE/x:v1" >/dev/null
  expect_failure "layer 1 (sha256:" image unpack "$FAKE/x:v1" "$TEST_DIR/out"
  [ ! -e "$TEST_DIR/out" ]
}
