#!/usr/bin/env bats
# runfd on its worst day: a function that floods its log, a log reader
# that stops reading, a thousand idle connections, a client that trickles
# its request, a fork bomb, SIGTERM with a request in flight, a spawner
# killed under load, and the mistakes a user makes (a command the image
# lacks, a field runfd does not know, a limit it cannot apply).  Each test
# is one finding of issue 10 (and 9.4, 9.6 of issue 9).

load faas_helpers

setup_file() { faas_setup_file; }
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-hostile.XXXXXX")
  chmod 755 "$TEST_DIR"
  SOCK=$FAAS_DIR/st/run/api.sock
}
teardown() {
  stop_own
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$TEST_DIR"
}

# A daemon of the test's own (prlimit, its exit status, a restart), on
# addresses of its own: functions in 127.79.N.128/25, its gateway at
# 127.79.N.1.  OWN_API is its socket.
start_own() {
  OWN_API=unix:$TEST_DIR/st/run/api.sock
  "$@" --state "$TEST_DIR/st" --store "$FAAS_DIR/store" --gateway "127.79.$FAAS_NET.1:8080" \
    --addr-range "127.79.$FAAS_NET.128/25" --request-timeout 1 >>"$TEST_DIR/runfd.log" 2>&1 &
  OWN_PID=$!
  echo "$OWN_PID" >"$TEST_DIR/own.pid"
  wait_for test -S "$TEST_DIR/st/run/api.sock" || { cat "$TEST_DIR/runfd.log"; return 1; }
  wait_for env RUNFD_API="$OWN_API" "$RUNFCTL_BIN" fn ls
}

