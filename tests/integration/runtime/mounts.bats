#!/usr/bin/env bats
# root, mounts, /dev, maskedPaths, readonlyPaths, pivot_root: from inside.

load ../helpers

setup() { setup_bundle; }
teardown() {
  # A source the bind-flag tests mounted on the host.
  if [ -n "${TEST_DIR:-}" ] && is_root; then
    umount -l "$TEST_DIR/src" 2>/dev/null || true
  fi
  teardown_bundle
}

# The mountinfo line of a mount point inside the container.
mountinfo_of() { # output dest
  echo "$1" | awk -v d="$2" '$5 == d'
}

@test "root.path may be absolute, and is relative to the bundle otherwise" {
  mv "$BUNDLE/rootfs" "$TEST_DIR/elsewhere"
  update_config --arg p "$TEST_DIR/elsewhere" '.root.path = $p'
  set_args echo absolute
  run runf run t1
  [ "$output" = absolute ]
  mkdir "$BUNDLE/sub"
  mv "$TEST_DIR/elsewhere" "$BUNDLE/sub/root"
  update_config '.root.path = "sub/root"'
  set_args echo relative
  run runf run t2
  [ "$output" = relative ]
}

@test "root.readonly makes / read-only, and false leaves it writable" {
  set_args sh -c 'touch /x 2>&1 || echo refused'
  run runf run t1
  [[ "$output" == *refused* ]]
  update_config '.root.readonly = false'
  set_args sh -c 'touch /x && echo written'
  run runf run t2
  [ "$output" = written ]
  [ -e "$BUNDLE/rootfs/x" ]
}

@test "bind mounts with ro, nosuid, nodev, noexec; rbind carries submounts" {
  mkdir -p "$TEST_DIR/data/sub"
  echo hello >"$TEST_DIR/data/file"
  update_config --arg s "$TEST_DIR/data" '.mounts += [
      {"destination": "/data", "type": "bind", "source": $s, "options": ["bind", "ro", "nosuid", "nodev", "noexec"]},
      {"destination": "/etc/hostfile", "type": "bind", "source": "\($s)/file", "options": ["rbind", "ro"]}]'
  set_args sh -c 'cat /data/file; cat /etc/hostfile; touch /data/x 2>&1 || echo ro-refused; cat /proc/self/mountinfo'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = hello ]
  [ "${lines[1]}" = hello ]
  [[ "$output" == *ro-refused* ]]
  line=$(mountinfo_of "$output" /data)
  [[ "$line" == *" ro,nosuid,nodev,noexec"* ]]
}

@test "a relative bind source is relative to the bundle" {
  mkdir "$BUNDLE/shared"
  echo from-bundle >"$BUNDLE/shared/f"
  update_config '.mounts += [{"destination": "/shared", "type": "none", "source": "shared", "options": ["rbind"]}]'
  set_args cat /shared/f
  run runf run t1
  [ "$output" = from-bundle ]
}

@test "tmpfs with mode and size, relatime and strictatime" {
  update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=1770", "size=1m", "relatime"]}]'
  set_args sh -c 'stat -c %a /scratch; cat /proc/self/mountinfo'
  run runf run t1
  [ "${lines[0]}" = 1770 ]
  line=$(mountinfo_of "$output" /scratch)
  [[ "$line" == *"nosuid,relatime"* ]]
  [[ "$line" == *"size=1024k"* ]]
}

@test "mounts are made in order: a later mount covers an earlier one" {
  update_config '.mounts += [
      {"destination": "/stack", "type": "tmpfs", "source": "first", "options": ["size=1m"]},
      {"destination": "/stack", "type": "tmpfs", "source": "second", "options": ["size=2m"]}]'
  set_args sh -c 'grep " /stack " /proc/self/mountinfo | tail -1'
  run runf run t1
  [[ "$output" == *second* ]]
}

