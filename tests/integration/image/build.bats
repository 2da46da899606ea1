#!/usr/bin/env bats
# runfctl image build (a base image of the store plus a directory as a new
# layer, no daemon) and runfctl fn new (templates), checked by unpacking
# the result and running it with runf, handed a socket as runfd would
# (tests/helpers/sockserve.c), and by reading the layer with other tools.

load image_helpers
load ../faas-extras/faas_helpers

setup() {
  setup_image_test
  HANDLER_PID=""
  busybox_layout "$TEST_DIR/layout" v1 --config '{"Env": ["PATH=/bin:/usr/bin", "KEEP=base"]}'
  runfctl image import "$TEST_DIR/layout" >/dev/null
}

teardown() {
  [ -n "${HANDLER_PID:-}" ] && kill -KILL -- "-$HANDLER_PID" 2>/dev/null || true
  teardown_image_test
}

# Unpack image $1 into $TEST_DIR/$2 as the bundle runf runs; cd there.
bundle_of() {
  runfctl image unpack "$1" "$TEST_DIR/$2" >/dev/null
  BUNDLE=$TEST_DIR/$2
  if is_root; then
    update_config --arg p "/runf-tests/${TEST_DIR##*/}-$2" '.linux.cgroupsPath = $p'
  fi
  cd "$BUNDLE"
}

blob() { # digest
  echo "$STORE/blobs/sha256/${1#sha256:}"
}

