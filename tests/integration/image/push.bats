#!/usr/bin/env bats
# runfctl image push, login, logout, tag and inspect --remote, against
# Debian's docker-registry on 127.0.0.1 (open, and behind htpasswd basic
# auth), with skopeo as the other side: it must see what runfctl pushed,
# and read the auth files runfctl writes (and the other way round).

load image_helpers

setup() {
  setup_image_test
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Cmd": ["/bin/echo", "pushed"]}'
  runfctl image import "$TEST_DIR/layout" >/dev/null
  DIGEST=$(jq -r '.manifests[0].digest' "$TEST_DIR/layout/index.json")
  # The machine's own auth files are never read: each test names its own.
  export REGISTRY_AUTH_FILE=$TEST_DIR/auth.json
  export XDG_RUNTIME_DIR=$TEST_DIR/run HOME=$TEST_DIR/home
  unset DOCKER_CONFIG XDG_CONFIG_HOME
  mkdir -p "$TEST_DIR/run" "$TEST_DIR/home"
}
teardown() { teardown_image_test; }

@test "push, then pull back into another store: the same digest, and skopeo sees it" {
  start_registry
  run runfctl image push localhost/layout:v1 "$REGISTRY/t/bb:1"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "pushed $REGISTRY/t/bb:1 $DIGEST" ]
  [[ "$output" == *"layer 1 (sha256:"*"): pushed "* ]]
  [ "$(skopeo inspect --tls-verify=false "docker://$REGISTRY/t/bb:1" | jq -r .Digest)" = "$DIGEST" ]
  run "$RUNFCTL_BIN" --store "$TEST_DIR/store2" image pull "$REGISTRY/t/bb:1"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "pulled $REGISTRY/t/bb:1 $DIGEST" ]
  "$RUNFCTL_BIN" --store "$TEST_DIR/store2" image unpack "$REGISTRY/t/bb:1" "$TEST_DIR/b" >/dev/null
  cd "$TEST_DIR/b"
  run "$RUNF_BIN" --root "$STATE_ROOT" run c1
  [ "$output" = pushed ]
  # Again, under another tag: the registry has every blob.
  run runfctl image push localhost/layout:v1 "$REGISTRY/t/bb:2"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'already in the registry' <<<"$output")" -eq 2 ]
  [ "$(grep -c '): pushed \|config: pushed' <<<"$output")" -eq 0 ]
  run runfctl image push -q localhost/layout:v1 "docker://$REGISTRY/t/bb:3"
  [ "$output" = "$DIGEST" ]
  [ "$(skopeo inspect --tls-verify=false "docker://$REGISTRY/t/bb:3" | jq -r .Digest)" = "$DIGEST" ]
}

