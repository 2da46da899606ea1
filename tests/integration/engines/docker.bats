#!/usr/bin/env bats
# dockerd with runf as its default runtime (--add-runtime, through
# containerd's runc v2 shim), started by hand on private paths: data-root,
# exec-root (its own containerd lives there), pidfile and socket below one
# temp dir; no iptables, no bridge.  Its cgroup driver is cgroupfs, or
# where systemd is PID 1 on pure cgroup v2 (make check-vm's guest) systemd's
# (native.cgroupdriver=systemd: runf --systemd-cgroup, a scope unit per
# container), so that every test here runs through that driver there.

load engine_helpers
bats_require_minimum_version 1.5.0

d() {
  docker -H "unix://$ENGINE_DIR/docker.sock" "$@"
}

d_logs_have() { # name text
  d logs "$1" 2>&1 | grep -q "$2"
}

d_status_is() { # name status
  [ "$(d inspect -f '{{.State.Status}}' "$1")" = "$2" ]
}

setup_file() {
  is_root || { engine_unavailable "dockerd runs as root here (rootless docker needs rootlesskit)"; return 0; }
  command -v dockerd >/dev/null && command -v docker >/dev/null ||
    { engine_unavailable "docker is not installed"; return 0; }
  engine_begin docker
  # This run's own, so that runs at the same time do not share it.
  local suffix driver=cgroupfs
  suffix=$(tr 'A-Z' 'a-z' <<<"${ENGINE_DIR##*.}")
  DOCKER_CGROUP_PARENT=runf-engine-test-docker-$suffix
  DOCKER_SYSTEMD=
  if [ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ] && cgroup_unified_p; then
    # A slice for the systemd driver (no dashes: systemd would nest it).
    driver=systemd DOCKER_SYSTEMD=1 DOCKER_CGROUP_PARENT=runfdocker$suffix.slice
  fi
  export DOCKER_CGROUP_PARENT DOCKER_SYSTEMD
  # docker asks for no rlimits by default, but its default-ulimits are
  # where to keep them within the host's hard limits when it does.
  cat >"$ENGINE_DIR/daemon.json" <<EOF
{
  "runtimes": { "runf": { "path": "$RUNF_BIN" } },
  "default-runtime": "runf",
  "default-ulimits": { "nofile": { "Name": "nofile", "Soft": 1024, "Hard": $(ulimit -Hn) } },
  "cgroup-parent": "$DOCKER_CGROUP_PARENT"
}
EOF
  # dockerd makes /run/docker/plugins and /etc/docker/key.json whatever
  # it is told, its containerd makes /opt/containerd, and the shims'
  # sockets go to /run/containerd/s.
  engine_note_fixed_paths /run/docker /run/docker/plugins /etc/docker/key.json /opt/containerd \
    /run/containerd /run/containerd/s
  [ -n "$DOCKER_SYSTEMD" ] || engine_note_cgroup "$DOCKER_CGROUP_PARENT"
  engine_start_daemon dockerd dockerd --config-file "$ENGINE_DIR/daemon.json" \
    --data-root "$ENGINE_DIR/data" --exec-root "$ENGINE_DIR/exec" --pidfile "$ENGINE_DIR/docker.pid.file" \
    -H "unix://$ENGINE_DIR/docker.sock" --iptables=false --ip6tables=false --ip-masq=false \
    --bridge=none --userland-proxy=false --storage-driver vfs --exec-opt native.cgroupdriver=$driver
  if ! engine_wait 30 d info; then
    engine_unavailable "dockerd did not start: $(tail -3 "$ENGINE_DIR/dockerd.log")"
    return 0
  fi
  d load -q -i "$ENGINE_DIR/image.tar" >"$ENGINE_DIR/load.log" 2>&1 ||
    engine_unavailable "docker cannot load an image here: $(tail -1 "$ENGINE_DIR/load.log")"
}

