#!/usr/bin/env bats
# Seed 001's network with runf alone: a namespace prepared with ip (a
# bridge, a veth pair, NAT) that the bundle's config joins by path, and a
# resolv.conf bound in.  The "host" and the "internet" are namespaces this
# test makes (../faas/netenv.bash): no packet leaves them.

load ../helpers
load ../faas/netenv

setup() {
  requires_root
  setup_bundle
  NET_ID=s$$
  net_world_up "$NET_ID"
  CONT_NS=rfc-$NET_ID
  ip netns add "$CONT_NS"
  # The seed's steps, in the test's host namespace: a bridge with the
  # gateway's address, a veth pair into the container's namespace, an
  # address and a default route there, NAT out of the uplink.
  ip -n "$HOST_NS" link add rfbr0 type bridge
  ip -n "$HOST_NS" addr add 10.88.250.1/24 dev rfbr0
  ip -n "$HOST_NS" link set rfbr0 up
  ip -n "$HOST_NS" link add rfveth0 type veth peer name eth0 netns "$CONT_NS"
  ip -n "$HOST_NS" link set rfveth0 master rfbr0 up
  ip -n "$CONT_NS" addr add 10.88.250.2/24 dev eth0
  ip -n "$CONT_NS" link set eth0 up
  ip -n "$CONT_NS" link set lo up
  ip -n "$CONT_NS" route add default via 10.88.250.1
  ip netns exec "$HOST_NS" sysctl -qw net.ipv4.ip_forward=1
  ip netns exec "$HOST_NS" nft -f - <<'RULES'
table ip seed {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.88.250.0/24 oifname "up0" masquerade
  }
}
RULES
  # The internet has no way back to 10.88/16: only the NAT makes answers
  # come back.
  ip -n "$INET_NS" route del 10.88.0.0/16
  echo "nameserver 198.51.100.1" >"$TEST_DIR/resolv.conf"
  update_config --arg p "/run/netns/$CONT_NS" --arg r "$TEST_DIR/resolv.conf" '
    .linux.namespaces |= map(if .type == "network" then .path = $p else . end)
    | .mounts += [{"destination": "/etc/resolv.conf", "type": "bind", "source": $r, "options": ["bind", "ro"]}]'
}

teardown() {
  [ -n "${CONT_NS:-}" ] && ip netns del "$CONT_NS" 2>/dev/null
  net_world_down
  teardown_bundle
}

@test "seed 001 with runf alone: a bridge, a veth, NAT and resolv.conf; the internet by address and by name" {
  set_args sh -c 'ip -o -4 addr show eth0 | awk "{print \$4}"; wget -q -O- http://198.51.100.1/; nslookup example.test 198.51.100.1 | awk "/^Address/ && !/#53/ {print \$NF}" | tail -1; wget -q -O- http://example.test/'
  run runf run t1
  [ "$status" -eq 0 ] || { echo "$output"; return 1; }
  [ "${lines[0]}" = 10.88.250.2/24 ]
  [ "${lines[1]}" = internet ]
  [ "${lines[2]}" = 198.51.100.1 ]
  [ "${lines[3]}" = internet ]
}
