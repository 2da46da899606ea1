#!/usr/bin/env bats
# cgroups on this host's layout (v1 controllers, or hybrid, or pure v2):
# each limit is observed by what it does to a process in the container,
# and pause, resume, update, events and delete by their effect on the
# cgroup.  Pure v2 on a hybrid host is in cgroups_v2.bats.

load ../helpers

setup() {
  setup_bundle
  update_config '.root.readonly = false | del(.linux.cgroupsPath)'
  # runf's default place, /runf/<id>, with ids no other suite uses.
  CID="cg$$-$BATS_TEST_NUMBER"
  EXTRA_DIRS=()
}

teardown() {
  teardown_bundle
  local d
  for d in "${EXTRA_DIRS[@]}"; do
    rmdir "$d" 2>/dev/null || true
  done
}

requires_v1() {
  requires_root
  cgroup_v1_mount memory >/dev/null || skip "needs the cgroup v1 controllers (a hybrid or legacy host)"
}

# The container's directory for a v1 controller ("memory", "cpu"), or for
# the v2 hierarchy (""), from init's /proc/PID/cgroup: where the kernel
# says it is, not where runf says it put it.
cgroup_dir() {
  local pid path mount
  pid=$(runf state "$CID" | jq -r .pid)
  path=$(awk -F: -v c="$1" '{ n = split($2, a, ","); if (c == "" && $2 == "") print $3;
         for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
  if [ -z "$1" ]; then
    mount=$(cgroup_v2_mount)
  else
    mount=$(cgroup_v1_mount "$1")
  fi
  echo "$mount$path"
}

# A counter in /tmp/c that grows every 50 ms while the container runs.
start_counter() {
  set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; sleep 0.05; done'
  runf_detached run -d "$CID"
  wait_for test -s "$BUNDLE/rootfs/tmp/c"
}

counter() { cat "$BUNDLE/rootfs/tmp/c"; }

@test "a memory limit OOM-kills a process that allocates past it" {
  requires_v1
  update_config '.linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
  set_args sh -c 'alloc 8; alloc 64; echo "status $?"'
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"allocated 8 MB"* ]]
  [[ "$output" != *"allocated 64 MB"* ]]
  [[ "$output" == *"status 137"* ]]
}

@test "a pids limit stops a fork bomb" {
  requires_v1
  update_config '.linux.resources = {"pids": {"limit": 20}}'
  set_args spawn 100
  run runf run "$CID"
  [ "$status" -eq 0 ]
  read -r _ started _ failed <<<"$output"
  echo "started $started failed $failed"
  # spawn itself is one of the 20.
  [ "$started" -le 19 ]
  [ "$started" -ge 1 ]
  [ $((started + failed)) -eq 100 ]
}

@test "a cpu quota is written to the cpu cgroup and throttles a busy loop" {
  requires_v1
  update_config '.linux.resources = {"cpu": {"quota": 20000, "period": 100000, "shares": 512}}'
  set_args sh -c 'while :; do :; done'
  runf_detached run -d "$CID"
  cpu=$(cgroup_dir cpu)
  acct=$(cgroup_dir cpuacct)
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = 20000 ]
  [ "$(cat "$cpu/cpu.cfs_period_us")" = 100000 ]
  [ "$(cat "$cpu/cpu.shares")" = 512 ]
  u0=$(cat "$acct/cpuacct.usage")
  t0=$(date +%s%N)
  sleep 1
  u1=$(cat "$acct/cpuacct.usage")
  t1=$(date +%s%N)
  used=$(( (u1 - u0) * 100 / (t1 - t0) ))
  echo "used ${used}% of one cpu"
  # 20% allowed; the accounting of a period may spill over a little.
  [ "$used" -le 30 ]
  grep -qE '^nr_throttled [1-9]' "$cpu/cpu.stat"
  grep -qE '^throttled_time [1-9]' "$cpu/cpu.stat"
}

@test "a cpuset pins the container to the cpus given" {
  requires_v1
  update_config '.linux.resources = {"cpu": {"cpus": "0", "mems": "0"}}'
  set_args sh -c 'grep -E "^(Cpus|Mems)_allowed_list" /proc/self/status'
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"Cpus_allowed_list:"*"0"* ]]
  [ "$(echo "$output" | awk '/^Cpus/ { print $2 }')" = 0 ]
  [ "$(echo "$output" | awk '/^Mems/ { print $2 }')" = 0 ]
}