stop_own() {
  local pid
  pid=$(cat "$TEST_DIR/own.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  timeout 40 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$TEST_DIR/own.pid"
}

own() {
  RUNFD_API=$OWN_API "$RUNFCTL_BIN" "$@"
}

# CPU time of a process, in clock ticks.
cpu_ticks() {
  awk '{print $14 + $15}' "/proc/$1/stat"
}

# p50, p99 and max of a file of seconds, one a line.
percentiles() {
  sort -n "$1" | awk '{a[NR] = $1} END {printf "p50 %.4f p99 %.4f max %.4f (n %d)", a[int(NR * 0.5)], a[int(NR * 0.99)], a[NR], NR}'
}

@test "1: a function flooding its log costs another function little; its log stays under about 2x --log-max" {
  runfctl fn deploy quiet - <"$FN_IMAGE"
  runfctl fn deploy flood - <"$FN_IMAGE"
  q=$(fn_url quiet)
  f=$(fn_url flood)
  for i in $(seq 1 20); do curl -sS -o /dev/null -w '%{time_total}\n' "$q/" >>"$TEST_DIR/quiet"; done
  curl -sS -m 60 "$f/flood/8" >"$TEST_DIR/flood.out" &
  flood=$!
  wait_for test -f "$FAAS_DIR/st/logs/flood.log.1"
  largest=0
  for i in $(seq 1 100); do
    curl -sS -o /dev/null -w '%{time_total}\n' "$q/" >>"$TEST_DIR/lat"
    size=$(($(stat -c %s "$FAAS_DIR/st/logs/flood.log") + $(stat -c %s "$FAAS_DIR/st/logs/flood.log.1")))
    [ "$size" -gt "$largest" ] && largest=$size
  done
  wait "$flood"
  [ "$(cat "$TEST_DIR/flood.out")" = flooded ]
  echo "another function, quiet: $(percentiles "$TEST_DIR/quiet"); during the flood: $(percentiles "$TEST_DIR/lat")"
  echo "the flooding function's log on disk: at most $largest bytes (--log-max 64k)"
  # The loop never stalls for it (the goal is a p99 under 50 ms; on this
  # shared machine the test asks for every request within a second).
  awk '$1 > 1 { slow++ } END { exit slow > 0 }' "$TEST_DIR/lat"
  # Two files of 64k at most, each written in bites of 16k.
  [ "$largest" -le $((2 * 64 * 1024 + 16 * 1024)) ]
}

@test "2: a log reader that stops reading holds only its own connection; --tail reads back in blocks" {
  runfctl fn deploy reader - <"$FN_IMAGE"
  curl -sS "$(fn_url reader)/log" >/dev/null
  wait_for grep -q 'a line for the log' "$FAAS_DIR/st/logs/reader.log"
  # 4 MiB without a newline, then a line, as if the function wrote them.
  head -c $((4 * 1024 * 1024)) /dev/zero | tr '\0' s >>"$FAAS_DIR/st/logs/reader.log"
  printf '\nthe last line\n' >>"$FAAS_DIR/st/logs/reader.log"
  cat >"$TEST_DIR/stall.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
s.sendall(b"GET /system/logs?name=reader HTTP/1.1\r\nHost: x\r\n\r\n")
open(sys.argv[2], "w").close()
time.sleep(15)
EOF
  python3 "$TEST_DIR/stall.py" "$SOCK" "$TEST_DIR/connected" &
  wait_for test -e "$TEST_DIR/connected"
  sleep 0.5
  # The reader does not read: the API and the functions answer all the same.
  for i in $(seq 1 10); do
    curl -sS -o /dev/null -w '%{time_total}\n' --unix-socket "$SOCK" http://localhost/healthz >>"$TEST_DIR/lat"
    curl -sS -o /dev/null -w '%{time_total}\n' "$(fn_url reader)/" >>"$TEST_DIR/lat"
  done
  echo "while a reader stalls: $(percentiles "$TEST_DIR/lat")"
  awk '$1 > 1 { slow++ } END { exit slow > 0 }' "$TEST_DIR/lat"
  # The last lines of a log with a 4 MiB line: read back a block at a
  # time, while the loop goes on.
  run runfctl fn logs reader --tail 1
  [ "$output" = "the last line" ]
  runfctl fn logs reader --tail 2 >"$TEST_DIR/two" &
  tail_pid=$!
  for i in $(seq 1 10); do
    curl -sS -o /dev/null -w '%{time_total}\n' --unix-socket "$SOCK" http://localhost/healthz >>"$TEST_DIR/lat2"
  done
  wait "$tail_pid"
  [ "$(wc -l <"$TEST_DIR/two")" -eq 2 ]
  [ "$(stat -c %s "$TEST_DIR/two")" -gt $((4 * 1024 * 1024)) ]
  awk '$1 > 1 { slow++ } END { exit slow > 0 }' "$TEST_DIR/lat2"
  run runfctl fn logs reader --tail 0
  [ -z "$output" ]
  run runfctl fn logs reader --tail x
  [ "$status" -ne 0 ] && [[ "$output" == *"--tail"* ]]
  # OpenFaaS's tail=-1 (what faas-cli sends) is the whole log; a tail that
  # is no number is refused.
  run curl -sS --unix-socket "$SOCK" "http://localhost/system/logs?name=reader&tail=-1&format=text"
  [[ "$output" == *"the last line"* ]]
  run curl -sS --unix-socket "$SOCK" "http://localhost/system/logs?name=reader&tail=x"
  [[ "$output" == *tail* ]]
}

@test "3: out of fds, runfd rests its listeners without spinning, says so a few times, and recovers by itself" {
  start_own prlimit --nofile=48:48 "$RUNFD_BIN"
  own fn deploy fds - <"$FN_IMAGE"
  url=http://$(own fn ip fds)
  curl -sS "$url/" >/dev/null
  cat >"$TEST_DIR/idle.py" <<'EOF'
import socket, sys, time
socks = []
for i in range(int(sys.argv[3])):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect((sys.argv[1], int(sys.argv[2])))
    except BlockingIOError:
        pass
    socks.append(s)
open(sys.argv[4], "w").close()
time.sleep(float(sys.argv[5]))
EOF
  before=$(cpu_ticks "$OWN_PID")
  python3 "$TEST_DIR/idle.py" "127.79.$FAAS_NET.1" 8080 300 "$TEST_DIR/open" 4 &
  idle=$!
  wait_for test -e "$TEST_DIR/open"
  # A real request gets through once the silent ones are cut off (at the
  # request timeout, 1 s here).
  run curl -sS -m 10 "$url/"
  [ "$output" = "hello fds" ]
  wait "$idle"
  after=$(cpu_ticks "$OWN_PID")
  echo "runfd used $((after - before)) ticks in 4 s; $(grep -c 'accept:' "$TEST_DIR/runfd.log") lines about accept"
  # A busy loop would have used the 4 s (400 ticks).
  [ $((after - before)) -lt 100 ]
  grep -q 'accept: Too many open files' "$TEST_DIR/runfd.log"
  [ "$(grep -c 'accept:' "$TEST_DIR/runfd.log")" -le 3 ]
  run curl -sS -m 5 "$url/"
  [ "$output" = "hello fds" ]
}

@test "3: runfd raises its soft fd limit to the hard one; the instances keep the one it was given" {
  start_own prlimit --nofile=256:4096 "$RUNFD_BIN"
  grep -Eq '^Max open files +4096 +4096 ' "/proc/$OWN_PID/limits"
  own fn deploy lim - <"$FN_IMAGE"
  run curl -sS "http://$(own fn ip lim)/limits"
  echo "$output"
  echo "$output" | grep -Eq '^Max open files +256 +4096 '
  # And the pids default, as each instance's process limit.
  echo "$output" | grep -Eq '^Max processes +256 +256 '
}

@test "4: defaults bound a function: processes per instance, instances at once, memory (reported where not applied)" {
  runfctl fn deploy bomb - <"$FN_IMAGE"
  run curl -sS -m 20 "$(fn_url bomb)/fork/2000"
  echo "$output"
  [[ "$output" =~ ^forked\ ([0-9]+)\ of\ 2000$ ]]
  [ "${BASH_REMATCH[1]}" -lt 256 ]
  run runfctl fn describe bomb
  [ "$(echo "$output" | jq .applied.pids)" -eq 256 ]
  [ "$(echo "$output" | jq .concurrency)" -eq 64 ]
  [ "$(echo "$output" | jq .queue)" -eq 64 ]
  [ "$(echo "$output" | jq -r '.command[0]')" = /handler ]
  if is_root; then
    [ "$(echo "$output" | jq .applied.memoryBytes)" -eq $((256 * 1024 * 1024)) ]
    [ "$(echo "$output" | jq '.warnings | length')" -eq 0 ]
  else
    # No cgroup to apply it to: said, in the answer, describe and ls.
    [ "$(echo "$output" | jq .applied.memoryBytes)" -eq 0 ]
    echo "$output" | jq -r '.warnings[0]' | grep -q 'limits.memory (the default): not applied'
    run runfctl fn ls
    [[ "$output" == *"bomb "*"ready*"* ]]
    [[ "$output" == *"bomb: * limits.memory (the default): not applied"* ]]
  fi
}

@test "4: a client that trickles its request head holds no container; --max-instances bounds them all" {
  runfctl fn deploy trickle - <"$FN_IMAGE"
  host=$(runfctl fn ip trickle)
  host=${host%:*}
  cat >"$TEST_DIR/trickle.py" <<'EOF'
import socket, sys, time
socks = []
for i in range(30):
    s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
    s.sendall(b"GET /sleep/5 HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
open(sys.argv[3], "w").close()
time.sleep(4)
print(sum(1 for s in socks if b"408" in s.recv(100)))
EOF
  python3 "$TEST_DIR/trickle.py" "$host" "$FN_PORT" "$TEST_DIR/sent" >"$TEST_DIR/cut" &
  trickle=$!
  wait_for test -e "$TEST_DIR/sent"
  sleep 0.5
  [ "$(runfctl fn describe trickle | jq .running)" -eq 0 ]
  [ "$(runfctl fn describe trickle | jq .queued)" -eq 0 ]
  wait "$trickle"
  # Each was cut off at the request timeout (2 s here), with 408.
  [ "$(cat "$TEST_DIR/cut")" -eq 30 ]
  # One daemon with --max-instances 2: the third request waits for a slot.
  start_own "$RUNFD_BIN" --max-instances 2
  own fn deploy capped --timeout 10s - <"$FN_IMAGE"
  url=http://$(own fn ip capped)
  pids=()
  for i in 1 2 3; do
    curl -sS -o /dev/null -w '%{http_code}\n' "$url/sleep/2" >>"$TEST_DIR/codes" &
    pids+=($!)
  done
  wait_for sh -c "[ \$(RUNFD_API=$OWN_API \"$RUNFCTL_BIN\" fn describe capped | jq .running) -eq 2 ]"
  [ "$(own fn describe capped | jq .queued)" -eq 1 ]
  wait "${pids[@]}"
  [ "$(grep -c 200 "$TEST_DIR/codes")" -eq 3 ]
}

@test "5: SIGTERM drains: the request in flight is answered, new connections are refused, runfd exits 0" {
  start_own "$RUNFD_BIN"
  own fn deploy drain - <"$FN_IMAGE"
  url=http://$(own fn ip drain)
  curl -sS -w ' %{http_code}' "$url/sleep/2" >"$TEST_DIR/answer" &
  slow=$!
  wait_for sh -c "[ \$(RUNFD_API=$OWN_API \"$RUNFCTL_BIN\" fn describe drain | jq .running) -eq 1 ]"
  start=$(date +%s%N)
  kill -TERM "$OWN_PID"
  wait_for grep -q draining "$TEST_DIR/runfd.log"
  run curl -sS -m 2 "$url/"
  [ "$status" -eq 7 ] # refused
  run curl -sS -m 2 "http://127.79.$FAAS_NET.1:8080/function/drain/"
  [ "$status" -eq 7 ]
  status=0
  wait "$OWN_PID" || status=$?
  rm -f "$TEST_DIR/own.pid"
  echo "runfd exited with $status after $((($(date +%s%N) - start) / 1000000)) ms"
  [ "$status" -eq 0 ]
  wait "$slow"
  [ "$(cat "$TEST_DIR/answer")" = "slept
 200" ]
}

@test "6: a spawner killed under load is replaced; the requests it had get 502, counted; runfd serves on" {
  runfctl fn deploy spawned - <"$FN_IMAGE"
  url=$(fn_url spawned)
  pid=$(cat "$FAAS_DIR/runfd.pid")
  spawners=$(pgrep -P "$pid" -x runfd-spawner | wc -l)
  seq 1 40 | xargs -P 8 -I{} curl -sS -o /dev/null -w '%{http_code}\n' "$url/sleep/1" >"$TEST_DIR/codes" &
  load=$!
  wait_for sh -c "[ \$(\"$RUNFCTL_BIN\" fn describe spawned | jq .running) -ge 4 ]"
  kill -KILL "$(pgrep -P "$pid" -x runfd-spawner | head -1)"
  wait "$load"
  sort "$TEST_DIR/codes" | uniq -c
  kill -0 "$pid"
  [ "$(grep -vc -e '^200$' -e '^502$' "$TEST_DIR/codes")" -eq 0 ]
  lost=$(grep -c '^502$' "$TEST_DIR/codes" || true)
  [ "$lost" -ge 1 ]
  run curl -sS --unix-socket "$SOCK" http://localhost/metrics
  echo "$output" | grep -qx "runfd_requests_total{function=\"spawned\",code=\"502\"} $lost"
  echo "$output" | grep -qx "# TYPE runfd_spawner_restarts_total counter"
  echo "$output" | grep -Eqx "runfd_spawner_restarts_total [1-9][0-9]*"
  wait_for sh -c "[ \$(pgrep -P $pid -x runfd-spawner | wc -l) -eq $spawners ]"
  run curl -sS "$url/"
  [ "$output" = "hello spawned" ]
  run runfctl fn logs spawned
  [[ "$output" == *"runfd: instance spawned-"*": killed: the spawner that made it died"* ]]
  grep -q 'was killed by signal 9; starting another' "$FAAS_DIR/runfd.log"
}

@test "6: a spawner that dies at once, again and again, stops runfd with an error status" {
  mkdir "$TEST_DIR/bin"
  cp "$RUNFD_BIN" "$TEST_DIR/bin/runfd"
  printf '#!/bin/sh\nexit 3\n' >"$TEST_DIR/bin/runfd-spawner"
  chmod 755 "$TEST_DIR/bin/runfd-spawner"
  run timeout 60 "$TEST_DIR/bin/runfd" --state "$TEST_DIR/st" --store "$FAAS_DIR/store" --gateway none \
    --addr-range "127.79.$FAAS_NET.128/25"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ "$output" == *"exited with status 3; starting another"* ]]
  [[ "$output" == *"times in a row right after its start; stopping"* ]]
}

@test "7: handlers get blocking sockets, as systemd hands them over" {
  runfctl fn deploy blocking - <"$FN_IMAGE"
  runfctl fn deploy blockctl --mode control-socket - <"$FN_IMAGE"
  run curl -sS "$(fn_url blocking)/flags"
  [ "$output" = "fd0:blocking served:blocking" ]
  run curl -sS "http://$GATEWAY/function/blocking/flags"
  [ "$output" = "fd0:blocking served:blocking" ]
  run curl -sS "$(fn_url blockctl)/flags"
  [[ "$output" == *"served:blocking" ]]
}

@test "9: deploy refuses a command the image lacks, fields runfd does not know, and a bad duration, naming each" {
  run runfctl fn deploy nocmd --cmd /nonexistent - <"$FN_IMAGE"
  echo "$output"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"command \`/nonexistent\`: no such file in the image"* ]]
  run runfctl fn deploy nocmd2 --cmd nothere - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *"not found in the image's PATH"* ]]
  for field in '"secrets":["db"]|secrets' '"lables":{"a":"b"}|lables' '"limits":{"memroy":"1g"}|limits.memroy' \
    '"timeout":"nan"|timeout'; do
    body="{\"service\":\"unk\",\"image\":\"localhost/nocmd:latest\",${field%|*}}"
    run curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' -d "$body" http://localhost/system/functions
    echo "$body -> $output"
    [ "${lines[-1]}" = 400 ]
    echo "$output" | sed '$d' | jq -r .error | grep -q "^${field#*|}"
  done
  run runfctl fn ls
  [[ "$output" != *nocmd* && "$output" != *unk* ]]
}