@test "push under the image's own name, or by digest; what cannot be pushed" {
  start_registry
  runfctl image tag localhost/layout:v1 "$REGISTRY/own/name:7" >/dev/null
  run runfctl image push "$REGISTRY/own/name:7"
  [ "$status" -eq 0 ]
  [ "${lines[-1]}" = "pushed $REGISTRY/own/name:7 $DIGEST" ]
  run runfctl image push localhost/layout:v1 "$REGISTRY/own/name@$DIGEST"
  [ "$status" -eq 0 ]
  [ "$(skopeo inspect --tls-verify=false "docker://$REGISTRY/own/name@$DIGEST" | jq -r .Digest)" = "$DIGEST" ]
  expect_failure "image \`nope:1\` is not in the store" image push nope:1 "$REGISTRY/x:1"
  expect_failure "invalid repository name" image push localhost/layout:v1 "$REGISTRY/UPPER:1"
  expect_failure "the image is $DIGEST, not sha256:$(printf '0%.0s' $(seq 64))" \
    image push localhost/layout:v1 "$REGISTRY/x@sha256:$(printf '0%.0s' $(seq 64))"
  expect_failure "image push: unexpected argument \`c\`" image push a b c
  expect_failure "Couldn't connect to server" image push --retries 0 localhost/layout:v1 "127.0.0.1:$(free_port)/x:1"
}

@test "a corrupt blob in the store is not pushed" {
  start_registry
  layer=$(jq -r '.layers[0].digest' "$TEST_DIR/layout/blobs/sha256/${DIGEST#sha256:}")
  printf X | dd of="$STORE/blobs/sha256/${layer#sha256:}" bs=1 seek=100 conv=notrunc 2>/dev/null
  expect_failure "in the store is corrupt" image push localhost/layout:v1 "$REGISTRY/t/bad:1"
  run skopeo inspect --tls-verify=false "docker://$REGISTRY/t/bad:1"
  [ "$status" -ne 0 ]
}

@test "htpasswd: push needs credentials; login checks them and keeps them where skopeo reads them; logout" {
  start_registry auth
  expect_failure "401 Unauthorized: the registry wants a user and password" \
    image push localhost/layout:v1 "$REGISTRY/p/img:1"
  run --separate-stderr "$RUNFCTL_BIN" image login -u alice --password-stdin "$REGISTRY" <<<wrong
  [ "$status" -ne 0 ]
  [ "${#stderr_lines[@]}" -eq 1 ]
  [[ "$stderr" == *"image login: \`$REGISTRY\`: /v2/: 401 Unauthorized"*"the registry refused the credentials" ]]
  [ ! -e "$TEST_DIR/auth.json" ]
  run "$RUNFCTL_BIN" image login -u alice --password-stdin "$REGISTRY" <<<secret
  [ "$status" -eq 0 ]
  [ "$output" = "Login Succeeded: $REGISTRY (in $TEST_DIR/auth.json)" ]
  [ "$(stat -c %a "$TEST_DIR/auth.json")" = 600 ]
  [ "$(jq -r --arg r "$REGISTRY" '.auths[$r].auth' "$TEST_DIR/auth.json" | base64 -d)" = alice:secret ]
  run runfctl image push localhost/layout:v1 "$REGISTRY/p/img:1"
  [ "$status" -eq 0 ]
  [ "$(skopeo inspect --authfile "$TEST_DIR/auth.json" --tls-verify=false "docker://$REGISTRY/p/img:1" | jq -r .Digest)" = "$DIGEST" ]
  run runfctl image inspect --remote "$REGISTRY/p/img:1"
  [ "$(jq -r .digest <<<"$output")" = "$DIGEST" ]
  run "$RUNFCTL_BIN" image logout "$REGISTRY"
  [ "$output" = "Removed login credentials for $REGISTRY (from $TEST_DIR/auth.json)" ]
  [ "$(jq -r '.auths | length' "$TEST_DIR/auth.json")" = 0 ]
  expect_failure "401 Unauthorized" image push localhost/layout:v1 "$REGISTRY/p/img:2"
  expect_failure "image logout: not logged in to \`$REGISTRY\`" image logout "$REGISTRY"
  # What skopeo login writes, runfctl reads.
  skopeo login --authfile "$TEST_DIR/sk.json" --tls-verify=false -u alice -p secret "$REGISTRY" >/dev/null
  run runfctl image push --authfile "$TEST_DIR/sk.json" localhost/layout:v1 "$REGISTRY/p/img:3"
  [ "$status" -eq 0 ]
}

@test "login's files: podman's by default, docker's with --docker (keeping its other settings)" {
  start_registry auth
  unset REGISTRY_AUTH_FILE
  mkdir -p "$TEST_DIR/home/.docker"
  echo '{"auths": {}, "credHelpers": {"example.com": "none"}, "HttpHeaders": {"X-A": "b"}}' \
    >"$TEST_DIR/home/.docker/config.json"
  run "$RUNFCTL_BIN" image login -u alice -p secret "http://$REGISTRY/v2/"
  [ "$status" -eq 0 ]
  [ "$output" = "Login Succeeded: $REGISTRY (in $TEST_DIR/run/containers/auth.json)" ]
  [ "$(stat -c %a "$TEST_DIR/run/containers")" = 700 ]
  runfctl image push localhost/layout:v1 "$REGISTRY/d/one:1" >/dev/null
  "$RUNFCTL_BIN" image logout "$REGISTRY" >/dev/null
  run "$RUNFCTL_BIN" image login --docker -u alice -p secret "$REGISTRY"
  [ "$output" = "Login Succeeded: $REGISTRY (in $TEST_DIR/home/.docker/config.json)" ]
  cfg=$TEST_DIR/home/.docker/config.json
  [ "$(jq -r '.HttpHeaders["X-A"] + " " + .credHelpers["example.com"]' "$cfg")" = "b none" ]
  [ "$(jq -r --arg r "$REGISTRY" '.auths[$r].auth' "$cfg" | base64 -d)" = alice:secret ]
  [ "$(stat -c %a "$cfg")" = 600 ]
  # docker's file is read when podman's has nothing.
  runfctl image push localhost/layout:v1 "$REGISTRY/d/two:1" >/dev/null
  expect_failure "the credentials are in $cfg (add --docker)" image logout "$REGISTRY"
  "$RUNFCTL_BIN" image logout --docker "$REGISTRY" >/dev/null
  [ "$(jq -r '.auths | length' "$cfg")" = 0 ]
  [ "$(jq -r '.HttpHeaders["X-A"]' "$cfg")" = b ]
  # --all empties a file.
  "$RUNFCTL_BIN" image login -u alice -p secret "$REGISTRY" >/dev/null
  "$RUNFCTL_BIN" image login -u alice -p secret "$REGISTRY/d" >/dev/null
  [ "$(jq -r '.auths | length' "$TEST_DIR/run/containers/auth.json")" = 2 ]
  run "$RUNFCTL_BIN" image logout --all
  [ "$(jq -r '.auths | length' "$TEST_DIR/run/containers/auth.json")" = 0 ]
}

@test "login: bad input is one line and writes nothing" {
  start_registry auth
  expect_failure "registry \`nodots\`: expected a host with a dot or a port" image login -u a -p b nodots
  expect_failure "registry \`$REGISTRY/x:tag\`" image login -u a -p b "$REGISTRY/x:tag"
  expect_failure "--password and --password-stdin: give one" image login -u a -p b --password-stdin "$REGISTRY" </dev/null
  expect_failure "the password is empty" image login -u alice --password-stdin "$REGISTRY" </dev/null
  expect_failure "no terminal to ask for the Username" image login "$REGISTRY" </dev/null
  expect_failure "Couldn't connect to server" image login --retries 0 -u a -p b "127.0.0.1:$(free_port)"
  echo 'not json' >"$TEST_DIR/auth.json"
  expect_failure "auth file" image login -u alice -p secret "$REGISTRY"
  [ "$(cat "$TEST_DIR/auth.json")" = "not json" ]
  [ ! -e "$TEST_DIR/run/containers" ]
}

@test "inspect --remote: manifest and config without a layer; --raw is the registry's bytes; an index" {
  start_registry
  push "$TEST_DIR/layout:v1" t/r:1
  run runfctl image inspect --remote "$REGISTRY/t/r:1"
  [ "$status" -eq 0 ]
  [ "$(jq -r .digest <<<"$output")" = "$DIGEST" ]
  [ "$(jq -r .name <<<"$output")" = "$REGISTRY/t/r:1" ]
  [ "$(jq -r '.config.Cmd | join(" ")' <<<"$output")" = "/bin/echo pushed" ]
  [ "$(jq -r '.layers | length' <<<"$output")" = 1 ]
  [ "$(jq -r '.diffIds | length' <<<"$output")" = 1 ]
  run runfctl image inspect --raw "docker://$REGISTRY/t/r:1"
  [ "$output" = "$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/t/r:1")" ]
  # Nothing was stored, not even the config: the store holds what setup imported.
  [ "$(ls "$STORE/blobs/sha256" | wc -l)" -eq 3 ]
  write_entries "$TEST_DIR/arm.json" '[{"name": "arch", "data": "arm64"}]'
  write_entries "$TEST_DIR/amd.json" '[{"name": "arch", "data": "amd64"}]'
  mkimage oci "$TEST_DIR/parts" --tag arm --platform linux/arm64 --layer "$TEST_DIR/arm.json" >/dev/null
  mkimage oci "$TEST_DIR/parts" --tag amd --platform linux/amd64 --layer "$TEST_DIR/amd.json" >/dev/null
  mkimage index "$TEST_DIR/multi" --tag 1 "linux/arm64/v8=$TEST_DIR/parts:arm" "linux/amd64=$TEST_DIR/parts:amd" >/dev/null
  push "$TEST_DIR/multi:1" m/app:1 --all
  run runfctl image inspect --remote --platform linux/arm64 "$REGISTRY/m/app:1"
  [ "$status" -eq 0 ]
  [ "$(jq -r .platform <<<"$output")" = linux/arm64 ]
  [ "$(jq -r '.index.platforms | join(",")' <<<"$output")" = "linux/arm64/v8,linux/amd64" ]
  [ "$(jq -r .index.digest <<<"$output")" = "$(skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/m/app:1" | sha256sum | sed 's/ .*//; s/^/sha256:/')" ]
  expect_failure "manifest \`nope\`: 404 Not Found (MANIFEST_UNKNOWN" image inspect --remote "$REGISTRY/t/r:nope"
  expect_failure "no manifest for platform linux/riscv64" image inspect --remote --platform linux/riscv64 "$REGISTRY/m/app:1"
  expect_failure "need --remote" image inspect --raw localhost/layout:v1
}

@test "tag: more names for an image; bad names change nothing" {
  run runfctl image tag localhost/layout:v1 a/b:c other:1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "tagged docker.io/a/b:c $DIGEST" ]
  [ "${lines[1]}" = "tagged docker.io/library/other:1 $DIGEST" ]
  [ "$(runfctl image ls --json | jq -r '[.[] | select(.digest == "'"$DIGEST"'") | .name] | sort | join(" ")')" = \
    "docker.io/a/b:c docker.io/library/other:1 localhost/layout:v1" ]
  expect_failure "invalid tag" image tag localhost/layout:v1 ok:1 x:-bad
  expect_failure "a name takes a tag, not a digest" image tag localhost/layout:v1 "x@$DIGEST"
  expect_failure "image \`nope:1\` is not in the store" image tag nope:1 x:1
  expect_failure "image tag: missing NAME" image tag localhost/layout:v1
  run runfctl image ls --json
  [ "$(jq length <<<"$output")" = 3 ]
}

@test "login to a registry that wants Bearer tokens: the token server checks the credentials" {
  start_fake_registry token "$TEST_DIR/layout"
  expect_failure "token from the registry's auth server: 401 Unauthorized" image login --retries 0 -u alice -p wrong "$FAKE"
  [ ! -e "$TEST_DIR/auth.json" ]
  run "$RUNFCTL_BIN" image login -u alice -p secret "$FAKE"
  [ "$status" -eq 0 ]
  grep -q "GET /token?service=fake" "$TEST_DIR/fake.log"
  # The kept credentials get the token for an inspect, then for a pull.
  run runfctl image inspect --remote "$FAKE/x:v1"
  [ "$(jq -r .digest <<<"$output")" = "$DIGEST" ]
  run "$RUNFCTL_BIN" --store "$TEST_DIR/store2" image pull "$FAKE/x:v1"
  [ "${lines[-1]}" = "pulled $FAKE/x:v1 $DIGEST" ]
}
