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

echo "\$ curl http://\$(runfctl fn ip hello)/          # http://$ip/"
t0=$(date +%s%N)
curl -fsS "http://$ip/"
t1=$(date +%s%N)
echo "\$ curl http://127.0.0.1:18$net/function/hello/   # the shared gateway"
curl -fsS "http://127.0.0.1:18$net/function/hello/"

# With the pool warm: each request still gets a fresh container.
for i in $(seq 50); do
  s=$(date +%s%N)
  curl -fsS -o /dev/null "http://$ip/"
  e=$(date +%s%N)
  echo $(( (e - s) / 1000 ))
done | sort -n >"$dir/lat"
echo
echo "first request (no container ready, created for it): $(( (t1 - t0) / 1000 )) us, curl included"
echo "next 50 requests, each in a fresh container: median $(sed -n 25p "$dir/lat") us, max $(tail -1 "$dir/lat") us, curl included"
"$runfctl" fn ls