# An image of fn_handler and a copy of a program of the host that cannot
# run there (its loader is missing): $1 names it.
make_image() {
  mkdir -p "$TEST_DIR/root/$1"
  cp "$HELPERS/fn_handler" "$TEST_DIR/root/$1/handler"
  cp "$(type -P true)" "$TEST_DIR/root/$1/dynamic"
  echo "$1" >"$TEST_DIR/root/$1/marker"
  python3 "$TOP/tests/integration/image/mkimage.py" oci "$TEST_DIR/layout-$1" --tag "${2:-v1}" \
    --layer "$TEST_DIR/root/$1" --config '{"Cmd": ["/handler"], "Env": ["PATH=/"]}' >/dev/null
}

@test "an image's /etc/passwd that never ends or never answers (a link to /dev/zero, a FIFO) holds up nothing: HOME is /" {
  # Without HOME in its environment, init looks the user's up in the
  # image's /etc/passwd before the exec, while its spawner waits for it.
  runfctl fn deploy bystander - <"$FN_IMAGE"
  for kind in zero fifo; do
    mkdir -p "$TEST_DIR/pw-$kind/etc"
    cp "$HELPERS/fn_handler" "$TEST_DIR/pw-$kind/handler"
    case $kind in
      zero) ln -s /dev/zero "$TEST_DIR/pw-$kind/etc/passwd" ;;
      fifo) mkfifo "$TEST_DIR/pw-$kind/etc/passwd" ;;
    esac
    python3 "$TOP/tests/integration/image/mkimage.py" oci "$TEST_DIR/layout-pw-$kind" --tag v1 \
      --layer "$TEST_DIR/pw-$kind" --config '{"Cmd": ["/handler"], "Env": ["PATH=/"]}' >/dev/null
    tar -C "$TEST_DIR/layout-pw-$kind" -cf "$TEST_DIR/pw-$kind.tar" .
    runfctl fn deploy "pw-$kind" "$TEST_DIR/pw-$kind.tar"
    for _ in 1 2 3; do
      run curl -sS -m 10 "$(fn_url "pw-$kind")/env"
      [[ "$output" == *"HOME=/"$'\n'* ]] || { echo "pw-$kind: $output"; false; }
    done
    runfctl fn rm "pw-$kind" >/dev/null
  done
  run curl -sS -m 10 "$(fn_url bystander)/"
  [ "$output" = "hello bystander" ]
}

