#!/bin/bash
# make check-vm: run the runtime's cgroup tests on a modern host, Debian 12
# with systemd as PID 1 and pure cgroup v2, booted under qemu.  The
# development machines are hybrid without systemd, so this is where runf's
# v2 controllers meet a host as most users have it.
#
#   scripts/check-vm.sh BUILD
#
# The guest is Debian 12 from debootstrap with Debian's linux-image-amd64,
# on a raw ext4 image made by mkfs.ext4 -d (no loop mounts, nothing of root's
# left on the host), kept in BUILD/vm and made again only when the recipe
# below changes.  Each boot runs on a throwaway overlay of it (qemu's
# snapshot=on), so every run starts from the same image.  The checkout is
# shared in read-only over 9p: the guest runs the binaries built here (they
# need only Debian 12's libraries, which the image has).  The guest runs
# scripts/check-vm-guest.sh, writes its results to a second 9p share and
# powers off; this script prints the summary and returns the tests' status.
#
# KVM where /dev/kvm is usable, else software emulation (TCG: slow, a boot
# takes a minute or two).  Knobs: VM_TESTS (integration files, relative to
# tests/integration), VM_TIMEOUT (seconds for the whole boot and run),
# VM_MEM (MiB), VM_CPUS, VM_MIRROR (the Debian archive; default the one apt
# uses here), VM_CGROUP (v2, the default: pure cgroup v2; or hybrid: systemd
# with the v1 controllers and its v2 hierarchy at /sys/fs/cgroup/unified,
# as Debian 10 and 11 shipped, for the systemd driver on v1).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: check-vm.sh BUILD}" && pwd)
vm=$build/vm
image=$vm/root.raw
console=$vm/console.log

die() { echo "check-vm: $*" >&2; exit 2; }
# Interrupted or killed: the EXIT traps below still clean up.
trap 'exit 130' INT TERM HUP

[ "$(id -u)" = 0 ] || die "needs root (debootstrap and the 9p share of the build)"

# --- the host's tools -------------------------------------------------------
host_tools() {
  local missing="" p
  for p in qemu-system-x86 debootstrap e2fsprogs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing="$missing $p"
  done
  [ -z "$missing" ] && return 0
  echo "check-vm: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null; } ||
    die "could not install$missing"
}

# The Debian archive apt uses here (deb822 .sources or one-line lists).
debian_mirror() {
  [ -n "${VM_MIRROR:-}" ] && { echo "$VM_MIRROR"; return; }
  local m
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
        /^$/ { if (uri != "" && suites ~ /(^| )bookworm( |$)/) { print uri; exit } uri = ""; suites = "" }
        /^URIs:/ { uri = $2 }
        /^Suites:/ { $1 = ""; suites = $0 " " }
        END { if (uri != "" && suites ~ /(^| )bookworm( |$)/) print uri }' | head -1)
  [ -z "$m" ] && m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                      awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  echo "${m:-http://deb.debian.org/debian}"
}

# --- the image ----------------------------------------------------------------
# Runtime packages only: what the binaries link (libc; runfctl and runfd
# also jansson, libarchive, libcurl, libcrypto, zlib, libyaml) and what the
# tests call.  systemd-sysv makes systemd PID 1; libpam-systemd and
# dbus-user-session give the test user a systemd --user manager with a
# delegated cgroup.  criu for checkpoint.bats: Debian 12's kernel is one
# Debian's criu 3.17 works on (the development machines' kernel is not).
# iptables: CRIU locks the network with iptables-restore.
GUEST_PACKAGES=systemd-sysv,udev,dbus,dbus-user-session,libpam-systemd,\
linux-image-amd64,initramfs-tools,kmod,e2fsprogs,\
bats,jq,curl,busybox-static,uidmap,iproute2,util-linux,procps,strace,criu,iptables,\
python3,libjansson4,libseccomp2,libarchive13,libcurl4,libssl3,zlib1g,libyaml-0-2
# The engines, for their tests with the systemd cgroup drivers that only a
# systemd host has (docker's whole file runs with that driver there):
# installed with apt in the new root after debootstrap (whose resolver does
# not get podman's dependencies configured).  apparmor: Debian's kernel has
# AppArmor on, and dockerd then loads its docker-default profile (which
# runf applies) with apparmor_parser.
ENGINE_PACKAGES="podman conmon catatonit containerd docker.io apparmor"


