/* runf's help: `runf --help`, `runf help [COMMAND]` and `runf COMMAND
 * --help`, laid out as runc's (NAME, USAGE, DESCRIPTION, OPTIONS), since
 * people and scripts that know runc read it.  Each command's options are
 * those of its table in its own file; tests/integration/runtime/cli.bats
 * checks that every one of them is listed here. */
#include <stdio.h>
#include <string.h>

#include "common/cleanup.h"
#include "runf.h"

typedef struct
{
  const char *name;
  const char *summary;
  const char *usage;       /* what follows `runf NAME` */
  const char *description; /* a paragraph, or NULL */
  const char *options;     /* one option a line, or NULL */
} command_help_t;

#define CREATE_OPTIONS                                                                             \
  "   --bundle value, -b value  the bundle's directory (default: the current directory)\n"       \
  "   --console-socket value    a unix socket that receives the master of the container's\n"    \
  "                             pty (with process.terminal)\n"                                   \
  "   --pid-file value          write the container's init pid to this file\n"                 \
  "   --no-pivot                do not use pivot_root (for a rootfs on a ramdisk)\n"           \
  "   --no-new-keyring          keep the caller's session keyring\n"                           \
  "   --preserve-fds value      pass this many fds (3, 4, ...) on to the container\n"

static const command_help_t help[] = {
  { "spec", "write a new config.json", "[command options]",
    "Writes a config.json for a bundle whose root is `rootfs` (runc's default spec).",
    "   --bundle value, -b value  the bundle's directory (default: the current directory)\n"
    "   --rootless                a spec for a container run by an unprivileged user\n" },
  { "create", "create a container, waiting for start", "[command options] <container-id>",
    "Creates the container of the bundle: its namespaces, root file system, cgroup and\n"
    "   process, which waits for `runf start`.",
    CREATE_OPTIONS },
  { "start", "run the process of a created container", "<container-id>", NULL, NULL },
  { "run", "create and start a container", "[command options] <container-id>",
    "Creates the container and starts it; without --detach, runf stays its parent,\n"
    "   forwards signals and exits with its status.",
    CREATE_OPTIONS
    "   --detach, -d              return once the container runs\n"
    "   --keep                    keep the state of the container after it exits\n"
    "   --no-subreaper            accepted for runc's sake (runf needs no subreaper)\n" },
  { "state", "print the state of a container as JSON", "<container-id>", NULL, NULL },
  { "kill", "send a signal to the container's init", "[command options] <container-id> [signal]",
    "The signal is a name (KILL, SIGKILL) or a number; the default is SIGTERM.",
    "   --all, -a                 signal every process of the container\n" },
  { "delete", "delete a container and everything it holds", "[command options] <container-id>",
    NULL, "   --force, -f               kill a container that still runs, then delete it\n" },
  { "list", "list containers", "[command options]", NULL,
    "   --format value, -f value  table or json (default: table)\n"
    "   --quiet, -q               only the ids\n" },
  { "exec", "run another process in a container",
    "[command options] <container-id> <command> [command arguments...]",
    "Runs a process in every namespace and the cgroup of the container, with the\n"
    "   container's seccomp filter and personality.",
    "   --console-socket value    a unix socket that receives the master of the pty (with -t)\n"
    "   --cwd value               the working directory in the container\n"
    "   --env value, -e value     set an environment variable (KEY=VALUE)\n"
    "   --tty, -t                 give the process a pty\n"
    "   --user value, -u value    UID or UID:GID\n"
    "   --additional-gids value, -g value  an additional group\n"
    "   --process value, -p value  the process, as a process.json file\n"
    "   --detach, -d              return once the process runs\n"
    "   --pid-file value          write the process's pid to this file\n"
    "   --process-label value     the SELinux label (not supported)\n"
    "   --apparmor value          the AppArmor profile (not supported)\n"
    "   --no-new-privs            set no_new_privs\n"
    "   --cap value, -c value     add a capability\n"
    "   --preserve-fds value      pass this many fds (3, 4, ...) on to the process\n"
    "   --ignore-paused           exec into a paused container (it runs once resumed)\n" },
  { "ps", "list the processes of a container", "[command options] <container-id> [ps options]",
    "Without ps options, as `ps -ef`; the given ones are passed to ps(1).",
    "   --format value, -f value  table or json (the pids) (default: table)\n" },
  { "pause", "freeze every process of a container", "<container-id>", NULL, NULL },
  { "resume", "thaw a paused container", "<container-id>", NULL, NULL },
  { "update", "change the resource limits of a container", "[command options] <container-id>", NULL,
    "   --resources value, -r value  a linux.resources JSON file (- for stdin); the other\n"
    "                             options are then ignored\n"
    "   --blkio-weight value      blkio weight (10..1000)\n"
    "   --cpu-period value        CPU CFS period (microseconds)\n"
    "   --cpu-quota value         CPU CFS quota (microseconds)\n"
    "   --cpu-burst value         CPU CFS burst (microseconds)\n"
    "   --cpu-share value, --cpu-shares value  CPU shares (relative weight)\n"
    "   --cpu-rt-period value     CPU realtime period (microseconds)\n"
    "   --cpu-rt-runtime value    CPU realtime runtime (microseconds)\n"
    "   --cpu-idle value          SCHED_IDLE for the cgroup (0 or 1)\n"
    "   --cpuset-cpus value       CPUs to use (0-3, 0,1)\n"
    "   --cpuset-mems value       memory nodes to use\n"
    "   --kernel-memory value     accepted and ignored, as by runc 1.1\n"
    "   --kernel-memory-tcp value  accepted and ignored, as by runc 1.1\n"
    "   --memory value            memory limit (bytes, or 512m, 1g)\n"
    "   --memory-reservation value  memory soft limit\n"
    "   --memory-swap value       memory plus swap limit (-1: unlimited)\n"
    "   --pids-limit value        maximum number of processes\n"
    "   --l3-cache-schema value   Intel RDT L3 cache schema\n"
    "   --mem-bw-schema value     Intel RDT memory bandwidth schema\n" },
  { "events", "print a container's stats and OOM events as JSON", "[command options] <container-id>",
    "Streams a stats object every interval and an oom object for each OOM kill, until the\n"
    "   container stops.",
    "   --interval value          time between stats (default: 5s)\n"
    "   --stats                   print the stats once, and exit\n" },
  { "features", "print the OCI features document as JSON", "", NULL, NULL },
  { "checkpoint", "save a running container with CRIU", "[command options] <container-id>",
    "Saves the processes of a running container with criu(8); without --leave-running or\n"
    "   --pre-dump the container is deleted afterwards.  As root only.",
    "   --image-path value        where the images go (default: ./checkpoint)\n"
    "   --work-path value         where CRIU's dump.log goes (default: the image directory)\n"
    "   --parent-path value       the images of an earlier --pre-dump, relative to --image-path\n"
    "   --leave-running           keep the container running\n"
    "   --pre-dump                save the memory only, keep the container running\n"
    "   --tcp-established         save established TCP connections\n"
    "   --tcp-skip-in-flight      leave out connections not yet accepted\n"
    "   --link-remap              save files that were deleted while open as links\n"
    "   --ext-unix-sk             allow unix sockets connected outside the container\n"
    "   --shell-job               allow a session or terminal from outside the container\n"
    "   --file-locks              save file locks\n"
    "   --manage-cgroups-mode value  soft, full, strict or ignore (default: CRIU's, soft)\n"
    "   --empty-ns value          network: save the network namespace without its contents\n"
    "   --auto-dedup              free memory pages already in the parent's images\n"
    "   --page-server value       ADDRESS:PORT of a CRIU page server for the memory\n"
    "   --lazy-pages              not supported (refused)\n"
    "   --status-fd value         not supported (refused)\n" },
  { "restore", "restore a container from a checkpoint", "[command options] <container-id>",
    "Makes the container again from the images of checkpoint (or runc's).  As root only.",
    "   --image-path value        the images (default: ./checkpoint)\n"
    "   --work-path value         where CRIU's restore.log goes (default: the image directory)\n"
    "   --bundle value, -b value  the bundle (default: the current directory)\n"
    "   --detach, -d              leave the restored container running and exit\n"
    "   --pid-file value          write the pid of the container's init there\n"
    "   --console-socket value    send the restored terminal's master there\n"
    "   --tcp-established         restore established TCP connections\n"
    "   --tcp-close               restore established TCP connections closed\n"
    "   --ext-unix-sk             allow unix sockets connected outside the container\n"
    "   --shell-job               allow a session or terminal from outside the container\n"
    "   --file-locks              restore file locks\n"
    "   --manage-cgroups-mode value  soft, full, strict or ignore (default: CRIU's, soft)\n"
    "   --empty-ns value          network: make the network namespace empty\n"
    "   --auto-dedup              free image pages once restored\n"
    "   --lsm-profile value       TYPE:LABEL, the LSM profile of the restored processes\n"
    "   --lsm-mount-context value the LSM context of the restored mounts\n"
    "   --no-subreaper            do not become the subreaper of the container's orphans\n"
    "   --no-pivot                accepted for runc's command line: CRIU sets up the root\n"
    "   --lazy-pages              not supported (refused)\n" },
};