@test "proc, sysfs, devpts, mqueue, shm and cgroup are mounted" {
  set_args sh -c 'cat /proc/self/mountinfo'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$(mountinfo_of "$output" /proc)" == *" - proc "* ]]
  [[ "$(mountinfo_of "$output" /dev/pts)" == *" - devpts "* ]]
  [[ "$(mountinfo_of "$output" /dev/mqueue)" == *" - mqueue "* ]]
  [[ "$(mountinfo_of "$output" /dev/shm)" == *" - tmpfs "* ]]
  [[ "$(mountinfo_of "$output" /sys)" == *" ro,"* ]]
  cg=$(mountinfo_of "$output" /sys/fs/cgroup)
  [ -n "$cg" ]
}

@test "the cgroup mount shows the hierarchies read-only" {
  set_args sh -c 'ls /sys/fs/cgroup; touch /sys/fs/cgroup/x 2>/dev/null || echo refused'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$output" == *refused* ]]
  if cgroup_unified_p; then
    [[ "$output" == *cgroup.procs* ]]
  else
    # Exactly the mounted hierarchies: a directory below the host's
    # /sys/fs/cgroup that is no mount (podman leaves some) is not one.
    diff <(cgroup_container_names) <(printf '%s\n' "${lines[@]}" | grep -vx refused | sort)
  fi
}

@test "mount propagation options are applied" {
  requires_root
  update_config '.mounts += [{"destination": "/shared", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]},
                             {"destination": "/private", "type": "tmpfs", "source": "tmpfs", "options": ["private"]}]'
  set_args cat /proc/self/mountinfo
  run runf run t1
  [[ "$(mountinfo_of "$output" /shared)" == *" shared:"* ]]
  [[ "$(mountinfo_of "$output" /private)" != *" shared:"* ]]
}

@test "rootfsPropagation applies to the container's root" {
  requires_root
  update_config '.linux.rootfsPropagation = "rprivate"'
  set_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$output" != *shared:* ]]
  [[ "$output" != *master:* ]]
  update_config '.linux.rootfsPropagation = "rslave"'
  run runf run t2
  [ "$status" -eq 0 ]
  [[ "$output" == *master:* ]] || [[ "$output" != *shared:* ]]
}

# In a mount namespace of the test's own (private, so that nothing in it
# reaches the host's) where the bundle is a shared mount: start a
# container, mount a tmpfs at the rootfs' /later on that "host" side, and
# print the container's mountinfo.
propagation_from_host() {
  mkdir -p "$BUNDLE/rootfs/later"
  set_args sleep 100
  unshare -m --propagation private sh -c '
    mount --bind "$1" "$1" && mount --make-rshared "$1" || exit 101
    "$2" --root "$3" run -d t1 </dev/null >/dev/null 2>&1 || exit 102
    mount -t tmpfs runf-later "$1/rootfs/later" || exit 103
    "$2" --root "$3" exec t1 cat /proc/self/mountinfo' sh "$BUNDLE" "$RUNF_BIN" "$STATE_ROOT"
}

@test "the container's mounts are slaves of the host's: a host mount made after the start shows inside, none is shared" {
  requires_root
  run propagation_from_host
  [ "$status" -eq 0 ]
  [[ "$(mountinfo_of "$output" /later)" == *runf-later* ]]
  [[ "$output" != *" shared:"* ]]
}

@test "with a user namespace too (the kernel makes the copies slaves, runf does not walk them again)" {
  requires_root
  update_config '.linux.namespaces += [{"type": "user"}]
    | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  run propagation_from_host
  [ "$status" -eq 0 ]
  [[ "$(mountinfo_of "$output" /later)" == *runf-later* ]]
  [[ "$output" != *" shared:"* ]]
}

@test "the host sees none of the container's mounts" {
  set_args sleep 100
  update_config '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "runf-scratch-test"}]'
  runf_detached run -d t1
  ! grep -q runf-scratch-test /proc/self/mountinfo
  ! grep -q "$BUNDLE" /proc/self/mountinfo
}

@test "pivot_root leaves no trace of the host's root; --no-pivot works too" {
  set_args cat /proc/self/mountinfo
  run runf run t1
  [ "$status" -eq 0 ]
  # The root is the rootfs; the host's root file system is not mounted
  # anywhere else (it would show with "/" as its root).
  dev=$(echo "$output" | awk '$5 == "/" {print $3}')
  [ -n "$dev" ]
  [ "$(echo "$output" | awk -v d="$dev" '$3 == d && $4 == "/"' | wc -l)" -eq 0 ]
  if is_root; then
    run runf run --no-pivot t2
    [ "$status" -eq 0 ]
    [[ "$output" == *proc* ]]
  fi
}

