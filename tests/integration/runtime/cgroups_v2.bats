#!/usr/bin/env bats
# cgroup v2 alone.  On a pure v2 host these run as they are; on a hybrid
# host every runf call runs in a private mount namespace where the v2
# hierarchy is mounted on /sys/fs/cgroup, so runf sees a unified layout.
# The v1 hierarchies stay busy there, so that v2 hierarchy has only the
# controllers no v1 mount holds (hugetlb on the development machines) and
# the core features: placement, cgroup.freeze, cgroup.kill, device
# programs, hugetlb limits.

load ../helpers

setup() {
  requires_root
  if cgroup_unified_p; then
    V2_ROOT=/sys/fs/cgroup
    V2_UNSHARE=
  elif V2_ROOT=$(cgroup_v2_mount); then
    V2_UNSHARE=1
  else
    skip "no cgroup v2 hierarchy on this host"
  fi
  setup_bundle
  update_config '.root.readonly = false | del(.linux.cgroupsPath)'
  # runf's default place, /runf/<id>, with ids no other suite uses.
  CID="cg2-$$-$BATS_TEST_NUMBER"
  HUGEPAGES_ADDED=0
}

teardown() {
  teardown_bundle
  # Give back what this test reserved, not a count read before: another
  # run may have reserved pages meanwhile.
  if [ "${HUGEPAGES_ADDED:-0}" -gt 0 ]; then
    echo $(($(cat /proc/sys/vm/nr_hugepages) - HUGEPAGES_ADDED)) >/proc/sys/vm/nr_hugepages
  fi
}

# Every runf call (teardown's too) sees the v2 hierarchy on /sys/fs/cgroup.
runf() {
  if [ -n "$V2_UNSHARE" ]; then
    unshare -m sh -c 'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh \
      "$RUNF_BIN" --root "$STATE_ROOT" "$@"
  else
    "$RUNF_BIN" --root "$STATE_ROOT" "$@"
  fi
}

v2_has() {
  grep -qw "$1" "$V2_ROOT/cgroup.controllers"
}

init_pid() { runf state "$CID" | jq -r .pid; }

@test "v2: init starts in the container's cgroup (clone3 with CLONE_INTO_CGROUP)" {
  set_args sleep 1000
  runf_detached run -d "$CID"
  pid=$(init_pid)
  grep -qx "0::/runf/$CID" "/proc/$pid/cgroup"
  grep -qx "$pid" "$V2_ROOT/runf/$CID/cgroup.procs"
  # No v1 directory was made: runf saw a v2-only host.
  for h in $(cgroup_hierarchies); do
    [ "$h" = "$V2_ROOT" ] || [ ! -e "$h/runf/$CID" ]
  done
}

@test "v2: the clone that makes init names the cgroup (no migration after)" {
  command -v strace >/dev/null || skip "needs strace"
  set_args true
  if [ -n "$V2_UNSHARE" ]; then
    run strace -f -e trace=clone3 -o "$TEST_DIR/trace" unshare -m sh -c \
      'mount -t cgroup2 none /sys/fs/cgroup && exec "$@"' sh "$RUNF_BIN" --root "$STATE_ROOT" run "$CID"
  else
    run strace -f -e trace=clone3 -o "$TEST_DIR/trace" "$RUNF_BIN" --root "$STATE_ROOT" run "$CID"
  fi
  [ "$status" -eq 0 ]
  grep -q 'CLONE_INTO_CGROUP' "$TEST_DIR/trace"
}

@test "v2: pause and resume through cgroup.freeze" {
  set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; sleep 0.05; done'
  runf_detached run -d "$CID"
  wait_for test -s "$BUNDLE/rootfs/tmp/c"
  runf pause "$CID"
  [ "$(runf state "$CID" | jq -r .status)" = paused ]
  [ "$(cat "$V2_ROOT/runf/$CID/cgroup.freeze")" = 1 ]
  grep -qx 'frozen 1' "$V2_ROOT/runf/$CID/cgroup.events"
  a=$(cat "$BUNDLE/rootfs/tmp/c")
  sleep 0.5
  [ "$(cat "$BUNDLE/rootfs/tmp/c")" = "$a" ]
  runf resume "$CID"
  [ "$(cat "$V2_ROOT/runf/$CID/cgroup.freeze")" = 0 ]
  [ "$(runf state "$CID" | jq -r .status)" = running ]
  wait_for sh -c "[ \$(cat '$BUNDLE/rootfs/tmp/c') -gt $a ]"
}

