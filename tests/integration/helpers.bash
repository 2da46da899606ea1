# Shared by every integration test: a fresh bundle and state root per test,
# built from the local busybox fixture, removed again by teardown.

TOP=${RUNF_TEST_TOP:?RUNF_TEST_TOP must point at the staged build}
RUNF_BIN=$TOP/build/bin/runf
FIXTURE_ROOTFS=$TOP/build/fixtures/rootfs
HELPERS=$TOP/build/helpers

in_userns() {
  ! grep -qE '^ +0 +0 +4294967295$' /proc/self/uid_map
}

is_root() {
  [ "$(id -u)" = 0 ] && ! in_userns
}

requires_root() {
  is_root || skip "needs root on the host"
}

requires_rootless() {
  is_root && skip "needs an unprivileged user"
  return 0
}

runf() {
  "$RUNF_BIN" --root "$STATE_ROOT" "$@"
}

# cgroup_mounts, cgroup_hierarchies, cgroup_v1_mount, cgroup_v2_mount...:
# the host's cgroup layout, from what is mounted.
. "${BASH_SOURCE[0]%/*}/cgroup_helpers.bash"

# For create and run -d: the container keeps the stdio it is given, so it
# goes to a file (bats would otherwise wait for the container to exit).
# Prints runf's own errors on failure.
runf_detached() {
  if ! runf "$@" </dev/null >"$TEST_DIR/detached.out" 2>&1; then
    cat "$TEST_DIR/detached.out"
    return 1
  fi
}

# Edit config.json with a jq filter.
update_config() {
  local tmp
  tmp=$(mktemp "$BUNDLE/config.XXXXXX")
  jq "$@" "$BUNDLE/config.json" >"$tmp" && mv "$tmp" "$BUNDLE/config.json"
}

# process.args from the arguments, e.g. set_args sh -c 'echo hi'.
set_args() {
  local args
  args=$(jq -cn '$ARGS.positional' --args -- "$@")
  update_config --argjson a "$args" '.process.args = $a'
}

setup_bundle() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runf-test.XXXXXX")
  chmod 755 "$TEST_DIR"
  BUNDLE=$TEST_DIR/bundle
  STATE_ROOT=$TEST_DIR/state
  mkdir -p "$BUNDLE"
  cp -a "$FIXTURE_ROOTFS" "$BUNDLE/rootfs"
  if is_root; then
    (cd "$BUNDLE" && "$RUNF_BIN" spec)
  else
    (cd "$BUNDLE" && "$RUNF_BIN" spec --rootless)
  fi
  update_config '.process.terminal = false'
  # A cgroup per test: the default, /runf/<id>, is the same for every state
  # root, and runf refuses a cgroup that another container is using, so
  # test suites running at the same time (t1 in each) would collide.
  if is_root; then
    update_config --arg p "/runf-tests/${TEST_DIR##*/}" '.linux.cgroupsPath = $p'
  fi
  # runc's default bundle is the current directory.
  cd "$BUNDLE"
}

teardown_bundle() {
  local id pid dir
  # Background helpers of a failed test must not outlive it (they would
  # also hold bats' output open).
  for pid in $(jobs -p); do
    kill -9 "$pid" 2>/dev/null || true
  done
  cd /
  if [ -d "${STATE_ROOT:-/nonexistent}" ]; then
    for id in $(runf list -q 2>/dev/null); do
      runf delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  [ -n "${TEST_DIR:-}" ] && rm -rf "$TEST_DIR"
  # The parents of the tests' cgroups, once empty (rmdir leaves them while
  # another suite's containers are in them).
  if is_root; then
    for dir in $(cgroup_hierarchies); do
      rmdir "$dir/runf-tests" "$dir/runf" 2>/dev/null
    done
  fi
  return 0
}

# Wait (up to ~5 s) until a command succeeds.
wait_for() {
  local i
  for i in $(seq 1 100); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}

# The state dir of a container must be gone and nothing of it mounted.
assert_no_leftovers() {
  [ -z "$(ls -A "$STATE_ROOT" 2>/dev/null)" ] || {
    echo "state left behind: $(ls -A "$STATE_ROOT")"
    return 1
  }
  ! grep -q "$TEST_DIR" /proc/self/mountinfo || {
    echo "mounts left behind:"
    grep "$TEST_DIR" /proc/self/mountinfo
    return 1
  }
}

# One line of error output, starting with "runf: ", mentioning $1.
assert_one_error_line() {
  [ "$status" -ne 0 ] || { echo "expected failure, got status 0: $output"; return 1; }
  [ "${#lines[@]}" -eq 1 ] || { echo "expected one line, got: $output"; return 1; }
  [[ "${lines[0]}" == runf:* ]] || { echo "expected 'runf: ...', got: $output"; return 1; }
  [[ "$output" == *"$1"* ]] || { echo "expected '$1' in: $output"; return 1; }
}
