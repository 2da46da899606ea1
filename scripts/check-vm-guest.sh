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
say "PID 1 is $pid1, /sys/fs/cgroup is $fs, kernel $(uname -r)," \
  "controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null)"
if [ "$pid1" != systemd ] || [ "$fs" != cgroup2fs ]; then
  say "not a systemd host with pure cgroup v2: nothing run"
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
t0=$SECONDS
UNIT=0 TESTS="$tests" SUITE_TIMEOUT=${SUITE_TIMEOUT:-2400} \
  "$top/scripts/run-tests.sh" "$top/build" >"$out/results.tap" 2>&1
status=$?
# run-tests.sh ends with its failures (if any) and the counts.
awk '/^Failed:/ { p = 1 } p' "$out/results.tap" >>"$out/summary"
grep -q '^Failed:' "$out/results.tap" || tail -1 "$out/results.tap" >>"$out/summary"
say "the tests took $((SECONDS - t0)) s"
