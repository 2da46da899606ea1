# Shared by the handler and shim tests: each example handler runs in a
# bundle made from its image's rootfs (build/examples/NAME/rootfs), started
# with `runf run` and given a TCP socket on 127.0.0.1 the way runfd hands
# one over (tests/helpers/sockserve.c), without the daemon.

load ../helpers
bats_require_minimum_version 1.5.0

EXAMPLES=$TOP/build/examples
SHIM_BIN=$TOP/build/bin/runf-shim
SOCKSERVE=$HELPERS/sockserve

# A bundle on a copy of example $1's rootfs; cd into it.
setup_example() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runf-fn.XXXXXX")
  chmod 755 "$TEST_DIR"
  BUNDLE=$TEST_DIR/bundle
  STATE_ROOT=$TEST_DIR/state
  HANDLER_PID=""
  mkdir -p "$BUNDLE"
  cp -a "$EXAMPLES/$1/rootfs" "$BUNDLE/rootfs"
  if is_root; then
    (cd "$BUNDLE" && "$RUNF_BIN" spec)
  else
    (cd "$BUNDLE" && "$RUNF_BIN" spec --rootless)
  fi
  update_config '.process.terminal = false'
  cd "$BUNDLE"
}

teardown_example() {
  # timeout(1) leads its own process group: sockserve and runf go with it
  # (the container itself goes with runf delete, in teardown_bundle).
  [ -n "${HANDLER_PID:-}" ] && kill -KILL -- "-$HANDLER_PID" 2>/dev/null || true
  # A rootless unpack keeps the image's read-only directories.
  [ -n "${TEST_DIR:-}" ] && chmod -R u+rwX "$TEST_DIR" 2>/dev/null || true
  teardown_bundle
}

# Environment variables for the handler: set_env NAME=VALUE...
set_env() {
  local e
  for e in "$@"; do
    update_config --arg e "$e" '.process.env += [$e]'
  done
}

# Bind-mount a host file or socket into the container: mount_file SRC DEST [ro].
mount_file() {
  local opts='["bind"]'
  [ "${3:-}" = ro ] && opts='["bind", "ro"]'
  update_config --arg s "$1" --arg d "$2" --argjson o "$opts" \
    '.mounts += [{"destination": $d, "type": "bind", "source": $s, "options": $o}]'
}

# Start `sockserve PORTFILE MODE ARGS...` in the background (bounded by
# timeout), its output in $TEST_DIR/handler.out and .err; wait until it
# listens and set PORT.
start_sockserve() {
  rm -f "$TEST_DIR/port"
  timeout -k 5 30 "$SOCKSERVE" "$TEST_DIR/port" "$@" \
    </dev/null >"$TEST_DIR/handler.out" 2>"$TEST_DIR/handler.err" &
  HANDLER_PID=$!
  wait_for test -s "$TEST_DIR/port" || { echo "sockserve did not start"; cat "$TEST_DIR/handler.err"; return 1; }
  PORT=$(cat "$TEST_DIR/port")
}

# The container as an inetd handler of one connection: serve_inetd ID [runf run options].
serve_inetd() {
  local id=$1
  shift
  start_sockserve inetd "$RUNF_BIN" --root "$STATE_ROOT" run "$@" "$id"
}

# Wait for the background handler (sockserve, or what it became) to end:
# its exit status in HANDLER_STATUS.  Not in a $(...) subshell, which
# cannot wait for its parent's children.
wait_handler() {
  HANDLER_STATUS=0
  wait "$HANDLER_PID" || HANDLER_STATUS=$?
  HANDLER_PID=""
}

# curl with a bound, its status line and headers included, CRs removed.
http() {
  curl -sS -i --max-time 20 "$@" | tr -d '\r'
}

# Send stdin as the raw request and print the raw answer (CRs removed),
# read until the server closes.  The connection stays open for writing
# meanwhile, so a request cut short is a slow client.
raw_request() {
  exec 5<>"/dev/tcp/127.0.0.1/$PORT"
  cat >&5 || true
  timeout 20 cat <&5 | tr -d '\r'
  exec 5<&-
}

# The status code of an answer in $output.
status_code() {
  printf '%s\n' "$output" | head -1 | cut -d' ' -f2
}

# The body of an answer in $output (after the first empty line).
body_of() {
  printf '%s\n' "$output" | sed '1,/^$/d'
}
