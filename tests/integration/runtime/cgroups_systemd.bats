#!/usr/bin/env bats
# runf --systemd-cgroup, the systemd cgroup driver: where systemd is PID 1
# the container's cgroup is a transient scope unit of the system's manager
# (root) or the user's (rootless), seen through systemctl and through
# cgroupfs.  The development machines have no systemd: there only the
# fallback runs (the cgroup made where systemd would put it) and the rest
# skips; make check-vm runs it all in a Debian 12 guest, as root and as a
# user with a systemd --user manager.

load ../helpers

setup() {
  setup_bundle
  update_config '.root.readonly = false'
  CID="sd$$-$BATS_TEST_NUMBER"
  UNITS=()
  EXTRA_DIRS=()
}

teardown() {
  # Containers first (runf delete stops their units), then whatever a
  # failed test left of the units it made.
  teardown_bundle
  local u d
  for u in "${UNITS[@]}"; do
    sctl stop "$u" >/dev/null 2>&1
    sctl reset-failed "$u" >/dev/null 2>&1
  done
  for d in "${EXTRA_DIRS[@]}"; do
    rmdir "$d" 2>/dev/null
  done
  return 0
}

systemd_p() {
  [ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ]
}

# systemd as PID 1, and rootless a systemd --user manager with its bus,
# which runf reaches through $DBUS_SESSION_BUS_ADDRESS as runc does.
requires_systemd() {
  systemd_p || skip "systemd is not PID 1 here (make check-vm runs this in a Debian 12 guest with systemd)"
  is_root && return 0
  in_userns && skip "root of a user namespace has no systemd manager of its own"
  # As runc's: a user's manager delegates v2 controllers only.
  cgroup_unified_p || skip "rootless, the systemd driver needs pure cgroup v2 (a user's manager delegates no v1 controller)"
  USER_RUNTIME=/run/user/$(id -u)
  [ -S "$USER_RUNTIME/bus" ] ||
    skip "no systemd --user manager with a bus for $(id -un) here (make check-vm's delegated pass has one)"
  export DBUS_SESSION_BUS_ADDRESS=unix:path=$USER_RUNTIME/bus
}

# systemctl of the manager runf talks to.
sctl() {
  if is_root; then
    systemctl "$@"
  else
    XDG_RUNTIME_DIR=$USER_RUNTIME systemctl --user "$@"
  fi
}

# The unit's cgroup directory: on a hybrid host its v2 one (systemd
# tracks units there), on a legacy one its name=systemd one.
unit_dir() {
  if cgroup_unified_p; then
    echo "/sys/fs/cgroup$CG"
  elif [ -d /sys/fs/cgroup/unified ]; then
    echo "/sys/fs/cgroup/unified$CG"
  else
    echo "/sys/fs/cgroup/systemd$CG"
  fi
}

# Whether process $1 is in the unit's cgroup (systemd's hierarchy).
in_unit() {
  grep -qx "0::$CG" "/proc/$1/cgroup" || grep -qx "[0-9]*:name=systemd:$CG" "/proc/$1/cgroup"
}

# A limit as the kernel has it: FILE of v2, or CONTROLLER's V1FILE.
limit_of() { # v2-file controller v1-file
  if cgroup_unified_p; then
    cat "/sys/fs/cgroup$CG/$1"
  else
    cat "/sys/fs/cgroup/$2$CG/$3"
  fi
}
mem_limit() { limit_of memory.max memory memory.limit_in_bytes; }
pids_limit() { limit_of pids.max pids pids.max; }
cpu_limit() {
  if cgroup_unified_p; then
    cat "/sys/fs/cgroup$CG/cpu.max"
  else
    echo "$(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_quota_us") $(cat "/sys/fs/cgroup/cpu$CG/cpu.cfs_period_us")"
  fi
}
# No memory limit: v2's max, v1's largest page-aligned value.
MEM_NONE_V1=9223372036854771712
mem_none() {
  if cgroup_unified_p; then echo max; else echo "$MEM_NONE_V1"; fi
}
# The unit's memory limit property: MemoryMax on v2, MemoryLimit on v1.
mem_prop() {
  if cgroup_unified_p; then echo MemoryMax; else echo MemoryLimit; fi
}

default_slice() {
  if is_root; then echo system.slice; else echo user.slice; fi
}

# Where the manager puts a scope of the default slice.
expected_cgroup() {
  if is_root; then
    echo "/system.slice/$1"
  else
    echo "/user.slice/user-$(id -u).slice/user@$(id -u).service/user.slice/$1"
  fi
}

