#!/usr/bin/env bats
# config.json's process, hostname, domainname and sysctl, observed from
# inside the container.

load ../helpers

setup() { setup_bundle; }
teardown() { teardown_bundle; }

@test "process.args and env reach the process, HOME is set from /etc/passwd" {
  set_args sh -c 'echo "$0|$1|$FOO|$HOME|$PATH"' one two
  update_config '.process.env += ["FOO=bar baz"]'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = "one|two|bar baz|/root|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ]
}

@test "an empty HOME is replaced from /etc/passwd, also when it is the last of several" {
  set_args sh -c 'echo "$HOME"; env | grep -c ^HOME='
  update_config '.process.env += ["HOME="]'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = /root ]
  update_config '.process.env += ["HOME=/foo", "HOME="]'
  run runf run t2
  [ "${lines[0]}" = /root ]
  [ "${lines[1]}" = 1 ]
}

@test "an image's /etc/passwd that never ends or never answers (a link to /dev/zero, a FIFO) holds nothing up: HOME is /" {
  set_args sh -c 'echo "$HOME"'
  rm -f "$BUNDLE/rootfs/etc/passwd"
  ln -s /dev/zero "$BUNDLE/rootfs/etc/passwd"
  run timeout 20 "$RUNF_BIN" --root "$STATE_ROOT" run t1
  [ "$status" -eq 0 ]
  [ "$output" = / ]
  rm -f "$BUNDLE/rootfs/etc/passwd"
  mkfifo "$BUNDLE/rootfs/etc/passwd"
  run timeout 20 "$RUNF_BIN" --root "$STATE_ROOT" run t2
  [ "$status" -eq 0 ]
  [ "$output" = / ]
}

# The caller's ignored signals stay ignored across exec: runf must put
# them back, as runc does, before the container's program runs.
ignoring_signals() {
  trap '' HUP INT QUIT PIPE USR1 TERM
  grep '^SigIgn' "/proc/$BASHPID/status"
  "$@"
}

@test "the process starts with every signal at its default action and none blocked, whatever the caller ignored" {
  set_args grep -E '^Sig(Ign|Blk)' /proc/self/status
  run ignoring_signals runf run t1
  [ "$status" -eq 0 ]
  echo "$output"
  # The caller did ignore some (else this proves nothing) ...
  [[ "${lines[0]}" =~ ^SigIgn:[[:space:]]+[0-9a-f]{16}$ && "${lines[0]}" != *0000000000000000 ]]
  # ... and the container's process ignores and blocks none.
  [ "$(echo "$output" | grep -c -E '^Sig(Ign|Blk):[[:space:]]+0000000000000000$')" -eq 2 ]
}

@test "a variable given twice is set once, to the last value, where it last was" {
  update_config '.process.env = ["PATH=/bin", "A=1", "HOME=/a", "B=x", "A=2", "HOME=/b"]'
  set_args /bin/env
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | tr '\n' ' ')" = "PATH=/bin B=x A=2 HOME=/b " ]
}

@test "a failed execve is one line in runc's words (exec PATH: no such file or directory)" {
  update_config '.root.readonly = false'
  printf '#!/mmnnttbb foo bar\nsh\n' >"$BUNDLE/rootfs/run.sh"
  chmod +x "$BUNDLE/rootfs/run.sh"
  set_args /run.sh
  run runf run t1
  [ "$status" -ne 0 ]
  [ "${#lines[@]}" -eq 1 ]
  [[ "${lines[0]}" == *"exec /run.sh: no such file or directory"* ]]
  set_args no-such-program
  run runf run t2
  assert_one_error_line 'exec: "no-such-program": executable file not found in $PATH'
}

@test "a user without the exec bit but with CAP_DAC_OVERRIDE runs the program" {
  requires_root
  # busybox, as echo, that only its owner (root) may exec.
  mkdir -p "$BUNDLE/rootfs/opt/root-only"
  cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/opt/root-only/echo"
  chmod 0700 "$BUNDLE/rootfs/opt/root-only/echo"
  update_config '.process.user = {"uid": 1000, "gid": 1000}
      | .process.capabilities = {"bounding": ["CAP_DAC_OVERRIDE"], "effective": ["CAP_DAC_OVERRIDE"],
                                 "permitted": ["CAP_DAC_OVERRIDE"]}'
  set_args /opt/root-only/echo ran
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = ran ]
  # Found in PATH the same way.
  update_config '.process.env = ["PATH=/opt/root-only:/bin"]'
  set_args echo ran
  run runf run t2
  [ "$output" = ran ]
  # The capability carried to the exec is not left to the program: a user
  # that is not root keeps none across an exec (its ambient set is empty).
  cp "$BUNDLE/rootfs/bin/busybox" "$BUNDLE/rootfs/opt/root-only/grep"
  chmod 0700 "$BUNDLE/rootfs/opt/root-only/grep"
  set_args grep -E '^Cap(Eff|Prm|Amb)' /proc/self/status
  run runf run t3
  [ "$status" -eq 0 ]
  [ "$(echo "$output" | awk '{print $2}' | tr '\n' ' ')" = "0000000000000000 0000000000000000 0000000000000000 " ]
  set_args /opt/root-only/echo ran
  # Without the capability: the kernel's answer, in runc's words.
  update_config '.process.capabilities = {}'
  run runf run t4
  [ "$status" -ne 0 ]
  [[ "$output" == *"exec /opt/root-only/echo: permission denied"* ]]
}

@test "process.cwd is the working directory and is made when missing" {
  update_config '.root.readonly = false | .process.cwd = "/tmp/work/dir"'
  set_args pwd
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = /tmp/work/dir ]
}

