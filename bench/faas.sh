#!/bin/bash
# The function platform under load, in one run: the hello example deployed
# on a private runfd (a) in inetd mode, a fresh container per request (on
# the default network, none; on host and isolated networks; and with
# --memory 64m --pids 64 --cpus 1, for what the limits cost), and (b) in
# warm mode, long-lived instances accepting by themselves; then (c)
# the naive design of the seed FaaS platform, one `crun run` per request
# (bench/faas-naive.sh).  loadgen opens a new connection per request.
# Prints requests/s and p50/p99 latency of each (inetd also over a single
# connection, for the latency of a request that waits for nothing), and the
# ratio of fresh containers per second to the naive design's.  Then the
# floor (bench/floor.c on the rootfs fixture, without and with a network
# namespace each): what the kernel allows for bare containers on this
# machine, and runfd's fresh containers as a share of the best of it.  The
# floor runs with one loop per CPU and with eight: a loop spends much of
# each container waiting in the kernel (grace periods at teardown), so on
# a small machine one loop per CPU leaves CPUs idle.  The same share is
# then measured in paired rounds, each runfd's rate and the floor right
# after it, and printed per round with its median.  Each floor is the best
# of its runs: with a child that is a fork of the loop, and with one that
# shares the loop's memory until its exec (as runfd's instances do).
#
#   bench/faas.sh BUILD       (as root; make bench-faas)
#
# Then the Python example (examples/python, make examples) in each mode,
# side by side with the C hello in inetd mode: p50 paced (one request every
# 200 ms, time for the pool to make the next instance: what a request
# costs when one is ready), p50 at one connection back to back (bounded by
# how fast instances are made and start), and requests/s at eight.
# BENCH_ONLY=python runs those rows alone (and the C hello's, for the
# comparison).
#
# BENCH_SECONDS (default 5) and BENCH_CONCURRENCY (default 8) tune the load;
# BENCH_FLOOR_SECONDS (default BENCH_SECONDS) the floor's runs and
# BENCH_FLOOR_WORKERS (default "CPUS 8xCPUS") their loops; BENCH_PAIRS
# (default 3) the paired rounds of runfd and the floor; BENCH_SPAWNERS
# is runfd's --spawners (default: runfd's own).  A smoke run:
# BENCH_SECONDS=1 BENCH_FLOOR_WORKERS=2.
set -eu
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
seconds=${BENCH_SECONDS:-5}
concurrency=${BENCH_CONCURRENCY:-8}
floor_seconds=${BENCH_FLOOR_SECONDS:-$seconds}
floor_workers=${BENCH_FLOOR_WORKERS:-"$(nproc) $((8 * $(nproc)))"}
only=${BENCH_ONLY:-}
case $only in
"" | python) ;;
*)
  echo "faas: BENCH_ONLY=$only: expected python (or nothing, for everything)" >&2
  exit 1
  ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "faas: needs root (functions on port 80, crun for the baseline); skipped" >&2
  exit 0
fi

dir=$(mktemp -d /tmp/runf-faas-bench.XXXXXX)
chmod 755 "$dir"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

net=$((RANDOM % 200 + 20))
export RUNFD_API=unix:$dir/st/run/api.sock
"$build/bin/runfd" --state "$dir/st" --store "$dir/store" --gateway none \
  --addr-range "127.77.$net.0/24" ${BENCH_SPAWNERS:+--spawners "$BENCH_SPAWNERS"} >"$dir/runfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -S "$dir/st/run/api.sock" ] && break; sleep 0.05; done

"$build/bin/runfctl" fn deploy hello-inetd "$build/examples/hello.tar" --mode inetd >/dev/null
if [ -z "$only" ]; then
  "$build/bin/runfctl" fn deploy hello-host "$build/examples/hello.tar" --mode inetd --network host >/dev/null
  "$build/bin/runfctl" fn deploy hello-iso "$build/examples/hello.tar" --mode inetd --network isolated >/dev/null
  "$build/bin/runfctl" fn deploy hello-limits "$build/examples/hello.tar" --mode inetd \
    --memory 64m --pids 64 --cpus 1 >/dev/null
  "$build/bin/runfctl" fn deploy hello-warm "$build/examples/hello.tar" --mode warm --min 2 >/dev/null
