#!/usr/bin/env bats
# runfd + runfctl fn: deploy, call, limits, failures, recovery.

load faas_helpers

setup_file() { faas_setup_file; }
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-case.XXXXXX")
}
teardown() {
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$TEST_DIR"
}

@test "deploy from stdin; the function answers at its own address and through the gateway" {
  run runfctl fn deploy hello - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  [[ "$output" == "hello: http://127.77.$FAAS_NET."* ]]
  run curl -sS "$(fn_url hello)/"
  [ "$status" -eq 0 ]
  [ "$output" = "hello hello" ]
  run curl -sS "http://$GATEWAY/function/hello/env"
  [[ "$output" == *"RUNF_PATH_PREFIX=/function/hello"* ]]
  [[ "$output" == *"RUNF_FUNCTION=hello"* ]]
  [[ "$output" == *"LISTEN_FDS=1"* ]]
  run curl -sS "$(fn_url hello)/env"
  [[ "$output" != *RUNF_PATH_PREFIX* ]]
  run runfctl fn ls
  [[ "$output" == *"hello "*inetd*"127.77.$FAAS_NET."* ]]
  run runfctl fn describe hello
  [ "$(echo "$output" | jq -r .mode)" = inetd ]
  run runfctl fn invoke hello
  [ "$output" = "hello hello" ]
}

@test "every request runs in a fresh container: its own pid 1, nothing kept" {
  runfctl fn deploy fresh - <"$FN_IMAGE"
  url=$(fn_url fresh)
  a=$(curl -sS "$url/env" | grep -c .)
  for i in 1 2 3 4 5; do
    out=$(curl -sS -d x "$url/echo")
    [ "$out" = x ]
  done
  run curl -sS "$url/env"
  [ "$(echo "$output" | grep -c LISTEN_PID=1)" -eq 1 ]
}

@test "a handler runs confined: seccomp filter, no_new_privs, no capabilities, in every mode" {
  # Each mode's init takes the filter at its own point (before READY, in
  # its spawner's memory or not, or after START): none runs without it.
  for mode in inetd control-socket http warm; do
    runfctl fn deploy "confined-$mode" --mode "$mode" - <"$FN_IMAGE"
    run curl -sS "$(fn_url "confined-$mode")/confined"
    echo "$mode: $output"
    [[ "$output" == *"Seccomp:"*2* ]]
    [[ "$output" == *"NoNewPrivs:"*1* ]]
    [[ "$output" == *"CapEff:"*0000000000000000* ]]
    [[ "$output" == *"unshare: Operation not permitted"* ]]
    runfctl fn rm "confined-$mode" >/dev/null
  done
}

@test "an instance's /dev has the default devices and links, and they work" {
  runfctl fn deploy devices - <"$FN_IMAGE"
  run curl -sS "$(fn_url devices)/dev"
  echo "$output"
  [ "${lines[0]}" = "null zero full random urandom tty fd stdin stdout stderr ptmx " ]
  [ "${lines[1]}" = "null-write:ok urandom-read:ok fd-link:ok" ]
}

@test "control-socket mode: the handler gets the socket over /control.sock" {
  runfctl fn deploy ctl --mode control-socket - <"$FN_IMAGE"
  run curl -sS "$(fn_url ctl)/"
  [ "$output" = "hello ctl" ]
  run curl -sS "http://$GATEWAY/function/ctl/env"
  [[ "$output" == *"RUNF_MODE=control-socket"* ]]
}

@test "warm mode: instances accept on the listening socket; the gateway reaches them too" {
  runfctl fn deploy warm --mode warm --min 0 --max 2 --idle 2s - <"$FN_IMAGE"
  run curl -sS --max-time 5 "$(fn_url warm)/"
  [ "$output" = "hello warm" ]
  run curl -sS --max-time 5 "http://$GATEWAY/function/warm/"
  [ "$output" = "hello warm" ]
  [ "$(runfctl fn describe warm | jq .running)" -ge 1 ]
  # Idle, it scales to zero.
  for i in $(seq 1 40); do
    [ "$(runfctl fn describe warm | jq .running)" -eq 0 ] && break
    sleep 0.25
  done
  [ "$(runfctl fn describe warm | jq .running)" -eq 0 ]
  run curl -sS --max-time 5 "$(fn_url warm)/"
  [ "$output" = "hello warm" ]
}

