#!/usr/bin/env bats
# A hostile image and a hostile function against runfd, as root and
# rootless: working directories through leaked fds, device nodes, set-id
# bits and file capabilities from image layers.  docs/security.md.

load faas_helpers

setup_file() { faas_setup_file; }
teardown_file() { faas_teardown_file; }

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runfd-case.XXXXXX")
  chmod 755 "$TEST_DIR"
}
teardown() {
  for pid in $(jobs -p); do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$TEST_DIR"
}

MKIMAGE=$TOP/tests/integration/image/mkimage.py

# The test handler as /handler, plus what a layer spec adds.
hostile_layout() { # layout tag config [layer...]
  local layout=$1 tag=$2 config=$3
  shift 3
  mkdir -p "$TEST_DIR/base"
  cp "$HELPERS/fn_handler" "$TEST_DIR/base/handler"
  local layers=(--layer "$TEST_DIR/base")
  for l in "$@"; do layers+=(--layer "$l"); done
  python3 "$MKIMAGE" oci "$layout" --tag "$tag" "${layers[@]}" --config "$config" >/dev/null
}

@test "an image's WorkingDir /proc/self/fd/N never takes a function out of its rootfs (N = 3..64)" {
  local secret=secret-$RANDOM-$RANDOM climb
  echo "$secret" >"$TEST_DIR/secret"
  chmod 644 "$TEST_DIR/secret"
  climb="$(printf '../%.0s' $(seq 1 40))${TEST_DIR#/}/secret"
  local names=()
  for n in $(seq 3 64); do
    hostile_layout "$TEST_DIR/layout" "cwd$n" "{\"Cmd\": [\"/handler\"], \"WorkingDir\": \"/proc/self/fd/$n\"}"
    names+=("$TEST_DIR/layout:cwd$n=cwd$n:latest")
  done
  python3 "$MKIMAGE" docker-save "$TEST_DIR/images.tar" "${names[@]}"
  runfctl --store "$FAAS_DIR/store" image import "$TEST_DIR/images.tar" >/dev/null
  for n in $(seq 3 64); do
    # The deploy may refuse it, or its instances fail: either way no
    # request may see the host.
    runfctl fn deploy "cwd$n" "cwd$n:latest" >/dev/null 2>&1 || continue
    run curl -sS -m 5 "$(fn_url "cwd$n")/read/$climb"
    [[ "$output" != *"$secret"* ]] || { echo "fd $n: the function read a host file"; return 1; }
    run curl -sS -m 5 "$(fn_url "cwd$n")/cwd"
    [[ "$output" != /* || "$output" == / ]] || { echo "fd $n: cwd $output"; return 1; }
    runfctl fn rm "cwd$n" >/dev/null
  done
}

# A layer with what only root could make: device nodes (a loop device and
# /dev/kmsg), a set-uid-root and a set-gid program, a file capability
# (cap_setuid+ep, as vfs_cap_data revision 2).
privileged_layers() {
  mkdir -p "$TEST_DIR/suid"
  cp "$HELPERS/whoami" "$TEST_DIR/suid/suid-whoami"
  cp "$HELPERS/whoami" "$TEST_DIR/suid/sgid-whoami"
  chmod 4755 "$TEST_DIR/suid/suid-whoami"
  chmod 2755 "$TEST_DIR/suid/sgid-whoami"
  cat >"$TEST_DIR/nodes.json" <<'JSON'
[
  {"name": "loop0", "type": "block", "major": 7, "minor": 0, "mode": 438},
  {"name": "kmsg", "type": "char", "major": 1, "minor": 11, "mode": 438},
  {"name": "capfile", "type": "file", "data": "#!/bin/sh\n", "mode": 493,
   "xattrs": {"security.capability": "\u0001\u0000\u0000\u0002\udc80\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000"}}
]
JSON
}

@test "device nodes, set-id bits and file capabilities of an image stay out of the shared rootfs" {
  privileged_layers
  hostile_layout "$TEST_DIR/layout" priv '{"Cmd": ["/handler"]}' "$TEST_DIR/suid" "$TEST_DIR/nodes.json"
  python3 "$MKIMAGE" docker-save "$TEST_DIR/priv.tar" "$TEST_DIR/layout:priv=priv:latest"
  run runfctl fn deploy priv - <"$TEST_DIR/priv.tar"
  [ "$status" -eq 0 ]
  rootfs=$(find "$FAAS_DIR/store/rootfs" -mindepth 2 -maxdepth 2 -name suid-whoami -printf '%h\n' | head -1)
  [ -n "$rootfs" ]
  [ -f "$rootfs/suid-whoami" ]
  [ -z "$(find "$rootfs" \( -type b -o -type c \) -print)" ]
  [ -z "$(find "$rootfs" -perm /6000 -type f -print)" ]
  run getcap "$rootfs/capfile"
  [[ "$output" != *cap_setuid* ]]
  # The function still runs, and cannot reach what the image asked for.
  run curl -sS "$(fn_url priv)/write/kmsg"
  [[ "$output" == error:* ]]
}

@test "another local user gains nothing from the store's programs" {
  requires_root
  privileged_layers
  hostile_layout "$TEST_DIR/layout" priv2 '{"Cmd": ["/handler"]}' "$TEST_DIR/suid"
  python3 "$MKIMAGE" docker-save "$TEST_DIR/priv2.tar" "$TEST_DIR/layout:priv2=priv2:latest"
  runfctl fn deploy priv2 - <"$TEST_DIR/priv2.tar"
  for prog in "$FAAS_DIR"/store/rootfs/*/suid-whoami "$FAAS_DIR"/store/rootfs/*/sgid-whoami; do
    run runuser -u nobody -- "$prog"
    [[ "$output" != *"euid=0"* && "$output" != *"shadow=read"* ]] || { echo "$prog: $output"; return 1; }
  done
}

@test "an instance's mounts are nodev and nosuid, but for /dev's default devices" {
  runfctl fn deploy mnt - <"$FN_IMAGE"
  run curl -sS "$(fn_url mnt)/read//proc/self/mountinfo"
  [ "$status" -eq 0 ]
  echo "$output"
  # Field 5 is the mount point, field 6 the per-mount options.
  root=$(echo "$output" | awk '$5 == "/" { print $6 }')
  [[ "$root" == *nosuid* && "$root" == *nodev* ]]
  # /dev's default devices, and /dev/null bound over masked files of /proc
  # (field 4, the mount's root in its file system, is /null then).
  echo "$output" | awk '$5 != "/dev" && $5 !~ /^\/dev\// && $4 != "/null" && !($6 ~ /nodev/) { bad = bad $5 " " }
                        END { if (bad) { print "without nodev: " bad; exit 1 } }'
  # As root /dev is the spawner's template holding the nodes themselves:
  # one mount, none below it (rootless, the host's nodes are bound there).
  if is_root; then
    [ "$(echo "$output" | awk '$5 == "/dev" || $5 ~ /^\/dev\// { n++ } END { print n + 0 }')" -eq 1 ]
  fi
}

@test "an instance starts with every signal at its default action and none blocked, though runfd ignores some" {
  # runfd runs in the background of a shell, which ignores SIGINT and
  # SIGQUIT for it; an ignored signal stays ignored across exec.
  runfd_ign=$(awk '/^SigIgn/ { print $2 }' "/proc/$(cat "$FAAS_DIR/runfd.pid")/status")
  [ "$runfd_ign" != 0000000000000000 ] || { echo "runfd ignores no signal: nothing to prove"; return 1; }
  runfctl fn deploy sigs - <"$FN_IMAGE"
  run curl -sS "$(fn_url sigs)/read//proc/self/status"
  [ "$status" -eq 0 ]
  echo "$output" | grep '^Sig'
  [ "$(echo "$output" | grep -c -E '^Sig(Ign|Blk):[[:space:]]+0000000000000000$')" -eq 2 ]
}

@test "as root, every instance is under runc's default device rules" {
  requires_root
  runfctl fn deploy devrules - <"$FN_IMAGE"
  run curl -sS "$(fn_url devrules)/read//proc/self/cgroup"
  [ "$status" -eq 0 ]
  if grep -q devices /proc/self/cgroup; then
    # v1: the instance's devices cgroup is runfd's, whose list is runc's.
    path=$(echo "$output" | awk -F: '$2 ~ /(^|,)devices(,|$)/ { print $3 }')
    [[ "$path" == /runfd/*/spawners ]]
    mnt=$(awk '$9 == "cgroup" && $NF ~ /devices/ { print $5 }' /proc/self/mountinfo | head -1)
    list=$(cat "$mnt$path/devices.list")
    echo "$list"
    [[ "$list" != *"a *:* rwm"* ]]
    [[ "$list" == *"c 1:3 rwm"* ]]
  else
    # v2: an eBPF device program on runfd's cgroup.
    path=$(echo "$output" | awk -F: '$1 == "0" { print $3 }')
    [[ "$path" == /runfd/* ]]
    run bpftool cgroup show "/sys/fs/cgroup/${path#/}" 2>/dev/null || skip "bpftool not here"
    [[ "$output" == *device* ]]
  fi
  # A device node planted in the shared rootfs behind runfd's back (as an
  # older store may hold) is still out of reach: nodev, and the rules.
  rootfs=$(ls -d "$FAAS_DIR"/store/rootfs/*/ | head -1)
  mknod "$rootfs/planted-kmsg" c 1 11
  run curl -sS "$(fn_url devrules)/write/planted-kmsg"
  rm -f "$rootfs/planted-kmsg"
  [[ "$output" == error:* ]]
}