# Everything that decides what the image holds; its hash names the image.
recipe() {
  declare -f make_image install_engines
  echo "$GUEST_PACKAGES $ENGINE_PACKAGES"
}

install_engines() {
  local root=$1 rc=0
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  {
    chroot "$root" apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive chroot "$root" apt-get install -y -q --no-install-recommends \
        $ENGINE_PACKAGES
  } >"$vm/apt-engines.log" 2>&1 || rc=$?
  umount "$root/proc"
  [ $rc -eq 0 ] || { tail -20 "$vm/apt-engines.log" >&2; die "apt-get install $ENGINE_PACKAGES failed (log: $vm/apt-engines.log)"; }
  chroot "$root" apt-get clean
  # The tests start containerd and dockerd on configs of their own.
  chroot "$root" systemctl mask -q containerd.service docker.service docker.socket 2>/dev/null || true
}

make_image() {
  local root=$1 mirror
  mirror=$(debian_mirror)
  echo "check-vm: debootstrap bookworm from $mirror (a few minutes)"
  debootstrap --variant=minbase --include="$GUEST_PACKAGES" bookworm "$root" "$mirror" \
    >"$vm/debootstrap.log" 2>&1 || { tail -20 "$vm/debootstrap.log" >&2; die "debootstrap failed (log: $vm/debootstrap.log)"; }
  install_engines "$root"
  echo runf-vm >"$root/etc/hostname"
  printf '127.0.0.1 localhost\n127.0.1.1 runf-vm\n::1 localhost\n' >"$root/etc/hosts"
  cat >"$root/etc/fstab" <<'EOF'
/dev/vda / ext4 rw,errors=remount-ro 0 1
EOF
  # The 9p modules, so that the share mounts before anything asks for it.
  printf '9p\n9pnet_virtio\n' >"$root/etc/modules-load.d/9p.conf"
  # Nothing slow or irrelevant on the boot path; no login prompt waiting.
  chroot "$root" systemctl mask -q systemd-timesyncd.service apt-daily.timer \
    apt-daily-upgrade.timer man-db.timer e2scrub_reap.service \
    serial-getty@ttyS0.service getty@tty1.service 2>/dev/null || true
  cat >"$root/etc/systemd/system/runf-check.service" <<'EOF'
[Unit]
Description=runf check-vm tests
After=multi-user.target systemd-logind.service systemd-user-sessions.service
Wants=systemd-logind.service
# Unit settings: in [Service] systemd ignores them, and the guest stayed
# up until the script's time limit.
SuccessAction=poweroff-force
FailureAction=poweroff-force

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /mnt/top /mnt/out && mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,ro top /mnt/top && mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 out /mnt/out && exec /mnt/top/scripts/check-vm-guest.sh /mnt/top /mnt/out'
StandardOutput=journal+console
StandardError=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
EOF
  chroot "$root" systemctl enable -q runf-check.service
  # The kernel and initramfs boot from outside the image.
  cp "$root/boot/vmlinuz-"* "$vm/vmlinuz.new"
  cp "$root/boot/initrd.img-"* "$vm/initrd.img.new"
  rm -rf "$root/var/cache/apt/archives/"*.deb
}

host_tools
mkdir -p "$vm"
want=$(recipe | sha256sum | cut -c1-16)
if [ "$(cat "$vm/image.stamp" 2>/dev/null)" != "$want" ] || [ ! -f "$image" ]; then
  t0=$SECONDS
  rm -f "$image" "$vm/image.stamp"
  # Outside the build tree (make reads every *.d below it, and the tree
  # has /etc/rc2.d and the like).  debootstrap mounts proc and sys in it;
  # whatever happens, nothing stays mounted and the half-made tree goes.
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/runf-vm-root.XXXXXX")
  cleanup_root() {
    local m
    for m in $(awk -v r="$root" '$2 ~ "^" r { print $2 }' /proc/mounts | sort -r); do
      umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$root"
  }
  trap cleanup_root EXIT
  make_image "$root"
  # An ext4 image filled from the tree, owners and modes kept, no mount.
  mkfs.ext4 -q -F -L runf-vm -d "$root" "$image.new" 3G >/dev/null || die "mkfs.ext4 -d failed"
  cleanup_root
  trap - EXIT
  mv "$vm/vmlinuz.new" "$vm/vmlinuz"
  mv "$vm/initrd.img.new" "$vm/initrd.img"
  mv "$image.new" "$image"
  echo "$want" >"$vm/image.stamp"
  echo "check-vm: image made in $((SECONDS - t0)) s ($image)"
