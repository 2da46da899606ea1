#!/bin/sh
# Run each libFuzzer target for a while from its seed corpus (copied, as
# the fuzzer adds what it finds to the corpus it is given).  Exits non-zero
# on the first target that crashes, leaving the crash input in build/fuzz.
set -eu
build=$1
seconds=${2:-20}
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/runf-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

for bin in "$build"/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  mkdir -p "$work/$name"
  if [ -d "$top/tests/fuzz/corpus/$name" ]; then
    cp "$top/tests/fuzz/corpus/$name"/* "$work/$name/" 2>/dev/null || true
  fi
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 \
       -artifact_prefix="$build/fuzz/$name-" "$work/$name" >"$work/$name.log" 2>&1; then
    tail -40 "$work/$name.log"
    echo "fuzz: $name failed; the input is in $build/fuzz/$name-*"
    exit 1
  fi
  grep -E '^#[0-9]+.*DONE' "$work/$name.log" | tail -1 || tail -1 "$work/$name.log"
done
