#!/bin/bash
# runf vs crun vs runc: `run` of /bin/true on the same busybox bundle and
# the same config.json, interleaved in one run, with and without a network
# namespace.  Prints the median wall time, median CPU time and peak RSS of
# each and runf's ratios to the others.
#
# crun 1.8 refuses this machine's hybrid cgroup layout, so the whole
# benchmark runs in a private mount namespace without /sys/fs/cgroup/unified;
# all three runtimes see the same machine.
set -eu
build=$(cd "$1" && pwd)
runs=${BENCH_RUNS:-200}
here=$(cd "$(dirname "$0")" && pwd)

if [ -z "${RUNF_BENCH_INNER:-}" ]; then
  exec env RUNF_BENCH_INNER=1 unshare -m "$0" "$@"
fi
umount /sys/fs/cgroup/unified 2>/dev/null || true

dir=$(mktemp -d /tmp/runf-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cc -O2 -o "$dir/benchrun" "$here/benchrun.c"
cp -a "$build/fixtures/rootfs" "$dir/rootfs"
cd "$dir"
"$build/bin/runf" spec
jq '.process.terminal = false | .process.args = ["/bin/true"]' config.json >c && mv c config.json

bench() { # label
  local out
  out=$("$dir/benchrun" "$runs" \
    runf "$build/bin/runf" --root "$dir/runf" run "r%i" --- \
    crun crun --root "$dir/crun" run "c%i" --- \
    runc runc --root "$dir/runc" run "u%i")
  echo "== $1 ($runs runs each, interleaved)"
  echo "$out" | awk '
    { name[NR] = $1; wall[NR] = $2; cpu[NR] = $3; rss[NR] = $4; fail[NR] = $5 }
    END {
      printf "%-6s %12s %12s %14s %9s\n", "", "wall (ms)", "cpu (ms)", "peak RSS (KB)", "failures"
      for (i = 1; i <= NR; i++)
        printf "%-6s %12.2f %12.2f %14d %9d\n", name[i], wall[i], cpu[i], rss[i], fail[i]
      printf "runf/crun: wall %.2fx  cpu %.2fx  rss %.2fx\n", wall[1] / wall[2], cpu[1] / cpu[2], rss[1] / rss[2]
      printf "runf/runc: wall %.2fx  cpu %.2fx  rss %.2fx\n", wall[1] / wall[3], cpu[1] / cpu[3], rss[1] / rss[3]
    }'
}

bench "with a network namespace"
jq '.linux.namespaces |= map(select(.type != "network"))
    | .mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)' \
  config.json >c && mv c config.json
bench "without a network namespace"
