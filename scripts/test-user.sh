#!/bin/sh
# The unprivileged user the rootless tests run as, with a subordinate id
# range for the multi-range user namespace tests.  Idempotent.
set -eu
user=runftest
if ! id "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$user"
fi
for f in /etc/subuid /etc/subgid; do
  touch "$f"
  grep -q "^$user:" "$f" || echo "$user:200000:65536" >>"$f"
done
id -u "$user"