fi

val() { # line key
  echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
load() { # name connections label
  local ip
  ip=$("$build/bin/runfctl" fn ip "$1")
  # A short warm-up: the pool fills, the page cache holds the image.
  "$build/bench/loadgen" -c "$2" -d 1 -H "$ip:80" -p /warmup >/dev/null
  echo "== $3: $2 connections, ${seconds}s" >&2
  "$build/bench/loadgen" -c "$2" -d "$seconds" -H "$ip:80" -p /bench | tee /dev/stderr | tail -1
}
# p50 and p90 of 30 requests on one connection each, one every 200 ms,
# after 5 to warm up (curl: time from connect to the end of the answer).
paced() { # name label
  local ip
  ip=$("$build/bin/runfctl" fn ip "$1")
  echo "== $2: 30 requests, one every 200 ms" >&2
  for i in $(seq 35); do
    curl -s -o /dev/null --max-time 10 -w '%{http_code} %{time_total}\n' "http://$ip:80/paced" || true
    sleep 0.2
  done | tail -n +6 | sort -k2 -n | awk '$1 == 200 { t[++n] = $2 * 1000 } $1 != 200 { failed++ }
    END { printf "p50_ms=%.3f p90_ms=%.3f errors=%d\n", t[int((n + 1) / 2)], t[int(n * 0.9 + 0.5)], failed }' |
    tee /dev/stderr
}
# One connection: the latency of a request with nothing queued before it.
a1=$(load hello-inetd 1 "runfd, inetd mode, one request at a time")
ap=$(paced hello-inetd "runfd, inetd mode, paced")
# runfd's own CPU time (its event loop: the spawners and the instances
# are other processes) over the fresh-container run, warm-up included.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/$pid/stat"
}
t0=$(date +%s.%N) c0=$(cpu_ticks)
a=$(load hello-inetd "$concurrency" "runfd, inetd mode (a fresh container per request)")
t1=$(date +%s.%N) c1=$(cpu_ticks)
loop_cpu=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v t0="$t0" -v t1="$t1" -v n="$(nproc)" \
  'BEGIN { s = c / hz / (t1 - t0); printf "%.0f%% of one CPU, %.0f%% of the %d CPUs", 100 * s, 100 * s / n, n }')
n_spawners=$(pgrep -P "$pid" -x runfd-spawner | wc -l)
if [ -z "$only" ]; then
  al=$(load hello-limits "$concurrency" "runfd, inetd mode, --memory 64m --pids 64 --cpus 1")
  ah=$(load hello-host "$concurrency" "runfd, inetd mode, the host's network")
  ai=$(load hello-iso "$concurrency" "runfd, inetd mode, an isolated network")
  b=$(load hello-warm "$concurrency" "runfd, warm mode (instances accept by themselves)")
fi

# Paired rounds: runfd's fresh containers, then at once the floor without a
# network namespace (its best of $floor_workers loops), BENCH_PAIRS times:
# the ratio of two runs a few seconds apart, not of two moments of a
# machine whose speed drifts (this 2-core guest's floor moved by a fifth
# between runs of the same build).  runfd sits idle during the floor.
pair_ratios=""
if [ -z "$only" ]; then
  for i in $(seq "${BENCH_PAIRS:-3}"); do
    r=$(load hello-inetd "$concurrency" "paired round $i: runfd, inetd mode")
    best=0
    for w in $floor_workers "${floor_workers##* } --vm"; do
      # shellcheck disable=SC2086 # "N --vm": the loops and the option
      f=$("$build/bench/floor" -j $w -t "$floor_seconds" | tee /dev/stderr | awk '/^floor: / { sub(/\/s$/, "", $2); print $2 }')
      best=$(awk -v a="$best" -v b="${f:-0}" 'BEGIN { print (b > a ? b : a) }')
    done
    pair_ratios+=$(awk -v r="$(val "$r" rps)" -v f="$best" 'BEGIN { if (f > 0) printf "%.0f ", 100 * r / f }')
  done
fi