@test "a blkio weight is set (refused in one line where no scheduler has weights) and a write throttle slows direct writes" {
  requires_v1
  dev=$(stat -c '%Hd:%Ld' "$BUNDLE/rootfs")
  [ -e "/sys/dev/block/$dev" ] || skip "the bundle is not on a block device ($dev)"
  major=${dev%:*} minor=${dev#*:}
  # Weights need a proportional I/O scheduler (CFQ: blkio.weight, BFQ:
  # blkio.bfq.weight, in every cgroup but the root); a host may have none.
  probe=$(cgroup_v1_mount blkio)/runf-tests-probe-$$
  EXTRA_DIRS+=("$probe")
  mkdir "$probe"
  weights=false
  if [ -e "$probe/blkio.weight" ] || [ -e "$probe/blkio.bfq.weight" ]; then
    weights=true
  fi
  rmdir "$probe"
  if ! $weights; then
    update_config '.linux.resources = {"blockIO": {"weight": 300}}'
    run runf run "$CID"
    assert_one_error_line "linux.resources.blockIO.weight"
    assert_no_leftovers
  fi
  update_config --argjson ma "$major" --argjson mi "$minor" --argjson w "$weights" \
    '.linux.resources = {"blockIO": ({"throttleWriteBpsDevice": [{"major": $ma, "minor": $mi, "rate": 524288}]}
                                     + if $w then {"weight": 300} else {} end)}'
  set_args sh -c 'dd if=/dev/zero of=/tmp/f bs=64k count=16 oflag=direct 2>/dev/null; sleep 1000'
  t0=$(date +%s%N)
  runf_detached run -d "$CID"
  blk=$(cgroup_dir blkio)
  grep -q "^$dev 524288$" "$blk/blkio.throttle.write_bps_device"
  if ! $weights; then
    :
  elif [ -e "$blk/blkio.weight" ]; then
    grep -qw 300 "$blk/blkio.weight"
  else
    grep -qw 300 "$blk/blkio.bfq.weight"
  fi
  # 1 MiB at 512 KiB/s: about two seconds instead of a few milliseconds.
  wait_for sh -c "[ \$(stat -c %s '$BUNDLE/rootfs/tmp/f' 2>/dev/null || echo 0) -ge 1048576 ]"
  t1=$(date +%s%N)
  echo "took $(( (t1 - t0) / 1000000 )) ms"
  [ $(( (t1 - t0) / 1000000 )) -ge 1500 ]
}

@test "a device rule denies writes to a device while reads still work" {
  requires_root
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

@test "linux.devices makes a node that only a device rule lets the container use (as runc)" {
  requires_root
  cgroup_v1_mount devices >/dev/null || cgroup_unified_p || skip "no device controller here"
  update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
  set_args sh -c 'test -c /dev/fuse && echo node; (true </dev/fuse) 2>/dev/null && echo opened || echo refused'
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'node\nrefused')" ]
  update_config '.linux.resources.devices = [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}]'
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'node\nopened')" ]
}

@test "update of device rules (and of anything else) never takes away a device that stays allowed" {
  requires_v1
  cgroup_v1_mount devices >/dev/null || skip "no v1 device controller here"
  update_config '.linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
  set_args sh -c "$DEVICE_LOOP"
  runf_detached run -d "$CID"
  check_device_updates_without_gaps "$(cgroup_dir devices)/devices.list" pids
}

@test "update of a cpu period below a parent with a quota (a pod): the new quota goes first" {
  requires_v1
  local parent
  parent=$(cgroup_v1_mount cpu)/runftest-$$-pod
  for h in $(cgroup_hierarchies); do
    EXTRA_DIRS+=("$h/runftest-$$-pod")
  done
  mkdir "$parent"
  echo 100000 >"$parent/cpu.cfs_period_us"
  echo 50000 >"$parent/cpu.cfs_quota_us"
  update_config --arg p "/runftest-$$-pod/$CID" \
    '.linux.cgroupsPath = $p | .linux.resources = {"cpu": {"period": 100000, "quota": 40000}}'
  set_args sleep 1000
  runf_detached run -d "$CID"
  cpu=$(cgroup_dir cpu)
  # 40000 of a 50000 period is more than the pod's half a CPU: written in
  # the old order the period is refused.
  runf update --cpu-period 50000 --cpu-quota 20000 "$CID"
  [ "$(cat "$cpu/cpu.cfs_period_us")" = 50000 ]
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = 20000 ]
  # And back up: the period first, as before.
  runf update --cpu-period 100000 --cpu-quota 45000 "$CID"
  [ "$(cat "$cpu/cpu.cfs_period_us")" = 100000 ]
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = 45000 ]
  # What the pod does not allow is still refused, in one line.
  run runf update --cpu-quota 90000 "$CID"
  [ "$status" -ne 0 ]
  assert_one_error_line "cpu"
}

