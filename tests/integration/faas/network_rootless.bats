#!/usr/bin/env bats
# Function networks of a rootless runfd: the test (as root) makes its world
# of namespaces (netenv.bash) and runs runfd in it as the unprivileged test
# user, so that slirp4netns's way out leads to the test's internet and to
# nothing else.  none: lo alone; isolated: the internet by address and by
# name, and not the host's loopback (10.0.2.2 included), its own address,
# its abstract sockets, or private ranges unless --egress all.

load faas_helpers
load netenv

RL_USER=runftest

# As the test user, in the test's host namespace (its resolv.conf too).
as_user() {
  ip netns exec "$HOST_NS" setpriv --reuid "$RL_USER" --regid "$RL_USER" --init-groups \
    env -i PATH="$PATH" HOME="$RL_DIR" XDG_RUNTIME_DIR="$RL_DIR/xdg" RUNFD_API="$RUNFD_API" "$@"
}

setup_file() {
  is_root || return 0
  id "$RL_USER" >/dev/null 2>&1 || return 0
  command -v slirp4netns >/dev/null || return 0
  export FAAS_DIR RL_DIR
  FAAS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-test.XXXXXX")
  chmod 755 "$FAAS_DIR"
  RL_DIR=$FAAS_DIR/u
  mkdir -p "$RL_DIR/xdg"
  cp "$FN_IMAGE" "$RL_DIR/fn.tar"
  chown -R "$RL_USER:" "$RL_DIR"
  chmod 700 "$RL_DIR/xdg"
  # slirp4netns opens /dev/net/tun as the user: udev makes it 0666, some
  # hosts (this one's containers) 0600.  Its mode comes back at the end.
  stat -c %a /dev/net/tun >"$FAAS_DIR/tun.mode"
  chmod 0666 /dev/net/tun
  export NET_ID=${FAAS_DIR##*.}
  net_world_up "$NET_ID"
  export HOST_NS INET_NS
  echo "${NET_PIDS[*]}" >"$FAAS_DIR/net.pids"
  export RUNFD_API=unix:$RL_DIR/st/run/api.sock
  # `ip netns exec` forks, setpriv and env exec: runfd is $!'s child.
  as_user "$RUNFD_BIN" --state "$RL_DIR/st" --store "$RL_DIR/store" --gateway 127.78.1.1:8080 \
    --addr-range 127.77.1.0/24 </dev/null >>"$FAAS_DIR/runfd.log" 2>&1 3>&- &
  local wrapper=$!
  disown
  wait_for test -S "$RL_DIR/st/run/api.sock" || { cat "$FAAS_DIR/runfd.log"; return 1; }
  pgrep -P "$wrapper" -x runfd >"$FAAS_DIR/runfd.pid"
  as_user "$RUNFCTL_BIN" fn deploy rnone - <"$RL_DIR/fn.tar" >/dev/null
  as_user "$RUNFCTL_BIN" fn deploy riso --network isolated - <"$RL_DIR/fn.tar" >/dev/null
  as_user "$RUNFCTL_BIN" fn deploy rall --network isolated --egress all - <"$RL_DIR/fn.tar" >/dev/null
}

teardown_file() {
  is_root || return 0
  [ -n "${FAAS_DIR:-}" ] || return 0
  stop_runfd
  pkill -KILL -f -- "--state $RL_DIR/st " 2>/dev/null || true
  NET_PIDS=($(cat "$FAAS_DIR/net.pids" 2>/dev/null))
  net_world_down
  [ -s "$FAAS_DIR/tun.mode" ] && chmod "$(cat "$FAAS_DIR/tun.mode")" /dev/net/tun
  rm -rf "$FAAS_DIR"
}

setup() {
  requires_root
  id "$RL_USER" >/dev/null 2>&1 || skip "no user $RL_USER (scripts/test-user.sh makes it)"
  command -v slirp4netns >/dev/null || skip "no slirp4netns"
}

ask() {
  ip netns exec "$HOST_NS" curl -sS -m 15 "http://$(as_user "$RUNFCTL_BIN" fn ip "$1")$2"
}

@test "rootless: a request is handed over and answered on none and isolated" {
  for f in rnone riso rall; do
    run ask "$f" /
    [ "$output" = "hello $f" ]
  done
  # runfd and its instances run as the user.
  [ "$(stat -c %U "/proc/$(cat "$FAAS_DIR/runfd.pid")")" = "$RL_USER" ]
}

@test "rootless none: only lo; nothing of the host's or the internet's" {
  run ask rnone /read//proc/net/dev
  [ "$(echo "$output" | awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' | tr '\n' ' ')" = "lo " ]
  for target in 127.0.0.1:9999 198.51.100.2:9999 198.51.100.1:80; do
    run ask rnone "/tcp/$target"
    [[ "$output" == error:* ]] || { echo "$target: $output"; return 1; }
  done
  run ask rnone /abstract/runf-test-abstract
  [[ "$output" == error:* ]]
}

@test "rootless isolated: the internet by address and by name through slirp4netns" {
  run ask riso /tcp/198.51.100.1:80
  [ "$output" = "connected: HTTP/1.0 200 OK" ]
  run ask riso /dns/example.test
  [ "$output" = 198.51.100.1 ]
}

@test "rootless isolated: not the host's loopback, its address, its abstract sockets, private ranges" {
  # The host's service answers on all its addresses: only the rules stop it.
  run ip netns exec "$HOST_NS" curl -sS -m 5 http://198.51.100.2:9999/
  [ "$output" = hostservice ]
  for target in 127.0.0.1:9999 10.0.2.2:9999 198.51.100.2:9999 10.99.0.1:80; do
    run ask riso "/tcp/$target"
    [[ "$output" == error:* ]] || { echo "$target: $output"; return 1; }
  done
  run ask riso /abstract/runf-test-abstract
  [[ "$output" == error:* ]]
  # --egress all: private ranges, still not the host.
  run ask rall /tcp/10.99.0.1:80
  [ "$output" = "connected: HTTP/1.0 200 OK" ]
  run ask rall /tcp/198.51.100.2:9999
  [[ "$output" == error:* ]]
}

@test "rootless isolated where the user cannot open /dev/net/tun: one line that says so, nothing left" {
  chmod 0600 /dev/net/tun
  run as_user "$RUNFCTL_BIN" fn deploy rtun --network isolated - <"$RL_DIR/fn.tar"
  chmod 0666 /dev/net/tun
  [ "$status" -ne 0 ]
  [[ "$output" == *"function \`rtun\`: slirp4netns: "*"/dev/net/tun"*"mode 0666"* ]]
  [ "${#lines[@]}" -eq 1 ]
  run as_user "$RUNFCTL_BIN" fn ls
  [[ "$output" != *rtun* ]]
  [ ! -e "$RL_DIR/st/run/net/rtun."* ]
}

@test "rootless: slirp4netns and the namespaces go with their function and with runfd" {
  local runfd
  runfd=$(cat "$FAAS_DIR/runfd.pid")
  as_user "$RUNFCTL_BIN" fn deploy rtmp --network isolated - <"$RL_DIR/fn.tar" >/dev/null
  n=$(pgrep -P "$runfd" -c -x slirp4netns)
  as_user "$RUNFCTL_BIN" fn rm rtmp >/dev/null
  wait_for sh -c "[ \$(pgrep -P $runfd -c -x slirp4netns) -lt $n ]"
  helpers=$(pgrep -P "$runfd" | tr '\n' ' ')
  [ -n "$helpers" ]
  stop_runfd
  for p in $helpers; do
    wait_for sh -c "! kill -0 $p 2>/dev/null"
  done
  ! pgrep -f -- "--state $RL_DIR/st "
}
