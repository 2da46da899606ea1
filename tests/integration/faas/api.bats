#!/usr/bin/env bats
# runfd's admin API as a client sees it: OpenFaaS's provider paths, the
# unix socket and the TCP listener with its token, /metrics, and requests
# that try to break it.

load faas_helpers

setup_file() { faas_setup_file; }
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-api.XXXXXX")
  # As root, a second daemon's store below it must be reachable by the
  # functions' ids.
  chmod 755 "$TEST_DIR"
  SOCK=$FAAS_DIR/st/run/api.sock
  OWN_RUN_DIR=""
}
teardown() {
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  stop_second
  rm -rf "$TEST_DIR"
  [ -z "$OWN_RUN_DIR" ] || rm -rf "$OWN_RUN_DIR"
}

# An API request on the unix socket: the body, then the status on a line
# of its own.
api() {
  curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' "$@"
}

# The status alone.
api_status() {
  curl -sS --unix-socket "$SOCK" -o /dev/null -w '%{http_code}' "$@"
}

# The image, once, under a name of its own.
upload_image() {
  curl -sS --fail --unix-socket "$SOCK" -X POST --data-binary @"$FN_IMAGE" \
    "http://localhost/system/images?name=localhost/api-test:1" >/dev/null
}

# What the daemon keeps, as a list of paths (logs may grow, not appear).
state_paths() {
  (cd "$FAAS_DIR" && find st store -path store/blobs -prune -o -path store/rootfs -prune -o -print | sort)
}

# A second daemon of this test, on paths and addresses of its own.
start_second() {
  "$RUNFD_BIN" --state "$TEST_DIR/st" --store "$TEST_DIR/store" --gateway none \
    --addr-range "127.76.$FAAS_NET.0/24" --request-timeout 2 "$@" >>"$TEST_DIR/runfd.log" 2>&1 &
  echo $! >"$TEST_DIR/runfd.pid"
  disown
}