@test "stdio mode: a command behind the shim" {
  [ -x "$TOP/build/bin/runf-shim" ] || skip "the stdio shim is not built"
  runfctl fn deploy stdio --mode stdio --cmd /handler - <"$FN_IMAGE"
  run curl -sS --max-time 5 "$(fn_url stdio)/"
  [ "$status" -eq 0 ]
}

@test "an environment too big for the spawner's memory path takes the fork path, whole" {
  # Over 64 KiB of args and env, an instance's init is a fork of its
  # spawner (linux/init.c); START's variables still join it.
  big=$(head -c 70000 /dev/zero | tr '\0' x)
  runfctl fn deploy bigenv --env "BIG=$big" - <"$FN_IMAGE"
  run curl -sS "$(fn_url bigenv)/envsize/BIG"
  [ "$status" -eq 0 ]
  [ "$output" = 70000 ]
  run curl -sS "$(fn_url bigenv)/envsize/LISTEN_FDS"
  [ "$output" = 1 ]
  runfctl fn deploy smallenv --env "SMALL=1" - <"$FN_IMAGE"
  run curl -sS "$(fn_url smallenv)/env"
  [[ "$output" == *"SMALL=1"* ]]
  [[ "$output" == *"LISTEN_FDS=1"* ]]
  runfctl fn rm bigenv >/dev/null
  runfctl fn rm smallenv >/dev/null
}

# Whether two processes have one address space (kcmp KCMP_VM).
same_memory_p() { # pid pid
  python3 -c 'import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(312, int(sys.argv[1]), int(sys.argv[2]), 1, 0, 0)
sys.exit(0 if r == 0 else 1 if r > 0 else 2)' "$1" "$2"
}

# "SPAWNER INIT" for each instance of function $1 that waits, created but
# not started: a child of a spawner still running the spawner's program,
# whose host name (set before READY) is the function's.
waiting_inits() { # function
  local pid s i
  pid=$(cat "$FAAS_DIR/runfd.pid")
  for s in $(pgrep -P "$pid" -x runfd-spawner); do
    for i in $(pgrep -P "$s" -x runfd-spawner); do
      [ "$(nsenter -t "$i" -u hostname 2>/dev/null)" = "$1" ] && echo "$s $i"
    done
  done
  return 0
}

@test "an instance's init shares its spawner's memory until its exec, unless its config needs a fork" {
  is_root || skip "kcmp of a process that is not dumpable needs root"
  big=$(head -c 70000 /dev/zero | tr '\0' x)
  runfctl fn deploy sharedmem - <"$FN_IMAGE"
  runfctl fn deploy forkedmem --env "BIG=$big" - <"$FN_IMAGE"
  curl -sS -o /dev/null "$(fn_url sharedmem)/"
  curl -sS -o /dev/null "$(fn_url forkedmem)/"
  both_waiting() { [ -n "$(waiting_inits sharedmem)" ] && [ -n "$(waiting_inits forkedmem)" ]; }
  wait_for both_waiting
  waiting_inits sharedmem | while read -r s i; do
    same_memory_p "$s" "$i" || { echo "sharedmem: init $i has its own memory"; false; }
  done
  waiting_inits forkedmem | while read -r s i; do
    run same_memory_p "$s" "$i"
    [ "$status" -eq 1 ] || { echo "forkedmem: init $i: kcmp status $status"; false; }
  done
  runfctl fn rm sharedmem >/dev/null
  runfctl fn rm forkedmem >/dev/null
}

@test "a handler that crashes gives the client 502" {
  runfctl fn deploy crash - <"$FN_IMAGE"
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url crash)/crash"
  [ "$output" = 502 ]
}

@test "--timeout kills the container and the client gets 504" {
  runfctl fn deploy slow --timeout 1s - <"$FN_IMAGE"
  start=$(date +%s)
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url slow)/sleep/10"
  [ "$output" = 504 ]
  [ $(( $(date +%s) - start )) -lt 5 ]
}