@test "/dev has the default devices and symlinks" {
  set_args sh -c 'for d in null zero full random urandom tty; do stat -c "%n %t:%T %a" /dev/$d; done; for l in fd stdin stdout stderr ptmx; do readlink /dev/$l; done'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "/dev/null 1:3 666" ]
  [ "${lines[1]}" = "/dev/zero 1:5 666" ]
  [ "${lines[2]}" = "/dev/full 1:7 666" ]
  [ "${lines[3]}" = "/dev/random 1:8 666" ]
  [ "${lines[4]}" = "/dev/urandom 1:9 666" ]
  [ "${lines[5]}" = "/dev/tty 5:0 666" ]
  [ "${lines[6]}" = /proc/self/fd ]
  [ "${lines[7]}" = /proc/self/fd/0 ]
  [ "${lines[8]}" = /proc/self/fd/1 ]
  [ "${lines[9]}" = /proc/self/fd/2 ]
  [ "${lines[10]}" = pts/ptmx ]
}

@test "linux.devices creates the listed devices with mode and owner" {
  update_config '.linux.devices = [{"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 0, "gid": 0},
                                   {"path": "/dev/sub/fifo", "type": "p", "fileMode": 384}]'
  if ! is_root; then
    # No mknod in a user namespace: the host's node is bound, so it must exist.
    update_config '.linux.devices[0].path = "/dev/full"'
  fi
  set_args sh -c 'ls -l /dev/mynull /dev/full 2>/dev/null | head -2; stat -c "%F %a" /dev/sub/fifo; echo x >/dev/mynull 2>/dev/null || echo x >/dev/full 2>/dev/null; echo $?'
  run runf run t1
  [ "$status" -eq 0 ]
  [[ "$output" == *"fifo 600"* ]]
  if is_root; then
    [[ "${lines[0]}" == "crw-rw----"*"/dev/mynull" ]] || [[ "${lines[1]}" == "crw-rw----"*"/dev/mynull" ]]
  fi
}

@test "maskedPaths hide files and directories, readonlyPaths are read-only" {
  update_config '.linux.maskedPaths += ["/etc/passwd", "/root"] | .linux.readonlyPaths += ["/tmp"]
                 | .root.readonly = false'
  set_args sh -c 'wc -c </etc/passwd; ls /root | wc -l; cat /proc/kcore 2>/dev/null | wc -c; touch /tmp/x 2>&1 || echo tmp-ro; echo 1 >/proc/sys/kernel/domainname 2>&1 || echo sys-ro'
  touch "$BUNDLE/rootfs/root/secret"
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = 0 ]
  [ "${lines[1]}" = 0 ]
  [ "${lines[2]}" = 0 ]
  [[ "$output" == *tmp-ro* ]]
  [[ "$output" == *sys-ro* ]]
  [ -e "$BUNDLE/rootfs/etc/passwd" ]
}

@test "a symlink in the rootfs cannot make a mount land outside it" {
  update_config '.root.readonly = false'
  mkdir -p "$TEST_DIR/outside"
  ln -s "$TEST_DIR/outside" "$BUNDLE/rootfs/escape"
  ln -s ../../../../../../../../.. "$BUNDLE/rootfs/up"
  update_config '.mounts += [{"destination": "/escape/mnt", "type": "tmpfs", "source": "tmpfs"},
                             {"destination": "/up/tmp/evil", "type": "tmpfs", "source": "tmpfs"}]'
  set_args true
  run runf run t1
  [ "$status" -eq 0 ]
  [ ! -e "$TEST_DIR/outside/mnt" ]
  [ ! -e /tmp/evil ]
  # Both resolved inside the rootfs instead.
  [ -d "$BUNDLE/rootfs$TEST_DIR/outside/mnt" ]
  [ -d "$BUNDLE/rootfs/tmp/evil" ]
}

