# Shared by the integration tests (through helpers.bash) and by
# cgroup-leftovers.sh.

# The host's cgroup layout, from what is mounted, never from the names of
# the directories below /sys/fs/cgroup: on a v1 or hybrid host that is a
# tmpfs, where anything may leave an empty directory named like a
# controller (podman leaves hugetlb/libpod_parent and others on a hybrid
# host), and runf, rightly, takes only the mounted ones.
#
# One line per hierarchy a path below /sys/fs/cgroup reaches:
# "MOUNTPOINT TYPE CONTROLLERS", TYPE cgroup or cgroup2, CONTROLLERS a v1
# mount's controllers as /proc/PID/cgroup names them ("cpu,cpuacct",
# "name=systemd"), "-" for v2.  A mount covered by a later one on the same
# path, or left below a later mount on /sys/fs/cgroup (a cgroup2 mount
# there in a private mount namespace), is not reachable and not listed.
cgroup_mounts() {
  awk '
    {
      for (sep = 7; sep <= NF && $sep != "-"; sep++)
        ;
      id[NR] = $1; parent[NR] = $2; mp[NR] = $5; fs[NR] = $(sep + 1); opts[NR] = $(sep + 3)
      top[$5] = NR
    }
    END {
      root = top["/sys/fs/cgroup"]
      if (root && fs[root] == "cgroup2") {
        print "/sys/fs/cgroup cgroup2 -"
        exit
      }
      for (i = 1; i <= NR; i++) {
        if (top[mp[i]] != i || mp[i] !~ "^/sys/fs/cgroup/[^/]+$" || (root && parent[i] != id[root]))
          continue
        if (fs[i] == "cgroup2") {
          print mp[i], "cgroup2", "-"
        } else if (fs[i] == "cgroup") {
          n = split(opts[i], o, ",")
          ctrls = ""
          for (k = 1; k <= n; k++)
            if (o[k] !~ "^(rw|ro|clone_children|noprefix|xattr|cpuset_v2_mode|favordynmods|release_agent=.*)$")
              ctrls = ctrls (ctrls == "" ? "" : ",") o[k]
          print mp[i], "cgroup", ctrls
        }
      }
    }' /proc/self/mountinfo
}

# Every mounted hierarchy's mount point, one a line.
cgroup_hierarchies() {
  cgroup_mounts | awk '{ print $1 }'
}

# Whether /sys/fs/cgroup itself is the v2 hierarchy (a unified host).
cgroup_unified_p() {
  [ "$(cgroup_mounts | awk '$2 == "cgroup2" { print $1 }')" = /sys/fs/cgroup ]
}

# The v2 hierarchy's mount point (/sys/fs/cgroup, or /sys/fs/cgroup/unified
# on a hybrid host); fails where there is none.
cgroup_v2_mount() {
  cgroup_mounts | awk '$2 == "cgroup2" { print $1; found = 1; exit } END { exit !found }'
}

# The mount point of the v1 hierarchy that has controller $1 ("memory",
# "cpu", "name=systemd"); fails where no v1 hierarchy has it.
cgroup_v1_mount() {
  cgroup_mounts | awk -v c="$1" '$2 == "cgroup" {
      n = split($3, a, ",")
      for (i = 1; i <= n; i++)
        if (a[i] == c) { print $1; found = 1; exit }
    } END { exit !found }'
}

# Whether the v2 hierarchy has controller $1.
cgroup_v2_has() {
  local v2
  v2=$(cgroup_v2_mount) && grep -qw -- "$1" "$v2/cgroup.controllers"
}

# The mount point where controller $1 is: its v1 hierarchy, else the v2
# one when that has it; fails where neither has.
cgroup_mount_of() {
  cgroup_v1_mount "$1" || { cgroup_v2_has "$1" && cgroup_v2_mount; }
}

# What a container's /sys/fs/cgroup holds on a v1 or hybrid host, sorted:
# a directory per hierarchy, named as on the host, and a link per
# controller of a co-mounted one ("cpu" and "cpuacct" for "cpu,cpuacct").
cgroup_container_names() {
  local h name
  for h in $(cgroup_hierarchies); do
    name=${h##*/}
    echo "$name"
    [[ "$name" == *,* ]] && tr ',' '\n' <<<"$name"
  done | sort -u
}

# The caller's own directory in the v2 hierarchy (from the "0::" line of
# /proc/self/cgroup); fails where there is no v2 hierarchy.
cgroup_own_v2_dir() {
  local v2 own
  v2=$(cgroup_v2_mount) || return 1
  own=$(awk -F: '$1 == "0" { print $3 }' /proc/self/cgroup)
  [ -n "$own" ] || return 1
  echo "$v2${own%/}"
}

# Whether the caller may make cgroups below its own v2 cgroup: delegated to
# it, as systemd does for a user's session scopes and its --user manager
# (Delegate=yes).  Where so, a rootless runf gives containers a cgroup.
cgroup_delegated_p() {
  local d
  d=$(cgroup_own_v2_dir) && [ -w "$d" ] && [ -w "$d/cgroup.procs" ]
}

# runc's "update devices [minimal transition rules]", on the container $CID
# (running, made from a config with linux.devices /dev/fuse and no rule for
# it) and its device directory $1 (v1 devices.list) or "" (v2: the eBPF
# program, seen only through what it does): a loop in the container writes
# /dev/null and tries /dev/fuse all along while `runf` (the caller's: on
# the host's layout or a private v2 one) updates other limits, allows fuse,
# and takes it away again.  /dev/null must never be refused; fuse opens
# only while it is allowed.  $2: "pids" where there is a pids controller to
# update.
check_device_updates_without_gaps() {
  local list=$1 log=$BUNDLE/rootfs/tmp i
  rm -f "$log/null-denied" "$log/fuse-opened"
  wait_for test -s "$log/loops"
  if [ "$2" = pids ]; then
    for i in $(seq 20); do
      runf update --pids-limit $((100 + i)) "$CID"
    done
  fi
  [ ! -e "$log/fuse-opened" ]
  echo '{"devices": [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "r"}]}' |
    runf update -r - "$CID"
  [ -z "$list" ] || grep -qx 'c 10:229 r' "$list"
  wait_for test -e "$log/fuse-opened"
  jq -e '.linux.resources.devices | map(select(.major == 10 and .minor == 229)) | length == 1' \
    "$STATE_ROOT/$CID/config.json"
  for i in $(seq 30); do
    echo '{"devices": []}' | runf update -r - "$CID"
  done
  [ -z "$list" ] || ! grep -q '^c 10:229' "$list"
  sleep 0.2
  rm -f "$log/fuse-opened"
  sleep 0.5
  [ ! -e "$log/fuse-opened" ]
  # The default devices stayed allowed through every write.
  [ ! -e "$log/null-denied" ]
}

# The loop check_device_updates_without_gaps watches, as process.args.
DEVICE_LOOP='i=0; while :; do i=$((i+1)); echo $i >/tmp/loops;
  { echo x >/dev/null; } 2>/dev/null || echo >/tmp/null-denied;
  { true </dev/fuse; } 2>/dev/null && echo >/tmp/fuse-opened; done'
