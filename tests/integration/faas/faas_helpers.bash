# runfd's tests: one daemon per file, on private paths and addresses.

load ../helpers

RUNFD_BIN=$TOP/build/bin/runfd
RUNFCTL_BIN=$TOP/build/bin/runfctl
FN_IMAGE=$TOP/build/fixtures/fn-image.tar

# The functions' range and the gateway's address are this run's own, so
# daemons of other runs (or users) never collide.
faas_setup_file() {
  export FAAS_DIR
  FAAS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-test.XXXXXX")
  chmod 755 "$FAAS_DIR"
  export FAAS_NET=$((RANDOM % 250 + 1))
  export GATEWAY=127.78.$FAAS_NET.1:8080
  export RUNFD_API=unix:$FAAS_DIR/st/run/api.sock
  if is_root; then export FN_PORT=80; else export FN_PORT=8080; fi
  start_runfd
}

start_runfd() {
  "$RUNFD_BIN" --state "$FAAS_DIR/st" --store "$FAAS_DIR/store" --gateway "$GATEWAY" \
    --addr-range "127.77.$FAAS_NET.0/24" --request-timeout 2 --log-max 64k "$@" >>"$FAAS_DIR/runfd.log" 2>&1 &
  echo $! >"$FAAS_DIR/runfd.pid"
  # Not one of the test's jobs: a test's teardown kills those, and the
  # daemon is the file's.
  disown
  wait_for test -S "$FAAS_DIR/st/run/api.sock" || { cat "$FAAS_DIR/runfd.log"; return 1; }
  wait_for "$RUNFCTL_BIN" fn ls
}

stop_runfd() {
  local pid
  pid=$(cat "$FAAS_DIR/runfd.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  timeout 40 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$FAAS_DIR/runfd.pid"
}

faas_teardown_file() {
  stop_runfd
  rm -rf "$FAAS_DIR"
}

runfctl() {
  "$RUNFCTL_BIN" "$@"
}

# The function's base URL.
fn_url() {
  echo "http://$(runfctl fn ip "$1")"
}
