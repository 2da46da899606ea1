#!/usr/bin/env bats
# features: the OCI features document, truthful about what runf does.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "features prints the OCI features document" {
  run "$RUNF_BIN" features
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.ociVersionMin == "1.0.0"'
  version=$("$RUNF_BIN" --version | awk '/^spec:/ { print $2 }')
  echo "$output" | jq -e --arg v "$version" '.ociVersionMax == $v'
  [ "$(echo "$output" | jq -c '.linux.namespaces')" = '["cgroup","ipc","mount","network","pid","time","user","uts"]' ]
  echo "$output" | jq -e '.linux.capabilities | index("CAP_SYS_ADMIN") and index("CAP_CHECKPOINT_RESTORE") and length >= 41'
  echo "$output" | jq -e '.mountOptions | index("rbind") and index("rro") and index("nosymfollow")'
  echo "$output" | jq -e '.mountOptions == (.mountOptions | sort)'
  echo "$output" | jq -e '.linux.seccomp.actions | index("SCMP_ACT_ALLOW") and index("SCMP_ACT_ERRNO")'
  echo "$output" | jq -e '.linux.seccomp.operators | length == 7'
  echo "$output" | jq -e '.linux.seccomp.archs | index("SCMP_ARCH_X86_64")'
  runf_version=$("$RUNF_BIN" --version | awk '/^runf version/ { print $3 }')
  echo "$output" | jq -e --arg v "$runf_version" '.annotations["org.runf.version"] == $v'
  echo "$output" | jq -e '.annotations["io.github.seccomp.libseccomp.version"] | test("^[0-9]+[.][0-9]+[.][0-9]+$")'
}

@test "features tells what runf does and refuses" {
  run "$RUNF_BIN" features
  [ "$status" -eq 0 ]
  echo "$output" | jq -e '.hooks | length == 6'
  echo "$output" | jq -e '.linux.cgroup | .v1 and .v2 and .systemd and .systemdUser and .rdma == false'
  echo "$output" | jq -e '.linux.seccomp.enabled == true'
  echo "$output" | jq -e '.linux.mountExtensions.idmap.enabled == false'
  echo "$output" | jq -e '.mountOptions | index("idmap") == null and index("tmpcopyup") != null'
}

@test "every mount option features lists is accepted in config.json" {
  # All on one tmpfs, but remount and the bind ones: they change what the
  # mount is.
  opts=$("$RUNF_BIN" features | jq -c '[.mountOptions[] | select(. != "remount" and (test("bind$") | not))]')
  update_config --argjson o "$opts" '.mounts += [{"destination": "/mnt", "type": "tmpfs", "source": "tmpfs", "options": $o}]'
  set_args true
  # An option runf did not know would go to tmpfs as data, and tmpfs would
  # refuse it.  Contradicting options are fine: the last one wins.
  run runf run t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
}

@test "features takes no arguments" {
  run "$RUNF_BIN" features extra
  assert_one_error_line "unexpected argument"
}
