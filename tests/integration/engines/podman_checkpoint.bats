#!/usr/bin/env bats
# `podman container checkpoint` and `podman container restore` with runf
# as podman's runtime (rootful: podman checkpoints only as root), on the
# private paths podman.bats uses.  podman finds criu in PATH, and so does
# runf under it: the probed CRIU (runtime/criu.bash) comes first there.

load engine_helpers
load ../runtime/criu
bats_require_minimum_version 1.5.0

pm() {
  PATH="$CRIU_DIR:$PATH" CONTAINERS_CONF=$ENGINE_DIR/containers.conf \
    CONTAINERS_STORAGE_CONF=$ENGINE_DIR/storage.conf \
    podman --root "$ENGINE_DIR/root" --runroot "$ENGINE_DIR/runroot" --tmpdir "$ENGINE_DIR/tmp" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
    --runtime "$RUNF_BIN" "$@"
}

setup_file() {
  is_root || { engine_unavailable "podman checkpoints only as root"; return 0; }
  command -v podman >/dev/null || { engine_unavailable "podman is not installed"; return 0; }
  command -v conmon >/dev/null || { engine_unavailable "conmon is not installed"; return 0; }
  criu_probe
  export CRIU_DIR CRIU_BIN
  if [ -n "$CRIU_SKIP" ]; then
    engine_unavailable "$CRIU_SKIP"
    return 0
  fi
  engine_begin podman-checkpoint
  mkdir -p "$ENGINE_DIR/net"
  cat >"$ENGINE_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$ENGINE_DIR/root"
runroot = "$ENGINE_DIR/runroot"
EOF
  # As in podman.bats: limits within the host's reach (rootful podman asks
  # for more than root may raise here).
  cat >"$ENGINE_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=4096:4096"]
[engine]
events_logger = "file"
cgroup_manager = "cgroupfs"
lock_type = "file"
[network]
network_config_dir = "$ENGINE_DIR/net"
EOF
  engine_note_fixed_paths /var/lib/containers /var/lib/containers/cache \
    /var/lib/containers/cache/blob-info-cache-v1.boltdb \
    /sys/fs/cgroup/*/libpod_parent /sys/fs/cgroup/libpod_parent
  if ! pm load -q -i "$ENGINE_DIR/image.tar" >"$ENGINE_DIR/load.log" 2>&1; then
    engine_unavailable "podman cannot load an image here: $(tail -1 "$ENGINE_DIR/load.log")"
  fi
}

teardown_file() {
  if [ -n "${ENGINE_DIR:-}" ]; then
    pm rm -a -f -t 0 >/dev/null 2>&1 || true
    engine_end
    engine_assert_clean
  fi
  criu_cleanup
}

setup() {
  engine_skip_if_unavailable
}

teardown() {
  pm rm -a -f -t 0 >/dev/null 2>&1 || true
}

# The numbers a container printed, one a line (a terminal's end with \r).
logged() {
  pm logs "$1" 2>/dev/null | tr -d '\r' | grep -E '^[0-9]+$'
}

logged_at_least() { # name n
  [ "$(logged "$1" | tail -n 1)" -ge "$2" ] 2>/dev/null
}

COUNTER='i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done'

@test "podman: container checkpoint, then restore: the count goes on in the logs" {
  pm run -d --network none --name c1 "$ENGINE_IMAGE" sh -c "$COUNTER" >/dev/null
  engine_wait 10 logged_at_least c1 10
  run pm container checkpoint c1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(pm inspect -f '{{.State.Status}}' c1)" = exited ]
  # runf deleted the container, as runc does.
  id=$(pm inspect -f '{{.Id}}' c1)
  run "$RUNF_BIN" state "$id"
  [ "$status" -ne 0 ]
  saved=$(logged c1 | tail -n 1)

  run pm container restore c1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(pm inspect -f '{{.State.Status}}' c1)" = running ]
  [ "$("$RUNF_BIN" state "$id" | jq -r .status)" = running ]
  engine_wait 10 logged_at_least c1 $((saved + 10))
  # One count, continued: every number once, in order.
  logged c1 | awk 'NR != $1 { print "line " NR ": " $0; bad = 1 } END { exit bad }'
  run pm exec c1 echo in-exec
  [ "$output" = in-exec ]
  pm stop -t 1 c1 >/dev/null
  [ "$(pm inspect -f '{{.State.Status}}' c1)" = exited ]
}

@test "podman: container checkpoint --leave-running keeps it running" {
  pm run -d --network none --name c2 "$ENGINE_IMAGE" sh -c "$COUNTER" >/dev/null
  engine_wait 10 logged_at_least c2 5
  run pm container checkpoint --leave-running c2
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(pm inspect -f '{{.State.Status}}' c2)" = running ]
  at=$(logged c2 | tail -n 1)
  engine_wait 10 logged_at_least c2 $((at + 5))
}

@test "podman: a container with a tty: checkpoint, restore, and the count goes on in the logs" {
  pm run -d -t --network none --name c3 "$ENGINE_IMAGE" sh -c "$COUNTER" >/dev/null
  engine_wait 10 logged_at_least c3 5
  run pm container checkpoint c3
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  saved=$(logged c3 | tail -n 1)
  run pm container restore c3
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "$(pm inspect -f '{{.State.Status}}' c3)" = running ]
  engine_wait 10 logged_at_least c3 $((saved + 10))
  run pm exec -t c3 tty
  [[ "$output" == /dev/pts/* ]]
}
