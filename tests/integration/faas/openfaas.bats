#!/usr/bin/env bats
# What an OpenFaaS user expects of runfd: the provider API as faas-cli
# speaks it (the requests below are shaped as faas-cli sends them: its
# JSON field names, its query strings, Basic auth), secrets as files no one
# else can read, stack files, asynchronous calls with retries and
# callbacks, and the admin API from a socket systemd made.

load faas_helpers

setup_file() { faas_setup_file; }
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-openfaas.XXXXXX")
  chmod 755 "$TEST_DIR"
  SOCK=$FAAS_DIR/st/run/api.sock
}
teardown() {
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  stop_second
  for name in $(runfctl fn ls 2>/dev/null | awk 'NR > 1 && $1 ~ /^of-/ {print $1}'); do
    runfctl fn rm "$name" >/dev/null 2>&1 || true
  done
  for s in $(runfctl secret ls 2>/dev/null | awk 'NR > 1 && $1 ~ /^of-/ {print $1}'); do
    runfctl secret rm "$s" >/dev/null 2>&1 || true
  done
  rm -rf "$TEST_DIR"
}

# A request on the unix socket: the body, then the status on a line of its
# own.
api() {
  curl -sS --unix-socket "$SOCK" -w '\n%{http_code}' "$@"
}
body() { sed '$d' <<<"$1"; }

upload_image() {
  curl -sS --fail --unix-socket "$SOCK" -X POST --data-binary @"$FN_IMAGE" \
    "http://localhost/system/images?name=localhost/of-test:1" >/dev/null
}

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

