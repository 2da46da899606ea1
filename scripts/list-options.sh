#!/bin/sh
# The options a program accepts, read from its C source's option tables, one
# "COMMAND --option" line each ("-" for the global options), so that a test
# can check --help, the man page and the bash completion against them and
# none can drift from the code:
#   runf   the runf_option_t tables of src/runf/*.c (an array named
#          CMD_options belongs to CMD, another to its file's command, those
#          of main.c are global);
#   runfd  the flags src/runfd/main.c compares its arguments with.
# runfctl needs no such script: `runfctl __options` prints its own tables.
set -eu
prog=$1
src=$2
case $prog in
  runf)
    for f in "$src"/src/runf/*.c; do
      base=$(basename "$f" .c)
      awk -v base="$base" '
        /static const runf_option_t [a-z_]+\[\] = \{/ {
          name = $0; sub(/.*runf_option_t /, "", name); sub(/\[.*/, "", name)
          cmd = base
          if (name ~ /_options$/ && name != "options") { cmd = name; sub(/_options$/, "", cmd) }
          if (base == "main") cmd = "-"
          intable = 1; next
        }
        intable && /^};/ { intable = 0; next }
        intable && match($0, /\{ "[a-z0-9-]+"/) {
          opt = substr($0, RSTART + 3, RLENGTH - 4); print cmd " --" opt
        }' "$f"
    done
    ;;
  runfd)
    grep -o 'ARG ("--[a-z0-9-]*")\|strcmp (a, "--[a-z0-9-]*")' "$src/src/runfd/main.c" \
      | sed 's/.*"\(--[a-z0-9-]*\)".*/- \1/' | sort -u
    ;;
  *)
    echo "list-options: unknown program $prog" >&2
    exit 1
    ;;
esac