@test "hugepage limits go to the hierarchy that has hugetlb (v2 on hybrid hosts)" {
  requires_root
  if cgroup_v1_mount hugetlb >/dev/null; then
    ctrl=hugetlb file=hugetlb.2MB.limit_in_bytes
  else
    cgroup_v2_has hugetlb || skip "no hugetlb controller"
    ctrl="" file=hugetlb.2MB.max
  fi
  update_config '.linux.resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}'
  set_args sleep 1000
  runf_detached run -d "$CID"
  [ "$(cat "$(cgroup_dir "$ctrl")/$file")" = 4194304 ]
  runf events --stats "$CID" | jq -e '.data.hugetlb | has("2MB")'
}

@test "directories below /sys/fs/cgroup that are not mounted are not hierarchies (podman leaves some)" {
  requires_root
  cgroup_unified_p && skip "/sys/fs/cgroup is the v2 hierarchy here: a directory made there is a cgroup"
  # cgroup-leftovers.sh plants hugetlb/libpod_parent and the like, on a
  # private tmpfs over /sys/fs/cgroup that also covers the host's own
  # mounts there (which runf must not take for hierarchies either), and
  # fails when anything was written below what it planted.
  v2=$(cgroup_v2_mount) || v2=""
  if [ -n "$v2" ] && ! cgroup_v1_mount hugetlb >/dev/null && cgroup_v2_has hugetlb; then
    update_config '.linux.resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}'
  fi
  set_args sh -c 'ls /sys/fs/cgroup; [ -z "$1" ] || echo "limit $(cat "/sys/fs/cgroup/$1/hugetlb.2MB.max")"' \
    sh "${v2##*/}"
  run "$TOP/tests/integration/cgroup-leftovers.sh" "$RUNF_BIN" --root "$STATE_ROOT" run "$CID"
  echo "$output"
  [ "$status" -eq 0 ]
  planted=$(sed -n 's/^cgroup-leftovers: planted//p' <<<"$output")
  [ -n "$planted" ] || skip "every controller has a v1 hierarchy here: no name left to plant"
  diff <(cgroup_container_names) <(printf '%s\n' "${lines[@]}" | grep -v '^cgroup-leftovers: \|^limit ' | sort)
  if jq -e '.linux.resources.hugepageLimits' "$BUNDLE/config.json" >/dev/null; then
    [[ "$output" == *"limit 4194304"* ]]
  fi
  assert_no_leftovers
}

@test "pause stops every process, state says paused, resume lets them go on" {
  requires_root
  start_counter
  runf_detached exec -d "$CID" sh -c 'while :; do date +%s%N >/tmp/d; sleep 0.05; done'
  wait_for test -s "$BUNDLE/rootfs/tmp/d"
  run runf pause "$CID"
  [ "$status" -eq 0 ]
  [ -z "$output" ]
  [ "$(runf state "$CID" | jq -r .status)" = paused ]
  [ "$(runf list -f json | jq -r '.[0].status')" = paused ]
  a=$(counter) d=$(cat "$BUNDLE/rootfs/tmp/d")
  sleep 0.5
  [ "$(counter)" = "$a" ]
  [ "$(cat "$BUNDLE/rootfs/tmp/d")" = "$d" ]
  if cgroup_v1_mount freezer >/dev/null; then
    [ "$(cat "$(cgroup_dir freezer)/freezer.state")" = FROZEN ]
  fi
  # exec would freeze on joining the cgroup: refused, as runc does.
  run runf exec "$CID" true
  assert_one_error_line "paused"
  run runf resume "$CID"
  [ "$status" -eq 0 ]
  [ "$(runf state "$CID" | jq -r .status)" = running ]
  wait_for sh -c "[ \$(cat '$BUNDLE/rootfs/tmp/c') -gt $a ]"
  runf exec "$CID" true
}

