#!/usr/bin/env bats
# Pre-started instances (control-socket and http) and the reuse policy
# (requestsPerInstance): the handler is up before its request comes, and
# with 1 no two requests ever share a container.  The test handler's
# /whoami says "<token of its process> <requests it served> <ms since it
# started>".

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

# n requests of path to url, four at a time; their answers in $TEST_DIR/out.
whoami_many() {
  local url=$1 n=$2
  seq "$n" | xargs -P 4 -I{} curl -sS -m 10 "$url/whoami" >"$TEST_DIR/out"
  cat "$TEST_DIR/out"
  [ "$(grep -c . "$TEST_DIR/out")" -eq "$n" ]
}

@test "http: the image's own server on \$PORT, one request per fresh container, started ahead" {
  run runfctl fn deploy web --mode http - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  url=$(fn_url web)
  run curl -sS "$url/"
  [ "$output" = "hello web" ]
  run curl -sS -d ping "$url/echo"
  [ "$output" = ping ]
  # Through the gateway the server sees its own paths (no /function/web).
  run curl -sS -d pong "http://$GATEWAY/function/web/echo"
  [ "$output" = pong ]
  run curl -sS "http://$GATEWAY/function/web?x=1"
  [ "$output" = "hello web" ]
  run curl -sS "$url/env"
  [[ "$output" == *"PORT=8080"* ]]
  [[ "$output" == *"RUNF_MODE=http"* ]]
  # A fresh container each: 24 requests, 24 processes that served one.
  whoami_many "$url" 24
  [ "$(awk '{print $1}' "$TEST_DIR/out" | sort -u | wc -l)" -eq 24 ]
  [ "$(awk '$2 != 1' "$TEST_DIR/out" | wc -l)" -eq 0 ]
  # ... each started before its request: after a pause, the handler that
  # answers has been up for most of it.
  sleep 1.5
  run curl -sS "$url/whoami"
  echo "$output"
  [ "$(echo "$output" | awk '{print $3}')" -ge 1000 ]
  run runfctl fn describe web
  [ "$(echo "$output" | jq -r .mode)" = http ]
  [ "$(echo "$output" | jq .serverPort)" = 8080 ]
  [ "$(echo "$output" | jq .requestsPerInstance)" = 1 ]
  [ "$(echo "$output" | jq .ready)" -ge 1 ]
  run runfctl fn ls
  [[ "$output" == *STARTING* ]]
  run curl -sS --unix-socket "$FAAS_DIR/st/run/api.sock" http://localhost/metrics
  [[ "$output" == *'runfd_pool_starting{function="web"}'* ]]
}

@test "control-socket: pre-started, one request per fresh container" {
  runfctl fn deploy ctl --mode control-socket - <"$FN_IMAGE"
  url=$(fn_url ctl)
  run curl -sS "$url/"
  [ "$output" = "hello ctl" ]
  run curl -sS -d via "http://$GATEWAY/function/ctl/echo"
  [ "$output" = via ]
  whoami_many "$url" 16
  [ "$(awk '{print $1}' "$TEST_DIR/out" | sort -u | wc -l)" -eq 16 ]
  [ "$(awk '$2 != 1' "$TEST_DIR/out" | wc -l)" -eq 0 ]
  sleep 1.5
  run curl -sS "$url/whoami"
  [ "$(echo "$output" | awk '{print $3}')" -ge 1000 ]
}

@test "requestsPerInstance N: an instance serves at most N requests; 0, any number" {
  runfctl fn deploy three --mode http --requests-per-instance 3 - <"$FN_IMAGE"
  whoami_many "$(fn_url three)" 18
  [ "$(awk '$2 > 3' "$TEST_DIR/out" | wc -l)" -eq 0 ]
  [ "$(awk '$2 > 1' "$TEST_DIR/out" | wc -l)" -ge 1 ]
  runfctl fn deploy reuse --mode http --requests-per-instance 0 - <"$FN_IMAGE"
  for i in $(seq 8); do curl -sS "$(fn_url reuse)/whoami"; done >"$TEST_DIR/out"
  [ "$(awk '$2 > 1' "$TEST_DIR/out" | wc -l)" -ge 1 ]
  [ "$(runfctl fn describe reuse | jq .requestsPerInstance)" = 0 ]
  runfctl fn deploy ctl0 --mode control-socket --requests-per-instance 0 - <"$FN_IMAGE"
  for i in $(seq 8); do curl -sS "$(fn_url ctl0)/whoami"; done >"$TEST_DIR/out"
  cat "$TEST_DIR/out"
  [ "$(awk '$2 > 1' "$TEST_DIR/out" | wc -l)" -ge 1 ]
}

