#!/bin/bash
# Run a command where /sys/fs/cgroup looks as it does on a hybrid host after
# podman ran there: the host's mounted hierarchies, and beside them an
# empty directory, with a libpod_parent inside, for every controller of
# /proc/cgroups that has no v1 hierarchy (hugetlb, net_cls, net_prio and
# perf_event on the development machines).  Nothing reads such a directory
# as a hierarchy: neither the tests (cgroup_helpers.bash) nor runf.
#
# It all happens in a private mount namespace, on a tmpfs of its own over
# /sys/fs/cgroup: the host's /sys/fs/cgroup, which other test runs share,
# is left as it is, and the planted directories go with the command.
# When the command is done, anything it left below a planted directory
# besides libpod_parent is named on stderr and the exit status is 1;
# otherwise the command's own status is returned.  Root only.
#
#   tests/integration/cgroup-leftovers.sh scripts/run-tests.sh build
set -eu

me=cgroup-leftovers
. "$(dirname "$0")/cgroup_helpers.bash"

if [ "${1:-}" != --inside ]; then
  [ $# -ge 1 ] || { echo "usage: $0 COMMAND [ARG...]" >&2; exit 2; }
  [ "$(id -u)" = 0 ] || { echo "$me: needs root (it mounts over /sys/fs/cgroup)" >&2; exit 2; }
  exec unshare -m --propagation private "$0" --inside "$@"
fi
shift

if cgroup_unified_p; then
  echo "$me: /sys/fs/cgroup is the v2 hierarchy here: a directory made there is a cgroup, nothing to plant" >&2
  exit 2
fi
hierarchies=$(cgroup_hierarchies)
planted=""
for c in $(awk 'NR > 1 && $4 == 1 { print $1 }' /proc/cgroups); do
  cgroup_v1_mount "$c" >/dev/null || planted="$planted $c"
done

# The host's tree stays reachable below $keep while the tmpfs covers it;
# each hierarchy is bound back on its name, links (cpu -> cpu,cpuacct)
# copied.
keep=$(mktemp -d /tmp/$me.XXXXXX)
mount --rbind /sys/fs/cgroup "$keep"
mount -t tmpfs -o mode=755 $me /sys/fs/cgroup
for h in $hierarchies; do
  mkdir "/sys/fs/cgroup/${h##*/}"
  mount --bind "$keep/${h##*/}" "/sys/fs/cgroup/${h##*/}"
done
for l in "$keep"/*; do
  [ -L "$l" ] && cp -P "$l" /sys/fs/cgroup/
done
umount -l "$keep"
rmdir "$keep"
for c in $planted; do
  mkdir -p "/sys/fs/cgroup/$c/libpod_parent"
done
echo "$me: planted$planted" >&2

status=0
"$@" || status=$?
left=$(for c in $planted; do
  find "/sys/fs/cgroup/$c" -mindepth 1 ! -path "/sys/fs/cgroup/$c/libpod_parent"
done)
if [ -n "$left" ]; then
  echo "$me: written below a directory that is not a hierarchy:" $left >&2
  exit 1
fi
exit $status