# The Python example: one function (examples/python/function.py), one
# image per entry point, in each mode; a row for each, "n/a (why)" where
# this runfd cannot run that mode.  Deployed only now, so that their
# instances sit on nothing while hello is measured.
python_rows=""
modes=$("$build/bin/runfctl" fn deploy --help | awk '/--mode/ { p = 1; print; next } p && /^ +-/ { exit } p')
for row in "c-control|control-socket|hello|c hello control-socket (fresh, pre-started)" \
  "c-http|http|hello|c hello http (fresh, pre-started)" \
  "py-inetd|inetd|python-control|python inetd (fresh, started per request)" \
  "py-control|control-socket|python-control|python control-socket (fresh, pre-started)" \
  "py-http|http|python-http|python http (fresh, pre-started)" \
  "py-warm|warm|python-control|python warm"; do
  IFS='|' read -r name mode image label <<<"$row"
  extra=()
  [ "$mode" = warm ] && extra=(--min 2)
  if ! grep -qw -- "$mode" <<<"$modes"; then
    python_rows+="$label|n/a (mode $mode not built)"$'\n'
  elif ! out=$("$build/bin/runfctl" fn deploy "$name" "$build/examples/$image.tar" --mode "$mode" "${extra[@]}" 2>&1); then
    python_rows+="$label|n/a (deploy failed: $(tail -1 <<<"$out"))"$'\n'
  else
    slow=$(paced "$name" "$label, paced")
    one=$(load "$name" 1 "$label, one request at a time")
    many=$(load "$name" "$concurrency" "$label")
    python_rows+="$label|$slow|$one|$many"$'\n'
  fi
done
kill -TERM "$pid"
wait "$pid" || true
pid=""
# p50 paced and at one connection; requests/s, p50, p99 at $concurrency;
# the failed requests of all three.
python_row() { # label paced one many
  local e2 e3 e4
  e2=$(val "$2" errors) e3=$(val "$3" errors) e4=$(val "$4" errors)
  printf '%-44s %9s %9s %11s %9s %9s %7s\n' "$1" "$(val "$2" p50_ms)" "$(val "$3" p50_ms)" \
    "$(val "$4" rps)" "$(val "$4" p50_ms)" "$(val "$4" p99_ms)" "$((${e2:-0} + ${e3:-0} + ${e4:-0}))"
}
python_table() {
  echo
  echo "the Python example and the C hello: p50 paced (one request every 200 ms) and back to back"
  echo "at one connection; requests/s, p50 and p99 at $concurrency connections"
  printf '%-44s %9s %9s %11s %9s %9s %7s\n' "" "paced" "1 conn" "$concurrency conns" "" "" ""
  printf '%-44s %9s %9s %11s %9s %9s %7s\n' "" "p50 (ms)" "p50 (ms)" "requests/s" "p50 (ms)" "p99 (ms)" "failed"
  python_row "c hello inetd (fresh, started per request)" "$ap" "$a1" "$a"
  echo -n "$python_rows" | while IFS='|' read -r label slow one many; do
    case $slow in
    n/a*) printf '%-44s %s\n' "$label" "$slow" ;;
    *) python_row "$label" "$slow" "$one" "$many" ;;
    esac
  done
}
if [ -n "$only" ]; then
  python_table
  exit 0
fi

# The floor, on a machine as quiet as runfd had it: runfd is gone.  One
# line per run: "floor: RATE/s (N workers, netns yes|no, userns yes|no)".
# With the most loops also a user namespace each, as runfd's instances
# have: how much of the gap to the floor that isolation is.
echo "== the floor: ${floor_seconds}s each, $floor_workers loops, without and with a network namespace each" >&2
floors=""
for w in $floor_workers; do
  for netns in "" --netns; do
    floors+=$("$build/bench/floor" -j "$w" -t "$floor_seconds" $netns | tee /dev/stderr)$'\n' || true
  done
done
floors+=$("$build/bench/floor" -j "${floor_workers##* }" -t "$floor_seconds" --userns | tee /dev/stderr)$'\n' || true
# And each container sharing the loop's memory until its exec, as runfd's
# instances share their spawner's: the floor of that way of making them.
floors+=$("$build/bench/floor" -j "${floor_workers##* }" -t "$floor_seconds" --vm | tee /dev/stderr)$'\n' || true
floors+=$("$build/bench/floor" -j "${floor_workers##* }" -t "$floor_seconds" --vm --userns | tee /dev/stderr)$'\n' || true
c=$(BENCH_SECONDS=$seconds BENCH_CONCURRENCY=$concurrency "$here/faas-naive.sh" "$build" | tee /dev/stderr | grep '^requests=' || true)