@test "a memory limit kills an instance that allocates past it" {
  is_root || skip "no cgroups for a rootless daemon here"
  runfctl fn deploy mem --memory 16m - <"$FN_IMAGE"
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url mem)/alloc/8"
  [ "$output" = 200 ]
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url mem)/alloc/64"
  [ "$output" = 502 ]
}

# The memory cgroups of function $1 below this daemon's parent.
fn_memory_cgroups() {
  find "$(cgroup_mount_of memory)/$(runfd_cgroup_parent)" -mindepth 1 -maxdepth 1 -type d -name "$1-s*"
}

@test "instances use their cgroups again, clean: the last one's memory peak does not follow" {
  is_root || skip "no cgroups for a rootless daemon here"
  runfctl fn deploy reuse --memory 64m --pids 64 --cpus 1 - <"$FN_IMAGE"
  url=$(fn_url reuse)
  # 40 MiB of a 64 MiB limit, one request after another: none is killed.
  for i in $(seq 1 12); do
    run curl -sS -o /dev/null -w '%{http_code}' "$url/alloc/40"
    [ "$output" = 200 ]
  done
  # A few cgroups serve request after request (without reuse each
  # instance's name would be new).
  for i in $(seq 1 30); do
    curl -sS "$url/read//proc/self/cgroup" | grep -o 'reuse-s[0-9]*-[0-9]*' | head -1
  done >"$TEST_DIR/names"
  sort -u "$TEST_DIR/names" >"$TEST_DIR/distinct"
  echo "$(wc -l <"$TEST_DIR/names") requests, $(wc -l <"$TEST_DIR/distinct") cgroups"
  [ "$(wc -l <"$TEST_DIR/names")" -eq 30 ]
  [ "$(wc -l <"$TEST_DIR/distinct")" -lt 30 ]
  # Each was reset when its instance ended: its peak starts again from
  # what is left (v1).  v2's memory.peak cannot be reset: there, what is
  # left is checked (docs/cgroups.md).
  if cgroup_v1_mount memory >/dev/null; then file=memory.max_usage_in_bytes; else file=memory.current; fi
  all_below_20m() {
    local d n=0
    for d in $(fn_memory_cgroups reuse); do
      n=$((n + 1))
      echo "$d: $(cat "$d/$file")" >>"$TEST_DIR/usage"
      [ "$(cat "$d/$file")" -lt $((20 << 20)) ] || return 1
    done
    [ "$n" -ge 1 ]
  }
  wait_for all_below_20m || { cat "$TEST_DIR/usage"; false; }
}

@test "an OOM kill is its instance's alone: reported once, and its cgroup is not used again" {
  is_root || skip "no cgroups for a rootless daemon here"
  runfctl fn deploy oomonce --memory 16m - <"$FN_IMAGE"
  url=$(fn_url oomonce)
  run curl -sS -o /dev/null -w '%{http_code}' "$url/alloc/64"
  [ "$output" = 502 ]
  for i in $(seq 1 10); do
    run curl -sS -o /dev/null -w '%{http_code}' "$url/alloc/4"
    [ "$output" = 200 ]
  done
  run curl -sS --unix-socket "$FAAS_DIR/st/run/api.sock" http://localhost/metrics
  echo "$output" | grep -qx 'runfd_oom_kills_total{function="oomonce"} 1'
  [ "$(runfctl fn logs oomonce | grep -c 'killed: out of memory')" -eq 1 ]
  # The cgroup that counted the kill is gone; no other counts one.
  no_kill_counted() {
    local d
    for d in $(fn_memory_cgroups oomonce); do
      ! grep -qE '^oom_kill [1-9]' "$d/memory.oom_control" "$d/memory.events" 2>/dev/null || return 1
    done
  }
  wait_for no_kill_counted
}

