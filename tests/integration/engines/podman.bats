#!/usr/bin/env bats
# podman with runf as its OCI runtime (--runtime <runf>): rootful as root,
# rootless as the unprivileged user; storage, run and tmp dirs, locks,
# events and network config all below one temp dir; cgroupfs, no systemd.

load engine_helpers
bats_require_minimum_version 1.5.0

pm() {
  CONTAINERS_CONF=$ENGINE_DIR/containers.conf CONTAINERS_STORAGE_CONF=$ENGINE_DIR/storage.conf \
    podman --root "$ENGINE_DIR/root" --runroot "$ENGINE_DIR/runroot" --tmpdir "$ENGINE_DIR/tmp" \
    --storage-driver vfs --cgroup-manager cgroupfs --events-backend file \
    --runtime "$RUNF_BIN" "$@"
}

pm_logs_have() { # name text
  pm logs "$1" 2>/dev/null | grep -q "$2"
}

pm_status_is() { # name status
  [ "$(pm inspect -f '{{.State.Status}}' "$1")" = "$2" ]
}

# runf's own state root as podman uses it: podman passes no --root.
runf_default() {
  "$RUNF_BIN" "$@"
}

setup_file() {
  command -v podman >/dev/null || { engine_unavailable "podman is not installed"; return 0; }
  command -v conmon >/dev/null || { engine_unavailable "conmon is not installed"; return 0; }
  engine_begin podman
  mkdir -p "$ENGINE_DIR/net"
  cat >"$ENGINE_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$ENGINE_DIR/root"
runroot = "$ENGINE_DIR/runroot"
EOF
  {
    if is_root; then
      # podman asks for 1048576 open files and processes; above the hard
      # limit, raising them needs CAP_SYS_RESOURCE, which this host may
      # not give even to root.  Rootless podman asks for the current
      # limits by itself.
      echo '[containers]'
      echo "default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=4096:4096\"]"
    fi
    echo '[engine]'
    echo 'events_logger = "file"'
    echo 'cgroup_manager = "cgroupfs"'
    echo 'lock_type = "file"'
    echo '[network]'
    echo "network_config_dir = \"$ENGINE_DIR/net\""
  } >"$ENGINE_DIR/containers.conf"
  engine_note_fixed_paths /var/lib/containers /var/lib/containers/cache \
    /var/lib/containers/cache/blob-info-cache-v1.boltdb
  # podman's cgroupfs manager makes libpod_parent (and conmon's cgroup in
  # it) in every hierarchy.  On a v1 or hybrid host it takes every
  # directory below /sys/fs/cgroup for one: where a controller without a
  # v1 hierarchy (hugetlb, net_cls...) has a plain directory on the tmpfs,
  # it makes libpod_parent/conmon there and writes conmon's pid to a plain
  # file `tasks`.  All of that goes again, like the rest.
  engine_note_cgroup libpod_parent
  if ! cgroup_unified_p; then
    for c in $(awk 'NR > 1 { print $1 }' /proc/cgroups); do
      cgroup_v1_mount "$c" >/dev/null ||
        engine_note_fixed_paths "/sys/fs/cgroup/$c" "/sys/fs/cgroup/$c/libpod_parent" \
          "/sys/fs/cgroup/$c/libpod_parent/conmon" "/sys/fs/cgroup/$c/libpod_parent/conmon/tasks"
    done
  fi
  if ! pm load -q -i "$ENGINE_DIR/image.tar" >"$ENGINE_DIR/load.log" 2>&1; then
    engine_unavailable "podman cannot load an image here: $(tail -1 "$ENGINE_DIR/load.log")"
  fi
}

