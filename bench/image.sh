#!/bin/bash
# Image benchmarks, side by side in one run on the same image:
#   import + unpack:  runfctl image import + unpack   vs  skopeo copy + umoci unpack
#   pull:             runfctl image pull              vs  skopeo copy docker://
#   unpack alone:     runfctl image unpack            vs  GNU tar -xzf of the same layers
# The image (a few hundred MB of local files in gzip layers) is built once
# into BUILD/bench/image and reused.  Results: BUILD/bench/image-results.md.
set -eu
build=$(cd "$1" && pwd)
runfctl=$build/bin/runfctl
cache=$build/bench/image
runs=${BENCH_RUNS:-3}
tmp=$(mktemp -d /tmp/runf-bench-image.XXXXXX)
registry_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
  chmod -R u+rwX "$tmp" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# --- the image ----------------------------------------------------------------
sources="usr/include usr/bin"
if [ ! -f "$cache/layout/index.json" ]; then
  echo "bench: building the image from /$(echo $sources | sed 's| | and /|') (once)"
  rm -rf "$cache" && mkdir -p "$cache/layout/blobs/sha256" "$cache/layers"
  layers="" diff_ids="" i=0
  for src in $sources; do
    i=$((i + 1))
    tar --numeric-owner --sort=name -C / -cf "$cache/layers/$i.tar" "$src"
    diff_ids="$diff_ids\"sha256:$(sha256sum "$cache/layers/$i.tar" | cut -d' ' -f1)\","
    gzip -6 -c "$cache/layers/$i.tar" >"$cache/layers/$i.tar.gz"
    rm "$cache/layers/$i.tar"
    d=$(sha256sum "$cache/layers/$i.tar.gz" | cut -d' ' -f1)
    cp "$cache/layers/$i.tar.gz" "$cache/layout/blobs/sha256/$d"
    layers="$layers{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$d\",\"size\":$(stat -c %s "$cache/layers/$i.tar.gz")},"
  done
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/usr/bin/true"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "${diff_ids%,}" >"$cache/config.json"
  c=$(sha256sum "$cache/config.json" | cut -d' ' -f1)
  cp "$cache/config.json" "$cache/layout/blobs/sha256/$c"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
    "$c" "$(stat -c %s "$cache/config.json")" "${layers%,}" >"$cache/manifest.json"
  m=$(sha256sum "$cache/manifest.json" | cut -d' ' -f1)
  cp "$cache/manifest.json" "$cache/layout/blobs/sha256/$m"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"big"}}]}' \
    "$m" "$(stat -c %s "$cache/manifest.json")" >"$cache/layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$cache/layout/oci-layout"
fi
layout=$cache/layout
compressed=$(cat "$cache"/layers/*.tar.gz | wc -c)
uncompressed=$(for l in "$cache"/layers/*.tar.gz; do gzip -dc "$l"; done | wc -c)
files=$(for l in "$cache"/layers/*.tar.gz; do tar -tzf "$l"; done | wc -l)
echo "bench: image of $((uncompressed / 1048576)) MiB in $files entries, $((compressed / 1048576)) MiB compressed, $(echo $sources | wc -w) layers"

results=$build/bench/image-results.md
: >"$results"
bench() { # title, then hyperfine arguments
  local title=$1
  shift
  echo
  echo "## $title" | tee -a "$results"
  hyperfine --runs "$runs" --export-markdown "$tmp/out.md" --export-json "$tmp/$title.json" "$@" >/dev/null
  cat "$tmp/out.md" | tee -a "$results"
}
mean() { # json file, command index
  jq -r ".results[$2].mean" "$1"
}

# --- import + unpack ------------------------------------------------------------
bench import-unpack \
  --prepare "rm -rf $tmp/store $tmp/b $tmp/oci $tmp/ub; sync" \
  -n "runfctl image import + unpack" \
  "$runfctl --store $tmp/store image import -q $layout && $runfctl --store $tmp/store image unpack localhost/layout:big $tmp/b" \
  -n "skopeo copy + umoci unpack" \
  "skopeo --insecure-policy copy -q oci:$layout:big oci:$tmp/oci:big && umoci unpack --image $tmp/oci:big $tmp/ub"

# --- pull -------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/registry"
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$tmp/registry" "$port" >"$tmp/registry.yml"
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
registry_pid=$!
for i in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.05; done
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$layout:big" "docker://127.0.0.1:$port/bench/big:1"
bench pull \
  --prepare "rm -rf $tmp/store $tmp/oci; sync" \
  -n "runfctl image pull" \
  "$runfctl --store $tmp/store image pull -q 127.0.0.1:$port/bench/big:1" \
  -n "skopeo copy docker:// oci:" \
  "skopeo --insecure-policy copy -q --src-tls-verify=false docker://127.0.0.1:$port/bench/big:1 oci:$tmp/oci:big"

# --- unpack alone ---------------------------------------------------------------------
rm -rf "$tmp/store"
"$runfctl" --store "$tmp/store" image import -q "$layout" >/dev/null
tar_cmd="mkdir $tmp/t"
for l in "$cache"/layers/*.tar.gz; do tar_cmd="$tar_cmd && tar --numeric-owner -xzf $l -C $tmp/t"; done
bench unpack \
  --prepare "rm -rf $tmp/b $tmp/t; sync" \
  -n "runfctl image unpack" \
  "$runfctl --store $tmp/store image unpack localhost/layout:big $tmp/b" \
  -n "GNU tar -xzf, layer by layer" \
  "$tar_cmd"

# --- summary ----------------------------------------------------------------------------
{
  echo
  echo "## Summary ($runs runs each, mean)"
  awk -v a="$(mean "$tmp/import-unpack.json" 0)" -v b="$(mean "$tmp/import-unpack.json" 1)" \
    'BEGIN { printf "- import + unpack: runfctl %.2f s, skopeo + umoci %.2f s: runfctl %.2fx as fast\n", a, b, b / a }'
  awk -v a="$(mean "$tmp/pull.json" 0)" -v b="$(mean "$tmp/pull.json" 1)" \
    'BEGIN { printf "- pull: runfctl %.2f s, skopeo %.2f s: runfctl %.2fx as fast\n", a, b, b / a }'
  awk -v a="$(mean "$tmp/unpack.json" 0)" -v b="$(mean "$tmp/unpack.json" 1)" -v mb="$uncompressed" \
    'BEGIN { printf "- unpack: runfctl %.0f MiB/s, GNU tar %.0f MiB/s: %.2fx of GNU tar\n", mb / 1048576 / a, mb / 1048576 / b, b / a }'
} | tee -a "$results"