@test "v2: delete --force of a paused container ends every process (cgroup.kill) and removes the cgroup" {
  set_args sh -c 'sleep 1000 & sleep 1000 & sleep 1000'
  runf_detached run -d "$CID"
  wait_for sh -c "[ \$(wc -l <'$V2_ROOT/runf/$CID/cgroup.procs') -ge 3 ]"
  pids=$(cat "$V2_ROOT/runf/$CID/cgroup.procs")
  runf pause "$CID"
  runf delete -f "$CID"
  for p in $pids; do
    [ ! -e "/proc/$p" ] || grep -q '^State:.*Z' "/proc/$p/status" || { echo "$p lives on"; false; }
  done
  [ ! -e "$V2_ROOT/runf/$CID" ]
}

@test "v2: the device program denies writes to a device while reads still work" {
  # The config's rules come before the default devices' (as runc's), so a
  # device outside the defaults: the host's fuse, bound in (opening it does
  # nothing).
  [ -e /dev/fuse ] || skip "no fuse device on this host"
  update_config '.mounts += [{"destination": "/dev/fuse", "type": "bind", "source": "/dev/fuse", "options": ["bind"]}]
    | .linux.resources = {"devices": [{"allow": false, "type": "c", "major": 10, "minor": 229, "access": "w"},
                                      {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}]}'
  set_args sh -c 'true </dev/fuse && echo read-ok; true >/dev/fuse && echo write-ok || echo write-denied; echo x >/dev/null && echo null-ok'
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [[ "$output" == *read-ok* ]]
  [[ "$output" == *write-denied* ]]
  [[ "$output" != *write-ok* ]]
  [[ "$output" == *null-ok* ]]
}

@test "v2: update of device rules (and of anything else) never takes away a device that stays allowed" {
  update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
  set_args sh -c "$DEVICE_LOOP"
  runf_detached run -d "$CID"
  check_device_updates_without_gaps "" "$(v2_has pids && echo pids)"
}

@test "v2: devices not in the default list stay closed" {
  # /dev/loop-control (c 10:237) opens for root on the host; it is not in
  # runc's default list, so the container (which sees it through a bind
  # mount of /dev) may not open it.
  [ -c /dev/loop-control ] && (: </dev/loop-control) 2>/dev/null || skip "no /dev/loop-control to open here"
  update_config '.mounts += [{"destination": "/hostdev", "type": "bind", "source": "/dev", "options": ["rbind"]}]'
  set_args sh -c '(: </hostdev/loop-control) 2>/dev/null && echo loop-open || echo loop-denied; head -c 1 /hostdev/zero >/dev/null && echo zero-open'
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [[ "$output" == *loop-denied* ]]
  [[ "$output" == *zero-open* ]]
}

@test "v2: a hugetlb limit is written to hugetlb.2MB.max and enforced" {
  v2_has hugetlb || skip "the v2 hierarchy has no hugetlb controller"
  [ -e "$V2_ROOT/hugetlb.2MB.current" ] || [ -e /sys/kernel/mm/hugepages/hugepages-2048kB ] || skip "no 2MB huge pages"
  update_config '.linux.resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}]}'
  set_args sh -c 'alloc --huge 2; alloc --huge 4; echo "status $?"; sleep 1000'
  # Enough free huge pages that only the limit can refuse the second.
  before=$(cat /proc/sys/vm/nr_hugepages)
  echo $((before + 4)) >/proc/sys/vm/nr_hugepages
  HUGEPAGES_ADDED=$(($(cat /proc/sys/vm/nr_hugepages) - before))
  [ "$(awk '/HugePages_Free/ { print $2 }' /proc/meminfo)" -ge 2 ] || skip "could not reserve huge pages"
  runf_detached run -d "$CID"
  [ "$(cat "$V2_ROOT/runf/$CID/hugetlb.2MB.max")" = 2097152 ]
  wait_for grep -q status "$TEST_DIR/detached.out"
  cat "$TEST_DIR/detached.out"
  grep -q "allocated 2 MB" "$TEST_DIR/detached.out"
  [ "$(grep -c "allocated 4 MB" "$TEST_DIR/detached.out")" = 0 ]
  grep -q "status 135" "$TEST_DIR/detached.out" # SIGBUS
  run runf events --stats "$CID"
  echo "$output" | jq -e '.data.hugetlb["2MB"].failcnt >= 1'
  # update changes it in place.
  echo '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}' >"$TEST_DIR/res.json"
  runf update -r "$TEST_DIR/res.json" "$CID"
  [ "$(cat "$V2_ROOT/runf/$CID/hugetlb.2MB.max")" = 4194304 ]
}

