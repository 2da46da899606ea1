# CRIU for the checkpoint tests (runtime/checkpoint.bats and
# engines/podman_checkpoint.bats): RUNF_TEST_CRIU (a path) or the criu in
# PATH, probed once per file.  criu_probe sets
#   CRIU_BIN   a wrapper the tests run as runf's --criu, and that is "criu"
#              in CRIU_DIR for the engines (podman finds criu in PATH)
#   CRIU_SKIP  why CRIU cannot checkpoint on this host (then the tests that
#              need it skip with this reason), or empty
#   CRIU_MEMTRACK  yes when CRIU can track memory changes (--pre-dump)
#   CRIU_TCP_SKIP  why CRIU cannot save a TCP connection here, or empty
# and criu_cleanup removes what it made.

criu_probe() {
  local criu=${RUNF_TEST_CRIU:-} out rc pid env=""
  CRIU_SKIP=""
  CRIU_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runf-criu.XXXXXX")
  chmod 755 "$CRIU_DIR"
  if [ -z "$criu" ]; then
    criu=$(PATH=$PATH:/usr/sbin:/sbin command -v criu || true)
  fi
  if [ -z "$criu" ] || [ ! -x "$criu" ]; then
    CRIU_SKIP="criu is not installed (Debian's criu package; or RUNF_TEST_CRIU=/path/to/criu)"
    return 0
  fi
  if ! is_root; then
    CRIU_SKIP="CRIU needs root on the host"
    return 0
  fi
  local version
  version=$("$criu" --version 2>/dev/null | awk '/^Version:/ {print $2}')
  if ! out=$("$criu" check 2>&1 3>&-); then
    CRIU_SKIP="criu $version ($criu) refuses kernel $(uname -r): criu check: $(grep -m1 'Error' <<<"$out" | sed 's/^([^)]*) //')"
    return 0
  fi
  # A dump of a sleeping process (left running).  Where ptrace's hardware
  # breakpoints never fire (seen in a Firecracker guest), CRIU waits for
  # them forever after removing its parasite; CRIU_FAULT=130 is CRIU's own
  # switch to step by system calls instead.
  # (bats' fd 3 closed: bats waits for whoever holds it.)
  setsid sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
  pid=$!
  mkdir "$CRIU_DIR/probe" "$CRIU_DIR/probe2"
  rc=0
  timeout 10 "$criu" dump --leave-running -t "$pid" -D "$CRIU_DIR/probe" -o dump.log >/dev/null 2>&1 3>&- || rc=$?
  if [ "$rc" -eq 124 ] &&
    CRIU_FAULT=130 timeout 10 "$criu" dump --leave-running -t "$pid" -D "$CRIU_DIR/probe2" -o dump.log >/dev/null 2>&1 3>&-; then
    env="export CRIU_FAULT=130"
    rc=0
  fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    local why
    why=$(grep -h 'Error' "$CRIU_DIR"/probe*/dump.log 2>/dev/null | grep -v RLIMIT_NOFILE | head -1 | sed 's/^([^)]*) //')
    [ "$rc" -eq 124 ] && why="it hangs${why:+ ($why)}"
    CRIU_SKIP="criu $version ($criu) cannot dump a sleeping process on kernel $(uname -r): ${why:-exit status $rc}"
    return 0
  fi
  CRIU_BIN=$CRIU_DIR/criu
  printf '#!/bin/sh\n%s\nexec %s "$@"\n' "$env" "$criu" >"$CRIU_BIN"
  chmod 755 "$CRIU_BIN"
  CRIU_NOTE="criu $version${env:+ with CRIU_FAULT=130 (no hardware breakpoints here)}"
  # An established TCP connection (both ends in one process, in a network
  # namespace of its own): kernels change what CRIU reads of sockets.
  CRIU_TCP_SKIP=""
  mkdir "$CRIU_DIR/tcp"
  setsid unshare -n python3 -c '
import os, socket, sys, time
os.system("ip link set lo up")
s = socket.socket(); s.bind(("127.0.0.1", 7000)); s.listen(1)
c = socket.create_connection(("127.0.0.1", 7000)); a, _ = s.accept()
open(sys.argv[1], "w").write("ready")
time.sleep(1000)' "$CRIU_DIR/tcp-ready" </dev/null >/dev/null 2>&1 3>&- &
  pid=$!
  for _ in $(seq 100); do [ -s "$CRIU_DIR/tcp-ready" ] && break; sleep 0.05; done
  if ! "$CRIU_BIN" dump --tcp-established --leave-running -t "$pid" -D "$CRIU_DIR/tcp" -o dump.log >/dev/null 2>&1 3>&-; then
    CRIU_TCP_SKIP="criu $version cannot dump an established TCP connection on kernel $(uname -r): $(grep -h 'Error' "$CRIU_DIR/tcp/dump.log" 2>/dev/null | grep -v RLIMIT_NOFILE | head -1 | sed 's/^([^)]*) //')"
  fi
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  # --pre-dump needs the kernel's soft-dirty bits.
  CRIU_MEMTRACK=no
  "$CRIU_BIN" check --feature mem_dirty_track >/dev/null 2>&1 3>&- && CRIU_MEMTRACK=yes
  [ "$CRIU_MEMTRACK" = yes ] || CRIU_NOTE="$CRIU_NOTE, no memory tracking"
  return 0
}

criu_cleanup() {
  [ -n "${CRIU_DIR:-}" ] && rm -rf "$CRIU_DIR"
  return 0
}

requires_criu() {
  [ -z "${CRIU_SKIP:-}" ] || skip "$CRIU_SKIP"
}