@test "pause and resume in the wrong state: one line each" {
  requires_root
  set_args sleep 1000
  runf_detached create "$CID"
  run runf pause "$CID"
  assert_one_error_line "is not running: it is created"
  run runf resume "$CID"
  assert_one_error_line "is not paused: it is created"
  runf start "$CID"
  run runf resume "$CID"
  assert_one_error_line "not paused"
  runf pause "$CID"
  run runf pause "$CID"
  assert_one_error_line "already paused"
  # A paused container is not deleted without --force, and is with it.
  run runf delete "$CID"
  assert_one_error_line "paused"
  runf delete -f "$CID"
  set_args true
  runf run "$CID"
  runf_detached create "$CID"
  runf start "$CID"
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state $CID | jq -e '.status == \"stopped\"'"
  run runf pause "$CID"
  assert_one_error_line "is not running: it is stopped"
  run runf pause nosuch
  assert_one_error_line "does not exist"
  run runf pause
  assert_one_error_line "container id"
}

@test "update changes limits in place and records them in the saved config" {
  requires_v1
  update_config '.linux.resources = {"pids": {"limit": 10}, "memory": {"limit": 33554432}}'
  set_args sleep 1000
  runf_detached run -d "$CID"
  pids=$(cgroup_dir pids) mem=$(cgroup_dir memory) cpu=$(cgroup_dir cpu)
  # 10 pids: init, the exec'd spawn and what it can start.
  run runf exec "$CID" spawn 30
  read -r _ started _ failed <<<"$output"
  [ "$started" -le 8 ]
  [ $((started + failed)) -eq 30 ]
  run runf update --pids-limit 50 --memory 64m --memory-reservation 32M --cpu-share 256 \
    --cpu-quota 30000 --cpu-period 200000 "$CID"
  [ "$status" -eq 0 ]
  [ "$(cat "$pids/pids.max")" = 50 ]
  [ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ]
  [ "$(cat "$mem/memory.soft_limit_in_bytes")" = 33554432 ]
  [ "$(cat "$cpu/cpu.shares")" = 256 ]
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = 30000 ]
  [ "$(cat "$cpu/cpu.cfs_period_us")" = 200000 ]
  run runf exec "$CID" spawn 30
  [[ "$output" == *"started 30 failed 0"* ]]
  # The saved config: what exec and events read.
  jq -e '.linux.resources | .pids.limit == 50 and .memory.limit == 67108864
         and .memory.reservation == 33554432 and .cpu.shares == 256
         and .cpu.quota == 30000 and .cpu.period == 200000' "$STATE_ROOT/$CID/config.json"
  # -r from a file and from stdin; values left out stay as they are.
  echo '{"pids": {"limit": 77}}' >"$TEST_DIR/res.json"
  runf update -r "$TEST_DIR/res.json" "$CID"
  [ "$(cat "$pids/pids.max")" = 77 ]
  echo '{"memory": {"limit": 50331648, "swap": 100663296}, "cpu": {"quota": -1}}' | runf update -r - "$CID"
  [ "$(cat "$mem/memory.limit_in_bytes")" = 50331648 ]
  [ "$(cat "$mem/memory.memsw.limit_in_bytes")" = 100663296 ]
  [ "$(cat "$cpu/cpu.cfs_quota_us")" = -1 ]
  jq -e '.linux.resources | .pids.limit == 77 and .memory.swap == 100663296 and .cpu.period == 200000' \
    "$STATE_ROOT/$CID/config.json"
  # -1 lifts the limit (and the swap limit set with it, as runc does).
  runf update --memory -1 --pids-limit -1 "$CID"
  [ "$(cat "$pids/pids.max")" = max ]
  [ "$(cat "$mem/memory.limit_in_bytes")" -gt 1000000000000 ]
  [ "$(cat "$mem/memory.memsw.limit_in_bytes")" -gt 1000000000000 ]
}

@test "update of a paused container applies, and --kernel-memory is accepted with a warning" {
  requires_v1
  set_args sleep 1000
  runf_detached run -d "$CID"
  runf pause "$CID"
  run runf update --pids-limit 33 --kernel-memory 10m "$CID"
  [ "$status" -eq 0 ]
  [[ "$output" == *"--kernel-memory is ignored"* ]]
  [ "$(cat "$(cgroup_dir pids)/pids.max")" = 33 ]
  [ "$(runf state "$CID" | jq -r .status)" = paused ]
}