echo
printf '%-38s %12s %10s %10s\n' "" "requests/s" "p50 (ms)" "p99 (ms)"
for row in "runfd inetd, 1 connection:a1" "runfd inetd (fresh container):a" \
  "runfd inetd, --memory --pids --cpus:al" "runfd inetd, --network host:ah" "runfd inetd, --network isolated:ai" "runfd warm:b" \
  "naive (crun run per request):c"; do
  line=${row##*:}
  eval "v=\$$line"
  printf '%-38s %12s %10s %10s\n' "${row%:*}" "$(val "$v" rps)" "$(val "$v" p50_ms)" "$(val "$v" p99_ms)"
done
# The limits' cost: the same function with a memory, process and CPU
# limit each, against the default (as root, a memory limit of 256 MiB).
awk -v a="$(val "$a" rps)" -v l="$(val "$al" rps)" \
  'BEGIN { if (a > 0) printf "runfd inetd with --memory 64m --pids 64 --cpus 1: %.0f%% of the requests/s without\n", 100 * l / a }'
if [ -n "$c" ]; then
  awk -v a="$(val "$a" rps)" -v c="$(val "$c" rps)" \
    'BEGIN { if (c > 0) printf "runfd inetd / naive: %.1fx the requests/s\n", a / c }'
fi
python_table

echo
printf '%-76s %12s\n' "fresh containers" "per second"
# "floor: RATE/s (N workers, netns X, userns Y, vm Z)"
floor_fields='rate = $2; sub(/\/s$/, "", rate); loops = $3; sub(/^\(/, "", loops); netns = $6; sub(/,$/, "", netns)
  userns = $8; sub(/,$/, "", userns); vm = $NF; sub(/\)$/, "", vm)'
echo -n "$floors" | awk '/^floor: / { '"$floor_fields"'
  printf "%-76s %12.1f\n", sprintf("floor, %s%s%s, %d loops", netns == "yes" ? "a network namespace each" : "no network namespace",
                                   userns == "yes" ? ", a user namespace each" : "", vm == "yes" ? ", memory shared" : "", loops), rate
}'
printf '%-76s %12s\n' "runfd inetd (a fresh container each)" "$(val "$a" rps)"
echo "runfd's own CPU (its event loop) during it: $loop_cpu; $n_spawners spawners"
# runfd's instances enter their function's namespace, made once (network
# none and isolated alike): the floor without a namespace is their measure.
echo -n "$floors" | awk -v a="$(val "$a" rps)" '/^floor: / { '"$floor_fields"'
    if (netns == "no" && userns == "no" && rate + 0 > best) { best = rate + 0; best_loops = loops; best_vm = vm }
    if (netns == "yes" && rate + 0 > best_ns) best_ns = rate + 0
    if (userns == "yes" && vm == "yes" && rate + 0 > best_us) best_us = rate + 0
  }
  END {
    if (best > 0)
      printf "runfd / floor: %.0f%% (the best floor without a network namespace: %d loops%s)", 100 * a / best, best_loops,
             best_vm == "yes" ? ", memory shared" : ""
    if (best_ns > 0)
      printf "; %.0f%% of the best with a network namespace each", 100 * a / best_ns
    if (best_us > 0)
      printf "; %.0f%% of the floor with a user namespace each and memory shared (as runfd'"'"'s instances)", 100 * a / best_us
    if (best > 0)
      printf "\n"
  }'
if [ -n "$pair_ratios" ]; then
  median=$(echo "$pair_ratios" | tr ' ' '\n' | grep . | sort -n | awk '{ r[NR] = $1 } END { print r[int((NR + 1) / 2)] }')
  echo "runfd / floor in paired rounds (runfd, then the floor at once), in their order:" \
    "$(echo "$pair_ratios" | sed 's/\([0-9]\+\)/\1%/g; s/ *$//'); median $median%"
fi
