#!/bin/bash
# The main job: runfd started, the hello function deployed from a locally
# built image (what `docker save hello` gives), called at its own address
# and through the gateway, its cold start measured; then everything stops.
set -eu
build=$(cd "$1" && pwd)
dir=$(mktemp -d /tmp/runf-demo.XXXXXX)
# The functions run as ids of their own user namespace: they must be able
# to reach the store's rootfs below this directory.
chmod 755 "$dir"
pid=""
cleanup() {
  status=$?
  if [ $status -ne 0 ] && [ -f "$dir/runfd.log" ]; then
    echo "runfd's log:" >&2
    tail -20 "$dir/runfd.log" >&2
  fi
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

image=$build/examples/hello.tar
[ -f "$image" ] || image=$build/fixtures/fn-image.tar
net=$((RANDOM % 200 + 20))
export RUNFD_API=unix:$dir/state/run/api.sock
runfctl=$build/bin/runfctl

echo "\$ runfd &"
"$build/bin/runfd" --state "$dir/state" --store "$dir/store" --gateway "127.0.0.1:18$net" \
  --addr-range "127.77.$net.0/24" >"$dir/runfd.log" 2>&1 &
pid=$!
for i in $(seq 100); do [ -S "$dir/state/run/api.sock" ] && break; sleep 0.05; done

echo "\$ runfctl fn deploy hello - < $(basename "$image")"
"$runfctl" fn deploy hello - <"$image"
ip=$("$runfctl" fn ip hello)

# Timed with loadgen (one connection, a new one per request): curl's own
# start would be most of what it measured.
val() { # key: from loadgen's key=value line on stdin
  tr ' ' '\n' | sed -n "s/^$1=//p"
}
cold=$("$build/bench/loadgen" -c 1 -n 1 -H "$ip:80" -p /cold | tail -1)

echo "\$ curl http://\$(runfctl fn ip hello)/          # http://$ip/"
curl -fsS "http://$ip/"
echo "\$ curl http://127.0.0.1:18$net/function/hello/   # the shared gateway"
curl -fsS "http://127.0.0.1:18$net/function/hello/"

# With the pool warm: each request still gets a fresh container.
warm=$("$build/bench/loadgen" -c 1 -n 200 -H "$ip:80" -p /again | tail -1)
echo
echo "first request (no container created yet, made for it): $(echo "$cold" | val p50_ms) ms"
echo "next 200 requests, one at a time, each in a fresh container:" \
  "p50 $(echo "$warm" | val p50_ms) ms, p99 $(echo "$warm" | val p99_ms) ms"
"$runfctl" fn ls
