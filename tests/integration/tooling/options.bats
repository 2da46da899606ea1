#!/usr/bin/env bats
# Every option each program accepts, read from its own tables (runfctl
# __options; for runf and runfd, scripts/list-options.sh over their sources,
# run by the build), is in its --help, its man page (under its command) and
# its bash completion; the man pages render without a warning; the systemd
# units are valid.  Nothing here can drift from the code unnoticed.

load ../helpers
bats_require_minimum_version 1.5.0

RUNFCTL_BIN=$TOP/build/bin/runfctl
RUNFD_BIN=$TOP/build/bin/runfd
SHARE=$TOP/build/share

setup() {
  TEST_DIR=$(mktemp -d "${TMPDIR:-/tmp}/runf-tooling.XXXXXX")
}
teardown() {
  rm -rf "$TEST_DIR"
}

# A man page as plain ASCII text, wide enough that no option name breaks.
render() {
  LC_ALL=C MANWIDTH=200 man -E ascii -l "$1" 2>/dev/null
}

# The part of a rendered page under a heading: a section (.SH, at the
# margin) up to the next one, or a command's subsection (.SS, indented
# three) up to the next heading.
section() { # text heading
  awk -v h="$2" '
    !on && index($0, h) == 1 { on = 1; sub_level = 0; print; next }
    !on && index($0, h) == 4 { on = 1; sub_level = 1; print; next }
    on && /^[^ ]/ { exit }
    on && sub_level && /^   [^ ]/ { exit }
    on { print }' <<<"$1"
}

# What the completion function offers for the words given, the last being
# the one completed.
complete_words() { # script function words...
  local script=$1 fn=$2
  shift 2
  (
    # shellcheck disable=SC1090
    source "$script"
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMPREPLY=()
    "$fn" || true
    printf '%s\n' "${COMPREPLY[@]}"
  )
}

@test "runfctl: each command's options are in its --help, in runfctl(1) under it, and complete" {
  page=$(render "$SHARE/man/runfctl.1")
  "$RUNFCTL_BIN" __options >"$TEST_DIR/options"
  [ "$(wc -l <"$TEST_DIR/options")" -gt 100 ]
  while read -r group cmd opt; do
    [ "$group" = - ] && continue
    [ "$opt" = - ] && continue
    name=${opt%=}
    help=$("$RUNFCTL_BIN" "$group" "$cmd" --help)
    if [[ $name == --* ]]; then
      grep -qE -- "(^|[ ,])$name([ =[]|$)" <<<"$help" || { echo "runfctl $group $cmd --help lacks $name"; return 1; }
    else
      grep -qE -- "^  $name, --" <<<"$help" || { echo "runfctl $group $cmd --help lacks $name"; return 1; }
    fi
    sec=$(section "$page" "runfctl $group $cmd ")
    [ -n "$sec" ] || { echo "runfctl(1) has no section for runfctl $group $cmd"; return 1; }
    grep -qE -- "(^|[ ,])$name([ =[,]|$)" <<<"$sec" || { echo "runfctl(1) lacks $name under runfctl $group $cmd"; return 1; }
    if [[ $name == --* ]]; then
      complete_words "$SHARE/bash-completion/runfctl" _runfctl "$RUNFCTL_BIN" "$group" "$cmd" -- | grep -qx -- "$name" \
        || { echo "the completion of runfctl $group $cmd lacks $name"; return 1; }
    fi
  done <"$TEST_DIR/options"
  # The global options too.
  for name in $(awk '$1 == "-" {sub(/=$/, "", $3); print $3}' "$TEST_DIR/options"); do
    "$RUNFCTL_BIN" --help | grep -q -- "$name" || { echo "runfctl --help lacks $name"; return 1; }
    section "$page" "GLOBAL OPTIONS" | grep -q -- "$name" || { echo "runfctl(1) lacks the global $name"; return 1; }
  done
  # Every command is completed after its group, every group first.
  for group in image fn secret stack; do
    want=$(awk -v g="$group" '$1 == g && $3 == "-" {print $2}' "$TEST_DIR/options" | sort)
    got=$(complete_words "$SHARE/bash-completion/runfctl" _runfctl "$RUNFCTL_BIN" "$group" "" | grep -v '^help$' | sort)
    [ "$want" = "$got" ]
  done
  [ "$(complete_words "$SHARE/bash-completion/runfctl" _runfctl "$RUNFCTL_BIN" "" | sort | tr '\n' ' ')" = "deploy fn image rm secret stack " ]
}

@test "runfctl: every option that takes a value says its default (or that it is required)" {
  "$RUNFCTL_BIN" __man >"$TEST_DIR/man"
  # .TP, then the option line, then its text: options with a value
  # (\fI...) must name a default.
  awk '
    /^\.TP$/ { getline opt; getline text; if (opt ~ /\\fI/ && text !~ /default|required/) { print opt; bad = 1 } }
    END { exit bad }' "$TEST_DIR/man"
}

