#!/bin/bash
# The guest's half of make check-vm (scripts/check-vm.sh boots the guest;
# its runf-check.service runs this once the system is up):
#
#   check-vm-guest.sh TOP OUT
#
# TOP is the checkout, shared read-only; OUT a writable share where this
# leaves results.tap (every line), summary (the failures and the
# "N passed, N failed" line) and status (the exit status).  The guest powers
# off when this returns.
set -u
top=$1
out=$2
export HOME=/root
status=2
trap 'echo $status >"$out/status"' EXIT

say() { echo "check-vm-guest: $*" | tee -a "$out/summary"; }

# What kind of host this is; the run means nothing on another.
pid1=$(cat /proc/1/comm)
fs=$(stat -fc %T /sys/fs/cgroup)
layout=$(cat "$out/cgroup" 2>/dev/null || echo v2)
if [ "$layout" = hybrid ]; then
  want=tmpfs controllers="v1: $(cd /sys/fs/cgroup && echo */ | tr -d /), v2 at unified: $(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)"
else
  want=cgroup2fs controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)
fi
say "PID 1 is $pid1, /sys/fs/cgroup is $fs, kernel $(uname -r), controllers: $controllers"
if [ "$pid1" != systemd ] || [ "$fs" != "$want" ]; then
  say "not a systemd host with the cgroup layout asked for ($layout): nothing run"
  exit
fi
# The binaries were built on the host: they must find every library here.
for b in "$top"/build/bin/*; do
  if ldd "$b" 2>&1 | grep -q 'not found'; then
    say "$(basename "$b") lacks libraries in the guest: $(ldd "$b" | grep 'not found' | tr -s ' \t\n' ' ')"
    exit
  fi
done

"$top/scripts/test-user.sh" >/dev/null || { say "could not make the test user"; exit; }

tests=$(cat "$out/tests")
say "running: $tests"

# Whether process $1 ended within 30 s.
wait_a_bit() {
  local i
  for i in $(seq 30); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 1
  done
  return 1
}

# run LABEL [VAR=VALUE...]: run-tests.sh on the shared build; its failures
# and counts go to the summary, its status to the total.
run() {
  local label=$1 rc t0=$SECONDS
  shift
  env "$@" UNIT=0 TESTS="$tests" SUITE_TIMEOUT="${SUITE_TIMEOUT:-2400}" \
    "$top/scripts/run-tests.sh" "$top/build" >"$out/$label.tap" 2>&1 &
  local pid=$!
  # Progress on the console every 30 s (under TCG a pass takes many
  # minutes): the counts of the suite bats is writing now.
  while ! wait_a_bit "$pid"; do
    echo "check-vm-guest: $label: $(cat /tmp/runf-logs.*/integration-*.tap 2>/dev/null |
      awk '/^ok/ { o++ } /^not ok/ { n++ } END { printf "%d ok, %d not ok so far", o, n }')"
  done
  wait "$pid"
  rc=$?
  cat "$out/$label.tap" >>"$out/results.tap"
  say "$label ($((SECONDS - t0)) s):"
  awk '/^Failed:/ { p = 1 } p' "$out/$label.tap" >>"$out/summary"
  grep -q '^Failed:' "$out/$label.tap" || tail -1 "$out/$label.tap" >>"$out/summary"
  [ $rc -eq 0 ] || status=1
}

status=0
# As root, and as runftest from a system service: no session, so no
# delegated cgroup (the rootless tests' "without a cgroup" case).
run plain
# As runftest in a scope of its own systemd --user manager with
# Delegate=yes, as a desktop or ssh session user has: the rootless
# containers get cgroups below it.
uid=$(id -u runftest)
if ! loginctl enable-linger runftest; then
  say "loginctl enable-linger runftest failed: no delegated rootless run"
  status=1
elif ! timeout 120 sh -c "until [ -S /run/user/$uid/bus ]; do sleep 1; done"; then
  say "runftest's systemd --user manager did not start within 120 s: no delegated rootless run"
  status=1
else
  run delegated ROOT=0 ROOTLESS_WRAP="env XDG_RUNTIME_DIR=/run/user/$uid \
DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus systemd-run --user --scope --quiet -p Delegate=yes --"
fi
