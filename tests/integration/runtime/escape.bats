#!/usr/bin/env bats
# Attacks on the runtime from inside a container, against the real binary:
# a leaked fd as the working directory (CVE-2024-21626 class) and the
# runtime's binary overwritten through /proc/PID/exe (CVE-2019-5736 class).
# docs/security.md lists what each defends.

load ../helpers

setup() {
  setup_bundle
  # A host file next to the bundle: any cwd outside the rootfs reaches it
  # by climbing to / and down again; from inside, the path does not exist.
  SECRET=secret-$RANDOM-$RANDOM
  echo "$SECRET" >"$TEST_DIR/secret"
  CLIMB="$(printf '../%.0s' $(seq 1 40))${TEST_DIR#/}/secret"
}
teardown() { teardown_bundle; }

# The process prints the host file if its cwd is outside the root.
set_escape_args() {
  set_args sh -c "cat $CLIMB 2>/dev/null; pwd"
}

refute_secret() { # what
  if [[ "$output" == *"$SECRET"* ]]; then
    echo "$1: the container read a host file: $output"
    return 1
  fi
}

@test "cwd /proc/self/fd/N never leaves the rootfs (run, N = 3..64)" {
  set_escape_args
  for n in $(seq 3 64); do
    update_config --arg c "/proc/self/fd/$n" '.process.cwd = $c'
    run runf run "t$n"
    refute_secret "run, fd $n"
    # Refused with one line naming the cwd, or (a fd the process was given
    # itself) a directory inside the root.
    if [ "$status" -ne 0 ]; then
      [[ "$output" == *"process.cwd"* ]] || { echo "fd $n: $output"; return 1; }
    fi
  done
}

@test "cwd /proc/self/fd/N never leaves the rootfs (create + start, N = 3..64)" {
  set_escape_args
  for n in $(seq 3 64); do
    update_config --arg c "/proc/self/fd/$n" '.process.cwd = $c'
    if runf create "c$n" </dev/null >"$TEST_DIR/out" 2>&1; then
      runf start "c$n" >>"$TEST_DIR/out" 2>&1 || true
      wait_for sh -c "runf state c$n | grep -q stopped"
      runf delete -f "c$n" >/dev/null 2>&1 || true
    fi
    output=$(cat "$TEST_DIR/out")
    refute_secret "create + start, fd $n"
  done
}

@test "exec --cwd /proc/self/fd/N never leaves the rootfs (N = 3..64)" {
  set_args sleep 100
  runf_detached run -d t1
  for n in $(seq 3 64); do
    run runf exec --cwd "/proc/self/fd/$n" t1 sh -c "cat $CLIMB 2>/dev/null; pwd"
    refute_secret "exec --cwd, fd $n"
  done
  # A directory fd the caller hands over on purpose still cannot be a way
  # out: outside the root, the cwd is refused.
  run runf exec --preserve-fds 1 --cwd /proc/self/fd/3 t1 pwd 3</
  refute_secret "exec --cwd with a preserved fd"
  assert_one_error_line "outside the container's root"
}

@test "a cwd that is a host directory given as stdin is refused" {
  update_config '.process.cwd = "/proc/self/fd/0"'
  set_escape_args
  run runf run t1 <"$TEST_DIR"
  refute_secret "stdin as cwd"
  assert_one_error_line "process.cwd \`/proc/self/fd/0\`: outside the container's root"
}

@test "the container's process holds no fd of the runtime's" {
  set_args sh -c 'ls /proc/self/fd'
  run runf run t1 </dev/null
  [ "$status" -eq 0 ]
  # stdio, and the fd ls reads the directory with.
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
  run runf run --preserve-fds 2 t2 </dev/null 3</dev/null 4</dev/null
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 4 5 " ]
}