@test "update bad input: one line naming the flag or field, nothing changed" {
  requires_v1
  update_config '.linux.resources = {"pids": {"limit": 10}}'
  set_args sleep 1000
  runf_detached run -d "$CID"
  pids=$(cgroup_dir pids)
  cp "$STATE_ROOT/$CID/config.json" "$TEST_DIR/before.json"
  run runf update --memory -5 "$CID"
  assert_one_error_line "--memory"
  run runf update --memory 12x "$CID"
  assert_one_error_line "--memory"
  run runf update --pids-limit -3 "$CID"
  assert_one_error_line "--pids-limit"
  run runf update --cpu-quota -7 "$CID"
  assert_one_error_line "--cpu-quota"
  run runf update --blkio-weight 5 "$CID"
  assert_one_error_line "--blkio-weight"
  run runf update --cpuset-cpus 'a-b' "$CID"
  assert_one_error_line "--cpuset-cpus"
  run runf update --bogus 1 "$CID"
  assert_one_error_line "unknown flag \`--bogus\`"
  printf '{\n  "pids": {"limit": 5,}\n}\n' >"$TEST_DIR/bad.json"
  run runf update -r "$TEST_DIR/bad.json" "$CID"
  assert_one_error_line "bad.json:2:"
  echo '{"pids": {"limit": -9}}' >"$TEST_DIR/neg.json"
  run runf update -r "$TEST_DIR/neg.json" "$CID"
  assert_one_error_line "linux.resources.pids.limit"
  echo '{"memory": {"limit": 67108864, "swap": 1048576}}' >"$TEST_DIR/swap.json"
  run runf update -r "$TEST_DIR/swap.json" "$CID"
  assert_one_error_line "memory.swap"
  run bash -c "echo '[1]' | '$RUNF_BIN' --root '$STATE_ROOT' update -r - '$CID'"
  assert_one_error_line "expected a linux.resources object"
  run runf update "$CID" extra
  assert_one_error_line "unexpected argument"
  [ "$(cat "$pids/pids.max")" = 10 ]
  cmp "$TEST_DIR/before.json" "$STATE_ROOT/$CID/config.json"
  runf kill "$CID" KILL
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state $CID | jq -e '.status == \"stopped\"'"
  run runf update --pids-limit 20 "$CID"
  assert_one_error_line "is not running"
  cmp "$TEST_DIR/before.json" "$STATE_ROOT/$CID/config.json"
}

@test "events --stats prints runc's stats object" {
  requires_v1
  update_config '.linux.resources = {"pids": {"limit": 40}, "memory": {"limit": 67108864}}'
  set_args sh -c 'alloc 4; sleep 1000'
  runf_detached run -d "$CID"
  run runf events --stats "$CID"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -eq 1 ]
  echo "$output" | jq -e --arg id "$CID" '.type == "stats" and .id == $id'
  echo "$output" | jq -e '.data | (.cpu.usage.total > 0) and (.cpu.usage | has("kernel") and has("user"))
    and (.cpu.usage.percpu | length > 0) and (.cpu.throttling | type == "object")'
  echo "$output" | jq -e '.data.memory | (.usage.usage > 0) and .usage.limit == 67108864
    and (.usage | has("failcnt")) and (.swap | has("limit")) and (.raw | has("cache"))
    and (.kernel | type == "object") and (.kernelTCP | type == "object")'
  echo "$output" | jq -e '.data.pids | .current >= 1 and .limit == 40'
  echo "$output" | jq -e '.data | (.blkio | type == "object") and (.hugetlb | type == "object")
    and (.cpuset.cpus | length > 0) and has("intel_rdt") and has("network_interfaces")'
  run runf events --stats nosuch
  assert_one_error_line "does not exist"
}