@test "build on busybox: a gzip'd tar layer with the right digests, the config set, and it runs" {
  mkdir -p "$TEST_DIR/app/sub"
  printf '#!/bin/sh\necho "hello from $GREETING and $KEEP in $(pwd)"\n' >"$TEST_DIR/app/run.sh"
  chmod 755 "$TEST_DIR/app/run.sh"
  echo data >"$TEST_DIR/app/sub/d"
  ln "$TEST_DIR/app/sub/d" "$TEST_DIR/app/sub/hard"
  ln -s run.sh "$TEST_DIR/app/link"
  run runfctl image build -t app:1 --from localhost/layout:v1 --dest /srv/app --workdir /srv/app \
    --cmd /srv/app/run.sh -e GREETING=world -e PATH=/bin --label team=fn "$TEST_DIR/app"
  [ "$status" -eq 0 ]
  [[ "${lines[-1]}" == "built docker.io/library/app:1 sha256:"* ]]
  digest=${lines[-1]##* }
  run runfctl image inspect app:1
  doc=$output
  [ "$(jq -r .digest <<<"$doc")" = "$digest" ]
  [ "$(jq -r '.layers | length' <<<"$doc")" = 2 ]
  [ "$(jq -r '.layers[0].digest' <<<"$doc")" = "$(runfctl image inspect localhost/layout:v1 | jq -r '.layers[0].digest')" ]
  [ "$(jq -r '.layers[1].mediaType' <<<"$doc")" = application/vnd.oci.image.layer.v1.tar+gzip ]
  layer=$(jq -r '.layers[1].digest' <<<"$doc")
  # The blob is gzip, hashes to its digest; its tar to the config's diff_id.
  [ "$(head -c2 "$(blob "$layer")" | od -An -tx1 | tr -d ' ')" = 1f8b ]
  [ "sha256:$(sha256sum <"$(blob "$layer")" | cut -d' ' -f1)" = "$layer" ]
  [ "sha256:$(gzip -dc <"$(blob "$layer")" | sha256sum | cut -d' ' -f1)" = "$(jq -r '.diffIds[1]' <<<"$doc")" ]
  [ "$(jq -r '.config.Cmd | join(" ")' <<<"$doc")" = /srv/app/run.sh ]
  [ "$(jq -r '.config.WorkingDir' <<<"$doc")" = /srv/app ]
  [ "$(jq -r '.config.Env | join(" ")' <<<"$doc")" = "PATH=/bin KEEP=base GREETING=world" ]
  [ "$(jq -r '.config.Labels.team' <<<"$doc")" = fn ]
  config=$(jq -r .configDigest <<<"$doc")
  [ "$(jq -r '.history[-1].created_by' "$(blob "$config")")" = "runfctl image build --dest /srv/app" ]
  # GNU tar reads the layer: parents, the tree in name order, the hard link.
  gzip -dc <"$(blob "$layer")" | tar --numeric-owner -tvf - >"$TEST_DIR/listing"
  [ "$(gzip -dc <"$(blob "$layer")" | tar tf - | tr '\n' ' ')" = "srv/ srv/app/ srv/app/link srv/app/run.sh srv/app/sub/ srv/app/sub/d srv/app/sub/hard " ]
  grep -q 'srv/app/sub/hard link to srv/app/sub/d' "$TEST_DIR/listing"
  [ "$(awk '{print $2}' "$TEST_DIR/listing" | sort -u)" = 0/0 ]
  # umoci unpacks it as runfctl does.
  runfctl image save --format oci-dir -o "$TEST_DIR/oci" app:1 >/dev/null
  if is_root; then
    umoci unpack --image "$TEST_DIR/oci:1" "$TEST_DIR/umoci" >/dev/null
  else
    umoci unpack --rootless --image "$TEST_DIR/oci:1" "$TEST_DIR/umoci" >/dev/null
  fi
  bundle_of app:1 b
  diff <(tree_listing "$TEST_DIR/umoci/rootfs") <(tree_listing rootfs)
  run "$RUNF_BIN" --root "$STATE_ROOT" run "b${TEST_DIR##*.}"
  [ "$output" = "hello from world and base in /srv/app" ]
}

@test "SOURCE_DATE_EPOCH: the same directory builds the same digest; scratch; Entrypoint resets Cmd" {
  mkdir -p "$TEST_DIR/bb/bin"
  cp "$FIXTURE_ROOTFS/bin/busybox" "$TEST_DIR/bb/bin/"
  one=$(SOURCE_DATE_EPOCH=1700000000 runfctl image build -q -t s:1 --entrypoint /bin/busybox --cmd echo --cmd from-scratch "$TEST_DIR/bb")
  touch "$TEST_DIR/bb/bin/busybox"
  two=$(SOURCE_DATE_EPOCH=1700000000 runfctl image build -q -t s:2 --entrypoint /bin/busybox --cmd echo --cmd from-scratch "$TEST_DIR/bb")
  [ "$one" = "$two" ]
  [ "$(runfctl image inspect s:1 | jq -r .created)" = 2023-11-14T22:13:20Z ]
  [ "$(runfctl image inspect s:1 | jq -r '.layers | length')" = 1 ]
  [ "$(runfctl image inspect s:1 | jq -r .platform)" = "$(runfctl image inspect localhost/layout:v1 | jq -r .platform)" ]
  bundle_of s:1 b
  run "$RUNF_BIN" --root "$STATE_ROOT" run "s${TEST_DIR##*.}"
  [ "$output" = from-scratch ]
  # An Entrypoint replaces the base's Cmd too (a Dockerfile's rule);
  # --entrypoint '' removes the Entrypoint.
  mkdir "$TEST_DIR/empty"
  runfctl image build -q -t s:3 --from s:1 --entrypoint /bin/busybox "$TEST_DIR/empty" >/dev/null
  [ "$(runfctl image inspect s:3 | jq -c '[.config.Entrypoint, .config.Cmd]')" = '[["/bin/busybox"],null]' ]
  runfctl image build -q -t s:4 --from s:1 --entrypoint '' --cmd /bin/busybox --cmd echo --cmd x "$TEST_DIR/empty" >/dev/null
  [ "$(runfctl image inspect s:4 | jq -c '[.config.Entrypoint, .config.Cmd]')" = '[null,["/bin/busybox","echo","x"]]' ]
  [ "$(runfctl image inspect s:4 | jq -r '.layers | length')" = 2 ]
}

@test "build: bad input is one line and stores nothing" {
  mkdir -p "$TEST_DIR/app"
  echo x >"$TEST_DIR/app/f"
  expect_failure "image build: missing -t NAME" image build "$TEST_DIR/app"
  expect_failure "image build: missing DIR" image build -t x:1
  expect_failure "a name takes a tag, not a digest" image build -t "x@sha256:$(printf '0%.0s' $(seq 64))" "$TEST_DIR/app"
  expect_failure "--from: image \`nope:1\` is not in the store" image build -t x:1 --from nope:1 "$TEST_DIR/app"
  expect_failure "open the directory \`$TEST_DIR/missing\`" image build -t x:1 "$TEST_DIR/missing"
  expect_failure "--dest \`srv\`: expected an absolute path" image build -t x:1 --dest srv "$TEST_DIR/app"
  expect_failure "--dest \`/srv/../etc\`" image build -t x:1 --dest /srv/../etc "$TEST_DIR/app"
  expect_failure "--env \`NOEQUALS\`: expected K=V" image build -t x:1 -e NOEQUALS "$TEST_DIR/app"
  expect_failure "--workdir \`rel\`: expected an absolute path" image build -t x:1 --workdir rel "$TEST_DIR/app"
  expect_failure "--chown \`root\`: expected UID:GID" image build -t x:1 --chown root "$TEST_DIR/app"
  SOURCE_DATE_EPOCH=yesterday expect_failure "SOURCE_DATE_EPOCH \`yesterday\`" image build -t x:1 "$TEST_DIR/app"
  "$PYTHON" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$TEST_DIR/app/sock"
  expect_failure "\`$TEST_DIR/app/sock\`: a socket cannot go into a layer" image build -t x:1 "$TEST_DIR/app"
}

@test "fn new --lang sh: built on busybox, served behind runfd's stdio shim" {
  cd "$TEST_DIR"
  run "$RUNFCTL_BIN" fn new hello --lang sh
  [ "$status" -eq 0 ]
  grep -q '^    mode: stdio$' hello.yml
  grep -q '^    image: localhost/hello:latest$' hello.yml
  [ -x hello/handler.sh ]
  # The build command fn new printed, on the local busybox image.
  cmd=$(grep '^  runfctl image build' <<<"$output" | sed 's|--from [^ ]*|--from localhost/layout:v1|')
  eval "${cmd/runfctl/runfctl}" >/dev/null
  bundle_of localhost/hello:latest b
  mount_file "$SHIM_BIN" /.runf/shim ro
  set_env RUNF_FUNCTION=hello
  update_config '.process.args = ["/.runf/shim", "--"] + .process.args'
  serve_inetd "h${TEST_DIR##*.}"
  run http -d 'some body' "http://127.0.0.1:$PORT/x/y"
  wait_handler
  [ "$HANDLER_STATUS" -eq 0 ]
  [ "$(status_code)" = 200 ]
  [ "$(body_of)" = "Hello from hello: POST /x/y
some body" ]
}

@test "fn new --lang c: make, built from scratch, one request in inetd mode" {
  cd "$TEST_DIR"
  "$RUNFCTL_BIN" fn new --dir "$TEST_DIR" cfn --lang c >"$TEST_DIR/out"
  prepare=$(grep '^  make ' "$TEST_DIR/out")
  build=$(grep '^  runfctl image build' "$TEST_DIR/out")
  $prepare >/dev/null
  eval "$build" >/dev/null
  [ "$(runfctl image inspect localhost/cfn:latest | jq -r '.layers | length')" = 1 ]
  bundle_of localhost/cfn:latest b
  set_env RUNF_FUNCTION=cfn
  serve_inetd "c${TEST_DIR##*.}"
  run http -d 'abc' "http://127.0.0.1:$PORT/path"
  wait_handler
  [ "$(status_code)" = 200 ]
  [ "$(body_of)" = "Hello from cfn: POST /path
abc" ]
}

@test "fn new --lang python3: on a base made from the host's Debian python3, warm mode serves until SIGTERM" {
  [ -d "$TOP/build/fixtures/python3-rootfs" ] || skip "no python3 fixture (make fixtures)"
  runfctl image build -q -t localhost/python3:base -e PATH=/usr/bin:/bin "$TOP/build/fixtures/python3-rootfs" >/dev/null
  cd "$TEST_DIR"
  "$RUNFCTL_BIN" fn new py --lang python3 --base localhost/python3:base >"$TEST_DIR/out"
  "$PYTHON" -m py_compile py/handler.py
  eval "$(grep '^  runfctl image build' "$TEST_DIR/out")" >/dev/null
  bundle_of localhost/py:latest b
  set_env RUNF_FUNCTION=py
  start_sockserve warm "$RUNF_BIN" --root "$STATE_ROOT" run "p${TEST_DIR##*.}"
  run http "http://127.0.0.1:$PORT/one"
  [ "$(body_of)" = "Hello from py: GET /one" ]
  run http -d 'two' "http://127.0.0.1:$PORT/two"
  [ "$(body_of)" = "Hello from py: POST /two
two" ]
  # One instance served both; SIGTERM ends it cleanly.
  kill -TERM "$HANDLER_PID"
  wait_handler
  [ "$HANDLER_STATUS" -eq 0 ]
}

@test "fn new --lang node: the handler speaks the warm protocol (host's node, given fd 3)" {
  command -v node >/dev/null || skip "node is not installed"
  cd "$TEST_DIR"
  "$RUNFCTL_BIN" fn new js --lang node >/dev/null
  node --check js/handler.js
  RUNF_FUNCTION=js start_sockserve warm node js/handler.js
  run http -d 'b' "http://127.0.0.1:$PORT/n"
  [ "$(body_of)" = "Hello from js: POST /n
b" ]
  kill -TERM "$HANDLER_PID"
  wait_handler
  [ "$HANDLER_STATUS" -eq 0 ]
}

@test "fn new: the stack file and the templates; bad input writes nothing" {
  cd "$TEST_DIR"
  run "$RUNFCTL_BIN" fn new --list
  [ "$(awk 'NR > 1 {print $1 "/" $2}' <<<"$output" | tr '\n' ' ')" = "sh/stdio python3/warm node/warm c/inetd " ]
  "$RUNFCTL_BIN" fn new one --lang python3 >/dev/null
  [ "$(sed -n '/^functions:/,$p' one.yml)" = "functions:
  one:
    lang: python3
    handler: ./one
    image: localhost/one:latest
    mode: warm" ]
  [ -x one/handler.py ]
  expect_failure "fn new: \`one\` exists; remove it first" fn new one --lang sh
  expect_failure "fn new: missing --lang" fn new two
  expect_failure "fn new: --lang \`cobol\`: expected sh, python3, node or c" fn new two --lang cobol
  expect_failure "fn new: \`Bad.Name\`: a function name is 1-63 of a-z 0-9 - _" fn new Bad.Name --lang sh
  expect_failure "fn new: --dir \`$TEST_DIR/nowhere\`" fn new two --lang sh --dir "$TEST_DIR/nowhere"
  [ ! -e two ] && [ ! -e two.yml ]
  [ -z "$(ls -A | grep '^\.')" ]
}