@test "v2: a cgroup namespace shows the container its own cgroup as /" {
  update_config '.linux.namespaces += [{"type": "cgroup"}]'
  set_args cat /proc/self/cgroup
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"0::/"* ]]
  for line in "${lines[@]}"; do
    [[ "$line" == *":/" ]] || { echo "not the root: $line"; false; }
  done
}

@test "v2: events --stats reads cpu.stat and the v2 files" {
  set_args sh -c 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; sleep 1000'
  runf_detached run -d "$CID"
  sleep 0.3
  run runf events --stats "$CID"
  [ "$status" -eq 0 ]
  echo "$output" | jq -e --arg id "$CID" '.type == "stats" and .id == $id'
  echo "$output" | jq -e '.data.cpu.usage.total > 0 and .data.cpu.usage.user + .data.cpu.usage.kernel > 0'
  echo "$output" | jq -e '.data.memory.usage | has("limit") and has("failcnt")'
  if v2_has hugetlb; then
    echo "$output" | jq -e '.data.hugetlb | has("2MB")'
  fi
}

@test "v2: limits the v2 hierarchy has no controller for fail in one line, naming the field" {
  v2_has memory && skip "this v2 hierarchy has the memory controller"
  update_config '.linux.resources = {"memory": {"limit": 67108864}}'
  run runf run "$CID"
  assert_one_error_line "linux.resources.memory.limit"
  assert_no_leftovers
  [ ! -e "$V2_ROOT/runf/$CID" ]
  update_config 'del(.linux.resources)'
  set_args sleep 1000
  runf_detached run -d "$CID"
  run runf update --memory 64m "$CID"
  assert_one_error_line "linux.resources.memory.limit"
  jq -e '.linux.resources.memory == null' "$STATE_ROOT/$CID/config.json"
}

# The controllers a hybrid host keeps in v1: these run on a pure v2 host
# (make check-vm's guest) and skip elsewhere.
v2_requires() {
  local c
  for c in "$@"; do
    v2_has "$c" || skip "the v2 hierarchy has no $c controller here (pure v2 hosts have it: make check-vm)"
  done
}

@test "v2 controllers: memory, swap, reservation, pids, cpu weight, max and burst, cpuset land in their files; update changes them" {
  v2_requires memory pids cpu cpuset
  update_config '.linux.resources = {"memory": {"limit": 33554432, "swap": 50331648, "reservation": 16777216},
    "pids": {"limit": 20}, "cpu": {"shares": 512, "quota": 20000, "period": 100000, "cpus": "0", "mems": "0"}}'
  set_args sleep 1000
  runf_detached run -d "$CID"
  d=$V2_ROOT/runf/$CID
  [ "$(cat "$d/memory.max")" = 33554432 ]
  # v2 swap is swap alone: memory+swap minus the limit.
  [ "$(cat "$d/memory.swap.max")" = 16777216 ]
  [ "$(cat "$d/memory.low")" = 16777216 ]
  [ "$(cat "$d/pids.max")" = 20 ]
  # 1 + (512 - 2) * 9999 / 262142
  [ "$(cat "$d/cpu.weight")" = 20 ]
  [ "$(cat "$d/cpu.max")" = "20000 100000" ]
  [ "$(cat "$d/cpuset.cpus")" = 0 ]
  [ "$(cat "$d/cpuset.mems")" = 0 ]

  runf update --memory 64m --memory-swap 128m --pids-limit 50 --cpu-quota 50000 --cpu-share 1024 "$CID"
  [ "$(cat "$d/memory.max")" = 67108864 ]
  [ "$(cat "$d/memory.swap.max")" = 67108864 ]
  [ "$(cat "$d/pids.max")" = 50 ]
  [ "$(cat "$d/cpu.max")" = "50000 100000" ]
  [ "$(cat "$d/cpu.weight")" = 39 ]
  # -1 lifts them.
  runf update --memory -1 --pids-limit -1 --cpu-quota -1 "$CID"
  [ "$(cat "$d/memory.max")" = max ]
  [ "$(cat "$d/memory.swap.max")" = max ]
  [ "$(cat "$d/pids.max")" = max ]
  [ "$(cat "$d/cpu.max")" = "max 100000" ]
}

