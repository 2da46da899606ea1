#!/usr/bin/env bats
# Function networks: none, isolated and host, and what each reaches, in a
# world of namespaces the test makes (netenv.bash): a host where runfd
# runs, with a service on its loopback and an abstract unix socket, and an
# internet behind its uplink with a web server, a resolver and a private
# address.

load faas_helpers
load netenv

# runfd in the test's host namespace: nsenter execs it, so $! is runfd's
# pid; no fd of bats' goes with it.
start_net_runfd() {
  nsenter --net="/run/netns/$HOST_NS" "$RUNFD_BIN" --state "$FAAS_DIR/st" --store "$FAAS_DIR/store" \
    --gateway 127.78.1.1:8080 --addr-range 127.77.1.0/24 --uplink up0 --dns 198.51.100.1 \
    --bridge-range 10.88.7.0/24 </dev/null >>"$FAAS_DIR/runfd.log" 2>&1 3>&- &
  echo $! >"$FAAS_DIR/runfd.pid"
  disown
}

setup_file() {
  is_root || return 0
  export FAAS_DIR
  FAAS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-test.XXXXXX")
  chmod 755 "$FAAS_DIR"
  export NET_ID=${FAAS_DIR##*.}
  net_world_up "$NET_ID"
  export HOST_NS INET_NS
  echo "${NET_PIDS[*]}" >"$FAAS_DIR/net.pids"
  export RUNFD_API=unix:$FAAS_DIR/st/run/api.sock FN_PORT=80
  start_net_runfd
  wait_for test -S "$FAAS_DIR/st/run/api.sock" || { cat "$FAAS_DIR/runfd.log"; return 1; }
  wait_for "$RUNFCTL_BIN" fn ls
  "$RUNFCTL_BIN" fn deploy fnone - <"$FN_IMAGE" >/dev/null
  "$RUNFCTL_BIN" fn deploy fiso --network isolated - <"$FN_IMAGE" >/dev/null
  "$RUNFCTL_BIN" fn deploy fall --network isolated --egress all - <"$FN_IMAGE" >/dev/null
  "$RUNFCTL_BIN" fn deploy fhost --network host --dns 198.51.100.1 - <"$FN_IMAGE" >/dev/null
}

teardown_file() {
  is_root || return 0
  stop_runfd
  # A runfd a failed test left (and its namespaces' holders, its children).
  pkill -KILL -f -- "--state $FAAS_DIR/st " 2>/dev/null || true
  NET_PIDS=($(cat "$FAAS_DIR/net.pids" 2>/dev/null))
  net_world_down
  rm -rf "$FAAS_DIR"
}

setup() {
  requires_root
}

# What function $1 gets for path $2, asked from the test's host.
ask() {
  in_host curl -sS -m 15 "http://$("$RUNFCTL_BIN" fn ip "$1")$2"
}

@test "a request is handed over and answered on every network" {
  for f in fnone fiso fall fhost; do
    run ask "$f" /
    [ "$output" = "hello $f" ]
  done
  run in_host curl -sS -m 15 "http://127.78.1.1:8080/function/fiso/"
  [ "$output" = "hello fiso" ]
}

@test "none: only lo; nothing of the host's, the internet's or another function's" {
  run ask fnone /read//proc/net/dev
  [ "$(echo "$output" | awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' | tr '\n' ' ')" = "lo " ]
  run ask fnone /tcp/127.0.0.1:9999
  [[ "$output" == error:* ]]
  run ask fnone /tcp/198.51.100.1:80
  [[ "$output" == error:* ]]
  run ask fnone /tcp/127.77.1.4:80
  [[ "$output" == error:* ]]
  run ask fnone /abstract/runf-test-abstract
  [[ "$output" == error:* ]]
}

@test "isolated: the internet by address and by name, nothing of the host's or another function's" {
  run ask fiso /tcp/198.51.100.1:80
  [ "$output" = "connected: HTTP/1.0 200 OK" ]
  run ask fiso /dns/example.test
  [ "$output" = 198.51.100.1 ]
  run ask fiso /read//etc/resolv.conf
  [ "$output" = "nameserver 198.51.100.1" ]
  # The host's loopback, its own address, its abstract sockets.
  run ask fiso /tcp/127.0.0.1:9999
  [[ "$output" == error:* ]]
  run ask fiso /tcp/198.51.100.2:9999
  [[ "$output" == error:* ]]
  run ask fiso /tcp/10.88.7.1:80
  [[ "$output" == error:* ]]
  run ask fiso /abstract/runf-test-abstract
  [[ "$output" == error:* ]]
  # Another function: its loopback address, and its address on the bridge.
  run ask fiso /tcp/127.77.1.1:80
  [[ "$output" == error:* ]]
  other=$("$RUNFCTL_BIN" fn describe fall | jq -r .networkAddress)
  [[ "$other" == 10.88.7.* ]]
  run ask fiso "/tcp/$other:80"
  [[ "$output" == error:* ]]
}

@test "isolated: private ranges only with --egress all" {
  run ask fiso /tcp/10.99.0.1:80
  [[ "$output" == error:* ]]
  run ask fall /tcp/10.99.0.1:80
  [ "$output" = "connected: HTTP/1.0 200 OK" ]
  [ "$("$RUNFCTL_BIN" fn describe fall | jq -r .egress)" = all ]
}

@test "host: the host's loopback, its abstract sockets, the internet" {
  run ask fhost /tcp/127.0.0.1:9999
  [ "$output" = "connected: HTTP/1.0 200 OK" ]
  run ask fhost /abstract/runf-test-abstract
  [ "$output" = connected ]
  run ask fhost /dns/example.test
  [ "$output" = 198.51.100.1 ]
}

@test "bad network fields are refused by name" {
  run "$RUNFCTL_BIN" fn deploy bad1 --network bridge - <"$FN_IMAGE"
  [ "$status" -ne 0 ]
  [[ "$output" == *"network \`bridge\`: expected none, isolated or host"* ]]
  run "$RUNFCTL_BIN" fn deploy bad2 --egress all - <"$FN_IMAGE"
  [[ "$output" == *"egress: only an isolated network"* ]]
  run "$RUNFCTL_BIN" fn deploy bad3 --network isolated --dns nameserver - <"$FN_IMAGE"
  [[ "$output" == *"dns \`nameserver\`: expected an IPv4 address"* ]]
  run "$RUNFCTL_BIN" fn ls
  [[ "$output" != *bad* ]]
}

@test "the bridge, veths and rules go with their function and with runfd; a kill -9 leaves nothing for long" {
  "$RUNFCTL_BIN" fn deploy ftmp --network isolated - <"$FN_IMAGE" >/dev/null
  n=$(ip -n "$HOST_NS" -o link show | grep -c 'rfv' || true)
  "$RUNFCTL_BIN" fn rm ftmp >/dev/null
  wait_for sh -c "[ \$(ip -n $HOST_NS -o link show | grep -c rfv) -lt $n ]"
  # kill -9: the namespaces die with their holders; the next runfd removes
  # the bridge and the rules first, and makes them again.
  kill -9 "$(cat "$FAAS_DIR/runfd.pid")"
  wait_for sh -c "! ip -n $HOST_NS -o link show | grep -q rfv"
  start_net_runfd
  wait_for "$RUNFCTL_BIN" fn ls
  wait_for sh -c "curl -sS -m 5 http://\$($RUNFCTL_BIN fn ip fiso)/ 2>/dev/null; true"
  run ask fiso /tcp/198.51.100.1:80
  [ "$output" = "connected: HTTP/1.0 200 OK" ]
  [ "$(ip netns exec "$HOST_NS" nft list tables | grep -c runfd_)" -eq 1 ]
  stop_runfd
  ! ip -n "$HOST_NS" -o link show | grep -q 'runf-'
  [ "$(ip netns exec "$HOST_NS" nft list tables | grep -c runfd_ || true)" -eq 0 ]
}