# A container of scope runf-$CID.scope with the limits given as JSON.
start_scoped() {
  UNIT=runf-$CID.scope
  UNITS+=("$UNIT")
  update_config --arg p "$(default_slice):runf:$CID" --argjson r "$1" \
    '.linux.cgroupsPath = $p | .linux.resources = $r'
  set_args sleep 1000
  runf_detached --systemd-cgroup run -d "$CID"
  PID=$(runf state "$CID" | jq -r .pid)
  CG=$(sctl show -p ControlGroup --value "$UNIT")
}

@test "systemd driver: the cgroup is a delegated scope unit with the limits, init in it" {
  requires_systemd
  start_scoped '{"memory": {"limit": 67108864}, "pids": {"limit": 40}, "cpu": {"quota": 50000, "period": 100000}}'
  run sctl show -p "ActiveState,Slice,Delegate,$(mem_prop),TasksMax,CPUQuotaPerSecUSec,CPUQuotaPeriodUSec" "$UNIT"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"Slice=$(default_slice)"* ]]
  [[ "$output" == *"Delegate=yes"* ]]
  [[ "$output" == *"$(mem_prop)=67108864"* ]]
  [[ "$output" == *"TasksMax=40"* ]]
  [[ "$output" == *"CPUQuotaPerSecUSec=500ms"* ]]
  [[ "$output" == *"CPUQuotaPeriodUSec=100ms"* ]]
  echo "ControlGroup=$CG"
  [ "$CG" = "$(expected_cgroup "$UNIT")" ]
  # The kernel's view: init is in the unit's cgroup, the limits in its files.
  in_unit "$PID"
  [ "$(mem_limit)" = 67108864 ]
  [ "$(pids_limit)" = 40 ]
  [ "$(cpu_limit)" = "50000 100000" ]
  # systemd's view of the unit's processes.
  run sctl status --no-pager "$UNIT"
  echo "$output"
  [[ "$output" == *"$PID"* ]]
}

@test "systemd driver: update sets the unit's properties and the cgroup's files" {
  requires_systemd
  start_scoped '{"memory": {"limit": 67108864}, "pids": {"limit": 40}}'
  # A later runf, without --systemd-cgroup: the state says who made it.
  runf update --memory 134217728 --pids-limit 60 "$CID"
  [ "$(sctl show -p "$(mem_prop)" --value "$UNIT")" = 134217728 ]
  [ "$(sctl show -p TasksMax --value "$UNIT")" = 60 ]
  [ "$(mem_limit)" = 134217728 ]
  [ "$(pids_limit)" = 60 ]
  # -1 is systemd's infinity and cgroupfs' max.
  runf update --memory -1 "$CID"
  [ "$(sctl show -p "$(mem_prop)" --value "$UNIT")" = infinity ]
  [ "$(mem_limit)" = "$(mem_none)" ]
}

@test "systemd driver: pause, resume, ps and events go through the unit's cgroup" {
  requires_systemd
  start_scoped '{"memory": {"limit": 67108864}}'
  runf pause "$CID"
  if cgroup_unified_p; then
    grep -qx "frozen 1" "/sys/fs/cgroup$CG/cgroup.events"
  else
    grep -qx FROZEN "/sys/fs/cgroup/freezer$CG/freezer.state"
  fi
  [ "$(runf state "$CID" | jq -r .status)" = paused ]
  runf resume "$CID"
  if cgroup_unified_p; then
    grep -qx "frozen 0" "/sys/fs/cgroup$CG/cgroup.events"
  else
    grep -qx THAWED "/sys/fs/cgroup/freezer$CG/freezer.state"
  fi
  run runf ps "$CID"
  [[ "$output" == *"$PID"* ]]
  runf events --stats "$CID" | jq -e '.data.memory.usage.limit == 67108864'
}

@test "systemd driver: delete stops the unit and its cgroup goes" {
  requires_systemd
  start_scoped '{"pids": {"limit": 40}}'
  [ -d "$(unit_dir)" ]
  runf delete -f "$CID"
  [ "$(sctl show -p LoadState --value "$UNIT")" = not-found ]
  [ ! -e "$(unit_dir)" ]
  # Without a cgroupsPath: :runf:<id>, the same unit in the default slice.
  update_config 'del(.linux.cgroupsPath)'
  runf_detached --systemd-cgroup run -d "$CID"
  [ "$(sctl show -p ControlGroup --value "$UNIT")" = "$CG" ]
  runf delete -f "$CID"
  [ "$(sctl show -p LoadState --value "$UNIT")" = not-found ]
  # A container that ends by itself: run's own delete.
  set_args true
  run runf --systemd-cgroup run "$CID"
  [ "$status" -eq 0 ]
  [ "$(sctl show -p LoadState --value "$UNIT")" = not-found ]
  [ ! -e "$(unit_dir)" ]
  assert_no_leftovers
}