stop_second() {
  local pid
  pid=$(cat "$TEST_DIR/runfd.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || true
  timeout 40 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$TEST_DIR/runfd.pid"
}

@test "the API socket is the owner's alone (0600); /healthz answers" {
  [ "$(stat -c %a "$SOCK")" = 600 ]
  [ "$(stat -c %u "$SOCK")" = "$(id -u)" ]
  run curl -sS --unix-socket "$SOCK" http://localhost/healthz
  [ "$status" -eq 0 ]
  [ "$output" = OK ]
}

@test "POST /system/functions deploys; GET lists and describes; the function answers" {
  upload_image
  run api -X POST -H 'Content-Type: application/json' \
    -d '{"service":"api1","image":"localhost/api-test:1","envVars":{"GREETING":"hi"},"timeout":"5s","concurrency":2}' \
    http://localhost/system/functions
  [ "${lines[-1]}" = 200 ]
  body=$(echo "$output" | sed '$d')
  [ "$(echo "$body" | jq -r .name)" = api1 ]
  [ "$(echo "$body" | jq -r .mode)" = inetd ]
  [ "$(echo "$body" | jq -r .image)" = localhost/api-test:1 ]
  [[ "$(echo "$body" | jq -r .digest)" == sha256:* ]]
  [[ "$(echo "$body" | jq -r .address)" == "127.77.$FAAS_NET."* ]]
  [ "$(echo "$body" | jq -r .port)" = "$FN_PORT" ]
  [ "$(echo "$body" | jq -r .envVars.GREETING)" = hi ]
  [ "$(echo "$body" | jq -r .timeoutSeconds)" = 5 ]
  [ "$(echo "$body" | jq -r .concurrency)" = 2 ]
  run api http://localhost/system/functions
  [ "${lines[-1]}" = 200 ]
  [ "$(echo "$output" | sed '$d' | jq -r '.[] | select(.name == "api1") | .mode')" = inetd ]
  run api http://localhost/system/function/api1
  [ "${lines[-1]}" = 200 ]
  [ "$(echo "$output" | sed '$d' | jq -r .name)" = api1 ]
  run curl -sS "$(fn_url api1)/env"
  [[ "$output" == *GREETING=hi* ]]
  run api http://localhost/system/function/nosuchfn
  [ "${lines[-1]}" = 404 ]
  [ "$(echo "$output" | sed '$d' | jq -r .error)" = "no such function" ]
}

@test "POST of a name that exists is 409; PUT replaces it at the same address; PUT of an unknown name is 404" {
  upload_image
  run api_status -X POST -d '{"service":"api2","image":"localhost/api-test:1"}' http://localhost/system/functions
  [ "$output" = 200 ]
  addr=$(runfctl fn ip api2)
  run api -X POST -d '{"service":"api2","image":"localhost/api-test:1"}' http://localhost/system/functions
  [ "${lines[-1]}" = 409 ]
  [[ "$output" == *"already exists"* ]]
  run api_status -X PUT -d '{"service":"api2","image":"localhost/api-test:1","envVars":{"V":"2"}}' \
    http://localhost/system/functions
  [ "$output" = 200 ]
  [ "$(runfctl fn ip api2)" = "$addr" ]
  run curl -sS "http://$addr/env"
  [[ "$output" == *V=2* ]]
  run api_status -X PUT -d '{"service":"api2x","image":"localhost/api-test:1"}' http://localhost/system/functions
  [ "$output" = 404 ]
  run runfctl fn describe api2x
  [ "$status" -ne 0 ]
}

@test "DELETE /system/functions removes the function, its address and its record" {
  upload_image
  api_status -X POST -d '{"service":"api3","image":"localhost/api-test:1"}' http://localhost/system/functions
  addr=$(runfctl fn ip api3)
  [ -f "$FAAS_DIR/st/functions/api3.json" ]
  run api -X DELETE -d '{"functionName":"api3"}' http://localhost/system/functions
  [ "${lines[-1]}" = 200 ]
  [ "$(echo "$output" | sed '$d' | jq -r .removed)" = api3 ]
  run api_status http://localhost/system/function/api3
  [ "$output" = 404 ]
  [ ! -e "$FAAS_DIR/st/functions/api3.json" ]
  run curl -sS --max-time 5 "http://$addr/"
  [ "$status" -ne 0 ]
  run api_status -X DELETE -d '{"functionName":"api3"}' http://localhost/system/functions
  [ "$output" = 404 ]
  run api -X DELETE -d '{}' http://localhost/system/functions
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *functionName* ]]
}

@test "POST /system/scale-function keeps N instances ready, and a restart keeps the number" {
  upload_image
  api_status -X POST -d '{"service":"api4","image":"localhost/api-test:1"}' http://localhost/system/functions
  [ "$(runfctl fn describe api4 | jq .ready)" -eq 0 ]
  run api -X POST -d '{"replicas":3}' http://localhost/system/scale-function/api4
  [ "${lines[-1]}" = 200 ]
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe api4 | jq .ready)\" -eq 3 ]"
  [ "$(runfctl fn describe api4 | jq .replicas)" -eq 3 ]
  [ "$(jq .deploy.min "$FAAS_DIR/st/functions/api4.json")" -eq 3 ]
  stop_runfd
  start_runfd
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe api4 | jq .ready)\" -eq 3 ]"
  run api_status -X POST -d '{"replicas":-1}' http://localhost/system/scale-function/api4
  [ "$output" = 400 ]
  run api_status -X POST -d '{"replicas":"two"}' http://localhost/system/scale-function/api4
  [ "$output" = 400 ]
  run api_status -X POST -d '{"replicas":1}' http://localhost/system/scale-function/nosuchfn
  [ "$output" = 404 ]
  run runfctl fn scale api4 0
  [ "$status" -eq 0 ]
  [ "$(jq .deploy.min "$FAAS_DIR/st/functions/api4.json")" -eq 0 ]
}

