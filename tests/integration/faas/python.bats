#!/usr/bin/env bats
# The Python example functions (examples/python*, built by `make examples`
# from the host's python3): each protocol through the function's address
# and the gateway, and the precompiled .pyc that make their start cheap.

load faas_helpers

PY_HTTP=$TOP/build/examples/python-http.tar
PY_CONTROL=$TOP/build/examples/python-control.tar

setup_file() {
  [ -f "$PY_CONTROL" ] && [ -f "$PY_HTTP" ] || {
    echo "no Python example images: make examples" >&2
    return 1
  }
  faas_setup_file
}
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-case.XXXXXX")
}
teardown() {
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$TEST_DIR"
}

# GET and POST on function NAME (mode MODE), at its own address and
# through the gateway.  The gateway's /function/NAME is stripped (by runfd
# in http mode, by the function from RUNF_PATH_PREFIX in inetd and
# control-socket mode) except in warm mode, where the instances, started
# before any request, are handed the connection as it came: PREFIX is
# what remains.
check_get_post() { # name mode [prefix]
  local url
  url=$(fn_url "$1")
  run curl -sS --max-time 20 "$url/some/path?x=1"
  [ "$status" -eq 0 ]
  [ "$output" = "Hello from $1 (python, $2): GET /some/path?x=1" ]
  run curl -sS --max-time 20 --data-binary 'a posted body' "$url/echo"
  [ "$output" = "a posted body" ]
  run curl -sS --max-time 20 "http://$GATEWAY/function/$1/through/the/gateway"
  [ "$output" = "Hello from $1 (python, $2): GET ${3:-}/through/the/gateway" ]
  run curl -sS --max-time 20 --data-binary 'via the gateway' "http://$GATEWAY/function/$1/echo"
  [ "$output" = "via the gateway" ]
  # Content-Length is the body's: the headers say 15 for "via the gateway".
  run curl -sS --max-time 20 -o /dev/null -D - --data-binary 'via the gateway' "$url/echo"
  [[ "$output" == *$'Content-Length: 15\r'* ]]
  # Nothing printed on the request path: the log has no line of these.
  run runfctl fn logs "$1"
  [[ "$output" != *"/some/path"* ]]
}

@test "python-control: control-socket mode, GET and POST at the function's address and through the gateway" {
  runfctl fn deploy --mode control-socket pyctl - <"$PY_CONTROL"
  check_get_post pyctl control-socket
}

@test "python-control: the same image in inetd and warm mode follows RUNF_MODE" {
  runfctl fn deploy --mode inetd pyinetd - <"$PY_CONTROL"
  check_get_post pyinetd inetd
  runfctl fn deploy --mode warm --min 1 --idle 2s pywarm - <"$PY_CONTROL"
  check_get_post pywarm warm /function/pywarm
}

@test "python-http: http mode, the image's own http.server on \$PORT" {
  runfctl fn deploy --mode http pyhttp - <"$PY_HTTP"
  check_get_post pyhttp http
}

# The .pyc of the handler's module as the image has it.
image_pyc() { # image path-in-image
  mkdir -p "$TEST_DIR/img"
  tar -xf "$1" -C "$TEST_DIR/img"
  local layer
  for layer in $(jq -r '.[0].Layers[]' "$TEST_DIR/img/manifest.json"); do
    tar -xf "$TEST_DIR/img/$layer" -C "$TEST_DIR/img" "$2" 2>/dev/null && break
  done
  echo "$TEST_DIR/img/$2"
}

@test "the images carry the function's .pyc, hash-based and unchecked, for this python3" {
  local pyc magic tag
  tag=$(/usr/bin/python3 -c 'import sys; print(sys.implementation.cache_tag)')
  magic=$(/usr/bin/python3 -c 'import importlib.util; print(importlib.util.MAGIC_NUMBER.hex())')
  for image in "$PY_CONTROL" "$PY_HTTP"; do
    for module in function server; do
      pyc=$(image_pyc "$image" "function/__pycache__/$module.$tag.pyc")
      [ -f "$pyc" ]
      # The header: the magic number of the interpreter that will load it,
      # then the flags: bit 0 hash-based, bit 1 check the source (PEP 552).
      [ "$(od -An -tx1 -N4 "$pyc" | tr -d ' ')" = "$magic" ]
      [ "$(od -An -tu4 -j4 -N4 "$pyc" | tr -d ' ')" = 1 ]
      rm -rf "$TEST_DIR/img"
    done
  done
}

# Python code that imports the function and its server (http.server and
# all it imports), and reports which modules it compiled from source
# instead of loading their .pyc: on the connection, fd 3, when runfd
# started it in inetd mode, else on stdout.
COMPILED_PY='
import importlib._bootstrap_external as ext, os, sys
compiled = []
to_code = ext.SourceLoader.source_to_code
def counted(self, data, path, *args, **kwargs):
    compiled.append(path)
    return to_code(self, data, path, *args, **kwargs)
ext.SourceLoader.source_to_code = counted
sys.path.insert(0, sys.argv[1])
import function, server
body = ("compiled from source: %d %s\n" % (len(compiled), " ".join(compiled))).encode()
if os.environ.get("RUNF_MODE") == "inetd":
    os.read(3, 65536)
    os.write(3, b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
else:
    sys.stdout.buffer.write(body)
'

@test "in an instance, Python loads the precompiled .pyc: nothing is compiled from source" {
  # The probe itself sees compiling: the same import, without .pyc.
  mkdir "$TEST_DIR/fn"
  cp "$TOP/build/examples/python-control/function/function/"*.py "$TEST_DIR/fn/"
  run /usr/bin/python3 -B -c "$COMPILED_PY" "$TEST_DIR/fn"
  [[ "$output" == "compiled from source: "[1-9]*"/function.py"* ]]

  runfctl fn deploy --mode inetd --cmd /usr/bin/python3 --cmd -c --cmd "$COMPILED_PY" \
    --cmd /function pyc - <"$PY_CONTROL"
  run curl -sS --max-time 20 "$(fn_url pyc)/"
  [ "$output" = "compiled from source: 0 " ]
}
