#!/bin/bash
# Two builds of runfd side by side: each round starts a private runfd from
# build A, then from build B, deploys the hello example in MODE (inetd by
# default), warms it for a second and loads it with loadgen; the rounds
# alternate so that both see the same machine.  For deciding whether a
# change to the request or container-start path is worth it.  Two runs of
# the same build differed by up to 12% on the 2-core machine: use several
# rounds and compare medians.
#
#   bench/faas-ab.sh BUILD_A BUILD_B [ROUNDS]     (as root)
#
# MODE, BENCH_SECONDS (default 4) and BENCH_CONCURRENCY (default 4) tune it.
# Each BUILD is a build directory (bin/runfd, bin/runfd-spawner, bin/runfctl,
# bench/loadgen, examples/hello.tar): copy one aside before changing it.
set -eu
a=$(cd "$1" && pwd)
b=$(cd "$2" && pwd)
rounds=${3:-3}
seconds=${BENCH_SECONDS:-4}
concurrency=${BENCH_CONCURRENCY:-4}
mode=${MODE:-inetd}

if [ "$(id -u)" != 0 ]; then
  echo "faas-ab: needs root (functions on port 80)" >&2
  exit 2
fi

dir=""
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  [ -n "$dir" ] && rm -rf "$dir"
  dir=""
  pid=""
}
trap cleanup EXIT

run() { # build label
  local build=$1 ip
  dir=$(mktemp -d /tmp/runf-faas-ab.XXXXXX)
  chmod 755 "$dir"
  export RUNFD_API=unix:$dir/st/run/api.sock
  "$build/bin/runfd" --state "$dir/st" --store "$dir/store" --gateway none \
    --addr-range "127.77.$((RANDOM % 100 + 120)).0/24" >"$dir/runfd.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do [ -S "$dir/st/run/api.sock" ] && break; sleep 0.05; done
  "$build/bin/runfctl" fn deploy hello "$build/examples/hello.tar" --mode "$mode" >/dev/null
  ip=$("$build/bin/runfctl" fn ip hello)
  "$build/bench/loadgen" -c "$concurrency" -d 1 -H "$ip:80" -p /warmup >/dev/null
  printf '%s ' "$2"
  "$build/bench/loadgen" -c "$concurrency" -d "$seconds" -H "$ip:80" -p /ab | head -1
  cleanup
}

for _ in $(seq "$rounds"); do
  run "$a" A
  run "$b" B
done
