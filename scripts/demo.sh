#!/bin/sh
# The demo: a busybox bundle made locally, run with `runf run`.
set -eu
build=$(cd "$1" && pwd)
runf=$build/bin/runf
dir=$(mktemp -d /tmp/runf-demo.XXXXXX)
trap 'rm -rf "$dir"' EXIT

cp -a "$build/fixtures/rootfs" "$dir/rootfs"
cd "$dir"
"$runf" spec
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo \"Hello from a runf container: hostname $(hostname), pid $$, uid $(id -u), root read-only: $(touch /x 2>/dev/null && echo no || echo yes)\""]' \
  config.json >config.new && mv config.new config.json

echo "\$ runf run demo-$$"
"$runf" --root "$dir/state" run "demo-$$"

jq '.process.args = ["true"]' config.json >config.new && mv config.new config.json
start=$(date +%s%N)
for i in 1 2 3 4 5 6 7 8 9 10; do
  "$runf" --root "$dir/state" run "bench-$i"
done
end=$(date +%s%N)
echo "10 containers run one after the other: $(( (end - start) / 10000000 )).$(( (end - start) / 100000 % 100 )) ms each"