teardown_file() {
  [ -n "${ENGINE_DIR:-}" ] || return 0
  pm rm -a -f -t 0 >/dev/null 2>&1 || true
  # Rootless storage holds files of the subordinate ids: only podman (in
  # its user namespace) can remove them.
  is_root || pm system reset -f >/dev/null 2>&1 || true
  # The rootless pause process keeps podman's user namespace alive.
  [ -f "$ENGINE_DIR/tmp/pause.pid" ] && kill -KILL "$(cat "$ENGINE_DIR/tmp/pause.pid")" 2>/dev/null
  engine_end
  engine_assert_clean
}

setup() {
  engine_skip_if_unavailable
}

teardown() {
  pm rm -a -f -t 0 >/dev/null 2>&1 || true
}

@test "podman: run prints the output and returns the exit status; --rm leaves no state" {
  run pm run --rm --network none "$ENGINE_IMAGE" echo hello
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  run pm run --rm --network none "$ENGINE_IMAGE" sh -c 'exit 3'
  [ "$status" -eq 3 ]
  run -127 pm run --rm --network none "$ENGINE_IMAGE" /nonexistent
  run -126 pm run --rm --network none "$ENGINE_IMAGE" /etc/passwd
  run pm ps -aq
  [ -z "$output" ]
}

@test "podman: env, user, workdir and hostname" {
  run pm run --rm --network none -e FOO=bar -u 1000:1000 -w /tmp --hostname box "$ENGINE_IMAGE" \
    sh -c 'echo $FOO; id -u; id -g; pwd; hostname'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "bar 1000 1000 /tmp box" ]
}

@test "podman: --read-only: / refuses writes, /tmp is a tmpfs with the image's /tmp" {
  run pm run --rm --network none --read-only "$ENGINE_IMAGE" \
    sh -c 'touch /x 2>/dev/null || echo refused; touch /tmp/y && stat -c %a /tmp'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "refused 1777" ]
}

@test "podman: a bind mount, read-only" {
  mkdir -p "$ENGINE_DIR/vol"
  echo data >"$ENGINE_DIR/vol/f"
  chmod -R a+rX "$ENGINE_DIR/vol"
  run pm run --rm --network none -v "$ENGINE_DIR/vol:/vol:ro" "$ENGINE_IMAGE" \
    sh -c 'cat /vol/f; touch /vol/g 2>/dev/null || echo refused'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "data refused" ]
}

@test "podman: a memory limit reaches the container's cgroup" {
  # Rootless podman ignores limits on cgroup v1 and hybrid hosts, and on v2
  # it applies them only through systemd (the systemd manager's test).
  is_root || skip "rootless podman applies resource limits only through its systemd cgroup manager"
  run pm run --rm --network none -m 64m "$ENGINE_IMAGE" sh -c "$MEMORY_LIMIT_CMD"
  [ "$status" -eq 0 ]
  [ "$output" = 67108864 ]
}

@test "podman: the systemd cgroup manager: each container a scope unit through runf, with its limit, gone with it" {
  engine_requires_systemd
  # podman passes runf --systemd-cgroup and a cgroupsPath of
  # machine.slice:libpod:ID (root) or user.slice:libpod:ID (rootless).
  run pm --cgroup-manager systemd run -d --network none -m 64m "$ENGINE_IMAGE" sleep 1000
  echo "$output"
  [ "$status" -eq 0 ]
  id=${lines[-1]}
  unit=libpod-$id.scope
  pid=$(pm inspect -f '{{.State.Pid}}' "$id")
  run "${SCTL[@]}" show -p ActiveState,Delegate,MemoryMax,ControlGroup "$unit"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"Delegate=yes"* ]]
  cg=$("${SCTL[@]}" show -p ControlGroup --value "$unit")
  [[ "$cg" == */libpod-$id.scope ]]
  grep -qx "0::$cg" "/proc/$pid/cgroup"
  if engine_systemd_memory_p; then
    [[ "$output" == *"MemoryMax=67108864"* ]]
    [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 67108864 ]
  fi
  # podman's own view of it (runf state and ps through the unit's cgroup).
  run pm top "$id" pid args
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"sleep 1000"* ]]
  pm rm -f -t 0 "$id" >/dev/null
  ! "${SCTL[@]}" is-active -q "$unit"
  [ ! -d "/sys/fs/cgroup$cg" ]
}

