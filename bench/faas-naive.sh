#!/bin/bash
# The baseline for runfd: the seed FaaS design (bench/naive_faas.c), one
# `crun run` per request, serving the hello example in inetd mode; loadgen
# against it for a few seconds.  Prints loadgen's two lines.
#
#   bench/faas-naive.sh BUILD     (as root; make bench-faas-naive)
#
# BENCH_SECONDS (default 5) and BENCH_CONCURRENCY (default 4) tune the load.
# The container has no network namespace: like runfd's default, it answers
# on the socket it is given from the host's network.  crun 1.8 refuses this
# machine's hybrid cgroup layout, so the whole benchmark runs in a private
# mount namespace without /sys/fs/cgroup/unified (as bench/runtime.sh).
set -eu
build=$(cd "$1" && pwd)
seconds=${BENCH_SECONDS:-5}
concurrency=${BENCH_CONCURRENCY:-4}

if [ "$(id -u)" != 0 ]; then
  echo "faas-naive: needs root (crun runs the containers as root); skipped" >&2
  exit 0
fi
for bin in bench/naive_faas bench/loadgen bin/runf examples/hello/rootfs; do
  if [ ! -e "$build/$bin" ]; then
    echo "faas-naive: \`$build/$bin\` is missing: run \`make bench-faas-naive\` (it builds it)" >&2
    exit 1
  fi
done
if [ -z "${RUNF_BENCH_INNER:-}" ]; then
  exec env RUNF_BENCH_INNER=1 unshare -m "$0" "$@"
fi
umount /sys/fs/cgroup/unified 2>/dev/null || true

dir=$(mktemp -d /tmp/runf-naive.XXXXXX)
server=""
cleanup() {
  local id
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  for id in $(crun --root "$dir/crun" list -q 2>/dev/null); do
    crun --root "$dir/crun" delete -f "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$dir"
}
trap cleanup EXIT

mkdir -p "$dir/bundle"
cp -a "$build/examples/hello/rootfs" "$dir/bundle/rootfs"
(cd "$dir/bundle" && "$build/bin/runf" spec)
jq '.process.terminal = false
    | .process.args = ["/hello"]
    | .process.env += ["RUNF_FUNCTION=hello", "RUNF_MODE=inetd"]
    | .linux.namespaces |= map(select(.type != "network"))
    | .mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)' \
  "$dir/bundle/config.json" >"$dir/config.json"
mv "$dir/config.json" "$dir/bundle/config.json"

"$build/bench/naive_faas" -b "$dir/bundle" -r "$dir/crun" -P "$dir/port" 2>"$dir/server.log" &
server=$!
for _ in $(seq 1 100); do
  [ -s "$dir/port" ] && break
  sleep 0.05
done
if [ ! -s "$dir/port" ]; then
  echo "faas-naive: the server did not start:" >&2
  cat "$dir/server.log" >&2
  exit 1
fi
port=$(cat "$dir/port")

# One request first: the answer must be hello's, or the numbers mean nothing.
answer=$(curl -sS --max-time 10 "http://127.0.0.1:$port/check")
if [ "$answer" != "$(printf 'Hello from hello!\nGET /check (inetd)')" ]; then
  echo "faas-naive: unexpected answer: $answer" >&2
  cat "$dir/server.log" >&2
  exit 1
fi

echo "== naive FaaS (one crun run per request), hello in inetd mode: $concurrency connections, ${seconds}s"
"$build/bench/loadgen" -c "$concurrency" -d "$seconds" -H "127.0.0.1:$port" -p /bench
kill "$server"
wait "$server" || true
server=""
tail -1 "$dir/server.log"