teardown_file() {
  [ -n "${ENGINE_DIR:-}" ] || return 0
  d ps -aq 2>/dev/null | xargs -r docker -H "unix://$ENGINE_DIR/docker.sock" rm -f >/dev/null 2>&1
  engine_end
  [ -z "${DOCKER_SYSTEMD:-}" ] || systemctl stop "$DOCKER_CGROUP_PARENT" 2>/dev/null
  # A relative cgroup parent is below the runtime's own cgroup in each
  # hierarchy, which is not always the root (memory:/process_api/... on
  # some hosts): this run's parent goes wherever docker made it.
  local h
  for h in $(cgroup_hierarchies); do
    find "$h" -maxdepth 5 -depth -type d -path "*/$DOCKER_CGROUP_PARENT*" -exec rmdir {} + 2>/dev/null || true
  done
  engine_assert_clean
}

setup() {
  engine_skip_if_unavailable
}

teardown() {
  d ps -aq 2>/dev/null | xargs -r docker -H "unix://$ENGINE_DIR/docker.sock" rm -f >/dev/null 2>&1
  return 0
}

@test "docker: run prints the output and returns the exit status (126/127 as with runc)" {
  run d run --rm --network none "$ENGINE_IMAGE" echo hello
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  run -3 d run --rm --network none "$ENGINE_IMAGE" sh -c 'exit 3'
  run -127 d run --rm --network none "$ENGINE_IMAGE" /nonexistent
  run -127 d run --rm --network none "$ENGINE_IMAGE" nonexistent
  run d run --rm --network none "$ENGINE_IMAGE" /etc/passwd
  [ "$status" -eq 126 ] || { echo "status $status: $output"; return 1; }
  run d ps -aq
  [ -z "$output" ]
}

@test "docker: env, user, workdir and hostname" {
  run d run --rm --network none -e FOO=bar -u 1000:1000 -w /tmp --hostname box "$ENGINE_IMAGE" \
    sh -c 'echo $FOO; id -u; id -g; pwd; hostname'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "bar 1000 1000 /tmp box" ]
}

@test "docker: --read-only, a read-only bind mount, a tty" {
  mkdir -p "$ENGINE_DIR/vol"
  echo data >"$ENGINE_DIR/vol/f"
  run d run --rm --network none --read-only -v "$ENGINE_DIR/vol:/vol:ro" "$ENGINE_IMAGE" \
    sh -c 'touch /x 2>/dev/null || echo refused; cat /vol/f; touch /vol/g 2>/dev/null || echo refused'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "refused data refused" ]
  run d run --rm -t --network none "$ENGINE_IMAGE" tty
  [ "$status" -eq 0 ]
  [[ "$output" == /dev/pts/* ]]
}

@test "docker: a memory limit reaches the container's cgroup" {
  run d run --rm --network none -m 64m "$ENGINE_IMAGE" sh -c "$MEMORY_LIMIT_CMD"
  [ "$status" -eq 0 ]
  [ "$output" = 67108864 ]
}

@test "docker: the systemd cgroup driver: each container a scope unit through runf, with its limit, gone with it" {
  [ -n "$DOCKER_SYSTEMD" ] || skip "dockerd uses cgroupfs here (systemd is not PID 1 on pure cgroup v2; make check-vm's guest has that)"
  d run -d --network none --name u1 -m 64m "$ENGINE_IMAGE" sleep 1000 >/dev/null
  id=$(d inspect -f '{{.Id}}' u1)
  unit=docker-$id.scope
  run systemctl show -p ActiveState,Slice,Delegate,MemoryMax "$unit"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"Slice=$DOCKER_CGROUP_PARENT"* ]]
  [[ "$output" == *"Delegate=yes"* ]]
  [[ "$output" == *"MemoryMax=67108864"* ]]
  cg=$(systemctl show -p ControlGroup --value "$unit")
  echo "ControlGroup=$cg"
  [[ "$cg" == */"$DOCKER_CGROUP_PARENT/$unit" ]]
  pid=$(d inspect -f '{{.State.Pid}}' u1)
  grep -qx "0::$cg" "/proc/$pid/cgroup"
  [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 67108864 ]
  # docker update goes through runf update: the unit's property and the file.
  d update -m 128m --memory-swap 256m u1
  [ "$(systemctl show -p MemoryMax --value "$unit")" = 134217728 ]
  [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 134217728 ]
  d rm -f u1
  ! systemctl is-active -q "$unit"
  [ ! -d "/sys/fs/cgroup$cg" ]
}