static const command_help_t *
find (const char *name)
{
  for (size_t i = 0; i < ARRAY_SIZE (help); i++)
    if (strcmp (help[i].name, name) == 0)
      return &help[i];
  return NULL;
}

void
runf_usage (FILE *out, const char *prog)
{
  fprintf (out,
           "NAME:\n"
           "   %s - Open Container Initiative runtime\n\n"
           "USAGE:\n"
           "   %s [global options] command [command options] [arguments...]\n\n"
           "DESCRIPTION:\n"
           "   runf runs containers from OCI bundles with runc's command line and exit codes,\n"
           "   so that engines (docker, podman, containerd, CRI-O) can use it in runc's place.\n\n"
           "Commands:\n",
           prog, prog);
  for (size_t i = 0; i < ARRAY_SIZE (help); i++)
    fprintf (out, "  %-10s %s\n", help[i].name, help[i].summary);
  fprintf (out, "  %-10s %s\n", "help", "show the help of runf or of a command");
  fprintf (out,
           "\nGlobal options:\n"
           "  --root DIR               state directory (/run/runf; rootless: $XDG_RUNTIME_DIR/runf)\n"
           "  --log FILE               also write log lines to FILE\n"
           "  --log-format text|json   format of those lines (default: text)\n"
           "  --debug                  debug output (to stderr, or to --log)\n"
           "  --rootless auto|true|false\n"
           "  --systemd-cgroup         cgroups as systemd scope units (cgroupsPath slice:prefix:name);\n"
           "                           where systemd is not running, made at the same place directly\n"
           "  --criu PATH              the criu of checkpoint and restore (default: criu in PATH)\n"
           "  --help, -h               show this help\n"
           "  --version, -v            print the version\n");
}

bool
runf_command_usage (FILE *out, const char *prog, const char *name)
{
  const command_help_t *h = find (name);
  if (h == NULL)
    return false;
  fprintf (out, "NAME:\n   %s %s - %s\n\nUSAGE:\n   %s %s%s%s\n", prog, h->name, h->summary, prog,
           h->name, *h->usage ? " " : "", h->usage);
  if (h->description)
    fprintf (out, "\nDESCRIPTION:\n   %s\n", h->description);
  fprintf (out, "\nOPTIONS:\n%s", h->options ? h->options : "");
  fprintf (out, "   --help, -h                show this help\n");
  return true;
}