@test "9: exec failures, timeouts and creation failures are in fn logs, with a timestamp and the instance" {
  make_image badexec
  tar -C "$TEST_DIR/layout-badexec" -cf "$TEST_DIR/badexec.tar" .
  runfctl fn deploy badexec --cmd /dynamic "$TEST_DIR/badexec.tar"
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url badexec)/"
  [ "$output" = 502 ]
  # The client is told why, in whichever order runfd sees the instance's
  # exit and the message of its failed exec.
  for _ in $(seq 20); do
    run curl -sS "$(fn_url badexec)/"
    [ "$output" = "the function could not be started" ] || { echo "answer: $output"; return 1; }
  done
  runfctl fn deploy late --timeout 1s - <"$FN_IMAGE"
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url late)/sleep/5"
  [ "$output" = 504 ]
  runfctl fn deploy broken --mode control-socket - <"$FN_IMAGE"
  # Its control socket gone, an instance cannot be made.
  rm "$FAAS_DIR"/st/run/sock/broken.*/control.sock
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url broken)/"
  [ "$output" = 502 ]
  stamp='^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z runfd: '
  wait_for sh -c "\"$RUNFCTL_BIN\" fn logs badexec | grep -q 'could not be started'"
  run runfctl fn logs badexec
  echo "$output"
  # In the words of the init's last step before the exec, which runs in
  # its spawner's memory and reports without the C library's error text.
  echo "$output" | grep -Eq "${stamp}instance badexec-[0-9]+: its command could not be started: exec /dynamic: no such file or directory"
  run runfctl fn logs late
  echo "$output" | grep -Eq "${stamp}instance late-[0-9]+: killed: still running after 1s \(its timeout\)"
  run runfctl fn logs broken
  echo "$output"
  echo "$output" | grep -Eq "${stamp}an instance could not be created: .*control.sock"
  if is_root; then
    runfctl fn deploy hog --memory 16m - <"$FN_IMAGE"
    run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url hog)/alloc/64"
    [ "$output" = 502 ]
    wait_for sh -c "\"$RUNFCTL_BIN\" fn logs hog | grep -q 'out of memory'"
    run runfctl fn logs hog
    echo "$output" | grep -Eq "${stamp}instance hog-[0-9]+: killed: out of memory \(its limit is 16 MiB\)"
    run curl -sS --unix-socket "$SOCK" http://localhost/metrics
    echo "$output" | grep -qx 'runfd_oom_kills_total{function="hog"} 1'
    echo "$output" | grep -qx 'runfd_requests_total{function="hog",code="502"} 1' 
  fi
}