@test "v2 controllers: a memory limit (swap limited too) OOM-kills past it and memory.events counts it; a pids limit stops a fork bomb" {
  v2_requires memory pids
  update_config '.linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
  set_args sh -c 'alloc 8; alloc 64; echo "status $?"; sleep 1000'
  runf_detached run -d "$CID"
  wait_for grep -q status "$TEST_DIR/detached.out"
  cat "$TEST_DIR/detached.out"
  grep -q "allocated 8 MB" "$TEST_DIR/detached.out"
  [ "$(grep -c "allocated 64 MB" "$TEST_DIR/detached.out")" = 0 ]
  grep -q "status 137" "$TEST_DIR/detached.out"
  grep -qE '^oom_kill [1-9]' "$V2_ROOT/runf/$CID/memory.events"
  run runf events --stats "$CID"
  echo "$output" | jq -e '.data.memory.usage.limit == 16777216 and .data.memory.usage.failcnt >= 1'
  runf delete -f "$CID"

  update_config '.linux.resources = {"pids": {"limit": 20}}'
  set_args spawn 100
  run runf run "$CID"
  [ "$status" -eq 0 ]
  read -r _ started _ failed <<<"$output"
  echo "started $started failed $failed"
  [ "$started" -le 19 ]
  [ "$started" -ge 1 ]
  [ $((started + failed)) -eq 100 ]
}

@test "v2 controllers: a cpu quota throttles a busy loop (cpu.stat), io.max is written for the bundle's disk" {
  v2_requires cpu io
  update_config '.linux.resources = {"cpu": {"quota": 20000, "period": 100000}}'
  set_args sh -c 'while :; do :; done'
  runf_detached run -d "$CID"
  d=$V2_ROOT/runf/$CID
  sleep 1
  grep -qE '^nr_throttled [1-9]' "$d/cpu.stat"
  u0=$(awk '$1 == "usage_usec" { print $2 }' "$d/cpu.stat")
  t0=$(date +%s%N)
  sleep 1
  u1=$(awk '$1 == "usage_usec" { print $2 }' "$d/cpu.stat")
  t1=$(date +%s%N)
  used=$(( (u1 - u0) * 100000 / (t1 - t0) ))
  echo "used ${used}% of one cpu"
  [ "$used" -le 30 ]
  runf delete -f "$CID"

  dev=$(stat -c '%d' "$BUNDLE")
  dev="$((dev >> 8)):$((dev & 255))"
  # A partition's disk: io.max takes whole disks only.
  if [ -e "/sys/dev/block/$dev/partition" ]; then
    dev=$(cat "/sys/dev/block/$dev/../dev")
  fi
  [ -e "/sys/dev/block/$dev" ] || skip "the bundle is not on a block device ($dev)"
  maj=${dev%:*} min=${dev#*:}
  update_config ".linux.resources = {\"blockIO\": {\"throttleWriteBpsDevice\": [{\"major\": $maj, \"minor\": $min, \"rate\": 524288}]}}"
  set_args sleep 1000
  runf_detached run -d "$CID"
  grep -q "^$dev .*wbps=524288" "$d/io.max"
}