@test "events streams stats each interval, reports an OOM, and ends with the container" {
  requires_v1
  update_config '.linux.resources = {"memory": {"limit": 16777216, "swap": 16777216}}'
  set_args sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; alloc 64; echo $? >/tmp/rc; sleep 1000'
  runf_detached run -d "$CID"
  runf events --interval 100ms "$CID" >"$TEST_DIR/events" 2>"$TEST_DIR/events.err" &
  events_pid=$!
  # The first stats line comes after the OOM watch is in place.
  wait_for grep -q '"type":"stats"' "$TEST_DIR/events"
  touch "$BUNDLE/rootfs/tmp/go"
  wait_for test -s "$BUNDLE/rootfs/tmp/rc"
  [ "$(cat "$BUNDLE/rootfs/tmp/rc")" = 137 ]
  wait_for grep -q '"type":"oom"' "$TEST_DIR/events"
  # The container lives on (only alloc was killed): stats keep coming.
  n=$(grep -c '"type":"stats"' "$TEST_DIR/events")
  wait_for sh -c "[ \$(grep -c '\"type\":\"stats\"' '$TEST_DIR/events') -ge $((n + 3)) ]"
  runf kill "$CID" KILL
  wait "$events_pid"
  cat "$TEST_DIR/events.err"
  [ ! -s "$TEST_DIR/events.err" ]
  jq -e -s --arg id "$CID" 'all(.id == $id) and (map(select(.type == "stats")) | length >= 4)
    and (map(select(.type == "oom")) | length == 1)' "$TEST_DIR/events"
}

@test "events bad input: one line each" {
  requires_root
  set_args true
  runf run "$CID"
  runf_detached create "$CID"
  runf start "$CID"
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state $CID | jq -e '.status == \"stopped\"'"
  run runf events "$CID"
  assert_one_error_line "is not running"
  run runf events --interval 0s "$CID"
  assert_one_error_line "greater than 0"
  run runf events --interval 5 "$CID"
  assert_one_error_line "--interval"
  run runf events --stats
  assert_one_error_line "missing container id"
}

@test "delete removes the container's cgroup from every hierarchy" {
  requires_root
  set_args sh -c 'sleep 1000 & sleep 1000'
  runf_detached run -d "$CID"
  n=0
  for h in $(cgroup_hierarchies); do
    [ -d "$h/runf/$CID" ] || { echo "missing in $h"; false; }
    n=$((n + 1))
  done
  [ "$n" -ge 1 ]
  runf delete -f "$CID"
  for h in $(cgroup_hierarchies); do
    [ ! -e "$h/runf/$CID" ] || { echo "left in $h"; false; }
  done
}

@test "cgroupsPath: an absolute path lands there in every hierarchy" {
  requires_root
  update_config --arg p "/runftest-$$/abs-$CID" '.linux.cgroupsPath = $p'
  set_args sleep 1000
  runf_detached run -d "$CID"
  pid=$(runf state "$CID" | jq -r .pid)
  for h in $(cgroup_hierarchies); do
    EXTRA_DIRS+=("$h/runftest-$$")
    [ -d "$h/runftest-$$/abs-$CID" ]
  done
  # Every line of init's /proc/PID/cgroup ends in the path.
  [ -z "$(grep -v ":/runftest-$$/abs-$CID\$" "/proc/$pid/cgroup")" ]
  runf delete -f "$CID"
  for h in $(cgroup_hierarchies); do
    [ ! -e "$h/runftest-$$/abs-$CID" ]
  done
}

@test "cgroupsPath: a relative path goes below runf's own cgroup" {
  requires_root
  update_config --arg p "runftest-rel-$CID" '.linux.cgroupsPath = $p'
  set_args sleep 1000
  runf_detached run -d "$CID"
  pid=$(runf state "$CID" | jq -r .pid)
  while IFS=: read -r num ctrls path; do
    own=$(awk -F: -v c="$ctrls" '$2 == c { print $3 }' /proc/self/cgroup)
    [ "$own" = / ] && own=""
    echo "$ctrls: $path (runf's own: $own)"
    [ "$path" = "$own/runftest-rel-$CID" ]
  done <"/proc/$pid/cgroup"
}

@test "cgroupsPath: slice:prefix:name is laid out the way systemd would" {
  requires_root
  update_config --arg p "runft$$-a.slice:pfx:$CID" '.linux.cgroupsPath = $p'
  set_args sleep 1000
  runf_detached run -d "$CID"
  pid=$(runf state "$CID" | jq -r .pid)
  for h in $(cgroup_hierarchies); do
    EXTRA_DIRS+=("$h/runft$$.slice/runft$$-a.slice" "$h/runft$$.slice")
  done
  [ -z "$(grep -v ":/runft$$.slice/runft$$-a.slice/pfx-$CID.scope\$" "/proc/$pid/cgroup")" ]
}

