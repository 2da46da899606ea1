#!/usr/bin/env bats
# containerd with runf through its runc v2 shim: ctr's --runc-binary sets
# the shim's BinaryName option to runf for each container.  containerd
# runs as root on a config of its own (root, state, sockets, opt below one
# temp dir), started once for the file.

load engine_helpers
bats_require_minimum_version 1.5.0

c() {
  ctr --address "$ENGINE_DIR/containerd.sock" -n "$CTR_NS" "$@"
}

# ctr run with runf and the fifos in the engine dir.
crun_() {
  c run --runc-binary "$RUNF_BIN" --runc-root "$ENGINE_DIR/runf" --fifo-dir "$ENGINE_DIR/fifo" "$@"
}

cexec() {
  c task exec --fifo-dir "$ENGINE_DIR/fifo" "$@"
}

task_status_is() { # id status
  c task ls | awk -v id="$1" '$1 == id { print $3 }' | grep -qx "$2"
}

setup_file() {
  is_root || { engine_unavailable "containerd runs as root here (rootless containerd needs rootlesskit)"; return 0; }
  command -v containerd >/dev/null && command -v ctr >/dev/null ||
    { engine_unavailable "containerd is not installed"; return 0; }
  engine_begin containerd
  # The namespace names the cgroups (/NAMESPACE/ID): this run's own, so
  # that runs at the same time do not share them.
  CTR_NS=runf-engine-test-$(tr 'A-Z' 'a-z' <<<"${ENGINE_DIR##*.}")
  export CTR_NS
  cat >"$ENGINE_DIR/config.toml" <<EOF
version = 2
root = "$ENGINE_DIR/root"
state = "$ENGINE_DIR/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$ENGINE_DIR/containerd.sock"
[ttrpc]
  address = "$ENGINE_DIR/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$ENGINE_DIR/opt"
EOF
  # The shims' sockets go to /run/containerd/s whatever the config says;
  # the cgroups are /<namespace>/<id>.
  engine_note_fixed_paths /run/containerd /run/containerd/s
  engine_note_cgroup "$CTR_NS"
  engine_start_daemon containerd containerd --config "$ENGINE_DIR/config.toml"
  if ! engine_wait 20 c version; then
    engine_unavailable "containerd did not start: $(tail -3 "$ENGINE_DIR/containerd.log")"
    return 0
  fi
  c image import "$ENGINE_DIR/image.tar" >"$ENGINE_DIR/import.log" 2>&1 ||
    engine_unavailable "ctr cannot import an image here: $(tail -1 "$ENGINE_DIR/import.log")"
}

teardown_file() {
  [ -n "${ENGINE_DIR:-}" ] || return 0
  local id
  for id in $(c task ls -q 2>/dev/null); do
    c task kill -a -s KILL "$id" >/dev/null 2>&1
    c task delete -f "$id" >/dev/null 2>&1
  done
  for id in $(c container ls -q 2>/dev/null); do
    c container rm "$id" >/dev/null 2>&1
  done
  engine_end
  engine_assert_clean
}

setup() {
  engine_skip_if_unavailable
}

teardown() {
  local id
  for id in $(c task ls -q 2>/dev/null); do
    c task kill -a -s KILL "$id" >/dev/null 2>&1
    engine_wait 5 task_status_is "$id" STOPPED
    c task delete -f "$id" >/dev/null 2>&1
  done
  for id in $(c container ls -q 2>/dev/null); do
    c container rm "$id" >/dev/null 2>&1
  done
  # Slices a test had systemd make, once their units are gone.
  [ -z "${SLICES_TO_STOP:-}" ] || systemctl stop "$SLICES_TO_STOP" 2>/dev/null
  return 0
}