@test "9: limits that cannot be applied are refused, never silently dropped" {
  requires_rootless
  run runfctl fn deploy nomem --memory 64m - <"$FN_IMAGE"
  echo "$output"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"limits.memory: cannot be applied"* ]]
  run runfctl fn deploy nocpu --cpus 0.5 - <"$FN_IMAGE"
  [ "$status" -ne 0 ] && [[ "$output" == *"limits.cpu: cannot be applied"* ]]
  # The pids limit holds without a cgroup (as RLIMIT_NPROC): accepted.
  runfctl fn deploy fewpids --pids 8 - <"$FN_IMAGE"
  run curl -sS "$(fn_url fewpids)/fork/50"
  [[ "$output" =~ ^forked\ ([0-9]+)\ of\ 50$ ]]
  [ "${BASH_REMATCH[1]}" -lt 8 ]
}

@test "10: runfctl image prune keeps every image a function uses, and only while it does" {
  make_image pinned
  tar -C "$TEST_DIR/layout-pinned" -cf "$TEST_DIR/pinned.tar" .
  run curl -sS --fail --unix-socket "$SOCK" -X POST --data-binary @"$TEST_DIR/pinned.tar" \
    "http://localhost/system/images?name=localhost/pinned:1"
  digest=$(echo "$output" | jq -r '.images[0].digest')
  [[ "$digest" == sha256:* ]]
  runfctl fn deploy pinned "$digest"
  # No name points at it any more: the function's pin keeps it.
  "$RUNFCTL_BIN" image rm --store "$FAAS_DIR/store" localhost/pinned:1
  "$RUNFCTL_BIN" image prune --store "$FAAS_DIR/store"
  [ -d "$FAAS_DIR/store/rootfs/${digest#sha256:}" ]
  run curl -sS "$(fn_url pinned)/"
  [ "$output" = "hello pinned" ]
  # Removed, the function lets go of it.
  runfctl fn rm pinned
  wait_for sh -c "! ls '$FAAS_DIR/store/pins' | grep -q -- '-pinned-'"
  "$RUNFCTL_BIN" image prune --store "$FAAS_DIR/store"
  [ ! -e "$FAAS_DIR/store/rootfs/${digest#sha256:}" ]
}

