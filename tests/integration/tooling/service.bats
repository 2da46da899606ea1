#!/usr/bin/env bats
# runfd under the sandbox runfd.service gives it, without systemd: each
# sandboxing option of the unit is emulated with the same mounts and
# privileges (a mount namespace, read-only binds, no_new_privs, a smaller
# capability bounding set), and a function deployed there must answer.
# An option this file does not know how to emulate fails the test, so the
# unit cannot gain one unchecked.

load ../helpers
bats_require_minimum_version 1.5.0

RUNFCTL_BIN=$TOP/build/bin/runfctl
UNIT=$TOP/build/share/systemd/runfd.service
FN_IMAGE=$TOP/build/fixtures/fn-image.tar

setup() {
  requires_root
  command -v setpriv >/dev/null || skip "setpriv is not installed"
  # Not below /tmp: PrivateTmp= hides it from runfd.
  SVC_DIR=$(mktemp -d /run/runfd-svc-test.XXXXXX)
  chmod 755 "$SVC_DIR"
  NET=$((RANDOM % 250 + 1))
  export RUNFD_API=unix:$SVC_DIR/st/run/api.sock
}

teardown() {
  local pid
  if pid=$(cat "$SVC_DIR/runfd.pid" 2>/dev/null); then
    kill -TERM "$pid" 2>/dev/null || true
    timeout 40 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  [ -n "${SVC_DIR:-}" ] && rm -rf "$SVC_DIR"
  return 0
}

# The shell commands that set up what the unit's sandbox options ask for,
# and the setpriv options; fails on an option it does not know.
emulate() {
  local key value
  MOUNTS="" PRIV="--no-new-privs=no"
  DROP=""
  while IFS='=' read -r key value; do
    case $key in
      NoNewPrivileges) [ "$value" = yes ] && PRIV="--no-new-privs" ;;
      ProtectSystem)
        [ "$value" = full ] || { echo "ProtectSystem=$value: not emulated"; return 1; }
        MOUNTS="$MOUNTS; for d in /usr /boot /efi /etc; do [ -d \$d ] && mount --bind \$d \$d && mount -o remount,bind,ro \$d; done" ;;
      ProtectHome)
        [ "$value" = read-only ] || { echo "ProtectHome=$value: not emulated"; return 1; }
        MOUNTS="$MOUNTS; for d in /home /root /run/user; do [ -d \$d ] && mount --bind \$d \$d && mount -o remount,bind,ro \$d; done" ;;
      PrivateTmp)
        MOUNTS="$MOUNTS; mount -t tmpfs -o mode=1777 tmpfs /tmp; mount -t tmpfs -o mode=1777 tmpfs /var/tmp" ;;
      ProtectKernelModules)
        DROP="$DROP,-sys_module"
        MOUNTS="$MOUNTS; for d in /usr/lib/modules /lib/modules; do [ -d \$d ] && mount -t tmpfs -o ro,mode=0 tmpfs \$d; done" ;;
      ProtectKernelLogs)
        DROP="$DROP,-syslog"
        MOUNTS="$MOUNTS; [ -e /dev/kmsg ] && mount --bind /dev/null /dev/kmsg; true" ;;
      # Filters of system calls no instance may make anyway (realtime
      # scheduling), and a keyring of its own: not emulated, not needed
      # for what runfd does.
      RestrictRealtime|KeyringMode) ;;
      Type|ExecStart|KillMode|TimeoutStopSec|Restart|RestartSec|LimitNOFILE|TasksMax|Description|Documentation|After|WantedBy) ;;
      *) echo "runfd.service sets $key=$value, which this test does not emulate"; return 1 ;;
    esac
  done < <(grep -E '^[A-Za-z]+=' "$UNIT")
  [ -z "$DROP" ] || PRIV="$PRIV --bounding-set ${DROP#,}"
}

@test "runfd in runfd.service's sandbox (emulated): a deployed function answers" {
  emulate
  # runfd, its spawner and the shim out of the staged build (below /tmp).
  mkdir -p "$SVC_DIR/bin"
  cp "$TOP/build/bin/runfd" "$TOP/build/bin/runfd-spawner" "$TOP/build/bin/runf-shim" "$SVC_DIR/bin/"
  unshare -m --propagation private sh -c "set -e $MOUNTS
    exec setpriv $PRIV -- '$SVC_DIR/bin/runfd' --state '$SVC_DIR/st' --store '$SVC_DIR/store' \
      --gateway 127.78.$NET.1:8080 --addr-range 127.77.$NET.0/24 --request-timeout 2" \
    >"$SVC_DIR/runfd.log" 2>&1 &
  echo $! >"$SVC_DIR/runfd.pid"
  disown
  wait_for test -S "$SVC_DIR/st/run/api.sock" || { cat "$SVC_DIR/runfd.log"; return 1; }
  # The sandbox is in place: no_new_privs, no CAP_SYS_MODULE (bit 16) in
  # the bounding set, /usr and /etc read-only, /tmp its own.
  pid=$(cat "$SVC_DIR/runfd.pid")
  grep -q 'NoNewPrivs:.1' "/proc/$pid/status"
  [ $((0x$(awk '/^CapBnd/ {print $2}' "/proc/$pid/status") >> 16 & 1)) -eq 0 ]
  [ "$(awk '$5 == "/usr" {print substr($6, 1, 2)}' "/proc/$pid/mountinfo")" = ro ]
  [ "$(awk '$5 == "/etc" {print substr($6, 1, 2)}' "/proc/$pid/mountinfo")" = ro ]
  awk '$5 == "/tmp" {found = 1} END {exit !found}' "/proc/$pid/mountinfo"
  run "$RUNFCTL_BIN" fn deploy hello - <"$FN_IMAGE"
  [ "$status" -eq 0 ] || { echo "$output"; cat "$SVC_DIR/runfd.log"; return 1; }
  run curl -sS --max-time 10 "http://$("$RUNFCTL_BIN" fn ip hello)/"
  [ "$status" -eq 0 ]
  [[ "$output" == *hello* ]] || { echo "$output"; cat "$SVC_DIR/runfd.log"; return 1; }
  run curl -sS --max-time 10 "http://127.78.$NET.1:8080/function/hello/"
  [[ "$output" == *hello* ]]
}