@test "/function/NAME/... on the API socket reaches the function, as through the gateway" {
  upload_image
  api_status -X POST -d '{"service":"api5","image":"localhost/api-test:1"}' http://localhost/system/functions
  run curl -sS --unix-socket "$SOCK" http://localhost/function/api5/env
  [ "$status" -eq 0 ]
  [[ "$output" == *RUNF_FUNCTION=api5* ]]
  [[ "$output" == *RUNF_PATH_PREFIX=/function/api5* ]]
  run curl -sS --unix-socket "$SOCK" -d abc http://localhost/function/api5/echo
  [ "$output" = abc ]
  run api_status http://localhost/function/nosuchfn/
  [ "$output" = 404 ]
}

@test "/metrics has every metric, with its type, for each function" {
  upload_image
  api_status -X POST -d '{"service":"api6","image":"localhost/api-test:1"}' http://localhost/system/functions
  curl -sS -o /dev/null "$(fn_url api6)/"
  # The start is counted at the handler's exec, the request at its exit.
  wait_for sh -c "curl -sS --unix-socket '$SOCK' http://localhost/metrics |
    grep -q '^runfd_request_seconds_count{function=\"api6\"} 1\$'"
  run curl -sS -D "$TEST_DIR/head" --unix-socket "$SOCK" http://localhost/metrics
  [ "$status" -eq 0 ]
  grep -qi '^content-type: text/plain; version=0.0.4' "$TEST_DIR/head"
  m=$output
  for t in runfd_requests_total:counter runfd_cold_starts_total:counter runfd_start_seconds:histogram \
    runfd_dispatch_seconds:histogram runfd_request_seconds:histogram runfd_create_seconds:histogram \
    runfd_create_failures_total:counter runfd_pool_ready:gauge runfd_instances_creating:gauge \
    runfd_instances_running:gauge runfd_queue_depth:gauge; do
    echo "$m" | grep -qx "# TYPE ${t%%:*} ${t#*:}" || { echo "no TYPE for $t"; return 1; }
    echo "$m" | grep -q "^# HELP ${t%%:*} " || { echo "no HELP for $t"; return 1; }
  done
  for code in 200 400 404 408 429 502 503 504; do
    echo "$m" | grep -q "^runfd_requests_total{function=\"api6\",code=\"$code\"} " ||
      { echo "no code $code"; return 1; }
  done
  echo "$m" | grep -qx 'runfd_requests_total{function="api6",code="200"} 1'
  echo "$m" | grep -q '^runfd_cold_starts_total{function="api6"} [0-9]'
  for h in runfd_start_seconds runfd_dispatch_seconds runfd_request_seconds; do
    echo "$m" | grep -qx "${h}_bucket{function=\"api6\",le=\"+Inf\"} 1"
    echo "$m" | grep -q "^${h}_bucket{function=\"api6\",le=\"0.0005\"} [01]\$"
    echo "$m" | grep -q "^${h}_sum{function=\"api6\"} [0-9.e-]*\$"
    echo "$m" | grep -qx "${h}_count{function=\"api6\"} 1"
  done
  echo "$m" | grep -q '^runfd_create_seconds_count{function="api6"} [1-9]'
  echo "$m" | grep -qx 'runfd_create_failures_total{function="api6"} 0'
  for g in runfd_pool_ready runfd_instances_creating runfd_instances_running runfd_queue_depth; do
    echo "$m" | grep -q "^$g{function=\"api6\"} [0-9]*\$" || { echo "no $g"; return 1; }
  done
}

@test "/metrics counts a silent client as 408, not 502; invocationCount counts each request once" {
  upload_image
  api_status -X POST -d '{"service":"api7","image":"localhost/api-test:1"}' http://localhost/system/functions
  ip=$(runfctl fn ip api7)
  host=${ip%:*}
  curl -sS -o /dev/null "http://$ip/"
  curl -sS -o /dev/null "http://$ip/crash"
  # Silent until runfd gives up (--request-timeout 2 here).
  run timeout 10 bash -c "exec 3<>/dev/tcp/$host/$FN_PORT; cat <&3"
  [[ "$output" == *408* ]]
  run curl -sS --unix-socket "$SOCK" http://localhost/metrics
  echo "$output" | grep -qx 'runfd_requests_total{function="api7",code="408"} 1'
  echo "$output" | grep -qx 'runfd_requests_total{function="api7",code="502"} 1'
  echo "$output" | grep -qx 'runfd_requests_total{function="api7",code="200"} 2'
  [ "$(runfctl fn describe api7 | jq .invocationCount)" -eq 3 ]
}