@test "11: /function/NAME without a slash, an unnamed OCI upload's name, and two error lines" {
  runfctl fn deploy bare - <"$FN_IMAGE"
  run curl -sS "http://$GATEWAY/function/bare"
  [ "$output" = "hello bare" ]
  run curl -sS "http://$GATEWAY/function/bare?x=1"
  [ "$output" = "hello bare" ]
  run curl -sS -o /dev/null -w '%{http_code}' "http://$GATEWAY/function/barex"
  [ "$output" = 404 ]
  # An OCI layout with a tag and no name is named after the upload, not
  # after runfd's scratch file.
  make_image unnamed v7
  tar -C "$TEST_DIR/layout-unnamed" -cf "$TEST_DIR/unnamed.tar" .
  run curl -sS --unix-socket "$SOCK" -X POST --data-binary @"$TEST_DIR/unnamed.tar" http://localhost/system/images
  echo "$output"
  [ "$(echo "$output" | jq -r '.images[0].names[0]')" = localhost/upload:v7 ]
  run runfctl fn deploy nofile ./nofile.tar
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  [ "$output" = "runfctl: fn deploy: \`./nofile.tar\`: No such file or directory" ]
  run env RUNFD_API="unix:$TEST_DIR/nothing.sock" "$RUNFCTL_BIN" fn ls
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  [[ "$output" == *"cannot reach runfd at \`unix:$TEST_DIR/nothing.sock\`: No such file or directory"* ]]
  [[ "$output" != *"port 80"* ]]
}