@test "containerd: run prints the output and returns the exit status; --rm leaves no state" {
  run crun_ --rm "$ENGINE_IMAGE" r1 echo hello
  [ "$status" -eq 0 ]
  [ "$output" = hello ]
  run -3 crun_ --rm "$ENGINE_IMAGE" r2 sh -c 'exit 3'
  run crun_ --rm "$ENGINE_IMAGE" r3 /nonexistent
  [ "$status" -ne 0 ]
  [[ "$output" == *"no such file or directory"* ]]
  run c container ls -q
  [ -z "$output" ]
  [ -z "$(ls -A "$ENGINE_DIR/runf/$CTR_NS" 2>/dev/null)" ]
}

@test "containerd: env, working directory, read-only rootfs" {
  run crun_ --rm --env FOO=bar --cwd /tmp --read-only "$ENGINE_IMAGE" r1 \
    sh -c 'echo $FOO; pwd; touch /x 2>/dev/null || echo refused'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "bar /tmp refused" ]
}

@test "containerd: a bind mount, read-only" {
  mkdir -p "$ENGINE_DIR/vol"
  echo data >"$ENGINE_DIR/vol/f"
  run crun_ --rm --mount "type=bind,src=$ENGINE_DIR/vol,dst=/vol,options=rbind:ro" "$ENGINE_IMAGE" r1 \
    sh -c 'cat /vol/f; touch /vol/g 2>/dev/null || echo refused'
  [ "$status" -eq 0 ]
  [ "${lines[*]}" = "data refused" ]
}

@test "containerd: a memory limit reaches the container's cgroup" {
  crun_ -d --null-io --memory-limit 67108864 "$ENGINE_IMAGE" m1 sleep 1000 >/dev/null
  if mem=$(cgroup_v1_mount memory); then
    limit=$(cat "$mem/$CTR_NS/m1/memory.limit_in_bytes")
  else
    limit=$(cat "$(cgroup_mount_of memory)/$CTR_NS/m1/memory.max")
  fi
  [ "$limit" = 67108864 ]
}

@test "containerd: the systemd cgroup driver (--runc-systemd-cgroup): a scope unit per task, its limit, stopped with the task" {
  engine_requires_systemd
  local unit=runf-ctr-$CTR_NS-s1.scope
  crun_ -d --null-io --runc-systemd-cgroup --cgroup "system.slice:runf-ctr:$CTR_NS-s1" \
    --memory-limit 67108864 "$ENGINE_IMAGE" s1 sleep 1000 >/dev/null
  run systemctl show -p ActiveState,Delegate,MemoryMax "$unit"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"Delegate=yes"* ]]
  [[ "$output" == *"MemoryMax=67108864"* ]]
  cg=$(systemctl show -p ControlGroup --value "$unit")
  [ "$cg" = "/system.slice/$unit" ]
  pid=$(c task ls | awk '$1 == "s1" { print $2 }')
  grep -qx "0::$cg" "/proc/$pid/cgroup"
  [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 67108864 ]
  c task kill -s KILL s1
  engine_wait 10 task_status_is s1 STOPPED
  c task delete s1 >/dev/null
  ! systemctl is-active -q "$unit"
  [ ! -d "/sys/fs/cgroup$cg" ]
}

@test "containerd: the systemd cgroup driver with a cgroupsPath as the kubelet's CRI gives it (a pod's slice)" {
  engine_requires_systemd
  # CRI's form: the pod's slice (nested by its dashes, made by systemd on
  # demand), prefix cri-containerd, the container's id.  A prefix of the
  # test's own stands for kubepods.
  local top=runfkube$$ pod unit
  pod=$top-besteffort-pod1.slice
  unit=cri-containerd-$CTR_NS-k1.scope
  SLICES_TO_STOP=$top.slice
  crun_ -d --null-io --runc-systemd-cgroup --cgroup "$pod:cri-containerd:$CTR_NS-k1" \
    --memory-limit 67108864 "$ENGINE_IMAGE" k1 sleep 1000 >/dev/null
  run systemctl show -p ActiveState,Slice,Delegate,MemoryMax,ControlGroup "$unit"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"Slice=$pod"* ]]
  [[ "$output" == *"Delegate=yes"* ]]
  [[ "$output" == *"MemoryMax=67108864"* ]]
  [[ "$output" == *"ControlGroup=/$top.slice/$top-besteffort.slice/$pod/$unit"* ]]
  pid=$(c task ls | awk '$1 == "k1" { print $2 }')
  grep -qx "0::/$top.slice/$top-besteffort.slice/$pod/$unit" "/proc/$pid/cgroup"
  c task kill -s KILL k1
  engine_wait 10 task_status_is k1 STOPPED
  c task delete k1 >/dev/null
  ! systemctl is-active -q "$unit"
}