@test "none of runfd's cgroups outlive it: neither its instances' nor those its spawners keep, nor a killed spawner's" {
  is_root || skip "no cgroups for a rootless daemon here"
  runfctl fn deploy kept --memory 64m --pids 64 - <"$FN_IMAGE"
  url=$(fn_url kept)
  seq 1 40 | xargs -P 4 -I{} curl -sS -o /dev/null "$url/"
  parent=$(runfd_cgroup_parent)
  pid=$(cat "$FAAS_DIR/runfd.pid")
  # A spawner killed: what it made goes, once its instances are gone.
  victim=$(pgrep -P "$pid" -x runfd-spawner | head -1)
  tag=$(tr '\0' '\n' <"/proc/$victim/cmdline" | sed -n '/^--cgroup-tag$/{n;p;q}')
  [ -n "$tag" ]
  [ -n "$(fn_memory_cgroups kept)" ]
  kill -KILL "$victim"
  none_of_victim() {
    ! find $(cgroup_hierarchies | sed "s|\$|/$parent|") -mindepth 1 -maxdepth 1 -type d \
      -name "*-$tag-[0-9]*" 2>/dev/null | grep -q .
  }
  wait_for none_of_victim
  seq 1 20 | xargs -P 4 -I{} curl -sS -o /dev/null "$url/"
  stop_runfd
  for h in $(cgroup_hierarchies); do
    [ ! -e "$h/$parent" ] || { find "$h/$parent"; false; }
  done
  start_runfd
}