@test "9.4: what can hold a secret is 0600 in 0700 directories; others cannot read a function's environment" {
  runfctl fn deploy secret --env DB_PASSWORD=hunter2 - <"$FN_IMAGE"
  runfctl fn deploy secretctl --mode control-socket --env DB_PASSWORD=hunter2 - <"$FN_IMAGE"
  run curl -sS "$(fn_url secret)/env"
  [[ "$output" == *DB_PASSWORD=hunter2* ]]
  run curl -sS "$(fn_url secretctl)/"
  [ "$output" = "hello secretctl" ]
  config=$(ls "$FAAS_DIR"/st/run/fn/secret.*/config.json)
  grep -q hunter2 "$config"
  [ "$(stat -c %a "$config")" = 600 ]
  [ "$(stat -c %a "$(dirname "$config")")" = 700 ]
  [ "$(stat -c %a "$FAAS_DIR/st/run/fn")" = 700 ]
  [ "$(stat -c %a "$FAAS_DIR/st/functions")" = 700 ]
  [ "$(stat -c %a "$FAAS_DIR/st/functions/secret.json")" = 600 ]
  [ "$(stat -c %a "$FAAS_DIR/st/logs")" = 700 ]
  # No file of runfd's that others could read.
  run find "$FAAS_DIR/st" -type f -perm /044
  [ -z "$output" ]
  if is_root; then
    for f in "$config" "$FAAS_DIR/st/functions/secret.json" "$FAAS_DIR/st/logs/secret.log"; do
      run runuser -u nobody -- cat "$f"
      [ "$status" -ne 0 ]
    done
    # What the instances reach by path (as unprivileged ids) stays reachable.
    [ "$(stat -c %a "$FAAS_DIR"/st/run/sock/secretctl.*/control.sock)" = 666 ]
  fi
}

