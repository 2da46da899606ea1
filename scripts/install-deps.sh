#!/bin/sh
# Install every Debian package that building, testing and benchmarking runf
# needs.  Idempotent and quiet: when everything is there it only checks.
set -eu

PACKAGES="
build-essential pkg-config
libjansson-dev libseccomp-dev libsystemd-dev
libarchive-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
libcmocka-dev bats libyaml-dev chromium
busybox-static uidmap iproute2 util-linux procps jq
crun runc hyperfine
skopeo umoci docker-registry apache2-utils zstd python3 curl clang
podman conmon catatonit fuse-overlayfs slirp4netns containerd docker.io
musl-tools
criu protobuf-c-compiler libprotobuf-c-dev
nftables dnsmasq-base
"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing (run as root to install them)" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