@test "a second daemon (another state directory) leaves this one's instances alone" {
  is_root || skip "no cgroups for a rootless daemon here"
  runfctl fn deploy twin --memory 64m - <"$FN_IMAGE"
  curl -sS "$(fn_url twin)/sleep/2" >"$TEST_DIR/answer" &
  wait_for sh -c "[ \$(\"$RUNFCTL_BIN\" fn describe twin | jq .running) -eq 1 ]"
  # Its instances' cgroups are its own, below runfd/<key of its state>.
  ls -d "$(cgroup_mount_of memory)"/runfd/*/twin-* >/dev/null
  chmod 755 "$TEST_DIR"
  "$RUNFD_BIN" --state "$TEST_DIR/st2" --store "$FAAS_DIR/store" --gateway none \
    --api "unix:$TEST_DIR/api2.sock" --addr-range "127.77.$FAAS_NET.128/25" >"$TEST_DIR/runfd2.log" 2>&1 &
  wait_for test -S "$TEST_DIR/api2.sock" || { cat "$TEST_DIR/runfd2.log"; false; }
  kill -TERM %2
  wait %2 || true
  wait %1
  [ "$(cat "$TEST_DIR/answer")" = slept ]
}

@test "without clone3 (a kernel before 5.3, or docker's default profile around runfd) instances are forks, and serve" {
  is_root || skip "a filter without no_new_privs needs root"
  [ "$(uname -m)" = x86_64 ] || skip "tests/helpers/nosys.c filters x86_64's calls"
  chmod 755 "$TEST_DIR"
  # 435: clone3, answered ENOSYS for the daemon, its spawners and all
  # they start.
  "$HELPERS/nosys" 435 -- "$RUNFD_BIN" --state "$TEST_DIR/st2" --store "$FAAS_DIR/store" --gateway none \
    --api "unix:$TEST_DIR/api2.sock" --addr-range "127.77.$FAAS_NET.128/25" >"$TEST_DIR/runfd2.log" 2>&1 &
  wait_for test -S "$TEST_DIR/api2.sock" || { cat "$TEST_DIR/runfd2.log"; false; }
  RUNFD_API=unix:$TEST_DIR/api2.sock runfctl fn deploy noclone3 - <"$FN_IMAGE"
  url="http://$(RUNFD_API=unix:$TEST_DIR/api2.sock runfctl fn ip noclone3)"
  for _ in 1 2 3 4; do
    run curl -sS "$url/"
    [ "$output" = "hello noclone3" ] || { cat "$TEST_DIR/runfd2.log"; false; }
  done
  kill -TERM %1
  wait %1 || true
}

@test "over --concurrency the excess waits in a bounded queue, then gets 429" {
  runfctl fn deploy busy --concurrency 1 --queue 1 --timeout 10s - <"$FN_IMAGE"
  url=$(fn_url busy)
  curl -sS -o "$TEST_DIR/a" -w '%{http_code}' "$url/sleep/2" >"$TEST_DIR/a.code" &
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe busy | jq .running)\" -eq 1 ]"
  curl -sS -o "$TEST_DIR/b" -w '%{http_code}' "$url/" >"$TEST_DIR/b.code" &
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe busy | jq .queued)\" -eq 1 ]"
  run curl -sS -o /dev/null -w '%{http_code}' "$url/"
  [ "$output" = 429 ]
  wait
  [ "$(cat "$TEST_DIR/a.code")" = 200 ]
  [ "$(cat "$TEST_DIR/b.code")" = 200 ]
}

@test "redeploy replaces a function without dropping the request in flight" {
  runfctl fn deploy redo - <"$FN_IMAGE"
  url=$(fn_url redo)
  curl -sS -w '%{http_code}' -o "$TEST_DIR/slow" "$url/sleep/2" >"$TEST_DIR/slow.code" &
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe redo | jq .running)\" -eq 1 ]"
  run runfctl fn update redo --env WHO=new - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  [ "$(fn_url redo)" = "$url" ]
  run curl -sS "$url/env"
  [[ "$output" == *WHO=new* ]]
  wait
  [ "$(cat "$TEST_DIR/slow.code")" = 200 ]
}

@test "rm lets requests in flight finish, then the function is gone" {
  runfctl fn deploy gone - <"$FN_IMAGE"
  url=$(fn_url gone)
  curl -sS -w '%{http_code}' -o /dev/null "$url/sleep/1" >"$TEST_DIR/code" &
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe gone | jq .running)\" -eq 1 ]"
  run runfctl fn rm gone
  [ "$status" -eq 0 ]
  wait
  [ "$(cat "$TEST_DIR/code")" = 200 ]
  run runfctl fn describe gone
  [ "$status" -ne 0 ]
  run curl -sS -o /dev/null -w '%{http_code}' "http://$GATEWAY/function/gone/"
  [ "$output" = 404 ]
}

@test "the function's stderr goes to its log" {
  runfctl fn deploy logger - <"$FN_IMAGE"
  curl -sS "$(fn_url logger)/log" >/dev/null
  wait_for sh -c "\"$RUNFCTL_BIN\" fn logs logger | grep -q 'a line for the log'"
  run runfctl fn logs logger --tail 1
  [[ "$output" == *"a line for the log"* ]]
}

@test "a log past --log-max is rotated by a rename; logs -f carries on in the new file and loses nothing" {
  runfctl fn deploy chatty - <"$FN_IMAGE"
  url=$(fn_url chatty)
  runfctl fn logs chatty -f >"$TEST_DIR/followed" 2>&1 &
  # The follower has caught up once it shows the first line.
  curl -sS "$url/log" >/dev/null
  wait_for grep -q 'a line for the log' "$TEST_DIR/followed"
  ino=$(stat -c %i "$FAAS_DIR/st/logs/chatty.log")
  # 896 lines of 64 bytes, 89 with runfd's stamp (80 KB): past 64k once,
  # and not twice, whatever the bites (at most 22 KB stamped) fill.
  curl -sS "$url/log/56" >/dev/null
  wait_for test -f "$FAAS_DIR/st/logs/chatty.log.1"
  # The old file was renamed, not copied; both stay near --log-max (64k
  # here): rotation happens before a write would take a file past it.
  [ "$(stat -c %i "$FAAS_DIR/st/logs/chatty.log.1")" = "$ino" ]
  [ "$(stat -c %s "$FAAS_DIR/st/logs/chatty.log.1")" -le $((64 * 1024)) ]
  [ "$(stat -c %s "$FAAS_DIR/st/logs/chatty.log")" -le $((64 * 1024)) ]
  [ "$(stat -c %a "$FAAS_DIR/st/logs/chatty.log")" = 600 ]
  curl -sS "$url/log" >/dev/null
  wait_for sh -c "grep -q 'a line for the log' '$FAAS_DIR/st/logs/chatty.log'"
  wait_for sh -c "[ \$(grep -c 'a line for the log' '$TEST_DIR/followed') -eq 2 ]"
  # runfd is the log's one writer: every line is there, once, in order.
  [ "$(grep -c 'sixty-four bytes' "$TEST_DIR/followed")" -eq 896 ]
  grep 'sixty-four bytes' "$TEST_DIR/followed" | sed 's/.*line \([0-9]*\).*/\1/' >"$TEST_DIR/seq"
  seq -f '%09g' 0 895 | diff - "$TEST_DIR/seq"
}