@test "cgroupsPath: a name ending in .slice is that slice, where systemd places it by its name" {
  requires_root
  # system.slice is only what the slice unit would want: systemd puts
  # runftPID-b.slice in runftPID.slice, so does runf.
  update_config --arg p "system.slice:pfx:runft$$-b.slice" '.linux.cgroupsPath = $p'
  set_args sleep 1000
  for h in $(cgroup_hierarchies); do
    EXTRA_DIRS+=("$h/runft$$.slice/runft$$-b.slice" "$h/runft$$.slice")
  done
  runf_detached run -d "$CID"
  pid=$(runf state "$CID" | jq -r .pid)
  cat "/proc/$pid/cgroup"
  [ -z "$(grep -v ":/runft$$.slice/runft$$-b.slice\$" "/proc/$pid/cgroup")" ]
  runf delete -f "$CID"
  for h in $(cgroup_hierarchies); do
    [ ! -e "$h/runft$$.slice/runft$$-b.slice" ]
  done
}

@test "bad cgroupsPath values: one line each, nothing left" {
  requires_root
  for p in 'nodots:pfx:name' 'a.slice:pfx:x/y' '-a.slice:p:n' '../up' '/a/../b' \
    'a.slice:p:-.slice' 'a.slice:p:x--y.slice' 'a.slice:p:x-.slice'; do
    update_config --arg p "$p" '.linux.cgroupsPath = $p'
    run runf run "$CID"
    assert_one_error_line "linux.cgroupsPath"
    assert_no_leftovers
  done
}

@test "a parent cgroup that someone else removes while runf makes the one below it is made again" {
  requires_root
  # As a stopping runfd removes runfd/ and a test's teardown runf-tests/:
  # every 0.2 ms, the parent goes if it is empty.  (Without a pause no
  # runtime could make it: it would go between mkdir and its first write.)
  parent=runftest-gone-$$
  dirs=()
  for h in $(cgroup_hierarchies); do
    dirs+=("$h/$parent")
  done
  EXTRA_DIRS+=("${dirs[@]}")
  python3 -c 'import os, sys, time
while True:
    for d in sys.argv[1:]:
        try:
            os.rmdir(d)
        except OSError:
            pass
    time.sleep(0.0002)' "${dirs[@]}" &
  set_args true
  for i in $(seq 1 40); do
    update_config --arg p "/$parent/c$i" '.linux.cgroupsPath = $p'
    run runf run "$CID-$i"
    [ "$status" -eq 0 ] || { echo "run $i: $output"; false; }
  done
  kill %1
  wait %1 || true
}

@test "a container cannot take a cgroup that another one is using" {
  requires_root
  update_config --arg p "/runftest-$$/shared" '.linux.cgroupsPath = $p'
  set_args sleep 1000
  for h in $(cgroup_hierarchies); do
    EXTRA_DIRS+=("$h/runftest-$$")
  done
  runf_detached run -d "$CID"
  run runf run -d "$CID-2"
  assert_one_error_line "already in use"
  [ ! -e "$STATE_ROOT/$CID-2" ]
  [ "$(runf state "$CID" | jq -r .status)" = running ]
}

@test "a frozen cgroup is refused at create, in one line, instead of a create that never ends" {
  requires_root
  path=/runf-tests/frozen-$$-$BATS_TEST_NUMBER
  update_config --arg p "$path" '.linux.cgroupsPath = $p'
  if [ -d /sys/fs/cgroup/freezer ]; then
    dir=/sys/fs/cgroup/freezer$path
    mkdir -p "$dir"
    EXTRA_DIRS+=("$dir")
    echo FROZEN >"$dir/freezer.state"
  else
    dir=/sys/fs/cgroup$path
    mkdir -p "$dir"
    EXTRA_DIRS+=("$dir")
    echo 1 >"$dir/cgroup.freeze"
  fi
  set_args true
  run timeout 30 "$RUNF_BIN" --root "$STATE_ROOT" run t1
  assert_one_error_line "is frozen"
  [ -z "$(ls -A "$STATE_ROOT")" ]
}

@test "sub-cgroups the container made: ps sees their processes, delete --force kills them and removes the tree" {
  requires_v1
  set_args sleep 1000
  runf_detached run -d "$CID"
  mem=$(cgroup_dir memory)
  # What a container that manages its own cgroups does: a child cgroup,
  # and a process in it.
  mkdir "$mem/sub"
  runf exec -d --pid-file "$TEST_DIR/exec.pid" "$CID" sleep 999
  pid=$(cat "$TEST_DIR/exec.pid")
  echo "$pid" >"$mem/sub/cgroup.procs"
  run runf ps -f json "$CID"
  [ "$(jq length <<<"$output")" -eq 2 ]
  jq -e --argjson p "$pid" 'index($p) != null' <<<"$output"
  run timeout 60 "$RUNF_BIN" --root "$STATE_ROOT" delete --force "$CID"
  [ "$status" -eq 0 ]
  ! kill -0 "$pid" 2>/dev/null
  [ ! -d "$mem" ]
}

