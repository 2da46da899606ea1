# Shared by the image tests: a scratch directory and store per test, test
# images built locally (mkimage.py), local registries on 127.0.0.1, and
# checks that a failed command left the store as it was.

load ../helpers
bats_require_minimum_version 1.5.0

RUNFCTL_BIN=$TOP/build/bin/runfctl
IMAGE_TESTS=$TOP/tests/integration/image
PYTHON=/usr/bin/python3

runfctl() {
  "$RUNFCTL_BIN" --store "$STORE" "$@"
}

mkimage() {
  "$PYTHON" "$IMAGE_TESTS/mkimage.py" "$@"
}

setup_image_test() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runf-image.XXXXXX")
  chmod 755 "$TEST_DIR"
  STORE=$TEST_DIR/store
  STATE_ROOT=$TEST_DIR/state
  REGISTRY_PIDS=""
  cd "$TEST_DIR"
}

teardown_image_test() {
  local pid id
  for pid in $REGISTRY_PIDS $(jobs -p); do
    kill -9 "$pid" 2>/dev/null || true
  done
  cd /
  if [ -d "${STATE_ROOT:-/nonexistent}" ]; then
    for id in $("$RUNF_BIN" --root "$STATE_ROOT" list -q 2>/dev/null); do
      "$RUNF_BIN" --root "$STATE_ROOT" delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  if [ -n "${TEST_DIR:-}" ]; then
    # A rootless unpack keeps an image's read-only directories.
    chmod -R u+rwX "$TEST_DIR" 2>/dev/null || true
    rm -rf "$TEST_DIR"
  fi
  return 0
}

# The busybox fixture as a one-layer OCI layout: $1 directory, $2 tag,
# then mkimage.py oci options.
busybox_layout() {
  local dir=$1 tag=$2
  shift 2
  mkimage oci "$dir" --tag "$tag" --layer "$FIXTURE_ROOTFS" "$@" >/dev/null
}

# Entries for mkimage.py, as a JSON file: write_entries FILE JSON.
write_entries() {
  printf '%s\n' "$2" >"$1"
}

# Everything in the store that a command may change, one line each: its
# files (blobs, refs.json) and unpacked root filesystems.  Scratch space
# and lock files are not content; an empty store is the same as none.
store_snapshot() {
  [ -d "$STORE" ] || return 0
  (cd "$STORE" && find . \( -path ./tmp -o -path ./locks -o -path ./lock \) -prune \
     -o \( -type f -o -path './rootfs/*' -prune \) -printf '%p %s\n' | sort)
  if [ -f "$STORE/refs.json" ]; then cat "$STORE/refs.json"; fi
}

# Run a runfctl command that must fail: one line on stderr, "runfctl: "
# first, containing $1; nothing printed on stdout that claims success;
# and the store exactly as before.
expect_failure() {
  local want=$1 before after
  shift
  before=$(store_snapshot)
  run --separate-stderr "$RUNFCTL_BIN" --store "$STORE" "$@"
  after=$(store_snapshot)
  [ "$status" -ne 0 ] || { echo "expected failure, got status 0: $output"; return 1; }
  [ "${#stderr_lines[@]}" -eq 1 ] || { echo "expected one line on stderr, got: $stderr"; return 1; }
  [[ "${stderr_lines[0]}" == runfctl:* ]] || { echo "expected 'runfctl: ...', got: $stderr"; return 1; }
  [[ "$stderr" == *"$want"* ]] || { echo "expected '$want' in: $stderr"; return 1; }
  [ "$before" = "$after" ] || { echo "the store changed:"; diff <(echo "$before") <(echo "$after"); return 1; }
  [ -z "$(ls -A "$STORE/tmp" 2>/dev/null)" ] || { echo "scratch left: $(ls -A "$STORE/tmp")"; return 1; }
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Start Debian's docker-registry on 127.0.0.1:$REGISTRY_PORT with its
# storage in the test dir; with "auth", behind htpasswd basic auth for
# alice:secret.
start_registry() {
  local mode=${1:-open} dir=$TEST_DIR/registry i
  mkdir -p "$dir/data"
  REGISTRY_PORT=$(free_port)
  REGISTRY=127.0.0.1:$REGISTRY_PORT
  cat >"$dir/config.yml" <<YML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: $REGISTRY
YML
  if [ "$mode" = auth ]; then
    htpasswd -Bbn alice secret >"$dir/htpasswd"
    printf 'auth:\n  htpasswd:\n    realm: test\n    path: %s\n' "$dir/htpasswd" >>"$dir/config.yml"
  fi
  # The registry takes REGISTRY_* variables as settings (REGISTRY_AUTH_FILE
  # would be auth.file), so it starts without them.
  env $(compgen -e | sed -n 's/^REGISTRY_.*/-u &/p') docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  REGISTRY_PIDS="$REGISTRY_PIDS $!"
  for i in $(seq 1 100); do
    curl -s -o /dev/null "http://$REGISTRY/v2/" && return 0
    sleep 0.05
  done
  echo "the registry did not start: $(cat "$dir/log")"
  return 1
}

# Push an OCI layout's tag to the running registry with skopeo.
push() { # layout:tag repo:tag [skopeo options]
  local src=$1 dst=$2
  shift 2
  skopeo --insecure-policy copy -q --dest-tls-verify=false "$@" "oci:$src" "docker://$REGISTRY/$dst" >/dev/null
}

# The fake registry (fakereg.py) serving an OCI layout, in a mode.
start_fake_registry() { # mode layout [extra args]
  local mode=$1 layout=$2 i
  shift 2
  FAKE_PORT=$(free_port)
  FAKE=127.0.0.1:$FAKE_PORT
  "$PYTHON" "$IMAGE_TESTS/fakereg.py" --port "$FAKE_PORT" --mode "$mode" --layout "$layout" \
    --log "$TEST_DIR/fake.log" "$@" >"$TEST_DIR/fake.out" 2>&1 &
  REGISTRY_PIDS="$REGISTRY_PIDS $!"
  for i in $(seq 1 100); do
    [ -s "$TEST_DIR/fake.log" ] && return 0
    sleep 0.05
  done
  echo "the fake registry did not start: $(cat "$TEST_DIR/fake.out")"
  return 1
}

# A file tree as lines "path type mode uid gid target size sha", for
# comparing two root filesystems; uid and gid are left out rootless
# (everything is the caller's).
tree_listing() { # dir
  (cd "$1" && find . -mindepth 1 -printf '%P %y %m %U %G %l %s\n' | sort | while read -r p y m u g rest; do
     if [ "$y" = f ]; then rest="$rest $(sha256sum "$p" | cut -c1-16)"; fi
     if is_root; then echo "$p $y $m $u $g $rest"; else echo "$p $y $m $rest"; fi
   done)
}