@test "/metrics counts requests by function and outcome" {
  runfctl fn deploy counted - <"$FN_IMAGE"
  curl -sS "$(fn_url counted)/" >/dev/null
  curl -sS -o /dev/null "$(fn_url counted)/crash"
  run curl -sS --unix-socket "$FAAS_DIR/st/run/api.sock" http://localhost/metrics
  [[ "$output" == *'runfd_requests_total{function="counted",code="200"} 2'* ]]
  [[ "$output" == *'runfd_requests_total{function="counted",code="502"} 1'* ]]
  [[ "$output" == *'runfd_start_seconds_count{function="counted"}'* ]]
  # Both requests were whole (accept to exit) and came from created instances.
  [[ "$output" == *'runfd_request_seconds_count{function="counted"} 2'* ]]
  echo "$output" | grep -Eq '^runfd_create_seconds_count\{function="counted"\} [1-9]'
  [[ "$output" == *'runfd_create_failures_total{function="counted"} 0'* ]]
  echo "$output" | grep -q '^runfd_instances_creating{function="counted"} [0-9]'
}

@test "hostile clients: silence and endless request lines are cut off" {
  runfctl fn deploy guarded - <"$FN_IMAGE"
  ip=$(runfctl fn ip guarded)
  host=${ip%:*}
  # Silent: closed after the request timeout (2 s here), with 408.
  start=$(date +%s)
  run timeout 10 bash -c "exec 3<>/dev/tcp/$host/$FN_PORT; cat <&3"
  [[ "$output" == *408* ]]
  [ $(( $(date +%s) - start )) -lt 6 ]
  # A request line longer than 8 KiB: 414, no container.
  long=$(head -c 10000 /dev/zero | tr '\0' a)
  run curl -sS -o /dev/null -w '%{http_code}' "http://$ip/$long"
  [ "$output" = 414 ]
  run curl -sS -o /dev/null -w '%{http_code}' "http://$GATEWAY/nowhere"
  [ "$output" = 404 ]
}

@test "bad deploys are refused with one line each" {
  run runfctl fn deploy Bad_Name - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *"service"* ]]
  # Refused before the upload: no name made of it in the store.
  [ "$(cat "$FAAS_DIR/store/refs.json" 2>/dev/null | grep -ci bad_name)" -eq 0 ]
  run runfctl fn deploy ok1 docker.io/library/nosuchimage:latest
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ] && [[ "$output" == *nosuchimage* ]]
  head -c 1000 "$FN_IMAGE" >"$TEST_DIR/broken.tar"
  run runfctl fn deploy ok2 "$TEST_DIR/broken.tar"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  run runfctl fn deploy ok3 --memory 1k - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *limits.memory* ]]
  run runfctl fn deploy ok4 --timeout soon - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *timeout* ]]
  run runfctl fn deploy ok5 --mode sideways - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *mode* ]]
  run runfctl fn deploy ok6 --requests-per-instance 3 - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"requestsPerInstance 3: mode inetd serves each request in a fresh container (1)"* ]]
  run runfctl fn deploy ok7 --mode warm --requests-per-instance 1 - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *"requestsPerInstance 1: mode warm"* ]]
  # The mode's own policy, said out loud, is accepted and shown.
  runfctl fn deploy per1 --requests-per-instance 1 - <"$FN_IMAGE"
  [ "$(runfctl fn describe per1 | jq .requestsPerInstance)" = 1 ]
  runfctl fn rm per1
  runfctl fn deploy twice - <"$FN_IMAGE"
  run runfctl fn deploy twice - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *"already exists"* ]]
  run runfctl fn ls
  [[ "$output" != *ok1* && "$output" != *ok2* && "$output" != *ok3* && "$output" != *ok6* && "$output" != *ok7* ]]
}