@test "an update keeps the counters, and /metrics has one series per function while the old version finishes" {
  upload_image
  api_status -X POST -d '{"service":"api14","image":"localhost/api-test:1"}' http://localhost/system/functions
  url=$(fn_url api14)
  curl -sS -o /dev/null "$url/"
  wait_for sh -c "curl -sS --unix-socket '$SOCK' http://localhost/metrics |
    grep -q '^runfd_request_seconds_count{function=\"api14\"} 1\$'"
  curl -sS -o /dev/null -w '%{http_code}' "$url/sleep/2" >"$TEST_DIR/code" &
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe api14 | jq .running)\" -eq 1 ]"
  run api_status -X PUT -d '{"service":"api14","image":"localhost/api-test:1","envVars":{"V":"2"}}' \
    http://localhost/system/functions
  [ "$output" = 200 ]
  run curl -sS --unix-socket "$SOCK" http://localhost/metrics
  for m in runfd_pool_ready runfd_instances_creating runfd_instances_running runfd_queue_depth \
    runfd_cold_starts_total runfd_create_failures_total runfd_start_seconds_count runfd_dispatch_seconds_count \
    runfd_request_seconds_count runfd_create_seconds_count; do
    [ "$(echo "$output" | grep -c "^$m{function=\"api14\"}")" -eq 1 ] || { echo "$m"; return 1; }
  done
  [ "$(echo "$output" | grep -c '^runfd_requests_total{function="api14",code="200"}')" -eq 1 ]
  echo "$output" | grep -qx 'runfd_requests_total{function="api14",code="200"} 2'
  echo "$output" | grep -qx 'runfd_dispatch_seconds_count{function="api14"} 2'
  echo "$output" | grep -qx 'runfd_request_seconds_count{function="api14"} 1'
  [ "$(runfctl fn describe api14 | jq .invocationCount)" -eq 2 ]
  wait
  [ "$(cat "$TEST_DIR/code")" = 200 ]
}

