#!/bin/sh
# Build the test fixtures locally: a busybox rootfs from busybox-static, with
# the static test programs from tests/helpers in /usr/bin.  No network.
set -eu
out=$1
helpers=$2
rootfs=$out/rootfs
stamp=$out/.stamp

busybox=$(command -v busybox || echo /bin/busybox)
if [ -f "$stamp" ] && [ "$stamp" -nt "$busybox" ] && [ -z "$(find "$helpers" -newer "$stamp" 2>/dev/null)" ]; then
  exit 0
fi
rm -rf "$rootfs"
mkdir -p "$rootfs/bin" "$rootfs/usr/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" \
         "$rootfs/dev" "$rootfs/tmp" "$rootfs/root" "$rootfs/home/user" "$rootfs/run"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
for h in "$helpers"/*; do
  [ -f "$h" ] && cp "$h" "$rootfs/usr/bin/"
done
chmod 1777 "$rootfs/tmp"

# runfd's test function: fn_handler alone, as a docker-save archive.
fnroot=$out/fn-rootfs
rm -rf "$fnroot" "$out/fn-layout" "$out/fn-image.tar"
mkdir -p "$fnroot"
cp "$helpers/fn_handler" "$fnroot/handler"
mkimage=$(dirname "$0")/../tests/integration/image/mkimage.py
/usr/bin/python3 "$mkimage" oci "$out/fn-layout" --tag fn --layer "$fnroot" \
  --config '{"Cmd": ["/handler"], "Env": ["PATH=/"]}' >/dev/null
/usr/bin/python3 "$mkimage" docker-save "$out/fn-image.tar" "$out/fn-layout:fn=fn-test:latest"
rm -rf "$out/fn-layout" "$fnroot"
cat > "$rootfs/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > "$rootfs/etc/group" <<'GR'
root:x:0:
tty:x:5:
user:x:1000:
nogroup:x:65534:
GR
touch "$stamp"