@test "docker: detached run, exec with and without a tty, exec -d, top, logs" {
  d run -d --network none --name d1 "$ENGINE_IMAGE" sh -c "$TRAP_TERM" >/dev/null
  engine_wait 10 d_logs_have d1 ready
  run -4 d exec d1 sh -c 'echo in exec; exit 4'
  [ "$output" = "in exec" ]
  run d exec -t d1 tty
  [ "$status" -eq 0 ]
  [[ "$output" == /dev/pts/* ]]
  run d exec -e X=y -u 1000 -w /home d1 sh -c 'echo $X $(id -u) $(pwd)'
  [ "$output" = "y 1000 /home" ]
  d exec -d d1 sh -c 'echo bg >/tmp/bg'
  engine_wait 5 d exec d1 cat /tmp/bg
  run -126 d exec d1 /nonexistent
  run d top d1
  [ "$status" -eq 0 ]
  [[ "$output" == *"sh -c trap"* ]]
  run d logs d1
  [ "$output" = ready ]
}

@test "docker: pause and unpause" {
  run "$RUNF_BIN" pause no-such-container
  [[ "$output" != *"not implemented"* ]] || skip "this runf has no pause yet"
  d run -d --network none --name p1 "$ENGINE_IMAGE" sleep 1000 >/dev/null
  d pause p1
  d_status_is p1 paused
  d unpause p1
  d_status_is p1 running
  run d exec p1 echo alive
  [ "$output" = alive ]
}

@test "docker: stop sends SIGTERM, then SIGKILL after the timeout" {
  d run -d --network none --name s1 "$ENGINE_IMAGE" sh -c "$TRAP_TERM" >/dev/null
  engine_wait 10 d_logs_have s1 ready
  d stop -t 10 s1
  [ "$(d inspect -f '{{.State.ExitCode}}' s1)" = 7 ]
  run d logs s1
  [[ "$output" == *"got TERM"* ]]
  d run -d --network none --name s2 "$ENGINE_IMAGE" sh -c "$IGNORE_TERM" >/dev/null
  engine_wait 10 d_logs_have s2 ready
  SECONDS=0
  d stop -t 1 s2
  [ "$SECONDS" -lt 8 ]
  [ "$(d inspect -f '{{.State.ExitCode}}' s2)" = 137 ]
}

@test "docker: kill, start again, rm -f; runf keeps no state of removed containers" {
  d run -d --network none --name k1 "$ENGINE_IMAGE" sleep 1000 >/dev/null
  id=$(d inspect -f '{{.Id}}' k1)
  d kill -s KILL k1
  engine_wait 10 d_status_is k1 exited
  [ "$(d inspect -f '{{.State.ExitCode}}' k1)" = 137 ]
  d start k1
  d_status_is k1 running
  root=$ENGINE_DIR/exec/runtime-runf/moby
  "$RUNF_BIN" --root "$root" state "$id" | jq -e '.status == "running"'
  d rm -f k1
  [ ! -e "$root/$id" ]
  run d ps -aq
  [ -z "$output" ]
}

ms_now() {
  echo $(($(date +%s%N) / 1000000))
}

@test "docker: --pid host: stop ends the processes init leaves behind" {
  # What `stop -t 1` of a container that ignores SIGTERM takes here: 1 s
  # and docker's own work (seconds more under emulation, as in check-vm).
  d run -d --network none --name h0 "$ENGINE_IMAGE" sh -c "$IGNORE_TERM" >/dev/null
  engine_wait 10 d_logs_have h0 ready
  t0=$(ms_now)
  d stop -t 1 h0
  base=$(($(ms_now) - t0))
  d run -d --network none --pid host --name h1 "$ENGINE_IMAGE" \
    sh -c 'trap "" TERM; sleep 1000 & echo ready; wait' >/dev/null
  engine_wait 10 d_logs_have h1 ready
  t0=$(ms_now)
  d stop -t 1 h1
  took=$(($(ms_now) - t0))
  echo "stop -t 1: ${base} ms, with --pid host ${took} ms"
  # containerd's shim ends them with `runf kill --all` once init is gone;
  # a refusal there cost docker two more seconds.
  [ "$took" -lt $((base + 1500)) ]
  [ "$(d inspect -f '{{.State.ExitCode}}' h1)" = 137 ]
  ! grep -q "failed to kill init's children" "$ENGINE_DIR/dockerd.log"
}