@test "a file bind mount creates its mount point as a file" {
  echo content >"$TEST_DIR/onefile"
  update_config '.root.readonly = false'
  update_config --arg s "$TEST_DIR/onefile" '.mounts += [{"destination": "/new/dir/onefile", "type": "bind", "source": $s, "options": ["bind"]}]'
  set_args cat /new/dir/onefile
  run runf run t1
  [ "$output" = content ]
  [ -f "$BUNDLE/rootfs/new/dir/onefile" ]
}

@test "a read-only /dev is filled first, then read-only" {
  update_config '.mounts |= map((select(.destination == "/dev") | .options += ["ro"]) // .)'
  set_args sh -c 'grep "^tmpfs /dev " /proc/mounts; echo x >/dev/null && echo null-ok; test -d /dev/pts && echo pts-ok; touch /dev/new 2>&1'
  run runf run t1
  [[ "${lines[0]}" == "tmpfs /dev tmpfs ro,"* ]]
  [ "${lines[1]}" = null-ok ]
  [ "${lines[2]}" = pts-ok ]
  [[ "${lines[3]}" == *"Read-only file system"* ]]
}

@test "proc on a /proc that is a symlink is refused in one line (CVE-2019-19921), nothing left" {
  rm -rf "$BUNDLE/rootfs/proc"
  mkdir -p "$BUNDLE/rootfs/bad-proc"
  ln -s /bad-proc "$BUNDLE/rootfs/proc"
  set_args true
  run timeout 30 "$RUNF_BIN" --root "$STATE_ROOT" run t1
  assert_one_error_line "must be mounted on an ordinary directory"
  assert_no_leftovers
  # sysfs too (a rootless config binds the host's /sys instead, which a
  # symlink cannot misdirect: it lands inside the rootfs).
  if [ "$(jq -r '.mounts[] | select(.destination == "/sys") | .type' "$BUNDLE/config.json")" = sysfs ]; then
    rm "$BUNDLE/rootfs/proc" && mkdir "$BUNDLE/rootfs/proc"
    rm -rf "$BUNDLE/rootfs/sys" && ln -s /bad-proc "$BUNDLE/rootfs/sys"
    run timeout 30 "$RUNF_BIN" --root "$STATE_ROOT" run t1
    assert_one_error_line "must be mounted on an ordinary directory"
  fi
}

@test "a tmpfs takes the mode of the directory it covers unless mode= is given; a new one is 1777" {
  update_config '.root.readonly = false'
  mkdir -p "$BUNDLE/rootfs/covered" "$BUNDLE/rootfs/given"
  chmod 'a=rwx,ug+s,+t' "$BUNDLE/rootfs/covered"
  chmod 0710 "$BUNDLE/rootfs/given"
  update_config '.mounts += [{"destination": "/covered", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]},
                             {"destination": "/given", "type": "tmpfs", "source": "tmpfs", "options": ["mode=0410"]},
                             {"destination": "/new/a/b", "type": "tmpfs", "source": "tmpfs", "options": ["ro"]}]'
  set_args stat -c '%n %a' /covered /given /new/a/b
  run runf run t1
  [ "$status" -eq 0 ]
  [ "${lines[0]}" = "/covered 7777" ]
  [ "${lines[1]}" = "/given 410" ]
  [ "${lines[2]}" = "/new/a/b 1777" ]
  # The image's directories themselves are untouched.
  [ "$(stat -c %a "$BUNDLE/rootfs/given")" = 710 ]
  [ "$(stat -c %a "$BUNDLE/rootfs/new/a")" = 755 ]
}

@test "rootfsPropagation shared is for / only: an rbind of / unmounted lazily leaves the container's /proc" {
  requires_root
  update_config '.root.readonly = false | .linux.rootfsPropagation = "shared"
      | .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"]
      | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
  set_args sh -c 'mkdir -p /target && mount --rbind / /target && umount -l /target && test -r /proc/self/mountinfo && echo proc-still-there'
  run runf run t1
  [ "$status" -eq 0 ]
  [ "$output" = proc-still-there ]
  # The root mount itself is shared.
  set_args sh -c 'awk "\$5 == \"/\"" /proc/self/mountinfo'
  run runf run t2
  [[ "$output" == *shared:* ]]
}