@test "podman: detached run, exec with and without a tty, exec -d, top, logs" {
  pm run -d --network none --name d1 "$ENGINE_IMAGE" sh -c "$TRAP_TERM" >/dev/null
  engine_wait 10 pm_logs_have d1 ready
  run pm exec d1 sh -c 'echo in exec; exit 4'
  [ "$status" -eq 4 ]
  [ "$output" = "in exec" ]
  run pm exec -t d1 tty
  [ "$status" -eq 0 ]
  [[ "$output" == /dev/pts/* ]]
  run pm exec -e X=y -u 1000 -w /home d1 sh -c 'echo $X $(id -u) $(pwd)'
  [ "$output" = "y 1000 /home" ]
  pm exec -d d1 sh -c 'echo bg >/tmp/bg'
  engine_wait 5 pm exec d1 cat /tmp/bg
  run -127 pm exec d1 /nonexistent
  run pm top d1
  [ "$status" -eq 0 ]
  [[ "$output" == *"sh -c trap"* ]]
  run pm logs d1
  [ "$output" = ready ]
}

@test "podman: pause and unpause" {
  is_root || skip "rootless podman cannot freeze with its cgroupfs manager (v1 and hybrid hosts: with any)"
  run runf_default pause no-such-container
  [[ "$output" != *"not implemented"* ]] || skip "this runf has no pause yet"
  pm run -d --network none --name p1 "$ENGINE_IMAGE" sleep 1000 >/dev/null
  id=$(pm inspect -f '{{.ID}}' p1)
  pm pause p1
  pm_status_is p1 paused
  runf_default state "$id" | jq -e '.status == "paused"'
  pm unpause p1
  pm_status_is p1 running
  run pm exec p1 echo alive
  [ "$output" = alive ]
  # runf kill KILL thaws a paused container, or podman waits for it in vain.
  pm pause p1
  SECONDS=0
  pm kill p1
  [ "$SECONDS" -lt 10 ]
  # kill returns once the signal is sent; conmon reports the exit a moment
  # later.
  engine_wait 10 pm_status_is p1 exited
  [ "$(pm inspect -f '{{.State.ExitCode}}' p1)" = 137 ]
}

@test "podman: stop sends SIGTERM, then SIGKILL after the timeout" {
  pm run -d --network none --name s1 "$ENGINE_IMAGE" sh -c "$TRAP_TERM" >/dev/null
  engine_wait 10 pm_logs_have s1 ready
  pm stop -t 10 s1
  [ "$(pm inspect -f '{{.State.ExitCode}}' s1)" = 7 ]
  run pm logs s1
  [[ "$output" == *"got TERM"* ]]
  pm run -d --network none --name s2 "$ENGINE_IMAGE" sh -c "$IGNORE_TERM" >/dev/null
  engine_wait 10 pm_logs_have s2 ready
  SECONDS=0
  pm stop -t 1 s2
  [ "$SECONDS" -lt 8 ]
  [ "$(pm inspect -f '{{.State.ExitCode}}' s2)" = 137 ]
}

@test "podman: kill, start again, rm -f; runf keeps no state of removed containers" {
  pm run -d --network none --name k1 "$ENGINE_IMAGE" sleep 1000 >/dev/null
  id=$(pm inspect -f '{{.ID}}' k1)
  pm kill -s KILL k1
  engine_wait 10 pm_status_is k1 exited
  [ "$(pm inspect -f '{{.State.ExitCode}}' k1)" = 137 ]
  pm start k1
  [ "$(pm inspect -f '{{.State.Status}}' k1)" = running ]
  runf_default state "$id" | jq -e '.status == "running"'
  pm rm -f -t 0 k1
  run runf_default list -q
  [[ "$output" != *"$id"* ]]
  run pm ps -aq
  [ -z "$output" ]
}