@test "systemd driver: a scope that exists is refused, naming it; the other container stays" {
  requires_systemd
  start_scoped '{}'
  run runf --systemd-cgroup run -d "$CID-2" </dev/null
  echo "$output"
  assert_one_error_line "unit \`runf-$CID.scope\`"
  [[ "$output" == *"File exists"* ]]
  run runf state "$CID-2"
  [ "$status" -ne 0 ]
  [ "$(sctl show -p ActiveState --value "$UNIT")" = active ]
  in_unit "$PID"
}

@test "systemd driver: a name ending in .slice is a slice unit of the container's own, wanting its parent" {
  requires_systemd
  local parent=runfsd$$.slice
  UNIT=runfsd$$-$BATS_TEST_NUMBER.slice
  UNITS+=("$UNIT" "$parent")
  # The prefix is not used; the slice is placed by its name, in $parent,
  # and only Wants= the default slice.
  update_config --arg p "$(default_slice):unused:$UNIT" \
    '.linux.cgroupsPath = $p | .linux.resources = {"memory": {"limit": 67108864}, "pids": {"limit": 40}}'
  set_args sleep 1000
  runf_detached --systemd-cgroup run -d "$CID"
  PID=$(runf state "$CID" | jq -r .pid)
  run sctl show -p "ActiveState,Wants,$(mem_prop),TasksMax" "$UNIT"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"Wants="*"$(default_slice)"* ]]
  [[ "$output" == *"$(mem_prop)=67108864"* ]]
  [[ "$output" == *"TasksMax=40"* ]]
  CG=$(sctl show -p ControlGroup --value "$UNIT")
  echo "ControlGroup=$CG"
  if is_root; then
    [ "$CG" = "/$parent/$UNIT" ]
  else
    [ "$CG" = "/user.slice/user-$(id -u).slice/user@$(id -u).service/$parent/$UNIT" ]
  fi
  # runf moved init in (systemd takes no process into a slice).
  in_unit "$PID"
  [ "$(mem_limit)" = 67108864 ]
  [ "$(pids_limit)" = 40 ]
  runf update --pids-limit 60 "$CID"
  [ "$(sctl show -p TasksMax --value "$UNIT")" = 60 ]
  [ "$(pids_limit)" = 60 ]
  # A second container asking for the same slice is refused, naming it.
  run runf --systemd-cgroup run -d "$CID-2" </dev/null
  echo "$output"
  assert_one_error_line "unit \`$UNIT\`"
  in_unit "$PID"
  runf delete -f "$CID"
  [ "$(sctl show -p ActiveState --value "$UNIT")" != active ]
  [ ! -e "$(unit_dir)" ]
  assert_no_leftovers
}

@test "systemd driver: cgroupsPath must be slice:prefix:name with names systemd takes" {
  requires_systemd
  for p in /runf-sd/abs relative 'a.slice:p:-.slice' 'a.slice:p:x--y.slice' 'a.slice:p:x+y' 'nodots:p:n'; do
    update_config --arg p "$p" '.linux.cgroupsPath = $p'
    run runf --systemd-cgroup run "$CID"
    assert_one_error_line "linux.cgroupsPath"
    assert_no_leftovers
  done
}

@test "systemd driver: org.systemd.property annotations set the unit's properties (runc's, GVariant text)" {
  requires_systemd
  update_config '.annotations = {
    "org.systemd.property.TimeoutStopUSec": "uint64 123456789",
    "org.systemd.property.CollectMode": "\u0027inactive-or-failed\u0027",
    "org.systemd.property.RuntimeMaxSec": "3600",
    "org.opencontainers.image.title": "not a property"}'
  start_scoped '{}'
  run sctl show -p TimeoutStopUSec,CollectMode,RuntimeMaxUSec,ActiveState "$UNIT"
  echo "$output"
  [[ "$output" == *"ActiveState=active"* ]]
  [[ "$output" == *"TimeoutStopUSec=2min 3.456789s"* ]]
  [[ "$output" == *"CollectMode=inactive-or-failed"* ]]
  # RuntimeMaxSec: seconds, sent as RuntimeMaxUSec.
  [[ "$output" == *"RuntimeMaxUSec=1h"* ]]
}