@test "hostile: malformed JSON bodies get 400 and change nothing" {
  upload_image
  api_status -X POST -d '{"service":"api8","image":"localhost/api-test:1"}' http://localhost/system/functions
  before=$(state_paths)
  list=$(curl -sS --unix-socket "$SOCK" http://localhost/system/functions | jq -S 'map(del(.ready, .replicas, .availableReplicas))')
  for req in "POST|/system/functions|{\"service\": " "PUT|/system/functions|nope" "POST|/system/functions|[1]" \
    "POST|/system/functions|" "POST|/system/functions|{\"service\":\"api9\",\"image\":7}" \
    "POST|/system/functions|{\"service\":\"api9\",\"image\":\"localhost/api-test:1\",\"envVars\":[]}" \
    "POST|/system/functions|{\"service\":\"api9\",\"image\":\"localhost/api-test:1\",\"timeout\":\"soon\"}" \
    "DELETE|/system/functions|{" "POST|/system/scale-function/api8|{\"replicas\":"; do
    IFS='|' read -r method path body <<<"$req"
    run api -X "$method" -d "$body" "http://localhost$path"
    echo "$method $path $body -> $output"
    [ "${lines[-1]}" = 400 ]
    echo "$output" | sed '$d' | jq -e '.error | length > 0'
  done
  [ "$(state_paths)" = "$before" ]
  [ "$(curl -sS --unix-socket "$SOCK" http://localhost/system/functions |
    jq -S 'map(del(.ready, .replicas, .availableReplicas))')" = "$list" ]
}

@test "hostile: bodies over 1 MiB and oversized heads are refused" {
  head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' a >"$TEST_DIR/big"
  run api_status -X POST --data-binary @"$TEST_DIR/big" http://localhost/system/functions
  [ "$output" = 413 ]
  run api_status -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$TEST_DIR/big" \
    http://localhost/system/functions
  [ "$output" = 413 ]
  long=$(head -c 10000 /dev/zero | tr '\0' a)
  run api_status "http://localhost/system/function/$long"
  [ "$output" = 414 ]
  run api_status -H "X-Long: $long$long" http://localhost/system/functions
  [ "$output" = 431 ]
  # The daemon carries on.
  run api_status http://localhost/healthz
  [ "$output" = 200 ]
}

@test "a JSON body larger than the first read buffer is read whole" {
  upload_image
  jq -n --arg img localhost/api-test:1 \
    '{service: "api10", image: $img, envVars: ([range(2000)] | map({key: "K\(.)", value: ("v" * 120)}) | from_entries)}' \
    >"$TEST_DIR/deploy.json"
  [ "$(stat -c %s "$TEST_DIR/deploy.json")" -gt $((200 * 1024)) ]
  run api -X POST -H 'Content-Type: application/json' --data-binary @"$TEST_DIR/deploy.json" \
    http://localhost/system/functions
  [ "${lines[-1]}" = 200 ]
  [ "$(runfctl fn describe api10 | jq '.envVars | length')" -eq 2000 ]
}

@test "hostile: unknown paths are 404, wrong methods 405, and nothing changes" {
  upload_image
  api_status -X POST -d '{"service":"api11","image":"localhost/api-test:1"}' http://localhost/system/functions
  for p in /nothing /system /system/functionsx /metrics/x /function; do
    run api "http://localhost$p"
    echo "$p -> $output"
    [ "${lines[-1]}" = 404 ]
  done
  run api -X DELETE http://localhost/system/function/api11
  [ "${lines[-1]}" = 405 ]
  [[ "$output" == *"use GET"* ]]
  run api_status http://localhost/system/function/api11
  [ "$output" = 200 ]
  run api_status http://localhost/system/scale-function/api11
  [ "$output" = 405 ]
  run api_status -X PATCH http://localhost/system/functions
  [ "$output" = 405 ]
  run api_status -X POST http://localhost/metrics
  [ "$output" = 405 ]
  run api_status http://localhost/system/images
  [ "$output" = 405 ]
  run api_status -X POST "http://localhost/system/logs?name=api11"
  [ "$output" = 405 ]
}

@test "hostile: names with ../ are refused and reach no file" {
  upload_image
  api_status -X POST -d '{"service":"api12","image":"localhost/api-test:1"}' http://localhost/system/functions
  before=$(state_paths)
  for name in ../x ../../etc/x x/../y .. ./x; do
    run api -X POST -d "{\"service\":\"$name\",\"image\":\"localhost/api-test:1\"}" http://localhost/system/functions
    [ "${lines[-1]}" = 400 ]
    [[ "$output" == *service* ]]
  done
  run api_status -X POST -d '{"service":"api13","image":"../../etc"}' http://localhost/system/functions
  [ "$output" = 400 ]
  run api_status --path-as-is http://localhost/system/function/../functions/api12
  [ "$output" = 404 ]
  run api_status http://localhost/system/function/..%2Ffunctions%2Fapi12
  [ "$output" = 404 ]
  run api_status -X DELETE -d '{"functionName":"../api12"}' http://localhost/system/functions
  [ "$output" = 404 ]
  run api_status --path-as-is -X POST -d '{"replicas":1}' http://localhost/system/scale-function/../api12
  [ "$output" = 404 ]
  run api "http://localhost/system/logs?name=../functions/api12"
  [ "${lines[-1]}" = 404 ]
  [[ "$output" != *deploy* ]]
  for ref in ../../evil localhost/evil/../x:1 'localhost/Evil:1'; do
    run api -X POST --data-binary @"$FN_IMAGE" "http://localhost/system/images?name=$ref"
    [ "${lines[-1]}" = 400 ]
    [[ "$output" == *reference* ]]
  done
  [ "$(state_paths)" = "$before" ]
  [ "$(cat "$FAAS_DIR/store/refs.json" 2>/dev/null | grep -ci evil)" -eq 0 ]
  [ -z "$(find "$FAAS_DIR" -name '*evil*')" ]
  run api_status http://localhost/system/function/api12
  [ "$output" = 200 ]
}

@test "hostile: a broken upload is refused and leaves no file behind" {
  head -c 100000 /dev/urandom >"$TEST_DIR/junk"
  run api -X POST --data-binary @"$TEST_DIR/junk" "http://localhost/system/images?name=localhost/junk:1"
  [ "${lines[-1]}" = 400 ]
  # The error names the upload as the client knows it, not runfd's file.
  [[ "$output" == *"uploaded image"* ]]
  [[ "$output" != *upload-* ]]
  head -c 1000 "$FN_IMAGE" >"$TEST_DIR/cut.tar"
  run api -X POST --data-binary @"$TEST_DIR/cut.tar" "http://localhost/system/images?name=localhost/cut:1"
  [ "${lines[-1]}" = 400 ]
  [ -z "$(ls "$FAAS_DIR/st/run" | grep upload- || true)" ]
  [ -z "$(ls -A "$FAAS_DIR/store/tmp")" ]
  [ "$(cat "$FAAS_DIR/store/refs.json" 2>/dev/null | grep -c -e junk -e cut)" -eq 0 ]
}

@test "hostile: a client that stops in the head or in the body is cut off with 408" {
  cat >"$TEST_DIR/stall.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().replace(b"|", b"\r\n"))
s.settimeout(10)
start = time.time()
try:
    answer = s.recv(4096).split(b"\r\n")[0].decode()
except socket.timeout:
    answer = "nothing"
print(answer, int(time.time() - start))
EOF
  # The request line, then nothing.
  run python3 "$TEST_DIR/stall.py" "$SOCK" 'GET /system/functions HTTP/1.1|'
  echo "$output"
  [[ "$output" == "HTTP/1.1 408 "* ]]
  [ "${output##* }" -lt 6 ]
  # A whole head, then part of the body.
  run python3 "$TEST_DIR/stall.py" "$SOCK" 'POST /system/functions HTTP/1.1|Host: x|Content-Length: 100||{"serv'
  echo "$output"
  [[ "$output" == "HTTP/1.1 408 "* ]]
  [ "${output##* }" -lt 6 ]
  run api_status http://localhost/healthz
  [ "$output" = 200 ]
}

@test "an upload that asks for 100-continue gets it at once" {
  run curl -sS -v --unix-socket "$SOCK" -X POST -T "$FN_IMAGE" -H 'Expect: 100-continue' \
    "http://localhost/system/images?name=localhost/api-test:1"
  [ "$status" -eq 0 ]
  [[ "$output" == *"< HTTP/1.1 100 Continue"* ]]
  [[ "$output" == *"< HTTP/1.1 200 OK"* ]]
}

@test "--api tcp: every request needs the bearer token of api.token; runfctl --token-file uses it" {
  api_addr=127.78.$FAAS_NET.2:8081
  url=http://$api_addr
  start_second --api "tcp:$api_addr"
  wait_for test -s "$TEST_DIR/st/api.token" || { cat "$TEST_DIR/runfd.log"; return 1; }
  wait_for curl -sS "$url/healthz"
  [ ! -e "$TEST_DIR/st/run/api.sock" ]
  token=$(cat "$TEST_DIR/st/api.token")
  [[ "$token" =~ ^[0-9a-f]{64}$ ]]
  [ "$(stat -c %a "$TEST_DIR/st/api.token")" = 600 ]
  run curl -sS -o /dev/null -w '%{http_code}' "$url/system/functions"
  [ "$output" = 401 ]
  # A 401 names the scheme (RFC 7235).
  curl -sS -D - -o /dev/null "$url/system/functions" | grep -qi '^WWW-Authenticate: Bearer'
  # The last digit changed.
  if [ "${token: -1}" = 0 ]; then wrong=${token%?}1; else wrong=${token%?}0; fi
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $wrong" "$url/system/functions"
  [ "$output" = 401 ]
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token$token" "$url/system/functions"
  [ "$output" = 401 ]
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Basic $token" "$url/system/functions"
  [ "$output" = 401 ]
  # Refused before the body is read, a client still gets the whole answer,
  # not a reset.
  head -c $((8 * 1024 * 1024)) /dev/zero >"$TEST_DIR/big"
  for i in 1 2 3 4 5; do
    run curl -sS -o /dev/null -w '%{http_code}' -X POST --data-binary @"$TEST_DIR/big" "$url/system/images"
    echo "$output"
    [ "$output" = 401 ]
    run curl -sS -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
      --data-binary @"$TEST_DIR/big" "$url/system/functions"
    echo "$output"
    [ "$output" = 413 ]
  done
  run curl -sS -w ' %{http_code}' -H "Authorization: Bearer $token" "$url/system/functions"
  [ "$output" = "[] 200" ]
  # The scheme's name is not case-sensitive (RFC 7235).
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: bearer $token" "$url/system/functions"
  [ "$output" = 200 ]
  run runfctl fn ls --api "tcp:$api_addr"
  [ "$status" -ne 0 ]
  [[ "$output" == *"bearer token"* ]]
  run runfctl fn deploy tcp1 --api "tcp:$api_addr" --token-file "$TEST_DIR/st/api.token" - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  [[ "$output" == "tcp1: http://127.76.$FAAS_NET."* ]]
  run runfctl fn invoke tcp1 --api "tcp:$api_addr" --token-file "$TEST_DIR/st/api.token"
  [ "$output" = "hello tcp1" ]
  # A function is public on its own address, so /function/ needs no token.
  run curl -sS "$url/function/tcp1/"
  [ "$output" = "hello tcp1" ]
  # The token stays the same across restarts.
  stop_second
  start_second --api "tcp:$api_addr"
  wait_for curl -sS "$url/healthz"
  [ "$(cat "$TEST_DIR/st/api.token")" = "$token" ]
  run runfctl fn ls --api "tcp:$api_addr" --token-file "$TEST_DIR/st/api.token"
  [ "$status" -eq 0 ]
  [[ "$output" == *tcp1* ]]
}

@test "--api refuses an address outside 127.0.0.0/8, and a path that is not a socket" {
  run timeout 10 "$RUNFD_BIN" --state "$TEST_DIR/st" --store "$TEST_DIR/store" --gateway none \
    --addr-range "127.76.$FAAS_NET.0/24" --api tcp:192.0.2.1:8081
  [ "$status" -eq 1 ]
  [[ "$output" == *"only a loopback address"* ]]
  [ ! -e "$TEST_DIR/st/api.token" ]
  echo precious >"$TEST_DIR/file"
  run timeout 10 "$RUNFD_BIN" --state "$TEST_DIR/st" --store "$TEST_DIR/store" --gateway none \
    --addr-range "127.76.$FAAS_NET.0/24" --api "unix:$TEST_DIR/file"
  [ "$status" -eq 1 ]
  [[ "$output" == *"not a socket"* ]]
  [ "$(cat "$TEST_DIR/file")" = precious ]
}

@test "an address of the range that another process listens on is passed over" {
  # As another user's runfd would, with the same default range.  The
  # address may still be held for a moment by what the previous test's
  # runfd left exiting; taken over once free, so that it stays taken.
  # SO_REUSEADDR as runfd's own: the previous tests' connections to it
  # stay in TIME_WAIT for a minute, and without it bind() counts those.
  python3 -c 'import errno, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
for _ in range(200):
    try:
        s.bind((sys.argv[1], int(sys.argv[2])))
        break
    except OSError as e:
        if e.errno != errno.EADDRINUSE:
            raise
        time.sleep(0.05)
s.listen()
open(sys.argv[3], "w").close()
time.sleep(120)' "127.76.$FAAS_NET.1" "$FN_PORT" "$TEST_DIR/listening" &
  # As long as the listener tries (10 s), twice wait_for's 5.
  wait_for test -e "$TEST_DIR/listening" || wait_for test -e "$TEST_DIR/listening"
  start_second
  wait_for test -S "$TEST_DIR/st/run/api.sock" || { cat "$TEST_DIR/runfd.log"; return 1; }
  run env RUNFD_API="unix:$TEST_DIR/st/run/api.sock" "$RUNFCTL_BIN" fn deploy elsewhere - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  # Saying what else listens in the range, should another address come.
  [[ "$output" == "elsewhere: http://127.76.$FAAS_NET.2"[:/]* ]] ||
    { echo "$output"; ss -ltnp | grep "127.76.$FAAS_NET." || true; cat "$TEST_DIR/runfd.log"; false; }
  run curl -sS "http://127.76.$FAAS_NET.2:$FN_PORT/"
  [ "$output" = "hello elsewhere" ]
}

@test "rootless, the API socket is \$XDG_RUNTIME_DIR/runfd/api.sock (else /tmp/runfd-UID) and runfctl finds it" {
  requires_rootless
  mkdir -m 700 "$TEST_DIR/xdg"
  XDG_RUNTIME_DIR=$TEST_DIR/xdg XDG_DATA_HOME=$TEST_DIR/data "$RUNFD_BIN" --store "$TEST_DIR/store" \
    --gateway none --addr-range "127.76.$FAAS_NET.0/24" >>"$TEST_DIR/runfd.log" 2>&1 &
  echo $! >"$TEST_DIR/runfd.pid"
  disown
  wait_for test -S "$TEST_DIR/xdg/runfd/api.sock" || { cat "$TEST_DIR/runfd.log"; return 1; }
  [ -d "$TEST_DIR/data/runfd/functions" ]
  run env -u RUNFD_API XDG_RUNTIME_DIR="$TEST_DIR/xdg" "$RUNFCTL_BIN" fn ls
  [ "$status" -eq 0 ]
  [[ "$output" == NAME* ]]
  stop_second
  # Without XDG_RUNTIME_DIR: /tmp/runfd-UID, which only this test may use.
  # A daemon answering there is another run's; without one, the directory
  # is what a run killed in this test left.
  run_dir=/tmp/runfd-$(id -u)
  if [ -e "$run_dir" ]; then
    curl -sS -m 5 --unix-socket "$run_dir/api.sock" http://localhost/healthz 2>/dev/null &&
      skip "$run_dir is in use by a running runfd"
    rm -rf "$run_dir"
  fi
  OWN_RUN_DIR=$run_dir
  env -u XDG_RUNTIME_DIR XDG_DATA_HOME="$TEST_DIR/data" "$RUNFD_BIN" --store "$TEST_DIR/store" \
    --gateway none --addr-range "127.76.$FAAS_NET.0/24" >>"$TEST_DIR/runfd.log" 2>&1 &
  echo $! >"$TEST_DIR/runfd.pid"
  disown
  wait_for test -S "$run_dir/api.sock" || { cat "$TEST_DIR/runfd.log"; rm -rf "$run_dir"; return 1; }
  run env -u RUNFD_API -u XDG_RUNTIME_DIR "$RUNFCTL_BIN" fn ls
  stop_second
  rm -rf "$run_dir"
  [ "$status" -eq 0 ]
  [[ "$output" == NAME* ]]
}

@test "under unshare -r, runfd and runfctl both take the rootless paths" {
  requires_root
  mkdir -m 700 "$TEST_DIR/xdg"
  # runfd in a user namespace of its own, as root there: rootless.
  XDG_RUNTIME_DIR=$TEST_DIR/xdg XDG_DATA_HOME=$TEST_DIR/data unshare -r "$RUNFD_BIN" --store "$TEST_DIR/store" \
    --gateway none --addr-range "127.76.$FAAS_NET.0/24" >>"$TEST_DIR/runfd.log" 2>&1 &
  echo $! >"$TEST_DIR/runfd.pid"
  disown
  wait_for test -S "$TEST_DIR/xdg/runfd/api.sock" || { cat "$TEST_DIR/runfd.log"; return 1; }
  run env -u RUNFD_API XDG_RUNTIME_DIR="$TEST_DIR/xdg" unshare -r "$RUNFCTL_BIN" fn ls
  stop_second
  [ "$status" -eq 0 ]
  [[ "$output" == NAME* ]]
}
