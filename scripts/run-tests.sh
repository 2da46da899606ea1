#!/bin/bash
# Run every test: the unit tests (plain and under ASan+UBSan), then the
# integration tests as root and as an unprivileged user.  The last line is
# "N passed, N failed" (", N skipped" when any were); the exit status is
# non-zero when anything failed.
#
# While working on one part: TESTS="faas/runfd.bats runtime" runs only those
# integration files or directories (relative to tests/integration), and
# UNIT=0 skips the unit tests.  ROOT=0 skips the run as root; ROOTLESS_WRAP
# is a command the unprivileged run goes through (check-vm-guest.sh puts it
# in a delegated systemd --user scope that way), its label then
# "rootless-delegated".
set -u
build=$(cd "$1" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
logs=$(mktemp -d /tmp/runf-logs.XXXXXX)
stage=$(mktemp -d /tmp/runf-check.XXXXXX)
xdg=""
cleanup() {
  rm -rf "$stage" "$logs"
  [ -n "$xdg" ] && rm -rf "$xdg"
}
trap cleanup EXIT

# bats 1.8's BATS_TEST_TIMEOUT holds every file for the whole timeout, so
# a hang is bounded per suite instead.
suite_timeout=${SUITE_TIMEOUT:-2400}

# --- unit tests -------------------------------------------------------------
for t in "$build"/unit/test_* "$build"/unit-san/test_*; do
  [ "${UNIT:-1}" = 0 ] && break
  [ -x "$t" ] || continue
  kind=$(basename "$(dirname "$t")")
  name="$kind/$(basename "$t")"
  log="$logs/unit-${kind}-$(basename "$t").tap"
  CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1 \
    timeout 300 "$t" >"$log" 2>"$log.err"
  rc=$?
  sed "s|^|[$name] |" "$log"
  if [ $rc -ne 0 ] && ! grep -q '^not ok' "$log"; then
    echo "not ok - $name exited with status $rc" >>"$log"
    echo "[$name] not ok - exited with status $rc"
    sed 's/^/    /' "$log.err" | head -40
  elif grep -q '^not ok' "$log"; then
    sed 's/^/    /' "$log.err" | head -40
  fi
done

# --- integration tests -----------------------------------------------------
# Staged where an unprivileged user can read them, whatever the checkout's
# permissions are.
chmod 755 "$stage"
mkdir -p "$stage/build"
cp -a "$build/bin" "$build/fixtures" "$stage/build/"
[ -d "$build/helpers" ] && cp -a "$build/helpers" "$stage/build/"
[ -d "$build/examples" ] && cp -a "$build/examples" "$stage/build/"
[ -d "$build/share" ] && cp -a "$build/share" "$stage/build/"
mkdir -p "$stage/tests"
cp -a "$top/tests/integration" "$stage/tests/"
chmod -R a+rX "$stage"

run_bats() { # label user
  local label=$1 log="$logs/integration-$1.tap"
  shift
  local targets=("$stage/tests/integration") t
  if [ -n "${TESTS:-}" ]; then
    targets=()
    for t in $TESTS; do targets+=("$stage/tests/integration/$t"); done
  fi
  timeout -k 10 "$suite_timeout" "$build/helpers/reaper" "$@" bats --tap -r "${targets[@]}" >"$log" 2>&1
  rc=$?
  sed "s/^/[$label] /" "$log"
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
    echo "not ok - the $label integration suite timed out after ${suite_timeout}s" | tee -a "$log"
  fi
}

[ "${ROOT:-1}" = 0 ] || run_bats root env RUNF_TEST_TOP="$stage"

if "$top/scripts/test-user.sh" >/dev/null; then
  user=runftest
  xdg=$(mktemp -d /tmp/runf-xdg.XXXXXX)
  chown "$user:" "$xdg"
  chmod 700 "$xdg"
  # shellcheck disable=SC2086 # ROOTLESS_WRAP is a command line
  run_bats "rootless${ROOTLESS_WRAP:+-delegated}" runuser -u "$user" -- ${ROOTLESS_WRAP:-} \
    env -i PATH="$PATH" HOME="$xdg" XDG_RUNTIME_DIR="$xdg" RUNF_TEST_TOP="$stage"
else
  echo "not ok - could not create the unprivileged test user" >"$logs/integration-user.tap"
fi

# --- summary ----------------------------------------------------------------
# A failure is listed with the diagnostic lines bats printed under it
# (at most 15), so the summary alone says why.
cat "$logs"/*.tap | awk '
  /^not ok/ { failed++; names = names "\n  " $0; diag = 0; infail = 1; next }
  infail && /^# / { if (diag++ < 15) names = names "\n      " $0; next }
  { infail = 0 }
  /^ok / && /# (skip|SKIP)/ { skipped++; next }
  /^ok / { passed++ }
  END {
    if (failed) print "\nFailed:" names
    line = sprintf("%d passed, %d failed", passed, failed)
    if (skipped) line = line sprintf(", %d skipped", skipped)
    print line
    exit failed ? 1 : 0
  }'
