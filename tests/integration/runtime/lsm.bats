#!/usr/bin/env bats
# process.apparmorProfile: the container's program, and what runf exec
# starts in it, run confined by the profile (runf-trampoline writes the
# label after its own exec: the kernel takes it only from a file the
# writer opened with its own credentials).  Where AppArmor is on and
# apparmor_parser is installed (make check-vm's Debian 12 guest); skipped
# elsewhere.  SELinux has no host here.

load ../helpers

setup() {
  setup_bundle
  PROFILE_FILE=""
}

teardown() {
  teardown_bundle
  [ -z "$PROFILE_FILE" ] || apparmor_parser -R "$PROFILE_FILE" 2>/dev/null
  [ -z "$PROFILE_FILE" ] || rm -f "$PROFILE_FILE"
  return 0
}

requires_apparmor() {
  requires_root
  grep -qs Y /sys/module/apparmor/parameters/enabled && [ -d /sys/kernel/security/apparmor ] ||
    skip "AppArmor is not on here (make check-vm's guest has it)"
  command -v apparmor_parser >/dev/null || skip "apparmor_parser is not installed"
}

# A profile that lets everything but reading /etc/passwd.
load_profile() {
  PROFILE=runf-test-$$-$BATS_TEST_NUMBER
  PROFILE_FILE=$(mktemp /tmp/runf-apparmor.XXXXXX)
  cat >"$PROFILE_FILE" <<EOF
profile $PROFILE flags=(attach_disconnected,mediate_deleted) {
  file,
  capability,
  signal,
  unix,
  network,
  deny /etc/passwd r,
}
EOF
  apparmor_parser -r "$PROFILE_FILE"
}

CHECK='cat /proc/self/attr/current; if cat /etc/passwd >/dev/null 2>&1; then echo read; else echo denied; fi'

@test "process.apparmorProfile confines the container's program" {
  requires_apparmor
  load_profile
  update_config --arg p "$PROFILE" '.process.apparmorProfile = $p | .process.terminal = false'
  set_args sh -c "$CHECK"
  run runf run t1
  echo "$output"
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "$PROFILE (enforce)" ]
  [ "${lines[1]}" = denied ]
  # The same config without the profile reads it.
  update_config 'del(.process.apparmorProfile)'
  run runf run t2
  [ "${lines[1]}" = read ]
}

@test "runf exec runs confined: the container's profile, or --apparmor's, or a process.json's" {
  requires_apparmor
  load_profile
  update_config --arg p "$PROFILE" '.process.apparmorProfile = $p | .process.terminal = false'
  set_args sleep 1000
  runf_detached run -d t1
  run runf exec t1 sh -c "$CHECK"
  echo "$output"
  [ "${lines[0]}" = "$PROFILE (enforce)" ]
  [ "${lines[1]}" = denied ]
  run runf exec --apparmor unconfined t1 sh -c "$CHECK"
  echo "$output"
  [ "${lines[0]}" = unconfined ]
  [ "${lines[1]}" = read ]
  jq -n --arg p "$PROFILE" --arg c "$CHECK" '{args: ["sh", "-c", $c], cwd: "/", apparmorProfile: $p}' \
    >"$TEST_DIR/process.json"
  run runf exec -p "$TEST_DIR/process.json" t1
  echo "$output"
  [ "${lines[0]}" = "$PROFILE (enforce)" ]
  [ "${lines[1]}" = denied ]
}

@test "a profile that is not loaded: one error line naming it, nothing left" {
  requires_apparmor
  update_config '.process.apparmorProfile = "runf-no-such-profile" | .process.terminal = false'
  set_args true
  run runf run t1
  echo "$output"
  assert_one_error_line "runf-no-such-profile"
  assert_no_leftovers
}