@test "process.user sets uid, gid, additional gids and umask" {
  update_config '.process.user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 65534], "umask": 63}'
  set_args sh -c 'id -u; id -g; id -G; umask; echo $HOME'
  if ! is_root; then
    # Rootless: only the caller's own id is mapped; map a range as root does.
    skip "needs several mapped ids"
  fi
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 1000 ]
  [ "${lines[1]}" = 1000 ]
  [ "${lines[2]}" = "1000 5 65534" ]
  [ "${lines[3]}" = 0077 ]
  [ "${lines[4]}" = /home/user ]
}

@test "the default umask is 0022" {
  set_args sh -c umask
  run runf run t1
  [ "$output" = 0022 ]
}

@test "process.rlimits are applied" {
  update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}, {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]'
  set_args sh -c 'ulimit -n; ulimit -Hn; ulimit -c'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 123 ]
  [ "${lines[1]}" = 456 ]
  [ "${lines[2]}" = 0 ]
}

cap_mask() { # names... -> hex mask as /proc/self/status shows it
  local m=0 c
  for c in "$@"; do
    case $c in
      CAP_CHOWN) m=$((m | 1 << 0)) ;;
      CAP_KILL) m=$((m | 1 << 5)) ;;
      CAP_NET_BIND_SERVICE) m=$((m | 1 << 10)) ;;
      CAP_NET_RAW) m=$((m | 1 << 13)) ;;
      CAP_SYS_ADMIN) m=$((m | 1 << 21)) ;;
      CAP_AUDIT_WRITE) m=$((m | 1 << 29)) ;;
    esac
  done
  printf '%016x' $m
}

@test "process.capabilities sets all five sets exactly" {
  update_config '.process.capabilities = {
      "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_RAW"],
      "effective": ["CAP_KILL"],
      "permitted": ["CAP_KILL", "CAP_NET_RAW"],
      "inheritable": ["CAP_NET_RAW"],
      "ambient": ["CAP_NET_RAW"]}'
  set_args sh -c 'grep ^Cap /proc/self/status'
  run runf run t1
  [ "$status" -eq 0 ]
  # What exec makes of them (as runc): with no_new_privs, root keeps the
  # permitted set it had; the ambient set is kept.
  [[ "$output" == *"CapInh:	$(cap_mask CAP_NET_RAW)"* ]]
  [[ "$output" == *"CapBnd:	$(cap_mask CAP_CHOWN CAP_KILL CAP_NET_RAW)"* ]]
  [[ "$output" == *"CapAmb:	$(cap_mask CAP_NET_RAW)"* ]]
  [[ "$output" == *"CapPrm:	$(cap_mask CAP_KILL CAP_NET_RAW)"* ]]
  [[ "$output" == *"CapEff:	$(cap_mask CAP_KILL CAP_NET_RAW)"* ]]
}

@test "capabilities of a non-root user survive the uid change" {
  requires_root
  update_config '.process.user = {"uid": 1000, "gid": 1000}
    | .process.capabilities = {"bounding": ["CAP_NET_BIND_SERVICE"], "effective": ["CAP_NET_BIND_SERVICE"],
        "permitted": ["CAP_NET_BIND_SERVICE"], "inheritable": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_BIND_SERVICE"]}'
  set_args sh -c 'grep ^CapEff /proc/self/status; id -u'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "CapEff:	$(cap_mask CAP_NET_BIND_SERVICE)" ]
  [ "${lines[1]}" = 1000 ]
}

@test "no capabilities section means no capabilities" {
  update_config 'del(.process.capabilities)'
  set_args sh -c 'grep -E "^Cap(Eff|Prm|Amb)" /proc/self/status'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf 'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapAmb:\t0000000000000000')" ]
}

@test "process.noNewPrivileges sets no_new_privs, and false leaves it off" {
  set_args sh -c 'grep NoNewPrivs /proc/self/status'
  run runf run t1
  [ "$output" = "NoNewPrivs:	1" ]
  update_config '.process.noNewPrivileges = false'
  run runf run t2
  [ "$output" = "NoNewPrivs:	0" ]
}

@test "process.oomScoreAdj is applied" {
  update_config '.process.oomScoreAdj = 345'
  set_args cat /proc/self/oom_score_adj
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = 345 ]
}

@test "hostname and domainname are set in the container's uts namespace" {
  update_config '.hostname = "box" | .domainname = "example.test"'
  set_args sh -c 'hostname; cat /proc/sys/kernel/domainname'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = box ]
  [ "${lines[1]}" = example.test ]
  [ "$(hostname)" != box ]
}

@test "linux.sysctl sets namespaced sysctls" {
  if ! is_root; then
    update_config '.linux.namespaces += [{"type": "network"}]'
  fi
  update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789", "kernel.domainname": "sysctl.test"}'
  set_args sh -c 'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/kernel/domainname'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = "$(printf '1\n123456789\nsysctl.test')" ]
}

@test "a sysctl of a namespace the container does not own is refused" {
  update_config '.linux.namespaces |= map(select(.type != "ipc")) | .linux.sysctl = {"kernel.shmmax": "1"}'
  run runf run t1
  assert_one_error_line "kernel.shmmax"
}

@test "a new session keyring unless --no-new-keyring" {
  set_args cat /proc/self/stat
  update_config '.process.args = ["sh", "-c", "cat /proc/keys 2>/dev/null | grep -c _ses || true"]'
  update_config '.linux.maskedPaths -= ["/proc/keys"]'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" -ge 1 ]
}