@test "9.6: a function whose address another process took stays listed, failing with the reason, and serves once it is free" {
  start_own "$RUNFD_BIN"
  own fn deploy taken - <"$FN_IMAGE"
  addr=$(own fn ip taken)
  cp "$TEST_DIR/st/functions/taken.json" "$TEST_DIR/record"
  stop_own
  python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
open(sys.argv[3], "w").close()
time.sleep(int(sys.argv[4]))' "${addr%:*}" "$FN_PORT" "$TEST_DIR/listening" 5 &
  squatter=$!
  wait_for test -e "$TEST_DIR/listening"
  start_own "$RUNFD_BIN"
  run own fn ls
  echo "$output"
  [[ "$output" == *"taken "*failing* ]]
  [[ "$output" == *"taken: failing: its address ${addr%:*}:$FN_PORT is taken by another process"* ]]
  run own fn describe taken
  [ "$(echo "$output" | jq -r .status)" = failing ]
  [[ "$(echo "$output" | jq -r .reason)" == *"is taken by another process"* ]]
  cmp "$TEST_DIR/record" "$TEST_DIR/st/functions/taken.json"
  # Through the gateway it is served meanwhile.
  run curl -sS "http://127.79.$FAAS_NET.1:8080/function/taken/"
  [ "$output" = "hello taken" ]
  wait "$squatter"
  # Retried with backoff (1, 2, 4 s...): it gets its address back.
  for i in $(seq 1 100); do
    [ "$(own fn describe taken | jq -r .status)" = ready ] && break
    sleep 0.1
  done
  run curl -sS "http://$addr/"
  [ "$output" = "hello taken" ]
  [ "$(own fn describe taken | jq -r .status)" = ready ]
  # A function that is not restored says why, and only that.
  [ "$(grep -c 'config.json' "$TEST_DIR/runfd.log" || true)" -eq 0 ]
}

@test "runfd's new options refuse bad values in one line: --max-instances, --request-timeout" {
  for args in "--max-instances 0" "--max-instances lots" "--request-timeout nan" "--request-timeout 1e3" \
    "--request-timeout 2h"; do
    run "$RUNFD_BIN" --state "$TEST_DIR/st" --store "$FAAS_DIR/store" --gateway none \
      --addr-range "127.79.$FAAS_NET.128/25" $args
    echo "$args -> $output"
    [ "$status" -eq 1 ] && [ "${#lines[@]}" -eq 1 ]
    [[ "$output" == *"${args%% *}"* ]]
  done
  # Nothing was made of the state directory.
  [ ! -e "$TEST_DIR/st" ]
}
