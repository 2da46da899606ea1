#!/usr/bin/env bats
# The command line itself: version, help, spec, and what is not there yet.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "--version names runf, the spec and libseccomp" {
  run "$RUNF_BIN" --version
  [ "$status" -eq 0 ]
  [[ "${lines[0]}" == "runf version "* ]]
  [[ "$output" == *"spec: 1."* ]]
}

@test "--help lists the commands" {
  run "$RUNF_BIN" --help
  [ "$status" -eq 0 ]
  for c in spec create start run state kill delete list; do
    [[ "$output" == *"  $c "* ]]
  done
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

@test "--systemd-cgroup is accepted and --debug says cgroupfs is used" {
  run "$RUNF_BIN" --root "$STATE_ROOT" --systemd-cgroup --debug list
  [ "$status" -eq 0 ]
  [[ "$output" == *cgroupfs* ]]
}
