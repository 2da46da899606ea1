#!/bin/sh
# Build one example function image locally from busybox-static and the
# example's handler: BUILD/examples/NAME/rootfs (the image's one layer),
# an OCI layout beside it, and BUILD/examples/NAME.tar, which is what
# `docker save NAME` would write (`runfctl fn deploy NAME - < NAME.tar`).
set -eu
build=$1
name=$2
top=$(cd "$(dirname "$0")/.." && pwd)
dir=$build/examples/$name
rootfs=$dir/rootfs
busybox=$(command -v busybox || echo /bin/busybox)
path_env='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'

rm -rf "$dir"
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" \
         "$rootfs/tmp" "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$rootfs/bin/busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
chmod 1777 "$rootfs/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"

case $name in
hello)
  cp "$build/examples/bin/hello" "$rootfs/hello"
  entrypoint='["/hello"]'
  mode=inetd
  ;;
control)
  cp "$build/examples/bin/control-handler" "$rootfs/handler"
  entrypoint='["/handler"]'
  mode=control-socket
  ;;
stdio)
  cp "$top/examples/stdio/handler.sh" "$rootfs/handler.sh"
  chmod 755 "$rootfs/handler.sh"
  entrypoint='["/handler.sh"]'
  mode=stdio
  ;;
*)
  echo "make-example-image: no example named $name" >&2
  exit 1
  ;;
esac

config="{\"Entrypoint\": $entrypoint, \"Env\": [$path_env], \"WorkingDir\": \"/\",
         \"Labels\": {\"runf.function.mode\": \"$mode\"}}"
/usr/bin/python3 "$top/tests/integration/image/mkimage.py" oci "$dir/layout" --tag latest \
  --layer "$rootfs" --compress none --config "$config" >/dev/null
/usr/bin/python3 "$top/tests/integration/image/mkimage.py" docker-save "$build/examples/$name.tar.tmp" \
  "$dir/layout:latest=$name:latest"
mv "$build/examples/$name.tar.tmp" "$build/examples/$name.tar"