@test "containerd: detached run, task exec with and without a tty, ps, delete" {
  crun_ -d --log-uri "file://$ENGINE_DIR/d1.log" "$ENGINE_IMAGE" d1 sh -c "$TRAP_TERM" >/dev/null
  engine_wait 10 grep -q ready "$ENGINE_DIR/d1.log"
  task_status_is d1 RUNNING
  run -4 cexec --exec-id e1 d1 sh -c 'echo in exec; exit 4'
  [ "$output" = "in exec" ]
  run cexec --exec-id e2 --user 1000 --cwd /home d1 sh -c 'echo $(id -u) $(pwd)'
  [ "$output" = "1000 /home" ]
  # ctr wants a terminal of its own for -t.
  run script -qec "ctr --address $ENGINE_DIR/containerd.sock -n $CTR_NS task exec -t --fifo-dir $ENGINE_DIR/fifo --exec-id e3 d1 tty" /dev/null </dev/null
  [[ "$output" == */dev/pts/* ]]
  run c task ps d1
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -ge 2 ]
  init=$(c task ls | awk '$1 == "d1" { print $2 }')
  [[ "$output" == *"$init"* ]]
  c task kill -s TERM d1
  engine_wait 10 task_status_is d1 STOPPED
  grep -q "got TERM" "$ENGINE_DIR/d1.log"
  c task delete d1
  c container rm d1
  [ -z "$(ls -A "$ENGINE_DIR/runf/$CTR_NS" 2>/dev/null)" ]
}

@test "containerd: pause and resume" {
  run "$RUNF_BIN" pause no-such-container
  [[ "$output" != *"not implemented"* ]] || skip "this runf has no pause yet"
  crun_ -d --null-io "$ENGINE_IMAGE" p1 sleep 1000 >/dev/null
  c task pause p1
  task_status_is p1 PAUSED
  c task resume p1
  task_status_is p1 RUNNING
  run cexec --exec-id e1 p1 echo alive
  [ "$output" = alive ]
}

@test "containerd: the exit status of a stopped task: TERM handled, KILL, kill --all" {
  crun_ --rm "$ENGINE_IMAGE" s1 sh -c "$TRAP_TERM" >"$ENGINE_DIR/s1.out" 2>&1 3>&- &
  job=$!
  engine_wait 10 grep -q ready "$ENGINE_DIR/s1.out"
  c task kill -s TERM s1
  wait "$job" || st=$?
  [ "${st:-0}" -eq 7 ]
  grep -q "got TERM" "$ENGINE_DIR/s1.out"

  crun_ --rm "$ENGINE_IMAGE" s2 sh -c "$IGNORE_TERM" >"$ENGINE_DIR/s2.out" 2>&1 3>&- &
  job=$!
  engine_wait 10 grep -q ready "$ENGINE_DIR/s2.out"
  c task kill -s KILL s2
  st=0
  wait "$job" || st=$?
  [ "$st" -eq 137 ]

  # --all reaches the processes exec added too.
  crun_ -d --null-io "$ENGINE_IMAGE" s3 sleep 1000 >/dev/null
  cexec -d --exec-id e1 s3 sleep 1000
  [ "$(c task ps s3 | tail -n +2 | wc -l)" -eq 2 ]
  c task kill -a -s KILL s3
  engine_wait 10 task_status_is s3 STOPPED
}
