#!/bin/bash
# runfd on a bad day: 5,000 requests over 16 connections across three
# well-behaved functions, run twice in one daemon: once quiet, once while a
# fourth function floods its log and a fifth hits its memory limit over and
# over.  Prints, for the well-behaved functions, their errors (goal 0) and
# their p99 in the hostile run against the quiet one (goal at most 3x),
# and runfd's fds and RSS before and after (goal: back to the baseline).
#
#   bench/soak.sh BUILD        (make bench-soak, part of make bench)
#
# SOAK_REQUESTS (default 5000) and SOAK_CONNECTIONS (default 16) tune the
# load.  As root, or rootless (where the memory limit cannot be applied:
# the fifth function is then said to be left out).
set -eu
build=$(cd "$1" && pwd)
requests=${SOAK_REQUESTS:-5000}
connections=${SOAK_CONNECTIONS:-16}

dir=$(mktemp -d /tmp/runf-soak.XXXXXX)
chmod 755 "$dir"
pid=""
hostile_pids=()
cleanup() {
  for p in "${hostile_pids[@]}"; do kill "$p" 2>/dev/null || true; done
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
  --addr-range "127.77.$net.0/24" >"$dir/runfd.log" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -S "$dir/st/run/api.sock" ] && break; sleep 0.05; done

image=$build/fixtures/fn-image.tar
rfctl() { "$build/bin/runfctl" "$@"; }
for f in good1 good2 good3 flood; do
  rfctl fn deploy "$f" - <"$image" >/dev/null
done
# Refused where no memory cgroup can be made (rootless, mostly).
oom=no
if rfctl fn deploy hog --memory 16m - <"$image" >/dev/null 2>&1; then
  oom=yes
fi

# Three loadgens side by side, the connections and requests shared out.
load() { # label
  local i f c n pids=()
  for i in 0 1 2; do
    f=good$((i + 1))
    c=$((connections / 3 + (i < connections % 3 ? 1 : 0)))
    n=$((requests / 3 + (i < requests % 3 ? 1 : 0)))
    "$build/bench/loadgen" -c "$c" -n "$n" -t 30 -H "$(rfctl fn ip "$f" | sed 's/^\([^:]*\)$/\1:80/')" -p / \
      >"$dir/$1.$f" 2>&1 &
    pids+=($!)
  done
  wait "${pids[@]}" || true
}

val() { # file key
  tail -1 "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}

fds() { ls "/proc/$pid/fd" | wc -l; }
# Each instance waiting in a pool holds two fds of runfd's (its sync
# socket and its pidfd).
waiting() {
  curl -sS --unix-socket "$dir/st/run/api.sock" http://localhost/system/functions | jq 'map(.ready) | add'
}
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }

# Pools filled, pages cached; then the baseline.
load warmup
sleep 2
fds0=$(fds)
rss0=$(rss)
ready0=$(waiting)
load quiet

# The hostile run: a log flood and OOM kills, for as long as it lasts.
(while :; do curl -sS -m 60 -o /dev/null "http://$(rfctl fn ip flood)/flood/5" || sleep 0.2; done) &
hostile_pids+=($!)
if [ "$oom" = yes ]; then
  (while :; do curl -sS -m 10 -o /dev/null "http://$(rfctl fn ip hog)/alloc/64" || sleep 0.2; done) &
  hostile_pids+=($!)
fi
sleep 1
load hostile
for p in "${hostile_pids[@]}"; do kill "$p" 2>/dev/null || true; done
wait "${hostile_pids[@]}" 2>/dev/null || true
hostile_pids=()

# Settled: the flood's instance finished, the pools back at their size.
for _ in $(seq 100); do
  running=$(curl -sS --unix-socket "$dir/st/run/api.sock" http://localhost/system/functions | jq 'map(.running) | add')
  [ "$running" = 0 ] && break
  sleep 0.1
done
sleep 2
fds1=$(fds)
rss1=$(rss)
ready1=$(waiting)
logsize=$(($(stat -c %s "$dir/st/logs/flood.log" 2>/dev/null || echo 0) + $(stat -c %s "$dir/st/logs/flood.log.1" 2>/dev/null || echo 0)))
ooms=$(rfctl fn logs hog 2>/dev/null | grep -c 'out of memory' || true)

echo "runfd soak: $requests requests over $connections connections across 3 functions, twice:" \
  "quiet, then while 'flood' floods its log and 'hog' hits its 16m memory limit"
printf '%-8s %10s %10s %12s %12s %8s\n' function errors errors p99-quiet p99-hostile ratio
worst=0
errors=0
for f in good1 good2 good3; do
  eq=$(($(val "$dir/quiet.$f" requests) - $(val "$dir/quiet.$f" ok)))
  eh=$(($(val "$dir/hostile.$f" requests) - $(val "$dir/hostile.$f" ok)))
  errors=$((errors + eh))
  pq=$(val "$dir/quiet.$f" p99_ms)
  ph=$(val "$dir/hostile.$f" p99_ms)
  ratio=$(awk -v q="$pq" -v h="$ph" 'BEGIN { printf "%.2f", (q > 0 ? h / q : 0) }')
  worst=$(awk -v a="$worst" -v b="$ratio" 'BEGIN { print (b > a ? b : a) }')
  printf '%-8s %10s %10s %10s ms %10s ms %7sx\n' "$f" "$eq" "$eh" "$pq" "$ph" "$ratio"
done
echo "(errors: quiet, hostile)"
echo "errors on the well-behaved functions in the hostile run: $errors (goal 0)"
echo "worst p99, hostile against quiet: ${worst}x (goal at most 3x)"
echo "runfd fds: $fds0 before, $fds1 after, with $ready0 and $ready1 instances waiting in pools;" \
  "RSS: $rss0 KiB before, $rss1 KiB after (goal: back to the baseline)"
echo "requests/s, quiet and hostile: $(for f in good1 good2 good3; do printf '%s %s/%s ' "$f" "$(val "$dir/quiet.$f" rps)" "$(val "$dir/hostile.$f" rps)"; done)"
echo "the flood's log on disk at the end: $logsize bytes (--log-max 10m: at most about 20m)"
if [ "$oom" = yes ]; then
  echo "hog's OOM kills in its log: $ooms"
else
  echo "hog: left out (no memory cgroup for a rootless runfd here)"
fi
