#!/usr/bin/env bats
# The command line itself: version, help, spec, and what is not there yet.

load ../helpers
bats_require_minimum_version 1.5.0

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "--version and -v in runc's layout: version, commit, spec, then libseccomp" {
  for flag in --version -v; do
    run "$RUNF_BIN" $flag
    [ "$status" -eq 0 ]
    [[ "${lines[0]}" =~ ^runf\ version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    [[ "${lines[1]}" =~ ^commit:\ .+ ]]
    [[ "${lines[2]}" =~ ^spec:\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
    [[ "${lines[3]}" =~ ^libseccomp:\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
  done
}

@test "--help and -h: NAME first, the commands, no version" {
  for flag in --help -h; do
    run "$RUNF_BIN" $flag
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = NAME: ]
    [ "${lines[1]}" = "   runf - Open Container Initiative runtime" ]
    [ "$output" = "${output/VERSION/}" ]
    for c in spec create start run state kill delete list exec ps pause resume update events features; do
      [[ "$output" == *"  $c "* ]]
    done
  done
  run "$RUNF_BIN" help
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = NAME: ]
}

@test "every command's -h and --help: its usage and each of its options, status 0" {
  options=$TOP/build/share/options/runf.txt
  for c in spec create start run state kill delete list exec ps pause resume update events features \
           checkpoint restore; do
    for flag in -h --help; do
      run "$RUNF_BIN" "$c" "$flag"
      [ "$status" -eq 0 ] || { echo "runf $c $flag: $output"; return 1; }
      [ "${lines[0]}" = NAME: ]
      [[ "${lines[1]}" == "   runf $c - "* ]]
      [[ "$output" == *"USAGE:"*"runf $c"* ]]
    done
    for opt in $(awk -v c="$c" '$1 == c {print $2}' "$options"); do
      grep -qE -- "(^|[ ,])$opt( |,|$)" <<<"$output" || { echo "runf $c --help lacks $opt"; return 1; }
    done
    run "$RUNF_BIN" help "$c"
    [ "$status" -eq 0 ]
    [[ "${lines[1]}" == "   runf $c - "* ]]
  done
  # After other options too, and for a container that does not exist.
  run "$RUNF_BIN" --root "$STATE_ROOT" delete --force --help
  [ "$status" -eq 0 ]
  [[ "${lines[1]}" == "   runf delete - "* ]]
  # Called by another name (installed as runc, say), the help says so.
  ln -s "$RUNF_BIN" "$TEST_DIR/runc"
  run "$TEST_DIR/runc" --help
  [ "${lines[1]}" = "   runc - Open Container Initiative runtime" ]
  run "$TEST_DIR/runc" kill -h
  [[ "${lines[1]}" == "   runc kill - "* ]]
}

@test "help for an unknown command: no help topic, non-zero" {
  run "$RUNF_BIN" foo -h
  assert_one_error_line "No help topic for 'foo'"
  run "$RUNF_BIN" help foo
  assert_one_error_line "No help topic for 'foo'"
}

@test "--debug: runc's log lines on stderr, in --log's file only when there is one, text or JSON" {
  set_args true
  run --separate-stderr "$RUNF_BIN" --root "$STATE_ROOT" --debug run t1
  [ "$status" -eq 0 ]
  [[ "$stderr" == *'level=debug msg="create `t1`: init is pid '* ]]
  [[ "$stderr" == *'level=debug msg="create `t1`: init says READY'* ]]
  run --separate-stderr "$RUNF_BIN" --root "$STATE_ROOT" --log "$TEST_DIR/log.txt" --debug run t2
  [ "$status" -eq 0 ]
  [[ "$stderr" != *level=debug* ]]
  grep -q 'level=debug msg="create `t2`: init says READY' "$TEST_DIR/log.txt"
  run --separate-stderr "$RUNF_BIN" --root "$STATE_ROOT" --log "$TEST_DIR/log.txt" --log-format text --debug run t3
  grep -q 'level=debug msg="create `t3`: init says READY' "$TEST_DIR/log.txt"
  run --separate-stderr "$RUNF_BIN" --root "$STATE_ROOT" --log "$TEST_DIR/log.json" --log-format json --debug run t4
  [ "$status" -eq 0 ]
  [[ "$stderr" != *debug* ]]
  jq -se 'map(select(.level == "debug" and (.msg | startswith("create `t4`: init says READY")))) | length == 1' \
    "$TEST_DIR/log.json"
  # An error is still one plain line on stderr.
  run --separate-stderr "$RUNF_BIN" --root "$STATE_ROOT" --debug state nosuch
  [ "$status" -ne 0 ]
  [[ "$stderr" == *"runf: container \`nosuch\` does not exist"* ]]
}

@test "state after kill and after delete; pause and resume of a container that does not exist" {
  set_args sleep 100
  runf_detached run -d t1
  [ "$(runf state t1 | jq -r .status)" = running ]
  runf kill t1 KILL
  wait_for sh -c "\"$RUNF_BIN\" --root \"$STATE_ROOT\" state t1 | jq -e '.status == \"stopped\" and .pid == 0'"
  runf delete t1
  run runf state t1
  assert_one_error_line "does not exist"
  run runf pause nosuch
  assert_one_error_line "does not exist"
  run runf resume nosuch
  assert_one_error_line "does not exist"
}

@test "spec writes runc's default config.json" {
  rm "$BUNDLE/config.json"
  cd "$BUNDLE"
  run "$RUNF_BIN" spec
  [ "$status" -eq 0 ]
  [ "$(jq -r '.process.args[0]' config.json)" = sh ]
  [ "$(jq -r '.process.terminal' config.json)" = true ]
  [ "$(jq -r '.root.path' config.json)" = rootfs ]
  [ "$(jq -r '[.linux.namespaces[].type] | sort | join(",")' config.json)" = "ipc,mount,network,pid,uts" ]
  [ "$(jq -r '.process.capabilities.bounding | join(",")' config.json)" = "CAP_AUDIT_WRITE,CAP_KILL,CAP_NET_BIND_SERVICE" ]
}

@test "spec --rootless maps the caller to root, without network namespace or cgroup settings" {
  rm "$BUNDLE/config.json"
  run "$RUNF_BIN" spec --rootless -b "$BUNDLE"
  [ "$status" -eq 0 ]
  cfg=$BUNDLE/config.json
  [ "$(jq -r '.linux.uidMappings[0].hostID' "$cfg")" = "$(id -u)" ]
  [ "$(jq -r '.linux.gidMappings[0].hostID' "$cfg")" = "$(id -g)" ]
  [ "$(jq -r '.linux.uidMappings[0].containerID' "$cfg")" = 0 ]
  [ "$(jq -r '[.linux.namespaces[].type] | index("network")' "$cfg")" = null ]
  [ "$(jq -r '[.linux.namespaces[].type] | index("user")' "$cfg")" != null ]
  [ "$(jq -r '.linux.resources' "$cfg")" = null ]
}

@test "spec refuses to overwrite config.json" {
  run "$RUNF_BIN" spec -b "$BUNDLE"
  assert_one_error_line "exists"
}

@test "an unknown command is an error" {
  run "$RUNF_BIN" frobnicate
  assert_one_error_line "unknown command \`frobnicate\`"
}

@test "an unknown flag is an error" {
  run runf run --frobnicate x
  assert_one_error_line "unknown flag \`--frobnicate\`"
}

@test "--log with --log-format json writes JSON lines" {
  run "$RUNF_BIN" --root "$STATE_ROOT" --log "$TEST_DIR/log.json" --log-format json state nosuch
  [ "$status" -ne 0 ]
  jq -e 'select(.level == "error") | .msg | contains("nosuch")' "$TEST_DIR/log.json"
}

@test "--log-format must be text or json" {
  run "$RUNF_BIN" --log-format yaml list
  assert_one_error_line "--log-format"
}

@test "--systemd-cgroup is accepted and --debug says which driver makes cgroups" {
  run "$RUNF_BIN" --root "$STATE_ROOT" --systemd-cgroup --debug list
  [ "$status" -eq 0 ]
  if [ -d /run/systemd/system ]; then
    [[ "$output" == *"systemd scope units"* ]]
  else
    [[ "$output" == *"systemd is not running"*cgroupfs* ]]
  fi
}
