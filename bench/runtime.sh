#!/bin/bash
# runf vs crun vs runc: `run` of /bin/true on the same busybox bundle and
# the same config.json, interleaved in one run, with and without a network
# namespace.  Prints the median wall time, median CPU time and peak RSS of
# each and runf's ratios to the others.  Then the same three in parallel,
# one loop of `run` per CPU for a few seconds each, in containers per
# second, beside the floor (bench/floor.c: the same namespaces and mounts
# with no runtime at all) on the same rootfs.
#
# BENCH_RUNS (default 200) runs each, one at a time; BENCH_PARALLEL_SECONDS
# (default 5) seconds each in parallel, BENCH_WORKERS (default: the online
# CPUs) loops.  A smoke run: BENCH_RUNS=3 BENCH_PARALLEL_SECONDS=1.
#
# crun 1.8 refuses this machine's hybrid cgroup layout, so the whole
# benchmark runs in a private mount namespace without /sys/fs/cgroup/unified;
# all three runtimes see the same machine.
set -eu
build=$(cd "$1" && pwd)
runs=${BENCH_RUNS:-200}
pseconds=${BENCH_PARALLEL_SECONDS:-5}
workers=${BENCH_WORKERS:-$(nproc)}
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

# Containers per second with $workers loops each, and the floor's with as
# many; runf's share of the floor says what its own work costs.
parallel() { # label [--netns]
  local out floor
  out=$("$dir/benchrun" -p "$workers" "$pseconds" \
    runf "$build/bin/runf" --root "$dir/runf" run "pr%i" --- \
    crun crun --root "$dir/crun" run "pc%i" --- \
    runc runc --root "$dir/runc" run "pu%i")
  floor=$("$build/bench/floor" -j "$workers" -t "$pseconds" -r "$dir/rootfs" "${@:2}" | sed -n 's/^floor: \([0-9.]*\)\/s.*/\1/p') \
    || floor=""
  echo "== $1, in parallel ($workers loops, ${pseconds}s each)"
  echo "$out" | awk -v floor="$floor" '
    { name[NR] = $1; rate[NR] = $2; fail[NR] = $3 }
    END {
      printf "%-6s %14s %9s\n", "", "containers/s", "failures"
      for (i = 1; i <= NR; i++)
        printf "%-6s %14.1f %9d\n", name[i], rate[i], fail[i]
      if (floor != "")
        printf "%-6s %14.1f %9s   (bench/floor.c: no runtime)\n", "floor", floor, "-"
      if (rate[2] > 0 && rate[3] > 0)
        printf "runf/crun: %.2fx  runf/runc: %.2fx", rate[1] / rate[2], rate[1] / rate[3]
      if (floor > 0)
        printf "  runf/floor: %.0f%%", 100 * rate[1] / floor
      printf "\n"
    }'
}

bench "with a network namespace"
parallel "with a network namespace" --netns
jq '.linux.namespaces |= map(select(.type != "network"))
    | .mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]} else . end)' \
  config.json >c && mv c config.json
bench "without a network namespace"
parallel "without a network namespace"
