#!/bin/sh
# The Python example function images, built locally from the host's Debian
# python3 (no registry): BUILD/examples/python-http.tar and
# python-control.tar, what `docker save` would write.  Each has two
# layers: the python3 root filesystem of scripts/make-python-rootfs.sh
# (BUILD/python-base/rootfs) and /function (examples/python/function.py,
# server.py and the example's handler.py, BUILD/examples/NAME/function).
#
# Both layers carry the .pyc of every module, compiled with
# --invalidation-mode unchecked-hash: an instance's root is read-only, so
# Python cannot cache what it compiles, and without them every start
# compiles the modules it imports again.  A timestamp .pyc would not do:
# it holds its source's mtime, and image layers do not keep mtimes
# (mkimage.py sets them all to one value, as reproducible builds do), so
# Python would find every one stale.  An unchecked one is used as it is.
set -eu
build=$1
top=$(cd "$(dirname "$0")/.." && pwd)
python=/usr/bin/python3
mkimage=$top/tests/integration/image/mkimage.py
base=$build/python-base/rootfs
work=$build/examples/python-layout

# The base, and its .pyc: again only when the host's python3 changes.
"$top/scripts/make-python-rootfs.sh" "$base"
if ! [ "$base.compiled" -nt "$base.stamp" ] || ! [ "$base.compiled" -nt "$0" ]; then
  rm -f "$base.compiled"
  # -s/-p: the .pyc name the file by its path in the image, for
  # tracebacks.
  "$python" -m compileall -q -f -j 2 --invalidation-mode unchecked-hash -s "$base" -p / \
    "$base/usr/lib/python3"* >/dev/null
  touch "$base.compiled"
fi

rm -rf "$work"
mkdir -p "$work"
for name in python-http python-control; do
  case $name in
  python-http) mode=http ;;
  python-control) mode=control-socket ;;
  esac
  fn=$build/examples/$name/function
  rm -rf "$build/examples/$name"
  mkdir -p "$fn/function"
  cp "$top/examples/python/function.py" "$top/examples/python/server.py" "$top/examples/$name/handler.py" \
    "$fn/function/"
  "$python" -m compileall -q -f --invalidation-mode unchecked-hash -s "$fn" -p / "$fn/function" >/dev/null
  config="{\"Entrypoint\": [\"/usr/bin/python3\", \"/function/handler.py\"],
           \"Env\": [\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",
                   \"PYTHONDONTWRITEBYTECODE=1\"],
           \"WorkingDir\": \"/function\", \"Labels\": {\"runf.function.mode\": \"$mode\"}}"
  # One layout for both: the base layer is stored once.
  "$python" "$mkimage" oci "$work" --tag "$name" --layer "$base" --layer "$fn" \
    --compress none --config "$config" >/dev/null
  "$python" "$mkimage" docker-save "$build/examples/$name.tar.tmp" "$work:$name=$name:latest"
  mv "$build/examples/$name.tar.tmp" "$build/examples/$name.tar"
done
# The archives hold all of it.
rm -rf "$work"