@test "a created container's init holds only stdio and exec.fifo; an exec'd process only stdio" {
  set_args sleep 100
  runf_detached create t1
  pid=$(runf state t1 | jq -r .pid)
  run ls -l "/proc/$pid/fd"
  echo "$output"
  fds=$(ls "/proc/$pid/fd" | tr '\n' ' ')
  # 0 1 2, and exec.fifo.
  [[ "$fds" == "0 1 2 "[0-9]*" " ]]
  fifo_fd=${fds#0 1 2 }
  [ "$(readlink "/proc/$pid/fd/${fifo_fd% }")" = "$STATE_ROOT/t1/exec.fifo" ]
  run runf exec t1 sh -c 'ls /proc/self/fd'
  [ "$(echo "$output" | tr '\n' ' ')" = "0 1 2 3 " ]
  runf start t1
  [ "$(ls "/proc/$pid/fd" | tr '\n' ' ')" = "0 1 2 " ]
}

# --- CVE-2019-5736: the runtime's binary through /proc/PID/exe ------------

# A copy of runf that the attacks aim at (the real one stays intact even if
# a defence fails), and a rootfs whose /bin/sh makes the kernel exec
# whatever /proc/self/exe is at that moment.
exe_attack_setup() {
  VICTIM=$TEST_DIR/runf-victim
  cp "$RUNF_BIN" "$VICTIM"
  chmod 755 "$VICTIM"
  VICTIM_SUM=$(sha256sum "$VICTIM" | cut -d' ' -f1)
  rm -f "$BUNDLE/rootfs/bin/sh"
  printf '#!/proc/self/exe\n' >"$BUNDLE/rootfs/bin/sh"
  chmod 755 "$BUNDLE/rootfs/bin/sh"
  set_args /usr/bin/exe_attack 120
  "$VICTIM" --root "$STATE_ROOT" run -d attacker </dev/null >"$TEST_DIR/attack.out" 2>&1
  wait_for grep -q ready "$TEST_DIR/attack.out"
}

victim() {
  "$VICTIM" --root "$STATE_ROOT" "$@"
}

assert_victim_intact() {
  local sum
  sum=$(sha256sum "$VICTIM" | cut -d' ' -f1)
  echo "attacker: $(sort "$TEST_DIR/attack.out" | uniq -c | tr '\n' ';')"
  if grep -q '^wrote' "$TEST_DIR/attack.out" || [ "$sum" != "$VICTIM_SUM" ]; then
    echo "the runtime's binary was overwritten from the container"
    return 1
  fi
}

# A second bundle whose container shares the attacker's pid namespace, so
# that the attacker sees its processes.
second_bundle_in_attackers_pidns() {
  local pid
  pid=$(victim state attacker | jq -r .pid)
  BUNDLE2=$TEST_DIR/bundle2
  mkdir -p "$BUNDLE2"
  jq --arg p "/proc/$pid/ns/pid" '.process.args = ["/bin/sh"]
      | .root.path = "../bundle/rootfs"
      | if .linux.cgroupsPath then .linux.cgroupsPath += "-b" else . end
      | .linux.namespaces |= map(if .type == "pid" then .path = $p else . end)' \
    "$BUNDLE/config.json" >"$BUNDLE2/config.json"
}

@test "exec of #!/proc/self/exe cannot overwrite the runtime (200 tries)" {
  exe_attack_setup
  for i in $(seq 1 200); do
    victim exec attacker /bin/sh >/dev/null 2>&1 || true
  done
  assert_victim_intact
}

@test "run and create + start of #!/proc/self/exe cannot overwrite the runtime (200 tries each)" {
  requires_root
  exe_attack_setup
  second_bundle_in_attackers_pidns
  cd "$BUNDLE2"
  # The attack needs runs that get as far as the exec (of runf, before the
  # defence; of the trampoline, which refuses to be a command, after).
  output=$(victim run r0 </dev/null 2>&1) || true
  [[ "$output" == *"/bin/sh"* || "$output" == *"not a command"* ]] || {
    echo "the second container does not start: $output"
    return 1
  }
  for i in $(seq 1 200); do
    victim run "r$i" </dev/null >/dev/null 2>&1 || true
  done
  for i in $(seq 1 200); do
    if victim create "c$i" </dev/null >/dev/null 2>&1; then
      victim start "c$i" >/dev/null 2>&1 || true
      victim delete -f "c$i" >/dev/null 2>&1 || true
    fi
  done
  assert_victim_intact
}