# How many spawners daemon PID runs: its children that exec'd runfd-spawner
# (runfd-netns and workers are its children too).
spawners_of() { # pid
  ps -o comm= --ppid "$1" | grep -cx runfd-spawner || true
}

@test "--spawners: a bad count is refused in one line; by default two per CPU, and a daemon runs as many as it is told" {
  for v in 0 257 many -1 2.5 ""; do
    run "$RUNFD_BIN" --state "$TEST_DIR/st" --store "$FAAS_DIR/store" --gateway none \
      --addr-range "127.77.$FAAS_NET.128/25" --spawners "$v"
    echo "--spawners '$v' -> $output"
    [ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"--spawners \`$v\`: expected a whole number from 1 to 256"* ]]
  done
  # Nothing was made of the state directory.
  [ ! -e "$TEST_DIR/st" ]
  # The file's daemon runs the default: two per CPU it may run on, 2 to 64.
  want=$(($(nproc) * 2))
  [ "$want" -ge 2 ] || want=2
  [ "$want" -le 64 ] || want=64
  [ "$(spawners_of "$(cat "$FAAS_DIR/runfd.pid")")" -eq "$want" ]
  # A daemon told 3 runs 3 (and not the default, whatever the CPUs), and
  # serves with them.
  chmod 755 "$TEST_DIR"
  "$RUNFD_BIN" --state "$TEST_DIR/st2" --store "$FAAS_DIR/store" --gateway none --spawners 3 \
    --api "unix:$TEST_DIR/api2.sock" --addr-range "127.77.$FAAS_NET.128/25" >"$TEST_DIR/runfd2.log" 2>&1 &
  pid2=$!
  wait_for test -S "$TEST_DIR/api2.sock" || { cat "$TEST_DIR/runfd2.log"; false; }
  wait_for sh -c "[ \$(ps -o comm= --ppid $pid2 | grep -cx runfd-spawner) -eq 3 ]" \
    || { ps -o pid,comm --ppid "$pid2"; false; }
  RUNFD_API=unix:$TEST_DIR/api2.sock runfctl fn deploy three - <"$FN_IMAGE"
  run curl -sS "http://$(RUNFD_API=unix:$TEST_DIR/api2.sock runfctl fn ip three)/"
  [ "$output" = "hello three" ]
  [ "$(spawners_of "$pid2")" -eq 3 ]
  kill -TERM "$pid2"
  wait "$pid2"
}

@test "as root, a store the functions' ids cannot reach is refused at startup" {
  is_root || skip "needs root on the host"
  mkdir -m 700 "$TEST_DIR/private"
  run "$RUNFD_BIN" --state "$TEST_DIR/st2" --store "$TEST_DIR/private/store" --gateway none \
    --addr-range "127.77.$FAAS_NET.128/25"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"--store"*"private"*"o+x"* ]]
}

@test "deployed functions survive a restart of the daemon" {
  runfctl fn deploy survivor - <"$FN_IMAGE"
  url=$(fn_url survivor)
  stop_runfd
  start_runfd
  run curl -sS "$url/"
  [ "$output" = "hello survivor" ]
}

