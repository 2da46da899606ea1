# runfd's tests: one daemon per file, on private paths and addresses.

load ../helpers

RUNFD_BIN=$TOP/build/bin/runfd
RUNFCTL_BIN=$TOP/build/bin/runfctl
FN_IMAGE=$TOP/build/fixtures/fn-image.tar

# "B.C" of every 127.B.C.D address something listens on (TCP, this network
# namespace).
loopback_nets_listening() {
  local a
  awk 'NR > 1 && $4 == "0A" { print substr($2, 1, 8) }' /proc/net/tcp | while read -r a; do
    [ "${a:6:2}" = 7F ] && echo "$((16#${a:4:2})).$((16#${a:2:2}))"
  done | sort -u
}

# A random X for this run's 127.76.X.0/24, 127.77.X.0/24 and 127.78.X.0/24
# that nothing listens on yet: another run's daemon, or one a failed run
# left behind.
pick_faas_net() {
  local used x i
  used=$(loopback_nets_listening)
  for i in $(seq 1 100); do
    x=$((RANDOM % 250 + 1))
    grep -qxE "7[678]\.$x" <<<"$used" || { echo "$x"; return 0; }
  done
  echo "no free 127.7[678].X.0/24 range" >&2
  return 1
}

# The functions' range and the gateway's address are this run's own, so
# daemons of other runs (or users) never collide.
faas_setup_file() {
  export FAAS_DIR FAAS_NET
  FAAS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-test.XXXXXX")
  chmod 755 "$FAAS_DIR"
  FAAS_NET=$(pick_faas_net)
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
  if [ -n "${KEEP_RUNFD_LOG:-}" ]; then cp "$FAAS_DIR/runfd.log" "$KEEP_RUNFD_LOG"; fi
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

# This daemon's cgroup parent below each hierarchy (runfd/<key>), as its
# spawners are told it.
runfd_cgroup_parent() {
  local pid
  pid=$(cat "$FAAS_DIR/runfd.pid")
  tr '\0' '\n' <"/proc/$(pgrep -P "$pid" -x runfd-spawner | head -1)/cmdline" |
    sed -n '/^--cgroup-parent$/{n;p;q}'
}