@test "--no-pivot does not leave the host's whole /proc for a nested user namespace to mount a fresh one" {
  requires_root
  update_config '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"]'
  set_args unshare -mrpf sh -c 'mount -t proc none /proc && echo mounted'
  run runf run --no-pivot t1
  [ "$status" -ne 0 ]
  [[ "$output" == *"mount: permission denied"* ]]
  [[ "$output" != *mounted* ]]
  # The container's own /proc and /sys are there.
  set_args sh -c 'test -r /proc/self/status && test -d /sys/kernel && echo ok'
  run runf run --no-pivot t2
  [ "$output" = ok ]
}

# The flags of a bind mount as runc 1.2 makes them: the source's unless the
# config names some; those asked for exactly, where the kernel lets them
# be changed; where the source's are locked (a mount from a more privileged
# user namespace), those kept, and an error for a locked one the config
# clears or an atime mode it changes.
@test "bind mount flags: kept, set, cleared; locked ones kept, or an error when asked to undo them" {
  # Everything below runs in a user namespace of its own (unshare -r), where
  # the source is mounted: in the container's user namespace, its flags are
  # locked.  runf is rootless there, as root or not.
  rm "$BUNDLE/config.json"
  unshare -r "$RUNF_BIN" spec --rootless
  update_config '.process.terminal = false | .root.readonly = false'
  mkdir "$TEST_DIR/src"
  flags_of() { # options... -> the mount options /mnt gets, or the error
    update_config --argjson o "$(jq -cn '$ARGS.positional' --args -- "$@")" \
      '.mounts = [.mounts[] | select(.destination != "/mnt")] + [{"destination": "/mnt", "source": $src, "options": $o}]' \
      --arg src "$TEST_DIR/src"
    unshare -rm sh -c 'mount -t tmpfs -o nosuid,nodev,noexec,noatime tmpfs "$1/src" && shift &&
        "$@" run t1 2>&1' sh "$TEST_DIR" "$RUNF_BIN" --root "$STATE_ROOT"
  }
  set_args sh -c 'awk "\$2 == \"/mnt\" {print \$4}" /proc/mounts'
  run flags_of bind
  [[ "$output" == ro,* || "$output" == rw,* ]]
  [[ "$output" == *nosuid*nodev*noexec*noatime* ]]
  run flags_of bind ro
  [[ "$output" == ro,nosuid,nodev,noexec,noatime* ]]
  run flags_of bind suid
  [[ "$output" == *"remount \`/mnt\`: its source is nosuid, which this user namespace may not undo"* ]]
  run flags_of bind relatime
  [[ "$output" == *"its source is noatime, which this user namespace may not change"* ]]
  run flags_of bind noatime nodev
  [[ "$output" == rw,nosuid,nodev,noexec,noatime* ]]
}

@test "bind mount flags as root: exactly those asked for; a clearing flag alone remounts too" {
  requires_root
  mkdir "$TEST_DIR/src"
  mount -t tmpfs -o nosuid,nodev,noexec,noatime tmpfs "$TEST_DIR/src"
  # The mount's own options (mountinfo's sixth field): /proc/mounts adds
  # the file system's, which differ between kernels (6.1's tmpfs shows
  # inode64).
  set_args sh -c 'awk "\$5 == \"/mnt\" {print \$6}" /proc/self/mountinfo'
  # (As "mount --bind -o": the flags asked for and no others, so a
  # clearing flag alone clears them all; the atime mode stays unless one is
  # asked for.)
  for case in 'bind|rw,nosuid,nodev,noexec,noatime' 'bind,ro|ro,noatime' 'bind,suid|rw,noatime' \
              'bind,nodev,relatime|rw,nodev,relatime' 'bind,strictatime|rw'; do
    opts=${case%|*} want=${case#*|}
    update_config --arg s "$TEST_DIR/src" --arg o "$opts" \
      '.mounts = [.mounts[] | select(.destination != "/mnt")] + [{"destination": "/mnt", "source": $s, "options": ($o | split(","))}]'
    run runf run t1
    echo "$opts: $output"
    [ "$status" -eq 0 ]
    [ "$output" = "$want" ]
  done
  umount "$TEST_DIR/src"
}