@test "runf: every option of src/runf's tables is in runf(8) under its command and in the completion" {
  page=$(render "$SHARE/man/runf.8")
  [ "$(wc -l <"$SHARE/options/runf.txt")" -gt 50 ]
  while read -r cmd name; do
    if [ "$cmd" = - ]; then
      sec=$(section "$page" "GLOBAL OPTIONS")
      want=$(complete_words "$SHARE/bash-completion/runf" _runf "$RUNF_BIN" --)
    else
      sec=$(section "$page" "runf $cmd ")
      want=$(complete_words "$SHARE/bash-completion/runf" _runf "$RUNF_BIN" "$cmd" --)
    fi
    [ -n "$sec" ] || { echo "runf(8) has no section for $cmd"; return 1; }
    grep -qE -- "(^|[ ,])$name([ ,]|$)" <<<"$sec" || { echo "runf(8) lacks $name under $cmd"; return 1; }
    grep -qx -- "$name" <<<"$want" || { echo "the completion of runf $cmd lacks $name"; return 1; }
  done <"$SHARE/options/runf.txt"
  # Every command runf has is completed and has a section.
  for cmd in $("$RUNF_BIN" --help | awk '/^Commands:/ {on = 1; next} on && /^  [a-z]/ {print $1} on && /^$/ {exit}'); do
    complete_words "$SHARE/bash-completion/runf" _runf "$RUNF_BIN" "" | grep -qx "$cmd" || { echo "no completion for $cmd"; return 1; }
    grep -q "^   runf $cmd" <<<"$page" || { echo "runf(8) has no section for $cmd"; return 1; }
  done
}

@test "runf --help lists its global options" {
  help=$("$RUNF_BIN" --help)
  for name in $(awk '$1 == "-" {print $2}' "$SHARE/options/runf.txt"); do
    grep -q -- "$name" <<<"$help" || { echo "runf --help lacks $name"; return 1; }
  done
}

@test "runfd: every option it accepts is in runfd --help, runfd(8) and the completion" {
  page=$(render "$SHARE/man/runfd.8")
  help=$("$RUNFD_BIN" --help)
  want=$(complete_words "$SHARE/bash-completion/runfd" _runfd "$RUNFD_BIN" --)
  [ "$(wc -l <"$SHARE/options/runfd.txt")" -ge 12 ]
  while read -r _ name; do
    # (--help itself goes without saying in its own output.)
    [ "$name" = --help ] || grep -q -- "$name" <<<"$help" || { echo "runfd --help lacks $name"; return 1; }
    section "$page" OPTIONS | grep -qE -- "(^|[ ,])$name([ ,]|$)" || { echo "runfd(8) lacks $name"; return 1; }
    grep -qx -- "$name" <<<"$want" || { echo "the completion of runfd lacks $name"; return 1; }
  done <"$SHARE/options/runfd.txt"
}

@test "the man pages render without a warning" {
  for page in "$SHARE"/man/*; do
    run --separate-stderr env LC_ALL=C MANWIDTH=80 man --warnings -E ascii -l "$page"
    [ "$status" -eq 0 ]
    [ -z "$stderr" ] || { echo "$page: $stderr"; return 1; }
    [ "${#lines[@]}" -gt 50 ]
  done
}

@test "the systemd units are valid, and run the installed runfd" {
  command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
  grep -qx 'ExecStart=/[^ ]*/bin/runfd' "$SHARE/systemd/runfd.service"
  grep -qx 'ExecStart=/[^ ]*/bin/runfd' "$SHARE/systemd/user/runfd.service"
  # Verified with ExecStart at this build's runfd (the installed path does
  # not exist here).
  mkdir -p "$TEST_DIR/system" "$TEST_DIR/user"
  # (and without Documentation=, which verify looks up with man, and the
  # pages are not installed either).
  sed "s|^ExecStart=.*|ExecStart=$RUNFD_BIN|; /^Documentation=/d" "$SHARE/systemd/runfd.service" >"$TEST_DIR/system/runfd.service"
  sed "s|^ExecStart=.*|ExecStart=$RUNFD_BIN|; /^Documentation=/d" "$SHARE/systemd/user/runfd.service" >"$TEST_DIR/user/runfd.service"
  run --separate-stderr systemd-analyze verify "$TEST_DIR/system/runfd.service"
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
  [ -z "$stderr" ] || { echo "$stderr"; return 1; }
  mkdir -m 700 "$TEST_DIR/run"
  run --separate-stderr env XDG_RUNTIME_DIR="$TEST_DIR/run" systemd-analyze verify --user "$TEST_DIR/user/runfd.service"
  [ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
}