@test "delete --force without a pid namespace ends every process, also once init is gone; plain delete too" {
  requires_root
  update_config '.linux.namespaces -= [{"type": "pid"}]'
  set_args sleep 1000
  for force in --force ""; do
    runf_detached run -d "$CID"
    init=$(runf state "$CID" | jq -r .pid)
    for i in 1 2 3; do
      runf exec -d "$CID" sleep 999
    done
    pids=$(runf ps -f json "$CID" | jq -r '.[]')
    [ "$(wc -w <<<"$pids")" -eq 4 ]
    # Init is nothing special without a pid namespace: the rest lives on.
    kill -9 "$init"
    wait_for sh -c "! kill -0 $init 2>/dev/null"
    run runf state "$CID"
    [ "$(jq -r .status <<<"$output")" = stopped ]
    run runf delete $force "$CID"
    [ "$status" -eq 0 ]
    run runf state "$CID"
    [ "$status" -ne 0 ]
    for p in $pids; do
      wait_for sh -c "! kill -0 $p 2>/dev/null"
    done
  done
}

@test "a cgroup namespace shows the container its own cgroup as /" {
  requires_root
  update_config '.linux.namespaces += [{"type": "cgroup"}]'
  set_args cat /proc/self/cgroup
  run runf run "$CID"
  [ "$status" -eq 0 ]
  [ "${#lines[@]}" -ge 1 ]
  for line in "${lines[@]}"; do
    [[ "$line" == *":/" ]] || { echo "not the root: $line"; false; }
  done
}

@test "rootless without a cgroup: pause, resume, update and events say so in one line" {
  requires_rootless
  cgroup_delegated_p && skip "this user's cgroup is delegated here: its containers get cgroups (the next test)"
  set_args sleep 1000
  runf_detached run -d "$CID"
  for cmd in pause update events; do
    run runf $cmd "$CID"
    assert_one_error_line "has no cgroup"
  done
  run runf events --stats "$CID"
  assert_one_error_line "has no cgroup"
  run runf resume "$CID"
  assert_one_error_line "not paused"
}

@test "rootless with a delegated cgroup: the container's cgroup is below the caller's; pause, resume, events, delete" {
  requires_rootless
  cgroup_delegated_p || skip "no delegated cgroup for this user here (make check-vm runs this in a systemd --user scope with Delegate=yes)"
  own=$(cgroup_own_v2_dir)
  set_args sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/c; sleep 0.05; done'
  runf_detached run -d "$CID"
  pid=$(runf state "$CID" | jq -r .pid)
  dir="$own/runf-$CID"
  grep -qx "0::${dir#$(cgroup_v2_mount)}" "/proc/$pid/cgroup"
  grep -qx "$pid" "$dir/cgroup.procs"
  wait_for test -s "$BUNDLE/rootfs/tmp/c"

  runf pause "$CID"
  [ "$(runf state "$CID" | jq -r .status)" = paused ]
  grep -qx 'frozen 1' "$dir/cgroup.events"
  a=$(counter); sleep 0.5; b=$(counter)
  [ "$a" = "$b" ]
  runf resume "$CID"
  [ "$(runf state "$CID" | jq -r .status)" = running ]
  wait_for sh -c "[ \"\$(cat '$BUNDLE/rootfs/tmp/c')\" != '$b' ]"

  run runf events --stats "$CID"
  [ "$status" -eq 0 ]
  [ "$(jq -r .type <<<"$output")" = stats ]
  [ "$(jq -r .data.cpu.usage.total <<<"$output")" -gt 0 ]
  # Controllers reach the container's cgroup only where the caller's own
  # has no processes (v2's no-internal-process rule): a login session's
  # scope holds the shell, so there may be none, and no pids to count.
  if grep -qw pids "$dir/cgroup.controllers"; then
    [ "$(jq -r .data.pids.current <<<"$output")" -ge 1 ]
  fi

  runf delete --force "$CID"
  [ ! -e "$dir" ]
}