@test "faas-cli's deploy, list, describe, scale and delete, byte for byte, and the shapes it decodes" {
  upload_image
  # Rootless without a delegated cgroup, a memory limit is refused (see
  # hostile.bats): there the request has none.
  limits='"limits":{"memory":"64m"},'
  is_root || limits=
  # faas-cli deploy: Go's json.Marshal of FunctionDeployment (omitempty
  # fields left out), Content-Type application/json.
  run api -X POST -H 'Content-Type: application/json' -H 'User-Agent: faas-cli/0.16.0' \
    --data-binary '{"service":"of-cli","image":"localhost/of-test:1","envProcess":"node index.js","envVars":{"GREETING":"hi"},"labels":{"com.openfaas.scale.min":"1"},"annotations":{"topic":"orders"},'"$limits"'"requests":{"cpu":"100m"}}' \
    http://localhost/system/functions
  echo "$output"
  [ "${lines[-1]}" = 200 ]
  run curl -sS "$(fn_url of-cli)/env"
  [[ "$output" == *GREETING=hi* ]]
  [[ "$output" == *"fprocess=node index.js"* ]]
  # faas-cli list and describe decode FunctionStatus: limits and requests
  # are strings, as deployed; labels and annotations come back.
  run api "http://localhost/system/functions?namespace=openfaas-fn"
  [ "${lines[-1]}" = 200 ]
  f=$(body "$output" | jq '.[] | select(.name == "of-cli")')
  if is_root; then [ "$(jq -r .limits.memory <<<"$f")" = 64m ]; fi
  [ "$(jq -r .requests.cpu <<<"$f")" = 100m ]
  [ "$(jq -r '.labels["com.openfaas.scale.min"]' <<<"$f")" = 1 ]
  [ "$(jq -r .annotations.topic <<<"$f")" = orders ]
  [ "$(jq -r .envProcess <<<"$f")" = "node index.js" ]
  [ "$(jq -r .namespace <<<"$f")" = openfaas-fn ]
  [ "$(jq -r .readOnlyRootFilesystem <<<"$f")" = true ]
  [[ "$(jq -r .createdAt <<<"$f")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$ ]]
  [ "$(jq -r '.invocationCount | type' <<<"$f")" = number ]
  [ "$(jq -r '.warnings[0]' <<<"$f")" = "requests: not applied: runfd reserves nothing ahead; limits bound the instances" ]
  run api "http://localhost/system/function/of-cli?namespace=openfaas-fn"
  [ "${lines[-1]}" = 200 ]
  [ "$(body "$output" | jq -r .name)" = of-cli ]
  # Another namespace is none of runfd's.
  run api "http://localhost/system/functions?namespace=other"
  [ "${lines[-1]}" = 404 ]
  [[ "$output" == *"one namespace, openfaas-fn"* ]]
  run api "http://localhost/system/function/of-cli/"
  [ "${lines[-1]}" = 200 ]
  # faas-cli scale: ScaleServiceRequest.
  run api -X POST -H 'Content-Type: application/json' --data-binary '{"serviceName":"of-cli","replicas":2}' \
    http://localhost/system/scale-function/of-cli
  [ "${lines[-1]}" = 200 ]
  wait_for sh -c "[ \"\$(\"$RUNFCTL_BIN\" fn describe of-cli | jq .availableReplicas)\" -eq 2 ]"
  # faas-cli remove: DeleteFunctionRequest.
  run api -X DELETE -H 'Content-Type: application/json' --data-binary '{"functionName":"of-cli"}' \
    "http://localhost/system/functions"
  [ "${lines[-1]}" = 200 ]
  run api http://localhost/system/function/of-cli
  [ "${lines[-1]}" = 404 ]
}

@test "/system/info and /system/namespaces as OpenFaaS's; /function/NAME with and without a slash" {
  upload_image
  run api http://localhost/system/info
  [ "${lines[-1]}" = 200 ]
  [ "$(body "$output" | jq -r .provider.provider)" = runfd ]
  [ "$(body "$output" | jq -r .provider.orchestration)" = runf ]
  [[ "$(body "$output" | jq -r .version.release)" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
  [ "$(body "$output" | jq -r .arch)" = "$(uname -m)" ]
  run api http://localhost/system/namespaces
  [ "$(body "$output" | jq -c .)" = '["openfaas-fn"]' ]
  runfctl fn deploy of-slash - <"$FN_IMAGE"
  run curl -sS --unix-socket "$SOCK" -d x http://localhost/function/of-slash
  [ "$output" = "hello of-slash" ]
  run curl -sS --unix-socket "$SOCK" -d x http://localhost/function/of-slash/
  [ "$output" = "hello of-slash" ]
  run curl -sS "http://$GATEWAY/function/of-slash"
  [ "$output" = "hello of-slash" ]
  # Methods a path does not take are named.
  run api -X PATCH http://localhost/system/secrets
  [ "${lines[-1]}" = 405 ]
  [[ "$output" == *"use GET, POST, PUT or DELETE"* ]]
}

@test "on TCP, faas-cli's Basic auth (any user, the token as password) works as the bearer token does" {
  api_addr=127.78.$FAAS_NET.3:8082
  url=http://$api_addr
  start_second --api "tcp:$api_addr"
  wait_for test -s "$TEST_DIR/st/api.token" || { cat "$TEST_DIR/runfd.log"; return 1; }
  wait_for curl -sS "$url/healthz"
  token=$(cat "$TEST_DIR/st/api.token")
  run curl -sS -o /dev/null -w '%{http_code}' -u "admin:$token" "$url/system/functions"
  [ "$output" = 200 ]
  run curl -sS -o /dev/null -w '%{http_code}' -u "admin:${token}x" "$url/system/functions"
  [ "$output" = 401 ]
  run curl -sS -o /dev/null -w '%{http_code}' -u "admin:" "$url/system/functions"
  [ "$output" = 401 ]
  run curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Basic !!!!" "$url/system/functions"
  [ "$output" = 401 ]
  # A 401 offers Basic, so that a browser asks.
  curl -sS -D - -o /dev/null "$url/system/functions" | grep -qi '^WWW-Authenticate: Basic realm="runfd"'
  # runfctl from the environment alone: RUNFD_URL and RUNFD_TOKEN.
  run env -u RUNFD_API RUNFD_URL="$url" RUNFD_TOKEN="$token" "$RUNFCTL_BIN" secret ls
  [ "$status" -eq 0 ]
  [ "$output" = NAME ]
  run env -u RUNFD_API RUNFD_URL="$url" "$RUNFCTL_BIN" secret ls
  [ "$status" -ne 0 ]
  [[ "$output" == *"bearer token"* ]]
}

@test "secrets: created from a value, a file and stdin; files 0400 of the instance's user, read-only, at both paths" {
  upload_image
  runfctl secret create of-lit --from-literal 'v-literal'
  printf 'v-file\n' >"$TEST_DIR/val"
  runfctl secret create of-file --from-file "$TEST_DIR/val"
  printf 'v-stdin' | runfctl secret create of-stdin
  run runfctl secret ls
  [[ "$output" == *of-file*of-lit*of-stdin* ]]
  run runfctl secret create of-lit --from-literal again
  [ "$status" -ne 0 ] && [[ "$output" == *"already exists"* ]]
  runfctl fn deploy of-sec --secret of-lit --secret of-file --secret of-stdin - <"$FN_IMAGE"
  url=$(fn_url of-sec)
  run curl -sS "$url/read//var/openfaas/secrets/of-lit"
  [ "$output" = v-literal ]
  run curl -sS "$url/read//run/secrets/of-file"
  [ "$output" = v-file ]
  run curl -sS "$url/read//run/secrets/of-stdin"
  [ "$output" = v-stdin ]
  # 0400, owned by the instance's user (the image's: root inside).
  run curl -sS "$url/stat//run/secrets/of-lit"
  [ "$output" = "400 0 0" ]
  run curl -sS "$url/write//run/secrets/of-lit"
  [[ "$output" == error:* ]]
  # An update is what the next request reads.
  runfctl secret update of-lit --from-literal v-new
  run curl -sS "$url/read//run/secrets/of-lit"
  [ "$output" = v-new ]
  # Not in the environment, the config, the record, the log, the answers.
  run curl -sS "$url/env"
  [[ "$output" != *v-new* && "$output" != *v-file* ]]
  ! grep -r -e v-new -e v-file -e v-stdin "$FAAS_DIR/st/run/fn" "$FAAS_DIR/st/functions" "$FAAS_DIR/st/logs" \
    "$FAAS_DIR/runfd.log"
  run runfctl fn describe of-sec
  [[ "$output" != *v-new* ]]
  [ "$(echo "$output" | jq -c .secrets)" = '["of-lit","of-file","of-stdin"]' ]
  run curl -sS --unix-socket "$SOCK" http://localhost/system/secrets
  [[ "$output" != *v-new* ]]
  # Stored 0600 in a 0700 directory.
  [ "$(stat -c %a "$FAAS_DIR/st/secrets")" = 700 ]
  [ "$(stat -c %a "$FAAS_DIR/st/secrets/of-lit")" = 600 ]
  # In use: not removed; a function naming one that does not exist is
  # refused.
  run runfctl secret rm of-lit
  [ "$status" -ne 0 ] && [[ "$output" == *"used by of-sec"* ]]
  run curl -sS -w '\n%{http_code}' --unix-socket "$SOCK" \
    -d '{"service":"of-nosec","image":"localhost/of-test:1","secrets":["of-none"]}' http://localhost/system/functions
  [ "${lines[-1]}" = 400 ]
  [[ "$output" == *"secrets: \`of-none\` does not exist"* ]]
  dir=$(ls -d "$FAAS_DIR"/st/run/secrets/of-sec.*)
  runfctl fn rm of-sec
  wait_for sh -c "! \"$RUNFCTL_BIN\" secret rm of-lit 2>&1 | grep -q 'used by'"
  # The instances' copies go with the function, rootless too.
  wait_for test ! -e "$dir"
  run runfctl secret ls
  [[ "$output" != *of-lit* ]]
}

@test "secrets, as an attacker: another local user finds none on disk, another function cannot reach one" {
  requires_root
  upload_image
  runfctl secret create of-hidden --from-literal 'top-secret-value'
  runfctl fn deploy of-owner --secret of-hidden - <"$FN_IMAGE"
  runfctl fn deploy of-other - <"$FN_IMAGE"
  run curl -sS "$(fn_url of-owner)/read//run/secrets/of-hidden"
  [ "$output" = top-secret-value ]
  # nobody reads no file that holds it, wherever it is.
  run runuser -u nobody -- sh -c "grep -rl top-secret-value '$FAAS_DIR' 2>/dev/null"
  [ -z "$output" ]
  for f in "$FAAS_DIR"/st/secrets/of-hidden "$FAAS_DIR"/st/run/secrets/of-owner.*/of-hidden; do
    [ -e "$f" ]
    run runuser -u nobody -- cat "$f"
    [ "$status" -ne 0 ]
  done
  run runuser -u nobody -- ls "$FAAS_DIR"/st/run/secrets/
  [ "$status" -ne 0 ]
  # Another function sees no secret, at either path or by the host's.
  for p in /run/secrets/of-hidden /var/openfaas/secrets/of-hidden \
    "/$(ls -d "$FAAS_DIR"/st/run/secrets/of-owner.*)/of-hidden"; do
    run curl -sS "$(fn_url of-other)/read/$p"
    [[ "$output" == error:* ]]
  done
}

@test "GET /system/logs: OpenFaaS's JSON lines (faas-cli's query: follow=false, tail=-1, since), and text for runfctl" {
  upload_image
  runfctl fn deploy of-logs - <"$FN_IMAGE"
  curl -sS "$(fn_url of-logs)/log" >/dev/null
  wait_for sh -c "\"$RUNFCTL_BIN\" fn logs of-logs | grep -q 'a line for the log'"
  # RFC 3339 to the second, as faas-cli sends it: a second apart on both
  # sides.
  sleep 1.1
  before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  sleep 1.1
  curl -sS "$(fn_url of-logs)/crash" >/dev/null || true
  wait_for sh -c "\"$RUNFCTL_BIN\" fn logs of-logs | grep -q 'ended without answering'"
  run curl -sS -D "$TEST_DIR/head" --unix-socket "$SOCK" "http://localhost/system/logs?follow=false&name=of-logs&tail=-1"
  grep -qi '^content-type: application/x-ndjson' "$TEST_DIR/head"
  echo "$output" | jq -e -s 'length == 2'
  line=$(echo "$output" | head -1)
  [ "$(jq -r .name <<<"$line")" = of-logs ]
  [ "$(jq -r .namespace <<<"$line")" = openfaas-fn ]
  [ "$(jq -r .instance <<<"$line")" = of-logs ]
  [[ "$(jq -r .timestamp <<<"$line")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z$ ]]
  [[ "$(jq -r .text <<<"$line")" == *"a line for the log" ]]
  [ "$(echo "$output" | tail -1 | jq -r .instance)" = runfd ]
  # since, as faas-cli encodes it (url.Values: ':' as %3A).
  run curl -sS --unix-socket "$SOCK" "http://localhost/system/logs?follow=false&name=of-logs&since=${before//:/%3A}"
  echo "$output" | jq -e -s 'length == 1 and (.[0].text | test("ended without answering"))'
  run curl -sS --unix-socket "$SOCK" "http://localhost/system/logs?name=of-logs&tail=1"
  echo "$output" | jq -e -s 'length == 1'
  run curl -sS -w '\n%{http_code}' --unix-socket "$SOCK" "http://localhost/system/logs?name=of-logs&since=yesterday"
  [ "${lines[-1]}" = 400 ]
  # runfctl: the file's text, each line stamped.
  run runfctl fn logs of-logs
  echo "$output" | head -1 | grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z .*a line for the log$'
}

@test "stack files: faas-cli's stack.yml with runf's keys deploys, updates and removes; an unknown key names its line" {
  upload_image
  runfctl secret create of-key --from-literal k1
  cat >"$TEST_DIR/stack.yml" <<'EOF'
version: 1.0
provider:
  name: openfaas
  gateway: http://127.0.0.1:8080
functions:
  of-stack-a:
    lang: sh
    handler: ./a
    image: localhost/of-test:1
    fprocess: cat
    environment:
      A: "1"
      B: stack
    environment_file:
      - env.yml
    secrets:
      - of-key
    labels:
      tier: web
    annotations:
      note: hello
    limits:
      memory: 64m
    requests:
      memory: 32m
    mode: inetd
    timeout: 5s
    concurrency: 3
    min: 1
  of-stack-b:
    image: localhost/of-test:1
EOF
  printf 'environment:\n  B: file\n' >"$TEST_DIR/env.yml"
  # Rootless without a delegated cgroup, a memory limit is refused.
  if ! is_root; then sed -i '/^    limits:$/,+1d' "$TEST_DIR/stack.yml"; fi
  run runfctl deploy -f "$TEST_DIR/stack.yml"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ "$output" == *"of-stack-a: deployed http://"* && "$output" == *"of-stack-b: deployed"* ]]
  run curl -sS "$(fn_url of-stack-a)/env"
  [[ "$output" == *A=1* && "$output" == *B=file* && "$output" == *fprocess=cat* ]]
  run curl -sS "$(fn_url of-stack-a)/read//var/openfaas/secrets/of-key"
  [ "$output" = k1 ]
  d=$(runfctl fn describe of-stack-a)
  [ "$(jq -r .labels.tier <<<"$d")" = web ]
  [ "$(jq -r .annotations.note <<<"$d")" = hello ]
  [ "$(jq -r .concurrency <<<"$d")" = 3 ]
  [ "$(jq -r .min <<<"$d")" = 1 ]
  [ "$(jq -r .timeoutSeconds <<<"$d")" = 5 ]
  if is_root; then [ "$(jq -r .limits.memory <<<"$d")" = 64m ]; fi
  # Again: replaced, at the same address; one of them alone by name.
  addr=$(runfctl fn ip of-stack-a)
  run runfctl stack deploy -f "$TEST_DIR/stack.yml" of-stack-a
  [ "$status" -eq 0 ]
  [[ "$output" == "of-stack-a: updated http://"* ]]
  [ "$(runfctl fn ip of-stack-a)" = "$addr" ]
  run runfctl deploy -f "$TEST_DIR/stack.yml" of-nothere
  [ "$status" -ne 0 ] && [[ "$output" == *"of-nothere\` is not a function of"* ]]
  # A typo is an error naming the key and its line; nothing is deployed.
  sed 's/^    concurrency: 3/    concurrancy: 3/; s/of-stack-b:/of-stack-c:/' "$TEST_DIR/stack.yml" >"$TEST_DIR/typo.yml"
  run runfctl deploy -f "$TEST_DIR/typo.yml"
  [ "$status" -ne 0 ] && [ "${#lines[@]}" -eq 1 ]
  at=$(grep -n '^    concurrancy:' "$TEST_DIR/typo.yml" | cut -d: -f1)
  [[ "$output" == *"typo.yml:$at: of-stack-a.concurrancy: not a key runfctl knows"* ]]
  run runfctl fn describe of-stack-c
  [ "$status" -ne 0 ]
  printf 'functions:\n  of-x:\n    image: [\n' >"$TEST_DIR/broken.yml"
  run runfctl deploy -f "$TEST_DIR/broken.yml"
  [ "$status" -ne 0 ] && [[ "$output" == *"broken.yml:"* ]]
  printf 'functions:\n  of-x:\n    lang: sh\n' >"$TEST_DIR/noimage.yml"
  run runfctl deploy -f "$TEST_DIR/noimage.yml"
  [ "$status" -ne 0 ] && [[ "$output" == *"noimage.yml:3: of-x: image: missing"* ]]
  # fn new's stack file is one runfctl reads (its image is not built here).
  (cd "$TEST_DIR" && runfctl fn new of-new --lang sh >/dev/null)
  run runfctl deploy -f "$TEST_DIR/of-new.yml"
  [ "$status" -ne 0 ]
  [[ "$output" != *"not a key"* ]]
  [[ "$output" == *"of-new"* ]]
  run runfctl rm -f "$TEST_DIR/stack.yml"
  [ "$status" -eq 0 ]
  run runfctl fn ls
  [[ "$output" != *of-stack-* ]]
}

@test "async: 202 and a call id at once; the call is made later, 5xx retried, the outcome POSTed to X-Callback-Url" {
  upload_image
  runfctl fn deploy of-async - <"$FN_IMAGE"
  mkdir "$TEST_DIR/cb"
  python3 "$BATS_TEST_DIRNAME/callback.py" "$TEST_DIR/port" "$TEST_DIR/cb" &
  wait_for test -s "$TEST_DIR/port"
  cb=http://127.0.0.1:$(cat "$TEST_DIR/port")
  # As faas-cli invoke --async sends it.
  run curl -sS -D "$TEST_DIR/head" -o "$TEST_DIR/body" -w '%{http_code}' --unix-socket "$SOCK" -X POST \
    -H 'Content-Type: text/plain' -H "X-Callback-Url: $cb/done" -H 'X-Trace: t-1' --data-binary 'async body' \
    http://localhost/async-function/of-async/echo
  [ "$output" = 202 ]
  id=$(grep -i '^X-Call-Id:' "$TEST_DIR/head" | tr -d '\r' | awk '{print $2}')
  [ -n "$id" ]
  wait_for test -e "$TEST_DIR/cb/1.json"
  [ "$(jq -r .path "$TEST_DIR/cb/1.json")" = /done ]
  [ "$(jq -r .body "$TEST_DIR/cb/1.json")" = 'async body' ]
  [ "$(jq -r '.headers["x-call-id"]' "$TEST_DIR/cb/1.json")" = "$id" ]
  [ "$(jq -r '.headers["x-function-status"]' "$TEST_DIR/cb/1.json")" = 200 ]
  # A function that fails is tried 4 times (1, 2, 4 s apart), then the
  # callback hears 502.
  run runfctl fn invoke of-async --async --path /crash --callback "$cb/crashed"
  [ "$status" -eq 0 ]
  [[ "$output" =~ ^[0-9a-f]+-[0-9a-f]+$ ]]
  # 1 + 2 + 4 s of backoff, and each try's own time.
  for i in $(seq 1 300); do [ -e "$TEST_DIR/cb/2.json" ] && break; sleep 0.1; done
  [ -e "$TEST_DIR/cb/2.json" ]
  [ "$(jq -r .path "$TEST_DIR/cb/2.json")" = /crashed ]
  [ "$(jq -r '.headers["x-function-status"]' "$TEST_DIR/cb/2.json")" = 502 ]
  run curl -sS --unix-socket "$SOCK" http://localhost/metrics
  echo "$output" | grep -qx 'runfd_async_queue_depth 0'
  echo "$output" | grep -Eqx 'runfd_async_retries_total [3-9][0-9]*'
  echo "$output" | grep -Eqx 'runfd_async_failures_total [1-9][0-9]*'
  echo "$output" | grep -qx '# TYPE runfd_async_callback_failures_total counter'
  run curl -sS -w '\n%{http_code}' --unix-socket "$SOCK" -X POST http://localhost/async-function/of-none
  [ "${lines[-1]}" = 404 ]
  run curl -sS -w '\n%{http_code}' --unix-socket "$SOCK" -X POST -H 'X-Callback-Url: file:///etc/passwd' \
    http://localhost/async-function/of-async
  [ "${lines[-1]}" = 400 ]
}

@test "socket activation: runfd serves the API on the socket systemd passes, and its spawners do not see LISTEN_FDS" {
  command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
  mkdir -p "$TEST_DIR/st/run"
  systemd-socket-activate -l "$TEST_DIR/activated.sock" "$RUNFD_BIN" --state "$TEST_DIR/st" \
    --store "$TEST_DIR/store" --gateway none --addr-range "127.76.$FAAS_NET.0/24" >>"$TEST_DIR/runfd.log" 2>&1 &
  echo $! >"$TEST_DIR/runfd.pid"
  disown
  wait_for test -S "$TEST_DIR/activated.sock"
  run curl -sS --unix-socket "$TEST_DIR/activated.sock" http://localhost/healthz
  [ "$output" = OK ]
  grep -q 'api from systemd (fd 3)' "$TEST_DIR/runfd.log"
  [ ! -e "$TEST_DIR/st/run/api.sock" ]
  pid=$(cat "$TEST_DIR/runfd.pid")
  for child in $(pgrep -P "$pid"); do
    ! tr '\0' '\n' <"/proc/$child/environ" | grep -q '^LISTEN_'
  done
  run env RUNFD_API="unix:$TEST_DIR/activated.sock" "$RUNFCTL_BIN" fn deploy of-act - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  run curl -sS "http://$(env RUNFD_API="unix:$TEST_DIR/activated.sock" "$RUNFCTL_BIN" fn ip of-act)/"
  [ "$output" = "hello of-act" ]
}

@test "the dashboard in headless Chromium: the functions, an invocation with a body, a screenshot kept" {
  command -v chromium >/dev/null || skip "chromium is not installed (scripts/install-deps.sh installs it)"
  api_addr=127.78.$FAAS_NET.4:8083
  start_second --api "tcp:$api_addr"
  wait_for test -s "$TEST_DIR/st/api.token" || { cat "$TEST_DIR/runfd.log"; return 1; }
  wait_for curl -sS "http://$api_addr/healthz"
  token=$(cat "$TEST_DIR/st/api.token")
  run env -u RUNFD_API RUNFD_URL="http://$api_addr" RUNFD_TOKEN="$token" "$RUNFCTL_BIN" fn deploy of-dash - <"$FN_IMAGE"
  [ "$status" -eq 0 ]
  # The page is behind the token too.
  run curl -sS -o /dev/null -w '%{http_code}' "http://$api_addr/ui"
  [ "$output" = 401 ]
  run curl -sS -D "$TEST_DIR/head" -u "admin:$token" "http://$api_addr/ui"
  [[ "$output" == *"<title>runfd</title>"* ]]
  grep -qi "^content-security-policy: .*frame-ancestors 'none'" "$TEST_DIR/head"
  # Outside the staged tree, which goes when the run ends.
  out=${RUNF_TEST_OUTPUT:-${TMPDIR:-/tmp}/runf-test-output-$(id -u)}
  mkdir -p "$out"
  shot=$out/dashboard-$(id -u).png
  run timeout 120 python3 "$BATS_TEST_DIRNAME/dashboard.py" "http://$api_addr/ui" "$token" of-dash \
    "a body from the page" "$shot"
  echo "$output"
  [ "$status" -eq 0 ]
  [ "$(jq -r '.row[0]' <<<"$output")" = of-dash ]
  [ "$(jq -r '.row[1]' <<<"$output")" = inetd ]
  [ "$(jq -r '.row[7]' <<<"$output")" -ge 1 ]
  [ "$(jq -r .error <<<"$output")" = "" ]
  [[ "$(jq -r .answer <<<"$output")" == "200 OK ("*"a body from the page" ]]
  # A PNG, kept for a person to look at.
  [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]
  echo "# screenshot: $shot" >&3
}

@test "runfd.socket is a valid unit that names runfd's socket, 0600" {
  command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
  grep -qx 'ListenStream=/run/runfd/api.sock' "$TOP/build/share/systemd/runfd.socket"
  grep -qx 'SocketMode=0600' "$TOP/build/share/systemd/runfd.socket"
  grep -qx 'WantedBy=sockets.target' "$TOP/build/share/systemd/runfd.socket"
  mkdir -p "$TEST_DIR/units"
  sed "s|^ExecStart=.*|ExecStart=$RUNFD_BIN|; /^Documentation=/d" "$TOP/build/share/systemd/runfd.service" \
    >"$TEST_DIR/units/runfd.service"
  sed '/^Documentation=/d' "$TOP/build/share/systemd/runfd.socket" >"$TEST_DIR/units/runfd.socket"
  run systemd-analyze verify "$TEST_DIR/units/runfd.socket"
  echo "$output"
  [ "$status" -eq 0 ]
}
