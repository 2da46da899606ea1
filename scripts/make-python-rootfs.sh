#!/bin/sh
# A python3 root filesystem from the host's Debian python3, for the tests
# of the python3 function template (a base image that needs no registry):
# the interpreter, its standard library without tests, IDLE, tkinter and
# the other parts no function uses, and the shared libraries they all load.
# Made once under OUT, again only when the host's python3 changes.
set -eu
out=$1
python=$(readlink -f /usr/bin/python3)
stamp=$out.stamp
if [ -f "$stamp" ] && [ "$stamp" -nt "$python" ] && [ "$stamp" -nt "$0" ]; then
  exit 0
fi
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
stdlib=/usr/lib/python$version
rm -rf "$out" "$stamp"
mkdir -p "$out/usr/bin" "$out/usr/lib" "$out/tmp" "$out/etc" "$out/proc" "$out/dev" "$out/sys"
chmod 1777 "$out/tmp"
cp "$python" "$out/usr/bin/python$version"
ln -s "python$version" "$out/usr/bin/python3"
ln -s usr/bin "$out/bin"
# The standard library, less what a function does not run.
tar -C / -cf - \
  --exclude="${stdlib#/}/test" --exclude="${stdlib#/}/idlelib" --exclude="${stdlib#/}/tkinter" \
  --exclude="${stdlib#/}/turtledemo" --exclude="${stdlib#/}/ensurepip" --exclude="${stdlib#/}/lib2to3" \
  --exclude="${stdlib#/}/pydoc_data" --exclude="${stdlib#/}/config-*" --exclude='__pycache__' \
  --exclude="${stdlib#/}/site-packages" --exclude="${stdlib#/}/dist-packages" \
  --exclude='_curses*' --exclude='readline.*' --exclude='_dbm.*' --exclude='_gdbm.*' \
  --exclude='nis.*' --exclude='_tkinter.*' --exclude='curses' --exclude='dbm' \
  "${stdlib#/}" | tar -C "$out" -xf -
# Every shared library the interpreter and its extension modules load,
# at the paths the host has them.
{ ldd "$python"; for so in "$out$stdlib"/lib-dynload/*.so; do ldd "$so"; done; } 2>/dev/null \
  | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' | sort -u \
  | while read -r lib; do
      mkdir -p "$out$(dirname "$lib")"
      cp -L "$lib" "$out$lib"
    done
printf 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$out/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$out/etc/group"
touch "$stamp"