fi

# --- the run ------------------------------------------------------------------
[ -x "$build/bin/runf" ] && [ -d "$build/fixtures/rootfs" ] ||
  die "$build has no runf or fixtures: run make all unit fixtures examples first"
out=$(mktemp -d "$vm/out.XXXXXX")
qpid=""
finish() {
  # Never leave a qemu behind: it is ours alone (its pid), killed if still there.
  if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
    kill "$qpid" 2>/dev/null || true
    sleep 1
    kill -9 "$qpid" 2>/dev/null || true
  fi
  rm -rf "$out"
}
trap finish EXIT
chmod 777 "$out"
# What the guest runs: the files named here, each as root and as runftest.
printf '%s\n' "${VM_TESTS:-runtime/cgroups.bats runtime/cgroups_v2.bats runtime/mounts.bats runtime/cgroups_systemd.bats runtime/lifecycle.bats runtime/exec.bats runtime/ps.bats runtime/userns.bats runtime/namespaces.bats runtime/checkpoint.bats runtime/lsm.bats engines/podman.bats engines/containerd.bats engines/docker.bats}" >"$out/tests"

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  accel=(-accel kvm -cpu host)
  kind=KVM
  timeout_s=${VM_TIMEOUT:-1800}
else
  accel=(-accel tcg,thread=multi -cpu max)
  kind="TCG (software emulation: slow)"
  timeout_s=${VM_TIMEOUT:-5400}
fi
case ${VM_CGROUP:-v2} in
v2) unified=1 ;;
hybrid) unified=0 ;;
*) die "VM_CGROUP=${VM_CGROUP}: expected v2 or hybrid" ;;
esac
echo "${VM_CGROUP:-v2}" >"$out/cgroup"
cpus=${VM_CPUS:-$(nproc)}
echo "check-vm: booting Debian 12 (cgroup ${VM_CGROUP:-v2}) under qemu with $kind, $cpus cpus; console: $console; limit ${timeout_s}s"
t0=$SECONDS
: >"$console"
qemu-system-x86_64 "${accel[@]}" -machine q35 -smp "$cpus" -m "${VM_MEM:-2048}" \
  -display none -monitor none -serial "file:$console" -no-reboot \
  -kernel "$vm/vmlinuz" -initrd "$vm/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 panic=-1 systemd.unified_cgroup_hierarchy=$unified systemd.show_status=1" \
  -drive "file=$image,format=raw,if=virtio,snapshot=on,cache=unsafe" \
  -virtfs "local,path=$top,mount_tag=top,security_model=none,readonly=on" \
  -virtfs "local,path=$out,mount_tag=out,security_model=none" \
  -nic none &
qpid=$!
rc=0
# A bounded wait: the guest powers off when done; past the limit it is killed.
deadline=$((SECONDS + timeout_s))
while kill -0 "$qpid" 2>/dev/null; do
  if [ $SECONDS -ge $deadline ]; then
    echo "check-vm: the guest did not finish within ${timeout_s}s: killed (console: $console)" >&2
    rc=124
    break
  fi
  sleep 2
done
if [ $rc -eq 0 ]; then
  wait "$qpid" || { rc=$?; echo "check-vm: qemu exited with status $rc (console: $console)" >&2; }
  qpid=""
fi
echo "check-vm: the guest ran for $((SECONDS - t0)) s"
if [ -f "$out/summary" ]; then
  cp "$out/results.tap" "$vm/results.tap" 2>/dev/null || true
  cat "$out/summary"
fi
if [ ! -f "$out/status" ]; then
  echo "check-vm: the guest reported no result; the end of its console:" >&2
  tail -30 "$console" >&2
  exit $((rc ? rc : 2))
fi
exit "$(cat "$out/status")"