@test "after 2000 requests the daemon's fds and memory are stable and nothing is left over" {
  # As root with a limit: each instance then has cgroups, and whether they
  # go with it is checked at the end (without limits it has none).
  limits=()
  is_root && limits=(--pids 64)
  runfctl fn deploy soak "${limits[@]}" - <"$FN_IMAGE"
  url=$(fn_url soak)
  pid=$(cat "$FAAS_DIR/runfd.pid")
  for i in $(seq 1 100); do curl -sS -o /dev/null "$url/"; done
  fds1=$(ls /proc/$pid/fd | wc -l)
  ready1=$(runfctl fn describe soak | jq .ready)
  rss1=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  # Each spawner's heap: its instances run in its memory until their exec
  # (linux/init.c), and whatever one left allocated would stay there.
  spawner_heaps() {
    local s
    for s in $(pgrep -P "$pid" -x runfd-spawner | sort); do
      echo "$s $(awk '/\[heap\]/ {h = 1; next} h && /^Size:/ {print $2; exit}' "/proc/$s/smaps")"
    done
  }
  spawner_heaps >"$TEST_DIR/heaps1"
  seq 1 2000 | xargs -P 4 -I{} curl -sS -o /dev/null -w '%{http_code}\n' "$url/" >"$TEST_DIR/codes"
  [ "$(grep -c '^200$' "$TEST_DIR/codes")" -eq 2000 ]
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe soak | jq .running)\" -eq 0 ]"
  fds2=$(ls /proc/$pid/fd | wc -l)
  ready2=$(runfctl fn describe soak | jq .ready)
  rss2=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  echo "fds $fds1 -> $fds2, ready $ready1 -> $ready2, rss $rss1 -> $rss2 KiB"
  # The pool may have grown under the burst: each waiting instance holds
  # its pidfd and its socket.  Nothing else may have stayed open.
  [ $((fds2 - fds1)) -le $((2 * (ready2 - ready1) + 2)) ]
  [ "$rss2" -le $((rss1 + 4096)) ]
  # Some 500 instances a spawner: a leak of even 300 bytes each would grow
  # its heap by more than one step of the allocator (132 KiB).
  spawner_heaps >"$TEST_DIR/heaps2"
  join "$TEST_DIR/heaps1" "$TEST_DIR/heaps2" >"$TEST_DIR/heaps"
  cat "$TEST_DIR/heaps"
  [ "$(wc -l <"$TEST_DIR/heaps")" -ge 1 ]
  awk '{ if ($3 > $2 + 132) exit 1 }' "$TEST_DIR/heaps"
  # Only the pools' waiting instances (and the spawners) remain: none of the
  # finished ones.  Pools still refill or shrink for a moment after the
  # burst, so compare until they hold still.  Only this daemon's processes
  # count: its spawners and their children (other daemons may run beside
  # it).
  only_pooled_instances() {
    local alive n s spawners
    alive=$(curl -sS --unix-socket "$FAAS_DIR/st/run/api.sock" http://localhost/system/functions |
      jq 'map(.ready + .running) | add')
    spawners=$(pgrep -P "$pid" -x runfd-spawner | wc -l)
    n=$spawners
    for s in $(pgrep -P "$pid" -x runfd-spawner); do
      n=$((n + $(pgrep -P "$s" -x runfd-spawner | wc -l)))
    done
    echo "processes $n, instances $alive, spawners $spawners" >"$TEST_DIR/count"
    [ "$spawners" -ge 1 ] && [ "$n" -le $((alive + spawners)) ]
  }
  wait_for only_pooled_instances || { cat "$TEST_DIR/count"; false; }
  if is_root; then
    # No finished instance keeps its cgroup: in every hierarchy, below this
    # daemon's cgroup parent (its spawners are told it), only the waiting
    # ones' remain, and those each spawner keeps for the next (4 at most
    # a function, spawner_main.c).
    parent=$(runfd_cgroup_parent)
    [ -n "$parent" ]
    spawners=$(pgrep -P "$pid" -x runfd-spawner | wc -l)
    only_pooled_cgroups() {
      local h n alive found=0
      alive=$(runfctl fn describe soak | jq '.ready + .running')
      : >"$TEST_DIR/cgroups"
      for h in $(cgroup_hierarchies); do
        [ -d "$h/$parent" ] || continue
        found=1
        n=$(find "$h/$parent" -mindepth 1 -maxdepth 1 -type d -name 'soak-*' | wc -l)
        echo "$h/$parent: $n cgroups of soak, $alive instances" >>"$TEST_DIR/cgroups"
        [ "$n" -le $((alive + 4 * spawners)) ] || return 1
      done
      [ "$found" = 1 ]
    }
    wait_for only_pooled_cgroups || { cat "$TEST_DIR/cgroups"; false; }
  fi
}