@test "a handler that dies during its request: 502, and the next request is served" {
  runfctl fn deploy crashy --mode http - <"$FN_IMAGE"
  url=$(fn_url crashy)
  run curl -sS -o /dev/null -w '%{http_code}' "$url/crash"
  [ "$output" = 502 ]
  run curl -sS "$url/"
  [ "$output" = "hello crashy" ]
  runfctl fn deploy slow --mode http --timeout 1s - <"$FN_IMAGE"
  run curl -sS -o /dev/null -w '%{http_code}' "$(fn_url slow)/sleep/5"
  [ "$output" = 504 ]
}

@test "a server that listens elsewhere, or exits at once: 503, said in fn logs and fn describe, and runfd backs off" {
  runfctl fn deploy elsewhere --mode http --start-timeout 500ms -e FN_LISTEN_PORT=9999 - <"$FN_IMAGE"
  run curl -sS -m 20 -w ' %{http_code}' "$(fn_url elsewhere)/"
  echo "$output"
  [[ "$output" == *" 503" ]]
  run runfctl fn logs elsewhere
  [[ "$output" == *"nothing accepted a connection on port 8080 within 0.5s (its start timeout)"* ]]
  run runfctl fn describe elsewhere
  [[ "$(echo "$output" | jq -r .startProblem)" == *"port 8080"* ]]

  runfctl fn deploy quits --mode http -e FN_EXIT_AT_START=3 - <"$FN_IMAGE"
  url=$(fn_url quits)
  run curl -sS -m 20 -w ' %{http_code}' "$url/"
  [[ "$output" == *" 503" ]]
  run runfctl fn logs quits
  [[ "$output" == *"ended before its request (exit status 3); nothing had accepted a connection on port 8080"* ]]
  # Clients keep coming for 3 seconds: the instances made for them back
  # off (50 ms, doubling) instead of one per request, or a loop.
  for i in $(seq 30); do curl -sS -m 5 -o /dev/null "$url/" & sleep 0.1; done
  wait
  run runfctl fn logs quits
  made=$(echo "$output" | grep -c "ended before its request")
  echo "instances started: $made"
  [ "$made" -le 24 ]
  # runfd itself is fine.
  runfctl fn deploy fine --mode http - <"$FN_IMAGE"
  run curl -sS "$(fn_url fine)/"
  [ "$output" = "hello fine" ]
}

@test "http: deploys it cannot serve are refused by name" {
  run runfctl fn deploy bad1 --mode http --network host - <"$FN_IMAGE"
  [ "$status" -ne 0 ]
  [[ "$output" == *"network host: mode http gives each instance a network namespace of its own"* ]]
  run runfctl fn deploy bad2 --mode http -e PORT=web - <"$FN_IMAGE"
  [ "$status" -ne 0 ]
  [[ "$output" == *"envVars.PORT \`web\`: expected a port from 1 to 65535"* ]]
  run runfctl fn deploy bad3 --mode http --start-timeout 0 - <"$FN_IMAGE"
  [ "$status" -ne 0 ]
  [[ "$output" == *startTimeout* ]]
  run runfctl fn deploy bad4 --requests-per-instance 2 - <"$FN_IMAGE"
  [ "$status" -ne 0 ]
  [[ "$output" == *"requestsPerInstance 2: mode inetd serves each request in a fresh container (1)"* ]]
  run runfctl fn ls
  [[ "$output" != *bad* ]]
}

@test "a port given in the environment is the one runfd connects to" {
  runfctl fn deploy port3000 --mode http -e PORT=3000 - <"$FN_IMAGE"
  run curl -sS "$(fn_url port3000)/env"
  [[ "$output" == *"PORT=3000"* ]]
  [ "$(runfctl fn describe port3000 | jq .serverPort)" = 3000 ]
}

@test "removing a pre-started function ends its waiting instances" {
  runfctl fn deploy gone --mode http --min 3 - <"$FN_IMAGE"
  curl -sS "$(fn_url gone)/" >/dev/null
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe gone | jq .ready)\" -ge 3 ]"
  [ "$(runfctl fn describe gone | jq .ready)" -ge 3 ]
  runfctl fn rm gone
  # Listed until its last instance is reaped.
  wait_for sh -c "! \"$RUNFCTL_BIN\" fn ls | grep -q '^gone '"
}