@test "--systemd-cgroup: a broken org.systemd.property annotation is one error naming it; nothing made" {
  # Checked before anything is made, with systemd or without (then the
  # properties have no unit to go to, but a broken one is still refused).
  local name value words
  while IFS='|' read -r name value words; do
    update_config --arg k "org.systemd.property.$name" --arg v "$value" '.annotations = {($k): $v}'
    update_config --arg p "$(default_slice):runf:$CID" '.linux.cgroupsPath = $p'
    run runf --systemd-cgroup run "$CID"
    echo "$output"
    assert_one_error_line "annotations.org.systemd.property.$name"
    [[ "$output" == *"$words"* ]]
    assert_no_leftovers
  done <<'EOF'
CollectMode|inactive-or-failed|at byte 0
TimeoutStopUSec|uint64 -5|out of its type's range
TimeoutStopSec|'soon'|seconds
Wants|['a' 'b']|commas
Time-Out|1|not a systemd property name
EOF
}

@test "systemd driver: root of a user namespace (unshare -r) is rootless and gets a scope of the user's manager" {
  requires_systemd
  is_root && skip "needs an unprivileged user with a systemd --user manager"
  # The user's bus sees the host's uid of the connection, whatever the
  # user namespace calls it.
  rm "$BUNDLE/config.json"
  unshare -r "$RUNF_BIN" spec --rootless
  UNIT=runf-$CID.scope
  UNITS+=("$UNIT")
  update_config --arg p "user.slice:runf:$CID" '.process.terminal = false | .linux.cgroupsPath = $p'
  set_args sleep 1000
  if ! unshare -r "$RUNF_BIN" --root "$STATE_ROOT" --systemd-cgroup run -d "$CID" \
    </dev/null >"$TEST_DIR/run.out" 2>&1; then
    cat "$TEST_DIR/run.out"
    return 1
  fi
  [ "$(sctl show -p ActiveState --value "$UNIT")" = active ]
  CG=$(sctl show -p ControlGroup --value "$UNIT")
  [ "$CG" = "$(expected_cgroup "$UNIT")" ]
  PID=$(unshare -r "$RUNF_BIN" --root "$STATE_ROOT" state "$CID" | jq -r .pid)
  in_unit "$PID"
  unshare -r "$RUNF_BIN" --root "$STATE_ROOT" delete -f "$CID"
  [ "$(sctl show -p LoadState --value "$UNIT")" = not-found ]
  [ ! -e "$(unit_dir)" ]
}

@test "systemd driver: rootless without a user manager to reach, one error line and nothing left" {
  systemd_p || skip "systemd is not PID 1 here (make check-vm runs this in a Debian 12 guest with systemd)"
  is_root && skip "needs an unprivileged user"
  update_config --arg p "user.slice:runf:$CID" '.linux.cgroupsPath = $p'
  run env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR="$TEST_DIR" \
    "$RUNF_BIN" --root "$STATE_ROOT" --systemd-cgroup run "$CID"
  assert_one_error_line "the user's systemd manager"
  assert_no_leftovers
}

@test "--systemd-cgroup without systemd: the cgroup is made where systemd would put it" {
  systemd_p && skip "systemd is PID 1 here: the tests above cover the driver"
  requires_root
  slice=runfsd$$-a.slice
  update_config --arg p "$slice:pfx:$CID" '.linux.cgroupsPath = $p'
  for h in $(cgroup_hierarchies); do
    EXTRA_DIRS+=("$h/runfsd$$.slice/$slice" "$h/runfsd$$.slice")
  done
  set_args sleep 1000
  runf_detached --systemd-cgroup --debug run -d "$CID"
  grep -q "systemd is not running" "$TEST_DIR/detached.out"
  pid=$(runf state "$CID" | jq -r .pid)
  cat "/proc/$pid/cgroup"
  [ -z "$(grep -v ":/runfsd$$.slice/$slice/pfx-$CID.scope\$" "/proc/$pid/cgroup")" ]
  # No unit in the state: delete goes through cgroupfs alone.
  jq -e 'has("systemd_unit") | not' "$STATE_ROOT/$CID/state.json"
  runf delete -f "$CID"
  for h in $(cgroup_hierarchies); do
    [ ! -e "$h/runfsd$$.slice/$slice/pfx-$CID.scope" ]
  done
}
