# Shared by the engine tests: each file starts one engine on private paths
# below a temp dir (once, in setup_file), points it at runf, and stops it
# again in teardown_file, leaving nothing behind: no daemon, shim, conmon,
# container, mount, cgroup or state.  The image is built here from the
# busybox fixture; nothing is pulled.

load ../helpers

ENGINE_IMAGE=localhost/runf-busybox:test
ENGINE_MKIMAGE=$TOP/tests/integration/image/mkimage.py

# The engine dir and the test image, as a `docker save` archive that also
# holds an OCI index (so that docker load, podman load and ctr image import
# all read it).  $1 names the engine.
engine_begin() {
  ENGINE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runf-$1.XXXXXX")
  chmod 755 "$ENGINE_DIR"
  /usr/bin/python3 "$ENGINE_MKIMAGE" oci "$ENGINE_DIR/layout" --tag test --layer "$FIXTURE_ROOTFS" \
    --config '{"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' >/dev/null
  /usr/bin/python3 "$ENGINE_MKIMAGE" docker-save --oci "$ENGINE_DIR/image.tar" "$ENGINE_DIR/layout:test=$ENGINE_IMAGE"
  rm -rf "$ENGINE_DIR/layout"
  export ENGINE_DIR
}

# Why the tests of this file cannot run, for setup() to skip with.
engine_unavailable() { # reason
  ENGINE_SKIP=$1
  export ENGINE_SKIP
}

engine_skip_if_unavailable() {
  [ -z "${ENGINE_SKIP:-}" ] || skip "$ENGINE_SKIP"
}

# The engine's systemd cgroup driver needs systemd as PID 1 on pure
# cgroup v2 (make check-vm's Debian 12 guest; the development machines
# have none) and, rootless, a systemd --user manager with its bus, as the
# user of a login session has.  Skips otherwise; sets SCTL to the
# systemctl of the manager that holds the units.
engine_requires_systemd() {
  [ "$(cat /proc/1/comm)" = systemd ] && [ -d /run/systemd/system ] ||
    skip "systemd is not PID 1 here (make check-vm runs this in a Debian 12 guest with systemd)"
  cgroup_unified_p || skip "systemd's cgroup driver is tested on pure cgroup v2 hosts"
  if is_root; then
    SCTL=(systemctl)
    return 0
  fi
  local rt=/run/user/$(id -u)
  [ -S "$rt/bus" ] ||
    skip "no systemd --user manager with a bus for $(id -un) here (make check-vm's delegated pass has one)"
  export XDG_RUNTIME_DIR=$rt DBUS_SESSION_BUS_ADDRESS=unix:path=$rt/bus
  SCTL=(systemctl --user)
}

# Whether the memory controller reaches the units of SCTL's manager (a
# user's manager gets only what its user@.service delegates).
engine_systemd_memory_p() {
  is_root && return 0
  grep -qw memory "/sys/fs/cgroup/user.slice/user-$(id -u).slice/user@$(id -u).service/cgroup.subtree_control" 2>/dev/null
}

# Paths the engines use whatever they are told (lock files, socket dirs,
# caches, cgroup parents): those that do not exist yet are removed again by
# engine_end, the deepest first, and only when empty or listed as files.
engine_note_fixed_paths() { # path...
  local p
  ENGINE_NEW_PATHS=${ENGINE_NEW_PATHS:-}
  for p in "$@"; do
    [ -e "$p" ] || ENGINE_NEW_PATHS="$p $ENGINE_NEW_PATHS"
  done
  export ENGINE_NEW_PATHS
}

# The cgroup an engine makes below every hierarchy's root, whatever it is
# told: noted as engine_note_fixed_paths does.  The hierarchies are the
# mounted ones, read now, not a glob over /sys/fs/cgroup (which would also
# match directories that are no hierarchy, and only those there now).
engine_note_cgroup() { # name
  local h
  for h in $(cgroup_hierarchies); do
    engine_note_fixed_paths "$h/$1"
  done
}

# Start a daemon in the background, its output in $ENGINE_DIR/$1.log; its
# pid in $ENGINE_DIR/$1.pid.  fd 3 is bats' and must not be inherited.
engine_start_daemon() { # name command...
  local name=$1
  shift
  setsid "$@" >"$ENGINE_DIR/$name.log" 2>&1 </dev/null 3>&- &
  echo $! >"$ENGINE_DIR/$name.pid"
}

# Wait up to $1 seconds for a command to succeed.
engine_wait() { # seconds command...
  local tries=$(($1 * 20))
  shift
  while [ "$tries" -gt 0 ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
    tries=$((tries - 1))
  done
  return 1
}

# The pids of the processes whose command line mentions $1.
pids_mentioning() {
  local f pid
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [ "$pid" = $$ ] && continue
    { tr '\0' ' ' <"$f"; } 2>/dev/null | grep -qF -- "$1" && echo "$pid"
  done
  return 0
}

# Stop what the engine left: its daemons (TERM, then KILL after 10 s), any
# process that still names the engine dir (shims, conmon), mounts below
# the engine dir, new fixed paths, then the dir itself.
engine_end() {
  local f pid i p
  [ -n "${ENGINE_DIR:-}" ] && [ -d "$ENGINE_DIR" ] || return 0
  for f in "$ENGINE_DIR"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    kill -TERM "$pid" 2>/dev/null || continue
    for i in $(seq 1 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
  done
  for pid in $(pids_mentioning "$ENGINE_DIR"); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 5); do
    grep -F " $ENGINE_DIR" /proc/self/mountinfo | awk '{print $5}' | sort -r |
      while read -r p; do umount -l "$p" 2>/dev/null || true; done
  done
  for p in ${ENGINE_NEW_PATHS:-}; do
    if [ -d "$p" ]; then
      find "$p" -depth -type d -exec rmdir {} + 2>/dev/null || true
    else
      rm -f "$p"
    fi
  done
  chmod -R u+rwX "$ENGINE_DIR" 2>/dev/null || true
  rm -rf "$ENGINE_DIR"
}

# What must be true after engine_end, printed and failed on otherwise.
engine_assert_clean() {
  local left p
  left=$(pids_mentioning "$ENGINE_DIR")
  [ -z "$left" ] || { echo "processes left: $left"; return 1; }
  ! grep -qF " $ENGINE_DIR" /proc/self/mountinfo || { echo "mounts left"; return 1; }
  [ ! -e "$ENGINE_DIR" ] || { echo "$ENGINE_DIR left"; return 1; }
  for p in ${ENGINE_NEW_PATHS:-}; do
    [ ! -e "$p" ] || { echo "$p left"; return 1; }
  done
}

# A container's memory limit as its own cgroup files show it (v1: the
# memory hierarchy, v2: memory.max), read from inside.
MEMORY_LIMIT_CMD='cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'

# The container side of the stop tests: says "ready", and on TERM prints
# "got TERM" and exits 7.
TRAP_TERM='trap "echo got TERM; exit 7" TERM; echo ready; while :; do sleep 0.1; done'
IGNORE_TERM='trap "" TERM; echo ready; while :; do sleep 0.1; done'
